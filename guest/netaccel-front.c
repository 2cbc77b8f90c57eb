// SPDX-License-Identifier: GPL-2.0
/*
 * xen-netaccel: guest half of the xen-net-accel accelerated network path.
 *
 * A xenbus frontend for the "netaccel" device type.  The backend (QEMU's
 * xen-net-accel device) offers virtual interfaces (VIs) on a NIC; this
 * module pairs them with the guest's netfront interface: packets of the
 * flows the backend steers to a VI are sent and received through the VI,
 * everything else through netfront.  See docs/guest.md for what it does
 * to the guest and docs/specs/xen-net-accel.rst for the contract with
 * the backend.
 *
 * This file: module parameters, the xenbus driver and its XenbusState
 * machine.  Every state change runs on the front's ordered workqueue.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/delay.h>
#include <linux/interrupt.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <xen/xen.h>
#include <xen/xenbus.h>

#include "netaccel.h"

bool netaccel_enable = true;
module_param_named(enable, netaccel_enable, bool, 0644);
MODULE_PARM_DESC(enable,
		 "Offer packets to the accelerator (0: netfront sends everything; the VIs stay connected)");

bool netaccel_gso;
module_param_named(gso, netaccel_gso, bool, 0644);
MODULE_PARM_DESC(gso,
		 "Segment GSO packets of fast flows into the VI (0, default: netfront sends them whole, and their flows' other packets)");

bool netaccel_wire_macs = true;
module_param_named(wire_macs, netaccel_wire_macs, bool, 0644);
MODULE_PARM_DESC(wire_macs,
		 "Send TCP/UDP to hosts the backend saw on the NIC's side through a VI before their flow is learned (0: only learned flows); next connection");

unsigned int netaccel_num_vis;
module_param_named(num_vis, netaccel_num_vis, uint, 0644);
MODULE_PARM_DESC(num_vis,
		 "VIs per device, at most the backend's max-vis and 16 (0: one per TX queue of netfront); next connection");

unsigned int netaccel_tx_ring_entries = 256;
module_param_named(tx_ring_entries, netaccel_tx_ring_entries, uint, 0644);
MODULE_PARM_DESC(tx_ring_entries,
		 "TX ring entries per VI, rounded down to a power of two in 256..4096 and the backend's limit; next connection");

unsigned int netaccel_rx_ring_entries = 256;
module_param_named(rx_ring_entries, netaccel_rx_ring_entries, uint, 0644);
MODULE_PARM_DESC(rx_ring_entries,
		 "RX ring entries per VI, as tx_ring_entries; each entry owns a 2 KiB buffer");

unsigned int netaccel_max_flows = XNA_DEFAULT_MAX_FLOWS;
module_param_named(max_flows, netaccel_max_flows, uint, 0644);
MODULE_PARM_DESC(max_flows,
		 "Fast flows remembered per device (up to 65536); next connection");

unsigned int netaccel_vi_reset_limit = 16;
module_param_named(vi_reset_limit, netaccel_vi_reset_limit, uint, 0644);
MODULE_PARM_DESC(vi_reset_limit,
		 "Restarts of a VI stopped by the backend, per connection");

/* Connections in a row that failed before we stop trying. */
#define NETACCEL_MAX_FAILURES	3
/* How long an unloading module waits for the backend (ms). */
#define NETACCEL_CLOSE_TIMEOUT	2000

static int netaccel_read_key(const char *dir, const char *key, char *buf,
			     size_t len)
{
	char *val;
	ssize_t n;

	/* No directory: xenbus could not read the other end (resume). */
	if (!dir)
		return -ENOENT;
	val = xenbus_read(XBT_NIL, dir, key, NULL);
	if (IS_ERR(val))
		return PTR_ERR(val);
	n = strscpy(buf, val, len);
	kfree(val);
	return n < 0 ? -EINVAL : 0;
}

static int netaccel_read_backend_key(void *opaque, const char *key,
				     char *buf, size_t len)
{
	struct xenbus_device *xbdev = opaque;

	return netaccel_read_key(xbdev->otherend, key, buf, len);
}

