/*
 * test_heap_list.c - the list of heaps after heap objects were wiped
 * without os_memheap_deinit, when the mend cannot tell what it dropped.
 *
 * Heaps A, B and C are in the list in that order; A and C are wiped. The
 * next call that walks the list joins its two ends that still agree, and
 * B, a live heap, leaves the list with A and C (its links lead only to
 * them). The overlap rule then no longer sees B's region, so another heap
 * or a pool could be given B's memory and both would hand out the same
 * bytes. The library has to say so and claim no memory from then on: this
 * test checks that an add over B's region, an add anywhere else and a pool
 * init are refused and reported, and that B keeps working and keeps what
 * it handed out.
 *
 * Also a live heap with both its list links overwritten (argument
 * "links"), null links around a live heap ("nulls"), a set-back heap object
 * and a wiped one ("twice"), a nested heap's object filled with the byte
 * that says "initialised" ("junk"), and the same for the list of pools
 * ("pools"); and first, breaks the mend names exactly, a nested heap's
 * object overwritten, and deinits past a broken list or seal. Each
 * case runs in a
 * process of its own: the refusals hold for the rest of the process. (The
 * cases a mend names exactly, one wiped object or one overwritten link,
 * are in test_spec and test_mempool, which go on after them.)
 */
#include <string.h>

#include "common.h"

#if !TEST_BAD_OPS
int main(void)
{
    return TEST_SKIP_CODE;
}
#else

#ifdef OS_USING_MEM_POOL
#include <os_mempool.h>
#endif

#define REG (8 * 1024)

static _Alignas(64) unsigned char mem[4][REG];
static os_memheap_t a, b, c, d, nh;

/* Heap b, whose region is mem[1], checks clean and serves from that region. */
static void heap_still_works(os_memheap_t *h)
{
    void *q;

    CHECK_EQ(os_memheap_check(h), OS_EOK);
    q = os_memheap_alloc(h, 200);
    CHECK(q != OS_NULL);
    CHECK((unsigned char *)q >= mem[1] && (unsigned char *)q + 200 <= mem[1] + REG);
    os_memheap_free(h, q);
    CHECK_EQ(os_memheap_check(h), OS_EOK);
    CHECK_REPORTS(0);
}

/* Heaps a, b (its region mem[1]) and c, in the list in that order. */
static void open_abc(void)
{
    heap_open(&a, "a");
    heap_open(&b, "b");
    heap_add_ok(&b, mem[1], REG, test_algs[0].alg);
    heap_open(&c, "c");
}

/*
 * After a break of the list that may have lost b: the next init (of d)
 * says so, b's region is not given to d, and b keeps working.
 */
static void b_may_be_lost(void)
{
    CHECK_EQ(os_memheap_init(&d, "d"), OS_EOK);
    CHECKF(TEST_SMALL_TEXTS || hook_seen("no region or pool can be added"), "report: %s", hook_last_msg());
    CHECK_REPORTS(1);
    CHECK_EQ(os_memheap_add(&d, mem[1], REG, test_algs[0].alg), OS_EINVAL);
    CHECK_REPORTS(1);
    heap_still_works(&b);
}

/*
 * Breaks the mend names exactly (nothing live is dropped, so memory is
 * still claimed afterwards), each repaired: a heap object set back to an
 * old copy of itself that says it is the last one (the walk from the front
 * reaches the head early; the head names the real last heap), and a heap
 * whose prev link names the head though it is not first (the walk from
 * the back must not take the head for a heap object).
 */
static void exact_mends(void)
{
    enum os_mem_alg alg = test_algs[0].alg;
    os_memheap_t saved;

    check_context("a heap object set back to an old copy of itself");
    heap_open(&a, "a");
    saved = a;              /* a is last: its next link is the head */
    heap_open(&b, "b");
    heap_add_ok(&b, mem[1], REG, alg);
    a = saved;
    heap_open(&d, "d");     /* reported; b is linked again after a */
    CHECK_REPORTS(1);
    CHECK_EQ(os_memheap_add(&d, mem[1], REG, alg), OS_EINVAL);     /* b's region is seen */
    CHECK_REPORTS(1);
    heap_add_ok(&d, mem[3], REG, alg);
    heap_still_works(&b);
    heap_close(&d);
    heap_close(&b);
    heap_close(&a);
    CHECK_REPORTS(0);

    check_context("a heap whose prev link names the head");
    heap_open(&a, "a");
    heap_open(&b, "b");
    heap_add_ok(&b, mem[1], REG, alg);
    heap_open(&c, "c");
    c.resource_node.prev = a.resource_node.prev;
    heap_open(&d, "d");
    CHECK_REPORTS(1);
    CHECK_EQ(os_memheap_add(&d, mem[1], REG, alg), OS_EINVAL);
    CHECK_REPORTS(1);
    heap_add_ok(&d, mem[3], REG, alg);
    heap_close(&d);
    heap_close(&c);
    heap_close(&b);
    heap_close(&a);
    CHECK_REPORTS(0);
}

