/*
 * Fuzz target: xna-stat's reader of QEMU's QMP replies (tools/qmp-json.c)
 * and the QMP client that hands it the replies (tools/qmp-client.c)
 *
 * xna-stat (the dom0 status tool) reads what each backend QEMU answers,
 * and that QEMU serves a guest that may have taken it over.  The input is
 * what such a QEMU writes on its QMP socket: lines, as in the seeds
 * (corpus/qmp-json/seed-*: a greeting, qmp_capabilities' {"return": {}},
 * qom-list and qom-get replies as xna-stat asks for them, errors, events
 * in between), any bytes at all, NULs included.
 *
 * 1. The client.  The input is served on a socketpair and qmp_command()
 *    is called until it fails, as xna-stat does on one connection: it
 *    must hand over exactly the lines that start {"return" (QMP_OK) or
 *    {"error" (QMP_ERROR), in order, each cut at its first NUL, skip at
 *    most 10000 other lines per command, and fail at the end of the input
 *    (a last line without its newline is never a reply).
 *
 * 2. The reader, on every line, cut at its first NUL (what the tool's
 *    parser sees of it) and copied into a buffer of exactly that size, so
 *    that a read past the NUL is an ASan report.  A reference model here,
 *    written on (pointer, length) and with an explicit stack instead of
 *    recursion, gives the expected outcome of each call:
 *    - qmp_json_return_int() and qmp_json_return_uint() (the number must
 *      be the whole value: a ',' or '}' after it), qmp_json_return_str()
 *      (into 64 bytes, as
 *      xna-stat does, and into exactly the decoded length and one byte
 *      less) and qmp_json_return_list() (every entry passed to the
 *      callback, in order, a key given twice counting its last value
 *      that is a short enough string; names and types NUL-terminated
 *      within 64 bytes; at most QMP_JSON_MAX_LIST entries; the walk
 *      stopped half-way by the callback): the result codes, numbers and
 *      strings must be the model's; a string buffer is never written
 *      past its NUL, and is "" after a failure;
 *    - the cursor steps at the start of the line and at the value of
 *      {"return": VALUE}: qmp_json_skip(), qmp_json_str() (with no
 *      buffer, 64 bytes, just enough, one byte short: a failure never
 *      writes the last byte), qmp_json_int() must succeed exactly when
 *      the model does and stop where it stops, with the same string or
 *      number, and a skip ends at depth 0;
 *    - a value qmp_json_skip() passed over, fed again alone (a copy
 *      ending where it ended), is passed over whole: nothing beyond it
 *      decided the outcome; wrapped in arrays and objects up to
 *      QMP_JSON_DEPTH containers in all it is still accepted, in one
 *      container more it is refused.
 *
 * crashes/qmp-json/ keeps what this found: a key given twice, the second
 * value a string too long, left its first 63 bytes as the entry's name
 * or type (now the first value stays).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz-util.h"
#include "qmp-client.h"
#include "qmp-json.h"

/* Larger inputs are cut: the socket must take all of one at once. */
#define INPUT_MAX 32768
/* Lines qmp_command() skips in one call (qmp-client.c). */
#define CLIENT_MAX_SKIPPED 10000

/* ---------------------------------------------------------------------
 * The reference model, on s[0, len): the end of the line is its NUL.
 */

typedef struct Ref {
    const char *s;
    size_t len;
} Ref;

typedef struct Entry {
    char name[QMP_JSON_NAME_LEN];
    char type[QMP_JSON_NAME_LEN];
} Entry;

static size_t ref_ws(const Ref *r, size_t i)
{
    while (i < r->len && memchr(" \t\r\n", r->s[i], 4)) {
        i++;
    }
    return i;
}

static bool ref_at(const Ref *r, size_t i, char c)
{
    return i < r->len && r->s[i] == c;
}

static int ref_hex(char c)
{
    static const char digits[] = "0123456789abcdef";
    const char *p;

    if (c >= 'A' && c <= 'F') {
        c = (char)(c - 'A' + 'a');
    }
    p = memchr(digits, c, 16);
    return p ? (int)(p - digits) : -1;
}

