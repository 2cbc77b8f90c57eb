/*
 * qtest: QEMU's stock xen-net-device passes traffic on the xen-sim platform
 *
 * The proof that the platform is honest: the unmodified xen-net-device
 * backend connects to a guest that does what Linux's xen-netfront does,
 * and moves frames byte-exact both ways between the guest's rings and a
 * -netdev dgram whose peer is a UDP socket of this test.  Afterwards the
 * platform must show no grant still mapped and no channel still bound.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <poll.h>
#include "qemu/bswap.h"
#include "tests/qtest/libqtest.h"
#include "hw/xen/interface/io/netif.h"
#include "libqos/xen-guest.h"
#include "libqos/xen-netfront.h"

#define NR_FRAMES       1024
#define FRAME_MIN       60
#define FRAME_MAX       1514
/* Frames in flight: bounded so that no socket buffer can overflow. */
#define TX_WINDOW       32
#define RX_POSTED       64

static const uint8_t guest_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x01 };
static const uint8_t peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

typedef struct TestEnv {
    QTestState *qts;
    XenGuest *g;
    XenNetFront nf;
    int sock;                   /* the netdev's peer */
    struct sockaddr_in qemu_addr;
} TestEnv;

/* Sizes cover both ends and vary between them. */
static size_t frame_size(unsigned int i)
{
    if (i == 0) {
        return FRAME_MIN;
    }
    if (i == 1) {
        return FRAME_MAX;
    }
    return FRAME_MIN + (i * 7919u) % (FRAME_MAX - FRAME_MIN + 1);
}

/* An Ethernet frame: header, index, then a pattern seeded by both. */
static void make_frame(uint8_t *buf, unsigned int i, size_t size, bool to_guest)
{
    size_t j;

    memcpy(buf, to_guest ? guest_mac : peer_mac, 6);
    memcpy(buf + 6, to_guest ? peer_mac : guest_mac, 6);
    buf[12] = 0x88;             /* local experimental EtherType */
    buf[13] = 0xb5;
    stl_be_p(buf + 14, i);
    buf[18] = to_guest;
    for (j = 19; j < size; j++) {
        buf[j] = (uint8_t)(i * 31 + j * 7 + to_guest);
    }
}

static int udp_socket(uint16_t *port)
{
    struct sockaddr_in addr = {
        .sin_family = AF_INET,
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };
    socklen_t len = sizeof(addr);
    int fd;

    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&addr, &len), ==, 0);
    *port = ntohs(addr.sin_port);
    return fd;
}

static void env_start(TestEnv *e, const char *grant_map)
{
    g_autofree char *props = g_strdup_printf("grant-map=%s", grant_map);
    uint16_t peer_port, qemu_port;
    int fd;

    memset(e, 0, sizeof(*e));
    e->sock = udp_socket(&peer_port);
    /* A free port for QEMU's end: bound, then released for QEMU. */
    fd = udp_socket(&qemu_port);
    close(fd);
    e->qemu_addr.sin_family = AF_INET;
    e->qemu_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    e->qemu_addr.sin_port = htons(qemu_port);

    e->qts = xen_guest_qemu_init(props,
        "-netdev dgram,id=n0,local.type=inet,local.host=127.0.0.1,"
        "local.port=%u,remote.type=inet,remote.host=127.0.0.1,remote.port=%u "
        "-device xen-net-device,id=vif0,netdev=n0,"
        "mac=00:16:3e:00:00:01", qemu_port, peer_port);
    e->g = xen_guest_new(e->qts, NULL, 0);
}

static void env_stop(TestEnv *e)
{
    /* Unplug first: the stock device crashes QEMU's exit otherwise. */
    qtest_qmp_device_del(e->qts, "vif0");
    xen_guest_free(e->g);
    qtest_quit(e->qts);
    close(e->sock);
}

/* Wait for the peer socket to be readable; false on timeout. */
static bool wait_sock(int fd, int timeout_ms)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };

    return poll(&pfd, 1, timeout_ms) == 1;
}

typedef struct TxSlot {
    uint64_t page;
    grant_ref_t ref;
    bool busy;
} TxSlot;

