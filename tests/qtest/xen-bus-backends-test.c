/*
 * qtest: a backend QEMU serves only the backend types it is told to
 *
 * On a Xen host a QEMU of the toolstack's (a PV domain's qdisk backend,
 * an HVM domain's device model) may already serve a domain when a second
 * QEMU attaches to it for other backends, as xen-net-accel's hotplug
 * script does.  By default xen-bus creates a device for every backend
 * directory of a type it knows, so both QEMUs would take the toolstack's
 * disks and keyboards.  With -global xen-bridge.backends=TYPE[:TYPE...]
 * only those types are served from xenstore, and legacy backends not
 * named do not even announce themselves under device-model/<domid>; a
 * type this QEMU does not have is refused.
 *
 * The QEMUs run on the xen-sim platform; the test writes backend
 * directories as the toolstack does.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "tests/qtest/libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "hw/xen/interface/io/xenbus.h"
#include "libqos/xen-guest.h"

#define GUEST_MAC       "00:16:3e:00:00:01"
#define WAIT_MS         10000

typedef struct BackendsEnv {
    QTestState *qts;
    XenGuest *g;
} BackendsEnv;

static void env_start(BackendsEnv *e, const char *backends)
{
    g_autofree char *global = NULL;

    if (backends) {
        global = g_strdup_printf("-global xen-bridge.backends=%s", backends);
    }
    e->qts = xen_guest_qemu_init(NULL, "%s", global ? global : "");
    e->g = xen_guest_new(e->qts, NULL, 0);
}

static void env_stop(BackendsEnv *e)
{
    QDict *resp = qtest_qmp(e->qts, "{ 'execute': 'query-status' }");

    g_assert(qdict_haskey(resp, "return"));
    qobject_unref(resp);
    xen_guest_free(e->g);
    qtest_quit(e->qts);
}

/* Device 0 of backend @type for the guest, as the toolstack writes it. */
static char *toolstack_backend(BackendsEnv *e, const char *type,
                               const char *fe_type, const char *nic)
{
    const char *keys[] = { "mac", GUEST_MAC, "nic", nic, NULL };

    return xen_guest_toolstack_backend(e->g, type, fe_type, "0", keys);
}

/* Whether QEMU announced legacy backend @type under device-model/<domid>. */
static bool legacy_announced(BackendsEnv *e, const char *type)
{
    g_autofree char *path = g_strdup_printf(
        "/local/domain/0/device-model/%u/backends/%s", xen_guest_domid(e->g),
        type);
    const char *perms[] = { "n0", NULL };
    int ret = xen_guest_toolstack_set_perms(e->g, path, perms);

    g_assert(ret == 0 || ret == -ENOENT);
    return ret == 0;
}

/*
 * The default, unchanged: every type this QEMU has is served, our own
 * (qnetaccel) and QEMU's stock NIC (qnic) alike, and the legacy keyboard
 * backend announces itself.  The control for the next case.
 */
static void test_all_by_default(void)
{
    g_autofree char *qnic = NULL;
    g_autofree char *ours = NULL;
    BackendsEnv e;

    env_start(&e, NULL);
    qnic = toolstack_backend(&e, "qnic", "vif", NULL);
    ours = toolstack_backend(&e, "qnetaccel", "netaccel", "loopback");
    g_assert_cmpint(xen_guest_wait_state(e.g, ours, XenbusStateInitWait,
                                         WAIT_MS), ==, 0);
    g_assert_cmpint(xen_guest_wait_state(e.g, qnic, XenbusStateInitWait,
                                         WAIT_MS), ==, 0);
    g_assert(legacy_announced(&e, "vkbd"));
    env_stop(&e);
}

/*
 * backends=qnetaccel: the qnic directory, written first, is left alone
 * (no device, no frontend), although the enumeration that served the
 * qnetaccel one saw it; no legacy backend is announced.
 */
static void test_only_named(void)
{
    g_autofree char *qnic = NULL;
    g_autofree char *ours = NULL;
    g_autofree char *fe = NULL;
    g_autofree char *val = NULL;
    BackendsEnv e;

    env_start(&e, "qnetaccel");
    qnic = toolstack_backend(&e, "qnic", "vif", NULL);
    ours = toolstack_backend(&e, "qnetaccel", "netaccel", "loopback");
    g_assert_cmpint(xen_guest_wait_state(e.g, ours, XenbusStateInitWait,
                                         WAIT_MS), ==, 0);
    g_assert_cmpint(xen_guest_read_state(e.g, qnic), ==,
                    XenbusStateInitialising);
    fe = g_strdup_printf("%s/device/vif/0/state", xen_guest_home(e.g));
    g_assert_cmpint(xen_guest_xs_read(e.g, XEN_GUEST_XBT_NULL, fe, &val), ==,
                    -ENOENT);
    g_assert(!legacy_announced(&e, "vkbd"));
    env_stop(&e);
}

