/*
 * xen-net-accel: a VI's state, private to the VI's own files
 *
 * xna-vi.c       life cycle, reset rate limit, transmit
 * xna-vi-rx.c    receive by copying into the guest's buffers
 * xna-vi-pool.c  receive straight into them (the NIC writes the pool)
 *
 * Nothing else includes this: the device sees a VI through xna-vi.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_XNA_VI_INTERNAL_H
#define HW_NET_XNA_VI_INTERNAL_H

#include "xna-vi.h"
#include "xna-wire.h"

#define XNA_TX_LEARNED_PER_BURST    8
/*
 * Frames gathered before the NIC is called: one tx_burst (for AF_XDP one
 * sendto) per batch rather than per frame, each frame in its own buffer.
 */
#define XNA_TX_BATCH                16

struct XnaVi {
    uint32_t index;
    XnaViOwner owner;

    bool started;                /* mapped and bound (xna_vi_start) */
    bool allocated;              /* in the NIC */
    bool up;                     /* processing traffic */
    bool halted;                 /* the owner fails: stay down */
    bool rx_learning;

    /* What the guest granted, mapped at start. */
    uint32_t shared_ref;
    struct xna_vi_shared *shared;
    uint32_t tx_refs[XNA_MAX_RING_PAGES];
    uint32_t rx_refs[XNA_MAX_RING_PAGES];
    struct xna_desc *tx_pages[XNA_MAX_RING_PAGES];
    struct xna_desc *rx_pages[XNA_MAX_RING_PAGES];
    uint32_t tx_entries;
    uint32_t rx_entries;
    XenEventChannel *evtchn;
    XnaViPool pool;

    /* Our copies of the indices; the shared page is only written. */
    uint32_t tx_cons;
    uint32_t rx_cons;
    bool tx_blocked;             /* the NIC refused frames: wait */
    /* Flows learned from TX in this call of xna_vi_process_tx(). */
    XnaFilterKey tx_learned[XNA_TX_LEARNED_PER_BURST];
    uint32_t tx_learned_nr;
    uint32_t tx_learned_next;    /* slot to replace when all are used */
    /* TX frames gathered out of the pool, for one call of tx_burst. */
    uint8_t tx_bufs[XNA_TX_BATCH][XNA_MAX_FRAME_LEN];

    /*
     * Receiving into the guest's pool (xna-vi-pool.c): the buffers of
     * slots rx_cons..rx_given-1 are with the NIC, rx_bufs[] their pool
     * offsets by slot.
     */
    bool pool_rx;
    uint32_t rx_given;
    uint64_t *rx_bufs;

    /* A received frame waiting for the guest to post enough buffers. */
    uint8_t held[XNA_MAX_FRAME_LEN];
    uint32_t held_len;
    uint16_t held_flags;
    uint32_t held_posted;        /* buffers posted when it did not fit */

    /* VI_RESET rate limit: a token bucket, and a reset that waits. */
    uint32_t reset_tokens;
    int64_t reset_refill_ns;     /* when the bucket last gained a token */
    bool reset_pending;
    QEMUTimer *reset_timer;

    XnaViStats stats;
};

static inline XnaWireRing xna_vi_tx_ring(XnaVi *vi)
{
    return (XnaWireRing) { .pages = vi->tx_pages, .entries = vi->tx_entries };
}

static inline XnaWireRing xna_vi_rx_ring(XnaVi *vi)
{
    return (XnaWireRing) { .pages = vi->rx_pages, .entries = vi->rx_entries };
}

static inline XnaWirePool xna_vi_wire_pool(XnaVi *vi)
{
    return (XnaWirePool) { .pages = vi->pool.pages,
                           .count = vi->pool.count };
}

/* xna-vi.c */
void xna_vi_notify(XnaVi *vi);
void xna_vi_error(XnaVi *vi, uint32_t reason, const char *what,
                  uint32_t idx);
int64_t xna_vi_rx_posted(XnaVi *vi);

/* xna-vi-rx.c */
void xna_vi_rx_drop_held(XnaVi *vi);

/* xna-vi-pool.c */
bool xna_vi_pool_start(XnaVi *vi);
void xna_vi_pool_stop(XnaVi *vi);
bool xna_vi_pool_rx(XnaVi *vi);
bool xna_vi_pool_ask_for_buffers(XnaVi *vi);

#endif /* HW_NET_XNA_VI_INTERNAL_H */
