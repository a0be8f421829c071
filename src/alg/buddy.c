/*
 * buddy.c - binary buddy allocator: power-of-two blocks, split on
 * allocation, merged with their buddy on free.
 *
 * Geometry. The region is cut into units of U bytes: 32 on 64-bit targets,
 * 16 on 32-bit ones (at least 2 * OS_MEM_ALIGN_SIZE). Unit i lives at
 * first + i * U, first being the first U-aligned address after the control
 * data; n units fit before r->end (the last few bytes, less than a unit,
 * are lost). A block of order k is 2^k units, and it is naturally aligned
 * by address: its address is a multiple of U << k. Indices are relative to
 * first; alignment is tested on the absolute index a = i + o, where
 * o = (first / U) mod 2^30, so that a block's index alignment is its address
 * alignment. The buddy of the block of order k at a is at a ^ 2^k.
 *
 * Any region, any alignment: init tiles [0, n) greedily with the largest
 * naturally aligned power-of-two blocks that fit, so every whole unit is
 * part of some block, and a request is never capped below the largest block
 * the region holds.
 *
 * Block table (control data, out of the blocks): 2 bits per unit,
 *     0  not a block start (inside a block)
 *     1  start of a free block
 *     2  start of a used plain block
 *     3  start of a used aligned block
 * so a pointer is recognised exactly in O(1): interior and foreign pointers
 * point at a unit whose code is not 2 or 3 (or at the wrong offset in it),
 * and a freed block's code is 1, or 0 once it was merged. The table also
 * gives every block's order (used by walk, check and aligned blocks): the
 * block at i has order k iff units i + 2^j are inside it for j < k and unit
 * i + 2^k is the next block's start or the end; O(log n) probes.
 *
 * Plain and free blocks start with a header of H = OS_MEM_ALIGN_SIZE bytes
 * whose last 8 bytes, right before the payload, are two 32-bit words:
 *     info = owner << 16 | order << 8 | tag       tag: used, free or quick
 *     seal = info ^ hash(i)
 * A header that does not match its seal, its tag or its table code is
 * reported and never followed: a write running backwards off a payload, or
 * a stray write into a free block, is caught by free, alloc and check. The
 * payload (at block + H) is OS_MEM_ALIGN_SIZE-aligned. A free block keeps
 * two 32-bit links (next, prev unit index, NIL = ~0) in the first 8 payload
 * bytes, so a unit must hold H + 8 bytes: the smallest block is 32 bytes on
 * 64-bit targets (24 usable), 16 on 32-bit ones (8 usable).
 *
 * Aligned blocks (aligned_alloc) have no header: the payload is the block
 * start, naturally aligned to the block size, so a request whose order
 * already gives the alignment is not padded at all. log2 of the requested
 * alignment is kept in the block's last byte (query reports it, so a moving
 * realloc reproduces the alignment exactly in any region); with
 * OS_USING_MEM_TRACE the owner's task index takes the two bytes before it.
 *
 * Per-block overhead: H bytes (8 by default) for a plain block, 1 byte (3
 * with trace) for an aligned block, plus 2 bits of block table per unit
 * (0.8 % of the region on 64-bit targets, 1.6 % on 32-bit ones).
 *
 * Free lists: one doubly linked list per order, a head per order and a
 * bitmap `avail` of non-empty orders. Allocation of order k takes the head
 * of the first non-empty order >= k (one find-first-set) and splits it down
 * to k, the upper halves going to the (empty) lists in between. Release
 * merges a block with its buddy while the buddy is a whole free block of
 * the same order. Both are O(log n), no list is ever scanned. Links are
 * checked against both list neighbours (or the head) before a block is
 * unlinked, and a corrupt buddy is reported and left alone.
 *
 * Quick lists. A split down to order k and the merge back up cost a few
 * instructions per level, and a fresh 1 MiB region has 15 levels. So free
 * puts a block of order k < QN, unmerged, in the quick list of its order
 * while that holds fewer than QDEPTH blocks, and the next request of that
 * order takes it back in O(1). A quick block is free in the table (code 1)
 * with its own tag, and its links are checked like a listed block's; a
 * release merges with a quick buddy like with a listed one. When no listed
 * block serves a request, the quick blocks are released (at most
 * QN * QDEPTH merges, so still O(log n)) and the lists tried again: quick
 * blocks never make a request fail that eager merging would serve.
 *
 * Invariants (checked by bd_check):
 *  - the blocks tile [0, n); each is naturally aligned; its start has a
 *    nonzero code, every other unit code 0;
 *  - a free or plain block's header is sealed, its tag agrees with its code
 *    and its order with the table;
 *  - no two listed free buddies of the same order (release merges them);
 *  - every free block is in exactly one list: the free list of its order,
 *    or (tagged quick) the quick list of its order, which holds at most
 *    QDEPTH blocks, qcount of them; bit k of avail is set iff free list k is
 *    non-empty.
 */
#include "oh_string.h"

#include "alg.h"
#include "bitops.h"

