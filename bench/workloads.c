/*
 * workloads.c - the benchmark workloads.
 *
 * Every workload starts on a fresh heap (bench_fresh_heap() is called by the
 * driver), makes its measured calls through bench->m_*, frees every block it
 * still holds and returns. Random numbers come from one xorshift64* stream
 * with a fixed seed per workload, drawn outside the measured windows.
 * Bookkeeping uses static arrays only, so the glibc reference heap holds
 * nothing but the blocks under test.
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>

#define SEED (0x0DDB1A5E5BAD5EEDu ^ bench_seed)

/* ---- empty: calibration of the measurement window ----------------------------------- */

static int wl_empty(const struct bench_params *p, struct bench_result *res)
{
    unsigned long n = p->quick ? 1000 : 100000;
    for (unsigned long i = 0; i < n; i++)
        m_empty();
    res->calls = bench_calls;
    return 0;
}

/* ---- pairs: alloc/free pairs, sizes uniform 8..512 ------------------------------------ */

#define PAIRS_N 100000
static uint16_t pairs_size[PAIRS_N];

static int wl_pairs(const struct bench_params *p, struct bench_result *res)
{
    size_t n = p->quick ? 5000 : PAIRS_N;
    struct rng r;
    rng_seed(&r, SEED);
    for (size_t i = 0; i < n; i++)
        pairs_size[i] = (uint16_t)rng_uniform(&r, 8, 512);

    for (size_t i = 0; i < n; i++)
    {
        size_t sz = pairs_size[i];
        void *b = bench->m_alloc(sz);
        if (!b)
        {
            res->failed++;
            continue;
        }
        blk_take(b, sz, 0, (unsigned)i);
        blk_verify(b, sz, (unsigned)i);
        bench->m_free(b);
    }
    res->calls = bench_calls;
    return 0;
}

/* ---- mix: up to 1000 live blocks, sizes log-uniform 8..4096 ---------------------------- */

#define MIX_LIVE_MAX 1000
static void    *mix_ptr[MIX_LIVE_MAX];
static size_t   mix_size[MIX_LIVE_MAX];
static unsigned mix_tag[MIX_LIVE_MAX];

static int wl_mix(const struct bench_params *p, struct bench_result *res)
{
    unsigned long ops = p->quick ? 10000 : 200000;
    size_t live = 0;
    unsigned tag = 0;
    struct rng r;
    rng_seed(&r, SEED ^ 0x1);

    for (unsigned long op = 0; op < ops; op++)
    {
        int coin = (int)(rng_next(&r) >> 63);
        if (live == 0 || (live < MIX_LIVE_MAX && coin))
        {
            size_t sz = rng_loguniform(&r, 8, 4096);
            void *b = bench->m_alloc(sz);
            if (!b)
            {
                res->failed++;
                continue;
            }
            blk_take(b, sz, 0, tag);
            mix_ptr[live] = b;
            mix_size[live] = sz;
            mix_tag[live] = tag++;
            live++;
        }
        else
        {
            size_t k = rng_below(&r, (uint32_t)live);
            blk_verify(mix_ptr[k], mix_size[k], mix_tag[k]);
            bench->m_free(mix_ptr[k]);
            live--;
            mix_ptr[k] = mix_ptr[live];
            mix_size[k] = mix_size[live];
            mix_tag[k] = mix_tag[live];
        }
    }
    while (live > 0)
    {
        live--;
        blk_verify(mix_ptr[live], mix_size[live], mix_tag[live]);
        bench->m_free(mix_ptr[live]);
    }
    res->calls = bench_calls;
    return 0;
}

/* ---- fill: utilisation, sizes log-uniform 16..2048 ------------------------------------------ */

#define FILL_MAX 65536
static void    *fill_ptr[FILL_MAX];
static size_t   fill_size[FILL_MAX];
static unsigned fill_tag[FILL_MAX];

/*
 * Allocate until max_fail requests in a row have failed (oneheap; a failed
 * request is skipped), or until the next block would take the requested
 * bytes past the arena size (glibc, which never fails). Returns the new
 * number of live blocks.
 */
