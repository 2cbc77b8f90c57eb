/*
 * Fuzz target: the guest core's control channel against a hostile backend
 *
 * A frontend core (guest/core/xna-front.c, the code of the guest kernel
 * module) on user-space pages; the input plays the backend: it writes
 * messages (raw 64-byte ones, or built from a few fields so that valid
 * sequences are easy to reach) and indices into the to_guest FIFO and
 * the backend's fields of the to_backend FIFO, interleaved with the
 * guest's xna_front_ctrl_recv/poll/arm/flush/send, HELLO and VI resets.
 *
 * Invariants besides memory safety:
 *  - the guest writes only its own fields (to_guest.cons/prod_event,
 *    to_backend.prod/cons_event and the slots it publishes), never the
 *    backend's, and never publishes more than the FIFO holds;
 *  - what it sends is well-formed (reserved 0, increasing ids, in the
 *    order sent);
 *  - xna_front_ctrl_poll takes at most its budget and says "more" exactly when
 *    messages wait, else leaves the FIFO empty and armed;
 *  - recv returns -EPROTO, 0 or 1; -EPROTO leaves the front FAILED, and
 *    FAILED is final (HELLO is sent once, as the module does); an applied
 *    message is of a backend type;
 *  - state consistency: accepted VIs <= VIs set up, the others UNUSED,
 *    READY only once no accepted VI waits for VI_UP;
 *  - the fast-flow, local-MAC and wire-MAC tables agree with a reference
 *    model fed
 *    with the messages the core reports as applied (adds, removals, full
 *    table, flows dropped with their VI on VI_DOWN).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "fuzz-front.h"

#define MAX_FLOWS   32
#define MAX_MACS    (XNA_MAX_LOCAL_MACS + 1)
#define RECV_BUDGET 40

typedef struct FlowKey {
    uint8_t kind;
    uint16_t port;
    uint8_t addr[16];
} FlowKey;

typedef struct Model {
    unsigned int max_flows;
    unsigned int nflows;
    FlowKey flow[MAX_FLOWS];
    uint8_t flow_vi[MAX_FLOWS];
    FlowKey gone;               /* last flow removed, if has_gone */
    bool has_gone;
    unsigned int nmacs;
    uint8_t mac[MAX_MACS][6];
    bool mac_overflow;
    bool wire_on;               /* feature-wire-mac offered */
    unsigned int nwire;
    uint8_t wire[XNA_MAX_WIRE_MACS][6];
} Model;

typedef struct Fuzz {
    FrontEnv *e;
    Model m;
    /* backend side: what it wrote, to check the guest left it alone */
    uint32_t to_g_prod;
    uint32_t to_b_cons;
    uint32_t to_b_prod_event;
    uint32_t to_g_cons_event;
    struct xna_msg to_g_msgs[XNA_CTRL_RING_SLOTS];
    /* guest side, as last seen */
    uint32_t to_b_prod;
    struct xna_msg to_b_msgs[XNA_CTRL_RING_SLOTS];
    uint32_t last_id;
    bool failed;
} Fuzz;

static unsigned int key_len(uint8_t kind)
{
    return kind == XNA_FILTER_MAC ? 6 :
           kind == XNA_FILTER_IPV4_TCP || kind == XNA_FILTER_IPV4_UDP ? 4 : 16;
}

static int flow_find(const Model *m, const FlowKey *k)
{
    unsigned int i;

    for (i = 0; i < m->nflows; i++) {
        if (!memcmp(&m->flow[i], k, sizeof(*k))) {
            return (int)i;
        }
    }
    return -1;
}

static void flow_del(Model *m, unsigned int i)
{
    m->gone = m->flow[i];
    m->has_gone = true;
    m->flow[i] = m->flow[m->nflows - 1];
    m->flow_vi[i] = m->flow_vi[m->nflows - 1];
    m->nflows--;
}

/* Index of @mac among the @n MACs of @tab, or -1. */
static int mac_index(const uint8_t (*tab)[6], unsigned int n,
                     const uint8_t *mac)
{
    unsigned int i;

    for (i = 0; i < n; i++) {
        if (!memcmp(tab[i], mac, 6)) {
            return (int)i;
        }
    }
    return -1;
}

