/*
 * xen-net-accel: shared-index primitives of the rings and FIFOs
 *
 * Every index in shared memory is free-running and little-endian; the
 * backend keeps its own copies and only writes its indices to the page.
 * These helpers hold the memory-ordering rules in one place: read the
 * other side's producer, then its entries; write entries, then our index,
 * then read the other side's event index (the event-index rule of Xen's
 * rings, the spec).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_XNA_RING_H
#define HW_NET_XNA_RING_H

#include "qemu/atomic.h"
#include "qemu/bswap.h"
#include "hw/net/xen-net-accel-protocol.h"

/* The other side's index at @p; its entries may be read after this. */
static inline uint32_t xna_ring_read_index(const uint32_t *p)
{
    uint32_t v = le32_to_cpu(qatomic_read(p));

    smp_rmb();  /* entries after the index */
    return v;
}

/*
 * The guest's producer @prod is valid against our consumer @cons on a
 * ring of @size entries: it is neither behind @cons nor more than a full
 * ring ahead.
 */
static inline bool xna_ring_prod_ok(uint32_t prod, uint32_t cons,
                                    uint32_t size)
{
    return prod - cons <= size;
}

/*
 * Publish our index @p = @new (from @old), after what we did with the
 * entries; true when the other side's event index at @event asks to be
 * notified.  A full barrier: a producer's writes of entries, and a
 * consumer's reads of them (the slots are the other side's again once
 * the index moves), both come before the index.
 */
static inline bool xna_ring_publish(uint32_t *p, const uint32_t *event,
                                    uint32_t new, uint32_t old)
{
    smp_mb();   /* entries written or read before the index */
    qatomic_set(p, cpu_to_le32(new));
    smp_mb();   /* the index before reading the event index */
    return xna_need_event(le32_to_cpu(qatomic_read(event)), new, old);
}

/*
 * Ask to be notified when the other side's index passes @val, then
 * return its index as it is now (re-read after the request is visible:
 * an entry published before it is not missed).
 */
static inline uint32_t xna_ring_set_event(uint32_t *event, uint32_t val,
                                          const uint32_t *index)
{
    qatomic_set(event, cpu_to_le32(val));
    smp_mb();   /* the event index before re-reading the index */
    return le32_to_cpu(qatomic_read(index));
}

#endif /* HW_NET_XNA_RING_H */
