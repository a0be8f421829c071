/*
 * test_corrupt.c - deliberate misuse and corruption.
 *
 *  - bytes just before a live block (its header) overwritten with several
 *    patterns: os_memheap_check() returns OS_ERROR and reports, freeing the
 *    block is refused with a report, and nothing crashes afterwards;
 *  - a free block's links overwritten: check reports, later allocations never
 *    hand out memory outside the region or over a live block;
 *  - double frees, interior and foreign pointers over many block sizes: one
 *    report each, heap unchanged.
 * Every corruption case uses a fresh heap.
 */
#if defined(__unix__) || defined(__APPLE__)
#define _POSIX_C_SOURCE 200809L
#endif
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if !TEST_BAD_OPS && defined(OS_MEM_PORT_POSIX)
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#if TEST_BAD_OPS

#define KiB ((size_t)1024)

static _Alignas(64) unsigned char arena[256 * KiB];
static _Alignas(64) unsigned char foreign_buf[1024];    /* never part of a heap */

/*
 * Buddy's unit (its smallest block) and a block size above the orders its
 * quick lists keep (0..7), so that a freed block of it is listed at once.
 */
#define BD_UNIT_MIN ((size_t)(UINTPTR_MAX > 0xFFFFFFFFu ? 32 : 16))
#define BD_UNIT     (2 * (size_t)OS_MEM_ALIGN_SIZE > BD_UNIT_MIN ? 2 * (size_t)OS_MEM_ALIGN_SIZE : BD_UNIT_MIN)
#define BD_BIG      ((BD_UNIT << 8) > 8 * KiB ? (BD_UNIT << 8) : 8 * KiB)
#define BD_BIG_REQ  (BD_BIG * 3 / 4)    /* a request that takes a BD_BIG block */

/* Full level: where the freed-block pattern starts in a block (after its header and links; buddy's header is as long as the alignment). */
#define FILL_SKIP ((size_t)OS_MEM_ALIGN_SIZE + 8 > 32 ? (size_t)OS_MEM_ALIGN_SIZE + 8 : (size_t)32)

#define REG      (arena + 8)
#define REG_SIZE (32 * KiB)

static os_memheap_t heap;

static void open_fresh(enum os_mem_alg alg)
{
    heap_open(&heap, "corrupt");
    heap_add_ok(&heap, REG, REG_SIZE, alg);
    hook_reset();
}

/* xor v into the header-sized word at p (first-fit's header words, little-endian hosts). */
static void xor_word(unsigned char *p, uint32_t v, size_t width)
{
    uint32_t w = 0;
    test_unpoison(p, width);
    memcpy(&w, p, width);
    w ^= v;
    test_poke_bytes(p, &w, width);
}

/* After a corruption: keep using the heap; it may refuse or report, never crash. */
static void poke_around(unsigned char **live, size_t nlive, size_t live_size)
{
    static const size_t sizes[] = {64, 16, 200, 64, 1000, 8, 64, 3000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    {
        unsigned char *x = os_memheap_alloc(&heap, sizes[i]);
        if (!x)
            continue;
        CHECKF(range_inside(x, sizes[i], REG, REG_SIZE), "alloc returned %p outside the region",
               (void *)x);
        for (size_t k = 0; k < nlive; k++)
            CHECKF(!live[k] || !ranges_overlap(x, sizes[i], live[k], live_size),
                   "alloc returned %p over the live block %p", (void *)x, (void *)live[k]);
    }
    (void)os_memheap_check(&heap);
    hook_reset();
}

static int count_blocks(const struct os_memheap_block *b, void *arg)
{
    (void)b;
    ++*(size_t *)arg;
    return 0;
}

/*
 * Every byte of a region's control data (the region's control block and the
 * algorithm's, up to the first block's header) flipped in turn: check and
 * walk never crash, check reports a change of the control block's first
 * five words (next, ops, start, end, heap) every time, so do walk and trace
 * (for a byte of next and of ops), and the heap checks sound again once the
 * byte is back.
 */
static void control_data_corruption(const struct test_alg *a)
{
    unsigned char *b[6];

    open_fresh(a->alg);
    for (int i = 0; i < 6; i++)
    {
        b[i] = os_memheap_alloc(&heap, 40 + 100 * (size_t)i);
        CHECK(b[i] != OS_NULL);
    }
    os_memheap_free(&heap, b[1]);
    os_memheap_free(&heap, b[4]);
    size_t ctrl = (size_t)(b[0] - REG) - 16;     /* the first block's header is covered above */
    test_unpoison(REG, ctrl);                    /* a memory checker guards the control data */
    for (size_t off = 0; off < ctrl; off++)
    {
        check_context("%s: control data byte %zu of %zu flipped", a->name, off, ctrl);
        unsigned char saved = REG[off];
        unsigned char flipped = saved ^ 0x80u;
        test_poke_bytes(REG + off, &flipped, 1);
        os_err_t err = os_memheap_check(&heap);
        size_t nblocks = 0;
        os_err_t werr = os_memheap_walk(&heap, count_blocks, &nblocks);
        if (off < 5 * sizeof(void *))
        {
            CHECK_EQ(err, OS_ERROR);
            CHECK_EQ(werr, OS_ERROR);
        }
        if (off == 0 || off == sizeof(void *))
            CHECK_EQ(os_memheap_trace(&heap), OS_ERROR);
        test_poke_bytes(REG + off, &saved, 1);
        hook_reset();
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        CHECK_REPORTS(0);
    }
    for (int i = 0; i < 6; i++)
        if (i != 1 && i != 4)
            os_memheap_free(&heap, b[i]);
    CHECK_EQ(heap_info(&heap).mem_used, 0);
    heap_close(&heap);
}

/*
 * The heap object's statistics overwritten (used, total, or a peak below
 * used): check compares them with what the blocks say and reports each;
 * put back, the heap checks sound again.
 */
static void statistics_corruption(const struct test_alg *a)
{
    open_fresh(a->alg);
    unsigned char *p = os_memheap_alloc(&heap, 100), *q = os_memheap_alloc(&heap, 300);
    CHECK(p && q);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    for (int field = 0; field < 4; field++)
    {
        static const char *const names[] = {"used + 8", "used - 8", "total - 8", "peak below used"};
        check_context("%s: heap statistics overwritten: %s", a->name, names[field]);
        os_memheap_t saved = heap;
        switch (field)
        {
        case 0: heap.mem_used += 8; heap.mem_maxused += 8; break;
        case 1: heap.mem_used -= 8; break;
        case 2: heap.mem_total -= 8; break;
        default: heap.mem_maxused = heap.mem_used - 1; break;
        }
        hook_reset();
        CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
#ifndef OS_MEM_SMALL    /* (the small build's reports carry no detail) */
        CHECKF(hook_count() >= 1 && strstr(hook_last_msg(), "statistics") != NULL, "report: %s",
               hook_count() ? hook_last_msg() : "(none)");
#endif
        CHECK_REPORTED();
        heap.mem_used = saved.mem_used;
        heap.mem_maxused = saved.mem_maxused;
        heap.mem_total = saved.mem_total;
        hook_reset();
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        CHECK_REPORTS(0);
    }
    os_memheap_free(&heap, p);
    os_memheap_free(&heap, q);
    CHECK_EQ(heap_info(&heap).mem_used, 0);
    heap_close(&heap);
}

/*
 * A region's link overwritten to point back at an earlier region (an
 * overrun of the region before it can write just that): check, walk and
 * trace report it instead of going round for ever.
 */
static void region_link_loop(const struct test_alg *a)
{
    check_context("%s: the second region's link points back at the first", a->name);
    heap_open(&heap, "loop");
    heap_add_ok(&heap, REG, REG_SIZE, a->alg);
    heap_add_ok(&heap, REG + REG_SIZE, REG_SIZE, a->alg);
    hook_reset();
    void *first = REG, *saved;
    memcpy(&saved, REG + REG_SIZE, sizeof saved);
    test_poke_bytes(REG + REG_SIZE, &first, sizeof first);
    size_t nblocks = 0;
    CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
    CHECK_EQ(os_memheap_walk(&heap, count_blocks, &nblocks), OS_ERROR);
    CHECK_EQ(nblocks, 0);
    CHECK_EQ(os_memheap_trace(&heap), OS_ERROR);
    CHECK_REPORTS(3);
    test_poke_bytes(REG + REG_SIZE, &saved, sizeof saved);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    heap_close(&heap);
}

/*
 * The 8 bytes before a used block's payload (its header's size and check,
 * or buddy's info and seal) overwritten: walk and trace stop there with a
 * report on every algorithm (buddy finds blocks through its table, but a
 * block's state and owner come from its header), and check fails.
 */
static void walk_stops_at_header(const struct test_alg *a)
{
    unsigned char *b[3], saved[8], junk[8];

    check_context("%s: walk and trace meet an overwritten header", a->name);
    open_fresh(a->alg);
    for (int i = 0; i < 3; i++)
    {
        b[i] = os_memheap_alloc(&heap, 100);
        CHECK(b[i] != OS_NULL);
    }
    hook_reset();
    test_unpoison(b[1] - 8, 8);     /* (a memory checker guards the header) */
    memcpy(saved, b[1] - 8, 8);
    memset(junk, 0xFF, sizeof junk);
    test_poke_bytes(b[1] - 8, junk, 8);
    size_t nblocks = 0;
    CHECK_EQ(os_memheap_walk(&heap, count_blocks, &nblocks), OS_ERROR);
    CHECK_EQ(os_memheap_trace(&heap), OS_ERROR);
    CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
    CHECK_REPORTS(3);
    test_poke_bytes(b[1] - 8, saved, 8);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    /* one bit of the byte right before the block (its header's check or
     * seal, not its size): its state and owner cannot be trusted either */
    for (unsigned bit = 0; bit < 8; bit++)
    {
        junk[0] = (unsigned char)(saved[7] ^ (1u << bit));
        test_poke_bytes(b[1] - 1, junk, 1);
        nblocks = 0;
        CHECKF(os_memheap_walk(&heap, count_blocks, &nblocks) == OS_ERROR, "bit %u", bit);
        CHECKF(os_memheap_trace(&heap) == OS_ERROR, "bit %u", bit);
        CHECKF(os_memheap_check(&heap) == OS_ERROR, "bit %u", bit);
        CHECK_REPORTS(3);
        test_poke_bytes(b[1] - 1, saved + 7, 1);
    }
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    for (int i = 0; i < 3; i++)
        os_memheap_free(&heap, b[i]);
    CHECK_REPORTS(0);
    heap_close(&heap);
}

/*
 * The heap object's link to its first region overwritten with an address
 * outside every region (a stray write into the object): check, walk and
 * trace report it without following it.
 */
static void first_link_wild(const struct test_alg *a)
{
    check_context("%s: the heap object's link to its first region overwritten", a->name);
    heap_open(&heap, "wild");
    heap_add_ok(&heap, REG, REG_SIZE, a->alg);
    hook_reset();
    struct heap_mem *saved = heap.h_mem;
    size_t nblocks = 0;
    heap.h_mem = (struct heap_mem *)(void *)(REG + REG_SIZE + 4096);
    CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
    CHECK_EQ(os_memheap_walk(&heap, count_blocks, &nblocks), OS_ERROR);
    CHECK_EQ(nblocks, 0);
    CHECK_EQ(os_memheap_trace(&heap), OS_ERROR);
    CHECK_REPORTS(3);
    heap.h_mem = (struct heap_mem *)(uintptr_t)0x1000;
    CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
    heap.h_mem = (struct heap_mem *)(void *)(REG + 4);     /* inside the region, off the word grid */
    CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
    CHECK_REPORTS(2);
    heap.h_mem = saved;
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    heap_close(&heap);
}

/*
 * Fields of the first region's control block overwritten with values a flip
 * of one bit does not produce, each of which the list check must catch on
 * its own (check, walk and trace never follow the link or trust the region):
 * start moved one word down, total one word past the region, next pointing
 * inside its own region, next misaligned. Every report names the first
 * region's control block (the link is not followed), and the heap checks
 * sound once the word is back.
 */
static void region_control_fields(const struct test_alg *a)
{
    unsigned char *r1 = REG, *r2 = REG + REG_SIZE;
    enum { NEXT = 0, START = 2, TOTAL = 7 };
    static const char *const names[] = {"start one word down", "total one word past the region",
                                        "next inside its own region", "next misaligned"};

    heap_open(&heap, "fields");
    heap_add_ok(&heap, r1, REG_SIZE, a->alg);
    heap_add_ok(&heap, r2, REG_SIZE, a->alg);
    void *p = os_memheap_alloc(&heap, 100);
    CHECK(p != OS_NULL);
    test_unpoison(r1, 8 * sizeof(void *));
    for (int c = 0; c < 4; c++)
    {
        check_context("%s: region control block: %s", a->name, names[c]);
        int word = c == 0 ? START : c == 1 ? TOTAL : NEXT;
        uintptr_t saved, v;
        memcpy(&saved, r1 + word * sizeof(void *), sizeof saved);
        switch (c)
        {
        case 0: v = saved - sizeof(void *); break;
        case 1: v = (uintptr_t)REG_SIZE + sizeof(void *); break;
        case 2: v = (uintptr_t)(r1 + 16 * sizeof(void *)); break;
        default: v = (uintptr_t)r2 + 1; break;
        }
        test_poke_bytes(r1 + word * sizeof(void *), &v, sizeof v);
        hook_reset();
        size_t nblocks = 0;
        CHECK_EQ(os_memheap_walk(&heap, count_blocks, &nblocks), OS_ERROR);
        CHECK_EQ(nblocks, 0);
        CHECK_EQ(hook_count(), 1);
        CHECKF(hook_last_addr() == (const void *)r1, "report names %p, not the first region's control block %p",
               hook_last_addr(), (void *)r1);
        hook_reset();
        CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
        CHECK_REPORTED();
        test_poke_bytes(r1 + word * sizeof(void *), &saved, sizeof saved);
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        CHECK_REPORTS(0);
    }
    os_memheap_free(&heap, p);
    CHECK_EQ(heap_info(&heap).mem_used, 0);
    heap_close(&heap);
}

/*
 * A one-region heap hands any pointer to its algorithm: the first byte past
 * the region and the last byte before it are foreign (reported as not in
 * this heap), and the heap is unchanged.
 */
static void free_at_region_edges(const struct test_alg *a)
{
    check_context("%s: free of the first byte past the region and the byte before it", a->name);
    open_fresh(a->alg);
    unsigned char *p = os_memheap_alloc(&heap, 100);
    CHECK(p != OS_NULL);
    os_meminfo_t before = heap_info(&heap);
    unsigned char *edges[] = {REG + REG_SIZE, REG - 8};
    for (int i = 0; i < 2; i++)
    {
        hook_reset();
        os_memheap_free(&heap, edges[i]);
        CHECK_EQ(hook_count(), 1);
        CHECK_EQ(hook_last_code(), OS_EINVAL);
        CHECKF(hook_count() && strstr(hook_last_msg(), "not in this heap") != OS_NULL, "report: %s",
               hook_count() ? hook_last_msg() : "(none)");
    }
    hook_reset();
    CHECK(info_unchanged(&heap, &before));
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    os_memheap_free(&heap, p);
    CHECK_REPORTS(0);
    heap_close(&heap);
}

/* Allocate n blocks of bsize bytes from the heap, each filled with its pattern. All of them? */
static int alloc_patterned(unsigned char **b, int n, size_t bsize)
{
    int all = 1;
    for (int i = 0; i < n; i++)
    {
        b[i] = os_memheap_alloc(&heap, bsize);
        CHECK(b[i] != OS_NULL);
        if (b[i])
            pat_fill(b[i], (uint32_t)i, 0, bsize);
        else
            all = 0;
    }
    return all;
}

static void header_corruption(const struct test_alg *a)
{
    static const int patterns[] = {0xA5, 0x00, 0xFF, 0x41};
    static const size_t bsizes[] = {64, 24, 500};
    for (size_t bs = 0; bs < sizeof bsizes / sizeof bsizes[0]; bs++)
    for (size_t k = 1; k <= 32; k++)
    for (size_t pi = 0; pi < sizeof patterns / sizeof patterns[0]; pi++)
    {
        size_t bsize = bsizes[bs];
        check_context("%s: %zu bytes before a %zu-byte block set to 0x%02X", a->name, k, bsize,
                      patterns[pi]);
        open_fresh(a->alg);
        unsigned char *blk[3];
        for (int i = 0; i < 3; i++)
        {
            blk[i] = os_memheap_alloc(&heap, bsize);
            CHECK(blk[i] != OS_NULL);
        }
        if (!blk[0] || !blk[1] || !blk[2])
        {
            heap_close(&heap);
            continue;
        }
        unsigned char *b = blk[1];
        for (int i = 0; i < 3; i++)
            pat_fill(blk[i], (uint32_t)i, 0, bsize);
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        CHECK_REPORTS(0);

        unsigned char saved[32];
        test_unpoison(b - k, k);
        memcpy(saved, b - k, k);
        unsigned char want[32];
        memset(want, patterns[pi], k);
        if (memcmp(saved, want, k) == 0)
        {
            /* the pattern is already there: not a corruption */
            heap_close(&heap);
            continue;
        }
        test_poke(b - k, patterns[pi], k);

        os_err_t rc = os_memheap_check(&heap);
        CHECKF(rc == OS_ERROR, "check returned %ld; original bytes %02X %02X %02X %02X ...",
               (long)rc, saved[0], k > 1 ? saved[1] : 0, k > 2 ? saved[2] : 0,
               k > 3 ? saved[3] : 0);
        if (rc == OS_ERROR)
            CHECK_REPORTED();
        hook_reset();

        os_memheap_free(&heap, b);
        CHECKF(hook_count() >= 1, "freeing the block with the corrupt header was not reported");
        hook_reset();

        /* the neighbours' data was not touched by any of this (except
         * where the corrupted bytes reach into the left neighbour) */
        size_t a_keep = blk[0] < b - k ? (size_t)(b - k - blk[0]) : 0;
        CHECK(pat_ok(blk[0], 0, 0, a_keep < bsize ? a_keep : bsize));
        CHECK(pat_ok(blk[2], 2, 0, bsize));

        unsigned char *live[2] = {blk[0], blk[2]};
        poke_around(live, 2, bsize);
        os_memheap_free(&heap, blk[0]);
        os_memheap_free(&heap, blk[2]);
        (void)os_memheap_check(&heap);
        hook_reset();
        heap_close(&heap);
    }
}

/*
 * The bytes of a block before its payload, from a free block of the heap
 * (a used block's usable size leaves out a tail canary, a free one's not).
 */
static int find_header(const struct os_memheap_block *b, void *arg)
{
    if (!b->used)
        *(size_t *)arg = b->total - b->size;
    return 0;
}

/*
 * Where a free block's list links start, from its payload: buddy keeps
 * them in the first payload bytes; first-fit keeps its next link in the
 * header's last word (a header is 2 words, 3 with the owner word of trace
 * builds), its prev link in the owner word or the first payload word. The
 * heap must hold a free block.
 */
static size_t links_before(const struct test_alg *a)
{
    size_t header = 0;
    if (strcmp(a->name, "firstfit") != 0)
        return 0;
    (void)os_memheap_walk(&heap, find_header, &header);
#ifdef OS_USING_MEM_TRACE
    return header / 3;
#else
    return header / 2;
#endif
}

/*
 * Every single byte of a live block's header changed, one at a time, by
 * several masks: check reports it and free refuses the block with a report.
 * The header is what the block occupies before its payload (a walk says).
 * Every header is sealed (buddy) or carries a check (first-fit) that covers
 * all of its bytes, at every hardening level. A buddy header is 8 bytes;
 * with OS_MEM_ALIGN_SIZE above 8 the bytes before it are padding, which
 * nothing reads.
 */
static void header_bytes(const struct test_alg *a)
{
    static const unsigned masks[] = {0x01, 0x02, 0x10, 0x80, 0xFF, 0x5A};
    static const size_t bsizes[] = {24, 64, 500};
    size_t cases = 0, caught = 0;
    for (size_t bs = 0; bs < sizeof bsizes / sizeof bsizes[0]; bs++)
    for (size_t j = 1; j <= 32; j++)
    for (size_t m = 0; m < sizeof masks / sizeof masks[0]; m++)
    {
        size_t bsize = bsizes[bs];
        open_fresh(a->alg);
        unsigned char *blk[3];
        int all = alloc_patterned(blk, 3, bsize);
        size_t header = 0;
        (void)os_memheap_walk(&heap, find_header, &header);
        if (strcmp(a->name, "buddy") == 0 && header > 8)
            header = 8;
        if (!all || j > header)
        {
            heap_close(&heap);
            continue;
        }
        check_context("%s: byte %zu before a %zu-byte block (header %zu) ^ 0x%02X", a->name, j,
                      bsize, header, masks[m]);
        unsigned char *at = blk[1] - j;
        test_unpoison(at, 1);
        test_poke(at, *at ^ (int)masks[m], 1);
        os_err_t rc = os_memheap_check(&heap);
        hook_reset();
        os_memheap_free(&heap, blk[1]);
        size_t reports = hook_count();
        hook_reset();
        cases++;
        CHECKF(rc == OS_ERROR, "check returned %ld", (long)rc);
        CHECKF(reports >= 1, "freeing the block was not reported");
        caught += rc == OS_ERROR && reports >= 1;
        CHECK(pat_ok(blk[0], 0, 0, bsize));
        CHECK(pat_ok(blk[2], 2, 0, bsize));
        (void)os_memheap_check(&heap);
        hook_reset();
        heap_close(&heap);
    }
    printf("%s: %zu of %zu single-byte header changes caught\n", a->name, caught, cases);
    CHECK(cases > 0);
}

#if OS_MEM_HARDENING >= 2
/* Free the two neighbours; the heap is then sound, empty and silent. Closes it. */
static void close_sound(void *left, void *right)
{
    os_memheap_free(&heap, left);
    os_memheap_free(&heap, right);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    CHECK_EQ(heap_info(&heap).mem_used, 0);
    CHECK_REPORTS(0);
    heap_close(&heap);
}

/*
 * Tail canary: for many request sizes (plain and aligned), the first byte
 * past the requested bytes changed by several masks is caught by check, by
 * realloc and by free, every time; usable_size is the requested size; and
 * a block written exactly to its end is never reported.
 */
static void tail_overflow(const struct test_alg *a)
{
    static const unsigned masks[] = {0x01, 0x80, 0xFF};
    size_t cases = 0;
    for (size_t n = 1; n <= 300; n += (n < 40 ? 1 : 37))
    for (size_t al = 0; al <= 64; al += 64)
    for (size_t m = 0; m < sizeof masks / sizeof masks[0]; m++)
    {
        check_context("%s: %zu-byte block (align %zu), byte %zu ^ 0x%02X", a->name, n, al, n,
                      masks[m]);
        open_fresh(a->alg);
        unsigned char *left = os_memheap_alloc(&heap, 40);
        unsigned char *b = al ? os_memheap_aligned_alloc(&heap, al, n) : os_memheap_alloc(&heap, n);
        unsigned char *right = os_memheap_alloc(&heap, 40);
        CHECK(left && b && right);
        if (!left || !b || !right)
        {
            heap_close(&heap);
            continue;
        }
        CHECK_EQ(os_memheap_usable_size(&heap, b), n);
        memset(b, 0x5A, n);     /* right up to the end: fine */
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        CHECK_REPORTS(0);
        cases++;
        b[n] ^= (unsigned char)masks[m];
        CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
        CHECK_REPORTED();
        hook_reset();
        /* the canary gone, the core sees the most the block could hold: never its tail bytes */
        CHECKF(os_memheap_usable_size(&heap, b) >= n &&
               os_memheap_usable_size(&heap, b) + 4 + sizeof(size_t) < block_total(&heap, b),
               "usable %zu of a block of %zu bytes", os_memheap_usable_size(&heap, b), block_total(&heap, b));
        if (m == 1)
        {
            /* realloc finds it too, once (the block moves: the free that
             * follows does not report it again), and still serves the request */
            unsigned char *c = os_memheap_realloc(&heap, b, n + 100);
            CHECKF(hook_count() == 1, "realloc reported the overflow %lu times", (unsigned long)hook_count());
            hook_reset();
            CHECK(c != OS_NULL);
            if (c)
            {
                for (size_t i = 0; i < n; i++)
                    if (c[i] != 0x5A)
                    {
                        CHECKF(0, "byte %zu lost by realloc", i);
                        break;
                    }
                os_memheap_free(&heap, c);
                CHECK_REPORTS(0);
            }
        }
        else
        {
            os_memheap_free(&heap, b);
            CHECKF(hook_count() >= 1, "free did not report the overflow");
            CHECK(hook_last_addr() == b);
#ifndef OS_MEM_SMALL
            /* the report names the region, the block and its owner task */
            CHECKF(strstr(hook_last_msg(), "tail canary") && strstr(hook_last_msg(), "region") &&
                   strstr(hook_last_msg(), "task"), "report: %s", hook_last_msg());
#endif
            hook_reset();
        }
        close_sound(left, right);
    }
    printf("%s: %zu one-byte overflows past the block caught\n", a->name, cases);
    CHECK(cases > 0);
}
#endif

#if OS_MEM_HARDENING >= 3
/*
 * Full level: a write into a freed block, at every offset past the bytes
 * that hold the free block's header and links, is reported by check and,
 * when the memory is handed out again, by the alloc; the heap stays sound.
 * Without the write nothing is reported through a whole reuse cycle.
 */
static void use_after_free(const struct test_alg *a)
{
    static const size_t bsizes[] = {64, 200, 1000};
    size_t cases = 0;
    for (size_t bs = 0; bs < sizeof bsizes / sizeof bsizes[0]; bs++)
    for (size_t off = FILL_SKIP; off < bsizes[bs]; off += 13)
    {
        size_t bsize = bsizes[bs];
        check_context("%s: %zu-byte block written at offset %zu after free", a->name, bsize, off);
        open_fresh(a->alg);
        unsigned char *left = os_memheap_alloc(&heap, 48);
        unsigned char *b = os_memheap_alloc(&heap, bsize);
        unsigned char *right = os_memheap_alloc(&heap, 48);
        CHECK(left && b && right);
        if (!left || !b || !right)
        {
            heap_close(&heap);
            continue;
        }
        memset(b, 0x11, bsize);
        os_memheap_free(&heap, b);
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        CHECK_REPORTS(0);
        cases++;
        test_unpoison(b + off, 1);
        b[off] = 0x77;      /* the program still holds b and writes to it */
        CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
        CHECK(hook_count() >= 1);
#ifndef OS_MEM_SMALL
        CHECKF(hook_count() >= 1 && strstr(hook_last_msg(), "after free"), "report: %s",
               hook_count() ? hook_last_msg() : "(none)");
#endif
        hook_reset();
        /* the same memory handed out again: the alloc reports it */
        unsigned char *c = os_memheap_alloc(&heap, bsize);
        CHECK(c == b);
        CHECKF(hook_count() >= 1, "alloc of the written block was not reported");
        hook_reset();
        os_memheap_free(&heap, c);
        close_sound(left, right);
    }
    printf("%s: %zu writes after free caught\n", a->name, cases);
    CHECK(cases > 0);
}

/*
 * Full level: a realloc that grows a block in place over free memory
 * checks that memory as an alloc would: a byte written there (FILL_SKIP +
 * 28 bytes into the free block after a 100-byte block in a new region:
 * first-fit's top, or the free upper buddy of a block that is the lower
 * one of its pair) is reported by the realloc.
 */
static void use_after_free_grown_over(const struct test_alg *a)
{
    check_context("%s: free memory written, then taken by a realloc in place", a->name);
    open_fresh(a->alg);
    unsigned char *held[16] = { 0 }, *p = OS_NULL;
    for (unsigned i = 0; i < 16 && !p; i++)
    {
        held[i] = os_memheap_alloc(&heap, 100);
        /* buddy: the block is the lower one of its pair (its header is
         * OS_MEM_ALIGN_SIZE bytes), and the upper one is free and whole */
        size_t total = held[i] ? block_total(&heap, held[i]) : 0;
        uintptr_t start = (uintptr_t)held[i] - OS_MEM_ALIGN_SIZE;
        struct os_memheap_block upper = block_at(&heap, held[i] + total);
        if (held[i] && (strcmp(a->name, "buddy") != 0 ||
                        ((start & (2 * total - 1)) == 0 && !upper.used && upper.total == total)))
        {
            p = held[i];
            held[i] = OS_NULL;
        }
    }
    for (unsigned i = 0; i < 16; i++)
        os_memheap_free(&heap, held[i]);
    CHECK(p != OS_NULL);
    if (!p)
    {
        heap_close(&heap);
        return;
    }
    memset(p, 0x11, 100);
    /* past p's block and the header and links of the free block after it (180 with 8-byte alignment) */
    size_t header = 0;
    (void)os_memheap_walk(&heap, find_header, &header);
    const size_t at = block_total(&heap, p) - header + FILL_SKIP + 28;
    test_unpoison(p + at, 1);
    CHECK_EQ(p[at], 0xDA);
    p[at] = 0x77;
    hook_reset();
    unsigned char *q = os_memheap_realloc(&heap, p, at + 20);
    CHECK(q == p);
    CHECKF(hook_count() >= 1, "the realloc taking the written memory was not reported");
#ifndef OS_MEM_SMALL
    CHECKF(hook_count() >= 1 && strstr(hook_last_msg(), "after free") && strstr(hook_last_msg(), "realloc"),
           "report: %s", hook_count() ? hook_last_msg() : "(none)");
#endif
    hook_reset();
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);     /* the byte is in a live block now */
    os_memheap_free(&heap, q ? q : p);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    CHECK_REPORTS(0);
    heap_close(&heap);
}

