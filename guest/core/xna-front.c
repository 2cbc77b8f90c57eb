// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
/*
 * xna-front.c: the frontend core of xen-net-accel (protocol v1)
 *
 * Compiled into the Linux guest module and into user-space programs (unit
 * tests, the qtest guest).  See xna-front.h for the API and
 * docs/specs/xen-net-accel.rst for the contract with the backend.
 *
 * Everything read from shared memory is read once, converted from
 * little-endian, checked and only then used; the guest's own view of its
 * rings (indices, buffer of each slot, lengths of the frames it queued)
 * lives in private memory, never re-read from the shared pages.
 */

#include "xna-front.h"

#define XNA_HDR_MAX		128	/* header bytes the TX decision reads */
#define XNA_TX_EVENT_NEVER	0xffffffffu

#define XNA_MIN(a, b)		((a) < (b) ? (a) : (b))

/*
 * Small open-addressing hash tables (linear probing, backward-shift
 * deletion, so no tombstones): the fast flows and the local MACs.  A
 * reader racing a writer may see a torn table; it retries thanks to the
 * front's sequence counter, and every probe loop is bounded.
 */
struct xna_hent {
	uint8_t used;
	uint8_t kind;
	uint16_t port;
	uint8_t vi;
	uint8_t pad[3];
	uint8_t addr[16];
};

struct xna_htab {
	struct xna_hent *e;
	uint32_t mask;
	uint32_t count;
	uint32_t max;
};

/* A fast flow as TX classifies it: the guest's source address and port. */
struct xna_flow_key {
	uint8_t kind;
	uint16_t port;			/* network order */
	uint8_t addr[16];		/* zero-padded */
	bool wire;			/* accepted for its MAC, not its flow */
};

/* Guest-private record of a TX slot. */
struct xna_tx_shadow {
	uint16_t len;
	uint8_t nslots;		/* slots of the frame starting here, else 0 */
	uint8_t csum_partial;
	uint16_t csum_start;
	uint16_t csum_offset;
};

struct xna_vi {
	struct xna_front *f;
	unsigned int index;
	uint32_t port;
	int state;			/* enum xna_front_vi_state */
	uint32_t down_reason;
	bool seen_up;
	unsigned int resets;
	struct xna_vi_shared *sh;
	struct xna_desc *tx_ring[XNA_MAX_RING_PAGES];
	struct xna_desc *rx_ring[XNA_MAX_RING_PAGES];
	uint32_t pool_first;		/* first pool page of this VI */

	/* TX: serialised by the caller's TX context */
	uint32_t tx_mask;
	uint32_t tx_prod;		/* published */
	uint32_t tx_cons;		/* reclaimed up to */
	uint32_t tx_oldest;		/* first frame not wholly reclaimed */
	uint32_t tx_prod_notified;	/* tx_prod at the last kick decision */
	uint32_t tx_reserved;		/* slots the last accept reserved */
	uint32_t tx_wake_room;		/* a waiter wakes with this much room */
	bool tx_waiting;		/* XNA_TX_BUSY given, no wake yet */
	bool tx_stalled;		/* gave up on the backend: decline */
	uint32_t tx_stalled_cons;	/* tx_cons when we gave up */
	uint32_t tx_watch_cons;		/* tx_cons at the last progress */
	struct xna_tx_shadow *tx_shadow;
	/* fast flows whose GSO packets the slow path sends: see tx_slow_gso */
	struct xna_flow_key tx_bulk[XNA_TX_BULK_FLOWS];
	unsigned int tx_bulk_count;
	unsigned int tx_bulk_next;	/* the slot the next one replaces */

	/* RX: serialised by the caller's RX context */
	uint32_t rx_mask;
	uint32_t rx_prod;		/* posted up to */
	uint32_t rx_cons;		/* handled up to */
	uint32_t rx_seen;		/* backend rx_cons at the last look */

	struct xna_front_vi_stats stats;
};

struct xna_front {
	struct xna_layout l;
	void **pages;
	uint32_t *refs;
	uint32_t ctrl_port;
	struct xna_ctrl_page *ctrl;
	const struct xna_front_ops *ops;
	void *opaque;

	bool csum_offload;
	bool sg;
	bool link_up;
	uint32_t mtu;

	int state;			/* enum xna_front_state */
	unsigned int accepted_vis;
	uint32_t err_code;
	uint32_t err_vi;
	uint32_t err_detail;

	/* control channel */
	uint32_t msg_id;
	uint32_t to_b_prod;
	uint32_t to_g_cons;
	struct xna_msg pend[XNA_CTRL_PENDING];
	unsigned int pend_head;
	unsigned int pend_count;

	/* tables read by TX, changed by control */
	xna_seq_t seq;
	struct xna_htab flows;
	struct xna_htab macs;
	bool mac_overflow;
	/* WIRE_MACs: destinations the VI reaches before a flow is learned */
	bool wire_macs_on;
	bool wire_offered;		/* the backend's feature-wire-mac */
	struct xna_htab wire_macs;
	/* what the backend lets through a VI: its mac and source-ips keys */
	uint8_t mac[6];
	uint8_t nr_src4;
	uint8_t nr_src6;
	uint8_t src4[XNA_MAX_SOURCE_IPS][4];
	uint8_t src6[XNA_MAX_SOURCE_IPS][16];

	struct xna_front_stats stats;
	struct xna_vi vis[XNA_MAX_VIS];
};

/*
 * Parsing
 */

