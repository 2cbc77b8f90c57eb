/*
 * Fuzz target: the guest core's parsers of the backend's xenstore keys
 *
 * xna_parse_u64() and xna_parse_mac() on arbitrary strings, and
 * xna_backend_info_parse() on a backend directory whose every key the
 * input chooses (a value, missing, a read error, or a canned good value
 * so that whole valid directories are common), then xna_layout_choose()
 * within what was parsed, xna_pair_match() with a netfront candidate and
 * xna_backend_unchanged() with a frontend generation.
 *
 * The parsers are checked against reference parsers written here from
 * the spec (the whole value a decimal number in range; a MAC as six
 * hex pairs with colons); a successful xna_backend_info_parse() must
 * agree with them key by key, and a failing one must have a key that
 * they refuse.  The layout must respect every limit and want, be what
 * xna_layout_init() gives for its sizes, and place each VI's buffers in
 * its own share of the pool.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <arpa/inet.h>

#include "fuzz-util.h"
#include "xna-front.h"

#define VAL_MAX 80

/* ---------------------------------------------------------------------
 * Reference parsers
 */

static bool ref_u64(const char *s, uint64_t max, uint64_t *val)
{
    unsigned __int128 v = 0;

    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
        v = v * 10 + (unsigned int)(*s - '0');
        if (v > max) {
            return false;
        }
    }
    *val = (uint64_t)v;
    return true;
}

static int ref_hex(char c)
{
    const char *d = "0123456789abcdef", *p;

    if (c >= 'A' && c <= 'F') {
        c = (char)(c - 'A' + 'a');
    }
    p = c ? strchr(d, c) : NULL;
    return p ? (int)(p - d) : -1;
}

