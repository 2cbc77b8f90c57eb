/*
 * xen-net-accel: a VI's life cycle and its transmit path
 *
 * TX: frames are copied once out of the guest's pool (so the guest cannot
 * change them while they are checked and sent), checksummed if asked,
 * checked against dom0's policy and handed to the NIC; the flow they come
 * from is reported to the owner.  Every descriptor is copied out of the
 * ring once and validated; a bad one stops the VI.  Notifications follow
 * the event-index rule both ways, so a busy ring is not kicked per
 * packet.  No grant operation happens on the data path: the pool and the
 * rings were mapped at start.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "xna-vi-internal.h"
#include "xna-classify.h"
#include "xna-ring.h"
#include "trace.h"

#define XNA_TX_ROUNDS           4   /* re-checks of tx_prod per event */

void xna_vi_notify(XnaVi *vi)
{
    vi->stats.notifies++;
    xen_device_notify_event_channel(vi->owner.xendev, vi->evtchn, NULL);
}

void xna_vi_error(XnaVi *vi, uint32_t reason, const char *what,
                  uint32_t idx)
{
    qemu_log_mask(LOG_GUEST_ERROR, "xen-net-accel %s: VI %u: %s at index "
                  "%u; stopping the VI\n", vi->owner.xendev->name, vi->index,
                  what, idx);
    trace_xna_vi_error(vi->owner.xendev->name, vi->index, what, idx);
    vi->stats.guest_errors++;
    xna_vi_down(vi, reason);
}

/* Free posted RX buffers, or -1 after stopping the VI. */
int64_t xna_vi_rx_posted(XnaVi *vi)
{
    uint32_t prod = xna_ring_read_index(&vi->shared->rx_prod);

    if (!xna_ring_prod_ok(prod, vi->rx_cons, vi->rx_entries)) {
        xna_vi_error(vi, XNA_ERR_BAD_INDEX, "RX producer out of range", prod);
        return -1;
    }
    return prod - vi->rx_cons;
}

/* Transmit */

/*
 * Collect the frame starting at @idx (published up to @prod) into @buf
 * (XNA_MAX_FRAME_LEN bytes).  Returns the index after it, or @idx on
 * error (the VI is stopped then).
 */
static uint32_t tx_gather(XnaVi *vi, uint32_t idx, uint32_t prod,
                          uint8_t *buf, XnaFrame *frame)
{
    XnaWireRing ring = xna_vi_tx_ring(vi);
    XnaWirePool pool = xna_vi_wire_pool(vi);
    uint32_t len, next, bad;
    XnaWireStatus st;

    st = xna_wire_tx_gather(&ring, &pool, idx, prod, buf, &len, &next, &bad);
    if (st != XNA_WIRE_OK) {
        xna_vi_error(vi, xna_wire_status_reason(st),
                     xna_wire_status_text(st), bad);
        return idx;
    }
    frame->data = buf;
    frame->len = len;
    frame->flags = 0;
    frame->info = NULL;
    return next;
}

/*
 * A frame dom0's policy (xna-tx-policy.h) refuses is consumed and counted;
 * the VI goes on.
 */
static void tx_refused(XnaVi *vi, XnaTxVerdict v)
{
    vi->stats.drop_tx_policy++;
    trace_xna_vi_tx_refused(vi->owner.xendev->name, vi->index, v);
}

/*
 * Report the flow the guest sends from (the owner learns it), once per
 * flow and call of xna_vi_process_tx(): a burst is mostly a few flows,
 * and learning costs a filter table lookup.  What a burst learned is
 * forgotten at its end, so a flow is still refreshed in the owner's LRU
 * once per burst it sends in.
 */
static void tx_learn(XnaVi *vi, const XnaFlowInfo *info)
{
    uint32_t i;

    if (!info->has_flow) {
        return;
    }
    for (i = 0; i < vi->tx_learned_nr; i++) {
        if (!memcmp(&vi->tx_learned[i], &info->src_flow,
                    sizeof(info->src_flow))) {
            return;
        }
    }
    if (vi->tx_learned_nr < XNA_TX_LEARNED_PER_BURST) {
        vi->tx_learned[vi->tx_learned_nr++] = info->src_flow;
    } else {
        /* More flows than remembered: the oldest slot goes. */
        vi->tx_learned[vi->tx_learned_next] = info->src_flow;
        vi->tx_learned_next = (vi->tx_learned_next + 1) %
                              XNA_TX_LEARNED_PER_BURST;
    }
    vi->owner.learn_tx(vi->owner.opaque, vi->index, &info->src_flow);
}

