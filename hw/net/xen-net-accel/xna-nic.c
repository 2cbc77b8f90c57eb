/*
 * xen-net-accel: NIC kinds, found by name, and the one place that checks
 * their ops (see the contracts in xna-nic.h)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "xna-nic.h"

XnaNic *xna_nic_create(const char *kind, Error **errp)
{
    g_autofree char *type = g_strdup_printf(TYPE_XNA_NIC "-%s", kind);
    ObjectClass *oc = object_class_by_name(type);
    XnaNic *nic;

    if (!oc || object_class_is_abstract(oc) ||
        !object_class_dynamic_cast(oc, TYPE_XNA_NIC)) {
        error_setg(errp, "nic=%s: unknown NIC kind", kind);
        return NULL;
    }
    nic = XNA_NIC(object_new(type));
    nic->kind = object_class_get_name(oc) + strlen(TYPE_XNA_NIC "-");
    return nic;
}

/* Every required op is there, and the optional pool ops all or none. */
static bool nic_ops_complete(XnaNic *nic, Error **errp)
{
    XnaNicClass *nc = XNA_NIC_GET_CLASS(nic);
    const char *missing = NULL;
    int pool_ops;

    if (!nc->open) {
        missing = "open";
    } else if (!nc->close) {
        missing = "close";
    } else if (!nc->get_caps) {
        missing = "get_caps";
    } else if (!nc->vi_alloc) {
        missing = "vi_alloc";
    } else if (!nc->vi_free) {
        missing = "vi_free";
    } else if (!nc->filter_insert) {
        missing = "filter_insert";
    } else if (!nc->filter_remove) {
        missing = "filter_remove";
    } else if (!nc->tx_burst) {
        missing = "tx_burst";
    } else if (!nc->rx_burst) {
        missing = "rx_burst";
    } else if (!nc->get_stats) {
        missing = "get_stats";
    }
    if (missing) {
        error_setg(errp, "nic=%s: the NIC kind has no %s op", nic->kind,
                   missing);
        return false;
    }
    pool_ops = !!nc->pool_attach + !!nc->pool_detach + !!nc->pool_rx_post;
    if (pool_ops != 0 && pool_ops != 3) {
        error_setg(errp, "nic=%s: the NIC kind has %d of the 3 pool ops",
                   nic->kind, pool_ops);
        return false;
    }
    return true;
}

bool xna_nic_open(XnaNic *nic, const XnaNicConfig *cfg, Error **errp)
{
    XnaNicClass *nc = XNA_NIC_GET_CLASS(nic);

    if (!nic_ops_complete(nic, errp)) {
        return false;
    }
    nic->host = cfg->host;
    if (!nc->open(nic, cfg, errp)) {
        return false;
    }
    nic->opened = true;
    nc->get_caps(nic, &nic->caps);
    if (nic->caps.pool_rx && !nc->pool_attach) {
        /* A kind's own bug: receive into a pool without the ops for it. */
        nic->caps.pool_rx = false;
    }
    return true;
}

void xna_nic_free(XnaNic *nic)
{
    if (!nic) {
        return;
    }
    if (nic->opened) {
        XNA_NIC_GET_CLASS(nic)->close(nic);
    }
    object_unref(OBJECT(nic));
}

bool xna_nic_vi_alloc(XnaNic *nic, uint32_t vi, Error **errp)
{
    if (vi >= nic->caps.max_vis) {
        error_setg(errp, "nic=%s: no VI %u", nic->kind, vi);
        return false;
    }
    return xna_nic_class(nic)->vi_alloc(nic, vi, errp);
}

void xna_nic_vi_free(XnaNic *nic, uint32_t vi)
{
    if (vi < nic->caps.max_vis) {
        xna_nic_class(nic)->vi_free(nic, vi);
    }
}

int xna_nic_filter_insert(XnaNic *nic, const XnaFilterKey *key,
                          uint32_t vi)
{
    if (vi >= nic->caps.max_vis ||
        !(nic->caps.filter_kinds & (1u << key->kind))) {
        return -EINVAL;
    }
    return xna_nic_class(nic)->filter_insert(nic, key, vi);
}

int xna_nic_filter_remove(XnaNic *nic, const XnaFilterKey *key)
{
    return xna_nic_class(nic)->filter_remove(nic, key);
}

void xna_nic_get_stats(XnaNic *nic, XnaNicStats *stats)
{
    memset(stats, 0, sizeof(*stats));
    xna_nic_class(nic)->get_stats(nic, stats);
}

bool xna_nic_pool_attach(XnaNic *nic, uint32_t vi, const XnaNicPool *pool,
                         Error **errp)
{
    if (!nic->caps.pool_rx) {
        error_setg(errp, "nic=%s cannot receive into the guest's pool",
                   nic->kind);
        return false;
    }
    if (vi >= nic->caps.max_vis) {
        error_setg(errp, "nic=%s: no VI %u", nic->kind, vi);
        return false;
    }
    return xna_nic_class(nic)->pool_attach(nic, vi, pool, errp);
}

void xna_nic_pool_detach(XnaNic *nic, uint32_t vi)
{
    if (nic->caps.pool_rx && vi < nic->caps.max_vis) {
        xna_nic_class(nic)->pool_detach(nic, vi);
    }
}

static const TypeInfo xna_nic_type_info = {
    .name = TYPE_XNA_NIC,
    .parent = TYPE_OBJECT,
    .abstract = true,
    .instance_size = sizeof(XnaNic),
    .class_size = sizeof(XnaNicClass),
};

static void xna_nic_register_types(void)
{
    type_register_static(&xna_nic_type_info);
}

type_init(xna_nic_register_types)
