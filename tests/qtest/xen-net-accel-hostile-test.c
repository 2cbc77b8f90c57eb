/*
 * qtest: a hostile guest against the xen-net-accel backend
 *
 * Each case writes what a well-behaved frontend never would (buffers too
 * small for a frame, a reset storm, frames dom0's policy refuses, numbers
 * with signs) or feeds the NIC what a peer may send (oversized frames),
 * and checks that QEMU stays up and responsive, that only the guest's own
 * VI or connection pays, and that the counters say what happened.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <poll.h>
#include "qobject/qdict.h"
#include "libqos/xna-test-env.h"

#define TINY_RX_BUFFER  64

/* Give every RX buffer posted on VI 0 a capacity of @len bytes. */
static void shrink_rx_buffers(XnaTestEnv *e, uint16_t len)
{
    struct xna_vi_shared *sh = xna_env_vi_shared(e, 0);
    uint32_t i;

    for (i = sh->rx_cons; i != sh->rx_prod; i++) {
        xna_test_front_rx_desc(&e->tf, 0, i)->len = len;
    }
}

/* Send @n frames of @len bytes through VI 0 with one kick. */
static void send_burst(XnaTestEnv *e, unsigned int n, size_t len,
                       uint16_t sport)
{
    g_autofree uint8_t *f = g_malloc(len);
    unsigned int i;

    e->tf.hold_notify = true;
    for (i = 0; i < n; i++) {
        xna_env_frame(f, len, sport, sport + 1, i);
        g_assert_cmpint(xna_test_front_send(&e->tf, 0, f, len), ==, 0);
    }
    xna_test_front_release(&e->tf);
}

typedef struct StatWait {
    XnaTestEnv *e;
    const char *name;
    uint64_t want;
} StatWait;

static bool stat_reached(void *opaque)
{
    StatWait *w = opaque;

    return xna_env_stat(w->e, w->name) >= w->want;
}

static void wait_stat(XnaTestEnv *e, const char *name, uint64_t want)
{
    StatWait w = { e, name, want };

    if (!xna_test_front_wait(&e->tf, stat_reached, &w,
                             XEN_GUEST_TIMEOUT_MS)) {
        g_test_message("%s = %" PRIu64 ", waited for %" PRIu64, name,
                       xna_env_stat(e, name), want);
        g_test_fail();
    }
}

/* QEMU's user + system CPU time in clock ticks. */
static uint64_t qemu_cpu_ticks(XnaTestEnv *e)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat",
                                            qtest_pid(e->qts));
    g_autofree char *text = NULL;
    unsigned long utime, stime;
    char *p;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    p = strrchr(text, ')');
    g_assert_nonnull(p);
    /* Fields 14 and 15 (utime, stime); p is at the end of field 2. */
    g_assert_cmpint(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
                           "%*u %lu %lu", &utime, &stime), ==, 2);
    return utime + stime;
}

/* QEMU is idle: it used under a quarter of a CPU for half a second. */
static void assert_idle(XnaTestEnv *e)
{
    long hz = sysconf(_SC_CLK_TCK);
    uint64_t before = qemu_cpu_ticks(e);

    g_usleep(500 * 1000);
    g_assert_cmpuint(qemu_cpu_ticks(e) - before, <, hz / 8);
}

/*
 * The guest posts 64-byte buffers, the smallest it may, and 9000-byte
 * frames arrive: each would need 141 of them, more than a frame's
 * XNA_MAX_FRAGS.  Such frames are dropped and counted, and later frames
 * that fit are delivered.  (This aborted QEMU on an assert.)
 */
static void test_rx_tiny_buffers(const void *mode)
{
    uint8_t f[100];
    XnaTestEnv e;

    xna_env_start(&e, mode, NULL);
    xna_env_start_front(&e, 1);
    shrink_rx_buffers(&e, TINY_RX_BUFFER);
    send_burst(&e, 3, 9000, PORT_A);
    wait_stat(&e, "vi0-drop-rx-small-buffers", 3);
    xna_env_assert_alive(&e);
    g_assert_cmpint(xna_front_vi_state(xna_front_vi(e.tf.f, 0)), ==, XNA_VI_UP);

    /* 100 bytes fit in two 64-byte buffers. */
    xna_env_frame(f, sizeof(f), PORT_A, PORT_A + 1, 9);
    xna_env_send(&e, 0, f, sizeof(f));
    g_assert_true(xna_env_wait_rx(&e, 1));
    g_assert_cmpmem(((GByteArray *)g_ptr_array_index(e.rx, 0))->data,
                    sizeof(f), f, sizeof(f));
    xna_env_stop(&e);
}

