/*
 * qtest: nic=afxdp on a veth pair between two network namespaces
 *
 * The test creates namespaces A and B and a veth pair xq0 (in A, with
 * the guest's MAC and address, 2 receive queues) - xp0 (in B).  QEMU
 * runs in A with nic=afxdp on xq0; the test's frontend is the guest.
 * B sends hand-made frames from a packet socket; A's kernel stack stands
 * for netfront's slow path (a UDP socket in A).  It shows: the first
 * frame of a flow reaches the kernel and teaches the backend the flow,
 * the next ones reach the VI and not the kernel; the filter table is the
 * XDP map and evicts at its size; what the guest sends reaches B; bad
 * configurations fail at device_add; nothing stays attached to xq0, and
 * no map of ours stays, once the VIs go and after QEMU exits.
 *
 * Needs root and network namespaces: without them the cases are skipped
 * (reported as SKIP, never as a pass).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <poll.h>
#include <sched.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#include <linux/if_xdp.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "ebpf/xna-afxdp-bpf.h"
#include "hw/net/xen-net-accel/xna-afxdp-helper.h"
#include "libqos/xna-test-front.h"
#include "libqos/xna-test-frame.h"

#define DEV_ID          "xna0"
#define GUEST_MAC       "00:16:3e:00:00:01"
#define PEER_MAC        "02:00:00:00:00:0b"

static const uint8_t guest_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x01 };
static const uint8_t peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b };
static const uint8_t other_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0c };
static const uint8_t guest_ip[4] = { 10, 77, 0, 2 };
static const uint8_t peer_ip[4] = { 10, 77, 0, 1 };
static const uint8_t bcast_ip[4] = { 10, 77, 0, 255 };
/* A second guest on xq0 (its frames reach A's stack as another host's). */
#define GUEST2_MAC      "00:16:3e:00:00:02"
static const uint8_t guest2_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x02 };
static const uint8_t guest2_ip[4] = { 10, 77, 0, 3 };

typedef struct Env {
    char ns_a[32];
    char ns_b[32];
    int ns_root;
    int pkt_b;               /* packet socket on xp0, in B */
    uint32_t prog_id;        /* our program on xq0, and its maps */
    uint32_t map_ids[8];
    uint32_t nr_map_ids;
    QTestState *qts;
    XenGuest *g;
    XnaTestFront tf;
    GPtrArray *rx;           /* GByteArray *: frames the guest got */
    GArray *rx_flags;
    bool started;
    bool helper;             /* QEMU with xna-afxdp-helper */
    bool helper_nobody;      /* ...and as nobody */
    pid_t helper_pid;
} Env;

/* Namespaces and commands */

static bool run(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static bool run(const char *fmt, ...)
{
    g_autofree char *cmd = NULL;
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autoptr(GError) gerr = NULL;
    int status;
    va_list ap;

    va_start(ap, fmt);
    cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (!g_spawn_command_line_sync(cmd, &out, &err, &status, &gerr)) {
        g_test_message("%s: %s", cmd, gerr->message);
        return false;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        g_test_message("%s: %s", cmd, err);
        return false;
    }
    return true;
}

static char *run_out(const char *cmd)
{
    char *out = NULL;

    g_assert_true(g_spawn_command_line_sync(cmd, &out, NULL, NULL, NULL));
    return out;
}

static void ns_enter(const char *name)
{
    g_autofree char *path = g_strdup_printf("/run/netns/%s", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(setns(fd, CLONE_NEWNET), ==, 0);
    close(fd);
}

static void ns_leave(Env *e)
{
    g_assert_cmpint(setns(e->ns_root, CLONE_NEWNET), ==, 0);
}

/* fd of our program's map @name (see note_prog()), or -1. */
static int find_map(Env *e, const char *name, struct bpf_map_info *info)
{
    uint32_t i;

    for (i = 0; i < e->nr_map_ids; i++) {
        int fd = bpf_map_get_fd_by_id(e->map_ids[i]);
        uint32_t len = sizeof(*info);

        if (fd < 0) {
            continue;
        }
        memset(info, 0, sizeof(*info));
        if (bpf_obj_get_info_by_fd(fd, info, &len) == 0 &&
            !strcmp(info->name, name)) {
            return fd;
        }
        close(fd);
    }
    return -1;
}

/*
 * fd of the filter map of the guest in @slot (its QEMU's own, in that
 * slot of the program's filters map), or -1.
 */
static int guest_filters(Env *e, uint32_t slot)
{
    struct bpf_map_info info;
    int outer = find_map(e, "xna_filters", &info);
    uint32_t id;
    int fd = -1;

    g_assert_cmpint(outer, >=, 0);
    if (bpf_map_lookup_elem(outer, &slot, &id) == 0) {
        fd = bpf_map_get_fd_by_id(id);
    }
    close(outer);
    return fd;
}

static uint32_t map_id(int fd)
{
    struct bpf_map_info info = { 0 };
    uint32_t len = sizeof(info);

    g_assert_cmpint(bpf_obj_get_info_by_fd(fd, &info, &len), ==, 0);
    return info.id;
}

static bool xdp_attached(Env *e)
{
    g_autofree char *cmd = g_strdup_printf("ip -n %s link show dev xq0",
                                           e->ns_a);
    g_autofree char *out = run_out(cmd);

    return strstr(out, "xdp") != NULL;
}

/* Remember the program attached to xq0 and the ids of its maps. */
static void note_prog(Env *e)
{
    struct bpf_prog_info info = { 0 };
    uint32_t len = sizeof(info);
    int ifindex, fd;

    ns_enter(e->ns_a);
    ifindex = if_nametoindex("xq0");
    g_assert_cmpint(bpf_xdp_query_id(ifindex, 0, &e->prog_id), ==, 0);
    ns_leave(e);
    g_assert_cmpuint(e->prog_id, !=, 0);
    fd = bpf_prog_get_fd_by_id(e->prog_id);
    g_assert_cmpint(fd, >=, 0);
    info.nr_map_ids = G_N_ELEMENTS(e->map_ids);
    info.map_ids = (uintptr_t)e->map_ids;
    g_assert_cmpint(bpf_obj_get_info_by_fd(fd, &info, &len), ==, 0);
    close(fd);
    g_assert_cmpstr(info.name, ==, "xna_xdp");
    /* guests, filters, sockets, samples, stats */
    g_assert_cmpuint(info.nr_map_ids, ==, 5);
    e->nr_map_ids = info.nr_map_ids;
}

static bool id_alive(int (*get_fd)(uint32_t), uint32_t id)
{
    int fd = get_fd(id);

    if (fd >= 0) {
        close(fd);
        return true;
    }
    return false;
}

/*
 * Nothing on xq0, and our program and every one of its maps gone (maps
 * are freed after an RCU grace period: wait a little).
 */
static void assert_clean(Env *e)
{
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    uint32_t i;

    g_assert_false(xdp_attached(e));
    if (!e->prog_id) {
        return;
    }
    while (id_alive(bpf_prog_get_fd_by_id, e->prog_id)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(10000);
    }
    for (i = 0; i < e->nr_map_ids; i++) {
        while (id_alive(bpf_map_get_fd_by_id, e->map_ids[i])) {
            g_assert_cmpint(g_get_monotonic_time(), <, deadline);
            g_usleep(10000);
        }
    }
}

/*
 * A test that failed an assertion exited without its teardown: remove
 * the namespaces (and so the veth pairs) of test processes that are gone.
 */
static void remove_stale_namespaces(void)
{
    GDir *dir = g_dir_open("/run/netns", 0, NULL);
    const char *name;

    if (!dir) {
        return;
    }
    while ((name = g_dir_read_name(dir))) {
        char ab;
        int pid, end = 0;

        if (sscanf(name, "xna-%c-%d%n", &ab, &pid, &end) == 2 &&
            name[end] == '\0' && (ab == 'a' || ab == 'b') && pid > 0 &&
            kill(pid, 0) < 0 && errno == ESRCH) {
            run("ip netns del %s", name);
        }
    }
    g_dir_close(dir);
}

/* @b_txqs: transmit queues of xp0, so of receive queues xq0 sees used. */
static bool env_setup_txq(Env *e, const char *extra_b, int b_txqs)
{
    memset(e, 0, sizeof(*e));
    /*
     * The test changes the host: it creates network namespaces and veth
     * pairs and attaches XDP programs.  Run it only when asked to.
     */
    if (!g_getenv("QTEST_XNA_AFXDP")) {
        g_test_skip("set QTEST_XNA_AFXDP=1 to run (creates network "
                    "namespaces, attaches XDP; needs root)");
        return false;
    }
    if (geteuid() != 0) {
        g_test_skip("needs root (network namespaces, XDP)");
        return false;
    }
    remove_stale_namespaces();
    snprintf(e->ns_a, sizeof(e->ns_a), "xna-a-%d", getpid());
    snprintf(e->ns_b, sizeof(e->ns_b), "xna-b-%d", getpid());
    if (!run("ip netns add %s", e->ns_a)) {
        g_test_skip("no network namespaces (ip netns add failed)");
        return false;
    }
    g_assert_true(run("ip netns add %s", e->ns_b));
    e->ns_root = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(e->ns_root, >=, 0);
    /* No IPv6 chatter on the pair: only the test's frames. */
    g_assert_true(run("ip netns exec %s sysctl -qw "
                      "net.ipv6.conf.all.disable_ipv6=1", e->ns_a));
    g_assert_true(run("ip netns exec %s sysctl -qw "
                      "net.ipv6.conf.default.disable_ipv6=1", e->ns_a));
    g_assert_true(run("ip netns exec %s sysctl -qw "
                      "net.ipv6.conf.default.disable_ipv6=1", e->ns_b));
    g_assert_true(run("ip -n %s link add xq0 numtxqueues 2 numrxqueues 2 "
                      "type veth peer name xp0 netns %s numtxqueues %d "
                      "numrxqueues 1", e->ns_a, e->ns_b, b_txqs));
    g_assert_true(run("ip -n %s link set xq0 address " GUEST_MAC, e->ns_a));
    g_assert_true(run("ip -n %s link set xp0 address " PEER_MAC "%s",
                      e->ns_b, extra_b ? extra_b : ""));
    g_assert_true(run("ip -n %s addr add 10.77.0.2/24 brd + dev xq0",
                      e->ns_a));
    g_assert_true(run("ip -n %s addr add 10.77.0.1/24 brd + dev xp0",
                      e->ns_b));
    g_assert_true(run("ip -n %s link set xq0 up", e->ns_a));
    g_assert_true(run("ip -n %s link set xp0 up", e->ns_b));

    ns_enter(e->ns_b);
    e->pkt_b = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    g_assert_cmpint(e->pkt_b, >=, 0);
    {
        struct sockaddr_ll sll = {
            .sll_family = AF_PACKET,
            .sll_ifindex = if_nametoindex("xp0"),
        };

        g_assert_cmpint(sll.sll_ifindex, >, 0);
        g_assert_cmpint(bind(e->pkt_b, (struct sockaddr *)&sll,
                             sizeof(sll)), ==, 0);
    }
    ns_leave(e);
    return true;
}

static bool env_setup(Env *e, const char *extra_b)
{
    return env_setup_txq(e, extra_b, 1);
}

static void env_teardown(Env *e)
{
    close(e->pkt_b);
    g_assert_true(run("ip netns del %s", e->ns_a));
    g_assert_true(run("ip netns del %s", e->ns_b));
    close(e->ns_root);
}

/* A UDP socket bound to @ip:@port in namespace @ns. */
static int udp_socket(Env *e, const char *ns, const uint8_t *ip,
                      uint16_t port)
{
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons(port) };
    int fd;

    if (ip) {
        memcpy(&a.sin_addr, ip, 4);
    }
    ns_enter(ns);
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ns_leave(e);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    return fd;
}

/* QEMU and the guest */

/*
 * The helper: QTEST_XNA_AFXDP_HELPER, else the one built next to QEMU
 * (QTEST_QEMU_BINARY may be a wrapper elsewhere: tools/run-tests sets it).
 */
static char *helper_path(void)
{
    const char *helper = g_getenv("QTEST_XNA_AFXDP_HELPER");
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");
    g_autofree char *dir = g_path_get_dirname(qemu ? qemu : "");

    if (helper) {
        return g_strdup(helper);
    }

    return g_build_filename(dir, "contrib", "xna-afxdp-helper",
                            "xna-afxdp-helper", NULL);
}

/*
 * Start xna-afxdp-helper in namespace A with @args after its own, its
 * end of a socket pair as descriptor 3; returns the other end.
 */
static int helper_spawn(Env *e, const char *const *args)
{
    g_autofree char *path = helper_path();
    int sv[2];
    pid_t pid;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), ==, 0);
    ns_enter(e->ns_a);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        const char *argv[24] = { path };
        int i;

        for (i = 0; args[i] && i < 22; i++) {
            argv[i + 1] = args[i];
        }
        close(sv[1]);
        if (dup2(sv[0], 3) < 0) {
            _exit(126);
        }
        execv(path, (char **)argv);
        _exit(127);
    }
    ns_leave(e);
    close(sv[0]);
    e->helper_pid = pid;
    return sv[1];
}

