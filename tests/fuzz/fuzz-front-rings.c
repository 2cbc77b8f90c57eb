/*
 * Fuzz target: the guest core's data path against a hostile backend
 *
 * A frontend core (guest/core/xna-front.c) is connected by an honest
 * backend (HELLO, VI_UP, fast flows), then the input plays the backend
 * of the data path: it writes tx_cons, rx_cons and the event indices
 * (any value, or plausible ones), writes back RX descriptors (len, flags,
 * MORE chains, garbage in the fields the guest must not trust), stops
 * VIs with VI_DOWN (also between a TX decision and the send), and in
 * between makes the guest decide and send frames (xna_front_tx_decide and
 * xna_front_tx_frame, whole frames or GSO-like bursts), reclaim, wait for room
 * (xna_front_tx_wake_check, xna_front_tx_give_up, xna_front_tx_progress,
 * xna_front_tx_stall), poll RX, arm, and reset VIs.
 *
 * Invariants besides memory safety:
 *  - the guest never writes the backend's half of a VI page;
 *  - every TX descriptor it publishes is valid by the spec (page in
 *    its VI's share, offset + len <= 4096, flags, chains of at most 18
 *    ending without MORE, 14..9018 bytes, checksum offsets) and carries
 *    exactly the bytes it was given (checksum filled in when the backend
 *    has no offload);
 *  - it reuses a TX slot only after the backend said it consumed it, and
 *    reposts an RX slot only after the backend published it;
 *  - RX delivers exactly the frames a reference walk of the descriptors
 *    finds good (in order, their buffers, lengths and flags), and counts
 *    the others as bad; reposted descriptors are fresh;
 *  - an accepted frame or burst is taken whole even if VI_DOWN comes
 *    before the send; BUSY means waiting on an up VI, and a wake or a
 *    give-up ends the wait;
 *  - frames handed back (VI reset, pending) are frames it sent, whole,
 *    in order, with their bytes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "fuzz-front.h"

#define NVIS_MAX    2
#define MAX_OPS     3000
#define GUEST_PORT  4000
#define PEER_PORT   5000

static const uint8_t guest_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x01 };
static const uint8_t peer_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x02 };
static const uint8_t local_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x03 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t guest_ip4[4] = { 10, 0, 0, 1 };
static const uint8_t peer_ip4[4] = { 10, 0, 0, 2 };
static const uint8_t guest_ip6[16] = { 0xfd, [15] = 1 };
static const uint8_t peer_ip6[16] = { 0xfd, [15] = 2 };

/* What the guest published at a TX slot that starts a frame. */
typedef struct TxRec {
    uint8_t nslots;         /* 0: no frame starts here */
    uint16_t len;
    uint32_t hash;
} TxRec;

typedef struct Vi {
    struct xna_vi *vi;
    struct xna_vi_shared *sh;
    /* the backend half as the backend wrote it */
    uint32_t tx_cons, tx_prod_event, rx_cons, rx_prod_event;
    /* tx_cons values the backend wrote since the last reset */
    uint32_t cons_seen[256];
    unsigned int ncons_seen;
    bool cons_overflow;
    /* guest prods as last seen */
    uint32_t tx_prod, rx_prod;
    TxRec rec[FE_MAX_ENTRIES];
    uint8_t *txbuf[FE_MAX_ENTRIES];
    uint8_t *rxbuf[FE_MAX_ENTRIES];
} Vi;

typedef struct Fuzz {
    FrontEnv *e;
    unsigned int nvis;
    uint32_t to_g_prod;
    Vi v[NVIS_MAX];
} Fuzz;

/* A frame as the RX callback saw it. */
typedef struct RxSeen {
    unsigned int nfrags, len, flags;
    const void *data[XNA_MAX_FRAGS];
    unsigned int flen[XNA_MAX_FRAGS];
} RxSeen;

typedef struct RxCtx {
    RxSeen seen[64];
    unsigned int n;
    int refuse;             /* callback return value */
} RxCtx;

typedef struct UnsentCtx {
    Fuzz *z;
    Vi *v;
    int last_slot;
    unsigned int frames;
} UnsentCtx;

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = (uint8_t)v;
}

static uint32_t fnv(uint32_t h, const void *p, size_t n)
{
    const uint8_t *b = p;

    while (n--) {
        h = (h ^ *b++) * 16777619u;
    }
    return h;
}

#define FNV0 2166136261u

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)sum;
}

/* Checksum fill as the spec defines it (the field holds the seed). */
static void csum_fill(uint8_t *f, unsigned int len, unsigned int start,
                      unsigned int off)
{
    uint32_t sum = 0;
    unsigned int i;
    uint16_t c;

    for (i = start; i < len; i++) {
        sum += (i - start) & 1 ? f[i] : (uint32_t)f[i] << 8;
    }
    c = (uint16_t)~fold(sum);
    put16(f + start + off, c ? c : 0xffff);
}

/* ---------------------------------------------------------------------
 * Backend side
 */

