/*
 * qmp-client: the small QMP client of the dom0 tools (see qmp-client.h)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qmp-client.h"

/* Lines (events) skipped while waiting for one reply, at most. */
#define QMP_MAX_SKIPPED 10000

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * Read one line (a QMP message) into @line by @deadline; 0 on EOF, error,
 * timeout or a line longer than the buffer.
 */
static int read_line(QmpConn *c, char *line, size_t size, long long deadline)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
        long long left;
        ssize_t n;

        if (nl) {
            size_t len = nl - c->buf;

            if (line) {
                if (len >= size) {
                    len = size - 1;
                }
                memcpy(line, c->buf, len);
                line[len] = '\0';
            }
            c->len -= nl + 1 - c->buf;
            memmove(c->buf, nl + 1, c->len);
            return 1;
        }
        left = deadline - now_ms();
        if (c->len == QMP_MAX_LINE || left <= 0 ||
            poll(&pfd, 1, (int)left) != 1) {
            return 0;
        }
        n = read(c->fd, c->buf + c->len, QMP_MAX_LINE - c->len);
        if (n <= 0) {
            return 0;
        }
        c->len += n;
    }
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Write all of @data; the socket's send timeout bounds each send(). */
static int send_all(int fd, const char *data, size_t len)
{
    while (len) {
        /* MSG_NOSIGNAL: a QEMU that went away is an error, not SIGPIPE. */
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

        if (n <= 0) {
            return 0;
        }
        data += n;
        len -= n;
    }
    return 1;
}

/*
 * Send the first byte of @data with @pass_fd attached (SCM_RIGHTS): QEMU
 * keeps a descriptor that comes with a command's bytes for that command.
 */
static int send_with_fd(int fd, const char *data, int pass_fd)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov = { .iov_base = (void *)data, .iov_len = 1 };
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.buf,
        .msg_controllen = sizeof(control.buf),
    };
    struct cmsghdr *cmsg;

    memset(&control, 0, sizeof(control));
    cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &pass_fd, sizeof(int));
    return sendmsg(fd, &msg, MSG_NOSIGNAL) == 1;
}

int qmp_command(QmpConn *c, const char *cmd, char *reply, size_t size)
{
    return qmp_command_fd(c, cmd, -1, reply, size);
}

int qmp_command_fd(QmpConn *c, const char *cmd, int pass_fd, char *reply,
                   size_t size)
{
    long long deadline = now_ms() + c->timeout_ms;
    size_t skip = 0;
    char head[16];
    int i;

    if (c->fd < 0 || !*cmd) {
        return QMP_BROKEN;
    }
    if (pass_fd >= 0) {
        if (!send_with_fd(c->fd, cmd, pass_fd)) {
            return QMP_BROKEN;
        }
        skip = 1;
    }
    if (!send_all(c->fd, cmd + skip, strlen(cmd) - skip) ||
        !send_all(c->fd, "\n", 1)) {
        return QMP_BROKEN;
    }
    for (i = 0; i < QMP_MAX_SKIPPED; i++) {
        char *line = reply ? reply : head;
        size_t line_size = reply ? size : sizeof(head);

        if (!read_line(c, line, line_size, deadline)) {
            return QMP_BROKEN;
        }
        /* Replies; anything else (events) is skipped. */
        if (starts_with(line, "{\"return\"")) {
            return QMP_OK;
        }
        if (starts_with(line, "{\"error\"")) {
            return QMP_ERROR;
        }
    }
    return QMP_BROKEN;
}

int qmp_open(QmpConn *c, const char *path, int timeout_ms,
             char *err, size_t err_size)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    struct timeval tv = {
        .tv_sec = timeout_ms / 1000,
        .tv_usec = (timeout_ms % 1000) * 1000,
    };
    char greeting[64];

    c->fd = -1;
    c->len = 0;
    c->timeout_ms = timeout_ms;
    c->buf = malloc(QMP_MAX_LINE);
    if (!c->buf) {
        snprintf(err, err_size, "out of memory");
        return QMP_BROKEN;
    }
    if (strlen(path) >= sizeof(addr.sun_path)) {
        snprintf(err, err_size, "%s: path too long for a socket", path);
        return QMP_BROKEN;
    }
    strcpy(addr.sun_path, path);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    /*
     * The timeouts bound connect() (a QEMU that stopped accepting and
     * whose backlog is full) and every send().
     */
    if (c->fd < 0 ||
        setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
        setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
        connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        snprintf(err, err_size, "%s: %s", path,
                 errno == EAGAIN ? "connect timed out" : strerror(errno));
        return QMP_BROKEN;
    }
    if (!read_line(c, greeting, sizeof(greeting), now_ms() + timeout_ms) ||
        !starts_with(greeting, "{\"QMP\"")) {
        snprintf(err, err_size, "%s: no QMP greeting", path);
        return QMP_BROKEN;
    }
    switch (qmp_command(c, "{\"execute\": \"qmp_capabilities\"}", NULL,
                        0)) {
    case QMP_OK:
        return QMP_OK;
    case QMP_ERROR:
        snprintf(err, err_size, "%s: qmp_capabilities refused", path);
        return QMP_BROKEN;
    default:
        snprintf(err, err_size, "%s: no answer to qmp_capabilities", path);
        return QMP_BROKEN;
    }
}

void qmp_close(QmpConn *c)
{
    if (c->fd >= 0) {
        close(c->fd);
    }
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
    c->len = 0;
}
