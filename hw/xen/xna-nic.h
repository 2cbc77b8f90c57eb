/*
 * xen-net-accel: the NIC-ops table
 *
 * A NIC kind (software NIC over a -netdev, loopback, AF_XDP) is a QOM
 * class derived from TYPE_XNA_NIC, named "xna-nic-<kind>", that fills in
 * XnaNicClass.  The device finds it by name from its "nic" property, so a
 * new kind is one new file and no change to the device.
 *
 * The model is a NIC with virtual interfaces (VIs, queue pairs) and a
 * receive filter table: received frames that match a filter go to that
 * filter's VI queue, the others to the default queue (the slow path).
 * Calls are burst-oriented; a NIC tells the device that a queue has
 * frames through XnaNicHost.rx_ready (from QEMU's main loop).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_XEN_XNA_NIC_H
#define HW_XEN_XNA_NIC_H

#include "qom/object.h"
#include "net/net.h"
#include "xna-filter-table.h"

#define TYPE_XNA_NIC "xna-nic"
OBJECT_DECLARE_TYPE(XnaNic, XnaNicClass, XNA_NIC)

/*
 * XNA_NIC_GET_CLASS() without QOM's checked cast (a type lookup per call
 * with cast debugging on, the default), for the per-frame paths: the
 * device's NIC is an XnaNic by construction (xna_nic_new()).
 */
static inline XnaNicClass *xna_nic_class(XnaNic *nic)
{
    return (XnaNicClass *)object_get_class(OBJECT(nic));
}

/* Queue number of the default queue: frames that matched no filter. */
#define XNA_NIC_DEFAULT_QUEUE   UINT32_MAX

/* Frame flags */
#define XNA_FRAME_CSUM_PARTIAL  (1u << 0)  /* TX: checksum to be filled */
#define XNA_FRAME_CSUM_VALID    (1u << 1)  /* RX: checksum verified */

typedef struct XnaFrame {
    uint8_t *data;
    uint32_t len;
    uint32_t flags;          /* XNA_FRAME_* */
    uint16_t csum_start;     /* with XNA_FRAME_CSUM_PARTIAL */
    uint16_t csum_offset;
} XnaFrame;

typedef struct XnaNicCaps {
    uint32_t filter_kinds;   /* bit (1 << XnaFilterKind) per kind */
    uint32_t max_filters;    /* size of the NIC's filter table */
    uint32_t max_vis;
    bool tx_csum;            /* fills XNA_FRAME_CSUM_PARTIAL checksums */
    bool rx_csum;            /* reports XNA_FRAME_CSUM_VALID */
    /*
     * The NIC can receive a VI's frames straight into the guest's pool
     * (pool_attach): into posted buffers that start at least pool_headroom
     * bytes into the pool and hold pool_frame_max bytes.
     */
    bool pool_rx;
    uint32_t pool_headroom;
    uint32_t pool_frame_max;
    /*
     * Frames that match no filter reach the host's stack (and through it
     * netfront) without the device: a host-netdev, or AF_XDP's XDP_PASS.
     * The default queue then holds copies of them (samples), for learning
     * only.  Without it, the device delivers the default queue's frames
     * for the guest itself (through VI 0).
     */
    bool slow_path_samples;
} XnaNicCaps;

typedef struct XnaNicStats {
    uint64_t tx_frames;
    uint64_t tx_dropped;
    uint64_t rx_frames;
    uint64_t rx_dropped;     /* queue full or no room */
    uint64_t filters;        /* filters in the NIC now */
    uint64_t host_frames;    /* host path: wire -> host */
    uint64_t host_tx_frames; /* host path: host -> wire */
    uint64_t pool_vis;       /* VIs receiving into the guest's pool now */
    uint64_t zero_copy_vis;  /* ...of which in driver zero-copy mode */
    uint64_t sockets_waiting; /* afxdp: VIs waiting for their busy queue */
    /* Receive losses in the NIC, where it can tell (XDP_STATISTICS) */
    uint64_t rx_no_buffer;   /* a VI's frame found no buffer to go in */
    uint64_t rx_ring_full;   /* ...or no room in the VI's receive ring */
    uint64_t rx_invalid;     /* buffers the NIC was given and refused */
    uint64_t rx_bad_len;     /* frames too short or too long: dropped */
    /* afxdp: what the XDP program did with each frame (xna_stats) */
    uint64_t xdp_redirected;
    uint64_t xdp_passed;
    uint64_t xdp_sampled;
    uint64_t xdp_sample_lost;
    uint64_t xdp_other_queue;
    uint64_t xdp_no_vi_queue;
} XnaNicStats;