/*
 * With the helper, the QEMU holds no program, link or shared map: only
 * its own guest's maps and the counters, read only.
 */
static void assert_qemu_holds_no_shared_map(Env *e)
{
    static const char *const shared[] = {
        XNA_BPF_MAP_GUESTS, XNA_BPF_MAP_FILTERS, XNA_BPF_MAP_XSKS,
        XNA_BPF_MAP_SAMPLES,
    };
    uint32_t ids[ARRAY_SIZE(shared)], stats_id;
    g_autofree char *dir = g_strdup_printf("/proc/%d/fd", qtest_pid(e->qts));
    struct bpf_map_info info;
    const char *name;
    GDir *d;
    int i, fd, maps = 0;

    for (i = 0; i < ARRAY_SIZE(shared); i++) {
        fd = find_map(e, shared[i], &info);
        g_assert_cmpint(fd, >=, 0);
        ids[i] = info.id;
        close(fd);
    }
    fd = find_map(e, XNA_BPF_MAP_STATS, &info);
    g_assert_cmpint(fd, >=, 0);
    stats_id = info.id;
    close(fd);
    d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    while ((name = g_dir_read_name(d))) {
        g_autofree char *link = g_strdup_printf("%s/%s", dir, name);
        g_autofree char *target = g_file_read_link(link, NULL);
        g_autofree char *fdinfo = NULL;
        g_autofree char *info_path = NULL;
        const char *p;
        unsigned int id;

        if (!target) {
            continue;
        }
        g_assert_null(strstr(target, "bpf-prog"));
        g_assert_null(strstr(target, "bpf_link"));
        if (!strstr(target, "bpf-map")) {
            continue;
        }
        info_path = g_strdup_printf("/proc/%d/fdinfo/%s", qtest_pid(e->qts),
                                    name);
        g_assert_true(g_file_get_contents(info_path, &fdinfo, NULL, NULL));
        p = strstr(fdinfo, "map_id:");
        g_assert_nonnull(p);
        g_assert_cmpint(qemu_strtoui(p + strlen("map_id:"), &p, 10, &id),
                        ==, 0);
        for (i = 0; i < ARRAY_SIZE(shared); i++) {
            g_assert_cmpuint(id, !=, ids[i]);
        }
        if (id == stats_id) {
            /* flags: O_RDONLY's access mode is 0 */
            p = strstr(fdinfo, "flags:");
            g_assert_nonnull(p);
            unsigned int flags;

            g_assert_cmpint(qemu_strtoui(p + strlen("flags:"), &p, 8, &flags),
                            ==, 0);
            g_assert_cmpuint(flags & O_ACCMODE, ==, O_RDONLY);
        }
        maps++;
    }
    g_dir_close(d);
    /* its filter map, its ring, the counters */
    g_assert_cmpint(maps, ==, 3);
}

/* The helper exits once the QEMU's end is closed (status 0). */
static void helper_wait(Env *e)
{
    int status, i;
    pid_t ret = 0;

    if (!e->helper_pid) {
        return;
    }
    for (i = 0; i < 1000 && ret == 0; i++) {
        ret = waitpid(e->helper_pid, &status, WNOHANG);
        if (ret == 0) {
            g_usleep(10 * 1000);
        }
    }
    g_assert_cmpint(ret, ==, e->helper_pid);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    e->helper_pid = 0;
}

static void env_start_qemu(Env *e, const char *dev)
{
    /* QEMU inherits the namespace of the thread that starts it. */
    ns_enter(e->ns_a);
    e->qts = xen_guest_qemu_init(NULL, "%s%s", dev ? dev : "",
                                 e->helper_nobody ?
                                 " -run-with user=nobody" : "");
    ns_leave(e);
    e->g = xen_guest_new(e->qts, NULL, 0);
    e->rx = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
    e->rx_flags = g_array_new(false, false, sizeof(unsigned int));
}

static uint64_t dev_stat(Env *e, const char *name);
static void wait_sockets(Env *e);

/*
 * Start QEMU and guest @mac; with @ready, until the VI has its socket.
 * The first guest on xq0 finds nothing attached there before its VI.
 */
static void env_start_guest(Env *e, const char *mac, const char *props,
                            bool first, bool ready)
{
    g_autofree char *dev = g_strdup_printf(
        "-device xen-net-accel,id=" DEV_ID ",nic=afxdp,ifname=xq0,"
        "mac=%s,%s", mac, props);
    XnaTestFrontOpts o = { .vis = 1 };
    int helper_fd = -1;

    if (e->helper) {
        const char *args[] = {
            "--ifname", "xq0", "--mac", mac, "--max-vis", "2",
            "--max-filters", "64", NULL,
        };
        /*
         * A QEMU without CAP_IPC_LOCK is charged for its UMEMs (a copy
         * socket's is 12 MiB).  Where the test may not raise the limit
         * (no CAP_SYS_RESOURCE, as in some containers) QEMU stays root:
         * the helper's path is the same, only the descriptors' owner is
         * not checked (tests/xen/run checks it as nobody's).
         */
        struct rlimit lim = { 256 << 20, 256 << 20 };
        char *d;

        e->helper_nobody = setrlimit(RLIMIT_MEMLOCK, &lim) == 0;
        if (!e->helper_nobody) {
            g_test_message("cannot raise RLIMIT_MEMLOCK (%s): QEMU stays "
                           "root, with the helper", strerror(errno));
        }
        helper_fd = helper_spawn(e, args);
        d = g_strdup_printf("%s,afxdp-helper=%d", dev, helper_fd);
        g_free(dev);
        dev = d;
    }
    env_start_qemu(e, dev);
    if (helper_fd >= 0) {
        g_autofree char *st = g_strdup_printf("/proc/%d/status",
                                              qtest_pid(e->qts));
        g_autofree char *text = NULL;

        close(helper_fd);
        /* It may bind nothing itself: seccomp filters it. */
        g_assert_true(g_file_get_contents(st, &text, NULL, NULL));
        g_assert_nonnull(strstr(text, "\nSeccomp:\t2\n"));
    }
    if (helper_fd >= 0 && e->helper_nobody) {
        g_autofree char *st = g_strdup_printf("/proc/%d/status",
                                              qtest_pid(e->qts));
        g_autofree char *text = NULL;

        /* The QEMU has no capability and is not root. */
        g_assert_true(g_file_get_contents(st, &text, NULL, NULL));
        g_assert_nonnull(strstr(text, "\nUid:\t65534\t65534\t65534\t65534"));
        g_assert_nonnull(strstr(text, "\nCapEff:\t0000000000000000"));
    }
    /*
     * Realize only checked XDP: nothing is attached before a VI.  With
     * the helper, its slot is taken at realize and kept until the QEMU
     * ends (a QEMU may keep sockets bound to its queues).
     */
    g_assert_true(!first || e->helper == xdp_attached(e));
    g_assert_cmpint(xna_test_front_start(&e->tf, e->g, &o), ==, 0);
    g_assert_true(xna_front_ready(e->tf.f));
    e->started = true;
    g_assert_true(xdp_attached(e));
    note_prog(e);
    if (ready) {
        wait_sockets(e);
    }
    if (e->helper) {
        assert_qemu_holds_no_shared_map(e);
    }
}

static void env_start_full(Env *e, const char *props, bool ready)
{
    env_start_guest(e, GUEST_MAC, props, true, ready);
}

static void env_start(Env *e, const char *props)
{
    env_start_full(e, props, true);
}

static void env_stop(Env *e, bool close_front)
{
    if (e->started && close_front) {
        xna_test_front_close(&e->tf);
        /*
         * The last VI went: the program and the maps with it; with the
         * helper, once the QEMU has ended.
         */
        if (e->helper) {
            g_assert_true(xdp_attached(e));
        } else {
            assert_clean(e);
        }
        g_assert_cmpuint(xen_guest_sim_stat(e->g, "grant-live-maps"), ==, 0);
    }
    xen_guest_free(e->g);
    qtest_quit(e->qts);
    helper_wait(e);
    assert_clean(e);
    g_ptr_array_unref(e->rx);
    g_array_unref(e->rx_flags);
}

static uint64_t dev_stat(Env *e, const char *name)
{
    return xna_test_dev_stat(e->qts, DEV_ID, name);
}

static int collect_rx(void *opaque, struct xna_vi *vi,
                      const struct xna_frag *frags, unsigned int nfrags,
                      unsigned int len, unsigned int flags)
{
    Env *e = opaque;
    GByteArray *b = g_byte_array_sized_new(len);
    unsigned int i;

    for (i = 0; i < nfrags; i++) {
        g_byte_array_append(b, frags[i].data, frags[i].len);
    }
    g_ptr_array_add(e->rx, b);
    g_array_append_val(e->rx_flags, flags);
    return 0;
}

static void poll_rx(Env *e)
{
    struct xna_vi *vi = xna_front_vi(e->tf.f, 0);

    if (xna_front_vi_state(vi) != XNA_VI_UP) {
        return;
    }
    do {
        while (xna_front_rx_poll(vi, 64, collect_rx, e) > 0) {
            /* more */
        }
    } while (xna_front_rx_arm(vi));
}

typedef struct Wait {
    Env *e;
    guint want;
    const char *stat;
} Wait;

static bool rx_reached(void *opaque)
{
    Wait *w = opaque;

    poll_rx(w->e);
    return w->e->rx->len >= w->want;
}

static bool wait_rx(Env *e, guint n)
{
    Wait w = { .e = e, .want = n };

    return xna_test_front_wait(&e->tf, rx_reached, &w, XEN_GUEST_TIMEOUT_MS);
}

/* Wait until device counter @name reaches @n (learning is asynchronous). */
static bool wait_stat(Env *e, const char *name, uint64_t n)
{
    gint64 deadline = g_get_monotonic_time() +
                      XEN_GUEST_TIMEOUT_MS * 1000LL;

    while (dev_stat(e, name) < n) {
        if (g_get_monotonic_time() > deadline) {
            return false;
        }
        xna_test_front_poll_ctrl(&e->tf, NULL, NULL);
        poll_rx(e);
        g_usleep(2000);
    }
    return true;
}

/*
 * Wait until device counter @name reaches @n without taking frames (as
 * wait_stat() does, which reposts buffers): for tests of a guest that
 * takes nothing.
 */
