/*
 * xen-guest: a small Xen guest for qtests on the xen-sim platform
 *
 * See xen-guest.h for what it offers.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitmap.h"
#include "qemu/cutils.h"
#include "qemu/memfd.h"
#include "qapi/error.h"
#include "qobject/qdict.h"
#include "qobject/qnum.h"
#include "hw/xen/interface/io/xs_wire.h"
#include "hw/xen/xen-sim-abi.h"
#include "xen-guest.h"

/* Layout of the reserved low pages (page numbers). */
enum {
    XG_PAGE_CMD = 1,
    XG_PAGE_XS_REQ = 2,         /* two pages */
    XG_PAGE_XS_RSP = 4,         /* two pages */
    XG_PAGE_PENDING = 6,
    XG_PAGE_GNTTAB = 8,         /* up to XEN_GUEST_RESERVED_PAGES */
};

#define XG_XS_BUF_SIZE          (2 * XEN_GUEST_PAGE_SIZE)
#define XG_NR_PORTS             (XEN_GUEST_PAGE_SIZE * 8)
#define XG_GNTTAB_PER_PAGE      (XEN_GUEST_PAGE_SIZE / sizeof(grant_entry_v1_t))
/* One page to start with: a guest's table grows as it grants more. */
#define XG_GNTTAB_INITIAL_PAGES 1
#define XG_POLL_INTERVAL_US     50

G_STATIC_ASSERT(XEN_GUEST_GNTTAB_ENTRIES ==
                XG_GNTTAB_INITIAL_PAGES * XG_GNTTAB_PER_PAGE);

typedef struct XenGuestWatchEvent {
    char *path;
    char *token;
} XenGuestWatchEvent;

struct XenGuest {
    QTestState *qts;
    uint8_t *ram;               /* guest RAM mapped here too, or NULL */
    size_t ram_size;
    char *sim_path;
    uint64_t mmio;
    domid_t domid;
    domid_t backend_domid;
    char *home;

    /* page allocator: one bit per page of RAM, set when in use */
    unsigned long *page_used;
    uint64_t nr_pages;
    uint64_t nr_free_pages;

    /* grant table */
    uint64_t gnttab_gpa;
    unsigned int gnttab_pages;
    bool gnttab_allocated;      /* from the page allocator, not reserved */
    unsigned long *gnt_used;    /* one bit per ref */
    unsigned int gnt_in_use;

    /* event channels */
    unsigned long *port_alloc;  /* ports this guest allocated */
    unsigned long *port_pending;  /* events collected, not yet taken */
    evtchn_port_t max_port;

    /* xenstore */
    uint32_t xs_req_id;
    GQueue watch_events;        /* XenGuestWatchEvent * */
    unsigned int token_seq;
};

static uint64_t page_gpa(unsigned int page)
{
    return (uint64_t)page << XEN_GUEST_PAGE_SHIFT;
}

static QDict *qmp_ok(QTestState *qts, QDict *resp)
{
    g_assert(resp);
    if (!qdict_haskey(resp, "return")) {
        g_test_message("QMP error: %s",
                       qdict_get_try_str(qdict_get_qdict(resp, "error"),
                                         "desc"));
        g_assert_not_reached();
    }
    return resp;
}

static uint64_t qmp_get_uint(QDict *resp)
{
    QNum *n = qobject_to(QNum, qdict_get(resp, "return"));
    uint64_t val = 0;
    bool ok;

    g_assert(n);
    ok = qnum_get_try_uint(n, &val);
    g_assert(ok);
    return val;
}

static uint64_t sim_prop_uint(XenGuest *g, const char *name)
{
    QDict *resp;
    uint64_t val;

    resp = qmp_ok(g->qts, qtest_qmp(g->qts, "{ 'execute': 'qom-get', "
                                    "'arguments': { 'path': %s, "
                                    "'property': %s } }", g->sim_path, name));
    val = qmp_get_uint(resp);
    qobject_unref(resp);
    return val;
}

uint64_t xen_guest_sim_stat(XenGuest *g, const char *name)
{
    return sim_prop_uint(g, name);
}

static uint64_t query_ram_size(QTestState *qts)
{
    QDict *resp, *ret;
    uint64_t size;

    resp = qmp_ok(qts, qtest_qmp(qts, "{ 'execute': "
                                 "'query-memory-size-summary' }"));
    ret = qdict_get_qdict(resp, "return");
    size = qdict_get_int(ret, "base-memory");
    qobject_unref(resp);
    return size;
}

/*
 * Commands
 */

static int sim_cmd(XenGuest *g, uint32_t op, uint64_t *arg, unsigned int n)
{
    uint64_t gpa = page_gpa(XG_PAGE_CMD);
    XenSimCmd cmd = { 0 };
    unsigned int i;

    g_assert(n <= ARRAY_SIZE(cmd.arg));
    cmd.op = cpu_to_le32(op);
    cmd.status = cpu_to_le32(-EINPROGRESS);
    for (i = 0; i < n; i++) {
        cmd.arg[i] = cpu_to_le64(arg[i]);
    }
    qtest_memwrite(g->qts, gpa, &cmd, sizeof(cmd));
    qtest_writeq(g->qts, g->mmio + XEN_SIM_REG_CMD, gpa);
    qtest_memread(g->qts, gpa, &cmd, sizeof(cmd));
    for (i = 0; i < n; i++) {
        arg[i] = le64_to_cpu(cmd.arg[i]);
    }
    /* A status left as written means that the platform did not run it. */
    g_assert_cmpint((int32_t)le32_to_cpu(cmd.status), !=, -EINPROGRESS);
    return (int32_t)le32_to_cpu(cmd.status);
}

/*
 * Memory
 */

static void page_mark(XenGuest *g, uint64_t first, uint64_t n, bool used)
{
    if (used) {
        bitmap_set(g->page_used, first, n);
        g->nr_free_pages -= n;
    } else {
        bitmap_clear(g->page_used, first, n);
        g->nr_free_pages += n;
    }
}

uint64_t xen_guest_alloc_pages(XenGuest *g, unsigned int n)
{
    unsigned long first;

    g_assert(n > 0);
    first = bitmap_find_next_zero_area(g->page_used, g->nr_pages, 0, n, 0);
    if (first >= g->nr_pages) {
        g_error("xen-guest: out of guest memory (%u pages wanted, "
                "%" PRIu64 " free)", n, g->nr_free_pages);
    }
    page_mark(g, first, n, true);
    qtest_memset(g->qts, page_gpa(first), 0,
                 (size_t)n * XEN_GUEST_PAGE_SIZE);
    return page_gpa(first);
}

