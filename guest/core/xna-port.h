/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * xna-port.h: the few services the frontend core needs, for the Linux
 * kernel (__KERNEL__) and for user space (the unit tests and the QEMU
 * qtest "guest").
 *
 * Barriers are the ones for memory shared with another domain (or, in
 * user space, with another process): virt_*() in the kernel, __atomic
 * fences otherwise.  XNA_READ_ONCE()/XNA_WRITE_ONCE() are single,
 * untorn accesses of a field the other side may change at any time.
 *
 * Shared structures are little-endian: xna_le16/32() convert a value
 * read from shared memory to CPU order, xna_cpu_to_le16/32() the other
 * way.
 *
 * xna_seq_t is a sequence counter (the kernel's seqcount_t): the core
 * bumps it around every change of its lookup tables so that the TX path
 * can read them without a lock and retry when a change raced it.
 */

#ifndef XNA_PORT_H
#define XNA_PORT_H

#ifdef __KERNEL__

#include <linux/types.h>
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/compiler.h>
#include <linux/seqlock.h>
#include <asm/barrier.h>
#include <asm/byteorder.h>

#define xna_zalloc(size)	kvzalloc(size, GFP_KERNEL)
#define xna_free(ptr)		kvfree(ptr)

#define xna_mb()		virt_mb()
#define xna_rmb()		virt_rmb()
#define xna_wmb()		virt_wmb()

#define XNA_READ_ONCE(x)	READ_ONCE(x)
#define XNA_WRITE_ONCE(x, v)	WRITE_ONCE(x, v)

#define xna_le16(x)		le16_to_cpu((__force __le16)(x))
#define xna_le32(x)		le32_to_cpu((__force __le32)(x))
#define xna_cpu_to_le16(x)	((__force uint16_t)cpu_to_le16(x))
#define xna_cpu_to_le32(x)	((__force uint32_t)cpu_to_le32(x))

#define xna_snprintf		snprintf

#define XNA_ARRAY_SIZE(a)	ARRAY_SIZE(a)
#define XNA_U32_MAX		U32_MAX
#define XNA_U64_MAX		U64_MAX
#define XNA_S32_MAX		S32_MAX

typedef seqcount_t xna_seq_t;
#define xna_seq_init(s)			seqcount_init(s)
#define xna_seq_read_begin(s)		read_seqcount_begin(s)
#define xna_seq_read_retry(s, v)	read_seqcount_retry(s, v)
#define xna_seq_write_begin(s)		write_seqcount_begin(s)
#define xna_seq_write_end(s)		write_seqcount_end(s)

#else /* user space */

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <errno.h>
#include <endian.h>

#define xna_zalloc(size)	calloc(1, size)
#define xna_free(ptr)		free(ptr)

#define xna_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xna_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xna_wmb()		__atomic_thread_fence(__ATOMIC_RELEASE)

#define XNA_READ_ONCE(x)	__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define XNA_WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

#define xna_le16(x)		le16toh(x)
#define xna_le32(x)		le32toh(x)
#define xna_cpu_to_le16(x)	htole16(x)
#define xna_cpu_to_le32(x)	htole32(x)

#define xna_snprintf		snprintf

#define XNA_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define XNA_U32_MAX		UINT32_MAX
#define XNA_U64_MAX		UINT64_MAX
#define XNA_S32_MAX		INT32_MAX

typedef struct {
	unsigned int seq;
} xna_seq_t;

static inline void xna_seq_init(xna_seq_t *s)
{
	s->seq = 0;
}

static inline unsigned int xna_seq_read_begin(const xna_seq_t *s)
{
	unsigned int v;

	while ((v = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE)) & 1)
		;
	return v;
}

static inline bool xna_seq_read_retry(const xna_seq_t *s, unsigned int v)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&s->seq, __ATOMIC_RELAXED) != v;
}

static inline void xna_seq_write_begin(xna_seq_t *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void xna_seq_write_end(xna_seq_t *s)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
}

#endif /* __KERNEL__ */

#endif /* XNA_PORT_H */
