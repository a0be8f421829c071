/*
 * common.c - helpers shared by the oneheap tests (see common.h).
 */
#define CHECK_IMPLEMENTATION
#include "common.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifdef TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* ---- algorithms and layouts ------------------------------------------------- */

const struct test_alg test_algs[] = {
#ifdef OS_USING_ALG_FIRSTFIT
    /* (the control data and the smallest block grow with the alignment) */
    {OS_MEM_ALG_FIRSTFIT, "firstfit", 1, 1024, 224 + 4 * OS_MEM_ALIGN_SIZE, 1},
#endif
#ifdef OS_USING_ALG_BUDDY
    /* blocks are powers of two, header included: 1024 bytes need a
     * 2048-byte block, which a 2048-byte region cannot hold */
    {OS_MEM_ALG_BUDDY, "buddy", 0, 512, 448 + 8 * OS_MEM_ALIGN_SIZE, 0},
#endif
};
const unsigned test_nalgs = (unsigned)(sizeof test_algs / sizeof test_algs[0]);

const struct test_alg *test_alg_info(enum os_mem_alg alg)
{
    if (alg == OS_MEM_ALG_DEFAULT)
        return &test_algs[0];
    for (unsigned i = 0; i < test_nalgs; i++)
        if (test_algs[i].alg == alg)
            return &test_algs[i];
    return &test_algs[0];
}

const char *test_alg_name(enum os_mem_alg alg)
{
    if (alg == OS_MEM_ALG_DEFAULT)
        return "default";
    return test_alg_info(alg)->name;
}

#define MAX_LAYOUTS 8
static struct test_layout layouts[MAX_LAYOUTS];
static unsigned           nlayouts;

static void layouts_build(void)
{
    if (nlayouts)
        return;
    for (unsigned i = 0; i < test_nalgs && nlayouts < MAX_LAYOUTS; i++)
    {
        struct test_layout *l = &layouts[nlayouts++];
        snprintf(l->name, sizeof l->name, "%s", test_algs[i].name);
        l->nalgs = 1;
        l->algs[0] = test_algs[i].alg;
    }
    if (test_nalgs > 1)
    {
        /* regions cycle through every algorithm, in table order and reversed */
        for (int rev = 0; rev < 2 && nlayouts < MAX_LAYOUTS; rev++)
        {
            struct test_layout *l = &layouts[nlayouts++];
            size_t pos = 0;
            pos += (size_t)snprintf(l->name, sizeof l->name, "mixed");
            l->nalgs = test_nalgs < TEST_MAX_LAYOUT_ALGS ? test_nalgs : TEST_MAX_LAYOUT_ALGS;
            for (unsigned k = 0; k < l->nalgs; k++)
            {
                unsigned idx = rev ? l->nalgs - 1 - k : k;
                l->algs[k] = test_algs[idx].alg;
                if (pos < sizeof l->name)
                    pos += (size_t)snprintf(l->name + pos, sizeof l->name - pos, "%s%s",
                                            k ? "+" : ":", test_algs[idx].name);
            }
        }
    }
}

unsigned test_layout_count(void)
{
    layouts_build();
    return nlayouts;
}

const struct test_layout *test_layout_get(unsigned i)
{
    layouts_build();
    return &layouts[i < nlayouts ? i : 0];
}

enum os_mem_alg test_layout_alg(const struct test_layout *l, unsigned region)
{
    return l->algs[region % l->nalgs];
}

const struct test_layout *test_layout_mixed(void)
{
    layouts_build();
    for (unsigned i = 0; i < nlayouts; i++)
        if (layouts[i].nalgs > 1)
            return &layouts[i];
    return &layouts[0];
}

/* ---- PRNG ----------------------------------------------------------------------------- */

void rng_seed(test_rng_t *r, uint64_t seed)
{
    /* splitmix64 step so that small seeds give unrelated streams */
    uint64_t z = seed + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    r->s = z ? z : 0x2545F4914F6CDD1DULL;
}

