/*
 * xen-net-accel: accelerated network path for Xen guests
 *
 * A xen-bus device that pairs with a guest's netfront vif and gives the
 * guest's accelerator module virtual interfaces (VIs) on a NIC.  The NIC
 * is selected by the "nic" property; see docs/design.md.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "hw/qdev-properties.h"
#include "hw/qdev-properties-system.h"
#include "hw/xen/xen-bus.h"
#include "hw/xen/xen-bus-helper.h"
#include "hw/xen/xen.h"
#include "net/net.h"
#include "trace.h"
#include "xna-filter-table.h"

#define TYPE_XEN_NET_ACCEL "xen-net-accel"
OBJECT_DECLARE_SIMPLE_TYPE(XenNetAccel, XEN_NET_ACCEL)

/* Bounds of the device properties; docs/protocol.md explains them. */
#define XNA_MAX_VIS             16
#define XNA_MIN_RING_SIZE       32
#define XNA_MAX_RING_SIZE       4096
#define XNA_MAX_FILTERS         65536
#define XNA_MAX_POOL_PAGES      65536

struct XenNetAccel {
    XenDevice xendev;
    NICConf conf;
    char *nic_kind;
    int32_t idx;
    int32_t vif;
    uint32_t max_vis;
    uint32_t max_filters;
    uint32_t tx_ring_size;
    uint32_t rx_ring_size;
    uint32_t max_pool_pages;

    XnaFilterTable *filters;
};

static bool xna_check_ring_size(const char *name, uint32_t size,
                                Error **errp)
{
    if (size < XNA_MIN_RING_SIZE || size > XNA_MAX_RING_SIZE ||
        !is_power_of_2(size)) {
        error_setg(errp, "%s=%u: must be a power of two in [%u, %u]",
                   name, size, XNA_MIN_RING_SIZE, XNA_MAX_RING_SIZE);
        return false;
    }
    return true;
}

static bool xna_check_properties(XenNetAccel *s, Error **errp)
{
    if (!s->nic_kind || !*s->nic_kind) {
        error_setg(errp, "nic must be set (netdev or loopback)");
        return false;
    }
    if (!strcmp(s->nic_kind, "netdev")) {
        if (!s->conf.peers.ncs[0]) {
            error_setg(errp, "nic=netdev needs a netdev property");
            return false;
        }
    } else if (!strcmp(s->nic_kind, "loopback")) {
        if (s->conf.peers.ncs[0]) {
            error_setg(errp, "nic=loopback does not use a netdev");
            return false;
        }
    } else {
        error_setg(errp, "nic=%s: unknown NIC kind (use netdev or loopback)",
                   s->nic_kind);
        return false;
    }
    if (s->max_vis < 1 || s->max_vis > XNA_MAX_VIS) {
        error_setg(errp, "max-vis=%u: must be in [1, %u]", s->max_vis,
                   XNA_MAX_VIS);
        return false;
    }
    if (s->max_filters < 1 || s->max_filters > XNA_MAX_FILTERS) {
        error_setg(errp, "max-filters=%u: must be in [1, %u]",
                   s->max_filters, XNA_MAX_FILTERS);
        return false;
    }
    if (!xna_check_ring_size("tx-ring-size", s->tx_ring_size, errp) ||
        !xna_check_ring_size("rx-ring-size", s->rx_ring_size, errp)) {
        return false;
    }
    if (s->max_pool_pages < 1 || s->max_pool_pages > XNA_MAX_POOL_PAGES) {
        error_setg(errp, "max-pool-pages=%u: must be in [1, %u]",
                   s->max_pool_pages, XNA_MAX_POOL_PAGES);
        return false;
    }
    return true;
}

