/*
 * xna-bench: xen-net-accel against QEMU's stock xen-net-device, side by
 * side in one run (make bench; docs/benchmarks.md)
 *
 * Five targets, each its own QEMU on the xen-sim platform, all alive
 * for the whole run so that their passes can alternate:
 *
 *   stock       xen-net-device over -netdev dgram to our peer socket
 *   accel       xen-net-accel,nic=netdev over the same kind of -netdev
 *   accel-loop  xen-net-accel,nic=loopback (no wire: the device's own
 *               cost; no RX-only workload, as nothing comes in unsent)
 *   accel-xdp   xen-net-accel,nic=afxdp with zero-copy=on (the default:
 *               each VI's AF_XDP socket receives into the guest's buffer
 *               pool, QEMU copies no received frame) on one end of a veth
 *               pair, QEMU in its own network namespace, our packet
 *               socket on the other end (xna-bench-xdp.c); needs root,
 *               else skipped and said so; frames up to the veth's MTU
 *   accel-xdp-copy
 *               the same with zero-copy=off (a UMEM of the backend's,
 *               QEMU copies each received frame into the guest's buffer),
 *               on a veth pair and namespaces of its own (XDP: one
 *               program per interface); skipped with accel-xdp
 *
 * After open, each accel-xdp target checks that its VIs receive in the
 * mode it is named for (the device's nic-pool-vis) and aborts otherwise.
 *
 * For every case (queues, workload, frame size) each target gets a
 * warm-up pass (flows learned, buffers posted), then the timed passes
 * alternate between the targets, rotating who goes first, so that
 * whatever else loads the machine meets all of them alike.  Counters of
 * the platform give grant operations and notifications per packet;
 * callgrind gives backend instructions per packet in a separate, slower
 * pass (xna-bench-cg.c).  Every number printed is measured here.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "xna-bench.h"
#include "xna-bench-peer.h"

#define MAX_LIST        8
#define NR_TARGETS      5
#define WARMUP_FRAMES   256
/* xq0's and xq1's queues: max-vis of the device, which checks them */
#define XDP_QUEUES      4
/* The veth's MTU (1500) plus the Ethernet header: larger frames drop */
#define XDP_MAX_FRAME   1514
/* Learning a flow: frames sent until one reaches the guest, each waited */
#define LEARN_TRIES     200
#define LEARN_WAIT_NS   20000000ull

typedef struct Options {
    uint64_t packets;
    unsigned int reps;
    uint64_t cg_packets;        /* 0: no callgrind pass */
    unsigned int sizes[MAX_LIST], nsizes;
    unsigned int vis[MAX_LIST], nvis;
    BenchWorkload wls[MAX_LIST];
    unsigned int nwls;
    const char *csv;
    const char *cg_dir;
    bool afxdp;
    bool xdp_pool;              /* run accel-xdp (zero-copy=on) */
} Options;

static Options opt = {
    .packets = 20000,
    .reps = 5,
    .cg_packets = 2000,
    .sizes = { 64, 512, 1500, 9000 }, .nsizes = 4,
    .vis = { 1, 4 }, .nvis = 2,
    .wls = { BENCH_TX, BENCH_RX, BENCH_BOTH }, .nwls = 3,
    .afxdp = true,
    .xdp_pool = true,
};

static GArray *results;         /* of BenchResult */

/* Options */

static unsigned int parse_list(const char *s, unsigned int *out)
{
    g_auto(GStrv) parts = g_strsplit(s, ",", -1);
    unsigned int n = 0, i;

    for (i = 0; parts[i] && n < MAX_LIST; i++) {
        out[n++] = g_ascii_strtoull(parts[i], NULL, 10);
    }
    return n;
}

static unsigned int parse_wls(const char *s, BenchWorkload *out)
{
    g_auto(GStrv) parts = g_strsplit(s, ",", -1);
    unsigned int n = 0, i, w;

    for (i = 0; parts[i] && n < MAX_LIST; i++) {
        for (w = 0; w < G_N_ELEMENTS(bench_workload_names); w++) {
            if (!strcmp(parts[i], bench_workload_names[w])) {
                out[n++] = w;
                break;
            }
        }
        if (w == G_N_ELEMENTS(bench_workload_names)) {
            g_printerr("unknown workload %s\n", parts[i]);
            exit(2);
        }
    }
    return n;
}

