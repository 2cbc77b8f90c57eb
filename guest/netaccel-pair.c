// SPDX-License-Identifier: GPL-2.0
/*
 * xen-netaccel: pairing with netfront and the TX hook.
 *
 * The backend names the vif to pair with ("vif" key: device/vif/<n>) and
 * its MAC.  The netfront net_device of that vif is the one whose parent
 * is the xenbus device "vif-<n>" bound to the "vif" driver (or, without a
 * vif index, the netfront device with that MAC).  It may appear later or
 * go away: a netdevice notifier follows it.  The backend is trusted only
 * for the interfaces its own domain serves: a vif whose backend-id is
 * not ours (a driver domain naming another domain's vif) is refused
 * (xna_pair_match()).
 *
 * The hook: the net_device's netdev_ops is swapped, under rtnl, for a
 * copy whose ndo_start_xmit offers each packet to the accelerator first
 * (netaccel-tx.c) and whose ndo_get_stats64 adds the fast path's
 * packets; ethtool_ops likewise, for ethtool -S.  netfront itself is not
 * modified.  Removal swaps the original back and waits with
 * synchronize_net() for every CPU that may still run the copy before
 * freeing it.  One device carries at most one hook: a second install
 * sees netaccel_start_xmit in place and refuses (all under rtnl).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <linux/rtnetlink.h>
#include <net/net_namespace.h>

#include "netaccel.h"

LIST_HEAD(netaccel_fronts);

static bool netaccel_matches(struct netaccel_front *nf,
			     const struct net_device *dev)
{
	struct device *parent = dev->dev.parent;
	struct xna_backend_info want = { };
	struct xna_pair_candidate c;
	const struct xenbus_device *vif;
	u32 ours = nf->xbdev->otherend_id;

	if (!nf->pair_valid || !parent || !parent->driver || !parent->bus ||
	    strcmp(parent->bus->name, "xen") ||
	    strcmp(parent->driver->name, "vif"))
		return false;
	vif = to_xenbus_device(parent);
	want.vif = nf->pair_vif;
	want.has_mac = nf->pair_has_mac;
	memcpy(want.mac, nf->pair_mac, ETH_ALEN);
	c.xenbus_name = dev_name(parent);
	c.mac = dev->dev_addr;
	c.backend_id = vif->otherend_id;
	switch (xna_pair_match(&want, ours, &c)) {
	case XNA_PAIR_YES:
		return true;
	case XNA_PAIR_OTHER_BACKEND:
		if (!nf->pair_refused_logged)
			dev_warn(&nf->xbdev->dev,
				 "backend (domain %u) names %s (%s), which domain %u serves: not pairing\n",
				 ours, c.xenbus_name, netdev_name(dev),
				 c.backend_id);
		nf->pair_refused_logged = true;
		return false;
	default:
		return false;
	}
}

static bool netaccel_is_hooked(const struct net_device *dev)
{
	return dev->netdev_ops->ndo_start_xmit == netaccel_start_xmit;
}

/* Pairs @nf with @dev and installs the hook.  rtnl held. */
static int netaccel_pair_locked(struct netaccel_front *nf,
				struct net_device *dev)
{
	struct netaccel_hook *hook;

	ASSERT_RTNL();
	if (nf->netdev)
		return -EBUSY;
	if (netaccel_is_hooked(dev)) {
		netdev_warn(dev, "already accelerated: %s not paired\n",
			    dev_name(&nf->xbdev->dev));
		return -EBUSY;
	}
	hook = kzalloc(sizeof(*hook), GFP_KERNEL);
	if (!hook)
		return -ENOMEM;
	hook->nf = nf;
	hook->orig_ops = dev->netdev_ops;
	hook->ops = *dev->netdev_ops;
	hook->ops.ndo_start_xmit = netaccel_start_xmit;
	if (hook->ops.ndo_get_stats64)
		hook->ops.ndo_get_stats64 = netaccel_get_stats64;
	hook->orig_ethtool_ops = dev->ethtool_ops;
	if (dev->ethtool_ops) {
		hook->ethtool_ops = *dev->ethtool_ops;
		hook->ethtool_ops.get_sset_count = netaccel_get_sset_count;
		hook->ethtool_ops.get_strings = netaccel_get_strings;
		hook->ethtool_ops.get_ethtool_stats =
			netaccel_get_ethtool_stats;
	}
	RCU_INIT_POINTER(hook->conn, nf->live);

	if (nf->pair_has_mac && !ether_addr_equal(dev->dev_addr, nf->pair_mac))
		netdev_warn(dev, "MAC %pM differs from the backend's %pM\n",
			    dev->dev_addr, nf->pair_mac);
	dev_hold(dev);
	nf->netdev = dev;
	nf->hook = hook;
	rcu_assign_pointer(nf->rx_dev, dev);
	/*
	 * Publish the hook, fully initialised, to every CPU: readers load
	 * the ops pointer and then what it points to.
	 */
	smp_store_release(&dev->netdev_ops, &hook->ops);
	if (hook->orig_ethtool_ops) {
		/* Same for ethtool_ops (callers hold rtnl, as we do). */
		smp_store_release(&dev->ethtool_ops, &hook->ethtool_ops);
	}
	netdev_info(dev, "paired with %s\n", dev_name(&nf->xbdev->dev));
	return 0;
}

