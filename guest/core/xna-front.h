/* SPDX-License-Identifier: GPL-2.0-or-later OR MIT */
/*
 * xna-front.h: the frontend core of xen-net-accel (protocol v1)
 *
 * One C unit (xna-front.c) shared by the Linux guest module and by user
 * space (unit tests, and the QEMU qtest "guest" that drives the real
 * backend).  The core implements the frontend half of the protocol
 * (docs/specs/xen-net-accel.rst) on memory the caller provides: it never
 * allocates shared pages, grants them or binds event channels.  It works
 * on plain virtual addresses of pages the caller allocated and granted to
 * the backend.
 *
 * Use, step by step (a user-space driver; the kernel module does the
 * same with xenbus, grant and event channel calls):
 *
 *  1. Read the backend's keys (the spec's "Backend keys") with
 *     xna_backend_info_parse(), giving it a callback that reads one key
 *     of the backend directory.
 *  2. Choose a layout: xna_layout_choose() (or xna_layout_init() with
 *     explicit sizes).  layout.total_pages is the number of 4 KiB pages
 *     to allocate; xna_layout_*_page() say which page is which.
 *  3. Allocate layout.total_pages zeroed pages, grant each one
 *     read-write to the backend's domain ("backend-id"), allocate one
 *     unbound event channel for control and one per VI.
 *  4. xna_front_create() with the page addresses, their grant refs, the
 *     ports and a notify callback.  It initialises the control page, the
 *     VI shared pages and rings, fills the pool directory pages and posts
 *     every RX buffer.
 *  5. In a xenstore transaction, write the keys of
 *     xna_front_write_keys() in the frontend directory (with the
 *     backend's generation), then switch the frontend to Initialised.
 *  6. When the backend is Connected: xna_front_send_hello().
 *  7. On every control event: while (xna_front_ctrl_recv(f, &msg) > 0) react
 *     to msg; then xna_front_ctrl_arm() (and loop again if it returns true).
 *     Once xna_front_ready() is true, switch to Connected.
 *  8. TX: xna_front_tx_decide(); on XNA_TX_ACCEPT xna_front_tx_frame(), then notify
 *     the VI's port when it returns XNA_TX_KICK (or later, after a
 *     batch, when xna_front_tx_kick_needed() says so).  Otherwise send the
 *     frame on the slow path.
 *  9. RX: on a VI event, xna_front_rx_poll() with a callback that copies the
 *     frame out; when it did less than its budget, xna_front_rx_arm() and
 *     poll again if it returns true.
 * 10. A VI that went down (VI_DOWN, xna_front_vi_state() == XNA_VI_DOWN):
 *     once no TX or RX runs on it, xna_front_vi_reset() hands back the frames
 *     the backend has not sent (send them on the slow path), resets the
 *     VI and asks the backend to restart it (VI_RESET).
 * 11. Teardown: stop TX, xna_front_vi_tx_unsent() on every VI (send those
 *     frames on the slow path), xna_front_destroy(), then end the grants
 *     and close the ports.
 *
 * Concurrency: the core takes no lock.  The caller serialises, per
 * front, the control functions (xna_ctrl_*, xna_front_send_hello,
 * xna_front_vi_reset); per VI, the TX functions (xna_front_tx_*), and separately the
 * RX functions (xna_rx_*).  The TX decision reads the tables that the
 * control functions change (fast flows, local MACs) under a sequence
 * counter and retries, so TX needs no lock against control; a writer
 * must not be interrupted by a reader on the same CPU (the kernel module
 * calls the control functions with bottom halves disabled).
 * xna_front_vi_reset() must not run concurrently with TX or RX on that VI.
 */

#ifndef XNA_FRONT_H
#define XNA_FRONT_H

#include "xna-port.h"
#include "hw/net/xen-net-accel-protocol.h"

/* Every ring slot owns a fixed buffer: half a pool page. */
#define XNA_BUF_SIZE		2048u
#define XNA_BUFS_PER_PAGE	(XNA_PAGE_SIZE / XNA_BUF_SIZE)

