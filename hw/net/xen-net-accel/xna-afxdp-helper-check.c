/*
 * xen-net-accel: the AF_XDP helper's check of a request from its QEMU
 *
 * The QEMU may run code a guest chose; the helper is root.  Every field
 * of a request is bounded here by what the hotplug script put on the
 * helper's command line before the helper acts on it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <string.h>
#include <linux/if_xdp.h>
#include "xna-afxdp-helper-proto.h"

static int refuse(const char **why, const char *what, int err)
{
    *why = what;
    return err;
}

int xna_afxdp_helper_check(const XnaAfxdpHelperPolicy *pol, const void *msg,
                           size_t len, int nr_fds, const char **why)
{
    const uint32_t bind_flags = XDP_COPY | XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP;
    XnaAfxdpHelperReq req;

    *why = NULL;
    if (len != sizeof(req)) {
        return refuse(why, "bad request", -EINVAL);
    }
    memcpy(&req, msg, sizeof(req));
    if (req.version != XNA_AFXDP_HELPER_VERSION) {
        return refuse(why, "protocol version", -EPROTO);
    }
    if (nr_fds < 0 || nr_fds > 1 ||
        (nr_fds && req.op != XNA_AFXDP_HELPER_XSK_BIND)) {
        return refuse(why, "unexpected descriptor", -EINVAL);
    }
    switch (req.op) {
    case XNA_AFXDP_HELPER_ATTACH:
        if (pol->attached) {
            /* The slot it keeps: no more VIs than it has. */
            return req.nr_vis > pol->nr_vis ?
                   refuse(why, "more VIs than the slot has", -EPERM) : 0;
        }
        if (!req.nr_vis || req.nr_vis > pol->max_vis ||
            !req.max_filters || req.max_filters > pol->max_filters) {
            return refuse(why, "more VIs or filters than allowed", -EPERM);
        }
        return 0;
    case XNA_AFXDP_HELPER_XSK_BIND:
        if (!pol->attached) {
            return refuse(why, "not attached", -ENOTCONN);
        }
        if (nr_fds != 1 || req.vi >= pol->nr_vis ||
            (req.flags & ~bind_flags) ||
            ((req.flags & XDP_COPY) && (req.flags & XDP_ZEROCOPY))) {
            return refuse(why, "bad bind request", -EINVAL);
        }
        if ((req.flags & XDP_ZEROCOPY) && !pol->zero_copy) {
            /* The caller tries copy mode next, as for a driver without. */
            return refuse(why, "zero-copy not allowed", -EOPNOTSUPP);
        }
        return 0;
    case XNA_AFXDP_HELPER_DETACH:
    case XNA_AFXDP_HELPER_XSK_SOCKET:
    case XNA_AFXDP_HELPER_XSK_DEL:
    case XNA_AFXDP_HELPER_PACKET_SOCKET:
        return 0;
    default:
        return refuse(why, "unknown request", -EINVAL);
    }
}