#define H           ((os_size_t)OS_MEM_ALIGN_SIZE)
#if UINTPTR_MAX > 0xFFFFFFFFu
#define U_MIN       32u
#else
#define U_MIN       16u
#endif
#define U           ((os_size_t)(2u * OS_MEM_ALIGN_SIZE > U_MIN ? 2u * OS_MEM_ALIGN_SIZE : U_MIN))
#define SHIFT       (U == 16 ? 4u : U == 32 ? 5u : U == 64 ? 6u : U == 128 ? 7u : U == 256 ? 8u : 9u)
#define MAX_ORDER   30u                             /* 2^30 units per region */
#define MAX_UNITS   ((os_size_t)1 << MAX_ORDER)
#define NIL         0xFFFFFFFFu
#define BAD         0xFFFFFFFEu     /* take(): a corrupt block was met and reported */
#ifdef OS_USING_MEM_TRACE
#define TRL         3u      /* aligned block: owner (2 bytes), log2 of the alignment */
#else
#define TRL         1u      /* aligned block: log2 of the alignment */
#endif

#define C_NONE      0u
#define C_FREE      1u
#define C_USED      2u
#define C_ALGN      3u

#define T_USED      0xA6u
#define T_FREE      0x59u       /* free, in the list of its order */
#define T_QUICK     0x3Cu       /* free, in the quick list of its order */
#define QN          8u          /* quick lists: orders 0 .. QN - 1 */
#define QDEPTH      4u          /* blocks per quick list */
#define BAD_ORDER   0xFFu

struct bd
{
    os_uint8_t  *first;     /* unit 0 */
    os_uint32_t *codes;     /* block table, 16 units per word */
    os_size_t    n;         /* units */
    os_size_t    o;         /* absolute index of unit 0, mod 2^MAX_ORDER */
    os_size_t    maxblk;    /* bytes in a block of the highest order */
    os_uint32_t  avail;     /* bit k: list k non-empty */
    os_uint32_t  nord;      /* orders 0 .. nord - 1 */
    os_uint32_t  qheads[QN];    /* freed, unmerged blocks of the small orders */
    os_uint8_t   qcount[QN];    /* blocks in each quick list, <= QDEPTH */
    os_uint32_t  heads[];   /* one per order; the block table follows */
};

#define BD(r)       ((struct bd *)OH_REGION_DATA(r))

/* ---- block table and headers ------------------------------------------------ */

static inline unsigned code(const struct bd *d, os_size_t i)
{
    return (unsigned)(d->codes[i >> 4] >> ((i & 15u) * 2u)) & 3u;
}

static inline void set_code(const struct bd *d, os_size_t i, unsigned c)
{
    os_uint32_t *w = &d->codes[i >> 4];
    unsigned sh = (unsigned)(i & 15u) * 2u;

    *w = (*w & ~((os_uint32_t)3u << sh)) | ((os_uint32_t)c << sh);
}

static inline os_uint8_t *unit(const struct bd *d, os_size_t i)
{
    return d->first + (i << SHIFT);
}

static inline os_uint32_t *hd(const struct bd *d, os_size_t i)
{
    return (os_uint32_t *)(void *)(unit(d, i) + H - 8);
}

/* The free-list links of a free block: next, prev. */
static inline os_uint32_t *lk(const struct bd *d, os_size_t i)
{
    return (os_uint32_t *)(void *)(unit(d, i) + H);
}

static inline os_uint32_t seal(os_size_t i, os_uint32_t info)
{
    return info ^ ((os_uint32_t)i * 0x9E3779B1u);
}

static inline void put_hdr(const struct bd *d, os_size_t i, unsigned k, unsigned tag, os_uint16_t owner)
{
    os_uint32_t *h = hd(d, i);
    os_uint32_t info = ((os_uint32_t)owner << 16) | ((os_uint32_t)k << 8) | tag;

    h[0] = info;
    h[1] = seal(i, info);
}

/* The order in block i's header if it is sealed and carries tag, else BAD_ORDER. */
static inline unsigned hdr_order(const struct bd *d, os_size_t i, unsigned tag)
{
    const os_uint32_t *h = hd(d, i);
    os_uint32_t info = h[0];
    unsigned k = (unsigned)(info >> 8) & 0xFFu;

    if (h[1] != seal(i, info) || (info & 0xFFu) != tag || k >= d->nord)
    {
        return BAD_ORDER;
    }
    return k;
}

/*
 * The order of the block that starts at i, from the block table alone, or
 * -1 if the table is inconsistent there (misaligned, or past the end).
 */
static int probe(const struct bd *d, os_size_t i)
{
    os_size_t a = i + d->o;
    unsigned j;

    for (j = 0; j < d->nord; j++)
    {
        os_size_t s = (os_size_t)1 << j;
        os_size_t e = i + s;

        if ((a & (s - 1)) != 0 || e > d->n)
        {
            return -1;
        }
        if (e == d->n || code(d, e) != C_NONE)
        {
            return (int)j;
        }
    }
    return -1;
}