static int netaccel_read_frontend_key(void *opaque, const char *key,
				      char *buf, size_t len)
{
	struct xenbus_device *xbdev = opaque;

	return netaccel_read_key(xbdev->nodename, key, buf, len);
}

/*
 * Ends the connection: the hook stops offering packets to it, frames the
 * backend did not send go to netfront, everything is freed.  @graceful
 * (module unload): give the live backend time to send what it has, and
 * to unmap, first.
 */
static void netaccel_teardown(struct netaccel_front *nf, bool graceful)
{
	struct netaccel_conn *conn = nf->conn;
	struct xenbus_device *xbdev = nf->xbdev;
	struct netaccel_resend rs;
	unsigned int n, t, resent;

	if (!conn)
		return;
	netaccel_detach(nf);

	if (graceful) {
		if (conn->connected)
			netaccel_tx_quiesce(conn, 100);
		xenbus_switch_state(xbdev, XenbusStateClosing);
		for (t = 0; t < NETACCEL_CLOSE_TIMEOUT; t += 20) {
			enum xenbus_state s =
				xenbus_read_driver_state(xbdev->otherend);

			if (s == XenbusStateClosed || s == XenbusStateUnknown ||
			    s == XenbusStateInitialising)
				break;
			msleep(20);
		}
	}

	netaccel_conn_stop_irqs(conn);
	netaccel_resend_init(&rs, nf);
	for (n = 0; n < conn->num_vis; n++) {
		struct netaccel_vi *vi = &conn->vis[n];

		spin_lock_bh(&vi->tx_lock);
		xna_front_vi_tx_unsent(vi->core, netaccel_unsent_to_skb, &rs);
		spin_unlock_bh(&vi->tx_lock);
	}
	resent = netaccel_resend(&rs);

	if (conn->connected)
		nf->nstats.disconnects++;
	netaccel_stats_set_conn(nf, NULL);
	nf->conn = NULL;
	netaccel_conn_destroy(conn);
	if (resent)
		dev_info(&xbdev->dev,
			 "disconnected; %u frames the backend had not sent went through netfront\n",
			 resent);
	else
		dev_info(&xbdev->dev, "disconnected\n");
}

static void netaccel_fail(struct netaccel_front *nf, int err, const char *what)
{
	nf->failures++;
	nf->nstats.setup_errors++;
	xenbus_dev_fatal(nf->xbdev, err, "%s", what);
}

/* The backend is waiting for our keys (first time, or restarted). */
static void netaccel_backend_initwait(struct netaccel_front *nf)
{
	struct xenbus_device *xbdev = nf->xbdev;
	struct xna_backend_info bi;
	struct netaccel_conn *conn;
	int err;

	err = xna_backend_info_parse(&bi, netaccel_read_backend_key, xbdev);
	if (err) {
		netaccel_fail(nf, err, "reading the backend keys");
		return;
	}
	if (nf->conn) {
		if (nf->conn->bi.generation == bi.generation)
			return;		/* the backend we are set up for */
		dev_info(&xbdev->dev,
			 "backend restarted (generation %llu, was %llu)\n",
			 (unsigned long long)bi.generation,
			 (unsigned long long)nf->conn->bi.generation);
		netaccel_teardown(nf, false);
	}
	if (nf->gave_up || nf->xdp_paused)
		return;

	netaccel_set_pairing(nf, &bi);
	err = netaccel_conn_create(nf, &bi, &conn);
	if (err) {
		netaccel_fail(nf, err, "setting up shared memory");
		return;
	}
	nf->conn = conn;
	netaccel_stats_set_conn(nf, conn);
	err = netaccel_conn_write_keys(conn);
	if (err) {
		netaccel_teardown(nf, false);
		netaccel_fail(nf, err, "writing the frontend keys");
		return;
	}
	xenbus_switch_state(xbdev, XenbusStateInitialised);
}

/* The backend mapped everything: say HELLO. */
static void netaccel_backend_connected(struct netaccel_front *nf)
{
	struct netaccel_conn *conn = nf->conn;
	int err;

	if (!conn || conn->hello_sent ||
	    nf->xbdev->state != XenbusStateInitialised)
		return;
	err = netaccel_ctrl_send_hello(conn);
	if (err) {
		netaccel_fail(nf, err, "sending HELLO");
		return;
	}
	queue_work(nf->wq, &nf->ctrl_work);
}

