/*
 * test_mempool.c - fixed-size memory pools (os_mp_*, OS_USING_MEM_POOL).
 *
 *  - layout: block size rounding, block count, alignment (every target, with
 *    and without the tag), refused arguments, init twice, overlap, free of
 *    OS_NULL;
 *  - exhaustion and refill: every block exactly once, then OS_ENOMEM, then
 *    the same blocks again; info and the peak; os_mp_create / os_mp_destroy,
 *    a create whose memory holds a heap object, a destroy of a pool that is
 *    no longer initialised;
 *  - bad frees: outside, interior, below the pool, never handed out; with
 *    OS_USING_MP_CHECK_TAG also double frees and smashed tags, all reported
 *    with the pool left sound; without the tag a double free is found by
 *    os_mp_check; os_mp_check on damaged counters, free list and tags;
 *  - waiting (POSIX port, threads): a timeout expires after at least its
 *    length; a blocked alloc is served by a free from another thread (the
 *    very block freed, no barging); FIFO order with 3 waiters; deinit while
 *    waiting; a 4-thread stress run;
 *  - bare-metal port: calls from an interrupt handler, no wait hooks (a
 *    blocking alloc behaves like OS_NO_WAIT), and simulated wait hooks; a
 *    deinit or a free overtaken by another deinit; a deinit that cannot
 *    block while a woken allocation has not left the pool yet;
 *  - a randomized model test with a shadow table (contents, alignment,
 *    non-overlap, bounds, info, check after each batch);
 *  - the trace lists every pool.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <os_mempool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef OS_USING_MEM_POOL
int main(void)
{
    printf("test_mempool: skipped (OS_USING_MEM_POOL is off)\n");
    return TEST_SKIP_CODE;
}
#else

#if defined(OS_MEM_PORT_POSIX) || (defined(OS_MEM_PORT_BAREMETAL) && !defined(OS_MEM_PORT_NO_LOCK))
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <time.h>
#endif
#ifndef OS_MEM_PORT_BAREMETAL
#include <unistd.h>     /* dup: the trace is captured from standard output */
#endif
#ifdef OS_MEM_PORT_POSIX
#define WATCHDOG(s) alarm(s)    /* a lock that waits forever ends the test */
#else
#define WATCHDOG(s) ((void)0)   /* locks are no-ops */
#endif

#define KiB ((size_t)1024)

#ifdef OS_USING_MP_CHECK_TAG
#define HDR ((size_t)OS_MEM_ALIGN_SIZE)
#else
#define HDR ((size_t)0)
#endif

static _Alignas(64) unsigned char arena[256 * KiB];

static size_t round_up(size_t x, size_t a)
{
    return (x + a - 1) / a * a;
}

/* The block count the header documents for os_mp_init(start, size, blk). */
static size_t expected_blocks(const void *start, size_t size, size_t blk)
{
    size_t stride = HDR + round_up(blk, OS_MEM_ALIGN_SIZE);
    size_t skip = round_up((size_t)(uintptr_t)start, OS_MEM_ALIGN_SIZE) - (size_t)(uintptr_t)start;
    return size > skip ? (size - skip) / stride : 0;
}

static os_mpinfo_t mp_info(os_mp_t *mp)
{
    os_mpinfo_t i;
    memset(&i, 0xEE, sizeof i);
    CHECK_EQ(os_mp_info(mp, &i), OS_EOK);
    return i;
}

static int ptr_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return x < y ? -1 : x > y;
}

/* ---- layout, arguments, exhaustion and refill ------------------------------------------------ */

static void *blocks[8192];
static void *blocks2[8192];

/* Allocate until OS_ENOMEM; returns the count. Checks every block. */
static size_t drain(os_mp_t *mp, void **out, size_t max, const void *mem, size_t size, size_t usable)
{
    size_t n = 0;
    os_err_t err = OS_ERROR;
    for (;;)
    {
        void *p = os_mp_alloc_ex(mp, OS_NO_WAIT, &err);
        if (!p)
            break;
        CHECKF(err == OS_EOK, "err %ld with a block", (long)err);
        CHECKF(is_aligned(p, OS_MEM_ALIGN_SIZE), "block %p not aligned to %d", p, OS_MEM_ALIGN_SIZE);
        CHECKF(range_inside(p, usable, mem, size), "block %p+%zu outside %p+%zu", p, usable, mem, size);
        if (n < max)
            out[n] = p;
        n++;
        if (n > max + 1)
            break;
    }
    CHECK_EQ(err, OS_ENOMEM);
    return n;
}

static void layout_and_refill(void)
{
    static const size_t sizes[] = {1, 7, 8, 9, 16, 24, 60, 64, 65, 100, 128, 250, 1000};
    static const size_t offsets[] = {0, 1, 3, 8, 13};

    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
    {
        for (size_t oi = 0; oi < sizeof offsets / sizeof offsets[0]; oi++)
        {
            size_t blk = sizes[si];
            unsigned char *mem = arena + offsets[oi];
            size_t size = 6000 + 11 * si;
            size_t usable = round_up(blk, OS_MEM_ALIGN_SIZE);
            size_t want = expected_blocks(mem, size, blk);
            os_mp_t mp;

            check_context("layout blk=%zu off=%zu", blk, offsets[oi]);
            memset(&mp, 0x5A, sizeof mp);   /* no zeroing needed */
            CHECK_EQ(os_mp_init(&mp, "layout", mem, size, blk), OS_EOK);
            os_mpinfo_t info = mp_info(&mp);
            CHECK_EQ(info.blk_size, usable);
            CHECK_EQ(info.blk_total_num, want);
            CHECK_EQ(info.blk_free_num, want);
            CHECK_EQ(info.blk_maxused_num, 0);
            CHECK_EQ(info.waiting_num, 0);

            size_t n = drain(&mp, blocks, 8192, mem, size, usable);
            CHECK_EQ(n, want);
            info = mp_info(&mp);
            CHECK_EQ(info.blk_free_num, 0);
            CHECK_EQ(info.blk_maxused_num, want);
            CHECK_EQ(os_mp_check(&mp), OS_EOK);
            /* distinct, non-overlapping: sorted, consecutive ones at least usable apart */
            memcpy(blocks2, blocks, n * sizeof(void *));
            qsort(blocks2, n, sizeof(void *), ptr_cmp);
            for (size_t i = 1; i < n; i++)
                CHECKF((uintptr_t)blocks2[i] - (uintptr_t)blocks2[i - 1] >= usable + HDR,
                       "blocks %p and %p overlap", blocks2[i - 1], blocks2[i]);
            for (size_t i = 0; i < n; i++)
                pat_fill(blocks[i], (uint32_t)i, 0, usable);
            for (size_t i = 0; i < n; i++)
                CHECKF(pat_ok(blocks[i], (uint32_t)i, 0, usable), "block %zu contents", i);
            /* free in an odd order, refill: the same set of blocks */
            for (size_t i = 0; i < n; i += 2)
                os_mp_free(&mp, blocks[i]);
            for (size_t i = 1; i < n; i += 2)
                os_mp_free(&mp, blocks[i]);
            info = mp_info(&mp);
            CHECK_EQ(info.blk_free_num, want);
            CHECK_EQ(info.blk_maxused_num, want);
            CHECK_EQ(os_mp_check(&mp), OS_EOK);
            size_t n2 = drain(&mp, blocks, 8192, mem, size, usable);
            CHECK_EQ(n2, want);
            qsort(blocks, n2, sizeof(void *), ptr_cmp);
            CHECK(memcmp(blocks, blocks2, n * sizeof(void *)) == 0);
            for (size_t i = 0; i < n2; i++)
                os_mp_free(&mp, blocks[i]);
            CHECK_EQ(os_mp_check(&mp), OS_EOK);
            CHECK_EQ(os_mp_deinit(&mp), OS_EOK);
        }
    }
    CHECK_REPORTS(0);
    check_context("");
}

static void arguments(void)
{
    os_mp_t mp, other;
    os_mpinfo_t info;
    os_err_t err = OS_EOK;

    check_context("arguments");
    CHECK_EQ(os_mp_init(OS_NULL, "x", arena, 1024, 32), OS_EINVAL);
    CHECK_EQ(os_mp_init(&mp, OS_NULL, arena, 1024, 32), OS_EINVAL);
    CHECK_EQ(os_mp_init(&mp, "x", OS_NULL, 1024, 32), OS_EINVAL);
    CHECK_EQ(os_mp_init(&mp, "x", arena, 1024, 0), OS_EINVAL);
    CHECK_EQ(os_mp_init(&mp, "x", arena, 1024, OS_SIZE_MAX), OS_EINVAL);
    CHECK_REPORTS(5);
    /* too small for one block */
    CHECK_EQ(os_mp_init(&mp, "x", arena + 1, 32 + HDR, 32), OS_ENOMEM);
    CHECK_REPORTS(1);
    /* exactly one block */
    char longname[OS_NAME_MAX + 16];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK_EQ(os_mp_init(&mp, longname, arena, round_up(32, OS_MEM_ALIGN_SIZE) + HDR, 32), OS_EOK);
    CHECK_EQ(strlen(mp.name), OS_NAME_MAX);     /* truncated */
    info = mp_info(&mp);
    CHECK_EQ(info.blk_total_num, 1);
    /* twice */
    CHECK_EQ(os_mp_init(&mp, "again", arena + 4096, 1024, 32), OS_EINVAL);
#if !TEST_SMALL_TEXTS && OS_NAME_MAX < 64     /* (the pool's long name comes first in the report) */
    CHECKF(hook_seen("already initialised"), "report: %s", hook_last_msg());
#endif
    CHECK_REPORTS(1);
    /* overlap with mp's block */
    CHECK_EQ(os_mp_init(&other, "overlap", arena, 1024, 32), OS_EINVAL);
#if !TEST_SMALL_TEXTS
    CHECKF(hook_seen("overlaps pool"), "report: %s", hook_last_msg());
#endif
    CHECK_REPORTS(1);
    /* starting on mp's last aligned place: overlap (one byte later it starts after mp); right after it: fine */
    CHECK_EQ(os_mp_init(&other, "overlap", arena + round_up(32, OS_MEM_ALIGN_SIZE) + HDR - OS_MEM_ALIGN_SIZE, 1024, 32),
             OS_EINVAL);
    CHECK_REPORTS(1);
    CHECK_EQ(os_mp_init(&other, "after", arena + round_up(32, OS_MEM_ALIGN_SIZE) + HDR, 1024, 32), OS_EOK);
    CHECK_EQ(os_mp_deinit(&other), OS_EOK);
    CHECK_REPORTS(0);
    /* bad timeouts, bad objects */
    CHECK(os_mp_alloc_ex(&mp, -2, &err) == OS_NULL);
    CHECK_EQ(err, OS_EINVAL);
#if OS_NAME_MAX < 64     /* (long names fill the report before the value) */
    CHECKF(strstr(hook_last_msg(), "timeout -2") != NULL, "message: %s", hook_last_msg());
#endif
    CHECK(os_mp_alloc(OS_NULL, OS_NO_WAIT) == OS_NULL);
    CHECK_EQ(os_mp_info(&mp, OS_NULL), OS_EINVAL);
    CHECK_REPORTS(3);
    /* free(NULL) on a live pool: a no-op, not reported, the pool unchanged */
    void *only = os_mp_alloc(&mp, OS_NO_WAIT);
    CHECK(only != OS_NULL);
    os_mpinfo_t held_info = mp_info(&mp);
    os_mp_free(&mp, OS_NULL);
    CHECK_REPORTS(0);
    info = mp_info(&mp);
    CHECK(memcmp(&info, &held_info, sizeof info) == 0);
    os_mp_free(&mp, only);
    CHECK_PTR_EQ(os_mp_alloc(&mp, OS_NO_WAIT), only);   /* the free list still holds only that block */
    os_mp_free(&mp, only);
    os_mp_free(&mp, OS_NULL);
    CHECK_EQ(mp_info(&mp).blk_free_num, 1);
    CHECK_EQ(os_mp_check(&mp), OS_EOK);
    CHECK_REPORTS(0);
    CHECK_EQ(os_mp_deinit(&mp), OS_EOK);
    /* after deinit every call is refused; free(NULL) stays a no-op */
    CHECK(os_mp_alloc_ex(&mp, OS_NO_WAIT, &err) == OS_NULL);
    CHECK_EQ(err, OS_EINVAL);
    CHECK_EQ(os_mp_info(&mp, &info), OS_EINVAL);
    CHECK_EQ(info.blk_total_num, 0);
    CHECK_EQ(os_mp_check(&mp), OS_EINVAL);
    CHECK_EQ(os_mp_deinit(&mp), OS_EINVAL);
    os_mp_free(&mp, arena);
#if !TEST_SMALL_TEXTS
    CHECKF(strstr(hook_last_msg(), "free on a pool object that is not initialised") != NULL, "report: %s",
           hook_last_msg());
#endif
    CHECK_REPORTS(5);
    os_mp_free(&mp, OS_NULL);
    os_mp_free(OS_NULL, OS_NULL);
    CHECK_REPORTS(0);
    /* init again under the name the object still holds (a restart): the pool keeps that name */
    CHECK_EQ(os_mp_init(&mp, mp.name, arena, 1024, 32), OS_EOK);
    CHECK_EQ(strlen(mp.name), OS_NAME_MAX);
    CHECK_EQ(mp.name[0], 'n');
    CHECK_EQ(os_mp_deinit(&mp), OS_EOK);
    CHECK_REPORTS(0);
    check_context("");
}