/* Units needed for `bytes`, as an order. bytes <= d->maxblk. */
static inline unsigned order_for(os_size_t bytes)
{
    return bytes <= U ? 0u : oh_msb32((os_uint32_t)((bytes - 1) >> SHIFT)) + 1u;
}

/* ---- free lists --------------------------------------------------------------- */

/*
 * The same doubly linked lists hold the listed free blocks (heads) and the
 * quick blocks (qheads). lpush() and lcut() return whether the list was or
 * became empty, so that the caller can keep avail.
 */
static inline int lpush(const struct bd *d, os_uint32_t *heads, os_size_t i, unsigned k)
{
    os_uint32_t h = heads[k];
    os_uint32_t *l = lk(d, i);

    l[0] = h;
    l[1] = NIL;
    heads[k] = (os_uint32_t)i;
    if (h != NIL)
    {
        lk(d, h)[1] = (os_uint32_t)i;
        return 0;
    }
    return 1;
}

/* Are free block i's links consistent with both list neighbours (or the head)? */
static inline int links_ok(const struct bd *d, const os_uint32_t *heads, os_size_t i, unsigned k)
{
    const os_uint32_t *l = lk(d, i);
    os_uint32_t nx = l[0], pv = l[1];

    if (nx != NIL && (nx >= d->n || lk(d, nx)[1] != i))
    {
        return 0;
    }
    if (pv == NIL)
    {
        return heads[k] == i;
    }
    return pv < d->n && lk(d, pv)[0] == i;
}

/* Unlink free block i, whose links passed links_ok(). */
static inline int lcut(const struct bd *d, os_uint32_t *heads, os_size_t i, unsigned k)
{
    const os_uint32_t *l = lk(d, i);
    os_uint32_t nx = l[0], pv = l[1];

    if (nx != NIL)
    {
        lk(d, nx)[1] = pv;
    }
    if (pv != NIL)
    {
        lk(d, pv)[0] = nx;
        return 0;
    }
    heads[k] = nx;
    return nx == NIL;
}

static inline void push(struct bd *d, os_size_t i, unsigned k)
{
    if (lpush(d, d->heads, i, k))
    {
        d->avail |= (os_uint32_t)1 << k;
    }
}

static inline void cut(struct bd *d, os_size_t i, unsigned k)
{
    if (lcut(d, d->heads, i, k))
    {
        d->avail &= ~((os_uint32_t)1 << k);
    }
}

/* ---- quick lists ------------------------------------------------------------- */

/* Is i, the head of quick list k, a sound quick block (header, links)? */
static inline int quick_ok(const struct bd *d, os_size_t i, unsigned k)
{
    const os_uint32_t *h;
    os_uint32_t info = ((os_uint32_t)k << 8) | T_QUICK;
    os_uint32_t nx;

    if (i >= d->n)
    {
        return 0;
    }
    h = hd(d, i);
    nx = h[2];      /* h[2], h[3]: the links, right after the header */
    return h[0] == info && h[1] == seal(i, info) && h[3] == NIL &&
           (nx == NIL || (nx < d->n && lk(d, nx)[1] == i));
}

/* Pop i, the head of quick list k, which passed quick_ok(). */
static inline void quick_pop(struct bd *d, os_size_t i, unsigned k)
{
    os_uint32_t nx = lk(d, i)[0];

    d->qheads[k] = nx;
    if (nx != NIL)
    {
        lk(d, nx)[1] = NIL;
    }
    d->qcount[k]--;
}

/* Free used block i of order k into quick list k, which is not full. */
static inline void quick_push(struct bd *d, os_size_t i, unsigned k)
{
    d->qcount[k]++;
    put_hdr(d, i, k, T_QUICK, 0);
    (void)lpush(d, d->qheads, i, k);
    set_code(d, i, C_FREE);
}

/* Quick list k is corrupt: forget it (its blocks stay out of use; check reports them). */
static OH_NOINLINE os_size_t quick_bad(const struct heap_mem *r, struct bd *d, unsigned k)
{
    os_size_t i = d->qheads[k];

    d->qheads[k] = NIL;
    d->qcount[k] = 0;
    oh_fault(r, i < d->n ? (void *)(unit(d, i) + H) : OS_NULL, OS_ERROR,
             "quick block header or links overwritten");
    return BAD;
}

/*
 * Is i a whole free block of order k? 1: yes, listed, with sound links;
 * 2: yes, the sound quick block of order k; 0: no (used, split or another
 * order); -1: corrupt.
 */
static inline int free_buddy(const struct bd *d, os_size_t i, unsigned k)
{
    const os_uint32_t *h;
    os_uint32_t info;

    if (i >= d->n || code(d, i) != C_FREE)
    {
        return 0;
    }
    h = hd(d, i);
    info = h[0];
    if (h[1] != seal(i, info))
    {
        return -1;
    }
    if (info == (((os_uint32_t)k << 8) | T_FREE))
    {
        return links_ok(d, d->heads, i, k) ? 1 : -1;
    }
    if (info == (((os_uint32_t)k << 8) | T_QUICK))
    {
        return (k < QN && links_ok(d, d->qheads, i, k)) ? 2 : -1;
    }
    return ((info & 0xFFu) == T_FREE || (info & 0xFFu) == T_QUICK) ? 0 : -1;
}

