/*
 * xen-sim: a Xen platform for qtest
 *
 * Stands in for the hypervisor and xenstored so that xen-bus backends run
 * under -accel qtest, with no hypervisor at run time (the build still
 * needs QEMU's Xen support: CONFIG_XEN or CONFIG_XEN_EMU, for xen-bus).
 * It refuses to realize outside qtest.  On realize it installs QEMU's
 * four Xen backend-ops tables and creates the xen-bus; the qtest "guest"
 * reaches the same services through the MMIO page in xen-sim-abi.h.
 * It models v1 grant maps and copies, interdomain event channels and
 * xenstore with Xen's permissions; no hypercalls, vCPUs, scheduling,
 * grant table v2, FIFO event channels or suspend/resume.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/log.h"
#include "qom/object.h"
#include "hw/qdev-properties.h"
#include "hw/xen/xen.h"
#include "hw/xen/xen-bus.h"
#include "exec/address-spaces.h"
#include "system/qtest.h"
#include "xen-sim.h"
#include "trace.h"

XenSimState *xen_sim;

bool xen_sim_read(XenSimState *s, uint64_t gpa, void *buf, size_t len)
{
    return address_space_read(&address_space_memory, gpa,
                              MEMTXATTRS_UNSPECIFIED, buf, len) == MEMTX_OK;
}

bool xen_sim_write(XenSimState *s, uint64_t gpa, const void *buf,
                   size_t len)
{
    return address_space_write(&address_space_memory, gpa,
                                MEMTXATTRS_UNSPECIFIED, buf, len) == MEMTX_OK;
}

void *xen_sim_map_ram(uint64_t gpa, uint64_t len, MemoryRegionSection *mrs)
{
    if (!len || gpa + len < gpa) {
        return NULL;
    }
    *mrs = memory_region_find(get_system_memory(), gpa, len);
    if (!mrs->mr) {
        return NULL;
    }
    if (!memory_region_is_ram(mrs->mr) ||
        int128_lt(mrs->size, int128_make64(len))) {
        xen_sim_unmap_ram(mrs);
        return NULL;
    }
    return qemu_map_ram_ptr(mrs->mr->ram_block, mrs->offset_within_region);
}

void xen_sim_unmap_ram(MemoryRegionSection *mrs)
{
    if (mrs->mr) {
        memory_region_unref(mrs->mr);
        mrs->mr = NULL;
    }
}

void xen_sim_raise_irq(XenSimState *s)
{
    if (!s->irq_level) {
        s->irq_level = true;
        qemu_irq_raise(s->irq);
    }
}

static void xen_sim_run_cmd(XenSimState *s, uint64_t gpa)
{
    XenSimCmd cmd;
    int ret;

    /* The command is copied once; everything below uses the copy. */
    if (!xen_sim_read(s, gpa, &cmd, sizeof(cmd))) {
        qemu_log_mask(LOG_GUEST_ERROR, "xen-sim: command at 0x%" PRIx64
                      " is not in RAM\n", gpa);
        return;
    }
    trace_xen_sim_cmd(le32_to_cpu(cmd.op), le64_to_cpu(cmd.arg[0]));

    switch (le32_to_cpu(cmd.op)) {
    case XEN_SIM_OP_GNTTAB_SETUP:
        ret = xen_sim_gnttab_setup(s, le64_to_cpu(cmd.arg[0]),
                                   le64_to_cpu(cmd.arg[1]));
        break;
    case XEN_SIM_OP_EVTCHN_SETUP:
        ret = xen_sim_evtchn_setup(s, le64_to_cpu(cmd.arg[0]),
                                   le64_to_cpu(cmd.arg[1]));
        break;
    case XEN_SIM_OP_EVTCHN_ALLOC_UNBOUND: {
        uint64_t port = 0;

        ret = xen_sim_evtchn_alloc_unbound(s, le64_to_cpu(cmd.arg[0]),
                                           &port);
        cmd.arg[1] = cpu_to_le64(port);
        break;
    }
    case XEN_SIM_OP_EVTCHN_CLOSE:
        ret = xen_sim_evtchn_close(s, le64_to_cpu(cmd.arg[0]));
        break;
    case XEN_SIM_OP_EVTCHN_SEND:
        ret = xen_sim_evtchn_send(s, le64_to_cpu(cmd.arg[0]));
        break;
    case XEN_SIM_OP_XS_REQUEST:
    case XEN_SIM_OP_XS_TOOLSTACK_REQUEST:
        ret = xen_sim_xs_request(s, le64_to_cpu(cmd.arg[0]),
                                 le64_to_cpu(cmd.arg[1]),
                                 le64_to_cpu(cmd.arg[2]),
                                 le32_to_cpu(cmd.op) ==
                                 XEN_SIM_OP_XS_TOOLSTACK_REQUEST);
        break;
    case XEN_SIM_OP_XS_WATCH_EVENT: {
        uint64_t found = 0;

        ret = xen_sim_xs_watch_event(s, le64_to_cpu(cmd.arg[1]),
                                     le64_to_cpu(cmd.arg[2]), &found);
        cmd.arg[3] = cpu_to_le64(found);
        break;
    }
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "xen-sim: unknown command %u\n",
                      le32_to_cpu(cmd.op));
        ret = -ENOSYS;
        break;
    }
    cmd.status = cpu_to_le32(ret);
    if (!xen_sim_write(s, gpa, &cmd, sizeof(cmd))) {
        qemu_log_mask(LOG_GUEST_ERROR, "xen-sim: cannot write the status of "
                      "the command at 0x%" PRIx64 "\n", gpa);
    }
}

