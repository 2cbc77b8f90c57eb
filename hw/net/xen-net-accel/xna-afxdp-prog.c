/*
 * xen-net-accel: the AF_XDP NIC's XDP program and its maps
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "qapi/error.h"
#include "xna-afxdp-prog.h"
#include "ebpf/xna-afxdp.bpf.skeleton.h"
#include "trace.h"

struct XnaAfxdpProg {
    char *ifname;
    struct xna_afxdp_bpf *skel;
    struct bpf_link *link;
    struct ring_buffer *samples;
    int filters_fd;
    int xsks_fd;
    int stats_fd;
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
 * Load the program (tools/ebpf/xna-afxdp.bpf.c, carried by its bpftool
 * skeleton) with the filter map sized to the NIC's table.
 */
static bool prog_load(XnaAfxdpProg *p, const XnaAfxdpProgConfig *cfg,
                      Error **errp)
{
    struct xna_bpf_config c = {
        .start_queue = cfg->start_queue,
        .nr_vis = cfg->nr_vis,
    };
    uint32_t zero = 0;
    int ret;

    p->skel = xna_afxdp_bpf__open();
    if (!p->skel) {
        error_setg_errno(errp, errno, "XDP program: cannot open the object");
        return false;
    }
    ret = bpf_map__set_max_entries(p->skel->maps.xna_filters,
                                   cfg->max_filters);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "XDP program: filter map size %u",
                         cfg->max_filters);
        return false;
    }
    ret = xna_afxdp_bpf__load(p->skel);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "XDP program: load failed (see the "
                         "verifier's log above)");
        return false;
    }
    p->filters_fd = bpf_map__fd(p->skel->maps.xna_filters);
    p->xsks_fd = bpf_map__fd(p->skel->maps.xna_xsks);
    p->stats_fd = bpf_map__fd(p->skel->maps.xna_stats);
    memcpy(c.guest_mac, cfg->guest_mac, sizeof(c.guest_mac));
    ret = bpf_map_update_elem(bpf_map__fd(p->skel->maps.xna_config), &zero,
                              &c, BPF_ANY);
    if (ret < 0) {
        error_setg_errno(errp, errno, "XDP program: config map");
        return false;
    }
    p->samples = ring_buffer__new(bpf_map__fd(p->skel->maps.xna_samples),
                                  sample_cb, p, NULL);
    if (!p->samples) {
        error_setg_errno(errp, errno, "XDP program: sample ring");
        return false;
    }
    return true;
}

XnaAfxdpProg *xna_afxdp_prog_new(const XnaAfxdpProgConfig *cfg,
                                 Error **errp)
{
    XnaAfxdpProg *p = g_new0(XnaAfxdpProg, 1);

    p->ifname = g_strdup(cfg->ifname);
    if (!prog_load(p, cfg, errp)) {
        goto fail;
    }
    /*
     * Driver mode where the driver has it, else generic.  A link, not a
     * netlink attachment: it goes away with the last file descriptor,
     * also when QEMU is killed.
     */
    p->link = bpf_program__attach_xdp(p->skel->progs.xna_xdp, cfg->ifindex);
    if (!p->link) {
        int err = errno;

        error_setg_errno(errp, err, "ifname=%s: cannot attach an XDP "
                         "program%s", cfg->ifname,
                         err == EBUSY || err == EEXIST ?
                         " (another one is attached)" :
                         err == ERANGE ? " (the driver refused it: MTU too "
                         "large for XDP?)" : "");
        goto fail;
    }
    trace_xna_afxdp_attach(p->ifname,
                           bpf_program__fd(p->skel->progs.xna_xdp));
    return p;

fail:
    xna_afxdp_prog_free(p);
    return NULL;
}

void xna_afxdp_prog_free(XnaAfxdpProg *p)
{
    if (!p) {
        return;
    }
    if (p->link) {
        bpf_link__destroy(p->link);
        trace_xna_afxdp_detach(p->ifname);
    }
    ring_buffer__free(p->samples);
    xna_afxdp_bpf__destroy(p->skel);
    g_free(p->ifname);
    g_free(p);
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

int xna_afxdp_prog_xsk_set(XnaAfxdpProg *p, uint32_t vi, int fd)
{
    return bpf_map_update_elem(p->xsks_fd, &vi, &fd, BPF_ANY) < 0 ?
           -errno : 0;
}

void xna_afxdp_prog_xsk_del(XnaAfxdpProg *p, uint32_t vi)
{
    bpf_map_delete_elem(p->xsks_fd, &vi);
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
    uint32_t i;
    int c;

    memset(stats, 0, sizeof(uint64_t) * XNA_BPF_STAT_MAX);
    if (ncpus <= 0) {
        return;
    }
    v = g_new0(uint64_t, ncpus);
    for (i = 0; i < XNA_BPF_STAT_MAX; i++) {
        if (bpf_map_lookup_elem(p->stats_fd, &i, v) == 0) {
            for (c = 0; c < ncpus; c++) {
                stats[i] += v[c];
            }
        }
    }
}
