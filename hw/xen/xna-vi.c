/*
 * xen-net-accel: the VI data path
 *
 * TX: frames are copied once out of the guest's pool (so the guest cannot
 * change them while they are checked and sent), checksummed if asked, and
 * handed to the NIC; the flow they come from is learned.  RX: the NIC's
 * frames are copied into buffers the guest posted.  Every descriptor is
 * copied out of the ring once and validated; a bad one stops the VI.
 * Notifications follow the event-index rule both ways, so a busy ring is
 * not kicked per packet.  No grant operation happens here: the pool and
 * the rings were mapped at connect.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/atomic.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "xen-net-accel.h"
#include "xna-classify.h"
#include "xna-wire.h"
#include "trace.h"

#define XNA_RX_BURST            32
#define XNA_RX_MAX_ROUNDS       4   /* bursts per queue per bottom half */
#define XNA_TX_ROUNDS           4   /* re-checks of tx_prod per event */

XnaWireRing xna_vi_tx_ring(XnaVi *vi)
{
    return (XnaWireRing) { .pages = vi->tx_pages, .entries = vi->tx_entries };
}

XnaWireRing xna_vi_rx_ring(XnaVi *vi)
{
    return (XnaWireRing) { .pages = vi->rx_pages, .entries = vi->rx_entries };
}

static XnaWirePool vi_pool(XnaVi *vi)
{
    return (XnaWirePool) { .pages = vi->dev->pool,
                           .count = vi->dev->pool_pages };
}

static void vi_notify(XnaVi *vi)
{
    vi->stats.notifies++;
    xen_device_notify_event_channel(&vi->dev->xendev, vi->evtchn, NULL);
}

void xna_vi_error(XnaVi *vi, uint32_t reason, const char *what,
                  uint32_t idx)
{
    qemu_log_mask(LOG_GUEST_ERROR, "xen-net-accel %s: VI %u: %s at index "
                  "%u; stopping the VI\n", vi->dev->xendev.name, vi->index,
                  what, idx);
    trace_xna_vi_error(vi->dev->xendev.name, vi->index, what, idx);
    vi->stats.guest_errors++;
    xna_vi_stop(vi, reason);
}

/*
 * Collect the frame starting at @idx (published up to @prod) into the
 * device's frame buffer.  Returns the index after it, or @idx on error
 * (the VI is stopped then).
 */
static uint32_t tx_gather(XnaVi *vi, uint32_t idx, uint32_t prod,
                          XnaFrame *frame)
{
    XenNetAccel *s = vi->dev;
    XnaWireRing ring = xna_vi_tx_ring(vi);
    XnaWirePool pool = vi_pool(vi);
    uint32_t len, next, bad;
    XnaWireStatus st;

    st = xna_wire_tx_gather(&ring, &pool, idx, prod, s->frame_buf, &len,
                            &next, &bad);
    if (st != XNA_WIRE_OK) {
        xna_vi_error(vi, xna_wire_status_reason(st),
                     xna_wire_status_text(st), bad);
        return idx;
    }
    frame->data = s->frame_buf;
    frame->len = len;
    frame->flags = 0;
    return next;
}

/*
 * dom0's policy for what leaves through a VI (xna-tx-policy.h): a frame
 * it refuses is consumed and counted, and the VI goes on.
 */
static bool tx_allowed(XnaVi *vi, const XnaFrame *frame)
{
    XnaTxVerdict v = xna_tx_policy_check(&vi->dev->tx_policy, frame->data,
                                         frame->len);

    if (v == XNA_TX_OK) {
        return true;
    }
    vi->stats.drop_tx_policy++;
    trace_xna_vi_tx_refused(vi->dev->xendev.name, vi->index, v);
    return false;
}

/* Learn (or refresh) the flow the guest sends from. */
static void tx_learn(XnaVi *vi, const XnaFrame *frame)
{
    XnaFlowInfo info;

    if (xna_classify(frame->data, frame->len, &info) && info.has_flow) {
        xna_filter_learn(vi->dev, &info.src_flow, vi->index);
    }
}

