/*
 * xen-net-accel: receive straight into the guest's buffers
 *
 * With a NIC that can (caps.pool_rx: nic=afxdp, whose AF_XDP socket then
 * has the guest's pool as its UMEM), a VI's frames land in the buffers
 * the guest posted, written there by the kernel or, in driver zero-copy
 * mode, by the NIC: the device gives the NIC each posted buffer (its
 * offset in the pool) and, when a frame comes back, only writes its
 * length into the buffer's descriptor.  QEMU neither copies nor reads
 * the frame; so it verifies no checksum either (the guest does, as
 * behind a NIC without receive offloads).
 *
 * The NIC fills buffers in the order they were given, so slots complete
 * in ring order, as the protocol wants.  A frame that comes back in
 * another buffer is the NIC's fault, not the guest's: the VI goes back
 * to copying (pool_fallbacks), as it does when the guest posts a buffer
 * the NIC cannot use.  The guest's rules for descriptors are the same in
 * both modes; only the device's choice of mode depends on them.
 *
 * Conditions, else the VI copies as before: the owner
 * allows it (XnaViPool.nic_rx: the property zero-copy is on, the NIC can,
 * the pool is one mapping, a frame of the MTU fits in caps.pool_frame_max,
 * the pool's memory is the kernel's to write), and every buffer posted
 * starts at least caps.pool_headroom bytes into the pool and holds
 * pool_frame_max bytes (the guest module's 2 KiB buffers do).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "xna-vi-internal.h"
#include "xna-ring.h"
#include "trace.h"

#define XNA_POOL_BATCH          64
/* Bursts of one round of the RX bottom half, as NAPI's budget */
#define XNA_POOL_MAX_ROUNDS     4

bool xna_vi_pool_start(XnaVi *vi)
{
    Error *err = NULL;
    XnaNicPool pool;

    if (!vi->pool.nic_rx || !vi->pool.base) {
        return false;
    }
    pool = (XnaNicPool) {
        .base = vi->pool.base,
        .len = (size_t)vi->pool.count * XNA_PAGE_SIZE,
        .entries = vi->rx_entries,
    };
    if (!xna_nic_pool_attach(vi->owner.nic, vi->index, &pool, &err)) {
        /* A host limit (locked memory, say): copying still works. */
        warn_report_err(err);
        return false;
    }
    vi->rx_bufs = g_new(uint64_t, vi->rx_entries);
    vi->rx_given = vi->rx_cons;
    vi->pool_rx = true;
    trace_xna_vi_pool(vi->owner.xendev->name, vi->index, "start");
    return true;
}

void xna_vi_pool_stop(XnaVi *vi)
{
    if (!vi->pool_rx) {
        return;
    }
    /* After this the NIC writes no buffer of the guest's any more. */
    xna_nic_pool_detach(vi->owner.nic, vi->index);
    g_free(vi->rx_bufs);
    vi->rx_bufs = NULL;
    vi->pool_rx = false;
    vi->stats.rx_pool_buffers = 0;
    trace_xna_vi_pool(vi->owner.xendev->name, vi->index, "stop");
}

/*
 * Back to copying, for the rest of the VI's life: buffers given and not
 * filled are simply posted ones again, filled in order by the copy path.
 */
static void pool_fallback(XnaVi *vi, const char *why)
{
    vi->stats.pool_fallbacks++;
    trace_xna_vi_pool(vi->owner.xendev->name, vi->index, why);
    xna_vi_pool_stop(vi);
}

/* A frame the NIC placed: it must be in the buffer of slot rx_cons. */
static bool pool_complete(XnaVi *vi, const XnaFrame *frame)
{
    const XnaNicCaps *caps = &vi->owner.nic->caps;
    uint32_t idx = vi->rx_cons;
    struct xna_desc *slot;
    XnaWireRing ring;
    uint64_t off;

    if ((uintptr_t)frame->data < (uintptr_t)vi->pool.base) {
        return false;
    }
    off = frame->data - vi->pool.base;
    if (idx == vi->rx_given || off != vi->rx_bufs[idx & (vi->rx_entries - 1)]
        || frame->len < XNA_MIN_FRAME_LEN ||
        frame->len > caps->pool_frame_max) {
        return false;
    }
    if (vi->rx_learning) {
        /* Learn from a copy of the headers: the buffer is the guest's. */
        uint8_t head[128];
        XnaFrame copy = { .data = head, .len = MIN(frame->len,
                                                   sizeof(head)) };

        memcpy(head, frame->data, copy.len);
        vi->owner.learn_rx(vi->owner.opaque, &copy);
    }
    ring = xna_vi_rx_ring(vi);
    slot = xna_wire_slot(&ring, idx);
    slot->len = cpu_to_le16(frame->len);
    slot->flags = 0;
    vi->rx_cons = idx + 1;
    vi->stats.rx_pool_buffers = vi->rx_given - vi->rx_cons;
    vi->stats.rx_packets++;
    vi->stats.rx_bytes += frame->len;
    vi->stats.rx_pool_packets++;
    return true;
}

