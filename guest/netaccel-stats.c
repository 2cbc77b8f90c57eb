// SPDX-License-Identifier: GPL-2.0
/*
 * xen-netaccel: counters.
 *
 * The frontend core counts per VI and per connection; this module adds a
 * few of its own.  A connection's counters are folded into the front's
 * totals when it ends, so every counter is monotonic while the xenbus
 * device is bound to the driver (probe to remove).  They are shown:
 *
 * - in sysfs, one file per counter, in the "stats" directory of the
 *   xenbus device (/sys/bus/xen/devices/netaccel-<n>/stats/), and a few
 *   gauges in its "accel" directory;
 * - by ethtool -S on the paired netfront device, after netfront's own
 *   (prefixed "accel_"), while the hook is installed;
 * - in the netfront device's packet and byte counters (ip -s link),
 *   which then include the fast path, while the hook is installed.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/device.h>
#include <linux/sysfs.h>
#include <linux/netdevice.h>
#include <linux/ethtool.h>
#include <linux/rtnetlink.h>

#include "netaccel.h"

enum netaccel_stat_src {
	NETACCEL_SRC_VI,	/* struct xna_front_vi_stats, summed over VIs */
	NETACCEL_SRC_KVI,	/* struct netaccel_vi_kstats, summed */
	NETACCEL_SRC_FRONT,	/* struct xna_front_stats */
	NETACCEL_SRC_NF,	/* struct netaccel_nf_stats, never folded */
};

struct netaccel_stat {
	const char *name;
	u8 src;
	u16 off;
};

#define VI_STAT(f)	{ #f, NETACCEL_SRC_VI, offsetof(struct xna_front_vi_stats, f) }
#define KVI_STAT(f)	{ #f, NETACCEL_SRC_KVI, \
			  offsetof(struct netaccel_vi_kstats, f) }
#define FRONT_STAT(n, f) { n, NETACCEL_SRC_FRONT, \
			   offsetof(struct xna_front_stats, f) }
#define NF_STAT(f)	{ #f, NETACCEL_SRC_NF, \
			  offsetof(struct netaccel_nf_stats, f) }
#define DECLINES	{ NULL, NETACCEL_SRC_VI, 0 }	/* expanded at init */

static const struct netaccel_stat netaccel_stat_table[] = {
	VI_STAT(tx_fast_packets),
	VI_STAT(tx_fast_bytes),
	VI_STAT(tx_slow_packets),
	VI_STAT(tx_slow_bytes),
	VI_STAT(tx_wire_packets),
	DECLINES,
	VI_STAT(tx_kicks),
	VI_STAT(tx_busy),
	VI_STAT(tx_stalls),
	VI_STAT(tx_unsent),
	VI_STAT(tx_errors),
	KVI_STAT(tx_gso_packets),
	KVI_STAT(tx_gso_segments),
	KVI_STAT(tx_gso_fallback),
	NF_STAT(tx_resent),
	NF_STAT(tx_resend_lost),
	VI_STAT(rx_fast_packets),
	VI_STAT(rx_fast_bytes),
	VI_STAT(rx_slow_packets),
	VI_STAT(rx_slow_bytes),
	VI_STAT(rx_csum_valid),
	VI_STAT(rx_bad_frames),
	VI_STAT(rx_dropped),
	VI_STAT(rx_kicks),
	KVI_STAT(rx_no_netdev),
	KVI_STAT(rx_nomem),
	KVI_STAT(rx_csum_bad),
	KVI_STAT(rx_xdp_dropped),
	VI_STAT(vi_down),
	VI_STAT(vi_resets),
	VI_STAT(ring_errors),
	FRONT_STAT("ctrl_msgs_rx", ctrl_msgs_rx),
	FRONT_STAT("ctrl_msgs_tx", ctrl_msgs_tx),
	FRONT_STAT("ctrl_bad_msgs", ctrl_bad_msgs),
	FRONT_STAT("ctrl_queued", ctrl_queued),
	FRONT_STAT("ctrl_kicks", ctrl_kicks),
	FRONT_STAT("flows_added", flows_added),
	FRONT_STAT("flows_removed", flows_removed),
	FRONT_STAT("flow_table_full", flow_table_full),
	FRONT_STAT("local_macs_added", local_macs_added),
	FRONT_STAT("local_macs_removed", local_macs_removed),
	FRONT_STAT("local_mac_overflow", local_mac_overflow),
	FRONT_STAT("wire_macs_added", wire_macs_added),
	FRONT_STAT("wire_macs_removed", wire_macs_removed),
	FRONT_STAT("wire_mac_overflow", wire_mac_overflow),
	FRONT_STAT("link_changes", link_changes),
	FRONT_STAT("backend_errors", errors),
	NF_STAT(connects),
	NF_STAT(disconnects),
	NF_STAT(setup_errors),
	NF_STAT(xdp_pauses),
};

