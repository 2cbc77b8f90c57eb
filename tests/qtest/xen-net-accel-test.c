/*
 * qtest: the xen-net-accel backend, driven by the guest module's frontend
 * core on the xen-sim platform
 *
 * The NIC is the loopback NIC: what a VI sends comes back in.  The test
 * guest talks to itself from UDP port A to port B of its own address:
 * the first frame of a flow takes the slow path (and teaches the backend
 * the flow), the next ones the fast path.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <poll.h>
#include "qobject/qdict.h"
#include "libqos/xna-test-env.h"


/* Tests */


static void test_handshake(const void *mode)
{
    XnaTestEnv e;

    xna_env_start(&e, mode, NULL);
    xna_env_start_front(&e, 1);
    g_assert_cmpuint(xna_env_stat(&e, "connects"), ==, 1);
    g_assert_true(xna_front_link_up(e.tf.f));
    g_assert_cmpuint(xna_front_mtu(e.tf.f), ==, 9000);
    g_assert_cmpuint(e.tf.bi.max_filters, ==, 256);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-live-maps"), ==,
                     e.tf.layout.total_pages - e.tf.layout.pool_dir_pages);
    xna_env_stop(&e);
}

/*
 * Traffic both ways, byte-exact, at every size from 60 to 9000 bytes on
 * @vis VIs: each VI sends from its own port A+vi to port B+vi.
 */
static void run_traffic(const void *mode, unsigned int vis)
{
    static const size_t sizes[] = { 60, 61, 64, 128, 511, 1024, 1514, 2047,
                                    2048, 2049, 4000, 4096, 6000, 9000 };
    enum { ROUNDS = 20 };
    g_autofree uint8_t *f = g_malloc(XNA_MAX_FRAME_LEN);
    GHashTable *sent = g_hash_table_new_full(NULL, NULL, NULL,
                                             (GDestroyNotify)
                                             g_byte_array_unref);
    uint64_t fast = 0, slow = 0, maps, copies, kicks;
    unsigned int vi, r, i, n = 0;
    XnaTestEnv e;

    xna_env_start(&e, mode, NULL);
    xna_env_start_front(&e, vis);
    /*
     * One frame per flow first: it takes the slow path and teaches the
     * backend the flow (frames sent before that is learned would take the
     * slow path too, as on a NIC).
     */
    for (vi = 0; vi < vis; vi++) {
        size_t len = xna_env_frame(f, 60, PORT_A + vi, PORT_A + 100 + vi, n);
        GByteArray *copy = g_byte_array_new();

        g_byte_array_append(copy, f, len);
        g_hash_table_insert(sent, GUINT_TO_POINTER(n), copy);
        xna_env_send(&e, vi, f, len);
        n++;
        g_assert_true(xna_env_wait_rx(&e, n));
    }
    /* From here on, no grant operation may happen: all is mapped. */
    maps = xen_guest_sim_stat(e.g, "grant-maps");
    copies = xen_guest_sim_stat(e.g, "grant-copies");
    kicks = xen_guest_sim_stat(e.g, "evtchn-notify-backend");
    for (r = 0; r < ROUNDS; r++) {
        for (i = 0; i < G_N_ELEMENTS(sizes); i++) {
            for (vi = 0; vi < vis; vi++) {
                size_t len = xna_env_frame(f, sizes[i], PORT_A + vi,
                                         PORT_A + 100 + vi, n);
                GByteArray *copy = g_byte_array_new();

                g_byte_array_append(copy, f, len);
                g_hash_table_insert(sent, GUINT_TO_POINTER(n), copy);
                xna_env_send(&e, vi, f, len);
                n++;
            }
        }
    }
    if (!xna_env_wait_rx(&e, n)) {
        g_test_message("received %u of %u frames; backend: tx %" PRIu64
                       " rx %" PRIu64 " slow %" PRIu64 " no-buffer %" PRIu64
                       " errors %" PRIu64, e.rx->len, n,
                       xna_env_stat(&e, "vi0-tx-packets"),
                       xna_env_stat(&e, "vi0-rx-packets"),
                       xna_env_stat(&e, "vi0-rx-slow-packets"),
                       xna_env_stat(&e, "vi0-drop-rx-no-buffer"),
                       xna_env_stat(&e, "vi0-guest-errors"));
    }
    g_assert_cmpuint(e.rx->len, ==, n);
    for (i = 0; i < e.rx->len; i++) {
        GByteArray *got = g_ptr_array_index(e.rx, i);
        GByteArray *want;
        uint32_t seq;

        g_assert_cmpuint(got->len, >=, 46);
        memcpy(&seq, got->data + 42, 4);
        want = g_hash_table_lookup(sent, GUINT_TO_POINTER(seq));
        g_assert_nonnull(want);
        g_assert_cmpmem(got->data, got->len, want->data, want->len);
        g_hash_table_remove(sent, GUINT_TO_POINTER(seq));
        if (xna_env_rx_flags(&e, i) & XNA_DESC_SLOW_PATH) {
            slow++;
        } else {
            fast++;
        }
    }
    g_assert_cmpuint(g_hash_table_size(sent), ==, 0);
    /* The first frame of each flow took the slow path, all others fast. */
    g_assert_cmpuint(slow, ==, vis);
    g_assert_cmpuint(fast, ==, n - vis);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-maps"), ==, maps);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-copies"), ==, copies);
    /* Notifications per packet are measured by make bench, not here. */
    g_test_message("%u frames, %" PRIu64 " kicks to the backend", n - vis,
                   xen_guest_sim_stat(e.g, "evtchn-notify-backend") - kicks);
    g_assert_cmpuint(xna_env_stat(&e, "vi0-drop-rx-no-buffer"), ==, 0);
    g_test_message("%u frames of 60..9000 bytes both ways, byte-exact: "
                   "%" PRIu64 " fast, %" PRIu64 " slow; grant maps during "
                   "traffic: %" PRIu64, n, fast, slow,
                   xen_guest_sim_stat(e.g, "grant-maps") - maps);
    for (vi = 0; vi < vis; vi++) {
        g_autofree char *name = g_strdup_printf("vi%u-tx-packets", vi);
        g_autofree char *rx = g_strdup_printf("vi%u-rx-packets", vi);
        g_autofree char *rx_slow = g_strdup_printf("vi%u-rx-slow-packets", vi);

        g_test_message("backend VI %u: tx %" PRIu64 ", rx fast %" PRIu64
                       ", rx slow %" PRIu64, vi, xna_env_stat(&e, name),
                       xna_env_stat(&e, rx), xna_env_stat(&e, rx_slow));
        g_assert_cmpuint(xna_env_stat(&e, name), ==, n / vis);
        g_assert_true(xna_front_flow_is_fast(e.tf.f, XNA_FILTER_IPV4_UDP,
                          xna_ip, GUINT16_TO_BE(PORT_A + 100 + vi)));
    }
    g_assert_cmpuint(xna_env_stat(&e, "guest-errors"), ==, 0);
    g_hash_table_unref(sent);
    xna_env_stop(&e);
}

static void test_traffic_1vi(const void *mode)
{
    run_traffic(mode, 1);
}

static void test_traffic_4vi(const void *mode)
{
    run_traffic(mode, 4);
}

/*
 * Learning: the first frame of a flow arrives on the slow path and
 * teaches the backend the flow; the guest hears of the filter and from
 * then on accepts to send that flow's replies through the VI.
 */
