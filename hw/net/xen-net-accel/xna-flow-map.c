/*
 * xen-net-accel: a fixed-size map from filter keys to VIs
 *
 * Linear probing in a power-of-two table at most half full; removal
 * shifts the following entries of the run back (no tombstones), so that
 * a lookup ends at the first empty slot however many inserts and
 * removals came before.  An empty slot has key kind 0, which no valid
 * key has.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "xna-flow-map.h"

#include <string.h>

typedef struct XnaFlowSlot {
    XnaFilterKey key;        /* kind 0: empty */
    uint32_t value;
} XnaFlowSlot;

struct XnaFlowMap {
    uint64_t seed;
    uint32_t mask;           /* slots - 1 */
    uint32_t count;
    uint32_t max_entries;
    XnaFlowSlot *slots;
};

G_STATIC_ASSERT(sizeof(XnaFilterKey) == 20);

/*
 * Three multiplications over the key's 20 bytes (a frame's worth of
 * work matters here: this runs for every frame received), each folding
 * the high half down so that the table's low bits see the whole key.
 */
static uint32_t flow_map_hash(const XnaFlowMap *m, const XnaFilterKey *key)
{
    const uint8_t *p = (const uint8_t *)key;
    uint64_t a, b, h;
    uint32_t c;

    memcpy(&a, p, 8);
    memcpy(&b, p + 8, 8);
    memcpy(&c, p + 16, 4);
    h = (a ^ m->seed) * 0x9e3779b97f4a7c15ull;
    h = (h ^ (h >> 32) ^ b) * 0xc2b2ae3d27d4eb4full;
    h = (h ^ (h >> 29) ^ c) * 0x165667b19e3779f9ull;
    return (uint32_t)(h ^ (h >> 32));
}

static bool flow_key_equal(const XnaFilterKey *a, const XnaFilterKey *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

XnaFlowMap *xna_flow_map_new(uint32_t max_entries, uint64_t seed)
{
    XnaFlowMap *m;
    uint32_t slots = 8;

    g_assert(max_entries >= 1 && max_entries <= XNA_FLOW_MAP_MAX_ENTRIES);
    while (slots < 2 * max_entries) {
        slots *= 2;
    }
    m = g_new0(XnaFlowMap, 1);
    m->seed = seed;
    m->mask = slots - 1;
    m->max_entries = max_entries;
    m->slots = g_new0(XnaFlowSlot, slots);
    return m;
}

void xna_flow_map_free(XnaFlowMap *m)
{
    if (m) {
        g_free(m->slots);
        g_free(m);
    }
}

uint32_t xna_flow_map_count(const XnaFlowMap *m)
{
    return m->count;
}

/*
 * The slot of @key, or the empty slot that ends its run.  Terminates:
 * the table always has empty slots (count <= max_entries <= slots / 2).
 */
static uint32_t flow_map_find(const XnaFlowMap *m, const XnaFilterKey *key)
{
    uint32_t i = flow_map_hash(m, key) & m->mask;

    while (m->slots[i].key.kind && !flow_key_equal(&m->slots[i].key, key)) {
        i = (i + 1) & m->mask;
    }
    return i;
}

bool xna_flow_map_set(XnaFlowMap *m, const XnaFilterKey *key, uint32_t value)
{
    uint32_t i;

    if (!xna_filter_key_valid(key)) {
        return false;
    }
    i = flow_map_find(m, key);
    if (!m->slots[i].key.kind) {
        if (m->count >= m->max_entries) {
            return false;
        }
        m->slots[i].key = *key;
        m->count++;
    }
    m->slots[i].value = value;
    return true;
}

bool xna_flow_map_get(const XnaFlowMap *m, const XnaFilterKey *key,
                      uint32_t *value)
{
    uint32_t i;

    if (!key->kind) {
        return false;            /* would match an empty slot */
    }
    i = flow_map_find(m, key);
    if (!m->slots[i].key.kind) {
        return false;
    }
    *value = m->slots[i].value;
    return true;
}

bool xna_flow_map_contains(const XnaFlowMap *m, const XnaFilterKey *key)
{
    uint32_t value;

    return xna_flow_map_get(m, key, &value);
}

bool xna_flow_map_remove(XnaFlowMap *m, const XnaFilterKey *key)
{
    uint32_t hole, i;

    if (!key->kind) {
        return false;
    }
    hole = flow_map_find(m, key);
    if (!m->slots[hole].key.kind) {
        return false;
    }
    /*
     * Move back each later entry of the run that may live in the hole:
     * one whose home slot is not cyclically within (hole, i].
     */
    for (i = (hole + 1) & m->mask; m->slots[i].key.kind;
         i = (i + 1) & m->mask) {
        uint32_t home = flow_map_hash(m, &m->slots[i].key) & m->mask;

        if (((i - home) & m->mask) >= ((i - hole) & m->mask)) {
            m->slots[hole] = m->slots[i];
            hole = i;
        }
    }
    memset(&m->slots[hole], 0, sizeof(m->slots[hole]));
    m->count--;
    return true;
}