/* ---- taking and releasing blocks ---------------------------------------------- */

static OH_NOINLINE os_size_t take_bad(const struct heap_mem *r, const struct bd *d, os_size_t i)
{
    oh_fault(r, i < d->n ? (void *)(unit(d, i) + H) : OS_NULL, OS_ERROR,
             "free block header or list links overwritten");
    return BAD;
}

/*
 * Take a free block of order k from the lists: the head of the first
 * non-empty list >= k, split down to k (the upper halves go to the lists in
 * between, which are empty). Returns its index, NIL if no list can serve,
 * BAD if a corrupt block was met (reported). Its code is still C_FREE.
 */
static inline os_size_t take(const struct heap_mem *r, struct bd *d, unsigned k)
{
    os_uint32_t m = d->avail & (~(os_uint32_t)0 << k);
    unsigned j;
    os_size_t i;
    os_uint32_t nx;
    const os_uint32_t *l;

    if (OH_UNLIKELY(m == 0))
    {
        return NIL;
    }
    j = oh_ctz32(m);
    i = d->heads[j];
    if (OH_UNLIKELY(i >= d->n || code(d, i) != C_FREE || hdr_order(d, i, T_FREE) != j))
    {
        return take_bad(r, d, i);
    }
    l = lk(d, i);
    nx = l[0];
    if (OH_UNLIKELY(l[1] != NIL || (nx != NIL && (nx >= d->n || lk(d, nx)[1] != i))))
    {
        return take_bad(r, d, i);
    }
    d->heads[j] = nx;
    if (nx != NIL)
    {
        lk(d, nx)[1] = NIL;
    }
    else
    {
        d->avail &= ~((os_uint32_t)1 << j);
    }
    if (j > k)
    {
        /* Lists k .. j - 1 were empty: each gets one upper half. */
        d->avail |= ((os_uint32_t)1 << j) - ((os_uint32_t)1 << k);
        do
        {
            os_size_t b;
            os_uint32_t *bl;

            j--;
            b = i + ((os_size_t)1 << j);
            put_hdr(d, b, j, T_FREE, 0);
            set_code(d, b, C_FREE);
            bl = lk(d, b);
            bl[0] = NIL;
            bl[1] = NIL;
            d->heads[j] = (os_uint32_t)b;
        } while (j > k);
    }
    return i;
}

/*
 * Make block i of order k (its code still says used) free, merging it with
 * its buddy while the buddy is a whole free block of the same order. A
 * corrupt buddy is reported and not merged.
 */
static void release(const struct heap_mem *r, struct bd *d, os_size_t i, unsigned k)
{
    os_size_t a = i + d->o;

    while (k + 1 < d->nord)
    {
        os_size_t ba = a ^ ((os_size_t)1 << k);
        os_size_t b = ba - d->o;    /* wraps to a huge value below unit 0 */
        int fb = free_buddy(d, b, k);

        if (fb <= 0)
        {
            if (OH_UNLIKELY(fb < 0))
            {
                oh_fault(r, unit(d, b) + H, OS_ERROR, "free block header or list links overwritten");
            }
            break;
        }
        if (fb == 2)
        {
            (void)lcut(d, d->qheads, b, k);
            d->qcount[k]--;
        }
        else
        {
            cut(d, b, k);
        }
        if (ba < a)
        {
            set_code(d, i, C_NONE);
            i = b;
            a = ba;
        }
        else
        {
            set_code(d, b, C_NONE);
        }
        k++;
    }
    put_hdr(d, i, k, T_FREE, 0);
    set_code(d, i, C_FREE);
    push(d, i, k);
}

/*
 * Merge every quick block into the lists (when a request found no listed
 * block: the quick blocks may merge into one that serves it). At most QN
 * releases, so still O(log n). Returns how many were released.
 */
static OH_NOINLINE unsigned flush(const struct heap_mem *r, struct bd *d)
{
    unsigned k, done = 0;

    for (k = 0; k < QN; k++)
    {
        os_size_t i;
        unsigned steps = 0;

        while ((i = d->qheads[k]) != NIL)
        {
            if (!quick_ok(d, i, k) || code(d, i) != C_FREE || ++steps > QDEPTH)
            {
                (void)quick_bad(r, d, k);
                break;
            }
            quick_pop(d, i, k);
            release(r, d, i, k);
            done++;
        }
    }
    return done;
}

static OH_NOINLINE os_size_t take_slow(const struct heap_mem *r, struct bd *d, unsigned k)
{
    os_size_t i = NIL;

    if (flush(r, d) != 0)
    {
        i = take(r, d, k);
    }
    return i;
}

/*
 * A free block of order k, its code still C_FREE: the head of quick list
 * k, else from the lists, else from the lists after a flush. NIL or BAD if
 * none. A corrupt quick list is reported and dropped.
 */
