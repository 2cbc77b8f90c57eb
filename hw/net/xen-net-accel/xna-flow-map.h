/*
 * xen-net-accel: a fixed-size map from filter keys to VIs, for the
 * software NICs' receive path
 *
 * Every received frame to the guest's MAC is looked up here, so the map
 * is an open-addressed table of the keys themselves (no allocation, no
 * callbacks per lookup), sized once for the NIC's filter limit and never
 * more than half full, so that a lookup probes a few slots.  The hash is
 * seeded per map: a guest that chooses its ports cannot pile its keys
 * up in one run of slots it knows in advance.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef XNA_FLOW_MAP_H
#define XNA_FLOW_MAP_H

#include "xna-filter-table.h"

/* Bounds the table's memory: 2^21 slots of 24 bytes. */
#define XNA_FLOW_MAP_MAX_ENTRIES (1u << 20)

typedef struct XnaFlowMap XnaFlowMap;

/*
 * A map for up to @max_entries keys (1..XNA_FLOW_MAP_MAX_ENTRIES),
 * hashed with @seed.
 */
XnaFlowMap *xna_flow_map_new(uint32_t max_entries, uint64_t seed);
void xna_flow_map_free(XnaFlowMap *m);

uint32_t xna_flow_map_count(const XnaFlowMap *m);

/*
 * Map @key (xna_filter_key_valid()) to @value, replacing the value of a
 * key already there.  False when @key is invalid, or new and the map
 * holds max_entries keys.
 */
bool xna_flow_map_set(XnaFlowMap *m, const XnaFilterKey *key, uint32_t value);

/* The value of @key in *@value; false when it is not there. */
bool xna_flow_map_get(const XnaFlowMap *m, const XnaFilterKey *key,
                      uint32_t *value);

bool xna_flow_map_contains(const XnaFlowMap *m, const XnaFilterKey *key);

/* Remove @key; false when it was not there. */
bool xna_flow_map_remove(XnaFlowMap *m, const XnaFilterKey *key);

#endif