static void be_send(Fuzz *z, uint16_t type, uint32_t a, uint32_t b)
{
    struct xna_msg m;

    memset(&m, 0, sizeof(m));
    m.type = type;
    m.u.vi.vi = a;
    m.u.vi.reason = b;
    fe_be_put(z->e, &z->to_g_prod, &m);
}

static void be_filter(Fuzz *z, unsigned int vi, uint8_t kind,
                      const uint8_t *addr, unsigned int alen)
{
    struct xna_msg m;

    memset(&m, 0, sizeof(m));
    m.type = XNA_MSG_FILTER;
    m.u.filter.op = XNA_OP_ADD;
    m.u.filter.vi = vi;
    m.u.filter.kind = kind;
    put16((uint8_t *)&m.u.filter.port, GUEST_PORT);
    memcpy(m.u.filter.addr, addr, alen);
    fe_be_put(z->e, &z->to_g_prod, &m);
}

/* The backend takes every message the guest sent (no reply). */
static void be_drain(Fuzz *z)
{
    struct xna_ctrl_page *c = fe_ctrl(z->e);

    c->to_backend.cons = c->to_backend.prod;
}

static void guest_ctrl(Fuzz *z)
{
    struct xna_msg m;
    int i, r = 0;

    for (i = 0; i < 64; i++) {
        r = xna_front_ctrl_recv(z->e->f, &m);
        if (r != 1) {
            break;
        }
    }
    FUZZ_CHECK(r == 0, "control: %d", r);
    xna_front_ctrl_arm(z->e->f);
}

static void note_tx_cons(Vi *v, uint32_t c)
{
    v->tx_cons = c;
    v->sh->tx_cons = c;
    if (v->ncons_seen < 256) {
        v->cons_seen[v->ncons_seen++] = c;
    } else {
        v->cons_overflow = true;
    }
}

/* The backend's reset of its own half (the spec's "VI reset"). */
static void be_vi_reset(Vi *v)
{
    v->ncons_seen = 0;
    v->cons_overflow = false;
    note_tx_cons(v, 0);
    v->rx_cons = v->sh->rx_cons = 0;
    v->tx_prod_event = v->sh->tx_prod_event = 1;
    v->rx_prod_event = v->sh->rx_prod_event = 1;
    memset(v->rec, 0, sizeof(v->rec));
}

/* ---------------------------------------------------------------------
 * Checks after every step
 */

static void check_desc_tx(Fuzz *z, unsigned int n, const struct xna_desc *d)
{
    const struct xna_layout *l = &z->e->l;

    FUZZ_CHECK(d->page / l->pool_pages_per_vi == n,
               "TX page %u outside vi %u's share", d->page, n);
    FUZZ_CHECK(d->len >= 1 && d->offset + d->len <= XNA_PAGE_SIZE,
               "TX offset %u len %u", d->offset, d->len);
    FUZZ_CHECK(!(d->flags & ~XNA_DESC_FLAGS_TX), "TX flags %#x", d->flags);
    FUZZ_CHECK(d->reserved == 0, "TX reserved");
}

/*
 * The frames the guest just published in [v->tx_prod, prod): valid
 * descriptors, and the bytes of @want (one frame) when given.
 */
static void check_published(Fuzz *z, unsigned int n, uint32_t prod,
                            const uint8_t *want, unsigned int want_len,
                            const struct xna_tx_meta *meta)
{
    Vi *v = &z->v[n];
    uint32_t i = v->tx_prod, mask = z->e->l.tx_entries - 1;
    static uint8_t buf[XNA_MAX_FRAME_LEN];

    FUZZ_CHECK((uint32_t)(prod - v->tx_prod) <= z->e->l.tx_entries,
               "tx_prod jumped %u -> %u", v->tx_prod, prod);
    while (i != prod) {
        uint32_t first = i;
        unsigned int nd = 0, len = 0;
        const struct xna_desc *d0 = fe_tx_desc(z->e, n, i);

        for (;;) {
            const struct xna_desc *d = fe_tx_desc(z->e, n, i);

            FUZZ_CHECK(i != prod, "chain not terminated before tx_prod");
            check_desc_tx(z, n, d);
            FUZZ_CHECK(nd == 0 || !(d->flags & XNA_DESC_CSUM_PARTIAL),
                       "CSUM_PARTIAL past the first descriptor");
            FUZZ_CHECK(len + d->len <= XNA_MAX_FRAME_LEN, "frame too long");
            memcpy(buf + len, fe_pool_page(z->e, d->page) + d->offset, d->len);
            len += d->len;
            nd++;
            i++;
            FUZZ_CHECK(nd <= XNA_MAX_FRAGS, "chain over %d", XNA_MAX_FRAGS);
            if (!(d->flags & XNA_DESC_MORE)) {
                break;
            }
        }
        FUZZ_CHECK(len >= XNA_MIN_FRAME_LEN, "frame of %u bytes", len);
        if (d0->flags & XNA_DESC_CSUM_PARTIAL) {
            FUZZ_CHECK(z->e->bi.csum_offload, "CSUM_PARTIAL without offload");
            FUZZ_CHECK(d0->csum_start + d0->csum_offset + 2u <= len,
                       "checksum at %u+%u of %u", d0->csum_start,
                       d0->csum_offset, len);
        }
        if (want) {
            FUZZ_CHECK(len == want_len, "published %u bytes of %u", len,
                       want_len);
            FUZZ_CHECK(!memcmp(buf, want, len), "published bytes differ");
            if (meta && meta->csum_partial && z->e->bi.csum_offload) {
                FUZZ_CHECK((d0->flags & XNA_DESC_CSUM_PARTIAL) &&
                           d0->csum_start == meta->csum_start &&
                           d0->csum_offset == meta->csum_offset,
                           "offload request lost");
            }
        }
        v->rec[first & mask].nslots = (uint8_t)nd;
        v->rec[first & mask].len = (uint16_t)len;
        v->rec[first & mask].hash = fnv(FNV0, buf, len);
    }
    v->tx_prod = prod;
}

