/*
 * xen-net-accel: what a guest may send through a VI
 *
 * A frame a guest sends through netfront crosses dom0's policy: the vif
 * hotplug script's ip= rules, the bridge's ebtables/nftables.  A frame it
 * sends through a VI goes to the NIC without them, so the backend applies
 * the part of that policy the protocol can express: the source MAC is
 * the guest's, the frame is untagged IPv4 or IPv6 TCP or UDP (not a
 * fragment), and, when the vif has an ip= list, its source address is in
 * the list.  Anything else is dropped and counted; it is not a protocol
 * error (the guest module declines such frames to netfront, where dom0's
 * rules see them).
 *
 * Pure C (no QEMU, no GLib), so that a libFuzzer harness can drive it
 * directly.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef XNA_TX_POLICY_H
#define XNA_TX_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "xna-classify.h"

#define XNA_TX_POLICY_MAX_IPS   16

typedef struct XnaTxPolicy {
    uint8_t mac[6];
    uint32_t nr_ipv4;
    uint32_t nr_ipv6;
    uint8_t ipv4[XNA_TX_POLICY_MAX_IPS][4];
    uint8_t ipv6[XNA_TX_POLICY_MAX_IPS][16];
} XnaTxPolicy;

typedef enum XnaTxVerdict {
    XNA_TX_OK = 0,
    XNA_TX_BAD_SRC_MAC,         /* source MAC is not the guest's */
    XNA_TX_NOT_ALLOWED,         /* not untagged IPv4/IPv6 TCP/UDP */
    XNA_TX_BAD_SRC_IP,          /* source address not in ip= */
} XnaTxVerdict;

/*
 * Set @p from the guest's MAC and an ip= list: IPv4 or IPv6 addresses
 * separated by blanks or commas, as xl's vif ip= takes them; NULL or ""
 * for no address restriction.  False (and @err, 128 bytes, says why) on
 * an unparsable list or more than XNA_TX_POLICY_MAX_IPS of a family.
 */
bool xna_tx_policy_init(XnaTxPolicy *p, const uint8_t mac[6],
                        const char *ips, char *err, size_t err_len);

/*
 * The source addresses for the backend key source-ips: IPv4 dotted
 * quads and IPv6 as 32 hex digits, separated by one blank, into @buf of
 * @len bytes (at least XNA_TX_POLICY_SOURCES_LEN).  False, and nothing
 * written, when any address is allowed (no ip=).
 */
#define XNA_TX_POLICY_SOURCES_LEN \
    (XNA_TX_POLICY_MAX_IPS * (16 + 33) + 1)
bool xna_tx_policy_format_sources(const XnaTxPolicy *p, char *buf,
                                  size_t len);

XnaTxVerdict xna_tx_policy_check(const XnaTxPolicy *p, const uint8_t *frame,
                                 size_t len);

/*
 * The same check on a frame already classified (@parsed and @info as
 * xna_classify() returned them for it): the transmit path classifies
 * each frame once, for this check and to learn its flow.
 */
XnaTxVerdict xna_tx_policy_check_classified(const XnaTxPolicy *p,
                                            const uint8_t *frame, size_t len,
                                            bool parsed,
                                            const XnaFlowInfo *info);

/*
 * May the guest send from @addr (4 bytes for IPv4, 16 for IPv6)?  The
 * backend learns a flow to the guest only then: a flow announced as fast
 * whose replies the policy drops would lose them.
 */
bool xna_tx_policy_addr_allowed(const XnaTxPolicy *p, bool ipv6,
                                const uint8_t *addr);

#endif /* XNA_TX_POLICY_H */
