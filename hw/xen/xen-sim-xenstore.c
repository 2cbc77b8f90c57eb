/*
 * xen-sim: xenstore
 *
 * One tree, QEMU's own xenstore implementation (xenstore_impl.c), seen
 * from two sides: backends get the xenstore backend-ops table and act as
 * the privileged domain 0; the guest sends xenstored wire-protocol
 * requests through the platform and is held to Xen's permission rules.
 * Watch callbacks to backends run from a bottom half, never from inside
 * the tree update that fired them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/cutils.h"
#include "hw/i386/kvm/xenstore_impl.h"
#include "hw/xen/interface/io/xs_wire.h"
#include "xen-sim.h"
#include "trace.h"

#define BACKEND_DOM 0        /* backends use the privileged domain */
#define MAX_GUEST_WATCH_EVENTS 1024

typedef struct XenSimWatchEvent {
    char *path;
    char *token;
} XenSimWatchEvent;

struct qemu_xs_handle {
    GList *watches;
    QEMUBH *bh;
};

struct qemu_xs_watch {
    struct qemu_xs_handle *h;
    char *path;
    char *token;
    xs_watch_fn fn;
    void *opaque;
    GQueue events;           /* char * paths, delivered from the BH */
};

static void watch_event_free(XenSimWatchEvent *ev)
{
    g_free(ev->path);
    g_free(ev->token);
    g_free(ev);
}

static void set_node(XenSimState *s, const char *path, const char *value,
                     unsigned int owner)
{
    g_autoptr(GByteArray) data = g_byte_array_new();
    GList *perms = g_list_append(NULL, xs_perm_as_string(XS_PERM_NONE,
                                                         owner));
    int err;

    g_byte_array_append(data, (const guint8 *)value, strlen(value));
    err = xs_impl_write(s->xs, BACKEND_DOM, XBT_NULL, path, data);
    assert(!err);
    err = xs_impl_set_perms(s->xs, BACKEND_DOM, XBT_NULL, path, perms);
    assert(!err);
    g_list_free_full(perms, g_free);
}

void xen_sim_xenstore_init(XenSimState *s)
{
    g_autofree char *home = g_strdup_printf("/local/domain/%u", s->domid);
    g_autofree char *be_domid = g_strdup_printf("%u", s->backend_domid);

    s->xs = xs_impl_create(s->domid);
    /* xen-bus reads the backend's own domid from "domid" (relative). */
    set_node(s, "/local/domain/0/domid", be_domid, BACKEND_DOM);
    /* The guest owns its home node, so that it can list and write it. */
    set_node(s, home, "", s->domid);
}

/* Backend-ops table */

static struct qemu_xs_handle *xen_sim_xs_open(void)
{
    struct qemu_xs_handle *h = g_new0(struct qemu_xs_handle, 1);

    if (!xen_sim) {
        g_free(h);
        errno = ENOSYS;
        return NULL;
    }
    return h;
}

static void xen_sim_xs_unwatch(struct qemu_xs_handle *h,
                               struct qemu_xs_watch *w);

static void xen_sim_xs_close(struct qemu_xs_handle *h)
{
    while (h->watches) {
        xen_sim_xs_unwatch(h, h->watches->data);
    }
    if (h->bh) {
        qemu_bh_delete(h->bh);
    }
    g_free(h);
}

static char *xen_sim_xs_get_domain_path(struct qemu_xs_handle *h,
                                        unsigned int domid)
{
    return g_strdup_printf("/local/domain/%u", domid);
}

/* libxenstore returns one block that the caller frees with free(). */
static char **xen_sim_xs_directory(struct qemu_xs_handle *h,
                                   xs_transaction_t t, const char *path,
                                   unsigned int *num)
{
    GList *items = NULL, *l;
    size_t size = 0;
    unsigned int n = 0;
    char **vec, *str;
    int err;

    err = xs_impl_directory(xen_sim->xs, BACKEND_DOM, t, path, NULL, &items);
    if (err) {
        errno = err;
        return NULL;
    }
    for (l = items; l; l = l->next) {
        size += sizeof(char *) + strlen(l->data) + 1;
        n++;
    }
    vec = g_malloc(size + sizeof(char *));
    str = (char *)&vec[n + 1];
    n = 0;
    for (l = items; l; l = l->next) {
        vec[n++] = str;
        str = stpcpy(str, l->data) + 1;
    }
    vec[n] = NULL;
    *num = n;
    g_list_free_full(items, g_free);
    return vec;
}