/* The table with the declines expanded: built at init. */
static struct netaccel_stat *netaccel_stats;
static unsigned int netaccel_nstats;
static char *netaccel_decline_names[XNA_TX_NR_VERDICTS];
static unsigned int netaccel_idx_tx_fast_packets, netaccel_idx_tx_fast_bytes,
	netaccel_idx_rx_fast_packets, netaccel_idx_rx_fast_bytes,
	netaccel_idx_rx_dropped;

unsigned int netaccel_nr_stats(void)
{
	return netaccel_nstats;
}

const char *netaccel_stat_name(unsigned int i)
{
	return i < netaccel_nstats ? netaccel_stats[i].name : NULL;
}

static u64 netaccel_read_u64(const void *base, unsigned int off)
{
	return READ_ONCE(*(const u64 *)((const u8 *)base + off));
}

/* Counter @i of a live connection (not for NETACCEL_SRC_NF). */
static u64 netaccel_conn_stat(const struct netaccel_conn *conn,
			      unsigned int i)
{
	const struct netaccel_stat *st = &netaccel_stats[i];
	unsigned int n;
	u64 v = 0;

	switch (st->src) {
	case NETACCEL_SRC_VI:
		for (n = 0; n < conn->num_vis; n++)
			v += netaccel_read_u64(xna_front_vi_stats(conn->vis[n].core),
					       st->off);
		break;
	case NETACCEL_SRC_KVI:
		for (n = 0; n < conn->num_vis; n++)
			v += netaccel_read_u64(&conn->vis[n].kstats, st->off);
		break;
	case NETACCEL_SRC_FRONT:
		v = netaccel_read_u64(xna_front_stats(conn->core), st->off);
		break;
	default:
		break;
	}
	return v;
}

/*
 * Reads @n counters, those of indices @idx (NULL: 0..n-1): finished
 * connections plus the live one, or the front's own.
 */
static void netaccel_stats_read(struct netaccel_front *nf,
				const unsigned int *idx, unsigned int n,
				u64 *out)
{
	const struct netaccel_conn *conn;
	unsigned int seq, k;

	rcu_read_lock();
	do {
		seq = read_seqcount_begin(&nf->stats_seq);
		conn = rcu_dereference(nf->stats_conn);
		for (k = 0; k < n; k++) {
			unsigned int i = idx ? idx[k] : k;

			if (netaccel_stats[i].src == NETACCEL_SRC_NF) {
				out[k] = netaccel_read_u64(&nf->nstats,
						netaccel_stats[i].off);
				continue;
			}
			out[k] = nf->totals[i];
			if (conn)
				out[k] += netaccel_conn_stat(conn, i);
		}
	} while (read_seqcount_retry(&nf->stats_seq, seq));
	rcu_read_unlock();
}

void netaccel_stats_collect(struct netaccel_front *nf, u64 *out)
{
	netaccel_stats_read(nf, NULL, netaccel_nstats, out);
}

/*
 * Makes @conn the connection whose counters are live; the previous one
 * (if any) is folded into the totals first, atomically for readers.
 */
