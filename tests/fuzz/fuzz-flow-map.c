/*
 * Fuzz target: the software NICs' key -> VI map
 * (hw/net/xen-net-accel/xna-flow-map.c)
 *
 * The keys are the flows a guest's traffic makes the device insert and
 * the flows of every frame received to its MAC, so a guest chooses them.
 * The input is a size, a hash seed, then operations; each is also
 * applied to a plain array and the map must agree: results, values,
 * count; after each operation every key of the model is found with its
 * value (a removal that shifted an entry to where a lookup cannot reach
 * it shows here).
 *
 * Input: u8 max_entries (1 + x % 32), u64 seed (two u32), then per operation a
 * byte (low 2 bits: 0 set, 1 get, 2 remove, 3 get of a raw 20-byte key;
 * the rest: the value to set) and a key: 3 bytes into a small space of
 * valid and invalid keys (see small_key()), or 20 raw bytes for op 3.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "fuzz-util.h"
#include "xna-flow-map.h"

#define MAX_ENTRIES 32

typedef struct Model {
    unsigned int max;
    unsigned int n;
    XnaFilterKey key[MAX_ENTRIES];
    uint32_t value[MAX_ENTRIES];
} Model;

static int model_find(const Model *m, const XnaFilterKey *k)
{
    unsigned int i;

    for (i = 0; i < m->n; i++) {
        if (!memcmp(&m->key[i], k, sizeof(*k))) {
            return (int)i;
        }
    }
    return -1;
}

/*
 * Few kinds, ports and addresses, so that keys repeat and their home
 * slots collide; some invalid (kind 0 or 6, port 0, reserved set, bytes
 * past the address, group MACs).
 */
static void small_key(FuzzIn *in, XnaFilterKey *k)
{
    uint8_t a = fin_u8(in), b = fin_u8(in), c = fin_u8(in);

    memset(k, 0, sizeof(*k));
    k->kind = a % 7;
    k->dst_port = (a >> 3) & 7;
    k->dst_addr[0] = b & 0x0f;
    k->dst_addr[3] = b >> 4;
    if (k->kind == XNA_FILTER_MAC && !(c & 0x20)) {
        k->dst_port = 0;
    }
    if (c & 0x80) {
        k->reserved = 1;
    }
    if (c & 0x40) {
        k->dst_addr[c & 15] |= 0x10;
    }
}

static void check_all(const XnaFlowMap *map, const Model *m)
{
    unsigned int i;
    uint32_t v;

    FUZZ_CHECK(xna_flow_map_count(map) == m->n, "count %u vs %u",
               xna_flow_map_count(map), m->n);
    for (i = 0; i < m->n; i++) {
        FUZZ_CHECK(xna_flow_map_get(map, &m->key[i], &v), "key %u lost", i);
        FUZZ_CHECK(v == m->value[i], "key %u: value %u vs %u", i, v,
                   m->value[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static Model m;
    XnaFlowMap *map;
    FuzzIn in;
    uint64_t seed;

    fin_init(&in, data, size);
    memset(&m, 0, sizeof(m));
    m.max = 1 + fin_u8(&in) % MAX_ENTRIES;
    seed = fin_u32(&in);
    seed |= (uint64_t)fin_u32(&in) << 32;
    map = xna_flow_map_new(m.max, seed);
    while (!fin_done(&in)) {
        uint8_t op = fin_u8(&in);
        uint32_t value = op >> 2, v = 0;
        XnaFilterKey k;
        bool valid, ok;
        int i;

        if ((op & 3) == 3) {
            memset(&k, 0, sizeof(k));
            fin_bytes(&in, &k, sizeof(k));
        } else {
            small_key(&in, &k);
        }
        valid = xna_filter_key_valid(&k);
        i = model_find(&m, &k);
        switch (op & 3) {
        case 0:
            ok = xna_flow_map_set(map, &k, value);
            FUZZ_CHECK(ok == (valid && (i >= 0 || m.n < m.max)),
                       "set: %d (valid %d, known %d, %u of %u)", ok, valid,
                       i >= 0, m.n, m.max);
            if (ok && i < 0) {
                i = (int)m.n++;
                m.key[i] = k;
            }
            if (ok) {
                m.value[i] = value;
            }
            break;
        case 1:
        case 3:
            ok = xna_flow_map_get(map, &k, &v);
            FUZZ_CHECK(ok == (i >= 0), "get: %d vs %d", ok, i >= 0);
            FUZZ_CHECK(!ok || v == m.value[i], "get: value %u vs %u", v,
                       m.value[i]);
            FUZZ_CHECK(xna_flow_map_contains(map, &k) == ok, "contains");
            break;
        case 2:
            ok = xna_flow_map_remove(map, &k);
            FUZZ_CHECK(ok == (i >= 0), "remove: %d vs %d", ok, i >= 0);
            if (ok) {
                m.n--;
                m.key[i] = m.key[m.n];
                m.value[i] = m.value[m.n];
            }
            break;
        }
        check_all(map, &m);
    }
    xna_flow_map_free(map);
    return 0;
}
