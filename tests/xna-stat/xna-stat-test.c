/*
 * qtest: xna-stat, the dom0 status tool (tools/xna-stat.c)
 *
 * A real QEMU with xen-sim and a xen-net-accel device, whose QMP socket
 * and pidfile sit in a run directory as vif-accel lays them out
 * (<domid>.qmp, <domid>.pid); a guest front connects and sends traffic
 * through two VIs, and the xna-stat binary named by $XNA_STAT (built by
 * `make tools`) must list the device with the counters this test reads
 * over its own QMP connection.  Also: a domain whose QEMU is dead, one
 * whose socket refuses connections, a QEMU that answers garbage, an
 * empty and a missing run directory.
 *
 * Project-only, like the benchmark: configure links this directory to
 * tests/qtest/xna-stat/ and a local hook (qemu-patches/local/) builds it;
 * tools/run-tests runs it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/un.h>
#include <sys/wait.h>
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "qapi/error.h"
#include "libqos/xna-test-env.h"

/* xen-sim's default guest domain, the <domid> of the socket's name. */
#define DOMID           1
#define VIF             3
#define VIS             2

typedef struct StatRun {
    char *out;
    char *err;
    int status;                 /* exit status; -1 if it did not exit */
} StatRun;

static void stat_run_free(StatRun *r)
{
    g_free(r->out);
    g_free(r->err);
}

/* Run $XNA_STAT -d @rundir with up to two more arguments. */
static StatRun run_stat(const char *rundir, const char *arg1,
                        const char *arg2)
{
    const char *bin = g_getenv("XNA_STAT");
    const char *argv[] = { bin, "-d", rundir, arg1, arg2, NULL };
    g_autoptr(GError) err = NULL;
    StatRun r = { 0 };
    int ws;

    /* Without the tool there is nothing to test: fail, not skip. */
    g_assert_nonnull(bin);
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL,
                               &r.out, &r.err, &ws, &err));
    r.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    if (r.err[0]) {
        g_test_message("xna-stat stderr: %s", r.err);
    }
    return r;
}

/* The one JSON document of @out: exactly one line. */
static QDict *parse_json(const char *out)
{
    const char *nl = strchr(out, '\n');
    QObject *obj;

    g_assert_nonnull(nl);
    g_assert_cmpint(nl[1], ==, '\0');
    obj = qobject_from_json(out, &error_abort);
    g_assert_nonnull(qobject_to(QDict, obj));
    return qobject_to(QDict, obj);
}

static QList *json_domains(QDict *doc)
{
    QList *doms = qdict_get_qlist(doc, "domains");

    g_assert_nonnull(doms);
    return doms;
}

static QDict *list_nth(QList *l, size_t n)
{
    const QListEntry *e;

    QLIST_FOREACH_ENTRY(l, e) {
        if (n-- == 0) {
            return qobject_to(QDict, qlist_entry_obj(e));
        }
    }
    return NULL;
}

static uint64_t json_uint(QDict *d, const char *key)
{
    QNum *n = qobject_to(QNum, qdict_get(d, key));
    uint64_t v;

    if (!n) {
        g_test_message("no number %s", key);
    }
    g_assert_nonnull(n);
    g_assert_true(qnum_get_try_uint(n, &v));
    return v;
}

/* The sum of vi<N>-@field over the VIs, as the test reads it over QMP. */
static uint64_t vi_sum(XnaTestEnv *e, const char *field)
{
    uint64_t sum = 0;
    unsigned int vi;

    for (vi = 0; vi < VIS; vi++) {
        g_autofree char *name = g_strdup_printf("vi%u-%s", vi, field);

        sum += xna_env_stat(e, name);
    }
    return sum;
}

/* A socket file nobody listens on: connect() is refused. */
static void dead_socket(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpuint(strlen(path), <, sizeof(a.sun_path));
    strcpy(a.sun_path, path);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    close(fd);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);

    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

/* A pid that is certainly not running: a child that exited, reaped. */
static pid_t dead_pid(void)
{
    pid_t pid = fork();

    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        _exit(0);
    }
    g_assert_cmpint(waitpid(pid, NULL, 0), ==, pid);
    return pid;
}

static void rm_rundir(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);

        unlink(path);
    }
    rmdir(dir);
}

/* Domain @domid, whose QEMU died, left its socket and pidfile behind. */
static void stale_domain(const char *dir, unsigned int domid)
{
    g_autofree char *sock = g_strdup_printf("%s/%u.qmp", dir, domid);
    g_autofree char *pidname = g_strdup_printf("%u.pid", domid);
    g_autofree char *pid = g_strdup_printf("%d\n", (int)dead_pid());

    dead_socket(sock);
    write_file(dir, pidname, pid);
}

