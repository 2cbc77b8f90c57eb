/*
 * xen-sim: the guest-visible interface of the Xen test platform
 *
 * xen-sim stands in for the hypervisor so that xen-bus backends run under
 * -accel qtest.  The "guest" is the qtest process: it owns guest RAM, keeps
 * its grant table and event channel pending bitmap there, and asks the
 * platform for hypercall-like services through one MMIO page.
 *
 * All values are little-endian.  Registers are 32 bits wide unless noted;
 * 64-bit registers are written as one 64-bit access or as two 32-bit
 * accesses, low half first.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_XEN_XEN_SIM_ABI_H
#define HW_XEN_XEN_SIM_ABI_H

#define XEN_SIM_MAGIC               0x4d495358u /* "XSIM" */
#define XEN_SIM_VERSION             1
#define XEN_SIM_MMIO_SIZE           0x1000
#define XEN_SIM_DEFAULT_ADDR        0xfe000000ull

/* Registers */
#define XEN_SIM_REG_MAGIC           0x00 /* RO: XEN_SIM_MAGIC */
#define XEN_SIM_REG_VERSION         0x04 /* RO: XEN_SIM_VERSION */
#define XEN_SIM_REG_DOMID           0x08 /* RO: the guest's domid */
#define XEN_SIM_REG_BACKEND_DOMID   0x0c /* RO: domid the backends run as */
/*
 * WO, 64 bits: guest-physical address of a XenSimCmd.  Writing the high
 * half (or the whole 64 bits) executes the command before the access
 * completes; its status and outputs are then in guest memory.
 */
#define XEN_SIM_REG_CMD             0x10
/* WO: send an event on this guest port (EVTCHNOP_send, fast path). */
#define XEN_SIM_REG_NOTIFY          0x18
/*
 * WO: acknowledge the interrupt.  The IRQ line goes high when the platform
 * sets a pending bit or queues a xenstore watch event, and stays high until
 * this is written.  Acknowledge, then scan, so that nothing is missed.
 */
#define XEN_SIM_REG_IRQ_ACK         0x1c

/* Commands (XenSimCmd.op) */
enum {
    /*
     * arg[0] = guest-physical address of the grant table (page aligned),
     * arg[1] = number of v1 entries (grant_entry_v1_t, 8 bytes each).
     * The table can be moved or resized at any time, as long as every
     * mapped grant stays inside it (else -EBUSY); the guest copies the
     * entries it keeps.
     */
    XEN_SIM_OP_GNTTAB_SETUP = 1,
    /*
     * arg[0] = guest-physical address of the pending bitmap (page aligned,
     * one page: bit N is port N), arg[1] = number of ports (<= 32768).
     * The platform sets bits atomically; the guest clears them.
     */
    XEN_SIM_OP_EVTCHN_SETUP = 2,
    /* arg[0] = remote domid; out arg[1] = new unbound guest port. */
    XEN_SIM_OP_EVTCHN_ALLOC_UNBOUND = 3,
    /* arg[0] = guest port: close it (unbinds the remote end). */
    XEN_SIM_OP_EVTCHN_CLOSE = 4,
    /* arg[0] = guest port: send an event to the remote end. */
    XEN_SIM_OP_EVTCHN_SEND = 5,
    /*
     * A xenstore request as the guest: arg[0] = address of the request,
     * a struct xsd_sockmsg followed by its payload (len bytes); arg[1] =
     * address and arg[2] = size of the reply buffer.  The reply is a
     * struct xsd_sockmsg and its payload, as xenstored sends on the ring
     * (type XS_ERROR with an errno name on failure).  Status -E2BIG when
     * the reply buffer is too small.
     */
    XEN_SIM_OP_XS_REQUEST = 6,
    /*
     * Dequeue one watch event of the guest's watches: arg[1], arg[2] as
     * for XS_REQUEST; the reply is an XS_WATCH_EVENT message (path NUL
     * token NUL).  Out arg[3] = 1 when an event was written, 0 when none.
     */
    XEN_SIM_OP_XS_WATCH_EVENT = 7,
    /*
     * As XS_REQUEST, but as the toolstack in the privileged domain, for
     * tests that create backends as xl does: only READ, WRITE, MKDIR, RM,
     * DIRECTORY, GET_PERMS and SET_PERMS, outside transactions, on paths
     * below /local/domain/ (anything else: an XS_ERROR "EINVAL" reply).
     */
    XEN_SIM_OP_XS_TOOLSTACK_REQUEST = 8,
};

typedef struct XenSimCmd {
    uint32_t op;
    int32_t status;          /* out: 0 or a negative errno */
    uint64_t arg[6];         /* in and out, per op */
} XenSimCmd;

#endif /* HW_XEN_XEN_SIM_ABI_H */
