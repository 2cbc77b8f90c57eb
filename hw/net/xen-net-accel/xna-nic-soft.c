/*
 * xen-net-accel: software NIC base class
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "crypto/random.h"
#include "xna-nic-soft.h"
#include "xna-classify.h"
#include "xna-flow-map.h"
#include "hw/net/xen-net-accel-protocol.h"

/*
 * The filter map's hash seed: the guest picks the ports of its keys, and
 * only a seed it cannot guess keeps them from sharing one run of slots.
 */
static uint64_t soft_filter_seed(void)
{
    uint64_t seed;

    if (qcrypto_random_bytes(&seed, sizeof(seed), NULL) < 0) {
        seed = (uint64_t)g_random_int() << 32 | g_random_int();
    }
    return seed;
}

void xna_soft_nic_open(XnaSoftNic *s, const XnaNicConfig *cfg)
{
    uint32_t i;

    s->max_vis = cfg->max_vis;
    /* The device's max-filters is at most 65536: well within the map's. */
    s->max_filters = MIN(MAX(cfg->max_filters, 1), XNA_FLOW_MAP_MAX_ENTRIES);
    memcpy(s->mac, cfg->conf->macaddr.a, sizeof(s->mac));
    s->filters = xna_flow_map_new(s->max_filters, soft_filter_seed());
    s->queues = g_new0(XnaSoftQueue, s->max_vis + 1);
    for (i = 0; i <= s->max_vis; i++) {
        s->queues[i].slots = g_new0(XnaFrame, XNA_SOFT_NIC_RING);
        s->queues[i].caps = g_new0(uint32_t, XNA_SOFT_NIC_RING);
        s->queues[i].spare = g_new0(XnaSoftBuf, XNA_SOFT_NIC_RING);
    }
    s->vi_active = g_new0(bool, s->max_vis);
}

static XnaSoftQueue *soft_queue(XnaSoftNic *s, uint32_t queue)
{
    if (queue == XNA_NIC_DEFAULT_QUEUE) {
        return &s->queues[s->max_vis];
    }
    return queue < s->max_vis ? &s->queues[queue] : NULL;
}

static uint32_t soft_queue_len(const XnaSoftQueue *q)
{
    return q->prod - q->head;
}

/*
 * No room for another frame.  The second test never decides while the
 * queue keeps its invariant (handed out + queued < XNA_SOFT_NIC_RING):
 * it is there so that a slot still handed out is never written.
 */
static bool soft_queue_full(const XnaSoftQueue *q)
{
    return soft_queue_len(q) >= XNA_SOFT_NIC_QUEUE_LEN ||
           q->prod - q->tail >= XNA_SOFT_NIC_RING;
}

/* Give the buffers of ring slots [from, to) back to the spares. */
static void soft_queue_release(XnaSoftQueue *q, uint32_t from, uint32_t to)
{
    for (; from != to; from++) {
        uint32_t slot = from % XNA_SOFT_NIC_RING;
        XnaFrame *f = &q->slots[slot];

        if (!f->data) {
            continue;
        }
        /* There are never more buffers than slots: the stack has room. */
        if (q->nr_spare < XNA_SOFT_NIC_RING) {
            q->spare[q->nr_spare++] = (XnaSoftBuf) { f->data,
                                                     q->caps[slot] };
        } else {
            g_free(f->data);
        }
        f->data = NULL;
        q->caps[slot] = 0;
    }
}

static void soft_queue_release_taken(XnaSoftQueue *q)
{
    soft_queue_release(q, q->tail, q->head);
    q->tail = q->head;
}

/*
 * Drop the queued frames: the producer goes back to the first of them.
 * Those the last rx_burst handed out stay valid until the next one, as
 * always, and the ring keeps holding at most them plus what is queued
 * (moving head forward instead would let a queue that refills reach a
 * slot still counted as handed out, whose buffer the next rx_burst
 * would take away from a queued frame).
 */
static void soft_queue_clear(XnaSoftQueue *q)
{
    soft_queue_release(q, q->head, q->prod);
    q->prod = q->head;
}

/* A buffer of at least @len bytes for ring slot @slot. */
static uint8_t *soft_queue_buffer(XnaSoftQueue *q, uint32_t slot,
                                  uint32_t len)
{
    XnaFrame *f = &q->slots[slot];

    if (!f->data && q->nr_spare) {
        XnaSoftBuf b = q->spare[--q->nr_spare];

        f->data = b.data;
        q->caps[slot] = b.cap;
    }
    if (q->caps[slot] < len) {
        /* Grown once to the largest frame this buffer has held. */
        q->caps[slot] = MAX(len, 2048);
        g_free(f->data);
        f->data = g_malloc(q->caps[slot]);
    }
    return f->data;
}