void xen_guest_free_pages(XenGuest *g, uint64_t gpa, unsigned int n)
{
    uint64_t first = gpa >> XEN_GUEST_PAGE_SHIFT;

    g_assert(!(gpa & (XEN_GUEST_PAGE_SIZE - 1)));
    g_assert(first >= XEN_GUEST_RESERVED_PAGES && first + n <= g->nr_pages);
    g_assert(find_next_zero_bit(g->page_used, first + n, first) ==
             first + n);
    page_mark(g, first, n, false);
}

unsigned int xen_guest_free_page_count(XenGuest *g)
{
    return g->nr_free_pages;
}

void *xen_guest_ram_ptr(XenGuest *g, uint64_t gpa, size_t len)
{
    if (!g->ram || gpa > g->ram_size || len > g->ram_size - gpa) {
        return NULL;
    }
    return g->ram + gpa;
}

/*
 * Through the shared mapping when there is one; else over qtest, large
 * transfers base64-encoded, small ones hex-encoded.
 */
void xen_guest_memread(XenGuest *g, uint64_t gpa, void *buf, size_t len)
{
    void *p = xen_guest_ram_ptr(g, gpa, len);

    if (p) {
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        memcpy(buf, p, len);
    } else if (len >= 64) {
        qtest_bufread(g->qts, gpa, buf, len);
    } else {
        qtest_memread(g->qts, gpa, buf, len);
    }
}

void xen_guest_memwrite(XenGuest *g, uint64_t gpa, const void *buf,
                        size_t len)
{
    void *p = xen_guest_ram_ptr(g, gpa, len);

    if (p) {
        memcpy(p, buf, len);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    } else if (len >= 64) {
        qtest_bufwrite(g->qts, gpa, buf, len);
    } else {
        qtest_memwrite(g->qts, gpa, buf, len);
    }
}

void xen_guest_memset(XenGuest *g, uint64_t gpa, uint8_t c, size_t len)
{
    void *p = xen_guest_ram_ptr(g, gpa, len);

    if (p) {
        memset(p, c, len);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    } else {
        qtest_memset(g->qts, gpa, c, len);
    }
}

/*
 * Grants
 */

static unsigned int gnttab_entries(XenGuest *g)
{
    return g->gnttab_pages * XG_GNTTAB_PER_PAGE;
}

static uint64_t gnt_entry_gpa(XenGuest *g, grant_ref_t ref)
{
    return g->gnttab_gpa + (uint64_t)ref * sizeof(grant_entry_v1_t);
}

/* Give the platform the table at @gpa of @pages pages. */
static int gnttab_setup(XenGuest *g, uint64_t gpa, unsigned int pages)
{
    uint64_t arg[2] = { gpa, (uint64_t)pages * XG_GNTTAB_PER_PAGE };

    return sim_cmd(g, XEN_SIM_OP_GNTTAB_SETUP, arg, 2);
}

int xen_guest_grant_table_resize(XenGuest *g, unsigned int entries)
{
    unsigned int old_pages = g->gnttab_pages;
    unsigned int old_entries = gnttab_entries(g);
    unsigned int pages = DIV_ROUND_UP(entries, XG_GNTTAB_PER_PAGE);
    unsigned int keep = MIN(pages, old_pages);
    uint64_t gpa = page_gpa(XG_PAGE_GNTTAB);
    bool allocated = false;
    int ret;

    g_assert(pages > 0);
    if (find_next_bit(g->gnt_used, old_entries, pages * XG_GNTTAB_PER_PAGE) <
        old_entries) {
        return -EBUSY;          /* refs in use beyond the new end */
    }
    if (XG_PAGE_GNTTAB + pages > XEN_GUEST_RESERVED_PAGES) {
        gpa = xen_guest_alloc_pages(g, pages);
        allocated = true;
    }
    if (gpa != g->gnttab_gpa) {
        g_autofree void *copy = g_malloc(keep * XEN_GUEST_PAGE_SIZE);

        xen_guest_memread(g, g->gnttab_gpa, copy, keep * XEN_GUEST_PAGE_SIZE);
        xen_guest_memwrite(g, gpa, copy, keep * XEN_GUEST_PAGE_SIZE);
    }
    if (pages > keep && !allocated) {
        xen_guest_memset(g, gpa + page_gpa(keep), 0,
                         (pages - keep) * XEN_GUEST_PAGE_SIZE);
    }
    ret = gnttab_setup(g, gpa, pages);
    if (ret) {
        if (allocated) {
            xen_guest_free_pages(g, gpa, pages);
        }
        return ret;
    }
    if (g->gnttab_allocated && gpa != g->gnttab_gpa) {
        xen_guest_free_pages(g, g->gnttab_gpa, old_pages);
    }
    g->gnttab_gpa = gpa;
    g->gnttab_pages = pages;
    g->gnttab_allocated = allocated;
    if (pages > old_pages) {
        g->gnt_used = bitmap_zero_extend(g->gnt_used, old_entries,
                                         gnttab_entries(g));
    }
    return 0;
}

/* Double the table when it is full. */
static void gnttab_grow(XenGuest *g)
{
    unsigned int entries = gnttab_entries(g) * 2;
    int ret = xen_guest_grant_table_resize(g, entries);

    if (ret) {
        g_error("xen-guest: the platform refused to grow the grant table "
                "to %u entries: %s", entries, strerror(-ret));
    }
}

grant_ref_t xen_guest_grant_alloc_ref(XenGuest *g)
{
    unsigned long ref;

    ref = find_next_zero_bit(g->gnt_used, gnttab_entries(g),
                             XEN_GUEST_GNTTAB_RESERVED);
    if (ref >= gnttab_entries(g)) {
        gnttab_grow(g);
        ref = find_next_zero_bit(g->gnt_used, gnttab_entries(g),
                                 XEN_GUEST_GNTTAB_RESERVED);
        g_assert(ref < gnttab_entries(g));
    }
    set_bit(ref, g->gnt_used);
    g->gnt_in_use++;
    return ref;
}

void xen_guest_grant_free_ref(XenGuest *g, grant_ref_t ref)
{
    g_assert(ref < gnttab_entries(g) && test_bit(ref, g->gnt_used));
    clear_bit(ref, g->gnt_used);
    g->gnt_in_use--;
}

void xen_guest_grant_set_entry(XenGuest *g, grant_ref_t ref, uint16_t flags,
                               domid_t domid, uint32_t frame)
{
    grant_entry_v1_t e = {
        .flags = cpu_to_le16(flags),
        .domid = cpu_to_le16(domid),
        .frame = cpu_to_le32(frame),
    };

    g_assert(ref < gnttab_entries(g));
    /* One qtest write: the platform sees the entry whole or not at all. */
    qtest_memwrite(g->qts, gnt_entry_gpa(g, ref), &e, sizeof(e));
}

