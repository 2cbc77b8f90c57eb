/*
 * xen-net-accel: the messages between a deprivileged AF_XDP NIC and its
 * helper (xna-afxdp-helper.h), and the helper's check of a request
 *
 * Plain C, no QEMU header: the check is also built into a fuzz target
 * (tests/fuzz/fuzz-afxdp-helper.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_XNA_AFXDP_HELPER_PROTO_H
#define HW_NET_XNA_AFXDP_HELPER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* What the helper's command line allows, and where it stands. */
typedef struct XnaAfxdpHelperPolicy {
    uint32_t max_vis;
    uint32_t max_filters;
    bool zero_copy;          /* --zero-copy */
    bool attached;           /* the slot is taken (kept from then on) */
    uint32_t nr_vis;         /* the slot's VIs, once attached */
} XnaAfxdpHelperPolicy;

/*
 * May the request @msg (@len bytes, with @nr_fds descriptors) be served
 * under @pol?  0, or a negative errno for the reply with *@why, a word
 * for its message.  Checks only what the bytes say: the descriptor's
 * kind and the interface's queues are the caller's to check.
 */
int xna_afxdp_helper_check(const XnaAfxdpHelperPolicy *pol, const void *msg,
                           size_t len, int nr_fds, const char **why);

#endif /* HW_NET_XNA_AFXDP_HELPER_PROTO_H */
