/*
 * test_spec.c - one group of checks per row of the "exact behaviour" table
 * of the specification, run on every algorithm compiled in (and on mixed
 * layouts where a heap has several regions).
 */
#include "common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The OneOS layout of a heap object: h_mem, object_inited, name, resource_node, in that order and packed as C lays them out. */
_Static_assert(offsetof(os_memheap_t, h_mem) == 0, "h_mem first");
_Static_assert(offsetof(os_memheap_t, name) == offsetof(os_memheap_t, object_inited) + 1, "name right after object_inited");
_Static_assert(offsetof(os_memheap_t, resource_node) >= offsetof(os_memheap_t, name) + OS_NAME_MAX + 1 &&
               offsetof(os_memheap_t, resource_node) < offsetof(os_memheap_t, name) + OS_NAME_MAX + 1 + sizeof(void *),
               "resource_node right after name");

#define KiB ((size_t)1024)

/* All user-heap regions of this test live in this arena. */
#define ARENA_SIZE (1024 * KiB)
static _Alignas(4096) unsigned char arena[ARENA_SIZE];

/* Areas of the arena (offsets). */
#define RA_OFF   (128 * KiB)    /* heap A's region, room on both sides */
#define RA_SIZE  (32 * KiB)
#define RB_OFF   (256 * KiB)    /* a region for another heap */
#define RB_SIZE  (32 * KiB)
#define SCAN_OFF (320 * KiB)    /* small regions */
#define WORK_OFF (512 * KiB)    /* general-purpose regions, up to 512 KiB */

#if TEST_BAD_OPS
/* Never part of any heap: the source of foreign pointers. */
static _Alignas(64) unsigned char foreign_buf[512];
#endif

#ifdef OS_USING_SYS_HEAP
#define SYS_BUF_SIZE (160 * KiB)
#define SR_OFF       (16 * KiB)
#define SR_SIZE      (128 * KiB)
static _Alignas(4096) unsigned char sys_buf[SYS_BUF_SIZE];
#endif

static os_memheap_t heap_a, heap_b;
#if TEST_BAD_OPS
static os_memheap_t heap_c, heap_d;
#endif

#define RA (arena + RA_OFF)
#define RB (arena + RB_OFF)
#define WORK (arena + WORK_OFF)

/* Allocate, write, free: the heap still serves requests. */
static void heap_still_works(os_memheap_t *h, const void *base, size_t size)
{
    unsigned long before = hook_count();
    unsigned char *p = os_memheap_alloc(h, 100);
    CHECK(p != OS_NULL);
    if (p)
    {
        if (base)
            CHECK(range_inside(p, 100, base, size));
        memset(p, 0x5A, 100);
        os_memheap_free(h, p);
    }
    CHECK_EQ(os_memheap_check(h), OS_EOK);
    CHECK_EQ(hook_count(), before);
}

#if TEST_BAD_OPS /* refusals are reported, which asserts in OS_MEM_ERROR_ASSERT builds */

/* ---- os_memheap_init ------------------------------------------------------------------------ */

/*
 * Heap objects in the list of heaps overwritten without deinit (a middle
 * one wiped, one with only its list links overwritten): the next init or
 * add reports each once and takes it out; every other heap keeps working.
 * A region that holds a heap object is refused.
 */
static void spec_wiped_heap_objects(void)
{
    static os_memheap_t h1, h2, h3, h4;

    check_context("a heap object wiped in the middle of the list of heaps");
    heap_open(&h1, "h1");
    heap_open(&h2, "h2");
    heap_add_ok(&h2, WORK, 8 * KiB, test_algs[0].alg);
    heap_open(&h4, "h4");
    memset(&h1, 0, sizeof h1);
    CHECK_EQ(os_memheap_init(&h3, "h3"), OS_EOK);
    CHECK_REPORTS(1);
    heap_add_ok(&h3, WORK + 8 * KiB, 8 * KiB, test_algs[0].alg);
    heap_still_works(&h2, WORK, 8 * KiB);
    heap_still_works(&h3, WORK + 8 * KiB, 8 * KiB);
    /* the region of a heap still in the list is still seen by the overlap rule */
    CHECK_EQ(os_memheap_add(&h4, WORK + 4 * KiB, 4 * KiB, test_algs[0].alg), OS_EINVAL);
    CHECK_REPORTS(1);

    check_context("a heap object whose list links were overwritten");
    h2.resource_node.next = OS_NULL;
    CHECK_EQ(os_memheap_add(&h4, WORK + 16 * KiB, 8 * KiB, test_algs[0].alg), OS_EOK);
    CHECK_EQ(hook_count(), 1);
    hook_reset();
    heap_still_works(&h3, WORK + 8 * KiB, 8 * KiB);
    heap_still_works(&h4, WORK + 16 * KiB, 8 * KiB);
    CHECK_EQ(os_memheap_deinit(&h2), OS_EOK);     /* relinked past its overwritten link: still a heap */
    CHECK_REPORTS(0);
    heap_close(&h3);
    heap_close(&h4);
    CHECK_EQ(os_memheap_init(&h1, "h1 again"), OS_EOK);
    CHECK_REPORTS(0);
    heap_close(&h1);

    check_context("a region that holds a heap object");
    os_memheap_t *inside = (os_memheap_t *)(void *)(WORK + 64);
    memset(inside, 0, sizeof *inside);
    CHECK_EQ(os_memheap_init(inside, "inside"), OS_EOK);
    CHECK_EQ(os_memheap_add(inside, WORK, 8 * KiB, test_algs[0].alg), OS_EINVAL);
    CHECK_REPORTS(1);
    heap_open(&h1, "h1");
    CHECK_EQ(os_memheap_add(&h1, WORK, 8 * KiB, test_algs[0].alg), OS_EINVAL);
    CHECK_REPORTS(1);
    unsigned char *past = WORK + ((64 + sizeof *inside + 63) & ~(size_t)63);
    heap_add_ok(&h1, past, 8 * KiB, test_algs[0].alg);         /* past the object: fine */
    heap_still_works(&h1, past, 8 * KiB);
    heap_close(&h1);
    CHECK_EQ(os_memheap_deinit(inside), OS_EOK);
    CHECK_REPORTS(0);
}

static void spec_init(void)
{
    check_context("init");
    os_memheap_t h;
    heap_open(&h, "twice");
    hook_reset();
    CHECK_EQ(os_memheap_init(&h, "twice"), OS_EINVAL);
    CHECK_REPORTS(1);
    /* wiped without deinit: the next call that walks the list of heaps
     * reports it and takes it out, so no walk follows its zeroed links;
     * then it can be initialised again */
    memset(&h, 0, sizeof h);
    CHECK_EQ(os_memheap_init(&h, "twice"), OS_EOK);
    CHECK_REPORTS(1);
    heap_add_ok(&h, WORK, 8 * KiB, test_algs[0].alg);
    heap_still_works(&h, WORK, 8 * KiB);
    heap_close(&h);

    CHECK_EQ(os_memheap_init(OS_NULL, "null"), OS_EINVAL);
    os_memheap_t z;
    memset(&z, 0, sizeof z);
    CHECK_EQ(os_memheap_init(&z, OS_NULL), OS_EINVAL);
    CHECK_REPORTS(2);

    /* the refused init left the object usable */
    heap_open(&z, "z");
    heap_close(&z);

    /* long names are truncated to OS_NAME_MAX characters */
    char longname[OS_NAME_MAX + 40];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    heap_open(&h, longname);
    CHECK(strlen(h.name) <= OS_NAME_MAX);
    CHECK(strncmp(h.name, longname, strlen(h.name)) == 0);
    /* a report names the heap, however long its name (the message is cut to fit) */
    int foreign = 0;
    os_memheap_free(&h, &foreign);
    char quoted[OS_NAME_MAX + 3];
    snprintf(quoted, sizeof quoted, "'%s'", h.name);
    /* a part of a long name (a long one may be cut), all of a short one */
    CHECKF(strstr(hook_last_msg(), OS_NAME_MAX >= 4 ? "nnnn" : quoted) != NULL, "report: %s", hook_last_msg());
    CHECK_REPORTS(1);
    heap_close(&h);
}

/* ---- overlap ---------------------------------------------------------------------------------- */

enum target
{
    T_HEAP_A,   /* a user heap that owns RA */
    T_HEAP_B,   /* a user heap with no region */
    T_SYS,      /* the system heap */
    T_COUNT
};

static const char *const target_names[T_COUNT] = {"heap A", "heap B", "sys heap"};

static os_err_t add_to(int target, void *start, size_t size, enum os_mem_alg alg)
{
    switch (target)
    {
    case T_HEAP_A:
        return os_memheap_add(&heap_a, start, size, alg);
    case T_HEAP_B:
        return os_memheap_add(&heap_b, start, size, alg);
#ifdef OS_USING_SYS_HEAP
    case T_SYS:
        return os_sys_heap_add(start, size, alg);
#endif
    default:
        return OS_ERROR;
    }
}

struct snapshot
{
    os_meminfo_t a, b;
#ifdef OS_USING_SYS_HEAP
    os_meminfo_t sys;
#endif
};

static struct snapshot snap(void)
{
    struct snapshot s;
    memset(&s, 0, sizeof s);
    s.a = heap_info(&heap_a);
    s.b = heap_info(&heap_b);
#ifdef OS_USING_SYS_HEAP
    os_memory_info(&s.sys);
#endif
    return s;
}

static void check_nothing_changed(const struct snapshot *before)
{
    struct snapshot after = snap();
    CHECK(info_eq(&before->a, &after.a));
    CHECK(info_eq(&before->b, &after.b));
#ifdef OS_USING_SYS_HEAP
    CHECK(info_eq(&before->sys, &after.sys));
#endif
    heap_still_works(&heap_a, RA, RA_SIZE);
    /* heap B has no region: nothing to serve from */
    CHECK(os_memheap_alloc(&heap_b, 16) == OS_NULL);
#ifdef OS_USING_SYS_HEAP
    void *p = os_malloc(100);
    CHECK(p != OS_NULL);
    CHECK(range_inside(p, 100, sys_buf + SR_OFF, SR_SIZE));
    os_free(p);
#endif
    hook_reset();
}

struct cand
{
    const char *name;
    int         from_end;   /* offset is from the end of the existing region */
    ptrdiff_t   off;
    size_t      size;
    int         plus_n;     /* add the existing region's size to size */
};

static const struct cand cands[] = {
    {"identical", 0, 0, 0, 1},
    {"partial left", 0, -1024, 2048, 0},
    {"one byte left", 0, -1024, 1025, 0},
    {"partial right", 1, -1024, 2048, 0},
    {"one byte right", 1, -1, 1024, 0},
    {"contains", 0, -1024, 2048, 1},
    {"inside at start", 0, 0, 1024, 0},
    {"inside middle", 0, 4096, 2048, 0},
    {"inside at end", 1, -1024, 1024, 0},
};

static void try_overlaps(const char *owner, unsigned char *s, size_t n, enum os_mem_alg alg)
{
    for (size_t c = 0; c < sizeof cands / sizeof cands[0]; c++)
    {
        const struct cand *cd = &cands[c];
        unsigned char *start = (cd->from_end ? s + n : s) + cd->off;
        size_t size = cd->size + (cd->plus_n ? n : 0);
        for (int t = 0; t < T_COUNT; t++)
        {
#ifndef OS_USING_SYS_HEAP
            if (t == T_SYS)
                continue;
#endif
            check_context("%s: overlap '%s' with %s's region, added to %s", test_alg_name(alg),
                          cd->name, owner, target_names[t]);
            struct snapshot before = snap();
            hook_reset();
            os_err_t rc = add_to(t, start, size, alg);
            CHECK_EQ(rc, OS_EINVAL);
            CHECK_REPORTS(1);
            check_nothing_changed(&before);
        }
    }
}

