/*
 * Unit tests: xen-net-accel's bounded LRU filter table
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <glib.h>
#include <string.h>

#include "xna-filter-table.h"

static void key_v4(XnaFilterKey *k, unsigned int n)
{
    uint8_t a[4] = { 10, 0, (uint8_t)(n >> 8), (uint8_t)n };

    xna_filter_key_ipv4(k, true, a, g_htons(1000 + n % 100));
}

static void test_insert_lookup(void)
{
    XnaFilterTable *t = xna_filter_table_new(4);
    XnaFilterKey k, other;
    unsigned int vi = 99;

    key_v4(&k, 1);
    key_v4(&other, 2);
    g_assert_cmpint(xna_filter_table_insert(t, &k, 3, NULL, NULL), ==,
                    XNA_FILTER_INSERTED);
    g_assert_cmpuint(xna_filter_table_count(t), ==, 1);
    g_assert_true(xna_filter_table_lookup(t, &k, &vi));
    g_assert_cmpuint(vi, ==, 3);
    g_assert_false(xna_filter_table_lookup(t, &other, &vi));

    /* Same key again: refreshed, VI unchanged, no second entry. */
    g_assert_cmpint(xna_filter_table_insert(t, &k, 5, NULL, NULL), ==,
                    XNA_FILTER_REFRESHED);
    g_assert_cmpuint(xna_filter_table_count(t), ==, 1);
    g_assert_true(xna_filter_table_lookup(t, &k, &vi));
    g_assert_cmpuint(vi, ==, 3);

    g_assert_true(xna_filter_table_remove(t, &k));
    g_assert_false(xna_filter_table_remove(t, &k));
    g_assert_cmpuint(xna_filter_table_count(t), ==, 0);
    xna_filter_table_free(t);
}

static void test_lru_eviction(void)
{
    XnaFilterTable *t = xna_filter_table_new(3);
    XnaFilterKey k[5], ev;
    unsigned int ev_vi = 0, i;

    for (i = 0; i < 5; i++) {
        key_v4(&k[i], i);
    }
    for (i = 0; i < 3; i++) {
        g_assert_cmpint(xna_filter_table_insert(t, &k[i], i, NULL, NULL), ==,
                        XNA_FILTER_INSERTED);
    }
    /* Use k[0] so that k[1] becomes the least recently used. */
    g_assert_true(xna_filter_table_lookup(t, &k[0], NULL));
    g_assert_cmpint(xna_filter_table_insert(t, &k[3], 3, &ev, &ev_vi), ==,
                    XNA_FILTER_REPLACED);
    g_assert_cmpmem(&ev, sizeof(ev), &k[1], sizeof(k[1]));
    g_assert_cmpuint(ev_vi, ==, 1);
    g_assert_false(xna_filter_table_lookup(t, &k[1], NULL));
    g_assert_cmpuint(xna_filter_table_count(t), ==, 3);

    /* Refreshing by insert also protects an entry: k[2] is next... */
    g_assert_cmpint(xna_filter_table_insert(t, &k[2], 2, NULL, NULL), ==,
                    XNA_FILTER_REFRESHED);
    /* ...so k[0] goes now. */
    g_assert_cmpint(xna_filter_table_insert(t, &k[4], 4, &ev, &ev_vi), ==,
                    XNA_FILTER_REPLACED);
    g_assert_cmpmem(&ev, sizeof(ev), &k[0], sizeof(k[0]));
    g_assert_cmpuint(ev_vi, ==, 0);
    xna_filter_table_free(t);
}

static void count_visit(const XnaFilterKey *key, unsigned int vi,
                        void *opaque)
{
    unsigned int *n = opaque;

    g_assert_cmpuint(vi, ==, 1);
    (*n)++;
}

static void test_remove_vi(void)
{
    XnaFilterTable *t = xna_filter_table_new(16);
    XnaFilterKey k;
    unsigned int i, visited = 0;

    for (i = 0; i < 10; i++) {
        key_v4(&k, i);
        xna_filter_table_insert(t, &k, i % 2, NULL, NULL);
    }
    g_assert_cmpuint(xna_filter_table_remove_vi(t, 1, count_visit, &visited),
                     ==, 5);
    g_assert_cmpuint(visited, ==, 5);
    g_assert_cmpuint(xna_filter_table_count(t), ==, 5);
    for (i = 0; i < 10; i++) {
        key_v4(&k, i);
        g_assert_cmpint(xna_filter_table_lookup(t, &k, NULL), ==, i % 2 == 0);
    }
    xna_filter_table_free(t);
}