static bool vi_process_tx(XnaVi *vi)
{
    XenNetAccel *s = vi->dev;
    uint32_t old_cons = vi->tx_cons, prod;
    int rounds;

    for (rounds = 0; rounds < XNA_TX_ROUNDS && vi->up && !vi->tx_blocked;
         rounds++) {
        prod = le32_to_cpu(qatomic_read(&vi->shared->tx_prod));
        smp_rmb();           /* descriptors after the index */
        if (prod - vi->tx_cons > vi->tx_entries) {
            xna_vi_error(vi, XNA_ERR_BAD_INDEX, "TX producer out of range",
                         prod);
            return true;
        }
        while (vi->tx_cons != prod && vi->up) {
            XnaFrame frame;
            uint32_t next = tx_gather(vi, vi->tx_cons, prod, &frame);

            if (next == vi->tx_cons) {
                return true;     /* VI stopped */
            }
            if (!tx_allowed(vi, &frame)) {
                vi->tx_cons = next;
                continue;
            }
            if (xna_nic_tx_burst(s->nic, vi->index, &frame, 1) == 0) {
                vi->tx_blocked = true;  /* retried from xna_tx_ready */
                break;
            }
            vi->stats.tx_packets++;
            vi->stats.tx_bytes += frame.len;
            tx_learn(vi, &frame);
            vi->tx_cons = next;
        }
        if (vi->tx_blocked) {
            break;
        }
        /* Drained: ask for a kick on the next frame, then look again. */
        qatomic_set(&vi->shared->tx_prod_event, cpu_to_le32(vi->tx_cons));
        smp_mb();   /* publish the event index, then re-check */
        if (le32_to_cpu(qatomic_read(&vi->shared->tx_prod)) == vi->tx_cons) {
            break;
        }
    }
    if (rounds == XNA_TX_ROUNDS && vi->up && !vi->tx_blocked) {
        /*
         * More frames came while we looked: the guest saw our event index
         * before we moved it and did not kick.  Go on from a bottom half,
         * so that one busy VI does not hold the main loop.
         */
        qemu_bh_schedule(s->tx_bh);
    }
    if (vi->tx_cons != old_cons) {
        smp_wmb();           /* our reads of the buffers before the index */
        qatomic_set(&vi->shared->tx_cons, cpu_to_le32(vi->tx_cons));
        smp_mb();   /* publish tx_cons before reading the event */
        if (xna_need_event(le32_to_cpu(qatomic_read(
                               &vi->shared->tx_cons_event)),
                           vi->tx_cons, old_cons)) {
            vi_notify(vi);
        }
        return true;
    }
    return false;
}

/* Free posted RX buffers, or -1 after stopping the VI. */
int64_t xna_rx_posted(XnaVi *vi)
{
    uint32_t prod = le32_to_cpu(qatomic_read(&vi->shared->rx_prod));

    smp_rmb();  /* descriptors after the index */
    if (prod - vi->rx_cons > vi->rx_entries) {
        xna_vi_error(vi, XNA_ERR_BAD_INDEX, "RX producer out of range", prod);
        return -1;
    }
    return prod - vi->rx_cons;
}

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
    XnaWirePool pool = vi_pool(vi);
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
    smp_wmb();               /* data and descriptors before the index */
    qatomic_set(&vi->shared->rx_cons, cpu_to_le32(vi->rx_cons));
    smp_mb();   /* publish rx_cons before reading the event */
    if (xna_need_event(le32_to_cpu(qatomic_read(&vi->shared->rx_cons_event)),
                       vi->rx_cons, old_cons)) {
        vi_notify(vi);
    }
}

