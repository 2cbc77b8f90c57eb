/*
 * xen-net-accel: what a guest may send through a VI
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "xna-tx-policy.h"
#include "xna-classify.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define ETH_P_IPV4      0x0800
#define ETH_P_IPV6      0x86dd

static bool add_ip(XnaTxPolicy *p, const char *s, char *err, size_t err_len)
{
    uint8_t addr[16];

    if (inet_pton(AF_INET, s, addr) == 1) {
        if (p->nr_ipv4 == XNA_TX_POLICY_MAX_IPS) {
            snprintf(err, err_len, "more than %u IPv4 addresses",
                     XNA_TX_POLICY_MAX_IPS);
            return false;
        }
        memcpy(p->ipv4[p->nr_ipv4++], addr, 4);
        return true;
    }
    if (inet_pton(AF_INET6, s, addr) == 1) {
        if (p->nr_ipv6 == XNA_TX_POLICY_MAX_IPS) {
            snprintf(err, err_len, "more than %u IPv6 addresses",
                     XNA_TX_POLICY_MAX_IPS);
            return false;
        }
        memcpy(p->ipv6[p->nr_ipv6++], addr, 16);
        return true;
    }
    snprintf(err, err_len, "'%.48s' is not an IPv4 or IPv6 address", s);
    return false;
}

bool xna_tx_policy_init(XnaTxPolicy *p, const uint8_t mac[6],
                        const char *ips, char *err, size_t err_len)
{
    char word[64];
    size_t n = 0;
    const char *c = ips ? ips : "";

    memset(p, 0, sizeof(*p));
    memcpy(p->mac, mac, 6);
    for (;; c++) {
        if (*c && *c != ' ' && *c != ',' && *c != '\t') {
            if (n + 1 == sizeof(word)) {
                snprintf(err, err_len, "'%.48s...' is not an address", word);
                return false;
            }
            word[n++] = *c;
            continue;
        }
        if (n) {
            word[n] = 0;
            n = 0;
            if (!add_ip(p, word, err, err_len)) {
                return false;
            }
        }
        if (!*c) {
            return true;
        }
    }
}

/* @list: @nr addresses of @alen bytes each. */
static bool ip_listed(const uint8_t *list, uint32_t nr, size_t alen,
                      const uint8_t *addr)
{
    uint32_t i;

    for (i = 0; i < nr; i++) {
        if (!memcmp(list + i * alen, addr, alen)) {
            return true;
        }
    }
    return false;
}

XnaTxVerdict xna_tx_policy_check_classified(const XnaTxPolicy *p,
                                            const uint8_t *frame, size_t len,
                                            bool parsed,
                                            const XnaFlowInfo *info)
{
    bool v4;

    if (len < XNA_ETH_HLEN || memcmp(frame + 6, p->mac, 6)) {
        return XNA_TX_BAD_SRC_MAC;
    }
    /*
     * A VLAN tag would put the frame on a network dom0 did not give the
     * guest; fragments and IPv6 extension headers hide the ports: all of
     * those go through netfront.
     */
    if (!parsed || info->l3_offset != XNA_ETH_HLEN || !info->l4_offset) {
        return XNA_TX_NOT_ALLOWED;
    }
    v4 = info->ethertype == ETH_P_IPV4;
    /* src_flow holds the source address (as a destination key). */
    if (!xna_tx_policy_addr_allowed(p, !v4, info->src_flow.dst_addr)) {
        return XNA_TX_BAD_SRC_IP;
    }
    return XNA_TX_OK;
}

XnaTxVerdict xna_tx_policy_check(const XnaTxPolicy *p, const uint8_t *frame,
                                 size_t len)
{
    XnaFlowInfo info;
    bool parsed = xna_classify(frame, len, &info);

    return xna_tx_policy_check_classified(p, frame, len, parsed, &info);
}

bool xna_tx_policy_format_sources(const XnaTxPolicy *p, char *buf,
                                  size_t len)
{
    size_t off = 0;
    uint32_t i, j;

    if ((!p->nr_ipv4 && !p->nr_ipv6) || len < XNA_TX_POLICY_SOURCES_LEN) {
        return false;
    }
    buf[0] = '\0';
    for (i = 0; i < p->nr_ipv4; i++) {
        off += snprintf(buf + off, len - off, "%s%u.%u.%u.%u",
                        off ? " " : "", p->ipv4[i][0], p->ipv4[i][1],
                        p->ipv4[i][2], p->ipv4[i][3]);
    }
    for (i = 0; i < p->nr_ipv6; i++) {
        off += snprintf(buf + off, len - off, "%s", off ? " " : "");
        for (j = 0; j < 16; j++) {
            off += snprintf(buf + off, len - off, "%02x", p->ipv6[i][j]);
        }
    }
    return true;
}

bool xna_tx_policy_addr_allowed(const XnaTxPolicy *p, bool ipv6,
                                const uint8_t *addr)
{
    if (!p->nr_ipv4 && !p->nr_ipv6) {
        return true;
    }
    return ipv6 ? ip_listed(&p->ipv6[0][0], p->nr_ipv6, 16, addr) :
                  ip_listed(&p->ipv4[0][0], p->nr_ipv4, 4, addr);
}
