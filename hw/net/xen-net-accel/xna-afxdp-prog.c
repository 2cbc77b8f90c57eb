/*
 * xen-net-accel: the AF_XDP NIC's XDP program and its maps
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/un.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/ethtool.h>
#include <linux/filter.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "xna-afxdp-prog.h"
#include "ebpf/xna-afxdp.bpf.skeleton.h"
#include "trace.h"

/* How long a QEMU waits for another one joining the same interface. */
#define XNA_AFXDP_LOCK_WAIT_MS  2000
/*
 * Joins tried when the program, its maps or its link went between our
 * look and our grab (its last QEMU leaving, or killed: the kernel may
 * release the lock name before the link).
 */
#define XNA_AFXDP_JOIN_TRIES    5
/* Bounds the search for the link of the program among the host's. */
#define XNA_AFXDP_MAX_LINKS     65536

enum {
    MAP_GUESTS,
    MAP_FILTERS,
    MAP_XSKS,
    MAP_SAMPLES,
    MAP_STATS,
    NR_MAPS
};

/* What each map of the program must be, for a QEMU to join it. */
static const struct {
    const char *name;
    uint32_t type, key_size, value_size, max_entries;
} map_layout[NR_MAPS] = {
    [MAP_GUESTS] = { XNA_BPF_MAP_GUESTS, BPF_MAP_TYPE_HASH,
                     sizeof(struct xna_bpf_mac),
                     sizeof(struct xna_bpf_guest), XNA_BPF_MAX_GUESTS },
    [MAP_FILTERS] = { XNA_BPF_MAP_FILTERS, BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4,
                      XNA_BPF_MAX_GUESTS },
    [MAP_XSKS] = { XNA_BPF_MAP_XSKS, BPF_MAP_TYPE_XSKMAP, 4, 4,
                   XNA_BPF_MAX_GUESTS * XNA_BPF_MAX_VIS },
    [MAP_SAMPLES] = { XNA_BPF_MAP_SAMPLES, BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4,
                      XNA_BPF_MAX_GUESTS },
    [MAP_STATS] = { XNA_BPF_MAP_STATS, BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8,
                    XNA_BPF_STATS_ROWS * XNA_BPF_STAT_MAX },
};

struct XnaAfxdpProg {
    char *ifname;
    int ifindex;
    uint32_t prog_id;
    /* Loaded and attached by this QEMU: the skeleton owns the fds. */
    struct xna_afxdp_bpf *skel;
    struct bpf_link *link;
    /* Joined: our own references to the program, its link and maps. */
    int prog_fd;
    int link_fd;
    int map_fd[NR_MAPS];

    bool vanished;           /* the join failed as the program went */
    bool imported;           /* a slot the helper holds for us */

    int slot_sock;           /* bound while this QEMU holds the slot */
    uint32_t slot;
    uint32_t start_queue;
    uint32_t nr_vis;
    uint8_t mac[6];
    bool guest_in;           /* our entry is in the guests map */
    int ring_fd;             /* our sample ring, in the samples map */
    int filters_fd;          /* our filter map, in the filters map */
    struct ring_buffer *samples;
    XnaAfxdpSampleFn sample_fn;
    void *sample_opaque;
};

static int sample_cb(void *ctx, void *data, size_t size)
{
    XnaAfxdpProg *p = ctx;

    if (p->sample_fn) {
        p->sample_fn(p->sample_opaque, data, size);
    }
    return 0;
}

/*
 * Bind an abstract Unix socket to @name: a lock or a claim that only one
 * process in this network namespace holds, released by the kernel when
 * the process dies.  The fd, or a negative errno (-EADDRINUSE: held).
 */
static int name_take(const char *name)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    size_t len = strlen(name);
    int fd;

    assert(len + 1 < sizeof(a.sun_path));
    memcpy(a.sun_path + 1, name, len);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    if (bind(fd, (struct sockaddr *)&a,
             offsetof(struct sockaddr_un, sun_path) + 1 + len) < 0) {
        int err = -errno;

        close(fd);
        return err;
    }
    return fd;
}

static char *slot_name(uint32_t prog_id, uint32_t slot)
{
    return g_strdup_printf("xen-net-accel/xdp/prog%u/slot%u", prog_id, slot);
}

