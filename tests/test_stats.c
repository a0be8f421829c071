/*
 * test_stats.c - the extended statistics (os_memheap_get_stats,
 * os_memheap_region_stats) against a model of the calls and a walk of the
 * blocks, over every layout of algorithms: counts of blocks handed out and
 * taken back, live blocks, refused requests, the largest request, free
 * blocks and the largest free block, the fragmentation figure, and the
 * per-region figures summing to the heap's; check() (which cross-checks
 * the counts against a walk) stays happy throughout. Also the refusals of a
 * bad struct.
 */
#include <string.h>

#include "common.h"

#ifndef OS_MEM_STATS
int main(void)
{
    return TEST_SKIP_CODE;
}
#else

#define NREG   3
#define REG    (40 * 1024)
#define SLOTS  96

static _Alignas(64) unsigned char arena[NREG * (REG + 64)];
static os_memheap_t heap;

struct model
{
    size_t allocs, frees, failed, peak_request;
    void  *p[SLOTS];
};

struct walked
{
    size_t used_bytes, used_blocks, free_blocks, largest_free;
    const void *region;         /* only this region, or OS_NULL for all */
};

static int walk_cb(const struct os_memheap_block *b, void *arg)
{
    struct walked *w = arg;

    if (w->region != OS_NULL && b->region_start != w->region)
        return 0;
    if (b->used)
    {
        w->used_blocks++;
        w->used_bytes += b->total;
    }
    else
    {
        w->free_blocks++;
        if (b->total > w->largest_free)
            w->largest_free = b->total;
    }
    return 0;
}

static os_memheap_stats_t fresh(void)
{
    os_memheap_stats_t st;

    memset(&st, 0xA5, sizeof st);
    st.version = OS_MEMHEAP_STATS_VERSION;
    st.size = sizeof st;
    return st;
}

static void compare(const struct model *m)
{
    os_memheap_stats_t st = fresh(), rs;
    struct walked w = { 0, 0, 0, 0, OS_NULL };
    size_t allocs = 0, frees = 0, used = 0, blocks = 0, largest = 0, free_blocks = 0;
    os_meminfo_t info = heap_info(&heap);

    CHECK_EQ(os_memheap_get_stats(&heap, &st), OS_EOK);
    CHECK_EQ(os_memheap_walk(&heap, walk_cb, &w), OS_EOK);
    CHECK_EQ(st.mem_total, info.mem_total);
    CHECK_EQ(st.mem_used, info.mem_used);
    CHECK_EQ(st.mem_maxused, info.mem_maxused);
    CHECK_EQ(st.mem_used, w.used_bytes);
    CHECK_EQ(st.free_bytes, st.mem_total - st.mem_used);
    CHECK_EQ(st.used_blocks, w.used_blocks);
    CHECK_EQ(st.free_blocks, w.free_blocks);
    CHECK_EQ(st.largest_free, w.largest_free);
    CHECK_EQ(st.alloc_count, m->allocs);
    CHECK_EQ(st.free_count, m->frees);
    CHECK_EQ(st.failed_count, m->failed);
    CHECK_EQ(st.peak_request, m->peak_request);
    CHECK_EQ(st.frag_permille, st.free_bytes == 0 ? 0u
             : (os_uint32_t)(1000u - (uint64_t)st.largest_free * 1000u / st.free_bytes));
    /* the regions add up to the heap */
    for (os_size_t i = 0;; i++)
    {
        rs = fresh();
        os_err_t e = os_memheap_region_stats(&heap, i, &rs);
        if (e == OS_ENOMEM)
        {
            CHECK_EQ(i, NREG);
            break;
        }
        CHECK_EQ(e, OS_EOK);
        allocs += rs.alloc_count;
        frees += rs.free_count;
        used += rs.mem_used;
        blocks += rs.used_blocks;
        free_blocks += rs.free_blocks;
        if (rs.largest_free > largest)
            largest = rs.largest_free;
        CHECK_EQ(rs.mem_maxused, 0);
        CHECK_EQ(rs.peak_request, 0);
    }
    CHECK_EQ(allocs, st.alloc_count);
    CHECK_EQ(frees, st.free_count);
    CHECK_EQ(used, st.mem_used);
    CHECK_EQ(blocks, st.used_blocks);
    CHECK_EQ(free_blocks, st.free_blocks);
    CHECK_EQ(largest, st.largest_free);
}

static void note(struct model *m, size_t size)
{
    if (size > m->peak_request)
        m->peak_request = size;
}

