/*
 * xen-net-accel-fuzz: a coverage-guided fuzzer of the xen-net-accel device
 *
 * Built into QEMU's qemu-fuzz-x86_64 (tests/qtest/fuzz/, libFuzzer): QEMU
 * runs in this process under qtest, with the xen-sim platform and one
 * xen-net-accel, and this file plays a hostile Xen guest.  Per input, the
 * guest connects with parameters taken from the input (xenstore keys,
 * grants, event channels, ring sizes, pool), then runs the rest of the
 * input as a sequence of operations on what it shares with the backend:
 * control messages and indices, TX and RX descriptors and indices, pool
 * bytes, event channel kicks, frontend keys and states, the clock, and
 * (nic=netdev) frames from the wire or the host.  The main loop runs
 * after each operation.  After the input the guest closes the device
 * (frontend Closed, then Initialising again), checks that the device
 * let go of every grant and event channel (an abort if not: a leak),
 * and clears its own state, so that inputs are independent.
 *
 * Targets: xen-net-accel (nic=loopback), xen-net-accel-netdev
 * (nic=netdev with a host-netdev, both on hubs the fuzzer injects into,
 * and mac-filter=on).
 * Build with --enable-fuzzing and run, for example,
 * qemu-fuzz-x86_64 --fuzz-target=xen-net-accel.
 *
 * Input: a list of operations, each an opcode byte followed by its fixed
 * arguments (missing bytes read as 0); see the OP_* list below.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qemu/cutils.h"
#include "qapi/error.h"
#include "qom/object.h"
#include "net/net.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/fuzz/fuzz.h"
#include "hw/xen/interface/io/xs_wire.h"
#include "hw/xen/interface/grant_table.h"
#include "hw/xen/interface/io/xenbus.h"
#include "hw/xen/xen-sim-abi.h"
#include "hw/net/xen-net-accel-protocol.h"

#define XF_PAGE             4096u
#define XF_RAM_MB           64
#define XF_SIM_PATH         "/machine/peripheral/xensim"
#define XF_MAC              "00:16:3e:00:00:01"
#define XF_MAX_OPS          256
#define XF_MAX_POOL         128     /* the device's max-pool-pages */
#define XF_MAX_RING         1024    /* its tx-ring-size and rx-ring-size */
#define XF_MAX_FRAME        20000   /* beyond any MTU, on purpose */
#define XF_MAX_PORTS        64
#define XF_SETTLE_LOOPS     200

/* Guest pages (page numbers): the guest's own, then a bump allocator. */
enum {
    XF_PG_CMD = 1,
    XF_PG_XS_REQ = 2,           /* two pages */
    XF_PG_XS_RSP = 4,           /* two pages */
    XF_PG_PENDING = 6,
    XF_PG_GNTTAB = 8,           /* XF_GNTTAB_PAGES pages */
    XF_GNTTAB_PAGES = 8,
    XF_PG_FIRST_FREE = 64,
};

#define XF_GNTTAB_ENTRIES   (XF_GNTTAB_PAGES * XF_PAGE / \
                             sizeof(grant_entry_v1_t))
#define XF_FIRST_REF        8
#define XF_NR_PORTS         (XF_PAGE * 8)
#define XF_XS_BUF           (2 * XF_PAGE)

static const uint8_t xf_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x01 };
static const uint8_t xf_other_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x02 };
static const uint8_t xf_ip4[4] = { 10, 0, 0, 1 };
static const uint8_t xf_ip6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0,
                                    0, 0, 0, 0, 0, 0, 0, 1 };

typedef struct XfVi {
    uint64_t shared;
    uint64_t tx_ring[XNA_MAX_RING_PAGES];
    uint64_t rx_ring[XNA_MAX_RING_PAGES];
    uint32_t tx_pages, rx_pages;    /* ring pages allocated */
    uint32_t tx_prod, rx_prod;      /* the guest's own copies */
    uint32_t port;
} XfVi;

typedef struct XfConn {
    bool open;
    uint32_t nvis;                  /* VIs allocated */
    uint32_t pool_pages;            /* pool pages allocated */
    uint64_t ctrl;
    uint64_t pool[256];
    uint32_t ctrl_port;
    uint32_t to_backend_prod;
    uint32_t buf_cursor;
    uint32_t msg_id;
    XfVi vi[XNA_MAX_VIS];
} XfConn;

static struct {
    QTestState *s;
    Object *sim;
    uint64_t mmio;
    uint32_t domid;
    uint32_t backend_domid;
    char *frontend;
    char *backend;
    GHashTable *initial_keys;       /* frontend keys xen-bus wrote */
    uint32_t xs_req_id;
    uint64_t next_page;
    uint32_t next_ref;
    uint32_t ports[XF_MAX_PORTS];
    unsigned int nr_ports;
    bool netdev;
    NetClientState *wire, *inj, *host_inj;
    XfConn c;
} xf;

/*
 * Input
 */

typedef struct XfInput {
    const uint8_t *p;
    size_t left;
} XfInput;

static uint8_t in_u8(XfInput *in)
{
    if (!in->left) {
        return 0;
    }
    in->left--;
    return *in->p++;
}

static uint16_t in_u16(XfInput *in)
{
    uint16_t lo = in_u8(in);

    return lo | (uint16_t)in_u8(in) << 8;
}

static uint32_t in_u32(XfInput *in)
{
    uint32_t lo = in_u16(in);

    return lo | (uint32_t)in_u16(in) << 16;
}

static void in_bytes(XfInput *in, void *buf, size_t n)
{
    size_t k = MIN(n, in->left);

    memcpy(buf, in->p, k);
    memset((uint8_t *)buf + k, 0, n - k);
    in->p += k;
    in->left -= k;
}

/*
 * The platform: commands, grants, event channels, xenstore
 */

static uint64_t pg(uint64_t page)
{
    return page * XF_PAGE;
}

/*
 * Zero guest memory.  Not with qtest_memset(): in the fuzzer its wrapper
 * leaks a buffer of the size written.
 */
static void zero(uint64_t gpa, uint64_t len)
{
    static const uint8_t zeros[64 * KiB];

    while (len) {
        uint64_t n = MIN(len, sizeof(zeros));

        qtest_memwrite(xf.s, gpa, zeros, n);
        gpa += n;
        len -= n;
    }
}

