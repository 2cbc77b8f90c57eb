/*
 * xen-sim: a Xen platform for qtest (internal interfaces)
 *
 * The platform is split by service: xen-sim.c is the device (guest MMIO
 * interface, counters), xen-sim-xenstore.c, xen-sim-gnttab.c and
 * xen-sim-evtchn.c each implement one of QEMU's Xen backend-ops tables
 * and the guest's side of the same service.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_XEN_XEN_SIM_H
#define HW_XEN_XEN_SIM_H

#include "hw/qdev-core.h"
#include "hw/irq.h"
#include "exec/memory.h"
#include "hw/xen/xen_backend_ops.h"
#include "hw/xen/xen-sim-abi.h"

#define TYPE_XEN_SIM "xen-sim"
OBJECT_DECLARE_SIMPLE_TYPE(XenSimState, XEN_SIM)

typedef struct XenstoreImplState XenstoreImplState;
typedef struct XenSimPort XenSimPort;

/* What the platform did, exposed as read-only QOM properties. */
typedef struct XenSimStats {
    uint64_t grant_maps;            /* refs mapped */
    uint64_t grant_unmaps;          /* refs unmapped */
    uint64_t grant_copies;          /* grant copy segments */
    uint64_t grant_live_maps;       /* refs mapped now */
    uint64_t grant_refusals;        /* map or copy requests refused */
    uint64_t evtchn_notify_backend; /* guest -> backend events delivered */
    uint64_t evtchn_notify_guest;   /* backend -> guest events delivered */
    uint64_t evtchn_bound;          /* interdomain channels bound now */
    uint64_t xs_requests;           /* guest xenstore requests */
} XenSimStats;

struct XenSimState {
    DeviceState parent_obj;

    /* properties */
    uint32_t domid;
    uint32_t backend_domid;
    uint64_t addr;
    char *grant_map_mode;
    bool map_multi;

    MemoryRegion mmio;
    qemu_irq irq;
    bool irq_level;
    uint64_t cmd_addr;

    XenSimStats stats;

    /* xenstore */
    XenstoreImplState *xs;
    GQueue guest_watch_events;      /* XenSimWatchEvent * */

    /* grant table (guest memory) */
    uint64_t gnttab_gpa;
    uint32_t gnttab_entries;
    MemoryRegionSection gnttab_mrs;
    void *gnttab;                   /* host view, NULL when not set up */
    GHashTable *ref_maps;           /* ref -> number of live mappings */

    /* event channels */
    uint64_t pending_gpa;
    uint32_t nr_ports;
    MemoryRegionSection pending_mrs;
    unsigned long *pending;         /* host view of the guest's bitmap */
    XenSimPort *ports;              /* indexed by guest port */
    GHashTable *backend_ports;      /* backend port -> XenSimPort * */
    uint32_t next_backend_port;
};

extern XenSimState *xen_sim;

void xen_sim_raise_irq(XenSimState *s);

/* guest memory helpers: copy in or out, false if not all RAM */
bool xen_sim_read(XenSimState *s, uint64_t gpa, void *buf, size_t len);
bool xen_sim_write(XenSimState *s, uint64_t gpa, const void *buf,
                   size_t len);
/* A host pointer to @len bytes of guest RAM; *mrs holds a reference. */
void *xen_sim_map_ram(uint64_t gpa, uint64_t len, MemoryRegionSection *mrs);
void xen_sim_unmap_ram(MemoryRegionSection *mrs);

/* xen-sim-xenstore.c */
extern struct xenstore_backend_ops xen_sim_xenstore_ops;
void xen_sim_xenstore_init(XenSimState *s);
int xen_sim_xs_request(XenSimState *s, uint64_t req_gpa, uint64_t rsp_gpa,
                       uint64_t rsp_size, bool as_toolstack);
int xen_sim_xs_watch_event(XenSimState *s, uint64_t rsp_gpa,
                           uint64_t rsp_size, uint64_t *found);

/* xen-sim-gnttab.c */
extern struct gnttab_backend_ops xen_sim_gnttab_ops;
extern struct foreignmem_backend_ops xen_sim_foreignmem_ops;
int xen_sim_gnttab_setup(XenSimState *s, uint64_t gpa, uint64_t entries);

/* xen-sim-evtchn.c */
extern struct evtchn_backend_ops xen_sim_evtchn_ops;
int xen_sim_evtchn_setup(XenSimState *s, uint64_t gpa, uint64_t nr_ports);
int xen_sim_evtchn_alloc_unbound(XenSimState *s, uint64_t remote_dom,
                                 uint64_t *port);
int xen_sim_evtchn_close(XenSimState *s, uint64_t port);
int xen_sim_evtchn_send(XenSimState *s, uint64_t port);

#endif /* HW_XEN_XEN_SIM_H */
