/*
 * fw_main.c - the Cortex-M test firmware, run under qemu-system-arm.
 *
 * 1. newlib bridge: malloc & co. (and newlib's own allocations) land in the
 *    system heap, with C and POSIX semantics and errno through the
 *    reentrancy struct; newlib's own allocator is not linked at all.
 * 2. Cortex-M port: the heap's critical section masks interrupts (PRIMASK)
 *    and nests; a heap call from an exception handler (IPSR != 0) is
 *    refused with OS_EPERM; user lock and in_isr hooks replace the defaults.
 * 3. The host's unit tests, unchanged: test_spec (every row of the
 *    behaviour table), test_corrupt and test_model at a reduced scale.
 *
 * Each part prints its checks and a [PASS]/[FAIL] line; the last line is
 * PASS or FAIL and the exit status (through semihosting) is 0 or 1.
 */
#define _DEFAULT_SOURCE             /* posix_memalign, strdup, reallocf */
#include "common.h"

#include <errno.h>
#include <malloc.h>
#include <reent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw.h"
#ifdef OS_USING_MEM_POOL
#include <os_mempool.h>
#endif

/* The unit tests' entry points (their main, renamed by the build). */
int test_spec_main(void);
int test_corrupt_main(void);
int test_model_main(int argc, char **argv);

#ifndef FW_MODEL_SEEDS
#define FW_MODEL_SEEDS "2"
#endif
#ifndef FW_TARGET
#define FW_TARGET "cortex-m"
#endif

/* stdout gets a static buffer: newlib would otherwise malloc one on first use */
static char stdout_buf[256];

/* The system heap of the firmware itself (the unit tests bring their own). */
static _Alignas(8) unsigned char fw_heap[64 * 1024];

/* ---- helpers ------------------------------------------------------------------------------ */

static uint32_t get_primask(void)
{
    uint32_t v;

    __asm volatile("mrs %0, primask" : "=r"(v));
    return v;
}

static uint32_t get_ipsr(void)
{
    uint32_t v;

    __asm volatile("mrs %0, ipsr" : "=r"(v));
    return v;
}

#define SCB_ICSR        (*(volatile uint32_t *)0xE000ED04u)
#define ICSR_PENDSVSET  (1u << 28)

/* Pend PendSV; with interrupts unmasked it runs before this returns. */
static void pend_pendsv(void)
{
    SCB_ICSR = ICSR_PENDSVSET;
    __asm volatile("dsb\n\tisb" : : : "memory");
}

static size_t sys_used(void)
{
    os_meminfo_t info;

    os_memory_info(&info);
    return info.mem_used;
}

/* Leave the system heap uninitialised (every region released). */
static void sys_heap_release(void)
{
    os_memheap_t *h = os_sys_heap();

    if (h->object_inited)
    {
        CHECK_EQ(os_memheap_deinit(h), OS_EOK);
    }
    memset(h, 0, sizeof *h);
}

/* The system heap on fw_heap alone, empty. */
static void sys_heap_fresh(void)
{
    sys_heap_release();
    os_sys_heap_init();
    CHECK_EQ(os_sys_heap_add(fw_heap, sizeof fw_heap, OS_MEM_ALG_DEFAULT), OS_EOK);
}

static int in_fw_heap(const void *p, size_t n)
{
    return p != NULL && range_inside(p, n, fw_heap, sizeof fw_heap);
}

/* ---- 1. the newlib bridge -------------------------------------------------------------------- */

/* newlib's allocator state; linked only if newlib's malloc were */
extern char __malloc_av_[] __attribute__((weak));

static struct _reent other_reent;

