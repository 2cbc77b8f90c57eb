/*
 * xen-net-accel: reading what the guest writes
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "xna-wire.h"
#include "xna-classify.h"

#include <stdio.h>
#include <string.h>

bool xna_wire_parse_uint(const char *s, uint32_t min, uint32_t max,
                         uint32_t *out)
{
    uint64_t v = 0;
    const char *p;

    if (!s || !*s || (s[0] == '0' && s[1])) {
        return false;
    }
    for (p = s; *p; p++) {
        if (*p < '0' || *p > '9') {
            return false;
        }
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > UINT32_MAX) {
            return false;
        }
    }
    if (v < min || v > max) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

uint32_t xna_wire_status_reason(XnaWireStatus st)
{
    switch (st) {
    case XNA_WIRE_OK:
    case XNA_WIRE_NO_ROOM:
        return XNA_ERR_NONE;
    case XNA_WIRE_BAD_DESC:
    case XNA_WIRE_BAD_CSUM:
        return XNA_ERR_BAD_DESC;
    case XNA_WIRE_UNTERMINATED:
    case XNA_WIRE_TOO_LONG:
    case XNA_WIRE_TOO_SHORT:
        return XNA_ERR_BAD_FRAME;
    case XNA_WIRE_BAD_MSG:
        return XNA_ERR_BAD_MSG;
    }
    return XNA_ERR_BAD_MSG;
}

const char *xna_wire_status_text(XnaWireStatus st)
{
    switch (st) {
    case XNA_WIRE_OK:
        return "ok";
    case XNA_WIRE_NO_ROOM:
        return "no buffer";
    case XNA_WIRE_BAD_DESC:
        return "bad descriptor";
    case XNA_WIRE_UNTERMINATED:
        return "unterminated frame";
    case XNA_WIRE_TOO_LONG:
        return "frame too long";
    case XNA_WIRE_TOO_SHORT:
        return "frame too short";
    case XNA_WIRE_BAD_CSUM:
        return "checksum offsets";
    case XNA_WIRE_BAD_MSG:
        return "bad control message";
    }
    return "?";
}

/*
 * Little-endian loads and stores on any host.  One memcpy each, which
 * compilers turn into a single load or store (they did not merge the
 * byte-wise form: a quarter of a descriptor fetch's instructions).
 */
static uint16_t ld16(const uint8_t *p)
{
    uint16_t v;

    memcpy(&v, p, sizeof(v));
    return GUINT16_FROM_LE(v);
}

static uint32_t ld32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof(v));
    return GUINT32_FROM_LE(v);
}

static void st16(uint8_t *p, uint16_t v)
{
    v = GUINT16_TO_LE(v);
    memcpy(p, &v, sizeof(v));
}

bool xna_wire_desc_fetch(const XnaWireRing *r, uint32_t pool_pages,
                         uint32_t idx, struct xna_desc *d)
{
    uint8_t raw[sizeof(struct xna_desc)];

    /* One copy: the guest may rewrite the slot while we look at it. */
    memcpy(raw, xna_wire_slot(r, idx), sizeof(raw));
    d->page = ld32(raw + offsetof(struct xna_desc, page));
    d->offset = ld16(raw + offsetof(struct xna_desc, offset));
    d->len = ld16(raw + offsetof(struct xna_desc, len));
    d->flags = ld16(raw + offsetof(struct xna_desc, flags));
    d->csum_start = ld16(raw + offsetof(struct xna_desc, csum_start));
    d->csum_offset = ld16(raw + offsetof(struct xna_desc, csum_offset));
    d->reserved = ld16(raw + offsetof(struct xna_desc, reserved));
    return d->page < pool_pages && d->reserved == 0 &&
           (uint32_t)d->offset + d->len <= XNA_PAGE_SIZE;
}

XnaWireStatus xna_wire_tx_gather(const XnaWireRing *r,
                                 const XnaWirePool *pool, uint32_t idx,
                                 uint32_t prod, uint8_t *buf, uint32_t *len,
                                 uint32_t *next, uint32_t *bad)
{
    uint32_t start = idx, total = 0, n = 0;
    struct xna_desc d, first = { 0 };

    *bad = start;
    for (;;) {
        if (idx == prod) {
            return XNA_WIRE_UNTERMINATED;
        }
        if (!xna_wire_desc_fetch(r, pool->count, idx, &d) || d.len == 0 ||
            (d.flags & ~XNA_DESC_FLAGS_TX)) {
            *bad = idx;
            return XNA_WIRE_BAD_DESC;
        }
        if (n == 0) {
            first = d;
        }
        if (++n > XNA_MAX_FRAGS || total + d.len > XNA_MAX_FRAME_LEN) {
            return XNA_WIRE_TOO_LONG;
        }
        memcpy(buf + total, pool->pages[d.page] + d.offset, d.len);
        total += d.len;
        idx++;
        if (!(d.flags & XNA_DESC_MORE)) {
            break;
        }
    }
    if (total < XNA_MIN_FRAME_LEN) {
        return XNA_WIRE_TOO_SHORT;
    }
    /* Checked and filled on our copy: the guest cannot race it. */
    if ((first.flags & XNA_DESC_CSUM_PARTIAL) &&
        !xna_csum_fill(buf, total, first.csum_start, first.csum_offset)) {
        return XNA_WIRE_BAD_CSUM;
    }
    *len = total;
    *next = idx;
    return XNA_WIRE_OK;
}

