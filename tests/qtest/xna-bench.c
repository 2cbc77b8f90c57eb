/*
 * xna-bench: xen-net-accel against QEMU's stock xen-net-device, side by
 * side in one run (make bench; docs/benchmarks.md)
 *
 * Three targets, each its own QEMU on the xen-sim platform, all alive
 * for the whole run so that their passes can alternate:
 *
 *   stock       xen-net-device over -netdev dgram to our peer socket
 *   accel       xen-net-accel,nic=netdev over the same kind of -netdev
 *   accel-loop  xen-net-accel,nic=loopback (no wire: the device's own
 *               cost; no RX-only workload, as nothing comes in unsent)
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

#define MAX_REPS        64
#define MAX_LIST        8
#define NR_TARGETS      3
#define WARMUP_FRAMES   256

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
} Options;

typedef struct Result {
    unsigned int vis;
    BenchWorkload wl;
    unsigned int size;
    unsigned int target;
    BenchPhase ph[MAX_REPS];
    unsigned int nreps;
    uint64_t cg_instr, cg_packets;
} Result;

static const char *const wl_names[] = { "tx", "rx", "both" };

static Options opt = {
    .packets = 20000,
    .reps = 5,
    .cg_packets = 2000,
    .sizes = { 64, 512, 1500, 9000 }, .nsizes = 4,
    .vis = { 1, 4 }, .nvis = 2,
    .wls = { BENCH_TX, BENCH_RX, BENCH_BOTH }, .nwls = 3,
};

static GArray *results;         /* of Result */

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
        for (w = 0; w < G_N_ELEMENTS(wl_names); w++) {
            if (!strcmp(parts[i], wl_names[w])) {
                out[n++] = w;
                break;
            }
        }
        if (w == G_N_ELEMENTS(wl_names)) {
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
               " [--csv FILE] [--cg-dir DIR]\n"
               "QTEST_QEMU_BINARY names QEMU; --cg-packets 0: no "
               "callgrind pass\n");
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
            opt.reps = MIN(MAX_REPS, g_ascii_strtoull(v, NULL, 10));
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
};