static inline os_size_t grab(const struct heap_mem *r, struct bd *d, unsigned k)
{
    os_size_t i;

    if (k < QN && (i = d->qheads[k]) != NIL)
    {
        if (OH_LIKELY(quick_ok(d, i, k)))
        {
            quick_pop(d, i, k);
            return i;
        }
        (void)quick_bad(r, d, k);   /* reported; the lists may still serve */
    }
    i = take(r, d, k);
    if (OH_UNLIKELY(i == NIL))
    {
        i = take_slow(r, d, k);
    }
    return i;
}

/*
 * Free used block i of order k: into the quick list of its order if that is
 * not full (no merge: the next request of that order takes it back in
 * O(1)), else release it.
 */
static inline void give_back(const struct heap_mem *r, struct bd *d, os_size_t i, unsigned k)
{
    if (k < QN && d->qcount[k] < QDEPTH)
    {
        quick_push(d, i, k);
        return;
    }
    release(r, d, i, k);
}

/* ---- aligned blocks ------------------------------------------------------------- */

/* The last byte of block i of order k. */
static inline os_uint8_t *blk_end(const struct bd *d, os_size_t i, unsigned k)
{
    return unit(d, i + ((os_size_t)1 << k));
}

static inline void put_trl(const struct bd *d, os_size_t i, unsigned k, unsigned lg, os_uint16_t owner)
{
    os_uint8_t *e = blk_end(d, i, k);

    e[-1] = (os_uint8_t)lg;
#ifdef OS_USING_MEM_TRACE
    memcpy(e - 3, &owner, 2);
#else
    (void)owner;
#endif
}

static inline os_uint16_t trl_owner(const struct bd *d, os_size_t i, unsigned k)
{
#ifdef OS_USING_MEM_TRACE
    os_uint16_t owner;

    memcpy(&owner, blk_end(d, i, k) - 3, 2);
    return owner;
#else
    (void)d;
    (void)i;
    (void)k;
    return 0;
#endif
}

/*
 * The alignment an aligned block was allocated with. A block shrunk by
 * realloc may be smaller than its alignment, so the byte is checked against
 * the address; a smashed byte falls back to the address's own alignment.
 */
static inline os_size_t trl_align(const struct bd *d, os_size_t i, unsigned k)
{
    unsigned lg = blk_end(d, i, k)[-1];
    os_size_t at = (os_size_t)(os_ubase_t)unit(d, i);

    if (lg > oh_ctz32(OS_MEM_ALIGN_SIZE) && lg < 8 * sizeof(os_size_t) &&
        (at & (((os_size_t)1 << lg) - 1)) == 0)
    {
        return (os_size_t)1 << lg;
    }
    return at & (0u - at);
}

/* ---- pointer validation ---------------------------------------------------------- */

/*
 * Find the live block whose payload is p: its index, order and code
 * (C_USED or C_ALGN). O(1) for plain blocks, O(log n) for aligned ones.
 */
static int locate(const struct bd *d, const void *p, os_size_t *pi, unsigned *pk, unsigned *pc)
{
    os_size_t off = (os_size_t)((const os_uint8_t *)p - d->first);
    os_size_t i = off >> SHIFT;
    os_size_t rem = off & (U - 1);
    unsigned c, k;
    int pk2;

    if (i >= d->n)
    {
        return BLK_NOT_BLOCK;
    }
    c = code(d, i);
    if (rem == H && c == C_USED)
    {
        k = hdr_order(d, i, T_USED);
        if (k == BAD_ORDER)
        {
            return BLK_CORRUPT;
        }
    }
    else if (rem == 0 && c == C_ALGN)
    {
        pk2 = probe(d, i);
        if (pk2 < 0)
        {
            return BLK_CORRUPT;
        }
        k = (unsigned)pk2;
    }
    else
    {
        return (rem == H && c == C_FREE) ? BLK_FREE : BLK_NOT_BLOCK;
    }
    *pi = i;
    *pk = k;
    *pc = c;
    return BLK_OK;
}

/* ---- operations ------------------------------------------------------------------ */

static inline void *set_used(const struct heap_mem *r, struct bd *d, os_size_t i, unsigned k, os_uint16_t owner)
{
    put_hdr(d, i, k, T_USED, owner);
    set_code(d, i, C_USED);
    oh_took(r, U << k);
    return unit(d, i) + H;
}

static OH_NOINLINE void *alloc_slow(struct heap_mem *r, unsigned k, os_uint16_t owner)
{
    struct bd *d = BD(r);
    os_size_t i = grab(r, d, k);

    return i >= BAD ? OS_NULL : set_used(r, d, i, k, owner);
}

/* A quick block of the request's order is taken inline; the rest is a tail call. */
static void *bd_alloc(struct heap_mem *r, os_size_t size, os_uint16_t owner)
{
    struct bd *d = BD(r);
    os_size_t need = size + H;
    unsigned k;
    os_size_t i;

    if (OH_UNLIKELY(need > d->maxblk))
    {
        return OS_NULL;
    }
    k = order_for(need);
    if (k < QN && (i = d->qheads[k]) != NIL && quick_ok(d, i, k))
    {
        quick_pop(d, i, k);
        return set_used(r, d, i, k, owner);
    }
    return alloc_slow(r, k, owner);
}