/* The descriptor slot's answer: how much of it the frame took. */
static void rx_fill_slot(const XnaWireRing *r, uint32_t idx, uint16_t len,
                         uint16_t flags)
{
    uint8_t *slot = (uint8_t *)xna_wire_slot(r, idx);

    st16(slot + offsetof(struct xna_desc, len), len);
    st16(slot + offsetof(struct xna_desc, flags), flags);
}

/*
 * A frame over more than one buffer.  Apart from xna_wire_rx_place(), so
 * that the common case, one buffer, does not pay for (the compiler's
 * zeroing of) this array of descriptors.
 */
static XnaWireStatus rx_place_frags(const XnaWireRing *r,
                                    const XnaWirePool *pool, uint32_t idx,
                                    uint32_t posted, const uint8_t *frame,
                                    uint32_t len, uint16_t flags,
                                    uint32_t *next, uint32_t *bad)
{
    struct xna_desc d[XNA_MAX_FRAGS];
    uint32_t n = 0, cap = 0, off = 0, i;

    /* First see whether it fits, so that a frame that waits writes nothing. */
    while (cap < len) {
        if (n == XNA_MAX_FRAGS) {
            return XNA_WIRE_TOO_LONG;
        }
        if (n == posted) {
            return XNA_WIRE_NO_ROOM;
        }
        if (!xna_wire_desc_fetch(r, pool->count, idx + n, &d[n]) ||
            d[n].len < XNA_MIN_RX_BUFFER) {
            *bad = idx + n;
            return XNA_WIRE_BAD_DESC;
        }
        cap += d[n].len;
        n++;
    }
    for (i = 0; i < n; i++) {
        uint32_t chunk = d[i].len < len - off ? d[i].len : len - off;

        memcpy(pool->pages[d[i].page] + d[i].offset, frame + off, chunk);
        off += chunk;
        rx_fill_slot(r, idx + i, (uint16_t)chunk,
                     i + 1 < n ? flags | XNA_DESC_MORE : flags);
    }
    *next = idx + n;
    return XNA_WIRE_OK;
}

XnaWireStatus xna_wire_rx_place(const XnaWireRing *r, const XnaWirePool *pool,
                                uint32_t idx, uint32_t posted,
                                const uint8_t *frame, uint32_t len,
                                uint16_t flags, uint32_t *next,
                                uint32_t *bad)
{
    struct xna_desc d;

    *bad = idx;
    if (len == 0 || len > XNA_MAX_FRAME_LEN) {
        return XNA_WIRE_TOO_LONG;
    }
    if (posted == 0) {
        return XNA_WIRE_NO_ROOM;
    }
    /* The guest may rewrite the slot: fetch it once, use that copy. */
    if (!xna_wire_desc_fetch(r, pool->count, idx, &d) ||
        d.len < XNA_MIN_RX_BUFFER) {
        return XNA_WIRE_BAD_DESC;
    }
    if (d.len < len) {
        return rx_place_frags(r, pool, idx, posted, frame, len, flags, next,
                              bad);
    }
    memcpy(pool->pages[d.page] + d.offset, frame, len);
    rx_fill_slot(r, idx, (uint16_t)len, flags);
    *next = idx + 1;
    return XNA_WIRE_OK;
}

XnaWireStatus xna_wire_msg_decode(const struct xna_msg *raw, bool hello_done,
                                  uint32_t num_vis, XnaWireMsg *out,
                                  char *why, size_t why_len)
{
    uint8_t m[sizeof(struct xna_msg)];

    memcpy(m, raw, sizeof(m));
    memset(out, 0, sizeof(*out));
    out->type = ld16(m + offsetof(struct xna_msg, type));
    if (ld16(m + offsetof(struct xna_msg, reserved)) != 0) {
        snprintf(why, why_len, "control message with reserved bits");
        return XNA_WIRE_BAD_MSG;
    }
    if (!hello_done && out->type != XNA_MSG_HELLO) {
        snprintf(why, why_len, "control message %u before HELLO", out->type);
        return XNA_WIRE_BAD_MSG;
    }
    switch (out->type) {
    case XNA_MSG_HELLO:
        out->version = ld32(m + offsetof(struct xna_msg, u.hello.version));
        out->nr_vis = ld32(m + offsetof(struct xna_msg, u.hello.nr_vis));
        return XNA_WIRE_OK;
    case XNA_MSG_VI_RESET:
        out->vi = ld32(m + offsetof(struct xna_msg, u.vi.vi));
        if (out->vi >= num_vis) {
            snprintf(why, why_len, "VI_RESET of VI %u (%u VIs)", out->vi,
                     num_vis);
            return XNA_WIRE_BAD_MSG;
        }
        return XNA_WIRE_OK;
    default:
        snprintf(why, why_len, "unknown control message type %u", out->type);
        return XNA_WIRE_BAD_MSG;
    }
}
