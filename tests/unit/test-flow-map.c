/*
 * Unit tests: xen-net-accel's fixed-size key -> VI map (software NICs)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <glib.h>
#include <string.h>

#include "xna-flow-map.h"

static void key_udp4(XnaFilterKey *k, unsigned int n)
{
    uint8_t a[4] = { 10, (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };

    xna_filter_key_ipv4(k, false, a, g_htons(1 + n % 60000));
}

static void test_basic(void)
{
    XnaFlowMap *m = xna_flow_map_new(2, 1);
    XnaFilterKey k1, k2, k3, mac, zero;
    uint8_t guest_mac[6] = { 0x00, 0x16, 0x3e, 0, 0, 1 };
    uint32_t v = 99;

    key_udp4(&k1, 1);
    key_udp4(&k2, 2);
    key_udp4(&k3, 3);
    xna_filter_key_mac(&mac, guest_mac);
    memset(&zero, 0, sizeof(zero));

    g_assert_false(xna_flow_map_get(m, &k1, &v));
    g_assert_true(xna_flow_map_set(m, &k1, 7));
    g_assert_true(xna_flow_map_get(m, &k1, &v));
    g_assert_cmpuint(v, ==, 7);
    /* Replacing a value does not count a second entry. */
    g_assert_true(xna_flow_map_set(m, &k1, 8));
    g_assert_cmpuint(xna_flow_map_count(m), ==, 1);
    g_assert_true(xna_flow_map_get(m, &k1, &v));
    g_assert_cmpuint(v, ==, 8);
    g_assert_true(xna_flow_map_set(m, &mac, 0));
    /* Full: a new key is refused, a known one still updated. */
    g_assert_false(xna_flow_map_set(m, &k2, 1));
    g_assert_true(xna_flow_map_set(m, &mac, 1));
    g_assert_cmpuint(xna_flow_map_count(m), ==, 2);
    /* An all-zero key (kind 0) is no key: never found, never stored. */
    g_assert_false(xna_flow_map_get(m, &zero, &v));
    g_assert_false(xna_flow_map_remove(m, &zero));
    g_assert_true(xna_flow_map_remove(m, &k1));
    g_assert_false(xna_flow_map_set(m, &zero, 1));
    g_assert_false(xna_flow_map_remove(m, &k1));
    g_assert_false(xna_flow_map_contains(m, &k1));
    g_assert_true(xna_flow_map_contains(m, &mac));
    g_assert_true(xna_flow_map_set(m, &k3, 3));
    g_assert_cmpuint(xna_flow_map_count(m), ==, 2);
    xna_flow_map_free(m);
}

static void test_invalid_keys(void)
{
    XnaFlowMap *m = xna_flow_map_new(4, 1);
    XnaFilterKey k;
    uint8_t group[6] = { 0x01, 0, 0x5e, 0, 0, 1 };

    key_udp4(&k, 1);
    k.reserved = 1;
    g_assert_false(xna_flow_map_set(m, &k, 1));
    key_udp4(&k, 1);
    k.dst_addr[15] = 1;          /* bytes past an IPv4 address */
    g_assert_false(xna_flow_map_set(m, &k, 1));
    xna_filter_key_mac(&k, group);
    g_assert_false(xna_flow_map_set(m, &k, 1));
    key_udp4(&k, 1);
    k.kind = 200;
    g_assert_false(xna_flow_map_set(m, &k, 1));
    g_assert_cmpuint(xna_flow_map_count(m), ==, 0);
    xna_flow_map_free(m);
}

/*
 * Random sets and removals against GLib's hash table, in maps small
 * enough that runs wrap around the table's end and removals shift
 * entries back across it; after each step every key ever used is looked
 * up in both.
 */
static void test_against_reference(gconstpointer data)
{
    uint32_t max = GPOINTER_TO_UINT(data);
    unsigned int universe = max * 3;
    GRand *rnd = g_rand_new_with_seed(max);
    unsigned int round;

    for (round = 0; round < 20; round++) {
        XnaFlowMap *m = xna_flow_map_new(max, g_rand_int(rnd));
        GHashTable *ref = g_hash_table_new(g_direct_hash, g_direct_equal);
        unsigned int step, n;

        for (step = 0; step < 400; step++) {
            XnaFilterKey k;
            uint32_t v;

            n = g_rand_int_range(rnd, 0, universe);
            key_udp4(&k, n);
            if (g_rand_boolean(rnd)) {
                bool known = g_hash_table_contains(ref, GUINT_TO_POINTER(n));
                bool room = g_hash_table_size(ref) < max;

                g_assert_cmpint(xna_flow_map_set(m, &k, step), ==,
                                known || room);
                if (known || room) {
                    g_hash_table_insert(ref, GUINT_TO_POINTER(n),
                                        GUINT_TO_POINTER(step));
                }
            } else {
                g_assert_cmpint(xna_flow_map_remove(m, &k), ==,
                                g_hash_table_remove(ref,
                                                    GUINT_TO_POINTER(n)));
            }
            g_assert_cmpuint(xna_flow_map_count(m), ==,
                             g_hash_table_size(ref));
            for (n = 0; n < universe; n++) {
                gpointer want;
                bool found;

                key_udp4(&k, n);
                found = xna_flow_map_get(m, &k, &v);
                g_assert_cmpint(found, ==,
                                g_hash_table_lookup_extended(
                                    ref, GUINT_TO_POINTER(n), NULL, &want));
                if (found) {
                    g_assert_cmpuint(v, ==, GPOINTER_TO_UINT(want));
                }
            }
        }
        g_hash_table_destroy(ref);
        xna_flow_map_free(m);
    }
    g_rand_free(rnd);
}

/* The limit of the device's max-filters, full: every key found. */
static void test_large(void)
{
    uint32_t max = 65536, n, v;
    XnaFlowMap *m = xna_flow_map_new(max, 12345);
    XnaFilterKey k;

    for (n = 0; n < max; n++) {
        key_udp4(&k, n);
        g_assert_true(xna_flow_map_set(m, &k, n));
    }
    key_udp4(&k, max);
    g_assert_false(xna_flow_map_set(m, &k, max));
    for (n = 0; n < max; n++) {
        key_udp4(&k, n);
        g_assert_true(xna_flow_map_get(m, &k, &v));
        g_assert_cmpuint(v, ==, n);
    }
    for (n = 0; n < max; n += 2) {
        key_udp4(&k, n);
        g_assert_true(xna_flow_map_remove(m, &k));
    }
    for (n = 0; n < max; n++) {
        key_udp4(&k, n);
        g_assert_cmpint(xna_flow_map_get(m, &k, &v), ==, n % 2);
    }
    xna_flow_map_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/flow-map/basic", test_basic);
    g_test_add_func("/flow-map/invalid-keys", test_invalid_keys);
    g_test_add_data_func("/flow-map/reference/1", GUINT_TO_POINTER(1),
                         test_against_reference);
    g_test_add_data_func("/flow-map/reference/4", GUINT_TO_POINTER(4),
                         test_against_reference);
    g_test_add_data_func("/flow-map/reference/13", GUINT_TO_POINTER(13),
                         test_against_reference);
    g_test_add_func("/flow-map/large", test_large);
    return g_test_run();
}
