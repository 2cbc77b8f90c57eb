/*
 * qtest: the xen-sim platform does what Xen does, refusals included
 *
 * One case per operation the platform offers to the guest or to a
 * backend: xenstore (own tree, permissions, transactions, watches),
 * grants (checked through QEMU's stock xen-net-device, which must refuse
 * to connect with a bad ring grant and leave nothing mapped), event
 * channels (binding through the same device, sending from the guest).
 * After every refusal QEMU must still answer QMP.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "tests/qtest/libqtest.h"
#include "qobject/qdict.h"
#include "hw/xen/interface/io/blkif.h"
#include "libqos/xen-guest.h"
#include "libqos/xen-netfront.h"

/* The device, without a netdev: these cases pass no traffic. */
#define VIF_ARGS "-device xen-net-device,id=vif0,mac=00:16:3e:00:00:01"

typedef struct TestEnv {
    QTestState *qts;
    XenGuest *g;
    const char *unplug;         /* device to unplug before quitting */
    char *disk;                 /* disk image to remove */
} TestEnv;

static void env_start(TestEnv *e, bool vif)
{
    memset(e, 0, sizeof(*e));
    e->unplug = vif ? "vif0" : NULL;
    e->qts = xen_guest_qemu_init(NULL, "%s", vif ? VIF_ARGS : "");
    e->g = xen_guest_new(e->qts, NULL, 0);
}

static void assert_qemu_alive(TestEnv *e)
{
    QDict *resp = qtest_qmp(e->qts, "{ 'execute': 'query-status' }");

    g_assert(qdict_haskey(resp, "return"));
    qobject_unref(resp);
}

static void env_stop(TestEnv *e)
{
    assert_qemu_alive(e);
    if (e->unplug) {
        /* Unplug first: xen-net-device crashes QEMU's exit otherwise. */
        qtest_qmp_device_del(e->qts, e->unplug);
    }
    xen_guest_free(e->g);
    qtest_quit(e->qts);
    if (e->disk) {
        unlink(e->disk);
        g_free(e->disk);
    }
}

static char *home_path(TestEnv *e, const char *rel)
{
    return g_strdup_printf("%s/%s", xen_guest_home(e->g), rel);
}

/*
 * Xenstore
 */

static void test_xs_own_tree(void)
{
    TestEnv e;
    g_autofree char *dir = NULL, *a = NULL, *b = NULL, *value = NULL;
    g_auto(GStrv) names = NULL;
    uint64_t requests;

    env_start(&e, false);
    dir = home_path(&e, "data");
    a = home_path(&e, "data/a");
    b = home_path(&e, "data/b");
    requests = xen_guest_sim_stat(e.g, "xs-requests");

    g_assert_cmpint(xen_guest_xs_mkdir(e.g, 0, dir), ==, 0);
    g_assert_cmpint(xen_guest_xs_write(e.g, 0, a, "hello"), ==, 0);
    g_assert_cmpint(xen_guest_xs_write(e.g, 0, b, ""), ==, 0);
    g_assert_cmpint(xen_guest_xs_read(e.g, 0, a, &value), ==, 0);
    g_assert_cmpstr(value, ==, "hello");
    g_clear_pointer(&value, g_free);
    g_assert_cmpint(xen_guest_xs_read(e.g, 0, b, &value), ==, 0);
    g_assert_cmpstr(value, ==, "");
    g_clear_pointer(&value, g_free);

    /* Relative paths are under the guest's home, as in xenstored. */
    g_assert_cmpint(xen_guest_xs_write(e.g, 0, "data/a", "again"), ==, 0);
    g_assert_cmpint(xen_guest_xs_read(e.g, 0, a, &value), ==, 0);
    g_assert_cmpstr(value, ==, "again");

    g_assert_cmpint(xen_guest_xs_directory(e.g, 0, dir, &names), ==, 0);
    g_assert_cmpuint(g_strv_length(names), ==, 2);
    g_assert_true(g_strv_contains((const char * const *)names, "a"));
    g_assert_true(g_strv_contains((const char * const *)names, "b"));

    g_assert_cmpint(xen_guest_xs_rm(e.g, 0, dir), ==, 0);
    g_assert_cmpint(xen_guest_xs_read(e.g, 0, a, NULL), ==, -ENOENT);
    g_assert_cmpint(xen_guest_xs_read(e.g, 0, dir, NULL), ==, -ENOENT);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "xs-requests"), >=,
                     requests + 11);
    env_stop(&e);
}

static void test_xs_read_missing_enoent(void)
{
    TestEnv e;
    g_autofree char *path = NULL;
    g_auto(GStrv) names = NULL;

    env_start(&e, false);
    path = home_path(&e, "no/such/node");
    g_assert_cmpint(xen_guest_xs_read(e.g, 0, path, NULL), ==, -ENOENT);
    g_assert_cmpint(xen_guest_xs_directory(e.g, 0, path, &names), ==,
                    -ENOENT);
    env_stop(&e);
}

static void test_xs_backend_write_eacces(void)
{
    TestEnv e;
    XenGuestDevice dev;
    g_autofree char *state = NULL, *other = NULL, *value = NULL;
    g_autofree char *before = NULL;

    env_start(&e, true);
    g_assert_cmpint(xen_guest_find_device(e.g, "vif", -1, &dev), ==, 0);
    state = g_strdup_printf("%s/state", dev.backend);
    other = g_strdup_printf("%s/injected", dev.backend);

    /* The guest can read its backend's nodes, not change them. */
    g_assert_cmpint(xen_guest_xs_read(e.g, 0, state, &before), ==, 0);
    g_assert_cmpint(xen_guest_xs_write(e.g, 0, state, "4"), ==, -EACCES);
    g_assert_cmpint(xen_guest_xs_write(e.g, 0, other, "1"), ==, -EACCES);
    g_assert_cmpint(xen_guest_xs_mkdir(e.g, 0, other), ==, -EACCES);
    g_assert_cmpint(xen_guest_xs_rm(e.g, 0, state), ==, -EACCES);
    g_assert_cmpint(xen_guest_xs_read(e.g, 0, state, &value), ==, 0);
    g_assert_cmpstr(value, ==, before);
    g_assert_cmpint(xen_guest_xs_read(e.g, 0, other, NULL), ==, -ENOENT);
    assert_qemu_alive(&e);
    xen_guest_device_cleanup(&dev);
    env_stop(&e);
}

/*
 * The toolstack's requests (as the privileged domain) reach below
 * /local/domain/ only: removing "/" emptied the tree and the next write
 * crashed QEMU (found by a review).
 */
