/*
 * xen-net-accel: a VI's receive path
 *
 * The NIC's frames are copied into buffers the guest posted (or, with
 * the pool, placed there by the NIC: xna-vi-pool.c).  A frame that does
 * not fit yet waits in the VI (one per VI) until the guest posts more, so
 * nothing is lost while the VI is up; one that would need more than
 * XNA_MAX_FRAGS buffers is dropped and counted.  Each call moves a
 * bounded number of bursts, so that a flood does not hold the main loop.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "xna-vi-internal.h"
#include "xna-classify.h"
#include "xna-ring.h"

#define XNA_RX_BURST            32
#define XNA_RX_MAX_ROUNDS       4   /* bursts per queue per call */

static void rx_count(XnaVi *vi, uint32_t len, uint16_t flags)
{
    if (flags & XNA_DESC_SLOW_PATH) {
        vi->stats.rx_slow_packets++;
        vi->stats.rx_slow_bytes += len;
    } else {
        vi->stats.rx_packets++;
        vi->stats.rx_bytes += len;
    }
}

/*
 * Copy @frame into the @posted buffers from rx_cons on.  Returns
 * XNA_WIRE_OK when it was placed, XNA_WIRE_NO_ROOM when it must wait for
 * more buffers (nothing written), XNA_WIRE_TOO_LONG when it never fits
 * (the guest's buffers are too small for it: dropped and counted), and
 * XNA_WIRE_BAD_DESC when the VI was stopped.
 */
static XnaWireStatus rx_place(XnaVi *vi, const XnaFrame *frame,
                              uint32_t posted, uint16_t flags)
{
    XnaWireRing ring = xna_vi_rx_ring(vi);
    XnaWirePool pool = xna_vi_wire_pool(vi);
    uint32_t next, bad;
    XnaWireStatus st;

    st = xna_wire_rx_place(&ring, &pool, vi->rx_cons, posted, frame->data,
                           frame->len, flags, &next, &bad);
    switch (st) {
    case XNA_WIRE_OK:
        vi->rx_cons = next;
        rx_count(vi, frame->len, flags);
        break;
    case XNA_WIRE_TOO_LONG:
        vi->stats.drop_rx_small_buffers++;
        break;
    case XNA_WIRE_NO_ROOM:
        break;
    default:
        xna_vi_error(vi, XNA_ERR_BAD_DESC, "bad RX descriptor", bad);
        st = XNA_WIRE_BAD_DESC;
        break;
    }
    return st;
}

static void rx_publish(XnaVi *vi, uint32_t old_cons)
{
    if (vi->rx_cons == old_cons) {
        return;
    }
    /* Data and descriptors are written before the index moves. */
    if (xna_ring_publish(&vi->shared->rx_cons, &vi->shared->rx_cons_event,
                         vi->rx_cons, old_cons)) {
        xna_vi_notify(vi);
    }
}

static uint16_t rx_csum_flags(const XnaFrame *frame)
{
    bool ok;

    if (frame->flags & XNA_FRAME_CSUM_VALID) {
        ok = true;
    } else if (frame->flags & XNA_FRAME_PARSED) {
        ok = xna_csum_verify_at(frame->data, frame->len, frame->l3_offset,
                                frame->l4_offset, frame->l4_proto,
                                frame->ipv6);
    } else {
        ok = xna_csum_verify(frame->data, frame->len);
    }
    return ok ? XNA_DESC_CSUM_VALID : 0;
}

/*
 * Frames are taken from the NIC only as many as surely fit in the posted
 * buffers (a frame uses at most XNA_MAX_FRAGS of them: xna_wire_rx_place
 * drops one that would need more), and at least one.  One that does not
 * fit waits in the VI's held frame until the guest posts more buffers:
 * receive loses nothing while the VI is up.
 */
static uint32_t rx_burst_size(int64_t posted)
{
    return MAX(1, MIN(XNA_RX_BURST, posted / XNA_MAX_FRAGS));
}

/* Keep @frame until the guest posts more than the @posted buffers. */
static void rx_hold(XnaVi *vi, const XnaFrame *frame, uint16_t flags,
                    uint32_t posted)
{
    /* rx_from_queue() bounded the length; the copy must stay in held[]. */
    if (frame->len > sizeof(vi->held)) {
        vi->stats.drop_rx_bad_len++;
        return;
    }
    memcpy(vi->held, frame->data, frame->len);
    vi->held_len = frame->len;
    vi->held_flags = flags;
    vi->held_posted = posted;
}

void xna_vi_rx_drop_held(XnaVi *vi)
{
    if (vi->held_len) {
        vi->stats.drop_rx_no_buffer++;   /* it waited for buffers in vain */
        vi->held_len = 0;
    }
}

/* Place the held frame; false while it still does not fit. */
static bool rx_place_held(XnaVi *vi)
{
    XnaFrame frame = { .data = vi->held, .len = vi->held_len };
    int64_t posted;

    if (!vi->held_len) {
        return true;
    }
    posted = xna_vi_rx_posted(vi);
    if (posted <= vi->held_posted) {
        return false;        /* no new buffer since it did not fit */
    }
    switch (rx_place(vi, &frame, posted, vi->held_flags)) {
    case XNA_WIRE_NO_ROOM:
        vi->held_posted = posted;
        return false;
    case XNA_WIRE_BAD_DESC:
        return false;        /* the VI stopped (and dropped it) */
    default:
        vi->held_len = 0;    /* placed, or dropped as too long */
        return true;
    }
}