static size_t fill_until_full(const struct bench_params *p, struct bench_result *res,
                              struct rng *r, size_t live, size_t *requested, unsigned *tag,
                              unsigned max_fail)
{
    unsigned fails = 0;

    for (;;)
    {
        size_t sz = rng_loguniform(r, 16, 2048);
        if (p->glibc && *requested + sz > BENCH_ARENA_SIZE)
            return live;
        if (live == FILL_MAX)
        {
            bench_fail("fill: more blocks than the bookkeeping holds", NULL, live);
            return live;
        }
        void *b = bench->m_alloc(sz);
        if (!b)
        {
            res->failed++;
            if (++fails >= max_fail)
                return live;
            continue;
        }
        fails = 0;
        blk_take(b, sz, 0, *tag);
        fill_ptr[live] = b;
        fill_size[live] = sz;
        fill_tag[live] = (*tag)++;
        live++;
        *requested += sz;
    }
}

static int wl_fill(const struct bench_params *p, struct bench_result *res)
{
    struct rng r;
    size_t live = 0, requested = 0, used = 0, total = 0;
    unsigned tag = 0;
    rng_seed(&r, SEED ^ 0x2);

    live = fill_until_full(p, res, &r, live, &requested, &tag, 1);
    bench_info(&total, &used, NULL);
    res->util_fill = (double)requested / (double)BENCH_ARENA_SIZE;
    res->fill_blocks = live;
    res->used_fill = used;
    res->mem_total = total;

    /* Free every other block in allocation order; keep the rest in order. */
    size_t kept = 0;
    for (size_t i = 0; i < live; i++)
    {
        if (i % 2 == 0)
        {
            blk_verify(fill_ptr[i], fill_size[i], fill_tag[i]);
            bench->m_free(fill_ptr[i]);
            requested -= fill_size[i];
        }
        else
        {
            fill_ptr[kept] = fill_ptr[i];
            fill_size[kept] = fill_size[i];
            fill_tag[kept] = fill_tag[i];
            kept++;
        }
    }
    live = fill_until_full(p, res, &r, kept, &requested, &tag, 1);
    bench_info(NULL, &used, NULL);
    res->util_refill = (double)requested / (double)BENCH_ARENA_SIZE;
    res->refill_blocks = live;
    res->used_refill = used;
    /* Go on, skipping failed requests, until 100 in a row fail. */
    live = fill_until_full(p, res, &r, live, &requested, &tag, 100);
    res->util_exhaust = (double)requested / (double)BENCH_ARENA_SIZE;
    res->has_util = !p->glibc;

    for (size_t i = 0; i < live; i++)
    {
        blk_verify(fill_ptr[i], fill_size[i], fill_tag[i]);
        bench->m_free(fill_ptr[i]);
    }
    res->calls = bench_calls;
    return 0;
}

/* ---- realloc: growth chains 16 -> ~8192 ----------------------------------------------------- */

/*
 * 2000 chains; REALLOC_LANES of them grow at the same time, one step each
 * in turn, so a block's successor is often another live chain and a growth
 * cannot always happen in place.
 */
#define REALLOC_LANES 8
#define REALLOC_LIMIT 8192

static int wl_realloc(const struct bench_params *p, struct bench_result *res)
{
    unsigned chains = p->quick ? 100 : 2000;
    unsigned started = 0, finished = 0;
    void *lane_ptr[REALLOC_LANES] = { 0 };
    size_t lane_size[REALLOC_LANES] = { 0 };
    unsigned lane_tag[REALLOC_LANES] = { 0 };
    struct rng r;
    rng_seed(&r, SEED ^ 0x3);

    while (finished < chains)
    {
        for (unsigned l = 0; l < REALLOC_LANES; l++)
        {
            if (!lane_ptr[l])
            {
                if (started == chains)
                    continue;
                unsigned tag = started++;
                void *b = bench->m_alloc(16);
                if (!b)
                {
                    res->failed++;
                    finished++;
                    continue;
                }
                blk_take(b, 16, 0, tag);
                lane_ptr[l] = b;
                lane_size[l] = 16;
                lane_tag[l] = tag;
                continue;
            }
            size_t grow = lane_size[l] + lane_size[l] / 2 + rng_uniform(&r, 0, 15);
            if (grow > REALLOC_LIMIT)
            {
                blk_verify(lane_ptr[l], lane_size[l], lane_tag[l]);
                bench->m_free(lane_ptr[l]);
                lane_ptr[l] = NULL;
                finished++;
                continue;
            }
            void *b = bench->m_realloc(lane_ptr[l], grow);
            if (!b)
            {
                /* The old block is untouched: end the chain. */
                res->failed++;
                blk_verify(lane_ptr[l], lane_size[l], lane_tag[l]);
                bench->m_free(lane_ptr[l]);
                lane_ptr[l] = NULL;
                finished++;
                continue;
            }
            /* The old contents must have moved with the block. */
            blk_verify(b, lane_size[l], lane_tag[l]);
            blk_take(b, grow, 0, lane_tag[l]);
            lane_ptr[l] = b;
            lane_size[l] = grow;
        }
    }
    res->calls = bench_calls;
    return 0;
}

