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
#include "libqos/xna-test-frame.h"

static const uint8_t guest_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x01 };
static const uint8_t peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t guest_ip[4] = { 10, 0, 0, 1 };
static const uint8_t peer_ip[4] = { 10, 0, 0, 2 };

#define GUEST_PORT      4000
#define PEER_PORT       5000

/* Frames of the benchmark are built once, at setup. */
static uint8_t *build(unsigned int len, const uint8_t *dmac,
                      const uint8_t *smac, const uint8_t *dip,
                      const uint8_t *sip, uint16_t dport, uint16_t sport)
{
    uint8_t *f = g_malloc0(len);

    xna_test_udp4_frame(f, len, dmac, smac, sip, dip, sport, dport, 0);
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