/* Default size of the fast-flow table (flows the guest may send fast) */
#define XNA_DEFAULT_MAX_FLOWS	4096u
#define XNA_MAX_FLOWS		65536u
/* Co-resident MACs remembered; beyond that every frame is declined */
#define XNA_MAX_LOCAL_MACS	256u
/* NIC-side MACs remembered (WIRE_MAC); beyond that, flows decide alone */
#define XNA_MAX_WIRE_MACS	64u
/* Addresses of each family in the backend key source-ips */
#define XNA_MAX_SOURCE_IPS	16u
/* Longest source-ips value: 16 dotted quads, 16 x 32 hex digits, blanks */
#define XNA_SOURCE_IPS_LEN	(XNA_MAX_SOURCE_IPS * (16 + 33) + 1)
/* Control messages queued by the guest while the FIFO is full */
#define XNA_CTRL_PENDING	(2 * XNA_MAX_VIS + 4)

struct xna_front;
struct xna_vi;

/* A piece of a frame: a linear part, a page fragment or a pool buffer. */
struct xna_frag {
	const void *data;
	uint32_t len;
};

/*
 * Backend keys
 */

struct xna_backend_info {
	uint32_t protocol_version;
	uint64_t generation;
	uint32_t max_vis;
	uint32_t max_filters;
	uint32_t max_tx_ring_entries;
	uint32_t max_rx_ring_entries;
	uint32_t max_pool_pages;
	uint8_t mac[6];
	bool has_mac;
	int32_t vif;			/* -1: unknown */
	uint32_t mtu;
	bool csum_offload;		/* feature-csum-offload */
	bool sg;			/* feature-sg */
	bool wire_mac;			/* feature-wire-mac */
	char nic[16];
	/* source-ips: what the VI may send from; none listed: anything */
	uint8_t nr_src4;
	uint8_t nr_src6;
	uint8_t src4[XNA_MAX_SOURCE_IPS][4];
	uint8_t src6[XNA_MAX_SOURCE_IPS][16];
};

/*
 * Reads key @key of the backend directory into @buf (NUL-terminated,
 * @len bytes at most): 0, -ENOENT when missing, or another -errno.
 */
typedef int (*xna_read_key_fn)(void *opaque, const char *key, char *buf,
			       size_t len);

/*
 * Reads and checks the backend keys.  Returns 0, -ENOENT when a required
 * key is missing, -EINVAL when one is malformed or out of range,
 * -EPROTONOSUPPORT when the backend does not speak version 1.  Optional
 * keys get defaults: max-filters 0, mac unknown, vif -1, mtu 1500,
 * features 0, nic "".
 */
int xna_backend_info_parse(struct xna_backend_info *bi,
			   xna_read_key_fn read_key, void *opaque);

/* Strict parsers of xenstore values (the whole string, decimal). */
int xna_parse_u64(const char *s, uint64_t max, uint64_t *val);
int xna_parse_mac(const char *s, uint8_t mac[6]);

/*
 * Pairing: which netfront interface the backend's "vif"/"mac" keys name.
 * A candidate is a netfront net_device: the name of its xenbus device
 * ("vif-<n>"), its MAC and the backend-id of that vif.  The keys come
 * from this device's backend, which may be a driver domain that serves
 * only some of the guest's devices: it may only name a vif that it (the
 * same domain, @backend_id: this device's "backend-id") serves too, or
 * it would take over the traffic of an interface another domain serves.
 */
enum xna_pair_verdict {
	XNA_PAIR_NO,		/* not the interface the keys name */
	XNA_PAIR_YES,
	XNA_PAIR_OTHER_BACKEND,	/* named, but served by another domain */
};

struct xna_pair_candidate {
	const char *xenbus_name;	/* "vif-<n>" */
	const uint8_t *mac;		/* 6 bytes */
	uint32_t backend_id;		/* the vif's backend-id */
};

enum xna_pair_verdict xna_pair_match(const struct xna_backend_info *bi,
				     uint32_t backend_id,
				     const struct xna_pair_candidate *c);

/*
 * After a suspend (save, migration, checkpoint) that Linux did not
 * follow with .resume: was it cancelled (same host, same backend, the
 * connection's grants and event channels still good), or did the
 * resume fail (a new host, where they mean nothing or, worse, name
 * another device's channels)?  True only when the backend directory
 * and the frontend directory both still hold the generation @generation
 * that the connection was made with (a new backend has a new random
 * generation, and the toolstack of a new host writes a fresh frontend
 * directory).  Any key missing or unreadable: false, reconnect.
 */
