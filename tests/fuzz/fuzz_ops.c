/*
 * fuzz_ops.c - operation fuzzer for user heaps (and the system heap).
 *
 * The input is a small program. Its head builds up to three heaps from
 * static arrays: heap A from three regions, heap B (optional) from two,
 * and, when the system heap is compiled in, the system heap from one; each
 * region's offset, trimmed size and algorithm come from the input. The rest
 * of the input is a list of operations: alloc, aligned alloc (powers of two
 * and refused non-powers), realloc (grow, shrink, to 0, from NULL, too
 * large), free, bad frees (interior, already freed, foreign, another heap's
 * block, control data), calloc, info and check.
 *
 * A shadow model holds every live block (address, requested size, asked
 * alignment, pattern seed, heap). After every operation the fuzzer checks:
 *  - every block still holds its own pattern;
 *  - every block is aligned as asked and lies inside a region of its heap;
 *  - no two live blocks overlap;
 *  - os_memheap_walk() lists exactly the model's blocks as used, each at
 *    least as large as asked, and the sum of their footprints equals
 *    mem_used; mem_used <= mem_total; mem_maxused >= mem_used and never
 *    falls;
 *  - a refused argument or a bad free is reported once and changes nothing;
 *    a call that succeeds reports nothing.
 * Every 16 operations os_memheap_check() must return OS_EOK. At the end
 * every block is freed, mem_used must be 0, and the largest block the fresh
 * heap could serve must be served again.
 *
 * Any mismatch aborts with a message. The heaps are torn down and rebuilt
 * for every input.
 */
#include "fuzz_util.h"

#include <string.h>

#define MAX_BLOCKS   384
#define MAX_OPS      800
#define CHECK_EVERY  16
#define MAX_REGIONS  3
/* An aligned block may carry no header (buddy), so it can be slightly larger
 * than the largest plain block; larger than this, no request can succeed. */
#define ALIGNED_SLACK 64

#ifdef OS_USING_SYS_HEAP
#define NHEAPS 3
#define SYS    2
#else
#define NHEAPS 2
#define SYS    (-1)
#endif

/* ---- memory the heaps are built from ---------------------------------------- */

/* Each region gets a buffer 64 bytes longer than its nominal size; the input
 * picks an offset of 0..63 into it and trims 0..127 bytes off the end, so
 * regions start at any address and have odd sizes. */
static _Alignas(64) uint8_t mem_a0[4096 + 64];
static _Alignas(64) uint8_t mem_a1[24 * 1024 + 64];
static _Alignas(64) uint8_t mem_a2[1536 + 64];
static _Alignas(64) uint8_t mem_b0[8192 + 64];
static _Alignas(64) uint8_t mem_b1[2048 + 64];
#ifdef OS_USING_SYS_HEAP
static _Alignas(64) uint8_t mem_s0[16 * 1024 + 64];
#endif
static _Alignas(64) uint8_t foreign_mem[256];     /* never part of any heap */

struct region_spec
{
    uint8_t *buf;
    size_t   nominal;
};

static const struct region_spec specs[NHEAPS][MAX_REGIONS] = {
    {{mem_a0, 4096}, {mem_a1, 24 * 1024}, {mem_a2, 1536}},
    {{mem_b0, 8192}, {mem_b1, 2048}, {OS_NULL, 0}},
#ifdef OS_USING_SYS_HEAP
    {{mem_s0, 16 * 1024}, {OS_NULL, 0}, {OS_NULL, 0}},
#endif
};

struct fheap
{
    os_memheap_t *h;
    int           active;
    unsigned      nregions;
    uint8_t      *lo[MAX_REGIONS];
    uint8_t      *hi[MAX_REGIONS];
    size_t        largest;      /* largest alloc the fresh heap served */
    size_t        maxused;      /* last mem_maxused seen */
};

static os_memheap_t heap_a, heap_b;
static struct fheap heaps[NHEAPS];

/* ---- the shadow model ----------------------------------------------------------- */

struct blk
{
    uint8_t *p;
    size_t   size;      /* bytes asked for */
    size_t   align;     /* alignment asked for (0: default) */
    int      heap;
    uint8_t  seed;
};

