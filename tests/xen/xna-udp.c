/*
 * xna-udp: UDP traffic for the real-Xen end-to-end test
 *
 *   xna-udp echo PORT COUNT IDLE_S       echo COUNT datagrams back, or
 *                                        stop after IDLE_S seconds idle
 *   xna-udp send HOST PORT COUNT SIZE    send COUNT datagrams of SIZE
 *                                        bytes, check every echo
 *
 * "send" keeps at most 16 datagrams in flight, checks each echo against
 * the datagram it sent (sequence number and payload), and prints
 * "sent=N echoed=N lost=N reordered=N dups=N corrupt=N"; it exits 0 only
 * when every datagram came back intact (in any order: UDP may reorder,
 * and a flow moving to the fast path may overtake its last slow frames).
 * Static, so that the domU needs no libraries.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_SIZE 9000
#define IN_FLIGHT 16

static void fill(unsigned char *buf, int size, unsigned int seq)
{
    int i;

    for (i = 0; i < size; i++) {
        buf[i] = (unsigned char)(seq * 131 + i * 7);
    }
    memcpy(buf, &seq, sizeof(seq));
}

static int do_echo(int port, int count, int idle_s)
{
    struct sockaddr_in addr = { .sin_family = AF_INET }, from;
    struct timeval tv = { idle_s, 0 };
    unsigned char buf[MAX_SIZE];
    int fd = socket(AF_INET, SOCK_DGRAM, 0), n = 0;

    addr.sin_port = htons(port);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
        perror("xna-udp echo");
        return 2;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (n < count) {
        socklen_t len = sizeof(from);
        ssize_t r = recvfrom(fd, buf, sizeof(buf), 0,
                             (struct sockaddr *)&from, &len);

        if (r < 0) {
            break;
        }
        sendto(fd, buf, r, 0, (struct sockaddr *)&from, len);
        n++;
    }
    printf("echoed=%d\n", n);
    return n == count ? 0 : 1;
}

/* What came back: each datagram once, intact, in any order. */
typedef struct Tally {
    unsigned char *seen;
    int intact, dups, reordered, corrupt;
    unsigned int highest;
} Tally;

/* Wait for one echo (1 s at most); 1 if one came. */
static int recv_echo(int fd, int size, int count, Tally *t)
{
    unsigned char buf[MAX_SIZE], want[MAX_SIZE];
    ssize_t r = recv(fd, buf, sizeof(buf), 0);
    unsigned int seq;

    if (r < 0) {
        return 0;
    }
    memcpy(&seq, buf, sizeof(seq));
    if (r != size || seq >= (unsigned int)count) {
        t->corrupt++;
        return 1;
    }
    fill(want, size, seq);
    if (memcmp(buf, want, size)) {
        t->corrupt++;
    } else if (t->seen[seq]) {
        t->dups++;
    } else {
        t->seen[seq] = 1;
        t->intact++;
        if (seq < t->highest) {
            t->reordered++;     /* UDP may; the fast-path switch does once */
        }
        t->highest = seq > t->highest ? seq : t->highest;
    }
    return 1;
}

static int do_send(const char *host, int port, int count, int size)
{
    struct sockaddr_in dst = { .sin_family = AF_INET };
    struct timeval tv = { 1, 0 };
    unsigned char buf[MAX_SIZE];
    int fd = socket(AF_INET, SOCK_DGRAM, 0), sent = 0;
    Tally t = { .seen = calloc(count > 0 ? count : 1, 1) };

    if (size < 4 || size > MAX_SIZE || count < 1 ||
        inet_pton(AF_INET, host, &dst.sin_addr) != 1) {
        fprintf(stderr, "xna-udp send: bad host, count or size\n");
        return 2;
    }
    dst.sin_port = htons(port);
    if (fd < 0 || connect(fd, (struct sockaddr *)&dst, sizeof(dst))) {
        perror("xna-udp send");
        return 2;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (sent < count) {
        fill(buf, size, sent);
        if (send(fd, buf, size, 0) == size) {
            sent++;
        }
        /* At most IN_FLIGHT unanswered; a second of silence moves on. */
        while (sent - t.intact - t.corrupt >= IN_FLIGHT &&
               recv_echo(fd, size, count, &t)) {
            /* drain */
        }
    }
    while (t.intact + t.corrupt < sent && recv_echo(fd, size, count, &t)) {
        /* drain */
    }
    printf("sent=%d echoed=%d lost=%d reordered=%d dups=%d corrupt=%d\n",
           sent, t.intact, sent - t.intact, t.reordered, t.dups, t.corrupt);
    return t.intact == count && !t.corrupt ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "echo")) {
        return do_echo(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
    }
    if (argc == 6 && !strcmp(argv[1], "send")) {
        return do_send(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
    }
    fprintf(stderr, "usage: xna-udp echo PORT COUNT IDLE_S\n"
            "       xna-udp send HOST PORT COUNT SIZE\n");
    return 2;
}
