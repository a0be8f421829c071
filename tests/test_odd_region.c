/*
 * test_odd_region.c - a 700 KiB region that starts at an address = 24
 * (mod 64), on every algorithm: random alloc, aligned alloc, realloc and
 * free with contents, alignment and bounds checked and `check` after every
 * batch; everything freed gives back the largest block of the fresh heap.
 * On 64-bit Linux also a region around a 4 GiB boundary, for alignments
 * that do not fit 32 bits.
 */
#define _DEFAULT_SOURCE     /* MAP_ANONYMOUS, MAP_NORESERVE */
#include <stdint.h>
#include <string.h>
#if defined(__linux__) && UINTPTR_MAX > 0xFFFFFFFFu
#include <sys/mman.h>
#define HUGE_ALIGN_TEST 1
#endif

#include "check.h"
#include "common.h"

#define KiB     1024u
#define SIZE    (700 * KiB)
#define SLOTS   400
#define OPS     30000

static _Alignas(64) unsigned char arena[SIZE + 128];

static void run(enum os_mem_alg alg)
{
    unsigned char *base = arena + 24;
    os_memheap_t heap;
    void *p[SLOTS] = { 0 };
    size_t n[SLOTS] = { 0 };
    test_rng_t r;
    size_t fresh;
    int i;

    check_context("700 KiB at 24 mod 64, %s", test_alg_name(alg));
    CHECK(((uintptr_t)base & 63) == 24);
    heap_open(&heap, "odd");
    heap_add_ok(&heap, base, SIZE, alg);
    fresh = heap_largest_alloc(&heap);
    /* a range of length L holds a naturally aligned power of two >= L/4 */
    CHECKF(fresh >= SIZE / 4 - 64, "largest block %zu", fresh);
    rng_seed(&r, 24);
    for (i = 0; i < OPS; i++)
    {
        unsigned k = rng_below(&r, SLOTS);
        unsigned op = rng_below(&r, 4);

        if (p[k] != OS_NULL)
        {
            CHECKF(pat_ok(p[k], k, 0, n[k]), "slot %u corrupted", k);
            if (op == 0)
            {
                size_t m = rng_range(&r, 1, 6000);
                void *q = os_memheap_realloc(&heap, p[k], m);

                if (q != OS_NULL)
                {
                    if (m > n[k])
                    {
                        pat_fill(q, k, n[k], m);
                    }
                    p[k] = q;
                    n[k] = m;
                }
            }
            else
            {
                os_memheap_free(&heap, p[k]);
                p[k] = OS_NULL;
            }
        }
        else
        {
            size_t m = rng_below(&r, 8) == 0 ? rng_range(&r, 1, 40000) : rng_range(&r, 1, 600);
            size_t al = (op == 1) ? (size_t)16 << rng_below(&r, 8) : 0;

            p[k] = al != 0 ? os_memheap_aligned_alloc(&heap, al, m) : os_memheap_alloc(&heap, m);
            if (p[k] != OS_NULL)
            {
                CHECK(range_inside(p[k], m, base, SIZE));
                CHECK(is_aligned(p[k], al != 0 ? al : OS_MEM_ALIGN_SIZE));
                n[k] = m;
                pat_fill(p[k], k, 0, m);
            }
        }
        if (i % 500 == 0)
        {
            CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        }
    }
    for (i = 0; i < SLOTS; i++)
    {
        os_memheap_free(&heap, p[i]);
    }
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    CHECK_EQ(heap_info(&heap).mem_used, 0);
    CHECK_EQ(heap_largest_alloc(&heap), fresh);
    CHECK_REPORTS(0);
    heap_close(&heap);
}

#ifdef HUGE_ALIGN_TEST
/*
 * A 128 KiB region whose middle is a multiple of 4 GiB (address space
 * reserved, only the region mapped): aligned_alloc(4 GiB) gets exactly that
 * address where the algorithm can place it (first-fit), else OS_NULL (a
 * buddy block of 64 KiB at most), and realloc keeps the alignment.
 */
static void huge_align(enum os_mem_alg alg)
{
    const size_t four_g = (size_t)1 << 32, half = 64 * KiB;
    size_t span = 2 * four_g;
    unsigned char *res = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    unsigned char *mid, *p, *q;
    os_memheap_t heap;

    check_context("4 GiB alignment, %s", test_alg_name(alg));
    if (res == MAP_FAILED)
    {
        printf("test_odd_region: no 8 GiB of address space, 4 GiB alignment not tested\n");
        return;
    }
    mid = res + ((four_g - (uintptr_t)res % four_g) % four_g);
    if (mid - res < (ptrdiff_t)half)
    {
        mid += four_g;
    }
    CHECK(mprotect(mid - half, 2 * half, PROT_READ | PROT_WRITE) == 0);
    heap_open(&heap, "4g");
    heap_add_ok(&heap, mid - half, 2 * half, alg);
    p = os_memheap_aligned_alloc(&heap, four_g, 100);
    if (test_alg_info(alg)->aligned_anywhere)
    {
        CHECK_PTR_EQ(p, mid);
    }
    else
    {
        CHECK_PTR_EQ(p, NULL);
    }
    if (p != NULL)
    {
        memset(p, 0x5A, 100);
        q = os_memheap_realloc(&heap, p, 5000);
        CHECK_PTR_EQ(q, mid);
        CHECK(q != NULL && q[0] == 0x5A && q[99] == 0x5A);
        q = os_memheap_realloc(&heap, q, 40);
        CHECK_PTR_EQ(q, mid);
        os_memheap_free(&heap, q);
    }
    CHECK_PTR_EQ(os_memheap_aligned_alloc(&heap, four_g << 20, 100), NULL);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    CHECK_EQ(heap_info(&heap).mem_used, 0);
    CHECK_REPORTS(0);
    heap_close(&heap);
    CHECK(munmap(res, span) == 0);
}
#endif

int main(void)
{
    unsigned i;

    hook_install();
    for (i = 0; i < test_nalgs; i++)
    {
        run(test_algs[i].alg);
#ifdef HUGE_ALIGN_TEST
        huge_align(test_algs[i].alg);
#endif
    }
    hook_uninstall();
    return check_summary("test_odd_region");
}
