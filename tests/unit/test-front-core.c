/*
 * Unit tests: the guest frontend core (guest/core/xna-front.c)
 *
 * The test allocates the pages the core asks for, gives them fake grant
 * refs and ports, and plays a minimal backend on the same memory: it
 * reads the control FIFO, consumes TX descriptors, fills posted RX
 * buffers (finding pool pages through the directory pages, as the real
 * backend does through the grant refs), and sends control messages.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <glib.h>
#include <string.h>
#include <stdlib.h>

#include "xna-front.h"

#define REF_BASE    1000u
#define CTRL_PORT   5u
#define VI_PORT0    10u

/* ---------------------------------------------------------------------
 * Fixture: pages, refs, ports, notifications
 */

typedef struct Env {
    struct xna_layout l;
    struct xna_backend_info bi;
    uint8_t *mem;
    void **pages;
    uint32_t *refs;
    uint32_t vi_ports[XNA_MAX_VIS];
    struct xna_front *f;
    unsigned int kicks[64];
    /* backend side */
    uint32_t to_g_prod;
    uint32_t to_b_cons;
    /* a hostile backend: refills the FIFO whenever the guest frees a slot */
    unsigned int flood;     /* messages it still sends */
    unsigned int flooded;   /* messages it sent */
} Env;

static void be_flood(Env *e);

static void env_notify(void *opaque, uint32_t port)
{
    Env *e = opaque;

    g_assert_cmpuint(port, <, G_N_ELEMENTS(e->kicks));
    e->kicks[port]++;
    if (port == CTRL_PORT && e->flood) {
        be_flood(e);
    }
}

static const struct xna_front_ops env_ops = {
    .notify = env_notify,
};

static void default_bi(struct xna_backend_info *bi)
{
    memset(bi, 0, sizeof(*bi));
    bi->protocol_version = 1;
    bi->generation = 7;
    bi->max_vis = 4;
    bi->max_tx_ring_entries = 4096;
    bi->max_rx_ring_entries = 4096;
    bi->max_pool_pages = 65536;
    bi->mtu = 9000;
    bi->vif = 0;
    bi->sg = true;
    bi->csum_offload = true;
}

static Env *env_new_bi(unsigned int vis, unsigned int tx, unsigned int rx,
                       const struct xna_backend_info *bi)
{
    Env *e = g_new0(Env, 1);
    struct xna_front_config cfg;
    unsigned int i;

    g_assert_cmpint(xna_layout_init(&e->l, vis, tx, rx), ==, 0);
    if (bi) {
        e->bi = *bi;
    } else {
        default_bi(&e->bi);
    }
    e->mem = aligned_alloc(XNA_PAGE_SIZE,
                           (size_t)e->l.total_pages * XNA_PAGE_SIZE);
    g_assert_nonnull(e->mem);
    memset(e->mem, 0xa5, (size_t)e->l.total_pages * XNA_PAGE_SIZE);
    e->pages = g_new0(void *, e->l.total_pages);
    e->refs = g_new0(uint32_t, e->l.total_pages);
    for (i = 0; i < e->l.total_pages; i++) {
        e->pages[i] = e->mem + (size_t)i * XNA_PAGE_SIZE;
        e->refs[i] = REF_BASE + i;
    }
    for (i = 0; i < vis; i++) {
        e->vi_ports[i] = VI_PORT0 + i;
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.layout = &e->l;
    cfg.pages = e->pages;
    cfg.refs = e->refs;
    cfg.ctrl_port = CTRL_PORT;
    cfg.vi_ports = e->vi_ports;
    cfg.backend = &e->bi;
    cfg.wire_macs = true;       /* on wherever the backend offers it */
    cfg.ops = &env_ops;
    cfg.opaque = e;
    g_assert_cmpint(xna_front_create(&cfg, &e->f), ==, 0);
    g_assert_nonnull(e->f);
    return e;
}

static Env *env_new(unsigned int vis, unsigned int tx, unsigned int rx)
{
    return env_new_bi(vis, tx, rx, NULL);
}

static void env_free(Env *e)
{
    xna_front_destroy(e->f);
    free(e->mem);
    g_free(e->pages);
    g_free(e->refs);
    g_free(e);
}

static struct xna_ctrl_page *ctrl(Env *e)
{
    return e->pages[XNA_LAYOUT_CTRL_PAGE];
}

static struct xna_vi_shared *shared(Env *e, unsigned int vi)
{
    return e->pages[xna_layout_vi_shared_page(&e->l, vi)];
}

/* The backend's view of the pool: pool page p through the directory. */
static uint8_t *be_pool_page(Env *e, uint32_t p)
{
    uint32_t *dir, ref;

    g_assert_cmpuint(p, <, e->l.pool_pages);
    dir = e->pages[xna_layout_dir_page(&e->l, p / XNA_POOL_REFS_PER_DIR_PAGE)];
    ref = dir[p % XNA_POOL_REFS_PER_DIR_PAGE];
    g_assert_cmpuint(ref, >=, REF_BASE);
    g_assert_cmpuint(ref - REF_BASE, <, e->l.total_pages);
    return e->pages[ref - REF_BASE];
}

static struct xna_desc *be_tx_desc(Env *e, unsigned int vi, uint32_t idx)
{
    uint32_t s = idx & (e->l.tx_entries - 1);
    struct xna_desc *ring =
        e->pages[xna_layout_tx_ring_page(&e->l, vi, s / XNA_DESCS_PER_PAGE)];

    return &ring[s % XNA_DESCS_PER_PAGE];
}

static struct xna_desc *be_rx_desc(Env *e, unsigned int vi, uint32_t idx)
{
    uint32_t s = idx & (e->l.rx_entries - 1);
    struct xna_desc *ring =
        e->pages[xna_layout_rx_ring_page(&e->l, vi, s / XNA_DESCS_PER_PAGE)];

    return &ring[s % XNA_DESCS_PER_PAGE];
}

/* ---------------------------------------------------------------------
 * Backend: control channel
 */

static bool be_recv(Env *e, struct xna_msg *m)
{
    struct xna_ctrl_ring_idx *r = &ctrl(e)->to_backend;

    if (r->prod == e->to_b_cons) {
        return false;
    }
    g_assert_cmpuint(r->prod - e->to_b_cons, <=, XNA_CTRL_RING_SLOTS);
    *m = ctrl(e)->to_backend_msgs[e->to_b_cons % XNA_CTRL_RING_SLOTS];
    e->to_b_cons++;
    r->cons = e->to_b_cons;
    return true;
}

static void be_send(Env *e, const struct xna_msg *m)
{
    struct xna_ctrl_ring_idx *r = &ctrl(e)->to_guest;

    g_assert_cmpuint(e->to_g_prod - r->cons, <, XNA_CTRL_RING_SLOTS);
    ctrl(e)->to_guest_msgs[e->to_g_prod % XNA_CTRL_RING_SLOTS] = *m;
    e->to_g_prod++;
    r->prod = e->to_g_prod;
}

static void be_send_type(Env *e, uint16_t type, uint32_t a, uint32_t b)
{
    struct xna_msg m;

    memset(&m, 0, sizeof(m));
    m.type = type;
    m.u.vi.vi = a;
    m.u.vi.reason = b;
    be_send(e, &m);
}

static void be_hello_reply(Env *e, uint32_t nr_vis, uint32_t status)
{
    struct xna_msg m;

    memset(&m, 0, sizeof(m));
    m.type = XNA_MSG_HELLO;
    m.u.hello.version = 1;
    m.u.hello.nr_vis = nr_vis;
    m.u.hello.status = status;
    be_send(e, &m);
}

static void be_filter(Env *e, uint32_t op, uint32_t vi, uint8_t kind,
                      const void *addr, unsigned int alen, uint16_t port_be)
{
    struct xna_msg m;

    memset(&m, 0, sizeof(m));
    m.type = XNA_MSG_FILTER;
    m.u.filter.op = op;
    m.u.filter.vi = vi;
    m.u.filter.kind = kind;
    m.u.filter.port = port_be;
    memcpy(m.u.filter.addr, addr, alen);
    be_send(e, &m);
}

/* A LOCAL_MAC or WIRE_MAC message. */
static void be_mac_msg(Env *e, uint16_t type, uint32_t op, const uint8_t *mac)
{
    struct xna_msg m;

    memset(&m, 0, sizeof(m));
    m.type = type;
    m.u.local_mac.op = op;
    memcpy(m.u.local_mac.mac, mac, 6);
    be_send(e, &m);
}

static void be_local_mac(Env *e, uint32_t op, const uint8_t *mac)
{
    be_mac_msg(e, XNA_MSG_LOCAL_MAC, op, mac);
}

static void be_wire_mac(Env *e, uint32_t op, const uint8_t *mac)
{
    be_mac_msg(e, XNA_MSG_WIRE_MAC, op, mac);
}

/*
 * The flooding backend: fills every free slot of the FIFO with a LINK
 * message and asks to be notified of the next slot the guest frees.
 */
static void be_flood(Env *e)
{
    struct xna_ctrl_ring_idx *r = &ctrl(e)->to_guest;
    struct xna_msg m;

    memset(&m, 0, sizeof(m));
    m.type = XNA_MSG_LINK;
    m.u.link.up = 1;
    m.u.link.mtu = 1500;
    while (e->flood && e->to_g_prod - r->cons < XNA_CTRL_RING_SLOTS) {
        be_send(e, &m);
        e->flood--;
        e->flooded++;
    }
    r->cons_event = r->cons;
}

/* Guest: take every message; returns how many; asserts no -EPROTO. */
static unsigned int guest_ctrl(Env *e)
{
    struct xna_msg m;
    unsigned int n = 0;
    int r;

    do {
        while ((r = xna_front_ctrl_recv(e->f, &m)) > 0) {
            n++;
        }
        g_assert_cmpint(r, ==, 0);
    } while (xna_front_ctrl_arm(e->f));
    return n;
}

/* HELLO exchange and every VI up. */
static void connect_all(Env *e)
{
    struct xna_msg m;
    unsigned int n;

    g_assert_cmpint(xna_front_send_hello(e->f), ==, 0);
    g_assert_true(be_recv(e, &m));
    g_assert_cmpuint(m.type, ==, XNA_MSG_HELLO);
    be_hello_reply(e, e->l.num_vis, 0);
    for (n = 0; n < e->l.num_vis; n++) {
        be_send_type(e, XNA_MSG_VI_UP, n, 0);
    }
    guest_ctrl(e);
    g_assert_true(xna_front_ready(e->f));
}

/* ---------------------------------------------------------------------
 * Backend: rings
 */

typedef struct Frame {
    uint8_t data[XNA_MAX_FRAME_LEN];
    unsigned int len;
    unsigned int ndesc;
    uint16_t flags;        /* of the first descriptor */
    uint16_t csum_start;
    uint16_t csum_offset;
} Frame;

/*
 * Consumes one TX frame (checking every descriptor as the backend
 * would); false when none is published.
 */
static bool be_tx_take(Env *e, unsigned int vi, uint32_t *cons, Frame *fr)
{
    struct xna_vi_shared *sh = shared(e, vi);
    uint32_t prod = sh->tx_prod;
    uint32_t i = *cons;

    g_assert_cmpuint(prod - *cons, <=, e->l.tx_entries);
    if (prod == *cons) {
        return false;
    }
    memset(fr, 0, sizeof(*fr));
    for (;;) {
        const struct xna_desc *d = be_tx_desc(e, vi, i);
        uint8_t *page;

        g_assert_cmpuint(i - *cons, <, prod - *cons);
        g_assert_cmpuint(d->page, <, e->l.pool_pages);
        g_assert_cmpuint(d->len, >=, 1);
        g_assert_cmpuint((unsigned int)d->offset + d->len, <=, XNA_PAGE_SIZE);
        g_assert_cmpuint(d->flags & ~XNA_DESC_FLAGS_TX, ==, 0);
        g_assert_cmpuint(d->reserved, ==, 0);
        /* the buffer is the slot's own, inside the VI's share */
        g_assert_cmpuint(d->page / e->l.pool_pages_per_vi, ==, vi);
        if (fr->ndesc == 0) {
            fr->flags = d->flags;
            fr->csum_start = d->csum_start;
            fr->csum_offset = d->csum_offset;
        } else {
            g_assert_cmpuint(d->flags & XNA_DESC_CSUM_PARTIAL, ==, 0);
        }
        page = be_pool_page(e, d->page);
        g_assert_cmpuint(fr->len + d->len, <=, XNA_MAX_FRAME_LEN);
        memcpy(fr->data + fr->len, page + d->offset, d->len);
        fr->len += d->len;
        fr->ndesc++;
        g_assert_cmpuint(fr->ndesc, <=, XNA_MAX_FRAGS);
        i++;
        if (!(d->flags & XNA_DESC_MORE)) {
            break;
        }
    }
    g_assert_cmpuint(fr->len, >=, XNA_MIN_FRAME_LEN);
    *cons = i;
    return true;
}

static void be_tx_complete(Env *e, unsigned int vi, uint32_t cons)
{
    shared(e, vi)->tx_cons = cons;
}

/*
 * Fills posted RX buffers with a frame (split over buffers of @chunk
 * bytes at most); false when not enough buffers are posted.
 */
static bool be_rx_put(Env *e, unsigned int vi, uint32_t *cons,
                      const uint8_t *data, unsigned int len, uint16_t flags,
                      unsigned int chunk)
{
    struct xna_vi_shared *sh = shared(e, vi);
    unsigned int need = (len + chunk - 1) / chunk, k, done = 0;

    if (sh->rx_prod - *cons < need) {
        return false;
    }
    for (k = 0; k < need; k++) {
        struct xna_desc *d = be_rx_desc(e, vi, *cons + k);
        unsigned int n = MIN(chunk, len - done);

        g_assert_cmpuint(d->len, >=, n);          /* capacity */
        g_assert_cmpuint(d->page, <, e->l.pool_pages);
        memcpy(be_pool_page(e, d->page) + d->offset, data + done, n);
        d->len = n;
        d->flags = flags | (k + 1 < need ? XNA_DESC_MORE : 0);
        done += n;
    }
    *cons += need;
    return true;
}

static void be_rx_publish(Env *e, unsigned int vi, uint32_t cons)
{
    shared(e, vi)->rx_cons = cons;
}

/* ---------------------------------------------------------------------
 * Frames
 */

static const uint8_t guest_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x01 };
static const uint8_t peer_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x02 };
static const uint8_t guest_ip4[4] = { 10, 0, 0, 1 };
static const uint8_t peer_ip4[4] = { 10, 0, 0, 2 };
static const uint8_t guest_ip6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0,
                                       0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t peer_ip6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0,
                                      0, 0, 0, 0, 0, 0, 0, 2 };

#define GUEST_PORT  4000
#define PEER_PORT   5000

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = (uint8_t)v;
}

typedef struct FrameSpec {
    const uint8_t *dst;
    bool vlan;
    int ipver;              /* 4, 6, or 0: ARP */
    uint8_t proto;          /* 6, 17, 1, 58, or an IPv6 ext header */
    unsigned int ihl;       /* IPv4 header bytes (20..60) */
    uint16_t frag;          /* IPv4 flags+offset field */
    uint16_t sport;
    unsigned int len;       /* whole frame */
} FrameSpec;

static FrameSpec spec_v4(uint8_t proto, unsigned int len)
{
    FrameSpec s = {
        .dst = peer_mac, .ipver = 4, .proto = proto, .ihl = 20,
        .sport = GUEST_PORT, .len = len,
    };
    return s;
}

static FrameSpec spec_v6(uint8_t proto, unsigned int len)
{
    FrameSpec s = {
        .dst = peer_mac, .ipver = 6, .proto = proto,
        .sport = GUEST_PORT, .len = len,
    };
    return s;
}

/* Builds a frame; the payload is a pattern from @seed.  Returns its L4 offset. */
static unsigned int build(uint8_t *buf, const FrameSpec *s, unsigned int seed)
{
    unsigned int off = 14, l4 = 0, i;

    memset(buf, 0, s->len);
    memcpy(buf, s->dst, 6);
    memcpy(buf + 6, guest_mac, 6);
    if (s->vlan) {
        put16(buf + 12, 0x8100);
        put16(buf + 14, 42);
        off = 18;
    }
    if (s->ipver == 4) {
        put16(buf + off - 2, 0x0800);
        buf[off] = 0x40 | (s->ihl / 4);
        put16(buf + off + 2, s->len - off);
        put16(buf + off + 6, s->frag);
        buf[off + 8] = 64;
        buf[off + 9] = s->proto;
        memcpy(buf + off + 12, guest_ip4, 4);
        memcpy(buf + off + 16, peer_ip4, 4);
        l4 = off + s->ihl;
    } else if (s->ipver == 6) {
        put16(buf + off - 2, 0x86dd);
        buf[off] = 0x60;
        put16(buf + off + 4, s->len - off - 40);
        buf[off + 6] = s->proto;
        buf[off + 7] = 64;
        memcpy(buf + off + 8, guest_ip6, 16);
        memcpy(buf + off + 24, peer_ip6, 16);
        l4 = off + 40;
    } else {
        put16(buf + off - 2, 0x0806);
        l4 = off;
    }
    if (s->ipver && (s->proto == 6 || s->proto == 17)) {
        put16(buf + l4, s->sport);
        put16(buf + l4 + 2, PEER_PORT);
        if (s->proto == 6) {
            buf[l4 + 12] = 5 << 4;
        } else {
            put16(buf + l4 + 4, s->len - l4);
        }
    }
    for (i = l4 + 20; i < s->len; i++) {
        buf[i] = (uint8_t)(i * 7 + seed);
    }
    return l4;
}

static void make_fast4(Env *e, uint8_t kind)
{
    be_filter(e, XNA_OP_ADD, 0, kind, guest_ip4, 4, g_htons(GUEST_PORT));
    guest_ctrl(e);
}

