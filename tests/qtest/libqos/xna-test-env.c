/*
 * xna-test-env: one xen-net-accel device on xen-sim, driven by the
 * guest module's frontend core
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include "xna-test-env.h"

const uint8_t xna_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x01 };
const uint8_t xna_ip[4] = { 10, 0, 0, 1 };
const uint8_t xna_other_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x02 };


static const char *grant_mode(const void *data)
{
    return data ? "grant-map=single" : "grant-map=multi";
}

void xna_env_start_dev(XnaTestEnv *e, const void *mode, const char *dev)
{
    memset(e, 0, sizeof(*e));
    e->qts = xen_guest_qemu_init(grant_mode(mode), "%s", dev);
    e->g = xen_guest_new(e->qts, NULL, 0);
    e->rx = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
    e->rx_flags = g_array_new(false, false, sizeof(unsigned int));
}

void xna_env_start(XnaTestEnv *e, const void *mode, const char *props)
{
    g_autofree char *dev = g_strdup_printf(
        "-device xen-net-accel,id=" DEV_ID ",nic=loopback,mac=" GUEST_MAC
        ",mtu=9000,max-vis=4%s%s", props ? "," : "", props ? props : "");

    xna_env_start_dev(e, mode, dev);
}

void xna_env_assert_alive(XnaTestEnv *e)
{
    QDict *rsp = qtest_qmp(e->qts, "{ 'execute': 'query-status' }");

    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
}

void xna_env_stop(XnaTestEnv *e)
{
    if (e->tf.f && !e->closed) {
        xna_test_front_close(&e->tf);
    }
    /* Nothing of the guest stays mapped or bound. */
    g_assert_cmpuint(xen_guest_sim_stat(e->g, "grant-live-maps"), ==, 0);
    g_assert_cmpuint(xen_guest_sim_stat(e->g, "evtchn-bound"), ==, 0);
    g_ptr_array_unref(e->rx);
    g_array_unref(e->rx_flags);
    xen_guest_free(e->g);
    qtest_quit(e->qts);      /* asserts that QEMU exits without a crash */
}

uint64_t xna_env_stat(XnaTestEnv *e, const char *name)
{
    return xna_test_dev_stat(e->qts, DEV_ID, name);
}

/* A UDP/IPv4 frame of @len bytes (>= 42) from port @sport to @dport. */
size_t xna_env_frame(uint8_t *f, size_t len, uint16_t sport, uint16_t dport,
                     uint32_t seq)
{
    return xna_test_udp4_frame(f, len, xna_mac, xna_mac, xna_ip,
                               xna_ip, sport, dport, seq);
}

static int collect_rx(void *opaque, struct xna_vi *vi,
                      const struct xna_frag *frags, unsigned int nfrags,
                      unsigned int len, unsigned int flags)
{
    XnaTestEnv *e = opaque;
    GByteArray *b = g_byte_array_sized_new(len);
    unsigned int i;

    for (i = 0; i < nfrags; i++) {
        g_byte_array_append(b, frags[i].data, frags[i].len);
    }
    g_assert_cmpuint(b->len, ==, len);
    g_ptr_array_add(e->rx, b);
    g_array_append_val(e->rx_flags, flags);
    return 0;
}

void xna_env_poll_rx(XnaTestEnv *e)
{
    unsigned int i;

    for (i = 0; i < xna_front_num_vis(e->tf.f); i++) {
        struct xna_vi *vi = xna_front_vi(e->tf.f, i);

        if (xna_front_vi_state(vi) != XNA_VI_UP) {
            continue;
        }
        do {
            while (xna_front_rx_poll(vi, 64, collect_rx, e) > 0) {
                /* more */
            }
        } while (xna_front_rx_arm(vi));
    }
}

typedef struct RxWait {
    XnaTestEnv *e;
    guint want;
} RxWait;

static bool rx_reached(void *opaque)
{
    RxWait *w = opaque;

    xna_env_poll_rx(w->e);
    return w->e->rx->len >= w->want;
}

bool xna_env_wait_rx(XnaTestEnv *e, guint n)
{
    RxWait w = { e, n };

    return xna_test_front_wait(&e->tf, rx_reached, &w, XEN_GUEST_TIMEOUT_MS);
}

unsigned int xna_env_rx_flags(XnaTestEnv *e, guint i)
{
    return g_array_index(e->rx_flags, unsigned int, i);
}

void xna_env_start_front(XnaTestEnv *e, unsigned int vis)
{
    XnaTestFrontOpts o = { .vis = vis };

    g_assert_cmpint(xna_test_front_start(&e->tf, e->g, &o), ==, 0);
    g_assert_true(xna_front_ready(e->tf.f));
    g_assert_cmpuint(xna_front_num_vis(e->tf.f), ==, vis);
}