static void spec_overlap(const struct test_alg *a)
{
    check_context("%s: overlap setup", a->name);
    heap_open(&heap_a, "A");
    heap_open(&heap_b, "B");
    heap_add_ok(&heap_a, RA, RA_SIZE, a->alg);

    try_overlaps("heap A", RA, RA_SIZE, a->alg);
#ifdef OS_USING_SYS_HEAP
    try_overlaps("sys heap", sys_buf + SR_OFF, SR_SIZE, a->alg);
#endif

    /* adjacent regions do not overlap */
    check_context("%s: adjacent regions", a->name);
    heap_add_ok(&heap_b, RA + RA_SIZE, 4096, a->alg);
    heap_add_ok(&heap_b, RA - 4096, 4096, a->alg);
    heap_still_works(&heap_a, RA, RA_SIZE);
    void *p = os_memheap_alloc(&heap_b, 1000);
    CHECK(p != OS_NULL);
    CHECK(range_inside(p, 1000, RA + RA_SIZE, 4096) || range_inside(p, 1000, RA - 4096, 4096));
    os_memheap_free(&heap_b, p);
    CHECK_EQ(os_memheap_check(&heap_b), OS_EOK);
    heap_close(&heap_b);
#ifdef OS_USING_SYS_HEAP
    heap_open(&heap_b, "B");
    heap_add_ok(&heap_b, sys_buf + SR_OFF + SR_SIZE, 4096, a->alg);
    heap_add_ok(&heap_b, sys_buf + SR_OFF - 4096, 4096, a->alg);
    heap_still_works(&heap_b, OS_NULL, 0);
    heap_close(&heap_b);
#endif
    CHECK_REPORTS(0);
    heap_close(&heap_a);
}

/* ---- nested regions ------------------------------------------------------------------------------ */

static void spec_nested(const struct test_alg *a)
{
    check_context("%s: nested in an allocated block", a->name);
    heap_open(&heap_a, "A");
    heap_add_ok(&heap_a, RA, RA_SIZE, a->alg);
    hook_reset();

    unsigned char *p = os_memheap_alloc(&heap_a, 8192);
    CHECK(p != OS_NULL);
    if (!p)
    {
        heap_close(&heap_a);
        return;
    }
    size_t usable = os_memheap_usable_size(&heap_a, p);
    CHECK(usable >= 8192);

    /* two user heaps inside the same block, side by side */
    heap_open(&heap_c, "C");
    heap_open(&heap_d, "D");
    CHECK_EQ(os_memheap_add(&heap_c, p, 2048, a->alg), OS_EOK);
    CHECK_EQ(os_memheap_add(&heap_d, p + 4096, 4096, a->alg), OS_EOK);
    /* overlapping C (itself nested) is refused */
    check_context("%s: overlap with a nested heap", a->name);
    os_meminfo_t ic = heap_info(&heap_c);
    CHECK_EQ(os_memheap_add(&heap_d, p + 1024, 2048, a->alg), OS_EINVAL);
    CHECK(info_unchanged(&heap_c, &ic));
    CHECK_REPORTS(1);

    /* the OneOS sample's nested heap: a 2048-byte region serves 1024 but not 2048 bytes */
    check_context("%s: nested heap serves", a->name);
    void *q = os_memheap_alloc(&heap_c, a->serve_from_2048);
    CHECKF(q != OS_NULL, "2048-byte region cannot serve %zu bytes", (size_t)a->serve_from_2048);
    CHECK(q == OS_NULL || range_inside(q, a->serve_from_2048, p, 2048));
    os_memheap_free(&heap_c, q);
    CHECK(os_memheap_alloc(&heap_c, 2048) == OS_NULL);
    CHECK_EQ(os_memheap_check(&heap_c), OS_EOK);
    CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);

    /* a heap nested in a nested heap's block */
    check_context("%s: nested two levels", a->name);
    unsigned char *r = os_memheap_alloc(&heap_d, 1024);
    CHECK(r != OS_NULL);
    if (r)
    {
        os_memheap_t e;
        heap_open(&e, "E");
        CHECK_EQ(os_memheap_add(&e, r, 1024, a->alg), OS_EOK);
        void *x = os_memheap_alloc(&e, 100);
        CHECK(x != OS_NULL && range_inside(x, 100, r, 1024));
        os_memheap_free(&e, x);
        CHECK_EQ(os_memheap_deinit(&heap_d), OS_EBUSY);
        CHECK_REPORTS(1);
        heap_close(&e);
        os_memheap_free(&heap_d, r);
    }

    /* a host heap cannot be deinitialised while it hosts regions */
    check_context("%s: deinit of a host heap", a->name);
    os_meminfo_t ia = heap_info(&heap_a);
    CHECK_EQ(os_memheap_deinit(&heap_a), OS_EBUSY);
    CHECK(info_unchanged(&heap_a, &ia));
    CHECK_REPORTS(1);
    heap_still_works(&heap_a, RA, RA_SIZE);

    /* regions not wholly inside one allocated block */
    check_context("%s: not wholly inside the block", a->name);
    os_memheap_t f;
    heap_open(&f, "F");
    CHECK_EQ(os_memheap_add(&f, p - 8, 1024, a->alg), OS_EINVAL);          /* covers the header */
    CHECK_REPORTS(1);
    CHECK_EQ(os_memheap_add(&f, p + usable - 1024, 2048, a->alg), OS_EINVAL); /* past its end */
    CHECK_REPORTS(1);
    /* in a block of the same heap */
    check_context("%s: in a block of the same heap", a->name);
    CHECK_EQ(os_memheap_add(&heap_a, p + 2048, 1024, a->alg), OS_EINVAL);
    CHECK_REPORTS(1);
    /* spanning two allocated blocks */
    check_context("%s: spanning two blocks", a->name);
    unsigned char *b1 = os_memheap_alloc(&heap_a, 1024);
    unsigned char *b2 = os_memheap_alloc(&heap_a, 1024);
    CHECK(b1 && b2);
    if (b1 && b2)
    {
        unsigned char *lo = b1 < b2 ? b1 : b2, *hi = b1 < b2 ? b2 : b1;
        CHECK_EQ(os_memheap_add(&f, lo + 512, (size_t)(hi - lo), a->alg), OS_EINVAL);
        CHECK_REPORTS(1);
    }
    os_memheap_free(&heap_a, b1);
    os_memheap_free(&heap_a, b2);
    CHECK(os_memheap_alloc(&f, 16) == OS_NULL);     /* no region: nothing to serve */
    CHECK_REPORTS(0);

    check_context("%s: nested teardown", a->name);
    heap_close(&heap_c);
    heap_close(&heap_d);
    os_memheap_free(&heap_a, p);
    CHECK_REPORTS(0);

    /* a host block cannot be resized while it holds a region, nor freed while
     * that region holds blocks in use (they would be lost); once they are
     * freed, freeing the host block takes the nested region away from its
     * heap (the OneOS sample frees the block without deinitialising the
     * nested heap) */
    check_context("%s: freeing a host block", a->name);
    {
        os_memheap_t g;
        unsigned char *hb = os_memheap_alloc(&heap_a, 4096);
        CHECK(hb != OS_NULL);
        heap_open(&g, "G");
        CHECK_EQ(os_memheap_add(&g, hb, 4096, a->alg), OS_EOK);
        unsigned char *x = os_memheap_alloc(&g, 100);
        CHECK(x != OS_NULL);
        os_meminfo_t ia2 = heap_info(&heap_a);
        CHECK(os_memheap_realloc(&heap_a, hb, 6000) == OS_NULL);
        CHECK_REPORTS(1);
        CHECK(info_unchanged(&heap_a, &ia2));
        void *y = os_memheap_alloc(&g, 100);
        CHECK(y != OS_NULL);
        memset(x, 0x5A, 100);
        os_meminfo_t ig = heap_info(&g);
        os_memheap_free(&heap_a, hb);       /* x and y live in it: refused */
        CHECK_REPORTS(1);
        CHECK(info_unchanged(&heap_a, &ia2));
        CHECK(info_unchanged(&g, &ig));
        CHECK(x != OS_NULL && x[0] == 0x5A && x[99] == 0x5A);
        CHECK_EQ(os_memheap_check(&g), OS_EOK);
        os_memheap_free(&g, x);
        os_memheap_free(&heap_a, hb);       /* y is still live: refused */
        CHECK_REPORTS(1);
        CHECK(info_unchanged(&heap_a, &ia2));
        os_memheap_free(&g, y);
        CHECK_EQ(heap_info(&g).mem_used, 0);
        os_memheap_free(&heap_a, hb);
        CHECK_REPORTS(0);
        ig = heap_info(&g);
        CHECK_EQ(ig.mem_total, 0);
        CHECK_EQ(ig.mem_used, 0);
        CHECK(os_memheap_alloc(&g, 16) == OS_NULL);
        CHECK_EQ(os_memheap_check(&g), OS_EOK);
        CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);
        CHECK_REPORTS(0);
        heap_close(&g);
        heap_still_works(&heap_a, RA, RA_SIZE);
    }

    /* inside a FREE block of another heap */
    check_context("%s: nested in a free block", a->name);
    p = os_memheap_alloc(&heap_a, 8192);
    CHECK(p != OS_NULL);
    os_memheap_free(&heap_a, p);
    ia = heap_info(&heap_a);
    CHECK_EQ(os_memheap_add(&f, p, 2048, a->alg), OS_EINVAL);
    CHECK_EQ(os_memheap_add(&f, p + 1024, 1024, a->alg), OS_EINVAL);
    CHECK(info_unchanged(&heap_a, &ia));
    CHECK_REPORTS(2);
    CHECK(os_memheap_alloc(&f, 16) == OS_NULL);
    heap_close(&f);
    heap_still_works(&heap_a, RA, RA_SIZE);

    CHECK_EQ(heap_info(&heap_a).mem_used, 0);
    heap_close(&heap_a);

#ifdef OS_USING_SYS_HEAP
    /* the OneOS user_heap_sample: a user heap inside an os_malloc block */
    check_context("%s: nested in an os_malloc block", a->name);
    unsigned char *m = os_malloc(2048);
    CHECK(m != OS_NULL);
    if (m)
    {
        heap_open(&heap_c, "memheap1");
        CHECK_EQ(os_memheap_add(&heap_c, m, 2048, a->alg), OS_EOK);
        /* Buddy blocks are naturally aligned: at whatever address os_malloc
         * gives, 2048 bytes less the control data always hold a 512-byte
         * block, a 1024-byte one only when the address allows it. */
        size_t must = a->aligned_anywhere ? a->serve_from_2048 : a->serve_from_2048 / 2;
        for (unsigned i = 0; i < 20; i++)
        {
            size_t sz = (size_t)1 << i;
            void *x = os_memheap_alloc(&heap_c, sz);
            if (sz <= must)
                CHECKF(x != OS_NULL, "size %zu", sz);
            if (sz >= 2048)
                CHECKF(x == OS_NULL, "size %zu", sz);
            if (!x)
                break;
            CHECK(range_inside(x, sz, m, 2048));
            os_memheap_free(&heap_c, x);
        }
        CHECK_EQ(os_memheap_check(&heap_c), OS_EOK);
        heap_close(&heap_c);
        os_free(m);
        /* once freed, the block is no longer a valid place for a region */
        heap_open(&heap_c, "memheap1");
        CHECK_EQ(os_memheap_add(&heap_c, m, 2048, a->alg), OS_EINVAL);
        heap_close(&heap_c);
        CHECK_REPORTS(1);
    }
#endif
}

/* ---- regions too small ------------------------------------------------------------------------------ */