static void test_xs_toolstack_scope(void)
{
    TestEnv e;
    g_autofree char *val = NULL;
    static const char *const outside[] = {
        "/", "/local", "/local/domain", "/local/domain/", "/tool/x",
        "relative/path",
    };
    const char *const perms[] = { "n0", NULL };
    unsigned int i;

    env_start(&e, false);
    for (i = 0; i < ARRAY_SIZE(outside); i++) {
        g_test_message("toolstack request on '%s'", outside[i]);
        g_assert_cmpint(xen_guest_toolstack_rm(e.g, outside[i]), ==,
                        -EINVAL);
        g_assert_cmpint(xen_guest_toolstack_write(e.g, outside[i], "x"), ==,
                        -EINVAL);
        g_assert_cmpint(xen_guest_toolstack_set_perms(e.g, outside[i],
                                                      perms), ==, -EINVAL);
    }
    /* Below /local/domain/ it acts as dom0, where the guest may not. */
    g_assert_cmpint(xen_guest_toolstack_write(e.g, "/local/domain/0/tool/x",
                                              "1"), ==, 0);
    g_assert_cmpint(xen_guest_xs_write(e.g, 0, "/local/domain/0/tool/x",
                                       "2"), ==, -EACCES);
    g_assert_cmpint(xen_guest_toolstack_rm(e.g, "/local/domain/0/tool"), ==,
                    0);
    /* The tree is whole: the guest still reads and writes its own. */
    g_assert_cmpint(xen_guest_xs_write(e.g, 0, "data/after", "ok"), ==, 0);
    g_assert_cmpint(xen_guest_xs_read(e.g, 0, "data/after", &val), ==, 0);
    g_assert_cmpstr(val, ==, "ok");
    env_stop(&e);
}

static void test_xs_other_domain_eacces(void)
{
    TestEnv e;

    env_start(&e, false);
    /* Domain 0's nodes are its own. */
    g_assert_cmpint(xen_guest_xs_read(e.g, 0, "/local/domain/0/domid", NULL),
                    ==, -EACCES);
    g_assert_cmpint(xen_guest_xs_write(e.g, 0, "/local/domain/0/x", "1"),
                    ==, -EACCES);
    g_assert_cmpint(xen_guest_xs_write(e.g, 0, "/injected", "1"), ==,
                    -EACCES);
    env_stop(&e);
}

static void test_xs_transaction_commit(void)
{
    TestEnv e;
    g_autofree char *path = NULL, *value = NULL;
    uint32_t tx;

    env_start(&e, false);
    path = home_path(&e, "tx-commit");
    g_assert_cmpint(xen_guest_xs_transaction_start(e.g, &tx), ==, 0);
    g_assert_cmpint(xen_guest_xs_write(e.g, tx, path, "v1"), ==, 0);
    /* Seen inside the transaction, not outside before the commit. */
    g_assert_cmpint(xen_guest_xs_read(e.g, tx, path, &value), ==, 0);
    g_assert_cmpstr(value, ==, "v1");
    g_clear_pointer(&value, g_free);
    g_assert_cmpint(xen_guest_xs_read(e.g, 0, path, NULL), ==, -ENOENT);
    g_assert_cmpint(xen_guest_xs_transaction_end(e.g, tx, false), ==, 0);
    g_assert_cmpint(xen_guest_xs_read(e.g, 0, path, &value), ==, 0);
    g_assert_cmpstr(value, ==, "v1");
    /* The transaction is gone. */
    g_assert_cmpint(xen_guest_xs_write(e.g, tx, path, "v2"), <, 0);
    env_stop(&e);
}

static void test_xs_transaction_abort(void)
{
    TestEnv e;
    g_autofree char *path = NULL;
    uint32_t tx;

    env_start(&e, false);
    path = home_path(&e, "tx-abort");
    g_assert_cmpint(xen_guest_xs_transaction_start(e.g, &tx), ==, 0);
    g_assert_cmpint(xen_guest_xs_write(e.g, tx, path, "v1"), ==, 0);
    g_assert_cmpint(xen_guest_xs_transaction_end(e.g, tx, true), ==, 0);
    g_assert_cmpint(xen_guest_xs_read(e.g, 0, path, NULL), ==, -ENOENT);
    env_stop(&e);
}

static void test_xs_transaction_conflict_eagain(void)
{
    TestEnv e;
    g_autofree char *path = NULL, *value = NULL;
    uint32_t tx;

    env_start(&e, false);
    path = home_path(&e, "tx-conflict");
    g_assert_cmpint(xen_guest_xs_write(e.g, 0, path, "old"), ==, 0);
    g_assert_cmpint(xen_guest_xs_transaction_start(e.g, &tx), ==, 0);
    g_assert_cmpint(xen_guest_xs_read(e.g, tx, path, &value), ==, 0);
    g_assert_cmpint(xen_guest_xs_write(e.g, 0, path, "outside"), ==, 0);
    g_assert_cmpint(xen_guest_xs_write(e.g, tx, path, "inside"), ==, 0);
    g_assert_cmpint(xen_guest_xs_transaction_end(e.g, tx, false), ==,
                    -EAGAIN);
    g_clear_pointer(&value, g_free);
    g_assert_cmpint(xen_guest_xs_read(e.g, 0, path, &value), ==, 0);
    g_assert_cmpstr(value, ==, "outside");
    env_stop(&e);
}

static void test_xs_watch_path_token(void)
{
    TestEnv e;
    g_autofree char *dir = NULL, *child = NULL, *other = NULL;
    char *path, *token;

    env_start(&e, false);
    dir = home_path(&e, "watched");
    child = home_path(&e, "watched/child");
    other = home_path(&e, "unwatched");
    g_assert_cmpint(xen_guest_xs_mkdir(e.g, 0, dir), ==, 0);

    /* A new watch fires once at once, with its own path. */
    g_assert_cmpint(xen_guest_xs_watch(e.g, dir, "tok-1"), ==, 0);
    g_assert_cmpint(xen_guest_xs_wait_watch(e.g, &path, &token,
                                            XEN_GUEST_TIMEOUT_MS), ==, 0);
    g_assert_cmpstr(path, ==, dir);
    g_assert_cmpstr(token, ==, "tok-1");
    g_free(path);
    g_free(token);

    /* A write elsewhere does not fire it; one below it does. */
    g_assert_cmpint(xen_guest_xs_write(e.g, 0, other, "x"), ==, 0);
    g_assert_cmpint(xen_guest_xs_write(e.g, 0, child, "1"), ==, 0);
    g_assert_cmpint(xen_guest_xs_wait_watch(e.g, &path, &token,
                                            XEN_GUEST_TIMEOUT_MS), ==, 0);
    g_assert_cmpstr(path, ==, child);
    g_assert_cmpstr(token, ==, "tok-1");
    g_free(path);
    g_free(token);

    /* Two watches, two tokens; after unwatch, only the other fires. */
    g_assert_cmpint(xen_guest_xs_watch(e.g, other, "tok-2"), ==, 0);
    g_assert_cmpint(xen_guest_xs_wait_watch_token(e.g, "tok-2", &path,
                                                  XEN_GUEST_TIMEOUT_MS), ==, 0);
    g_assert_cmpstr(path, ==, other);
    g_free(path);
    g_assert_cmpint(xen_guest_xs_unwatch(e.g, dir, "tok-1"), ==, 0);
    g_assert_cmpint(xen_guest_xs_write(e.g, 0, child, "2"), ==, 0);
    g_assert_cmpint(xen_guest_xs_write(e.g, 0, other, "y"), ==, 0);
    g_assert_cmpint(xen_guest_xs_wait_watch(e.g, &path, &token,
                                            XEN_GUEST_TIMEOUT_MS), ==, 0);
    g_assert_cmpstr(path, ==, other);
    g_assert_cmpstr(token, ==, "tok-2");
    g_free(path);
    g_free(token);
    g_assert_cmpuint(xen_guest_xs_pending_watch_events(e.g), ==, 0);

    /* Unwatching what is not watched is refused. */
    g_assert_cmpint(xen_guest_xs_unwatch(e.g, dir, "tok-1"), ==, -ENOENT);
    g_assert_cmpint(xen_guest_xs_unwatch(e.g, other, "tok-2"), ==, 0);
    env_stop(&e);
}