/*
 * Full level: the pattern of a freed block starts FILL_SKIP bytes after
 * the block's start (the header and the free-list links come first: with
 * buddy, a header as long as the alignment, then 8 bytes of links). A
 * write into any of the first 8 bytes it covers is reported by check and,
 * when the memory is handed out again, by the alloc.
 */
static void use_after_free_first_bytes(const struct test_alg *a)
{
    static const size_t bsizes[] = {64, 200};
    for (size_t bs = 0; bs < sizeof bsizes / sizeof bsizes[0]; bs++)
    for (size_t k = 0; k < 8; k++)
    {
        size_t bsize = bsizes[bs];
        open_fresh(a->alg);
        unsigned char *left = os_memheap_alloc(&heap, 48);
        unsigned char *b = os_memheap_alloc(&heap, bsize);
        unsigned char *right = os_memheap_alloc(&heap, 48);
        CHECK(left && b && right);
        if (!left || !b || !right)
        {
            heap_close(&heap);
            continue;
        }
        memset(b, 0x11, bsize);
        os_memheap_free(&heap, b);
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        CHECK_REPORTS(0);
        size_t header = 0;      /* the bytes from the block's start to its payload */
        (void)os_memheap_walk(&heap, find_header, &header);
        CHECK(header > 0 && header <= FILL_SKIP);
        size_t off = FILL_SKIP - header + k;
        check_context("%s: %zu-byte block written at payload offset %zu (block byte %zu) after free", a->name,
                      bsize, off, FILL_SKIP + k);
        test_unpoison(b + off, 1);
        CHECK_EQ(b[off], 0xDA);     /* the pattern covers it */
        b[off] = 0x77;
        CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
        CHECK_REPORTED();
        unsigned char *c = os_memheap_alloc(&heap, bsize);
        CHECK(c == b);
        CHECKF(hook_count() >= 1, "alloc of the block written at offset %zu was not reported", off);
#ifndef OS_MEM_SMALL
        CHECKF(hook_count() >= 1 && strstr(hook_last_msg(), "after free") && strstr(hook_last_msg(), "alloc"),
               "report: %s", hook_count() ? hook_last_msg() : "(none)");
#endif
        hook_reset();
        os_memheap_free(&heap, c);
        close_sound(left, right);
    }
}
#endif

static void free_link_corruption(const struct test_alg *a)
{
    static const size_t bsizes[] = {64, 200, 1000};
    for (size_t bs = 0; bs < sizeof bsizes / sizeof bsizes[0]; bs++)
    for (int pat = 0; pat < 5; pat++)
    {
        size_t bsize = bsizes[bs];
        check_context("%s: links of a free %zu-byte block overwritten (pattern %d)", a->name, bsize,
                      pat);
        open_fresh(a->alg);
        unsigned char *blk[5];
        for (int i = 0; i < 5; i++)
        {
            blk[i] = os_memheap_alloc(&heap, bsize);
            CHECK(blk[i] != OS_NULL);
        }
        if (!blk[0] || !blk[1] || !blk[2] || !blk[3] || !blk[4])
        {
            heap_close(&heap);
            continue;
        }
        /* two free blocks of the same size class, separated by live ones */
        os_memheap_free(&heap, blk[1]);
        os_memheap_free(&heap, blk[3]);
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        CHECK_REPORTS(0);

        unsigned char *b = blk[1] - links_before(a);
        unsigned char garbage[16];
        switch (pat)
        {
        case 0:
            memset(garbage, 0xA5, sizeof garbage);
            break;
        case 1:
            memset(garbage, 0xFF, sizeof garbage);
            break;
        case 2: {
            /* plausible: pointers to a live block of the same region */
            void *ptrs[16 / sizeof(void *)];
            for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++)
                ptrs[i] = blk[2];
            memcpy(garbage, ptrs, sizeof garbage);
            break;
        }
        case 3: {
            /* pointers outside every heap */
            void *ptrs[16 / sizeof(void *)];
            for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++)
                ptrs[i] = foreign_buf + 256;
            memcpy(garbage, ptrs, sizeof garbage);
            break;
        }
        default:
            /* small numbers, as chunk indices or offsets would be */
            for (size_t i = 0; i < sizeof garbage; i++)
                garbage[i] = (unsigned char)(i * 3 + 1);
            break;
        }
        unsigned char saved[16];
        test_unpoison(b, sizeof saved);
        memcpy(saved, b, sizeof saved);
        if (memcmp(saved, garbage, sizeof garbage) == 0)
        {
            heap_close(&heap);
            continue;
        }
        test_poke_bytes(b, garbage, sizeof garbage);

        os_err_t rc = os_memheap_check(&heap);
        CHECKF(rc == OS_ERROR, "check returned %ld", (long)rc);
        if (rc == OS_ERROR)
            CHECK_REPORTED();
        hook_reset();

        unsigned char *live[3] = {blk[0], blk[2], blk[4]};
        for (int i = 0; i < 3; i++)
            pat_fill(live[i], (uint32_t)i, 0, bsize);
        poke_around(live, 3, bsize);
        for (int i = 0; i < 3; i++)
            CHECK(pat_ok(live[i], (uint32_t)i, 0, bsize));
        hook_reset();
        heap_close(&heap);
    }
}

/*
 * First-fit: a free whose merge would unlink a free neighbour with
 * overwritten list links (the neighbour on the left, on the right, or one of
 * two), or would find its free left neighbour through an overwritten
 * footer, is refused and reported: the block stays in use, its bytes and every
 * other live block's are untouched, mem_used does not change. Blocks away
 * from the damage are still freed normally.
 */
