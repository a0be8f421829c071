/*
 * test_model.c - randomized model-based test.
 *
 * For every layout (one algorithm per layout, plus mixed layouts) and
 * several seeds: a heap of 1-3 regions of varied sizes at odd base offsets
 * takes a random mix of alloc / aligned alloc / realloc / free (and calloc on
 * the system heap). A shadow table remembers every live block; each block is
 * filled with a pattern derived from (id, offset) and verified before it is
 * resized or freed and periodically. Alignment, non-overlap, region bounds,
 * usable size and the statistics are checked as the run goes; no error
 * report may appear. When everything is freed, mem_used is 0 again, the
 * largest allocatable block equals the one of the fresh heap, and where
 * every free merges at once (first-fit; buddy without quick lists) the
 * blocks are exactly those of the fresh heap.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KiB ((size_t)1024)

#define MAX_REGIONS 3
#define SLOT_SPAN   (256 * KiB)                 /* arena space per region */
#define ARENA_SIZE  (MAX_REGIONS * SLOT_SPAN)
static _Alignas(64) unsigned char arena[ARENA_SIZE];

#define MAX_LIVE      320
#ifndef OPS_PER_RUN
#define OPS_PER_RUN   40000     /* the emulated Cortex-M firmware (tests/qemu) runs fewer */
#endif
#define SEEDS         12
#define STATS_EVERY   97
#define VERIFY_EVERY  1499

/* ---- the heap under test, user or system ------------------------------------------------------- */

struct subject
{
    os_memheap_t *heap;     /* OS_NULL: the system heap through os_malloc & co. */
    int           has_calloc;
};

static void *s_calloc(const struct subject *s, size_t c, size_t n)
{
#ifdef OS_USING_SYS_HEAP
    if (!s->heap)
        return os_calloc(c, n);
#endif
    (void)s;
    (void)c;
    (void)n;
    return OS_NULL;
}

static os_meminfo_t s_info(const struct subject *s)
{
#ifdef OS_USING_SYS_HEAP
    if (!s->heap)
    {
        os_meminfo_t i;
        os_memory_info(&i);
        return i;
    }
#endif
    return heap_info(s->heap);
}

static os_err_t s_check(const struct subject *s)
{
#ifdef OS_USING_SYS_HEAP
    if (!s->heap)
        return os_memory_check();
#endif
    return os_memheap_check(s->heap);
}

#ifdef OS_USING_SYS_HEAP
static size_t s_largest(const struct subject *s)
{
    if (!s->heap)
        return heap_largest_alloc(os_sys_heap());
    return heap_largest_alloc(s->heap);
}
#endif

/* ---- the model -------------------------------------------------------------------------------------- */

struct slot
{
    unsigned char *p;       /* OS_NULL: slot unused */
    size_t         size;
    size_t         align;   /* alignment the block must keep */
    uint32_t       id;
};

struct region
{
    unsigned char *base;
    size_t         size;
};

struct model
{
    const struct subject *subj;
    struct region         reg[MAX_REGIONS];
    unsigned              nreg;
    struct slot           live[MAX_LIVE];
    unsigned              nlive;
    uint32_t              next_id;
    size_t                last_maxused;
    size_t                total;
    test_rng_t            rng;
    unsigned long         op;
};

/* What the runs exercised, printed per layout. */
static struct
{
    unsigned long allocs, alloc_fails, reallocs, realloc_moves, realloc_fails;
} stats;

static int in_some_region(const struct model *m, const void *p, size_t n)
{
    for (unsigned i = 0; i < m->nreg; i++)
        if (range_inside(p, n, m->reg[i].base, m->reg[i].size))
            return 1;
    return 0;
}

static size_t sum_live(const struct model *m)
{
    size_t s = 0;
    for (unsigned i = 0; i < m->nlive; i++)
        s += m->live[i].size;
    return s;
}