/* Frames gathered for one call of the NIC's tx_burst. */
typedef struct TxBatch {
    XnaFrame frames[XNA_TX_BATCH];
    XnaFlowInfo info[XNA_TX_BATCH];
    uint32_t next[XNA_TX_BATCH];     /* the ring index after each frame */
    uint32_t nr;
} TxBatch;

/*
 * Hand the batch to the NIC; what it took is consumed.  False when it
 * took less: the rest stays in the ring, to be gathered again from the
 * guest's pool once the NIC has room (xna_vi_tx_resume()).
 */
static bool tx_flush(XnaVi *vi, TxBatch *b)
{
    uint32_t sent, i;

    if (!b->nr) {
        return true;
    }
    sent = MIN(xna_nic_tx_burst(vi->owner.nic, vi->index, b->frames, b->nr),
               b->nr);
    for (i = 0; i < sent; i++) {
        vi->stats.tx_packets++;
        vi->stats.tx_bytes += b->frames[i].len;
        tx_learn(vi, &b->info[i]);
    }
    if (sent) {
        vi->tx_cons = b->next[sent - 1];
    }
    if (sent < b->nr) {
        vi->stats.tx_nic_full++;
        vi->tx_blocked = true;
    }
    b->nr = 0;
    return !vi->tx_blocked;
}

/*
 * The frames published up to @prod, in batches.  A frame the policy
 * refuses is consumed only once those before it are sent, so that it is
 * counted once.
 */
static void tx_ring(XnaVi *vi, uint32_t prod)
{
    uint32_t idx = vi->tx_cons;
    TxBatch b;

    b.nr = 0;
    while (idx != prod && vi->up) {
        XnaFrame *frame = &b.frames[b.nr];
        XnaFlowInfo *info = &b.info[b.nr];
        uint32_t next = tx_gather(vi, idx, prod, vi->tx_bufs[b.nr], frame);
        XnaTxVerdict v;
        bool parsed;

        if (next == idx) {
            return;     /* VI stopped: the batch's frames are not sent */
        }
        parsed = xna_classify(frame->data, frame->len, info);
        v = xna_tx_policy_check_classified(vi->owner.tx_policy, frame->data,
                                           frame->len, parsed, info);
        frame->info = parsed ? info : NULL;   /* the NIC need not parse */
        if (v != XNA_TX_OK) {
            if (!tx_flush(vi, &b)) {
                return;
            }
            tx_refused(vi, v);
            vi->tx_cons = next;
        } else {
            b.next[b.nr++] = next;
            if (b.nr == XNA_TX_BATCH && !tx_flush(vi, &b)) {
                return;
            }
        }
        idx = next;
    }
    if (vi->up) {
        tx_flush(vi, &b);
    }
}

bool xna_vi_process_tx(XnaVi *vi)
{
    uint32_t old_cons = vi->tx_cons, prod;
    int rounds;

    vi->tx_learned_nr = 0;
    vi->tx_learned_next = 0;
    for (rounds = 0; rounds < XNA_TX_ROUNDS && vi->up && !vi->tx_blocked;
         rounds++) {
        prod = xna_ring_read_index(&vi->shared->tx_prod);
        if (!xna_ring_prod_ok(prod, vi->tx_cons, vi->tx_entries)) {
            xna_vi_error(vi, XNA_ERR_BAD_INDEX, "TX producer out of range",
                         prod);
            return true;
        }
        tx_ring(vi, prod);
        if (!vi->up) {
            return true;         /* VI stopped */
        }
        if (vi->tx_blocked) {
            break;
        }
        /* Drained: ask for a kick on the next frame, then look again. */
        if (xna_ring_set_event(&vi->shared->tx_prod_event, vi->tx_cons,
                               &vi->shared->tx_prod) == vi->tx_cons) {
            break;
        }
    }
    if (rounds == XNA_TX_ROUNDS && vi->up && !vi->tx_blocked) {
        /*
         * More frames came while we looked: the guest saw our event index
         * before we moved it and did not kick.  Go on from the owner's
         * bottom half, so that one busy VI does not hold the main loop.
         */
        vi->owner.tx_wanted(vi->owner.opaque);
    }
    if (vi->tx_cons != old_cons) {
        /* Our reads of the buffers are done before the index moves. */
        if (xna_ring_publish(&vi->shared->tx_cons,
                             &vi->shared->tx_cons_event, vi->tx_cons,
                             old_cons)) {
            xna_vi_notify(vi);
        }
        return true;
    }
    return false;
}

