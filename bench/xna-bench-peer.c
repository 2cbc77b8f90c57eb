/*
 * xna-bench: the wire peer of a -netdev dgram
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sched.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include "xna-bench.h"
#include "xna-bench-peer.h"

/* Room for bursts: loss would make the peer, not a device, the limit. */
#define PEER_SOCKBUF    (16 * 1024 * 1024)

static int udp_socket(uint16_t *port)
{
    struct sockaddr_in addr = {
        .sin_family = AF_INET,
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };
    socklen_t len = sizeof(addr);
    int fd;

    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&addr, &len), ==, 0);
    *port = ntohs(addr.sin_port);
    return fd;
}

static void set_buf(int fd, int force, int plain)
{
    int v = PEER_SOCKBUF;

    /* FORCE needs CAP_NET_ADMIN; else the kernel's limit applies. */
    if (setsockopt(fd, SOL_SOCKET, force, &v, sizeof(v)) < 0) {
        setsockopt(fd, SOL_SOCKET, plain, &v, sizeof(v));
    }
}

static void bufs_init(BenchPeer *p)
{
    unsigned int i;

    p->bufs = g_malloc(BENCH_PEER_BATCH * BENCH_MAX_FRAME);
    for (i = 0; i < BENCH_PEER_BATCH; i++) {
        p->iov[i].iov_base = p->bufs + i * BENCH_MAX_FRAME;
        p->iov[i].iov_len = BENCH_MAX_FRAME;
    }
}

void bench_peer_init(BenchPeer *p)
{
    int fd;

    memset(p, 0, sizeof(*p));
    p->fd = udp_socket(&p->port);
    set_buf(p->fd, SO_RCVBUFFORCE, SO_RCVBUF);
    set_buf(p->fd, SO_SNDBUFFORCE, SO_SNDBUF);
    /* A free port for QEMU's end: bound, then released for QEMU. */
    fd = udp_socket(&p->qemu_port);
    close(fd);
    p->qemu_addr.sin_family = AF_INET;
    p->qemu_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->qemu_addr.sin_port = htons(p->qemu_port);
    memcpy(&p->dst, &p->qemu_addr, sizeof(p->qemu_addr));
    p->dstlen = sizeof(p->qemu_addr);
    bufs_init(p);
}

void bench_peer_init_packet(BenchPeer *p, int ns, int ns_back,
                            unsigned int ifindex)
{
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET,
        .sll_protocol = htons(ETH_P_ALL),
        .sll_ifindex = ifindex,
    };
    int one = 1;

    memset(p, 0, sizeof(*p));
    /* A socket belongs to the namespace it was created in. */
    g_assert_cmpint(setns(ns, CLONE_NEWNET), ==, 0);
    p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
                   htons(ETH_P_ALL));
    g_assert_cmpint(setns(ns_back, CLONE_NEWNET), ==, 0);
    g_assert_cmpint(p->fd, >=, 0);
    g_assert_cmpint(bind(p->fd, (struct sockaddr *)&sll, sizeof(sll)), ==, 0);
    /*
     * A packet socket also sees what it sends itself: the peer must
     * count only the guest's frames.
     */
    g_assert_cmpint(setsockopt(p->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING,
                               &one, sizeof(one)), ==, 0);
    set_buf(p->fd, SO_RCVBUFFORCE, SO_RCVBUF);
    set_buf(p->fd, SO_SNDBUFFORCE, SO_SNDBUF);
    sll.sll_protocol = htons(ETH_P_IP);
    sll.sll_halen = ETH_ALEN;
    memcpy(&p->dst, &sll, sizeof(sll));
    p->dstlen = sizeof(sll);
    bufs_init(p);
}

void bench_peer_close(BenchPeer *p)
{
    close(p->fd);
    g_free(p->bufs);
    memset(p, 0, sizeof(*p));
}

char *bench_peer_netdev(const BenchPeer *p, const char *id)
{
    return g_strdup_printf("-netdev dgram,id=%s,local.type=inet,"
                           "local.host=127.0.0.1,local.port=%u,"
                           "remote.type=inet,remote.host=127.0.0.1,"
                           "remote.port=%u", id, p->qemu_port, p->port);
}

static void prepare(BenchPeer *p, unsigned int n, bool to_qemu)
{
    unsigned int i;

    for (i = 0; i < n; i++) {
        memset(&p->msgs[i].msg_hdr, 0, sizeof(p->msgs[i].msg_hdr));
        p->msgs[i].msg_hdr.msg_iov = &p->iov[i];
        p->msgs[i].msg_hdr.msg_iovlen = 1;
        if (to_qemu) {
            p->msgs[i].msg_hdr.msg_name = &p->dst;
            p->msgs[i].msg_hdr.msg_namelen = p->dstlen;
        }
    }
}

static unsigned int recv_batch(BenchPeer *p, unsigned int len)
{
    unsigned int i;
    int n;

    for (i = 0; i < BENCH_PEER_BATCH; i++) {
        p->iov[i].iov_len = BENCH_MAX_FRAME;
    }
    prepare(p, BENCH_PEER_BATCH, false);
    n = recvmmsg(p->fd, p->msgs, BENCH_PEER_BATCH, MSG_DONTWAIT, NULL);
    if (n < 0) {
        g_assert(errno == EAGAIN || errno == EINTR);
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (p->msgs[i].msg_len != len) {
            p->bad++;
        }
        p->iov[i].iov_len = p->msgs[i].msg_len;
    }
    return n;
}

static void send_batch(BenchPeer *p, unsigned int n)
{
    unsigned int done = 0;

    prepare(p, n, true);
    while (done < n) {
        int r = sendmmsg(p->fd, p->msgs + done, n - done, 0);

        /* A local UDP send only fails for want of socket buffer. */
        if (r < 0) {
            g_assert(errno == EAGAIN || errno == EINTR ||
                     errno == ENOBUFS);
            g_usleep(10);
            continue;
        }
        done += r;
    }
}

unsigned int bench_peer_drain(BenchPeer *p, unsigned int len)
{
    return recv_batch(p, len);
}

unsigned int bench_peer_echo(BenchPeer *p, unsigned int len)
{
    unsigned int n = recv_batch(p, len), i;

    for (i = 0; i < n; i++) {
        bench_frame_reverse(p->iov[i].iov_base);
    }
    if (n) {
        send_batch(p, n);
    }
    return n;
}

unsigned int bench_peer_send(BenchPeer *p, uint8_t *const *tmpl,
                             unsigned int nflows, unsigned int len,
                             uint64_t first, unsigned int n)
{
    unsigned int i;

    g_assert(n <= BENCH_PEER_BATCH);
    for (i = 0; i < n; i++) {
        /* The datagram is the template itself: nothing to copy. */
        p->iov[i].iov_base = tmpl[(first + i) % nflows];
        p->iov[i].iov_len = len;
    }
    if (n) {
        send_batch(p, n);
    }
    for (i = 0; i < BENCH_PEER_BATCH; i++) {
        p->iov[i].iov_base = p->bufs + i * BENCH_MAX_FRAME;
    }
    return n;
}
