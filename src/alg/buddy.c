/*
 * buddy.c - binary buddy allocator: power-of-two blocks, split on
 * allocation, merged with their buddy on free.
 *
 * Geometry. The region is cut into units of U bytes: 32 on 64-bit targets,
 * 16 on 32-bit ones (at least 2 * OS_MEM_ALIGN_SIZE). Unit i lives at
 * first + i * U, first being the first U-aligned address after the control
 * data; n units fit before r->end (the last few bytes, less than two
 * units, are lost: see bd_layout). A block of order k is 2^k units, and it
 * is naturally aligned by address: its address is a multiple of U << k.
 * Indices are relative to first; alignment is tested on the absolute index
 * a = i + o, where o = (first / U) mod 2^30, so that a block's index
 * alignment is its address alignment. The buddy of the block of order k at
 * a is at a ^ 2^k.
 *
 * Any region, any alignment: init tiles [0, n) greedily with the largest
 * naturally aligned power-of-two blocks that fit, so every whole unit is
 * part of some block, and a request is never capped below the largest block
 * the region holds.
 *
 * Block table (control data, out of the blocks): three bit planes, one
 * bit per unit each, at most one of them set:
 *     px  start of a plain block, in use or in a quick list
 *     pf  start of a free block in the free lists
 *     pa  start of an aligned block in use
 * (no bit: inside a block). So a pointer is recognised exactly in O(1):
 * interior and foreign pointers point at a unit with no px or pa bit (or at
 * the wrong offset in it), and a freed block's header says quick, or its
 * unit has the pf bit or none once it was merged. One plane per code makes
 * the test that the hot paths need a single bit test. The table also gives
 * every block's order (used by walk, check and aligned blocks): the block
 * at i has order k iff units i + 2^j are inside it for j < k and unit
 * i + 2^k is the next block's start or the end; O(log n) probes.
 *
 * Plain and free blocks start with a header of H = OS_MEM_ALIGN_SIZE bytes
 * whose last 8 bytes, right before the payload, are two 32-bit words:
 *     info = owner << 16 | order << 8 | tag       tag: used, free or quick
 *     seal = info ^ hash(i),  hash(i) = i * 0x9E3779B1 ^ 2^31 (never 0)
 * A header that does not match its seal, its tag or its table bit is
 * reported and never followed: a write running backwards off a payload, or
 * a stray write into a free block, is caught by free, alloc and check. The
 * payload (at block + H) is OS_MEM_ALIGN_SIZE-aligned. A listed free block
 * keeps two 32-bit links (next, prev unit index, NIL = ~0) in the first 8
 * payload bytes, so a unit must hold H + 8 bytes: the smallest block is 32
 * bytes on 64-bit targets (24 usable), 16 on 32-bit ones (8 usable).
 *
 * Aligned blocks (aligned_alloc) have no header: the payload is the block
 * start, naturally aligned to the block size, so a request whose order
 * already gives the alignment is not padded at all. log2 of the requested
 * alignment is kept in the block's last byte (query reports it, so a moving
 * realloc reproduces the alignment exactly in any region); with
 * OS_USING_MEM_TRACE the owner's task index takes the two bytes before it;
 * before those, a check of the trailer, the block's index and its order
 * (8 bits, 16 at hardening tail and full; trl_check: the order comes from
 * the table alone), tested wherever the trailer is used.
 *
 * Per-block overhead: H bytes (8 by default) for a plain block, 2 bytes (4
 * with trace, 1 more at tail and full) for an aligned block, plus 3 bits
 * of block table per unit (1.2 % of the region on 64-bit targets, 2.3 % on
 * 32-bit ones).
 *
 * Free lists: one doubly linked list per order, a head per order and a
 * bitmap `avail` of non-empty orders. Allocation of order k takes the head
 * of the first non-empty order >= k (one find-first-set) and splits it down
 * to k, the upper halves going to the (empty) lists in between. Release
 * merges a block with its buddy while the buddy is a listed free block (pf
 * bit) of the same order (header). Both are O(log n), no list is ever
 * scanned. Seal and links are checked against both list neighbours (or the
 * head) before a block is unlinked, and a corrupt buddy is reported and
 * left alone.
 *
 * Quick lists. A split down to order k and the merge back up cost a few
 * dozen instructions per level. So free puts a block of order k < QN,
 * unmerged, in the quick list of its order while that holds fewer than
 * QDEPTH (OS_MEM_BUDDY_QUICK; 0: no quick lists) blocks, and the next
 * request of that order takes it back in O(1).
 * A quick block keeps its px bit (the table is not written at all), its
 * header is retagged quick (the seal follows by one xor), and its first
 * payload word links to the next quick block, xor-ed with hash(i) so that
 * no fixed pattern written over it reads as a link; the list is singly
 * linked (LIFO) and every block popped is checked (index, tag, order and
 * seal) before it is handed out. The fast paths of alloc and free are
 * written out inline with no calls: the quick list of the request's order
 * (alloc), the block's own table bit, header and quick list (free). A
 * release leaves a quick buddy alone (merging it would mean a walk along
 * its list). A freed aligned block whose order its size set goes to the
 * quick lists too; one whose order its alignment set is released (reused
 * by small plain requests, such blocks fragmented a region more than eager
 * merging did). When no listed block serves a request, the smallest quick
 * block of a higher order is split; failing that the quick blocks are
 * released, highest orders first, until a list can serve (at most
 * QN * QDEPTH releases, a bounded number, O(log n) each), and the lists
 * tried again: quick blocks never make a request fail that eager merging
 * would serve.
 *
 * Figures (x86-64, gcc -O2, bare-metal port with ONEHEAP_NO_LOCK=ON, trace
 * off, `valgrind --tool=callgrind --collect-atstart=no` on
 * `oneheap-bench --algo buddy oneheap WORKLOAD`, Ir per call less the 10 of
 * the empty window): pairs 58.5, mix 64.3, aligned 244.8, worst_alloc 122,
 * worst_fall_* at most 130, worst_free_* 57 with no merge to 315 with
 * three and 939 with all 14 levels of the 1 MiB region (worst_free_4;
 * about 60 a merged level, 24 a split level). An allocation that merges
 * all 64 quick blocks back takes about 13 700. Before these changes: pairs
 * 105.4, mix 125.5, aligned 224.4, worst_alloc 190, worst_fall_0 187,
 * worst_free_1 285.
 *
 * Invariants (checked by bd_check):
 *  - the blocks tile [0, n); each is naturally aligned; its start has
 *    exactly one plane bit, every other unit none;
 *  - a plain (px) block's header is sealed, tagged used or quick, and its
 *    order agrees with the table; so is a listed free (pf) block's, tagged
 *    free;
 *  - no two listed free buddies of the same order (release merges them);
 *  - every listed free block is in the free list of its order, bit k of
 *    avail is set iff free list k is non-empty; every quick block is in the
 *    quick list of its order (orders < qn only), which holds QDEPTH - qroom
 *    blocks.
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
#if OS_MEM_HARDENING >= 2
#define TRL_CHK     2u      /* aligned block: a check of its trailer, index and order (trl_check) first */
#else
#define TRL_CHK     1u
#endif
#ifdef OS_USING_MEM_TRACE
#define TRL         (3u + TRL_CHK)  /* then its owner (2 bytes) and log2 of its alignment */
#else
#define TRL         (1u + TRL_CHK)  /* then log2 of its alignment */
#endif

#define C_NONE      0u
#define C_FREE      1u
#define C_USED      2u
#define C_ALGN      3u
#define C_BAD       4u      /* code(): more than one plane claims the unit */