uint16_t xen_guest_grant_flags(XenGuest *g, grant_ref_t ref)
{
    g_assert(ref < gnttab_entries(g));
    return qtest_readw(g->qts, gnt_entry_gpa(g, ref));
}

grant_entry_v1_t *xen_guest_grant_entry_ptr(XenGuest *g, grant_ref_t ref)
{
    g_assert(ref < gnttab_entries(g));
    return xen_guest_ram_ptr(g, gnt_entry_gpa(g, ref),
                             sizeof(grant_entry_v1_t));
}

grant_ref_t xen_guest_grant(XenGuest *g, uint64_t gpa, domid_t domid,
                            bool readonly)
{
    grant_ref_t ref = xen_guest_grant_alloc_ref(g);

    g_assert(!(gpa & (XEN_GUEST_PAGE_SIZE - 1)));
    xen_guest_grant_set_entry(g, ref, GTF_permit_access |
                              (readonly ? GTF_readonly : 0), domid,
                              gpa >> XEN_GUEST_PAGE_SHIFT);
    return ref;
}

int xen_guest_end_grant(XenGuest *g, grant_ref_t ref)
{
    uint16_t flags;

    if (ref >= gnttab_entries(g) || !test_bit(ref, g->gnt_used)) {
        return -EINVAL;
    }
    /*
     * Linux does this with a cmpxchg.  Here the platform runs between two
     * qtest commands, never during one, so a map that lands between the
     * read and the write is possible in theory; tests end grants after
     * the backend is done with them.
     */
    flags = xen_guest_grant_flags(g, ref);
    if (flags & (GTF_reading | GTF_writing)) {
        return -EBUSY;
    }
    qtest_writew(g->qts, gnt_entry_gpa(g, ref), 0);
    xen_guest_grant_free_ref(g, ref);
    return 0;
}

unsigned int xen_guest_grant_table_size(XenGuest *g)
{
    return gnttab_entries(g);
}

unsigned int xen_guest_grants_in_use(XenGuest *g)
{
    return g->gnt_in_use;
}

/*
 * Event channels
 */

int xen_guest_evtchn_alloc_unbound(XenGuest *g, domid_t remote,
                                   evtchn_port_t *port)
{
    uint64_t arg[2] = { remote, 0 };
    int ret;

    ret = sim_cmd(g, XEN_SIM_OP_EVTCHN_ALLOC_UNBOUND, arg, 2);
    if (ret) {
        return ret;
    }
    g_assert(arg[1] > 0 && arg[1] < XG_NR_PORTS);
    *port = arg[1];
    set_bit(*port, g->port_alloc);
    clear_bit(*port, g->port_pending);
    g->max_port = MAX(g->max_port, *port);
    return 0;
}

int xen_guest_evtchn_close(XenGuest *g, evtchn_port_t port)
{
    uint64_t arg[1] = { port };
    int ret;

    ret = sim_cmd(g, XEN_SIM_OP_EVTCHN_CLOSE, arg, 1);
    if (!ret && port < XG_NR_PORTS) {
        clear_bit(port, g->port_alloc);
        clear_bit(port, g->port_pending);
    }
    return ret;
}

void xen_guest_evtchn_notify(XenGuest *g, evtchn_port_t port)
{
    qtest_writel(g->qts, g->mmio + XEN_SIM_REG_NOTIFY, port);
}

int xen_guest_evtchn_send(XenGuest *g, evtchn_port_t port)
{
    uint64_t arg[1] = { port };

    return sim_cmd(g, XEN_SIM_OP_EVTCHN_SEND, arg, 1);
}

/*
 * Move the pending bits of the shared bitmap into port_pending.
 *
 * qtest cannot do an atomic read-modify-write of guest memory, so a bit
 * that the platform sets between our read of a byte and our write that
 * clears it would be lost.  The IRQ was acknowledged before the read and
 * the platform raises it whenever it sets a bit, so when the line is high
 * after the writes, every allocated port of the bytes we wrote is marked
 * pending: a possible spurious event instead of a lost one.
 */
static void collect_pending_shared(XenGuest *g, uint64_t *bitmap)
{
    size_t words = g->max_port / 64 + 1, i;

    /* The platform sets bits atomically; take them the same way. */
    for (i = 0; i < words; i++) {
        uint64_t w = __atomic_exchange_n(&bitmap[i], 0, __ATOMIC_SEQ_CST);

        while (w) {
            int bit = __builtin_ctzll(w);

            set_bit(i * 64 + bit, g->port_pending);
            w &= w - 1;
        }
    }
}

static void collect_pending(XenGuest *g)
{
    size_t nbytes = g->max_port / 8 + 1, i;
    g_autofree uint8_t *bytes = g_malloc(nbytes);
    g_autofree bool *written = g_new0(bool, nbytes);
    uint64_t *shared = xen_guest_ram_ptr(g, page_gpa(XG_PAGE_PENDING),
                                         XEN_GUEST_PAGE_SIZE);
    bool any = false;
    int bit;

    if (shared) {
        collect_pending_shared(g, shared);
        return;
    }

    xen_guest_memread(g, page_gpa(XG_PAGE_PENDING), bytes, nbytes);
    for (i = 0; i < nbytes; i++) {
        if (!bytes[i]) {
            continue;
        }
        qtest_writeb(g->qts, page_gpa(XG_PAGE_PENDING) + i, 0);
        written[i] = any = true;
        for (bit = 0; bit < 8; bit++) {
            if (bytes[i] & (1u << bit)) {
                set_bit(i * 8 + bit, g->port_pending);
            }
        }
    }
    if (any && qtest_get_irq(g->qts, 0)) {
        for (i = 0; i < nbytes; i++) {
            for (bit = 0; written[i] && bit < 8; bit++) {
                if (test_bit(i * 8 + bit, g->port_alloc)) {
                    set_bit(i * 8 + bit, g->port_pending);
                }
            }
        }
    }
}

