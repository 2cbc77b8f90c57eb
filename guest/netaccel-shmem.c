// SPDX-License-Identifier: GPL-2.0
/*
 * xen-netaccel: shared memory of a connection.  Allocates the pages the
 * frontend core's layout asks for, grants each one to the backend's
 * domain, allocates and binds the event channels, creates the core on
 * them, writes the frontend keys, and undoes all of it.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/cpumask.h>
#include <linux/interrupt.h>
#include <linux/netdevice.h>
#include <linux/version.h>
#include <xen/xen.h>
#include <xen/xenbus.h>
#include <xen/grant_table.h>
#include <xen/events.h>
#include <xen/page.h>

#include "netaccel.h"

static void netaccel_notify(void *opaque, u32 port)
{
	notify_remote_via_evtchn(port);
}

static const struct xna_front_ops netaccel_core_ops = {
	.notify = netaccel_notify,
};

static int netaccel_alloc_pages(struct netaccel_conn *conn, domid_t domid)
{
	unsigned int n = conn->layout.total_pages;

	conn->pages = kvcalloc(n, sizeof(*conn->pages), GFP_KERNEL);
	conn->va = kvcalloc(n, sizeof(*conn->va), GFP_KERNEL);
	conn->refs = kvcalloc(n, sizeof(*conn->refs), GFP_KERNEL);
	if (!conn->pages || !conn->va || !conn->refs)
		return -ENOMEM;

	for (; conn->nr_pages < n; conn->nr_pages++) {
		struct page *page = alloc_page(GFP_KERNEL | __GFP_ZERO);

		if (!page)
			return -ENOMEM;
		conn->pages[conn->nr_pages] = page;
		conn->va[conn->nr_pages] = page_address(page);
		cond_resched();
	}
	for (; conn->nr_granted < n; conn->nr_granted++) {
		int ref = gnttab_grant_foreign_access(domid,
			xen_page_to_gfn(conn->pages[conn->nr_granted]), 0);

		if (ref < 0)
			return ref;
		conn->refs[conn->nr_granted] = ref;
	}
	return 0;
}

static void netaccel_free_pages(struct netaccel_conn *conn)
{
	unsigned int i;

	/*
	 * A page the backend still maps is freed by the grant table code
	 * once it is unmapped; we must not free or reuse it ourselves.
	 */
	for (i = 0; i < conn->nr_pages; i++) {
		if (i < conn->nr_granted)
			gnttab_end_foreign_access(conn->refs[i], conn->pages[i]);
		else
			__free_page(conn->pages[i]);
		if (!(i % 1024))
			cond_resched();
	}
	conn->nr_pages = 0;
	conn->nr_granted = 0;
	kvfree(conn->pages);
	kvfree(conn->va);
	kvfree(conn->refs);
	conn->pages = NULL;
	conn->va = NULL;
	conn->refs = NULL;
}

static struct net_device *netaccel_alloc_napi_dev(void)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
	return alloc_netdev_dummy(0);
#else
	struct net_device *dev = kzalloc(sizeof(*dev), GFP_KERNEL);

	if (dev)
		init_dummy_netdev(dev);
	return dev;
#endif
}

static void netaccel_free_napi_dev(struct net_device *dev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
	free_netdev(dev);
#else
	kfree(dev);
#endif
}

static int netaccel_bind_irqs(struct netaccel_conn *conn)
{
	struct xenbus_device *xbdev = conn->nf->xbdev;
	unsigned int n;
	int irq;

	snprintf(conn->ctrl_irq_name, sizeof(conn->ctrl_irq_name),
		 "%s-ctrl", dev_name(&xbdev->dev));
	irq = bind_evtchn_to_irqhandler_lateeoi(conn->ctrl_port,
						netaccel_ctrl_interrupt, 0,
						conn->ctrl_irq_name, conn);
	if (irq < 0)
		return irq;
	conn->ctrl_irq = irq;

	for (n = 0; n < conn->num_vis; n++) {
		struct netaccel_vi *vi = &conn->vis[n];

		snprintf(vi->irq_name, sizeof(vi->irq_name), "%s-vi%u",
			 dev_name(&xbdev->dev), n);
		irq = bind_evtchn_to_irqhandler_lateeoi(vi->port,
							netaccel_vi_interrupt,
							0, vi->irq_name, vi);
		if (irq < 0)
			return irq;
		vi->irq = irq;
	}
	return 0;
}