static void usage(void)
{
    g_printerr("usage: xna-bench [--packets N] [--reps N] [--cg-packets N]"
               " [--sizes 64,512,...] [--vis 1,4] [--workloads tx,rx,both]"
               " [--csv FILE] [--cg-dir DIR] [--afxdp 0|1] [--xdp-pool 0|1]"
               " [--tx-batch N]\n"
               "QTEST_QEMU_BINARY names QEMU; --cg-packets 0: no "
               "callgrind pass; --afxdp 0: no accel-xdp targets;\n"
               "--xdp-pool 0: no accel-xdp (zero-copy=on) target; --tx-batch: "
               "frames per kick decision over all VIs (64)\n");
    exit(2);
}

static void parse_options(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (!v) {
            usage();
        }
        if (!strcmp(a, "--packets")) {
            opt.packets = g_ascii_strtoull(v, NULL, 10);
        } else if (!strcmp(a, "--reps")) {
            opt.reps = MIN(BENCH_MAX_REPS, g_ascii_strtoull(v, NULL, 10));
        } else if (!strcmp(a, "--cg-packets")) {
            opt.cg_packets = g_ascii_strtoull(v, NULL, 10);
        } else if (!strcmp(a, "--sizes")) {
            opt.nsizes = parse_list(v, opt.sizes);
        } else if (!strcmp(a, "--vis")) {
            opt.nvis = parse_list(v, opt.vis);
        } else if (!strcmp(a, "--workloads")) {
            opt.nwls = parse_wls(v, opt.wls);
        } else if (!strcmp(a, "--csv")) {
            opt.csv = v;
        } else if (!strcmp(a, "--cg-dir")) {
            opt.cg_dir = v;
        } else if (!strcmp(a, "--afxdp")) {
            opt.afxdp = g_ascii_strtoull(v, NULL, 10) != 0;
        } else if (!strcmp(a, "--xdp-pool")) {
            opt.xdp_pool = g_ascii_strtoull(v, NULL, 10) != 0;
        } else if (!strcmp(a, "--tx-batch")) {
            bench_tx_batch = MAX(1, MIN(1024,
                                        g_ascii_strtoull(v, NULL, 10)));
        } else {
            usage();
        }
        i++;
    }
    if (!opt.packets || !opt.reps || !opt.nsizes || !opt.nvis) {
        usage();
    }
}

/* Targets */

static BenchPeer peers[NR_TARGETS];
static BenchTarget targets[NR_TARGETS] = {
    { .name = "stock", .ops = &bench_stock_ops },
    { .name = "accel", .ops = &bench_accel_ops, .jumbo = true },
    { .name = "accel-loop", .ops = &bench_accel_ops, .jumbo = true,
      .loopback = true },
    { .name = "accel-xdp", .ops = &bench_accel_ops, .afxdp = true,
      .xdp = { .ifname = "xq0", .peer_ifname = "xp0" } },
    { .name = "accel-xdp-copy", .ops = &bench_accel_ops, .afxdp = true,
      .xdp_copy = true, .xdp = { .ifname = "xq1", .peer_ifname = "xp1" } },
};
static char *xdp_skip_why;      /* why the accel-xdp targets are skipped */
static GString *xdp_skipped;    /* ... which: "accel-xdp, accel-xdp-copy" */

static char *qemu_args(unsigned int i)
{
    g_autofree char *netdev = NULL;

    if (targets[i].loopback) {
        return g_strdup("-device xen-net-accel,id=dev0,nic=loopback,"
                        "mac=" BENCH_GUEST_MAC ",mtu=9000,max-vis=4");
    }
    if (targets[i].afxdp) {
        return g_strdup_printf("-device xen-net-accel,id=dev0,nic=afxdp,"
                               "ifname=%s,mac=" BENCH_GUEST_MAC ",max-vis="
                               stringify(XDP_QUEUES) "%s",
                               targets[i].xdp.ifname,
                               targets[i].xdp_copy ? ",zero-copy=off" :
                               ",zero-copy=on");
    }
    netdev = bench_peer_netdev(targets[i].peer, "n0");
    if (targets[i].ops == &bench_stock_ops) {
        return g_strdup_printf("%s -device xen-net-device,id=dev0,"
                               "netdev=n0,mac=" BENCH_GUEST_MAC, netdev);
    }
    return g_strdup_printf("%s -device xen-net-accel,id=dev0,nic=netdev,"
                           "netdev=n0,mac=" BENCH_GUEST_MAC ",mtu=9000,"
                           "max-vis=4", netdev);
}

