/*
 * qmp-json: the bounded JSON reader of the dom0 tools for QEMU's replies
 *
 * Everything QEMU answers is untrusted (a guest may have taken over its
 * backend QEMU).  The reader works on one reply as qmp_command() hands it
 * over, a NUL-terminated line, and never reads past that NUL; it does not
 * allocate, its recursion is bounded (QMP_JSON_DEPTH), every string it
 * writes has a size and is NUL-terminated, and numbers that overflow are
 * refused.  It is lenient where leniency costs nothing: what follows a
 * value it was asked for is not looked at, and a skipped scalar is any
 * run of the characters of numbers, true, false and null.
 *
 * Two levels:
 * - the reply readers, one call per reply: qmp_json_return_int(),
 *   qmp_json_return_str(), qmp_json_return_list() (qom-get of a number or
 *   a string, qom-list);
 * - a cursor (QmpJson) and its steps, for replies of other shapes.
 *
 * tests/fuzz/fuzz-qmp-json.c fuzzes both against a reference model.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef XNA_QMP_JSON_H
#define XNA_QMP_JSON_H

#include <stddef.h>
#include <stdint.h>

/* Containers nested in a value that qmp_json_skip() passes over, at most. */
#define QMP_JSON_DEPTH 16
/*
 * qmp_json_return_list(): the size of its name and type buffers (longer
 * ones are not passed on), of its key buffer (a longer key fails the
 * reply), and the entries looked at (more fail the reply).
 */
#define QMP_JSON_NAME_LEN 64
#define QMP_JSON_KEY_LEN 16
#define QMP_JSON_MAX_LIST 4096

/* What the reply readers return. */
enum {
    QMP_JSON_OK = 0,
    QMP_JSON_NO_RETURN = 1,     /* not {"return": ...} */
    QMP_JSON_BAD_VALUE = 2,     /* the value is not what was asked for */
};

/*
 * {"return": INTEGER}: @out is set on QMP_JSON_OK only, to an integer in
 * [-INT64_MAX, INT64_MAX] (a larger magnitude is QMP_JSON_BAD_VALUE).
 * The integer must be the whole value: "12abc", 1.5 or 1e3 are
 * QMP_JSON_BAD_VALUE, not 12 or 1.
 */
int qmp_json_return_int(const char *reply, long long *out);

/* {"return": INTEGER} as above, for a uint64 (QOM's counters). */
int qmp_json_return_uint(const char *reply, uint64_t *out);

/*
 * {"return": STRING}, decoded into @out (@size bytes, > 0).  QMP_JSON_OK
 * when it fits with its NUL; otherwise @out is "".
 */
int qmp_json_return_str(const char *reply, char *out, size_t size);

/*
 * One entry of a qom-list reply: @name and @type are NUL-terminated and
 * shorter than QMP_JSON_NAME_LEN.  Return 0 to stop the walk (the reply
 * then counts as read), 1 to go on.
 */
typedef int (*QmpJsonListFn)(void *opaque, const char *name, const char *type);

/*
 * {"return": [{"name": STRING, "type": STRING, ...}, ...]} (qom-list):
 * calls @fn for each entry, in order, that has both a "name" and a
 * "type" string short enough; other members are skipped; when a key comes
 * twice, the last value that is a short enough string counts.
 * QMP_JSON_BAD_VALUE when the value is not such an array, has an entry
 * that is not such an object, or more than QMP_JSON_MAX_LIST entries (the
 * entries before the bad one have been passed to @fn).
 */
int qmp_json_return_list(const char *reply, QmpJsonListFn fn, void *opaque);

/*
 * The cursor.  Every step skips white space first, and returns 1 when
 * it read what it was asked for, with @p just past it, else 0: then @p
 * and @depth are undefined, except after qmp_json_lit(), which only
 * skips the white space.
 */
typedef struct QmpJson {
    const char *p;      /* the next byte; a NUL ends the reply */
    int depth;          /* containers qmp_json_skip() is inside */
} QmpJson;

/* Start at @reply and step into {"return": VALUE}, to VALUE. */
int qmp_json_begin_return(QmpJson *j, const char *reply);

/* The character @c (a structural one: { } [ ] : ,). */
int qmp_json_lit(QmpJson *j, char c);

/*
 * A string, decoded into @out (@size bytes; @out NULL to skip it): fails
 * if it does not fit with its NUL, leaving @out unspecified but for its
 * last byte, which it never writes.  \u escapes beyond ASCII (and \u0000)
 * become '?'; other bytes are copied as they are.
 */
int qmp_json_str(QmpJson *j, char *out, size_t size);

/*
 * An integer: an optional '-', then decimal digits (what QEMU prints for
 * every integer property), up to the first byte that is not a digit;
 * *@neg and *@v are the sign and the magnitude.  Fails beyond UINT64_MAX.
 */
int qmp_json_int(QmpJson *j, int *neg, uint64_t *v);

/* Any value, with at most QMP_JSON_DEPTH containers nested in it. */
int qmp_json_skip(QmpJson *j);

#endif /* XNA_QMP_JSON_H */