/* The guest's TX consumer must be a tx_cons the backend wrote. */
static void check_tx_cons(Fuzz *z, unsigned int n)
{
    Vi *v = &z->v[n];
    uint32_t entries = z->e->l.tx_entries;
    uint32_t free = xna_front_tx_free_slots(v->vi);
    uint32_t cons;
    unsigned int i;

    FUZZ_CHECK(free <= entries, "free %u of %u", free, entries);
    cons = v->sh->tx_prod - (entries - free);
    if (v->cons_overflow || cons == v->sh->tx_prod) {
        return;             /* after a VI reset the guest starts over */
    }
    for (i = 0; i < v->ncons_seen; i++) {
        if (v->cons_seen[i] == cons) {
            return;
        }
    }
    FUZZ_CHECK(false, "vi %u reclaimed to %u, never written by the backend",
               n, cons);
}

static void check_vi(Fuzz *z, unsigned int n)
{
    Vi *v = &z->v[n];
    struct xna_vi_shared *sh = v->sh;
    static const uint8_t zero[48];

    FUZZ_CHECK(sh->tx_cons == v->tx_cons && sh->rx_cons == v->rx_cons &&
               sh->tx_prod_event == v->tx_prod_event &&
               sh->rx_prod_event == v->rx_prod_event &&
               !memcmp(sh->backend_pad, zero, sizeof(zero)),
               "guest wrote the backend's half of vi %u", n);
    FUZZ_CHECK(fe_vi_state_valid(xna_front_vi_state(v->vi)), "vi state");
    if (sh->tx_prod != v->tx_prod) {
        check_published(z, n, sh->tx_prod, NULL, 0, NULL);
    }
    check_tx_cons(z, n);
}

static void check_all(Fuzz *z)
{
    unsigned int n;

    for (n = 0; n < z->nvis; n++) {
        check_vi(z, n);
    }
}

/* ---------------------------------------------------------------------
 * RX
 */

static int rx_cb(void *opaque, struct xna_vi *vi, const struct xna_frag *frags,
                 unsigned int nfrags, unsigned int len, unsigned int flags)
{
    RxCtx *c = opaque;
    RxSeen *s;
    unsigned int i, sum = 0;

    FUZZ_CHECK(nfrags >= 1 && nfrags <= XNA_MAX_FRAGS, "nfrags %u", nfrags);
    FUZZ_CHECK(len >= XNA_MIN_FRAME_LEN && len <= XNA_MAX_FRAME_LEN,
               "rx len %u", len);
    FUZZ_CHECK(!(flags & ~(XNA_DESC_CSUM_VALID | XNA_DESC_SLOW_PATH |
                           XNA_DESC_CSUM_PARTIAL)), "rx flags %#x", flags);
    FUZZ_CHECK(c->n < 64, "more frames than the budget");
    s = &c->seen[c->n++];
    s->nfrags = nfrags;
    s->len = len;
    s->flags = flags;
    for (i = 0; i < nfrags; i++) {
        volatile const uint8_t *p = frags[i].data;

        FUZZ_CHECK(frags[i].len <= XNA_BUF_SIZE, "frag of %u", frags[i].len);
        if (frags[i].len) {
            /* Touch both ends: ASan checks the buffer is really there. */
            (void)p[0];
            (void)p[frags[i].len - 1];
        }
        s->data[i] = frags[i].data;
        s->flen[i] = frags[i].len;
        sum += frags[i].len;
    }
    FUZZ_CHECK(sum == len, "frags sum to %u, len %u", sum, len);
    return c->refuse;
}

/*
 * Polls RX and checks the result against a walk of the descriptors the
 * backend published (a snapshot taken before, as the guest reposts).
 */