/* Send a frame, retrying while the ring is full (draining RX meanwhile). */
void xna_env_send(XnaTestEnv *e, unsigned int vi, const uint8_t *f,
                  size_t len)
{
    gint64 deadline = g_get_monotonic_time() +
                      XEN_GUEST_TIMEOUT_MS * 1000LL;
    int ret;

    while ((ret = xna_test_front_send(&e->tf, vi, f, len)) == -ENOSPC) {
        g_assert(g_get_monotonic_time() < deadline);
        xna_env_poll_rx(e);
        xen_guest_wait_event(e->g, e->tf.vi_ports[vi], 10);
    }
    g_assert_cmpint(ret, ==, 0);
}

struct xna_vi_shared *xna_env_vi_shared(XnaTestEnv *e, unsigned int vi)
{
    return xna_test_front_vi_shared(&e->tf, vi);
}

struct xna_desc *xna_env_tx_desc(XnaTestEnv *e, unsigned int vi,
                                 unsigned int slot)
{
    return xna_test_front_tx_desc(&e->tf, vi, slot);
}

bool xna_env_vi0_down(void *opaque)
{
    XnaTestEnv *e = opaque;

    return xna_front_vi_state(xna_front_vi(e->tf.f, 0)) == XNA_VI_DOWN;
}

bool xna_env_vi0_up(void *opaque)
{
    XnaTestEnv *e = opaque;

    return xna_front_vi_state(xna_front_vi(e->tf.f, 0)) == XNA_VI_UP;
}

/* After an error, VI_RESET brings the VI back and traffic flows. */
void xna_env_expect_recovery(XnaTestEnv *e)
{
    uint8_t f[100];
    struct xna_vi *vi = xna_front_vi(e->tf.f, 0);
    guint before = e->rx->len;

    g_assert_cmpint(xna_front_vi_reset(vi, NULL, NULL), ==, 0);
    g_assert_true(xna_test_front_wait(&e->tf, xna_env_vi0_up, e,
                                      XEN_GUEST_TIMEOUT_MS));
    g_assert_cmpint(xna_front_vi_state(vi), ==, XNA_VI_UP);
    xna_env_frame(f, sizeof(f), PORT_A, PORT_A + 1, 77);
    xna_env_send(e, 0, f, sizeof(f));
    g_assert_true(xna_env_wait_rx(e, before + 1));
}

bool xna_env_backend_closing(XnaTestEnv *e)
{
    int state = xen_guest_wait_state_mask(e->g, e->tf.dev.backend,
                    XEN_GUEST_STATE_BIT(XenbusStateClosing) |
                    XEN_GUEST_STATE_BIT(XenbusStateClosed),
                    NULL, XEN_GUEST_TIMEOUT_MS);

    return state >= 0;
}

int xna_env_udp_socket(uint16_t *port)
{
    struct sockaddr_in addr = {
        .sin_family = AF_INET,
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };
    socklen_t len = sizeof(addr);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&addr, &len), ==, 0);
    *port = ntohs(addr.sin_port);
    return fd;
}


void xna_env_send_to_port(int sock, uint16_t port, const uint8_t *f,
                          size_t len)
{
    struct sockaddr_in addr = {
        .sin_family = AF_INET,
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
        .sin_port = htons(port),
    };

    g_assert_cmpint(sendto(sock, f, len, 0, (struct sockaddr *)&addr,
                           sizeof(addr)), ==, len);
}


void xna_env_bad_key(const void *mode, const char *key, const char *val,
                     const char *expect_in_error)
{
    xna_env_bad_key_props(mode, NULL, key, val, expect_in_error);
}

void xna_env_bad_key_props(const void *mode, const char *props,
                           const char *key, const char *val,
                           const char *expect_in_error)
{
    XnaTestFrontOpts o = { .keys_only = true };
    g_autofree char *path = NULL;
    g_autofree char *err = NULL;
    g_autofree char *err_path = NULL;
    XnaTestEnv e;

    xna_env_start(&e, mode, props);
    g_assert_cmpint(xna_test_front_open(&e.tf, e.g, &o), ==, 0);
    path = g_strdup_printf("%s/%s", e.tf.dev.frontend, key);
    g_assert_cmpint(xen_guest_xs_write(e.g, XEN_GUEST_XBT_NULL, path, val),
                    ==, 0);
    xen_guest_set_state(e.g, e.tf.dev.frontend, XenbusStateInitialised);
    g_assert_true(xna_env_backend_closing(&e));
    err_path = g_strdup_printf("%s/error", e.tf.dev.backend);
    err = xen_guest_xs_read_str(e.g, err_path);
    g_assert_nonnull(err);
    if (!strstr(err, expect_in_error)) {
        g_test_message("error node: %s", err);
        g_test_fail();
    }
    xna_env_assert_alive(&e);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-live-maps"), ==, 0);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "evtchn-bound"), ==, 0);
    xna_env_stop(&e);
}
