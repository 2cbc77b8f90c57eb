/*
 * Unit tests: frame classification and checksums of xen-net-accel
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <glib.h>
#include <string.h>

#include "xna-classify.h"

static const uint8_t guest_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x01 };
static const uint8_t peer_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x02 };

/* An Ethernet + IPv4 + UDP/TCP frame with @payload bytes of data. */
static size_t build_ipv4(uint8_t *f, uint8_t proto, uint16_t sport,
                         uint16_t dport, size_t payload)
{
    size_t l4 = proto == 6 ? 20 : 8;
    size_t ip_len = 20 + l4 + payload;
    size_t i;

    memset(f, 0, 14 + ip_len);
    memcpy(f, guest_mac, 6);
    memcpy(f + 6, peer_mac, 6);
    f[12] = 0x08;
    f[14] = 0x45;
    f[16] = ip_len >> 8;
    f[17] = ip_len & 0xff;
    f[22] = 64;
    f[23] = proto;
    memcpy(f + 26, (uint8_t[]){ 10, 0, 0, 2 }, 4);    /* src */
    memcpy(f + 30, (uint8_t[]){ 10, 0, 0, 1 }, 4);    /* dst */
    f[34] = sport >> 8;
    f[35] = sport & 0xff;
    f[36] = dport >> 8;
    f[37] = dport & 0xff;
    if (proto == 17) {
        f[38] = (8 + payload) >> 8;
        f[39] = (8 + payload) & 0xff;
    } else {
        f[46] = 0x50;        /* data offset 5 */
    }
    for (i = 0; i < payload; i++) {
        f[14 + 20 + l4 + i] = i * 7 + 3;
    }
    return 14 + ip_len;
}

static size_t build_ipv6_udp(uint8_t *f, size_t payload)
{
    size_t i;

    memset(f, 0, 14 + 40 + 8 + payload);
    memcpy(f, guest_mac, 6);
    memcpy(f + 6, peer_mac, 6);
    f[12] = 0x86;
    f[13] = 0xdd;
    f[14] = 0x60;
    f[18] = (8 + payload) >> 8;
    f[19] = (8 + payload) & 0xff;
    f[20] = 17;
    f[21] = 64;
    f[22 + 15] = 2;          /* src ::2 */
    f[38 + 15] = 1;          /* dst ::1 */
    f[54] = 0x30;            /* sport 0x3039 = 12345 */
    f[55] = 0x39;
    f[56] = 0x00;            /* dport 53 */
    f[57] = 53;
    f[58] = (8 + payload) >> 8;
    f[59] = (8 + payload) & 0xff;
    for (i = 0; i < payload; i++) {
        f[62 + i] = i;
    }
    return 62 + payload;
}

static void test_ipv4_udp(void)
{
    uint8_t f[1600];
    size_t len = build_ipv4(f, 17, 4000, 5000, 100);
    XnaFlowInfo info;
    XnaFilterKey expect;

    g_assert_true(xna_classify(f, len, &info));
    g_assert_true(info.has_flow);
    g_assert_cmpuint(info.l4_proto, ==, 17);
    g_assert_cmpuint(info.l4_offset, ==, 34);
    xna_filter_key_ipv4(&expect, false, (uint8_t[]){ 10, 0, 0, 1 },
                        g_htons(5000));
    g_assert_cmpmem(&info.dst_flow, sizeof(expect), &expect, sizeof(expect));
    xna_filter_key_ipv4(&expect, false, (uint8_t[]){ 10, 0, 0, 2 },
                        g_htons(4000));
    g_assert_cmpmem(&info.src_flow, sizeof(expect), &expect, sizeof(expect));
}

static void test_ipv4_tcp_vlan(void)
{
    uint8_t f[1600], v[1604];
    size_t len = build_ipv4(f, 6, 80, 33000, 10);
    XnaFlowInfo info;

    /* Insert an 802.1Q tag after the MACs. */
    memcpy(v, f, 12);
    v[12] = 0x81;
    v[13] = 0x00;
    v[14] = 0x00;
    v[15] = 0x05;
    memcpy(v + 16, f + 12, len - 12);
    g_assert_true(xna_classify(v, len + 4, &info));
    g_assert_true(info.has_flow);
    g_assert_cmpuint(info.dst_flow.kind, ==, XNA_FILTER_IPV4_TCP);
    g_assert_cmpuint(g_ntohs(info.dst_flow.dst_port), ==, 33000);
    g_assert_cmpuint(info.l4_offset, ==, 38);
}