static int sim_cmd(uint32_t op, uint64_t *arg, unsigned int n)
{
    XenSimCmd cmd = { 0 };
    unsigned int i;

    cmd.op = cpu_to_le32(op);
    cmd.status = cpu_to_le32(-EINPROGRESS);
    for (i = 0; i < n; i++) {
        cmd.arg[i] = cpu_to_le64(arg[i]);
    }
    qtest_memwrite(xf.s, pg(XF_PG_CMD), &cmd, sizeof(cmd));
    qtest_writeq(xf.s, xf.mmio + XEN_SIM_REG_CMD, pg(XF_PG_CMD));
    qtest_memread(xf.s, pg(XF_PG_CMD), &cmd, sizeof(cmd));
    for (i = 0; i < n; i++) {
        arg[i] = le64_to_cpu(cmd.arg[i]);
    }
    return (int32_t)le32_to_cpu(cmd.status);
}

static uint64_t alloc_pages(unsigned int n)
{
    uint64_t first = xf.next_page;

    if (first + n > (uint64_t)XF_RAM_MB * MiB / XF_PAGE) {
        return 0;
    }
    xf.next_page += n;
    return pg(first);
}

static void grant_set(uint32_t ref, uint16_t flags, uint32_t domid,
                      uint64_t frame)
{
    grant_entry_v1_t e = {
        .flags = cpu_to_le16(flags),
        .domid = cpu_to_le16(domid),
        .frame = cpu_to_le32(frame),
    };

    qtest_memwrite(xf.s, pg(XF_PG_GNTTAB) + ref * sizeof(e), &e, sizeof(e));
}

/* A read-write grant of the page at @gpa to the backend; 0 when full. */
static uint32_t grant(uint64_t gpa)
{
    uint32_t ref;

    if (xf.next_ref >= XF_GNTTAB_ENTRIES) {
        return 0;
    }
    ref = xf.next_ref++;
    grant_set(ref, GTF_permit_access, xf.backend_domid, gpa / XF_PAGE);
    return ref;
}

static uint32_t evtchn_alloc(void)
{
    uint64_t arg[2] = { xf.backend_domid, 0 };

    if (xf.nr_ports >= XF_MAX_PORTS ||
        sim_cmd(XEN_SIM_OP_EVTCHN_ALLOC_UNBOUND, arg, 2)) {
        return 0;
    }
    xf.ports[xf.nr_ports++] = arg[1];
    return arg[1];
}

static void evtchn_notify(uint32_t port)
{
    qtest_writel(xf.s, xf.mmio + XEN_SIM_REG_NOTIFY, port);
}

static int xs_request(uint32_t type, const void *payload, size_t len,
                      char **reply)
{
    uint64_t arg[3] = { pg(XF_PG_XS_REQ), pg(XF_PG_XS_RSP), XF_XS_BUF };
    struct xsd_sockmsg hdr = {
        .type = cpu_to_le32(type),
        .req_id = cpu_to_le32(++xf.xs_req_id),
        .len = cpu_to_le32(len),
    };
    uint32_t rsp_len;
    int ret;

    if (len > XENSTORE_PAYLOAD_MAX) {
        return -E2BIG;
    }
    qtest_memwrite(xf.s, pg(XF_PG_XS_REQ), &hdr, sizeof(hdr));
    if (len) {
        qtest_memwrite(xf.s, pg(XF_PG_XS_REQ) + sizeof(hdr), payload, len);
    }
    ret = sim_cmd(XEN_SIM_OP_XS_REQUEST, arg, 3);
    if (ret) {
        return ret;
    }
    qtest_memread(xf.s, pg(XF_PG_XS_RSP), &hdr, sizeof(hdr));
    if (le32_to_cpu(hdr.type) == XS_ERROR) {
        return -EIO;
    }
    if (reply) {
        rsp_len = MIN(le32_to_cpu(hdr.len), XF_XS_BUF - sizeof(hdr));
        *reply = g_malloc0(rsp_len + 1);
        qtest_memread(xf.s, pg(XF_PG_XS_RSP) + sizeof(hdr), *reply,
                      rsp_len);
    }
    return 0;
}

static int xs_write_raw(const char *path, const void *value, size_t len)
{
    g_autoptr(GByteArray) p = g_byte_array_new();

    g_byte_array_append(p, (const guint8 *)path, strlen(path) + 1);
    g_byte_array_append(p, value, len);
    return xs_request(XS_WRITE, p->data, p->len, NULL);
}

static int xs_write(const char *path, const char *value)
{
    return xs_write_raw(path, value, strlen(value));
}

static char *xs_read(const char *path)
{
    char *value = NULL;

    if (xs_request(XS_READ, path, strlen(path) + 1, &value)) {
        g_free(value);
        return NULL;
    }
    return value;
}

static void xs_rm(const char *path)
{
    xs_request(XS_RM, path, strlen(path) + 1, NULL);
}

/* The children of @path as a NULL-terminated vector (g_strfreev()). */
static char **xs_directory(const char *path)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    g_autofree char *reply = NULL;
    uint32_t len;
    struct xsd_sockmsg hdr;
    char *p;

    if (xs_request(XS_DIRECTORY, path, strlen(path) + 1, &reply)) {
        g_ptr_array_add(names, NULL);
        return (char **)g_ptr_array_steal(names, NULL);
    }
    qtest_memread(xf.s, pg(XF_PG_XS_RSP), &hdr, sizeof(hdr));
    len = MIN(le32_to_cpu(hdr.len), XF_XS_BUF - sizeof(hdr));
    for (p = reply; p < reply + len && *p; p += strlen(p) + 1) {
        g_ptr_array_add(names, g_strdup(p));
    }
    g_ptr_array_add(names, NULL);
    return (char **)g_ptr_array_steal(names, NULL);
}

static void front_write(const char *key, const char *value)
{
    g_autofree char *path = g_strdup_printf("%s/%s", xf.frontend, key);

    xs_write(path, value);
}

static void front_printf(const char *key, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

static void front_printf(const char *key, const char *fmt, ...)
{
    g_autofree char *value = NULL;
    va_list ap;

    va_start(ap, fmt);
    value = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    front_write(key, value);
}

static int backend_state(void)
{
    g_autofree char *path = g_strdup_printf("%s/state", xf.backend);
    g_autofree char *value = xs_read(path);

    return value ? atoi(value) : -1;
}

static uint64_t sim_stat(const char *name)
{
    return object_property_get_uint(xf.sim, name, &error_abort);
}

/*
 * Frames
 */

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return ~sum & 0xffff;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2) {
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    }
    if (len & 1) {
        sum += (uint32_t)p[len - 1] << 8;
    }
    return sum;
}

