/*
 * test_multiregion.c - heaps made of several non-contiguous regions:
 * allocation order (the first region serves first, the next only when the
 * first cannot), frees going back to the right region, realloc moving across
 * regions (own region first), and the system heap with two regions.
 */
#define _DEFAULT_SOURCE     /* MAP_ANONYMOUS */
#include "common.h"

#include <stdio.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#include <unistd.h>
#endif

#define KiB ((size_t)1024)

#define ARENA_ALIGN (64 * KiB)     /* see align_up() in common.h */
static unsigned char arena_store[512 * KiB + ARENA_ALIGN];

#define NREG 3
static unsigned char *reg_base[NREG];       /* arena + 8, + 64 KiB + 24, + 128 KiB */
static const size_t reg_size[NREG] = {8 * KiB, 8 * KiB, 48 * KiB};

static void place_regions(void)
{
    unsigned char *arena = align_up(arena_store, ARENA_ALIGN);

    reg_base[0] = arena + 8;
    reg_base[1] = arena + 64 * KiB + 24;
    reg_base[2] = arena + 128 * KiB;
}

static os_memheap_t heap;

static int region_of(const void *p, size_t n)
{
    for (int i = 0; i < NREG; i++)
        if (range_inside(p, n, reg_base[i], reg_size[i]))
            return i;
    return -1;
}

static void open_heap(const struct test_layout *l)
{
    heap_open(&heap, "multi");
    for (unsigned i = 0; i < NREG; i++)
        heap_add_ok(&heap, reg_base[i], reg_size[i], test_layout_alg(l, i));
}

static void close_heap(void)
{
    CHECK_EQ(heap_info(&heap).mem_used, 0);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    CHECK_REPORTS(0);
    heap_close(&heap);
}

#define MAXB 512

static void order(const struct test_layout *l)
{
    check_context("%s: allocation order", l->name);
    open_heap(l);

    unsigned char *b[MAXB];
    int r[MAXB];
    int n = 0;
    int count[NREG] = {0};
    while (n < MAXB && (b[n] = os_memheap_alloc(&heap, 256)) != OS_NULL)
    {
        r[n] = region_of(b[n], 256);
        CHECKF(r[n] >= 0, "block %p outside every region", (void *)b[n]);
        if (r[n] < 0)
            break;
        if (n)
            CHECKF(r[n] >= r[n - 1], "block %d in region %d after a block in region %d", n, r[n],
                   r[n - 1]);
        pat_fill(b[n], (uint32_t)n, 0, 256);
        count[r[n]]++;
        n++;
    }
    CHECK(n < MAXB);
    for (int i = 0; i < NREG; i++)
        CHECKF(count[i] > 0, "region %d never served", i);
    printf("%s: 256-byte blocks per region: %d %d %d\n", l->name, count[0], count[1], count[2]);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);

    /* a hole in the first region is used before anything else */
    int first_r0 = 0, first_r1 = count[0], first_r2 = count[0] + count[1];
    int h0 = first_r0 + count[0] / 2;
    os_memheap_free(&heap, b[h0]);
    unsigned char *x = os_memheap_alloc(&heap, 256);
    CHECK(x != OS_NULL && region_of(x, 256) == 0);
    b[h0] = x;
    pat_fill(x, (uint32_t)h0, 0, 256);

    /* holes in the second and third: the second is used first */
    if (count[1] && count[2])
    {
        int h1 = first_r1 + count[1] / 2, h2 = first_r2 + count[2] / 2;
        os_memheap_free(&heap, b[h2]);
        os_memheap_free(&heap, b[h1]);
        x = os_memheap_alloc(&heap, 256);
        CHECK(x != OS_NULL && region_of(x, 256) == 1);
        b[h1] = x;
        pat_fill(x, (uint32_t)h1, 0, 256);
        x = os_memheap_alloc(&heap, 256);
        CHECK(x != OS_NULL && region_of(x, 256) == 2);
        b[h2] = x;
        pat_fill(x, (uint32_t)h2, 0, 256);
    }

    /* frees go back to their own region: empty region 1 and take it whole */
    check_context("%s: frees into the right region", l->name);
    os_meminfo_t before = heap_info(&heap);
    size_t freed = 0;
    for (int i = first_r1; i < first_r2; i++)
    {
        CHECK(pat_ok(b[i], (uint32_t)i, 0, 256));
        os_memheap_free(&heap, b[i]);
        b[i] = OS_NULL;
        freed += 256;
    }
    os_meminfo_t after = heap_info(&heap);
    CHECK(after.mem_used + freed <= before.mem_used);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    /* region 1 is now one free block again: its largest block fits */
    x = os_memheap_alloc(&heap, 3 * KiB);
    CHECK(x != OS_NULL && region_of(x, 3 * KiB) == 1);
    os_memheap_free(&heap, x);

    for (int i = 0; i < n; i++)
    {
        if (!b[i])
            continue;
        CHECK(pat_ok(b[i], (uint32_t)i, 0, 256));
        os_memheap_free(&heap, b[i]);
    }
    close_heap();

    /* a request only a later region can hold goes there, even with the first empty */
    check_context("%s: large request", l->name);
    open_heap(l);
    x = os_memheap_alloc(&heap, 12 * KiB);
    CHECK(x != OS_NULL && region_of(x, 12 * KiB) == 2);
    unsigned char *y = os_memheap_alloc(&heap, 100);
    CHECK(y != OS_NULL && region_of(y, 100) == 0);
    CHECK(os_memheap_alloc(&heap, 60 * KiB) == OS_NULL);
    os_memheap_free(&heap, x);
    os_memheap_free(&heap, y);
    close_heap();
}

