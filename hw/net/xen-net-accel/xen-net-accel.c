/*
 * xen-net-accel: accelerated network path for Xen guests
 *
 * A xen-bus device that gives a guest's accelerator module virtual
 * interfaces (VIs) on a NIC, next to the guest's netfront vif.  This file
 * is the QOM device and the xenstore side: properties, the state machine,
 * and connect/disconnect, where everything the guest shares is validated
 * and mapped once.  docs/specs/xen-net-accel.rst is the specification;
 * docs/system/devices/xen-net-accel.rst says how to use the device.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "qemu/cutils.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/queue.h"
#include "qemu/timer.h"
#include "hw/qdev-properties.h"
#include "hw/qdev-properties-system.h"
#include "hw/xen/xen-bus-helper.h"
#include "hw/xen/xen-backend.h"
#include "qobject/qdict.h"
#include "xen-net-accel.h"
#include "trace.h"

#define XNA_MAX_FILTERS_PROP    65536
#define XNA_MAX_WIRE_MAC_AGEING 86400   /* seconds: a day */
#define XNA_MIN_MTU             68
#define XNA_MAX_MTU             9000
#define XNA_MAX_MAP_BATCH       1024

/* Devices of this QEMU: their MACs are local to each other's guests. */
static QLIST_HEAD(, XnaDevEntry) xna_devices =
    QLIST_HEAD_INITIALIZER(xna_devices);

typedef struct XnaDevEntry {
    XenNetAccel *dev;
    QLIST_ENTRY(XnaDevEntry) next;
} XnaDevEntry;

static bool check_ring_size(const char *name, uint32_t size, Error **errp)
{
    if (size < XNA_MIN_RING_ENTRIES || size > XNA_MAX_RING_ENTRIES ||
        !is_power_of_2(size)) {
        error_setg(errp, "%s=%u: must be a power of two in [%u, %u]",
                   name, size, XNA_MIN_RING_ENTRIES, XNA_MAX_RING_ENTRIES);
        return false;
    }
    return true;
}

static bool check_range(const char *name, uint32_t v, uint32_t min,
                        uint32_t max, Error **errp)
{
    if (v < min || v > max) {
        error_setg(errp, "%s=%u: must be in [%u, %u]", name, v, min, max);
        return false;
    }
    return true;
}

static bool check_properties(XenNetAccel *s, Error **errp)
{
    if (!s->nic_kind || !*s->nic_kind) {
        error_setg(errp, "nic must be set (netdev, loopback, afxdp)");
        return false;
    }
    if (strcmp(s->nic_kind, "netdev") && s->conf.peers.ncs[0]) {
        error_setg(errp, "nic=%s does not use a netdev", s->nic_kind);
        return false;
    }
    if (strcmp(s->nic_kind, "netdev") && s->host_peers.ncs[0]) {
        error_setg(errp, "nic=%s does not use a host-netdev", s->nic_kind);
        return false;
    }
    return check_range("max-vis", s->max_vis, 1, XNA_MAX_VIS, errp) &&
           check_range("max-filters", s->max_filters, 1,
                       XNA_MAX_FILTERS_PROP, errp) &&
           check_ring_size("tx-ring-size", s->tx_ring_size, errp) &&
           check_ring_size("rx-ring-size", s->rx_ring_size, errp) &&
           check_range("max-pool-pages", s->max_pool_pages, 1,
                       XNA_MAX_POOL_PAGES, errp) &&
           check_range("mtu", s->mtu, XNA_MIN_MTU, XNA_MAX_MTU, errp) &&
           check_range("max-filters", s->max_filters, s->mac_filter ? 2 : 1,
                       XNA_MAX_FILTERS_PROP, errp) &&
           check_range("wire-mac-ageing", s->wire_mac_ageing, 0,
                       XNA_MAX_WIRE_MAC_AGEING, errp);
}

/* Reading the frontend's keys: whole decimal numbers in range only. */
static bool read_uint(XenNetAccel *s, const char *key, uint32_t min,
                      uint32_t max, uint32_t *out, Error **errp)
{
    g_autofree char *str = xen_device_frontend_read(&s->xendev, key);
    uint32_t v;

    if (!str) {
        error_setg(errp, "frontend key %s is missing", key);
        return false;
    }
    if (!xna_wire_parse_uint(str, min, max, &v)) {
        error_setg(errp, "frontend key %s: '%.32s' is not a number in "
                   "[%u, %u]", key, str, min, max);
        return false;
    }
    *out = v;
    return true;
}

/* A frontend key that may be missing: then *@out is @dflt. */
static bool read_optional_uint(XenNetAccel *s, const char *key, uint32_t min,
                               uint32_t max, uint32_t dflt, uint32_t *out,
                               Error **errp)
{
    g_autofree char *str = xen_device_frontend_read(&s->xendev, key);

    *out = dflt;
    return !str || read_uint(s, key, min, max, out, errp);
}

static bool map_refs(XenNetAccel *s, XnaMapping *m, uint32_t *refs,
                     uint32_t count, Error **errp)
{
    m->addr = xen_device_map_grant_refs(&s->xendev, refs, count,
                                        PROT_READ | PROT_WRITE, errp);
    if (!m->addr) {
        return false;
    }
    m->refs = g_memdup2(refs, count * sizeof(uint32_t));
    m->count = count;
    return true;
}

static void unmap_refs(XenNetAccel *s, XnaMapping *m)
{
    if (m->addr) {
        xen_device_unmap_grant_refs(&s->xendev, m->addr, m->refs, m->count,
                                    &error_warn);
    }
    g_free(m->refs);
    memset(m, 0, sizeof(*m));
}

static bool map_one(XenNetAccel *s, const char *key, XnaMapping *m,
                    Error **errp)
{
    uint32_t ref;

    return read_uint(s, key, 0, UINT32_MAX, &ref, errp) &&
           map_refs(s, m, &ref, 1, errp);
}

