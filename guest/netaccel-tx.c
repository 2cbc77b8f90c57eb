// SPDX-License-Identifier: GPL-2.0
/*
 * xen-netaccel: the transmit path.  netaccel_start_xmit() is the
 * ndo_start_xmit of the copy of netfront's netdev_ops that the hook
 * installs (netaccel-pair.c): every packet is offered to a VI first;
 * what the VI declines goes to netfront's own ndo_start_xmit, under the
 * same TX queue lock.  An accepted packet is copied into the VI's
 * buffers and consumed: it is never dropped and never queued here.
 * Frames still in a VI when it stops are given back to netfront.
 *
 * Back-pressure: a packet of a fast flow that finds its VI full is not
 * declined (netfront would send it ahead of its flow's packets still in
 * the VI): the queue is stopped and the packet handed back to the qdisc
 * (NETDEV_TX_BUSY); the VI's TX completion event, or the stall timer,
 * wakes the queue.  Only queues stopped that way are ever woken here,
 * under the queue's lock: a queue netfront stopped (its ring full) is
 * netfront's to wake, and netfront's ndo_start_xmit is never called on
 * a stopped queue (it would overrun its ring).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/delay.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/rcupdate.h>
#if __has_include(<net/gso.h>)
#include <net/gso.h>
#endif
#include <xen/events.h>

#include "netaccel.h"

#define NETACCEL_MAX_PIECES	(MAX_SKB_FRAGS + 1)

/*
 * How long a VI may stay full before we stop holding packets for it: a
 * backend that frees nothing must not stall netfront's traffic too.
 */
#define NETACCEL_TX_STALL	(HZ / 4)

enum netaccel_tx_result {
	NETACCEL_TX_DECLINED,	/* netfront sends it */
	NETACCEL_TX_TAKEN,	/* in a VI, consumed */
	NETACCEL_TX_HOLD,	/* VI full: queue stopped, NETDEV_TX_BUSY */
};

/* The pieces of an skb, or 0 when the VI cannot take it as it is. */
static unsigned int netaccel_skb_frags(const struct sk_buff *skb,
				       struct xna_frag *frags)
{
	const struct skb_shared_info *si = skb_shinfo(skb);
	unsigned int n = 0, i;

	if (skb_has_frag_list(skb) || skb_vlan_tag_present(skb))
		return 0;
	if (skb->ip_summed == CHECKSUM_PARTIAL &&
	    (skb->csum_not_inet || skb_checksum_start_offset(skb) < 0 ||
	     skb_checksum_start_offset(skb) > U16_MAX))
		return 0;
	if (skb_headlen(skb)) {
		frags[n].data = skb->data;
		frags[n].len = skb_headlen(skb);
		n++;
	}
	for (i = 0; i < si->nr_frags; i++) {
		const skb_frag_t *f = &si->frags[i];
		void *p = skb_frag_address_safe(f);

		if (!p)
			return 0;	/* an unmapped highmem page */
		frags[n].data = p;
		frags[n].len = skb_frag_size(f);
		n++;
	}
	return n;
}

static void netaccel_skb_meta(const struct sk_buff *skb,
			      struct xna_tx_meta *meta)
{
	meta->csum_partial = skb->ip_summed == CHECKSUM_PARTIAL;
	meta->csum_start = meta->csum_partial ?
			   (u16)skb_checksum_start_offset(skb) : 0;
	meta->csum_offset = meta->csum_partial ? skb->csum_offset : 0;
}

static enum xna_front_tx_verdict netaccel_tx_one(struct netaccel_vi *vi,
						 struct sk_buff *skb,
						 struct xna_frag *frags,
						 unsigned int nfrags, bool *kick)
{
	enum xna_front_tx_verdict v;
	struct xna_tx_meta meta;
	int r;

	v = xna_front_tx_decide(vi->core, frags, nfrags, skb->len, 0);
	if (v != XNA_TX_ACCEPT)
		return v;
	netaccel_skb_meta(skb, &meta);
	r = xna_front_tx_frame(vi->core, frags, nfrags, skb->len, &meta,
			       netdev_xmit_more());
	if (r < 0)	/* counted (tx_errors); netfront sends it */
		return XNA_TX_DECLINE_OFFLOAD;
	*kick |= r == XNA_TX_KICK;
	return XNA_TX_ACCEPT;
}