static void spec_too_small(const struct test_alg *a)
{
    static const size_t offsets[] = {0, 8, 1, 3, 4};
    size_t min_aligned = 0;
    for (size_t k = 0; k < sizeof offsets / sizeof offsets[0]; k++)
    {
        size_t off = offsets[k];
        unsigned char *base = arena + SCAN_OFF + off;
        size_t min = 0;
        for (size_t size = 0; size <= 4096; size++)
        {
            check_context("%s: region of %zu bytes at offset %zu", a->name, size, off);
            os_memheap_t h;
            heap_open(&h, "small");
            os_err_t rc = os_memheap_add(&h, base, size, a->alg);
            CHECK_REPORTS(rc == OS_EOK ? 0 : 1);
            if (!min)
            {
                if (rc == OS_EOK)
                    min = size;
                else
                    CHECK_EQ(rc, OS_ENOMEM);
            }
            else
            {
                /* every larger region is accepted too */
                CHECK_EQ(rc, OS_EOK);
            }
            if (rc == OS_EOK)
            {
                os_meminfo_t info = heap_info(&h);
                CHECK(info.mem_total > 0 && info.mem_total <= size);
                CHECK_EQ(info.mem_used, 0);
                void *p = os_memheap_alloc(&h, 1);
                /* (with a tail canary too: a region that cannot serve it is too small) */
                CHECKF(p != OS_NULL, "a region just big enough must serve one minimal block");
                CHECK(p == OS_NULL || range_inside(p, 1, base, size));
                os_memheap_free(&h, p);
                CHECK_EQ(os_memheap_check(&h), OS_EOK);
            }
            heap_close(&h);
            if (min && size >= min + 64)
                break;
        }
        hook_reset();
        check_context("%s: smallest region at offset %zu", a->name, off);
        CHECK(min > 0);
        printf("%s: smallest region accepted at base offset %zu: %zu bytes\n", a->name, off, min);
        if (off == 0)
            min_aligned = min;
    }
    check_context("%s: smallest region", a->name);
    CHECKF(min_aligned > 0 && min_aligned <= a->max_min_region, "smallest region is %zu bytes",
           min_aligned);

    /* a 2048-byte region serves 1024 bytes (first-fit; smaller for buddy) */
    os_memheap_t h;
    heap_open(&h, "2k");
    heap_add_ok(&h, arena + SCAN_OFF, 2048, a->alg);
    void *p = os_memheap_alloc(&h, a->serve_from_2048);
    CHECKF(p != OS_NULL, "2048-byte region cannot serve %zu bytes", (size_t)a->serve_from_2048);
    os_memheap_free(&h, p);
    CHECK(os_memheap_alloc(&h, 2048) == OS_NULL);
    heap_close(&h);

    /* a region that wraps around the address space is refused */
    check_context("%s: wrapping region", a->name);
    heap_open(&h, "wrap");
    os_err_t rc = os_memheap_add(&h, arena + SCAN_OFF, SIZE_MAX - 16, a->alg);
    CHECK_EQ(rc, OS_EINVAL);
    CHECK_REPORTS(1);
    /* one that ends exactly at the top (its end would be address 0) too */
    rc = os_memheap_add(&h, arena + SCAN_OFF, (size_t)0 - (size_t)(uintptr_t)(arena + SCAN_OFF), a->alg);
    CHECK_EQ(rc, OS_EINVAL);
    CHECK_REPORTS(1);
    CHECK_EQ(heap_info(&h).mem_total, 0);
    heap_close(&h);
}

/* ---- algorithms ---------------------------------------------------------------------------------------- */

static void spec_unknown_alg(void)
{
    static const int bad[] = {77, -1, (int)OS_MEM_ALG_DEFAULT + 1, 1000000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
        check_context("unknown algorithm %d", bad[i]);
        os_memheap_t h;
        heap_open(&h, "alg");
        CHECK_EQ(os_memheap_add(&h, WORK, 8 * KiB, (enum os_mem_alg)bad[i]), OS_EINVAL);
        CHECK_REPORTS(1);
        CHECK(os_memheap_alloc(&h, 16) == OS_NULL);
        CHECK_REPORTS(0);
        /* the region was not taken: it can be added with a real algorithm */
        heap_add_ok(&h, WORK, 8 * KiB, test_algs[0].alg);
        heap_close(&h);
#ifdef OS_USING_SYS_HEAP
        os_meminfo_t before, after;
        os_memory_info(&before);
        CHECK_EQ(os_sys_heap_add(WORK, 8 * KiB, (enum os_mem_alg)bad[i]), OS_EINVAL);
        CHECK_REPORTS(1);
        os_memory_info(&after);
        CHECK(info_eq(&before, &after));
#endif
    }
    check_context("OS_MEM_ALG_DEFAULT");
    os_memheap_t h;
    heap_open(&h, "default");
    heap_add_ok(&h, WORK, 8 * KiB, OS_MEM_ALG_DEFAULT);
    heap_still_works(&h, WORK, 8 * KiB);
    heap_close(&h);
    CHECK_REPORTS(0);
}

#endif /* TEST_BAD_OPS */

/* ---- no request refused while a free block can serve it ------------------------------------------- */

#define FILL_MAX 4096
#define FIT_REGION (32 * KiB)
static void *fill_blk[FILL_MAX];

/* Take everything h has left in 8-byte blocks (fill_blk[]); how many. */
static size_t fill_up(os_memheap_t *h)
{
    size_t n = 0;
    while (n < FILL_MAX && (fill_blk[n] = os_memheap_alloc(h, 8)) != OS_NULL)
        n++;
    CHECK(n < FILL_MAX);
    return n;
}

static void fill_free(os_memheap_t *h, size_t n)
{
    while (n > 0)
        os_memheap_free(h, fill_blk[--n]);
}

static int by_address(const void *x, const void *y)
{
    uintptr_t a = (uintptr_t)*(void *const *)x, b = (uintptr_t)*(void *const *)y;
    return a < b ? -1 : a > b;
}

/*
 * Realloc grows in place when the blocks right after it were just freed,
 * also in a heap so full that a move could not be served (buddy: the freed
 * blocks wait unmerged in its quick lists; a block grows in place only as
 * the lower buddy, so the test picks one whose start is aligned to the
 * size it grows to).
 */
static void spec_grow_into_freed(const struct test_alg *a)
{
    check_context("%s: realloc into blocks just freed, in a full heap", a->name);
    os_memheap_t h;
    heap_open(&h, "grow");
    heap_add_ok(&h, WORK, 16 * KiB, a->alg);
    size_t n = 0, j;
    while (n < FILL_MAX && (fill_blk[n] = os_memheap_alloc(&h, 20)) != OS_NULL)
        pat_fill(fill_blk[n++], 7, 0, 20);
    CHECK(n < FILL_MAX);
    qsort(fill_blk, n, sizeof fill_blk[0], by_address);
    for (j = 0; j + 3 < n; j++)
    {
        uintptr_t p = (uintptr_t)fill_blk[j], d = (uintptr_t)fill_blk[j + 1] - p;
        if ((uintptr_t)fill_blk[j + 2] - p == 2 * d && (uintptr_t)fill_blk[j + 3] - p == 3 * d &&
            (a->grows_in_place || (p - p % d) % (4 * d) == 0))
            break;
    }
    CHECKF(j + 3 < n, "four blocks in a row among %zu", n);
    if (j + 3 < n)
    {
        unsigned char *p = fill_blk[j];
        for (size_t k = 1; k <= 3; k++)
            os_memheap_free(&h, fill_blk[j + k]);
        CHECK(os_memheap_realloc(&h, p, 80) == p);
        CHECK(pat_ok(p, 7, 0, 20));
        CHECK_EQ(os_memheap_check(&h), OS_EOK);
        for (size_t k = 1; k <= 3; k++)
            fill_blk[j + k] = OS_NULL;
    }
    for (size_t k = 0; k < n; k++)
        os_memheap_free(&h, fill_blk[k]);
    CHECK_EQ(heap_info(&h).mem_used, 0);
    heap_close(&h);
}

#ifdef OS_USING_ALG_FIRSTFIT
/* The block size (distance between two blocks allocated in a row) of a request of r bytes. */
static size_t ff_block_of(size_t r)
{
    os_memheap_t h;
    heap_open(&h, "probe");
    heap_add_ok(&h, arena + WORK_OFF, 4 * r + 1024, OS_MEM_ALG_FIRSTFIT);
    unsigned char *x = os_memheap_alloc(&h, r), *y = os_memheap_alloc(&h, r);
    CHECK(x && y);
    size_t b = x && y ? (size_t)(y - x) : 0;
    heap_close(&h);
    return b;
}

/*
 * First-fit's bounded search (OS_MEM_FF_SEARCH_MAX): when the O(1) search
 * finds nothing, at most that many blocks of the request's class are
 * examined (0: all of them) before the request is refused. In a full heap,
 * k blocks of 64 chunks lie in front of (were freed after) one of 65
 * chunks, all in one class at every class setting: a request for 65
 * chunks is served iff the fitting block is within the bound; refused, it
 * changes nothing and reports nothing.
 */
static void spec_search_bound(const struct test_alg *a)
{
    const size_t ch = OS_MEM_ALIGN_SIZE, blk = 64 * ch, region = 20 * blk;
    size_t r = blk;
    static void *small[12], *fence[13];
    if (a->alg != OS_MEM_ALG_FIRSTFIT)
        return;
    while (r > 0 && ff_block_of(r) > blk)
        r--;
    CHECK_EQ(ff_block_of(r), blk);          /* r bytes: 64 chunks; r + 1: 65 */
    CHECK_EQ(ff_block_of(r + 1), blk + ch);
    for (size_t k = 2; k <= 12; k += 10)
    {
        check_context("%s: bounded search, the fit behind %zu smaller blocks", a->name, k);
        os_memheap_t h;
        heap_open(&h, "bound");
        heap_add_ok(&h, arena + WORK_OFF, region, a->alg);
        void *fit = os_memheap_alloc(&h, r + 1);
        fence[0] = os_memheap_alloc(&h, 8);
        for (size_t i = 0; i < k; i++)
        {
            small[i] = os_memheap_alloc(&h, r);
            fence[i + 1] = os_memheap_alloc(&h, 8);
            CHECK(small[i] && fence[i + 1]);
        }
        size_t n = fill_up(&h);
        os_memheap_free(&h, fit);
        for (size_t i = 0; i < k; i++)
            os_memheap_free(&h, small[i]);
        os_meminfo_t before = heap_info(&h);
        void *q = os_memheap_alloc(&h, r + 1);
        if (OS_MEM_FF_SEARCH_MAX == 0 || k + 1 <= OS_MEM_FF_SEARCH_MAX)
        {
            CHECK_PTR_EQ(q, fit);
        }
        else
        {
            CHECK_PTR_EQ(q, OS_NULL);
            CHECK(info_unchanged(&h, &before));
        }
        CHECK_REPORTS(0);
        CHECK_EQ(os_memheap_check(&h), OS_EOK);
        os_memheap_free(&h, q);
        fill_free(&h, n);
        for (size_t i = 0; i <= k; i++)
            os_memheap_free(&h, fence[i]);
        CHECK_EQ(heap_info(&h).mem_used, 0);
        heap_close(&h);
    }
}
#else
static void spec_search_bound(const struct test_alg *a)
{
    (void)a;
}
#endif

/*
 * The original first-fit gave up after probing a few blocks of a bucket
 * even when a later one fitted. Here the only free blocks that can serve a
 * request are ones a quick search passes over: two free blocks of
 * neighbouring sizes (one size class of first-fit at every class setting)
 * in a full heap, the smaller one freed last, and a request for the larger
 * one's usable size; and an aligned block freed into a full heap, asked
 * for again (no room for a worst-case alignment gap anywhere). First-fit
 * finds them by examining blocks past its O(1) search (within
 * OS_MEM_FF_SEARCH_MAX: see spec_search_bound).
 */
