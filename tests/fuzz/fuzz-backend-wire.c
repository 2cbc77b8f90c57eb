/*
 * Fuzz target: the backend's readers of guest bytes (hw/net/xen-net-accel/xna-wire.c)
 *
 * Every function of xna-wire.h on guest-controlled input: xenstore
 * numbers, descriptor fetch, TX frame gather from a ring into a buffer,
 * RX frame placement into posted buffers, control message decode, and
 * the status helpers.  The first input byte picks the function; a ring
 * (1 or 2 pages) and a small pool are separate 4 KiB allocations, so ASan
 * sees any access outside them.
 *
 * Each result is compared with a reference written here from
 * the spec: the number grammar, a descriptor walk that predicts the
 * status, the frame length and the slot at fault, the gathered bytes
 * (checksum filled as the spec says), the bytes and write-backs of RX
 * placement (and that a refused placement writes nothing anywhere), and
 * the rules for control messages.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "fuzz-util.h"
#include "xna-wire.h"

#define POOL_MAX    4
#define WHY_LEN     64

static struct xna_desc *ring_pages[2];
static uint8_t *pool_pages[POOL_MAX];
static uint8_t shadow_pool[POOL_MAX][XNA_PAGE_SIZE];
static uint8_t pristine_pool[POOL_MAX][XNA_PAGE_SIZE];
static uint8_t shadow_ring[2][XNA_PAGE_SIZE];

static void setup(void)
{
    static bool done;
    unsigned int i;

    if (done) {
        return;
    }
    for (i = 0; i < 2; i++) {
        ring_pages[i] = aligned_alloc(XNA_PAGE_SIZE, XNA_PAGE_SIZE);
    }
    for (i = 0; i < POOL_MAX; i++) {
        unsigned int j;

        pool_pages[i] = aligned_alloc(XNA_PAGE_SIZE, XNA_PAGE_SIZE);
        for (j = 0; j < XNA_PAGE_SIZE; j++) {
            pristine_pool[i][j] = (uint8_t)(j * 7 + i * 37);
        }
    }
    done = true;
}

static uint16_t fold(uint32_t s)
{
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)s;
}

/* ---------------------------------------------------------------------
 * xenstore numbers
 */

static bool ref_uint(const char *s, uint32_t min, uint32_t max, uint32_t *v)
{
    uint64_t n = 0;
    size_t len = strlen(s), i;

    /* Decimal, no sign or blank, no leading zero; at most 10 digits. */
    if (len == 0 || len > 10 || (s[0] == '0' && len > 1)) {
        return false;
    }
    for (i = 0; i < len; i++) {
        if (!memchr("0123456789", s[i], 10)) {
            return false;
        }
        n = n * 10 + (uint64_t)(s[i] - '0');
    }
    if (n < min || n > max) {
        return false;
    }
    *v = (uint32_t)n;
    return true;
}

static void fuzz_parse_uint(FuzzIn *in)
{
    uint32_t min = fin_u8(in) & 1 ? fin_u32(in) : 0;
    uint32_t max = fin_u8(in) & 1 ? fin_u32(in) : UINT32_MAX;
    size_t n = in->left < 40 ? in->left : 40;
    char *s = malloc(n + 1);
    uint32_t v = 0xdead, rv = 0;
    bool ok, rok;

    /* Exact size: a read past the NUL is an ASan error. */
    fin_bytes(in, s, n);
    s[n] = '\0';
    ok = xna_wire_parse_uint(s, min, max, &v);
    rok = ref_uint(s, min, max, &rv);
    FUZZ_CHECK(ok == rok, "parse_uint('%s', %u, %u) = %d", s, min, max, ok);
    FUZZ_CHECK(ok ? v == rv : v == 0xdead, "value %u vs %u", v, rv);
    free(s);
}

/* ---------------------------------------------------------------------
 * Ring and pool from the input
 */

typedef struct Env {
    XnaWireRing ring;
    XnaWirePool pool;
} Env;