static struct blk blocks[MAX_BLOCKS];
static unsigned   nblocks;

/* Recently freed addresses, for double frees. */
#define NFREED 16
static struct
{
    uint8_t *p;
    int      heap;
} freed[NFREED];
static unsigned nfreed;

/* Pattern byte of a block with seed s at offset i: s ^ pattern_base[i], so
 * a whole block compares in one vectorisable pass. */
#define PATTERN_MAX (64 * 1024)
static uint8_t pattern_base[PATTERN_MAX];

static void pattern_init(void)
{
    for (size_t i = 0; i < PATTERN_MAX; i++)
    {
        pattern_base[i] = (uint8_t)((uint8_t)(i * 29u) ^ (uint8_t)(i >> 7));
    }
}

static inline uint8_t pat(uint8_t seed, size_t off)
{
    return (uint8_t)(seed ^ pattern_base[off % PATTERN_MAX]);
}

static void fill(const struct blk *b, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
    {
        b->p[i] = pat(b->seed, i);
    }
}

static void expect_pattern(const struct blk *b, size_t upto, const char *what)
{
    uint8_t diff = 0;
    size_t n = upto < PATTERN_MAX ? upto : PATTERN_MAX;
    for (size_t i = 0; i < n; i++)
    {
        diff |= (uint8_t)(b->p[i] ^ b->seed ^ pattern_base[i]);
    }
    for (size_t i = n; i < upto; i++)
    {
        diff |= (uint8_t)(b->p[i] ^ pat(b->seed, i));
    }
    if (diff == 0)
    {
        return;
    }
    for (size_t i = 0; i < upto; i++)
    {
        FUZZ_REQUIRE(b->p[i] == pat(b->seed, i),
                     "%s: block %p (%zu bytes, heap %d) byte %zu is 0x%02x, expected 0x%02x", what,
                     (void *)b->p, b->size, b->heap, i, b->p[i], pat(b->seed, i));
    }
}

static void remember_freed(uint8_t *p, int heap)
{
    freed[nfreed % NFREED].p = p;
    freed[nfreed % NFREED].heap = heap;
    nfreed++;
}

static void drop_block(unsigned i)
{
    blocks[i] = blocks[--nblocks];
}

static int block_at(const uint8_t *p)
{
    for (unsigned i = 0; i < nblocks; i++)
    {
        if (blocks[i].p == p)
        {
            return (int)i;
        }
    }
    return -1;
}

/* ---- heap calls (the system heap goes through its own wrappers) -------------- */

static void *h_alloc(int h, size_t n)
{
#ifdef OS_USING_SYS_HEAP
    if (h == SYS)
    {
        return os_malloc(n);
    }
#endif
    return os_memheap_alloc(heaps[h].h, n);
}

static void *h_aligned(int h, size_t align, size_t n)
{
#ifdef OS_USING_SYS_HEAP
    if (h == SYS)
    {
        return os_aligned_malloc(align, n);
    }
#endif
    return os_memheap_aligned_alloc(heaps[h].h, align, n);
}

static void *h_realloc(int h, void *p, size_t n)
{
#ifdef OS_USING_SYS_HEAP
    if (h == SYS)
    {
        return os_realloc(p, n);
    }
#endif
    return os_memheap_realloc(heaps[h].h, p, n);
}

static void h_free(int h, void *p)
{
#ifdef OS_USING_SYS_HEAP
    if (h == SYS)
    {
        os_free(p);
        return;
    }
#endif
    os_memheap_free(heaps[h].h, p);
}

/* ---- invariants ------------------------------------------------------------------ */

struct walk_state
{
    const struct fheap *fh;
    int                 heap;
    size_t              used_total;
    size_t              nused;
    uint8_t            *used[MAX_BLOCKS];
    size_t              usize[MAX_BLOCKS];
};

static int in_regions(const struct fheap *fh, const uint8_t *lo, const uint8_t *hi)
{
    for (unsigned r = 0; r < fh->nregions; r++)
    {
        if (lo >= fh->lo[r] && hi <= fh->hi[r])
        {
            return 1;
        }
    }
    return 0;
}

