/*
 * xen-net-accel: the QEMU's side of the AF_XDP NIC's privileged helper
 *
 * Calls are synchronous, from the main loop: the helper is dom0's own
 * process, started with the QEMU and trusted as its hotplug script is;
 * a call that gets no answer within XNA_AFXDP_HELPER_WAIT_S marks the
 * helper broken (its later answers could not be matched to their
 * requests) and every later call fails: the VIs decline, the guest goes
 * on through netfront.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/socket.h>
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "xna-afxdp-helper.h"
#include "trace.h"

#define XNA_AFXDP_HELPER_WAIT_S     10

struct XnaAfxdpHelper {
    int fd;
    bool broken;
};

XnaAfxdpHelper *xna_afxdp_helper_new(int fd, Error **errp)
{
    struct timeval wait = { .tv_sec = XNA_AFXDP_HELPER_WAIT_S };
    int type = 0, domain = 0;
    socklen_t len = sizeof(int);
    XnaAfxdpHelper *h;

    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
        getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
        type != SOCK_SEQPACKET || domain != AF_UNIX) {
        error_setg(errp, "afxdp-helper: descriptor %d is not a Unix "
                   "SOCK_SEQPACKET socket", fd);
        close(fd);
        return NULL;
    }
    qemu_set_cloexec(fd);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait)) < 0) {
        error_setg_errno(errp, errno, "afxdp-helper: receive timeout");
        close(fd);
        return NULL;
    }
    h = g_new0(XnaAfxdpHelper, 1);
    h->fd = fd;
    return h;
}

void xna_afxdp_helper_free(XnaAfxdpHelper *h)
{
    if (h) {
        close(h->fd);
        g_free(h);
    }
}

/*
 * One request, one reply with exactly @nr_want descriptors.  0, or a
 * negative errno with @errp set (the helper's own error: its message).
 */
static int helper_call(XnaAfxdpHelper *h, XnaAfxdpHelperReq *req, int fd_in,
                       XnaAfxdpHelperRep *rep, int *fds, int nr_want,
                       Error **errp)
{
    int fds_got[XNA_AFXDP_HELPER_ATTACH_FDS];
    int ret, nr = 0, i;

    if (h->broken) {
        error_setg(errp, "afxdp-helper: no longer answers");
        return -EPIPE;
    }
    req->version = XNA_AFXDP_HELPER_VERSION;
    ret = xna_afxdp_helper_send(h->fd, req, sizeof(*req),
                                fd_in >= 0 ? &fd_in : NULL, fd_in >= 0);
    if (!ret) {
        ret = xna_afxdp_helper_recv(h->fd, rep, sizeof(*rep), fds_got,
                                    ARRAY_SIZE(fds_got), &nr);
    }
    trace_xna_afxdp_helper_call(req->op, req->vi, ret ? ret : rep->err, nr);
    if (ret) {
        h->broken = true;
        error_setg_errno(errp, -ret, "afxdp-helper: request %u", req->op);
        return ret;
    }
    rep->msg[sizeof(rep->msg) - 1] = '\0';
    if (rep->err || nr != nr_want) {
        for (i = 0; i < nr; i++) {
            close(fds_got[i]);
        }
        if (!rep->err) {
            h->broken = true;
            error_setg(errp, "afxdp-helper: %d descriptors for request %u, "
                       "not %d", nr, req->op, nr_want);
            return -EBADMSG;
        }
        ret = rep->err < 0 && rep->err > -4096 ? rep->err : -EIO;
        error_setg_errno(errp, -ret, "afxdp-helper: %s", rep->msg);
        return ret;
    }
    memcpy(fds, fds_got, sizeof(int) * nr);
    return 0;
}

XnaAfxdpProg *xna_afxdp_helper_attach(XnaAfxdpHelper *h,
                                      const XnaAfxdpProgConfig *cfg,
                                      Error **errp)
{
    XnaAfxdpHelperReq req = {
        .op = XNA_AFXDP_HELPER_ATTACH,
        .nr_vis = cfg->nr_vis,
        .max_filters = cfg->max_filters,
        .prefer_queue = cfg->prefer_queue,
    };
    XnaAfxdpHelperRep rep;
    int fds[XNA_AFXDP_HELPER_ATTACH_FDS];

    if (helper_call(h, &req, -1, &rep, fds, XNA_AFXDP_HELPER_ATTACH_FDS,
                    errp) < 0) {
        return NULL;
    }
    return xna_afxdp_prog_import(cfg, rep.prog_id, rep.slot,
                                 rep.start_queue, fds, errp);
}

void xna_afxdp_helper_detach(XnaAfxdpHelper *h, XnaAfxdpProg *p)
{
    XnaAfxdpHelperReq req = { .op = XNA_AFXDP_HELPER_DETACH };
    XnaAfxdpHelperRep rep;
    Error *err = NULL;

    xna_afxdp_prog_free(p);
    if (helper_call(h, &req, -1, &rep, NULL, 0, &err) < 0) {
        /* Gone or stuck: it leaves anyway when our end closes. */
        warn_report_err(err);
    }
}

int xna_afxdp_helper_xsk_socket(XnaAfxdpHelper *h, Error **errp)
{
    XnaAfxdpHelperReq req = { .op = XNA_AFXDP_HELPER_XSK_SOCKET };
    XnaAfxdpHelperRep rep;
    int fd;

    return helper_call(h, &req, -1, &rep, &fd, 1, errp) < 0 ? -1 : fd;
}

int xna_afxdp_helper_xsk_bind(XnaAfxdpHelper *h, int fd, uint32_t vi,
                              uint16_t flags, Error **errp)
{
    XnaAfxdpHelperReq req = {
        .op = XNA_AFXDP_HELPER_XSK_BIND,
        .vi = vi,
        .flags = flags,
    };
    XnaAfxdpHelperRep rep;

    return helper_call(h, &req, fd, &rep, NULL, 0, errp);
}

void xna_afxdp_helper_xsk_del(XnaAfxdpHelper *h, uint32_t vi)
{
    XnaAfxdpHelperReq req = { .op = XNA_AFXDP_HELPER_XSK_DEL, .vi = vi };
    XnaAfxdpHelperRep rep;
    Error *err = NULL;

    if (helper_call(h, &req, -1, &rep, NULL, 0, &err) < 0) {
        warn_report_err(err);
    }
}

int xna_afxdp_helper_packet_socket(XnaAfxdpHelper *h, Error **errp)
{
    XnaAfxdpHelperReq req = { .op = XNA_AFXDP_HELPER_PACKET_SOCKET };
    XnaAfxdpHelperRep rep;
    int fd;

    return helper_call(h, &req, -1, &rep, &fd, 1, errp) < 0 ? -1 : fd;
}