static char *qemu_args(unsigned int i)
{
    g_autofree char *netdev = NULL;

    if (targets[i].loopback) {
        return g_strdup("-device xen-net-accel,id=dev0,nic=loopback,"
                        "mac=" BENCH_GUEST_MAC ",mtu=9000,max-vis=4");
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

static void target_open(unsigned int i, unsigned int vis)
{
    g_autofree char *args = NULL;

    if (!targets[i].loopback) {
        bench_peer_init(&peers[i]);
        targets[i].peer = &peers[i];
    }
    args = qemu_args(i);
    targets[i].dev = targets[i].ops->open(args, vis);
}

static void target_close(unsigned int i)
{
    targets[i].ops->close(targets[i].dev);
    targets[i].dev = NULL;
    if (targets[i].peer) {
        bench_peer_close(targets[i].peer);
        targets[i].peer = NULL;
    }
}

static bool applies(unsigned int i, BenchWorkload wl, unsigned int size)
{
    /* The stock device takes one page per frame and no more. */
    if (size > 1514 && !targets[i].jumbo) {
        return false;
    }
    return !(targets[i].loopback && wl == BENCH_RX);
}

static unsigned int nflows(unsigned int vis)
{
    return MIN(BENCH_MAX_FLOWS, 4 * vis);
}

static Result *result_get(unsigned int vis, BenchWorkload wl,
                          unsigned int size, unsigned int target)
{
    Result r = { .vis = vis, .wl = wl, .size = size, .target = target };
    unsigned int i;

    for (i = 0; i < results->len; i++) {
        Result *x = &g_array_index(results, Result, i);

        if (x->vis == vis && x->wl == wl && x->size == size &&
            x->target == target) {
            return x;
        }
    }
    g_array_append_val(results, r);
    return &g_array_index(results, Result, results->len - 1);
}

static void run_or_die(unsigned int i, BenchWorkload wl,
                       const BenchFrames *fr, uint64_t n, BenchPhase *ph)
{
    if (!bench_run(&targets[i], wl, fr, n, ph)) {
        g_error("%s: %s %u bytes: the pass failed (bad frame or stall)",
                targets[i].name, wl_names[wl], fr->size);
    }
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
            BenchPhase ph;

            bench_frames_init(&fr, opt.sizes[s], nflows(vis));
            for (i = 0; i < NR_TARGETS; i++) {
                if (applies(i, wl, fr.size)) {
                    run_or_die(i, wl, &fr, WARMUP_FRAMES, &ph);
                }
            }
            for (rep = 0; rep < opt.reps; rep++) {
                for (k = 0; k < NR_TARGETS; k++) {
                    Result *r;

                    i = (rep + k) % NR_TARGETS;
                    if (!applies(i, wl, fr.size)) {
                        continue;
                    }
                    r = result_get(vis, wl, fr.size, i);
                    run_or_die(i, wl, &fr, opt.packets, &r->ph[r->nreps++]);
                }
            }
            g_printerr("  %u queue(s), %s, %u bytes: done\n", vis,
                       wl_names[wl], fr.size);
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
        target_open(i, vis);
        for (w = 0; w < opt.nwls; w++) {
            for (s = 0; s < opt.nsizes; s++) {
                BenchWorkload wl = opt.wls[w];
                BenchFrames fr;
                BenchPhase ph;
                Result *r;

                if (!applies(i, wl, opt.sizes[s])) {
                    continue;
                }
                bench_frames_init(&fr, opt.sizes[s], nflows(vis));
                run_or_die(i, wl, &fr, WARMUP_FRAMES, &ph);
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

/* Report */

typedef struct Summary {
    double pps_med, pps_min, pps_max;
    double grant, kicks, irqs, instr;       /* per packet; instr < 0: none */
    uint64_t lost;
} Summary;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void summarize(const Result *r, Summary *sm)
{
    double pps[MAX_REPS];
    uint64_t packets = 0, grant = 0, kicks = 0, irqs = 0;
    unsigned int i, n = r->nreps;

    memset(sm, 0, sizeof(*sm));
    for (i = 0; i < n; i++) {
        pps[i] = r->ph[i].packets * 1e9 / r->ph[i].ns;
        packets += r->ph[i].packets;
        grant += r->ph[i].grant_ops;
        kicks += r->ph[i].kicks;
        irqs += r->ph[i].irqs;
        sm->lost += r->ph[i].lost;
    }
    qsort(pps, n, sizeof(pps[0]), cmp_double);
    sm->pps_med = n % 2 ? pps[n / 2] : (pps[n / 2 - 1] + pps[n / 2]) / 2;
    sm->pps_min = pps[0];
    sm->pps_max = pps[n - 1];
    sm->grant = (double)grant / packets;
    sm->kicks = (double)kicks / packets;
    sm->irqs = (double)irqs / packets;
    sm->instr = r->cg_packets ? (double)r->cg_instr / r->cg_packets : -1;
}

static double gbps(double pps, unsigned int size)
{
    return pps * size * 8 / 1e9;
}

static const Result *stock_of(const Result *r)
{
    unsigned int i;

    for (i = 0; i < results->len; i++) {
        const Result *x = &g_array_index(results, Result, i);

        if (x->vis == r->vis && x->wl == r->wl && x->size == r->size &&
            x->target == 0 && x->nreps) {
            return x;
        }
    }
    return NULL;
}

static void print_table(FILE *csv)
{
    unsigned int i;

    printf("%-3s %-4s %5s %-10s %10s %21s %7s %8s %8s %8s %9s %7s %4s\n",
           "q", "load", "bytes", "device", "pkt/s", "[min .. max]",
           "Gbit/s", "grant/p", "kick/p", "irq/p", "instr/p", "x stock",
           "lost");
    fprintf(csv, "queues,workload,frame_bytes,device,reps,pps_median,"
            "pps_min,pps_max,gbps_median,gbps_min,gbps_max,grant_ops_per_pkt,"
            "kicks_per_pkt,irqs_per_pkt,notifications_per_pkt,instr_per_pkt,"
            "lost,pps_ratio_vs_stock,gbps_ratio_vs_stock\n");
    for (i = 0; i < results->len; i++) {
        const Result *r = &g_array_index(results, Result, i);
        const Result *st = stock_of(r);
        Summary sm, ss;
        double ratio = -1;
        g_autofree char *range = NULL, *instr = NULL, *rs = NULL;

        if (!r->nreps) {
            continue;
        }
        summarize(r, &sm);
        if (st && st != r) {
            summarize(st, &ss);
            ratio = sm.pps_med / ss.pps_med;
        }
        range = g_strdup_printf("[%.0f .. %.0f]", sm.pps_min, sm.pps_max);
        instr = sm.instr < 0 ? g_strdup("-") :
                g_strdup_printf("%.0f", sm.instr);
        rs = ratio < 0 ? g_strdup("-") : g_strdup_printf("%.2f", ratio);
        printf("%-3u %-4s %5u %-10s %10.0f %21s %7.3f %8.3f %8.4f %8.4f "
               "%9s %7s %4" PRIu64 "\n", r->vis, wl_names[r->wl], r->size,
               targets[r->target].name, sm.pps_med, range,
               gbps(sm.pps_med, r->size), sm.grant, sm.kicks, sm.irqs, instr,
               rs, sm.lost);
        fprintf(csv, "%u,%s,%u,%s,%u,%.0f,%.0f,%.0f,%.4f,%.4f,%.4f,%.4f,"
                "%.5f,%.5f,%.5f,%s,%" PRIu64 ",%s,%s\n", r->vis,
                wl_names[r->wl], r->size, targets[r->target].name, r->nreps,
                sm.pps_med, sm.pps_min, sm.pps_max, gbps(sm.pps_med, r->size),
                gbps(sm.pps_min, r->size), gbps(sm.pps_max, r->size),
                sm.grant, sm.kicks, sm.irqs, sm.kicks + sm.irqs,
                sm.instr < 0 ? "" : instr, sm.lost,
                ratio < 0 ? "" : rs, ratio < 0 ? "" : rs);
    }
}

/*
 * The project's goals, against what this run measured: xen-net-accel
 * over the same -netdev as the stock device for the ratios, both of its
 * NICs for the counters, the loopback NIC for instructions.  Every case
 * is listed ("1q tx" = 1 queue, TX), with how many meet the goal.
 */
typedef enum GoalKind { GOAL_PPS, GOAL_GRANT, GOAL_NOTIF, GOAL_INSTR } GoalKind;

static void print_goal(const char *what, GoalKind kind, unsigned int size,
                       bool loopback, double limit, bool at_least)
{
    unsigned int i, met = 0, n = 0;
    GString *line = g_string_new("");
    double worst = 0;

    for (i = 0; i < results->len; i++) {
        const Result *r = &g_array_index(results, Result, i);
        const Result *st = stock_of(r);
        Summary sm, ss;
        double v;

        if (!r->nreps || r->target == 0 || (size && r->size != size) ||
            (kind != GOAL_GRANT && kind != GOAL_NOTIF &&
             targets[r->target].loopback != loopback)) {
            continue;
        }
        summarize(r, &sm);
        switch (kind) {
        case GOAL_PPS:
            if (!st) {
                continue;
            }
            summarize(st, &ss);
            v = sm.pps_med / ss.pps_med;
            break;
        case GOAL_GRANT:
            v = sm.grant;
            break;
        case GOAL_NOTIF:
            v = sm.kicks + sm.irqs;
            break;
        default:
            if (sm.instr < 0) {
                continue;
            }
            v = sm.instr;
            break;
        }
        n++;
        met += at_least ? v >= limit : v <= limit;
        if (kind == GOAL_GRANT || kind == GOAL_NOTIF) {
            /* Many cases: name the worst one only. */
            if (n == 1 || v > worst) {
                worst = v;
                g_string_printf(line, "worst: %uq %s %s %u B: %.4f", r->vis,
                                wl_names[r->wl], targets[r->target].name,
                                r->size, v);
            }
            continue;
        }
        g_string_append_printf(line, "%s%uq %s %.*f", n > 1 ? ", " : "",
                               r->vis, wl_names[r->wl],
                               kind == GOAL_PPS ? 2 : 0, v);
    }
    if (n) {
        printf("  %s: met in %u of %u cases\n    %s\n", what, met, n,
               line->str);
    } else {
        printf("  %s: not measured in this run\n", what);
    }
    g_string_free(line, true);
}

static void print_goals(void)
{
    printf("\nGoals (xen-net-accel):\n");
    print_goal("packets/s at 64 B >= 10x stock (accel vs stock, same wire)",
               GOAL_PPS, 64, false, 10, true);
    print_goal("Gbit/s at 1500 B >= 5x stock (accel vs stock, same wire)",
               GOAL_PPS, 1500, false, 5, true);
    print_goal("zero grant operations per packet (accel, accel-loop)",
               GOAL_GRANT, 0, false, 0, false);
    print_goal("<= 1/32 notifications per packet (accel, accel-loop)",
               GOAL_NOTIF, 0, false, 1.0 / 32, false);
    print_goal("<= 200 backend instructions per packet, loopback NIC, 64 B",
               GOAL_INSTR, 64, true, 200, false);
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
    results = g_array_new(false, true, sizeof(Result));
    for (v = 0; v < opt.nvis; v++) {
        run_timed(opt.vis[v]);
        if (opt.cg_packets) {
            run_callgrind(opt.vis[v], qemu_copy);
        }
    }
    csv = opt.csv ? fopen(opt.csv, "w") : fopen("/dev/null", "w");
    g_assert(csv);
    print_table(csv);
    fclose(csv);
    print_goals();
    g_array_free(results, true);
    return 0;
}
