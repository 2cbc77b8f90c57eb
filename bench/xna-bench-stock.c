/*
 * xna-bench: the guest of QEMU's stock xen-net-device
 *
 * The data path of Linux's xen-netfront, reduced to what the benchmark
 * needs: every TX frame is written into a page that is granted
 * read-only for that frame and ended on its response; every RX buffer
 * is a page granted for one frame, re-granted when it is posted again.
 * Rings (io/ring.h's macros) and grant entries are written through
 * the shared guest RAM, as Linux writes them: only the kicks go through
 * qtest.  The device has one queue: with several flows, they share it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "qemu/bswap.h"
#include "hw/xen/interface/io/netif.h"
/*
 * The barriers io/ring.h's macros use (named as in Linux), for rings
 * in memory shared with QEMU's thread.
 */
#define mb()    smp_mb()    /* full: publish, then read the event index */
#define rmb()   smp_rmb()   /* index read before the entries */
#define wmb()   smp_wmb()   /* entries written before the index */
#include "xna-bench.h"
#include "libqos/xen-netfront.h"

#define RX_OFFSET_MAX   XEN_GUEST_PAGE_SIZE

typedef struct Slot {
    uint64_t gpa;
    uint8_t *ptr;
    grant_ref_t ref;
} Slot;

struct BenchDev {
    QTestState *qts;
    XenGuest *g;
    XenNetFront nf;             /* the control half */
    netif_tx_front_ring_t txr;  /* the data path, on shared memory */
    netif_rx_front_ring_t rxr;
    unsigned int tx_ents, rx_ents;
    Slot *tx;                   /* one per TX ring entry */
    uint16_t *tx_free;          /* stack of free TX slot ids */
    unsigned int tx_nfree;
    Slot *rx;                   /* one per RX ring entry, all posted */
    uint8_t *copy;              /* where a received frame is copied */
};

/* gnttab_grant_foreign_access_ref() of Linux, grant table v1 */
static grant_ref_t grant(BenchDev *d, uint64_t gpa, bool readonly)
{
    grant_ref_t ref = xen_guest_grant_alloc_ref(d->g);
    grant_entry_v1_t *e = xen_guest_grant_entry_ptr(d->g, ref);

    e->frame = cpu_to_le32(gpa >> XEN_GUEST_PAGE_SHIFT);
    e->domid = cpu_to_le16(d->nf.dev.backend_id);
    smp_wmb();      /* the entry is whole before it is valid */
    qatomic_set(&e->flags, cpu_to_le16(GTF_permit_access |
                                       (readonly ? GTF_readonly : 0)));
    return ref;
}

/* gnttab_end_foreign_access_ref(): fails while the backend maps it */
static void end_grant(BenchDev *d, grant_ref_t ref)
{
    grant_entry_v1_t *e = xen_guest_grant_entry_ptr(d->g, ref);
    uint16_t flags = qatomic_read(&e->flags);

    g_assert(!(le16_to_cpu(flags) & (GTF_reading | GTF_writing)));
    g_assert(qatomic_cmpxchg(&e->flags, flags, 0) == flags);
    xen_guest_grant_free_ref(d->g, ref);
}

static void rx_post(BenchDev *d, unsigned int id)
{
    netif_rx_request_t *req = RING_GET_REQUEST(&d->rxr,
                                               d->rxr.req_prod_pvt);

    d->rx[id].ref = grant(d, d->rx[id].gpa, false);
    req->id = id;
    req->gref = d->rx[id].ref;
    d->rxr.req_prod_pvt++;
}

static void kick_if(BenchDev *d, bool notify)
{
    if (notify) {
        xen_guest_evtchn_notify(d->g, d->nf.port);
    }
}

static Slot *alloc_slots(XenGuest *g, unsigned int n)
{
    Slot *s = g_new0(Slot, n);
    unsigned int i;

    for (i = 0; i < n; i++) {
        s[i].gpa = xen_guest_alloc_pages(g, 1);
        s[i].ptr = xen_guest_ram_ptr(g, s[i].gpa, XEN_GUEST_PAGE_SIZE);
        g_assert(s[i].ptr);
    }
    return s;
}

static BenchDev *stock_open(const char *qemu_args, unsigned int vis)
{
    BenchDev *d = g_new0(BenchDev, 1);
    unsigned int i;
    int notify;

    d->qts = xen_guest_qemu_init("grant-map=multi", "%s", qemu_args);
    d->g = xen_guest_new(d->qts, NULL, 0);
    xen_netfront_init(&d->nf, d->g, -1);
    g_assert_cmpint(xen_netfront_connect(&d->nf, 60000), ==, 0);
    /* The library initialised the shared rings; nothing is on them yet. */
    FRONT_RING_ATTACH(&d->txr, (netif_tx_sring_t *)
                      xen_guest_ram_ptr(d->g, d->nf.tx_ring_gpa,
                                        XEN_GUEST_PAGE_SIZE),
                      0, XEN_GUEST_PAGE_SIZE);
    FRONT_RING_ATTACH(&d->rxr, (netif_rx_sring_t *)
                      xen_guest_ram_ptr(d->g, d->nf.rx_ring_gpa,
                                        XEN_GUEST_PAGE_SIZE),
                      0, XEN_GUEST_PAGE_SIZE);
    d->tx_ents = RING_SIZE(&d->txr);
    d->rx_ents = RING_SIZE(&d->rxr);
    d->tx = alloc_slots(d->g, d->tx_ents);
    d->tx_free = g_new(uint16_t, d->tx_ents);
    for (i = 0; i < d->tx_ents; i++) {
        d->tx_free[d->tx_nfree++] = i;
    }
    d->rx = alloc_slots(d->g, d->rx_ents);
    for (i = 0; i < d->rx_ents; i++) {
        rx_post(d, i);
    }
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&d->rxr, notify);
    kick_if(d, notify);
    d->copy = g_malloc(XEN_GUEST_PAGE_SIZE);
    return d;
}

