/*
 * Fuzz target: the AF_XDP helper's check of its QEMU's requests
 * (hw/net/xen-net-accel/xna-afxdp-helper-check.c)
 *
 * xna-afxdp-helper runs as root beside a QEMU that runs without
 * capabilities and may run code a guest chose; every request it serves
 * passes xna_afxdp_helper_check() first.  The input is a sequence of
 * steps: a policy (the helper's command line: VIs, filter quota,
 * zero-copy, and whether its slot is taken and with how many VIs), the
 * number of descriptors that came with the message (-1..2), and the
 * message, of any length (its first byte says how long, up to 64).
 *
 * Invariants: a request is accepted only if it is exactly one request
 * of the current version with a known operation, carries a descriptor
 * only if it is a bind and then exactly one; an attach of a new slot
 * stays within the VIs and filters allowed, and an attach of the kept
 * slot within its VIs; a bind only once attached, for one of the slot's
 * VIs, with copy or zero-copy (not both, zero-copy only if allowed) and
 * no other flag.  A refusal is a negative errno with a reason; the
 * accepted and refused cases are checked against a model written apart.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <linux/if_xdp.h>

#include "fuzz-util.h"
#include "xna-afxdp-helper-proto.h"

#define MSG_MAX     64

/* The model: what may be served, from the fields as documented. */
static bool model_ok(const XnaAfxdpHelperPolicy *pol, const uint8_t *msg,
                     size_t len, int nr_fds)
{
    XnaAfxdpHelperReq r;
    uint32_t f;

    if (len != sizeof(r)) {
        return false;
    }
    memcpy(&r, msg, sizeof(r));
    if (r.version != XNA_AFXDP_HELPER_VERSION || nr_fds < 0 || nr_fds > 1) {
        return false;
    }
    if (r.op == XNA_AFXDP_HELPER_XSK_BIND) {
        f = r.flags;
        return pol->attached && nr_fds == 1 && r.vi < pol->nr_vis &&
               (f | XDP_COPY | XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP) ==
               (XDP_COPY | XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP) &&
               !((f & XDP_COPY) && (f & XDP_ZEROCOPY)) &&
               (!(f & XDP_ZEROCOPY) || pol->zero_copy);
    }
    if (nr_fds) {
        return false;
    }
    switch (r.op) {
    case XNA_AFXDP_HELPER_ATTACH:
        if (pol->attached) {
            return r.nr_vis <= pol->nr_vis;
        }
        return r.nr_vis >= 1 && r.nr_vis <= pol->max_vis &&
               r.max_filters >= 1 && r.max_filters <= pol->max_filters;
    case XNA_AFXDP_HELPER_DETACH:
    case XNA_AFXDP_HELPER_XSK_SOCKET:
    case XNA_AFXDP_HELPER_XSK_DEL:
    case XNA_AFXDP_HELPER_PACKET_SOCKET:
        return true;
    default:
        return false;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzIn in;

    fin_init(&in, data, size);
    while (!fin_done(&in)) {
        XnaAfxdpHelperPolicy pol = { 0 };
        uint8_t msg[MSG_MAX];
        const char *why = "unset";
        size_t len;
        int nr_fds, ret;
        uint8_t b = fin_u8(&in);

        pol.max_vis = 1 + fin_u8(&in) % 16;
        pol.max_filters = 1 + fin_u8(&in) * 257u;
        pol.zero_copy = b & 1;
        pol.attached = b & 2;
        pol.nr_vis = pol.attached ? 1 + fin_u8(&in) % pol.max_vis : 0;
        nr_fds = (int)(fin_u8(&in) % 4) - 1;
        /* Flags of the step's first byte steer it towards real requests. */
        len = (b & 8) ? sizeof(XnaAfxdpHelperReq) :
              fin_u8(&in) % (MSG_MAX + 1);
        fin_bytes(&in, msg, len);
        if (len == sizeof(XnaAfxdpHelperReq)) {
            XnaAfxdpHelperReq r;

            memcpy(&r, msg, sizeof(r));
            if (b & 4) {
                r.version = XNA_AFXDP_HELPER_VERSION;
            }
            if (b & 16) {
                r.op %= XNA_AFXDP_HELPER_OP_MAX + 1;
            }
            if (b & 32) {
                r.vi %= 17;
                r.flags &= 0xf;
                r.nr_vis %= 18;
            }
            memcpy(msg, &r, sizeof(r));
        }
        ret = xna_afxdp_helper_check(&pol, msg, len, nr_fds, &why);
        FUZZ_CHECK(ret == 0 || (ret < 0 && ret > -4096),
                   "check returned %d", ret);
        FUZZ_CHECK((ret == 0) == model_ok(&pol, msg, len, nr_fds),
                   "check %d, model %d (len %zu, fds %d)", ret,
                   model_ok(&pol, msg, len, nr_fds), len, nr_fds);
        FUZZ_CHECK(ret == 0 ? why == NULL : why != NULL && *why,
                   "reason %p for %d", (const void *)why, ret);
    }
    return 0;
}