static int walk_cb(const struct os_memheap_block *b, void *arg)
{
    struct walk_state *w = arg;
    const uint8_t *rs = b->region_start, *re = b->region_end;
    const uint8_t *p = b->addr;

    FUZZ_REQUIRE(in_regions(w->fh, rs, re), "heap %d: walk shows region %p..%p that was never added",
                 w->heap, b->region_start, b->region_end);
    FUZZ_REQUIRE(p >= rs && p + b->size <= re && b->total >= b->size,
                 "heap %d: walk shows block %p (%zu usable, %zu total) outside its region %p..%p",
                 w->heap, b->addr, b->size, b->total, b->region_start, b->region_end);
    if (b->used)
    {
        FUZZ_REQUIRE(w->nused < MAX_BLOCKS, "heap %d: walk shows more used blocks than were allocated",
                     w->heap);
        w->used[w->nused] = b->addr;
        w->usize[w->nused] = b->size;
        w->nused++;
        w->used_total += b->total;
    }
    return 0;
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(uint8_t *const *)a, y = (uintptr_t)*(uint8_t *const *)b;
    return x < y ? -1 : x > y;
}

static int cmp_blk(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const struct blk *)a)->p, y = (uintptr_t)((const struct blk *)b)->p;
    return x < y ? -1 : x > y;
}

static void verify_heap(int h)
{
    static struct walk_state w;
    struct fheap *fh = &heaps[h];
    os_meminfo_t info;
    size_t model = 0;

    memset(&w, 0, sizeof w);
    w.fh = fh;
    w.heap = h;
    unsigned long before = fuzz_reports;
    FUZZ_REQUIRE(os_memheap_walk(fh->h, walk_cb, &w) == OS_EOK, "heap %d: walk failed", h);
    FUZZ_REQUIRE(fuzz_reports == before, "heap %d: walk reported", h);
    os_memheap_info(fh->h, &info);

    for (unsigned i = 0; i < nblocks; i++)
    {
        if (blocks[i].heap == h)
        {
            model++;
        }
    }
    FUZZ_REQUIRE(w.nused == model, "heap %d: walk shows %zu used blocks, the model holds %zu", h,
                 w.nused, model);
    FUZZ_REQUIRE(info.mem_used == w.used_total,
                 "heap %d: mem_used %zu, but the used blocks of the walk occupy %zu", h,
                 info.mem_used, w.used_total);
    FUZZ_REQUIRE(info.mem_used <= info.mem_total, "heap %d: mem_used %zu > mem_total %zu", h,
                 info.mem_used, info.mem_total);
    FUZZ_REQUIRE(info.mem_maxused >= info.mem_used && info.mem_maxused >= fh->maxused,
                 "heap %d: mem_maxused %zu (was %zu), mem_used %zu", h, info.mem_maxused,
                 fh->maxused, info.mem_used);
    fh->maxused = info.mem_maxused;

    /* the walk's used blocks are exactly the model's, each large enough */
    for (size_t i = 0; i < w.nused; i++)
    {
        int k = block_at(w.used[i]);
        FUZZ_REQUIRE(k >= 0 && blocks[k].heap == h, "heap %d: walk shows used block %p the model does not hold",
                     h, (void *)w.used[i]);
        FUZZ_REQUIRE(w.usize[i] >= blocks[k].size, "heap %d: block %p usable %zu < %zu asked", h,
                     (void *)w.used[i], w.usize[i], blocks[k].size);
    }
    qsort(w.used, w.nused, sizeof w.used[0], cmp_ptr);
    for (size_t i = 1; i < w.nused; i++)
    {
        FUZZ_REQUIRE(w.used[i] != w.used[i - 1], "heap %d: walk shows block %p twice", h, (void *)w.used[i]);
    }
}

