// SPDX-License-Identifier: GPL-2.0
/*
 * xen-netaccel: the control channel.  Messages from the backend are
 * taken by the frontend core (which updates VI states, the fast-flow and
 * local-MAC tables, the link) in a work item; this file reacts to them:
 * Connected once every VI is up, restarting VIs the backend stopped,
 * logging errors.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/interrupt.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <xen/xenbus.h>
#include <xen/events.h>

#include "netaccel.h"

/*
 * Control messages handled per run of the work item, and per hold of
 * ctrl_lock.  A backend that keeps the FIFO full gets this many, then
 * the work queues itself again behind whatever else waits on the
 * front's workqueue (state changes, remove, suspend).
 */
#define NETACCEL_CTRL_BUDGET	64
#define NETACCEL_CTRL_BATCH	8

irqreturn_t netaccel_ctrl_interrupt(int irq, void *dev_id)
{
	struct netaccel_conn *conn = dev_id;
	struct netaccel_front *nf = conn->nf;

	if (!READ_ONCE(nf->removing))
		queue_work(nf->wq, &nf->ctrl_work);
	xen_irq_lateeoi(irq, 0);
	return IRQ_HANDLED;
}

int netaccel_ctrl_send_hello(struct netaccel_conn *conn)
{
	int err;

	spin_lock_bh(&conn->ctrl_lock);
	err = xna_front_send_hello(conn->core);
	spin_unlock_bh(&conn->ctrl_lock);
	if (!err)
		conn->hello_sent = true;
	return err;
}

/*
 * A VI the backend stopped: hand the frames it did not send to netfront,
 * reset the VI and ask the backend to restart it.  TX on the VI is
 * declined meanwhile (the core says the VI is down), RX is stopped.
 */
static void netaccel_vi_restart(struct netaccel_conn *conn,
				struct netaccel_vi *vi)
{
	struct xenbus_device *xbdev = conn->nf->xbdev;
	struct netaccel_resend rs;
	int err;

	if (vi->resets >= netaccel_vi_reset_limit) {
		if (vi->resets++ == netaccel_vi_reset_limit)
			dev_warn(&xbdev->dev,
				 "VI %u stopped %u times: leaving it down\n",
				 vi->index, vi->resets);
		netaccel_resend_init(&rs, conn->nf);
		spin_lock_bh(&vi->tx_lock);
		xna_front_vi_tx_unsent(vi->core, netaccel_unsent_to_skb, &rs);
		spin_unlock_bh(&vi->tx_lock);
		netaccel_resend(&rs);
		/* Packets held for it go to netfront now. */
		netaccel_tx_wake_vi(vi);
		return;
	}
	/* Twice in one batch (a backend that repeats itself): once is enough. */
	if (xna_front_vi_state(vi->core) != XNA_VI_DOWN)
		return;
	vi->resets++;

	netaccel_resend_init(&rs, conn->nf);
	napi_disable(&vi->napi);
	spin_lock_bh(&vi->tx_lock);
	spin_lock(&conn->ctrl_lock);
	err = xna_front_vi_reset(vi->core, netaccel_unsent_to_skb, &rs);
	spin_unlock(&conn->ctrl_lock);
	spin_unlock_bh(&vi->tx_lock);
	napi_enable(&vi->napi);
	if (err)
		dev_warn(&xbdev->dev, "VI %u: reset failed (%d)\n", vi->index,
			 err);
	netaccel_resend(&rs);
	/* The reset forgot any wait: packets held for the VI are declined. */
	netaccel_tx_wake_vi(vi);
}