static int test_newlib_bridge(void)
{
    sys_heap_fresh();
    hook_install();
    check_context("newlib bridge");

    /* malloc is oneheap's: the block is in the system heap's region and counted */
    size_t used0 = sys_used();
    CHECK_EQ(used0, 0);
    unsigned char *p = malloc(100);
    CHECK(in_fw_heap(p, 100));
    size_t used1 = sys_used();
    CHECK(used1 >= used0 + 100);
    printf("malloc(100) = %p, system heap [%p, %p), mem_used %lu -> %lu\n", (void *)p,
           (void *)fw_heap, (void *)(fw_heap + sizeof fw_heap), (unsigned long)used0,
           (unsigned long)used1);
    CHECK(malloc_usable_size(p) >= 100);
    CHECK_EQ(malloc_usable_size(p), os_malloc_usable_size(p));
    if (p != NULL)
    {
        memset(p, 0x5A, 100);
    }

    /* realloc moves or grows, keeping the contents */
    unsigned char *q = realloc(p, 3000);
    CHECK(in_fw_heap(q, 3000));
    if (q != NULL)
    {
        size_t bad = 0;
        for (size_t i = 0; i < 100; i++)
        {
            bad += q[i] != 0x5A;
        }
        CHECK_EQ(bad, 0);
        p = q;
    }
    CHECK_EQ(os_memory_check(), OS_EOK);
    free(p);
    CHECK_EQ(sys_used(), 0);

    /* calloc clears; a count * size overflow fails with ENOMEM */
    unsigned char *c = calloc(50, 20);
    CHECK(in_fw_heap(c, 1000));
    if (c != NULL)
    {
        size_t nz = 0;
        for (size_t i = 0; i < 1000; i++)
        {
            nz += c[i] != 0;
        }
        CHECK_EQ(nz, 0);
    }
    free(c);
    volatile size_t half = SIZE_MAX / 2;   /* hidden from the compiler's own check */
    errno = 0;
    CHECK(calloc(half, 4) == NULL);
    CHECK_EQ(errno, ENOMEM);

    /* zero sizes: distinct pointers that free accepts */
    void *z1 = malloc(0);
    void *z2 = malloc(0);
    CHECK(in_fw_heap(z1, 1) && in_fw_heap(z2, 1) && z1 != z2);
    free(z1);
    free(z2);

    /* aligned allocations */
    void *a64 = memalign(64, 10);
    CHECK(in_fw_heap(a64, 10) && is_aligned(a64, 64));
    void *a256 = aligned_alloc(256, 512);
    CHECK(in_fw_heap(a256, 512) && is_aligned(a256, 256));
    void *pm = NULL;
    CHECK_EQ(posix_memalign(&pm, 32, 100), 0);
    CHECK(in_fw_heap(pm, 100) && is_aligned(pm, 32));
    void *untouched = &pm;
    void *pm2 = untouched;
    CHECK_EQ(posix_memalign(&pm2, 24, 8), EINVAL);
    CHECK(pm2 == untouched);
    CHECK_EQ(posix_memalign(&pm2, 2, 8), EINVAL);   /* not a multiple of sizeof(void *) */
    CHECK_EQ(posix_memalign(&pm2, 64, sizeof fw_heap), ENOMEM);
    CHECK(pm2 == untouched);
    errno = 0;
    CHECK(memalign(48, 8) == NULL);
    CHECK_EQ(errno, EINVAL);
    void *v = valloc(100);                  /* newlib's valloc, through _memalign_r */
    CHECK(in_fw_heap(v, 100));
    free(v);
    v = pvalloc(100);                       /* whole pages, page-aligned */
    CHECK(in_fw_heap(v, 4096) && is_aligned(v, 4096));
    free(v);
    errno = 0;
    CHECK(pvalloc((size_t)-1 - 100) == NULL);   /* no rounding past SIZE_MAX to a small block */
    CHECK_EQ(errno, ENOMEM);
    free(a64);
    free(a256);
    free(pm);
    CHECK_EQ(sys_used(), 0);

    /* failures: NULL and errno = ENOMEM; a failed realloc keeps the block */
    errno = 0;
    CHECK(malloc(sizeof fw_heap) == NULL);
    CHECK_EQ(errno, ENOMEM);
    /* called through a pointer: the compiler takes any realloc to free r */
    void *(*volatile realloc_fn)(void *, size_t) = realloc;
    unsigned char *r = malloc(16);
    CHECK(in_fw_heap(r, 16));
    if (r != NULL)
    {
        memset(r, 0xA5, 16);
        errno = 0;
        CHECK(realloc_fn(r, 2 * sizeof fw_heap) == NULL);
        CHECK_EQ(errno, ENOMEM);
        CHECK(r[0] == 0xA5 && r[15] == 0xA5);
    }
    CHECK(realloc(r, 0) == NULL);           /* frees */
    CHECK_EQ(sys_used(), 0);

    /* reallocf: frees the block when it fails, and realloc(p, 0)'s block only once */
    void *(*volatile reallocf_fn)(void *, size_t) = reallocf;
    unsigned char *rf = malloc(24);
    CHECK(in_fw_heap(rf, 24));
    rf = reallocf_fn(rf, 240);
    CHECK(in_fw_heap(rf, 240));
    CHECK(reallocf_fn(rf, 2 * sizeof fw_heap) == NULL);     /* freed */
    CHECK_EQ(sys_used(), 0);
    rf = malloc(24);
    CHECK(reallocf_fn(rf, 0) == NULL);      /* freed once: no double free reported */
    CHECK_EQ(sys_used(), 0);
    CHECK_REPORTS(0);
    static unsigned char not_heap[32] __attribute__((aligned(8)));
    CHECK(reallocf_fn(not_heap, 8) == NULL);    /* not a heap block: reported once, by the realloc */
    CHECK_REPORTS(1);
    CHECK_EQ(malloc_trim(0), 0);            /* links: newlib's trim (with its free) stays out */

    /* the reentrant entry points set errno in the struct they are given */
    errno = 0;
    other_reent._errno = 0;
    CHECK(_malloc_r(&other_reent, sizeof fw_heap) == NULL);
    CHECK_EQ(other_reent._errno, ENOMEM);
    CHECK_EQ(errno, 0);
    void *rp = _malloc_r(&other_reent, 40);
    CHECK(in_fw_heap(rp, 40));
    rp = _realloc_r(&other_reent, rp, 400);
    CHECK(in_fw_heap(rp, 400));
    _free_r(&other_reent, rp);
    void *rc = _calloc_r(&other_reent, 4, 4);
    CHECK(in_fw_heap(rc, 16));
    _free_r(&other_reent, rc);
    void *ra = _memalign_r(&other_reent, 128, 4);
    CHECK(in_fw_heap(ra, 4) && is_aligned(ra, 128));
    _free_r(&other_reent, ra);
    CHECK_EQ(sys_used(), 0);

    /* newlib's own allocations reach the bridge: strdup calls _malloc_r */
    char *s = strdup("oneheap");
    CHECK(in_fw_heap(s, 8));
    CHECK(s != NULL && strcmp(s, "oneheap") == 0);
    struct mallinfo mi = mallinfo();        /* newlib's wrapper, our figures */
    CHECK_EQ(mi.arena, os_sys_heap()->mem_total);
    CHECK_EQ(mi.uordblks, sys_used());
    CHECK(mi.uordblks >= 8);
    free(s);

    /* newlib's allocator was never linked: no _sbrk, no malloc state */
    const void *volatile av = __malloc_av_;
    CHECK(av == NULL);

    CHECK_EQ(sys_used(), 0);
    CHECK_EQ(os_memory_check(), OS_EOK);
    CHECK_REPORTS(0);
    hook_uninstall();
    return check_summary("newlib_bridge");
}