static void verify_all(void)
{
    static struct blk sorted[MAX_BLOCKS];

    for (unsigned i = 0; i < nblocks; i++)
    {
        const struct blk *b = &blocks[i];
        size_t a = b->align > OS_MEM_ALIGN_SIZE ? b->align : OS_MEM_ALIGN_SIZE;
        FUZZ_REQUIRE(((uintptr_t)b->p & (a - 1)) == 0, "block %p (heap %d) not aligned to %zu",
                     (void *)b->p, b->heap, a);
        FUZZ_REQUIRE(in_regions(&heaps[b->heap], b->p, b->p + b->size),
                     "block %p of %zu bytes is outside every region of heap %d", (void *)b->p, b->size,
                     b->heap);
        expect_pattern(b, b->size, "contents");
    }
    memcpy(sorted, blocks, nblocks * sizeof blocks[0]);
    qsort(sorted, nblocks, sizeof sorted[0], cmp_blk);
    for (unsigned i = 1; i < nblocks; i++)
    {
        FUZZ_REQUIRE(sorted[i - 1].p + sorted[i - 1].size <= sorted[i].p,
                     "blocks %p (%zu bytes, heap %d) and %p (heap %d) overlap", (void *)sorted[i - 1].p,
                     sorted[i - 1].size, sorted[i - 1].heap, (void *)sorted[i].p, sorted[i].heap);
    }
    for (int h = 0; h < NHEAPS; h++)
    {
        if (heaps[h].active)
        {
            verify_heap(h);
        }
    }
}

static void check_all(void)
{
    for (int h = 0; h < NHEAPS; h++)
    {
        if (heaps[h].active)
        {
            unsigned long before = fuzz_reports;
            os_err_t rc = os_memheap_check(heaps[h].h);
            FUZZ_REQUIRE(rc == OS_EOK, "heap %d: check returned %ld", h, (long)rc);
            FUZZ_REQUIRE(fuzz_reports == before, "heap %d: a passing check reported", h);
        }
    }
}

/* ---- set-up and tear-down ---------------------------------------------------- */

static void teardown(void)
{
    for (int h = 0; h < NHEAPS; h++)
    {
        if (heaps[h].h != OS_NULL && heaps[h].h->object_inited)
        {
            FUZZ_REQUIRE(os_memheap_deinit(heaps[h].h) == OS_EOK, "heap %d: deinit failed", h);
        }
        if (heaps[h].h != OS_NULL)
        {
            memset(heaps[h].h, 0, sizeof *heaps[h].h);
        }
        memset(&heaps[h], 0, sizeof heaps[h]);
    }
    nblocks = 0;
    nfreed = 0;
    memset(freed, 0, sizeof freed);
}

/* Largest n the heap serves, by bisection (each probe freed again). */
static size_t largest_alloc(int h)
{
    os_meminfo_t info;
    os_memheap_info(heaps[h].h, &info);
    size_t lo = 0, hi = info.mem_total + 1;     /* lo served (or 0), hi not */
    while (hi - lo > 1)
    {
        size_t mid = lo + (hi - lo) / 2;
        void *p = h_alloc(h, mid);
        if (p != OS_NULL)
        {
            h_free(h, p);
            lo = mid;
        }
        else
        {
            hi = mid;
        }
    }
    return lo;
}