static void *xen_sim_xs_read(struct qemu_xs_handle *h, xs_transaction_t t,
                             const char *path, unsigned int *len)
{
    GByteArray *data = g_byte_array_new();
    int err = xs_impl_read(xen_sim->xs, BACKEND_DOM, t, path, data);

    if (err) {
        g_byte_array_unref(data);
        errno = err;
        return NULL;
    }
    if (len) {
        *len = data->len;
    }
    g_byte_array_append(data, (const guint8 *)"", 1);   /* terminate */
    return g_byte_array_free(data, false);
}

static bool xen_sim_xs_write(struct qemu_xs_handle *h, xs_transaction_t t,
                             const char *path, const void *buf,
                             unsigned int len)
{
    g_autoptr(GByteArray) data = g_byte_array_new();
    int err;

    g_byte_array_append(data, buf, len);
    err = xs_impl_write(xen_sim->xs, BACKEND_DOM, t, path, data);
    if (err) {
        errno = err;
        return false;
    }
    return true;
}

static bool xen_sim_xs_create(struct qemu_xs_handle *h, xs_transaction_t t,
                              unsigned int owner, unsigned int domid,
                              unsigned int perms, const char *path)
{
    g_autoptr(GByteArray) data = g_byte_array_new();
    GList *perm_list;
    int err;

    err = xs_impl_read(xen_sim->xs, BACKEND_DOM, t, path, data);
    if (err == ENOENT) {
        err = xs_impl_write(xen_sim->xs, BACKEND_DOM, t, path, data);
    }
    if (err) {
        errno = err;
        return false;
    }
    perm_list = g_list_append(NULL, xs_perm_as_string(XS_PERM_NONE, owner));
    perm_list = g_list_append(perm_list, xs_perm_as_string(perms, domid));
    err = xs_impl_set_perms(xen_sim->xs, BACKEND_DOM, t, path, perm_list);
    g_list_free_full(perm_list, g_free);
    if (err) {
        errno = err;
        return false;
    }
    return true;
}

static bool xen_sim_xs_destroy(struct qemu_xs_handle *h, xs_transaction_t t,
                               const char *path)
{
    int err = xs_impl_rm(xen_sim->xs, BACKEND_DOM, t, path);

    if (err) {
        errno = err;
        return false;
    }
    return true;
}

static void xen_sim_xs_watch_bh(void *opaque)
{
    struct qemu_xs_handle *h = opaque;
    GList *l, *next;

    for (l = h->watches; l; l = next) {
        struct qemu_xs_watch *w = l->data;
        char *path;

        /* A callback may remove this watch (or others): look ahead. */
        next = l->next;
        path = g_queue_pop_head(&w->events);
        if (path) {
            /*
             * One event per run: the callback may add or remove watches,
             * or close the handle.  Run again for whatever remains.
             */
            qemu_bh_schedule(h->bh);
            w->fn(w->opaque, path);
            g_free(path);
            return;
        }
    }
}

static void xen_sim_xs_watch_cb(void *opaque, const char *path,
                                const char *token)
{
    struct qemu_xs_watch *w = opaque;

    g_queue_push_tail(&w->events, g_strdup(path));
    qemu_bh_schedule(w->h->bh);
}

static struct qemu_xs_watch *xen_sim_xs_watch(struct qemu_xs_handle *h,
                                              const char *path,
                                              xs_watch_fn fn, void *opaque)
{
    struct qemu_xs_watch *w = g_new0(struct qemu_xs_watch, 1);
    int err;

    if (!h->bh) {
        h->bh = qemu_bh_new(xen_sim_xs_watch_bh, h);
    }
    w->h = h;
    w->fn = fn;
    w->opaque = opaque;
    w->path = g_strdup(path);
    w->token = g_strdup_printf("xen-sim-%p", w);
    g_queue_init(&w->events);
    h->watches = g_list_append(h->watches, w);

    err = xs_impl_watch(xen_sim->xs, BACKEND_DOM, path, w->token,
                        xen_sim_xs_watch_cb, w);
    if (err) {
        h->watches = g_list_remove(h->watches, w);
        g_queue_clear_full(&w->events, g_free);
        g_free(w->path);
        g_free(w->token);
        g_free(w);
        errno = err;
        return NULL;
    }
    return w;
}

