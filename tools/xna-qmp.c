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
 * The client itself is qmp-client.c, shared with xna-stat.
 *
 * XNA_QMP_TIMEOUT_MS in the environment bounds the whole run (connect and
 * every reply; 1..600000, default 10000 per step): the hotplug script
 * passes what is left of its own time, so that nothing it started can
 * act after it gave up.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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

int main(int argc, char **argv)
{
    static char reply[QMP_MAX_LINE];
    long long bound = run_bound_ms(), deadline = mono_ms() + bound;
    char err[256];
    QmpConn c;
    int i, rc = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: xna-qmp SOCKET 'COMMAND-JSON' ...\n");
        return 2;
    }
    if (qmp_open(&c, argv[1], bound && bound < TIMEOUT_MS ? bound : TIMEOUT_MS,
                 err, sizeof(err)) != QMP_OK) {
        fprintf(stderr, "xna-qmp: %s\n", err);
        qmp_close(&c);
        return 2;
    }
    for (i = 2; i < argc; i++) {
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
        r = qmp_command(&c, argv[i], reply, sizeof(reply));

        if (r == QMP_BROKEN) {
            fprintf(stderr, "xna-qmp: connection lost at: %s\n", argv[i]);
            qmp_close(&c);
            return 2;
        }
        printf("%s\n", reply);
        rc |= r;
    }
    qmp_close(&c);
    return rc;
}