bool xna_backend_unchanged(uint64_t generation, xna_read_key_fn read_backend,
			   void *backend_opaque, xna_read_key_fn read_frontend,
			   void *frontend_opaque);

/*
 * Layout: which page is which.  The core numbers every page it needs
 * 0..total_pages-1; the caller allocates them in any way and passes
 * their addresses and grant refs in that order:
 *
 *   0                          control page
 *   per VI n: vi_base(n)       shared page, then tx_ring_pages TX ring
 *                              pages, then rx_ring_pages RX ring pages
 *   dir_base                   pool_dir_pages pool directory pages
 *   pool_base                  pool_pages pool pages
 *
 * The pool is split evenly: VI n owns pool pages
 * [n * pool_pages_per_vi, (n+1) * pool_pages_per_vi).  In its share, TX
 * slot s uses buffer s and RX slot s buffer tx_entries + s, two 2 KiB
 * buffers per page.  Frames up to XNA_MAX_FRAME_LEN are chains of slots.
 */
struct xna_layout {
	uint32_t num_vis;
	uint32_t tx_entries;
	uint32_t rx_entries;
	uint32_t tx_ring_pages;		/* per VI */
	uint32_t rx_ring_pages;		/* per VI */
	uint32_t vi_pages;		/* per VI: 1 + tx + rx ring pages */
	uint32_t pool_pages_per_vi;
	uint32_t pool_pages;
	uint32_t pool_dir_pages;
	uint32_t dir_base;
	uint32_t pool_base;
	uint32_t total_pages;
};

#define XNA_LAYOUT_CTRL_PAGE	0u

/*
 * Fills @l for @num_vis VIs with rings of @tx_entries and @rx_entries
 * (powers of two, XNA_MIN_RING_ENTRIES..XNA_MAX_RING_ENTRIES).  0 or
 * -EINVAL.
 */
int xna_layout_init(struct xna_layout *l, unsigned int num_vis,
		    unsigned int tx_entries, unsigned int rx_entries);
/*
 * Chooses a layout within the backend's limits: at most @want_vis VIs
 * (0: 1) and rings of at most @want_tx/@want_rx entries (0: the
 * minimum), rounded down to powers of two; rings, then VIs, shrink until
 * the pool fits in max-pool-pages.  0, or -ENOSPC when even one VI with
 * the smallest rings does not fit.
 */
int xna_layout_choose(struct xna_layout *l, const struct xna_backend_info *bi,
		      unsigned int want_vis, unsigned int want_tx,
		      unsigned int want_rx);

static inline uint32_t xna_layout_vi_shared_page(const struct xna_layout *l,
						 unsigned int vi)
{
	return 1 + vi * l->vi_pages;
}

static inline uint32_t xna_layout_tx_ring_page(const struct xna_layout *l,
					       unsigned int vi, unsigned int k)
{
	return xna_layout_vi_shared_page(l, vi) + 1 + k;
}

static inline uint32_t xna_layout_rx_ring_page(const struct xna_layout *l,
					       unsigned int vi, unsigned int k)
{
	return xna_layout_tx_ring_page(l, vi, l->tx_ring_pages) + k;
}

static inline uint32_t xna_layout_dir_page(const struct xna_layout *l,
					   unsigned int d)
{
	return l->dir_base + d;
}

/* Flat index of pool page @p (0..pool_pages-1). */
static inline uint32_t xna_layout_pool_page(const struct xna_layout *l,
					    unsigned int p)
{
	return l->pool_base + p;
}

/* Pool page (protocol numbering) and offset of a slot's buffer. */
void xna_layout_tx_buf(const struct xna_layout *l, unsigned int vi,
		       unsigned int slot, uint32_t *pool_page,
		       uint16_t *offset);
void xna_layout_rx_buf(const struct xna_layout *l, unsigned int vi,
		       unsigned int slot, uint32_t *pool_page,
		       uint16_t *offset);

/*
 * Front
 */

struct xna_front_ops {
	/* Notify the backend on event channel @port. */
	void (*notify)(void *opaque, uint32_t port);
};