void netaccel_conn_stop_irqs(struct netaccel_conn *conn)
{
	struct xenbus_device *xbdev = conn->nf->xbdev;
	unsigned int n;

	/* Unbinding closes the port; an unbound port is freed here. */
	if (conn->ctrl_irq >= 0)
		unbind_from_irqhandler(conn->ctrl_irq, conn);
	else if (conn->ctrl_port)
		xenbus_free_evtchn(xbdev, conn->ctrl_port);
	conn->ctrl_irq = -1;
	conn->ctrl_port = 0;

	for (n = 0; n < conn->num_vis; n++) {
		struct netaccel_vi *vi = &conn->vis[n];

		if (vi->irq >= 0)
			unbind_from_irqhandler(vi->irq, vi);
		else if (vi->port)
			xenbus_free_evtchn(xbdev, vi->port);
		vi->irq = -1;
		vi->port = 0;
	}
	/*
	 * No interrupt schedules a NAPI any more: stop them (a paused
	 * connection's are stopped already, and napi_disable() would wait
	 * forever for a NAPI it disabled itself).  No stall timer either
	 * (the xmit path that arms it is detached).
	 */
	for (n = 0; n < conn->num_vis; n++) {
		struct netaccel_vi *vi = &conn->vis[n];

		del_timer_sync(&vi->stall_timer);
		if (vi->napi_added) {
			if (!conn->paused)
				napi_disable(&vi->napi);
			netif_napi_del(&vi->napi);
			vi->napi_added = false;
		}
	}
}

/*
 * Suspend: from here on no interrupt and no NAPI poll touches the shared
 * pages, until netaccel_conn_unpause() (the suspend was cancelled) or
 * the teardown (a restore: the ports and grants are the old domain's).
 * The event channels are masked, not closed: the backend of a cancelled
 * suspend still uses them.
 */
void netaccel_conn_pause(struct netaccel_conn *conn)
{
	unsigned int n;

	if (conn->paused)
		return;
	if (conn->ctrl_irq >= 0)
		disable_irq(conn->ctrl_irq);
	for (n = 0; n < conn->num_vis; n++) {
		struct netaccel_vi *vi = &conn->vis[n];

		if (vi->irq >= 0)
			disable_irq(vi->irq);
		if (vi->napi_added)
			napi_disable(&vi->napi);
		del_timer_sync(&vi->stall_timer);
	}
	conn->paused = true;
}

/* A cancelled suspend: the same backend, the same rings, carry on. */
void netaccel_conn_unpause(struct netaccel_conn *conn)
{
	unsigned int n;

	if (!conn->paused)
		return;
	conn->paused = false;
	for (n = 0; n < conn->num_vis; n++) {
		struct netaccel_vi *vi = &conn->vis[n];

		if (vi->napi_added)
			napi_enable(&vi->napi);
		if (vi->irq >= 0)
			enable_irq(vi->irq);
	}
	if (conn->ctrl_irq >= 0)
		enable_irq(conn->ctrl_irq);
	/*
	 * Unmasking redelivers a pending event, but a frame that came while
	 * we were paused is found sooner by polling once.
	 */
	local_bh_disable();
	for (n = 0; n < conn->num_vis; n++)
		if (conn->vis[n].napi_added)
			napi_schedule(&conn->vis[n].napi);
	local_bh_enable();
}

int netaccel_conn_create(struct netaccel_front *nf,
			 const struct xna_backend_info *bi,
			 struct netaccel_conn **out)
{
	struct xenbus_device *xbdev = nf->xbdev;
	struct xna_front_config cfg = { };
	u32 vi_ports[XNA_MAX_VIS];
	struct netaccel_conn *conn;
	unsigned int want_vis, n;
	int err;

	*out = NULL;
	conn = kzalloc(sizeof(*conn), GFP_KERNEL);
	if (!conn)
		return -ENOMEM;
	conn->nf = nf;
	conn->bi = *bi;
	conn->ctrl_irq = -1;
	spin_lock_init(&conn->ctrl_lock);
	for (n = 0; n < XNA_MAX_VIS; n++) {
		conn->vis[n].irq = -1;
		conn->vis[n].conn = conn;
		conn->vis[n].index = n;
		spin_lock_init(&conn->vis[n].tx_lock);
		timer_setup(&conn->vis[n].stall_timer, netaccel_tx_stall_timer,
			    0);
		conn->vis[n].tx_progress = jiffies;
	}