static void merge_with_corrupt_neighbour(const struct test_alg *a)
{
    static const size_t bsizes[] = {24, 64, 500};
    if (strcmp(a->name, "firstfit") != 0)
        return;
    for (size_t bs = 0; bs < sizeof bsizes / sizeof bsizes[0]; bs++)
    for (int kase = 0; kase < 5; kase++)
    {
        /* layout [b0][b1][b2][b3][b4][b5]; b1 (and for cases 2 and 3 also b3)
         * freed, b1's links overwritten; then free b2 (case 0: left merge;
         * case 3: both, the left one bad), b0 (case 1: right merge), or b2
         * with b1 sound and b3's links bad (case 2: both, the right one bad);
         * case 4: b1's footer (its last word) overwritten, then free b2 */
        size_t bsize = bsizes[bs];
        check_context("%s: merge with a corrupt free neighbour, %zu-byte blocks, case %d", a->name,
                      bsize, kase);
        open_fresh(a->alg);
        unsigned char *b[6];
        if (!alloc_patterned(b, 6, bsize))
        {
            heap_close(&heap);
            continue;
        }
        os_memheap_free(&heap, b[1]);
        if (kase == 2 || kase == 3)
            os_memheap_free(&heap, b[3]);
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        CHECK_REPORTS(0);

        size_t word = links_before(a);      /* first-fit: one header word */
        unsigned char *bad = (kase == 2 ? b[3] : b[1]) - word;
        unsigned char garbage[8];
        size_t nbad = sizeof garbage;
        if (kase == 4)
        {
            size_t header = 0;
            (void)os_memheap_walk(&heap, find_header, &header);
            bad = b[2] - header - word;
            nbad = word;
        }
        memset(garbage, 0xA5, sizeof garbage);
        test_unpoison(bad, nbad);
        test_poke_bytes(bad, garbage, nbad);

        int victim = kase == 1 ? 0 : 2;
        size_t used = heap_info(&heap).mem_used;
        hook_reset();
        os_memheap_free(&heap, b[victim]);
        CHECKF(hook_count() >= 1, "the free of b%d was not reported", victim);
        CHECK_EQ(heap_info(&heap).mem_used, used);
        test_unpoison(b[victim], bsize);    /* a memory checker saw it freed */
        for (int i = 0; i < 6; i++)
            if (b[i] != b[1] && !((kase == 2 || kase == 3) && i == 3))
                CHECKF(pat_ok(b[i], (uint32_t)i, 0, bsize), "b%d changed", i);
        hook_reset();
        /* b5 is next to no damage (b4 in use, top or a used block after it) */
        os_memheap_free(&heap, b[5]);
        CHECK_REPORTS(0);
        CHECK(heap_info(&heap).mem_used < used);
        hook_reset();
        heap_close(&heap);
    }
}

/* Walk callback: the last block (the one that ends highest). */
static int last_block(const struct os_memheap_block *b, void *arg)
{
    struct os_memheap_block *last = arg;
    if (last->addr == OS_NULL || (unsigned char *)b->addr > (unsigned char *)last->addr)
        *last = *b;
    return 0;
}

/*
 * First-fit: fill the heap from here on, largest requests first, so that
 * top is left smaller than any request the caller makes next. The blocks
 * go to fill[] (at most nfill; heap_close discards them with the heap);
 * returns how many.
 */
static size_t fill_rest(unsigned char **fill, size_t nfill)
{
    size_t n = 0;
    for (size_t size = 4096; size >= 8 && n < nfill; size /= 2)
        while (n < nfill && (fill[n] = os_memheap_alloc(&heap, size)) != OS_NULL)
            n++;
    return n;
}

/*
 * First-fit: a free block with a broken size word that only the last look
 * at a request's own class reaches. The class holds two free blocks one
 * chunk apart (the smaller one at the head), no class above holds one and
 * top is too small, so a request for the larger block's size, plain or
 * aligned to 64, looks past the head to it: the request is refused with a
 * report, no block is handed out and nothing live changes. Once the word
 * is put back a plain request of that size is served from that block.
 */
static void corrupt_in_last_look(const struct test_alg *a)
{
    static unsigned char *fill[512];
    if (strcmp(a->name, "firstfit") != 0)
        return;
    for (int aligned = 0; aligned < 2; aligned++)
    {
        check_context("%s: a corrupt block only the last look reaches, %s request", a->name,
                      aligned ? "aligned" : "plain");
        open_fresh(a->alg);
        /* blocks of an even number of chunks and one more: one class at any class setting (>= 128 chunks) */
        size_t req = 1200;
        unsigned char *x = os_memheap_alloc(&heap, req);
        if (x && block_at(&heap, x).total / OS_MEM_ALIGN_SIZE % 2 != 0)
        {
            os_memheap_free(&heap, x);
            req += OS_MEM_ALIGN_SIZE;
            x = os_memheap_alloc(&heap, req);
        }
        unsigned char *s1 = os_memheap_alloc(&heap, 16);
        unsigned char *y = os_memheap_alloc(&heap, req + OS_MEM_ALIGN_SIZE);
        unsigned char *s2 = os_memheap_alloc(&heap, 16);
        CHECK(x && s1 && y && s2);
        if (!x || !s1 || !y || !s2)
        {
            heap_close(&heap);
            continue;
        }
        CHECK_EQ(block_at(&heap, y).total, block_at(&heap, x).total + OS_MEM_ALIGN_SIZE);
        (void)fill_rest(fill, sizeof fill / sizeof fill[0]);
        pat_fill(s1, 1, 0, 16);
        pat_fill(s2, 2, 0, 16);
        os_memheap_free(&heap, y);
        os_memheap_free(&heap, x);
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        CHECK_REPORTS(0);

        unsigned char *size_word = y - 2 * TEST_FF_WORD;
        xor_word(size_word, 1u << 12, TEST_FF_WORD);     /* 2048 chunks more or less; "free" kept */
        size_t used = heap_info(&heap).mem_used;
        void *p = aligned ? os_memheap_aligned_alloc(&heap, 64, req + OS_MEM_ALIGN_SIZE)
                          : os_memheap_alloc(&heap, req + OS_MEM_ALIGN_SIZE);
        CHECKF(p == OS_NULL, "a block at %p from a heap whose free block %p is broken", p, (void *)y);
        CHECK_REPORTED();
        CHECK_EQ(heap_info(&heap).mem_used, used);
        CHECK(pat_ok(s1, 1, 0, 16) && pat_ok(s2, 2, 0, 16));

        xor_word(size_word, 1u << 12, TEST_FF_WORD);     /* put back */
        hook_reset();
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        p = os_memheap_alloc(&heap, req + OS_MEM_ALIGN_SIZE);
        CHECK_PTR_EQ(p, y);
        CHECK_REPORTS(0);
        heap_close(&heap);
    }
}

/*
 * First-fit: top's size word broken by a stray write while the block before
 * it is freed between a free left neighbour and top. The free is refused
 * with a report and changes nothing; once the word is put back it goes
 * through and the heap checks sound.
 */
static void merge_into_corrupt_top(const struct test_alg *a)
{
    if (strcmp(a->name, "firstfit") != 0)
        return;
    check_context("%s: free between a free block and a corrupt top", a->name);
    open_fresh(a->alg);
    unsigned char *b[3];
    if (!alloc_patterned(b, 3, 100))
    {
        heap_close(&heap);
        return;
    }
    struct os_memheap_block top = { 0 };
    (void)os_memheap_walk(&heap, last_block, &top);
    CHECK(!top.used && (unsigned char *)top.addr == b[2] + block_at(&heap, b[2]).total);
    os_memheap_free(&heap, b[1]);
    CHECK_REPORTS(0);
    unsigned char *size_word = (unsigned char *)top.addr - 2 * TEST_FF_WORD;
    xor_word(size_word, 1u << 4, TEST_FF_WORD);      /* 8 chunks more or less; "free" kept */
    size_t used = heap_info(&heap).mem_used;
    os_memheap_free(&heap, b[2]);
    CHECK_REPORTED();
    CHECK_EQ(heap_info(&heap).mem_used, used);
    test_unpoison(b[2], 100);   /* a memory checker saw it freed */
    CHECK(pat_ok(b[0], 0, 0, 100) && pat_ok(b[2], 2, 0, 100));
    xor_word(size_word, 1u << 4, TEST_FF_WORD);      /* put back */
    hook_reset();
    os_memheap_free(&heap, b[2]);
    CHECK_REPORTS(0);
    CHECK(heap_info(&heap).mem_used < used);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    heap_close(&heap);
}

/*
 * First-fit: a write that ran past a block's end into the next block's
 * header (any bit of its size or check word). From hardening level 1 the free of the block
 * that overran is refused and reported, as it would change that header; at
 * every level check reports the broken header, and no other block's bytes
 * change.
 */
static void overrun_into_next(const struct test_alg *a)
{
    static const size_t bsizes[] = {24, 64, 500};
    /* the size word and the check word end the header */
    const size_t hw = 2 * TEST_FF_WORD;
    static const unsigned char masks[] = {0x5A, 0x01, 0x40, 0x80};
    if (strcmp(a->name, "firstfit") != 0)
        return;
    for (size_t bs = 0; bs < sizeof bsizes / sizeof bsizes[0]; bs++)
    for (size_t pos = 1; pos <= hw; pos++)
    for (size_t m = 0; m < sizeof masks; m++)
    {
        size_t bsize = bsizes[bs];
        check_context("%s: overrun into the next header, %zu-byte blocks, byte -%zu ^ 0x%02x", a->name, bsize,
                      pos, masks[m]);
        open_fresh(a->alg);
        unsigned char *b[3];
        if (!alloc_patterned(b, 3, bsize))
        {
            heap_close(&heap);
            continue;
        }
        unsigned char *at = b[1] - pos;     /* a byte of the size or check word */
        test_unpoison(at, 1);
        test_poke(at, *at ^ masks[m], 1);
        size_t used = heap_info(&heap).mem_used;
        hook_reset();
        os_memheap_free(&heap, b[0]);
#if OS_MEM_HARDENING >= 1
        CHECKF(hook_count() >= 1, "the free of b0 was not reported");
        CHECK_EQ(heap_info(&heap).mem_used, used);
        test_unpoison(b[0], bsize);     /* a memory checker saw it freed */
        CHECK(pat_ok(b[0], 0, 0, bsize));
#else
        (void)used;
#endif
        hook_reset();
        CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
        CHECK_REPORTED();
        CHECK(pat_ok(b[2], 2, 0, bsize));
        hook_reset();
        heap_close(&heap);
    }
}

/*
 * A block that holds another heap's region (which holds no block in use,
 * so nothing else refuses the free), in a region that is corrupt elsewhere
 * (the header of the block after it): its free is refused and reported
 * before the nested heap loses anything, on every algorithm and level;
 * once the header is repaired the free goes through.
 */
static void nested_host_in_corrupt_region(const struct test_alg *a)
{
    check_context("%s: free of a host block, region corrupt", a->name);
    open_fresh(a->alg);
    unsigned char *hb = os_memheap_alloc(&heap, 4096);
    unsigned char *y = os_memheap_alloc(&heap, 64);
    os_memheap_t g;
    CHECK(hb && y);
    if (!hb || !y)
    {
        heap_close(&heap);
        return;
    }
    heap_open(&g, "G");
    CHECK_EQ(os_memheap_add(&g, hb, 4096, a->alg), OS_EOK);
    void *x = os_memheap_alloc(&g, 100);
    CHECK(x != NULL);
    os_memheap_free(&g, x);
    os_meminfo_t ig = heap_info(&g);
    size_t used = heap_info(&heap).mem_used;
    test_unpoison(y - 1, 1);
    unsigned char old = y[-1];      /* the last header byte: part of the check or seal */
    test_poke(y - 1, old ^ 0x5A, 1);
    hook_reset();
    os_memheap_free(&heap, hb);
    CHECK_REPORTED();
    CHECK_EQ(heap_info(&heap).mem_used, used);
    CHECK(info_unchanged(&g, &ig));
    void *x2 = os_memheap_alloc(&g, 100);
    CHECK(x2 != NULL);
    os_memheap_free(&g, x2);
    CHECK_EQ(os_memheap_check(&g), OS_EOK);
    CHECK_REPORTS(0);
    test_poke(y - 1, old, 1);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    os_memheap_free(&heap, hb);
    CHECK_REPORTS(0);
    CHECK_EQ(heap_info(&g).mem_total, 0);
    os_memheap_free(&heap, y);
    CHECK_EQ(heap_info(&heap).mem_used, 0);
    CHECK_REPORTS(0);
    heap_close(&g);
    heap_close(&heap);
}

/*
 * First-fit with 16-bit header words: a header forged inside a block's
 * payload, for every one of the 2^14 check values, never makes the overlap
 * rule take a region that starts right after it and runs past the block's
 * end for one that lies inside a used block. The rule finds the block that
 * holds the region's start by walking the host region, not by trusting the
 * bytes before the start (which are the user's). With 32-bit words (or
 * buddy's 32-bit seal) there are too many values to try them all.
 */
static void forged_header_before_region(const struct test_alg *a)
{
#if TEST_FF_WORD == 2 && defined(OS_USING_ALG_FIRSTFIT)
    if (a->alg != OS_MEM_ALG_FIRSTFIT)
        return;
    check_context("%s: region after a header forged in a block", a->name);
    open_fresh(a->alg);
    const size_t blk = 1024, span = 2048, at = 256;
    unsigned char *b = os_memheap_alloc(&heap, blk);
    CHECK(b != NULL);
    if (b == NULL)
    {
        heap_close(&heap);
        return;
    }
    unsigned char *lo = b + at;     /* on the chunk grid: payloads are 8-aligned */
    const size_t chunks = (span + 3 * TEST_FF_WORD + 7) / 8 + 1;
    os_uint16_t w[3] = {0, (os_uint16_t)(chunks << 1 | 1u), 0};    /* owner (trace builds), size|used, check */
    os_memheap_t g;
    heap_open(&g, "G");
    unsigned accepted = 0;
    for (unsigned v = 0; v < (1u << 14) && accepted == 0; v++)
    {
        w[2] = (os_uint16_t)(v << 2);
        memcpy(lo - sizeof w, w, sizeof w);
        hook_reset();
        if (os_memheap_add(&g, lo, span, a->alg) == OS_EOK)
            accepted = v + 1;
        else
            CHECK_REPORTED();
    }
    CHECKF(accepted == 0, "a region past the block's end was taken on a forged check %u", accepted - 1);
    hook_reset();
    if (accepted == 0)
        CHECK_EQ(os_memheap_add(&g, lo, blk - at, a->alg), OS_EOK);     /* inside the block: taken */
    heap_close(&g);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    os_memheap_free(&heap, b);
    CHECK_EQ(heap_info(&heap).mem_used, 0);
    CHECK_REPORTS(0);
    heap_close(&heap);
#else
    (void)a;
#endif
}

/*
 * First-fit: only the back link of a free block's list successor is
 * overwritten. A merge unlinks the block and checks both list neighbours
 * first, so the free that would merge is refused and reported (without
 * that check the unlink would quietly write over the damage).
 */
static void successor_back_link(const struct test_alg *a)
{
    /* the back link is the owner word with trace, else the first payload word */
    const size_t w = TEST_FF_WORD;
#ifdef OS_USING_MEM_TRACE
    const size_t back = 3 * w;
#else
    const size_t back = 0;
    (void)w;
#endif
    unsigned char *blk[6];
    int ok = 1;

    if (strcmp(a->name, "firstfit") != 0)
        return;
    check_context("%s: back link of a list successor overwritten", a->name);
    open_fresh(a->alg);
    for (int i = 0; i < 6; i++)
        ok &= (blk[i] = os_memheap_alloc(&heap, 64)) != OS_NULL;
    CHECK(ok);
    if (ok)
    {
        os_memheap_free(&heap, blk[1]);
        os_memheap_free(&heap, blk[3]);     /* one class: the list is blk[3], then blk[1] */
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        unsigned char *link = blk[1] - back;
        test_unpoison(link, 1);
        test_poke(link, *link ^ 0x01, 1);   /* blk[1]'s back link no longer names blk[3] */
        size_t used = heap_info(&heap).mem_used;
        hook_reset();
        os_memheap_free(&heap, blk[4]);     /* would merge with blk[3] and unlink it */
        CHECK_REPORTED();
        CHECK_EQ(heap_info(&heap).mem_used, used);
        CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
        hook_reset();
    }
    heap_close(&heap);
}

/* Write a first-fit header word (w bytes: 2 or 4) holding value at p. */
static void poke_word(unsigned char *p, size_t w, size_t value)
{
    if (w == 2)
    {
        uint16_t v = (uint16_t)value;
        test_poke_bytes(p, &v, sizeof v);
    }
    else
    {
        uint32_t v = (uint32_t)value;
        test_poke_bytes(p, &v, sizeof v);
    }
}

/*
 * First-fit: the footer of a free block (its last word, the size the used
 * block on its right finds it by) overwritten with a plausible size that
 * leads to an earlier free block instead, across a live block. The header
 * found there does not describe a free block ending at the freed one, so
 * the free is refused and reported: mem_used and every block's bytes stay
 * as they were, check reports the footer, and once the footer is put back
 * the heap checks sound and every block frees normally.
 */
static void footer_names_other_block(const struct test_alg *a)
{
    static const size_t bsizes[] = {24, 64, 500};
    if (strcmp(a->name, "firstfit") != 0)
        return;
    for (size_t bs = 0; bs < sizeof bsizes / sizeof bsizes[0]; bs++)
    {
        size_t bsize = bsizes[bs];
        check_context("%s: footer names an earlier free block, %zu-byte blocks", a->name, bsize);
        open_fresh(a->alg);
        unsigned char *b[6];
        if (!alloc_patterned(b, 6, bsize))
        {
            heap_close(&heap);
            continue;
        }
        /* [b0][b1 free][b2][b3 free][b4][b5] */
        os_memheap_free(&heap, b[1]);
        os_memheap_free(&heap, b[3]);
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        CHECK_REPORTS(0);
        size_t header = 0;
        (void)os_memheap_walk(&heap, find_header, &header);
        size_t word = links_before(a) == 2 ? 2 : 4;        /* 16- or 32-bit header words */
        unsigned char *footer = b[4] - header - word;      /* b3's last word */
        unsigned char saved[4];
        test_unpoison(footer, word);
        memcpy(saved, footer, word);
        /* the distance in chunks from b1's start to b4's */
        poke_word(footer, word, (size_t)(b[4] - b[1]) / OS_MEM_ALIGN_SIZE);
        size_t used = heap_info(&heap).mem_used;
        hook_reset();
        os_memheap_free(&heap, b[4]);
        CHECKF(hook_count() >= 1, "the free of b4 was not reported");
        CHECK_EQ(heap_info(&heap).mem_used, used);
        hook_reset();
        test_unpoison(b[4], bsize);     /* a memory checker saw it freed */
        for (int i = 0; i < 6; i++)
            if (i != 1 && i != 3)
                CHECKF(pat_ok(b[i], (uint32_t)i, 0, bsize), "b%d changed", i);
        CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
        CHECK_REPORTED();
        test_poke_bytes(footer, saved, word);
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        for (int i = 0; i < 6; i++)
            if (i != 1 && i != 3)
                os_memheap_free(&heap, b[i]);
        CHECK_REPORTS(0);
        CHECK_EQ(heap_info(&heap).mem_used, 0);
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        heap_close(&heap);
    }
}

