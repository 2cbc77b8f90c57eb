/*
 * qtest: xen-bus devices on the bus's shared Xen handles
 *
 * With -global xen-bridge.shared-handles=on the bus opens one grant-table
 * and one event-channel handle when it is realized, and its devices use
 * those and the bus's xenstore connection instead of opening their own,
 * so that a QEMU that dropped its privileges (-run-with user=) can still
 * serve the devices the toolstack adds later.  The bus then hands each
 * event to the channel it is for, in the main loop: a device that asks
 * for an iothread is refused rather than left without its events.
 *
 * The whole xen-net-accel qtest runs again on shared handles (the events
 * of its control channel and of each VI's channel on one handle); this
 * test covers what is particular to the bus.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "tests/qtest/libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "hw/xen/interface/io/xenbus.h"
#include "libqos/xen-guest.h"

#define WAIT_MS         10000

static const char *shared_on = "-global xen-bridge.shared-handles=on";

static char *net_add(QTestState *qts, XenGuest *g, int idx)
{
    g_autofree char *id = g_strdup_printf("xna%d", idx);
    g_autofree char *mac = g_strdup_printf("00:16:3e:00:00:0%d", idx + 1);

    qtest_qmp_device_add(qts, "xen-net-accel", id,
                         "{'idx': %d, 'nic': 'loopback', 'mac': %s}",
                         idx, mac);
    return g_strdup_printf("/local/domain/0/backend/qnetaccel/%u/%d",
                           xen_guest_domid(g), idx);
}

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
 * Devices added after start use the bus's handles: both come up, and the
 * removal of one (which must not close what it shares) leaves the other,
 * and a device added after it, working.
 */
static void test_devices_share(void)
{
    QTestState *qts = xen_guest_qemu_init(NULL, "%s", shared_on);
    XenGuest *g = xen_guest_new(qts, NULL, 0);
    g_autofree char *be0 = net_add(qts, g, 0);
    g_autofree char *be1 = net_add(qts, g, 1);
    g_autofree char *be2 = NULL;

    g_assert_cmpint(xen_guest_wait_state(g, be0, XenbusStateInitWait,
                                         WAIT_MS), ==, 0);
    g_assert_cmpint(xen_guest_wait_state(g, be1, XenbusStateInitWait,
                                         WAIT_MS), ==, 0);

    device_del_bounded(qts, "xna0");
    be2 = net_add(qts, g, 2);
    g_assert_cmpint(xen_guest_wait_state(g, be2, XenbusStateInitWait,
                                         WAIT_MS), ==, 0);
    g_assert_cmpint(xen_guest_read_state(g, be1), ==, XenbusStateInitWait);
    device_del_bounded(qts, "xna1");
    device_del_bounded(qts, "xna2");

    xen_guest_free(g);
    qtest_quit(qts);
}

/*
 * Whether the bus of a QEMU started with @args opened shared handles: its
 * trace event, in the log QEMU writes.
 */
static bool bus_shares(const char *args)
{
    g_autofree char *log = NULL;
    g_autofree char *text = NULL;
    QTestState *qts;
    int fd = g_file_open_tmp("xen-bus-shared-XXXXXX", &log, NULL);

    g_assert(fd >= 0);
    close(fd);
    qts = xen_guest_qemu_init(NULL, "-trace xen_bus_shared_handles -D %s %s",
                              log, args);
    qtest_quit(qts);
    g_assert(g_file_get_contents(log, &text, NULL, NULL));
    unlink(log);
    return strstr(text, "xen_bus_shared_handles") != NULL;
}

/* The bus shares its handles when told to, and only then. */
static void test_only_when_asked(void)
{
    g_assert(bus_shares(shared_on));
    g_assert(!bus_shares(""));
    g_assert(!bus_shares("-global xen-bridge.shared-handles=off"));
}

static QDict *disk_add_with_iothread(QTestState *qts)
{
    return qtest_qmp(qts, "{ 'execute': 'device_add', 'arguments': {"
                     " 'driver': 'xen-disk', 'id': 'd0', 'vdev': 'xvda',"
                     " 'drive': 'dr0', 'iothread': 'io0' } }");
}

static const char *disk_args = "-object iothread,id=io0 "
                               "-blockdev driver=null-co,node-name=dr0";

/* An iothread is refused on shared handles, as it is taken without. */
static void test_iothread_refused(void)
{
    QTestState *qts = xen_guest_qemu_init(NULL, "%s %s", shared_on,
                                          disk_args);
    QDict *resp = disk_add_with_iothread(qts);
    QDict *err = qdict_get_qdict(resp, "error");

    g_assert(err);
    g_assert(strstr(qdict_get_str(err, "desc"),
                    "iothread is not supported with "
                    "xen-bridge.shared-handles=on"));
    qobject_unref(resp);
    qtest_quit(qts);

    qts = xen_guest_qemu_init(NULL, "%s", disk_args);
    resp = disk_add_with_iothread(qts);
    g_assert(qdict_haskey(resp, "return"));
    qobject_unref(resp);
    qtest_quit(qts);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/xen-bus/shared-handles/only-when-asked",
                   test_only_when_asked);
    qtest_add_func("/xen-bus/shared-handles/devices-share",
                   test_devices_share);
    qtest_add_func("/xen-bus/shared-handles/iothread-refused",
                   test_iothread_refused);
    return g_test_run();
}