static void do_rx_poll(Fuzz *z, unsigned int n, int budget, int refuse)
{
    Vi *v = &z->v[n];
    uint32_t entries = z->e->l.rx_entries, mask = entries - 1;
    uint32_t gcons = v->sh->rx_prod - entries, c = v->sh->rx_cons, i;
    const struct xna_front_vi_stats *st = xna_front_vi_stats(v->vi);
    uint64_t bad0 = st->rx_bad_frames;
    static struct xna_desc snap[FE_MAX_ENTRIES];
    static RxCtx ctx;
    bool up = xna_front_vi_state(v->vi) == XNA_VI_UP;
    unsigned int avail, pos, k, frames, bad = 0;
    int r;

    avail = c - gcons;
    for (i = 0; i < entries; i++) {
        snap[i] = *fe_rx_desc(z->e, n, gcons + i);
    }
    ctx.n = 0;
    ctx.refuse = refuse;
    r = xna_front_rx_poll(v->vi, budget, rx_cb, &ctx);
    FUZZ_CHECK(r == -EPROTO || (r >= 0 && r <= budget), "rx_poll %d", r);
    if (!up) {
        FUZZ_CHECK(r == 0 && ctx.n == 0, "rx on a VI that is not up");
        return;
    }
    if (avail > entries) {
        FUZZ_CHECK(r == -EPROTO && xna_front_vi_state(v->vi) == XNA_VI_FAILED,
                   "rx_cons %u beyond the posted %u: %d", c, v->sh->rx_prod,
                   r);
        return;
    }
    FUZZ_CHECK(r >= 0, "rx_poll %d with rx_cons in range", r);

    /* Reference walk of r frames from the guest's consumer. */
    for (frames = 0, pos = 0, k = 0; frames < (unsigned int)r; frames++) {
        unsigned int nd = 0, total = 0, flags = 0;
        bool isbad = false;

        for (;;) {
            const struct xna_desc *d = &snap[(pos + nd) & mask];

            FUZZ_CHECK(pos + nd < avail, "frame %u beyond rx_cons", frames);
            if (d->len > XNA_BUF_SIZE) {
                isbad = true;
            } else {
                total += d->len;
            }
            flags |= d->flags & (XNA_DESC_CSUM_VALID | XNA_DESC_SLOW_PATH |
                                 XNA_DESC_CSUM_PARTIAL);
            nd++;
            if (!(d->flags & XNA_DESC_MORE)) {
                break;
            }
        }
        if (nd > XNA_MAX_FRAGS || total < XNA_MIN_FRAME_LEN ||
            total > XNA_MAX_FRAME_LEN) {
            isbad = true;
        }
        if (isbad) {
            bad++;
        } else {
            const RxSeen *s = &ctx.seen[k++];

            FUZZ_CHECK(k <= ctx.n, "good frame %u not delivered", frames);
            FUZZ_CHECK(s->nfrags == nd && s->len == total && s->flags == flags,
                       "frame %u: %u frags %u bytes flags %#x, expected "
                       "%u %u %#x", frames, s->nfrags, s->len, s->flags, nd,
                       total, flags);
            for (i = 0; i < nd; i++) {
                FUZZ_CHECK(s->data[i] == v->rxbuf[(gcons + pos + i) & mask],
                           "frag %u not in its slot's buffer", i);
                FUZZ_CHECK(s->flen[i] == snap[(pos + i) & mask].len,
                           "frag %u len", i);
            }
        }
        pos += nd;
    }
    FUZZ_CHECK(k == ctx.n, "%u frames delivered, %u expected", ctx.n, k);
    FUZZ_CHECK(st->rx_bad_frames - bad0 == bad, "bad frames %llu vs %u",
               (unsigned long long)(st->rx_bad_frames - bad0), bad);

    /* Reposted in place, fresh, and only what the backend published. */
    FUZZ_CHECK(v->sh->rx_prod == gcons + entries + pos,
               "rx_prod %u, expected %u", v->sh->rx_prod,
               gcons + entries + pos);
    for (i = 0; i < pos; i++) {
        const struct xna_desc *d = fe_rx_desc(z->e, n, gcons + entries + i);
        uint32_t page;
        uint16_t off;

        xna_layout_rx_buf(&z->e->l, n, gcons + i, &page, &off);
        FUZZ_CHECK(d->page == page && d->offset == off &&
                   d->len == XNA_BUF_SIZE && d->flags == 0 &&
                   d->reserved == 0, "reposted descriptor %u", i);
    }
    v->rx_prod = v->sh->rx_prod;
}