/*
 * An accel-xdp target measures one receive mode: every VI in the guest's
 * pool (accel-xdp), or none (accel-xdp-copy).  A VI that fell back to
 * copying (QEMU warns, e.g. over RLIMIT_MEMLOCK) would have the target
 * measure the other mode unnoticed: stop instead.
 */
static void check_xdp_mode(unsigned int i, unsigned int vis)
{
    BenchTarget *t = &targets[i];
    unsigned int want = t->xdp_copy ? 0 : vis;
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    uint64_t pool;

    /*
     * A VI's socket waits a moment for its queue when it replaced another
     * (nic-sockets-waiting): count the VIs once none waits.
     */
    while (t->ops->stat(t->dev, "nic-sockets-waiting") &&
           g_get_monotonic_time() < deadline) {
        g_usleep(1000);
    }
    pool = t->ops->stat(t->dev, "nic-pool-vis");

    g_printerr("  %s: %" PRIu64 " of %u VIs in the guest's pool\n",
               t->name, pool, vis);
    if (pool != want) {
        t->ops->dump(t->dev);
        g_error("%s: %" PRIu64 " of %u VIs receive into the guest's pool "
                "(nic-pool-vis), not %u: not the mode this target measures",
                t->name, pool, vis, want);
    }
}

static void target_open(unsigned int i, unsigned int vis)
{
    g_autofree char *args = NULL;

    if (targets[i].skipped) {
        return;
    }
    if (targets[i].afxdp) {
        bench_peer_init_packet(&peers[i], targets[i].xdp.ns_b,
                               targets[i].xdp.ns_root,
                               targets[i].xdp.peer_ifindex);
        targets[i].peer = &peers[i];
    } else if (!targets[i].loopback) {
        bench_peer_init(&peers[i]);
        targets[i].peer = &peers[i];
    }
    args = qemu_args(i);
    /* QEMU inherits the namespace of the thread that starts it. */
    if (targets[i].afxdp) {
        bench_xdp_enter(&targets[i].xdp);
    }
    targets[i].dev = targets[i].ops->open(args, vis);
    if (targets[i].afxdp) {
        bench_xdp_leave(&targets[i].xdp);
        check_xdp_mode(i, vis);
    }
}

static void target_close(unsigned int i)
{
    if (targets[i].skipped) {
        return;
    }
    targets[i].ops->close(targets[i].dev);
    targets[i].dev = NULL;
    if (targets[i].peer) {
        bench_peer_close(targets[i].peer);
        targets[i].peer = NULL;
    }
}

static bool applies(unsigned int i, BenchWorkload wl, unsigned int size)
{
    if (targets[i].skipped) {
        return false;
    }
    /* The stock device takes one page per frame and no more. */
    if (size > 1514 && !targets[i].jumbo) {
        return false;
    }
    if (targets[i].afxdp && size > XDP_MAX_FRAME) {
        return false;
    }
    return !(targets[i].loopback && wl == BENCH_RX);
}

static unsigned int nflows(unsigned int vis)
{
    return MIN(BENCH_MAX_FLOWS, 4 * vis);
}

static BenchResult *result_get(unsigned int vis, BenchWorkload wl,
                          unsigned int size, unsigned int target)
{
    BenchResult r = { .vis = vis, .wl = wl, .size = size, .target = target };
    unsigned int i;

    for (i = 0; i < results->len; i++) {
        BenchResult *x = &g_array_index(results, BenchResult, i);

        if (x->vis == vis && x->wl == wl && x->size == size &&
            x->target == target) {
            return x;
        }
    }
    g_array_append_val(results, r);
    return &g_array_index(results, BenchResult, results->len - 1);
}