static void netaccel_state_work(struct work_struct *work)
{
	struct netaccel_front *nf = container_of(work, struct netaccel_front,
						 state_work);
	struct xenbus_device *xbdev = nf->xbdev;
	enum xenbus_state bstate;

	/* Suspended: the resume or the reattach queues us again. */
	if (READ_ONCE(nf->removing) || READ_ONCE(nf->suspended))
		return;
	/* A resume that could not read the other end left us none. */
	if (!xbdev->otherend)
		return;
	bstate = xenbus_read_driver_state(xbdev->otherend);
	dev_dbg(&xbdev->dev, "backend %s, frontend %s\n",
		xenbus_strstate(bstate), xenbus_strstate(xbdev->state));

	switch (bstate) {
	case XenbusStateInitWait:
		netaccel_backend_initwait(nf);
		break;
	case XenbusStateConnected:
		netaccel_backend_connected(nf);
		break;
	case XenbusStateClosing:
		netaccel_teardown(nf, false);
		if (xbdev->state != XenbusStateClosed)
			xenbus_frontend_closed(xbdev);
		break;
	case XenbusStateClosed:
		netaccel_teardown(nf, false);
		if (nf->failures >= NETACCEL_MAX_FAILURES) {
			if (!nf->gave_up)
				dev_err(&xbdev->dev,
					"%u failed connections in a row: giving up until the module is reloaded\n",
					nf->failures);
			nf->gave_up = true;
			if (xbdev->state != XenbusStateClosed)
				xenbus_frontend_closed(xbdev);
			break;
		}
		/* Ready for the backend's next InitWait. */
		if (xbdev->state != XenbusStateInitialising)
			xenbus_switch_state(xbdev, XenbusStateInitialising);
		break;
	case XenbusStateUnknown:
		/* The backend directory is gone (device removed). */
		netaccel_teardown(nf, false);
		break;
	default:
		break;
	}
}

/*
 * An XDP program on netfront's device sees only what netfront receives:
 * what the backend steers to our VIs would bypass it (a firewall, say).
 * While one is attached there is no connection: the backend, told we
 * close, removes the guest's filters, and every frame comes through
 * netfront.  The front then waits at Initialising (the backend in
 * InitWait) until the program is gone.  XDP attach has no notifier:
 * looked at every second, and at once when a frame comes in over a VI
 * (which is dropped: netaccel-rx.c).
 */
#define NETACCEL_XDP_CHECK	HZ

static void netaccel_xdp_work(struct work_struct *work)
{
	struct netaccel_front *nf = container_of(to_delayed_work(work),
						 struct netaccel_front,
						 xdp_work);
	struct xenbus_device *xbdev = nf->xbdev;
	char name[IFNAMSIZ] = "";
	bool xdp;

	if (READ_ONCE(nf->removing))
		return;
	rtnl_lock();
	xdp = nf->netdev && dev_xdp_prog_count(nf->netdev);
	if (nf->netdev)
		strscpy(name, nf->netdev->name, sizeof(name));
	rtnl_unlock();

	if (xdp && !nf->xdp_paused && !READ_ONCE(nf->suspended)) {
		WRITE_ONCE(nf->xdp_paused, true);
		nf->nstats.xdp_pauses++;
		dev_info(&xbdev->dev,
			 "XDP program on %s: not accelerating while it is attached (it must see every frame received)\n",
			 name);
		/*
		 * As an unload does: the live backend sends what the VIs hold
		 * first, then closes; nothing goes out twice.
		 */
		netaccel_teardown(nf, true);
		if (xbdev->state != XenbusStateClosing &&
		    xbdev->state != XenbusStateClosed)
			xenbus_switch_state(xbdev, XenbusStateClosing);
	} else if (!xdp && nf->xdp_paused) {
		WRITE_ONCE(nf->xdp_paused, false);
		dev_info(&xbdev->dev,
			 "no XDP program on %s any more: accelerating again\n",
			 name);
		queue_work(nf->wq, &nf->state_work);
	}
	queue_delayed_work(nf->wq, &nf->xdp_work, NETACCEL_XDP_CHECK);
}