/* The pool: directory pages list the refs, mapped in batches if we can. */
static bool map_pool(XenNetAccel *s, Error **errp)
{
    uint32_t dirs = DIV_ROUND_UP(s->pool_pages, XNA_POOL_REFS_PER_DIR_PAGE);
    g_autofree uint32_t *refs = g_new(uint32_t, s->pool_pages);
    uint32_t batch = qemu_xen_gnttab_can_map_multi() ? XNA_MAX_MAP_BATCH : 1;
    uint32_t d, p, i;

    for (d = 0; d < dirs; d++) {
        g_autofree char *key = g_strdup_printf("pool-dir-ref-%u", d);
        uint32_t n = MIN(XNA_POOL_REFS_PER_DIR_PAGE,
                         s->pool_pages - d * XNA_POOL_REFS_PER_DIR_PAGE);
        XnaMapping dir = { 0 };

        if (!map_one(s, key, &dir, errp)) {
            return false;
        }
        /* Copied once: the guest cannot change a ref after we read it. */
        for (i = 0; i < n; i++) {
            refs[d * XNA_POOL_REFS_PER_DIR_PAGE + i] =
                le32_to_cpu(((uint32_t *)dir.addr)[i]);
        }
        unmap_refs(s, &dir);
    }

    s->pool = g_new0(uint8_t *, s->pool_pages);
    s->pool_maps = g_new0(XnaMapping, DIV_ROUND_UP(s->pool_pages, batch));
    for (p = 0; p < s->pool_pages; p += batch) {
        uint32_t n = MIN(batch, s->pool_pages - p);
        XnaMapping *m = &s->pool_maps[s->nr_pool_maps];

        if (!map_refs(s, m, &refs[p], n, errp)) {
            error_prepend(errp, "pool pages %u..%u: ", p, p + n - 1);
            return false;
        }
        s->nr_pool_maps++;
        for (i = 0; i < n; i++) {
            s->pool[p + i] = (uint8_t *)m->addr + i * XNA_PAGE_SIZE;
        }
    }
    return true;
}

/* What the guest granted for VI @vi, from its keys. */
static bool read_vi_rings(XenNetAccel *s, uint32_t vi, uint32_t tx_entries,
                          uint32_t rx_entries, XnaViRings *r, Error **errp)
{
    g_autofree char *shared = g_strdup_printf("vi-%u/shared-ref", vi);
    g_autofree char *evtchn = g_strdup_printf("vi-%u/event-channel", vi);
    uint32_t k;

    *r = (XnaViRings) { .tx_entries = tx_entries, .rx_entries = rx_entries };
    if (!read_uint(s, shared, 0, UINT32_MAX, &r->shared_ref, errp) ||
        !read_uint(s, evtchn, 0, UINT32_MAX, &r->port, errp)) {
        return false;
    }
    for (k = 0; k < tx_entries / XNA_DESCS_PER_PAGE; k++) {
        g_autofree char *key = g_strdup_printf("vi-%u/tx-ring-ref-%u", vi, k);

        if (!read_uint(s, key, 0, UINT32_MAX, &r->tx_refs[k], errp)) {
            return false;
        }
    }
    for (k = 0; k < rx_entries / XNA_DESCS_PER_PAGE; k++) {
        g_autofree char *key = g_strdup_printf("vi-%u/rx-ring-ref-%u", vi, k);

        if (!read_uint(s, key, 0, UINT32_MAX, &r->rx_refs[k], errp)) {
            return false;
        }
    }
    return true;
}

/*
 * The kernel writes received frames into the pool through its own mapping
 * of the pool's pages.  Under emulated Xen (Xen-on-KVM, xen-sim) those are
 * the guest's RAM, ordinary memory of this process.  Under real Xen they
 * are gntdev mappings of the guest's frames, and on a PV dom0 the kernel's
 * own mapping of such a page does not reach the guest's frame: the AF_XDP
 * socket registers, then the kernel's first copy into it faults, and dom0
 * panics (seen in the real-Xen test).  So under real Xen a VI copies.
 */
static bool pool_memory_usable(void)
{
    return xen_mode != XEN_ATTACH;
}

/* Ethernet header and one VLAN tag in front of an MTU's payload. */
#define XNA_POOL_L2_OVERHEAD    18

/* The pool as the VIs see it, and whether the NIC may receive into it. */
static XnaViPool vi_pool(XenNetAccel *s)
{
    return (XnaViPool) {
        .pages = s->pool,
        .count = s->pool_pages,
        .nic_rx = s->rx_into_pool && s->caps.pool_rx && pool_memory_usable() &&
                  s->nr_pool_maps == 1 &&
                  s->mtu + XNA_POOL_L2_OVERHEAD <= s->caps.pool_frame_max,
        .base = s->nr_pool_maps == 1 ? s->pool[0] : NULL,
    };
}

static void xna_disconnect(XenNetAccel *s)
{
    uint32_t i;

    /* No more messages: the guest is going away or misbehaved. */
    xna_ctrl_close(s->ctrl);
    s->ctrl = NULL;
    s->hello_done = false;
    for (i = 0; i < XNA_MAX_VIS && s->vis[i]; i++) {
        /* Filters first: the NIC frees a VI only without any. */
        xna_filters_remove_vi(s, i);
        xna_vi_stop(s->vis[i]);
    }
    for (i = 0; i < s->nr_pool_maps; i++) {
        unmap_refs(s, &s->pool_maps[i]);
    }
    g_free(s->pool_maps);
    g_free(s->pool);
    s->pool_maps = NULL;
    s->pool = NULL;
    s->nr_pool_maps = 0;
    s->pool_pages = 0;
    s->num_vis = 0;
    if (s->connected) {
        s->connected = false;
        trace_xna_disconnect(s->xendev.name);
    }
}

/* A new generation: frontends must not reuse what they gave before. */
static void new_generation(XenNetAccel *s)
{
    s->generation = g_random_int();
    xen_device_backend_printf(&s->xendev, "generation", "%u", s->generation);
}

static const XnaCtrlOps xna_ctrl_ops;