/*
 * Is the QEMU that took @slot of program @prog_id still running?  1 if
 * so, 0 if not (its name was free), a negative errno if we cannot tell:
 * only a name we could take is free, never one we failed to look at.
 */
static int slot_held(uint32_t prog_id, uint32_t slot)
{
    g_autofree char *name = slot_name(prog_id, slot);
    int fd = name_take(name);

    if (fd >= 0) {
        close(fd);
        return 0;
    }
    return fd == -EADDRINUSE ? 1 : fd;
}

/* The interface's lock: the fd to close to release it, or -1. */
static int iface_lock(int ifindex, const char *ifname, Error **errp)
{
    g_autofree char *name = g_strdup_printf("xen-net-accel/xdp/if%d",
                                            ifindex);
    int64_t until = g_get_monotonic_time() + XNA_AFXDP_LOCK_WAIT_MS * 1000;
    int fd;

    /* Held only for the few system calls of a join or a leave. */
    while ((fd = name_take(name)) == -EADDRINUSE &&
           g_get_monotonic_time() < until) {
        g_usleep(1000);
    }
    if (fd < 0) {
        error_setg_errno(errp, -fd, "ifname=%s: cannot take the lock of "
                         "its XDP program%s", ifname, fd == -EADDRINUSE ?
                         " (another QEMU held it for 2 s)" : "");
        return -1;
    }
    return fd;
}

/* The program attached to @ifindex, 0 if none, or a negative errno. */
static int64_t attached_prog(int ifindex)
{
    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    int ret = bpf_xdp_query(ifindex, 0, &q);

    if (ret < 0) {
        return ret;
    }
    if (q.attach_mode == XDP_ATTACHED_MULTI) {
        return -EBUSY;
    }
    return q.prog_id;
}

/* Load the program and attach it (the first guest of the interface). */
static bool prog_create(XnaAfxdpProg *p, Error **errp)
{
    struct bpf_prog_info pi = { 0 };
    uint32_t len = sizeof(pi);
    int ret;

    p->skel = xna_afxdp_bpf__open();
    if (!p->skel) {
        error_setg_errno(errp, errno, "XDP program: cannot open the object");
        return false;
    }
    ret = xna_afxdp_bpf__load(p->skel);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "XDP program: load failed (see the "
                         "verifier's log above)");
        return false;
    }
    p->map_fd[MAP_GUESTS] = bpf_map__fd(p->skel->maps.xna_guests_v3);
    p->map_fd[MAP_FILTERS] = bpf_map__fd(p->skel->maps.xna_filters);
    p->map_fd[MAP_XSKS] = bpf_map__fd(p->skel->maps.xna_xsks);
    p->map_fd[MAP_SAMPLES] = bpf_map__fd(p->skel->maps.xna_samples);
    p->map_fd[MAP_STATS] = bpf_map__fd(p->skel->maps.xna_stats);
    /*
     * Driver mode where the driver has it, else generic.  A link, not a
     * netlink attachment: the kernel detaches it with the last file
     * descriptor, also when QEMU is killed.
     */
    p->link = bpf_program__attach_xdp(p->skel->progs.xna_xdp, p->ifindex);
    if (!p->link) {
        int err = errno;

        error_setg_errno(errp, err, "ifname=%s: cannot attach an XDP "
                         "program%s", p->ifname,
                         err == EBUSY || err == EEXIST ?
                         " (another one is attached)" :
                         err == ERANGE ? " (the driver refused it: MTU too "
                         "large for XDP?)" : "");
        return false;
    }
    if (bpf_obj_get_info_by_fd(bpf_program__fd(p->skel->progs.xna_xdp),
                               &pi, &len) < 0) {
        error_setg_errno(errp, errno, "XDP program: its id");
        return false;
    }
    p->prog_id = pi.id;
    trace_xna_afxdp_attach(p->ifname, p->prog_id);
    return true;
}