/*
 * Four buffers posted and a frame that needs five: it waits, and QEMU
 * waits with it (it spun a core before).  One more buffer, and the frame
 * arrives whole.
 */
static void test_rx_held_waits(const void *mode)
{
    struct xna_vi_shared *sh;
    g_autofree uint8_t *f = g_malloc(9000);
    XnaTestEnv e;

    xna_env_start(&e, mode, NULL);
    xna_env_start_front(&e, 1);
    sh = xna_env_vi_shared(&e, 0);
    g_assert_cmpuint(sh->rx_cons, ==, 0);
    sh->rx_prod = 4;
    send_burst(&e, 1, 9000, PORT_A);
    /* The frame went out and came back to the NIC; now it waits. */
    wait_stat(&e, "vi0-tx-packets", 1);
    g_usleep(100 * 1000);
    assert_idle(&e);
    g_assert_cmpuint(e.rx->len, ==, 0);
    g_assert_cmpuint(sh->rx_cons, ==, 0);

    sh->rx_prod = 5;
    xen_guest_evtchn_notify(e.g, e.tf.vi_ports[0]);
    g_assert_true(xna_env_wait_rx(&e, 1));
    xna_env_frame(f, 9000, PORT_A, PORT_A + 1, 0);
    g_assert_cmpmem(((GByteArray *)g_ptr_array_index(e.rx, 0))->data,
                    9000, f, 9000);
    g_assert_cmpuint(xna_env_stat(&e, "vi0-drop-rx-no-buffer"), ==, 0);
    xna_env_stop(&e);
}

/*
 * 200 frames in the NIC's queue at once: the RX bottom half moves at
 * most 4 bursts per run, then yields to the main loop and goes on from
 * the next run.  All 200 arrive, in order.
 */
static void test_rx_bounded_rounds(const void *mode)
{
    XnaTestEnv e;
    unsigned int i;

    xna_env_start(&e, mode, NULL);
    xna_env_start_front(&e, 1);
    send_burst(&e, 200, 100, PORT_A);
    g_assert_true(xna_env_wait_rx(&e, 200));
    for (i = 0; i < 200; i++) {
        GByteArray *b = g_ptr_array_index(e.rx, i);
        uint8_t f[100];

        xna_env_frame(f, sizeof(f), PORT_A, PORT_A + 1, i);
        g_assert_cmpmem(b->data, b->len, f, sizeof(f));
    }
    g_assert_cmpuint(xna_env_stat(&e, "rx-yields"), >=, 1);
    xna_env_stop(&e);
}

/*
 * A -netdev peer sends a 20000-byte frame to the guest's MAC while the
 * guest has no room for it: it was copied into the VI's 9018-byte held
 * frame, over the VI's counters and the next VI.  Frames are bounded
 * where they enter the device.
 */
static void test_rx_oversized_from_netdev(const void *mode)
{
    g_autofree char *dev = NULL;
    g_autofree uint8_t *big = g_malloc0(20000);
    uint16_t peer_port, qemu_port;
    uint8_t f[200];
    int peer, fd;
    XnaTestEnv e;

    peer = xna_env_udp_socket(&peer_port);
    fd = xna_env_udp_socket(&qemu_port);
    close(fd);
    dev = g_strdup_printf(
        "-netdev dgram,id=w0,local.type=inet,local.host=127.0.0.1,"
        "local.port=%u,remote.type=inet,remote.host=127.0.0.1,remote.port=%u "
        "-device xen-net-accel,id=" DEV_ID ",nic=netdev,netdev=w0,max-vis=2,"
        "mac=" GUEST_MAC, qemu_port, peer_port);
    xna_env_start_dev(&e, mode, dev);
    xna_env_start_front(&e, 2);
    shrink_rx_buffers(&e, TINY_RX_BUFFER);

    xna_env_frame(big, 20000, PORT_A, PORT_A + 1, 0);
    xna_env_send_to_port(peer, qemu_port, big, 20000);
    wait_stat(&e, "nic-rx-bad-length", 1);
    xna_env_frame(f, sizeof(f), PORT_A, PORT_A + 1, 1);
    xna_env_send_to_port(peer, qemu_port, f, sizeof(f));
    g_assert_true(xna_env_wait_rx(&e, 1));
    g_assert_cmpmem(((GByteArray *)g_ptr_array_index(e.rx, 0))->data,
                    sizeof(f), f, sizeof(f));
    g_assert_cmpuint(xna_env_stat(&e, "vi0-rx-packets") +
                     xna_env_stat(&e, "vi0-rx-slow-packets"), ==, 1);
    g_assert_cmpuint(xna_env_stat(&e, "vi1-rx-packets"), ==, 0);
    xna_env_stop(&e);
    close(peer);
}

