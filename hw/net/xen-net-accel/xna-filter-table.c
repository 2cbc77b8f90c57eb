/*
 * xen-net-accel: bounded flow filter table with LRU eviction
 *
 * Entries live in a hash table for lookup and on a queue ordered by use
 * (head = least recently used) for eviction; each entry keeps its own
 * queue link so that a hit moves it to the tail in O(1).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "xna-filter-table.h"

#include <string.h>

typedef struct XnaFilterEntry {
    XnaFilterKey key;
    unsigned int vi;
    GList link;              /* node in XnaFilterTable.lru, data = self */
} XnaFilterEntry;

struct XnaFilterTable {
    unsigned int capacity;
    GHashTable *by_key;      /* XnaFilterKey * -> XnaFilterEntry * */
    GQueue lru;              /* head: least recently used */
};

guint xna_filter_key_hash(gconstpointer p)
{
    uint32_t w[sizeof(XnaFilterKey) / 4];
    uint32_t h = 2166136261u;
    size_t i;

    /*
     * Per received and sent frame, so a word at a time (FNV-1a over the
     * five words of the key), then murmur3's finaliser: a word-wise
     * multiply only carries upwards, and the table uses the low bits.
     */
    G_STATIC_ASSERT(sizeof(XnaFilterKey) % 4 == 0);
    memcpy(w, p, sizeof(w));
    for (i = 0; i < G_N_ELEMENTS(w); i++) {
        h = (h ^ w[i]) * 16777619u;
    }
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

gboolean xna_filter_key_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(XnaFilterKey)) == 0;
}

XnaFilterTable *xna_filter_table_new(unsigned int capacity)
{
    XnaFilterTable *t = g_new0(XnaFilterTable, 1);

    t->capacity = capacity;
    t->by_key = g_hash_table_new_full(xna_filter_key_hash, xna_filter_key_equal,
                                      NULL, g_free);
    g_queue_init(&t->lru);
    return t;
}

void xna_filter_table_free(XnaFilterTable *t)
{
    if (!t) {
        return;
    }
    g_hash_table_destroy(t->by_key);
    g_free(t);
}

unsigned int xna_filter_table_capacity(const XnaFilterTable *t)
{
    return t->capacity;
}

unsigned int xna_filter_table_count(const XnaFilterTable *t)
{
    return g_hash_table_size(t->by_key);
}

static unsigned int filter_addr_len(uint8_t kind)
{
    switch (kind) {
    case XNA_FILTER_MAC:
        return 6;
    case XNA_FILTER_IPV4_TCP:
    case XNA_FILTER_IPV4_UDP:
        return 4;
    case XNA_FILTER_IPV6_TCP:
    case XNA_FILTER_IPV6_UDP:
        return 16;
    default:
        return 0;
    }
}

bool xna_filter_key_valid(const XnaFilterKey *key)
{
    unsigned int len = filter_addr_len(key->kind);
    unsigned int i;

    if (len == 0 || key->reserved != 0) {
        return false;
    }
    if (key->kind == XNA_FILTER_MAC) {
        /* Group addresses (broadcast, multicast) stay on the slow path. */
        if (key->dst_port != 0 || (key->dst_addr[0] & 1)) {
            return false;
        }
    } else if (key->dst_port == 0) {
        return false;
    }
    for (i = len; i < sizeof(key->dst_addr); i++) {
        if (key->dst_addr[i] != 0) {
            return false;
        }
    }
    return true;
}

static void filter_touch(XnaFilterTable *t, XnaFilterEntry *e)
{
    g_queue_unlink(&t->lru, &e->link);
    g_queue_push_tail_link(&t->lru, &e->link);
}

static void filter_drop(XnaFilterTable *t, XnaFilterEntry *e)
{
    g_queue_unlink(&t->lru, &e->link);
    g_hash_table_remove(t->by_key, &e->key);   /* frees e */
}

XnaFilterInsertResult xna_filter_table_insert(XnaFilterTable *t,
                                              const XnaFilterKey *key,
                                              unsigned int vi,
                                              XnaFilterKey *evicted,
                                              unsigned int *evicted_vi)
{
    XnaFilterInsertResult res = XNA_FILTER_INSERTED;
    XnaFilterEntry *e;

    if (t->capacity == 0 || !xna_filter_key_valid(key)) {
        return XNA_FILTER_REJECTED;
    }
    e = g_hash_table_lookup(t->by_key, key);
    if (e) {
        filter_touch(t, e);
        return XNA_FILTER_REFRESHED;
    }
    if (g_hash_table_size(t->by_key) >= t->capacity) {
        XnaFilterEntry *victim = t->lru.head->data;

        if (evicted) {
            *evicted = victim->key;
        }
        if (evicted_vi) {
            *evicted_vi = victim->vi;
        }
        filter_drop(t, victim);
        res = XNA_FILTER_REPLACED;
    }
    e = g_new0(XnaFilterEntry, 1);
    e->key = *key;
    e->vi = vi;
    e->link.data = e;
    g_hash_table_insert(t->by_key, &e->key, e);
    g_queue_push_tail_link(&t->lru, &e->link);
    return res;
}

bool xna_filter_table_lookup(XnaFilterTable *t, const XnaFilterKey *key,
                             unsigned int *vi)
{
    XnaFilterEntry *e = g_hash_table_lookup(t->by_key, key);

    if (!e) {
        return false;
    }
    filter_touch(t, e);
    if (vi) {
        *vi = e->vi;
    }
    return true;
}

bool xna_filter_table_remove(XnaFilterTable *t, const XnaFilterKey *key)
{
    XnaFilterEntry *e = g_hash_table_lookup(t->by_key, key);

    if (!e) {
        return false;
    }
    filter_drop(t, e);
    return true;
}

unsigned int xna_filter_table_remove_vi(XnaFilterTable *t, unsigned int vi,
                                        XnaFilterVisitFn fn, void *opaque)
{
    GList *l = t->lru.head;
    unsigned int n = 0;

    while (l) {
        XnaFilterEntry *e = l->data;

        l = l->next;
        if (e->vi == vi) {
            if (fn) {
                fn(&e->key, e->vi, opaque);
            }
            filter_drop(t, e);
            n++;
        }
    }
    return n;
}

void xna_filter_table_foreach(const XnaFilterTable *t, XnaFilterVisitFn fn,
                              void *opaque)
{
    GList *l;

    for (l = t->lru.head; l; l = l->next) {
        XnaFilterEntry *e = l->data;

        fn(&e->key, e->vi, opaque);
    }
}