struct xna_front_config {
	const struct xna_layout *layout;
	void *const *pages;		/* total_pages addresses, zeroed or not */
	const uint32_t *refs;		/* their grant refs */
	uint32_t ctrl_port;
	const uint32_t *vi_ports;	/* num_vis ports */
	const struct xna_backend_info *backend;	/* mtu, features, mac */
	uint32_t max_flows;		/* fast-flow table; 0: default */
	/*
	 * Ask for WIRE_MAC messages (if the backend offers them) and send
	 * TCP/UDP to those MACs through a VI before a flow is learned.
	 */
	bool wire_macs;
	const struct xna_front_ops *ops;
	void *opaque;
};

/*
 * Creates a front on the pages of @cfg and initialises them (control
 * page, VI shared pages and rings zeroed, pool directory filled, every
 * RX buffer posted).  Returns 0 and *@out, -EINVAL for a bad config or
 * -ENOMEM.  May sleep in the kernel (GFP_KERNEL).
 */
int xna_front_create(const struct xna_front_config *cfg,
		     struct xna_front **out);
/* Frees the core's state; the pages stay the caller's. */
void xna_front_destroy(struct xna_front *f);

/* Writes one frontend key (relative to the frontend directory). */
typedef int (*xna_write_key_fn)(void *opaque, const char *key,
				const char *value);
/*
 * Produces every frontend key of the spec ("Frontend keys") for
 * backend generation @generation; stops at the first error of @write and
 * returns it, else 0.
 */
int xna_front_write_keys(const struct xna_front *f, uint64_t generation,
			 xna_write_key_fn write, void *opaque);

const struct xna_layout *xna_front_layout(const struct xna_front *f);

enum xna_front_state {
	XNA_FRONT_INIT,		/* created, keys not yet used */
	XNA_FRONT_HELLO_SENT,	/* waiting for the HELLO reply */
	XNA_FRONT_CONNECTING,	/* HELLO answered, VIs not all up yet */
	XNA_FRONT_READY,	/* every accepted VI came up once */
	XNA_FRONT_FAILED,	/* HELLO refused, ERROR, or a broken FIFO */
};

enum xna_front_state xna_front_state(const struct xna_front *f);
/* HELLO answered and every accepted VI reported VI_UP once. */
bool xna_front_ready(const struct xna_front *f);
/* VIs the backend accepted (HELLO reply), 0 before. */
unsigned int xna_front_num_vis(const struct xna_front *f);
struct xna_vi *xna_front_vi(struct xna_front *f, unsigned int n);
/* Link state and MTU, from the backend keys and LINK messages. */
bool xna_front_link_up(const struct xna_front *f);
uint32_t xna_front_mtu(const struct xna_front *f);
/* Last ERROR message received (code 0: none). */
void xna_front_last_error(const struct xna_front *f, uint32_t *code,
			  uint32_t *vi, uint32_t *detail);

/*
 * Control channel
 */

/*
 * Queues @msg (type, payload; id and reserved are set here) to the
 * backend: written to the FIFO, or held in a small local queue while the
 * FIFO is full (flushed by xna_front_ctrl_recv/xna_front_ctrl_arm/
 * xna_front_ctrl_flush).
 * Notifies the backend when its event index asks for it.  0, or -ENOSPC
 * when the local queue is full too.
 */
int xna_front_ctrl_send(struct xna_front *f, const struct xna_msg *msg);
/* Moves queued messages into the FIFO; returns how many still wait. */
unsigned int xna_front_ctrl_flush(struct xna_front *f);
/* Sends HELLO (version 1, num_vis of the layout). */
int xna_front_send_hello(struct xna_front *f);

/*
 * Takes the next message from the backend, checks it and applies it to
 * the front (HELLO reply, VI states, local MACs, fast flows, link,
 * errors).  Returns 1 with a copy in *@msg (for the caller to react to,
 * e.g. log an ERROR, reset a VI that went down), 0 when the FIFO is
 * empty, or -EPROTO when the backend broke the FIFO (index too far): the
 * front is then XNA_FRONT_FAILED and the caller should disconnect.
 * Malformed messages are counted (ctrl_bad_msgs) and skipped: *@msg is
 * then returned with type 0.
 */
