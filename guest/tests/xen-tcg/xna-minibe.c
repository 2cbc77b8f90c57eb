/*
 * xna-minibe: a minimal xen-net-accel backend for dom0, to smoke-test the
 * guest module in a real Xen guest.  Its "NIC" is a UDP echo: every frame
 * the guest sends through a VI comes back through the same VI's RX ring
 * with MACs, IPv4 addresses and UDP ports swapped.  A payload starting
 * with "VIDOWN" stops that VI (VI_DOWN) after echoing; "RESTART" makes
 * the backend restart (new generation, full reconnect).
 *
 * Usage: xna-minibe <domid> <guest-ip> <udp-port>... (FILTER adds)
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <sys/mman.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <xenstore.h>
#include <xengnttab.h>
#include <xenevtchn.h>
#include "hw/net/xen-net-accel-protocol.h"

#define MAXPOOL 8192
struct vi {
    struct xna_vi_shared *sh;
    struct xna_desc *tx[XNA_MAX_RING_PAGES], *rx[XNA_MAX_RING_PAGES];
    uint32_t rport, lport;
    uint32_t tx_cons, rx_cons;
    bool up;
    bool stalled;
};

static struct xs_handle *xs;
static xengnttab_handle *xgt;
static xenevtchn_handle *xce;
static int domid;
static char fe[128], be[128];
static struct xna_ctrl_page *ctrl;
static uint32_t ctrl_lport, to_b_cons, to_g_prod, msg_id;
static uint8_t *pool[MAXPOOL];
static uint32_t num_vis, tx_entries, rx_entries, pool_pages;
static struct vi vis[XNA_MAX_VIS];
static uint8_t guest_ip[4];
static uint16_t ports[8];
static int nports;
static unsigned long n_tx, n_echo, n_drop, n_down, n_reset;
static uint64_t generation = 1;
static int tapfd = -1;
static unsigned long n_tap;

#define MB() __atomic_thread_fence(__ATOMIC_SEQ_CST)

static char *fe_read(const char *k)
{
    char p[256];
    unsigned int len;

    snprintf(p, sizeof(p), "%s/%s", fe, k);
    return xs_read(xs, XBT_NULL, p, &len);
}

static unsigned long fe_num(const char *k)
{
    char *v = fe_read(k);
    unsigned long n;

    if (!v) {
        fprintf(stderr, "minibe: missing %s/%s\n", fe, k);
        exit(2);
    }
    n = strtoul(v, NULL, 10);
    free(v);
    return n;
}

static int fe_state(void)
{
    char *v = fe_read("state");
    int s = v ? atoi(v) : -1;

    free(v);
    return s;
}

static void be_write(const char *k, const char *v)
{
    char p[256];

    snprintf(p, sizeof(p), "%s/%s", be, k);
    if (!xs_write(xs, XBT_NULL, p, v, strlen(v))) {
        fprintf(stderr, "minibe: write %s failed\n", p);
    }
}

static void be_keys(void)
{
    char g[32], mac[64];
    char p[128];
    unsigned int len;
    char *m;

    snprintf(p, sizeof(p), "/local/domain/%d/device/vif/0/mac", domid);
    m = xs_read(xs, XBT_NULL, p, &len);
    snprintf(mac, sizeof(mac), "%s", m ? m : "00:00:00:00:00:00");
    free(m);
    snprintf(g, sizeof(g), "%llu", (unsigned long long)generation);
    be_write("protocol-version", "1");
    be_write("generation", g);
    be_write("max-vis", "2");
    be_write("max-filters", "64");
    be_write("max-tx-ring-entries", "512");
    be_write("max-rx-ring-entries", "512");
    be_write("max-pool-pages", "4096");
    be_write("mac", mac);
    be_write("vif", "0");
    be_write("nic", "minibe");
    be_write("mtu", "1500");
    be_write("feature-csum-offload", "1");
    be_write("feature-sg", "1");
}

static void *map(uint32_t ref)
{
    void *p = xengnttab_map_grant_ref(xgt, domid, ref, PROT_READ | PROT_WRITE);

    if (!p) {
        perror("minibe: map");
        exit(2);
    }
    return p;
}

static void connect_fe(void)
{
    char k[64];
    uint32_t d, p, n, i;

    if (fe_num("generation") != generation) {
        fprintf(stderr, "minibe: stale generation\n");
        exit(2);
    }
    num_vis = fe_num("num-vis");
    tx_entries = fe_num("tx-ring-entries");
    rx_entries = fe_num("rx-ring-entries");
    pool_pages = fe_num("pool-pages");
    if (pool_pages > MAXPOOL || num_vis > 2) {
        exit(2);
    }
    ctrl = map(fe_num("ctrl-ring-ref"));
    ctrl_lport = xenevtchn_bind_interdomain(xce, domid, fe_num("event-channel"));
    for (d = 0; d * 1024 < pool_pages; d++) {
        uint32_t *dir;

        snprintf(k, sizeof(k), "pool-dir-ref-%u", d);
        dir = map(fe_num(k));
        for (i = 0; i < 1024 && d * 1024 + i < pool_pages; i++) {
            pool[d * 1024 + i] = map(dir[i]);
        }
        xengnttab_unmap(xgt, dir, 1);
    }
    for (n = 0; n < num_vis; n++) {
        struct vi *v = &vis[n];

        memset(v, 0, sizeof(*v));
        snprintf(k, sizeof(k), "vi-%u/shared-ref", n);
        v->sh = map(fe_num(k));
        for (p = 0; p < tx_entries / 256; p++) {
            snprintf(k, sizeof(k), "vi-%u/tx-ring-ref-%u", n, p);
            v->tx[p] = map(fe_num(k));
        }
        for (p = 0; p < rx_entries / 256; p++) {
            snprintf(k, sizeof(k), "vi-%u/rx-ring-ref-%u", n, p);
            v->rx[p] = map(fe_num(k));
        }
        snprintf(k, sizeof(k), "vi-%u/event-channel", n);
        v->rport = fe_num(k);
        v->lport = xenevtchn_bind_interdomain(xce, domid, v->rport);
    }
    to_b_cons = to_g_prod = msg_id = 0;
    printf("minibe: mapped gen %llu: %u VIs, rings %u/%u, pool %u\n",
           (unsigned long long)generation, num_vis, tx_entries, rx_entries,
           pool_pages);
    fflush(stdout);
}

static void disconnect_fe(void)
{
    uint32_t n, p;

    for (n = 0; n < num_vis; n++) {
        struct vi *v = &vis[n];

        xenevtchn_unbind(xce, v->lport);
        xengnttab_unmap(xgt, v->sh, 1);
        for (p = 0; p < tx_entries / 256; p++) {
            xengnttab_unmap(xgt, v->tx[p], 1);
        }
        for (p = 0; p < rx_entries / 256; p++) {
            xengnttab_unmap(xgt, v->rx[p], 1);
        }
        v->up = false;
    }
    for (p = 0; p < pool_pages; p++) {
        xengnttab_unmap(xgt, pool[p], 1);
    }
    xenevtchn_unbind(xce, ctrl_lport);
    xengnttab_unmap(xgt, ctrl, 1);
    ctrl = NULL;
}

static void send_msg(struct xna_msg *m)
{
    m->id = ++msg_id;
    while (to_g_prod - __atomic_load_n(&ctrl->to_guest.cons,
                                       __ATOMIC_ACQUIRE) >= 16) {
        usleep(1000);
    }
    ctrl->to_guest_msgs[to_g_prod % 16] = *m;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    to_g_prod++;
    __atomic_store_n(&ctrl->to_guest.prod, to_g_prod, __ATOMIC_RELAXED);
    MB();
    if (xna_need_event(ctrl->to_guest.prod_event, to_g_prod, to_g_prod - 1)) {
        xenevtchn_notify(xce, ctrl_lport);
    }
}

static void send_vi(uint16_t type, uint32_t vi, uint32_t reason)
{
    struct xna_msg m = { .type = type };

    m.u.vi.vi = vi;
    m.u.vi.reason = reason;
    send_msg(&m);
}

static void vi_start(uint32_t n)
{
    struct vi *v = &vis[n];

    v->tx_cons = v->rx_cons = 0;
    v->sh->tx_cons = 0;
    v->sh->rx_cons = 0;
    v->sh->tx_prod_event = 0;
    v->sh->rx_prod_event = 0;
    MB();
    v->up = true;
    send_vi(XNA_MSG_VI_UP, n, 0);
}

static void send_filters(uint32_t vi)
{
    struct xna_msg r;
    int i;

    for (i = 0; i < nports; i++) {
        if (i % num_vis != vi) {
            continue;
        }
        memset(&r, 0, sizeof(r));
        r.type = XNA_MSG_FILTER;
        r.u.filter.op = XNA_OP_ADD;
        r.u.filter.vi = vi;
        r.u.filter.kind = XNA_FILTER_IPV4_UDP;
        r.u.filter.port = htons(ports[i]);
        memcpy(r.u.filter.addr, guest_ip, 4);
        send_msg(&r);
        r.u.filter.kind = XNA_FILTER_IPV4_TCP;
        send_msg(&r);
    }
}

static void ctrl_poll(void)
{
    uint32_t prod = __atomic_load_n(&ctrl->to_backend.prod, __ATOMIC_ACQUIRE);

    while (to_b_cons != prod) {
        struct xna_msg m = ctrl->to_backend_msgs[to_b_cons % 16];
        struct xna_msg r = { 0 };
        uint32_t n;

        to_b_cons++;
        switch (m.type) {
        case XNA_MSG_HELLO:
            printf("minibe: HELLO version %u nr_vis %u\n", m.u.hello.version,
                   m.u.hello.nr_vis);
            r.type = XNA_MSG_HELLO;
            r.u.hello.version = 1;
            r.u.hello.nr_vis = num_vis;
            send_msg(&r);
            memset(&r, 0, sizeof(r));
            r.type = XNA_MSG_LINK;
            r.u.link.up = 1;
            r.u.link.mtu = 1500;
            send_msg(&r);
            for (n = 0; n < num_vis; n++) {
                send_filters(n);
            }
            for (n = 0; n < num_vis; n++) {
                vi_start(n);
            }
            break;
        case XNA_MSG_VI_RESET:
            printf("minibe: VI_RESET %u\n", m.u.vi.vi);
            n_reset++;
            vi_start(m.u.vi.vi);
            /* its filters went with VI_DOWN; a real backend relearns them */
            send_filters(m.u.vi.vi);
            break;
        default:
            printf("minibe: unexpected message %u\n", m.type);
        }
        fflush(stdout);
    }
    __atomic_store_n(&ctrl->to_backend.cons, to_b_cons, __ATOMIC_RELEASE);
    __atomic_store_n(&ctrl->to_backend.prod_event, to_b_cons, __ATOMIC_RELAXED);
}