static void collect_watch_events(XenGuest *g)
{
    uint64_t rsp = page_gpa(XG_PAGE_XS_RSP);
    struct xsd_sockmsg hdr;
    g_autofree char *buf = NULL;
    XenGuestWatchEvent *ev;
    char *token;
    int ret;

    for (;;) {
        uint64_t arg[4] = { 0, rsp, XG_XS_BUF_SIZE, 0 };

        ret = sim_cmd(g, XEN_SIM_OP_XS_WATCH_EVENT, arg, 4);
        g_assert_cmpint(ret, ==, 0);
        if (!arg[3]) {
            return;
        }
        qtest_memread(g->qts, rsp, &hdr, sizeof(hdr));
        g_assert_cmpuint(le32_to_cpu(hdr.type), ==, XS_WATCH_EVENT);
        g_assert_cmpuint(le32_to_cpu(hdr.len), <=,
                         XG_XS_BUF_SIZE - sizeof(hdr));
        buf = g_realloc(buf, le32_to_cpu(hdr.len) + 1);
        xen_guest_memread(g, rsp + sizeof(hdr), buf, le32_to_cpu(hdr.len));
        buf[le32_to_cpu(hdr.len)] = '\0';
        /* "path\0token\0" */
        token = memchr(buf, '\0', le32_to_cpu(hdr.len));
        g_assert(token && token + 1 < buf + le32_to_cpu(hdr.len));
        ev = g_new0(XenGuestWatchEvent, 1);
        ev->path = g_strdup(buf);
        ev->token = g_strdup(token + 1);
        g_queue_push_tail(&g->watch_events, ev);
    }
}

void xen_guest_poll(XenGuest *g)
{
    /* Acknowledge first, then scan: nothing raised after this is lost. */
    qtest_writel(g->qts, g->mmio + XEN_SIM_REG_IRQ_ACK, 1);
    collect_watch_events(g);
    collect_pending(g);
}

bool xen_guest_wait_irq(XenGuest *g, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    for (;;) {
        if (qtest_get_irq(g->qts, 0)) {
            return true;
        }
        if (g_get_monotonic_time() >= deadline) {
            return false;
        }
        g_usleep(XG_POLL_INTERVAL_US);
    }
}

bool xen_guest_evtchn_pending(XenGuest *g, evtchn_port_t port)
{
    g_assert(port < XG_NR_PORTS);
    if (!test_bit(port, g->port_pending)) {
        xen_guest_poll(g);
    }
    if (test_bit(port, g->port_pending)) {
        clear_bit(port, g->port_pending);
        return true;
    }
    return false;
}

bool xen_guest_wait_event(XenGuest *g, evtchn_port_t port, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    gint64 left;

    for (;;) {
        if (xen_guest_evtchn_pending(g, port)) {
            return true;
        }
        left = deadline - g_get_monotonic_time();
        if (left <= 0 || !xen_guest_wait_irq(g, left / 1000 + 1)) {
            return false;
        }
    }
}

/*
 * Xenstore
 */

/* The negative errno named by an XS_ERROR reply. */
static int xs_errno(const char *name)
{
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(xsd_errors); i++) {
        if (!strcmp(xsd_errors[i].errstring, name)) {
            return -xsd_errors[i].errnum;
        }
    }
    g_test_message("xen-guest: unknown xenstore error \"%s\"", name);
    return -EIO;
}

static int xs_request_as(XenGuest *g, uint32_t op, uint32_t type,
                         uint32_t tx, const void *payload, size_t len,
                         char **reply, size_t *reply_len)
{
    uint64_t req = page_gpa(XG_PAGE_XS_REQ), rsp = page_gpa(XG_PAGE_XS_RSP);
    uint64_t arg[3] = { req, rsp, XG_XS_BUF_SIZE };
    struct xsd_sockmsg hdr = {
        .type = cpu_to_le32(type),
        .req_id = cpu_to_le32(++g->xs_req_id),
        .tx_id = cpu_to_le32(tx),
        .len = cpu_to_le32(len),
    };
    uint32_t rsp_len, rsp_type;
    char *buf;
    int ret;

    g_assert(len <= XENSTORE_PAYLOAD_MAX);
    qtest_memwrite(g->qts, req, &hdr, sizeof(hdr));
    if (len) {
        xen_guest_memwrite(g, req + sizeof(hdr), payload, len);
    }
    ret = sim_cmd(g, op, arg, 3);
    if (ret) {
        return ret;
    }
    qtest_memread(g->qts, rsp, &hdr, sizeof(hdr));
    rsp_type = le32_to_cpu(hdr.type);
    rsp_len = le32_to_cpu(hdr.len);
    g_assert_cmpuint(rsp_len, <=, XG_XS_BUF_SIZE - sizeof(hdr));
    g_assert_cmpuint(le32_to_cpu(hdr.req_id), ==, g->xs_req_id);
    buf = g_malloc(rsp_len + 1);
    if (rsp_len) {
        xen_guest_memread(g, rsp + sizeof(hdr), buf, rsp_len);
    }
    buf[rsp_len] = '\0';

    if (rsp_type == XS_ERROR) {
        ret = xs_errno(buf);
        g_free(buf);
        return ret;
    }
    g_assert_cmpuint(rsp_type, ==, type);
    if (reply) {
        *reply = buf;
    } else {
        g_free(buf);
    }
    if (reply_len) {
        *reply_len = rsp_len;
    }
    return 0;
}

/* A request whose payload is NUL-terminated strings. */
static int xs_request_strs(XenGuest *g, uint32_t type, uint32_t tx,
                           const char *s1, const char *s2,
                           char **reply, size_t *reply_len)
{
    g_autoptr(GByteArray) p = g_byte_array_new();

    g_byte_array_append(p, (const guint8 *)s1, strlen(s1) + 1);
    if (s2) {
        g_byte_array_append(p, (const guint8 *)s2, strlen(s2) + 1);
    }
    return xen_guest_xs_request(g, type, tx, p->data, p->len, reply,
                                reply_len);
}

int xen_guest_xs_read(XenGuest *g, uint32_t tx, const char *path,
                      char **value)
{
    return xs_request_strs(g, XS_READ, tx, path, NULL, value, NULL);
}

char *xen_guest_xs_read_str(XenGuest *g, const char *path)
{
    char *value = NULL;

    if (xen_guest_xs_read(g, XEN_GUEST_XBT_NULL, path, &value)) {
        return NULL;
    }
    return value;
}

int xen_guest_xs_read_uint(XenGuest *g, uint32_t tx, const char *path,
                           unsigned int *val)
{
    g_autofree char *value = NULL;
    int ret;

    ret = xen_guest_xs_read(g, tx, path, &value);
    if (ret) {
        return ret;
    }
    if (qemu_strtoui(value, NULL, 10, val)) {
        return -EINVAL;
    }
    return 0;
}

