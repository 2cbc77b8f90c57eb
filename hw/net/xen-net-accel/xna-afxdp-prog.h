/*
 * xen-net-accel: the AF_XDP NIC's XDP program and its maps
 *
 * One program per host interface serves every guest accelerated on it,
 * each guest's QEMU in its own slot of the program's maps with its own
 * receive queues.  The first QEMU loads the program (the one it carries
 * in its skeleton, ebpf/xna-afxdp.bpf.skeleton.h, from
 * tools/ebpf/xna-afxdp.bpf.c) and attaches it; the next ones find it on
 * the interface and join it.  The attachment is a BPF link, of which
 * each of them holds a file descriptor: the kernel keeps the program
 * attached while one of them runs and detaches it with the last, also
 * when they are killed.  Nothing is pinned, nothing outlives them.
 *
 * Joining and leaving are serialized per interface by an abstract Unix
 * socket name (the kernel frees it when its holder dies), and a guest
 * holds its slot the same way: a slot whose name is free is stale, and
 * whoever takes it first replaces what the dead QEMU left in it (its
 * filter map and sample ring are per slot: replaced whole).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_XNA_AFXDP_PROG_H
#define HW_NET_XNA_AFXDP_PROG_H

#include "ebpf/xna-afxdp-bpf.h"

/* start_queue: the first range of free queues. */
#define XNA_AFXDP_QUEUE_AUTO    UINT32_MAX   /* = XNA_START_QUEUE_AUTO */

typedef struct XnaAfxdpProg XnaAfxdpProg;

typedef struct XnaAfxdpProgConfig {
    int ifindex;
    const char *ifname;
    const uint8_t *guest_mac;
    uint32_t start_queue;    /* or XNA_AFXDP_QUEUE_AUTO */
    uint32_t prefer_queue;   /* with AUTO: try these first (the last) */
    uint32_t nr_vis;
    uint32_t nr_queues;      /* the interface's receive queues */
    uint32_t max_filters;    /* the size of this guest's filter map */
} XnaAfxdpProgConfig;

/*
 * Attach the program or join the one attached, take a slot and the
 * queues; NULL with @errp set on failure.
 */
XnaAfxdpProg *xna_afxdp_prog_new(const XnaAfxdpProgConfig *cfg,
                                 Error **errp);
/*
 * Leave (under the interface's lock): our entries go; the program goes
 * with its last user.
 */
void xna_afxdp_prog_free(XnaAfxdpProg *p);

/*
 * The helper's side (xna-afxdp-helper.h): duplicates of what a
 * deprivileged QEMU may hold of our slot: its filter map, its sample
 * ring and a read-only descriptor of the counters, in that order.
 */
bool xna_afxdp_prog_export(XnaAfxdpProg *p, int fds[3], uint32_t *prog_id,
                           uint32_t *slot, Error **errp);
/*
 * The QEMU's side: a slot its helper holds, from those descriptors
 * (taken, also on failure).  Such a prog steers no socket itself
 * (xna_afxdp_prog_xsk_set() fails): the helper does, as it binds them.
 */
XnaAfxdpProg *xna_afxdp_prog_import(const XnaAfxdpProgConfig *cfg,
                                    uint32_t prog_id, uint32_t slot,
                                    uint32_t start_queue, const int fds[3],
                                    Error **errp);

/*
 * A packet socket that sends frames on @ifindex and receives none: bound
 * with protocol 0, and a drop-all filter locked on it, so that the
 * process holding it reads nothing even if it binds it again to every
 * protocol (tests/xen/priv-probe).  -1 on failure.
 */
int xna_afxdp_packet_socket(int ifindex, const char *ifname, Error **errp);

/* Receive queues of @ifname in this network namespace; -1 on failure. */
int xna_afxdp_rx_queues(const char *ifname, Error **errp);

/* The receive queue of VI 0 (VI n is on start + n). */
uint32_t xna_afxdp_prog_start_queue(XnaAfxdpProg *p);

/* 0 or a negative errno (-E2BIG when the map is full). */
int xna_afxdp_prog_filter_set(XnaAfxdpProg *p, const struct xna_bpf_key *key,
                              uint32_t vi);
int xna_afxdp_prog_filter_del(XnaAfxdpProg *p, const struct xna_bpf_key *key);

/* Forget every filter of our guest. */
void xna_afxdp_prog_filters_clear(XnaAfxdpProg *p);

/* Steer @vi's frames to the AF_XDP socket @fd, or stop doing so. */
int xna_afxdp_prog_xsk_set(XnaAfxdpProg *p, uint32_t vi, int fd);
void xna_afxdp_prog_xsk_del(XnaAfxdpProg *p, uint32_t vi);

/* The sample ring: a file descriptor to poll, and a call to drain it. */
typedef void (*XnaAfxdpSampleFn)(void *opaque, const void *data,
                                 size_t size);
int xna_afxdp_prog_samples_fd(XnaAfxdpProg *p);
void xna_afxdp_prog_samples_drain(XnaAfxdpProg *p, XnaAfxdpSampleFn fn,
                                  void *opaque);

/* The program's counters of our guest, summed over CPUs. */
void xna_afxdp_prog_stats(XnaAfxdpProg *p, uint64_t stats[XNA_BPF_STAT_MAX]);

#endif /* HW_NET_XNA_AFXDP_PROG_H */