/*
 * A heap object overwritten (not with zeros) while its region lies in a
 * block of another heap: its lock word is junk, and no call may wait for
 * it, also when the byte that says "initialised" still says so (fill
 * 0x55: run on its own, as the mend then counts it as a live heap lost). A deinit of a heap whose region follows it in the host's list of
 * nested regions, and the host's free of the block that holds it, return
 * (the free is refused: that region is not known to be idle). The old
 * library spun for ever on that lock in the free (at hardening tail and
 * full, in the deinit too).
 */
static void overwritten_nested_heap(int fill)
{
    static _Alignas(64) unsigned char host_mem[16 * 1024];
    static os_memheap_t h, x, y;
    enum os_mem_alg alg = test_algs[0].alg;
    os_meminfo_t before;
    void *b1, *b2;

    check_context("a nested heap's object overwritten");
    heap_open(&h, "h");
    heap_add_ok(&h, host_mem, sizeof host_mem, alg);
    b1 = os_memheap_alloc(&h, 2000);
    b2 = os_memheap_alloc(&h, 2000);
    CHECK(b1 != OS_NULL && b2 != OS_NULL);
    if (b1 == OS_NULL || b2 == OS_NULL)
    {
        return;
    }
    heap_open(&y, "y");
    heap_open(&x, "x");
    heap_add_ok(&y, b1, 2000, alg);
    heap_add_ok(&x, b2, 2000, alg);     /* x's region comes first in h's list of nested regions */
    memset(&x, fill, sizeof x);
    if (fill != 0x55)
    {
        CHECK_EQ(os_memheap_deinit(&y), OS_EOK);
        CHECK_REPORTS(1);               /* x, taken out of the list of heaps */
        os_memheap_free(&h, b1);        /* y's region went with y: an ordinary free */
        CHECK_REPORTS(0);
    }
    else
    {
        /* x still says "initialised": taken out of the list, it may be a live
         * heap lost with it, so y (nested) is not deinitialised first */
        CHECK_EQ(os_memheap_deinit(&y), OS_EBUSY);
        CHECK_REPORTS(2);
        os_memheap_free(&h, b1);        /* takes y's idle region away */
        CHECK_REPORTS(0);
        CHECK_EQ(os_memheap_deinit(&y), OS_EOK);
    }
    before = heap_info(&h);
    os_memheap_free(&h, b2);
    CHECK_REPORTED();
    CHECK(info_unchanged(&h, &before));
    CHECK_EQ(os_memheap_check(&h), OS_EOK);
    CHECK_REPORTS(0);
}

/*
 * A heap wiped while its region, in another heap's block, holds a block,
 * then initialised again, and deinitialised with its (new) list of regions
 * broken: the old region is not taken out of the host's list of nested
 * regions (nothing tells it from one of the new life's past the break), so
 * the host keeps that block. The library before took out every region
 * naming the object, and the host then handed the block out again.
 */
static void reinit_broken_deinit(void)
{
    static _Alignas(64) unsigned char host_mem[16 * 1024], r2[4096], r3[4096];
    static os_memheap_t h, n;
    enum os_mem_alg alg = test_algs[0].alg;
    os_meminfo_t before;
    unsigned char *blk, *p;

    check_context("a heap initialised again, deinitialised with a broken list");
    heap_open(&h, "h");
    heap_add_ok(&h, host_mem, sizeof host_mem, alg);
    blk = os_memheap_alloc(&h, 4000);
    CHECK(blk != OS_NULL);
    if (blk == OS_NULL)
    {
        return;
    }
    heap_open(&n, "n");
    heap_add_ok(&n, blk, 4000, alg);
    p = os_memheap_alloc(&n, 200);
    CHECK(p != OS_NULL);
    memset(&n, 0, sizeof n);
    heap_open(&n, "n again");
    CHECK_REPORTS(1);                   /* the wiped object */
    heap_add_ok(&n, r2, sizeof r2, alg);
    heap_add_ok(&n, r3, sizeof r3, alg);
    test_poke(r2, 0x41, sizeof(void *));       /* r2's link to r3 */
    CHECK_EQ(os_memheap_deinit(&n), OS_EOK);
    CHECK_REPORTED();
    before = heap_info(&h);
    os_memheap_free(&h, blk);           /* the old region, holding p, is still in it */
    CHECK_REPORTED();
    CHECK(info_unchanged(&h, &before));
    CHECK_EQ(os_memheap_check(&h), OS_EOK);
    CHECK_REPORTS(0);
}

