/*
 * xen-net-accel: the MACs seen on the NIC's side (WIRE_MAC)
 *
 * Sixteen entries searched linearly: it is looked up only for frames of
 * the slow path, and never on the fast path.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <string.h>
#include "xna-wire-macs.h"

void xna_wire_macs_init(XnaWireMacs *t)
{
    memset(t, 0, sizeof(*t));
}

static unsigned int oldest_index(const XnaWireMacs *t)
{
    unsigned int i, o = 0;

    for (i = 1; i < t->count; i++) {
        if (t->e[i].seen_ns < t->e[o].seen_ns) {
            o = i;
        }
    }
    return o;
}

bool xna_wire_macs_refresh(XnaWireMacs *t, const uint8_t *mac,
                           int64_t now_ns)
{
    unsigned int i;

    for (i = 0; i < t->count; i++) {
        if (!memcmp(t->e[i].mac, mac, 6)) {
            t->e[i].seen_ns = now_ns;
            return true;
        }
    }
    return false;
}

XnaWireMacSeen xna_wire_macs_seen(XnaWireMacs *t, const uint8_t *mac,
                                  int64_t now_ns, uint8_t evicted[6])
{
    unsigned int i;

    if (xna_wire_macs_refresh(t, mac, now_ns)) {
        return XNA_WIRE_MAC_REFRESHED;
    }
    if (t->count < XNA_WIRE_MACS_MAX) {
        i = t->count++;
        memcpy(t->e[i].mac, mac, 6);
        t->e[i].seen_ns = now_ns;
        return XNA_WIRE_MAC_ADDED;
    }
    i = oldest_index(t);
    memcpy(evicted, t->e[i].mac, 6);
    memcpy(t->e[i].mac, mac, 6);
    t->e[i].seen_ns = now_ns;
    return XNA_WIRE_MAC_REPLACED;
}

bool xna_wire_macs_expire(XnaWireMacs *t, int64_t before_ns, uint8_t out[6])
{
    unsigned int i;

    for (i = 0; i < t->count; i++) {
        if (t->e[i].seen_ns < before_ns) {
            memcpy(out, t->e[i].mac, 6);
            t->e[i] = t->e[--t->count];
            return true;
        }
    }
    return false;
}

bool xna_wire_macs_oldest(const XnaWireMacs *t, int64_t *seen_ns)
{
    if (!t->count) {
        return false;
    }
    *seen_ns = t->e[oldest_index(t)].seen_ns;
    return true;
}