void netaccel_stats_set_conn(struct netaccel_front *nf,
			     struct netaccel_conn *conn)
{
	struct netaccel_conn *old;
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&nf->stats_lock, flags);
	write_seqcount_begin(&nf->stats_seq);
	old = rcu_dereference_protected(nf->stats_conn,
					lockdep_is_held(&nf->stats_lock));
	if (old)
		for (i = 0; i < netaccel_nstats; i++)
			if (netaccel_stats[i].src != NETACCEL_SRC_NF)
				nf->totals[i] += netaccel_conn_stat(old, i);
	rcu_assign_pointer(nf->stats_conn, conn);
	write_seqcount_end(&nf->stats_seq);
	spin_unlock_irqrestore(&nf->stats_lock, flags);
	if (old)
		synchronize_rcu();	/* before @old is freed */
}

/* The hook's ndo_get_stats64: netfront's counters plus the fast path. */
void netaccel_get_stats64(struct net_device *dev,
			  struct rtnl_link_stats64 *s)
{
	const struct net_device_ops *ops = READ_ONCE(dev->netdev_ops);
	const struct netaccel_hook *hook;
	unsigned int idx[5];
	u64 v[5];

	if (unlikely(ops->ndo_get_stats64 != netaccel_get_stats64)) {
		if (ops->ndo_get_stats64)
			ops->ndo_get_stats64(dev, s);
		return;
	}
	hook = container_of(ops, struct netaccel_hook, ops);
	hook->orig_ops->ndo_get_stats64(dev, s);

	idx[0] = netaccel_idx_tx_fast_packets;
	idx[1] = netaccel_idx_tx_fast_bytes;
	idx[2] = netaccel_idx_rx_fast_packets;
	idx[3] = netaccel_idx_rx_fast_bytes;
	idx[4] = netaccel_idx_rx_dropped;
	netaccel_stats_read(hook->nf, idx, ARRAY_SIZE(idx), v);
	s->tx_packets += v[0];
	s->tx_bytes += v[1];
	s->rx_packets += v[2];
	s->rx_bytes += v[3];
	s->rx_dropped += v[4];
}

/* ethtool -S: netfront's counters, then ours.  Called under rtnl. */
static const struct netaccel_hook *netaccel_ethtool_hook(struct net_device *dev)
{
	return container_of(dev->ethtool_ops, struct netaccel_hook,
			    ethtool_ops);
}

int netaccel_get_sset_count(struct net_device *dev, int sset)
{
	const struct netaccel_hook *hook = netaccel_ethtool_hook(dev);
	const struct ethtool_ops *orig = hook->orig_ethtool_ops;
	int n = 0;

	if (orig->get_sset_count) {
		n = orig->get_sset_count(dev, sset);
		if (n < 0 && sset != ETH_SS_STATS)
			return n;
		if (n < 0)
			n = 0;
	}
	if (sset == ETH_SS_STATS)
		n += netaccel_nstats;
	return n;
}

static int netaccel_orig_stats_count(struct net_device *dev,
				     const struct ethtool_ops *orig)
{
	int n = orig->get_sset_count ? orig->get_sset_count(dev, ETH_SS_STATS)
				     : 0;

	return n < 0 ? 0 : n;
}

void netaccel_get_strings(struct net_device *dev, u32 sset, u8 *data)
{
	const struct netaccel_hook *hook = netaccel_ethtool_hook(dev);
	const struct ethtool_ops *orig = hook->orig_ethtool_ops;
	unsigned int i;
	int n;

	if (orig->get_strings)
		orig->get_strings(dev, sset, data);
	if (sset != ETH_SS_STATS)
		return;
	n = netaccel_orig_stats_count(dev, orig);
	data += n * ETH_GSTRING_LEN;
	for (i = 0; i < netaccel_nstats; i++, data += ETH_GSTRING_LEN)
		snprintf(data, ETH_GSTRING_LEN, "accel_%s",
			 netaccel_stats[i].name);
}

void netaccel_get_ethtool_stats(struct net_device *dev,
				struct ethtool_stats *stats, u64 *data)
{
	const struct netaccel_hook *hook = netaccel_ethtool_hook(dev);
	const struct ethtool_ops *orig = hook->orig_ethtool_ops;
	int n = netaccel_orig_stats_count(dev, orig);

