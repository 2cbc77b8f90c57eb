/*
 * xna-afxdp-helper: the privileged half of a deprivileged nic=afxdp QEMU
 *
 *   xna-afxdp-helper --ifname IF --mac MAC --max-vis N --max-filters N
 *                    [--start-queue Q] [--zero-copy] [--qemu-pid PID]
 *                    [--fd FD]
 *
 * Serves the one QEMU at the other end of the SOCK_SEQPACKET socket pair
 * FD (3 if not given): loads or joins the XDP program of IF for it, makes
 * its AF_XDP and packet sockets and binds them, as
 * hw/net/xen-net-accel/xna-afxdp-helper.h describes.  What the QEMU
 * asks is checked against the command line, which its hotplug script
 * wrote: the QEMU may run code a guest chose, this helper is root.  It
 * never gets a descriptor of the program's shared maps, binds no socket
 * to a queue but its guest's, and steers to its sockets no MAC but MAC.
 *
 * The guest's slot and queues, once taken, stay the helper's until it
 * exits: a QEMU may keep sockets bound to those queues after it said it
 * left, and no other guest may be given them meanwhile.  With --qemu-pid
 * the helper exits when that process has ended, whatever the QEMU wrote
 * before (an end of its socket included); without, at the end of the
 * socket.  Either way the slot, the queues and, with the last user, the
 * program go then, as when a QEMU that holds them itself dies.
 *
 * Sockets are bound in copy mode unless --zero-copy: in the driver's
 * zero-copy mode a NIC writes every frame its queue receives into the
 * socket's buffers, whoever the frame is for, and a QEMU registers its
 * own memory there.  Only for a NIC that steers each guest's frames to
 * its queues alone.
 *
 * Exits 0 when done, 1 on a failure of its own.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <getopt.h>
#include <poll.h>
#include <sys/syscall.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <sys/socket.h>
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "hw/net/xen-net-accel/xna-afxdp-helper.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif

/*
 * Sockets a QEMU may ask for: a burst (a guest connecting with 16 VIs
 * asks for about 64: a copy socket, a pool socket tried in zero-copy
 * then copy mode, a packet socket, each), then one per period.  Each
 * holds kernel memory the QEMU is not charged for.
 */
#define SOCKET_BURST        128
#define SOCKET_PERIOD_MS    250

typedef struct Helper {
    int sock;
    const char *ifname;
    int ifindex;
    uint8_t mac[6];
    uint32_t max_vis;
    uint32_t max_filters;
    uint32_t start_queue;
    bool zero_copy;          /* --zero-copy: the admin allows it */
    XnaAfxdpProg *prog;      /* taken at the first attach, kept */
    uint32_t nr_vis;         /* of the slot */
    uint32_t socket_tokens;  /* sockets it may still ask for now */
    int64_t tokens_ms;       /* when the last token was earned */
} Helper;

/* Take a socket token; false (a reply sent) when there is none. */
static bool socket_allowed(Helper *h)
{
    int64_t now = g_get_monotonic_time() / 1000;
    int64_t earned = (now - h->tokens_ms) / SOCKET_PERIOD_MS;

    if (earned > 0) {
        h->socket_tokens = MIN(SOCKET_BURST, h->socket_tokens + earned);
        h->tokens_ms += earned * SOCKET_PERIOD_MS;
    }
    if (!h->socket_tokens) {
        return false;
    }
    h->socket_tokens--;
    return true;
}

static void reply(Helper *h, int err, const XnaAfxdpHelperRep *base,
                  const int *fds, int nr_fds, const char *msg)
{
    XnaAfxdpHelperRep rep = { 0 };
    int ret;

    if (base) {
        rep = *base;
    }
    rep.err = err;
    if (msg) {
        pstrcpy(rep.msg, sizeof(rep.msg), msg);
    }
    ret = xna_afxdp_helper_send(h->sock, &rep, sizeof(rep), fds, nr_fds);
    if (ret < 0 && ret != -EPIPE) {
        error_report("xna-afxdp-helper: reply: %s", strerror(-ret));
    }
}