#if OS_MEM_HARDENING >= 2
/*
 * Hardening tail and full: the control block of heap n's region, nested
 * in a block of h, fails its seal (one byte changed), and n is
 * deinitialised. The region stays in h's list of nested regions, and the
 * regions after it (m's, which holds a block) with it: the library before
 * cut h's list there, and h then freed m's host block while m served from
 * it.
 */
static void unsealed_nested_deinit(void)
{
    static _Alignas(64) unsigned char host_mem[16 * 1024];
    static os_memheap_t h, m, n;
    enum os_mem_alg alg = test_algs[0].alg;
    os_meminfo_t before;
    unsigned char *bm, *bn, *pm;

    check_context("a nested region's control block fails its seal, its heap deinitialised");
    heap_open(&h, "h");
    heap_add_ok(&h, host_mem, sizeof host_mem, alg);
    bm = os_memheap_alloc(&h, 4000);
    bn = os_memheap_alloc(&h, 4000);
    CHECK(bm != OS_NULL && bn != OS_NULL);
    if (bm == OS_NULL || bn == OS_NULL)
    {
        return;
    }
    heap_open(&m, "m");
    heap_open(&n, "n");
    heap_add_ok(&m, bm, 4000, alg);
    heap_add_ok(&n, bn, 4000, alg);     /* n's region comes first in h's list */
    pm = os_memheap_alloc(&m, 200);
    CHECK(pm != OS_NULL);
    bn[7 * sizeof(void *)] ^= 1;        /* a byte of the control block the seal covers (its total) */
    CHECK_EQ(os_memheap_deinit(&n), OS_EOK);
    CHECK_REPORTED();
    before = heap_info(&h);
    os_memheap_free(&h, bm);            /* m's region, holding pm, is in it */
    CHECK_REPORTED();
    CHECK(info_unchanged(&h, &before));
    os_memheap_free(&m, pm);
    CHECK_REPORTS(0);
}
#endif

/*
 * A heap object set back to an old copy of itself that says it is the
 * last one, and the last heap wiped: the head names neither end the walks
 * reached, so the heap between them may be lost. No memory is claimed
 * from then on. (Each misuse alone is mended exactly: exact_mends().)
 */
static int twice_lost(void)
{
    enum os_mem_alg alg = test_algs[0].alg;
    os_memheap_t saved;

    check_context("a set-back heap object and a wiped one");
    heap_open(&a, "a");
    saved = a;
    heap_open(&b, "b");
    heap_add_ok(&b, mem[1], REG, alg);
    heap_open(&c, "c");
    a = saved;
    memset(&c, 0, sizeof c);
    b_may_be_lost();
    return check_summary("test_heap_list twice");
}

/*
 * Two links overwritten with null, the next of one heap and the prev of
 * another, with a live heap between them: both ends of the break are null,
 * which says nothing of what lay between. No memory is claimed from then
 * on, so the region of the heap between is not given away.
 */
static int nulls_lost(void)
{
    check_context("null links around a live heap");
    open_abc();
    a.resource_node.next = OS_NULL;
    c.resource_node.prev = OS_NULL;
    b_may_be_lost();
    return check_summary("test_heap_list nulls");
}