static void test_learning(const void *mode)
{
    uint8_t f[128];
    struct xna_frag frag = { .data = f, .len = sizeof(f) };
    const uint16_t port_b = PORT_A + 1;
    XnaTestEnv e;
    uint16_t be_b = GUINT16_TO_BE(port_b);
    uint16_t be_a = GUINT16_TO_BE(PORT_A);

    xna_env_start(&e, mode, NULL);
    xna_env_start_front(&e, 1);

    /*
     * B -> A is not a fast flow yet: the guest declines it, unparsed
     * while the backend has announced no filter at all.
     */
    xna_env_frame(f, sizeof(f), port_b, PORT_A, 0);
    g_assert_cmpint(xna_front_tx_decide(xna_front_vi(e.tf.f, 0), &frag, 1,
                                        sizeof(f), 0), ==,
                    XNA_TX_DECLINE_NOTHING_FAST);

    /* A -> B: first frame slow, and a filter for B is learned. */
    xna_env_frame(f, sizeof(f), PORT_A, port_b, 1);
    xna_env_send(&e, 0, f, sizeof(f));
    g_assert_true(xna_env_wait_rx(&e, 1));
    g_assert_true(xna_env_rx_flags(&e, 0) & XNA_DESC_SLOW_PATH);
    g_assert_cmpuint(xna_env_stat(&e, "vi0-rx-slow-packets"), ==, 1);
    g_assert_cmpuint(xna_env_stat(&e, "filters-inserted"), >=, 1);
    g_assert_true(xna_front_flow_is_fast(e.tf.f, XNA_FILTER_IPV4_UDP,
                                         xna_ip, be_b));
    /* The VI's own transmit from A was learned too. */
    g_assert_true(xna_front_flow_is_fast(e.tf.f, XNA_FILTER_IPV4_UDP,
                                         xna_ip, be_a));

    /* Later frames of the flow: fast path. */
    xna_env_frame(f, sizeof(f), PORT_A, port_b, 2);
    xna_env_send(&e, 0, f, sizeof(f));
    g_assert_true(xna_env_wait_rx(&e, 2));
    g_assert_false(xna_env_rx_flags(&e, 1) & XNA_DESC_SLOW_PATH);
    g_assert_cmpuint(xna_env_stat(&e, "vi0-rx-packets"), ==, 1);

    /* Now B -> A is accepted by the guest's TX decision. */
    xna_env_frame(f, sizeof(f), port_b, PORT_A, 3);
    g_assert_cmpint(xna_front_tx_decide(xna_front_vi(e.tf.f, 0), &frag, 1,
                                        sizeof(f), 0), ==, XNA_TX_ACCEPT);

    /*
     * A frame of the same flow to another MAC is not the guest's: the
     * filter does not take it (else a guest that sends from any address
     * would be given that address's traffic); it is dropped as not for
     * the guest, and the flow's next frame is the next one delivered.
     * The loopback NIC has no host path, so its unicast filter drops it
     * before it is queued; the device never sees it.
     */
    xna_test_udp4_frame(f, sizeof(f), xna_other_mac, xna_mac, xna_ip,
                        xna_ip, PORT_A, port_b, 4);
    xna_env_send(&e, 0, f, sizeof(f));
    xna_env_frame(f, sizeof(f), PORT_A, port_b, 5);
    xna_env_send(&e, 0, f, sizeof(f));
    g_assert_true(xna_env_wait_rx(&e, 3));
    g_assert_cmpmem(((GByteArray *)g_ptr_array_index(e.rx, 2))->data,
                    ((GByteArray *)g_ptr_array_index(e.rx, 2))->len,
                    f, sizeof(f));
    g_assert_cmpuint(xna_env_stat(&e, "vi0-rx-packets"), ==, 2);
    g_assert_cmpuint(xna_env_stat(&e, "nic-rx-other-mac"), ==, 1);
    g_assert_cmpuint(xna_env_stat(&e, "drop-rx-not-for-guest"), ==, 0);
    xna_env_stop(&e);
}

/* The filter table holds max-filters flows; the least recently used go. */
static void test_eviction(const void *mode)
{
    enum { FILTERS = 4, FLOWS = 7 };
    uint8_t f[100];
    unsigned int i;
    XnaTestEnv e;

    xna_env_start(&e, mode, "max-filters=4");
    xna_env_start_front(&e, 1);
    g_assert_cmpuint(e.tf.bi.max_filters, ==, FILTERS);
    for (i = 0; i < FLOWS; i++) {
        /* From one port to new ports: one learned flow per frame. */
        xna_env_frame(f, sizeof(f), PORT_A, PORT_A + 10 + i, i);
        xna_env_send(&e, 0, f, sizeof(f));
        g_assert_true(xna_env_wait_rx(&e, i + 1));
    }
    /* Flows: the source port A, and FLOWS destinations. */
    g_assert_cmpuint(xna_env_stat(&e, "filters-inserted"), ==, FLOWS + 1);
    g_assert_cmpuint(xna_env_stat(&e, "filters-evicted"), ==,
                     FLOWS + 1 - FILTERS);
    xna_test_front_poll_ctrl(&e.tf, NULL, NULL);
    g_assert_cmpuint(xna_front_flow_count(e.tf.f), ==, FILTERS);
    /* The most recent destinations are fast, the oldest are not. */
    g_assert_true(xna_front_flow_is_fast(e.tf.f, XNA_FILTER_IPV4_UDP,
                    xna_ip, GUINT16_TO_BE(PORT_A + 10 + FLOWS - 1)));
    g_assert_false(xna_front_flow_is_fast(e.tf.f, XNA_FILTER_IPV4_UDP,
                    xna_ip, GUINT16_TO_BE(PORT_A + 10)));
    xna_env_stop(&e);
}

/*
 * Another xen-net-accel device of this QEMU serves a co-resident guest:
 * its MAC is announced as local, and frames to it, like broadcast and
 * multicast, stay on the slow path.
 */
static void test_local_mac(const void *mode)
{
    static const uint8_t other[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x02 };
    uint8_t f[100];
    struct xna_frag frag = { .data = f, .len = sizeof(f) };
    struct xna_vi *vi;
    XnaTestEnv e;

    xna_env_start_dev(&e, mode,
                  "-device xen-net-accel,id=" DEV_ID ",nic=loopback,"
                  "mac=" GUEST_MAC " "
                  "-device xen-net-accel,id=xna1,nic=loopback,"
                  "mac=00:16:3e:00:00:02");
    xna_env_start_front(&e, 1);
    g_assert_true(xna_front_mac_is_local(e.tf.f, other));
    g_assert_false(xna_front_mac_is_local(e.tf.f, xna_mac));
    vi = xna_front_vi(e.tf.f, 0);

    /* No filter yet: every frame is declined before it is parsed. */
    xna_env_frame(f, sizeof(f), PORT_A, PORT_A + 1, 0);
    memcpy(f, other, 6);
    g_assert_cmpint(xna_front_tx_decide(vi, &frag, 1, sizeof(f), 0), ==,
                    XNA_TX_DECLINE_NOTHING_FAST);
    /* A flow of the guest's, learned: from now on frames are parsed. */
    xna_env_frame(f, sizeof(f), PORT_A + 5, PORT_A + 6, 1);
    xna_env_send(&e, 0, f, sizeof(f));
    g_assert_true(xna_env_wait_rx(&e, 1));
    g_assert_true(xna_front_flow_is_fast(e.tf.f, XNA_FILTER_IPV4_UDP, xna_ip,
                                         GUINT16_TO_BE(PORT_A + 6)));

    xna_env_frame(f, sizeof(f), PORT_A, PORT_A + 1, 0);
    memcpy(f, other, 6);
    g_assert_cmpint(xna_front_tx_decide(vi, &frag, 1, sizeof(f), 0), ==,
                    XNA_TX_DECLINE_LOCAL_MAC);
    memset(f, 0xff, 6);
    g_assert_cmpint(xna_front_tx_decide(vi, &frag, 1, sizeof(f), 0), ==,
                    XNA_TX_DECLINE_BROADCAST);
    f[0] = 0x01;
    f[1] = 0x00;
    f[2] = 0x5e;
    g_assert_cmpint(xna_front_tx_decide(vi, &frag, 1, sizeof(f), 0), ==,
                    XNA_TX_DECLINE_MULTICAST);

    /* Broadcast frames reach the guest on the slow path, unlearned. */
    xna_env_frame(f, sizeof(f), PORT_A, PORT_A + 1, 0);
    memset(f, 0xff, 6);
    xna_env_send(&e, 0, f, sizeof(f));
    g_assert_true(xna_env_wait_rx(&e, 2));
    g_assert_true(xna_env_rx_flags(&e, 1) & XNA_DESC_SLOW_PATH);
    g_assert_false(xna_front_flow_is_fast(e.tf.f, XNA_FILTER_IPV4_UDP,
                                          xna_ip,
                                          GUINT16_TO_BE(PORT_A + 1)));
    xna_env_stop(&e);
}

