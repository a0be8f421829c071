/*
 * common.h - helpers shared by the oneheap tests.
 *
 *  - the table of algorithms compiled in, and the region layouts every test
 *    loops over (one layout per algorithm, plus "mixed" layouts whose regions
 *    cycle through different algorithms when more than one is compiled in);
 *  - a portable xorshift PRNG;
 *  - a counting error hook;
 *  - heap set-up helpers, data patterns and statistics helpers.
 */
#ifndef ONEHEAP_TESTS_COMMON_H
#define ONEHEAP_TESTS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <oneos_config.h>
#include <os_errno.h>
#include <os_memory.h>
#include <os_types.h>

#include "check.h"

/* First-fit header words, in bytes: 16-bit on 32-bit targets unless OS_MEM_FF_WIDE_HEADER, else 32-bit. */
#if UINTPTR_MAX <= 0xFFFFFFFFu && !defined(OS_MEM_FF_WIDE_HEADER)
#define TEST_FF_WORD 2u
#else
#define TEST_FF_WORD 4u
#endif

/* The small build's reports carry a fixed text per kind instead of the formatted message. */
#ifdef OS_MEM_SMALL
#define TEST_SMALL_TEXTS 1
#else
#define TEST_SMALL_TEXTS 0
#endif

/* Bad frees and corruptions only report (and do not assert) in this config. */
#if defined(OS_MEM_ERROR_ASSERT) && OS_MEM_ERROR_ASSERT
#define TEST_BAD_OPS 0
#else
#define TEST_BAD_OPS 1
#endif

#define TEST_MAX_LAYOUT_ALGS 4

/* Buddy's quick-list depth as the library sees it (its default when the configuration leaves it out). */
#ifndef OS_MEM_BUDDY_QUICK
#define OS_MEM_BUDDY_QUICK 8
#endif

/* ---- algorithms and layouts ------------------------------------------------- */

struct test_alg
{
    enum os_mem_alg alg;
    const char     *name;
    /* realloc grows in place into a free successor (first-fit) */
    int             grows_in_place;
    /* a request this large must be served by a fresh 2048-byte region */
    os_size_t       serve_from_2048;
    /* the smallest region accepted must not be larger than this */
    os_size_t       max_min_region;
    /* serves an aligned request at any aligned address of a free block that
     * holds it (first-fit; buddy uses whole blocks of the alignment's size) */
    int             aligned_anywhere;
};

extern const struct test_alg test_algs[];
extern const unsigned        test_nalgs;

const struct test_alg *test_alg_info(enum os_mem_alg alg);
const char            *test_alg_name(enum os_mem_alg alg);

/* A layout: the algorithm of region i is algs[i % nalgs]. */
struct test_layout
{
    char            name[48];
    unsigned        nalgs;
    enum os_mem_alg algs[TEST_MAX_LAYOUT_ALGS];
};

unsigned                  test_layout_count(void);
const struct test_layout *test_layout_get(unsigned i);
enum os_mem_alg           test_layout_alg(const struct test_layout *l, unsigned region);
/* The most mixed layout available (the first mixed one, else layout 0). */
const struct test_layout *test_layout_mixed(void);

/* ---- PRNG (xorshift64*) -------------------------------------------------------- */

typedef struct
{
    uint64_t s;
} test_rng_t;

void     rng_seed(test_rng_t *r, uint64_t seed);
uint64_t rng_next(test_rng_t *r);
/* Uniform in [0, n); n > 0. */
uint32_t rng_below(test_rng_t *r, uint32_t n);
/* Uniform in [lo, hi]. */
size_t   rng_range(test_rng_t *r, size_t lo, size_t hi);

/* ---- error hook ------------------------------------------------------------------ */

/* Install the counting hook (prints nothing unless echo is on). */
void          hook_install(void);
/* Restore the library's default hook. */
void          hook_uninstall(void);
void          hook_echo(int on);
unsigned long hook_count(void);
void          hook_reset(void);
os_err_t      hook_last_code(void);
const void   *hook_last_addr(void);
const char   *hook_last_msg(void);
/* Did a report since hook_reset() contain text (the first 8 KiB of reports are kept)? */
int           hook_seen(const char *text);

/* Check that exactly n reports arrived since the last reset, then reset. */
#define CHECK_REPORTS(n) hook_check_(__FILE__, __LINE__, (unsigned long)(n), 0)
/* Check that at most n reports arrived since the last reset, then reset. */
#define CHECK_REPORTS_AT_MOST(n) hook_check_(__FILE__, __LINE__, (unsigned long)(n), 1)
/* Check that at least one report arrived since the last reset, then reset. */
#define CHECK_REPORTED() hook_check_(__FILE__, __LINE__, 0UL, 2)
void hook_check_(const char *file, int line, unsigned long n, int mode);

