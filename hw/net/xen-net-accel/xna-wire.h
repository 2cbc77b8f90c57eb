/*
 * xen-net-accel: reading what the guest writes
 *
 * Every value the backend takes from the guest's shared memory or from
 * its xenstore keys goes through one of these functions first: xenstore
 * numbers, ring descriptors, TX frames gathered from the pool, RX frames
 * placed into posted buffers, and control messages.  They are pure C
 * (no QEMU, no GLib), so that a libFuzzer harness can drive them
 * directly; the device calls them on memory it mapped.
 *
 * Shared memory can change under us at any time: every function copies
 * what it checks before it uses it, and reads each guest word once.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef XNA_WIRE_H
#define XNA_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hw/net/xen-net-accel-protocol.h"

/* Smallest RX buffer a guest may post (the spec). */
#define XNA_MIN_RX_BUFFER       64

/*
 * A xenstore number: the whole string is decimal digits, no sign, no
 * blanks, no leading zero (but "0"), and its value in [@min, @max].
 */
bool xna_wire_parse_uint(const char *s, uint32_t min, uint32_t max,
                         uint32_t *out);

/* Why a ring or a message was refused; XNA_WIRE_OK when it was not. */
typedef enum XnaWireStatus {
    XNA_WIRE_OK = 0,
    XNA_WIRE_NO_ROOM,           /* RX: not enough buffers posted yet */
    XNA_WIRE_BAD_DESC,          /* page, offset, length, flags */
    XNA_WIRE_UNTERMINATED,      /* TX chain runs past the producer */
    XNA_WIRE_TOO_LONG,          /* > XNA_MAX_FRAME_LEN or > XNA_MAX_FRAGS */
    XNA_WIRE_TOO_SHORT,         /* < XNA_MIN_FRAME_LEN */
    XNA_WIRE_BAD_CSUM,          /* csum_start/csum_offset out of range */
    XNA_WIRE_BAD_MSG,           /* control message */
} XnaWireStatus;

/* The XNA_ERR_* a VI stops with, and a text for the log. */
uint32_t xna_wire_status_reason(XnaWireStatus st);
const char *xna_wire_status_text(XnaWireStatus st);

/* A descriptor ring as mapped: @entries (a power of two) slots. */
typedef struct XnaWireRing {
    struct xna_desc *const *pages;
    uint32_t entries;
} XnaWireRing;

/* The guest's buffer pool as mapped: @count pages of XNA_PAGE_SIZE. */
typedef struct XnaWirePool {
    uint8_t *const *pages;
    uint32_t count;
} XnaWirePool;

static inline struct xna_desc *xna_wire_slot(const XnaWireRing *r,
                                             uint32_t idx)
{
    idx &= r->entries - 1;
    return &r->pages[idx / XNA_DESCS_PER_PAGE][idx % XNA_DESCS_PER_PAGE];
}

/*
 * Copy the descriptor of slot @idx once, to host order, into @d, and
 * check that its buffer lies in the pool and reserved is 0.
 */
bool xna_wire_desc_fetch(const XnaWireRing *r, uint32_t pool_pages,
                         uint32_t idx, struct xna_desc *d);

/*
 * Gather the TX frame whose first descriptor is slot @idx, with the
 * guest's producer at @prod, into @buf (XNA_MAX_FRAME_LEN bytes), and
 * fill its checksum when the first descriptor asks for it.  On
 * XNA_WIRE_OK, *@len is the frame's length and *@next the slot after it;
 * otherwise *@bad is the slot at fault.
 */
XnaWireStatus xna_wire_tx_gather(const XnaWireRing *r,
                                 const XnaWirePool *pool, uint32_t idx,
                                 uint32_t prod, uint8_t *buf, uint32_t *len,
                                 uint32_t *next, uint32_t *bad);

/*
 * Copy a frame of @len bytes (1..XNA_MAX_FRAME_LEN) into the @posted
 * buffers posted from slot @idx on, writing back each descriptor's len
 * and @flags (MORE on all but the last).  On XNA_WIRE_OK *@next is the
 * slot after the frame.  XNA_WIRE_NO_ROOM: the posted buffers are too
 * few for it (nothing is written back); XNA_WIRE_TOO_LONG: even
 * XNA_MAX_FRAGS buffers of the posted sizes cannot hold it, so it never
 * will fit; XNA_WIRE_BAD_DESC: *@bad is the slot at fault.
 */
XnaWireStatus xna_wire_rx_place(const XnaWireRing *r, const XnaWirePool *pool,
                                uint32_t idx, uint32_t posted,
                                const uint8_t *frame, uint32_t len,
                                uint16_t flags, uint32_t *next,
                                uint32_t *bad);

/* A guest-to-backend control message, checked and in host order. */
typedef struct XnaWireMsg {
    uint16_t type;              /* XNA_MSG_HELLO or XNA_MSG_VI_RESET */
    uint32_t version;           /* HELLO */
    uint32_t nr_vis;            /* HELLO */
    uint32_t vi;                /* VI_RESET: < num_vis */
} XnaWireMsg;

/*
 * Decode a message the guest sent.  @hello_done: HELLO was accepted
 * (anything else before it is refused); @num_vis: VIs of the connection.
 * On XNA_WIRE_BAD_MSG, @why (64 bytes) says what is wrong.
 */
XnaWireStatus xna_wire_msg_decode(const struct xna_msg *raw, bool hello_done,
                                  uint32_t num_vis, XnaWireMsg *out,
                                  char *why, size_t why_len);

#endif /* XNA_WIRE_H */