int xna_front_ctrl_recv(struct xna_front *f, struct xna_msg *msg);
/*
 * Asks for a notification on the next message (prod_event) and flushes
 * queued messages.  Returns true when messages arrived meanwhile (poll
 * again).
 */
bool xna_front_ctrl_arm(struct xna_front *f);
/*
 * The bounded form of step 7: takes up to @max messages (as
 * xna_front_ctrl_recv(), copies in @msgs[]), and arms the notification once
 * the FIFO is empty.  Returns how many it took.  *@more is true when
 * messages were still waiting after @max: the caller must call again
 * later (from a fresh work item, say) rather than wait for an event,
 * which the backend may never send for messages that are already there.
 * A backend that keeps the FIFO full can thus never hold the caller in
 * an endless loop.  A broken FIFO ends the call early, with the front
 * XNA_FRONT_FAILED and *@more false.
 */
unsigned int xna_front_ctrl_poll(struct xna_front *f, struct xna_msg *msgs,
				 unsigned int max, bool *more);
/* Messages waiting in the FIFO from the backend (cheap, no barrier). */
bool xna_front_ctrl_pending(const struct xna_front *f);

/*
 * Fast flows (FILTER notices) and co-resident MACs (LOCAL_MAC), for
 * tests and diagnostics.  @addr: 4 (IPv4) or 16 (IPv6) bytes, network
 * order; @port network order.
 */
bool xna_front_flow_is_fast(const struct xna_front *f, uint8_t kind,
			    const uint8_t *addr, uint16_t port);
unsigned int xna_front_flow_count(const struct xna_front *f);
bool xna_front_mac_is_local(const struct xna_front *f, const uint8_t *mac);
/* A WIRE_MAC the front knows (and uses: feature-wire-mac negotiated). */
bool xna_front_mac_is_wire(const struct xna_front *f, const uint8_t *mac);

/*
 * VIs
 */

enum xna_front_vi_state {
	XNA_VI_UNUSED,		/* not accepted by the backend */
	XNA_VI_WAIT_UP,		/* set up, waiting for VI_UP */
	XNA_VI_UP,		/* carrying traffic */
	XNA_VI_DOWN,		/* stopped by the backend (VI_DOWN) */
	XNA_VI_RESETTING,	/* VI_RESET sent, waiting for VI_UP */
	XNA_VI_FAILED,		/* the backend broke the rings: unused */
};

enum xna_front_vi_state xna_front_vi_state(const struct xna_vi *vi);
unsigned int xna_front_vi_index(const struct xna_vi *vi);
uint32_t xna_vi_port(const struct xna_vi *vi);
/* Reason of the last VI_DOWN (XNA_ERR_*). */
uint32_t xna_vi_down_reason(const struct xna_vi *vi);
/* Notifies the backend on the VI's event channel. */
void xna_front_vi_notify(struct xna_vi *vi);

/* Frame metadata for the TX slow path and for xna_front_tx_frame(). */
struct xna_tx_meta {
	bool csum_partial;	/* the L4 checksum is to be filled in */
	uint16_t csum_start;	/* from the start of the frame */
	uint16_t csum_offset;	/* from csum_start */
};

/*
 * Hands frames the backend has not sent yet to the caller, e.g. to send
 * them on the slow path: (@frags, @nfrags) is the frame in its TX
 * buffers, @len its length.  The data stays valid during the call only.
 */
typedef void (*xna_tx_unsent_fn)(void *opaque, const struct xna_frag *frags,
				 unsigned int nfrags, unsigned int len,
				 const struct xna_tx_meta *meta);

/*
 * Calls @fn for every frame of the VI's TX ring that the backend has not
 * consumed (tx_cons, when it is sane; else everything not yet reclaimed),
 * oldest first, and forgets them (they are the caller's now).  For a VI
 * that is stopped: teardown, VI_DOWN.  Returns the number of frames.
 */
unsigned int xna_front_vi_tx_unsent(struct xna_vi *vi, xna_tx_unsent_fn fn,
				    void *opaque);

/*
 * Calls @fn for the same frames as xna_front_vi_tx_unsent() but leaves them in
 * the ring: for a VI whose backend may still consume them (a guest about
 * to be suspended hands copies to the slow path; if the suspend is
 * cancelled, the ring carries on where it was).  Not counted in
 * tx_unsent.  Returns the number of frames.
 */
