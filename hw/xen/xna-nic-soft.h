/*
 * xen-net-accel: software NIC base class
 *
 * What the netdev and loopback NICs share: a filter table with a
 * hardware-like size limit, classification of received frames to a VI
 * queue or the default queue, and bounded receive queues.  A subclass
 * provides transmit and feeds received frames to xna_soft_nic_receive().
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_XEN_XNA_NIC_SOFT_H
#define HW_XEN_XNA_NIC_SOFT_H

#include "xna-nic.h"

#define TYPE_XNA_SOFT_NIC "xna-nic-soft"
OBJECT_DECLARE_SIMPLE_TYPE(XnaSoftNic, XNA_SOFT_NIC)

/* Frames a receive queue holds before the NIC drops (or holds back). */
#define XNA_SOFT_NIC_QUEUE_LEN  1024

typedef struct XnaSoftQueue {
    GQueue frames;           /* XnaFrame *, data owned */
    XnaFrame **taken;        /* handed out by the last rx_burst */
    uint32_t nr_taken;
} XnaSoftQueue;

struct XnaSoftNic {
    XnaNic parent_obj;
    uint32_t max_vis;
    uint32_t max_filters;
    GHashTable *filters;     /* XnaFilterKey * -> VI + 1 */
    XnaSoftQueue *queues;    /* max_vis VI queues, then the default one */
    bool *vi_active;
    XnaNicStats stats;
    /*
     * Set by a subclass with a host path: takes the frames that match no
     * filter; the default queue then keeps copies (samples) while it has
     * room, and never holds the wire back.
     */
    void (*to_host)(XnaSoftNic *s, const uint8_t *buf, size_t len);
};

/* Open the shared part; subclasses call it from their open. */
void xna_soft_nic_open(XnaSoftNic *s, const XnaNicConfig *cfg);
/*
 * Classify and queue a received frame (copied).  Returns false, without
 * taking it, when its queue is full.
 */
bool xna_soft_nic_receive(XnaSoftNic *s, const uint8_t *buf, size_t len);
/* True when every receive queue has room for more frames. */
bool xna_soft_nic_can_receive(XnaSoftNic *s);

#endif /* HW_XEN_XNA_NIC_SOFT_H */