static void spec_no_false_failure(const struct test_alg *a)
{
    for (size_t big = 512; big <= 4096; big *= 2)
        for (size_t d = 8; d <= 32; d += 8)
            for (int larger_last = 0; larger_last < 2; larger_last++)
            {
                check_context("%s: free blocks of %zu and %zu bytes, the %s freed last", a->name, big + d, big,
                              larger_last ? "larger" : "smaller");
                os_memheap_t h;
                heap_open(&h, "fit");
                heap_add_ok(&h, arena + WORK_OFF, FIT_REGION, a->alg);
                void *p1 = os_memheap_alloc(&h, big + d), *s1 = os_memheap_alloc(&h, 8);
                void *p2 = os_memheap_alloc(&h, big), *s2 = os_memheap_alloc(&h, 8);
                CHECK(p1 && s1 && p2 && s2);
                size_t want = os_memheap_usable_size(&h, p1);
                size_t n = fill_up(&h);
                os_memheap_free(&h, larger_last ? p2 : p1);
                os_memheap_free(&h, larger_last ? p1 : p2);
                void *q = os_memheap_alloc(&h, want);
                /* first-fit's walk past the head reaches the second block unless bounded to 1 */
                CHECKF(q != OS_NULL || (OS_MEM_FF_SEARCH_MAX == 1 && !larger_last),
                       "a free block of %zu usable bytes exists", want);
                CHECK(q == OS_NULL || range_inside(q, want, arena + WORK_OFF, FIT_REGION));
                CHECK_EQ(os_memheap_check(&h), OS_EOK);
                os_memheap_free(&h, q);
                os_memheap_free(&h, s1);
                os_memheap_free(&h, s2);
                fill_free(&h, n);
                CHECK_EQ(heap_info(&h).mem_used, 0);
                heap_close(&h);
            }

    for (size_t al = 16; al <= 4096; al *= 4)
        for (size_t size = 24; size <= 600; size += 288)
        {
            check_context("%s: %zu bytes aligned to %zu, freed into a full heap", a->name, size, al);
            os_memheap_t h;
            heap_open(&h, "fit-aligned");
            heap_add_ok(&h, arena + WORK_OFF, FIT_REGION, a->alg);
            void *p = os_memheap_aligned_alloc(&h, al, size);
            CHECK(p != OS_NULL && ((uintptr_t)p & (al - 1)) == 0);
            size_t n = fill_up(&h);
            os_memheap_free(&h, p);
            void *q = os_memheap_aligned_alloc(&h, al, size);
            CHECKF(q != OS_NULL, "the block just freed can serve the request");
            CHECK(((uintptr_t)q & (al - 1)) == 0);
            CHECK_EQ(os_memheap_check(&h), OS_EOK);
            os_memheap_free(&h, q);
            fill_free(&h, n);
            CHECK_EQ(heap_info(&h).mem_used, 0);
            heap_close(&h);
        }

    /* A region whose only block is the one free block, its payload 4096-aligned: an aligned request
     * for nearly all of it fits there exactly (the algorithm may place a plain block elsewhere). */
    check_context("%s: a whole region at an aligned place", a->name);
    os_memheap_t h;
    heap_open(&h, "fit-region");
    heap_add_ok(&h, arena + WORK_OFF, FIT_REGION, a->alg);
    void *p = os_memheap_alloc(&h, 8);
    size_t shift = (4096 - ((uintptr_t)p & 4095)) & 4095;
    os_memheap_free(&h, p);
    heap_close(&h);
    heap_open(&h, "fit-region");
    heap_add_ok(&h, arena + WORK_OFF + shift, FIT_REGION, a->alg);
    size_t x = heap_largest_alloc(&h);
    p = os_memheap_alloc(&h, x);
    CHECK(p != OS_NULL);
    os_memheap_free(&h, p);
    if (((uintptr_t)p & 4095) == 0 && x > 16)
    {
        void *q = os_memheap_aligned_alloc(&h, 4096, x - 16);
        CHECKF(q != OS_NULL, "%zu bytes fit at the aligned start of the free region", x - 16);
        CHECK(((uintptr_t)q & 4095) == 0);
        os_memheap_free(&h, q);
    }
    CHECK_EQ(os_memheap_check(&h), OS_EOK);
    heap_close(&h);

    /* An alignment larger than the whole region, with an aligned place inside it (first-fit). */
    if (a->aligned_anywhere)
    {
        check_context("%s: align 4096 in a 2048-byte region that holds a 4096-aligned place", a->name);
        heap_open(&h, "fit-bigalign");
        heap_add_ok(&h, arena + WORK_OFF + 4096 - 1024, 2048, a->alg);
        p = os_memheap_aligned_alloc(&h, 4096, 16);
        CHECKF(p == arena + WORK_OFF + 4096, "got %p", p);
        os_memheap_free(&h, p);
        CHECK_EQ(os_memheap_check(&h), OS_EOK);
        heap_close(&h);
    }
}

/* ---- zero sizes, NULL pointers, realloc ---------------------------------------------------------------- */

static void spec_zero_and_null(const struct test_layout *l)
{
    check_context("%s: zero sizes and NULL", l->name);
    heap_open(&heap_a, "A");
    heap_add_ok(&heap_a, WORK, 16 * KiB, test_layout_alg(l, 0));
    heap_add_ok(&heap_a, WORK + 64 * KiB, 16 * KiB, test_layout_alg(l, 1));
    hook_reset();

    void *keep = os_memheap_alloc(&heap_a, 40);
    CHECK(keep != OS_NULL);
    os_meminfo_t before = heap_info(&heap_a);

    /* alloc of 0 bytes: OS_NULL, nothing allocated, not an error */
    CHECK(os_memheap_alloc(&heap_a, 0) == OS_NULL);
    CHECK(os_memheap_aligned_alloc(&heap_a, 0, 0) == OS_NULL);
    CHECK(os_memheap_aligned_alloc(&heap_a, 64, 0) == OS_NULL);
    CHECK(os_memheap_realloc(&heap_a, OS_NULL, 0) == OS_NULL);
    CHECK(info_unchanged(&heap_a, &before));
    CHECK_REPORTS(0);

    /* free(NULL) is a no-op */
    os_memheap_free(&heap_a, OS_NULL);
    CHECK(info_unchanged(&heap_a, &before));
    CHECK_REPORTS(0);
    CHECK_EQ(os_memheap_usable_size(&heap_a, OS_NULL), 0);

    /* realloc(NULL, n) is alloc */
    unsigned char *p = os_memheap_realloc(&heap_a, OS_NULL, 100);
    CHECK(p != OS_NULL);
    CHECK(is_aligned(p, OS_MEM_ALIGN_SIZE));
    CHECK(os_memheap_usable_size(&heap_a, p) >= 100);
    CHECK(heap_info(&heap_a).mem_used >= before.mem_used + 100);
    if (p)
        pat_fill(p, 1, 0, 100);

    /* realloc(p, 0) frees p and returns OS_NULL */
    CHECK(os_memheap_realloc(&heap_a, p, 0) == OS_NULL);
    CHECK_EQ(heap_info(&heap_a).mem_used, before.mem_used);
    CHECK_REPORTS(0);
#if TEST_BAD_OPS
    /* ... so freeing it again is a double free */
    os_memheap_free(&heap_a, p);
    CHECK_REPORTS(1);
    CHECK_EQ(heap_info(&heap_a).mem_used, before.mem_used);
#endif
    os_memheap_free(&heap_a, keep);
    CHECK_EQ(heap_info(&heap_a).mem_used, 0);
    CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);
    CHECK_REPORTS(0);
    heap_close(&heap_a);
}

static void spec_realloc(const struct test_layout *l)
{
    enum os_mem_alg alg = test_layout_alg(l, 0);
    const struct test_alg *ai = test_alg_info(alg);

    /* growth in place into a free successor (first-fit), the OneOS documentation's numbers */
    if (ai->grows_in_place)
    {
        check_context("%s: realloc in place", l->name);
        heap_open(&heap_a, "A");
        heap_add_ok(&heap_a, WORK, 2048, alg);
        void *p = os_memheap_alloc(&heap_a, 64);
        CHECK(p != OS_NULL);
        if (p)
        {
            pat_fill(p, 7, 0, 64);
            CHECK_PTR_EQ(os_memheap_realloc(&heap_a, p, 68), p);
            CHECK(pat_ok(p, 7, 0, 64));
            CHECK(os_memheap_usable_size(&heap_a, p) >= 68);
            CHECK_PTR_EQ(os_memheap_realloc(&heap_a, p, 60), p);
            CHECK(pat_ok(p, 7, 0, 60));
            /* grow a lot, still in place: the rest of the region is free */
            CHECK_PTR_EQ(os_memheap_realloc(&heap_a, p, 1000), p);
            CHECK(pat_ok(p, 7, 0, 60));
            os_memheap_free(&heap_a, p);
        }
        CHECK_EQ(heap_info(&heap_a).mem_used, 0);
        CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);
        heap_close(&heap_a);

#if OS_MEM_HARDENING < 2    /* usable sizes are whole blocks (a tail canary level reports the size asked) */
        /* a shrink by the smallest block gives it back; a grow that needs exactly the free
         * successor takes it in place */
        check_context("%s: realloc by exactly one block", l->name);
        heap_open(&heap_a, "A");
        heap_add_ok(&heap_a, WORK, 4096, alg);
        unsigned char *x = os_memheap_alloc(&heap_a, 200), *y = os_memheap_alloc(&heap_a, 64),
                      *z = os_memheap_alloc(&heap_a, 64);
        CHECK(x && y && z);
        if (x && y && z)
        {
            size_t ux = os_memheap_usable_size(&heap_a, x), used = heap_info(&heap_a).mem_used;
            const size_t minb = OS_MEM_ALIGN_SIZE > 16 ? OS_MEM_ALIGN_SIZE : 16;    /* at least the smallest block */
            CHECK_PTR_EQ(os_memheap_realloc(&heap_a, x, ux - minb), x);
            CHECK_EQ(os_memheap_usable_size(&heap_a, x), ux - minb);
            CHECK_EQ(heap_info(&heap_a).mem_used, used - minb);
            CHECK_PTR_EQ(os_memheap_realloc(&heap_a, x, ux), x);    /* back into the 16 bytes freed */
            size_t yblock = (size_t)(z - y);
            os_memheap_free(&heap_a, y);
            CHECK_PTR_EQ(os_memheap_realloc(&heap_a, x, ux + yblock), x);
            CHECK_EQ(os_memheap_usable_size(&heap_a, x), ux + yblock);
            os_memheap_free(&heap_a, x);
            os_memheap_free(&heap_a, z);
        }
        CHECK_EQ(heap_info(&heap_a).mem_used, 0);
        CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);
        CHECK_REPORTS(0);
        heap_close(&heap_a);
#endif
    }

    /* a shrink gives memory back on every algorithm (buddy: the upper halves) */
    check_context("%s: realloc shrink gives back", l->name);
    heap_open(&heap_a, "A");
    heap_add_ok(&heap_a, WORK, 32 * KiB, alg);
    {
        void *big = os_memheap_alloc(&heap_a, 1000);
        CHECK(big != OS_NULL);
        size_t used = heap_info(&heap_a).mem_used;
        CHECK_PTR_EQ(os_memheap_realloc(&heap_a, big, 10), big);
        CHECK(heap_info(&heap_a).mem_used <= used - 512);
        CHECK(os_memheap_usable_size(&heap_a, big) < 512);
        os_memheap_free(&heap_a, big);
        CHECK_EQ(heap_info(&heap_a).mem_used, 0);
        CHECK_REPORTS(0);
    }
    heap_close(&heap_a);

    check_context("%s: realloc", l->name);
    heap_open(&heap_a, "A");
    heap_add_ok(&heap_a, WORK, 32 * KiB, test_layout_alg(l, 0));
    heap_add_ok(&heap_a, WORK + 64 * KiB, 32 * KiB, test_layout_alg(l, 1));
    hook_reset();

    /* shrink is always in place */
    unsigned char *p = os_memheap_alloc(&heap_a, 1000);
    CHECK(p != OS_NULL);
    if (p)
    {
        pat_fill(p, 11, 0, 1000);
        size_t used1000 = heap_info(&heap_a).mem_used;
        static const size_t shrink[] = {999, 600, 500, 100, 17, 8, 1};
        for (size_t i = 0; i < sizeof shrink / sizeof shrink[0]; i++)
        {
            CHECK_PTR_EQ(os_memheap_realloc(&heap_a, p, shrink[i]), p);
            CHECK(pat_ok(p, 11, 0, shrink[i]));
            CHECK(os_memheap_usable_size(&heap_a, p) >= shrink[i]);
            CHECK(heap_info(&heap_a).mem_used <= used1000);
        }
        os_memheap_free(&heap_a, p);
    }
    CHECK_EQ(heap_info(&heap_a).mem_used, 0);

    /* growth when the successor is taken: moves, keeps data and the neighbour */
    p = os_memheap_alloc(&heap_a, 64);
    unsigned char *q = os_memheap_alloc(&heap_a, 64);
    CHECK(p && q);
    if (p && q)
    {
        pat_fill(p, 1, 0, 64);
        pat_fill(q, 2, 0, 64);
        unsigned char *r = os_memheap_realloc(&heap_a, p, 3000);
        CHECK(r != OS_NULL);
        if (r)
        {
            CHECK(pat_ok(r, 1, 0, 64));
            CHECK(pat_ok(q, 2, 0, 64));
            CHECK(!ranges_overlap(r, 3000, q, 64));
            CHECK(is_aligned(r, OS_MEM_ALIGN_SIZE));
            pat_fill(r, 1, 64, 3000);
            p = r;
        }
        CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);
        os_memheap_free(&heap_a, q);
        os_memheap_free(&heap_a, p);
    }
    CHECK_EQ(heap_info(&heap_a).mem_used, 0);
    CHECK_REPORTS(0);

    /* a realloc that cannot be served: OS_NULL, old block untouched */
    check_context("%s: realloc that cannot be served", l->name);
    p = os_memheap_alloc(&heap_a, 100);
    CHECK(p != OS_NULL);
    if (p)
    {
        pat_fill(p, 3, 0, 100);
        os_meminfo_t before = heap_info(&heap_a);
        size_t usable = os_memheap_usable_size(&heap_a, p);
#if TEST_BAD_OPS /* sizes nobody can serve may be reported */
        static const size_t huge[] = {40 * KiB, 64 * KiB, 1024 * KiB, SIZE_MAX / 2, SIZE_MAX - 7,
                                      SIZE_MAX};
        for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++)
        {
            CHECKF(os_memheap_realloc(&heap_a, p, huge[i]) == OS_NULL, "size %zu", huge[i]);
            CHECK(pat_ok(p, 3, 0, 100));
            CHECK(info_unchanged(&heap_a, &before));
            CHECK_EQ(os_memheap_usable_size(&heap_a, p), usable);
        }
        hook_reset();   /* huge sizes may be reported as refusals */