#ifdef OS_USING_SYS_HEAP
static void create_destroy(void)
{
    os_meminfo_t before, after;
    os_mp_t st;

    check_context("create");
    os_memory_info(&before);
    os_mp_t *mp = os_mp_create("created", 50, 64);
    CHECK(mp != OS_NULL);
    if (mp)
    {
        os_mpinfo_t info = mp_info(mp);
        CHECK_EQ(info.blk_total_num, 50);
        CHECK_EQ(info.blk_size, round_up(64, OS_MEM_ALIGN_SIZE));
        size_t n = drain(mp, blocks, 8192, (unsigned char *)mp, sizeof(os_mp_t) + 50 * (64 + HDR) + 64, 64);
        CHECK_EQ(n, 50);
        for (size_t i = 0; i < n; i++)
            os_mp_free(mp, blocks[i]);
        CHECK_EQ(os_mp_check(mp), OS_EOK);
        /* the system heap's block under the live pool is not freed behind its back */
        os_free(mp);
        CHECK_REPORTS(1);
        CHECK_EQ(hook_last_code(), OS_EBUSY);
        CHECK(os_realloc(mp, 16) == OS_NULL);
        CHECK_REPORTS(1);
        CHECK_EQ(os_mp_check(mp), OS_EOK);
        CHECK_EQ(os_memory_check(), OS_EOK);
        CHECK_EQ(os_mp_destroy(mp), OS_EOK);
    }
    os_memory_info(&after);
    CHECK_EQ(after.mem_used, before.mem_used);
    CHECK(os_mp_create(OS_NULL, 1, 1) == OS_NULL);
    CHECK(os_mp_create("zero", 0, 64) == OS_NULL);
    CHECK(os_mp_create("zero", 4, 0) == OS_NULL);
    CHECK(os_mp_create("huge", OS_SIZE_MAX / 2, 64) == OS_NULL);
    CHECK_REPORTS(4);
    /* count * 64 wraps round to 64 bytes: refused all the same, not a pool of one block */
    CHECK(os_mp_create("wraps", OS_SIZE_MAX / 64 + 2, 64) == OS_NULL);
    CHECK_REPORTS(1);
    CHECK(os_mp_create("big", 1u << 20, 64) == OS_NULL);     /* the heap cannot serve it */
    CHECK_EQ(os_mp_init(&st, "static", arena, 4096, 64), OS_EOK);
    CHECK_EQ(os_mp_destroy(&st), OS_EINVAL);
    CHECK_REPORTS(1);
    CHECK_EQ(os_mp_deinit(&st), OS_EOK);

    /* destroy of no pool, or of a made pool already deinitialised: refused, nothing freed */
    CHECK_EQ(os_mp_destroy(OS_NULL), OS_EINVAL);
    CHECK_REPORTS(1);
    CHECK_EQ(hook_last_code(), OS_EINVAL);
    mp = os_mp_create("undone", 4, 32);
    CHECK(mp != OS_NULL);
    if (mp)
    {
        CHECK_EQ(os_mp_deinit(mp), OS_EOK);
        os_meminfo_t held;
        os_memory_info(&held);
        CHECK_EQ(os_mp_destroy(mp), OS_EINVAL);
        CHECK_REPORTS(1);
        CHECK_EQ(hook_last_code(), OS_EINVAL);
        CHECK_PTR_EQ(hook_last_addr(), mp);
        os_memory_info(&after);
        CHECK_EQ(after.mem_used, held.mem_used);    /* its block is still the caller's */
        os_free(mp);                                /* no pool holds it now */
        CHECK_REPORTS(0);
    }
    os_memory_info(&after);
    CHECK_EQ(after.mem_used, before.mem_used);
    check_context("");
}

/*
 * A heap object left in memory the system heap has taken back: os_mp_create
 * is then served that memory, which may not hold a heap object. The create
 * is refused and reported, and the block it took goes back to the system
 * heap (nothing leaks). Once the heap object is gone the same create works.
 * (Full hardening fills a freed block, heap object and all: not there.)
 */
static void create_over_heap_object(void)
{
#if OS_MEM_HARDENING < 3
    const size_t blk = 64, stride = HDR + round_up(blk, OS_MEM_ALIGN_SIZE);
    const size_t count = (2 * sizeof(os_memheap_t) + 512) / stride;
    const size_t obj = round_up(sizeof(os_mp_t), OS_MEM_ALIGN_SIZE);
    const size_t need = obj + count * stride;
    /* the heap object in the middle, clear of the links and boundary tags of a free block */
    const size_t at = round_up(obj + (need - obj - sizeof(os_memheap_t)) / 2, 64);
    os_meminfo_t before, now;

    check_context("create over a heap object");
    CHECK(at + sizeof(os_memheap_t) + 64 <= need);
    os_memory_info(&before);
    unsigned char *blk_mem = os_malloc(need);
    CHECK(blk_mem != OS_NULL);
    if (blk_mem == OS_NULL)
        return;
    os_memheap_t *lodger = (os_memheap_t *)(void *)(blk_mem + at);
    static os_memheap_t kept;
    memset(lodger, 0, sizeof *lodger);
    CHECK_EQ(os_memheap_init(lodger, "lodger"), OS_EOK);
    memcpy(&kept, lodger, sizeof kept);
    os_free(blk_mem);
    CHECK_REPORTS(0);

    CHECK(os_mp_create("lodged", count, blk) == OS_NULL);
    CHECK_REPORTS(1);
    CHECK_EQ(hook_last_code(), OS_EINVAL);
    CHECK_PTR_EQ(hook_last_addr(), blk_mem + obj);     /* the pool's memory, right after its object */
    os_memory_info(&now);
    CHECK_EQ(now.mem_used, before.mem_used);

    /* the same block again, to take the heap object out of it (its bytes are
     * written back: a new block's contents count as undefined to memory checkers) */
    unsigned char *again = os_malloc(need);
    CHECK_PTR_EQ(again, blk_mem);
    if (again == blk_mem)
        memcpy(lodger, &kept, sizeof kept);
    CHECK_EQ(os_memheap_deinit(lodger), OS_EOK);
    os_free(again);
    os_mp_t *mp = os_mp_create("lodged", count, blk);
    CHECK(mp != OS_NULL);
    if (mp)
        CHECK_EQ(os_mp_destroy(mp), OS_EOK);
    os_memory_info(&now);
    CHECK_EQ(now.mem_used, before.mem_used);
    CHECK_EQ(os_memory_check(), OS_EOK);
    CHECK_REPORTS(0);
    check_context("");
#endif
}
#endif

/* ---- bad frees ------------------------------------------------------------------------------------ */