int xen_guest_xs_request(XenGuest *g, uint32_t type, uint32_t tx,
                         const void *payload, size_t len,
                         char **reply, size_t *reply_len)
{
    return xs_request_as(g, XEN_SIM_OP_XS_REQUEST, type, tx, payload, len,
                         reply, reply_len);
}

int xen_guest_toolstack_write(XenGuest *g, const char *path,
                              const char *value)
{
    g_autoptr(GByteArray) p = g_byte_array_new();

    g_byte_array_append(p, (const guint8 *)path, strlen(path) + 1);
    g_byte_array_append(p, (const guint8 *)value, strlen(value));
    return xs_request_as(g, XEN_SIM_OP_XS_TOOLSTACK_REQUEST, XS_WRITE,
                         XEN_GUEST_XBT_NULL, p->data, p->len, NULL, NULL);
}

int xen_guest_toolstack_rm(XenGuest *g, const char *path)
{
    return xs_request_as(g, XEN_SIM_OP_XS_TOOLSTACK_REQUEST, XS_RM,
                         XEN_GUEST_XBT_NULL, path, strlen(path) + 1, NULL,
                         NULL);
}

int xen_guest_toolstack_set_perms(XenGuest *g, const char *path,
                                  const char *const *perms)
{
    g_autoptr(GByteArray) p = g_byte_array_new();
    unsigned int i;

    g_byte_array_append(p, (const guint8 *)path, strlen(path) + 1);
    for (i = 0; perms[i]; i++) {
        g_byte_array_append(p, (const guint8 *)perms[i],
                            strlen(perms[i]) + 1);
    }
    return xs_request_as(g, XEN_SIM_OP_XS_TOOLSTACK_REQUEST, XS_SET_PERMS,
                         XEN_GUEST_XBT_NULL, p->data, p->len, NULL, NULL);
}

static void toolstack_write_key(XenGuest *g, const char *dir,
                                const char *key, const char *value)
{
    g_autofree char *path = g_strdup_printf("%s/%s", dir, key);

    g_assert_cmpint(xen_guest_toolstack_write(g, path, value), ==, 0);
}

char *xen_guest_toolstack_backend(XenGuest *g, const char *type,
                                  const char *fe_type, const char *idx,
                                  const char *const *keys)
{
    domid_t domid = xen_guest_domid(g);
    char *be = g_strdup_printf("/local/domain/0/backend/%s/%u/%s", type,
                               domid, idx);
    g_autofree char *fe = g_strdup_printf("/local/domain/%u/device/%s/%s",
                                          domid, fe_type, idx);
    g_autofree char *id = g_strdup_printf("%u", domid);
    g_autofree char *reader = g_strdup_printf("r%u", domid);
    const char *perms[] = { "n0", reader, NULL };
    unsigned int i;

    toolstack_write_key(g, be, "frontend", fe);
    g_assert_cmpint(xen_guest_toolstack_set_perms(g, be, perms), ==, 0);
    toolstack_write_key(g, be, "frontend-id", id);
    for (i = 0; keys && keys[i]; i += 2) {
        if (keys[i + 1]) {
            toolstack_write_key(g, be, keys[i], keys[i + 1]);
        }
    }
    toolstack_write_key(g, be, "online", "1");
    toolstack_write_key(g, be, "state", "1");
    return be;
}

int xen_guest_xs_write(XenGuest *g, uint32_t tx, const char *path,
                       const char *value)
{
    g_autoptr(GByteArray) p = g_byte_array_new();

    /* "path\0value", the value without its NUL */
    g_byte_array_append(p, (const guint8 *)path, strlen(path) + 1);
    g_byte_array_append(p, (const guint8 *)value, strlen(value));
    return xen_guest_xs_request(g, XS_WRITE, tx, p->data, p->len, NULL,
                                NULL);
}

int xen_guest_xs_printf(XenGuest *g, uint32_t tx, const char *path,
                        const char *fmt, ...)
{
    g_autofree char *value = NULL;
    va_list ap;

    va_start(ap, fmt);
    value = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return xen_guest_xs_write(g, tx, path, value);
}

int xen_guest_xs_mkdir(XenGuest *g, uint32_t tx, const char *path)
{
    return xs_request_strs(g, XS_MKDIR, tx, path, NULL, NULL, NULL);
}

int xen_guest_xs_rm(XenGuest *g, uint32_t tx, const char *path)
{
    return xs_request_strs(g, XS_RM, tx, path, NULL, NULL, NULL);
}

int xen_guest_xs_directory(XenGuest *g, uint32_t tx, const char *path,
                           char ***children)
{
    g_autofree char *reply = NULL;
    GPtrArray *names;
    size_t len, pos;
    int ret;

    ret = xs_request_strs(g, XS_DIRECTORY, tx, path, NULL, &reply, &len);
    if (ret) {
        return ret;
    }
    names = g_ptr_array_new();
    for (pos = 0; pos < len; pos += strlen(reply + pos) + 1) {
        g_ptr_array_add(names, g_strdup(reply + pos));
    }
    g_ptr_array_add(names, NULL);
    *children = (char **)g_ptr_array_free(names, false);
    return 0;
}

int xen_guest_xs_transaction_start(XenGuest *g, uint32_t *tx)
{
    g_autofree char *reply = NULL;
    unsigned int id;
    int ret;

    ret = xs_request_strs(g, XS_TRANSACTION_START, XEN_GUEST_XBT_NULL, "",
                          NULL, &reply, NULL);
    if (ret) {
        return ret;
    }
    g_assert_cmpint(qemu_strtoui(reply, NULL, 10, &id), ==, 0);
    g_assert_cmpuint(id, !=, XEN_GUEST_XBT_NULL);
    *tx = id;
    return 0;
}

int xen_guest_xs_transaction_end(XenGuest *g, uint32_t tx, bool abort)
{
    return xs_request_strs(g, XS_TRANSACTION_END, tx, abort ? "F" : "T",
                           NULL, NULL, NULL);
}

static void watch_event_free(XenGuestWatchEvent *ev)
{
    g_free(ev->path);
    g_free(ev->token);
    g_free(ev);
}

int xen_guest_xs_watch(XenGuest *g, const char *path, const char *token)
{
    return xs_request_strs(g, XS_WATCH, XEN_GUEST_XBT_NULL, path, token,
                           NULL, NULL);
}

int xen_guest_xs_unwatch(XenGuest *g, const char *path, const char *token)
{
    GList *l, *next;
    int ret;

    ret = xs_request_strs(g, XS_UNWATCH, XEN_GUEST_XBT_NULL, path, token,
                          NULL, NULL);
    if (ret) {
        return ret;
    }
    /* Drop the events of this watch, queued here or still on the platform */
    collect_watch_events(g);
    for (l = g->watch_events.head; l; l = next) {
        XenGuestWatchEvent *ev = l->data;

        next = l->next;
        if (!strcmp(ev->token, token)) {
            g_queue_delete_link(&g->watch_events, l);
            watch_event_free(ev);
        }
    }
    return 0;
}