static void wait_stat_untaken(Env *e, const char *name, uint64_t n)
{
    gint64 deadline = g_get_monotonic_time() +
                      XEN_GUEST_TIMEOUT_MS * 1000LL;

    while (dev_stat(e, name) < n && g_get_monotonic_time() < deadline) {
        g_usleep(2000);
    }
}

/*
 * A VI's new socket waits a moment when its queue was busy (an old socket
 * closed just before): its flows take the slow path until it is made.
 */
static void wait_sockets(Env *e)
{
    gint64 deadline = g_get_monotonic_time() +
                      XEN_GUEST_TIMEOUT_MS * 1000LL;

    while (dev_stat(e, "nic-sockets-waiting")) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(1000);
    }
}

/* Frames */

/* B sends a UDP frame to the guest (or to the broadcast address). */
static void b_send(Env *e, uint8_t *f, size_t len, uint16_t dport,
                   uint32_t seq, bool broadcast)
{
    static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff,
                                          0xff, 0xff, 0xff };

    xna_test_udp4_frame(f, len, broadcast ? bcast_mac : guest_mac, peer_mac,
                        peer_ip, broadcast ? bcast_ip : guest_ip, 3000, dport,
                        seq);
    g_assert_cmpint(send(e->pkt_b, f, len, 0), ==, len);
}

/* The next datagram of @fd is the payload of frame @f. */
static void expect_datagram(int fd, const uint8_t *f, size_t len)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    uint8_t got[2048];

    g_assert_cmpint(poll(&pfd, 1, XEN_GUEST_TIMEOUT_MS), ==, 1);
    g_assert_cmpint(recv(fd, got, sizeof(got), 0), ==, len - 42);
    g_assert_cmpmem(got, len - 42, f + 42, len - 42);
}

static bool map_has_port(int fd, uint16_t port)
{
    struct xna_bpf_key key = { .kind = XNA_FILTER_IPV4_UDP,
                               .dst_port = htons(port) };
    struct xna_bpf_filter f;

    memcpy(key.dst_addr, guest_ip, 4);
    return bpf_map_lookup_elem(fd, &key, &f) == 0 && f.vi == 0;
}

static unsigned int map_count(int fd)
{
    uint8_t key[20], next[20];
    unsigned int n = 0;
    void *prev = NULL;

    while (bpf_map_get_next_key(fd, prev, next) == 0) {
        memcpy(key, next, sizeof(key));
        prev = key;
        n++;
    }
    return n;
}

/* Tests */

static bool port_5001_fast(void *opaque)
{
    Env *e = opaque;

    return xna_front_flow_is_fast(e->tf.f, XNA_FILTER_IPV4_UDP, guest_ip,
                                  htons(5001));
}

/*
 * How a VI receives: "pool" (the default: the kernel writes frames into
 * the guest's buffers), or copying, because it was turned off or because
 * frames of the MTU do not fit the pool's 2 KiB chunks.
 */
typedef struct RxMode {
    const char *props;
    bool pool;
    bool helper;
} RxMode;

static const RxMode rx_pool = { "max-filters=8", true };
static const RxMode rx_copy = { "max-filters=8,zero-copy=off", false };
static const RxMode rx_pool_helper = { "max-filters=8", true, true };
static const RxMode rx_copy_helper = { "max-filters=8,zero-copy=off", false,
                                       true };
static const RxMode rx_big_mtu = { "max-filters=8,mtu=2000", false };

/*
 * First frame of a flow: kernel, and the flow is learned into the XDP
 * map; the next frames: the VI only.
 */
static void test_learning(const void *opaque)
{
    const RxMode *mode = opaque;
    enum { PORT = 5001, FRAMES = 20 };
    uint8_t f[300];
    int kfd, mfd, i;
    Env e;

    if (!env_setup(&e, NULL)) {
        return;
    }
    e.helper = mode->helper;
    kfd = udp_socket(&e, e.ns_a, NULL, PORT);
    env_start(&e, mode->props);
    g_assert_cmpuint(dev_stat(&e, "nic-pool-vis"), ==, mode->pool);
    /* veth has no AF_XDP zero-copy: the kernel copies into the pool. */
    g_test_message("VIs in driver zero-copy mode: %" PRIu64,
                   dev_stat(&e, "nic-zero-copy-vis"));
    mfd = guest_filters(&e, 0);
    g_assert_cmpint(mfd, >=, 0);

    b_send(&e, f, sizeof(f), PORT, 0, false);
    expect_datagram(kfd, f, sizeof(f));
    g_assert_true(wait_stat(&e, "filters-inserted", 1));
    g_assert_true(map_has_port(mfd, PORT));
    /* ...and announced to the guest. */
    g_assert_true(xna_test_front_wait(&e.tf, port_5001_fast, &e,
                                      XEN_GUEST_TIMEOUT_MS));

    for (i = 1; i <= FRAMES; i++) {
        b_send(&e, f, sizeof(f), PORT, i, false);
        g_assert_true(wait_rx(&e, i));
        g_assert_cmpmem(((GByteArray *)g_ptr_array_index(e.rx, i - 1))->data,
                        ((GByteArray *)g_ptr_array_index(e.rx, i - 1))->len,
                        f, sizeof(f));
        g_assert_false(g_array_index(e.rx_flags, unsigned int, i - 1) &
                       XNA_DESC_SLOW_PATH);
    }
    g_assert_cmpuint(dev_stat(&e, "vi0-rx-packets"), ==, FRAMES);
    /* Samples teach the device but are not delivered: the kernel was. */
    g_assert_cmpuint(dev_stat(&e, "vi0-rx-slow-packets"), ==, 0);

    /*
     * None of them reached the kernel: the next datagram there is a
     * broadcast sent after them (same queue, same order).
     */
    b_send(&e, f, sizeof(f), PORT, 999, true);
    expect_datagram(kfd, f, sizeof(f));
    g_assert_cmpuint(e.rx->len, ==, FRAMES);

    /*
     * The flow's address and port, but another MAC: not the guest's frame
     * (e.g. the host's own traffic), so the filter must not take it.  The
     * flow's next frame is the next one the guest gets.
     */
    xna_test_udp4_frame(f, sizeof(f), other_mac, peer_mac, peer_ip, guest_ip,
                        3000, PORT, 1000);
    g_assert_cmpint(send(e.pkt_b, f, sizeof(f), 0), ==, sizeof(f));
    b_send(&e, f, sizeof(f), PORT, 1001, false);
    g_assert_true(wait_rx(&e, FRAMES + 1));
    g_assert_cmpmem(((GByteArray *)g_ptr_array_index(e.rx, FRAMES))->data,
                    ((GByteArray *)g_ptr_array_index(e.rx, FRAMES))->len,
                    f, sizeof(f));
    g_assert_cmpuint(dev_stat(&e, "vi0-rx-packets"), ==, FRAMES + 1);
    /* In pool mode QEMU copied none of them. */
    g_assert_cmpuint(dev_stat(&e, "vi0-rx-pool-packets"), ==,
                     mode->pool ? FRAMES + 1 : 0);
    g_assert_cmpuint(dev_stat(&e, "vi0-pool-fallbacks"), ==, 0);

    close(mfd);
    close(kfd);
    env_stop(&e, true);
    env_teardown(&e);
}

/* The XDP map holds max-filters flows; the least recently used go. */
static void test_eviction(void)
{
    enum { PORT = 6001, FLOWS = 3, FILTERS = 2 };
    int kfd[FLOWS], mfd, i;
    uint8_t f[200];
    Env e;

    if (!env_setup(&e, NULL)) {
        return;
    }
    for (i = 0; i < FLOWS; i++) {
        kfd[i] = udp_socket(&e, e.ns_a, NULL, PORT + i);
    }
    env_start(&e, "max-filters=2");
    /* The guest's own map: the table's size, and the MAC filter's entry. */
    mfd = guest_filters(&e, 0);
    g_assert_cmpint(mfd, >=, 0);
    {
        struct bpf_map_info mi = { 0 };
        uint32_t len = sizeof(mi);

        g_assert_cmpint(bpf_obj_get_info_by_fd(mfd, &mi, &len), ==, 0);
        g_assert_cmpuint(mi.max_entries, ==, FILTERS + 1);
    }

    for (i = 0; i < FLOWS; i++) {
        b_send(&e, f, sizeof(f), PORT + i, i, false);
        expect_datagram(kfd[i], f, sizeof(f));
        g_assert_true(wait_stat(&e, "filters-inserted", i + 1));
    }
    g_assert_cmpuint(dev_stat(&e, "filters-evicted"), ==, FLOWS - FILTERS);
    g_assert_cmpuint(map_count(mfd), ==, FILTERS);
    g_assert_false(map_has_port(mfd, PORT));
    g_assert_true(map_has_port(mfd, PORT + 1));
    g_assert_true(map_has_port(mfd, PORT + 2));

    /* The newest flow is steered to the VI... */
    b_send(&e, f, sizeof(f), PORT + 2, 10, false);
    g_assert_true(wait_rx(&e, 1));
    g_assert_cmpmem(((GByteArray *)g_ptr_array_index(e.rx, 0))->data,
                    ((GByteArray *)g_ptr_array_index(e.rx, 0))->len,
                    f, sizeof(f));
    /* ...the evicted one goes to the kernel again, and is learned again. */
    b_send(&e, f, sizeof(f), PORT, 11, false);
    expect_datagram(kfd[0], f, sizeof(f));
    g_assert_true(wait_stat(&e, "filters-inserted", FLOWS + 1));
    g_assert_cmpuint(dev_stat(&e, "filters-evicted"), ==, FLOWS + 1 - FILTERS);
    g_assert_cmpuint(map_count(mfd), ==, FILTERS);
    g_assert_true(map_has_port(mfd, PORT));

    close(mfd);
    for (i = 0; i < FLOWS; i++) {
        close(kfd[i]);
    }
    env_stop(&e, true);
    env_teardown(&e);
}

/*
 * What the guest sends through the VI reaches B byte-exact; then QEMU
 * exits with the VI up, and nothing stays attached.
 */
static void test_tx(const void *opaque)
{
    const RxMode *mode = opaque;
    enum { PORT = 7000, FRAMES = 50 };
    uint8_t f[1000];
    int bfd, i;
    Env e;

    if (!env_setup(&e, NULL)) {
        return;
    }
    e.helper = mode->helper;
    bfd = udp_socket(&e, e.ns_b, peer_ip, PORT);
    env_start(&e, mode->props);
    /* A pool VI sends through a packet socket, a copy VI its TX ring. */
    g_assert_cmpuint(dev_stat(&e, "nic-pool-vis"), ==, mode->pool);
    for (i = 0; i < FRAMES; i++) {
        xna_test_udp4_frame(f, sizeof(f), peer_mac, guest_mac, guest_ip,
                            peer_ip, 4000, PORT, i);
        g_assert_cmpint(xna_test_front_send(&e.tf, 0, f, sizeof(f)), ==, 0);
        expect_datagram(bfd, f, sizeof(f));
    }
    g_assert_cmpuint(dev_stat(&e, "vi0-tx-packets"), ==, FRAMES);
    g_assert_cmpuint(dev_stat(&e, "nic-tx-frames"), ==, FRAMES);
    /* The guest's own flow was learned from what it sent. */
    g_assert_true(wait_stat(&e, "filters-inserted", 1));
    close(bfd);
    env_stop(&e, false);
    env_teardown(&e);
}

/* Frames of a learned flow reach the guest through the VI, intact. */
static void expect_fast(Env *e, uint8_t *f, size_t len, uint16_t port,
                        uint32_t first, uint32_t n)
{
    uint32_t i;

    for (i = 0; i < n; i++) {
        guint before = e->rx->len;

        b_send(e, f, len, port, first + i, false);
        g_assert_true(wait_rx(e, before + 1));
        g_assert_cmpmem(((GByteArray *)g_ptr_array_index(e->rx, before))->data,
                        ((GByteArray *)g_ptr_array_index(e->rx, before))->len,
                        f, len);
    }
}

