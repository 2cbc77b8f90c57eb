/*
 * xna-qmp: send QMP commands to a QEMU and print the replies
 *
 *   xna-qmp SOCKET { 'COMMAND-JSON' | --tap FDNAME IFNAME } ...
 *           [--helper FDNAME PROGRAM [ARG...]]
 *
 * Connects to QEMU's QMP unix socket, enters command mode, sends each
 * command and waits for its reply (events in between are skipped).
 * Prints each reply on its own line; exits 1 if any reply is an error,
 * 2 if QEMU could not be reached or closed the connection.
 *
 * --tap FDNAME IFNAME creates the tap IFNAME (with virtio-net headers,
 * as QEMU would) and hands it to QEMU as the descriptor FDNAME (QMP
 * getfd), for a later netdev_add of type tap with "fd": FDNAME.  A QEMU
 * that dropped its privileges (-run-with user=) may not create a tap
 * itself; the tap goes away with the QEMU's descriptor, as one QEMU
 * made would.  A tap that cannot be made counts as an error reply.
 *
 * --helper FDNAME PROGRAM ARG... (the rest of the command line) starts
 * PROGRAM, in a session of its own, with one end of a SOCK_SEQPACKET
 * socket pair as its descriptor 3 and /dev/null as its input, and hands
 * the other end to QEMU as FDNAME: the AF_XDP NIC's privileged helper
 * (contrib/xna-afxdp-helper), for afxdp-helper=FDNAME.  The helper ends
 * when QEMU's end closes.  A helper that cannot be started or handed
 * over counts as an error reply.
 *
 * The vif hotplug script needs a QMP client that works in a minimal dom0
 * (no python, no socat) and that waits for the reply of every command:
 * closing the socket early makes QEMU drop commands it has not run yet.
 * The client itself is qmp-client.c, shared with xna-stat.
 *
 * XNA_QMP_TIMEOUT_MS in the environment bounds the whole run (connect and
 * every reply; 1..600000, default 10000 per step): the hotplug script
 * passes what is left of its own time, so that nothing it started can
 * act after it gave up.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "qmp-client.h"

#define TIMEOUT_MS 10000

static long long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* The whole run's bound from the environment, or 0: none. */
static long long run_bound_ms(void)
{
    const char *s = getenv("XNA_QMP_TIMEOUT_MS");
    long long v = 0;

    if (!s || !*s) {
        return 0;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 600000) {
            return 0;
        }
        v = v * 10 + (*s - '0');
    }
    return v < 1 || v > 600000 ? 0 : v;
}

/* Names that go into JSON unquoted need no escaping: [A-Za-z0-9_.-]. */
static int plain_name(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max) {
        return 0;
    }
    return strspn(s, "abcdefghijklmnopqrstuvwxyz"
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/*
 * Create the tap @ifname and pass it to QEMU as @fdname.  The reply (or
 * an error of ours, as QEMU's would look) goes to @reply.
 */
static int pass_tap(QmpConn *c, const char *fdname, const char *ifname,
                    char *reply, size_t size)
{
    /* IFF_TUN_EXCL: never a tap someone else keeps (persistent) */
    struct ifreq ifr = {
        .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_TUN_EXCL,
    };
    char cmd[128];
    int fd, r;

    reply[0] = '\0';
    if (!plain_name(fdname, 32) || !plain_name(ifname, IFNAMSIZ - 1)) {
        fprintf(stderr, "xna-qmp: --tap %s %s: names may have letters, "
                "digits, '_', '.' and '-' only (%d at most for a tap)\n",
                fdname, ifname, IFNAMSIZ - 1);
        return QMP_ERROR;
    }
    fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "xna-qmp: /dev/net/tun: %s\n", strerror(errno));
        return QMP_ERROR;
    }
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        fprintf(stderr, "xna-qmp: cannot create tap %s: %s\n", ifname,
                strerror(errno));
        close(fd);
        return QMP_ERROR;
    }
    snprintf(cmd, sizeof(cmd),
             "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"%s\"}}",
             fdname);
    r = qmp_command_fd(c, cmd, fd, reply, size);
    close(fd);
    return r;
}

/*
 * Start @argv[0] with one end of a socket pair as descriptor 3 and pass
 * the other to QEMU as @fdname.
 */
