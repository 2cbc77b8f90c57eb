/*
 * Fuzz target: frame classification and checksums (hw/net/xen-net-accel/xna-classify.c)
 *
 * The backend classifies every frame a guest sends and every frame the
 * NIC delivers, and fills or verifies their checksums, so all of it runs
 * on bytes from the other side.  Input: u16 csum_start, u16 csum_offset
 * (little-endian), then the frame.
 *
 * Beyond "no crash", it checks that the result agrees with the frame
 * (offsets inside it, keys equal to its bytes, an independent reading of
 * which frames carry TCP/UDP), that a checksum fill leaves a region that
 * sums to zero, and that fill-then-verify succeeds on every TCP/UDP frame
 * and fails once any byte of the L4 part changes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "fuzz-util.h"
#include "xna-classify.h"

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2) {
        sum += be16(p + i);
    }
    if (len & 1) {
        sum += (uint32_t)p[len - 1] << 8;
    }
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)sum;
}

/*
 * An independent reading of where the TCP/UDP header starts (0: none)
 * and where the IP packet ends, written from the spec's rules rather
 * than from xna-classify.c: one optional VLAN tag, IPv4 without fragments
 * or IPv6 without extension headers, a length field that fits the frame,
 * and room for the whole L4 header.
 */
static unsigned int ref_l4(const uint8_t *f, size_t len, unsigned int *l3,
                           unsigned int *end, uint8_t *proto)
{
    unsigned int off = XNA_ETH_HLEN, l4, min;
    uint16_t type;

    *l3 = 0;
    if (len < XNA_ETH_HLEN) {
        return 0;
    }
    type = be16(f + 12);
    if (type == 0x8100) {
        if (len < 18) {
            return 0;
        }
        type = be16(f + 16);
        off = 18;
    }
    *l3 = off;
    if (type == 0x0800) {
        unsigned int ihl, tot;

        if (len < off + 20 || f[off] >> 4 != 4) {
            return 0;
        }
        ihl = (f[off] & 0xf) * 4;
        tot = be16(f + off + 2);
        if (ihl < 20 || tot < ihl || off + tot > len ||
            (be16(f + off + 6) & 0x3fff)) {
            return 0;
        }
        *proto = f[off + 9];
        l4 = off + ihl;
        *end = off + tot;
    } else if (type == 0x86dd) {
        if (len < off + 40 || f[off] >> 4 != 6 ||
            off + 40 + be16(f + off + 4) > len) {
            return 0;
        }
        *proto = f[off + 6];
        l4 = off + 40;
        *end = l4 + be16(f + off + 4);
    } else {
        return 0;
    }
    if (*proto != 6 && *proto != 17) {
        return 0;
    }
    min = *proto == 6 ? 20 : 8;
    return *end - l4 >= min ? l4 : 0;
}

static void check_classify(const uint8_t *f, size_t len)
{
    XnaFlowInfo info;
    XnaFilterKey k;
    unsigned int l3, l4, end = 0;
    uint8_t proto = 0;
    bool ok = xna_classify(f, len, &info);

    FUZZ_CHECK(ok == (len >= XNA_ETH_HLEN), "len %zu", len);
    if (!ok) {
        return;
    }
    FUZZ_CHECK(info.l3_offset == XNA_ETH_HLEN ||
               (info.l3_offset == 18 && be16(f + 12) == 0x8100),
               "l3_offset %u", info.l3_offset);
    FUZZ_CHECK(info.l3_offset <= len, "l3_offset %u len %zu",
               info.l3_offset, len);

    l4 = ref_l4(f, len, &l3, &end, &proto);
    FUZZ_CHECK(info.l4_offset == l4, "l4_offset %u, expected %u",
               info.l4_offset, l4);
    if (!l4) {
        FUZZ_CHECK(info.l4_proto == 0 && !info.has_flow, "no L4 but proto %u",
                   info.l4_proto);
        return;
    }
    FUZZ_CHECK(info.l3_offset == l3, "l3 %u vs %u", info.l3_offset, l3);
    FUZZ_CHECK(info.l4_proto == proto, "proto %u vs %u", info.l4_proto, proto);
    FUZZ_CHECK(l4 + 4 <= len, "ports beyond the frame");

    /* The flow keys are the frame's own addresses and ports. */
    if (info.ethertype == 0x0800) {
        xna_filter_key_ipv4(&k, proto == 6, f + l3 + 16, 0);
    } else {
        FUZZ_CHECK(info.ethertype == 0x86dd, "ethertype %#x", info.ethertype);
        xna_filter_key_ipv6(&k, proto == 6, f + l3 + 24, 0);
    }
    memcpy(&k.dst_port, f + l4 + 2, 2);
    FUZZ_CHECK(!memcmp(&k, &info.dst_flow, sizeof(k)), "dst_flow key");
    FUZZ_CHECK(xna_filter_key_valid(&info.dst_flow) == (k.dst_port != 0),
               "dst_flow validity");
    if (info.ethertype == 0x0800) {
        xna_filter_key_ipv4(&k, proto == 6, f + l3 + 12, 0);
    } else {
        xna_filter_key_ipv6(&k, proto == 6, f + l3 + 8, 0);
    }
    memcpy(&k.dst_port, f + l4, 2);
    FUZZ_CHECK(!memcmp(&k, &info.src_flow, sizeof(k)), "src_flow key");
    FUZZ_CHECK(info.has_flow == (!(f[0] & 1) && info.dst_flow.dst_port &&
                                 info.src_flow.dst_port), "has_flow");
}