/*
 * The row of device xna0 in xna-stat's table, as its fields, after
 * checking the header.
 */
static char **table_row(const char *out)
{
    static const char *const head[] = {
        "DOM", "VIF", "ID", "MAC", "NIC", "VIS", "FILTERS", "TX-PKTS",
        "TX-BYTES", "RX-PKTS", "RX-BYTES", "SLOW-RX", "HOST-RX", "HOST-TX",
        "DROPS", "ERRORS",
    };
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    g_auto(GStrv) h = g_strsplit_set(g_strstrip(lines[0]), " ", -1);
    char **row = NULL;
    size_t i, n = 0;

    for (i = 0; h[i]; i++) {
        if (h[i][0]) {
            g_assert_cmpuint(n, <, G_N_ELEMENTS(head));
            g_assert_cmpstr(h[i], ==, head[n]);
            n++;
        }
    }
    g_assert_cmpuint(n, ==, G_N_ELEMENTS(head));
    for (i = 1; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit_set(g_strstrip(lines[i]), " ", -1);
        GPtrArray *cells = g_ptr_array_new();
        size_t k;

        for (k = 0; f[k]; k++) {
            if (f[k][0]) {
                g_ptr_array_add(cells, g_strdup(f[k]));
            }
        }
        g_ptr_array_add(cells, NULL);
        if (cells->len == G_N_ELEMENTS(head) + 1 &&
            !strcmp(g_ptr_array_index(cells, 2), DEV_ID)) {
            g_assert_null(row);
            row = (char **)g_ptr_array_free(cells, false);
        } else {
            g_strfreev((char **)g_ptr_array_free(cells, false));
        }
    }
    g_assert_nonnull(row);
    return row;
}

static void assert_cell(char **row, int col, uint64_t want)
{
    g_autofree char *s = g_strdup_printf("%" PRIu64, want);

    g_assert_cmpstr(row[col], ==, s);
}

/*
 * Traffic on every VI: per VI one frame that teaches the backend its
 * flow (slow path) and then @fast[vi] on the fast path; the loopback NIC
 * brings every frame back.  Returns the frames sent.
 */
static unsigned int send_traffic(XnaTestEnv *e)
{
    static const unsigned int fast[VIS] = { 12, 5 };
    uint8_t f[200];
    unsigned int vi, i, n = 0;

    for (vi = 0; vi < VIS; vi++) {
        size_t len = xna_env_frame(f, 60, PORT_A + vi, PORT_A + 100 + vi, n);

        xna_env_send(e, vi, f, len);
        g_assert_true(xna_env_wait_rx(e, ++n));
    }
    for (vi = 0; vi < VIS; vi++) {
        for (i = 0; i < fast[vi]; i++) {
            size_t len = xna_env_frame(f, 60 + 10 * i, PORT_A + vi,
                                       PORT_A + 100 + vi, n);

            xna_env_send(e, vi, f, len);
            n++;
        }
    }
    g_assert_true(xna_env_wait_rx(e, n));
    return n;
}

static void check_table(XnaTestEnv *e, const char *out, unsigned int sent)
{
    g_auto(GStrv) row = table_row(out);
    g_autofree char *domid = g_strdup_printf("%u", DOMID);
    g_autofree char *vif = g_strdup_printf("%u", VIF);
    g_autofree char *vis = g_strdup_printf("%u/%u", VIS, VIS);

    g_assert_cmpstr(row[0], ==, domid);
    g_assert_cmpstr(row[1], ==, vif);
    g_assert_cmpstr(row[3], ==, GUEST_MAC);
    g_assert_cmpstr(row[4], ==, "loopback");
    g_assert_cmpstr(row[5], ==, vis);
    assert_cell(row, 6, xna_env_stat(e, "nic-filters"));
    /* What the guest sent, and what came back: first frames slow. */
    assert_cell(row, 7, sent);
    assert_cell(row, 7, vi_sum(e, "tx-packets"));
    assert_cell(row, 8, vi_sum(e, "tx-bytes"));
    assert_cell(row, 9, sent - VIS);
    assert_cell(row, 9, vi_sum(e, "rx-packets"));
    assert_cell(row, 10, vi_sum(e, "rx-bytes"));
    assert_cell(row, 11, VIS);
    assert_cell(row, 11, vi_sum(e, "rx-slow-packets"));
    assert_cell(row, 12, xna_env_stat(e, "nic-host-frames"));
    assert_cell(row, 13, xna_env_stat(e, "nic-host-tx-frames"));
    assert_cell(row, 14, 0);
    assert_cell(row, 15, 0);
}

