/*
 * xna-stat: the accelerated vifs of a dom0 and their counters
 *
 *   xna-stat [-d RUNDIR] [--json] [-w [-n COUNT]]
 *
 * The vif hotplug script (vif-accel) runs one backend QEMU per domain,
 * with its QMP socket at RUNDIR/<domid>.qmp and its pid in
 * RUNDIR/<domid>.pid, and adds one xen-net-accel device per accelerated
 * vif (id xna<devid>).  xna-stat asks each of those QEMUs, over QMP, for
 * its xen-net-accel devices under /machine/peripheral and their
 * read-only counters (every uint64 property of the device), and prints
 * a table or one JSON document; -w repeats that every second with rates.
 * docs/xl.md describes the columns, the JSON and the exit statuses.
 *
 * Everything QEMU answers is untrusted (a guest may have taken over its
 * backend QEMU): replies are parsed by a bounded parser (qmp-json.c),
 * names are checked before they go into a command, strings are escaped
 * before they reach the terminal or the JSON, lists are capped, and every
 * domain has a deadline, so a hostile or wedged QEMU shows as that
 * domain's error.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "qmp-client.h"
#include "qmp-json.h"

#define DEFAULT_RUNDIR "/run/xen-net-accel"
#define DEFAULT_CONF "/etc/xen/xen-net-accel.conf"
/* One command, and one domain's whole query. */
#define CMD_TIMEOUT_MS 3000
#define DOMAIN_TIMEOUT_MS 10000
/* Caps on what a QEMU (or the run directory) can make us hold. */
#define MAX_DOMAINS 1024
#define MAX_VIFS 64             /* per domain */
#define MAX_COUNTERS 512        /* per device; 16 VIs need about 340 */
/* A VI count beyond this is a QEMU talking nonsense: shown as this. */
#define XNA_MAX_VIS_SHOWN 4096
/* Ids, names, MACs, NIC kinds; what a qom-list entry's name fits in. */
#define NAME_LEN QMP_JSON_NAME_LEN

/* Exit statuses (docs/xl.md). */
enum { EXIT_OK = 0, EXIT_DOMAIN = 1, EXIT_USAGE = 2 };

typedef struct Counter {
    char name[NAME_LEN];
    uint64_t value;
} Counter;

typedef struct Vif {
    char id[NAME_LEN];
    long long vif;              /* the device's vif property; -1: unset */
    long long max_vis;
    char mac[NAME_LEN];
    char nic[NAME_LEN];
    char ifname[NAME_LEN];
    unsigned int n_counters;
    Counter *counters;
    /* Sums over the VIs and picks of the counters above. */
    uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes;
    uint64_t rx_slow_packets, rx_slow_bytes;
    uint64_t filters, host_rx, host_tx, drops, errors, connects;
    long long vis_up;           /* -1: a QEMU without the counter */
    int have_rates;
    double tx_pps, rx_pps, tx_bps, rx_bps;
} Vif;

enum { DOM_OK, DOM_DEAD, DOM_UNREACHABLE, DOM_ERROR };
static const char *const dom_status_name[] = {
    [DOM_OK] = "ok",
    [DOM_DEAD] = "dead",
    [DOM_UNREACHABLE] = "unreachable",
    [DOM_ERROR] = "error",
};

typedef struct Domain {
    unsigned int domid;
    long long pid;              /* from the pidfile; -1: none */
    int status;
    char error[512];
    unsigned int n_vifs;
    Vif vifs[MAX_VIFS];
} Domain;

/* The previous refresh's totals, for -w's rates. */
typedef struct Sample {
    unsigned int domid;
    char id[NAME_LEN];
    uint64_t tx_packets, rx_packets, tx_bytes, rx_bytes;
    double t;
} Sample;

static const char *rundir;
static int opt_json;
static Sample *samples;
static unsigned int n_samples;

/* ---- QMP queries ------------------------------------------------------ */

typedef struct Query {
    QmpConn c;
    long long deadline;
    char *reply;
    char err[256];
} Query;

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* One command within the domain's deadline; the reply is in q->reply. */
static int query(Query *q, const char *cmd)
{
    int r;

    if (now_ms() > q->deadline) {
        snprintf(q->err, sizeof(q->err), "no answer within %d s",
                 DOMAIN_TIMEOUT_MS / 1000);
        return QMP_BROKEN;
    }
    r = qmp_command(&q->c, cmd, q->reply, QMP_MAX_LINE);
    if (r == QMP_BROKEN) {
        snprintf(q->err, sizeof(q->err), "QMP connection lost or timed out");
    }
    return r;
}

