/*
 * Unit tests: xen-net-accel's book of MACs seen on the NIC's side
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <glib.h>
#include <string.h>

#include "xna-wire-macs.h"

static void mac_n(uint8_t mac[6], unsigned int n)
{
    uint8_t m[6] = { 0x02, 0, 0, 0, (uint8_t)(n >> 8), (uint8_t)n };

    memcpy(mac, m, 6);
}

static void test_add_refresh(void)
{
    XnaWireMacs t;
    uint8_t a[6], b[6], ev[6];
    int64_t oldest;

    xna_wire_macs_init(&t);
    g_assert_false(xna_wire_macs_oldest(&t, &oldest));
    mac_n(a, 1);
    mac_n(b, 2);
    g_assert_cmpint(xna_wire_macs_seen(&t, a, 100, ev), ==,
                    XNA_WIRE_MAC_ADDED);
    g_assert_cmpint(xna_wire_macs_seen(&t, b, 200, ev), ==,
                    XNA_WIRE_MAC_ADDED);
    g_assert_cmpint(xna_wire_macs_seen(&t, a, 300, ev), ==,
                    XNA_WIRE_MAC_REFRESHED);
    g_assert_cmpuint(t.count, ==, 2);
    g_assert_true(xna_wire_macs_refresh(&t, b, 250));
    mac_n(ev, 3);
    g_assert_false(xna_wire_macs_refresh(&t, ev, 400));
    g_assert_cmpuint(t.count, ==, 2);
    g_assert_true(xna_wire_macs_oldest(&t, &oldest));
    g_assert_cmpint(oldest, ==, 250);
}

/* Full: the least recently seen MAC makes room, and is reported. */
static void test_replace_least_recent(void)
{
    XnaWireMacs t;
    uint8_t m[6], ev[6], want[6];
    unsigned int i;

    xna_wire_macs_init(&t);
    for (i = 0; i < XNA_WIRE_MACS_MAX; i++) {
        mac_n(m, i);
        g_assert_cmpint(xna_wire_macs_seen(&t, m, 1000 + i, ev), ==,
                        XNA_WIRE_MAC_ADDED);
    }
    /* MAC 0 seen again: MAC 1 is now the least recent. */
    mac_n(m, 0);
    g_assert_cmpint(xna_wire_macs_seen(&t, m, 5000, ev), ==,
                    XNA_WIRE_MAC_REFRESHED);
    mac_n(m, 100);
    memset(ev, 0, sizeof(ev));
    g_assert_cmpint(xna_wire_macs_seen(&t, m, 6000, ev), ==,
                    XNA_WIRE_MAC_REPLACED);
    mac_n(want, 1);
    g_assert_cmpmem(ev, 6, want, 6);
    g_assert_cmpuint(t.count, ==, XNA_WIRE_MACS_MAX);
    /* The new one is known: seeing it again only refreshes it. */
    g_assert_cmpint(xna_wire_macs_seen(&t, m, 7000, ev), ==,
                    XNA_WIRE_MAC_REFRESHED);
}

/* Ageing removes exactly the entries not seen since the limit. */
static void test_expire(void)
{
    XnaWireMacs t;
    uint8_t m[6], out[6];
    unsigned int i, expired = 0;
    bool seen[6] = { false };
    int64_t oldest;

    xna_wire_macs_init(&t);
    for (i = 0; i < 6; i++) {
        mac_n(m, i);
        xna_wire_macs_seen(&t, m, i * 10, out);
    }
    /* Entries seen before 30: 0, 1 and 2. */
    while (xna_wire_macs_expire(&t, 30, out)) {
        g_assert_cmpuint(out[5], <, 3);
        g_assert_false(seen[out[5]]);
        seen[out[5]] = true;
        expired++;
    }
    g_assert_cmpuint(expired, ==, 3);
    g_assert_cmpuint(t.count, ==, 3);
    g_assert_true(xna_wire_macs_oldest(&t, &oldest));
    g_assert_cmpint(oldest, ==, 30);
    /* The survivors are still there, and still refresh. */
    for (i = 3; i < 6; i++) {
        mac_n(m, i);
        g_assert_cmpint(xna_wire_macs_seen(&t, m, 100, out), ==,
                        XNA_WIRE_MAC_REFRESHED);
    }
    g_assert_false(xna_wire_macs_expire(&t, 100, out));
    g_assert_true(xna_wire_macs_expire(&t, 101, out));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/wire-macs/add-refresh", test_add_refresh);
    g_test_add_func("/wire-macs/replace-least-recent",
                    test_replace_least_recent);
    g_test_add_func("/wire-macs/expire", test_expire);
    return g_test_run();
}
