/*
 * tail.c - tail canaries (OS_MEM_HARDENING >= 2), between the core and
 * every algorithm (alg.h routes the OH_ALG_* calls here).
 *
 * A request of n bytes asks the algorithm for n + TAIL. The block's usable
 * area U (what the algorithm's query says) then holds:
 *
 *     [0, n)            the caller's bytes
 *     [n, n + CB)       the canary: CB bytes derived from the block's address
 *                       and n, none of them zero
 *     [U - SB, U)       n itself
 *
 * and whatever lies between is slack. Free, realloc and check verify the
 * canary: the first byte written past the caller's n bytes changes it, so
 * an overflow of even one byte is caught, on the next free at the latest.
 * A corrupt n points the check at bytes that do not hold the canary for
 * that n. The core sees n as the block's usable size (usable_size, walks,
 * the copy of a moving realloc). Cost: a query per alloc and free, and
 * TAIL bytes per block.
 *
 * Every call reaches the algorithm through here, so here it first tests the
 * region's seal (region.h; unsealed()) and refuses a region whose control
 * data was overwritten.
 *
 * Level 3 (full) adds the freed-block pattern (alg.h, OH_FILL): free fills
 * what it gave back, alloc verifies that the block it hands out still holds
 * the pattern and check verifies every free block, so a write into freed
 * memory is reported, with the first byte found changed.
 */
#include "oh_string.h"

#include "region.h"
#include "report.h"

#if OS_MEM_HARDENING >= 2

#define CB      4u                          /* canary bytes */
#define SB      ((os_size_t)sizeof(os_size_t))
#define TAIL    OH_TAIL_BYTES               /* CB + SB */
#define BROKEN  ((os_size_t)-1)

static os_uint32_t tail_key(const void *p, os_size_t n)
{
    os_uint32_t k = (os_uint32_t)((os_ubase_t)p >> 3) ^ ((os_uint32_t)n * 0x9E3779B1u);

    k ^= k >> 16;
    k *= 0x7FEB352Du;
    k ^= k >> 15;
    return k | 0x01010101u;
}

static void tail_put(void *p, os_size_t usable, os_size_t n)
{
    os_uint8_t *b = p;
    os_uint32_t k = tail_key(p, n);

    memcpy(b + n, &k, CB);
    memcpy(b + usable - SB, &n, SB);
}

/* The caller's size of block p (usable bytes), or BROKEN. */
static os_size_t tail_get(const void *p, os_size_t usable)
{
    const os_uint8_t *b = p;
    os_size_t n;
    os_uint32_t k;

    if (usable < TAIL)
    {
        return BROKEN;
    }
    memcpy(&n, b + usable - SB, SB);
    if (n > usable - TAIL)
    {
        return BROKEN;
    }
    memcpy(&k, b + n, CB);
    return k == tail_key(p, n) ? n : BROKEN;
}

#if OS_MEM_HARDENING >= 3
/* The first byte of [from, to) that lost the pattern, or OS_NULL. */
static const os_uint8_t *fill_broken(const os_uint8_t *from, const os_uint8_t *to)
{
    for (; from < to; from++)
    {
        if (*from != OH_FILL)
        {
            return from;
        }
    }
    return OS_NULL;
}

/* Report a write into freed memory: the block at blk (free, or just handed out) holds byte at. */
static void fill_report(const struct heap_mem *r, const void *blk, const os_uint8_t *at, const char *who)
{
    oh_report_fault(r->heap, at, OS_ERROR,
                    "region %p: freed memory written after free: byte %p of the block at %p changed (found by %s)",
                    (void *)r->start, (const void *)at, blk, who);
    (void)blk;      /* the small build's reports are fixed messages */
    (void)who;
}