/* The backend writes back @count descriptors from rx_cons and publishes. */
static void be_rx_fill(Fuzz *z, FuzzIn *in, unsigned int n)
{
    Vi *v = &z->v[n];
    unsigned int count = fin_u8(in) % 24, i;
    uint8_t mode = fin_u8(in);

    for (i = 0; i < count; i++) {
        struct xna_desc *d = fe_rx_desc(z->e, n, v->rx_cons + i);
        bool last = i + 1 == count;

        switch (mode & 3) {
        case 0:             /* any len and flags */
            d->len = fin_u16(in);
            d->flags = fin_u16(in);
            break;
        case 1:             /* a well-formed chain of the given chunks */
            d->len = 14 + fin_u8(in) * 8;
            d->flags = (last ? 0 : XNA_DESC_MORE) | (mode & 0x1c);
            break;
        case 2:             /* one-buffer frames, lengths near limits */
            d->len = (uint16_t)(fin_u8(in) % 2 ? XNA_BUF_SIZE - (mode >> 4)
                                               : 13 + (mode >> 4));
            d->flags = mode & 0x0c;
            break;
        case 3:             /* garbage where the guest must not look */
            d->page = fin_u32(in);
            d->offset = fin_u16(in);
            d->csum_start = fin_u16(in);
            d->len = 60;
            d->flags = 0;
            break;
        }
        if (d->len <= XNA_BUF_SIZE) {
            memset(v->rxbuf[(v->rx_cons + i) & (z->e->l.rx_entries - 1)],
                   (int)i, d->len);
        }
    }
    if (!(mode & 0x80)) {
        v->rx_cons += count;
        v->sh->rx_cons = v->rx_cons;
    }
}

/* ---------------------------------------------------------------------
 * TX
 */

/* Builds a frame from the input; returns its length and fills @meta. */
static unsigned int build_frame(FuzzIn *in, uint8_t *f, unsigned int max,
                                struct xna_tx_meta *meta)
{
    uint8_t kind = fin_u8(in), opts = fin_u8(in);
    unsigned int len = fin_u16(in) % (max + 1), off = 14, l4, i;
    uint8_t proto = kind & 1 ? 6 : 17;

    memset(meta, 0, sizeof(*meta));
    if ((kind & 7) == 7) {           /* raw bytes */
        fin_bytes(in, f, len);
        if (opts & 1) {
            meta->csum_partial = true;
            meta->csum_start = fin_u16(in);
            meta->csum_offset = fin_u16(in);
        }
        return len;
    }
    if (len < 64) {
        len = 64 + len;
    }
    memset(f, 0, len);
    memcpy(f, opts & 2 ? local_mac : opts & 4 ? bcast_mac : peer_mac, 6);
    memcpy(f + 6, guest_mac, 6);
    if (opts & 8) {
        put16(f + 12, 0x8100);
        put16(f + 14, 7);
        off = 18;
    }
    if (!(kind & 2)) {
        put16(f + off - 2, 0x0800);
        f[off] = 0x45;
        put16(f + off + 2, len - off);
        f[off + 8] = 64;
        f[off + 9] = proto;
        memcpy(f + off + 12, guest_ip4, 4);
        memcpy(f + off + 16, peer_ip4, 4);
        l4 = off + 20;
    } else {
        put16(f + off - 2, 0x86dd);
        f[off] = 0x60;
        put16(f + off + 4, len - off - 40);
        f[off + 6] = proto;
        memcpy(f + off + 8, guest_ip6, 16);
        memcpy(f + off + 24, peer_ip6, 16);
        l4 = off + 40;
    }
    put16(f + l4, GUEST_PORT);
    put16(f + l4 + 2, PEER_PORT);
    if (proto == 6) {
        f[l4 + 12] = 5 << 4;
    } else {
        put16(f + l4 + 4, len - l4);
    }
    for (i = l4 + 20; i < len; i++) {
        f[i] = (uint8_t)(i * 13 + kind);
    }
    if (opts & 0x10) {               /* a few fuzzed bytes anywhere */
        for (i = 0; i < 3; i++) {
            uint16_t at = fin_u16(in);

            f[at % len] = fin_u8(in);
        }
    }
    if (opts & 0x20) {
        meta->csum_partial = true;
        meta->csum_start = (uint16_t)l4;
        meta->csum_offset = proto == 6 ? 16 : 6;
        if (opts & 0x40) {
            meta->csum_offset = fin_u16(in);
        }
    }
    return len;
}

/* Splits @f into up to 4 pieces at input-chosen points. */
static unsigned int split(FuzzIn *in, const uint8_t *f, unsigned int len,
                          struct xna_frag *frags)
{
    unsigned int n = 1 + fin_u8(in) % 4, i, pos = 0;

    for (i = 0; i + 1 < n; i++) {
        unsigned int c = len - pos ? fin_u16(in) % (len - pos + 1) : 0;

        frags[i].data = f + pos;
        frags[i].len = c;
        pos += c;
    }
    frags[n - 1].data = f + pos;
    frags[n - 1].len = len - pos;
    return n;
}