static bool vi0_is(Env *e, int state)
{
    return xna_front_vi_state(xna_front_vi(e->tf.f, 0)) == state;
}

static bool vi0_down(void *opaque)
{
    return vi0_is(opaque, XNA_VI_DOWN);
}

static bool vi0_up(void *opaque)
{
    return vi0_is(opaque, XNA_VI_UP);
}

/* A bad TX descriptor (a pool page that does not exist) stops VI 0. */
static void stop_vi0(Env *e)
{
    struct xna_desc *d = xna_test_front_tx_desc(&e->tf, 0, 0);
    struct xna_vi_shared *sh = xna_test_front_vi_shared(&e->tf, 0);

    d->page = 1000000;
    d->offset = 0;
    d->len = 100;
    d->flags = 0;
    sh->tx_prod = 1;
    xen_guest_evtchn_notify(e->g, e->tf.vi_ports[0]);
    g_assert_true(xna_test_front_wait(&e->tf, vi0_down, e,
                                      XEN_GUEST_TIMEOUT_MS));
    g_assert_cmpuint(xna_vi_down_reason(xna_front_vi(e->tf.f, 0)), ==,
                     XNA_ERR_BAD_DESC);
}

/* Learn the flow to @port: its first frame goes to the kernel. */
static void learn_port(Env *e, int kfd, uint8_t *f, size_t len,
                       uint16_t port, uint64_t filters)
{
    b_send(e, f, len, port, 0, false);
    expect_datagram(kfd, f, len);
    g_assert_true(wait_stat(e, "filters-inserted", filters));
}

/*
 * A VI that stops and is reset goes back to the guest's pool: a new
 * socket on the same queue (which the kernel frees a moment after the
 * old one is closed), buffers given again from slot 0.
 */
static void test_pool_reset(void)
{
    enum { PORT = 5001, FRAMES = 10 };
    uint8_t f[600];
    int kfd;
    Env e;

    if (!env_setup(&e, NULL)) {
        return;
    }
    kfd = udp_socket(&e, e.ns_a, NULL, PORT);
    env_start(&e, rx_pool.props);
    learn_port(&e, kfd, f, sizeof(f), PORT, 1);
    expect_fast(&e, f, sizeof(f), PORT, 1, FRAMES);

    stop_vi0(&e);
    g_assert_cmpuint(dev_stat(&e, "nic-pool-vis"), ==, 0);
    wait_sockets(&e);
    g_assert_cmpint(xna_front_vi_reset(xna_front_vi(e.tf.f, 0), NULL, NULL),
                    ==, 0);
    g_assert_true(xna_test_front_wait(&e.tf, vi0_up, &e,
                                      XEN_GUEST_TIMEOUT_MS));
    /* The old socket may still hold the queue for a moment. */
    g_assert_true(wait_stat(&e, "nic-pool-vis", 1));
    /* The stop removed the VI's filters: learned again, then fast. */
    learn_port(&e, kfd, f, sizeof(f), PORT, 2);
    expect_fast(&e, f, sizeof(f), PORT, 100, 3 * 256 / 2);
    g_assert_cmpuint(dev_stat(&e, "vi0-rx-pool-packets"), ==,
                     FRAMES + 3 * 256 / 2);
    g_assert_cmpuint(dev_stat(&e, "vi0-pool-fallbacks"), ==, 0);
    close(kfd);
    env_stop(&e, true);
    env_teardown(&e);
}

/*
 * An AF_XDP socket of the test's own on xq0's @queue, in copy mode: the
 * queue is then busy for anyone else.  A socket closed a moment ago may
 * still hold it: try for a while.
 */
static int hold_queue(Env *e, uint32_t queue)
{
    enum { CHUNKS = 16, RING = 16 };
    struct xdp_umem_reg reg = {
        .len = CHUNKS * 4096,
        .chunk_size = 4096,
    };
    struct sockaddr_xdp sxdp = {
        .sxdp_family = AF_XDP,
        .sxdp_queue_id = queue,
        .sxdp_flags = XDP_COPY,
    };
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    uint32_t ring = RING;
    void *umem;
    int fd;

    umem = mmap(NULL, reg.len, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_assert_true(umem != MAP_FAILED);
    reg.addr = (uintptr_t)umem;
    ns_enter(e->ns_a);
    sxdp.sxdp_ifindex = if_nametoindex("xq0");
    fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
    ns_leave(e);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &reg,
                               sizeof(reg)), ==, 0);
    g_assert_cmpint(setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &ring,
                               sizeof(ring)), ==, 0);
    g_assert_cmpint(setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &ring,
                               sizeof(ring)), ==, 0);
    g_assert_cmpint(setsockopt(fd, SOL_XDP, XDP_RX_RING, &ring,
                               sizeof(ring)), ==, 0);
    while (bind(fd, (struct sockaddr *)&sxdp, sizeof(sxdp)) < 0) {
        g_assert_cmpint(errno, ==, EBUSY);
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(1000);
    }
    /* The kernel keeps the UMEM pages pinned while the socket lives. */
    munmap(umem, reg.len);
    return fd;
}

/*
 * A VI whose queue is busy when it needs a socket (here another program
 * holds it; a VI's own socket closed a moment ago does the same) waits
 * for it from a timer, never in QEMU's main loop: the VI comes up, QEMU
 * answers, the flows it learns take the slow path meanwhile (to A's
 * kernel: nothing lost), and the socket is made as soon as the queue is
 * free; then the flows are fast.
 */
static void test_queue_busy(void)
{
    enum { PORT = 5001 };
    uint8_t f[600];
    int kfd, hold;
    Env e;

    if (!env_setup(&e, NULL)) {
        return;
    }
    kfd = udp_socket(&e, e.ns_a, NULL, PORT);
    hold = hold_queue(&e, 0);
    env_start_full(&e, rx_pool.props, false);
    g_assert_true(vi0_is(&e, XNA_VI_UP));
    g_assert_cmpuint(dev_stat(&e, "nic-sockets-waiting"), ==, 1);
    g_assert_cmpuint(dev_stat(&e, "nic-pool-vis"), ==, 0);
    learn_port(&e, kfd, f, sizeof(f), PORT, 1);
    b_send(&e, f, sizeof(f), PORT, 1, false);
    expect_datagram(kfd, f, sizeof(f));
    g_assert_cmpuint(dev_stat(&e, "vi0-rx-pool-packets"), ==, 0);

    close(hold);
    g_assert_true(wait_stat(&e, "nic-pool-vis", 1));
    g_assert_cmpuint(dev_stat(&e, "nic-sockets-waiting"), ==, 0);
    expect_fast(&e, f, sizeof(f), PORT, 2, 10);
    g_assert_cmpuint(dev_stat(&e, "vi0-rx-pool-packets"), ==, 10);
    close(kfd);
    env_stop(&e, true);
    env_teardown(&e);
}

/*
 * A guest may post buffers that the pool cannot take (here one of 1 KiB
 * among the 2 KiB ones): the protocol allows them, so the VI goes back to
 * copying, without losing a frame, and uses them as any other.
 */
static void test_pool_fallback(void)
{
    enum { PORT = 5001, SMALL_SLOT = 5 };
    struct xna_desc *d;
    uint8_t f[600];
    int kfd;
    Env e;

    if (!env_setup(&e, NULL)) {
        return;
    }
    kfd = udp_socket(&e, e.ns_a, NULL, PORT);
    env_start(&e, rx_pool.props);
    stop_vi0(&e);

    /* The reset reposts every buffer; shrink one before the backend looks. */
    e.tf.hold_notify = true;
    g_assert_cmpint(xna_front_vi_reset(xna_front_vi(e.tf.f, 0), NULL, NULL),
                    ==, 0);
    d = xna_test_front_rx_desc(&e.tf, 0, SMALL_SLOT);
    g_assert_cmpuint(d->len, ==, 2048);
    d->len = 1024;
    xna_test_front_release(&e.tf);
    g_assert_true(xna_test_front_wait(&e.tf, vi0_up, &e,
                                      XEN_GUEST_TIMEOUT_MS));
    g_assert_true(wait_stat(&e, "vi0-pool-fallbacks", 1));
    g_assert_cmpuint(dev_stat(&e, "nic-pool-vis"), ==, 0);
    wait_sockets(&e);

    learn_port(&e, kfd, f, sizeof(f), PORT, 1);
    expect_fast(&e, f, sizeof(f), PORT, 1, 2 * SMALL_SLOT);
    g_assert_cmpuint(dev_stat(&e, "vi0-rx-packets"), ==, 2 * SMALL_SLOT);
    g_assert_cmpuint(dev_stat(&e, "vi0-rx-pool-packets"), ==, 0);
    close(kfd);
    env_stop(&e, true);
    env_teardown(&e);
}

/*
 * In the pool, RX descriptors are read when their buffers are given to
 * the NIC: one naming a pool page that does not exist stops the VI
 * (BAD_DESC) before any buffer reaches the kernel, and QEMU lives on.
 */
static void test_pool_bad_rx_desc(void)
{
    struct xna_desc *d;
    Env e;

    if (!env_setup(&e, NULL)) {
        return;
    }
    env_start(&e, rx_pool.props);
    stop_vi0(&e);
    e.tf.hold_notify = true;
    g_assert_cmpint(xna_front_vi_reset(xna_front_vi(e.tf.f, 0), NULL, NULL),
                    ==, 0);
    d = xna_test_front_rx_desc(&e.tf, 0, 3);
    d->page = 1000000;
    xna_test_front_release(&e.tf);
    g_assert_true(wait_stat(&e, "vi0-guest-errors", 2));
    g_assert_true(xna_test_front_wait(&e.tf, vi0_down, &e,
                                      XEN_GUEST_TIMEOUT_MS));
    g_assert_cmpuint(xna_vi_down_reason(xna_front_vi(e.tf.f, 0)), ==,
                     XNA_ERR_BAD_DESC);
    g_assert_cmpuint(dev_stat(&e, "nic-pool-vis"), ==, 0);
    wait_sockets(&e);
    g_assert_cmpuint(dev_stat(&e, "vi0-rx-pool-buffers"), ==, 0);
    g_assert_cmpuint(dev_stat(&e, "connects"), ==, 1);
    env_stop(&e, true);
    env_teardown(&e);
}

static bool pool_buffers_reached(void *opaque)
{
    Wait *w = opaque;

    return dev_stat(w->e, "vi0-rx-pool-buffers") >= w->want;
}

static bool wait_pool_buffers(Env *e, guint n)
{
    Wait w = { .e = e, .want = n };

    return xna_test_front_wait(&e->tf, pool_buffers_reached, &w,
                               XEN_GUEST_TIMEOUT_MS);
}

/*
 * A producer index never moves back.  In the pool it matters: buffers the
 * NIC holds would be the guest's again while the kernel may still write
 * them.  The VI stops (BAD_INDEX), QEMU and the device live on.
 */
static void test_pool_prod_back(void)
{
    struct xna_vi *vi;
    struct xna_vi_shared *sh;
    Env e;

    if (!env_setup(&e, NULL)) {
        return;
    }
    env_start(&e, rx_pool.props);
    g_assert_true(wait_pool_buffers(&e, 256));
    vi = xna_front_vi(e.tf.f, 0);
    sh = xna_test_front_vi_shared(&e.tf, 0);
    sh->rx_prod = xna_cpu_to_le32(xna_le32(sh->rx_prod) - 10);
    xna_front_vi_notify(vi);
    g_assert_true(xna_test_front_wait(&e.tf, vi0_down, &e,
                                      XEN_GUEST_TIMEOUT_MS));
    g_assert_cmpuint(xna_vi_down_reason(vi), ==, XNA_ERR_BAD_INDEX);
    g_assert_cmpuint(dev_stat(&e, "nic-pool-vis"), ==, 0);
    wait_sockets(&e);
    g_assert_cmpuint(dev_stat(&e, "vi0-pool-fallbacks"), ==, 0);
    g_assert_cmpuint(dev_stat(&e, "connects"), ==, 1);
    env_stop(&e, true);
    env_teardown(&e);
}

