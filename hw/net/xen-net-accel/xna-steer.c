/*
 * xen-net-accel: steering, the device's side of the data path
 *
 * Which frames go where: flows are learned from the slow path and from
 * what the guest sends, kept in the filter book (xna-filter-table.c) and
 * mirrored into the NIC, which then steers them to their VI.  The bottom
 * halves here move frames between the NIC's queues and the VIs (each VI
 * moves its own: xna-vi.h); the slow path reaches the guest through VI 0
 * when the NIC has no host path.  This file is the device's: the VIs
 * reach it only through the XnaViOwner callbacks it hands them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "xen-net-accel.h"
#include "xna-classify.h"
#include "trace.h"

#define XNA_RX_BURST            32

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
 * NIC-side MACs (xna-wire-macs.h): the sender of a unicast frame to the
 * guest that came through the NIC is reached through it.  Not the
 * guest's own address (the loopback NIC hands back what the guest sent).
 * A co-resident guest's address is announced as LOCAL_MAC, which the
 * guest checks first.
 */
static uint64_t mac_u64(const uint8_t *mac)
{
    return ((uint64_t)ldl_be_p(mac) << 16) | lduw_be_p(mac + 4);
}

/*
 * New MACs are taken at 1 a second after a burst of 16, so that a host on
 * the wire that sends from ever new addresses cannot make the device
 * flood the guest's control channel (two messages per new MAC once the
 * book is full) or churn the book faster than that.
 */
#define XNA_WIRE_MAC_BURST      16
#define XNA_WIRE_MAC_REFILL_NS  NANOSECONDS_PER_SECOND

static bool wire_mac_token(XenNetAccel *s, int64_t now)
{
    if (s->wire_mac_tokens < XNA_WIRE_MAC_BURST) {
        int64_t n = (now - s->wire_mac_refill_ns) / XNA_WIRE_MAC_REFILL_NS;

        if (n > 0) {
            s->wire_mac_tokens = MIN(XNA_WIRE_MAC_BURST,
                                     s->wire_mac_tokens + n);
            s->wire_mac_refill_ns += n * XNA_WIRE_MAC_REFILL_NS;
        }
    } else {
        s->wire_mac_refill_ns = now;
    }
    if (!s->wire_mac_tokens) {
        return false;
    }
    s->wire_mac_tokens--;
    return true;
}

static void wire_mac_learn(XenNetAccel *s, const uint8_t *frame)
{
    static const uint8_t zero[6];
    const uint8_t *src = frame + 6;
    uint8_t evicted[6];
    int64_t now;

    if (!s->wire_mac_ageing || xna_mac_is_group(src) ||
        !memcmp(src, zero, 6) || !memcmp(src, s->conf.macaddr.a, 6)) {
        return;
    }
    now = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    if (xna_wire_macs_refresh(&s->wire_macs, src, now)) {
        return;
    }
    if (!wire_mac_token(s, now)) {
        s->stats.wire_macs_throttled++;
        return;
    }
    switch (xna_wire_macs_seen(&s->wire_macs, src, now, evicted)) {
    case XNA_WIRE_MAC_REFRESHED:
        return;
    case XNA_WIRE_MAC_REPLACED:
        s->stats.wire_macs_forgotten++;
        xna_dev_send_wire_mac(s, XNA_OP_REMOVE, evicted);
        /* fall through */
    case XNA_WIRE_MAC_ADDED:
        s->stats.wire_macs_learned++;
        trace_xna_wire_mac(s->xendev.name, "learn", mac_u64(src));
        xna_dev_send_wire_mac(s, XNA_OP_ADD, src);
        break;
    }
    if (!timer_pending(s->wire_mac_timer)) {
        timer_mod(s->wire_mac_timer,
                  now + (int64_t)s->wire_mac_ageing * NANOSECONDS_PER_SECOND);
    }
}

/* Forgets the MACs not seen for the ageing time, then waits for the next. */
static void wire_mac_expire(void *opaque)
{
    XenNetAccel *s = opaque;
    int64_t age = (int64_t)s->wire_mac_ageing * NANOSECONDS_PER_SECOND;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_REALTIME), oldest;
    uint8_t mac[6];

    while (xna_wire_macs_expire(&s->wire_macs, now - age, mac)) {
        s->stats.wire_macs_forgotten++;
        trace_xna_wire_mac(s->xendev.name, "age", mac_u64(mac));
        xna_dev_send_wire_mac(s, XNA_OP_REMOVE, mac);
    }
    if (xna_wire_macs_oldest(&s->wire_macs, &oldest)) {
        timer_mod(s->wire_mac_timer, oldest + age);
    }
}

