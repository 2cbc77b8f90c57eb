/*
 * xna-bench: the wire peer of a -netdev dgram
 *
 * A UDP socket of the benchmark that is the other end of QEMU's
 * -netdev dgram: one datagram per Ethernet frame.  It drains what the
 * guest sends, sends the guest frames, or echoes each frame back.
 * Batched (recvmmsg/sendmmsg), so that the peer costs the benchmark's
 * guest as little as possible; the QEMU side of the socket does one
 * system call per frame whichever device is under test.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_QTEST_XNA_BENCH_PEER_H
#define TESTS_QTEST_XNA_BENCH_PEER_H

#define BENCH_PEER_BATCH    64

typedef struct BenchPeer {
    int fd;
    uint16_t port;              /* ours */
    uint16_t qemu_port;         /* QEMU's end, free when chosen */
    struct sockaddr_in qemu_addr;
    /* Where frames go: QEMU's -netdev, or the interface of a packet socket */
    struct sockaddr_storage dst;
    socklen_t dstlen;
    uint8_t *bufs;              /* BENCH_PEER_BATCH frames */
    struct mmsghdr msgs[BENCH_PEER_BATCH];
    struct iovec iov[BENCH_PEER_BATCH];
    uint64_t bad;               /* frames of the wrong length */
} BenchPeer;

void bench_peer_init(BenchPeer *p);
/*
 * A packet socket on interface @ifindex of namespace @ns instead of a
 * UDP socket: one frame per Ethernet frame, as the -netdev's datagrams.
 */
void bench_peer_init_packet(BenchPeer *p, int ns, int ns_back,
                            unsigned int ifindex);
void bench_peer_close(BenchPeer *p);
/* The -netdev option for QEMU's end, with id @id. */
char *bench_peer_netdev(const BenchPeer *p, const char *id);
/* Receive what is there (up to a batch); returns the frames. */
unsigned int bench_peer_drain(BenchPeer *p, unsigned int len);
/* Receive a batch and send each frame back, turned around. */
unsigned int bench_peer_echo(BenchPeer *p, unsigned int len);
/* Send @n (<= a batch) frames of @tmpl round-robin from @first. */
unsigned int bench_peer_send(BenchPeer *p, uint8_t *const *tmpl,
                             unsigned int nflows, unsigned int len,
                             uint64_t first, unsigned int n);

#endif /* TESTS_QTEST_XNA_BENCH_PEER_H */
