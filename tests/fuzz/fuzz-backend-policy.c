/*
 * Fuzz target: what a guest may send through a VI (hw/net/xen-net-accel/xna-tx-policy.c)
 *
 * The frames are the guest's; the ip= list is dom0's configuration, but
 * its parser still must not overrun on any string.  Input: a flags byte,
 * the guest's MAC (6 bytes), an ip= list up to a 0 byte, then the frame.
 * Flags make the frame plausible: bit 0 puts the guest's MAC as source,
 * bit 1 one of the listed addresses as source IP.
 *
 * Checks: xna_tx_policy_init() accepts exactly the lists a reference
 * split (blanks and commas; each word an IPv4 or IPv6 address of at most
 * 63 characters; at most XNA_TX_POLICY_MAX_IPS per family) accepts, with
 * the same addresses in order, and its reason fits the buffer; the
 * verdict of xna_tx_policy_check() is the one the spec and the header
 * describe, derived from the frame's bytes and xna_classify() (fuzzed on
 * its own by fuzz-classify): the source MAC first, then untagged IPv4 or
 * IPv6 TCP/UDP without fragments, then the source address in the list.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <arpa/inet.h>

#include "fuzz-util.h"
#include "xna-classify.h"
#include "xna-tx-policy.h"

#define IPS_MAX     400
#define ERR_LEN     128

typedef struct RefList {
    uint32_t n4, n6;
    uint8_t v4[XNA_TX_POLICY_MAX_IPS][4];
    uint8_t v6[XNA_TX_POLICY_MAX_IPS][16];
} RefList;

static bool ref_parse(const char *s, RefList *r)
{
    char word[IPS_MAX + 1];
    size_t n;

    memset(r, 0, sizeof(*r));
    for (;;) {
        uint8_t a[16];

        s += strspn(s, " ,\t");
        if (!*s) {
            return true;
        }
        n = strcspn(s, " ,\t");
        if (n > 63) {
            return false;
        }
        memcpy(word, s, n);
        word[n] = '\0';
        s += n;
        if (inet_pton(AF_INET, word, a) == 1) {
            if (r->n4 == XNA_TX_POLICY_MAX_IPS) {
                return false;
            }
            memcpy(r->v4[r->n4++], a, 4);
        } else if (inet_pton(AF_INET6, word, a) == 1) {
            if (r->n6 == XNA_TX_POLICY_MAX_IPS) {
                return false;
            }
            memcpy(r->v6[r->n6++], a, 16);
        } else {
            return false;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char ips[IPS_MAX + 1];
    XnaTxPolicy p;
    RefList ref;
    XnaFlowInfo info;
    XnaTxVerdict v, want;
    uint8_t flags, mac[6], *frame;
    char *err;
    size_t n = 0, len;
    bool ok, rok;
    FuzzIn in;

    fin_init(&in, data, size);
    flags = fin_u8(&in);
    fin_bytes(&in, mac, 6);
    while (n < IPS_MAX && !fin_done(&in)) {
        char c = (char)fin_u8(&in);

        if (!c) {
            break;
        }
        ips[n++] = c;
    }
    ips[n] = '\0';

    /* Exact-size buffers: ASan sees any write past them. */
    err = malloc(ERR_LEN);
    memset(err, 0x55, ERR_LEN);
    ok = xna_tx_policy_init(&p, mac, flags & 4 ? NULL : ips, err, ERR_LEN);
    rok = ref_parse(flags & 4 ? "" : ips, &ref);
    FUZZ_CHECK(ok == rok, "init('%s') = %d", ips, ok);
    if (!ok) {
        FUZZ_CHECK(memchr(err, '\0', ERR_LEN), "reason not terminated");
        free(err);
        return 0;
    }
    free(err);
    FUZZ_CHECK(!memcmp(p.mac, mac, 6), "mac");
    FUZZ_CHECK(p.nr_ipv4 == ref.n4 && p.nr_ipv6 == ref.n6 &&
               !memcmp(p.ipv4, ref.v4, ref.n4 * 4) &&
               !memcmp(p.ipv6, ref.v6, ref.n6 * 16),
               "addresses of '%s': %u/%u, expected %u/%u", ips, p.nr_ipv4,
               p.nr_ipv6, ref.n4, ref.n6);

    len = in.left;
    frame = malloc(len ? len : 1);
    fin_bytes(&in, frame, len);
    if ((flags & 1) && len >= 12) {
        memcpy(frame + 6, mac, 6);
    }
    if ((flags & 2) && xna_classify(frame, len, &info) && info.l4_offset) {
        unsigned int k = flags >> 4;

        if (info.ethertype == 0x0800 && ref.n4) {
            memcpy(frame + info.l3_offset + 12, ref.v4[k % ref.n4], 4);
        } else if (info.ethertype == 0x86dd && ref.n6) {
            memcpy(frame + info.l3_offset + 8, ref.v6[k % ref.n6], 16);
        }
    }

    v = xna_tx_policy_check(&p, frame, len);
    if (len < XNA_ETH_HLEN || memcmp(frame + 6, mac, 6)) {
        want = XNA_TX_BAD_SRC_MAC;
    } else if (!xna_classify(frame, len, &info) || !info.l4_offset ||
               (frame[12] == 0x81 && frame[13] == 0x00)) {
        /* Not TCP/UDP, a fragment, or VLAN-tagged. */
        want = XNA_TX_NOT_ALLOWED;
    } else if (!ref.n4 && !ref.n6) {
        want = XNA_TX_OK;
    } else {
        const uint8_t *src = frame + info.l3_offset +
                             (info.ethertype == 0x0800 ? 12 : 8);
        uint32_t i, nr = info.ethertype == 0x0800 ? ref.n4 : ref.n6;

        want = XNA_TX_BAD_SRC_IP;
        for (i = 0; i < nr; i++) {
            if (info.ethertype == 0x0800 ? !memcmp(src, ref.v4[i], 4)
                                         : !memcmp(src, ref.v6[i], 16)) {
                want = XNA_TX_OK;
            }
        }
    }
    FUZZ_CHECK(v == want, "verdict %d, expected %d", v, want);
    if (v == XNA_TX_OK) {
        /* What goes out is untagged TCP/UDP from the guest's MAC. */
        FUZZ_CHECK(info.l3_offset == XNA_ETH_HLEN &&
                   (info.l4_proto == 6 || info.l4_proto == 17),
                   "sent a frame that is not untagged TCP/UDP");
    }
    free(frame);
    return 0;
}
