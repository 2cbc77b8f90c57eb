/*
 * xna-port.h: QEMU's side of the services the xen-net-accel frontend
 * core (libqos/xna-front.c) needs
 *
 * The core is the Linux guest module's own protocol code; it runs in
 * qtests on guest RAM that QEMU maps too, so the barriers are those for
 * memory shared with another process, and XNA_READ_ONCE()/
 * XNA_WRITE_ONCE() are single, untorn accesses of a field the backend
 * may change at any time.  Shared structures are little-endian.
 * xna_seq_t is the sequence counter the core bumps around every change
 * of its lookup tables, so that its TX path can read them without a lock.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_QTEST_LIBQOS_XNA_PORT_H
#define TESTS_QTEST_LIBQOS_XNA_PORT_H

#include "qemu/atomic.h"
#include "qemu/bswap.h"
#include "qemu/seqlock.h"

#define xna_zalloc(size) g_malloc0(size)
#define xna_free(ptr) g_free(ptr)

/* Full barrier: our index write, then the other side's event index */
#define xna_mb() smp_mb()
/* The other side's producer index, then the entries it covers */
#define xna_rmb() smp_rmb()
/* Our entries, then the producer index that publishes them */
#define xna_wmb() smp_wmb()

#define XNA_READ_ONCE(x) qatomic_read(&(x))
#define XNA_WRITE_ONCE(x, v) qatomic_set(&(x), (v))

#define xna_le16(x) le16_to_cpu(x)
#define xna_le32(x) le32_to_cpu(x)
#define xna_cpu_to_le16(x) cpu_to_le16(x)
#define xna_cpu_to_le32(x) cpu_to_le32(x)

#define xna_snprintf snprintf

#define XNA_ARRAY_SIZE(a) ARRAY_SIZE(a)
#define XNA_U32_MAX UINT32_MAX
#define XNA_U64_MAX UINT64_MAX
#define XNA_S32_MAX INT32_MAX

typedef QemuSeqLock xna_seq_t;
#define xna_seq_init(s) seqlock_init(s)
#define xna_seq_read_begin(s) seqlock_read_begin(s)
#define xna_seq_read_retry(s, v) seqlock_read_retry(s, v)
#define xna_seq_write_begin(s) seqlock_write_begin(s)
#define xna_seq_write_end(s) seqlock_write_end(s)

#endif