static bool xna_connect(XenNetAccel *s, Error **errp)
{
    ERRP_GUARD();
    uint32_t version, generation, tx_entries, rx_entries, port, ctrl_ref, i;
    uint32_t total_refs, wire_mac = 0;
    XnaViPool pool;

    if (!read_uint(s, "generation", 0, UINT32_MAX, &generation, errp)) {
        return false;
    }
    if (generation != s->generation) {
        /* Keys of an earlier backend: wait for the frontend to redo them. */
        trace_xna_stale_generation(s->xendev.name, generation);
        return true;
    }
    if (!read_uint(s, "protocol-version", XNA_PROTOCOL_VERSION,
                   XNA_PROTOCOL_VERSION, &version, errp) ||
        !read_uint(s, "num-vis", 1, s->max_vis, &s->num_vis, errp) ||
        !read_uint(s, "tx-ring-entries", XNA_MIN_RING_ENTRIES,
                   s->tx_ring_size, &tx_entries, errp) ||
        !read_uint(s, "rx-ring-entries", XNA_MIN_RING_ENTRIES,
                   s->rx_ring_size, &rx_entries, errp) ||
        !read_uint(s, "pool-pages", 1, s->max_pool_pages, &s->pool_pages,
                   errp) ||
        !read_uint(s, "event-channel", 0, UINT32_MAX, &port, errp) ||
        !read_uint(s, "ctrl-ring-ref", 0, UINT32_MAX, &ctrl_ref, errp)) {
        return false;
    }
    /* Read only where offered: elsewhere the key means nothing. */
    if (s->wire_mac_ageing &&
        !read_optional_uint(s, "feature-wire-mac", 0, 1, 0, &wire_mac,
                            errp)) {
        return false;
    }
    s->wire_mac_wanted = s->wire_mac_ageing && wire_mac;
    if (!is_power_of_2(tx_entries) || !is_power_of_2(rx_entries)) {
        error_setg(errp, "ring entries %u/%u are not powers of two",
                   tx_entries, rx_entries);
        return false;
    }
    total_refs = 1 + s->pool_pages + s->num_vis *
        (1 + (tx_entries + rx_entries) / XNA_DESCS_PER_PAGE);
    xen_device_set_max_grant_refs(&s->xendev, total_refs, errp);
    if (*errp) {
        return false;
    }
    s->ctrl = xna_ctrl_open(&s->xendev, ctrl_ref, port, &xna_ctrl_ops, s,
                            &s->ctrl_stats, errp);
    if (!s->ctrl || !map_pool(s, errp)) {
        return false;
    }
    pool = vi_pool(s);
    for (i = 0; i < s->num_vis; i++) {
        XnaViRings rings;

        if (!read_vi_rings(s, i, tx_entries, rx_entries, &rings, errp) ||
            !xna_vi_start(s->vis[i], &rings, &pool, errp)) {
            error_prepend(errp, "VI %u: ", i);
            return false;
        }
    }
    s->connected = true;
    s->failing = false;
    s->stats.connects++;
    trace_xna_connect(s->xendev.name, s->num_vis, s->pool_pages);
    xen_device_backend_set_state(&s->xendev, XenbusStateConnected);
    /* The guest may have sent HELLO before we bound the channel. */
    xna_ctrl_poll(s->ctrl);
    return true;
}

static void fail_with_error(XenNetAccel *s, const char *msg)
{
    qemu_log_mask(LOG_GUEST_ERROR, "xen-net-accel %s: %s; disconnecting\n",
                  s->xendev.name, msg);
    trace_xna_fail(s->xendev.name, msg);
    s->stats.guest_errors++;
    xen_device_backend_printf(&s->xendev, "error", "%s", msg);
    xna_disconnect(s);
    xen_device_backend_set_state(&s->xendev, XenbusStateClosing);
}

/*
 * Guest errors found while data moves are acted on from a bottom half,
 * so that no caller finds its mappings gone under it.
 */
static void xna_fail_bh(void *opaque)
{
    XenNetAccel *s = opaque;
    struct xna_msg msg = { .type = cpu_to_le16(XNA_MSG_ERROR) };
    g_autofree char *text = s->fail_msg;

    s->fail_msg = NULL;
    if (s->ctrl) {
        msg.u.error.code = cpu_to_le32(s->fail_code);
        msg.u.error.vi = cpu_to_le32(UINT32_MAX);
        s->failing = false;
        xna_ctrl_send_final(s->ctrl, &msg);
    }
    fail_with_error(s, text ? text : "guest error");
}

void xna_fail(XenNetAccel *s, uint32_t code, const char *fmt, ...)
{
    va_list ap;
    uint32_t i;

    if (s->failing) {
        return;
    }
    s->failing = true;
    xna_ctrl_stop(s->ctrl);
    s->fail_code = code;
    va_start(ap, fmt);
    s->fail_msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    for (i = 0; i < XNA_MAX_VIS && s->vis[i]; i++) {
        xna_vi_halt(s->vis[i]);
    }
    qemu_bh_schedule(s->fail_bh);
}

static void local_mac_notify(XenNetAccel *to, const XenNetAccel *about,
                             uint32_t op)
{
    struct xna_msg msg = { .type = cpu_to_le16(XNA_MSG_LOCAL_MAC) };

    msg.u.local_mac.op = cpu_to_le32(op);
    memcpy(msg.u.local_mac.mac, about->conf.macaddr.a, 6);
    xna_ctrl_send(to->ctrl, &msg);
}

/*
 * A device's MAC is local to the guests of the other devices of this
 * QEMU for as long as the device exists, connected or not: siblings hear
 * of it when it is created and removed, and a guest hears of them all
 * when it connects.  Not at every connect of a sibling, so that a guest
 * that reconnects in a loop cannot fill another guest's control backlog.
 */
static void local_macs_tell_siblings(XenNetAccel *s, uint32_t op)
{
    XnaDevEntry *e;

    QLIST_FOREACH(e, &xna_devices, next) {
        if (e->dev != s && e->dev->hello_done) {
            local_mac_notify(e->dev, s, op);
        }
    }
}

static void local_macs_tell_guest(XenNetAccel *s)
{
    XnaDevEntry *e;

    QLIST_FOREACH(e, &xna_devices, next) {
        if (e->dev != s) {
            local_mac_notify(s, e->dev, XNA_OP_ADD);
        }
    }
}

/*
 * Control messages: what the device sends, and what it does with the
 * guest's (the transport, xna-ctrl.c, only moves them).
 */

void xna_dev_send_vi_state(XenNetAccel *s, uint16_t type, uint32_t vi,
                           uint32_t reason)
{
    struct xna_msg msg = { .type = cpu_to_le16(type) };

    msg.u.vi.vi = cpu_to_le32(vi);
    msg.u.vi.reason = cpu_to_le32(reason);
    xna_ctrl_send(s->ctrl, &msg);
}

