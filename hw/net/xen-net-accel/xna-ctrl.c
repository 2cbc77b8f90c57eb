/*
 * xen-net-accel: the control channel's transport (see xna-ctrl.h)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "qapi/error.h"
#include "xna-ctrl.h"
#include "xna-ring.h"

/* Messages waiting for room in the guest's FIFO before it counts as stuck. */
#define XNA_CTRL_BACKLOG_MAX    1024

struct XnaCtrl {
    XenDevice *xendev;
    const XnaCtrlOps *ops;
    void *opaque;
    XnaCtrlStats *stats;

    uint32_t ref;
    struct xna_ctrl_page *page;
    XenEventChannel *evtchn;
    bool stopped;

    /* Our copies of the indices: the page is only written. */
    uint32_t to_backend_cons;
    uint32_t to_guest_prod;
    uint32_t msg_id;
    GQueue backlog;              /* struct xna_msg * waiting for room */
};

static void ctrl_error(XnaCtrl *c, uint32_t code, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
static void ctrl_error(XnaCtrl *c, uint32_t code, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    c->stopped = true;
    c->ops->error(c->opaque, code, msg);
}

static void ctrl_notify(XnaCtrl *c)
{
    xen_device_notify_event_channel(c->xendev, c->evtchn, NULL);
}

/* Move backlog messages into the guest's FIFO while there is room. */
static void ctrl_flush(XnaCtrl *c)
{
    struct xna_ctrl_ring_idx *r = &c->page->to_guest;
    uint32_t old_prod = c->to_guest_prod, cons;
    struct xna_msg *m;

    cons = xna_ring_read_index(&r->cons);
    if (!xna_ring_prod_ok(c->to_guest_prod, cons, XNA_CTRL_RING_SLOTS)) {
        ctrl_error(c, XNA_ERR_BAD_INDEX,
                   "control consumer index %u out of range", cons);
        return;
    }
    while (c->to_guest_prod - cons < XNA_CTRL_RING_SLOTS &&
           (m = g_queue_pop_head(&c->backlog))) {
        memcpy(&c->page->to_guest_msgs[c->to_guest_prod %
                                       XNA_CTRL_RING_SLOTS],
               m, sizeof(*m));
        g_free(m);
        c->to_guest_prod++;
        c->stats->msgs_out++;
    }
    if (!g_queue_is_empty(&c->backlog)) {
        /* Wake us when the guest has made room. */
        qatomic_set(&r->cons_event, cpu_to_le32(cons));
    }
    if (c->to_guest_prod != old_prod &&
        xna_ring_publish(&r->prod, &r->prod_event, c->to_guest_prod,
                         old_prod)) {
        ctrl_notify(c);
    }
}

static void ctrl_queue(XnaCtrl *c, const struct xna_msg *msg)
{
    struct xna_msg *m = g_memdup2(msg, sizeof(*msg));

    m->id = cpu_to_le32(c->msg_id++);
    g_queue_push_tail(&c->backlog, m);
    ctrl_flush(c);
}

void xna_ctrl_send(XnaCtrl *c, const struct xna_msg *msg)
{
    if (!c || c->stopped) {
        return;
    }
    if (g_queue_get_length(&c->backlog) >= XNA_CTRL_BACKLOG_MAX) {
        ctrl_error(c, XNA_ERR_BAD_MSG, "guest does not read control messages");
        return;
    }
    ctrl_queue(c, msg);
}

void xna_ctrl_send_final(XnaCtrl *c, const struct xna_msg *msg)
{
    if (!c) {
        return;
    }
    g_queue_clear_full(&c->backlog, g_free);
    ctrl_queue(c, msg);
    c->stopped = true;
}

void xna_ctrl_stop(XnaCtrl *c)
{
    if (c) {
        c->stopped = true;
    }
}

/* Event channel handler: true when there was something to do. */
static bool ctrl_event(void *opaque)
{
    XnaCtrl *c = opaque;
    struct xna_ctrl_ring_idx *r = &c->page->to_backend;
    uint32_t prod, old_cons = c->to_backend_cons;

    if (c->stopped) {
        return false;
    }
    prod = xna_ring_read_index(&r->prod);
    if (!xna_ring_prod_ok(prod, c->to_backend_cons, XNA_CTRL_RING_SLOTS)) {
        ctrl_error(c, XNA_ERR_BAD_INDEX,
                   "control producer index %u out of range", prod);
        return false;
    }
    while (c->to_backend_cons != prod) {
        struct xna_msg msg;

        memcpy(&msg, &c->page->to_backend_msgs[c->to_backend_cons %
                                               XNA_CTRL_RING_SLOTS],
               sizeof(msg));
        c->to_backend_cons++;
        c->stats->msgs_in++;
        if (!c->ops->receive(c->opaque, &msg) || c->stopped) {
            return true;
        }
    }
    /* A kick for the next message, then the slots are the guest's. */
    qatomic_set(&r->prod_event, cpu_to_le32(c->to_backend_cons));
    if (xna_ring_publish(&r->cons, &r->cons_event, c->to_backend_cons,
                         old_cons)) {
        ctrl_notify(c);
    }
    /* The guest may have drained its FIFO: send what waits. */
    ctrl_flush(c);
    return c->to_backend_cons != old_cons;
}

void xna_ctrl_poll(XnaCtrl *c)
{
    if (c) {
        ctrl_event(c);
    }
}

XnaCtrl *xna_ctrl_open(XenDevice *xendev, uint32_t ref, uint32_t port,
                       const XnaCtrlOps *ops, void *opaque,
                       XnaCtrlStats *stats, Error **errp)
{
    XnaCtrl *c = g_new0(XnaCtrl, 1);

    c->xendev = xendev;
    c->ops = ops;
    c->opaque = opaque;
    c->stats = stats;
    c->ref = ref;
    g_queue_init(&c->backlog);
    c->page = xen_device_map_grant_refs(xendev, &c->ref, 1,
                                        PROT_READ | PROT_WRITE, errp);
    if (!c->page) {
        error_prepend(errp, "control page: ");
        g_free(c);
        return NULL;
    }
    c->evtchn = xen_device_bind_event_channel(xendev, port, ctrl_event, c,
                                              errp);
    if (!c->evtchn) {
        error_prepend(errp, "control event channel: ");
        xna_ctrl_close(c);
        return NULL;
    }
    return c;
}

void xna_ctrl_close(XnaCtrl *c)
{
    if (!c) {
        return;
    }
    if (c->evtchn) {
        xen_device_unbind_event_channel(c->xendev, c->evtchn, &error_warn);
    }
    xen_device_unmap_grant_refs(c->xendev, c->page, &c->ref, 1,
                                &error_warn);
    g_queue_clear_full(&c->backlog, g_free);
    g_free(c);
}