static uint64_t xen_sim_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    XenSimState *s = opaque;

    switch (addr) {
    case XEN_SIM_REG_MAGIC:
        return XEN_SIM_MAGIC;
    case XEN_SIM_REG_VERSION:
        return XEN_SIM_VERSION;
    case XEN_SIM_REG_DOMID:
        return s->domid;
    case XEN_SIM_REG_BACKEND_DOMID:
        return s->backend_domid;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "xen-sim: read of register 0x%"
                      HWADDR_PRIx "\n", addr);
        return 0;
    }
}

static void xen_sim_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                               unsigned size)
{
    XenSimState *s = opaque;

    switch (addr) {
    case XEN_SIM_REG_CMD:
        if (size == 8) {
            xen_sim_run_cmd(s, val);
        } else {
            s->cmd_addr = deposit64(s->cmd_addr, 0, 32, val);
        }
        break;
    case XEN_SIM_REG_CMD + 4:
        s->cmd_addr = deposit64(s->cmd_addr, 32, 32, val);
        xen_sim_run_cmd(s, s->cmd_addr);
        break;
    case XEN_SIM_REG_NOTIFY:
        xen_sim_evtchn_send(s, (uint32_t)val);
        break;
    case XEN_SIM_REG_IRQ_ACK:
        if (s->irq_level) {
            s->irq_level = false;
            qemu_irq_lower(s->irq);
        }
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "xen-sim: write of register 0x%"
                      HWADDR_PRIx "\n", addr);
        break;
    }
}

static const MemoryRegionOps xen_sim_mmio_ops = {
    .read = xen_sim_mmio_read,
    .write = xen_sim_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
};

static void xen_sim_add_stat(Object *obj, const char *name, uint64_t *v)
{
    object_property_add_uint64_ptr(obj, name, v, OBJ_PROP_FLAG_READ);
}