static void make_fast6(Env *e, uint8_t kind)
{
    be_filter(e, XNA_OP_ADD, 0, kind, guest_ip6, 16, g_htons(GUEST_PORT));
    guest_ctrl(e);
}

static enum xna_front_tx_verdict decide1(Env *e, unsigned int vi,
                                   const uint8_t *buf, unsigned int len)
{
    struct xna_frag fr = { buf, len };

    return xna_front_tx_decide(xna_front_vi(e->f, vi), &fr, 1, len, 0);
}

static int send1(Env *e, unsigned int vi, const uint8_t *buf,
                 unsigned int len)
{
    struct xna_frag fr = { buf, len };

    return xna_front_tx_frame(xna_front_vi(e->f, vi), &fr, 1, len, NULL, false);
}

/* ---------------------------------------------------------------------
 * Layout and keys
 */

static void test_layout(void)
{
    struct xna_layout l;
    uint32_t page;
    uint16_t off;

    g_assert_cmpint(xna_layout_init(&l, 2, 256, 512), ==, 0);
    g_assert_cmpuint(l.tx_ring_pages, ==, 1);
    g_assert_cmpuint(l.rx_ring_pages, ==, 2);
    g_assert_cmpuint(l.vi_pages, ==, 4);
    g_assert_cmpuint(l.pool_pages_per_vi, ==, 384);
    g_assert_cmpuint(l.pool_pages, ==, 768);
    g_assert_cmpuint(l.pool_dir_pages, ==, 1);
    g_assert_cmpuint(l.dir_base, ==, 9);
    g_assert_cmpuint(l.pool_base, ==, 10);
    g_assert_cmpuint(l.total_pages, ==, 10 + 768);
    g_assert_cmpuint(xna_layout_vi_shared_page(&l, 1), ==, 5);
    g_assert_cmpuint(xna_layout_tx_ring_page(&l, 1, 0), ==, 6);
    g_assert_cmpuint(xna_layout_rx_ring_page(&l, 1, 1), ==, 8);

    /* TX slot s: buffer s; RX slot s: buffer tx_entries + s */
    xna_layout_tx_buf(&l, 1, 3, &page, &off);
    g_assert_cmpuint(page, ==, 384 + 1);
    g_assert_cmpuint(off, ==, 2048);
    xna_layout_rx_buf(&l, 0, 0, &page, &off);
    g_assert_cmpuint(page, ==, 128);
    g_assert_cmpuint(off, ==, 0);
    xna_layout_rx_buf(&l, 1, 511, &page, &off);
    g_assert_cmpuint(page, ==, 384 + 383);
    g_assert_cmpuint(off, ==, 2048);
    /* indices are free-running */
    xna_layout_tx_buf(&l, 0, 256 + 5, &page, &off);
    g_assert_cmpuint(page, ==, 2);
    g_assert_cmpuint(off, ==, 2048);

    /* 16 VIs x 4096 + 4096 entries: the largest pool */
    g_assert_cmpint(xna_layout_init(&l, 16, 4096, 4096), ==, 0);
    g_assert_cmpuint(l.pool_pages, ==, 65536);
    g_assert_cmpuint(l.pool_dir_pages, ==, 64);

    g_assert_cmpint(xna_layout_init(&l, 0, 256, 256), ==, -EINVAL);
    g_assert_cmpint(xna_layout_init(&l, 17, 256, 256), ==, -EINVAL);
    g_assert_cmpint(xna_layout_init(&l, 1, 128, 256), ==, -EINVAL);
    g_assert_cmpint(xna_layout_init(&l, 1, 256, 8192), ==, -EINVAL);
    g_assert_cmpint(xna_layout_init(&l, 1, 300, 256), ==, -EINVAL);
}

static void test_layout_choose(void)
{
    struct xna_backend_info bi;
    struct xna_layout l;

    default_bi(&bi);
    bi.max_vis = 2;
    bi.max_tx_ring_entries = 1024;
    bi.max_rx_ring_entries = 512;
    bi.max_pool_pages = 65536;
    g_assert_cmpint(xna_layout_choose(&l, &bi, 8, 3000, 3000), ==, 0);
    g_assert_cmpuint(l.num_vis, ==, 2);
    g_assert_cmpuint(l.tx_entries, ==, 1024);
    g_assert_cmpuint(l.rx_entries, ==, 512);

    /* rounding down to a power of two, minimum 256 */
    g_assert_cmpint(xna_layout_choose(&l, &bi, 0, 700, 0), ==, 0);
    g_assert_cmpuint(l.num_vis, ==, 1);
    g_assert_cmpuint(l.tx_entries, ==, 512);
    g_assert_cmpuint(l.rx_entries, ==, 256);

    /* the pool must fit: rings shrink first, then VIs */
    bi.max_pool_pages = 600;
    g_assert_cmpint(xna_layout_choose(&l, &bi, 2, 1024, 512), ==, 0);
    g_assert_cmpuint(l.num_vis, ==, 2);
    g_assert_cmpuint(l.pool_pages, <=, 600);
    g_assert_cmpuint(l.tx_entries, ==, 256);
    g_assert_cmpuint(l.rx_entries, ==, 256);
    bi.max_pool_pages = 300;
    g_assert_cmpint(xna_layout_choose(&l, &bi, 2, 256, 256), ==, 0);
    g_assert_cmpuint(l.num_vis, ==, 1);
    bi.max_pool_pages = 255;
    g_assert_cmpint(xna_layout_choose(&l, &bi, 1, 256, 256), ==, -ENOSPC);
}

typedef struct KeyStore {
    GHashTable *h;
    const char *fail_key;
} KeyStore;

static int ks_read(void *opaque, const char *key, char *buf, size_t len)
{
    KeyStore *ks = opaque;
    const char *v = g_hash_table_lookup(ks->h, key);

    if (!v) {
        return -ENOENT;
    }
    g_strlcpy(buf, v, len);
    return 0;
}

static int ks_write(void *opaque, const char *key, const char *value)
{
    KeyStore *ks = opaque;

    if (ks->fail_key && !strcmp(key, ks->fail_key)) {
        return -EAGAIN;
    }
    g_assert_false(g_hash_table_contains(ks->h, key));
    g_hash_table_insert(ks->h, g_strdup(key), g_strdup(value));
    return 0;
}

static KeyStore *ks_backend(void)
{
    KeyStore *ks = g_new0(KeyStore, 1);

    ks->h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
#define SET(k, v) g_hash_table_insert(ks->h, g_strdup(k), g_strdup(v))
    SET("protocol-version", "1");
    SET("generation", "18446744073709551615");
    SET("max-vis", "4");
    SET("max-filters", "1024");
    SET("max-tx-ring-entries", "1024");
    SET("max-rx-ring-entries", "4096");
    SET("max-pool-pages", "8192");
    SET("mac", "00:16:3E:0a:0b:0c");
    SET("vif", "3");
    SET("nic", "loopback");
    SET("mtu", "1500");
    SET("feature-csum-offload", "1");
    SET("feature-sg", "1");
#undef SET
    return ks;
}

static void ks_free(KeyStore *ks)
{
    g_hash_table_destroy(ks->h);
    g_free(ks);
}

static int parse_with(const char *key, const char *value)
{
    KeyStore *ks = ks_backend();
    struct xna_backend_info bi;
    int r;

    if (value) {
        g_hash_table_insert(ks->h, g_strdup(key), g_strdup(value));
    } else {
        g_hash_table_remove(ks->h, key);
    }
    r = xna_backend_info_parse(&bi, ks_read, ks);
    ks_free(ks);
    return r;
}

static void test_backend_info(void)
{
    KeyStore *ks = ks_backend();
    struct xna_backend_info bi;
    static const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0x0a, 0x0b, 0x0c };
    uint8_t m[6];
    uint64_t v;

    g_assert_cmpint(xna_backend_info_parse(&bi, ks_read, ks), ==, 0);
    g_assert_cmpuint(bi.protocol_version, ==, 1);
    g_assert_cmpuint(bi.generation, ==, G_MAXUINT64);
    g_assert_cmpuint(bi.max_vis, ==, 4);
    g_assert_cmpuint(bi.max_filters, ==, 1024);
    g_assert_cmpuint(bi.max_tx_ring_entries, ==, 1024);
    g_assert_cmpuint(bi.max_rx_ring_entries, ==, 4096);
    g_assert_cmpuint(bi.max_pool_pages, ==, 8192);
    g_assert_true(bi.has_mac);
    g_assert_cmpmem(bi.mac, 6, mac, 6);
    g_assert_cmpint(bi.vif, ==, 3);
    g_assert_cmpstr(bi.nic, ==, "loopback");
    g_assert_cmpuint(bi.mtu, ==, 1500);
    g_assert_true(bi.csum_offload);
    g_assert_true(bi.sg);

    /* optional keys */
    g_hash_table_remove(ks->h, "mac");
    g_hash_table_remove(ks->h, "mtu");
    g_hash_table_remove(ks->h, "feature-sg");
    g_hash_table_remove(ks->h, "feature-csum-offload");
    g_hash_table_remove(ks->h, "max-filters");
    g_hash_table_remove(ks->h, "nic");
    g_hash_table_insert(ks->h, g_strdup("vif"), g_strdup("-1"));
    g_assert_cmpint(xna_backend_info_parse(&bi, ks_read, ks), ==, 0);
    g_assert_false(bi.has_mac);
    g_assert_cmpuint(bi.mtu, ==, 1500);
    g_assert_false(bi.sg);
    g_assert_false(bi.csum_offload);
    g_assert_cmpint(bi.vif, ==, -1);
    g_assert_cmpstr(bi.nic, ==, "");
    g_hash_table_remove(ks->h, "vif");
    g_assert_cmpint(xna_backend_info_parse(&bi, ks_read, ks), ==, 0);
    g_assert_cmpint(bi.vif, ==, -1);
    ks_free(ks);

    /* required keys and bad values */
    g_assert_cmpint(parse_with("protocol-version", NULL), ==, -ENOENT);
    g_assert_cmpint(parse_with("generation", NULL), ==, -ENOENT);
    g_assert_cmpint(parse_with("max-vis", NULL), ==, -ENOENT);
    g_assert_cmpint(parse_with("max-pool-pages", NULL), ==, -ENOENT);
    g_assert_cmpint(parse_with("protocol-version", "0"), ==, -EINVAL);
    g_assert_cmpint(parse_with("protocol-version", "2"), ==, 0);
    g_assert_cmpint(parse_with("generation", "18446744073709551616"), ==,
                    -EINVAL);
    g_assert_cmpint(parse_with("max-vis", "17"), ==, -EINVAL);
    g_assert_cmpint(parse_with("max-vis", "0"), ==, -EINVAL);
    g_assert_cmpint(parse_with("max-vis", " 4"), ==, -EINVAL);
    g_assert_cmpint(parse_with("max-vis", "4x"), ==, -EINVAL);
    g_assert_cmpint(parse_with("max-vis", ""), ==, -EINVAL);
    g_assert_cmpint(parse_with("max-tx-ring-entries", "384"), ==, -EINVAL);
    g_assert_cmpint(parse_with("max-tx-ring-entries", "128"), ==, -EINVAL);
    g_assert_cmpint(parse_with("max-rx-ring-entries", "8192"), ==, -EINVAL);
    g_assert_cmpint(parse_with("max-pool-pages", "65537"), ==, -EINVAL);
    g_assert_cmpint(parse_with("mtu", "67"), ==, -EINVAL);
    g_assert_cmpint(parse_with("mtu", "9001"), ==, -EINVAL);
    g_assert_cmpint(parse_with("feature-sg", "2"), ==, -EINVAL);
    g_assert_cmpint(parse_with("feature-sg", "9"), ==, -EINVAL);
    g_assert_cmpint(parse_with("vif", "-2"), ==, -EINVAL);
    g_assert_cmpint(parse_with("mac", "00:16:3e:0a:0b"), ==, -EINVAL);
    g_assert_cmpint(parse_with("mac", "00:16:3e:0a:0b:0c:"), ==, -EINVAL);
    g_assert_cmpint(parse_with("mac", "00-16-3e-0a-0b-0c"), ==, -EINVAL);
    g_assert_cmpint(parse_with("mac", "00:16:3e:0a:0b:0g"), ==, -EINVAL);
    g_assert_cmpint(parse_with("feature-wire-mac", "2"), ==, -EINVAL);

    /* source-ips: dotted quads and 32 hex digits, one blank apart */
    ks = ks_backend();
    g_hash_table_insert(ks->h, g_strdup("source-ips"),
                        g_strdup("10.0.0.1 255.0.9.10 "
                                 "fd000000000000000000000000000001"));
    g_assert_cmpint(xna_backend_info_parse(&bi, ks_read, ks), ==, 0);
    g_assert_cmpuint(bi.nr_src4, ==, 2);
    g_assert_cmpuint(bi.nr_src6, ==, 1);
    g_assert_cmpmem(bi.src4[0], 4, guest_ip4, 4);
    g_assert_cmpuint(bi.src4[1][0], ==, 255);
    g_assert_cmpuint(bi.src4[1][3], ==, 10);
    g_assert_cmpmem(bi.src6[0], 16, guest_ip6, 16);
    ks_free(ks);
    {
        static const char *const bad[] = {
            "", " ", "10.0.0.1 ", " 10.0.0.1", "10.0.0.1  10.0.0.2",
            "10.0.0", "10.0.0.1.2", "10.0.0.256", "10.0.0.01", "10.0.0.-1",
            "10..0.1", "fd00::1", "fd00000000000000000000000000000g",
            "fd0000000000000000000000000000011", "10.0.0.1,10.0.0.2",
        };
        GString *many = g_string_new("");
        unsigned int i;

        for (i = 0; i < G_N_ELEMENTS(bad); i++) {
            if (parse_with("source-ips", bad[i]) != -EINVAL) {
                g_test_message("source-ips '%s' accepted", bad[i]);
                g_test_fail();
            }
        }
        for (i = 0; i <= XNA_MAX_SOURCE_IPS; i++) {
            g_string_append_printf(many, "%s10.0.0.%u", i ? " " : "", i);
        }
        g_assert_cmpint(parse_with("source-ips", many->str), ==, -EINVAL);
        g_string_free(many, true);
        g_assert_cmpint(parse_with("source-ips", "0.0.0.0"), ==, 0);
    }

    g_assert_cmpint(xna_parse_mac("ff:FF:00:01:a0:0A", m), ==, 0);
    g_assert_cmpuint(m[0], ==, 0xff);
    g_assert_cmpuint(m[5], ==, 0x0a);
    g_assert_cmpint(xna_parse_u64("1", 1, &v), ==, 0);
    g_assert_cmpint(xna_parse_u64("5", 1, &v), ==, -EINVAL);
    g_assert_cmpint(xna_parse_u64("4096", 4096, &v), ==, 0);
    g_assert_cmpint(xna_parse_u64("4097", 4096, &v), ==, -EINVAL);
    g_assert_cmpint(xna_parse_u64("-1", 4096, &v), ==, -EINVAL);
}

static void test_keys(void)
{
    Env *e = env_new(2, 256, 512);
    KeyStore ks = { 0 };
    unsigned int n, expected;
    char *v;

    ks.h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_assert_cmpint(xna_front_write_keys(e->f, 12345678901ull, ks_write, &ks),
                    ==, 0);
    /* 8 device keys + 1 dir page + per VI (shared, 1 tx, 2 rx, evtchn) */
    expected = 8 + e->l.pool_dir_pages + 2 * (1 + 1 + 2 + 1);
    g_assert_cmpuint(g_hash_table_size(ks.h), ==, expected);
#define KEY(k) ((const char *)g_hash_table_lookup(ks.h, k))
    g_assert_cmpstr(KEY("protocol-version"), ==, "1");
    g_assert_cmpstr(KEY("generation"), ==, "12345678901");
    g_assert_cmpstr(KEY("ctrl-ring-ref"), ==, "1000");
    g_assert_cmpstr(KEY("event-channel"), ==, "5");
    g_assert_cmpstr(KEY("num-vis"), ==, "2");
    g_assert_cmpstr(KEY("tx-ring-entries"), ==, "256");
    g_assert_cmpstr(KEY("rx-ring-entries"), ==, "512");
    v = g_strdup_printf("%u", e->l.pool_pages);
    g_assert_cmpstr(KEY("pool-pages"), ==, v);
    g_free(v);
    v = g_strdup_printf("%u", REF_BASE + e->l.dir_base);
    g_assert_cmpstr(KEY("pool-dir-ref-0"), ==, v);
    g_free(v);
    for (n = 0; n < 2; n++) {
        char *k = g_strdup_printf("vi-%u/shared-ref", n);

        v = g_strdup_printf("%u", REF_BASE + xna_layout_vi_shared_page(&e->l, n));
        g_assert_cmpstr(KEY(k), ==, v);
        g_free(k);
        g_free(v);
        k = g_strdup_printf("vi-%u/rx-ring-ref-1", n);
        v = g_strdup_printf("%u", REF_BASE + xna_layout_rx_ring_page(&e->l, n, 1));
        g_assert_cmpstr(KEY(k), ==, v);
        g_free(k);
        g_free(v);
        k = g_strdup_printf("vi-%u/event-channel", n);
        v = g_strdup_printf("%u", VI_PORT0 + n);
        g_assert_cmpstr(KEY(k), ==, v);
        g_free(k);
        g_free(v);
    }
    g_assert_null(KEY("vi-0/rx-ring-ref-2"));
    g_assert_null(KEY("vi-2/shared-ref"));
#undef KEY
    /* the writer's error stops the walk */
    g_hash_table_remove_all(ks.h);
    ks.fail_key = "vi-1/shared-ref";
    g_assert_cmpint(xna_front_write_keys(e->f, 1, ks_write, &ks), ==, -EAGAIN);
    g_hash_table_destroy(ks.h);
    env_free(e);
}