void xna_dev_send_wire_mac(XenNetAccel *s, uint32_t op, const uint8_t *mac)
{
    struct xna_msg msg = { .type = cpu_to_le16(XNA_MSG_WIRE_MAC) };

    if (!s->hello_done || !s->wire_mac_wanted) {
        return;
    }
    msg.u.local_mac.op = cpu_to_le32(op);
    memcpy(msg.u.local_mac.mac, mac, 6);
    xna_ctrl_send(s->ctrl, &msg);
}

void xna_dev_send_filter(XenNetAccel *s, uint32_t op,
                         const XnaFilterKey *key, uint32_t vi)
{
    struct xna_msg msg = { .type = cpu_to_le16(XNA_MSG_FILTER) };

    msg.u.filter.op = cpu_to_le32(op);
    msg.u.filter.vi = cpu_to_le32(vi);
    msg.u.filter.kind = key->kind;
    msg.u.filter.port = key->dst_port;   /* both in network order */
    memcpy(msg.u.filter.addr, key->dst_addr, sizeof(msg.u.filter.addr));
    xna_ctrl_send(s->ctrl, &msg);
}

static void send_link(XenNetAccel *s)
{
    struct xna_msg msg = { .type = cpu_to_le16(XNA_MSG_LINK) };

    msg.u.link.up = cpu_to_le32(1);
    msg.u.link.mtu = cpu_to_le32(s->mtu);
    xna_ctrl_send(s->ctrl, &msg);
}

static bool handle_hello(XenNetAccel *s, const XnaWireMsg *in)
{
    struct xna_msg out = { .type = cpu_to_le16(XNA_MSG_HELLO) };
    uint32_t i;

    out.u.hello.version = cpu_to_le32(XNA_PROTOCOL_VERSION);
    out.u.hello.nr_vis = cpu_to_le32(s->num_vis);
    if (s->hello_done || in->version != XNA_PROTOCOL_VERSION ||
        in->nr_vis != s->num_vis) {
        uint32_t err = s->hello_done ? XNA_ERR_BAD_MSG : XNA_ERR_VERSION;

        out.u.hello.status = cpu_to_le32(err);
        xna_ctrl_send(s->ctrl, &out);
        xna_fail(s, err, "HELLO: version %u, %u VIs (expected %u, %u)%s",
                 in->version, in->nr_vis, XNA_PROTOCOL_VERSION, s->num_vis,
                 s->hello_done ? ", repeated" : "");
        return false;
    }
    s->hello_done = true;
    xna_ctrl_send(s->ctrl, &out);
    send_link(s);
    local_macs_tell_guest(s);
    xna_wire_macs_tell_guest(s);
    for (i = 0; i < s->num_vis; i++) {
        xna_vi_up(s->vis[i]);
    }
    return true;
}

/* XnaCtrlOps.receive: one guest message; false when the device failed. */
static bool ctrl_receive(void *opaque, const struct xna_msg *raw)
{
    XenNetAccel *s = opaque;
    char why[64];
    XnaWireMsg in;

    if (xna_wire_msg_decode(raw, s->hello_done, s->num_vis, &in, why,
                            sizeof(why)) != XNA_WIRE_OK) {
        xna_fail(s, XNA_ERR_BAD_MSG, "%s", why);
        return false;
    }
    trace_xna_ctrl_msg(s->xendev.name, in.type);
    switch (in.type) {
    case XNA_MSG_HELLO:
        return handle_hello(s, &in);
    case XNA_MSG_VI_RESET:
        /* Rate-limited: a reset may be carried out later (xna-vi.c). */
        xna_vi_reset(s->vis[in.vi]);
        return true;
    default:
        /* xna_wire_msg_decode() lets no other type through. */
        xna_fail(s, XNA_ERR_BAD_MSG, "control message %u", in.type);
        return false;
    }
}

static void ctrl_error(void *opaque, uint32_t code, const char *msg)
{
    xna_fail(opaque, code, "%s", msg);
}

static const XnaCtrlOps xna_ctrl_ops = {
    .receive = ctrl_receive,
    .error = ctrl_error,
};

/*
 * A connect maps the whole pool and makes the NIC's VIs (for AF_XDP:
 * sockets, and the XDP program when it is the first): a guest that
 * reconnects in a loop would have QEMU do that without end.  A token
 * bucket lets XNA_CONNECT_BURST connects through at once and one per
 * XNA_CONNECT_INTERVAL_NS after that; a connect beyond waits on a timer
 * (the backend stays in InitWait meanwhile).
 */
#define XNA_CONNECT_BURST           4
#define XNA_CONNECT_INTERVAL_NS     (NANOSECONDS_PER_SECOND / 2)

static bool connect_take_token(XenNetAccel *s)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    int64_t gained = (now - s->connect_refill_ns) / XNA_CONNECT_INTERVAL_NS;

    if (s->connect_tokens >= XNA_CONNECT_BURST) {
        s->connect_refill_ns = now;
    } else if (gained > 0) {
        s->connect_tokens = MIN(XNA_CONNECT_BURST,
                                s->connect_tokens + gained);
        s->connect_refill_ns += gained * XNA_CONNECT_INTERVAL_NS;
    }
    if (!s->connect_tokens) {
        return false;
    }
    s->connect_tokens--;
    return true;
}

static void try_connect(XenNetAccel *s)
{
    Error *local_err = NULL;

    if (s->connected ||
        xen_device_backend_get_state(&s->xendev) != XenbusStateInitWait ||
        timer_pending(s->connect_timer)) {
        return;
    }
    if (s->connect_limit && !connect_take_token(s)) {
        s->stats.connects_deferred++;
        timer_mod(s->connect_timer,
                  s->connect_refill_ns + XNA_CONNECT_INTERVAL_NS);
        return;
    }
    if (!xna_connect(s, &local_err)) {
        g_autofree char *msg = g_strdup(error_get_pretty(local_err));

        error_free(local_err);
        fail_with_error(s, msg);
    }
}