void oh_fill_taken(const struct heap_mem *r, const os_uint8_t *start, const os_uint8_t *end)
{
    const os_uint8_t *at;

    if ((os_size_t)(end - start) > OH_FILL_SKIP + OH_FILL_FOOT &&
        (at = fill_broken(start + OH_FILL_SKIP, end - OH_FILL_FOOT)) != OS_NULL)
    {
        fill_report(r, start, at, "realloc");
    }
}
#endif

/*
 * A block just handed out: at level 3 check that its payload (past the
 * bytes that held the free block's header and links) kept the pattern;
 * then write its tail.
 */
static void *tail_new(struct heap_mem *r, void *p, os_size_t n, int fresh)
{
    struct os_mem_blk b;

    if (p != OS_NULL && OH_RAW_QUERY(r, p, &b) == OS_EOK)
    {
#if OS_MEM_HARDENING >= 3
        if (fresh)
        {
            const os_uint8_t *from = b.start + OH_FILL_SKIP, *at;

            if (from < (const os_uint8_t *)p)
            {
                from = p;
            }
            at = fill_broken(from, b.end - OH_FILL_FOOT);
            if (at != OS_NULL)
            {
                fill_report(r, b.mem, at, "alloc");
            }
        }
#endif
        (void)fresh;
        tail_put(p, b.usable, n);
    }
    return p;
}

/* Report block b, whose canary is gone: region, address, owner task. */
static void tail_report(const struct heap_mem *r, const struct os_mem_blk *b, const char *who)
{
#ifdef OS_USING_MEM_TRACE
    const char *owner = oh_task_name(b->owner);
#else
    const char *owner = "-";
#endif
    oh_report_fault(r->heap, b->mem, OS_ERROR,
                    "region %p: tail canary of the block at %p (task %s) overwritten: a write ran past its end (found by %s)",
                    (void *)r->start, b->mem, owner, who);
    (void)owner;    /* the small build's reports are fixed messages */
    (void)who;
}

/* Verify the tail of block p; report it if broken. NOT_LIVE if p is not a live block. */
enum { NOT_LIVE, TAIL_OK, TAIL_BROKEN };

static int tail_verify(const struct heap_mem *r, const void *p, struct os_mem_blk *b, const char *who)
{
    if (OH_RAW_QUERY(r, p, b) != OS_EOK)
    {
        return NOT_LIVE;
    }
    if (tail_get(p, b->usable) == BROKEN)
    {
        tail_report(r, b, who);
        return TAIL_BROKEN;
    }
    return TAIL_OK;
}

/* A used block as the core sees it: usable = the caller's size. */
static void tail_describe(struct os_mem_blk *b)
{
    os_size_t n = tail_get(b->mem, b->usable);

    if (n == BROKEN)
    {
        n = b->usable >= TAIL ? b->usable - TAIL : 0;
    }
    b->usable = n;
}

/*
 * Does region r fail its seal (region.h)? Then it is reported, naming no
 * heap (r->heap is not trusted either), and the caller refuses the call
 * without touching the region: every call below reaches the algorithm
 * only through here.
 */
static int unsealed(const struct heap_mem *r)
{
    if (OH_LIKELY(oh_region_sealed(r)))
    {
        return 0;
    }
    oh_report_fault(OS_NULL, r, OS_ERROR, "region control data at %p overwritten (its seal is broken)",
                    (const void *)r);
    return 1;
}

void *oh_tail_alloc(struct heap_mem *r, os_size_t size, os_uint16_t owner)
{
    if (unsealed(r))
    {
        return OS_NULL;
    }
    if (size - 1 >= OH_MAX_REQUEST)
    {
        return oh_refused_size(r, size);
    }
    return tail_new(r, OH_RAW_ALLOC(r, size + TAIL, owner), size, 1);
}

void *oh_tail_aligned_alloc(struct heap_mem *r, os_size_t align, os_size_t size, os_uint16_t owner)
{
    if (unsealed(r))
    {
        return OS_NULL;
    }
    return tail_new(r, OH_RAW_ALIGNED_ALLOC(r, align, size + TAIL, owner), size, 1);
}