#else
        (void)usable;
#endif

        /* fragmented heap: every free piece is smaller than the request */
        unsigned char *blk[128];
        size_t n = 0;
        while (n < 128 && (blk[n] = os_memheap_alloc(&heap_a, 1000)) != OS_NULL)
            n++;
        CHECK(n > 4);
        for (size_t i = 0; i < n; i += 2)
            os_memheap_free(&heap_a, blk[i]);
        before = heap_info(&heap_a);
        CHECK(os_memheap_realloc(&heap_a, p, 5000) == OS_NULL);
        CHECK(pat_ok(p, 3, 0, 100));
        CHECK(info_unchanged(&heap_a, &before));
        CHECK_REPORTS(0);
        for (size_t i = 1; i < n; i += 2)
            os_memheap_free(&heap_a, blk[i]);
        os_memheap_free(&heap_a, p);
        CHECK_REPORTS(0);
    }
    CHECK_EQ(heap_info(&heap_a).mem_used, 0);
    CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);
    heap_close(&heap_a);
}

/* ---- aligned allocation ------------------------------------------------------------------------------------ */

static void spec_aligned(const struct test_layout *l)
{
    check_context("%s: aligned", l->name);
    heap_open(&heap_a, "A");
    heap_add_ok(&heap_a, WORK, 64 * KiB, test_layout_alg(l, 0));
    heap_add_ok(&heap_a, WORK + 128 * KiB + 24, 64 * KiB - 40, test_layout_alg(l, 1));
    hook_reset();

    /* align 0: plain allocation */
    void *p = os_memheap_aligned_alloc(&heap_a, 0, 100);
    CHECK(p != OS_NULL && is_aligned(p, OS_MEM_ALIGN_SIZE));
    CHECK(os_memheap_usable_size(&heap_a, p) >= 100);
    os_memheap_free(&heap_a, p);
    CHECK_REPORTS(0);

#if TEST_BAD_OPS
    /* not a power of two: refused and reported once, whatever the size */
    static const size_t bad_align[] = {3, 24, 12, 5, 6, 7, 48, 100, 4095, 4097, SIZE_MAX,
                                       SIZE_MAX / 2};
    static const size_t sizes[] = {100, 0, 1, 5000, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad_align / sizeof bad_align[0]; i++)
    {
        for (size_t j = 0; j < sizeof sizes / sizeof sizes[0]; j++)
        {
            check_context("%s: aligned(%zu, %zu)", l->name, bad_align[i], sizes[j]);
            os_meminfo_t before = heap_info(&heap_a);
            CHECK(os_memheap_aligned_alloc(&heap_a, bad_align[i], sizes[j]) == OS_NULL);
            CHECK_REPORTS(1);
            CHECK(info_unchanged(&heap_a, &before));
        }
    }

#endif

    /* power of two <= the default alignment: plain allocation */
    for (size_t al = 1; al <= OS_MEM_ALIGN_SIZE; al <<= 1)
    {
        check_context("%s: aligned(%zu, 100)", l->name, al);
        p = os_memheap_aligned_alloc(&heap_a, al, 100);
        CHECK(p != OS_NULL && is_aligned(p, OS_MEM_ALIGN_SIZE));
        os_memheap_free(&heap_a, p);
        CHECK_REPORTS(0);
    }

    /* large alignments, several live at once */
    static const size_t asz[] = {1, 8, 100, 1000, 3000};
    for (size_t al = 16; al <= 4096; al <<= 1)
    {
        void *live[sizeof asz / sizeof asz[0]];
        for (size_t j = 0; j < sizeof asz / sizeof asz[0]; j++)
        {
            check_context("%s: aligned(%zu, %zu)", l->name, al, asz[j]);
            live[j] = os_memheap_aligned_alloc(&heap_a, al, asz[j]);
            CHECK(live[j] != OS_NULL);
            CHECK(is_aligned(live[j], al));
            if (live[j])
            {
                CHECK(os_memheap_usable_size(&heap_a, live[j]) >= asz[j]);
                pat_fill(live[j], (uint32_t)(al + j), 0, asz[j]);
            }
            for (size_t k = 0; k < j; k++)
                CHECK(!live[k] || !live[j] || !ranges_overlap(live[k], asz[k], live[j], asz[j]));
        }
        check_context("%s: aligned(%zu, *)", l->name, al);
        CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);
        for (size_t j = 0; j < sizeof asz / sizeof asz[0]; j++)
        {
            CHECK(!live[j] || pat_ok(live[j], (uint32_t)(al + j), 0, asz[j]));
            os_memheap_free(&heap_a, live[j]);
        }
        CHECK_EQ(heap_info(&heap_a).mem_used, 0);
        CHECK_REPORTS(0);
    }

    /* realloc of an aligned block keeps alignment and data, moved or not */
    for (size_t al = 16; al <= 4096; al <<= 1)
    {
        check_context("%s: realloc of aligned(%zu)", l->name, al);
        unsigned char *a = os_memheap_aligned_alloc(&heap_a, al, 100);
        CHECK(a != OS_NULL && is_aligned(a, al));
        if (!a)
            continue;
        pat_fill(a, 5, 0, 100);
        /* take the space right after it so that growth must move (at most 16 KiB of fillers: with
         * large buddy units a successor of another size may come late, and 20000 bytes must fit) */
        void *fill[400];
        size_t nfill = 0;
        int succ_taken = 0;
        size_t ua = os_memheap_usable_size(&heap_a, a);
        size_t used0 = heap_info(&heap_a).mem_used;
        while (nfill < 400 && !succ_taken && heap_info(&heap_a).mem_used - used0 < 16 * KiB)
        {
            unsigned char *f = os_memheap_alloc(&heap_a, 24);
            if (!f)
                break;
            fill[nfill++] = f;
            succ_taken = f > a && f <= a + ua + 64;
        }
        static const size_t steps[] = {3000, 50, 10000, 64, 20000};
        size_t cur = 100;
        int moved = 0;
        for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++)
        {
            unsigned char *r = os_memheap_realloc(&heap_a, a, steps[s]);
            CHECKF(r != OS_NULL, "realloc to %zu", steps[s]);
            if (!r)
                break;
            CHECKF(is_aligned(r, al), "realloc to %zu gave %p", steps[s], (void *)r);
            size_t keep = cur < steps[s] ? cur : steps[s];
            CHECK(pat_ok(r, 5, 0, keep));
            if (steps[s] < cur)
                CHECK_PTR_EQ(r, a);
            moved |= r != a;
            pat_fill(r, 5, keep, steps[s]);
            a = r;
            cur = steps[s];
        }
        if (succ_taken)
            CHECK(moved);
        CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);
        os_memheap_free(&heap_a, a);
        for (size_t k = 0; k < nfill; k++)
            os_memheap_free(&heap_a, fill[k]);
        CHECK_EQ(heap_info(&heap_a).mem_used, 0);
        CHECK_REPORTS(0);
    }

    /* an aligned block grown in place (its free successor taken in), filled to its last usable
     * byte, then moved: the move still knows the alignment */
    for (size_t al = 64; al <= 1024; al <<= 4)
    {
        check_context("%s: aligned(%zu) grown in place, then moved", l->name, al);
        unsigned char *a = os_memheap_aligned_alloc(&heap_a, al, 100);
        unsigned char *succ = os_memheap_alloc(&heap_a, 300);
        CHECK(a && succ && is_aligned(a, al));
        if (!a || !succ)
            continue;
        os_memheap_free(&heap_a, succ);
        unsigned char *g = os_memheap_realloc(&heap_a, a, 250);
        CHECK(g != OS_NULL && is_aligned(g, al));
        if (!g)
            continue;
        size_t ug = os_memheap_usable_size(&heap_a, g);
        pat_fill(g, 9, 0, ug);
        void *fill[400];
        size_t nfill = 0;
        unsigned char *f;
        while (nfill < 400 && (f = os_memheap_alloc(&heap_a, 24)) != OS_NULL)
            fill[nfill++] = f;
        for (size_t k = 0; k < nfill; k += 2)     /* room elsewhere, none after g */
            os_memheap_free(&heap_a, fill[k]);
        unsigned char *m = os_memheap_realloc(&heap_a, g, 2 * ug);
        if (m != OS_NULL)
        {
            CHECKF(is_aligned(m, al), "moved to %p", (void *)m);
            CHECK(pat_ok(m, 9, 0, ug));
            g = m;
        }
        CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);
        os_memheap_free(&heap_a, g);
        for (size_t k = 1; k < nfill; k += 2)
            os_memheap_free(&heap_a, fill[k]);
        CHECK_EQ(heap_info(&heap_a).mem_used, 0);
        CHECK_REPORTS(0);
    }

    /* an aligned block grown in place over the bytes of a freed successor, which all looked like
     * log2 of a smaller alignment (5: 32): the grown block's last byte, where it keeps log2 of its
     * alignment, is written anew, so a move afterwards still keeps the full alignment */
    for (size_t al = 256; al <= 1024; al <<= 2)
    {
        check_context("%s: aligned(%zu) grown in place over stale bytes, then moved", l->name, al);
        unsigned char *a = os_memheap_aligned_alloc(&heap_a, al, 100);
        unsigned char *succ = os_memheap_alloc(&heap_a, al + 300);   /* too big for a gap in front */
        CHECK(a && succ && is_aligned(a, al));
        if (!a || !succ)
            continue;
        pat_fill(a, 11, 0, 100);
        memset(succ, 5, al + 300);
        int in_place = test_alg_info(test_layout_alg(l, 0))->grows_in_place && succ > a &&
                       succ <= a + os_memheap_usable_size(&heap_a, a) + 64;
        os_memheap_free(&heap_a, succ);
        unsigned char *g = os_memheap_realloc(&heap_a, a, 250);
        CHECK(g != OS_NULL && is_aligned(g, al));
        if (!g)
            continue;
        if (in_place)
            CHECK_PTR_EQ(g, a);
        CHECK(pat_ok(g, 11, 0, 100));
        size_t ug = os_memheap_usable_size(&heap_a, g);
        CHECK(ug >= 250);
        pat_fill(g, 11, 0, ug);
        /* take the space right after it so that growth must move */
        void *fill[400];
        size_t nfill = 0;
        int succ_taken = 0;
        while (nfill < 400 && !succ_taken)
        {
            unsigned char *f = os_memheap_alloc(&heap_a, 24);
            if (!f)
                break;
            fill[nfill++] = f;
            succ_taken = f > g && f <= g + ug + 64;
        }
        unsigned char *m = os_memheap_realloc(&heap_a, g, ug + 3000);
        CHECK(m != OS_NULL);
        if (m != OS_NULL)
        {
            if (succ_taken)
                CHECK(m != g);
            CHECKF(is_aligned(m, al), "moved to %p", (void *)m);
            CHECK(pat_ok(m, 11, 0, ug));
            g = m;
        }
        CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);
        os_memheap_free(&heap_a, g);
        for (size_t k = 0; k < nfill; k++)
            os_memheap_free(&heap_a, fill[k]);
        CHECK_EQ(heap_info(&heap_a).mem_used, 0);
        CHECK_REPORTS(0);
    }
    heap_close(&heap_a);
}