static void connect_timer_cb(void *opaque)
{
    XenNetAccel *s = opaque;

    if (s->xendev.frontend_state == XenbusStateInitialised ||
        s->xendev.frontend_state == XenbusStateConnected) {
        try_connect(s);
    }
}

static void xen_net_accel_frontend_changed(XenDevice *xendev,
                                           enum xenbus_state frontend_state,
                                           Error **errp)
{
    XenNetAccel *s = XEN_NET_ACCEL(xendev);

    trace_xna_frontend_changed(xendev->name, frontend_state);

    switch (frontend_state) {
    case XenbusStateInitialised:
    case XenbusStateConnected:
        try_connect(s);
        break;

    case XenbusStateClosing:
        xna_disconnect(s);
        xen_device_backend_set_state(xendev, XenbusStateClosing);
        break;

    case XenbusStateClosed:
    case XenbusStateUnknown:
        xna_disconnect(s);
        /* xen-bus moves us to InitWait when the frontend starts over. */
        new_generation(s);
        xen_device_backend_set_state(xendev, XenbusStateClosed);
        break;

    default:
        break;
    }
}

/* The first free index under the guest's netaccel device directory. */
static char *xen_net_accel_get_name(XenDevice *xendev, Error **errp)
{
    XenNetAccel *s = XEN_NET_ACCEL(xendev);
    XenBus *xenbus = XEN_BUS(qdev_get_parent_bus(DEVICE(xendev)));
    Error *local_err = NULL;
    char *value;
    int idx;

    if (s->idx >= 0) {
        return g_strdup_printf("%d", s->idx);
    }
    for (idx = 0; idx < 256; idx++) {
        value = xs_node_read(xenbus->xsh, XBT_NULL, NULL, &local_err,
                             "/local/domain/%u/device/%s/%d",
                             xendev->frontend_id, XNA_XS_DEVICE_TYPE, idx);
        if (!value) {
            if (errno == ENOENT) {
                error_free(local_err);
                s->idx = idx;
                return g_strdup_printf("%d", idx);
            }
            error_propagate(errp, local_err);
            return NULL;
        }
        free(value);
    }
    error_setg(errp, "no free %s index for domain %u", XNA_XS_DEVICE_TYPE,
               xendev->frontend_id);
    return NULL;
}

static void add_stat(Object *obj, const char *name, uint64_t *v)
{
    object_property_add_uint64_ptr(obj, name, v, OBJ_PROP_FLAG_READ);
}

static void add_vi_stats(XenNetAccel *s, uint32_t vi, XnaViStats *stats)
{
    static const struct {
        const char *name;
        size_t offset;
    } fields[] = {
        { "tx-packets", offsetof(XnaViStats, tx_packets) },
        { "tx-bytes", offsetof(XnaViStats, tx_bytes) },
        { "rx-packets", offsetof(XnaViStats, rx_packets) },
        { "rx-bytes", offsetof(XnaViStats, rx_bytes) },
        { "rx-slow-packets", offsetof(XnaViStats, rx_slow_packets) },
        { "rx-slow-bytes", offsetof(XnaViStats, rx_slow_bytes) },
        { "drop-rx-no-buffer", offsetof(XnaViStats, drop_rx_no_buffer) },
        { "drop-rx-small-buffers",
          offsetof(XnaViStats, drop_rx_small_buffers) },
        { "drop-rx-bad-length", offsetof(XnaViStats, drop_rx_bad_len) },
        { "drop-tx-policy", offsetof(XnaViStats, drop_tx_policy) },
        { "tx-nic-full", offsetof(XnaViStats, tx_nic_full) },
        { "resets", offsetof(XnaViStats, resets) },
        { "resets-deferred", offsetof(XnaViStats, resets_deferred) },
        { "rx-pool-packets", offsetof(XnaViStats, rx_pool_packets) },
        { "pool-fallbacks", offsetof(XnaViStats, pool_fallbacks) },
        { "rx-pool-buffers", offsetof(XnaViStats, rx_pool_buffers) },
        { "guest-errors", offsetof(XnaViStats, guest_errors) },
        { "kicks", offsetof(XnaViStats, kicks) },
        { "notifies", offsetof(XnaViStats, notifies) },
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(fields); i++) {
        g_autofree char *name = g_strdup_printf("vi%u-%s", vi,
                                                fields[i].name);

        add_stat(OBJECT(s), name,
                 (uint64_t *)((uint8_t *)stats + fields[i].offset));
    }
}

static void get_nic_stat(Object *obj, Visitor *v, const char *name,
                         void *opaque, Error **errp)
{
    XenNetAccel *s = XEN_NET_ACCEL(obj);
    XnaNicStats stats = { 0 };
    uint64_t value;

    if (s->nic) {
        xna_nic_get_stats(s->nic, &stats);
    }
    value = *(uint64_t *)((uint8_t *)&stats + (uintptr_t)opaque);
    visit_type_uint64(v, name, &value, errp);
}

/* The NIC's own counters, as "nic-<name>". */
static void add_nic_stats(Object *obj)
{
    static const struct {
        const char *name;
        size_t offset;
    } fields[] = {
        { "nic-tx-frames", offsetof(XnaNicStats, tx_frames) },
        { "nic-tx-dropped", offsetof(XnaNicStats, tx_dropped) },
        { "nic-rx-frames", offsetof(XnaNicStats, rx_frames) },
        { "nic-rx-wakeups", offsetof(XnaNicStats, rx_wakeups) },
        { "nic-rx-dropped", offsetof(XnaNicStats, rx_dropped) },
        { "nic-filters", offsetof(XnaNicStats, filters) },
        { "nic-host-frames", offsetof(XnaNicStats, host_frames) },
        { "nic-host-tx-frames", offsetof(XnaNicStats, host_tx_frames) },
        { "nic-pool-vis", offsetof(XnaNicStats, pool_vis) },
        { "nic-zero-copy-vis", offsetof(XnaNicStats, driver_zero_copy_vis) },
        { "nic-sockets-waiting", offsetof(XnaNicStats, sockets_waiting) },
        { "nic-start-queue", offsetof(XnaNicStats, start_queue) },
        { "nic-rx-no-buffer", offsetof(XnaNicStats, rx_no_buffer) },
        { "nic-rx-ring-full", offsetof(XnaNicStats, rx_ring_full) },
        { "nic-rx-invalid", offsetof(XnaNicStats, rx_invalid) },
        { "nic-rx-bad-length", offsetof(XnaNicStats, rx_bad_len) },
        { "nic-rx-other-mac", offsetof(XnaNicStats, rx_other_mac) },
        { "nic-xdp-redirected", offsetof(XnaNicStats, xdp_redirected) },
        { "nic-xdp-passed", offsetof(XnaNicStats, xdp_passed) },
        { "nic-xdp-sampled", offsetof(XnaNicStats, xdp_sampled) },
        { "nic-xdp-sample-lost", offsetof(XnaNicStats, xdp_sample_lost) },
        { "nic-xdp-other-queue", offsetof(XnaNicStats, xdp_other_queue) },
        { "nic-xdp-no-vi-queue", offsetof(XnaNicStats, xdp_no_vi_queue) },
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(fields); i++) {
        object_property_add(obj, fields[i].name, "uint64", get_nic_stat,
                            NULL, NULL, (void *)(uintptr_t)fields[i].offset);
    }
}