/* As xenstored: a watch set with a relative path fires relative paths. */
static void test_xs_watch_relative_path(void)
{
    TestEnv e;
    g_autofree char *abs = NULL;
    char *path;

    env_start(&e, false);
    abs = home_path(&e, "rel/node");
    g_assert_cmpint(xen_guest_xs_watch(e.g, "rel", "tok"), ==, 0);
    g_assert_cmpint(xen_guest_xs_wait_watch_token(e.g, "tok", &path,
                                                  XEN_GUEST_TIMEOUT_MS), ==, 0);
    g_assert_cmpstr(path, ==, "rel");
    g_free(path);
    g_assert_cmpint(xen_guest_xs_write(e.g, 0, abs, "1"), ==, 0);
    g_assert_cmpint(xen_guest_xs_wait_watch_token(e.g, "tok", &path,
                                                  XEN_GUEST_TIMEOUT_MS), ==, 0);
    g_assert_cmpstr(path, ==, "rel/node");
    g_free(path);
    g_assert_cmpint(xen_guest_xs_unwatch(e.g, "rel", "tok"), ==, 0);
    env_stop(&e);
}

/*
 * Two watches of the guest on one path: each can be removed alone.  (A
 * path that a backend also watches is the common case: see xen-guest.c.)
 */
static void test_xs_unwatch_second_on_path(void)
{
    TestEnv e;
    g_autofree char *path = NULL;
    char *token;
    int ret;

    env_start(&e, false);
    path = home_path(&e, "twice");
    g_assert_cmpint(xen_guest_xs_watch(e.g, path, "first"), ==, 0);
    g_assert_cmpint(xen_guest_xs_watch(e.g, path, "second"), ==, 0);
    g_assert_cmpuint(xen_guest_xs_pending_watch_events(e.g), ==, 2);
    g_assert_cmpint(xen_guest_xs_wait_watch_token(e.g, "first", NULL, 0), ==,
                    0);
    g_assert_cmpint(xen_guest_xs_wait_watch_token(e.g, "second", NULL, 0), ==,
                    0);

    ret = xen_guest_xs_unwatch(e.g, path, "second");
    g_assert_cmpint(ret, ==, 0);
    g_assert_cmpint(xen_guest_xs_write(e.g, 0, path, "1"), ==, 0);
    g_assert_cmpint(xen_guest_xs_wait_watch(e.g, NULL, &token,
                                            XEN_GUEST_TIMEOUT_MS), ==, 0);
    g_assert_cmpstr(token, ==, "first");
    g_free(token);
    g_assert_cmpuint(xen_guest_xs_pending_watch_events(e.g), ==, 0);
    g_assert_cmpint(xen_guest_xs_unwatch(e.g, path, "first"), ==, 0);
    env_stop(&e);
}

static void test_xs_watch_fires_on_commit(void)
{
    TestEnv e;
    g_autofree char *path = NULL, *fired = NULL;
    uint32_t tx;

    env_start(&e, false);
    path = home_path(&e, "tx-watched");
    g_assert_cmpint(xen_guest_xs_watch(e.g, path, "tok"), ==, 0);
    g_assert_cmpint(xen_guest_xs_wait_watch_token(e.g, "tok", NULL,
                                                  XEN_GUEST_TIMEOUT_MS), ==, 0);

    /*
     * The platform queues the guest's watch events while it runs the
     * request that fires them, so "none queued" right after a request is
     * a complete answer.
     */
    g_assert_cmpint(xen_guest_xs_transaction_start(e.g, &tx), ==, 0);
    g_assert_cmpint(xen_guest_xs_write(e.g, tx, path, "1"), ==, 0);
    g_assert_cmpuint(xen_guest_xs_pending_watch_events(e.g), ==, 0);
    g_assert_cmpint(xen_guest_xs_transaction_end(e.g, tx, false), ==, 0);
    g_assert_cmpuint(xen_guest_xs_pending_watch_events(e.g), ==, 1);
    g_assert_cmpint(xen_guest_xs_wait_watch_token(e.g, "tok", &fired,
                                                  XEN_GUEST_TIMEOUT_MS), ==, 0);
    g_assert_cmpstr(fired, ==, path);

    /* An aborted transaction fires nothing. */
    g_assert_cmpint(xen_guest_xs_transaction_start(e.g, &tx), ==, 0);
    g_assert_cmpint(xen_guest_xs_write(e.g, tx, path, "2"), ==, 0);
    g_assert_cmpint(xen_guest_xs_transaction_end(e.g, tx, true), ==, 0);
    g_assert_cmpuint(xen_guest_xs_pending_watch_events(e.g), ==, 0);
    env_stop(&e);
}

/*
 * Grants, through the stock device: it maps the tx ring, then the rx
 * ring, read-write.  A bad rx-ring-ref also checks that the tx ring,
 * mapped by then, is unmapped when the connection fails.
 */

typedef enum BadGrant {
    BAD_GRANT_WRONG_DOMID,
    BAD_GRANT_REVOKED,
    BAD_GRANT_READONLY,
    BAD_GRANT_OUT_OF_RANGE,
} BadGrant;

typedef struct BadGrantCase {
    BadGrant kind;
    bool rx;                    /* which ring gets the bad ref */
} BadGrantCase;

/* A ref to @gpa that the backend must not be able to map read-write. */
static grant_ref_t bad_grant(TestEnv *e, XenNetFront *nf, BadGrant kind,
                             uint64_t gpa)
{
    grant_ref_t ref;

    switch (kind) {
    case BAD_GRANT_WRONG_DOMID:
        return xen_guest_grant(e->g, gpa, nf->dev.backend_id + 7, false);
    case BAD_GRANT_REVOKED:
        ref = xen_guest_grant(e->g, gpa, nf->dev.backend_id, false);
        g_assert_cmpint(xen_guest_end_grant(e->g, ref), ==, 0);
        /* Keep the ref ours so that nothing reuses it. */
        g_assert_cmpuint(xen_guest_grant_alloc_ref(e->g), ==, ref);
        g_assert_cmphex(xen_guest_grant_flags(e->g, ref), ==, 0);
        return ref;
    case BAD_GRANT_READONLY:
        return xen_guest_grant(e->g, gpa, nf->dev.backend_id, true);
    case BAD_GRANT_OUT_OF_RANGE:
        return xen_guest_grant_table_size(e->g) + 5;
    }
    g_assert_not_reached();
}

static void release_bad_grant(TestEnv *e, BadGrant kind, grant_ref_t ref)
{
    switch (kind) {
    case BAD_GRANT_WRONG_DOMID:
    case BAD_GRANT_READONLY:
        g_assert_cmpint(xen_guest_end_grant(e->g, ref), ==, 0);
        break;
    case BAD_GRANT_REVOKED:
        xen_guest_grant_free_ref(e->g, ref);
        break;
    case BAD_GRANT_OUT_OF_RANGE:
        break;
    }
}

