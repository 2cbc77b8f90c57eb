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
#include "xna-afxdp-helper-proto.h"

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