/* The block right before the given payload, as a walk finds it. */
struct left_of
{
    const void *addr;
    int         found;
    int         prev_used;     /* -1: none */
    int         left_used;
};

static int find_left_of(const struct os_memheap_block *b, void *arg)
{
    struct left_of *l = arg;
    if (b->addr == l->addr)
    {
        l->found = 1;
        l->left_used = l->prev_used;
        return 1;
    }
    l->prev_used = b->used;
    return 0;
}

/*
 * First-fit, hardening level 1 and up: a write ran past a block's end into
 * the next block's check word, then the block is shrunk by realloc or, as
 * an aligned block with a used block on its left, freed. Either gives
 * memory back next to the damaged header and must change its left-free
 * flag, so it is refused and reported: realloc returns OS_NULL and the
 * block keeps its size and bytes, the free leaves the block in use, and
 * mem_used does not change; check reports the header, and once it is put
 * back the heap checks sound and frees normally. (At level 0 the damage
 * is only found later, when the next block is freed or checked.)
 */
static void shrink_or_aligned_free_before_overrun(const struct test_alg *a)
{
    static const size_t bsizes[] = {64, 500};
    if (strcmp(a->name, "firstfit") != 0)
        return;
    for (size_t bs = 0; bs < sizeof bsizes / sizeof bsizes[0]; bs++)
    for (int aligned = 0; aligned < 2; aligned++)
    {
        size_t bsize = bsizes[bs];
        unsigned char *pad = OS_NULL, *blk = OS_NULL, *next = OS_NULL;
        check_context("%s: %s of a %zu-byte block before an overwritten header", a->name,
                      aligned ? "free (aligned)" : "realloc shrink", bsize);
        if (!aligned)
        {
            open_fresh(a->alg);
            blk = os_memheap_alloc(&heap, bsize);
        }
        else
        {
            /* a plain block in front whose size leaves no gap before the aligned block */
            for (size_t k = 0; k < 64 && !blk; k++)
            {
                open_fresh(a->alg);
                pad = os_memheap_alloc(&heap, 8 + 8 * k);
                unsigned char *x = os_memheap_aligned_alloc(&heap, 64, bsize);
                struct left_of lo = {x, 0, -1, -1};
                (void)os_memheap_walk(&heap, find_left_of, &lo);
                if (pad && x && lo.found && lo.left_used == 1)
                {
                    blk = x;
                    break;
                }
                heap_close(&heap);
            }
            CHECK(blk != OS_NULL);
            if (!blk)
                continue;
        }
        next = os_memheap_alloc(&heap, bsize);
        CHECK(blk && next && next > blk);
        if (!blk || !next)
        {
            heap_close(&heap);
            continue;
        }
        pat_fill(blk, 1, 0, bsize);
        pat_fill(next, 2, 0, bsize);
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        CHECK_REPORTS(0);
        size_t usable = os_memheap_usable_size(&heap, blk);
        unsigned char *at = next - 1;   /* the last byte of next's check word */
        test_unpoison(at, 1);
        unsigned char old = *at;
        test_poke(at, old ^ 0x5A, 1);
        size_t used = heap_info(&heap).mem_used;
        hook_reset();
        if (!aligned)
        {
            unsigned char *r = os_memheap_realloc(&heap, blk, 8);
#if OS_MEM_HARDENING >= 1
            CHECK(r == OS_NULL);
            CHECKF(hook_count() >= 1, "the shrink was not reported");
            CHECK_EQ(os_memheap_usable_size(&heap, blk), usable);
            CHECK_EQ(heap_info(&heap).mem_used, used);
#else
            (void)r;
            (void)usable;
#endif
        }
        else
        {
            os_memheap_free(&heap, blk);
#if OS_MEM_HARDENING >= 1
            CHECKF(hook_count() >= 1, "the free was not reported");
            CHECK_EQ(heap_info(&heap).mem_used, used);
            test_unpoison(blk, bsize);  /* a memory checker saw it freed */
            CHECK_EQ(os_memheap_usable_size(&heap, blk), usable);
#else
            (void)usable;
#endif
        }
#if OS_MEM_HARDENING >= 1
        CHECK(pat_ok(blk, 1, 0, bsize));
        hook_reset();
        CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
        CHECK_REPORTED();
        test_poke(at, old, 1);
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        CHECK(pat_ok(next, 2, 0, bsize));
        os_memheap_free(&heap, blk);
        os_memheap_free(&heap, next);
        os_memheap_free(&heap, pad);
        CHECK_REPORTS(0);
        CHECK_EQ(heap_info(&heap).mem_used, 0);
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
#else
        (void)used;
        (void)old;
#endif
        hook_reset();
        heap_close(&heap);
    }
}

/*
 * First-fit: the back link of a list's first block (which names the list)
 * overwritten with a list number past the last list. A merge checks the
 * block's links first, so the free that would merge with it is refused and
 * reported, and nothing is read or written past the list heads: a live
 * block that lies where such a number would lead, filled with words that
 * name the free block, keeps its bytes; mem_used does not change. Once the
 * link is put back the heap checks sound and everything frees normally.
 */
static void head_link_past_lists(const struct test_alg *a)
{
    static unsigned char ucopy[4096];
    const size_t bsize = 64, ulen = sizeof ucopy;
    unsigned char *first, *u, *b[5];
    int ok = 1;

    if (strcmp(a->name, "firstfit") != 0)
        return;
    check_context("%s: back link of a list's first block names a list past the last", a->name);
    open_fresh(a->alg);
    /* [first][u][b0][b1 free][b2][b3 free][b4]: first is the region's first block (chunk 1) */
    ok &= (first = os_memheap_alloc(&heap, 24)) != OS_NULL;
    ok &= (u = os_memheap_alloc(&heap, ulen)) != OS_NULL;
    for (int i = 0; i < 5; i++)
        ok &= (b[i] = os_memheap_alloc(&heap, bsize)) != OS_NULL;
    CHECK(ok);
    if (!ok)
    {
        heap_close(&heap);
        return;
    }
    os_memheap_free(&heap, b[3]);
    os_memheap_free(&heap, b[1]);      /* one class: the list is b1, then b3 */
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    CHECK_REPORTS(0);
    size_t header = 0;
    (void)os_memheap_walk(&heap, find_header, &header);
    size_t w = links_before(a) == 2 ? 2 : 4;       /* 16- or 32-bit header words */
    /* the list heads lie between the region's start and the first block, so
     * list number n leads into u when n = (u - REG) / w rounded up */
    size_t n = ((size_t)(u - REG) + w - 1) / w;
    CHECK((size_t)(first - REG) + 2 * w <= ulen);
    size_t chunk = (size_t)(b[1] - first) / OS_MEM_ALIGN_SIZE + 1;     /* b1's chunk */
    for (size_t off = 0; off + w <= ulen; off += w)
        poke_word(u + off, w, chunk);
    memcpy(ucopy, u, ulen);
#ifdef OS_USING_MEM_TRACE
    unsigned char *link = b[1] - header;   /* the owner word */
#else
    unsigned char *link = b[1];            /* the first payload word */
#endif
    unsigned char saved[4];
    test_unpoison(link, w);
    memcpy(saved, link, w);
    poke_word(link, w, ((size_t)1 << (8 * w - 1)) | n);
    size_t used = heap_info(&heap).mem_used;
    hook_reset();
    os_memheap_free(&heap, b[0]);       /* would merge with b1 and unlink it */
    CHECKF(hook_count() >= 1, "the free of b0 was not reported");
    CHECK_EQ(heap_info(&heap).mem_used, used);
    CHECK(memcmp(u, ucopy, ulen) == 0);
    hook_reset();
    CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
    CHECK_REPORTED();
    test_poke_bytes(link, saved, w);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    os_memheap_free(&heap, b[0]);
    os_memheap_free(&heap, b[2]);
    os_memheap_free(&heap, b[4]);
    os_memheap_free(&heap, u);
    os_memheap_free(&heap, first);
    CHECK_REPORTS(0);
    CHECK_EQ(heap_info(&heap).mem_used, 0);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    heap_close(&heap);
}

/*
 * Buddy: a listed free buddy whose seal (the header word after the info)
 * was overwritten is not merged: the free of its buddy reports it and
 * lists the freed block unmerged; check reports the broken header.
 * Blocks of BD_BIG (8 KiB with 32-byte units) are above the quick lists'
 * orders, so free lists them; two buddies are found among the first few.
 */
static void buddy_seal_before_merge(const struct test_alg *a)
{
    static _Alignas(64) unsigned char region[8 * BD_BIG];
    const size_t bs = BD_BIG, h = OS_MEM_ALIGN_SIZE;    /* block size; header bytes before a payload */
    unsigned char *blk[6] = {0}, *lo = NULL, *hi = NULL;
    os_memheap_t bh;

    if (strcmp(a->name, "buddy") != 0)
        return;
    check_context("%s: merge with a buddy whose seal is broken", a->name);
    heap_open(&bh, "seal");
    heap_add_ok(&bh, region, sizeof region, a->alg);
    for (size_t i = 0; i < 6; i++)
        blk[i] = os_memheap_alloc(&bh, BD_BIG_REQ);
    for (size_t i = 0; i < 6 && !lo; i++)
        for (size_t j = 0; j < 6 && !lo; j++)
            if (blk[i] && blk[j] && blk[j] == blk[i] + bs && ((uintptr_t)(blk[i] - h) & (2 * bs - 1)) == 0)
                lo = blk[i], hi = blk[j];
    CHECK(lo != NULL);
    if (lo)
    {
        os_memheap_free(&bh, hi);
        CHECK_REPORTS(0);
        test_unpoison(hi - 1, 1);
        test_poke(hi - 1, hi[-1] ^ 0x21, 1);    /* the seal's top byte; the info word is intact */
        os_memheap_free(&bh, lo);
        CHECK_REPORTED();
        CHECK_EQ(os_memheap_check(&bh), OS_ERROR);
        hook_reset();
    }
    heap_close(&bh);
}

/*
 * Buddy with OS_MEM_ALIGN_SIZE above 8: a header has bytes before its info
 * and seal, which the seal does not cover. A write of one byte past a
 * block's usable end lands there, in the next block's header: check reports
 * it (the library keeps those bytes zero), and so do a free and a realloc
 * of the next block, which leave it as it is. With a tail canary (hardening
 * tail and up) the write hits the canary first, which is tested elsewhere.
 */
static void buddy_header_padding(const struct test_alg *a)
{
#if OS_MEM_ALIGN_SIZE > 8
    unsigned char *blk[8] = {0}, *p = NULL, *next = NULL;
    size_t up = 0;

    if (strcmp(a->name, "buddy") != 0 || OS_MEM_HARDENING >= 2)
        return;
    check_context("%s: a byte written past a block into the next header's padding", a->name);
    open_fresh(a->alg);
    for (int i = 0; i < 8; i++)
        blk[i] = os_memheap_alloc(&heap, 100);
    for (int i = 0; i < 8 && !p; i++)
        for (int j = 0; j < 8 && !p; j++)
        {
            size_t u = blk[i] ? os_memheap_usable_size(&heap, blk[i]) : 0;
            if (blk[i] && blk[j] && blk[j] == blk[i] + u + OS_MEM_ALIGN_SIZE)
                p = blk[i], up = u, next = blk[j];
        }
    CHECK(p != NULL);
    if (p)
    {
        test_unpoison(p + up, 1);
        unsigned char saved = p[up], bad = (unsigned char)(saved ^ 0x5A);
        test_poke_bytes(p + up, &bad, 1);
        CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
        CHECK_REPORTED();
        os_meminfo_t before = heap_info(&heap);
        os_memheap_free(&heap, next);
        CHECK_REPORTED();
        CHECK(os_memheap_realloc(&heap, next, 10) == OS_NULL);
        CHECK_REPORTED();
        CHECK_EQ(heap_info(&heap).mem_used, before.mem_used);
        test_poke_bytes(p + up, &saved, 1);
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    }
    for (int i = 0; i < 8; i++)
        os_memheap_free(&heap, blk[i]);
    CHECK_REPORTS(0);
    CHECK_EQ(heap_info(&heap).mem_used, 0);
    heap_close(&heap);
#else
    (void)a;
#endif
}

/*
 * Buddy: blocks of BD_BIG_REQ (each a block of BD_BIG) into q[0..3] until two
 * are buddies (their blocks' addresses differ in bit BD_BIG alone): *x the
 * one taken first, *y the other; both OS_NULL if none are.
 */
static void alloc_buddies(unsigned char *q[4], unsigned char **x, unsigned char **y)
{
    const size_t h = OS_MEM_ALIGN_SIZE;     /* header bytes before a payload */
    *x = *y = OS_NULL;
    for (int i = 0; i < 4; i++)
        q[i] = OS_NULL;
    for (int i = 0; i < 4 && *y == OS_NULL; i++)
    {
        q[i] = os_memheap_alloc(&heap, BD_BIG_REQ);
        for (int j = 0; j < i && q[i] != OS_NULL && *y == OS_NULL; j++)
            if (((uintptr_t)(q[j] - h) ^ BD_BIG) == (uintptr_t)(q[i] - h))
            {
                *x = q[j];
                *y = q[i];
            }
    }
}

/*
 * Buddy: a listed free block of BD_BIG (no quick list at that order) whose
 * info word a stray write changed, met by the three paths that take a
 * listed block: the head of its list for a plain request and for an
 * aligned one, and the free upper buddy a realloc grows into. Check
 * reports the header; each path is refused with a report (or served
 * elsewhere), the broken block is never
 * handed out and the live block keeps its data; with the word put back
 * the heap checks sound.
 */
static void buddy_listed_block_broken(const struct test_alg *a)
{
    static _Alignas(131072) unsigned char zone[128 * KiB];
    if (strcmp(a->name, "buddy") != 0)
        return;
    for (int path = 0; path < 3; path++)
    {
        static const char *const names[] = {"plain alloc", "aligned alloc", "realloc growing into it"};
        check_context("%s: a broken listed block met by a %s", a->name, names[path]);
        heap_open(&heap, "listed");
        heap_add_ok(&heap, zone, sizeof zone, a->alg);
        const size_t h = OS_MEM_ALIGN_SIZE;     /* header bytes before a payload */
        unsigned char *q[4], *x, *y;
        alloc_buddies(q, &x, &y);
        CHECK(y != OS_NULL);
        if (y == OS_NULL)
        {
            heap_close(&heap);
            continue;
        }
        unsigned char *lo = x < y ? x : y, *hi = x < y ? y : x;
        pat_fill(lo, 7, 0, BD_BIG_REQ);
        os_memheap_free(&heap, hi);     /* listed, at the head of its list: lo is in use */
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        xor_word(hi - 8, 1, 4);         /* its info word */
        hook_reset();
        CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
        CHECKF(TEST_SMALL_TEXTS || hook_seen("check: block header overwritten"), "check said: %s", hook_last_msg());
        hook_reset();
        void *p = path == 0   ? os_memheap_alloc(&heap, BD_BIG_REQ)
                  : path == 1 ? os_memheap_aligned_alloc(&heap, 64, BD_BIG_REQ)
                              : os_memheap_realloc(&heap, lo, BD_BIG + BD_BIG_REQ);
        CHECK_REPORTED();
        CHECKF(p == OS_NULL || !ranges_overlap(p, BD_BIG_REQ, hi - h, BD_BIG), "%p handed out over the broken block %p",
               p, (void *)hi);
        unsigned char *data = path == 2 && p != OS_NULL ? p : lo;
        CHECK(pat_ok(data, 7, 0, BD_BIG_REQ));
        xor_word(hi - 8, 1, 4);
        hook_reset();
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        CHECK_REPORTS(0);
        heap_close(&heap);
    }
}

/*
 * Buddy: two listed free blocks of one order (each freed between used
 * neighbours, so neither merges), and the back link of either (the second
 * word of its payload) overwritten: check, which walks each list forwards,
 * also compares every block's back link with the block before it (none for
 * the first), and reports it; put back, the heap checks sound. The first
 * block's forward link cut: check counts one free block fewer in the list
 * than in the block table, and says so.
 */
static void buddy_back_link(const struct test_alg *a)
{
    static _Alignas(64) unsigned char region[12 * BD_BIG];
    unsigned char *blk[7] = {0};
    os_memheap_t bh;

    if (strcmp(a->name, "buddy") != 0)
        return;
    heap_open(&bh, "backlink");
    heap_add_ok(&bh, region, sizeof region, a->alg);
    for (size_t i = 0; i < 7; i++)
    {
        blk[i] = os_memheap_alloc(&bh, BD_BIG_REQ);     /* above the orders of the quick lists */
        CHECK(blk[i] != OS_NULL);
    }
    os_memheap_free(&bh, blk[2]);
    os_memheap_free(&bh, blk[4]);     /* the list: blk[4], then blk[2] */
    CHECK_EQ(os_memheap_check(&bh), OS_EOK);
    CHECK_REPORTS(0);
    for (int which = 2; which <= 4; which += 2)
    {
        check_context("%s: back link of a listed free block overwritten (%s in its list)", a->name,
                      which == 4 ? "first" : "second");
        unsigned char *link = blk[which] + 4;
        uint32_t saved, bad;
        test_unpoison(link, 4);
        memcpy(&saved, link, 4);
        bad = saved ^ 1u;
        test_poke_bytes(link, &bad, 4);
        CHECK_EQ(os_memheap_check(&bh), OS_ERROR);
        CHECK_REPORTED();
        test_poke_bytes(link, &saved, 4);
        CHECK_EQ(os_memheap_check(&bh), OS_EOK);
        CHECK_REPORTS(0);
    }
    /* the first block's forward link cut (NIL): its list ends early, and check says a free block is missing */
    check_context("%s: forward link of the first listed free block cut", a->name);
    uint32_t saved, nil = 0xFFFFFFFFu;
    test_unpoison(blk[4], 4);
    memcpy(&saved, blk[4], 4);
    test_poke_bytes(blk[4], &nil, 4);
    hook_reset();
    CHECK_EQ(os_memheap_check(&bh), OS_ERROR);
    CHECKF(TEST_SMALL_TEXTS || hook_seen("free blocks missing from the free lists"), "check said: %s",
           hook_last_msg());
    test_poke_bytes(blk[4], &saved, 4);
    hook_reset();
    CHECK_EQ(os_memheap_check(&bh), OS_EOK);
    CHECK_REPORTS(0);
    for (size_t i = 0; i < 7; i++)
        if (i != 2 && i != 4)
            os_memheap_free(&bh, blk[i]);
    CHECK_EQ(heap_info(&bh).mem_used, 0);
    CHECK_EQ(os_memheap_check(&bh), OS_EOK);
    heap_close(&bh);
}

