/*
 * test_walk.c - os_memheap_walk on every layout: every live block appears
 * exactly once, as used, with at least its requested size; blocks come in
 * address order inside their region; the blocks of a region add up to its
 * share of mem_total and the used ones to mem_used; a callback can stop the
 * walk; bad arguments are refused. And the blocks of a fresh region reach
 * to within a few bytes of its end, whatever its size and start.
 */
#include <string.h>

#include "check.h"
#include "common.h"

#define KiB     1024u
#define NBLOCKS 64

static _Alignas(64) unsigned char region_a[96 * KiB];     /* (room for 64 blocks at 64-byte alignment) */
static _Alignas(64) unsigned char region_b[48 * KiB];
static _Alignas(64) unsigned char region_big[8192 * KiB + 64];

struct seen
{
    void       *ptr[NBLOCKS];
    size_t      req[NBLOCKS];
    int         hits[NBLOCKS];
    size_t      used_total, all_total, count;
    const void *last_region;
    const char *last_end;
    int         out_of_order, stop_after;
};

static int visit(const struct os_memheap_block *b, void *arg)
{
    struct seen *s = arg;
    size_t i;

    s->count++;
    s->all_total += b->total;
    if (b->region_start != s->last_region)
    {
        s->last_region = b->region_start;
        s->last_end = OS_NULL;
    }
    if (s->last_end != OS_NULL && (const char *)b->addr < s->last_end)
    {
        s->out_of_order++;
    }
    s->last_end = (const char *)b->addr + b->size;
    if (!range_inside(b->addr, b->size, b->region_start,
                      (size_t)((const char *)b->region_end - (const char *)b->region_start)))
    {
        s->out_of_order++;
    }
    if (b->used)
    {
        s->used_total += b->total;
        for (i = 0; i < NBLOCKS; i++)
        {
            if (s->ptr[i] == b->addr)
            {
                s->hits[i]++;
                CHECKF(b->size >= s->req[i], "block %zu: usable %zu < requested %zu", i, (size_t)b->size, s->req[i]);
            }
        }
#ifdef OS_USING_MEM_TRACE
        CHECK(b->owner != OS_NULL);
#else
        CHECK(b->owner == OS_NULL);
#endif
    }
    return s->stop_after != 0 && s->count >= (size_t)s->stop_after;
}

static void walk_layout(const struct test_layout *l)
{
    os_memheap_t heap;
    struct seen s;
    test_rng_t r;
    os_meminfo_t info;
    size_t i;

    check_context("walk %s", l->name);
    memset(&s, 0, sizeof(s));
    heap_open(&heap, "walk");
    heap_add_ok(&heap, region_a, sizeof(region_a), test_layout_alg(l, 0));
    heap_add_ok(&heap, region_b, sizeof(region_b), test_layout_alg(l, 1));
    rng_seed(&r, 42);
    for (i = 0; i < NBLOCKS; i++)
    {
        s.req[i] = rng_range(&r, 1, 1500);
        s.ptr[i] = os_memheap_alloc(&heap, s.req[i]);
        CHECK(s.ptr[i] != OS_NULL);
    }
    for (i = 0; i < NBLOCKS; i += 3)
    {
        os_memheap_free(&heap, s.ptr[i]);
        s.ptr[i] = OS_NULL;
    }
    CHECK_EQ(os_memheap_walk(&heap, visit, &s), OS_EOK);
    info = heap_info(&heap);
    for (i = 0; i < NBLOCKS; i++)
    {
        CHECKF(s.hits[i] == (s.ptr[i] != OS_NULL), "block %zu seen %d times", i, s.hits[i]);
    }
    CHECK_EQ(s.out_of_order, 0);
    CHECK_EQ(s.used_total, info.mem_used);
    CHECK_EQ(s.all_total, info.mem_total);

    /* a callback stops the walk */
    {
        struct seen t;

        memset(&t, 0, sizeof(t));
        t.stop_after = 3;
        CHECK_EQ(os_memheap_walk(&heap, visit, &t), OS_EOK);
        CHECK_EQ(t.count, 3);
    }
    CHECK_REPORTS(0);

    /* bad arguments */
    CHECK_EQ(os_memheap_walk(&heap, OS_NULL, OS_NULL), OS_EINVAL);
    CHECK_REPORTS(1);
    CHECK_EQ(os_memheap_walk(OS_NULL, visit, &s), OS_EINVAL);
    CHECK_REPORTS(1);

    for (i = 0; i < NBLOCKS; i++)
    {
        os_memheap_free(&heap, s.ptr[i]);
    }
    CHECK_EQ(heap_info(&heap).mem_used, 0);
    heap_close(&heap);
}