/* ---- aligned: aligned allocations with short lifetimes -------------------------------------- */

#define ALIGNED_SLOTS 64

static int wl_aligned(const struct bench_params *p, struct bench_result *res)
{
    unsigned long n = p->quick ? 2000 : 20000;
    void *slot_ptr[ALIGNED_SLOTS] = { 0 };
    size_t slot_size[ALIGNED_SLOTS] = { 0 };
    unsigned slot_tag[ALIGNED_SLOTS] = { 0 };
    struct rng r;
    rng_seed(&r, SEED ^ 0x4);

    for (unsigned long i = 0; i < n; i++)
    {
        /* A random slot: its block (if any) dies, a new one takes its place. */
        unsigned j = rng_below(&r, ALIGNED_SLOTS);
        size_t align = (size_t)1 << rng_uniform(&r, 4, 12);
        size_t sz = rng_uniform(&r, 8, 512);
        if (slot_ptr[j])
        {
            blk_verify(slot_ptr[j], slot_size[j], slot_tag[j]);
            bench->m_free(slot_ptr[j]);
            slot_ptr[j] = NULL;
        }
        void *b = bench->m_aligned(align, sz);
        if (!b)
        {
            res->failed++;
            continue;
        }
        blk_take(b, sz, align, (unsigned)i);
        slot_ptr[j] = b;
        slot_size[j] = sz;
        slot_tag[j] = (unsigned)i;
    }
    for (unsigned j = 0; j < ALIGNED_SLOTS; j++)
    {
        if (slot_ptr[j])
        {
            blk_verify(slot_ptr[j], slot_size[j], slot_tag[j]);
            bench->m_free(slot_ptr[j]);
        }
    }
    res->calls = bench_calls;
    return 0;
}

/* ---- worst-case single operations ---------------------------------------------------------- */

#define HOLES_MAX 4096
static void  *hole_ptr[HOLES_MAX];
static void  *sep_ptr[HOLES_MAX];
static size_t hole_n;

/* Unmeasured allocation used to build a heap; a failure ends the run. */
static void *build_alloc(size_t sz)
{
    void *b = bench->u_alloc(sz);
    if (!b)
        bench_fail("could not build the adversarial heap", NULL, sz);
    return b;
}

/*
 * Lay out holes of the given sizes in address order, each followed by a
 * 16-byte used separator so that no two holes can merge, then free the
 * holes. The rest of the heap stays one large free block.
 */
static void build_holes(const size_t *sizes, size_t n)
{
    hole_n = 0;
    for (size_t i = 0; i < n && i < HOLES_MAX; i++)
    {
        hole_ptr[i] = build_alloc(sizes[i]);
        sep_ptr[i] = build_alloc(16);
        hole_n++;
    }
    for (size_t i = 0; i < hole_n; i++)
        bench->u_free(hole_ptr[i]);
}

static void release_holes(void)
{
    for (size_t i = 0; i < hole_n; i++)
        bench->u_free(sep_ptr[i]);
    hole_n = 0;
}