void xna_vi_tx_resume(XnaVi *vi)
{
    if (vi->up && vi->tx_blocked) {
        vi->tx_blocked = false;
        xna_vi_process_tx(vi);
    }
}

/*
 * The guest's kick: transmit, and look at its posted buffers.  (Named
 * for make bench: one of the data path's entry points, xna-bench-cg.c.)
 */
static bool xna_vi_event(void *opaque)
{
    XnaVi *vi = opaque;
    bool progress;

    if (!vi->up) {
        return false;
    }
    vi->stats.kicks++;
    progress = xna_vi_process_tx(vi);
    /* The guest may have posted buffers: deliver what waits for them. */
    vi->owner.rx_wanted(vi->owner.opaque);
    return progress;
}

/* Protocol state */

void xna_vi_up(XnaVi *vi)
{
    if (!vi->started || vi->halted || vi->up) {
        return;              /* a failing owner disconnects: stay down */
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
    trace_xna_vi_up(vi->owner.xendev->name, vi->index);
    xna_vi_pool_start(vi);
    /* The owner's filters, then VI_UP: the guest may send at once. */
    vi->owner.up(vi->owner.opaque, vi->index);
    /* Traffic may already wait: the guest posted and kicked earlier. */
    xna_vi_process_tx(vi);
    vi->owner.rx_wanted(vi->owner.opaque);
}

/* Down, without telling anyone: the common part of down and stop. */
static void vi_quiesce(XnaVi *vi)
{
    vi->up = false;
    xna_vi_pool_stop(vi);
    xna_vi_rx_drop_held(vi);
}

void xna_vi_down(XnaVi *vi, uint32_t reason)
{
    if (!vi->up) {
        return;
    }
    vi_quiesce(vi);
    trace_xna_vi_down(vi->owner.xendev->name, vi->index, reason);
    vi->owner.down(vi->owner.opaque, vi->index, reason);
}

void xna_vi_halt(XnaVi *vi)
{
    vi->halted = true;
    vi->up = false;
}

bool xna_vi_is_up(XnaVi *vi)
{
    return vi->up;
}

void xna_vi_set_rx_learning(XnaVi *vi, bool on)
{
    vi->rx_learning = on;
}

/*
 * VI_RESET is cheap for the guest and not for us (a NIC may close and
 * reopen sockets for it): a token bucket lets XNA_RESET_BURST resets
 * through at once and one per XNA_RESET_INTERVAL_NS after that.  A reset
 * beyond that waits for its token on a timer; those asked for meanwhile
 * are the same reset, so a storm costs one reset per interval.  The
 * bucket is kept across connections: a guest that reconnects does not
 * get its resets back (connects have their own bucket).
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

static void reset_now(XnaVi *vi)
{
    vi->reset_tokens--;
    vi->stats.resets++;
    xna_vi_down(vi, XNA_ERR_NONE);
    xna_vi_up(vi);
}

static void reset_cancel(XnaVi *vi)
{
    vi->reset_pending = false;
    timer_del(vi->reset_timer);
}

void xna_vi_reset(XnaVi *vi)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);

    if (vi->reset_pending || !vi->started) {
        return;
    }
    reset_refill(vi, now);
    trace_xna_vi_reset(vi->owner.xendev->name, vi->index, !vi->reset_tokens);
    if (!vi->reset_tokens) {
        /*
         * Stop it now: the guest has reset its half of the shared page
         * already, and the VI must not go on with those indices.  The
         * stop of a VI that is down costs nothing; the start waits.
         */
        xna_vi_down(vi, XNA_ERR_NONE);
        vi->reset_pending = true;
        vi->stats.resets_deferred++;
        timer_mod(vi->reset_timer,
                  vi->reset_refill_ns + XNA_RESET_INTERVAL_NS);
        return;
    }
    reset_now(vi);
}

static void reset_timer_cb(void *opaque)
{
    XnaVi *vi = opaque;

    if (!vi->reset_pending) {
        return;
    }
    vi->reset_pending = false;
    if (!vi->started || vi->halted) {
        return;
    }
    reset_refill(vi, qemu_clock_get_ns(QEMU_CLOCK_REALTIME));
    if (!vi->reset_tokens) {
        xna_vi_reset(vi);    /* early wake-up: wait on */
        return;
    }
    reset_now(vi);
}

/* Life cycle */

