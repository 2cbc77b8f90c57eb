/*
 * xen-net-accel: frame classification and checksums
 *
 * Parses what flow filters match on (IPv4/IPv6 TCP/UDP
 * destination address and port) and fills or verifies TCP/UDP
 * checksums.  Every read is bounds-checked against the frame length: the
 * frames come from guests and from the network.  Pure logic on GLib.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef XNA_CLASSIFY_H
#define XNA_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "xna-filter-table.h"

#define XNA_ETH_HLEN        14
#define XNA_ETH_P_IPV6      0x86dd

typedef struct XnaFlowInfo {
    uint16_t ethertype;      /* host order, after one optional VLAN tag */
    uint8_t l4_proto;        /* 6 TCP, 17 UDP, 0 when not parsed */
    uint16_t l3_offset;
    uint16_t l4_offset;      /* 0 when there is no TCP/UDP header */
    XnaFilterKey dst_flow;   /* valid when has_flow */
    XnaFilterKey src_flow;   /* the source as a destination key */
    bool has_flow;           /* unicast IPv4/IPv6 TCP/UDP, no fragment */
} XnaFlowInfo;

/* False when the frame is shorter than an Ethernet header. */
bool xna_classify(const uint8_t *frame, size_t len, XnaFlowInfo *info);

static inline bool xna_mac_is_group(const uint8_t *mac)
{
    return mac[0] & 1;       /* broadcast and multicast */
}

/*
 * Store the Internet checksum of frame[start..len) at start + offset,
 * seeded with the 16-bit value already there (the pseudo-header sum, as
 * Linux leaves it for CHECKSUM_PARTIAL); a result of 0 is stored as 0xffff,
 * as UDP requires.  False if out of bounds.
 */
bool xna_csum_fill(uint8_t *frame, size_t len, uint16_t start,
                   uint16_t offset);

/* True when the frame's TCP/UDP checksum is present and correct. */
bool xna_csum_verify(const uint8_t *frame, size_t len);

/*
 * The same for a frame already classified: its IP header at @l3_offset
 * (IPv6 if @ipv6, else IPv4), its TCP or UDP (@l4_proto) header at
 * @l4_offset, as xna_classify() found them.  Every offset is checked
 * again against @len and the IP header's length: wrong ones give false,
 * never a read out of bounds.
 */
bool xna_csum_verify_at(const uint8_t *frame, size_t len, uint16_t l3_offset,
                        uint16_t l4_offset, uint8_t l4_proto, bool ipv6);

#endif /* XNA_CLASSIFY_H */