static void check_json_vif(XnaTestEnv *e, QDict *v, unsigned int sent)
{
    QDict *counters = qdict_get_qdict(v, "counters");
    const QDictEntry *ent;
    size_t n = 0;

    g_assert_cmpstr(qdict_get_try_str(v, "id"), ==, DEV_ID);
    g_assert_cmpuint(json_uint(v, "vif"), ==, VIF);
    g_assert_cmpstr(qdict_get_try_str(v, "mac"), ==, GUEST_MAC);
    g_assert_cmpstr(qdict_get_try_str(v, "nic"), ==, "loopback");
    g_assert_true(qobject_type(qdict_get(v, "ifname")) == QTYPE_QNULL);
    g_assert_cmpuint(json_uint(v, "max_vis"), ==, VIS);
    g_assert_cmpuint(json_uint(v, "vis_up"), ==, VIS);
    g_assert_cmpuint(json_uint(v, "connects"), ==, 1);
    g_assert_cmpuint(json_uint(v, "filters"), ==,
                     xna_env_stat(e, "nic-filters"));
    g_assert_cmpuint(json_uint(v, "filters"), >=, 1);
    g_assert_cmpuint(json_uint(v, "tx_packets"), ==, sent);
    g_assert_cmpuint(json_uint(v, "tx_bytes"), ==, vi_sum(e, "tx-bytes"));
    g_assert_cmpuint(json_uint(v, "rx_packets"), ==, sent - VIS);
    g_assert_cmpuint(json_uint(v, "rx_bytes"), ==, vi_sum(e, "rx-bytes"));
    g_assert_cmpuint(json_uint(v, "rx_slow_packets"), ==, VIS);
    g_assert_cmpuint(json_uint(v, "rx_slow_bytes"), ==,
                     vi_sum(e, "rx-slow-bytes"));
    g_assert_cmpuint(json_uint(v, "drops"), ==, 0);
    g_assert_cmpuint(json_uint(v, "errors"), ==, 0);
    /* Every counter as QEMU has it, and every VI's are there. */
    g_assert_nonnull(counters);
    for (ent = qdict_first(counters); ent; ent = qdict_next(counters, ent)) {
        uint64_t got = json_uint(counters, qdict_entry_key(ent));

        g_assert_cmpuint(got, ==, xna_env_stat(e, qdict_entry_key(ent)));
        n++;
    }
    g_assert_true(qdict_haskey(counters, "vi1-tx-packets"));
    g_assert_true(qdict_haskey(counters, "nic-filters"));
    g_assert_true(qdict_haskey(counters, "filters-inserted"));
    g_assert_false(qdict_haskey(counters, "vi2-tx-packets"));
    g_assert_cmpuint(n, >=, 19 * VIS + 30);
}