/*
 * The pool's receive queue is the guest's posted buffers, given to the
 * NIC by the backend.  It keeps the NIC at three quarters of the ring or
 * more: below that, the guest's reposting must wake it (a kick), as a NIC
 * without buffers receives nothing (the kernel drops) and so would never
 * wake it.  Bursts of three quarters of the ring, each drained by the
 * guest only after it all arrived, check that the NIC is refilled.
 */
static void test_pool_refill(void)
{
    enum { PORT = 5001, BURST = 256 / 4 * 3, ROUNDS = 4 };
    uint8_t f[200];
    guint got = 0;
    int kfd, round, i;
    Env e;

    if (!env_setup(&e, NULL)) {
        return;
    }
    kfd = udp_socket(&e, e.ns_a, NULL, PORT);
    env_start(&e, rx_pool.props);
    learn_port(&e, kfd, f, sizeof(f), PORT, 1);
    for (round = 0; round < ROUNDS; round++) {
        /*
         * The backend gives the guest's buffers to the NIC in its own
         * time: frames sent before that would be dropped.
         */
        g_assert_true(wait_pool_buffers(&e, BURST));
        /* The whole burst lands before the guest takes a frame. */
        for (i = 0; i < BURST; i++) {
            b_send(&e, f, sizeof(f), PORT, round * BURST + i, false);
        }
        g_assert_true(wait_stat(&e, "vi0-rx-pool-packets", got + BURST));
        got += BURST;
        g_assert_true(wait_rx(&e, got));
    }
    /* And one more, after the last refill. */
    expect_fast(&e, f, sizeof(f), PORT, 9999, 1);
    g_assert_cmpuint(dev_stat(&e, "vi0-rx-pool-packets"), ==, got + 1);
    close(kfd);
    env_stop(&e, true);
    env_teardown(&e);
}

/*
 * The guest reposts nothing: the NIC fills the buffers it was given, then
 * drops the rest, and says so (nic-rx-no-buffer and nic-rx-dropped, from
 * the kernel's XDP_STATISTICS): losses for want of buffers are visible.
 * Once the guest takes its frames and reposts, the flow goes on.
 */
static void test_pool_no_buffer(void)
{
    enum { PORT = 5001, RING = 256, EXTRA = 8 };
    uint8_t f[200];
    int kfd, i;
    Env e;

    if (!env_setup(&e, NULL)) {
        return;
    }
    kfd = udp_socket(&e, e.ns_a, NULL, PORT);
    env_start(&e, rx_pool.props);
    learn_port(&e, kfd, f, sizeof(f), PORT, 1);
    g_assert_true(wait_pool_buffers(&e, RING));
    g_assert_cmpuint(dev_stat(&e, "nic-rx-no-buffer"), ==, 0);
    g_assert_cmpuint(dev_stat(&e, "nic-rx-dropped"), ==, 0);
    for (i = 0; i < RING + EXTRA; i++) {
        b_send(&e, f, sizeof(f), PORT, i, false);
    }
    wait_stat_untaken(&e, "nic-rx-dropped", EXTRA);
    wait_stat_untaken(&e, "vi0-rx-pool-packets", RING);
    g_assert_cmpuint(dev_stat(&e, "nic-rx-dropped"), ==, EXTRA);
    g_assert_cmpuint(dev_stat(&e, "nic-rx-no-buffer"), ==, EXTRA);
    g_assert_cmpuint(dev_stat(&e, "nic-rx-ring-full"), ==, 0);
    g_assert_cmpuint(dev_stat(&e, "nic-rx-invalid"), ==, 0);
    g_assert_cmpuint(dev_stat(&e, "vi0-rx-pool-packets"), ==, RING);
    /* The program sent every one of them to the socket. */
    g_assert_cmpuint(dev_stat(&e, "nic-xdp-redirected"), ==, RING + EXTRA);
    g_assert_cmpuint(dev_stat(&e, "nic-xdp-passed"), ==, 1);
    g_assert_cmpuint(dev_stat(&e, "nic-xdp-sampled"), ==, 1);

    g_assert_true(wait_rx(&e, RING));
    /*
     * The reposted buffers reach the NIC after the guest's kick, which
     * the backend asks for while the NIC holds less than 3/4 of the ring.
     */
    g_assert_true(wait_pool_buffers(&e, RING / 4 * 3));
    expect_fast(&e, f, sizeof(f), PORT, 9999, 1);
    g_assert_cmpuint(dev_stat(&e, "vi0-rx-pool-packets"), ==, RING + 1);
    g_assert_cmpuint(dev_stat(&e, "nic-rx-dropped"), ==, EXTRA);
    close(kfd);
    env_stop(&e, true);
    env_teardown(&e);
}

/*
 * Copy mode, and the guest takes nothing: its 256 buffers fill, and the
 * rest of a burst waits in the socket's ring.  The socket stays readable,
 * so the device must stop polling it (else it would wake without end: a
 * dom0 CPU spent for a guest that posts nothing), and come back for the
 * rest once the guest has taken its frames and posted again, in order.
 * The device keeps a busy socket polled (nic-rx-wakeups counts the
 * wake-ups), and only that test tells a stop for want of buffers from a
 * ring the kernel filled again since the device's last look.
 */
static void test_copy_starved(void)
{
    enum { PORT = 5001, RING = 256, EXTRA = 100 };
    uint64_t wakeups;
    uint8_t f[200], want[200];
    GByteArray *last;
    guint base;
    int kfd, i;
    Env e;

    if (!env_setup(&e, NULL)) {
        return;
    }
    kfd = udp_socket(&e, e.ns_a, NULL, PORT);
    env_start(&e, rx_copy.props);
    learn_port(&e, kfd, f, sizeof(f), PORT, 1);
    base = e.rx->len;
    for (i = 1; i <= RING + EXTRA; i++) {
        b_send(&e, f, sizeof(f), PORT, i, false);
    }
    wait_stat_untaken(&e, "vi0-rx-packets", RING);
    g_assert_cmpuint(dev_stat(&e, "vi0-rx-packets"), ==, RING);
    g_usleep(50 * 1000);
    wakeups = dev_stat(&e, "nic-rx-wakeups");
    g_usleep(300 * 1000);
    g_assert_cmpuint(dev_stat(&e, "nic-rx-wakeups"), <=, wakeups + 1);
    g_assert_cmpuint(dev_stat(&e, "vi0-rx-packets"), ==, RING);

    g_assert_true(wait_rx(&e, base + RING + EXTRA));
    g_assert_cmpuint(dev_stat(&e, "vi0-rx-packets"), ==, RING + EXTRA);
    g_assert_cmpuint(dev_stat(&e, "nic-rx-dropped"), ==, 0);
    xna_test_udp4_frame(want, sizeof(want), guest_mac, peer_mac, peer_ip,
                        guest_ip, 3000, PORT, RING + EXTRA);
    last = g_ptr_array_index(e.rx, base + RING + EXTRA - 1);
    g_assert_cmpmem(last->data, last->len, want, sizeof(want));
    close(kfd);
    env_stop(&e, true);
    env_teardown(&e);
}

/*
 * Bursts into a busy socket, copy mode: frames that the kernel adds while
 * the device reads the ring must wake it again.  The device keeps the
 * socket polled after a read that emptied the ring; had it judged by the
 * ring being empty after its run, a frame that came in between would
 * have stopped the polling for good (tests/xen/bench stalled so).
 */
static void test_copy_bursts(void)
{
    enum { PORT = 5001, ROUNDS = 40, BURST = 64 };
    uint8_t f[200];
    guint base;
    int kfd, r, i;
    Env e;

    if (!env_setup(&e, NULL)) {
        return;
    }
    kfd = udp_socket(&e, e.ns_a, NULL, PORT);
    env_start(&e, rx_copy.props);
    learn_port(&e, kfd, f, sizeof(f), PORT, 1);
    base = e.rx->len;
    for (r = 0; r < ROUNDS; r++) {
        for (i = 0; i < BURST; i++) {
            b_send(&e, f, sizeof(f), PORT, 1 + r * BURST + i, false);
        }
        g_assert_true(wait_rx(&e, base + (r + 1) * BURST));
    }
    g_assert_cmpuint(dev_stat(&e, "vi0-rx-packets"), ==, ROUNDS * BURST);
    g_assert_cmpuint(dev_stat(&e, "nic-rx-dropped"), ==, 0);
    close(kfd);
    env_stop(&e, true);
    env_teardown(&e);
}

static const uint8_t guest_ip6[16] = { 0xfd, 0x77, [15] = 2 };
static const uint8_t peer_ip6[16] = { 0xfd, 0x77, [15] = 1 };

static bool port_6001_fast(void *opaque)
{
    Env *e = opaque;

    return xna_front_flow_is_fast(e->tf.f, XNA_FILTER_IPV6_UDP, guest_ip6,
                                  htons(6001));
}

/*
 * IPv6 flows: the XDP program parses them, samples the first frame, and
 * the learned IPv6 filter takes the next ones to the VI.  (IPv6 is off in
 * the namespace: the kernel drops what it gets, and no datagram is
 * checked there.)
 */
static void test_learning_ipv6(void)
{
    enum { PORT = 6001, FRAMES = 10 };
    uint8_t f[300];
    int i;
    Env e;

    if (!env_setup(&e, NULL)) {
        return;
    }
    env_start(&e, rx_pool.props);
    xna_test_udp6_frame(f, sizeof(f), guest_mac, peer_mac, peer_ip6,
                        guest_ip6, 3000, PORT, 0);
    g_assert_cmpint(send(e.pkt_b, f, sizeof(f), 0), ==, sizeof(f));
    g_assert_true(xna_test_front_wait(&e.tf, port_6001_fast, &e,
                                      XEN_GUEST_TIMEOUT_MS));
    g_assert_cmpuint(e.rx->len, ==, 0);
    for (i = 1; i <= FRAMES; i++) {
        xna_test_udp6_frame(f, sizeof(f), guest_mac, peer_mac, peer_ip6,
                            guest_ip6, 3000, PORT, i);
        g_assert_cmpint(send(e.pkt_b, f, sizeof(f), 0), ==, sizeof(f));
        g_assert_true(wait_rx(&e, i));
        g_assert_cmpmem(((GByteArray *)g_ptr_array_index(e.rx, i - 1))->data,
                        ((GByteArray *)g_ptr_array_index(e.rx, i - 1))->len,
                        f, sizeof(f));
    }
    g_assert_cmpuint(dev_stat(&e, "vi0-rx-pool-packets"), ==, FRAMES);
    env_stop(&e, true);
    env_teardown(&e);
}

/*
 * mac-filter=on: a MAC entry in the XDP map takes every unicast frame to
 * the guest's MAC to VI 0 from the first one, learned flow or not; frames
 * to other MACs still go to the kernel.
 */
static void test_mac_filter(void)
{
    enum { PORT = 5001 };
    uint8_t f[300];
    int kfd;
    Env e;

    if (!env_setup(&e, NULL)) {
        return;
    }
    kfd = udp_socket(&e, e.ns_a, NULL, PORT);
    env_start(&e, "max-filters=8,mac-filter=on");
    b_send(&e, f, sizeof(f), PORT, 0, false);
    g_assert_true(wait_rx(&e, 1));
    g_assert_cmpmem(((GByteArray *)g_ptr_array_index(e.rx, 0))->data,
                    ((GByteArray *)g_ptr_array_index(e.rx, 0))->len,
                    f, sizeof(f));
    /* A broadcast is not the guest's unicast: the kernel gets it. */
    b_send(&e, f, sizeof(f), PORT, 1, true);
    expect_datagram(kfd, f, sizeof(f));
    g_assert_cmpuint(e.rx->len, ==, 1);
    close(kfd);
    env_stop(&e, true);
    env_teardown(&e);
}