/* Removes the hook and unpairs.  rtnl held. */
static void netaccel_unpair_locked(struct netaccel_front *nf)
{
	struct netaccel_hook *hook = nf->hook;
	struct net_device *dev = nf->netdev;
	bool leak = false;

	ASSERT_RTNL();
	if (!dev)
		return;
	if (dev->netdev_ops == &hook->ops) {
		WRITE_ONCE(dev->netdev_ops, hook->orig_ops);
	} else {
		/*
		 * Someone replaced the ops on top of ours: make our copy a
		 * plain pass-through to netfront and leave it there.
		 */
		netdev_warn(dev, "netdev_ops changed under the hook\n");
		WRITE_ONCE(hook->ops.ndo_start_xmit,
			   hook->orig_ops->ndo_start_xmit);
		WRITE_ONCE(hook->ops.ndo_get_stats64,
			   hook->orig_ops->ndo_get_stats64);
		leak = true;
	}
	if (hook->orig_ethtool_ops) {
		if (dev->ethtool_ops == &hook->ethtool_ops) {
			WRITE_ONCE(dev->ethtool_ops, hook->orig_ethtool_ops);
		} else {
			netdev_warn(dev, "ethtool_ops changed under the hook\n");
			WRITE_ONCE(hook->ethtool_ops.get_sset_count,
				   hook->orig_ethtool_ops->get_sset_count);
			WRITE_ONCE(hook->ethtool_ops.get_strings,
				   hook->orig_ethtool_ops->get_strings);
			WRITE_ONCE(hook->ethtool_ops.get_ethtool_stats,
				   hook->orig_ethtool_ops->get_ethtool_stats);
			leak = true;
		}
	}
	RCU_INIT_POINTER(nf->rx_dev, NULL);
	nf->netdev = NULL;
	nf->hook = NULL;
	/*
	 * No CPU runs the copy or uses rx_dev after this, and no skb built
	 * on @dev is left in a NAPI's GRO lists: each poll flushes them
	 * before it leaves the softirq in which it read rx_dev
	 * (netaccel-rx.c).
	 */
	synchronize_net();
	/* Queues we stopped for a full VI: netfront's alone from now on. */
	netaccel_tx_wake(nf, dev, -1, 0);
	bitmap_zero(nf->txq_stopped, NETACCEL_MAX_TXQ);
	if (!leak)
		kfree(hook);
	netdev_info(dev, "unpaired from %s\n", dev_name(&nf->xbdev->dev));
	dev_put(dev);
}

/* Looks for the netfront device of @nf among the registered ones. */
static void netaccel_scan_locked(struct netaccel_front *nf)
{
	struct net_device *dev;

	ASSERT_RTNL();
	if (nf->netdev || !nf->pair_valid)
		return;
	for_each_netdev(&init_net, dev) {
		if (netaccel_matches(nf, dev)) {
			netaccel_pair_locked(nf, dev);
			return;
		}
	}
}

void netaccel_set_pairing(struct netaccel_front *nf,
			  const struct xna_backend_info *bi)
{
	rtnl_lock();
	nf->pair_vif = bi->vif;
	nf->pair_has_mac = bi->has_mac;
	memcpy(nf->pair_mac, bi->mac, ETH_ALEN);
	nf->pair_valid = bi->vif >= 0 || bi->has_mac;
	nf->pair_refused_logged = false;
	/* A new backend may name another vif. */
	if (nf->netdev && !netaccel_matches(nf, nf->netdev))
		netaccel_unpair_locked(nf);
	netaccel_scan_locked(nf);
	if (!nf->netdev)
		dev_info(&nf->xbdev->dev,
			 "netfront vif %d (%pM) not found yet\n",
			 bi->vif, bi->mac);
	rtnl_unlock();
}

/*
 * VIs to ask for when num_vis is not set: one per TX queue of the paired
 * netfront, since a packet takes the VI of its queue; more would cost
 * grants (shared with netfront and blkfront) and event channels for
 * nothing.  One per online CPU while netfront is not there yet.
 */
unsigned int netaccel_default_vis(struct netaccel_front *nf)
{
	unsigned int n;

	rtnl_lock();
	n = nf->netdev ? nf->netdev->real_num_tx_queues : num_online_cpus();
	rtnl_unlock();
	return n ? n : 1;
}

void netaccel_attach(struct netaccel_front *nf, struct netaccel_conn *conn)
{
	rtnl_lock();
	nf->live = conn;
	netaccel_scan_locked(nf);
	if (nf->hook)
		rcu_assign_pointer(nf->hook->conn, conn);
	rtnl_unlock();
}

void netaccel_detach(struct netaccel_front *nf)
{
	rtnl_lock();
	nf->live = NULL;
	if (nf->hook)
		RCU_INIT_POINTER(nf->hook->conn, NULL);
	rtnl_unlock();
	/* Every xmit that may have seen the connection has returned. */
	synchronize_net();
	/* Packets held for its VIs: netfront sends them now. */
	netaccel_tx_wake_all(nf);
}

void netaccel_unpair(struct netaccel_front *nf)
{
	rtnl_lock();
	netaccel_unpair_locked(nf);
	nf->pair_valid = false;
	rtnl_unlock();
}

static int netaccel_netdev_event(struct notifier_block *nb,
				 unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct netaccel_front *nf;

	switch (event) {
	case NETDEV_REGISTER:
		list_for_each_entry(nf, &netaccel_fronts, list) {
			if (!nf->netdev && netaccel_matches(nf, dev)) {
				netaccel_pair_locked(nf, dev);
				break;
			}
		}
		break;
	case NETDEV_UNREGISTER:
		list_for_each_entry(nf, &netaccel_fronts, list)
			if (nf->netdev == dev)
				netaccel_unpair_locked(nf);
		break;
	default:
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block netaccel_netdev_nb = {
	.notifier_call = netaccel_netdev_event,
};

int netaccel_pair_init(void)
{
	return register_netdevice_notifier(&netaccel_netdev_nb);
}

void netaccel_pair_exit(void)
{
	unregister_netdevice_notifier(&netaccel_netdev_nb);
}
