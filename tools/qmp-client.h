/*
 * qmp-client: the small QMP client of the dom0 tools (xna-qmp, xna-stat)
 *
 * A minimal dom0 has no python and no socat, so the tools speak QMP
 * themselves.  Everything QEMU sends is untrusted: messages are read into
 * a fixed buffer, a line longer than it breaks the connection, and every
 * wait has a deadline, so that a wedged or hostile QEMU costs a bounded
 * time and memory and never a crash.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef XNA_QMP_CLIENT_H
#define XNA_QMP_CLIENT_H

#include <stddef.h>

/* Largest QMP message accepted, newline included. */
#define QMP_MAX_LINE (1 << 20)

enum {
    QMP_OK = 0,
    QMP_ERROR = 1,          /* QEMU answered {"error": ...} */
    QMP_BROKEN = 2,         /* connection lost, timed out or garbled */
};

typedef struct QmpConn {
    int fd;
    int timeout_ms;         /* per command: connect, greeting, each reply */
    size_t len;             /* bytes in buf */
    char *buf;              /* QMP_MAX_LINE bytes: what QEMU sent so far */
} QmpConn;

/*
 * Connect to the QMP unix socket @path, read QEMU's greeting and enter
 * command mode.  Returns QMP_OK, or QMP_BROKEN with a message in @err.
 */
int qmp_open(QmpConn *c, const char *path, int timeout_ms,
             char *err, size_t err_size);

/*
 * Send the JSON command @cmd and wait for its reply, skipping events.
 * The reply line goes to @reply (NUL-terminated; cut to @size - 1 bytes
 * if longer) when @reply is not NULL.  Returns QMP_OK, QMP_ERROR or
 * QMP_BROKEN; after QMP_BROKEN the connection is of no further use.
 */
int qmp_command(QmpConn *c, const char *cmd, char *reply, size_t size);

/*
 * qmp_command() with the descriptor @pass_fd passed along (SCM_RIGHTS),
 * for QMP's getfd and add-fd; -1: none.  The caller keeps its own copy.
 */
int qmp_command_fd(QmpConn *c, const char *cmd, int pass_fd, char *reply,
                   size_t size);

void qmp_close(QmpConn *c);

#endif /* XNA_QMP_CLIENT_H */
