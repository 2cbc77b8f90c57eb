/*
 * xna-test-frame: the UDP/IPv4 test frame
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

size_t xna_test_udp4_frame(uint8_t *f, size_t len, const uint8_t *dmac,
                           const uint8_t *smac, const uint8_t *sip,
                           const uint8_t *dip, uint16_t sport,
                           uint16_t dport, uint32_t seq)
{
    size_t ip_len = len - 14, i;
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
    f[34] = sport >> 8;
    f[35] = sport & 0xff;
    f[36] = dport >> 8;
    f[37] = dport & 0xff;
    f[38] = (ip_len - 20) >> 8;
    f[39] = (ip_len - 20) & 0xff;
    for (i = 42; i < len; i++) {
        f[i] = (uint8_t)(seq * 131 + i * 7);
    }
    if (len >= 46) {
        memcpy(f + 42, &seq, 4);
    }
    return len;
}