/* Checks on a block just returned by the heap. */
static void check_new_block(struct model *m, const struct slot *sl, int skip_index)
{
    size_t al = sl->align > OS_MEM_ALIGN_SIZE ? sl->align : OS_MEM_ALIGN_SIZE;
    CHECKF(is_aligned(sl->p, al), "op %lu: %p not aligned to %zu", m->op, (void *)sl->p, al);
    CHECKF(in_some_region(m, sl->p, sl->size), "op %lu: block %p+%zu outside the regions", m->op,
           (void *)sl->p, sl->size);
    size_t u = any_usable(m->subj->heap, sl->p);
    CHECKF(u >= sl->size, "op %lu: usable %zu < requested %zu", m->op, u, sl->size);
    for (unsigned i = 0; i < m->nlive; i++)
    {
        if ((int)i == skip_index)
            continue;
        const struct slot *o = &m->live[i];
        if (ranges_overlap(o->p, o->size ? o->size : 1, sl->p, sl->size ? sl->size : 1))
        {
            CHECKF(0, "op %lu: new block %p+%zu overlaps live block %p+%zu", m->op,
                   (void *)sl->p, sl->size, (void *)o->p, o->size);
            break;
        }
    }
}

static void verify_block(struct model *m, const struct slot *sl, const char *when)
{
    size_t bad = pat_find_bad(sl->p, sl->id, 0, sl->size);
    CHECKF(bad == (size_t)-1, "op %lu (%s): block %p id %u size %zu corrupt at offset %zu",
           m->op, when, (void *)sl->p, sl->id, sl->size, bad);
}

static int cmp_slot(const void *a, const void *b)
{
    const struct slot *x = a, *y = b;
    return (uintptr_t)x->p < (uintptr_t)y->p ? -1 : (uintptr_t)x->p > (uintptr_t)y->p;
}

static void verify_all(struct model *m)
{
    static struct slot sorted[MAX_LIVE];
    memcpy(sorted, m->live, m->nlive * sizeof sorted[0]);
    qsort(sorted, m->nlive, sizeof sorted[0], cmp_slot);
    for (unsigned i = 0; i < m->nlive; i++)
    {
        verify_block(m, &sorted[i], "periodic");
        if (i + 1 < m->nlive)
            CHECKF((uintptr_t)sorted[i].p + sorted[i].size <= (uintptr_t)sorted[i + 1].p,
                   "op %lu: blocks %p+%zu and %p overlap", m->op, (void *)sorted[i].p,
                   sorted[i].size, (void *)sorted[i + 1].p);
    }
}

static void check_stats(struct model *m)
{
    CHECKF(s_check(m->subj) == OS_EOK, "op %lu: check failed", m->op);
    os_meminfo_t i = s_info(m->subj);
    size_t live = sum_live(m);
    CHECKF(i.mem_used >= live, "op %lu: mem_used %zu < live bytes %zu", m->op, (size_t)i.mem_used,
           live);
    CHECKF(i.mem_used <= i.mem_total, "op %lu: mem_used %zu > mem_total %zu", m->op,
           (size_t)i.mem_used, (size_t)i.mem_total);
    CHECKF(i.mem_maxused >= i.mem_used, "op %lu: maxused %zu < used %zu", m->op,
           (size_t)i.mem_maxused, (size_t)i.mem_used);
    CHECKF(i.mem_maxused >= m->last_maxused, "op %lu: maxused went down from %zu to %zu", m->op,
           m->last_maxused, (size_t)i.mem_maxused);
    CHECKF(i.mem_total == m->total, "op %lu: mem_total changed from %zu to %zu", m->op, m->total,
           (size_t)i.mem_total);
    m->last_maxused = i.mem_maxused;
    if (m->nlive == 0)
        CHECKF(i.mem_used == 0, "op %lu: nothing live but mem_used %zu", m->op, (size_t)i.mem_used);
    CHECKF(hook_count() == 0, "op %lu: unexpected error report: %s", m->op, hook_last_msg());
    hook_reset();
}

static size_t random_size(test_rng_t *r)
{
    uint32_t c = rng_below(r, 100);
    if (c < 55)
        return rng_range(r, 1, 64);
    if (c < 85)
        return rng_range(r, 65, 1024);
    if (c < 97)
        return rng_range(r, 1025, 8192);
    return rng_range(r, 8193, 40000);
}