static void test_init_pages(void)
{
    Env *e = env_new(2, 256, 256);
    struct xna_ctrl_page *c = ctrl(e);
    uint32_t *dir = e->pages[xna_layout_dir_page(&e->l, 0)];
    unsigned int n, i;

    g_assert_cmpuint(c->to_backend.prod, ==, 0);
    g_assert_cmpuint(c->to_guest.cons, ==, 0);
    for (i = 0; i < e->l.pool_pages; i++) {
        g_assert_cmpuint(dir[i], ==, REF_BASE + e->l.pool_base + i);
    }
    for (; i < XNA_POOL_REFS_PER_DIR_PAGE; i++) {
        g_assert_cmpuint(dir[i], ==, 0);
    }
    for (n = 0; n < 2; n++) {
        struct xna_vi_shared *sh = shared(e, n);

        g_assert_cmpuint(sh->tx_prod, ==, 0);
        g_assert_cmpuint(sh->rx_prod, ==, 256);        /* all posted */
        g_assert_cmpuint(sh->tx_cons, ==, 0);
        g_assert_cmpuint(sh->rx_cons, ==, 0);
        for (i = 0; i < 256; i++) {
            struct xna_desc *d = be_rx_desc(e, n, i);
            uint32_t page;
            uint16_t off;

            xna_layout_rx_buf(&e->l, n, i, &page, &off);
            g_assert_cmpuint(d->page, ==, page);
            g_assert_cmpuint(d->offset, ==, off);
            g_assert_cmpuint(d->len, ==, XNA_BUF_SIZE);
            g_assert_cmpuint(d->flags, ==, 0);
            g_assert_cmpuint(d->reserved, ==, 0);
        }
        g_assert_cmpint(xna_front_vi_state(xna_front_vi(e->f, n)), ==,
                        XNA_VI_WAIT_UP);
    }
    g_assert_null(xna_front_vi(e->f, 2));
    env_free(e);
}

static void test_create_bad_config(void)
{
    Env *e = env_new(1, 256, 256);
    struct xna_front_config cfg;
    struct xna_layout l = e->l;
    struct xna_front *f = (void *)1;

    memset(&cfg, 0, sizeof(cfg));
    cfg.layout = &l;
    cfg.pages = e->pages;
    cfg.refs = e->refs;
    cfg.vi_ports = e->vi_ports;
    cfg.backend = &e->bi;
    l.pool_pages++;                 /* not what xna_layout_init says */
    g_assert_cmpint(xna_front_create(&cfg, &f), ==, -EINVAL);
    g_assert_null(f);
    l = e->l;
    cfg.refs = NULL;
    g_assert_cmpint(xna_front_create(&cfg, &f), ==, -EINVAL);
    env_free(e);
}

/* ---------------------------------------------------------------------
 * Control channel
 */

static void test_hello(void)
{
    Env *e = env_new(2, 256, 256);
    struct xna_msg m;

    g_assert_cmpint(xna_front_state(e->f), ==, XNA_FRONT_INIT);
    g_assert_cmpint(xna_front_send_hello(e->f), ==, 0);
    g_assert_cmpint(xna_front_state(e->f), ==, XNA_FRONT_HELLO_SENT);
    g_assert_cmpuint(e->kicks[CTRL_PORT], ==, 1);
    g_assert_true(be_recv(e, &m));
    g_assert_cmpuint(m.type, ==, XNA_MSG_HELLO);
    g_assert_cmpuint(m.reserved, ==, 0);
    g_assert_cmpuint(m.id, ==, 1);
    g_assert_cmpuint(m.u.hello.version, ==, 1);
    g_assert_cmpuint(m.u.hello.nr_vis, ==, 2);
    g_assert_false(be_recv(e, &m));

    be_hello_reply(e, 2, 0);
    be_send_type(e, XNA_MSG_VI_UP, 0, 0);
    g_assert_true(xna_front_ctrl_pending(e->f));
    g_assert_cmpint(xna_front_ctrl_recv(e->f, &m), ==, 1);
    g_assert_cmpuint(m.type, ==, XNA_MSG_HELLO);
    g_assert_cmpint(xna_front_state(e->f), ==, XNA_FRONT_CONNECTING);
    g_assert_cmpuint(xna_front_num_vis(e->f), ==, 2);
    g_assert_cmpint(xna_front_ctrl_recv(e->f, &m), ==, 1);
    g_assert_cmpuint(m.type, ==, XNA_MSG_VI_UP);
    g_assert_false(xna_front_ready(e->f));      /* VI 1 not up yet */
    g_assert_cmpint(xna_front_ctrl_recv(e->f, &m), ==, 0);
    g_assert_false(xna_front_ctrl_arm(e->f));
    g_assert_cmpuint(ctrl(e)->to_guest.prod_event, ==, 2);
    be_send_type(e, XNA_MSG_VI_UP, 1, 0);
    guest_ctrl(e);
    g_assert_true(xna_front_ready(e->f));
    g_assert_cmpint(xna_front_vi_state(xna_front_vi(e->f, 1)), ==, XNA_VI_UP);
    g_assert_cmpuint(xna_front_stats(e->f)->ctrl_bad_msgs, ==, 0);
    env_free(e);
}

static void test_hello_fewer_vis(void)
{
    Env *e = env_new(3, 256, 256);
    struct xna_msg m;

    g_assert_cmpint(xna_front_send_hello(e->f), ==, 0);
    g_assert_true(be_recv(e, &m));
    /* VI_UP may even come before the reply */
    be_send_type(e, XNA_MSG_VI_UP, 0, 0);
    be_hello_reply(e, 1, 0);
    guest_ctrl(e);
    g_assert_true(xna_front_ready(e->f));
    g_assert_cmpuint(xna_front_num_vis(e->f), ==, 1);
    g_assert_cmpint(xna_front_vi_state(xna_front_vi(e->f, 2)), ==, XNA_VI_UNUSED);
    /* VI 2 is not the backend's any more */
    be_send_type(e, XNA_MSG_VI_UP, 2, 0);
    guest_ctrl(e);
    g_assert_cmpuint(xna_front_stats(e->f)->ctrl_bad_msgs, ==, 1);
    env_free(e);
}

static void test_hello_refused(void)
{
    Env *e = env_new(1, 256, 256);
    struct xna_msg m;
    uint32_t code, vi, detail;

    /* a reply before our HELLO is out of place */
    be_hello_reply(e, 1, 0);
    guest_ctrl(e);
    g_assert_cmpuint(xna_front_stats(e->f)->ctrl_bad_msgs, ==, 1);
    g_assert_cmpint(xna_front_state(e->f), ==, XNA_FRONT_INIT);

    g_assert_cmpint(xna_front_send_hello(e->f), ==, 0);
    g_assert_true(be_recv(e, &m));
    be_hello_reply(e, 0, XNA_ERR_VERSION);
    guest_ctrl(e);
    g_assert_cmpint(xna_front_state(e->f), ==, XNA_FRONT_FAILED);
    xna_front_last_error(e->f, &code, &vi, &detail);
    g_assert_cmpuint(code, ==, XNA_ERR_VERSION);
    env_free(e);

    /* more VIs than asked for */
    e = env_new(1, 256, 256);
    g_assert_cmpint(xna_front_send_hello(e->f), ==, 0);
    be_hello_reply(e, 2, 0);
    guest_ctrl(e);
    g_assert_cmpint(xna_front_state(e->f), ==, XNA_FRONT_FAILED);
    env_free(e);
}

static void test_ctrl_bad_messages(void)
{
    Env *e = env_new(2, 256, 256);
    struct xna_msg m;
    unsigned int bad = 0;

    connect_all(e);
#define EXPECT_BAD() do {                                               \
        guest_ctrl(e);                                                  \
        g_assert_cmpuint(xna_front_stats(e->f)->ctrl_bad_msgs, ==, ++bad); \
    } while (0)

    be_send_type(e, 99, 0, 0);                         /* unknown type */
    EXPECT_BAD();
    be_send_type(e, 0, 0, 0);
    EXPECT_BAD();
    be_send_type(e, XNA_MSG_VI_RESET, 0, 0);           /* wrong direction */
    EXPECT_BAD();
    memset(&m, 0, sizeof(m));
    m.type = XNA_MSG_VI_UP;
    m.reserved = 1;                                    /* reserved != 0 */
    be_send(e, &m);
    EXPECT_BAD();
    be_send_type(e, XNA_MSG_VI_UP, 7, 0);              /* no such VI */
    EXPECT_BAD();
    be_send_type(e, XNA_MSG_VI_DOWN, 2, 0);
    EXPECT_BAD();
    be_filter(e, XNA_OP_ADD, 0, 9, guest_ip4, 4, 1);   /* bad kind */
    EXPECT_BAD();
    be_filter(e, XNA_OP_ADD, 5, XNA_FILTER_IPV4_TCP, guest_ip4, 4, 1);
    EXPECT_BAD();
    be_filter(e, 3, 0, XNA_FILTER_IPV4_TCP, guest_ip4, 4, 1);  /* bad op */
    EXPECT_BAD();
    be_local_mac(e, 0, peer_mac);
    EXPECT_BAD();
    memset(&m, 0, sizeof(m));
    m.type = XNA_MSG_LINK;
    m.u.link.up = 1;
    m.u.link.mtu = 10000;
    be_send(e, &m);
    EXPECT_BAD();
    /* a VI_UP for a VI that is down and was not reset */
    be_send_type(e, XNA_MSG_VI_DOWN, 1, XNA_ERR_NIC);
    guest_ctrl(e);
    be_send_type(e, XNA_MSG_VI_UP, 1, 0);
    EXPECT_BAD();
#undef EXPECT_BAD
    /* the front survives all that */
    g_assert_cmpint(xna_front_state(e->f), ==, XNA_FRONT_READY);

    /* a prod far beyond cons breaks the FIFO */
    ctrl(e)->to_guest.prod = e->to_g_prod + XNA_CTRL_RING_SLOTS + 1;
    g_assert_cmpint(xna_front_ctrl_recv(e->f, &m), ==, -EPROTO);
    g_assert_cmpint(xna_front_state(e->f), ==, XNA_FRONT_FAILED);
    env_free(e);
}

static void test_ctrl_error_link(void)
{
    Env *e = env_new(1, 256, 256);
    struct xna_msg m;
    uint32_t code, vi, detail;

    connect_all(e);
    memset(&m, 0, sizeof(m));
    m.type = XNA_MSG_LINK;
    m.u.link.up = 0;
    m.u.link.mtu = 1500;
    be_send(e, &m);
    guest_ctrl(e);
    g_assert_false(xna_front_link_up(e->f));
    g_assert_cmpuint(xna_front_mtu(e->f), ==, 1500);

    memset(&m, 0, sizeof(m));
    m.type = XNA_MSG_ERROR;
    m.u.error.code = XNA_ERR_BAD_DESC;
    m.u.error.vi = 0;
    m.u.error.detail = 42;
    be_send(e, &m);
    g_assert_cmpint(xna_front_ctrl_recv(e->f, &m), ==, 1);
    g_assert_cmpuint(m.type, ==, XNA_MSG_ERROR);
    g_assert_cmpint(xna_front_state(e->f), ==, XNA_FRONT_FAILED);
    xna_front_last_error(e->f, &code, &vi, &detail);
    g_assert_cmpuint(code, ==, XNA_ERR_BAD_DESC);
    g_assert_cmpuint(vi, ==, 0);
    g_assert_cmpuint(detail, ==, 42);
    g_assert_cmpuint(xna_front_stats(e->f)->errors, ==, 1);
    env_free(e);
}

/* The guest's FIFO fills up; messages wait locally; the FIFO wraps. */
static void test_ctrl_fifo_full(void)
{
    Env *e = env_new(1, 256, 256);
    struct xna_msg m, got;
    unsigned int i, sent = 0, received = 0;

    memset(&m, 0, sizeof(m));
    m.type = XNA_MSG_VI_RESET;
    for (i = 0; i < XNA_CTRL_RING_SLOTS; i++) {
        m.u.vi.vi = sent++;
        g_assert_cmpint(xna_front_ctrl_send(e->f, &m), ==, 0);
    }
    g_assert_cmpuint(ctrl(e)->to_backend.prod, ==, XNA_CTRL_RING_SLOTS);
    g_assert_cmpuint(xna_front_stats(e->f)->ctrl_queued, ==, 0);
    /* full: held locally, cons_event armed */
    for (i = 0; i < XNA_CTRL_PENDING; i++) {
        m.u.vi.vi = sent++;
        g_assert_cmpint(xna_front_ctrl_send(e->f, &m), ==, 0);
    }
    g_assert_cmpuint(xna_front_stats(e->f)->ctrl_queued, ==, XNA_CTRL_PENDING);
    g_assert_cmpuint(ctrl(e)->to_backend.prod, ==, XNA_CTRL_RING_SLOTS);
    g_assert_cmpuint(ctrl(e)->to_backend.cons_event, ==, 0);
    m.u.vi.vi = 1000;
    g_assert_cmpint(xna_front_ctrl_send(e->f, &m), ==, -ENOSPC);

    /* the backend drains a few; the guest flushes in order */
    for (i = 0; i < 5; i++) {
        g_assert_true(be_recv(e, &got));
        g_assert_cmpuint(got.u.vi.vi, ==, received++);
    }
    g_assert_cmpuint(xna_front_ctrl_flush(e->f), ==, XNA_CTRL_PENDING - 5);
    g_assert_cmpuint(ctrl(e)->to_backend.prod, ==, XNA_CTRL_RING_SLOTS + 5);
    g_assert_cmpuint(ctrl(e)->to_backend.cons_event, ==, 5);
    while (received < sent) {
        if (!be_recv(e, &got)) {
            xna_front_ctrl_flush(e->f);
            g_assert_true(be_recv(e, &got));
        }
        g_assert_cmpuint(got.type, ==, XNA_MSG_VI_RESET);
        g_assert_cmpuint(got.u.vi.vi, ==, received++);
        g_assert_cmpuint(got.id, ==, received);
    }
    g_assert_cmpuint(xna_front_ctrl_flush(e->f), ==, 0);

    /* many more round trips: both FIFOs wrap many times */
    for (i = 0; i < 1000; i++) {
        m.u.vi.vi = sent++;
        g_assert_cmpint(xna_front_ctrl_send(e->f, &m), ==, 0);
        g_assert_true(be_recv(e, &got));
        g_assert_cmpuint(got.u.vi.vi, ==, received++);
        be_filter(e, i & 1 ? XNA_OP_REMOVE : XNA_OP_ADD, 0,
                  XNA_FILTER_IPV4_UDP, guest_ip4, 4, g_htons(i / 2));
        g_assert_cmpuint(guest_ctrl(e), ==, 1);
    }
    g_assert_cmpuint(xna_front_flow_count(e->f), ==, 0);
    g_assert_cmpuint(xna_front_stats(e->f)->flows_added, ==, 500);
    g_assert_cmpuint(xna_front_stats(e->f)->flows_removed, ==, 500);
    env_free(e);
}

/* Event-index notification decisions on the control channel. */
static void test_ctrl_event_index(void)
{
    Env *e = env_new(1, 256, 256);
    struct xna_msg m;

    memset(&m, 0, sizeof(m));
    m.type = XNA_MSG_VI_RESET;
    g_assert_cmpint(xna_front_ctrl_send(e->f, &m), ==, 0);          /* 0 -> 1 */
    g_assert_cmpuint(e->kicks[CTRL_PORT], ==, 1);
    /* the backend is busy: it will look at prod again by itself */
    g_assert_cmpint(xna_front_ctrl_send(e->f, &m), ==, 0);          /* 1 -> 2 */
    g_assert_cmpuint(e->kicks[CTRL_PORT], ==, 1);
    /* the backend drained up to 2 and asks to be kicked past it */
    ctrl(e)->to_backend.prod_event = 2;
    g_assert_cmpint(xna_front_ctrl_send(e->f, &m), ==, 0);          /* 2 -> 3 */
    g_assert_cmpuint(e->kicks[CTRL_PORT], ==, 2);
    g_assert_cmpint(xna_front_ctrl_send(e->f, &m), ==, 0);          /* 3 -> 4 */
    g_assert_cmpuint(e->kicks[CTRL_PORT], ==, 2);

    /* receiving: the guest kicks only when the backend waits for room */
    be_send_type(e, XNA_MSG_LINK, 1, 1500);
    be_send_type(e, XNA_MSG_LINK, 1, 1500);
    ctrl(e)->to_guest.cons_event = 1;
    guest_ctrl(e);
    g_assert_cmpuint(e->kicks[CTRL_PORT], ==, 3);
    g_assert_cmpuint(ctrl(e)->to_guest.prod_event, ==, 2);
    env_free(e);
}

/* ---------------------------------------------------------------------
 * Fast flows and local MACs
 */

