/*
 * xen-net-accel: NIC kinds, found by name
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "xna-nic.h"

XnaNic *xna_nic_new(const char *kind, const XnaNicConfig *cfg, Error **errp)
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
    nic->host = cfg->host;
    if (!XNA_NIC_GET_CLASS(nic)->open(nic, cfg, errp)) {
        object_unref(OBJECT(nic));
        return NULL;
    }
    return nic;
}

void xna_nic_free(XnaNic *nic)
{
    if (nic) {
        XNA_NIC_GET_CLASS(nic)->close(nic);
        object_unref(OBJECT(nic));
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