static int mac_find(const Model *m, const uint8_t *mac)
{
    return mac_index(m->mac, m->nmacs, mac);
}

static int wire_find(const Model *m, const uint8_t *mac)
{
    return mac_index(m->wire, m->nwire, mac);
}

/*
 * Feeds the model with a message the core applied; @before: the stats
 * before it, when known (NULL after a batch: no full-table check).
 */
static void model_apply(Fuzz *z, const struct xna_msg *msg,
                        const struct xna_front_stats *before)
{
    const struct xna_front_stats *st = xna_front_stats(z->e->f);
    Model *m = &z->m;
    FlowKey k;
    unsigned int i;
    int at;

    switch (msg->type) {
    case XNA_MSG_FILTER:
        memset(&k, 0, sizeof(k));
        k.kind = msg->u.filter.kind;
        k.port = msg->u.filter.port;
        memcpy(k.addr, msg->u.filter.addr, key_len(k.kind));
        at = flow_find(m, &k);
        if (msg->u.filter.op == XNA_OP_ADD) {
            if (at >= 0) {
                m->flow_vi[at] = (uint8_t)msg->u.filter.vi;
            } else if (m->nflows < m->max_flows) {
                m->flow[m->nflows] = k;
                m->flow_vi[m->nflows] = (uint8_t)msg->u.filter.vi;
                m->nflows++;
            } else if (before) {
                FUZZ_CHECK(st->flow_table_full == before->flow_table_full + 1,
                           "full flow table not counted");
            }
        } else {
            FUZZ_CHECK(msg->u.filter.op == XNA_OP_REMOVE, "filter op %u",
                       msg->u.filter.op);
            if (at >= 0) {
                flow_del(m, at);
            }
        }
        break;
    case XNA_MSG_VI_DOWN:
        for (i = 0; i < m->nflows;) {
            if (m->flow_vi[i] == msg->u.vi.vi) {
                flow_del(m, i);
            } else {
                i++;
            }
        }
        break;
    case XNA_MSG_LOCAL_MAC:
        at = mac_find(m, msg->u.local_mac.mac);
        if (msg->u.local_mac.op == XNA_OP_ADD) {
            if (at < 0 && m->nmacs < XNA_MAX_LOCAL_MACS) {
                memcpy(m->mac[m->nmacs++], msg->u.local_mac.mac, 6);
            } else if (at < 0) {
                m->mac_overflow = true;
            }
        } else if (at >= 0) {
            memcpy(m->mac[at], m->mac[--m->nmacs], 6);
        }
        break;
    case XNA_MSG_WIRE_MAC:
        FUZZ_CHECK(m->wire_on, "WIRE_MAC applied without the feature");
        FUZZ_CHECK(!(msg->u.local_mac.mac[0] & 1), "group WIRE_MAC applied");
        at = wire_find(m, msg->u.local_mac.mac);
        if (msg->u.local_mac.op == XNA_OP_ADD) {
            if (at < 0 && m->nwire < XNA_MAX_WIRE_MACS) {
                memcpy(m->wire[m->nwire++], msg->u.local_mac.mac, 6);
            }
        } else if (at >= 0) {
            memcpy(m->wire[at], m->wire[--m->nwire], 6);
        }
        break;
    }
}