struct first_blk
{
    unsigned char *addr;    /* payload of the region's first block */
    size_t         total;
    size_t         nblocks;
    unsigned char *last;    /* payload of the last block */
    size_t         last_total;
};

static int note_blocks(const struct os_memheap_block *b, void *arg)
{
    struct first_blk *f = arg;
    if (f->nblocks++ == 0)
    {
        f->addr = b->addr;
        f->total = b->total;
    }
    f->last = b->addr;
    f->last_total = b->total;
    return 0;
}

/*
 * Buddy: a region of 96 units whose first unit is 64-unit aligned, tiled as
 * one block of 64 units and one of 32 ending at the region's end. The
 * buddy of that last block would start at the region's end: it does not
 * exist, whatever the bytes after the region hold. Here they hold what a
 * listed free block of 32 units would carry at that index (header words
 * info = order << 8 | 0x59, seal = info ^ (index * 0x9E3779B1 ^ 2^31), and
 * null links), the first unit is an aligned block in use, and the last block
 * is released from its quick list by a request nobody can serve: nothing
 * is reported, check passes, and the block is served again.
 */
static int lowest_block(const struct os_memheap_block *b, void *arg)
{
    unsigned char **low = arg;
    if (*low == OS_NULL || (unsigned char *)b->addr < *low)
        *low = b->addr;
    return 0;
}

/*
 * Every byte of a region's control data (from the region's start to its
 * first block) changed in turn, all its bits: check reports it at once, or
 * the change does not matter: 200 random allocations and frees that follow,
 * each followed by a check, meet no report. A change that check cannot see
 * and that breaks the heap later fails here.
 */
static void control_byte_flips(const struct test_alg *a)
{
    static _Alignas(4096) unsigned char zone[16 * KiB];
    check_context("%s: control data bytes changed", a->name);
    heap_open(&heap, "flips");
    heap_add_ok(&heap, zone, sizeof zone, a->alg);
    size_t ctrl = 0;
    (void)os_memheap_walk(&heap, find_header, &ctrl);               /* header bytes of a free block */
    unsigned char *lowest = OS_NULL;
    (void)os_memheap_walk(&heap, lowest_block, &lowest);
    heap_close(&heap);
    CHECK(lowest != OS_NULL && lowest > zone);
    if (lowest == OS_NULL)
        return;
    size_t span = (size_t)(lowest - zone) - ctrl;                   /* region start to first block start */
    size_t caught = 0, harmless = 0;
    for (size_t off = 0; off < span; off++)
    {
        heap_open(&heap, "flips");
        heap_add_ok(&heap, zone, sizeof zone, a->alg);
        unsigned char *p[8];
        for (unsigned k = 0; k < 8; k++)
            p[k] = os_memheap_alloc(&heap, 100 + 50 * k);
        os_memheap_free(&heap, p[2]);
        os_memheap_free(&heap, p[5]);
        test_unpoison(zone + off, 1);
        unsigned char flipped = (unsigned char)(zone[off] ^ 0xFF);
        test_poke_bytes(zone + off, &flipped, 1);
        hook_reset();
        if (os_memheap_check(&heap) != OS_EOK)
        {
            caught++;
        }
        else
        {
            CHECK_REPORTS(0);
            test_rng_t rng;
            unsigned char *q[32] = { 0 };
            rng_seed(&rng, off);
            for (unsigned it = 0; it < 200; it++)
            {
                unsigned j = rng_below(&rng, 32);
                if (q[j])
                {
                    os_memheap_free(&heap, q[j]);
                    q[j] = OS_NULL;
                }
                else
                {
                    q[j] = os_memheap_alloc(&heap, 1 + rng_below(&rng, 600));
                }
                if (os_memheap_check(&heap) != OS_EOK || hook_count() != 0)
                {
                    CHECKF(0, "byte %zu of the control data changed: check said sound, then operation %u "
                              "met a report: %s", off, it, hook_count() ? hook_last_msg() : "(check failed)");
                    break;
                }
            }
            harmless++;
        }
        hook_reset();
        heap_close(&heap);
        hook_reset();
    }
    printf("%s: %zu control bytes changed: %zu caught by check, %zu harmless\n", a->name, span, caught, harmless);
}

/* Bytes of control data at the start of reg, the open heap's only region, just added (0 if not found). */
static size_t ctrl_span(const unsigned char *reg)
{
    unsigned char *lowest = OS_NULL;
    size_t header = 0;
    (void)os_memheap_walk(&heap, find_header, &header);
    (void)os_memheap_walk(&heap, lowest_block, &lowest);
    CHECK(lowest != OS_NULL && lowest > reg + header);
    return lowest != OS_NULL && lowest > reg + header ? (size_t)(lowest - reg) - header : 0;
}

/* The offset in ctrl[0..span) of the only size_t word that grows by `step` from a to b and from b to c; 0 if none or several. */
static size_t word_stepping(const unsigned char *a, const unsigned char *b, const unsigned char *c, size_t span,
                            size_t step)
{
    size_t found = 0, hits = 0;
    for (size_t off = 0; off + sizeof(size_t) <= span; off += sizeof(size_t))
    {
        size_t va, vb, vc;
        memcpy(&va, a + off, sizeof va);
        memcpy(&vb, b + off, sizeof vb);
        memcpy(&vc, c + off, sizeof vc);
        if (va != 0 && vb - va == step && vc - vb == step)
        {
            found = off;
            hits++;
        }
    }
    return hits == 1 ? found : 0;
}

#if OS_MEM_HARDENING >= 2
/*
 * Stray writes into a region's control data, then alloc, free and realloc
 * with no check in between (hardening tail and full verify the control data
 * on every call). Each byte of both regions' control data (the region's
 * control block and the algorithm's, up to the first block), changed by
 * three masks, in a heap of two regions with live and free blocks in both;
 * then 150 random calls. Whatever a call reports or refuses: no call writes
 * outside the regions (guard zones around them stay intact) or crashes, no
 * block it hands out lies outside a region or over a live block, and no
 * live block's contents change. A block whose free or realloc was reported
 * is left alone afterwards.
 */
#define SC_GUARD    (2 * KiB)
#define SC_A        (4 * KiB)
#define SC_B        (8 * KiB)
#define SC_LIVE     48

struct sc_blk
{
    unsigned char *p;
    size_t n;
    uint32_t id;
    int dead;
};

static _Alignas(64) unsigned char sc_zone_a[SC_GUARD + SC_A + SC_GUARD];
static _Alignas(64) unsigned char sc_zone_b[SC_GUARD + SC_B + SC_GUARD];

static int sc_inside(const void *p, size_t n)
{
    return range_inside(p, n, sc_zone_a + SC_GUARD, SC_A) || range_inside(p, n, sc_zone_b + SC_GUARD, SC_B);
}

static int sc_guards_ok(void)
{
    for (size_t i = 0; i < SC_GUARD; i++)
        if (sc_zone_a[i] != 0x5A || sc_zone_a[SC_GUARD + SC_A + i] != 0x5A || sc_zone_b[i] != 0x5A ||
            sc_zone_b[SC_GUARD + SC_B + i] != 0x5A)
            return 0;
    return 1;
}

/* A block just handed out (n bytes at p): inside a region, over no live block; then filled. */
static void sc_took(struct sc_blk *live, unsigned j, unsigned char *p, size_t n, uint32_t id)
{
    CHECKF(sc_inside(p, n), "a %zu-byte block at %p lies outside both regions", n, (void *)p);
    for (unsigned k = 0; k < SC_LIVE; k++)
        if (k != j && live[k].p && !live[k].dead)
            CHECKF(!ranges_overlap(p, n, live[k].p, live[k].n), "a %zu-byte block at %p lies over the live block %p",
                   n, (void *)p, (void *)live[k].p);
    live[j] = (struct sc_blk){ p, n, id, 0 };
    pat_fill(p, id, 0, n);
}

static int sc_intact(const struct sc_blk *b)
{
    CHECKF(pat_ok(b->p, b->id, 0, b->n), "the live block %p (%zu bytes) changed", (void *)b->p, b->n);
    return pat_ok(b->p, b->id, 0, b->n);
}

static size_t sc_span(const struct test_alg *a, unsigned char *zone, size_t size)
{
    heap_open(&heap, "stray");
    heap_add_ok(&heap, zone, size, a->alg);
    size_t span = ctrl_span(zone);
    heap_close(&heap);
    return span;
}

struct sc_run
{
    struct sc_blk live[SC_LIVE];
    test_rng_t rng;
    uint32_t id;
};

/* A heap of both regions (guard zones filled), 24 blocks taken and every third given back. */
static void sc_open(const struct test_alg *a, struct sc_run *t, uint64_t seed)
{
    memset(sc_zone_a, 0x5A, sizeof sc_zone_a);
    memset(sc_zone_b, 0x5A, sizeof sc_zone_b);
    heap_open(&heap, "stray");
    heap_add_ok(&heap, sc_zone_a + SC_GUARD, SC_A, a->alg);
    heap_add_ok(&heap, sc_zone_b + SC_GUARD, SC_B, a->alg);
    memset(t->live, 0, sizeof t->live);
    t->id = 1;
    rng_seed(&t->rng, seed);
    for (unsigned j = 0; j < 24; j++)
    {
        size_t n = rng_range(&t->rng, 40, 240);
        unsigned char *p = os_memheap_alloc(&heap, n);
        if (p)
            sc_took(t->live, j, p, n, t->id++);
    }
    CHECK(t->live[23].p != OS_NULL);        /* both regions hold blocks */
    for (unsigned j = 0; j < 24; j += 3)
    {
        os_memheap_free(&heap, t->live[j].p);
        t->live[j].p = OS_NULL;
    }
    hook_reset();
}

/* n random allocs, aligned allocs, frees and reallocs, each block checked before it is given up. */
static void sc_calls(struct sc_run *t, unsigned n_calls)
{
    for (unsigned it = 0; it < n_calls; it++)
    {
        unsigned j = rng_below(&t->rng, SC_LIVE), op = rng_below(&t->rng, 20);
        struct sc_blk *b = &t->live[j];
        unsigned long before = hook_count();
        if (b->dead)
            continue;
        if (b->p == OS_NULL)
        {
            size_t n = rng_range(&t->rng, 1, 900);
            unsigned char *p = op < 4 ? os_memheap_aligned_alloc(&heap, (size_t)16 << rng_below(&t->rng, 5), n)
                                      : os_memheap_alloc(&heap, n);
            if (p)
                sc_took(t->live, j, p, n, t->id++);
        }
        else if (!sc_intact(b))
        {
            return;
        }
        else if (op < 14)
        {
            os_memheap_free(&heap, b->p);
            b->dead = hook_count() != before;
            if (!b->dead)
                b->p = OS_NULL;
        }
        else
        {
            size_t n = rng_range(&t->rng, 1, 1200);
            unsigned char *q = os_memheap_realloc(&heap, b->p, n);
            if (hook_count() != before)
            {
                b->dead = 1;
            }
            else if (q != OS_NULL)
            {
                size_t keep = n < b->n ? n : b->n;
                CHECKF(pat_ok(q, b->id, 0, keep), "realloc to %zu bytes lost the contents", n);
                sc_took(t->live, j, q, n, t->id++);
            }
        }
    }
}

/* Every live block intact, the guard zones too; the heap closed. Returns whether anything was reported. */
static int sc_close(struct sc_run *t)
{
    int reported = hook_count() != 0;

    for (unsigned j = 0; j < SC_LIVE; j++)
        if (t->live[j].p && !t->live[j].dead)
            (void)sc_intact(&t->live[j]);
    CHECKF(sc_guards_ok(), "a call wrote outside the regions");
    (void)os_memheap_deinit(&heap);
    memset(&heap, 0, sizeof heap);
    hook_reset();
    return reported;
}

static void stray_control_writes(const struct test_alg *a)
{
    static const unsigned char masks[] = {0x01, 0x80, 0xFF};
    unsigned char *reg[2] = {sc_zone_a + SC_GUARD, sc_zone_b + SC_GUARD};
    size_t span[2] = {sc_span(a, reg[0], SC_A), sc_span(a, reg[1], SC_B)};
    unsigned long trials = 0, reported = 0;
    static struct sc_run t;

    for (unsigned which = 0; which < 2; which++)
        for (size_t off = 0; off < span[which]; off++)
            for (unsigned m = 0; m < sizeof masks; m++)
            {
                check_context("%s: byte %zu of region %c's control data ^ 0x%02X, then 150 calls", a->name, off,
                              which ? 'B' : 'A', masks[m]);
                sc_open(a, &t, ((uint64_t)which << 40) ^ ((uint64_t)off << 8) ^ m);
                unsigned char *at = reg[which] + off;
                unsigned char v = (unsigned char)(*at ^ masks[m]);
                test_unpoison(at, 1);
                test_poke_bytes(at, &v, 1);
                sc_calls(&t, 150);
                trials++;
                reported += (unsigned long)sc_close(&t);
            }
    printf("%s: %lu stray control-data writes: %lu reported, %lu harmless\n", a->name, trials, reported,
           trials - reported);
}

/*
 * The same, 3000 times, with a region's whole control data set back to a
 * copy taken 100 calls earlier (every field holds a value it once held: list heads,
 * bitmaps and the last block's index name blocks that have since been
 * used, split or merged, whose old headers the regions may still hold).
 */
static void restored_control_data(const struct test_alg *a)
{
    unsigned char *reg[2] = {sc_zone_a + SC_GUARD, sc_zone_b + SC_GUARD};
    size_t span[2] = {sc_span(a, reg[0], SC_A), sc_span(a, reg[1], SC_B)};
    unsigned char copy[1024];
    unsigned long reported = 0;
    static struct sc_run t;

    CHECK(span[0] <= sizeof copy && span[1] <= sizeof copy);
    for (unsigned seed = 0; seed < 3000; seed++)
    {
        unsigned which = seed & 1u;
        check_context("%s: seed %u, region %c's control data set back 100 calls, then 150 calls", a->name, seed,
                      which ? 'B' : 'A');
        sc_open(a, &t, 0x5EED0000u + seed);
        sc_calls(&t, rng_below(&t.rng, 60));
        test_unpoison(reg[which], span[which]);
        memcpy(copy, reg[which], span[which]);
        sc_calls(&t, 100);
        CHECK_REPORTS(0);
        test_poke_bytes(reg[which], copy, span[which]);
        sc_calls(&t, 150);
        reported += (unsigned long)sc_close(&t);
    }
    printf("%s: 3000 control data set back: %lu reported\n", a->name, reported);
}

/*
 * Two sequences that left stale metadata where a control data set back
 * would find it, each at several region start offsets: an aligned block
 * shrunk by realloc (buddy: its trailer at the old end), and top moved
 * back by a shrinking realloc under an aligned block placed after it
 * (first-fit: a header at top's old place). After the control data is set
 * back, no call hands out a block over the live block b or changes it.
 */
static void restored_after_shrink(const struct test_alg *a)
{
    static _Alignas(4096) unsigned char zone[4 * 4096];
    static const size_t offs[] = {0x980, 0x7C0, 0x40, 0x5C8, 0xFF8};
    unsigned char copy[1024];

    for (unsigned v = 0; v < 2; v++)
        for (size_t o = 0; o < sizeof offs / sizeof offs[0]; o++)
        {
            unsigned char *reg = zone + 4096 + offs[o];
            check_context("%s: %s, region at 4096-aligned + %#zx, control data set back", a->name,
                          v ? "top moved back" : "aligned block shrunk", offs[o]);
            heap_open(&heap, "setback");
            heap_add_ok(&heap, reg, 8192, a->alg);
            size_t span = ctrl_span(reg);
            CHECK(span <= sizeof copy);
            unsigned char *p = v ? os_memheap_alloc(&heap, 700) : os_memheap_aligned_alloc(&heap, 128, 707);
            CHECK(p != OS_NULL);
            test_unpoison(reg, span);
            memcpy(copy, reg, span);
            p = os_memheap_realloc(&heap, p, v ? 100 : 86);
            unsigned char *b = v ? os_memheap_aligned_alloc(&heap, 1024, 500) : os_memheap_aligned_alloc(&heap, 128, 162);
            size_t bn = v ? 500 : 162;
            CHECK(p != OS_NULL && b != OS_NULL);
            if (p == OS_NULL || b == OS_NULL || span == 0 || span > sizeof copy)
            {
                heap_close(&heap);
                continue;
            }
            memset(b, 0x22, bn);
            test_poke_bytes(reg, copy, span);
            hook_reset();
            size_t u = os_memheap_usable_size(&heap, p);
            CHECKF(u == 0 || u == (v ? 100u : 86u), "usable size %zu", u);
            if (!v)
                os_memheap_free(&heap, p);
            unsigned char *c = v ? os_memheap_alloc(&heap, 800) : os_memheap_aligned_alloc(&heap, 64, 840);
            size_t cn = v ? 800 : 840;
            CHECKF(c == OS_NULL || !ranges_overlap(c, cn, b, bn), "a block at %p over the live block %p", (void *)c,
                   (void *)b);
            if (c != OS_NULL && !ranges_overlap(c, cn, b, bn))
                memset(c, 0x33, cn);
            for (size_t i = 0; i < bn; i++)
                if (b[i] != 0x22)
                {
                    CHECKF(0, "the live block changed at +%zu", i);
                    break;
                }
            (void)os_memheap_deinit(&heap);
            memset(&heap, 0, sizeof heap);
            hook_reset();
        }
}