static void test_invalid_keys(void)
{
    XnaFilterTable *t = xna_filter_table_new(4);
    const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
    const uint8_t ucast[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x01 };
    const uint8_t v4[4] = { 192, 168, 0, 1 };
    XnaFilterKey k;

    xna_filter_key_mac(&k, bcast);
    g_assert_cmpint(xna_filter_table_insert(t, &k, 0, NULL, NULL), ==,
                    XNA_FILTER_REJECTED);
    xna_filter_key_mac(&k, mcast);
    g_assert_cmpint(xna_filter_table_insert(t, &k, 0, NULL, NULL), ==,
                    XNA_FILTER_REJECTED);
    xna_filter_key_mac(&k, ucast);
    g_assert_cmpint(xna_filter_table_insert(t, &k, 0, NULL, NULL), ==,
                    XNA_FILTER_INSERTED);

    /* A flow without a port, a MAC with one, junk past the address. */
    xna_filter_key_ipv4(&k, false, v4, 0);
    g_assert_false(xna_filter_key_valid(&k));
    xna_filter_key_mac(&k, ucast);
    k.dst_port = 1;
    g_assert_false(xna_filter_key_valid(&k));
    xna_filter_key_ipv4(&k, false, v4, g_htons(53));
    g_assert_true(xna_filter_key_valid(&k));
    k.dst_addr[4] = 1;
    g_assert_false(xna_filter_key_valid(&k));
    xna_filter_key_ipv4(&k, false, v4, g_htons(53));
    k.reserved = 1;
    g_assert_false(xna_filter_key_valid(&k));
    memset(&k, 0, sizeof(k));
    k.kind = XNA_FILTER_KIND_MAX;
    k.dst_port = 1;
    g_assert_false(xna_filter_key_valid(&k));
    xna_filter_table_free(t);

    t = xna_filter_table_new(0);
    xna_filter_key_mac(&k, ucast);
    g_assert_cmpint(xna_filter_table_insert(t, &k, 0, NULL, NULL), ==,
                    XNA_FILTER_REJECTED);
    xna_filter_table_free(t);
}

/*
 * Random operations against a plain array model of an LRU list: the
 * table must agree with it on every lookup, eviction and count.
 */
static void test_random_against_model(void)
{
    enum { CAP = 8, KEYS = 24, OPS = 20000 };
    XnaFilterTable *t = xna_filter_table_new(CAP);
    GRand *r = g_rand_new_with_seed(42);
    int model[CAP];          /* key ids, index 0 = least recently used */
    unsigned int n = 0, op, i;

    for (op = 0; op < OPS; op++) {
        unsigned int id = g_rand_int_range(r, 0, KEYS);
        int action = g_rand_int_range(r, 0, 3);
        XnaFilterKey k, ev;
        unsigned int ev_vi, vi;
        int pos = -1;

        key_v4(&k, id);
        for (i = 0; i < n; i++) {
            if (model[i] == (int)id) {
                pos = i;
            }
        }
        if (action == 0) {
            XnaFilterInsertResult res =
                xna_filter_table_insert(t, &k, id % 4, &ev, &ev_vi);

            if (pos >= 0) {
                g_assert_cmpint(res, ==, XNA_FILTER_REFRESHED);
            } else if (n == CAP) {
                XnaFilterKey expect;

                g_assert_cmpint(res, ==, XNA_FILTER_REPLACED);
                key_v4(&expect, model[0]);
                g_assert_cmpmem(&ev, sizeof(ev), &expect, sizeof(expect));
                g_assert_cmpuint(ev_vi, ==, model[0] % 4);
                memmove(model, model + 1, (n - 1) * sizeof(model[0]));
                n--;
            } else {
                g_assert_cmpint(res, ==, XNA_FILTER_INSERTED);
            }
        } else if (action == 1) {
            g_assert_cmpint(xna_filter_table_lookup(t, &k, &vi), ==, pos >= 0);
            if (pos >= 0) {
                g_assert_cmpuint(vi, ==, id % 4);
            }
        } else {
            g_assert_cmpint(xna_filter_table_remove(t, &k), ==, pos >= 0);
            if (pos >= 0) {
                memmove(model + pos, model + pos + 1,
                        (n - pos - 1) * sizeof(model[0]));
                n--;
            }
            g_assert_cmpuint(xna_filter_table_count(t), ==, n);
            continue;
        }
        /* Insert and lookup hits move the key to the tail. */
        if (pos >= 0) {
            memmove(model + pos, model + pos + 1,
                    (n - pos - 1) * sizeof(model[0]));
            model[n - 1] = id;
        } else if (action == 0) {
            model[n++] = id;
        }
        g_assert_cmpuint(xna_filter_table_count(t), ==, n);
    }
    g_rand_free(r);
    xna_filter_table_free(t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/filter-table/insert-lookup", test_insert_lookup);
    g_test_add_func("/filter-table/lru-eviction", test_lru_eviction);
    g_test_add_func("/filter-table/remove-vi", test_remove_vi);
    g_test_add_func("/filter-table/invalid-keys", test_invalid_keys);
    g_test_add_func("/filter-table/random-vs-model", test_random_against_model);
    return g_test_run();
}