static void setup(struct fuzz_in *in)
{
    uint8_t flags = in_u8(in);

    teardown();
    heaps[0].h = &heap_a;
    heaps[1].h = &heap_b;
#ifdef OS_USING_SYS_HEAP
    heaps[SYS].h = os_sys_heap();
#endif
    for (int h = 0; h < NHEAPS; h++)
    {
        struct fheap *fh = &heaps[h];
        if (h == 1 && !(flags & 1))
        {
            continue;     /* heap B only when asked for */
        }
#ifdef OS_USING_SYS_HEAP
        if (h == SYS)
        {
            os_sys_heap_init();
        }
        else
#endif
        {
            FUZZ_REQUIRE(os_memheap_init(fh->h, h == 0 ? "fuzz_a" : "fuzz_b") == OS_EOK,
                         "heap %d: init failed", h);
        }
        fh->active = 1;
        for (unsigned r = 0; r < MAX_REGIONS && specs[h][r].buf != OS_NULL; r++)
        {
            enum os_mem_alg alg = fuzz_pick_alg(in_u8(in));
            size_t off = in_u8(in) % 64;
            size_t trim = in_u8(in) % 128;
            uint8_t *base = specs[h][r].buf + off;
            size_t size = specs[h][r].nominal - trim;
            os_err_t rc = os_memheap_add(fh->h, base, size, alg);
            FUZZ_REQUIRE(rc == OS_EOK, "heap %d: adding region %p of %zu bytes returned %ld", h,
                         (void *)base, size, (long)rc);
            fh->lo[fh->nregions] = base;
            fh->hi[fh->nregions] = base + size;
            fh->nregions++;
        }
        fh->largest = largest_alloc(h);
        FUZZ_REQUIRE(fh->largest > 0, "heap %d: a fresh heap serves nothing", h);
    }
    FUZZ_REQUIRE(fuzz_reports == 0, "setting up the heaps reported %lu times", fuzz_reports);
}

/* ---- operations ---------------------------------------------------------------- */

/* A size: mostly small, sometimes large, 0 or near SIZE_MAX. */
static size_t pick_size(struct fuzz_in *in)
{
    uint8_t cls = in_u8(in);
    uint16_t v = in_u16(in);
    switch (cls >> 6)
    {
    case 0:
        return 1 + (size_t)(v % 64);
    case 1:
        return 1 + (size_t)(v % 1024);
    case 2:
        return 1 + (size_t)(v % 20000);
    default:
        switch (v % 5)
        {
        case 0:
            return 0;
        case 1:
            return SIZE_MAX - (size_t)(v >> 3) % 64;
        case 2:
            return SIZE_MAX / 2 + 1;
        case 3:
            return SIZE_MAX - 4096 - (size_t)(v >> 3) % 64;
        default:
            return 65536 + (size_t)v;     /* larger than any heap here */
        }
    }
}

static int pick_heap(struct fuzz_in *in)
{
    int h = in_u8(in) % NHEAPS;
    return heaps[h].active ? h : 0;
}

/* A live block chosen by the input, or -1 if there is none. */
static int pick_block(struct fuzz_in *in)
{
    if (nblocks == 0)
    {
        return -1;
    }
    return (int)(in_u16(in) % nblocks);
}

static void add_block(void *p, size_t size, size_t align, int h, uint8_t seed)
{
    FUZZ_REQUIRE(nblocks < MAX_BLOCKS, "model full");
    struct blk *b = &blocks[nblocks++];
    b->p = p;
    b->size = size;
    b->align = align;
    b->heap = h;
    b->seed = seed;
    fill(b, 0, size);
}

/* A returned block must not start on a live one (the full overlap check
 * follows in verify_all, this gives the sharper message). */
static void expect_fresh(const void *p, int h, const char *what)
{
    int k = block_at(p);
    FUZZ_REQUIRE(k < 0, "%s on heap %d returned %p, which is live (heap %d)", what, h, p,
                 k >= 0 ? blocks[k].heap : -1);
}

static void op_alloc(struct fuzz_in *in)
{
    int h = pick_heap(in);
    size_t n = pick_size(in);
    uint8_t seed = in_u8(in);
    if (nblocks >= MAX_BLOCKS)
    {
        return;
    }
    unsigned long before = fuzz_reports;
    void *p = h_alloc(h, n);
    if (n == 0 || n > heaps[h].largest)
    {
        FUZZ_REQUIRE(p == OS_NULL, "alloc(%zu) on heap %d returned %p", n, h, p);
        return;
    }
    if (p != OS_NULL)
    {
        FUZZ_REQUIRE(fuzz_reports == before, "a successful alloc(%zu) on heap %d reported", n, h);
        expect_fresh(p, h, "alloc");
        add_block(p, n, 0, h, seed);
    }
}