/* "vis-up": the VIs up now (the guest connected them, none stopped). */
static void get_vis_up(Object *obj, Visitor *v, const char *name,
                       void *opaque, Error **errp)
{
    XenNetAccel *s = XEN_NET_ACCEL(obj);
    uint64_t up = 0;
    uint32_t i;

    for (i = 0; i < XNA_MAX_VIS; i++) {
        up += s->vis[i] && xna_vi_is_up(s->vis[i]);
    }
    visit_type_uint64(v, name, &up, errp);
}

static void add_dev_stats(XenNetAccel *s)
{
    Object *obj = OBJECT(s);

    add_nic_stats(obj);
    object_property_add(obj, "vis-up", "uint64", get_vis_up, NULL, NULL,
                        NULL);
    add_stat(obj, "filters-inserted", &s->stats.filters_inserted);
    add_stat(obj, "filters-evicted", &s->stats.filters_evicted);
    add_stat(obj, "filters-removed", &s->stats.filters_removed);
    add_stat(obj, "drop-rx-not-for-guest", &s->stats.drop_rx_not_for_guest);
    add_stat(obj, "rx-host-samples", &s->stats.rx_host_samples);
    add_stat(obj, "rx-yields", &s->stats.rx_yields);
    add_stat(obj, "guest-errors", &s->stats.guest_errors);
    add_stat(obj, "ctrl-msgs-in", &s->ctrl_stats.msgs_in);
    add_stat(obj, "ctrl-msgs-out", &s->ctrl_stats.msgs_out);
    add_stat(obj, "connects", &s->stats.connects);
    add_stat(obj, "connects-deferred", &s->stats.connects_deferred);
    add_stat(obj, "wire-macs-learned", &s->stats.wire_macs_learned);
    add_stat(obj, "wire-macs-forgotten", &s->stats.wire_macs_forgotten);
    add_stat(obj, "wire-macs-throttled", &s->stats.wire_macs_throttled);
}

/*
 * The settings that belong to one NIC kind are its object's properties:
 * a kind without the property does not use the setting.
 */
static bool set_nic_kind_props(XenNetAccel *s, Error **errp)
{
    Object *nic = OBJECT(s->nic);
    bool queue_set = s->start_queue != XNA_START_QUEUE_AUTO;

    if (s->ifname || queue_set) {
        const char *name = s->ifname ? "ifname" : "start-queue";

        if (!object_property_find(nic, name)) {
            error_setg(errp, "nic=%s does not use ifname or start-queue",
                       s->nic_kind);
            return false;
        }
    }
    if (s->afxdp_helper && !object_property_find(nic, "helper")) {
        error_setg(errp, "nic=%s does not use afxdp-helper", s->nic_kind);
        return false;
    }
    return (!s->afxdp_helper ||
            object_property_set_str(nic, "helper", s->afxdp_helper, errp)) &&
           (!s->ifname ||
            object_property_set_str(nic, "ifname", s->ifname, errp)) &&
           (!queue_set ||
            object_property_set_uint(nic, "start-queue", s->start_queue,
                                     errp));
}

