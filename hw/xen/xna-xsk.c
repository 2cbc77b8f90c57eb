/*
 * xen-net-accel: one AF_XDP socket with its own UMEM, in copy mode
 *
 * Plain socket calls (libbpf 1.x no longer has the xsk helpers, and
 * libxdp is not needed for this): register the UMEM, size and map the
 * four rings, bind to one queue.  Producer and consumer indices follow
 * the kernel's rule: acquire-load the other side's index, release-store
 * our own after the entries are written or read.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <linux/if_xdp.h>
#include <sys/socket.h>
#include "qapi/error.h"
#include "qemu/atomic.h"
#include "xna-xsk.h"

#define XNA_XSK_CHUNKS  (XNA_XSK_RX_CHUNKS + XNA_XSK_TX_CHUNKS)

/* Map a ring whose size was set (a ring's size can be set only once). */
static bool ring_map(XnaXsk *x, XnaXskRing *r, uint32_t size,
                     const struct xdp_ring_offset *off, size_t desc_size,
                     off_t pgoff, const char *name, Error **errp)
{
    r->size = size;
    r->map_len = off->desc + size * desc_size;
    r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_POPULATE, x->fd, pgoff);
    if (r->map == MAP_FAILED) {
        r->map = NULL;
        error_setg_errno(errp, errno, "AF_XDP %s ring: mmap", name);
        return false;
    }
    r->producer = (uint32_t *)((uint8_t *)r->map + off->producer);
    r->consumer = (uint32_t *)((uint8_t *)r->map + off->consumer);
    r->flags = (uint32_t *)((uint8_t *)r->map + off->flags);
    r->descs = (uint8_t *)r->map + off->desc;
    return true;
}

static void ring_unmap(XnaXskRing *r)
{
    if (r->map) {
        munmap(r->map, r->map_len);
        r->map = NULL;
    }
}

static uint64_t *addr_ring(XnaXskRing *r, uint32_t idx)
{
    return (uint64_t *)r->descs + (idx & (r->size - 1));
}

static struct xdp_desc *desc_ring(XnaXskRing *r, uint32_t idx)
{
    return (struct xdp_desc *)r->descs + (idx & (r->size - 1));
}

/* Hand every receive chunk to the kernel. */
static void fill_all(XnaXsk *x)
{
    uint32_t i;

    for (i = 0; i < XNA_XSK_RX_CHUNKS; i++) {
        *addr_ring(&x->fill, x->fill.cached_prod++) =
            (uint64_t)i * XNA_XSK_CHUNK;
    }
    qatomic_store_release(x->fill.producer, x->fill.cached_prod);
}