enum {
    FR_UDP4, FR_TCP4, FR_UDP6, FR_TCP6, FR_ARP_BCAST, FR_VLAN_UDP4,
    FR_UDP4_OTHER_MAC, FR_IP4_FRAG, FR_RAW, FR_KINDS
};

/*
 * A frame of @len bytes (cut short if the headers do not fit) of @kind
 * into @f (at least @len + 128 bytes, zeroed): to the guest's own MAC
 * and address (the loopback NIC brings it back to the guest), valid IP
 * checksums, and the L4 checksum when @csum.
 */
static void build_frame(uint8_t *f, size_t len, unsigned int kind,
                        uint16_t sport, uint16_t dport, bool csum)
{
    bool v6 = kind == FR_UDP6 || kind == FR_TCP6;
    bool tcp = kind == FR_TCP4 || kind == FR_TCP6;
    size_t l2 = kind == FR_VLAN_UDP4 ? 18 : 14;
    size_t l3 = v6 ? 40 : 20, l4 = tcp ? 20 : 8;
    uint8_t *ip = f + l2, *th = ip + l3;
    size_t l4_len = len > l2 + l3 ? len - l2 - l3 : 0;
    uint32_t sum;
    size_t i;

    for (i = l2 + l3 + l4; i < len; i++) {
        f[i] = i * 7 + sport;
    }
    memcpy(f, kind == FR_ARP_BCAST ? (const uint8_t *)"\xff\xff\xff\xff"
           "\xff\xff" : kind == FR_UDP4_OTHER_MAC ? xf_other_mac : xf_mac, 6);
    memcpy(f + 6, xf_mac, 6);
    if (kind == FR_VLAN_UDP4) {
        stw_be_p(f + 12, 0x8100);
        stw_be_p(f + 14, sport & 0xfff);
    }
    if (kind == FR_ARP_BCAST) {
        stw_be_p(f + 12, 0x0806);
        return;
    }
    stw_be_p(f + l2 - 2, v6 ? 0x86dd : 0x0800);
    if (v6) {
        ip[0] = 0x60;
        stw_be_p(ip + 4, l4_len);
        ip[6] = tcp ? 6 : 17;
        ip[7] = 64;
        memcpy(ip + 8, xf_ip6, 16);
        memcpy(ip + 24, xf_ip6, 16);
    } else {
        ip[0] = 0x45;
        stw_be_p(ip + 2, len - l2);
        stw_be_p(ip + 4, dport);
        if (kind == FR_IP4_FRAG) {
            stw_be_p(ip + 6, 0x2000 | (sport & 0x1fff));
        }
        ip[8] = 64;
        ip[9] = tcp ? 6 : 17;
        memcpy(ip + 12, xf_ip4, 4);
        memcpy(ip + 16, xf_ip4, 4);
        stw_be_p(ip + 10, csum_fold(csum_add(0, ip, 20)));
    }
    stw_be_p(th, sport);
    stw_be_p(th + 2, dport);
    if (tcp) {
        th[12] = 5 << 4;
        th[13] = 0x18;
        stw_be_p(th + 14, 65535);
    } else {
        stw_be_p(th + 4, l4_len);
    }
    if (csum && len > l2 + l3 + l4) {
        sum = csum_add(0, ip + (v6 ? 8 : 12), v6 ? 32 : 8);
        sum += (tcp ? 6 : 17) + l4_len;
        stw_be_p(th + (tcp ? 16 : 6),
                 csum_fold(csum_add(sum, th, l4_len)) ?: 0xffff);
    }
}

/* A frame from the input: a kind and its parameters, or raw bytes. */
static size_t input_frame(XfInput *in, uint8_t **out)
{
    unsigned int kind = in_u8(in) % FR_KINDS;
    size_t len = in_u16(in) % (XF_MAX_FRAME + 1);
    uint16_t sport = in_u16(in), dport = in_u16(in);
    uint8_t *f = g_malloc0(len + 128);

    if (kind == FR_RAW) {
        len = MIN(len, in->left);
        in_bytes(in, f, len);
    } else {
        build_frame(f, len, kind, sport, dport, sport & 1);
    }
    *out = f;
    return len;
}

/*
 * Shared structures of the connection
 */

#define CTRL_TO_BACKEND(f)  offsetof(struct xna_ctrl_page, to_backend.f)
#define CTRL_TO_GUEST(f)    offsetof(struct xna_ctrl_page, to_guest.f)
#define VI_SHARED(f)        offsetof(struct xna_vi_shared, f)

static uint32_t rd32(uint64_t gpa)
{
    return qtest_readl(xf.s, gpa);
}

static void wr32(uint64_t gpa, uint32_t v)
{
    qtest_writel(xf.s, gpa, v);
}

static uint64_t tx_slot(XfVi *v, uint32_t idx)
{
    uint32_t slot = idx % (v->tx_pages * XNA_DESCS_PER_PAGE);

    return v->tx_ring[slot / XNA_DESCS_PER_PAGE] +
           (slot % XNA_DESCS_PER_PAGE) * sizeof(struct xna_desc);
}

static uint64_t rx_slot(XfVi *v, uint32_t idx)
{
    uint32_t slot = idx % (v->rx_pages * XNA_DESCS_PER_PAGE);

    return v->rx_ring[slot / XNA_DESCS_PER_PAGE] +
           (slot % XNA_DESCS_PER_PAGE) * sizeof(struct xna_desc);
}

static XfVi *input_vi(XfInput *in)
{
    uint8_t b = in_u8(in);

    return xf.c.open && xf.c.nvis ? &xf.c.vi[b % xf.c.nvis] : NULL;
}

/* Publish a ring producer index and kick as the event index says. */
static void publish(XfVi *v, size_t prod_off, size_t event_off,
                    uint32_t old, uint32_t new, bool force_kick)
{
    wr32(v->shared + prod_off, new);
    if (force_kick || xna_need_event(rd32(v->shared + event_off), new, old)) {
        evtchn_notify(v->port);
    }
}

/*
 * Connect and close
 */