/* IPv6 flows are learned and steered as IPv4 ones. */
static void test_learning_ipv6(const void *mode)
{
    static const uint8_t addr6[16] = { 0xfd, [15] = 1 };
    uint8_t f[200];
    XnaTestEnv e;

    xna_env_start(&e, mode, NULL);
    xna_env_start_front(&e, 1);
    xna_test_udp6_frame(f, sizeof(f), xna_mac, xna_mac, addr6, addr6,
                        PORT_A, PORT_A + 1, 0);
    xna_env_send(&e, 0, f, sizeof(f));
    g_assert_true(xna_env_wait_rx(&e, 1));
    g_assert_true(xna_env_rx_flags(&e, 0) & XNA_DESC_SLOW_PATH);
    g_assert_true(xna_front_flow_is_fast(e.tf.f, XNA_FILTER_IPV6_UDP, addr6,
                                         GUINT16_TO_BE(PORT_A + 1)));
    xna_env_send(&e, 0, f, sizeof(f));
    g_assert_true(xna_env_wait_rx(&e, 2));
    g_assert_false(xna_env_rx_flags(&e, 1) & XNA_DESC_SLOW_PATH);
    g_assert_cmpmem(((GByteArray *)g_ptr_array_index(e.rx, 1))->data,
                    sizeof(f), f, sizeof(f));
    xna_env_stop(&e);
}

/*
 * Checksum offload: the guest sends CHECKSUM_PARTIAL (the field holds the
 * pseudo-header sum); the backend fills the checksum, and the looped
 * frame arrives with it correct and flagged verified.
 */
