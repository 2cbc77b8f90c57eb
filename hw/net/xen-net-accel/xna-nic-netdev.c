/*
 * xen-net-accel: software NIC over a QEMU -netdev
 *
 * Transmits to the netdev peer (tap, socket, dgram, stream, af-xdp, ...)
 * and classifies what the peer sends with the software filter table.
 * When a receive queue is full it tells QEMU's net layer to hold frames
 * back, and flushes them when the owner has drained the queue.
 *
 * With a host-netdev it is a NIC between a wire (netdev) and its host
 * (host-netdev), as a real NIC sits between the cable and the host's
 * driver: frames from the wire that match no filter go to the host
 * unchanged (with a copy to the default queue so that the device learns
 * flows), and what the host sends goes out on the wire.  Frames of the
 * guest's slow path then cross the host's stack and netfront, and nothing
 * depends on the guest being connected.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "net/net.h"
#include "xna-nic-soft.h"

#define TYPE_XNA_NETDEV_NIC "xna-nic-netdev"

typedef struct XnaNetdevNic {
    XnaSoftNic parent_obj;
    NICState *nic;
    NICState *host;          /* with host-netdev */
    NICConf host_conf;
    /*
     * We refused a frame (can_receive false, or receive returned 0), so
     * the net layer may hold frames back: flush when there is room.  A
     * flush otherwise costs an event notifier write per received frame.
     */
    bool rx_stalled;
} XnaNetdevNic;

OBJECT_DECLARE_SIMPLE_TYPE(XnaNetdevNic, XNA_NETDEV_NIC)

static bool netdev_can_receive(NetClientState *nc)
{
    XnaNetdevNic *n = qemu_get_nic_opaque(nc);

    if (!xna_soft_nic_can_receive(&n->parent_obj)) {
        n->rx_stalled = true;
        return false;
    }
    return true;
}

static ssize_t netdev_receive(NetClientState *nc, const uint8_t *buf,
                              size_t size)
{
    XnaNetdevNic *n = qemu_get_nic_opaque(nc);

    /* 0 makes the net layer queue the frame until we flush. */
    if (!xna_soft_nic_receive(&n->parent_obj, buf, size)) {
        n->rx_stalled = true;
        return 0;
    }
    return size;
}

/*
 * At exit QEMU's net_cleanup() deletes every NIC before xen-bus unrealizes
 * its devices: forget ours then, so that close does not delete it twice
 * (the crash of QEMU's stock xen-net-device on exit).
 */
static void netdev_cleanup(NetClientState *nc)
{
    XnaNetdevNic *n = qemu_get_nic_opaque(nc);

    n->nic = NULL;
}

static void netdev_to_host(XnaSoftNic *s, const uint8_t *buf, size_t len)
{
    XnaNetdevNic *n = XNA_NETDEV_NIC(s);

    if (n->host) {
        qemu_send_packet(qemu_get_queue(n->host), buf, len);
    }
}

/* The host sends: out on the wire, as the host's own traffic. */
static ssize_t host_receive(NetClientState *nc, const uint8_t *buf,
                            size_t size)
{
    XnaNetdevNic *n = qemu_get_nic_opaque(nc);

    if (n->nic) {
        qemu_send_packet(qemu_get_queue(n->nic), buf, size);
        XNA_SOFT_NIC(n)->stats.host_tx_frames++;
    }
    return size;
}

static void host_cleanup(NetClientState *nc)
{
    XnaNetdevNic *n = qemu_get_nic_opaque(nc);

    n->host = NULL;
}

static NetClientInfo host_nic_info = {
    .type = NET_CLIENT_DRIVER_NIC,
    .size = sizeof(NICState),
    .receive = host_receive,
    .cleanup = host_cleanup,
};

static NetClientInfo netdev_nic_info = {
    .type = NET_CLIENT_DRIVER_NIC,
    .size = sizeof(NICState),
    .can_receive = netdev_can_receive,
    .receive = netdev_receive,
    .cleanup = netdev_cleanup,
};