static uint64_t now_ns(void)
{
    return g_get_monotonic_time() * 1000ull;
}

/*
 * nic=afxdp learns a flow from the first frame that reaches the kernel
 * (XDP passes it and samples a copy): until the filter is in the XDP
 * map, frames of the flow go to the kernel, not to the guest.  Send one
 * frame of each flow at a time until one arrives in the guest, so that
 * no pass, the warm-up included, loses frames to learning.
 */
static void learn_flows(unsigned int i, const BenchFrames *fr)
{
    BenchTarget *t = &targets[i];
    unsigned int f, tries;

    for (f = 0; f < fr->nflows; f++) {
        int got = 0;

        for (tries = 0; !got; tries++) {
            uint64_t deadline = now_ns() + LEARN_WAIT_NS;

            if (tries == LEARN_TRIES) {
                if (t->ops->dump) {
                    t->ops->dump(t->dev);
                }
                g_error("%s: flow %u never reached the guest", t->name, f);
            }
            bench_peer_send(t->peer, fr->to_guest, fr->nflows, fr->size,
                            f, 1);
            do {
                /* arm() also reads the control channel (FILTER notices) */
                t->ops->arm(t->dev);
                got = t->ops->rx(t->dev, 256, fr->size);
                g_assert_cmpint(got, >=, 0);
                if (!got) {
                    g_usleep(500);
                }
            } while (!got && now_ns() < deadline);
        }
    }
}

static void run_or_die(unsigned int i, BenchWorkload wl,
                       const BenchFrames *fr, uint64_t n, BenchPhase *ph)
{
    if (!bench_run(&targets[i], wl, fr, n, ph)) {
        g_error("%s: %s %u bytes: the pass failed (bad frame or stall)",
                targets[i].name, bench_workload_names[wl], fr->size);
    }
}

/* The warm-up pass of a case (not counted), after learning its flows. */
static void warm_up(unsigned int i, BenchWorkload wl, const BenchFrames *fr)
{
    BenchPhase ph;

    if (targets[i].afxdp && wl != BENCH_TX) {
        learn_flows(i, fr);
    }
    run_or_die(i, wl, fr, WARMUP_FRAMES, &ph);
}

/* The timed passes of every case with @vis queues. */
static void run_timed(unsigned int vis)
{
    unsigned int w, s, rep, k, i;

    for (i = 0; i < NR_TARGETS; i++) {
        target_open(i, vis);
    }
    for (w = 0; w < opt.nwls; w++) {
        for (s = 0; s < opt.nsizes; s++) {
            BenchWorkload wl = opt.wls[w];
            BenchFrames fr;

            bench_frames_init(&fr, opt.sizes[s], nflows(vis));
            for (i = 0; i < NR_TARGETS; i++) {
                if (applies(i, wl, fr.size)) {
                    warm_up(i, wl, &fr);
                }
            }
            for (rep = 0; rep < opt.reps; rep++) {
                for (k = 0; k < NR_TARGETS; k++) {
                    BenchResult *r;

                    i = (rep + k) % NR_TARGETS;
                    if (!applies(i, wl, fr.size)) {
                        continue;
                    }
                    r = result_get(vis, wl, fr.size, i);
                    run_or_die(i, wl, &fr, opt.packets, &r->ph[r->nreps++]);
                }
            }
            g_printerr("  %u queue(s), %s, %u bytes: done\n", vis,
                       bench_workload_names[wl], fr.size);
            bench_frames_free(&fr);
        }
    }
    for (i = 0; i < NR_TARGETS; i++) {
        target_close(i);
    }
}

