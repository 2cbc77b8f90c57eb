/*
 * xen-net-accel: AF_XDP NIC
 *
 * Real NIC queues as VIs: VI n is an AF_XDP socket on receive queue
 * start-queue + n of the host interface `ifname`, with a UMEM of its own
 * (copy mode).  The filters live in the XDP program's hash map, sized to
 * the device's max-filters: matching frames go to their VI's socket,
 * the others to the kernel's stack.  The default queue is a ring of
 * samples: copies of unmatched frames for the guest's MAC that the
 * kernel passed on, from which the device learns flows (caps
 * slow_path_samples: the device does not deliver them, the kernel did).
 *
 * The program is attached while at least one VI exists; realize only
 * checks that it can be (and that the queues exist).  Sockets and the
 * sample ring wake the device from QEMU's main loop (fd handlers).
 *
 * A VI may receive into the guest's pool instead (pool_attach): its
 * socket is then a pool socket (xna-xsk.h), and it sends through an
 * AF_PACKET socket, copying, as the pool holds no buffer of ours.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <net/if.h>
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "xna-nic.h"
#include "xna-xsk.h"
#include "xna-afxdp-prog.h"
#include "xna-afxdp-helper.h"
#include "monitor/monitor.h"
#include "trace.h"
#ifdef CONFIG_SECCOMP
#include <seccomp.h>
#endif

#define TYPE_XNA_AFXDP_NIC "xna-nic-afxdp"

/* Samples waiting for the device; beyond this they are dropped. */
#define XNA_AFXDP_SAMPLE_QUEUE  256
/* How often a transmit that ran out of UMEM chunks looks again. */
#define XNA_AFXDP_TX_RETRY_MS   1
/*
 * A VI whose queue is busy tries again after 1 ms, then twice as long each
 * time up to XNA_AFXDP_SOCKET_MAX_DELAY_MS.  After XNA_AFXDP_SOCKET_WARN_MS
 * the queue is taken to be held by another program: the VI says so (once
 * per VI) and goes on trying once per XNA_AFXDP_SOCKET_SLOW_DELAY_MS (an
 * attempt costs a few milliseconds of the main loop).
 */
#define XNA_AFXDP_SOCKET_MAX_DELAY_MS   256
#define XNA_AFXDP_SOCKET_WARN_MS        2000
#define XNA_AFXDP_SOCKET_SLOW_DELAY_MS  1000

QEMU_BUILD_BUG_ON(sizeof(XnaFilterKey) != sizeof(struct xna_bpf_key));
QEMU_BUILD_BUG_ON(XNA_START_QUEUE_AUTO != XNA_AFXDP_QUEUE_AUTO);
QEMU_BUILD_BUG_ON(XNA_MAX_VIS > XNA_BPF_MAX_VIS);

typedef struct XnaAfxdpVi {
    struct XnaAfxdpNic *nic;
    uint32_t index;
    bool allocated;
    XnaXsk *xsk;             /* NULL while a socket waits, or failed */
    /*
     * AF_PACKET socket to send: a pool VI's always (its socket has no
     * transmit ring), a copy VI's while its socket waits.
     */
    int pkt_fd;
    XnaXskPriv priv;         /* its sockets from the helper, if any */
    bool pool_attached;
    bool rx_armed;           /* the socket's fd handler is set */
    bool rx_drained;         /* the last rx_burst call returned nothing */

    /*
     * A queue stays busy for a moment after its socket is closed.  The
     * socket that replaces it is then made from a timer, never waited
     * for in the main loop: meanwhile the VI receives nothing, transmit
     * waits, and buffers given to a pool VI are kept for the socket.
     */
    bool want_pool;          /* the socket to make is a pool socket */
    XnaNicPool pool;
    bool socket_waiting;
    QEMUTimer *socket_timer;
    int64_t socket_wait_start_ms;
    uint32_t socket_delay_ms;
    bool socket_warned;      /* once per VI allocation */
    uint64_t *pending_bufs;  /* pool buffers given before the socket */
    uint32_t nr_pending_bufs;
} XnaAfxdpVi;

typedef struct XnaAfxdpNic {
    XnaNic parent_obj;
    char *ifname;
    char *helper_name;       /* the property: a monitor fd name, or unset */
    XnaAfxdpHelper *helper;  /* makes and binds what needs privilege */
    int ifindex;
    uint32_t start_queue;    /* the property: XNA_AFXDP_QUEUE_AUTO or fixed */
    uint32_t queue_base;     /* VI n's queue is queue_base + n (the last) */
    uint32_t nr_queues;      /* the interface's receive queues */
    uint32_t max_vis;
    uint32_t max_filters;
    uint8_t mac[6];

    XnaAfxdpProg *prog;      /* attached while a VI exists */
    XnaAfxdpVi vis[XNA_MAX_VIS];
    uint32_t nr_vis;
    GHashTable *filters;     /* XnaFilterKey * -> VI + 1: replayed at load */

    GQueue samples;          /* XnaFrame *, the default queue */
    XnaFrame *samples_taken[XNA_AFXDP_SAMPLE_QUEUE];
    uint32_t nr_samples_taken;

    QEMUTimer *tx_timer;     /* retries a blocked transmit */
    XnaNicStats stats;       /* with the counts of closed sockets, programs */
} XnaAfxdpNic;