static void xen_sim_xs_unwatch(struct qemu_xs_handle *h,
                               struct qemu_xs_watch *w)
{
    xs_impl_unwatch(xen_sim->xs, BACKEND_DOM, w->path, w->token,
                    xen_sim_xs_watch_cb, w);
    h->watches = g_list_remove(h->watches, w);
    g_queue_clear_full(&w->events, g_free);
    g_free(w->path);
    g_free(w->token);
    g_free(w);
}

static xs_transaction_t xen_sim_xs_transaction_start(struct qemu_xs_handle *h)
{
    unsigned int tx = XBT_NULL;
    int err = xs_impl_transaction_start(xen_sim->xs, BACKEND_DOM, &tx);

    if (err) {
        errno = err;
        return XBT_NULL;
    }
    return tx;
}

static bool xen_sim_xs_transaction_end(struct qemu_xs_handle *h,
                                       xs_transaction_t t, bool abort)
{
    int err = xs_impl_transaction_end(xen_sim->xs, BACKEND_DOM, t, !abort);

    if (err) {
        errno = err;
        return false;
    }
    return true;
}

struct xenstore_backend_ops xen_sim_xenstore_ops = {
    .open = xen_sim_xs_open,
    .close = xen_sim_xs_close,
    .get_domain_path = xen_sim_xs_get_domain_path,
    .directory = xen_sim_xs_directory,
    .read = xen_sim_xs_read,
    .write = xen_sim_xs_write,
    .create = xen_sim_xs_create,
    .destroy = xen_sim_xs_destroy,
    .watch = xen_sim_xs_watch,
    .unwatch = xen_sim_xs_unwatch,
    .transaction_start = xen_sim_xs_transaction_start,
    .transaction_end = xen_sim_xs_transaction_end,
};

/* The guest's side: xenstored's wire protocol */

static void guest_watch_cb(void *opaque, const char *path, const char *token)
{
    XenSimState *s = opaque;
    XenSimWatchEvent *ev;

    if (g_queue_get_length(&s->guest_watch_events) >=
        MAX_GUEST_WATCH_EVENTS) {
        qemu_log_mask(LOG_GUEST_ERROR, "xen-sim: guest does not read its "
                      "watch events; dropping the oldest\n");
        watch_event_free(g_queue_pop_head(&s->guest_watch_events));
    }
    ev = g_new0(XenSimWatchEvent, 1);
    ev->path = g_strdup(path);
    ev->token = g_strdup(token);
    g_queue_push_tail(&s->guest_watch_events, ev);
    xen_sim_raise_irq(s);
}

static const char *xs_errno_name(int err)
{
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(xsd_errors); i++) {
        if (xsd_errors[i].errnum == err) {
            return xsd_errors[i].errstring;
        }
    }
    return "EIO";
}

/*
 * Split the payload into its NUL-terminated strings; a trailing part
 * without a NUL (XS_WRITE's value) is returned in @tail.
 */
static unsigned int split_payload(char *buf, uint32_t len, char **str,
                                  unsigned int max, GByteArray *tail)
{
    unsigned int n = 0;
    uint32_t pos = 0;

    while (pos < len && n < max) {
        char *end = memchr(buf + pos, '\0', len - pos);

        if (!end) {
            break;
        }
        str[n++] = buf + pos;
        pos = end - buf + 1;
    }
    if (tail && pos < len) {
        g_byte_array_append(tail, (guint8 *)buf + pos, len - pos);
    }
    return n;
}

static void reply_str(GByteArray *rsp, const char *s)
{
    g_byte_array_append(rsp, (const guint8 *)s, strlen(s) + 1);
}

static void reply_list(GByteArray *rsp, GList *items)
{
    GList *l;

    for (l = items; l; l = l->next) {
        reply_str(rsp, l->data);
    }
}

/*
 * Run one request as domain @dom (the guest, or the toolstack's privileged
 * domain); fills @rsp, returns 0 or a negative errno.
 */
