/*
 * xna-bench: backend instructions per packet, with callgrind
 *
 * There are no hardware counters on the machines this runs on, and
 * instruction counts are repeatable where times are not.  QEMU runs
 * under valgrind --tool=callgrind with collection off, switched on only
 * inside the functions through which the main loop enters a backend's
 * data path (--toggle-collect; none of them calls another, and each is
 * called through a pointer, so never inlined away):
 *
 *   net_event           the stock device's event channel handler
 *   xna_vi_event        xen-net-accel's, for a VI
 *   net_dgram_send      a frame from the -netdev peer into the device
 *   net_dgram_writable  the -netdev can take frames again
 *   xna_rx_bh, xna_tx_bh  xen-net-accel's bottom halves (RX delivery,
 *                       TX continuation, the loopback NIC's receive)
 *
 * Everything these call counts: the device, QEMU's net layer and the
 * xen-sim platform's grant and event channel work.  What the main loop
 * does around them (polling, timers, the qtest protocol that stands in
 * for the guest's hypercalls) does not.  callgrind_control zeroes the
 * counters before a timed pass and dumps them after; the dump's total
 * divided by the pass's packets is the figure.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "xna-bench.h"

static const char *const entry_points[] = {
    "net_event", "xna_vi_event", "net_dgram_send", "net_dgram_writable",
    "xna_rx_bh", "xna_tx_bh",
};

char *bench_cg_qemu_binary(const char *qemu, const char *dir)
{
    GString *s = g_string_new("valgrind --tool=callgrind -q "
                              "--collect-atstart=no --compress-strings=no ");
    unsigned int i;

    for (i = 0; i < G_N_ELEMENTS(entry_points); i++) {
        g_string_append_printf(s, "--toggle-collect=%s ", entry_points[i]);
    }
    g_string_append_printf(s, "--callgrind-out-file=%s/callgrind.%%p %s",
                           dir, qemu);
    return g_string_free(s, false);
}

static void control(BenchTarget *t, const char *op)
{
    QTestState *qts = xen_guest_qts(t->ops->guest(t->dev));
    g_autofree char *cmd = g_strdup_printf("callgrind_control %s %d", op,
                                           (int)qtest_pid(qts));
    g_autofree char *out = NULL;
    g_autoptr(GError) err = NULL;
    int status;

    if (!g_spawn_command_line_sync(cmd, &out, NULL, &status, &err) ||
        !g_spawn_check_exit_status(status, &err)) {
        g_error("%s: %s", cmd, err ? err->message : "failed");
    }
}

void bench_cg_zero(BenchTarget *t)
{
    control(t, "-z");
}

/* The dumps of one process are numbered from 1, in order. */
static uint64_t read_dump(const char *path)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    unsigned int i;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        g_error("callgrind dump %s missing", path);
    }
    lines = g_strsplit(text, "\n", -1);
    for (i = 0; lines[i]; i++) {
        if (g_str_has_prefix(lines[i], "summary: ")) {
            return g_ascii_strtoull(lines[i] + 9, NULL, 10);
        }
    }
    g_error("callgrind dump %s has no summary", path);
}

uint64_t bench_cg_dump(BenchTarget *t, const char *dir)
{
    QTestState *qts = xen_guest_qts(t->ops->guest(t->dev));
    g_autofree char *path = NULL;
    unsigned int k;

    control(t, "-d");
    /* The newest dump of this process: the first number not taken. */
    for (k = 1;; k++) {
        g_autofree char *p = g_strdup_printf("%s/callgrind.%d.%u", dir,
                                             (int)qtest_pid(qts), k + 1);

        if (!g_file_test(p, G_FILE_TEST_EXISTS)) {
            break;
        }
    }
    path = g_strdup_printf("%s/callgrind.%d.%u", dir, (int)qtest_pid(qts), k);
    return read_dump(path);
}