/* ---- 2. the Cortex-M port ---------------------------------------------------------------------- */

#ifndef OS_MEM_PORT_NO_LOCK

/* The walk callback runs with the heap locked (os_memheap_walk's contract). */
static volatile uint32_t walk_primask;
static volatile unsigned walk_calls;
static volatile int pend_from_walk;

/* The error hook's record of a refusal. */
static volatile unsigned hook_calls;
static volatile os_err_t hook_code;

/* PendSV's record of its run. */
static volatile unsigned pendsv_runs;
static volatile unsigned pendsv_runs_seen_in_walk;
static volatile uint32_t pendsv_ipsr;
static void *volatile pendsv_arg;
static void *volatile pendsv_result;
static volatile int pendsv_do_heap;

static int walk_fn(const struct os_memheap_block *blk, void *arg)
{
    (void)blk;
    (void)arg;
    walk_primask = get_primask();
    walk_calls++;
    if (pend_from_walk)
    {
        /* an interrupt raised inside the critical section must wait for its end */
        pend_pendsv();
        pendsv_runs_seen_in_walk = pendsv_runs;
    }
    return 1;   /* one block is enough */
}

/* Walk the system heap once; PRIMASK as the callback saw it. */
static uint32_t primask_inside_heap(void)
{
    walk_calls = 0;
    walk_primask = 0xFFu;
    CHECK_EQ(os_memheap_walk(os_sys_heap(), walk_fn, OS_NULL), OS_EOK);
    CHECK_EQ(walk_calls, 1);
    return walk_primask;
}

static void port_hook(const char *heap_name, const void *addr, os_err_t code, const char *msg)
{
    (void)heap_name;
    (void)addr;
    (void)msg;
    hook_code = code;
    hook_calls++;
}

