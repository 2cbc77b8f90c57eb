/*
 * xen-net-accel: one AF_XDP socket, with its own UMEM or the guest's pool
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

/* Ring sizes and UMEM layout of one kind of socket. */
typedef struct XskSetup {
    uint32_t chunk;
    uint32_t umem_flags;
    uint32_t fill, comp, rx, tx;     /* entries; tx 0: no TX ring */
} XskSetup;

/* Open the socket, register x->umem, size and map the rings. */
static bool xsk_setup(XnaXsk *x, const XskSetup *st, const XnaXskPriv *priv,
                      Error **errp)
{
    struct xdp_umem_reg reg = { 0 };
    struct xdp_mmap_offsets off;
    socklen_t optlen = sizeof(off);

    if (priv) {
        x->fd = priv->socket(priv->opaque, errp);
        if (x->fd < 0) {
            return false;
        }
    } else {
        x->fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
        if (x->fd < 0) {
            error_setg_errno(errp, errno, "AF_XDP socket");
            return false;
        }
    }
    reg.addr = (uintptr_t)x->umem;
    reg.len = x->umem_len;
    reg.chunk_size = st->chunk;
    reg.flags = st->umem_flags;
    if (setsockopt(x->fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)) < 0) {
        error_setg_errno(errp, errno, "AF_XDP UMEM registration");
        return false;
    }
    /* The ring sizes must be set before their offsets can be read. */
    if (setsockopt(x->fd, SOL_XDP, XDP_UMEM_FILL_RING,
                   &st->fill, sizeof(uint32_t)) < 0 ||
        setsockopt(x->fd, SOL_XDP, XDP_UMEM_COMPLETION_RING,
                   &st->comp, sizeof(uint32_t)) < 0 ||
        setsockopt(x->fd, SOL_XDP, XDP_RX_RING,
                   &st->rx, sizeof(uint32_t)) < 0 ||
        (st->tx && setsockopt(x->fd, SOL_XDP, XDP_TX_RING,
                              &st->tx, sizeof(uint32_t)) < 0)) {
        error_setg_errno(errp, errno, "AF_XDP ring sizes");
        return false;
    }
    if (getsockopt(x->fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &optlen) < 0) {
        error_setg_errno(errp, errno, "AF_XDP ring offsets");
        return false;
    }
    return ring_map(x, &x->fill, st->fill, &off.fr, sizeof(uint64_t),
                    XDP_UMEM_PGOFF_FILL_RING, "fill", errp) &&
           ring_map(x, &x->comp, st->comp, &off.cr, sizeof(uint64_t),
                    XDP_UMEM_PGOFF_COMPLETION_RING, "completion", errp) &&
           ring_map(x, &x->rx, st->rx, &off.rx, sizeof(struct xdp_desc),
                    XDP_PGOFF_RX_RING, "RX", errp) &&
           (!st->tx ||
            ring_map(x, &x->tx, st->tx, &off.tx, sizeof(struct xdp_desc),
                     XDP_PGOFF_TX_RING, "TX", errp));
}

static bool xsk_bind(XnaXsk *x, int ifindex, uint32_t queue, uint16_t flags,
                     const XnaXskPriv *priv, bool *busy, Error **errp)
{
    struct sockaddr_xdp sxdp = {
        .sxdp_family = AF_XDP,
        .sxdp_ifindex = ifindex,
        .sxdp_queue_id = queue,
        .sxdp_flags = flags | XDP_USE_NEED_WAKEUP,
    };
    int err = 0;

    if (priv) {
        err = -priv->bind(priv->opaque, x->fd, queue, sxdp.sxdp_flags);
    } else if (bind(x->fd, (struct sockaddr *)&sxdp, sizeof(sxdp)) < 0) {
        err = errno;
    }
    if (err) {
        *busy = err == EBUSY;
        error_setg_errno(errp, err, "AF_XDP bind to queue %u%s", queue,
                         flags & XDP_ZEROCOPY ? " in zero-copy mode" : "");
        return false;
    }
    return true;
}

static XnaXsk *xsk_new_copy(int ifindex, uint32_t queue,
                            const XnaXskPriv *priv, bool *busy, Error **errp)
{
    static const XskSetup st = {
        .chunk = XNA_XSK_CHUNK,
        .fill = XNA_XSK_RX_CHUNKS,
        .comp = XNA_XSK_TX_CHUNKS,
        .rx = XNA_XSK_RX_CHUNKS,
        .tx = XNA_XSK_TX_CHUNKS,
    };
    XnaXsk *x = g_new0(XnaXsk, 1);
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
    if (!xsk_setup(x, &st, priv, errp)) {
        goto fail;
    }
    x->rx_addrs = g_new(uint64_t, XNA_XSK_RX_CHUNKS);
    x->tx_free = g_new(uint64_t, XNA_XSK_TX_CHUNKS);
    for (i = 0; i < XNA_XSK_TX_CHUNKS; i++) {
        x->tx_free[x->nr_tx_free++] =
            (uint64_t)(XNA_XSK_RX_CHUNKS + i) * XNA_XSK_CHUNK;
    }
    fill_all(x);
    if (!xsk_bind(x, ifindex, queue, XDP_COPY, priv, busy, errp)) {
        goto fail;
    }
    return x;

fail:
    xna_xsk_free(x);
    return NULL;
}

XnaXsk *xna_xsk_new(int ifindex, uint32_t queue, const XnaXskPriv *priv,
                    bool *busy, Error **errp)
{
    *busy = false;
    return xsk_new_copy(ifindex, queue, priv, busy, errp);
}