/*
 * A QOM name (device id, property) safe to put between quotes in a
 * command: QEMU's ids and our property names are [A-Za-z0-9_.-].
 */
static int safe_name(const char *s)
{
    if (!*s) {
        return 0;
    }
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
              *s == '.')) {
            return 0;
        }
    }
    return 1;
}

/*
 * qom-list @path, calling @fn for each child's name and type (both short
 * enough); stops early when @fn returns 0.  Returns a QMP_* status, or
 * QMP_BROKEN for a reply that does not parse.
 */
static int qom_list(Query *q, const char *path, QmpJsonListFn fn,
                    void *opaque)
{
    char cmd[256];
    int r;

    snprintf(cmd, sizeof(cmd), "{\"execute\": \"qom-list\", \"arguments\": "
             "{\"path\": \"%s\"}}", path);
    r = query(q, cmd);
    if (r != QMP_OK) {
        return r;
    }
    if (qmp_json_return_list(q->reply, fn, opaque) != QMP_JSON_OK) {
        snprintf(q->err, sizeof(q->err), "unexpected reply to qom-list %s",
                 path);
        return QMP_BROKEN;
    }
    return QMP_OK;
}

/* qom-get of a property; the reply is in q->reply. */
static int qom_get(Query *q, const char *id, const char *prop)
{
    char cmd[256];

    snprintf(cmd, sizeof(cmd), "{\"execute\": \"qom-get\", \"arguments\": "
             "{\"path\": \"/machine/peripheral/%s\", \"property\": \"%s\"}}",
             id, prop);
    return query(q, cmd);
}

/* QMP_BROKEN, with its message, for a reply @prop's reader refused. */
static int bad_reply(Query *q, const char *prop, int why, const char *what)
{
    if (why == QMP_JSON_NO_RETURN) {
        snprintf(q->err, sizeof(q->err), "unexpected reply to qom-get %s",
                 prop);
    } else {
        snprintf(q->err, sizeof(q->err), "%s: %s", prop, what);
    }
    return QMP_BROKEN;
}

static int get_int(Query *q, const char *id, const char *prop,
                   long long *out)
{
    int r = qom_get(q, id, prop);

    if (r != QMP_OK) {
        return r;
    }
    r = qmp_json_return_int(q->reply, out);
    if (r != QMP_JSON_OK) {
        return bad_reply(q, prop, r, "not an integer");
    }
    return QMP_OK;
}

/* A counter: a uint64 property, all of its range. */
static int get_uint(Query *q, const char *id, const char *prop,
                    uint64_t *out)
{
    int r = qom_get(q, id, prop);

    if (r != QMP_OK) {
        return r;
    }
    r = qmp_json_return_uint(q->reply, out);
    if (r != QMP_JSON_OK) {
        return bad_reply(q, prop, r, "not a counter (an integer >= 0)");
    }
    return QMP_OK;
}

static int get_str(Query *q, const char *id, const char *prop, char *out,
                   size_t size)
{
    int r = qom_get(q, id, prop);

    if (r != QMP_OK) {
        return r;
    }
    r = qmp_json_return_str(q->reply, out, size);
    if (r != QMP_JSON_OK) {
        return bad_reply(q, prop, r, "not a short string");
    }
    return QMP_OK;
}

typedef struct PeriphList {
    Domain *d;
    int truncated;
} PeriphList;

static int add_device(void *opaque, const char *name, const char *type)
{
    PeriphList *l = opaque;
    Vif *v;

    if (strcmp(type, "child<xen-net-accel>") || !safe_name(name)) {
        return 1;
    }
    if (l->d->n_vifs == MAX_VIFS) {
        l->truncated = 1;
        return 0;
    }
    v = &l->d->vifs[l->d->n_vifs++];
    memset(v, 0, sizeof(*v));
    snprintf(v->id, sizeof(v->id), "%s", name);
    return 1;
}

static int add_counter(void *opaque, const char *name, const char *type)
{
    Vif *v = opaque;

    if (strcmp(type, "uint64") || !safe_name(name)) {
        return 1;
    }
    if (v->n_counters == MAX_COUNTERS) {
        return 0;
    }
    snprintf(v->counters[v->n_counters++].name, NAME_LEN, "%s", name);
    return 1;
}

static const Counter *counter(const Vif *v, const char *name)
{
    unsigned int i;

    for (i = 0; i < v->n_counters; i++) {
        if (!strcmp(v->counters[i].name, name)) {
            return &v->counters[i];
        }
    }
    return NULL;
}

