/*
 * test_sys_heap.c - the system heap on a 128 KiB static region: the OneOS
 * documentation's sys_heap_sample (malloc of 1 .. 65536 bytes succeeds,
 * 131072 fails, then a realloc chain), calloc zeroing, info / check /
 * trace, usable size, the aligned variant, and its user_heap_sample (a
 * user heap inside an os_malloc block).
 */
#include "common.h"

#include <stdio.h>
#include <string.h>

#ifndef OS_USING_SYS_HEAP
int main(void)
{
    printf("test_sys_heap: skipped (OS_USING_SYS_HEAP is off)\n");
    return TEST_SKIP_CODE;
}
#else

#define KiB ((size_t)1024)
#define SYS_SIZE (128 * KiB)

static _Alignas(64) unsigned char sys_region[SYS_SIZE];
#if TEST_BAD_OPS
static _Alignas(64) unsigned char foreign_buf[256];
#endif

static enum os_mem_alg sys_alg(void)
{
#ifdef OS_USING_ALG_FIRSTFIT
    return OS_MEM_ALG_FIRSTFIT;
#else
    return OS_MEM_ALG_DEFAULT;
#endif
}

static void used_is_zero(void)
{
    os_meminfo_t info;
    os_memory_info(&info);
    CHECK_EQ(info.mem_used, 0);
    CHECK_EQ(os_memory_check(), OS_EOK);
}

#ifndef OS_USING_ALG_FIRSTFIT
static int largest_free(const struct os_memheap_block *b, void *arg)
{
    if (!b->used && b->size > *(size_t *)arg)
        *(size_t *)arg = b->size;
    return 0;
}
#endif

static void sys_heap_sample(void)
{
    check_context("sys_heap_sample: malloc");
#ifndef OS_USING_ALG_FIRSTFIT
    /*
     * Buddy tiles the region by address: whether a 64 KiB block fits in a
     * 128 KiB region depends on where the region lies (and the program's
     * load address moves it). Every power of two up to the largest free
     * block must be served, and none above it.
     */
    size_t largest = 0;
    CHECK_EQ(os_memheap_walk(os_sys_heap(), largest_free, &largest), OS_EOK);
    unsigned expect = 0;
    while (expect < 20 && ((size_t)1 << expect) <= largest)
        expect++;
    CHECKF(expect >= 15, "largest free block %zu bytes", largest);
#endif
    unsigned i;
    for (i = 0; i < 20; i++)
    {
        size_t size = (size_t)1 << i;
        unsigned char *p = os_malloc(size);
        if (!p)
            break;
        CHECK(is_aligned(p, OS_MEM_ALIGN_SIZE));
        CHECK(range_inside(p, size, sys_region, SYS_SIZE));
        CHECK(os_malloc_usable_size(p) >= size);
        pat_fill(p, i, 0, size);
        CHECK(pat_ok(p, i, 0, size));
        os_free(p);
    }
#ifdef OS_USING_ALG_FIRSTFIT
    /* 1 .. 65536 succeed, 131072 cannot fit a 128 KiB region */
    CHECKF(i == 17, "first failing size 2^%u", i);
#else
    /* buddy: 65536 plus a header needs a 128 KiB block, more than the region holds */
    CHECKF(i == expect && i <= 16, "first failing size 2^%u, largest free block %zu bytes", i, largest);
#endif
    used_is_zero();

    check_context("sys_heap_sample: realloc chain");
    unsigned char *p = os_malloc(100);
    CHECK(p != OS_NULL);
    if (!p)
        return;
    pat_fill(p, 100, 0, 100);
    size_t cur = 100;
    for (i = 0; i < 20; i++)
    {
        size_t size = (size_t)1 << i;
        unsigned char *q = os_realloc(p, size);
        if (!q)
        {
            /* failed: the old block is intact and still ours */
            CHECK(pat_ok(p, 100, 0, cur));
            os_free(p);
            p = OS_NULL;
            break;
        }
        size_t keep = cur < size ? cur : size;
        CHECKF(pat_ok(q, 100, 0, keep), "realloc to %zu lost data", size);
        if (size <= cur)
            CHECK_PTR_EQ(q, p);
        CHECK(is_aligned(q, OS_MEM_ALIGN_SIZE));
        CHECK(os_malloc_usable_size(q) >= size);
        pat_fill(q, 100, keep, size);
        p = q;
        cur = size;
    }
    /* sizes up to 32768 (16384 with buddy) must succeed; 131072 never fits */
#ifdef OS_USING_ALG_FIRSTFIT
    CHECKF(i >= 16, "realloc chain failed at 2^%u", i);
#else
    CHECKF(i >= 15, "realloc chain failed at 2^%u", i);
#endif
    CHECKF(i <= 17, "a realloc to 2^%u bytes succeeded in a 128 KiB heap", i - 1);
    if (p)
        os_free(p);
    used_is_zero();
}