/* A file descriptor of the link that attaches @prog_id to @ifindex. */
static int find_link(int ifindex, uint32_t prog_id)
{
    uint32_t id = 0;
    int n;

    for (n = 0; n < XNA_AFXDP_MAX_LINKS &&
                bpf_link_get_next_id(id, &id) == 0; n++) {
        struct bpf_link_info li = { 0 };
        uint32_t len = sizeof(li);
        int fd = bpf_link_get_fd_by_id(id);

        if (fd < 0) {
            continue;
        }
        if (bpf_obj_get_info_by_fd(fd, &li, &len) == 0 &&
            li.type == BPF_LINK_TYPE_XDP && li.prog_id == prog_id &&
            li.xdp.ifindex == (uint32_t)ifindex) {
            return fd;
        }
        close(fd);
    }
    return -1;
}

/* Take references to the program another QEMU attached, and its maps. */
static bool prog_join(XnaAfxdpProg *p, uint32_t prog_id, Error **errp)
{
    struct bpf_prog_info pi = { 0 };
    uint32_t map_ids[NR_MAPS + 1];
    uint32_t len = sizeof(pi), i;
    int m;

    p->prog_fd = bpf_prog_get_fd_by_id(prog_id);
    if (p->prog_fd < 0) {
        p->vanished = errno == ENOENT;
        error_setg_errno(errp, errno, "ifname=%s: XDP program %u", p->ifname,
                         prog_id);
        return false;
    }
    pi.nr_map_ids = ARRAY_SIZE(map_ids);
    pi.map_ids = (uintptr_t)map_ids;
    if (bpf_obj_get_info_by_fd(p->prog_fd, &pi, &len) < 0) {
        error_setg_errno(errp, errno, "ifname=%s: XDP program %u", p->ifname,
                         prog_id);
        return false;
    }
    if (strcmp(pi.name, XNA_BPF_PROG) || pi.nr_map_ids != NR_MAPS) {
        error_setg(errp, "ifname=%s: another XDP program is attached "
                   "(id %u, '%s'), not xen-net-accel's", p->ifname, prog_id,
                   pi.name);
        return false;
    }
    for (i = 0; i < NR_MAPS; i++) {
        struct bpf_map_info mi = { 0 };
        uint32_t mlen = sizeof(mi);
        int fd = bpf_map_get_fd_by_id(map_ids[i]);

        if (fd < 0) {
            p->vanished |= errno == ENOENT;
            continue;
        }
        if (bpf_obj_get_info_by_fd(fd, &mi, &mlen) == 0) {
            for (m = 0; m < NR_MAPS; m++) {
                if (p->map_fd[m] < 0 && !strcmp(mi.name, map_layout[m].name) &&
                    mi.type == map_layout[m].type &&
                    mi.key_size == map_layout[m].key_size &&
                    mi.value_size == map_layout[m].value_size &&
                    mi.max_entries == map_layout[m].max_entries) {
                    p->map_fd[m] = fd;
                    fd = -1;
                    break;
                }
            }
        }
        if (fd >= 0) {
            close(fd);
        }
    }
    for (m = 0; m < NR_MAPS; m++) {
        if (p->map_fd[m] < 0) {
            break;
        }
    }
    if (m < NR_MAPS) {
        error_setg(errp, "ifname=%s: the XDP program attached (id %u) is "
                   "another version of xen-net-accel's: the guests of one "
                   "interface need QEMUs of one version", p->ifname,
                   prog_id);
        return false;
    }
    p->link_fd = find_link(p->ifindex, prog_id);
    if (p->link_fd < 0) {
        /* Detached since we looked: gone with its last QEMU. */
        p->vanished = attached_prog(p->ifindex) != prog_id;
        error_setg(errp, "ifname=%s: XDP program %u is attached without a "
                   "link: not by a xen-net-accel QEMU", p->ifname, prog_id);
        return false;
    }
    p->prog_id = prog_id;
    trace_xna_afxdp_join(p->ifname, prog_id);
    return true;
}

static void stats_clear(XnaAfxdpProg *p, uint32_t slot)
{
    int ncpus = libbpf_num_possible_cpus();
    g_autofree uint64_t *zero = NULL;
    uint32_t i, idx;

    if (ncpus <= 0) {
        return;
    }
    zero = g_new0(uint64_t, ncpus);
    for (i = 0; i < XNA_BPF_STAT_MAX; i++) {
        idx = slot * XNA_BPF_STAT_MAX + i;
        bpf_map_update_elem(p->map_fd[MAP_STATS], &idx, zero, BPF_ANY);
    }
}