void oh_tail_free(struct heap_mem *r, void *p)
{
    struct os_mem_blk b;
    int live;

    if (unsealed(r))
    {
        return;
    }
    live = tail_verify(r, p, &b, "free") != NOT_LIVE;
    OH_RAW_FREE(r, p);
#if OS_MEM_HARDENING >= 3
    {
        struct os_mem_blk gone;

        /* the pattern, once the block is really free (a refused free keeps it) */
        if (live && OH_RAW_QUERY(r, p, &gone) != OS_EOK)
        {
            OH_SCRUB_FROM(b.start, b.end);
        }
    }
#endif
    (void)live;
}

os_err_t oh_tail_resize(struct heap_mem *r, void *p, os_size_t size)
{
    struct os_mem_blk b;
    int state;
    os_err_t err;

    if (unsealed(r))
    {
        return OS_ERROR;
    }
    state = tail_verify(r, p, &b, "realloc");
    err = OH_RAW_RESIZE(r, p, size + TAIL);
    if (err == OS_EOK)
    {
        (void)tail_new(r, p, size, 0);
    }
    else if (err == OS_ENOMEM && state == TAIL_BROKEN)
    {
        /* Reported once: armed again over the caller's size as the core sees
         * it, so the free of the realloc that now moves it does not report it twice. */
        os_size_t u = b.usable;

        tail_describe(&b);
        if (u >= TAIL)
        {
            tail_put(p, u, b.usable);
        }
    }
    return err;
}

os_err_t oh_tail_query(const struct heap_mem *r, const void *p, struct os_mem_blk *b)
{
    os_err_t err = oh_region_sealed(r) ? OH_RAW_QUERY(r, p, b) : OS_ERROR;     /* (a query does not report) */

    if (err == OS_EOK)
    {
        tail_describe(b);
    }
    return err;
}

struct tail_walk
{
    os_mem_walk_fn fn;
    void          *arg;
    int            bad;
};

static int walk_one(const struct heap_mem *r, const struct os_mem_blk *b, void *arg)
{
    struct tail_walk *w = arg;
    struct os_mem_blk c = *b;

    if (c.used)
    {
        tail_describe(&c);
    }
    return w->fn(r, &c, w->arg);
}

os_err_t oh_tail_walk(const struct heap_mem *r, const void *from, os_mem_walk_fn fn, void *arg)
{
    struct tail_walk w = { fn, arg, 0 };

    if (unsealed(r))
    {
        return OS_ERROR;
    }
    return OH_RAW_WALK(r, from, walk_one, &w);
}

static int check_one(const struct heap_mem *r, const struct os_mem_blk *b, void *arg)
{
    if (b->used && tail_get(b->mem, b->usable) == BROKEN)
    {
        tail_report(r, b, "check");
        ((struct tail_walk *)arg)->bad = 1;
    }
#if OS_MEM_HARDENING >= 3
    if (!b->used)
    {
        const os_uint8_t *at = fill_broken(b->start + OH_FILL_SKIP, b->end - OH_FILL_FOOT);

        if (at != OS_NULL)
        {
            fill_report(r, b->mem, at, "check");
            ((struct tail_walk *)arg)->bad = 1;
        }
    }
#endif
    return 0;
}

os_err_t oh_tail_check(const struct heap_mem *r, os_size_t *used)
{
    struct tail_walk w = { OS_NULL, OS_NULL, 0 };
    os_err_t err;

    if (unsealed(r))
    {
        return OS_ERROR;
    }
    err = OH_RAW_CHECK(r, used);
    if (err == OS_EOK && (OH_RAW_WALK(r, OS_NULL, check_one, &w) != OS_EOK || w.bad))
    {
        err = OS_ERROR;
    }
    return err;
}

#endif /* OS_MEM_HARDENING >= 2 */
