/*
 * xen-net-accel: the XDP program of the AF_XDP NIC
 *
 * Runs on every frame the host interface receives, for every guest
 * accelerated on it: one program per interface, shared by the QEMUs of
 * those guests (xna-afxdp-prog.c: the first attaches it, each holds it,
 * it goes with the last), each guest in its own slot of the maps.  A
 * frame's destination MAC names its guest (xna_guests_v3); frames to no
 * guest go on to the kernel untouched.  A guest's frames that match one
 * of its filters (destination IPv4/IPv6 address and TCP/UDP port, else
 * its MAC; the keys of the backend's filter table) go to the AF_XDP
 * socket of their VI.  The others go on to the kernel's stack (to
 * netfront's path); when they are unicast TCP/UDP, a copy goes to that
 * guest's backend through its ring buffer too, so that it learns the
 * flow and inserts a filter: that ring is the NIC's default queue.  So
 * do ARP frames to the guest's MAC (replies to the guest's requests),
 * from which the backend learns which hosts are on this interface's
 * side (WIRE_MAC) without a flow of theirs.
 *
 * Built by tools/gen-bpf-skeleton (QEMU's tools/ebpf/Makefile.ebpf: clang
 * -target bpf, then bpftool gen skeleton) into the committed
 * ebpf/xna-afxdp.bpf.skeleton.h, which QEMU compiles in.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../../ebpf/xna-afxdp-bpf.h"

#define VLAN_HLEN       4
#define IPV6_HLEN       40
#define PROTO_TCP       6
#define PROTO_UDP       17

/*
 * Not preallocated: an entry deleted is not reused under a reader that
 * still holds it (the program copies it once anyway).
 */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, XNA_BPF_MAX_GUESTS);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct xna_bpf_mac);
    __type(value, struct xna_bpf_guest);
} xna_guests_v3 SEC(".maps");

/*
 * Index: the slot.  Each guest's QEMU puts there a filter map of its own,
 * sized to its max-filters: a guest can neither fill another's nor match
 * a frame to another's MAC, and a QEMU that takes a dead one's slot
 * replaces its filters whole.
 */
struct xna_filter_map {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(key_size, sizeof(struct xna_bpf_key));
    __uint(value_size, sizeof(struct xna_bpf_filter));
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, XNA_BPF_MAX_GUESTS);
    __type(key, __u32);
    __array(values, struct xna_filter_map);
} xna_filters SEC(".maps");

/*
 * Index: slot * XNA_BPF_MAX_VIS + VI, the VI's socket, which its guest's
 * QEMU bound to queue start_queue + VI.  The kernel drops an entry when
 * its socket closes.
 */
struct {
    __uint(type, BPF_MAP_TYPE_XSKMAP);
    __uint(max_entries, XNA_BPF_MAX_GUESTS * XNA_BPF_MAX_VIS);
    __type(key, __u32);
    __type(value, __u32);
} xna_xsks SEC(".maps");

/* Index: the slot; each guest's QEMU puts its own ring in its slot. */
struct xna_ring {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, XNA_BPF_SAMPLE_RING);
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, XNA_BPF_MAX_GUESTS);
    __type(key, __u32);
    __array(values, struct xna_ring);
} xna_samples SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, XNA_BPF_STATS_ROWS * XNA_BPF_STAT_MAX);
    __type(key, __u32);
    __type(value, __u64);
} xna_stats SEC(".maps");

static __always_inline void count(__u32 slot, __u32 stat)
{
    __u32 i = slot * XNA_BPF_STAT_MAX + stat;
    __u64 *v = bpf_map_lookup_elem(&xna_stats, &i);

    if (v) {
        *v += 1;
    }
}

/*
 * Parse the destination flow of a frame into @key; as the backend's
 * classifier does: one optional VLAN tag, no IP options beyond the
 * header length, no IPv6 extension headers, no fragments.  Returns 1
 * when the frame has a TCP/UDP destination.
 */
static __always_inline int parse_flow(void *data, void *end,
                                      struct xna_bpf_key *key)
{
    struct ethhdr *eth = data;
    __u16 proto;
    __u8 *l3, *l4, l4proto;

    if ((void *)(eth + 1) > end) {
        return 0;
    }
    proto = eth->h_proto;
    l3 = (__u8 *)(eth + 1);
    if (proto == bpf_htons(ETH_P_8021Q)) {
        if (l3 + VLAN_HLEN > (__u8 *)end) {
            return 0;
        }
        proto = *(__u16 *)(l3 + 2);
        l3 += VLAN_HLEN;
    }
    if (proto == bpf_htons(ETH_P_IP)) {
        __u32 ihl;

        if (l3 + 20 > (__u8 *)end || (l3[0] >> 4) != 4) {
            return 0;
        }
        ihl = (l3[0] & 0xf) * 4;
        /* Fragments (offset or more-fragments set) have no ports. */
        if (ihl < 20 || (*(__u16 *)(l3 + 6) & bpf_htons(0x3fff))) {
            return 0;
        }
        l4proto = l3[9];
        l4 = l3 + ihl;
        if (l4proto == PROTO_TCP) {
            key->kind = XNA_BPF_FILTER_IPV4_TCP;
        } else if (l4proto == PROTO_UDP) {
            key->kind = XNA_BPF_FILTER_IPV4_UDP;
        } else {
            return 0;
        }
        __builtin_memcpy(key->dst_addr, l3 + 16, 4);
    } else if (proto == bpf_htons(ETH_P_IPV6)) {
        if (l3 + IPV6_HLEN > (__u8 *)end || (l3[0] >> 4) != 6) {
            return 0;
        }
        l4proto = l3[6];
        l4 = l3 + IPV6_HLEN;
        if (l4proto == PROTO_TCP) {
            key->kind = XNA_BPF_FILTER_IPV6_TCP;
        } else if (l4proto == PROTO_UDP) {
            key->kind = XNA_BPF_FILTER_IPV6_UDP;
        } else {
            return 0;
        }
        __builtin_memcpy(key->dst_addr, l3 + 24, 16);
    } else {
        return 0;
    }
    if (l4 + 4 > (__u8 *)end) {
        return 0;
    }
    key->dst_port = *(__u16 *)(l4 + 2);
    return key->dst_port != 0;
}