static void calloc_zeroes(void)
{
    check_context("calloc");
    /* dirty some memory first */
    unsigned char *d[8];
    for (int i = 0; i < 8; i++)
    {
        d[i] = os_malloc(1000);
        CHECK(d[i] != OS_NULL);
        if (d[i])
            memset(d[i], 0xCC, 1000);
    }
    for (int i = 0; i < 8; i++)
        os_free(d[i]);
    static const size_t shapes[][2] = {{10, 100}, {1, 1}, {3, 333}, {1000, 1}, {1, 4000}, {7, 8}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
    {
        size_t n = shapes[s][0] * shapes[s][1];
        unsigned char *p = os_calloc(shapes[s][0], shapes[s][1]);
        CHECK(p != OS_NULL);
        if (!p)
            continue;
        size_t nz = 0;
        for (size_t k = 0; k < n; k++)
            nz += p[k] != 0;
        CHECKF(nz == 0, "calloc(%zu, %zu): %zu nonzero bytes", shapes[s][0], shapes[s][1], nz);
        CHECK(os_malloc_usable_size(p) >= n);
        memset(p, 0xDD, n);
        os_free(p);
    }
    CHECK(os_calloc(0, 10) == OS_NULL);
    CHECK(os_calloc(10, 0) == OS_NULL);
#if TEST_BAD_OPS /* may be reported */
    CHECK(os_calloc(SIZE_MAX / 2 + 1, 2) == OS_NULL);
    CHECK(os_calloc(2, SIZE_MAX / 2 + 1) == OS_NULL);
#endif
    used_is_zero();
    CHECK_REPORTS_AT_MOST(2); /* the overflowing calls may be reported */
}

static void info_check_trace(void)
{
    check_context("info, check, trace");
    os_meminfo_t info;
    os_memory_info(&info);
    CHECK(info.mem_total <= SYS_SIZE && info.mem_total >= SYS_SIZE - 4 * KiB);
    os_meminfo_t via_heap = heap_info(os_sys_heap());
    CHECK(info_eq(&info, &via_heap));

    void *a = os_malloc(300), *b = os_aligned_malloc(256, 700), *c = os_malloc(5000);
    CHECK(a && b && c);
    CHECK(is_aligned(b, 256));
    CHECK(os_malloc_usable_size(a) >= 300);
    CHECK(os_malloc_usable_size(b) >= 700);
    CHECK(os_memheap_usable_size(os_sys_heap(), c) >= 5000);
    os_memory_info(&info);
    CHECK(info.mem_used >= 6000);
    CHECK(info.mem_maxused >= info.mem_used);
    CHECK_EQ(os_memory_check(), OS_EOK);
    CHECK_EQ(os_memory_trace(), OS_EOK);
    CHECK_EQ(os_memheap_check(os_sys_heap()), OS_EOK);

    /* usable size of things that are not live blocks */
    CHECK_EQ(os_malloc_usable_size(OS_NULL), 0);
#if TEST_BAD_OPS /* may be reported */
    CHECK_EQ(os_malloc_usable_size(foreign_buf + 64), 0);
    CHECK_EQ(os_malloc_usable_size((unsigned char *)a + 8), 0);
    hook_reset();
#endif

    os_free(b);
#if TEST_BAD_OPS
    CHECK_EQ(os_malloc_usable_size(b), 0);
    hook_reset();
#endif
    os_free(a);
    os_free(c);
    os_free(OS_NULL);
    CHECK(os_malloc(0) == OS_NULL);
    CHECK(os_aligned_malloc(0, 0) == OS_NULL);
    CHECK_REPORTS(0);
#if TEST_BAD_OPS
    CHECK(os_aligned_malloc(3, 16) == OS_NULL);
    CHECK_REPORTS(1);
#endif
    used_is_zero();

    /* a second os_sys_heap_init() changes nothing */
    os_memory_info(&info);
    os_sys_heap_init();
    os_meminfo_t again;
    os_memory_info(&again);
    CHECK(info_eq(&info, &again));
    void *x = os_malloc(100);
    CHECK(x != OS_NULL && range_inside(x, 100, sys_region, SYS_SIZE));
    os_free(x);
    used_is_zero();
#if TEST_BAD_OPS
    os_free(foreign_buf + 64);
    CHECK_REPORTS(1);
    x = os_malloc(64);
    os_free(x);
    os_free(x);
    CHECK_REPORTS(1);
    used_is_zero();
#endif
    CHECK_REPORTS(0);
}

static void user_heap_sample(void)
{
    static os_memheap_t memheap_test;
    check_context("user_heap_sample");
    size_t size = 2048;
    unsigned char *start = os_malloc(size);
    CHECK(start != OS_NULL);
    if (!start)
        return;
    heap_open(&memheap_test, "memheap1");
    CHECK_EQ(os_memheap_add(&memheap_test, start, size, sys_alg()), OS_EOK);
    const struct test_alg *ai = test_alg_info(sys_alg());
    unsigned i;
    for (i = 0; i < 20; i++)
    {
        size_t sz = (size_t)1 << i;
        void *p = os_memheap_alloc(&memheap_test, sz);
        if (!p)
            break;
        CHECK(range_inside(p, sz, start, size));
        os_memheap_free(&memheap_test, p);
    }
    /* 1 .. 1024 succeed (first-fit), 2048 fails */
    CHECKF(((size_t)1 << i) > ai->serve_from_2048, "first failing size 2^%u", i);
    CHECKF(i <= 11, "a %zu-byte request served by a 2048-byte region", (size_t)1 << i);

    void *p = os_memheap_alloc(&memheap_test, 64);
    CHECK(p != OS_NULL);
    if (p)
    {
        pat_fill(p, 64, 0, 64);
        void *q = os_memheap_realloc(&memheap_test, p, 68);
        CHECK(q != OS_NULL);
        if (ai->grows_in_place)
            CHECK_PTR_EQ(q, p);
        if (q)
        {
            CHECK(pat_ok(q, 64, 0, 64));
            p = q;
        }
        q = os_memheap_realloc(&memheap_test, p, 60);
        CHECK_PTR_EQ(q, p);
        CHECK(pat_ok(p, 64, 0, 60));
        os_memheap_free(&memheap_test, p);
    }
    CHECK_EQ(heap_info(&memheap_test).mem_used, 0);
    CHECK_EQ(os_memheap_check(&memheap_test), OS_EOK);
    heap_close(&memheap_test);
    os_free(start);
    used_is_zero();
    CHECK_REPORTS(0);
}

/* The OneOS user_heap_sample as written: the block is freed while the user
 * heap still manages it (no deinit), once every block of the user heap was
 * freed. The heap loses that region. A free of the block while the user
 * heap still holds a block in it is refused (the block would be lost). */
static void user_heap_sample_as_seed(void)
{
    static os_memheap_t seed_heap;
    check_context("user_heap_sample, block freed under the heap");
    os_meminfo_t before;
    os_memory_info(&before);
    unsigned char *start = os_malloc(2048);
    CHECK(start != OS_NULL);
    if (!start)
        return;
    CHECK_EQ(os_memheap_init(&seed_heap, "memheap1"), OS_EOK);
    CHECK_EQ(os_memheap_add(&seed_heap, start, 2048, sys_alg()), OS_EOK);
    void *p = os_memheap_alloc(&seed_heap, 64);
    CHECK(p != OS_NULL);
    p = os_memheap_realloc(&seed_heap, p, 68);
    CHECK(p != OS_NULL);
    p = os_memheap_realloc(&seed_heap, p, 60);
    CHECK(p != OS_NULL);
    os_memheap_free(&seed_heap, p);
    void *live = os_memheap_alloc(&seed_heap, 100);
    CHECK(live != OS_NULL);
    os_meminfo_t held, held_user = heap_info(&seed_heap);
    os_memory_info(&held);
    os_free(start);                                     /* refused: live is in it */
    CHECK_REPORTS(1);
    CHECK(info_unchanged(os_sys_heap(), &held));
    CHECK(info_unchanged(&seed_heap, &held_user));
    CHECK_EQ(os_memheap_check(&seed_heap), OS_EOK);
    os_memheap_free(&seed_heap, live);
    os_free(start);
    CHECK_REPORTS(0);
    os_meminfo_t after;
    os_memory_info(&after);
    CHECK_EQ(after.mem_used, before.mem_used);
    CHECK_EQ(os_memory_check(), OS_EOK);
    os_meminfo_t info = heap_info(&seed_heap);
    CHECK_EQ(info.mem_total, 0);
    CHECK_EQ(info.mem_used, 0);
    CHECK(os_memheap_alloc(&seed_heap, 16) == OS_NULL);
    CHECK_EQ(os_memheap_check(&seed_heap), OS_EOK);
    /* the memory is the system heap's again */
    unsigned char *again = os_malloc(2048);
    CHECK(again != OS_NULL);
    if (again)
        memset(again, 0x77, 2048);
    os_free(again);
    CHECK_REPORTS(0);
    CHECK_EQ(os_memheap_deinit(&seed_heap), OS_EOK);
    used_is_zero();
}

int main(void)
{
    hook_install();
#if TEST_BAD_OPS
    /* before the system heap is set up: refused, and the report says what is missing */
    CHECK(os_malloc(100) == OS_NULL);
    CHECK_EQ(hook_count(), 1);
    CHECK_EQ(hook_last_code(), OS_EINVAL);
#ifndef OS_MEM_SMALL    /* (the small build's reports carry no detail) */
    CHECKF(strstr(hook_last_msg(), "os_sys_heap_init") != NULL, "report: %s", hook_last_msg());
#endif
    hook_reset();
#endif
    os_sys_heap_init();
    CHECK(os_sys_heap() != OS_NULL);
    CHECK_EQ(os_sys_heap_add(sys_region, SYS_SIZE, sys_alg()), OS_EOK);
#if TEST_BAD_OPS
    /* the same region again overlaps */
    CHECK_EQ(os_sys_heap_add(sys_region, SYS_SIZE, sys_alg()), OS_EINVAL);
    hook_reset();
#endif
    os_meminfo_t info;
    os_memory_info(&info);
    CHECK_EQ(info.mem_used, 0);
    CHECK_EQ(info.mem_maxused, 0);

    sys_heap_sample();
    calloc_zeroes();
    info_check_trace();
    user_heap_sample();
    user_heap_sample_as_seed();

    hook_uninstall();
    return check_summary("test_sys_heap");
}
#endif
