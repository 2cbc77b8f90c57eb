/*
 * xen-net-accel: frame classification and checksums
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "xna-classify.h"

#include <string.h>

#define ETH_P_IPV4      0x0800
#define ETH_P_IPV6      0x86dd
#define ETH_P_VLAN      0x8100
#define PROTO_TCP       6
#define PROTO_UDP       17
#define IPV6_HLEN       40

static uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static bool parse_ipv4(const uint8_t *f, size_t len, XnaFlowInfo *info)
{
    const uint8_t *ip = f + info->l3_offset;
    size_t avail = len - info->l3_offset;
    unsigned int ihl, total;

    if (avail < 20 || (ip[0] >> 4) != 4) {
        return false;
    }
    ihl = (ip[0] & 0xf) * 4;
    total = get_be16(ip + 2);
    if (ihl < 20 || total < ihl || total > avail) {
        return false;
    }
    /* Only first fragments carry ports, and not all of them: skip all. */
    if (get_be16(ip + 6) & 0x3fff) {
        return false;
    }
    info->l4_proto = ip[9];
    if (info->l4_proto != PROTO_TCP && info->l4_proto != PROTO_UDP) {
        return false;
    }
    if (total - ihl < (info->l4_proto == PROTO_TCP ? 20u : 8u)) {
        return false;
    }
    info->l4_offset = info->l3_offset + ihl;
    xna_filter_key_ipv4(&info->dst_flow, info->l4_proto == PROTO_TCP,
                        ip + 16, 0);
    xna_filter_key_ipv4(&info->src_flow, info->l4_proto == PROTO_TCP,
                        ip + 12, 0);
    return true;
}

static bool parse_ipv6(const uint8_t *f, size_t len, XnaFlowInfo *info)
{
    const uint8_t *ip = f + info->l3_offset;
    size_t avail = len - info->l3_offset;
    unsigned int payload;

    if (avail < IPV6_HLEN || (ip[0] >> 4) != 6) {
        return false;
    }
    payload = get_be16(ip + 4);
    if (payload > avail - IPV6_HLEN) {
        return false;
    }
    /* Extension headers are not followed: such frames take the slow path. */
    info->l4_proto = ip[6];
    if (info->l4_proto != PROTO_TCP && info->l4_proto != PROTO_UDP) {
        return false;
    }
    if (payload < (info->l4_proto == PROTO_TCP ? 20u : 8u)) {
        return false;
    }
    info->l4_offset = info->l3_offset + IPV6_HLEN;
    xna_filter_key_ipv6(&info->dst_flow, info->l4_proto == PROTO_TCP,
                        ip + 24, 0);
    xna_filter_key_ipv6(&info->src_flow, info->l4_proto == PROTO_TCP,
                        ip + 8, 0);
    return true;
}

bool xna_classify(const uint8_t *f, size_t len, XnaFlowInfo *info)
{
    bool ok = false;

    /*
     * Every field is set on every path, the flow keys zeroed where there
     * is no flow, without a memset of the whole: this runs more than once
     * per frame.
     */
    if (len < XNA_ETH_HLEN) {
        memset(info, 0, sizeof(*info));
        return false;
    }
    info->has_flow = false;
    info->ethertype = get_be16(f + 12);
    info->l3_offset = XNA_ETH_HLEN;
    if (info->ethertype == ETH_P_VLAN && len >= XNA_ETH_HLEN + 4) {
        info->ethertype = get_be16(f + 16);
        info->l3_offset += 4;
    }
    if (info->l3_offset == XNA_ETH_HLEN && info->ethertype == ETH_P_VLAN) {
        ok = false;          /* a tag cut short: no ethertype after it */
    } else if (info->ethertype == ETH_P_IPV4) {
        ok = parse_ipv4(f, len, info);
    } else if (info->ethertype == ETH_P_IPV6) {
        ok = parse_ipv6(f, len, info);
    }
    if (ok) {
        const uint8_t *l4 = f + info->l4_offset;

        /* Ports sit in the same place in TCP and UDP headers. */
        memcpy(&info->src_flow.dst_port, l4, 2);
        memcpy(&info->dst_flow.dst_port, l4 + 2, 2);
        info->has_flow = !xna_mac_is_group(f) &&
                         info->dst_flow.dst_port != 0 &&
                         info->src_flow.dst_port != 0;
    } else {
        info->l4_proto = 0;
        info->l4_offset = 0;
        memset(&info->dst_flow, 0, sizeof(info->dst_flow));
        memset(&info->src_flow, 0, sizeof(info->src_flow));
    }
    return true;
}