/* Fill region 0 with 512-byte blocks; returns the first block that landed
 * elsewhere (kept allocated), the fillers in f[]. */
static unsigned char *fill_first_region(unsigned char **f, int *nf)
{
    *nf = 0;
    for (;;)
    {
        unsigned char *p = os_memheap_alloc(&heap, 512);
        CHECK(p != OS_NULL);
        if (!p)
            return OS_NULL;
        if (region_of(p, 512) != 0 || *nf >= MAXB)
            return p;
        f[(*nf)++] = p;
    }
}

static void realloc_across(const struct test_layout *l)
{
    unsigned char *f[MAXB];
    int nf;

    check_context("%s: realloc moves to another region", l->name);
    open_heap(l);
    unsigned char *p = os_memheap_alloc(&heap, 300);
    CHECK(p != OS_NULL && region_of(p, 300) == 0);
    pat_fill(p, 1, 0, 300);
    unsigned char *other = fill_first_region(f, &nf);
    CHECK(other != OS_NULL && region_of(other, 512) == 1);
    /* region 0 is full: growth must leave it */
    unsigned char *q = os_memheap_realloc(&heap, p, 4000);
    CHECK(q != OS_NULL);
    if (q)
    {
        CHECKF(region_of(q, 4000) == 1, "moved to region %d", region_of(q, 4000));
        CHECK(pat_ok(q, 1, 0, 300));
        pat_fill(q, 1, 300, 4000);
        p = q;
    }
    /* only the last region can hold this */
    q = os_memheap_realloc(&heap, p, 12 * KiB);
    CHECK(q != OS_NULL);
    if (q)
    {
        CHECK(region_of(q, 12 * KiB) == 2);
        CHECK(pat_ok(q, 1, 0, 4000));
        p = q;
    }
    /* nowhere can hold this: untouched */
    CHECK(os_memheap_realloc(&heap, p, 64 * KiB) == OS_NULL);
    CHECK(pat_ok(p, 1, 0, 4000));
    /* shrinking back stays in place */
    CHECK_PTR_EQ(os_memheap_realloc(&heap, p, 100), p);
    CHECK(pat_ok(p, 1, 0, 100));
    os_memheap_free(&heap, p);
    os_memheap_free(&heap, other);
    for (int i = 0; i < nf; i++)
        os_memheap_free(&heap, f[i]);
    close_heap();

    /* own region first: a block of region 1 grows within region 1 even though
     * region 0 has a hole that could take it */
    check_context("%s: realloc tries its own region first", l->name);
    open_heap(l);
    p = fill_first_region(f, &nf);
    CHECK(p != OS_NULL && region_of(p, 512) == 1);
    unsigned char *after = os_memheap_alloc(&heap, 512);
    CHECK(after != OS_NULL && region_of(after, 512) == 1);
    CHECK(nf >= 6);
    for (int i = 0; i < 4 && i < nf; i++)
    {
        os_memheap_free(&heap, f[i]);
        f[i] = OS_NULL;
    }
    if (p)
    {
        pat_fill(p, 2, 0, 512);
        q = os_memheap_realloc(&heap, p, 1500);
        CHECK(q != OS_NULL);
        if (q)
        {
            CHECKF(region_of(q, 1500) == 1, "moved to region %d", region_of(q, 1500));
            CHECK(pat_ok(q, 2, 0, 512));
            p = q;
        }
        /* region 1 cannot hold this: the others are tried (region 2) */
        q = os_memheap_realloc(&heap, p, 10 * KiB);
        CHECK(q != OS_NULL);
        if (q)
        {
            CHECK(region_of(q, 10 * KiB) == 2);
            CHECK(pat_ok(q, 2, 0, 512));
            p = q;
        }
        os_memheap_free(&heap, p);
    }
    os_memheap_free(&heap, after);
    for (int i = 0; i < nf; i++)
        os_memheap_free(&heap, f[i]);
    close_heap();

    /* a block that must leave its own region tries the others in order:
     * the first region, emptied meanwhile, before the last */
    check_context("%s: realloc out of a later region tries the first region first", l->name);
    open_heap(l);
    p = fill_first_region(f, &nf);
    CHECK(p != OS_NULL && region_of(p, 512) == 1);
    unsigned char *g[MAXB], *x;
    int ng = 0;
    while (ng < MAXB && (x = os_memheap_alloc(&heap, 512)) != OS_NULL)
    {
        g[ng++] = x;
        if (region_of(x, 512) == 2)
            break;      /* region 1 is full */
    }
    for (int i = 0; i < nf; i++)
        os_memheap_free(&heap, f[i]);
    if (p)
    {
        pat_fill(p, 3, 0, 512);
        q = os_memheap_realloc(&heap, p, 4000);
        CHECK(q != OS_NULL);
        if (q)
        {
            CHECKF(region_of(q, 4000) == 0, "moved to region %d", region_of(q, 4000));
            CHECK(pat_ok(q, 3, 0, 512));
            p = q;
        }
        os_memheap_free(&heap, p);
    }
    for (int i = 0; i < ng; i++)
        os_memheap_free(&heap, g[i]);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    close_heap();
}