void fw_pendsv(void)
{
    pendsv_ipsr = get_ipsr();
    pendsv_runs++;
    if (pendsv_do_heap == 1)
    {
        pendsv_result = os_malloc(32);      /* refused: handler mode */
    }
    else if (pendsv_do_heap == 2)
    {
        os_free(pendsv_arg);                /* refused too: the block stays allocated */
    }
}

/* A user lock that checks each unlock gets the state of the innermost lock. */
static unsigned user_locks, user_unlocks, user_depth;
static os_ubase_t user_stack[4];
static int user_state_ok = 1;

static os_ubase_t user_lock(os_ubase_t *word)
{
    os_ubase_t state = 0x1234u + user_locks;

    (void)word;
    user_locks++;
    if (user_depth < 4)
    {
        user_stack[user_depth] = state;
    }
    user_depth++;
    return state;
}

static void user_unlock(os_ubase_t *word, os_ubase_t state)
{
    (void)word;
    user_unlocks++;
    if (user_depth == 0 || user_depth > 4 || user_stack[user_depth - 1] != state)
    {
        user_state_ok = 0;
        return;
    }
    user_depth--;
}

static int always_in_isr(void)
{
    return 1;
}

static int test_cortexm_port(void)
{
    sys_heap_fresh();
    os_mem_set_error_hook(port_hook);

    /* PRIMASK masks interrupts while the heap works, and is restored */
    check_context("PRIMASK section");
    void *p = os_malloc(24);
    CHECK(in_fw_heap(p, 24));
    CHECK_EQ(get_primask(), 0);
    CHECK_EQ(primask_inside_heap(), 1);
    CHECK_EQ(get_primask(), 0);
#ifdef OS_USING_MEM_POOL
    /* pools nest the global, pools and pool locks: each is given back in reverse order */
    os_mp_t *mp = os_mp_create("fw", 4, 32);
    CHECK(mp != OS_NULL);
    CHECK_EQ(get_primask(), 0);
    if (mp != OS_NULL)
    {
        void *b = os_mp_alloc(mp, OS_NO_WAIT);
        CHECK(b != OS_NULL);
        os_mp_free(mp, b);
        hook_calls = 0;
        os_free(mp);    /* refused: the block holds the live pool */
        CHECK(hook_calls == 1 && hook_code == OS_EBUSY);
        hook_calls = 0;
        CHECK_EQ(get_primask(), 0);
        CHECK_EQ(os_mp_destroy(mp), OS_EOK);
        CHECK_EQ(get_primask(), 0);
    }
    __asm volatile("cpsie i" : : : "memory");
#endif

    /* an interrupt raised inside the section runs only after it */
    pendsv_runs = 0;
    pend_from_walk = 1;
    (void)primask_inside_heap();
    pend_from_walk = 0;
    CHECK_EQ(pendsv_runs_seen_in_walk, 0);
    CHECK_EQ(pendsv_runs, 1);

    /* sections nest: called with interrupts masked, they stay masked */
    __asm volatile("cpsid i" : : : "memory");
    uint32_t inside = primask_inside_heap();
    void *p2 = os_malloc(24);
    uint32_t after = get_primask();
    __asm volatile("cpsie i" : : : "memory");
    CHECK_EQ(inside, 1);
    CHECK_EQ(after, 1);
    CHECK(in_fw_heap(p2, 24));
    os_free(p2);

    /* IPSR: a heap call from an exception handler is refused with OS_EPERM */
    check_context("IPSR");
    hook_calls = 0;
    pendsv_runs = 0;
    pendsv_result = fw_heap;                /* overwritten by the handler */
    pendsv_do_heap = 1;
    pend_pendsv();
    CHECK_EQ(pendsv_runs, 1);
    CHECK_EQ(pendsv_ipsr, 14);              /* PendSV's exception number */
    CHECK(pendsv_result == NULL);
    CHECK_EQ(hook_calls, 1);
    CHECK_EQ(hook_code, OS_EPERM);
    size_t used = sys_used();
    void *p40 = os_malloc(40);
    CHECK(in_fw_heap(p40, 40));
    size_t used_p = sys_used();
    hook_calls = 0;
    pendsv_arg = p40;
    pendsv_do_heap = 2;
    pend_pendsv();
    pendsv_do_heap = 0;
    CHECK_EQ(hook_calls, 1);
    CHECK_EQ(hook_code, OS_EPERM);
    CHECK_EQ(sys_used(), used_p);           /* the free from the handler did nothing */
    os_free(p40);                           /* in thread mode it works */
    CHECK_EQ(sys_used(), used);
    printf("PendSV (IPSR %lu): os_malloc and os_free refused with OS_EPERM\n",
           (unsigned long)pendsv_ipsr);

    /* a user lock replaces the PRIMASK section; PRIMASK stays untouched */
    check_context("user lock hook");
    static const struct os_mem_port_hooks user_hooks = {.lock = user_lock, .unlock = user_unlock};
    os_mem_port_set_hooks(&user_hooks);
    void *p50 = os_malloc(50);
    CHECK(in_fw_heap(p50, 50));
    os_free(p50);
    CHECK(user_locks >= 2);
    CHECK_EQ(user_locks, user_unlocks);
    CHECK_EQ(user_state_ok, 1);
    unsigned locks_before = user_locks;
    CHECK_EQ(primask_inside_heap(), 0);
    CHECK_EQ(user_locks, locks_before + 1);
    CHECK_EQ(user_locks, user_unlocks);

    /* an in_isr hook replaces the IPSR read */
    check_context("in_isr hook");
    static const struct os_mem_port_hooks isr_hooks = {.in_isr = always_in_isr};
    os_mem_port_set_hooks(&isr_hooks);
    hook_calls = 0;
    CHECK(os_malloc(8) == NULL);
    CHECK_EQ(hook_calls, 1);
    CHECK_EQ(hook_code, OS_EPERM);
    os_mem_port_set_hooks(OS_NULL);
    void *p8 = os_malloc(8);
    CHECK(in_fw_heap(p8, 8));
    os_free(p8);

    os_free(p);
    CHECK_EQ(sys_used(), 0);
    CHECK_EQ(os_memory_check(), OS_EOK);
    os_mem_set_error_hook(OS_NULL);
    return check_summary("cortexm_port");
}