static void test_flow_table(void)
{
    struct xna_backend_info bi;
    Env *e;
    GHashTable *ref = g_hash_table_new(g_direct_hash, g_direct_equal);
    GRand *rnd = g_rand_new_with_seed(42);
    unsigned int i;
    uint8_t a4[4] = { 192, 168, 0, 0 };

    default_bi(&bi);
    e = env_new_bi(2, 256, 256, &bi);
    connect_all(e);

    /* random adds and removes, checked against a reference set */
    for (i = 0; i < 20000; i++) {
        uint32_t key = g_rand_int_range(rnd, 0, 3000);
        bool add = g_rand_boolean(rnd);

        a4[2] = (uint8_t)(key >> 8);
        a4[3] = (uint8_t)key;
        be_filter(e, add ? XNA_OP_ADD : XNA_OP_REMOVE, key & 1,
                  XNA_FILTER_IPV4_TCP, a4, 4, g_htons(80));
        guest_ctrl(e);
        if (add) {
            g_hash_table_add(ref, GUINT_TO_POINTER(key + 1));
        } else {
            g_hash_table_remove(ref, GUINT_TO_POINTER(key + 1));
        }
        if (i % 1000 == 0) {
            uint32_t k;

            for (k = 0; k < 3000; k++) {
                a4[2] = (uint8_t)(k >> 8);
                a4[3] = (uint8_t)k;
                g_assert_cmpint(xna_front_flow_is_fast(e->f,
                                    XNA_FILTER_IPV4_TCP, a4, g_htons(80)),
                                ==, g_hash_table_contains(ref,
                                        GUINT_TO_POINTER(k + 1)));
            }
        }
    }
    g_assert_cmpuint(xna_front_flow_count(e->f), ==, g_hash_table_size(ref));
    /* same address, other kind or port: not fast */
    a4[2] = 0;
    a4[3] = 0;
    be_filter(e, XNA_OP_ADD, 0, XNA_FILTER_IPV4_TCP, a4, 4, g_htons(80));
    guest_ctrl(e);
    g_assert_false(xna_front_flow_is_fast(e->f, XNA_FILTER_IPV4_UDP, a4,
                                          g_htons(80)));
    g_assert_false(xna_front_flow_is_fast(e->f, XNA_FILTER_IPV4_TCP, a4,
                                          g_htons(81)));

    /* VI_DOWN forgets that VI's flows (odd keys were on VI 1) */
    be_send_type(e, XNA_MSG_VI_DOWN, 1, XNA_ERR_NIC);
    guest_ctrl(e);
    for (i = 0; i < 3000; i++) {
        a4[2] = (uint8_t)(i >> 8);
        a4[3] = (uint8_t)i;
        g_assert_cmpint(xna_front_flow_is_fast(e->f, XNA_FILTER_IPV4_TCP, a4,
                                               g_htons(80)), ==,
                        !(i & 1) && (i == 0 ||
                        g_hash_table_contains(ref, GUINT_TO_POINTER(i + 1))));
    }
    g_hash_table_destroy(ref);
    g_rand_free(rnd);
    env_free(e);
}

static void test_flow_table_full(void)
{
    Env *e = env_new(1, 256, 256);
    struct xna_front_config cfg;
    struct xna_front *f;
    unsigned int i;
    uint8_t a4[4] = { 10, 1, 0, 0 };

    /* a second front on the same pages with a small table */
    xna_front_destroy(e->f);
    memset(&cfg, 0, sizeof(cfg));
    cfg.layout = &e->l;
    cfg.pages = e->pages;
    cfg.refs = e->refs;
    cfg.ctrl_port = CTRL_PORT;
    cfg.vi_ports = e->vi_ports;
    cfg.backend = &e->bi;
    cfg.ops = &env_ops;
    cfg.opaque = e;
    cfg.max_flows = 8;
    g_assert_cmpint(xna_front_create(&cfg, &f), ==, 0);
    e->f = f;
    for (i = 0; i < 10; i++) {
        a4[3] = (uint8_t)i;
        be_filter(e, XNA_OP_ADD, 0, XNA_FILTER_IPV4_UDP, a4, 4, 1);
        guest_ctrl(e);
    }
    g_assert_cmpuint(xna_front_flow_count(f), ==, 8);
    g_assert_cmpuint(xna_front_stats(f)->flow_table_full, ==, 2);
    /* a refresh of a known flow is not an insertion */
    a4[3] = 0;
    be_filter(e, XNA_OP_ADD, 0, XNA_FILTER_IPV4_UDP, a4, 4, 1);
    guest_ctrl(e);
    g_assert_cmpuint(xna_front_stats(f)->flow_table_full, ==, 2);
    g_assert_cmpuint(xna_front_stats(f)->flows_added, ==, 8);
    env_free(e);
}

/* ---------------------------------------------------------------------
 * TX decision
 */

static void test_tx_decide(void)
{
    Env *e = env_new(1, 256, 256);
    struct xna_vi *vi = xna_front_vi(e->f, 0);
    const struct xna_front_vi_stats *st = xna_front_vi_stats(vi);
    uint8_t buf[XNA_MAX_FRAME_LEN + 100];
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
    static const uint8_t other[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x99 };
    FrameSpec s;
    struct xna_frag frags[3];
    unsigned int l4;

    /* before VI_UP */
    s = spec_v4(6, 100);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_VI_DOWN);
    connect_all(e);
    /* no filter yet: declined unparsed, whatever the frame */
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==,
                    XNA_TX_DECLINE_NOTHING_FAST);
    make_fast4(e, XNA_FILTER_IPV4_TCP);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);

    /* UDP of the same address and port is another flow */
    s = spec_v4(17, 100);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==,
                    XNA_TX_DECLINE_FLOW_NOT_FAST);
    make_fast4(e, XNA_FILTER_IPV4_UDP);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
    /* another source port */
    s.sport = GUEST_PORT + 1;
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==,
                    XNA_TX_DECLINE_FLOW_NOT_FAST);

    /* destinations */
    s = spec_v4(6, 100);
    s.dst = bcast;
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_BROADCAST);
    s.dst = mcast;
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_MULTICAST);
    s.dst = other;
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
    be_local_mac(e, XNA_OP_ADD, other);
    guest_ctrl(e);
    g_assert_true(xna_front_mac_is_local(e->f, other));
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_LOCAL_MAC);
    be_local_mac(e, XNA_OP_REMOVE, other);
    guest_ctrl(e);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);

    /* protocols */
    s = spec_v4(6, 60);
    s.ipver = 0;                                          /* ARP */
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_NOT_IP);
    s = spec_v4(1, 98);                                   /* ICMP */
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_NOT_TCP_UDP);
    s = spec_v4(6, 100);
    s.frag = 0x2000;                                      /* MF */
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_FRAGMENT);
    s.frag = 0x0010;                                      /* an offset */
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_FRAGMENT);
    s.frag = 0x4000;                                      /* DF is fine */
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
    s = spec_v4(6, 140);                                  /* IPv4 options */
    s.ihl = 60;
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
    s.vlan = true;             /* a tag: netfront (the backend sends none) */
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_NOT_IP);

    /* IPv6 */
    s = spec_v6(17, 120);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==,
                    XNA_TX_DECLINE_FLOW_NOT_FAST);
    make_fast6(e, XNA_FILTER_IPV6_UDP);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
    s.vlan = true;
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_NOT_IP);
    s = spec_v6(0, 120);                                  /* hop-by-hop */
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_IPV6_EXTHDR);
    s = spec_v6(44, 120);                                 /* fragment */
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_IPV6_EXTHDR);
    s = spec_v6(58, 120);                                 /* ICMPv6 */
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_NOT_TCP_UDP);

    /* malformed */
    g_assert_cmpint(decide1(e, 0, buf, 13), ==, XNA_TX_DECLINE_MALFORMED);
    s = spec_v4(6, 100);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, 40), ==, XNA_TX_DECLINE_MALFORMED);
    buf[14] = 0x44;                                       /* ihl 16 bytes */
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_MALFORMED);
    build(buf, &s, 0);
    buf[14] = 0x55;                                       /* version 5 */
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_MALFORMED);
    build(buf, &s, 0);
    put16(buf + 16, 200);                                 /* tot_len > frame */
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_MALFORMED);
    build(buf, &s, 0);
    put16(buf + 16, 30);                                  /* TCP truncated */
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_MALFORMED);
    build(buf, &s, 0);
    buf[34 + 12] = 4 << 4;                                /* doff 16 bytes */
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_MALFORMED);
    s = spec_v6(17, 120);
    build(buf, &s, 0);
    put16(buf + 18, 0);                                   /* payload 0 */
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_MALFORMED);
    s = spec_v4(17, 38);                                  /* UDP header cut */
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_MALFORMED);

    /* headers spread over pieces */
    s = spec_v4(6, 1000);
    l4 = build(buf, &s, 0);
    frags[0].data = buf;
    frags[0].len = 5;
    frags[1].data = buf + 5;
    frags[1].len = l4 + 3 - 5;
    frags[2].data = buf + l4 + 3;
    frags[2].len = s.len - l4 - 3;
    g_assert_cmpint(xna_front_tx_decide(vi, frags, 3, s.len, 0), ==, XNA_TX_ACCEPT);

    /* sizes: MTU 9000 here; without SG one buffer at most */
    s = spec_v4(6, XNA_MAX_FRAME_LEN);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
    s = spec_v4(6, XNA_MAX_FRAME_LEN + 1);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_TOO_BIG);
    be_send_type(e, XNA_MSG_LINK, 1, 1500);
    guest_ctrl(e);
    s = spec_v4(6, 1518);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
    s = spec_v4(6, 1519);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_TOO_BIG);

    /* link down */
    be_send_type(e, XNA_MSG_LINK, 0, 1500);
    guest_ctrl(e);
    s = spec_v4(6, 100);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_LINK_DOWN);
    be_send_type(e, XNA_MSG_LINK, 1, 1500);
    guest_ctrl(e);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);

    /*
     * A burst (GSO segments): the caller's slot count is what matters,
     * not the length (the headers say 60000 bytes, as GSO's do).
     */
    s = spec_v4(6, 1000);
    build(buf, &s, 0);
    put16(buf + 16, 60000 - 14);
    frags[0].data = buf;
    frags[0].len = 1000;
    g_assert_cmpint(xna_front_tx_decide(vi, frags, 1, 60000, 40), ==,
                    XNA_TX_ACCEPT);
    g_assert_cmpint(xna_front_tx_decide(vi, frags, 1, 60000, 257), ==,
                    XNA_TX_DECLINE_TOO_BIG);

    /* the caller's own reasons */
    xna_front_tx_count_decline(vi, XNA_TX_DECLINE_DISABLED, 100);
    xna_front_tx_count_decline(vi, XNA_TX_DECLINE_OFFLOAD, 100);
    xna_front_tx_count_decline(vi, XNA_TX_ACCEPT, 100);

    g_assert_cmpuint(st->tx_declines[XNA_TX_DECLINE_VI_DOWN], ==, 1);
    g_assert_cmpuint(st->tx_declines[XNA_TX_DECLINE_FLOW_NOT_FAST], ==, 3);
    g_assert_cmpuint(st->tx_declines[XNA_TX_DECLINE_NOTHING_FAST], ==, 1);
    g_assert_cmpuint(st->tx_declines[XNA_TX_DECLINE_BROADCAST], ==, 1);
    g_assert_cmpuint(st->tx_declines[XNA_TX_DECLINE_MULTICAST], ==, 1);
    g_assert_cmpuint(st->tx_declines[XNA_TX_DECLINE_LOCAL_MAC], ==, 1);
    g_assert_cmpuint(st->tx_declines[XNA_TX_DECLINE_NOT_IP], ==, 3);
    g_assert_cmpuint(st->tx_declines[XNA_TX_DECLINE_NOT_TCP_UDP], ==, 2);
    g_assert_cmpuint(st->tx_declines[XNA_TX_DECLINE_FRAGMENT], ==, 2);
    g_assert_cmpuint(st->tx_declines[XNA_TX_DECLINE_IPV6_EXTHDR], ==, 2);
    g_assert_cmpuint(st->tx_declines[XNA_TX_DECLINE_MALFORMED], ==, 9);
    g_assert_cmpuint(st->tx_declines[XNA_TX_DECLINE_TOO_BIG], ==, 3);
    g_assert_cmpuint(st->tx_declines[XNA_TX_DECLINE_LINK_DOWN], ==, 1);
    g_assert_cmpuint(st->tx_declines[XNA_TX_DECLINE_DISABLED], ==, 1);
    g_assert_cmpuint(st->tx_declines[XNA_TX_DECLINE_OFFLOAD], ==, 1);
    g_assert_cmpuint(st->tx_declines[XNA_TX_ACCEPT], ==, 0);
    g_assert_cmpuint(st->tx_slow_packets, ==, 32);
    g_assert_cmpstr(xna_front_tx_verdict_name(XNA_TX_DECLINE_RING_FULL), ==,
                    "decline_ring_full");
    g_assert_cmpstr(xna_front_tx_verdict_name(XNA_TX_NR_VERDICTS), ==, "unknown");
    env_free(e);
}

/*
 * Until the backend announces a filter or a WIRE_MAC, and again once its
 * last filter went, nothing can be fast: every frame is declined without
 * a parse (decline_nothing_fast), a GSO packet remembers no flow.
 */
static void test_tx_nothing_fast(void)
{
    Env *e = env_new(1, 256, 256);
    struct xna_vi *vi = xna_front_vi(e->f, 0);
    const struct xna_front_vi_stats *st = xna_front_vi_stats(vi);
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    uint8_t buf[200], gso[200];
    struct xna_frag fr = { gso, sizeof(gso) };
    FrameSpec s;

    connect_all(e);
    s = spec_v4(17, 100);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==,
                    XNA_TX_DECLINE_NOTHING_FAST);
    s.dst = bcast;
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==,
                    XNA_TX_DECLINE_NOTHING_FAST);
    /* what is checked before the parse still counts as itself */
    g_assert_cmpint(decide1(e, 0, buf, 13), ==, XNA_TX_DECLINE_MALFORMED);
    g_assert_cmpuint(st->tx_declines[XNA_TX_DECLINE_NOTHING_FAST], ==, 2);
    g_assert_cmpuint(st->tx_slow_packets, ==, 3);

    /* a filter: frames are parsed again, whatever their flow */
    make_fast4(e, XNA_FILTER_IPV4_UDP);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_BROADCAST);
    s = spec_v4(17, 100);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
    s.sport = GUEST_PORT + 1;
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==,
                    XNA_TX_DECLINE_FLOW_NOT_FAST);

    /* the last filter gone: nothing fast again */
    be_filter(e, XNA_OP_REMOVE, 0, XNA_FILTER_IPV4_UDP, guest_ip4, 4,
              g_htons(GUEST_PORT));
    guest_ctrl(e);
    g_assert_cmpuint(xna_front_flow_count(e->f), ==, 0);
    s = spec_v4(17, 100);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==,
                    XNA_TX_DECLINE_NOTHING_FAST);

    /* a GSO packet then: counted, and its flow not remembered */
    s = spec_v4(17, sizeof(gso));
    build(gso, &s, 0);
    xna_front_tx_slow_gso(vi, &fr, 1, 60000);
    g_assert_cmpuint(st->tx_declines[XNA_TX_DECLINE_GSO], ==, 1);
    make_fast4(e, XNA_FILTER_IPV4_UDP);
    s = spec_v4(17, 100);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
    env_free(e);
}

/*
 * A GSO packet that netfront sends whole takes its flow's single frames
 * with it (they would overtake or trail it through the VI); other flows,
 * bursts and, once a VI has remembered XNA_TX_BULK_FLOWS newer flows,
 * the flow itself go back to the VI.
 */
static void test_tx_slow_gso(void)
{
    Env *e = env_new(1, 256, 256);
    struct xna_vi *vi = xna_front_vi(e->f, 0);
    const struct xna_front_vi_stats *st = xna_front_vi_stats(vi);
    uint8_t gso[200], buf[200];
    struct xna_frag fr = { gso, sizeof(gso) };
    FrameSpec s;
    unsigned int i;

    connect_all(e);
    make_fast4(e, XNA_FILTER_IPV4_TCP);
    make_fast4(e, XNA_FILTER_IPV4_UDP);
    s = spec_v4(6, 100);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);

    /* the headers of a 60000-byte TCP GSO packet of the fast flow */
    s = spec_v4(6, sizeof(gso));
    build(gso, &s, 0);
    put16(gso + 16, 60000 - 14);
    xna_front_tx_slow_gso(vi, &fr, 1, 60000);
    g_assert_cmpuint(st->tx_declines[XNA_TX_DECLINE_GSO], ==, 1);
    g_assert_cmpuint(st->tx_slow_bytes, ==, 60000);

    s = spec_v4(6, 100);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_GSO);
    g_assert_cmpuint(st->tx_declines[XNA_TX_DECLINE_GSO], ==, 2);
    /* UDP from the same address and port is another flow */
    s = spec_v4(17, 100);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
    /* a burst the caller segments itself is its business */
    fr.len = 100;
    g_assert_cmpint(xna_front_tx_decide(vi, &fr, 1, 60000, 40), ==,
                    XNA_TX_ACCEPT);

    /* a GSO packet of a slow flow is only counted */
    s = spec_v4(6, sizeof(gso));
    s.sport = GUEST_PORT + 100;
    build(gso, &s, 0);
    put16(gso + 16, 60000 - 14);
    fr.len = sizeof(gso);
    xna_front_tx_slow_gso(vi, &fr, 1, 60000);
    g_assert_cmpuint(st->tx_declines[XNA_TX_DECLINE_GSO], ==, 3);
    be_filter(e, XNA_OP_ADD, 0, XNA_FILTER_IPV4_TCP, guest_ip4, 4,
              g_htons(GUEST_PORT + 100));
    guest_ctrl(e);
    s = spec_v4(6, 100);
    s.sport = GUEST_PORT + 100;
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);

    /* XNA_TX_BULK_FLOWS newer bulk flows push the first one out */
    for (i = 1; i <= XNA_TX_BULK_FLOWS; i++) {
        be_filter(e, XNA_OP_ADD, 0, XNA_FILTER_IPV4_TCP, guest_ip4, 4,
                  g_htons(GUEST_PORT + i));
        guest_ctrl(e);
        s = spec_v4(6, sizeof(gso));
        s.sport = GUEST_PORT + i;
        build(gso, &s, 0);
        put16(gso + 16, 60000 - 14);
        xna_front_tx_slow_gso(vi, &fr, 1, 60000);
        /* the same flow again takes no second place */
        xna_front_tx_slow_gso(vi, &fr, 1, 60000);
        s = spec_v4(6, 100);
        build(buf, &s, 0);
        g_assert_cmpint(decide1(e, 0, buf, s.len), ==,
                        i < XNA_TX_BULK_FLOWS ? XNA_TX_DECLINE_GSO :
                        XNA_TX_ACCEPT);
    }
    for (i = 1; i <= XNA_TX_BULK_FLOWS; i++) {
        s = spec_v4(6, 100);
        s.sport = GUEST_PORT + i;
        build(buf, &s, 0);
        g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_GSO);
    }
    g_assert_cmpstr(xna_front_tx_verdict_name(XNA_TX_DECLINE_GSO), ==,
                    "decline_gso");
    env_free(e);
}

