/*
 * xen-guest: a small Xen guest for qtests on the xen-sim platform
 *
 * The qtest process plays the guest domain.  It owns guest RAM (through
 * qtest memory accesses), keeps its grant table and its event channel
 * pending bitmap there, and asks the xen-sim platform for hypercall-like
 * services through the MMIO page described in include/hw/xen/xen-sim-abi.h.
 *
 * What a test gets:
 *
 * - memory: a page allocator over guest RAM and read/write helpers;
 * - grants: v1 grant table entries, allocated by ref, that grows as
 *   needed; ending a grant fails while the backend still has it mapped;
 * - event channels: unbound ports for a backend to bind, notification,
 *   and waiting for events from the backend (through the platform's IRQ);
 * - xenstore: the usual requests in xenstored's wire protocol, errors as
 *   negative errno values, watches with a local event queue, transactions,
 *   and helpers for XenbusState handshakes;
 * - front rings: the frontend half of Xen's shared rings (io/ring.h),
 *   operating on a ring page in guest memory;
 * - the platform's counters (QOM properties of the xen-sim device).
 *
 * Waiting: every xen_guest_wait_*() function waits on the platform's IRQ
 * line (intercepted with qtest) and re-checks its condition each time the
 * line rises, until its timeout; none sleeps for a fixed time and then
 * looks.  A timeout is reported to the caller, never asserted here.
 *
 * Errors: functions that can be refused by the platform return 0 or a
 * negative errno (as Linux's xenbus and evtchn functions do).  Misuse of
 * the library itself and broken platform replies are assertion failures.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_QTEST_XEN_GUEST_H
#define TESTS_QTEST_XEN_GUEST_H

#include "tests/qtest/libqtest.h"
#include "hw/xen/interface/xen.h"
#include "hw/xen/interface/grant_table.h"
#include "hw/xen/interface/event_channel.h"
#include "hw/xen/interface/io/xenbus.h"

typedef struct XenGuest XenGuest;

/* The QOM path of the platform when it is created with id=xensim. */
#define XEN_GUEST_SIM_PATH          "/machine/peripheral/xensim"

#define XEN_GUEST_PAGE_SIZE         4096u
#define XEN_GUEST_PAGE_SHIFT        12

/* A default for waits: long enough for a loaded CI machine. */
#define XEN_GUEST_TIMEOUT_MS        10000

/* Grant refs below this are reserved, as in Linux and the toolstack. */
#define XEN_GUEST_GNTTAB_RESERVED   8

/* The initial size of the grant table (one page). */
#define XEN_GUEST_GNTTAB_ENTRIES    512

/* No transaction, for the @tx argument of the xenstore functions. */
#define XEN_GUEST_XBT_NULL          0u

/*
 * Guest pages below this one are the library's own: the command block,
 * the xenstore request and reply buffers, the pending bitmap and room
 * for the grant table to grow in place.
 */
#define XEN_GUEST_RESERVED_PAGES    64

/*
 * Life cycle
 */

/* Guest RAM of the QEMU that xen_guest_qemu_init() starts. */
#define XEN_GUEST_RAM_SIZE          (64 * 1024 * 1024)

/**
 * xen_guest_qemu_init: start QEMU with guest RAM shared with the test, the
 * xen-sim platform (id "xensim") and whatever else @fmt says.
 * @sim_props: more xen-sim properties ("grant-map=single"), or NULL
 * @fmt: more command line: netdevs and xen-bus devices
 */