#if TEST_BAD_OPS /* may be reported */

/* ---- sizes near SIZE_MAX ---------------------------------------------------------------------------------------- */

static void spec_overflow(const struct test_layout *l)
{
    check_context("%s: overflow", l->name);
    heap_open(&heap_a, "A");
    heap_add_ok(&heap_a, WORK, 64 * KiB, test_layout_alg(l, 0));
    heap_add_ok(&heap_a, WORK + 128 * KiB, 64 * KiB, test_layout_alg(l, 1));
    hook_reset();
    os_meminfo_t before = heap_info(&heap_a);

    static const size_t big[] = {SIZE_MAX,     SIZE_MAX - 1,     SIZE_MAX - 7,     SIZE_MAX - 8,
                                 SIZE_MAX - 15, SIZE_MAX - 16,   SIZE_MAX - 64,    SIZE_MAX - 4096,
                                 SIZE_MAX / 2, SIZE_MAX / 2 + 1, SIZE_MAX / 2 - 7, (SIZE_MAX >> 4) + 1};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
    {
        check_context("%s: alloc(%zu)", l->name, big[i]);
        CHECK(os_memheap_alloc(&heap_a, big[i]) == OS_NULL);
        CHECK(os_memheap_realloc(&heap_a, OS_NULL, big[i]) == OS_NULL);
        for (size_t al = 16; al <= 8192; al <<= 3)
            CHECK(os_memheap_aligned_alloc(&heap_a, al, big[i]) == OS_NULL);
        CHECK(os_memheap_aligned_alloc(&heap_a, SIZE_MAX / 2 + 1, big[i]) == OS_NULL);
        CHECK(info_unchanged(&heap_a, &before));
    }
    check_context("%s: huge alignment", l->name);
    CHECK(os_memheap_aligned_alloc(&heap_a, SIZE_MAX / 2 + 1, 16) == OS_NULL);
    /* 1 MiB alignment, above the size of either region: refused unless a region holds such an address,
     * served (first-fit) where a first-fit region holds one well past its control data */
    size_t mib = (size_t)1 << 20;
    int held = 0, fits = 0;
    for (unsigned k = 0; k < 2; k++)
    {
        uintptr_t lo = (uintptr_t)(WORK + k * 128 * KiB), hi = lo + 64 * KiB;
        uintptr_t at = (lo + mib - 1) & ~(uintptr_t)(mib - 1);
        held |= at < hi;
        fits |= test_alg_info(test_layout_alg(l, k))->aligned_anywhere && at >= lo + 4 * KiB && at + 64 <= hi;
    }
    void *q = os_memheap_aligned_alloc(&heap_a, mib, 16);
    CHECK(q == OS_NULL || ((uintptr_t)q % mib == 0 && (range_inside(q, 16, WORK, 64 * KiB) ||
                                                     range_inside(q, 16, WORK + 128 * KiB, 64 * KiB))));
    CHECK(held || q == OS_NULL);
    CHECK(!fits || q != OS_NULL);
    os_memheap_free(&heap_a, q);
    if (q == OS_NULL)
        CHECK(info_unchanged(&heap_a, &before));
    else
        CHECK_EQ(heap_info(&heap_a).mem_used, before.mem_used);     /* (the peak counted it) */
    CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);
    hook_reset();   /* sizes nobody can serve may be reported */
    heap_still_works(&heap_a, OS_NULL, 0);
    heap_close(&heap_a);

#ifdef OS_USING_SYS_HEAP
    check_context("%s: sys heap overflow", l->name);
    os_memory_info(&before);
    static const size_t cnt[][2] = {
        {SIZE_MAX / 2 + 1, 2}, {2, SIZE_MAX / 2 + 1}, {SIZE_MAX, SIZE_MAX}, {SIZE_MAX, 1},
        {1, SIZE_MAX},         {(size_t)1 << (sizeof(size_t) * 4), (size_t)1 << (sizeof(size_t) * 4)},
        {SIZE_MAX / 3 + 1, 3}, {65537, SIZE_MAX / 65536},
    };
    for (size_t i = 0; i < sizeof cnt / sizeof cnt[0]; i++)
        CHECKF(os_calloc(cnt[i][0], cnt[i][1]) == OS_NULL, "calloc(%zu, %zu)", cnt[i][0],
               cnt[i][1]);
    CHECK(os_malloc(SIZE_MAX) == OS_NULL);
    CHECK(os_malloc(SIZE_MAX - 7) == OS_NULL);
    CHECK(os_aligned_malloc(64, SIZE_MAX - 32) == OS_NULL);
    CHECK(os_aligned_malloc(4096, SIZE_MAX / 2) == OS_NULL);
    void *p = os_malloc(10);
    CHECK(p != OS_NULL);
    CHECK(os_realloc(p, SIZE_MAX) == OS_NULL);
    CHECK(os_realloc(p, SIZE_MAX - 7) == OS_NULL);
    os_free(p);
    os_meminfo_t after;
    os_memory_info(&after);
    CHECK_EQ(after.mem_used, before.mem_used);
    CHECK_EQ(after.mem_total, before.mem_total);
    CHECK_EQ(os_memory_check(), OS_EOK);
    hook_reset();
#endif
}


/* ---- bad frees ------------------------------------------------------------------------------------------------------ */

static void spec_bad_free(const struct test_layout *l)
{
    check_context("%s: bad free setup", l->name);
    heap_open(&heap_a, "A");
    heap_open(&heap_b, "B");
    heap_add_ok(&heap_a, RA, RA_SIZE, test_layout_alg(l, 0));
    heap_add_ok(&heap_a, WORK, 32 * KiB, test_layout_alg(l, 1));
    heap_add_ok(&heap_b, RB, RB_SIZE, test_layout_alg(l, 1));
    hook_reset();

    unsigned char *p = os_memheap_alloc(&heap_a, 128);
    unsigned char *q = os_memheap_alloc(&heap_b, 128);
    CHECK(p && q);
    if (!p || !q)
        return;
    pat_fill(p, 1, 0, 128);
    pat_fill(q, 2, 0, 128);
    hook_reset();

    struct bad
    {
        const char *name;
        void       *ptr;
    } bads[] = {
        {"foreign static buffer", foreign_buf + 64},
        {"foreign static buffer, odd", foreign_buf + 67},
        {"block of another heap", q},
        {"interior p+8", p + 8},
        {"interior p+16", p + 16},
        {"interior p+1", p + 1},
        {"interior p+64", p + 64},
        {"interior p+120", p + 120},
        {"region start (control data)", RA},
        {"region start + 8", RA + 8},
        {"free space at the region end", RA + RA_SIZE - 64},
        {"second region start", WORK},
    };
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++)
    {
        check_context("%s: free(%s)", l->name, bads[i].name);
        os_meminfo_t ia = heap_info(&heap_a), ib = heap_info(&heap_b);
        os_memheap_free(&heap_a, bads[i].ptr);
        CHECK_EQ(hook_last_code(), OS_EINVAL);
        CHECK_REPORTS(1);
        CHECK(info_unchanged(&heap_a, &ia));
        CHECK(info_unchanged(&heap_b, &ib));
        CHECK(pat_ok(p, 1, 0, 128));
        CHECK(pat_ok(q, 2, 0, 128));
        CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);
        CHECK_EQ(os_memheap_check(&heap_b), OS_EOK);
        CHECK_EQ(os_memheap_usable_size(&heap_a, bads[i].ptr), 0);
        hook_reset();

        check_context("%s: realloc(%s)", l->name, bads[i].name);
        CHECK(os_memheap_realloc(&heap_a, bads[i].ptr, 200) == OS_NULL);
        CHECK_REPORTS(1);
        CHECK(info_unchanged(&heap_a, &ia));
        CHECK(pat_ok(p, 1, 0, 128));
        CHECK(pat_ok(q, 2, 0, 128));
        CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);
        heap_still_works(&heap_a, OS_NULL, 0);
    }

    /* the other direction: A's block freed through B */
    check_context("%s: free through the wrong heap", l->name);
    os_memheap_free(&heap_b, p);
    CHECK_REPORTS(1);
    CHECK(pat_ok(p, 1, 0, 128));
    CHECK(os_memheap_usable_size(&heap_a, p) >= 128);

    /* double free */
    check_context("%s: double free", l->name);
    unsigned char *r = os_memheap_alloc(&heap_a, 200);
    CHECK(r != OS_NULL);
    os_memheap_free(&heap_a, r);
    CHECK_REPORTS(0);
    os_meminfo_t ia = heap_info(&heap_a);
    os_memheap_free(&heap_a, r);
    CHECK_REPORTS(1);
    CHECK(info_unchanged(&heap_a, &ia));
    CHECK(os_memheap_realloc(&heap_a, r, 300) == OS_NULL);
    CHECK_REPORTS(1);
    CHECK(info_unchanged(&heap_a, &ia));
    CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);

    /* double free after the block was merged with its free neighbour */
    check_context("%s: double free after merge", l->name);
    unsigned char *x = os_memheap_alloc(&heap_a, 96);
    unsigned char *y = os_memheap_alloc(&heap_a, 96);
    unsigned char *z = os_memheap_alloc(&heap_a, 96);
    CHECK(x && y && z);
    os_memheap_free(&heap_a, y);
    os_memheap_free(&heap_a, x);
    CHECK_REPORTS(0);
    ia = heap_info(&heap_a);
    os_memheap_free(&heap_a, y);
    CHECK_REPORTS(1);
    os_memheap_free(&heap_a, x);
    CHECK_REPORTS(1);
    CHECK(info_unchanged(&heap_a, &ia));
    CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);
    os_memheap_free(&heap_a, z);
    CHECK_REPORTS(0);

    /* later allocations still work */
    heap_still_works(&heap_a, OS_NULL, 0);
    os_memheap_free(&heap_a, p);
    os_memheap_free(&heap_b, q);
    CHECK_REPORTS(0);
    CHECK_EQ(heap_info(&heap_a).mem_used, 0);
    CHECK_EQ(heap_info(&heap_b).mem_used, 0);
    heap_close(&heap_a);
    heap_close(&heap_b);
}
#endif

/* ---- check and trace --------------------------------------------------------------------------------------------------- */

static void spec_check_trace(const struct test_layout *l)
{
    check_context("%s: check and trace", l->name);
    heap_open(&heap_a, "A");
    heap_add_ok(&heap_a, WORK, 16 * KiB, test_layout_alg(l, 0));
    heap_add_ok(&heap_a, WORK + 32 * KiB, 16 * KiB, test_layout_alg(l, 1));
    CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);
    CHECK_EQ(os_memheap_trace(&heap_a), OS_EOK);
    void *b[8];
    for (int i = 0; i < 8; i++)
        b[i] = os_memheap_alloc(&heap_a, (size_t)(i + 1) * 300);
    for (int i = 0; i < 8; i += 3)
        os_memheap_free(&heap_a, b[i]);
    CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);
    CHECK_EQ(os_memheap_trace(&heap_a), OS_EOK);
    for (int i = 0; i < 8; i++)
        if (i % 3)
            os_memheap_free(&heap_a, b[i]);
    CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);
    CHECK_REPORTS(0);
    heap_close(&heap_a);
}

/* ---- statistics ---------------------------------------------------------------------------------------------------------- */

