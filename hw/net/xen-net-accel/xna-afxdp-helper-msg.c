/*
 * xen-net-accel: one message of the AF_XDP helper's protocol, with its
 * descriptors (xna-afxdp-helper.h); both sides and the tests use these.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/socket.h>
#include "xna-afxdp-helper.h"

int xna_afxdp_helper_send(int sock, const void *msg, size_t len,
                          const int *fds, int nr_fds)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * XNA_AFXDP_HELPER_ATTACH_FDS)];
    } control;
    struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    ssize_t n;

    if (nr_fds < 0 || nr_fds > XNA_AFXDP_HELPER_ATTACH_FDS) {
        return -EINVAL;
    }
    if (nr_fds) {
        struct cmsghdr *c;

        memset(&control, 0, sizeof(control));
        m.msg_control = control.buf;
        m.msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds);
        c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nr_fds);
    }
    do {
        n = sendmsg(sock, &m, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return -errno;
    }
    return (size_t)n == len ? 0 : -EIO;
}

int xna_afxdp_helper_recv(int sock, void *msg, size_t len, int *fds,
                          int max_fds, int *nr_fds)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * XNA_AFXDP_HELPER_ATTACH_FDS)];
    } control;
    struct iovec iov = { .iov_base = msg, .iov_len = len };
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = control.buf, .msg_controllen = sizeof(control.buf),
    };
    struct cmsghdr *c;
    bool bad = false;
    ssize_t n;
    int i;

    *nr_fds = 0;
    do {
        n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return errno == EAGAIN ? -ETIMEDOUT : -errno;
    }
    /* Every descriptor received is kept or closed, whatever the message. */
    for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        const uint8_t *data = CMSG_DATA(c);
        size_t nr;

        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
            c->cmsg_len < CMSG_LEN(0)) {
            continue;
        }
        nr = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (i = 0; i < nr; i++) {
            int fd;

            memcpy(&fd, data + i * sizeof(int), sizeof(fd));
            if (*nr_fds < max_fds) {
                fds[(*nr_fds)++] = fd;
            } else {
                close(fd);
                bad = true;
            }
        }
    }
    if (n == 0 || bad || (size_t)n != len ||
        (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
        for (i = 0; i < *nr_fds; i++) {
            close(fds[i]);
        }
        *nr_fds = 0;
        /* (an empty message is read as the end: the peer may be gone) */
        return n == 0 ? -EPIPE : -EBADMSG;
    }
    return 0;
}