static void test_live(void)
{
    g_autofree char *dir = g_dir_make_tmp("xna-stat-XXXXXX", NULL);
    g_autofree char *dev = NULL;
    g_autofree char *qemu_pid = NULL;
    g_autofree char *pidfile = NULL;
    StatRun r;
    QDict *doc, *dom;
    unsigned int sent;
    XnaTestEnv e;

    g_assert_nonnull(dir);
    /* The second QMP monitor and the pidfile, where vif-accel puts them. */
    dev = g_strdup_printf("-device xen-net-accel,id=" DEV_ID ",nic=loopback,"
                          "mac=" GUEST_MAC ",max-vis=%u,vif=%u "
                          "-qmp unix:%s/%u.qmp,server=on,wait=off "
                          "-pidfile %s/%u.pid", VIS, VIF, dir, DOMID,
                          dir, DOMID);
    xna_env_start_dev(&e, NULL, dev);
    g_assert_cmpuint(xen_guest_domid(e.g), ==, DOMID);
    xna_env_start_front(&e, VIS);
    sent = send_traffic(&e);

    r = run_stat(dir, NULL, NULL);
    g_test_message("xna-stat: %s", r.out);
    g_assert_cmpint(r.status, ==, 0);
    check_table(&e, r.out, sent);
    g_assert_null(strstr(r.out, "domain "));
    stat_run_free(&r);

    r = run_stat(dir, "--json", NULL);
    g_assert_cmpint(r.status, ==, 0);
    doc = parse_json(r.out);
    g_assert_cmpstr(qdict_get_try_str(doc, "rundir"), ==, dir);
    g_assert_cmpuint(qlist_size(json_domains(doc)), ==, 1);
    dom = list_nth(json_domains(doc), 0);
    g_assert_cmpuint(json_uint(dom, "domid"), ==, DOMID);
    g_assert_cmpstr(qdict_get_try_str(dom, "status"), ==, "ok");
    pidfile = g_strdup_printf("%s/%u.pid", dir, DOMID);
    g_assert_true(g_file_get_contents(pidfile, &qemu_pid, NULL, NULL));
    g_assert_cmpuint(json_uint(dom, "pid"), ==, atoi(qemu_pid));
    g_assert_cmpuint(qlist_size(qdict_get_qlist(dom, "vifs")), ==, 1);
    check_json_vif(&e, list_nth(qdict_get_qlist(dom, "vifs"), 0), sent);
    qobject_unref(doc);
    stat_run_free(&r);

    /*
     * -w with JSON: a document per second, the second with rates (the
     * guest is idle now: zero).
     */
    r = run_stat(dir, "-wn2", "--json");
    g_assert_cmpint(r.status, ==, 0);
    {
        g_auto(GStrv) docs = g_strsplit(r.out, "\n", -1);
        QDict *v;

        g_assert_cmpuint(g_strv_length(docs), ==, 3);
        doc = qobject_to(QDict, qobject_from_json(docs[1], &error_abort));
        dom = list_nth(json_domains(doc), 0);
        v = list_nth(qdict_get_qlist(dom, "vifs"), 0);
        g_assert_nonnull(qdict_get_qdict(v, "rates"));
        g_assert_cmpuint(json_uint(v, "tx_packets"), ==, sent);
        qobject_unref(doc);
    }
    stat_run_free(&r);

    /* A dead domain next to it: reported, the live one still listed. */
    stale_domain(dir, 7);
    r = run_stat(dir, NULL, NULL);
    g_test_message("xna-stat: %s", r.out);
    g_assert_cmpint(r.status, ==, 1);
    check_table(&e, r.out, sent);
    g_assert_nonnull(strstr(r.out, "\ndomain 7: dead: "));
    stat_run_free(&r);

    xna_env_stop(&e);
    rm_rundir(dir);
}

/* Domains whose QEMU is gone or does not answer; nothing else. */
static void test_stale(void)
{
    g_autofree char *dir = g_dir_make_tmp("xna-stat-XXXXXX", NULL);
    g_autofree char *sock6 = g_strdup_printf("%s/6.qmp", dir);
    g_autofree char *me = g_strdup_printf("%d\n", (int)getpid());
    StatRun r;
    QDict *doc, *d;

    stale_domain(dir, 5);
    /* Domain 6: its QEMU "runs" (our pid) but its socket refuses. */
    dead_socket(sock6);
    write_file(dir, "6.pid", me);
    /* Not sockets of domains: ignored. */
    write_file(dir, "6.lock", "");
    write_file(dir, "qemu-6.log", "");
    write_file(dir, "x.qmp", "");

    r = run_stat(dir, NULL, NULL);
    g_test_message("xna-stat: %s", r.out);
    g_assert_cmpint(r.status, ==, 1);
    g_assert_true(g_str_has_prefix(r.out, "domain 5: dead: "));
    g_assert_nonnull(strstr(r.out, "\ndomain 6: unreachable: "));
    g_assert_nonnull(strstr(r.out, "Connection refused"));
    g_assert_nonnull(strstr(r.out, "\nno accelerated vifs"));
    stat_run_free(&r);

    r = run_stat(dir, "--json", NULL);
    g_assert_cmpint(r.status, ==, 1);
    doc = parse_json(r.out);
    g_assert_cmpuint(qlist_size(json_domains(doc)), ==, 2);
    d = list_nth(json_domains(doc), 0);
    g_assert_cmpuint(json_uint(d, "domid"), ==, 5);
    g_assert_cmpstr(qdict_get_try_str(d, "status"), ==, "dead");
    d = list_nth(json_domains(doc), 1);
    g_assert_cmpuint(json_uint(d, "domid"), ==, 6);
    g_assert_cmpuint(json_uint(d, "pid"), ==, getpid());
    g_assert_cmpstr(qdict_get_try_str(d, "status"), ==, "unreachable");
    g_assert_cmpuint(qlist_size(qdict_get_qlist(d, "vifs")), ==, 0);
    qobject_unref(doc);
    stat_run_free(&r);
    rm_rundir(dir);
}

