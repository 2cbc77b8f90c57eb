/*
 * xna-bench: the report (table, CSV, goals)
 *
 * Turns the passes of every case into what docs/benchmarks.md shows:
 * per device the median packets/s with min and max, Gbit/s, counters
 * per packet and the ratio to the stock device measured in the same
 * run; then the project's goals against those numbers.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "xna-bench.h"

/* Set by bench_report() for the helpers below. */
static GArray *results;
static const BenchTarget *targets;

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

static void summarize(const BenchResult *r, Summary *sm)
{
    double pps[BENCH_MAX_REPS];
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

static const BenchResult *stock_of(const BenchResult *r)
{
    unsigned int i;

    for (i = 0; i < results->len; i++) {
        const BenchResult *x = &g_array_index(results, BenchResult, i);

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

    printf("%-3s %-4s %5s %-14s %10s %21s %7s %8s %8s %8s %9s %7s %4s\n",
           "q", "load", "bytes", "device", "pkt/s", "[min .. max]",
           "Gbit/s", "grant/p", "kick/p", "irq/p", "instr/p", "x stock",
           "lost");
    fprintf(csv, "queues,workload,frame_bytes,device,reps,pps_median,"
            "pps_min,pps_max,gbps_median,gbps_min,gbps_max,grant_ops_per_pkt,"
            "kicks_per_pkt,irqs_per_pkt,notifications_per_pkt,instr_per_pkt,"
            "lost,pps_ratio_vs_stock,gbps_ratio_vs_stock\n");
    for (i = 0; i < results->len; i++) {
        const BenchResult *r = &g_array_index(results, BenchResult, i);
        const BenchResult *st = stock_of(r);
        const char *wl = bench_workload_names[r->wl];
        const char *dev = targets[r->target].name;
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
        printf("%-3u %-4s %5u %-14s %10.0f %21s %7.3f %8.3f %8.4f %8.4f "
               "%9s %7s %4" PRIu64 "\n", r->vis, wl, r->size, dev,
               sm.pps_med, range,
               gbps(sm.pps_med, r->size), sm.grant, sm.kicks, sm.irqs, instr,
               rs, sm.lost);
        fprintf(csv, "%u,%s,%u,%s,%u,%.0f,%.0f,%.0f,%.4f,%.4f,%.4f,%.4f,"
                "%.5f,%.5f,%.5f,%s,%" PRIu64 ",%s,%s\n", r->vis, wl,
                r->size, dev, r->nreps, sm.pps_med, sm.pps_min, sm.pps_max,
                gbps(sm.pps_med, r->size),
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
        const BenchResult *r = &g_array_index(results, BenchResult, i);
        const BenchResult *st = stock_of(r);
        Summary sm, ss;
        double v;

        if (!r->nreps || r->target == 0 || (size && r->size != size) ||
            (kind != GOAL_GRANT && kind != GOAL_NOTIF &&
             targets[r->target].loopback != loopback)) {
            continue;
        }
        /* Its wire is a veth, not the stock device's: no same-wire ratio */
        if (kind == GOAL_PPS && targets[r->target].afxdp) {
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
                                bench_workload_names[r->wl],
                                targets[r->target].name, r->size, v);
            }
            continue;
        }
        g_string_append_printf(line, "%s%uq %s %.*f", n > 1 ? ", " : "",
                               r->vis, bench_workload_names[r->wl],
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
    print_goal("zero grant operations per packet (accel, -loop, -xdp*)",
               GOAL_GRANT, 0, false, 0, false);
    print_goal("<= 1/32 notifications per packet (accel, -loop, -xdp*)",
               GOAL_NOTIF, 0, false, 1.0 / 32, false);
    print_goal("<= 200 backend instructions per packet, loopback NIC, 64 B",
               GOAL_INSTR, 64, true, 200, false);
}

void bench_report(GArray *all, const BenchTarget *t, FILE *csv)
{
    results = all;
    targets = t;
    print_table(csv);
    print_goals();
}