static void test_csum_offload(const void *mode)
{
    uint8_t f[300];
    struct xna_frag frag = { .data = f, .len = sizeof(f) };
    struct xna_tx_meta meta = {
        .csum_partial = true, .csum_start = 34, .csum_offset = 6,
    };
    struct xna_vi *vi;
    uint32_t sum = 0;
    const uint8_t *got;
    size_t i;
    XnaTestEnv e;

    xna_env_start(&e, mode, NULL);
    xna_env_start_front(&e, 1);
    g_assert_true(e.tf.bi.csum_offload);
    xna_env_frame(f, sizeof(f), PORT_A, PORT_A + 1, 1);
    /* Pseudo-header: addresses, protocol, UDP length (not complemented). */
    sum = 0x0a00 + 0x0001 + 0x0a00 + 0x0001 + 17 + (sizeof(f) - 34);
    sum = (sum & 0xffff) + (sum >> 16);
    f[40] = sum >> 8;
    f[41] = sum & 0xff;
    vi = xna_front_vi(e.tf.f, 0);
    g_assert_cmpint(xna_front_tx_frame(vi, &frag, 1, sizeof(f), &meta,
                                       false), >=, 0);
    xna_front_vi_notify(vi);
    g_assert_true(xna_env_wait_rx(&e, 1));
    g_assert_true(xna_env_rx_flags(&e, 0) & XNA_DESC_CSUM_VALID);
    /* Verify the UDP checksum of what arrived. */
    got = ((GByteArray *)g_ptr_array_index(e.rx, 0))->data;
    sum = 0x0a00 + 0x0001 + 0x0a00 + 0x0001 + 17 + (sizeof(f) - 34);
    for (i = 34; i < sizeof(f); i += 2) {
        sum += got[i] << 8 | got[i + 1];
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    g_assert_cmphex(sum, ==, 0xffff);
    xna_env_stop(&e);
}

/*
 * nic=netdev over a -netdev dgram whose other end is this test's socket:
 * what the guest sends through the VI reaches the wire byte-exact; what
 * the wire sends the guest arrives on the slow path first, then fast.
 * QEMU then exits with the device connected (QEMU's stock xen-net-device
 * crashes there).
 */
static void test_netdev(const void *mode)
{
    g_autofree char *dev = NULL;
    struct sockaddr_in qemu_addr = {
        .sin_family = AF_INET,
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };
    struct pollfd pfd = { .events = POLLIN };
    uint16_t peer_port, qemu_port;
    uint8_t f[1400], got[1500];
    int sock, fd, i;
    XnaTestEnv e;

    sock = xna_env_udp_socket(&peer_port);
    fd = xna_env_udp_socket(&qemu_port);
    close(fd);
    qemu_addr.sin_port = htons(qemu_port);
    dev = g_strdup_printf("-netdev dgram,id=n0,local.type=inet,"
                          "local.host=127.0.0.1,local.port=%u,"
                          "remote.type=inet,remote.host=127.0.0.1,"
                          "remote.port=%u "
                          "-device xen-net-accel,id=" DEV_ID ",nic=netdev,"
                          "netdev=n0,mac=" GUEST_MAC, qemu_port, peer_port);
    xna_env_start_dev(&e, mode, dev);
    xna_env_start_front(&e, 1);

    /* Guest -> wire */
    for (i = 0; i < 50; i++) {
        xna_env_frame(f, sizeof(f), PORT_A, PORT_A + 1, i);
        f[0] = 0x02;         /* to a peer's MAC */
        xna_env_send(&e, 0, f, sizeof(f));
        pfd.fd = sock;
        if (poll(&pfd, 1, XEN_GUEST_TIMEOUT_MS) != 1) {
            struct xna_vi_shared *sh = xna_env_vi_shared(&e, 0);

            g_test_message("frame %d: tx %" PRIu64 " errors %" PRIu64
                           " kicks %" PRIu64 " prod %u cons %u prod_event %u",
                           i, xna_env_stat(&e, "vi0-tx-packets"),
                           xna_env_stat(&e, "vi0-guest-errors"),
                           xna_env_stat(&e, "vi0-kicks"), sh->tx_prod,
                           sh->tx_cons, sh->tx_prod_event);
            g_assert_not_reached();
        }
        g_assert_cmpint(recv(sock, got, sizeof(got), 0), ==, sizeof(f));
        g_assert_cmpmem(got, sizeof(f), f, sizeof(f));
    }
    g_assert_cmpuint(xna_env_stat(&e, "vi0-tx-packets"), ==, 50);

    /* Wire -> guest */
    for (i = 0; i < 50; i++) {
        xna_env_frame(f, sizeof(f), PORT_A + 7, PORT_A + 8, i);
        g_assert_cmpint(sendto(sock, f, sizeof(f), 0,
                               (struct sockaddr *)&qemu_addr,
                               sizeof(qemu_addr)), ==, sizeof(f));
        g_assert_true(xna_env_wait_rx(&e, i + 1));
        g_assert_cmpmem(((GByteArray *)g_ptr_array_index(e.rx, i))->data,
                        sizeof(f), f, sizeof(f));
        g_assert_cmpint(!!(xna_env_rx_flags(&e, i) & XNA_DESC_SLOW_PATH), ==,
                        i == 0);
    }
    g_assert_cmpuint(xna_env_stat(&e, "vi0-rx-packets"), ==, 49);

    /* Quit with the device connected: no crash, nothing left mapped. */
    e.closed = true;
    xen_guest_free(e.g);
    qtest_quit(e.qts);
    g_ptr_array_unref(e.rx);
    g_array_unref(e.rx_flags);
    close(sock);
}

/* Receive one datagram on @sock within @ms; its length, or -1. */
static ssize_t recv_within(int sock, uint8_t *buf, size_t len, int ms)
{
    struct pollfd pfd = { .fd = sock, .events = POLLIN };

    if (poll(&pfd, 1, ms) != 1) {
        return -1;
    }
    return recv(sock, buf, len, 0);
}

static bool flow_b_fast(void *opaque)
{
    XnaTestEnv *e = opaque;

    return xna_front_flow_is_fast(e->tf.f, XNA_FILTER_IPV4_UDP, xna_ip,
                                  GUINT16_TO_BE(PORT_A + 8));
}

/* device_add of a second device fails with @error in its message. */
static void expect_device_add_error(XnaTestEnv *e, const char *nic,
                                    const char *netdev,
                                    const char *host_netdev,
                                    const char *error)
{
    QDict *args = qdict_new();
    QDict *rsp;
    const char *desc;

    qdict_put_str(args, "driver", "xen-net-accel");
    qdict_put_str(args, "id", "bad");
    qdict_put_str(args, "mac", "00:16:3e:00:00:09");
    qdict_put_str(args, "nic", nic);
    if (netdev) {
        qdict_put_str(args, "netdev", netdev);
    }
    qdict_put_str(args, "host-netdev", host_netdev);
    rsp = qtest_qmp(e->qts, "{ 'execute': 'device_add', 'arguments': %p }",
                    args);
    g_assert(qdict_haskey(rsp, "error"));
    desc = qdict_get_str(qdict_get_qdict(rsp, "error"), "desc");
    if (!strstr(desc, error)) {
        g_test_message("device_add nic=%s: %s", nic, desc);
        g_test_fail();
    }
    qobject_unref(rsp);
}

typedef struct HostPath {
    int wire, host;             /* the peers' sockets */
    uint16_t qemu_wire;         /* where the wire peer sends to */
    uint16_t qemu_host;         /* where the host peer sends to */
} HostPath;

/*
 * A device on the host-path NIC between two dgram sockets, with @props;
 * @spare adds a netdev "h1" that nothing uses (for device_add cases).
 */
static void start_host_path(XnaTestEnv *e, const void *mode, HostPath *hp,
                            const char *props, bool spare)
{
    g_autofree char *h1 = NULL;
    g_autofree char *dev = NULL;
    uint16_t wire_peer, host_peer;
    int fd;

    hp->wire = xna_env_udp_socket(&wire_peer);
    hp->host = xna_env_udp_socket(&host_peer);
    fd = xna_env_udp_socket(&hp->qemu_wire);
    close(fd);
    fd = xna_env_udp_socket(&hp->qemu_host);
    close(fd);
    h1 = spare ? g_strdup_printf(
        "-netdev dgram,id=h1,local.type=inet,local.host=127.0.0.1,"
        "local.port=0,remote.type=inet,remote.host=127.0.0.1,remote.port=%u ",
        host_peer) : g_strdup("");
    dev = g_strdup_printf(
        "-netdev dgram,id=w0,local.type=inet,local.host=127.0.0.1,"
        "local.port=%u,remote.type=inet,remote.host=127.0.0.1,remote.port=%u "
        "-netdev dgram,id=h0,local.type=inet,local.host=127.0.0.1,"
        "local.port=%u,remote.type=inet,remote.host=127.0.0.1,remote.port=%u "
        "%s-device xen-net-accel,id=" DEV_ID ",nic=netdev,netdev=w0,"
        "host-netdev=h0,mac=" GUEST_MAC "%s%s",
        hp->qemu_wire, wire_peer, hp->qemu_host, host_peer, h1,
        props ? "," : "", props ? props : "");
    xna_env_start_dev(e, mode, dev);
}

static void stop_host_path(XnaTestEnv *e, HostPath *hp)
{
    xna_env_stop(e);
    close(hp->wire);
    close(hp->host);
}

/*
 * nic=netdev with a host-netdev: the NIC sits between a wire (the test's
 * socket "wire") and the host's stack (the socket "host"), like a real
 * NIC with VIs.  Frames that match no filter go to the host unchanged,
 * connected guest or not; the host's frames go out on the wire; a flow
 * seen on the way to the host becomes a filter, and its next frames reach
 * the VI and no longer the host; when the guest goes, they go to the host
 * again.
 */
static void test_netdev_host_path(const void *mode)
{
    uint8_t f[600], got[1500];
    XnaTestEnv e;
    HostPath hp;
    int i;

    start_host_path(&e, mode, &hp, NULL, true);
    expect_device_add_error(&e, "loopback", NULL, "h1",
                            "does not use a host-netdev");
    expect_device_add_error(&e, "netdev", "h1", "h1", "");

    /* No guest yet: wire -> host and host -> wire, byte-exact. */
    xna_env_frame(f, sizeof(f), PORT_A + 7, PORT_A + 8, 0);
    xna_env_send_to_port(hp.wire, hp.qemu_wire, f, sizeof(f));
    g_assert_cmpint(recv_within(hp.host, got, sizeof(got),
                                XEN_GUEST_TIMEOUT_MS), ==, sizeof(f));
    g_assert_cmpmem(got, sizeof(f), f, sizeof(f));
    xna_env_frame(f, sizeof(f), PORT_A + 8, PORT_A + 7, 1);
    xna_env_send_to_port(hp.host, hp.qemu_host, f, sizeof(f));
    g_assert_cmpint(recv_within(hp.wire, got, sizeof(got),
                                XEN_GUEST_TIMEOUT_MS), ==, sizeof(f));
    g_assert_cmpmem(got, sizeof(f), f, sizeof(f));

    /* The guest connects: the first frame of a flow teaches its filter. */
    xna_env_start_front(&e, 1);
    xna_env_frame(f, sizeof(f), PORT_A + 7, PORT_A + 8, 2);
    xna_env_send_to_port(hp.wire, hp.qemu_wire, f, sizeof(f));
    g_assert_cmpint(recv_within(hp.host, got, sizeof(got),
                                XEN_GUEST_TIMEOUT_MS), ==, sizeof(f));
    g_assert_true(xna_test_front_wait(&e.tf, flow_b_fast, &e,
                                      XEN_GUEST_TIMEOUT_MS));
    g_assert_cmpuint(xna_env_stat(&e, "rx-host-samples"), >=, 1);

    /* Its next frames take the VI, and no longer reach the host. */
    for (i = 0; i < 20; i++) {
        xna_env_frame(f, sizeof(f), PORT_A + 7, PORT_A + 8, 10 + i);
        xna_env_send_to_port(hp.wire, hp.qemu_wire, f, sizeof(f));
        g_assert_true(xna_env_wait_rx(&e, i + 1));
        g_assert_cmpmem(((GByteArray *)g_ptr_array_index(e.rx, i))->data,
                        sizeof(f), f, sizeof(f));
        g_assert_false(xna_env_rx_flags(&e, i) & XNA_DESC_SLOW_PATH);
    }
    g_assert_cmpint(recv_within(hp.host, got, sizeof(got), 100), ==, -1);
    g_assert_cmpuint(xna_env_stat(&e, "vi0-rx-packets"), ==, 20);
    g_assert_cmpuint(xna_env_stat(&e, "vi0-rx-slow-packets"), ==, 0);

    /* Another flow still goes to the host; the guest's VI TX to the wire. */
    xna_env_frame(f, sizeof(f), PORT_A + 9, PORT_A + 10, 40);
    xna_env_send_to_port(hp.wire, hp.qemu_wire, f, sizeof(f));
    g_assert_cmpint(recv_within(hp.host, got, sizeof(got),
                                XEN_GUEST_TIMEOUT_MS), ==, sizeof(f));
    xna_env_frame(f, sizeof(f), PORT_A + 8, PORT_A + 7, 41);
    f[0] = 0x02;
    xna_env_send(&e, 0, f, sizeof(f));
    g_assert_cmpint(recv_within(hp.wire, got, sizeof(got),
                                XEN_GUEST_TIMEOUT_MS), ==, sizeof(f));
    g_assert_cmpmem(got, sizeof(f), f, sizeof(f));

    /* The guest goes: the flow's frames reach the host again. */
    xna_test_front_close(&e.tf);
    e.closed = true;
    xna_env_frame(f, sizeof(f), PORT_A + 7, PORT_A + 8, 50);
    xna_env_send_to_port(hp.wire, hp.qemu_wire, f, sizeof(f));
    g_assert_cmpint(recv_within(hp.host, got, sizeof(got),
                                XEN_GUEST_TIMEOUT_MS), ==, sizeof(f));
    g_assert_cmpmem(got, sizeof(f), f, sizeof(f));
    g_assert_cmpuint(xna_env_stat(&e, "nic-host-frames"), ==, 4);
    g_assert_cmpuint(xna_env_stat(&e, "nic-host-tx-frames"), ==, 1);
    stop_host_path(&e, &hp);
}

/* An ARP reply from @from to the guest, as a host on the wire answers. */
static size_t arp_reply(uint8_t *f, const uint8_t *from)
{
    static const uint8_t from_ip[4] = { 10, 0, 0, 9 };

    memset(f, 0, 60);
    memcpy(f, xna_mac, 6);
    memcpy(f + 6, from, 6);
    f[12] = 0x08;
    f[13] = 0x06;
    f[15] = 1;                  /* Ethernet */
    f[16] = 0x08;               /* IPv4 */
    f[18] = 6;
    f[19] = 4;
    f[21] = 2;                  /* reply */
    memcpy(f + 22, from, 6);
    memcpy(f + 28, from_ip, 4);
    memcpy(f + 32, xna_mac, 6);
    memcpy(f + 38, xna_ip, 4);
    return 60;
}

typedef struct WireMacWait {
    XnaTestEnv *e;
    const uint8_t *frame;
    size_t len;
    enum xna_front_tx_verdict want;
} WireMacWait;

static bool tx_verdict_is(void *opaque)
{
    WireMacWait *w = opaque;
    struct xna_frag frag = { .data = w->frame, .len = w->len };

    return xna_front_tx_decide(xna_front_vi(w->e->tf.f, 0), &frag, 1, w->len,
                               0) == w->want;
}

/*
 * WIRE_MAC: a host that sent the guest a frame through the NIC (here an
 * ARP reply on the wire) is announced; the guest then sends it a flow
 * nobody learned yet through the VI from its first frame, the backend
 * learns the flow from that frame, and the host's replies come fast.
 * Not seen for wire-mac-ageing seconds, the host is forgotten.
 */
static void test_wire_mac(const void *mode)
{
    static const uint8_t peer[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x42 };
    const uint16_t sport = PORT_A + 20, dport = 9;
    uint8_t f[200], arp[60], got[1500];
    WireMacWait w;
    XnaTestEnv e;
    HostPath hp;
    size_t n;

    start_host_path(&e, mode, &hp, "wire-mac-ageing=1,ip=10.0.0.1,,fd00::1",
                    false);
    xna_env_start_front(&e, 1);
    g_assert_true(e.tf.bi.wire_mac);
    /* The policy's addresses, as the guest read them from source-ips. */
    g_assert_cmpuint(e.tf.bi.nr_src4, ==, 1);
    g_assert_cmpmem(e.tf.bi.src4[0], 4, xna_ip, 4);
    g_assert_cmpuint(e.tf.bi.nr_src6, ==, 1);
    g_assert_cmpuint(e.tf.bi.src6[0][0], ==, 0xfd);
    g_assert_cmpuint(e.tf.bi.src6[0][15], ==, 1);

    /*
     * Guest -> peer, a flow nobody learned: the slow path's (no filter and
     * no wire MAC yet: declined unparsed).
     */
    xna_test_udp4_frame(f, sizeof(f), peer, xna_mac, xna_ip, xna_ip, sport,
                        dport, 0);
    w = (WireMacWait) { &e, f, sizeof(f), XNA_TX_DECLINE_NOTHING_FAST };
    g_assert_true(tx_verdict_is(&w));

    /* A broadcast from the peer teaches nothing; its ARP reply does. */
    n = arp_reply(arp, peer);
    memset(arp, 0xff, 6);
    xna_env_send_to_port(hp.wire, hp.qemu_wire, arp, n);
    g_assert_cmpint(recv_within(hp.host, got, sizeof(got),
                                XEN_GUEST_TIMEOUT_MS), ==, n);
    g_assert_cmpuint(xna_env_stat(&e, "wire-macs-learned"), ==, 0);
    n = arp_reply(arp, peer);
    xna_env_send_to_port(hp.wire, hp.qemu_wire, arp, n);
    g_assert_cmpint(recv_within(hp.host, got, sizeof(got),
                                XEN_GUEST_TIMEOUT_MS), ==, n);
    w.want = XNA_TX_ACCEPT;
    g_assert_true(xna_test_front_wait(&e.tf, tx_verdict_is, &w,
                                      XEN_GUEST_TIMEOUT_MS));
    g_assert_cmpuint(xna_env_stat(&e, "wire-macs-learned"), ==, 1);

    /* Sent through the VI, it reaches the wire and teaches its flow. */
    xna_env_send(&e, 0, f, sizeof(f));
    g_assert_cmpint(recv_within(hp.wire, got, sizeof(got),
                                XEN_GUEST_TIMEOUT_MS), ==, sizeof(f));
    g_assert_cmpmem(got, sizeof(f), f, sizeof(f));
    g_assert_cmpuint(xna_front_vi_stats(xna_front_vi(e.tf.f, 0))
                     ->tx_wire_packets, >=, 1);

    /* The peer's answer to that port comes through the VI, not the host. */
    xna_test_udp4_frame(f, sizeof(f), xna_mac, peer, xna_ip, xna_ip, dport,
                        sport, 1);
    xna_env_send_to_port(hp.wire, hp.qemu_wire, f, sizeof(f));
    g_assert_true(xna_env_wait_rx(&e, 1));
    g_assert_cmpmem(((GByteArray *)g_ptr_array_index(e.rx, 0))->data,
                    sizeof(f), f, sizeof(f));
    g_assert_false(xna_env_rx_flags(&e, 0) & XNA_DESC_SLOW_PATH);
    g_assert_cmpint(recv_within(hp.host, got, sizeof(got), 100), ==, -1);

    /*
     * Not seen again for a second: forgotten, and a new flow to the
     * peer is the slow path's again (the learned one stays fast).
     */
    xna_test_udp4_frame(f, sizeof(f), peer, xna_mac, xna_ip, xna_ip,
                        sport + 1, dport, 2);
    w.want = XNA_TX_DECLINE_FLOW_NOT_FAST;
    g_assert_true(xna_test_front_wait(&e.tf, tx_verdict_is, &w,
                                      XEN_GUEST_TIMEOUT_MS));
    g_assert_cmpuint(xna_env_stat(&e, "wire-macs-forgotten"), ==, 1);
    g_assert_true(xna_front_flow_is_fast(e.tf.f, XNA_FILTER_IPV4_UDP,
                                         xna_ip, GUINT16_TO_BE(sport)));
    stop_host_path(&e, &hp);
}

/*
 * A host on the wire that sends from ever new MACs: the device takes 16,
 * then one a second; the guest's control channel is never flooded.
 */
static void test_bad_wire_mac_flood(const void *mode)
{
    uint8_t arp[60], got[1500], mac[6] = { 0x00, 0x16, 0x3e, 0x01, 0, 0 };
    XnaTestEnv e;
    HostPath hp;
    unsigned int i;
    size_t n;

    start_host_path(&e, mode, &hp, "wire-mac-ageing=300", false);
    xna_env_start_front(&e, 1);
    for (i = 0; i < 200; i++) {
        mac[4] = (uint8_t)(i >> 8);
        mac[5] = (uint8_t)i;
        n = arp_reply(arp, mac);
        xna_env_send_to_port(hp.wire, hp.qemu_wire, arp, n);
        g_assert_cmpint(recv_within(hp.host, got, sizeof(got),
                                    XEN_GUEST_TIMEOUT_MS), ==, n);
    }
    xna_test_front_poll_ctrl(&e.tf, NULL, NULL);
    i = xna_env_stat(&e, "wire-macs-learned");
    /* 16 at once, and one a second for however long the loop took */
    g_assert_cmpuint(i, >=, 16);
    g_assert_cmpuint(i, <, 40);
    g_assert_cmpuint(xna_env_stat(&e, "wire-macs-throttled"), ==, 200 - i);
    g_assert_cmpuint(xna_env_stat(&e, "guest-errors"), ==, 0);
    g_assert_true(xna_front_ready(e.tf.f));
    stop_host_path(&e, &hp);
}

/*
 * By default (wire-mac-ageing=0) the backend does not offer WIRE_MAC, nor
 * read the frontend's key.
 */
static void test_wire_mac_off(const void *mode)
{
    XnaTestEnv e;

    xna_env_start(&e, mode, NULL);
    xna_env_start_front(&e, 1);
    g_assert_false(e.tf.bi.wire_mac);
    xna_env_stop(&e);
}

/* mac-filter: a NIC dedicated to the guest; no slow path for unicast. */
static void test_mac_filter(const void *mode)
{
    uint8_t f[300];
    XnaTestEnv e;

    xna_env_start(&e, mode, "mac-filter=on");
    xna_env_start_front(&e, 1);
    xna_env_frame(f, sizeof(f), PORT_A, PORT_A + 1, 0);
    xna_env_send(&e, 0, f, sizeof(f));
    g_assert_true(xna_env_wait_rx(&e, 1));
    g_assert_false(xna_env_rx_flags(&e, 0) & XNA_DESC_SLOW_PATH);
    g_assert_cmpuint(xna_env_stat(&e, "vi0-rx-packets"), ==, 1);
    g_assert_cmpuint(xna_env_stat(&e, "vi0-rx-slow-packets"), ==, 0);
    /* Flows are still learned and announced, for the guest's TX. */
    xna_test_front_poll_ctrl(&e.tf, NULL, NULL);
    g_assert_true(xna_front_flow_is_fast(e.tf.f, XNA_FILTER_IPV4_UDP,
                                         xna_ip,
                                         GUINT16_TO_BE(PORT_A + 1)));
    /* It survives a VI reset. */
    xna_env_vi_shared(&e, 0)->tx_prod = 1000;
    xen_guest_evtchn_notify(e.g, e.tf.vi_ports[0]);
    g_assert_true(xna_test_front_wait(&e.tf, xna_env_vi0_down, &e,
                                      XEN_GUEST_TIMEOUT_MS));
    xna_env_expect_recovery(&e);
    g_assert_false(xna_env_rx_flags(&e, 1) & XNA_DESC_SLOW_PATH);
    xna_env_stop(&e);
}

/* The guest module is unloaded and loaded again: a fresh connection. */
static void test_reconnect(const void *mode)
{
    uint8_t f[200];
    XnaTestEnv e;
    int round;

    xna_env_start(&e, mode, NULL);
    for (round = 0; round < 3; round++) {
        xna_env_start_front(&e, round == 1 ? 2 : 1);
        xna_env_frame(f, sizeof(f), PORT_A, PORT_A + 1, round);
        xna_env_send(&e, 0, f, sizeof(f));
        g_assert_true(xna_env_wait_rx(&e, round + 1));
        xna_test_front_close(&e.tf);
        g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-live-maps"), ==, 0);
        g_assert_cmpuint(xen_guest_sim_stat(e.g, "evtchn-bound"), ==, 0);
        /* What the kernel does when the driver comes back. */
        g_assert_cmpint(xen_guest_find_device(e.g, XNA_XS_DEVICE_TYPE, 0,
                                              &e.tf.dev), ==, 0);
        xen_guest_set_state(e.g, e.tf.dev.frontend, XenbusStateInitialising);
        xen_guest_device_cleanup(&e.tf.dev);
    }
    g_assert_cmpuint(xna_env_stat(&e, "connects"), ==, 3);
    e.closed = true;
    xna_env_stop(&e);
}

/*
 * Keys of an earlier backend generation (a backend that restarted while
 * the frontend was connected) are never used: the backend waits for keys
 * written for its own generation.
 */
static void test_stale_generation(const void *mode)
{
    XnaTestFrontOpts o = { .generation_delta = 1 };
    g_autofree char *path = NULL;
    XnaTestEnv e;

    xna_env_start(&e, mode, NULL);
    g_assert_cmpint(xna_test_front_open(&e.tf, e.g, &o), ==, 0);
    g_assert_cmpint(xen_guest_wait_state(e.g, e.tf.dev.backend,
                                         XenbusStateConnected, 500), ==,
                    -ETIMEDOUT);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-live-maps"), ==, 0);
    g_assert_cmpuint(xna_env_stat(&e, "connects"), ==, 0);

    /* Keys for the backend's own generation connect. */
    path = g_strdup_printf("%s/generation", e.tf.dev.frontend);
    xen_guest_set_state(e.g, e.tf.dev.frontend, XenbusStateInitialising);
    xen_guest_xs_printf(e.g, XEN_GUEST_XBT_NULL, path, "%" PRIu64,
                        e.tf.bi.generation);
    xen_guest_set_state(e.g, e.tf.dev.frontend, XenbusStateInitialised);
    g_assert_cmpint(xna_test_front_connect(&e.tf, XEN_GUEST_TIMEOUT_MS), ==,
                    0);
    g_assert_cmpuint(xna_env_stat(&e, "connects"), ==, 1);
    xna_env_stop(&e);
}

/* device_del while frames flow: QEMU goes on, nothing stays mapped. */
static void test_device_del_under_traffic(const void *mode)
{
    uint8_t f[1500];
    unsigned int i;
    XnaTestEnv e;

    xna_env_start(&e, mode, NULL);
    xna_env_start_front(&e, 1);
    for (i = 0; i < 100; i++) {
        xna_env_frame(f, sizeof(f), PORT_A, PORT_A + 1, i);
        if (xna_test_front_send(&e.tf, 0, f, sizeof(f)) < 0) {
            break;
        }
    }
    qtest_qmp_device_del_send(e.qts, DEV_ID);
    /* The backend asks the guest to let go, and the guest does. */
    g_assert_cmpint(xen_guest_wait_state_mask(e.g, e.tf.dev.backend,
                        XEN_GUEST_STATE_BIT(XenbusStateClosing) |
                        XEN_GUEST_STATE_BIT(XenbusStateClosed),
                        NULL, XEN_GUEST_TIMEOUT_MS), >=, 0);
    xen_guest_set_state(e.g, e.tf.dev.frontend, XenbusStateClosing);
    xen_guest_set_state(e.g, e.tf.dev.frontend, XenbusStateClosed);
    qtest_qmp_eventwait(e.qts, "DEVICE_DELETED");
    xna_env_assert_alive(&e);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-live-maps"), ==, 0);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "evtchn-bound"), ==, 0);
    xna_front_destroy(e.tf.f);
    e.tf.f = NULL;
    e.closed = true;
    xna_env_stop(&e);
}

/* Malformed input.  Each case names what it breaks. */




/* Publish @n raw descriptors from slot 0 and expect VI 0 to stop. */
static void expect_vi_down(XnaTestEnv *e, uint32_t prod, uint32_t reason)
{
    xna_env_vi_shared(e, 0)->tx_prod = prod;
    xen_guest_evtchn_notify(e->g, e->tf.vi_ports[0]);
    g_assert_true(xna_test_front_wait(&e->tf, xna_env_vi0_down, e,
                                      XEN_GUEST_TIMEOUT_MS));
    g_assert_cmpuint(xna_vi_down_reason(xna_front_vi(e->tf.f, 0)), ==,
                     reason);
    g_assert_cmpuint(xna_env_stat(e, "vi0-guest-errors"), ==, 1);
    xna_env_assert_alive(e);
}



static void test_bad_tx_index(const void *mode)
{
    XnaTestEnv e;

    xna_env_start(&e, mode, NULL);
    xna_env_start_front(&e, 1);
    g_assert_cmpuint(xna_env_stat(&e, "vis-up"), ==, 1);
    expect_vi_down(&e, 257, XNA_ERR_BAD_INDEX);   /* ring of 256 */
    g_assert_cmpuint(xna_env_stat(&e, "vis-up"), ==, 0);
    xna_env_expect_recovery(&e);
    xna_env_stop(&e);
}

static void bad_desc_case(const void *mode, void (*spoil)(struct xna_desc *),
                          uint32_t reason)
{
    XnaTestEnv e;
    struct xna_desc *d;

    xna_env_start(&e, mode, NULL);
    xna_env_start_front(&e, 1);
    d = xna_env_tx_desc(&e, 0, 0);
    xna_layout_tx_buf(&e.tf.layout, 0, 0, &d->page, &d->offset);
    d->len = 100;
    d->flags = 0;
    spoil(d);
    expect_vi_down(&e, 1, reason);
    xna_env_expect_recovery(&e);
    xna_env_stop(&e);
}

static void spoil_pool_page(struct xna_desc *d)
{
    d->page = 1000000;
}

static void spoil_offset_len(struct xna_desc *d)
{
    d->offset = 4000;
    d->len = 200;
}

static void spoil_flags(struct xna_desc *d)
{
    d->flags = 0x80;
}

static void spoil_unterminated(struct xna_desc *d)
{
    d->flags = XNA_DESC_MORE;
}

static void spoil_too_short(struct xna_desc *d)
{
    d->len = 10;
}

static void test_bad_desc_pool_page(const void *mode)
{
    bad_desc_case(mode, spoil_pool_page, XNA_ERR_BAD_DESC);
}

static void test_bad_desc_offset_len(const void *mode)
{
    bad_desc_case(mode, spoil_offset_len, XNA_ERR_BAD_DESC);
}

static void test_bad_desc_flags(const void *mode)
{
    bad_desc_case(mode, spoil_flags, XNA_ERR_BAD_DESC);
}

static void test_bad_frame_unterminated(const void *mode)
{
    bad_desc_case(mode, spoil_unterminated, XNA_ERR_BAD_FRAME);
}

static void test_bad_frame_too_short(const void *mode)
{
    bad_desc_case(mode, spoil_too_short, XNA_ERR_BAD_FRAME);
}

/* A chain of 19 descriptors (more than a frame may have) is refused. */
static void test_bad_frame_oversized(const void *mode)
{
    XnaTestEnv e;
    unsigned int i;

    xna_env_start(&e, mode, NULL);
    xna_env_start_front(&e, 1);
    for (i = 0; i < XNA_MAX_FRAGS + 1; i++) {
        struct xna_desc *d = xna_env_tx_desc(&e, 0, i);

        xna_layout_tx_buf(&e.tf.layout, 0, i, &d->page, &d->offset);
        d->len = 2048;
        d->flags = i < XNA_MAX_FRAGS ? XNA_DESC_MORE : 0;
    }
    expect_vi_down(&e, XNA_MAX_FRAGS + 1, XNA_ERR_BAD_FRAME);
    xna_env_expect_recovery(&e);
    xna_env_stop(&e);
}

static bool vi0_settled(void *opaque)
{
    XnaTestEnv *e = opaque;
    struct xna_vi_shared *sh = xna_env_vi_shared(e, 0);

    return xna_front_vi_state(xna_front_vi(e->tf.f, 0)) == XNA_VI_DOWN ||
           sh->tx_cons == sh->tx_prod;
}

/*
 * A hostile guest: random descriptors and producer indices, many times.
 * Whatever the backend makes of them (frames sent, VI stopped), QEMU
 * stays up, the VI can be restarted, and nothing leaks.
 */
static void test_bad_random_rings(const void *mode)
{
    GRand *r = g_rand_new_with_seed(20261125);
    struct xna_vi *vi;
    unsigned int round, i;
    XnaTestEnv e;

    xna_env_start(&e, mode, NULL);
    xna_env_start_front(&e, 1);
    vi = xna_front_vi(e.tf.f, 0);
    for (round = 0; round < 40; round++) {
        struct xna_vi_shared *sh = xna_env_vi_shared(&e, 0);
        uint32_t n = g_rand_int_range(r, 1, 40);

        for (i = 0; i < n; i++) {
            struct xna_desc *d = xna_env_tx_desc(&e, 0, sh->tx_prod + i);
            uint32_t *w = (uint32_t *)d;
            unsigned int k;

            for (k = 0; k < sizeof(*d) / 4; k++) {
                w[k] = g_rand_int(r);
            }
            /* Half the time, something nearly plausible. */
            if (g_rand_boolean(r)) {
                d->page %= e.tf.layout.pool_pages + 2;
                d->offset %= 4200;
                d->len %= 3000;
                d->flags &= 0x3;
                d->reserved = 0;
            }
        }
        sh->tx_prod += g_rand_boolean(r) ? n : g_rand_int(r);
        xen_guest_evtchn_notify(e.g, e.tf.vi_ports[0]);
        g_assert_true(xna_test_front_wait(&e.tf, vi0_settled, &e,
                                          XEN_GUEST_TIMEOUT_MS));
        xna_env_assert_alive(&e);
        if (xna_front_vi_state(vi) == XNA_VI_DOWN) {
            g_assert_cmpint(xna_front_vi_reset(vi, NULL, NULL), ==, 0);
            g_assert_true(xna_test_front_wait(&e.tf, xna_env_vi0_up, &e,
                                              XEN_GUEST_TIMEOUT_MS));
        }
    }
    g_assert_cmpuint(xna_env_stat(&e, "vi0-guest-errors"), >, 0);
    /* A well-formed frame still goes through. */
    {
        uint8_t f[100];
        guint before;

        xna_env_poll_rx(&e);
        before = e.rx->len;
        xna_env_frame(f, sizeof(f), PORT_A, PORT_A + 1, 5);
        xna_env_send(&e, 0, f, sizeof(f));
        g_assert_true(xna_env_wait_rx(&e, before + 1));
        g_assert_cmpmem(((GByteArray *)g_ptr_array_index(e.rx, before))->data,
                        sizeof(f), f, sizeof(f));
    }
    g_rand_free(r);
    xna_env_stop(&e);
}


/* Garbage in the control channel disconnects the device, nothing else. */
static void test_bad_ctrl_unknown_message(const void *mode)
{
    struct xna_msg msg = { .type = 200 };
    g_autofree char *err = NULL;
    g_autofree char *err_path = NULL;
    XnaTestEnv e;

    xna_env_start(&e, mode, NULL);
    xna_env_start_front(&e, 1);
    g_assert_cmpint(xna_front_ctrl_send(e.tf.f, &msg), ==, 0);
    g_assert_true(xna_env_backend_closing(&e));
    err_path = g_strdup_printf("%s/error", e.tf.dev.backend);
    err = xen_guest_xs_read_str(e.g, err_path);
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err, "unknown control message"));
    g_assert_cmpuint(xna_env_stat(&e, "guest-errors"), ==, 1);
    xna_env_assert_alive(&e);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-live-maps"), ==, 0);
    xna_env_stop(&e);
}

