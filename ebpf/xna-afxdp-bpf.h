/*
 * xen-net-accel: what the AF_XDP NIC's XDP program and QEMU share
 *
 * Included by the XDP program (xna-afxdp.bpf.c, built with clang -target
 * bpf) and by the NIC (xna-afxdp-prog.c), so that both see one layout of
 * the maps' keys and values.  Plain kernel types only.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_XEN_XNA_AFXDP_BPF_H
#define HW_XEN_XNA_AFXDP_BPF_H

#include <linux/types.h>

/* Map names, as QEMU finds them in the object (at most 15 characters). */
#define XNA_BPF_MAP_FILTERS     "xna_filters"
#define XNA_BPF_MAP_XSKS        "xna_xsks"
#define XNA_BPF_MAP_SAMPLES     "xna_samples"
#define XNA_BPF_MAP_CONFIG      "xna_config"
#define XNA_BPF_MAP_STATS       "xna_stats"
#define XNA_BPF_PROG            "xna_xdp"

/* Largest sockets map: one socket per VI (XNA_MAX_VIS). */
#define XNA_BPF_MAX_XSKS        16

/* Frames up to this length are sampled whole; longer ones are not. */
#define XNA_BPF_SAMPLE_MAX      2040

/* Sample ring size in bytes (a power of two, multiple of the page). */
#define XNA_BPF_SAMPLE_RING     (512 * 1024)

/* Filter kinds: the protocol's XNA_FILTER_* values. */
#define XNA_BPF_FILTER_MAC      1
#define XNA_BPF_FILTER_IPV4_TCP 2
#define XNA_BPF_FILTER_IPV4_UDP 3
#define XNA_BPF_FILTER_IPV6_TCP 4
#define XNA_BPF_FILTER_IPV6_UDP 5

/*
 * Key of the filters map: the same bytes as XnaFilterKey (checked at
 * build time on the QEMU side), so a filter goes in without conversion.
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

/* The single entry of the config map, written before attach. */
struct xna_bpf_config {
    __u8 guest_mac[6];       /* only frames to it are sampled */
    __u16 pad;
    __u32 start_queue;       /* VI n is on receive queue start_queue + n */
    __u32 nr_vis;
};

/* Counters, one array of them per CPU. */
enum {
    XNA_BPF_STAT_REDIRECTED,     /* matched, sent to the VI's socket */
    XNA_BPF_STAT_PASSED,         /* matched nothing: to the kernel */
    XNA_BPF_STAT_SAMPLED,        /* and a copy went to the backend */
    XNA_BPF_STAT_SAMPLE_LOST,    /* the sample ring was full */
    XNA_BPF_STAT_OTHER_QUEUE,    /* matched, came on another VI's queue */
    XNA_BPF_STAT_NO_VI_QUEUE,    /* matched, but on a queue with no VI */
    XNA_BPF_STAT_MAX
};

/* A sample in the ring: the frame as received. */
struct xna_bpf_sample {
    __u32 len;
    __u32 queue;
    __u8 data[XNA_BPF_SAMPLE_MAX];
};

#endif /* HW_XEN_XNA_AFXDP_BPF_H */