/* Measure one allocation, then free it unmeasured. */
static void measure_one_alloc(struct bench_result *res, size_t sz)
{
    void *b = bench->m_alloc(sz);
    if (!b)
        res->failed++;
    else
    {
        blk_take(b, sz, 0, 1);
        blk_verify(b, sz, 1);
        bench->u_free(b);
    }
    res->calls = bench_calls;
}

/* worst_alloc: 1024 unmergeable 32-byte holes in front of the large free block. */
static int wl_worst_alloc(const struct bench_params *p, struct bench_result *res)
{
    (void)p;
    static void *blk[2048];
    for (size_t i = 0; i < 2048; i++)
        blk[i] = build_alloc(32);
    for (size_t i = 0; i < 2048; i += 2)
        bench->u_free(blk[i]);
    measure_one_alloc(res, 256);
    for (size_t i = 1; i < 2048; i += 2)
        bench->u_free(blk[i]);
    return 0;
}

/*
 * worst_free_<v>: free B in  [used][A free][B][C free][guard]  with A and C
 * in different size classes, so the free merges on both sides.
 *   0: just that;
 *   1: 100 other free blocks of A's size and of C's size, freed after A and C;
 *   2: the same, freed before A and C;
 *   3: no guard: C is part of the large free block at the end of the heap.
 */
#define WF_A 100
#define WF_B 64
#define WF_C 3000

static int wl_worst_free(const struct bench_params *p, struct bench_result *res)
{
    int variant = p->variant;
    size_t nother = (variant == 1 || variant == 2) ? 100 : 0;
    static void *other_a[100], *other_c[100], *other_sep[200];

    for (size_t i = 0; i < nother; i++)
    {
        other_a[i] = build_alloc(WF_A);
        other_sep[2 * i] = build_alloc(16);
        other_c[i] = build_alloc(WF_C);
        other_sep[2 * i + 1] = build_alloc(16);
    }
    void *s = build_alloc(16);
    void *a = build_alloc(WF_A);
    void *b = build_alloc(WF_B);
    void *c = build_alloc(WF_C);
    /* Variant 3: no guard, the large free block follows C directly. */
    void *g = variant == 3 ? NULL : build_alloc(16);
    if (variant == 2)
        for (size_t i = 0; i < nother; i++)
        {
            bench->u_free(other_a[i]);
            bench->u_free(other_c[i]);
        }
    bench->u_free(a);
    bench->u_free(c);
    if (variant == 1)
        for (size_t i = 0; i < nother; i++)
        {
            bench->u_free(other_a[i]);
            bench->u_free(other_c[i]);
        }

    if (b)
    {
        blk_take(b, WF_B, 0, 2);
        blk_verify(b, WF_B, 2);
    }
    bench->m_free(b);
    res->calls = bench_calls;

    bench->u_free(s);
    bench->u_free(g);
    for (size_t i = 0; i < 2 * nother; i++)
        bench->u_free(other_sep[i]);
    return 0;
}

/*
 * worst_free_4: the buddy algorithm's longest merge. The largest block is
 * taken, the rest of the heap is filled with the smallest blocks, the
 * largest block is freed again and the smallest block T is split off it
 * (every level down to the smallest order leaves a free buddy). Then 16
 * of the small blocks are freed, every other one, so that T's quick list
 * (at most 16 deep) is full, and T is freed: with buddy it merges back at
 * every level up to the largest block. glibc: the same calls, with the
 * fill capped at 1 MiB of requests.
 */
#define WF4_SMALL 8
#define WF4_MAX   (BENCH_ARENA_SIZE / 32u)
static void *wf4_ptr[WF4_MAX];

static int wl_worst_free_top(const struct bench_params *p, struct bench_result *res)
{
    size_t big = BENCH_ARENA_SIZE / 2;
    size_t n = 0;
    void *x = NULL, *t;

    /* the largest request that succeeds, to within 1/64 of the arena */
    while (big >= BENCH_ARENA_SIZE / 64 && (x = bench->u_alloc(big - 64)) == NULL)
        big /= 2;
    if (!x)
        bench_fail("could not build the adversarial heap", NULL, big);
    while (n < WF4_MAX && (wf4_ptr[n] = bench->u_alloc(WF4_SMALL)) != NULL)
        n++;
    (void)p;
    if (n < 33)
        bench_fail("could not build the adversarial heap", NULL, WF4_SMALL);
    bench->u_free(x);
    t = build_alloc(WF4_SMALL);
    for (size_t i = 0; i < 32; i += 2)
    {
        bench->u_free(wf4_ptr[i]);
        wf4_ptr[i] = NULL;
    }
    blk_take(t, WF4_SMALL, 0, 4);
    blk_verify(t, WF4_SMALL, 4);
    bench->m_free(t);
    res->calls = bench_calls;

    for (size_t i = 0; i < n; i++)
        if (wf4_ptr[i])
            bench->u_free(wf4_ptr[i]);
    return 0;
}