XnaXsk *xna_xsk_new(int ifindex, uint32_t queue, Error **errp)
{
    XnaXsk *x = g_new0(XnaXsk, 1);
    struct xdp_umem_reg reg = { 0 };
    struct xdp_mmap_offsets off;
    struct sockaddr_xdp sxdp = { 0 };
    socklen_t optlen = sizeof(off);
    uint32_t i;

    x->fd = -1;
    x->umem_len = (size_t)XNA_XSK_CHUNKS * XNA_XSK_CHUNK;
    x->umem = mmap(NULL, x->umem_len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (x->umem == MAP_FAILED) {
        x->umem = NULL;
        error_setg_errno(errp, errno, "AF_XDP UMEM of %zu bytes",
                         x->umem_len);
        goto fail;
    }
    x->fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (x->fd < 0) {
        error_setg_errno(errp, errno, "AF_XDP socket");
        goto fail;
    }
    reg.addr = (uintptr_t)x->umem;
    reg.len = x->umem_len;
    reg.chunk_size = XNA_XSK_CHUNK;
    if (setsockopt(x->fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)) < 0) {
        error_setg_errno(errp, errno, "AF_XDP UMEM registration");
        goto fail;
    }
    /* The ring sizes must be set before their offsets can be read. */
    if (setsockopt(x->fd, SOL_XDP, XDP_UMEM_FILL_RING,
                   &(uint32_t){XNA_XSK_RX_CHUNKS}, sizeof(uint32_t)) < 0 ||
        setsockopt(x->fd, SOL_XDP, XDP_UMEM_COMPLETION_RING,
                   &(uint32_t){XNA_XSK_TX_CHUNKS}, sizeof(uint32_t)) < 0 ||
        setsockopt(x->fd, SOL_XDP, XDP_RX_RING,
                   &(uint32_t){XNA_XSK_RX_CHUNKS}, sizeof(uint32_t)) < 0 ||
        setsockopt(x->fd, SOL_XDP, XDP_TX_RING,
                   &(uint32_t){XNA_XSK_TX_CHUNKS}, sizeof(uint32_t)) < 0) {
        error_setg_errno(errp, errno, "AF_XDP ring sizes");
        goto fail;
    }
    if (getsockopt(x->fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &optlen) < 0) {
        error_setg_errno(errp, errno, "AF_XDP ring offsets");
        goto fail;
    }
    if (!ring_map(x, &x->fill, XNA_XSK_RX_CHUNKS, &off.fr,
                  sizeof(uint64_t), XDP_UMEM_PGOFF_FILL_RING, "fill", errp) ||
        !ring_map(x, &x->comp, XNA_XSK_TX_CHUNKS,
                  &off.cr, sizeof(uint64_t), XDP_UMEM_PGOFF_COMPLETION_RING,
                  "completion", errp) ||
        !ring_map(x, &x->rx, XNA_XSK_RX_CHUNKS, &off.rx,
                  sizeof(struct xdp_desc), XDP_PGOFF_RX_RING, "RX", errp) ||
        !ring_map(x, &x->tx, XNA_XSK_TX_CHUNKS, &off.tx,
                  sizeof(struct xdp_desc), XDP_PGOFF_TX_RING, "TX", errp)) {
        goto fail;
    }
    x->rx_addrs = g_new(uint64_t, XNA_XSK_RX_CHUNKS);
    x->tx_free = g_new(uint64_t, XNA_XSK_TX_CHUNKS);
    for (i = 0; i < XNA_XSK_TX_CHUNKS; i++) {
        x->tx_free[x->nr_tx_free++] =
            (uint64_t)(XNA_XSK_RX_CHUNKS + i) * XNA_XSK_CHUNK;
    }
    fill_all(x);
    sxdp.sxdp_family = AF_XDP;
    sxdp.sxdp_ifindex = ifindex;
    sxdp.sxdp_queue_id = queue;
    /* Copy mode: the guest's pool cannot be the UMEM (docs/nic-ops.md). */
    sxdp.sxdp_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
    if (bind(x->fd, (struct sockaddr *)&sxdp, sizeof(sxdp)) < 0) {
        error_setg_errno(errp, errno, "AF_XDP bind to queue %u", queue);
        goto fail;
    }
    return x;

fail:
    xna_xsk_free(x);
    return NULL;
}

void xna_xsk_free(XnaXsk *x)
{
    if (!x) {
        return;
    }
    ring_unmap(&x->fill);
    ring_unmap(&x->comp);
    ring_unmap(&x->rx);
    ring_unmap(&x->tx);
    if (x->fd >= 0) {
        close(x->fd);
    }
    if (x->umem) {
        munmap(x->umem, x->umem_len);
    }
    g_free(x->rx_addrs);
    g_free(x->tx_free);
    g_free(x);
}

/* The chunk of a kernel address, or UINT64_MAX when outside @first..@n. */
static uint64_t chunk_of(uint64_t addr, uint32_t first, uint32_t n)
{
    uint64_t idx = addr / XNA_XSK_CHUNK;

    if (idx < first || idx >= (uint64_t)first + n) {
        return UINT64_MAX;
    }
    return idx * XNA_XSK_CHUNK;
}

