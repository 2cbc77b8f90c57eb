/*
 * xen-net-accel: the control channel
 *
 * Two FIFOs of fixed-size messages in the control page.  The backend
 * copies each guest message once, validates it, and answers with at most
 * one message; its own messages wait in a bounded backlog when the guest
 * does not drain its FIFO.  Anything malformed disconnects the device.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/atomic.h"
#include "xen-net-accel.h"
#include "trace.h"

#define XNA_CTRL_BACKLOG_MAX    1024

static void ctrl_notify(XenNetAccel *s)
{
    xen_device_notify_event_channel(&s->xendev, s->ctrl_evtchn, NULL);
}

/* Move backlog messages into the guest's FIFO while there is room. */
static void ctrl_flush(XenNetAccel *s)
{
    struct xna_ctrl_ring_idx *r = &s->ctrl->to_guest;
    uint32_t old_prod = s->ctrl_to_guest_prod, cons;
    struct xna_msg *m;

    cons = le32_to_cpu(qatomic_read(&r->cons));
    if (s->ctrl_to_guest_prod - cons > XNA_CTRL_RING_SLOTS) {
        xna_fail(s, XNA_ERR_BAD_INDEX, "control consumer index %u out of "
                 "range", cons);
        return;
    }
    while (s->ctrl_to_guest_prod - cons < XNA_CTRL_RING_SLOTS &&
           (m = g_queue_pop_head(&s->ctrl_backlog))) {
        memcpy(&s->ctrl->to_guest_msgs[s->ctrl_to_guest_prod %
                                       XNA_CTRL_RING_SLOTS],
               m, sizeof(*m));
        g_free(m);
        s->ctrl_to_guest_prod++;
        s->stats.ctrl_msgs_out++;
    }
    if (!g_queue_is_empty(&s->ctrl_backlog)) {
        /* Wake us when the guest has made room. */
        qatomic_set(&r->cons_event, cpu_to_le32(cons));
    }
    if (s->ctrl_to_guest_prod != old_prod) {
        smp_wmb();  /* messages before the producer index */
        qatomic_set(&r->prod, cpu_to_le32(s->ctrl_to_guest_prod));
        smp_mb();   /* publish prod before reading prod_event */
        if (xna_need_event(le32_to_cpu(qatomic_read(&r->prod_event)),
                           s->ctrl_to_guest_prod, old_prod)) {
            ctrl_notify(s);
        }
    }
}

void xna_ctrl_send(XenNetAccel *s, const struct xna_msg *msg)
{
    struct xna_msg *m;

    if (!s->ctrl || s->failing) {
        return;
    }
    if (g_queue_get_length(&s->ctrl_backlog) >= XNA_CTRL_BACKLOG_MAX) {
        xna_fail(s, XNA_ERR_BAD_MSG, "guest does not read control messages");
        return;
    }
    m = g_memdup2(msg, sizeof(*msg));
    m->id = cpu_to_le32(s->msg_id++);
    g_queue_push_tail(&s->ctrl_backlog, m);
    ctrl_flush(s);
}

void xna_ctrl_send_vi(XenNetAccel *s, uint16_t type, uint32_t vi,
                      uint32_t reason)
{
    struct xna_msg msg = { .type = cpu_to_le16(type) };

    msg.u.vi.vi = cpu_to_le32(vi);
    msg.u.vi.reason = cpu_to_le32(reason);
    xna_ctrl_send(s, &msg);
}

void xna_ctrl_send_filter(XenNetAccel *s, uint32_t op,
                          const XnaFilterKey *key, uint32_t vi)
{
    struct xna_msg msg = { .type = cpu_to_le16(XNA_MSG_FILTER) };

    msg.u.filter.op = cpu_to_le32(op);
    msg.u.filter.vi = cpu_to_le32(vi);
    msg.u.filter.kind = key->kind;
    msg.u.filter.port = key->dst_port;   /* both in network order */
    memcpy(msg.u.filter.addr, key->dst_addr, sizeof(msg.u.filter.addr));
    xna_ctrl_send(s, &msg);
}

