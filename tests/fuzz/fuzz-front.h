/*
 * A frontend core (guest/core/xna-front.c) on user-space pages, for the
 * fuzz targets that play a hostile backend against it.
 *
 * Every page is its own 4 KiB allocation, made once and reused by every
 * input: a write past the end of a page is then an ASan error instead of
 * a silent write into the next page, and the fuzzer does not pay for
 * allocating megabytes of pool per input.  xna_front_create() zeroes the
 * control, VI and ring pages itself; pool contents do not steer the core.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef FUZZ_FRONT_H
#define FUZZ_FRONT_H

#include "fuzz-util.h"
#include "xna-front.h"

/* The largest layout a target asks for: 4 VIs of 512-entry rings. */
#define FE_MAX_VIS      4
#define FE_MAX_ENTRIES  512
#define FE_POOL_PAGES   (FE_MAX_VIS * FE_MAX_ENTRIES)
#define FE_MAX_PAGES    (1 + FE_MAX_VIS * (1 + 2 * FE_MAX_ENTRIES / 256) + \
                         (FE_POOL_PAGES + 1023) / 1024 + FE_POOL_PAGES)
#define FE_REF_BASE     1000u
#define FE_CTRL_PORT    3u
#define FE_VI_PORT0     8u

typedef struct FrontEnv {
    struct xna_layout l;
    struct xna_backend_info bi;
    void *pages[FE_MAX_PAGES];
    uint32_t refs[FE_MAX_PAGES];
    uint32_t vi_ports[XNA_MAX_VIS];
    struct xna_front *f;
    unsigned int ctrl_kicks;
    unsigned int vi_kicks[FE_MAX_VIS];
} FrontEnv;

static inline void fe_notify(void *opaque, uint32_t port)
{
    FrontEnv *e = opaque;

    if (port == FE_CTRL_PORT) {
        e->ctrl_kicks++;
        return;
    }
    FUZZ_CHECK(port >= FE_VI_PORT0 && port < FE_VI_PORT0 + e->l.num_vis,
               "notify on unknown port %u", port);
    e->vi_kicks[port - FE_VI_PORT0]++;
}

static const struct xna_front_ops fe_ops = {
    .notify = fe_notify,
};

/* Creates a front; the environment itself is static and reused. */
static inline FrontEnv *fe_create(unsigned int vis, unsigned int tx,
                                  unsigned int rx,
                                  const struct xna_backend_info *bi,
                                  uint32_t max_flows)
{
    static FrontEnv env;
    static bool allocated;
    struct xna_front_config cfg;
    FrontEnv *e = &env;
    unsigned int i;
    int r;

    if (!allocated) {
        for (i = 0; i < FE_MAX_PAGES; i++) {
            e->pages[i] = aligned_alloc(XNA_PAGE_SIZE, XNA_PAGE_SIZE);
            FUZZ_CHECK(e->pages[i], "out of memory");
            memset(e->pages[i], 0, XNA_PAGE_SIZE);
            e->refs[i] = FE_REF_BASE + i;
        }
        allocated = true;
    }
    FUZZ_CHECK(xna_layout_init(&e->l, vis, tx, rx) == 0, "layout");
    FUZZ_CHECK(e->l.total_pages <= FE_MAX_PAGES, "layout too big");
    e->bi = *bi;
    e->ctrl_kicks = 0;
    memset(e->vi_kicks, 0, sizeof(e->vi_kicks));
    for (i = 0; i < XNA_MAX_VIS; i++) {
        e->vi_ports[i] = FE_VI_PORT0 + i;
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.layout = &e->l;
    cfg.pages = e->pages;
    cfg.refs = e->refs;
    cfg.ctrl_port = FE_CTRL_PORT;
    cfg.vi_ports = e->vi_ports;
    cfg.backend = &e->bi;
    cfg.max_flows = max_flows;
    cfg.wire_macs = true;       /* used where bi->wire_mac offers it */
    cfg.ops = &fe_ops;
    cfg.opaque = e;
    r = xna_front_create(&cfg, &e->f);
    FUZZ_CHECK(r == 0 && e->f, "xna_front_create: %d", r);
    return e;
}

static inline void fe_destroy(FrontEnv *e)
{
    xna_front_destroy(e->f);
    e->f = NULL;
}

static inline struct xna_ctrl_page *fe_ctrl(FrontEnv *e)
{
    return e->pages[XNA_LAYOUT_CTRL_PAGE];
}

static inline struct xna_vi_shared *fe_shared(FrontEnv *e,
                                              unsigned int vi)
{
    return e->pages[xna_layout_vi_shared_page(&e->l, vi)];
}

static inline struct xna_desc *fe_tx_desc(FrontEnv *e, unsigned int vi,
                                          uint32_t idx)
{
    uint32_t s = idx & (e->l.tx_entries - 1);
    struct xna_desc *ring =
        e->pages[xna_layout_tx_ring_page(&e->l, vi, s / XNA_DESCS_PER_PAGE)];

    return &ring[s % XNA_DESCS_PER_PAGE];
}

static inline struct xna_desc *fe_rx_desc(FrontEnv *e, unsigned int vi,
                                          uint32_t idx)
{
    uint32_t s = idx & (e->l.rx_entries - 1);
    struct xna_desc *ring =
        e->pages[xna_layout_rx_ring_page(&e->l, vi, s / XNA_DESCS_PER_PAGE)];

    return &ring[s % XNA_DESCS_PER_PAGE];
}

/* The page of pool page @p, found through the directory as a backend does. */
static inline uint8_t *fe_pool_page(FrontEnv *e, uint32_t p)
{
    const uint32_t *dir;
    uint32_t ref;

    FUZZ_CHECK(p < e->l.pool_pages, "pool page %u of %u", p, e->l.pool_pages);
    dir = e->pages[xna_layout_dir_page(&e->l, p / XNA_POOL_REFS_PER_DIR_PAGE)];
    ref = dir[p % XNA_POOL_REFS_PER_DIR_PAGE];
    FUZZ_CHECK(ref >= FE_REF_BASE && ref - FE_REF_BASE < e->l.total_pages,
               "directory ref %u", ref);
    return e->pages[ref - FE_REF_BASE];
}

/* Backend: queue one message for the guest (no room check: hostile). */
static inline void fe_be_put(FrontEnv *e, uint32_t *prod,
                             const struct xna_msg *m)
{
    struct xna_ctrl_page *c = fe_ctrl(e);

    c->to_guest_msgs[*prod % XNA_CTRL_RING_SLOTS] = *m;
    (*prod)++;
    c->to_guest.prod = *prod;
}

static inline bool fe_vi_state_valid(int s)
{
    return s >= XNA_VI_UNUSED && s <= XNA_VI_FAILED;
}

#endif /* FUZZ_FRONT_H */