static void netaccel_ctrl_handle(struct netaccel_conn *conn,
				 const struct xna_msg *msg)
{
	struct xenbus_device *xbdev = conn->nf->xbdev;
	struct netaccel_vi *vi;

	switch (msg->type) {
	case XNA_MSG_VI_DOWN:
		vi = &conn->vis[msg->u.vi.vi];
		dev_warn_ratelimited(&xbdev->dev,
				     "VI %u stopped by the backend (reason %u)\n",
				     vi->index, msg->u.vi.reason);
		netaccel_vi_restart(conn, vi);
		break;
	case XNA_MSG_VI_UP:
		/* Frames may have arrived before we looked: poll once. */
		vi = &conn->vis[msg->u.vi.vi];
		local_bh_disable();
		napi_schedule(&vi->napi);
		local_bh_enable();
		break;
	case XNA_MSG_LINK:
		dev_info(&xbdev->dev, "backend link %s, MTU %u\n",
			 msg->u.link.up ? "up" : "down", msg->u.link.mtu);
		break;
	case XNA_MSG_ERROR:
		dev_err(&xbdev->dev,
			"backend error %u (VI %d, detail %u): it disconnects\n",
			msg->u.error.code, (int)msg->u.error.vi,
			msg->u.error.detail);
		break;
	case 0:
		dev_warn_ratelimited(&xbdev->dev,
				     "malformed control message %u ignored\n",
				     msg->id);
		break;
	default:
		/* HELLO, LOCAL_MAC, FILTER: the core did it all */
		break;
	}
}

static void netaccel_ctrl_check_state(struct netaccel_conn *conn)
{
	struct netaccel_front *nf = conn->nf;
	struct xenbus_device *xbdev = nf->xbdev;
	u32 code, vi, detail;

	switch (xna_front_state(conn->core)) {
	case XNA_FRONT_READY:
		if (conn->connected)
			break;
		conn->active_vis = xna_front_num_vis(conn->core);
		conn->connected = true;
		nf->failures = 0;
		nf->nstats.connects++;
		xenbus_switch_state(xbdev, XenbusStateConnected);
		netaccel_attach(nf, conn);
		dev_info(&xbdev->dev,
			 "connected: %u VIs, rings %u/%u, %u pool pages, nic %s\n",
			 conn->active_vis, conn->layout.tx_entries,
			 conn->layout.rx_entries, conn->layout.pool_pages,
			 conn->bi.nic[0] ? conn->bi.nic : "?");
		break;
	case XNA_FRONT_FAILED:
		if (conn->failed_logged)
			break;
		conn->failed_logged = true;
		netaccel_detach(nf);
		nf->failures++;
		xna_front_last_error(conn->core, &code, &vi, &detail);
		xenbus_dev_fatal(xbdev, -EPROTO,
				 "connection failed: error %u VI %d detail %u",
				 code, (int)vi, detail);
		break;
	default:
		break;
	}
}

void netaccel_ctrl_work(struct work_struct *work)
{
	struct netaccel_front *nf = container_of(work, struct netaccel_front,
						 ctrl_work);
	struct netaccel_conn *conn = nf->conn;
	struct xna_msg msgs[NETACCEL_CTRL_BATCH];
	unsigned int budget, n, i;
	bool more = true;

	/* Suspended: the reattach after a cancelled suspend queues us again. */
	if (!conn || READ_ONCE(nf->removing) || READ_ONCE(nf->suspended))
		return;
	for (budget = NETACCEL_CTRL_BUDGET; more && budget;
	     budget -= NETACCEL_CTRL_BATCH) {
		/* The core applies them under the lock; we react without. */
		spin_lock_bh(&conn->ctrl_lock);
		n = xna_front_ctrl_poll(conn->core, msgs, NETACCEL_CTRL_BATCH, &more);
		spin_unlock_bh(&conn->ctrl_lock);
		for (i = 0; i < n; i++)
			netaccel_ctrl_handle(conn, &msgs[i]);
		cond_resched();
	}
	netaccel_ctrl_check_state(conn);
	/*
	 * Messages still waiting: later, from a fresh run, so that remove
	 * and suspend (which set ->removing or ->suspended, then flush the
	 * workqueue) never wait on a backend that keeps the FIFO full.  No
	 * event would come for them: they are there already.
	 */
	if (more && !READ_ONCE(nf->removing) && !READ_ONCE(nf->suspended))
		queue_work(nf->wq, &nf->ctrl_work);
}