static struct xna_desc *slot(struct xna_desc **ring, uint32_t entries,
                             uint32_t idx)
{
    idx &= entries - 1;
    return &ring[idx / 256][idx % 256];
}

static void csum_fill(uint8_t *f, unsigned int len, unsigned int start,
                      unsigned int off)
{
    uint32_t sum = 0;
    unsigned int i;
    uint16_t c;

    for (i = start; i + 1 < len; i += 2) {
        sum += (uint32_t)f[i] << 8 | f[i + 1];
    }
    if ((len - start) & 1) {
        sum += (uint32_t)f[len - 1] << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    c = ~sum;
    if (!c) {
        c = 0xffff;
    }
    f[start + off] = c >> 8;
    f[start + off + 1] = c;
}

/* 0 nothing, 1 echoed, 2 VI down asked, 3 restart asked */
static int vi_poll(uint32_t n)
{
    struct vi *v = &vis[n];
    uint8_t frame[XNA_MAX_FRAME_LEN], tmp[16];
    uint32_t prod, old_rx = v->rx_cons;
    int ret = 0;

    if (!v->up || v->stalled) {
        return 0;
    }
    prod = __atomic_load_n(&v->sh->tx_prod, __ATOMIC_ACQUIRE);
    while (v->tx_cons != prod) {
        unsigned int len = 0, ndesc = 0, done = 0, k;
        struct xna_desc first = *slot(v->tx, tx_entries, v->tx_cons);
        struct xna_desc d;
        uint32_t posted;

        do {
            d = *slot(v->tx, tx_entries, v->tx_cons + ndesc);
            if (d.page >= pool_pages || d.offset + d.len > 4096 ||
                len + d.len > sizeof(frame)) {
                printf("minibe: BAD TX DESC\n");
                exit(3);
            }
            memcpy(frame + len, pool[d.page] + d.offset, d.len);
            len += d.len;
            ndesc++;
        } while (d.flags & XNA_DESC_MORE);
        v->tx_cons += ndesc;
        n_tx++;
        if (first.flags & XNA_DESC_CSUM_PARTIAL) {
            csum_fill(frame, len, first.csum_start, first.csum_offset);
        }
        /* not UDP: to dom0's stack through the tap, if there is one */
        if (!(len >= 42 && frame[12] == 0x08 && frame[13] == 0x00 &&
              frame[23] == 17)) {
            if (tapfd >= 0 && write(tapfd, frame, len) == (ssize_t)len) {
                n_tap++;
            } else {
                n_drop++;
            }
            continue;
        }
        /* echo: swap MACs, IPv4 addresses, UDP ports */
        if (len >= 42 && frame[12] == 0x08 && frame[13] == 0x00 &&
            frame[23] == 17) {
            unsigned int l4 = 14 + (frame[14] & 0xf) * 4;

            memcpy(tmp, frame, 6);
            memcpy(frame, frame + 6, 6);
            memcpy(frame + 6, tmp, 6);
            memcpy(tmp, frame + 26, 4);
            memcpy(frame + 26, frame + 30, 4);
            memcpy(frame + 30, tmp, 4);
            memcpy(tmp, frame + l4, 2);
            memcpy(frame + l4, frame + l4 + 2, 2);
            memcpy(frame + l4 + 2, tmp, 2);
            if (len >= l4 + 14 && !memcmp(frame + l4 + 8, "VIDOWN", 6)) {
                ret = 2;
            } else if (len >= l4 + 15 && !memcmp(frame + l4 + 8, "RESTART", 7)) {
                ret = 3;
            } else if (len >= l4 + 13 && !memcmp(frame + l4 + 8, "STALL", 5)) {
                uint32_t k;

                printf("minibe: stops consuming TX (all VIs)\n");
                for (k = 0; k < num_vis; k++) {
                    vis[k].stalled = true;
                }
                prod = v->tx_cons;      /* leave the rest in the ring */
            }
        }
        posted = __atomic_load_n(&v->sh->rx_prod, __ATOMIC_ACQUIRE) - v->rx_cons;
        if (posted * 2048 < len) {
            n_drop++;
            continue;
        }
        for (k = 0; done < len; k++) {
            struct xna_desc *s = slot(v->rx, rx_entries, v->rx_cons + k);
            unsigned int c = len - done < s->len ? len - done : s->len;

            memcpy(pool[s->page] + s->offset, frame + done, c);
            done += c;
            s->len = c;
            /* no CSUM_VALID: the guest verifies the checksum itself */
            s->flags = done < len ? XNA_DESC_MORE : 0;
        }
        v->rx_cons += k;
        n_echo++;
        if (!ret) {
            ret = 1;
        }
    }
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&v->sh->tx_cons, v->tx_cons, __ATOMIC_RELAXED);
    __atomic_store_n(&v->sh->tx_prod_event, v->tx_cons, __ATOMIC_RELAXED);
    __atomic_store_n(&v->sh->rx_prod_event, v->rx_cons, __ATOMIC_RELAXED);
    if (v->rx_cons != old_rx) {
        __atomic_store_n(&v->sh->rx_cons, v->rx_cons, __ATOMIC_RELAXED);
        MB();
        if (xna_need_event(v->sh->rx_cons_event, v->rx_cons, old_rx)) {
            xenevtchn_notify(xce, v->lport);
        }
    }
    MB();
    /* a TX that raced the event update */
    if (v->tx_cons != __atomic_load_n(&v->sh->tx_prod, __ATOMIC_ACQUIRE) &&
        ret < 2) {
        int r2 = vi_poll(n);

        return r2 > ret ? r2 : ret;
    }
    return ret;
}