static void bad_frees(void)
{
#if TEST_BAD_OPS
    os_mp_t mp;
    unsigned char *mem = arena + 1;
    size_t size = 4096;
    size_t stride = HDR + 64;

    check_context("bad frees");
    CHECK_EQ(os_mp_init(&mp, "bad", mem, size, 64), OS_EOK);
    unsigned char *a = os_mp_alloc(&mp, OS_NO_WAIT);
    unsigned char *b = os_mp_alloc(&mp, OS_NO_WAIT);
    CHECK(a && b);
    if (!a || !b)
        return;
    CHECK_PTR_EQ(b, a + stride);
    os_mpinfo_t before = mp_info(&mp);

    static unsigned char outside[128];
    uintptr_t ua = (uintptr_t)a;
    os_mp_free(&mp, outside + 64);                      /* foreign */
    CHECK_REPORTS(1);
    CHECK_EQ(hook_last_code(), OS_EINVAL);
    CHECK_PTR_EQ(hook_last_addr(), outside + 64);
    os_mp_free(&mp, a + 8);                             /* interior */
    os_mp_free(&mp, a + 1);
    os_mp_free(&mp, (void *)(ua - stride));             /* just below the pool */
    os_mp_free(&mp, (void *)(uintptr_t)8);
    os_mp_free(&mp, b + stride);                        /* never handed out */
    os_mp_free(&mp, a + 50 * stride);                   /* never handed out, further */
    os_mp_free(&mp, (void *)(ua + 10000 * stride));     /* past the end, on the grid */
    os_mp_free(&mp, (void *)(ua - 10000 * stride));     /* far below, on the grid */
    CHECK_REPORTS(8);
    os_mpinfo_t now = mp_info(&mp);
    CHECK(memcmp(&now, &before, sizeof now) == 0);
    CHECK_EQ(os_mp_check(&mp), OS_EOK);

    os_mp_free(&mp, a);
    CHECK_REPORTS(0);
#ifdef OS_USING_MP_CHECK_TAG
    /* double free: found in O(1), nothing changes */
    before = mp_info(&mp);
    os_mp_free(&mp, a);
    CHECKF(strstr(hook_last_msg(), "double free") != OS_NULL, "report: %s", hook_last_msg());
    CHECK_REPORTS(1);
    now = mp_info(&mp);
    CHECK(memcmp(&now, &before, sizeof now) == 0);
    CHECK_EQ(os_mp_check(&mp), OS_EOK);
    CHECK_REPORTS(0);

    /* an overrun of a into b's tag: free of b refuses, check reports */
    os_ubase_t saved;
    memcpy(&saved, b - sizeof(os_ubase_t), sizeof saved);
    test_poke(b - sizeof(os_ubase_t), 0x41, sizeof(os_ubase_t));
    os_mp_free(&mp, b);
    CHECKF(strstr(hook_last_msg(), "smashed") != OS_NULL, "report: %s", hook_last_msg());
    CHECK_REPORTS(1);
    CHECK_EQ(os_mp_check(&mp), OS_ERROR);
    CHECK_REPORTS(1);
    test_poke_bytes(b - sizeof(os_ubase_t), &saved, sizeof saved);
    CHECK_EQ(os_mp_check(&mp), OS_EOK);

    /* one byte past the usable size of the block before b: the first byte of
     * b's header, caught at every alignment and word size */
    unsigned char first = b[-(ptrdiff_t)OS_MEM_ALIGN_SIZE], flipped = (unsigned char)(first ^ 0x01);
    test_poke_bytes(b - OS_MEM_ALIGN_SIZE, &flipped, 1);
    os_mp_free(&mp, b);
    CHECKF(strstr(hook_last_msg(), "smashed") != OS_NULL, "report: %s", hook_last_msg());
    CHECK_REPORTS(1);
    CHECK_EQ(os_mp_check(&mp), OS_ERROR);
    CHECK_REPORTS(1);
    test_poke_bytes(b - OS_MEM_ALIGN_SIZE, &first, 1);
    CHECK_EQ(os_mp_check(&mp), OS_EOK);

    /* one byte past the last block handed out: the first byte of the header of the block
     * after it, never handed out; check reports it, and so does the alloc that hands that
     * block out first (the block itself is sound: served, its header written anew) */
    {
        os_mp_t fresh;
        static _Alignas(64) unsigned char fmem[4 * (HDR + 64)];
        CHECK_EQ(os_mp_init(&fresh, "fresh", fmem, sizeof fmem, 64), OS_EOK);
        unsigned char *x = os_mp_alloc(&fresh, OS_NO_WAIT);
        CHECK(x != OS_NULL);
        CHECK_EQ(os_mp_check(&fresh), OS_EOK);
        unsigned char keep = x[64], bad = (unsigned char)(keep ^ 0x01);
        test_poke_bytes(x + 64, &bad, 1);
        CHECK_EQ(os_mp_check(&fresh), OS_ERROR);
        CHECKF(strstr(hook_last_msg(), "smashed") != OS_NULL, "report: %s", hook_last_msg());
        CHECK_REPORTS(1);
        os_err_t ferr = OS_ERROR;
        unsigned char *y = os_mp_alloc_ex(&fresh, OS_NO_WAIT, &ferr);
        CHECK_PTR_EQ(y, x + HDR + 64);
        CHECK_EQ(ferr, OS_EOK);
        CHECKF(strstr(hook_last_msg(), "smashed") != OS_NULL, "report: %s", hook_last_msg());
        CHECK_PTR_EQ(hook_last_addr(), y);
        CHECK_REPORTS(1);
        CHECK_EQ(os_mp_check(&fresh), OS_EOK);
        os_mp_free(&fresh, x);
        os_mp_free(&fresh, y);
        CHECK_EQ(os_mp_check(&fresh), OS_EOK);
        CHECK_EQ(os_mp_deinit(&fresh), OS_EOK);
        CHECK_REPORTS(0);
    }

    /* a's tag and link smashed while a is free: alloc does not follow the link; it reports
     * and serves a block never handed out */
    memcpy(&saved, a - sizeof(os_ubase_t), sizeof saved);
    test_poke(a - sizeof(os_ubase_t), 0x42, sizeof(os_ubase_t));
    os_err_t err = OS_ERROR;
    unsigned char *c1 = os_mp_alloc_ex(&mp, OS_NO_WAIT, &err);
    CHECK(c1 != OS_NULL && c1 != a);
    CHECK_EQ(err, OS_EOK);
    CHECK_REPORTS(1);
    CHECK_EQ(os_mp_check(&mp), OS_ERROR);
    CHECK_REPORTS(1);
    test_poke_bytes(a - sizeof(os_ubase_t), &saved, sizeof saved);
    void *link;
    memcpy(&link, a, sizeof link);
    test_poke(a, 0x43, sizeof(void *));                 /* tag intact, link out of the pool */
    unsigned char *c2 = os_mp_alloc(&mp, OS_NO_WAIT);
    CHECK(c2 != OS_NULL && c2 != a && c2 != c1);
    CHECK_REPORTS(1);
    test_poke_bytes(a, &link, sizeof link);
    CHECK_EQ(os_mp_check(&mp), OS_EOK);
    CHECK_PTR_EQ(os_mp_alloc(&mp, OS_NO_WAIT), a);
    os_mp_free(&mp, a);
    os_mp_free(&mp, c1);
    os_mp_free(&mp, c2);
    CHECK_REPORTS(0);

    /* the same with every block handed out once: nothing to serve, OS_ERROR, and no wait */
    {
        os_mp_t small;
        static _Alignas(64) unsigned char smem[2 * (HDR + (40 + OS_MEM_ALIGN_SIZE - 1) / OS_MEM_ALIGN_SIZE * OS_MEM_ALIGN_SIZE)];
        CHECK_EQ(os_mp_init(&small, "two", smem, sizeof smem, 40), OS_EOK);   /* two blocks */
        unsigned char *x = os_mp_alloc(&small, OS_NO_WAIT), *y = os_mp_alloc(&small, OS_NO_WAIT);
        CHECK(x && y && os_mp_alloc(&small, OS_NO_WAIT) == OS_NULL);
        os_mp_free(&small, x);
        memcpy(&saved, x - sizeof(os_ubase_t), sizeof saved);
        test_poke(x - sizeof(os_ubase_t), 0x44, sizeof(os_ubase_t));
        CHECK(os_mp_alloc_ex(&small, OS_NO_WAIT, &err) == OS_NULL);
        CHECK_EQ(err, OS_ERROR);
        CHECK(os_mp_alloc_ex(&small, OS_WAIT_FOREVER, &err) == OS_NULL);
        CHECK_EQ(err, OS_ERROR);
        CHECK_REPORTS(2);
        test_poke_bytes(x - sizeof(os_ubase_t), &saved, sizeof saved);
        CHECK_PTR_EQ(os_mp_alloc(&small, OS_NO_WAIT), x);
        os_mp_free(&small, x);
        os_mp_free(&small, y);
        CHECK_EQ(os_mp_check(&small), OS_EOK);
        CHECK_EQ(os_mp_deinit(&small), OS_EOK);
        CHECK_REPORTS(0);
    }
#else
    /* no tag: free cannot see a double free while a block is in use, but check finds the broken list */
    os_mp_free(&mp, a);
    CHECK_REPORTS(0);
    CHECK_EQ(os_mp_check(&mp), OS_ERROR);
    CHECK_REPORTS(1);
#endif
    CHECK_EQ(os_mp_deinit(&mp), OS_EOK);
    CHECK_REPORTS(0);

    /*
     * A double free while no block is in use: reported with and without the
     * tag (the used count would wrap), through the inline path and the
     * function; the counters stay exact and the block is handed out once.
     */
    for (int fn = 0; fn < 2; fn++)
    {
        check_context("double free with no block in use, %s", fn ? "function" : "inline path");
        CHECK_EQ(os_mp_init(&mp, "twice", arena, 4096, 64), OS_EOK);
        a = os_mp_alloc(&mp, OS_NO_WAIT);
        CHECK(a != OS_NULL);
        os_mp_free(&mp, a);
        before = mp_info(&mp);
        if (fn)
            (os_mp_free)(&mp, a);
        else
            os_mp_free(&mp, a);
        CHECKF(strstr(hook_last_msg(), "double free") != OS_NULL, "report: %s", hook_last_msg());
        CHECK_REPORTS(1);
        now = mp_info(&mp);
        CHECK(memcmp(&now, &before, sizeof now) == 0);
        CHECK_EQ(now.blk_free_num, now.blk_total_num);
        CHECK_EQ(os_mp_check(&mp), OS_EOK);
        unsigned char *x = os_mp_alloc(&mp, OS_NO_WAIT), *y = os_mp_alloc(&mp, OS_NO_WAIT);
        CHECK(x != OS_NULL && y != OS_NULL && x != y);
        os_mp_free(&mp, x);
        os_mp_free(&mp, y);
        CHECK_EQ(os_mp_deinit(&mp), OS_EOK);
        CHECK_REPORTS(0);
    }
    check_context("");
#endif
}

/*
 * The pool object itself overwritten (its block-index arithmetic, or the
 * fast byte that lets the inline alloc and free skip the lock): check
 * reports each, also with no free block listed (nothing else then uses
 * the arithmetic); put back, the pool checks sound and works. Then the
 * counters and the free list: more blocks in use than were ever handed
 * out, a free-list entry that is not a block, and (with the tag) a free
 * block left off the list; each is reported by check and put back.
 */
static void pool_object_corruption(void)
{
#if TEST_BAD_OPS
    os_mp_t mp;

    check_context("pool object corruption");
    CHECK_EQ(os_mp_init(&mp, "obj", arena, 4096, 64), OS_EOK);
    void *a = os_mp_alloc(&mp, OS_NO_WAIT), *b = os_mp_alloc(&mp, OS_NO_WAIT);
    CHECK(a && b);
    CHECK_EQ(os_mp_check(&mp), OS_EOK);
    for (int field = 0; field < 3; field++)
    {
        static const char *const names[] = {"grid_inv", "grid_shift", "fast"};
        check_context("pool object corruption: %s", names[field]);
        os_mp_t saved = mp;
        switch (field)
        {
        case 0: mp.grid_inv ^= 2u; break;
        case 1: mp.grid_shift ^= 1u; break;
        default: mp.fast = (os_uint8_t)(mp.fast == OS_MP_FAST ? 0u : OS_MP_FAST); break;
        }
        CHECK_EQ(os_mp_check(&mp), OS_ERROR);
        CHECK_REPORTS(1);
        mp.grid_inv = saved.grid_inv;
        mp.grid_shift = saved.grid_shift;
        mp.fast = saved.fast;
        CHECK_EQ(os_mp_check(&mp), OS_EOK);
        CHECK_REPORTS(0);
    }

    /* more blocks in use than handed out */
    check_context("pool object corruption: counters");
    os_size_t used = mp.blk_used_num;
    mp.blk_used_num = mp.blk_carved_num + 1;
    CHECK_EQ(os_mp_check(&mp), OS_ERROR);
#if !TEST_SMALL_TEXTS
    CHECKF(strstr(hook_last_msg(), "used of") != OS_NULL, "report: %s", hook_last_msg());
#endif
    CHECK_REPORTS(1);
    CHECK_EQ(hook_last_code(), OS_ERROR);
    mp.blk_used_num = used;
    CHECK_EQ(os_mp_check(&mp), OS_EOK);
    CHECK_REPORTS(0);

    os_mp_free(&mp, a);
    os_mp_free(&mp, b);
    CHECK_EQ(os_mp_check(&mp), OS_EOK);
    CHECK_PTR_EQ(mp.free_list, b);      /* last freed first: b, then a */

    /* the list's head inside b rather than at its start (b's second word a null link) */
    check_context("pool object corruption: free list entry");
    unsigned char *inside = (unsigned char *)b + sizeof(void *);
    memset(inside, 0, sizeof(void *));
    mp.free_list = inside;
    CHECK_EQ(os_mp_check(&mp), OS_ERROR);
#if !TEST_SMALL_TEXTS
    CHECKF(strstr(hook_last_msg(), "not a block of the pool") != OS_NULL, "report: %s", hook_last_msg());
#endif
    CHECK_REPORTS(1);
    CHECK_EQ(hook_last_code(), OS_ERROR);
    CHECK_PTR_EQ(hook_last_addr(), inside);
    mp.free_list = b;
    CHECK_EQ(os_mp_check(&mp), OS_EOK);
    CHECK_REPORTS(0);

#ifdef OS_USING_MP_CHECK_TAG
    /* b left off the list and counted in use, though its tag says free: a sound
     * list of one block, but two blocks tagged free */
    check_context("pool object corruption: tagged free, not listed");
    mp.free_list = a;
    mp.blk_used_num = 1;
    CHECK_EQ(os_mp_check(&mp), OS_ERROR);
#if !TEST_SMALL_TEXTS
    CHECKF(strstr(hook_last_msg(), "2 blocks tagged free, 1 listed") != OS_NULL, "report: %s", hook_last_msg());
#endif
    CHECK_REPORTS(1);
    CHECK_EQ(hook_last_code(), OS_ERROR);
    mp.free_list = b;
    mp.blk_used_num = 0;
    CHECK_EQ(os_mp_check(&mp), OS_EOK);
    CHECK_REPORTS(0);
#endif
    check_context("pool object corruption");
    CHECK_EQ(mp_info(&mp).blk_free_num, mp_info(&mp).blk_total_num);
    CHECK_EQ(os_mp_deinit(&mp), OS_EOK);
    CHECK_REPORTS(0);
    check_context("");
#endif
}

/*
 * A pool object wiped without os_mp_deinit while it is in the global list
 * of pools (memset, or its memory reused): the middle one of three. A
 * region add walks the list (overlap rule) and drops it without following
 * its links; the add holds the global lock, so the report comes with the
 * next pool call, once. The pools on either side keep working, their
 * deinit writes nothing into the wiped object, and it can be initialised
 * again over its old memory. The old library followed its null links.
 */
static void wiped_pool_object(void)
{
#if TEST_BAD_OPS
    static os_mp_t p[3];
    static _Alignas(64) unsigned char mem[3][1024], region[4096];
    static const char *const names[] = {"wiped0", "wiped1", "wiped2"};
    os_memheap_t h;
    os_mp_t zero;

    check_context("pool object wiped without deinit");
    memset(&zero, 0, sizeof zero);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(os_mp_init(&p[i], names[i], mem[i], sizeof mem[i], 32), OS_EOK);
    memset(&p[1], 0, sizeof p[1]);
    heap_open(&h, "beside pools");
    heap_add_ok(&h, region, sizeof region, OS_MEM_ALG_DEFAULT);
    CHECK_REPORTS(0);
    void *x = os_mp_alloc(&p[2], OS_NO_WAIT);
    CHECK(x != OS_NULL);
    os_mp_free(&p[2], x);
    CHECK_EQ(os_mp_deinit(&p[0]), OS_EOK);
    CHECK_EQ(hook_last_code(), OS_ERROR);
#if !TEST_SMALL_TEXTS
    CHECKF(hook_seen("list of pools broken"), "report: %s", hook_last_msg());
#endif
    CHECK_REPORTS(1);
    CHECK_EQ(os_mp_deinit(&p[2]), OS_EOK);
    CHECK(memcmp(&p[1], &zero, sizeof zero) == 0);
    CHECK_EQ(os_mp_init(&p[1], names[1], mem[1], sizeof mem[1], 32), OS_EOK);
    CHECK_EQ(os_mp_init(&p[0], names[0], mem[1], sizeof mem[1], 32), OS_EINVAL);     /* p[1] is listed again */
    CHECK_REPORTED();
    CHECK_EQ(os_mp_trace(), OS_EOK);
    CHECK_EQ(os_mp_deinit(&p[1]), OS_EOK);
    CHECK_REPORTS(0);
    heap_close(&h);
    check_context("");
#endif
}