/*
 * The backend must settle in Closing without ever being Connected, with
 * nothing mapped or bound; then the guest closes and cleans up.
 */
static void expect_refused(TestEnv *e, XenNetFront *nf)
{
    uint32_t seen = 0;
    int ret;

    ret = xen_netfront_wait_backend(nf, &seen, XEN_GUEST_TIMEOUT_MS);
    g_assert_cmpint(ret, >=, 0);
    g_assert_cmpstr(xen_guest_state_name(ret), ==, "Closing");
    g_assert_false(seen & XEN_GUEST_STATE_BIT(XenbusStateConnected));
    g_assert_cmpuint(xen_guest_sim_stat(e->g, "grant-live-maps"), ==, 0);
    g_assert_cmpuint(xen_guest_sim_stat(e->g, "evtchn-bound"), ==, 0);
    assert_qemu_alive(e);
}

static void test_grant_refused(const void *data)
{
    const BadGrantCase *c = data;
    TestEnv e;
    XenNetFront nf;
    uint64_t page, refusals;
    grant_ref_t bad;

    env_start(&e, true);
    xen_netfront_init(&nf, e.g, -1);
    page = c->rx ? nf.rx_ring_gpa : nf.tx_ring_gpa;
    bad = bad_grant(&e, &nf, c->kind, page);
    refusals = xen_guest_sim_stat(e.g, "grant-refusals");

    xen_netfront_publish(&nf, c->rx ? nf.tx_ring_ref : bad,
                         c->rx ? bad : nf.rx_ring_ref, nf.port);
    expect_refused(&e, &nf);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-refusals"), ==,
                     refusals + 1);
    /* A refusal leaves the entry as the guest wrote it. */
    if (c->kind != BAD_GRANT_OUT_OF_RANGE) {
        g_assert_false(xen_guest_grant_flags(e.g, bad) &
                       (GTF_reading | GTF_writing));
    }

    xen_netfront_close(&nf);
    release_bad_grant(&e, c->kind, bad);
    g_assert_cmpuint(xen_guest_grants_in_use(e.g), ==, 0);
    env_stop(&e);
}

/* Mapped grants are marked in use; the guest cannot end them. */
static void test_grant_end_while_mapped_busy(void)
{
    TestEnv e;
    XenNetFront nf;

    env_start(&e, true);
    xen_netfront_init(&nf, e.g, -1);
    g_assert_cmpint(xen_netfront_connect(&nf, XEN_GUEST_TIMEOUT_MS), ==, 0);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-live-maps"), ==, 2);
    /* Rings are mapped read-write: Xen marks both reading and writing. */
    g_assert_cmphex(xen_guest_grant_flags(e.g, nf.tx_ring_ref) &
                    (GTF_reading | GTF_writing), ==,
                    GTF_reading | GTF_writing);
    g_assert_cmpint(xen_guest_end_grant(e.g, nf.tx_ring_ref), ==, -EBUSY);
    g_assert_cmpint(xen_guest_end_grant(e.g, nf.rx_ring_ref), ==, -EBUSY);
    /* Still granted, still mapped. */
    g_assert_cmphex(xen_guest_grant_flags(e.g, nf.rx_ring_ref) &
                    GTF_type_mask, ==, GTF_permit_access);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-live-maps"), ==, 2);

    /* Closing unmaps, and the flags go. */
    xen_netfront_close(&nf);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-live-maps"), ==, 0);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-maps"), ==,
                     xen_guest_sim_stat(e.g, "grant-unmaps"));
    env_stop(&e);
}

/*
 * The table grows (and moves out of its reserved room) as the guest
 * grants more; grants made before stay valid, and refs beyond the first
 * table work for the backend.
 */
static void test_grant_table_grows(void)
{
    TestEnv e;
    XenNetFront nf;
    unsigned int size0, n, i;
    grant_ref_t *refs, tx_ref, rx_ref;
    uint64_t page;

    env_start(&e, true);
    g_assert_cmpuint(xen_guest_grant_table_size(e.g), ==,
                     XEN_GUEST_GNTTAB_ENTRIES);
    /* Start from one page, then grow in place and out of the room. */
    g_assert_cmpint(xen_guest_grant_table_resize(e.g, 512), ==, 0);
    xen_netfront_init(&nf, e.g, -1);
    size0 = xen_guest_grant_table_size(e.g);
    g_assert_cmpuint(size0, ==, 512);
    page = xen_guest_alloc_pages(e.g, 1);
    n = size0 * 64;
    refs = g_new(grant_ref_t, n);
    for (i = 0; i < n; i++) {
        refs[i] = xen_guest_grant(e.g, page, nf.dev.backend_id, true);
    }
    g_assert_cmpuint(xen_guest_grant_table_size(e.g), >=, n);
    /* The ring refs were made first, in the first table. */
    g_assert_cmpuint(nf.tx_ring_ref, <, size0);
    tx_ref = xen_guest_grant(e.g, nf.tx_ring_gpa, nf.dev.backend_id, false);
    rx_ref = xen_guest_grant(e.g, nf.rx_ring_gpa, nf.dev.backend_id, false);
    g_assert_cmpuint(rx_ref, >=, n);

    /* The backend maps an old ref and a new one. */
    xen_netfront_publish(&nf, nf.tx_ring_ref, rx_ref, nf.port);
    g_assert_cmpint(xen_netfront_wait_backend(&nf, NULL,
                                              XEN_GUEST_TIMEOUT_MS), ==,
                    XenbusStateConnected);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-live-maps"), ==, 2);
    xen_netfront_close(&nf);

    for (i = 0; i < n; i++) {
        g_assert_cmpint(xen_guest_end_grant(e.g, refs[i]), ==, 0);
    }
    g_assert_cmpint(xen_guest_end_grant(e.g, tx_ref), ==, 0);
    g_assert_cmpint(xen_guest_end_grant(e.g, rx_ref), ==, 0);
    g_assert_cmpuint(xen_guest_grants_in_use(e.g), ==, 0);
    xen_guest_free_pages(e.g, page, 1);
    g_free(refs);
    env_stop(&e);
}

/*
 * As on Xen, where the table grows by frames at any time, a guest can
 * grow its table while the backend has grants mapped (in place: mapped
 * entries do not move).
 */
static void test_grant_table_grows_while_mapped(void)
{
    TestEnv e;
    XenNetFront nf;
    unsigned int size;
    int ret;

    env_start(&e, true);
    g_assert_cmpint(xen_guest_grant_table_resize(e.g, 512), ==, 0);
    xen_netfront_init(&nf, e.g, -1);
    g_assert_cmpint(xen_netfront_connect(&nf, XEN_GUEST_TIMEOUT_MS), ==, 0);
    size = xen_guest_grant_table_size(e.g);
    ret = xen_guest_grant_table_resize(e.g, size * 2);
    g_assert_cmpint(ret, ==, 0);
    g_assert_cmpuint(xen_guest_grant_table_size(e.g), ==, size * 2);
    /* The mapped entries are still marked in the grown table. */
    g_assert_cmpint(xen_guest_end_grant(e.g, nf.tx_ring_ref), ==, -EBUSY);
    /* Moved out of its reserved room too, the table still works. */
    ret = xen_guest_grant_table_resize(e.g, XEN_GUEST_RESERVED_PAGES * 512);
    g_assert_cmpint(ret, ==, 0);
    g_assert_cmpint(xen_guest_end_grant(e.g, nf.rx_ring_ref), ==, -EBUSY);
    xen_netfront_close(&nf);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-live-maps"), ==, 0);
    env_stop(&e);
}