static int xs_op(XenSimState *s, unsigned int dom, uint32_t type,
                 uint32_t tx, char *payload, uint32_t len, GByteArray *rsp,
                 uint32_t *rsp_type)
{
    g_autoptr(GByteArray) value = g_byte_array_new();
    char *str[XENSTORE_PAYLOAD_MAX / 2];
    unsigned int n;
    GList *list = NULL;
    int err;

    n = split_payload(payload, len, str, ARRAY_SIZE(str),
                      type == XS_WRITE ? value : NULL);
    *rsp_type = type;

    switch (type) {
    case XS_READ:
        if (n != 1) {
            return -EINVAL;
        }
        return -xs_impl_read(s->xs, dom, tx, str[0], rsp);
    case XS_WRITE:
        if (n != 1) {
            return -EINVAL;
        }
        err = xs_impl_write(s->xs, dom, tx, str[0], value);
        break;
    case XS_MKDIR:
        if (n != 1) {
            return -EINVAL;
        }
        err = xs_impl_read(s->xs, dom, tx, str[0], value);
        if (err == ENOENT) {
            g_byte_array_set_size(value, 0);
            err = xs_impl_write(s->xs, dom, tx, str[0], value);
        }
        break;
    case XS_RM:
        if (n != 1) {
            return -EINVAL;
        }
        err = xs_impl_rm(s->xs, dom, tx, str[0]);
        break;
    case XS_DIRECTORY:
        if (n != 1) {
            return -EINVAL;
        }
        err = xs_impl_directory(s->xs, dom, tx, str[0], NULL, &list);
        reply_list(rsp, list);
        g_list_free_full(list, g_free);
        return -err;
    case XS_GET_PERMS:
        if (n != 1) {
            return -EINVAL;
        }
        err = xs_impl_get_perms(s->xs, dom, tx, str[0], &list);
        reply_list(rsp, list);
        g_list_free_full(list, g_free);
        return -err;
    case XS_SET_PERMS: {
        unsigned int i;

        if (n < 2) {
            return -EINVAL;
        }
        for (i = 1; i < n; i++) {
            list = g_list_append(list, g_strdup(str[i]));
        }
        err = xs_impl_set_perms(s->xs, dom, tx, str[0], list);
        g_list_free_full(list, g_free);
        break;
    }
    case XS_WATCH:
    case XS_UNWATCH:
        if (n != 2 || tx != XBT_NULL) {
            return -EINVAL;
        }
        err = (type == XS_WATCH ? xs_impl_watch : xs_impl_unwatch)
            (s->xs, dom, str[0], str[1], guest_watch_cb, s);
        break;
    case XS_TRANSACTION_START: {
        unsigned int new_tx = XBT_NULL;
        g_autofree char *id = NULL;

        if (tx != XBT_NULL) {
            return -EINVAL;
        }
        err = xs_impl_transaction_start(s->xs, dom, &new_tx);
        if (!err) {
            id = g_strdup_printf("%u", new_tx);
            reply_str(rsp, id);
        }
        return -err;
    }
    case XS_TRANSACTION_END:
        if (n != 1 || (strcmp(str[0], "T") && strcmp(str[0], "F"))) {
            return -EINVAL;
        }
        err = xs_impl_transaction_end(s->xs, dom, tx, !strcmp(str[0], "T"));
        break;
    case XS_GET_DOMAIN_PATH: {
        g_autofree char *path = NULL;
        unsigned int domid;

        if (n != 1 || qemu_strtoui(str[0], NULL, 10, &domid)) {
            return -EINVAL;
        }
        path = g_strdup_printf("/local/domain/%u", domid);
        reply_str(rsp, path);
        return 0;
    }
    case XS_RESET_WATCHES:
        err = xs_impl_reset_watches(s->xs, dom);
        g_queue_clear_full(&s->guest_watch_events,
                           (GDestroyNotify)watch_event_free);
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "xen-sim: xenstore request type %u "
                      "is not supported\n", type);
        return -ENOSYS;
    }
    if (!err) {
        reply_str(rsp, "OK");
    }
    return -err;
}