static XnaXsk *xsk_new_pool(int ifindex, uint32_t queue, uint8_t *umem,
                            size_t len, uint32_t entries, uint16_t flags,
                            const XnaXskPriv *priv, bool *busy, Error **errp)
{
    /*
     * The RX ring is twice the fill ring: the descriptors of the last
     * peek are released only at the next one, while their buffers may
     * already be posted and filled again.  A full RX ring would make the
     * kernel drop the frame and put its buffer back out of order.
     */
    const XskSetup st = {
        .chunk = XNA_XSK_POOL_CHUNK,
        .umem_flags = XDP_UMEM_UNALIGNED_CHUNK_FLAG,
        .fill = entries,
        .comp = 64,
        .rx = 2 * entries,
    };
    XnaXsk *x = g_new0(XnaXsk, 1);

    x->fd = -1;
    x->pool = true;
    x->umem = umem;
    x->umem_len = len;
    if (!xsk_setup(x, &st, priv, errp) ||
        !xsk_bind(x, ifindex, queue, flags, priv, busy, errp)) {
        xna_xsk_free(x);
        return NULL;
    }
    x->zero_copy = flags & XDP_ZEROCOPY;
    return x;
}

XnaXsk *xna_xsk_new_pool(int ifindex, uint32_t queue, uint8_t *umem,
                         size_t len, uint32_t entries, const XnaXskPriv *priv,
                         bool *busy, Error **errp)
{
    Error *err = NULL;
    XnaXsk *x;

    *busy = false;
    if ((uintptr_t)umem % qemu_real_host_page_size() ||
        entries == 0 || (entries & (entries - 1))) {
        error_setg(errp, "AF_XDP pool: bad UMEM or ring size");
        return NULL;
    }
    /*
     * Driver zero-copy first.  A failed bind takes the rings with it:
     * copy mode starts again from a new socket.
     */
    x = xsk_new_pool(ifindex, queue, umem, len, entries, XDP_ZEROCOPY,
                     priv, busy, &err);
    if (!x) {
        /*
         * Busy in zero-copy mode may also mean a memory provider on the
         * queue, which copy mode does not mind: the queue is busy only if
         * copy mode finds it so too.
         */
        error_free(err);
        err = NULL;
        *busy = false;
        x = xsk_new_pool(ifindex, queue, umem, len, entries, XDP_COPY,
                         priv, busy, &err);
    }
    error_propagate(errp, err);
    return x;
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
    if (x->umem && !x->pool) {
        munmap(x->umem, x->umem_len);
    }
    g_free(x->rx_addrs);
    g_free(x->tx_free);
    g_free(x);
}

/* Adds the socket's counts to @d (nothing if the kernel has none). */
void xna_xsk_drops(XnaXsk *x, XnaXskDrops *d)
{
    struct xdp_statistics st = { 0 };
    socklen_t len = sizeof(st);

    if (getsockopt(x->fd, SOL_XDP, XDP_STATISTICS, &st, &len) < 0) {
        return;
    }
    d->dropped += st.rx_dropped;
    d->no_buffer += st.rx_fill_ring_empty_descs;
    d->ring_full += st.rx_ring_full;
    d->invalid += st.rx_invalid_descs + st.tx_invalid_descs;
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

/*
 * A pool socket's descriptor: with unaligned chunks its address is the
 * chunk we posted, with the frame's offset in it in the top 16 bits.
 * The frame must lie in that chunk, and the chunk in the UMEM.
 */
static bool pool_desc_data(XnaXsk *x, uint64_t addr, uint32_t len,
                           uint64_t *data)
{
    uint64_t chunk = addr & XSK_UNALIGNED_BUF_ADDR_MASK;
    uint64_t off = addr >> XSK_UNALIGNED_BUF_OFFSET_SHIFT;

    if (len == 0 || chunk > x->umem_len - XNA_XSK_POOL_CHUNK ||
        off + len > XNA_XSK_POOL_CHUNK) {
        return false;
    }
    *data = chunk + off;
    return true;
}

uint32_t xna_xsk_pool_post(XnaXsk *x, const uint64_t *bufs, uint32_t n)
{
    uint32_t room = x->fill.size - (x->fill.cached_prod -
                                    qatomic_load_acquire(x->fill.consumer));
    uint32_t i;

    n = MIN(n, room);
    for (i = 0; i < n; i++) {
        assert(bufs[i] >= XNA_XSK_POOL_HEADROOM &&
               bufs[i] + XNA_XSK_POOL_FRAME_MAX <= x->umem_len);
        *addr_ring(&x->fill, x->fill.cached_prod++) =
            bufs[i] - XNA_XSK_POOL_HEADROOM;
    }
    qatomic_store_release(x->fill.producer, x->fill.cached_prod);
    /* In driver zero-copy mode the driver may wait to be told. */
    if (n && (qatomic_read(x->fill.flags) & XDP_RING_NEED_WAKEUP)) {
        recvfrom(x->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
    }
    return n;
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

        if (x->pool) {
            x->rx_taken++;
            if (!pool_desc_data(x, addr, l, &addr)) {
                x->rx_bad++;
                continue;
            }
            data[got] = x->umem + addr;
            len[got] = l;
            got++;
            continue;
        }
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
    /* A pool socket's buffers go back to the guest, not to the kernel. */
    for (i = 0; i < x->rx_taken && !x->pool; i++) {
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