static void spec_stats(const struct test_layout *l)
{
    check_context("%s: statistics", l->name);
    heap_open(&heap_a, "A");
    os_meminfo_t info = heap_info(&heap_a);
    CHECK_EQ(info.mem_total, 0);
    CHECK_EQ(info.mem_used, 0);
    CHECK_EQ(info.mem_maxused, 0);

    heap_add_ok(&heap_a, WORK, 64 * KiB, test_layout_alg(l, 0));
    info = heap_info(&heap_a);
    CHECK(info.mem_total <= 64 * KiB);
    CHECKF(info.mem_total >= 64 * KiB - 8 * KiB, "mem_total %zu of a 64 KiB region",
           (size_t)info.mem_total);
    CHECK_EQ(info.mem_used, 0);
    CHECK_EQ(info.mem_maxused, 0);
    size_t total1 = info.mem_total;

    /* used grows with every block, max is the true peak */
    void *b[16];
    size_t sum = 0, peak = 0;
    for (int i = 0; i < 16; i++)
    {
        size_t sz = (size_t)(i * 37 + 1);
        b[i] = os_memheap_alloc(&heap_a, sz);
        CHECK(b[i] != OS_NULL);
        sum += sz;
        info = heap_info(&heap_a);
        CHECK(info.mem_used >= sum);
        CHECK(info.mem_used <= info.mem_total);
        CHECK(info.mem_maxused >= info.mem_used);
        peak = info.mem_used;
    }
    CHECK_EQ(info.mem_maxused, peak);
    for (int i = 0; i < 16; i += 2)
        os_memheap_free(&heap_a, b[i]);
    info = heap_info(&heap_a);
    CHECK(info.mem_used < peak);
    CHECK_EQ(info.mem_maxused, peak);
    for (int i = 1; i < 16; i += 2)
        os_memheap_free(&heap_a, b[i]);
    info = heap_info(&heap_a);
    CHECK_EQ(info.mem_used, 0);
    CHECK_EQ(info.mem_maxused, peak);
    CHECK_EQ(info.mem_total, total1);

    /* a second region adds to the total only */
    heap_add_ok(&heap_a, WORK + 128 * KiB, 128 * KiB, test_layout_alg(l, 1));
    info = heap_info(&heap_a);
    CHECK(info.mem_total > total1 + 128 * KiB - 16 * KiB);
    CHECK(info.mem_total <= total1 + 128 * KiB);
    CHECK_EQ(info.mem_used, 0);
    CHECK_EQ(info.mem_maxused, peak);
    heap_close(&heap_a);

    /* true peak across two regions: allocate in A, free, allocate in B */
    check_context("%s: peak across two regions", l->name);
    heap_open(&heap_a, "A");
    heap_add_ok(&heap_a, WORK, 16 * KiB, test_layout_alg(l, 0));
    heap_add_ok(&heap_a, WORK + 128 * KiB, 64 * KiB, test_layout_alg(l, 1));
    void *x = os_memheap_alloc(&heap_a, 3000);
    CHECK(x != OS_NULL && range_inside(x, 3000, WORK, 16 * KiB));
    size_t m1 = heap_info(&heap_a).mem_used;
    os_memheap_free(&heap_a, x);
    void *y = os_memheap_alloc(&heap_a, 20000);
    CHECK(y != OS_NULL && range_inside(y, 20000, WORK + 128 * KiB, 64 * KiB));
    size_t u2 = heap_info(&heap_a).mem_used;
    info = heap_info(&heap_a);
    CHECKF(info.mem_maxused == (m1 > u2 ? m1 : u2), "maxused %zu, peaks %zu and %zu",
           (size_t)info.mem_maxused, m1, u2);
    os_memheap_free(&heap_a, y);
    /* and the other way round */
    y = os_memheap_alloc(&heap_a, 20000);
    x = os_memheap_alloc(&heap_a, 3000);
    CHECK(x && y);
    info = heap_info(&heap_a);
    CHECK_EQ(info.mem_used, m1 + u2);
    CHECK_EQ(info.mem_maxused, m1 + u2);
    os_memheap_free(&heap_a, x);
    os_memheap_free(&heap_a, y);
    info = heap_info(&heap_a);
    CHECK_EQ(info.mem_used, 0);
    CHECK_EQ(info.mem_maxused, m1 + u2);
    CHECK_REPORTS(0);
    heap_close(&heap_a);
}

/* ---- deinit ------------------------------------------------------------------------------------------------------------------ */

static void spec_deinit(const struct test_alg *a)
{
    check_context("%s: deinit", a->name);
    heap_open(&heap_a, "A");
    heap_add_ok(&heap_a, RA, RA_SIZE, a->alg);
    void *p = os_memheap_alloc(&heap_a, 500);
    CHECK(p != OS_NULL);
    CHECK_EQ(os_memheap_deinit(&heap_a), OS_EOK);
#if TEST_BAD_OPS
    /* a second deinit is refused */
    CHECK_EQ(os_memheap_deinit(&heap_a), OS_EINVAL);
    hook_reset();
#endif

    /* the region is free for another heap now */
    heap_open(&heap_b, "B");
    heap_add_ok(&heap_b, RA, RA_SIZE, a->alg);
    os_meminfo_t info = heap_info(&heap_b);
    CHECK_EQ(info.mem_used, 0);
    heap_still_works(&heap_b, RA, RA_SIZE);
    heap_close(&heap_b);

    /* and the heap object can be initialised again */
    heap_open(&heap_a, "A again");
    heap_add_ok(&heap_a, RA, RA_SIZE, a->alg);
    heap_still_works(&heap_a, RA, RA_SIZE);
    heap_close(&heap_a);
    CHECK_REPORTS(0);
}

/* The first block's algorithm name, as a walk reports it. */
static int first_alg_cb(const struct os_memheap_block *b, void *arg)
{
    *(const char **)arg = b->alg;
    return 1;
}

/* OS_MEM_ALG_DEFAULT selects the first algorithm compiled in (os_memory.h). */
static void spec_default_alg(void)
{
    const char *alg = OS_NULL;

    check_context("OS_MEM_ALG_DEFAULT is the first algorithm compiled in");
    heap_open(&heap_a, "default");
    heap_add_ok(&heap_a, RA, RA_SIZE, OS_MEM_ALG_DEFAULT);
    CHECK_EQ(os_memheap_walk(&heap_a, first_alg_cb, &alg), OS_EOK);
    CHECKF(alg != OS_NULL && strcmp(alg, test_algs[0].name) == 0, "default region's algorithm: %s",
           alg != OS_NULL ? alg : "(none)");
    heap_close(&heap_a);
    CHECK_REPORTS(0);
}

/*
 * deinit, then init again on the same object without zeroing it first: the
 * heap starts afresh, its peak included (os_memheap_init resets the object).
 */
static void spec_reinit_unzeroed(const struct test_alg *a)
{
    check_context("%s: init again after deinit, object not zeroed", a->name);
    heap_open(&heap_a, "A");
    heap_add_ok(&heap_a, RA, RA_SIZE, a->alg);
    void *p = os_memheap_alloc(&heap_a, 1000);
    CHECK(p != OS_NULL);
    os_memheap_free(&heap_a, p);
    CHECK(os_memheap_alloc(&heap_a, 2 * RA_SIZE) == OS_NULL);  /* a failure, counted */
    CHECK(heap_info(&heap_a).mem_maxused > 0);
    CHECK_EQ(os_memheap_deinit(&heap_a), OS_EOK);
    CHECK_EQ(os_memheap_init(&heap_a, "A again"), OS_EOK);      /* no memset */
    os_meminfo_t info = heap_info(&heap_a);
    CHECK_EQ(info.mem_total, 0);
    CHECK_EQ(info.mem_used, 0);
    CHECK_EQ(info.mem_maxused, 0);
#ifdef OS_MEM_STATS
    os_memheap_stats_t st;
    memset(&st, 0, sizeof st);
    st.version = OS_MEMHEAP_STATS_VERSION;
    st.size = sizeof st;
    CHECK_EQ(os_memheap_get_stats(&heap_a, &st), OS_EOK);
    CHECK_EQ(st.failed_count, 0);
    CHECK_EQ(st.peak_request, 0);
#endif
    heap_close(&heap_a);
    CHECK_REPORTS(0);
}

#if TEST_BAD_OPS
/*
 * A block of heap B, whose region lies in a block of heap A, freed or
 * reallocated through A: it is not A's (A's block holds B's whole region),
 * so A reports it as foreign and neither heap changes, though the bytes
 * before it are a genuine block header of the same algorithm.
 */
static void spec_nested_block_through_host(const struct test_alg *a)
{
    check_context("%s: a nested heap's block freed through its host", a->name);
    heap_open(&heap_a, "A");
    heap_add_ok(&heap_a, RA, RA_SIZE, a->alg);
    unsigned char *blk = os_memheap_alloc(&heap_a, 8 * KiB);
    CHECK(blk != OS_NULL);
    heap_open(&heap_b, "B");
    heap_add_ok(&heap_b, blk, 8 * KiB, a->alg);
    unsigned char *p = os_memheap_alloc(&heap_b, 100);
    CHECK(p != OS_NULL);
    pat_fill(p, 7, 0, 100);
    os_meminfo_t ia = heap_info(&heap_a), ib = heap_info(&heap_b);
    hook_reset();
    os_memheap_free(&heap_a, p);
    CHECK_EQ(hook_count(), 1);
    CHECK_EQ(hook_last_code(), OS_EINVAL);
    CHECKF(hook_count() && strstr(hook_last_msg(), "not in this heap") != OS_NULL, "report: %s",
           hook_count() ? hook_last_msg() : "(none)");
    hook_reset();
    CHECK(os_memheap_realloc(&heap_a, p, 200) == OS_NULL);
    CHECK_EQ(hook_count(), 1);
    CHECKF(hook_count() && strstr(hook_last_msg(), "not in this heap") != OS_NULL, "report: %s",
           hook_count() ? hook_last_msg() : "(none)");
    hook_reset();
    CHECK(info_unchanged(&heap_a, &ia));
    CHECK(info_unchanged(&heap_b, &ib));
    CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);
    CHECK_EQ(os_memheap_check(&heap_b), OS_EOK);
    CHECK(os_memheap_usable_size(&heap_b, p) >= 100);
    CHECK(pat_ok(p, 7, 0, 100));
    os_memheap_free(&heap_b, p);
    heap_close(&heap_b);
    os_memheap_free(&heap_a, blk);
    heap_close(&heap_a);
    CHECK_REPORTS(0);
}
#endif

/*
 * Nested two deep, with the middle heap D made before the outer heap A: E's
 * region lies in a block of D, which lies in a block of A. E's host is the
 * innermost heap holding it, D, whichever heap was made first: so D cannot
 * be deinitialised while E is there, and can once E is gone.
 */
static void spec_nested_innermost(const struct test_alg *a)
{
    os_memheap_t d, outer, e;

    check_context("%s: nested two deep, the middle heap made first", a->name);
    heap_open(&d, "D");
    heap_open(&outer, "A");
    heap_add_ok(&outer, RA, RA_SIZE, a->alg);
    unsigned char *p = os_memheap_alloc(&outer, 8192);
    CHECK(p != OS_NULL);
    if (p)
    {
        heap_add_ok(&d, p, 8192, a->alg);
        unsigned char *r = os_memheap_alloc(&d, 1024);
        CHECK(r != OS_NULL);
        if (r)
        {
            heap_open(&e, "E");
            heap_add_ok(&e, r, 1024, a->alg);
            void *x = os_memheap_alloc(&e, 100);
            CHECK(x != OS_NULL && range_inside(x, 100, r, 1024));
            os_memheap_free(&e, x);
            os_meminfo_t id = heap_info(&d);
            CHECK_EQ(os_memheap_deinit(&d), OS_EBUSY);
            CHECK(info_unchanged(&d, &id));
            CHECK_REPORTS(1);
            heap_close(&e);
            os_memheap_free(&d, r);
        }
        CHECK_EQ(os_memheap_check(&d), OS_EOK);
    }
    heap_close(&d);
    os_memheap_free(&outer, p);
    CHECK_EQ(heap_info(&outer).mem_used, 0);
    heap_close(&outer);
    CHECK_REPORTS(0);
}

/* ---- the largest block ------------------------------------------------------------------------------------------------ */

/*
 * The largest request a fresh region serves, shrunk to one byte and grown
 * back: both in place, data kept. On buddy the same holds for an aligned
 * block, whose largest size is the largest block less its trailer.
 */