/*
 * Take a free slot: the first whose name nobody holds.  What a QEMU that
 * died in it left is replaced after guests_scan() (its guest's entry
 * first, so that no frame counts or samples into it meanwhile).
 */
static bool slot_take(XnaAfxdpProg *p, Error **errp)
{
    uint32_t s;

    for (s = 0; s < XNA_BPF_MAX_GUESTS; s++) {
        g_autofree char *name = slot_name(p->prog_id, s);

        p->slot_sock = name_take(name);
        if (p->slot_sock >= 0) {
            p->slot = s;
            return true;
        }
        if (p->slot_sock != -EADDRINUSE) {
            error_setg_errno(errp, -p->slot_sock, "ifname=%s: slot of the "
                             "XDP program", p->ifname);
            return false;
        }
    }
    error_setg(errp, "ifname=%s: %d guests use its XDP program already",
               p->ifname, XNA_BPF_MAX_GUESTS);
    return false;
}

/*
 * The guests of the program: drop the entries of guests whose QEMU is
 * gone, refuse our MAC if a live one has it, and mark the queues of the
 * live ones in @used (XNA_BPF_MAX_QUEUES of them).
 */
static bool guests_scan(XnaAfxdpProg *p, bool *used, Error **errp)
{
    struct xna_bpf_mac macs[XNA_BPF_MAX_GUESTS];
    struct xna_bpf_mac key, next;
    struct xna_bpf_guest g;
    void *prev = NULL;
    uint32_t n = 0, steps, i, k, q;
    int held;

    /*
     * Every key once.  Entries only change under the interface's lock,
     * which we hold: the walk does not restart, but is bounded anyway.
     */
    for (steps = 0; n < XNA_BPF_MAX_GUESTS && steps < 4 * XNA_BPF_MAX_GUESTS &&
                    bpf_map_get_next_key(p->map_fd[MAP_GUESTS], prev,
                                         &next) == 0; steps++) {
        for (k = 0; k < n && memcmp(&macs[k], &next, sizeof(next)); k++) {
            /* seen? */
        }
        if (k == n) {
            macs[n++] = next;
        }
        key = next;
        prev = &key;
    }
    for (i = 0; i < n; i++) {
        if (bpf_map_lookup_elem(p->map_fd[MAP_GUESTS], &macs[i], &g) < 0) {
            continue;
        }
        held = g.slot == p->slot || g.slot >= XNA_BPF_MAX_GUESTS ? 0 :
               slot_held(p->prog_id, g.slot);
        if (held < 0) {
            error_setg_errno(errp, -held, "ifname=%s: cannot tell whether "
                             "the QEMU of slot %u of its XDP program runs",
                             p->ifname, g.slot);
            return false;
        }
        if (!held) {
            bpf_map_delete_elem(p->map_fd[MAP_GUESTS], &macs[i]);
            continue;
        }
        if (!memcmp(macs[i].addr, p->mac, sizeof(p->mac))) {
            error_setg(errp, "ifname=%s: MAC %02x:%02x:%02x:%02x:%02x:%02x "
                       "is accelerated there already (by another QEMU)",
                       p->ifname, p->mac[0], p->mac[1], p->mac[2], p->mac[3],
                       p->mac[4], p->mac[5]);
            return false;
        }
        for (q = g.start_queue;
             q < XNA_BPF_MAX_QUEUES && q - g.start_queue < g.nr_vis; q++) {
            used[q] = true;
        }
    }
    return true;
}

static bool queues_free(const bool *used, uint32_t start, uint32_t n,
                        uint32_t limit)
{
    uint32_t q;

    if (start >= limit || n > limit - start) {
        return false;
    }
    for (q = start; q < start + n; q++) {
        if (used[q]) {
            return false;
        }
    }
    return true;
}

/*
 * Our queues: the ones asked for; else the ones this guest had before
 * if they are free (the NIC's steering may point there), else the first
 * free ones.
 */