QTestState *xen_guest_qemu_init(const char *sim_props, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

/**
 * xen_guest_new: become the guest of the xen-sim device at @sim_path.
 * @qts: a QEMU started with the platform and a CPU, e.g. with
 *   "-object memory-backend-memfd,id=ram,size=64M,share=on
 *    -machine none,memory-backend=ram -cpu qemu64,apic-id=0
 *    -device xen-sim,id=xensim" (qtest's memory accesses go through the
 *   first CPU: without one, QEMU crashes on the first of them)
 * @sim_path: QOM path of the platform (XEN_GUEST_SIM_PATH), or NULL for it
 * @ram_size: size of guest RAM in bytes (at guest-physical 0), or 0 to ask
 *   QEMU (query-memory-size-summary)
 *
 * Checks the platform's magic and version, reads the domids, intercepts
 * the IRQ line, and sets up the grant table and the pending bitmap in
 * guest RAM.  A QEMU can have one XenGuest (qtest intercepts the IRQs of
 * one device only).
 */
XenGuest *xen_guest_new(QTestState *qts, const char *sim_path,
                        uint64_t ram_size);
/* Frees the library's state; the platform and QEMU are left as they are. */
void xen_guest_free(XenGuest *g);

QTestState *xen_guest_qts(XenGuest *g);
/* The guest's domid, as the platform reports it. */
domid_t xen_guest_domid(XenGuest *g);
/*
 * The domid the platform runs backends as.  A frontend should read its
 * device's "backend-id" node instead (xen_guest_xs_read_uint()), as a
 * real guest must.
 */
domid_t xen_guest_platform_backend_domid(XenGuest *g);
/* "/local/domain/<domid>", the guest's home in xenstore. */
const char *xen_guest_home(XenGuest *g);

/*
 * Memory
 */

/* @n zeroed, contiguous pages of guest RAM; asserts that there are some. */
uint64_t xen_guest_alloc_pages(XenGuest *g, unsigned int n);
void xen_guest_free_pages(XenGuest *g, uint64_t gpa, unsigned int n);
unsigned int xen_guest_free_page_count(XenGuest *g);

/*
 * Guest RAM is shared with the test when QEMU was started by
 * xen_guest_qemu_init() (a memory-backend-file on /dev/shm that the test
 * maps too): then this returns where @len bytes at @gpa are in the test's
 * address space, so that a driver (the frontend core, a benchmark) works
 * on guest memory at native speed, with only notifications going through
 * qtest.  NULL when RAM is not shared or the range is outside it.  The
 * mapping goes away with xen_guest_free().
 */
void *xen_guest_ram_ptr(XenGuest *g, uint64_t gpa, size_t len);

/* Through the shared mapping when there is one, else over qtest. */
void xen_guest_memread(XenGuest *g, uint64_t gpa, void *buf, size_t len);
void xen_guest_memwrite(XenGuest *g, uint64_t gpa, const void *buf,
                        size_t len);
void xen_guest_memset(XenGuest *g, uint64_t gpa, uint8_t c, size_t len);

/*
 * Grants
 */

/**
 * xen_guest_grant: grant @domid access to the page at @gpa.
 * Returns the new ref; the table grows when it is full.
 */
grant_ref_t xen_guest_grant(XenGuest *g, uint64_t gpa, domid_t domid,
                            bool readonly);
/**
 * xen_guest_end_grant: revoke a grant and free its ref.
 * Returns 0, -EBUSY while the platform has it mapped (GTF_reading or
 * GTF_writing set; the grant stays valid), -EINVAL for a ref that is not
 * granted.
 */
int xen_guest_end_grant(XenGuest *g, grant_ref_t ref);
/*
 * Raw table access, to build bad grants on purpose.  A ref taken with
 * xen_guest_grant_alloc_ref() is the caller's to fill and to release with
 * xen_guest_grant_free_ref() (after zeroing the entry, if it wants).
 */
grant_ref_t xen_guest_grant_alloc_ref(XenGuest *g);
void xen_guest_grant_free_ref(XenGuest *g, grant_ref_t ref);
void xen_guest_grant_set_entry(XenGuest *g, grant_ref_t ref, uint16_t flags,
                               domid_t domid, uint32_t frame);
uint16_t xen_guest_grant_flags(XenGuest *g, grant_ref_t ref);
/*
 * Entry @ref (allocated) of the table in shared guest RAM, for a driver
 * that grants at native speed as Linux does: frame and domid, a write
 * barrier, then the flags; ended with a cmpxchg of the flags.  NULL
 * when guest RAM is not shared.  Valid until the table grows (an
 * allocation may grow it).
 */
grant_entry_v1_t *xen_guest_grant_entry_ptr(XenGuest *g, grant_ref_t ref);
/**
 * xen_guest_grant_table_resize: give the table @entries entries (rounded
 * up to whole pages), in place while it fits in the reserved pages, else
 * moved to newly allocated ones; entries below the new size are kept.
 * Returns 0, -EBUSY if refs at or beyond @entries are in use, or the
 * platform's refusal.  The table starts with XEN_GUEST_GNTTAB_ENTRIES
 * entries and doubles by itself when full.
 */
int xen_guest_grant_table_resize(XenGuest *g, unsigned int entries);
/* Number of entries in the table, and of refs in use. */
unsigned int xen_guest_grant_table_size(XenGuest *g);
unsigned int xen_guest_grants_in_use(XenGuest *g);

/*
 * Event channels
 */

/* A new port for @remote to bind; 0 or a negative errno. */
int xen_guest_evtchn_alloc_unbound(XenGuest *g, domid_t remote,
                                   evtchn_port_t *port);
int xen_guest_evtchn_close(XenGuest *g, evtchn_port_t port);
/* Notify the remote end through the doorbell register (no status). */
void xen_guest_evtchn_notify(XenGuest *g, evtchn_port_t port);
/* Notify the remote end with a command: 0 or a negative errno. */
int xen_guest_evtchn_send(XenGuest *g, evtchn_port_t port);
/*
 * Test and clear: true when an event arrived on @port since the last
 * call.  As on Xen, events can be spurious: the caller checks its rings.
 */
bool xen_guest_evtchn_pending(XenGuest *g, evtchn_port_t port);
/* Wait for an event on @port (and clear it); false on timeout. */
bool xen_guest_wait_event(XenGuest *g, evtchn_port_t port, int timeout_ms);

/*
 * Acknowledge the IRQ and collect what it signals: pending ports into the
 * library's pending set, queued watch events into its watch queue.  The
 * wait functions call this; a test rarely needs to.
 */
void xen_guest_poll(XenGuest *g);
/*
 * Wait until the IRQ line is high (something new to poll), without
 * acknowledging it; false on timeout.
 */
bool xen_guest_wait_irq(XenGuest *g, int timeout_ms);

/*
 * Xenstore
 *
 * Paths are absolute, or relative to the guest's home as in xenstored.
 * @tx is a transaction id from xen_guest_xs_transaction_start(), or
 * XEN_GUEST_XBT_NULL.  Errors are the negative errno that xenstored named
 * in its XS_ERROR reply (-ENOENT, -EACCES, -EAGAIN, ...), or the negative
 * status of the platform's command.
 */

/**
 * xen_guest_xs_request: one raw request.
 * @type: an enum xsd_sockmsg_type
 * @payload, @len: the request's payload
 * @reply, @reply_len: if non-NULL, the reply payload, NUL-terminated (one
 *   extra byte not counted in @reply_len); free it with g_free()
 */
int xen_guest_xs_request(XenGuest *g, uint32_t type, uint32_t tx,
                         const void *payload, size_t len,
                         char **reply, size_t *reply_len);

int xen_guest_xs_read(XenGuest *g, uint32_t tx, const char *path,
                      char **value);
/* The value, or NULL if it cannot be read. */
char *xen_guest_xs_read_str(XenGuest *g, const char *path);
/* Reads an unsigned decimal value: 0, -errno, or -EINVAL if not a number */
int xen_guest_xs_read_uint(XenGuest *g, uint32_t tx, const char *path,
                           unsigned int *val);
int xen_guest_xs_write(XenGuest *g, uint32_t tx, const char *path,
                       const char *value);
int xen_guest_xs_printf(XenGuest *g, uint32_t tx, const char *path,
                        const char *fmt, ...) G_GNUC_PRINTF(4, 5);
int xen_guest_xs_mkdir(XenGuest *g, uint32_t tx, const char *path);
int xen_guest_xs_rm(XenGuest *g, uint32_t tx, const char *path);
/* The children's names as a NULL-terminated vector (g_strfreev()). */
int xen_guest_xs_directory(XenGuest *g, uint32_t tx, const char *path,
                           char ***children);

int xen_guest_xs_transaction_start(XenGuest *g, uint32_t *tx);
/* Commits, or aborts with @abort; -EAGAIN when a commit conflicted. */
int xen_guest_xs_transaction_end(XenGuest *g, uint32_t tx, bool abort);

/*
 * The toolstack's side, as xl in the privileged domain writes a backend
 * directory (absolute paths below /local/domain/; no transaction).
 * Return 0 or a negative errno.  @perms: NULL-terminated xenstore
 * permission strings ("n0", "r1").
 */
int xen_guest_toolstack_write(XenGuest *g, const char *path,
                              const char *value);
int xen_guest_toolstack_rm(XenGuest *g, const char *path);
int xen_guest_toolstack_set_perms(XenGuest *g, const char *path,
                                  const char *const *perms);
/*
 * A device's backend directory as the toolstack writes it, asserting
 * each write: /local/domain/0/backend/<type>/<guest domid>/<idx> with
 * "frontend" (device/<fe_type>/<idx> of the guest), permissions (dom0's,
 * the guest may read), "frontend-id", the @keys (NULL-terminated pairs of
 * key and value; a NULL value skips its key), then "online" 1 and
 * "state" last, as a backend creates its device once it reads both.
 * Returns the directory's path (g_free()).
 */
char *xen_guest_toolstack_backend(XenGuest *g, const char *type,
                                  const char *fe_type, const char *idx,
                                  const char *const *keys);

/*
 * Watches.  As xenstored does, a new watch fires once at once.  Events
 * wait in a local queue until taken; unwatching drops the queued events
 * of that token.
 */
int xen_guest_xs_watch(XenGuest *g, const char *path, const char *token);
int xen_guest_xs_unwatch(XenGuest *g, const char *path, const char *token);
/*
 * The next watch event (of any token); 0 or -ETIMEDOUT.  @path and
 * @token, if non-NULL, receive copies to g_free().
 */
int xen_guest_xs_wait_watch(XenGuest *g, char **path, char **token,
                            int timeout_ms);
/* The next event of watch @token, leaving the others queued. */
int xen_guest_xs_wait_watch_token(XenGuest *g, const char *token,
                                  char **path, int timeout_ms);
/* The number of events queued locally (after polling). */
unsigned int xen_guest_xs_pending_watch_events(XenGuest *g);

/**
 * xen_guest_xs_wait_value: wait until @path holds @expected (or, with
 * @expected NULL, until @path does not exist), using a watch on @path.
 * Returns 0 or -ETIMEDOUT.
 */
int xen_guest_xs_wait_value(XenGuest *g, const char *path,
                            const char *expected, int timeout_ms);

/*
 * XenbusState handshakes.  @dir is a device directory (frontend or
 * backend); the state is its "state" node.
 */
const char *xen_guest_state_name(enum xenbus_state state);
int xen_guest_set_state(XenGuest *g, const char *dir,
                        enum xenbus_state state);
/* The state, or XenbusStateUnknown when the node is absent or bad. */
enum xenbus_state xen_guest_read_state(XenGuest *g, const char *dir);
/*
 * Wait until the state is one of the states in @mask (bit N for state N);
 * returns that state, or -ETIMEDOUT.  *@seen, if non-NULL, accumulates a
 * mask of every state observed while waiting (states that were set and
 * replaced between two looks can be missed).
 */
int xen_guest_wait_state_mask(XenGuest *g, const char *dir, uint32_t mask,
                              uint32_t *seen, int timeout_ms);
/* Wait until the state is @state; 0 or -ETIMEDOUT. */
int xen_guest_wait_state(XenGuest *g, const char *dir,
                         enum xenbus_state state, int timeout_ms);

#define XEN_GUEST_STATE_BIT(s)      (1u << (s))

/*
 * Frontend devices: what a frontend driver learns from xenstore about
 * its device before it talks to the backend.
 */
typedef struct XenGuestDevice {
    char *type;                 /* "vif", "vbd", ... */
    unsigned int idx;
    char *frontend;             /* /local/domain/<domid>/device/<type>/<idx> */
    char *backend;              /* the frontend's "backend" node */
    domid_t backend_id;         /* the frontend's "backend-id" node */
} XenGuestDevice;

/**
 * xen_guest_find_device: look up device @idx of @type (or, with @idx
 * negative, the first one listed) under the guest's device/ directory.
 * Returns 0, or -ENOENT when there is none.
 */
int xen_guest_find_device(XenGuest *g, const char *type, int idx,
                          XenGuestDevice *dev);
void xen_guest_device_cleanup(XenGuestDevice *dev);
/*
 * A frontend's clean shutdown: Closing, wait for the backend to leave
 * Connected, Closed, wait for the backend's Closed.  0 or -ETIMEDOUT.
 */
int xen_guest_device_close(XenGuest *g, XenGuestDevice *dev,
                           int timeout_ms);

/*
 * Front rings
 *
 * The frontend's side of a Xen shared ring (hw/xen/interface/io/ring.h)
 * whose page is in guest memory.  @entry_size is the size of the ring's
 * entry union, e.g. sizeof(union netif_tx_sring_entry).  Requests and
 * responses are copied in and out whole; the indexes follow ring.h's
 * macros (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY, RING_FINAL_CHECK_FOR_...).
 */

/* Offset of the entries in a shared ring page (ring.h's header). */
#define XEN_GUEST_RING_HDR_SIZE     64

/* Multi-page rings (blkif's ring-page-order) up to this many pages. */
#define XEN_GUEST_RING_MAX_PAGES    16

typedef struct XenGuestRing {
    uint64_t gpa[XEN_GUEST_RING_MAX_PAGES];     /* the shared ring's pages */
    unsigned int nr_pages;
    size_t entry_size;
    unsigned int nr_ents;       /* a power of 2 */
    uint32_t req_prod_pvt;
    uint32_t rsp_cons;
} XenGuestRing;

/* SHARED_RING_INIT and FRONT_RING_INIT on the page at @gpa. */
void xen_guest_ring_init(XenGuest *g, XenGuestRing *r, uint64_t gpa,
                         size_t entry_size);
/*
 * The same on a ring of @nr_pages pages, which the backend maps side by
 * side in this order; in guest memory they can be anywhere.
 */
void xen_guest_ring_init_pages(XenGuest *g, XenGuestRing *r,
                               const uint64_t *gpas, unsigned int nr_pages,
                               size_t entry_size);
/* Free request slots (RING_FREE_REQUESTS). */
unsigned int xen_guest_ring_free_requests(XenGuestRing *r);
/* Write a request at req_prod_pvt and advance it; @len <= entry_size. */
void xen_guest_ring_put_request(XenGuest *g, XenGuestRing *r,
                                const void *req, size_t len);
/* Publish requests; true when the backend wants a notification. */
bool xen_guest_ring_push_requests(XenGuest *g, XenGuestRing *r);
/* Responses published and not yet taken. */
unsigned int xen_guest_ring_unconsumed_responses(XenGuest *g,
                                                 XenGuestRing *r);
/* Take the next response, if any, into @rsp (@len bytes). */
bool xen_guest_ring_get_response(XenGuest *g, XenGuestRing *r, void *rsp,
                                 size_t len);
/*
 * RING_FINAL_CHECK_FOR_RESPONSES: re-arm rsp_event; true if responses
 * are waiting (so the caller must not go to sleep).
 */
bool xen_guest_ring_final_check_for_responses(XenGuest *g, XenGuestRing *r);

/*
 * Platform
 */

/* A counter of the platform, e.g. "grant-live-maps" (QMP qom-get). */
uint64_t xen_guest_sim_stat(XenGuest *g, const char *name);

#endif /* TESTS_QTEST_XEN_GUEST_H */