static void model_check(Fuzz *z)
{
    struct xna_front *f = z->e->f;
    Model *m = &z->m;
    unsigned int i;

    FUZZ_CHECK(xna_front_flow_count(f) == m->nflows, "flows %u vs model %u",
               xna_front_flow_count(f), m->nflows);
    for (i = 0; i < m->nflows; i++) {
        FUZZ_CHECK(xna_front_flow_is_fast(f, m->flow[i].kind, m->flow[i].addr,
                                          m->flow[i].port),
                   "flow %u of the model is not fast", i);
    }
    if (m->has_gone && flow_find(m, &m->gone) < 0) {
        FUZZ_CHECK(!xna_front_flow_is_fast(f, m->gone.kind, m->gone.addr,
                                           m->gone.port),
                   "removed flow still fast");
    }
    for (i = 0; i < m->nmacs; i++) {
        FUZZ_CHECK(xna_front_mac_is_local(f, m->mac[i]),
                   "local MAC %u of the model not local", i);
    }
    for (i = 0; i < m->nwire; i++) {
        FUZZ_CHECK(xna_front_mac_is_wire(f, m->wire[i]),
                   "wire MAC %u of the model not known", i);
    }
    {
        static const uint8_t never[6] = { 0xfe, 0xed, 0, 0, 0, 0 };

        FUZZ_CHECK(!xna_front_mac_is_wire(f, never), "stray wire MAC");
    }
    if (!m->mac_overflow) {
        static const uint8_t never[6] = { 0xfe, 0xed, 0, 0, 0, 0 };

        if (mac_find(m, never) < 0) {
            FUZZ_CHECK(!xna_front_mac_is_local(f, never), "stray local MAC");
        }
    } else {
        FUZZ_CHECK(xna_front_mac_is_local(f, (const uint8_t *)"\2\0\0\0\0\x77"),
                   "overflow must make every MAC local");
    }
}

/* State invariants of the front and its VIs. */
static void state_check(Fuzz *z)
{
    struct xna_front *f = z->e->f;
    enum xna_front_state s = xna_front_state(f);
    unsigned int n, acc = xna_front_num_vis(f);

    FUZZ_CHECK(s >= XNA_FRONT_INIT && s <= XNA_FRONT_FAILED, "state %d", s);
    FUZZ_CHECK(!z->failed || s == XNA_FRONT_FAILED,
               "left FAILED (now %d)", s);
    z->failed = s == XNA_FRONT_FAILED;
    FUZZ_CHECK(acc <= z->e->l.num_vis, "accepted %u of %u", acc,
               z->e->l.num_vis);
    FUZZ_CHECK(xna_front_ready(f) == (s == XNA_FRONT_READY), "ready");
    for (n = 0; n < z->e->l.num_vis; n++) {
        struct xna_vi *vi = xna_front_vi(f, n);
        enum xna_front_vi_state vs = xna_front_vi_state(vi);

        FUZZ_CHECK(fe_vi_state_valid(vs), "vi %u state %d", n, vs);
        FUZZ_CHECK(xna_front_vi_index(vi) == n, "vi index");
        if (s == XNA_FRONT_CONNECTING || s == XNA_FRONT_READY) {
            FUZZ_CHECK((n >= acc) == (vs == XNA_VI_UNUSED),
                       "vi %u of %u accepted is %d", n, acc, vs);
        }
        if (s == XNA_FRONT_READY && n < acc) {
            FUZZ_CHECK(vs != XNA_VI_WAIT_UP, "READY with vi %u waiting", n);
        }
    }
    FUZZ_CHECK(xna_front_vi(f, z->e->l.num_vis) == NULL, "vi beyond layout");
    FUZZ_CHECK(xna_front_mtu(f) >= 68 && xna_front_mtu(f) <= 9000, "mtu %u",
               xna_front_mtu(f));
}

/*
 * After a guest call: the backend's fields and messages are as the
 * backend wrote them, and what the guest published is well-formed.
 */
