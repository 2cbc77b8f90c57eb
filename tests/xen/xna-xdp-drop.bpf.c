/*
 * An XDP firewall for the real-Xen end-to-end test: drops UDP datagrams
 * to port 5013 (IPv4, no VLAN), passes everything else.  The domU
 * attaches it to netfront's eth0 to show that the module stops
 * accelerating while it is there: the firewall sees every frame.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("xdp")
int xna_drop_5013(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip = (void *)(eth + 1);
    struct udphdr *udp;

    if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
        ip->protocol != IPPROTO_UDP || ip->ihl < 5) {
        return XDP_PASS;
    }
    udp = (void *)ip + ip->ihl * 4;
    if ((void *)(udp + 1) > end) {
        return XDP_PASS;
    }
    return udp->dest == bpf_htons(5013) ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