static void env_init(FuzzIn *in, Env *e)
{
    uint8_t cfg = fin_u8(in);
    unsigned int i;

    e->ring.pages = ring_pages;
    e->ring.entries = cfg & 1 ? 512 : 256;
    e->pool.pages = pool_pages;
    e->pool.count = 1 + (cfg >> 1) % POOL_MAX;
    for (i = 0; i < 2; i++) {
        memset(ring_pages[i], 0x5c, XNA_PAGE_SIZE);
    }
    /* memcpy, not a byte loop: this runs for every input. */
    for (i = 0; i < POOL_MAX; i++) {
        memcpy(pool_pages[i], pristine_pool[i], XNA_PAGE_SIZE);
    }
}

/*
 * Writes descriptors from slot @idx on: mostly plausible ones (a page
 * near the pool, offsets and lengths near a page's end, few flags),
 * sometimes 16 raw bytes.
 */
static void put_descs(FuzzIn *in, Env *e, uint32_t idx, unsigned int count,
                      bool rx)
{
    unsigned int i;

    for (i = 0; i < count && !fin_done(in); i++) {
        struct xna_desc *d = xna_wire_slot(&e->ring, idx + i);
        uint8_t how = fin_u8(in);

        if ((how & 7) == 7) {
            fin_bytes(in, d, sizeof(*d));
            continue;
        }
        memset(d, 0, sizeof(*d));
        d->page = how & 0x40 ? fin_u32(in) : fin_u8(in) % (e->pool.count + 1);
        d->offset = fin_u16(in) % 4200;
        d->len = rx ? 64 + fin_u16(in) % 4100 : fin_u16(in) % 4200;
        if (!(how & 0x80) && d->offset + d->len > XNA_PAGE_SIZE) {
            d->offset = (uint16_t)(XNA_PAGE_SIZE - d->len % XNA_PAGE_SIZE);
            d->len %= XNA_PAGE_SIZE;
        }
        d->flags = how & 0x38 ? XNA_DESC_MORE : 0;
        if (how & 0x20) {
            d->flags |= fin_u8(in) & 0x1f;
            d->csum_start = fin_u16(in);
            d->csum_offset = fin_u16(in);
        }
        if (how & 0x04 && (how & 0x03) == 0x03) {
            d->reserved = 1;
        }
    }
}

static bool ref_desc_ok(const Env *e, const struct xna_desc *d)
{
    return d->page < e->pool.count && d->reserved == 0 &&
           d->offset + d->len <= XNA_PAGE_SIZE;
}

/* ---------------------------------------------------------------------
 * Descriptor fetch
 */

static void fuzz_desc_fetch(FuzzIn *in)
{
    Env e;
    struct xna_desc d, raw;
    uint32_t idx, pool_pages_arg;
    bool ok;

    env_init(in, &e);
    idx = fin_u32(in);
    pool_pages_arg = fin_u8(in) & 1 ? fin_u32(in) : e.pool.count;
    put_descs(in, &e, idx, 1, false);
    raw = *xna_wire_slot(&e.ring, idx);
    ok = xna_wire_desc_fetch(&e.ring, pool_pages_arg, idx, &d);
    /* The host is little-endian: the copy equals the slot. */
    FUZZ_CHECK(!memcmp(&d, &raw, sizeof(d)), "fetched copy differs");
    FUZZ_CHECK(ok == (raw.page < pool_pages_arg && raw.reserved == 0 &&
                      raw.offset + raw.len <= XNA_PAGE_SIZE),
               "fetch %d: page %u/%u offset %u len %u reserved %u", ok,
               raw.page, pool_pages_arg, raw.offset, raw.len, raw.reserved);
}

/* ---------------------------------------------------------------------
 * TX gather
 */