#define T_USED      0xA6u
#define T_FREE      0x59u       /* free, in the list of its order */
#define T_QUICK     0x3Cu       /* free, in the quick list of its order (table code C_USED) */
#define QN          8u          /* quick lists: orders 0 .. QN - 1 */
#define QDEPTH      ((unsigned)OS_MEM_BUDDY_QUICK)  /* blocks per quick list (0: none, every free merges) */
#define NQ          32u         /* quick heads and rooms for every order a header can name */
#define BAD_ORDER   0xFFu

#define HMUL        0x9E3779B1u
#define HXOR        0x80000000u /* i * HMUL == HXOR only for i = 2^31: hash(i) != 0 */

#define INFO(k, tag)    (((os_uint32_t)(k) << 8) | (tag))
#ifdef OS_USING_MEM_TRACE
#define OWNER_BITS(o)   ((os_uint32_t)(o) << 16)
#define INFO_LOW(x)     ((x) & 0xFFFFu)
#else
#define OWNER_BITS(o)   ((void)(o), 0u)     /* owners are only kept by trace builds */
#define INFO_LOW(x)     (x)
#endif

struct bd
{
    /* fixed by init (BD_FIXED: sealed at hardening tail and full, alg.h) */
    os_uint8_t  *first;     /* unit 0 */
    os_uint32_t *px;        /* block table planes, 32 units per word: plain block start, */
    os_uint32_t *pf;        /* listed free block start, */
    os_uint32_t *pa;        /* aligned block start */
    os_size_t    n;         /* units */
    os_size_t    o;         /* absolute index of unit 0, mod 2^MAX_ORDER */
    os_size_t    maxblk;    /* bytes in a block of the highest order */
    os_size_t    maxreq;    /* maxblk - H: the largest plain request */
    os_uint32_t  nord;      /* orders 0 .. nord - 1 */
    os_uint32_t  qn;        /* orders with a quick list: min(QN, nord) */
    /* changed by alloc and free */
#ifdef OS_MEM_STATS
    os_size_t    listed;    /* blocks in the free lists (bd_free_info) */
#endif
    os_uint32_t  avail;     /* bit k: list k non-empty */
    os_uint8_t   qroom[NQ]; /* free places in each quick list: QDEPTH - length; 0 from qn up */
    struct
    {
        os_uint32_t head;   /* free list */
        os_uint32_t qhead;  /* quick list (freed, unmerged blocks); NIL from qn up */
    } ord[];                /* one per order; the block table follows */
};

#define BD(r)       ((struct bd *)OH_REGION_DATA(r))
#define BD_FIXED    (offsetof(struct bd, qn) + sizeof(os_uint32_t))
_Static_assert(BD_FIXED % sizeof(os_ubase_t) == 0, "the fixed part of struct bd is whole words");

/*
 * Hardening tail and full: the fixed part is sealed (tested before every
 * call reaches buddy), and the changing fields are tested where they are
 * followed, BD_SANE(): an order found in `avail` before its list head is
 * read, a list head before a push writes through it. Below tail, alloc and
 * free trust the control data (check tests all of it).
 */
#if OS_MEM_HARDENING >= 2
#define BD_SANE(x)  (x)
#else
#define BD_SANE(x)  1
#endif

/* ---- block table and headers ------------------------------------------------ */

static inline unsigned bit(const os_uint32_t *pl, os_size_t i)
{
    return (unsigned)(pl[i >> 5] >> (i & 31u)) & 1u;
}

static inline void bit_set(os_uint32_t *pl, os_size_t i)
{
    pl[i >> 5] |= (os_uint32_t)1 << (i & 31u);
}

static inline void bit_clr(os_uint32_t *pl, os_size_t i)
{
    pl[i >> 5] &= ~((os_uint32_t)1 << (i & 31u));
}

/* Does any plane mark a unit in [lo, hi) (hi <= n rounded up to 32)? A word at a time. */
static int marked(const struct bd *d, os_size_t lo, os_size_t hi)
{
    while (lo < hi)
    {
        os_size_t w = lo >> 5;
        unsigned sh = (unsigned)(lo & 31u);
        os_size_t nb = (hi - lo < 32u - sh) ? hi - lo : 32u - sh;
        os_uint32_t m = (nb == 32u ? ~(os_uint32_t)0 : (((os_uint32_t)1 << nb) - 1u)) << sh;

        if (((d->px[w] | d->pf[w] | d->pa[w]) & m) != 0)
        {
            return 1;
        }
        lo += nb;
    }
    return 0;
}

/* Is unit i a block start (a bit in any plane)? */
static inline unsigned is_start(const struct bd *d, os_size_t i)
{
    os_size_t w = i >> 5;

    return (unsigned)((d->px[w] | d->pf[w] | d->pa[w]) >> (i & 31u)) & 1u;
}

/* Unit i's code from the three planes (C_BAD if more than one claims it). */
static inline unsigned code(const struct bd *d, os_size_t i)
{
    unsigned x = bit(d->px, i), f = bit(d->pf, i), a = bit(d->pa, i);

    if (x + f + a > 1u)
    {
        return C_BAD;
    }
    return x ? C_USED : f ? C_FREE : a ? C_ALGN : C_NONE;
}

static inline void set_code(const struct bd *d, os_size_t i, unsigned c)
{
    bit_clr(d->px, i);
    bit_clr(d->pf, i);
    bit_clr(d->pa, i);
    if (c != C_NONE)
    {
        bit_set(c == C_USED ? d->px : c == C_FREE ? d->pf : d->pa, i);
    }
}

static inline os_uint8_t *unit(const struct bd *d, os_size_t i)
{
    return d->first + (i << SHIFT);
}

static inline os_uint32_t *hd(const struct bd *d, os_size_t i)
{
    return (os_uint32_t *)(void *)(unit(d, i) + H - 8);
}

/* The links of a free block: next, prev (listed); the encoded next (quick). */
static inline os_uint32_t *lk(const struct bd *d, os_size_t i)
{
    return (os_uint32_t *)(void *)(unit(d, i) + H);
}

/* Nonzero for every index below 2^30 (so no fixed pattern seals unit 0). */
static inline os_uint32_t hash(os_size_t i)
{
    return ((os_uint32_t)i * HMUL) ^ HXOR;
}

/*
 * With OS_MEM_ALIGN_SIZE above 8 a header has H - 8 bytes before its info
 * and seal. They are kept zero, so that free and check find a write that
 * ran into them off the end of the block before (the seal does not cover
 * them).
 */
static inline void pad_clear(const struct bd *d, os_size_t i)
{
#if OS_MEM_ALIGN_SIZE > 8
    memset(unit(d, i), 0, H - 8);
#else
    (void)d;
    (void)i;
#endif
}

static int pad_clean(const struct bd *d, os_size_t i)
{
#if OS_MEM_ALIGN_SIZE > 8
    const os_uint8_t *u = unit(d, i);
    os_size_t j;

    for (j = 0; j < H - 8; j++)
    {
        if (u[j] != 0)
        {
            return 0;
        }
    }
#else
    (void)d;
    (void)i;
#endif
    return 1;
}

static inline void put_hdr(const struct bd *d, os_size_t i, os_uint32_t info)
{
    os_uint32_t *h = hd(d, i);

    pad_clear(d, i);
    h[0] = info;
    h[1] = info ^ hash(i);
}

