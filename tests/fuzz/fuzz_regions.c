/*
 * fuzz_regions.c - region-layout fuzzer: os_memheap_add() with bases and
 * sizes taken from the input inside one big static buffer.
 *
 * Four user heaps receive regions at odd addresses with sizes from 0 and a
 * few bytes up to most of the buffer, regions overlapping regions of the
 * same or another heap, address ranges that wrap, and regions nested inside
 * blocks allocated from another heap (legal: the nested user heap of the
 * OneOS samples), partly or wholly, several levels deep. Between the adds
 * the input allocates, reallocates and frees blocks (freeing a block that
 * holds a region takes that region away from its heap, and is refused,
 * reported, while that region holds a block in use) and deinitialises
 * heaps.
 *
 * A model of the live regions and blocks predicts each add: OS_EINVAL when
 * the range wraps or overlaps a live region, unless it lies wholly inside a
 * block currently allocated from the other region's heap; otherwise OS_EOK,
 * or OS_ENOMEM for a region too small to hold anything. After every step:
 *  - every heap's walk shows only regions the model holds, and exactly the
 *    model's used blocks; mem_used is the sum of their footprints;
 *  - os_memheap_check() returns OS_EOK on every heap;
 *  - every block not hosting a region keeps its pattern, lies inside a
 *    region of its heap, overlaps no other such block and no region of
 *    another heap that does not contain it.
 * Memory outside the accepted regions is poisoned for ASan and holds a
 * canary that is checked at the end of each input, so the library writing
 * outside its regions is caught with or without ASan.
 */
#include "fuzz_util.h"

#include <string.h>

#define BUF_SIZE     (128 * 1024)
#define NHEAPS       4
#define MAX_REGIONS  200     /* one per operation at most */
#define MAX_BLOCKS   128
#define MAX_OPS      200
#define CANARY       0xC7
/* An accepted region this large must be accepted (never OS_ENOMEM). */
#define ALWAYS_FITS  1024

static _Alignas(64) uint8_t buf[BUF_SIZE];

static os_memheap_t heap_obj[NHEAPS];
static const char *const heap_names[NHEAPS] = {"rg0", "rg1", "rg2", "rg3"};

struct region
{
    uint8_t *lo, *hi;
    int      heap;
    int      host;      /* index of the block holding it, or -1 */
    int      live;
};

struct blk
{
    uint8_t *p;
    size_t   size;      /* asked */
    size_t   usable;
    int      heap;
    int      hosting;   /* regions live inside it: contents are the nested heap's */
    int      live;
    uint8_t  seed;
};

static struct region regions[MAX_REGIONS];
static unsigned      nregions;
static struct blk    blocks[MAX_BLOCKS];
static unsigned      nblocks;
/* every top-level region accepted during this input, for the canary scan */
static struct
{
    uint8_t *lo, *hi;
} touched[MAX_REGIONS];

static unsigned ntouched;

static inline uint8_t pat(uint8_t seed, size_t off)
{
    return (uint8_t)(seed ^ (uint8_t)(off * 37u) ^ (uint8_t)(off >> 8));
}

static int overlaps(const uint8_t *alo, const uint8_t *ahi, const uint8_t *blo, const uint8_t *bhi)
{
    return alo < bhi && blo < ahi;
}

/* Generous unpoison, conservative poison (ASan works on 8-byte granules, and
 * a neighbouring region may share a granule). */
static void poison(uint8_t *lo, uint8_t *hi)
{
    uintptr_t a = ((uintptr_t)lo + 7) & ~(uintptr_t)7, b = (uintptr_t)hi & ~(uintptr_t)7;
    if (a < b)
    {
        FUZZ_POISON((void *)a, b - a);
    }
}

static void unpoison(uint8_t *lo, uint8_t *hi)
{
    uintptr_t a = (uintptr_t)lo & ~(uintptr_t)7, b = ((uintptr_t)hi + 7) & ~(uintptr_t)7;
    if (b > (uintptr_t)(buf + BUF_SIZE))
    {
        b = (uintptr_t)(buf + BUF_SIZE);
    }
    FUZZ_UNPOISON((void *)a, b - a);
}

/* ---- model updates ---------------------------------------------------------------- */

static void kill_region(unsigned r);

/* A block goes away (freed, or its region went): so do the regions inside it. */
static void kill_block(unsigned b)
{
    blocks[b].live = 0;
    for (unsigned r = 0; r < nregions; r++)
    {
        if (regions[r].live && regions[r].host == (int)b)
        {
            kill_region(r);
        }
    }
}