unsigned int xna_front_vi_tx_pending(struct xna_vi *vi, xna_tx_unsent_fn fn,
				     void *opaque);

/*
 * Restarts a VI that is XNA_VI_DOWN: hands its unsent TX frames to @fn
 * (may be NULL: dropped), zeroes the guest's indices, reposts every RX
 * buffer and sends VI_RESET; the VI is XNA_VI_RESETTING until VI_UP.
 * Returns 0, -EINVAL when the VI is not down, or xna_front_ctrl_send()'s
 * error.  Nothing may run TX or RX on this VI meanwhile.
 */
int xna_front_vi_reset(struct xna_vi *vi, xna_tx_unsent_fn fn, void *opaque);

/*
 * TX
 */

enum xna_front_tx_verdict {
	XNA_TX_ACCEPT = 0,
	XNA_TX_DECLINE_DISABLED,	/* accelerator switched off by caller */
	XNA_TX_DECLINE_VI_DOWN,		/* VI not up (or front not ready) */
	XNA_TX_DECLINE_LINK_DOWN,	/* LINK said the NIC is down */
	XNA_TX_DECLINE_RING_FULL,	/* no room for the frame now */
	XNA_TX_DECLINE_TOO_BIG,		/* over MTU, or needs SG */
	XNA_TX_DECLINE_MALFORMED,	/* truncated or inconsistent headers */
	XNA_TX_DECLINE_BROADCAST,
	XNA_TX_DECLINE_MULTICAST,
	XNA_TX_DECLINE_LOCAL_MAC,	/* to a co-resident guest */
	XNA_TX_DECLINE_NOT_IP,		/* neither IPv4 nor IPv6 */
	XNA_TX_DECLINE_FRAGMENT,	/* IPv4 fragment */
	XNA_TX_DECLINE_IPV6_EXTHDR,	/* IPv6 with extension headers */
	XNA_TX_DECLINE_NOT_TCP_UDP,
	XNA_TX_DECLINE_FLOW_NOT_FAST,	/* source addr+port has no filter */
	XNA_TX_DECLINE_OFFLOAD,		/* caller cannot express the frame */
	XNA_TX_DECLINE_GSO,		/* GSO, or a flow whose GSO goes slow */
	XNA_TX_DECLINE_NOTHING_FAST,	/* no filter, no WIRE_MAC: not parsed */
	XNA_TX_NR_VERDICTS,
	/*
	 * Not a decline (not counted in tx_declines[]): the VI would take
	 * the frame but has no room now.  The caller holds the frame (stops
	 * its queue and retries later) instead of sending it on the slow
	 * path, where it would overtake the frames of its flow still in the
	 * ring.  See "Back-pressure" below.
	 */
	XNA_TX_BUSY = 0x100,
};

/* A short name ("accept", "decline_ring_full", ...). */
const char *xna_front_tx_verdict_name(enum xna_front_tx_verdict v);

/*
 * Decides whether the VI takes a frame (the spec's "Filters and what
 * the guest accelerates").  (@frags, @nfrags) hold the frame (at least
 * its headers), @len its length.  @slots: 0 for one frame of @len bytes;
 * else the caller sends a burst of frames sharing these headers (the
 * segments of a GSO packet) that needs @slots TX slots in all, and the
 * frame length limits are its business.  Reclaims completed slots when
 * room is short.  A decline is counted (declines[], tx_slow_*); an
 * accept is counted by xna_front_tx_frame().
 *
 * An accept reserves the room: the frame (or the burst) that the caller
 * then gives xna_front_tx_frame() in the same TX context is taken even if the
 * backend stops the VI meanwhile (VI_DOWN is applied by the control
 * functions, which do not serialise with TX).  Such frames stay in the
 * ring until xna_front_vi_reset() or xna_front_vi_tx_unsent() hands them back, so
 * a burst is never cut in the middle.  The reservation ends with the
 * next xna_front_tx_decide().
 *
 * XNA_TX_BUSY: the frame is of a fast flow and the VI is up but full.
 */
enum xna_front_tx_verdict xna_front_tx_decide(struct xna_vi *vi,
					      const struct xna_frag *frags,
					      unsigned int nfrags, unsigned int len,
					      unsigned int slots);