static void xen_sim_realize(DeviceState *dev, Error **errp)
{
    XenSimState *s = XEN_SIM(dev);
    Object *obj = OBJECT(dev);

    if (!qtest_enabled()) {
        error_setg(errp, "xen-sim is a test platform: it runs only under "
                   "qtest (-accel qtest)");
        return;
    }
    if (xen_sim) {
        error_setg(errp, "only one xen-sim device is supported");
        return;
    }
    if (xen_xenstore_ops || xen_gnttab_ops || xen_evtchn_ops) {
        error_setg(errp, "xen-sim cannot run with Xen or Xen emulation");
        return;
    }
    if (s->domid == 0 || s->domid >= DOMID_FIRST_RESERVED) {
        error_setg(errp, "domid=%u: must be a guest domid in [1, %u]",
                   s->domid, DOMID_FIRST_RESERVED - 1);
        return;
    }
    if (s->backend_domid == s->domid ||
        s->backend_domid >= DOMID_FIRST_RESERVED) {
        error_setg(errp, "backend-domid=%u: must differ from domid and be "
                   "below %u", s->backend_domid, DOMID_FIRST_RESERVED);
        return;
    }
    if (!g_strcmp0(s->grant_map_mode, "multi")) {
        s->map_multi = true;
    } else if (!g_strcmp0(s->grant_map_mode, "single")) {
        s->map_multi = false;
    } else {
        error_setg(errp, "grant-map=%s: use multi (as Xen's gntdev) or "
                   "single (as QEMU's Xen-on-KVM emulation)",
                   s->grant_map_mode);
        return;
    }

    memory_region_init_io(&s->mmio, obj, &xen_sim_mmio_ops, s, "xen-sim",
                          XEN_SIM_MMIO_SIZE);
    memory_region_add_subregion(get_system_memory(), s->addr, &s->mmio);
    qdev_init_gpio_out(dev, &s->irq, 1);

    xen_sim_add_stat(obj, "grant-maps", &s->stats.grant_maps);
    xen_sim_add_stat(obj, "grant-unmaps", &s->stats.grant_unmaps);
    xen_sim_add_stat(obj, "grant-copies", &s->stats.grant_copies);
    xen_sim_add_stat(obj, "grant-live-maps", &s->stats.grant_live_maps);
    xen_sim_add_stat(obj, "grant-refusals", &s->stats.grant_refusals);
    xen_sim_add_stat(obj, "evtchn-notify-backend",
                     &s->stats.evtchn_notify_backend);
    xen_sim_add_stat(obj, "evtchn-notify-guest",
                     &s->stats.evtchn_notify_guest);
    xen_sim_add_stat(obj, "evtchn-bound", &s->stats.evtchn_bound);
    xen_sim_add_stat(obj, "xs-requests", &s->stats.xs_requests);

    xen_sim = s;
    xen_domid = s->domid;
    s->ref_maps = g_hash_table_new(NULL, NULL);
    s->backend_ports = g_hash_table_new(NULL, NULL);
    s->next_backend_port = 1;
    g_queue_init(&s->guest_watch_events);
    xen_sim_xenstore_init(s);

    xen_xenstore_ops = &xen_sim_xenstore_ops;
    /* Backends read the map semantics from the table's features. */
    xen_sim_gnttab_ops.features =
        s->map_multi ? XEN_GNTTAB_OP_FEATURE_MAP_MULTIPLE : 0;
    xen_gnttab_ops = &xen_sim_gnttab_ops;
    xen_evtchn_ops = &xen_sim_evtchn_ops;
    xen_foreignmem_ops = &xen_sim_foreignmem_ops;

    trace_xen_sim_realize(s->domid, s->backend_domid, s->grant_map_mode);
    xen_bus_init();
}

static const Property xen_sim_properties[] = {
    DEFINE_PROP_UINT32("domid", XenSimState, domid, 1),
    DEFINE_PROP_UINT32("backend-domid", XenSimState, backend_domid, 0),
    DEFINE_PROP_UINT64("addr", XenSimState, addr, XEN_SIM_DEFAULT_ADDR),
    DEFINE_PROP_STRING("grant-map", XenSimState, grant_map_mode),
};

static void xen_sim_instance_init(Object *obj)
{
    XenSimState *s = XEN_SIM(obj);

    s->grant_map_mode = g_strdup("multi");
}

static void xen_sim_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = xen_sim_realize;
    dc->desc = "Xen platform for qtest (test only)";
    dc->user_creatable = true;
    dc->hotpluggable = false;
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    device_class_set_props(dc, xen_sim_properties);
}

static const TypeInfo xen_sim_type_info = {
    .name = TYPE_XEN_SIM,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(XenSimState),
    .instance_init = xen_sim_instance_init,
    .class_init = xen_sim_class_init,
};

static void xen_sim_register_types(void)
{
    type_register_static(&xen_sim_type_info);
}

type_init(xen_sim_register_types)
