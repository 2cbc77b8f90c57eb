/*
 * xen-netfront: the control half of a netfront for qtests
 *
 * Connects to a vif backend as Linux's xen-netfront does (rings, event
 * channel, xenstore keys and states) on top of the xen-guest library; the
 * data path (requests on the rings) is the test's.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_QTEST_XEN_NETFRONT_H
#define TESTS_QTEST_XEN_NETFRONT_H

#include "xen-guest.h"

typedef struct XenNetFront {
    XenGuest *g;
    XenGuestDevice dev;
    uint64_t tx_ring_gpa;
    uint64_t rx_ring_gpa;
    grant_ref_t tx_ring_ref;    /* read-write grants to the backend */
    grant_ref_t rx_ring_ref;
    evtchn_port_t port;         /* unbound, for the backend */
    XenGuestRing tx;
    XenGuestRing rx;
} XenNetFront;

/*
 * Find vif @idx (the first one with @idx negative), wait for its backend
 * to be in InitWait, and prepare the rings and the event channel.
 */
void xen_netfront_init(XenNetFront *nf, XenGuest *g, int idx);
/*
 * Write the connection keys with these values (so that a test can give
 * bad ones), then switch to Initialised and Connected.
 */
void xen_netfront_publish(XenNetFront *nf, grant_ref_t tx_ring_ref,
                          grant_ref_t rx_ring_ref, evtchn_port_t port);
/*
 * Wait for the backend to answer the publication: returns the state it
 * settled in (Connected on success; Closing or Closed on refusal), or
 * -ETIMEDOUT.  *@seen accumulates the states observed.
 */
int xen_netfront_wait_backend(XenNetFront *nf, uint32_t *seen,
                              int timeout_ms);
/* Publish the real values and wait; 0 when the backend is Connected. */
int xen_netfront_connect(XenNetFront *nf, int timeout_ms);
/*
 * Close the device (Closing, Closed, wait for the backend's Closed), then
 * end the ring grants, close the port and free the ring pages.  Asserts
 * that all of it succeeds.
 */
void xen_netfront_close(XenNetFront *nf);

#endif /* TESTS_QTEST_XEN_NETFRONT_H */
