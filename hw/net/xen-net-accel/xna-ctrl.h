/*
 * xen-net-accel: the control channel's transport
 *
 * Two FIFOs of fixed-size messages in one granted page, and an event
 * channel.  The transport moves messages and nothing else: it copies each
 * guest message out of the page once and hands it to its owner (which
 * decodes and acts on it); the owner's messages wait in a bounded backlog
 * while the guest's FIFO is full.  It knows no message type.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_XNA_CTRL_H
#define HW_NET_XNA_CTRL_H

#include "hw/xen/xen-bus.h"
#include "hw/net/xen-net-accel-protocol.h"

typedef struct XnaCtrl XnaCtrl;

typedef struct XnaCtrlStats {
    uint64_t msgs_in;
    uint64_t msgs_out;
} XnaCtrlStats;

typedef struct XnaCtrlOps {
    /*
     * A message from the guest, copied out of the page (the guest cannot
     * change it any more).  Return false to stop reading: the owner
     * failed the device.
     */
    bool (*receive)(void *opaque, const struct xna_msg *msg);
    /*
     * The guest broke the transport (an index out of range, a FIFO it
     * does not drain): the owner fails the device.  Called at most once
     * per call into the transport; the transport then reads and sends
     * nothing until xna_ctrl_send_final().
     */
    void (*error)(void *opaque, uint32_t code, const char *msg);
} XnaCtrlOps;

/*
 * Map the control page @ref of @xendev's frontend and bind its event
 * channel @port.  @stats stays the owner's (it outlives the channel).
 * Reads nothing yet: see xna_ctrl_poll().
 */
XnaCtrl *xna_ctrl_open(XenDevice *xendev, uint32_t ref, uint32_t port,
                       const XnaCtrlOps *ops, void *opaque,
                       XnaCtrlStats *stats, Error **errp);
/* Unbind, unmap and drop the backlog.  @c may be NULL. */
void xna_ctrl_close(XnaCtrl *c);
/* Read what the guest has sent (it may have done so before the bind). */
void xna_ctrl_poll(XnaCtrl *c);
/* Queue @msg for the guest, in order; its id is the transport's. */
void xna_ctrl_send(XnaCtrl *c, const struct xna_msg *msg);
/* Read and send no more: the owner is failing the device. */
void xna_ctrl_stop(XnaCtrl *c);
/* Drop the backlog and send @msg alone, even after xna_ctrl_stop(). */
void xna_ctrl_send_final(XnaCtrl *c, const struct xna_msg *msg);

#endif /* HW_NET_XNA_CTRL_H */