/*
 * Grant copy and multi-ref maps, through QEMU's stock xen-disk: it copies
 * request data with grant copy, and maps a multi-page ring (blkif's
 * ring-page-order) with one map call when the platform can.
 */

#define DISK_SIZE       (1024 * 1024)
#define SECT_PER_PAGE   (XEN_GUEST_PAGE_SIZE / 512)
#define BLK_SEGS        4

typedef struct BlkFront {
    XenGuestDevice dev;
    unsigned int nr_ring_pages;
    uint64_t ring_gpa[4];
    grant_ref_t ring_ref[4];
    evtchn_port_t port;
    XenGuestRing ring;
    uint64_t next_id;
} BlkFront;

static void blk_env_start(TestEnv *e, const char *sim_props)
{
    int fd;

    memset(e, 0, sizeof(*e));
    fd = g_file_open_tmp("xen-sim-disk-XXXXXX", &e->disk, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, DISK_SIZE), ==, 0);
    close(fd);
    e->unplug = "vbd0";
    e->qts = xen_guest_qemu_init(sim_props,
                                 "-blockdev driver=file,filename=%s,"
                                 "node-name=d0 -device xen-disk,id=vbd0,"
                                 "vdev=xvda,drive=d0", e->disk);
    e->g = xen_guest_new(e->qts, NULL, 0);
}

/* Find the disk and wait for its backend, as blkfront's probe does. */
static void blk_init(TestEnv *e, BlkFront *b)
{
    memset(b, 0, sizeof(*b));
    g_assert_cmpint(xen_guest_find_device(e->g, "vbd", -1, &b->dev), ==, 0);
    g_assert_cmpint(xen_guest_wait_state(e->g, b->dev.backend,
                                         XenbusStateInitWait,
                                         XEN_GUEST_TIMEOUT_MS), ==, 0);
}

static int blk_backend_uint(TestEnv *e, BlkFront *b, const char *key,
                            unsigned int *val)
{
    g_autofree char *path = g_strdup_printf("%s/%s", b->dev.backend, key);

    return xen_guest_xs_read_uint(e->g, 0, path, val);
}

/*
 * Connect with a ring of 1 << @order pages, each with a free page after
 * it so that they are not contiguous in guest memory.  Returns the
 * state the backend settled in.
 */
static int blk_connect(TestEnv *e, BlkFront *b, unsigned int order)
{
    XenGuest *g = e->g;
    uint64_t spacer[4];
    unsigned int i;
    uint32_t tx;
    char *path;
    int ret;

    b->nr_ring_pages = 1u << order;
    g_assert_cmpuint(b->nr_ring_pages, <=, ARRAY_SIZE(b->ring_gpa));
    for (i = 0; i < b->nr_ring_pages; i++) {
        b->ring_gpa[i] = xen_guest_alloc_pages(g, 1);
        spacer[i] = xen_guest_alloc_pages(g, 1);
    }
    for (i = 0; i < b->nr_ring_pages; i++) {
        xen_guest_free_pages(g, spacer[i], 1);
    }
    xen_guest_ring_init_pages(g, &b->ring, b->ring_gpa, b->nr_ring_pages,
                              sizeof(union blkif_sring_entry));
    for (i = 0; i < b->nr_ring_pages; i++) {
        b->ring_ref[i] = xen_guest_grant(g, b->ring_gpa[i],
                                         b->dev.backend_id, false);
    }
    g_assert_cmpint(xen_guest_evtchn_alloc_unbound(g, b->dev.backend_id,
                                                   &b->port), ==, 0);

    do {
        g_assert_cmpint(xen_guest_xs_transaction_start(g, &tx), ==, 0);
        if (order) {
            path = g_strdup_printf("%s/ring-page-order", b->dev.frontend);
            g_assert_cmpint(xen_guest_xs_printf(g, tx, path, "%u", order),
                            ==, 0);
            g_free(path);
        }
        for (i = 0; i < b->nr_ring_pages; i++) {
            if (order) {
                path = g_strdup_printf("%s/ring-ref%u", b->dev.frontend, i);
            } else {
                path = g_strdup_printf("%s/ring-ref", b->dev.frontend);
            }
            g_assert_cmpint(xen_guest_xs_printf(g, tx, path, "%u",
                                                b->ring_ref[i]), ==, 0);
            g_free(path);
        }
        path = g_strdup_printf("%s/event-channel", b->dev.frontend);
        g_assert_cmpint(xen_guest_xs_printf(g, tx, path, "%u", b->port), ==,
                        0);
        g_free(path);
        path = g_strdup_printf("%s/protocol", b->dev.frontend);
        g_assert_cmpint(xen_guest_xs_write(g, tx, path, "x86_64-abi"), ==, 0);
        g_free(path);
        ret = xen_guest_xs_transaction_end(g, tx, false);
    } while (ret == -EAGAIN);
    g_assert_cmpint(ret, ==, 0);

    /* As blkfront: Initialised, then Connected once the backend is. */
    g_assert_cmpint(xen_guest_set_state(g, b->dev.frontend,
                                        XenbusStateInitialised), ==, 0);
    ret = xen_guest_wait_state_mask(g, b->dev.backend,
                                    XEN_GUEST_STATE_BIT(XenbusStateConnected) |
                                    XEN_GUEST_STATE_BIT(XenbusStateClosing) |
                                    XEN_GUEST_STATE_BIT(XenbusStateClosed),
                                    NULL, XEN_GUEST_TIMEOUT_MS);
    if (ret == XenbusStateConnected) {
        g_assert_cmpint(xen_guest_set_state(g, b->dev.frontend,
                                            XenbusStateConnected), ==, 0);
    }
    return ret;
}

/* One read or write of @nseg whole pages at @sector; the response status */
static int blk_rw(TestEnv *e, BlkFront *b, uint8_t op, uint64_t sector,
                  const grant_ref_t *refs, unsigned int nseg)
{
    blkif_request_t req = { 0 };
    blkif_response_t rsp;
    unsigned int i;

    req.operation = op;
    req.nr_segments = nseg;
    req.id = ++b->next_id;
    req.sector_number = sector;
    for (i = 0; i < nseg; i++) {
        req.seg[i].gref = refs[i];
        req.seg[i].first_sect = 0;
        req.seg[i].last_sect = SECT_PER_PAGE - 1;
    }
    xen_guest_ring_put_request(e->g, &b->ring, &req, sizeof(req));
    if (xen_guest_ring_push_requests(e->g, &b->ring)) {
        xen_guest_evtchn_notify(e->g, b->port);
    }
    while (!xen_guest_ring_get_response(e->g, &b->ring, &rsp, sizeof(rsp))) {
        if (!xen_guest_ring_final_check_for_responses(e->g, &b->ring) &&
            !xen_guest_wait_event(e->g, b->port, XEN_GUEST_TIMEOUT_MS)) {
            g_error("xen-disk: no response to request %" PRIu64, req.id);
        }
    }
    g_assert_cmpuint(rsp.id, ==, req.id);
    g_assert_cmpuint(rsp.operation, ==, op);
    return rsp.status;
}