static void *bd_aligned_alloc(struct heap_mem *r, os_size_t align, os_size_t size, os_uint16_t owner)
{
    struct bd *d = BD(r);
    unsigned k, ka, lg;
    os_size_t i;

    if (align > d->maxblk || size > d->maxblk - TRL)
    {
        return OS_NULL;
    }
    /* align <= maxblk < 2^(30 + SHIFT), so align >> SHIFT fits 32 bits */
    lg = align >= U ? oh_ctz32((os_uint32_t)(align >> SHIFT)) + SHIFT : oh_ctz32((os_uint32_t)align);
    k = order_for(size + TRL);
    ka = lg > SHIFT ? lg - SHIFT : 0u;
    if (ka > k)
    {
        k = ka;     /* every block of order >= ka is aligned to align */
    }
    i = grab(r, d, k);
    if (i >= BAD)
    {
        return OS_NULL;
    }
    set_code(d, i, C_ALGN);
    put_trl(d, i, k, lg, owner);
    oh_took(r, U << k);
    return unit(d, i);
}

static OH_NOINLINE void free_slow(struct heap_mem *r, struct bd *d, void *p)
{
    os_size_t i;
    unsigned k, c;
    int why = locate(d, p, &i, &k, &c);

    if (why != BLK_OK)
    {
        oh_bad_pointer(r, p, why);
        return;
    }
    oh_gave(r, U << k);
    give_back(r, d, i, k);
}

static OH_NOINLINE void free_release(struct heap_mem *r, os_size_t i, unsigned k)
{
    release(r, BD(r), i, k);
}

/*
 * The plain block fast path, locate() written out; a block whose quick
 * list has room is freed inline, the rest is a tail call.
 */
static void bd_free(struct heap_mem *r, void *p)
{
    struct bd *d = BD(r);
    os_size_t off = (os_size_t)((os_uint8_t *)p - d->first) - H;
    os_size_t i = off >> SHIFT;
    const os_uint32_t *h = (const os_uint32_t *)(const void *)((os_uint8_t *)p - 8);
    os_uint32_t info;
    unsigned k;

    if (OH_LIKELY((off & (U - 1)) == 0 && i < d->n && code(d, i) == C_USED))
    {
        info = h[0];
        k = (unsigned)(info >> 8) & 0xFFu;
        if (OH_LIKELY(h[1] == seal(i, info) && (info & 0xFFu) == T_USED && k < d->nord))
        {
            oh_gave(r, U << k);
            if (k < QN && d->qcount[k] < QDEPTH)
            {
                quick_push(d, i, k);
                return;
            }
            free_release(r, i, k);
            return;
        }
    }
    free_slow(r, d, p);
}

static os_err_t bd_resize(struct heap_mem *r, void *p, os_size_t size)
{
    struct bd *d = BD(r);
    os_size_t i, a;
    unsigned k, c, nk, l, lg = 0;
    os_uint16_t owner = 0;
    os_size_t extra;
    int why = locate(d, p, &i, &k, &c);

    if (why != BLK_OK)
    {
        oh_bad_pointer(r, p, why);
        return OS_EINVAL;
    }
    extra = c == C_USED ? H : TRL;
    if (size > d->maxblk - extra)
    {
        return OS_ENOMEM;
    }
    nk = order_for(size + extra);
    if (c == C_USED)
    {
        owner = (os_uint16_t)(hd(d, i)[0] >> 16);
    }
    else
    {
        lg = blk_end(d, i, k)[-1];
        owner = trl_owner(d, i, k);
    }
    if (nk <= k)
    {
        /* Give back the upper halves; their buddies are (part of) this block. */
        for (l = k; l > nk;)
        {
            os_size_t b;

            l--;
            b = i + ((os_size_t)1 << l);
            put_hdr(d, b, l, T_FREE, 0);
            set_code(d, b, C_FREE);
            push(d, b, l);
        }
    }
    else
    {
        /* Grow while this block is the lower buddy and the upper one is free and whole. */
        a = i + d->o;
        if (nk >= d->nord)
        {
            return OS_ENOMEM;
        }
        for (l = k; l < nk; l++)
        {
            int fb;

            if ((a & (((os_size_t)2 << l) - 1)) != 0)
            {
                return OS_ENOMEM;
            }
            fb = free_buddy(d, i + ((os_size_t)1 << l), l);
            if (fb <= 0)
            {
                if (fb < 0)
                {
                    oh_fault(r, unit(d, i + ((os_size_t)1 << l)) + H, OS_ERROR,
                             "free block header or list links overwritten");
                    return OS_ERROR;
                }
                return OS_ENOMEM;
            }
        }
        for (l = k; l < nk; l++)
        {
            os_size_t b = i + ((os_size_t)1 << l);

            if ((hd(d, b)[0] & 0xFFu) == T_QUICK)
            {
                (void)lcut(d, d->qheads, b, l);
                d->qcount[l]--;
            }
            else
            {
                cut(d, b, l);
            }
            set_code(d, b, C_NONE);
        }
    }
    if (c == C_USED)
    {
        put_hdr(d, i, nk, T_USED, owner);
    }
    else
    {
        put_trl(d, i, nk, lg, owner);
    }
    oh_gave(r, U << k);
    oh_took(r, U << nk);
    return OS_EOK;
}