/*
 * First-fit: top (the free last block) set back by a stray write to where
 * it lay before, now inside a live block whose data happens to hold the
 * header word a top there would have (size << 1). Top's footer, kept at
 * tail and full, does not match: the alloc is refused, the live block
 * keeps its data.
 */
static void restored_top_over_forged_header(const struct test_alg *a)
{
    static _Alignas(64) unsigned char zone[8192];
    unsigned char copy[1024];

    if (strcmp(a->name, "firstfit") != 0)
        return;
    check_context("%s: top set back into a live block that holds a top header", a->name);
    heap_open(&heap, "topback");
    heap_add_ok(&heap, zone, sizeof zone, a->alg);
    size_t span = ctrl_span(zone);
    CHECK(span <= sizeof copy);
    unsigned char *p = os_memheap_alloc(&heap, 700);
    struct os_memheap_block top = { 0 }, pb = block_at(&heap, p);
    (void)os_memheap_walk(&heap, last_block, &top);
    CHECK(p != OS_NULL && !top.used && span > 0 && span <= sizeof copy);
    if (p == OS_NULL || top.used || span == 0 || span > sizeof copy)
    {
        heap_close(&heap);
        return;
    }
    test_unpoison(zone, span);
    memcpy(copy, zone, span);                   /* top lies right after p */
    os_memheap_free(&heap, p);
    unsigned char *c = os_memheap_alloc(&heap, 1500);   /* over p and top's old place */
    CHECK(c == p);
    if (c != p)
    {
        heap_close(&heap);
        return;
    }
    memset(c, 0x22, 1500);
    /* the data where top's header lay: the two words before its payload, the first one its size << 1 */
    unsigned char *word = (unsigned char *)p + pb.total - 2 * TEST_FF_WORD;
    uint32_t v = (uint32_t)(top.total / OS_MEM_ALIGN_SIZE) << 1;
    memcpy(word, &v, TEST_FF_WORD);             /* (little-endian hosts) */
    unsigned char saved[8];
    memcpy(saved, word, 2 * TEST_FF_WORD);
    test_poke_bytes(zone, copy, span);
    hook_reset();
    unsigned char *d = os_memheap_alloc(&heap, 24);
    CHECKF(d == OS_NULL || !ranges_overlap(d, 24, c, 1500), "a block at %p over the live block %p", (void *)d,
           (void *)c);
    CHECK_REPORTED();
    CHECK(memcmp(word, saved, 2 * TEST_FF_WORD) == 0);
    (void)os_memheap_deinit(&heap);
    memset(&heap, 0, sizeof heap);
    hook_reset();
}

/*
 * First-fit: top's index (changed by alloc and free, so not under the
 * seal) set to 0 by a stray write, the word where chunk 0's header would
 * lie (chunk 0 is the control data's last chunk) forged to read as a free
 * block that reaches the end, and top's footer forged to match. Chunk 0 is never a block: allocations
 * are refused with a report, none lies over the live block or the control
 * data, and the live block keeps its data. Top is found as the only word
 * of the control data that grows by a block's chunks each time a block is
 * carved from it.
 */
static void top_set_to_zero(const struct test_alg *a)
{
    static _Alignas(64) unsigned char zone[8192];
    unsigned char s0[1024], s1[1024], s2[1024];

    if (strcmp(a->name, "firstfit") != 0)
        return;
    check_context("%s: top set to 0 over a forged header at chunk 0", a->name);
    heap_open(&heap, "topzero");
    heap_add_ok(&heap, zone, sizeof zone, a->alg);
    size_t span = ctrl_span(zone), header = 0;
    (void)os_memheap_walk(&heap, find_header, &header);
    CHECK(span > 0 && span <= sizeof s0);
    if (span == 0 || span > sizeof s0)
    {
        heap_close(&heap);
        return;
    }
    test_unpoison(zone, span);
    memcpy(s0, zone, span);
    unsigned char *live = os_memheap_alloc(&heap, 24);
    memcpy(s1, zone, span);
    unsigned char *other = os_memheap_alloc(&heap, 24);
    memcpy(s2, zone, span);
    CHECK(live != OS_NULL && other != OS_NULL);
    size_t chunks = block_at(&heap, live).total / OS_MEM_ALIGN_SIZE;
    size_t top_off = word_stepping(s0, s1, s2, span, chunks);
    CHECKF(top_off != 0, "top's index not found in the %zu bytes of control data", span);
    struct os_memheap_block top = { 0 };
    (void)os_memheap_walk(&heap, last_block, &top);
    CHECK(!top.used);
    if (live == OS_NULL || top_off == 0 || top.used)
    {
        heap_close(&heap);
        return;
    }
    memset(live, 0x22, 24);
    /* chunk 0 starts one chunk before the first block; its header words end where its payload would start */
    unsigned char *chunk0 = zone + span - OS_MEM_ALIGN_SIZE;
    unsigned char *end = (unsigned char *)top.addr - (top.total - top.size) + top.total;
    size_t zero = 0;
    uint32_t ends = (uint32_t)((size_t)(end - chunk0) / OS_MEM_ALIGN_SIZE), forged = ends << 1;
    test_poke_bytes(zone + top_off, &zero, sizeof zero);
    /* (little-endian hosts) the header's size word, and top's footer (the last word before the end) */
    test_poke_bytes(chunk0 + header - 2 * TEST_FF_WORD, &forged, TEST_FF_WORD);
    test_poke_bytes(end - TEST_FF_WORD, &ends, TEST_FF_WORD);
    hook_reset();
    for (unsigned i = 0; i < 4; i++)
    {
        size_t n = (size_t)24 << i;
        unsigned char *d = i & 1u ? os_memheap_aligned_alloc(&heap, 64, n) : os_memheap_alloc(&heap, n);
        CHECKF(d == OS_NULL || !ranges_overlap(d, n, live, 24), "a block at %p over the live block %p", (void *)d,
               (void *)live);
        CHECKF(d == OS_NULL || !ranges_overlap(d, n, zone, span), "a block at %p over the control data", (void *)d);
        CHECKF(d == OS_NULL, "an alloc of %zu bytes served with top at 0", n);
    }
    CHECK_REPORTED();
    for (size_t i = 0; i < 24; i++)
        if (live[i] != 0x22)
        {
            CHECKF(0, "the live block changed at +%zu", i);
            break;
        }
    (void)os_memheap_deinit(&heap);
    memset(&heap, 0, sizeof heap);
    hook_reset();
}
#endif

#if OS_MEM_HARDENING >= 2
/*
 * A region that fails its seal, on the paths that walk lists of regions. A
 * nested heap G has two regions, in two blocks of the host heap; the one
 * added last (first in the host's list of nested regions) has one bit of
 * its `total` (a field only the seal covers) changed, and the other holds
 * a live block. Freeing either host block is refused with a report (the
 * regions after a broken one in the host's list are not known), nothing
 * changes, G's block keeps its data; G's check reports; an add of a region
 * to any heap is refused while it is there (the lists cannot be checked
 * past it), and so is a walk of G. With the bit back, all of it works
 * again.
 */
static void unsealed_nested_region(const struct test_alg *a)
{
    static _Alignas(64) unsigned char extra[2048];
    check_context("%s: a nested region that fails its seal", a->name);
    open_fresh(a->alg);
    unsigned char *hb = os_memheap_alloc(&heap, 4096), *hb2 = os_memheap_alloc(&heap, 4096);
    CHECK(hb != NULL && hb2 != NULL);
    if (!hb || !hb2)
    {
        heap_close(&heap);
        return;
    }
    os_memheap_t g;
    heap_open(&g, "G");
    CHECK_EQ(os_memheap_add(&g, hb, 4096, a->alg), OS_EOK);
    CHECK_EQ(os_memheap_add(&g, hb2, 4096, a->alg), OS_EOK);
    unsigned char *x = os_memheap_alloc(&g, 100);
    CHECK(x != NULL && x > hb && x < hb + 4096);
    if (x == NULL)
    {
        heap_close(&g);
        heap_close(&heap);
        return;
    }
    memset(x, 0x3C, 100);
    size_t used = heap_info(&heap).mem_used;
    unsigned char *total = hb2 + 7 * sizeof(void *);    /* next, ops, start, end, heap, host, host_next, total */
    test_unpoison(total, 1);
    unsigned char old = *total;
    test_poke(total, old ^ 0x01, 1);
    for (int i = 0; i < 2; i++)
    {
        hook_reset();
        os_memheap_free(&heap, i ? hb2 : hb);
        CHECK_REPORTED();
        CHECK_EQ(heap_info(&heap).mem_used, used);
    }
    for (int i = 0; i < 100; i++)
        if (x[i] != 0x3C)
        {
            CHECKF(0, "G's live block changed at +%d", i);
            break;
        }
    hook_reset();
    CHECK_EQ(os_memheap_add(&heap, extra, sizeof extra, a->alg), OS_EINVAL);
    CHECK_REPORTED();
    hook_reset();
    CHECK_EQ(os_memheap_check(&g), OS_ERROR);
    CHECK_REPORTED();
    hook_reset();
    size_t nblocks = 0;
    CHECK_EQ(os_memheap_walk(&g, count_blocks, &nblocks), OS_ERROR);     /* not a walk that stops short unreported */
    CHECK_REPORTED();
    test_poke(total, old, 1);
    hook_reset();
    CHECK_EQ(os_memheap_check(&g), OS_EOK);
    os_memheap_free(&g, x);
    os_memheap_free(&heap, hb);
    os_memheap_free(&heap, hb2);
    CHECK_REPORTS(0);
    CHECK_EQ(heap_info(&g).mem_total, 0);
    heap_close(&g);
    heap_close(&heap);
}
#endif

#if OS_MEM_HARDENING >= 2
/*
 * Free block n of the host heap (the nested regions in it leave their
 * heaps) and take a block of the same size again: 1 if it is n again,
 * else 0 with the new block given back (the test cannot go on).
 */
static int host_block_again(unsigned char *n, size_t size)
{
    os_memheap_free(&heap, n);
    unsigned char *again = os_memheap_alloc(&heap, size);
    CHECK(again == n);
    if (again != n)
    {
        os_memheap_free(&heap, again);
        return 0;
    }
    return 1;
}

/*
 * A control block set back to an older copy of itself keeps its seal, and
 * its link was true once. Here G has regions ra, N, rb, N nested in a block
 * of the host heap; N is taken out of G when that block is freed, and added
 * again in the same block, after rb. Then N gets back the copy from when it
 * stood before rb: its link leads to rb, whose link leads to N. The order
 * of adds breaks there (region.h, OH_LINKED), so no walk goes round: an
 * alloc no region can serve returns OS_NULL, a free of a pointer in no
 * region is reported, and check reports the list; adds are refused, and so
 * is the free of N's host block (G's list cannot be followed to N); a block
 * from ra is still served. With N's control block as it was, all of it
 * works again.
 */
static void restored_link_closes_loop(const struct test_alg *a)
{
    static _Alignas(64) unsigned char ra[4 * KiB], rb[4 * KiB], extra[4 * KiB];
    static unsigned char then[4 * KiB], now[4 * KiB];
    os_memheap_t g;

    check_context("%s: a nested region set back to a copy whose link closes a loop", a->name);
    open_fresh(a->alg);
    unsigned char *n = os_memheap_alloc(&heap, sizeof then);
    CHECK(n != OS_NULL);
    if (n == OS_NULL)
    {
        heap_close(&heap);
        return;
    }
    heap_open(&g, "G");
    heap_add_ok(&g, ra, sizeof ra, a->alg);
    heap_add_ok(&g, n, sizeof then, a->alg);
    heap_add_ok(&g, rb, sizeof rb, a->alg);
    test_unpoison(n, sizeof then);
    memcpy(then, n, sizeof then);
    size_t total = heap_info(&g).mem_total;
    int same = host_block_again(n, sizeof then);    /* N leaves G */
    size_t without = heap_info(&g).mem_total;
    CHECK(without < total);
    if (!same)
    {
        heap_close(&g);
        heap_close(&heap);
        return;
    }
    heap_add_ok(&g, n, sizeof then, a->alg);     /* ra, rb, N */
    CHECK_EQ(heap_info(&g).mem_total, total);
    CHECK_REPORTS(0);
    test_unpoison(n, sizeof then);
    memcpy(now, n, sizeof now);
    test_poke_bytes(n, then, sizeof then);

    size_t used = heap_info(&heap).mem_used;
    CHECK(os_memheap_alloc(&g, 2 * sizeof ra) == OS_NULL);
    os_memheap_free(&g, rb + sizeof rb / 2);    /* inside rb, not a block: the walk reaches rb */
    CHECK_REPORTED();
    os_memheap_free(&g, then + sizeof then / 2);
    CHECK_REPORTED();
    CHECK_EQ(os_memheap_check(&g), OS_ERROR);
    CHECK_REPORTED();
    CHECK_EQ(os_memheap_add(&g, extra, sizeof extra, a->alg), OS_EINVAL);
    CHECK_REPORTED();
    os_memheap_free(&heap, n);
    CHECK_REPORTED();
    CHECK_EQ(heap_info(&heap).mem_used, used);
    unsigned char *x = os_memheap_alloc(&g, 100);
    CHECK(x != OS_NULL && x > ra && x < ra + sizeof ra);
    os_memheap_free(&g, x);
    CHECK_REPORTS(0);

    test_poke_bytes(n, now, sizeof now);
    CHECK_EQ(os_memheap_check(&g), OS_EOK);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    os_memheap_free(&heap, n);
    CHECK_EQ(heap_info(&g).mem_total, without);
    CHECK_REPORTS(0);
    heap_close(&g);
    heap_close(&heap);
}
#endif

#if OS_MEM_HARDENING >= 2
/*
 * A set-back link that leads to where another heap's region now lies: G's
 * first region ra gets back the copy from when N (nested in a block of the
 * host heap) followed it; N has left G since, and K has added a region at
 * N's address (after ra, so the order of adds alone would let the link
 * through). The link leads to a region of another heap, so no walk of G
 * follows it: G does not serve a request from K's region, and check
 * reports G's list; with ra as it was, G is sound again.
 */
static void restored_link_into_other_heap(const struct test_alg *a)
{
    static _Alignas(64) unsigned char ra[4 * KiB], rk[4 * KiB];
    static unsigned char then[256], now[256];
    os_memheap_t g, k;

    check_context("%s: a region set back to a copy whose link leads into another heap", a->name);
    open_fresh(a->alg);
    unsigned char *n = os_memheap_alloc(&heap, 8 * KiB);
    CHECK(n != OS_NULL);
    if (n == OS_NULL)
    {
        heap_close(&heap);
        return;
    }
    heap_open(&g, "G");
    heap_add_ok(&g, ra, sizeof ra, a->alg);
    heap_add_ok(&g, n, 8 * KiB, a->alg);
    test_unpoison(ra, sizeof then);
    memcpy(then, ra, sizeof then);
    if (!host_block_again(n, 8 * KiB))     /* N leaves G */
    {
        heap_close(&g);
        heap_close(&heap);
        return;
    }
    heap_open(&k, "K");
    heap_add_ok(&k, rk, sizeof rk, a->alg);
    heap_add_ok(&k, n, 8 * KiB, a->alg);
    CHECK_REPORTS(0);
    test_unpoison(ra, sizeof now);
    memcpy(now, ra, sizeof now);
    test_poke_bytes(ra, then, sizeof then);

    size_t kused = heap_info(&k).mem_used;
    CHECK(os_memheap_alloc(&g, 6000) == OS_NULL);
    CHECK_EQ(heap_info(&k).mem_used, kused);
    CHECK_EQ(os_memheap_check(&k), OS_EOK);
    CHECK_REPORTS(0);
    CHECK_EQ(os_memheap_check(&g), OS_ERROR);
    CHECK_REPORTED();

    test_poke_bytes(ra, now, sizeof now);
    CHECK_EQ(os_memheap_check(&g), OS_EOK);
    CHECK_REPORTS(0);
    heap_close(&k);
    heap_close(&g);
    os_memheap_free(&heap, n);
    CHECK_REPORTS(0);
    heap_close(&heap);
}
#endif

/*
 * Deinit of a heap whose first region's control block was overwritten: its
 * second region, nested in a block of another heap, lies past the break,
 * where it cannot be told from a region of an earlier life of the heap
 * object (wiped without deinit and initialised again), which may still
 * hold blocks. So it stays in the host's list of nested regions, and the
 * host keeps that block: its free is refused, and touches nothing of the
 * heap object that was deinitialised (and set up again). The host, which
 * cannot be deinitialised any more, is wiped at the end (the next init
 * reports that and takes it out of the list of heaps).
 */
static void deinit_past_broken_region(const struct test_alg *a)
{
    static _Alignas(64) unsigned char hm[64 * KiB], r1[8 * KiB], r3[8 * KiB];
    static os_memheap_t host, nested;
    check_context("%s: deinit past an overwritten region", a->name);
    heap_open(&host, "host");
    heap_add_ok(&host, hm, sizeof hm, a->alg);
    unsigned char *b = os_memheap_alloc(&host, 16 * KiB);
    CHECK(b != OS_NULL);
    if (!b)
    {
        heap_close(&host);
        return;
    }
    heap_open(&nested, "nested");
    heap_add_ok(&nested, r1, sizeof r1, a->alg);
    heap_add_ok(&nested, b, 16 * KiB, a->alg);
    test_poke(r1, 0x41, sizeof(void *));       /* the first region's link to the next */
    hook_reset();
    CHECK_EQ(os_memheap_deinit(&nested), OS_EOK);
    CHECK_REPORTED();
    heap_open(&nested, "again");
    heap_add_ok(&nested, r3, sizeof r3, a->alg);
    os_meminfo_t before = heap_info(&nested), hbefore = heap_info(&host);
    os_memheap_free(&host, b);                 /* refused: the block holds a region that may hold blocks */
    CHECK_REPORTED();
    CHECK(info_unchanged(&host, &hbefore));
    CHECK(info_unchanged(&nested, &before));
    CHECK_EQ(os_memheap_check(&nested), OS_EOK);
    CHECK_EQ(os_memheap_check(&host), OS_EOK);
    CHECK_REPORTS(0);
    heap_close(&nested);
    CHECK_EQ(os_memheap_deinit(&host), OS_EBUSY);  /* it keeps the block */
    CHECK_REPORTED();
    memset(&host, 0, sizeof host);
    heap_open(&nested, "after");                   /* takes the wiped host out of the list */
    CHECK_REPORTS(1);
    heap_close(&nested);
}

