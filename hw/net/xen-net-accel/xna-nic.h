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

#ifndef HW_NET_XNA_NIC_H
#define HW_NET_XNA_NIC_H

#include "qom/object.h"
#include "net/net.h"
#include "xna-filter-table.h"
#include "xna-classify.h"

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
#define XNA_FRAME_PARSED        (1u << 2)  /* RX: l3/l4 fields are set */

typedef struct XnaFrame {
    uint8_t *data;
    uint32_t len;
    uint32_t flags;          /* XNA_FRAME_* */
    uint16_t csum_start;     /* with XNA_FRAME_CSUM_PARTIAL */
    uint16_t csum_offset;
    /*
     * With XNA_FRAME_PARSED, where the NIC found the TCP/UDP header of a
     * frame it classified (xna_classify() on its own copy), so that the
     * device verifies the checksum without parsing the frame again.
     */
    uint16_t l3_offset;
    uint16_t l4_offset;
    uint8_t l4_proto;
    bool ipv6;
    /*
     * In tx_burst, the device's xna_classify() of these very bytes (the
     * device's own copy), or NULL: a NIC that steers by flow may use it
     * rather than parse the frame again.
     */
    const XnaFlowInfo *info;
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

/* afxdp's start-queue unset: the first queues no other guest uses. */
#define XNA_START_QUEUE_AUTO    UINT32_MAX

typedef struct XnaNicStats {
    uint64_t tx_frames;
    uint64_t tx_dropped;
    uint64_t rx_frames;
    uint64_t rx_wakeups;     /* the NIC's fds woke the device to receive */
    uint64_t rx_dropped;     /* queue full or no room */
    uint64_t filters;        /* filters in the NIC now */
    uint64_t host_frames;    /* host path: wire -> host */
    uint64_t host_tx_frames; /* host path: host -> wire */
    uint64_t pool_vis;       /* VIs receiving into the guest's pool now */
    uint64_t driver_zero_copy_vis;  /* ...of which the driver DMAs into */
    uint64_t sockets_waiting;   /* afxdp: VIs waiting for a busy queue */
    uint64_t start_queue;    /* afxdp: VI 0's receive queue (the last) */
    /* Receive losses in the NIC, where it can tell (XDP_STATISTICS) */
    uint64_t rx_no_buffer;   /* a VI's frame found no buffer to go in */
    uint64_t rx_ring_full;   /* ...or no room in the VI's receive ring */
    uint64_t rx_invalid;     /* buffers the NIC was given and refused */
    uint64_t rx_bad_len;     /* frames too short or too long: dropped */
    uint64_t rx_other_mac;   /* unicast to a MAC no VI has: dropped */
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

/* What the NIC may call back into its owner, from QEMU's main loop only. */
typedef struct XnaNicHost {
    void *opaque;
    /* Frames are waiting on @queue: the owner will call rx_burst. */
    void (*rx_ready)(void *opaque, uint32_t queue);
    /*
     * Optional.  As rx_ready, but the owner takes the frames now, before
     * it returns: only from an fd handler of the NIC's own, never from
     * within a call of the owner's.  It saves a NIC that is woken by a
     * readable fd the bottom half's round trip through the main loop.
     */
    void (*rx_run)(void *opaque, uint32_t queue);
    /* tx_burst took fewer frames than offered earlier, and has room now. */
    void (*tx_ready)(void *opaque);
    /*
     * Optional.  VI @vi can carry nothing any more (its host resources
     * went): the owner stops it.  It stays allocated until vi_free.
     */
    void (*vi_failed)(void *opaque, uint32_t vi);
} XnaNicHost;

/*
 * What every kind is opened with.  A kind's own settings (for afxdp:
 * ifname, start-queue) are QOM properties of its object instead, set
 * between xna_nic_create() and xna_nic_open().
 */
typedef struct XnaNicConfig {
    /* The device's mac; for nic=netdev also its netdev (conf->peers). */
    NICConf *conf;
    NICPeers *host_peers;    /* nic=netdev: the host side, if any */
    const char *id;          /* for messages and the net client name */
    uint32_t max_vis;
    uint32_t max_filters;
    uint32_t mtu;
    XnaNicHost host;
    DeviceState *owner;
} XnaNicConfig;

struct XnaNic {
    Object parent_obj;
    XnaNicHost host;
    const char *kind;        /* for messages: "netdev", "afxdp"... */
    bool opened;
    XnaNicCaps caps;         /* read once, at open */
};

/*
 * The ops of a NIC kind.  Return conventions: ops that set something up
 * return bool and fill @errp (false leaves the NIC as it was); filter ops
 * return 0 or a negative errno; burst ops return how many frames they
 * handled.  None may block: they run in QEMU's main loop.  The device
 * calls them only through the xna_nic_*() functions below, which check
 * the arguments they can and stand in for the optional ops.
 */
struct XnaNicClass {
    ObjectClass parent_class;

    /*
     * Required.  Set the NIC up for @cfg->max_vis VIs and
     * @cfg->max_filters filters; no VI is allocated yet.  Called once.
     */
    bool (*open)(XnaNic *nic, const XnaNicConfig *cfg, Error **errp);
    /* Required.  Undo open: every VI was freed before. */
    void (*close)(XnaNic *nic);
    /* Required.  What the NIC can do; read once, right after open. */
    void (*get_caps)(XnaNic *nic, XnaNicCaps *caps);

    /*
     * Required.  Make VI @vi (< max_vis, not allocated) ready to send and
     * receive.  After it, rx_burst(@vi) and tx_burst(@vi) may be called.
     */
    bool (*vi_alloc)(XnaNic *nic, uint32_t vi, Error **errp);
    /*
     * Required.  Free VI @vi: its queued frames are dropped, and the NIC
     * calls no host callback for it any more.  Its filters were removed
     * before.
     */
    void (*vi_free)(XnaNic *nic, uint32_t vi);

    /*
     * Required.  Steer frames that match @key (valid, of a kind in
     * caps.filter_kinds) to VI @vi, replacing an entry with the same key.
     * 0, -ENOSPC when the table is full, -EINVAL for a key or VI the NIC
     * does not take.
     */
    int (*filter_insert)(XnaNic *nic, const XnaFilterKey *key, uint32_t vi);
    /* Required.  0, or -ENOENT when @key is not in the table. */
    int (*filter_remove)(XnaNic *nic, const XnaFilterKey *key);

    /*
     * Required.  Send up to @n frames of allocated VI @vi; returns how
     * many were taken (sent or dropped and counted).  Fewer than @n: the
     * NIC is full, and calls host.tx_ready once it has room.  The NIC
     * copies what it keeps: frames belong to the caller on return.
     */
    uint32_t (*tx_burst)(XnaNic *nic, uint32_t vi, XnaFrame *frames,
                         uint32_t n);
    /*
     * Required.  Take up to @n received frames of @queue (an allocated VI
     * or XNA_NIC_DEFAULT_QUEUE), 14..XNA_MAX_FRAME_LEN bytes each.  Their
     * data stays valid until the next call on the queue.  The NIC calls
     * host.rx_ready for @queue again only after a call that returned 0: a
     * caller that stops earlier must come back.
     */
    uint32_t (*rx_burst)(XnaNic *nic, uint32_t queue, XnaFrame *frames,
                         uint32_t n);
    /* Optional.  The NIC may accept frames again (rx_burst made room). */
    void (*rx_resume)(XnaNic *nic);

    /* Required.  Counters; fields the NIC does not have stay 0. */
    void (*get_stats)(XnaNic *nic, XnaNicStats *stats);

    /*
     * Optional, all three or none, and then caps.pool_rx.  pool_attach:
     * VI @vi receives into @pool from now on (false, with @errp, leaves it
     * as it was): frames land at the first byte of buffers given with
     * pool_rx_post (their offsets in the pool), and rx_burst returns them
     * in the order the buffers were given, with data pointing into the
     * pool.  Transmit is unchanged (tx_burst copies).  pool_detach: back
     * to the NIC's own buffers; buffers given and not returned are the
     * guest's again, and the NIC writes none of them any more (the pool
     * may be unmapped right after).  pool_rx_post: give buffers to the
     * VI; returns how many it took (the rest may be given again later).
     */
    bool (*pool_attach)(XnaNic *nic, uint32_t vi, const XnaNicPool *pool,
                        Error **errp);
    void (*pool_detach)(XnaNic *nic, uint32_t vi);
    uint32_t (*pool_rx_post)(XnaNic *nic, uint32_t vi, const uint64_t *bufs,
                             uint32_t n);
};

/*
 * Create a NIC of @kind (QOM type "xna-nic-<kind>"), not open yet; NULL
 * with @errp for an unknown kind.
 */
XnaNic *xna_nic_create(const char *kind, Error **errp);
/*
 * Open it: checks first that the kind has every required op and the
 * pool ops all or none, then opens and reads the caps.
 */
bool xna_nic_open(XnaNic *nic, const XnaNicConfig *cfg, Error **errp);
/* Close it if it was opened, and free it.  @nic may be NULL. */
void xna_nic_free(XnaNic *nic);

bool xna_nic_vi_alloc(XnaNic *nic, uint32_t vi, Error **errp);
void xna_nic_vi_free(XnaNic *nic, uint32_t vi);
int xna_nic_filter_insert(XnaNic *nic, const XnaFilterKey *key,
                          uint32_t vi);
int xna_nic_filter_remove(XnaNic *nic, const XnaFilterKey *key);
void xna_nic_get_stats(XnaNic *nic, XnaNicStats *stats);
/* False, with @errp, when the NIC cannot receive into a pool. */
bool xna_nic_pool_attach(XnaNic *nic, uint32_t vi, const XnaNicPool *pool,
                         Error **errp);
void xna_nic_pool_detach(XnaNic *nic, uint32_t vi);

/* The per-burst ones, inline. */
static inline uint32_t xna_nic_tx_burst(XnaNic *nic, uint32_t vi,
                                        XnaFrame *frames, uint32_t n)
{
    return xna_nic_class(nic)->tx_burst(nic, vi, frames, n);
}

static inline uint32_t xna_nic_rx_burst(XnaNic *nic, uint32_t queue,
                                        XnaFrame *frames, uint32_t n)
{
    return xna_nic_class(nic)->rx_burst(nic, queue, frames, n);
}

static inline void xna_nic_rx_resume(XnaNic *nic)
{
    XnaNicClass *nc = xna_nic_class(nic);

    if (nc->rx_resume) {
        nc->rx_resume(nic);
    }
}

static inline uint32_t xna_nic_pool_rx_post(XnaNic *nic, uint32_t vi,
                                            const uint64_t *bufs, uint32_t n)
{
    XnaNicClass *nc = xna_nic_class(nic);

    return nc->pool_rx_post ? nc->pool_rx_post(nic, vi, bufs, n) : 0;
}

#endif /* HW_NET_XNA_NIC_H */