static void test_tx_decide_no_sg(void)
{
    struct xna_backend_info bi;
    Env *e;
    uint8_t buf[4000];
    FrameSpec s;

    default_bi(&bi);
    bi.sg = false;
    e = env_new_bi(1, 256, 256, &bi);
    connect_all(e);
    make_fast4(e, XNA_FILTER_IPV4_TCP);
    s = spec_v4(6, 2048);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
    g_assert_cmpint(send1(e, 0, buf, s.len), >=, 0);
    s = spec_v4(6, 2049);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_TOO_BIG);
    g_assert_cmpint(send1(e, 0, buf, s.len), ==, -EINVAL);
    env_free(e);
}

static void test_tx_local_mac_overflow(void)
{
    Env *e = env_new(1, 256, 256);
    uint8_t buf[200], mac[6] = { 0x02, 0, 0, 0, 0, 0 };
    FrameSpec s = spec_v4(6, 100);
    unsigned int i;

    connect_all(e);
    make_fast4(e, XNA_FILTER_IPV4_TCP);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
    for (i = 0; i <= XNA_MAX_LOCAL_MACS; i++) {
        mac[4] = (uint8_t)(i >> 8);
        mac[5] = (uint8_t)i;
        be_local_mac(e, XNA_OP_ADD, mac);
        guest_ctrl(e);
    }
    g_assert_cmpuint(xna_front_stats(e->f)->local_mac_overflow, ==, 1);
    /* the guest no longer knows who is local: it declines everything */
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_LOCAL_MAC);
    env_free(e);
}

/*
 * WIRE_MAC: TCP/UDP to a host on the NIC's side takes the VI before its
 * flow is learned; co-resident (LOCAL_MAC), group and unknown
 * destinations do not; the messages are checked and bounded.
 */
static void test_tx_wire_mac(void)
{
    struct xna_backend_info bi;
    Env *e;
    struct xna_vi *vi;
    const struct xna_front_stats *fs;
    uint8_t buf[200], mac[6] = { 0x02, 0, 0, 0, 0, 0 };
    static const uint8_t other[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x99 };
    static const uint8_t group[6] = { 0x01, 0x16, 0x3e, 0x00, 0x00, 0x02 };
    KeyStore ks = { 0 };
    FrameSpec s = spec_v4(17, 100);
    struct xna_msg m;
    uint64_t bad;
    unsigned int i;

    default_bi(&bi);
    bi.wire_mac = true;
    bi.has_mac = true;
    memcpy(bi.mac, guest_mac, 6);
    e = env_new_bi(1, 256, 256, &bi);
    vi = xna_front_vi(e->f, 0);
    fs = xna_front_stats(e->f);
    ks.h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_assert_cmpint(xna_front_write_keys(e->f, 1, ks_write, &ks), ==, 0);
    g_assert_cmpstr(g_hash_table_lookup(ks.h, "feature-wire-mac"), ==, "1");
    g_hash_table_destroy(ks.h);

    connect_all(e);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==,
                    XNA_TX_DECLINE_NOTHING_FAST);
    be_wire_mac(e, XNA_OP_ADD, peer_mac);
    guest_ctrl(e);
    g_assert_cmpuint(fs->wire_macs_added, ==, 1);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
    g_assert_cmpuint(xna_front_vi_stats(vi)->tx_wire_packets, ==, 1);
    /* TCP and IPv6 too; not ARP, not another host */
    s = spec_v6(6, 100);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
    s = spec_v4(6, 60);
    s.ipver = 0;
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_NOT_IP);
    s = spec_v4(17, 100);
    s.dst = other;
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==,
                    XNA_TX_DECLINE_FLOW_NOT_FAST);
    /* only what the backend's policy passes: the guest's own source MAC */
    s = spec_v4(17, 100);
    build(buf, &s, 0);
    buf[11] ^= 1;
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==,
                    XNA_TX_DECLINE_FLOW_NOT_FAST);
    /* a co-resident guest's MAC wins over the wire's */
    s = spec_v4(17, 100);
    build(buf, &s, 0);
    be_local_mac(e, XNA_OP_ADD, peer_mac);
    guest_ctrl(e);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_LOCAL_MAC);
    be_local_mac(e, XNA_OP_REMOVE, peer_mac);
    guest_ctrl(e);
    /* a learned flow is fast for its flow, not for its MAC */
    make_fast4(e, XNA_FILTER_IPV4_UDP);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
    g_assert_cmpuint(xna_front_vi_stats(vi)->tx_wire_packets, ==, 2);

    /* malformed: a group address, an unknown op, padding */
    bad = fs->ctrl_bad_msgs;
    be_wire_mac(e, XNA_OP_ADD, group);
    be_wire_mac(e, 3, other);
    memset(&m, 0, sizeof(m));
    m.type = XNA_MSG_WIRE_MAC;
    m.u.local_mac.op = XNA_OP_ADD;
    memcpy(m.u.local_mac.mac, other, 6);
    m.u.local_mac.pad[1] = 1;
    be_send(e, &m);
    guest_ctrl(e);
    g_assert_cmpuint(fs->ctrl_bad_msgs, ==, bad + 3);
    s.dst = other;
    s.sport = GUEST_PORT + 1;
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==,
                    XNA_TX_DECLINE_FLOW_NOT_FAST);

    /* bounded: the adds beyond the table are dropped, the others kept */
    for (i = 0; i < XNA_MAX_WIRE_MACS + 1; i++) {
        mac[5] = (uint8_t)i;
        be_wire_mac(e, XNA_OP_ADD, mac);
        guest_ctrl(e);
    }
    g_assert_cmpuint(fs->wire_mac_overflow, ==, 2);   /* peer_mac is one */
    s = spec_v4(17, 100);
    s.sport = GUEST_PORT + 1;
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);

    /* removed: back to the flow rule */
    be_wire_mac(e, XNA_OP_REMOVE, peer_mac);
    guest_ctrl(e);
    g_assert_cmpuint(fs->wire_macs_removed, ==, 1);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==,
                    XNA_TX_DECLINE_FLOW_NOT_FAST);
    env_free(e);

    /* source-ips: only those addresses, a family without any: none */
    default_bi(&bi);
    bi.wire_mac = true;
    bi.has_mac = true;
    memcpy(bi.mac, guest_mac, 6);
    bi.nr_src4 = 1;
    memcpy(bi.src4[0], guest_ip4, 4);
    e = env_new_bi(1, 256, 256, &bi);
    connect_all(e);
    be_wire_mac(e, XNA_OP_ADD, peer_mac);
    guest_ctrl(e);
    s = spec_v4(17, 100);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
    buf[14 + 15] ^= 1;                  /* another source address */
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==,
                    XNA_TX_DECLINE_FLOW_NOT_FAST);
    s = spec_v6(17, 100);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==,
                    XNA_TX_DECLINE_FLOW_NOT_FAST);
    env_free(e);

    /* No mac key: the rule is off (the key says "0"). */
    default_bi(&bi);
    bi.wire_mac = true;
    e = env_new_bi(1, 256, 256, &bi);
    ks.h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_assert_cmpint(xna_front_write_keys(e->f, 1, ks_write, &ks), ==, 0);
    g_assert_cmpstr(g_hash_table_lookup(ks.h, "feature-wire-mac"), ==, "0");
    g_hash_table_destroy(ks.h);
    env_free(e);

    /* Not offered: no key, and the message is out of place. */
    e = env_new(1, 256, 256);
    fs = xna_front_stats(e->f);
    ks.h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_assert_cmpint(xna_front_write_keys(e->f, 1, ks_write, &ks), ==, 0);
    g_assert_null(g_hash_table_lookup(ks.h, "feature-wire-mac"));
    g_hash_table_destroy(ks.h);
    connect_all(e);
    be_wire_mac(e, XNA_OP_ADD, peer_mac);
    guest_ctrl(e);
    g_assert_cmpuint(fs->ctrl_bad_msgs, ==, 1);
    s = spec_v4(17, 100);
    build(buf, &s, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==,
                    XNA_TX_DECLINE_NOTHING_FAST);
    env_free(e);
}

/* ---------------------------------------------------------------------
 * TX frames
 */

static void test_tx_chains(void)
{
    static const unsigned int lens[] = {
        60, 61, 64, 128, 1514, 1518, 2047, 2048, 2049, 4095, 4096, 4097,
        6000, 8192, 8193, 9000, 9017, 9018,
    };
    Env *e = env_new(1, 256, 256);
    struct xna_vi *vi = xna_front_vi(e->f, 0);
    uint8_t buf[XNA_MAX_FRAME_LEN];
    uint32_t cons = 0;
    unsigned int i;
    Frame *fr = g_new(Frame, 1);

    connect_all(e);
    make_fast4(e, XNA_FILTER_IPV4_UDP);
    for (i = 0; i < G_N_ELEMENTS(lens); i++) {
        FrameSpec s = spec_v4(17, lens[i]);
        uint32_t prod0 = shared(e, 0)->tx_prod, k;

        build(buf, &s, i);
        g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
        g_assert_cmpint(send1(e, 0, buf, s.len), >=, 0);
        g_assert_cmpuint(shared(e, 0)->tx_prod - prod0, ==,
                         xna_front_tx_slots(lens[i]));
        for (k = prod0; k < shared(e, 0)->tx_prod; k++) {
            const struct xna_desc *d = be_tx_desc(e, 0, k);

            g_assert_cmpuint(d->len, ==,
                             k + 1 < shared(e, 0)->tx_prod ? XNA_BUF_SIZE :
                             lens[i] - (k - prod0) * XNA_BUF_SIZE);
        }
        g_assert_true(be_tx_take(e, 0, &cons, fr));
        g_assert_cmpuint(fr->len, ==, lens[i]);
        g_assert_cmpuint(fr->ndesc, ==, xna_front_tx_slots(lens[i]));
        g_assert_cmpmem(fr->data, fr->len, buf, lens[i]);
        g_assert_false(be_tx_take(e, 0, &cons, fr));
        be_tx_complete(e, 0, cons);
    }
    g_assert_cmpuint(xna_front_vi_stats(vi)->tx_fast_packets, ==, G_N_ELEMENTS(lens));
    /* bad frames */
    g_assert_cmpint(send1(e, 0, buf, 13), ==, -EINVAL);
    g_assert_cmpint(send1(e, 0, buf, XNA_MAX_FRAME_LEN + 1), ==, -EINVAL);
    {
        struct xna_frag two[2] = { { buf, 100 }, { buf, 100 } };
        struct xna_tx_meta meta = { true, 190, 9 };

        g_assert_cmpint(xna_front_tx_frame(vi, two, 2, 150, NULL, false), ==,
                        -EINVAL);
        g_assert_cmpint(xna_front_tx_frame(vi, two, 2, 200, &meta, false), ==,
                        -EINVAL);
    }
    g_assert_cmpuint(xna_front_vi_stats(vi)->tx_errors, ==, 4);
    g_free(fr);
    env_free(e);
}

/* A frame built from many small pieces, crossing buffer boundaries. */
static void test_tx_pieces(void)
{
    Env *e = env_new(1, 256, 256);
    struct xna_vi *vi = xna_front_vi(e->f, 0);
    uint8_t buf[9018];
    struct xna_frag frags[40];
    FrameSpec s = spec_v4(6, 9018);
    unsigned int n = 0, off = 0;
    uint32_t cons = 0;
    Frame *fr = g_new(Frame, 1);

    connect_all(e);
    make_fast4(e, XNA_FILTER_IPV4_TCP);
    build(buf, &s, 3);
    while (off < s.len) {
        unsigned int len = MIN(s.len - off, 54 + n * 17);

        frags[n].data = buf + off;
        frags[n].len = len;
        off += len;
        n++;
    }
    g_assert_cmpuint(n, <=, G_N_ELEMENTS(frags));
    g_assert_cmpint(xna_front_tx_decide(vi, frags, n, s.len, 0), ==, XNA_TX_ACCEPT);
    g_assert_cmpint(xna_front_tx_frame(vi, frags, n, s.len, NULL, false), >=, 0);
    g_assert_true(be_tx_take(e, 0, &cons, fr));
    g_assert_cmpmem(fr->data, fr->len, buf, s.len);
    g_free(fr);
    env_free(e);
}

/* Ring full, reclaim, and indices wrapping the ring many times. */
static void test_tx_ring_wrap(void)
{
    Env *e = env_new(1, 256, 256);
    struct xna_vi *vi = xna_front_vi(e->f, 0);
    uint8_t buf[5000];
    Frame *fr = g_new(Frame, 1);
    uint32_t cons = 0;
    unsigned int i, seq_tx = 0, seq_rx = 0, len;

    connect_all(e);
    make_fast4(e, XNA_FILTER_IPV4_UDP);

    /* fill the ring with 3-slot frames: 85 fit, the 86th does not */
    for (i = 0; i < 85; i++) {
        FrameSpec s = spec_v4(17, 4500);

        build(buf, &s, seq_tx++);
        g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
        g_assert_cmpint(send1(e, 0, buf, s.len), >=, 0);
    }
    g_assert_cmpuint(xna_front_tx_free_slots(vi), ==, 1);
    {
        FrameSpec s = spec_v4(17, 4500);

        build(buf, &s, 0);
        /* a fast flow is held (back-pressure), not declined */
        g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_BUSY);
        g_assert_cmpint(send1(e, 0, buf, s.len), ==, -ENOSPC);
        /* a 1-slot frame still fits */
        s = spec_v4(17, 100);
        build(buf, &s, seq_tx++);
        g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
        g_assert_cmpint(send1(e, 0, buf, s.len), >=, 0);
    }
    g_assert_cmpuint(xna_front_tx_free_slots(vi), ==, 0);

    /* the backend consumes some: decide reclaims them */
    for (i = 0; i < 10; i++) {
        g_assert_true(be_tx_take(e, 0, &cons, fr));
        seq_rx++;
    }
    be_tx_complete(e, 0, cons);
    g_assert_cmpuint(xna_front_tx_free_slots(vi), ==, 0);
    {
        FrameSpec s = spec_v4(17, 4500);

        build(buf, &s, seq_tx++);
        g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
        g_assert_cmpuint(xna_front_tx_free_slots(vi), ==, 30);
        g_assert_cmpint(send1(e, 0, buf, s.len), >=, 0);
    }

    /* steady state over many laps, variable sizes; check each frame */
    for (i = 0; i < 5000; i++) {
        FrameSpec s;

        len = 60 + (i * 977) % 4900;
        s = spec_v4(17, len);
        build(buf, &s, seq_tx);
        if (decide1(e, 0, buf, len) != XNA_TX_ACCEPT) {
            unsigned int k;

            /* the backend catches up with a few frames */
            for (k = 0; k < 7 && be_tx_take(e, 0, &cons, fr); k++) {
                seq_rx++;
            }
            be_tx_complete(e, 0, cons);
            continue;
        }
        g_assert_cmpint(send1(e, 0, buf, len), >=, 0);
        seq_tx++;
    }
    while (be_tx_take(e, 0, &cons, fr)) {
        seq_rx++;
    }
    be_tx_complete(e, 0, cons);
    g_assert_cmpuint(seq_rx, ==, seq_tx);
    g_assert_cmpuint(shared(e, 0)->tx_prod, >, 10 * 256);
    g_assert_cmpuint(xna_front_tx_reclaim(vi), ==, 256);
    g_free(fr);
    env_free(e);
}

/* Kicks follow the backend's tx_prod_event; batches kick once. */
static void test_tx_event_index(void)
{
    Env *e = env_new(1, 256, 256);
    struct xna_vi *vi = xna_front_vi(e->f, 0);
    struct xna_frag fr;
    uint8_t buf[200];
    FrameSpec s = spec_v4(17, 100);

    connect_all(e);
    make_fast4(e, XNA_FILTER_IPV4_UDP);
    build(buf, &s, 0);
    fr.data = buf;
    fr.len = s.len;

    /* tx_prod_event 0: the first frame (0 -> 1) kicks */
    g_assert_cmpint(xna_front_tx_frame(vi, &fr, 1, s.len, NULL, false), ==,
                    XNA_TX_KICK);
    /* the backend is still busy (event stays 0): no more kicks */
    g_assert_cmpint(xna_front_tx_frame(vi, &fr, 1, s.len, NULL, false), ==, 0);
    g_assert_cmpint(xna_front_tx_frame(vi, &fr, 1, s.len, NULL, false), ==, 0);
    /* it drained up to 3 and asks for a kick past 3 */
    shared(e, 0)->tx_cons = 3;
    shared(e, 0)->tx_prod_event = 3;
    g_assert_cmpint(xna_front_tx_frame(vi, &fr, 1, s.len, NULL, false), ==,
                    XNA_TX_KICK);
    /* a batch: no decision until its end, then one kick */
    shared(e, 0)->tx_prod_event = 4;
    g_assert_cmpint(xna_front_tx_frame(vi, &fr, 1, s.len, NULL, true), ==, 0);
    g_assert_cmpint(xna_front_tx_frame(vi, &fr, 1, s.len, NULL, true), ==, 0);
    g_assert_cmpint(xna_front_tx_frame(vi, &fr, 1, s.len, NULL, false), ==,
                    XNA_TX_KICK);
    /* a batch ended by a decline: the caller asks afterwards */
    shared(e, 0)->tx_prod_event = 7;
    g_assert_cmpint(xna_front_tx_frame(vi, &fr, 1, s.len, NULL, true), ==, 0);
    g_assert_true(xna_front_tx_kick_needed(vi));
    g_assert_false(xna_front_tx_kick_needed(vi));
    /* an event far ahead (set before the ring wrapped): no kick */
    shared(e, 0)->tx_prod_event = 100;
    g_assert_cmpint(xna_front_tx_frame(vi, &fr, 1, s.len, NULL, false), ==, 0);
    g_assert_cmpuint(xna_front_vi_stats(vi)->tx_kicks, ==, 4);
    /* the guest asks for no TX completion events */
    g_assert_cmpuint(shared(e, 0)->tx_cons_event, ==, 0xffffffffu);
    env_free(e);
}