static unsigned int stock_tx(BenchDev *d, uint8_t *const *tmpl,
                             unsigned int nflows, unsigned int len,
                             uint64_t first, unsigned int n)
{
    unsigned int i;
    int notify;

    for (i = 0; i < n && d->tx_nfree && !RING_FULL(&d->txr); i++) {
        uint16_t id = d->tx_free[--d->tx_nfree];
        Slot *s = &d->tx[id];
        netif_tx_request_t *req = RING_GET_REQUEST(&d->txr,
                                                   d->txr.req_prod_pvt);

        memcpy(s->ptr, tmpl[(first + i) % nflows], len);
        s->ref = grant(d, s->gpa, true);
        req->gref = s->ref;
        req->offset = 0;
        req->flags = 0;
        req->id = id;
        req->size = len;
        d->txr.req_prod_pvt++;
    }
    if (i) {
        RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&d->txr, notify);
        kick_if(d, notify);
    }
    return i;
}

static unsigned int stock_tx_reclaim(BenchDev *d)
{
    RING_IDX prod = d->txr.sring->rsp_prod;
    unsigned int n = 0;

    smp_rmb();      /* responses up to prod are written */
    for (; d->txr.rsp_cons != prod; d->txr.rsp_cons++) {
        netif_tx_response_t *rsp = RING_GET_RESPONSE(&d->txr,
                                                     d->txr.rsp_cons);

        g_assert_cmpuint(rsp->id, <, d->tx_ents);
        g_assert_cmpint(rsp->status, ==, NETIF_RSP_OKAY);
        end_grant(d, d->tx[rsp->id].ref);
        d->tx_free[d->tx_nfree++] = rsp->id;
        n++;
    }
    return n;
}

static bool stock_tx_busy(BenchDev *d)
{
    return d->tx_nfree < d->tx_ents;
}

static int stock_rx(BenchDev *d, unsigned int budget, unsigned int len)
{
    RING_IDX prod = d->rxr.sring->rsp_prod;
    unsigned int n = 0;
    int bad = 0, notify;

    smp_rmb();      /* responses up to prod are written */
    for (; n < budget && d->rxr.rsp_cons != prod; d->rxr.rsp_cons++) {
        netif_rx_response_t *rsp = RING_GET_RESPONSE(&d->rxr,
                                                     d->rxr.rsp_cons);
        uint16_t id = rsp->id;
        Slot *s;

        g_assert_cmpuint(id, <, d->rx_ents);
        s = &d->rx[id];
        end_grant(d, s->ref);
        if (rsp->status != len || rsp->offset + len > RX_OFFSET_MAX) {
            bad = 1;
        } else {
            memcpy(d->copy, s->ptr + rsp->offset, len);
        }
        rx_post(d, id);
        n++;
    }
    if (n) {
        RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&d->rxr, notify);
        kick_if(d, notify);
    }
    return bad ? -1 : n;
}

static bool stock_arm(BenchDev *d)
{
    int more_tx, more_rx;

    RING_FINAL_CHECK_FOR_RESPONSES(&d->txr, more_tx);
    RING_FINAL_CHECK_FOR_RESPONSES(&d->rxr, more_rx);
    return more_tx || more_rx;
}

static XenGuest *stock_guest(BenchDev *d)
{
    return d->g;
}

static void stock_close(BenchDev *d)
{
    unsigned int i;

    stock_tx_reclaim(d);
    xen_netfront_close(&d->nf);
    /* Closed: the backend let go of the posted RX buffers. */
    for (i = 0; i < d->rx_ents; i++) {
        end_grant(d, d->rx[i].ref);
    }
    /* Unplug first: the stock device crashes QEMU's exit otherwise. */
    qtest_qmp_device_del(d->qts, "dev0");
    xen_guest_free(d->g);
    qtest_quit(d->qts);
    g_free(d->tx);
    g_free(d->tx_free);
    g_free(d->rx);
    g_free(d->copy);
    g_free(d);
}

const BenchDevOps bench_stock_ops = {
    .name = "stock",
    .open = stock_open,
    .tx = stock_tx,
    .tx_reclaim = stock_tx_reclaim,
    .tx_busy = stock_tx_busy,
    .rx = stock_rx,
    .arm = stock_arm,
    .guest = stock_guest,
    .close = stock_close,
};