/* Take the first queued event of @token (any token if NULL). */
static XenGuestWatchEvent *take_watch_event(XenGuest *g, const char *token)
{
    GList *l;

    for (l = g->watch_events.head; l; l = l->next) {
        XenGuestWatchEvent *ev = l->data;

        if (!token || !strcmp(ev->token, token)) {
            g_queue_delete_link(&g->watch_events, l);
            return ev;
        }
    }
    return NULL;
}

static int wait_watch(XenGuest *g, const char *token, char **path,
                      char **token_out, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    XenGuestWatchEvent *ev;
    gint64 left;

    for (;;) {
        ev = take_watch_event(g, token);
        if (!ev) {
            xen_guest_poll(g);
            ev = take_watch_event(g, token);
        }
        if (ev) {
            break;
        }
        left = deadline - g_get_monotonic_time();
        if (left <= 0 || !xen_guest_wait_irq(g, left / 1000 + 1)) {
            return -ETIMEDOUT;
        }
    }
    if (path) {
        *path = g_steal_pointer(&ev->path);
    }
    if (token_out) {
        *token_out = g_steal_pointer(&ev->token);
    }
    watch_event_free(ev);
    return 0;
}

int xen_guest_xs_wait_watch(XenGuest *g, char **path, char **token,
                            int timeout_ms)
{
    return wait_watch(g, NULL, path, token, timeout_ms);
}

int xen_guest_xs_wait_watch_token(XenGuest *g, const char *token,
                                  char **path, int timeout_ms)
{
    return wait_watch(g, token, path, NULL, timeout_ms);
}

unsigned int xen_guest_xs_pending_watch_events(XenGuest *g)
{
    collect_watch_events(g);
    return g_queue_get_length(&g->watch_events);
}

static char *new_token(XenGuest *g)
{
    return g_strdup_printf("xen-guest-%u", ++g->token_seq);
}

/*
 * Wait, with a watch on @path, until @done says yes to the value of @path
 * (NULL when it cannot be read).
 */
typedef bool (*XenGuestValueCheck)(const char *value, void *opaque);

static int wait_value_cond(XenGuest *g, const char *path,
                           XenGuestValueCheck done, void *opaque,
                           int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_autofree char *token = new_token(g);
    gint64 left;
    int ret;

    ret = xen_guest_xs_watch(g, path, token);
    g_assert_cmpint(ret, ==, 0);
    for (;;) {
        g_autofree char *value = xen_guest_xs_read_str(g, path);

        if (done(value, opaque)) {
            ret = 0;
            break;
        }
        left = deadline - g_get_monotonic_time();
        if (left <= 0 ||
            xen_guest_xs_wait_watch_token(g, token, NULL,
                                          left / 1000 + 1) < 0) {
            ret = -ETIMEDOUT;
            break;
        }
    }
    g_assert_cmpint(xen_guest_xs_unwatch(g, path, token), ==, 0);
    return ret;
}

static bool value_is(const char *value, void *opaque)
{
    return !g_strcmp0(value, opaque);
}

int xen_guest_xs_wait_value(XenGuest *g, const char *path,
                            const char *expected, int timeout_ms)
{
    return wait_value_cond(g, path, value_is, (void *)expected, timeout_ms);
}

/*
 * XenbusState
 */

static const char *const state_names[] = {
    [XenbusStateUnknown] = "Unknown",
    [XenbusStateInitialising] = "Initialising",
    [XenbusStateInitWait] = "InitWait",
    [XenbusStateInitialised] = "Initialised",
    [XenbusStateConnected] = "Connected",
    [XenbusStateClosing] = "Closing",
    [XenbusStateClosed] = "Closed",
    [XenbusStateReconfiguring] = "Reconfiguring",
    [XenbusStateReconfigured] = "Reconfigured",
};

const char *xen_guest_state_name(enum xenbus_state state)
{
    if ((unsigned int)state < ARRAY_SIZE(state_names)) {
        return state_names[state];
    }
    return "(invalid)";
}

int xen_guest_set_state(XenGuest *g, const char *dir,
                        enum xenbus_state state)
{
    g_autofree char *path = g_strdup_printf("%s/state", dir);

    return xen_guest_xs_printf(g, XEN_GUEST_XBT_NULL, path, "%u", state);
}

static enum xenbus_state parse_state(const char *value)
{
    unsigned int state;

    if (!value || qemu_strtoui(value, NULL, 10, &state) ||
        state >= ARRAY_SIZE(state_names)) {
        return XenbusStateUnknown;
    }
    return state;
}

enum xenbus_state xen_guest_read_state(XenGuest *g, const char *dir)
{
    g_autofree char *path = g_strdup_printf("%s/state", dir);
    g_autofree char *value = xen_guest_xs_read_str(g, path);

    return parse_state(value);
}

typedef struct StateWait {
    uint32_t mask;
    uint32_t seen;
    enum xenbus_state found;
} StateWait;

static bool state_in_mask(const char *value, void *opaque)
{
    StateWait *w = opaque;
    enum xenbus_state state = parse_state(value);

    w->seen |= XEN_GUEST_STATE_BIT(state);
    if (w->mask & XEN_GUEST_STATE_BIT(state)) {
        w->found = state;
        return true;
    }
    return false;
}

int xen_guest_wait_state_mask(XenGuest *g, const char *dir, uint32_t mask,
                              uint32_t *seen, int timeout_ms)
{
    g_autofree char *path = g_strdup_printf("%s/state", dir);
    StateWait w = { .mask = mask };
    int ret;

    ret = wait_value_cond(g, path, state_in_mask, &w, timeout_ms);
    if (seen) {
        *seen |= w.seen;
    }
    return ret ? ret : (int)w.found;
}

int xen_guest_wait_state(XenGuest *g, const char *dir,
                         enum xenbus_state state, int timeout_ms)
{
    int ret = xen_guest_wait_state_mask(g, dir, XEN_GUEST_STATE_BIT(state),
                                        NULL, timeout_ms);

    return ret < 0 ? ret : 0;
}

/*
 * Frontend devices
 */