static void blk_close(TestEnv *e, BlkFront *b)
{
    unsigned int i;

    g_assert_cmpint(xen_guest_device_close(e->g, &b->dev,
                                           XEN_GUEST_TIMEOUT_MS), ==, 0);
    for (i = 0; i < b->nr_ring_pages; i++) {
        g_assert_cmpint(xen_guest_end_grant(e->g, b->ring_ref[i]), ==, 0);
        xen_guest_free_pages(e->g, b->ring_gpa[i], 1);
    }
    if (b->port) {
        g_assert_cmpint(xen_guest_evtchn_close(e->g, b->port), ==, 0);
    }
    xen_guest_device_cleanup(&b->dev);
}

static void fill_pattern(uint8_t *buf, size_t len, unsigned int seed)
{
    size_t i;

    for (i = 0; i < len; i++) {
        buf[i] = (uint8_t)(seed * 13 + i * 7 + (i >> 9));
    }
}

/*
 * Write pages to the disk and read them back: the data crosses the
 * platform by grant copy, both ways, and lands in the image file.
 */
static void blk_write_read(TestEnv *e, BlkFront *b, uint64_t sector,
                           unsigned int seed)
{
    size_t len = BLK_SEGS * XEN_GUEST_PAGE_SIZE;
    g_autofree uint8_t *data = g_malloc(len), *back = g_malloc(len);
    grant_ref_t refs[BLK_SEGS];
    uint64_t wpages, rpages, copies;
    unsigned int i;
    int fd;

    fill_pattern(data, len, seed);
    wpages = xen_guest_alloc_pages(e->g, BLK_SEGS);
    rpages = xen_guest_alloc_pages(e->g, BLK_SEGS);
    xen_guest_memwrite(e->g, wpages, data, len);
    copies = xen_guest_sim_stat(e->g, "grant-copies");

    for (i = 0; i < BLK_SEGS; i++) {
        refs[i] = xen_guest_grant(e->g, wpages + i * XEN_GUEST_PAGE_SIZE,
                                  b->dev.backend_id, true);
    }
    g_assert_cmpint(blk_rw(e, b, BLKIF_OP_WRITE, sector, refs, BLK_SEGS), ==,
                    BLKIF_RSP_OKAY);
    for (i = 0; i < BLK_SEGS; i++) {
        /* A copy does not hold the grant. */
        g_assert_cmpint(xen_guest_end_grant(e->g, refs[i]), ==, 0);
    }
    g_assert_cmpuint(xen_guest_sim_stat(e->g, "grant-copies"), ==,
                     copies + BLK_SEGS);

    fd = open(e->disk, O_RDONLY);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pread(fd, back, len, sector * 512), ==, len);
    close(fd);
    g_assert_cmpmem(back, len, data, len);

    for (i = 0; i < BLK_SEGS; i++) {
        refs[i] = xen_guest_grant(e->g, rpages + i * XEN_GUEST_PAGE_SIZE,
                                  b->dev.backend_id, false);
    }
    g_assert_cmpint(blk_rw(e, b, BLKIF_OP_READ, sector, refs, BLK_SEGS), ==,
                    BLKIF_RSP_OKAY);
    for (i = 0; i < BLK_SEGS; i++) {
        g_assert_cmpint(xen_guest_end_grant(e->g, refs[i]), ==, 0);
    }
    g_assert_cmpuint(xen_guest_sim_stat(e->g, "grant-copies"), ==,
                     copies + 2 * BLK_SEGS);
    memset(back, 0, len);
    xen_guest_memread(e->g, rpages, back, len);
    g_assert_cmpmem(back, len, data, len);

    xen_guest_free_pages(e->g, wpages, BLK_SEGS);
    xen_guest_free_pages(e->g, rpages, BLK_SEGS);
}

static void test_grant_copy_write_read(const void *data)
{
    TestEnv e;
    BlkFront b;

    blk_env_start(&e, data);
    blk_init(&e, &b);
    g_assert_cmpint(blk_connect(&e, &b, 0), ==, XenbusStateConnected);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-live-maps"), ==, 1);
    blk_write_read(&e, &b, 16, 1);
    blk_write_read(&e, &b, 200, 2);
    /* Only the ring is mapped: data moves by copy. */
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-maps"), ==, 1);
    blk_close(&e, &b);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-live-maps"), ==, 0);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "evtchn-bound"), ==, 0);
    env_stop(&e);
}

typedef enum BadCopy {
    BAD_COPY_REVOKED,           /* write from a revoked grant */
    BAD_COPY_WRONG_DOMID,       /* write from a grant to another domain */
    BAD_COPY_READONLY,          /* read into a read-only grant */
    BAD_COPY_OUT_OF_RANGE,      /* write from a ref beyond the table */
} BadCopy;

static void test_grant_copy_refused(const void *data)
{
    BadCopy kind = GPOINTER_TO_INT(data);
    TestEnv e;
    BlkFront b;
    uint64_t page, refusals;
    grant_ref_t ref;
    uint8_t op = BLKIF_OP_WRITE;
    int fd;
    g_autofree uint8_t *buf = g_malloc0(XEN_GUEST_PAGE_SIZE);
    g_autofree uint8_t *zero = g_malloc0(XEN_GUEST_PAGE_SIZE);

    blk_env_start(&e, NULL);
    blk_init(&e, &b);
    g_assert_cmpint(blk_connect(&e, &b, 0), ==, XenbusStateConnected);
    page = xen_guest_alloc_pages(e.g, 1);
    xen_guest_memset(e.g, page, 0xa5, XEN_GUEST_PAGE_SIZE);
    switch (kind) {
    case BAD_COPY_REVOKED:
        ref = xen_guest_grant(e.g, page, b.dev.backend_id, true);
        g_assert_cmpint(xen_guest_end_grant(e.g, ref), ==, 0);
        g_assert_cmpuint(xen_guest_grant_alloc_ref(e.g), ==, ref);
        break;
    case BAD_COPY_WRONG_DOMID:
        ref = xen_guest_grant(e.g, page, b.dev.backend_id + 7, true);
        break;
    case BAD_COPY_READONLY:
        ref = xen_guest_grant(e.g, page, b.dev.backend_id, true);
        op = BLKIF_OP_READ;
        break;
    case BAD_COPY_OUT_OF_RANGE:
        ref = xen_guest_grant_table_size(e.g) + 3;
        break;
    default:
        g_assert_not_reached();
    }
    refusals = xen_guest_sim_stat(e.g, "grant-refusals");

    g_assert_cmpint(blk_rw(&e, &b, op, 8, &ref, 1), ==, BLKIF_RSP_ERROR);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-refusals"), ==,
                     refusals + 1);
    assert_qemu_alive(&e);
    if (op == BLKIF_OP_READ) {
        /* Nothing was written into the read-only page. */
        xen_guest_memread(e.g, page, buf, XEN_GUEST_PAGE_SIZE);
        memset(zero, 0xa5, XEN_GUEST_PAGE_SIZE);
    } else {
        /* Nothing reached the disk. */
        fd = open(e.disk, O_RDONLY);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(pread(fd, buf, XEN_GUEST_PAGE_SIZE, 8 * 512), ==,
                        XEN_GUEST_PAGE_SIZE);
        close(fd);
    }
    g_assert_cmpmem(buf, XEN_GUEST_PAGE_SIZE, zero, XEN_GUEST_PAGE_SIZE);

    /* The device still works. */
    blk_write_read(&e, &b, 8, 3);
    switch (kind) {
    case BAD_COPY_REVOKED:
        xen_guest_grant_free_ref(e.g, ref);
        break;
    case BAD_COPY_WRONG_DOMID:
    case BAD_COPY_READONLY:
        g_assert_cmpint(xen_guest_end_grant(e.g, ref), ==, 0);
        break;
    case BAD_COPY_OUT_OF_RANGE:
        break;
    }
    xen_guest_free_pages(e.g, page, 1);
    blk_close(&e, &b);
    env_stop(&e);
}