/* Give the NIC the buffers posted since the last call. */
static bool pool_give(XnaVi *vi)
{
    const XnaNicCaps *caps = &vi->owner.nic->caps;
    uint64_t bufs[XNA_POOL_BATCH];
    XnaWireRing ring = xna_vi_rx_ring(vi);
    int64_t posted = xna_vi_rx_posted(vi);
    uint32_t end, n, taken;

    if (posted < 0) {
        return false;                   /* the VI was stopped */
    }
    if (posted < vi->rx_given - vi->rx_cons) {
        /*
         * The guest took back buffers it had posted, which the NIC may
         * be writing now: a producer index never moves back.
         */
        xna_vi_error(vi, XNA_ERR_BAD_INDEX, "RX producer moved back",
                     vi->rx_cons + posted);
        return false;
    }
    end = vi->rx_cons + posted;
    while (vi->rx_given != end) {
        for (n = 0; n < XNA_POOL_BATCH && vi->rx_given + n != end; n++) {
            uint32_t idx = vi->rx_given + n;
            struct xna_desc d;
            uint64_t off;

            if (!xna_wire_desc_fetch(&ring, vi->pool.count, idx, &d) ||
                d.len < XNA_MIN_RX_BUFFER) {
                xna_vi_error(vi, XNA_ERR_BAD_DESC, "bad RX descriptor", idx);
                return false;
            }
            off = (uint64_t)d.page * XNA_PAGE_SIZE + d.offset;
            if (off < caps->pool_headroom ||
                d.len < caps->pool_frame_max) {
                pool_fallback(vi, "buffer the NIC cannot use");
                return false;
            }
            vi->rx_bufs[idx & (vi->rx_entries - 1)] = off;
            bufs[n] = off;
        }
        taken = xna_nic_pool_rx_post(vi->owner.nic, vi->index, bufs, n);
        vi->rx_given += taken;
        vi->stats.rx_pool_buffers = vi->rx_given - vi->rx_cons;
        if (taken < n) {
            /* Cannot happen: the NIC holds as many as the ring. */
            pool_fallback(vi, "NIC refused buffers");
            return false;
        }
    }
    return true;
}

/*
 * Take the NIC's frames until it has none: a NIC wakes the device again
 * only after an rx_burst found its queue empty (frames that arrive while
 * a short burst is being read would otherwise wait for the next frame).
 * Returns true when it stopped with frames left, to be called again from
 * a later bottom half rather than hold the main loop under a flood.
 */
bool xna_vi_pool_rx(XnaVi *vi)
{
    XnaFrame frames[XNA_POOL_BATCH];
    uint32_t n, i, rounds = 0;

    do {
        if (!vi->up || !vi->pool_rx || !pool_give(vi)) {
            return false;
        }
        if (rounds++ == XNA_POOL_MAX_ROUNDS) {
            return true;
        }
        n = xna_nic_rx_burst(vi->owner.nic, vi->index, frames,
                             XNA_POOL_BATCH);
        for (i = 0; i < n; i++) {
            if (!pool_complete(vi, &frames[i])) {
                qemu_log_mask(LOG_UNIMP, "xen-net-accel %s: VI %u: the NIC "
                              "returned a frame out of order; copying "
                              "from now on\n", vi->owner.xendev->name,
                              vi->index);
                pool_fallback(vi, "frame out of order");
                return false;
            }
        }
    } while (n > 0);
    return false;
}

/*
 * The NIC receives only into buffers it was given, and it is given them
 * here, from the main loop.  While it holds three quarters of the ring or
 * more, its own frames bring the device back here soon enough to give
 * what the guest posted meanwhile: no kick is needed (the usual case at
 * low rates).  Below that (a burst is using the buffers faster), ask for
 * a kick at the guest's next post, so that buffers reach the NIC as soon
 * as the guest has them; a NIC that ran out receives nothing, and nothing
 * else would wake the device.  True if there is more to give now.
 */
bool xna_vi_pool_ask_for_buffers(XnaVi *vi)
{
    if (vi->rx_given - vi->rx_cons >= vi->rx_entries / 4 * 3) {
        return false;
    }
    return xna_ring_set_event(&vi->shared->rx_prod_event, vi->rx_given,
                              &vi->shared->rx_prod) != vi->rx_given;
}
