// SPDX-License-Identifier: GPL-2.0
/*
 * xen-netaccel: the transmit path.  netaccel_start_xmit() is the
 * ndo_start_xmit of the copy of netfront's netdev_ops that the hook
 * installs (netaccel-pair.c): every packet is offered to a VI first;
 * what the VI declines goes to netfront's own ndo_start_xmit, under the
 * same TX queue lock.  An accepted packet is copied into the VI's
 * buffers and consumed: it is never dropped and never queued here.
 * Frames still in a VI when it stops are given back to netfront.
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

static bool netaccel_tx_one(struct netaccel_vi *vi, struct sk_buff *skb,
			    struct xna_frag *frags, unsigned int nfrags,
			    bool *kick)
{
	struct xna_tx_meta meta;
	int r;

	if (xna_tx_decide(vi->core, frags, nfrags, skb->len, 0) !=
	    XNA_TX_ACCEPT)
		return false;
	netaccel_skb_meta(skb, &meta);
	r = xna_tx_frame(vi->core, frags, nfrags, skb->len, &meta,
			 netdev_xmit_more());
	if (r < 0)
		return false;	/* counted (tx_errors); netfront sends it */
	*kick |= r == XNA_TX_KICK;
	return true;
}

/*
 * A GSO packet of a fast flow: reserve room for all its segments, then
 * segment it in software (netfront would have had the backend do it)
 * and queue every segment.  A segment the VI refuses after all goes to
 * netfront (@fallback), in order.
 */
static bool netaccel_tx_gso(struct netaccel_vi *vi, struct sk_buff *skb,
			    struct xna_frag *frags, unsigned int nfrags,
			    struct sk_buff_head *fallback)
{
	const struct skb_shared_info *si = skb_shinfo(skb);
	struct netaccel_conn *conn = vi->conn;
	unsigned int hdr_len, seg_len, nsegs, slots, max_len;
	struct sk_buff *segs, *seg, *next;
	struct xna_tx_meta meta;

	if (!READ_ONCE(netaccel_gso) || skb->encapsulation || !si->gso_size ||
	    !(si->gso_type & (SKB_GSO_TCPV4 | SKB_GSO_TCPV6 |
			      SKB_GSO_UDP_L4))) {
		xna_tx_count_decline(vi->core, XNA_TX_DECLINE_OFFLOAD, skb->len);
		return false;
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
		xna_tx_count_decline(vi->core, XNA_TX_DECLINE_TOO_BIG, skb->len);
		return false;
	}
	nsegs = DIV_ROUND_UP(skb->len - hdr_len, si->gso_size);
	slots = nsegs * xna_tx_slots(seg_len);
	if (xna_tx_decide(vi->core, frags, nfrags, skb->len, slots) !=
	    XNA_TX_ACCEPT)
		return false;

	segs = skb_gso_segment(skb, NETIF_F_SG | NETIF_F_HW_CSUM);
	if (IS_ERR_OR_NULL(segs)) {
		xna_tx_count_decline(vi->core, XNA_TX_DECLINE_OFFLOAD, skb->len);
		return false;
	}
	vi->kstats.tx_gso_packets++;
	skb_list_walk_safe(segs, seg, next) {
		unsigned int n;
		int r = -EINVAL;

		skb_mark_not_on_list(seg);
		n = netaccel_skb_frags(seg, frags);
		if (n) {
			netaccel_skb_meta(seg, &meta);
			r = xna_tx_frame(vi->core, frags, n, seg->len, &meta,
					 true);
		}
		if (r < 0) {
			vi->kstats.tx_gso_fallback++;
			__skb_queue_tail(fallback, seg);
			continue;
		}
		vi->kstats.tx_gso_segments++;
		dev_consume_skb_any(seg);
	}
	return true;
}

/* Offers @skb to a VI; true when it was taken (and consumed). */
static bool netaccel_tx_offer(struct netaccel_conn *conn,
			      const struct netaccel_hook *hook,
			      struct sk_buff *skb, struct net_device *dev)
{
	struct xna_frag frags[NETACCEL_MAX_PIECES];
	struct sk_buff_head fallback;
	struct netaccel_vi *vi;
	unsigned int nfrags;
	bool accepted = false, kick = false;

	/*
	 * netpoll (netconsole) transmits with interrupts off, possibly from
	 * an interrupt: leave those packets to netfront rather than take a
	 * VI's lock there.
	 */
	if (unlikely(!conn->active_vis || irqs_disabled()))
		return false;
	vi = &conn->vis[skb_get_queue_mapping(skb) % conn->active_vis];
	nfrags = netaccel_skb_frags(skb, frags);
	__skb_queue_head_init(&fallback);

	spin_lock(&vi->tx_lock);
	if (!READ_ONCE(netaccel_enable))
		xna_tx_count_decline(vi->core, XNA_TX_DECLINE_DISABLED,
				     skb->len);
	else if (!nfrags)
		xna_tx_count_decline(vi->core, XNA_TX_DECLINE_OFFLOAD,
				     skb->len);
	else if (skb_is_gso(skb))
		accepted = netaccel_tx_gso(vi, skb, frags, nfrags, &fallback);
	else
		accepted = netaccel_tx_one(vi, skb, frags, nfrags, &kick);
	/* End of a batch (or a decline in the middle of one): kick? */
	if (!accepted || !netdev_xmit_more())
		kick |= xna_tx_kick_needed(vi->core);
	spin_unlock(&vi->tx_lock);

	if (kick)
		xna_vi_notify(vi->core);
	if (!accepted)
		return false;
	dev_consume_skb_any(skb);
	while ((skb = __skb_dequeue(&fallback)))
		hook->orig_ops->ndo_start_xmit(skb, dev);
	return true;
}

netdev_tx_t netaccel_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	const struct net_device_ops *ops = READ_ONCE(dev->netdev_ops);
	const struct netaccel_hook *hook;
	struct netaccel_conn *conn;

	/*
	 * The hook was removed after our caller read dev->netdev_ops: call
	 * whatever is there now (netfront's own ops).
	 */
	if (unlikely(ops->ndo_start_xmit != netaccel_start_xmit))
		return ops->ndo_start_xmit(skb, dev);
	hook = container_of(ops, struct netaccel_hook, ops);
	conn = rcu_dereference_bh(hook->conn);
	if (conn && netaccel_tx_offer(conn, hook, skb, dev))
		return NETDEV_TX_OK;
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
			if (xna_vi_state(vi->core) == XNA_VI_UP &&
			    xna_tx_reclaim(vi->core) != conn->layout.tx_entries)
				idle = false;
			spin_unlock_bh(&vi->tx_lock);
		}
		if (idle)
			return;
		usleep_range(1000, 2000);
	}
}
