/*
 * xen-net-accel protocol, version 1: shared memory layouts and messages
 *
 * Shared by the QEMU backend, the guest module's frontend core and the
 * tests.  docs/specs/xen-net-accel.rst is the specification; this header
 * is its machine-readable half.  Every structure is fixed-width little-endian,
 * with explicit padding, and its size is checked at compile time.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later OR MIT
 */

#ifndef HW_NET_XEN_NET_ACCEL_PROTOCOL_H
#define HW_NET_XEN_NET_ACCEL_PROTOCOL_H

/*
 * The includer provides uint8_t..uint64_t (QEMU's osdep.h, the kernel's
 * linux/types.h, or stdint.h).
 */

#define XNA_PROTOCOL_VERSION        1
#define XNA_PAGE_SIZE               4096u

/* xenstore device type (frontend directory device/<type>/<idx>) */
#define XNA_XS_DEVICE_TYPE          "netaccel"

/* Limits of version 1 */
#define XNA_MAX_VIS                 16
#define XNA_DESCS_PER_PAGE          (XNA_PAGE_SIZE / 16)   /* 256 */
#define XNA_MIN_RING_ENTRIES        XNA_DESCS_PER_PAGE
#define XNA_MAX_RING_ENTRIES        4096
#define XNA_MAX_RING_PAGES          (XNA_MAX_RING_ENTRIES / XNA_DESCS_PER_PAGE)
#define XNA_MAX_POOL_PAGES          65536
#define XNA_POOL_REFS_PER_DIR_PAGE  (XNA_PAGE_SIZE / 4)    /* 1024 */
#define XNA_MAX_POOL_DIR_PAGES      (XNA_MAX_POOL_PAGES / \
                                     XNA_POOL_REFS_PER_DIR_PAGE)
#define XNA_MAX_FRAME_LEN           9018   /* 9000 MTU + Ethernet + VLAN */
#define XNA_MIN_FRAME_LEN           14     /* an Ethernet header */
#define XNA_MAX_FRAGS               18     /* descriptors per frame */

/*
 * Descriptor: one buffer in one pool page.  A frame is one descriptor, or
 * a chain of consecutive descriptors of which all but the last carry
 * XNA_DESC_MORE.
 *
 * TX (guest fills, backend consumes): page, offset, len of the data;
 *   flags; csum_start/csum_offset with XNA_DESC_CSUM_PARTIAL on the first
 *   descriptor of the frame.
 * RX (guest posts an empty buffer: page, offset, len = its capacity;
 *   backend fills it and writes back len = bytes stored and flags).
 */
struct xna_desc {
    uint32_t page;          /* pool page index, < pool-pages */
    uint16_t offset;        /* offset + len <= XNA_PAGE_SIZE */
    uint16_t len;
    uint16_t flags;         /* XNA_DESC_* */
    uint16_t csum_start;    /* from the start of the frame */
    uint16_t csum_offset;   /* from csum_start: where the sum goes */
    uint16_t reserved;      /* 0 */
};

#define XNA_DESC_MORE           (1u << 0)  /* frame continues in next */
/* TX: fill in the checksum; RX: checksum not computed yet */
#define XNA_DESC_CSUM_PARTIAL   (1u << 1)
#define XNA_DESC_CSUM_VALID     (1u << 2)  /* RX: L4 checksum verified */
#define XNA_DESC_SLOW_PATH      (1u << 3)  /* RX: matched no filter */
#define XNA_DESC_FLAGS_TX       (XNA_DESC_MORE | XNA_DESC_CSUM_PARTIAL)

/*
 * VI shared page: the ring indices of one VI.  Indices are free-running
 * 32-bit counters; a ring slot is index % ring-entries.  Each side writes
 * only its own cache line.
 *
 * TX: guest produces tx_prod; backend consumes up to tx_cons, and a slot
 *     (and its buffer) is the guest's again once tx_cons has passed it.
 * RX: guest posts buffers up to rx_prod; backend fills them in order and
 *     publishes them by advancing rx_cons.
 * Notification suppression (event index): a side that advances an index
 * notifies the other only when the new value passes the other side's
 * *_event value:  (uint32_t)(new - event - 1) < (uint32_t)(new - old).
 */
struct xna_vi_shared {
    /* written by the guest */
    uint32_t tx_prod;
    uint32_t tx_cons_event;     /* wake the guest when tx_cons passes it */
    uint32_t rx_prod;
    uint32_t rx_cons_event;     /* wake the guest when rx_cons passes it */
    uint8_t guest_pad[48];
    /* written by the backend */
    uint32_t tx_cons;
    uint32_t tx_prod_event;     /* kick the backend when tx_prod passes */
    uint32_t rx_cons;
    uint32_t rx_prod_event;     /* kick the backend when rx_prod passes */
    uint8_t backend_pad[48];
};

static inline int xna_need_event(uint32_t event, uint32_t new_idx,
                                 uint32_t old_idx)
{
    return (uint32_t)(new_idx - event - 1) < (uint32_t)(new_idx - old_idx);
}