static void kill_region(unsigned r)
{
    regions[r].live = 0;
    if (regions[r].host >= 0)
    {
        /* the nested heap wrote over the host block: once nothing lives
         * there any more, the block gets its own pattern back */
        struct blk *k = &blocks[regions[r].host];
        if (--k->hosting == 0 && k->live)
        {
            for (size_t i = 0; i < k->size; i++)
            {
                k->p[i] = pat(k->seed, i);
            }
        }
    }
    else
    {
        poison(regions[r].lo, regions[r].hi);
    }
    for (unsigned b = 0; b < nblocks; b++)
    {
        if (blocks[b].live && blocks[b].heap == regions[r].heap && blocks[b].p >= regions[r].lo &&
            blocks[b].p < regions[r].hi)
        {
            kill_block(b);
        }
    }
}

/* ---- invariants ------------------------------------------------------------------ */

struct walk_state
{
    int      heap;
    unsigned nused;
    size_t   used_total;
    uint8_t *region_lo, *region_hi;     /* with region_free: a free block inside this range */
    int      region_free;
};

static int model_has_region(int h, const uint8_t *lo, const uint8_t *hi)
{
    for (unsigned r = 0; r < nregions; r++)
    {
        if (regions[r].live && regions[r].heap == h && lo >= regions[r].lo && hi <= regions[r].hi)
        {
            return 1;
        }
    }
    return 0;
}

static int model_block(int h, const uint8_t *p)
{
    for (unsigned b = 0; b < nblocks; b++)
    {
        if (blocks[b].live && blocks[b].heap == h && blocks[b].p == p)
        {
            return (int)b;
        }
    }
    return -1;
}

static int walk_cb(const struct os_memheap_block *wb, void *arg)
{
    struct walk_state *w = arg;
    const uint8_t *rs = wb->region_start, *re = wb->region_end;

    FUZZ_REQUIRE(model_has_region(w->heap, rs, re), "heap %d: walk shows region %p..%p, which it does not hold",
                 w->heap, wb->region_start, wb->region_end);
    FUZZ_REQUIRE((const uint8_t *)wb->addr >= rs && (const uint8_t *)wb->addr + wb->size <= re,
                 "heap %d: block %p outside its region", w->heap, wb->addr);
    if (wb->used)
    {
        int b = model_block(w->heap, wb->addr);
        FUZZ_REQUIRE(b >= 0, "heap %d: walk shows used block %p the model does not hold", w->heap, wb->addr);
        FUZZ_REQUIRE(wb->size == blocks[b].usable, "heap %d: block %p usable %zu, was %zu", w->heap, wb->addr,
                     wb->size, blocks[b].usable);
        w->nused++;
        w->used_total += wb->total;
    }
    else if (rs >= w->region_lo && re <= w->region_hi)
    {
        w->region_free = 1;
    }
    return 0;
}

static void verify_heap(int h)
{
    struct walk_state w = {h, 0, 0, OS_NULL, OS_NULL, 0};
    os_meminfo_t info;
    unsigned model = 0;

    FUZZ_REQUIRE(os_memheap_walk(&heap_obj[h], walk_cb, &w) == OS_EOK, "heap %d: walk failed", h);
    for (unsigned b = 0; b < nblocks; b++)
    {
        model += blocks[b].live && blocks[b].heap == h;
    }
    FUZZ_REQUIRE(w.nused == model, "heap %d: walk shows %u used blocks, the model holds %u", h, w.nused, model);
    os_memheap_info(&heap_obj[h], &info);
    FUZZ_REQUIRE(info.mem_used == w.used_total, "heap %d: mem_used %zu, the walk's used blocks occupy %zu", h,
                 info.mem_used, w.used_total);
    FUZZ_REQUIRE(info.mem_used <= info.mem_total && info.mem_maxused >= info.mem_used,
                 "heap %d: total %zu used %zu maxused %zu", h, info.mem_total, info.mem_used, info.mem_maxused);
    os_err_t rc = os_memheap_check(&heap_obj[h]);
    FUZZ_REQUIRE(rc == OS_EOK, "heap %d: check returned %ld", h, (long)rc);
}

