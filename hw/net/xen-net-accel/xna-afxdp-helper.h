/*
 * xen-net-accel: the AF_XDP NIC's privileged helper, and its requests
 *
 * A QEMU that runs without capabilities (-run-with user=) cannot load or
 * join the XDP program, create BPF maps or open AF_XDP and packet
 * sockets; a VI's socket is made again over the guest's life (pool
 * attach and detach, reconnection), so these cannot be opened once
 * before the privilege drop.  A helper (contrib/xna-afxdp-helper), root,
 * one per device, started by the hotplug script with the interface,
 * MAC, VI count and filter quota on its command line, does them for it
 * over a SOCK_SEQPACKET socket pair: one request, one reply, descriptors
 * by SCM_RIGHTS.  The QEMU never holds a descriptor of the program, its
 * link or a map it could write for other guests: only its own guest's
 * filter map and sample ring, the counters map read only, and its
 * sockets, which the helper binds, to the guest's own queues.  The
 * helper keeps the guest's slot and queues until the QEMU has ended.
 * docs/security.md, "nic=afxdp without root".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_XNA_AFXDP_HELPER_H
#define HW_NET_XNA_AFXDP_HELPER_H

#include "xna-afxdp-prog.h"

#define XNA_AFXDP_HELPER_VERSION    1

typedef enum XnaAfxdpHelperOp {
    /* Load or join the program, take a slot and queues (or the same). */
    XNA_AFXDP_HELPER_ATTACH = 1,
    /* Steer no frame to the guest's sockets (the slot stays). */
    XNA_AFXDP_HELPER_DETACH,
    /* A new AF_XDP socket, unbound. */
    XNA_AFXDP_HELPER_XSK_SOCKET,
    /* Bind the socket sent to VI vi's queue, then steer vi's frames to it. */
    XNA_AFXDP_HELPER_XSK_BIND,
    /* Stop steering vi's frames to a socket. */
    XNA_AFXDP_HELPER_XSK_DEL,
    /* A packet socket that sends on the interface and receives nothing. */
    XNA_AFXDP_HELPER_PACKET_SOCKET,
    XNA_AFXDP_HELPER_OP_MAX
} XnaAfxdpHelperOp;

typedef struct XnaAfxdpHelperReq {
    uint32_t version;
    uint32_t op;
    uint32_t vi;             /* XSK_BIND, XSK_DEL */
    uint32_t flags;          /* XSK_BIND: XDP_COPY or XDP_ZEROCOPY */
    uint32_t nr_vis;         /* ATTACH: at most the helper's */
    uint32_t max_filters;    /* ATTACH: at most the helper's */
    uint32_t prefer_queue;   /* ATTACH: the queues it had, or AUTO */
} XnaAfxdpHelperReq;

/* ATTACH's descriptors, in this order. */
enum {
    XNA_AFXDP_HELPER_FD_FILTERS,
    XNA_AFXDP_HELPER_FD_RING,
    XNA_AFXDP_HELPER_FD_STATS,       /* read only */
    XNA_AFXDP_HELPER_ATTACH_FDS
};

typedef struct XnaAfxdpHelperRep {
    int32_t err;             /* 0 or a negative errno */
    uint32_t prog_id;        /* ATTACH */
    uint32_t slot;
    uint32_t start_queue;
    char msg[200];           /* with err: what failed, NUL-terminated */
} XnaAfxdpHelperRep;

typedef struct XnaAfxdpHelper XnaAfxdpHelper;

/* Takes @fd, the QEMU's end of the pair. */
XnaAfxdpHelper *xna_afxdp_helper_new(int fd, Error **errp);
void xna_afxdp_helper_free(XnaAfxdpHelper *h);

/* The program's slot of our guest, as xna_afxdp_prog_new(). */
XnaAfxdpProg *xna_afxdp_helper_attach(XnaAfxdpHelper *h,
                                      const XnaAfxdpProgConfig *cfg,
                                      Error **errp);
/* Closes @p's descriptors, then has the helper leave. */
void xna_afxdp_helper_detach(XnaAfxdpHelper *h, XnaAfxdpProg *p);

int xna_afxdp_helper_xsk_socket(XnaAfxdpHelper *h, Error **errp);
/* 0 or a negative errno (-EBUSY: the queue has a socket). */
int xna_afxdp_helper_xsk_bind(XnaAfxdpHelper *h, int fd, uint32_t vi,
                              uint16_t flags, Error **errp);
void xna_afxdp_helper_xsk_del(XnaAfxdpHelper *h, uint32_t vi);
int xna_afxdp_helper_packet_socket(XnaAfxdpHelper *h, Error **errp);

/*
 * The helper's side: send a reply with @nr_fds descriptors; receive a
 * request with at most one.  Both return 0 or a negative errno; receive
 * returns -EPIPE when the QEMU is gone and -EBADMSG for a request of the
 * wrong size (its descriptor, if any, closed).
 */
int xna_afxdp_helper_send(int sock, const void *msg, size_t len,
                          const int *fds, int nr_fds);
int xna_afxdp_helper_recv(int sock, void *msg, size_t len, int *fds,
                          int max_fds, int *nr_fds);

#endif /* HW_NET_XNA_AFXDP_HELPER_H */