/*
 * Control page: two message FIFOs, one per direction, each with its own
 * producer and consumer index (free-running) and a notification index as
 * for the rings.  Messages are fixed-size.
 */
#define XNA_MSG_SIZE            64
#define XNA_CTRL_RING_SLOTS     16

struct xna_msg {
    uint16_t type;              /* XNA_MSG_* */
    uint16_t reserved;          /* 0 */
    uint32_t id;                /* sender's sequence number */
    union {
        uint8_t raw[56];
        struct {                /* HELLO, both ways */
            uint32_t version;
            uint32_t nr_vis;    /* guest: VIs set up; backend: accepted */
            uint32_t status;    /* backend: 0 or XNA_ERR_* */
        } hello;
        struct {                /* VI_UP, VI_DOWN, VI_RESET */
            uint32_t vi;
            uint32_t reason;    /* VI_DOWN: XNA_ERR_* or 0 */
        } vi;
        struct {                /* LOCAL_MAC, WIRE_MAC */
            uint32_t op;        /* XNA_OP_ADD or XNA_OP_REMOVE */
            uint8_t mac[6];
            uint8_t pad[2];
        } local_mac;
        struct {                /* FILTER */
            uint32_t op;        /* XNA_OP_ADD or XNA_OP_REMOVE */
            uint32_t vi;
            uint8_t kind;       /* XNA_FILTER_* */
            uint8_t pad;
            uint16_t port;      /* network byte order */
            uint8_t addr[16];   /* network byte order; MAC in 6 bytes */
        } filter;
        struct {                /* LINK */
            uint32_t up;
            uint32_t mtu;
        } link;
        struct {                /* ERROR */
            uint32_t code;      /* XNA_ERR_* */
            uint32_t vi;        /* or ~0 for the device */
            uint32_t detail;
        } error;
    } u;
};

enum {
    XNA_MSG_HELLO = 1,      /* g->b first message; b->g reply */
    XNA_MSG_VI_UP = 2,      /* b->g: VI ready for traffic */
    XNA_MSG_VI_DOWN = 3,    /* b->g: VI stopped (error or NIC) */
    XNA_MSG_VI_RESET = 4,   /* g->b: restart a stopped VI from index 0 */
    XNA_MSG_LOCAL_MAC = 5,  /* b->g: decline traffic to this MAC */
    XNA_MSG_FILTER = 6,     /* b->g: a flow now is (or is no longer) fast */
    XNA_MSG_LINK = 7,       /* b->g: link state and MTU */
    XNA_MSG_ERROR = 8,      /* b->g: fatal error, disconnect follows */
    XNA_MSG_WIRE_MAC = 9,   /* b->g: this MAC is on the NIC's side */
    XNA_MSG_TYPE_MAX,
};

enum {
    XNA_OP_ADD = 1,
    XNA_OP_REMOVE = 2,
};

enum {
    XNA_FILTER_MAC = 1,     /* same values as the backend's filter table */
    XNA_FILTER_IPV4_TCP = 2,
    XNA_FILTER_IPV4_UDP = 3,
    XNA_FILTER_IPV6_TCP = 4,
    XNA_FILTER_IPV6_UDP = 5,
};

enum {
    XNA_ERR_NONE = 0,
    XNA_ERR_VERSION = 1,    /* unsupported protocol version */
    XNA_ERR_BAD_INDEX = 2,  /* ring index moved backwards or too far */
    XNA_ERR_BAD_DESC = 3,   /* page, offset, length or flags out of range */
    XNA_ERR_BAD_FRAME = 4,  /* frame too long, too short or unterminated */
    XNA_ERR_BAD_MSG = 5,    /* unknown or malformed control message */
    XNA_ERR_NIC = 6,        /* the NIC failed */
};

struct xna_ctrl_ring_idx {
    uint32_t prod;          /* written by the sender */
    uint32_t prod_event;    /* written by the receiver */
    uint32_t cons;          /* written by the receiver */
    /* written by the sender: wake me when cons passes this (I wait) */
    uint32_t cons_event;
    uint8_t pad[48];
};

struct xna_ctrl_page {
    struct xna_ctrl_ring_idx to_backend;
    struct xna_ctrl_ring_idx to_guest;
    struct xna_msg to_backend_msgs[XNA_CTRL_RING_SLOTS];
    struct xna_msg to_guest_msgs[XNA_CTRL_RING_SLOTS];
};

#define XNA_BUILD_BUG_ON(name, cond) \
    typedef char xna_build_check_##name[(cond) ? -1 : 1]

XNA_BUILD_BUG_ON(desc_size, sizeof(struct xna_desc) != 16);
XNA_BUILD_BUG_ON(vi_shared_size, sizeof(struct xna_vi_shared) != 128);
XNA_BUILD_BUG_ON(msg_size, sizeof(struct xna_msg) != XNA_MSG_SIZE);
XNA_BUILD_BUG_ON(ctrl_page_size,
                 sizeof(struct xna_ctrl_page) > XNA_PAGE_SIZE);

#endif /* HW_NET_XEN_NET_ACCEL_PROTOCOL_H */