static size_t random_align(test_rng_t *r)
{
    static const size_t aligns[] = {0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};
    return aligns[rng_below(r, (uint32_t)(sizeof aligns / sizeof aligns[0]))];
}

static void remove_slot(struct model *m, unsigned i)
{
    m->live[i] = m->live[--m->nlive];
}

static void op_alloc(struct model *m, int kind)
{
    if (m->nlive >= MAX_LIVE)
        return;
    struct slot sl;
    memset(&sl, 0, sizeof sl);
    sl.size = random_size(&m->rng);
    sl.id = ++m->next_id;
    int zeroed = 0;
    switch (kind)
    {
    case 0:
        sl.p = any_alloc(m->subj->heap, sl.size);
        break;
    case 1:
        sl.align = random_align(&m->rng);
        sl.p = any_aligned(m->subj->heap, sl.align, sl.size);
        break;
    case 2:
        sl.p = any_realloc(m->subj->heap, OS_NULL, sl.size);
        break;
    default: {
        size_t count = rng_range(&m->rng, 1, 8);
        size_t each = (sl.size + count - 1) / count;
        sl.size = count * each;
        sl.p = s_calloc(m->subj, count, each);
        zeroed = 1;
        break;
    }
    }
    stats.allocs++;
    if (!sl.p)
    {
        stats.alloc_fails++;
        return;     /* out of memory is allowed */
    }
    check_new_block(m, &sl, -1);
    if (zeroed)
    {
        size_t nz = 0;
        for (size_t k = 0; k < sl.size; k++)
            nz += sl.p[k] != 0;
        CHECKF(nz == 0, "op %lu: calloc block %p has %zu nonzero bytes", m->op, (void *)sl.p, nz);
    }
    pat_fill(sl.p, sl.id, 0, sl.size);
    m->live[m->nlive++] = sl;
}

static void op_free(struct model *m)
{
    if (!m->nlive)
        return;
    unsigned i = rng_below(&m->rng, m->nlive);
    verify_block(m, &m->live[i], "before free");
    any_free(m->subj->heap, m->live[i].p);
    remove_slot(m, i);
}

static void op_realloc(struct model *m)
{
    if (!m->nlive)
        return;
    unsigned i = rng_below(&m->rng, m->nlive);
    struct slot *sl = &m->live[i];
    verify_block(m, sl, "before realloc");
    size_t n;
    uint32_t c = rng_below(&m->rng, 100);
    if (c < 4)
        n = 0;
    else if (c < 40)
        n = sl->size > 1 ? rng_range(&m->rng, 1, sl->size) : 1;    /* shrink */
    else if (c < 70)
        n = sl->size + rng_range(&m->rng, 1, 64);                     /* grow a little */
    else
        n = random_size(&m->rng);
    unsigned char *old = sl->p;
    unsigned char *p = any_realloc(m->subj->heap, old, n);
    stats.reallocs++;
    if (n == 0)
    {
        CHECKF(p == OS_NULL, "op %lu: realloc(p, 0) returned %p", m->op, (void *)p);
        remove_slot(m, i);
        return;
    }
    if (!p)
    {
        stats.realloc_fails++;
        /* failed: the old block is untouched and still ours */
        verify_block(m, sl, "after failed realloc");
        CHECKF(n > sl->size, "op %lu: shrinking realloc %zu -> %zu failed", m->op, sl->size, n);
        return;
    }
    stats.realloc_moves += p != old;
    if (n <= sl->size)
        CHECKF(p == old, "op %lu: shrinking realloc %zu -> %zu moved", m->op, sl->size, n);
    size_t keep = n < sl->size ? n : sl->size;
    struct slot ns = *sl;
    ns.p = p;
    ns.size = n;
    check_new_block(m, &ns, (int)i);
    size_t bad = pat_find_bad(p, sl->id, 0, keep);
    CHECKF(bad == (size_t)-1, "op %lu: realloc %p+%zu -> %p+%zu lost data at offset %zu", m->op,
           (void *)old, sl->size, (void *)p, n, bad);
    pat_fill(p, sl->id, keep, n);
    *sl = ns;
}