/*
 * Fifteen VI_RESETs in one kick: four are carried out at once, the rest
 * are one more reset 100 ms later, and QEMU answers QMP meanwhile.  (The
 * guest's core, which did not ask for them, is left with the VI down.)
 */
static void test_vi_reset_storm(const void *mode)
{
    struct xna_msg msg = { .type = XNA_MSG_VI_RESET };
    XnaTestEnv e;
    unsigned int i;

    xna_env_start(&e, mode, NULL);
    xna_env_start_front(&e, 1);
    e.tf.hold_notify = true;
    for (i = 0; i < 15; i++) {
        g_assert_cmpint(xna_front_ctrl_send(e.tf.f, &msg), ==, 0);
    }
    xna_test_front_release(&e.tf);
    wait_stat(&e, "vi0-resets", 4);
    xna_env_assert_alive(&e);
    g_assert_cmpuint(xna_env_stat(&e, "vi0-resets-deferred"), ==, 1);
    wait_stat(&e, "vi0-resets", 5);
    g_usleep(300 * 1000);
    g_assert_cmpuint(xna_env_stat(&e, "vi0-resets"), ==, 5);
    g_assert_cmpuint(xna_env_stat(&e, "guest-errors"), ==, 0);
    xna_env_stop(&e);
}

/* A frame through the VI that dom0's policy refuses: dropped, counted. */
static void expect_tx_refused(XnaTestEnv *e, const uint8_t *f, size_t len,
                              uint64_t nth)
{
    g_assert_cmpint(xna_test_front_send(&e->tf, 0, f, len), ==, 0);
    wait_stat(e, "vi0-drop-tx-policy", nth);
    g_assert_cmpuint(xna_env_stat(e, "vi0-tx-packets"), ==, 0);
    g_assert_cmpint(xna_front_vi_state(xna_front_vi(e->tf.f, 0)), ==,
                    XNA_VI_UP);
}

/*
 * Frames the guest sends through a VI go to the NIC without dom0's
 * bridge and firewall: the backend sends only untagged IPv4/IPv6 TCP/UDP
 * from the guest's MAC, and with ip= only from those addresses.  The
 * loopback NIC would bring any frame it sent back to the guest.
 */