static uint16_t csum_fold_be(const uint8_t *p, unsigned int len, uint32_t sum)
{
    unsigned int i;

    for (i = 0; i + 1 < len; i += 2) {
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    }
    if (len & 1) {
        sum += (uint32_t)p[len - 1] << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)sum;
}

/* UDP/IPv4 with the pseudo-header sum in the checksum field (Linux CHECKSUM_PARTIAL) */
static void prepare_partial_udp(uint8_t *buf, unsigned int len, unsigned int l4)
{
    uint8_t ph[12];
    uint16_t s;

    memcpy(ph, buf + 14 + 12, 8);
    ph[8] = 0;
    ph[9] = 17;
    put16(ph + 10, len - l4);
    s = csum_fold_be(ph, 12, 0);
    put16(buf + l4 + 6, s);
}

static bool udp4_csum_ok(const uint8_t *buf, unsigned int len, unsigned int l4)
{
    uint8_t ph[12];
    uint32_t sum;

    memcpy(ph, buf + 14 + 12, 8);
    ph[8] = 0;
    ph[9] = 17;
    put16(ph + 10, len - l4);
    sum = csum_fold_be(ph, 12, 0);
    return csum_fold_be(buf + l4, len - l4, sum) == 0xffff;
}

static void test_tx_csum(void)
{
    struct xna_backend_info bi;
    Env *e;
    struct xna_vi *vi;
    uint8_t buf[9018];
    Frame *fr = g_new(Frame, 1);
    uint32_t cons = 0;
    unsigned int lens[] = { 60, 61, 1500, 2047, 2050, 2049, 9017, 9018 };
    unsigned int i;

    /* without csum offload, the core fills the checksum in */
    default_bi(&bi);
    bi.csum_offload = false;
    e = env_new_bi(1, 256, 256, &bi);
    vi = xna_front_vi(e->f, 0);
    connect_all(e);
    for (i = 0; i < G_N_ELEMENTS(lens); i++) {
        FrameSpec s = spec_v4(17, lens[i]);
        unsigned int l4 = build(buf, &s, i);
        struct xna_frag frags[2] = { { buf, 40 }, { buf + 40, s.len - 40 } };
        struct xna_tx_meta meta = { true, (uint16_t)l4, 6 };

        g_assert_false(udp4_csum_ok(buf, s.len, l4));
        prepare_partial_udp(buf, s.len, l4);
        g_assert_cmpint(xna_front_tx_frame(vi, frags, 2, s.len, &meta, false), >=, 0);
        g_assert_true(be_tx_take(e, 0, &cons, fr));
        g_assert_cmpuint(fr->flags & XNA_DESC_CSUM_PARTIAL, ==, 0);
        g_assert_true(udp4_csum_ok(fr->data, fr->len, l4));
        be_tx_complete(e, 0, cons);
    }
    /* the checksum field straddling two buffers */
    {
        FrameSpec s = spec_v4(17, 4000);
        unsigned int l4 = build(buf, &s, 0);
        struct xna_frag frag = { buf, s.len };
        struct xna_tx_meta meta = { true, (uint16_t)l4, 6 };
        uint8_t save[2];

        prepare_partial_udp(buf, s.len, l4);
        /* a fake "checksum" at 2047..2048: sum from l4, stored at 2047 */
        memcpy(save, buf + 2047, 2);
        meta.csum_offset = (uint16_t)(2047 - l4);
        g_assert_cmpint(xna_front_tx_frame(vi, &frag, 1, s.len, &meta, false), >=, 0);
        g_assert_true(be_tx_take(e, 0, &cons, fr));
        g_assert_cmpmem(fr->data, 2047, buf, 2047);
        g_assert_cmpmem(fr->data + 2049, s.len - 2049, buf + 2049,
                        s.len - 2049);
        g_assert_true(memcmp(fr->data + 2047, save, 2) != 0 ||
                      fr->data[2047] == 0xff);
        be_tx_complete(e, 0, cons);
    }
    g_free(fr);
    env_free(e);

    /* with csum offload: flags and offsets on the first descriptor only */
    fr = g_new(Frame, 1);
    cons = 0;
    e = env_new(1, 256, 256);
    vi = xna_front_vi(e->f, 0);
    connect_all(e);
    {
        FrameSpec s = spec_v4(17, 5000);
        unsigned int l4 = build(buf, &s, 0);
        struct xna_frag frag = { buf, s.len };
        struct xna_tx_meta meta = { true, (uint16_t)l4, 6 };

        prepare_partial_udp(buf, s.len, l4);
        g_assert_cmpint(xna_front_tx_frame(vi, &frag, 1, s.len, &meta, false), >=, 0);
        g_assert_true(be_tx_take(e, 0, &cons, fr));
        g_assert_cmpuint(fr->flags, ==, XNA_DESC_CSUM_PARTIAL | XNA_DESC_MORE);
        g_assert_cmpuint(fr->csum_start, ==, l4);
        g_assert_cmpuint(fr->csum_offset, ==, 6);
        g_assert_cmpmem(fr->data, fr->len, buf, s.len);     /* untouched */
        g_assert_cmpuint(be_tx_desc(e, 0, 1)->csum_start, ==, 0);
    }
    g_free(fr);
    env_free(e);
}

/* ---------------------------------------------------------------------
 * RX
 */

typedef struct RxLog {
    unsigned int frames;
    unsigned int bytes;
    unsigned int last_flags;
    unsigned int last_nfrags;
    uint8_t last[XNA_MAX_FRAME_LEN];
    unsigned int last_len;
    int ret;
} RxLog;

static int rx_cb(void *opaque, struct xna_vi *vi, const struct xna_frag *frags,
                 unsigned int nfrags, unsigned int len, unsigned int flags)
{
    RxLog *log = opaque;
    unsigned int i, off = 0;

    for (i = 0; i < nfrags; i++) {
        g_assert_cmpuint(frags[i].len, <=, XNA_BUF_SIZE);
        memcpy(log->last + off, frags[i].data, frags[i].len);
        off += frags[i].len;
    }
    g_assert_cmpuint(off, ==, len);
    log->last_len = len;
    log->last_flags = flags;
    log->last_nfrags = nfrags;
    log->frames++;
    log->bytes += len;
    return log->ret;
}

static void test_rx_basic(void)
{
    Env *e = env_new(1, 256, 256);
    struct xna_vi *vi = xna_front_vi(e->f, 0);
    RxLog *log = g_new0(RxLog, 1);
    uint8_t buf[XNA_MAX_FRAME_LEN];
    uint32_t cons = 0;
    FrameSpec s;
    unsigned int i;

    /* nothing happens before VI_UP */
    g_assert_cmpint(xna_front_rx_poll(vi, 64, rx_cb, log), ==, 0);
    connect_all(e);
    g_assert_false(xna_front_rx_pending(vi));
    g_assert_cmpint(xna_front_rx_poll(vi, 64, rx_cb, log), ==, 0);

    s = spec_v4(6, 100);
    build(buf, &s, 1);
    g_assert_true(be_rx_put(e, 0, &cons, buf, s.len, XNA_DESC_CSUM_VALID,
                            XNA_BUF_SIZE));
    s = spec_v4(6, 9018);
    build(buf, &s, 2);
    /* a chain of 5 buffers, with slow-path flag */
    g_assert_true(be_rx_put(e, 0, &cons, buf, s.len, XNA_DESC_SLOW_PATH,
                            XNA_BUF_SIZE));
    /* a chain of small pieces */
    s = spec_v4(17, 1000);
    build(buf, &s, 3);
    g_assert_true(be_rx_put(e, 0, &cons, buf, s.len, 0, 100));
    be_rx_publish(e, 0, cons);
    g_assert_true(xna_front_rx_pending(vi));

    /* budget 2: two frames, the third waits */
    g_assert_cmpint(xna_front_rx_poll(vi, 2, rx_cb, log), ==, 2);
    g_assert_cmpuint(log->frames, ==, 2);
    g_assert_cmpuint(log->last_len, ==, 9018);
    g_assert_cmpuint(log->last_nfrags, ==, 5);
    g_assert_cmpuint(log->last_flags, ==, XNA_DESC_SLOW_PATH);
    g_assert_cmpuint(shared(e, 0)->rx_prod, ==, 256 + 6);
    g_assert_true(xna_front_rx_pending(vi));
    g_assert_cmpint(xna_front_rx_poll(vi, 2, rx_cb, log), ==, 1);
    g_assert_cmpuint(log->last_len, ==, 1000);
    g_assert_cmpuint(log->last_nfrags, ==, 10);
    g_assert_cmpmem(log->last, 1000, buf, 1000);
    g_assert_cmpuint(shared(e, 0)->rx_prod, ==, 256 + 16);
    g_assert_false(xna_front_rx_arm(vi));
    g_assert_cmpuint(shared(e, 0)->rx_cons_event, ==, 16);

    /* reposted descriptors are whole buffers again */
    for (i = 256; i < 256 + 16; i++) {
        const struct xna_desc *d = be_rx_desc(e, 0, i);
        uint32_t page;
        uint16_t off;

        xna_layout_rx_buf(&e->l, 0, i, &page, &off);
        g_assert_cmpuint(d->page, ==, page);
        g_assert_cmpuint(d->offset, ==, off);
        g_assert_cmpuint(d->len, ==, XNA_BUF_SIZE);
        g_assert_cmpuint(d->flags, ==, 0);
    }

    /* the callback refuses a frame: counted, buffers reposted anyway */
    log->ret = -1;
    s = spec_v4(6, 60);
    build(buf, &s, 4);
    g_assert_true(be_rx_put(e, 0, &cons, buf, s.len, 0, XNA_BUF_SIZE));
    be_rx_publish(e, 0, cons);
    g_assert_cmpint(xna_front_rx_poll(vi, 64, rx_cb, log), ==, 1);
    g_assert_cmpuint(xna_front_vi_stats(vi)->rx_dropped, ==, 1);
    g_assert_cmpuint(xna_front_vi_stats(vi)->rx_fast_packets, ==, 3);
    g_assert_cmpuint(xna_front_vi_stats(vi)->rx_slow_packets, ==, 1);
    g_assert_cmpuint(xna_front_vi_stats(vi)->rx_csum_valid, ==, 1);
    g_assert_cmpuint(shared(e, 0)->rx_prod, ==, 256 + 17);
    g_free(log);
    env_free(e);
}

/* The guest checks what the backend wrote. */
static void test_rx_validation(void)
{
    Env *e = env_new(1, 256, 256);
    struct xna_vi *vi = xna_front_vi(e->f, 0);
    RxLog *log = g_new0(RxLog, 1);
    uint8_t buf[XNA_MAX_FRAME_LEN];
    uint32_t cons = 0;
    struct xna_desc *d;
    unsigned int k;
    FrameSpec s = spec_v4(6, 100);

    connect_all(e);
    build(buf, &s, 0);

    /* length over the buffer's capacity */
    d = be_rx_desc(e, 0, cons);
    g_assert_true(be_rx_put(e, 0, &cons, buf, s.len, 0, XNA_BUF_SIZE));
    d->len = XNA_BUF_SIZE + 1;
    /* a frame shorter than an Ethernet header */
    g_assert_true(be_rx_put(e, 0, &cons, buf, 13, 0, XNA_BUF_SIZE));
    /* a chain of 19 buffers */
    for (k = 0; k < 19; k++) {
        g_assert_true(be_rx_put(e, 0, &cons, buf, 100, 0, XNA_BUF_SIZE));
        be_rx_desc(e, 0, cons - 1)->flags = XNA_DESC_MORE;
    }
    be_rx_desc(e, 0, cons - 1)->flags = 0;
    /* a frame over 9018 bytes in 5 buffers */
    for (k = 0; k < 5; k++) {
        g_assert_true(be_rx_put(e, 0, &cons, buf, 2000, 0, XNA_BUF_SIZE));
        be_rx_desc(e, 0, cons - 1)->flags = k < 4 ? XNA_DESC_MORE : 0;
    }
    be_rx_desc(e, 0, cons - 5)->len = 2048;
    be_rx_desc(e, 0, cons - 4)->len = 2048;
    be_rx_desc(e, 0, cons - 3)->len = 2048;
    be_rx_desc(e, 0, cons - 2)->len = 2048;
    be_rx_desc(e, 0, cons - 1)->len = 827;
    /* and a good one */
    g_assert_true(be_rx_put(e, 0, &cons, buf, s.len, 0, XNA_BUF_SIZE));
    be_rx_publish(e, 0, cons);

    g_assert_cmpint(xna_front_rx_poll(vi, 64, rx_cb, log), ==, 5);
    g_assert_cmpuint(log->frames, ==, 1);
    /* bad: capacity, short, 19-chain (dropped whole), too long */
    g_assert_cmpuint(xna_front_vi_stats(vi)->rx_bad_frames, ==, 4);
    g_assert_cmpint(xna_front_vi_state(vi), ==, XNA_VI_UP);
    g_assert_cmpuint(shared(e, 0)->rx_prod, ==, 256 + cons);

    /* an unterminated chain waits for its end */
    g_assert_true(be_rx_put(e, 0, &cons, buf, 100, 0, XNA_BUF_SIZE));
    be_rx_desc(e, 0, cons - 1)->flags = XNA_DESC_MORE;
    be_rx_publish(e, 0, cons);
    g_assert_cmpint(xna_front_rx_poll(vi, 64, rx_cb, log), ==, 0);
    g_assert_false(xna_front_rx_arm(vi));          /* no busy loop on it */
    g_assert_true(be_rx_put(e, 0, &cons, buf, 100, 0, XNA_BUF_SIZE));
    be_rx_publish(e, 0, cons);
    g_assert_true(xna_front_rx_pending(vi));
    g_assert_cmpint(xna_front_rx_poll(vi, 64, rx_cb, log), ==, 1);
    g_assert_cmpuint(log->last_len, ==, 200);

    /* rx_cons beyond what was posted: the VI is given up */
    be_rx_publish(e, 0, shared(e, 0)->rx_prod + 1);
    g_assert_cmpint(xna_front_rx_poll(vi, 64, rx_cb, log), ==, -EPROTO);
    g_assert_cmpint(xna_front_vi_state(vi), ==, XNA_VI_FAILED);
    g_assert_cmpuint(xna_front_vi_stats(vi)->ring_errors, ==, 1);
    g_free(log);
    env_free(e);
}

static void test_rx_event_index(void)
{
    Env *e = env_new(1, 256, 256);
    struct xna_vi *vi = xna_front_vi(e->f, 0);
    RxLog *log = g_new0(RxLog, 1);
    uint8_t buf[200];
    uint32_t cons = 0;
    FrameSpec s = spec_v4(6, 100);

    connect_all(e);
    build(buf, &s, 0);
    /* the backend has buffers enough: no kick for the reposts */
    shared(e, 0)->rx_prod_event = 0;
    g_assert_true(be_rx_put(e, 0, &cons, buf, s.len, 0, XNA_BUF_SIZE));
    be_rx_publish(e, 0, cons);
    g_assert_cmpint(xna_front_rx_poll(vi, 64, rx_cb, log), ==, 1);
    g_assert_cmpuint(e->kicks[VI_PORT0], ==, 0);
    /* the backend ran out at 257 and asks to hear of new buffers */
    shared(e, 0)->rx_prod_event = 257;
    g_assert_true(be_rx_put(e, 0, &cons, buf, s.len, 0, XNA_BUF_SIZE));
    g_assert_true(be_rx_put(e, 0, &cons, buf, s.len, 0, XNA_BUF_SIZE));
    be_rx_publish(e, 0, cons);
    g_assert_cmpint(xna_front_rx_poll(vi, 64, rx_cb, log), ==, 2);
    g_assert_cmpuint(e->kicks[VI_PORT0], ==, 1);
    g_assert_cmpuint(xna_front_vi_stats(vi)->rx_kicks, ==, 1);
    /* arming: the event is what the guest has seen */
    g_assert_false(xna_front_rx_arm(vi));
    g_assert_cmpuint(shared(e, 0)->rx_cons_event, ==, 3);
    /* a frame that raced the arming is reported */
    g_assert_true(be_rx_put(e, 0, &cons, buf, s.len, 0, XNA_BUF_SIZE));
    be_rx_publish(e, 0, cons);
    g_assert_true(xna_front_rx_arm(vi));
    g_assert_true(xna_need_event(shared(e, 0)->rx_cons_event, 4, 3));
    g_free(log);
    env_free(e);
}

/* ---------------------------------------------------------------------
 * VI down, reset, unsent frames
 */

typedef struct Unsent {
    unsigned int frames;
    unsigned int lens[300];
    uint8_t first_bytes[300];
    bool csum[300];
} Unsent;

