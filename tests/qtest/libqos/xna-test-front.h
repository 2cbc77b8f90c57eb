/*
 * xna-test-front: the xen-net-accel frontend in a qtest
 *
 * Runs the frontend core that the Linux guest module compiles
 * (guest/core/xna-front.c) in the test process, on guest RAM shared with
 * QEMU, with the xen-guest library doing what the kernel does around it:
 * allocating and granting pages, event channels, xenstore keys and the
 * XenbusState handshake.  Tests then drive the real xen-net-accel backend
 * the way a guest does.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_QTEST_XNA_TEST_FRONT_H
#define TESTS_QTEST_XNA_TEST_FRONT_H

#include "xen-guest.h"
#include "xna-front.h"

typedef struct XnaTestFront {
    XenGuest *g;
    XenGuestDevice dev;
    struct xna_backend_info bi;
    struct xna_layout layout;
    uint64_t base_gpa;              /* layout.total_pages pages from here */
    void **pages;
    uint32_t *refs;
    uint32_t ctrl_port;
    uint32_t vi_ports[XNA_MAX_VIS];
    struct xna_front *f;
    /*
     * While set, the core's notifications are held (held_ports, a bit per
     * port below 64) until xna_test_front_release(): a test can change
     * shared memory after the core wrote it and before the backend looks.
     */
    bool hold_notify;
    uint64_t held_ports;
} XnaTestFront;

/* Options of xna_test_front_open(); zero means the default. */
typedef struct XnaTestFrontOpts {
    unsigned int idx;               /* device/netaccel/<idx> */
    unsigned int vis;               /* VIs wanted (1) */
    unsigned int tx_entries;        /* 256 */
    unsigned int rx_entries;        /* 256 */
    /* For tests of bad frontends: */
    bool keys_only;                 /* write the keys, stay Initialising */
    int generation_delta;           /* write a generation off by this */
} XnaTestFrontOpts;

/*
 * Steps 1-5 of the core's recipe: wait for the backend's InitWait, read
 * its keys, allocate, grant, create the front, write the keys and switch
 * to Initialised.  Returns 0 or a negative errno.
 */
int xna_test_front_open(XnaTestFront *tf, XenGuest *g,
                        const XnaTestFrontOpts *opts);

/*
 * Steps 6-7: wait for the backend's Connected, send HELLO, process the
 * control channel until every VI is up, switch to Connected.
 */
int xna_test_front_connect(XnaTestFront *tf, int timeout_ms);

/* open + connect */
int xna_test_front_start(XnaTestFront *tf, XenGuest *g,
                         const XnaTestFrontOpts *opts);

/* Process control messages now; @fn (if set) sees each one. */
void xna_test_front_poll_ctrl(XnaTestFront *tf,
                              void (*fn)(void *opaque,
                                         const struct xna_msg *msg),
                              void *opaque);

/*
 * Wait (on the event channels) until @cond(@opaque) holds, processing
 * control messages meanwhile.  Returns true, or false on timeout.
 */
bool xna_test_front_wait(XnaTestFront *tf, bool (*cond)(void *opaque),
                         void *opaque, int timeout_ms);

/* Send one frame through VI @vi without asking xna_front_tx_decide(). */
int xna_test_front_send(XnaTestFront *tf, unsigned int vi,
                        const void *frame, size_t len);

/*
 * The frontend's clean shutdown: Closing, Closed, end every grant, close
 * every port, free the front.  Asserts that the backend let go of every
 * grant (an end of a mapped grant fails).
 */
void xna_test_front_close(XnaTestFront *tf);

/* Send the notifications held since hold_notify was set, and stop holding. */
void xna_test_front_release(XnaTestFront *tf);

/* Shared structures of VI @vi, for tests that write them as a bad guest. */
struct xna_vi_shared *xna_test_front_vi_shared(XnaTestFront *tf,
                                               unsigned int vi);
struct xna_desc *xna_test_front_tx_desc(XnaTestFront *tf, unsigned int vi,
                                        unsigned int slot);
struct xna_desc *xna_test_front_rx_desc(XnaTestFront *tf, unsigned int vi,
                                        unsigned int slot);

/* A read-only QOM property of the device @id, e.g. "vi0-rx-packets". */
uint64_t xna_test_dev_stat(QTestState *qts, const char *id,
                           const char *name);

#endif /* TESTS_QTEST_XNA_TEST_FRONT_H */