static uint64_t counter_value(const Vif *v, const char *name)
{
    const Counter *c = counter(v, name);

    return c ? c->value : 0;
}

/* vi<N>-@field: @name's field for a per-VI counter, else NULL. */
static const char *vi_field(const char *name)
{
    const char *p = name;

    if (strncmp(p, "vi", 2) || p[2] < '0' || p[2] > '9') {
        return NULL;
    }
    p += 2;
    while (*p >= '0' && *p <= '9') {
        p++;
    }
    return *p == '-' ? p + 1 : NULL;
}

/* The sums the table shows (docs/xl.md, "Status: xna-stat"). */
static void summarise(Vif *v)
{
    unsigned int i;

    for (i = 0; i < v->n_counters; i++) {
        const char *n = v->counters[i].name;
        const char *f = vi_field(n);
        uint64_t x = v->counters[i].value;

        if (f && !strcmp(f, "tx-packets")) {
            v->tx_packets += x;
        } else if (f && !strcmp(f, "tx-bytes")) {
            v->tx_bytes += x;
        } else if (f && !strcmp(f, "rx-packets")) {
            v->rx_packets += x;
        } else if (f && !strcmp(f, "rx-bytes")) {
            v->rx_bytes += x;
        } else if (f && !strcmp(f, "rx-slow-packets")) {
            v->rx_slow_packets += x;
        } else if (f && !strcmp(f, "rx-slow-bytes")) {
            v->rx_slow_bytes += x;
        }
        if (strstr(n, "drop")) {
            v->drops += x;
        }
        if (strstr(n, "errors")) {
            v->errors += x;
        }
    }
    v->filters = counter_value(v, "nic-filters");
    v->host_rx = counter_value(v, "nic-host-frames");
    v->host_tx = counter_value(v, "nic-host-tx-frames");
    v->connects = counter_value(v, "connects");
    v->vis_up = -1;
    for (i = 0; i < v->n_counters; i++) {
        if (!strcmp(v->counters[i].name, "vis-up")) {
            v->vis_up = v->counters[i].value > XNA_MAX_VIS_SHOWN ?
                        XNA_MAX_VIS_SHOWN : (long long)v->counters[i].value;
        }
    }
}

/* Properties and counters of device @v; QMP_ERROR if it went away. */
static int query_vif(Query *q, Vif *v)
{
    char path[128];
    unsigned int i;
    int r;

    v->vif = -1;
    v->max_vis = -1;
    v->counters = calloc(MAX_COUNTERS, sizeof(*v->counters));
    if (!v->counters) {
        snprintf(q->err, sizeof(q->err), "out of memory");
        return QMP_BROKEN;
    }
    snprintf(path, sizeof(path), "/machine/peripheral/%s", v->id);
    r = qom_list(q, path, add_counter, v);
    /*
     * A property this QEMU's device lacks (QMP_ERROR) stays unknown: ""
     * or -1.  Only a broken connection ends the domain's query.
     */
    if (r == QMP_OK &&
        (get_str(q, v->id, "mac", v->mac, sizeof(v->mac)) == QMP_BROKEN ||
         get_str(q, v->id, "nic", v->nic, sizeof(v->nic)) == QMP_BROKEN ||
         get_str(q, v->id, "ifname", v->ifname, sizeof(v->ifname)) ==
         QMP_BROKEN ||
         get_int(q, v->id, "vif", &v->vif) == QMP_BROKEN ||
         get_int(q, v->id, "max-vis", &v->max_vis) == QMP_BROKEN)) {
        r = QMP_BROKEN;
    }
    for (i = 0; r == QMP_OK && i < v->n_counters; i++) {
        r = get_uint(q, v->id, v->counters[i].name, &v->counters[i].value);
    }
    if (r == QMP_OK) {
        summarise(v);
    }
    return r;
}

static void free_domain(Domain *d)
{
    unsigned int i;

    for (i = 0; i < d->n_vifs; i++) {
        free(d->vifs[i].counters);
    }
    d->n_vifs = 0;
}