static void reply_err(Helper *h, Error *err, int fallback)
{
    reply(h, fallback, NULL, NULL, 0, error_get_pretty(err));
    error_free(err);
}

static void do_attach(Helper *h, const XnaAfxdpHelperReq *req)
{
    XnaAfxdpProgConfig cfg = {
        .ifindex = h->ifindex,
        .ifname = h->ifname,
        .guest_mac = h->mac,
        .start_queue = h->start_queue,
        .prefer_queue = req->prefer_queue < XNA_BPF_MAX_QUEUES ?
                        req->prefer_queue : XNA_AFXDP_QUEUE_AUTO,
        .nr_vis = req->nr_vis,
        .max_filters = req->max_filters,
    };
    XnaAfxdpHelperRep rep = { 0 };
    int fds[XNA_AFXDP_HELPER_ATTACH_FDS], queues, i;
    Error *err = NULL;

    /* (Its bounds are checked: xna_afxdp_helper_check().) */
    if (h->prog) {
        /* The slot it keeps: the same, its filters forgotten. */
        xna_afxdp_prog_filters_clear(h->prog);
        goto export;
    }
    queues = xna_afxdp_rx_queues(h->ifname, &err);
    if (queues < 0) {
        reply_err(h, err, -EIO);
        return;
    }
    cfg.nr_queues = queues;
    if (h->start_queue != XNA_AFXDP_QUEUE_AUTO &&
        (h->start_queue >= (uint32_t)queues ||
         req->nr_vis > (uint32_t)queues - h->start_queue)) {
        reply(h, -ERANGE, NULL, NULL, 0, "no such queues");
        return;
    }
    h->prog = xna_afxdp_prog_new(&cfg, &err);
    if (!h->prog) {
        reply_err(h, err, -EIO);
        return;
    }
    h->nr_vis = req->nr_vis;
export:
    if (!xna_afxdp_prog_export(h->prog, fds, &rep.prog_id, &rep.slot,
                               &err)) {
        reply_err(h, err, -EIO);
        return;
    }
    rep.start_queue = xna_afxdp_prog_start_queue(h->prog);
    reply(h, 0, &rep, fds, XNA_AFXDP_HELPER_ATTACH_FDS, NULL);
    for (i = 0; i < XNA_AFXDP_HELPER_ATTACH_FDS; i++) {
        close(fds[i]);
    }
}

/* The slot and queues stay ours: only no frame goes to a socket now. */
static void do_detach(Helper *h)
{
    uint32_t vi;

    for (vi = 0; h->prog && vi < h->nr_vis; vi++) {
        xna_afxdp_prog_xsk_del(h->prog, vi);
    }
    reply(h, 0, NULL, NULL, 0, NULL);
}

static void do_xsk_socket(Helper *h)
{
    int fd;

    if (!socket_allowed(h)) {
        reply(h, -EAGAIN, NULL, NULL, 0, "too many sockets asked for");
        return;
    }
    fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        reply(h, -errno, NULL, NULL, 0, "AF_XDP socket");
        return;
    }
    reply(h, 0, NULL, &fd, 1, NULL);
    close(fd);
}

/*
 * Bind @fd (the QEMU's, with its UMEM and rings) to the VI's queue.  The
 * request is checked (xna_afxdp_helper_check()); the descriptor is what
 * is left: an AF_XDP socket, or nothing to bind.
 */