void xna_wire_macs_start(XenNetAccel *s)
{
    xna_wire_macs_init(&s->wire_macs);
    s->wire_mac_tokens = XNA_WIRE_MAC_BURST;
    s->wire_mac_refill_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    s->wire_mac_timer = timer_new_ns(QEMU_CLOCK_REALTIME, wire_mac_expire, s);
}

void xna_wire_macs_stop(XenNetAccel *s)
{
    g_clear_pointer(&s->wire_mac_timer, timer_free);
}

/* At HELLO: what the wire taught before this connection (at most 16). */
void xna_wire_macs_tell_guest(XenNetAccel *s)
{
    unsigned int i;

    for (i = 0; i < s->wire_macs.count; i++) {
        xna_dev_send_wire_mac(s, XNA_OP_ADD, s->wire_macs.e[i].mac);
    }
}

/*
 * A frame of the default queue, the slow path: frames for the guest's MAC
 * teach the backend a flow; they and group-addressed frames reach the
 * guest (through VI 0, flagged XNA_DESC_SLOW_PATH); others are dropped.
 */
static bool rx_slow_path_accept(void *opaque, const XnaFrame *frame)
{
    XenNetAccel *s = opaque;
    XnaFlowInfo info;

    /* The address first: frames for others are not parsed. */
    if (frame->len < XNA_ETH_HLEN) {
        return false;
    }
    if (!xna_mac_is_group(frame->data) &&
        memcmp(frame->data, s->conf.macaddr.a, 6)) {
        s->stats.drop_rx_not_for_guest++;
        return false;
    }
    if (!xna_mac_is_group(frame->data)) {
        wire_mac_learn(s, frame->data);
    }
    if (!xna_classify(frame->data, frame->len, &info)) {
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
static void rx_learn_mac_filtered(void *opaque, const XnaFrame *frame)
{
    XenNetAccel *s = opaque;
    XnaFlowInfo info;

    if (frame->len >= XNA_ETH_HLEN) {
        wire_mac_learn(s, frame->data);
    }
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
            const uint8_t *data = frames[i].data;

            s->stats.rx_host_samples++;
            if (frames[i].len < XNA_ETH_HLEN || xna_mac_is_group(data) ||
                memcmp(data, s->conf.macaddr.a, 6)) {
                continue;
            }
            wire_mac_learn(s, data);
            if (s->connected &&
                xna_classify(data, frames[i].len, &info) && info.has_flow) {
                xna_filter_learn(s, &info.dst_flow,
                                 flow_vi(s, &info.dst_flow));
            }
        }
    }
}

/* One RX round of VI @i; true when it must come back (see xna_rx_bh). */
static bool rx_vi(XenNetAccel *s, uint32_t i)
{
    /* Without a host path, the slow path reaches the guest by VI 0. */
    bool slow = i == 0 && !s->caps.slow_path_samples;
    unsigned int r;

    if (!xna_vi_is_up(s->vis[i])) {
        return false;
    }
    r = xna_vi_process_rx(s->vis[i], slow ? rx_slow_path_accept : NULL, s);
    if (r & XNA_VI_RX_YIELDED) {
        s->stats.rx_yields++;
    }
    return r & XNA_VI_RX_AGAIN;
}

/*
 * xna_rx_bh and xna_tx_bh keep their names: they are entry points of the
 * data path for make bench (xna-bench-cg.c), as xna_vi_event is.
 */
static void xna_rx_bh(void *opaque)
{
    XenNetAccel *s = opaque;
    bool again = false;
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
        again |= rx_vi(s, i);
    }
    xna_nic_rx_resume(s->nic);
    if (again) {
        qemu_bh_schedule(s->rx_bh);
    }
}

static void xna_tx_bh(void *opaque)
{
    XenNetAccel *s = opaque;
    uint32_t i;

    for (i = 0; i < s->num_vis; i++) {
        if (xna_vi_is_up(s->vis[i])) {
            xna_vi_process_tx(s->vis[i]);
        }
    }
}

/* XnaNicHost */

static void nic_rx_ready(void *opaque, uint32_t queue)
{
    XenNetAccel *s = opaque;

    qemu_bh_schedule(s->rx_bh);
}