static void fifo_check(Fuzz *z)
{
    struct xna_ctrl_page *c = fe_ctrl(z->e);
    uint32_t prod = c->to_backend.prod, i;

    FUZZ_CHECK(c->to_guest.prod == z->to_g_prod, "guest wrote to_guest.prod");
    FUZZ_CHECK(c->to_guest.cons_event == z->to_g_cons_event,
               "guest wrote to_guest.cons_event");
    FUZZ_CHECK(!memcmp(c->to_guest_msgs, z->to_g_msgs, sizeof(z->to_g_msgs)),
               "guest wrote a to_guest message");
    FUZZ_CHECK(c->to_backend.cons == z->to_b_cons,
               "guest wrote to_backend.cons");
    FUZZ_CHECK(c->to_backend.prod_event == z->to_b_prod_event,
               "guest wrote to_backend.prod_event");

    if (prod == z->to_b_prod) {
        FUZZ_CHECK(!memcmp(c->to_backend_msgs, z->to_b_msgs,
                           sizeof(z->to_b_msgs)),
                   "guest changed a slot without publishing");
        return;
    }
    FUZZ_CHECK((uint32_t)(prod - z->to_b_cons) <= XNA_CTRL_RING_SLOTS,
               "guest overran the FIFO: prod %u cons %u", prod, z->to_b_cons);
    FUZZ_CHECK((uint32_t)(prod - z->to_b_prod) <= XNA_CTRL_RING_SLOTS,
               "guest prod moved back or jumped: %u -> %u", z->to_b_prod,
               prod);
    for (i = z->to_b_prod; i != prod; i++) {
        const struct xna_msg *m = &c->to_backend_msgs[i % XNA_CTRL_RING_SLOTS];

        /* The type is the caller's; the core sets reserved and id. */
        FUZZ_CHECK(m->reserved == 0, "reserved %u", m->reserved);
        FUZZ_CHECK((int32_t)(m->id - z->last_id) > 0, "id %u after %u",
                   m->id, z->last_id);
        z->last_id = m->id;
    }
    /* Slots the guest did not publish into are untouched. */
    for (i = prod; i != z->to_b_prod + XNA_CTRL_RING_SLOTS; i++) {
        unsigned int s = i % XNA_CTRL_RING_SLOTS;

        if ((uint32_t)(i - z->to_b_prod) >= XNA_CTRL_RING_SLOTS) {
            break;
        }
        FUZZ_CHECK(!memcmp(&c->to_backend_msgs[s], &z->to_b_msgs[s],
                           sizeof(z->to_b_msgs[s])),
                   "guest wrote unpublished slot %u", s);
    }
    memcpy(z->to_b_msgs, c->to_backend_msgs, sizeof(z->to_b_msgs));
    z->to_b_prod = prod;
}

/* A message from a few input bytes: mostly valid, small value spaces. */
static void build_msg(FuzzIn *in, struct xna_msg *m)
{
    uint8_t t = fin_u8(in), a = fin_u8(in), b = fin_u8(in), c = fin_u8(in);
    static const uint32_t mtus[8] = { 0, 1500, 9000, 68, 67, 9001, 576, 0 };

    memset(m, 0, sizeof(*m));
    m->type = t % 10;
    m->id = a;
    switch (m->type) {
    case XNA_MSG_HELLO:
        m->u.hello.version = a & 0x80 ? a : 1;
        m->u.hello.nr_vis = b % 6;
        m->u.hello.status = c & 0x80 ? c & 7 : 0;
        break;
    case XNA_MSG_VI_UP:
    case XNA_MSG_VI_DOWN:
    case XNA_MSG_VI_RESET:
        m->u.vi.vi = a & 0x80 ? 0xffffff00u | a : a % 5;
        m->u.vi.reason = b;
        break;
    case XNA_MSG_WIRE_MAC:
        m->u.local_mac.mac[0] = a & 0x40 ? 3 : 2;
        m->u.local_mac.mac[5] = b;
        m->u.local_mac.op = a & 0x80 ? a : 1 + (a & 1);
        m->u.local_mac.pad[0] = c & 0x80 ? c : 0;
        break;
    case XNA_MSG_LOCAL_MAC:
        m->u.local_mac.op = a & 0x80 ? a : 1 + (a & 1);
        m->u.local_mac.mac[0] = 2;
        m->u.local_mac.mac[5] = b;
        m->u.local_mac.pad[1] = c & 0x80;
        break;
    case XNA_MSG_FILTER:
        m->u.filter.op = a & 0x80 ? a : 1 + (a & 1);
        m->u.filter.vi = (a >> 1) % 5;
        m->u.filter.kind = b % 7;
        m->u.filter.port = c & 3;
        m->u.filter.addr[0] = 10;
        m->u.filter.addr[3] = (c >> 2) & 7;
        m->u.filter.addr[5] = (c >> 5) & 1;     /* beyond an IPv4 key */
        m->u.filter.addr[15] = (c >> 6) & 1;    /* beyond a MAC key */
        break;
    case XNA_MSG_LINK:
        m->u.link.up = a & 0x80 ? a : a & 1;
        m->u.link.mtu = mtus[b & 7];
        break;
    case XNA_MSG_ERROR:
        m->u.error.code = a;
        m->u.error.vi = b;
        break;
    }
    if (c == 0xff) {
        m->reserved = 1;
    }
}