/*
 * A GSO packet of a fast flow: reserve room for all its segments, then
 * segment it in software (netfront would have had the backend do it)
 * and queue every segment.  The reservation holds even if the backend
 * stops the VI meanwhile (the reset hands the segments to netfront
 * through the qdisc), and every segment is checked before the first
 * goes in: the burst goes in whole or not at all.  A segment the core
 * refuses after all (a bug) goes to @fallback.
 */
static enum xna_front_tx_verdict netaccel_tx_gso(struct netaccel_vi *vi,
						 struct sk_buff *skb,
						 struct xna_frag *frags,
						 unsigned int nfrags,
						 struct sk_buff_head *fallback)
{
	const struct skb_shared_info *si = skb_shinfo(skb);
	struct netaccel_conn *conn = vi->conn;
	unsigned int hdr_len, seg_len, nsegs, slots, max_len;
	struct sk_buff *segs, *seg, *next;
	struct xna_tx_meta meta;

	enum xna_front_tx_verdict v;

	/*
	 * By default netfront sends GSO packets whole, with the packets of
	 * their flow that follow (see xna_front_tx_slow_gso()): its backend
	 * takes 64 KiB in one go, where the VI would take a frame per MSS.
	 */
	if (!READ_ONCE(netaccel_gso)) {
		xna_front_tx_slow_gso(vi->core, frags, nfrags, skb->len);
		return XNA_TX_DECLINE_GSO;
	}
	if (skb->encapsulation || !si->gso_size ||
	    !(si->gso_type & (SKB_GSO_TCPV4 | SKB_GSO_TCPV6 |
			      SKB_GSO_UDP_L4))) {
		xna_front_tx_count_decline(vi->core, XNA_TX_DECLINE_OFFLOAD, skb->len);
		return XNA_TX_DECLINE_OFFLOAD;
	}
	if (si->gso_type & SKB_GSO_UDP_L4)
		hdr_len = skb_transport_offset(skb) + sizeof(struct udphdr);
	else
		hdr_len = skb_tcp_all_headers(skb);
	seg_len = hdr_len + si->gso_size;
	max_len = min_t(unsigned int, XNA_MAX_FRAME_LEN,
			xna_front_mtu(conn->core) + VLAN_ETH_HLEN);
	if (skb->len <= hdr_len || seg_len > max_len ||
	    (!conn->bi.sg && seg_len > XNA_BUF_SIZE)) {
		xna_front_tx_count_decline(vi->core, XNA_TX_DECLINE_TOO_BIG, skb->len);
		return XNA_TX_DECLINE_TOO_BIG;
	}
	nsegs = DIV_ROUND_UP(skb->len - hdr_len, si->gso_size);
	slots = nsegs * xna_front_tx_slots(seg_len);
	v = xna_front_tx_decide(vi->core, frags, nfrags, skb->len, slots);
	if (v != XNA_TX_ACCEPT)
		return v;

	segs = skb_gso_segment(skb, NETIF_F_SG | NETIF_F_HW_CSUM);
	if (IS_ERR_OR_NULL(segs))
		goto offload;
	skb_list_walk_safe(segs, seg, next) {
		if (!netaccel_skb_frags(seg, frags)) {
			kfree_skb_list(segs);
			goto offload;
		}
	}
	vi->kstats.tx_gso_packets++;
	skb_list_walk_safe(segs, seg, next) {
		unsigned int n;
		int r;

		skb_mark_not_on_list(seg);
		n = netaccel_skb_frags(seg, frags);
		netaccel_skb_meta(seg, &meta);
		r = xna_front_tx_frame(vi->core, frags, n, seg->len, &meta, true);
		if (WARN_ON_ONCE(r < 0)) {
			vi->kstats.tx_gso_fallback++;
			__skb_queue_tail(fallback, seg);
			continue;
		}
		vi->kstats.tx_gso_segments++;
		dev_consume_skb_any(seg);
	}
	return XNA_TX_ACCEPT;

offload:
	/* Nothing went in: netfront sends the packet whole (its own TSO). */
	xna_front_tx_count_decline(vi->core, XNA_TX_DECLINE_OFFLOAD, skb->len);
	return XNA_TX_DECLINE_OFFLOAD;
}

/*
 * VI @vi is full: hold the packet.  Stop its queue (the caller returns
 * NETDEV_TX_BUSY, the qdisc keeps the packet first in line) and note
 * that we stopped it, so that the wake touches only queues we stopped.
 * The stall timer bounds the wait.  The TX queue lock and vi->tx_lock
 * are held.
 */