/* From a VI's NAPI poll, under rcu_read_lock() (see netaccel_remove()). */
void netaccel_xdp_check_now(struct netaccel_front *nf)
{
	if (!READ_ONCE(nf->removing))
		mod_delayed_work(nf->wq, &nf->xdp_work, 0);
}

/*
 * After a restore (or migration): the old backend and our grants and
 * event channels are gone.  Drop the connection without a word to the
 * old backend (the frames it had not consumed go to netfront, again if
 * the suspend handed them over already: a duplicate rather than a loss)
 * and start afresh: nothing of the old connection (its rings, its raw
 * event channel ports, which may now be another device's) is used
 * again.  A new backend waits in InitWait; one that still holds a
 * connection with us (it is not the new host's) is asked to close
 * first, so that it comes back to InitWait with a new generation.
 */
static void netaccel_restart_after_resume(struct netaccel_front *nf)
{
	struct xenbus_device *xbdev = nf->xbdev;
	enum xenbus_state bstate;

	WRITE_ONCE(nf->suspended, false);
	netaccel_teardown(nf, false);
	nf->failures = 0;
	nf->gave_up = false;
	if (!xbdev->otherend) {
		dev_err(&xbdev->dev,
			"resume: xenbus found no backend; unbind and bind the device once it is back\n");
		return;
	}
	bstate = xenbus_read_driver_state(xbdev->otherend);
	if (bstate == XenbusStateInitialised || bstate == XenbusStateConnected)
		xenbus_switch_state(xbdev, XenbusStateClosing);
	queue_work(nf->wq, &nf->state_work);
}

static void netaccel_resume_work(struct work_struct *work)
{
	struct netaccel_front *nf = container_of(work, struct netaccel_front,
						 resume_work);

	if (READ_ONCE(nf->removing))
		return;
	if (nf->conn)
		dev_info(&nf->xbdev->dev,
			 "resumed: dropping the connection to the old backend\n");
	netaccel_restart_after_resume(nf);
}

/*
 * Runs on the front's workqueue once the system is thawed after a
 * suspend.  If no resume came (nf->suspended is still set: resume_work,
 * queued earlier on the same ordered workqueue, clears it), the suspend
 * was either cancelled (checkpoint, or a failed suspend: the domain kept
 * its backend, our grants and event channels, and the paused connection
 * carries on where it was) or the domain did move but its resume failed
 * (xenbus calls .resume only after it could read the other end).  Only
 * the generation in both xenstore directories tells them apart: a new
 * host means a new backend (a new random generation) and a new frontend
 * directory.  Anything else than the same generation: start afresh.
 */
static void netaccel_reattach_work(struct work_struct *work)
{
	struct netaccel_front *nf = container_of(work, struct netaccel_front,
						 reattach_work);
	struct netaccel_conn *conn = nf->conn;
	struct xenbus_device *xbdev = nf->xbdev;

	if (READ_ONCE(nf->removing) || !READ_ONCE(nf->suspended))
		return;
	if (conn && !xna_backend_unchanged(conn->bi.generation,
					   netaccel_read_backend_key, xbdev,
					   netaccel_read_frontend_key, xbdev)) {
		dev_warn(&xbdev->dev,
			 "thawed without a resume, but the backend is not the one we were connected to (failed resume?): dropping the old connection\n");
		netaccel_restart_after_resume(nf);
		return;
	}
	WRITE_ONCE(nf->suspended, false);
	if (conn) {
		netaccel_conn_unpause(conn);
		if (conn->connected && !conn->failed_logged)
			netaccel_attach(nf, conn);
		dev_info(&nf->xbdev->dev,
			 "suspend cancelled: %s the same backend\n",
			 conn->connected ? "reattached to" : "setting up with");
	}
	/* Messages and backend state changes we ignored while suspended. */
	queue_work(nf->wq, &nf->ctrl_work);
	queue_work(nf->wq, &nf->state_work);
}