static void run(const struct test_layout *l, uint64_t seed)
{
    struct model m;
    test_rng_t r;

    memset(&m, 0, sizeof m);
    rng_seed(&r, seed);
    heap_open(&heap, "stats");
    for (unsigned k = 0; k < NREG; k++)
        heap_add_ok(&heap, arena + 64 + k * (REG + 64), REG, test_layout_alg(l, k));
    compare(&m);
    for (int op = 0; op < 6000; op++)
    {
        unsigned i = rng_below(&r, SLOTS);
        unsigned what = rng_below(&r, 10);
        size_t size = rng_below(&r, 8) == 0 ? rng_range(&r, 8192, 65536) : rng_range(&r, 1, 2000);

        if (m.p[i] == NULL && what < 6)
        {
            note(&m, size);
            m.p[i] = what == 5 ? os_memheap_aligned_alloc(&heap, (size_t)64 << rng_below(&r, 5), size)
                               : os_memheap_alloc(&heap, size);
            if (m.p[i] != NULL)
                m.allocs++;
            else
                m.failed++;
        }
        else if (m.p[i] != NULL && what < 8)
        {
            void *q;

            note(&m, size);
            q = os_memheap_realloc(&heap, m.p[i], size);
            if (q == NULL)
                m.failed++;
            else if (q != m.p[i])
            {
                m.allocs++;     /* moved: a new block, the old one taken back */
                m.frees++;
                m.p[i] = q;
            }
            else
                m.p[i] = q;
        }
        else if (m.p[i] != NULL)
        {
            os_memheap_free(&heap, m.p[i]);
            m.p[i] = NULL;
            m.frees++;
        }
        if (op % 200 == 0)
        {
            compare(&m);
            CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        }
    }
    for (unsigned i = 0; i < SLOTS; i++)
    {
        if (m.p[i] != NULL)
        {
            os_memheap_free(&heap, m.p[i]);
            m.frees++;
        }
    }
    compare(&m);
    CHECK(m.failed > 0);        /* the large requests did not all fit */
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    CHECK_REPORTS(0);
    heap_close(&heap);
}

/* A bad struct is refused and reported; a missing region is OS_ENOMEM. */
static void refusals(void)
{
    os_memheap_stats_t st = fresh();

    /* a heap without regions: size 0 and sizes near SIZE_MAX are no failure, a sane size is one */
    check_context("a heap without regions");
    heap_open(&heap, "empty");
    CHECK(os_memheap_alloc(&heap, 0) == OS_NULL);
    CHECK(os_memheap_alloc(&heap, SIZE_MAX) == OS_NULL);
    CHECK_EQ(os_memheap_get_stats(&heap, &st), OS_EOK);
    CHECK_EQ(st.failed_count, 0);
    CHECK(os_memheap_alloc(&heap, 16) == OS_NULL);
    st = fresh();
    CHECK_EQ(os_memheap_get_stats(&heap, &st), OS_EOK);
    CHECK_EQ(st.failed_count, 1);
    CHECK_REPORTS(0);
    heap_close(&heap);
    st = fresh();

    /* a null or never initialised heap object: refused and reported, the figures untouched */
    check_context("statistics of a heap object that is not initialised");
    static os_memheap_t never;
    st = fresh();
    os_memheap_stats_t before;
    memcpy(&before, &st, sizeof st);
    hook_reset();
    CHECK_EQ(os_memheap_get_stats(OS_NULL, &st), OS_EINVAL);
    CHECK_REPORTS(1);
    hook_reset();
    CHECK_EQ(os_memheap_get_stats(&never, &st), OS_EINVAL);
    CHECK_REPORTS(1);
    hook_reset();
    CHECK_EQ(os_memheap_region_stats(&never, 0, &st), OS_EINVAL);
    CHECK_REPORTS(1);
    hook_reset();
    CHECK(memcmp(&st, &before, sizeof st) == 0);

    heap_open(&heap, "stats");
    heap_add_ok(&heap, arena + 64, REG, test_layout_alg(test_layout_get(0), 0));
    CHECK_EQ(os_memheap_get_stats(&heap, OS_NULL), OS_EINVAL);
    CHECK_REPORTS(1);
    st.version = OS_MEMHEAP_STATS_VERSION + 1;
    CHECK_EQ(os_memheap_get_stats(&heap, &st), OS_EINVAL);
    CHECK_REPORTS(1);
    st = fresh();
    st.size = sizeof st - 1;
    CHECK_EQ(os_memheap_region_stats(&heap, 0, &st), OS_EINVAL);
    CHECK_REPORTS(1);
    st = fresh();
    CHECK_EQ(os_memheap_region_stats(&heap, 1, &st), OS_ENOMEM);
    CHECK_EQ(os_memheap_region_stats(&heap, 0, &st), OS_EOK);
    CHECK_EQ(st.alloc_count, 0);
    CHECK_EQ(st.used_blocks, 0);
    CHECK_EQ(st.mem_used, 0);
    CHECK(st.free_blocks >= 1);     /* first-fit: one block; buddy: the aligned tiling */
    CHECK(st.largest_free > 0 && st.largest_free <= st.free_bytes);
    CHECK_REPORTS(0);
    heap_close(&heap);
}

