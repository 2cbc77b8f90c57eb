/*
 * Fuzz target: the backend's flow filter table (hw/net/xen-net-accel/xna-filter-table.c)
 *
 * The keys come from guest traffic (learned flows), so a guest chooses
 * what is inserted, refreshed and evicted.  The input is a capacity and
 * then a sequence of operations; every operation is also applied to a
 * plain reference model (an array kept in LRU order) and the table must
 * agree with it: result codes, evicted key and VI, lookups, the order of
 * remove_vi() and foreach() visits, count <= capacity.
 *
 * Keys are drawn mostly from a small space (few addresses and ports, all
 * kinds including invalid ones) so that refreshes, evictions and
 * removals of present keys happen often; one op takes a raw 20-byte key.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "fuzz-util.h"
#include "xna-filter-table.h"

#define MAX_CAP 64

typedef struct Model {
    unsigned int cap;
    unsigned int n;
    XnaFilterKey key[MAX_CAP];      /* [0] least recently used */
    unsigned int vi[MAX_CAP];
} Model;

/* Validity from the header's rules, written independently. */
static bool ref_valid(const XnaFilterKey *k)
{
    unsigned int len, i;

    switch (k->kind) {
    case XNA_FILTER_MAC:
        len = 6;
        break;
    case XNA_FILTER_IPV4_TCP:
    case XNA_FILTER_IPV4_UDP:
        len = 4;
        break;
    case XNA_FILTER_IPV6_TCP:
    case XNA_FILTER_IPV6_UDP:
        len = 16;
        break;
    default:
        return false;
    }
    if (k->reserved) {
        return false;
    }
    if (k->kind == XNA_FILTER_MAC ? (k->dst_port || (k->dst_addr[0] & 1))
                                  : !k->dst_port) {
        return false;
    }
    for (i = len; i < sizeof(k->dst_addr); i++) {
        if (k->dst_addr[i]) {
            return false;
        }
    }
    return true;
}

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

static void model_del(Model *m, unsigned int i)
{
    memmove(&m->key[i], &m->key[i + 1], (m->n - i - 1) * sizeof(m->key[0]));
    memmove(&m->vi[i], &m->vi[i + 1], (m->n - i - 1) * sizeof(m->vi[0]));
    m->n--;
}

static void model_touch(Model *m, unsigned int i)
{
    XnaFilterKey k = m->key[i];
    unsigned int vi = m->vi[i];

    model_del(m, i);
    m->key[m->n] = k;
    m->vi[m->n] = vi;
    m->n++;
}

/* A key from 3 bytes: a small space, with invalid variants. */
static void small_key(FuzzIn *in, XnaFilterKey *k)
{
    uint8_t a = fin_u8(in), b = fin_u8(in), c = fin_u8(in);

    memset(k, 0, sizeof(*k));
    k->kind = a % 7;                    /* 0 and 6 are invalid */
    k->dst_port = (a >> 3) & 3;         /* 0 is invalid except for MAC */
    k->dst_addr[0] = b & 7;             /* bit 0: group MAC */
    k->dst_addr[3] = b >> 3;
    if (c & 0x80) {
        k->reserved = 1;
    }
    if (c & 0x40) {
        k->dst_addr[c & 15] |= 0x10;    /* maybe beyond the address */
    }
    if (k->kind == XNA_FILTER_MAC && !(c & 0x20)) {
        k->dst_port = 0;
    }
}

typedef struct Visit {
    const Model *m;
    unsigned int pos;
    unsigned int vi;        /* remove_vi: the VI being removed */
    bool by_vi;
} Visit;