static bool queues_take(XnaAfxdpProg *p, const XnaAfxdpProgConfig *cfg,
                        const bool *used, Error **errp)
{
    uint32_t limit = MIN(cfg->nr_queues, XNA_BPF_MAX_QUEUES);
    uint32_t s;

    if (cfg->start_queue != XNA_AFXDP_QUEUE_AUTO) {
        if (queues_free(used, cfg->start_queue, cfg->nr_vis, limit)) {
            p->start_queue = cfg->start_queue;
            return true;
        }
        error_setg(errp, "ifname=%s: queues %u..%u are not free (another "
                   "guest's VIs use some, or they are beyond %u)", p->ifname,
                   cfg->start_queue, cfg->start_queue + cfg->nr_vis - 1,
                   limit);
        return false;
    }
    if (queues_free(used, cfg->prefer_queue, cfg->nr_vis, limit)) {
        p->start_queue = cfg->prefer_queue;
        return true;
    }
    for (s = 0; s < limit; s++) {
        if (queues_free(used, s, cfg->nr_vis, limit)) {
            p->start_queue = s;
            return true;
        }
    }
    error_setg(errp, "ifname=%s: no %u free receive queues in a row "
               "(of %u; other guests' VIs use the others)", p->ifname,
               cfg->nr_vis, limit);
    return false;
}

/* Our filter map, in our slot of the filters map (a dead one's goes). */
static bool filters_add(XnaAfxdpProg *p, uint32_t max_filters, Error **errp)
{
    LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);

    /* One more than the table: the MAC filter is kept out of it. */
    p->filters_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "xna_guest_flt",
                                   sizeof(struct xna_bpf_key),
                                   sizeof(struct xna_bpf_filter),
                                   max_filters + 1, &o);
    if (p->filters_fd < 0) {
        error_setg_errno(errp, -p->filters_fd, "XDP program: filter map");
        return false;
    }
    if (bpf_map_update_elem(p->map_fd[MAP_FILTERS], &p->slot, &p->filters_fd,
                            BPF_ANY) < 0) {
        error_setg_errno(errp, errno, "XDP program: filters map");
        return false;
    }
    return true;
}

/* Our sample ring, in our slot of the samples map. */
static bool ring_add(XnaAfxdpProg *p, Error **errp)
{
    p->ring_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "xna_ring", 0, 0,
                                XNA_BPF_SAMPLE_RING, NULL);
    if (p->ring_fd < 0) {
        error_setg_errno(errp, -p->ring_fd, "XDP program: sample ring");
        return false;
    }
    if (bpf_map_update_elem(p->map_fd[MAP_SAMPLES], &p->slot, &p->ring_fd,
                            BPF_ANY) < 0) {
        error_setg_errno(errp, errno, "XDP program: samples map");
        return false;
    }
    p->samples = ring_buffer__new(p->ring_fd, sample_cb, p, NULL);
    if (!p->samples) {
        error_setg_errno(errp, errno, "XDP program: sample ring");
        return false;
    }
    return true;
}

static bool guest_add(XnaAfxdpProg *p, Error **errp)
{
    struct xna_bpf_guest g = {
        .slot = p->slot,
        .start_queue = p->start_queue,
        .nr_vis = p->nr_vis,
    };
    struct xna_bpf_mac mac = { { 0 } };

    memcpy(mac.addr, p->mac, sizeof(mac.addr));
    if (bpf_map_update_elem(p->map_fd[MAP_GUESTS], &mac, &g,
                            BPF_NOEXIST) < 0) {
        error_setg_errno(errp, errno, "XDP program: guests map");
        return false;
    }
    p->guest_in = true;
    return true;
}

static bool prog_setup(XnaAfxdpProg *p, const XnaAfxdpProgConfig *cfg,
                       Error **errp)
{
    g_autofree bool *used = g_new0(bool, XNA_BPF_MAX_QUEUES);
    int64_t id = attached_prog(cfg->ifindex);

    if (id < 0) {
        error_setg_errno(errp, -id, "ifname=%s: cannot query its XDP "
                         "program%s", cfg->ifname, id == -EBUSY ?
                         " (several are attached)" : "");
        return false;
    }
    if (id ? !prog_join(p, id, errp) : !prog_create(p, errp)) {
        return false;
    }
    if (!slot_take(p, errp) || !guests_scan(p, used, errp)) {
        return false;
    }
    /* No guest names our slot now: what a dead QEMU left goes. */
    stats_clear(p, p->slot);
    return ring_add(p, errp) && filters_add(p, cfg->max_filters, errp) &&
           queues_take(p, cfg, used, errp) && guest_add(p, errp);
}

