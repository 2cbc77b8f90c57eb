/*
 * xen-net-accel: loopback NIC
 *
 * A software NIC in loopback mode: every transmitted frame is received
 * again, classified by the filter table (whose size is the device's
 * max-filters, like a hardware table) to a VI or the default queue.
 * It loses nothing: when a receive queue is full, transmit stops until
 * the owner drains it.  Deterministic, for tests and benchmarks.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "xna-nic-soft.h"

#define TYPE_XNA_LOOPBACK_NIC "xna-nic-loopback"

typedef struct XnaLoopbackNic {
    XnaSoftNic parent_obj;
    bool tx_blocked;         /* a tx_burst stopped on a full queue */
} XnaLoopbackNic;

OBJECT_DECLARE_SIMPLE_TYPE(XnaLoopbackNic, XNA_LOOPBACK_NIC)

static bool loopback_open(XnaNic *nic, const XnaNicConfig *cfg, Error **errp)
{
    xna_soft_nic_open(XNA_SOFT_NIC(nic), cfg);
    return true;
}

static void loopback_close(XnaNic *nic)
{
}

static uint32_t loopback_tx_burst(XnaNic *nic, uint32_t vi, XnaFrame *frames,
                                  uint32_t n)
{
    XnaSoftNic *s = XNA_SOFT_NIC_FAST(nic);
    XnaLoopbackNic *lb = container_of(s, XnaLoopbackNic, parent_obj);
    uint32_t i;

    for (i = 0; i < n; i++) {
        if (!xna_soft_nic_receive_classified(s, frames[i].data,
                                             frames[i].len, frames[i].info)) {
            lb->tx_blocked = true;
            break;
        }
        s->stats.tx_frames++;
    }
    return i;
}

static void loopback_rx_resume(XnaNic *nic)
{
    XnaSoftNic *s = XNA_SOFT_NIC_FAST(nic);
    XnaLoopbackNic *lb = container_of(s, XnaLoopbackNic, parent_obj);

    if (lb->tx_blocked && xna_soft_nic_can_receive(s)) {
        lb->tx_blocked = false;
        nic->host.tx_ready(nic->host.opaque);
    }
}

static void loopback_class_init(ObjectClass *oc, void *data)
{
    XnaNicClass *nc = XNA_NIC_CLASS(oc);

    nc->open = loopback_open;
    nc->close = loopback_close;
    nc->tx_burst = loopback_tx_burst;
    nc->rx_resume = loopback_rx_resume;
}

static const TypeInfo loopback_type_info = {
    .name = TYPE_XNA_LOOPBACK_NIC,
    .parent = TYPE_XNA_SOFT_NIC,
    .instance_size = sizeof(XnaLoopbackNic),
    .class_init = loopback_class_init,
};

static void loopback_register_types(void)
{
    type_register_static(&loopback_type_info);
}

type_init(loopback_register_types)