/*
 * A GSO packet the caller sends on the slow path whole rather than
 * segment it into the VI (no VI takes GSO frames whole, and the slow
 * path's own offload sends a GSO packet for less than its segments cost
 * one by one).  Counts it (XNA_TX_DECLINE_GSO) and, if its flow is fast,
 * remembers the flow so that xna_front_tx_decide() sends its single frames
 * the same way (XNA_TX_DECLINE_GSO): split over two paths, a stream
 * would be reordered.  A VI remembers its last XNA_TX_BULK_FLOWS such
 * flows; bursts (@slots) are not affected.  Same TX context as
 * xna_front_tx_decide().
 */
#define XNA_TX_BULK_FLOWS	16
void xna_front_tx_slow_gso(struct xna_vi *vi, const struct xna_frag *frags,
			   unsigned int nfrags, unsigned int len);
/* Counts a decline the caller decided itself (DISABLED, OFFLOAD...). */
void xna_front_tx_count_decline(struct xna_vi *vi, enum xna_front_tx_verdict v,
				unsigned int len);
/* Slots a frame of @len bytes takes. */
static inline unsigned int xna_front_tx_slots(unsigned int len)
{
	return (len + XNA_BUF_SIZE - 1) / XNA_BUF_SIZE;
}

#define XNA_TX_KICK	1

/*
 * Copies a frame into the VI's TX slots and publishes it.  @meta may be
 * NULL.  With csum_partial and a backend without feature-csum-offload,
 * the checksum is computed here (Linux CHECKSUM_PARTIAL convention: the
 * field holds the pseudo-header sum).  With @more, the kick decision is
 * left to a later xna_front_tx_frame() or xna_front_tx_kick_needed().  Returns
 * XNA_TX_KICK when the caller must notify the VI's port, 0 when not,
 * -ENOSPC when the ring has no room, -EINVAL for a bad frame (length,
 * pieces, checksum offsets), -ENETDOWN when the VI is not up.
 */
int xna_front_tx_frame(struct xna_vi *vi, const struct xna_frag *frags,
		       unsigned int nfrags, unsigned int len,
		       const struct xna_tx_meta *meta, bool more);
/*
 * After a batch: true when frames were published since the last kick
 * decision and the backend asked for a kick (event index).
 */
bool xna_front_tx_kick_needed(struct xna_vi *vi);
/* Reclaims slots the backend consumed; returns the free slots. */
unsigned int xna_front_tx_reclaim(struct xna_vi *vi);
unsigned int xna_front_tx_free_slots(const struct xna_vi *vi);
/*
 * Back-pressure (as the 2007 netchannel plugin's check_ready: stop the
 * queue while the VI is full, wake it on TX completion).  When
 * xna_front_tx_decide() returns XNA_TX_BUSY it has asked the backend for a
 * notification on the VI's port (tx_cons_event) once a quarter of the
 * ring (or the frame's slots, if more) is free, and the VI is
 * "waiting".  The caller stops the queue the frame came from and keeps
 * the frame.  On a VI event, when xna_front_tx_waiting() says so, the TX
 * context calls xna_front_tx_wake_check(): true means wake the queues (room
 * came, or the VI or the front is no longer up, so that frames are
 * declined rather than held forever).
 *
 * A backend that never frees a slot must not stall the guest's
 * interface: when a wait lasts too long (the caller's clock), the TX
 * context calls xna_front_tx_give_up() and wakes the queues.  From then on
 * every frame that would take the VI is declined (XNA_TX_DECLINE_RING_FULL,
 * the slow path) until the backend consumes something again.
 *
 * Nor must a backend that died with room left in the ring: a stream in
 * timeout backoff sends a retransmission now and then, each of which the
 * ring would swallow.  The TX context calls xna_front_tx_progress() before
 * each decision: false when frames wait in the ring and the backend has
 * consumed none of them since the last call that returned true.  When it
 * stays false for as long as a wait may last (the caller's clock), the
 * caller calls xna_front_tx_stall(), which gives up as above (true when
 * it had not already: the caller may say so once).
 */
bool xna_front_tx_waiting(const struct xna_vi *vi);		/* cheap, lockless */
bool xna_front_tx_wake_check(struct xna_vi *vi);
void xna_front_tx_give_up(struct xna_vi *vi);
bool xna_front_tx_progress(struct xna_vi *vi);
bool xna_front_tx_stall(struct xna_vi *vi);

