/*
 * qmp-json: the bounded JSON reader of the dom0 tools (see qmp-json.h)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <stdint.h>
#include <string.h>

#include "qmp-json.h"

static void j_ws(QmpJson *j)
{
    while (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' ||
           *j->p == '\n') {
        j->p++;
    }
}

int qmp_json_lit(QmpJson *j, char c)
{
    j_ws(j);
    if (*j->p != c) {
        return 0;
    }
    j->p++;
    return 1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int qmp_json_str(QmpJson *j, char *out, size_t size)
{
    size_t n = 0;

    if (!qmp_json_lit(j, '"')) {
        return 0;
    }
    for (;;) {
        char c = *j->p++;

        if (c == '\0') {
            return 0;
        }
        if (c == '"') {
            break;
        }
        if (c == '\\') {
            c = *j->p++;
            switch (c) {
            case '"':
            case '\\':
            case '/':
                break;
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case 't':
                c = '\t';
                break;
            case 'u': {
                int i, v = 0;

                for (i = 0; i < 4; i++) {
                    int h = hexval(*j->p);

                    if (h < 0) {
                        return 0;
                    }
                    v = v * 16 + h;
                    j->p++;
                }
                c = (v > 0 && v < 0x80) ? (char)v : '?';
                break;
            }
            default:
                return 0;
            }
        }
        if (out) {
            if (n + 1 >= size) {
                return 0;
            }
            out[n++] = c;
        }
    }
    if (out) {
        out[n] = '\0';
    }
    return 1;
}

int qmp_json_int(QmpJson *j, int *neg, uint64_t *v)
{
    j_ws(j);
    *neg = 0;
    *v = 0;
    if (*j->p == '-') {
        *neg = 1;
        j->p++;
    }
    if (*j->p < '0' || *j->p > '9') {
        return 0;
    }
    while (*j->p >= '0' && *j->p <= '9') {
        unsigned int d = *j->p++ - '0';

        if (*v > (UINT64_MAX - d) / 10) {
            return 0;
        }
        *v = *v * 10 + d;
    }
    return 1;
}

int qmp_json_skip(QmpJson *j)
{
    j_ws(j);
    switch (*j->p) {
    case '"':
        return qmp_json_str(j, NULL, 0);
    case '{':
    case '[': {
        char close = *j->p == '{' ? '}' : ']';
        int first = 1;

        if (++j->depth > QMP_JSON_DEPTH) {
            return 0;
        }
        j->p++;
        for (;;) {
            if (qmp_json_lit(j, close)) {
                break;
            }
            if (!first && !qmp_json_lit(j, ',')) {
                return 0;
            }
            first = 0;
            if (close == '}' &&
                (!qmp_json_str(j, NULL, 0) || !qmp_json_lit(j, ':'))) {
                return 0;
            }
            if (!qmp_json_skip(j)) {
                return 0;
            }
        }
        j->depth--;
        return 1;
    }
    default:
        if (*j->p == '\0') {
            return 0;
        }
        /* A number, true, false or null: the run of their characters. */
        if (!strchr("-+.0123456789eEtrufalsn", *j->p)) {
            return 0;
        }
        while (*j->p && strchr("-+.0123456789eEtrufalsn", *j->p)) {
            j->p++;
        }
        return 1;
    }
}

int qmp_json_begin_return(QmpJson *j, const char *reply)
{
    char key[QMP_JSON_KEY_LEN];

    j->p = reply;
    j->depth = 0;
    return qmp_json_lit(j, '{') && qmp_json_str(j, key, sizeof(key)) &&
           !strcmp(key, "return") && qmp_json_lit(j, ':');
}

/*
 * The integer of {"return": INTEGER ...}, ending where the value ends
 * (with the object, or before its next member).
 */
static int return_number(const char *reply, int *neg, uint64_t *v)
{
    QmpJson j;

    if (!qmp_json_begin_return(&j, reply)) {
        return QMP_JSON_NO_RETURN;
    }
    if (!qmp_json_int(&j, neg, v)) {
        return QMP_JSON_BAD_VALUE;
    }
    j_ws(&j);
    return *j.p == ',' || *j.p == '}' ? QMP_JSON_OK : QMP_JSON_BAD_VALUE;
}