/*
 * worst_flush: the buddy algorithm's longest allocation, one that must
 * merge every quick block back first. The largest request that succeeds
 * is found (and freed), the heap is filled with blocks of 24, 56, ...,
 * 4088 bytes in turn (buddy orders 0 to 7 on 64-bit targets, 8 on 32-bit
 * ones: the orders that have quick lists) until a request fails, all are
 * freed in reverse, and the largest request is made again: the free lists
 * cannot serve it until the quick blocks are merged back. Other
 * allocators: the same calls.
 */
#define WFL_MAX (BENCH_ARENA_SIZE / 32u)
static void *wfl_ptr[WFL_MAX];

static int wl_worst_flush(const struct bench_params *p, struct bench_result *res)
{
    size_t big = BENCH_ARENA_SIZE / 2, n = 0;
    void *x = NULL;

    (void)p;
    while (big >= BENCH_ARENA_SIZE / 64 && (x = bench->u_alloc(big - 64)) == NULL)
        big /= 2;
    if (!x)
        bench_fail("could not build the adversarial heap", NULL, big);
    bench->u_free(x);
    while (n < WFL_MAX && (wfl_ptr[n] = bench->u_alloc(((size_t)32 << (n % 8)) - 8)) != NULL)
        n++;
    while (n > 0)
        bench->u_free(wfl_ptr[--n]);
    measure_one_alloc(res, big - 64);
    return 0;
}

/*
 * worst_fall_<v>: the only free block that fits is a large one in the
 * highest occupied size class, so a segregated-fit search must pass over
 * every class between the request and that block.
 *   0: fresh heap, alloc(8): every class below the large end block is empty;
 *   1: one hole in every size class 16..512 (step 1/32 of the octave),
 *      request in the class above the largest hole;
 *   2: the same for 16..4096;
 *   3: one hole per power of two, 24..196608 (1.5 * 2^k), request above;
 *   4: fresh heap, alloc(512 KiB);
 *   5: one hole in every size class 16..128, request above;
 *   6: as 2, request 8 bytes above the largest hole: its own class is not
 *      empty but its head is too small;
 *   7: as 6, and the fitting block is a 128 KiB free block (laid out
 *      first, below the holes) followed by a used block (not the end of
 *      the heap), so it is split and the rest goes back to a free list.
 */
static size_t fall_sizes[HOLES_MAX];

static size_t dense_series(size_t lo, size_t hi)
{
    size_t n = 0;
    for (size_t s = lo; s <= hi && n < HOLES_MAX; n++)
    {
        fall_sizes[n] = s;
        size_t step = s >> 5;
        s += step < 8 ? 8 : step;
    }
    return n;
}

static int wl_worst_fall(const struct bench_params *p, struct bench_result *res)
{
    int variant = p->variant;
    size_t n = 0, req = 8, top;
    switch (variant)
    {
    case 0:
        req = 8;
        break;
    case 1:
    case 2:
    case 5:
        n = dense_series(16, variant == 1 ? 512 : variant == 2 ? 4096 : 128);
        top = fall_sizes[n - 1];
        req = top + top / 16 + 16;
        break;
    case 3:
        for (size_t k = 4; k <= 17; k++)
            fall_sizes[n++] = ((size_t)3 << k) / 2;
        top = fall_sizes[n - 1];
        req = top + top / 16 + 16;
        break;
    case 4:
        req = BENCH_ARENA_SIZE / 2;
        break;
    case 6:
    case 7:
        n = dense_series(16, 4096);
        req = fall_sizes[n - 1] + 8;
        if (variant == 7)
        {
            /* the large block first, so that the small holes cannot take its place (a 32-bit
             * buddy region has less room below its top block) */
            memmove(fall_sizes + 1, fall_sizes, n * sizeof fall_sizes[0]);
            fall_sizes[0] = 131072;
            n++;
        }
        break;
    default:
        return -1;
    }
    if (n > 0)
        build_holes(fall_sizes, n);
    measure_one_alloc(res, req);
    release_holes();
    return 0;
}

