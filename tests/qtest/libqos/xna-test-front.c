/*
 * xna-test-front: the xen-net-accel frontend in a qtest
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include "qobject/qnum.h"
#include "xna-test-front.h"

static int read_backend_key(void *opaque, const char *key, char *buf,
                            size_t len)
{
    XnaTestFront *tf = opaque;
    g_autofree char *path = g_strdup_printf("%s/%s", tf->dev.backend, key);
    g_autofree char *value = NULL;
    int ret = xen_guest_xs_read(tf->g, XEN_GUEST_XBT_NULL, path, &value);

    if (ret < 0) {
        return ret;
    }
    if (strlen(value) >= len) {
        return -E2BIG;
    }
    strcpy(buf, value);
    return 0;
}

static int write_frontend_key(void *opaque, const char *key,
                              const char *value)
{
    XnaTestFront *tf = opaque;
    g_autofree char *path = g_strdup_printf("%s/%s", tf->dev.frontend, key);

    return xen_guest_xs_write(tf->g, XEN_GUEST_XBT_NULL, path, value);
}

static void notify_backend(void *opaque, uint32_t port)
{
    XnaTestFront *tf = opaque;

    if (tf->hold_notify) {
        g_assert_cmpuint(port, <, 64);
        tf->held_ports |= 1ull << port;
        return;
    }
    xen_guest_evtchn_notify(tf->g, port);
}

void xna_test_front_release(XnaTestFront *tf)
{
    uint32_t port;

    tf->hold_notify = false;
    for (port = 0; port < 64; port++) {
        if (tf->held_ports & (1ull << port)) {
            xen_guest_evtchn_notify(tf->g, port);
        }
    }
    tf->held_ports = 0;
}

struct xna_vi_shared *xna_test_front_vi_shared(XnaTestFront *tf,
                                               unsigned int vi)
{
    return tf->pages[xna_layout_vi_shared_page(&tf->layout, vi)];
}

struct xna_desc *xna_test_front_tx_desc(XnaTestFront *tf, unsigned int vi,
                                        unsigned int slot)
{
    struct xna_desc *page;

    slot &= tf->layout.tx_entries - 1;
    page = tf->pages[xna_layout_tx_ring_page(&tf->layout, vi,
                                             slot / XNA_DESCS_PER_PAGE)];
    return &page[slot % XNA_DESCS_PER_PAGE];
}

struct xna_desc *xna_test_front_rx_desc(XnaTestFront *tf, unsigned int vi,
                                        unsigned int slot)
{
    struct xna_desc *page;

    slot &= tf->layout.rx_entries - 1;
    page = tf->pages[xna_layout_rx_ring_page(&tf->layout, vi,
                                             slot / XNA_DESCS_PER_PAGE)];
    return &page[slot % XNA_DESCS_PER_PAGE];
}

static const struct xna_front_ops test_front_ops = {
    .notify = notify_backend,
};

int xna_test_front_open(XnaTestFront *tf, XenGuest *g,
                        const XnaTestFrontOpts *opts)
{
    XnaTestFrontOpts o = opts ? *opts : (XnaTestFrontOpts) { 0 };
    struct xna_front_config cfg = { 0 };
    uint32_t i;
    int ret;

    memset(tf, 0, sizeof(*tf));
    tf->g = g;
    ret = xen_guest_find_device(g, XNA_XS_DEVICE_TYPE, o.idx, &tf->dev);
    if (ret < 0) {
        return ret;
    }
    ret = xen_guest_wait_state(g, tf->dev.backend, XenbusStateInitWait,
                               XEN_GUEST_TIMEOUT_MS);
    if (ret < 0) {
        return ret;
    }
    ret = xna_backend_info_parse(&tf->bi, read_backend_key, tf);
    if (ret < 0) {
        return ret;
    }
    ret = xna_layout_choose(&tf->layout, &tf->bi, o.vis ? o.vis : 1,
                            o.tx_entries ? o.tx_entries : 256,
                            o.rx_entries ? o.rx_entries : 256);
    if (ret < 0) {
        return ret;
    }

    tf->base_gpa = xen_guest_alloc_pages(g, tf->layout.total_pages);
    tf->pages = g_new0(void *, tf->layout.total_pages);
    tf->refs = g_new0(uint32_t, tf->layout.total_pages);
    for (i = 0; i < tf->layout.total_pages; i++) {
        uint64_t gpa = tf->base_gpa + (uint64_t)i * XEN_GUEST_PAGE_SIZE;

        tf->pages[i] = xen_guest_ram_ptr(g, gpa, XEN_GUEST_PAGE_SIZE);
        g_assert(tf->pages[i]);
        tf->refs[i] = xen_guest_grant(g, gpa, tf->dev.backend_id, false);
    }
    ret = xen_guest_evtchn_alloc_unbound(g, tf->dev.backend_id,
                                         &tf->ctrl_port);
    for (i = 0; !ret && i < tf->layout.num_vis; i++) {
        ret = xen_guest_evtchn_alloc_unbound(g, tf->dev.backend_id,
                                             &tf->vi_ports[i]);
    }
    if (ret < 0) {
        return ret;
    }

    cfg.layout = &tf->layout;
    cfg.pages = tf->pages;
    cfg.refs = tf->refs;
    cfg.ctrl_port = tf->ctrl_port;
    cfg.vi_ports = tf->vi_ports;
    cfg.backend = &tf->bi;
    cfg.wire_macs = true;       /* wherever the backend offers it */
    cfg.ops = &test_front_ops;
    cfg.opaque = tf;
    ret = xna_front_create(&cfg, &tf->f);
    if (ret < 0) {
        return ret;
    }
    ret = xna_front_write_keys(tf->f, tf->bi.generation + o.generation_delta,
                               write_frontend_key, tf);
    if (ret < 0 || o.keys_only) {
        return ret;
    }
    return xen_guest_set_state(g, tf->dev.frontend, XenbusStateInitialised);
}

