/*
 * xen-net-accel: device state shared by the device's files
 *
 * xen-net-accel.c   QOM device, xenstore negotiation, connect/disconnect,
 *                   what the control messages mean (HELLO, VI_RESET)
 * xna-ctrl.c        control channel transport (xna-ctrl.h)
 * xna-vi.c          VI data path: TX ring -> NIC, NIC -> RX ring, filters
 * xna-vi-pool.c     receive straight into the guest's buffers (zero-copy)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_XEN_XEN_NET_ACCEL_H
#define HW_XEN_XEN_NET_ACCEL_H

#include "hw/xen/xen-bus.h"
#include "net/net.h"
#include "xen-net-accel/protocol.h"
#include "xna-ctrl.h"
#include "xna-filter-table.h"
#include "xna-nic.h"
#include "xna-tx-policy.h"
#include "xna-wire.h"

#define TYPE_XEN_NET_ACCEL "xen-net-accel"
OBJECT_DECLARE_SIMPLE_TYPE(XenNetAccel, XEN_NET_ACCEL)

/* Per-VI counters, also readable as QOM properties "vi<N>-<name>". */
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
    uint64_t resets;             /* VI_RESETs carried out */
    uint64_t resets_deferred;    /* ...of which waited for the rate limit */
    uint64_t rx_pool_packets;    /* placed in guest buffers by the NIC */
    uint64_t pool_fallbacks;     /* receive went back to copying */
    uint64_t rx_pool_buffers;    /* guest buffers the NIC holds now */
    uint64_t guest_errors;       /* ring/descriptor errors: VI stopped */
    uint64_t kicks;              /* events from the guest */
    uint64_t notifies;           /* events to the guest */
} XnaViStats;

typedef struct XnaDevStats {
    uint64_t filters_inserted;
    uint64_t filters_evicted;
    uint64_t filters_removed;
    uint64_t drop_rx_not_for_guest;
    uint64_t rx_host_samples;    /* slow-path frames the host path carried */
    uint64_t rx_yields;          /* RX round cut short to let others run */
    uint64_t drop_tx_nic;
    uint64_t guest_errors;       /* xenstore/control errors: disconnect */
    uint64_t connects;
    uint64_t connects_deferred;  /* waited for the connect rate limit */
} XnaDevStats;

/* A batch of grant refs mapped with one call. */
typedef struct XnaMapping {
    void *addr;
    uint32_t *refs;
    uint32_t count;
} XnaMapping;

typedef struct XnaVi {
    XenNetAccel *dev;
    uint32_t index;
    bool allocated;              /* in the NIC */
    bool up;                     /* processing traffic */

    XnaMapping shared_map;
    struct xna_vi_shared *shared;
    XnaMapping tx_map[XNA_MAX_RING_PAGES];
    XnaMapping rx_map[XNA_MAX_RING_PAGES];
    struct xna_desc *tx_pages[XNA_MAX_RING_PAGES];
    struct xna_desc *rx_pages[XNA_MAX_RING_PAGES];
    uint32_t tx_entries;
    uint32_t rx_entries;
    XenEventChannel *evtchn;

    /* Our copies of the indices; the shared page is only written. */
    uint32_t tx_cons;
    uint32_t rx_cons;
    uint32_t rx_old_cons;        /* rx_cons when the RX round started */
    /*
     * Receiving into the guest's pool (xna-vi-pool.c): the buffers of
     * slots rx_cons..rx_given-1 are with the NIC, rx_bufs[] their pool
     * offsets by slot.
     */
    bool pool_rx;
    uint32_t rx_given;
    uint64_t *rx_bufs;
    bool tx_blocked;             /* the NIC refused frames: wait */
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
} XnaVi;

struct XenNetAccel {
    XenDevice xendev;

    /* properties */
    NICConf conf;
    NICPeers host_peers;         /* host-netdev: the NIC's host side */
    char *nic_kind;
    int32_t idx;
    int32_t vif;
    uint32_t max_vis;
    uint32_t max_filters;
    uint32_t tx_ring_size;
    uint32_t rx_ring_size;
    uint32_t max_pool_pages;
    uint32_t mtu;
    bool mac_filter;
    bool mac_filter_on;          /* the guest MAC filter is in the NIC */
    bool zero_copy;              /* receive into the pool where possible */
    bool connect_limit;          /* x-connect-limit: rate-limit connects */
    char *ip;                    /* the vif's ip=: allowed source addresses */
    XnaTxPolicy tx_policy;
    char *ifname;                /* nic=afxdp */
    uint32_t start_queue;

    XnaNic *nic;
    XnaNicCaps caps;
    XnaFilterTable *filters;
    QEMUBH *rx_bh;
    QEMUBH *tx_bh;               /* TX work left after a round limit */
    uint32_t generation;
    bool connected;
    /* Connect rate limit: a token bucket, and a connect that waits. */
    uint32_t connect_tokens;
    int64_t connect_refill_ns;
    QEMUTimer *connect_timer;
    bool failing;                /* a guest error waits for fail_bh */
    uint32_t fail_code;
    char *fail_msg;
    QEMUBH *fail_bh;

    /* connection: what the frontend gave us, mapped once */
    uint32_t num_vis;
    uint32_t pool_pages;
    uint8_t **pool;              /* host address of each pool page */
    XnaMapping *pool_maps;
    uint32_t nr_pool_maps;
    XnaCtrl *ctrl;
    XnaCtrlStats ctrl_stats;
    bool hello_done;

    XnaVi vis[XNA_MAX_VIS];
    XnaDevStats stats;
    uint8_t frame_buf[XNA_MAX_FRAME_LEN];
};

/* xen-net-accel.c */
void xna_fail(XenNetAccel *s, uint32_t code, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
void xna_dev_send_vi_state(XenNetAccel *s, uint16_t type, uint32_t vi,
                           uint32_t reason);
void xna_dev_send_filter(XenNetAccel *s, uint32_t op,
                         const XnaFilterKey *key, uint32_t vi);

/* xna-vi.c */
bool xna_vi_event(void *opaque);
void xna_vi_start(XnaVi *vi);
void xna_vi_stop(XnaVi *vi, uint32_t reason);
void xna_rx_ready(void *opaque, uint32_t queue);
void xna_tx_ready(void *opaque);
void xna_vi_failed(void *opaque, uint32_t vi);
void xna_rx_bh(void *opaque);
void xna_tx_bh(void *opaque);
void xna_filter_learn(XenNetAccel *s, const XnaFilterKey *key, uint32_t vi);
void xna_filters_remove_vi(XenNetAccel *s, uint32_t vi);
void xna_mac_filter_insert(XenNetAccel *s);
void xna_vi_reset(XnaVi *vi);
void xna_vi_reset_init(XnaVi *vi);
void xna_vi_reset_cancel(XnaVi *vi);
void xna_vi_reset_timer(void *opaque);
/* for xna-vi-pool.c */
XnaWireRing xna_vi_tx_ring(XnaVi *vi);
XnaWireRing xna_vi_rx_ring(XnaVi *vi);
void xna_vi_error(XnaVi *vi, uint32_t reason, const char *what,
                  uint32_t idx);
int64_t xna_rx_posted(XnaVi *vi);
void xna_rx_learn_mac_filtered(XenNetAccel *s, const XnaFrame *frame);

/* xna-vi-pool.c */
bool xna_vi_pool_start(XnaVi *vi);
void xna_vi_pool_stop(XnaVi *vi);
bool xna_vi_pool_rx(XnaVi *vi);
bool xna_vi_pool_ask_for_buffers(XnaVi *vi);

#endif /* HW_XEN_XEN_NET_ACCEL_H */