static void buddy_bytes_after_region(const struct test_alg *a)
{
    static _Alignas(4096) unsigned char zone[64 * KiB];     /* 96 units and room around them, for units up to 256 */
    const size_t h = OS_MEM_ALIGN_SIZE;
    os_memheap_t bh;
    size_t unit = 0;

    /* (the unit is found from a usable size, which a tail canary level reports as the size asked) */
    if (strcmp(a->name, "buddy") != 0 || OS_MEM_HARDENING >= 2)
        return;
    check_context("%s: bytes after the region that look like the last block's buddy", a->name);
    /* the unit: the block of a one-byte request, its header and usable bytes */
    heap_open(&bh, "units");
    heap_add_ok(&bh, zone, 4 * KiB, a->alg);
    unsigned char *one = os_memheap_alloc(&bh, 1);
    CHECK(one != OS_NULL);
    unit = os_memheap_usable_size(&bh, one) + h;
    os_memheap_free(&bh, one);
    heap_close(&bh);
    CHECK(unit >= 16 && (unit & (unit - 1)) == 0);
    if (unit < 16 || (unit & (unit - 1)) != 0)
        return;

    unsigned char *first = align_up(zone + 2 * KiB, 64 * unit);
    unsigned char *end = first + 96 * unit;
    unsigned char *start = OS_NULL;
    CHECK(end + 4 * unit <= zone + sizeof zone);
    for (unsigned char *s = first - 16; s >= zone && s + 1024 >= first; s -= sizeof(void *))
    {
        heap_open(&bh, "after");
        if (os_memheap_add(&bh, s, (size_t)(end - s), a->alg) == OS_EOK)
        {
            struct first_blk f = {0};
            CHECK_EQ(os_memheap_walk(&bh, note_blocks, &f), OS_EOK);
            if (f.addr == first + h && f.total == 64 * unit && f.nblocks == 2 &&
                f.last == first + 64 * unit + h && f.last_total == 32 * unit)
            {
                start = s;
                break;
            }
        }
        heap_close(&bh);
        hook_reset();
    }
    CHECK(start != OS_NULL);
    if (!start)
        return;

    hook_reset();
    unsigned char *al = os_memheap_aligned_alloc(&bh, 2 * h, 64 * unit - 2 * h);  /* the first block */
    CHECK_PTR_EQ(al, first);
    unsigned char *p = os_memheap_alloc(&bh, 32 * unit - h);      /* the last block */
    CHECK_PTR_EQ(p, first + 64 * unit + h);
    os_memheap_free(&bh, p);

    uint32_t idx = 96, info = (5u << 8) | 0x59u;
    uint32_t words[4] = {info, info ^ ((idx * 0x9E3779B1u) ^ 0x80000000u), 0xFFFFFFFFu, 0xFFFFFFFFu};
    unsigned char saved[sizeof words];
    memcpy(saved, end + h - 8, sizeof saved);
    memcpy(end + h - 8, words, sizeof words);      /* outside the region: the program's bytes */
    CHECK(os_memheap_alloc(&bh, 64 * unit - h) == OS_NULL);   /* releases the quick block */
    CHECK_REPORTS(0);
    CHECK_EQ(os_memheap_check(&bh), OS_EOK);
    CHECK_REPORTS(0);
    p = os_memheap_alloc(&bh, 32 * unit - h);
    CHECK_PTR_EQ(p, first + 64 * unit + h);
    os_memheap_free(&bh, p);
    os_memheap_free(&bh, al);
    CHECK_EQ(os_memheap_check(&bh), OS_EOK);
    CHECK_EQ(heap_info(&bh).mem_used, 0);
    CHECK_REPORTS(0);
    memcpy(end + h - 8, saved, sizeof saved);
    heap_close(&bh);
}

/*
 * An aligned block (aligned above the default alignment, or it is a plain
 * block) ends with a trailer past its usable bytes. First-fit: a check
 * byte, then log2 of its alignment. Buddy (no header): a check (1 byte, 2
 * at hardening tail and full), the owner's task index (2 bytes, trace
 * builds) and log2 of its alignment. Each byte of it changed by each of
 * three masks: check reports it by name, free and realloc refuse the block
 * (reported, nothing changes), usable size says 0; put back, all is well.
 */
static void aligned_trailer_bytes(const struct test_alg *a)
{
    static const unsigned char masks[] = { 0x01, 0x80, 0xFF };
    int buddy = strcmp(a->name, "buddy") == 0;
#ifdef OS_USING_MEM_TRACE
    const size_t trl = !buddy ? 2u : (OS_MEM_HARDENING >= 2 ? 2u : 1u) + 3u;
#else
    const size_t trl = !buddy ? 2u : (OS_MEM_HARDENING >= 2 ? 2u : 1u) + 1u;
#endif

    check_context("%s: the trailer of an aligned block overwritten", a->name);
    open_fresh(a->alg);
    unsigned char *p = os_memheap_aligned_alloc(&heap, 2 * (size_t)OS_MEM_ALIGN_SIZE, 100);
    CHECK(p != OS_NULL);
    size_t total = p ? block_total(&heap, p) : 0;
    CHECK(total > 100);
    if (p && total > 100)
    {
#ifdef OS_USING_MEM_TRACE
        const size_t ff_hdr = 3u * TEST_FF_WORD;
#else
        const size_t ff_hdr = 2u * TEST_FF_WORD;
#endif
        /* buddy: naturally aligned, no header; first-fit: the header before the payload */
        unsigned char *end = buddy ? p - ((uintptr_t)p & (total - 1)) + total : p - ff_hdr + total;
        size_t usable = os_memheap_usable_size(&heap, p);
        os_meminfo_t before = heap_info(&heap);

#if OS_MEM_HARDENING < 2
        CHECK_PTR_EQ(p + usable + trl, end);    /* the trailer is all that is not usable */
#endif
        test_unpoison(end - trl, trl);          /* past the usable bytes: a memory checker guards it */
        for (size_t at = 1; at <= trl; at++)
        {
            for (size_t m = 0; m < sizeof masks; m++)
            {
                unsigned char saved = end[-(ptrdiff_t)at], bad = (unsigned char)(saved ^ masks[m]);

                check_context("%s: trailer byte %zu from the end ^ 0x%02x", a->name, at, masks[m]);
                test_poke_bytes(end - at, &bad, 1);
                hook_reset();
                CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
                CHECKF(TEST_SMALL_TEXTS || hook_seen("trailer of an aligned block"), "check said: %s",
                       hook_last_msg());
#if TEST_BAD_OPS
                hook_reset();
                os_memheap_free(&heap, p);
                CHECK_REPORTS(1);
                CHECK(os_memheap_realloc(&heap, p, 300) == OS_NULL);
                CHECK_REPORTS(1);
                CHECK_EQ(os_memheap_usable_size(&heap, p), 0);
                CHECK(info_unchanged(&heap, &before));
#endif
                test_poke_bytes(end - at, &saved, 1);
                hook_reset();
                CHECK_EQ(os_memheap_check(&heap), OS_EOK);
            }
        }
        check_context("%s: the trailer of an aligned block put back", a->name);
        CHECK_EQ(os_memheap_usable_size(&heap, p), usable);
        os_memheap_free(&heap, p);
    }
    CHECK_EQ(heap_info(&heap).mem_used, 0);
    CHECK_REPORTS(0);
    heap_close(&heap);
}

/*
 * A write after free over the first word of a freed small block (buddy
 * keeps its quick-list link there, or with OS_MEM_BUDDY_QUICK 0 its
 * free-list link). With quick lists the block is handed out again (its
 * header is intact) and the next request of that size meets the damaged
 * link; without, the first request does. Reported there, never followed.
 */
static void write_after_free_first_word(const struct test_alg *a)
{
    check_context("%s: first word of a freed block overwritten", a->name);
    open_fresh(a->alg);
    unsigned char *keep = os_memheap_alloc(&heap, 100);
    unsigned char *p = os_memheap_alloc(&heap, 100);
    CHECK(keep && p);
    os_memheap_free(&heap, p);
    CHECK_REPORTS(0);
    test_poke(p, 0x5A, 4);
    unsigned char *q1 = os_memheap_alloc(&heap, 100);
    unsigned char *q2 = os_memheap_alloc(&heap, 100);
    if (strcmp(a->name, "buddy") == 0)
    {
#if OS_MEM_BUDDY_QUICK > 0
        CHECK_PTR_EQ(q1, p);
#endif
        CHECK_REPORTED();
    }
    hook_reset();
    for (unsigned char *x = q1; x; x = x == q1 ? q2 : OS_NULL)
        CHECK(range_inside(x, 100, REG, REG_SIZE) && !ranges_overlap(x, 100, keep, 100));
    CHECK(!q1 || !q2 || !ranges_overlap(q1, 100, q2, 100));
    os_memheap_free(&heap, q1);
    os_memheap_free(&heap, q2);
    os_memheap_free(&heap, keep);
    hook_reset();
    heap_close(&heap);
}