static void test_tx_policy(const void *mode)
{
    static const uint8_t spoof_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 9 };
    static const uint8_t spoof_ip[4] = { 10, 0, 0, 99 };
    uint8_t f[100], g[104];
    XnaTestEnv e;

    /* Quoted: qtest starts QEMU through the shell. */
    xna_env_start(&e, mode, "'ip=10.0.0.1 fe80::1'");
    xna_env_start_front(&e, 1);

    /* Another source MAC. */
    xna_test_udp4_frame(f, sizeof(f), xna_mac, spoof_mac, xna_ip, xna_ip,
                        PORT_A, PORT_A + 1, 0);
    expect_tx_refused(&e, f, sizeof(f), 1);
    /* Another source address than ip=. */
    xna_test_udp4_frame(f, sizeof(f), xna_mac, xna_mac, spoof_ip, xna_ip,
                        PORT_A, PORT_A + 1, 1);
    expect_tx_refused(&e, f, sizeof(f), 2);
    /* Not IP: an ARP ethertype. */
    xna_env_frame(f, sizeof(f), PORT_A, PORT_A + 1, 2);
    f[12] = 0x08;
    f[13] = 0x06;
    expect_tx_refused(&e, f, sizeof(f), 3);
    /* IP, not TCP/UDP: ICMP. */
    xna_env_frame(f, sizeof(f), PORT_A, PORT_A + 1, 3);
    f[14 + 9] = 1;
    expect_tx_refused(&e, f, sizeof(f), 4);
    /* A VLAN tag in front of a good frame. */
    xna_env_frame(f, sizeof(f), PORT_A, PORT_A + 1, 4);
    memcpy(g, f, 12);
    g[12] = 0x81;
    g[13] = 0x00;
    g[14] = 0x00;
    g[15] = 0x05;
    memcpy(g + 16, f + 12, sizeof(f) - 12);
    expect_tx_refused(&e, g, sizeof(g), 5);

    g_usleep(100 * 1000);
    xna_env_poll_rx(&e);
    g_assert_cmpuint(e.rx->len, ==, 0);
    g_assert_cmpuint(xna_env_stat(&e, "vi0-guest-errors"), ==, 0);

    /* What the guest may send still goes. */
    xna_env_frame(f, sizeof(f), PORT_A, PORT_A + 1, 5);
    xna_env_send(&e, 0, f, sizeof(f));
    g_assert_true(xna_env_wait_rx(&e, 1));
    g_assert_cmpmem(((GByteArray *)g_ptr_array_index(e.rx, 0))->data,
                    sizeof(f), f, sizeof(f));
    xna_env_stop(&e);
}

/*
 * A long stream through a VI with refused frames among the good ones.  The
 * backend sends in batches: a refused frame between two batches, or one
 * it meets while the NIC is full, is counted once, and every good frame
 * arrives once, unchanged.  The guest takes nothing until its TX ring is
 * full, so the loopback NIC fills (its queue, then the guest's RX
 * buffers) and takes batches in part.  The frames come back on the slow
 * path until the device learns their flow, then fast: each path keeps
 * the order (the fast one may overtake frames still queued for the slow
 * one, as it may on a real NIC).
 */
static void test_tx_policy_stream(const void *mode)
{
    enum { FRAMES = 3000, EVERY = 7 };
    static const uint8_t spoof_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 9 };
    unsigned int i, tries, good = 0, refused = 0;
    int last[2] = { -1, -1 };
    g_autofree uint8_t *seen = g_malloc0(FRAMES);
    uint8_t f[100];
    XnaTestEnv e;

    xna_env_start(&e, mode, NULL);
    xna_env_start_front(&e, 1);
    for (i = 0; i < FRAMES; i++) {
        gint64 deadline = g_get_monotonic_time() +
                          XEN_GUEST_TIMEOUT_MS * 1000LL;

        xna_env_frame(f, sizeof(f), PORT_A, PORT_A + 1, i);
        if (i % EVERY == 3) {
            memcpy(f + 6, spoof_mac, sizeof(spoof_mac));
            refused++;
        } else {
            good++;
        }
        /*
         * A full TX ring: give the backend time first, and take what it
         * delivered only when it is stuck (the NIC is full).
         */
        for (tries = 0; xna_test_front_send(&e.tf, 0, f, sizeof(f)) != 0;
             tries++) {
            g_assert_cmpint(g_get_monotonic_time(), <, deadline);
            if (tries >= 20) {
                xna_env_poll_rx(&e);
            }
            g_usleep(1000);
        }
    }
    g_assert_true(xna_env_wait_rx(&e, good));
    wait_stat(&e, "vi0-drop-tx-policy", refused);
    g_usleep(100 * 1000);
    xna_env_poll_rx(&e);
    g_assert_cmpuint(e.rx->len, ==, good);
    g_assert_cmpuint(xna_env_stat(&e, "vi0-tx-packets"), ==, good);
    g_assert_cmpuint(xna_env_stat(&e, "vi0-drop-tx-policy"), ==, refused);
    g_assert_cmpuint(xna_env_stat(&e, "vi0-guest-errors"), ==, 0);
    g_test_message("the NIC took part of a batch %" PRIu64 " times",
                   xna_env_stat(&e, "vi0-tx-nic-full"));
    g_assert_cmpuint(xna_env_stat(&e, "vi0-tx-nic-full"), >, 0);
    for (i = 0; i < e.rx->len; i++) {
        GByteArray *got = g_ptr_array_index(e.rx, i);
        bool slow = xna_env_rx_flags(&e, i) & XNA_DESC_SLOW_PATH;
        uint32_t seq;

        g_assert_cmpuint(got->len, ==, sizeof(f));
        memcpy(&seq, got->data + 42, sizeof(seq));   /* as udp_fill puts it */
        g_assert_cmpuint(seq, <, FRAMES);
        g_assert_cmpuint(seq % EVERY, !=, 3);
        g_assert_false(seen[seq]);
        seen[seq] = 1;
        g_assert_cmpint((int)seq, >, last[slow]);
        last[slow] = seq;
        xna_env_frame(f, sizeof(f), PORT_A, PORT_A + 1, seq);
        g_assert_cmpmem(got->data, got->len, f, sizeof(f));
    }
    xna_env_stop(&e);
}