/* The guest's buffer pool, for a NIC that receives into it. */
typedef struct XnaNicPool {
    uint8_t *base;           /* one contiguous mapping, page-aligned */
    size_t len;
    uint32_t entries;        /* buffers the VI may have posted at once */
} XnaNicPool;

/* What the NIC may call back into its owner. */
typedef struct XnaNicHost {
    void *opaque;
    /* Frames are waiting on @queue: the owner will call rx_burst. */
    void (*rx_ready)(void *opaque, uint32_t queue);
    /* tx_burst took fewer frames than offered earlier, and has room now. */
    void (*tx_ready)(void *opaque);
} XnaNicHost;

typedef struct XnaNicConfig {
    NICConf *conf;           /* the device's mac and netdev properties */
    NICPeers *host_peers;    /* host-netdev: the host side, if any */
    const char *id;          /* for messages and the net client name */
    uint32_t max_vis;
    uint32_t max_filters;
    uint32_t mtu;
    const char *ifname;      /* host interface (afxdp) */
    uint32_t start_queue;    /* its first queue: VI n on start_queue + n */
    XnaNicHost host;
    DeviceState *owner;
} XnaNicConfig;

struct XnaNic {
    Object parent_obj;
    XnaNicHost host;
};

struct XnaNicClass {
    ObjectClass parent_class;

    bool (*open)(XnaNic *nic, const XnaNicConfig *cfg, Error **errp);
    void (*close)(XnaNic *nic);
    void (*get_caps)(XnaNic *nic, XnaNicCaps *caps);

    int (*vi_alloc)(XnaNic *nic, uint32_t vi, Error **errp);
    void (*vi_free)(XnaNic *nic, uint32_t vi);

    /* 0, or -ENOSPC when the table is full, -EINVAL for a bad key. */
    int (*filter_insert)(XnaNic *nic, const XnaFilterKey *key, uint32_t vi);
    int (*filter_remove)(XnaNic *nic, const XnaFilterKey *key);

    /*
     * Send up to @n frames of @vi; returns how many were taken.  The NIC
     * copies what it keeps: frames belong to the caller on return.
     */
    uint32_t (*tx_burst)(XnaNic *nic, uint32_t vi, XnaFrame *frames,
                         uint32_t n);
    /*
     * Take up to @n received frames of @queue (a VI or the default
     * queue).  Their data stays valid until the next call on the queue.
     * The NIC calls host.rx_ready for @queue again only after a call
     * that returned 0: a caller that stops earlier must come back.
     */
    uint32_t (*rx_burst)(XnaNic *nic, uint32_t queue, XnaFrame *frames,
                         uint32_t n);
    /* The NIC may accept frames again (after an rx_burst made room). */
    void (*rx_resume)(XnaNic *nic);

    void (*get_stats)(XnaNic *nic, XnaNicStats *stats);

    /*
     * Optional, with caps.pool_rx.  pool_attach: VI @vi receives into
     * @pool from now on (false, with @errp, leaves it as it was): frames
     * land at the first byte of buffers given with pool_rx_post (their
     * offsets in the pool), and rx_burst returns them in the order the
     * buffers were given, with data pointing into the pool.  Transmit is
     * unchanged (tx_burst copies).  pool_detach: back to the NIC's own
     * buffers; buffers given and not returned are the guest's again, and
     * the NIC writes none of them any more.
     */
    bool (*pool_attach)(XnaNic *nic, uint32_t vi, const XnaNicPool *pool,
                        Error **errp);
    void (*pool_detach)(XnaNic *nic, uint32_t vi);
    /* Give buffers to the VI; returns how many it took. */
    uint32_t (*pool_rx_post)(XnaNic *nic, uint32_t vi, const uint64_t *bufs,
                             uint32_t n);
};

XnaNic *xna_nic_new(const char *kind, const XnaNicConfig *cfg, Error **errp);
void xna_nic_free(XnaNic *nic);

#endif /* HW_XEN_XNA_NIC_H */
