// SPDX-License-Identifier: GPL-2.0
/*
 * xen-netaccel: the receive path.  One NAPI context per VI (on a dummy
 * netdev of our own), scheduled by the VI's event channel.  Frames the
 * backend completed are copied into fresh skbs that arrive on netfront's
 * net_device, as if netfront had received them; the buffers go straight
 * back to the backend.  The same NAPI context wakes the TX queues that
 * wait for room in the VI (netaccel-tx.c).
 *
 * GRO: skbs are built on netfront's net_device, which may go away
 * (unpairing).  No skb stays in the NAPI's GRO lists after a poll: each
 * poll flushes them before it returns, so every skb that refers to the
 * device is delivered in the softirq that read nf->rx_dev, and the
 * synchronize_net() of unpairing waits for all of them before the
 * device is let go.  (Without the flush, a poll that used its whole
 * budget would leave held skbs to the next poll, after the unpairing.)
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/interrupt.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <linux/skbuff.h>
#include <xen/events.h>

#include "netaccel.h"

irqreturn_t netaccel_vi_interrupt(int irq, void *dev_id)
{
	struct netaccel_vi *vi = dev_id;
	unsigned int eoi = XEN_EOI_FLAG_SPURIOUS;

	/* RX frames, or a held TX packet waiting for room: poll. */
	if (xna_front_rx_pending(vi->core) || xna_front_tx_waiting(vi->core)) {
		napi_schedule(&vi->napi);
		eoi = 0;
	}
	xen_irq_lateeoi(irq, eoi);
	return IRQ_HANDLED;
}

static int netaccel_rx_frame(void *opaque, struct xna_vi *cvi,
			     const struct xna_frag *frags, unsigned int nfrags,
			     unsigned int len, unsigned int flags)
{
	struct netaccel_vi *vi = opaque;
	struct net_device *dev;
	struct sk_buff *skb;
	unsigned int i;

	dev = rcu_dereference(vi->conn->nf->rx_dev);
	if (!dev || !(READ_ONCE(dev->flags) & IFF_UP)) {
		vi->kstats.rx_no_netdev++;
		return -ENODEV;
	}
	/*
	 * netfront runs an XDP program (a firewall, say), which sees only
	 * what netfront receives: a frame delivered past it here would
	 * bypass it.  Drop it, and stop accelerating until it is gone.
	 */
	if (unlikely(dev_xdp_prog_count(dev))) {
		vi->kstats.rx_xdp_dropped++;
		netaccel_xdp_check_now(vi->conn->nf);
		return -EPERM;
	}
	skb = napi_alloc_skb(&vi->napi, len);
	if (!skb) {
		vi->kstats.rx_nomem++;
		return -ENOMEM;
	}
	for (i = 0; i < nfrags; i++)
		skb_put_data(skb, frags[i].data, frags[i].len);
	skb->protocol = eth_type_trans(skb, dev);
	/* A queue netfront does not have would upset RPS. */
	if (vi->index < dev->real_num_rx_queues)
		skb_record_rx_queue(skb, vi->index);

	if (flags & XNA_DESC_CSUM_PARTIAL) {
		/*
		 * From a sender on this host that left the checksum to the
		 * NIC: set up the offsets (and the pseudo-header sum), as
		 * netfront does for NETRXF_csum_blank.
		 */
		skb->ip_summed = CHECKSUM_PARTIAL;
		if (skb_checksum_setup(skb, true)) {
			vi->kstats.rx_csum_bad++;
			kfree_skb(skb);
			return -EINVAL;
		}
	} else if (flags & XNA_DESC_CSUM_VALID) {
		skb->ip_summed = CHECKSUM_UNNECESSARY;
	}
	napi_gro_receive(&vi->napi, skb);
	return 0;
}

int netaccel_napi_poll(struct napi_struct *napi, int budget)
{
	struct netaccel_vi *vi = container_of(napi, struct netaccel_vi, napi);
	int done;

	rcu_read_lock();
	if (xna_front_tx_waiting(vi->core))
		netaccel_tx_completion(vi);
	done = xna_front_rx_poll(vi->core, budget, netaccel_rx_frame, vi);
	/* Deliver what GRO holds while rx_dev is known good (see above). */
	napi_gro_flush(napi, false);
	rcu_read_unlock();
	if (done < 0) {
		dev_err_ratelimited(&vi->conn->nf->xbdev->dev,
				    "VI %u: backend broke the RX ring; VI unused\n",
				    vi->index);
		napi_complete(napi);
		return 0;
	}
	if (done < budget) {
		/* Re-arm first, in NAPI context; more work: poll again. */
		if (xna_front_rx_arm(vi->core))
			return budget;
		napi_complete_done(napi, done);
	}
	return done;
}