static void expect_add_error(Env *e, const char *props, const char *what)
{
    g_autofree char *json = g_strdup_printf(
        "{ 'driver': 'xen-net-accel', 'nic': 'afxdp', "
        "'mac': '" GUEST_MAC "', %s }", props);
    QObject *args = qobject_from_json(json, &error_abort);
    QDict *rsp = qtest_qmp(e->qts, "{ 'execute': 'device_add', "
                           "'arguments': %p }", args);
    const char *desc;

    g_assert(qdict_haskey(rsp, "error"));
    desc = qdict_get_str(qdict_get_qdict(rsp, "error"), "desc");
    g_test_message("device_add %s: %s", props, desc);
    g_assert_nonnull(strstr(desc, what));
    qobject_unref(rsp);
}

/* Bad configurations fail at realize, with a message that says why. */
static void test_bad_config(void)
{
    Env e;

    /* xp0's MTU is too large for XDP on its veth peer without frags. */
    if (!env_setup(&e, " mtu 9000")) {
        return;
    }
    env_start_qemu(&e, NULL);
    expect_add_error(&e, "'ifname': 'xna-nope0'", "no such interface");
    expect_add_error(&e, "'ifname': 'xq0', 'start-queue': 2",
                     "do not exist");
    expect_add_error(&e, "'ifname': 'xq0', 'max-vis': 3",
                     "fewer than max-vis 3");
    expect_add_error(&e, "'ifname': 'xq0', 'start-queue': 1, "
                     "'max-vis': 2", "do not exist");
    expect_add_error(&e, "'max-vis': 1", "needs an ifname");
    expect_add_error(&e, "'ifname': 'xq0'", "cannot attach an XDP program");
    g_assert_false(xdp_attached(&e));
    env_stop(&e, false);
    env_teardown(&e);
}

/*
 * A copy VI whose queue is held sends through a packet socket meanwhile:
 * what the guest sends leaves at once, and the VI takes its own socket
 * when the queue is free.
 */
static void test_queue_busy_copy_tx(void)
{
    enum { PORT = 7000, FRAMES = 5 };
    uint8_t f[2 * FRAMES][600];
    int bfd, hold, i;
    Env e;

    if (!env_setup(&e, NULL)) {
        return;
    }
    bfd = udp_socket(&e, e.ns_b, peer_ip, PORT);
    hold = hold_queue(&e, 0);
    env_start_full(&e, rx_copy.props, false);
    g_assert_cmpuint(dev_stat(&e, "nic-sockets-waiting"), ==, 1);
    for (i = 0; i < 2 * FRAMES; i++) {
        xna_test_udp4_frame(f[i], sizeof(f[i]), peer_mac, guest_mac,
                            guest_ip, peer_ip, 4000, PORT, i);
    }
    for (i = 0; i < FRAMES; i++) {
        g_assert_cmpint(xna_test_front_send(&e.tf, 0, f[i], sizeof(f[i])),
                        ==, 0);
        expect_datagram(bfd, f[i], sizeof(f[i]));
    }
    g_assert_cmpuint(dev_stat(&e, "vi0-tx-packets"), ==, FRAMES);
    g_assert_cmpuint(dev_stat(&e, "nic-tx-dropped"), ==, 0);

    close(hold);
    wait_sockets(&e);
    for (i = FRAMES; i < 2 * FRAMES; i++) {
        g_assert_cmpint(xna_test_front_send(&e.tf, 0, f[i], sizeof(f[i])),
                        ==, 0);
        expect_datagram(bfd, f[i], sizeof(f[i]));
    }
    g_assert_cmpuint(dev_stat(&e, "vi0-tx-packets"), ==, 2 * FRAMES);
    g_assert_cmpuint(dev_stat(&e, "nic-tx-dropped"), ==, 0);
    close(bfd);
    env_stop(&e, true);
    env_teardown(&e);
}

/*
 * A VI stopped and reset (three times) while its socket waits keeps
 * waiting, loses none of the guest's buffers, and receives into the pool
 * once the queue is free.
 */
static void test_queue_busy_reset(void)
{
    enum { PORT = 5001 };
    uint8_t f[600];
    int kfd, hold, r;
    Env e;

    if (!env_setup(&e, NULL)) {
        return;
    }
    kfd = udp_socket(&e, e.ns_a, NULL, PORT);
    hold = hold_queue(&e, 0);
    env_start_full(&e, rx_pool.props, false);
    g_assert_cmpuint(dev_stat(&e, "nic-sockets-waiting"), ==, 1);
    for (r = 0; r < 3; r++) {
        stop_vi0(&e);
        g_assert_cmpuint(dev_stat(&e, "nic-sockets-waiting"), ==, 1);
        g_assert_cmpint(xna_front_vi_reset(xna_front_vi(e.tf.f, 0), NULL, NULL),
                        ==, 0);
        g_assert_true(xna_test_front_wait(&e.tf, vi0_up, &e,
                                          XEN_GUEST_TIMEOUT_MS));
        g_assert_cmpuint(dev_stat(&e, "nic-sockets-waiting"), ==, 1);
    }
    learn_port(&e, kfd, f, sizeof(f), PORT, 1);
    b_send(&e, f, sizeof(f), PORT, 1, false);
    expect_datagram(kfd, f, sizeof(f));
    close(hold);
    g_assert_true(wait_stat(&e, "nic-pool-vis", 1));
    expect_fast(&e, f, sizeof(f), PORT, 2, 600);
    g_assert_cmpuint(dev_stat(&e, "vi0-rx-pool-packets"), ==, 600);
    g_assert_cmpuint(dev_stat(&e, "vi0-pool-fallbacks"), ==, 0);
    close(kfd);
    env_stop(&e, true);
    env_teardown(&e);
}

/*
 * The guest disconnects while the socket waits: nothing waits any more,
 * and freeing the queue later finds nothing to do.
 */
static void test_queue_busy_disconnect(void)
{
    int hold;
    Env e;

    if (!env_setup(&e, NULL)) {
        return;
    }
    hold = hold_queue(&e, 0);
    env_start_full(&e, rx_pool.props, false);
    g_assert_cmpuint(dev_stat(&e, "nic-sockets-waiting"), ==, 1);
    xna_test_front_close(&e.tf);
    g_assert_cmpuint(dev_stat(&e, "nic-sockets-waiting"), ==, 0);
    close(hold);
    g_usleep(600 * 1000);
    /* QEMU is alive and nothing came back to wait. */
    g_assert_cmpuint(dev_stat(&e, "nic-sockets-waiting"), ==, 0);
    e.started = false;
    env_stop(&e, false);
    env_teardown(&e);
}

/* Two guests on one interface */

/*
 * B sends a UDP frame to @mac/@ip that xq0 receives on queue @queue:
 * xp0 picks its transmit queue by the sending CPU (XPS, set up by
 * test_two_guests), and a veth receives on the queue its peer sent on.
 * This stands for a real NIC's flow steering (ethtool -N).
 */
static void b_send_on(Env *e, int queue, uint8_t *f, size_t len,
                      const uint8_t *mac, const uint8_t *ip, uint16_t dport,
                      uint32_t seq)
{
    cpu_set_t old, one;

    g_assert_cmpint(sched_getaffinity(0, sizeof(old), &old), ==, 0);
    CPU_ZERO(&one);
    CPU_SET(queue, &one);
    g_assert_cmpint(sched_setaffinity(0, sizeof(one), &one), ==, 0);
    xna_test_udp4_frame(f, len, mac, peer_mac, peer_ip, ip, 3000, dport,
                        seq);
    g_assert_cmpint(send(e->pkt_b, f, len, 0), ==, len);
    g_assert_cmpint(sched_setaffinity(0, sizeof(old), &old), ==, 0);
}

/* A second guest in the namespaces of @e: its own QEMU and frontend. */
static void env_share(Env *e2, const Env *e)
{
    memset(e2, 0, sizeof(*e2));
    memcpy(e2->ns_a, e->ns_a, sizeof(e2->ns_a));
    memcpy(e2->ns_b, e->ns_b, sizeof(e2->ns_b));
    e2->ns_root = e->ns_root;
    e2->pkt_b = e->pkt_b;
}

static void assert_frame(Env *e, guint i, const uint8_t *f, size_t len)
{
    GByteArray *b = g_ptr_array_index(e->rx, i);

    g_assert_cmpmem(b->data, b->len, f, len);
}

/* Let frames in flight arrive, then take what the guest has. */
static void settle(Env *e)
{
    g_usleep(100 * 1000);
    poll_rx(e);
}

/*
 * A QEMU that died left its guest's entry and filters in a slot that
 * nobody holds any more: what the test puts in the maps before the
 * second guest comes.  Slot 1, which the second guest will take, has a
 * filter map of the dead one's; slot 7 claims the second guest's own
 * MAC.  Returns the dead one's filter map.
 */
static int plant_ghosts(Env *e, int gfd)
{
    LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
    struct bpf_map_info info;
    struct xna_bpf_mac mac = { { 0 } };
    struct xna_bpf_guest g = { .slot = 7, .start_queue = 1, .nr_vis = 1 };
    struct xna_bpf_key key = { .kind = XNA_FILTER_IPV4_UDP,
                               .dst_port = htons(5999) };
    struct xna_bpf_filter vi = { 0 };
    uint32_t slot = 1;
    int ffd, outer;

    memcpy(mac.addr, guest2_mac, 6);
    g_assert_cmpint(bpf_map_update_elem(gfd, &mac, &g, BPF_NOEXIST), ==, 0);
    memcpy(mac.addr, other_mac, 6);
    g.slot = 1;
    g_assert_cmpint(bpf_map_update_elem(gfd, &mac, &g, BPF_NOEXIST), ==, 0);
    ffd = bpf_map_create(BPF_MAP_TYPE_HASH, "ghost", sizeof(key), sizeof(vi),
                         8, &o);
    g_assert_cmpint(ffd, >=, 0);
    memcpy(key.dst_addr, guest2_ip, 4);
    g_assert_cmpint(bpf_map_update_elem(ffd, &key, &vi, BPF_NOEXIST), ==, 0);
    outer = find_map(e, "xna_filters", &info);
    g_assert_cmpint(bpf_map_update_elem(outer, &slot, &ffd, BPF_ANY), ==, 0);
    close(outer);
    return ffd;
}

/*
 * Two QEMUs, each with its guest, share xq0: one XDP program, each guest
 * on its own queue (the first free), each guest's flows learned and
 * steered to its own VI only; a frame that comes on a queue that is not
 * its guest's goes to the kernel; one MAC cannot be taken twice; what a
 * dead QEMU left is cleared by the next; the program stays while one
 * QEMU uses it, and goes with the last.
 */
/*
 * xq0 with two receive queues for two guests: xp0 sends on the queue of
 * the sending CPU (XPS), so the test needs 2 CPUs.
 */
static bool two_guests_setup(Env *e)
{
    if (!env_setup_txq(e, NULL, 2)) {
        return false;
    }
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
        g_test_skip("needs 2 CPUs (one per transmit queue of xp0)");
        env_teardown(e);
        return false;
    }
    g_assert_true(run("ip netns exec %s sh -c 'echo 1 > "
                      "/sys/class/net/xp0/queues/tx-0/xps_cpus && echo 2 > "
                      "/sys/class/net/xp0/queues/tx-1/xps_cpus'", e->ns_b));
    return true;
}