/*
 * worst_refused: a request refused in a full heap whose own size class
 * holds 900 free blocks, each one 8-byte chunk too small and fenced by
 * used blocks: the O(1) search finds nothing, so the cost is first-fit's
 * walk of that class before it refuses (all of them by default; at most
 * OS_MEM_FF_SEARCH_MAX blocks when that is set). Buddy serves the request
 * from a hole; glibc fills 1 MiB and serves it too.
 */
#define REF_N     900
#define REF_HOLE  984       /* 124 chunks with an 8-byte header, the request 125: one class */

static int wl_worst_refused(const struct bench_params *p, struct bench_result *res)
{
    (void)p;
    static void *hole[REF_N], *sep[REF_N], *rest[4096];
    size_t nrest = 0, total = 0;

    for (size_t i = 0; i < REF_N; i++)
    {
        hole[i] = build_alloc(REF_HOLE);
        sep[i] = build_alloc(16);
        total += REF_HOLE + 16;
    }
    /* use up the rest (glibc, which has no fixed region: up to 1 MiB requested) */
    for (size_t sz = 65536; sz >= 8 && nrest < sizeof rest / sizeof rest[0];)
    {
        void *b = total + sz <= BENCH_ARENA_SIZE ? bench->u_alloc(sz) : NULL;
        if (!b)
        {
            sz /= 2;
            continue;
        }
        rest[nrest++] = b;
        total += sz;
    }
    for (size_t i = 0; i < REF_N; i++)
        bench->u_free(hole[i]);
    void *b = bench->m_alloc(REF_HOLE + 8);
    res->calls = bench_calls;
    res->failed = b == NULL;
    bench->u_free(b);
    for (size_t i = 0; i < REF_N; i++)
        bench->u_free(sep[i]);
    for (size_t i = 0; i < nrest; i++)
        bench->u_free(rest[i]);
    return 0;
}

/* ---- pool_pairs: fixed-size pool, os_mp_alloc(OS_NO_WAIT) / os_mp_free pairs ------------------ */

/*
 * A pool of 64-byte blocks on a static array; 100000 pairs, with 8 blocks
 * held throughout and 8 more on the free list (every measured call takes
 * the fast path: no block is carved while measuring). glibc
 * (no pools) runs malloc(64) / free pairs instead, as a reference. At the
 * end os_mp_check() must pass and every block must be free again.
 */
#define POOL_BLK   64
#define POOL_HELD  8