	if (orig->get_ethtool_stats && n)
		orig->get_ethtool_stats(dev, stats, data);
	memset(data + n, 0, netaccel_nstats * sizeof(*data));
	netaccel_stats_collect(hook->nf, data + n);
}

/*
 * sysfs: <xenbus device>/stats/<counter> and <xenbus device>/accel/
 */

struct netaccel_stat_attr {
	struct device_attribute attr;
	unsigned int idx;
};

static struct netaccel_stat_attr *netaccel_stat_attrs;
static struct attribute **netaccel_stat_attr_list;

static ssize_t netaccel_stat_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct netaccel_front *nf = dev_get_drvdata(dev);
	unsigned int idx = container_of(attr, struct netaccel_stat_attr,
					attr)->idx;
	u64 v;

	if (!nf)
		return -ENODEV;
	netaccel_stats_read(nf, &idx, 1, &v);
	return sysfs_emit(buf, "%llu\n", v);
}

static struct attribute_group netaccel_stats_group = {
	.name = "stats",
};

static const char *netaccel_state_name(const struct netaccel_conn *conn)
{
	if (!conn)
		return "disconnected";
	switch (xna_front_state(conn->core)) {
	case XNA_FRONT_INIT:
		return "initialised";
	case XNA_FRONT_HELLO_SENT:
		return "hello-sent";
	case XNA_FRONT_CONNECTING:
		return "connecting";
	case XNA_FRONT_READY:
		return "connected";
	default:
		return "failed";
	}
}

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct netaccel_front *nf = dev_get_drvdata(dev);
	struct netaccel_conn *conn;
	ssize_t r;

	rcu_read_lock();
	conn = rcu_dereference(nf->stats_conn);
	/* Not connected on purpose: an XDP program is on netfront. */
	r = sysfs_emit(buf, "%s\n", !conn && READ_ONCE(nf->xdp_paused) ?
		       "paused-xdp" : netaccel_state_name(conn));
	rcu_read_unlock();
	return r;
}
static DEVICE_ATTR_RO(state);

static ssize_t netdev_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct netaccel_front *nf = dev_get_drvdata(dev);
	ssize_t r;

	rtnl_lock();
	r = sysfs_emit(buf, "%s\n", nf->netdev ? nf->netdev->name : "");
	rtnl_unlock();
	return r;
}
static DEVICE_ATTR_RO(netdev);

static ssize_t hooked_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct netaccel_front *nf = dev_get_drvdata(dev);
	ssize_t r;

	rtnl_lock();
	r = sysfs_emit(buf, "%d\n",
		       nf->hook && rtnl_dereference(nf->hook->conn) ? 1 : 0);
	rtnl_unlock();
	return r;
}
static DEVICE_ATTR_RO(hooked);

#define NETACCEL_CONN_ATTR(name, fmt, ...)				\
static ssize_t name##_show(struct device *dev,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	struct netaccel_front *nf = dev_get_drvdata(dev);		\
	const struct netaccel_conn *conn;				\
	ssize_t r;							\
									\
	rcu_read_lock();						\
	conn = rcu_dereference(nf->stats_conn);				\
	r = conn ? sysfs_emit(buf, fmt "\n", __VA_ARGS__) :			\
		   sysfs_emit(buf, "\n");				\
	rcu_read_unlock();						\
	return r;							\
}									\
static DEVICE_ATTR_RO(name)

NETACCEL_CONN_ATTR(num_vis, "%u", conn->active_vis);
NETACCEL_CONN_ATTR(fast_flows, "%u", xna_front_flow_count(conn->core));
NETACCEL_CONN_ATTR(generation, "%llu",
		   (unsigned long long)conn->bi.generation);
NETACCEL_CONN_ATTR(link, "%s %u",
		   xna_front_link_up(conn->core) ? "up" : "down",
		   xna_front_mtu(conn->core));
NETACCEL_CONN_ATTR(layout, "vis %u tx %u rx %u pool %u",
		   conn->layout.num_vis, conn->layout.tx_entries,
		   conn->layout.rx_entries, conn->layout.pool_pages);