static bool netdev_open(XnaNic *nic, const XnaNicConfig *cfg, Error **errp)
{
    XnaNetdevNic *n = XNA_NETDEV_NIC(nic);

    if (!cfg->conf->peers.ncs[0]) {
        error_setg(errp, "nic=netdev needs a netdev property");
        return false;
    }
    if (cfg->host_peers && cfg->host_peers->ncs[0] &&
        cfg->host_peers->ncs[0] == cfg->conf->peers.ncs[0]) {
        error_setg(errp, "netdev and host-netdev must differ");
        return false;
    }
    xna_soft_nic_open(XNA_SOFT_NIC(nic), cfg);
    n->nic = qemu_new_nic(&netdev_nic_info, cfg->conf, "xen-net-accel",
                          cfg->id, &cfg->owner->mem_reentrancy_guard, n);
    qemu_format_nic_info_str(qemu_get_queue(n->nic), cfg->conf->macaddr.a);
    if (cfg->host_peers && cfg->host_peers->ncs[0]) {
        g_autofree char *id = g_strdup_printf("%s-host", cfg->id);

        n->host_conf.macaddr = cfg->conf->macaddr;
        n->host_conf.peers = *cfg->host_peers;
        n->host = qemu_new_nic(&host_nic_info, &n->host_conf,
                               "xen-net-accel-host", id,
                               &cfg->owner->mem_reentrancy_guard, n);
        qemu_format_nic_info_str(qemu_get_queue(n->host),
                                 cfg->conf->macaddr.a);
        XNA_SOFT_NIC(nic)->to_host = netdev_to_host;
    }
    return true;
}

static void netdev_close(XnaNic *nic)
{
    XnaNetdevNic *n = XNA_NETDEV_NIC(nic);

    if (n->host) {
        qemu_del_nic(n->host);  /* runs host_cleanup */
    }
    if (n->nic) {
        qemu_del_nic(n->nic);   /* runs netdev_cleanup */
    }
}

static uint32_t netdev_tx_burst(XnaNic *nic, uint32_t vi, XnaFrame *frames,
                                uint32_t n)
{
    XnaSoftNic *s = XNA_SOFT_NIC_FAST(nic);
    XnaNetdevNic *nn = container_of(s, XnaNetdevNic, parent_obj);
    NetClientState *nc;
    uint32_t i;

    if (!nn->nic) {
        s->stats.tx_dropped += n;
        return n;
    }
    nc = qemu_get_queue(nn->nic);
    for (i = 0; i < n; i++) {
        qemu_send_packet(nc, frames[i].data, frames[i].len);
        s->stats.tx_frames++;
    }
    return n;
}

static void netdev_rx_resume(XnaNic *nic)
{
    XnaSoftNic *s = XNA_SOFT_NIC_FAST(nic);
    XnaNetdevNic *n = container_of(s, XnaNetdevNic, parent_obj);

    if (n->nic && n->rx_stalled && xna_soft_nic_can_receive(s)) {
        n->rx_stalled = false;
        qemu_flush_queued_packets(qemu_get_queue(n->nic));
    }
}

static void netdev_class_init(ObjectClass *oc, void *data)
{
    XnaNicClass *nc = XNA_NIC_CLASS(oc);

    nc->open = netdev_open;
    nc->close = netdev_close;
    nc->tx_burst = netdev_tx_burst;
    nc->rx_resume = netdev_rx_resume;
}

static const TypeInfo netdev_type_info = {
    .name = TYPE_XNA_NETDEV_NIC,
    .parent = TYPE_XNA_SOFT_NIC,
    .instance_size = sizeof(XnaNetdevNic),
    .class_init = netdev_class_init,
};

static void netdev_register_types(void)
{
    type_register_static(&netdev_type_info);
}

type_init(netdev_register_types)
