/*
 * xna-test-env: one xen-net-accel device on xen-sim, driven by the
 * guest module's frontend core, for the qtests that poke at it
 *
 * The NIC is the loopback NIC unless a test says otherwise: what a VI
 * sends comes back in.  The guest talks to itself from UDP port A to
 * port B of its own address.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_QTEST_XNA_TEST_ENV_H
#define TESTS_QTEST_XNA_TEST_ENV_H

#include "xna-test-front.h"
#include "xna-test-frame.h"

#define DEV_ID          "xna0"
#define GUEST_MAC       "00:16:3e:00:00:01"
#define PORT_A          4000

extern const uint8_t xna_mac[6];
extern const uint8_t xna_ip[4];
extern const uint8_t xna_other_mac[6];

typedef struct XnaTestEnv {
    QTestState *qts;
    XenGuest *g;
    XnaTestFront tf;
    GPtrArray *rx;          /* GByteArray * frames received */
    GArray *rx_flags;       /* unsigned int per frame */
    bool closed;
} XnaTestEnv;

/* QEMU with xen-sim and the device line @dev; @mode picks grant-map. */
void xna_env_start_dev(XnaTestEnv *e, const void *mode, const char *dev);
/* ...with the default loopback device (id DEV_ID) and more @props. */
void xna_env_start(XnaTestEnv *e, const void *mode, const char *props);
/* QMP still answers. */
void xna_env_assert_alive(XnaTestEnv *e);
/* Close the front, check nothing stays mapped or bound, quit QEMU. */
void xna_env_stop(XnaTestEnv *e);
/* A counter of the device, e.g. "vi0-rx-packets". */
uint64_t xna_env_stat(XnaTestEnv *e, const char *name);
/* A UDP/IPv4 frame of @len bytes (>= 42) to and from the guest. */
size_t xna_env_frame(uint8_t *f, size_t len, uint16_t sport, uint16_t dport,
                     uint32_t seq);
/* Take what every VI received into e->rx. */
void xna_env_poll_rx(XnaTestEnv *e);
/* Wait until e->rx holds @n frames. */
bool xna_env_wait_rx(XnaTestEnv *e, guint n);
unsigned int xna_env_rx_flags(XnaTestEnv *e, guint i);
/* Connect a front with @vis VIs. */
void xna_env_start_front(XnaTestEnv *e, unsigned int vis);
/* Send a frame, retrying while the ring is full. */
void xna_env_send(XnaTestEnv *e, unsigned int vi, const uint8_t *f,
                  size_t len);
struct xna_vi_shared *xna_env_vi_shared(XnaTestEnv *e, unsigned int vi);
struct xna_desc *xna_env_tx_desc(XnaTestEnv *e, unsigned int vi,
                                 unsigned int slot);
/* Conditions for xna_test_front_wait() on VI 0 (@opaque: the env). */
bool xna_env_vi0_down(void *opaque);
bool xna_env_vi0_up(void *opaque);
/* After an error, VI_RESET brings VI 0 back and traffic flows. */
void xna_env_expect_recovery(XnaTestEnv *e);
/* The backend went Closing or Closed. */
bool xna_env_backend_closing(XnaTestEnv *e);

/* A UDP socket on 127.0.0.1, bound to a free port (*@port). */
int xna_env_udp_socket(uint16_t *port);
/* Send @f to 127.0.0.1:@port. */
void xna_env_send_to_port(int sock, uint16_t port, const uint8_t *f,
                          size_t len);
/*
 * A frontend key @key with a bad value @val: the backend refuses to
 * connect, says @expect_in_error in its error node, and keeps nothing
 * of the guest mapped or bound.
 */
void xna_env_bad_key(const void *mode, const char *key, const char *val,
                     const char *expect_in_error);
/* The same, with device properties @props. */
void xna_env_bad_key_props(const void *mode, const char *props,
                           const char *key, const char *val,
                           const char *expect_in_error);

#endif /* TESTS_QTEST_XNA_TEST_ENV_H */