static int write_reply(XenSimState *s, const struct xsd_sockmsg *req,
                       uint32_t type, GByteArray *payload, uint64_t rsp_gpa,
                       uint64_t rsp_size)
{
    struct xsd_sockmsg hdr = {
        .type = cpu_to_le32(type),
        .req_id = req ? req->req_id : 0,
        .tx_id = req ? req->tx_id : 0,
        .len = cpu_to_le32(payload->len),
    };

    if (rsp_size < sizeof(hdr) + payload->len) {
        return -E2BIG;
    }
    if (!xen_sim_write(s, rsp_gpa, &hdr, sizeof(hdr)) ||
        !xen_sim_write(s, rsp_gpa + sizeof(hdr), payload->data,
                       payload->len)) {
        return -EFAULT;
    }
    return 0;
}

/*
 * What a toolstack in the privileged domain does to create or remove a
 * backend: plain reads, writes, removals and permissions, outside any
 * transaction.  Watches stay the guest's: their events go to its queue.
 */
static bool xs_toolstack_op_allowed(uint32_t type, uint32_t tx,
                                    const char *path)
{
    static const char domains[] = "/local/domain/";

    /*
     * Only below /local/domain/: the privileged domain may remove or
     * re-permission anything, and the tree must keep its root and the
     * domains' directories for xen-bus and the guest.
     */
    if (!g_str_has_prefix(path, domains) || !path[strlen(domains)]) {
        return false;
    }
    switch (type) {
    case XS_READ:
    case XS_WRITE:
    case XS_MKDIR:
    case XS_RM:
    case XS_DIRECTORY:
    case XS_GET_PERMS:
    case XS_SET_PERMS:
        return tx == XBT_NULL;
    default:
        return false;
    }
}

int xen_sim_xs_request(XenSimState *s, uint64_t req_gpa, uint64_t rsp_gpa,
                       uint64_t rsp_size, bool as_toolstack)
{
    struct xsd_sockmsg req;
    g_autofree char *payload = NULL;
    g_autoptr(GByteArray) rsp = g_byte_array_new();
    uint32_t type, len, rsp_type;
    int err;

    s->stats.xs_requests++;
    if (!xen_sim_read(s, req_gpa, &req, sizeof(req))) {
        return -EFAULT;
    }
    type = le32_to_cpu(req.type);
    len = le32_to_cpu(req.len);
    if (len > XENSTORE_PAYLOAD_MAX) {
        qemu_log_mask(LOG_GUEST_ERROR, "xen-sim: xenstore request of %u "
                      "bytes (max %u)\n", len, XENSTORE_PAYLOAD_MAX);
        return -E2BIG;
    }
    payload = g_malloc(len + 1);
    if (!xen_sim_read(s, req_gpa + sizeof(req), payload, len)) {
        return -EFAULT;
    }
    payload[len] = '\0';

    if (!as_toolstack) {
        err = xs_op(s, s->domid, type, le32_to_cpu(req.tx_id), payload, len,
                    rsp, &rsp_type);
    } else if (xs_toolstack_op_allowed(type, le32_to_cpu(req.tx_id),
                                       payload)) {
        err = xs_op(s, BACKEND_DOM, type, XBT_NULL, payload, len, rsp,
                    &rsp_type);
    } else {
        err = -EINVAL;
    }
    trace_xen_sim_xs_request(as_toolstack, type, len ? payload : "", err);
    if (err) {
        g_byte_array_set_size(rsp, 0);
        reply_str(rsp, xs_errno_name(-err));
        rsp_type = XS_ERROR;
    }
    return write_reply(s, &req, rsp_type, rsp, rsp_gpa, rsp_size);
}

int xen_sim_xs_watch_event(XenSimState *s, uint64_t rsp_gpa,
                           uint64_t rsp_size, uint64_t *found)
{
    XenSimWatchEvent *ev = g_queue_peek_head(&s->guest_watch_events);
    g_autoptr(GByteArray) rsp = g_byte_array_new();
    int ret;

    *found = 0;
    if (!ev) {
        return 0;
    }
    reply_str(rsp, ev->path);
    reply_str(rsp, ev->token);
    ret = write_reply(s, NULL, XS_WATCH_EVENT, rsp, rsp_gpa, rsp_size);
    if (ret == 0) {
        g_queue_pop_head(&s->guest_watch_events);
        watch_event_free(ev);
        *found = 1;
    }
    return ret;
}