/* The order in block i's header if it is sealed and carries tag, else BAD_ORDER. */
static inline unsigned hdr_order(const struct bd *d, os_size_t i, unsigned tag)
{
    const os_uint32_t *h = hd(d, i);
    os_uint32_t info = h[0];
    unsigned k = (unsigned)(info >> 8) & 0xFFu;

    if (h[1] != (info ^ hash(i)) || (info & 0xFFu) != tag || k >= d->nord)
    {
        return BAD_ORDER;
    }
    return k;
}

/* Unit index of byte offset off from unit 0; not below n if off is not a multiple of U. */
static inline os_size_t unit_of(os_size_t off)
{
    return (off >> SHIFT) | (off << (8u * sizeof(os_size_t) - SHIFT));
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
        if (e == d->n || is_start(d, e))
        {
            return (int)j;
        }
    }
    return -1;
}

/*
 * Units needed for `bytes`, as an order: the msb of 2 * ((bytes - 1) / U),
 * with bit 0 set so that one unit gives order 0. bytes <= d->maxblk, so the
 * shifted value fits 32 bits.
 */
static inline unsigned order_for(os_size_t bytes)
{
    return oh_msb32((os_uint32_t)((bytes - 1u) >> (SHIFT - 1u)) | 1u);
}

/* ---- free lists --------------------------------------------------------------- */

#if OS_MEM_HARDENING >= 2
/*
 * The head of list k, about to be pushed on, is not a listed free block
 * of the region that heads its list: reported; the list starts again
 * empty (the blocks it held are lost to allocation until the region is
 * added again). Returns NIL, the new successor.
 */
static OH_NOINLINE os_uint32_t head_lost(struct bd *d, unsigned k)
{
    oh_fault(OH_REGION_OF(d), &d->ord[k].head, OS_ERROR, "free list head overwritten");
    d->ord[k].head = NIL;
    return NIL;
}
#else
#define head_lost(d, k) NIL
#endif

static inline void push(struct bd *d, os_size_t i, unsigned k)
{
    os_uint32_t nx = d->ord[k].head;
    os_uint32_t *l = lk(d, i);

    if (!BD_SANE(nx == NIL || (nx < d->n && bit(d->pf, nx) && lk(d, nx)[1] == NIL)))
    {
        nx = head_lost(d, k);
    }

    l[0] = nx;
    l[1] = NIL;
    d->ord[k].head = (os_uint32_t)i;
    OH_STAT(d->listed++);
    if (nx != NIL)
    {
        lk(d, nx)[1] = (os_uint32_t)i;
    }
    else
    {
        d->avail |= (os_uint32_t)1 << k;
    }
}

/* Are listed block i's links consistent with both list neighbours (or the head)? */
static inline int links_ok(const struct bd *d, os_size_t i, unsigned k)
{
    const os_uint32_t *l = lk(d, i);
    os_uint32_t nx = l[0], pv = l[1];

    if (nx != NIL && (nx >= d->n || lk(d, nx)[1] != i))
    {
        return 0;
    }
    if (pv == NIL)
    {
        return d->ord[k].head == i;
    }
    return pv < d->n && lk(d, pv)[0] == i;
}

/* Unlink listed block i of order k, whose links passed links_ok(). */
static inline void cut(struct bd *d, os_size_t i, unsigned k)
{
    const os_uint32_t *l = lk(d, i);
    os_uint32_t nx = l[0], pv = l[1];

    OH_STAT(d->listed--);
    if (nx != NIL)
    {
        lk(d, nx)[1] = pv;
    }
    if (pv != NIL)
    {
        lk(d, pv)[0] = nx;
        return;
    }
    d->ord[k].head = nx;
    if (nx == NIL)
    {
        d->avail &= ~((os_uint32_t)1 << k);
    }
}

/* ---- quick lists ------------------------------------------------------------- */

/*
 * A quick block keeps table code C_USED, its header says T_QUICK, and its
 * first payload word holds the next block of the list xor hash(i), so that
 * no fixed pattern written over it reads as a valid link.
 */

/* Is i (below n) a sound quick block of order k? */
static inline int quick_ok(const struct bd *d, os_size_t i, unsigned k)
{
    const os_uint32_t *h = hd(d, i);
    os_uint32_t info = h[0];

    return INFO_LOW(info) == INFO(k, T_QUICK) && h[1] == (info ^ hash(i));
}

/* Pop i, the head of quick list k, which passed quick_ok(); its header still says T_QUICK. */
static inline void quick_pop(struct bd *d, os_size_t i, unsigned k)
{
    d->ord[k].qhead = lk(d, i)[0] ^ hash(i);
    d->qroom[k]++;
}

/* Turn sealed header h from tag `from` to tag `to`, keeping the seal. */
static inline void retag(os_uint32_t *h, unsigned from, unsigned to)
{
    h[0] ^= from ^ to;
    h[1] ^= from ^ to;
}

/* Quick list k is corrupt: forget it (its blocks stay out of use; check reports them). */
static OH_NOINLINE void quick_bad(const struct heap_mem *r, struct bd *d, unsigned k)
{
    os_size_t i = d->ord[k].qhead;

    d->ord[k].qhead = NIL;
    d->qroom[k] = QDEPTH;
    oh_fault(r, i < d->n ? (void *)(unit(d, i) + H) : OS_NULL, OS_ERROR,
             "quick block header or links overwritten");
}

/*
 * Find quick block b of order l in its list (at most QDEPTH steps): the
 * word that links to it, the head or the previous block's link, and the
 * value that word is encoded with (0 for the head). OS_NULL if b is not
 * reached through sound blocks.
 */
static os_uint32_t *quick_find(struct bd *d, os_size_t b, unsigned l, os_uint32_t *enc)
{
    os_uint32_t *link = &d->ord[l].qhead;
    os_uint32_t hs = 0, x = *link;
    unsigned steps = 0;

    while (x != b)
    {
        if (x >= d->n || ++steps + 1u > QDEPTH || !quick_ok(d, x, l))
        {
            return OS_NULL;
        }
        link = lk(d, x);
        hs = hash(x);
        x = *link ^ hs;
    }
    *enc = hs;
    return link;
}

/* ---- taking and releasing blocks ---------------------------------------------- */

static OH_NOINLINE os_size_t take_bad(const struct heap_mem *r, const struct bd *d, os_size_t i)
{
    oh_fault(r, i < d->n ? (void *)(unit(d, i) + H) : OS_NULL, OS_ERROR,
             "free block header or list links overwritten");
    return BAD;
}

/*
 * Split block i of order j down to order k: the upper halves go to lists
 * k .. j - 1, which are empty.
 */
static inline void split(struct bd *d, os_size_t i, unsigned j, unsigned k)
{
    d->avail |= ((os_uint32_t)1 << j) - ((os_uint32_t)1 << k);
    OH_STAT(d->listed += j - k);
    do
    {
        os_size_t b;
        os_uint32_t *l;

        j--;
        b = i + ((os_size_t)1 << j);
        put_hdr(d, b, INFO(j, T_FREE));
        l = lk(d, b);
        l[0] = NIL;
        l[1] = NIL;
        d->ord[j].head = (os_uint32_t)b;
        bit_set(d->pf, b);
    } while (j > k);
}

/*
 * Take a block of order k from the lists: the head of the first non-empty
 * list >= k, split down to k. Returns its index with table code C_USED, NIL
 * if no list can serve, BAD if a corrupt block was met (reported).
 */