/* ---- heaps ------------------------------------------------------------------------- */

/* Zero the object and os_memheap_init() it; CHECKs success. */
void heap_open(os_memheap_t *h, const char *name);
/* os_memheap_deinit() (CHECKs success) and zero the object. */
void heap_close(os_memheap_t *h);
/* os_memheap_add() with a CHECK that it succeeded. */
void heap_add_ok(os_memheap_t *h, void *start, size_t size, enum os_mem_alg alg);

os_meminfo_t heap_info(os_memheap_t *h);
int          info_eq(const os_meminfo_t *a, const os_meminfo_t *b);
/* The heap's statistics equal *before. */
int          info_unchanged(os_memheap_t *h, const os_meminfo_t *before);

/*
 * A digest of heap h's blocks in walk order (place, size, state). Where
 * every free merges at once (first-fit; buddy with OS_MEM_BUDDY_QUICK 0) a
 * heap with no block in use has the digest it had when new. *lazy is set
 * if a buddy region keeps quick lists, so that does not hold.
 */
uint64_t heap_layout_digest(os_memheap_t *h, int *lazy);

/* Largest n for which os_memheap_alloc(h, n) succeeds (bisection; every
 * probe is freed again). Raises mem_maxused. */
size_t heap_largest_alloc(os_memheap_t *h);

/* The calls on heap h, or on the system heap (os_malloc & co.) when h is
 * OS_NULL in builds that have it. */
void  *any_alloc(os_memheap_t *h, size_t n);
void  *any_aligned(os_memheap_t *h, size_t align, size_t n);
void  *any_realloc(os_memheap_t *h, void *p, size_t n);
size_t any_usable(os_memheap_t *h, void *p);
void   any_free(os_memheap_t *h, void *p);

/* The block whose payload is p, as a walk reports it (all zero but addr if none). */
struct os_memheap_block block_at(os_memheap_t *h, const void *p);

/* Bytes the block whose payload is p occupies, header and trailer included,
 * as a walk reports it (0 if no block has that payload). */
size_t block_total(os_memheap_t *h, const void *p);

/* ---- captured text ------------------------------------------------------------------ */

/* A text sink for a port's puts hook: appends to one buffer (truncating). */
void        capture_puts(const char *s);
void        capture_reset(void);
const char *capture_text(void);
size_t      capture_len(void);

/* The line of text that mentions pointer p ("%p"), copied into line; OS_NULL if none. */
const char *text_line_of(const char *text, const void *p, char *line, size_t size);

/* ---- memory helpers ------------------------------------------------------------------ */

int is_aligned(const void *p, size_t align);
/*
 * p rounded up to a multiple of align (a power of two). Tests whose regions
 * must have the same geometry in every build (buddy tiles a region by
 * absolute address) place them in an arena aligned this way at run time: a
 * static array is only as aligned as the loader happens to place it.
 */
unsigned char *align_up(void *p, size_t align);
int ranges_overlap(const void *a, size_t an, const void *b, size_t bn);
/* [p, p + n) lies inside [base, base + size). */
int range_inside(const void *p, size_t n, const void *base, size_t size);

/* Byte pattern of block `id` at offset `off`. */
static inline uint8_t pat_byte(uint32_t id, size_t off)
{
    uint32_t x = id * 0x9E3779B1u + (uint32_t)off * 0x2Bu + (uint32_t)(off >> 8) * 0x65u;
    return (uint8_t)(x ^ (x >> 11) ^ (x >> 23));
}
/* Fill [p + from, p + to) with the pattern of id (offsets relative to p). */
void pat_fill(void *p, uint32_t id, size_t from, size_t to);
/* First offset in [from, to) that does not hold the pattern, or (size_t)-1. */
size_t pat_find_bad(const void *p, uint32_t id, size_t from, size_t to);
static inline int pat_ok(const void *p, uint32_t id, size_t from, size_t to)
{
    return pat_find_bad(p, id, from, to) == (size_t)-1;
}

/* Write to memory the library may have poisoned for ASan (headers, free
 * blocks): used only by the deliberate corruption tests. */
void test_unpoison(void *p, size_t n);
void test_poke(void *p, int byte, size_t n);
void test_poke_bytes(void *p, const void *src, size_t n);

#endif /* ONEHEAP_TESTS_COMMON_H */
