/*
 * bench.h - shared declarations of the oneheap benchmark driver.
 *
 * The driver measures allocator calls one at a time: every measured call is
 * made from a noinline wrapper that switches callgrind collection on just
 * before the call and off just after it (see measure.c). Everything else -
 * random numbers, bookkeeping, data checks, heap checks - runs with
 * collection off, so the callgrind total is the cost of the calls plus a
 * constant per-call overhead that the "empty" workload calibrates.
 */
#ifndef ONEHEAP_BENCH_H
#define ONEHEAP_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include <os_memory.h>

#if defined(__GNUC__) || defined(__clang__)
#define BENCH_NOINLINE __attribute__((noinline))
#else
#define BENCH_NOINLINE
#endif

/* Size of the fixed region given to oneheap. */
#define BENCH_ARENA_SIZE ((size_t)1048576)

/* ---- deterministic PRNG (xorshift64*) -------------------------------------- */

struct rng
{
    uint64_t s;
};

void     rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, n); n >= 1. */
uint32_t rng_below(struct rng *r, uint32_t n);
/* Uniform in [lo, hi] (inclusive). */
size_t   rng_uniform(struct rng *r, size_t lo, size_t hi);
/*
 * Log-uniform in [lo, hi): an octave [2^k, 2^(k+1)) is drawn uniformly,
 * then a size uniformly inside it, clipped to [lo, hi). lo and hi are
 * powers of two. Integer-only, so identical on every host.
 */
size_t   rng_loguniform(struct rng *r, size_t lo, size_t hi);

/* ---- allocator under test ---------------------------------------------------- */

enum bench_allocator
{
    BENCH_ONEHEAP,
    BENCH_GLIBC,
    BENCH_BESTFIT,      /* reference for the fill figures only (bestfit.c) */
    BENCH_SEGFIT,       /* reference for the speed figures: first-fit's structure, unchecked (segfit.c) */
    BENCH_SEGFIT_POW2   /* the same with requests rounded up to powers of two */
};

/* Mixed into every workload's seed (--seed); 0 gives the published figures. */
extern uint64_t bench_seed;

/* The best-fit reference (bestfit.c), over a fixed arena. */
void   bf_init(void *arena, size_t size);
void  *bf_alloc(size_t size);
void   bf_free(void *p);
size_t bf_used(void);
size_t bf_total(void);

/* The segregated-fit reference (segfit.c), over a fixed arena; pow2: the power-of-two layout. */
void   segfit_init(void *arena, size_t size, int pow2);
void  *segfit_alloc(size_t size);
void   segfit_free(void *p);
size_t segfit_used(void);
size_t segfit_total(void);

/*
 * The calls of the allocator under test. The m_* members are measured
 * (each one is exactly one allocator call inside the collection window and
 * adds one to bench_calls); the u_* members are the same calls unmeasured,
 * used to build adversarial heaps.
 */
struct bench_ops
{
    void *(*m_alloc)(size_t size);
    void  (*m_free)(void *ptr);
    void *(*m_realloc)(void *ptr, size_t size);
    void *(*m_aligned)(size_t align, size_t size);
    void *(*u_alloc)(size_t size);
    void  (*u_free)(void *ptr);
};

extern const struct bench_ops *bench;    /* the allocator under test */
extern unsigned long bench_calls;        /* measured calls so far */

/* One empty measurement window (calibration). */
void m_empty(void);

#ifdef OS_USING_MEM_POOL
#include <os_mempool.h>
/* Measured pool calls (oneheap only): os_mp_alloc(mp, OS_NO_WAIT), os_mp_free. */
void *m_mp_alloc(os_mp_t *mp);
void  m_mp_free(os_mp_t *mp, void *block);
#endif

/*
 * Select the allocator. For oneheap, alg is the algorithm of the region;
 * for glibc it is ignored. Returns 0 on success.
 */
int bench_select(enum bench_allocator a, enum os_mem_alg alg);

/*
 * Start a workload on a fresh heap: for oneheap a new heap object over the
 * whole arena (the previous heap, if any, is detached first). Returns 0 on
 * success.
 */
int bench_fresh_heap(void);

/*
 * End of a workload: for oneheap, os_memheap_check() must return OS_EOK and
 * (if expect_empty) no byte may still be in use. Returns 0 if sound.
 */
int bench_check_heap(int expect_empty);

/* Heap statistics (oneheap only; zeros for glibc). */
void bench_info(size_t *total, size_t *used, size_t *maxused);

/* Minimum alignment every returned block must have. */
size_t bench_min_align(void);

/* Error hook bookkeeping: reports other than "out of memory" are failures. */
unsigned long bench_unexpected_reports(void);
unsigned long bench_enomem_reports(void);

/* ---- block checks (unmeasured) ------------------------------------------------ */

/*
 * Validate a block just returned (alignment, inside the arena for oneheap)
 * and write a tag into its first and last byte. Returns 0 if sound.
 */
int  blk_take(void *p, size_t size, size_t align, unsigned tag);
/* Verify the tags of a live block before it is freed. Returns 0 if intact. */
int  blk_verify(const void *p, size_t size, unsigned tag);

/* Report a failure (printed once per kind, counted). */
void bench_fail(const char *what, const void *addr, size_t value);
unsigned long bench_failures(void);

/* ---- workloads ---------------------------------------------------------------- */

struct bench_result
{
    unsigned long calls;        /* measured calls */
    unsigned long failed;       /* allocations that returned NULL */
    double util_fill;           /* requested live bytes / arena, first fill (oneheap) */
    double util_refill;         /* the same after freeing every other block and refilling */
    double util_exhaust;        /* the same after refilling on until 100 requests in a row fail */
    int    has_util;
    size_t fill_blocks;         /* blocks live at the end of the first fill */
    size_t refill_blocks;
    size_t used_fill;           /* os_memheap_info mem_used at the end of the first fill */
    size_t used_refill;
    size_t mem_total;
};

struct bench_params
{
    int quick;                  /* small op counts (smoke test) */
    int glibc;                  /* the allocator has no fixed region */
    int variant;                /* variant of a worst-case workload */
};

typedef int (*workload_fn)(const struct bench_params *p, struct bench_result *res);

struct workload
{
    const char *name;
    workload_fn fn;
    int variant;                /* passed in bench_params.variant */
    const char *what;
};

extern const struct workload bench_workloads[];
extern const size_t bench_workload_count;

#endif /* ONEHEAP_BENCH_H */