static void test_two_guests(void)
{
    enum { PORT1 = 5101, PORT2 = 5102 };
    struct bpf_map_info info;
    uint8_t f[8][300];
    uint32_t prog_id;
    int kfd, gfd, ghost, ffd;
    Env e, e2;

    if (!two_guests_setup(&e)) {
        return;
    }
    kfd = udp_socket(&e, e.ns_a, NULL, PORT1);
    env_start_guest(&e, GUEST_MAC, "max-vis=1,max-filters=8", true, true);
    g_assert_cmpuint(dev_stat(&e, "nic-start-queue"), ==, 0);
    gfd = find_map(&e, "xna_guests_v3", &info);
    g_assert_cmpint(gfd, >=, 0);
    ghost = plant_ghosts(&e, gfd);
    g_assert_cmpuint(map_count(gfd), ==, 3);

    /* The second joins the program, takes the next queue, clears ghosts. */
    env_share(&e2, &e);
    env_start_guest(&e2, GUEST2_MAC, "max-vis=1,max-filters=8", false, true);
    g_assert_cmpuint(e2.prog_id, ==, e.prog_id);
    g_assert_cmpuint(dev_stat(&e2, "nic-start-queue"), ==, 1);
    g_assert_cmpuint(map_count(gfd), ==, 2);
    ffd = guest_filters(&e, 1);
    g_assert_cmpint(ffd, >=, 0);
    g_assert_cmpuint(map_id(ffd), !=, map_id(ghost));
    g_assert_cmpuint(map_count(ffd), ==, 0);
    close(ghost);
    /* A MAC accelerated on xq0 is not taken by a second QEMU. */
    expect_add_error(&e2, "'id': 'xna9', 'ifname': 'xq0', 'max-vis': 1",
                     "is accelerated there already");

    /* Each learns its flow from the kernel's copy, then gets it. */
    b_send_on(&e, 0, f[0], sizeof(f[0]), guest_mac, guest_ip, PORT1, 0);
    expect_datagram(kfd, f[0], sizeof(f[0]));
    g_assert_true(wait_stat(&e, "filters-inserted", 1));
    b_send_on(&e, 1, f[1], sizeof(f[1]), guest2_mac, guest2_ip, PORT2, 1);
    g_assert_true(wait_stat(&e2, "filters-inserted", 1));
    b_send_on(&e, 0, f[2], sizeof(f[2]), guest_mac, guest_ip, PORT1, 2);
    b_send_on(&e, 1, f[3], sizeof(f[3]), guest2_mac, guest2_ip, PORT2, 3);
    g_assert_true(wait_rx(&e, 1));
    g_assert_true(wait_rx(&e2, 1));
    assert_frame(&e, 0, f[2], sizeof(f[2]));
    assert_frame(&e2, 0, f[3], sizeof(f[3]));

    /*
     * A frame to the second guest's MAC with the first one's flow, on
     * the first one's queue, is not the first one's: the second's
     * backend sees it (a copy), the kernel gets it.
     */
    b_send_on(&e, 0, f[4], sizeof(f[4]), guest2_mac, guest_ip, PORT1, 4);
    g_assert_true(wait_stat(&e2, "nic-xdp-sampled", 2));
    /* The second's flow on the first one's queue: to the kernel. */
    b_send_on(&e, 0, f[5], sizeof(f[5]), guest2_mac, guest2_ip, PORT2, 5);
    g_assert_true(wait_stat(&e2, "nic-xdp-no-vi-queue", 1));
    settle(&e);
    settle(&e2);
    g_assert_cmpuint(e.rx->len, ==, 1);
    g_assert_cmpuint(e2.rx->len, ==, 1);
    g_assert_cmpuint(dev_stat(&e, "nic-xdp-redirected"), ==, 1);

    /*
     * Even with its entry naming the first guest's queue (as a join that
     * took a live guest for dead once left it), a frame to the second
     * guest never reaches the first one's socket: sockets are found by
     * slot, not by queue.
     */
    {
        struct xna_bpf_mac mac = { { 0 } };
        struct xna_bpf_guest g;

        memcpy(mac.addr, guest2_mac, 6);
        g_assert_cmpint(bpf_map_lookup_elem(gfd, &mac, &g), ==, 0);
        g.start_queue = 0;
        g_assert_cmpint(bpf_map_update_elem(gfd, &mac, &g, BPF_EXIST), ==, 0);
        b_send_on(&e, 0, f[7], sizeof(f[7]), guest2_mac, guest2_ip, PORT2, 7);
        settle(&e);
        settle(&e2);
        g_assert_cmpuint(e.rx->len, ==, 1);
        g.start_queue = 1;
        g_assert_cmpint(bpf_map_update_elem(gfd, &mac, &g, BPF_EXIST), ==, 0);
    }

    /*
     * The QEMU that attached the program goes: the program stays for the
     * other guest, whose flow stays fast.
     */
    xen_guest_free(e.g);
    qtest_quit(e.qts);
    g_ptr_array_unref(e.rx);
    g_array_unref(e.rx_flags);
    g_assert_true(xdp_attached(&e2));
    ns_enter(e.ns_a);
    g_assert_cmpint(bpf_xdp_query_id(if_nametoindex("xq0"), 0, &prog_id),
                    ==, 0);
    ns_leave(&e);
    g_assert_cmpuint(prog_id, ==, e2.prog_id);
    g_assert_cmpuint(map_count(gfd), ==, 1);
    b_send_on(&e2, 1, f[6], sizeof(f[6]), guest2_mac, guest2_ip, PORT2, 6);
    g_assert_true(wait_rx(&e2, 2));
    assert_frame(&e2, 1, f[6], sizeof(f[6]));

    /* The last one's VI goes: the program and its maps with it. */
    close(gfd);
    close(ffd);
    close(kfd);
    env_stop(&e2, true);
    env_teardown(&e);
}

/*
 * kill -9 of a QEMU whose guest shares the program: nothing of it can
 * clean up.  The test reaps it; its QTestState is left alone (libqtest
 * aborts on waiting for a QEMU a signal killed).
 */
static void kill_qemu(Env *e)
{
    pid_t pid = qtest_pid(e->qts);
    int status;

    g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    xen_guest_free(e->g);
    g_ptr_array_unref(e->rx);
    g_array_unref(e->rx_flags);
}

/*
 * Two guests share the program, and each QEMU in turn is killed (-9)
 * while the other runs: the program stays with the survivor, whose flow
 * stays fast; the dead one's entry is a ghost until a new QEMU for that
 * guest takes its slot and queue back and is fast again.  The program
 * goes with the last.
 */
static void test_two_guests_kill(void)
{
    enum { PORT1 = 5101, PORT2 = 5102 };
    struct bpf_map_info info;
    uint8_t f[6][300];
    uint32_t prog_id;
    int gfd;
    Env e, e2, e3;

    if (!two_guests_setup(&e)) {
        return;
    }
    env_start_guest(&e, GUEST_MAC, "max-vis=1,max-filters=8", true, true);
    gfd = find_map(&e, "xna_guests_v3", &info);
    g_assert_cmpint(gfd, >=, 0);
    env_share(&e2, &e);
    env_start_guest(&e2, GUEST2_MAC, "max-vis=1,max-filters=8", false, true);
    g_assert_cmpuint(e2.prog_id, ==, e.prog_id);
    g_assert_cmpuint(dev_stat(&e2, "nic-start-queue"), ==, 1);

    /* The joiner dies: the program and the first guest's fast path stay. */
    kill_qemu(&e2);
    g_assert_true(xdp_attached(&e));
    ns_enter(e.ns_a);
    g_assert_cmpint(bpf_xdp_query_id(if_nametoindex("xq0"), 0, &prog_id),
                    ==, 0);
    ns_leave(&e);
    g_assert_cmpuint(prog_id, ==, e.prog_id);
    g_assert_cmpuint(map_count(gfd), ==, 2);
    b_send_on(&e, 0, f[0], sizeof(f[0]), guest_mac, guest_ip, PORT1, 0);
    g_assert_true(wait_stat(&e, "filters-inserted", 1));
    b_send_on(&e, 0, f[1], sizeof(f[1]), guest_mac, guest_ip, PORT1, 1);
    g_assert_true(wait_rx(&e, 1));
    assert_frame(&e, 0, f[1], sizeof(f[1]));

    /* A new QEMU for the dead one's guest takes its slot and queue back. */
    env_share(&e3, &e);
    env_start_guest(&e3, GUEST2_MAC, "max-vis=1,max-filters=8", false, true);
    g_assert_cmpuint(e3.prog_id, ==, e.prog_id);
    g_assert_cmpuint(dev_stat(&e3, "nic-start-queue"), ==, 1);
    g_assert_cmpuint(map_count(gfd), ==, 2);

    /* Now the QEMU that attached the program dies: the program stays. */
    kill_qemu(&e);
    g_assert_true(xdp_attached(&e3));
    ns_enter(e3.ns_a);
    g_assert_cmpint(bpf_xdp_query_id(if_nametoindex("xq0"), 0, &prog_id),
                    ==, 0);
    ns_leave(&e3);
    g_assert_cmpuint(prog_id, ==, e3.prog_id);
    b_send_on(&e3, 1, f[2], sizeof(f[2]), guest2_mac, guest2_ip, PORT2, 2);
    g_assert_true(wait_stat(&e3, "filters-inserted", 1));
    b_send_on(&e3, 1, f[3], sizeof(f[3]), guest2_mac, guest2_ip, PORT2, 3);
    g_assert_true(wait_rx(&e3, 1));
    assert_frame(&e3, 0, f[3], sizeof(f[3]));

    /* The last one's VI goes: the program and its maps with it. */
    close(gfd);
    env_stop(&e3, true);
    env_teardown(&e);
}

/* One request to the helper, as a QEMU would; the reply's error. */
static int helper_ask(int sock, XnaAfxdpHelperReq *req, int fd_in,
                      int *fds, int max_fds, int *nr)
{
    XnaAfxdpHelperRep rep;
    int got = 0;

    g_assert_cmpint(xna_afxdp_helper_send(sock, req, sizeof(*req),
                                          fd_in >= 0 ? &fd_in : NULL,
                                          fd_in >= 0), ==, 0);
    g_assert_cmpint(xna_afxdp_helper_recv(sock, &rep, sizeof(rep),
                                          fds, max_fds, &got), ==, 0);
    if (nr) {
        *nr = got;
    } else {
        g_assert_cmpint(got, ==, 0);
    }
    return rep.err;
}

/*
 * A hostile QEMU talks to its helper: every request out of its bounds is
 * refused and the helper goes on; what it gets of the program is its
 * own slot only; the helper exits, and the program goes, with its end.
 */
