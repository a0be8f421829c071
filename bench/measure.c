/*
 * measure.c - the allocators under test, the measured call wrappers, the
 * heap set-up and checks, and the PRNG of the benchmark driver.
 *
 * Each measured wrapper is a noinline function whose body is
 *
 *     collection on; one direct call of the allocator; collection off
 *
 * The toggles are valgrind client requests: inline asm with a "memory"
 * clobber, so the compiler can neither move the call across them nor drop
 * it (its result escapes through the return value). Outside callgrind the
 * requests are a handful of no-op instructions.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef ONEHEAP_BENCH_HAVE_CALLGRIND
#include <valgrind/callgrind.h>
#define MEASURE_ON()  CALLGRIND_TOGGLE_COLLECT
#define MEASURE_OFF() CALLGRIND_TOGGLE_COLLECT
#else
#define MEASURE_ON()  ((void)0)
#define MEASURE_OFF() ((void)0)
#endif

/* ---- PRNG ---------------------------------------------------------------------- */

void rng_seed(struct rng *r, uint64_t seed)
{
    r->s = seed ? seed : 0x9E3779B97F4A7C15u;
}

uint64_t rng_next(struct rng *r)
{
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1Du;
}

uint32_t rng_below(struct rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

size_t rng_uniform(struct rng *r, size_t lo, size_t hi)
{
    return lo + (size_t)rng_below(r, (uint32_t)(hi - lo + 1));
}

size_t rng_loguniform(struct rng *r, size_t lo, size_t hi)
{
    unsigned klo = 0, khi = 0;
    while (((size_t)1 << klo) < lo)
        klo++;
    while (((size_t)1 << khi) < hi)
        khi++;
    unsigned k = klo + rng_below(r, khi - klo);
    size_t base = (size_t)1 << k;
    return base + (size_t)rng_below(r, (uint32_t)base);
}

/* ---- state ----------------------------------------------------------------------- */

const struct bench_ops *bench;
unsigned long bench_calls;

/*
 * The arena: BENCH_ARENA_SIZE bytes aligned to their size, so that every run
 * sees the same region geometry wherever the loader puts the program (buddy
 * tiles a region by absolute address: with an arena only 64-byte aligned,
 * the largest block, and so what a workload can build, would depend on
 * address-space randomisation).
 */
static unsigned char g_arena_store[2 * BENCH_ARENA_SIZE];
static unsigned char *g_arena;

static void arena_place(void)
{
    uintptr_t a = ((uintptr_t)g_arena_store + BENCH_ARENA_SIZE - 1) & ~(uintptr_t)(BENCH_ARENA_SIZE - 1);

    g_arena = (unsigned char *)a;
}

static os_memheap_t g_heap;
static int g_heap_live;
static enum os_mem_alg g_alg;
static enum bench_allocator g_allocator;

static unsigned long g_unexpected;
static unsigned long g_enomem;
static unsigned long g_failures;

/* ---- measured wrappers: oneheap ---------------------------------------------------- */

static BENCH_NOINLINE void *oh_m_alloc(size_t size)
{
    MEASURE_ON();
    void *p = os_memheap_alloc(&g_heap, size);
    MEASURE_OFF();
    bench_calls++;
    return p;
}

static BENCH_NOINLINE void oh_m_free(void *ptr)
{
    MEASURE_ON();
    os_memheap_free(&g_heap, ptr);
    MEASURE_OFF();
    bench_calls++;
}

static BENCH_NOINLINE void *oh_m_realloc(void *ptr, size_t size)
{
    MEASURE_ON();
    void *p = os_memheap_realloc(&g_heap, ptr, size);
    MEASURE_OFF();
    bench_calls++;
    return p;
}

static BENCH_NOINLINE void *oh_m_aligned(size_t align, size_t size)
{
    MEASURE_ON();
    void *p = os_memheap_aligned_alloc(&g_heap, align, size);
    MEASURE_OFF();
    bench_calls++;
    return p;
}

static void *oh_u_alloc(size_t size)
{
    return os_memheap_alloc(&g_heap, size);
}

static void oh_u_free(void *ptr)
{
    os_memheap_free(&g_heap, ptr);
}

static const struct bench_ops oh_ops = {
    oh_m_alloc, oh_m_free, oh_m_realloc, oh_m_aligned, oh_u_alloc, oh_u_free
};

/* ---- measured wrappers: glibc -------------------------------------------------------- */

static BENCH_NOINLINE void *gl_m_alloc(size_t size)
{
    MEASURE_ON();
    void *p = malloc(size);
    MEASURE_OFF();
    bench_calls++;
    return p;
}

static BENCH_NOINLINE void gl_m_free(void *ptr)
{
    MEASURE_ON();
    free(ptr);
    MEASURE_OFF();
    bench_calls++;
}

static BENCH_NOINLINE void *gl_m_realloc(void *ptr, size_t size)
{
    MEASURE_ON();
    void *p = realloc(ptr, size);
    MEASURE_OFF();
    bench_calls++;
    return p;
}

/*
 * C17 (DR 460) and glibc accept any size in aligned_alloc; AddressSanitizer
 * insists on the C11 rule (a multiple of the alignment). Its counts mean
 * nothing anyway, so under it the size is rounded up.
 */
#if defined(__SANITIZE_ADDRESS__)
#define BENCH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BENCH_ASAN 1
#endif
#endif

static BENCH_NOINLINE void *gl_m_aligned(size_t align, size_t size)
{
#ifdef BENCH_ASAN
    size = (size + align - 1) & ~(align - 1);
#endif
    MEASURE_ON();
    void *p = aligned_alloc(align, size);
    MEASURE_OFF();
    bench_calls++;
    return p;
}

static BENCH_NOINLINE void *gl_u_alloc(size_t size)
{
    return malloc(size);
}

static BENCH_NOINLINE void gl_u_free(void *ptr)
{
    free(ptr);
}

static const struct bench_ops gl_ops = {
    gl_m_alloc, gl_m_free, gl_m_realloc, gl_m_aligned, gl_u_alloc, gl_u_free
};

/* ---- the best-fit reference (fill figures only) ---------------------------------------------- */

static BENCH_NOINLINE void *bf_m_alloc(size_t size)
{
    MEASURE_ON();
    void *p = bf_alloc(size);
    MEASURE_OFF();
    bench_calls++;
    return p;
}

static BENCH_NOINLINE void bf_m_free(void *ptr)
{
    MEASURE_ON();
    bf_free(ptr);
    MEASURE_OFF();
    bench_calls++;
}

static void *bf_none(size_t a, size_t b)
{
    (void)a;
    (void)b;
    return NULL;
}

static void *bf_no_realloc(void *p, size_t size)
{
    (void)p;
    (void)size;
    return NULL;
}

static const struct bench_ops bf_ops = {
    bf_m_alloc, bf_m_free, bf_no_realloc, bf_none, bf_alloc, bf_free
};

/* ---- the segregated-fit reference (alloc and free only) ---------------------------------- */

static BENCH_NOINLINE void *sf_m_alloc(size_t size)
{
    MEASURE_ON();
    void *p = segfit_alloc(size);
    MEASURE_OFF();
    bench_calls++;
    return p;
}

static BENCH_NOINLINE void sf_m_free(void *ptr)
{
    MEASURE_ON();
    segfit_free(ptr);
    MEASURE_OFF();
    bench_calls++;
}

static const struct bench_ops sf_ops = {
    sf_m_alloc, sf_m_free, bf_no_realloc, bf_none, segfit_alloc, segfit_free
};

/* ---- measured wrappers: memory pools --------------------------------------------------- */

#ifdef OS_USING_MEM_POOL
BENCH_NOINLINE void *m_mp_alloc(os_mp_t *mp)
{
    MEASURE_ON();
    void *p = os_mp_alloc(mp, OS_NO_WAIT);
    MEASURE_OFF();
    bench_calls++;
    return p;
}

BENCH_NOINLINE void m_mp_free(os_mp_t *mp, void *block)
{
    MEASURE_ON();
    os_mp_free(mp, block);
    MEASURE_OFF();
    bench_calls++;
}
#endif

/* ---- calibration ------------------------------------------------------------------------ */

BENCH_NOINLINE void m_empty(void)
{
    MEASURE_ON();
    MEASURE_OFF();
    bench_calls++;
}

/* ---- error hook ---------------------------------------------------------------------------- */

/*
 * Kept trivial: it may run inside a measured window (an allocation that
 * fails may be reported). Messages are printed only for unexpected reports.
 */
static void bench_error_hook(const char *heap_name, const void *addr, os_err_t code, const char *msg)
{
    if (code == OS_ENOMEM)
    {
        g_enomem++;
        return;
    }
    g_unexpected++;
    if (g_unexpected <= 10)
        fprintf(stderr, "oneheap-bench: heap %s reported %ld at %p: %s\n",
                heap_name ? heap_name : "-", (long)code, addr, msg ? msg : "");
}

unsigned long bench_unexpected_reports(void)
{
    return g_unexpected;
}

unsigned long bench_enomem_reports(void)
{
    return g_enomem;
}

/* ---- selection and heaps ----------------------------------------------------------------------- */

int bench_select(enum bench_allocator a, enum os_mem_alg alg)
{
    g_allocator = a;
    g_alg = alg;
    if (a == BENCH_GLIBC)
    {
        /* Let glibc initialise its arena and tcache outside any measurement. */
        void *p = gl_u_alloc(32);
        gl_u_free(p);
        bench = &gl_ops;
        return 0;
    }
    if (a == BENCH_BESTFIT)
    {
        bench = &bf_ops;
        return 0;
    }
    if (a == BENCH_SEGFIT || a == BENCH_SEGFIT_POW2)
    {
        bench = &sf_ops;
        return 0;
    }
    os_mem_set_error_hook(bench_error_hook);
    bench = &oh_ops;
    return 0;
}

int bench_fresh_heap(void)
{
    if (g_arena == NULL)
        arena_place();
    if (g_allocator == BENCH_GLIBC)
        return 0;
    if (g_allocator == BENCH_BESTFIT)
    {
        bf_init(g_arena, BENCH_ARENA_SIZE);
        return 0;
    }
    if (g_allocator == BENCH_SEGFIT || g_allocator == BENCH_SEGFIT_POW2)
    {
        segfit_init(g_arena, BENCH_ARENA_SIZE, g_allocator == BENCH_SEGFIT_POW2);
        return 0;
    }
    if (g_heap_live)
    {
        os_err_t e = os_memheap_deinit(&g_heap);
        if (e != OS_EOK)
        {
            fprintf(stderr, "oneheap-bench: os_memheap_deinit failed (%ld)\n", (long)e);
            return -1;
        }
        g_heap_live = 0;
    }
    memset(&g_heap, 0, sizeof g_heap);
    os_err_t e = os_memheap_init(&g_heap, "bench");
    if (e != OS_EOK)
    {
        fprintf(stderr, "oneheap-bench: os_memheap_init failed (%ld)\n", (long)e);
        return -1;
    }
    g_heap_live = 1;
    e = os_memheap_add(&g_heap, g_arena, BENCH_ARENA_SIZE, g_alg);
    if (e != OS_EOK)
    {
        fprintf(stderr, "oneheap-bench: os_memheap_add failed (%ld)\n", (long)e);
        return -1;
    }
    return 0;
}

int bench_check_heap(int expect_empty)
{
    if (g_allocator == BENCH_GLIBC)
        return 0;
    if (g_allocator == BENCH_BESTFIT)
    {
        if (expect_empty && bf_used() != 0)
        {
            fprintf(stderr, "oneheap-bench: best fit: %zu bytes still in use\n", bf_used());
            return -1;
        }
        return 0;
    }
    if (g_allocator == BENCH_SEGFIT || g_allocator == BENCH_SEGFIT_POW2)
    {
        if (expect_empty && segfit_used() != 0)
        {
            fprintf(stderr, "oneheap-bench: segfit: %zu bytes still in use\n", segfit_used());
            return -1;
        }
        return 0;
    }
    os_err_t e = os_memheap_check(&g_heap);
    if (e != OS_EOK)
    {
        fprintf(stderr, "oneheap-bench: os_memheap_check returned %ld\n", (long)e);
        return -1;
    }
    if (expect_empty)
    {
        os_meminfo_t info;
        os_memheap_info(&g_heap, &info);
        if (info.mem_used != 0)
        {
            fprintf(stderr, "oneheap-bench: %zu bytes still in use after freeing every block\n",
                    (size_t)info.mem_used);
            return -1;
        }
    }
    return 0;
}

void bench_info(size_t *total, size_t *used, size_t *maxused)
{
    os_meminfo_t info = { 0, 0, 0 };
    if (g_allocator == BENCH_ONEHEAP)
        os_memheap_info(&g_heap, &info);
    if (g_allocator == BENCH_BESTFIT)
    {
        info.mem_total = bf_total();
        info.mem_used = bf_used();
    }
    if (g_allocator == BENCH_SEGFIT || g_allocator == BENCH_SEGFIT_POW2)
    {
        info.mem_total = segfit_total();
        info.mem_used = segfit_used();
    }
    if (total)
        *total = info.mem_total;
    if (used)
        *used = info.mem_used;
    if (maxused)
        *maxused = info.mem_maxused;
}

size_t bench_min_align(void)
{
    if (g_allocator == BENCH_GLIBC)
        return 2 * sizeof(void *);
    if (g_allocator == BENCH_SEGFIT || g_allocator == BENCH_SEGFIT_POW2)
        return 8;
    return OS_MEM_ALIGN_SIZE;
}

/* ---- block checks ------------------------------------------------------------------------------------ */

void bench_fail(const char *what, const void *addr, size_t value)
{
    g_failures++;
    if (g_failures <= 10)
        fprintf(stderr, "oneheap-bench: FAIL: %s (block %p, value %zu)\n", what, addr, value);
}

unsigned long bench_failures(void)
{
    return g_failures;
}

static unsigned char tag_first(unsigned tag)
{
    return (unsigned char)(tag * 131u + 7u);
}

static unsigned char tag_last(unsigned tag)
{
    return (unsigned char)(tag * 71u + 201u);
}

int blk_take(void *p, size_t size, size_t align, unsigned tag)
{
    unsigned char *b = p;
    size_t a = bench_min_align();
    if (align > a)
        a = align;
    int rc = 0;
    if (g_allocator != BENCH_GLIBC &&
        (b < g_arena || size > (size_t)(g_arena + BENCH_ARENA_SIZE - b)))
    {
        /* Writing the tags could hit anything: leave the block alone. */
        bench_fail("block outside the arena", p, size);
        return -1;
    }
    if ((uintptr_t)b % a != 0)
    {
        bench_fail("block misaligned", p, a);
        rc = -1;
    }
    b[0] = tag_first(tag);
    b[size - 1] = tag_last(tag);
    return rc;
}

int blk_verify(const void *p, size_t size, unsigned tag)
{
    const unsigned char *b = p;
    if (b[size - 1] != tag_last(tag) || b[0] != tag_first(tag))
    {
        bench_fail("block contents overwritten", p, size);
        return -1;
    }
    return 0;
}
