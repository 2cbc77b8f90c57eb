/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xen-netaccel: guest half of the xen-net-accel accelerated network path.
 * Declarations shared by the module's files; see docs/guest.md.
 *
 * Objects and their lifetimes:
 *
 * - struct netaccel_front: one per xenbus "netaccel" device, from probe
 *   to remove.  Owns an ordered workqueue on which the XenbusState
 *   machine (state_work) and the control channel (ctrl_work) run, so the
 *   two never race.
 * - struct netaccel_conn: one connection to one backend instance (one
 *   "generation"): shared pages and their grants, event channels, the
 *   frontend core, the VIs with their NAPI contexts.  Created on the
 *   backend's InitWait, destroyed on its Closing/Closed, on a backend
 *   restart, on resume and on remove.  Paused (detached, interrupts
 *   and NAPI off) from suspend to the thaw of a cancelled suspend.
 * - struct netaccel_hook: the TX hook on netfront's net_device, from
 *   pairing (netfront found) to unpairing (netfront gone, or remove).  It
 *   offers packets to the connection hook->conn when that is set (the
 *   connection is up): connections come and go under one hook.
 *
 * Locking:
 *
 * - rtnl_lock: the list of fronts, pairing (nf->netdev, nf->hook,
 *   nf->rx_dev), and attaching a connection to the hook (hook->conn,
 *   nf->live).  Readers on the data path use RCU (the xmit path runs
 *   under rcu_read_lock_bh, NAPI in softirq).
 * - vi->tx_lock (BH): TX on one VI (the core's xna_tx_* functions).
 *   Taken inside netfront's TX queue lock by the xmit path, never the
 *   other way round: waking a queue (netaccel_tx_wake) takes only the
 *   queue's lock.
 * - netdev TX queue lock: nf->txq_stopped bits are set (with the queue
 *   stopped) and cleared (with the queue woken) under it.
 * - NAPI: RX on one VI (xna_rx_*).
 * - conn->ctrl_lock (BH): the core's control functions; taken inside
 *   vi->tx_lock by a VI reset.
 * - nf->stats_lock + nf->stats_seq: folding a finished connection's
 *   counters into nf->totals, against lockless readers.
 */

#ifndef NETACCEL_H
#define NETACCEL_H

#include <linux/types.h>
#include <linux/netdevice.h>
#include <linux/ethtool.h>
#include <linux/workqueue.h>
#include <linux/timer.h>
#include <linux/bitmap.h>
#include <linux/seqlock.h>
#include <xen/xenbus.h>
#include <xen/interface/event_channel.h>

#include "xna-front.h"

struct netaccel_front;
struct netaccel_conn;

/* Kernel-side counters of a VI (the core keeps the rest). */
struct netaccel_vi_kstats {
	u64 rx_no_netdev;	/* no paired netfront, or it is down */
	u64 rx_nomem;
	u64 rx_csum_bad;	/* CSUM_PARTIAL frame without good headers */
	u64 rx_xdp_dropped;	/* came while an XDP program was on netfront */
	u64 tx_gso_packets;	/* GSO packets segmented into the VI */
	u64 tx_gso_segments;
	u64 tx_gso_fallback;	/* segments sent through netfront instead */
};

/* Counters of the front itself (never reset while the device exists). */
struct netaccel_nf_stats {
	u64 connects;		/* connections that reached Connected */
	u64 disconnects;
	u64 tx_resent;		/* unsent VI frames sent through netfront */
	u64 tx_resend_lost;	/* ... that could not be (no memory, no dev) */
	u64 setup_errors;
	u64 xdp_pauses;		/* an XDP program on netfront stopped us */
};

struct netaccel_vi {
	struct netaccel_conn *conn;
	struct xna_vi *core;
	unsigned int index;
	spinlock_t tx_lock;
	struct napi_struct napi;
	bool napi_added;
	evtchn_port_t port;
	int irq;
	unsigned int resets;
	/* back-pressure: a BUSY wait that lasts too long (tx_lock) */
	struct timer_list stall_timer;
	unsigned long busy_since;	/* jiffies */
	unsigned long tx_progress;	/* jiffies: nothing waited, or consumed */
	struct netaccel_vi_kstats kstats;
	char irq_name[40];
} ____cacheline_aligned_in_smp;

struct netaccel_conn {
	struct netaccel_front *nf;
	struct xna_backend_info bi;
	struct xna_layout layout;
	struct xna_front *core;

	/* layout.total_pages pages, their addresses and grant refs */
	struct page **pages;
	void **va;
	u32 *refs;
	unsigned int nr_pages;		/* allocated so far */
	unsigned int nr_granted;	/* granted so far */

	evtchn_port_t ctrl_port;
	int ctrl_irq;
	char ctrl_irq_name[40];
	spinlock_t ctrl_lock;

	struct net_device *napi_dev;	/* dummy netdev for the NAPIs */
	unsigned int num_vis;		/* set up (layout.num_vis) */
	unsigned int active_vis;	/* accepted by the backend */
	bool hello_sent;
	bool connected;			/* we reached XenbusStateConnected */
	bool paused;			/* suspended: IRQs and NAPI off */
	bool failed_logged;

	struct netaccel_vi vis[XNA_MAX_VIS];
};

struct netaccel_hook {
	struct net_device_ops ops;		/* netfront's, our xmit */
	struct ethtool_ops ethtool_ops;		/* netfront's, our stats */
	const struct net_device_ops *orig_ops;
	const struct ethtool_ops *orig_ethtool_ops;
	struct netaccel_front *nf;
	struct netaccel_conn __rcu *conn;	/* NULL: offer nothing */
};

#define NETACCEL_NR_STATS_MAX	96

/*
 * netfront TX queues the module may stop for back-pressure; frames of a
 * queue beyond that are declined when their VI is full, as before.
 */
#define NETACCEL_MAX_TXQ	256

struct netaccel_front {
	struct xenbus_device *xbdev;
	struct list_head list;			/* rtnl */

	struct workqueue_struct *wq;
	struct work_struct state_work;
	struct work_struct ctrl_work;
	struct work_struct resume_work;
	struct work_struct thaw_work;		/* system_freezable_wq */
	struct work_struct reattach_work;
	bool removing;
	bool suspended;				/* .suspend to thaw or resume */
	bool gave_up;
	unsigned int failures;			/* setups in a row that failed */
	/*
	 * An XDP program is attached to netfront: no connection (the
	 * frames its receive path must see would bypass it).  Looked at
	 * by xdp_work every second, and at once by a frame that comes in.
	 */
	bool xdp_paused;
	struct delayed_work xdp_work;

	struct netaccel_conn *conn;		/* owned by the workqueue */

	/* pairing, under rtnl */
	bool pair_valid;
	int pair_vif;
	bool pair_has_mac;
	u8 pair_mac[ETH_ALEN];
	bool pair_refused_logged;
	struct net_device *netdev;
	struct netaccel_hook *hook;
	struct netaccel_conn *live;		/* connected: may carry traffic */
	struct net_device __rcu *rx_dev;
	/* netfront TX queues stopped by us (VI full), not run since */
	DECLARE_BITMAP(txq_stopped, NETACCEL_MAX_TXQ);

	/* counters */
	spinlock_t stats_lock;
	seqcount_spinlock_t stats_seq;
	struct netaccel_conn __rcu *stats_conn;
	u64 totals[NETACCEL_NR_STATS_MAX];
	struct netaccel_nf_stats nstats;
};

/* Module parameters (netaccel-front.c) */
extern bool netaccel_enable;
extern bool netaccel_gso;
extern bool netaccel_wire_macs;
extern unsigned int netaccel_num_vis;
extern unsigned int netaccel_tx_ring_entries;
extern unsigned int netaccel_rx_ring_entries;
extern unsigned int netaccel_max_flows;
extern unsigned int netaccel_vi_reset_limit;

/* netaccel-shmem.c: pages, grants, event channels, keys */
int netaccel_conn_create(struct netaccel_front *nf,
			 const struct xna_backend_info *bi,
			 struct netaccel_conn **out);
int netaccel_conn_write_keys(struct netaccel_conn *conn);
void netaccel_conn_stop_irqs(struct netaccel_conn *conn);
void netaccel_conn_pause(struct netaccel_conn *conn);
void netaccel_conn_unpause(struct netaccel_conn *conn);
void netaccel_conn_destroy(struct netaccel_conn *conn);

/* netaccel-ctrl.c: control channel */
void netaccel_ctrl_work(struct work_struct *work);
int netaccel_ctrl_send_hello(struct netaccel_conn *conn);
irqreturn_t netaccel_ctrl_interrupt(int irq, void *dev_id);

/* netaccel-front.c: pause while netfront runs XDP */
void netaccel_xdp_check_now(struct netaccel_front *nf);

/* netaccel-rx.c: NAPI */
irqreturn_t netaccel_vi_interrupt(int irq, void *dev_id);
int netaccel_napi_poll(struct napi_struct *napi, int budget);

/* netaccel-tx.c: the TX hook's data path, and resending frames */
struct netaccel_resend {
	struct netaccel_front *nf;
	struct sk_buff_head q;
};

netdev_tx_t netaccel_start_xmit(struct sk_buff *skb, struct net_device *dev);
void netaccel_resend_init(struct netaccel_resend *rs,
			  struct netaccel_front *nf);
void netaccel_unsent_to_skb(void *opaque, const struct xna_frag *frags,
			    unsigned int nfrags, unsigned int len,
			    const struct xna_tx_meta *meta);
unsigned int netaccel_resend(struct netaccel_resend *rs);
void netaccel_tx_quiesce(struct netaccel_conn *conn, unsigned int ms);
void netaccel_tx_wake(struct netaccel_front *nf, struct net_device *dev,
		      int vi, unsigned int nvis);
void netaccel_tx_wake_all(struct netaccel_front *nf);
void netaccel_tx_wake_vi(struct netaccel_vi *vi);
void netaccel_tx_completion(struct netaccel_vi *vi);
void netaccel_tx_stall_timer(struct timer_list *t);

/* netaccel-pair.c: finding netfront, installing the hook */
extern struct list_head netaccel_fronts;
int netaccel_pair_init(void);
void netaccel_pair_exit(void);
void netaccel_set_pairing(struct netaccel_front *nf,
			  const struct xna_backend_info *bi);
unsigned int netaccel_default_vis(struct netaccel_front *nf);
void netaccel_attach(struct netaccel_front *nf, struct netaccel_conn *conn);
void netaccel_detach(struct netaccel_front *nf);
void netaccel_unpair(struct netaccel_front *nf);

/* netaccel-stats.c: counters in sysfs, ethtool and ip -s link */
extern const struct attribute_group *netaccel_dev_groups[];
int netaccel_stats_init(void);
void netaccel_stats_exit(void);
unsigned int netaccel_nr_stats(void);
const char *netaccel_stat_name(unsigned int i);
void netaccel_stats_collect(struct netaccel_front *nf, u64 *out);
void netaccel_stats_set_conn(struct netaccel_front *nf,
			     struct netaccel_conn *conn);
/* the hook's ndo_get_stats64 and ethtool -S */
void netaccel_get_stats64(struct net_device *dev,
			  struct rtnl_link_stats64 *stats);
int netaccel_get_sset_count(struct net_device *dev, int sset);
void netaccel_get_strings(struct net_device *dev, u32 sset, u8 *data);
void netaccel_get_ethtool_stats(struct net_device *dev,
				struct ethtool_stats *stats, u64 *data);

#endif /* NETACCEL_H */