OBJECT_DECLARE_SIMPLE_TYPE(XnaAfxdpNic, XNA_AFXDP_NIC)

static void afxdp_free_frame(XnaFrame *f)
{
    g_free(f->data);
    g_free(f);
}

static void afxdp_release_samples(XnaAfxdpNic *n)
{
    uint32_t i;

    for (i = 0; i < n->nr_samples_taken; i++) {
        afxdp_free_frame(n->samples_taken[i]);
    }
    n->nr_samples_taken = 0;
}

/* A sample from the ring: check it, then queue a copy of the frame. */
static void afxdp_sample(void *opaque, const void *data, size_t size)
{
    XnaAfxdpNic *n = opaque;
    const struct xna_bpf_sample *s = data;
    XnaFrame *f;

    if (size < offsetof(struct xna_bpf_sample, data) ||
        s->len < 14 || s->len > XNA_BPF_SAMPLE_MAX ||
        s->len > size - offsetof(struct xna_bpf_sample, data)) {
        n->stats.rx_dropped++;
        return;
    }
    if (g_queue_get_length(&n->samples) >= XNA_AFXDP_SAMPLE_QUEUE) {
        n->stats.rx_dropped++;
        return;
    }
    f = g_new0(XnaFrame, 1);
    f->data = g_memdup2(s->data, s->len);
    f->len = s->len;
    g_queue_push_tail(&n->samples, f);
}

static void afxdp_samples_readable(void *opaque)
{
    XnaAfxdpNic *n = opaque;
    XnaNicHost *host = &XNA_NIC(n)->host;
    bool was_empty = g_queue_is_empty(&n->samples);

    if (!n->prog) {
        return;
    }
    xna_afxdp_prog_samples_drain(n->prog, afxdp_sample, n);
    if (was_empty && !g_queue_is_empty(&n->samples)) {
        host->rx_ready(host->opaque, XNA_NIC_DEFAULT_QUEUE);
    }
}

/*
 * The socket has frames.  With rx_run the device takes them now, and the
 * fd stays polled as long as the device empties the ring, so that a busy
 * queue costs neither a bottom half nor two changes of the main loop's
 * poll set per wake-up (each of which also wakes the loop once more: the
 * larger part of QEMU's time per packet under Xen, tests/xen/bench
 * --profile).  A device that stopped before rx_burst returned nothing
 * (out of guest buffers, or at its budget) leaves a ring that stays
 * readable, so stop polling it then: the device comes back for the rest
 * (rx_burst's contract), and rx_burst polls again once it has emptied
 * the ring, or when it took nothing.  Whether the ring is empty now is
 * no test of that: the kernel may have added frames since the device's
 * last call.
 */
static void afxdp_vi_readable(void *opaque)
{
    XnaAfxdpVi *v = opaque;
    XnaNicHost *host = &XNA_NIC(v->nic)->host;

    v->nic->stats.rx_wakeups++;
    if (host->rx_run) {
        v->rx_drained = false;
        host->rx_run(host->opaque, v->index);
        if (v->rx_armed && v->xsk && !v->rx_drained) {
            qemu_set_fd_handler(v->xsk->fd, NULL, NULL, NULL);
            v->rx_armed = false;
        }
        return;
    }
    qemu_set_fd_handler(v->xsk->fd, NULL, NULL, NULL);
    v->rx_armed = false;
    host->rx_ready(host->opaque, v->index);
}

static void afxdp_vi_arm(XnaAfxdpVi *v)
{
    if (!v->rx_armed) {
        qemu_set_fd_handler(v->xsk->fd, afxdp_vi_readable, NULL, v);
        v->rx_armed = true;
    }
}

static bool afxdp_prog_start(XnaAfxdpNic *n, Error **errp)
{
    XnaAfxdpProgConfig pc = {
        .ifindex = n->ifindex,
        .ifname = n->ifname,
        .guest_mac = n->mac,
        .start_queue = n->start_queue,
        .prefer_queue = n->queue_base,
        .nr_vis = n->max_vis,
        .nr_queues = n->nr_queues,
        .max_filters = n->max_filters,
    };
    GHashTableIter it;
    gpointer key, vi_plus_1;

    n->prog = n->helper ? xna_afxdp_helper_attach(n->helper, &pc, errp) :
                          xna_afxdp_prog_new(&pc, errp);
    if (!n->prog) {
        return false;
    }
    n->queue_base = xna_afxdp_prog_start_queue(n->prog);
    g_hash_table_iter_init(&it, n->filters);
    while (g_hash_table_iter_next(&it, &key, &vi_plus_1)) {
        xna_afxdp_prog_filter_set(n->prog, key,
                                  GPOINTER_TO_UINT(vi_plus_1) - 1);
    }
    qemu_set_fd_handler(xna_afxdp_prog_samples_fd(n->prog),
                        afxdp_samples_readable, NULL, n);
    return true;
}