static void do_tx(Fuzz *z, FuzzIn *in, unsigned int n)
{
    static uint8_t f[XNA_MAX_FRAME_LEN + 64], want[XNA_MAX_FRAME_LEN + 64];
    Vi *v = &z->v[n];
    struct xna_frag frags[4];
    struct xna_tx_meta meta;
    uint8_t mode = fin_u8(in);
    unsigned int len, nf, burst, k, slots = 0;
    enum xna_front_tx_verdict verdict;
    int r;

    len = build_frame(in, f, XNA_MAX_FRAME_LEN + 32, &meta);
    nf = split(in, f, len, frags);
    burst = mode & 0x80 ? 1 + (mode >> 4 & 7) : 1;
    if (burst > 1) {
        slots = burst * xna_front_tx_slots(len ? len : 1);
    }
    verdict = xna_front_tx_decide(v->vi, frags, nf, len, slots);
    /* Verdicts beyond the declines exist (XNA_TX_BUSY): just named ones. */
    FUZZ_CHECK(verdict == XNA_TX_ACCEPT ||
               strcmp(xna_front_tx_verdict_name(verdict), "accept"),
               "verdict %d named accept", verdict);
    if (verdict == XNA_TX_BUSY) {
        FUZZ_CHECK(xna_front_tx_waiting(v->vi) && xna_front_vi_state(v->vi) == XNA_VI_UP,
                   "BUSY without waiting on an up VI");
    }
    if (verdict != XNA_TX_ACCEPT && !(mode & 1)) {
        return;
    }
    /*
     * The backend stops the VI between the decision and the send (the
     * control path does not serialise with TX): an accepted frame or
     * burst is still taken whole, and handed back by the reset.
     */
    if (mode & 4) {
        be_send(z, XNA_MSG_VI_DOWN, n, XNA_ERR_NIC);
        guest_ctrl(z);
    }
    /* Accepted, or sent anyway: xna_front_tx_frame must check for itself. */
    for (k = 0; k < burst; k++) {
        bool valid;

        memcpy(want, f, len);
        valid = len >= XNA_MIN_FRAME_LEN && len <= XNA_MAX_FRAME_LEN &&
                (!meta.csum_partial ||
                 meta.csum_start + meta.csum_offset + 2u <= len) &&
                (z->e->bi.sg || len <= XNA_BUF_SIZE);
        if (valid && meta.csum_partial && !z->e->bi.csum_offload) {
            csum_fill(want, len, meta.csum_start, meta.csum_offset);
        }
        r = xna_front_tx_frame(v->vi, frags, nf, len, meta.csum_partial ? &meta
                                                                   : NULL,
                               k + 1 < burst || (mode & 2));
        FUZZ_CHECK(r == 0 || r == XNA_TX_KICK || r == -ENOSPC ||
                   r == -EINVAL || r == -ENETDOWN, "tx_frame %d", r);
        if (r >= 0) {
            FUZZ_CHECK(valid, "accepted an invalid frame (len %u)", len);
            FUZZ_CHECK(v->sh->tx_prod - v->tx_prod == xna_front_tx_slots(len),
                       "published %u slots for %u bytes",
                       v->sh->tx_prod - v->tx_prod, len);
            check_published(z, n, v->sh->tx_prod, want, len, &meta);
        } else {
            FUZZ_CHECK(v->sh->tx_prod == v->tx_prod, "published on error");
            FUZZ_CHECK(r != -EINVAL || !valid, "refused a valid frame");
            FUZZ_CHECK(r != -ENETDOWN || xna_front_vi_state(v->vi) != XNA_VI_UP,
                       "-ENETDOWN on an up VI");
            /* An accept reserved room for the whole burst, VI up or not. */
            FUZZ_CHECK(verdict != XNA_TX_ACCEPT || !valid,
                       "frame %u of an accepted burst of %u refused: %d", k,
                       burst, r);
            break;
        }
        check_tx_cons(z, n);
    }
    if (mode & 2) {
        xna_front_tx_kick_needed(v->vi);
    }
}

/* Kick decision, and the back-pressure calls of a TX context. */
static void do_tx_wait(Fuzz *z, unsigned int n, uint8_t how)
{
    Vi *v = &z->v[n];
    bool waiting = xna_front_tx_waiting(v->vi), woke, moved;
    uint64_t stalls;

    switch (how % 5) {
    case 0:
        xna_front_tx_kick_needed(v->vi);
        break;
    case 1:
        woke = xna_front_tx_wake_check(v->vi);
        FUZZ_CHECK(!woke || waiting, "woke without waiting");
        FUZZ_CHECK(woke || !waiting ||
                   (xna_front_vi_state(v->vi) == XNA_VI_UP &&
                    xna_front_state(z->e->f) != XNA_FRONT_FAILED),
                   "keeps waiting on a VI that is not up");
        FUZZ_CHECK(!woke || !xna_front_tx_waiting(v->vi), "still waiting");
        break;
    case 2:
        xna_front_tx_give_up(v->vi);
        FUZZ_CHECK(!xna_front_tx_waiting(v->vi), "waiting after give_up");
        break;
    case 3:             /* the dead-backend watch, whatever tx_cons says */
        moved = xna_front_tx_progress(v->vi);
        FUZZ_CHECK(moved || xna_front_tx_free_slots(v->vi) <
                   z->e->l.tx_entries, "no progress with nothing waiting");
        break;
    case 4:
        stalls = xna_front_vi_stats(v->vi)->tx_stalls;
        moved = xna_front_tx_stall(v->vi);
        FUZZ_CHECK(!xna_front_tx_stall(v->vi), "a stall reported twice");
        FUZZ_CHECK(xna_front_vi_stats(v->vi)->tx_stalls - stalls == moved,
                   "a stall counted %s", moved ? "never" : "unreported");
        break;
    }
}