enum {
    CF_RAW = 1 << 0,            /* parameters as given, not made valid */
    CF_STALE = 1 << 1,          /* generation of an earlier backend */
    CF_BAD_VERSION = 1 << 2,
    CF_OMIT_KEY = 1 << 3,       /* key number sel is not written */
    CF_GARBAGE_KEY = 1 << 4,    /* key number sel is not a number */
    CF_BAD_GRANT = 1 << 5,      /* grant number sel is bad (mode below) */
    CF_BAD_PORT = 1 << 6,       /* port number sel was never allocated */
    CF_BAD_DIR = 1 << 7,        /* a pool directory entry is bad */
    CF_SPREAD_POOL = 1 << 8,    /* pool pages not contiguous */
    CF_KEYS_ONLY = 1 << 9,      /* stay Initialising */
    CF_CONNECTED = 1 << 10,     /* go straight to Connected */
    CF_GRANT_MODE_SHIFT = 12,   /* 2 bits */
};

typedef struct XfConnect {
    uint32_t flags;
    uint8_t sel;
    unsigned int key_no;
    unsigned int grant_no;
} XfConnect;

static void connect_key(XfConnect *k, const char *key, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static void connect_key(XfConnect *k, const char *key, const char *fmt, ...)
{
    static const char *const garbage[] = {
        "", "-1", " 1", "1 ", "0x10", "4294967296", "99999999999999999999",
        "+1", "1a", "\xff",
    };
    g_autofree char *value = NULL;
    unsigned int no = k->key_no++;
    va_list ap;

    if ((k->flags & CF_OMIT_KEY) && no == k->sel) {
        return;
    }
    if ((k->flags & CF_GARBAGE_KEY) && no == k->sel) {
        front_write(key, garbage[k->sel % ARRAY_SIZE(garbage)]);
        return;
    }
    va_start(ap, fmt);
    value = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    front_write(key, value);
}

/* Grant @gpa, or spoil the grant when it is the one the input picked. */
static uint32_t connect_grant(XfConnect *k, uint64_t gpa)
{
    uint32_t ref = grant(gpa);
    unsigned int no = k->grant_no++;

    if (!ref || !(k->flags & CF_BAD_GRANT) || no != k->sel) {
        return ref;
    }
    switch ((k->flags >> CF_GRANT_MODE_SHIFT) & 3) {
    case 0:
        grant_set(ref, GTF_permit_access | GTF_readonly, xf.backend_domid,
                  gpa / XF_PAGE);
        break;
    case 1:
        grant_set(ref, GTF_permit_access, xf.backend_domid + 1,
                  gpa / XF_PAGE);
        break;
    case 2:
        grant_set(ref, 0, xf.backend_domid, gpa / XF_PAGE);
        break;
    default:
        grant_set(ref, GTF_permit_access, xf.backend_domid, 0xfffff);
        break;
    }
    return ref;
}

static uint32_t connect_port(XfConnect *k, unsigned int no, uint32_t port)
{
    if ((k->flags & CF_BAD_PORT) && no == k->sel % (xf.c.nvis + 1)) {
        return port + 1000;
    }
    return port;
}

static void op_connect(XfInput *in)
{
    uint8_t nvis_b = in_u8(in), txo = in_u8(in), rxo = in_u8(in);
    uint8_t pool_b = in_u8(in);
    XfConnect k = { .flags = in_u16(in), .sel = in_u8(in) };
    bool raw = k.flags & CF_RAW;
    uint32_t nvis = raw ? nvis_b : 1 + nvis_b % 4;
    uint32_t tx_entries = raw ? txo * 16u : 256u << (txo % 3);
    uint32_t rx_entries = raw ? rxo * 16u : 256u << (rxo % 3);
    uint32_t pool = raw ? pool_b : 1 + pool_b % 64;
    g_autofree char *gen_path = g_strdup_printf("%s/generation",
                                                xf.backend);
    g_autofree char *gen = NULL;
    XfConn *c = &xf.c;
    unsigned int generation;
    uint32_t dir_ref, i, j;
    uint64_t dir;

    if (c->open) {
        return;
    }
    memset(c, 0, sizeof(*c));
    c->open = true;
    c->nvis = MIN(nvis, XNA_MAX_VIS);
    c->pool_pages = MAX(pool, 1);

    c->ctrl = alloc_pages(1);
    dir = alloc_pages(1);
    for (i = 0; i < c->pool_pages; i++) {
        c->pool[i] = alloc_pages((k.flags & CF_SPREAD_POOL) ? 2 : 1);
    }
    for (i = 0; i < c->nvis; i++) {
        XfVi *v = &c->vi[i];

        v->tx_pages = MIN(MAX(DIV_ROUND_UP(tx_entries, XNA_DESCS_PER_PAGE),
                              1), XNA_MAX_RING_PAGES);
        v->rx_pages = MIN(MAX(DIV_ROUND_UP(rx_entries, XNA_DESCS_PER_PAGE),
                              1), XNA_MAX_RING_PAGES);
        v->shared = alloc_pages(1);
        for (j = 0; j < v->tx_pages; j++) {
            v->tx_ring[j] = alloc_pages(1);
        }
        for (j = 0; j < v->rx_pages; j++) {
            v->rx_ring[j] = alloc_pages(1);
        }
        v->port = evtchn_alloc();
    }
    c->ctrl_port = evtchn_alloc();

    /* The keys, in the order the guest module writes them. */
    gen = xs_read(gen_path);
    if (!gen || qemu_strtoui(gen, NULL, 10, &generation)) {
        generation = 0;
    }
    connect_key(&k, "protocol-version", "%u",
                (k.flags & CF_BAD_VERSION) ? 2 : XNA_PROTOCOL_VERSION);
    connect_key(&k, "generation", "%u",
                generation + !!(k.flags & CF_STALE));
    connect_key(&k, "ctrl-ring-ref", "%u", connect_grant(&k, c->ctrl));
    connect_key(&k, "event-channel", "%u",
                connect_port(&k, 0, c->ctrl_port));
    connect_key(&k, "num-vis", "%u", nvis);
    connect_key(&k, "tx-ring-entries", "%u", tx_entries);
    connect_key(&k, "rx-ring-entries", "%u", rx_entries);
    connect_key(&k, "pool-pages", "%u", pool);
    for (i = 0; i < c->pool_pages; i++) {
        uint32_t ref = connect_grant(&k, c->pool[i]);

        if ((k.flags & CF_BAD_DIR) && i == k.sel % c->pool_pages) {
            ref = (k.sel & 1) ? 0xffffff00u : 0;
        }
        wr32(dir + i * 4, ref);
    }
    dir_ref = connect_grant(&k, dir);
    connect_key(&k, "pool-dir-ref-0", "%u", dir_ref);
    for (i = 0; i < c->nvis; i++) {
        XfVi *v = &c->vi[i];
        char key[64];

        snprintf(key, sizeof(key), "vi-%u/shared-ref", i);
        connect_key(&k, key, "%u", connect_grant(&k, v->shared));
        for (j = 0; j < v->tx_pages; j++) {
            snprintf(key, sizeof(key), "vi-%u/tx-ring-ref-%u", i, j);
            connect_key(&k, key, "%u", connect_grant(&k, v->tx_ring[j]));
        }
        for (j = 0; j < v->rx_pages; j++) {
            snprintf(key, sizeof(key), "vi-%u/rx-ring-ref-%u", i, j);
            connect_key(&k, key, "%u", connect_grant(&k, v->rx_ring[j]));
        }
        snprintf(key, sizeof(key), "vi-%u/event-channel", i);
        connect_key(&k, key, "%u", connect_port(&k, i + 1, v->port));
    }
    connect_key(&k, "feature-wire-mac", "%u", 1);
    if (!(k.flags & CF_KEYS_ONLY)) {
        front_printf("state", "%u", (k.flags & CF_CONNECTED) ?
                     XenbusStateConnected : XenbusStateInitialised);
    }
}

/* Run the main loop until the backend is in @state, or give up. */
static bool settle(int state)
{
    int i;

    for (i = 0; i < XF_SETTLE_LOOPS; i++) {
        flush_events(xf.s);
        if (backend_state() == state) {
            return true;
        }
    }
    return false;
}

/*
 * The frontend's close, then everything the guest did undone: after it
 * the device is in InitWait with nothing of the guest's mapped or bound.
 */
static void xf_close(void)
{
    g_auto(GStrv) keys = NULL;
    unsigned int i;

    front_printf("state", "%u", XenbusStateClosed);
    if (!settle(XenbusStateClosed)) {
        fprintf(stderr, "xen-net-accel-fuzz: the backend did not close "
                "(state %d)\n", backend_state());
        abort();
    }
    /* The device must let go of everything when the frontend closes. */
    if (sim_stat("grant-live-maps") || sim_stat("evtchn-bound")) {
        fprintf(stderr, "xen-net-accel-fuzz: after the frontend closed, "
                "%" PRIu64 " grants stay mapped and %" PRIu64 " event "
                "channels bound\n", sim_stat("grant-live-maps"),
                sim_stat("evtchn-bound"));
        abort();
    }
    if (xf.netdev) {
        qemu_purge_queued_packets(xf.wire);
    }
    for (i = 0; i < xf.nr_ports; i++) {
        uint64_t arg[1] = { xf.ports[i] };

        sim_cmd(XEN_SIM_OP_EVTCHN_CLOSE, arg, 1);
    }
    xf.nr_ports = 0;
    zero(pg(XF_PG_GNTTAB), XF_GNTTAB_PAGES * XF_PAGE);
    zero(pg(XF_PG_PENDING), XF_PAGE);
    if (xf.next_page > XF_PG_FIRST_FREE) {
        zero(pg(XF_PG_FIRST_FREE), pg(xf.next_page - XF_PG_FIRST_FREE));
    }
    xf.next_page = XF_PG_FIRST_FREE;
    xf.next_ref = XF_FIRST_REF;
    memset(&xf.c, 0, sizeof(xf.c));

    /* Frontend keys of the input go; xen-bus's own are rewritten. */
    keys = xs_directory(xf.frontend);
    for (i = 0; keys[i]; i++) {
        g_autofree char *path = g_strdup_printf("%s/%s", xf.frontend,
                                                keys[i]);
        const char *value = g_hash_table_lookup(xf.initial_keys, keys[i]);

        if (!value) {
            xs_rm(path);
        } else if (strcmp(keys[i], "state")) {
            xs_write(path, value);
        }
    }
    front_printf("state", "%u", XenbusStateInitialising);
    if (!settle(XenbusStateInitWait)) {
        fprintf(stderr, "xen-net-accel-fuzz: the backend did not return to "
                "InitWait (state %d)\n", backend_state());
        abort();
    }
}

/*
 * Operations
 */

/* A control message to the backend: type, flags, two payload words. */
static void op_ctrl_msg(XfInput *in)
{
    uint8_t type = in_u8(in), flags = in_u8(in);
    uint32_t a = in_u32(in), b = in_u32(in);
    XfConn *c = &xf.c;
    struct xna_msg msg = { 0 };
    uint64_t slot;

    if (!c->open) {
        return;
    }
    msg.type = cpu_to_le16(type);
    msg.reserved = cpu_to_le16((flags & 0x80) ? flags : 0);
    msg.id = cpu_to_le32(c->msg_id++);
    stl_le_p(msg.u.raw, a);
    stl_le_p(msg.u.raw + 4, b);
    slot = c->ctrl + offsetof(struct xna_ctrl_page, to_backend_msgs) +
           (c->to_backend_prod % XNA_CTRL_RING_SLOTS) * sizeof(msg);
    qtest_memwrite(xf.s, slot, &msg, sizeof(msg));
    c->to_backend_prod++;
    wr32(c->ctrl + CTRL_TO_BACKEND(prod), c->to_backend_prod);
    if (!(flags & 1)) {
        evtchn_notify(c->ctrl_port);
    }
}

/* HELLO as a guest sends it, with its VIs. */
static void op_hello(XfInput *in)
{
    uint8_t kick = in_u8(in) & 1;
    XfInput args;
    uint8_t buf[10] = { XNA_MSG_HELLO, kick };

    stl_le_p(buf + 2, XNA_PROTOCOL_VERSION);
    stl_le_p(buf + 6, xf.c.nvis);
    args = (XfInput) { buf, sizeof(buf) };
    op_ctrl_msg(&args);
}

/* A whole raw message into a slot of the FIFO, indices untouched. */
static void op_ctrl_raw(XfInput *in)
{
    uint8_t slot = in_u8(in) % XNA_CTRL_RING_SLOTS;
    uint8_t msg[XNA_MSG_SIZE];

    in_bytes(in, msg, sizeof(msg));
    if (xf.c.open) {
        qtest_memwrite(xf.s, xf.c.ctrl +
                       offsetof(struct xna_ctrl_page, to_backend_msgs) +
                       slot * XNA_MSG_SIZE, msg, sizeof(msg));
    }
}

/* Set a control index: the guest's producer, its consumer, events. */
static void op_ctrl_index(XfInput *in)
{
    static const size_t offs[] = {
        CTRL_TO_BACKEND(prod), CTRL_TO_BACKEND(cons_event),
        CTRL_TO_GUEST(cons), CTRL_TO_GUEST(prod_event),
    };
    uint8_t which = in_u8(in);
    uint32_t val = in_u32(in);
    uint64_t gpa;

    if (!xf.c.open) {
        return;
    }
    gpa = xf.c.ctrl + offs[which % ARRAY_SIZE(offs)];
    if (!(which & 0x40)) {
        val = rd32(gpa) + (int16_t)val;
    }
    wr32(gpa, val);
    if (gpa == xf.c.ctrl + CTRL_TO_BACKEND(prod)) {
        xf.c.to_backend_prod = val;
    }
    if (which & 0x80) {
        evtchn_notify(xf.c.ctrl_port);
    }
}

/* What a guest does when woken: take messages, re-arm every event. */
static void op_poll(XfInput *in)
{
    uint8_t flags = in_u8(in);
    XfConn *c = &xf.c;
    uint32_t prod, old, i;

    if (!c->open) {
        return;
    }
    old = rd32(c->ctrl + CTRL_TO_GUEST(cons));
    prod = rd32(c->ctrl + CTRL_TO_GUEST(prod));
    if (prod - old > XNA_CTRL_RING_SLOTS) {
        prod = old;
    }
    wr32(c->ctrl + CTRL_TO_GUEST(cons), prod);
    wr32(c->ctrl + CTRL_TO_GUEST(prod_event), prod + 1);
    if (xna_need_event(rd32(c->ctrl + CTRL_TO_GUEST(cons_event)), prod,
                       old) || (flags & 1)) {
        evtchn_notify(c->ctrl_port);
    }
    for (i = 0; i < c->nvis; i++) {
        XfVi *v = &c->vi[i];

        wr32(v->shared + VI_SHARED(tx_cons_event),
             rd32(v->shared + VI_SHARED(tx_cons)) + 1);
        wr32(v->shared + VI_SHARED(rx_cons_event),
             rd32(v->shared + VI_SHARED(rx_cons)) + 1);
    }
}

/*
 * A frame into the pool and the TX ring: buffers of a size from the
 * input, flags to break it (unterminated, checksum offload, no kick).
 */
static void op_tx_frame(XfInput *in)
{
    XfVi *v = input_vi(in);
    uint8_t frag = in_u8(in), flags = in_u8(in);
    uint16_t csum_start = in_u16(in), csum_offset = in_u16(in);
    g_autofree uint8_t *f = NULL;
    size_t len = input_frame(in, &f), done = 0;
    uint32_t fragsize = MIN(64u << (frag % 7), XF_PAGE);
    uint32_t old, n = 0;

    if (!v) {
        return;
    }
    old = v->tx_prod;
    do {
        uint32_t chunk = MIN(len - done, fragsize);
        uint32_t page = xf.c.buf_cursor++ % xf.c.pool_pages;
        uint16_t off = (frag & 0x80) ? XF_PAGE - chunk : 0;
        struct xna_desc d = {
            .page = cpu_to_le32(page),
            .offset = cpu_to_le16(off),
            .len = cpu_to_le16(chunk),
        };
        uint16_t dflags = 0;

        if (done + chunk < len || (flags & 2)) {
            dflags |= XNA_DESC_MORE;
        }
        if (!n && (flags & 1)) {
            dflags |= XNA_DESC_CSUM_PARTIAL;
            if (flags & 0x20) {
                csum_start = 34;
                csum_offset = 6;
            }
            d.csum_start = cpu_to_le16(csum_start);
            d.csum_offset = cpu_to_le16(csum_offset);
        }
        d.flags = cpu_to_le16(dflags);
        qtest_memwrite(xf.s, xf.c.pool[page] + off, f + done, chunk);
        qtest_memwrite(xf.s, tx_slot(v, v->tx_prod++), &d, sizeof(d));
        done += chunk;
        n++;
    } while (done < len && n < 24);
    if (!(flags & 4)) {
        publish(v, VI_SHARED(tx_prod), VI_SHARED(tx_prod_event), old,
                v->tx_prod, flags & 8);
    }
}

/* A raw descriptor at the guest's TX or RX producer. */
static void op_desc(XfInput *in)
{
    XfVi *v = input_vi(in);
    uint8_t adv = in_u8(in);
    struct xna_desc d;
    bool rx = adv & 0x40;
    uint32_t old;

    in_bytes(in, &d, sizeof(d));
    if (!v) {
        return;
    }
    if (rx) {
        old = v->rx_prod;
        qtest_memwrite(xf.s, rx_slot(v, v->rx_prod), &d, sizeof(d));
        v->rx_prod += adv & 3;
        if (adv & 0x80) {
            publish(v, VI_SHARED(rx_prod), VI_SHARED(rx_prod_event), old,
                    v->rx_prod, adv & 0x20);
        }
    } else {
        old = v->tx_prod;
        qtest_memwrite(xf.s, tx_slot(v, v->tx_prod), &d, sizeof(d));
        v->tx_prod += adv & 3;
        if (adv & 0x80) {
            publish(v, VI_SHARED(tx_prod), VI_SHARED(tx_prod_event), old,
                    v->tx_prod, adv & 0x20);
        }
    }
}

/* Post RX buffers: count, capacity, offset from the input. */
static void op_rx_post(XfInput *in)
{
    XfVi *v = input_vi(in);
    uint8_t count = in_u8(in), flags = in_u8(in);
    uint16_t size = in_u16(in), off = in_u16(in);
    uint32_t old, i;

    if (!v) {
        return;
    }
    if (!(flags & 0x10)) {
        /* A well-behaved guest: whole buffers that fit in their page. */
        size = 64 + size % (XF_PAGE - 63);
        off = off % (XF_PAGE - size + 1);
    }
    old = v->rx_prod;
    for (i = 0; i <= count; i++) {
        uint32_t page = xf.c.buf_cursor++ % xf.c.pool_pages;
        struct xna_desc d = {
            .page = cpu_to_le32(page),
            .offset = cpu_to_le16(off),
            .len = cpu_to_le16(size),
        };

        qtest_memwrite(xf.s, rx_slot(v, v->rx_prod++), &d, sizeof(d));
    }
    if (!(flags & 4)) {
        publish(v, VI_SHARED(rx_prod), VI_SHARED(rx_prod_event), old,
                v->rx_prod, flags & 8);
    }
}

/* Set one of the guest's VI indices: absolute, or moved by a delta. */
static void op_vi_index(XfInput *in)
{
    static const size_t offs[] = {
        VI_SHARED(tx_prod), VI_SHARED(tx_cons_event),
        VI_SHARED(rx_prod), VI_SHARED(rx_cons_event),
    };
    XfVi *v = input_vi(in);
    uint8_t which = in_u8(in);
    uint32_t val = in_u32(in);
    size_t off = offs[which % ARRAY_SIZE(offs)];

    if (!v) {
        return;
    }
    if (!(which & 0x40)) {
        val = rd32(v->shared + off) + (int16_t)val;
    }
    wr32(v->shared + off, val);
    if (off == VI_SHARED(tx_prod)) {
        v->tx_prod = val;
    } else if (off == VI_SHARED(rx_prod)) {
        v->rx_prod = val;
    }
    if (which & 0x80) {
        evtchn_notify(v->port);
    }
}

/* VI_RESET as the protocol says: own half reset, then the message. */
static void op_vi_reset(XfInput *in)
{
    uint8_t vi_b = in_u8(in), post = in_u8(in);
    XfVi *v;
    uint8_t buf[10] = { XNA_MSG_VI_RESET, 0 };
    XfInput args;
    uint32_t i;

    if (!xf.c.open || !xf.c.nvis) {
        return;
    }
    v = &xf.c.vi[vi_b % xf.c.nvis];
    v->tx_prod = 0;
    v->rx_prod = 0;
    for (i = 0; i < post; i++) {
        struct xna_desc d = {
            .page = cpu_to_le32(xf.c.buf_cursor++ % xf.c.pool_pages),
            .len = cpu_to_le16(2048),
        };

        qtest_memwrite(xf.s, rx_slot(v, v->rx_prod++), &d, sizeof(d));
    }
    wr32(v->shared + VI_SHARED(tx_prod), 0);
    wr32(v->shared + VI_SHARED(rx_prod), v->rx_prod);
    wr32(v->shared + VI_SHARED(tx_cons_event), 1);
    wr32(v->shared + VI_SHARED(rx_cons_event), 1);
    stl_le_p(buf + 2, (vi_b & 0x80) ? vi_b : v - xf.c.vi);
    args = (XfInput) { buf, sizeof(buf) };
    op_ctrl_msg(&args);
}

/* An event: the control port, a VI's, any port, or a send command. */
static void op_kick(XfInput *in)
{
    uint8_t which = in_u8(in);
    uint16_t raw = in_u16(in);
    uint64_t arg[1] = { raw };

    switch (which % 4) {
    case 0:
        if (xf.c.open) {
            evtchn_notify(xf.c.ctrl_port);
        }
        break;
    case 1:
        if (xf.c.open && xf.c.nvis) {
            evtchn_notify(xf.c.vi[raw % xf.c.nvis].port);
        }
        break;
    case 2:
        evtchn_notify(raw);
        break;
    default:
        sim_cmd(XEN_SIM_OP_EVTCHN_SEND, arg, 1);
        break;
    }
}

/* A frontend key the backend reads, with a value from the input. */
static void op_xs_write(XfInput *in)
{
    static const char *const keys[] = {
        "state", "protocol-version", "generation", "ctrl-ring-ref",
        "event-channel", "num-vis", "tx-ring-entries", "rx-ring-entries",
        "pool-pages", "pool-dir-ref-%u", "vi-%u/shared-ref",
        "vi-%u/tx-ring-ref-%u", "vi-%u/rx-ring-ref-%u",
        "vi-%u/event-channel",
    };
    uint8_t key = in_u8(in), idx = in_u8(in), kind = in_u8(in);
    uint32_t val = in_u32(in);
    g_autofree char *name = NULL;
    g_autofree char *path = NULL;
    char value[32];

    name = g_strdup_printf(keys[key % ARRAY_SIZE(keys)], idx % 17,
                           idx >> 4);
    path = g_strdup_printf("%s/%s", xf.frontend, name);
    switch (kind % 4) {
    case 0:
        snprintf(value, sizeof(value), "%u", val);
        break;
    case 1:
        snprintf(value, sizeof(value), "%d", (int32_t)val);
        break;
    case 2:
        snprintf(value, sizeof(value), "%u", val % 8);
        break;
    default:
        in_bytes(in, value, val % sizeof(value));
        xs_write_raw(path, value, val % sizeof(value));
        return;
    }
    if (kind & 0x80) {
        xs_rm(path);
    } else {
        xs_write(path, value);
    }
}

static void op_state(XfInput *in)
{
    front_printf("state", "%u", in_u8(in) % 9);
}

static void op_clock(XfInput *in)
{
    /* qtest refuses a step of 0 */
    qtest_clock_step(xf.s, (int64_t)in_u32(in) + 1);
}

/* Bytes into a pool page. */
static void op_pool_write(XfInput *in)
{
    uint8_t page = in_u8(in), len = in_u8(in);
    uint16_t off = in_u16(in) % XF_PAGE;
    uint8_t buf[256];

    len = MIN(len, XF_PAGE - off);
    in_bytes(in, buf, len);
    if (xf.c.open) {
        qtest_memwrite(xf.s, xf.c.pool[page % xf.c.pool_pages] + off, buf,
                       len);
    }
}

/* nic=netdev: a frame from the wire, or from the host. */
static void op_nic_frame(XfInput *in)
{
    uint8_t side = in_u8(in);
    g_autofree uint8_t *f = NULL;
    size_t len = input_frame(in, &f);

    if (xf.netdev && len) {
        qemu_receive_packet((side & 1) ? xf.host_inj : xf.inj, f, len);
    }
}

static void op_close(XfInput *in)
{
    xf_close();
}

typedef void (*XfOp)(XfInput *in);

static const XfOp xf_ops[] = {
    op_connect,         /* 0 */
    op_hello,           /* 1 */
    op_ctrl_msg,        /* 2 */
    op_ctrl_raw,        /* 3 */
    op_ctrl_index,      /* 4 */
    op_poll,            /* 5 */
    op_tx_frame,        /* 6 */
    op_desc,            /* 7 */
    op_rx_post,         /* 8 */
    op_vi_index,        /* 9 */
    op_vi_reset,        /* 10 */
    op_kick,            /* 11 */
    op_xs_write,        /* 12 */
    op_state,           /* 13 */
    op_clock,           /* 14 */
    op_pool_write,      /* 15 */
    op_nic_frame,       /* 16 */
    op_close,           /* 17 */
};

/* XNA_FUZZ_DEBUG=1: what an input did, to check seeds by hand. */
static void xf_debug(void)
{
    static const char *const stats[] = {
        "connects", "guest-errors", "ctrl-msgs-in", "ctrl-msgs-out",
        "vi0-tx-packets", "vi0-rx-packets", "vi0-rx-slow-packets",
        "vi0-guest-errors", "filters-inserted", "nic-rx-frames",
        "nic-host-frames",
    };
    Object *dev = object_resolve_path("/machine/peripheral/xna0", NULL);
    g_autofree char *path = g_strdup_printf("%s/error", xf.backend);
    g_autofree char *error = xs_read(path);
    size_t i;

    fprintf(stderr, "xen-net-accel-fuzz: backend state %d", backend_state());
    for (i = 0; dev && i < ARRAY_SIZE(stats); i++) {
        fprintf(stderr, ", %s %" PRIu64, stats[i],
                object_property_get_uint(dev, stats[i], &error_abort));
    }
    fprintf(stderr, "%s%s\n", error ? ", error: " : "", error ? error : "");
}

static void xf_fuzz(QTestState *s, const unsigned char *data, size_t size)
{
    XfInput in = { data, size };
    unsigned int n = 0;

    while (in.left && n++ < XF_MAX_OPS) {
        xf_ops[in_u8(&in) % ARRAY_SIZE(xf_ops)](&in);
        flush_events(s);
    }
    if (getenv("XNA_FUZZ_DEBUG")) {
        xf_debug();
    }
    xf_close();
}

/*
 * Setup, once per process
 */

static void xf_pre_fuzz(QTestState *s)
{
    g_auto(GStrv) keys = NULL;
    g_autofree char *backend_id = NULL;
    g_autofree char *path = NULL;
    uint64_t arg[2];
    unsigned int i;

    xf.s = s;
    xf.sim = object_resolve_path(XF_SIM_PATH, NULL);
    g_assert(xf.sim);
    xf.mmio = object_property_get_uint(xf.sim, "addr", &error_abort);
    g_assert(qtest_readl(s, xf.mmio + XEN_SIM_REG_MAGIC) == XEN_SIM_MAGIC);
    xf.domid = qtest_readl(s, xf.mmio + XEN_SIM_REG_DOMID);
    xf.next_page = XF_PG_FIRST_FREE;
    xf.next_ref = XF_FIRST_REF;
    zero(0, pg(XF_PG_FIRST_FREE));

    arg[0] = pg(XF_PG_GNTTAB);
    arg[1] = XF_GNTTAB_ENTRIES;
    g_assert(sim_cmd(XEN_SIM_OP_GNTTAB_SETUP, arg, 2) == 0);
    arg[0] = pg(XF_PG_PENDING);
    arg[1] = XF_NR_PORTS;
    g_assert(sim_cmd(XEN_SIM_OP_EVTCHN_SETUP, arg, 2) == 0);

    xf.frontend = g_strdup_printf("/local/domain/%u/device/%s/0", xf.domid,
                                  XNA_XS_DEVICE_TYPE);
    flush_events(s);
    path = g_strdup_printf("%s/backend", xf.frontend);
    xf.backend = xs_read(path);
    g_assert(xf.backend);
    g_free(path);
    path = g_strdup_printf("%s/backend-id", xf.frontend);
    backend_id = xs_read(path);
    g_assert(backend_id);
    xf.backend_domid = atoi(backend_id);

    xf.initial_keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                            g_free);
    keys = xs_directory(xf.frontend);
    for (i = 0; keys[i]; i++) {
        g_autofree char *key = g_strdup_printf("%s/%s", xf.frontend,
                                               keys[i]);
        char *value = xs_read(key);

        g_hash_table_insert(xf.initial_keys, g_strdup(keys[i]),
                            value ? value : g_strdup(""));
    }
    if (xf.netdev) {
        xf.wire = qemu_find_netdev("wire");
        xf.inj = qemu_find_netdev("inj");
        xf.host_inj = qemu_find_netdev("hinj");
        g_assert(xf.wire && xf.inj && xf.host_inj);
    }
    /* Start from the state every input starts from. */
    xf_close();
}