static bool netaccel_tx_hold(struct netaccel_vi *vi, struct sk_buff *skb,
			     struct net_device *dev, bool was_waiting)
{
	struct netaccel_front *nf = vi->conn->nf;
	unsigned int q = skb_get_queue_mapping(skb);

	if (q >= NETACCEL_MAX_TXQ || q >= dev->num_tx_queues) {
		xna_front_tx_count_decline(vi->core, XNA_TX_DECLINE_RING_FULL,
					   skb->len);
		return false;
	}
	set_bit(q, nf->txq_stopped);
	netif_tx_stop_queue(netdev_get_tx_queue(dev, q));
	if (!was_waiting)
		vi->busy_since = jiffies;
	if (!timer_pending(&vi->stall_timer))
		mod_timer(&vi->stall_timer, vi->busy_since + NETACCEL_TX_STALL);
	return true;
}

/* A segment the core refused: to netfront, never on a stopped queue. */
static void netaccel_tx_fallback(struct netaccel_front *nf,
				 const struct netaccel_hook *hook,
				 struct sk_buff_head *fallback,
				 struct net_device *dev, unsigned int q)
{
	struct netdev_queue *txq = netdev_get_tx_queue(dev, q);
	struct sk_buff *skb;

	while ((skb = __skb_dequeue(fallback))) {
		if (netif_xmit_stopped(txq)) {
			kfree_skb(skb);
			nf->nstats.tx_resend_lost++;
			continue;
		}
		hook->orig_ops->ndo_start_xmit(skb, dev);
	}
}

/* Offers @skb to a VI: taken (and consumed), declined, or held. */
static enum netaccel_tx_result
netaccel_tx_offer(struct netaccel_conn *conn, const struct netaccel_hook *hook,
		  struct sk_buff *skb, struct net_device *dev)
{
	struct xna_frag frags[NETACCEL_MAX_PIECES];
	enum xna_front_tx_verdict v = XNA_TX_DECLINE_DISABLED;
	struct sk_buff_head fallback;
	struct netaccel_vi *vi;
	unsigned int nfrags;
	bool kick = false, was_waiting, hold = false;

	/*
	 * netpoll (netconsole) transmits with interrupts off, possibly from
	 * an interrupt: leave those packets to netfront rather than take a
	 * VI's lock there.
	 */
	if (unlikely(!conn->active_vis || irqs_disabled()))
		return NETACCEL_TX_DECLINED;
	vi = &conn->vis[skb_get_queue_mapping(skb) % conn->active_vis];
	nfrags = netaccel_skb_frags(skb, frags);
	__skb_queue_head_init(&fallback);

	spin_lock(&vi->tx_lock);
	/*
	 * A backend that consumes nothing of what waits in the VI for as
	 * long as a full VI may wait (dead, or wedged) is given up on even
	 * with room left: else a stream in timeout backoff would lose one
	 * retransmission after another into it.
	 */
	if (xna_front_tx_progress(vi->core))
		vi->tx_progress = jiffies;
	else if (time_after(jiffies, vi->tx_progress + NETACCEL_TX_STALL) &&
		 xna_front_tx_stall(vi->core))
		dev_warn_ratelimited(&conn->nf->xbdev->dev,
				     "VI %u: backend consumed nothing for %u ms: using netfront until it does\n",
				     vi->index,
				     jiffies_to_msecs(NETACCEL_TX_STALL));
	was_waiting = xna_front_tx_waiting(vi->core);
	if (!READ_ONCE(netaccel_enable))
		xna_front_tx_count_decline(vi->core, XNA_TX_DECLINE_DISABLED,
					   skb->len);
	else if (!nfrags)
		xna_front_tx_count_decline(vi->core, XNA_TX_DECLINE_OFFLOAD,
					   skb->len);
	else if (skb_is_gso(skb))
		v = netaccel_tx_gso(vi, skb, frags, nfrags, &fallback);
	else
		v = netaccel_tx_one(vi, skb, frags, nfrags, &kick);
	if (v == XNA_TX_BUSY)
		hold = netaccel_tx_hold(vi, skb, dev, was_waiting);
	/*
	 * End of a batch, or a decline or hold in the middle of one: kick?
	 * (A held packet waits for the backend: it must know there is work.)
	 */
	if (v != XNA_TX_ACCEPT || !netdev_xmit_more())
		kick |= xna_front_tx_kick_needed(vi->core);
	spin_unlock(&vi->tx_lock);