static bool ref_mac(const char *s, uint8_t mac[6])
{
    unsigned int i;

    if (strlen(s) != 17) {
        return false;
    }
    for (i = 0; i < 6; i++) {
        int hi = ref_hex(s[3 * i]), lo = ref_hex(s[3 * i + 1]);

        if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':')) {
            return false;
        }
        mac[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* Reference of source-ips: inet_pton for IPv4, 32 hex digits for IPv6. */
static bool ref_sources(const char *s, uint8_t *n4, uint8_t src4[][4],
                        uint8_t *n6, uint8_t src6[][16])
{
    char tok[VAL_MAX + 1];
    const char *p = s;
    size_t n;
    unsigned int i;

    *n4 = *n6 = 0;
    do {
        n = strcspn(p, " ");
        if (!n || n > VAL_MAX) {
            return false;
        }
        memcpy(tok, p, n);
        tok[n] = '\0';
        if (n == 32) {
            if (*n6 == XNA_MAX_SOURCE_IPS) {
                return false;
            }
            for (i = 0; i < 16; i++) {
                int hi = ref_hex(tok[2 * i]), lo = ref_hex(tok[2 * i + 1]);

                if (hi < 0 || lo < 0) {
                    return false;
                }
                src6[*n6][i] = (uint8_t)(hi << 4 | lo);
            }
            (*n6)++;
        } else {
            if (*n4 == XNA_MAX_SOURCE_IPS ||
                inet_pton(AF_INET, tok, src4[*n4]) != 1) {
                return false;
            }
            (*n4)++;
        }
        p += n;
    } while (*p++ == ' ');
    return true;
}

static bool is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

/* ---------------------------------------------------------------------
 * The backend directory
 */

enum { K_VERSION, K_GENERATION, K_MAX_VIS, K_MAX_FILTERS, K_MAX_TX, K_MAX_RX,
       K_POOL, K_MTU, K_CSUM, K_SG, K_VIF, K_MAC, K_NIC, K_WIRE, K_SRC,
       K_NR };

static const struct {
    const char *name;
    const char *good;       /* a valid value, for the canned choice */
} keys[K_NR] = {
    [K_VERSION] = { "protocol-version", "1" },
    [K_GENERATION] = { "generation", "18446744073709551615" },
    [K_MAX_VIS] = { "max-vis", "4" },
    [K_MAX_FILTERS] = { "max-filters", "1024" },
    [K_MAX_TX] = { "max-tx-ring-entries", "1024" },
    [K_MAX_RX] = { "max-rx-ring-entries", "4096" },
    [K_POOL] = { "max-pool-pages", "8192" },
    [K_MTU] = { "mtu", "1500" },
    [K_CSUM] = { "feature-csum-offload", "1" },
    [K_SG] = { "feature-sg", "0" },
    [K_VIF] = { "vif", "-1" },
    [K_MAC] = { "mac", "00:16:3E:0a:0b:0c" },
    [K_NIC] = { "nic", "loopback" },
    [K_WIRE] = { "feature-wire-mac", "1" },
    [K_SRC] = { "source-ips", "10.0.0.1 fd000000000000000000000000000001" },
};

typedef struct Dir {
    int err[K_NR];          /* 0, -ENOENT or -EIO */
    char val[K_NR][VAL_MAX + 1];
    unsigned int reads[K_NR];
} Dir;

/* As the module's reader: a value that does not fit is -EINVAL. */
static int dir_read(void *opaque, const char *key, char *buf, size_t len)
{
    Dir *d = opaque;
    unsigned int k;

    for (k = 0; k < K_NR; k++) {
        if (!strcmp(key, keys[k].name)) {
            break;
        }
    }
    FUZZ_CHECK(k < K_NR, "read of unknown key %s", key);
    FUZZ_CHECK(len > 0, "read into an empty buffer");
    d->reads[k]++;
    if (d->err[k]) {
        return d->err[k];
    }
    if (strlen(d->val[k]) >= len) {
        return -EINVAL;
    }
    strcpy(buf, d->val[k]);
    return 0;
}

/* Reference: is key @k acceptable, and its value (def when missing). */
static bool ref_num(const Dir *d, unsigned int k, size_t buflen,
                    uint64_t min, uint64_t max, bool required, uint64_t def,
                    uint64_t *v)
{
    if (d->err[k] == -ENOENT && !required) {
        *v = def;
        return true;
    }
    return !d->err[k] && strlen(d->val[k]) < buflen &&
           ref_u64(d->val[k], max, v) && *v >= min;
}

static void check_backend_info(Dir *d)
{
    struct xna_backend_info bi;
    uint64_t v[K_NR];
    uint8_t mac[6] = { 0 };
    bool ok = true, has_mac = false;
    int32_t vif = -1;
    char nic[16] = "";
    uint8_t n4 = 0, n6 = 0, src4[XNA_MAX_SOURCE_IPS][4];
    uint8_t src6[XNA_MAX_SOURCE_IPS][16];
    size_t bl = 64;         /* the core's buffer; longer values refused */
    int r;

    memset(d->reads, 0, sizeof(d->reads));
    r = xna_backend_info_parse(&bi, dir_read, d);
    FUZZ_CHECK(r == 0 || r == -ENOENT || r == -EINVAL || r == -EIO ||
               r == -EPROTONOSUPPORT, "parse: %d", r);

    ok &= ref_num(d, K_VERSION, bl, 1, UINT32_MAX, true, 0, &v[K_VERSION]);
    ok &= ref_num(d, K_GENERATION, bl, 0, UINT64_MAX, true, 0,
                  &v[K_GENERATION]);
    ok &= ref_num(d, K_MAX_VIS, bl, 1, XNA_MAX_VIS, true, 0, &v[K_MAX_VIS]);
    ok &= ref_num(d, K_MAX_FILTERS, bl, 0, UINT32_MAX, false, 0,
                  &v[K_MAX_FILTERS]);
    ok &= ref_num(d, K_MAX_TX, bl, XNA_MIN_RING_ENTRIES, XNA_MAX_RING_ENTRIES,
                  true, 0, &v[K_MAX_TX]) && is_pow2(v[K_MAX_TX]);
    ok &= ref_num(d, K_MAX_RX, bl, XNA_MIN_RING_ENTRIES, XNA_MAX_RING_ENTRIES,
                  true, 0, &v[K_MAX_RX]) && is_pow2(v[K_MAX_RX]);
    ok &= ref_num(d, K_POOL, bl, 1, XNA_MAX_POOL_PAGES, true, 0, &v[K_POOL]);
    ok &= ref_num(d, K_MTU, bl, 68, 9000, false, 1500, &v[K_MTU]);
    ok &= ref_num(d, K_CSUM, bl, 0, 1, false, 0, &v[K_CSUM]);
    ok &= ref_num(d, K_SG, bl, 0, 1, false, 0, &v[K_SG]);
    ok &= ref_num(d, K_WIRE, bl, 0, 1, false, 0, &v[K_WIRE]);
    if (d->err[K_VIF] != -ENOENT) {
        ok &= !d->err[K_VIF] && strlen(d->val[K_VIF]) < bl &&
              (!strcmp(d->val[K_VIF], "-1") ||
               (ref_u64(d->val[K_VIF], INT32_MAX, &v[K_VIF]) &&
                (vif = (int32_t)v[K_VIF]) >= 0));
    }
    if (d->err[K_MAC] != -ENOENT) {
        ok &= !d->err[K_MAC] && strlen(d->val[K_MAC]) < bl &&
              ref_mac(d->val[K_MAC], mac);
        has_mac = true;
    }
    if (d->err[K_NIC] != -ENOENT) {
        ok &= !d->err[K_NIC] && strlen(d->val[K_NIC]) < bl;
        strncpy(nic, d->val[K_NIC], sizeof(nic) - 1);
    }
    if (d->err[K_SRC] != -ENOENT) {
        ok &= !d->err[K_SRC] &&
              ref_sources(d->val[K_SRC], &n4, src4, &n6, src6);
    }

    FUZZ_CHECK((r == 0) == ok, "parse %d, reference %s", r,
               ok ? "accepts" : "refuses");
    if (r) {
        return;
    }
    FUZZ_CHECK(bi.protocol_version == v[K_VERSION], "protocol-version");
    FUZZ_CHECK(bi.generation == v[K_GENERATION], "generation");
    FUZZ_CHECK(bi.max_vis == v[K_MAX_VIS], "max-vis");
    FUZZ_CHECK(bi.max_filters == v[K_MAX_FILTERS], "max-filters");
    FUZZ_CHECK(bi.max_tx_ring_entries == v[K_MAX_TX], "max-tx");
    FUZZ_CHECK(bi.max_rx_ring_entries == v[K_MAX_RX], "max-rx");
    FUZZ_CHECK(bi.max_pool_pages == v[K_POOL], "max-pool-pages");
    FUZZ_CHECK(bi.mtu == v[K_MTU], "mtu %u vs %llu", bi.mtu,
               (unsigned long long)v[K_MTU]);
    FUZZ_CHECK(bi.csum_offload == v[K_CSUM] && bi.sg == v[K_SG], "features");
    FUZZ_CHECK(bi.vif == vif, "vif %d vs %d", bi.vif, vif);
    FUZZ_CHECK(bi.has_mac == has_mac &&
               (!has_mac || !memcmp(bi.mac, mac, 6)), "mac");
    FUZZ_CHECK(memchr(bi.nic, '\0', sizeof(bi.nic)) && !strcmp(bi.nic, nic),
               "nic '%s' vs '%s'", bi.nic, nic);
    FUZZ_CHECK(bi.wire_mac == v[K_WIRE], "feature-wire-mac");
    FUZZ_CHECK(bi.nr_src4 == n4 && bi.nr_src6 == n6 &&
               !memcmp(bi.src4, src4, (size_t)n4 * 4) &&
               !memcmp(bi.src6, src6, (size_t)n6 * 16), "source-ips");
}

/* ---------------------------------------------------------------------
 * Layout
 */

static void check_buf(const struct xna_layout *l, unsigned int vi,
                      uint32_t page, uint16_t off)
{
    FUZZ_CHECK(page >= vi * l->pool_pages_per_vi &&
               page < (vi + 1) * l->pool_pages_per_vi,
               "vi %u buffer in pool page %u", vi, page);
    FUZZ_CHECK(off % XNA_BUF_SIZE == 0 && off + XNA_BUF_SIZE <= XNA_PAGE_SIZE,
               "buffer offset %u", off);
}

static uint32_t floor_pow2(uint32_t v)
{
    uint32_t r = 1;

    while (r * 2 <= v && r * 2) {
        r *= 2;
    }
    return r;
}

static void check_layout(const struct xna_backend_info *bi, FuzzIn *in)
{
    unsigned int want_vis = fin_u8(in) % 20;
    unsigned int want_tx = fin_u16(in), want_rx = fin_u16(in);
    struct xna_layout l, l2;
    uint32_t cap_tx, cap_rx, page, page2, slot;
    uint16_t off, off2;
    unsigned int vi, i;
    int r;

    r = xna_layout_choose(&l, bi, want_vis, want_tx, want_rx);
    /* One VI with the smallest rings: 512 buffers, two per page. */
    if (bi->max_pool_pages < (2 * XNA_MIN_RING_ENTRIES) / XNA_BUFS_PER_PAGE) {
        FUZZ_CHECK(r == -ENOSPC, "layout %d in %u pool pages", r,
                   bi->max_pool_pages);
        return;
    }
    FUZZ_CHECK(r == 0, "layout %d", r);
    FUZZ_CHECK(xna_layout_init(&l2, l.num_vis, l.tx_entries, l.rx_entries)
               == 0 && !memcmp(&l, &l2, sizeof(l)), "not xna_layout_init's");
    FUZZ_CHECK(l.num_vis >= 1 && l.num_vis <= (want_vis ? want_vis : 1) &&
               l.num_vis <= bi->max_vis, "vis %u (want %u, max %u)",
               l.num_vis, want_vis, bi->max_vis);
    cap_tx = want_tx < bi->max_tx_ring_entries ? want_tx
                                               : bi->max_tx_ring_entries;
    cap_rx = want_rx < bi->max_rx_ring_entries ? want_rx
                                               : bi->max_rx_ring_entries;
    FUZZ_CHECK(l.tx_entries <= floor_pow2(cap_tx < XNA_MIN_RING_ENTRIES ?
                                          XNA_MIN_RING_ENTRIES : cap_tx),
               "tx %u beyond want %u / max %u", l.tx_entries, want_tx,
               bi->max_tx_ring_entries);
    FUZZ_CHECK(l.rx_entries <= floor_pow2(cap_rx < XNA_MIN_RING_ENTRIES ?
                                          XNA_MIN_RING_ENTRIES : cap_rx),
               "rx %u beyond want %u / max %u", l.rx_entries, want_rx,
               bi->max_rx_ring_entries);
    FUZZ_CHECK(l.pool_pages <= bi->max_pool_pages, "pool %u of %u",
               l.pool_pages, bi->max_pool_pages);
    FUZZ_CHECK(l.pool_dir_pages * XNA_POOL_REFS_PER_DIR_PAGE >= l.pool_pages,
               "directory too small");
    FUZZ_CHECK(l.total_pages == l.pool_base + l.pool_pages &&
               l.pool_base == l.dir_base + l.pool_dir_pages &&
               l.dir_base == 1 + l.num_vis * l.vi_pages, "page numbering");
    FUZZ_CHECK(xna_layout_rx_ring_page(&l, l.num_vis - 1, l.rx_ring_pages - 1)
               == l.dir_base - 1, "ring pages overlap the directory");

    /* Sampled slots: inside the VI's share, TX and RX never the same. */
    for (i = 0; i < 4; i++) {
        vi = fin_u8(in) % l.num_vis;
        slot = fin_u16(in);
        xna_layout_tx_buf(&l, vi, slot, &page, &off);
        check_buf(&l, vi, page, off);
        xna_layout_rx_buf(&l, vi, slot, &page2, &off2);
        check_buf(&l, vi, page2, off2);
        FUZZ_CHECK(page != page2 || off != off2, "TX and RX share a buffer");
        xna_layout_tx_buf(&l, vi, slot + 1, &page2, &off2);
        FUZZ_CHECK(l.tx_entries == 1 || page != page2 || off != off2,
                   "two TX slots share a buffer");
    }
}

/* ---------------------------------------------------------------------
 * Pairing with a netfront, and the generation check after a suspend
 */

static void take_str(FuzzIn *in, char *s, size_t max);

static void check_pairing(const struct xna_backend_info *bi, FuzzIn *in)
{
    static char name[VAL_MAX + 1];
    struct xna_pair_candidate c;
    enum xna_pair_verdict pv, want;
    uint8_t how = fin_u8(in), mac[6];
    uint32_t backend_id = fin_u8(in) % 3;
    uint64_t idx;
    bool named;

    if (how & 1) {
        take_str(in, name, VAL_MAX);
    } else {
        snprintf(name, sizeof(name), "vif-%d",
                 how & 2 ? bi->vif : (int)fin_u8(in));
    }
    memcpy(mac, bi->mac, 6);
    if (how & 4) {
        fin_bytes(in, mac, how & 8 ? 6 : 1);
    }
    c.xenbus_name = how & 0x10 ? NULL : name;
    c.mac = how & 0x20 ? NULL : mac;
    c.backend_id = how & 0x40 ? fin_u8(in) % 3 : backend_id;
    pv = xna_pair_match(bi, backend_id, &c);

    /* "vif-<n>" names netfront n; the backend names one by vif or mac. */
    if (!c.xenbus_name || strncmp(name, "vif-", 4) ||
        !ref_u64(name + 4, INT32_MAX, &idx)) {
        named = false;
    } else if (bi->vif >= 0) {
        named = idx == (uint64_t)bi->vif;
    } else {
        named = bi->has_mac && c.mac && !memcmp(mac, bi->mac, 6);
    }
    want = !named ? XNA_PAIR_NO : c.backend_id == backend_id ?
           XNA_PAIR_YES : XNA_PAIR_OTHER_BACKEND;
    FUZZ_CHECK(pv == want, "pair '%s' vif %d: %d, expected %d", name,
               bi->vif, pv, want);
}

static void check_unchanged(Dir *d, FuzzIn *in)
{
    static Dir fe;
    uint64_t gen, bg = 0, fg = 0;
    bool r, bok, fok;
    uint8_t how = fin_u8(in);

    memset(&fe, 0, sizeof(fe));
    if (how & 1) {
        take_str(in, fe.val[K_GENERATION], VAL_MAX);
    } else {
        strcpy(fe.val[K_GENERATION], d->val[K_GENERATION]);
    }
    fe.err[K_GENERATION] = how & 2 ? -ENOENT : 0;
    bok = !d->err[K_GENERATION] && strlen(d->val[K_GENERATION]) < 32 &&
          ref_u64(d->val[K_GENERATION], UINT64_MAX, &bg);
    fok = !fe.err[K_GENERATION] && strlen(fe.val[K_GENERATION]) < 32 &&
          ref_u64(fe.val[K_GENERATION], UINT64_MAX, &fg);
    gen = how & 4 ? bg : how & 8 ? fg : (uint64_t)fin_u32(in);
    r = xna_backend_unchanged(gen, dir_read, d, dir_read, &fe);
    FUZZ_CHECK(r == (bok && fok && bg == gen && fg == gen),
               "unchanged(%llu) = %d", (unsigned long long)gen, r);
}

/* ---------------------------------------------------------------------
 * Entry
 */

/* A NUL-terminated string from the input, up to a 0 byte or @max. */
static void take_str(FuzzIn *in, char *s, size_t max)
{
    size_t n = 0;

    while (n < max && !fin_done(in)) {
        char c = (char)fin_u8(in);

        if (!c) {
            break;
        }
        s[n++] = c;
    }
    s[n] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static Dir d;
    struct xna_backend_info bi;
    char s[VAL_MAX + 1];
    uint8_t mode, mac[6], rmac[6];
    uint64_t max, v = 0, rv = 0;
    unsigned int k;
    bool ok;
    FuzzIn in;
    int r;

    fin_init(&in, data, size);
    mode = fin_u8(&in);
    switch (mode % 3) {
    case 0:
        max = mode & 0x80 ? UINT64_MAX : fin_u32(&in);
        take_str(&in, s, VAL_MAX);
        v = 0x5a5a;
        r = xna_parse_u64(s, max, &v);
        ok = ref_u64(s, max, &rv);
        FUZZ_CHECK((r == 0) == ok, "parse_u64('%s', %llu) = %d", s,
                   (unsigned long long)max, r);
        FUZZ_CHECK(r == 0 || r == -EINVAL, "parse_u64 %d", r);
        FUZZ_CHECK(ok ? v == rv : v == 0x5a5a, "value %llu vs %llu",
                   (unsigned long long)v, (unsigned long long)rv);
        break;
    case 1:
        take_str(&in, s, VAL_MAX);
        memset(mac, 0, 6);
        r = xna_parse_mac(s, mac);
        ok = ref_mac(s, rmac);
        FUZZ_CHECK((r == 0) == ok, "parse_mac('%s') = %d", s, r);
        FUZZ_CHECK(!ok || !memcmp(mac, rmac, 6), "mac bytes");
        break;
    case 2:
        memset(&d, 0, sizeof(d));
        for (k = 0; k < K_NR; k++) {
            uint8_t how = fin_u8(&in);

            switch (how & 3) {
            case 0:
                take_str(&in, d.val[k], VAL_MAX);
                break;
            case 1:
                strcpy(d.val[k], keys[k].good);
                break;
            case 2:
                d.err[k] = -ENOENT;
                break;
            case 3:
                /* Mostly good: a read error would end the parse early. */
                if ((how & 0x1c) == 0x1c) {
                    d.err[k] = -EIO;
                } else {
                    strcpy(d.val[k], keys[k].good);
                }
                break;
            }
        }
        check_backend_info(&d);
        if (xna_backend_info_parse(&bi, dir_read, &d) == 0) {
            check_layout(&bi, &in);
            check_pairing(&bi, &in);
        }
        check_unchanged(&d, &in);
        break;
    }
    return 0;
}
