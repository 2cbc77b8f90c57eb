/*
 * qtest: the xen-net-accel device type is registered with its properties
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "tests/qtest/libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"

static const char *const expected_props[] = {
    "mac", "netdev", "nic", "idx", "vif", "max-vis", "max-filters",
    "tx-ring-size", "rx-ring-size", "max-pool-pages",
};

static bool list_has_name(QList *list, const char *name)
{
    const QListEntry *e;

    QLIST_FOREACH_ENTRY(list, e) {
        QDict *d = qobject_to(QDict, qlist_entry_obj(e));

        if (d && !g_strcmp0(qdict_get_try_str(d, "name"), name)) {
            return true;
        }
    }
    return false;
}

static void test_type_is_xen_device(void)
{
    QTestState *qts = qtest_init("-M none");
    QDict *resp;
    QList *types;

    resp = qtest_qmp(qts, "{ 'execute': 'qom-list-types', 'arguments': "
                     "{ 'implements': 'xen-device' } }");
    g_assert(qdict_haskey(resp, "return"));
    types = qdict_get_qlist(resp, "return");
    g_assert_true(list_has_name(types, "xen-net-accel"));
    g_assert_true(list_has_name(types, "xen-net-device"));
    qobject_unref(resp);
    qtest_quit(qts);
}

static void test_properties(void)
{
    QTestState *qts = qtest_init("-M none");
    QDict *resp;
    QList *props;
    size_t i;

    resp = qtest_qmp(qts, "{ 'execute': 'device-list-properties', "
                     "'arguments': { 'typename': 'xen-net-accel' } }");
    g_assert(qdict_haskey(resp, "return"));
    props = qdict_get_qlist(resp, "return");
    for (i = 0; i < G_N_ELEMENTS(expected_props); i++) {
        if (!list_has_name(props, expected_props[i])) {
            g_test_message("missing property %s", expected_props[i]);
            g_test_fail();
        }
    }
    qobject_unref(resp);
    qtest_quit(qts);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/xen-net-accel/type", test_type_is_xen_device);
    qtest_add_func("/xen-net-accel/properties", test_properties);
    return g_test_run();
}