	if (kick)
		xna_front_vi_notify(vi->core);
	if (hold)
		return NETACCEL_TX_HOLD;
	if (v != XNA_TX_ACCEPT)
		return NETACCEL_TX_DECLINED;
	if (unlikely(!skb_queue_empty(&fallback)))
		netaccel_tx_fallback(conn->nf, hook, &fallback, dev,
				     skb_get_queue_mapping(skb));
	dev_consume_skb_any(skb);
	return NETACCEL_TX_TAKEN;
}

netdev_tx_t netaccel_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	const struct net_device_ops *ops = READ_ONCE(dev->netdev_ops);
	const struct netaccel_hook *hook;
	struct netaccel_conn *conn;
	unsigned int q;

	/*
	 * The hook was removed after our caller read dev->netdev_ops: call
	 * whatever is there now (netfront's own ops).
	 */
	if (unlikely(ops->ndo_start_xmit != netaccel_start_xmit))
		return ops->ndo_start_xmit(skb, dev);
	hook = container_of(ops, struct netaccel_hook, ops);
	/*
	 * The queue runs, so a stop of ours is over (netfront or we woke
	 * it): forget it, lest a later wake of ours undo a stop of
	 * netfront's.  Under the queue's lock, as the wake.
	 */
	q = skb_get_queue_mapping(skb);
	if (q < NETACCEL_MAX_TXQ && test_bit(q, hook->nf->txq_stopped))
		clear_bit(q, hook->nf->txq_stopped);
	conn = rcu_dereference_bh(hook->conn);
	if (conn) {
		switch (netaccel_tx_offer(conn, hook, skb, dev)) {
		case NETACCEL_TX_TAKEN:
			return NETDEV_TX_OK;
		case NETACCEL_TX_HOLD:
			return NETDEV_TX_BUSY;
		case NETACCEL_TX_DECLINED:
			break;
		}
	}
	return hook->orig_ops->ndo_start_xmit(skb, dev);
}

void netaccel_resend_init(struct netaccel_resend *rs,
			  struct netaccel_front *nf)
{
	rs->nf = nf;
	__skb_queue_head_init(&rs->q);
}

/* xna_tx_unsent_fn: rebuild an skb from a frame left in a VI. */
void netaccel_unsent_to_skb(void *opaque, const struct xna_frag *frags,
			    unsigned int nfrags, unsigned int len,
			    const struct xna_tx_meta *meta)
{
	struct netaccel_resend *rs = opaque;
	unsigned int i, nh = ETH_HLEN;
	struct sk_buff *skb;

	skb = alloc_skb(len, GFP_ATOMIC);
	if (!skb) {
		rs->nf->nstats.tx_resend_lost++;
		return;
	}
	for (i = 0; i < nfrags; i++)
		skb_put_data(skb, frags[i].data, frags[i].len);
	skb_reset_mac_header(skb);
	skb->protocol = eth_hdr(skb)->h_proto;
	if (skb->protocol == htons(ETH_P_8021Q) && len >= VLAN_ETH_HLEN)
		nh = VLAN_ETH_HLEN;
	skb_set_network_header(skb, nh);
	if (meta->csum_partial &&
	    !skb_partial_csum_set(skb, meta->csum_start, meta->csum_offset)) {
		kfree_skb(skb);
		rs->nf->nstats.tx_resend_lost++;
		return;
	}
	__skb_queue_tail(&rs->q, skb);
}

/* Sends the rebuilt frames through netfront (no lock held); how many. */
unsigned int netaccel_resend(struct netaccel_resend *rs)
{
	struct netaccel_front *nf = rs->nf;
	unsigned int sent = 0;
	struct net_device *dev;
	struct sk_buff *skb;

	if (skb_queue_empty(&rs->q))
		return 0;
	rcu_read_lock();
	dev = rcu_dereference(nf->rx_dev);
	if (dev)
		dev_hold(dev);
	rcu_read_unlock();
	while ((skb = __skb_dequeue(&rs->q))) {
		if (!dev) {
			kfree_skb(skb);
			nf->nstats.tx_resend_lost++;
			continue;
		}
		skb->dev = dev;
		dev_queue_xmit(skb);
		nf->nstats.tx_resent++;
		sent++;
	}
	if (dev)
		dev_put(dev);
	return sent;
}