/* Adds the XDP program's counters to @st. */
static void afxdp_prog_counts(XnaAfxdpProg *prog, XnaNicStats *st)
{
    uint64_t c[XNA_BPF_STAT_MAX];

    xna_afxdp_prog_stats(prog, c);
    st->xdp_redirected += c[XNA_BPF_STAT_REDIRECTED];
    st->xdp_passed += c[XNA_BPF_STAT_PASSED];
    st->xdp_sampled += c[XNA_BPF_STAT_SAMPLED];
    st->xdp_sample_lost += c[XNA_BPF_STAT_SAMPLE_LOST];
    st->xdp_other_queue += c[XNA_BPF_STAT_OTHER_QUEUE];
    st->xdp_no_vi_queue += c[XNA_BPF_STAT_NO_VI_QUEUE];
}

/* Adds the kernel's drop counts of a socket to @st. */
static void afxdp_xsk_counts(XnaXsk *x, XnaNicStats *st)
{
    XnaXskDrops d = { 0 };

    xna_xsk_drops(x, &d);
    st->rx_no_buffer += d.no_buffer;
    st->rx_ring_full += d.ring_full;
    st->rx_invalid += d.invalid;
    st->rx_dropped += d.dropped + x->rx_bad;
    st->tx_dropped += x->tx_errors;
}

static void afxdp_prog_stop(XnaAfxdpNic *n)
{
    if (!n->prog) {
        return;
    }
    afxdp_prog_counts(n->prog, &n->stats);
    qemu_set_fd_handler(xna_afxdp_prog_samples_fd(n->prog), NULL, NULL, NULL);
    if (n->helper) {
        xna_afxdp_helper_detach(n->helper, n->prog);
    } else {
        xna_afxdp_prog_free(n->prog);
    }
    n->prog = NULL;
    afxdp_release_samples(n);
    g_queue_clear_full(&n->samples, (GDestroyNotify)afxdp_free_frame);
}

static void afxdp_tx_retry(void *opaque)
{
    XnaAfxdpNic *n = opaque;
    XnaNicHost *host = &XNA_NIC(n)->host;
    bool room = false;
    uint32_t i;

    for (i = 0; i < n->max_vis; i++) {
        XnaXsk *x = n->vis[i].xsk;

        if (n->vis[i].pkt_fd >= 0) {
            room = true;             /* the next send tries again */
        } else if (x) {
            xna_xsk_tx_flush(x);
            room |= x->nr_tx_free > 0;
        }
    }
    if (room) {
        host->tx_ready(host->opaque);
    } else if (n->nr_vis) {
        timer_mod(n->tx_timer, qemu_clock_get_ms(QEMU_CLOCK_REALTIME) +
                  XNA_AFXDP_TX_RETRY_MS);
    }
}

static void afxdp_vi_socket_retry(void *opaque);

static int afxdp_priv_socket(void *opaque, Error **errp)
{
    XnaAfxdpVi *v = opaque;

    return xna_afxdp_helper_xsk_socket(v->nic->helper, errp);
}

/* The helper binds to its interface's queue start + VI: @queue, here. */
static int afxdp_priv_bind(void *opaque, int fd, uint32_t queue,
                           uint16_t flags)
{
    XnaAfxdpVi *v = opaque;
    Error *err = NULL;
    int ret = xna_afxdp_helper_xsk_bind(v->nic->helper, fd, v->index, flags,
                                        &err);

    /* The caller reports the errno, or tries another mode. */
    error_free(err);
    return ret;
}

/*
 * With a helper, this process may not bind a socket: the helper binds
 * ours, and a socket of the helper's that we bound could go to any
 * interface and queue (tests/xen/priv-probe).  Nor may it set a packet
 * socket's options (join an interface promiscuously, map its rings).
 * A seccomp filter in every thread, before any guest has connected: no
 * later code, a guest's that took the process over included, can lift
 * it.  Once per process.
 */
static bool afxdp_confine(Error **errp)
{
#ifdef CONFIG_SECCOMP
    static bool confined;
    scmp_filter_ctx ctx;
    int rc;

    if (confined) {
        return true;
    }
    ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) {
        error_setg(errp, "afxdp-helper: seccomp_init failed");
        return false;
    }
    rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (!rc) {
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(bind), 0);
    }
    if (!rc) {
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setsockopt),
                              1, SCMP_A1(SCMP_CMP_EQ, SOL_PACKET));
    }
    if (!rc) {
        rc = seccomp_load(ctx);
    }
    seccomp_release(ctx);
    if (rc < 0) {
        error_setg_errno(errp, -rc, "afxdp-helper: cannot confine QEMU "
                         "(seccomp)");
        return false;
    }
    confined = true;
    trace_xna_afxdp_confined();
    return true;
#else
    error_setg(errp, "afxdp-helper needs a QEMU built with seccomp");
    return false;
#endif
}

/*
 * helper=NAME: the descriptor of the helper's socket pair, passed to the
 * monitor with getfd (or a number QEMU inherited).
 */
static bool afxdp_helper_open(XnaAfxdpNic *n, Error **errp)
{
    int fd;

    if (!afxdp_confine(errp)) {
        return false;
    }
    fd = monitor_fd_param(monitor_cur(), n->helper_name, errp);

    if (fd < 0) {
        error_prepend(errp, "afxdp-helper=%s: ", n->helper_name);
        return false;
    }
    n->helper = xna_afxdp_helper_new(fd, errp);
    return n->helper != NULL;
}

