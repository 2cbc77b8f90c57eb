/*
 * xna-qmp: send QMP commands to a QEMU and print the replies
 *
 *   xna-qmp SOCKET 'COMMAND-JSON' ...
 *
 * Connects to QEMU's QMP unix socket, enters command mode, sends each
 * command and waits for its reply (events in between are skipped).
 * Prints each reply on its own line; exits 1 if any reply is an error,
 * 2 if QEMU could not be reached or closed the connection.
 *
 * The vif hotplug script needs a QMP client that works in a minimal dom0
 * (no python, no socat) and that waits for the reply of every command:
 * closing the socket early makes QEMU drop commands it has not run yet.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define TIMEOUT_MS 10000

static char buf[1 << 20];
static size_t buf_len;

/*
 * Read one line (a QMP message) into @line; false on EOF, error or
 * timeout.
 */
static int read_line(int fd, char *line, size_t size)
{
    for (;;) {
        char *nl = memchr(buf, '\n', buf_len);
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        ssize_t n;

        if (nl) {
            size_t len = nl - buf;

            if (len >= size) {
                len = size - 1;
            }
            memcpy(line, buf, len);
            line[len] = '\0';
            buf_len -= nl + 1 - buf;
            memmove(buf, nl + 1, buf_len);
            return 1;
        }
        if (buf_len == sizeof(buf) || poll(&pfd, 1, TIMEOUT_MS) != 1) {
            return 0;
        }
        n = read(fd, buf + buf_len, sizeof(buf) - buf_len);
        if (n <= 0) {
            return 0;
        }
        buf_len += n;
    }
}

/* Send @cmd and wait for its reply; 0 ok, 1 error reply, 2 broken. */
static int command(int fd, const char *cmd, int print)
{
    static char line[1 << 20];
    size_t len = strlen(cmd);

    if (write(fd, cmd, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
        return 2;
    }
    while (read_line(fd, line, sizeof(line))) {
        if (strstr(line, "\"event\"") && !strstr(line, "\"return\"")) {
            continue;
        }
        if (print) {
            printf("%s\n", line);
        }
        return strncmp(line, "{\"error\"", 8) == 0 ? 1 : 0;
    }
    return 2;
}

int main(int argc, char **argv)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    char greeting[4096];
    int fd, i, rc = 0;

    if (argc < 2 || strlen(argv[1]) >= sizeof(addr.sun_path)) {
        fprintf(stderr, "usage: xna-qmp SOCKET 'COMMAND-JSON' ...\n");
        return 2;
    }
    strcpy(addr.sun_path, argv[1]);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        fprintf(stderr, "xna-qmp: %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    if (!read_line(fd, greeting, sizeof(greeting)) ||
        !strstr(greeting, "\"QMP\"") ||
        command(fd, "{\"execute\": \"qmp_capabilities\"}", 0) != 0) {
        fprintf(stderr, "xna-qmp: %s: no QMP greeting\n", argv[1]);
        return 2;
    }
    for (i = 2; i < argc; i++) {
        int r = command(fd, argv[i], 1);

        if (r == 2) {
            fprintf(stderr, "xna-qmp: connection lost at: %s\n", argv[i]);
            return 2;
        }
        rc |= r;
    }
    close(fd);
    return rc;
}