static void verify_all(void)
{
    unsigned long before = fuzz_reports;

    for (unsigned i = 0; i < nblocks; i++)
    {
        struct blk *a = &blocks[i];
        if (!a->live || a->hosting)
        {
            continue;
        }
        FUZZ_REQUIRE(model_has_region(a->heap, a->p, a->p + a->usable),
                     "block %p of heap %d is outside its heap's regions", (void *)a->p, a->heap);
        for (size_t k = 0; k < a->size; k++)
        {
            FUZZ_REQUIRE(a->p[k] == pat(a->seed, k), "block %p (heap %d, %zu bytes): byte %zu overwritten",
                         (void *)a->p, a->heap, a->size, k);
        }
        for (unsigned j = i + 1; j < nblocks; j++)
        {
            const struct blk *b = &blocks[j];
            FUZZ_REQUIRE(!b->live || b->hosting || !overlaps(a->p, a->p + a->usable, b->p, b->p + b->usable),
                         "blocks %p (heap %d) and %p (heap %d) overlap", (void *)a->p, a->heap, (void *)b->p,
                         b->heap);
        }
        /* a region of another heap either contains the block or is apart from it */
        for (unsigned r = 0; r < nregions; r++)
        {
            const struct region *g = &regions[r];
            if (!g->live || g->heap == a->heap)
            {
                continue;
            }
            FUZZ_REQUIRE(!overlaps(a->p, a->p + a->usable, g->lo, g->hi) ||
                             (a->p >= g->lo && a->p + a->usable <= g->hi),
                         "block %p of heap %d overlaps region %p..%p of heap %d", (void *)a->p, a->heap,
                         (void *)g->lo, (void *)g->hi, g->heap);
        }
    }
    for (int h = 0; h < NHEAPS; h++)
    {
        verify_heap(h);
    }
    FUZZ_REQUIRE(fuzz_reports == before, "verifying the heaps reported");
}

/* ---- the add oracle ----------------------------------------------------------------- */

/* What os_memheap_add(h, lo, size) must return: OS_EINVAL, or OS_EOK (which
 * may be OS_ENOMEM for a small region); *host gets the holding block. */
static os_err_t predict_add(int h, uint8_t *lo, size_t size, int *host)
{
    *host = -1;
    if (lo == OS_NULL || size > SIZE_MAX - (uintptr_t)lo)
    {
        return OS_EINVAL;
    }
    uint8_t *hi = lo + size;
    for (unsigned r = 0; r < nregions; r++)
    {
        const struct region *g = &regions[r];
        if (!g->live || hi <= g->lo || lo >= g->hi)
        {
            continue;
        }
        if (g->heap == h || lo < g->lo || hi > g->hi)
        {
            return OS_EINVAL;
        }
        /* must lie in a block allocated from g's heap, inside g */
        int found = -1;
        for (unsigned b = 0; b < nblocks; b++)
        {
            const struct blk *k = &blocks[b];
            if (k->live && k->heap == g->heap && k->p >= g->lo && k->p < g->hi && lo >= k->p &&
                lo < k->p + k->usable && hi <= k->p + k->usable)
            {
                found = (int)b;
            }
        }
        if (found < 0)
        {
            return OS_EINVAL;
        }
        /* the innermost holder wins */
        if (*host < 0 || blocks[found].usable < blocks[*host].usable)
        {
            *host = found;
        }
    }
    return OS_EOK;
}

/* ---- operations ---------------------------------------------------------------------- */

