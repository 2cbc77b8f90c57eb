/*
 * xen-sim: grant tables and foreign memory
 *
 * The guest keeps a v1 grant table in its RAM.  A backend map checks each
 * entry as Xen does (type, domid, read-only flag, frame in RAM), marks it
 * GTF_reading/GTF_writing while mapped, and gets a host pointer into
 * guest RAM.  Two map semantics: "single" maps one ref per call, as QEMU's
 * Xen-on-KVM emulation; "multi" maps several refs contiguously, as Xen's
 * gntdev, which needs the frames remapped side by side: that is done from
 * the RAM's file descriptor (memory-backend-memfd), or, without one, only
 * for frames that are already contiguous.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/log.h"
#include "qemu/atomic.h"
/* For RAMBlock.fd_offset, as vhost-user needs it to pass guest RAM on. */
#include "exec/ramblock.h"
#include "hw/xen/interface/grant_table.h"
#include "xen-sim.h"
#include "trace.h"

#define XEN_SIM_MAX_GRANT_ENTRIES   (1u << 20)
#define XEN_SIM_MAX_MAP_REFS        1024

typedef struct XenSimMapping {
    void *addr;
    uint32_t count;
    bool remapped;           /* VA built with mmap: munmap it */
    MemoryRegionSection mrs; /* direct pointer into RAM otherwise */
    uint32_t refs[];
} XenSimMapping;

struct xengntdev_handle {
    GHashTable *maps;        /* addr -> XenSimMapping */
};

/* Foreign memory mappings, by address (they have no handle). */
static GHashTable *foreign_maps;

int xen_sim_gnttab_setup(XenSimState *s, uint64_t gpa, uint64_t entries)
{
    MemoryRegionSection mrs;
    void *table;

    if (!entries || entries > XEN_SIM_MAX_GRANT_ENTRIES ||
        (gpa & (XEN_PAGE_SIZE - 1))) {
        return -EINVAL;
    }
    if (g_hash_table_size(s->ref_maps)) {
        GHashTableIter it;
        gpointer ref;

        /*
         * As Xen's table grows: mapped entries must stay in the table.  The
         * guest copies them when it moves the table; unmaps then clear
         * GTF_reading/GTF_writing in the new place.
         */
        g_hash_table_iter_init(&it, s->ref_maps);
        while (g_hash_table_iter_next(&it, &ref, NULL)) {
            if (GPOINTER_TO_UINT(ref) >= entries) {
                return -EBUSY;
            }
        }
    }
    table = xen_sim_map_ram(gpa, entries * sizeof(grant_entry_v1_t), &mrs);
    if (!table) {
        return -EFAULT;
    }
    if (s->gnttab) {
        xen_sim_unmap_ram(&s->gnttab_mrs);
    }
    s->gnttab = table;
    s->gnttab_mrs = mrs;
    s->gnttab_gpa = gpa;
    s->gnttab_entries = entries;
    return 0;
}

/*
 * Check that @ref grants the backend access to a frame of RAM (@write for
 * read-write access) and return the frame's address.  With @hold, mark
 * the entry in use as Xen does, atomically against a guest revoking it.
 */
static int grant_check(XenSimState *s, uint32_t domid, uint32_t ref,
                       bool write, bool hold, uint64_t *gpa)
{
    grant_entry_v1_t *e;
    uint16_t flags, busy;
    uint64_t frame;
    int tries;

    if (domid != s->domid) {
        return -EINVAL;
    }
    if (!s->gnttab || ref >= s->gnttab_entries) {
        return -EINVAL;
    }
    e = (grant_entry_v1_t *)s->gnttab + ref;
    busy = GTF_reading | (write ? GTF_writing : 0);
    for (tries = 0; tries < 8; tries++) {
        flags = le16_to_cpu(qatomic_read(&e->flags));
        if ((flags & GTF_type_mask) != GTF_permit_access) {
            return -ENOENT;
        }
        if (le16_to_cpu(qatomic_read(&e->domid)) != s->backend_domid) {
            return -EPERM;
        }
        if (write && (flags & GTF_readonly)) {
            return -EPERM;
        }
        frame = le32_to_cpu(qatomic_read(&e->frame));
        if (!hold) {
            break;
        }
        if (qatomic_cmpxchg(&e->flags, cpu_to_le16(flags),
                            cpu_to_le16(flags | busy)) == cpu_to_le16(flags)) {
            break;
        }
    }
    if (tries == 8) {
        return -EAGAIN;
    }
    *gpa = frame << XEN_PAGE_SHIFT;
    return 0;
}

static void grant_hold(XenSimState *s, uint32_t ref)
{
    gpointer key = GUINT_TO_POINTER(ref);
    uintptr_t n = GPOINTER_TO_UINT(g_hash_table_lookup(s->ref_maps, key));

    g_hash_table_insert(s->ref_maps, key, GUINT_TO_POINTER(n + 1));
}