static XnaAfxdpProg *prog_alloc(const XnaAfxdpProgConfig *cfg)
{
    XnaAfxdpProg *p = g_new0(XnaAfxdpProg, 1);
    int m;

    p->ifname = g_strdup(cfg->ifname);
    p->ifindex = cfg->ifindex;
    p->nr_vis = cfg->nr_vis;
    memcpy(p->mac, cfg->guest_mac, sizeof(p->mac));
    p->prog_fd = p->link_fd = p->slot_sock = p->ring_fd = -1;
    p->filters_fd = -1;
    for (m = 0; m < NR_MAPS; m++) {
        p->map_fd[m] = -1;
    }
    return p;
}

/*
 * Leave, under the interface's lock: first the sockets of our VIs and
 * our guest's entry (no frame finds us after), then our slot's filters
 * and ring, then our references.  Only what is ours: a QEMU refused at
 * join touches nothing of the others'.
 */
static void prog_leave(XnaAfxdpProg *p)
{
    struct xna_bpf_mac mac = { { 0 } };
    uint32_t v, idx;
    int m;

    if (p->slot_sock >= 0) {
        for (v = 0; v < XNA_BPF_MAX_VIS; v++) {
            idx = p->slot * XNA_BPF_MAX_VIS + v;
            bpf_map_delete_elem(p->map_fd[MAP_XSKS], &idx);
        }
    }
    if (p->guest_in) {
        memcpy(mac.addr, p->mac, sizeof(mac.addr));
        bpf_map_delete_elem(p->map_fd[MAP_GUESTS], &mac);
    }
    if (p->slot_sock >= 0) {
        bpf_map_delete_elem(p->map_fd[MAP_FILTERS], &p->slot);
        bpf_map_delete_elem(p->map_fd[MAP_SAMPLES], &p->slot);
    }
    ring_buffer__free(p->samples);
    if (p->ring_fd >= 0) {
        close(p->ring_fd);
    }
    if (p->filters_fd >= 0) {
        close(p->filters_fd);
    }
    if (p->skel) {
        /* Closes our fd of the link: others may hold it attached. */
        bpf_link__destroy(p->link);
        xna_afxdp_bpf__destroy(p->skel);
    } else {
        for (m = 0; m < NR_MAPS; m++) {
            if (p->map_fd[m] >= 0) {
                close(p->map_fd[m]);
            }
        }
        if (p->link_fd >= 0) {
            close(p->link_fd);
        }
        if (p->prog_fd >= 0) {
            close(p->prog_fd);
        }
    }
    if (p->slot_sock >= 0) {
        close(p->slot_sock);
    }
    if (p->prog_id) {
        trace_xna_afxdp_leave(p->ifname, p->prog_id);
    }
    g_free(p->ifname);
    g_free(p);
}

XnaAfxdpProg *xna_afxdp_prog_new(const XnaAfxdpProgConfig *cfg,
                                 Error **errp)
{
    XnaAfxdpProg *p = NULL;
    int lock, tries;

    lock = iface_lock(cfg->ifindex, cfg->ifname, errp);
    if (lock < 0) {
        return NULL;
    }
    for (tries = 0; tries < XNA_AFXDP_JOIN_TRIES; tries++) {
        Error *err = NULL;
        bool vanished;

        p = prog_alloc(cfg);
        if (prog_setup(p, cfg, &err)) {
            trace_xna_afxdp_slot(p->ifname, p->prog_id, p->slot,
                                 p->start_queue, p->nr_vis);
            break;
        }
        vanished = p->vanished;
        prog_leave(p);
        p = NULL;
        if (!vanished || tries + 1 == XNA_AFXDP_JOIN_TRIES) {
            error_propagate(errp, err);
            break;
        }
        /* Its last QEMU is leaving (or was killed): look again. */
        error_free(err);
        g_usleep(10 * 1000);
    }
    close(lock);
    return p;
}