static void test_bad_ctrl_index(const void *mode)
{
    struct xna_ctrl_page *ctrl;
    XnaTestEnv e;

    xna_env_start(&e, mode, NULL);
    xna_env_start_front(&e, 1);
    ctrl = e.tf.pages[XNA_LAYOUT_CTRL_PAGE];
    ctrl->to_backend.prod += 100;
    xen_guest_evtchn_notify(e.g, e.tf.ctrl_port);
    g_assert_true(xna_env_backend_closing(&e));
    xna_env_assert_alive(&e);
    xna_env_stop(&e);
}

static void test_bad_key_version(const void *mode)
{
    xna_env_bad_key(mode, "protocol-version", "2", "protocol-version");
}

static void test_bad_key_garbage(const void *mode)
{
    xna_env_bad_key(mode, "num-vis", "1x", "num-vis");
}

static void test_bad_key_too_many_vis(const void *mode)
{
    xna_env_bad_key(mode, "num-vis", "5", "num-vis");
}

static void test_bad_key_ring_size(const void *mode)
{
    xna_env_bad_key(mode, "tx-ring-entries", "300", "tx-ring-entries");
}

static void test_bad_key_pool_pages(const void *mode)
{
    xna_env_bad_key(mode, "pool-pages", "0", "pool-pages");
}