int xna_parse_u64(const char *s, uint64_t max, uint64_t *val)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned int d;

		if (*s < '0' || *s > '9')
			return -EINVAL;
		d = (unsigned int)(*s - '0');
		if (d > max || v > (max - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*val = v;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int xna_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		int hi = hexval(s[0]);
		int lo = hi < 0 ? -1 : hexval(s[1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		if (s[2] != (i == 5 ? '\0' : ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
		s += 3;
	}
	return 0;
}

enum xna_pair_verdict xna_pair_match(const struct xna_backend_info *bi,
				     uint32_t backend_id,
				     const struct xna_pair_candidate *c)
{
	uint64_t idx;
	bool named;

	if (!c->xenbus_name || strncmp(c->xenbus_name, "vif-", 4) ||
	    xna_parse_u64(c->xenbus_name + 4, XNA_S32_MAX, &idx))
		return XNA_PAIR_NO;
	if (bi->vif >= 0)
		named = idx == (uint64_t)bi->vif;
	else
		named = bi->has_mac && c->mac && !memcmp(c->mac, bi->mac, 6);
	if (!named)
		return XNA_PAIR_NO;
	if (c->backend_id != backend_id)
		return XNA_PAIR_OTHER_BACKEND;
	return XNA_PAIR_YES;
}

/* Reads a whole-string decimal key: true with *@val, else false. */
static bool read_u64_key(xna_read_key_fn read, void *opaque, const char *key,
			 uint64_t *val)
{
	char buf[32];

	buf[0] = '\0';
	if (read(opaque, key, buf, sizeof(buf)))
		return false;
	buf[sizeof(buf) - 1] = '\0';
	return !xna_parse_u64(buf, XNA_U64_MAX, val);
}

bool xna_backend_unchanged(uint64_t generation, xna_read_key_fn read_backend,
			   void *backend_opaque, xna_read_key_fn read_frontend,
			   void *frontend_opaque)
{
	uint64_t v;

	if (!read_u64_key(read_backend, backend_opaque, "generation", &v) ||
	    v != generation)
		return false;
	if (!read_u64_key(read_frontend, frontend_opaque, "generation", &v) ||
	    v != generation)
		return false;
	return true;
}

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

static uint32_t rounddown_pow2(uint32_t v)
{
	uint32_t r = 1;

	while (r <= v / 2)
		r <<= 1;
	return r;
}

/* "a.b.c.d", each part 0..255 in decimal without a leading zero. */
static int parse_ipv4(const char *s, unsigned int n, uint8_t a[4])
{
	unsigned int i = 0, part, val, digits;

	for (part = 0; part < 4; part++) {
		if (part) {
			if (i >= n || s[i] != '.')
				return -EINVAL;
			i++;
		}
		val = 0;
		for (digits = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			if (digits && !val)
				return -EINVAL;		/* leading zero */
			val = val * 10 + (unsigned int)(s[i] - '0');
			if (++digits > 3 || val > 255)
				return -EINVAL;
		}
		if (!digits)
			return -EINVAL;
		a[part] = (uint8_t)val;
	}
	return i == n ? 0 : -EINVAL;
}

/*
 * source-ips: dotted quads and 32-hex-digit IPv6 addresses, one blank
 * between two.  Anything else, or more than XNA_MAX_SOURCE_IPS of a
 * family, is -EINVAL.
 */
static int parse_sources(const char *s, struct xna_backend_info *bi)
{
	unsigned int n, i;

	if (!*s)
		return -EINVAL;
	for (;;) {
		n = (unsigned int)strcspn(s, " ");
		if (n == 32) {
			if (bi->nr_src6 == XNA_MAX_SOURCE_IPS)
				return -EINVAL;
			for (i = 0; i < 16; i++) {
				int hi = hexval(s[2 * i]);
				int lo = hi < 0 ? -1 : hexval(s[2 * i + 1]);

				if (lo < 0)
					return -EINVAL;
				bi->src6[bi->nr_src6][i] = (uint8_t)(hi << 4 | lo);
			}
			bi->nr_src6++;
		} else {
			if (bi->nr_src4 == XNA_MAX_SOURCE_IPS ||
			    parse_ipv4(s, n, bi->src4[bi->nr_src4]))
				return -EINVAL;
			bi->nr_src4++;
		}
		if (!s[n])
			return 0;
		s += n + 1;
		if (!*s || *s == ' ')
			return -EINVAL;
	}
}

struct key_reader {
	xna_read_key_fn read;
	void *opaque;
	char buf[64];
};

/* Reads a number key: 0, -ENOENT (then *val = def) or -EINVAL. */
static int read_num(struct key_reader *kr, const char *key, uint64_t min,
		    uint64_t max, uint64_t def, bool required, uint64_t *val)
{
	int err;

	kr->buf[0] = '\0';
	err = kr->read(kr->opaque, key, kr->buf, sizeof(kr->buf));
	if (err == -ENOENT && !required) {
		*val = def;
		return 0;
	}
	if (err)
		return err;
	kr->buf[sizeof(kr->buf) - 1] = '\0';
	if (xna_parse_u64(kr->buf, max, val) || *val < min)
		return -EINVAL;
	return 0;
}

static int read_sources(struct xna_backend_info *bi,
			xna_read_key_fn read_key, void *opaque)
{
	char *buf = xna_zalloc(XNA_SOURCE_IPS_LEN + 1);
	int err;

	if (!buf)
		return -ENOMEM;
	err = read_key(opaque, "source-ips", buf, XNA_SOURCE_IPS_LEN + 1);
	if (!err) {
		buf[XNA_SOURCE_IPS_LEN] = '\0';
		err = parse_sources(buf, bi);
	} else if (err == -ENOENT) {
		err = 0;
	}
	xna_free(buf);
	return err;
}

int xna_backend_info_parse(struct xna_backend_info *bi,
			   xna_read_key_fn read_key, void *opaque)
{
	struct key_reader kr = { .read = read_key, .opaque = opaque };
	uint64_t v;
	int err;

	memset(bi, 0, sizeof(*bi));

	err = read_num(&kr, "protocol-version", 1, XNA_U32_MAX, 0, true, &v);
	if (err)
		return err;
	bi->protocol_version = (uint32_t)v;
	/* The backend writes the highest version it speaks: >= 1 is fine. */

	err = read_num(&kr, "generation", 0, XNA_U64_MAX, 0, true, &v);
	if (err)
		return err;
	bi->generation = v;

	err = read_num(&kr, "max-vis", 1, XNA_MAX_VIS, 0, true, &v);
	if (err)
		return err;
	bi->max_vis = (uint32_t)v;

	err = read_num(&kr, "max-filters", 0, XNA_U32_MAX, 0, false, &v);
	if (err)
		return err;
	bi->max_filters = (uint32_t)v;

	err = read_num(&kr, "max-tx-ring-entries", XNA_MIN_RING_ENTRIES,
		       XNA_MAX_RING_ENTRIES, 0, true, &v);
	if (err)
		return err;
	if (!is_pow2((uint32_t)v))
		return -EINVAL;
	bi->max_tx_ring_entries = (uint32_t)v;

	err = read_num(&kr, "max-rx-ring-entries", XNA_MIN_RING_ENTRIES,
		       XNA_MAX_RING_ENTRIES, 0, true, &v);
	if (err)
		return err;
	if (!is_pow2((uint32_t)v))
		return -EINVAL;
	bi->max_rx_ring_entries = (uint32_t)v;

	err = read_num(&kr, "max-pool-pages", 1, XNA_MAX_POOL_PAGES, 0, true,
		       &v);
	if (err)
		return err;
	bi->max_pool_pages = (uint32_t)v;

	err = read_num(&kr, "mtu", 68, 9000, 1500, false, &v);
	if (err)
		return err;
	bi->mtu = (uint32_t)v;

	err = read_num(&kr, "feature-csum-offload", 0, 1, 0, false, &v);
	if (err)
		return err;
	bi->csum_offload = v;

	err = read_num(&kr, "feature-sg", 0, 1, 0, false, &v);
	if (err)
		return err;
	bi->sg = v;

	err = read_num(&kr, "feature-wire-mac", 0, 1, 0, false, &v);
	if (err)
		return err;
	bi->wire_mac = v;

	/* vif: "-1" or an index */
	bi->vif = -1;
	kr.buf[0] = '\0';
	err = read_key(opaque, "vif", kr.buf, sizeof(kr.buf));
	if (!err) {
		kr.buf[sizeof(kr.buf) - 1] = '\0';
		if (strcmp(kr.buf, "-1")) {
			if (xna_parse_u64(kr.buf, XNA_S32_MAX, &v))
				return -EINVAL;
			bi->vif = (int32_t)v;
		}
	} else if (err != -ENOENT) {
		return err;
	}

	kr.buf[0] = '\0';
	err = read_key(opaque, "mac", kr.buf, sizeof(kr.buf));
	if (!err) {
		kr.buf[sizeof(kr.buf) - 1] = '\0';
		if (xna_parse_mac(kr.buf, bi->mac))
			return -EINVAL;
		bi->has_mac = true;
	} else if (err != -ENOENT) {
		return err;
	}

	kr.buf[0] = '\0';
	err = read_key(opaque, "nic", kr.buf, sizeof(kr.buf));
	if (!err) {
		memcpy(bi->nic, kr.buf, sizeof(bi->nic) - 1);
		bi->nic[sizeof(bi->nic) - 1] = '\0';
	} else if (err != -ENOENT) {
		return err;
	}

	return read_sources(bi, read_key, opaque);
}

/*
 * Layout
 */

int xna_layout_init(struct xna_layout *l, unsigned int num_vis,
		    unsigned int tx_entries, unsigned int rx_entries)
{
	memset(l, 0, sizeof(*l));
	if (num_vis < 1 || num_vis > XNA_MAX_VIS)
		return -EINVAL;
	if (!is_pow2(tx_entries) || tx_entries < XNA_MIN_RING_ENTRIES ||
	    tx_entries > XNA_MAX_RING_ENTRIES)
		return -EINVAL;
	if (!is_pow2(rx_entries) || rx_entries < XNA_MIN_RING_ENTRIES ||
	    rx_entries > XNA_MAX_RING_ENTRIES)
		return -EINVAL;

	l->num_vis = num_vis;
	l->tx_entries = tx_entries;
	l->rx_entries = rx_entries;
	l->tx_ring_pages = tx_entries / XNA_DESCS_PER_PAGE;
	l->rx_ring_pages = rx_entries / XNA_DESCS_PER_PAGE;
	l->vi_pages = 1 + l->tx_ring_pages + l->rx_ring_pages;
	l->pool_pages_per_vi = (tx_entries + rx_entries) / XNA_BUFS_PER_PAGE;
	l->pool_pages = num_vis * l->pool_pages_per_vi;
	l->pool_dir_pages = (l->pool_pages + XNA_POOL_REFS_PER_DIR_PAGE - 1) /
			    XNA_POOL_REFS_PER_DIR_PAGE;
	l->dir_base = 1 + num_vis * l->vi_pages;
	l->pool_base = l->dir_base + l->pool_dir_pages;
	l->total_pages = l->pool_base + l->pool_pages;
	return 0;
}

int xna_layout_choose(struct xna_layout *l, const struct xna_backend_info *bi,
		      unsigned int want_vis, unsigned int want_tx,
		      unsigned int want_rx)
{
	uint32_t vis, tx, rx;

	vis = want_vis ? want_vis : 1;
	if (vis > bi->max_vis)
		vis = bi->max_vis;
	if (vis > XNA_MAX_VIS)
		vis = XNA_MAX_VIS;
	if (vis < 1)
		vis = 1;

	tx = XNA_MIN(want_tx, bi->max_tx_ring_entries);
	tx = XNA_MIN(tx, (uint32_t)XNA_MAX_RING_ENTRIES);
	tx = tx < XNA_MIN_RING_ENTRIES ? XNA_MIN_RING_ENTRIES :
					 rounddown_pow2(tx);
	rx = XNA_MIN(want_rx, bi->max_rx_ring_entries);
	rx = XNA_MIN(rx, (uint32_t)XNA_MAX_RING_ENTRIES);
	rx = rx < XNA_MIN_RING_ENTRIES ? XNA_MIN_RING_ENTRIES :
					 rounddown_pow2(rx);

	for (;;) {
		uint32_t pool = vis * (tx + rx) / XNA_BUFS_PER_PAGE;

		if (pool <= bi->max_pool_pages)
			break;
		if (tx > XNA_MIN_RING_ENTRIES || rx > XNA_MIN_RING_ENTRIES) {
			if (tx >= rx)
				tx /= 2;
			else
				rx /= 2;
		} else if (vis > 1) {
			vis--;
		} else {
			memset(l, 0, sizeof(*l));
			return -ENOSPC;
		}
	}
	return xna_layout_init(l, vis, tx, rx);
}

void xna_layout_tx_buf(const struct xna_layout *l, unsigned int vi,
		       unsigned int slot, uint32_t *pool_page,
		       uint16_t *offset)
{
	unsigned int b = slot & (l->tx_entries - 1);

	*pool_page = vi * l->pool_pages_per_vi + b / XNA_BUFS_PER_PAGE;
	*offset = (uint16_t)((b % XNA_BUFS_PER_PAGE) * XNA_BUF_SIZE);
}

void xna_layout_rx_buf(const struct xna_layout *l, unsigned int vi,
		       unsigned int slot, uint32_t *pool_page,
		       uint16_t *offset)
{
	unsigned int b = l->tx_entries + (slot & (l->rx_entries - 1));

	*pool_page = vi * l->pool_pages_per_vi + b / XNA_BUFS_PER_PAGE;
	*offset = (uint16_t)((b % XNA_BUFS_PER_PAGE) * XNA_BUF_SIZE);
}

/*
 * Hash tables
 */

static unsigned int key_len(uint8_t kind)
{
	switch (kind) {
	case 0:				/* local MAC table */
	case XNA_FILTER_MAC:
		return 6;
	case XNA_FILTER_IPV4_TCP:
	case XNA_FILTER_IPV4_UDP:
		return 4;
	default:
		return 16;
	}
}

static uint32_t htab_hash(uint8_t kind, const uint8_t *addr, uint16_t port)
{
	uint32_t h = 2166136261u;
	unsigned int i, n = key_len(kind);

	h = (h ^ kind) * 16777619u;
	h = (h ^ (port & 0xff)) * 16777619u;
	h = (h ^ (port >> 8)) * 16777619u;
	for (i = 0; i < n; i++)
		h = (h ^ addr[i]) * 16777619u;
	return h ^ (h >> 15);
}

static int htab_init(struct xna_htab *t, uint32_t max)
{
	uint32_t cap = 16;

	while (cap < 2 * max)
		cap <<= 1;
	t->e = xna_zalloc(cap * sizeof(*t->e));
	if (!t->e)
		return -ENOMEM;
	t->mask = cap - 1;
	t->max = max;
	t->count = 0;
	return 0;
}

static bool hent_match(const struct xna_hent *e, uint8_t kind,
		       const uint8_t *addr, uint16_t port)
{
	return e->kind == kind && e->port == port &&
	       !memcmp(e->addr, addr, key_len(kind));
}

static int htab_find(const struct xna_htab *t, uint8_t kind,
		     const uint8_t *addr, uint16_t port)
{
	uint32_t i = htab_hash(kind, addr, port) & t->mask;
	uint32_t n;

	for (n = 0; n <= t->mask; n++, i = (i + 1) & t->mask) {
		const struct xna_hent *e = &t->e[i];

		if (!e->used)
			return -1;
		if (hent_match(e, kind, addr, port))
			return (int)i;
	}
	return -1;
}

/* 1 inserted, 0 updated, -ENOSPC full */
static int htab_insert(struct xna_htab *t, uint8_t kind, const uint8_t *addr,
		       uint16_t port, uint8_t vi)
{
	uint32_t i;
	int found = htab_find(t, kind, addr, port);
	struct xna_hent *e;

	if (found >= 0) {
		t->e[found].vi = vi;
		return 0;
	}
	if (t->count >= t->max)
		return -ENOSPC;
	i = htab_hash(kind, addr, port) & t->mask;
	while (t->e[i].used)
		i = (i + 1) & t->mask;
	e = &t->e[i];
	memset(e->addr, 0, sizeof(e->addr));
	memcpy(e->addr, addr, key_len(kind));
	e->kind = kind;
	e->port = port;
	e->vi = vi;
	e->used = 1;
	XNA_WRITE_ONCE(t->count, t->count + 1);	/* tx_nothing_fast() */
	return 1;
}

static void htab_remove_at(struct xna_htab *t, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		uint32_t k;

		j = (j + 1) & t->mask;
		if (!t->e[j].used)
			break;
		k = htab_hash(t->e[j].kind, t->e[j].addr, t->e[j].port) &
		    t->mask;
		/* Move e[j] into the hole at i unless its home lies in (i, j]. */
		if ((j > i && (k <= i || k > j)) ||
		    (j < i && (k <= i && k > j))) {
			t->e[i] = t->e[j];
			i = j;
		}
	}
	memset(&t->e[i], 0, sizeof(t->e[i]));
	XNA_WRITE_ONCE(t->count, t->count - 1);
}

static bool htab_remove(struct xna_htab *t, uint8_t kind, const uint8_t *addr,
			uint16_t port)
{
	int i = htab_find(t, kind, addr, port);

	if (i < 0)
		return false;
	htab_remove_at(t, (uint32_t)i);
	return true;
}

/* Removes every entry of VI @vi; returns how many. */
static unsigned int htab_remove_vi(struct xna_htab *t, uint8_t vi)
{
	unsigned int n = 0;
	uint32_t i = 0;

	while (i <= t->mask) {
		if (t->e[i].used && t->e[i].vi == vi) {
			htab_remove_at(t, i);
			n++;
			continue;	/* an entry may have moved into i */
		}
		i++;
	}
	return n;
}

/*
 * Front
 */

static void notify(struct xna_front *f, uint32_t port)
{
	if (f->ops && f->ops->notify)
		f->ops->notify(f->opaque, port);
}

static void *tx_buf(struct xna_vi *vi, uint32_t idx)
{
	const struct xna_layout *l = &vi->f->l;
	uint32_t b = idx & vi->tx_mask;

	return (uint8_t *)vi->f->pages[l->pool_base + vi->pool_first +
				       b / XNA_BUFS_PER_PAGE] +
	       (b % XNA_BUFS_PER_PAGE) * XNA_BUF_SIZE;
}

static void *rx_buf(struct xna_vi *vi, uint32_t idx)
{
	const struct xna_layout *l = &vi->f->l;
	uint32_t b = l->tx_entries + (idx & vi->rx_mask);

	return (uint8_t *)vi->f->pages[l->pool_base + vi->pool_first +
				       b / XNA_BUFS_PER_PAGE] +
	       (b % XNA_BUFS_PER_PAGE) * XNA_BUF_SIZE;
}

static struct xna_desc *tx_desc(struct xna_vi *vi, uint32_t idx)
{
	uint32_t s = idx & vi->tx_mask;

	return &vi->tx_ring[s / XNA_DESCS_PER_PAGE][s % XNA_DESCS_PER_PAGE];
}

static struct xna_desc *rx_desc(struct xna_vi *vi, uint32_t idx)
{
	uint32_t s = idx & vi->rx_mask;

	return &vi->rx_ring[s / XNA_DESCS_PER_PAGE][s % XNA_DESCS_PER_PAGE];
}

static void write_desc(struct xna_desc *d, uint32_t page, uint16_t offset,
		       uint16_t len, uint16_t flags, uint16_t csum_start,
		       uint16_t csum_offset)
{
	d->page = xna_cpu_to_le32(page);
	d->offset = xna_cpu_to_le16(offset);
	d->len = xna_cpu_to_le16(len);
	d->flags = xna_cpu_to_le16(flags);
	d->csum_start = xna_cpu_to_le16(csum_start);
	d->csum_offset = xna_cpu_to_le16(csum_offset);
	d->reserved = 0;
}

static void rx_post(struct xna_vi *vi, uint32_t idx)
{
	uint32_t page;
	uint16_t off;

	xna_layout_rx_buf(&vi->f->l, vi->index, idx, &page, &off);
	write_desc(rx_desc(vi, idx), page, off, XNA_BUF_SIZE, 0, 0, 0);
}

/* Guest half of a VI from scratch: indices 0, every RX buffer posted. */
static void vi_rings_init(struct xna_vi *vi)
{
	uint32_t i;

	vi->tx_prod = 0;
	vi->tx_cons = 0;
	vi->tx_oldest = 0;
	vi->tx_prod_notified = 0;
	vi->tx_reserved = 0;
	vi->tx_wake_room = 0;
	XNA_WRITE_ONCE(vi->tx_waiting, false);
	vi->tx_stalled = false;
	vi->tx_stalled_cons = 0;
	vi->tx_watch_cons = 0;
	memset(vi->tx_shadow, 0, (vi->tx_mask + 1) * sizeof(*vi->tx_shadow));
	vi->rx_cons = 0;
	vi->rx_seen = 0;
	for (i = 0; i <= vi->rx_mask; i++)
		rx_post(vi, i);
	vi->rx_prod = vi->rx_mask + 1;

	XNA_WRITE_ONCE(vi->sh->tx_prod, 0);
	XNA_WRITE_ONCE(vi->sh->tx_cons_event,
		       xna_cpu_to_le32(XNA_TX_EVENT_NEVER));
	XNA_WRITE_ONCE(vi->sh->rx_cons_event, 0);
	xna_wmb();
	XNA_WRITE_ONCE(vi->sh->rx_prod, xna_cpu_to_le32(vi->rx_prod));
}

int xna_front_create(const struct xna_front_config *cfg,
		     struct xna_front **out)
{
	const struct xna_layout *cl = cfg->layout;
	struct xna_layout l;
	struct xna_front *f;
	uint32_t i, max_flows;
	unsigned int n;

	*out = NULL;
	if (!cl || !cfg->pages || !cfg->refs || !cfg->backend ||
	    (cl->num_vis && !cfg->vi_ports))
		return -EINVAL;
	if (xna_layout_init(&l, cl->num_vis, cl->tx_entries, cl->rx_entries) ||
	    memcmp(&l, cl, sizeof(l)))
		return -EINVAL;
	for (i = 0; i < l.total_pages; i++)
		if (!cfg->pages[i])
			return -EINVAL;
	max_flows = cfg->max_flows ? cfg->max_flows : XNA_DEFAULT_MAX_FLOWS;
	if (max_flows > XNA_MAX_FLOWS)
		max_flows = XNA_MAX_FLOWS;

	f = xna_zalloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->l = l;
	f->pages = xna_zalloc(l.total_pages * sizeof(*f->pages));
	f->refs = xna_zalloc(l.total_pages * sizeof(*f->refs));
	if (!f->pages || !f->refs)
		goto nomem;
	memcpy(f->pages, cfg->pages, l.total_pages * sizeof(*f->pages));
	memcpy(f->refs, cfg->refs, l.total_pages * sizeof(*f->refs));
	if (htab_init(&f->flows, max_flows) ||
	    htab_init(&f->macs, XNA_MAX_LOCAL_MACS) ||
	    htab_init(&f->wire_macs, XNA_MAX_WIRE_MACS))
		goto nomem;
	xna_seq_init(&f->seq);

	f->ctrl_port = cfg->ctrl_port;
	f->ops = cfg->ops;
	f->opaque = cfg->opaque;
	f->csum_offload = cfg->backend->csum_offload;
	f->sg = cfg->backend->sg;
	/* Without the guest's MAC the rule could pass what the policy drops. */
	f->wire_macs_on = cfg->wire_macs && cfg->backend->wire_mac &&
			  cfg->backend->has_mac;
	f->wire_offered = cfg->backend->wire_mac;
	memcpy(f->mac, cfg->backend->mac, sizeof(f->mac));
	f->nr_src4 = cfg->backend->nr_src4;
	f->nr_src6 = cfg->backend->nr_src6;
	memcpy(f->src4, cfg->backend->src4, sizeof(f->src4));
	memcpy(f->src6, cfg->backend->src6, sizeof(f->src6));
	f->mtu = cfg->backend->mtu ? cfg->backend->mtu : 1500;
	f->link_up = true;
	f->state = XNA_FRONT_INIT;

	f->ctrl = f->pages[XNA_LAYOUT_CTRL_PAGE];
	memset(f->ctrl, 0, XNA_PAGE_SIZE);

	for (n = 0; n < l.num_vis; n++) {
		struct xna_vi *vi = &f->vis[n];
		uint32_t k;

		vi->f = f;
		vi->index = n;
		vi->port = cfg->vi_ports[n];
		vi->state = XNA_VI_WAIT_UP;
		vi->sh = f->pages[xna_layout_vi_shared_page(&l, n)];
		memset(vi->sh, 0, XNA_PAGE_SIZE);
		for (k = 0; k < l.tx_ring_pages; k++) {
			vi->tx_ring[k] = f->pages[xna_layout_tx_ring_page(&l, n,
									  k)];
			memset(vi->tx_ring[k], 0, XNA_PAGE_SIZE);
		}
		for (k = 0; k < l.rx_ring_pages; k++) {
			vi->rx_ring[k] = f->pages[xna_layout_rx_ring_page(&l, n,
									  k)];
			memset(vi->rx_ring[k], 0, XNA_PAGE_SIZE);
		}
		vi->pool_first = n * l.pool_pages_per_vi;
		vi->tx_mask = l.tx_entries - 1;
		vi->rx_mask = l.rx_entries - 1;
		vi->tx_shadow = xna_zalloc(l.tx_entries *
					   sizeof(*vi->tx_shadow));
		if (!vi->tx_shadow)
			goto nomem;
		vi_rings_init(vi);
	}

	/* Pool directory: pool page p is entry p % 1024 of page p / 1024. */
	for (i = 0; i < l.pool_dir_pages; i++) {
		uint32_t *dir = f->pages[xna_layout_dir_page(&l, i)];
		uint32_t j;

		memset(dir, 0, XNA_PAGE_SIZE);
		for (j = 0; j < XNA_POOL_REFS_PER_DIR_PAGE; j++) {
			uint32_t p = i * XNA_POOL_REFS_PER_DIR_PAGE + j;

			if (p >= l.pool_pages)
				break;
			dir[j] = xna_cpu_to_le32(f->refs[xna_layout_pool_page(&l,
									     p)]);
		}
	}
	xna_wmb();
	*out = f;
	return 0;

nomem:
	xna_front_destroy(f);
	return -ENOMEM;
}

void xna_front_destroy(struct xna_front *f)
{
	unsigned int n;

	if (!f)
		return;
	for (n = 0; n < XNA_MAX_VIS; n++)
		xna_free(f->vis[n].tx_shadow);
	xna_free(f->flows.e);
	xna_free(f->macs.e);
	xna_free(f->wire_macs.e);
	xna_free(f->pages);
	xna_free(f->refs);
	xna_free(f);
}

const struct xna_layout *xna_front_layout(const struct xna_front *f)
{
	return &f->l;
}

static int write_key_u64(xna_write_key_fn write, void *opaque,
			 const char *key, uint64_t v)
{
	char val[24];

	xna_snprintf(val, sizeof(val), "%llu", (unsigned long long)v);
	return write(opaque, key, val);
}

/* Writes @n keys "<prefix><k><suffix>" = refs of pages @first + k. */
static int write_ref_keys(const struct xna_front *f, xna_write_key_fn write,
			  void *opaque, const char *prefix, unsigned int n,
			  uint32_t first)
{
	char key[48];
	unsigned int k;
	int err;

	for (k = 0; k < n; k++) {
		xna_snprintf(key, sizeof(key), "%s%u", prefix, k);
		err = write_key_u64(write, opaque, key, f->refs[first + k]);
		if (err)
			return err;
	}
	return 0;
}

int xna_front_write_keys(const struct xna_front *f, uint64_t generation,
			 xna_write_key_fn write, void *opaque)
{
	const struct xna_layout *l = &f->l;
	const struct {
		const char *key;
		uint64_t val;
	} dev_keys[] = {
		{ "protocol-version", XNA_PROTOCOL_VERSION },
		{ "generation", generation },
		{ "ctrl-ring-ref", f->refs[XNA_LAYOUT_CTRL_PAGE] },
		{ "event-channel", f->ctrl_port },
		{ "num-vis", l->num_vis },
		{ "tx-ring-entries", l->tx_entries },
		{ "rx-ring-entries", l->rx_entries },
		{ "pool-pages", l->pool_pages },
	};
	char key[48];
	unsigned int n, i;
	int err;

	for (i = 0; i < XNA_ARRAY_SIZE(dev_keys); i++) {
		err = write_key_u64(write, opaque, dev_keys[i].key,
				    dev_keys[i].val);
		if (err)
			return err;
	}
	err = write_ref_keys(f, write, opaque, "pool-dir-ref-",
			     l->pool_dir_pages, xna_layout_dir_page(l, 0));
	if (err)
		return err;
	for (n = 0; n < l->num_vis; n++) {
		xna_snprintf(key, sizeof(key), "vi-%u/shared-ref", n);
		err = write_key_u64(write, opaque, key,
				    f->refs[xna_layout_vi_shared_page(l, n)]);
		if (err)
			return err;
		xna_snprintf(key, sizeof(key), "vi-%u/tx-ring-ref-", n);
		err = write_ref_keys(f, write, opaque, key, l->tx_ring_pages,
				     xna_layout_tx_ring_page(l, n, 0));
		if (err)
			return err;
		xna_snprintf(key, sizeof(key), "vi-%u/rx-ring-ref-", n);
		err = write_ref_keys(f, write, opaque, key, l->rx_ring_pages,
				     xna_layout_rx_ring_page(l, n, 0));
		if (err)
			return err;
		xna_snprintf(key, sizeof(key), "vi-%u/event-channel", n);
		err = write_key_u64(write, opaque, key, f->vis[n].port);
		if (err)
			return err;
	}
	/*
	 * Where offered, 0 or 1: a 1 of an earlier connection must not
	 * outlive wire_macs=0.  A backend that does not offer it sees nothing.
	 */
	if (f->wire_offered)
		return write_key_u64(write, opaque, "feature-wire-mac",
				     f->wire_macs_on);
	return 0;
}

enum xna_front_state xna_front_state(const struct xna_front *f)
{
	return (enum xna_front_state)XNA_READ_ONCE(f->state);
}

bool xna_front_ready(const struct xna_front *f)
{
	return xna_front_state(f) == XNA_FRONT_READY;
}

unsigned int xna_front_num_vis(const struct xna_front *f)
{
	return f->accepted_vis;
}

struct xna_vi *xna_front_vi(struct xna_front *f, unsigned int n)
{
	return n < f->l.num_vis ? &f->vis[n] : NULL;
}

bool xna_front_link_up(const struct xna_front *f)
{
	return XNA_READ_ONCE(f->link_up);
}

uint32_t xna_front_mtu(const struct xna_front *f)
{
	return XNA_READ_ONCE(f->mtu);
}

void xna_front_last_error(const struct xna_front *f, uint32_t *code,
			  uint32_t *vi, uint32_t *detail)
{
	*code = f->err_code;
	*vi = f->err_vi;
	*detail = f->err_detail;
}

const struct xna_front_vi_stats *xna_front_vi_stats(const struct xna_vi *vi)
{
	return &vi->stats;
}

const struct xna_front_stats *xna_front_stats(const struct xna_front *f)
{
	return &f->stats;
}

/*
 * Control channel
 */

/* Converts a message between CPU order and little-endian, in place. */
static void msg_convert(struct xna_msg *m, uint16_t type)
{
	switch (type) {
	case XNA_MSG_HELLO:
		m->u.hello.version = xna_cpu_to_le32(m->u.hello.version);
		m->u.hello.nr_vis = xna_cpu_to_le32(m->u.hello.nr_vis);
		m->u.hello.status = xna_cpu_to_le32(m->u.hello.status);
		break;
	case XNA_MSG_VI_UP:
	case XNA_MSG_VI_DOWN:
	case XNA_MSG_VI_RESET:
		m->u.vi.vi = xna_cpu_to_le32(m->u.vi.vi);
		m->u.vi.reason = xna_cpu_to_le32(m->u.vi.reason);
		break;
	case XNA_MSG_LOCAL_MAC:
	case XNA_MSG_WIRE_MAC:
		m->u.local_mac.op = xna_cpu_to_le32(m->u.local_mac.op);
		break;
	case XNA_MSG_FILTER:
		m->u.filter.op = xna_cpu_to_le32(m->u.filter.op);
		m->u.filter.vi = xna_cpu_to_le32(m->u.filter.vi);
		break;			/* port and addr: network order */
	case XNA_MSG_LINK:
		m->u.link.up = xna_cpu_to_le32(m->u.link.up);
		m->u.link.mtu = xna_cpu_to_le32(m->u.link.mtu);
		break;
	case XNA_MSG_ERROR:
		m->u.error.code = xna_cpu_to_le32(m->u.error.code);
		m->u.error.vi = xna_cpu_to_le32(m->u.error.vi);
		m->u.error.detail = xna_cpu_to_le32(m->u.error.detail);
		break;
	default:
		break;
	}
	m->id = xna_cpu_to_le32(m->id);
	m->reserved = xna_cpu_to_le16(m->reserved);
}

/* Publishes to_b_prod and kicks if the backend asked; @old: before. */
static void ctrl_publish(struct xna_front *f, uint32_t old)
{
	struct xna_ctrl_ring_idx *r = &f->ctrl->to_backend;

	if (f->to_b_prod == old)
		return;
	xna_wmb();
	XNA_WRITE_ONCE(r->prod, xna_cpu_to_le32(f->to_b_prod));
	xna_mb();
	if (xna_need_event(xna_le32(XNA_READ_ONCE(r->prod_event)),
			   f->to_b_prod, old)) {
		f->stats.ctrl_kicks++;
		notify(f, f->ctrl_port);
	}
}

/* Room in the FIFO to the backend (arming cons_event when there is none). */
static bool ctrl_room(struct xna_front *f)
{
	struct xna_ctrl_ring_idx *r = &f->ctrl->to_backend;
	uint32_t cons = xna_le32(XNA_READ_ONCE(r->cons));

	if ((uint32_t)(f->to_b_prod - cons) < XNA_CTRL_RING_SLOTS)
		return true;
	/* Full (or a cons beyond prod): wake me when cons moves. */
	XNA_WRITE_ONCE(r->cons_event, xna_cpu_to_le32(cons));
	xna_mb();
	cons = xna_le32(XNA_READ_ONCE(r->cons));
	return (uint32_t)(f->to_b_prod - cons) < XNA_CTRL_RING_SLOTS;
}

static void ctrl_put(struct xna_front *f, const struct xna_msg *msg)
{
	struct xna_msg m = *msg;

	msg_convert(&m, m.type);
	m.type = xna_cpu_to_le16(msg->type);
	memcpy(&f->ctrl->to_backend_msgs[f->to_b_prod % XNA_CTRL_RING_SLOTS],
	       &m, sizeof(m));
	f->to_b_prod++;
	f->stats.ctrl_msgs_tx++;
}

unsigned int xna_front_ctrl_flush(struct xna_front *f)
{
	uint32_t old = f->to_b_prod;

	while (f->pend_count && ctrl_room(f)) {
		ctrl_put(f, &f->pend[f->pend_head]);
		f->pend_head = (f->pend_head + 1) % XNA_CTRL_PENDING;
		f->pend_count--;
	}
	ctrl_publish(f, old);
	return f->pend_count;
}

int xna_front_ctrl_send(struct xna_front *f, const struct xna_msg *msg)
{
	struct xna_msg m = *msg;
	uint32_t old;

	m.reserved = 0;
	m.id = ++f->msg_id;
	if (f->pend_count)
		xna_front_ctrl_flush(f);
	if (!f->pend_count && ctrl_room(f)) {
		old = f->to_b_prod;
		ctrl_put(f, &m);
		ctrl_publish(f, old);
		return 0;
	}
	if (f->pend_count == XNA_CTRL_PENDING)
		return -ENOSPC;
	f->pend[(f->pend_head + f->pend_count) % XNA_CTRL_PENDING] = m;
	f->pend_count++;
	f->stats.ctrl_queued++;
	return 0;
}

int xna_front_send_hello(struct xna_front *f)
{
	struct xna_msg m;
	int err;

	memset(&m, 0, sizeof(m));
	m.type = XNA_MSG_HELLO;
	m.u.hello.version = XNA_PROTOCOL_VERSION;
	m.u.hello.nr_vis = f->l.num_vis;
	err = xna_front_ctrl_send(f, &m);
	if (!err)
		XNA_WRITE_ONCE(f->state, XNA_FRONT_HELLO_SENT);
	return err;
}

static void check_ready(struct xna_front *f)
{
	unsigned int n;

	if (f->state != XNA_FRONT_CONNECTING)
		return;
	for (n = 0; n < f->accepted_vis; n++)
		if (!f->vis[n].seen_up)
			return;
	XNA_WRITE_ONCE(f->state, XNA_FRONT_READY);
}

static void set_vi_state(struct xna_vi *vi, enum xna_front_vi_state s)
{
	XNA_WRITE_ONCE(vi->state, (int)s);
}

static bool ctrl_vi_valid(struct xna_front *f, uint32_t vi)
{
	if (f->state == XNA_FRONT_CONNECTING || f->state == XNA_FRONT_READY)
		return vi < f->accepted_vis;
	return vi < f->l.num_vis;
}

/*
 * The add or remove of a LOCAL_MAC or WIRE_MAC message, on table @t; an
 * add that does not fit counts in @overflow and sets *@full (if given)
 * under the table's sequence.  False for an unknown op.
 */
static bool mac_msg_apply(struct xna_front *f, struct xna_htab *t,
			  const struct xna_msg *m, bool *full, uint64_t *added,
			  uint64_t *removed, uint64_t *overflow)
{
	int r;

	if (m->u.local_mac.op == XNA_OP_ADD) {
		xna_seq_write_begin(&f->seq);
		r = htab_insert(t, 0, m->u.local_mac.mac, 0, 0);
		if (r < 0 && full)
			*full = true;
		xna_seq_write_end(&f->seq);
		if (r < 0)
			(*overflow)++;
		else
			*added += (uint64_t)r;
		return true;
	}
	if (m->u.local_mac.op == XNA_OP_REMOVE) {
		xna_seq_write_begin(&f->seq);
		r = htab_remove(t, 0, m->u.local_mac.mac, 0);
		xna_seq_write_end(&f->seq);
		*removed += (uint64_t)r;
		return true;
	}
	return false;
}

/* Applies a message; false when it is malformed or out of place. */
static bool ctrl_apply(struct xna_front *f, const struct xna_msg *m)
{
	struct xna_vi *vi;
	unsigned int n;
	uint8_t addr[16];
	int r;

	if (m->reserved)
		return false;

	switch (m->type) {
	case XNA_MSG_HELLO:
		if (f->state != XNA_FRONT_HELLO_SENT)
			return false;
		if (m->u.hello.status || m->u.hello.version !=
		    XNA_PROTOCOL_VERSION || !m->u.hello.nr_vis ||
		    m->u.hello.nr_vis > f->l.num_vis) {
			f->err_code = m->u.hello.status ? m->u.hello.status :
							  XNA_ERR_VERSION;
			f->err_vi = ~0u;
			f->err_detail = m->u.hello.nr_vis;
			XNA_WRITE_ONCE(f->state, XNA_FRONT_FAILED);
			return true;
		}
		f->accepted_vis = m->u.hello.nr_vis;
		for (n = f->accepted_vis; n < f->l.num_vis; n++)
			set_vi_state(&f->vis[n], XNA_VI_UNUSED);
		XNA_WRITE_ONCE(f->state, XNA_FRONT_CONNECTING);
		check_ready(f);
		return true;

	case XNA_MSG_VI_UP:
		if (!ctrl_vi_valid(f, m->u.vi.vi))
			return false;
		vi = &f->vis[m->u.vi.vi];
		switch (vi->state) {
		case XNA_VI_WAIT_UP:
		case XNA_VI_RESETTING:
			set_vi_state(vi, XNA_VI_UP);
			break;
		case XNA_VI_UP:
			break;
		default:
			/* DOWN without our VI_RESET, FAILED, UNUSED */
			return false;
		}
		vi->seen_up = true;
		check_ready(f);
		return true;

	case XNA_MSG_VI_DOWN:
		if (!ctrl_vi_valid(f, m->u.vi.vi))
			return false;
		vi = &f->vis[m->u.vi.vi];
		if (vi->state == XNA_VI_UNUSED || vi->state == XNA_VI_FAILED)
			return false;
		vi->down_reason = m->u.vi.reason;
		vi->stats.vi_down++;
		/* Its filters are gone with it (the backend says so too). */
		xna_seq_write_begin(&f->seq);
		set_vi_state(vi, XNA_VI_DOWN);
		f->stats.flows_removed += htab_remove_vi(&f->flows,
							 (uint8_t)vi->index);
		xna_seq_write_end(&f->seq);
		/* A VI that never came up does not block readiness. */
		vi->seen_up = true;
		check_ready(f);
		return true;

	case XNA_MSG_LOCAL_MAC:
		if (m->u.local_mac.pad[0] || m->u.local_mac.pad[1])
			return false;
		return mac_msg_apply(f, &f->macs, m, &f->mac_overflow,
				     &f->stats.local_macs_added,
				     &f->stats.local_macs_removed,
				     &f->stats.local_mac_overflow);

	case XNA_MSG_WIRE_MAC:
		/* Only if asked for; a group address is never one host's. */
		if (!f->wire_macs_on || m->u.local_mac.pad[0] ||
		    m->u.local_mac.pad[1] || (m->u.local_mac.mac[0] & 1))
			return false;
		return mac_msg_apply(f, &f->wire_macs, m, NULL,
				     &f->stats.wire_macs_added,
				     &f->stats.wire_macs_removed,
				     &f->stats.wire_mac_overflow);

	case XNA_MSG_FILTER:
		if (m->u.filter.kind < XNA_FILTER_MAC ||
		    m->u.filter.kind > XNA_FILTER_IPV6_UDP ||
		    m->u.filter.vi >= f->l.num_vis)
			return false;
		memset(addr, 0, sizeof(addr));
		memcpy(addr, m->u.filter.addr, key_len(m->u.filter.kind));
		if (m->u.filter.op == XNA_OP_ADD) {
			xna_seq_write_begin(&f->seq);
			r = htab_insert(&f->flows, m->u.filter.kind, addr,
					m->u.filter.port,
					(uint8_t)m->u.filter.vi);
			xna_seq_write_end(&f->seq);
			if (r < 0)
				f->stats.flow_table_full++;
			else
				f->stats.flows_added += (uint64_t)r;
			return true;
		}
		if (m->u.filter.op == XNA_OP_REMOVE) {
			xna_seq_write_begin(&f->seq);
			r = htab_remove(&f->flows, m->u.filter.kind, addr,
					m->u.filter.port);
			xna_seq_write_end(&f->seq);
			f->stats.flows_removed += (uint64_t)r;
			return true;
		}
		return false;

	case XNA_MSG_LINK:
		if (m->u.link.up > 1 ||
		    (m->u.link.mtu && (m->u.link.mtu < 68 ||
				       m->u.link.mtu > 9000)))
			return false;
		XNA_WRITE_ONCE(f->link_up, m->u.link.up != 0);
		if (m->u.link.mtu)
			XNA_WRITE_ONCE(f->mtu, m->u.link.mtu);
		f->stats.link_changes++;
		return true;

	case XNA_MSG_ERROR:
		f->err_code = m->u.error.code;
		f->err_vi = m->u.error.vi;
		f->err_detail = m->u.error.detail;
		f->stats.errors++;
		XNA_WRITE_ONCE(f->state, XNA_FRONT_FAILED);
		return true;

	default:
		/* unknown, or guest-to-backend (VI_RESET) */
		return false;
	}
}

bool xna_front_ctrl_pending(const struct xna_front *f)
{
	return xna_le32(XNA_READ_ONCE(f->ctrl->to_guest.prod)) !=
	       f->to_g_cons;
}

int xna_front_ctrl_recv(struct xna_front *f, struct xna_msg *msg)
{
	struct xna_ctrl_ring_idx *r = &f->ctrl->to_guest;
	uint32_t prod, old;
	struct xna_msg m;

	memset(msg, 0, sizeof(*msg));
	if (f->pend_count)
		xna_front_ctrl_flush(f);
	prod = xna_le32(XNA_READ_ONCE(r->prod));
	if (prod == f->to_g_cons)
		return 0;
	if ((uint32_t)(prod - f->to_g_cons) > XNA_CTRL_RING_SLOTS) {
		f->stats.ctrl_bad_msgs++;
		f->err_code = XNA_ERR_BAD_INDEX;
		f->err_vi = ~0u;
		f->err_detail = prod;
		XNA_WRITE_ONCE(f->state, XNA_FRONT_FAILED);
		return -EPROTO;
	}
	xna_rmb();
	memcpy(&m, &f->ctrl->to_guest_msgs[f->to_g_cons % XNA_CTRL_RING_SLOTS],
	       sizeof(m));
	xna_mb();			/* copied before the slot is released */
	old = f->to_g_cons++;
	XNA_WRITE_ONCE(r->cons, xna_cpu_to_le32(f->to_g_cons));
	xna_mb();
	if (xna_need_event(xna_le32(XNA_READ_ONCE(r->cons_event)),
			   f->to_g_cons, old)) {
		f->stats.ctrl_kicks++;
		notify(f, f->ctrl_port);
	}

	m.type = xna_le16(m.type);
	msg_convert(&m, m.type);
	f->stats.ctrl_msgs_rx++;
	if (ctrl_apply(f, &m)) {
		*msg = m;
	} else {
		f->stats.ctrl_bad_msgs++;
		msg->id = m.id;
	}
	return 1;
}

bool xna_front_ctrl_arm(struct xna_front *f)
{
	struct xna_ctrl_ring_idx *r = &f->ctrl->to_guest;

	XNA_WRITE_ONCE(r->prod_event, xna_cpu_to_le32(f->to_g_cons));
	xna_mb();
	if (f->pend_count)
		xna_front_ctrl_flush(f);
	return xna_front_ctrl_pending(f);
}

unsigned int xna_front_ctrl_poll(struct xna_front *f, struct xna_msg *msgs,
				 unsigned int max, bool *more)
{
	unsigned int n = 0;
	int r = 0;

	*more = false;
	for (;;) {
		while (n < max) {
			r = xna_front_ctrl_recv(f, &msgs[n]);
			if (r <= 0)
				break;
			n++;
		}
		if (r < 0)
			return n;
		if (n == max) {
			/*
			 * Budget spent: what waits is for the next call; when
			 * nothing does, arm as below.
			 */
			*more = xna_front_ctrl_pending(f) || xna_front_ctrl_arm(f);
			return n;
		}
		if (!xna_front_ctrl_arm(f))
			return n;
	}
}

bool xna_front_flow_is_fast(const struct xna_front *f, uint8_t kind,
			    const uint8_t *addr, uint16_t port)
{
	uint8_t key[16];

	memset(key, 0, sizeof(key));
	memcpy(key, addr, key_len(kind));
	return htab_find(&f->flows, kind, key, port) >= 0;
}

unsigned int xna_front_flow_count(const struct xna_front *f)
{
	return XNA_READ_ONCE(f->flows.count);	/* sysfs reads it unlocked */
}

bool xna_front_mac_is_local(const struct xna_front *f, const uint8_t *mac)
{
	return f->mac_overflow || htab_find(&f->macs, 0, mac, 0) >= 0;
}

bool xna_front_mac_is_wire(const struct xna_front *f, const uint8_t *mac)
{
	return f->wire_macs_on && htab_find(&f->wire_macs, 0, mac, 0) >= 0;
}

/*
 * VIs
 */

enum xna_front_vi_state xna_front_vi_state(const struct xna_vi *vi)
{
	return (enum xna_front_vi_state)XNA_READ_ONCE(vi->state);
}

unsigned int xna_front_vi_index(const struct xna_vi *vi)
{
	return vi->index;
}

uint32_t xna_vi_port(const struct xna_vi *vi)
{
	return vi->port;
}

uint32_t xna_vi_down_reason(const struct xna_vi *vi)
{
	return vi->down_reason;
}

void xna_front_vi_notify(struct xna_vi *vi)
{
	notify(vi->f, vi->port);
}

unsigned int xna_front_tx_free_slots(const struct xna_vi *vi)
{
	return vi->tx_mask + 1 - (vi->tx_prod - vi->tx_cons);
}

unsigned int xna_front_tx_reclaim(struct xna_vi *vi)
{
	uint32_t cons = xna_le32(XNA_READ_ONCE(vi->sh->tx_cons));

	if ((uint32_t)(cons - vi->tx_cons) >
	    (uint32_t)(vi->tx_prod - vi->tx_cons)) {
		/* Beyond what we produced, or backwards: ignore it. */
		vi->stats.ring_errors++;
		return xna_front_tx_free_slots(vi);
	}
	vi->tx_cons = cons;
	/* Forget the frames wholly consumed. */
	while (vi->tx_oldest != vi->tx_cons) {
		uint32_t n = vi->tx_shadow[vi->tx_oldest & vi->tx_mask].nslots;

		if (!n || (uint32_t)(vi->tx_cons - vi->tx_oldest) < n)
			break;
		vi->tx_oldest += n;
	}
	return xna_front_tx_free_slots(vi);
}

/*
 * Walks the frames of the TX ring the backend has not consumed, oldest
 * first.  @forget: they are the caller's now (the ring is dead, or about
 * to be reset); else the ring is left as it is, for a backend that may
 * still consume them.
 */
static unsigned int tx_unsent_walk(struct xna_vi *vi, xna_tx_unsent_fn fn,
				   void *opaque, bool forget)
{
	struct xna_frag frags[XNA_MAX_FRAGS];
	unsigned int frames = 0;
	uint32_t idx;

	xna_rmb();
	xna_front_tx_reclaim(vi);
	idx = vi->tx_oldest;
	while (idx != vi->tx_prod) {
		const struct xna_tx_shadow *sh = &vi->tx_shadow[idx & vi->tx_mask];
		struct xna_tx_meta meta;
		unsigned int n = sh->nslots, k, len = 0;

		if (!n || n > XNA_MAX_FRAGS ||
		    n > (uint32_t)(vi->tx_prod - idx))
			break;		/* cannot happen: our own records */
		/* Frames wholly behind tx_cons were sent. */
		if ((uint32_t)(vi->tx_cons - idx) >= n &&
		    (uint32_t)(vi->tx_cons - idx) <=
		    (uint32_t)(vi->tx_prod - idx)) {
			idx += n;
			continue;
		}
		for (k = 0; k < n; k++) {
			frags[k].data = tx_buf(vi, idx + k);
			frags[k].len = vi->tx_shadow[(idx + k) & vi->tx_mask].len;
			len += frags[k].len;
		}
		meta.csum_partial = sh->csum_partial;
		meta.csum_start = sh->csum_start;
		meta.csum_offset = sh->csum_offset;
		if (fn)
			fn(opaque, frags, n, len, &meta);
		if (forget)
			vi->stats.tx_unsent++;
		frames++;
		idx += n;
	}
	if (forget) {
		vi->tx_cons = vi->tx_prod;
		vi->tx_oldest = vi->tx_prod;
	}
	return frames;
}

unsigned int xna_front_vi_tx_unsent(struct xna_vi *vi, xna_tx_unsent_fn fn,
				    void *opaque)
{
	return tx_unsent_walk(vi, fn, opaque, true);
}

unsigned int xna_front_vi_tx_pending(struct xna_vi *vi, xna_tx_unsent_fn fn,
				     void *opaque)
{
	return tx_unsent_walk(vi, fn, opaque, false);
}

int xna_front_vi_reset(struct xna_vi *vi, xna_tx_unsent_fn fn, void *opaque)
{
	struct xna_msg m;
	int err;

	if (xna_front_vi_state(vi) != XNA_VI_DOWN)
		return -EINVAL;
	xna_front_vi_tx_unsent(vi, fn, opaque);
	vi_rings_init(vi);
	set_vi_state(vi, XNA_VI_RESETTING);
	vi->resets++;
	vi->stats.vi_resets++;

	memset(&m, 0, sizeof(m));
	m.type = XNA_MSG_VI_RESET;
	m.u.vi.vi = vi->index;
	err = xna_front_ctrl_send(vi->f, &m);
	if (err)
		set_vi_state(vi, XNA_VI_DOWN);
	return err;
}

/*
 * TX decision
 */

static const char *const verdict_names[XNA_TX_NR_VERDICTS] = {
	[XNA_TX_ACCEPT] = "accept",
	[XNA_TX_DECLINE_DISABLED] = "decline_disabled",
	[XNA_TX_DECLINE_VI_DOWN] = "decline_vi_down",
	[XNA_TX_DECLINE_LINK_DOWN] = "decline_link_down",
	[XNA_TX_DECLINE_RING_FULL] = "decline_ring_full",
	[XNA_TX_DECLINE_TOO_BIG] = "decline_too_big",
	[XNA_TX_DECLINE_MALFORMED] = "decline_malformed",
	[XNA_TX_DECLINE_BROADCAST] = "decline_broadcast",
	[XNA_TX_DECLINE_MULTICAST] = "decline_multicast",
	[XNA_TX_DECLINE_LOCAL_MAC] = "decline_local_mac",
	[XNA_TX_DECLINE_NOT_IP] = "decline_not_ip",
	[XNA_TX_DECLINE_FRAGMENT] = "decline_fragment",
	[XNA_TX_DECLINE_IPV6_EXTHDR] = "decline_ipv6_exthdr",
	[XNA_TX_DECLINE_NOT_TCP_UDP] = "decline_not_tcp_udp",
	[XNA_TX_DECLINE_FLOW_NOT_FAST] = "decline_flow_not_fast",
	[XNA_TX_DECLINE_OFFLOAD] = "decline_offload",
	[XNA_TX_DECLINE_GSO] = "decline_gso",
	[XNA_TX_DECLINE_NOTHING_FAST] = "decline_nothing_fast",
};

const char *xna_front_tx_verdict_name(enum xna_front_tx_verdict v)
{
	if (v == XNA_TX_BUSY)
		return "busy";
	if ((unsigned int)v >= XNA_TX_NR_VERDICTS)
		return "unknown";
	return verdict_names[v];
}

/* Copies the first bytes of a frame (its headers) out of its pieces. */
static unsigned int gather(uint8_t *dst, unsigned int max,
			   const struct xna_frag *frags, unsigned int nfrags)
{
	unsigned int got = 0, i;

	for (i = 0; i < nfrags && got < max; i++) {
		unsigned int n = XNA_MIN(frags[i].len, max - got);

		if (!frags[i].data)
			break;
		memcpy(dst + got, frags[i].data, n);
		got += n;
	}
	return got;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool ipv6_is_exthdr(uint8_t nh)
{
	switch (nh) {
	case 0:		/* hop-by-hop */
	case 43:	/* routing */
	case 44:	/* fragment */
	case 50:	/* ESP */
	case 51:	/* AH */
	case 60:	/* destination options */
	case 135:	/* mobility */
	case 139:	/* HIP */
	case 140:	/* shim6 */
	case 253:
	case 254:
		return true;
	default:
		return false;
	}
}

/*
 * A frame the backend's TX policy will pass (specs: "What the guest may
 * send through a VI"): from the guest's MAC and from an address of
 * source-ips.  A learned flow proves its address; a WIRE_MAC destination
 * does not, so a frame sent by that rule is checked here, or the VI would
 * drop what netfront would have carried.
 */
static bool wire_source_ok(const struct xna_front *f, const uint8_t *h,
			   uint8_t kind, const uint8_t *addr)
{
	bool v6 = kind == XNA_FILTER_IPV6_TCP || kind == XNA_FILTER_IPV6_UDP;
	unsigned int i;

	if (memcmp(h + 6, f->mac, 6))
		return false;
	if (!f->nr_src4 && !f->nr_src6)
		return true;
	if (v6) {
		for (i = 0; i < f->nr_src6; i++)
			if (!memcmp(f->src6[i], addr, 16))
				return true;
		return false;
	}
	for (i = 0; i < f->nr_src4; i++)
		if (!memcmp(f->src4[i], addr, 4))
			return true;
	return false;
}

/*
 * The frame-only part of the decision (headers and tables).  @h holds
 * the first @hlen bytes of a frame of @len bytes.
 */
static enum xna_front_tx_verdict classify(const struct xna_front *f,
					  const uint8_t *h, unsigned int hlen,
					  unsigned int len,
					  struct xna_flow_key *fk)
{
	unsigned int off = 14, l3len, l4;
	uint16_t ethertype;
	uint8_t kind, proto, key[16];
	uint16_t port;

	if (hlen < 14)
		return XNA_TX_DECLINE_MALFORMED;
	if ((h[0] & h[1] & h[2] & h[3] & h[4] & h[5]) == 0xff)
		return XNA_TX_DECLINE_BROADCAST;
	if (h[0] & 1)
		return XNA_TX_DECLINE_MULTICAST;
	if (f->mac_overflow || htab_find(&f->macs, 0, h, 0) >= 0)
		return XNA_TX_DECLINE_LOCAL_MAC;

	ethertype = be16(h + 12);
	/*
	 * A VLAN tag goes through netfront: the backend sends only untagged
	 * frames through a VI (dom0 decides which networks a vif reaches).
	 */
	if (ethertype == 0x8100 || ethertype == 0x88a8)
		return XNA_TX_DECLINE_NOT_IP;
	memset(key, 0, sizeof(key));

	if (ethertype == 0x0800) {
		unsigned int ihl, tot;
		uint16_t frag;

		if (hlen < off + 20)
			return XNA_TX_DECLINE_MALFORMED;
		if (h[off] >> 4 != 4)
			return XNA_TX_DECLINE_MALFORMED;
		ihl = (h[off] & 0xf) * 4u;
		tot = be16(h + off + 2);
		if (ihl < 20 || tot < ihl || off + tot > len)
			return XNA_TX_DECLINE_MALFORMED;
		frag = be16(h + off + 6);
		if (frag & 0x3fff)		/* MF or an offset */
			return XNA_TX_DECLINE_FRAGMENT;
		proto = h[off + 9];
		if (proto != 6 && proto != 17)
			return XNA_TX_DECLINE_NOT_TCP_UDP;
		memcpy(key, h + off + 12, 4);
		kind = proto == 6 ? XNA_FILTER_IPV4_TCP : XNA_FILTER_IPV4_UDP;
		l4 = off + ihl;
		l3len = tot - ihl;
	} else if (ethertype == 0x86dd) {
		unsigned int plen;

		if (hlen < off + 40)
			return XNA_TX_DECLINE_MALFORMED;
		if (h[off] >> 4 != 6)
			return XNA_TX_DECLINE_MALFORMED;
		plen = be16(h + off + 4);
		if (!plen || off + 40 + plen > len)
			return XNA_TX_DECLINE_MALFORMED;
		proto = h[off + 6];
		if (ipv6_is_exthdr(proto))
			return XNA_TX_DECLINE_IPV6_EXTHDR;
		if (proto != 6 && proto != 17)
			return XNA_TX_DECLINE_NOT_TCP_UDP;
		memcpy(key, h + off + 8, 16);
		kind = proto == 6 ? XNA_FILTER_IPV6_TCP : XNA_FILTER_IPV6_UDP;
		l4 = off + 40;
		l3len = plen;
	} else {
		return XNA_TX_DECLINE_NOT_IP;
	}

	/* The L4 header: whole, inside the IP payload, ports readable. */
	if (proto == 6) {
		unsigned int doff;

		if (l3len < 20 || hlen < l4 + 13)
			return XNA_TX_DECLINE_MALFORMED;
		doff = (h[l4 + 12] >> 4) * 4u;
		if (doff < 20 || doff > l3len)
			return XNA_TX_DECLINE_MALFORMED;
	} else {
		if (l3len < 8 || hlen < l4 + 8)
			return XNA_TX_DECLINE_MALFORMED;
	}
	memcpy(&port, h + l4, 2);		/* stays network order */

	/*
	 * A flow the backend has not learned yet may still take the VI if
	 * its destination is on the NIC's side (WIRE_MAC): the backend
	 * learns it from this frame, so that its replies come fast too.
	 */
	fk->wire = false;
	if (htab_find(&f->flows, kind, key, port) < 0) {
		if (!f->wire_macs_on || !wire_source_ok(f, h, kind, key) ||
		    htab_find(&f->wire_macs, 0, h, 0) < 0)
			return XNA_TX_DECLINE_FLOW_NOT_FAST;
		fk->wire = true;
	}
	fk->kind = kind;
	fk->port = port;
	memcpy(fk->addr, key, sizeof(fk->addr));
	return XNA_TX_ACCEPT;
}

static bool tx_bulk_has(const struct xna_vi *vi, const struct xna_flow_key *k)
{
	unsigned int i;

	for (i = 0; i < vi->tx_bulk_count; i++) {
		const struct xna_flow_key *b = &vi->tx_bulk[i];

		if (b->kind == k->kind && b->port == k->port &&
		    !memcmp(b->addr, k->addr, sizeof(b->addr)))
			return true;
	}
	return false;
}

static void tx_bulk_add(struct xna_vi *vi, const struct xna_flow_key *k)
{
	if (tx_bulk_has(vi, k))
		return;
	if (vi->tx_bulk_count < XNA_TX_BULK_FLOWS) {
		vi->tx_bulk[vi->tx_bulk_count++] = *k;
		return;
	}
	vi->tx_bulk[vi->tx_bulk_next] = *k;
	vi->tx_bulk_next = (vi->tx_bulk_next + 1) % XNA_TX_BULK_FLOWS;
}

void xna_front_tx_count_decline(struct xna_vi *vi, enum xna_front_tx_verdict v,
				unsigned int len)
{
	if (v == XNA_TX_ACCEPT || (unsigned int)v >= XNA_TX_NR_VERDICTS)
		return;
	vi->stats.tx_declines[v]++;
	vi->stats.tx_slow_packets++;
	vi->stats.tx_slow_bytes += len;
}

static unsigned int max_frame_len(const struct xna_front *f)
{
	unsigned int l = xna_front_mtu(f) + 18;	/* Ethernet + one VLAN tag */

	return XNA_MIN(l, (unsigned int)XNA_MAX_FRAME_LEN);
}

/*
 * A frame of a fast flow finds the ring full.  Declining it would send
 * it on the slow path ahead of the frames of its flow still in the ring
 * (reordering, packet by packet under load): hold it instead (BUSY) and
 * ask the backend to notify us when it has freed enough room.  (A backend
 * given up on, xna_front_tx_give_up(), was declined before this.)
 */
static enum xna_front_tx_verdict tx_no_room(struct xna_vi *vi, unsigned int need)
{
	uint32_t size = vi->tx_mask + 1, room;
	bool was_waiting = vi->tx_waiting;

	/*
	 * Wake with a quarter of the ring free rather than just enough for
	 * this frame, so that a queue is not stopped again on the next one.
	 */
	room = size / 4 > need ? size / 4 : need;
	vi->tx_wake_room = room;
	/*
	 * Waiting before the event is armed: the event handler, which may
	 * run as soon as the backend sees the event, looks at tx_waiting.
	 */
	XNA_WRITE_ONCE(vi->tx_waiting, true);
	xna_wmb();
	/* Notify when tx_cons reaches tx_prod - size + room (room free). */
	XNA_WRITE_ONCE(vi->sh->tx_cons_event,
		       xna_cpu_to_le32(vi->tx_prod - size + room - 1));
	xna_mb();
	/* It may have freed the room before it could see the event. */
	if (xna_front_tx_reclaim(vi) >= need) {
		XNA_WRITE_ONCE(vi->tx_waiting, was_waiting);
		return XNA_TX_ACCEPT;
	}
	vi->stats.tx_busy++;
	return XNA_TX_BUSY;
}

bool xna_front_tx_waiting(const struct xna_vi *vi)
{
	return XNA_READ_ONCE(vi->tx_waiting);
}

bool xna_front_tx_wake_check(struct xna_vi *vi)
{
	if (!vi->tx_waiting)
		return false;
	if (xna_front_vi_state(vi) == XNA_VI_UP &&
	    xna_front_state(vi->f) != XNA_FRONT_FAILED &&
	    xna_front_tx_reclaim(vi) < vi->tx_wake_room)
		return false;
	XNA_WRITE_ONCE(vi->tx_waiting, false);
	return true;
}

bool xna_front_tx_progress(struct xna_vi *vi)
{
	/*
	 * A VI not up is not the backend's to consume (its tx_cons may be
	 * stale across a reset): no reclaim, no ring_errors for it.
	 */
	if (xna_front_vi_state(vi) != XNA_VI_UP) {
		vi->tx_watch_cons = vi->tx_cons;
		return true;
	}
	xna_front_tx_reclaim(vi);
	if (vi->tx_cons == vi->tx_prod || vi->tx_cons != vi->tx_watch_cons) {
		vi->tx_watch_cons = vi->tx_cons;
		return true;
	}
	return false;
}

bool xna_front_tx_stall(struct xna_vi *vi)
{
	if (vi->tx_stalled)
		return false;
	vi->tx_stalled = true;
	vi->tx_stalled_cons = vi->tx_cons;
	vi->stats.tx_stalls++;
	return true;
}

void xna_front_tx_give_up(struct xna_vi *vi)
{
	if (!vi->tx_waiting)
		return;
	xna_front_tx_reclaim(vi);
	if (!vi->tx_stalled)		/* not counted twice with tx_stall() */
		vi->stats.tx_stalls++;
	vi->tx_stalled = true;
	vi->tx_stalled_cons = vi->tx_cons;
	XNA_WRITE_ONCE(vi->tx_waiting, false);
}

/*
 * classify() on the headers of a frame in pieces, consistent with one
 * version of the tables (they change under f->seq).
 */
static enum xna_front_tx_verdict classify_frags(const struct xna_front *f,
						const struct xna_frag *frags,
						unsigned int nfrags,
						unsigned int len,
						struct xna_flow_key *fk)
{
	uint8_t hdr[XNA_HDR_MAX];
	enum xna_front_tx_verdict v;
	unsigned int hlen, seq;

	hlen = gather(hdr, XNA_MIN(len, (unsigned int)XNA_HDR_MAX), frags,
		      nfrags);
	do {
		seq = xna_seq_read_begin(&f->seq);
		v = classify(f, hdr, hlen, len, fk);
	} while (xna_seq_read_retry(&f->seq, seq));
	return v;
}

/*
 * No frame can be fast: the backend has announced no filter, and no
 * WIRE_MAC that would take a frame without one.  A guest whose backend
 * has learned nothing (or whose flows all went) pays no parse and no
 * lookup for the frames it declines.  Read without the tables' seqlock:
 * a frame that races with the first filter going in is declined, as it
 * would be had it come a moment earlier.
 */
static bool tx_nothing_fast(const struct xna_front *f)
{
	return !XNA_READ_ONCE(f->flows.count) &&
	       (!f->wire_macs_on || !XNA_READ_ONCE(f->wire_macs.count));
}

enum xna_front_tx_verdict xna_front_tx_decide(struct xna_vi *vi,
					      const struct xna_frag *frags,
					      unsigned int nfrags, unsigned int len,
					      unsigned int slots)
{
	struct xna_front *f = vi->f;
	enum xna_front_tx_verdict v = XNA_TX_ACCEPT;
	unsigned int need = slots;
	struct xna_flow_key fk;

	vi->tx_reserved = 0;
	if (xna_front_vi_state(vi) != XNA_VI_UP ||
	    xna_front_state(f) == XNA_FRONT_FAILED) {
		v = XNA_TX_DECLINE_VI_DOWN;
		goto out;
	}
	if (!xna_front_link_up(f)) {
		v = XNA_TX_DECLINE_LINK_DOWN;
		goto out;
	}
	if (!slots) {
		if (len < XNA_MIN_FRAME_LEN) {
			v = XNA_TX_DECLINE_MALFORMED;
			goto out;
		}
		if (len > max_frame_len(f) ||
		    (!f->sg && len > XNA_BUF_SIZE)) {
			v = XNA_TX_DECLINE_TOO_BIG;
			goto out;
		}
		need = xna_front_tx_slots(len);
	}
	if (need > vi->tx_mask + 1) {
		v = XNA_TX_DECLINE_TOO_BIG;
		goto out;
	}

	if (tx_nothing_fast(f)) {
		v = XNA_TX_DECLINE_NOTHING_FAST;
		goto out;
	}
	v = classify_frags(f, frags, nfrags, len, &fk);
	if (v != XNA_TX_ACCEPT)
		goto out;
	/* A single frame of a flow whose GSO packets go the slow path. */
	if (!slots && tx_bulk_has(vi, &fk)) {
		v = XNA_TX_DECLINE_GSO;
		goto out;
	}
	/*
	 * Given up on (xna_front_tx_stall(), xna_front_tx_give_up()): room
	 * or not, nothing more goes in until the backend consumes again.
	 */
	if (vi->tx_stalled) {
		xna_front_tx_reclaim(vi);
		if (vi->tx_cons == vi->tx_stalled_cons) {
			v = XNA_TX_DECLINE_RING_FULL;
			goto out;
		}
		vi->tx_stalled = false;
	}

	if (xna_front_tx_free_slots(vi) < need && xna_front_tx_reclaim(vi) < need)
		v = tx_no_room(vi, need);
	if (v == XNA_TX_ACCEPT) {
		vi->tx_reserved = need;
		vi->stats.tx_wire_packets += fk.wire;
	}
out:
	if (v != XNA_TX_ACCEPT && v != XNA_TX_BUSY)
		xna_front_tx_count_decline(vi, v, len);
	return v;
}

void xna_front_tx_slow_gso(struct xna_vi *vi, const struct xna_frag *frags,
			   unsigned int nfrags, unsigned int len)
{
	struct xna_flow_key fk;

	if (!tx_nothing_fast(vi->f) &&
	    classify_frags(vi->f, frags, nfrags, len, &fk) == XNA_TX_ACCEPT)
		tx_bulk_add(vi, &fk);
	xna_front_tx_count_decline(vi, XNA_TX_DECLINE_GSO, len);
}

/*
 * TX
 */

/* Ones' complement sum of bytes [start, len) of a frame, as 16-bit BE. */
static uint32_t frame_csum(const struct xna_frag *frags, unsigned int nfrags,
			   unsigned int start)
{
	uint64_t sum = 0;
	unsigned int pos = 0, i, j;

	for (i = 0; i < nfrags; i++) {
		const uint8_t *p = frags[i].data;

		for (j = 0; j < frags[i].len; j++, pos++) {
			if (pos < start)
				continue;
			if ((pos - start) & 1)
				sum += p[j];
			else
				sum += (uint32_t)p[j] << 8;
		}
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)sum;
}

static void tx_put_byte(struct xna_vi *vi, uint32_t first, unsigned int off,
			uint8_t val)
{
	uint8_t *b = tx_buf(vi, first + off / XNA_BUF_SIZE);

	b[off % XNA_BUF_SIZE] = val;
}

bool xna_front_tx_kick_needed(struct xna_vi *vi)
{
	uint32_t old = vi->tx_prod_notified;

	if (vi->tx_prod == old)
		return false;
	vi->tx_prod_notified = vi->tx_prod;
	xna_mb();
	if (!xna_need_event(xna_le32(XNA_READ_ONCE(vi->sh->tx_prod_event)),
			    vi->tx_prod, old))
		return false;
	vi->stats.tx_kicks++;
	return true;
}

int xna_front_tx_frame(struct xna_vi *vi, const struct xna_frag *frags,
		       unsigned int nfrags, unsigned int len,
		       const struct xna_tx_meta *meta, bool more)
{
	struct xna_front *f = vi->f;
	unsigned int nslots, i, k, total = 0, done, slot_off;
	bool hw_csum = false;
	uint32_t first = vi->tx_prod;
	uint8_t *dst;

	/*
	 * A VI that went down after xna_front_tx_decide() accepted still takes
	 * what it reserved (see xna_front_tx_decide): the caller must not be left
	 * with half a burst that it can only push to the slow path, which
	 * may have no room for it.
	 */
	if (xna_front_vi_state(vi) != XNA_VI_UP &&
	    vi->tx_reserved < xna_front_tx_slots(len))
		return -ENETDOWN;
	for (i = 0; i < nfrags; i++) {
		if (!frags[i].data && frags[i].len)
			goto bad;
		total += frags[i].len;
	}
	if (total != len || len < XNA_MIN_FRAME_LEN ||
	    len > XNA_MAX_FRAME_LEN)
		goto bad;
	nslots = xna_front_tx_slots(len);
	if (nslots > 1 && !f->sg)
		goto bad;
	if (meta && meta->csum_partial &&
	    (unsigned int)meta->csum_start + meta->csum_offset + 2 > len)
		goto bad;
	if (xna_front_tx_free_slots(vi) < nslots && xna_front_tx_reclaim(vi) < nslots)
		return -ENOSPC;

	/* Copy the pieces into the slots' buffers. */
	k = 0;
	slot_off = 0;
	dst = tx_buf(vi, first);
	for (i = 0; i < nfrags; i++) {
		const uint8_t *p = frags[i].data;
		unsigned int n = frags[i].len;

		while (n) {
			unsigned int c = XNA_MIN(n, XNA_BUF_SIZE - slot_off);

			memcpy(dst + slot_off, p, c);
			p += c;
			n -= c;
			slot_off += c;
			if (slot_off == XNA_BUF_SIZE && k + 1 < nslots) {
				k++;
				slot_off = 0;
				dst = tx_buf(vi, first + k);
			}
		}
	}

	if (meta && meta->csum_partial) {
		if (f->csum_offload) {
			hw_csum = true;
		} else {
			unsigned int at = meta->csum_start + meta->csum_offset;
			uint16_t c = (uint16_t)~frame_csum(frags, nfrags,
							   meta->csum_start);

			if (!c)
				c = 0xffff;
			tx_put_byte(vi, first, at, (uint8_t)(c >> 8));
			tx_put_byte(vi, first, at + 1, (uint8_t)c);
		}
	}

	/* Descriptors, and our private record of them. */
	done = 0;
	for (k = 0; k < nslots; k++) {
		struct xna_tx_shadow *sh = &vi->tx_shadow[(first + k) &
							  vi->tx_mask];
		unsigned int dlen = XNA_MIN(len - done, XNA_BUF_SIZE);
		uint16_t flags = k + 1 < nslots ? XNA_DESC_MORE : 0;
		uint16_t cs = 0, co = 0;
		uint32_t page;
		uint16_t off;

		if (k == 0 && hw_csum) {
			flags |= XNA_DESC_CSUM_PARTIAL;
			cs = meta->csum_start;
			co = meta->csum_offset;
		}
		xna_layout_tx_buf(&f->l, vi->index, first + k, &page, &off);
		write_desc(tx_desc(vi, first + k), page, off, (uint16_t)dlen,
			   flags, cs, co);
		sh->len = (uint16_t)dlen;
		sh->nslots = k == 0 ? (uint8_t)nslots : 0;
		sh->csum_partial = k == 0 && meta && meta->csum_partial &&
				   hw_csum;
		sh->csum_start = cs;
		sh->csum_offset = co;
		done += dlen;
	}

	xna_wmb();
	vi->tx_prod = first + nslots;
	vi->tx_reserved -= XNA_MIN(vi->tx_reserved, nslots);
	XNA_WRITE_ONCE(vi->sh->tx_prod, xna_cpu_to_le32(vi->tx_prod));
	vi->stats.tx_fast_packets++;
	vi->stats.tx_fast_bytes += len;
	if (more)
		return 0;
	return xna_front_tx_kick_needed(vi) ? XNA_TX_KICK : 0;

bad:
	vi->stats.tx_errors++;
	return -EINVAL;
}

/*
 * RX
 */

bool xna_front_rx_pending(const struct xna_vi *vi)
{
	return xna_le32(XNA_READ_ONCE(vi->sh->rx_cons)) != vi->rx_seen;
}

int xna_front_rx_poll(struct xna_vi *vi, int budget, xna_rx_fn fn, void *opaque)
{
	struct xna_frag frags[XNA_MAX_FRAGS];
	uint32_t cons, avail, old_prod = vi->rx_prod;
	int done = 0;

	if (xna_front_vi_state(vi) != XNA_VI_UP)
		return 0;
	cons = xna_le32(XNA_READ_ONCE(vi->sh->rx_cons));
	avail = cons - vi->rx_cons;
	if (avail > (uint32_t)(vi->rx_prod - vi->rx_cons)) {
		vi->stats.ring_errors++;
		set_vi_state(vi, XNA_VI_FAILED);
		return -EPROTO;
	}
	xna_rmb();

	while (done < budget && avail) {
		unsigned int n = 0, total = 0, flags = 0;
		bool bad = false, complete = false;

		while (n < avail) {
			const struct xna_desc *d = rx_desc(vi, vi->rx_cons + n);
			uint16_t dlen = xna_le16(XNA_READ_ONCE(d->len));
			uint16_t dflags = xna_le16(XNA_READ_ONCE(d->flags));

			if (dlen > XNA_BUF_SIZE) {
				bad = true;
				dlen = 0;
			}
			if (n < XNA_MAX_FRAGS) {
				frags[n].data = rx_buf(vi, vi->rx_cons + n);
				frags[n].len = dlen;
			} else {
				bad = true;	/* chain too long: drop it all */
			}
			n++;
			total += dlen;
			flags |= dflags & (XNA_DESC_CSUM_VALID |
					   XNA_DESC_SLOW_PATH |
					   XNA_DESC_CSUM_PARTIAL);
			if (!(dflags & XNA_DESC_MORE)) {
				complete = true;
				break;
			}
		}
		if (!complete)
			break;		/* the rest is not published yet */
		if (total < XNA_MIN_FRAME_LEN || total > XNA_MAX_FRAME_LEN)
			bad = true;

		if (bad) {
			vi->stats.rx_bad_frames++;
		} else if (fn(opaque, vi, frags, n, total, flags) < 0) {
			vi->stats.rx_dropped++;
		} else {
			vi->stats.rx_fast_packets++;
			vi->stats.rx_fast_bytes += total;
			if (flags & XNA_DESC_SLOW_PATH) {
				vi->stats.rx_slow_packets++;
				vi->stats.rx_slow_bytes += total;
			}
			if (flags & XNA_DESC_CSUM_VALID)
				vi->stats.rx_csum_valid++;
		}

		/* Every slot of a ring owns its buffer: repost in place. */
		while (n--) {
			rx_post(vi, vi->rx_prod);
			vi->rx_prod++;
			vi->rx_cons++;
			avail--;
		}
		done++;
	}
	/* Stopped by the budget: what is left is pending, not seen. */
	vi->rx_seen = avail && done == budget ? vi->rx_cons : cons;

	if (vi->rx_prod != old_prod) {
		xna_wmb();
		XNA_WRITE_ONCE(vi->sh->rx_prod, xna_cpu_to_le32(vi->rx_prod));
		xna_mb();
		if (xna_need_event(xna_le32(XNA_READ_ONCE(vi->sh->rx_prod_event)),
				   vi->rx_prod, old_prod)) {
			vi->stats.rx_kicks++;
			notify(vi->f, vi->port);
		}
	}
	return done;
}

bool xna_front_rx_arm(struct xna_vi *vi)
{
	if (xna_front_vi_state(vi) != XNA_VI_UP)
		return false;
	XNA_WRITE_ONCE(vi->sh->rx_cons_event, xna_cpu_to_le32(vi->rx_seen));
	xna_mb();
	return xna_front_rx_pending(vi);
}