static void do_add(int h, uint8_t *lo, size_t size, enum os_mem_alg alg)
{
    int host;
    os_err_t want = predict_add(h, lo, size, &host);
    int top = want == OS_EOK && host < 0;

    /* A range that may be accepted is the library's to write from now on;
     * a range to be refused stays poisoned: a refusal must not touch it. */
    if (top)
    {
        unpoison(lo, lo + size);
        FUZZ_REQUIRE(ntouched < MAX_REGIONS, "too many regions");
        touched[ntouched].lo = lo;
        touched[ntouched].hi = lo + size;
        ntouched++;
    }
    unsigned long before = fuzz_reports;
    os_err_t rc = os_memheap_add(&heap_obj[h], lo, size, alg);

    if (want == OS_EINVAL)
    {
        FUZZ_REQUIRE(rc == OS_EINVAL, "add(heap %d, %p, %zu) returned %ld, expected OS_EINVAL", h, (void *)lo,
                     size, (long)rc);
        FUZZ_REQUIRE(fuzz_reports == before + 1, "a refused add was reported %lu times", fuzz_reports - before);
        return;
    }
    FUZZ_REQUIRE(rc == OS_EOK || (rc == OS_ENOMEM && size < ALWAYS_FITS),
                 "add(heap %d, %p, %zu) returned %ld, expected OS_EOK", h, (void *)lo, size, (long)rc);
    if (rc == OS_ENOMEM)
    {
        if (top)
        {
            poison(lo, lo + size);
        }
        FUZZ_REQUIRE(fuzz_reports == before + 1, "OS_ENOMEM was reported %lu times", fuzz_reports - before);
        return;
    }
    FUZZ_REQUIRE(fuzz_reports == before, "an accepted add reported");
    FUZZ_REQUIRE(nregions < MAX_REGIONS, "region table full");
    struct region *g = &regions[nregions++];
    g->lo = lo;
    g->hi = lo + size;
    g->heap = h;
    g->host = host;
    g->live = 1;
    if (host >= 0)
    {
        blocks[host].hosting++;
    }
    /* an accepted region holds at least one free block */
    struct walk_state w = {h, 0, 0, g->lo, g->hi, 0};
    (void)os_memheap_walk(&heap_obj[h], walk_cb, &w);
    FUZZ_REQUIRE(w.region_free, "heap %d: accepted region %p..%p shows no free block", h, (void *)g->lo,
                 (void *)g->hi);
    /* and so the heap serves a byte (a tail canary makes that byte a bigger block) */
    void *p = os_memheap_alloc(&heap_obj[h], 1);
    FUZZ_REQUIRE(p != OS_NULL || OS_MEM_HARDENING >= 2, "heap %d: cannot serve 1 byte after accepting region %p..%p",
                 h, (void *)g->lo, (void *)g->hi);
    os_memheap_free(&heap_obj[h], p);
    FUZZ_REQUIRE(fuzz_reports == before, "a 1-byte alloc and free reported");
}

static size_t pick_size(struct fuzz_in *in, size_t room)
{
    uint8_t kind = in_u8(in);
    uint32_t v = in_u32(in);
    size_t s;
    switch (kind % 6)
    {
    case 0:
        return 0;
    case 1:
        s = 1 + v % 96;
        break;
    case 2:
        s = 64 + v % 2048;
        break;
    case 3:
        s = 1024 + v % (BUF_SIZE / 2);
        break;
    default:
        s = v % (BUF_SIZE + 1);
        break;
    }
    return s < room ? s : room;
}

static void op_add_top(struct fuzz_in *in)
{
    int h = in_u8(in) % NHEAPS;
    enum os_mem_alg alg = fuzz_pick_alg(in_u8(in));
    uint8_t kind = in_u8(in);
    size_t off = in_u32(in) % BUF_SIZE;
    uint8_t *lo = buf + off;
    size_t size = pick_size(in, BUF_SIZE - off);

    switch (kind % 16)
    {
    case 0:     /* the range wraps around the address space */
        size = SIZE_MAX - (uintptr_t)lo + 1 + size % 4096;
        break;
    case 1:
        size = SIZE_MAX;
        break;
    case 2:
        lo = OS_NULL;
        break;
    default:
        break;
    }
    do_add(h, lo, size, alg);
}

static void op_add_nested(struct fuzz_in *in)
{
    unsigned b = in_u8(in) % (nblocks ? nblocks : 1);
    int h = in_u8(in) % NHEAPS;
    enum os_mem_alg alg = fuzz_pick_alg(in_u8(in));
    uint8_t kind = in_u8(in);
    uint16_t v = in_u16(in);
    uint16_t w = in_u16(in);
    if (nblocks == 0 || !blocks[b].live)
    {
        return;
    }
    struct blk *k = &blocks[b];
    uint8_t *lo;
    size_t size;
    switch (kind % 8)
    {
    case 0:     /* starts in the block's header */
        lo = k->p - 1 - v % 16;
        size = w % (k->usable + 32);
        break;
    case 1:     /* runs past the block's end */
        lo = k->p + v % k->usable;
        size = (size_t)(k->p + k->usable - lo) + 1 + w % 64;
        break;
    case 2:     /* the whole block */
        lo = k->p;
        size = k->usable;
        break;
    default:
        lo = k->p + v % k->usable;
        size = w % ((size_t)(k->p + k->usable - lo) + 1);
        break;
    }
    if (lo < buf || lo + size > buf + BUF_SIZE)
    {
        return;
    }
    do_add(h, lo, size, alg);
}