static void test_empty(void)
{
    g_autofree char *dir = g_dir_make_tmp("xna-stat-XXXXXX", NULL);
    g_autofree char *missing = g_strdup_printf("%s/none", dir);
    g_autofree char *file = g_strdup_printf("%s/file", dir);
    StatRun r;
    QDict *doc;

    r = run_stat(dir, NULL, NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_true(g_str_has_prefix(r.out, "no accelerated vifs ("));
    stat_run_free(&r);

    r = run_stat(dir, "--json", NULL);
    g_assert_cmpint(r.status, ==, 0);
    doc = parse_json(r.out);
    g_assert_cmpuint(qlist_size(json_domains(doc)), ==, 0);
    g_assert_true(qdict_get_bool(doc, "rundir_exists"));
    qobject_unref(doc);
    stat_run_free(&r);

    /* Before vif-accel's first run there is no run directory at all. */
    r = run_stat(missing, NULL, NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "no accelerated vifs"));
    g_assert_nonnull(strstr(r.out, "does not exist"));
    stat_run_free(&r);

    /* A run directory that cannot be read is the caller's error. */
    write_file(dir, "file", "");
    r = run_stat(file, NULL, NULL);
    g_assert_cmpint(r.status, ==, 2);
    stat_run_free(&r);
    rm_rundir(dir);
}

/*
 * A QEMU that answers garbage (a guest may own its backend QEMU): here
 * a member nested 900000 deep (within the client's 1 MiB) in an entry of
 * a qom-list reply (the reader skips members it does not know: without
 * its depth limit, its recursion overflows the stack and xna-stat dies),
 * then a line longer than the client's buffer.  The test serves the
 * socket itself.
 */
static void hostile_serve(int lfd, const char *reply)
{
    char buf[4096];
    int fd = accept(lfd, NULL, NULL);
    int lines = 0;

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, "{\"QMP\": {}}\n", 12), ==, 12);
    /* Answer qmp_capabilities, then the first real command. */
    while (lines < 2) {
        ssize_t n = read(fd, buf, sizeof(buf));
        ssize_t i;

        if (n <= 0) {
            break;
        }
        for (i = 0; i < n; i++) {
            if (buf[i] != '\n') {
                continue;
            }
            if (++lines == 1) {
                g_assert_cmpint(write(fd, "{\"return\": {}}\n", 15), ==, 15);
            } else {
                size_t len = strlen(reply);

                /*
                 * The client gives up before all of a reply too long for
                 * it is sent: no SIGPIPE for that.
                 */
                if (send(fd, reply, len, MSG_NOSIGNAL) != (ssize_t)len) {
                    g_test_message("client closed early");
                }
            }
        }
    }
    close(fd);
}

static void test_hostile(void)
{
    g_autofree char *dir = g_dir_make_tmp("xna-stat-XXXXXX", NULL);
    g_autofree char *sock = g_strdup_printf("%s/9.qmp", dir);
    g_autofree char *me = g_strdup_printf("%d\n", (int)getpid());
    g_autofree char *brackets = g_strnfill(900000, '[');
    g_autofree char *deep = NULL;
    g_autofree char *huge = NULL;
    const char *replies[2];
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    const char *bin = g_getenv("XNA_STAT");
    unsigned int i;
    int lfd;

    g_assert_nonnull(bin);
    deep = g_strdup_printf("{\"return\": [{\"name\": \"xna0\", \"x\": %s\n",
                           brackets);
    huge = g_strnfill(2 << 20, 'x');
    replies[0] = deep;
    replies[1] = huge;
    write_file(dir, "9.pid", me);
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    strcpy(a.sun_path, sock);
    g_assert_cmpint(bind(lfd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(listen(lfd, 1), ==, 0);
    for (i = 0; i < G_N_ELEMENTS(replies); i++) {
        const char *argv[] = { bin, "-d", dir, NULL };
        g_autoptr(GError) err = NULL;
        g_autofree char *out = NULL;
        int out_fd, ws;
        GPid pid;
        FILE *f;
        char line[512];

        g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
                                               G_SPAWN_DO_NOT_REAP_CHILD,
                                               NULL, NULL, &pid, NULL,
                                               &out_fd, NULL, &err));
        hostile_serve(lfd, replies[i]);
        f = fdopen(out_fd, "r");
        g_assert_nonnull(fgets(line, sizeof(line), f));
        fclose(f);
        g_assert_cmpint(waitpid(pid, &ws, 0), ==, pid);
        g_test_message("xna-stat: %s", line);
        g_assert_true(WIFEXITED(ws));
        g_assert_cmpint(WEXITSTATUS(ws), ==, 1);
        g_assert_true(g_str_has_prefix(line, "domain 9: error: "));
    }
    close(lfd);
    rm_rundir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/xna-stat/live", test_live);
    qtest_add_func("/xna-stat/stale", test_stale);
    qtest_add_func("/xna-stat/empty", test_empty);
    qtest_add_func("/xna-stat/hostile", test_hostile);
    return g_test_run();
}