/*
 * With ip=, a flow to an address the guest may not send from is not
 * learned: announced as fast, its replies would go to the VI and be
 * dropped there, and reach the peer neither way.
 */
static void test_tx_policy_no_learning(const void *mode)
{
    static const uint8_t other_ip[4] = { 10, 0, 0, 7 };
    uint8_t f[100];
    XnaTestEnv e;

    xna_env_start(&e, mode, "ip=10.0.0.1");
    xna_env_start_front(&e, 1);
    /* From an allowed address to one that is not: back on the slow path. */
    xna_test_udp4_frame(f, sizeof(f), xna_mac, xna_mac, xna_ip, other_ip,
                        PORT_A, PORT_A + 1, 0);
    xna_env_send(&e, 0, f, sizeof(f));
    g_assert_true(xna_env_wait_rx(&e, 1));
    g_assert_true(xna_env_rx_flags(&e, 0) & XNA_DESC_SLOW_PATH);
    g_assert_false(xna_front_flow_is_fast(e.tf.f, XNA_FILTER_IPV4_UDP,
                                          other_ip,
                                          GUINT16_TO_BE(PORT_A + 1)));
    /* Only the guest's own source flow was learned. */
    g_assert_cmpuint(xna_env_stat(&e, "filters-inserted"), ==, 1);
    g_assert_cmpuint(xna_env_stat(&e, "vi0-drop-tx-policy"), ==, 0);
    xna_env_stop(&e);
}

/* ip= must parse: a device with a bad list is refused at realize. */
static void test_tx_policy_bad_ip(const void *mode)
{
    XnaTestEnv e;
    QDict *rsp;

    xna_env_start(&e, mode, NULL);
    rsp = qtest_qmp(e.qts, "{ 'execute': 'device_add', 'arguments': {"
                    " 'driver': 'xen-net-accel', 'id': 'bad', 'nic': "
                    "'loopback', 'ip': '10.0.0.1 10.0.0.300' } }");
    g_assert(qdict_haskey(rsp, "error"));
    g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(rsp, "error"),
                                          "desc"), "10.0.0.300"));
    qobject_unref(rsp);
    xna_env_stop(&e);
}

/*
 * A frontend key that is a number only to strtoul: a sign, a blank, a
 * leading zero.  "-4294967295" wrapped to 1.
 */
static void bad_number_case(const void *mode, const char *key,
                            const char *val)
{
    xna_env_bad_key(mode, key, val, key);
}
static void test_number_plus(const void *mode)
{
    bad_number_case(mode, "num-vis", "+1");
}

static void test_number_blank(const void *mode)
{
    bad_number_case(mode, "num-vis", " 1");
}

static void test_number_leading_zero(const void *mode)
{
    bad_number_case(mode, "num-vis", "01");
}

static void test_number_negative_wraps(const void *mode)
{
    bad_number_case(mode, "num-vis", "-4294967295");
}

static void count_local_mac(void *opaque, const struct xna_msg *msg)
{
    unsigned int *n = opaque;

    *n += msg->type == XNA_MSG_LOCAL_MAC;
}

/*
 * A guest that reconnects in a loop: each of its HELLOs announced its
 * MAC again to every connected sibling, whose control backlog then grew
 * until that other device was disconnected for not reading it.  Siblings
 * hear of a device once, when it is created.
 */