/* Frames handed back: whole frames the guest published, in order. */
static void unsent_cb(void *opaque, const struct xna_frag *frags,
                      unsigned int nfrags, unsigned int len,
                      const struct xna_tx_meta *meta)
{
    UnsentCtx *c = opaque;
    Vi *v = c->v;
    unsigned int entries = c->z->e->l.tx_entries, i, sum = 0;
    uint32_t h = FNV0;
    int slot = -1;

    FUZZ_CHECK(nfrags >= 1 && nfrags <= XNA_MAX_FRAGS, "unsent nfrags %u",
               nfrags);
    /* Most likely right after the previous frame; else search. */
    if (c->last_slot >= 0) {
        i = (c->last_slot + v->rec[c->last_slot].nslots) % entries;
        if (v->txbuf[i] == frags[0].data) {
            slot = (int)i;
        }
    }
    for (i = 0; slot < 0 && i < entries; i++) {
        if (v->txbuf[i] == frags[0].data) {
            slot = (int)i;
        }
    }
    FUZZ_CHECK(slot >= 0, "unsent frame not in a TX buffer");
    FUZZ_CHECK(v->rec[slot].nslots == nfrags && v->rec[slot].len == len,
               "unsent frame at slot %d: %u frags %u bytes, published %u %u",
               slot, nfrags, len, v->rec[slot].nslots, v->rec[slot].len);
    for (i = 0; i < nfrags; i++) {
        FUZZ_CHECK(frags[i].data == v->txbuf[(slot + i) % entries],
                   "unsent frag %u", i);
        h = fnv(h, frags[i].data, frags[i].len);
        sum += frags[i].len;
    }
    FUZZ_CHECK(sum == len && h == v->rec[slot].hash, "unsent bytes");
    if (c->last_slot >= 0) {
        FUZZ_CHECK((unsigned int)(slot - c->last_slot + entries) % entries >=
                   v->rec[c->last_slot].nslots, "unsent out of order");
    }
    FUZZ_CHECK(!meta->csum_partial || c->z->e->bi.csum_offload,
               "unsent meta");
    c->last_slot = slot;
    c->frames++;
}

/* VI_DOWN from the backend, then (maybe) the guest's reset and VI_UP. */
static void do_down_reset(Fuzz *z, unsigned int n, uint8_t how)
{
    Vi *v = &z->v[n];
    UnsentCtx uc = { .z = z, .v = v, .last_slot = -1 };
    enum xna_front_vi_state before;
    int r;

    if (how & 1) {
        be_send(z, XNA_MSG_VI_DOWN, n, XNA_ERR_BAD_INDEX);
        guest_ctrl(z);
    }
    if (!(how & 2)) {
        return;
    }
    before = xna_front_vi_state(v->vi);
    r = xna_front_vi_reset(v->vi, how & 4 ? NULL : unsent_cb, &uc);
    if (before != XNA_VI_DOWN) {
        FUZZ_CHECK(r == -EINVAL && xna_front_vi_state(v->vi) == before,
                   "reset of a VI in state %d: %d", before, r);
        FUZZ_CHECK(uc.frames == 0, "reset of a live VI handed frames back");
        return;
    }
    /* The control FIFO is drained on every step: room for VI_RESET. */
    FUZZ_CHECK(r == 0 && xna_front_vi_state(v->vi) == XNA_VI_RESETTING,
               "reset %d, state %d", r, xna_front_vi_state(v->vi));
    /* Guest half from scratch, every RX buffer posted again. */
    FUZZ_CHECK(v->sh->tx_prod == 0 &&
               v->sh->rx_prod == z->e->l.rx_entries, "reset indices");
    v->tx_prod = 0;
    v->rx_prod = v->sh->rx_prod;
    be_drain(z);
    be_vi_reset(v);
    if (!(how & 8)) {
        be_send(z, XNA_MSG_VI_UP, n, 0);
        guest_ctrl(z);
    }
}

static void do_pending(Fuzz *z, unsigned int n)
{
    Vi *v = &z->v[n];
    UnsentCtx uc = { .z = z, .v = v, .last_slot = -1 };
    uint32_t prod = v->sh->tx_prod;

    xna_front_vi_tx_pending(v->vi, unsent_cb, &uc);
    FUZZ_CHECK(v->sh->tx_prod == prod, "pending changed tx_prod");
}

/* ---------------------------------------------------------------------
 * Setup and the op loop
 */