static void describe(const struct bd *d, os_size_t i, unsigned k, unsigned c, struct os_mem_blk *b)
{
    b->size = U << k;
    b->used = (os_uint8_t)(c != C_FREE);
    b->align = 0;
    b->owner = 0;
    if (c == C_ALGN)
    {
        b->mem = unit(d, i);
        b->usable = b->size - TRL;
        b->align = trl_align(d, i, k);
        b->owner = trl_owner(d, i, k);
        return;
    }
    b->mem = unit(d, i) + H;
    b->usable = b->size - H;
#ifdef OS_USING_MEM_TRACE
    if (c == C_USED)
    {
        b->owner = (os_uint16_t)(hd(d, i)[0] >> 16);
    }
#endif
}

static os_err_t bd_query(const struct heap_mem *r, const void *p, struct os_mem_blk *b)
{
    const struct bd *d = BD(r);
    os_size_t i;
    unsigned k, c;

    if (locate(d, p, &i, &k, &c) != BLK_OK)
    {
        return OS_EINVAL;
    }
    describe(d, i, k, c, b);
    return OS_EOK;
}

static os_err_t bd_walk(const struct heap_mem *r, os_mem_walk_fn fn, void *arg)
{
    const struct bd *d = BD(r);
    os_size_t i = 0;
    struct os_mem_blk b;

    while (i < d->n)
    {
        unsigned c = code(d, i);
        int k = probe(d, i);

        if (c == C_NONE || k < 0)
        {
            oh_fault(r, unit(d, i), OS_ERROR, "block table overwritten");
            return OS_ERROR;
        }
        describe(d, i, (unsigned)k, c, &b);
        if (fn(r, &b, arg) != 0)
        {
            break;
        }
        i += (os_size_t)1 << k;
    }
    return OS_EOK;
}

static os_err_t bd_check(const struct heap_mem *r, os_size_t *used)
{
    const struct bd *d = BD(r);
    os_size_t nfree[MAX_ORDER + 1];
    os_size_t nquick[QN];
    os_size_t i = 0, busy = 0;
    unsigned k;
    int bad = 0;

    memset(nfree, 0, sizeof(nfree));
    memset(nquick, 0, sizeof(nquick));
    if (d->nord == 0 || d->nord > MAX_ORDER + 1)
    {
        oh_fault(r, OS_NULL, OS_ERROR, "check: region control data overwritten");
        *used = 0;
        return OS_ERROR;
    }

    /* Every block, in address order. */
    while (i < d->n)
    {
        unsigned c = code(d, i);
        int pk = probe(d, i);

        if (c == C_NONE || pk < 0)
        {
            oh_fault(r, unit(d, i), OS_ERROR, "check: block table overwritten (no block starts here)");
            bad = 1;
            i++;
            while (i < d->n && code(d, i) == C_NONE)
            {
                i++;
            }
            continue;
        }
        k = (unsigned)pk;
        if (c == C_FREE || c == C_USED)
        {
            unsigned tag = c == C_USED ? T_USED : (hd(d, i)[0] & 0xFFu) == T_QUICK ? T_QUICK : T_FREE;

            if (hdr_order(d, i, tag) != k)
            {
                oh_fault(r, unit(d, i) + H, OS_ERROR, "check: block header overwritten");
                bad = 1;
            }
            else if (tag == T_QUICK)
            {
                if (k < QN)
                {
                    nquick[k]++;
                }
                else
                {
                    oh_fault(r, unit(d, i) + H, OS_ERROR, "check: quick block of an order without a quick list");
                    bad = 1;
                }
            }
            else if (tag == T_FREE)
            {
                os_size_t ba = (i + d->o) ^ ((os_size_t)1 << k);
                os_size_t b = ba - d->o;

                nfree[k]++;
                if (k + 1 < d->nord && ba > i + d->o && b < d->n && code(d, b) == C_FREE &&
                    probe(d, b) == (int)k && hdr_order(d, b, T_FREE) == k)
                {
                    oh_fault(r, unit(d, i) + H, OS_ERROR, "check: two free buddies not merged");
                    bad = 1;
                }
            }
        }
        else if (blk_end(d, i, k)[-1] >= 8 * sizeof(os_size_t) ||
                 ((os_size_t)1 << blk_end(d, i, k)[-1]) != trl_align(d, i, k))
        {
            oh_fault(r, unit(d, i), OS_ERROR, "check: alignment byte of an aligned block overwritten");
            bad = 1;
        }
        if (c != C_FREE)
        {
            busy += U << k;
        }
        i += (os_size_t)1 << k;
    }

    /* Every quick list: every node's code, header, order and links, and its count. */
    for (k = 0; k < QN; k++)
    {
        os_uint32_t x = d->qheads[k], p = NIL;
        os_size_t steps = 0;

        while (x != NIL)
        {
            if (x >= d->n || ++steps > nquick[k] || code(d, x) != C_FREE ||
                hdr_order(d, x, T_QUICK) != k || lk(d, x)[1] != p)
            {
                oh_fault(r, x < d->n ? (void *)(unit(d, x) + H) : OS_NULL, OS_ERROR,
                         "check: quick list holds a bad node (links overwritten)");
                bad = 1;
                break;
            }
            p = x;
            x = lk(d, x)[0];
        }
        if (x == NIL && (steps != nquick[k] || d->qcount[k] != steps))
        {
            oh_fault(r, OS_NULL, OS_ERROR, "check: quick blocks, quick list and its count disagree");
            bad = 1;
        }
    }

    /* Every list: its bit, every node's code, header, order and links. */
    for (k = 0; k < d->nord; k++)
    {
        os_uint32_t x = d->heads[k], p = NIL;
        os_size_t steps = 0;
        unsigned bit = (unsigned)(d->avail >> k) & 1u;

        if ((x != NIL) != (bit != 0))
        {
            oh_fault(r, OS_NULL, OS_ERROR, "check: bitmap bit disagrees with its free list");
            bad = 1;
        }
        while (x != NIL)
        {
            if (x >= d->n || ++steps > nfree[k] || code(d, x) != C_FREE ||
                hdr_order(d, x, T_FREE) != k || lk(d, x)[1] != p)
            {
                oh_fault(r, x < d->n ? (void *)(unit(d, x) + H) : OS_NULL, OS_ERROR,
                         "check: free list holds a bad node (links overwritten)");
                bad = 1;
                break;
            }
            p = x;
            x = lk(d, x)[0];
        }
        if (x == NIL && steps != nfree[k])
        {
            oh_fault(r, OS_NULL, OS_ERROR, "check: free blocks missing from the free lists");
            bad = 1;
        }
    }
    if ((d->avail >> (d->nord - 1) >> 1) != 0)
    {
        oh_fault(r, OS_NULL, OS_ERROR, "check: bitmap has a bit above the highest order");
        bad = 1;
    }
    *used = busy;
    return bad ? OS_ERROR : OS_EOK;
}