/*
 * The Internet checksum's sum of 16-bit big-endian words, four bytes at a
 * time: a 32-bit word's value is its high half times 65536 plus its low
 * half, and 65536 is 1 modulo 65535, which is all that folding keeps.
 * In 64 bits nothing overflows for any frame (XNA_MAX_FRAME_LEN).
 */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
    uint32_t w;

    for (; len >= 4; p += 4, len -= 4) {
        memcpy(&w, p, sizeof(w));
        sum += GUINT32_FROM_BE(w);
    }
    if (len >= 2) {
        sum += get_be16(p);
        p += 2;
        len -= 2;
    }
    if (len) {
        sum += p[0] << 8;
    }
    return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum;
}

bool xna_csum_fill(uint8_t *f, size_t len, uint16_t start, uint16_t offset)
{
    uint16_t sum;

    if (start >= len || offset > len - start || len - start - offset < 2) {
        return false;
    }
    sum = ~csum_fold(csum_add(0, f + start, len - start));
    if (sum == 0) {
        sum = 0xffff;        /* 0 would mean "no checksum" to UDP */
    }
    f[start + offset] = sum >> 8;
    f[start + offset + 1] = sum & 0xff;
    return true;
}

bool xna_csum_verify_at(const uint8_t *f, size_t len, uint16_t l3_offset,
                        uint16_t l4_offset, uint8_t l4_proto, bool ipv6)
{
    const uint8_t *ip = f + l3_offset;
    uint32_t l4_len, ip_len;
    uint64_t sum;

    if (l4_proto != PROTO_TCP && l4_proto != PROTO_UDP) {
        return false;
    }
    if (ipv6) {
        if (l3_offset > len || len - l3_offset < IPV6_HLEN ||
            l4_offset != l3_offset + IPV6_HLEN) {
            return false;
        }
        l4_len = get_be16(ip + 4);
    } else {
        if (l3_offset > len || len - l3_offset < 20 ||
            l4_offset < l3_offset + 20) {
            return false;
        }
        ip_len = get_be16(ip + 2);
        if (ip_len < (uint32_t)(l4_offset - l3_offset)) {
            return false;
        }
        l4_len = ip_len - (uint32_t)(l4_offset - l3_offset);
    }
    if (l4_offset > len || l4_len > len - l4_offset ||
        l4_len < (l4_proto == PROTO_TCP ? 20u : 8u)) {
        return false;
    }
    if (ipv6) {
        sum = csum_add(0, ip + 8, 32);
    } else {
        if (l4_proto == PROTO_UDP && get_be16(f + l4_offset + 6) == 0) {
            return false;    /* no checksum sent */
        }
        sum = csum_add(0, ip + 12, 8);
    }
    sum += l4_proto + l4_len;
    sum = csum_add(sum, f + l4_offset, l4_len);
    return csum_fold(sum) == 0xffff;
}

bool xna_csum_verify(const uint8_t *f, size_t len)
{
    XnaFlowInfo info;

    if (!xna_classify(f, len, &info) || !info.l4_offset) {
        return false;
    }
    return xna_csum_verify_at(f, len, info.l3_offset, info.l4_offset,
                              info.l4_proto, info.ethertype == ETH_P_IPV6);
}