static uint16_t rx_csum_flags(const XnaFrame *frame)
{
    if ((frame->flags & XNA_FRAME_CSUM_VALID) ||
        xna_csum_verify(frame->data, frame->len)) {
        return XNA_DESC_CSUM_VALID;
    }
    return 0;
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

/* Place the held frame; false while it still does not fit. */
static bool rx_place_held(XnaVi *vi)
{
    XnaFrame frame = { .data = vi->held, .len = vi->held_len };
    int64_t posted;

    if (!vi->held_len) {
        return true;
    }
    posted = xna_rx_posted(vi);
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

static uint32_t flow_vi(XenNetAccel *s, const XnaFilterKey *key)
{
    const uint8_t *b = (const uint8_t *)key;
    uint32_t h = 0;
    size_t i;

    for (i = 0; i < sizeof(*key); i++) {
        h = h * 31 + b[i];
    }
    return h % s->num_vis;
}

/*
 * A frame of the default queue, the slow path: frames for the guest's MAC
 * teach the backend a flow; they and group-addressed frames reach the
 * guest (through VI 0, flagged XNA_DESC_SLOW_PATH); others are dropped.
 */
static bool rx_slow_path_accept(XenNetAccel *s, const XnaFrame *frame)
{
    XnaFlowInfo info;

    if (!xna_classify(frame->data, frame->len, &info)) {
        return false;
    }
    if (!xna_mac_is_group(frame->data) &&
        memcmp(frame->data, s->conf.macaddr.a, 6)) {
        s->stats.drop_rx_not_for_guest++;
        return false;
    }
    if (info.has_flow) {
        xna_filter_learn(s, &info.dst_flow, flow_vi(s, &info.dst_flow));
    }
    return true;
}

/*
 * With the guest MAC filter, frames reach VI 0 without the slow path:
 * learn (and announce) their flows there, so that the guest knows them
 * as fast and sends their replies through the VI.
 */
void xna_rx_learn_mac_filtered(XenNetAccel *s, const XnaFrame *frame)
{
    XnaFlowInfo info;

    if (xna_classify(frame->data, frame->len, &info) && info.has_flow) {
        xna_filter_learn(s, &info.dst_flow, flow_vi(s, &info.dst_flow));
    }
}

/*
 * A NIC with a host path hands the guest its slow-path frames through the
 * host's stack and netfront, and the default queue only holds copies:
 * learn their flows, as from the slow path of a software NIC.  Drained
 * whether the guest is connected or not, so that no stale copy waits.
 */
static void rx_learn_from_samples(XenNetAccel *s)
{
    XnaFrame frames[XNA_RX_BURST];
    XnaFlowInfo info;
    uint32_t n, i;

    while ((n = xna_nic_rx_burst(s->nic, XNA_NIC_DEFAULT_QUEUE, frames,
                             XNA_RX_BURST)) > 0) {
        for (i = 0; i < n; i++) {
            s->stats.rx_host_samples++;
            if (s->connected &&
                xna_classify(frames[i].data, frames[i].len, &info) &&
                info.has_flow && !xna_mac_is_group(frames[i].data) &&
                !memcmp(frames[i].data, s->conf.macaddr.a, 6)) {
                xna_filter_learn(s, &info.dst_flow,
                                 flow_vi(s, &info.dst_flow));
            }
        }
    }
}

/*
 * Frames from the NIC are bounded where they enter the device, whatever
 * the NIC (a -netdev peer may send anything its MTU allows).
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
 * Move the frames of NIC queue @queue (the VI's own, or the default queue
 * for VI 0) into @vi's posted buffers, at most XNA_RX_MAX_ROUNDS bursts
 * per call, so that a flood does not hold the main loop.
 */
static RxResult rx_from_queue(XnaVi *vi, uint32_t queue)
{
    XenNetAccel *s = vi->dev;
    XnaFrame frames[XNA_RX_BURST];
    uint32_t n, i, rounds;

    for (rounds = 0; vi->up; rounds++) {
        uint32_t batch_start = vi->rx_cons;
        int64_t posted;

        if (!rx_place_held(vi)) {
            return RX_STARVED;
        }
        posted = xna_rx_posted(vi);
        if (posted <= 0) {
            return RX_STARVED;
        }
        if (rounds == XNA_RX_MAX_ROUNDS) {
            return RX_BUDGET;
        }
        n = xna_nic_rx_burst(s->nic, queue, frames, rx_burst_size(posted));
        if (n == 0) {
            return RX_DRAINED;
        }
        for (i = 0; i < n && vi->up; i++) {
            uint32_t room = posted - (vi->rx_cons - batch_start);
            uint16_t flags;

            if (!rx_len_ok(vi, &frames[i])) {
                continue;
            }
            flags = rx_csum_flags(&frames[i]);
            if (queue == XNA_NIC_DEFAULT_QUEUE) {
                if (!rx_slow_path_accept(s, &frames[i])) {
                    continue;
                }
                flags |= XNA_DESC_SLOW_PATH;
            } else if (s->mac_filter_on && vi->index == 0) {
                xna_rx_learn_mac_filtered(s, &frames[i]);
            }
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

    qatomic_set(&vi->shared->rx_prod_event, cpu_to_le32(want));
    smp_mb();   /* publish the event index before re-reading rx_prod */
    posted = xna_rx_posted(vi);
    return posted > (vi->held_len ? vi->held_posted : 0);
}

void xna_rx_bh(void *opaque)
{
    XenNetAccel *s = opaque;
    bool starved[XNA_MAX_VIS] = { false };
    bool again = false, yield = false;
    uint32_t i;

    if (!s->nic) {
        return;
    }
    if (s->caps.slow_path_samples) {
        rx_learn_from_samples(s);
    }
    if (!s->connected) {
        return;
    }
    for (i = 0; i < s->num_vis; i++) {
        s->vis[i].rx_old_cons = s->vis[i].rx_cons;
    }
    for (i = 0; i < s->num_vis; i++) {
        if (s->vis[i].pool_rx) {
            again |= xna_vi_pool_rx(&s->vis[i]);
        }
        /* Not "else": the pool may have fallen back to copying. */
        if (s->vis[i].up && !s->vis[i].pool_rx) {
            RxResult r = rx_from_queue(&s->vis[i], i);

            starved[i] = r == RX_STARVED;
            yield |= r == RX_BUDGET;
        }
    }
    /* Never into VI 0's buffers while the NIC receives into them. */
    if (!s->caps.slow_path_samples && s->vis[0].up && !s->vis[0].pool_rx) {
        RxResult r = rx_from_queue(&s->vis[0], XNA_NIC_DEFAULT_QUEUE);

        starved[0] |= r == RX_STARVED;
        yield |= r == RX_BUDGET;
    }
    if (yield) {
        s->stats.rx_yields++;
        again = true;
    }
    for (i = 0; i < s->num_vis; i++) {
        XnaVi *vi = &s->vis[i];

        if (vi->up) {
            rx_publish(vi, vi->rx_old_cons);
            if (vi->pool_rx ? xna_vi_pool_ask_for_buffers(vi) :
                rx_ask_for_buffers(vi) && starved[i]) {
                again = true;
            }
        }
    }
    xna_nic_rx_resume(s->nic);
    if (again) {
        qemu_bh_schedule(s->rx_bh);
    }
}

void xna_rx_ready(void *opaque, uint32_t queue)
{
    XenNetAccel *s = opaque;

    qemu_bh_schedule(s->rx_bh);
}

void xna_tx_bh(void *opaque)
{
    XenNetAccel *s = opaque;
    uint32_t i;

    for (i = 0; i < s->num_vis; i++) {
        if (s->vis[i].up) {
            vi_process_tx(&s->vis[i]);
        }
    }
}

/* XnaNicHost.vi_failed: the NIC lost what carries VI @vi. */
void xna_vi_failed(void *opaque, uint32_t vi)
{
    XenNetAccel *s = opaque;

    if (vi < s->num_vis) {
        xna_vi_stop(&s->vis[vi], XNA_ERR_NIC);
    }
}

void xna_tx_ready(void *opaque)
{
    XenNetAccel *s = opaque;
    uint32_t i;

    for (i = 0; i < s->num_vis; i++) {
        XnaVi *vi = &s->vis[i];

        if (vi->up && vi->tx_blocked) {
            vi->tx_blocked = false;
            vi_process_tx(vi);
        }
    }
}

bool xna_vi_event(void *opaque)
{
    XnaVi *vi = opaque;
    bool progress;

    if (!vi->up) {
        return false;
    }
    vi->stats.kicks++;
    progress = vi_process_tx(vi);
    /* The guest may have posted buffers: deliver what waits for them. */
    qemu_bh_schedule(vi->dev->rx_bh);
    return progress;
}

void xna_vi_start(XnaVi *vi)
{
    if (vi->dev->failing) {
        return;              /* the device disconnects from fail_bh */
    }
    vi->tx_cons = 0;
    vi->rx_cons = 0;
    vi->held_len = 0;
    vi->tx_blocked = false;
    qatomic_set(&vi->shared->tx_cons, 0);
    qatomic_set(&vi->shared->rx_cons, 0);
    qatomic_set(&vi->shared->tx_prod_event, 0);
    qatomic_set(&vi->shared->rx_prod_event, 0);
    smp_wmb();  /* indices reset before the VI goes up */
    vi->up = true;
    trace_xna_vi_up(vi->dev->xendev.name, vi->index);
    xna_vi_pool_start(vi);
    /* Before VI_UP: the guest may send as soon as it reads that. */
    if (vi->index == 0) {
        xna_mac_filter_insert(vi->dev);
    }
    xna_dev_send_vi_state(vi->dev, XNA_MSG_VI_UP, vi->index, 0);
    /* Traffic may already wait: the guest posted and kicked earlier. */
    vi_process_tx(vi);
    qemu_bh_schedule(vi->dev->rx_bh);
}

void xna_vi_stop(XnaVi *vi, uint32_t reason)
{
    if (!vi->up) {
        return;
    }
    vi->up = false;
    xna_vi_pool_stop(vi);
    if (vi->held_len) {
        vi->stats.drop_rx_no_buffer++;
        vi->held_len = 0;
    }
    trace_xna_vi_down(vi->dev->xendev.name, vi->index, reason);
    xna_filters_remove_vi(vi->dev, vi->index);
    xna_dev_send_vi_state(vi->dev, XNA_MSG_VI_DOWN, vi->index, reason);
}

/*
 * VI_RESET is cheap for the guest and not for us (a NIC may close and
 * reopen sockets for it): a token bucket lets XNA_RESET_BURST resets
 * through at once and one per XNA_RESET_INTERVAL_NS after that.  A reset
 * beyond that waits for its token on a timer; those asked for meanwhile
 * are the same reset, so a storm costs one reset per interval.
 */
#define XNA_RESET_BURST         4
#define XNA_RESET_INTERVAL_NS   (100 * SCALE_MS)

static void reset_refill(XnaVi *vi, int64_t now)
{
    int64_t gained = (now - vi->reset_refill_ns) / XNA_RESET_INTERVAL_NS;

    if (vi->reset_tokens >= XNA_RESET_BURST) {
        vi->reset_refill_ns = now;
        return;
    }
    if (gained > 0) {
        vi->reset_tokens = MIN(XNA_RESET_BURST, vi->reset_tokens + gained);
        vi->reset_refill_ns += gained * XNA_RESET_INTERVAL_NS;
    }
}

static void vi_reset_now(XnaVi *vi)
{
    vi->reset_tokens--;
    vi->stats.resets++;
    xna_vi_stop(vi, XNA_ERR_NONE);
    xna_vi_start(vi);
}

void xna_vi_reset_init(XnaVi *vi)
{
    vi->reset_tokens = XNA_RESET_BURST;
    vi->reset_refill_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    xna_vi_reset_cancel(vi);
}

/*
 * The bucket is kept across connections: a guest that reconnects does
 * not get its resets back (connects have their own bucket).
 */
void xna_vi_reset_cancel(XnaVi *vi)
{
    vi->reset_pending = false;
    timer_del(vi->reset_timer);
}

void xna_vi_reset(XnaVi *vi)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);

    if (vi->reset_pending) {
        return;
    }
    reset_refill(vi, now);
    trace_xna_vi_reset(vi->dev->xendev.name, vi->index, !vi->reset_tokens);
    if (!vi->reset_tokens) {
        /*
         * Stop it now: the guest has reset its half of the shared page
         * already, and the VI must not go on with those indices.  The
         * stop of a VI that is down costs nothing; the start waits.
         */
        xna_vi_stop(vi, XNA_ERR_NONE);
        vi->reset_pending = true;
        vi->stats.resets_deferred++;
        timer_mod(vi->reset_timer,
                  vi->reset_refill_ns + XNA_RESET_INTERVAL_NS);
        return;
    }
    vi_reset_now(vi);
}

void xna_vi_reset_timer(void *opaque)
{
    XnaVi *vi = opaque;
    XenNetAccel *s = vi->dev;

    if (!vi->reset_pending) {
        return;
    }
    vi->reset_pending = false;
    if (!s->connected || s->failing || vi->index >= s->num_vis) {
        return;
    }
    reset_refill(vi, qemu_clock_get_ns(QEMU_CLOCK_REALTIME));
    if (!vi->reset_tokens) {
        xna_vi_reset(vi);    /* early wake-up: wait on */
        return;
    }
    vi_reset_now(vi);
}

/* Filters */

static bool nic_has_kind(XenNetAccel *s, uint8_t kind)
{
    return s->caps.filter_kinds & (1u << kind);
}

void xna_filter_learn(XenNetAccel *s, const XnaFilterKey *key, uint32_t vi)
{
    XnaFilterKey evicted;
    unsigned int evicted_vi;

    if (vi >= s->num_vis || !s->vis[vi].up || !nic_has_kind(s, key->kind)) {
        return;
    }
    /* A flow the guest may not answer through a VI stays slow. */
    if (key->kind != XNA_FILTER_MAC &&
        !xna_tx_policy_addr_allowed(&s->tx_policy,
                                    key->kind == XNA_FILTER_IPV6_TCP ||
                                    key->kind == XNA_FILTER_IPV6_UDP,
                                    key->dst_addr)) {
        return;
    }
    switch (xna_filter_table_insert(s->filters, key, vi, &evicted,
                                    &evicted_vi)) {
    case XNA_FILTER_REPLACED:
        xna_nic_filter_remove(s->nic, &evicted);
        s->stats.filters_evicted++;
        trace_xna_filter(s->xendev.name, "evict", evicted.kind, evicted_vi);
        xna_dev_send_filter(s, XNA_OP_REMOVE, &evicted, evicted_vi);
        /* fall through */
    case XNA_FILTER_INSERTED:
        if (xna_nic_filter_insert(s->nic, key, vi) < 0) {
            xna_filter_table_remove(s->filters, key);
            return;
        }
        s->stats.filters_inserted++;
        trace_xna_filter(s->xendev.name, "insert", key->kind, vi);
        xna_dev_send_filter(s, XNA_OP_ADD, key, vi);
        break;
    case XNA_FILTER_REFRESHED:
    case XNA_FILTER_REJECTED:
        break;
    }
}

static void filter_drop_one(const XnaFilterKey *key, unsigned int vi,
                            void *opaque)
{
    XenNetAccel *s = opaque;

    xna_nic_filter_remove(s->nic, key);
    s->stats.filters_removed++;
    xna_dev_send_filter(s, XNA_OP_REMOVE, key, vi);
}

void xna_filters_remove_vi(XenNetAccel *s, uint32_t vi)
{
    if (!s->filters) {
        return;              /* realize failed before the table existed */
    }
    xna_filter_table_remove_vi(s->filters, vi, filter_drop_one, s);
    if (vi == 0 && s->mac_filter_on) {
        XnaFilterKey key;

        xna_filter_key_mac(&key, s->conf.macaddr.a);
        xna_nic_filter_remove(s->nic, &key);
        s->mac_filter_on = false;
        s->stats.filters_removed++;
        xna_dev_send_filter(s, XNA_OP_REMOVE, &key, 0);
    }
}

/*
 * mac-filter: all unicast frames to the guest's MAC go to VI 0, flows
 * learned or not.  It is kept out of the LRU table: it is never evicted.
 */
void xna_mac_filter_insert(XenNetAccel *s)
{
    XnaFilterKey key;

    if (!s->mac_filter || s->mac_filter_on || !s->vis[0].up ||
        !nic_has_kind(s, XNA_FILTER_MAC)) {
        return;
    }
    xna_filter_key_mac(&key, s->conf.macaddr.a);
    if (xna_nic_filter_insert(s->nic, &key, 0) < 0) {
        return;
    }
    s->mac_filter_on = true;
    s->stats.filters_inserted++;
    trace_xna_filter(s->xendev.name, "insert", key.kind, 0);
    xna_dev_send_filter(s, XNA_OP_ADD, &key, 0);
}