/* Read a pid from @path: >0, 0 when unreadable or not a number. */
static long long read_pid(const char *path)
{
    char buf[32];
    long long pid = 0;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    int i;

    if (fd < 0) {
        return 0;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    for (i = 0; buf[i] >= '0' && buf[i] <= '9' && i < 10; i++) {
        pid = pid * 10 + (buf[i] - '0');
    }
    if (i == 0 || (buf[i] && buf[i] != '\n') || pid > INT32_MAX) {
        return 0;
    }
    return pid;
}

static void query_domain(Domain *d)
{
    char sock[4096], pidfile[4096];
    struct stat st;
    PeriphList l = { .d = d };
    Query q = { 0 };
    int r;

    d->status = DOM_OK;
    d->n_vifs = 0;
    d->error[0] = '\0';
    snprintf(sock, sizeof(sock), "%s/%u.qmp", rundir, d->domid);
    snprintf(pidfile, sizeof(pidfile), "%s/%u.pid", rundir, d->domid);
    d->pid = read_pid(pidfile);
    if (d->pid <= 0) {
        d->pid = -1;
    } else if (kill((pid_t)d->pid, 0) < 0 && errno == ESRCH) {
        d->status = DOM_DEAD;
        snprintf(d->error, sizeof(d->error), "QEMU (pid %lld of %u.pid) is "
                 "not running: stale %u.qmp", d->pid, d->domid, d->domid);
        return;
    }
    if (lstat(sock, &st) < 0 || !S_ISSOCK(st.st_mode)) {
        d->status = DOM_UNREACHABLE;
        snprintf(d->error, sizeof(d->error), "%u.qmp is not a socket",
                 d->domid);
        return;
    }
    if (qmp_open(&q.c, sock, CMD_TIMEOUT_MS, q.err, sizeof(q.err)) !=
        QMP_OK) {
        d->status = DOM_UNREACHABLE;
        snprintf(d->error, sizeof(d->error), "%s", q.err);
        qmp_close(&q.c);
        return;
    }
    q.deadline = now_ms() + DOMAIN_TIMEOUT_MS;
    q.reply = malloc(QMP_MAX_LINE);
    if (!q.reply) {
        d->status = DOM_ERROR;
        snprintf(d->error, sizeof(d->error), "out of memory");
        qmp_close(&q.c);
        return;
    }
    r = qom_list(&q, "/machine/peripheral", add_device, &l);
    if (r == QMP_OK) {
        unsigned int i, kept = 0;

        for (i = 0; i < d->n_vifs; i++) {
            Vif *v = &d->vifs[i];

            r = query_vif(&q, v);
            if (r == QMP_BROKEN) {
                /* The earlier ones moved to [0, kept): free_domain's. */
                free(v->counters);
                d->n_vifs = kept;
                break;
            }
            if (r == QMP_ERROR) {
                /* Unplugged while we asked (device_del): not listed. */
                free(v->counters);
                continue;
            }
            if (kept != i) {
                d->vifs[kept] = *v;
            }
            kept++;
        }
        if (r != QMP_BROKEN) {
            d->n_vifs = kept;
            r = QMP_OK;
        }
    }
    if (r != QMP_OK) {
        d->status = DOM_ERROR;
        snprintf(d->error, sizeof(d->error), "%s",
                 r == QMP_ERROR ? "qom-list /machine/peripheral failed"
                                : q.err);
        free_domain(d);
    } else if (l.truncated) {
        snprintf(d->error, sizeof(d->error), "more than %d devices: the "
                 "first %d shown", MAX_VIFS, MAX_VIFS);
    }
    free(q.reply);
    qmp_close(&q.c);
}

/* ---- the run directory ------------------------------------------------ */

/* "<domid>.qmp", domid a decimal number below 65536: the domid, else -1. */
static long socket_domid(const char *name)
{
    long id = 0;
    int i;

    for (i = 0; name[i] >= '0' && name[i] <= '9'; i++) {
        if (i == 5) {
            return -1;
        }
        id = id * 10 + (name[i] - '0');
    }
    if (i == 0 || strcmp(name + i, ".qmp") || id > 65535) {
        return -1;
    }
    return id;
}

static int cmp_uint(const void *a, const void *b)
{
    unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

    return (x > y) - (x < y);
}

/*
 * The domids with a socket in the run directory, sorted, at most
 * MAX_DOMAINS of them; -1 if the directory cannot be read (errno set),
 * and 0 with *@missing set if it does not exist.
 */
static int list_domains(unsigned int *ids, int *missing, int *truncated)
{
    DIR *dir = opendir(rundir);
    struct dirent *e;
    int n = 0;

    *missing = 0;
    *truncated = 0;
    if (!dir) {
        if (errno == ENOENT) {
            *missing = 1;
            return 0;
        }
        return -1;
    }
    while ((e = readdir(dir))) {
        long id = socket_domid(e->d_name);

        if (id < 0) {
            continue;
        }
        if (n == MAX_DOMAINS) {
            *truncated = 1;
            break;
        }
        ids[n++] = id;
    }
    closedir(dir);
    qsort(ids, n, sizeof(*ids), cmp_uint);
    return n;
}

/*
 * XNA_RUNDIR as vif-accel sees it: the environment, else a plain
 * assignment in its settings file, else the default.  The settings file
 * is a shell fragment; only a literal value is taken from it.
 */
static const char *find_rundir(void)
{
    static char value[1024];
    const char *conf = getenv("XNA_CONF");
    char line[1024];
    int found = 0;
    FILE *f;

    if (getenv("XNA_RUNDIR") && *getenv("XNA_RUNDIR")) {
        return getenv("XNA_RUNDIR");
    }
    f = fopen(conf && *conf ? conf : DEFAULT_CONF, "r");
    while (f && fgets(line, sizeof(line), f)) {
        char *p = line + strspn(line, " \t");
        char *end;

        if (!strncmp(p, "export ", 7)) {
            p += 7 + strspn(p + 7, " \t");
        }
        if (strncmp(p, "XNA_RUNDIR=", 11)) {
            continue;
        }
        p += 11;
        if (*p == '"' || *p == '\'') {
            end = strchr(p + 1, *p);
            if (!end) {
                continue;
            }
            p++;
        } else {
            end = p + strcspn(p, " \t\n;#");
        }
        *end = '\0';
        if (*p && !strpbrk(p, "$`\\")) {
            snprintf(value, sizeof(value), "%s", p);
            found = 1;
        }
    }
    if (f) {
        fclose(f);
    }
    return found ? value : DEFAULT_RUNDIR;
}

/* ---- output ----------------------------------------------------------- */

/* @s with anything but printable ASCII as '?': QEMU's bytes, untrusted. */
static const char *printable(const char *s, char *buf, size_t size)
{
    size_t i;

    for (i = 0; s[i] && i + 1 < size; i++) {
        buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    }
    buf[i] = '\0';
    return buf;
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = *s;

        if (c == '"' || c == '\\') {
            printf("\\%c", c);
        } else if (c < 0x20 || c == 0x7f) {
            printf("\\u%04x", c);
        } else {
            /* Bytes beyond ASCII would not be valid UTF-8 for certain. */
            putchar(c < 0x80 ? c : '?');
        }
    }
    putchar('"');
}