static bool afxdp_open(XnaNic *nic, const XnaNicConfig *cfg, Error **errp)
{
    XnaAfxdpNic *n = XNA_AFXDP_NIC(nic);
    int queues;
    uint32_t i;

    if (!n->ifname || !*n->ifname) {
        error_setg(errp, "nic=afxdp needs an ifname property");
        return false;
    }
    n->ifindex = if_nametoindex(n->ifname);
    if (!n->ifindex) {
        error_setg_errno(errp, errno, "ifname=%s: no such interface",
                         n->ifname);
        return false;
    }
    if (n->helper_name && !afxdp_helper_open(n, errp)) {
        return false;
    }
    queues = xna_afxdp_rx_queues(n->ifname, errp);
    if (queues < 0) {
        return false;
    }
    /* Fixed queues must exist; free ones are taken when the VIs come. */
    if (n->start_queue == XNA_AFXDP_QUEUE_AUTO ?
        cfg->max_vis > (uint32_t)queues :
        n->start_queue >= (uint32_t)queues ||
        cfg->max_vis > (uint32_t)queues - n->start_queue) {
        if (n->start_queue == XNA_AFXDP_QUEUE_AUTO) {
            error_setg(errp, "ifname=%s has %d receive queue(s), fewer "
                       "than max-vis %u", n->ifname, queues, cfg->max_vis);
        } else {
            error_setg(errp, "ifname=%s has %d receive queue(s): queues "
                       "%u..%u (start-queue, max-vis) do not exist",
                       n->ifname, queues, n->start_queue,
                       n->start_queue + cfg->max_vis - 1);
        }
        return false;
    }
    n->nr_queues = queues;
    n->queue_base = XNA_AFXDP_QUEUE_AUTO;    /* none yet */
    n->max_vis = cfg->max_vis;
    n->max_filters = cfg->max_filters;
    memcpy(n->mac, cfg->conf->macaddr.a, sizeof(n->mac));
    for (i = 0; i < XNA_MAX_VIS; i++) {
        n->vis[i].nic = n;
        n->vis[i].index = i;
        n->vis[i].pkt_fd = -1;
        n->vis[i].priv = (XnaXskPriv) {
            .socket = afxdp_priv_socket,
            .bind = afxdp_priv_bind,
            .opaque = &n->vis[i],
        };
        n->vis[i].socket_timer = timer_new_ms(QEMU_CLOCK_REALTIME,
                                              afxdp_vi_socket_retry,
                                              &n->vis[i]);
    }
    n->filters = g_hash_table_new_full(xna_filter_key_hash,
                                       xna_filter_key_equal, g_free, NULL);
    g_queue_init(&n->samples);
    n->tx_timer = timer_new_ms(QEMU_CLOCK_REALTIME, afxdp_tx_retry, n);
    /* Fail now, not when the guest connects, if XDP cannot run here. */
    if (!afxdp_prog_start(n, errp)) {
        return false;
    }
    afxdp_prog_stop(n);
    trace_xna_afxdp_open(n->ifname, n->ifindex, n->start_queue, n->max_vis,
                         queues);
    return true;
}

static void afxdp_vi_free(XnaNic *nic, uint32_t vi);

static void afxdp_close(XnaNic *nic)
{
    XnaAfxdpNic *n = XNA_AFXDP_NIC(nic);
    uint32_t i;

    for (i = 0; i < XNA_MAX_VIS; i++) {
        afxdp_vi_free(nic, i);
    }
    afxdp_prog_stop(n);
}

static void afxdp_get_caps(XnaNic *nic, XnaNicCaps *caps)
{
    XnaAfxdpNic *n = XNA_AFXDP_NIC(nic);

    memset(caps, 0, sizeof(*caps));
    caps->filter_kinds = (1u << XNA_FILTER_MAC) |
                         (1u << XNA_FILTER_IPV4_TCP) |
                         (1u << XNA_FILTER_IPV4_UDP) |
                         (1u << XNA_FILTER_IPV6_TCP) |
                         (1u << XNA_FILTER_IPV6_UDP);
    caps->max_filters = n->max_filters;
    caps->max_vis = n->max_vis;
    caps->slow_path_samples = true;
    caps->pool_rx = true;
    caps->pool_headroom = XNA_XSK_POOL_HEADROOM;
    caps->pool_frame_max = XNA_XSK_POOL_FRAME_MAX;
}

/* Make @x the VI's socket: in the socket map, its fd polled. */
static bool afxdp_vi_set_socket(XnaAfxdpNic *n, XnaAfxdpVi *v, XnaXsk *x,
                                Error **errp)
{
    /* The helper steered the VI's frames to it as it bound it. */
    int ret = n->helper ? 0 : xna_afxdp_prog_xsk_set(n->prog, v->index, x->fd);

    if (ret < 0) {
        error_setg_errno(errp, -ret, "ifname=%s: socket map of VI %u",
                         n->ifname, v->index);
        xna_xsk_free(x);
        return false;
    }
    v->xsk = x;
    afxdp_vi_arm(v);
    trace_xna_afxdp_socket(n->ifname, v->index, x->pool, x->zero_copy);
    return true;
}

/*
 * Out of the socket map first, so that the kernel passes the VI's frames
 * on rather than queue them to a socket that is going.
 */