static int pass_helper(QmpConn *c, const char *fdname, char **argv,
                       char *reply, size_t size)
{
    char cmd[128];
    int sv[2], r;
    pid_t pid;

    reply[0] = '\0';
    if (!plain_name(fdname, 32)) {
        fprintf(stderr, "xna-qmp: --helper %s: names may have letters, "
                "digits, '_', '.' and '-' only\n", fdname);
        return QMP_ERROR;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        fprintf(stderr, "xna-qmp: socketpair: %s\n", strerror(errno));
        return QMP_ERROR;
    }
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "xna-qmp: fork: %s\n", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return QMP_ERROR;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        /*
         * Its end as 3 (moved above 3 first, so that 0 from dup2 below
         * cannot be it), /dev/null as 0, and nothing else of ours or of
         * the script's (a lock the script holds on 9, say): only 0-3.
         */
        int end = fcntl(sv[0], F_DUPFD, 10);

        if (null < 0 || end < 0 || dup2(null, 0) < 0 || dup2(end, 3) < 0 ||
            close_range(4, ~0U, 0) < 0 || setsid() < 0) {
            _exit(126);
        }
        execv(argv[0], argv);
        fprintf(stderr, "xna-qmp: cannot run %s: %s\n", argv[0],
                strerror(errno));
        _exit(127);
    }
    close(sv[0]);
    snprintf(cmd, sizeof(cmd),
             "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"%s\"}}",
             fdname);
    r = qmp_command_fd(c, cmd, sv[1], reply, size);
    /* QEMU's copy, if it took it, is the only one left: ours goes. */
    close(sv[1]);
    return r;
}

int main(int argc, char **argv)
{
    static char reply[QMP_MAX_LINE];
    long long bound = run_bound_ms(), deadline = mono_ms() + bound;
    char err[256];
    QmpConn c;
    int i, rc = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: xna-qmp SOCKET "
                "{ 'COMMAND-JSON' | --tap FDNAME IFNAME } ... "
                "[--helper FDNAME PROGRAM [ARG...]]\n");
        return 2;
    }
    if (qmp_open(&c, argv[1], bound && bound < TIMEOUT_MS ? bound : TIMEOUT_MS,
                 err, sizeof(err)) != QMP_OK) {
        fprintf(stderr, "xna-qmp: %s\n", err);
        qmp_close(&c);
        return 2;
    }
    for (i = 2; i < argc; i++) {
        const char *what = argv[i];
        int r;

        if (bound) {
            long long left = deadline - mono_ms();

            if (left <= 0) {
                fprintf(stderr, "xna-qmp: out of time (XNA_QMP_TIMEOUT_MS) "
                        "before: %s\n", argv[i]);
                qmp_close(&c);
                return 2;
            }
            c.timeout_ms = left < TIMEOUT_MS ? (int)left : TIMEOUT_MS;
        }
        if (!strcmp(argv[i], "--helper")) {
            if (i + 2 >= argc) {
                fprintf(stderr, "xna-qmp: --helper needs FDNAME PROGRAM\n");
                qmp_close(&c);
                return 2;
            }
            r = pass_helper(&c, argv[i + 1], &argv[i + 2], reply,
                            sizeof(reply));
            i = argc;
            if (r == QMP_ERROR && !*reply) {
                rc |= r;
                continue;
            }
        } else if (!strcmp(argv[i], "--tap")) {
            if (i + 2 >= argc) {
                fprintf(stderr, "xna-qmp: --tap needs FDNAME IFNAME\n");
                qmp_close(&c);
                return 2;
            }
            r = pass_tap(&c, argv[i + 1], argv[i + 2], reply, sizeof(reply));
            i += 2;
            if (r == QMP_ERROR && !*reply) {
                rc |= r;
                continue;
            }
        } else {
            r = qmp_command(&c, argv[i], reply, sizeof(reply));
        }

        if (r == QMP_BROKEN) {
            fprintf(stderr, "xna-qmp: connection lost at: %s\n", what);
            qmp_close(&c);
            return 2;
        }
        printf("%s\n", reply);
        rc |= r;
    }
    qmp_close(&c);
    return rc;
}