/*
 * grant-map=multi: the backend is offered multi-ref maps and maps a ring
 * of four discontiguous guest pages in one call.
 */
static void test_grant_multi_map_ring(void)
{
    TestEnv e;
    BlkFront b;
    unsigned int max_order, i;

    blk_env_start(&e, "grant-map=multi");
    blk_init(&e, &b);
    g_assert_cmpint(blk_backend_uint(&e, &b, "max-ring-page-order",
                                     &max_order), ==, 0);
    g_assert_cmpuint(max_order, >=, 2);
    g_assert_cmpint(blk_connect(&e, &b, 2), ==, XenbusStateConnected);
    g_assert_cmpuint(b.ring.nr_ents, ==,
                     __CONST_RING_SIZE(blkif, 4 * XEN_GUEST_PAGE_SIZE));
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-live-maps"), ==, 4);
    /* Enough requests to go round the ring, across its page borders. */
    for (i = 0; i < 70; i++) {
        blk_write_read(&e, &b, 8 * i, i);
    }
    blk_close(&e, &b);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-live-maps"), ==, 0);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-unmaps"), ==, 4);
    env_stop(&e);
}

/*
 * grant-map=single models QEMU's Xen-on-KVM emulation, which cannot map
 * several refs in one call and says so: backends must not offer
 * multi-page rings (xen-disk's max-ring-page-order).
 */
static void test_grant_single_offers_no_multi_map(void)
{
    TestEnv e;
    BlkFront b;
    unsigned int max_order;
    int ret;

    blk_env_start(&e, "grant-map=single");
    blk_init(&e, &b);
    ret = blk_backend_uint(&e, &b, "max-ring-page-order", &max_order);
    g_assert_cmpint(ret, ==, -ENOENT);
    g_assert_cmpint(blk_connect(&e, &b, 0), ==, XenbusStateConnected);
    blk_write_read(&e, &b, 8, 4);
    blk_close(&e, &b);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-live-maps"), ==, 0);
    env_stop(&e);
}

/*
 * Event channels
 */

typedef enum BadPort {
    BAD_PORT_UNALLOCATED,
    BAD_PORT_CLOSED,
    BAD_PORT_OTHER_REMOTE,
} BadPort;

static void test_evtchn_bind_refused(const void *data)
{
    BadPort kind = GPOINTER_TO_INT(data);
    TestEnv e;
    XenNetFront nf;
    evtchn_port_t port = 0;

    env_start(&e, true);
    xen_netfront_init(&nf, e.g, -1);
    switch (kind) {
    case BAD_PORT_UNALLOCATED:
        port = nf.port + 10;
        break;
    case BAD_PORT_CLOSED:
        g_assert_cmpint(xen_guest_evtchn_alloc_unbound(e.g, nf.dev.backend_id,
                                                       &port), ==, 0);
        g_assert_cmpint(xen_guest_evtchn_close(e.g, port), ==, 0);
        break;
    case BAD_PORT_OTHER_REMOTE:
        g_assert_cmpint(xen_guest_evtchn_alloc_unbound(e.g,
                                                       nf.dev.backend_id + 7,
                                                       &port), ==, 0);
        break;
    }
    g_assert_cmpuint(port, !=, nf.port);

    xen_netfront_publish(&nf, nf.tx_ring_ref, nf.rx_ring_ref, port);
    expect_refused(&e, &nf);

    xen_netfront_close(&nf);
    if (kind == BAD_PORT_OTHER_REMOTE) {
        g_assert_cmpint(xen_guest_evtchn_close(e.g, port), ==, 0);
    }
    env_stop(&e);
}

static void test_evtchn_send_unallocated_einval(void)
{
    TestEnv e;
    evtchn_port_t port;

    env_start(&e, false);
    g_assert_cmpint(xen_guest_evtchn_alloc_unbound(e.g, 0, &port), ==, 0);
    g_assert_cmpint(xen_guest_evtchn_send(e.g, port + 1), ==, -EINVAL);
    g_assert_cmpint(xen_guest_evtchn_send(e.g, 0), ==, -EINVAL);
    g_assert_cmpint(xen_guest_evtchn_send(e.g, 1u << 20), ==, -EINVAL);
    /* The doorbell has no status; it must not hurt QEMU either. */
    xen_guest_evtchn_notify(e.g, port + 1);
    xen_guest_evtchn_notify(e.g, 1u << 20);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "evtchn-notify-backend"), ==, 0);
    env_stop(&e);
}

static void test_evtchn_send_closed_einval(void)
{
    TestEnv e;
    XenNetFront nf;

    env_start(&e, true);
    xen_netfront_init(&nf, e.g, -1);
    g_assert_cmpint(xen_netfront_connect(&nf, XEN_GUEST_TIMEOUT_MS), ==, 0);
    g_assert_cmpint(xen_guest_evtchn_send(e.g, nf.port), ==, 0);
    xen_netfront_close(&nf);
    /* Closed by xen_netfront_close(). */
    g_assert_cmpint(xen_guest_evtchn_send(e.g, nf.port), ==, -EINVAL);
    g_assert_cmpint(xen_guest_evtchn_close(e.g, nf.port), ==, -EINVAL);
    env_stop(&e);
}

/* As Xen: a send on a port that nobody has bound yet is dropped. */
static void test_evtchn_send_unbound_dropped(void)
{
    TestEnv e;
    evtchn_port_t port;

    env_start(&e, false);
    g_assert_cmpint(xen_guest_evtchn_alloc_unbound(e.g, 0, &port), ==, 0);
    g_assert_cmpint(xen_guest_evtchn_send(e.g, port), ==, 0);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "evtchn-notify-backend"), ==, 0);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "evtchn-bound"), ==, 0);
    g_assert_cmpint(xen_guest_evtchn_close(e.g, port), ==, 0);
    env_stop(&e);
}