OH_INLINE os_size_t take(const struct heap_mem *r, struct bd *d, unsigned k)
{
    os_uint32_t m = d->avail & (~(os_uint32_t)0 << k);
    unsigned j;
    os_size_t i;
    os_uint32_t nx;
    const os_uint32_t *l, *h;

    if (OH_UNLIKELY(m == 0))
    {
        return NIL;
    }
    j = oh_ctz32(m);
    if (OH_UNLIKELY(!BD_SANE(j < d->nord)))
    {
        return take_bad(r, d, d->n);     /* avail names an order past the region's */
    }
    i = d->ord[j].head;
    if (OH_UNLIKELY(i >= d->n || !bit(d->pf, i)))
    {
        return take_bad(r, d, i);
    }
    h = hd(d, i);
    l = lk(d, i);
    nx = l[0];
    if (OH_UNLIKELY(h[0] != INFO(j, T_FREE) || h[1] != (INFO(j, T_FREE) ^ hash(i)) || l[1] != NIL ||
                    (nx != NIL && (nx >= d->n || lk(d, nx)[1] != i))))
    {
        return take_bad(r, d, i);
    }
    d->ord[j].head = nx;
    OH_STAT(d->listed--);
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
        split(d, i, j, k);
    }
    bit_clr(d->pf, i);
    bit_set(d->px, i);
    return i;
}

/* Block i of order k, no longer in the table, becomes a listed free block. */
static inline void list_free(struct bd *d, os_size_t i, unsigned k)
{
    put_hdr(d, i, INFO(k, T_FREE));
    bit_set(d->pf, i);
    push(d, i, k);
}

/* release() met a corrupt buddy b: report it and list block i of order k unmerged. */
static OH_NOINLINE void release_bad(const struct heap_mem *r, os_size_t i, unsigned k, os_size_t b)
{
    struct bd *d = BD(r);

    (void)take_bad(r, d, b);
    list_free(d, i, k);
}

/*
 * Make block i of order k (a plain block start in the table) free, merging
 * it with its buddy while the buddy is a listed free block (table bit) of
 * the same order (header; a quick buddy is left alone, as merging it would
 * mean a walk along its list). Its seal and links are checked before it is
 * unlinked; a corrupt buddy is reported and not merged.
 */
static OH_NOINLINE void release(const struct heap_mem *r, os_size_t i, unsigned k)
{
    struct bd *d = BD(r);
    os_size_t a = i + d->o;

    bit_clr(d->px, i);
    while (k + 1u < d->nord)
    {
        os_size_t ba = a ^ ((os_size_t)1 << k);
        os_size_t b = ba - d->o;    /* wraps to a huge value below unit 0 */
        os_uint32_t info = INFO(k, T_FREE);
        const os_uint32_t *hb;

        if (b >= d->n)
        {
            break;
        }
        hb = hd(d, b);
        if (!bit(d->pf, b) || hb[0] != info)
        {
            break;      /* not a listed free block, or a smaller one */
        }
        if (OH_UNLIKELY(hb[1] != (info ^ hash(b)) || !links_ok(d, b, k)))
        {
            release_bad(r, a - d->o, k, b);
            return;
        }
        cut(d, b, k);
        bit_clr(d->pf, b);
        OH_SCRUB_HEAD(unit(d, (ba < a ? a : ba) - d->o), U << k);     /* the upper one */
        if (ba < a)
        {
            a = ba;
        }
        k++;
    }
    list_free(d, a - d->o, k);
}

/*
 * Merge quick blocks into the lists (when a request found no listed or
 * quick block to serve it: the quick blocks may merge into one that does),
 * the highest orders first, until a list of order k or above is not empty.
 * At most QN * QDEPTH releases. Returns how many were released.
 */
static OH_NOINLINE unsigned flush(const struct heap_mem *r, struct bd *d, unsigned k)
{
    unsigned q = d->qn, done = 0;

    while (q-- > 0)
    {
        os_size_t i;
        unsigned steps = 0;

        while ((i = d->ord[q].qhead) != NIL)
        {
            if (i >= d->n || !quick_ok(d, i, q) || !bit(d->px, i) || ++steps > QDEPTH)
            {
                quick_bad(r, d, q);
                break;
            }
            quick_pop(d, i, q);
            retag(hd(d, i), T_QUICK, T_USED);     /* no stale quick header stays behind */
            release(r, i, q);
            done++;
            if ((d->avail >> k) != 0)
            {
                return done;
            }
        }
    }
    return done;
}

/*
 * Release the quick blocks that lie in units [lo, hi), so that the free
 * blocks there merge (a block that grows in place needs its buddies whole).
 * At most QN * QDEPTH releases, O(log n) each; a corrupt quick list is
 * reported and dropped. Returns how many were released.
 */
static OH_NOINLINE unsigned release_quick_in(const struct heap_mem *r, struct bd *d, os_size_t lo, os_size_t hi)
{
    unsigned q, done = 0;

    for (q = 0; q < d->qn; q++)
    {
        os_uint32_t *link = &d->ord[q].qhead;     /* the word that links to x, encoded with enc */
        os_uint32_t enc = 0;
        os_size_t x = *link;
        unsigned steps = 0;

        while (x != NIL)
        {
            os_uint32_t nx;

            if (x >= d->n || ++steps > QDEPTH || !quick_ok(d, x, q) || !bit(d->px, x))
            {
                quick_bad(r, d, q);
                break;
            }
            nx = lk(d, x)[0] ^ hash(x);
            if (x >= lo && x < hi)
            {
                *link = nx ^ enc;
                d->qroom[q]++;
                retag(hd(d, x), T_QUICK, T_USED);     /* no stale quick header stays behind */
                release(r, x, q);
                done++;
            }
            else
            {
                link = lk(d, x);
                enc = hash(x);
            }
            x = nx;
        }
    }
    return done;
}

/*
 * No listed block serves order k: split the smallest quick block of a
 * higher order, else merge the quick blocks and try the lists again.
 */
static OH_NOINLINE os_size_t take_slow(const struct heap_mem *r, struct bd *d, unsigned k)
{
    unsigned j;

    for (j = k + 1u; j < d->qn; j++)
    {
        os_size_t i = d->ord[j].qhead;

        if (i == NIL)
        {
            continue;
        }
        if (i >= d->n || !quick_ok(d, i, j))
        {
            quick_bad(r, d, j);
            continue;
        }
        quick_pop(d, i, j);     /* the caller rewrites the header */
        split(d, i, j, k);
        return i;
    }
    if (flush(r, d, k) != 0)
    {
        return take(r, d, k);
    }
    return NIL;
}

/*
 * A block of order k, its table code C_USED: the head of quick list k,
 * else from the lists, else as take_slow() finds one. NIL or BAD if none.
 * A corrupt quick list is reported and dropped.
 */
static os_size_t grab(const struct heap_mem *r, struct bd *d, unsigned k)
{
    os_size_t i = d->ord[k].qhead;

    if (i != NIL)
    {
        if (OH_LIKELY(i < d->n && quick_ok(d, i, k)))
        {
            quick_pop(d, i, k);     /* the caller rewrites the header */
            return i;
        }
        quick_bad(r, d, k);     /* reported; the lists may still serve */
    }
    i = take(r, d, k);
    if (OH_UNLIKELY(i == NIL))
    {
        i = take_slow(r, d, k);
    }
    return i;
}

/* ---- aligned blocks ------------------------------------------------------------- */

/* The last byte of block i of order k. */
static inline os_uint8_t *blk_end(const struct bd *d, os_size_t i, unsigned k)
{
    return unit(d, i + ((os_size_t)1 << k));
}