static double now_s(void)
{
    return now_ms() / 1000.0;
}

/* -w: rates from the previous refresh's totals, then remember these. */
static void update_rates(Domain *doms, int n)
{
    unsigned int n_next = 0, total = 0, i, k;
    double t = now_s();
    Sample *next;
    int d;

    for (d = 0; d < n; d++) {
        total += doms[d].n_vifs;
    }
    next = calloc(total + 1, sizeof(*next));
    if (!next) {
        return;
    }
    for (d = 0; d < n; d++) {
        for (i = 0; i < doms[d].n_vifs; i++) {
            Vif *v = &doms[d].vifs[i];
            Sample *s = &next[n_next++];

            for (k = 0; k < n_samples; k++) {
                Sample *p = &samples[k];
                double dt = t - p->t;

                if (p->domid != doms[d].domid || strcmp(p->id, v->id) ||
                    dt <= 0 || v->tx_packets < p->tx_packets ||
                    v->rx_packets < p->rx_packets ||
                    v->tx_bytes < p->tx_bytes || v->rx_bytes < p->rx_bytes) {
                    continue;
                }
                v->have_rates = 1;
                v->tx_pps = (v->tx_packets - p->tx_packets) / dt;
                v->rx_pps = (v->rx_packets - p->rx_packets) / dt;
                v->tx_bps = (v->tx_bytes - p->tx_bytes) * 8 / dt;
                v->rx_bps = (v->rx_bytes - p->rx_bytes) * 8 / dt;
                break;
            }
            s->domid = doms[d].domid;
            snprintf(s->id, sizeof(s->id), "%s", v->id);
            s->tx_packets = v->tx_packets;
            s->rx_packets = v->rx_packets;
            s->tx_bytes = v->tx_bytes;
            s->rx_bytes = v->rx_bytes;
            s->t = t;
        }
    }
    free(samples);
    samples = next;
    n_samples = n_next;
}