/*
 * Closing the guest's end of a bound channel unbinds it.  As on Xen, the
 * backend's port stays allocated (unbound) until the backend closes it,
 * so the backend's later unbind succeeds and the device still closes.
 */
static void test_evtchn_guest_close_unbinds(void)
{
    TestEnv e;
    XenNetFront nf;
    uint64_t sent;
    int ret;

    env_start(&e, true);
    xen_netfront_init(&nf, e.g, -1);
    g_assert_cmpint(xen_netfront_connect(&nf, XEN_GUEST_TIMEOUT_MS), ==, 0);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "evtchn-bound"), ==, 1);
    sent = xen_guest_sim_stat(e.g, "evtchn-notify-backend");
    g_assert_cmpint(xen_guest_evtchn_send(e.g, nf.port), ==, 0);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "evtchn-notify-backend"), ==,
                     sent + 1);
    g_assert_cmpint(xen_guest_evtchn_close(e.g, nf.port), ==, 0);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "evtchn-bound"), ==, 0);
    g_assert_cmpint(xen_guest_evtchn_send(e.g, nf.port), ==, -EINVAL);
    assert_qemu_alive(&e);

    /* The device closes; its unbind of the dead channel must succeed. */
    ret = xen_guest_device_close(e.g, &nf.dev, XEN_GUEST_TIMEOUT_MS);
    g_assert_cmpint(ret, ==, 0);
    g_assert_cmpuint(xen_guest_sim_stat(e.g, "grant-live-maps"), ==, 0);
    g_assert_cmpint(xen_guest_end_grant(e.g, nf.tx_ring_ref), ==, 0);
    g_assert_cmpint(xen_guest_end_grant(e.g, nf.rx_ring_ref), ==, 0);
    xen_guest_device_cleanup(&nf.dev);
    env_stop(&e);
}

static const struct {
    const char *name;
    BadGrantCase c;
} grant_cases[] = {
    { "wrong-domid-tx-ring", { BAD_GRANT_WRONG_DOMID, false } },
    { "wrong-domid-rx-ring", { BAD_GRANT_WRONG_DOMID, true } },
    { "revoked-tx-ring", { BAD_GRANT_REVOKED, false } },
    { "revoked-rx-ring", { BAD_GRANT_REVOKED, true } },
    { "readonly-tx-ring", { BAD_GRANT_READONLY, false } },
    { "readonly-rx-ring", { BAD_GRANT_READONLY, true } },
    { "out-of-range-tx-ring", { BAD_GRANT_OUT_OF_RANGE, false } },
    { "out-of-range-rx-ring", { BAD_GRANT_OUT_OF_RANGE, true } },
};

int main(int argc, char **argv)
{
    size_t i;

    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/xen-sim/xenstore/own-tree-read-write",
                   test_xs_own_tree);
    qtest_add_func("/xen-sim/xenstore/read-missing-enoent",
                   test_xs_read_missing_enoent);
    qtest_add_func("/xen-sim/xenstore/backend-path-write-eacces",
                   test_xs_backend_write_eacces);
    qtest_add_func("/xen-sim/xenstore/toolstack-scope",
                   test_xs_toolstack_scope);
    qtest_add_func("/xen-sim/xenstore/other-domain-eacces",
                   test_xs_other_domain_eacces);
    qtest_add_func("/xen-sim/xenstore/transaction-commit",
                   test_xs_transaction_commit);
    qtest_add_func("/xen-sim/xenstore/transaction-abort",
                   test_xs_transaction_abort);
    qtest_add_func("/xen-sim/xenstore/transaction-conflict-eagain",
                   test_xs_transaction_conflict_eagain);
    qtest_add_func("/xen-sim/xenstore/watch-path-token",
                   test_xs_watch_path_token);
    qtest_add_func("/xen-sim/xenstore/watch-relative-path",
                   test_xs_watch_relative_path);
    qtest_add_func("/xen-sim/xenstore/unwatch-second-watch-on-path",
                   test_xs_unwatch_second_on_path);
    qtest_add_func("/xen-sim/xenstore/watch-fires-on-commit",
                   test_xs_watch_fires_on_commit);

    for (i = 0; i < G_N_ELEMENTS(grant_cases); i++) {
        g_autofree char *name = g_strdup_printf("/xen-sim/grant/refused/%s",
                                                grant_cases[i].name);

        qtest_add_data_func(name, &grant_cases[i].c, test_grant_refused);
    }
    qtest_add_func("/xen-sim/grant/end-while-mapped-busy",
                   test_grant_end_while_mapped_busy);
    qtest_add_func("/xen-sim/grant/table-grows",
                   test_grant_table_grows);
    qtest_add_func("/xen-sim/grant/table-grows-while-mapped",
                   test_grant_table_grows_while_mapped);
    qtest_add_data_func("/xen-sim/grant/copy/xen-disk-write-read-multi",
                        "grant-map=multi", test_grant_copy_write_read);
    qtest_add_data_func("/xen-sim/grant/copy/xen-disk-write-read-single",
                        "grant-map=single", test_grant_copy_write_read);
    qtest_add_data_func("/xen-sim/grant/copy/refused/revoked",
                        GINT_TO_POINTER(BAD_COPY_REVOKED),
                        test_grant_copy_refused);
    qtest_add_data_func("/xen-sim/grant/copy/refused/wrong-domid",
                        GINT_TO_POINTER(BAD_COPY_WRONG_DOMID),
                        test_grant_copy_refused);
    qtest_add_data_func("/xen-sim/grant/copy/refused/readonly-destination",
                        GINT_TO_POINTER(BAD_COPY_READONLY),
                        test_grant_copy_refused);
    qtest_add_data_func("/xen-sim/grant/copy/refused/out-of-range",
                        GINT_TO_POINTER(BAD_COPY_OUT_OF_RANGE),
                        test_grant_copy_refused);
    qtest_add_func("/xen-sim/grant/multi-map/xen-disk-4-page-ring",
                   test_grant_multi_map_ring);
    qtest_add_func("/xen-sim/grant/single-map/no-multi-page-ring-offer",
                   test_grant_single_offers_no_multi_map);

    qtest_add_data_func("/xen-sim/evtchn/bind-refused/unallocated-port",
                        GINT_TO_POINTER(BAD_PORT_UNALLOCATED),
                        test_evtchn_bind_refused);
    qtest_add_data_func("/xen-sim/evtchn/bind-refused/closed-port",
                        GINT_TO_POINTER(BAD_PORT_CLOSED),
                        test_evtchn_bind_refused);
    qtest_add_data_func("/xen-sim/evtchn/bind-refused/other-remote-domid",
                        GINT_TO_POINTER(BAD_PORT_OTHER_REMOTE),
                        test_evtchn_bind_refused);
    qtest_add_func("/xen-sim/evtchn/send-unallocated-einval",
                   test_evtchn_send_unallocated_einval);
    qtest_add_func("/xen-sim/evtchn/send-closed-einval",
                   test_evtchn_send_closed_einval);
    qtest_add_func("/xen-sim/evtchn/send-unbound-dropped",
                   test_evtchn_send_unbound_dropped);
    qtest_add_func("/xen-sim/evtchn/guest-close-unbinds",
                   test_evtchn_guest_close_unbinds);
    return g_test_run();
}