int xen_guest_find_device(XenGuest *g, const char *type, int idx,
                          XenGuestDevice *dev)
{
    g_autofree char *dir = g_strdup_printf("%s/device/%s", g->home, type);
    g_autofree char *path = NULL;
    g_auto(GStrv) names = NULL;
    unsigned int backend_id;
    int ret;

    memset(dev, 0, sizeof(*dev));
    if (idx < 0) {
        ret = xen_guest_xs_directory(g, XEN_GUEST_XBT_NULL, dir, &names);
        if (ret) {
            return ret;
        }
        if (!names[0]) {
            return -ENOENT;
        }
        g_assert_cmpint(qemu_strtoi(names[0], NULL, 10, &idx), ==, 0);
    }
    dev->frontend = g_strdup_printf("%s/%d", dir, idx);
    path = g_strdup_printf("%s/backend", dev->frontend);
    ret = xen_guest_xs_read(g, XEN_GUEST_XBT_NULL, path, &dev->backend);
    if (ret) {
        xen_guest_device_cleanup(dev);
        return ret;
    }
    g_free(path);
    path = g_strdup_printf("%s/backend-id", dev->frontend);
    ret = xen_guest_xs_read_uint(g, XEN_GUEST_XBT_NULL, path, &backend_id);
    if (ret) {
        xen_guest_device_cleanup(dev);
        return ret;
    }
    dev->type = g_strdup(type);
    dev->idx = idx;
    dev->backend_id = backend_id;
    return 0;
}

void xen_guest_device_cleanup(XenGuestDevice *dev)
{
    g_free(dev->type);
    g_free(dev->frontend);
    g_free(dev->backend);
    memset(dev, 0, sizeof(*dev));
}

int xen_guest_device_close(XenGuest *g, XenGuestDevice *dev, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    int ret;

    g_assert_cmpint(xen_guest_set_state(g, dev->frontend,
                                        XenbusStateClosing), ==, 0);
    ret = xen_guest_wait_state_mask(g, dev->backend,
                                    ~XEN_GUEST_STATE_BIT(XenbusStateConnected),
                                    NULL, timeout_ms);
    if (ret < 0) {
        return ret;
    }
    g_assert_cmpint(xen_guest_set_state(g, dev->frontend,
                                        XenbusStateClosed), ==, 0);
    timeout_ms = MAX(0, (deadline - g_get_monotonic_time()) / 1000);
    return xen_guest_wait_state(g, dev->backend, XenbusStateClosed,
                                timeout_ms);
}

/*
 * Front rings
 */

/* Shared ring header (ring.h): the four indexes, then padding. */
#define RING_REQ_PROD           0
#define RING_REQ_EVENT          4
#define RING_RSP_PROD           8
#define RING_RSP_EVENT          12

/* Copy @len bytes at @offset in the ring's pages, out or (@write) in. */
static void ring_copy(XenGuest *g, XenGuestRing *r, size_t offset, void *buf,
                      size_t len, bool write)
{
    while (len) {
        unsigned int page = offset / XEN_GUEST_PAGE_SIZE;
        size_t in_page = offset % XEN_GUEST_PAGE_SIZE;
        size_t n = MIN(len, XEN_GUEST_PAGE_SIZE - in_page);

        g_assert(page < r->nr_pages);
        if (write) {
            xen_guest_memwrite(g, r->gpa[page] + in_page, buf, n);
        } else {
            xen_guest_memread(g, r->gpa[page] + in_page, buf, n);
        }
        offset += n;
        buf = (uint8_t *)buf + n;
        len -= n;
    }
}

static size_t ring_entry_offset(XenGuestRing *r, uint32_t idx)
{
    return XEN_GUEST_RING_HDR_SIZE +
        (size_t)(idx & (r->nr_ents - 1)) * r->entry_size;
}

static uint64_t ring_hdr(XenGuestRing *r, unsigned int field)
{
    return r->gpa[0] + field;
}

void xen_guest_ring_init_pages(XenGuest *g, XenGuestRing *r,
                               const uint64_t *gpas, unsigned int nr_pages,
                               size_t entry_size)
{
    size_t size = (size_t)nr_pages * XEN_GUEST_PAGE_SIZE;
    unsigned int n = (size - XEN_GUEST_RING_HDR_SIZE) / entry_size;
    unsigned int i;

    g_assert(nr_pages > 0 && nr_pages <= XEN_GUEST_RING_MAX_PAGES);
    g_assert(entry_size > 0 && n > 0);
    memset(r, 0, sizeof(*r));
    for (i = 0; i < nr_pages; i++) {
        g_assert(!(gpas[i] & (XEN_GUEST_PAGE_SIZE - 1)));
        r->gpa[i] = gpas[i];
        qtest_memset(g->qts, gpas[i], 0, XEN_GUEST_PAGE_SIZE);
    }
    r->nr_pages = nr_pages;
    r->entry_size = entry_size;
    r->nr_ents = 1u << (31 - clz32(n));     /* round down to a power of 2 */
    /* SHARED_RING_INIT: indexes 0, events 1, the rest zero */
    qtest_writel(g->qts, ring_hdr(r, RING_REQ_EVENT), 1);
    qtest_writel(g->qts, ring_hdr(r, RING_RSP_EVENT), 1);
}

void xen_guest_ring_init(XenGuest *g, XenGuestRing *r, uint64_t gpa,
                         size_t entry_size)
{
    xen_guest_ring_init_pages(g, r, &gpa, 1, entry_size);
}

unsigned int xen_guest_ring_free_requests(XenGuestRing *r)
{
    return r->nr_ents - (r->req_prod_pvt - r->rsp_cons);
}

void xen_guest_ring_put_request(XenGuest *g, XenGuestRing *r,
                                const void *req, size_t len)
{
    g_assert(len <= r->entry_size);
    g_assert(xen_guest_ring_free_requests(r) > 0);
    ring_copy(g, r, ring_entry_offset(r, r->req_prod_pvt), (void *)req, len,
              true);
    r->req_prod_pvt++;
}

bool xen_guest_ring_push_requests(XenGuest *g, XenGuestRing *r)
{
    uint32_t old = qtest_readl(g->qts, ring_hdr(r, RING_REQ_PROD));
    uint32_t new = r->req_prod_pvt;
    uint32_t event;

    /* qtest accesses are ordered: no barriers needed */
    qtest_writel(g->qts, ring_hdr(r, RING_REQ_PROD), new);
    event = qtest_readl(g->qts, ring_hdr(r, RING_REQ_EVENT));
    return (uint32_t)(new - event) < (uint32_t)(new - old);
}

unsigned int xen_guest_ring_unconsumed_responses(XenGuest *g,
                                                 XenGuestRing *r)
{
    uint32_t prod = qtest_readl(g->qts, ring_hdr(r, RING_RSP_PROD));

    g_assert_cmpuint(prod - r->rsp_cons, <=, r->nr_ents);
    return prod - r->rsp_cons;
}