uint32_t xna_xsk_rx_peek(XnaXsk *x, uint8_t **data, uint32_t *len,
                         uint32_t n)
{
    uint32_t prod = qatomic_load_acquire(x->rx.producer);
    uint32_t avail = prod - x->rx.cached_cons - x->rx_taken;
    uint32_t i, got = 0;

    /* A bogus producer index cannot make us read more than the ring. */
    n = MIN(n, MIN(avail, x->rx.size - x->rx_taken));
    for (i = 0; i < n; i++) {
        struct xdp_desc *d = desc_ring(&x->rx, x->rx.cached_cons +
                                       x->rx_taken);
        uint64_t addr = d->addr, chunk;
        uint32_t l = d->len;

        /* The frame must lie in one receive chunk of the UMEM. */
        chunk = chunk_of(addr, 0, XNA_XSK_RX_CHUNKS);
        x->rx_addrs[x->rx_taken++] = chunk;
        if (chunk == UINT64_MAX || l == 0 ||
            addr + l > chunk + XNA_XSK_CHUNK) {
            x->rx_bad++;
            continue;
        }
        data[got] = x->umem + addr;
        len[got] = l;
        got++;
    }
    return got;
}

void xna_xsk_rx_release(XnaXsk *x)
{
    uint32_t i;

    if (!x->rx_taken) {
        return;
    }
    for (i = 0; i < x->rx_taken; i++) {
        /*
         * The fill ring holds every receive chunk, so it has room for
         * each one we give back; a bad address is not given back.
         */
        if (x->rx_addrs[i] != UINT64_MAX) {
            *addr_ring(&x->fill, x->fill.cached_prod++) = x->rx_addrs[i];
        }
    }
    qatomic_store_release(x->fill.producer, x->fill.cached_prod);
    x->rx.cached_cons += x->rx_taken;
    x->rx_taken = 0;
    qatomic_store_release(x->rx.consumer, x->rx.cached_cons);
}

bool xna_xsk_rx_pending(XnaXsk *x)
{
    return qatomic_load_acquire(x->rx.producer) !=
           x->rx.cached_cons + x->rx_taken;
}

bool xna_xsk_tx_reap(XnaXsk *x)
{
    uint32_t prod = qatomic_load_acquire(x->comp.producer);

    while (x->comp.cached_cons != prod) {
        uint64_t chunk = chunk_of(*addr_ring(&x->comp, x->comp.cached_cons),
                                  XNA_XSK_RX_CHUNKS, XNA_XSK_TX_CHUNKS);

        x->comp.cached_cons++;
        if (chunk != UINT64_MAX && x->nr_tx_free < XNA_XSK_TX_CHUNKS) {
            x->tx_free[x->nr_tx_free++] = chunk;
        }
    }
    qatomic_store_release(x->comp.consumer, x->comp.cached_cons);
    return x->nr_tx_free > 0;
}

bool xna_xsk_tx(XnaXsk *x, const uint8_t *data, uint32_t len)
{
    struct xdp_desc *d;
    uint64_t addr;

    if (len > XNA_XSK_CHUNK) {
        return false;
    }
    if (!x->nr_tx_free && !xna_xsk_tx_reap(x)) {
        return false;
    }
    if (x->tx.cached_prod - qatomic_load_acquire(x->tx.consumer) >=
        x->tx.size) {
        return false;
    }
    addr = x->tx_free[--x->nr_tx_free];
    memcpy(x->umem + addr, data, len);
    d = desc_ring(&x->tx, x->tx.cached_prod++);
    d->addr = addr;
    d->len = len;
    d->options = 0;
    return true;
}

void xna_xsk_tx_flush(XnaXsk *x)
{
    qatomic_store_release(x->tx.producer, x->tx.cached_prod);
    /*
     * In copy mode the kernel sends from this call (it is the wakeup);
     * EAGAIN/EBUSY/ENOBUFS mean it sends what it can and the rest stays
     * in the ring for the next call.
     */
    if (sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
        errno != EAGAIN && errno != EBUSY && errno != ENOBUFS &&
        errno != ENETDOWN) {
        x->tx_errors++;
    }
    xna_xsk_tx_reap(x);
}
