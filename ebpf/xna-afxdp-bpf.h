/*
 * xen-net-accel: what the AF_XDP NIC's XDP program and QEMU share
 *
 * Included by the XDP program (xna-afxdp.bpf.c, built with clang -target
 * bpf) and by the NIC (xna-afxdp-prog.c), so that both see one layout of
 * the maps' keys and values.  Plain kernel types only.
 *
 * One program serves every guest accelerated on a host interface: each
 * guest's QEMU takes a slot (its entry in the per-guest maps: its own
 * filter map, sample ring, sockets and counters) and its own receive
 * queues, and the program finds a frame's guest by its destination MAC.
 * A frame can only reach what its guest's own QEMU put in that guest's
 * slot.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_XEN_XNA_AFXDP_BPF_H
#define HW_XEN_XNA_AFXDP_BPF_H

#include <linux/types.h>

/*
 * Map names, as QEMU finds them in the object (at most 15 characters).
 * A QEMU joins a program attached by another only if each map has the
 * type and sizes it expects: the guests map's name carries the layout's
 * version, for a change of meaning the sizes do not show.
 */
#define XNA_BPF_MAP_GUESTS      "xna_guests_v3"
#define XNA_BPF_MAP_FILTERS     "xna_filters"
#define XNA_BPF_MAP_XSKS        "xna_xsks"
#define XNA_BPF_MAP_SAMPLES     "xna_samples"
#define XNA_BPF_MAP_STATS       "xna_stats"
#define XNA_BPF_PROG            "xna_xdp"

/* Guests (QEMUs) sharing one interface's program. */
#define XNA_BPF_MAX_GUESTS      64

/* Queues 0 to this - 1 of the interface can carry VIs. */
#define XNA_BPF_MAX_QUEUES      256

/* VIs of a guest: the sockets map has this many entries per slot. */
#define XNA_BPF_MAX_VIS         16

/* Frames up to this length are sampled whole; longer ones are not. */
#define XNA_BPF_SAMPLE_MAX      2040

/*
 * A guest's sample ring size in bytes (a power of two, multiple of the
 * page).
 */
#define XNA_BPF_SAMPLE_RING     (512 * 1024)

/* Filter kinds: the protocol's XNA_FILTER_* values. */
#define XNA_BPF_FILTER_MAC      1
#define XNA_BPF_FILTER_IPV4_TCP 2
#define XNA_BPF_FILTER_IPV4_UDP 3
#define XNA_BPF_FILTER_IPV6_TCP 4
#define XNA_BPF_FILTER_IPV6_UDP 5

/*
 * Key of a guest's filter map: the bytes of XnaFilterKey (checked at
 * build time on the QEMU side).
 */
struct xna_bpf_key {
    __u8 kind;
    __u8 reserved;
    __u16 dst_port;          /* network order; 0 for a MAC filter */
    __u8 dst_addr[16];
};

/* Value of the filters map: the VI the filter steers to. */
struct xna_bpf_filter {
    __u32 vi;
};

/* Key of the guests map: a guest's MAC. */
struct xna_bpf_mac {
    __u8 addr[6];
    __u16 pad;
};

/* Value of the guests map. */
struct xna_bpf_guest {
    __u32 slot;              /* < XNA_BPF_MAX_GUESTS */
    __u32 start_queue;       /* VI n is on receive queue start_queue + n */
    __u32 nr_vis;
    __u32 pad;
};

/*
 * Counters, one array of them per CPU: XNA_BPF_STAT_MAX of them per
 * slot, slot by slot; then one row for frames to no guest.
 */
enum {
    XNA_BPF_STAT_REDIRECTED,     /* matched, sent to the VI's socket */
    XNA_BPF_STAT_PASSED,         /* matched nothing: to the kernel */
    XNA_BPF_STAT_SAMPLED,        /* and a copy went to the backend */
    XNA_BPF_STAT_SAMPLE_LOST,    /* the sample ring was full (or none) */
    XNA_BPF_STAT_OTHER_QUEUE,    /* matched, came on another VI's queue */
    XNA_BPF_STAT_NO_VI_QUEUE,    /* matched, not on a queue of the guest */
    XNA_BPF_STAT_MAX
};
#define XNA_BPF_STATS_ROWS      (XNA_BPF_MAX_GUESTS + 1)

/* A sample in the ring: the frame as received. */
struct xna_bpf_sample {
    __u32 len;
    __u32 queue;
    __u8 data[XNA_BPF_SAMPLE_MAX];
};

#endif /* HW_XEN_XNA_AFXDP_BPF_H */