static void do_xsk_bind(Helper *h, const XnaAfxdpHelperReq *req, int fd)
{
    struct sockaddr_xdp sxdp = {
        .sxdp_family = AF_XDP,
        .sxdp_ifindex = h->ifindex,
        .sxdp_flags = req->flags,
    };
    socklen_t len = sizeof(int);
    int domain = 0, ret;

    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
        domain != AF_XDP) {
        reply(h, -EINVAL, NULL, NULL, 0, "not an AF_XDP socket");
        return;
    }
    sxdp.sxdp_queue_id = xna_afxdp_prog_start_queue(h->prog) + req->vi;
    if (bind(fd, (struct sockaddr *)&sxdp, sizeof(sxdp)) < 0) {
        ret = -errno;
        reply(h, ret, NULL, NULL, 0, "bind");
        return;
    }
    ret = xna_afxdp_prog_xsk_set(h->prog, req->vi, fd);
    reply(h, ret, NULL, NULL, 0, ret ? "socket map" : NULL);
}

static void do_xsk_del(Helper *h, const XnaAfxdpHelperReq *req)
{
    if (h->prog && req->vi < h->nr_vis) {
        xna_afxdp_prog_xsk_del(h->prog, req->vi);
    }
    reply(h, 0, NULL, NULL, 0, NULL);
}

static void do_packet_socket(Helper *h)
{
    Error *err = NULL;
    int fd;

    if (!socket_allowed(h)) {
        reply(h, -EAGAIN, NULL, NULL, 0, "too many sockets asked for");
        return;
    }
    fd = xna_afxdp_packet_socket(h->ifindex, h->ifname, &err);
    if (fd < 0) {
        reply_err(h, err, -EIO);
        return;
    }
    reply(h, 0, NULL, &fd, 1, NULL);
    close(fd);
}

/* One request; false when the QEMU is gone. */
static bool serve_one(Helper *h)
{
    XnaAfxdpHelperPolicy pol = {
        .max_vis = h->max_vis,
        .max_filters = h->max_filters,
        .zero_copy = h->zero_copy,
        .attached = h->prog != NULL,
        .nr_vis = h->nr_vis,
    };
    XnaAfxdpHelperReq req;
    const char *why;
    int fd = -1, nr = 0, ret;

    ret = xna_afxdp_helper_recv(h->sock, &req, sizeof(req), &fd, 1, &nr);
    if (ret == -EBADMSG) {
        reply(h, -EINVAL, NULL, NULL, 0, "bad request");
        return true;
    }
    if (ret < 0) {
        return false;
    }
    ret = xna_afxdp_helper_check(&pol, &req, sizeof(req), nr, &why);
    if (ret < 0) {
        reply(h, ret, NULL, NULL, 0, why);
    } else {
        switch (req.op) {
        case XNA_AFXDP_HELPER_ATTACH:
            do_attach(h, &req);
            break;
        case XNA_AFXDP_HELPER_DETACH:
            do_detach(h);
            break;
        case XNA_AFXDP_HELPER_XSK_SOCKET:
            do_xsk_socket(h);
            break;
        case XNA_AFXDP_HELPER_XSK_BIND:
            do_xsk_bind(h, &req, fd);
            break;
        case XNA_AFXDP_HELPER_XSK_DEL:
            do_xsk_del(h, &req);
            break;
        case XNA_AFXDP_HELPER_PACKET_SOCKET:
            do_packet_socket(h);
            break;
        default:             /* the check let no other through */
            reply(h, -EINVAL, NULL, NULL, 0, "unknown request");
            break;
        }
    }
    if (nr) {
        close(fd);
    }
    return true;
}

/*
 * Serve until the QEMU's end closes; then, with @pidfd, wait until the
 * QEMU has ended (it may still hold sockets bound to our queues).
 */
static void serve(Helper *h, int pidfd)
{
    struct pollfd p[2] = {
        { .fd = h->sock, .events = POLLIN },
        { .fd = pidfd, .events = POLLIN },
    };
    bool open = true;

    for (;;) {
        if (poll(p, pidfd >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            error_report("xna-afxdp-helper: poll: %s", strerror(errno));
            return;
        }
        if (pidfd >= 0 && p[1].revents) {
            return;              /* the QEMU ended */
        }
        if (open && p[0].revents) {
            open = serve_one(h);
            if (!open) {
                if (pidfd < 0) {
                    return;
                }
                p[0].fd = -1;    /* poll ignores it from now on */
            }
        }
    }
}

static bool parse_mac(const char *s, uint8_t mac[6])
{
    unsigned int b[6];
    char end;
    int i;

    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
               &b[4], &b[5], &end) != 6 || strlen(s) != 17) {
        return false;
    }
    for (i = 0; i < 6; i++) {
        mac[i] = b[i];
    }
    /* A guest's own address: not a group one, not all zeros. */
    return !(mac[0] & 1) && (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] |
                             mac[5]);
}