/*
 * RX
 */

/*
 * A received frame: (@frags, @nfrags) in the VI's RX buffers, valid
 * during the call only; @flags: XNA_DESC_CSUM_VALID, XNA_DESC_SLOW_PATH,
 * XNA_DESC_CSUM_PARTIAL (ORed over the chain).  Return 0 when the frame
 * was taken, a negative value when it was dropped (counted rx_dropped).
 */
typedef int (*xna_rx_fn)(void *opaque, struct xna_vi *vi,
			 const struct xna_frag *frags, unsigned int nfrags,
			 unsigned int len, unsigned int flags);

/*
 * Hands up to @budget completed frames to @fn, then reposts their
 * buffers and notifies the backend if its event index asks.  Frames the
 * backend filled wrongly (length over capacity, chain too long, frame too
 * short or too long) are dropped and counted (rx_bad_frames).  Returns
 * the number of frames handled (delivered or dropped), or -EPROTO when
 * the backend moved rx_cons beyond the posted buffers (the VI is then
 * XNA_VI_FAILED).
 */
int xna_front_rx_poll(struct xna_vi *vi, int budget, xna_rx_fn fn, void *opaque);
/*
 * Asks for a notification on the next completed frame (rx_cons_event);
 * returns true when frames arrived meanwhile (poll again).
 */
bool xna_front_rx_arm(struct xna_vi *vi);
/* Completed RX descriptors waiting (cheap check, e.g. in an IRQ). */
bool xna_front_rx_pending(const struct xna_vi *vi);

/*
 * Counters
 */

struct xna_front_vi_stats {
	uint64_t tx_fast_packets;	/* sent through the VI */
	uint64_t tx_fast_bytes;
	uint64_t tx_slow_packets;	/* declined: the slow path sent them */
	uint64_t tx_slow_bytes;
	uint64_t tx_wire_packets;	/* of the fast: to a WIRE_MAC, no flow */
	uint64_t tx_declines[XNA_TX_NR_VERDICTS];	/* [0] unused */
	uint64_t tx_kicks;
	uint64_t tx_busy;		/* XNA_TX_BUSY: frame held, VI full */
	uint64_t tx_stalls;		/* xna_front_tx_give_up: waited too long */
	uint64_t tx_unsent;		/* handed back by xna_front_vi_tx_unsent */
	uint64_t tx_errors;		/* xna_front_tx_frame refused a frame */
	uint64_t rx_fast_packets;	/* received through the VI */
	uint64_t rx_fast_bytes;
	uint64_t rx_slow_packets;	/* of which XNA_DESC_SLOW_PATH */
	uint64_t rx_slow_bytes;
	uint64_t rx_csum_valid;
	uint64_t rx_bad_frames;		/* malformed by the backend */
	uint64_t rx_dropped;		/* the callback refused them */
	uint64_t rx_kicks;
	uint64_t vi_down;		/* VI_DOWN received */
	uint64_t vi_resets;		/* VI_RESET sent */
	uint64_t ring_errors;		/* backend index out of range */
};

struct xna_front_stats {
	uint64_t ctrl_msgs_rx;
	uint64_t ctrl_msgs_tx;
	uint64_t ctrl_bad_msgs;		/* malformed, unknown, out of place */
	uint64_t ctrl_queued;		/* sends held while the FIFO was full */
	uint64_t ctrl_kicks;
	uint64_t flows_added;
	uint64_t flows_removed;
	uint64_t flow_table_full;	/* FILTER adds not remembered */
	uint64_t local_macs_added;
	uint64_t local_macs_removed;
	uint64_t local_mac_overflow;	/* then everything is declined */
	uint64_t wire_macs_added;
	uint64_t wire_macs_removed;
	uint64_t wire_mac_overflow;	/* WIRE_MAC adds not remembered */
	uint64_t link_changes;
	uint64_t errors;		/* ERROR messages */
};

const struct xna_front_vi_stats *xna_front_vi_stats(const struct xna_vi *vi);
const struct xna_front_stats *xna_front_stats(const struct xna_front *f);

#endif /* XNA_FRONT_H */