static void op_alloc(struct fuzz_in *in)
{
    int h = in_u8(in) % NHEAPS;
    uint16_t v = in_u16(in);
    uint8_t seed = in_u8(in);
    uint8_t big = in_u8(in);
    size_t n = (big & 3) == 0 ? 1 + v % 16384 : 1 + v % 512;
    if (nblocks >= MAX_BLOCKS)
    {
        return;
    }
    unsigned long before = fuzz_reports;
    uint8_t *p = os_memheap_alloc(&heap_obj[h], n);
    if (p == OS_NULL)
    {
        return;
    }
    FUZZ_REQUIRE(fuzz_reports == before, "a successful alloc reported");
    FUZZ_REQUIRE(model_block(h, p) < 0, "alloc on heap %d returned live block %p", h, (void *)p);
    struct blk *k = &blocks[nblocks++];
    k->p = p;
    k->size = n;
    k->usable = os_memheap_usable_size(&heap_obj[h], p);
    k->heap = h;
    k->hosting = 0;
    k->live = 1;
    k->seed = seed;
    FUZZ_REQUIRE(k->usable >= n, "usable %zu < %zu", k->usable, n);
    for (size_t i = 0; i < n; i++)
    {
        p[i] = pat(seed, i);
    }
}

/* Does a region nested in block b hold a live block (so that freeing b is refused)? */
static int hosts_live(unsigned b)
{
    for (unsigned r = 0; r < nregions; r++)
    {
        if (!regions[r].live || regions[r].host != (int)b)
        {
            continue;
        }
        for (unsigned k = 0; k < nblocks; k++)
        {
            if (blocks[k].live && blocks[k].heap == regions[r].heap && blocks[k].p >= regions[r].lo &&
                blocks[k].p < regions[r].hi)
            {
                return 1;
            }
        }
    }
    return 0;
}

static void op_free(struct fuzz_in *in)
{
    unsigned b = in_u8(in) % (nblocks ? nblocks : 1);
    if (nblocks == 0 || !blocks[b].live)
    {
        return;
    }
    unsigned long before = fuzz_reports;
    int refused = hosts_live(b);
    os_memheap_free(&heap_obj[blocks[b].heap], blocks[b].p);
    if (refused)
    {
        FUZZ_REQUIRE(fuzz_reports == before + 1, "a refused free of a host block was reported %lu times",
                     fuzz_reports - before);
        return;
    }
    FUZZ_REQUIRE(fuzz_reports == before, "freeing block %p of heap %d reported", (void *)blocks[b].p,
                 blocks[b].heap);
    kill_block(b);
}

static void op_realloc(struct fuzz_in *in)
{
    unsigned b = in_u8(in) % (nblocks ? nblocks : 1);
    uint16_t v = in_u16(in);
    if (nblocks == 0 || !blocks[b].live)
    {
        return;
    }
    struct blk *k = &blocks[b];
    size_t n = 1 + v % 4096;
    unsigned long before = fuzz_reports;
    uint8_t *p = os_memheap_realloc(&heap_obj[k->heap], k->p, n);
    if (k->hosting)
    {
        FUZZ_REQUIRE(p == OS_NULL, "realloc of block %p, which holds a region, returned %p", (void *)k->p,
                     (void *)p);
        FUZZ_REQUIRE(fuzz_reports == before + 1, "a refused realloc was reported %lu times",
                     fuzz_reports - before);
        return;
    }
    if (p == OS_NULL)
    {
        return;
    }
    FUZZ_REQUIRE(fuzz_reports == before, "a successful realloc reported");
    size_t keep = n < k->size ? n : k->size;
    for (size_t i = 0; i < keep; i++)
    {
        FUZZ_REQUIRE(p[i] == pat(k->seed, i), "realloc lost byte %zu", i);
    }
    for (size_t i = keep; i < n; i++)
    {
        p[i] = pat(k->seed, i);
    }
    k->p = p;
    k->size = n;
    k->usable = os_memheap_usable_size(&heap_obj[k->heap], p);
    FUZZ_REQUIRE(k->usable >= n, "usable %zu < %zu", k->usable, n);
}

