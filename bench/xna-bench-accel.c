/*
 * xna-bench: the guest of xen-net-accel
 *
 * The guest module's own frontend core (guest/core/xna-front.c, through
 * xna-test-front.c): TX frames are copied into the VI's TX slots of the
 * pool that the backend mapped once; RX frames arrive in the pool and
 * are copied out.  Flow f goes out on VI f % vis; what comes in arrives
 * on the VI the backend chose for its flow.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "xna-bench.h"
#include "libqos/xna-test-front.h"

/* Frames handed to each xna_front_rx_poll(), as NAPI's default weight. */
#define RX_BUDGET   64

struct BenchDev {
    QTestState *qts;
    XenGuest *g;
    XnaTestFront tf;
    unsigned int vis;
    unsigned int tx_entries;
    uint8_t *copy;
    unsigned int rx_len;        /* the length expected */
    bool rx_bad;
};

static BenchDev *accel_open(const char *qemu_args, unsigned int vis)
{
    BenchDev *d = g_new0(BenchDev, 1);
    XnaTestFrontOpts o = { .vis = vis, .tx_entries = 256,
                           .rx_entries = 256 };

    d->qts = xen_guest_qemu_init("grant-map=multi", "%s", qemu_args);
    d->g = xen_guest_new(d->qts, NULL, 0);
    g_assert_cmpint(xna_test_front_open(&d->tf, d->g, &o), ==, 0);
    g_assert_cmpint(xna_test_front_connect(&d->tf, 60000), ==, 0);
    d->vis = xna_front_num_vis(d->tf.f);
    g_assert_cmpuint(d->vis, ==, vis);
    d->tx_entries = d->tf.layout.tx_entries;
    d->copy = g_malloc(BENCH_MAX_FRAME);
    return d;
}

static unsigned int accel_tx(BenchDev *d, uint8_t *const *tmpl,
                             unsigned int nflows, unsigned int len,
                             uint64_t first, unsigned int n)
{
    bool used[XNA_MAX_VIS] = { false };
    unsigned int i, v;

    for (i = 0; i < n; i++) {
        unsigned int flow = (first + i) % nflows;
        struct xna_vi *vi = xna_front_vi(d->tf.f, flow % d->vis);
        struct xna_frag frag = { .data = tmpl[flow], .len = len };
        int ret = xna_front_tx_frame(vi, &frag, 1, len, NULL, true);

        if (ret == -ENOSPC) {
            xna_front_tx_reclaim(vi);
            ret = xna_front_tx_frame(vi, &frag, 1, len, NULL, true);
        }
        if (ret < 0) {
            g_assert_cmpint(ret, ==, -ENOSPC);
            break;
        }
        used[flow % d->vis] = true;
    }
    /* One kick decision per VI and batch, as the module's xmit_more. */
    for (v = 0; v < d->vis; v++) {
        struct xna_vi *vi = xna_front_vi(d->tf.f, v);

        if (used[v] && xna_front_tx_kick_needed(vi)) {
            xna_front_vi_notify(vi);
        }
    }
    return i;
}

static unsigned int accel_tx_reclaim(BenchDev *d)
{
    unsigned int v, n = 0;

    for (v = 0; v < d->vis; v++) {
        struct xna_vi *vi = xna_front_vi(d->tf.f, v);
        unsigned int before = xna_front_tx_free_slots(vi);

        n += xna_front_tx_reclaim(vi) - before;
    }
    return n;
}

static bool accel_tx_busy(BenchDev *d)
{
    unsigned int v;

    for (v = 0; v < d->vis; v++) {
        struct xna_vi *vi = xna_front_vi(d->tf.f, v);

        if (xna_front_tx_reclaim(vi) < d->tx_entries) {
            return true;
        }
    }
    return false;
}

static int copy_out(void *opaque, struct xna_vi *vi,
                    const struct xna_frag *frags, unsigned int nfrags,
                    unsigned int len, unsigned int flags)
{
    BenchDev *d = opaque;
    unsigned int i, off = 0;

    if (len != d->rx_len) {
        d->rx_bad = true;
        return 0;
    }
    for (i = 0; i < nfrags; i++) {
        memcpy(d->copy + off, frags[i].data, frags[i].len);
        off += frags[i].len;
    }
    return 0;
}

static int accel_rx(BenchDev *d, unsigned int budget, unsigned int len)
{
    unsigned int v, n = 0;

    d->rx_len = len;
    for (v = 0; v < d->vis && n < budget; v++) {
        struct xna_vi *vi = xna_front_vi(d->tf.f, v);
        int got;

        do {
            got = xna_front_rx_poll(vi, MIN(RX_BUDGET, budget - n),
                                    copy_out, d);
            g_assert_cmpint(got, >=, 0);
            n += got;
        } while (got == RX_BUDGET && n < budget);
    }
    return d->rx_bad ? -1 : n;
}

static bool accel_arm(BenchDev *d)
{
    bool more = false;
    unsigned int v;

    /* FILTER notices and the like: the control channel is polled too. */
    xna_test_front_poll_ctrl(&d->tf, NULL, NULL);
    for (v = 0; v < d->vis; v++) {
        struct xna_vi *vi = xna_front_vi(d->tf.f, v);

        g_assert_cmpint(xna_front_vi_state(vi), ==, XNA_VI_UP);
        more |= xna_front_rx_arm(vi);
    }
    return more;
}

static XenGuest *accel_guest(BenchDev *d)
{
    return d->g;
}

static void accel_close(BenchDev *d)
{
    xna_test_front_close(&d->tf);
    g_assert_cmpuint(xen_guest_sim_stat(d->g, "grant-live-maps"), ==, 0);
    xen_guest_free(d->g);
    qtest_quit(d->qts);
    g_free(d->copy);
    g_free(d);
}

static void accel_dump(BenchDev *d)
{
    static const char *const dev[] = {
        "nic-pool-vis", "nic-rx-frames", "nic-rx-dropped", "nic-filters",
        "filters-inserted", "rx-host-samples", "nic-rx-no-buffer",
        "nic-rx-ring-full", "nic-rx-invalid", "nic-xdp-redirected",
        "nic-xdp-passed", "nic-xdp-other-queue", "nic-xdp-no-vi-queue",
    };
    static const char *const vi[] = {
        "rx-packets", "rx-pool-packets", "rx-pool-buffers", "pool-fallbacks",
        "guest-errors", "kicks",
    };
    unsigned int i, v;

    for (i = 0; i < G_N_ELEMENTS(dev); i++) {
        g_printerr("  %s %" PRIu64 "\n", dev[i],
                   xna_test_dev_stat(d->qts, "dev0", dev[i]));
    }
    for (v = 0; v < d->vis; v++) {
        for (i = 0; i < G_N_ELEMENTS(vi); i++) {
            g_autofree char *name = g_strdup_printf("vi%u-%s", v, vi[i]);

            g_printerr("  %s %" PRIu64 "\n", name,
                       xna_test_dev_stat(d->qts, "dev0", name));
        }
    }
}

static uint64_t accel_stat(BenchDev *d, const char *name)
{
    return xna_test_dev_stat(d->qts, "dev0", name);
}

const BenchDevOps bench_accel_ops = {
    .name = "accel",
    .open = accel_open,
    .tx = accel_tx,
    .tx_reclaim = accel_tx_reclaim,
    .tx_busy = accel_tx_busy,
    .rx = accel_rx,
    .arm = accel_arm,
    .guest = accel_guest,
    .close = accel_close,
    .dump = accel_dump,
    .stat = accel_stat,
};