static int heaps_lost(void)
{
    enum os_mem_alg alg = test_algs[0].alg;
    os_meminfo_t before;
    unsigned char *p, *nb;

    check_context("a live heap between two wiped ones");
    heap_open(&a, "a");
    heap_add_ok(&a, mem[0], REG, alg);
    heap_open(&b, "b");
    heap_add_ok(&b, mem[1], REG, alg);
    heap_open(&c, "c");
    heap_add_ok(&c, mem[2], REG, alg);
    p = os_memheap_alloc(&b, 100);
    nb = os_memheap_alloc(&b, 1000);
    CHECK(p != OS_NULL && nb != OS_NULL);
    if (p == OS_NULL || nb == OS_NULL)
    {
        return check_summary("test_heap_list");
    }
    memset(p, 0x5B, 100);
    heap_open(&nh, "n");
    heap_add_ok(&nh, nb, 1000, alg);    /* heap n's region lies in a block of b */
    before = heap_info(&b);
    memset(&a, 0, sizeof a);
    memset(&c, 0, sizeof c);

    /* the init walks the list: the break is reported once, with what follows from it */
    CHECK_EQ(os_memheap_init(&d, "d"), OS_EOK);
    CHECKF(TEST_SMALL_TEXTS || (hook_seen("broken") && hook_seen("no region or pool can be added")),
           "report: %s", hook_last_msg());
    CHECK_REPORTS(1);

    /* B's memory is not given away, nor any other: the overlap rule cannot be trusted */
    CHECK_EQ(os_memheap_add(&d, mem[1], REG, alg), OS_EINVAL);
    CHECK_REPORTS(1);
    CHECK_EQ(os_memheap_add(&d, mem[3], REG, alg), OS_EINVAL);
    CHECKF(TEST_SMALL_TEXTS || hook_seen("lost from the broken list of heaps"), "report: %s", hook_last_msg());
    CHECK_REPORTS(1);
    CHECK(os_memheap_alloc(&d, 16) == OS_NULL);
    CHECK_REPORTS_AT_MOST(1);
#ifdef OS_USING_MEM_POOL
    {
        static os_mp_t mp;

        memset(&mp, 0, sizeof mp);
        CHECK(os_mp_init(&mp, "mp", mem[1], REG, 32) != OS_EOK);
        CHECK_REPORTED();
        CHECK(os_mp_init(&mp, "mp", mem[3], REG, 32) != OS_EOK);
        CHECK_REPORTED();
    }
#endif

    /* B itself keeps working and keeps its block */
    CHECK(info_unchanged(&b, &before));
    for (unsigned i = 0; i < 100; i++)
    {
        CHECK_EQ(p[i], 0x5B);
    }
    heap_still_works(&b);
    os_memheap_free(&b, p);
    CHECK_EQ(os_memheap_check(&b), OS_EOK);
    CHECK_REPORTS(0);
    /* n is not deinitialised while its region lies in a block of a heap the
     * list may have lost (its deinit would not find b to unlink the region
     * from b's list of nested regions); b's free of that block takes the
     * region away, and then n goes */
    CHECK_EQ(os_memheap_deinit(&nh), OS_EBUSY);
    CHECK_REPORTS(1);
    os_memheap_free(&b, nb);
    CHECK_REPORTS(0);
    CHECK_EQ(os_memheap_deinit(&nh), OS_EOK);
    CHECK_EQ(os_memheap_check(&b), OS_EOK);
    CHECK_EQ(heap_info(&b).mem_used, 0);
    /* and b is deinitialised as a heap, though no longer in the list */
    CHECK_EQ(os_memheap_deinit(&b), OS_EOK);
    CHECK_EQ(os_memheap_deinit(&d), OS_EOK);
    CHECK_REPORTS(0);
    return check_summary("test_heap_list heaps");
}

/*
 * A live heap whose two list links were both overwritten: the mend drops
 * it (neither end of the list leads to it any more), so its region is not
 * seen by the overlap rule either. Though one object lies between the two
 * ends, it is live: no memory is claimed from then on.
 */
static int links_lost(void)
{
    check_context("a live heap with both list links overwritten");
    open_abc();
    b.resource_node.next = OS_NULL;
    b.resource_node.prev = OS_NULL;
    b_may_be_lost();
    CHECK_EQ(os_memheap_deinit(&b), OS_EOK);
    heap_close(&a);
    heap_close(&c);
    heap_close(&d);
    CHECK_REPORTS(0);
    return check_summary("test_heap_list links");
}

#ifdef OS_USING_MEM_POOL
/*
 * The same for the list of pools: pools P0, P1 and P2, P1's memory in a
 * block of heap H; P0 and P2 wiped. P1 leaves the list with them, so H's
 * block could no longer be told to hold a pool: its free must be refused,
 * as must a pool init and a region add anywhere. P1 keeps working, and
 * once it is deinitialised H's block is freed.
 */