static void guest_recv(Fuzz *z, unsigned int budget)
{
    struct xna_ctrl_page *c = fe_ctrl(z->e);
    struct xna_front_stats before;
    struct xna_msg msg;
    unsigned int i;
    uint32_t cons;
    int r;

    for (i = 0; i < budget; i++) {
        cons = c->to_guest.cons;
        before = *xna_front_stats(z->e->f);
        r = xna_front_ctrl_recv(z->e->f, &msg);
        FUZZ_CHECK(r == 0 || r == 1 || r == -EPROTO, "recv %d", r);
        FUZZ_CHECK(c->to_guest.cons == cons + (r == 1), "cons %u -> %u",
                   cons, c->to_guest.cons);
        if (r == -EPROTO) {
            FUZZ_CHECK(xna_front_state(z->e->f) == XNA_FRONT_FAILED,
                       "-EPROTO without FAILED");
        }
        fifo_check(z);
        if (r == 1 && msg.type) {
            FUZZ_CHECK(msg.type < XNA_MSG_TYPE_MAX &&
                       msg.type != XNA_MSG_VI_RESET, "applied type %u",
                       msg.type);
            FUZZ_CHECK(msg.reserved == 0, "applied with reserved set");
            if (msg.type == XNA_MSG_HELLO && !msg.u.hello.status &&
                xna_front_state(z->e->f) != XNA_FRONT_FAILED) {
                FUZZ_CHECK(xna_front_num_vis(z->e->f) == msg.u.hello.nr_vis,
                           "accepted %u, HELLO said %u",
                           xna_front_num_vis(z->e->f), msg.u.hello.nr_vis);
            }
            model_apply(z, &msg, &before);
        }
        state_check(z);
        if (r != 1) {
            break;
        }
    }
}