	want_vis = netaccel_num_vis ? netaccel_num_vis : netaccel_default_vis(nf);
	err = xna_layout_choose(&conn->layout, bi, want_vis,
				netaccel_tx_ring_entries,
				netaccel_rx_ring_entries);
	if (err) {
		dev_err(&xbdev->dev, "no layout fits max-pool-pages %u\n",
			bi->max_pool_pages);
		goto fail;
	}
	conn->num_vis = conn->layout.num_vis;

	err = netaccel_alloc_pages(conn, xbdev->otherend_id);
	if (err) {
		dev_err(&xbdev->dev,
			"%u shared pages for %u VIs: %s (%d); try fewer VIs or smaller rings\n",
			conn->layout.total_pages, conn->num_vis,
			err == -ENOMEM ? "out of memory" : "grant failed", err);
		goto fail;
	}

	err = xenbus_alloc_evtchn(xbdev, &conn->ctrl_port);
	if (err)
		goto fail;
	for (n = 0; n < conn->num_vis; n++) {
		err = xenbus_alloc_evtchn(xbdev, &conn->vis[n].port);
		if (err)
			goto fail;
		vi_ports[n] = conn->vis[n].port;
	}

	cfg.layout = &conn->layout;
	cfg.pages = conn->va;
	cfg.refs = conn->refs;
	cfg.ctrl_port = conn->ctrl_port;
	cfg.vi_ports = vi_ports;
	cfg.backend = bi;
	cfg.max_flows = netaccel_max_flows;
	cfg.wire_macs = READ_ONCE(netaccel_wire_macs);
	cfg.ops = &netaccel_core_ops;
	cfg.opaque = conn;
	err = xna_front_create(&cfg, &conn->core);
	if (err)
		goto fail;
	for (n = 0; n < conn->num_vis; n++)
		conn->vis[n].core = xna_front_vi(conn->core, n);

	conn->napi_dev = netaccel_alloc_napi_dev();
	if (!conn->napi_dev) {
		err = -ENOMEM;
		goto fail;
	}
	for (n = 0; n < conn->num_vis; n++) {
		netif_napi_add(conn->napi_dev, &conn->vis[n].napi,
			       netaccel_napi_poll);
		conn->vis[n].napi_added = true;
		napi_enable(&conn->vis[n].napi);
	}

	err = netaccel_bind_irqs(conn);
	if (err)
		goto fail;

	*out = conn;
	return 0;

fail:
	netaccel_conn_destroy(conn);
	return err;
}

void netaccel_conn_destroy(struct netaccel_conn *conn)
{
	if (!conn)
		return;
	netaccel_conn_stop_irqs(conn);
	if (conn->napi_dev)
		netaccel_free_napi_dev(conn->napi_dev);
	xna_front_destroy(conn->core);
	netaccel_free_pages(conn);
	kfree(conn);
}

struct netaccel_key_writer {
	struct xenbus_transaction xbt;
	const char *dir;
};

static int netaccel_write_key(void *opaque, const char *key,
			      const char *value)
{
	struct netaccel_key_writer *w = opaque;

	return xenbus_write(w->xbt, w->dir, key, value);
}

/*
 * Writes the frontend keys (xna_front_write_keys) in one transaction
 * with the generation of the backend we set up for.
 */
int netaccel_conn_write_keys(struct netaccel_conn *conn)
{
	struct xenbus_device *xbdev = conn->nf->xbdev;
	struct netaccel_key_writer w = { .dir = xbdev->nodename };
	int err;

again:
	err = xenbus_transaction_start(&w.xbt);
	if (err)
		return err;
	err = xna_front_write_keys(conn->core, conn->bi.generation,
				   netaccel_write_key, &w);
	if (err) {
		xenbus_transaction_end(w.xbt, 1);
		return err;
	}
	err = xenbus_transaction_end(w.xbt, 0);
	if (err == -EAGAIN)
		goto again;
	return err;
}