static void fuzz_tx_gather(FuzzIn *in)
{
    static uint8_t buf[XNA_MAX_FRAME_LEN + 64], want[XNA_MAX_FRAME_LEN];
    Env e;
    uint32_t idx, prod, len = 0xdead, next = 0xdead, bad = 0xdead, i;
    uint32_t total = 0, n = 0, rbad;
    XnaWireStatus st, rst = XNA_WIRE_OK;
    struct xna_desc first = { 0 };
    unsigned int count;

    env_init(in, &e);
    idx = fin_u32(in);
    count = fin_u8(in) % 24;
    prod = fin_u8(in) & 0x80 ? fin_u32(in) : idx + count;
    put_descs(in, &e, idx, count, false);
    memcpy(shadow_ring[0], ring_pages[0], XNA_PAGE_SIZE);
    memcpy(shadow_ring[1], ring_pages[1], XNA_PAGE_SIZE);
    memset(buf, 0xee, sizeof(buf));

    st = xna_wire_tx_gather(&e.ring, &e.pool, idx, prod, buf, &len, &next,
                            &bad);

    /* The reference walk of the spec's TX rules. */
    rbad = idx;
    for (i = idx;; i++) {
        const struct xna_desc *d = xna_wire_slot(&e.ring, i);

        if (i == prod) {
            rst = XNA_WIRE_UNTERMINATED;
            break;
        }
        if (!ref_desc_ok(&e, d) || d->len == 0 ||
            (d->flags & ~XNA_DESC_FLAGS_TX)) {
            rst = XNA_WIRE_BAD_DESC;
            rbad = i;
            break;
        }
        if (n == 0) {
            first = *d;
        }
        if (++n > XNA_MAX_FRAGS || total + d->len > XNA_MAX_FRAME_LEN) {
            rst = XNA_WIRE_TOO_LONG;
            break;
        }
        memcpy(want + total, pool_pages[d->page] + d->offset, d->len);
        total += d->len;
        if (!(d->flags & XNA_DESC_MORE)) {
            break;
        }
    }
    if (rst == XNA_WIRE_OK && total < XNA_MIN_FRAME_LEN) {
        rst = XNA_WIRE_TOO_SHORT;
    }
    if (rst == XNA_WIRE_OK && (first.flags & XNA_DESC_CSUM_PARTIAL) &&
        (uint32_t)first.csum_start + first.csum_offset + 2 > total) {
        rst = XNA_WIRE_BAD_CSUM;
    }

    FUZZ_CHECK(st == rst, "gather %d, expected %d", st, rst);
    FUZZ_CHECK(!memcmp(shadow_ring[0], ring_pages[0], XNA_PAGE_SIZE) &&
               !memcmp(shadow_ring[1], ring_pages[1], XNA_PAGE_SIZE),
               "gather wrote to the TX ring");
    if (st == XNA_WIRE_BAD_DESC) {
        FUZZ_CHECK(bad == rbad, "bad slot %u, expected %u", bad, rbad);
    }
    if (st != XNA_WIRE_OK) {
        return;
    }
    FUZZ_CHECK(len == total && next == idx + n, "len %u next %u, expected "
               "%u %u", len, next, total, idx + n);
    FUZZ_CHECK(len >= XNA_MIN_FRAME_LEN && len <= XNA_MAX_FRAME_LEN &&
               n <= XNA_MAX_FRAGS, "frame bounds");
    for (i = len; i < sizeof(buf); i++) {
        FUZZ_CHECK(buf[i] == 0xee, "gather wrote past the frame (%u)", i);
    }
    if (first.flags & XNA_DESC_CSUM_PARTIAL) {
        uint32_t at = (uint32_t)first.csum_start + first.csum_offset, s = 0;

        /* Only the two checksum bytes differ, and they complete the sum. */
        for (i = 0; i < len; i++) {
            FUZZ_CHECK(buf[i] == want[i] || i == at || i == at + 1,
                       "gathered byte %u", i);
        }
        if (!(first.csum_offset & 1)) {
            for (i = first.csum_start; i < len; i++) {
                s += (i - first.csum_start) & 1 ? buf[i]
                                                : (uint32_t)buf[i] << 8;
            }
            s += (uint32_t)want[at] << 8 | want[at + 1];
            FUZZ_CHECK(fold(s) == 0xffff, "filled checksum does not sum");
        }
    } else {
        FUZZ_CHECK(!memcmp(buf, want, len), "gathered bytes differ");
    }
}

/* ---------------------------------------------------------------------
 * RX placement
 */