static void op_aligned(struct fuzz_in *in)
{
    static const size_t aligns[] = {0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096,
                                    3, 6, 12, 24, 48, 100, 4095, 4097, 3 << 10, SIZE_MAX};
    int h = pick_heap(in);
    size_t align = aligns[in_u8(in) % (sizeof aligns / sizeof aligns[0])];
    size_t n = pick_size(in);
    uint8_t seed = in_u8(in);
    int power = align != 0 && (align & (align - 1)) == 0;
    if (nblocks >= MAX_BLOCKS)
    {
        return;
    }
    unsigned long before = fuzz_reports;
    os_meminfo_t i0, i1;
    os_memheap_info(heaps[h].h, &i0);
    void *p = h_aligned(h, align, n);
    if (align != 0 && !power)
    {
        FUZZ_REQUIRE(p == OS_NULL, "aligned(%zu, %zu) on heap %d returned %p", align, n, h, p);
        FUZZ_REQUIRE(fuzz_reports == before + 1, "aligned(%zu, %zu): %lu reports, expected 1", align, n,
                     fuzz_reports - before);
        os_memheap_info(heaps[h].h, &i1);
        FUZZ_REQUIRE(i1.mem_used == i0.mem_used, "a refused aligned alloc changed mem_used");
        return;
    }
    if (n == 0 || n > heaps[h].largest + ALIGNED_SLACK)
    {
        FUZZ_REQUIRE(p == OS_NULL, "aligned(%zu, %zu) on heap %d returned %p", align, n, h, p);
        return;
    }
    if (p != OS_NULL)
    {
        FUZZ_REQUIRE(fuzz_reports == before, "a successful aligned(%zu, %zu) on heap %d reported", align,
                     n, h);
        expect_fresh(p, h, "aligned alloc");
        add_block(p, n, align, h, seed);
    }
}

static void op_calloc(struct fuzz_in *in)
{
#ifdef OS_USING_SYS_HEAP
    size_t count, size;
    uint8_t kind = in_u8(in);
    uint16_t v = in_u16(in);
    uint8_t seed = in_u8(in);
    if (!heaps[SYS].active || nblocks >= MAX_BLOCKS)
    {
        return;
    }
    switch (kind % 4)
    {
    case 0:     /* count * size overflows */
        count = SIZE_MAX / 2 + 1 + (v % 7);
        size = 2 + (v >> 12);
        break;
    case 1:
        count = 0;
        size = 1 + v % 100;
        break;
    default:
        count = 1 + v % 64;
        size = 1 + (v >> 6) % 256;
        break;
    }
    uint8_t *p = os_calloc(count, size);
    if (count == 0 || (size != 0 && count > SIZE_MAX / size))
    {
        FUZZ_REQUIRE(p == OS_NULL, "calloc(%zu, %zu) returned %p", count, size, (void *)p);
        return;
    }
    if (p == OS_NULL)
    {
        return;
    }
    expect_fresh(p, SYS, "calloc");
    for (size_t i = 0; i < count * size; i++)
    {
        FUZZ_REQUIRE(p[i] == 0, "calloc(%zu, %zu) = %p: byte %zu is 0x%02x", count, size, (void *)p, i,
                     p[i]);
    }
    add_block(p, count * size, 0, SYS, seed);
#else
    (void)in_u32(in);
#endif
}

static void op_free(struct fuzz_in *in)
{
    int k = pick_block(in);
    if (k < 0)
    {
        return;
    }
    struct blk b = blocks[k];
    unsigned long before = fuzz_reports;
    h_free(b.heap, b.p);
    FUZZ_REQUIRE(fuzz_reports == before, "freeing live block %p of heap %d reported", (void *)b.p, b.heap);
    drop_block((unsigned)k);
    remember_freed(b.p, b.heap);
}