static void test_bad_key_wire_mac(const void *mode)
{
    xna_env_bad_key_props(mode, "wire-mac-ageing=300", "feature-wire-mac",
                          "2", "feature-wire-mac");
}

static void test_bad_grant_ref(const void *mode)
{
    xna_env_bad_key(mode, "ctrl-ring-ref", "7", "failed");
}

static void test_bad_grant_pool_dir(const void *mode)
{
    xna_env_bad_key(mode, "pool-dir-ref-0", "99999", "failed");
}

static void test_bad_event_channel(const void *mode)
{
    xna_env_bad_key(mode, "vi-0/event-channel", "999", "failed");
}

/*
 * A backend directory as a toolstack writes it (backend type qnetaccel):
 * the generic keys, @mac and, unless NULL, @nic.
 */
static char *toolstack_backend(XnaTestEnv *e, const char *idx,
                               const char *mac, const char *nic)
{
    const char *keys[] = { "mac", mac, "nic", nic, NULL };

    return xen_guest_toolstack_backend(e->g, "qnetaccel", "netaccel", idx,
                                       keys);
}

/* The backend directory @be was refused: no device, no frontend. */
static void assert_toolstack_refused(XnaTestEnv *e, const char *be,
                                     const char *idx)
{
    g_autofree char *fe_state = g_strdup_printf(
        "/local/domain/%u/device/netaccel/%s/state", xen_guest_domid(e->g),
        idx);
    g_autofree char *val = NULL;

    g_test_message("backend %s", be);
    g_assert_cmpint(xen_guest_read_state(e->g, be), ==,
                    XenbusStateInitialising);
    g_assert_cmpint(xen_guest_xs_read(e->g, XEN_GUEST_XBT_NULL, fe_state,
                                      &val), ==, -ENOENT);
}