static void afxdp_vi_drop_socket(XnaAfxdpNic *n, XnaAfxdpVi *v)
{
    if (!v->xsk) {
        return;
    }
    if (n->helper) {
        xna_afxdp_helper_xsk_del(n->helper, v->index);
    } else if (n->prog) {
        xna_afxdp_prog_xsk_del(n->prog, v->index);
    }
    qemu_set_fd_handler(v->xsk->fd, NULL, NULL, NULL);
    v->rx_armed = false;
    afxdp_xsk_counts(v->xsk, &n->stats);
    xna_xsk_free(v->xsk);
    v->xsk = NULL;
}

static void afxdp_vi_socket_cancel(XnaAfxdpVi *v)
{
    v->socket_waiting = false;
    timer_del(v->socket_timer);
    g_free(v->pending_bufs);
    v->pending_bufs = NULL;
    v->nr_pending_bufs = 0;
}

/*
 * Make the VI's socket (a pool socket if want_pool, else a copy socket).
 * Returns false on failure; true when it was made or, the queue being
 * busy, will be made from the socket timer.
 */
static bool afxdp_vi_make_socket(XnaAfxdpNic *n, XnaAfxdpVi *v, Error **errp)
{
    uint32_t queue = n->queue_base + v->index;
    Error *err = NULL;
    bool busy = false;
    XnaXsk *x;

    if (v->want_pool) {
        x = xna_xsk_new_pool(n->ifindex, queue, v->pool.base, v->pool.len,
                             v->pool.entries, n->helper ? &v->priv : NULL,
                             &busy, &err);
    } else {
        x = xna_xsk_new(n->ifindex, queue, n->helper ? &v->priv : NULL, &busy,
                        &err);
    }
    if (!x) {
        if (!busy) {
            error_propagate_prepend(errp, err, "ifname=%s: ", n->ifname);
            return false;
        }
        error_free(err);
        if (!v->socket_waiting) {
            v->socket_waiting = true;
            v->socket_wait_start_ms = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);
            v->socket_delay_ms = 1;
        }
        trace_xna_afxdp_socket_busy(n->ifname, v->index, v->socket_delay_ms);
        timer_mod(v->socket_timer, qemu_clock_get_ms(QEMU_CLOCK_REALTIME) +
                  v->socket_delay_ms);
        return true;
    }
    if (!afxdp_vi_set_socket(n, v, x, errp)) {
        return false;
    }
    if (v->nr_pending_bufs) {
        xna_xsk_pool_post(x, v->pending_bufs, v->nr_pending_bufs);
    }
    if (!v->pool_attached && v->pkt_fd >= 0) {
        /* A copy VI sends through its socket again. */
        qemu_set_fd_handler(v->pkt_fd, NULL, NULL, NULL);
        close(v->pkt_fd);
        v->pkt_fd = -1;
    }
    afxdp_vi_socket_cancel(v);
    return true;
}

static void afxdp_vi_socket_retry(void *opaque)
{
    XnaAfxdpVi *v = opaque;
    XnaAfxdpNic *n = v->nic;
    XnaNicHost *host = &XNA_NIC(n)->host;
    Error *err = NULL;

    if (!v->allocated || v->xsk) {
        afxdp_vi_socket_cancel(v);
        return;
    }
    if (qemu_clock_get_ms(QEMU_CLOCK_REALTIME) - v->socket_wait_start_ms >
        XNA_AFXDP_SOCKET_WARN_MS) {
        if (!v->socket_warned) {
            /* Its flows take the slow path meanwhile: nothing is lost. */
            warn_report("xen-net-accel: ifname=%s: queue %u is held by "
                        "another AF_XDP socket; VI %u waits for it",
                        n->ifname, n->queue_base + v->index, v->index);
            v->socket_warned = true;
        }
        v->socket_delay_ms = XNA_AFXDP_SOCKET_SLOW_DELAY_MS;
    } else {
        v->socket_delay_ms = MIN(v->socket_delay_ms * 2,
                                 XNA_AFXDP_SOCKET_MAX_DELAY_MS);
    }
    if (!afxdp_vi_make_socket(n, v, &err)) {
        /*
         * Not a busy queue (the interface went, say): the VI cannot go
         * on.  The device stops it (the guest falls back to netfront and
         * may reset it); transmit that waited is dropped meanwhile.
         */
        error_report_err(err);
        afxdp_vi_socket_cancel(v);
        host->tx_ready(host->opaque);
        if (host->vi_failed) {
            host->vi_failed(host->opaque, v->index);
        }
        return;
    }
    if (v->xsk) {
        /* Transmit may have waited for the socket. */
        host->tx_ready(host->opaque);
    }
}

static bool afxdp_vi_copy_socket(XnaAfxdpNic *n, XnaAfxdpVi *v, Error **errp)
{
    v->want_pool = false;
    return afxdp_vi_make_socket(n, v, errp);
}

static bool afxdp_vi_alloc(XnaNic *nic, uint32_t vi, Error **errp)
{
    XnaAfxdpNic *n = XNA_AFXDP_NIC(nic);
    XnaAfxdpVi *v;

    if (vi >= n->max_vis || n->vis[vi].allocated) {
        error_setg(errp, "VI %u cannot be allocated", vi);
        return false;
    }
    v = &n->vis[vi];
    v->socket_warned = false;
    if (!n->prog && !afxdp_prog_start(n, errp)) {
        return false;
    }
    if (!afxdp_vi_copy_socket(n, v, errp)) {
        if (!n->nr_vis) {
            afxdp_prog_stop(n);
        }
        return false;
    }
    v->allocated = true;
    n->nr_vis++;
    trace_xna_afxdp_vi(n->ifname, vi, n->queue_base + vi, true);
    return true;
}