/* Deliver @frame or hold it; false when it is held (stop for now). */
static bool rx_deliver(XnaVi *vi, const XnaFrame *frame, uint32_t room,
                       uint16_t flags)
{
    switch (rx_place(vi, frame, room, flags)) {
    case XNA_WIRE_NO_ROOM:
        rx_hold(vi, frame, flags, room);
        return false;
    case XNA_WIRE_BAD_DESC:
        return false;
    default:
        return true;
    }
}

/*
 * Frames from the NIC are bounded where they enter the VI, whatever the
 * NIC (a -netdev peer may send anything its MTU allows).
 */
static bool rx_len_ok(XnaVi *vi, const XnaFrame *frame)
{
    if (frame->len >= XNA_MIN_FRAME_LEN && frame->len <= XNA_MAX_FRAME_LEN) {
        return true;
    }
    vi->stats.drop_rx_bad_len++;
    return false;
}

typedef enum RxResult {
    RX_DRAINED,              /* the NIC's queue is empty */
    RX_STARVED,              /* waiting for the guest's buffers */
    RX_BUDGET,               /* stopped with frames left: come back */
} RxResult;

/*
 * Move the frames of NIC queue @queue (the VI's own, or with @accept the
 * default queue) into the VI's posted buffers, at most XNA_RX_MAX_ROUNDS
 * bursts per call.
 */
static RxResult rx_from_queue(XnaVi *vi, uint32_t queue,
                              XnaViSlowAccept accept, void *opaque)
{
    XnaFrame frames[XNA_RX_BURST];
    uint32_t n, i, rounds;

    for (rounds = 0; vi->up; rounds++) {
        uint32_t batch_start = vi->rx_cons;
        int64_t posted;

        if (!rx_place_held(vi)) {
            return RX_STARVED;
        }
        posted = xna_vi_rx_posted(vi);
        if (posted <= 0) {
            return RX_STARVED;
        }
        if (rounds == XNA_RX_MAX_ROUNDS) {
            return RX_BUDGET;
        }
        n = xna_nic_rx_burst(vi->owner.nic, queue, frames,
                             rx_burst_size(posted));
        if (n == 0) {
            return RX_DRAINED;
        }
        for (i = 0; i < n && vi->up; i++) {
            uint32_t room = posted - (vi->rx_cons - batch_start);
            uint16_t flags;

            if (!rx_len_ok(vi, &frames[i])) {
                continue;
            }
            /* Checksums are verified only for what the guest gets. */
            flags = 0;
            if (accept) {
                if (!accept(opaque, &frames[i])) {
                    continue;
                }
                flags = XNA_DESC_SLOW_PATH;
            } else if (vi->rx_learning) {
                vi->owner.learn_rx(vi->owner.opaque, &frames[i]);
            }
            flags |= rx_csum_flags(&frames[i]);
            if (!rx_deliver(vi, &frames[i], room, flags)) {
                break;
            }
        }
        /*
         * rx_burst_size() leaves only the last frame to wait; should the
         * rest of a burst find no room all the same, it is dropped and
         * counted rather than kept (one held frame per VI).
         */
        if (i + 1 < n) {
            vi->stats.drop_rx_no_buffer += n - i - 1;
        }
    }
    return RX_DRAINED;
}

/*
 * Ask for a kick when the guest posts more buffers, then look again: the
 * guest may have posted just before it saw the new event index.  With a
 * frame held, the buffers posted so far are too few for it: ask for a
 * kick at the next post beyond them, and call it progress only when
 * there is one (else the bottom half would spin on a frame that waits).
 */
static bool rx_ask_for_buffers(XnaVi *vi)
{
    uint32_t want = vi->rx_cons + (vi->held_len ? vi->held_posted : 0);
    int64_t posted;

    xna_ring_set_event(&vi->shared->rx_prod_event, want,
                       &vi->shared->rx_prod);
    posted = xna_vi_rx_posted(vi);
    return posted > (vi->held_len ? vi->held_posted : 0);
}

unsigned int xna_vi_process_rx(XnaVi *vi, XnaViSlowAccept slow_accept,
                               void *opaque)
{
    uint32_t old_cons = vi->rx_cons;
    unsigned int ret = 0;
    bool starved = false;
    RxResult r;

    if (vi->pool_rx && xna_vi_pool_rx(vi)) {
        ret |= XNA_VI_RX_AGAIN;
    }
    /* Not "else": the pool may have fallen back to copying. */
    if (vi->up && !vi->pool_rx) {
        r = rx_from_queue(vi, vi->index, NULL, NULL);
        starved = r == RX_STARVED;
        ret |= r == RX_BUDGET ? XNA_VI_RX_YIELDED : 0;
    }
    /* Never into the buffers while the NIC receives into them. */
    if (slow_accept && vi->up && !vi->pool_rx) {
        r = rx_from_queue(vi, XNA_NIC_DEFAULT_QUEUE, slow_accept, opaque);
        starved |= r == RX_STARVED;
        ret |= r == RX_BUDGET ? XNA_VI_RX_YIELDED : 0;
    }
    if (ret & XNA_VI_RX_YIELDED) {
        ret |= XNA_VI_RX_AGAIN;
    }
    if (vi->up) {
        rx_publish(vi, old_cons);
        if (vi->pool_rx ? xna_vi_pool_ask_for_buffers(vi) :
            rx_ask_for_buffers(vi) && starved) {
            ret |= XNA_VI_RX_AGAIN;
        }
    }
    return ret;
}