static void grant_release(XenSimState *s, uint32_t ref)
{
    gpointer key = GUINT_TO_POINTER(ref);
    uintptr_t n = GPOINTER_TO_UINT(g_hash_table_lookup(s->ref_maps, key));
    grant_entry_v1_t *e = (grant_entry_v1_t *)s->gnttab + ref;

    if (n > 1) {
        g_hash_table_insert(s->ref_maps, key, GUINT_TO_POINTER(n - 1));
        return;
    }
    g_hash_table_remove(s->ref_maps, key);
    qatomic_and(&e->flags, cpu_to_le16((uint16_t)~(GTF_reading | GTF_writing)));
}

static void grant_refused(XenSimState *s, uint32_t ref, int err)
{
    s->stats.grant_refusals++;
    trace_xen_sim_grant_refused(ref, err);
}

/*
 * Map @n guest frames side by side at one address, as gntdev does.
 * Frames are remapped from the RAM's file; without one, only frames that
 * are already contiguous in guest memory can be mapped together.
 */
static void *map_frames(uint64_t *gpas, uint32_t n, int prot,
                        XenSimMapping *m)
{
    MemoryRegionSection mrs;
    uint8_t *va;
    uint32_t i;

    if (n == 1) {
        return xen_sim_map_ram(gpas[0], XEN_PAGE_SIZE, &m->mrs);
    }
    va = mmap(NULL, n * XEN_PAGE_SIZE, PROT_NONE,
              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (va == MAP_FAILED) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        int fd;
        off_t off;

        if (!xen_sim_map_ram(gpas[i], XEN_PAGE_SIZE, &mrs)) {
            goto fail;
        }
        fd = memory_region_get_fd(mrs.mr);
        off = mrs.mr->ram_block->fd_offset + mrs.offset_within_region;
        xen_sim_unmap_ram(&mrs);
        if (fd < 0) {
            goto contiguous;
        }
        if (mmap(va + i * XEN_PAGE_SIZE, XEN_PAGE_SIZE, prot,
                 MAP_SHARED | MAP_FIXED, fd, off) == MAP_FAILED) {
            goto fail;
        }
    }
    m->remapped = true;
    return va;

contiguous:
    munmap(va, n * XEN_PAGE_SIZE);
    for (i = 1; i < n; i++) {
        if (gpas[i] != gpas[0] + (uint64_t)i * XEN_PAGE_SIZE) {
            qemu_log_mask(LOG_UNIMP, "xen-sim: mapping discontiguous grants "
                          "together needs fd-backed guest RAM "
                          "(memory-backend-memfd)\n");
            errno = ENOTSUP;
            return NULL;
        }
    }
    return xen_sim_map_ram(gpas[0], (uint64_t)n * XEN_PAGE_SIZE, &m->mrs);

fail:
    munmap(va, n * XEN_PAGE_SIZE);
    return NULL;
}

static void unmap_frames(XenSimMapping *m)
{
    if (m->remapped) {
        munmap(m->addr, m->count * XEN_PAGE_SIZE);
    } else {
        xen_sim_unmap_ram(&m->mrs);
    }
}

static xengnttab_handle *xen_sim_gnttab_open(void)
{
    xengnttab_handle *xgt = g_new0(xengnttab_handle, 1);

    xgt->maps = g_hash_table_new(NULL, NULL);
    return xgt;
}

static void gnttab_unmap_one(XenSimState *s, xengnttab_handle *xgt,
                             XenSimMapping *m)
{
    uint32_t i;

    g_hash_table_remove(xgt->maps, m->addr);
    unmap_frames(m);
    for (i = 0; i < m->count; i++) {
        grant_release(s, m->refs[i]);
    }
    s->stats.grant_unmaps += m->count;
    s->stats.grant_live_maps -= m->count;
    trace_xen_sim_grant_unmap(m->count, m->refs[0]);
    g_free(m);
}

static int xen_sim_gnttab_close(xengnttab_handle *xgt)
{
    GList *maps = g_hash_table_get_values(xgt->maps), *l;

    /* Closing the handle unmaps what is still mapped, as gntdev does. */
    for (l = maps; l; l = l->next) {
        gnttab_unmap_one(xen_sim, xgt, l->data);
    }
    g_list_free(maps);
    g_hash_table_destroy(xgt->maps);
    g_free(xgt);
    return 0;
}

static int xen_sim_gnttab_set_max_grants(xengnttab_handle *xgt,
                                         uint32_t nr_grants)
{
    return 0;                /* gntdev no longer limits per handle */
}