static void test_ipv6_udp(void)
{
    uint8_t f[1600];
    size_t len = build_ipv6_udp(f, 64);
    XnaFlowInfo info;

    g_assert_true(xna_classify(f, len, &info));
    g_assert_true(info.has_flow);
    g_assert_cmpuint(info.dst_flow.kind, ==, XNA_FILTER_IPV6_UDP);
    g_assert_cmpuint(info.dst_flow.dst_addr[15], ==, 1);
    g_assert_cmpuint(g_ntohs(info.dst_flow.dst_port), ==, 53);
    g_assert_cmpuint(g_ntohs(info.src_flow.dst_port), ==, 12345);
}

static void test_no_flow(void)
{
    uint8_t f[1600] = { 0 };
    size_t len;
    XnaFlowInfo info;

    /* Too short for Ethernet. */
    g_assert_false(xna_classify(f, 13, &info));

    /* A fragment. */
    len = build_ipv4(f, 17, 1, 2, 10);
    f[20] = 0x20;            /* more fragments */
    g_assert_true(xna_classify(f, len, &info));
    g_assert_false(info.has_flow);

    /* Broadcast destination. */
    len = build_ipv4(f, 17, 1, 2, 10);
    memset(f, 0xff, 6);
    g_assert_true(xna_classify(f, len, &info));
    g_assert_false(info.has_flow);

    /* ICMP. */
    len = build_ipv4(f, 1, 0, 0, 10);
    g_assert_true(xna_classify(f, len, &info));
    g_assert_false(info.has_flow);

    /* IPv4 total length beyond the frame, and a truncated UDP header. */
    len = build_ipv4(f, 17, 1, 2, 10);
    g_assert_true(xna_classify(f, len - 1, &info));
    g_assert_false(info.has_flow);
    g_assert_true(xna_classify(f, 14 + 20 + 4, &info));
    g_assert_false(info.has_flow);

    /* Bad IHL. */
    len = build_ipv4(f, 17, 1, 2, 10);
    f[14] = 0x44;
    g_assert_true(xna_classify(f, len, &info));
    g_assert_false(info.has_flow);

    /* Port 0. */
    len = build_ipv4(f, 17, 1, 0, 10);
    g_assert_true(xna_classify(f, len, &info));
    g_assert_false(info.has_flow);

    /* IPv6 with an extension header (hop-by-hop). */
    len = build_ipv6_udp(f, 8);
    f[20] = 0;
    g_assert_true(xna_classify(f, len, &info));
    g_assert_false(info.has_flow);
}

/* Fill the checksum as Linux's CHECKSUM_PARTIAL leaves it, then verify. */
static void check_fill_verify(uint8_t *f, size_t len, uint16_t start,
                              uint16_t off, uint32_t pseudo)
{
    uint16_t seed;

    while (pseudo >> 16) {
        pseudo = (pseudo & 0xffff) + (pseudo >> 16);
    }
    seed = pseudo;
    f[start + off] = seed >> 8;
    f[start + off + 1] = seed & 0xff;
    g_assert_true(xna_csum_fill(f, len, start, off));
    g_assert_true(xna_csum_verify(f, len));
    f[len - 1] ^= 0x5a;
    g_assert_false(xna_csum_verify(f, len));
}

static void test_csum(void)
{
    uint8_t f[9100];
    size_t sizes[] = { 0, 1, 2, 3, 100, 1471, 1472, 8972 };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(sizes); i++) {
        size_t len = build_ipv4(f, 17, 1000, 2000, sizes[i]);
        /* 10.0.0.2 + 10.0.0.1 + proto + UDP length */
        uint32_t pseudo = 0x0a00 + 0x0002 + 0x0a00 + 0x0001 + 17 +
                          8 + sizes[i];

        if (sizes[i] == 0) {
            continue;        /* exercised by the TCP case below */
        }
        check_fill_verify(f, len, 34, 6, pseudo);

        len = build_ipv4(f, 6, 1000, 2000, sizes[i]);
        pseudo = 0x0a00 + 0x0002 + 0x0a00 + 0x0001 + 6 + 20 + sizes[i];
        check_fill_verify(f, len, 34, 16, pseudo);
    }
    {
        size_t len = build_ipv6_udp(f, 333);
        uint32_t pseudo = 2 + 1 + 17 + 8 + 333;

        check_fill_verify(f, len, 54, 6, pseudo);
    }
}