static void fuzz_rx_place(FuzzIn *in)
{
    static uint8_t frame[XNA_MAX_FRAME_LEN + 1];
    Env e;
    uint32_t idx, posted, len, next = 0xdead, bad = 0xdead, i;
    uint32_t n = 0, cap = 0, off = 0, rbad;
    uint16_t flags;
    XnaWireStatus st, rst = XNA_WIRE_OK;
    struct xna_desc d[XNA_MAX_FRAGS];
    unsigned int count;

    env_init(in, &e);
    idx = fin_u32(in);
    count = fin_u8(in) % 24;
    posted = fin_u8(in) & 0x80 ? fin_u32(in) : count;
    len = fin_u16(in) % (XNA_MAX_FRAME_LEN + 2);
    flags = fin_u16(in) & 0x0f & ~XNA_DESC_MORE;
    for (i = 0; i < len; i++) {
        frame[i] = (uint8_t)(i * 11 + 3);
    }
    put_descs(in, &e, idx, count, true);
    for (i = 0; i < POOL_MAX; i++) {
        memcpy(shadow_pool[i], pool_pages[i], XNA_PAGE_SIZE);
    }
    memcpy(shadow_ring[0], ring_pages[0], XNA_PAGE_SIZE);
    memcpy(shadow_ring[1], ring_pages[1], XNA_PAGE_SIZE);

    /* The reference: does it fit, and in which buffers. */
    rbad = idx;
    if (len == 0 || len > XNA_MAX_FRAME_LEN) {
        rst = XNA_WIRE_TOO_LONG;
    }
    while (rst == XNA_WIRE_OK && cap < len) {
        if (n == XNA_MAX_FRAGS) {
            rst = XNA_WIRE_TOO_LONG;
        } else if (n == posted) {
            rst = XNA_WIRE_NO_ROOM;
        } else {
            d[n] = *xna_wire_slot(&e.ring, idx + n);
            if (!ref_desc_ok(&e, &d[n]) || d[n].len < XNA_MIN_RX_BUFFER) {
                rst = XNA_WIRE_BAD_DESC;
                rbad = idx + n;
            } else {
                cap += d[n].len;
                n++;
            }
        }
    }

    st = xna_wire_rx_place(&e.ring, &e.pool, idx, posted, frame, len, flags,
                           &next, &bad);
    FUZZ_CHECK(st == rst, "place %d, expected %d", st, rst);
    if (st == XNA_WIRE_BAD_DESC) {
        FUZZ_CHECK(bad == rbad, "bad slot %u, expected %u", bad, rbad);
    }
    if (st != XNA_WIRE_OK) {
        /* A frame that does not go in writes nothing anywhere. */
        FUZZ_CHECK(!memcmp(shadow_ring[0], ring_pages[0], XNA_PAGE_SIZE) &&
                   !memcmp(shadow_ring[1], ring_pages[1], XNA_PAGE_SIZE),
                   "refused placement wrote to the ring");
        for (i = 0; i < POOL_MAX; i++) {
            FUZZ_CHECK(!memcmp(shadow_pool[i], pool_pages[i], XNA_PAGE_SIZE),
                       "refused placement wrote to pool page %u", i);
        }
        return;
    }
    FUZZ_CHECK(next == idx + n && n <= posted && n <= XNA_MAX_FRAGS,
               "next %u, expected %u", next, idx + n);

    /* Apply the expected writes to the shadows; then all must match. */
    for (i = 0; i < n; i++) {
        uint8_t *slot = shadow_ring[((idx + i) & (e.ring.entries - 1)) /
                                    XNA_DESCS_PER_PAGE] +
                        ((idx + i) % XNA_DESCS_PER_PAGE) * 16;
        uint32_t chunk = d[i].len < len - off ? d[i].len : len - off;
        uint16_t f = i + 1 < n ? flags | XNA_DESC_MORE : flags;

        memcpy(shadow_pool[d[i].page] + d[i].offset, frame + off, chunk);
        off += chunk;
        FUZZ_CHECK(chunk > 0, "buffer %u left empty", i);
        slot[offsetof(struct xna_desc, len)] = chunk & 0xff;
        slot[offsetof(struct xna_desc, len) + 1] = chunk >> 8;
        slot[offsetof(struct xna_desc, flags)] = f & 0xff;
        slot[offsetof(struct xna_desc, flags) + 1] = f >> 8;
    }
    FUZZ_CHECK(off == len, "placed %u of %u bytes", off, len);
    FUZZ_CHECK(!memcmp(shadow_ring[0], ring_pages[0], XNA_PAGE_SIZE) &&
               !memcmp(shadow_ring[1], ring_pages[1], XNA_PAGE_SIZE),
               "ring write-back differs from len/flags of the frame");
    for (i = 0; i < POOL_MAX; i++) {
        FUZZ_CHECK(!memcmp(shadow_pool[i], pool_pages[i], XNA_PAGE_SIZE),
                   "pool page %u differs from the placed frame", i);
    }
}

