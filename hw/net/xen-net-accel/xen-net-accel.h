/*
 * xen-net-accel: device state shared by the device's files
 *
 * xen-net-accel.c   QOM device, xenstore negotiation, connect/disconnect,
 *                   what the control messages mean (HELLO, VI_RESET)
 * xna-steer.c       learning, filters, the bottom halves over the VIs
 *
 * and the objects it uses, each through its own header:
 * xna-ctrl.h        control channel transport
 * xna-vi.h          a VI, the data plane of one queue pair
 * xna-nic.h         the NIC-ops table
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_XEN_NET_ACCEL_H
#define HW_NET_XEN_NET_ACCEL_H

#include "hw/xen/xen-bus.h"
#include "net/net.h"
#include "hw/net/xen-net-accel-protocol.h"
#include "xna-ctrl.h"
#include "xna-filter-table.h"
#include "xna-nic.h"
#include "xna-tx-policy.h"
#include "xna-vi.h"
#include "xna-wire.h"
#include "xna-wire-macs.h"

#define TYPE_XEN_NET_ACCEL "xen-net-accel"
OBJECT_DECLARE_SIMPLE_TYPE(XenNetAccel, XEN_NET_ACCEL)

typedef struct XnaDevStats {
    uint64_t filters_inserted;
    uint64_t filters_evicted;
    uint64_t filters_removed;
    uint64_t drop_rx_not_for_guest;
    uint64_t rx_host_samples;    /* slow-path frames the host path carried */
    uint64_t rx_yields;          /* RX round cut short to let others run */
    uint64_t guest_errors;       /* xenstore/control errors: disconnect */
    uint64_t connects;
    uint64_t connects_deferred;  /* waited for the connect rate limit */
    uint64_t wire_macs_learned;  /* new NIC-side MACs (WIRE_MAC add) */
    uint64_t wire_macs_forgotten; /* aged out or replaced */
    uint64_t wire_macs_throttled; /* new ones not taken: rate limit */
} XnaDevStats;

/* A batch of grant refs mapped with one call. */
typedef struct XnaMapping {
    void *addr;
    uint32_t *refs;
    uint32_t count;
} XnaMapping;

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
    /*
     * Property zero-copy: QEMU copies no received frame, the NIC writes
     * it into the guest's pool (xna-vi-pool.c).  Not AF_XDP's driver
     * zero-copy (the driver DMAs into that memory: nic-zero-copy-vis).
     */
    bool rx_into_pool;
    bool connect_limit;          /* x-connect-limit: rate-limit connects */
    char *ip;                    /* the vif's ip=: allowed source addresses */
    XnaTxPolicy tx_policy;
    char *ifname;                /* nic=afxdp */
    char *afxdp_helper;          /* nic=afxdp: monitor fd name */
    uint32_t start_queue;
    uint32_t wire_mac_ageing;    /* seconds; 0: no WIRE_MAC */

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
    /*
     * MACs seen on the NIC's side: kept across connects (they are the
     * wire's, not the guest's), told to a guest that asked for them.
     */
    XnaWireMacs wire_macs;
    QEMUTimer *wire_mac_timer;
    uint32_t wire_mac_tokens;    /* new MACs taken: a token bucket */
    int64_t wire_mac_refill_ns;
    bool wire_mac_wanted;        /* frontend's feature-wire-mac */
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

    XnaVi *vis[XNA_MAX_VIS];     /* all of them, from realize on */
    XnaDevStats stats;
};

/* xen-net-accel.c */
void xna_fail(XenNetAccel *s, uint32_t code, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
void xna_dev_send_vi_state(XenNetAccel *s, uint16_t type, uint32_t vi,
                           uint32_t reason);
void xna_dev_send_filter(XenNetAccel *s, uint32_t op,
                         const XnaFilterKey *key, uint32_t vi);
void xna_dev_send_wire_mac(XenNetAccel *s, uint32_t op, const uint8_t *mac);

/* xna-steer.c */
void xna_steer_init(XenNetAccel *s);
void xna_steer_nic_host(XenNetAccel *s, XnaNicHost *host);
void xna_steer_vi_owner(XenNetAccel *s, XnaViOwner *owner);
void xna_filter_learn(XenNetAccel *s, const XnaFilterKey *key, uint32_t vi);
void xna_filters_remove_vi(XenNetAccel *s, uint32_t vi);
void xna_mac_filter_insert(XenNetAccel *s);
void xna_wire_macs_start(XenNetAccel *s);
void xna_wire_macs_stop(XenNetAccel *s);
void xna_wire_macs_tell_guest(XenNetAccel *s);

#endif /* HW_NET_XEN_NET_ACCEL_H */
