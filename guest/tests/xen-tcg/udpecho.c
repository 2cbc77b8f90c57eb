/* udpecho <dst-ip> <dst-port> <src-port> <count> <size> [magic]: send
 * datagrams and count the echoes (static, for the test domU) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/time.h>

/* Receive one echo (timeout 0.3 s); false when none came. */
static int recv_one(int fd, char *rb, size_t len, int size, int *got,
                    int *bad)
{
    int r = recv(fd, rb, len, 0);

    if (r < 0) {
        return 0;
    }
    if (r == size) {
        (*got)++;
    } else {
        (*bad)++;
    }
    return 1;
}

int main(int argc, char **argv)
{
    struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
    int fd, count, size, i, sent = 0, got = 0, bad = 0;
    char buf[9000], rb[9000];
    struct timeval tv = { 0, 300000 };

    if (argc < 6) {
        return 2;
    }
    inet_pton(AF_INET, argv[1], &dst.sin_addr);
    dst.sin_port = htons(atoi(argv[2]));
    src.sin_port = htons(atoi(argv[3]));
    count = atoi(argv[4]);
    size = atoi(argv[5]);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (bind(fd, (void *)&src, sizeof(src)) || connect(fd, (void *)&dst, sizeof(dst))) {
        perror("udpecho");
        return 2;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    for (i = 0; i < count; i++) {
        int j;

        for (j = 0; j < size; j++) {
            buf[j] = (char)(i * 31 + j);
        }
        snprintf(buf, size, "%s%08d", argc > 6 ? argv[6] : "SEQ", i);
        if (send(fd, buf, size, 0) == size) {
            sent++;
        }
        /* keep at most 16 in flight */
        while (sent - got - bad > 16 &&
               recv_one(fd, rb, sizeof(rb), size, &got, &bad)) {
        }
    }
    while (recv_one(fd, rb, sizeof(rb), size, &got, &bad)) {
    }
    printf("UDPECHO sent=%d recv=%d bad=%d\n", sent, got, bad);
    return got == sent ? 0 : 1;
}