static void test_tx(TestEnv *e)
{
    XenGuest *g = e->g;
    XenNetFront *nf = &e->nf;
    TxSlot slots[TX_WINDOW] = { 0 };
    uint8_t frame[FRAME_MAX], got[FRAME_MAX + 1];
    unsigned int sent = 0, done = 0, received = 0, i;
    uint64_t maps_before = xen_guest_sim_stat(g, "grant-maps");

    for (i = 0; i < TX_WINDOW; i++) {
        slots[i].page = xen_guest_alloc_pages(g, 1);
    }

    while (received < NR_FRAMES) {
        bool progress = false;
        netif_tx_response_t rsp;
        ssize_t n;

        /* Queue requests, one granted page per frame. */
        while (sent < NR_FRAMES && sent - done < TX_WINDOW &&
               xen_guest_ring_free_requests(&nf->tx)) {
            size_t size = frame_size(sent);
            uint16_t offset = (sent * 61) % (XEN_GUEST_PAGE_SIZE - size + 1);
            netif_tx_request_t req = { 0 };
            TxSlot *s = NULL;

            for (i = 0; i < TX_WINDOW; i++) {
                if (!slots[i].busy) {
                    s = &slots[i];
                    break;
                }
            }
            g_assert(s);
            make_frame(frame, sent, size, false);
            xen_guest_memwrite(g, s->page + offset, frame, size);
            s->ref = xen_guest_grant(g, s->page, nf->dev.backend_id, true);
            s->busy = true;
            req.gref = s->ref;
            req.offset = offset;
            req.flags = 0;
            req.id = s - slots;
            req.size = size;
            xen_guest_ring_put_request(g, &nf->tx, &req, sizeof(req));
            sent++;
            progress = true;
        }
        if (xen_guest_ring_push_requests(g, &nf->tx)) {
            xen_guest_evtchn_notify(g, nf->port);
        }

        /* Responses free the slots: the backend must have unmapped. */
        do {
            while (xen_guest_ring_get_response(g, &nf->tx, &rsp,
                                               sizeof(rsp))) {
                g_assert_cmpuint(rsp.id, <, TX_WINDOW);
                g_assert_true(slots[rsp.id].busy);
                g_assert_cmpint(rsp.status, ==, NETIF_RSP_OKAY);
                g_assert_cmpint(xen_guest_end_grant(g, slots[rsp.id].ref),
                                ==, 0);
                slots[rsp.id].busy = false;
                done++;
                progress = true;
            }
        } while (xen_guest_ring_final_check_for_responses(g, &nf->tx));

        /* The peer gets the frames in order, byte-exact. */
        while ((n = recv(e->sock, got, sizeof(got), MSG_DONTWAIT)) >= 0) {
            g_assert_cmpuint(received, <, done);
            make_frame(frame, received, frame_size(received), false);
            g_assert_cmpint(n, ==, frame_size(received));
            g_assert_cmpmem(got, n, frame, frame_size(received));
            received++;
            progress = true;
        }
        g_assert_cmpint(errno, ==, EAGAIN);

        if (progress) {
            continue;
        }
        if (done < sent) {
            if (!xen_guest_wait_event(g, nf->port, XEN_GUEST_TIMEOUT_MS)) {
                g_error("tx: no response after %u of %u frames", done, sent);
            }
        } else if (!wait_sock(e->sock, XEN_GUEST_TIMEOUT_MS)) {
            g_error("tx: peer got %u frames of %u sent", received, done);
        }
    }
    g_assert_cmpuint(done, ==, NR_FRAMES);
    g_assert_false(wait_sock(e->sock, 0));
    for (i = 0; i < TX_WINDOW; i++) {
        xen_guest_free_pages(g, slots[i].page, 1);
    }
    /* One map per frame: the stock device maps each request's grant. */
    g_assert_cmpuint(xen_guest_sim_stat(g, "grant-maps") - maps_before, ==,
                     NR_FRAMES);
}

typedef struct RxSlot {
    uint64_t page;
    grant_ref_t ref;
    bool posted;
} RxSlot;

static void rx_post(TestEnv *e, RxSlot *slots, unsigned int id)
{
    netif_rx_request_t req = { 0 };

    slots[id].ref = xen_guest_grant(e->g, slots[id].page,
                                    e->nf.dev.backend_id, false);
    slots[id].posted = true;
    req.id = id;
    req.gref = slots[id].ref;
    xen_guest_ring_put_request(e->g, &e->nf.rx, &req, sizeof(req));
}