static void spec_largest_in_place(const struct test_alg *a)
{
    check_context("%s: the largest block shrunk and grown back", a->name);
    heap_open(&heap_a, "A");
    heap_add_ok(&heap_a, WORK, 64 * KiB, a->alg);
    hook_reset();
    size_t big = heap_largest_alloc(&heap_a);
    unsigned char *p = os_memheap_alloc(&heap_a, big);
    CHECKF(p != OS_NULL, "alloc(%zu)", big);
    if (p)
    {
        pat_fill(p, 21, 0, 64);
        CHECK_PTR_EQ(os_memheap_realloc(&heap_a, p, 1), p);
        CHECK_PTR_EQ(os_memheap_realloc(&heap_a, p, big), p);
        CHECK_EQ(os_memheap_usable_size(&heap_a, p), big);
        CHECK(pat_ok(p, 21, 0, 1));
        CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);
        os_memheap_free(&heap_a, p);
    }
    /* (from usable sizes: a tail canary level reports the size asked instead) */
    if (strcmp(a->name, "buddy") == 0 && OS_MEM_HARDENING < 2)
    {
        const size_t al = 2 * OS_MEM_ALIGN_SIZE;    /* above the default: an aligned block */
        unsigned char *s = os_memheap_aligned_alloc(&heap_a, al, 1);
        CHECK(s != OS_NULL);
        size_t trailer = s ? block_total(&heap_a, s) - os_memheap_usable_size(&heap_a, s) : 0;
        os_memheap_free(&heap_a, s);
        size_t abig = big + OS_MEM_ALIGN_SIZE - trailer;
        check_context("%s: aligned(%zu, %zu), the largest block", a->name, al, abig);
        unsigned char *q = os_memheap_aligned_alloc(&heap_a, al, abig);
        CHECK(q != OS_NULL);
        if (q)
        {
            CHECK_EQ(os_memheap_usable_size(&heap_a, q), abig);
            pat_fill(q, 22, 0, 64);
            CHECK_PTR_EQ(os_memheap_realloc(&heap_a, q, 1), q);
            CHECK_PTR_EQ(os_memheap_realloc(&heap_a, q, abig), q);
            CHECK(pat_ok(q, 22, 0, 1));
            CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);
            os_memheap_free(&heap_a, q);
        }
        CHECK(os_memheap_aligned_alloc(&heap_a, al, abig + 1) == OS_NULL);
    }
    CHECK_EQ(heap_info(&heap_a).mem_used, 0);
    CHECK_REPORTS(0);
    heap_close(&heap_a);
}

/*
 * First-fit: a block above 256 KiB. A 4-byte header (16-bit words, the
 * default on 32-bit targets) cannot describe it: the region is managed in
 * pieces of 256 KiB and the request is refused. With 8-byte headers
 * (64-bit targets, or OS_MEM_FF_WIDE_HEADER) it is served.
 */
static void spec_large_block(const struct test_alg *a)
{
    if (strcmp(a->name, "firstfit") != 0)
        return;
    check_context("%s: a 400 KiB block in a 512 KiB region", a->name);
    heap_open(&heap_a, "A");
    heap_add_ok(&heap_a, WORK, 512 * KiB, a->alg);
    hook_reset();
    unsigned char *p = os_memheap_alloc(&heap_a, 400 * KiB);
    /* 16-bit header words manage pieces of 2^15 chunks: 256 KiB of 8-byte chunks, 512 KiB of 16-byte ones */
#if TEST_FF_WORD == 4 || OS_MEM_ALIGN_SIZE >= 16
    CHECK(p != OS_NULL);
    if (p)
    {
        pat_fill(p, 23, 0, 400 * KiB);
        CHECK_EQ(os_memheap_usable_size(&heap_a, p) >= 400 * KiB, 1);
        CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);
        CHECK(pat_ok(p, 23, 0, 400 * KiB));
        os_memheap_free(&heap_a, p);
    }
    CHECK_REPORTS(0);
#else
    CHECK(p == OS_NULL);
    hook_reset();
#endif
    CHECK_EQ(heap_info(&heap_a).mem_used, 0);
    heap_close(&heap_a);
}

/*
 * Buddy: a block of two units whose upper buddy was split into two
 * one-unit blocks, both freed (they wait unmerged in the quick list of
 * their order). Grown to four units, it grows in place: the freed halves
 * are merged back first, the lower one included.
 */
static void spec_buddy_grow_over_freed_halves(const struct test_alg *a)
{
    /* (the unit is found from a usable size, which a tail canary level reports as the size asked) */
    if (strcmp(a->name, "buddy") != 0 || OS_MEM_HARDENING >= 2)
        return;
    check_context("%s: grow in place over two freed one-unit blocks", a->name);
    heap_open(&heap_a, "A");
    heap_add_ok(&heap_a, WORK, 64 * KiB, a->alg);
    hook_reset();
    const size_t h = OS_MEM_ALIGN_SIZE;
    unsigned char *one = os_memheap_alloc(&heap_a, 1);
    size_t unit = one ? os_memheap_usable_size(&heap_a, one) + h : 0;
    os_memheap_free(&heap_a, one);
    /* four units shrunk to two: the upper two are one free block; one-unit requests
     * take the smaller free blocks first, then split that one */
    unsigned char *p = os_memheap_alloc(&heap_a, 4 * unit - h);
    CHECK(p != OS_NULL && unit != 0);
    CHECK_PTR_EQ(os_memheap_realloc(&heap_a, p, 2 * unit - h), p);
    unsigned char *lo = OS_NULL, *hi = OS_NULL, *x, *extra[256];
    size_t nextra = 0;
    while (p && nextra < 256 && (!lo || !hi) && (x = os_memheap_alloc(&heap_a, unit - h)) != OS_NULL)
    {
        if (x == p + 2 * unit)
            lo = x;
        else if (x == p + 3 * unit)
            hi = x;
        else
            extra[nextra++] = x;
    }
    CHECK(lo && hi);
    if (lo && hi)
    {
        pat_fill(p, 23, 0, 2 * unit - h);
        os_memheap_free(&heap_a, lo);
        os_memheap_free(&heap_a, hi);
        unsigned char *g = os_memheap_realloc(&heap_a, p, 4 * unit - h);
        CHECK_PTR_EQ(g, p);
        if (g)
            p = g;
        CHECK(pat_ok(p, 23, 0, 2 * unit - h));
        CHECK_EQ(os_memheap_usable_size(&heap_a, p), 4 * unit - h);
        CHECK_EQ(os_memheap_check(&heap_a), OS_EOK);
    }
    else
    {
        os_memheap_free(&heap_a, lo);
        os_memheap_free(&heap_a, hi);
    }
    os_memheap_free(&heap_a, p);
    for (size_t k = 0; k < nextra; k++)
        os_memheap_free(&heap_a, extra[k]);
    CHECK_EQ(heap_info(&heap_a).mem_used, 0);
    CHECK_REPORTS(0);
    heap_close(&heap_a);
}

#if TEST_BAD_OPS /* refusals */

/* ---- uninitialised and NULL heaps ------------------------------------------------------------------------------------------------ */

static void refused_everywhere(os_memheap_t *h, const char *what)
{
    check_context("calls on %s", what);
    hook_reset();
    /* each call is refused with one report; a free of OS_NULL is a no-op, reported or not */
    CHECK_EQ(os_memheap_add(h, WORK, 8 * KiB, test_algs[0].alg), OS_EINVAL);
    CHECK_REPORTS(1);
    CHECK(os_memheap_alloc(h, 16) == OS_NULL);
    CHECK_REPORTS(1);
    CHECK(os_memheap_aligned_alloc(h, 64, 16) == OS_NULL);
    CHECK_REPORTS(1);
    CHECK(os_memheap_realloc(h, OS_NULL, 16) == OS_NULL);
    CHECK_REPORTS(1);
    CHECK(os_memheap_realloc(h, foreign_buf + 64, 16) == OS_NULL);
    CHECK_REPORTS(1);
    os_memheap_free(h, OS_NULL);
    hook_reset();
#if TEST_BAD_OPS
    os_memheap_free(h, foreign_buf + 64);
    CHECK_REPORTS(1);
#endif
    os_meminfo_t info;
    memset(&info, 0xA5, sizeof info);
    os_memheap_info(h, &info);
    CHECK(info.mem_total == 0 && info.mem_used == 0 && info.mem_maxused == 0);     /* info fills in zeros */
    CHECK_REPORTS(1);
    CHECK(os_memheap_check(h) != OS_EOK);
    CHECK_REPORTS(1);
    CHECK(os_memheap_trace(h) != OS_EOK);
    CHECK_REPORTS(1);
    CHECK_EQ(os_memheap_usable_size(h, foreign_buf + 64), 0);
    CHECK_REPORTS(1);
    CHECK_EQ(os_memheap_deinit(h), OS_EINVAL);
    CHECK_REPORTS(1);
    hook_reset();
    /* the region was not taken */
    os_memheap_t t;
    heap_open(&t, "t");
    heap_add_ok(&t, WORK, 8 * KiB, test_algs[0].alg);
    heap_close(&t);
}

/* A walk without a callback on a sound heap: refused, and the report names the heap. */
static void spec_walk_null_named(void)
{
    check_context("walk without a callback");
    heap_open(&heap_a, "named");
    hook_reset();
    CHECK_EQ(os_memheap_walk(&heap_a, OS_NULL, OS_NULL), OS_EINVAL);
    CHECK_EQ(hook_count(), 1);
    char quoted[OS_NAME_MAX + 3];
    snprintf(quoted, sizeof quoted, "'%s'", heap_a.name);   /* "named", cut to OS_NAME_MAX */
    CHECKF(hook_count() && strstr(hook_last_msg(), quoted) != OS_NULL, "report: %s",
           hook_count() ? hook_last_msg() : "(none)");
    hook_reset();
    heap_close(&heap_a);
    /* info with nothing to fill: reported */
    os_memheap_info(&heap_a, OS_NULL);
    CHECK_REPORTS(1);
    /* a report without a heap names it "-" */
    CHECK(os_memheap_alloc(OS_NULL, 16) == OS_NULL);
    CHECK_EQ(hook_count(), 1);
    CHECKF(hook_count() && strstr(hook_last_msg(), "heap '-'") != OS_NULL, "report: %s",
           hook_count() ? hook_last_msg() : "(none)");
    hook_reset();
}

static void spec_uninit(void)
{
    static os_memheap_t never_inited;
    refused_everywhere(&never_inited, "an uninitialised heap");
    refused_everywhere(OS_NULL, "a NULL heap");
    os_memheap_t h;
    heap_open(&h, "closed");
    heap_add_ok(&h, WORK, 8 * KiB, test_algs[0].alg);    /* one region: the idle ports' fast paths */
    CHECK_EQ(os_memheap_deinit(&h), OS_EOK);
    refused_everywhere(&h, "a deinitialised heap");
}

#endif /* TEST_BAD_OPS */

int main(void)
{
    hook_install();
#ifdef OS_USING_SYS_HEAP
    os_sys_heap_init();
    CHECK_EQ(os_sys_heap_add(sys_buf + SR_OFF, SR_SIZE, test_algs[0].alg), OS_EOK);
#endif
#if TEST_BAD_OPS
    spec_init();
    spec_wiped_heap_objects();
    spec_unknown_alg();
    spec_uninit();
    spec_walk_null_named();
#else
    printf("OS_MEM_ERROR_ASSERT build: every report asserts, refusal rows not tested\n");
#endif
    spec_default_alg();
    for (unsigned i = 0; i < test_nalgs; i++)
    {
        const struct test_alg *a = &test_algs[i];
#if TEST_BAD_OPS
        spec_overlap(a);
        spec_nested(a);
        spec_nested_block_through_host(a);
        spec_too_small(a);
#endif
        spec_no_false_failure(a);
        spec_search_bound(a);
        spec_grow_into_freed(a);
        spec_deinit(a);
        spec_reinit_unzeroed(a);
        spec_nested_innermost(a);
        spec_largest_in_place(a);
        spec_large_block(a);
        spec_buddy_grow_over_freed_halves(a);
    }
    for (unsigned i = 0; i < test_layout_count(); i++)
    {
        const struct test_layout *l = test_layout_get(i);
        spec_zero_and_null(l);
        spec_realloc(l);
        spec_aligned(l);
#if TEST_BAD_OPS
        spec_overflow(l);
        spec_bad_free(l);
#endif
        spec_check_trace(l);
        spec_stats(l);
    }
#ifdef OS_USING_SYS_HEAP
    check_context("sys heap at the end");
    os_meminfo_t info;
    os_memory_info(&info);
    CHECK_EQ(info.mem_used, 0);
    CHECK_EQ(os_memory_check(), OS_EOK);
#endif
    hook_uninstall();
    return check_summary("test_spec");
}
