/*
 * xen-net-accel: the AF_XDP NIC's XDP program and its maps
 *
 * Loads the program that QEMU carries in its skeleton
 * (ebpf/xna-afxdp.bpf.skeleton.h, from tools/ebpf/xna-afxdp.bpf.c), sizes
 * its filter map to the NIC's table, attaches it to one interface and
 * owns it: freeing this detaches the program, and the maps go with their
 * last file descriptor.  The attachment is a BPF link, which belongs to
 * this process, so that a QEMU that dies leaves nothing attached.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_XNA_AFXDP_PROG_H
#define HW_NET_XNA_AFXDP_PROG_H

#include "ebpf/xna-afxdp-bpf.h"

typedef struct XnaAfxdpProg XnaAfxdpProg;

typedef struct XnaAfxdpProgConfig {
    int ifindex;
    const char *ifname;
    const uint8_t *guest_mac;
    uint32_t start_queue;
    uint32_t nr_vis;
    uint32_t max_filters;
} XnaAfxdpProgConfig;

/* Load, configure and attach; NULL with @errp set on failure. */
XnaAfxdpProg *xna_afxdp_prog_new(const XnaAfxdpProgConfig *cfg,
                                 Error **errp);
/* Detach and close everything. */
void xna_afxdp_prog_free(XnaAfxdpProg *p);

/* 0 or a negative errno (-E2BIG when the map is full). */
int xna_afxdp_prog_filter_set(XnaAfxdpProg *p, const struct xna_bpf_key *key,
                              uint32_t vi);
int xna_afxdp_prog_filter_del(XnaAfxdpProg *p, const struct xna_bpf_key *key);

/* Steer @vi's frames to the AF_XDP socket @fd, or stop doing so. */
int xna_afxdp_prog_xsk_set(XnaAfxdpProg *p, uint32_t vi, int fd);
void xna_afxdp_prog_xsk_del(XnaAfxdpProg *p, uint32_t vi);

/* The sample ring: a file descriptor to poll, and a call to drain it. */
typedef void (*XnaAfxdpSampleFn)(void *opaque, const void *data,
                                 size_t size);
int xna_afxdp_prog_samples_fd(XnaAfxdpProg *p);
void xna_afxdp_prog_samples_drain(XnaAfxdpProg *p, XnaAfxdpSampleFn fn,
                                  void *opaque);

/* The program's counters, summed over CPUs. */
void xna_afxdp_prog_stats(XnaAfxdpProg *p, uint64_t stats[XNA_BPF_STAT_MAX]);

#endif /* HW_NET_XNA_AFXDP_PROG_H */