/* Copy the frame to the guest's sample ring for its backend to learn. */
static __always_inline void sample(struct xdp_md *ctx, __u32 slot,
                                   __u64 len)
{
    struct xna_bpf_sample *s;
    void *ring;

    /*
     * The verifier must see the bounds on the register that is passed:
     * keep clang from checking a copy.
     */
    barrier_var(len);
    if (len < ETH_HLEN || len > XNA_BPF_SAMPLE_MAX) {
        return;
    }
    ring = bpf_map_lookup_elem(&xna_samples, &slot);
    s = ring ? bpf_ringbuf_reserve(ring, sizeof(*s), 0) : NULL;
    if (!s) {
        count(slot, XNA_BPF_STAT_SAMPLE_LOST);
        return;
    }
    if (bpf_xdp_load_bytes(ctx, 0, s->data, len) < 0) {
        bpf_ringbuf_discard(s, 0);
        return;
    }
    s->len = len;
    s->queue = ctx->rx_queue_index;
    bpf_ringbuf_submit(s, 0);
    count(slot, XNA_BPF_STAT_SAMPLED);
}

SEC("xdp")
int xna_xdp(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    struct xna_bpf_key key = { 0 };
    struct xna_bpf_mac mac = { { 0 } };
    struct xna_bpf_filter *f = NULL;
    struct xna_bpf_guest g, *gp;
    __u32 queue, vi, idx;
    void *filters;
    int has_flow;
    long ret;

    if (data + ETH_HLEN > end) {
        return XDP_PASS;
    }
    /*
     * Only frames to a guest's MAC are that guest's: the same address and
     * port may be the host's, or another guest's, on this interface, and
     * a guest must not be handed their traffic by claiming a flow.
     */
    __builtin_memcpy(mac.addr, data, ETH_ALEN);
    gp = bpf_map_lookup_elem(&xna_guests_v3, &mac);
    if (!gp) {
        count(XNA_BPF_MAX_GUESTS, XNA_BPF_STAT_PASSED);
        return XDP_PASS;
    }
    /* One copy: a guest that leaves meanwhile is seen whole or not. */
    __builtin_memcpy(&g, gp, sizeof(g));
    if (g.slot >= XNA_BPF_MAX_GUESTS) {
        return XDP_PASS;
    }
    filters = bpf_map_lookup_elem(&xna_filters, &g.slot);
    has_flow = parse_flow(data, end, &key);
    if (filters && has_flow) {
        f = bpf_map_lookup_elem(filters, &key);
    }
    if (filters && !f) {
        __builtin_memset(&key, 0, sizeof(key));
        key.kind = XNA_BPF_FILTER_MAC;
        __builtin_memcpy(key.dst_addr, data, ETH_ALEN);
        f = bpf_map_lookup_elem(filters, &key);
    }
    if (!f) {
        count(g.slot, XNA_BPF_STAT_PASSED);
        if (has_flow ||
            ((struct ethhdr *)data)->h_proto == bpf_htons(ETH_P_ARP)) {
            sample(ctx, g.slot, (__u64)(end - data));
        }
        return XDP_PASS;
    }
    /*
     * A socket only takes frames of the queue it is bound to, and XDP
     * cannot move a frame to another queue: a frame of another VI's flow
     * goes to the VI of the queue it came in on, and one that came in on
     * a queue that is not this guest's (another guest's, or one without
     * a VI) goes on to the kernel, which hands it to netfront (steering
     * flows to queues is the hardware's flow director's job, see
     * docs/nic-ops.md).
     */
    queue = ctx->rx_queue_index;
    vi = queue - g.start_queue;
    if (vi >= g.nr_vis || vi >= XNA_BPF_MAX_VIS) {
        count(g.slot, XNA_BPF_STAT_NO_VI_QUEUE);
        return XDP_PASS;
    }
    /* No socket in the map (the VI's waits for its queue): passed. */
    idx = g.slot * XNA_BPF_MAX_VIS + vi;
    ret = bpf_redirect_map(&xna_xsks, idx, XDP_PASS);
    if (ret != XDP_REDIRECT) {
        count(g.slot, XNA_BPF_STAT_PASSED);
        return ret;
    }
    count(g.slot, vi == f->vi ? XNA_BPF_STAT_REDIRECTED :
                                XNA_BPF_STAT_OTHER_QUEUE);
    return ret;
}

char _license[] SEC("license") = "GPL";
