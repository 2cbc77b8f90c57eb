/*
 * xna-bench: the veth pair of an accel-xdp target (nic=afxdp)
 *
 * Two network namespaces joined by a veth pair: ifname (e.g. xq0) in A
 * (the guest's MAC, one receive queue per VI) is the interface QEMU's
 * nic=afxdp attaches to, and QEMU runs in A; peer_ifname (xp0) in B (the
 * peer's MAC) carries the benchmark's packet socket.  Each accel-xdp
 * target has a pair and namespaces of its own (XDP takes one program per
 * interface, and all targets are alive at once).  Neither end has an
 * address and IPv6 is off in both, so the only frames on the pair are
 * the benchmark's: the kernels neither answer nor chatter (the first
 * frame of a flow, which XDP passes to A's kernel while the device
 * learns the flow, is dropped there for want of an address).
 *
 * The namespaces are anonymous (unshare, not "ip netns add"): they are
 * held only by this process's descriptors and by the processes started
 * in them (QEMU), so they and the veth pair go away however the run
 * ends, an abort or a kill included; nothing is left to clean up.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sched.h>
#include <net/if.h>
#include "xna-bench.h"

#define BENCH_PEER_MAC_STR  "02:00:00:00:00:02"

/* Run a command; false (and @why set) when it could not or failed. */
static bool run(char **why, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static bool run(char **why, const char *fmt, ...)
{
    g_autofree char *cmd = NULL;
    g_autofree char *err = NULL;
    g_autoptr(GError) gerr = NULL;
    int status;
    va_list ap;

    va_start(ap, fmt);
    cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (!g_spawn_command_line_sync(cmd, NULL, &err, &status, &gerr)) {
        *why = g_strdup_printf("%s: %s", cmd, gerr->message);
        return false;
    }
    if (!g_spawn_check_exit_status(status, NULL)) {
        *why = g_strdup_printf("%s: %s", cmd, g_strstrip(err));
        return false;
    }
    return true;
}

static void ns_set(int fd)
{
    g_assert_cmpint(setns(fd, CLONE_NEWNET), ==, 0);
}

void bench_xdp_enter(BenchXdp *x)
{
    ns_set(x->ns_a);
}

void bench_xdp_leave(BenchXdp *x)
{
    ns_set(x->ns_root);
}

/* A new anonymous namespace held by the returned fd; we stay in it. */
static int ns_new(char **why)
{
    int fd;

    if (unshare(CLONE_NEWNET) < 0) {
        *why = g_strdup_printf("unshare(CLONE_NEWNET): %s", strerror(errno));
        return -1;
    }
    fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    return fd;
}

/* Commands run in the namespace of the calling thread (they inherit it). */
static bool configure(BenchXdp *x, unsigned int queues, char **why)
{
    static const char *const no_ipv6 =
        "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
        "net.ipv6.conf.default.disable_ipv6=1";

    ns_set(x->ns_a);
    /*
     * "netns" with a '/' is a path for ip(8): B by our descriptor.  The
     * peer's end has one transmit queue, so every frame it sends arrives
     * on queue 0 of QEMU's (veth: the receive queue is the sender's
     * transmit queue).
     */
    if (!run(why, "%s", no_ipv6) ||
        !run(why, "ip link add %s numtxqueues %u numrxqueues %u type veth"
             " peer name %s netns /proc/%d/fd/%d numtxqueues 1"
             " numrxqueues 1", x->ifname, queues, queues, x->peer_ifname,
             (int)getpid(), x->ns_b) ||
        !run(why, "ip link set %s address " BENCH_GUEST_MAC " up",
             x->ifname)) {
        return false;
    }
    ns_set(x->ns_b);
    return run(why, "%s", no_ipv6) &&
           run(why, "ip link set %s address " BENCH_PEER_MAC_STR " up",
               x->peer_ifname);
}

bool bench_xdp_setup(BenchXdp *x, unsigned int queues, char **why)
{
    bool ok;

    x->ns_root = x->ns_a = x->ns_b = -1;
    x->peer_ifindex = 0;
    if (geteuid() != 0) {
        *why = g_strdup("needs root (network namespaces, XDP)");
        return false;
    }
    x->ns_root = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(x->ns_root, >=, 0);
    x->ns_a = ns_new(why);
    if (x->ns_a >= 0) {
        x->ns_b = ns_new(why);
    }
    ok = x->ns_b >= 0 && configure(x, queues, why);
    ns_set(x->ns_root);
    if (ok) {
        ns_set(x->ns_b);
        x->peer_ifindex = if_nametoindex(x->peer_ifname);
        ns_set(x->ns_root);
        ok = x->peer_ifindex > 0;
        if (!ok) {
            *why = g_strdup_printf("%s not found in the peer namespace",
                                   x->peer_ifname);
        }
    }
    if (!ok) {
        bench_xdp_free(x);
    }
    return ok;
}

void bench_xdp_free(BenchXdp *x)
{
    /* The last reference to a namespace deletes it and its veth end. */
    if (x->ns_a >= 0) {
        close(x->ns_a);
    }
    if (x->ns_b >= 0) {
        close(x->ns_b);
    }
    if (x->ns_root >= 0) {
        close(x->ns_root);
    }
    x->ns_a = x->ns_b = x->ns_root = -1;
}