/*
 * A sum that comes out 0 is sent as 0xffff: for UDP, 0 means "no
 * checksum" (RFC 768); for TCP both are the same in one's complement.
 */
static void test_csum_zero(void)
{
    uint8_t f[200];
    size_t len = build_ipv4(f, 17, 1000, 2000, 100);
    uint32_t pseudo = 0x0a00 + 0x0002 + 0x0a00 + 0x0001 + 17 + 8 + 100;
    uint16_t seed, c;

    pseudo = (pseudo & 0xffff) + (pseudo >> 16);
    seed = pseudo;
    f[len - 2] = f[len - 1] = 0;
    f[40] = seed >> 8;
    f[41] = seed & 0xff;
    g_assert_true(xna_csum_fill(f, len, 34, 6));
    c = f[40] << 8 | f[41];
    /* Put the checksum into the data: the new sum is all ones. */
    f[len - 2] = c >> 8;
    f[len - 1] = c & 0xff;
    f[40] = seed >> 8;
    f[41] = seed & 0xff;
    g_assert_true(xna_csum_fill(f, len, 34, 6));
    g_assert_cmphex(f[40] << 8 | f[41], ==, 0xffff);
    g_assert_true(xna_csum_verify(f, len));
}

static void test_csum_bounds(void)
{
    uint8_t f[100] = { 0 };

    g_assert_false(xna_csum_fill(f, sizeof(f), 100, 0));
    g_assert_false(xna_csum_fill(f, sizeof(f), 90, 9));
    g_assert_false(xna_csum_fill(f, sizeof(f), 0, 0xffff));
    g_assert_true(xna_csum_fill(f, sizeof(f), 90, 8));
    /* UDP over IPv4 without a checksum is not "verified". */
    {
        uint8_t g[200];
        size_t len = build_ipv4(g, 17, 1, 2, 10);

        g_assert_false(xna_csum_verify(g, len));
    }
}

/*
 * The device verifies at offsets its NIC found; wrong offsets must give
 * false (and no read past the frame), right ones the same as verify.
 */
static void test_csum_at(void)
{
    uint8_t f[200];
    size_t len = build_ipv4(f, 6, 1000, 2000, 11);
    uint32_t pseudo = 0x0a00 + 0x0002 + 0x0a00 + 0x0001 + 6 + 20 + 11;

    check_fill_verify(f, len, 34, 16, pseudo);
    f[len - 1] ^= 0x5a;      /* undo check_fill_verify's last change */
    g_assert_true(xna_csum_verify(f, len));
    g_assert_true(xna_csum_verify_at(f, len, 14, 34, 6, false));
    g_assert_false(xna_csum_verify_at(f, len, 14, 34, 17, false));
    g_assert_false(xna_csum_verify_at(f, len, 14, 34, 1, false));
    g_assert_false(xna_csum_verify_at(f, len, 14, 34, 6, true));
    g_assert_false(xna_csum_verify_at(f, len, 14, 30, 6, false));
    g_assert_false(xna_csum_verify_at(f, len, 14, 60, 6, false));
    g_assert_false(xna_csum_verify_at(f, len, 14, 0xffff, 6, false));
    g_assert_false(xna_csum_verify_at(f, len, 0xfff0, 0xffff, 6, false));
    g_assert_false(xna_csum_verify_at(f, len, len, len + 40, 6, true));
    /* The IP length says more than the frame holds. */
    f[17] += 1;
    g_assert_false(xna_csum_verify_at(f, len, 14, 34, 6, false));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/classify/ipv4-udp", test_ipv4_udp);
    g_test_add_func("/classify/ipv4-tcp-vlan", test_ipv4_tcp_vlan);
    g_test_add_func("/classify/ipv6-udp", test_ipv6_udp);
    g_test_add_func("/classify/no-flow", test_no_flow);
    g_test_add_func("/csum/fill-verify", test_csum);
    g_test_add_func("/csum/zero-sent-as-ffff", test_csum_zero);
    g_test_add_func("/csum/bounds", test_csum_bounds);
    g_test_add_func("/csum/at", test_csum_at);
    return g_test_run();
}
