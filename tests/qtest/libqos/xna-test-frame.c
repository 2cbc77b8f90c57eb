/*
 * xna-test-frame: the UDP test frames
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "xna-test-frame.h"

static uint16_t ipv4_header_csum(const uint8_t *ip)
{
    uint32_t sum = 0;
    size_t i;

    for (i = 0; i < 20; i += 2) {
        sum += ip[i] << 8 | ip[i + 1];
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return ~sum;
}

/* The UDP header at @l4 and a payload that depends on @seq. */
static void udp_fill(uint8_t *f, size_t len, size_t l4, uint16_t sport,
                     uint16_t dport, uint32_t seq)
{
    size_t i;

    f[l4] = sport >> 8;
    f[l4 + 1] = sport & 0xff;
    f[l4 + 2] = dport >> 8;
    f[l4 + 3] = dport & 0xff;
    f[l4 + 4] = (len - l4) >> 8;
    f[l4 + 5] = (len - l4) & 0xff;
    for (i = l4 + 8; i < len; i++) {
        f[i] = (uint8_t)(seq * 131 + i * 7);
    }
    if (len >= l4 + 12) {
        memcpy(f + l4 + 8, &seq, 4);
    }
}

size_t xna_test_udp4_frame(uint8_t *f, size_t len, const uint8_t *dmac,
                           const uint8_t *smac, const uint8_t *sip,
                           const uint8_t *dip, uint16_t sport,
                           uint16_t dport, uint32_t seq)
{
    size_t ip_len = len - 14;
    uint16_t c;

    g_assert(len >= 42);
    memset(f, 0, len);
    memcpy(f, dmac, 6);
    memcpy(f + 6, smac, 6);
    f[12] = 0x08;
    f[14] = 0x45;
    f[16] = ip_len >> 8;
    f[17] = ip_len & 0xff;
    f[22] = 64;
    f[23] = 17;
    memcpy(f + 26, sip, 4);
    memcpy(f + 30, dip, 4);
    c = ipv4_header_csum(f + 14);
    f[24] = c >> 8;
    f[25] = c & 0xff;
    udp_fill(f, len, 34, sport, dport, seq);
    return len;
}

size_t xna_test_udp6_frame(uint8_t *f, size_t len, const uint8_t *dmac,
                           const uint8_t *smac, const uint8_t *sip,
                           const uint8_t *dip, uint16_t sport,
                           uint16_t dport, uint32_t seq)
{
    size_t payload = len - 14 - 40;

    g_assert(len >= 62);
    memset(f, 0, len);
    memcpy(f, dmac, 6);
    memcpy(f + 6, smac, 6);
    f[12] = 0x86;
    f[13] = 0xdd;
    f[14] = 0x60;
    f[18] = payload >> 8;
    f[19] = payload & 0xff;
    f[20] = 17;
    f[21] = 64;
    memcpy(f + 22, sip, 16);
    memcpy(f + 38, dip, 16);
    udp_fill(f, len, 54, sport, dport, seq);
    return len;
}