void xna_afxdp_prog_free(XnaAfxdpProg *p)
{
    int lock;

    if (!p) {
        return;
    }
    if (p->imported) {
        prog_leave(p);       /* our descriptors; the helper leaves */
        return;
    }
    /*
     * Without the lock (another QEMU held it 2 s, which a join never
     * takes) leave anyway: what we remove is only ours.
     */
    lock = iface_lock(p->ifindex, p->ifname, NULL);
    prog_leave(p);
    if (lock >= 0) {
        close(lock);
    }
}

bool xna_afxdp_prog_export(XnaAfxdpProg *p, int fds[3], uint32_t *prog_id,
                           uint32_t *slot, Error **errp)
{
    LIBBPF_OPTS(bpf_get_fd_by_id_opts, ro, .open_flags = BPF_F_RDONLY);
    struct bpf_map_info mi = { 0 };
    uint32_t len = sizeof(mi);

    fds[0] = fds[1] = fds[2] = -1;
    if (bpf_obj_get_info_by_fd(p->map_fd[MAP_STATS], &mi, &len) == 0) {
        fds[2] = bpf_map_get_fd_by_id_opts(mi.id, &ro);
    }
    if (fds[2] >= 0) {
        fds[0] = fcntl(p->filters_fd, F_DUPFD_CLOEXEC, 0);
    }
    if (fds[0] >= 0) {
        fds[1] = fcntl(p->ring_fd, F_DUPFD_CLOEXEC, 0);
    }
    if (fds[1] < 0) {
        error_setg_errno(errp, errno, "ifname=%s: descriptors of the slot",
                         p->ifname);
        for (len = 0; len < 3; len++) {
            if (fds[len] >= 0) {
                close(fds[len]);
            }
        }
        return false;
    }
    *prog_id = p->prog_id;
    *slot = p->slot;
    return true;
}

XnaAfxdpProg *xna_afxdp_prog_import(const XnaAfxdpProgConfig *cfg,
                                    uint32_t prog_id, uint32_t slot,
                                    uint32_t start_queue, const int fds[3],
                                    Error **errp)
{
    XnaAfxdpProg *p = prog_alloc(cfg);

    p->imported = true;
    p->filters_fd = fds[0];
    p->ring_fd = fds[1];
    p->map_fd[MAP_STATS] = fds[2];
    p->prog_id = prog_id;
    p->slot = slot;
    p->start_queue = start_queue;
    if (slot >= XNA_BPF_MAX_GUESTS || start_queue >= XNA_BPF_MAX_QUEUES ||
        cfg->nr_vis > XNA_BPF_MAX_QUEUES - start_queue) {
        error_setg(errp, "ifname=%s: the helper gave slot %u, queue %u",
                   p->ifname, slot, start_queue);
        prog_leave(p);
        return NULL;
    }
    p->samples = ring_buffer__new(p->ring_fd, sample_cb, p, NULL);
    if (!p->samples) {
        error_setg_errno(errp, errno, "ifname=%s: sample ring", p->ifname);
        prog_leave(p);
        return NULL;
    }
    trace_xna_afxdp_slot(p->ifname, p->prog_id, p->slot, p->start_queue,
                         p->nr_vis);
    return p;
}

/* Send buffer of a pool VI's packet socket (bytes of frames in flight). */
#define XNA_AFXDP_PACKET_SNDBUF (4 * 1024 * 1024)

int xna_afxdp_packet_socket(int ifindex, const char *ifname, Error **errp)
{
    static struct sock_filter drop_all[] = {
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    struct sock_fprog drop = {
        .len = ARRAY_SIZE(drop_all), .filter = drop_all,
    };
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET,
        .sll_ifindex = ifindex,      /* protocol 0: nothing received */
    };
    int one = 1, sndbuf = XNA_AFXDP_PACKET_SNDBUF;
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

    if (fd < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &drop,
                   sizeof(drop)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof(one)) < 0 ||
        bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
        setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one,
                   sizeof(one)) < 0) {
        error_setg_errno(errp, errno, "ifname=%s: AF_PACKET socket to send",
                         ifname);
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    /*
     * Room for bursts, as a copy socket's 1024 transmit chunks give: a
     * frame stays charged to the socket until the peer has taken it.
     * Beyond the system's limit only with CAP_NET_ADMIN.
     */
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
                   sizeof(sndbuf)) < 0) {
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    }
    return fd;
}