/* ---------------------------------------------------------------------
 * Control messages and status helpers
 */

static void fuzz_msg_decode(FuzzIn *in)
{
    uint8_t flags = fin_u8(in);
    uint32_t num_vis = flags & 0x80 ? fin_u32(in) : flags % 17;
    bool hello_done = flags & 0x20;
    size_t why_len = flags & 0x40 ? 1 + fin_u8(in) % WHY_LEN : WHY_LEN;
    struct xna_msg raw;
    XnaWireMsg out;
    XnaWireStatus st, rst;
    char *why = malloc(why_len);
    uint16_t type, reserved;
    uint32_t a, b;

    fin_bytes(in, &raw, sizeof(raw));
    type = raw.type;
    reserved = raw.reserved;
    a = raw.u.hello.version;
    b = raw.u.hello.nr_vis;
    memset(why, 0x77, why_len);
    st = xna_wire_msg_decode(&raw, hello_done, num_vis, &out, why, why_len);

    if (reserved || (!hello_done && type != XNA_MSG_HELLO)) {
        rst = XNA_WIRE_BAD_MSG;
    } else if (type == XNA_MSG_HELLO) {
        rst = XNA_WIRE_OK;
    } else if (type == XNA_MSG_VI_RESET) {
        rst = a < num_vis ? XNA_WIRE_OK : XNA_WIRE_BAD_MSG;
    } else {
        rst = XNA_WIRE_BAD_MSG;
    }
    FUZZ_CHECK(st == rst, "decode type %u reserved %u: %d, expected %d",
               type, reserved, st, rst);
    if (st == XNA_WIRE_OK) {
        FUZZ_CHECK(out.type == type, "type");
        if (type == XNA_MSG_HELLO) {
            FUZZ_CHECK(out.version == a && out.nr_vis == b, "hello fields");
        } else {
            FUZZ_CHECK(out.vi == a && out.vi < num_vis, "vi %u", out.vi);
        }
    } else {
        FUZZ_CHECK(memchr(why, '\0', why_len) != NULL,
                   "reason not terminated within %zu bytes", why_len);
    }
    free(why);
}

static void fuzz_status(FuzzIn *in)
{
    XnaWireStatus st;

    for (st = XNA_WIRE_OK; st <= XNA_WIRE_BAD_MSG; st++) {
        uint32_t r = xna_wire_status_reason(st);
        const char *t = xna_wire_status_text(st);

        FUZZ_CHECK(t && *t, "no text for %d", st);
        FUZZ_CHECK(r <= XNA_ERR_NIC, "reason %u", r);
        FUZZ_CHECK((r == XNA_ERR_NONE) ==
                   (st == XNA_WIRE_OK || st == XNA_WIRE_NO_ROOM),
                   "a refusal that does not stop the VI: %d", st);
    }
    st = (XnaWireStatus)fin_u32(in);
    FUZZ_CHECK(xna_wire_status_text(st) != NULL, "text of %d", st);
    (void)xna_wire_status_reason(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzIn in;

    setup();
    fin_init(&in, data, size);
    switch (fin_u8(&in) % 6) {
    case 0:
        fuzz_parse_uint(&in);
        break;
    case 1:
        fuzz_desc_fetch(&in);
        break;
    case 2:
        fuzz_tx_gather(&in);
        break;
    case 3:
        fuzz_rx_place(&in);
        break;
    case 4:
        fuzz_msg_decode(&in);
        break;
    case 5:
        fuzz_status(&in);
        break;
    }
    return 0;
}
