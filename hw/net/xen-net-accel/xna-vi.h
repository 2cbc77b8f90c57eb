/*
 * xen-net-accel: a VI, the data plane of one queue pair
 *
 * A VI owns what the guest granted for it (the shared page, the TX and
 * RX rings) and its event channel, and moves frames between those rings
 * and its queue of the NIC: TX frames are copied once out of the guest's
 * pool, checked against dom0's policy and sent; received frames are
 * copied into buffers the guest posted, or placed there by the NIC
 * (receive into the pool).  It knows nothing of xenstore, the control
 * channel or the filters: what it learns and when it goes up or down, it
 * tells its owner through XnaViOwner.  As xen-block's data plane, the
 * dependency goes one way: the device uses the VI, never the reverse.
 *
 * Life cycle: xna_vi_new() at realize; xna_vi_start() at connect (maps
 * and binds; the VI is down); xna_vi_up() on HELLO and after a reset;
 * xna_vi_down() on a guest error; xna_vi_stop() at disconnect.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_XNA_VI_H
#define HW_NET_XNA_VI_H

#include "hw/xen/xen-bus.h"
#include "hw/net/xen-net-accel-protocol.h"
#include "xna-filter-table.h"
#include "xna-nic.h"
#include "xna-tx-policy.h"

typedef struct XnaVi XnaVi;

/* Counters, also readable as QOM properties "vi<N>-<name>". */
typedef struct XnaViStats {
    uint64_t tx_packets;         /* fast path: guest VI -> NIC */
    uint64_t tx_bytes;
    uint64_t rx_packets;         /* fast path: filter matched */
    uint64_t rx_bytes;
    uint64_t rx_slow_packets;    /* delivered with XNA_DESC_SLOW_PATH */
    uint64_t rx_slow_bytes;
    uint64_t drop_rx_no_buffer;  /* frame waiting for buffers when VI stopped */
    uint64_t drop_rx_small_buffers; /* frame needs > XNA_MAX_FRAGS buffers */
    uint64_t drop_rx_bad_len;    /* NIC frame shorter/longer than allowed */
    uint64_t drop_tx_policy;     /* frame dom0's policy refuses */
    uint64_t tx_nic_full;        /* the NIC took part of a batch: wait */
    uint64_t resets;             /* VI_RESETs carried out */
    uint64_t resets_deferred;    /* ...of which waited for the rate limit */
    uint64_t rx_pool_packets;    /* placed in guest buffers by the NIC */
    uint64_t pool_fallbacks;     /* receive went back to copying */
    uint64_t rx_pool_buffers;    /* guest buffers the NIC holds now */
    uint64_t guest_errors;       /* ring/descriptor errors: VI stopped */
    uint64_t kicks;              /* events from the guest */
    uint64_t notifies;           /* events to the guest */
} XnaViStats;

/* What a VI calls back into its owner (the device), in the main loop. */
typedef struct XnaViOwner {
    void *opaque;
    XenDevice *xendev;           /* grants, event channels, messages */
    XnaNic *nic;
    const XnaTxPolicy *tx_policy;
    /* The VI is up: what must precede VI_UP, then VI_UP. */
    void (*up)(void *opaque, uint32_t vi);
    /* It went down (@reason XNA_ERR_*; 0 for a reset): VI_DOWN. */
    void (*down)(void *opaque, uint32_t vi, uint32_t reason);
    /* A frame it sent (TX) or received with learning on (RX). */
    void (*learn_tx)(void *opaque, uint32_t vi, const XnaFilterKey *flow);
    void (*learn_rx)(void *opaque, const XnaFrame *frame);
    /* Receive work is wanted (a kick, the VI came up): schedule it. */
    void (*rx_wanted)(void *opaque);
    /* Transmit work is left (round limit): schedule it. */
    void (*tx_wanted)(void *opaque);
} XnaViOwner;

/* What the guest granted for one VI, read from its xenstore keys. */
typedef struct XnaViRings {
    uint32_t shared_ref;
    uint32_t tx_refs[XNA_MAX_RING_PAGES];
    uint32_t rx_refs[XNA_MAX_RING_PAGES];
    uint32_t tx_entries;         /* powers of two, checked by the owner */
    uint32_t rx_entries;
    uint32_t port;               /* the guest's event channel */
} XnaViRings;

/* The guest's buffer pool, mapped once by the owner for all its VIs. */
typedef struct XnaViPool {
    uint8_t *const *pages;       /* host address of each page */
    uint32_t count;
    /* The NIC may receive into it: base is the pages as one mapping. */
    bool nic_rx;
    uint8_t *base;
} XnaViPool;

XnaVi *xna_vi_new(uint32_t index, const XnaViOwner *owner);
void xna_vi_free(XnaVi *vi);
XnaViStats *xna_vi_stats(XnaVi *vi);

/*
 * Map @rings, bind the event channel and take the VI's queue of the NIC;
 * the VI is down until xna_vi_up().  @pool must stay mapped until
 * xna_vi_stop().  False with @errp leaves the VI stopped.
 */
bool xna_vi_start(XnaVi *vi, const XnaViRings *rings, const XnaViPool *pool,
                  Error **errp);
/* Undo xna_vi_start(): nothing of the guest's is used after it. */
void xna_vi_stop(XnaVi *vi);

/* Protocol state: VI_UP / VI_DOWN, through the owner. */
void xna_vi_up(XnaVi *vi);
void xna_vi_down(XnaVi *vi, uint32_t reason);
/* A guest's VI_RESET, rate-limited (it may be carried out later). */
void xna_vi_reset(XnaVi *vi);
/*
 * The owner fails: the VI stops moving frames, says nothing, and stays
 * down until it is stopped.
 */
void xna_vi_halt(XnaVi *vi);
bool xna_vi_is_up(XnaVi *vi);
/* Offer received frames to the owner's learn_rx (mac-filter on VI 0). */
void xna_vi_set_rx_learning(XnaVi *vi, bool on);

/* Transmit: move what the guest published, within a round limit. */
bool xna_vi_process_tx(XnaVi *vi);
/* The NIC has room again: a VI it refused goes on. */
void xna_vi_tx_resume(XnaVi *vi);

/*
 * The slow path into VI 0: @accept keeps a frame of the NIC's default
 * queue for the guest (the VI flags it XNA_DESC_SLOW_PATH), or refuses
 * it.
 */
typedef bool (*XnaViSlowAccept)(void *opaque, const XnaFrame *frame);

#define XNA_VI_RX_AGAIN     (1u << 0)   /* come back from a bottom half */
#define XNA_VI_RX_YIELDED   (1u << 1)   /* ...because a round limit hit */

/*
 * Receive: move what the VI's NIC queue holds (and, with @slow_accept,
 * the default queue) into the guest's buffers, within a round limit;
 * publish and ask for a kick when buffers run out.  XNA_VI_RX_* bits.
 */
unsigned int xna_vi_process_rx(XnaVi *vi, XnaViSlowAccept slow_accept,
                               void *opaque);

#endif /* HW_NET_XNA_VI_H */
