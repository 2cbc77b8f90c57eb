/*
 * xna-bench: one timed pass of a case through one device
 *
 * The guest is a busy-polling NAPI-style loop: it offers frames in
 * batches of bench_tx_batch (--tx-batch, 64; one kick decision per
 * batch and VI, as Linux's xmit_more), takes completions and received
 * frames, and serves the peer; when a round finds nothing to do it
 * re-arms every notification as an interrupt-driven guest going idle
 * does, so the backends notify exactly as they would, and the
 * notifications are counted.  It does not sleep on them: it yields the
 * CPU and looks again.
 *
 * Frames in flight from the wire to the guest are bounded (window) so
 * that QEMU's socket of the -netdev never overflows: otherwise the
 * kernel, not a device, would decide how many frames arrive.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/host-utils.h"
#include "xna-bench.h"
#include "xna-bench-peer.h"

#define RX_BUDGET       256

uint64_t bench_stall_ns = 2000000000ull;
uint32_t bench_tx_batch = 64;

const char *const bench_workload_names[BENCH_NR_WORKLOADS] = {
    "tx", "rx", "both",
};

static const char *const stat_names[] = {
    "grant-maps", "grant-unmaps", "grant-copies",
    "evtchn-notify-backend", "evtchn-notify-guest",
};

static void read_stats(XenGuest *g, uint64_t *v)
{
    unsigned int i;

    for (i = 0; i < G_N_ELEMENTS(stat_names); i++) {
        v[i] = xen_guest_sim_stat(g, stat_names[i]);
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * Frames in flight towards the guest: QEMU's socket buffer is
 * net.core.rmem_default (208 KiB here), each datagram taking about a
 * power of two above its size plus the skb; stay well below.
 */
static uint64_t window(unsigned int size)
{
    uint64_t truesize = pow2ceil(size + 256) + 512;

    return MAX(8, MIN(128, 131072 / truesize));
}

typedef struct Run {
    BenchTarget *t;
    BenchWorkload wl;
    const BenchFrames *fr;
    uint64_t n;
    uint64_t sent;              /* by the guest */
    uint64_t got;               /* by the guest */
    uint64_t peer_sent;
    uint64_t peer_got;
    uint64_t lost;
    uint64_t win;
    bool bad;
} Run;

/* One round of the guest and the peer; true when anything moved. */
static bool round_once(Run *r)
{
    BenchTarget *t = r->t;
    const BenchDevOps *ops = t->ops;
    const BenchFrames *fr = r->fr;
    bool progress = false;
    unsigned int k;

    if (r->wl != BENCH_RX && r->sent < r->n) {
        uint64_t room = r->n - r->sent;

        if (r->wl == BENCH_BOTH) {
            room = MIN(room, r->win - MIN(r->win, r->sent - r->got - r->lost));
        }
        if (room) {
            k = ops->tx(t->dev, t->loopback && r->wl == BENCH_BOTH ?
                        fr->to_self : fr->to_peer, fr->nflows, fr->size,
                        r->sent, MIN(room, bench_tx_batch));
            r->sent += k;
            progress |= k;
        }
    }
    progress |= ops->tx_reclaim(t->dev) > 0;
    if (r->wl != BENCH_TX) {
        int got = ops->rx(t->dev, RX_BUDGET, fr->size);

        if (got < 0) {
            r->bad = true;
            return false;
        }
        r->got += got;
        progress |= got > 0;
    }
    if (!t->peer) {
        return progress;
    }
    switch (r->wl) {
    case BENCH_TX:
        k = bench_peer_drain(t->peer, fr->size);
        r->peer_got += k;
        break;
    case BENCH_BOTH:
        k = bench_peer_echo(t->peer, fr->size);
        break;
    default:
        k = 0;
        if (r->peer_sent < r->n) {
            uint64_t room = r->win - MIN(r->win, r->peer_sent - r->got -
                                                 r->lost);

            room = MIN(MIN(room, r->n - r->peer_sent), BENCH_PEER_BATCH);
            k = bench_peer_send(t->peer, fr->to_guest, fr->nflows, fr->size,
                                r->peer_sent, room);
            r->peer_sent += k;
        }
        break;
    }
    return progress || k;
}

static bool finished(Run *r)
{
    if (r->wl != BENCH_RX &&
        (r->sent < r->n || r->t->ops->tx_busy(r->t->dev))) {
        return false;
    }
    if (r->wl != BENCH_TX && r->got + r->lost < r->n) {
        return false;
    }
    /* TX to a peer: the peer has them, or they are lost. */
    return r->wl != BENCH_TX || !r->t->peer || r->peer_got + r->lost >= r->n;
}

/*
 * Nothing moved for a while: frames the wire dropped will never come.
 * Write off what is in flight, so the window opens again.
 */
static bool write_off(Run *r)
{
    uint64_t missing;

    switch (r->wl) {
    case BENCH_TX:
        missing = r->t->peer && !r->t->ops->tx_busy(r->t->dev) ?
                  r->sent - r->peer_got - r->lost : 0;
        break;
    case BENCH_RX:
        missing = r->peer_sent - r->got - r->lost;
        break;
    default:
        missing = r->t->ops->tx_busy(r->t->dev) ? 0 :
                  r->sent - r->got - r->lost;
        break;
    }
    r->lost += missing;
    return missing > 0;
}

bool bench_run(BenchTarget *t, BenchWorkload wl, const BenchFrames *fr,
               uint64_t n, BenchPhase *ph)
{
    XenGuest *g = t->ops->guest(t->dev);
    Run r = { .t = t, .wl = wl, .fr = fr, .n = n, .win = window(fr->size) };
    uint64_t before[G_N_ELEMENTS(stat_names)], after[G_N_ELEMENTS(stat_names)];
    uint64_t t0, last;

    read_stats(g, before);
    t0 = last = now_ns();
    while (!finished(&r)) {
        uint64_t now;

        if (round_once(&r)) {
            last = now_ns();
            continue;
        }
        if (r.bad) {
            return false;
        }
        if (t->ops->arm(t->dev)) {
            continue;
        }
        now = now_ns();
        if (now - last > bench_stall_ns) {
            if (!write_off(&r)) {
                return false;
            }
            last = now;
        }
        sched_yield();
    }
    ph->ns = now_ns() - t0;
    read_stats(g, after);
    ph->packets = (wl == BENCH_RX ? 0 : r.sent) +
                  (wl == BENCH_TX ? 0 : r.got);
    ph->grant_ops = (after[0] - before[0]) + (after[1] - before[1]) +
                    (after[2] - before[2]);
    ph->kicks = after[3] - before[3];
    ph->irqs = after[4] - before[4];
    ph->lost = r.lost;
    return true;
}