static void soft_queue_free(XnaSoftQueue *q)
{
    uint32_t i;

    for (i = 0; q->slots && i < XNA_SOFT_NIC_RING; i++) {
        g_free(q->slots[i].data);
    }
    for (i = 0; i < q->nr_spare; i++) {
        g_free(q->spare[i].data);
    }
    g_free(q->slots);
    g_free(q->caps);
    g_free(q->spare);
}

static uint32_t soft_classify(XnaSoftNic *s, const uint8_t *buf, size_t len,
                              const XnaFlowInfo *given, XnaFlowInfo *info,
                              bool *parsed)
{
    XnaFilterKey mac_key;
    bool found = false;
    uint32_t vi;

    *parsed = false;
    if (len < XNA_ETH_HLEN) {
        return XNA_NIC_DEFAULT_QUEUE;
    }
    /*
     * A flow filter takes only frames to the guest's MAC: the address and
     * port may belong to another host on the wire, whose traffic a guest
     * must not get by claiming its flow.  Other frames are not parsed.
     */
    if (!memcmp(buf, s->mac, sizeof(s->mac))) {
        if (given) {
            *info = *given;
            *parsed = true;
        } else {
            *parsed = xna_classify(buf, len, info);
        }
        if (*parsed && info->has_flow) {
            found = xna_flow_map_get(s->filters, &info->dst_flow, &vi);
        }
    }
    if (!found && s->nr_mac_filters) {
        xna_filter_key_mac(&mac_key, buf);
        found = xna_flow_map_get(s->filters, &mac_key, &vi);
    }
    if (found && vi < s->max_vis && s->vi_active[vi]) {
        return vi;
    }
    return XNA_NIC_DEFAULT_QUEUE;
}

bool xna_soft_nic_can_receive(XnaSoftNic *s)
{
    uint32_t i;

    /* With a host path, a full default queue only loses samples. */
    for (i = 0; i < s->max_vis + (s->to_host ? 0 : 1); i++) {
        if (soft_queue_full(&s->queues[i])) {
            return false;
        }
    }
    return true;
}

bool xna_soft_nic_receive(XnaSoftNic *s, const uint8_t *buf, size_t len)
{
    return xna_soft_nic_receive_classified(s, buf, len, NULL);
}

bool xna_soft_nic_receive_classified(XnaSoftNic *s, const uint8_t *buf,
                                     size_t len, const XnaFlowInfo *given)
{
    uint32_t queue, slot;
    XnaFlowInfo info;
    XnaSoftQueue *q;
    XnaFrame *f;
    bool parsed;

    /*
     * Bounded where frames enter: a -netdev peer sends whatever its MTU
     * allows (a 64 KiB datagram, say), and nothing longer than an
     * Ethernet frame of the protocol's largest MTU can reach a guest.
     */
    if (len < XNA_MIN_FRAME_LEN || len > XNA_MAX_FRAME_LEN) {
        s->stats.rx_dropped++;
        s->stats.rx_bad_len++;
        return true;
    }
    queue = soft_classify(s, buf, len, given, &info, &parsed);
    /*
     * Without a host path the default queue is the guest's slow path,
     * and a unicast frame to another MAC has nowhere to go: dropped here,
     * as a NIC's unicast filter does, instead of being copied, queued
     * and dropped by the device.  (A frame of a MAC filter has a VI.)
     */
    if (queue == XNA_NIC_DEFAULT_QUEUE && !s->to_host &&
        !xna_mac_is_group(buf) && memcmp(buf, s->mac, sizeof(s->mac))) {
        s->stats.rx_other_mac++;
        return true;
    }
    q = soft_queue(s, queue);
    slot = q->prod % XNA_SOFT_NIC_RING;
    f = &q->slots[slot];

    /* Queued and handed-out frames together fit the ring: see the .h */
    if (queue == XNA_NIC_DEFAULT_QUEUE && s->to_host) {
        s->to_host(s, buf, len);
        s->stats.host_frames++;
        if (soft_queue_full(q)) {
            return true;     /* the frame went on; only its sample is lost */
        }
    } else if (soft_queue_full(q)) {
        return false;
    }
    memcpy(soft_queue_buffer(q, slot, len), buf, len);
    f->len = len;
    f->flags = 0;
    f->csum_start = 0;
    f->csum_offset = 0;
    if (parsed && info.l4_offset) {
        /* Parsed on our own copy: the device's checksum check reuses it. */
        f->flags = XNA_FRAME_PARSED;
        f->l3_offset = info.l3_offset;
        f->l4_offset = info.l4_offset;
        f->l4_proto = info.l4_proto;
        f->ipv6 = info.ethertype == XNA_ETH_P_IPV6;
    }
    q->prod++;
    s->stats.rx_frames++;
    if (soft_queue_len(q) == 1) {
        XnaNicHost *host = &s->parent_obj.host;

        host->rx_ready(host->opaque, queue);
    }
    return true;
}