XnaVi *xna_vi_new(uint32_t index, const XnaViOwner *owner)
{
    XnaVi *vi = g_new0(XnaVi, 1);

    vi->index = index;
    vi->owner = *owner;
    vi->reset_tokens = XNA_RESET_BURST;
    vi->reset_refill_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    vi->reset_timer = timer_new_ns(QEMU_CLOCK_REALTIME, reset_timer_cb, vi);
    return vi;
}

void xna_vi_free(XnaVi *vi)
{
    if (vi) {
        xna_vi_stop(vi);
        timer_free(vi->reset_timer);
        g_free(vi);
    }
}

XnaViStats *xna_vi_stats(XnaVi *vi)
{
    return &vi->stats;
}

static void *map_one(XnaVi *vi, uint32_t *ref, Error **errp)
{
    return xen_device_map_grant_refs(vi->owner.xendev, ref, 1,
                                     PROT_READ | PROT_WRITE, errp);
}

static void unmap_one(XnaVi *vi, void *addr, uint32_t *ref)
{
    if (addr) {
        xen_device_unmap_grant_refs(vi->owner.xendev, addr, ref, 1,
                                    &error_warn);
    }
}

/*
 * Ring pages are mapped one by one and indexed page by page, so that no
 * two grants need to be contiguous (Xen-on-KVM cannot map them so).
 */
static bool map_ring(XnaVi *vi, const char *dir, uint32_t entries,
                     uint32_t *refs, struct xna_desc **pages, Error **errp)
{
    uint32_t k;

    for (k = 0; k < entries / XNA_DESCS_PER_PAGE; k++) {
        pages[k] = map_one(vi, &refs[k], errp);
        if (!pages[k]) {
            error_prepend(errp, "%s ring page %u: ", dir, k);
            return false;
        }
    }
    return true;
}

bool xna_vi_start(XnaVi *vi, const XnaViRings *rings, const XnaViPool *pool,
                  Error **errp)
{
    xna_vi_stop(vi);             /* a start without a stop before */
    vi->started = true;          /* xna_vi_stop() undoes what was done */
    vi->halted = false;
    vi->tx_entries = rings->tx_entries;
    vi->rx_entries = rings->rx_entries;
    vi->shared_ref = rings->shared_ref;
    memcpy(vi->tx_refs, rings->tx_refs, sizeof(vi->tx_refs));
    memcpy(vi->rx_refs, rings->rx_refs, sizeof(vi->rx_refs));
    vi->pool = *pool;
    reset_cancel(vi);
    vi->shared = map_one(vi, &vi->shared_ref, errp);
    if (!vi->shared) {
        error_prepend(errp, "shared page: ");
        return false;
    }
    if (!map_ring(vi, "TX", vi->tx_entries, vi->tx_refs, vi->tx_pages,
                  errp) ||
        !map_ring(vi, "RX", vi->rx_entries, vi->rx_refs, vi->rx_pages,
                  errp)) {
        return false;
    }
    vi->evtchn = xen_device_bind_event_channel(vi->owner.xendev, rings->port,
                                               xna_vi_event, vi, errp);
    if (!vi->evtchn) {
        return false;
    }
    if (!xna_nic_vi_alloc(vi->owner.nic, vi->index, errp)) {
        return false;
    }
    vi->allocated = true;
    return true;
}

void xna_vi_stop(XnaVi *vi)
{
    uint32_t k;

    if (!vi->started) {
        return;
    }
    /* Before anything is unmapped: the NIC stops writing into the pool. */
    vi_quiesce(vi);
    reset_cancel(vi);        /* no reset waits for a gone VI */
    if (vi->allocated) {
        xna_nic_vi_free(vi->owner.nic, vi->index);
        vi->allocated = false;
    }
    if (vi->evtchn) {
        xen_device_unbind_event_channel(vi->owner.xendev, vi->evtchn,
                                        &error_warn);
        vi->evtchn = NULL;
    }
    for (k = 0; k < XNA_MAX_RING_PAGES; k++) {
        unmap_one(vi, vi->tx_pages[k], &vi->tx_refs[k]);
        unmap_one(vi, vi->rx_pages[k], &vi->rx_refs[k]);
        vi->tx_pages[k] = NULL;
        vi->rx_pages[k] = NULL;
    }
    unmap_one(vi, vi->shared, &vi->shared_ref);
    vi->shared = NULL;
    memset(&vi->pool, 0, sizeof(vi->pool));
    vi->started = false;
    vi->halted = false;
}