static void xen_net_accel_realize(XenDevice *xendev, Error **errp)
{
    XenNetAccel *s = XEN_NET_ACCEL(xendev);
    char sources[XNA_TX_POLICY_SOURCES_LEN];
    const uint8_t *mac;
    XnaNicConfig cfg;
    XnaViOwner owner;
    XnaDevEntry *e;
    uint32_t i;

    char why[128];

    if (!check_properties(s, errp)) {
        return;
    }
    qemu_macaddr_default_if_unset(&s->conf.macaddr);
    if (!xna_tx_policy_init(&s->tx_policy, s->conf.macaddr.a, s->ip, why,
                            sizeof(why))) {
        error_setg(errp, "ip=%s: %s", s->ip, why);
        return;
    }
    cfg = (XnaNicConfig) {
        .conf = &s->conf,
        .host_peers = &s->host_peers,
        .id = DEVICE(s)->id ? DEVICE(s)->id : xendev->name,
        .max_vis = s->max_vis,
        .max_filters = s->max_filters,
        .mtu = s->mtu,
        .owner = DEVICE(s),
    };
    xna_steer_nic_host(s, &cfg.host);
    s->nic = xna_nic_create(s->nic_kind, errp);
    if (!s->nic) {
        return;
    }
    if (!set_nic_kind_props(s, errp) || !xna_nic_open(s->nic, &cfg, errp)) {
        xna_nic_free(s->nic);
        s->nic = NULL;
        return;
    }
    s->caps = s->nic->caps;
    /* With mac-filter, one NIC filter is the guest's MAC, outside the LRU. */
    s->filters = xna_filter_table_new(MIN(s->max_filters,
                                          s->caps.max_filters) -
                                      (s->mac_filter ? 1 : 0));
    xna_steer_init(s);
    s->fail_bh = qemu_bh_new(xna_fail_bh, s);
    s->connect_timer = timer_new_ns(QEMU_CLOCK_REALTIME, connect_timer_cb, s);
    s->connect_tokens = XNA_CONNECT_BURST;
    s->connect_refill_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    xna_wire_macs_start(s);
    xna_steer_vi_owner(s, &owner);
    for (i = 0; i < XNA_MAX_VIS; i++) {
        s->vis[i] = xna_vi_new(i, &owner);
        if (i < s->max_vis) {
            add_vi_stats(s, i, xna_vi_stats(s->vis[i]));
        }
    }
    add_dev_stats(s);

    mac = s->conf.macaddr.a;
    xen_device_backend_printf(xendev, "protocol-version", "%u",
                              XNA_PROTOCOL_VERSION);
    xen_device_backend_printf(xendev, "max-vis", "%u", s->max_vis);
    xen_device_backend_printf(xendev, "max-filters", "%u",
                              xna_filter_table_capacity(s->filters));
    xen_device_backend_printf(xendev, "max-tx-ring-entries", "%u",
                              s->tx_ring_size);
    xen_device_backend_printf(xendev, "max-rx-ring-entries", "%u",
                              s->rx_ring_size);
    xen_device_backend_printf(xendev, "max-pool-pages", "%u",
                              s->max_pool_pages);
    xen_device_backend_printf(xendev, "mac", "%02x:%02x:%02x:%02x:%02x:%02x",
                              mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    xen_device_backend_printf(xendev, "vif", "%d", s->vif);
    xen_device_backend_printf(xendev, "nic", "%s", s->nic_kind);
    xen_device_backend_printf(xendev, "mtu", "%u", s->mtu);
    xen_device_backend_printf(xendev, "feature-csum-offload", "%u", 1);
    xen_device_backend_printf(xendev, "feature-sg", "%u", 1);
    if (s->wire_mac_ageing) {
        xen_device_backend_printf(xendev, "feature-wire-mac", "%u", 1);
    }
    if (xna_tx_policy_format_sources(&s->tx_policy, sources,
                                     sizeof(sources))) {
        xen_device_backend_printf(xendev, "source-ips", "%s", sources);
    }
    new_generation(s);

    e = g_new0(XnaDevEntry, 1);
    e->dev = s;
    QLIST_INSERT_HEAD(&xna_devices, e, next);
    local_macs_tell_siblings(s, XNA_OP_ADD);

    trace_xna_realize(xendev->name, s->nic_kind, s->max_vis,
                      s->max_filters);
}

static void xen_net_accel_unrealize(XenDevice *xendev)
{
    XenNetAccel *s = XEN_NET_ACCEL(xendev);
    XnaDevEntry *e, *next;
    uint32_t i;

    trace_xna_unrealize(xendev->name);
    if (!s->nic) {
        /* Realize failed before the NIC was opened: nothing to undo. */
        return;
    }
    QLIST_FOREACH_SAFE(e, &xna_devices, next, next) {
        if (e->dev == s) {
            QLIST_REMOVE(e, next);
            g_free(e);
        }
    }
    local_macs_tell_siblings(s, XNA_OP_REMOVE);
    xna_disconnect(s);
    for (i = 0; i < XNA_MAX_VIS; i++) {
        g_clear_pointer(&s->vis[i], xna_vi_free);
    }
    g_clear_pointer(&s->connect_timer, timer_free);
    xna_wire_macs_stop(s);
    g_clear_pointer(&s->rx_bh, qemu_bh_delete);
    g_clear_pointer(&s->tx_bh, qemu_bh_delete);
    g_clear_pointer(&s->fail_bh, qemu_bh_delete);
    g_free(s->fail_msg);
    s->fail_msg = NULL;
    xna_nic_free(s->nic);
    s->nic = NULL;
    xna_filter_table_free(s->filters);
    s->filters = NULL;
}

static const Property xen_net_accel_properties[] = {
    DEFINE_NIC_PROPERTIES(XenNetAccel, conf),
    DEFINE_PROP_NETDEV("host-netdev", XenNetAccel, host_peers),
    DEFINE_PROP_STRING("nic", XenNetAccel, nic_kind),
    DEFINE_PROP_INT32("idx", XenNetAccel, idx, -1),
    DEFINE_PROP_INT32("vif", XenNetAccel, vif, -1),
    DEFINE_PROP_UINT32("max-vis", XenNetAccel, max_vis, 1),
    DEFINE_PROP_UINT32("max-filters", XenNetAccel, max_filters, 256),
    DEFINE_PROP_UINT32("tx-ring-size", XenNetAccel, tx_ring_size, 256),
    DEFINE_PROP_UINT32("rx-ring-size", XenNetAccel, rx_ring_size, 256),
    DEFINE_PROP_UINT32("max-pool-pages", XenNetAccel, max_pool_pages, 4096),
    DEFINE_PROP_UINT32("mtu", XenNetAccel, mtu, 1500),
    DEFINE_PROP_BOOL("mac-filter", XenNetAccel, mac_filter, false),
    DEFINE_PROP_BOOL("zero-copy", XenNetAccel, rx_into_pool, true),
    DEFINE_PROP_STRING("ip", XenNetAccel, ip),
    DEFINE_PROP_BOOL("x-connect-limit", XenNetAccel, connect_limit, true),
    DEFINE_PROP_STRING("ifname", XenNetAccel, ifname),
    DEFINE_PROP_STRING("afxdp-helper", XenNetAccel, afxdp_helper),
    DEFINE_PROP_UINT32("start-queue", XenNetAccel, start_queue,
                       XNA_START_QUEUE_AUTO),
    DEFINE_PROP_UINT32("wire-mac-ageing", XenNetAccel, wire_mac_ageing, 0),
};

static const struct {
    const char *name;
    const char *desc;
} xen_net_accel_prop_desc[] = {
    { "nic", "NIC kind: netdev (needs netdev=), loopback, or afxdp (needs "
      "ifname=)" },
    { "host-netdev", "nic=netdev: the host side of the NIC; frames that "
      "match no filter go there (to the host's stack and netfront), and "
      "what it sends goes out on netdev" },
    { "idx", "index under device/netaccel/; -1: the first free one" },
    { "vif", "index of the netfront vif to pair with (device/vif/<vif>)" },
    { "max-vis", "virtual interfaces (queue pairs) a guest may use, 1..16" },
    { "max-filters", "size of the NIC filter table (LRU beyond it)" },
    { "tx-ring-size", "largest TX ring, entries: power of two 256..4096" },
    { "rx-ring-size", "largest RX ring, entries: power of two 256..4096" },
    { "max-pool-pages", "largest buffer pool the guest may grant, pages" },
    { "mtu", "MTU announced to the guest, 68..9000" },
    { "mac-filter", "steer all unicast traffic to the guest's MAC to VI 0 "
      "(a NIC dedicated to the guest), not only learned flows" },
    { "zero-copy", "receive straight into the guest's buffers where the "
      "NIC and the memory can (nic=afxdp, not under real Xen): QEMU "
      "copies no received frame, but only the guest's posted buffers "
      "hold a burst; off: always copy" },
    { "ip", "the vif's ip=: IPv4/IPv6 addresses (blank- or comma-"
      "separated) the guest may send from through a VI; unset: any" },
    { "x-connect-limit", "rate-limit the guest's connects (4, then 2 a "
      "second); off only for the device fuzzer" },
    { "ifname", "nic=afxdp: host interface whose queues are the VIs" },
    { "afxdp-helper", "nic=afxdp: a descriptor (getfd name) of the socket "
      "pair of the privileged helper that loads the XDP program and makes "
      "and binds the sockets, for a QEMU without capabilities" },
    { "start-queue", "nic=afxdp: receive queue of VI 0; VI n uses "
      "start-queue + n.  Unset: the first max-vis queues in a row that "
      "no other guest's VIs on ifname use" },
    { "wire-mac-ageing", "seconds a host that sent the guest a frame "
      "through the NIC stays known as on the NIC's side (WIRE_MAC: the "
      "guest sends to it through a VI before a flow is learned); 0 "
      "(default): off, only learned flows are fast" },
};

static void xen_net_accel_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    XenDeviceClass *xdc = XEN_DEVICE_CLASS(klass);
    size_t i;

    xdc->backend = "qnetaccel";
    xdc->device = XNA_XS_DEVICE_TYPE;
    xdc->get_name = xen_net_accel_get_name;
    xdc->realize = xen_net_accel_realize;
    xdc->frontend_changed = xen_net_accel_frontend_changed;
    xdc->unrealize = xen_net_accel_unrealize;
    dc->desc = "Xen accelerated network path (virtual interfaces on a NIC)";
    set_bit(DEVICE_CATEGORY_NETWORK, dc->categories);
    dc->user_creatable = true;
    device_class_set_props(dc, xen_net_accel_properties);
    for (i = 0; i < ARRAY_SIZE(xen_net_accel_prop_desc); i++) {
        object_class_property_set_description(klass,
                                              xen_net_accel_prop_desc[i].name,
                                              xen_net_accel_prop_desc[i].desc);
    }
}