static void print_json(Domain *doms, int n, int rundir_missing)
{
    int d;
    unsigned int i, k;

    printf("{\"rundir\": ");
    json_str(rundir);
    printf(", \"rundir_exists\": %s, \"time\": %lld, \"domains\": [",
           rundir_missing ? "false" : "true", (long long)time(NULL));
    for (d = 0; d < n; d++) {
        Domain *dm = &doms[d];

        printf("%s{\"domid\": %u, \"pid\": ", d ? ", " : "", dm->domid);
        if (dm->pid > 0) {
            printf("%lld", dm->pid);
        } else {
            printf("null");
        }
        printf(", \"status\": \"%s\"", dom_status_name[dm->status]);
        if (dm->error[0]) {
            printf(", \"error\": ");
            json_str(dm->error);
        }
        printf(", \"vifs\": [");
        for (i = 0; i < dm->n_vifs; i++) {
            Vif *v = &dm->vifs[i];

            printf("%s{\"id\": ", i ? ", " : "");
            json_str(v->id);
            printf(", \"vif\": ");
            if (v->vif >= 0) {
                printf("%lld", v->vif);
            } else {
                printf("null");
            }
            printf(", \"mac\": ");
            json_str(v->mac);
            printf(", \"nic\": ");
            json_str(v->nic);
            printf(", \"ifname\": ");
            if (v->ifname[0]) {
                json_str(v->ifname);
            } else {
                printf("null");
            }
            printf(", \"max_vis\": ");
            if (v->max_vis >= 0) {
                printf("%lld", v->max_vis);
            } else {
                printf("null");
            }
            printf(", \"vis_up\": ");
            if (v->vis_up >= 0) {
                printf("%lld", v->vis_up);
            } else {
                printf("null");
            }
            printf(", \"filters\": %" PRIu64
                   ", \"connects\": %" PRIu64
                   ", \"tx_packets\": %" PRIu64 ", \"tx_bytes\": %" PRIu64
                   ", \"rx_packets\": %" PRIu64 ", \"rx_bytes\": %" PRIu64
                   ", \"rx_slow_packets\": %" PRIu64
                   ", \"rx_slow_bytes\": %" PRIu64
                   ", \"host_rx_frames\": %" PRIu64
                   ", \"host_tx_frames\": %" PRIu64
                   ", \"drops\": %" PRIu64 ", \"errors\": %" PRIu64,
                   v->filters, v->connects, v->tx_packets,
                   v->tx_bytes, v->rx_packets, v->rx_bytes,
                   v->rx_slow_packets, v->rx_slow_bytes, v->host_rx,
                   v->host_tx, v->drops, v->errors);
            if (v->have_rates) {
                printf(", \"rates\": {\"tx_pps\": %.1f, \"rx_pps\": %.1f, "
                       "\"tx_bps\": %.0f, \"rx_bps\": %.0f}",
                       v->tx_pps, v->rx_pps, v->tx_bps, v->rx_bps);
            }
            printf(", \"counters\": {");
            for (k = 0; k < v->n_counters; k++) {
                printf("%s\"%s\": %" PRIu64, k ? ", " : "",
                       v->counters[k].name, v->counters[k].value);
            }
            printf("}}");
        }
        printf("]}");
    }
    printf("]}\n");
}

/* A table of text cells, each column as wide as its widest cell. */
#define COLS 19
#define CELL 40
typedef struct Table {
    unsigned int rows, cols;
    char (*cell)[COLS][CELL];
} Table;