/*
 * On system_freezable_wq, queued by .suspend while the freezer holds
 * that workqueue: it runs only after thaw_processes(), which Xen's
 * do_suspend() calls after dpm_resume_end(), i.e. after our .resume if
 * there was one.  Linux gives a driver no callback for a cancelled
 * suspend (thaw is xenbus_dev_cancel(), which does nothing): this is it.
 */
static void netaccel_thaw_work(struct work_struct *work)
{
	struct netaccel_front *nf = container_of(work, struct netaccel_front,
						 thaw_work);

	if (!READ_ONCE(nf->removing))
		queue_work(nf->wq, &nf->reattach_work);
}

static void netaccel_backend_changed(struct xenbus_device *xbdev,
				     enum xenbus_state backend_state)
{
	struct netaccel_front *nf = dev_get_drvdata(&xbdev->dev);

	if (nf && !READ_ONCE(nf->removing))
		queue_work(nf->wq, &nf->state_work);
}

static int netaccel_probe(struct xenbus_device *xbdev,
			  const struct xenbus_device_id *id)
{
	struct netaccel_front *nf;

	nf = kzalloc(sizeof(*nf), GFP_KERNEL);
	if (!nf)
		return -ENOMEM;
	nf->xbdev = xbdev;
	INIT_LIST_HEAD(&nf->list);
	INIT_WORK(&nf->state_work, netaccel_state_work);
	INIT_WORK(&nf->ctrl_work, netaccel_ctrl_work);
	INIT_WORK(&nf->resume_work, netaccel_resume_work);
	INIT_WORK(&nf->thaw_work, netaccel_thaw_work);
	INIT_WORK(&nf->reattach_work, netaccel_reattach_work);
	INIT_DELAYED_WORK(&nf->xdp_work, netaccel_xdp_work);
	spin_lock_init(&nf->stats_lock);
	seqcount_spinlock_init(&nf->stats_seq, &nf->stats_lock);
	nf->pair_vif = -1;
	nf->wq = alloc_ordered_workqueue("netaccel-%s", 0,
					 dev_name(&xbdev->dev));
	if (!nf->wq) {
		kfree(nf);
		return -ENOMEM;
	}
	dev_set_drvdata(&xbdev->dev, nf);
	rtnl_lock();
	list_add_tail(&nf->list, &netaccel_fronts);
	rtnl_unlock();

	/*
	 * A reloaded module finds its node Closed (we left it so): announce
	 * Initialising again, so that the backend offers a new generation.
	 */
	if (xenbus_read_driver_state(xbdev->nodename) !=
	    XenbusStateInitialising)
		xenbus_printf(XBT_NIL, xbdev->nodename, "state", "%d",
			      XenbusStateInitialising);
	queue_delayed_work(nf->wq, &nf->xdp_work, NETACCEL_XDP_CHECK);
	dev_info(&xbdev->dev, "probed, backend %s\n", xbdev->otherend);
	return 0;
}

static void netaccel_remove(struct xenbus_device *xbdev)
{
	struct netaccel_front *nf = dev_get_drvdata(&xbdev->dev);

	WRITE_ONCE(nf->removing, true);
	/*
	 * A VI's NAPI poll (an RCU reader) that saw ->removing unset may
	 * still queue xdp_work: wait for it, then nobody queues it again.
	 */
	synchronize_rcu();
	cancel_work_sync(&nf->thaw_work);
	cancel_delayed_work_sync(&nf->xdp_work);
	/*
	 * Running work items finish, queued ones see ->removing; so does
	 * every control interrupt after synchronize_irq(): nothing queues
	 * work on the workqueue once it is being destroyed.
	 */
	flush_workqueue(nf->wq);
	if (nf->conn && nf->conn->ctrl_irq >= 0)
		synchronize_irq(nf->conn->ctrl_irq);
	destroy_workqueue(nf->wq);
	netaccel_teardown(nf, true);
	netaccel_unpair(nf);
	rtnl_lock();
	list_del(&nf->list);
	rtnl_unlock();
	dev_set_drvdata(&xbdev->dev, NULL);
	kfree(nf);
}