/* Deinit (refused while the heap hosts regions), then init again. */
static void op_reinit(struct fuzz_in *in)
{
    int h = in_u8(in) % NHEAPS;
    int hosts = 0;
    for (unsigned r = 0; r < nregions; r++)
    {
        hosts |= regions[r].live && regions[r].host >= 0 && blocks[regions[r].host].heap == h;
    }
    unsigned long before = fuzz_reports;
    os_err_t rc = os_memheap_deinit(&heap_obj[h]);
    if (hosts)
    {
        FUZZ_REQUIRE(rc == OS_EBUSY, "deinit of host heap %d returned %ld", h, (long)rc);
        FUZZ_REQUIRE(fuzz_reports == before + 1, "a refused deinit was reported %lu times", fuzz_reports - before);
        return;
    }
    FUZZ_REQUIRE(rc == OS_EOK, "deinit of heap %d returned %ld", h, (long)rc);
    for (unsigned r = 0; r < nregions; r++)
    {
        if (regions[r].live && regions[r].heap == h)
        {
            kill_region(r);
        }
    }
    memset(&heap_obj[h], 0, sizeof heap_obj[h]);
    FUZZ_REQUIRE(os_memheap_init(&heap_obj[h], heap_names[h]) == OS_EOK, "init of heap %d failed", h);
}

/* ---- set-up and tear-down -------------------------------------------------------- */

static void teardown(void)
{
    /* Two heaps can host each other (A's region in a block of B, B's in a
     * block of A), so neither deinit would succeed: free the blocks that
     * host nothing, then the host blocks, innermost first (a host block is
     * freed once its regions hold no live block), which detaches what they
     * hold. */
    for (unsigned b = 0; b < nblocks; b++)
    {
        if (blocks[b].live && !blocks[b].hosting)
        {
            os_memheap_free(&heap_obj[blocks[b].heap], blocks[b].p);
            kill_block(b);
        }
    }
    for (int again = 1; again;)
    {
        again = 0;
        for (unsigned b = 0; b < nblocks; b++)
        {
            if (blocks[b].live && !hosts_live(b))
            {
                os_memheap_free(&heap_obj[blocks[b].heap], blocks[b].p);
                kill_block(b);
                again = 1;
            }
        }
    }
    /* nested heaps first: a host heap refuses deinit */
    for (int round = 0; round < NHEAPS + 1; round++)
    {
        for (int h = 0; h < NHEAPS; h++)
        {
            if (heap_obj[h].object_inited && os_memheap_deinit(&heap_obj[h]) == OS_EOK)
            {
                memset(&heap_obj[h], 0, sizeof heap_obj[h]);
            }
        }
    }
    for (int h = 0; h < NHEAPS; h++)
    {
        FUZZ_REQUIRE(!heap_obj[h].object_inited, "heap %d cannot be deinitialised", h);
    }
    /* nothing outside the accepted regions was written */
    FUZZ_UNPOISON(buf, BUF_SIZE);
    for (size_t i = 0; i < BUF_SIZE; i++)
    {
        if (buf[i] == CANARY)
        {
            continue;
        }
        int inside = 0;
        for (unsigned t = 0; t < ntouched && !inside; t++)
        {
            inside = buf + i >= touched[t].lo && buf + i < touched[t].hi;
        }
        if (!inside)
        {
            for (unsigned t = 0; t < ntouched; t++)
            {
                fprintf(stderr, "region %p..%p\n", (void *)touched[t].lo, (void *)touched[t].hi);
            }
        }
        FUZZ_REQUIRE(inside, "byte %p outside every region was written (0x%02x)", (void *)(buf + i), buf[i]);
    }
    memset(buf, CANARY, BUF_SIZE);
    FUZZ_POISON(buf, BUF_SIZE);
    nregions = 0;
    nblocks = 0;
    ntouched = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once;
    struct fuzz_in in = {data, size};

    if (!once)
    {
        memset(buf, CANARY, BUF_SIZE);
        FUZZ_POISON(buf, BUF_SIZE);
        once = 1;
    }
    os_mem_set_error_hook(fuzz_hook);
    fuzz_reports = 0;
    for (int h = 0; h < NHEAPS; h++)
    {
        FUZZ_REQUIRE(os_memheap_init(&heap_obj[h], heap_names[h]) == OS_EOK, "init of heap %d failed", h);
    }

    for (unsigned op = 0; op < MAX_OPS && in_more(&in); op++)
    {
        switch (in_u8(&in) % 8)
        {
        case 0:
        case 1:
            op_add_top(&in);
            break;
        case 2:
            op_add_nested(&in);
            break;
        case 3:
        case 4:
            op_alloc(&in);
            break;
        case 5:
            op_free(&in);
            break;
        case 6:
            op_realloc(&in);
            break;
        default:
            op_reinit(&in);
            break;
        }
        fuzz_reports = 0;
        verify_all();
        /* block indices are never reused: stop when the table is full */
        if (nblocks == MAX_BLOCKS)
        {
            break;
        }
    }
    teardown();
    return 0;
}