/* The bounded receive: at most @max, and *more exactly when some wait. */
static void guest_poll(Fuzz *z, unsigned int max)
{
    struct xna_ctrl_page *c = fe_ctrl(z->e);
    static struct xna_msg msgs[RECV_BUDGET];
    uint32_t cons = c->to_guest.cons;
    unsigned int n, i;
    bool more = true;

    n = xna_front_ctrl_poll(z->e->f, msgs, max, &more);
    FUZZ_CHECK(n <= max, "poll took %u of %u", n, max);
    FUZZ_CHECK(c->to_guest.cons == cons + n, "cons %u -> %u for %u", cons,
               c->to_guest.cons, n);
    if (more) {
        FUZZ_CHECK(n == max && c->to_guest.prod != c->to_guest.cons,
                   "more, with %u of %u taken and the FIFO empty", n, max);
    } else if (xna_front_state(z->e->f) != XNA_FRONT_FAILED) {
        FUZZ_CHECK(c->to_guest.prod == c->to_guest.cons &&
                   c->to_guest.prod_event == c->to_guest.cons,
                   "poll left messages unannounced");
    }
    fifo_check(z);
    for (i = 0; i < n; i++) {
        if (msgs[i].type) {
            FUZZ_CHECK(msgs[i].type < XNA_MSG_TYPE_MAX &&
                       msgs[i].type != XNA_MSG_VI_RESET, "applied type %u",
                       msgs[i].type);
            model_apply(z, &msgs[i], NULL);
        }
    }
    state_check(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static Fuzz z;
    struct xna_backend_info bi;
    struct xna_ctrl_page *c;
    unsigned int nvis, ops = 0;
    uint8_t cfg;
    FuzzIn in;

    fin_init(&in, data, size);
    cfg = fin_u8(&in);
    nvis = 1 + (cfg & 3);
    memset(&z, 0, sizeof(z));
    memset(&bi, 0, sizeof(bi));
    bi.protocol_version = 1;
    bi.max_vis = XNA_MAX_VIS;
    bi.mtu = 1500;
    bi.sg = cfg & 0x80;
    bi.csum_offload = cfg & 0x40;
    bi.wire_mac = !(cfg & 0x20);
    z.m.max_flows = 1 + ((cfg >> 2) & 15) * 2;
    z.m.wire_on = bi.wire_mac;
    z.e = fe_create(nvis, 256, 256, &bi, z.m.max_flows);
    c = fe_ctrl(z.e);

    while (!fin_done(&in) && ops++ < 2000) {
        uint8_t op = fin_u8(&in);
        struct xna_msg m;
        int r;

        switch (op % 15) {
        case 0:                 /* backend: a raw message */
            fin_bytes(&in, &m, sizeof(m));
            z.to_g_msgs[z.to_g_prod % XNA_CTRL_RING_SLOTS] = m;
            fe_be_put(z.e, &z.to_g_prod, &m);
            break;
        case 1:                 /* backend: a message from a few fields */
            build_msg(&in, &m);
            z.to_g_msgs[z.to_g_prod % XNA_CTRL_RING_SLOTS] = m;
            fe_be_put(z.e, &z.to_g_prod, &m);
            break;
        case 2:                 /* backend: any producer index */
            z.to_g_prod = fin_u32(&in);
            c->to_guest.prod = z.to_g_prod;
            break;
        case 3:                 /* backend: a producer near the consumer */
            z.to_g_prod = c->to_guest.cons + fin_u8(&in) % 20;
            c->to_guest.prod = z.to_g_prod;
            break;
        case 4:                 /* backend: its other indices */
            z.to_g_cons_event = fin_u32(&in);
            z.to_b_prod_event = fin_u32(&in);
            c->to_guest.cons_event = z.to_g_cons_event;
            c->to_backend.prod_event = z.to_b_prod_event;
            break;
        case 5:                 /* backend: any consumer index */
            z.to_b_cons = fin_u32(&in);
            c->to_backend.cons = z.to_b_cons;
            break;
        case 6:                 /* backend: consumes what the guest sent */
            z.to_b_cons = c->to_backend.prod - fin_u8(&in) % 4;
            c->to_backend.cons = z.to_b_cons;
            break;
        case 7:
            guest_recv(&z, 1 + fin_u8(&in) % RECV_BUDGET);
            break;
        case 8:
            xna_front_ctrl_arm(z.e->f);
            FUZZ_CHECK(c->to_guest.prod_event == c->to_guest.cons,
                       "prod_event %u, cons %u", c->to_guest.prod_event,
                       c->to_guest.cons);
            break;
        case 9:
            FUZZ_CHECK(xna_front_ctrl_flush(z.e->f) <= XNA_CTRL_PENDING,
                       "pending beyond the queue");
            break;
        case 10:
            /* Once per front, as the module does (conn->hello_sent). */
            if (xna_front_state(z.e->f) == XNA_FRONT_INIT) {
                r = xna_front_send_hello(z.e->f);
                FUZZ_CHECK(r == 0 || r == -ENOSPC, "hello %d", r);
            }
            break;
        case 11:
            r = xna_front_vi_reset(xna_front_vi(z.e->f, fin_u8(&in) % nvis), NULL,
                                   NULL);
            FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOSPC, "reset %d", r);
            break;
        case 12:                /* guest: any message (the API allows it) */
            build_msg(&in, &m);
            r = xna_front_ctrl_send(z.e->f, &m);
            FUZZ_CHECK(r == 0 || r == -ENOSPC, "send %d", r);
            break;
        case 13:
            model_check(&z);
            break;
        case 14:
            guest_poll(&z, 1 + fin_u8(&in) % RECV_BUDGET);
            break;
        }
        fifo_check(&z);
        state_check(&z);
    }
    model_check(&z);
    fe_destroy(z.e);
    return 0;
}