/*
 * Save/restore, migration, checkpoint.  The suspend detaches: the hook
 * stops offering packets (netaccel_detach() waits for every xmit that
 * saw the connection), the still-running backend gets 100 ms to send
 * what is in the TX rings, interrupts and NAPI stop, and copies of the
 * frames it has still not consumed go to netfront.  The rings are left
 * intact (xna_front_vi_tx_pending): whether the suspend completes is unknown
 * here.  From then on nothing touches the VIs until either
 *
 * - .resume (a restore: new backend, our grants meaningless):
 *   resume_work drops the connection and a new one starts; or
 * - the thaw with no resume (a cancelled suspend: same backend, same
 *   grants): reattach_work unpauses the connection and attaches it
 *   again.  A frame handed to netfront that the backend then consumes
 *   after all goes out twice; 100 ms makes that rare.
 */
static void netaccel_suspend_conn(struct netaccel_front *nf)
{
	struct netaccel_conn *conn = nf->conn;
	struct netaccel_resend rs;
	unsigned int n, resent;

	netaccel_detach(nf);
	if (conn->connected)
		netaccel_tx_quiesce(conn, 100);
	netaccel_conn_pause(conn);
	netaccel_resend_init(&rs, nf);
	for (n = 0; n < conn->num_vis; n++) {
		struct netaccel_vi *vi = &conn->vis[n];

		spin_lock_bh(&vi->tx_lock);
		xna_front_vi_tx_pending(vi->core, netaccel_unsent_to_skb, &rs);
		spin_unlock_bh(&vi->tx_lock);
	}
	resent = netaccel_resend(&rs);
	dev_info(&nf->xbdev->dev,
		 "suspending: detached; %u frames the backend had not sent went through netfront\n",
		 resent);
}

static int netaccel_suspend(struct xenbus_device *xbdev)
{
	struct netaccel_front *nf = dev_get_drvdata(&xbdev->dev);

	WRITE_ONCE(nf->suspended, true);
	/*
	 * The state machine is idle after this: running items finish,
	 * queued ones see ->suspended.  (Our workqueue is not freezable, so
	 * this cannot wait for a frozen item.)
	 */
	flush_workqueue(nf->wq);
	if (nf->conn)
		netaccel_suspend_conn(nf);
	queue_work(system_freezable_wq, &nf->thaw_work);
	return 0;
}

static int netaccel_resume(struct xenbus_device *xbdev)
{
	struct netaccel_front *nf = dev_get_drvdata(&xbdev->dev);

	dev_dbg(&xbdev->dev, "resume\n");
	queue_work(nf->wq, &nf->resume_work);
	return 0;
}

static const struct xenbus_device_id netaccel_ids[] = {
	{ XNA_XS_DEVICE_TYPE },
	{ "" }
};

static struct xenbus_driver netaccel_driver = {
	.ids = netaccel_ids,
	.probe = netaccel_probe,
	.remove = netaccel_remove,
	.otherend_changed = netaccel_backend_changed,
	.suspend = netaccel_suspend,
	.resume = netaccel_resume,
	.not_essential = true,
	.driver = {
		.dev_groups = netaccel_dev_groups,
	},
};

static int __init netaccel_init(void)
{
	int err;

	if (!xen_domain())
		return -ENODEV;
	if (PAGE_SIZE != XNA_PAGE_SIZE) {
		pr_err("needs 4 KiB pages\n");
		return -ENODEV;
	}
	err = netaccel_stats_init();
	if (err)
		return err;
	err = netaccel_pair_init();
	if (err)
		goto out_stats;
	err = xenbus_register_frontend(&netaccel_driver);
	if (err)
		goto out_pair;
	return 0;

out_pair:
	netaccel_pair_exit();
out_stats:
	netaccel_stats_exit();
	return err;
}
module_init(netaccel_init);

static void __exit netaccel_exit(void)
{
	xenbus_unregister_driver(&netaccel_driver);
	netaccel_pair_exit();
	netaccel_stats_exit();
}
module_exit(netaccel_exit);

MODULE_DESCRIPTION("Xen accelerated network path (xen-net-accel) frontend");
MODULE_LICENSE("GPL");
MODULE_ALIAS("xen:" XNA_XS_DEVICE_TYPE);