static void ctrl_send_link(XenNetAccel *s)
{
    struct xna_msg msg = { .type = cpu_to_le16(XNA_MSG_LINK) };

    msg.u.link.up = cpu_to_le32(1);
    msg.u.link.mtu = cpu_to_le32(s->mtu);
    xna_ctrl_send(s, &msg);
}

static bool ctrl_hello(XenNetAccel *s, const XnaWireMsg *in)
{
    struct xna_msg out = { .type = cpu_to_le16(XNA_MSG_HELLO) };
    uint32_t i;

    out.u.hello.version = cpu_to_le32(XNA_PROTOCOL_VERSION);
    out.u.hello.nr_vis = cpu_to_le32(s->num_vis);
    if (s->hello_done || in->version != XNA_PROTOCOL_VERSION ||
        in->nr_vis != s->num_vis) {
        uint32_t err = s->hello_done ? XNA_ERR_BAD_MSG : XNA_ERR_VERSION;

        out.u.hello.status = cpu_to_le32(err);
        xna_ctrl_send(s, &out);
        xna_fail(s, err, "HELLO: version %u, %u VIs (expected %u, %u)%s",
                 in->version, in->nr_vis, XNA_PROTOCOL_VERSION, s->num_vis,
                 s->hello_done ? ", repeated" : "");
        return false;
    }
    s->hello_done = true;
    xna_ctrl_send(s, &out);
    ctrl_send_link(s);
    xna_hello_done(s);
    for (i = 0; i < s->num_vis; i++) {
        xna_vi_start(&s->vis[i]);
    }
    return true;
}

/* Handle one message; false when the device was disconnected. */
static bool ctrl_handle(XenNetAccel *s, const struct xna_msg *raw)
{
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
        return ctrl_hello(s, &in);
    case XNA_MSG_VI_RESET:
        /* Rate-limited: a reset may be carried out later (xna-vi.c). */
        xna_vi_reset(&s->vis[in.vi]);
        return true;
    default:
        /* xna_wire_msg_decode() lets no other type through. */
        xna_fail(s, XNA_ERR_BAD_MSG, "control message %u", in.type);
        return false;
    }
}

bool xna_ctrl_event(void *opaque)
{
    XenNetAccel *s = opaque;
    struct xna_ctrl_ring_idx *r;
    uint32_t prod, old_cons;

    if (!s->ctrl || s->failing) {
        return false;
    }
    r = &s->ctrl->to_backend;
    old_cons = s->ctrl_to_backend_cons;
    prod = le32_to_cpu(qatomic_read(&r->prod));
    smp_rmb();  /* read messages after the index */
    if (prod - s->ctrl_to_backend_cons > XNA_CTRL_RING_SLOTS) {
        xna_fail(s, XNA_ERR_BAD_INDEX, "control producer index %u out of "
                 "range", prod);
        return false;
    }
    while (s->ctrl_to_backend_cons != prod) {
        struct xna_msg msg;

        memcpy(&msg, &s->ctrl->to_backend_msgs[s->ctrl_to_backend_cons %
                                               XNA_CTRL_RING_SLOTS],
               sizeof(msg));
        s->ctrl_to_backend_cons++;
        s->stats.ctrl_msgs_in++;
        if (!ctrl_handle(s, &msg) || s->failing) {
            return true;
        }
    }
    smp_mb();   /* done with the messages before freeing slots */
    qatomic_set(&r->cons, cpu_to_le32(s->ctrl_to_backend_cons));
    qatomic_set(&r->prod_event, cpu_to_le32(s->ctrl_to_backend_cons));
    smp_mb();   /* publish cons before reading cons_event */
    if (xna_need_event(le32_to_cpu(qatomic_read(&r->cons_event)),
                       s->ctrl_to_backend_cons, old_cons)) {
        ctrl_notify(s);
    }
    /* The guest may have drained its FIFO: send what waits. */
    ctrl_flush(s);
    return s->ctrl_to_backend_cons != old_cons;
}

void xna_ctrl_reset(XenNetAccel *s)
{
    g_queue_clear_full(&s->ctrl_backlog, g_free);
    s->hello_done = false;
    s->ctrl_to_backend_cons = 0;
    s->ctrl_to_guest_prod = 0;
    s->msg_id = 0;
}