/* xna_csum_fill() with arbitrary offsets: bounds, and a zero-sum region. */
static void check_fill_raw(const uint8_t *f, size_t len, uint16_t start,
                           uint16_t offset)
{
    uint8_t *c = malloc(len ? len : 1);
    bool expect = start < len && offset <= len - start &&
                  len - start - offset >= 2;
    bool ok;
    size_t i, at = (size_t)start + offset;

    memcpy(c, f, len);
    ok = xna_csum_fill(c, len, start, offset);
    FUZZ_CHECK(ok == expect, "fill(len %zu, start %u, offset %u) = %d",
               len, start, offset, ok);
    for (i = 0; i < len; i++) {
        FUZZ_CHECK(c[i] == f[i] || (ok && (i == at || i == at + 1)),
                   "byte %zu changed", i);
    }
    /*
     * The stored sum replaces the seed: the region plus the seed sums to
     * zero (0xffff).  Only meaningful when the field is 16-bit aligned
     * with the region, as it is in every TCP/UDP header.
     */
    if (ok && !(offset & 1)) {
        uint32_t s = sum16(be16(f + at), c + start, len - start);

        FUZZ_CHECK(fold(s) == 0xffff, "region sums to %#x", fold(s));
        FUZZ_CHECK(be16(c + at) != 0, "0 stored");
    }
    free(c);
}

/*
 * On a TCP/UDP frame: seed the checksum field with the pseudo-header sum
 * (as Linux's CHECKSUM_PARTIAL leaves it), fill, and the result must
 * verify; then change one L4 byte and it must not.
 */
static void check_fill_verify(const uint8_t *f, size_t len, uint16_t pick)
{
    unsigned int l3, l4, end = 0, field, l4len, pos;
    uint8_t proto = 0, *c;
    uint32_t ph;

    l4 = ref_l4(f, len, &l3, &end, &proto);
    if (!l4) {
        FUZZ_CHECK(!xna_csum_verify(f, len), "verified a non-TCP/UDP frame");
        return;
    }
    (void)xna_csum_verify(f, len);

    /* Without the bytes after the IP packet: fill sums to the end. */
    c = malloc(end);
    memcpy(c, f, end);
    l4len = end - l4;
    field = proto == 6 ? 16 : 6;
    if (be16(c + 12) == 0x86dd || (l3 == 18 && be16(c + 16) == 0x86dd)) {
        ph = sum16(0, c + l3 + 8, 32);
    } else {
        ph = sum16(0, c + l3 + 12, 8);
    }
    ph = fold(ph + proto + l4len);
    c[l4 + field] = ph >> 8;
    c[l4 + field + 1] = ph & 0xff;
    FUZZ_CHECK(xna_csum_fill(c, end, l4, field), "fill refused");
    FUZZ_CHECK(xna_csum_verify(c, end), "fill then verify failed");

    /* Any single changed byte of the L4 part changes the sum. */
    pos = l4 + pick % l4len;
    c[pos] ^= (uint8_t)(pick >> 8) | 1;
    FUZZ_CHECK(!xna_csum_verify(c, end), "verified after byte %u changed",
               pos);
    free(c);
}

/*
 * The device verifies checksums at offsets a NIC found: any offsets and
 * protocol must give an answer without a read outside the frame, and
 * the offsets xna_classify() found the same answer as xna_csum_verify().
 */
static void check_verify_at(const uint8_t *f, size_t len, uint16_t a,
                            uint16_t b)
{
    XnaFlowInfo info;

    (void)xna_csum_verify_at(f, len, a, b, (a & 1) ? 6 : 17, b & 1);
    (void)xna_csum_verify_at(f, len, a % 64, a % 64 + b % 64, b & 1 ? 6 : 17,
                             a & 1);
    if (xna_classify(f, len, &info) && info.l4_offset) {
        bool v6 = info.ethertype == XNA_ETH_P_IPV6;

        FUZZ_CHECK(xna_csum_verify_at(f, len, info.l3_offset,
                                      info.l4_offset, info.l4_proto, v6) ==
                   xna_csum_verify(f, len), "verify_at disagrees");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzIn in;
    uint16_t start, offset;
    uint8_t *frame;
    size_t len;

    fin_init(&in, data, size);
    start = fin_u16(&in);
    offset = fin_u16(&in);
    len = in.left;
    /* An exact-size copy, so that ASan sees any read past the end. */
    frame = malloc(len ? len : 1);
    memcpy(frame, in.p, len);

    check_classify(frame, len);
    check_fill_raw(frame, len, start, offset);
    check_fill_verify(frame, len, start ^ offset);
    check_verify_at(frame, len, start, offset);
    free(frame);
    return 0;
}