uint64_t rng_next(test_rng_t *r)
{
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

uint32_t rng_below(test_rng_t *r, uint32_t n)
{
    return (uint32_t)((rng_next(r) >> 32) % n);
}

size_t rng_range(test_rng_t *r, size_t lo, size_t hi)
{
    return lo + (size_t)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

/* ---- error hook ------------------------------------------------------------------------- */

static atomic_ulong hook_n;
static atomic_int   hook_echo_on;
static atomic_flag  hook_busy = ATOMIC_FLAG_INIT;    /* guards the "last report" fields */
static os_err_t     hook_code;
static const void  *hook_addr;
static char         hook_msg[256];
static char         hook_all[8192];     /* every report since hook_reset(), one per line, while it fits */
static size_t       hook_all_len;

static void counting_hook(const char *heap_name, const void *addr, os_err_t code, const char *msg)
{
    atomic_fetch_add(&hook_n, 1UL);
    while (atomic_flag_test_and_set(&hook_busy))
        ;
    hook_code = code;
    hook_addr = addr;
    snprintf(hook_msg, sizeof hook_msg, "heap=%s addr=%p code=%ld: %s",
             heap_name ? heap_name : "(null)", addr, (long)code, msg ? msg : "(null)");
    int n = snprintf(hook_all + hook_all_len, sizeof hook_all - hook_all_len, "%s\n", hook_msg);
    if (n > 0 && (size_t)n < sizeof hook_all - hook_all_len)
        hook_all_len += (size_t)n;
    else
        hook_all[hook_all_len] = '\0';     /* full: keep what was whole */
    if (atomic_load(&hook_echo_on))
    {
        fprintf(stdout, "  [report] %s\n", hook_msg);
        fflush(stdout);
    }
    atomic_flag_clear(&hook_busy);
}

void hook_install(void)
{
    os_mem_set_error_hook(counting_hook);
}

void hook_uninstall(void)
{
    os_mem_set_error_hook(OS_NULL);
}

void hook_echo(int on)
{
    atomic_store(&hook_echo_on, on);
}

unsigned long hook_count(void)
{
    return atomic_load(&hook_n);
}

void hook_reset(void)
{
    atomic_store(&hook_n, 0UL);
    while (atomic_flag_test_and_set(&hook_busy))
        ;
    hook_msg[0] = '\0';
    hook_all[0] = '\0';
    hook_all_len = 0;
    atomic_flag_clear(&hook_busy);
}

os_err_t hook_last_code(void)
{
    return hook_code;
}

const void *hook_last_addr(void)
{
    return hook_addr;
}

const char *hook_last_msg(void)
{
    return hook_msg;
}

int hook_seen(const char *text)
{
    while (atomic_flag_test_and_set(&hook_busy))
        ;
    int seen = strstr(hook_all, text) != NULL;
    atomic_flag_clear(&hook_busy);
    return seen;
}

void hook_check_(const char *file, int line, unsigned long n, int mode)
{
    unsigned long got = hook_count();
    int ok;
    const char *what;
    switch (mode)
    {
    case 0:
        ok = got == n;
        what = "exactly";
        break;
    case 1:
        ok = got <= n;
        what = "at most";
        break;
    default:
        ok = got >= 1;
        what = "at least";
        n = 1;
        break;
    }
    atomic_fetch_add(&check_total, 1UL);
    if (!ok)
    {
        check_fail(file, line, "expected %s %lu error report(s), got %lu", what, n, got);
        if (got)
            check_note("last report: %s", hook_msg);
    }
    hook_reset();
}

/* ---- heaps ---------------------------------------------------------------------------------- */

void heap_open(os_memheap_t *h, const char *name)
{
    memset(h, 0, sizeof *h);
    os_err_t rc = os_memheap_init(h, name);
    CHECK_EQ(rc, OS_EOK);
}

void heap_close(os_memheap_t *h)
{
    os_err_t rc = os_memheap_deinit(h);
    CHECK_EQ(rc, OS_EOK);
    memset(h, 0, sizeof *h);
}

void heap_add_ok(os_memheap_t *h, void *start, size_t size, enum os_mem_alg alg)
{
    os_err_t rc = os_memheap_add(h, start, size, alg);
    CHECKF(rc == OS_EOK, "os_memheap_add(%p, %zu, %s) = %ld", start, size, test_alg_name(alg),
           (long)rc);
}

os_meminfo_t heap_info(os_memheap_t *h)
{
    os_meminfo_t info;
    memset(&info, 0xEE, sizeof info);
    os_memheap_info(h, &info);
    return info;
}

int info_eq(const os_meminfo_t *a, const os_meminfo_t *b)
{
    return a->mem_total == b->mem_total && a->mem_used == b->mem_used &&
           a->mem_maxused == b->mem_maxused;
}

int info_unchanged(os_memheap_t *h, const os_meminfo_t *before)
{
    os_meminfo_t now = heap_info(h);
    return info_eq(&now, before);
}

void *any_alloc(os_memheap_t *h, size_t n)
{
#ifdef OS_USING_SYS_HEAP
    if (!h)
        return os_malloc(n);
#endif
    return os_memheap_alloc(h, n);
}

void *any_aligned(os_memheap_t *h, size_t align, size_t n)
{
#ifdef OS_USING_SYS_HEAP
    if (!h)
        return os_aligned_malloc(align, n);
#endif
    return os_memheap_aligned_alloc(h, align, n);
}

void *any_realloc(os_memheap_t *h, void *p, size_t n)
{
#ifdef OS_USING_SYS_HEAP
    if (!h)
        return os_realloc(p, n);
#endif
    return os_memheap_realloc(h, p, n);
}

size_t any_usable(os_memheap_t *h, void *p)
{
#ifdef OS_USING_SYS_HEAP
    if (!h)
        return os_malloc_usable_size(p);
#endif
    return os_memheap_usable_size(h, p);
}

void any_free(os_memheap_t *h, void *p)
{
#ifdef OS_USING_SYS_HEAP
    if (!h)
    {
        os_free(p);
        return;
    }
#endif
    os_memheap_free(h, p);
}

static int block_find(const struct os_memheap_block *b, void *arg)
{
    struct os_memheap_block *f = arg;
    if (b->addr != f->addr)
        return 0;
    *f = *b;
    return 1;
}

struct os_memheap_block block_at(os_memheap_t *h, const void *p)
{
    struct os_memheap_block f;
    memset(&f, 0, sizeof f);
    f.addr = (void *)(uintptr_t)p;
    CHECK_EQ(os_memheap_walk(h, block_find, &f), OS_EOK);
    return f;
}

size_t block_total(os_memheap_t *h, const void *p)
{
    return block_at(h, p).total;
}

struct digest
{
    uint64_t h;
    int      lazy;
};

static int digest_block(const struct os_memheap_block *b, void *arg)
{
    struct digest *d = arg;
    uint64_t v[3] = { (uint64_t)(uintptr_t)b->addr, (uint64_t)b->total, (uint64_t)b->used };

    for (unsigned i = 0; i < 3; i++)
        d->h = (d->h ^ v[i]) * 0x100000001B3ull;    /* FNV-1a over words */
    if (OS_MEM_BUDDY_QUICK > 0 && strcmp(b->alg, "buddy") == 0)
        d->lazy = 1;
    return 0;
}

uint64_t heap_layout_digest(os_memheap_t *h, int *lazy)
{
    struct digest d = { 0xCBF29CE484222325ull, 0 };
    CHECK_EQ(os_memheap_walk(h, digest_block, &d), OS_EOK);
    *lazy = d.lazy;
    return d.h;
}

size_t heap_largest_alloc(os_memheap_t *h)
{
    os_meminfo_t info = heap_info(h);
    size_t lo = 0;                      /* 0, or a size that was served */
    size_t hi = info.mem_total + 1;     /* a size that cannot be served */
    void *p = os_memheap_alloc(h, hi);
    CHECK(p == OS_NULL);
    if (p)
    {
        os_memheap_free(h, p);
        return hi;
    }
    while (hi - lo > 1)
    {
        size_t mid = lo + (hi - lo) / 2;
        p = os_memheap_alloc(h, mid);
        if (p)
        {
            os_memheap_free(h, p);
            lo = mid;
        }
        else
        {
            hi = mid;
        }
    }
    return lo;
}

/* ---- captured text --------------------------------------------------------------------------- */

static char   captured[64 * 1024];
static size_t captured_len;

void capture_puts(const char *s)
{
    size_t n = strlen(s);
    if (captured_len + n >= sizeof captured)
        n = sizeof captured - 1 - captured_len;
    memcpy(captured + captured_len, s, n);
    captured_len += n;
    captured[captured_len] = '\0';
}

void capture_reset(void)
{
    captured_len = 0;
    captured[0] = '\0';
}

const char *capture_text(void)
{
    return captured;
}

size_t capture_len(void)
{
    return captured_len;
}

const char *text_line_of(const char *text, const void *p, char *line, size_t size)
{
    char addr[32];
    snprintf(addr, sizeof addr, "%p", p);
    const char *at = strstr(text, addr);
    if (!at)
        return NULL;
    const char *start = at;
    while (start > text && start[-1] != '\n')
        start--;
    const char *end = strchr(at, '\n');
    size_t n = end ? (size_t)(end - start) : strlen(start);
    if (n >= size)
        n = size - 1;
    memcpy(line, start, n);
    line[n] = '\0';
    return line;
}

/* ---- memory helpers ---------------------------------------------------------------------------- */

int is_aligned(const void *p, size_t align)
{
    return align == 0 || ((uintptr_t)p & (uintptr_t)(align - 1)) == 0;
}

unsigned char *align_up(void *p, size_t align)
{
    return (unsigned char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
}

int ranges_overlap(const void *a, size_t an, const void *b, size_t bn)
{
    uintptr_t a0 = (uintptr_t)a, b0 = (uintptr_t)b;
    return a0 < b0 + bn && b0 < a0 + an;
}

int range_inside(const void *p, size_t n, const void *base, size_t size)
{
    uintptr_t x = (uintptr_t)p, b = (uintptr_t)base;
    return x >= b && n <= size && x - b <= size - n;
}

void pat_fill(void *p, uint32_t id, size_t from, size_t to)
{
    uint8_t *b = p;
    for (size_t i = from; i < to; i++)
        b[i] = pat_byte(id, i);
}

size_t pat_find_bad(const void *p, uint32_t id, size_t from, size_t to)
{
    const uint8_t *b = p;
    for (size_t i = from; i < to; i++)
        if (b[i] != pat_byte(id, i))
            return i;
    return (size_t)-1;
}

void test_unpoison(void *p, size_t n)
{
#ifdef TEST_ASAN
    __asan_unpoison_memory_region(p, n);
#else
    (void)p;
    (void)n;
#endif
}

void test_poke(void *p, int byte, size_t n)
{
    test_unpoison(p, n);
    volatile uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)byte;
}

void test_poke_bytes(void *p, const void *src, size_t n)
{
    test_unpoison(p, n);
    volatile uint8_t *b = p;
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++)
        b[i] = s[i];
}