static void connect(Fuzz *z)
{
    struct xna_ctrl_page *c = fe_ctrl(z->e);
    struct xna_msg m;
    unsigned int n;

    FUZZ_CHECK(xna_front_send_hello(z->e->f) == 0, "hello");
    be_drain(z);
    memset(&m, 0, sizeof(m));
    m.type = XNA_MSG_HELLO;
    m.u.hello.version = 1;
    m.u.hello.nr_vis = z->nvis;
    fe_be_put(z->e, &z->to_g_prod, &m);
    for (n = 0; n < z->nvis; n++) {
        be_send(z, XNA_MSG_VI_UP, n, 0);
    }
    guest_ctrl(z);
    be_filter(z, 0, XNA_FILTER_IPV4_UDP, guest_ip4, 4);
    be_filter(z, 0, XNA_FILTER_IPV4_TCP, guest_ip4, 4);
    be_filter(z, 0, XNA_FILTER_IPV6_UDP, guest_ip6, 16);
    be_filter(z, 0, XNA_FILTER_IPV6_TCP, guest_ip6, 16);
    memset(&m, 0, sizeof(m));
    m.type = XNA_MSG_LOCAL_MAC;
    m.u.local_mac.op = XNA_OP_ADD;
    memcpy(m.u.local_mac.mac, local_mac, 6);
    fe_be_put(z->e, &z->to_g_prod, &m);
    guest_ctrl(z);
    FUZZ_CHECK(xna_front_ready(z->e->f), "not ready after connect");
    (void)c;
}

static void setup_vi(Fuzz *z, unsigned int n)
{
    Vi *v = &z->v[n];
    const struct xna_layout *l = &z->e->l;
    unsigned int s;

    memset(v, 0, sizeof(*v));
    v->vi = xna_front_vi(z->e->f, n);
    v->sh = fe_shared(z->e, n);
    v->tx_prod = v->sh->tx_prod;
    v->rx_prod = v->sh->rx_prod;
    for (s = 0; s < l->tx_entries; s++) {
        uint32_t page;
        uint16_t off;

        xna_layout_tx_buf(l, n, s, &page, &off);
        v->txbuf[s] = fe_pool_page(z->e, page) + off;
    }
    for (s = 0; s < l->rx_entries; s++) {
        uint32_t page;
        uint16_t off;

        xna_layout_rx_buf(l, n, s, &page, &off);
        v->rxbuf[s] = fe_pool_page(z->e, page) + off;
    }
    be_vi_reset(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static Fuzz z;
    struct xna_backend_info bi;
    unsigned int n, ops = 0;
    uint8_t cfg;
    FuzzIn in;

    fin_init(&in, data, size);
    cfg = fin_u8(&in);
    memset(&z, 0, sizeof(z));
    z.nvis = 1 + (cfg & 1);
    memset(&bi, 0, sizeof(bi));
    bi.protocol_version = 1;
    bi.max_vis = XNA_MAX_VIS;
    bi.mtu = cfg & 0x20 ? 1500 : 9000;
    bi.sg = !(cfg & 0x08);
    bi.csum_offload = cfg & 0x10;
    z.e = fe_create(z.nvis, 256 << (cfg >> 1 & 1), 256 << (cfg >> 2 & 1),
                    &bi, 16);
    for (n = 0; n < z.nvis; n++) {
        setup_vi(&z, n);
    }
    connect(&z);
    check_all(&z);

    while (!fin_done(&in) && ops++ < MAX_OPS) {
        uint8_t op = fin_u8(&in);
        Vi *v;

        n = (op >> 4) % z.nvis;
        v = &z.v[n];
        switch (op & 15) {
        case 0:                 /* tx_cons: anything */
            note_tx_cons(v, fin_u32(&in));
            break;
        case 1:                 /* tx_cons: a few slots on, maybe mid-frame */
            note_tx_cons(v, v->tx_cons + fin_u8(&in) % 24);
            break;
        case 2:                 /* tx_cons: everything, or nearly */
            note_tx_cons(v, v->sh->tx_prod - fin_u8(&in) % 3);
            break;
        case 3:
            v->tx_prod_event = fin_u32(&in);
            v->rx_prod_event = fin_u32(&in);
            v->sh->tx_prod_event = v->tx_prod_event;
            v->sh->rx_prod_event = v->rx_prod_event;
            break;
        case 4:                 /* rx_cons: anything */
            v->rx_cons = fin_u32(&in);
            v->sh->rx_cons = v->rx_cons;
            break;
        case 5:
        case 6:
            be_rx_fill(&z, &in, n);
            break;
        case 7:
            do_rx_poll(&z, n, 1 + fin_u8(&in) % 64, (op & 0x80) ? -1 : 0);
            break;
        case 8:
            xna_front_rx_arm(v->vi);
            break;
        case 9:
        case 10:
        case 11:
            do_tx(&z, &in, n);
            break;
        case 12:
            FUZZ_CHECK(xna_front_tx_reclaim(v->vi) <= z.e->l.tx_entries,
                       "reclaim");
            break;
        case 13:
            do_down_reset(&z, n, fin_u8(&in));
            break;
        case 14:
            do_pending(&z, n);
            break;
        case 15:
            do_tx_wait(&z, n, fin_u8(&in));
            break;
        }
        check_all(&z);
    }
    fe_destroy(z.e);
    return 0;
}