static void test_reconnect_loop_local_mac(const void *mode)
{
    XnaTestFrontOpts o = { .idx = 1, .vis = 1 };
    XnaTestFront a = { 0 };
    unsigned int msgs = 0;
    XnaTestEnv e;
    int round;

    xna_env_start_dev(&e, mode,
                      "-device xen-net-accel,id=" DEV_ID ",nic=loopback,"
                      "idx=0,mac=" GUEST_MAC " "
                      "-device xen-net-accel,id=xna1,nic=loopback,idx=1,"
                      "mac=00:16:3e:00:00:02");
    xna_env_start_front(&e, 1);
    for (round = 0; round < 3; round++) {
        g_assert_cmpint(xna_test_front_start(&a, e.g, &o), ==, 0);
        xna_test_front_close(&a);
        g_assert_cmpint(xen_guest_find_device(e.g, XNA_XS_DEVICE_TYPE, 1,
                                              &a.dev), ==, 0);
        xen_guest_set_state(e.g, a.dev.frontend, XenbusStateInitialising);
        xen_guest_device_cleanup(&a.dev);
        memset(&a, 0, sizeof(a));
    }
    g_usleep(100 * 1000);
    xna_test_front_poll_ctrl(&e.tf, count_local_mac, &msgs);
    /* None: it heard of the sibling once, at its own HELLO. */
    g_assert_cmpuint(msgs, ==, 0);
    g_assert_true(xna_front_mac_is_local(e.tf.f, xna_other_mac));
    xna_env_stop(&e);
}

/*
 * A guest that reconnects in a loop makes QEMU map its whole pool and
 * make its VIs each time: after 4 connects, one per half second.  Every
 * connect still happens, later.
 */
static void test_reconnect_storm(const void *mode)
{
    XnaTestEnv e;
    int round;

    xna_env_start(&e, mode, NULL);
    for (round = 0; round < 10; round++) {
        xna_env_start_front(&e, 1);
        xna_test_front_close(&e.tf);
        g_assert_cmpint(xen_guest_find_device(e.g, XNA_XS_DEVICE_TYPE, 0,
                                              &e.tf.dev), ==, 0);
        xen_guest_set_state(e.g, e.tf.dev.frontend, XenbusStateInitialising);
        xen_guest_device_cleanup(&e.tf.dev);
        xna_env_assert_alive(&e);
    }
    g_assert_cmpuint(xna_env_stat(&e, "connects"), ==, 10);
    /* 6 beyond the burst, less what the half seconds of the run refilled. */
    g_assert_cmpuint(xna_env_stat(&e, "connects-deferred"), >=, 1);
    g_assert_cmpuint(xna_env_stat(&e, "connects-deferred"), <=, 6);
    e.closed = true;
    xna_env_stop(&e);
}

/*
 * Send @n frames to the guest itself (port @port to @port: the flow
 * learned from the first comes back to the VI's own queue) through VI 0,
 * in bursts the TX ring holds, and wait until all are sent.
 */
static void send_to_self(XnaTestEnv *e, unsigned int n, uint16_t port)
{
    uint64_t sent = xna_env_stat(e, "vi0-tx-packets");
    uint8_t f[64];
    unsigned int i;

    while (n) {
        unsigned int k = MIN(n, 128);

        e->tf.hold_notify = true;
        for (i = 0; i < k; i++) {
            xna_env_frame(f, sizeof(f), port, port, i);
            g_assert_cmpint(xna_test_front_send(&e->tf, 0, f, sizeof(f)),
                            ==, 0);
        }
        xna_test_front_release(&e->tf);
        sent += k;
        n -= k;
        wait_stat(e, "vi0-tx-packets", sent);
    }
}

static bool rx_all_used(void *opaque)
{
    struct xna_vi_shared *sh = opaque;

    return qatomic_read(&sh->rx_cons) == qatomic_read(&sh->rx_prod);
}

/*
 * The NIC's queue of a VI refilled after a reconnect while frames of the
 * last connection still counted as handed out (by the last burst taken
 * from the queue).  The guest receives into the buffers it posted at
 * start without posting more, so that 1024 frames (the queue's length)
 * wait behind the last burst; it reconnects, fills the queue again before
 * posting, then posts.  The refill must not reach the ring slots of the
 * handed-out frames (the next burst gave their buffers back while queued
 * frames used them, and QEMU crashed on a frame's NULL data).  Every
 * frame of the new connection arrives.  The guest never polls RX before
 * the end: polling posts buffers.
 */
