/*
 * xen-net-accel: bounded flow filter table with LRU eviction
 *
 * A NIC has a fixed number of receive filters.  The backend learns
 * flows from traffic and keeps the most recently used ones in the NIC;
 * this table is the backend's book of what the NIC holds, which VI each
 * filter steers to, and which filter to give up when the table is full.
 *
 * Pure logic on GLib only, so that it is unit-tested outside QEMU.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef XNA_FILTER_TABLE_H
#define XNA_FILTER_TABLE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "hw/net/xen-net-accel-protocol.h"

/* Filter kinds are the protocol's XNA_FILTER_* values. */
#define XNA_FILTER_KIND_MAX     (XNA_FILTER_IPV6_UDP + 1)

/*
 * A filter matches received frames by destination.  Addresses and ports
 * are kept in network byte order, as they appear in the frame, so the
 * data path compares bytes without conversion.  Unused bytes are zero:
 * the key is hashed and compared as a whole.
 */
typedef struct XnaFilterKey {
    uint8_t kind;            /* XNA_FILTER_* */
    uint8_t reserved;
    uint16_t dst_port;       /* network order; 0 for XNA_FILTER_MAC */
    uint8_t dst_addr[16];    /* MAC (6), IPv4 (4) or IPv6 (16) */
} XnaFilterKey;

typedef struct XnaFilterTable XnaFilterTable;

typedef enum XnaFilterInsertResult {
    XNA_FILTER_INSERTED,     /* new entry, table had room */
    XNA_FILTER_REPLACED,     /* new entry, *evicted holds the LRU victim */
    XNA_FILTER_REFRESHED,    /* already present: now most recently used */
    XNA_FILTER_REJECTED,     /* invalid key or VI, or a zero-sized table */
} XnaFilterInsertResult;

XnaFilterTable *xna_filter_table_new(unsigned int capacity);
void xna_filter_table_free(XnaFilterTable *t);

unsigned int xna_filter_table_capacity(const XnaFilterTable *t);
unsigned int xna_filter_table_count(const XnaFilterTable *t);

bool xna_filter_key_valid(const XnaFilterKey *key);
/* GHashTable functions for XnaFilterKey * keys (whole-key compare). */
guint xna_filter_key_hash(gconstpointer key);
gboolean xna_filter_key_equal(gconstpointer a, gconstpointer b);

/* Inline: the data path builds keys for every frame it classifies. */
static inline void xna_filter_key_mac(XnaFilterKey *key, const uint8_t mac[6])
{
    memset(key, 0, sizeof(*key));
    key->kind = XNA_FILTER_MAC;
    memcpy(key->dst_addr, mac, 6);
}

static inline void xna_filter_key_ipv4(XnaFilterKey *key, bool tcp,
                                       const uint8_t addr[4],
                                       uint16_t port_be)
{
    memset(key, 0, sizeof(*key));
    key->kind = tcp ? XNA_FILTER_IPV4_TCP : XNA_FILTER_IPV4_UDP;
    key->dst_port = port_be;
    memcpy(key->dst_addr, addr, 4);
}

static inline void xna_filter_key_ipv6(XnaFilterKey *key, bool tcp,
                                       const uint8_t addr[16],
                                       uint16_t port_be)
{
    memset(key, 0, sizeof(*key));
    key->kind = tcp ? XNA_FILTER_IPV6_TCP : XNA_FILTER_IPV6_UDP;
    key->dst_port = port_be;
    memcpy(key->dst_addr, addr, 16);
}

/*
 * Insert @key steering to @vi.  When the table is full the least recently
 * used entry is evicted and copied to @evicted (with its VI in
 * @evicted_vi) so that the caller can remove it from the NIC.  A key that
 * is already present keeps its VI and becomes most recently used.
 */
XnaFilterInsertResult xna_filter_table_insert(XnaFilterTable *t,
                                              const XnaFilterKey *key,
                                              unsigned int vi,
                                              XnaFilterKey *evicted,
                                              unsigned int *evicted_vi);

/* Look up @key; on a hit store its VI in @vi and mark it recently used. */
bool xna_filter_table_lookup(XnaFilterTable *t, const XnaFilterKey *key,
                             unsigned int *vi);

bool xna_filter_table_remove(XnaFilterTable *t, const XnaFilterKey *key);

typedef void (*XnaFilterVisitFn)(const XnaFilterKey *key, unsigned int vi,
                                 void *opaque);

/*
 * Remove every filter of @vi, calling @fn (if not NULL) for each one
 * before it goes.  Returns how many were removed.
 */
unsigned int xna_filter_table_remove_vi(XnaFilterTable *t, unsigned int vi,
                                        XnaFilterVisitFn fn, void *opaque);

/* Visit entries from least to most recently used. */
void xna_filter_table_foreach(const XnaFilterTable *t, XnaFilterVisitFn fn,
                              void *opaque);

#endif /* XNA_FILTER_TABLE_H */