#ifdef OS_USING_MEM_POOL
static int wl_pool_pairs(const struct bench_params *p, struct bench_result *res)
{
    size_t n = p->quick ? 5000 : PAIRS_N;
    void *held[2 * POOL_HELD];
    int rc = 0;

    if (p->glibc)
    {
        for (size_t i = 0; i < n; i++)
        {
            void *b = bench->m_alloc(POOL_BLK);
            if (!b)
            {
                res->failed++;
                continue;
            }
            blk_take(b, POOL_BLK, 0, (unsigned)i);
            blk_verify(b, POOL_BLK, (unsigned)i);
            bench->m_free(b);
        }
        res->calls = bench_calls;
        return 0;
    }
    static _Alignas(64) unsigned char pool_mem[64 * 1024];
    static os_mp_t pool;
    os_mpinfo_t info;

    if (os_mp_init(&pool, "bench_pool", pool_mem, sizeof pool_mem, POOL_BLK) != OS_EOK)
    {
        bench_fail("pool_pairs: os_mp_init failed", pool_mem, sizeof pool_mem);
        return -1;
    }
    for (size_t i = 0; i < 2 * POOL_HELD; i++)
        held[i] = os_mp_alloc(&pool, OS_NO_WAIT);
    for (size_t i = POOL_HELD; i < 2 * POOL_HELD; i++)
        os_mp_free(&pool, held[i]);
    for (size_t i = 0; i < n; i++)
    {
        void *b = m_mp_alloc(&pool);
        if (!b)
        {
            res->failed++;
            continue;
        }
        if ((uintptr_t)b % OS_MEM_ALIGN_SIZE != 0 || (unsigned char *)b < pool_mem ||
            (unsigned char *)b + POOL_BLK > pool_mem + sizeof pool_mem)
            bench_fail("pool_pairs: bad block", b, i);
        memset(b, (int)(i & 0xFF), POOL_BLK);
        m_mp_free(&pool, b);
    }
    for (size_t i = 0; i < POOL_HELD; i++)
        os_mp_free(&pool, held[i]);
    if (os_mp_check(&pool) != OS_EOK || os_mp_info(&pool, &info) != OS_EOK ||
        info.blk_free_num != info.blk_total_num || info.blk_maxused_num != 2 * POOL_HELD)
    {
        bench_fail("pool_pairs: pool unsound at the end", &pool, info.blk_free_num);
        rc = -1;
    }
    if (os_mp_deinit(&pool) != OS_EOK)
        rc = -1;
    res->calls = bench_calls;
    return rc;
}
#endif

/* ---- table ---------------------------------------------------------------------------------- */

const struct workload bench_workloads[] = {
    { "empty",        wl_empty,        0, "calibration: empty measurement windows" },
    { "pairs",        wl_pairs,        0, "100000 alloc/free pairs, sizes 8..512" },
    { "mix",          wl_mix,          0, "200000 random alloc/free, <= 1000 live, sizes 8..4096 log" },
    { "fill",         wl_fill,         0, "fill to failure, free every other, refill; sizes 16..2048 log" },
    { "realloc",      wl_realloc,      0, "2000 realloc growth chains 16..8192, 8 at a time" },
    { "aligned",      wl_aligned,      0, "20000 aligned allocs, align 16..4096, sizes 8..512, <= 64 live" },
    { "worst_alloc",  wl_worst_alloc,  0, "alloc(256) behind 1024 unmergeable 32-byte holes" },
    { "worst_free_0", wl_worst_free,   0, "free between two free neighbours" },
    { "worst_free_1", wl_worst_free,   1, "same, neighbours oldest in populated lists" },
    { "worst_free_2", wl_worst_free,   2, "same, neighbours newest in populated lists" },
    { "worst_free_3", wl_worst_free,   3, "same, right neighbour is the large end block" },
    { "worst_free_4", wl_worst_free_top, 4, "smallest block split off the largest, freed with its quick list full" },
    { "worst_flush",  wl_worst_flush,  0, "largest block after blocks of 24..4088 B filled the heap and were freed" },
    { "worst_fall_0", wl_worst_fall,   0, "fresh heap, alloc(8)" },
    { "worst_fall_1", wl_worst_fall,   1, "holes in every class 16..512, request above" },
    { "worst_fall_2", wl_worst_fall,   2, "holes in every class 16..4096, request above" },
    { "worst_fall_3", wl_worst_fall,   3, "one hole per octave 24..196608, request above" },
    { "worst_fall_4", wl_worst_fall,   4, "fresh heap, alloc(512 KiB)" },
    { "worst_fall_5", wl_worst_fall,   5, "holes in every class 16..128, request above" },
    { "worst_fall_6", wl_worst_fall,   6, "holes in every class 16..4096, request largest + 8" },
    { "worst_fall_7", wl_worst_fall,   7, "as 6, fit is a listed 128 KiB block that is split" },
    { "worst_refused", wl_worst_refused, 0, "alloc refused: 900 blocks one chunk too small in its class" },
#ifdef OS_USING_MEM_POOL
    { "pool_pairs",   wl_pool_pairs,   0, "100000 os_mp_alloc(OS_NO_WAIT)/os_mp_free pairs, 64-byte blocks" },
#endif
};

const size_t bench_workload_count = sizeof bench_workloads / sizeof bench_workloads[0];