static void afxdp_vi_free(XnaNic *nic, uint32_t vi)
{
    XnaAfxdpNic *n = XNA_AFXDP_NIC(nic);
    XnaAfxdpVi *v;

    if (vi >= XNA_MAX_VIS || !n->vis[vi].allocated) {
        return;
    }
    v = &n->vis[vi];
    afxdp_vi_socket_cancel(v);
    afxdp_vi_drop_socket(n, v);
    if (v->pkt_fd >= 0) {
        qemu_set_fd_handler(v->pkt_fd, NULL, NULL, NULL);
        close(v->pkt_fd);
        v->pkt_fd = -1;
    }
    v->pool_attached = false;
    v->allocated = false;
    trace_xna_afxdp_vi(n->ifname, vi, n->queue_base + vi, false);
    if (--n->nr_vis == 0) {
        /* The last VI: nothing of ours stays on the interface. */
        timer_del(n->tx_timer);
        afxdp_prog_stop(n);
    }
}

/* A socket that sends frames on the interface and receives none. */
static int afxdp_packet_socket(XnaAfxdpNic *n, Error **errp)
{
    if (n->helper) {
        return xna_afxdp_helper_packet_socket(n->helper, errp);
    }
    return xna_afxdp_packet_socket(n->ifindex, n->ifname, errp);
}

static bool afxdp_pool_attach(XnaNic *nic, uint32_t vi,
                              const XnaNicPool *pool, Error **errp)
{
    XnaAfxdpNic *n = XNA_AFXDP_NIC(nic);
    XnaAfxdpVi *v = vi < XNA_MAX_VIS ? &n->vis[vi] : NULL;
    int pkt;

    if (!v || !v->allocated || v->pool_attached) {
        error_setg(errp, "VI %u cannot take the pool", vi);
        return false;
    }
    /* A copy VI waiting for its socket may have one already. */
    pkt = v->pkt_fd >= 0 ? v->pkt_fd : afxdp_packet_socket(n, errp);
    if (pkt < 0) {
        return false;
    }
    v->pkt_fd = -1;
    /* One socket per queue: the copy socket must go first. */
    afxdp_vi_socket_cancel(v);
    afxdp_vi_drop_socket(n, v);
    v->want_pool = true;
    v->pool = *pool;
    if (!afxdp_vi_make_socket(n, v, errp)) {
        error_prepend(errp, "VI %u in the guest's pool: ", vi);
        close(pkt);
        afxdp_vi_copy_socket(n, v, &error_warn);
        return false;
    }
    v->pkt_fd = pkt;
    v->pool_attached = true;
    return true;
}

static void afxdp_pool_detach(XnaNic *nic, uint32_t vi)
{
    XnaAfxdpNic *n = XNA_AFXDP_NIC(nic);
    XnaAfxdpVi *v = vi < XNA_MAX_VIS ? &n->vis[vi] : NULL;

    if (!v || !v->pool_attached) {
        return;
    }
    /* Closed, the socket writes no more into the guest's buffers. */
    afxdp_vi_socket_cancel(v);
    afxdp_vi_drop_socket(n, v);
    qemu_set_fd_handler(v->pkt_fd, NULL, NULL, NULL);
    close(v->pkt_fd);
    v->pkt_fd = -1;
    v->pool_attached = false;
    afxdp_vi_copy_socket(n, v, &error_warn);
}

static uint32_t afxdp_pool_rx_post(XnaNic *nic, uint32_t vi,
                                   const uint64_t *bufs, uint32_t nr)
{
    XnaAfxdpNic *n = XNA_AFXDP_NIC(nic);
    XnaAfxdpVi *v = vi < XNA_MAX_VIS ? &n->vis[vi] : NULL;
    uint32_t room;

    if (!v || !v->pool_attached || !v->want_pool) {
        return 0;
    }
    if (v->xsk) {
        /* Guest offsets go only into a socket whose UMEM is the pool. */
        return v->xsk->pool ? xna_xsk_pool_post(v->xsk, bufs, nr) : 0;
    }
    if (!v->socket_waiting) {
        return 0;
    }
    /* Kept for the socket, as many as its fill ring will hold. */
    if (!v->pending_bufs) {
        v->pending_bufs = g_new(uint64_t, v->pool.entries);
    }
    room = v->pool.entries - v->nr_pending_bufs;
    nr = MIN(nr, room);
    memcpy(v->pending_bufs + v->nr_pending_bufs, bufs, nr * sizeof(*bufs));
    v->nr_pending_bufs += nr;
    return nr;
}

