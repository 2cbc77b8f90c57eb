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

#ifndef HW_NET_XNA_NIC_SOFT_H
#define HW_NET_XNA_NIC_SOFT_H

#include "xna-nic.h"

#define TYPE_XNA_SOFT_NIC "xna-nic-soft"
OBJECT_DECLARE_SIMPLE_TYPE(XnaSoftNic, XNA_SOFT_NIC)

/*
 * XNA_SOFT_NIC() without the checked cast, for the per-frame paths of
 * the soft NICs' own methods (their object is one by construction).
 */
#define XNA_SOFT_NIC_FAST(nic) container_of(nic, XnaSoftNic, parent_obj)

/* Frames a receive queue holds before the NIC drops (or holds back). */
#define XNA_SOFT_NIC_QUEUE_LEN  1024
/*
 * Slots of a queue's ring: the frames queued, plus those the last
 * rx_burst handed out (at most XNA_SOFT_NIC_QUEUE_LEN), which stay valid
 * until the next rx_burst of the queue.
 */
#define XNA_SOFT_NIC_RING       (2 * XNA_SOFT_NIC_QUEUE_LEN)

/* A frame buffer of a receive queue, and how many bytes it holds. */
typedef struct XnaSoftBuf {
    uint8_t *data;
    uint32_t cap;
} XnaSoftBuf;

/*
 * A receive queue: a ring of frames whose buffers are allocated once and
 * reused, so that receiving a frame is one copy and no allocation.  A
 * frame released by the next rx_burst gives its buffer back to a stack
 * of spares, which the next received frame takes from the top: the
 * buffers in use are as many as the frames in flight, the most recently
 * used ones, not one per slot of the ring.  Indices run free; a slot is
 * index % XNA_SOFT_NIC_RING.
 */
typedef struct XnaSoftQueue {
    XnaFrame *slots;
    uint32_t *caps;          /* bytes allocated for each slot's data */
    XnaSoftBuf *spare;       /* XNA_SOFT_NIC_RING entries: a stack */
    uint32_t nr_spare;
    uint32_t tail;           /* first frame the last rx_burst handed out */
    uint32_t head;           /* next frame to hand out */
    uint32_t prod;           /* next free slot */
} XnaSoftQueue;

struct XnaSoftNic {
    XnaNic parent_obj;
    uint32_t max_vis;
    uint32_t max_filters;
    uint8_t mac[6];          /* the guest's: flow filters match only it */
    struct XnaFlowMap *filters; /* XnaFilterKey -> VI */
    uint32_t nr_mac_filters; /* of them XNA_FILTER_MAC ones */
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
/* The same, with xna_classify()'s result for @buf if the caller has it. */
bool xna_soft_nic_receive_classified(XnaSoftNic *s, const uint8_t *buf,
                                     size_t len, const XnaFlowInfo *given);
/* True when every receive queue has room for more frames. */
bool xna_soft_nic_can_receive(XnaSoftNic *s);

#endif /* HW_NET_XNA_NIC_SOFT_H */