static void unsent_cb(void *opaque, const struct xna_frag *frags,
                      unsigned int nfrags, unsigned int len,
                      const struct xna_tx_meta *meta)
{
    Unsent *u = opaque;
    unsigned int i, sum = 0;

    for (i = 0; i < nfrags; i++) {
        sum += frags[i].len;
    }
    g_assert_cmpuint(sum, ==, len);
    g_assert_cmpuint(u->frames, <, G_N_ELEMENTS(u->lens));
    u->lens[u->frames] = len;
    u->first_bytes[u->frames] = ((const uint8_t *)frags[0].data)[len > 60 ? 60 : 0];
    u->csum[u->frames] = meta->csum_partial;
    u->frames++;
}

static void test_vi_reset(void)
{
    Env *e = env_new(2, 256, 256);
    struct xna_vi *vi = xna_front_vi(e->f, 1);
    Unsent *u = g_new0(Unsent, 1);
    RxLog *log = g_new0(RxLog, 1);
    uint8_t buf[5000];
    Frame *fr = g_new(Frame, 1);
    struct xna_msg m;
    uint32_t cons = 0, rxcons = 0;
    unsigned int i;

    connect_all(e);
    be_filter(e, XNA_OP_ADD, 1, XNA_FILTER_IPV4_UDP, guest_ip4, 4,
              g_htons(GUEST_PORT));
    guest_ctrl(e);
    /* 6 frames; the backend sends 2 and half of the third */
    for (i = 0; i < 6; i++) {
        FrameSpec s = spec_v4(17, 3000 + i);
        unsigned int l4 = build(buf, &s, i);
        struct xna_frag frag = { buf, s.len };
        struct xna_tx_meta meta = { i == 5, (uint16_t)l4, 6 };

        g_assert_cmpint(decide1(e, 1, buf, s.len), ==, XNA_TX_ACCEPT);
        g_assert_cmpint(xna_front_tx_frame(vi, &frag, 1, s.len, &meta, false),
                        >=, 0);
    }
    g_assert_true(be_tx_take(e, 1, &cons, fr));
    g_assert_true(be_tx_take(e, 1, &cons, fr));
    be_tx_complete(e, 1, cons + 1);

    /* VI_DOWN: TX declines, the VI's flows are gone */
    be_send_type(e, XNA_MSG_VI_DOWN, 1, XNA_ERR_BAD_DESC);
    g_assert_cmpint(xna_front_ctrl_recv(e->f, &m), ==, 1);
    g_assert_cmpuint(m.type, ==, XNA_MSG_VI_DOWN);
    g_assert_cmpuint(m.u.vi.reason, ==, XNA_ERR_BAD_DESC);
    g_assert_cmpint(xna_front_vi_state(vi), ==, XNA_VI_DOWN);
    g_assert_cmpuint(xna_vi_down_reason(vi), ==, XNA_ERR_BAD_DESC);
    g_assert_cmpuint(xna_front_flow_count(e->f), ==, 0);
    g_assert_cmpint(decide1(e, 1, buf, 3000), ==, XNA_TX_DECLINE_VI_DOWN);
    g_assert_cmpint(send1(e, 1, buf, 3000), ==, -ENETDOWN);
    /* a reset only applies to a VI that is down */
    g_assert_cmpint(xna_front_vi_reset(xna_front_vi(e->f, 0), unsent_cb, u), ==,
                    -EINVAL);

    /* reset: 4 frames come back (the half-sent one too), in order */
    g_assert_cmpint(xna_front_vi_reset(vi, unsent_cb, u), ==, 0);
    g_assert_cmpuint(u->frames, ==, 4);
    for (i = 0; i < 4; i++) {
        g_assert_cmpuint(u->lens[i], ==, 3002 + i);
        g_assert_cmpuint(u->first_bytes[i], ==, (uint8_t)(60 * 7 + 2 + i));
    }
    g_assert_false(u->csum[0]);
    g_assert_true(u->csum[3]);
    g_assert_cmpint(xna_front_vi_state(vi), ==, XNA_VI_RESETTING);
    g_assert_cmpuint(shared(e, 1)->tx_prod, ==, 0);
    g_assert_cmpuint(shared(e, 1)->rx_prod, ==, 256);
    g_assert_true(be_recv(e, &m));
    g_assert_cmpuint(m.type, ==, XNA_MSG_VI_RESET);
    g_assert_cmpuint(m.u.vi.vi, ==, 1);
    g_assert_cmpint(decide1(e, 1, buf, 3000), ==, XNA_TX_DECLINE_VI_DOWN);
    /* stale backend indices are not read while resetting */
    g_assert_cmpint(xna_front_rx_poll(vi, 64, rx_cb, log), ==, 0);

    /* the backend resets its half and sends VI_UP */
    memset((uint8_t *)shared(e, 1) + 64, 0, 64);
    cons = 0;
    be_send_type(e, XNA_MSG_VI_UP, 1, 0);
    guest_ctrl(e);
    g_assert_cmpint(xna_front_vi_state(vi), ==, XNA_VI_UP);
    be_filter(e, XNA_OP_ADD, 1, XNA_FILTER_IPV4_UDP, guest_ip4, 4,
              g_htons(GUEST_PORT));
    guest_ctrl(e);
    {
        FrameSpec s = spec_v4(17, 700);

        build(buf, &s, 9);
        g_assert_cmpint(decide1(e, 1, buf, s.len), ==, XNA_TX_ACCEPT);
        g_assert_cmpint(send1(e, 1, buf, s.len), >=, 0);
        g_assert_true(be_tx_take(e, 1, &cons, fr));
        g_assert_cmpuint(cons, ==, 1);
        g_assert_cmpmem(fr->data, fr->len, buf, s.len);
        g_assert_true(be_rx_put(e, 1, &rxcons, buf, s.len, 0, XNA_BUF_SIZE));
        be_rx_publish(e, 1, rxcons);
        g_assert_cmpint(xna_front_rx_poll(vi, 64, rx_cb, log), ==, 1);
        g_assert_cmpmem(log->last, log->last_len, buf, s.len);
    }
    g_assert_cmpuint(xna_front_vi_stats(vi)->vi_down, ==, 1);
    g_assert_cmpuint(xna_front_vi_stats(vi)->vi_resets, ==, 1);
    g_assert_cmpuint(xna_front_vi_stats(vi)->tx_unsent, ==, 4);
    g_free(u);
    g_free(log);
    g_free(fr);
    env_free(e);
}

static void test_tx_unsent_teardown(void)
{
    Env *e = env_new(1, 256, 256);
    struct xna_vi *vi = xna_front_vi(e->f, 0);
    Unsent *u = g_new0(Unsent, 1);
    uint8_t buf[3000];
    Frame *fr = g_new(Frame, 1);
    uint32_t cons = 0;
    unsigned int i;

    connect_all(e);
    make_fast4(e, XNA_FILTER_IPV4_UDP);
    /* go around the ring first */
    for (i = 0; i < 300; i++) {
        FrameSpec s = spec_v4(17, 100);

        build(buf, &s, i);
        g_assert_cmpint(send1(e, 0, buf, s.len), >=, 0);
        g_assert_true(be_tx_take(e, 0, &cons, fr));
        be_tx_complete(e, 0, cons);
    }
    for (i = 0; i < 50; i++) {
        FrameSpec s = spec_v4(17, 60 + i * 50);

        build(buf, &s, i);
        g_assert_cmpint(send1(e, 0, buf, s.len), >=, 0);
    }
    for (i = 0; i < 20; i++) {
        g_assert_true(be_tx_take(e, 0, &cons, fr));
    }
    be_tx_complete(e, 0, cons);
    /* pending: the same frames, left in the ring, not counted */
    g_assert_cmpuint(xna_front_vi_tx_pending(vi, unsent_cb, u), ==, 30);
    g_assert_cmpuint(xna_front_vi_stats(vi)->tx_unsent, ==, 0);
    g_assert_cmpuint(xna_front_vi_tx_pending(vi, NULL, NULL), ==, 30);
    /* the backend consumes 10 more: 20 left */
    for (i = 0; i < 10; i++) {
        g_assert_true(be_tx_take(e, 0, &cons, fr));
    }
    be_tx_complete(e, 0, cons);
    g_assert_cmpuint(xna_front_vi_tx_pending(vi, NULL, NULL), ==, 20);
    /* the backend takes every frame: the ring was left intact */
    for (i = 0; i < 20; i++) {
        g_assert_true(be_tx_take(e, 0, &cons, fr));
        g_assert_cmpuint(fr->len, ==, 60 + (30 + i) * 50);
    }
    g_assert_cmpuint(xna_front_vi_tx_pending(vi, NULL, NULL), ==, 20);
    be_tx_complete(e, 0, cons);
    g_assert_cmpuint(xna_front_vi_tx_pending(vi, NULL, NULL), ==, 0);
    g_assert_cmpuint(xna_front_tx_reclaim(vi), ==, 256);
    g_assert_cmpuint(xna_front_vi_stats(vi)->tx_unsent, ==, 0);
    /* 30 more, unconsumed: unsent hands them over and forgets them */
    for (i = 0; i < 30; i++) {
        FrameSpec s = spec_v4(17, 60 + (20 + i) * 50);

        build(buf, &s, i);
        g_assert_cmpint(send1(e, 0, buf, s.len), >=, 0);
    }
    u->frames = 0;
    g_assert_cmpuint(xna_front_vi_tx_unsent(vi, unsent_cb, u), ==, 30);
    g_assert_cmpuint(xna_front_vi_stats(vi)->tx_unsent, ==, 30);
    for (i = 0; i < 30; i++) {
        g_assert_cmpuint(u->lens[i], ==, 60 + (20 + i) * 50);
    }
    /* forgotten: a second call finds nothing */
    g_assert_cmpuint(xna_front_vi_tx_unsent(vi, unsent_cb, u), ==, 0);
    /* a bogus tx_cons from the backend: everything not reclaimed */
    u->frames = 0;
    for (i = 0; i < 5; i++) {
        g_assert_cmpint(send1(e, 0, buf, 100), >=, 0);
    }
    be_tx_complete(e, 0, cons + 1000);
    g_assert_cmpuint(xna_front_vi_tx_unsent(vi, unsent_cb, u), ==, 5);
    g_free(u);
    g_free(fr);
    env_free(e);
}

/* ---------------------------------------------------------------------
 * Loopback: the test's backend sends every TX frame back as RX
 */

static void test_loopback(void)
{
    Env *e = env_new(2, 256, 512);
    RxLog *log = g_new0(RxLog, 1);
    Frame *fr = g_new(Frame, 1);
    uint8_t buf[XNA_MAX_FRAME_LEN];
    uint32_t tx_cons[2] = { 0, 0 }, rx_cons[2] = { 0, 0 };
    unsigned int sent = 0, looped = 0, n, round;
    uint64_t bytes_sent = 0;

    connect_all(e);
    be_filter(e, XNA_OP_ADD, 0, XNA_FILTER_IPV4_UDP, guest_ip4, 4,
              g_htons(GUEST_PORT));
    be_filter(e, XNA_OP_ADD, 1, XNA_FILTER_IPV6_TCP, guest_ip6, 16,
              g_htons(GUEST_PORT));
    guest_ctrl(e);

    for (round = 0; round < 400; round++) {
        /* guest: a burst on each VI */
        for (n = 0; n < 2; n++) {
            struct xna_vi *vi = xna_front_vi(e->f, n);
            unsigned int k;

            for (k = 0; k < 5; k++) {
                unsigned int len = 60 + ((round * 5 + k) * 1237) % 8958;
                FrameSpec s = n ? spec_v6(6, len) : spec_v4(17, len);
                struct xna_frag frag = { buf, len };
                int r;

                build(buf, &s, round + k);
                if (xna_front_tx_decide(vi, &frag, 1, len, 0) != XNA_TX_ACCEPT) {
                    continue;
                }
                r = xna_front_tx_frame(vi, &frag, 1, len, NULL, k < 4);
                g_assert_cmpint(r, >=, 0);
                sent++;
                bytes_sent += len;
            }
            if (xna_front_tx_kick_needed(vi)) {
                xna_front_vi_notify(vi);
            }
        }
        /* backend: TX -> RX, limited by posted buffers */
        for (n = 0; n < 2; n++) {
            uint32_t save = tx_cons[n];

            while (be_tx_take(e, n, &tx_cons[n], fr)) {
                if (!be_rx_put(e, n, &rx_cons[n], fr->data, fr->len,
                               XNA_DESC_CSUM_VALID, XNA_BUF_SIZE)) {
                    tx_cons[n] = save;      /* retry later */
                    break;
                }
                save = tx_cons[n];
                looped++;
            }
            be_tx_complete(e, n, tx_cons[n]);
            be_rx_publish(e, n, rx_cons[n]);
            shared(e, n)->tx_prod_event = tx_cons[n];
        }
        /* guest: NAPI-like polling */
        for (n = 0; n < 2; n++) {
            struct xna_vi *vi = xna_front_vi(e->f, n);

            do {
                while (xna_front_rx_poll(vi, 16, rx_cb, log) == 16) {
                }
            } while (xna_front_rx_arm(vi));
        }
    }
    g_assert_cmpuint(looped, ==, sent);
    g_assert_cmpuint(log->frames, ==, sent);
    g_assert_cmpuint(log->bytes, ==, bytes_sent);
    g_assert_cmpuint(sent, >, 3000);
    g_assert_cmpuint(xna_front_vi_stats(xna_front_vi(e->f, 0))->rx_fast_packets +
                     xna_front_vi_stats(xna_front_vi(e->f, 1))->rx_fast_packets,
                     ==, sent);
    g_assert_cmpuint(xna_front_vi_stats(xna_front_vi(e->f, 1))->tx_fast_bytes +
                     xna_front_vi_stats(xna_front_vi(e->f, 0))->tx_fast_bytes,
                     ==, bytes_sent);
    /* with event indices, far fewer kicks than frames */
    g_assert_cmpuint(e->kicks[VI_PORT0] + e->kicks[VI_PORT0 + 1], <,
                     sent / 4);
    g_assert_cmpuint(shared(e, 1)->rx_prod - shared(e, 1)->rx_cons, ==, 512);
    g_free(log);
    g_free(fr);
    env_free(e);
}

/* ---------------------------------------------------------------------
 * A hostile (or merely unlucky) backend
 */

/*
 * Issue 14, item 7: the backend stops a VI (VI_DOWN, applied by the
 * control context without the TX lock) in the middle of a GSO burst that
 * xna_front_tx_decide() accepted.  Every segment must still go into the ring:
 * a segment refused there could only be pushed into netfront, which may
 * have no room for it.  The reset then hands all of them back, in order.
 */
static void test_hostile_burst_vi_down(void)
{
    Env *e = env_new(1, 256, 256);
    struct xna_vi *vi = xna_front_vi(e->f, 0);
    Unsent *u = g_new0(Unsent, 1);
    uint8_t buf[1600];
    FrameSpec s = spec_v4(6, 1514);
    struct xna_frag frag = { buf, s.len };
    struct xna_msg m;
    unsigned int i;

    connect_all(e);
    make_fast4(e, XNA_FILTER_IPV4_TCP);
    build(buf, &s, 0);
    /* a burst of 10 segments of one slot each */
    g_assert_cmpint(xna_front_tx_decide(vi, &frag, 1, 10 * s.len, 10), ==,
                    XNA_TX_ACCEPT);
    for (i = 0; i < 4; i++) {
        build(buf, &s, i);
        g_assert_cmpint(xna_front_tx_frame(vi, &frag, 1, s.len, NULL, true), >=, 0);
    }
    /* the backend stops the VI; the control context applies it now */
    be_send_type(e, XNA_MSG_VI_DOWN, 0, XNA_ERR_BAD_DESC);
    g_assert_cmpint(xna_front_ctrl_recv(e->f, &m), ==, 1);
    g_assert_cmpint(xna_front_vi_state(vi), ==, XNA_VI_DOWN);
    for (; i < 10; i++) {
        build(buf, &s, i);
        g_assert_cmpint(xna_front_tx_frame(vi, &frag, 1, s.len, NULL, true), >=, 0);
    }
    /* beyond what was reserved, a VI that is down takes nothing */
    g_assert_cmpint(xna_front_tx_frame(vi, &frag, 1, s.len, NULL, false), ==,
                    -ENETDOWN);
    g_assert_cmpuint(xna_front_vi_stats(vi)->tx_errors, ==, 0);
    /* a new decision ends the reservation */
    g_assert_cmpint(xna_front_tx_decide(vi, &frag, 1, s.len, 0), ==,
                    XNA_TX_DECLINE_VI_DOWN);

    g_assert_cmpint(xna_front_vi_reset(vi, unsent_cb, u), ==, 0);
    g_assert_cmpuint(u->frames, ==, 10);
    for (i = 0; i < 10; i++) {
        g_assert_cmpuint(u->lens[i], ==, s.len);
        g_assert_cmpuint(u->first_bytes[i], ==, (uint8_t)(60 * 7 + i));
    }
    g_free(u);
    env_free(e);
}

/* Fills VI 0's ring with one-slot frames of the fast flow. */
static void fill_ring(Env *e, uint8_t *buf)
{
    FrameSpec s = spec_v4(17, 100);
    unsigned int i;

    for (i = 0; xna_front_tx_reclaim(xna_front_vi(e->f, 0)); i++) {
        build(buf, &s, i);
        g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
        g_assert_cmpint(send1(e, 0, buf, s.len), >=, 0);
    }
    g_assert_cmpuint(xna_front_tx_free_slots(xna_front_vi(e->f, 0)), ==, 0);
}

/*
 * Issue 14, item 8: a full VI declined a fast-flow frame, which then
 * went through netfront ahead of the frames of its flow still in the
 * ring: under load a TCP flow alternated paths frame by frame.  A fast
 * flow that finds the ring full is held (BUSY), with a notification
 * asked of the backend for when a quarter of the ring is free; the
 * wake check says when to let the queue go again.
 */