/*
 * From the NIC's fd handler for the queue of VI @queue: that VI's round
 * only, so that a wake-up of each of k queues in one main loop iteration
 * costs k rounds, not k times every VI's.  The rest waits for the bottom
 * half, as from rx_ready.
 */
static void nic_rx_run(void *opaque, uint32_t queue)
{
    XenNetAccel *s = opaque;

    if (!s->nic || !s->connected || queue >= s->num_vis) {
        qemu_bh_schedule(s->rx_bh);
        return;
    }
    if (rx_vi(s, queue)) {
        qemu_bh_schedule(s->rx_bh);
    }
    xna_nic_rx_resume(s->nic);
}

static void nic_tx_ready(void *opaque)
{
    XenNetAccel *s = opaque;
    uint32_t i;

    for (i = 0; i < s->num_vis; i++) {
        xna_vi_tx_resume(s->vis[i]);
    }
}

/* The NIC lost what carries VI @vi. */
static void nic_vi_failed(void *opaque, uint32_t vi)
{
    XenNetAccel *s = opaque;

    if (vi < s->num_vis) {
        xna_vi_down(s->vis[vi], XNA_ERR_NIC);
    }
}

void xna_steer_nic_host(XenNetAccel *s, XnaNicHost *host)
{
    *host = (XnaNicHost) {
        .opaque = s,
        .rx_ready = nic_rx_ready,
        .rx_run = nic_rx_run,
        .tx_ready = nic_tx_ready,
        .vi_failed = nic_vi_failed,
    };
}

/* XnaViOwner */

static void vi_up(void *opaque, uint32_t vi)
{
    XenNetAccel *s = opaque;

    /* Before VI_UP: the guest may send as soon as it reads that. */
    if (vi == 0) {
        xna_mac_filter_insert(s);
    }
    xna_dev_send_vi_state(s, XNA_MSG_VI_UP, vi, 0);
}

static void vi_down(void *opaque, uint32_t vi, uint32_t reason)
{
    XenNetAccel *s = opaque;

    xna_filters_remove_vi(s, vi);
    xna_dev_send_vi_state(s, XNA_MSG_VI_DOWN, vi, reason);
}

static void vi_learn_tx(void *opaque, uint32_t vi, const XnaFilterKey *flow)
{
    xna_filter_learn(opaque, flow, vi);
}

static void vi_rx_wanted(void *opaque)
{
    XenNetAccel *s = opaque;

    qemu_bh_schedule(s->rx_bh);
}

static void vi_tx_wanted(void *opaque)
{
    XenNetAccel *s = opaque;

    qemu_bh_schedule(s->tx_bh);
}

void xna_steer_vi_owner(XenNetAccel *s, XnaViOwner *owner)
{
    *owner = (XnaViOwner) {
        .opaque = s,
        .xendev = &s->xendev,
        .nic = s->nic,
        .tx_policy = &s->tx_policy,
        .up = vi_up,
        .down = vi_down,
        .learn_tx = vi_learn_tx,
        .learn_rx = rx_learn_mac_filtered,
        .rx_wanted = vi_rx_wanted,
        .tx_wanted = vi_tx_wanted,
    };
}

void xna_steer_init(XenNetAccel *s)
{
    s->rx_bh = qemu_bh_new_guarded(xna_rx_bh, s,
                                   &DEVICE(s)->mem_reentrancy_guard);
    s->tx_bh = qemu_bh_new_guarded(xna_tx_bh, s,
                                   &DEVICE(s)->mem_reentrancy_guard);
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

    if (vi >= s->num_vis || !xna_vi_is_up(s->vis[vi]) ||
        !nic_has_kind(s, key->kind)) {
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
        xna_vi_set_rx_learning(s->vis[0], false);
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

    if (!s->mac_filter || s->mac_filter_on || !xna_vi_is_up(s->vis[0]) ||
        !nic_has_kind(s, XNA_FILTER_MAC)) {
        return;
    }
    xna_filter_key_mac(&key, s->conf.macaddr.a);
    if (xna_nic_filter_insert(s->nic, &key, 0) < 0) {
        return;
    }
    s->mac_filter_on = true;
    xna_vi_set_rx_learning(s->vis[0], true);
    s->stats.filters_inserted++;
    trace_xna_filter(s->xendev.name, "insert", key.kind, 0);
    xna_dev_send_filter(s, XNA_OP_ADD, &key, 0);
}