static int pools_lost(void)
{
    static os_mp_t p0, p1, p2, p3;
    static _Alignas(64) unsigned char pm[3][1024];
    enum os_mem_alg alg = test_algs[0].alg;
    os_meminfo_t before;
    void *blk, *x;

    check_context("a live pool between two wiped ones");
    heap_open(&a, "host");
    heap_add_ok(&a, mem[0], REG, alg);
    blk = os_memheap_alloc(&a, 1000);
    CHECK(blk != OS_NULL);
    if (blk == OS_NULL)
    {
        return check_summary("test_heap_list pools");
    }
    CHECK_EQ(os_mp_init(&p0, "p0", pm[0], sizeof pm[0], 32), OS_EOK);
    CHECK_EQ(os_mp_init(&p1, "p1", blk, 1000, 32), OS_EOK);
    CHECK_EQ(os_mp_init(&p2, "p2", pm[2], sizeof pm[2], 32), OS_EOK);
    x = os_mp_alloc(&p1, OS_NO_WAIT);
    CHECK(x != OS_NULL);
    CHECK_REPORTS(0);
    memset(&p0, 0, sizeof p0);
    memset(&p2, 0, sizeof p2);

    /* the next init walks the list: refused, and the break reported */
    CHECK(os_mp_init(&p3, "p3", pm[1], sizeof pm[1], 32) != OS_EOK);
    CHECKF(TEST_SMALL_TEXTS || (hook_seen("list of pools broken") && hook_seen("pools may be lost")),
           "report: %s", hook_last_msg());
    CHECKF(TEST_SMALL_TEXTS || hook_seen("a pool may have been lost"), "report: %s", hook_last_msg());
    CHECK_REPORTS(2);

    /* H's block holding P1 is not freed, and no region is added anywhere */
    before = heap_info(&a);
    os_memheap_free(&a, blk);
    CHECK_REPORTED();
    CHECK(info_unchanged(&a, &before));
    CHECK_EQ(os_memheap_add(&b, mem[2], REG, alg), OS_EINVAL);     /* b: not even initialised yet */
    CHECK_REPORTED();
    heap_open(&b, "b");
    CHECK_EQ(os_memheap_add(&b, mem[2], REG, alg), OS_EINVAL);
    CHECKF(TEST_SMALL_TEXTS || hook_seen("lost from the broken list of pools"), "report: %s", hook_last_msg());
    CHECK_REPORTS(1);

    /* P1 keeps working; deinitialised, it lets H's block go */
    os_mp_free(&p1, x);
    x = os_mp_alloc(&p1, OS_NO_WAIT);
    CHECK(x != OS_NULL && (unsigned char *)x >= (unsigned char *)blk && (unsigned char *)x < (unsigned char *)blk + 1000);
    os_mp_free(&p1, x);
    CHECK_EQ(os_mp_check(&p1), OS_EOK);
    CHECK_EQ(os_mp_trace(), OS_EOK);
    CHECK_REPORTS(0);
    CHECK_EQ(os_mp_deinit(&p1), OS_EOK);
    os_memheap_free(&a, blk);
    CHECK_REPORTS(0);
    CHECK_EQ(heap_info(&a).mem_used, 0);
    CHECK_EQ(os_memheap_check(&a), OS_EOK);
    heap_close(&a);
    heap_close(&b);
    return check_summary("test_heap_list pools");
}
#endif

int main(int argc, char **argv)
{
    int rc;

    hook_install();
    if (argc > 1 && strcmp(argv[1], "pools") == 0)
    {
#ifdef OS_USING_MEM_POOL
        rc = pools_lost();
#else
        rc = TEST_SKIP_CODE;
#endif
    }
    else if (argc > 1 && strcmp(argv[1], "links") == 0)
    {
        rc = links_lost();
    }
    else if (argc > 1 && strcmp(argv[1], "nulls") == 0)
    {
        rc = nulls_lost();
    }
    else if (argc > 1 && strcmp(argv[1], "twice") == 0)
    {
        rc = twice_lost();
    }
    else if (argc > 1 && strcmp(argv[1], "junk") == 0)
    {
        overwritten_nested_heap(0x55);
        rc = check_summary("test_heap_list junk");
    }
    else
    {
        exact_mends();
        overwritten_nested_heap(0xFF);
        reinit_broken_deinit();
#if OS_MEM_HARDENING >= 2
        unsealed_nested_deinit();
#endif
        rc = heaps_lost();
    }
    hook_uninstall();
    return rc;
}
#endif