int qmp_json_return_int(const char *reply, long long *out)
{
    uint64_t v;
    int neg, r = return_number(reply, &neg, &v);

    if (r != QMP_JSON_OK) {
        return r;
    }
    if (v > INT64_MAX) {
        return QMP_JSON_BAD_VALUE;
    }
    *out = neg ? -(long long)v : (long long)v;
    return QMP_JSON_OK;
}

int qmp_json_return_uint(const char *reply, uint64_t *out)
{
    uint64_t v;
    int neg, r = return_number(reply, &neg, &v);

    if (r != QMP_JSON_OK) {
        return r;
    }
    if (neg && v) {
        return QMP_JSON_BAD_VALUE;
    }
    *out = v;
    return QMP_JSON_OK;
}

int qmp_json_return_str(const char *reply, char *out, size_t size)
{
    QmpJson j;
    int r = QMP_JSON_OK;

    if (!qmp_json_begin_return(&j, reply)) {
        r = QMP_JSON_NO_RETURN;
    } else if (!qmp_json_str(&j, out, size)) {
        r = QMP_JSON_BAD_VALUE;
    }
    if (r != QMP_JSON_OK) {
        out[0] = '\0';
    }
    return r;
}

/*
 * A member's value into @out (QMP_JSON_NAME_LEN bytes) if it is a string
 * that fits; @out unchanged if not.  qmp_json_str() into @out itself
 * would leave what it copied of a string too long (the first 63 bytes),
 * in place of the value the key had before.
 */
static int j_name(QmpJson *j, char *out)
{
    char tmp[QMP_JSON_NAME_LEN];

    if (!qmp_json_str(j, tmp, sizeof(tmp))) {
        return 0;
    }
    memcpy(out, tmp, strlen(tmp) + 1);
    return 1;
}

int qmp_json_return_list(const char *reply, QmpJsonListFn fn, void *opaque)
{
    int n = 0;
    QmpJson j;

    if (!qmp_json_begin_return(&j, reply)) {
        return QMP_JSON_NO_RETURN;
    }
    if (!qmp_json_lit(&j, '[')) {
        return QMP_JSON_BAD_VALUE;
    }
    if (qmp_json_lit(&j, ']')) {
        return QMP_JSON_OK;
    }
    do {
        char name[QMP_JSON_NAME_LEN] = "", type[QMP_JSON_NAME_LEN] = "";
        char key[QMP_JSON_KEY_LEN];
        int name_ok = 0, type_ok = 0;

        if (++n > QMP_JSON_MAX_LIST || !qmp_json_lit(&j, '{')) {
            return QMP_JSON_BAD_VALUE;
        }
        if (!qmp_json_lit(&j, '}')) {
            do {
                QmpJson save;

                if (!qmp_json_str(&j, key, sizeof(key)) ||
                    !qmp_json_lit(&j, ':')) {
                    return QMP_JSON_BAD_VALUE;
                }
                /* Too long a name or type: not one of ours, skipped. */
                save = j;
                if (!strcmp(key, "name") && j_name(&j, name)) {
                    name_ok = 1;
                } else if (!strcmp(key, "type") && j_name(&j, type)) {
                    type_ok = 1;
                } else {
                    j = save;
                    if (!qmp_json_skip(&j)) {
                        return QMP_JSON_BAD_VALUE;
                    }
                }
            } while (qmp_json_lit(&j, ','));
            if (!qmp_json_lit(&j, '}')) {
                return QMP_JSON_BAD_VALUE;
            }
        }
        if (name_ok && type_ok && !fn(opaque, name, type)) {
            return QMP_JSON_OK;
        }
    } while (qmp_json_lit(&j, ','));
    if (!qmp_json_lit(&j, ']')) {
        return QMP_JSON_BAD_VALUE;
    }
    return QMP_JSON_OK;
}