#else

void fw_pendsv(void)
{
}

#endif /* OS_MEM_PORT_NO_LOCK */

/* ---- 3. the unit tests ----------------------------------------------------------------------------- */

/* Each test sets up the system heap itself, from its own memory. */
static int run_test_spec(void)
{
    sys_heap_release();
    int rc = test_spec_main();
    sys_heap_release();
    return rc;
}

static int run_test_corrupt(void)
{
    sys_heap_release();
    int rc = test_corrupt_main();
    sys_heap_release();
    return rc;
}

static int run_test_model(void)
{
    static char name[] = "test_model";
    static char seeds[] = FW_MODEL_SEEDS;
    char *argv[] = {name, seeds, NULL};

    sys_heap_release();
    int rc = test_model_main(2, argv);
    sys_heap_release();
    return rc;
}

/* ---- the run ---------------------------------------------------------------------------------------- */

static unsigned failed_parts;

static void run(const char *name, int (*fn)(void))
{
    atomic_store(&check_failures, 0UL);
    atomic_store(&check_total, 0UL);
    check_context("%s", name);
    printf("--- %s\n", name);
    int rc = fn();
    const char *verdict = rc == 0 ? "PASS" : rc == TEST_SKIP_CODE ? "SKIP" : "FAIL";
    if (rc != 0 && rc != TEST_SKIP_CODE)
    {
        failed_parts++;
    }
    printf("[%s] %s\n", verdict, name);
}

int main(void)
{
    setvbuf(stdout, stdout_buf, _IOLBF, sizeof stdout_buf);
    printf("oneheap test firmware on %s (%s), algorithms:", FW_TARGET,
#ifdef OS_MEM_PORT_NO_LOCK
           "Cortex-M port, no lock"
#else
           "Cortex-M port, PRIMASK lock"
#endif
    );
    for (unsigned i = 0; i < test_nalgs; i++)
    {
        printf(" %s", test_algs[i].name);
    }
    printf("\n");

    run("newlib_bridge", test_newlib_bridge);
#ifndef OS_MEM_PORT_NO_LOCK
    run("cortexm_port", test_cortexm_port);
#endif
    run("test_spec", run_test_spec);
    run("test_corrupt", run_test_corrupt);
    run("test_model", run_test_model);

    /* the firmware's malloc still works after the tests */
    sys_heap_fresh();
    void *p = malloc(1000);
    if (!in_fw_heap(p, 1000))
    {
        printf("malloc after the tests: %p, not in the system heap\n", p);
        failed_parts++;
    }
    free(p);

    printf("%s\n", failed_parts == 0 ? "PASS" : "FAIL");
    fflush(stdout);
    return failed_parts == 0 ? 0 : 1;
}