/* The first free index under the guest's netaccel device directory. */
static char *xen_net_accel_get_name(XenDevice *xendev, Error **errp)
{
    XenNetAccel *s = XEN_NET_ACCEL(xendev);
    XenBus *xenbus = XEN_BUS(qdev_get_parent_bus(DEVICE(xendev)));
    XenDeviceClass *xdc = XEN_DEVICE_GET_CLASS(xendev);
    Error *local_err = NULL;
    char *value;
    int idx;

    if (s->idx >= 0) {
        return g_strdup_printf("%d", s->idx);
    }
    for (idx = 0; idx < 256; idx++) {
        value = xs_node_read(xenbus->xsh, XBT_NULL, NULL, &local_err,
                             "/local/domain/%u/device/%s/%d",
                             xendev->frontend_id, xdc->device, idx);
        if (!value) {
            if (errno == ENOENT) {
                error_free(local_err);
                s->idx = idx;
                return g_strdup_printf("%d", idx);
            }
            error_propagate(errp, local_err);
            return NULL;
        }
        free(value);
    }
    error_setg(errp, "no free %s index for domain %u", xdc->device,
               xendev->frontend_id);
    return NULL;
}

static void xen_net_accel_realize(XenDevice *xendev, Error **errp)
{
    XenNetAccel *s = XEN_NET_ACCEL(xendev);

    if (!xna_check_properties(s, errp)) {
        return;
    }
    qemu_macaddr_default_if_unset(&s->conf.macaddr);
    s->filters = xna_filter_table_new(s->max_filters);

    trace_xen_net_accel_realize(xendev->name, s->nic_kind, s->max_vis,
                                s->max_filters);
}

static void xen_net_accel_frontend_changed(XenDevice *xendev,
                                           enum xenbus_state frontend_state,
                                           Error **errp)
{
    trace_xen_net_accel_frontend_changed(xendev->name, frontend_state);
}

static void xen_net_accel_unrealize(XenDevice *xendev)
{
    XenNetAccel *s = XEN_NET_ACCEL(xendev);

    trace_xen_net_accel_unrealize(xendev->name);
    xna_filter_table_free(s->filters);
    s->filters = NULL;
}

static const Property xen_net_accel_properties[] = {
    DEFINE_NIC_PROPERTIES(XenNetAccel, conf),
    DEFINE_PROP_STRING("nic", XenNetAccel, nic_kind),
    DEFINE_PROP_INT32("idx", XenNetAccel, idx, -1),
    DEFINE_PROP_INT32("vif", XenNetAccel, vif, -1),
    DEFINE_PROP_UINT32("max-vis", XenNetAccel, max_vis, 1),
    DEFINE_PROP_UINT32("max-filters", XenNetAccel, max_filters, 256),
    DEFINE_PROP_UINT32("tx-ring-size", XenNetAccel, tx_ring_size, 256),
    DEFINE_PROP_UINT32("rx-ring-size", XenNetAccel, rx_ring_size, 256),
    DEFINE_PROP_UINT32("max-pool-pages", XenNetAccel, max_pool_pages, 1024),
};

static void xen_net_accel_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    XenDeviceClass *xdc = XEN_DEVICE_CLASS(klass);

    xdc->backend = "qnetaccel";
    xdc->device = "netaccel";
    xdc->get_name = xen_net_accel_get_name;
    xdc->realize = xen_net_accel_realize;
    xdc->frontend_changed = xen_net_accel_frontend_changed;
    xdc->unrealize = xen_net_accel_unrealize;
    dc->desc = "Xen accelerated network path (virtual interfaces on a NIC)";
    set_bit(DEVICE_CATEGORY_NETWORK, dc->categories);
    dc->user_creatable = true;
    device_class_set_props(dc, xen_net_accel_properties);
}

static const TypeInfo xen_net_accel_type_info = {
    .name = TYPE_XEN_NET_ACCEL,
    .parent = TYPE_XEN_DEVICE,
    .instance_size = sizeof(XenNetAccel),
    .class_init = xen_net_accel_class_init,
};

static void xen_net_accel_register_types(void)
{
    type_register_static(&xen_net_accel_type_info);
}

type_init(xen_net_accel_register_types)
