/*
 * test_odd_region.c - a 700 KiB region that starts at an address = 24
 * (mod 64), on every algorithm: random alloc, aligned alloc, realloc and
 * free with contents, alignment and bounds checked and `check` after every
 * batch; everything freed gives back the largest block of the fresh heap.
 */
#include <string.h>

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

int main(void)
{
    unsigned i;

    hook_install();
    for (i = 0; i < test_nalgs; i++)
    {
        run(test_algs[i].alg);
    }
    hook_uninstall();
    return check_summary("test_odd_region");
}
