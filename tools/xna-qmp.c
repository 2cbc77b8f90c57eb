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
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <stdio.h>

#include "qmp-client.h"

#define TIMEOUT_MS 10000

int main(int argc, char **argv)
{
    static char reply[QMP_MAX_LINE];
    char err[256];
    QmpConn c;
    int i, rc = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: xna-qmp SOCKET 'COMMAND-JSON' ...\n");
        return 2;
    }
    if (qmp_open(&c, argv[1], TIMEOUT_MS, err, sizeof(err)) != QMP_OK) {
        fprintf(stderr, "xna-qmp: %s\n", err);
        qmp_close(&c);
        return 2;
    }
    for (i = 2; i < argc; i++) {
        int r = qmp_command(&c, argv[i], reply, sizeof(reply));

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