static struct attribute *netaccel_info_attrs[] = {
	&dev_attr_state.attr,
	&dev_attr_netdev.attr,
	&dev_attr_hooked.attr,
	&dev_attr_num_vis.attr,
	&dev_attr_fast_flows.attr,
	&dev_attr_generation.attr,
	&dev_attr_link.attr,
	&dev_attr_layout.attr,
	NULL,
};

static const struct attribute_group netaccel_info_group = {
	.name = "accel",
	.attrs = netaccel_info_attrs,
};

const struct attribute_group *netaccel_dev_groups[] = {
	&netaccel_info_group,
	&netaccel_stats_group,
	NULL,
};

static unsigned int netaccel_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < netaccel_nstats; i++)
		if (!strcmp(netaccel_stats[i].name, name))
			return i;
	WARN_ON(1);
	return 0;
}

int netaccel_stats_init(void)
{
	unsigned int i, j = 0, v;

	netaccel_nstats = ARRAY_SIZE(netaccel_stat_table) - 1 +
			  XNA_TX_NR_VERDICTS - 1;
	if (WARN_ON(netaccel_nstats > NETACCEL_NR_STATS_MAX))
		return -EINVAL;
	netaccel_stats = kcalloc(netaccel_nstats, sizeof(*netaccel_stats),
				 GFP_KERNEL);
	netaccel_stat_attrs = kcalloc(netaccel_nstats,
				      sizeof(*netaccel_stat_attrs), GFP_KERNEL);
	netaccel_stat_attr_list = kcalloc(netaccel_nstats + 1,
					  sizeof(*netaccel_stat_attr_list),
					  GFP_KERNEL);
	if (!netaccel_stats || !netaccel_stat_attrs || !netaccel_stat_attr_list)
		goto nomem;

	for (i = 0; i < ARRAY_SIZE(netaccel_stat_table); i++) {
		if (netaccel_stat_table[i].name) {
			netaccel_stats[j++] = netaccel_stat_table[i];
			continue;
		}
		for (v = XNA_TX_ACCEPT + 1; v < XNA_TX_NR_VERDICTS; v++) {
			netaccel_decline_names[v] =
				kasprintf(GFP_KERNEL, "tx_%s",
					  xna_front_tx_verdict_name(v));
			if (!netaccel_decline_names[v])
				goto nomem;
			netaccel_stats[j].name = netaccel_decline_names[v];
			netaccel_stats[j].src = NETACCEL_SRC_VI;
			netaccel_stats[j].off =
				offsetof(struct xna_front_vi_stats, tx_declines) +
				v * sizeof(u64);
			j++;
		}
	}
	netaccel_idx_tx_fast_packets = netaccel_find("tx_fast_packets");
	netaccel_idx_tx_fast_bytes = netaccel_find("tx_fast_bytes");
	netaccel_idx_rx_fast_packets = netaccel_find("rx_fast_packets");
	netaccel_idx_rx_fast_bytes = netaccel_find("rx_fast_bytes");
	netaccel_idx_rx_dropped = netaccel_find("rx_dropped");

	for (i = 0; i < netaccel_nstats; i++) {
		struct netaccel_stat_attr *a = &netaccel_stat_attrs[i];

		sysfs_attr_init(&a->attr.attr);
		a->attr.attr.name = netaccel_stats[i].name;
		a->attr.attr.mode = 0444;
		a->attr.show = netaccel_stat_show;
		a->idx = i;
		netaccel_stat_attr_list[i] = &a->attr.attr;
	}
	netaccel_stats_group.attrs = netaccel_stat_attr_list;
	return 0;

nomem:
	netaccel_stats_exit();
	return -ENOMEM;
}

void netaccel_stats_exit(void)
{
	unsigned int v;

	for (v = 0; v < XNA_TX_NR_VERDICTS; v++) {
		kfree(netaccel_decline_names[v]);
		netaccel_decline_names[v] = NULL;
	}
	kfree(netaccel_stat_attr_list);
	kfree(netaccel_stat_attrs);
	kfree(netaccel_stats);
	netaccel_stat_attr_list = NULL;
	netaccel_stat_attrs = NULL;
	netaccel_stats = NULL;
}
