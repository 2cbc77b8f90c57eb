/*
 * xna-bench: the frames of a case
 *
 * UDP over IPv4 between the guest (10.0.0.1, ports 4000+flow) and the
 * peer (10.0.0.2, ports 5000+flow), or the guest and itself for the
 * loopback NIC.  One flow is one UDP port pair, so that xen-net-accel
 * learns one filter per flow, as it would for real traffic.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "xna-bench.h"

static const uint8_t guest_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x01 };
static const uint8_t peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t guest_ip[4] = { 10, 0, 0, 1 };
static const uint8_t peer_ip[4] = { 10, 0, 0, 2 };

#define GUEST_PORT      4000
#define PEER_PORT       5000

static void ip_csum(uint8_t *ip)
{
    uint32_t sum = 0;
    unsigned int i;

    ip[10] = ip[11] = 0;
    for (i = 0; i < 20; i += 2) {
        sum += (ip[i] << 8) | ip[i + 1];
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    ip[10] = ~sum >> 8;
    ip[11] = ~sum & 0xff;
}

static uint8_t *build(unsigned int len, const uint8_t *dmac,
                      const uint8_t *smac, const uint8_t *dip,
                      const uint8_t *sip, uint16_t dport, uint16_t sport)
{
    uint8_t *f = g_malloc0(len);
    unsigned int ip_len = len - 14, i;

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
    ip_csum(f + 14);
    f[34] = sport >> 8;
    f[35] = sport & 0xff;
    f[36] = dport >> 8;
    f[37] = dport & 0xff;
    f[38] = (ip_len - 20) >> 8;
    f[39] = (ip_len - 20) & 0xff;
    for (i = 42; i < len; i++) {
        f[i] = (uint8_t)(i * 7);
    }
    return f;
}

void bench_frames_init(BenchFrames *fr, unsigned int size,
                       unsigned int nflows)
{
    unsigned int i;

    g_assert(size >= 60 && size <= BENCH_MAX_FRAME);
    g_assert(nflows >= 1 && nflows <= BENCH_MAX_FLOWS);
    memset(fr, 0, sizeof(*fr));
    fr->size = size;
    fr->nflows = nflows;
    for (i = 0; i < nflows; i++) {
        fr->to_peer[i] = build(size, peer_mac, guest_mac, peer_ip, guest_ip,
                               PEER_PORT + i, GUEST_PORT + i);
        fr->to_self[i] = build(size, guest_mac, guest_mac, guest_ip,
                               guest_ip, GUEST_PORT + 100 + i,
                               GUEST_PORT + i);
        fr->to_guest[i] = build(size, guest_mac, peer_mac, guest_ip, peer_ip,
                                GUEST_PORT + i, PEER_PORT + i);
    }
}

void bench_frames_free(BenchFrames *fr)
{
    unsigned int i;

    for (i = 0; i < fr->nflows; i++) {
        g_free(fr->to_peer[i]);
        g_free(fr->to_self[i]);
        g_free(fr->to_guest[i]);
    }
    memset(fr, 0, sizeof(*fr));
}

static void swap(uint8_t *a, uint8_t *b, size_t n)
{
    uint8_t t[6];

    memcpy(t, a, n);
    memcpy(a, b, n);
    memcpy(b, t, n);
}

void bench_frame_reverse(uint8_t *f)
{
    swap(f, f + 6, 6);
    swap(f + 26, f + 30, 4);    /* the IPv4 checksum does not change */
    swap(f + 34, f + 36, 2);
}