/*
 * Gives a live backend up to @ms milliseconds to send what is in the TX
 * rings (no new frames come: the hook is detached).
 */
void netaccel_tx_quiesce(struct netaccel_conn *conn, unsigned int ms)
{
	unsigned int t, n;

	for (t = 0; t < ms; t++) {
		bool idle = true;

		for (n = 0; n < conn->num_vis; n++) {
			struct netaccel_vi *vi = &conn->vis[n];

			spin_lock_bh(&vi->tx_lock);
			if (xna_front_vi_state(vi->core) == XNA_VI_UP &&
			    xna_front_tx_reclaim(vi->core) != conn->layout.tx_entries)
				idle = false;
			spin_unlock_bh(&vi->tx_lock);
		}
		if (idle)
			return;
		usleep_range(1000, 2000);
	}
}

/*
 * Wakes the TX queues of @dev that we stopped because VI @vi was full
 * (every one when @vi is negative; queue q feeds VI q % @nvis).  Under
 * each queue's lock, against the xmit path that sets and clears the
 * bits: a queue whose bit is still set has not run since we stopped it,
 * so netfront cannot have stopped it in the meantime (netfront stops a
 * queue only from its ndo_start_xmit) and waking it is ours to do.
 */
void netaccel_tx_wake(struct netaccel_front *nf, struct net_device *dev,
		      int vi, unsigned int nvis)
{
	unsigned int q, nq = min_t(unsigned int, dev->num_tx_queues,
				   NETACCEL_MAX_TXQ);

	for_each_set_bit(q, nf->txq_stopped, nq) {
		struct netdev_queue *txq = netdev_get_tx_queue(dev, q);

		if (vi >= 0 && nvis && q % nvis != (unsigned int)vi)
			continue;
		__netif_tx_lock_bh(txq);
		if (test_and_clear_bit(q, nf->txq_stopped))
			netif_tx_wake_queue(txq);
		__netif_tx_unlock_bh(txq);
	}
}

/* Every queue we stopped: the connection is detached or a VI is gone. */
void netaccel_tx_wake_all(struct netaccel_front *nf)
{
	struct net_device *dev;

	rcu_read_lock();
	dev = rcu_dereference(nf->rx_dev);
	if (dev)
		netaccel_tx_wake(nf, dev, -1, 0);
	rcu_read_unlock();
}

void netaccel_tx_wake_vi(struct netaccel_vi *vi)
{
	struct netaccel_front *nf = vi->conn->nf;
	struct net_device *dev;

	rcu_read_lock();
	dev = rcu_dereference(nf->rx_dev);
	if (dev)
		netaccel_tx_wake(nf, dev, vi->index, vi->conn->active_vis);
	rcu_read_unlock();
}

/*
 * A VI event while a held packet waits (NAPI context): wake its queues
 * when the backend freed the room asked for, or the VI stopped.
 */
void netaccel_tx_completion(struct netaccel_vi *vi)
{
	bool wake;

	spin_lock(&vi->tx_lock);
	wake = xna_front_tx_wake_check(vi->core);
	spin_unlock(&vi->tx_lock);
	if (wake)
		netaccel_tx_wake_vi(vi);
}

/*
 * A VI stayed full for NETACCEL_TX_STALL: stop holding packets for it
 * (the core declines them to netfront until the backend consumes
 * again) and let the queues go.
 */
void netaccel_tx_stall_timer(struct timer_list *t)
{
	struct netaccel_vi *vi = from_timer(vi, t, stall_timer);
	bool wake = false;

	spin_lock_bh(&vi->tx_lock);
	if (xna_front_tx_waiting(vi->core)) {
		if (time_before(jiffies, vi->busy_since + NETACCEL_TX_STALL)) {
			/* A newer wait: give it its full time. */
			mod_timer(&vi->stall_timer,
				  vi->busy_since + NETACCEL_TX_STALL);
		} else {
			xna_front_tx_give_up(vi->core);
			wake = true;
		}
	}
	spin_unlock_bh(&vi->tx_lock);
	if (wake) {
		dev_warn_ratelimited(&vi->conn->nf->xbdev->dev,
				     "VI %u: backend freed no TX room for %u ms: using netfront until it does\n",
				     vi->index,
				     jiffies_to_msecs(NETACCEL_TX_STALL));
		netaccel_tx_wake_vi(vi);
	}
}
