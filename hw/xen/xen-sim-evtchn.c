/*
 * xen-sim: event channels
 *
 * The guest allocates unbound ports for a remote domain; a backend binds
 * one with bind_interdomain and gets its own (backend) port number.
 * Guest-to-backend events are queued on the backend handle, whose eventfd
 * wakes QEMU's loop; backend-to-guest events set the port's bit in the
 * guest's pending bitmap and raise the platform's IRQ line.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/atomic.h"
#include "qemu/bitops.h"
#include <sys/eventfd.h>
#include "xen-sim.h"
#include "trace.h"

#define XEN_SIM_MAX_PORTS       (XEN_PAGE_SIZE * 8)
#define XEN_SIM_MAX_BE_PORTS    4096

typedef enum XenSimPortState {
    PORT_FREE,
    PORT_UNBOUND,            /* allocated by the guest, waiting for a bind */
    PORT_INTERDOMAIN,        /* bound by a backend */
} XenSimPortState;

typedef struct XenSimBePort XenSimBePort;

struct XenSimPort {
    XenSimPortState state;
    uint16_t remote_dom;
    uint32_t guest_port;
    XenSimBePort *be;        /* valid when PORT_INTERDOMAIN */
};

/*
 * A backend's port.  It lives until the backend unbinds it, even when the
 * guest closes its end first (then, as in Xen, events go nowhere).
 */
struct XenSimBePort {
    uint32_t port;
    xenevtchn_handle *xc;
    XenSimPort *peer;        /* NULL once the guest closed its end */
    bool pending;            /* queued on xc->pending */
};

struct xenevtchn_handle {
    int fd;                  /* eventfd: readable while events are queued */
    GQueue pending;          /* XenSimBePort * with events */
    GList *ports;            /* XenSimBePort * of this handle */
};

static XenSimPort *guest_port(XenSimState *s, uint64_t port)
{
    if (!s->ports || port == 0 || port >= s->nr_ports) {
        return NULL;
    }
    return &s->ports[port];
}

int xen_sim_evtchn_setup(XenSimState *s, uint64_t gpa, uint64_t nr_ports)
{
    MemoryRegionSection mrs;
    unsigned long *bitmap;
    uint32_t i;

    if (nr_ports < 2 || nr_ports > XEN_SIM_MAX_PORTS ||
        (gpa & (XEN_PAGE_SIZE - 1))) {
        return -EINVAL;
    }
    if (s->ports) {
        for (i = 1; i < s->nr_ports; i++) {
            if (s->ports[i].state != PORT_FREE) {
                return -EBUSY;   /* as Xen: no reset with live ports */
            }
        }
    }
    bitmap = xen_sim_map_ram(gpa, XEN_PAGE_SIZE, &mrs);
    if (!bitmap) {
        return -EFAULT;
    }
    if (s->pending) {
        xen_sim_unmap_ram(&s->pending_mrs);
    }
    g_free(s->ports);
    s->pending = bitmap;
    s->pending_mrs = mrs;
    s->pending_gpa = gpa;
    s->nr_ports = nr_ports;
    s->ports = g_new0(XenSimPort, nr_ports);
    for (i = 0; i < nr_ports; i++) {
        s->ports[i].guest_port = i;
    }
    return 0;
}

int xen_sim_evtchn_alloc_unbound(XenSimState *s, uint64_t remote_dom,
                                 uint64_t *port)
{
    uint32_t i;

    if (!s->ports) {
        return -ENXIO;
    }
    if (remote_dom >= DOMID_FIRST_RESERVED) {
        return -EINVAL;
    }
    for (i = 1; i < s->nr_ports; i++) {
        if (s->ports[i].state == PORT_FREE) {
            s->ports[i].state = PORT_UNBOUND;
            s->ports[i].remote_dom = remote_dom;
            clear_bit_atomic(i, s->pending);
            *port = i;
            trace_xen_sim_evtchn_alloc(i, remote_dom);
            return 0;
        }
    }
    return -ENOSPC;
}

/* Break the binding between a guest port and a backend port. */
static void evtchn_disconnect(XenSimState *s, XenSimPort *p)
{
    p->be->peer = NULL;
    p->be = NULL;
    p->state = PORT_UNBOUND;
    s->stats.evtchn_bound--;
}

int xen_sim_evtchn_close(XenSimState *s, uint64_t port)
{
    XenSimPort *p = guest_port(s, port);

    if (!p || p->state == PORT_FREE) {
        return -EINVAL;
    }
    if (p->state == PORT_INTERDOMAIN) {
        evtchn_disconnect(s, p);
    }
    p->state = PORT_FREE;
    trace_xen_sim_evtchn_close(port);
    return 0;
}

int xen_sim_evtchn_send(XenSimState *s, uint64_t port)
{
    XenSimPort *p = guest_port(s, port);
    uint64_t one = 1;

    if (!p || p->state == PORT_FREE) {
        qemu_log_mask(LOG_GUEST_ERROR, "xen-sim: send on port %" PRIu64
                      ", which is not allocated\n", port);
        return -EINVAL;
    }
    if (p->state == PORT_UNBOUND) {
        return 0;                /* as Xen: nobody listens yet */
    }
    s->stats.evtchn_notify_backend++;
    if (!p->be->pending) {
        p->be->pending = true;
        g_queue_push_tail(&p->be->xc->pending, p->be);
        if (write(p->be->xc->fd, &one, sizeof(one)) != sizeof(one)) {
            return -errno;
        }
    }
    return 0;
}

