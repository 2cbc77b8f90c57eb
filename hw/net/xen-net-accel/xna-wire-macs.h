/*
 * xen-net-accel: the MACs seen on the NIC's side (WIRE_MAC)
 *
 * A host that sent the guest a unicast frame through the NIC is reached
 * through the NIC: the guest may send it TCP/UDP through a VI before a
 * flow of theirs is learned (so one-way streams and connections the
 * guest opens are fast from their first frame).  The book is bounded
 * (least recently seen entry replaced) and an entry not seen again for
 * the ageing time is forgotten, as a bridge forgets a forwarding entry:
 * a host that moved behind another port stops being sent to through
 * the NIC.  Pure logic; the device announces what changes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_XNA_WIRE_MACS_H
#define HW_NET_XNA_WIRE_MACS_H

#include <stdbool.h>
#include <stdint.h>

#define XNA_WIRE_MACS_MAX       16

typedef struct XnaWireMac {
    uint8_t mac[6];
    int64_t seen_ns;
} XnaWireMac;

typedef struct XnaWireMacs {
    XnaWireMac e[XNA_WIRE_MACS_MAX];
    unsigned int count;
} XnaWireMacs;

typedef enum XnaWireMacSeen {
    XNA_WIRE_MAC_REFRESHED,     /* known: its time is now */
    XNA_WIRE_MAC_ADDED,         /* new, in a free entry */
    XNA_WIRE_MAC_REPLACED,      /* new, in the least recently seen one's */
} XnaWireMacSeen;

void xna_wire_macs_init(XnaWireMacs *t);

/* If @mac is known, its time becomes @now_ns: true; else false. */
bool xna_wire_macs_refresh(XnaWireMacs *t, const uint8_t *mac,
                           int64_t now_ns);

/*
 * @mac was seen at @now_ns.  On XNA_WIRE_MAC_REPLACED, *@evicted is the
 * MAC it replaced.
 */
XnaWireMacSeen xna_wire_macs_seen(XnaWireMacs *t, const uint8_t *mac,
                                  int64_t now_ns, uint8_t evicted[6]);

/*
 * Removes one entry last seen before @before_ns into *@out: true, or
 * false when there is none.
 */
bool xna_wire_macs_expire(XnaWireMacs *t, int64_t before_ns, uint8_t out[6]);

/* The time the least recently seen entry was seen; false when empty. */
bool xna_wire_macs_oldest(const XnaWireMacs *t, int64_t *seen_ns);

#endif /* HW_NET_XNA_WIRE_MACS_H */
