/*
 * xen-net-accel: one AF_XDP socket bound to one queue
 *
 * Two kinds.  A copy socket has a UMEM of its own, in copy mode:
 * received frames are copied by the kernel into it, and from it into the
 * guest's pool by the device; frames to send are copied into it.  Part
 * of its chunks feed the receive side (fill ring), the rest are for
 * transmit.  A pool socket's UMEM is the guest's buffer pool: the fill
 * ring holds buffers the guest posted, and the kernel (or the NIC, in
 * driver zero-copy mode) puts received frames straight into them; it has
 * no transmit ring, as no buffer of the pool is the backend's to send
 * from.  Every descriptor the kernel hands back is checked against the
 * UMEM before it is used.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_XNA_XSK_H
#define HW_NET_XNA_XSK_H

#define XNA_XSK_CHUNK           4096    /* UMEM chunk: one frame */
#define XNA_XSK_RX_CHUNKS       2048    /* fill and RX rings */
#define XNA_XSK_TX_CHUNKS       1024    /* TX and completion rings */

/*
 * Pool sockets: unaligned chunks of 2 KiB, each starting 256 bytes
 * (XDP_PACKET_HEADROOM, which the kernel always leaves) before the
 * buffer it fills, so that a frame starts at its buffer's first byte.
 * The kernel writes nothing in that headroom (our program keeps no
 * metadata), which belongs to the buffer before.
 */
#define XNA_XSK_POOL_CHUNK      2048
#define XNA_XSK_POOL_HEADROOM   256
#define XNA_XSK_POOL_FRAME_MAX  (XNA_XSK_POOL_CHUNK - XNA_XSK_POOL_HEADROOM)

typedef struct XnaXskRing {
    uint32_t *producer;
    uint32_t *consumer;
    uint32_t *flags;
    void *descs;
    uint32_t size;           /* entries, a power of two */
    uint32_t cached_prod;    /* ours when we produce, a snapshot if not */
    uint32_t cached_cons;
    void *map;
    size_t map_len;
} XnaXskRing;

typedef struct XnaXsk {
    int fd;
    uint8_t *umem;
    size_t umem_len;
    XnaXskRing fill, comp, rx, tx;
    uint64_t *tx_free;       /* free TX chunk addresses (a stack) */
    uint32_t nr_tx_free;
    uint64_t *rx_addrs;      /* chunks of the peeked RX descriptors */
    uint32_t rx_taken;       /* RX descriptors read but not released */
    uint64_t rx_bad;         /* descriptors that failed the checks */
    uint64_t tx_errors;      /* sendto failures other than "busy" */
    bool pool;               /* the UMEM is the guest's pool, not ours */
    bool zero_copy;          /* bound in driver zero-copy mode */
} XnaXsk;

/* The kernel's count of frames it could not give the socket. */
typedef struct XnaXskDrops {
    uint64_t dropped;        /* in all (those for want of a buffer too) */
    uint64_t no_buffer;      /* fill ring empty */
    uint64_t ring_full;      /* RX ring full */
    uint64_t invalid;        /* fill or TX entries it refused */
} XnaXskDrops;

/*
 * Where the sockets come from when this process may not make or bind
 * them (the AF_XDP helper, xna-afxdp-helper.h): @socket returns a new
 * unbound AF_XDP socket (or -1, @errp set); @bind binds @fd, whose UMEM
 * and rings are set up, to @queue of the helper's interface with the
 * sockaddr_xdp flags @flags: 0 or a negative errno.  NULL: this process
 * makes and binds them itself.
 */
typedef struct XnaXskPriv {
    int (*socket)(void *opaque, Error **errp);
    int (*bind)(void *opaque, int fd, uint32_t queue, uint16_t flags);
    void *opaque;
} XnaXskPriv;

/*
 * Create the socket, bind it to @ifindex's @queue in copy mode.  On
 * failure *@busy tells that the queue is still held by a socket closed a
 * moment ago (the kernel releases it from a work item): try again later.
 * Neither function waits.
 */
XnaXsk *xna_xsk_new(int ifindex, uint32_t queue, const XnaXskPriv *priv,
                    bool *busy, Error **errp);
/*
 * Create a pool socket on @ifindex's @queue whose UMEM is @umem (@len
 * bytes, page-aligned, mapped for the socket's whole life), able to hold
 * @entries posted buffers (a power of two).  Driver zero-copy first, copy
 * mode if the driver has none.
 */
XnaXsk *xna_xsk_new_pool(int ifindex, uint32_t queue, uint8_t *umem,
                         size_t len, uint32_t entries, const XnaXskPriv *priv,
                         bool *busy, Error **errp);
void xna_xsk_free(XnaXsk *x);
void xna_xsk_drops(XnaXsk *x, XnaXskDrops *d);

/*
 * Pool sockets: give buffers to the fill ring, by the UMEM offset of
 * their first byte (each at least XNA_XSK_POOL_HEADROOM in, with room
 * for XNA_XSK_POOL_FRAME_MAX bytes).  Returns how many were taken.  The
 * frames come back from xna_xsk_rx_peek() in the order of the buffers.
 */
uint32_t xna_xsk_pool_post(XnaXsk *x, const uint64_t *bufs, uint32_t n);

/*
 * Read up to @n received frames: their data points into the UMEM and
 * stays valid until xna_xsk_rx_release().  Bad descriptors are skipped
 * (and counted in rx_bad).
 */
uint32_t xna_xsk_rx_peek(XnaXsk *x, uint8_t **data, uint32_t *len,
                         uint32_t n);
/* Give the chunks of the frames of the last peek back to the fill ring. */
void xna_xsk_rx_release(XnaXsk *x);
/* True when the RX ring holds frames nobody has peeked at. */
bool xna_xsk_rx_pending(XnaXsk *x);

/*
 * Queue a copy of a frame for transmission; false when no chunk or ring
 * entry is free (or the frame is too long).  xna_xsk_tx_flush() sends.
 */
bool xna_xsk_tx(XnaXsk *x, const uint8_t *data, uint32_t len);
/* Kick the kernel to send what is queued, and reap completions. */
void xna_xsk_tx_flush(XnaXsk *x);
/* Take back the chunks of sent frames; true when a chunk is free. */
bool xna_xsk_tx_reap(XnaXsk *x);

#endif /* HW_NET_XNA_XSK_H */
