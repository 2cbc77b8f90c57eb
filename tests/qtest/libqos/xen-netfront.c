/*
 * xen-netfront: the control half of a netfront for qtests
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/xen/interface/io/netif.h"
#include "xen-netfront.h"

void xen_netfront_init(XenNetFront *nf, XenGuest *g, int idx)
{
    int ret;

    memset(nf, 0, sizeof(*nf));
    nf->g = g;
    ret = xen_guest_find_device(g, "vif", idx, &nf->dev);
    g_assert_cmpint(ret, ==, 0);
    ret = xen_guest_wait_state(g, nf->dev.backend, XenbusStateInitWait,
                               XEN_GUEST_TIMEOUT_MS);
    g_assert_cmpint(ret, ==, 0);

    nf->tx_ring_gpa = xen_guest_alloc_pages(g, 1);
    nf->rx_ring_gpa = xen_guest_alloc_pages(g, 1);
    xen_guest_ring_init(g, &nf->tx, nf->tx_ring_gpa,
                        sizeof(union netif_tx_sring_entry));
    xen_guest_ring_init(g, &nf->rx, nf->rx_ring_gpa,
                        sizeof(union netif_rx_sring_entry));
    g_assert_cmpuint(nf->tx.nr_ents, ==,
                     __CONST_RING_SIZE(netif_tx, XEN_GUEST_PAGE_SIZE));
    g_assert_cmpuint(nf->rx.nr_ents, ==,
                     __CONST_RING_SIZE(netif_rx, XEN_GUEST_PAGE_SIZE));

    nf->tx_ring_ref = xen_guest_grant(g, nf->tx_ring_gpa,
                                      nf->dev.backend_id, false);
    nf->rx_ring_ref = xen_guest_grant(g, nf->rx_ring_gpa,
                                      nf->dev.backend_id, false);
    ret = xen_guest_evtchn_alloc_unbound(g, nf->dev.backend_id, &nf->port);
    g_assert_cmpint(ret, ==, 0);
}

static int write_key(XenNetFront *nf, uint32_t tx, const char *key,
                     unsigned int val)
{
    g_autofree char *path = g_strdup_printf("%s/%s", nf->dev.frontend, key);

    return xen_guest_xs_printf(nf->g, tx, path, "%u", val);
}

void xen_netfront_publish(XenNetFront *nf, grant_ref_t tx_ring_ref,
                          grant_ref_t rx_ring_ref, evtchn_port_t port)
{
    uint32_t tx;
    int ret;

    /* As talk_to_netback(): all keys in one transaction, again on EAGAIN */
    do {
        ret = xen_guest_xs_transaction_start(nf->g, &tx);
        g_assert_cmpint(ret, ==, 0);
        g_assert_cmpint(write_key(nf, tx, "tx-ring-ref", tx_ring_ref), ==, 0);
        g_assert_cmpint(write_key(nf, tx, "rx-ring-ref", rx_ring_ref), ==, 0);
        g_assert_cmpint(write_key(nf, tx, "event-channel", port), ==, 0);
        g_assert_cmpint(write_key(nf, tx, "request-rx-copy", 1), ==, 0);
        g_assert_cmpint(write_key(nf, tx, "feature-rx-notify", 1), ==, 0);
        ret = xen_guest_xs_transaction_end(nf->g, tx, false);
    } while (ret == -EAGAIN);
    g_assert_cmpint(ret, ==, 0);

    g_assert_cmpint(xen_guest_set_state(nf->g, nf->dev.frontend,
                                        XenbusStateInitialised), ==, 0);
    g_assert_cmpint(xen_guest_set_state(nf->g, nf->dev.frontend,
                                        XenbusStateConnected), ==, 0);
}

int xen_netfront_wait_backend(XenNetFront *nf, uint32_t *seen,
                              int timeout_ms)
{
    return xen_guest_wait_state_mask(nf->g, nf->dev.backend,
                                     XEN_GUEST_STATE_BIT(XenbusStateConnected) |
                                     XEN_GUEST_STATE_BIT(XenbusStateClosing) |
                                     XEN_GUEST_STATE_BIT(XenbusStateClosed),
                                     seen, timeout_ms);
}

int xen_netfront_connect(XenNetFront *nf, int timeout_ms)
{
    int ret;

    xen_netfront_publish(nf, nf->tx_ring_ref, nf->rx_ring_ref, nf->port);
    ret = xen_netfront_wait_backend(nf, NULL, timeout_ms);
    if (ret < 0) {
        return ret;
    }
    return ret == XenbusStateConnected ? 0 : -ECONNREFUSED;
}

void xen_netfront_close(XenNetFront *nf)
{
    XenGuest *g = nf->g;

    g_assert_cmpint(xen_guest_device_close(g, &nf->dev,
                                           XEN_GUEST_TIMEOUT_MS), ==, 0);
    /* The backend is Closed: it has unmapped the rings. */
    g_assert_cmpint(xen_guest_end_grant(g, nf->tx_ring_ref), ==, 0);
    g_assert_cmpint(xen_guest_end_grant(g, nf->rx_ring_ref), ==, 0);
    g_assert_cmpint(xen_guest_evtchn_close(g, nf->port), ==, 0);
    xen_guest_free_pages(g, nf->tx_ring_gpa, 1);
    xen_guest_free_pages(g, nf->rx_ring_gpa, 1);
    xen_guest_device_cleanup(&nf->dev);
}