static void table_add(Table *t, unsigned int col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void table_add(Table *t, unsigned int col, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(t->cell[t->rows][col], CELL, fmt, ap);
    va_end(ap);
    if (col + 1 > t->cols) {
        t->cols = col + 1;
    }
}

static void table_print(Table *t)
{
    unsigned int w[COLS] = { 0 }, r, c;

    for (r = 0; r < t->rows; r++) {
        for (c = 0; c < t->cols; c++) {
            unsigned int l = strlen(t->cell[r][c]);

            w[c] = l > w[c] ? l : w[c];
        }
    }
    for (r = 0; r < t->rows; r++) {
        for (c = 0; c < t->cols; c++) {
            /* Text columns (ID, MAC, NIC) left, numbers right. */
            int left = c >= 2 && c <= 4;

            printf(left ? "%-*s%s" : "%*s%s", (int)w[c], t->cell[r][c],
                   c + 1 < t->cols ? "  " : "\n");
        }
    }
}

static void print_table(Domain *doms, int n, int rundir_missing, int watch)
{
    static const char *const head[] = {
        "DOM", "VIF", "ID", "MAC", "NIC", "VIS", "FILTERS", "TX-PKTS",
        "TX-BYTES", "RX-PKTS", "RX-BYTES", "SLOW-RX", "HOST-RX", "HOST-TX",
        "DROPS", "ERRORS", "TX-PPS", "RX-PPS", "MBIT/S-TX/RX",
    };
    unsigned int total = 0, i, k, c;
    char b1[1024], b2[NAME_LEN];
    Table t = { 0 };
    int d;

    for (d = 0; d < n; d++) {
        total += doms[d].n_vifs;
    }
    t.cell = calloc(total + 1, sizeof(*t.cell));
    if (!t.cell) {
        fprintf(stderr, "xna-stat: out of memory\n");
        return;
    }
    /* The rates of -w are three more columns. */
    for (c = 0; c < (watch ? COLS : COLS - 3); c++) {
        table_add(&t, c, "%s", head[c]);
    }
    t.rows = 1;
    for (d = 0; d < n; d++) {
        for (i = 0; i < doms[d].n_vifs; i++) {
            Vif *v = &doms[d].vifs[i];

            table_add(&t, 0, "%u", doms[d].domid);
            if (v->vif >= 0) {
                table_add(&t, 1, "%lld", v->vif);
            } else {
                table_add(&t, 1, "-");
            }
            table_add(&t, 2, "%s", printable(v->id, b1, sizeof(b1)));
            table_add(&t, 3, "%s", printable(v->mac, b1, sizeof(b1)));
            if (v->ifname[0]) {
                table_add(&t, 4, "%s:%s", printable(v->nic, b1, sizeof(b1)),
                          printable(v->ifname, b2, sizeof(b2)));
            } else {
                table_add(&t, 4, "%s", printable(v->nic, b1, sizeof(b1)));
            }
            /* Up of the guest's, where QEMU tells. */
            if (v->max_vis >= 0 && v->vis_up >= 0) {
                table_add(&t, 5, "%lld/%lld", v->vis_up, v->max_vis);
            } else if (v->max_vis >= 0) {
                table_add(&t, 5, "%lld", v->max_vis);
            } else {
                table_add(&t, 5, "-");
            }
            table_add(&t, 6, "%" PRIu64, v->filters);
            table_add(&t, 7, "%" PRIu64, v->tx_packets);
            table_add(&t, 8, "%" PRIu64, v->tx_bytes);
            table_add(&t, 9, "%" PRIu64, v->rx_packets);
            table_add(&t, 10, "%" PRIu64, v->rx_bytes);
            table_add(&t, 11, "%" PRIu64, v->rx_slow_packets);
            table_add(&t, 12, "%" PRIu64, v->host_rx);
            table_add(&t, 13, "%" PRIu64, v->host_tx);
            table_add(&t, 14, "%" PRIu64, v->drops);
            table_add(&t, 15, "%" PRIu64, v->errors);
            if (watch && v->have_rates) {
                table_add(&t, 16, "%.0f", v->tx_pps);
                table_add(&t, 17, "%.0f", v->rx_pps);
                table_add(&t, 18, "%.1f/%.1f", v->tx_bps / 1e6,
                          v->rx_bps / 1e6);
            } else if (watch) {
                table_add(&t, 16, "-");
                table_add(&t, 17, "-");
                table_add(&t, 18, "-");
            }
            t.rows++;
        }
    }
    if (total) {
        table_print(&t);
    }
    free(t.cell);
    /* Per vif, the drop and error counters that are not zero. */
    for (d = 0; d < n; d++) {
        for (i = 0; i < doms[d].n_vifs; i++) {
            Vif *v = &doms[d].vifs[i];
            int any = 0;

            for (k = 0; k < v->n_counters; k++) {
                Counter *cn = &v->counters[k];

                if (!cn->value || (!strstr(cn->name, "drop") &&
                                   !strstr(cn->name, "errors"))) {
                    continue;
                }
                if (!any) {
                    printf("domain %u %s:", doms[d].domid,
                           printable(v->id, b1, sizeof(b1)));
                    any = 1;
                }
                printf(" %s %" PRIu64, cn->name, cn->value);
            }
            if (any) {
                printf("\n");
            }
        }
    }
    for (d = 0; d < n; d++) {
        Domain *dm = &doms[d];
        char e[sizeof(dm->error)];

        if (dm->status != DOM_OK) {
            printf("domain %u: %s: %s\n", dm->domid,
                   dom_status_name[dm->status],
                   printable(dm->error, e, sizeof(e)));
        } else if (dm->error[0]) {
            printf("domain %u: %s\n", dm->domid,
                   printable(dm->error, e, sizeof(e)));
        } else if (!dm->n_vifs) {
            printf("domain %u: its QEMU has no xen-net-accel device\n",
                   dm->domid);
        }
    }
    if (!total) {
        printf("no accelerated vifs (%s%s)\n",
               printable(rundir, b1, sizeof(b1)),
               rundir_missing ? " does not exist" :
               n ? ": no device answered" : ": no QEMU socket");
    }
}

/* ---- main ------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
"usage: xna-stat [-d RUNDIR] [--json] [-w [-n COUNT]]\n"
"\n"
"Lists the accelerated vifs of this host: for each backend QEMU that the\n"
"vif-accel hotplug script started (RUNDIR/<domid>.qmp), its xen-net-accel\n"
"devices and their counters.\n"
"\n"
"  -d, --rundir DIR  run directory (default: $XNA_RUNDIR, else XNA_RUNDIR=\n"
"                    in $XNA_CONF or " DEFAULT_CONF ",\n"
"                    else " DEFAULT_RUNDIR ")\n"
"  -j, --json        one JSON document (one line) instead of the table\n"
"  -w, --watch       refresh every second, with rates (Ctrl-C to stop)\n"
"  -n, --count N     with -w: stop after N refreshes\n"
"  -h, --help        this help\n"
"\n"
"Exit status: 0 every QEMU answered (or none runs), 1 a domain's QEMU is\n"
"dead, unreachable or answered garbage (reported per domain, the others\n"
"are listed), 2 bad usage or an unreadable run directory.\n");
}

/* One listing; returns the exit status it earns. */
static int refresh(int watch)
{
    static unsigned int ids[MAX_DOMAINS];
    int n, i, missing, truncated, rc = EXIT_OK;
    Domain *doms;

    n = list_domains(ids, &missing, &truncated);
    if (n < 0) {
        fprintf(stderr, "xna-stat: %s: %s\n", rundir, strerror(errno));
        return EXIT_USAGE;
    }
    doms = calloc(n + 1, sizeof(*doms));
    if (!doms) {
        fprintf(stderr, "xna-stat: out of memory\n");
        return EXIT_USAGE;
    }
    for (i = 0; i < n; i++) {
        doms[i].domid = ids[i];
        query_domain(&doms[i]);
        if (doms[i].status != DOM_OK) {
            rc = EXIT_DOMAIN;
        }
    }
    if (watch) {
        update_rates(doms, n);
    }
    if (opt_json) {
        print_json(doms, n, missing);
    } else {
        if (watch) {
            char when[32];
            time_t now = time(NULL);

            /* A terminal is cleared; a pipe gets one listing after another. */
            if (isatty(STDOUT_FILENO)) {
                printf("\033[H\033[2J");
            }
            strftime(when, sizeof(when), "%F %T", localtime(&now));
            printf("xna-stat  %s  every 1 s\n\n", when);
        }
        print_table(doms, n, missing, watch);
        if (truncated) {
            printf("(more than %d domains: the first %d shown)\n",
                   MAX_DOMAINS, MAX_DOMAINS);
        }
    }
    fflush(stdout);
    for (i = 0; i < n; i++) {
        free_domain(&doms[i]);
    }
    free(doms);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "rundir", required_argument, NULL, 'd' },
        { "json", no_argument, NULL, 'j' },
        { "watch", no_argument, NULL, 'w' },
        { "count", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    long count = -1;
    int watch = 0, c, rc;
    char *end;

    while ((c = getopt_long(argc, argv, "d:jwn:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            rundir = optarg;
            break;
        case 'j':
            opt_json = 1;
            break;
        case 'w':
            watch = 1;
            break;
        case 'n':
            count = 0;
            for (end = optarg; *end >= '0' && *end <= '9' &&
                 count < 1000000000; end++) {
                count = count * 10 + (*end - '0');
            }
            if (*end || end == optarg || count < 1) {
                fprintf(stderr, "xna-stat: -n %s: not a positive number\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc || (count > 0 && !watch)) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!rundir) {
        rundir = find_rundir();
    }
    for (;;) {
        long long start = now_ms(), left;

        rc = refresh(watch);
        if (!watch || rc == EXIT_USAGE || (count > 0 && --count == 0)) {
            break;
        }
        /* Once a second, however long the queries took (if under 1 s). */
        left = 1000 - (now_ms() - start);
        if (left > 0) {
            struct timespec ts = { left / 1000, (left % 1000) * 1000000 };

            nanosleep(&ts, NULL);
        }
    }
    free(samples);
    return rc;
}