int xna_afxdp_rx_queues(const char *ifname, Error **errp)
{
    struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
    struct ifreq ifr = { 0 };
    int fd, ret;

    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error_setg_errno(errp, errno, "socket for ethtool");
        return -1;
    }
    pstrcpy(ifr.ifr_name, sizeof(ifr.ifr_name), ifname);
    ifr.ifr_data = (void *)&ch;
    ret = ioctl(fd, SIOCETHTOOL, &ifr);
    close(fd);
    if (ret < 0) {
        /* A driver without channels has one queue. */
        return errno == EOPNOTSUPP ? 1 : 0;
    }
    return MAX(1, ch.rx_count + ch.combined_count);
}

uint32_t xna_afxdp_prog_start_queue(XnaAfxdpProg *p)
{
    return p->start_queue;
}

int xna_afxdp_prog_filter_set(XnaAfxdpProg *p, const struct xna_bpf_key *key,
                              uint32_t vi)
{
    struct xna_bpf_filter v = { .vi = vi };

    return bpf_map_update_elem(p->filters_fd, key, &v, BPF_ANY) < 0 ?
           -errno : 0;
}

int xna_afxdp_prog_filter_del(XnaAfxdpProg *p, const struct xna_bpf_key *key)
{
    return bpf_map_delete_elem(p->filters_fd, key) < 0 ? -errno : 0;
}

void xna_afxdp_prog_filters_clear(XnaAfxdpProg *p)
{
    struct xna_bpf_key key;

    /* Deleting the first key each time: the map's size bounds the loop. */
    while (bpf_map_get_next_key(p->filters_fd, NULL, &key) == 0 &&
           bpf_map_delete_elem(p->filters_fd, &key) == 0) {
        /* next */
    }
}

/* @vi's socket, bound to queue start_queue + @vi, in our slot's range. */
int xna_afxdp_prog_xsk_set(XnaAfxdpProg *p, uint32_t vi, int fd)
{
    uint32_t idx = p->slot * XNA_BPF_MAX_VIS + vi;

    if (vi >= p->nr_vis || vi >= XNA_BPF_MAX_VIS || p->imported) {
        return -EINVAL;
    }
    return bpf_map_update_elem(p->map_fd[MAP_XSKS], &idx, &fd, BPF_ANY) < 0 ?
           -errno : 0;
}

void xna_afxdp_prog_xsk_del(XnaAfxdpProg *p, uint32_t vi)
{
    uint32_t idx = p->slot * XNA_BPF_MAX_VIS + vi;

    if (vi < p->nr_vis && vi < XNA_BPF_MAX_VIS && !p->imported) {
        bpf_map_delete_elem(p->map_fd[MAP_XSKS], &idx);
    }
}

int xna_afxdp_prog_samples_fd(XnaAfxdpProg *p)
{
    return ring_buffer__epoll_fd(p->samples);
}

void xna_afxdp_prog_samples_drain(XnaAfxdpProg *p, XnaAfxdpSampleFn fn,
                                  void *opaque)
{
    p->sample_fn = fn;
    p->sample_opaque = opaque;
    ring_buffer__consume(p->samples);
    p->sample_fn = NULL;
}

void xna_afxdp_prog_stats(XnaAfxdpProg *p, uint64_t stats[XNA_BPF_STAT_MAX])
{
    int ncpus = libbpf_num_possible_cpus();
    g_autofree uint64_t *v = NULL;
    uint32_t i, idx;
    int c;

    memset(stats, 0, sizeof(uint64_t) * XNA_BPF_STAT_MAX);
    if (ncpus <= 0) {
        return;
    }
    v = g_new0(uint64_t, ncpus);
    for (i = 0; i < XNA_BPF_STAT_MAX; i++) {
        idx = p->slot * XNA_BPF_STAT_MAX + i;
        if (bpf_map_lookup_elem(p->map_fd[MAP_STATS], &idx, v) == 0) {
            for (c = 0; c < ncpus; c++) {
                stats[i] += v[c];
            }
        }
    }
}