/* Backend-ops table */

static xenevtchn_handle *xen_sim_evtchn_open(void)
{
    xenevtchn_handle *xc = g_new0(xenevtchn_handle, 1);

    xc->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (xc->fd < 0) {
        g_free(xc);
        return NULL;
    }
    g_queue_init(&xc->pending);
    return xc;
}

static int xen_sim_evtchn_bind_interdomain(xenevtchn_handle *xc,
                                           uint32_t domid,
                                           evtchn_port_t gport)
{
    XenSimState *s = xen_sim;
    XenSimPort *p = guest_port(s, gport);
    XenSimBePort *be;
    uint32_t bport;

    if (domid != s->domid) {
        errno = ESRCH;
        return -1;
    }
    if (!p || p->state != PORT_UNBOUND || p->remote_dom != s->backend_domid) {
        /* Xen refuses ports that are not unbound for the caller. */
        trace_xen_sim_evtchn_refused(gport, p ? p->state : -1);
        errno = EINVAL;
        return -1;
    }
    if (g_hash_table_size(s->backend_ports) >= XEN_SIM_MAX_BE_PORTS - 1) {
        errno = ENOSPC;
        return -1;
    }
    do {
        bport = s->next_backend_port++;
        if (s->next_backend_port >= XEN_SIM_MAX_BE_PORTS) {
            s->next_backend_port = 1;
        }
    } while (g_hash_table_contains(s->backend_ports,
                                   GUINT_TO_POINTER(bport)));

    be = g_new0(XenSimBePort, 1);
    be->port = bport;
    be->xc = xc;
    be->peer = p;
    p->state = PORT_INTERDOMAIN;
    p->be = be;
    g_hash_table_insert(s->backend_ports, GUINT_TO_POINTER(bport), be);
    xc->ports = g_list_prepend(xc->ports, be);
    s->stats.evtchn_bound++;
    trace_xen_sim_evtchn_bind(gport, bport);
    return bport;
}

static XenSimBePort *backend_port(xenevtchn_handle *xc, evtchn_port_t port)
{
    XenSimBePort *be = g_hash_table_lookup(xen_sim->backend_ports,
                                           GUINT_TO_POINTER(port));

    return (be && be->xc == xc) ? be : NULL;
}

static void backend_port_free(XenSimState *s, XenSimBePort *be)
{
    xenevtchn_handle *xc = be->xc;

    if (be->peer) {
        evtchn_disconnect(s, be->peer);
    }
    if (be->pending) {
        g_queue_remove(&xc->pending, be);
    }
    xc->ports = g_list_remove(xc->ports, be);
    g_hash_table_remove(s->backend_ports, GUINT_TO_POINTER(be->port));
    g_free(be);
}

static int xen_sim_evtchn_unbind(xenevtchn_handle *xc, evtchn_port_t port)
{
    XenSimBePort *be = backend_port(xc, port);

    if (!be) {
        errno = EINVAL;
        return -1;
    }
    backend_port_free(xen_sim, be);
    return 0;
}

static int xen_sim_evtchn_close_handle(xenevtchn_handle *xc)
{
    while (xc->ports) {
        backend_port_free(xen_sim, xc->ports->data);
    }
    close(xc->fd);
    g_free(xc);
    return 0;
}

static int xen_sim_evtchn_fd(xenevtchn_handle *xc)
{
    return xc->fd;
}

static int xen_sim_evtchn_notify(xenevtchn_handle *xc, evtchn_port_t port)
{
    XenSimState *s = xen_sim;
    XenSimBePort *be = backend_port(xc, port);

    if (!be) {
        errno = EINVAL;
        return -1;
    }
    if (!be->peer) {
        return 0;            /* as Xen: the other end is gone */
    }
    s->stats.evtchn_notify_guest++;
    set_bit_atomic(be->peer->guest_port, s->pending);
    xen_sim_raise_irq(s);
    return 0;
}

static int xen_sim_evtchn_unmask(xenevtchn_handle *xc, evtchn_port_t port)
{
    return 0;                /* events are never masked here */
}

/* The next backend port with an event, or -1; drains the fd when idle. */
static int xen_sim_evtchn_pending(xenevtchn_handle *xc)
{
    XenSimBePort *be = g_queue_pop_head(&xc->pending);
    uint64_t val;

    if (g_queue_is_empty(&xc->pending)) {
        if (read(xc->fd, &val, sizeof(val)) < 0 && errno != EAGAIN) {
            return -1;
        }
    }
    if (!be) {
        errno = EAGAIN;      /* nothing pending, as libxenevtchn says */
        return -1;
    }
    be->pending = false;
    return be->port;
}

struct evtchn_backend_ops xen_sim_evtchn_ops = {
    .open = xen_sim_evtchn_open,
    .bind_interdomain = xen_sim_evtchn_bind_interdomain,
    .unbind = xen_sim_evtchn_unbind,
    .close = xen_sim_evtchn_close_handle,
    .get_fd = xen_sim_evtchn_fd,
    .notify = xen_sim_evtchn_notify,
    .unmask = xen_sim_evtchn_unmask,
    .pending = xen_sim_evtchn_pending,
};