static os_size_t bd_init(struct heap_mem *r)
{
    struct bd *d = BD(r);
    os_uint8_t *data = (os_uint8_t *)d;
    os_size_t room = (os_size_t)(r->end - data);
    os_size_t est, nord, words, i;
    os_uint8_t *first;

    if (room < sizeof(struct bd) + 2 * U)
    {
        return 0;
    }
    est = room / U;
    if (est > MAX_UNITS)
    {
        est = MAX_UNITS;
    }
    nord = (os_size_t)oh_msb32((os_uint32_t)est) + 1u;
    words = (est + 15u) / 16u;
    first = data + sizeof(struct bd) + nord * sizeof(os_uint32_t) + words * sizeof(os_uint32_t);
    first += (U - ((os_size_t)(os_ubase_t)first & (U - 1))) & (U - 1);
    if (first >= r->end || (os_size_t)(r->end - first) < U)
    {
        return 0;
    }
    d->first = first;
    d->n = (os_size_t)(r->end - first) / U;
    if (d->n > MAX_UNITS)
    {
        d->n = MAX_UNITS;
    }
    d->o = ((os_size_t)(os_ubase_t)first >> SHIFT) & (MAX_UNITS - 1);
    d->nord = (os_uint32_t)oh_msb32((os_uint32_t)d->n) + 1u;
    d->maxblk = U << (d->nord - 1);
    d->avail = 0;
    d->codes = &d->heads[nord];
    memset(d->heads, 0xFF, nord * sizeof(os_uint32_t));
    memset(d->qheads, 0xFF, sizeof(d->qheads));
    memset(d->qcount, 0, sizeof(d->qcount));
    memset(d->codes, 0, words * sizeof(os_uint32_t));

    /* Tile [0, n) with the largest naturally aligned blocks that fit. */
    for (i = 0; i < d->n;)
    {
        os_size_t a = i + d->o;
        unsigned k = 0;

        while (k + 1 < d->nord && (a & (((os_size_t)2 << k) - 1)) == 0 && i + ((os_size_t)2 << k) <= d->n)
        {
            k++;
        }
        put_hdr(d, i, k, T_FREE, 0);
        set_code(d, i, C_FREE);
        push(d, i, k);
        i += (os_size_t)1 << k;
    }
    return d->n * U;
}

const struct os_mem_ops oh_buddy_ops = {
    "buddy",
    OS_SIZE_MAX / U >= MAX_UNITS ? MAX_UNITS * U : OS_SIZE_MAX,
    bd_init,
    bd_alloc,
    bd_aligned_alloc,
    bd_free,
    bd_resize,
    bd_query,
    bd_walk,
    bd_check,
};