/* realloc: mode 0 grow, 1 shrink, 2 to 0, 3 from NULL, 4 too large. */
static void op_realloc(struct fuzz_in *in)
{
    uint8_t mode = in_u8(in) % 5;
    uint16_t delta = in_u16(in);
    uint8_t seed = in_u8(in);

    if (mode == 3)
    {
        int h = pick_heap(in);
        size_t n = 1 + delta % 3000;
        if (nblocks >= MAX_BLOCKS)
        {
            return;
        }
        unsigned long before = fuzz_reports;
        void *p = h_realloc(h, OS_NULL, n);
        if (n > heaps[h].largest)
        {
            FUZZ_REQUIRE(p == OS_NULL, "realloc(NULL, %zu) on heap %d returned %p", n, h, p);
        }
        if (p != OS_NULL)
        {
            FUZZ_REQUIRE(fuzz_reports == before, "realloc(NULL, %zu) on heap %d reported", n, h);
            expect_fresh(p, h, "realloc(NULL)");
            add_block(p, n, 0, h, seed);
        }
        return;
    }

    int k = pick_block(in);
    if (k < 0)
    {
        return;
    }
    struct blk *b = &blocks[k];
    size_t n;
    switch (mode)
    {
    case 0:
        n = b->size + 1 + delta % 4096;
        break;
    case 1:
        n = b->size > 1 ? b->size - 1 - delta % (b->size - 1) : 1;
        break;
    case 2:
        n = 0;
        break;
    default:
        n = (delta & 1) ? SIZE_MAX - (delta >> 1) % 64 : heaps[b->heap].largest + ALIGNED_SLACK + 1 + delta;
        break;
    }

    unsigned long before = fuzz_reports;
    os_meminfo_t i0, i1;
    os_memheap_info(heaps[b->heap].h, &i0);
    uint8_t *p = h_realloc(b->heap, b->p, n);
    if (n == 0)
    {
        FUZZ_REQUIRE(p == OS_NULL, "realloc(%p, 0) returned %p", (void *)b->p, (void *)p);
        FUZZ_REQUIRE(fuzz_reports == before, "realloc(%p, 0) reported", (void *)b->p);
        remember_freed(b->p, b->heap);
        drop_block((unsigned)k);
        return;
    }
    if (p == OS_NULL)
    {
        /* refused: the old block is untouched (checked by verify_all) */
        os_memheap_info(heaps[b->heap].h, &i1);
        FUZZ_REQUIRE(i1.mem_used == i0.mem_used, "a failed realloc(%p, %zu) changed mem_used %zu -> %zu",
                     (void *)b->p, n, i0.mem_used, i1.mem_used);
        FUZZ_REQUIRE(mode != 1, "shrinking %p from %zu to %zu bytes failed", (void *)b->p, b->size, n);
        return;
    }
    FUZZ_REQUIRE(fuzz_reports == before, "a successful realloc(%p, %zu) reported", (void *)b->p, n);
    if (p != b->p)
    {
        expect_fresh(p, b->heap, "realloc");
        remember_freed(b->p, b->heap);
    }
    uint8_t *old = b->p;
    size_t keep = n < b->size ? n : b->size;
    b->p = p;
    expect_pattern(b, keep, old == p ? "realloc in place" : "realloc moved");
    b->size = n;
    (void)seed;
    fill(b, keep, n);
}