bool xen_guest_ring_get_response(XenGuest *g, XenGuestRing *r, void *rsp,
                                 size_t len)
{
    g_assert(len <= r->entry_size);
    if (!xen_guest_ring_unconsumed_responses(g, r)) {
        return false;
    }
    ring_copy(g, r, ring_entry_offset(r, r->rsp_cons), rsp, len, false);
    r->rsp_cons++;
    return true;
}

bool xen_guest_ring_final_check_for_responses(XenGuest *g, XenGuestRing *r)
{
    if (xen_guest_ring_unconsumed_responses(g, r)) {
        return true;
    }
    qtest_writel(g->qts, ring_hdr(r, RING_RSP_EVENT), r->rsp_cons + 1);
    return xen_guest_ring_unconsumed_responses(g, r) > 0;
}

/*
 * Life cycle
 */

/* Guest RAM of the QEMUs xen_guest_qemu_init() started: qts -> mapping. */
static GHashTable *shared_rams;

QTestState *xen_guest_qemu_init(const char *sim_props, const char *fmt, ...)
{
    g_autofree char *extra = NULL;
    g_autofree char *path = NULL;
    QTestState *qts;
    void *ram;
    va_list ap;
    int fd;

    va_start(ap, fmt);
    extra = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    /*
     * qtest reads and writes memory through the first CPU's address
     * space, so the machine needs one; "none" accepts one if it is told
     * its APIC id.
     */
    /*
     * Guest RAM is a memfd of the test that QEMU opens by its /proc path:
     * shmem, wherever the test runs (AF_XDP cannot register file-backed
     * pages of a disk filesystem as a UMEM), and nothing to clean up.
     */
    fd = qemu_memfd_create("xen-guest-ram", XEN_GUEST_RAM_SIZE, false, 0, 0,
                           &error_abort);
    path = g_strdup_printf("/proc/%d/fd/%d", (int)getpid(), fd);
    qts = qtest_initf("-nodefaults -display none "
                      "-object memory-backend-file,id=ram,size=%u,share=on,"
                      "mem-path=%s "
                      "-machine none,memory-backend=ram "
                      "-cpu qemu64,apic-id=0 "
                      "-device xen-sim,id=xensim%s%s %s",
                      XEN_GUEST_RAM_SIZE, path, sim_props ? "," : "",
                      sim_props ? sim_props : "", extra);
    /* QEMU has it open now; the test maps it and shares guest RAM. */
    ram = mmap(NULL, XEN_GUEST_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
               fd, 0);
    g_assert(ram != MAP_FAILED);
    close(fd);
    if (!shared_rams) {
        shared_rams = g_hash_table_new(NULL, NULL);
    }
    g_hash_table_insert(shared_rams, qts, ram);
    return qts;
}

XenGuest *xen_guest_new(QTestState *qts, const char *sim_path,
                        uint64_t ram_size)
{
    XenGuest *g = g_new0(XenGuest, 1);
    uint64_t arg[2];
    int ret;

    g->qts = qts;
    g->sim_path = g_strdup(sim_path ? sim_path : XEN_GUEST_SIM_PATH);
    if (shared_rams && g_hash_table_contains(shared_rams, qts)) {
        g->ram = g_hash_table_lookup(shared_rams, qts);
        g->ram_size = XEN_GUEST_RAM_SIZE;
    }
    g->mmio = sim_prop_uint(g, "addr");
    g_assert_cmphex(qtest_readl(qts, g->mmio + XEN_SIM_REG_MAGIC), ==,
                    XEN_SIM_MAGIC);
    g_assert_cmpuint(qtest_readl(qts, g->mmio + XEN_SIM_REG_VERSION), ==,
                     XEN_SIM_VERSION);
    g->domid = qtest_readl(qts, g->mmio + XEN_SIM_REG_DOMID);
    g->backend_domid = qtest_readl(qts, g->mmio + XEN_SIM_REG_BACKEND_DOMID);
    g->home = g_strdup_printf("/local/domain/%u", g->domid);

    if (!ram_size) {
        ram_size = query_ram_size(qts);
    }
    g->nr_pages = ram_size >> XEN_GUEST_PAGE_SHIFT;
    g_assert_cmpuint(g->nr_pages, >, XEN_GUEST_RESERVED_PAGES);
    g->page_used = bitmap_new(g->nr_pages);
    g->nr_free_pages = g->nr_pages;
    page_mark(g, 0, XEN_GUEST_RESERVED_PAGES, true);
    xen_guest_memset(g, 0, 0,
                     (size_t)XEN_GUEST_RESERVED_PAGES * XEN_GUEST_PAGE_SIZE);

    qtest_irq_intercept_out(qts, g->sim_path);

    g->gnttab_gpa = page_gpa(XG_PAGE_GNTTAB);
    g->gnttab_pages = XG_GNTTAB_INITIAL_PAGES;
    g->gnt_used = bitmap_new(gnttab_entries(g));
    ret = gnttab_setup(g, g->gnttab_gpa, g->gnttab_pages);
    g_assert_cmpint(ret, ==, 0);

    g->port_alloc = bitmap_new(XG_NR_PORTS);
    g->port_pending = bitmap_new(XG_NR_PORTS);
    arg[0] = page_gpa(XG_PAGE_PENDING);
    arg[1] = XG_NR_PORTS;
    ret = sim_cmd(g, XEN_SIM_OP_EVTCHN_SETUP, arg, 2);
    g_assert_cmpint(ret, ==, 0);

    g_queue_init(&g->watch_events);
    return g;
}

void xen_guest_free(XenGuest *g)
{
    if (!g) {
        return;
    }
    g_queue_clear_full(&g->watch_events, (GDestroyNotify)watch_event_free);
    if (g->ram && g_hash_table_remove(shared_rams, g->qts)) {
        munmap(g->ram, g->ram_size);
    }
    g_free(g->port_pending);
    g_free(g->port_alloc);
    g_free(g->gnt_used);
    g_free(g->page_used);
    g_free(g->home);
    g_free(g->sim_path);
    g_free(g);
}

QTestState *xen_guest_qts(XenGuest *g)
{
    return g->qts;
}

domid_t xen_guest_domid(XenGuest *g)
{
    return g->domid;
}

domid_t xen_guest_platform_backend_domid(XenGuest *g)
{
    return g->backend_domid;
}

const char *xen_guest_home(XenGuest *g)
{
    return g->home;
}