static const TypeInfo xen_net_accel_type_info = {
    .name = TYPE_XEN_NET_ACCEL,
    .parent = TYPE_XEN_DEVICE,
    .instance_size = sizeof(XenNetAccel),
    .class_init = xen_net_accel_class_init,
};

static void xen_net_accel_register_types(void)
{
    type_register_static(&xen_net_accel_type_info);
}

type_init(xen_net_accel_register_types)

/*
 * Backends the toolstack creates by writing backend/qnetaccel/<domid>/<idx>
 * with "mac" and "nic", and optionally the keys below: each sets the
 * property of the same name.
 * Registering the type also makes xen-bus watch that directory, which is
 * how it removes devices after device_del.
 */
static const char *const xen_net_accel_backend_keys[] = {
    "mac", "nic", "netdev", "host-netdev", "max-vis", "vif", "ip", "ifname",
    "start-queue",
};

static void xen_net_accel_backend_create(XenBackendInstance *backend,
                                         QDict *opts, Error **errp)
{
    XenBus *xenbus = xen_backend_get_bus(backend);
    const char *name = xen_backend_get_name(backend);
    g_autofree char *canonical = NULL;
    unsigned int idx, i;
    DeviceState *dev;
    Object *obj;

    /*
     * "05" or "+5" would make device 5 while the toolstack's directory
     * keeps its own name, and removing that directory would not remove it.
     */
    if (!qemu_strtoui(name, NULL, 10, &idx) && idx <= INT32_MAX) {
        canonical = g_strdup_printf("%u", idx);
    }
    if (!canonical || strcmp(name, canonical)) {
        error_setg(errp, "xen-net-accel: bad device name '%s'", name);
        return;
    }
    if (!qdict_haskey(opts, "mac")) {
        error_setg(errp, "xen-net-accel %s: no mac", name);
        return;
    }
    /*
     * No default: the loopback NIC is a test NIC that reaches no network,
     * and a guest must not end up on it because a key was left out.
     */
    if (!qdict_haskey(opts, "nic")) {
        error_setg(errp, "xen-net-accel %s: no nic (netdev, loopback or "
                   "afxdp)", name);
        return;
    }
    dev = qdev_new(TYPE_XEN_NET_ACCEL);
    obj = OBJECT(dev);
    qdev_prop_set_int32(dev, "idx", idx);
    for (i = 0; i < ARRAY_SIZE(xen_net_accel_backend_keys); i++) {
        const char *key = xen_net_accel_backend_keys[i];
        const char *val = qdict_get_try_str(opts, key);

        if (val && !object_property_parse(obj, key, val, errp)) {
            error_prepend(errp, "xen-net-accel %s: ", name);
            object_unref(obj);
            return;
        }
    }
    /* On failure realize took it off the bus and our reference is gone. */
    if (!qdev_realize_and_unref(dev, BUS(xenbus), errp)) {
        error_prepend(errp, "xen-net-accel %s: ", name);
        return;
    }
    xen_backend_set_device(backend, XEN_DEVICE(dev));
}

static void xen_net_accel_backend_destroy(XenBackendInstance *backend,
                                          Error **errp)
{
    object_unparent(OBJECT(xen_backend_get_device(backend)));
}

static const XenBackendInfo xen_net_accel_backend_info = {
    .type = "qnetaccel",
    .create = xen_net_accel_backend_create,
    .destroy = xen_net_accel_backend_destroy,
};

static void xen_net_accel_register_backend(void)
{
    xen_backend_register(&xen_net_accel_backend_info);
}

xen_backend_init(xen_net_accel_register_backend);