#ifdef OS_USING_SYS_HEAP
static unsigned char sys_arena_store[256 * KiB + ARENA_ALIGN];

static void sys_two_regions(void)
{
    const struct test_layout *l = test_layout_mixed();
    unsigned char *sys_arena = align_up(sys_arena_store, ARENA_ALIGN);
    unsigned char *s1 = sys_arena + 16, *s2 = sys_arena + 128 * KiB + 8;
    const size_t n1 = 16 * KiB, n2 = 128 * KiB - 16;
    check_context("sys heap with two regions (%s)", l->name);
    os_sys_heap_init();
    CHECK_EQ(os_sys_heap_add(s1, n1, test_layout_alg(l, 0)), OS_EOK);
    CHECK_EQ(os_sys_heap_add(s2, n2, test_layout_alg(l, 1)), OS_EOK);
    os_meminfo_t info;
    os_memory_info(&info);
    CHECK(info.mem_total <= n1 + n2 && info.mem_total >= n1 + n2 - 8 * KiB);
    CHECK_EQ(info.mem_used, 0);

    unsigned char *big = os_malloc(24 * KiB);
    CHECK(big != OS_NULL && range_inside(big, 24 * KiB, s2, n2));
    unsigned char *small = os_malloc(100);
    CHECK(small != OS_NULL && range_inside(small, 100, s1, n1));
    CHECK(os_malloc_usable_size(small) >= 100);
    CHECK(os_malloc_usable_size(big) >= 24 * KiB);
    pat_fill(small, 9, 0, 100);
    unsigned char *grown = os_realloc(small, 20000);
    CHECK(grown != OS_NULL && range_inside(grown, 20000, s2, n2));
    if (grown)
    {
        CHECK(pat_ok(grown, 9, 0, 100));
        small = grown;
    }
    /* fill region 1 until region 2 serves */
    unsigned char *f[MAXB];
    int nf = 0;
    for (;;)
    {
        unsigned char *p = os_malloc(512);
        CHECK(p != OS_NULL);
        if (!p)
            break;
        if (!range_inside(p, 512, s1, n1) || nf >= MAXB)
        {
            CHECK(range_inside(p, 512, s2, n2));
            os_free(p);
            break;
        }
        f[nf++] = p;
    }
    CHECK(nf > 0);
    CHECK_EQ(os_memory_check(), OS_EOK);
    CHECK_EQ(os_memory_trace(), OS_EOK);
    for (int i = 0; i < nf; i++)
        os_free(f[i]);
    os_free(small);
    os_free(big);
    os_memory_info(&info);
    CHECK_EQ(info.mem_used, 0);
    CHECK_EQ(os_memory_check(), OS_EOK);
    CHECK_REPORTS(0);
}
#endif