/* A double free is named as such, for a small block and for a large one (buddy: kept in its free lists). */
static void double_free_named(const struct test_alg *a)
{
    static const size_t sizes[] = {100, 12000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    {
        check_context("%s: double free of %zu bytes is named", a->name, sizes[i]);
        open_fresh(a->alg);
        unsigned char *p = os_memheap_alloc(&heap, sizes[i]);
        unsigned char *guard = os_memheap_alloc(&heap, 32);
        CHECK(p && guard);
        os_memheap_free(&heap, p);
        CHECK_REPORTS(0);
        os_memheap_free(&heap, p);
        CHECK_EQ(hook_count(), 1);
        CHECKF(strstr(hook_last_msg(), "double free") != NULL, "message: %s", hook_last_msg());
        CHECK_EQ(hook_last_code(), OS_EINVAL);
        hook_reset();
        os_memheap_free(&heap, guard);
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        CHECK_REPORTS(0);
        heap_close(&heap);
    }
}

/*
 * A pointer whose header word reads "not in use" is not called a double
 * free unless a free block starts there: a pointer into a block (over
 * zeroed data) and the second free of a block merged since are refused
 * with a wording that says so; a plain double free keeps its name.
 */
static void not_in_use_named(const struct test_alg *a)
{
    check_context("%s: a pointer into zeroed data, a double free after a merge", a->name);
    open_fresh(a->alg);
    unsigned char *p = os_memheap_alloc(&heap, 256);
    unsigned char *x = os_memheap_alloc(&heap, 96);
    unsigned char *y = os_memheap_alloc(&heap, 96);
    unsigned char *guard = os_memheap_alloc(&heap, 32);
    CHECK(p && x && y && guard);
    memset(p, 0, 256);
    os_meminfo_t before = heap_info(&heap);
    os_memheap_free(&heap, p + 16);
    CHECK_EQ(hook_count(), 1);
    CHECK_EQ(hook_last_code(), OS_EINVAL);
#ifndef OS_MEM_SMALL    /* (the small build's reports carry no detail) */
    CHECKF(strstr(hook_last_msg(), "double free (") == NULL &&
               (strstr(hook_last_msg(), "pointer into a block") != NULL ||
                strstr(hook_last_msg(), "not a block") != NULL),
           "message: %s", hook_last_msg());
#endif
    CHECK(info_unchanged(&heap, &before));
    for (size_t i = 0; i < 256; i++)
        CHECKF(p[i] == 0, "byte %zu of the live block changed", i);
    hook_reset();

    os_memheap_free(&heap, y);
    os_memheap_free(&heap, x);      /* first-fit: x and y merge (buddy keeps both as they are) */
    CHECK_REPORTS(0);
    before = heap_info(&heap);
    os_memheap_free(&heap, y);
    CHECK_EQ(hook_count(), 1);
    CHECK_EQ(hook_last_code(), OS_EINVAL);
#ifndef OS_MEM_SMALL
    if (strcmp(a->name, "buddy") != 0)
        CHECKF(strstr(hook_last_msg(), "double free (") == NULL, "message: %s", hook_last_msg());
#endif
    CHECK(info_unchanged(&heap, &before));
    hook_reset();

    os_memheap_free(&heap, x);      /* x starts the merged free block: a plain double free */
    CHECK_EQ(hook_count(), 1);
#ifndef OS_MEM_SMALL
    CHECKF(strstr(hook_last_msg(), "double free") != NULL, "message: %s", hook_last_msg());
#endif
    CHECK(info_unchanged(&heap, &before));
    hook_reset();
    os_memheap_free(&heap, p);
    os_memheap_free(&heap, guard);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    CHECK_REPORTS(0);
    heap_close(&heap);
}

/*
 * A region taken away and memory at the same address added again: a
 * pointer from the old region is not a block of the new one. Once after
 * deinit and init of the same heap object, once for a nested region whose
 * heap was deinitialised and whose host block was freed and handed out
 * again.
 */
static void stale_pointer_after_readd(const struct test_alg *a)
{
    check_context("%s: a pointer from a region deinit took away, freed after the same memory was added again", a->name);
    open_fresh(a->alg);
    unsigned char *q[3];
    for (int i = 0; i < 3; i++)
        q[i] = os_memheap_alloc(&heap, 100);
    CHECK(q[0] && q[1] && q[2]);
    CHECK_EQ(os_memheap_deinit(&heap), OS_EOK);
    open_fresh(a->alg);
    os_meminfo_t before = heap_info(&heap);
    os_memheap_free(&heap, q[1]);
    CHECK_EQ(hook_count(), 1);
    CHECK(info_unchanged(&heap, &before));
    hook_reset();
    unsigned char *x = os_memheap_alloc(&heap, 100), *y = os_memheap_alloc(&heap, 100);
    unsigned char *z = os_memheap_alloc(&heap, 100);
    CHECK(x && y && z && !ranges_overlap(x, 100, y, 100) && !ranges_overlap(x, 100, z, 100) &&
          !ranges_overlap(y, 100, z, 100));
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    CHECK_REPORTS(0);

    check_context("%s: a pointer from a nested region whose host block was freed and given out again", a->name);
    os_memheap_t inner;
    unsigned char *host = os_memheap_alloc(&heap, 3000);
    CHECK(host != OS_NULL);
    heap_open(&inner, "inner");
    heap_add_ok(&inner, host, 3000, a->alg);
    for (int i = 0; i < 3; i++)
        q[i] = os_memheap_alloc(&inner, 100);
    CHECK(q[0] && q[1] && q[2]);
    CHECK_EQ(os_memheap_deinit(&inner), OS_EOK);    /* drops the region, q[] with it */
    os_memheap_free(&heap, host);
    unsigned char *again = os_memheap_alloc(&heap, 3000);
    CHECK(again == host);
    heap_open(&inner, "inner");
    heap_add_ok(&inner, again, 3000, a->alg);
    before = heap_info(&inner);
    os_memheap_free(&inner, q[1]);
    CHECK_EQ(hook_count(), 1);
    CHECK(info_unchanged(&inner, &before));
    hook_reset();
    CHECK_EQ(os_memheap_check(&inner), OS_EOK);
    CHECK_EQ(os_memheap_deinit(&inner), OS_EOK);
    os_memheap_free(&heap, again);
    os_memheap_free(&heap, x);
    os_memheap_free(&heap, y);
    os_memheap_free(&heap, z);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    CHECK_REPORTS(0);
    heap_close(&heap);
}

static int table_reported;     /* a report of check's named the block table */

/* What some flip of buddy_table_bits must make check say (each found by another check too). */
static const char *const flip_says[] = {
    "no block starts here",
#if OS_MEM_BUDDY_QUICK == 0 || OS_MEM_ALIGN_SIZE <= 16     /* (larger units: every order of the region has a quick list) */
    "quick list of an order without one",
#endif
#if OS_MEM_BUDDY_QUICK > 0
    "quick blocks, quick list and its count disagree",
#endif
};
static int flip_said[sizeof flip_says / sizeof flip_says[0]];

static void table_hook(const char *heap_name, const void *addr, os_err_t code, const char *msg)
{
    (void)heap_name;
    (void)addr;
    (void)code;
    if (strstr(msg, "check: block table") != NULL)
        table_reported = 1;
    for (size_t i = 0; i < sizeof flip_says / sizeof flip_says[0]; i++)
        if (strstr(msg, flip_says[i]) != NULL)
            flip_said[i] = 1;
}

/*
 * Buddy: every bit of the control data flipped in turn. Whenever check
 * finds that the block table no longer tiles the region at some unit (no
 * block starts there, or two kinds of block claim it), walk, which follows
 * the same table, must refuse too rather than describe blocks that are not
 * there. Among the flips, some leave a unit where no block starts, some a
 * quick list at an order that has none, some a quick list's room count
 * wrong: check names each of them.
 */
static void buddy_table_bits(const struct test_alg *a)
{
    unsigned char *b[6];

    if (strcmp(a->name, "buddy") != 0 || TEST_SMALL_TEXTS)
        return;     /* (the small build's reports have no detail to tell a table fault by) */
    open_fresh(a->alg);
    for (int i = 0; i < 6; i++)
    {
        b[i] = os_memheap_alloc(&heap, 40 + 100 * (size_t)i);
        CHECK(b[i] != OS_NULL);
    }
    os_memheap_free(&heap, b[1]);
    os_memheap_free(&heap, b[4]);
    unsigned char *lowest = b[0];
    for (int i = 0; i < 6; i++)
        if (b[i] && b[i] < lowest)
            lowest = b[i];
    size_t ctrl = (size_t)(lowest - REG) - 16;
    test_unpoison(REG, ctrl);
    unsigned table_cases = 0;
    for (size_t off = 0; off < ctrl; off++)
    {
        for (unsigned bitno = 0; bitno < 8; bitno++)
        {
            check_context("%s: control data byte %zu, bit %u flipped", a->name, off, bitno);
            unsigned char saved = REG[off];
            unsigned char flipped = (unsigned char)(saved ^ (1u << bitno));
            test_poke_bytes(REG + off, &flipped, 1);
            os_mem_set_error_hook(table_hook);
            size_t nblocks = 0;
            os_err_t werr = os_memheap_walk(&heap, count_blocks, &nblocks);
            table_reported = 0;
            (void)os_memheap_check(&heap);
            hook_install();
            if (table_reported)
            {
                table_cases++;
                CHECK_EQ(werr, OS_ERROR);
            }
            test_poke_bytes(REG + off, &saved, 1);
            hook_reset();
        }
    }
    check_context("%s: control data flips, what check said", a->name);
    CHECK(table_cases > 0);
    for (size_t i = 0; i < sizeof flip_says / sizeof flip_says[0]; i++)
        CHECKF(flip_said[i], "no flip made check say \"%s\"", flip_says[i]);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    for (int i = 0; i < 6; i++)
        if (i != 1 && i != 4)
            os_memheap_free(&heap, b[i]);
    CHECK_EQ(heap_info(&heap).mem_used, 0);
    CHECK_REPORTS(0);
    heap_close(&heap);
}

static const size_t many_sizes[] = {1,   2,   7,   8,   9,   15,  16,   17,   24,   31,   32,
                                    33,  48,  63,  64,  65,  100, 127,  128,  129,  255,  256,
                                    257, 500, 511, 512, 513, 1000, 1023, 1024, 1025, 2000, 2047,
                                    2048, 4000};

#if TEST_SMALL_TEXTS
#define CHECK_SAID(text) CHECK_REPORTED()      /* (the small build's reports carry a fixed text per kind) */
#else
#define CHECK_SAID(text) CHECKF(hook_seen(text), "no report said \"%s\" (last: %s)", text, hook_last_msg())
#endif

/*
 * The diagnostics of check and walk that only a damaged heap raises, each
 * produced on its own, reported with what it found, and undone: check
 * passes again.
 *  - First-fit: a used block rewritten as a free one (size, footer) next
 *    to a free block: "two adjacent free blocks". The same between two
 *    used blocks, with the right one's left-free flag flipped so that it
 *    agrees (the xor keeps its check valid, see firstfit.c's PFLIP): the
 *    block is in no list, "free blocks missing from the free lists". A
 *    block size of 0: walk stops, "block size out of range".
 *  - Buddy: a used block of an order above the quick lists retagged quick
 *    (the tag enters its info and its seal alike, so both change): "quick
 *    block of an order without a quick list". Two buddies listed apart:
 *    one is freed while the other, already listed, has a changed info word
 *    (free takes it for a block of another order and does not merge), and
 *    the word is put back: "two free buddies not merged".
 *  - Trace builds: a per-task row 8 bytes above what its blocks hold.
 */
static void check_diagnostics(const struct test_alg *a)
{
    check_context("%s: check and walk on a damaged heap", a->name);
    open_fresh(a->alg);
    if (strcmp(a->name, "firstfit") == 0)
    {
        const size_t w = TEST_FF_WORD;
        const uint32_t pflip = w == 2 ? 0x802u : 0x80002u;     /* F_PFREE times the check's flag factor */
        unsigned char *p[5];
        size_t header = 0;
        for (int i = 0; i < 5; i++)
            p[i] = os_memheap_alloc(&heap, 64);
        CHECK(p[0] && p[1] && p[2] && p[3] && p[4]);
        if (!(p[0] && p[1] && p[2] && p[3] && p[4]))
        {
            heap_close(&heap);
            return;
        }
        os_memheap_free(&heap, p[0]);   /* listed: p[1] follows it */
        (void)os_memheap_walk(&heap, find_header, &header);
        for (int v = 1; v <= 2; v++)
        {
            /* v 1: p[1], after the free block; v 2: p[2], between used blocks */
            struct os_memheap_block b = block_at(&heap, p[v]);
            uint32_t chunks = (uint32_t)(b.total / OS_MEM_ALIGN_SIZE), size_word = chunks << 1;
            unsigned char *w0 = p[v] - 2 * w, *foot = p[v] - header + b.total - w;
            uint32_t old_w0 = 0, old_foot = 0;
            test_unpoison(w0, w);
            test_unpoison(foot, w);
            memcpy(&old_w0, w0, w);
            memcpy(&old_foot, foot, w);
            test_poke_bytes(w0, &size_word, w);
            test_poke_bytes(foot, &chunks, w);
            if (v == 2)
                xor_word(p[3] - w, pflip, w);
            hook_reset();
            CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
            CHECK_SAID(v == 1 ? "two adjacent free blocks" : "free blocks missing from the free lists");
            test_poke_bytes(w0, &old_w0, w);
            test_poke_bytes(foot, &old_foot, w);
            if (v == 2)
                xor_word(p[3] - w, pflip, w);
            hook_reset();
            CHECK_EQ(os_memheap_check(&heap), OS_EOK);
            CHECK_REPORTS(0);
        }
        uint32_t old_w0 = 0, zero = 0;
        test_unpoison(p[3] - 2 * w, w);
        memcpy(&old_w0, p[3] - 2 * w, w);
        test_poke_bytes(p[3] - 2 * w, &zero, w);
        hook_reset();
        size_t n = 0;
        CHECK_EQ(os_memheap_walk(&heap, count_blocks, &n), OS_ERROR);
        CHECK_SAID("block size out of range");
        test_poke_bytes(p[3] - 2 * w, &old_w0, w);
        hook_reset();
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        for (int i = 1; i < 5; i++)
            os_memheap_free(&heap, p[i]);
    }
    else if (strcmp(a->name, "buddy") == 0)
    {
        /* aligned to its size: its upper half is one block of 64 KiB, two of BD_BIG at the least */
        static _Alignas(131072) unsigned char zone[128 * KiB];
        heap_close(&heap);
        heap_open(&heap, "corrupt");
        heap_add_ok(&heap, zone, sizeof zone, a->alg);
        unsigned char *p = os_memheap_alloc(&heap, BD_BIG_REQ);
        const uint32_t retag = 0xA6u ^ 0x3Cu;   /* tag used -> tag quick */
        CHECK(p != OS_NULL);
        if (p != OS_NULL)
        {
            xor_word(p - 8, retag, 4);      /* info, then its seal */
            xor_word(p - 4, retag, 4);
            hook_reset();
            CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
            CHECK_SAID("quick block of an order without a quick list");
            xor_word(p - 8, retag, 4);
            xor_word(p - 4, retag, 4);
            hook_reset();
            CHECK_EQ(os_memheap_check(&heap), OS_EOK);
            os_memheap_free(&heap, p);
        }
        unsigned char *q[4], *x, *y;
        alloc_buddies(q, &x, &y);
        CHECK(y != OS_NULL);
        if (y != OS_NULL)
        {
            os_memheap_free(&heap, x);      /* listed: its buddy y is in use */
            xor_word(x - 8, 1, 4);          /* x's info word (its tag) */
            os_memheap_free(&heap, y);      /* listed too, not merged */
            xor_word(x - 8, 1, 4);
            hook_reset();
            CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
            CHECK_SAID("two free buddies not merged");
            /* both back (y, the head of their list, first), then freed: they merge */
            unsigned char *y2 = os_memheap_alloc(&heap, BD_BIG_REQ), *x2 = os_memheap_alloc(&heap, BD_BIG_REQ);
            CHECK(y2 == y && x2 == x);
            os_memheap_free(&heap, y2);
            os_memheap_free(&heap, x2);
            hook_reset();
            CHECK_EQ(os_memheap_check(&heap), OS_EOK);
            CHECK_REPORTS(0);
        }
        for (int i = 0; i < 4; i++)
            if (q[i] != x && q[i] != y)
                os_memheap_free(&heap, q[i]);
    }
#ifdef OS_USING_MEM_TRACE
    unsigned char *q = os_memheap_alloc(&heap, 100);
    unsigned row = 0;
    while (row < OS_MEM_TRACE_TASKS && heap.task[row].bytes == 0)
        row++;
    CHECK(q != OS_NULL && row < OS_MEM_TRACE_TASKS);
    if (q != OS_NULL && row < OS_MEM_TRACE_TASKS)
    {
        heap.task[row].bytes += 8;
        hook_reset();
        CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
        CHECK_SAID("per-task rows hold");
        heap.task[row].bytes -= 8;
        hook_reset();
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        os_memheap_free(&heap, q);
    }
#endif
    CHECK_EQ(heap_info(&heap).mem_used, 0);
    hook_reset();
    heap_close(&heap);
}

/*
 * First-fit: top's index (outside the control data's seal: alloc and free
 * change it) moved to the region's end, as if there were no top, while the
 * last block is free: check reports that top does not match the last
 * block, and passes again once the index is back. Top's index is found as
 * in top_set_to_zero().
 */
static void top_not_last_block(const struct test_alg *a)
{
    static _Alignas(64) unsigned char zone[8192];
    unsigned char s0[1024], s1[1024], s2[1024];

    if (strcmp(a->name, "firstfit") != 0)
        return;
    check_context("%s: top's index moved past the last block", a->name);
    heap_open(&heap, "toplast");
    heap_add_ok(&heap, zone, sizeof zone, a->alg);
    size_t span = ctrl_span(zone);
    CHECK(span > 0 && span <= sizeof s0);
    if (span == 0 || span > sizeof s0)
    {
        heap_close(&heap);
        return;
    }
    test_unpoison(zone, span);
    memcpy(s0, zone, span);
    unsigned char *b0 = os_memheap_alloc(&heap, 24);
    memcpy(s1, zone, span);
    unsigned char *b1 = os_memheap_alloc(&heap, 24);
    memcpy(s2, zone, span);
    CHECK(b0 != OS_NULL && b1 != OS_NULL);
    size_t top_off = b0 ? word_stepping(s0, s1, s2, span, block_at(&heap, b0).total / OS_MEM_ALIGN_SIZE) : 0;
    CHECKF(top_off != 0, "top's index not found in the %zu bytes of control data", span);
    struct os_memheap_block top = { 0 };
    (void)os_memheap_walk(&heap, last_block, &top);
    CHECK(!top.used);
    if (top_off != 0 && !top.used)
    {
        size_t old, end;
        memcpy(&old, zone + top_off, sizeof old);
        end = old + top.total / OS_MEM_ALIGN_SIZE;
        test_poke_bytes(zone + top_off, &end, sizeof end);
        hook_reset();
        CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
        CHECK_SAID("top block does not match the last block");
        test_poke_bytes(zone + top_off, &old, sizeof old);
        hook_reset();
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        CHECK_REPORTS(0);
    }
    heap_close(&heap);
}

static void bad_frees(const struct test_alg *a)
{
    check_context("%s: bad frees", a->name);
    open_fresh(a->alg);
    for (size_t i = 0; i < sizeof many_sizes / sizeof many_sizes[0]; i++)
    {
        size_t sz = many_sizes[i];
        check_context("%s: bad frees, size %zu", a->name, sz);
        unsigned char *before = os_memheap_alloc(&heap, 32);
        unsigned char *p = os_memheap_alloc(&heap, sz);
        unsigned char *after = os_memheap_alloc(&heap, 32);
        CHECK(before && p && after);
        if (!before || !p || !after)
            break;
        pat_fill(p, 1, 0, sz);
        pat_fill(before, 2, 0, 32);
        pat_fill(after, 3, 0, 32);
        os_meminfo_t info = heap_info(&heap);

        /* interior pointers of a live block */
        for (size_t off = 1; off < sz && off <= 80; off += (off < 16 ? 1 : 8))
        {
            os_memheap_free(&heap, p + off);
            CHECKF(hook_count() == 1, "free(p + %zu): %lu reports", off, hook_count());
            hook_reset();
        }
        CHECK(info_unchanged(&heap, &info));
        CHECK(pat_ok(p, 1, 0, sz));
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        CHECK(os_memheap_usable_size(&heap, p) >= sz);

        /* free, then double free (also after the neighbours are freed and merged) */
        os_memheap_free(&heap, p);
        CHECK_REPORTS(0);
        info = heap_info(&heap);
        os_memheap_free(&heap, p);
        CHECK_REPORTS(1);
        CHECK(info_unchanged(&heap, &info));
        os_memheap_free(&heap, after);
        CHECK_REPORTS(0);
        info = heap_info(&heap);
        os_memheap_free(&heap, p);
        CHECK_REPORTS(1);
        os_memheap_free(&heap, after);
        CHECK_REPORTS(1);
        CHECK(info_unchanged(&heap, &info));
        CHECK(pat_ok(before, 2, 0, 32));
        CHECK_EQ(os_memheap_check(&heap), OS_EOK);
        os_memheap_free(&heap, before);
        CHECK_REPORTS(0);
        CHECK_EQ(heap_info(&heap).mem_used, 0);

        /* a stale pointer whose memory now belongs to a bigger live block */
        unsigned char *big = os_memheap_alloc(&heap, sz + 200);
        CHECK(big != OS_NULL);
        if (big && p != big && p > big && p < big + sz + 200)
        {
            info = heap_info(&heap);
            os_memheap_free(&heap, p);
            CHECK_REPORTS(1);
            CHECK(info_unchanged(&heap, &info));
        }
        os_memheap_free(&heap, big);
        CHECK_REPORTS(0);
    }

    /* foreign pointers at many offsets */
    check_context("%s: foreign frees", a->name);
    unsigned char *live = os_memheap_alloc(&heap, 100);
    CHECK(live != OS_NULL);
    os_meminfo_t info = heap_info(&heap);
    for (size_t off = 0; off < sizeof foreign_buf; off += 8)
    {
        os_memheap_free(&heap, foreign_buf + off);
        CHECKF(hook_count() == 1, "free(foreign + %zu): %lu reports", off, hook_count());
        hook_reset();
    }
    for (size_t off = 1; off < 64; off += 3)
    {
        os_memheap_free(&heap, foreign_buf + off);
        CHECKF(hook_count() == 1, "free(foreign + %zu): %lu reports", off, hook_count());
        hook_reset();
    }
    /* pointers into the region that were never handed out */
    for (size_t off = 0; off < REG_SIZE; off += REG_SIZE / 16)
    {
        unsigned char *x = REG + off;
        if (live && x >= live - 64 && x < live + 128)
            continue;
        os_memheap_free(&heap, x);
        CHECKF(hook_count() == 1, "free(region + %zu): %lu reports", off, hook_count());
        hook_reset();
    }
    CHECK(info_unchanged(&heap, &info));
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    os_memheap_free(&heap, live);
    CHECK_EQ(heap_info(&heap).mem_used, 0);
    CHECK_REPORTS(0);
    heap_close(&heap);
}

#endif /* TEST_BAD_OPS */

#if !TEST_BAD_OPS && defined(OS_MEM_PORT_POSIX)
/* OS_MEM_ERROR_ASSERT: a double free reports and then asserts (the process dies). */
static _Alignas(64) unsigned char death_region[16 * 1024];

static void double_free_dies(enum os_mem_alg alg, const char *name)
{
    check_context("%s: double free in an OS_MEM_ERROR_ASSERT build", name);
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
    {
        static os_memheap_t h;
        if (os_memheap_init(&h, "death") != OS_EOK ||
            os_memheap_add(&h, death_region, sizeof death_region, alg) != OS_EOK)
            _exit(3);
        void *p = os_memheap_alloc(&h, 100);
        if (!p)
            _exit(4);
        os_memheap_free(&h, p);
        os_memheap_free(&h, p);
        _exit(0);   /* not reached if the double free asserts */
    }
    if (pid < 0)
        return;
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECKF(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
                                   WEXITSTATUS(status) != 3 && WEXITSTATUS(status) != 4),
           "the double free did not assert (status 0x%x)", (unsigned)status);
}
#endif

int main(void)
{
#if !TEST_BAD_OPS
#ifdef OS_MEM_PORT_POSIX
    for (unsigned i = 0; i < test_nalgs; i++)
        double_free_dies(test_algs[i].alg, test_algs[i].name);
    return check_summary("test_corrupt (OS_MEM_ERROR_ASSERT build: death tests only)");
#else
    printf("test_corrupt: skipped (OS_MEM_ERROR_ASSERT asserts on bad frees)\n");
    return TEST_SKIP_CODE;
#endif
#else
    hook_install();
    for (unsigned i = 0; i < test_nalgs; i++)
    {
        const struct test_alg *a = &test_algs[i];
        bad_frees(a);
        header_corruption(a);
        header_bytes(a);
#if OS_MEM_HARDENING >= 2
        tail_overflow(a);
#endif
#if OS_MEM_HARDENING >= 3
        use_after_free(a);
        use_after_free_first_bytes(a);
        use_after_free_grown_over(a);
#endif
        free_link_corruption(a);
        merge_with_corrupt_neighbour(a);
        corrupt_in_last_look(a);
        merge_into_corrupt_top(a);
        overrun_into_next(a);
        nested_host_in_corrupt_region(a);
        forged_header_before_region(a);
        buddy_seal_before_merge(a);
        buddy_back_link(a);
        buddy_listed_block_broken(a);
        buddy_header_padding(a);
        buddy_bytes_after_region(a);
        control_byte_flips(a);
#if OS_MEM_HARDENING >= 2
        stray_control_writes(a);
        restored_control_data(a);
        restored_after_shrink(a);
        restored_top_over_forged_header(a);
        top_set_to_zero(a);
        unsealed_nested_region(a);
        restored_link_closes_loop(a);
        restored_link_into_other_heap(a);
#endif
        deinit_past_broken_region(a);
        aligned_trailer_bytes(a);
        write_after_free_first_word(a);
        double_free_named(a);
        not_in_use_named(a);
        stale_pointer_after_readd(a);
        buddy_table_bits(a);
        check_diagnostics(a);
        top_not_last_block(a);
        successor_back_link(a);
        footer_names_other_block(a);
        shrink_or_aligned_free_before_overrun(a);
        head_link_past_lists(a);
        control_data_corruption(a);
        statistics_corruption(a);
        region_link_loop(a);
        first_link_wild(a);
        walk_stops_at_header(a);
        region_control_fields(a);
        free_at_region_edges(a);
    }
    hook_uninstall();
    return check_summary("test_corrupt");
#endif
}