static void test_hostile_tx_full_busy(void)
{
    Env *e = env_new(1, 256, 256);
    struct xna_vi *vi = xna_front_vi(e->f, 0);
    struct xna_vi_shared *sh = shared(e, 0);
    uint8_t buf[200];
    FrameSpec s = spec_v4(17, 100);
    uint32_t old;

    connect_all(e);
    make_fast4(e, XNA_FILTER_IPV4_UDP);
    g_assert_false(xna_front_tx_waiting(vi));
    fill_ring(e, buf);

    build(buf, &s, 999);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_BUSY);
    g_assert_true(xna_front_tx_waiting(vi));
    /* held, not declined: nothing counted for the slow path */
    g_assert_cmpuint(xna_front_vi_stats(vi)->tx_slow_packets, ==, 0);
    g_assert_cmpuint(xna_front_vi_stats(vi)->tx_declines[XNA_TX_DECLINE_RING_FULL],
                     ==, 0);
    g_assert_cmpuint(xna_front_vi_stats(vi)->tx_busy, ==, 1);
    /* notify when tx_cons reaches 64 (a quarter of the ring free) */
    g_assert_cmpuint(sh->tx_cons_event, ==, 63);
    /* a slow flow is still declined: it has no order to keep with the VI */
    {
        FrameSpec o = spec_v4(17, 100);

        o.sport = GUEST_PORT + 1;
        build(buf, &o, 0);
        g_assert_cmpint(decide1(e, 0, buf, o.len), ==,
                        XNA_TX_DECLINE_FLOW_NOT_FAST);
        build(buf, &s, 999);
    }
    /* and so is a frame that could never fit */
    g_assert_cmpint(xna_front_tx_decide(vi, (struct xna_frag[]){ { buf, s.len } },
                                        1, s.len, 300), ==, XNA_TX_DECLINE_TOO_BIG);

    /* the backend sends 10: no notification due, still waiting */
    sh->tx_cons = 10;
    g_assert_false(xna_need_event(sh->tx_cons_event, 10, 0));
    g_assert_false(xna_front_tx_wake_check(vi));
    g_assert_true(xna_front_tx_waiting(vi));
    /* then up to 64: the backend notifies, the queue may go */
    old = sh->tx_cons;
    sh->tx_cons = 64;
    g_assert_true(xna_need_event(sh->tx_cons_event, 64, old));
    g_assert_true(xna_front_tx_wake_check(vi));
    g_assert_false(xna_front_tx_waiting(vi));
    g_assert_false(xna_front_tx_wake_check(vi));
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
    g_assert_cmpint(send1(e, 0, buf, s.len), >=, 0);

    /* a VI that goes down wakes a waiter (its frames get declined now) */
    fill_ring(e, buf);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_BUSY);
    be_send_type(e, XNA_MSG_VI_DOWN, 0, XNA_ERR_BAD_DESC);
    guest_ctrl(e);
    g_assert_true(xna_front_tx_wake_check(vi));
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_VI_DOWN);
    /* the slow flow, the frame too big and this one */
    g_assert_cmpuint(xna_front_vi_stats(vi)->tx_slow_packets, ==, 3);
    env_free(e);
}

/*
 * Item 8 against a backend that never consumes: holding frames for it
 * would stall the guest's interface (netfront's traffic too, which
 * shares the queue).  After the caller gives up waiting, a full ring
 * declines again, until the backend makes progress.
 */
static void test_hostile_tx_stalled_backend(void)
{
    Env *e = env_new(1, 256, 256);
    struct xna_vi *vi = xna_front_vi(e->f, 0);
    uint8_t buf[200];
    FrameSpec s = spec_v4(17, 100);

    connect_all(e);
    make_fast4(e, XNA_FILTER_IPV4_UDP);
    fill_ring(e, buf);
    build(buf, &s, 999);

    /* giving up without a waiter does nothing */
    xna_front_tx_give_up(vi);
    g_assert_cmpuint(xna_front_vi_stats(vi)->tx_stalls, ==, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_BUSY);
    g_assert_false(xna_front_tx_wake_check(vi));
    xna_front_tx_give_up(vi);
    g_assert_false(xna_front_tx_waiting(vi));
    g_assert_cmpuint(xna_front_vi_stats(vi)->tx_stalls, ==, 1);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_RING_FULL);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_RING_FULL);
    g_assert_false(xna_front_tx_waiting(vi));
    /* it moves: frames fit again, and a full ring holds them again */
    shared(e, 0)->tx_cons = 1;
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
    g_assert_cmpint(send1(e, 0, buf, s.len), >=, 0);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_BUSY);
    g_assert_cmpuint(xna_front_vi_stats(vi)->tx_declines[XNA_TX_DECLINE_RING_FULL],
                     ==, 2);
    env_free(e);
}

/*
 * A backend that died (or wedged) with room left in the ring: the ring
 * would swallow every frame offered, a stream in timeout backoff losing
 * one retransmission after another.  xna_front_tx_progress() tells the
 * caller that frames wait unconsumed; after xna_front_tx_stall() every
 * frame that would take the VI is declined, room or not, until the
 * backend consumes again.
 */
static void test_hostile_tx_dead_backend_with_room(void)
{
    Env *e = env_new(1, 256, 256);
    struct xna_vi *vi = xna_front_vi(e->f, 0);
    uint8_t buf[200];
    FrameSpec s = spec_v4(17, 100);

    connect_all(e);
    make_fast4(e, XNA_FILTER_IPV4_UDP);
    build(buf, &s, 1);
    g_assert_true(xna_front_tx_progress(vi));        /* nothing waits */
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
    g_assert_cmpint(send1(e, 0, buf, s.len), >=, 0);
    g_assert_false(xna_front_tx_progress(vi));       /* one waits */
    g_assert_false(xna_front_tx_progress(vi));
    g_assert_cmpuint(xna_front_tx_free_slots(vi), >, 200);

    g_assert_true(xna_front_tx_stall(vi));          /* said once */
    g_assert_false(xna_front_tx_stall(vi));
    g_assert_cmpuint(xna_front_vi_stats(vi)->tx_stalls, ==, 1);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_RING_FULL);
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_DECLINE_RING_FULL);

    /* it consumes: progress, and frames take the VI again */
    shared(e, 0)->tx_cons = 1;
    g_assert_true(xna_front_tx_progress(vi));
    g_assert_cmpint(decide1(e, 0, buf, s.len), ==, XNA_TX_ACCEPT);
    g_assert_cmpint(send1(e, 0, buf, s.len), >=, 0);
    g_assert_false(xna_front_tx_progress(vi));
    shared(e, 0)->tx_cons = 2;
    g_assert_true(xna_front_tx_progress(vi));
    g_assert_true(xna_front_tx_progress(vi));        /* nothing waits */

    /*
     * A VI the backend stopped and the guest reset: the backend's
     * tx_cons is stale until VI_UP; the watch neither reclaims nor counts
     * a ring error for it.
     */
    g_assert_cmpint(send1(e, 0, buf, s.len), >=, 0);
    be_send_type(e, XNA_MSG_VI_DOWN, 0, XNA_ERR_BAD_DESC);
    guest_ctrl(e);
    g_assert_cmpint(xna_front_vi_reset(vi, NULL, NULL), ==, 0);
    g_assert_true(xna_front_tx_progress(vi));
    g_assert_true(xna_front_tx_progress(vi));
    g_assert_cmpuint(xna_front_vi_stats(vi)->ring_errors, ==, 0);
    env_free(e);
}

/*
 * Issue 14, item 9: the backend's "vif" and "mac" keys pick the netfront
 * interface to hook.  A backend (a driver domain, say) must not be able
 * to name an interface that another domain serves.
 */
static void test_hostile_pair_other_backend(void)
{
    struct xna_backend_info bi;
    static const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0x0a, 0x0b, 0x0c };
    static const uint8_t other[6] = { 0x00, 0x16, 0x3e, 0x0a, 0x0b, 0x0d };
    struct xna_pair_candidate c = { "vif-3", mac, 0 };
    static const char *const bad_names[] = {
        "vif-", "vif-3x", "vif--3", "vif-+3", "vif- 3", "vbd-3", "vif3",
        "vif-99999999999", "",
    };
    unsigned int i;

    default_bi(&bi);
    bi.vif = 3;
    memcpy(bi.mac, mac, 6);
    bi.has_mac = true;

    g_assert_cmpint(xna_pair_match(&bi, 0, &c), ==, XNA_PAIR_YES);
    /* the vif is served by domain 2, this device by domain 0 */
    c.backend_id = 2;
    g_assert_cmpint(xna_pair_match(&bi, 0, &c), ==, XNA_PAIR_OTHER_BACKEND);
    /* a driver domain 2 naming its own vif is fine */
    g_assert_cmpint(xna_pair_match(&bi, 2, &c), ==, XNA_PAIR_YES);
    /* and naming domain 0's is not */
    c.backend_id = 0;
    g_assert_cmpint(xna_pair_match(&bi, 2, &c), ==, XNA_PAIR_OTHER_BACKEND);
    /* another vif is not a match at all, whatever its MAC */
    c.xenbus_name = "vif-4";
    g_assert_cmpint(xna_pair_match(&bi, 0, &c), ==, XNA_PAIR_NO);
    for (i = 0; i < G_N_ELEMENTS(bad_names); i++) {
        c.xenbus_name = bad_names[i];
        g_assert_cmpint(xna_pair_match(&bi, 0, &c), ==, XNA_PAIR_NO);
    }
    c.xenbus_name = NULL;
    g_assert_cmpint(xna_pair_match(&bi, 0, &c), ==, XNA_PAIR_NO);

    /* without a vif index the MAC picks: same rule */
    bi.vif = -1;
    c.xenbus_name = "vif-7";
    c.backend_id = 0;
    g_assert_cmpint(xna_pair_match(&bi, 0, &c), ==, XNA_PAIR_YES);
    c.backend_id = 5;
    g_assert_cmpint(xna_pair_match(&bi, 0, &c), ==, XNA_PAIR_OTHER_BACKEND);
    c.mac = other;
    g_assert_cmpint(xna_pair_match(&bi, 0, &c), ==, XNA_PAIR_NO);
    /* neither key: nothing is named */
    bi.has_mac = false;
    c.mac = mac;
    c.backend_id = 0;
    g_assert_cmpint(xna_pair_match(&bi, 0, &c), ==, XNA_PAIR_NO);
}

/*
 * Issue 14, item 10: a resume that failed (xenbus could not talk to the
 * other end, so the driver's .resume never ran) looked like a cancelled
 * suspend, and the module went on with the old host's rings and raw
 * event channel ports.  Only a backend and a frontend directory that
 * both still hold the connection's generation mean "same backend".
 */
static void test_hostile_resume_new_backend(void)
{
    KeyStore *be = g_new0(KeyStore, 1), *fe = g_new0(KeyStore, 1);
    static const char *const bad[] = {
        "8", "7 ", " 7", "+7", "-7", "07x", "", "18446744073709551623",
    };
    unsigned int i;

    be->h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    fe->h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
#define SET(ks, k, v) g_hash_table_insert((ks)->h, g_strdup(k), g_strdup(v))
    SET(be, "generation", "7");
    SET(fe, "generation", "7");
    /* a cancelled suspend: everything as it was */
    g_assert_true(xna_backend_unchanged(7, ks_read, be, ks_read, fe));
    g_assert_false(xna_backend_unchanged(8, ks_read, be, ks_read, fe));
    /* a new host: its backend has another generation */
    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        SET(be, "generation", bad[i]);
        g_assert_false(xna_backend_unchanged(7, ks_read, be, ks_read, fe));
    }
    /* ... or xenbus could not even find it */
    g_hash_table_remove(be->h, "generation");
    g_assert_false(xna_backend_unchanged(7, ks_read, be, ks_read, fe));
    /* the same generation by chance, but a fresh frontend directory */
    SET(be, "generation", "7");
    g_hash_table_remove(fe->h, "generation");
    g_assert_false(xna_backend_unchanged(7, ks_read, be, ks_read, fe));
    SET(fe, "generation", "9");
    g_assert_false(xna_backend_unchanged(7, ks_read, be, ks_read, fe));
#undef SET
    ks_free(be);
    ks_free(fe);
}

/*
 * Issue 14, item 10: a backend that keeps the control FIFO full kept
 * the module's control work in its loop forever (and remove or suspend,
 * flushing the workqueue, with it).  xna_front_ctrl_poll() takes at most its
 * budget and says that more wait.
 */
static void test_hostile_ctrl_flood(void)
{
    Env *e = env_new(1, 256, 256);
    struct xna_msg msgs[8];
    unsigned int n, calls, total = 0;
    bool more;

    connect_all(e);
    e->flood = 100000;
    be_flood(e);
    for (calls = 0; calls < 100; calls++) {
        n = xna_front_ctrl_poll(e->f, msgs, G_N_ELEMENTS(msgs), &more);
        g_assert_cmpuint(n, ==, G_N_ELEMENTS(msgs));
        g_assert_true(more);
        g_assert_cmpuint(msgs[n - 1].type, ==, XNA_MSG_LINK);
        total += n;
        /* the backend keeps up: the FIFO is full after every call */
        g_assert_cmpuint(e->flooded - total, ==, XNA_CTRL_RING_SLOTS);
    }
    /* it stops: the last calls drain the FIFO and arm the notification */
    e->flood = 0;
    do {
        n = xna_front_ctrl_poll(e->f, msgs, G_N_ELEMENTS(msgs), &more);
        g_assert_cmpuint(n, <=, G_N_ELEMENTS(msgs));
        total += n;
    } while (more);
    g_assert_cmpuint(total, ==, e->flooded);
    g_assert_cmpuint(ctrl(e)->to_guest.prod_event, ==, e->to_g_prod);
    g_assert_cmpuint(xna_front_ctrl_poll(e->f, msgs, 8, &more), ==, 0);
    g_assert_false(more);
    g_assert_cmpuint(xna_front_stats(e->f)->ctrl_bad_msgs, ==, 0);
    g_assert_cmpint(xna_front_state(e->f), ==, XNA_FRONT_READY);

    /* a broken FIFO ends the call: failed, nothing more to poll */
    ctrl(e)->to_guest.prod = e->to_g_prod + 100;
    g_assert_cmpuint(xna_front_ctrl_poll(e->f, msgs, 8, &more), ==, 0);
    g_assert_false(more);
    g_assert_cmpint(xna_front_state(e->f), ==, XNA_FRONT_FAILED);
    env_free(e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/front-core/layout/init", test_layout);
    g_test_add_func("/front-core/layout/choose", test_layout_choose);
    g_test_add_func("/front-core/keys/backend-info", test_backend_info);
    g_test_add_func("/front-core/keys/frontend", test_keys);
    g_test_add_func("/front-core/init/pages", test_init_pages);
    g_test_add_func("/front-core/init/bad-config", test_create_bad_config);
    g_test_add_func("/front-core/ctrl/hello", test_hello);
    g_test_add_func("/front-core/ctrl/hello-fewer-vis", test_hello_fewer_vis);
    g_test_add_func("/front-core/ctrl/hello-refused", test_hello_refused);
    g_test_add_func("/front-core/ctrl/bad-messages", test_ctrl_bad_messages);
    g_test_add_func("/front-core/ctrl/error-link", test_ctrl_error_link);
    g_test_add_func("/front-core/ctrl/fifo-full-wrap", test_ctrl_fifo_full);
    g_test_add_func("/front-core/ctrl/event-index", test_ctrl_event_index);
    g_test_add_func("/front-core/flows/table", test_flow_table);
    g_test_add_func("/front-core/flows/table-full", test_flow_table_full);
    g_test_add_func("/front-core/tx/decide", test_tx_decide);
    g_test_add_func("/front-core/tx/nothing-fast", test_tx_nothing_fast);
    g_test_add_func("/front-core/tx/decide-no-sg", test_tx_decide_no_sg);
    g_test_add_func("/front-core/tx/slow-gso", test_tx_slow_gso);
    g_test_add_func("/front-core/tx/local-mac-overflow",
                    test_tx_local_mac_overflow);
    g_test_add_func("/front-core/tx/wire-mac", test_tx_wire_mac);
    g_test_add_func("/front-core/tx/chains", test_tx_chains);
    g_test_add_func("/front-core/tx/pieces", test_tx_pieces);
    g_test_add_func("/front-core/tx/ring-wrap", test_tx_ring_wrap);
    g_test_add_func("/front-core/tx/event-index", test_tx_event_index);
    g_test_add_func("/front-core/tx/csum", test_tx_csum);
    g_test_add_func("/front-core/tx/unsent", test_tx_unsent_teardown);
    g_test_add_func("/front-core/rx/basic", test_rx_basic);
    g_test_add_func("/front-core/rx/validation", test_rx_validation);
    g_test_add_func("/front-core/rx/event-index", test_rx_event_index);
    g_test_add_func("/front-core/vi/reset", test_vi_reset);
    g_test_add_func("/front-core/loopback", test_loopback);
    g_test_add_func("/front-core/hostile/tx-burst-vi-down",
                    test_hostile_burst_vi_down);
    g_test_add_func("/front-core/hostile/tx-full-busy",
                    test_hostile_tx_full_busy);
    g_test_add_func("/front-core/hostile/tx-stalled-backend",
                    test_hostile_tx_stalled_backend);
    g_test_add_func("/front-core/hostile/tx-dead-backend-with-room",
                    test_hostile_tx_dead_backend_with_room);
    g_test_add_func("/front-core/hostile/pair-other-backend",
                    test_hostile_pair_other_backend);
    g_test_add_func("/front-core/hostile/resume-new-backend",
                    test_hostile_resume_new_backend);
    g_test_add_func("/front-core/hostile/ctrl-flood",
                    test_hostile_ctrl_flood);
    return g_test_run();
}