void xna_test_front_poll_ctrl(XnaTestFront *tf,
                              void (*fn)(void *opaque,
                                         const struct xna_msg *msg),
                              void *opaque)
{
    struct xna_msg msg;

    do {
        while (xna_front_ctrl_recv(tf->f, &msg) > 0) {
            if (fn) {
                fn(opaque, &msg);
            }
        }
    } while (xna_front_ctrl_arm(tf->f));
}

bool xna_test_front_wait(XnaTestFront *tf, bool (*cond)(void *opaque),
                         void *opaque, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + timeout_ms * 1000LL;

    for (;;) {
        uint32_t i;

        xna_test_front_poll_ctrl(tf, NULL, NULL);
        if (cond(opaque)) {
            return true;
        }
        if (g_get_monotonic_time() >= deadline) {
            return false;
        }
        /* Any event of ours wakes us: control or a VI. */
        if (xen_guest_wait_event(tf->g, tf->ctrl_port, 10)) {
            continue;
        }
        for (i = 0; i < tf->layout.num_vis; i++) {
            xen_guest_evtchn_pending(tf->g, tf->vi_ports[i]);
        }
    }
}

static bool front_ready(void *opaque)
{
    XnaTestFront *tf = opaque;

    return xna_front_ready(tf->f) ||
           xna_front_state(tf->f) == XNA_FRONT_FAILED;
}

int xna_test_front_connect(XnaTestFront *tf, int timeout_ms)
{
    int ret = xen_guest_wait_state(tf->g, tf->dev.backend,
                                   XenbusStateConnected, timeout_ms);

    if (ret < 0) {
        return ret;
    }
    ret = xna_front_send_hello(tf->f);
    if (ret < 0) {
        return ret;
    }
    if (!xna_test_front_wait(tf, front_ready, tf, timeout_ms)) {
        return -ETIMEDOUT;
    }
    if (xna_front_state(tf->f) == XNA_FRONT_FAILED) {
        return -EPROTO;
    }
    return xen_guest_set_state(tf->g, tf->dev.frontend,
                               XenbusStateConnected);
}

int xna_test_front_start(XnaTestFront *tf, XenGuest *g,
                         const XnaTestFrontOpts *opts)
{
    int ret = xna_test_front_open(tf, g, opts);

    return ret < 0 ? ret : xna_test_front_connect(tf, XEN_GUEST_TIMEOUT_MS);
}

int xna_test_front_send(XnaTestFront *tf, unsigned int vi,
                        const void *frame, size_t len)
{
    struct xna_frag frag = { .data = frame, .len = len };
    struct xna_vi *v = xna_front_vi(tf->f, vi);
    int ret;

    xna_front_tx_reclaim(v);
    ret = xna_front_tx_frame(v, &frag, 1, len, NULL, false);
    if (ret == XNA_TX_KICK) {
        xna_front_vi_notify(v);
        ret = 0;
    }
    return ret;
}

void xna_test_front_close(XnaTestFront *tf)
{
    uint32_t i;

    xen_guest_set_state(tf->g, tf->dev.frontend, XenbusStateClosing);
    g_assert_cmpint(xen_guest_wait_state_mask(tf->g, tf->dev.backend,
                        XEN_GUEST_STATE_BIT(XenbusStateClosing) |
                        XEN_GUEST_STATE_BIT(XenbusStateClosed),
                        NULL, XEN_GUEST_TIMEOUT_MS), >=, 0);
    xen_guest_set_state(tf->g, tf->dev.frontend, XenbusStateClosed);
    g_assert_cmpint(xen_guest_wait_state(tf->g, tf->dev.backend,
                                         XenbusStateClosed,
                                         XEN_GUEST_TIMEOUT_MS), ==, 0);
    if (tf->f) {
        xna_front_destroy(tf->f);
        tf->f = NULL;
    }
    for (i = 0; tf->refs && i < tf->layout.total_pages; i++) {
        g_assert_cmpint(xen_guest_end_grant(tf->g, tf->refs[i]), ==, 0);
    }
    if (tf->ctrl_port) {
        xen_guest_evtchn_close(tf->g, tf->ctrl_port);
    }
    for (i = 0; i < tf->layout.num_vis; i++) {
        if (tf->vi_ports[i]) {
            xen_guest_evtchn_close(tf->g, tf->vi_ports[i]);
        }
    }
    if (tf->pages) {
        xen_guest_free_pages(tf->g, tf->base_gpa, tf->layout.total_pages);
    }
    g_free(tf->pages);
    g_free(tf->refs);
    xen_guest_device_cleanup(&tf->dev);
    memset(tf, 0, sizeof(*tf));
}

uint64_t xna_test_dev_stat(QTestState *qts, const char *id, const char *name)
{
    g_autofree char *path = g_strdup_printf("/machine/peripheral/%s", id);
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'qom-get', 'arguments': "
                           "{ 'path': %s, 'property': %s } }", path, name);
    uint64_t v;

    g_assert(qdict_haskey(rsp, "return"));
    v = qnum_get_uint(qobject_to(QNum, qdict_get(rsp, "return")));
    qobject_unref(rsp);
    return v;
}