static void run_ops(struct model *m, unsigned long nops)
{
    for (unsigned long k = 0; k < nops; k++)
    {
        m->op++;
        uint32_t c = rng_below(&m->rng, 100);
        if (m->nlive >= MAX_LIVE - 1)
            c = 99;
        if (c < 30)
            op_alloc(m, 0);
        else if (c < 40)
            op_alloc(m, 1);
        else if (c < 42)
            op_alloc(m, 2);
        else if (c < 47)
            op_alloc(m, m->subj->has_calloc ? 3 : 0);
        else if (c < 49)
        {
            /* zero-byte requests: OS_NULL, nothing allocated */
            size_t before = s_info(m->subj).mem_used;
            CHECK(any_alloc(m->subj->heap, 0) == OS_NULL);
            CHECK(any_aligned(m->subj->heap, 64, 0) == OS_NULL);
            CHECK(any_realloc(m->subj->heap, OS_NULL, 0) == OS_NULL);
            CHECK_EQ(s_info(m->subj).mem_used, before);
        }
        else if (c < 66)
            op_realloc(m);
        else
            op_free(m);

        if (hook_count())
        {
            CHECKF(0, "op %lu: unexpected error report: %s", m->op, hook_last_msg());
            hook_reset();
        }
        if (m->op % STATS_EVERY == 0)
            check_stats(m);
        if (m->op % VERIFY_EVERY == 0)
            verify_all(m);
        /* now and then drain most of the heap so that merging gets exercised */
        if (m->op % 5003 == 0)
            while (m->nlive > 4)
                op_free(m);
    }
}

static void free_everything(struct model *m)
{
    verify_all(m);
    while (m->nlive)
        op_free(m);
    check_stats(m);
    CHECK_EQ(s_info(m->subj).mem_used, 0);
}

/* ---- runs ------------------------------------------------------------------------------------------ */

static unsigned plan_regions(test_rng_t *r, struct region *reg, unsigned char *area, size_t span)
{
    unsigned n = 1 + rng_below(r, MAX_REGIONS);
    for (unsigned i = 0; i < n; i++)
    {
        size_t off = rng_range(r, 0, 63);   /* odd base offsets too */
        size_t size;
        switch (rng_below(r, 3))
        {
        case 0:
            size = rng_range(r, 3000, 12000);
            break;
        case 1:
            size = rng_range(r, 16 * KiB, 64 * KiB);
            break;
        default:
            size = rng_range(r, 64 * KiB, span - 64);
            break;
        }
        reg[i].base = area + i * span + off;
        reg[i].size = size;
    }
    return n;
}

/*
 * The model lives in static storage rather than on malloc: in the Cortex-M
 * firmware (tests/qemu) malloc is the system heap itself, and sys_run()
 * needs that heap to hold nothing but the blocks it models.
 */
static struct model the_model;

static struct model *model_new(void)
{
    memset(&the_model, 0, sizeof the_model);
    return &the_model;
}

static void user_run(const struct test_layout *l, uint64_t seed)
{
    static os_memheap_t heap;
    struct model *m = model_new();
    struct subject subj = {&heap, 0};
    m->subj = &subj;
    rng_seed(&m->rng, seed * 7919 + 17);
    m->nreg = plan_regions(&m->rng, m->reg, arena, SLOT_SPAN);

    check_context("%s seed=%llu regions=%u", l->name, (unsigned long long)seed, m->nreg);

    /* the largest allocatable block of the fresh heap, measured on a twin */
    heap_open(&heap, "model");
    for (unsigned i = 0; i < m->nreg; i++)
        heap_add_ok(&heap, m->reg[i].base, m->reg[i].size, test_layout_alg(l, i));
    size_t fresh_largest = heap_largest_alloc(&heap);
    heap_close(&heap);

    heap_open(&heap, "model");
    for (unsigned i = 0; i < m->nreg; i++)
        heap_add_ok(&heap, m->reg[i].base, m->reg[i].size, test_layout_alg(l, i));
    os_meminfo_t info = heap_info(&heap);
    CHECK_EQ(info.mem_used, 0);
    CHECK_EQ(info.mem_maxused, 0);
    m->total = info.mem_total;
    int lazy;
    uint64_t fresh_layout = heap_layout_digest(&heap, &lazy);
    hook_reset();

    run_ops(m, OPS_PER_RUN);
    free_everything(m);

    /* merged at once: emptied, every region is exactly as new */
    if (!lazy)
        CHECK(heap_layout_digest(&heap, &lazy) == fresh_layout);

    size_t largest = heap_largest_alloc(&heap);
    CHECKF(largest == fresh_largest, "largest block after the run %zu, fresh heap %zu", largest,
           fresh_largest);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    CHECK_REPORTS(0);
    heap_close(&heap);
}

