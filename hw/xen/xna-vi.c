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
#include "xen-net-accel.h"
#include "xna-classify.h"
#include "trace.h"

#define XNA_RX_BURST            32
#define XNA_TX_ROUNDS           4   /* re-checks of tx_prod per event */

struct xna_desc *xna_ring_slot(struct xna_desc **pages, uint32_t entries,
                               uint32_t idx)
{
    idx &= entries - 1;
    return &pages[idx / XNA_DESCS_PER_PAGE][idx % XNA_DESCS_PER_PAGE];
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

/* Copy a descriptor once and check its buffer; false if bad. */
bool xna_desc_fetch(XnaVi *vi, struct xna_desc **pages, uint32_t entries,
                    uint32_t idx, struct xna_desc *d)
{
    memcpy(d, xna_ring_slot(pages, entries, idx), sizeof(*d));
    d->page = le32_to_cpu(d->page);
    d->offset = le16_to_cpu(d->offset);
    d->len = le16_to_cpu(d->len);
    d->flags = le16_to_cpu(d->flags);
    d->csum_start = le16_to_cpu(d->csum_start);
    d->csum_offset = le16_to_cpu(d->csum_offset);
    d->reserved = le16_to_cpu(d->reserved);
    return d->page < vi->dev->pool_pages && d->reserved == 0 &&
           (uint32_t)d->offset + d->len <= XNA_PAGE_SIZE;
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
    uint32_t start = idx, len = 0, n = 0;
    struct xna_desc d, first = { 0 };

    for (;;) {
        if (idx == prod) {
            xna_vi_error(vi, XNA_ERR_BAD_FRAME, "unterminated TX frame", start);
            return start;
        }
        if (!xna_desc_fetch(vi, vi->tx_pages, vi->tx_entries, idx, &d) ||
            d.len == 0 || (d.flags & ~XNA_DESC_FLAGS_TX)) {
            xna_vi_error(vi, XNA_ERR_BAD_DESC, "bad TX descriptor", idx);
            return start;
        }
        if (n == 0) {
            first = d;
        }
        if (++n > XNA_MAX_FRAGS || len + d.len > XNA_MAX_FRAME_LEN) {
            xna_vi_error(vi, XNA_ERR_BAD_FRAME, "TX frame too long", start);
            return start;
        }
        memcpy(s->frame_buf + len, s->pool[d.page] + d.offset, d.len);
        len += d.len;
        idx++;
        if (!(d.flags & XNA_DESC_MORE)) {
            break;
        }
    }
    if (len < XNA_MIN_FRAME_LEN) {
        xna_vi_error(vi, XNA_ERR_BAD_FRAME, "TX frame too short", start);
        return start;
    }
    frame->data = s->frame_buf;
    frame->len = len;
    frame->flags = 0;
    if (first.flags & XNA_DESC_CSUM_PARTIAL) {
        if (!xna_csum_fill(s->frame_buf, len, first.csum_start,
                           first.csum_offset)) {
            xna_vi_error(vi, XNA_ERR_BAD_DESC, "TX checksum offsets", start);
            return start;
        }
    }
    return idx;
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
    XnaNicClass *nc = xna_nic_class(s->nic);
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
        while (vi->tx_cons != prod) {
            XnaFrame frame;
            uint32_t next = tx_gather(vi, vi->tx_cons, prod, &frame);

            if (next == vi->tx_cons) {
                return true;     /* VI stopped */
            }
            if (nc->tx_burst(s->nic, vi->index, &frame, 1) == 0) {
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

/*
 * Copy @frame into posted buffers from rx_cons on.  Returns false when it
 * does not fit in the @posted buffers (nothing is published then) or the
 * VI stopped.
 */
static bool rx_place(XnaVi *vi, const XnaFrame *frame, uint32_t posted,
                     uint16_t flags)
{
    XenNetAccel *s = vi->dev;
    uint32_t idx = vi->rx_cons, off = 0;
    struct xna_desc d;

    while (off < frame->len) {
        struct xna_desc *slot;
        uint32_t chunk;
        uint16_t dflags = flags;

        if (idx - vi->rx_cons == posted) {
            return false;
        }
        if (!xna_desc_fetch(vi, vi->rx_pages, vi->rx_entries, idx, &d) ||
            d.len < XNA_MIN_RX_BUFFER) {
            xna_vi_error(vi, XNA_ERR_BAD_DESC, "bad RX descriptor", idx);
            return false;
        }
        chunk = MIN(d.len, frame->len - off);
        memcpy(s->pool[d.page] + d.offset, frame->data + off, chunk);
        off += chunk;
        if (off < frame->len) {
            dflags |= XNA_DESC_MORE;
        }
        slot = xna_ring_slot(vi->rx_pages, vi->rx_entries, idx);
        slot->len = cpu_to_le16(chunk);
        slot->flags = cpu_to_le16(dflags);
        idx++;
    }
    vi->rx_cons = idx;
    return true;
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
 * buffers (a frame uses at most XNA_MAX_FRAGS of them), and at least one.
 * One that does not fit waits in the VI's held frame until the guest posts
 * more buffers: receive loses nothing while the VI is up.
 */
static uint32_t rx_burst_size(int64_t posted)
{
    return MAX(1, MIN(XNA_RX_BURST, posted / XNA_MAX_FRAGS));
}

static void rx_hold(XnaVi *vi, const XnaFrame *frame, uint16_t flags)
{
    memcpy(vi->held, frame->data, frame->len);
    vi->held_len = frame->len;
    vi->held_flags = flags;
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
    if (posted <= 0 || !rx_place(vi, &frame, posted, vi->held_flags)) {
        return false;
    }
    if (vi->held_flags & XNA_DESC_SLOW_PATH) {
        vi->stats.rx_slow_packets++;
        vi->stats.rx_slow_bytes += frame.len;
    } else {
        vi->stats.rx_packets++;
        vi->stats.rx_bytes += frame.len;
    }
    vi->held_len = 0;
    return true;
}

/* Deliver @frame or hold it; false when it is held (stop for now). */
static bool rx_deliver(XnaVi *vi, const XnaFrame *frame, uint32_t room,
                       uint16_t flags)
{
    if (!rx_place(vi, frame, room, flags)) {
        if (vi->up) {
            rx_hold(vi, frame, flags);
        }
        return false;
    }
    if (flags & XNA_DESC_SLOW_PATH) {
        vi->stats.rx_slow_packets++;
        vi->stats.rx_slow_bytes += frame->len;
    } else {
        vi->stats.rx_packets++;
        vi->stats.rx_bytes += frame->len;
    }
    return true;
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
    XnaNicClass *nc = xna_nic_class(s->nic);
    XnaFrame frames[XNA_RX_BURST];
    XnaFlowInfo info;
    uint32_t n, i;

    while ((n = nc->rx_burst(s->nic, XNA_NIC_DEFAULT_QUEUE, frames,
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
 * Move the frames of NIC queue @queue (the VI's own, or the default queue
 * for VI 0) into @vi's posted buffers.  Returns true when it stopped for
 * want of buffers (not because the NIC had nothing more).
 */
static bool rx_from_queue(XnaVi *vi, uint32_t queue)
{
    XenNetAccel *s = vi->dev;
    XnaNicClass *nc = xna_nic_class(s->nic);
    XnaFrame frames[XNA_RX_BURST];
    uint32_t n, i;

    while (vi->up) {
        uint32_t batch_start = vi->rx_cons;
        int64_t posted;

        if (!rx_place_held(vi)) {
            return true;
        }
        posted = xna_rx_posted(vi);
        if (posted <= 0) {
            return true;
        }
        n = nc->rx_burst(s->nic, queue, frames, rx_burst_size(posted));
        if (n == 0) {
            return false;
        }
        for (i = 0; i < n && vi->up; i++) {
            uint32_t room = posted - (vi->rx_cons - batch_start);
            uint16_t flags = rx_csum_flags(&frames[i]);

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
        /* rx_burst_size() made sure that only the last one can wait. */
        assert(i >= n - 1 || !vi->up);
    }
    return false;
}

/*
 * Ask for a kick when the guest posts more buffers, then look again: the
 * guest may have posted just before it saw the new event index.
 */
static bool rx_ask_for_buffers(XnaVi *vi)
{
    qatomic_set(&vi->shared->rx_prod_event, cpu_to_le32(vi->rx_cons));
    smp_mb();   /* publish the event index before re-reading rx_prod */
    return xna_rx_posted(vi) > 0;
}

void xna_rx_bh(void *opaque)
{
    XenNetAccel *s = opaque;
    bool starved[XNA_MAX_VIS] = { false };
    bool again = false;
    XnaNicClass *nc;
    uint32_t i;

    if (!s->nic) {
        return;
    }
    nc = xna_nic_class(s->nic);
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
            starved[i] = rx_from_queue(&s->vis[i], i);
        }
    }
    if (!s->caps.slow_path_samples) {
        starved[0] |= rx_from_queue(&s->vis[0], XNA_NIC_DEFAULT_QUEUE);
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
    if (nc->rx_resume) {
        nc->rx_resume(s->nic);
    }
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
    xna_ctrl_send_vi(vi->dev, XNA_MSG_VI_UP, vi->index, 0);
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
    xna_ctrl_send_vi(vi->dev, XNA_MSG_VI_DOWN, vi->index, reason);
}

/* Filters */

static bool nic_has_kind(XenNetAccel *s, uint8_t kind)
{
    return s->caps.filter_kinds & (1u << kind);
}

void xna_filter_learn(XenNetAccel *s, const XnaFilterKey *key, uint32_t vi)
{
    XnaNicClass *nc = XNA_NIC_GET_CLASS(s->nic);
    XnaFilterKey evicted;
    unsigned int evicted_vi;

    if (vi >= s->num_vis || !s->vis[vi].up || !nic_has_kind(s, key->kind)) {
        return;
    }
    switch (xna_filter_table_insert(s->filters, key, vi, &evicted,
                                    &evicted_vi)) {
    case XNA_FILTER_REPLACED:
        nc->filter_remove(s->nic, &evicted);
        s->stats.filters_evicted++;
        trace_xna_filter(s->xendev.name, "evict", evicted.kind, evicted_vi);
        xna_ctrl_send_filter(s, XNA_OP_REMOVE, &evicted, evicted_vi);
        /* fall through */
    case XNA_FILTER_INSERTED:
        if (nc->filter_insert(s->nic, key, vi) < 0) {
            xna_filter_table_remove(s->filters, key);
            return;
        }
        s->stats.filters_inserted++;
        trace_xna_filter(s->xendev.name, "insert", key->kind, vi);
        xna_ctrl_send_filter(s, XNA_OP_ADD, key, vi);
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

    XNA_NIC_GET_CLASS(s->nic)->filter_remove(s->nic, key);
    s->stats.filters_removed++;
    xna_ctrl_send_filter(s, XNA_OP_REMOVE, key, vi);
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
        XNA_NIC_GET_CLASS(s->nic)->filter_remove(s->nic, &key);
        s->mac_filter_on = false;
        s->stats.filters_removed++;
        xna_ctrl_send_filter(s, XNA_OP_REMOVE, &key, 0);
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
    if (XNA_NIC_GET_CLASS(s->nic)->filter_insert(s->nic, &key, 0) < 0) {
        return;
    }
    s->mac_filter_on = true;
    s->stats.filters_inserted++;
    trace_xna_filter(s->xendev.name, "insert", key.kind, 0);
    xna_ctrl_send_filter(s, XNA_OP_ADD, &key, 0);
}