/*
 * The toolstack's way in: a backend directory.  With nic= the device is
 * created and offers itself (InitWait).  Refused, with no device:
 * - no nic=: before, it fell back to the loopback NIC, a test NIC that
 *   sends the guest's frames back to it and reaches no network;
 * - a name that is not the canonical number ("05" made device 5, which
 *   removing the directory did not remove);
 * - a bad value (the device was leaked).
 */
static void test_toolstack_backend(const void *mode)
{
    g_autofree char *no_nic = NULL;
    g_autofree char *bad_name = NULL;
    g_autofree char *bad_mac = NULL;
    g_autofree char *good = NULL;
    XnaTestEnv e;

    xna_env_start_dev(&e, mode, "");
    no_nic = toolstack_backend(&e, "0", "00:16:3e:00:00:05", NULL);
    bad_name = toolstack_backend(&e, "05", "00:16:3e:00:00:06", "loopback");
    bad_mac = toolstack_backend(&e, "2", "00:16:3e:00:00", "loopback");
    good = toolstack_backend(&e, "1", GUEST_MAC, "loopback");
    /*
     * Each enumeration by xen-bus looks at every directory, and the bad
     * ones were complete before the good one was written: once it is
     * there, they were refused.
     */
    g_assert_cmpint(xen_guest_wait_state(e.g, good, XenbusStateInitWait,
                                         10000), ==, 0);
    assert_toolstack_refused(&e, no_nic, "0");
    /* Device 5 would be at netaccel/5. */
    assert_toolstack_refused(&e, bad_name, "5");
    assert_toolstack_refused(&e, bad_mac, "2");
    xna_env_assert_alive(&e);
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
    add("handshake", test_handshake);
    add("traffic-1vi", test_traffic_1vi);
    add("traffic-4vi", test_traffic_4vi);
    add("learning", test_learning);
    add("eviction", test_eviction);
    add("local-mac-broadcast", test_local_mac);
    add("learning-ipv6", test_learning_ipv6);
    add("checksum-offload", test_csum_offload);
    add("mac-filter", test_mac_filter);
    add("netdev-dgram", test_netdev);
    add("netdev-host-path", test_netdev_host_path);
    add("wire-mac", test_wire_mac);
    add("wire-mac-off", test_wire_mac_off);
    add("reconnect", test_reconnect);
    add("stale-generation", test_stale_generation);
    add("device-del-under-traffic", test_device_del_under_traffic);
    add("toolstack-backend", test_toolstack_backend);
    add("bad/tx-ring-index", test_bad_tx_index);
    add("bad/desc-pool-page", test_bad_desc_pool_page);
    add("bad/desc-offset-length", test_bad_desc_offset_len);
    add("bad/desc-flags", test_bad_desc_flags);
    add("bad/frame-unterminated", test_bad_frame_unterminated);
    add("bad/frame-too-short", test_bad_frame_too_short);
    add("bad/frame-oversized", test_bad_frame_oversized);
    add("bad/random-rings", test_bad_random_rings);
    add("bad/ctrl-unknown-message", test_bad_ctrl_unknown_message);
    add("bad/ctrl-ring-index", test_bad_ctrl_index);
    add("bad/xenstore-version", test_bad_key_version);
    add("bad/xenstore-garbage-number", test_bad_key_garbage);
    add("bad/xenstore-too-many-vis", test_bad_key_too_many_vis);
    add("bad/xenstore-ring-size", test_bad_key_ring_size);
    add("bad/xenstore-pool-pages", test_bad_key_pool_pages);
    add("bad/xenstore-feature-wire-mac", test_bad_key_wire_mac);
    add("bad/wire-mac-flood", test_bad_wire_mac_flood);
    add("bad/grant-ref-ctrl", test_bad_grant_ref);
    add("bad/grant-ref-pool-dir", test_bad_grant_pool_dir);
    add("bad/event-channel", test_bad_event_channel);
    return g_test_run();
}