/* Bad frees: each must be reported once and change nothing. */
static void op_bad_free(struct fuzz_in *in)
{
    uint8_t kind = in_u8(in) % 5;
    uint16_t v = in_u16(in);
    int h = pick_heap(in);
    uint8_t *p = OS_NULL;

    switch (kind)
    {
    case 0:     /* interior pointer of a live block */
        if (nblocks == 0)
        {
            return;
        }
        {
            struct blk *b = &blocks[v % nblocks];
            if (b->size < 2)
            {
                return;
            }
            h = b->heap;
            p = b->p + 1 + (size_t)(v >> 4) % (b->size - 1);
        }
        break;
    case 1:     /* an address freed earlier that is no live block now */
        if (nfreed == 0)
        {
            return;
        }
        {
            unsigned n = nfreed < NFREED ? nfreed : NFREED;
            unsigned j = v % n;
            p = freed[j].p;
            h = freed[j].heap;
        }
        break;
    case 2:     /* memory no heap knows */
        p = foreign_mem + v % sizeof foreign_mem;
        break;
    case 3:     /* a live block of another heap */
        if (nblocks == 0)
        {
            return;
        }
        {
            struct blk *b = &blocks[v % nblocks];
            int other = (b->heap + 1 + (v >> 8) % (NHEAPS - 1)) % NHEAPS;
            if (!heaps[other].active)
            {
                return;
            }
            p = b->p;
            h = other;
        }
        break;
    default:    /* inside a region's control data */
        p = heaps[h].lo[v % heaps[h].nregions] + (v >> 4) % 64;
        break;
    }
    if (block_at(p) >= 0 && blocks[block_at(p)].heap == h)
    {
        return;     /* that is a legitimate free */
    }

    os_meminfo_t i0, i1;
    os_memheap_info(heaps[h].h, &i0);
    unsigned long before = fuzz_reports;
    h_free(h, p);
    FUZZ_REQUIRE(fuzz_reports == before + 1, "bad free (kind %u) of %p on heap %d: %lu reports, expected 1",
                 kind, (void *)p, h, fuzz_reports - before);
    os_memheap_info(heaps[h].h, &i1);
    FUZZ_REQUIRE(memcmp(&i0, &i1, sizeof i0) == 0, "bad free (kind %u) of %p changed heap %d's statistics",
                 kind, (void *)p, h);
    FUZZ_REQUIRE(os_memheap_usable_size(heaps[h].h, p) == 0,
                 "usable_size of bad pointer %p on heap %d is not 0", (void *)p, h);
    fuzz_reports = before;      /* usable_size may report too */
}

static void op_usable(struct fuzz_in *in)
{
    int k = pick_block(in);
    if (k < 0)
    {
        return;
    }
    struct blk *b = &blocks[k];
    size_t u = os_memheap_usable_size(heaps[b->heap].h, b->p);
    FUZZ_REQUIRE(u >= b->size, "usable_size(%p) = %zu < %zu asked", (void *)b->p, u, b->size);
    /* the whole usable size may be written */
    for (size_t i = b->size; i < u; i++)
    {
        b->p[i] = (uint8_t)~pat(b->seed, i);
    }
}

/* ---- the driver ---------------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};

    static int once;
    if (!once)
    {
        pattern_init();
        once = 1;
    }
    os_mem_set_error_hook(fuzz_hook);
    fuzz_reports = 0;
    setup(&in);
    verify_all();

    for (unsigned op = 0; op < MAX_OPS && in_more(&in); op++)
    {
        uint8_t code = in_u8(&in);
        switch (code % 12)
        {
        case 0:
        case 1:
        case 2:
            op_alloc(&in);
            break;
        case 3:
            op_aligned(&in);
            break;
        case 4:
        case 5:
            op_free(&in);
            break;
        case 6:
        case 7:
            op_realloc(&in);
            break;
        case 8:
            if (FUZZ_BAD_FREES)
            {
                op_bad_free(&in);
            }
            else
            {
                (void)in_u32(&in);
            }
            break;
        case 9:
            op_calloc(&in);
            break;
        case 10:
            op_usable(&in);
            break;
        default:
            check_all();
            break;
        }
        fuzz_reports = 0;
        verify_all();
        if (op % CHECK_EVERY == CHECK_EVERY - 1)
        {
            check_all();
        }
    }

    /* free everything: the heaps must be as fresh */
    check_all();
    while (nblocks > 0)
    {
        struct blk b = blocks[nblocks - 1];
        h_free(b.heap, b.p);
        nblocks--;
    }
    FUZZ_REQUIRE(fuzz_reports == 0, "freeing every live block reported");
    verify_all();
    check_all();
    for (int h = 0; h < NHEAPS; h++)
    {
        if (!heaps[h].active)
        {
            continue;
        }
        os_meminfo_t info;
        os_memheap_info(heaps[h].h, &info);
        FUZZ_REQUIRE(info.mem_used == 0, "heap %d: mem_used %zu after freeing everything", h, info.mem_used);
        void *p = h_alloc(h, heaps[h].largest);
        FUZZ_REQUIRE(p != OS_NULL, "heap %d: the largest block (%zu bytes) is not back", h, heaps[h].largest);
        h_free(h, p);
    }
    check_all();
    teardown();
    return 0;
}