static void test_helper_hostile(void)
{
    const char *const args[] = {
        "--ifname", "xq0", "--mac", GUEST_MAC, "--max-vis", "1",
        "--max-filters", "16", NULL,
    };
    XnaAfxdpHelperReq req;
    int sock, fds[4], nr, udp, xsk, i;
    uint64_t zero[256] = { 0 };
    uint32_t key = 0;
    char junk[3] = { 1, 2, 3 };
    Env e;

    if (!env_setup(&e, NULL)) {
        return;
    }
    sock = helper_spawn(&e, args);

    /* Not a request: refused, and the helper still answers. */
    g_assert_cmpint(send(sock, junk, sizeof(junk), 0), ==, sizeof(junk));
    {
        XnaAfxdpHelperRep rep;

        g_assert_cmpint(xna_afxdp_helper_recv(sock, &rep, sizeof(rep), fds,
                                              4, &nr), ==, 0);
        g_assert_cmpint(rep.err, ==, -EINVAL);
        g_assert_cmpint(nr, ==, 0);
    }
    req = (XnaAfxdpHelperReq) { .version = 99,
                                .op = XNA_AFXDP_HELPER_XSK_SOCKET };
    g_assert_cmpint(helper_ask(sock, &req, -1, NULL, 0, NULL), ==, -EPROTO);
    req = (XnaAfxdpHelperReq) { .version = XNA_AFXDP_HELPER_VERSION,
                                .op = 1000 };
    g_assert_cmpint(helper_ask(sock, &req, -1, NULL, 0, NULL), ==, -EINVAL);
    /* Nothing to bind to before the slot. */
    udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    req = (XnaAfxdpHelperReq) { .version = XNA_AFXDP_HELPER_VERSION,
                                .op = XNA_AFXDP_HELPER_XSK_BIND };
    g_assert_cmpint(helper_ask(sock, &req, udp, NULL, 0, NULL), ==,
                    -ENOTCONN);
    /* More VIs or filters than its hotplug script gave it. */
    req = (XnaAfxdpHelperReq) { .version = XNA_AFXDP_HELPER_VERSION,
                                .op = XNA_AFXDP_HELPER_ATTACH, .nr_vis = 2,
                                .max_filters = 8,
                                .prefer_queue = UINT32_MAX };
    g_assert_cmpint(helper_ask(sock, &req, -1, NULL, 0, NULL), ==, -EPERM);
    req.nr_vis = 1;
    req.max_filters = 17;
    g_assert_cmpint(helper_ask(sock, &req, -1, NULL, 0, NULL), ==, -EPERM);
    g_assert_false(xdp_attached(&e));
    /* Within them: its own maps, the counters read only. */
    req.max_filters = 16;
    g_assert_cmpint(helper_ask(sock, &req, -1, fds, 4, &nr), ==, 0);
    g_assert_cmpint(nr, ==, XNA_AFXDP_HELPER_ATTACH_FDS);
    g_assert_true(xdp_attached(&e));
    note_prog(&e);
    g_assert_cmpint(bpf_map_update_elem(fds[XNA_AFXDP_HELPER_FD_STATS], &key,
                                        zero, BPF_ANY), <, 0);
    g_assert_cmpint(errno, ==, EPERM);
    for (i = 0; i < nr; i++) {
        close(fds[i]);
    }
    /*
     * Detach leaves the slot the helper's (the QEMU may hold sockets on
     * its queues): the program stays, and attach gives the same slot.
     */
    req.op = XNA_AFXDP_HELPER_DETACH;
    g_assert_cmpint(helper_ask(sock, &req, -1, NULL, 0, NULL), ==, 0);
    g_assert_true(xdp_attached(&e));
    req.op = XNA_AFXDP_HELPER_ATTACH;
    req.nr_vis = 2;
    g_assert_cmpint(helper_ask(sock, &req, -1, NULL, 0, NULL), ==, -EPERM);
    req.nr_vis = 1;
    g_assert_cmpint(helper_ask(sock, &req, -1, fds, 4, &nr), ==, 0);
    g_assert_cmpint(nr, ==, XNA_AFXDP_HELPER_ATTACH_FDS);
    for (i = 0; i < nr; i++) {
        close(fds[i]);
    }
    /* A descriptor where none is expected: refused (and closed). */
    req = (XnaAfxdpHelperReq) { .version = XNA_AFXDP_HELPER_VERSION,
                                .op = XNA_AFXDP_HELPER_XSK_SOCKET };
    g_assert_cmpint(helper_ask(sock, &req, udp, NULL, 0, NULL), ==, -EINVAL);
    /* Binds: not an AF_XDP socket, another VI's queue, bad flags. */
    req = (XnaAfxdpHelperReq) { .version = XNA_AFXDP_HELPER_VERSION,
                                .op = XNA_AFXDP_HELPER_XSK_BIND,
                                .flags = XDP_COPY };
    g_assert_cmpint(helper_ask(sock, &req, udp, NULL, 0, NULL), ==, -EINVAL);
    req.op = XNA_AFXDP_HELPER_XSK_SOCKET;
    g_assert_cmpint(helper_ask(sock, &req, -1, &xsk, 1, &nr), ==, 0);
    g_assert_cmpint(nr, ==, 1);
    req.op = XNA_AFXDP_HELPER_XSK_BIND;
    req.vi = 1;
    g_assert_cmpint(helper_ask(sock, &req, xsk, NULL, 0, NULL), ==, -EINVAL);
    req.vi = 0;
    req.flags = XDP_SHARED_UMEM;
    g_assert_cmpint(helper_ask(sock, &req, xsk, NULL, 0, NULL), ==, -EINVAL);
    req.flags = XDP_COPY | XDP_ZEROCOPY;
    g_assert_cmpint(helper_ask(sock, &req, xsk, NULL, 0, NULL), ==, -EINVAL);
    /* Zero-copy only where the command line allows it. */
    req.flags = XDP_ZEROCOPY;
    g_assert_cmpint(helper_ask(sock, &req, xsk, NULL, 0, NULL), ==,
                    -EOPNOTSUPP);
    close(xsk);
    /* A packet socket: bound to send; its drop-all filter is locked. */
    req = (XnaAfxdpHelperReq) { .version = XNA_AFXDP_HELPER_VERSION,
                                .op = XNA_AFXDP_HELPER_PACKET_SOCKET };
    g_assert_cmpint(helper_ask(sock, &req, -1, fds, 1, &nr), ==, 0);
    g_assert_cmpint(nr, ==, 1);
    i = 1;
    g_assert_cmpint(setsockopt(fds[0], SOL_SOCKET, SO_DETACH_FILTER, &i,
                               sizeof(i)), <, 0);
    g_assert_cmpint(errno, ==, EPERM);
    close(fds[0]);
    close(udp);
    /*
     * Sockets beyond a burst are refused (each holds kernel memory the
     * QEMU is not charged for); the helper goes on.
     */
    req = (XnaAfxdpHelperReq) { .version = XNA_AFXDP_HELPER_VERSION,
                                .op = XNA_AFXDP_HELPER_XSK_SOCKET };
    for (i = 0; i < 200; i++) {
        int err = helper_ask(sock, &req, -1, &xsk, 1, &nr);

        if (err) {
            g_assert_cmpint(err, ==, -EAGAIN);
            g_assert_cmpint(nr, ==, 0);
            break;
        }
        close(xsk);
    }
    g_assert_cmpint(i, >, 64);
    g_assert_cmpint(i, <, 200);
    req.op = XNA_AFXDP_HELPER_DETACH;
    g_assert_cmpint(helper_ask(sock, &req, -1, NULL, 0, NULL), ==, 0);

    /* The QEMU goes: so do the helper and, its last user, the program. */
    close(sock);
    helper_wait(&e);
    assert_clean(&e);
    env_teardown(&e);
}

/*
 * With --qemu-pid the helper keeps the slot until that process ends, not
 * merely its socket: a QEMU that closed it (or sent an empty message)
 * may still hold sockets bound to the slot's queues.
 */
static void test_helper_waits_for_qemu(void)
{
    Env e;
    pid_t qemu;
    int sock, fds[4], nr, i;
    char pid_arg[16];
    const char *args[] = {
        "--ifname", "xq0", "--mac", GUEST_MAC, "--max-vis", "1",
        "--max-filters", "16", "--qemu-pid", pid_arg, NULL,
    };
    XnaAfxdpHelperReq req = {
        .version = XNA_AFXDP_HELPER_VERSION, .op = XNA_AFXDP_HELPER_ATTACH,
        .nr_vis = 1, .max_filters = 16, .prefer_queue = UINT32_MAX,
    };

    if (!env_setup(&e, NULL)) {
        return;
    }
    qemu = fork();
    g_assert_cmpint(qemu, >=, 0);
    if (qemu == 0) {
        pause();
        _exit(0);
    }
    snprintf(pid_arg, sizeof(pid_arg), "%d", qemu);
    sock = helper_spawn(&e, args);
    g_assert_cmpint(helper_ask(sock, &req, -1, fds, 4, &nr), ==, 0);
    for (i = 0; i < nr; i++) {
        close(fds[i]);
    }
    note_prog(&e);
    g_assert_cmpint(send(sock, "", 0, 0), ==, 0);
    close(sock);
    g_usleep(300 * 1000);
    g_assert_cmpint(waitpid(e.helper_pid, NULL, WNOHANG), ==, 0);
    g_assert_true(xdp_attached(&e));
    kill(qemu, SIGKILL);
    g_assert_cmpint(waitpid(qemu, NULL, 0), ==, qemu);
    helper_wait(&e);
    assert_clean(&e);
    env_teardown(&e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_data_func("/xen-net-accel/afxdp/learning/pool", &rx_pool,
                        test_learning);
    qtest_add_data_func("/xen-net-accel/afxdp/learning/copy", &rx_copy,
                        test_learning);
    qtest_add_data_func("/xen-net-accel/afxdp/learning/mtu-2000",
                        &rx_big_mtu, test_learning);
    qtest_add_func("/xen-net-accel/afxdp/learning-ipv6", test_learning_ipv6);
    qtest_add_func("/xen-net-accel/afxdp/mac-filter", test_mac_filter);
    qtest_add_func("/xen-net-accel/afxdp/pool-reset", test_pool_reset);
    qtest_add_func("/xen-net-accel/afxdp/pool-fallback", test_pool_fallback);
    qtest_add_func("/xen-net-accel/afxdp/queue-busy", test_queue_busy);
    qtest_add_func("/xen-net-accel/afxdp/queue-busy-copy-tx",
                   test_queue_busy_copy_tx);
    qtest_add_func("/xen-net-accel/afxdp/queue-busy-reset",
                   test_queue_busy_reset);
    qtest_add_func("/xen-net-accel/afxdp/queue-busy-disconnect",
                   test_queue_busy_disconnect);
    qtest_add_func("/xen-net-accel/afxdp/pool-refill", test_pool_refill);
    qtest_add_func("/xen-net-accel/afxdp/pool-no-buffer", test_pool_no_buffer);
    qtest_add_func("/xen-net-accel/afxdp/copy-starved", test_copy_starved);
    qtest_add_func("/xen-net-accel/afxdp/copy-bursts", test_copy_bursts);
    qtest_add_func("/xen-net-accel/afxdp/pool-prod-back", test_pool_prod_back);
    qtest_add_func("/xen-net-accel/afxdp/pool-bad-rx-desc",
                   test_pool_bad_rx_desc);
    qtest_add_func("/xen-net-accel/afxdp/eviction", test_eviction);
    qtest_add_data_func("/xen-net-accel/afxdp/tx/pool", &rx_pool, test_tx);
    qtest_add_data_func("/xen-net-accel/afxdp/tx/copy", &rx_copy, test_tx);
    qtest_add_func("/xen-net-accel/afxdp/helper/hostile", test_helper_hostile);
    qtest_add_func("/xen-net-accel/afxdp/helper/waits-for-qemu",
                   test_helper_waits_for_qemu);
    qtest_add_data_func("/xen-net-accel/afxdp/helper/learning/pool",
                        &rx_pool_helper, test_learning);
    qtest_add_data_func("/xen-net-accel/afxdp/helper/learning/copy",
                        &rx_copy_helper, test_learning);
    qtest_add_data_func("/xen-net-accel/afxdp/helper/tx/pool",
                        &rx_pool_helper, test_tx);
    qtest_add_data_func("/xen-net-accel/afxdp/helper/tx/copy",
                        &rx_copy_helper, test_tx);
    qtest_add_func("/xen-net-accel/afxdp/bad-config", test_bad_config);
    qtest_add_func("/xen-net-accel/afxdp/two-guests", test_two_guests);
    qtest_add_func("/xen-net-accel/afxdp/two-guests-kill",
                   test_two_guests_kill);
    return g_test_run();
}