/*
 * A heap of one region (on an idle port its alloc ends in the algorithm,
 * which checks the size itself): size 0 and sizes no region could ever
 * hold near SIZE_MAX are refused without counting a failure, as on the
 * locked path; a sane request too large for the region is one failure.
 */
static void one_region_sizes(const struct test_layout *l)
{
    os_memheap_stats_t st = fresh();

    heap_open(&heap, "stats1");
    heap_add_ok(&heap, arena + 64, REG, test_layout_alg(l, 0));
    CHECK(os_memheap_alloc(&heap, 0) == OS_NULL);
    CHECK(os_memheap_alloc(&heap, SIZE_MAX) == OS_NULL);
    CHECK(os_memheap_alloc(&heap, SIZE_MAX / 2) == OS_NULL);
    CHECK_EQ(os_memheap_get_stats(&heap, &st), OS_EOK);
    CHECK_EQ(st.failed_count, 0);
    CHECK_EQ(st.peak_request, 0);
    CHECK(os_memheap_alloc(&heap, 2 * REG) == OS_NULL);
    void *p = os_memheap_alloc(&heap, 100);
    CHECK(p != OS_NULL);
    st = fresh();
    CHECK_EQ(os_memheap_get_stats(&heap, &st), OS_EOK);
    CHECK_EQ(st.failed_count, 1);
    CHECK_EQ(st.alloc_count, 1);
    CHECK_EQ(st.peak_request, 2 * REG);
    /* a realloc to a size beyond any request, and a huge power-of-two alignment: refused
     * before any region is asked, so neither counted as a failure nor as a request */
    CHECK(os_memheap_realloc(&heap, p, SIZE_MAX / 4) == OS_NULL);
    CHECK(os_memheap_aligned_alloc(&heap, SIZE_MAX / 2 + 1, 16) == OS_NULL);
    CHECK(os_memheap_aligned_alloc(&heap, (SIZE_MAX / 4) + 1, 32) == OS_NULL);
    st = fresh();
    CHECK_EQ(os_memheap_get_stats(&heap, &st), OS_EOK);
    CHECK_EQ(st.failed_count, 1);
    CHECK_EQ(st.peak_request, 2 * REG);
    st = fresh();
    CHECK_EQ(os_memheap_region_stats(&heap, 0, &st), OS_EOK);
    CHECK_EQ(st.failed_count, 1);
    os_memheap_free(&heap, p);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    CHECK_REPORTS(0);
    heap_close(&heap);
}

/*
 * A heap without any region: a sane request, plain or aligned, is one
 * failure each; size 0 is none.
 */
static void no_region(void)
{
    os_memheap_stats_t st = fresh();

    check_context("a heap without regions");
    heap_open(&heap, "empty");
    CHECK(os_memheap_alloc(&heap, 16) == OS_NULL);
    CHECK(os_memheap_aligned_alloc(&heap, 64, 32) == OS_NULL);
    CHECK(os_memheap_alloc(&heap, 0) == OS_NULL);
    CHECK(os_memheap_aligned_alloc(&heap, 64, 0) == OS_NULL);
    CHECK_EQ(os_memheap_get_stats(&heap, &st), OS_EOK);
    CHECK_EQ(st.failed_count, 2);
    CHECK_EQ(st.peak_request, 32);
    CHECK_EQ(st.alloc_count, 0);
    CHECK_EQ(st.frag_permille, 0);      /* nothing is free */
    CHECK_REPORTS(0);
    heap_close(&heap);
}

/*
 * A request the first region cannot serve and the second does: one failure
 * of the first region, none of the second, none of the heap.
 */
static void region_failures(void)
{
    os_memheap_stats_t st;

    check_context("a failure of one region only");
    heap_open(&heap, "two");
    heap_add_ok(&heap, arena + 64, 4 * 1024, test_algs[0].alg);
    heap_add_ok(&heap, arena + 64 + REG, REG, test_algs[0].alg);
    void *p = os_memheap_alloc(&heap, 8 * 1024);
    CHECK(p != OS_NULL);
    st = fresh();
    CHECK_EQ(os_memheap_region_stats(&heap, 0, &st), OS_EOK);
    CHECK_EQ(st.failed_count, 1);
    st = fresh();
    CHECK_EQ(os_memheap_region_stats(&heap, 1, &st), OS_EOK);
    CHECK_EQ(st.failed_count, 0);
    st = fresh();
    CHECK_EQ(os_memheap_get_stats(&heap, &st), OS_EOK);
    CHECK_EQ(st.failed_count, 0);
    os_memheap_free(&heap, p);
    CHECK_REPORTS(0);
    heap_close(&heap);
}

int main(void)
{
    hook_install();
    for (unsigned i = 0; i < test_layout_count(); i++)
    {
        const struct test_layout *l = test_layout_get(i);

        check_context("%s", l->name);
        run(l, 0x5747u + i);
        one_region_sizes(l);
    }
    refusals();
    no_region();
    region_failures();
    hook_uninstall();
    return check_summary("test_stats");
}
#endif