/*
 * A string after white space at s[*i], decoded: its length (of which the
 * first @cap bytes go to @out), *@i past it; -1 if it is not a string.
 */
static long ref_str(const Ref *r, size_t *i, char *out, size_t cap)
{
    /* Pairs: the character after the backslash, what it stands for. */
    static const char esc[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
    size_t k = ref_ws(r, *i);
    long n = 0;

    if (!ref_at(r, k, '"')) {
        return -1;
    }
    for (k++; !ref_at(r, k, '"'); k++) {
        char c;

        if (k == r->len) {
            return -1;
        }
        c = r->s[k];
        if (c == '\\') {
            unsigned int e, v = 0, d;

            if (++k == r->len) {
                return -1;
            }
            e = 0;
            while (e < sizeof(esc) - 1 && esc[e] != r->s[k]) {
                e += 2;
            }
            if (e < sizeof(esc) - 1) {
                c = esc[e + 1];
            } else if (r->s[k] == 'u') {
                for (d = 0; d < 4; d++) {
                    if (++k == r->len || ref_hex(r->s[k]) < 0) {
                        return -1;
                    }
                    v = v << 4 | (unsigned int)ref_hex(r->s[k]);
                }
                c = (v >= 1 && v <= 0x7f) ? (char)v : '?';
            } else {
                return -1;
            }
        }
        if ((size_t)n < cap) {
            out[n] = c;
        }
        n++;
    }
    *i = k + 1;
    return n;
}

/* An integer: 1 with *@i past it, 0 not one, -1 beyond UINT64_MAX. */
static int ref_int(const Ref *r, size_t *i, bool *neg, uint64_t *v)
{
    size_t k = ref_ws(r, *i), d;
    char digits[32];

    *neg = ref_at(r, k, '-');
    k += *neg;
    d = k;
    while (d < r->len && r->s[d] >= '0' && r->s[d] <= '9') {
        d++;
    }
    if (d == k) {
        return 0;
    }
    *i = d;
    /* Leading zeros do not overflow. */
    while (d - k > 1 && r->s[k] == '0') {
        k++;
    }
    if (d - k > 20) {
        return -1;
    }
    memcpy(digits, r->s + k, d - k);
    digits[d - k] = '\0';
    /* libc's conversion: a reference that owes nothing to the reader's. */
    errno = 0;
    *v = strtoull(digits, NULL, 10);
    return errno == ERANGE ? -1 : 1;
}

static bool ref_scalar_char(char c)
{
    return (c >= '0' && c <= '9') || memchr("+-.eE", c, 5) ||
           memchr("truefalsenull", c, 12);
}

/*
 * Any value after white space at s[*i]: 1 with *@i past it and *@depth
 * its deepest nesting of containers; 0 if it is not a value or nests
 * deeper than QMP_JSON_DEPTH.  An explicit stack, not recursion.
 */
static int ref_skip(const Ref *r, size_t *i, int *depth)
{
    char closer[QMP_JSON_DEPTH];
    bool first[QMP_JSON_DEPTH];
    size_t k = *i;
    int sp = 0;

    *depth = 0;
    for (;;) {
        /* A value at k. */
        k = ref_ws(r, k);
        if (ref_at(r, k, '"')) {
            if (ref_str(r, &k, NULL, 0) < 0) {
                return 0;
            }
        } else if (ref_at(r, k, '{') || ref_at(r, k, '[')) {
            if (sp == QMP_JSON_DEPTH) {
                return 0;
            }
            closer[sp] = r->s[k] == '{' ? '}' : ']';
            first[sp++] = true;
            *depth = sp > *depth ? sp : *depth;
            k++;
        } else if (k < r->len && ref_scalar_char(r->s[k])) {
            while (k < r->len && ref_scalar_char(r->s[k])) {
                k++;
            }
        } else {
            return 0;
        }
        /* Close what ends here, then on to the next member or element. */
        for (;;) {
            if (!sp) {
                *i = k;
                return 1;
            }
            k = ref_ws(r, k);
            if (!ref_at(r, k, closer[sp - 1])) {
                break;
            }
            k++;
            sp--;
        }
        if (!first[sp - 1]) {
            if (!ref_at(r, k, ',')) {
                return 0;
            }
            k++;
        }
        first[sp - 1] = false;
        if (closer[sp - 1] == '}') {
            if (ref_str(r, &k, NULL, 0) < 0) {
                return 0;
            }
            k = ref_ws(r, k);
            if (!ref_at(r, k, ':')) {
                return 0;
            }
            k++;
        }
    }
}

/* {"return": at the start: true with *@i at the value. */
static bool ref_begin_return(const Ref *r, size_t *i)
{
    char key[QMP_JSON_KEY_LEN];
    size_t k = ref_ws(r, 0);
    long n;

    if (!ref_at(r, k, '{')) {
        return false;
    }
    k++;
    n = ref_str(r, &k, key, sizeof(key));
    if (n != 6 || memcmp(key, "return", 6)) {
        return false;
    }
    k = ref_ws(r, k);
    if (!ref_at(r, k, ':')) {
        return false;
    }
    *i = k + 1;
    return true;
}

/*
 * A string member's value for qmp_json_return_list(): into @out if it is
 * a string that fits QMP_JSON_NAME_LEN with its NUL; @out unchanged if not.
 */
static bool ref_name(const Ref *r, size_t *i, char *out)
{
    char tmp[QMP_JSON_NAME_LEN];
    size_t k = *i;
    long n = ref_str(r, &k, tmp, sizeof(tmp));

    if (n < 0 || n >= QMP_JSON_NAME_LEN) {
        return false;
    }
    memcpy(out, tmp, n);
    out[n] = '\0';
    *i = k;
    return true;
}

/* qmp_json_return_list(): its result, the entries it passes in @e. */
static int ref_list(const Ref *r, Entry *e, unsigned int *n_entries)
{
    unsigned int count = 0;
    size_t k;

    *n_entries = 0;
    if (!ref_begin_return(r, &k)) {
        return QMP_JSON_NO_RETURN;
    }
    k = ref_ws(r, k);
    if (!ref_at(r, k, '[')) {
        return QMP_JSON_BAD_VALUE;
    }
    k = ref_ws(r, k + 1);
    if (ref_at(r, k, ']')) {
        return QMP_JSON_OK;
    }
    for (;;) {
        Entry cur = { "", "" };
        bool name_ok = false, type_ok = false;

        k = ref_ws(r, k);
        if (++count > QMP_JSON_MAX_LIST || !ref_at(r, k, '{')) {
            return QMP_JSON_BAD_VALUE;
        }
        k = ref_ws(r, k + 1);
        if (ref_at(r, k, '}')) {
            k++;
        } else {
            for (;;) {
                char key[QMP_JSON_KEY_LEN];
                long n = ref_str(r, &k, key, sizeof(key));
                int depth;

                if (n < 0 || n >= QMP_JSON_KEY_LEN) {
                    return QMP_JSON_BAD_VALUE;
                }
                k = ref_ws(r, k);
                if (!ref_at(r, k, ':')) {
                    return QMP_JSON_BAD_VALUE;
                }
                k++;
                if (n == 4 && !memcmp(key, "name", 4) &&
                    ref_name(r, &k, cur.name)) {
                    name_ok = true;
                } else if (n == 4 && !memcmp(key, "type", 4) &&
                           ref_name(r, &k, cur.type)) {
                    type_ok = true;
                } else if (!ref_skip(r, &k, &depth)) {
                    return QMP_JSON_BAD_VALUE;
                }
                k = ref_ws(r, k);
                if (ref_at(r, k, ',')) {
                    k++;
                    continue;
                }
                if (!ref_at(r, k, '}')) {
                    return QMP_JSON_BAD_VALUE;
                }
                k++;
                break;
            }
        }
        if (name_ok && type_ok) {
            e[(*n_entries)++] = cur;
        }
        k = ref_ws(r, k);
        if (ref_at(r, k, ',')) {
            k++;
            continue;
        }
        return ref_at(r, k, ']') ? QMP_JSON_OK : QMP_JSON_BAD_VALUE;
    }
}

/* ---------------------------------------------------------------------
 * The reader against the model
 */

static char dec[INPUT_MAX + 1];         /* a string the model decoded */
static Entry ref_entries[QMP_JSON_MAX_LIST], got_entries[QMP_JSON_MAX_LIST];

/* @s[0, @len) NUL-terminated, in a buffer of exactly @len + 1 bytes. */
static char *exact_copy(const char *s, size_t len)
{
    char *p = malloc(len + 1);

    FUZZ_CHECK(p, "out of memory");
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

/* @v in @k containers, arrays and objects by turns (a newline in these). */
static char *wrap(const char *v, size_t len, int k, size_t *wlen)
{
    char *w = malloc(len + (size_t)k * 8 + 1), *p = w;
    int l;

    FUZZ_CHECK(w, "out of memory");
    for (l = 0; l < k; l++) {
        p += sprintf(p, "%s", l % 2 ? "{\"k\":\n " : "[");
    }
    memcpy(p, v, len);
    p += len;
    for (l = k - 1; l >= 0; l--) {
        *p++ = l % 2 ? '}' : ']';
    }
    *p = '\0';
    *wlen = (size_t)(p - w);
    return w;
}

/*
 * The value @v (@len bytes, nesting @depth deep) that qmp_json_skip()
 * passed over: alone, it is passed over whole; in containers up to
 * QMP_JSON_DEPTH in all, too; in one more, it is refused.
 */
static void check_skip_again(const char *v, size_t len, int depth)
{
    int ks[3] = { 0, QMP_JSON_DEPTH - depth, QMP_JSON_DEPTH - depth + 1 };
    unsigned int t;

    for (t = 0; t < 3; t++) {
        size_t wlen;
        char *w = wrap(v, len, ks[t], &wlen);
        QmpJson j = { .p = w };
        int want = ks[t] + depth <= QMP_JSON_DEPTH, got;

        got = qmp_json_skip(&j);
        FUZZ_CHECK(got == want, "%d containers around a value %d deep: "
                   "skip %d", ks[t], depth, got);
        if (want) {
            FUZZ_CHECK(j.p == w + wlen, "passed %zu of %zu bytes",
                       (size_t)(j.p - w), wlen);
            FUZZ_CHECK(j.depth == 0, "depth %d after the value", j.depth);
        }
        free(w);
    }
}

static void check_skip(const Ref *r, const char *line, size_t at)
{
    QmpJson j = { .p = line + at };
    size_t i = at, v0 = ref_ws(r, at);
    int depth, want = ref_skip(r, &i, &depth);
    int got = qmp_json_skip(&j);

    FUZZ_CHECK(got == want, "skip at %zu: %d, model %d", at, got, want);
    if (!want) {
        return;
    }
    FUZZ_CHECK(j.p == line + i, "skip at %zu: ends at %zu, model %zu", at,
               (size_t)(j.p - line), i);
    FUZZ_CHECK(j.depth == 0, "skip at %zu: depth %d after", at, j.depth);
    FUZZ_CHECK(depth <= QMP_JSON_DEPTH, "model depth %d", depth);
    check_skip_again(r->s + v0, i - v0, depth);
}

/* The string at @at into @size bytes: the model's outcome, no overrun. */
static void check_str_into(const Ref *r, const char *line, size_t at,
                           long n, size_t end, size_t size)
{
    char *out = malloc(size);
    QmpJson j = { .p = line + at };
    int want = n >= 0 && (size_t)n < size, got;
    size_t k;

    FUZZ_CHECK(out, "out of memory");
    memset(out, 0xa5, size);
    got = qmp_json_str(&j, out, size);
    FUZZ_CHECK(got == want, "str at %zu into %zu bytes: %d, model %d "
               "(length %ld)", at, size, got, want, n);
    if (got) {
        FUZZ_CHECK(j.p == line + end, "str at %zu: ends at %zu, model %zu",
                   at, (size_t)(j.p - line), end);
        FUZZ_CHECK(!memcmp(out, dec, n) && out[n] == '\0',
                   "str at %zu: not the model's string", at);
        for (k = n + 1; k < size; k++) {
            FUZZ_CHECK(out[k] == (char)0xa5, "str: byte %zu written", k);
        }
    } else {
        FUZZ_CHECK(out[size - 1] == (char)0xa5, "failed str wrote its "
                   "last byte");
    }
    free(out);
}

static void check_str(const Ref *r, const char *line, size_t at)
{
    QmpJson j = { .p = line + at };
    size_t end = at;
    long n = ref_str(r, &end, dec, sizeof(dec));
    int got = qmp_json_str(&j, NULL, 0);

    FUZZ_CHECK(got == (n >= 0), "str at %zu: %d, model length %ld", at, got,
               n);
    if (n < 0) {
        return;
    }
    FUZZ_CHECK(j.p == line + end, "str at %zu: ends at %zu, model %zu", at,
               (size_t)(j.p - line), end);
    check_str_into(r, line, at, n, end, QMP_JSON_NAME_LEN);
    check_str_into(r, line, at, n, end, n + 1);
    if (n > 0) {
        check_str_into(r, line, at, n, end, n);
    }
}

static void check_int(const Ref *r, const char *line, size_t at)
{
    QmpJson j = { .p = line + at };
    size_t end = at;
    bool rneg;
    uint64_t rv, v;
    int neg, want = ref_int(r, &end, &rneg, &rv) == 1;
    int got = qmp_json_int(&j, &neg, &v);

    FUZZ_CHECK(got == want, "int at %zu: %d, model %d", at, got, want);
    if (got) {
        FUZZ_CHECK(neg == rneg && v == rv, "int at %zu: %s%" PRIu64
                   ", model %s%" PRIu64, at, neg ? "-" : "", v,
                   rneg ? "-" : "", rv);
        FUZZ_CHECK(j.p == line + end, "int at %zu: ends at %zu, model %zu",
                   at, (size_t)(j.p - line), end);
    }
}

static void check_cursor(const Ref *r, const char *line, size_t at)
{
    check_skip(r, line, at);
    check_str(r, line, at);
    check_int(r, line, at);
}

/*
 * The model of {"return": INTEGER ...}: QMP_JSON_OK with the number when
 * it is the whole value (a ',' or '}' follows it).
 */
static int ref_return_number(const Ref *r, bool *neg, uint64_t *v)
{
    size_t k;

    if (!ref_begin_return(r, &k)) {
        return QMP_JSON_NO_RETURN;
    }
    if (ref_int(r, &k, neg, v) != 1) {
        return QMP_JSON_BAD_VALUE;
    }
    k = ref_ws(r, k);
    return ref_at(r, k, ',') || ref_at(r, k, '}') ? QMP_JSON_OK
                                                  : QMP_JSON_BAD_VALUE;
}

static void check_return_int(const Ref *r, const char *line)
{
    long long out = 12345, want_v = 0;
    uint64_t uout = 12345, v = 0;
    int want, want_u, got;
    bool neg = false;

    want = want_u = ref_return_number(r, &neg, &v);
    if (want == QMP_JSON_OK) {
        want = v <= INT64_MAX ? QMP_JSON_OK : QMP_JSON_BAD_VALUE;
        want_v = want == QMP_JSON_OK ? (neg ? -(long long)v : (long long)v)
                                     : 0;
        want_u = neg && v ? QMP_JSON_BAD_VALUE : QMP_JSON_OK;
    }
    got = qmp_json_return_int(line, &out);
    FUZZ_CHECK(got == want, "return_int: %d, model %d", got, want);
    if (got == QMP_JSON_OK) {
        FUZZ_CHECK(out == want_v && out != LLONG_MIN,
                   "return_int: %lld, model %lld", out, want_v);
    } else {
        FUZZ_CHECK(out == 12345, "return_int failed but set its value");
    }
    got = qmp_json_return_uint(line, &uout);
    FUZZ_CHECK(got == want_u, "return_uint: %d, model %d", got, want_u);
    if (got == QMP_JSON_OK) {
        FUZZ_CHECK(uout == v, "return_uint: %" PRIu64 ", model %" PRIu64,
                   uout, v);
    } else {
        FUZZ_CHECK(uout == 12345, "return_uint failed but set its value");
    }
}

static void check_return_str_into(const char *line, int rv, long n,
                                  size_t size)
{
    char *out = malloc(size);
    int want = rv, got;
    size_t k;

    FUZZ_CHECK(out, "out of memory");
    if (want == QMP_JSON_OK && (size_t)n >= size) {
        want = QMP_JSON_BAD_VALUE;
    }
    memset(out, 0xa5, size);
    got = qmp_json_return_str(line, out, size);
    FUZZ_CHECK(got == want, "return_str into %zu: %d, model %d (length %ld)",
               size, got, want, n);
    if (got == QMP_JSON_OK) {
        FUZZ_CHECK(!memcmp(out, dec, n) && out[n] == '\0',
                   "return_str: not the model's string");
        for (k = n + 1; k < size; k++) {
            FUZZ_CHECK(out[k] == (char)0xa5, "return_str: byte %zu written",
                       k);
        }
    } else {
        FUZZ_CHECK(out[0] == '\0', "return_str failed, its string not \"\"");
    }
    free(out);
}

static void check_return_str(const Ref *r, const char *line)
{
    int rv = QMP_JSON_NO_RETURN;
    long n = -1;
    size_t k;

    if (ref_begin_return(r, &k)) {
        n = ref_str(r, &k, dec, sizeof(dec));
        rv = n >= 0 ? QMP_JSON_OK : QMP_JSON_BAD_VALUE;
    }
    /* xna-stat's size, then just enough and one byte short. */
    check_return_str_into(line, rv, n, QMP_JSON_NAME_LEN);
    if (n >= 0) {
        check_return_str_into(line, rv, n, n + 1);
    }
    if (n > 0) {
        check_return_str_into(line, rv, n, n);
    }
}

typedef struct Walk {
    unsigned int n;
    unsigned int stop;      /* return 0 on this call (1-based); 0: never */
} Walk;

static int walk_entry(void *opaque, const char *name, const char *type)
{
    Walk *w = opaque;

    FUZZ_CHECK(memchr(name, '\0', QMP_JSON_NAME_LEN) &&
               memchr(type, '\0', QMP_JSON_NAME_LEN),
               "list: a name or type without its NUL within %d bytes",
               QMP_JSON_NAME_LEN);
    FUZZ_CHECK(w->n < QMP_JSON_MAX_LIST, "list: more than %d entries",
               QMP_JSON_MAX_LIST);
    strcpy(got_entries[w->n].name, name);
    strcpy(got_entries[w->n].type, type);
    w->n++;
    return w->n != w->stop;
}

static void check_entries(unsigned int n)
{
    unsigned int i;

    for (i = 0; i < n; i++) {
        FUZZ_CHECK(!strcmp(got_entries[i].name, ref_entries[i].name) &&
                   !strcmp(got_entries[i].type, ref_entries[i].type),
                   "list entry %u: \"%s\" \"%s\", model \"%s\" \"%s\"", i,
                   got_entries[i].name, got_entries[i].type,
                   ref_entries[i].name, ref_entries[i].type);
    }
}

static void check_return_list(const Ref *r, const char *line)
{
    unsigned int n;
    int want = ref_list(r, ref_entries, &n), got;
    Walk w = { 0 };

    got = qmp_json_return_list(line, walk_entry, &w);
    FUZZ_CHECK(got == want, "list: %d, model %d", got, want);
    FUZZ_CHECK(w.n == n, "list: %u entries, model %u", w.n, n);
    check_entries(n);
    if (n) {
        /* Stopped half-way by the callback: read, that far. */
        w = (Walk){ .stop = (n + 1) / 2 };
        got = qmp_json_return_list(line, walk_entry, &w);
        FUZZ_CHECK(got == QMP_JSON_OK && w.n == w.stop, "list stopped at "
                   "%u: %d after %u entries", w.stop, got, w.n);
        check_entries(w.n);
    }
}

static void check_line(const Ref *r)
{
    char *line = exact_copy(r->s, r->len);
    QmpJson j;
    size_t v;
    bool want = ref_begin_return(r, &v);
    int got = qmp_json_begin_return(&j, line);

    FUZZ_CHECK(got == want, "begin_return: %d, model %d", got, want);
    check_cursor(r, line, 0);
    if (want) {
        FUZZ_CHECK(j.p == line + v && j.depth == 0, "begin_return: at %zu, "
                   "model %zu", (size_t)(j.p - line), v);
        check_cursor(r, line, v);
    }
    check_return_int(r, line);
    check_return_str(r, line);
    check_return_list(r, line);
    free(line);
}

/* ---------------------------------------------------------------------
 * The client: the input as QEMU's side of the socket
 */

static bool starts_with(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);

    return len >= n && !memcmp(s, prefix, n);
}

static void check_client(const uint8_t *data, size_t size)
{
    static char *buf, *reply;
    const char *in = (const char *)data;
    size_t at = 0;
    unsigned int calls;
    QmpConn c;
    int sv[2];

    if (!buf) {
        buf = malloc(QMP_MAX_LINE);
        reply = malloc(QMP_MAX_LINE);
        FUZZ_CHECK(buf && reply, "out of memory");
    }
    FUZZ_CHECK(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
               "socketpair: %s", strerror(errno));
    /* All of it at once, or this part is not run (a socket too small). */
    if (size && send(sv[1], data, size, MSG_DONTWAIT | MSG_NOSIGNAL) !=
        (ssize_t)size) {
        goto out;
    }
    shutdown(sv[1], SHUT_WR);
    c = (QmpConn){ .fd = sv[0], .timeout_ms = 10000, .buf = buf };
    for (calls = 0; calls < 4096; calls++) {
        int want = QMP_BROKEN, got, skipped;
        const char *line = NULL;
        size_t len = 0;
        char junk[256];
        ssize_t n;

        for (skipped = 0; skipped < CLIENT_MAX_SKIPPED; skipped++) {
            const char *nl = memchr(in + at, '\n', size - at);

            if (!nl) {
                break;
            }
            line = in + at;
            len = strnlen(line, nl - line);
            at = nl + 1 - in;
            if (starts_with(line, len, "{\"return\"")) {
                want = QMP_OK;
                break;
            }
            if (starts_with(line, len, "{\"error\"")) {
                want = QMP_ERROR;
                break;
            }
        }
        got = qmp_command(&c, "x", reply, QMP_MAX_LINE);
        FUZZ_CHECK(got == want, "command %u: %d, model %d", calls, got,
                   want);
        if (got == QMP_BROKEN) {
            break;
        }
        FUZZ_CHECK(strlen(reply) == len && !memcmp(reply, line, len),
                   "command %u: not the reply line", calls);
        /* Our commands, read as QEMU would, so that sending never waits. */
        do {
            n = recv(sv[1], junk, sizeof(junk), MSG_DONTWAIT);
        } while (n > 0);
    }
out:
    close(sv[0]);
    close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    size_t at = 0;

    if (size > INPUT_MAX) {
        size = INPUT_MAX;
    }
    check_client(data, size);
    do {
        const char *nl = memchr(in + at, '\n', size - at);
        size_t len = nl ? (size_t)(nl - (in + at)) : size - at;
        Ref r = { in + at, strnlen(in + at, len) };

        check_line(&r);
        at += len + 1;
    } while (at < size);
    return 0;
}