/*
 * What a fresh region may leave after its last block: less than two buddy
 * units (a unit is 2 * alignment, at least 32 on 64-bit targets and 16 on
 * 32-bit ones; buddy.c's bd_layout says when the second one is lost).
 */
#define END_SLACK   (2 * OS_MEM_ALIGN_SIZE > 32 ? 4 * OS_MEM_ALIGN_SIZE : 64)

static int last_end(const struct os_memheap_block *b, void *arg)
{
    const char **end = arg;

    if ((const char *)b->addr + b->size > *end)
    {
        *end = (const char *)b->addr + b->size;
    }
    return 0;
}

/*
 * A fresh region's blocks cover it up to its last few bytes (alignment of
 * the end, an end marker): the control data is sized for what follows it,
 * and nothing past it is left out, at any size and start.
 */
static void fresh_region_covered(const struct test_alg *a)
{
    /*
     * FF_PIECE: the largest region first-fit manages in one piece with
     * 16-bit header words (2^15 - 1 chunks); a larger one is cut into
     * pieces, and a last piece too short for a region (under 1 KiB) is
     * left out.
     */
    enum { FF_PIECE = 32767 * OS_MEM_ALIGN_SIZE };
    static const size_t sizes[] = { 316, 1000, 4109, 65535, 102405, 524288, 1048576 + 16896, 3000017, 8192 * KiB,
                                    FF_PIECE + 24, FF_PIECE + 200, 2 * FF_PIECE + 72, 2 * FF_PIECE + 600 };
    unsigned s, off;

    for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    {
        for (off = 0; off < 64; off += 7)
        {
            unsigned char *start = region_big + off;
            size_t size = sizes[s] + off <= sizeof region_big ? sizes[s] : sizeof region_big - off;
            const char *end = OS_NULL;
            os_memheap_t heap;
            ptrdiff_t slack = END_SLACK;

#if TEST_FF_WORD == 2
            if (strcmp(a->name, "firstfit") == 0 && size % FF_PIECE < 1024 && size > FF_PIECE)
            {
                slack = 1024;
            }
#endif

            check_context("%s: fresh region of %zu bytes at offset %u", a->name, size, off);
            heap_open(&heap, "fresh");
            if (os_memheap_add(&heap, start, size, a->alg) == OS_EOK)     /* (the smallest may be too small) */
            {
                CHECK_EQ(os_memheap_walk(&heap, last_end, &end), OS_EOK);
                CHECKF(end != OS_NULL && (const char *)start + size - end < slack, "%td bytes after the last block",
                       end != OS_NULL ? (const char *)start + size - end : (ptrdiff_t)-1);
            }
            else
            {
                CHECK(size < 1024);
                hook_reset();
            }
            heap_close(&heap);
        }
    }
}

int main(void)
{
    unsigned i;

    hook_install();
    for (i = 0; i < test_layout_count(); i++)
    {
        walk_layout(test_layout_get(i));
    }
    for (i = 0; i < test_nalgs; i++)
    {
        fresh_region_covered(&test_algs[i]);
    }
    hook_uninstall();
    return check_summary("test_walk");
}