static int afxdp_filter_insert(XnaNic *nic, const XnaFilterKey *key,
                               uint32_t vi)
{
    XnaAfxdpNic *n = XNA_AFXDP_NIC(nic);
    bool present;
    int ret;

    if (vi >= n->max_vis || !xna_filter_key_valid(key)) {
        return -EINVAL;
    }
    present = g_hash_table_contains(n->filters, key);
    if (!present && g_hash_table_size(n->filters) >= n->max_filters) {
        return -ENOSPC;
    }
    if (n->prog) {
        ret = xna_afxdp_prog_filter_set(n->prog,
                                        (const struct xna_bpf_key *)key, vi);
        if (ret < 0) {
            return ret == -E2BIG ? -ENOSPC : -EINVAL;
        }
    }
    g_hash_table_insert(n->filters, g_memdup2(key, sizeof(*key)),
                        GUINT_TO_POINTER(vi + 1));
    n->stats.filters = g_hash_table_size(n->filters);
    return 0;
}

static int afxdp_filter_remove(XnaNic *nic, const XnaFilterKey *key)
{
    XnaAfxdpNic *n = XNA_AFXDP_NIC(nic);

    if (!g_hash_table_remove(n->filters, key)) {
        return -ENOENT;
    }
    if (n->prog) {
        xna_afxdp_prog_filter_del(n->prog, (const struct xna_bpf_key *)key);
    }
    n->stats.filters = g_hash_table_size(n->filters);
    return 0;
}

/* The packet socket has room again: the device may send. */
static void afxdp_packet_writable(void *opaque)
{
    XnaAfxdpVi *v = opaque;
    XnaNicHost *host = &XNA_NIC(v->nic)->host;

    qemu_set_fd_handler(v->pkt_fd, NULL, NULL, NULL);
    host->tx_ready(host->opaque);
}

/* A pool VI's transmit: the kernel copies each frame into an skb. */
static uint32_t afxdp_packet_send(XnaAfxdpNic *n, XnaAfxdpVi *v,
                                  XnaFrame *frames, uint32_t nr)
{
    uint32_t i;

    for (i = 0; i < nr; i++) {
        if (send(v->pkt_fd, frames[i].data, frames[i].len,
                 MSG_DONTWAIT) < 0) {
            if (errno == EAGAIN) {
                /* The socket's send buffer is full: wait until it is not. */
                qemu_set_fd_handler(v->pkt_fd, NULL, afxdp_packet_writable, v);
                break;
            }
            if (errno == ENOBUFS || errno == EBUSY) {
                /* The driver's queue is full, which poll does not show. */
                timer_mod(n->tx_timer, qemu_clock_get_ms(QEMU_CLOCK_REALTIME)
                          + XNA_AFXDP_TX_RETRY_MS);
                break;
            }
            n->stats.tx_dropped++;   /* too long, or the link is down */
            continue;
        }
        n->stats.tx_frames++;
    }
    return i;
}

static uint32_t afxdp_tx_burst(XnaNic *nic, uint32_t vi, XnaFrame *frames,
                               uint32_t nr)
{
    XnaAfxdpNic *n = XNA_AFXDP_NIC(nic);
    XnaXsk *x = vi < XNA_MAX_VIS ? n->vis[vi].xsk : NULL;
    uint32_t i;

    if (vi >= XNA_MAX_VIS) {
        return 0;
    }
    if (!x && n->vis[vi].socket_waiting && n->vis[vi].pkt_fd < 0) {
        /* A copy VI waiting for its socket sends as a pool VI does. */
        n->vis[vi].pkt_fd = afxdp_packet_socket(n, NULL);
    }
    if (n->vis[vi].pkt_fd >= 0) {
        return afxdp_packet_send(n, &n->vis[vi], frames, nr);
    }
    if (!x) {
        n->stats.tx_dropped += nr;
        return nr;
    }
    for (i = 0; i < nr; i++) {
        if (frames[i].len > XNA_XSK_CHUNK) {
            n->stats.tx_dropped++;      /* no jumbo frames in copy mode */
            continue;
        }
        if (!xna_xsk_tx(x, frames[i].data, frames[i].len)) {
            /* Send what is queued, take completions, try once more. */
            xna_xsk_tx_flush(x);
            if (!xna_xsk_tx(x, frames[i].data, frames[i].len)) {
                break;
            }
        }
        n->stats.tx_frames++;
    }
    xna_xsk_tx_flush(x);
    if (i < nr) {
        timer_mod(n->tx_timer, qemu_clock_get_ms(QEMU_CLOCK_REALTIME) +
                  XNA_AFXDP_TX_RETRY_MS);
    }
    return i;
}

static uint32_t afxdp_rx_samples(XnaAfxdpNic *n, XnaFrame *frames,
                                 uint32_t nr)
{
    uint32_t i;

    afxdp_release_samples(n);
    nr = MIN(nr, XNA_AFXDP_SAMPLE_QUEUE);
    for (i = 0; i < nr; i++) {
        XnaFrame *f = g_queue_pop_head(&n->samples);

        if (!f) {
            break;
        }
        n->samples_taken[n->nr_samples_taken++] = f;
        frames[i] = *f;
    }
    return i;
}