static void test_rx_queue_refill_after_reconnect(const void *mode)
{
    XnaTestFrontOpts o = { .vis = 1 };
    struct xna_vi_shared *sh;
    uint32_t posted;
    XnaTestEnv e;

    xna_env_start(&e, mode, NULL);
    xna_env_start_front(&e, 1);
    sh = xna_env_vi_shared(&e, 0);
    g_assert_cmpuint(sh->rx_cons, ==, 0);
    posted = sh->rx_prod;
    g_assert_cmpuint(posted, >, 1);
    /* The first frame teaches the flow and arrives by the slow path. */
    send_to_self(&e, 1, PORT_A);
    wait_stat(&e, "vi0-rx-slow-packets", 1);
    /* The rest of the buffers from the VI's queue, 1024 waiting. */
    send_to_self(&e, posted - 1 + 1024, PORT_A);
    g_assert_true(xna_test_front_wait(&e.tf, rx_all_used, sh,
                                      XEN_GUEST_TIMEOUT_MS));
    xna_env_assert_alive(&e);

    xna_test_front_close(&e.tf);
    g_assert_cmpint(xen_guest_find_device(e.g, XNA_XS_DEVICE_TYPE, 0,
                                          &e.tf.dev), ==, 0);
    xen_guest_set_state(e.g, e.tf.dev.frontend, XenbusStateInitialising);
    xen_guest_device_cleanup(&e.tf.dev);

    /* No buffers when the VI comes up: no burst empties the queue then. */
    g_assert_cmpint(xna_test_front_open(&e.tf, e.g, &o), ==, 0);
    sh = xna_env_vi_shared(&e, 0);
    posted = sh->rx_prod;
    sh->rx_prod = sh->rx_cons;
    g_assert_cmpint(xna_test_front_connect(&e.tf, XEN_GUEST_TIMEOUT_MS), ==,
                    0);
    /* One by the slow path (the flow is new again), 1024 to the queue. */
    send_to_self(&e, 1, PORT_A);
    send_to_self(&e, 1024, PORT_A);
    xna_env_assert_alive(&e);
    sh->rx_prod = posted;
    xen_guest_evtchn_notify(e.g, e.tf.vi_ports[0]);
    g_assert_true(xna_env_wait_rx(&e, 1025));
    xna_env_assert_alive(&e);
    g_assert_cmpuint(xna_env_stat(&e, "vi0-drop-rx-no-buffer"), ==, 0);
    xna_env_stop(&e);
}

static void add(const char *name, void (*fn)(const void *))
{
    g_autofree char *multi = g_strdup_printf("/xen-net-accel/multi/%s", name);
    g_autofree char *single = g_strdup_printf("/xen-net-accel/single/%s",
                                              name);

    qtest_add_data_func(multi, NULL, fn);
    qtest_add_data_func(single, (void *)1, fn);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    add("bad/rx-tiny-buffers", test_rx_tiny_buffers);
    add("bad/rx-held-frame-waits", test_rx_held_waits);
    add("bad/rx-bounded-rounds", test_rx_bounded_rounds);
    add("bad/rx-queue-refill-after-reconnect",
        test_rx_queue_refill_after_reconnect);
    add("bad/rx-oversized-from-netdev", test_rx_oversized_from_netdev);
    add("bad/vi-reset-storm", test_vi_reset_storm);
    add("bad/tx-policy", test_tx_policy);
    add("bad/tx-policy-bad-ip", test_tx_policy_bad_ip);
    add("bad/tx-policy-no-learning", test_tx_policy_no_learning);
    add("bad/tx-policy-stream", test_tx_policy_stream);
    add("bad/reconnect-loop-local-mac", test_reconnect_loop_local_mac);
    add("bad/reconnect-storm", test_reconnect_storm);
    add("bad/xenstore-number-plus", test_number_plus);
    add("bad/xenstore-number-blank", test_number_blank);
    add("bad/xenstore-number-leading-zero", test_number_leading_zero);
    add("bad/xenstore-number-negative", test_number_negative_wraps);
    return g_test_run();
}