static bool parse_u32(const char *s, uint32_t max, uint32_t *v)
{
    uint64_t n;

    if (qemu_strtou64(s, NULL, 10, &n) < 0 || n > max) {
        return false;
    }
    *v = n;
    return true;
}

static void usage(void)
{
    fprintf(stderr, "usage: xna-afxdp-helper --ifname IF --mac MAC "
            "--max-vis N --max-filters N [--start-queue Q] [--zero-copy] "
            "[--qemu-pid PID] [--fd FD]\n");
    exit(1);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "ifname", required_argument, NULL, 'i' },
        { "mac", required_argument, NULL, 'm' },
        { "max-vis", required_argument, NULL, 'v' },
        { "max-filters", required_argument, NULL, 'f' },
        { "start-queue", required_argument, NULL, 'q' },
        { "fd", required_argument, NULL, 'd' },
        { "zero-copy", no_argument, NULL, 'z' },
        { "qemu-pid", required_argument, NULL, 'p' },
        { NULL, 0, NULL, 0 },
    };
    Helper h = {
        .sock = 3, .start_queue = XNA_AFXDP_QUEUE_AUTO,
        .socket_tokens = SOCKET_BURST,
        .tokens_ms = g_get_monotonic_time() / 1000,
    };
    bool have_mac = false;
    uint32_t fd, qemu_pid = 0;
    int pidfd = -1;
    int c, type = 0;
    socklen_t len = sizeof(type);

    error_init(argv[0]);
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            h.ifname = optarg;
            break;
        case 'm':
            have_mac = parse_mac(optarg, h.mac);
            if (!have_mac) {
                usage();
            }
            break;
        case 'v':
            if (!parse_u32(optarg, XNA_BPF_MAX_VIS, &h.max_vis)) {
                usage();
            }
            break;
        case 'f':
            if (!parse_u32(optarg, 1u << 20, &h.max_filters)) {
                usage();
            }
            break;
        case 'q':
            if (!parse_u32(optarg, XNA_BPF_MAX_QUEUES - 1, &h.start_queue)) {
                usage();
            }
            break;
        case 'd':
            if (!parse_u32(optarg, INT_MAX, &fd)) {
                usage();
            }
            h.sock = fd;
            break;
        case 'z':
            h.zero_copy = true;
            break;
        case 'p':
            if (!parse_u32(optarg, INT_MAX, &qemu_pid) || !qemu_pid) {
                usage();
            }
            break;
        default:
            usage();
        }
    }
    if (optind != argc || !h.ifname || !have_mac || !h.max_vis ||
        !h.max_filters) {
        usage();
    }
    h.ifindex = if_nametoindex(h.ifname);
    if (!h.ifindex) {
        error_report("--ifname %s: no such interface", h.ifname);
        return 1;
    }
    if (getsockopt(h.sock, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
        type != SOCK_SEQPACKET) {
        error_report("--fd %d: not a SOCK_SEQPACKET socket", h.sock);
        return 1;
    }
    qemu_set_cloexec(h.sock);
    if (qemu_pid) {
        pidfd = syscall(SYS_pidfd_open, (pid_t)qemu_pid, 0);
        if (pidfd < 0) {
            error_report("--qemu-pid %u: %s", qemu_pid, strerror(errno));
            return 1;
        }
    }
    serve(&h, pidfd);
    xna_afxdp_prog_free(h.prog);
    return 0;
}