/*
 * A host heap wiped without deinit while a pool lives in one of its
 * blocks, then initialised again, with another pool in one of its new
 * blocks: the first pool's deinit must not take back the second pool's
 * count (the object is the same, the heap is not), or the heap would free
 * the block the second pool serves from. The old library did.
 */
static void wiped_host_heap(void)
{
#if TEST_BAD_OPS
    static os_mp_t p, q;
    static _Alignas(64) unsigned char r1[8192], r2[8192];
    static os_memheap_t h;
    os_meminfo_t before;
    void *b1, *b2;
    unsigned char *x;

    check_context("a host heap wiped and initialised again");
    heap_open(&h, "host");
    heap_add_ok(&h, r1, sizeof r1, OS_MEM_ALG_DEFAULT);
    b1 = os_memheap_alloc(&h, 1024);
    CHECK(b1 != OS_NULL && os_mp_init(&p, "p", b1, 1024, 32) == OS_EOK);
    memset(&h, 0, sizeof h);
    CHECK_EQ(os_memheap_init(&h, "host again"), OS_EOK);
    CHECK_REPORTS(1);       /* the wiped object, taken out of the list of heaps */
    heap_add_ok(&h, r2, sizeof r2, OS_MEM_ALG_DEFAULT);
    b2 = os_memheap_alloc(&h, 1024);
    CHECK(b2 != OS_NULL && os_mp_init(&q, "q", b2, 1024, 32) == OS_EOK);
    x = os_mp_alloc(&q, OS_NO_WAIT);
    CHECK(x != OS_NULL);
    CHECK_EQ(os_mp_deinit(&p), OS_EOK);
    CHECK_REPORTS(0);
    before = heap_info(&h);
    os_memheap_free(&h, b2);            /* q lives in it */
    CHECK_REPORTED();
    CHECK(info_unchanged(&h, &before));
    CHECK_EQ(os_memheap_deinit(&h), OS_EBUSY);
    CHECK_REPORTED();
    os_mp_free(&q, x);
    CHECK_EQ(os_mp_deinit(&q), OS_EOK);
    os_memheap_free(&h, b2);
    CHECK_REPORTS(0);
    heap_close(&h);
    check_context("");
#endif
}

/*
 * A nested heap wiped without deinit while a pool lives in one of its
 * blocks, initialised again and deinitialised: its old region (and the
 * pool in it) is still in the host's block, so that block must not be
 * freed. The old library took the old region out of the host's list of
 * nested regions with the new heap, by the object's address, and the host
 * then freed the block the pool served from.
 */
static void wiped_nested_heap(void)
{
#if TEST_BAD_OPS
    static os_mp_t p;
    static _Alignas(64) unsigned char hm[32768];
    static os_memheap_t h, n;
    os_meminfo_t before;
    void *blk, *nb;

    check_context("a nested heap wiped and initialised again");
    heap_open(&h, "host");
    heap_add_ok(&h, hm, sizeof hm, OS_MEM_ALG_DEFAULT);
    blk = os_memheap_alloc(&h, 8000);
    CHECK(blk != OS_NULL);
    if (blk == OS_NULL)
    {
        return;
    }
    heap_open(&n, "nested");
    heap_add_ok(&n, blk, 8000, OS_MEM_ALG_DEFAULT);
    nb = os_memheap_alloc(&n, 512);
    CHECK(nb != OS_NULL && os_mp_init(&p, "p", nb, 512, 32) == OS_EOK);
    CHECK(os_mp_alloc(&p, OS_NO_WAIT) != OS_NULL);
    memset(&n, 0, sizeof n);
    CHECK_EQ(os_memheap_init(&n, "nested again"), OS_EOK);
    CHECK_REPORTS(1);       /* the wiped object, taken out of the list of heaps */
    CHECK_EQ(os_memheap_deinit(&n), OS_EOK);
    CHECK_REPORTS(0);
    before = heap_info(&h);
    os_memheap_free(&h, blk);       /* the old region, with the pool, is still in it */
    CHECK_REPORTED();
    CHECK(info_unchanged(&h, &before));
    CHECK_EQ(os_memheap_check(&h), OS_EOK);
    CHECK_REPORTS(0);
    check_context("");
#endif
}

/* ---- the randomized model test ---------------------------------------------------------------------- */

#define MODEL_LIVE 600

struct live
{
    unsigned char *p;
    uint32_t       id;
};

static void model_run(os_mp_t *mp, const unsigned char *mem, size_t size, size_t blk, uint64_t seed)
{
    static struct live live[MODEL_LIVE];
    size_t nlive = 0, peak = 0;
    uint32_t next_id = 1;
    test_rng_t rng;
    os_mpinfo_t info = mp_info(mp);
    size_t usable = info.blk_size, total = info.blk_total_num;

    rng_seed(&rng, seed);
    CHECK(usable >= blk && usable < blk + OS_MEM_ALIGN_SIZE);
    for (unsigned batch = 0; batch < 40; batch++)
    {
        /* each batch leans towards filling or towards emptying */
        uint32_t bias = rng_below(&rng, 100);
        for (unsigned op = 0; op < 200; op++)
        {
            if (nlive < MODEL_LIVE && (nlive == 0 || rng_below(&rng, 100) < bias))
            {
                os_err_t err = OS_ERROR;
                unsigned char *p = os_mp_alloc_ex(mp, OS_NO_WAIT, &err);
                if (nlive == total)
                {
                    CHECKF(p == OS_NULL && err == OS_ENOMEM, "full pool gave %p (err %ld)", (void *)p, (long)err);
                    continue;
                }
                CHECKF(p != OS_NULL && err == OS_EOK, "alloc failed with %zu of %zu live (err %ld)",
                       nlive, total, (long)err);
                if (!p)
                    continue;
                CHECK(is_aligned(p, OS_MEM_ALIGN_SIZE));
                CHECK(range_inside(p, usable, mem, size));
                for (size_t i = 0; i < nlive; i++)
                    if (ranges_overlap(p, usable, live[i].p, usable))
                        CHECKF(0, "new block %p overlaps live %p", (void *)p, (void *)live[i].p);
                live[nlive].p = p;
                live[nlive].id = next_id++;
                pat_fill(p, live[nlive].id, 0, usable);
                nlive++;
                if (nlive > peak)
                    peak = nlive;
            }
            else if (nlive > 0)
            {
                size_t k = rng_below(&rng, (uint32_t)nlive);
                CHECKF(pat_ok(live[k].p, live[k].id, 0, usable), "block %p contents", (void *)live[k].p);
                os_mp_free(mp, live[k].p);
                live[k] = live[--nlive];
            }
        }
        info = mp_info(mp);
        CHECK_EQ(info.blk_free_num, total - nlive);
        CHECK_EQ(info.blk_maxused_num, peak);
        CHECK_EQ(info.blk_total_num, total);
        CHECK_EQ(os_mp_check(mp), OS_EOK);
        for (size_t i = 0; i < nlive; i++)
            CHECKF(pat_ok(live[i].p, live[i].id, 0, usable), "block %p contents", (void *)live[i].p);
    }
    while (nlive > 0)
        os_mp_free(mp, live[--nlive].p);
    info = mp_info(mp);
    CHECK_EQ(info.blk_free_num, total);
    CHECK_EQ(os_mp_check(mp), OS_EOK);
}

static void model(void)
{
    static const size_t sizes[] = {8, 13, 64, 96, 200, 1024};
    for (unsigned seed = 0; seed < 6; seed++)
    {
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        {
            os_mp_t mp;
            size_t blk = sizes[si];
            unsigned char *mem = arena + (seed * 7) % 64;
            /* from a handful of blocks to more than the model holds */
            size_t size = 1 + (seed % 3 == 0 ? 5 : seed % 3 == 1 ? 300 : 800) *
                                  (round_up(blk, OS_MEM_ALIGN_SIZE) + HDR + OS_MEM_ALIGN_SIZE);
            if (size > sizeof arena - 64)
                size = sizeof arena - 64;
            check_context("model seed=%u blk=%zu size=%zu", seed, blk, size);
            CHECK_EQ(os_mp_init(&mp, "model", mem, size, blk), OS_EOK);
            model_run(&mp, mem, size, blk, seed * 1000 + si);
            CHECK_EQ(os_mp_deinit(&mp), OS_EOK);
        }
#ifdef OS_USING_SYS_HEAP
        os_mp_t *mp = os_mp_create("model_heap", 40 + seed * 50, 24 + seed);
        CHECK(mp != OS_NULL);
        if (mp)
        {
            check_context("model created seed=%u", seed);
            model_run(mp, (unsigned char *)mp,
                      round_up(sizeof(os_mp_t), OS_MEM_ALIGN_SIZE) +
                          (40 + seed * 50) * (HDR + round_up(24 + seed, OS_MEM_ALIGN_SIZE)),
                      24 + seed, seed);
            CHECK_EQ(os_mp_destroy(mp), OS_EOK);
        }
#endif
    }
    CHECK_REPORTS(0);
    check_context("");
}

/* ---- the trace -------------------------------------------------------------------------------------- */

