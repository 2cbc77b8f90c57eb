/*
 * xna-bench: xen-net-accel against QEMU's stock xen-net-device
 *
 * The benchmark plays the guest in this process, at native speed: guest
 * RAM is shared with QEMU (xen_guest_ram_ptr), so rings, grants and
 * buffers are plain memory accesses; only event channel kicks and QMP
 * counter reads go through qtest.  Each device under test is driven
 * through the same small interface (BenchDevOps), so that one loop
 * (xna-bench.c) runs the same workload through both.  See
 * docs/benchmarks.md.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_QTEST_XNA_BENCH_H
#define TESTS_QTEST_XNA_BENCH_H

#include "libqos/xen-guest.h"

struct BenchPeer;

/* Flows of a case: round-robin over them, flow f sent on queue f % vis. */
#define BENCH_MAX_FLOWS     16
/* The largest frame a case uses (9000 bytes, for xen-net-accel only). */
#define BENCH_MAX_FRAME     9018

#define BENCH_GUEST_MAC     "00:16:3e:00:00:01"

/* The frames of one case, built once: a template per flow. */
typedef struct BenchFrames {
    unsigned int size;              /* bytes of every frame */
    unsigned int nflows;
    uint8_t *to_peer[BENCH_MAX_FLOWS];  /* guest -> peer */
    uint8_t *to_self[BENCH_MAX_FLOWS];  /* guest -> guest (loopback NIC) */
    uint8_t *to_guest[BENCH_MAX_FLOWS]; /* peer -> guest */
} BenchFrames;

void bench_frames_init(BenchFrames *fr, unsigned int size,
                       unsigned int nflows);
void bench_frames_free(BenchFrames *fr);
/* Turn a frame around in place: MACs, IPv4 addresses and UDP ports. */
void bench_frame_reverse(uint8_t *f);

typedef struct BenchDev BenchDev;

/* One device under test, as the benchmark's guest sees it. */
typedef struct BenchDevOps {
    const char *name;
    /*
     * Start QEMU with @qemu_args (the netdev and the device, id "dev0")
     * and connect a guest with @vis queues.  NULL on failure.
     */
    BenchDev *(*open)(const char *qemu_args, unsigned int vis);
    /*
     * Publish up to @n frames: frame i is @tmpl[(@first + i) % @nflows],
     * on queue (@first + i) % @nflows % vis.  Kicks the backend when its
     * protocol asks for it.  Returns the frames published.
     */
    unsigned int (*tx)(BenchDev *d, uint8_t *const *tmpl,
                       unsigned int nflows, unsigned int len,
                       uint64_t first, unsigned int n);
    /* Take TX completions; returns how many were taken (progress). */
    unsigned int (*tx_reclaim)(BenchDev *d);
    /* Frames published and not yet completed by the backend. */
    bool (*tx_busy)(BenchDev *d);
    /*
     * Receive up to @budget frames, copying each one out as a guest
     * does; returns the frames received, or -1 when one had a length
     * other than @len.
     */
    int (*rx)(BenchDev *d, unsigned int budget, unsigned int len);
    /* Re-arm every notification as an idle guest does; true: more work */
    bool (*arm)(BenchDev *d);
    XenGuest *(*guest)(BenchDev *d);
    void (*close)(BenchDev *d);
    /* Optional: print the device's counters, when a case fails. */
    void (*dump)(BenchDev *d);
    /* Optional: the device's counter @name (a QOM property of "dev0"). */
    uint64_t (*stat)(BenchDev *d, const char *name);
} BenchDevOps;

extern const BenchDevOps bench_stock_ops;
extern const BenchDevOps bench_accel_ops;

typedef enum BenchWorkload {
    BENCH_TX,                   /* guest -> wire */
    BENCH_RX,                   /* wire -> guest */
    BENCH_BOTH,                 /* guest -> wire -> guest (echo, loopback) */
    BENCH_NR_WORKLOADS,
} BenchWorkload;