static void test_rx(TestEnv *e)
{
    XenGuest *g = e->g;
    XenNetFront *nf = &e->nf;
    RxSlot slots[RX_POSTED] = { 0 };
    uint8_t frame[FRAME_MAX], got[XEN_GUEST_PAGE_SIZE];
    unsigned int sent = 0, received = 0, posted, i;

    for (i = 0; i < RX_POSTED; i++) {
        slots[i].page = xen_guest_alloc_pages(g, 1);
        rx_post(e, slots, i);
    }
    posted = RX_POSTED;
    if (xen_guest_ring_push_requests(g, &nf->rx)) {
        xen_guest_evtchn_notify(g, nf->port);
    }

    while (received < NR_FRAMES) {
        netif_rx_response_t rsp;
        bool progress = false;

        /* Send no more than the guest has buffers for. */
        while (sent < NR_FRAMES && sent - received < posted) {
            size_t size = frame_size(sent);

            make_frame(frame, sent, size, true);
            g_assert_cmpint(sendto(e->sock, frame, size, 0,
                                   (struct sockaddr *)&e->qemu_addr,
                                   sizeof(e->qemu_addr)), ==, size);
            sent++;
        }

        do {
            while (xen_guest_ring_get_response(g, &nf->rx, &rsp,
                                               sizeof(rsp))) {
                size_t size = frame_size(received);

                g_assert_cmpuint(rsp.id, <, RX_POSTED);
                g_assert_true(slots[rsp.id].posted);
                g_assert_cmpint(rsp.status, >, 0);
                g_assert_cmpuint(rsp.offset + rsp.status, <=,
                                 XEN_GUEST_PAGE_SIZE);
                g_assert_false(rsp.flags & NETRXF_more_data);
                g_assert_false(rsp.flags & NETRXF_extra_info);
                /* Copy done, grant unmapped: it can be ended. */
                g_assert_cmpint(xen_guest_end_grant(g, slots[rsp.id].ref),
                                ==, 0);
                slots[rsp.id].posted = false;
                posted--;
                make_frame(frame, received, size, true);
                g_assert_cmpint(rsp.status, ==, size);
                xen_guest_memread(g, slots[rsp.id].page + rsp.offset, got,
                                  rsp.status);
                g_assert_cmpmem(got, rsp.status, frame, size);
                received++;
                progress = true;
                if (received + posted < NR_FRAMES) {
                    rx_post(e, slots, rsp.id);
                    posted++;
                }
            }
        } while (xen_guest_ring_final_check_for_responses(g, &nf->rx));
        if (xen_guest_ring_push_requests(g, &nf->rx)) {
            xen_guest_evtchn_notify(g, nf->port);
        }

        if (!progress && received < NR_FRAMES &&
            !xen_guest_wait_event(g, nf->port, XEN_GUEST_TIMEOUT_MS)) {
            g_error("rx: guest got %u frames of %u sent", received, sent);
        }
    }
    g_assert_cmpuint(posted, ==, 0);
    for (i = 0; i < RX_POSTED; i++) {
        g_assert_false(slots[i].posted);
        xen_guest_free_pages(g, slots[i].page, 1);
    }
}

static void test_netdev(const void *data)
{
    const char *grant_map = data;
    TestEnv e;
    uint32_t seen = 0;
    int ret;

    env_start(&e, grant_map);
    xen_netfront_init(&e.nf, e.g, -1);
    g_assert_cmpuint(e.nf.dev.backend_id, ==,
                     xen_guest_platform_backend_domid(e.g));
    xen_netfront_publish(&e.nf, e.nf.tx_ring_ref, e.nf.rx_ring_ref,
                         e.nf.port);
    ret = xen_netfront_wait_backend(&e.nf, &seen, XEN_GUEST_TIMEOUT_MS);
    g_assert_cmpstr(xen_guest_state_name(ret), ==, "Connected");
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-live-maps"), ==, 2);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "evtchn-bound"), ==, 1);

    test_tx(&e);
    test_rx(&e);

    g_assert_cmpuint(xen_guest_sim_stat(e.g, "evtchn-notify-backend"), >, 0);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "evtchn-notify-guest"), >, 0);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-maps"), >=,
                     2 + 2 * NR_FRAMES);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-copies"), ==, 0);

    xen_netfront_close(&e.nf);
    g_assert_cmpuint(xen_guest_grants_in_use(e.g), ==, 0);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-live-maps"), ==, 0);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "evtchn-bound"), ==, 0);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-maps"), ==,
                     xen_guest_sim_stat(e.g, "grant-unmaps"));
    env_stop(&e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_data_func("/xen-sim/netdev/grant-map-multi", "multi",
                        test_netdev);
    qtest_add_data_func("/xen-sim/netdev/grant-map-single", "single",
                        test_netdev);
    return g_test_run();
}