static void soft_get_caps(XnaNic *nic, XnaNicCaps *caps)
{
    XnaSoftNic *s = XNA_SOFT_NIC(nic);

    memset(caps, 0, sizeof(*caps));
    caps->filter_kinds = (1u << XNA_FILTER_MAC) |
                         (1u << XNA_FILTER_IPV4_TCP) |
                         (1u << XNA_FILTER_IPV4_UDP) |
                         (1u << XNA_FILTER_IPV6_TCP) |
                         (1u << XNA_FILTER_IPV6_UDP);
    caps->max_filters = s->max_filters;
    caps->max_vis = s->max_vis;
    caps->tx_csum = false;   /* the device fills checksums in software */
    caps->rx_csum = false;
    caps->slow_path_samples = s->to_host != NULL;
}

static bool soft_vi_alloc(XnaNic *nic, uint32_t vi, Error **errp)
{
    XnaSoftNic *s = XNA_SOFT_NIC(nic);

    if (vi >= s->max_vis || s->vi_active[vi]) {
        error_setg(errp, "VI %u cannot be allocated", vi);
        return false;
    }
    s->vi_active[vi] = true;
    return true;
}

static void soft_vi_free(XnaNic *nic, uint32_t vi)
{
    XnaSoftNic *s = XNA_SOFT_NIC(nic);

    if (vi < s->max_vis) {
        s->vi_active[vi] = false;
        soft_queue_clear(&s->queues[vi]);
    }
}

static int soft_filter_insert(XnaNic *nic, const XnaFilterKey *key,
                              uint32_t vi)
{
    XnaSoftNic *s = XNA_SOFT_NIC(nic);
    bool known;

    if (vi >= s->max_vis || !xna_filter_key_valid(key)) {
        return -EINVAL;
    }
    known = xna_flow_map_contains(s->filters, key);
    if (!known && xna_flow_map_count(s->filters) >= s->max_filters) {
        return -ENOSPC;
    }
    if (!xna_flow_map_set(s->filters, key, vi)) {
        return -ENOSPC;
    }
    if (!known && key->kind == XNA_FILTER_MAC) {
        s->nr_mac_filters++;
    }
    s->stats.filters = xna_flow_map_count(s->filters);
    return 0;
}

static int soft_filter_remove(XnaNic *nic, const XnaFilterKey *key)
{
    XnaSoftNic *s = XNA_SOFT_NIC(nic);
    bool found = xna_flow_map_remove(s->filters, key);

    if (found && key->kind == XNA_FILTER_MAC) {
        s->nr_mac_filters--;
    }

    s->stats.filters = xna_flow_map_count(s->filters);
    return found ? 0 : -ENOENT;
}

static uint32_t soft_rx_burst(XnaNic *nic, uint32_t queue, XnaFrame *frames,
                              uint32_t n)
{
    XnaSoftNic *s = XNA_SOFT_NIC_FAST(nic);
    XnaSoftQueue *q = soft_queue(s, queue);
    uint32_t i;

    if (!q) {
        return 0;
    }
    soft_queue_release_taken(q);
    n = MIN(n, soft_queue_len(q));
    for (i = 0; i < n; i++) {
        frames[i] = q->slots[(q->head + i) % XNA_SOFT_NIC_RING];
    }
    q->head += n;
    return n;
}

static void soft_get_stats(XnaNic *nic, XnaNicStats *stats)
{
    *stats = XNA_SOFT_NIC(nic)->stats;
}

static void soft_finalize(Object *obj)
{
    XnaSoftNic *s = XNA_SOFT_NIC(obj);
    uint32_t i;

    if (s->queues) {
        for (i = 0; i <= s->max_vis; i++) {
            soft_queue_free(&s->queues[i]);
        }
    }
    g_free(s->queues);
    g_free(s->vi_active);
    xna_flow_map_free(s->filters);
}

static void soft_class_init(ObjectClass *oc, void *data)
{
    XnaNicClass *nc = XNA_NIC_CLASS(oc);

    nc->get_caps = soft_get_caps;
    nc->vi_alloc = soft_vi_alloc;
    nc->vi_free = soft_vi_free;
    nc->filter_insert = soft_filter_insert;
    nc->filter_remove = soft_filter_remove;
    nc->rx_burst = soft_rx_burst;
    nc->get_stats = soft_get_stats;
}

static const TypeInfo soft_type_info = {
    .name = TYPE_XNA_SOFT_NIC,
    .parent = TYPE_XNA_NIC,
    .abstract = true,
    .instance_size = sizeof(XnaSoftNic),
    .instance_finalize = soft_finalize,
    .class_init = soft_class_init,
};

static void soft_register_types(void)
{
    type_register_static(&soft_type_info);
}

type_init(soft_register_types)