#ifdef __linux__
/*
 * A realloc that moves a block copies the block's own bytes, no more: the
 * first region ends right at an inaccessible page, and a block there grows
 * to many times its size, so it moves to another region. Reading past the
 * old block (as far as the new size) would fault.
 */
static void realloc_copy_bounds(const struct test_layout *l)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE), rsize = 4 * KiB;
    const size_t maplen = (rsize + page - 1) / page * page + page;

    check_context("%s: realloc moving a block next to an inaccessible page", l->name);
    unsigned char *map = mmap(OS_NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(map != MAP_FAILED);
    if (map == MAP_FAILED)
        return;
    unsigned char *guard = map + maplen - page, *first = guard - rsize;
    CHECK_EQ(mprotect(guard, page, PROT_NONE), 0);
    heap_open(&heap, "guarded");
    heap_add_ok(&heap, first, rsize, test_layout_alg(l, 0));
    heap_add_ok(&heap, reg_base[2], reg_size[2], test_layout_alg(l, 2));
    unsigned char *keep[64], *p = OS_NULL, *x;
    size_t nkeep = 0;
    /* fill the first region: its last block lies nearest the page */
    while (nkeep < 64 && (x = os_memheap_alloc(&heap, 200)) != OS_NULL)
    {
        keep[nkeep++] = x;
        if (!range_inside(x, 200, first, rsize))
            break;
        if (p == OS_NULL || x > p)
            p = x;
    }
    CHECK(p != OS_NULL && nkeep < 64);
    if (p)
    {
        pat_fill(p, 9, 0, 200);
        unsigned char *q = os_memheap_realloc(&heap, p, 6000);   /* past the page: rsize is 4 KiB */
        CHECK(q != OS_NULL && region_of(q, 6000) == 2);
        for (size_t i = 0; q && i < nkeep; i++)
            if (keep[i] == p)
                keep[i] = q;
        CHECK(q == OS_NULL || pat_ok(q, 9, 0, 200));
    }
    for (size_t i = 0; i < nkeep; i++)
        os_memheap_free(&heap, keep[i]);
    close_heap();
    CHECK_EQ(munmap(map, maplen), 0);
}
#endif

int main(void)
{
    hook_install();
    place_regions();
    for (unsigned i = 0; i < test_layout_count(); i++)
    {
        const struct test_layout *l = test_layout_get(i);
        order(l);
        realloc_across(l);
#ifdef __linux__
        realloc_copy_bounds(l);
#endif
    }
#ifdef OS_USING_SYS_HEAP
    sys_two_regions();
#endif
    hook_uninstall();
    return check_summary("test_multiregion");
}