/* Visits must come in the model's LRU order (of that VI's entries). */
static void visit_cb(const XnaFilterKey *key, unsigned int vi, void *opaque)
{
    Visit *v = opaque;

    while (v->by_vi && v->pos < v->m->n && v->m->vi[v->pos] != v->vi) {
        v->pos++;
    }
    FUZZ_CHECK(v->pos < v->m->n, "visit beyond the model (%u)", v->pos);
    FUZZ_CHECK(!memcmp(key, &v->m->key[v->pos], sizeof(*key)),
               "visit %u: wrong key", v->pos);
    FUZZ_CHECK(vi == v->m->vi[v->pos], "visit %u: vi %u vs %u", v->pos, vi,
               v->m->vi[v->pos]);
    v->pos++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static Model m;
    XnaFilterTable *t;
    FuzzIn in;

    fin_init(&in, data, size);
    memset(&m, 0, sizeof(m));
    m.cap = fin_u8(&in) % (MAX_CAP + 1);
    t = xna_filter_table_new(m.cap);
    FUZZ_CHECK(xna_filter_table_capacity(t) == m.cap, "capacity");

    while (!fin_done(&in)) {
        uint8_t op = fin_u8(&in);
        XnaFilterKey k, ev;
        unsigned int vi = (op >> 4) & 3, evi = ~0u, got, n, i;
        XnaFilterInsertResult r;
        Visit v = { .m = &m };
        int at;

        if ((op & 7) == 5) {
            fin_bytes(&in, &k, sizeof(k));
        } else {
            small_key(&in, &k);
        }
        FUZZ_CHECK(xna_filter_key_valid(&k) == ref_valid(&k), "key validity");
        at = model_find(&m, &k);

        switch (op & 7) {
        case 0:
        case 1:
        case 5:
            memset(&ev, 0xee, sizeof(ev));
            r = xna_filter_table_insert(t, &k, vi, &ev, &evi);
            if (!m.cap || !ref_valid(&k)) {
                FUZZ_CHECK(r == XNA_FILTER_REJECTED, "insert: %d", r);
            } else if (at >= 0) {
                FUZZ_CHECK(r == XNA_FILTER_REFRESHED, "insert: %d", r);
                model_touch(&m, at);        /* keeps its VI */
            } else if (m.n == m.cap) {
                FUZZ_CHECK(r == XNA_FILTER_REPLACED, "insert: %d", r);
                FUZZ_CHECK(!memcmp(&ev, &m.key[0], sizeof(ev)),
                           "evicted the wrong key");
                FUZZ_CHECK(evi == m.vi[0], "evicted vi %u vs %u", evi,
                           m.vi[0]);
                model_del(&m, 0);
            } else {
                FUZZ_CHECK(r == XNA_FILTER_INSERTED, "insert: %d", r);
            }
            if (r == XNA_FILTER_INSERTED || r == XNA_FILTER_REPLACED) {
                m.key[m.n] = k;
                m.vi[m.n] = vi;
                m.n++;
            }
            break;
        case 2:
            got = ~0u;
            FUZZ_CHECK(xna_filter_table_lookup(t, &k, &got) == (at >= 0),
                       "lookup hit");
            if (at >= 0) {
                FUZZ_CHECK(got == m.vi[at], "lookup vi %u vs %u", got,
                           m.vi[at]);
                model_touch(&m, at);
            }
            break;
        case 3:
            FUZZ_CHECK(xna_filter_table_remove(t, &k) == (at >= 0),
                       "remove");
            if (at >= 0) {
                model_del(&m, at);
            }
            break;
        case 4:
            v.by_vi = true;
            v.vi = vi;
            n = xna_filter_table_remove_vi(t, vi, visit_cb, &v);
            for (i = 0, got = 0; i < m.n;) {
                if (m.vi[i] == vi) {
                    model_del(&m, i);
                    got++;
                } else {
                    i++;
                }
            }
            FUZZ_CHECK(n == got, "remove_vi %u: %u vs %u", vi, n, got);
            break;
        case 6:
            xna_filter_table_foreach(t, visit_cb, &v);
            FUZZ_CHECK(v.pos == m.n, "foreach visited %u of %u", v.pos, m.n);
            break;
        case 7:
            /* The VI pointer is optional; a hit still counts as a use. */
            FUZZ_CHECK(xna_filter_table_lookup(t, &k, NULL) == (at >= 0),
                       "lookup hit");
            if (at >= 0) {
                model_touch(&m, at);
            }
            break;
        }
        FUZZ_CHECK(xna_filter_table_count(t) == m.n, "count %u vs %u",
                   xna_filter_table_count(t), m.n);
        FUZZ_CHECK(m.n <= m.cap, "count %u over capacity %u", m.n, m.cap);
    }
    xna_filter_table_free(t);
    return 0;
}