static void *xen_sim_gnttab_map_refs(xengnttab_handle *xgt, uint32_t count,
                                     uint32_t domid, uint32_t *refs,
                                     int prot)
{
    XenSimState *s = xen_sim;
    bool write = prot & PROT_WRITE;
    g_autofree uint64_t *gpas = NULL;
    XenSimMapping *m;
    uint32_t i, held = 0;
    int err = 0;

    if (!count || count > XEN_SIM_MAX_MAP_REFS ||
        (count > 1 && !s->map_multi)) {
        errno = EINVAL;
        return NULL;
    }
    gpas = g_new(uint64_t, count);
    for (i = 0; i < count; i++) {
        err = grant_check(s, domid, refs[i], write, true, &gpas[i]);
        if (err) {
            grant_refused(s, refs[i], err);
            goto fail;
        }
        grant_hold(s, refs[i]);
        held++;
    }
    m = g_malloc0(sizeof(*m) + count * sizeof(uint32_t));
    m->count = count;
    memcpy(m->refs, refs, count * sizeof(uint32_t));
    m->addr = map_frames(gpas, count, prot, m);
    if (!m->addr) {
        err = errno ? -errno : -EFAULT;
        grant_refused(s, refs[0], err);
        g_free(m);
        goto fail;
    }
    g_hash_table_insert(xgt->maps, m->addr, m);
    s->stats.grant_maps += count;
    s->stats.grant_live_maps += count;
    trace_xen_sim_grant_map(count, refs[0], write);
    return m->addr;

fail:
    for (i = 0; i < held; i++) {
        grant_release(s, refs[i]);
    }
    errno = -err;
    return NULL;
}

static int xen_sim_gnttab_unmap(xengnttab_handle *xgt, void *start_address,
                                uint32_t *refs, uint32_t count)
{
    XenSimMapping *m = g_hash_table_lookup(xgt->maps, start_address);

    if (!m || m->count != count) {
        errno = EINVAL;
        return -1;
    }
    gnttab_unmap_one(xen_sim, xgt, m);
    return 0;
}

static int xen_sim_gnttab_copy(xengnttab_handle *xgt, bool to_domain,
                               uint32_t domid, XenGrantCopySegment *segs,
                               uint32_t nr_segs, Error **errp)
{
    XenSimState *s = xen_sim;
    uint32_t i;

    for (i = 0; i < nr_segs; i++) {
        XenGrantCopySegment *seg = &segs[i];
        uint32_t ref = to_domain ? seg->dest.foreign.ref
                                 : seg->source.foreign.ref;
        off_t off = to_domain ? seg->dest.foreign.offset
                              : seg->source.foreign.offset;
        uint64_t gpa;
        int err;

        if (off < 0 || off >= XEN_PAGE_SIZE ||
            seg->len > XEN_PAGE_SIZE - off) {
            err = -EINVAL;
        } else {
            err = grant_check(s, domid, ref, to_domain, false, &gpa);
        }
        if (!err) {
            bool ok = to_domain ?
                xen_sim_write(s, gpa + off, seg->source.virt, seg->len) :
                xen_sim_read(s, gpa + off, seg->dest.virt, seg->len);
            err = ok ? 0 : -EFAULT;
        }
        if (err) {
            grant_refused(s, ref, err);
            error_setg_errno(errp, -err, "xen-sim: grant copy of ref %u",
                             ref);
            return -1;
        }
        s->stats.grant_copies++;
    }
    return 0;
}

/* .features is set at realize from the grant-map property. */
struct gnttab_backend_ops xen_sim_gnttab_ops = {
    .open = xen_sim_gnttab_open,
    .close = xen_sim_gnttab_close,
    .grant_copy = xen_sim_gnttab_copy,
    .set_max_grants = xen_sim_gnttab_set_max_grants,
    .map_refs = xen_sim_gnttab_map_refs,
    .unmap = xen_sim_gnttab_unmap,
};

/* Foreign memory: map guest frames by number, without grants. */

static void *xen_sim_foreignmem_map(uint32_t dom, void *addr, int prot,
                                    size_t pages, xen_pfn_t *pfns, int *errs)
{
    g_autofree uint64_t *gpas = NULL;
    XenSimMapping *m;
    size_t i;

    if (dom != xen_sim->domid || addr || !pages ||
        pages > XEN_SIM_MAX_MAP_REFS) {
        errno = EINVAL;
        return NULL;
    }
    gpas = g_new(uint64_t, pages);
    for (i = 0; i < pages; i++) {
        gpas[i] = (uint64_t)pfns[i] << XEN_PAGE_SHIFT;
        if (errs) {
            errs[i] = 0;
        }
    }
    m = g_malloc0(sizeof(*m));
    m->count = pages;
    m->addr = map_frames(gpas, pages, prot, m);
    if (!m->addr) {
        g_free(m);
        errno = EFAULT;
        return NULL;
    }
    if (!foreign_maps) {
        foreign_maps = g_hash_table_new(NULL, NULL);
    }
    g_hash_table_insert(foreign_maps, m->addr, m);
    return m->addr;
}

static int xen_sim_foreignmem_unmap(void *addr, size_t pages)
{
    XenSimMapping *m = foreign_maps ?
        g_hash_table_lookup(foreign_maps, addr) : NULL;

    if (!m || m->count != pages) {
        errno = EINVAL;
        return -1;
    }
    g_hash_table_remove(foreign_maps, addr);
    unmap_frames(m);
    g_free(m);
    return 0;
}

struct foreignmem_backend_ops xen_sim_foreignmem_ops = {
    .map = xen_sim_foreignmem_map,
    .unmap = xen_sim_foreignmem_unmap,
};
