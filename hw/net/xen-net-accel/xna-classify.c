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

    memset(info, 0, sizeof(*info));
    if (len < XNA_ETH_HLEN) {
        return false;
    }
    xna_filter_key_mac(&info->dst_mac, f);
    info->ethertype = get_be16(f + 12);
    info->l3_offset = XNA_ETH_HLEN;
    if (info->ethertype == ETH_P_VLAN) {
        if (len < XNA_ETH_HLEN + 4) {
            return true;
        }
        info->ethertype = get_be16(f + 16);
        info->l3_offset += 4;
    }
    if (info->ethertype == ETH_P_IPV4) {
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
    }
    return true;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2) {
        sum += get_be16(p + i);
    }
    if (len & 1) {
        sum += p[len - 1] << 8;
    }
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
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

bool xna_csum_verify(const uint8_t *f, size_t len)
{
    XnaFlowInfo info;
    const uint8_t *ip;
    uint32_t sum, l4_len;

    if (!xna_classify(f, len, &info) || !info.l4_offset) {
        return false;
    }
    ip = f + info.l3_offset;
    if (info.ethertype == ETH_P_IPV4) {
        l4_len = get_be16(ip + 2) - (info.l4_offset - info.l3_offset);
        if (info.l4_proto == PROTO_UDP &&
            get_be16(f + info.l4_offset + 6) == 0) {
            return false;    /* no checksum sent */
        }
        sum = csum_add(0, ip + 12, 8);
    } else {
        l4_len = get_be16(ip + 4);
        sum = csum_add(0, ip + 8, 32);
    }
    sum += info.l4_proto + l4_len;
    sum = csum_add(sum, f + info.l4_offset, l4_len);
    return csum_fold(sum) == 0xffff;
}