/*
 * The veth pair of an accel-xdp target (xna-bench-xdp.c): namespace A
 * (@ifname, QEMU) and B (@peer_ifname, the peer's packet socket), both
 * anonymous and the pair's own.
 */
typedef struct BenchXdp {
    const char *ifname;         /* "xq0": QEMU's end, in A */
    const char *peer_ifname;    /* "xp0": the peer's end, in B */
    int ns_root;                /* where the benchmark runs */
    int ns_a;
    int ns_b;
    unsigned int peer_ifindex;  /* @peer_ifname, in B */
} BenchXdp;

/*
 * Create the pair named in @x, @x->ifname with @queues receive queues;
 * false with @why set when this host cannot (not root, no namespaces,
 * no veth).
 */
bool bench_xdp_setup(BenchXdp *x, unsigned int queues, char **why);
void bench_xdp_free(BenchXdp *x);
/* Move the calling thread into A (QEMU inherits it) and back. */
void bench_xdp_enter(BenchXdp *x);
void bench_xdp_leave(BenchXdp *x);

/* A device under test, with its wire. */
typedef struct BenchTarget {
    const char *name;           /* "stock", "accel", "accel-loop", ... */
    const BenchDevOps *ops;
    bool loopback;              /* the loopback NIC: no peer */
    bool jumbo;                 /* takes 9000-byte frames */
    bool afxdp;                 /* nic=afxdp on a veth pair: not a -netdev */
    bool xdp_copy;              /* afxdp with zero-copy=off: no guest pool */
    BenchXdp xdp;               /* afxdp: the pair */
    bool skipped;               /* cannot run on this host (afxdp) */
    struct BenchPeer *peer;     /* NULL with the loopback NIC */
    BenchDev *dev;
} BenchTarget;

/* What one timed pass of a case measured. */
typedef struct BenchPhase {
    uint64_t packets;           /* frames through the device, both ways */
    uint64_t ns;
    uint64_t grant_ops;         /* maps + unmaps + copies */
    uint64_t kicks;             /* guest -> backend notifications */
    uint64_t irqs;              /* backend -> guest notifications */
    uint64_t lost;              /* frames the wire dropped */
} BenchPhase;

/* The timed passes of a case; median, min and max are over them. */
#define BENCH_MAX_REPS      64

/* Everything measured for one case on one target. */
typedef struct BenchResult {
    unsigned int vis;
    BenchWorkload wl;
    unsigned int size;
    unsigned int target;        /* index of the target; 0 is "stock" */
    BenchPhase ph[BENCH_MAX_REPS];
    unsigned int nreps;
    uint64_t cg_instr;          /* callgrind: backend instructions */
    uint64_t cg_packets;        /* ... over this many packets (0: none) */
} BenchResult;

extern const char *const bench_workload_names[BENCH_NR_WORKLOADS];

/*
 * Print the table and the goals on stdout, the same table as CSV to
 * @csv (xna-bench-report.c).  @results: BenchResult; @targets indexed
 * by BenchResult.target.
 */
void bench_report(GArray *results, const BenchTarget *targets, FILE *csv);

/* Give up on a pass when nothing moved for this long. */
extern uint64_t bench_stall_ns;
/* Frames the guest offers per kick decision (xmit_more), all VIs. */
extern uint32_t bench_tx_batch;

/*
 * Run @n frames of workload @wl through @t: @n frames sent by the guest
 * (TX), by the peer (RX), or sent and received back (BOTH).  Returns
 * false when a frame arrived with the wrong length or nothing moved for
 * bench_stall_ns with no frame lost on the wire.
 */
bool bench_run(BenchTarget *t, BenchWorkload wl, const BenchFrames *fr,
               uint64_t n, BenchPhase *ph);

/*
 * Callgrind: QEMU under valgrind counts only the backend's data path
 * (see xna-bench-cg.c); zero before a pass, dump after and read.
 */
char *bench_cg_qemu_binary(const char *qemu, const char *dir);
void bench_cg_zero(BenchTarget *t);
uint64_t bench_cg_dump(BenchTarget *t, const char *dir);

#endif /* TESTS_QTEST_XNA_BENCH_H */