/* Whether /machine/peripheral has a device @id. */
static bool peripheral_has(QTestState *qts, const char *id)
{
    QDict *resp = qtest_qmp(qts, "{ 'execute': 'qom-list', 'arguments': "
                            "{ 'path': '/machine/peripheral' } }");
    QListEntry *entry;
    bool found = false;

    g_assert(qdict_haskey(resp, "return"));
    QLIST_FOREACH_ENTRY(qdict_get_qlist(resp, "return"), entry) {
        QDict *prop = qobject_to(QDict, qlist_entry_obj(entry));

        found |= !strcmp(qdict_get_str(prop, "name"), id);
    }
    qobject_unref(resp);
    return found;
}

/* device_del @id, and fail (not hang) if it is still there after WAIT_MS. */
static void device_del_bounded(QTestState *qts, const char *id)
{
    gint64 end = g_get_monotonic_time() + WAIT_MS * 1000;
    QDict *resp = qtest_qmp(qts, "{ 'execute': 'device_del', 'arguments': "
                            "{ 'id': %s } }", id);

    g_assert(qdict_haskey(resp, "return"));
    qobject_unref(resp);
    while (peripheral_has(qts, id)) {
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        g_usleep(10 * 1000);
    }
}

/*
 * backends= (empty): nothing is created from xenstore, but a device added
 * by the management layer is served, as xen-net-accel's hotplug script
 * adds it, and unplugged.
 */
static void test_none_device_add(void)
{
    g_autofree char *ours = NULL;
    g_autofree char *added = NULL;
    BackendsEnv e;

    env_start(&e, "");
    ours = toolstack_backend(&e, "qnetaccel", "netaccel", "loopback");
    qtest_qmp_device_add(e.qts, "xen-net-accel", "xna1",
                         "{'idx': 1, 'nic': 'loopback', 'mac': '"
                         GUEST_MAC "'}");
    added = g_strdup_printf("/local/domain/0/backend/qnetaccel/%u/1",
                            xen_guest_domid(e.g));
    g_assert_cmpint(xen_guest_wait_state(e.g, added, XenbusStateInitWait,
                                         WAIT_MS), ==, 0);
    g_assert_cmpint(xen_guest_read_state(e.g, ours), ==,
                    XenbusStateInitialising);
    g_assert(!legacy_announced(&e, "vkbd"));
    /*
     * Its type is not served, and unplug still completes: xen-bus ends a
     * device through its type's backend watch (once, unplug hung).
     */
    device_del_bounded(e.qts, "xna1");
    env_stop(&e);
}

/* backends=qnetaccel:vkbd: a legacy backend named is announced. */
static void test_legacy_named(void)
{
    BackendsEnv e;

    env_start(&e, "qnetaccel:vkbd");
    g_assert(legacy_announced(&e, "vkbd"));
    env_stop(&e);
}

/*
 * A type this QEMU does not have (a typo) stops QEMU at start with a
 * message, rather than leave it serving less than asked (once, the
 * failed realize crashed QEMU: xen-bus closed its xenstore handle twice).
 */
static void test_unknown_type_refused(void)
{
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");
    g_autofree char *err = NULL;
    int status;
    const char *argv[] = {
        qemu, "-nodefaults", "-display", "none", "-machine", "none",
        "-accel", "qtest", "-cpu", "qemu64,apic-id=0", "-device", "xen-sim",
        "-global", "xen-bridge.backends=qnetaccel:nosuch", NULL,
    };

    g_assert_nonnull(qemu);
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                               G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                               &err, &status, NULL));
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 1);
    g_assert_nonnull(strstr(err, "backend type 'nosuch' is not one this "
                            "QEMU has"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/xen-bus/backends/all-by-default", test_all_by_default);
    qtest_add_func("/xen-bus/backends/only-named", test_only_named);
    qtest_add_func("/xen-bus/backends/none-device-add", test_none_device_add);
    qtest_add_func("/xen-bus/backends/legacy-named", test_legacy_named);
    qtest_add_func("/xen-bus/backends/unknown-type-refused",
                   test_unknown_type_refused);
    return g_test_run();
}