/* Run os_mp_trace() and return its output (NUL-terminated, static). */
static const char *trace_output(void)
{
#ifdef OS_MEM_PORT_BAREMETAL
    static const struct os_mem_port_hooks hooks = {.puts = capture_puts};
    capture_reset();
    os_mem_port_set_hooks(&hooks);
    CHECK_EQ(os_mp_trace(), OS_EOK);
    os_mem_port_set_hooks(OS_NULL);
    return capture_text();
#else
    static char buf[8192];
    FILE *tmp = tmpfile();
    int saved = dup(1);
    size_t n = 0;
    buf[0] = '\0';
    if (!tmp || saved < 0)
    {
        CHECK(0);
        return buf;
    }
    fflush(stdout);
    dup2(fileno(tmp), 1);
    CHECK_EQ(os_mp_trace(), OS_EOK);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    rewind(tmp);
    n = fread(buf, 1, sizeof buf - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
    return buf;
#endif
}

static void trace(void)
{
    os_mp_t a, b;
    check_context("trace");
    CHECK_EQ(os_mp_init(&a, "trace_a", arena, 4096, 32), OS_EOK);
    CHECK_EQ(os_mp_init(&b, "trace_b", arena + 8192, 4096, 100), OS_EOK);
    void *p = os_mp_alloc(&b, OS_NO_WAIT);
    const char *s = trace_output();
    CHECKF(strstr(s, "mempool") != OS_NULL, "trace output: '%s'", s);
#if OS_NAME_MAX >= 7     /* the rows are found by the pools' names */
    CHECKF(strstr(s, "trace_a") != OS_NULL && strstr(s, "trace_b") != OS_NULL, "trace output: '%s'", s);
    /* trace_b's line: name, block size, total, free, peak */
    const char *l = strstr(s, "trace_b");
    size_t blk = 0, total = 0, nfree = 0, peak = 0;
    CHECKF(l && sscanf(l, "trace_b %zu %zu %zu %zu", &blk, &total, &nfree, &peak) == 4, "trace: '%s'", s);
    size_t want = expected_blocks(arena + 8192, 4096, 100);
    CHECK_EQ(blk, round_up(100, OS_MEM_ALIGN_SIZE));
    CHECK_EQ(total, want);
    CHECK_EQ(nfree, want - 1);
    CHECK_EQ(peak, 1);
    /* more pools than the trace copies at a time: each listed once */
    static os_mp_t many[21];
    static _Alignas(64) unsigned char many_mem[21][256];
    for (int i = 0; i < 21; i++)
    {
        char name[8];
        snprintf(name, sizeof name, "tp%02d", i);
        CHECK_EQ(os_mp_init(&many[i], name, many_mem[i], sizeof many_mem[i], 32), OS_EOK);
    }
    s = trace_output();
    for (int i = 0; i < 21; i++)
    {
        char name[8];
        snprintf(name, sizeof name, "tp%02d ", i);
        const char *at = strstr(s, name);
        CHECKF(at != OS_NULL && strstr(at + 1, name) == OS_NULL, "pool %s listed %s: '%s'", name,
               at == OS_NULL ? "never" : "twice", s);
    }
    CHECKF(strstr(s, "trace_a") != OS_NULL && strstr(s, "trace_b") != OS_NULL, "trace output: '%s'", s);
    for (int i = 0; i < 21; i++)
        CHECK_EQ(os_mp_deinit(&many[i]), OS_EOK);
#endif
    os_mp_free(&b, p);
    CHECK_EQ(os_mp_deinit(&a), OS_EOK);
    CHECK_EQ(os_mp_deinit(&b), OS_EOK);
    s = trace_output();
    CHECKF(strstr(s, "trace_a") == OS_NULL, "deinit pool still listed: '%s'", s);
    CHECK_REPORTS(0);
    check_context("");
}

/* ---- waiting, POSIX threads ---------------------------------------------------------------------------- */

#ifdef OS_MEM_PORT_POSIX

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

static void sleep_ms(unsigned ms)
{
    struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Wait (up to 20 s) until n allocations are blocked on mp. */
static int wait_for_waiters(os_mp_t *mp, size_t n)
{
    double end = now_ms() + 20000.0;
    while (now_ms() < end)
    {
        os_mpinfo_t i = mp_info(mp);
        if (i.waiting_num == n)
            return 1;
        sleep_ms(1);
    }
    CHECKF(0, "%zu waiters never showed up", n);
    return 0;
}

struct waiter_arg
{
    os_mp_t   *mp;
    os_tick_t  timeout;
    void      *got;
    os_err_t   err;
    double     elapsed;
};

static void *waiter_main(void *arg)
{
    struct waiter_arg *w = arg;
    double t0 = now_ms();
    w->got = os_mp_alloc_ex(w->mp, w->timeout, &w->err);
    w->elapsed = now_ms() - t0;
    return NULL;
}

static void start_waiter(pthread_t *t, struct waiter_arg *w, os_mp_t *mp, os_tick_t timeout)
{
    memset(w, 0, sizeof *w);
    w->mp = mp;
    w->timeout = timeout;
    w->err = OS_ERROR;
    CHECK_EQ(pthread_create(t, NULL, waiter_main, w), 0);
}

/* A pool of n blocks, all allocated into held[]. */
static void full_pool(os_mp_t *mp, void **held, size_t n, const char *name)
{
    CHECK_EQ(os_mp_init(mp, name, arena, n * (64 + HDR), 64), OS_EOK);
    for (size_t i = 0; i < n; i++)
        CHECK((held[i] = os_mp_alloc(mp, OS_NO_WAIT)) != OS_NULL);
    CHECK(os_mp_alloc(mp, OS_NO_WAIT) == OS_NULL);
}

static void timeouts(void)
{
    os_mp_t mp;
    void *held[3];
    os_err_t err = OS_EOK;

    check_context("timeouts");
    full_pool(&mp, held, 3, "timeouts");

    /* OS_NO_WAIT on an empty pool: at once, OS_ENOMEM */
    CHECK(os_mp_alloc_ex(&mp, OS_NO_WAIT, &err) == OS_NULL);
    CHECK_EQ(err, OS_ENOMEM);

    /* 50 ms: OS_NULL with OS_ETIMEOUT after at least 50 ms */
    double t0 = now_ms();
    CHECK(os_mp_alloc_ex(&mp, 50, &err) == OS_NULL);
    double dt = now_ms() - t0;
    CHECK_EQ(err, OS_ETIMEOUT);
    CHECKF(dt >= 50.0, "50-tick timeout returned after %.3f ms", dt);
    CHECK(os_mp_alloc(&mp, 1) == OS_NULL);
    os_mpinfo_t info = mp_info(&mp);
    CHECK_EQ(info.waiting_num, 0);
    CHECK_EQ(os_mp_check(&mp), OS_EOK);

    /* a timed wait served by a free from this thread; the freed block itself, no barging */
    for (int forever = 0; forever < 2; forever++)
    {
        pthread_t t;
        struct waiter_arg w;
        start_waiter(&t, &w, &mp, forever ? OS_WAIT_FOREVER : 60000);
        wait_for_waiters(&mp, 1);
        CHECK_EQ(os_mp_check(&mp), OS_EOK);
        if (forever && TEST_BAD_OPS)
        {
            /* a count saying a block was never handed out, while an allocation waits: reported */
            os_size_t carved = mp.blk_carved_num;
            mp.blk_carved_num = carved - 1;
            mp.blk_used_num--;
            CHECK_EQ(os_mp_check(&mp), OS_ERROR);
            CHECK_REPORTS(1);
            mp.blk_carved_num = carved;
            mp.blk_used_num++;
            CHECK_EQ(os_mp_check(&mp), OS_EOK);
        }
        os_mp_free(&mp, held[1]);
        CHECK(os_mp_alloc(&mp, OS_NO_WAIT) == OS_NULL);     /* the block went to the waiter */
        pthread_join(t, NULL);
        CHECK_PTR_EQ(w.got, held[1]);
        CHECK_EQ(w.err, OS_EOK);
        info = mp_info(&mp);
        CHECK_EQ(info.blk_free_num, 0);
        CHECK_EQ(info.waiting_num, 0);
    }
    /* a waiter that times out while another is served */
    {
        pthread_t t1, t2;
        struct waiter_arg w1, w2;
        start_waiter(&t1, &w1, &mp, 60000);
        wait_for_waiters(&mp, 1);
        start_waiter(&t2, &w2, &mp, 30);
        pthread_join(t2, NULL);
        CHECK(w2.got == OS_NULL);
        CHECK_EQ(w2.err, OS_ETIMEOUT);
        CHECKF(w2.elapsed >= 30.0, "30-tick timeout after %.3f ms", w2.elapsed);
        os_mp_free(&mp, held[0]);
        pthread_join(t1, NULL);
        CHECK_PTR_EQ(w1.got, held[0]);
        CHECK_EQ(w1.err, OS_EOK);
    }
    for (int i = 0; i < 3; i++)
        os_mp_free(&mp, held[i]);
    info = mp_info(&mp);
    CHECK_EQ(info.blk_free_num, 3);
    CHECK_EQ(os_mp_check(&mp), OS_EOK);
    CHECK_EQ(os_mp_deinit(&mp), OS_EOK);
    CHECK_REPORTS(0);
    check_context("");
}

static void fifo(void)
{
    os_mp_t mp;
    void *held[3];
    pthread_t t[3];
    struct waiter_arg w[3];

    check_context("fifo");
    full_pool(&mp, held, 3, "fifo");
    for (size_t i = 0; i < 3; i++)
    {
        /* the second waits longest: order is by arrival, not by timeout */
        start_waiter(&t[i], &w[i], &mp, i == 1 ? OS_WAIT_FOREVER : (os_tick_t)(60000 + 1000 * i));
        wait_for_waiters(&mp, i + 1);
    }
    os_mp_free(&mp, held[2]);
    os_mp_free(&mp, held[0]);
    os_mp_free(&mp, held[1]);
    for (size_t i = 0; i < 3; i++)
    {
        pthread_join(t[i], NULL);
        CHECK_EQ(w[i].err, OS_EOK);
    }
    CHECK_PTR_EQ(w[0].got, held[2]);
    CHECK_PTR_EQ(w[1].got, held[0]);
    CHECK_PTR_EQ(w[2].got, held[1]);
    for (size_t i = 0; i < 3; i++)
        os_mp_free(&mp, w[i].got);
    CHECK_EQ(os_mp_check(&mp), OS_EOK);
    CHECK_EQ(os_mp_deinit(&mp), OS_EOK);
    CHECK_REPORTS(0);
    check_context("");
}

static void deinit_while_waiting(void)
{
    os_mp_t mp;
    void *held[2];
    pthread_t t[3];
    struct waiter_arg w[3];

    check_context("deinit while waiting");
    full_pool(&mp, held, 2, "deinit");
    start_waiter(&t[0], &w[0], &mp, OS_WAIT_FOREVER);
    start_waiter(&t[1], &w[1], &mp, 60000);
    start_waiter(&t[2], &w[2], &mp, OS_WAIT_FOREVER);
    wait_for_waiters(&mp, 3);
    CHECK_EQ(os_mp_deinit(&mp), OS_EOK);
    /* deinit has returned: every waiter has left the pool; the object may go */
    memset(&mp, 0xCD, sizeof mp);
    for (size_t i = 0; i < 3; i++)
    {
        pthread_join(t[i], NULL);
        CHECK(w[i].got == OS_NULL);
        CHECK_EQ(w[i].err, OS_EINTR);
    }
    CHECK_REPORTS(0);

#ifdef OS_USING_SYS_HEAP
    /* the same through os_mp_destroy: the pool object itself is freed */
    os_mp_t *dp = os_mp_create("destroyed", 1, 32);
    CHECK(dp != OS_NULL);
    if (dp)
    {
        void *b = os_mp_alloc(dp, OS_NO_WAIT);
        CHECK(b != OS_NULL);
        start_waiter(&t[0], &w[0], dp, OS_WAIT_FOREVER);
        wait_for_waiters(dp, 1);
        CHECK_EQ(os_mp_destroy(dp), OS_EOK);
        pthread_join(t[0], NULL);
        CHECK(w[0].got == OS_NULL);
        CHECK_EQ(w[0].err, OS_EINTR);
    }
#endif
    CHECK_REPORTS(0);
    check_context("");
}

/*
 * An alloc that waits forever on an empty pool races a deinit (a third
 * thread keeps the pool's lock busy, so the alloc often passes its check
 * before the deinit and takes the lock after it). Whichever comes first,
 * the alloc must return: OS_EINTR if it was waiting when deinit came,
 * OS_EINVAL (reported) if it came after. Before the fix it could queue on
 * the dead pool and never return.
 */
#define RACE_ROUNDS 2000

static os_mp_t race_mp;
static atomic_int race_phase;   /* 0 stop, 1 paused (the pool is being set up), 2 run */
static atomic_int race_in_call;
static sem_t race_done;

static void *race_alloc(void *arg)
{
    struct waiter_arg *w = arg;
    w->got = os_mp_alloc_ex(&race_mp, OS_WAIT_FOREVER, &w->err);
    sem_post(&race_done);
    return NULL;
}

static void *race_busy(void *arg)
{
    (void)arg;
    while (atomic_load(&race_phase) != 0)
    {
        atomic_store(&race_in_call, 1);
        if (atomic_load(&race_phase) == 2)
        {
            os_mpinfo_t i;
            (void)os_mp_info(&race_mp, &i);     /* takes the pool lock (refused once deinit is done) */
        }
        atomic_store(&race_in_call, 0);
    }
    return NULL;
}

static void deinit_racing_alloc(void)
{
    static _Alignas(64) unsigned char mem[2 * OS_MEM_ALIGN_SIZE + 256];     /* one block of 200 */
    pthread_t busy, t;
    struct waiter_arg w;
    unsigned stuck = 0;

    check_context("deinit racing an alloc");
    atomic_store(&race_phase, 1);
    CHECK(sem_init(&race_done, 0, 0) == 0);
    CHECK(pthread_create(&busy, NULL, race_busy, NULL) == 0);
    for (unsigned round = 0; round < RACE_ROUNDS && stuck == 0; round++)
    {
        atomic_store(&race_phase, 1);       /* no call on the pool while it is set up again */
        while (atomic_load(&race_in_call))
            ;
        CHECK_EQ(os_mp_init(&race_mp, "race", mem, sizeof mem, 200), OS_EOK);
        void *held = os_mp_alloc(&race_mp, OS_NO_WAIT);     /* the only block: the pool is empty */
        CHECK(held != NULL);
        atomic_store(&race_phase, 2);
        memset(&w, 0, sizeof w);
        CHECK(pthread_create(&t, NULL, race_alloc, &w) == 0);
        CHECK_EQ(os_mp_deinit(&race_mp), OS_EOK);
        struct timespec end;
        clock_gettime(CLOCK_REALTIME, &end);
        end.tv_sec += 10;
        if (sem_timedwait(&race_done, &end) != 0)
        {
            stuck++;
            CHECKF(0, "round %u: the alloc is still blocked 10 s after deinit returned", round);
            pthread_detach(t);
            continue;
        }
        pthread_join(t, NULL);
        CHECK(w.got == NULL);
        CHECKF(w.err == OS_EINTR || w.err == OS_EINVAL, "round %u: err %d", round, (int)w.err);
    }
    atomic_store(&race_phase, 0);
    pthread_join(busy, NULL);
    sem_destroy(&race_done);
    hook_reset();
    check_context("");
}

/* 4 threads on a pool of 6 blocks: every mode of alloc, contents checked. */
#define STRESS_THREADS 4
#define STRESS_OPS     3000

static os_mp_t stress_mp;

static void *stress_main(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    test_rng_t rng;
    void *mine[3];
    uint32_t tag[3];
    size_t n = 0;
    rng_seed(&rng, id + 77);
    for (unsigned op = 0; op < STRESS_OPS; op++)
    {
        if (n < 3 && rng_below(&rng, 2) == 0)
        {
            uint32_t mode = rng_below(&rng, 3);
            os_tick_t to = mode == 0 ? OS_NO_WAIT : mode == 1 ? (os_tick_t)rng_below(&rng, 3) : 20;
            os_err_t err = OS_ERROR;
            void *p = os_mp_alloc_ex(&stress_mp, to, &err);
            if (p)
            {
                CHECK_EQ(err, OS_EOK);
                tag[n] = id * 100000u + op;
                pat_fill(p, tag[n], 0, 64);
                mine[n++] = p;
            }
            else
            {
                CHECKF(err == (to == OS_NO_WAIT ? OS_ENOMEM : OS_ETIMEOUT), "err %ld", (long)err);
            }
        }
        else if (n > 0)
        {
            size_t k = rng_below(&rng, (uint32_t)n);
            void *p = mine[k];
            CHECK(pat_ok(p, tag[k], 0, 64));
            memset(p, 0, 64);
            os_mp_free(&stress_mp, p);
            n--;
            mine[k] = mine[n];
            tag[k] = tag[n];
        }
    }
    while (n > 0)
        os_mp_free(&stress_mp, mine[--n]);
    return NULL;
}

static void stress(void)
{
    pthread_t t[STRESS_THREADS];
    check_context("stress");
    CHECK_EQ(os_mp_init(&stress_mp, "stress", arena, 6 * (64 + HDR), 64), OS_EOK);
    for (unsigned i = 0; i < STRESS_THREADS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, stress_main, (void *)(uintptr_t)i), 0);
    for (unsigned i = 0; i < STRESS_THREADS; i++)
        pthread_join(t[i], NULL);
    os_mpinfo_t info = mp_info(&stress_mp);
    CHECK_EQ(info.blk_free_num, 6);
    CHECK_EQ(info.waiting_num, 0);
    CHECK_EQ(os_mp_check(&stress_mp), OS_EOK);
    CHECK_EQ(os_mp_deinit(&stress_mp), OS_EOK);
    CHECK_REPORTS(0);
    check_context("");
}

#endif /* OS_MEM_PORT_POSIX */

/* ---- bare-metal: interrupts and wait hooks ----------------------------------------------------------------- */

#ifdef OS_MEM_PORT_BAREMETAL

static int       isr;
static unsigned  locks, unlocks;
static os_mp_t   bm_mp;
static void     *bm_free_during_wait;   /* freed "by an interrupt" while a thread waits */
static unsigned  inits, waits, wakes, finis;
static os_tick_t last_timeout;

/* Armed: the next lock runs this first (once), as if another task had run just before it. */
static void (*lock_call)(void);

static os_ubase_t h_lock(os_ubase_t *w)
{
    if (lock_call != OS_NULL)
    {
        void (*fn)(void) = lock_call;
        lock_call = OS_NULL;
        fn();
    }
    locks++;
    CHECKF(*w == 0, "lock taken twice");
    *w = 1;
    return 7;
}

static void h_unlock(os_ubase_t *w, os_ubase_t st)
{
    unlocks++;
    CHECK(*w == 1 && st == 7);
    *w = 0;
}

static int h_in_isr(void)
{
    return isr;
}

/* With OS_MEM_PORT_NO_LOCK the lock hooks are never called. */
#ifdef OS_MEM_PORT_NO_LOCK
#define LOCK_HELD 0
#else
#define LOCK_HELD 1
#endif

static int lock_held = LOCK_HELD;  /* the pool lock word while a wait hook runs under it */

static int w_init(struct os_mem_wait *w)
{
    inits++;
    CHECK(bm_mp.lock == (os_ubase_t)lock_held);     /* called with the pool lock held */
    w->task = &bm_mp;
    return 0;
}

static os_err_t w_wait(struct os_mem_wait *w, os_tick_t timeout)
{
    waits++;
    last_timeout = timeout;
    CHECK(bm_mp.lock == 0);     /* called without the lock */
    CHECK_PTR_EQ(w->task, &bm_mp);
    if (bm_free_during_wait)
    {
        /* an interrupt frees a block while the thread sleeps */
        isr = 1;
        os_mp_free(&bm_mp, bm_free_during_wait);
        isr = 0;
        bm_free_during_wait = OS_NULL;
    }
    return w->word ? OS_EOK : OS_ETIMEOUT;
}

static void w_wake(struct os_mem_wait *w)
{
    wakes++;
    CHECK(bm_mp.lock == (os_ubase_t)lock_held);
    w->word = 1;
}

static void w_fini(struct os_mem_wait *w)
{
    (void)w;
    finis++;
}

static void baremetal(void)
{
    static const struct os_mem_port_hooks hooks = {.lock = h_lock, .unlock = h_unlock, .in_isr = h_in_isr,
                                                   .puts = capture_puts};
    static const struct os_mem_wait_hooks whooks = {w_init, w_wait, w_wake, w_fini};
    void *held[2];
    os_err_t err = OS_EOK;

    check_context("bare-metal");
    os_mem_port_set_hooks(&hooks);
    CHECK_EQ(os_mp_init(&bm_mp, "bm", arena, 2 * (64 + HDR), 64), OS_EOK);

#ifndef OS_MEM_PORT_NO_LOCK     /* with no lock, the interrupt hook is not consulted */
    /* from an interrupt: OS_NO_WAIT alloc and free work; blocking alloc is refused */
    isr = 1;
    held[0] = os_mp_alloc(&bm_mp, OS_NO_WAIT);
    CHECK(held[0] != OS_NULL);
    CHECK(os_mp_alloc_ex(&bm_mp, 10, &err) == OS_NULL);
    CHECK_EQ(err, OS_EPERM);
    CHECK_REPORTS(1);
    CHECK(os_mp_alloc(&bm_mp, OS_WAIT_FOREVER) == OS_NULL);
    CHECK_REPORTS(1);
    CHECK_EQ(hook_last_code(), OS_EPERM);
    os_mp_free(&bm_mp, held[0]);
    CHECK_EQ(os_mp_check(&bm_mp), OS_EPERM);      /* O(N): refused in an interrupt */
    CHECK_EQ(os_mp_deinit(&bm_mp), OS_EPERM);
    CHECK_REPORTS(2);
    /* init and the trace are refused too: reported, no lock taken, nothing made or printed */
    {
        static os_mp_t in_isr_mp;
        unsigned l0 = locks;
        CHECK_EQ(os_mp_init(&in_isr_mp, "in_isr", arena + 64 * KiB, 1024, 32), OS_EPERM);
        CHECK_REPORTS(1);
        CHECK_EQ(hook_last_code(), OS_EPERM);
        capture_reset();
        CHECK_EQ(os_mp_trace(), OS_EPERM);
        CHECK_REPORTS(1);
        CHECK_EQ(hook_last_code(), OS_EPERM);
        CHECK_EQ(capture_len(), 0);
        CHECK_EQ(locks, l0);
        isr = 0;
        os_mpinfo_t none;
        CHECK_EQ(os_mp_info(&in_isr_mp, &none), OS_EINVAL);     /* not made */
        CHECK_REPORTS(1);
        CHECK_EQ(os_mp_init(&in_isr_mp, "in_isr", arena + 64 * KiB, 1024, 32), OS_EOK);
        CHECK_EQ(os_mp_deinit(&in_isr_mp), OS_EOK);
        CHECK_REPORTS(0);
        isr = 1;
    }
#endif
    os_mpinfo_t info;
    CHECK_EQ(os_mp_info(&bm_mp, &info), OS_EOK);
    CHECK_EQ(info.blk_free_num, 2);
    isr = 0;

    /* no wait hooks: a blocking alloc behaves like OS_NO_WAIT */
    held[0] = os_mp_alloc(&bm_mp, OS_NO_WAIT);
    held[1] = os_mp_alloc(&bm_mp, OS_NO_WAIT);
    CHECK(held[0] && held[1]);
    CHECK(os_mp_alloc_ex(&bm_mp, 100, &err) == OS_NULL);
    CHECK_EQ(err, OS_ENOMEM);
    CHECK(os_mp_alloc_ex(&bm_mp, OS_WAIT_FOREVER, &err) == OS_NULL);
    CHECK_EQ(err, OS_ENOMEM);

    /* wait hooks: a free from an interrupt serves the waiter; a timeout */
    os_mem_port_set_wait_hooks(&whooks);
    bm_free_during_wait = held[1];
    CHECK_PTR_EQ(os_mp_alloc_ex(&bm_mp, 25, &err), held[1]);
    CHECK_EQ(err, OS_EOK);
    CHECK_EQ(last_timeout, 25);
    CHECK_EQ(inits, 1);
    CHECK_EQ(waits, 1);
    CHECK_EQ(wakes, 1);
    CHECK_EQ(finis, 1);
    CHECK(os_mp_alloc_ex(&bm_mp, OS_WAIT_FOREVER, &err) == OS_NULL);   /* the hook times out */
    CHECK_EQ(err, OS_ETIMEOUT);
    CHECK_EQ(last_timeout, OS_WAIT_FOREVER);
    CHECK_EQ(wakes, 1);
    CHECK_EQ(finis, 2);
    info = mp_info(&bm_mp);
    CHECK_EQ(info.waiting_num, 0);
    CHECK_EQ(os_mp_check(&bm_mp), OS_EOK);
    os_mp_free(&bm_mp, held[0]);
    os_mp_free(&bm_mp, held[1]);
    CHECK_EQ(os_mp_deinit(&bm_mp), OS_EOK);
    os_mem_port_set_wait_hooks(OS_NULL);
    CHECK_EQ(locks, unlocks);
    os_mem_port_set_hooks(OS_NULL);
    CHECK_REPORTS(0);
    check_context("");
}
#endif

#ifdef OS_MEM_PORT_BAREMETAL
/*
 * An idle port (no lock hooks): alloc and free may run inline (os_mempool.h).
 * Installing lock hooks later makes every call of an existing pool take the
 * lock; a blocked allocation makes a free hand its block over.
 */
static void baremetal_idle(void)
{
    static const struct os_mem_port_hooks hooks = {.lock = h_lock, .unlock = h_unlock};
    static const struct os_mem_wait_hooks whooks = {w_init, w_wait, w_wake, w_fini};
    unsigned l0;
    void *held[2];
    os_err_t err = OS_EOK;

    check_context("bare-metal, idle port");
    os_mem_port_set_hooks(OS_NULL);
    CHECK_EQ(os_mp_init(&bm_mp, "bm_idle", arena, 2 * (64 + HDR), 64), OS_EOK);
    held[0] = os_mp_alloc(&bm_mp, OS_NO_WAIT);
    held[1] = os_mp_alloc(&bm_mp, OS_NO_WAIT);
    CHECK(held[0] != OS_NULL && held[1] != OS_NULL && held[0] != held[1]);
    CHECK(os_mp_alloc(&bm_mp, OS_NO_WAIT) == OS_NULL);
#if TEST_BAD_OPS
    os_mp_free(&bm_mp, (unsigned char *)held[0] + 8);  /* not a block start: refused */
    CHECK_REPORTS(1);
#endif
    os_mp_free(&bm_mp, held[0]);
    CHECK_PTR_EQ(os_mp_alloc(&bm_mp, OS_NO_WAIT), held[0]);
    CHECK_EQ(mp_info(&bm_mp).blk_free_num, 0);

    /* lock hooks installed after the pool was made: every call locks, and check finds the pool sound (its
     * fast byte follows the port, in every build) */
    os_mem_port_set_hooks(&hooks);
    CHECK_EQ(os_mp_check(&bm_mp), OS_EOK);
    l0 = locks;
    os_mp_free(&bm_mp, held[1]);
    CHECK_PTR_EQ(os_mp_alloc(&bm_mp, OS_NO_WAIT), held[1]);
#ifndef OS_MEM_PORT_NO_LOCK
    CHECK_EQ(locks, l0 + 2);
#endif
    CHECK_EQ(locks, unlocks);
    os_mem_port_set_hooks(OS_NULL);
    CHECK_EQ(os_mp_check(&bm_mp), OS_EOK);
    l0 = locks;
    os_mp_free(&bm_mp, held[1]);
    CHECK_PTR_EQ(os_mp_alloc(&bm_mp, OS_NO_WAIT), held[1]);
    CHECK_EQ(locks, l0);

    /* a blocked allocation on the idle port: the free during the wait is handed over */
    lock_held = 0;
    inits = waits = wakes = finis = 0;
    os_mem_port_set_wait_hooks(&whooks);
    bm_free_during_wait = held[0];
    CHECK_PTR_EQ(os_mp_alloc_ex(&bm_mp, 5, &err), held[0]);
    CHECK_EQ(err, OS_EOK);
    CHECK_EQ(wakes, 1);
    CHECK_EQ(mp_info(&bm_mp).blk_free_num, 0);
    CHECK_EQ(os_mp_check(&bm_mp), OS_EOK);
    os_mp_free(&bm_mp, held[0]);                    /* nobody waits now: to the list */
    CHECK_EQ(mp_info(&bm_mp).blk_free_num, 1);
    os_mem_port_set_wait_hooks(OS_NULL);
    lock_held = LOCK_HELD;
    os_mp_free(&bm_mp, held[1]);
    CHECK_EQ(os_mp_check(&bm_mp), OS_EOK);
    CHECK_EQ(mp_info(&bm_mp).blk_free_num, 2);
    CHECK_EQ(os_mp_deinit(&bm_mp), OS_EOK);
    os_mp_free(&bm_mp, held[0]);                    /* a pool no longer initialised: refused */
    CHECK_REPORTS(1);
    CHECK(os_mp_alloc(&bm_mp, OS_NO_WAIT) == OS_NULL);
    CHECK_REPORTS(1);
    check_context("");
}
#endif

#if defined(OS_MEM_PORT_BAREMETAL) && !defined(OS_MEM_PORT_NO_LOCK)
/*
 * Another task's deinit runs after a call on the pool has passed its entry
 * check and before that call takes its first lock (the lock hook runs it).
 * A second deinit returns OS_EINVAL (reported) and undoes nothing twice:
 * the heap that holds the memory of the first pool and of another one still
 * counts the other one, so its block is not freed under it. A free finds no
 * pool any more: reported as such, and nothing written into the block.
 */
static os_err_t race_err;

static void deinit_bm_mp(void)
{
    race_err = os_mp_deinit(&bm_mp);
}

static void baremetal_races(void)
{
    static const struct os_mem_port_hooks hooks = {.lock = h_lock, .unlock = h_unlock, .in_isr = h_in_isr};
    static _Alignas(64) unsigned char hmem[8 * KiB];
    static os_memheap_t host;
    static os_mp_t other;
    const size_t bytes = 1024;

    check_context("bare-metal: deinit overtaken by another deinit");
    isr = 0;
    os_mem_port_set_hooks(&hooks);
    heap_open(&host, "races");
    heap_add_ok(&host, hmem, sizeof hmem, OS_MEM_ALG_DEFAULT);
    unsigned char *first = os_memheap_alloc(&host, bytes), *second = os_memheap_alloc(&host, bytes);
    CHECK(first != OS_NULL && second != OS_NULL);
    if (first == OS_NULL || second == OS_NULL)
        return;
    CHECK_EQ(os_mp_init(&bm_mp, "raced", first, bytes, 64), OS_EOK);
    CHECK_EQ(os_mp_init(&other, "other", second, bytes, 64), OS_EOK);
    unsigned l0 = locks, u0 = unlocks;

    race_err = OS_ERROR;
    lock_call = deinit_bm_mp;
    CHECK_EQ(os_mp_deinit(&bm_mp), OS_EINVAL);
    CHECK(lock_call == OS_NULL);
    CHECK_EQ(race_err, OS_EOK);         /* the other task's deinit did the work */
    CHECK_REPORTS(1);
    CHECK_EQ(hook_last_code(), OS_EINVAL);
    CHECK_PTR_EQ(hook_last_addr(), &bm_mp);
    CHECK(locks > l0);
    CHECK_EQ(locks - l0, unlocks - u0);
    /* deinitialised once: the host heap still guards the other pool's block, no longer the first */
    os_memheap_free(&host, second);
    CHECK_REPORTS(1);
    CHECK_EQ(hook_last_code(), OS_EBUSY);
    CHECK_EQ(os_mp_check(&other), OS_EOK);
    os_memheap_free(&host, first);
    CHECK_REPORTS(0);
    first = os_memheap_alloc(&host, bytes);
    CHECK(first != OS_NULL);
    if (first == OS_NULL)
        return;

    check_context("bare-metal: free overtaken by a deinit");
    CHECK_EQ(os_mp_init(&bm_mp, "raced", first, bytes, 64), OS_EOK);
    unsigned char *blk = os_mp_alloc(&bm_mp, OS_NO_WAIT);
    CHECK(blk != OS_NULL);
    if (blk == OS_NULL)
        return;
    pat_fill(blk, 7, 0, 64);
    race_err = OS_ERROR;
    l0 = locks;
    u0 = unlocks;
    lock_call = deinit_bm_mp;
    os_mp_free(&bm_mp, blk);
    CHECK(lock_call == OS_NULL);
    CHECK_EQ(race_err, OS_EOK);
#if !TEST_SMALL_TEXTS
    CHECKF(strstr(hook_last_msg(), "not initialised") != OS_NULL, "report: %s", hook_last_msg());
#endif
    CHECK_REPORTS(1);
    CHECK_EQ(hook_last_code(), OS_EINVAL);
    CHECK_PTR_EQ(hook_last_addr(), &bm_mp);   /* the pool named, not the block */
    CHECK_EQ(locks - l0, unlocks - u0);
    CHECK(pat_ok(blk, 7, 0, 64));       /* not linked into any list */
    os_mpinfo_t none;
    CHECK_EQ(os_mp_info(&bm_mp, &none), OS_EINVAL);
    CHECK_REPORTS(1);
    os_memheap_free(&host, first);      /* no pool holds it */
    CHECK_REPORTS(0);

    CHECK_EQ(os_mp_deinit(&other), OS_EOK);
    os_memheap_free(&host, second);
    CHECK_EQ(heap_info(&host).mem_used, 0);
    heap_close(&host);
    CHECK_EQ(locks, unlocks);
    os_mem_port_set_hooks(OS_NULL);
    CHECK_REPORTS(0);
    check_context("");
}

/*
 * deinit from a thread that cannot block (its wait init hook refuses) while
 * an allocation it has just woken has not left the pool yet: deinit lets go
 * of the pool's lock and takes it again until the waiter has left, and only
 * then returns. Two threads on the bare-metal port, with spin locks and a
 * semaphore as the hooks; the woken waiter runs on only after deinit has let
 * go of the lock twice since the wake.
 */
static pthread_t  spin_deinit_thread;    /* its wait init hook refuses */
static sem_t      spin_wake_sem;         /* the waiter's wake-up */
static sem_t      spin_go;               /* the woken waiter may take the lock again */
static atomic_int spin_woken;
static atomic_uint spin_releases;        /* releases of the pool's lock by deinit since the wake */
static atomic_uint spin_refused;         /* wait inits refused */

static os_ubase_t s_lock(os_ubase_t *w)
{
    while (__atomic_exchange_n(w, (os_ubase_t)1, __ATOMIC_ACQUIRE) != 0)
        sched_yield();
    return 7;
}

static void s_unlock(os_ubase_t *w, os_ubase_t st)
{
    CHECK(st == 7);
    __atomic_store_n(w, (os_ubase_t)0, __ATOMIC_RELEASE);
    if (w == &bm_mp.lock && atomic_load(&spin_woken) && pthread_equal(pthread_self(), spin_deinit_thread))
    {
        if (atomic_fetch_add(&spin_releases, 1u) + 1u == 2u)
            sem_post(&spin_go);
        sched_yield();
    }
}

static int s_init(struct os_mem_wait *w)
{
    if (pthread_equal(pthread_self(), spin_deinit_thread))
    {
        atomic_fetch_add(&spin_refused, 1u);
        return 1;
    }
    w->task = &spin_wake_sem;
    return 0;
}

static void sem_take(sem_t *s)
{
    while (sem_wait(s) != 0)
        ;
}

static os_err_t s_wait(struct os_mem_wait *w, os_tick_t timeout)
{
    (void)timeout;
    sem_take(w->task);
    sem_take(&spin_go);
    return OS_EOK;
}

static void s_wake(struct os_mem_wait *w)
{
    atomic_store(&spin_woken, 1);
    sem_post(w->task);
}

struct spin_waiter
{
    void    *got;
    os_err_t err;
};

static void *spin_waiter_main(void *arg)
{
    struct spin_waiter *r = arg;
    r->got = os_mp_alloc_ex(&bm_mp, OS_WAIT_FOREVER, &r->err);
    return NULL;
}

static void baremetal_deinit_cannot_block(void)
{
    static const struct os_mem_port_hooks hooks = {.lock = s_lock, .unlock = s_unlock};
    static const struct os_mem_wait_hooks whooks = {s_init, s_wait, s_wake, OS_NULL};
    struct spin_waiter r = {(void *)&r, OS_ERROR};
    pthread_t t;

    check_context("bare-metal: deinit that cannot block");
    CHECK(sem_init(&spin_wake_sem, 0, 0) == 0);
    CHECK(sem_init(&spin_go, 0, 0) == 0);
    atomic_store(&spin_woken, 0);
    atomic_store(&spin_releases, 0u);
    atomic_store(&spin_refused, 0u);
    spin_deinit_thread = pthread_self();
    os_mem_port_set_hooks(&hooks);
    os_mem_port_set_wait_hooks(&whooks);
    CHECK_EQ(os_mp_init(&bm_mp, "bm_spin", arena, 64 + HDR, 64), OS_EOK);
    void *held = os_mp_alloc(&bm_mp, OS_NO_WAIT);       /* the only block */
    CHECK(held != OS_NULL);
    CHECK_EQ(pthread_create(&t, NULL, spin_waiter_main, &r), 0);
    for (unsigned i = 0; i < 20000000u && mp_info(&bm_mp).waiting_num == 0; i++)
        sched_yield();
    CHECK_EQ(mp_info(&bm_mp).waiting_num, 1);

    CHECK_EQ(os_mp_deinit(&bm_mp), OS_EOK);
    /* it returned once the woken allocation had left the pool, not before */
    CHECK_EQ(bm_mp.waiters, 0);
    CHECK_EQ(atomic_load(&spin_refused), 1);
    CHECKF(atomic_load(&spin_releases) >= 3u, "the lock let go %u times after the wake",
           atomic_load(&spin_releases));
    if (atomic_load(&spin_releases) < 2u)
        sem_post(&spin_go);     /* (deinit returned without letting it run) */
    pthread_join(t, NULL);
    CHECK(r.got == OS_NULL);
    CHECK_EQ(r.err, OS_EINTR);
    os_mem_port_set_wait_hooks(OS_NULL);
    os_mem_port_set_hooks(OS_NULL);
    sem_destroy(&spin_wake_sem);
    sem_destroy(&spin_go);
    CHECK_REPORTS(0);
    check_context("");
}
#endif

/*
 * Two pools side by side, the second one ending exactly where the first one
 * begins (its blocks fill its memory): they do not overlap, so both are
 * accepted; one byte more for the second is an overlap.
 */
static void adjacent_pools(void)
{
    check_context("adjacent pools");
    static os_mp_t first, second, third;
    size_t stride = HDR + round_up(32, OS_MEM_ALIGN_SIZE), n = 20;
    unsigned char *base = arena + 64;
    CHECK_EQ(os_mp_init(&first, "first", base + n * stride, 4 * stride, 32), OS_EOK);
    CHECK_EQ(os_mp_init(&second, "second", base, n * stride, 32), OS_EOK);
    os_mpinfo_t info;
    CHECK_EQ(os_mp_info(&second, &info), OS_EOK);
    CHECK_EQ(info.blk_total_num, n);
    CHECK_EQ(os_mp_deinit(&second), OS_EOK);
    CHECK_EQ(os_mp_init(&third, "third", base + stride, n * stride, 32), OS_EINVAL);
    CHECK_REPORTS(1);
    CHECK_EQ(os_mp_deinit(&first), OS_EOK);
    CHECK_REPORTS(0);
}

/*
 * Pools and heaps keep out of each other's memory, as heaps do among
 * themselves: a pool's memory may not hold its own object, another pool's
 * object or a heap object, nor lie in a heap's region outside an allocated
 * block; a region may not be added over a pool's memory or object. Each
 * refusal is reported and changes nothing; a pool inside an allocated
 * block of a heap is fine.
 */
/* An error hook that frees one block of another heap (hook_victim in hook_heap), once. */
static os_memheap_t *hook_heap;
static void *volatile hook_victim;
static unsigned freeing_calls;

static void freeing_hook(const char *name, const void *addr, os_err_t code, const char *msg)
{
    void *v = hook_victim;

    (void)name, (void)addr, (void)code, (void)msg;
    freeing_calls++;
    hook_victim = OS_NULL;
    if (v != OS_NULL)
        os_memheap_free(hook_heap, v);
}

static void pools_and_heaps(void)
{
    check_context("pools and heaps");
    /* (pm holds a heap object at 256 bytes in: room for one with a large per-task table) */
    static _Alignas(64) unsigned char pm[4096 + sizeof(os_memheap_t)], oz[4096];
    static _Alignas(8192) unsigned char hm[16384];  /* a buddy region there holds an aligned 8 KiB block */
    static os_mp_t a, b;
    static os_memheap_t h;

    /* its own object, inside its memory */
    os_mp_t *inside = (os_mp_t *)(void *)(pm + 512);
    CHECK_EQ(os_mp_init(inside, "self", pm, sizeof pm, 32), OS_EINVAL);
    CHECK_REPORTS(1);
    /* another pool's object inside its memory, either order */
    os_mp_t *obj = (os_mp_t *)(void *)(pm + 1024);
    CHECK_EQ(os_mp_init(obj, "A", arena, 1024, 16), OS_EOK);
    CHECK_EQ(os_mp_init(&b, "B", pm, sizeof pm, 64), OS_EINVAL);
    CHECK_REPORTS(1);
    CHECK_EQ(os_mp_deinit(obj), OS_EOK);
    CHECK_EQ(os_mp_init(&b, "B", pm, sizeof pm, 64), OS_EOK);
    CHECK_EQ(os_mp_init(obj, "A", arena, 1024, 16), OS_EINVAL);
    CHECK_REPORTS(1);

    /* a region over a pool's memory or over a pool object: refused */
    heap_open(&h, "ph");
    CHECK_EQ(os_memheap_add(&h, pm + 100, 2048, OS_MEM_ALG_DEFAULT), OS_EINVAL);
    CHECK_REPORTS(1);
    os_mp_t *in_oz = (os_mp_t *)(void *)(oz + 1024);
    CHECK_EQ(os_mp_init(in_oz, "A", arena, 1024, 16), OS_EOK);
    CHECK_EQ(os_memheap_add(&h, oz, sizeof oz, OS_MEM_ALG_DEFAULT), OS_EINVAL);
    CHECK_REPORTS(1);
    CHECK_EQ(os_mp_deinit(in_oz), OS_EOK);
    CHECK_EQ(os_mp_deinit(&b), OS_EOK);

    /* a pool in a heap's region: only inside an allocated block */
    heap_add_ok(&h, hm, sizeof hm, OS_MEM_ALG_DEFAULT);
    CHECK_EQ(os_mp_init(&a, "A", hm + 4096, 2048, 32), OS_EINVAL);       /* free memory of the heap */
    CHECK_REPORTS(1);
    CHECK_EQ(os_mp_init(&a, "A", hm, sizeof hm, 32), OS_EINVAL);         /* the whole region */
    CHECK_REPORTS(1);
    unsigned char *blk = os_memheap_alloc(&h, 3000);
    CHECK(blk != OS_NULL);
    CHECK_EQ(os_mp_init(&a, "A", blk, 3000, 32), OS_EOK);
    CHECK_EQ(os_mp_init(&b, "B", blk + 1500, 3000, 32), OS_EINVAL);      /* runs out of the block */
    CHECK_REPORTS(1);
    void *x = os_mp_alloc(&a, OS_NO_WAIT);
    CHECK(x != OS_NULL && (unsigned char *)x >= blk && (unsigned char *)x < blk + 3000);
    os_mp_free(&a, x);
    CHECK_EQ(os_mp_deinit(&a), OS_EOK);
    os_memheap_free(&h, blk);
    CHECK_REPORTS(0);
    /* the object at a block's start and the memory after it (os_mp_create's layout): the memory must end in that block */
    blk = os_memheap_alloc(&h, 3000);
    CHECK(blk != OS_NULL);
    os_mp_t *head = (os_mp_t *)(void *)blk;
    size_t ob = (sizeof(os_mp_t) + 63) & ~(size_t)63;
    size_t usable = os_memheap_usable_size(&h, blk);
    CHECK_EQ(os_mp_init(head, "C", blk + ob, usable - ob + 256, 32), OS_EINVAL);  /* (past any rounding or canary) */
    CHECK_REPORTS(1);
    CHECK_EQ(os_mp_init(head, "C", blk + ob, usable - ob, 32), OS_EOK);
    CHECK_EQ(os_mp_deinit(head), OS_EOK);
    os_memheap_free(&h, blk);
    CHECK_REPORTS(0);

    /*
     * The blocks under a live pool (its memory, its object): free, realloc
     * and the heap's deinit are refused and change nothing; once the pool
     * is gone they go through.
     */
    os_meminfo_t before = heap_info(&h), now, after;
    void *pre = os_memheap_alloc(&h, 64);
    blk = os_memheap_alloc(&h, 3000);
    void *mid = os_memheap_alloc(&h, 64);
    os_mp_t *pobj = os_memheap_alloc(&h, sizeof(os_mp_t));
    void *post = os_memheap_alloc(&h, 64);
    CHECK(pre != OS_NULL && blk != OS_NULL && mid != OS_NULL && pobj != OS_NULL && post != OS_NULL);
    void *gone = os_memheap_alloc(&h, 256);
    CHECK(gone != OS_NULL);
    os_memheap_free(&h, gone);
    CHECK_EQ(os_mp_init((os_mp_t *)gone, "free", oz, 1024, 16), OS_EINVAL);    /* object in the heap's free memory */
    CHECK_REPORTS(1);
    CHECK_EQ(os_mp_init(pobj, "P", blk, 3000, 32), OS_EOK);
    x = os_mp_alloc(pobj, OS_NO_WAIT);
    CHECK(x != OS_NULL);
    memset(x, 0x5A, 32);
    /* the blocks around them come and go as ever */
    pre = os_memheap_realloc(&h, pre, 48);
    os_memheap_free(&h, pre);
    os_memheap_free(&h, mid);
    post = os_memheap_realloc(&h, post, 200);
    CHECK(post != OS_NULL);
    os_memheap_free(&h, post);
    CHECK_REPORTS(0);
    now = heap_info(&h);
    os_memheap_free(&h, blk);
    CHECK_REPORTS(1);
    CHECK_EQ(hook_last_code(), OS_EBUSY);
    os_memheap_free(&h, pobj);
    CHECK_REPORTS(1);
    CHECK(os_memheap_realloc(&h, blk, 100) == OS_NULL);
    CHECK_REPORTS(1);
    CHECK(os_memheap_realloc(&h, pobj, 6000) == OS_NULL);
    CHECK_REPORTS(1);
    CHECK_EQ(os_memheap_deinit(&h), OS_EBUSY);
    CHECK_REPORTS(1);
    CHECK(info_unchanged(&h, &now));
    CHECK_EQ(os_memheap_check(&h), OS_EOK);

    /*
     * Those refusals are reported after the locks are given back: the hook
     * may free a block of another heap whose free takes the global lock
     * (g2's blocks between its pool's memory and its pool's object).
     */
    static os_memheap_t g2;
    static _Alignas(64) unsigned char g2m[8 * KiB];
    heap_open(&g2, "g2");
    heap_add_ok(&g2, g2m, sizeof g2m, OS_MEM_ALG_DEFAULT);
    void *gm = os_memheap_alloc(&g2, 1000), *gv1 = os_memheap_alloc(&g2, 64), *gv2 = os_memheap_alloc(&g2, 64);
    os_mp_t *go = os_memheap_alloc(&g2, sizeof(os_mp_t));
    CHECK(gm != OS_NULL && gv1 != OS_NULL && gv2 != OS_NULL && go != OS_NULL);
    CHECK_EQ(os_mp_init(go, "G", gm, 1000, 32), OS_EOK);
    os_meminfo_t g2before = heap_info(&g2);
    hook_heap = &g2;
    freeing_calls = 0;
    os_mem_set_error_hook(freeing_hook);
    WATCHDOG(30);   /* a hook run under the global lock would wait for it forever */
    hook_victim = gv1;
    os_memheap_free(&h, blk);
    hook_victim = gv2;
    CHECK(os_memheap_realloc(&h, blk, 100) == OS_NULL);
    WATCHDOG(0);
    hook_install();
    CHECK_EQ(freeing_calls, 2);
    CHECK(hook_victim == OS_NULL && heap_info(&g2).mem_used < g2before.mem_used);
    CHECK_EQ(os_mp_deinit(go), OS_EOK);
    os_memheap_free(&g2, gm);
    os_memheap_free(&g2, go);
    CHECK_EQ(heap_info(&g2).mem_used, 0);
    heap_close(&g2);
    CHECK(info_unchanged(&h, &now));
    for (int i = 0; i < 32; i++)
        CHECK_EQ(((unsigned char *)x)[i], 0x5A);
    os_mp_free(pobj, x);
    CHECK_EQ(os_mp_check(pobj), OS_EOK);
    CHECK_EQ(os_mp_deinit(pobj), OS_EOK);
    os_memheap_free(&h, blk);
    os_memheap_free(&h, pobj);
    CHECK_REPORTS(0);
    after = heap_info(&h);
    CHECK_EQ(after.mem_used, before.mem_used);

    /* a pool in a block of heap g, whose region lies in a block of h: h's block is not freed under it */
    static os_memheap_t g;
    unsigned char *gr = os_memheap_alloc(&h, 6000);
    CHECK(gr != OS_NULL);
    heap_open(&g, "pg");
    heap_add_ok(&g, gr, 6000, OS_MEM_ALG_DEFAULT);
    unsigned char *gb = os_memheap_alloc(&g, 1000);    /* (a buddy region of 6000 bytes always holds one) */
    CHECK(gb != OS_NULL);
    CHECK_EQ(os_mp_init(&a, "A", gb, 1000, 32), OS_EOK);
    os_memheap_free(&h, gr);
    CHECK_REPORTS(1);
    CHECK_EQ(os_memheap_deinit(&g), OS_EBUSY);
    CHECK_REPORTS(1);
    CHECK_EQ(os_memheap_check(&g), OS_EOK);
    CHECK_EQ(os_mp_deinit(&a), OS_EOK);
    os_memheap_free(&g, gb);
    heap_close(&g);
    os_memheap_free(&h, gr);
    CHECK_REPORTS(0);

    /* a heap object inside a pool's memory */
    os_memheap_t *hobj = (os_memheap_t *)(void *)(pm + 256);
    memset(hobj, 0, sizeof *hobj);
    CHECK_EQ(os_memheap_init(hobj, "in pool"), OS_EOK);
    CHECK_EQ(os_mp_init(&a, "A", pm, sizeof pm, 32), OS_EINVAL);
    CHECK_REPORTS(1);
    CHECK_EQ(os_memheap_deinit(hobj), OS_EOK);
    CHECK_EQ(os_memheap_check(&h), OS_EOK);
    heap_close(&h);
    CHECK_REPORTS(0);
    check_context("");
}

int main(void)
{
    hook_install();
    hook_reset();
#ifdef OS_USING_SYS_HEAP
    static _Alignas(64) unsigned char sys_region[96 * KiB];
    os_sys_heap_init();
    CHECK_EQ(os_sys_heap_add(sys_region, sizeof sys_region, OS_MEM_ALG_DEFAULT), OS_EOK);
#endif
    layout_and_refill();
    arguments();
    adjacent_pools();
    pools_and_heaps();
#ifdef OS_USING_SYS_HEAP
    create_destroy();
    create_over_heap_object();
#endif
    bad_frees();
    pool_object_corruption();
    wiped_pool_object();
    wiped_host_heap();
    wiped_nested_heap();
    model();
    trace();
#ifdef OS_MEM_PORT_POSIX
    timeouts();
    fifo();
    deinit_while_waiting();
    deinit_racing_alloc();
    stress();
#endif
#ifdef OS_MEM_PORT_BAREMETAL
    baremetal();
    baremetal_idle();
#endif
#if defined(OS_MEM_PORT_BAREMETAL) && !defined(OS_MEM_PORT_NO_LOCK)
    baremetal_races();
    baremetal_deinit_cannot_block();
#endif
    hook_uninstall();
    return check_summary("test_mempool");
}
#endif