#ifdef OS_USING_SYS_HEAP
static _Alignas(64) unsigned char sys_arena[MAX_REGIONS * SLOT_SPAN];

static void sys_run(void)
{
    const struct test_layout *l = test_layout_mixed();
    struct model *m = model_new();
    struct subject subj = {OS_NULL, 1};
    m->subj = &subj;
    rng_seed(&m->rng, 4242);
    /* fixed plan: a small, a medium and a large region */
    m->nreg = 3;
    m->reg[0].base = sys_arena + 5;
    m->reg[0].size = 9000;
    m->reg[1].base = sys_arena + SLOT_SPAN + 3;
    m->reg[1].size = 40 * KiB + 13;
    m->reg[2].base = sys_arena + 2 * SLOT_SPAN + 1;
    m->reg[2].size = SLOT_SPAN - 7;
    check_context("sys heap %s", l->name);

    os_sys_heap_init();
    for (unsigned i = 0; i < m->nreg; i++)
        CHECK_EQ(os_sys_heap_add(m->reg[i].base, m->reg[i].size, test_layout_alg(l, i)), OS_EOK);
    os_meminfo_t info;
    os_memory_info(&info);
    m->total = info.mem_total;
    CHECK_EQ(info.mem_used, 0);
    size_t fresh_largest = s_largest(&subj);
    os_memory_info(&info);
    m->last_maxused = info.mem_maxused;
    hook_reset();

    for (int round = 0; round < 3; round++)
    {
        run_ops(m, OPS_PER_RUN);
        free_everything(m);
        size_t largest = s_largest(&subj);
        CHECKF(largest == fresh_largest, "round %d: largest block %zu, fresh heap %zu", round,
               largest, fresh_largest);
        os_memory_info(&info);
        m->last_maxused = info.mem_maxused;
    }
    CHECK_EQ(os_memory_check(), OS_EOK);
    CHECK_REPORTS(0);
}
#endif

int main(int argc, char **argv)
{
    unsigned seeds = SEEDS;
    if (argc > 1)
        seeds = (unsigned)strtoul(argv[1], OS_NULL, 10);
    hook_install();
    for (unsigned i = 0; i < test_layout_count(); i++)
    {
        const struct test_layout *l = test_layout_get(i);
        unsigned long before = atomic_load(&check_failures);
        memset(&stats, 0, sizeof stats);
        for (unsigned s = 1; s <= seeds; s++)
            user_run(l, s + 100 * i);
        printf("layout %s: %u seeds x %d ops: %lu allocs (%lu failed), %lu reallocs (%lu moved, "
               "%lu failed): %s\n",
               l->name, seeds, OPS_PER_RUN, stats.allocs, stats.alloc_fails, stats.reallocs,
               stats.realloc_moves, stats.realloc_fails,
               atomic_load(&check_failures) == before ? "ok" : "FAILED");
    }
#ifdef OS_USING_SYS_HEAP
    memset(&stats, 0, sizeof stats);
    sys_run();
    printf("sys heap: %lu allocs (%lu failed), %lu reallocs (%lu moved, %lu failed)\n",
           stats.allocs, stats.alloc_fails, stats.reallocs, stats.realloc_moves,
           stats.realloc_fails);
#endif
    hook_uninstall();
    return check_summary("test_model");
}