int main(int argc, char **argv)
{
    int i;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 4) {
        fprintf(stderr, "usage: xna-minibe domid guest-ip port...\n");
        return 2;
    }
    domid = atoi(argv[1]);
    inet_pton(AF_INET, argv[2], guest_ip);
    for (i = 3; i < argc && nports < 8; i++) {
        ports[nports++] = atoi(argv[i]);
    }
    snprintf(fe, sizeof(fe), "/local/domain/%d/device/netaccel/0", domid);
    snprintf(be, sizeof(be), "/local/domain/0/backend/qnetaccel/%d/0", domid);
    if (getenv("XNA_TAP")) {
        struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };

        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", getenv("XNA_TAP"));
        tapfd = open("/dev/net/tun", O_RDWR);
        if (tapfd < 0 || ioctl(tapfd, TUNSETIFF, &ifr) < 0) {
            perror("minibe: tap");
            tapfd = -1;
        } else {
            printf("minibe: TX of non-UDP frames goes to tap %s\n", ifr.ifr_name);
        }
    }
    xs = xs_open(0);
    xgt = xengnttab_open(NULL, 0);
    xce = xenevtchn_open(NULL, 0);
    if (!xs || !xgt || !xce) {
        perror("minibe: open");
        return 2;
    }
    for (;;) {
        be_keys();
        be_write("state", "2");
        printf("minibe: InitWait generation %llu\n",
               (unsigned long long)generation);
        for (i = 0; fe_state() != 3; i++) {
            if (fe_state() < 0) {
                printf("minibe: frontend gone\n");
                return 0;
            }
            if (i > 6000) {
                printf("minibe: frontend never Initialised\n");
                return 1;
            }
            usleep(100000);
        }
        connect_fe();
        be_write("state", "4");
        for (;;) {
            struct pollfd pfd = { .fd = xenevtchn_fd(xce), .events = POLLIN };
            int s, r = 0;
            uint32_t n;

            if (poll(&pfd, 1, 20) > 0) {
                int port = xenevtchn_pending(xce);

                if (port >= 0) {
                    xenevtchn_unmask(xce, port);
                }
            }
            ctrl_poll();
            for (n = 0; n < num_vis; n++) {
                r = vi_poll(n);
                if (r == 2) {
                    printf("minibe: VI_DOWN %u on request\n", n);
                    vis[n].up = false;
                    n_down++;
                    send_vi(XNA_MSG_VI_DOWN, n, XNA_ERR_NIC);
                } else if (r == 3) {
                    break;
                }
            }
            if (r == 3) {
                /* as a crashed backend's successor: straight to InitWait */
                printf("minibe: restarting\n");
                disconnect_fe();
                generation++;
                break;
            }
            s = fe_state();
            if (s == 5 || s == 6 || s < 0) {
                for (n = 0; n < num_vis; n++) {
                    printf("minibe: VI %u: %u TX slots left unconsumed\n", n,
                           vis[n].sh->tx_prod - vis[n].tx_cons);
                }
                printf("minibe: frontend state %d: closing\n", s);
                be_write("state", "5");
                disconnect_fe();
                be_write("state", "6");
                printf("minibe: tx %lu echo %lu tap %lu drop %lu vi_down %lu vi_reset %lu\n",
                       n_tx, n_echo, n_tap, n_drop, n_down, n_reset);
                /* wait for the frontend to come back (or its domain to go) */
                while ((s = fe_state()) != 1) {
                    if (s < 0) {
                        printf("minibe: frontend gone\n");
                        return 0;
                    }
                    usleep(100000);
                }
                generation++;
                break;
            }
        }
    }
}