/*
 * An aligned block has no header: its order comes from the block table
 * alone, and its trailer (the last TRL bytes) holds its owner and the log2
 * of its alignment, after a check of TRL_CHK bytes (8 bits below hardening
 * tail, 16 from tail on) that mixes a hash of its index and order with the
 * owner and log2 bytes, each byte linearly: a change of any single byte
 * of the trailer always shows, and so (but for a chance of 1 in 256, or
 * 65536) does a table changed by a stray write that puts the block's end
 * elsewhere. locate() refuses a block whose trailer fails it, so free,
 * realloc, query and usable size never use a changed owner or alignment.
 */
static inline os_uint16_t trl_check(os_size_t i, unsigned k, os_uint16_t owner, unsigned lg)
{
    return (os_uint16_t)(((hash(i) ^ ((os_uint32_t)k << 20)) >> 16) ^ owner ^ (owner >> 8) ^ (lg * 0x0101u));
}

/* The check's TRL_CHK bytes at e, low byte first. */
static inline void chk_put(os_uint8_t *e, os_uint16_t s)
{
    e[0] = (os_uint8_t)s;
    if (TRL_CHK == 2u)
    {
        e[1] = (os_uint8_t)(s >> 8);
    }
}

static inline int chk_is(const os_uint8_t *e, os_uint16_t s)
{
    return e[0] == (os_uint8_t)s && (TRL_CHK == 1u || e[1] == (os_uint8_t)(s >> 8));
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

/* The check aligned block i of order k should carry, from its trailer as it is. */
static inline os_uint16_t trl_expected(const struct bd *d, os_size_t i, unsigned k)
{
    return trl_check(i, k, trl_owner(d, i, k), blk_end(d, i, k)[-1]);
}

static inline void put_trl(const struct bd *d, os_size_t i, unsigned k, unsigned lg, os_uint16_t owner)
{
    os_uint8_t *e = blk_end(d, i, k);

    e[-1] = (os_uint8_t)lg;
#ifdef OS_USING_MEM_TRACE
    memcpy(e - 3, &owner, 2);
#endif
    chk_put(e - TRL, trl_check(i, k, owner, lg));
}

/*
 * Aligned block i stops being one of order k (freed, or resized to another
 * order): its check is spoilt (inverted), so that a table set back to k
 * by a stray write does not find it again.
 */
static inline void trl_erase(const struct bd *d, os_size_t i, unsigned k)
{
    os_uint8_t *e = blk_end(d, i, k) - TRL;

    e[0] = (os_uint8_t)~e[0];
    if (TRL_CHK == 2u)
    {
        e[1] = (os_uint8_t)~e[1];
    }
}

/* Does aligned block i of order k (by the table) carry its check? */
static inline int trl_sealed(const struct bd *d, os_size_t i, unsigned k)
{
    return chk_is(blk_end(d, i, k) - TRL, trl_expected(d, i, k));
}

/* The owner of a live block i of order k and table code c (0 without trace). */
static inline os_uint16_t blk_owner(const struct bd *d, os_size_t i, unsigned k, unsigned c)
{
    return c == C_ALGN ? trl_owner(d, i, k) : (os_uint16_t)(hd(d, i)[0] >> 16);
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
    os_size_t off = (os_size_t)((os_ubase_t)p - (os_ubase_t)d->first);   /* p may lie anywhere */
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
            return hdr_order(d, i, T_QUICK) != BAD_ORDER ? BLK_FREE : BLK_CORRUPT;
        }
        if (!pad_clean(d, i))
        {
            return BLK_CORRUPT;
        }
    }
    else if (rem == 0 && c == C_ALGN)
    {
        pk2 = probe(d, i);
        if (pk2 < 0 || !trl_sealed(d, i, (unsigned)pk2))
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

/* The general path: grab() (which reports what is corrupt) and a plain header. */
static OH_NOINLINE void *alloc_rare(struct heap_mem *r, unsigned k, os_uint16_t owner)
{
    struct bd *d = BD(r);
    os_size_t i = grab(r, d, k);

    if (i >= BAD)
    {
        return oh_refused(r);
    }
    put_hdr(d, i, OWNER_BITS(owner) | INFO(k, T_USED));
    oh_took(r, U << k, owner);
    return unit(d, i) + H;
}

/*
 * bd_alloc() found no quick block of order k: the head of the first
 * non-empty list >= k, split down to k, written out as take() with no
 * calls but tail calls (anything unusual goes to alloc_rare()), so that it
 * needs no saved registers.
 */
static OH_NOINLINE void *alloc_slow(struct heap_mem *r, unsigned k, os_uint16_t owner)
{
    struct bd *d = BD(r);
    os_uint32_t m = d->avail & (~(os_uint32_t)0 << k);
    os_uint32_t info, nx, *h;
    os_size_t i;
    unsigned j;

    if (OH_UNLIKELY(m == 0 || d->ord[k].qhead != NIL))
    {
        return alloc_rare(r, k, owner);
    }
    j = oh_ctz32(m);
    if (OH_UNLIKELY(!BD_SANE(j < d->nord)))
    {
        return alloc_rare(r, k, owner);
    }
    i = d->ord[j].head;
    if (OH_UNLIKELY(i >= d->n || !bit(d->pf, i)))
    {
        return alloc_rare(r, k, owner);
    }
    h = hd(d, i);
    nx = h[2];
    info = INFO(j, T_FREE);
    if (OH_UNLIKELY(h[0] != info || h[1] != (info ^ hash(i)) || h[3] != NIL ||
                    (nx != NIL && (nx >= d->n || lk(d, nx)[1] != i))))
    {
        return alloc_rare(r, k, owner);
    }
    d->ord[j].head = nx;
    OH_STAT(d->listed--);
    if (nx != NIL)
    {
        lk(d, nx)[1] = NIL;
    }
    else
    {
        d->avail &= ~((os_uint32_t)1 << j);
    }
    info = OWNER_BITS(owner) | INFO(k, T_USED);
    h[0] = info;
    h[1] = info ^ hash(i);
    bit_clr(d->pf, i);
    bit_set(d->px, i);
    oh_took(r, U << k, owner);
    if (j > k)
    {
        split(d, i, j, k);
    }
    return h + 2;
}

/* A quick block of the request's order is taken inline; the rest is a tail call. */
static void *bd_alloc(struct heap_mem *r, os_size_t size, os_uint16_t owner)
{
    struct bd *d = BD(r);
    os_size_t last = size + (H - 1u);      /* the offset of the request's last byte */
    os_uint32_t *qh;
    unsigned k;
    os_size_t i;

    if (OH_UNLIKELY(size - 1 >= d->maxreq))
    {
        return oh_refused_size(r, size);
    }
    k = oh_msb32((os_uint32_t)(last >> (SHIFT - 1u)) | 1u);      /* order_for(size + H) */
    qh = &d->ord[k].qhead;
    if ((i = *qh) < d->n)
    {
        os_uint32_t *h = hd(d, i);
        os_uint32_t hs = hash(i), info = h[0];

        if (OH_LIKELY(INFO_LOW(info) == INFO(k, T_QUICK) && h[1] == (info ^ hs)))
        {
            *qh = h[2] ^ hs;       /* h[2]: the first payload word, the link */
            d->qroom[k]++;
            info = OWNER_BITS(owner) | INFO(k, T_USED);
            h[0] = info;
            h[1] = info ^ hs;
            oh_took(r, U << k, owner);
            return h + 2;
        }
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
        return oh_refused(r);
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
        return oh_refused(r);
    }
    bit_clr(d->px, i);
    bit_set(d->pa, i);
    hd(d, i)[0] = 0;    /* an aligned block has no header: none left from the free or quick block it was */
    put_trl(d, i, k, lg, owner);
    oh_took(r, U << k, owner);
    return unit(d, i);
}

static OH_NOINLINE void free_slow(struct heap_mem *r, void *p)
{
    struct bd *d = BD(r);
    os_size_t i;
    unsigned k, c;
    int why = locate(d, p, &i, &k, &c);

    if (why != BLK_OK)
    {
        oh_bad_pointer(r, p, why);
        return;
    }
    oh_gave(r, U << k, blk_owner(d, i, k, c));
    if (c == C_ALGN)
    {
        unsigned lg = blk_end(d, i, k)[-1];

        trl_erase(d, i, k);
        bit_clr(d->pa, i);
        bit_set(d->px, i);
        if (d->qroom[k] != 0 && lg < SHIFT + k)
        {
            /* its size, not its alignment, set the order: into the quick list of its order */
            os_uint32_t hs = hash(i);
            os_uint32_t *h = hd(d, i);

            d->qroom[k]--;
            h[2] = d->ord[k].qhead ^ hs;
            d->ord[k].qhead = (os_uint32_t)i;
            pad_clear(d, i);    /* (the payload's first bytes until now) */
            h[0] = INFO(k, T_QUICK);
            h[1] = INFO(k, T_QUICK) ^ hs;
            return;
        }
    }
    release(r, i, k);
}

/*
 * The plain block fast path, locate() written out: a block whose quick
 * list has room goes there inline (the table keeps C_USED, the header is
 * retagged), the rest is a tail call.
 */
static void bd_free(struct heap_mem *r, void *p)
{
    struct bd *d = BD(r);
    os_size_t i = unit_of((os_size_t)((os_ubase_t)p - (os_ubase_t)d->first) - H);   /* p may lie anywhere */
    os_uint32_t *h;
    os_uint32_t info, hs;
    unsigned k;

    if (OH_LIKELY(i < d->n && bit(d->px, i)))
    {
        h = (os_uint32_t *)p - 2;
        info = h[0];
        hs = hash(i);
        k = (unsigned)(info >> 8) & (NQ - 1u);     /* a sealed header names an order < nord <= NQ */
        if (OH_LIKELY(h[1] == (info ^ hs) && (info & 0xFFu) == T_USED && pad_clean(d, i)))
        {
            if (OH_LIKELY(d->qroom[k] != 0))
            {
                d->qroom[k]--;
                h[2] = d->ord[k].qhead ^ hs;
                d->ord[k].qhead = (os_uint32_t)i;
                info ^= T_USED ^ T_QUICK;
                h[0] = info;
                h[1] = info ^ hs;
                oh_gave(r, U << k, (os_uint16_t)(info >> 16));
                return;
            }
            if (k < d->nord)
            {
                oh_gave(r, U << k, (os_uint16_t)(info >> 16));
                release(r, i, k);
                return;
            }
        }
    }
    free_slow(r, p);
}

/*
 * Is b a whole free block of order l? 1: listed, 2: quick, 0: no (used,
 * split or another order), -1: corrupt.
 */
static int free_buddy(struct bd *d, os_size_t b, unsigned l)
{
    os_uint32_t enc;
    unsigned c;

    if (b >= d->n)
    {
        return 0;
    }
    c = code(d, b);
    if (c == C_FREE)
    {
        if (hdr_order(d, b, T_FREE) == BAD_ORDER)
        {
            return -1;
        }
        if (hd(d, b)[0] != INFO(l, T_FREE))
        {
            return 0;
        }
        return links_ok(d, b, l) ? 1 : -1;
    }
    if (c == C_USED && l < d->qn && INFO_LOW(hd(d, b)[0]) == INFO(l, T_QUICK))
    {
        return (quick_ok(d, b, l) && quick_find(d, b, l, &enc) != OS_NULL) ? 2 : -1;
    }
    return 0;
}

/* Is block i (code C_USED) a quick block, i.e. free? */
static inline int is_quick(const struct bd *d, os_size_t i)
{
    return (hd(d, i)[0] & 0xFFu) == T_QUICK;
}

/* Does a block in use (plain, not quick, or aligned) start at unit i (below n)? */
static inline int in_use(const struct bd *d, os_size_t i)
{
    unsigned c = code(d, i);

    return c == C_ALGN || (c == C_USED && !is_quick(d, i));
}

/*
 * Is every upper buddy of block i from order k up to order nk a whole free
 * block (free_buddy)? 1 if so, 0 if not, -1 with *bad set if one is corrupt.
 */
static int buddies_free(struct bd *d, os_size_t i, unsigned k, unsigned nk, os_size_t *bad)
{
    unsigned l;

    for (l = k; l < nk; l++)
    {
        int fb = free_buddy(d, i + ((os_size_t)1 << l), l);

        if (fb <= 0)
        {
            *bad = i + ((os_size_t)1 << l);
            return fb;
        }
    }
    return 1;
}

/*
 * Resize in place: a shrink gives the upper halves back; a grow takes the
 * upper buddies, which must all be free and whole (quick blocks inside
 * them are released first if that is what is missing: at most QN * QDEPTH
 * releases). O(log n), plus those releases. OS_ENOMEM: not in place.
 */
static os_err_t bd_resize(struct heap_mem *r, void *p, os_size_t size)
{
    struct bd *d = BD(r);
    os_size_t i, a, bad = 0;
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
    owner = blk_owner(d, i, k, c);
    if (c != C_USED)
    {
        lg = blk_end(d, i, k)[-1];
    }
    if (nk <= k)
    {
        if (c != C_USED && nk != k)
        {
            trl_erase(d, i, k);     /* before the halves' links, which a small block's trailer overlaps */
        }
        /* Give back the upper halves; their buddies are (part of) this block. */
        for (l = k; l > nk;)
        {
            os_size_t b;

            l--;
            b = i + ((os_size_t)1 << l);
            OH_SCRUB_FROM(unit(d, b), blk_end(d, b, l));
            put_hdr(d, b, INFO(l, T_FREE));
            bit_set(d->pf, b);
            push(d, b, l);
        }
    }
    else
    {
        /*
         * Grow when this block is the lower buddy at every order up to nk
         * and each upper buddy is free and whole; free blocks there still
         * in the quick lists are merged first if that is what is missing.
         */
        int fb;

        a = i + d->o;
        if (nk >= d->nord || (a & (((os_size_t)1 << nk) - 1)) != 0)
        {
            return OS_ENOMEM;
        }
        fb = buddies_free(d, i, k, nk, &bad);
        /* Releasing quick blocks cannot help when the first buddy that is
         * not whole starts a block in use (or lies past the end). */
        if (fb == 0 && bad < d->n && !in_use(d, bad) && release_quick_in(r, d, i + ((os_size_t)1 << k), i + ((os_size_t)1 << nk)) != 0)
        {
            fb = buddies_free(d, i, k, nk, &bad);
        }
        if (fb < 0)
        {
            oh_fault(r, unit(d, bad) + H, OS_ERROR, "free block header or list links overwritten");
            return OS_ERROR;
        }
        if (fb == 0)
        {
            return OS_ENOMEM;
        }
        for (l = k; l < nk; l++)
        {
            os_size_t b = i + ((os_size_t)1 << l);

            OH_FILL_TAKEN(r, unit(d, b), blk_end(d, b, l));
            if (code(d, b) == C_USED)
            {
                /* a quick block, found sound in its list by free_buddy() */
                os_uint32_t enc;
                os_uint32_t *link = quick_find(d, b, l, &enc);

                *link = (lk(d, b)[0] ^ hash(b)) ^ enc;
                d->qroom[l]++;
            }
            else
            {
                cut(d, b, l);
            }
            set_code(d, b, C_NONE);
            hd(d, b)[0] = 0;    /* the header is now inside this block: no stale one */
        }
    }
    if (c == C_USED)
    {
        put_hdr(d, i, OWNER_BITS(owner) | INFO(nk, T_USED));
    }
    else
    {
        if (nk > k)
        {
            trl_erase(d, i, k);     /* now inside the block */
        }
        put_trl(d, i, nk, lg, owner);
    }
    oh_resized(r, U << k, U << nk, owner);
    return OS_EOK;
}

static void describe(const struct bd *d, os_size_t i, unsigned k, unsigned c, struct os_mem_blk *b)
{
    b->size = U << k;
    b->start = unit(d, i);
    b->end = blk_end(d, i, k);
    b->used = (os_uint8_t)(c != C_FREE && !(c == C_USED && is_quick(d, i)));
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
    if (b->used)
    {
        b->owner = blk_owner(d, i, k, c);
    }
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

static int bd_ctrl_ok(const struct heap_mem *r);

#ifdef OS_MEM_STATS
/*
 * Free blocks: the listed ones (counted as they come and go) and the quick
 * ones; the largest is of the highest order with a listed or a quick
 * block. O(QN), no walk. (check compares both with a walk.)
 */
static void bd_free_info(const struct heap_mem *r, os_size_t *blocks, os_size_t *largest)
{
    const struct bd *d = BD(r);
    os_size_t n = d->listed;
    unsigned top = d->avail != 0 ? oh_msb32(d->avail) + 1u : 0u;   /* highest order + 1, 0: none */
    unsigned k;

    for (k = 0; k < d->qn; k++)
    {
        if (d->ord[k].qhead != NIL)
        {
            n += QDEPTH - d->qroom[k];
            top = k + 1u > top ? k + 1u : top;
        }
    }
    *blocks = n;
    *largest = top != 0 ? U << (top - 1u) : 0;
}
#define BD_FREE_INFO    bd_free_info
#else
#define BD_FREE_INFO    OS_NULL     /* only the statistics ask */
#endif

/*
 * Where a walk resumed at payload `from` starts: the unit of the block
 * whose payload it is, if the table has a block start there of the kind
 * its offset implies (the walk checks the rest as it goes), else unit 0.
 */
static os_size_t walk_start(const struct bd *d, const void *from)
{
    os_size_t off = (os_size_t)((os_ubase_t)from - (os_ubase_t)d->first);   /* from may lie anywhere */
    os_size_t i = off >> SHIFT, rem = off & (U - 1);
    unsigned c;

    if (from == OS_NULL || i >= d->n)
    {
        return 0;
    }
    c = code(d, i);
    return (rem == H && (c == C_USED || c == C_FREE)) || (rem == 0 && c == C_ALGN) ? i : 0;
}

static os_err_t bd_walk(const struct heap_mem *r, const void *from, os_mem_walk_fn fn, void *arg)
{
    const struct bd *d = BD(r);
    os_size_t i;
    struct os_mem_blk b;

    if (oh_ctrl_bad(r, bd_ctrl_ok(r)))
    {
        return OS_ERROR;
    }
    i = walk_start(d, from);
    while (i < d->n)
    {
        unsigned c = code(d, i);
        int k = probe(d, i);

        if (c == C_NONE || c == C_BAD || k < 0 || marked(d, i + 1, i + ((os_size_t)1 << k)))
        {
            oh_fault(r, unit(d, i), OS_ERROR, "block table overwritten");
            return OS_ERROR;
        }
        /* A plain or listed block's state and owner come from its header: sealed, of the table's order. */
        if (c != C_ALGN &&
            hdr_order(d, i, c == C_FREE ? T_FREE : is_quick(d, i) ? T_QUICK : T_USED) != (unsigned)k)
        {
            oh_fault(r, unit(d, i) + H, OS_ERROR, "block header overwritten");
            return OS_ERROR;
        }
        /* An aligned block's owner and alignment come from its trailer: checked. */
        if (c == C_ALGN && !trl_sealed(d, i, (unsigned)k))
        {
            oh_fault(r, unit(d, i), OS_ERROR, "trailer of an aligned block overwritten");
            return OS_ERROR;
        }
        describe(d, i, (unsigned)k, c, &b);
        if (fn(r, &b, arg) != 0)
        {
            return OS_EOK;
        }
        i += (os_size_t)1 << k;
    }
    if (marked(d, d->n, (d->n + 31u) & ~(os_size_t)31u))
    {
        oh_fault(r, unit(d, d->n), OS_ERROR, "block table overwritten");
        return OS_ERROR;
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
    if (oh_ctrl_bad(r, bd_ctrl_ok(r)))
    {
        *used = 0;
        return OS_ERROR;
    }

    /* Every block, in address order. */
    while (i < d->n)
    {
        unsigned c = code(d, i);
        int pk = probe(d, i);
        int quick = 0;

        if (c == C_NONE || c == C_BAD || pk < 0)
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
        if (marked(d, i + 1, i + ((os_size_t)1 << k)))
        {
            /* the order probes only look at units i + 2^j */
            oh_fault(r, unit(d, i), OS_ERROR, "check: block table overwritten (a unit inside a block marked as a start)");
            bad = 1;
        }
        if (c == C_USED)
        {
            quick = is_quick(d, i);
            if (hdr_order(d, i, quick ? T_QUICK : T_USED) != k || !pad_clean(d, i))
            {
                oh_fault(r, unit(d, i) + H, OS_ERROR, "check: block header overwritten");
                bad = 1;
            }
            else if (quick)
            {
                if (k < d->qn)
                {
                    nquick[k]++;
                }
                else
                {
                    oh_fault(r, unit(d, i) + H, OS_ERROR, "check: quick block of an order without a quick list");
                    bad = 1;
                }
            }
        }
        else if (c == C_FREE)
        {
            if (hdr_order(d, i, T_FREE) != k || !pad_clean(d, i))
            {
                oh_fault(r, unit(d, i) + H, OS_ERROR, "check: block header overwritten");
                bad = 1;
            }
            else
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
        else if (!trl_sealed(d, i, k) || blk_end(d, i, k)[-1] >= 8 * sizeof(os_size_t) ||
                 ((os_size_t)1 << blk_end(d, i, k)[-1]) != trl_align(d, i, k))
        {
            oh_fault(r, unit(d, i), OS_ERROR, "check: trailer of an aligned block (check, owner, alignment) overwritten");
            bad = 1;
        }
        if (c != C_FREE && !quick)
        {
            busy += U << k;
        }
        i += (os_size_t)1 << k;
    }

    if (marked(d, d->n, (d->n + 31u) & ~(os_size_t)31u))
    {
        oh_fault(r, unit(d, d->n), OS_ERROR, "check: block table overwritten (a unit past the end marked)");
        bad = 1;
    }

    /* Every quick list: every node's code, header and order, its count. */
    for (k = 0; k < NQ; k++)
    {
        os_uint32_t x = k < d->nord ? d->ord[k].qhead : NIL;
        os_size_t steps = 0;

        if (k >= d->qn)
        {
            if (x != NIL || d->qroom[k] != 0)
            {
                oh_fault(r, OS_NULL, OS_ERROR, "check: quick list of an order without one");
                bad = 1;
            }
            continue;
        }
        while (x != NIL)
        {
            if (x >= d->n || ++steps > nquick[k] || code(d, x) != C_USED ||
                hdr_order(d, x, T_QUICK) != k)
            {
                oh_fault(r, x < d->n ? (void *)(unit(d, x) + H) : OS_NULL, OS_ERROR,
                         "check: quick list holds a bad node (links overwritten)");
                bad = 1;
                break;
            }
            x = lk(d, x)[0] ^ hash(x);
        }
        if (x == NIL && (steps != nquick[k] || d->qroom[k] != QDEPTH - steps))
        {
            oh_fault(r, OS_NULL, OS_ERROR, "check: quick blocks, quick list and its count disagree");
            bad = 1;
        }
    }

    /* Every list: its bit, every node's code, header, order and links. */
    for (k = 0; k < d->nord; k++)
    {
        os_uint32_t x = d->ord[k].head, p = NIL;
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

/* Bytes of control data (struct bd, per-order heads, three table planes) for e units. */
static os_size_t ctrl_bytes(os_size_t e)
{
    os_size_t nord = (os_size_t)oh_msb32((os_uint32_t)e) + 1u;

    return sizeof(struct bd) + nord * sizeof(((struct bd *)0)->ord[0]) +
           3u * ((e + 31u) / 32u) * sizeof(os_uint32_t);
}

/* Offset of unit 0 from data when the control data is sized for e units. */
static os_size_t first_off(const os_uint8_t *data, os_size_t e)
{
    os_size_t c = ctrl_bytes(e);

    return c + ((U - (((os_size_t)(os_ubase_t)data + c) & (U - 1))) & (U - 1));
}

/* Do e units fit in the room bytes after data, behind control data for e units? */
static int units_fit(const os_uint8_t *data, os_size_t room, os_size_t e)
{
    os_size_t off = first_off(data, e);

    return off < room && (room - off) / U >= e;
}

/*
 * The order of the largest naturally aligned block inside units [a, a + n)
 * (absolute indices; n >= 1): the largest block of the tiling. O(log n).
 */
static unsigned largest_order(os_size_t a, os_size_t n, unsigned nord)
{
    unsigned k = nord - 1u;

    while (k > 0)
    {
        os_size_t s = (os_size_t)1 << k;

        if (((s - (a & (s - 1))) & (s - 1)) + s <= n)     /* the first aligned place, and the block after it */
        {
            break;
        }
        k--;
    }
    return k;
}

/* What init derives from the region's bounds alone (check compares the control data with it). */
struct bd_layout
{
    os_uint8_t *first;
    os_size_t   n;          /* units */
    os_size_t   o;          /* absolute index of unit 0 */
    os_uint32_t nord;       /* orders of blocks (heads in the control data) */
    os_size_t   words;      /* words per table plane */
};

/*
 * n is the most units that fit behind control data sized for n units
 * (found by bisection: the control data grows with n), so less than a unit
 * is lost at the region's end, or less than two when the room left there
 * would hold one more unit but that unit's share of the control data would
 * push the first unit up by one. A region is accepted iff one unit fits
 * (and the largest block serves a minimal request), so every larger region
 * is accepted too. The layout of region r, or 0 if it is not accepted.
 * O(log n).
 */
static int bd_layout(const struct heap_mem *r, struct bd_layout *l)
{
    os_uint8_t *data = (os_uint8_t *)BD(r);
    os_size_t room, lo = 1, hi;

    if (r->end <= data)
    {
        return 0;
    }
    room = (os_size_t)(r->end - data);
    if (!units_fit(data, room, 1))
    {
        return 0;
    }
    hi = room / U < MAX_UNITS ? room / U : MAX_UNITS;
    while (lo < hi)     /* lo fits; nothing above hi does */
    {
        os_size_t mid = hi - (hi - lo) / 2;

        if (units_fit(data, room, mid))
        {
            lo = mid;
        }
        else
        {
            hi = mid - 1;
        }
    }
    l->n = lo;
    l->words = (lo + 31u) / 32u;
    l->first = data + first_off(data, lo);
    l->o = ((os_size_t)(os_ubase_t)l->first >> SHIFT) & (MAX_UNITS - 1);
    l->nord = (os_uint32_t)oh_msb32((os_uint32_t)l->n) + 1u;
    return (U << largest_order(l->o, l->n, l->nord)) - H >= OH_MIN_REQUEST;    /* it serves a minimal request */
}

/*
 * Does the control data still say what init wrote? Checked before check
 * follows any of it, so that a region whose control data was overwritten
 * is reported instead of walked.
 */
static int bd_ctrl_ok(const struct heap_mem *r)
{
    const struct bd *d = BD(r);
    struct bd_layout l;
    const os_uint32_t *table = &d->ord[0].head;
    unsigned k;

    if (!bd_layout(r, &l) || d->first != l.first || d->n != l.n || d->o != l.o || d->nord != l.nord ||
        d->qn != (d->nord < QN ? d->nord : QN) ||
        d->maxblk != U << (d->nord - 1) || d->maxreq != d->maxblk - H)
    {
        return 0;
    }
    table += 2u * l.nord;   /* after ord[nord] */
    if (d->px != table || d->pf != table + l.words || d->pa != table + 2u * l.words)
    {
        return 0;
    }
    for (k = 0; k < NQ; k++)
    {
        if (d->qroom[k] > (k < d->qn ? QDEPTH : 0u))
        {
            return 0;
        }
    }
    return 1;
}

static os_size_t bd_init(struct heap_mem *r)
{
    struct bd *d = BD(r);
    struct bd_layout l;
    os_size_t nord, words, i;
    os_uint32_t *table;

    if (!bd_layout(r, &l))
    {
        return 0;   /* nothing written */
    }
    nord = l.nord;
    words = l.words;
    d->first = l.first;
    d->n = l.n;
    d->o = l.o;
    d->nord = l.nord;
    d->qn = d->nord < QN ? d->nord : QN;
    d->maxblk = U << (d->nord - 1);
    d->maxreq = d->maxblk - H;
    d->avail = 0;
    OH_STAT(d->listed = 0);
    table = &d->ord[nord].head;
    d->px = table;
    d->pf = table + words;
    d->pa = table + 2u * words;
    memset(d->ord, 0xFF, nord * sizeof(d->ord[0]));
    memset(d->qroom, 0, sizeof(d->qroom));
    memset(d->qroom, QDEPTH, d->qn);
    memset(table, 0, 3u * words * sizeof(os_uint32_t));

    /* Tile [0, n) with the largest naturally aligned blocks that fit. */
    for (i = 0; i < d->n;)
    {
        os_size_t a = i + d->o;
        unsigned k = 0;

        while (k + 1 < d->nord && (a & (((os_size_t)2 << k) - 1)) == 0 && i + ((os_size_t)2 << k) <= d->n)
        {
            k++;
        }
        put_hdr(d, i, INFO(k, T_FREE));
        bit_set(d->pf, i);
        push(d, i, k);
        OH_SCRUB_FROM(unit(d, i), blk_end(d, i, k));
        i += (os_size_t)1 << k;
    }
    return d->n * U;
}

const struct os_mem_ops oh_buddy_ops = {
    "buddy",
    OS_SIZE_MAX / U >= MAX_UNITS ? MAX_UNITS * U : OS_SIZE_MAX,
#if OS_MEM_HARDENING >= 2
    BD_FIXED,
#endif
    bd_init,
    bd_alloc,
    bd_aligned_alloc,
    bd_free,
    bd_resize,
    BD_FREE_INFO,
    bd_query,
    bd_walk,
    bd_check,
};