static uint32_t afxdp_rx_burst(XnaNic *nic, uint32_t queue, XnaFrame *frames,
                               uint32_t nr)
{
    XnaAfxdpNic *n = XNA_AFXDP_NIC(nic);
    uint8_t *data[64];
    uint32_t len[64];
    XnaAfxdpVi *v;
    uint32_t i, got;

    if (queue == XNA_NIC_DEFAULT_QUEUE) {
        return afxdp_rx_samples(n, frames, nr);
    }
    if (queue >= XNA_MAX_VIS || !n->vis[queue].xsk) {
        return 0;
    }
    v = &n->vis[queue];
    /* The frames of the last call go back to the kernel now. */
    xna_xsk_rx_release(v->xsk);
    got = xna_xsk_rx_peek(v->xsk, data, len, MIN(nr, ARRAY_SIZE(data)));
    for (i = 0; i < got; i++) {
        frames[i] = (XnaFrame) { .data = data[i], .len = len[i] };
    }
    n->stats.rx_frames += got;
    v->rx_drained = !got && nr > 0;
    /*
     * Poll the socket again once its ring is empty, and also when this
     * call took nothing: frames that came after the peek would otherwise
     * wait in a ring that nobody polls, the device having been told "no
     * frames" (make bench stalled so, for good, at rx 1500 B).
     */
    if (!got || !xna_xsk_rx_pending(v->xsk)) {
        afxdp_vi_arm(v);
    }
    return got;
}

static void afxdp_get_stats(XnaNic *nic, XnaNicStats *stats)
{
    XnaAfxdpNic *n = XNA_AFXDP_NIC(nic);
    uint32_t i;

    *stats = n->stats;
    stats->start_queue = n->queue_base;
    for (i = 0; i < XNA_MAX_VIS; i++) {
        XnaXsk *x = n->vis[i].xsk;

        stats->sockets_waiting += n->vis[i].socket_waiting;
        if (x) {
            stats->pool_vis += x->pool;
            stats->driver_zero_copy_vis += x->zero_copy;
            afxdp_xsk_counts(x, stats);
        }
    }
    if (n->prog) {
        afxdp_prog_counts(n->prog, stats);
    }
}

static void afxdp_finalize(Object *obj)
{
    XnaAfxdpNic *n = XNA_AFXDP_NIC(obj);
    uint32_t i;

    /* open may have failed half way: close was not called then. */
    afxdp_prog_stop(n);
    if (n->tx_timer) {
        timer_free(n->tx_timer);
    }
    for (i = 0; i < XNA_MAX_VIS; i++) {
        if (n->vis[i].socket_timer) {
            afxdp_vi_socket_cancel(&n->vis[i]);
            timer_free(n->vis[i].socket_timer);
        }
    }
    if (n->filters) {
        g_hash_table_destroy(n->filters);
    }
    xna_afxdp_helper_free(n->helper);
    g_free(n->helper_name);
    g_free(n->ifname);
}

static void afxdp_class_init(ObjectClass *oc, void *data)
{
    XnaNicClass *nc = XNA_NIC_CLASS(oc);

    nc->open = afxdp_open;
    nc->close = afxdp_close;
    nc->get_caps = afxdp_get_caps;
    nc->vi_alloc = afxdp_vi_alloc;
    nc->vi_free = afxdp_vi_free;
    nc->pool_attach = afxdp_pool_attach;
    nc->pool_detach = afxdp_pool_detach;
    nc->pool_rx_post = afxdp_pool_rx_post;
    nc->filter_insert = afxdp_filter_insert;
    nc->filter_remove = afxdp_filter_remove;
    nc->tx_burst = afxdp_tx_burst;
    nc->rx_burst = afxdp_rx_burst;
    nc->get_stats = afxdp_get_stats;
}

/* The kind's own settings, set by the device before open. */
static char *afxdp_get_ifname(Object *obj, Error **errp)
{
    return g_strdup(XNA_AFXDP_NIC(obj)->ifname);
}

static void afxdp_set_ifname(Object *obj, const char *value, Error **errp)
{
    XnaAfxdpNic *n = XNA_AFXDP_NIC(obj);

    g_free(n->ifname);
    n->ifname = g_strdup(value);
}

static char *afxdp_get_helper(Object *obj, Error **errp)
{
    return g_strdup(XNA_AFXDP_NIC(obj)->helper_name);
}

static void afxdp_set_helper(Object *obj, const char *value, Error **errp)
{
    XnaAfxdpNic *n = XNA_AFXDP_NIC(obj);

    g_free(n->helper_name);
    n->helper_name = g_strdup(value);
}

static void afxdp_instance_init(Object *obj)
{
    XnaAfxdpNic *n = XNA_AFXDP_NIC(obj);

    object_property_add_str(obj, "ifname", afxdp_get_ifname,
                            afxdp_set_ifname);
    object_property_add_str(obj, "helper", afxdp_get_helper,
                            afxdp_set_helper);
    n->start_queue = XNA_AFXDP_QUEUE_AUTO;
    object_property_add_uint32_ptr(obj, "start-queue", &n->start_queue,
                                   OBJ_PROP_FLAG_READWRITE);
}

static const TypeInfo afxdp_type_info = {
    .name = TYPE_XNA_AFXDP_NIC,
    .parent = TYPE_XNA_NIC,
    .instance_size = sizeof(XnaAfxdpNic),
    .instance_init = afxdp_instance_init,
    .instance_finalize = afxdp_finalize,
    .class_init = afxdp_class_init,
};

static void afxdp_register_types(void)
{
    type_register_static(&afxdp_type_info);
}

type_init(afxdp_register_types)