/* The callgrind passes of every case with @vis queues, one QEMU at a time */
static void run_callgrind(unsigned int vis, const char *qemu)
{
    g_autofree char *cg_qemu = bench_cg_qemu_binary(qemu, opt.cg_dir);
    uint64_t stall = bench_stall_ns;
    unsigned int w, s, i;

    g_setenv("QTEST_QEMU_BINARY", cg_qemu, true);
    /* QEMU runs some fifty times slower under valgrind. */
    bench_stall_ns = 60000000000ull;
    for (i = 0; i < NR_TARGETS; i++) {
        if (targets[i].skipped) {
            continue;
        }
        target_open(i, vis);
        for (w = 0; w < opt.nwls; w++) {
            for (s = 0; s < opt.nsizes; s++) {
                BenchWorkload wl = opt.wls[w];
                BenchFrames fr;
                BenchPhase ph;
                BenchResult *r;

                if (!applies(i, wl, opt.sizes[s])) {
                    continue;
                }
                bench_frames_init(&fr, opt.sizes[s], nflows(vis));
                warm_up(i, wl, &fr);
                bench_cg_zero(&targets[i]);
                run_or_die(i, wl, &fr, opt.cg_packets, &ph);
                r = result_get(vis, wl, fr.size, i);
                r->cg_instr = bench_cg_dump(&targets[i], opt.cg_dir);
                r->cg_packets = ph.packets;
                bench_frames_free(&fr);
            }
        }
        target_close(i);
        g_printerr("  %u queue(s), %s under callgrind: done\n", vis,
                   targets[i].name);
    }
    g_setenv("QTEST_QEMU_BINARY", qemu, true);
    bench_stall_ns = stall;
}

/*
 * The veth pair of each accel-xdp target.  A host that cannot make one
 * (not root, most often) is not asked for the next: the targets from the
 * first failure on are skipped, and said so once.
 */
static void xdp_setup(void)
{
    unsigned int i;

    xdp_skipped = g_string_new("");
    if (!opt.afxdp) {
        xdp_skip_why = g_strdup("--afxdp 0");
    }
    for (i = 0; i < NR_TARGETS; i++) {
        if (!targets[i].afxdp) {
            continue;
        }
        if (!targets[i].xdp_copy && !opt.xdp_pool) {
            targets[i].skipped = true;
            g_printerr("xna-bench: %s (zero-copy=on) skipped: --xdp-pool 0\n",
                       targets[i].name);
            continue;
        }
        if (!xdp_skip_why) {
            bench_xdp_setup(&targets[i].xdp, XDP_QUEUES, &xdp_skip_why);
        }
        if (xdp_skip_why) {
            targets[i].skipped = true;
            g_string_append_printf(xdp_skipped, "%s%s",
                                   xdp_skipped->len ? ", " : "",
                                   targets[i].name);
        }
    }
    if (xdp_skip_why) {
        g_printerr("xna-bench: skipping %s (nic=afxdp on veth): %s\n",
                   xdp_skipped->str, xdp_skip_why);
    }
}

static void xdp_free(void)
{
    unsigned int i;

    for (i = 0; i < NR_TARGETS; i++) {
        if (targets[i].afxdp && !targets[i].skipped) {
            bench_xdp_free(&targets[i].xdp);
        }
    }
    g_string_free(xdp_skipped, true);
    g_free(xdp_skip_why);
}

/* libqtest logs QEMU's command lines with g_test_message(): not on stdout */
static void print_to_stderr(const gchar *s)
{
    fputs(s, stderr);
}

int main(int argc, char **argv)
{
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");
    g_autofree char *qemu_copy = NULL;
    FILE *csv;
    unsigned int v;

    parse_options(argc, argv);
    g_set_print_handler(print_to_stderr);
    if (!qemu) {
        g_printerr("QTEST_QEMU_BINARY must name qemu-system-x86_64\n");
        return 2;
    }
    qemu_copy = g_strdup(qemu);
    if (opt.cg_packets && !opt.cg_dir) {
        g_printerr("--cg-dir is needed with callgrind\n");
        return 2;
    }
    results = g_array_new(false, true, sizeof(BenchResult));
    xdp_setup();
    for (v = 0; v < opt.nvis; v++) {
        run_timed(opt.vis[v]);
        if (opt.cg_packets) {
            run_callgrind(opt.vis[v], qemu_copy);
        }
    }
    csv = opt.csv ? fopen(opt.csv, "w") : fopen("/dev/null", "w");
    g_assert(csv);
    bench_report(results, targets, csv);
    fclose(csv);
    if (xdp_skip_why) {
        /* On stdout too: the table must say why a target is missing. */
        printf("\nSkipped: %s (nic=afxdp on veth): %s\n", xdp_skipped->str,
               xdp_skip_why);
    }
    xdp_free();
    g_array_free(results, true);
    return 0;
}