static void xf_pre_fuzz_netdev(QTestState *s)
{
    xf.netdev = true;
    xf_pre_fuzz(s);
}

#define XF_CMDLINE \
    TARGET_NAME " -machine none -accel qtest -m " stringify(XF_RAM_MB) "M " \
    "-cpu qemu64,apic-id=0 -nodefaults -display none " \
    "-device xen-sim,id=xensim "
/* Every input connects again: no connect rate limit (a real guest has one). */
#define XF_DEVICE \
    "-device xen-net-accel,id=xna0,mac=" XF_MAC ",mtu=9000,max-vis=4," \
    "x-connect-limit=off,wire-mac-ageing=1," \
    "max-filters=8,max-pool-pages=" stringify(XF_MAX_POOL) "," \
    "tx-ring-size=" stringify(XF_MAX_RING) "," \
    "rx-ring-size=" stringify(XF_MAX_RING)

static GString *xf_cmdline_loopback(FuzzTarget *t)
{
    return g_string_new(XF_CMDLINE XF_DEVICE ",nic=loopback ");
}

static GString *xf_cmdline_netdev(FuzzTarget *t)
{
    return g_string_new(XF_CMDLINE
                        "-netdev hubport,id=wire,hubid=0 "
                        "-netdev hubport,id=inj,hubid=0 "
                        "-netdev hubport,id=hostp,hubid=1 "
                        "-netdev hubport,id=hinj,hubid=1 "
                        XF_DEVICE ",nic=netdev,netdev=wire,"
                        "host-netdev=hostp,mac-filter=on ");
}

static void register_xen_net_accel_fuzz_targets(void)
{
    fuzz_add_target(&(FuzzTarget) {
        .name = "xen-net-accel",
        .description = "xen-net-accel (nic=loopback) on xen-sim, driven "
                       "by a hostile guest: keys, grants, rings, control",
        .get_init_cmdline = xf_cmdline_loopback,
        .pre_fuzz = xf_pre_fuzz,
        .fuzz = xf_fuzz,
    });
    fuzz_add_target(&(FuzzTarget) {
        .name = "xen-net-accel-netdev",
        .description = "xen-net-accel (nic=netdev, host-netdev, mac-filter) "
                       "on xen-sim: "
                       "a hostile guest, and frames from the wire and host",
        .get_init_cmdline = xf_cmdline_netdev,
        .pre_fuzz = xf_pre_fuzz_netdev,
        .fuzz = xf_fuzz,
    });
}

fuzz_target_init(register_xen_net_accel_fuzz_targets);
