/*
 * firstfit.c - O(1) first-fit over 8-byte chunks with bitmap-indexed
 * size classes.
 *
 * Geometry. The region is cut into chunks of CH = OS_MEM_ALIGN_SIZE bytes
 * (8 by default). Chunk c lives at base + c * CH. A block is a run of
 * chunks that starts with a header of HDR bytes; its payload, at
 * base + c * CH + HDR, is CH-aligned (base is placed so that it is).
 * Chunk 0 lies in the control data and is never a block, so index 0 can
 * mean "none" in links.
 *
 * Header (ffw_t = 16-bit words when OS_MEM_FF_SMALL_HEADER, else 32-bit),
 * in address order, ending right before the payload:
 *     owner                          only with OS_USING_MEM_TRACE: task index
 *     w[0] = size << 1 | used        size of this block, in chunks
 *     w[1] = check << 2 | flags      a used block (or the end sentinel)
 *     w[1] = next                    a free block: its list link
 * flags: bit 0 aligned (an aligned block ends with ATRL bytes: a check byte,
 * then log2 of its alignment; align_sound()), bit 1 "the block on the left
 * is free". A free block other
 * than top keeps its size in its last word, the footer, so the block on
 * its right can find it; that is the only way to the left: a used block
 * does not store its left neighbour's size. A free block's other link,
 * prev, is the owner word when there is one, else the first payload word.
 * So the smallest block is 4 words: 8 bytes with 16-bit words, 16 with
 * 32-bit words. The header is 2 words (3 with trace): 8 bytes on 64-bit
 * targets, 4 with 16-bit words.
 *
 * The check is the region's key (derived from its address and from how
 * many regions were set up before it: ff_key()), mixed with the
 * block's index, xor w[0], the owner and the flags (shifted to bit FSH):
 * linear in those fields, so changing any single byte of the header always
 * shows, and a pointer into a payload meets a header that matches only by
 * chance (1 in 2^30, or 2^14 with 16-bit words): that is how free tells a
 * block from an interior or stale pointer in O(1). With 32-bit words w[0]
 * keeps its top two bits clear (MAX_CHUNKS) and the check, shifted left by
 * two, does not cover them: a header with either set fails the size test
 * that free, query and check make, and the neighbour test of hardening
 * level 1 tests them itself. 16-bit words fold the top two bits in first. The
 * check is written whenever a block is handed out, resized or its left
 * neighbour changes state (then one xor with PFLIP, which keeps a valid
 * check valid and a broken one broken), and is verified by free, realloc,
 * query and check.
 *
 * Invariants (checked by ff_check):
 *  - blocks tile [1, end) exactly; the sentinel at index end has size 0,
 *    is used and checked, so no merge runs past the end;
 *  - every used block's (and the sentinel's) check matches, and its F_PFREE
 *    flag says whether the block on its left is free (block 1: never);
 *  - no two free blocks are adjacent (free merges both ways at once);
 *  - the last block, when free, is "top": it is in no list, has no footer
 *    and is carved from its front, so a fresh region serves small requests
 *    without any list work; every other free block is in exactly one list,
 *    the one of its size class, and its footer holds its size;
 *  - bit k of map is set iff list k is non-empty; bit w of summary is set
 *    iff map[w] != 0.
 *
 * Size classes. With sl = log2 of the subdivisions per power of two, a
 * block of n chunks belongs to class (sh << sl) + (n >> sh), where
 * sh = max(0, msb(n) - sl): one class per size below 2^sl chunks, then 2^sl
 * classes per octave. Each region picks the largest sl <= OS_MEM_FF_SL_BITS
 * whose list heads cost at most 1/32 of the region, so small regions get
 * few classes.
 *
 * Allocation of n chunks, O(1): (1) the head of n's own class, if it fits;
 * (2) else the first non-empty class above it, found with two find-first-set
 * operations (every block there fits); (3) else top. The block is carved
 * from its front (from its end when the rest keeps the block's class, so
 * the block keeps its list place); the rest goes back to its list (or stays
 * top). An aligned request of n chunks looks for n + a + MINB - 1 chunks
 * (a: the alignment in chunks) the same way and is cut from the end of a
 * listed block at its last aligned place, or from the front of top at its
 * first fitting place.
 *
 * A last look: when all of that fails, the only free blocks that could
 * still serve the request are listed ones the O(1) search passes over (the
 * rest of its own class below the head; for an aligned request also blocks
 * of n to n + a + MINB - 2 chunks whose address gives a fitting aligned
 * place), and take_missed() looks at them before the request is refused.
 * With OS_MEM_FF_SEARCH_MAX 0 (the default) it looks at all of them: a
 * request is never refused while a free block fits, and this path costs
 * O(free blocks in those classes). No O(1) search can promise both: the
 * head of a class may be too small while a block behind it fits. With
 * OS_MEM_FF_SEARCH_MAX N > 0 it looks at N of them at most, so every
 * request costs O(1), but may be refused while a block deeper in its
 * class would fit.
 *
 * Free, O(1): the pointer must be on the chunk grid, in use, with a
 * matching check and a size that fits the region; a free left neighbour
 * must agree with its footer (and, at hardening level 1 and up, a used
 * right neighbour with its check); otherwise it is reported and nothing
 * changes. Then it merges with free neighbours (one straight-line path
 * each for the left one, the right one and both). Lists are only ever
 * relinked through links that were checked against their neighbours first.
 */
#include "oh_string.h"

#include "alg.h"
#include "bitops.h"

#if OS_MEM_FF_SMALL_HEADER
typedef os_uint16_t ffw_t;
#define FFW_MAX     0xFFFFu
#else
typedef os_uint32_t ffw_t;
#define FFW_MAX     0xFFFFFFFFu
#endif

#define W           ((os_size_t)sizeof(ffw_t))
#define CH          ((os_size_t)OS_MEM_ALIGN_SIZE)
#define CH_SHIFT    (CH == 8 ? 3u : CH == 16 ? 4u : CH == 32 ? 5u : CH == 64 ? 6u : CH == 128 ? 7u : 8u)
#ifdef OS_USING_MEM_TRACE
#define OWNER_W     1u          /* words of the owner field */
#else
#define OWNER_W     0u
#endif
#define HDR         ((2u + OWNER_W) * W)
#define MINB        ((4 * W + CH - 1) / CH)     /* chunks in the smallest block: 4 words */
#define F_ALIGNED   1u          /* w[1] flags of a used block */
#define ATRL        2u          /* bytes at an aligned block's end: check byte, log2 of the alignment */
#define F_PFREE     2u
#if OS_MEM_FF_SMALL_HEADER
#define FSH         8u          /* where the flags enter the check */
#define FOLD(x)     ((x) ^ ((x) >> 14))
#define MAX_CHUNKS  ((os_size_t)(FFW_MAX >> 1))         /* w[0] holds size << 1 */
#define TOP_CLEAR(w) 1                                  /* the check covers every bit */
#else
#define FSH         16u
#define FOLD(x)     (x)
#define MAX_CHUNKS  ((os_size_t)(FFW_MAX >> 3))         /* and its top two bits stay clear */
#define TOP_CLEAR(w) (((w) >> 30) == 0u)                /* which the check does not see */
#endif
/* The smallest request takes at least MINB chunks, so a block that holds it is a whole block. */
_Static_assert((HDR + 1u + CH - 1u) / CH >= MINB, "a one-byte request must take a whole minimal block");
/* The flags enter the check linearly: check(flags) = check(0) ^ flags * FMUL. */
#define FMUL        ((ffw_t)(((1u << FSH) << 2) | 1u))
/* xor into w[1] of a used block: flips F_PFREE and its share of the check */
#define PFLIP       ((ffw_t)(F_PFREE * FMUL))
/*
 * Hardening level 1 (header) and up: a free verifies the check of the used
 * block on its right (or the sentinel) before it flips that block's
 * F_PFREE, so a write that ran past the block's end into the next header
 * is reported when the block is freed (level 0: when the next block is).
 * With 32-bit words it also tests the two top bits of w[0], which the
 * check does not cover (its own free, query and check test the size).
 */
#if OS_MEM_HARDENING >= 1
#define NEXT_OK(f, t, h)    (sealed(f, t, h) && TOP_CLEAR((h)[0]))
#else
#define NEXT_OK(f, t, h)    1
#endif
#define NONE        ((os_size_t)-1)
#define HEAD        ((os_size_t)1 << (8 * sizeof(ffw_t) - 1))   /* prev link of a list head: HEAD | class */

struct ff
{
    /* fixed by init (FF_FIXED: sealed at hardening tail and full, alg.h) */
    os_uint8_t *base;       /* chunk 0 */
    ffw_t      *heads;      /* list heads, one per class (after map) */
    os_size_t   maxreq;     /* largest request that can ever fit */
    os_size_t   end;        /* index of the end sentinel */
    os_uint16_t nclasses;
    os_uint8_t  sl;         /* log2 of classes per power of two */
    os_uint8_t  nwords;     /* words in map */
    ffw_t       key;        /* the region's check secret (ff_key()) */
#if OS_MEM_FF_SMALL_HEADER
    os_uint16_t zero;       /* 0: the fixed part is whole words, with no padding */
#endif
    /* changed by alloc and free */
    os_size_t   top;        /* the last block when it is free, else end (size 0) */
#ifdef OS_MEM_STATS
    os_size_t   listed;     /* blocks in the lists */
#endif
    os_uint32_t summary;    /* bit w: map[w] != 0 */
    os_uint32_t map[];      /* bit k: list k non-empty; the list heads follow */
};
#define FF_FIXED    offsetof(struct ff, top)
_Static_assert(FF_FIXED % sizeof(os_ubase_t) == 0 &&
                   FF_FIXED == offsetof(struct ff, key) + sizeof(ffw_t) * (1u + (sizeof(ffw_t) == 2u)),
               "the fixed part of struct ff is whole words with no padding");

/*
 * Hardening tail and full: the fixed part is sealed (tested before every
 * call reaches first-fit), and the changing fields are tested where they
 * are followed, FF_SANE(): top before its header is read, a class found in
 * the bitmap before its list head is read, a list head before a push
 * writes through it. Below tail, alloc and free trust the control data
 * (check tests all of it).
 */
#if OS_MEM_HARDENING >= 2
#define FF_SANE(x)  (x)
#else
#define FF_SANE(x)  1
#endif
/*
 * At tail and full, top also keeps its size in its footer, as the other
 * free blocks do (below tail a shrinking top leaves it stale): a top index
 * set back to an earlier place by a stray write must then match two words,
 * not just a header word that the user's data in a block there may hold.
 */
#if OS_MEM_HARDENING >= 2
#define TOP_FOOT(f, t)      (*foot(f, (f)->end) = (ffw_t)((f)->end - (t)))
#define TOP_FOOT_OK(f, t)   (*foot(f, (f)->end) == (ffw_t)((f)->end - (t)))
#else
#define TOP_FOOT(f, t)      ((void)0)
#define TOP_FOOT_OK(f, t)   1
#endif

#define FF(r)       ((struct ff *)OH_REGION_DATA(r))

/*
 * The operations: static behind the ops table, or external functions that
 * the core calls by name (alg.h, OH_ALG_DIRECT).
 */
#ifdef OH_ALG_DIRECT
#define FF_OP
#define ff_init             oh_ff_init
#define ff_alloc            oh_ff_alloc
#define ff_aligned_alloc    oh_ff_aligned_alloc
#define ff_free             oh_ff_free
#define ff_resize           oh_ff_resize
#define ff_query            oh_ff_query
#define ff_walk             oh_ff_walk
#define ff_check            oh_ff_check
#define ff_free_info        oh_ff_free_info
#else
#define FF_OP               static
#endif

/* ---- header access --------------------------------------------------------- */

static inline ffw_t *hd(const struct ff *f, os_size_t c)
{
    return (ffw_t *)(void *)(f->base + c * CH + HDR - 2 * W);
}

/* The task index kept in a used block's header (0 without trace). */
static inline os_uint16_t owner_of(const struct ff *f, os_size_t c)
{
#ifdef OS_USING_MEM_TRACE
    return (os_uint16_t)hd(f, c)[-1];
#else
    (void)f;
    (void)c;
    return 0;
#endif
}

/* The free-list links of a free block: w[1], and the owner word or the first payload word. */
static inline ffw_t *nxt(const struct ff *f, os_size_t c)
{
    return hd(f, c) + 1;
}

static inline ffw_t *prv(const struct ff *f, os_size_t c)
{
#if OWNER_W
    return hd(f, c) - 1;
#else
    return hd(f, c) + 2;
#endif
}

/* The last word before block e: the footer of a free block that ends there. */
static inline ffw_t *foot(const struct ff *f, os_size_t e)
{
    return (ffw_t *)(void *)(f->base + e * CH) - 1;
}

/*
 * FF_SHARED(spec): a helper that the small build keeps out of line (one
 * copy for its several callers); the others declare it with spec.
 */
#ifdef OS_MEM_SMALL
#define FF_SHARED(spec) static OH_NOINLINE
#else
#define FF_SHARED(spec) spec
#endif

/* w[1] of used block c whose header is h, with the given flags (the header comment says how). */
FF_SHARED(static inline) ffw_t check_of(const struct ff *f, os_size_t c, const ffw_t *h, unsigned flags)
{
    os_uint32_t x = (os_uint32_t)(f->key ^ h[0]) ^ (os_uint32_t)(c * 0x9E3779B1u) ^ ((os_uint32_t)flags << FSH);

#ifdef OS_USING_MEM_TRACE
    x ^= (os_uint32_t)h[-1] ^ ((os_uint32_t)h[-1] >> 16);   /* every bit of the owner word shows */
#endif
    x &= FFW_MAX;
    return (ffw_t)((FOLD(x) << 2) | flags);
}

/* Write the check of used block c (w[0] and the owner already written). */
static inline void seal(const struct ff *f, os_size_t c, unsigned flags)
{
    ffw_t *h = hd(f, c);

    h[1] = check_of(f, c, h, flags);
}

#ifndef OS_MEM_SMALL
/* d = w[1] xor the check with no flags: does w[1] hold the check of the flags it carries? */
static inline int flags_only(unsigned d)
{
    return d == (d & 3u) * FMUL;
}
#endif

OH_TINY int sealed(const struct ff *f, os_size_t c, const ffw_t *h)
{
#ifdef OS_MEM_SMALL
    return h[1] == check_of(f, c, h, h[1] & 3u);
#else
    return flags_only((unsigned)(h[1] ^ check_of(f, c, h, 0)));
#endif
}

/* The flags of used block c. */
static inline unsigned bflags(const struct ff *f, os_size_t c)
{
    return (unsigned)(hd(f, c)[1] & 3u);
}

/* The block on the left of used block c (or of the sentinel) became free, or used. */
static inline void flip_pfree(const struct ff *f, os_size_t c)
{
    hd(f, c)[1] ^= PFLIP;
}

static inline os_size_t bsize(const struct ff *f, os_size_t c)
{
    return (os_size_t)(hd(f, c)[0] >> 1);
}

static inline unsigned bused(const struct ff *f, os_size_t c)
{
    return (unsigned)(hd(f, c)[0] & 1u);
}

static inline void set_size(const struct ff *f, os_size_t c, os_size_t size, unsigned used)
{
    hd(f, c)[0] = (ffw_t)((size << 1) | used);
}

/* Free block c of `size` chunks, not top: w[0] and the footer (links are written by the list). */
OH_TINY void set_free(const struct ff *f, os_size_t c, os_size_t size)
{
    hd(f, c)[0] = (ffw_t)(size << 1);
    *foot(f, c + size) = (ffw_t)size;
}

static inline void *payload(const struct ff *f, os_size_t c)
{
    return f->base + c * CH + HDR;
}

static inline os_size_t chunks_for(os_size_t size)
{
    return (size + HDR + CH - 1) >> CH_SHIFT;
}

/* The last byte of block c of s chunks: log2 of an aligned block's alignment. */
static inline os_uint8_t *align_byte(const struct ff *f, os_size_t c, os_size_t s)
{
    return f->base + (c + s) * CH - 1;
}

static inline unsigned is_aligned_blk(const struct ff *f, os_size_t c)
{
    return bflags(f, c) & F_ALIGNED;
}

/*
 * The check byte of aligned block c whose alignment byte is lg: the
 * region's key and the block's index, xor lg, so a change of either byte
 * alone always shows (a write running one byte past the usable bytes
 * meets the check byte first).
 */
static inline os_uint8_t align_check(const struct ff *f, os_size_t c, unsigned lg)
{
    return (os_uint8_t)((os_uint32_t)f->key ^ (os_uint32_t)c ^ lg ^ 0xA5u);
}

/* Aligned block c of s chunks: its alignment (log2) and check. */
static inline void set_align(const struct ff *f, os_size_t c, os_size_t s, unsigned lg)
{
    os_uint8_t *e = align_byte(f, c, s);

    e[0] = (os_uint8_t)lg;
    e[-1] = align_check(f, c, lg);
}

/* Does aligned block c of s chunks end with the check of its alignment byte? */
static inline int align_sound(const struct ff *f, os_size_t c, os_size_t s)
{
    const os_uint8_t *e = align_byte(f, c, s);

    return e[-1] == align_check(f, c, e[0]);
}

/* ---- size classes and lists ------------------------------------------------ */

OH_INLINE os_size_t ff_class_sl(os_size_t n, unsigned sl)
{
    unsigned sh = oh_msb32((os_uint32_t)n | ((os_uint32_t)1 << sl)) - sl;   /* max(0, msb(n) - sl) */

    return ((os_size_t)sh << sl) + (n >> sh);
}

/* The class of a block of n chunks in a region with f->sl (the shifts are constants in the common case). */
OH_INLINE os_size_t ff_class(const struct ff *f, os_size_t n)
{
#ifndef OS_MEM_SMALL
    if (OH_LIKELY(f->sl == OS_MEM_FF_SL_BITS))
    {
        return ff_class_sl(n, OS_MEM_FF_SL_BITS);
    }
#endif
    return ff_class_sl(n, f->sl);
}

/* First non-empty class >= k, or NONE. Two find-first-set at most. */
OH_INLINE os_size_t ff_next_class(const struct ff *f, os_size_t k)
{
    os_size_t w = k >> 5;
    os_uint32_t bits;

    if (k >= f->nclasses)
    {
        return NONE;
    }
    bits = f->map[w] & (~(os_uint32_t)0 << (k & 31u));
    if (bits == 0)
    {
        os_uint32_t s = f->summary & (~(os_uint32_t)1 << w);

        if (s == 0)
        {
            return NONE;
        }
        w = oh_ctz32(s);
        if (!FF_SANE(w < f->nwords && f->map[w] != 0))
        {
            return NONE;
        }
        bits = f->map[w];
    }
    k = (w << 5) + oh_ctz32(bits);
    return FF_SANE(k < f->nclasses) ? k : NONE;
}

/* Clear bit k of the bitmap (list k became empty). */
OH_INLINE void map_clear(struct ff *f, os_size_t k)
{
    os_uint32_t m = f->map[k >> 5] & ~((os_uint32_t)1 << (k & 31u));

    f->map[k >> 5] = m;
    if (m == 0)
    {
        f->summary &= ~((os_uint32_t)1 << (k >> 5));
    }
}

#if OS_MEM_HARDENING >= 2
/*
 * The head of list k, about to be pushed on, is not a block of the region
 * whose prev link names the list: reported; the list starts again empty
 * (the blocks it held are lost to allocation until the region is added
 * again). Returns 0, the new successor.
 */
static OH_NOINLINE os_size_t head_lost(struct ff *f, os_size_t k)
{
    oh_fault(OH_REGION_OF(f), &f->heads[k], OS_ERROR, "free list head overwritten");
    f->heads[k] = 0;
    return 0;
}
#else
#define head_lost(f, k) 0
#endif

/* Push free block c on list k (its class). */
OH_INLINE void fl_push(struct ff *f, os_size_t c, os_size_t k)
{
    ffw_t *heads = f->heads;
    os_size_t n = heads[k];

    if (!FF_SANE(n == 0 || (n < f->end && *prv(f, n) == (ffw_t)(HEAD | k))))
    {
        n = head_lost(f, k);
    }
    *prv(f, c) = (ffw_t)(HEAD | k);
    heads[k] = (ffw_t)c;
    if (n != 0)
    {
        *prv(f, n) = (ffw_t)c;
    }
    else
    {
        f->map[k >> 5] |= (os_uint32_t)1 << (k & 31u);
        f->summary |= (os_uint32_t)1 << (k >> 5);
    }
    *nxt(f, c) = (ffw_t)n;      /* (after the others: a paired store of both links is slower) */
    OH_STAT(f->listed++);
}

/* Push free block c of `size` chunks on the list of its class. */
OH_INLINE void fl_insert(struct ff *f, os_size_t c, os_size_t size)
{
    fl_push(f, c, ff_class(f, size));
}

/*
 * Are free block c's list links consistent with both list neighbours (or,
 * for a list head, with the list's head pointer)? If not, they were
 * overwritten. O(1), no class computation.
 */
OH_INLINE int fl_ok(const struct ff *f, os_size_t c)
{
    os_size_t n = *nxt(f, c), p = *prv(f, c);

    if (n >= f->end || (n != 0 && *prv(f, n) != c))
    {
        return 0;
    }
    if (p >= HEAD)
    {
        p &= ~(os_size_t)HEAD;
        return p < f->nclasses && f->heads[p] == c;
    }
    return p != 0 && p < f->end && *nxt(f, p) == c;
}

/* Unlink free block c, whose links passed fl_ok(). */
OH_INLINE void fl_cut(struct ff *f, os_size_t c)
{
    os_size_t n = *nxt(f, c), p = *prv(f, c);

    if (p >= HEAD)
    {
        f->heads[p & ~(os_size_t)HEAD] = (ffw_t)n;
        if (n == 0)
        {
            map_clear(f, p & ~(os_size_t)HEAD);
        }
    }
    else
    {
        *nxt(f, p) = (ffw_t)n;
    }
    if (n != 0)
    {
        *prv(f, n) = (ffw_t)p;
    }
    OH_STAT(f->listed--);
}

/* Is c a well-formed free block: in range, free, with its footer (or, for top, ending at the end)? */
OH_INLINE int free_block_ok(const struct ff *f, os_size_t c, os_size_t *size)
{
    os_size_t s;

    if (c == 0 || c >= f->end || bused(f, c))
    {
        return 0;
    }
    s = bsize(f, c);
    *size = s;
    if (s < MINB || s > f->end - c)
    {
        return 0;
    }
    return c == f->top ? c + s == f->end && TOP_FOOT_OK(f, c) : *foot(f, c + s) == s;
}

/*
 * The size of the free block on the left of block c (whose F_PFREE is set),
 * from its footer, if that block's header agrees; else 0. Exact: a footer
 * naming any other size cannot match a free header ending at c.
 */
static inline os_size_t left_size(const struct ff *f, os_size_t c)
{
    os_size_t ls = *foot(f, c);

    return ls >= MINB && ls < c && hd(f, c - ls)[0] == (ffw_t)(ls << 1) ? ls : 0;
}

/* Detach free block c from its list or from top. 0 if its links are corrupt. */
OH_INLINE int detach(struct ff *f, os_size_t c)
{
    if (c == f->top)
    {
        f->top = f->end;
        return 1;
    }
    if (!fl_ok(f, c))
    {
        return 0;
    }
    fl_cut(f, c);
    return 1;
}

/* Put free block c (headers already written) in its list, or make it top. */
FF_SHARED(OH_INLINE) void attach(struct ff *f, os_size_t c, os_size_t size)
{
    if (c + size == f->end)
    {
        f->top = c;
    }
    else
    {
        fl_insert(f, c, size);
    }
}

/*
 * Does top's header agree with top (a free block ending at the sentinel)?
 * Its size is known from its index, so the header only has to match.
 */
static inline int top_ok(const struct ff *f, os_size_t t)
{
#if OS_MEM_HARDENING >= 2
    if (!TOP_FOOT_OK(f, t))
    {
        return 0;
    }
#endif
    return hd(f, t)[0] == (ffw_t)((f->end - t) << 1);
}

/* ---- carving and merging --------------------------------------------------- */

#ifdef OS_MEM_SMALL
static OH_NOINLINE void *alloc_bad(struct heap_mem *r, os_size_t c);

/* take_fit(): a corrupt block met in the walk of the request's own class (reported, not counted). */
#define LOST        (NONE - 1)

/*
 * The blocks of class k, for a plain request of n chunks that neither the
 * head of its class nor a higher class nor top can serve: take_missed()
 * for one class and no alignment, each block checked (header, footer,
 * both list neighbours) before its links are followed, at most
 * OS_MEM_FF_SEARCH_MAX blocks (0: no bound). Returns the block, unlinked
 * (*size its size), 0 if none fits, LOST for a corrupt block (reported).
 */
static os_size_t take_own(struct heap_mem *r, struct ff *f, os_size_t k, os_size_t n, os_size_t *size)
{
    os_size_t steps = f->end / MINB;
#if OS_MEM_FF_SEARCH_MAX > 0
    os_size_t budget = OS_MEM_FF_SEARCH_MAX;
#endif
    os_size_t c, s;

    for (c = f->heads[k]; c != 0; c = *nxt(f, c))
    {
#if OS_MEM_FF_SEARCH_MAX > 0
        if (budget-- == 0)
        {
            return 0;
        }
#endif
        if (steps-- == 0 || !free_block_ok(f, c, &s) || c == f->top || !fl_ok(f, c))
        {
            (void)alloc_bad(r, c < f->end ? c : 0);
            return LOST;
        }
        if (s >= n)
        {
            fl_cut(f, c);
            *size = s;
            return c;
        }
    }
    return 0;
}

/*
 * Find a free block of at least n chunks and detach it: the head of its
 * own class if it fits, else the head of the first non-empty class above,
 * else top; with own, then the rest of its own class, which those pass
 * over (take_missed() for a plain request, looked at only before a
 * refusal). Returns its index (and *size), 0 if none was found, NONE for a
 * corrupt block met on the way (reported) or, in the walk of the own
 * class, LOST (reported). (The small build's general path; the others use
 * find_listed(), top and take_missed().)
 */
static os_size_t take_fit(struct heap_mem *r, struct ff *f, os_size_t n, os_size_t *size, int own)
{
    os_size_t k = ff_class(f, n);
    os_size_t c = f->heads[k];
    os_size_t s = 0;

    if (c != 0 && !free_block_ok(f, c, &s))
    {
        goto bad;
    }
    if (c == 0 || s < n)
    {
        os_size_t next = ff_next_class(f, k + 1);

        if (next != NONE)
        {
            c = f->heads[next];
        }
        else if (!FF_SANE(f->top - 1 < f->end))
        {
            c = 0;
            goto bad;
        }
        else if (bsize(f, f->top) >= n)
        {
            c = f->top;
        }
        else
        {
            return own ? take_own(r, f, k, n, size) : 0;
        }
        if (!free_block_ok(f, c, &s) || s < n)
        {
            goto bad;
        }
    }
    if (!detach(f, c))
    {
        goto bad;
    }
    *size = s;
    return c;
bad:
    (void)alloc_bad(r, c);  /* a header or list links overwritten */
    return NONE;
}
#endif

/*
 * Block c of `size` chunks was free and is now detached, and becomes a used
 * block of n chunks: the rest, if it can hold a block, becomes a free block
 * on its right (its own right neighbour is used, so it needs no merge; it
 * still has F_PFREE, which is cleared if the whole block is used).
 * Returns the chunks the used block keeps. Does not write the header of c.
 */
static os_size_t split_tail(struct ff *f, os_size_t c, os_size_t size, os_size_t n)
{
    os_size_t rest = size - n;

    if (rest < MINB)
    {
        flip_pfree(f, c + size);    /* its left neighbour is used now */
        return size;
    }
    set_free(f, c + n, rest);
    attach(f, c + n, rest);
    return n;
}

/* The last place in free block [c, c + s) where a block of n chunks has an aligned payload. */
static inline os_size_t aligned_end(const struct ff *f, os_size_t c, os_size_t s, os_size_t n, os_size_t align)
{
    os_size_t e = c + s;

    return e - n - (((os_size_t)(os_ubase_t)payload(f, e - n) & (align - 1)) >> CH_SHIFT);
}

/*
 * Where in free block [c, c + s) a block of n chunks goes: c for a plain
 * request (align 0); for an aligned one its last aligned place, if the
 * front it leaves is empty or can hold a free block. NONE if it does not
 * fit. (With align > OS_MEM_ALIGN_SIZE the place before the last is at
 * least 2 chunks earlier, so the last one is the only candidate.)
 */
static os_size_t place_in(const struct ff *f, os_size_t c, os_size_t s, os_size_t n, os_size_t align)
{
    os_size_t t;

    if (s < n)
    {
        return NONE;
    }
    if (align == 0)
    {
        return c;
    }
    t = aligned_end(f, c, s, n, align);
    return t - c <= s - n && (t == c || t - c >= MINB) ? t : NONE;   /* (t - c wraps if t < c) */
}

/*
 * The listed blocks that the O(1) searches pass over, looked at only when
 * a request is about to be refused, so that a request never fails while a
 * free block can serve it: the blocks of the request's own class below
 * its head (every block of a higher class fits a plain request, and the
 * search found those empty), and for an aligned request the blocks of
 * classes lo..hi that are too small for the worst-case gap but whose
 * address gives them a fitting aligned place. Each block is checked
 * (header, footer, both list neighbours) before its links are followed,
 * and the walk is bounded by the number of blocks the region can hold.
 * At most OS_MEM_FF_SEARCH_MAX blocks (0: no bound, O(free blocks in
 * those classes)), on the way to a failure only.
 * Returns the block, unlinked from its list (*ps its size, *pt where the
 * used block goes), 0 if none fits, NONE (with *bad) for a corrupt block.
 */
static OH_NOINLINE os_size_t take_missed(struct ff *f, os_size_t lo, os_size_t hi, os_size_t n, os_size_t align,
                                         os_size_t *ps, os_size_t *pt, os_size_t *bad)
{
    os_size_t steps = f->end / MINB;
#if OS_MEM_FF_SEARCH_MAX > 0
    os_size_t budget = OS_MEM_FF_SEARCH_MAX;
#endif
    os_size_t k;

    for (k = ff_next_class(f, lo); k != NONE && k <= hi; k = ff_next_class(f, k + 1))
    {
        os_size_t c, s, t;

        for (c = f->heads[k]; c != 0; c = *nxt(f, c))
        {
#if OS_MEM_FF_SEARCH_MAX > 0
            if (budget-- == 0)
            {
                return 0;   /* examined OS_MEM_FF_SEARCH_MAX blocks: refused, in bounded time */
            }
#endif
            if (steps-- == 0 || !free_block_ok(f, c, &s) || c == f->top || !fl_ok(f, c))
            {
                *bad = c < f->end ? c : 0;
                return NONE;
            }
            t = place_in(f, c, s, n, align);
            if (t != NONE)
            {
                fl_cut(f, c);
                *ps = s;
                *pt = t;
                return c;
            }
        }
    }
    return 0;
}

/*
 * Make [c, c + size) a free block and merge it with its free neighbours
 * (lfree: the block on its left is free). 0 (nothing changed) if a
 * neighbour's header, footer or list links are corrupt.
 */
OH_INLINE int release(struct ff *f, os_size_t c, os_size_t size, unsigned lfree)
{
    os_size_t r = c + size;
    os_size_t rs = 0, ls = 0;

    /* Check both neighbours before changing anything. */
    if (!bused(f, r))
    {
        if (!free_block_ok(f, r, &rs) || (r != f->top && !fl_ok(f, r)))
        {
            return 0;
        }
    }
    else if ((r == f->top && r != f->end) || !NEXT_OK(f, r, hd(f, r)))
    {
        return 0;               /* top's header says "used", or a broken check */
    }
    if (lfree)
    {
        ls = left_size(f, c);
        if (ls == 0 || !fl_ok(f, c - ls))
        {
            return 0;
        }
    }
    set_size(f, c, size, 0);    /* a later free of this pointer sees "free" */
    if (rs != 0)
    {
        if (r == f->top)
        {
            f->top = f->end;
        }
        else
        {
            fl_cut(f, r);
        }
        OH_SCRUB_HEAD(f->base + r * CH, rs * CH);
        size += rs;
    }
    else
    {
        flip_pfree(f, r);       /* used, or the sentinel */
    }
    if (ls != 0)
    {
        fl_cut(f, c - ls);
        OH_SCRUB_HEAD(f->base + c * CH, size * CH);
        c -= ls;
        size += ls;
    }
    set_free(f, c, size);
    attach(f, c, size);
    return 1;
}

/* ---- pointer validation -------------------------------------------------------- */

/*
 * Is p the payload of a used block (on the grid, in use, its check
 * matching, its size in range, an aligned block's trailer sound)?
 */
static inline int locate(const struct ff *f, const void *p, os_size_t *pc, os_size_t *ps)
{
    os_size_t off = (os_size_t)((os_ubase_t)p - (os_ubase_t)f->base) - HDR;   /* p may lie anywhere */
    os_size_t c = off >> CH_SHIFT;
    os_size_t s;

    if ((off & (CH - 1)) != 0 || c - 1 >= f->end - MINB)
    {
        return BLK_NOT_BLOCK;
    }
    if (!bused(f, c))
    {
        return BLK_FREE;
    }
    if (!sealed(f, c, hd(f, c)))
    {
        return BLK_CORRUPT;
    }
    s = bsize(f, c);
    if (s < MINB || s > f->end - c)
    {
        return BLK_CORRUPT;
    }
    if (OH_UNLIKELY(is_aligned_blk(f, c)) && !align_sound(f, c, s))
    {
        return BLK_CORRUPT;
    }
    *pc = c;
    *ps = s;
    return BLK_OK;
}

/*
 * Report p, which failed validation for reason why. A header that says
 * "not in use" is a double free when a free block starts there (listed, or
 * top); otherwise it is stale (the block was merged since) or user data.
 */
#ifdef OS_MEM_SMALL
/* The small build reports a header that says "not in use" as a double free, without a look at the block. */
#define bad_pointer(r, p, why) oh_bad_pointer(r, p, why)
#else
static OH_NOINLINE void bad_pointer(const struct heap_mem *r, const void *p, int why)
{
    const struct ff *f = FF(r);
    os_size_t c = ((os_size_t)((os_ubase_t)p - (os_ubase_t)f->base) - HDR) >> CH_SHIFT, s;

    if (why == BLK_FREE && (!free_block_ok(f, c, &s) || (c != f->top && !fl_ok(f, c))))
    {
        why = BLK_NOT_USED;
    }
    oh_bad_pointer(r, p, why);
}
#endif

FF_SHARED(static inline) int locate_or_report(const struct heap_mem *r, const void *p, os_size_t *pc, os_size_t *ps)
{
    int why = locate(FF(r), p, pc, ps);

    if (OH_LIKELY(why == BLK_OK))
    {
        return 1;
    }
    bad_pointer(r, p, why);
    return 0;
}

/* A free or a shrink met a neighbour it must change with a broken header, footer or list links. */
static OH_NOINLINE void neighbour_bad(const struct heap_mem *r, const void *p)
{
    oh_fault(r, p, OS_ERROR, "header or free-list links of a neighbouring block overwritten");
}

/* ---- operations ------------------------------------------------------------------ */

static inline void set_owner(const struct ff *f, os_size_t c, os_uint16_t owner)
{
#ifdef OS_USING_MEM_TRACE
    hd(f, c)[-1] = (ffw_t)owner;
#else
    (void)f;
    (void)c;
    (void)owner;
#endif
}

/* Block c becomes a used block of n chunks: w[0], owner, check. */
FF_SHARED(static inline) void set_used(const struct ff *f, os_size_t c, os_size_t n, os_uint16_t owner, unsigned flags)
{
    set_size(f, c, n, 1);
    set_owner(f, c, owner);
    seal(f, c, flags);
}

static OH_NOINLINE void *alloc_bad(struct heap_mem *r, os_size_t c)
{
    oh_fault(r, payload(FF(r), c), OS_ERROR, "free block header or list links overwritten");
    return OS_NULL;
}

/* Detached free block c of s chunks serves n chunks from its front. */
static void *carve(struct heap_mem *r, struct ff *f, os_size_t c, os_size_t s, os_size_t n, os_uint16_t owner)
{
    n = split_tail(f, c, s, n);
    set_used(f, c, n, owner, 0);
    oh_took(r, n * CH, owner);
    return payload(f, c);
}

#ifndef OS_MEM_SMALL
/* A request of n chunks that the O(1) search could not serve: take_missed() on its own class, else refused. */
static OH_NOINLINE void *alloc_missed(struct heap_mem *r, os_size_t n, os_uint16_t owner)
{
    struct ff *f = FF(r);
    os_size_t k = ff_class(f, n);
    os_size_t s = 0, t = 0, bad = 0;
    os_size_t c = take_missed(f, k, k, n, 0, &s, &t, &bad);

    if (c == 0)
    {
        return oh_refused(r);
    }
    if (OH_UNLIKELY(c == NONE))
    {
        return alloc_bad(r, bad);
    }
    return carve(r, f, c, s, n, owner);
}

/* Pop the head c of list k; next is its checked successor. */
OH_INLINE void pop_head(struct ff *f, os_size_t k, os_size_t next)
{
    f->heads[k] = (ffw_t)next;
    OH_STAT(f->listed--);
    if (next != 0)
    {
        *prv(f, next) = (ffw_t)(HEAD | k);
    }
    else
    {
        map_clear(f, k);
    }
}

/*
 * The listed block an allocation of n chunks takes: the head of n's own
 * class if it fits, else the head of the first non-empty class above.
 * Returns it (its class in *pk, size in *ps, checked successor in *pnext),
 * 0 if no listed block fits, NONE (with *bad) for a corrupt block. Only
 * the size of the own class's head is read before it is chosen (a head
 * past the end is not read; check reports it); the chosen block is
 * checked in full. n >= MINB (so a block of n chunks or more is big enough).
 * The own class is looked at when its map bit is set, and the search for
 * a class above (ff_next_class()) starts from the same map word.
 */
OH_INLINE os_size_t find_listed(const struct ff *f, os_size_t n, os_size_t *pk, os_size_t *ps,
                               os_size_t *pnext, os_size_t *bad)
{
    os_size_t k = ff_class(f, n), w = k >> 5;
    os_uint32_t bits = f->map[w] & (~(os_uint32_t)0 << (k & 31u));     /* classes k.. of word w */
    os_size_t c, s, next;

    if ((bits & ((os_uint32_t)1 << (k & 31u))) != 0)
    {
        c = f->heads[k];
        if (c - 1 < f->end - 1 && (s = bsize(f, c)) >= n)
        {
            goto chosen;
        }
        bits &= bits - 1;       /* (ff_next_class(f, k + 1)) */
    }
    if (bits == 0)
    {
        os_uint32_t sm = f->summary & (~(os_uint32_t)1 << w);

        if (sm == 0)
        {
            return 0;
        }
        w = oh_ctz32(sm);
        if (!FF_SANE(w < f->nwords && f->map[w] != 0))
        {
            c = 0;      /* the summary names a word past the bitmap, or an empty one */
            goto corrupt;
        }
        bits = f->map[w];
    }
    k = (w << 5) + oh_ctz32(bits);
    if (!FF_SANE(k < f->nclasses))
    {
        c = 0;      /* the bitmap names no class */
        goto corrupt;
    }
    c = f->heads[k];
    if (c - 1 >= f->end - 1 || (s = bsize(f, c)) < n)
    {
        goto corrupt;
    }
chosen:
    if (bused(f, c) || s > f->end - c || *foot(f, c + s) != s)
    {
        goto corrupt;
    }
    next = *nxt(f, c);
    if (*prv(f, c) != (ffw_t)(HEAD | k) || next >= f->end || (next != 0 && *prv(f, next) != c))
    {
        goto corrupt;
    }
    *pk = k;
    *ps = s;
    *pnext = next;
    return c;
corrupt:
    *bad = c;
    return NONE;
}

/*
 * Allocate n chunks from the free lists (find_listed()). Returns the used
 * block, 0 if no listed block fits, NONE (with *bad) for a corrupt block.
 * When the rest of the block stays in the same class, the allocation is
 * cut from the block's end and the block keeps its place in its list.
 */
static inline os_size_t alloc_listed(struct ff *f, os_size_t n, os_uint16_t owner, os_size_t *bad)
{
    os_size_t k = 0, s = 0, next = 0, rest;
    os_size_t c = find_listed(f, n, &k, &s, &next, bad);

    if (c == 0 || c == NONE)
    {
        return c;
    }
    rest = s - n;
    if (rest >= MINB)
    {
        os_size_t kr = ff_class(f, rest);

        if (kr == k)
        {
            os_size_t a = c + rest;

            set_free(f, c, rest);
            set_used(f, a, n, owner, F_PFREE);
            flip_pfree(f, a + n);
            return a;
        }
        pop_head(f, k, next);
        set_free(f, c + n, rest);
        fl_push(f, c + n, kr);
        set_used(f, c, n, owner, 0);
        return c;
    }
    pop_head(f, k, next);
    flip_pfree(f, c + s);
    set_used(f, c, s, owner, 0);
    return c;
}

/*
 * Allocate n chunks from the front of top; OS_NULL if top is too small.
 * Top's size is known from its index (it ends at the sentinel), so its
 * header only has to agree. The block on its left is used.
 */
OH_INLINE void *alloc_top(struct heap_mem *r, struct ff *f, os_size_t n, os_uint16_t owner)
{
    os_size_t t = f->top;
    os_size_t ts = f->end - t, rest;
    ffw_t *h;

    if (!FF_SANE(t - 1 < f->end))
    {
        return alloc_bad(r, 0);     /* top not in 1..end (chunk 0 lies in the control data): not read */
    }
    h = hd(f, t);
    if (ts < n)
    {
        return alloc_missed(r, n, owner);
    }
    if (OH_UNLIKELY(h[0] != (ffw_t)(ts << 1) || !TOP_FOOT_OK(f, t)))     /* top_ok(), from what is at hand */
    {
        return alloc_bad(r, t);
    }
    rest = ts - n;
    if (OH_LIKELY(rest >= MINB))
    {
        h[n * (CH / W)] = (ffw_t)(rest << 1);
        f->top = t + n;
        TOP_FOOT(f, t + n);
    }
    else
    {
        n = ts;
        f->top = f->end;
        flip_pfree(f, f->end);
    }
    h[0] = (ffw_t)((n << 1) | 1u);
    set_owner(f, t, owner);
    seal(f, t, 0);
    oh_took(r, n * CH, owner);
    return h + 2;
}

static OH_NOINLINE void *alloc_from_lists(struct heap_mem *r, os_size_t n, os_uint16_t owner)
{
    struct ff *f = FF(r);
    os_size_t bad = 0;
    os_size_t c = alloc_listed(f, n, owner, &bad);

    if (c == 0)
    {
        return alloc_top(r, f, n, owner);
    }
    if (OH_UNLIKELY(c == NONE))
    {
        return alloc_bad(r, bad);
    }
    oh_took(r, bsize(f, c) * CH, owner);
    return payload(f, c);
}
#endif

#ifndef OS_MEM_SMALL
FF_OP void *ff_alloc(struct heap_mem *r, os_size_t size, os_uint16_t owner)
{
    struct ff *f = FF(r);
    os_size_t n;

    if (OH_UNLIKELY(size - 1 >= f->maxreq))
    {
        return oh_refused_size(r, size);
    }
    n = chunks_for(size);
    if (f->summary != 0)
    {
        return alloc_from_lists(r, n, owner);
    }
    return alloc_top(r, f, n, owner);
}
#else
/*
 * The small build: one general path instead of the fast paths above (the
 * same choice of block: head of its own class, first non-empty class
 * above, then top; the block is always carved from its front).
 */
FF_OP void *ff_alloc(struct heap_mem *r, os_size_t size, os_uint16_t owner)
{
    struct ff *f = FF(r);
    os_size_t n, c, s;

    if (size - 1 >= f->maxreq)
    {
        return oh_refused_size(r, size);
    }
    n = chunks_for(size);
    c = take_fit(r, f, n, &s, 1);
    if (OH_UNLIKELY(c == LOST))
    {
        return OS_NULL;
    }
    if (c == 0 || c == NONE)
    {
        return oh_refused(r);
    }
    return carve(r, f, c, s, n, owner);
}
#endif

/*
 * Make [c, c + s), detached from free memory, a used aligned block of at
 * least n chunks (the rest a free block) and hand it out; pfree: F_PFREE if
 * the block on its left is free.
 */
OH_INLINE void *aligned_finish(struct heap_mem *r, struct ff *f, os_size_t c, os_size_t s, os_size_t n,
                            os_size_t align, os_uint16_t owner, unsigned pfree)
{
    n = split_tail(f, c, s, n);
    set_used(f, c, n, owner, F_ALIGNED | pfree);
    set_align(f, c, n, oh_log2_pow2(align));
    oh_took(r, n * CH, owner);
    return payload(f, c);
}

#ifndef OS_MEM_SMALL
/*
 * Listed free block [c, c + s), already in the list of its front's class,
 * keeps [c, t) (at least MINB chunks); [t, c + s) becomes the aligned block.
 */
OH_INLINE void *aligned_from_end(struct heap_mem *r, struct ff *f, os_size_t c, os_size_t s, os_size_t t,
                              os_size_t n, os_size_t align, os_uint16_t owner)
{
    set_free(f, c, t - c);
    return aligned_finish(r, f, t, c + s - t, n, align, owner, F_PFREE);
}
#endif

/*
 * Detached free block [c, c + s) serves an aligned block at t: c, or a
 * place at least MINB chunks in, the front becoming a free block (its
 * left neighbour is used).
 */
static void *aligned_at(struct heap_mem *r, struct ff *f, os_size_t c, os_size_t s, os_size_t t,
                        os_size_t n, os_size_t align, os_uint16_t owner)
{
    if (t == c)
    {
        return aligned_finish(r, f, c, s, n, align, owner, 0);
    }
    set_free(f, c, t - c);
    fl_insert(f, c, t - c);
    return aligned_finish(r, f, t, c + s - t, n, align, owner, F_PFREE);
}

/* The first place in top (at c) with an aligned payload whose gap is empty or can hold a free block. */
static os_size_t top_place(const struct ff *f, os_size_t c, os_size_t align)
{
    os_size_t gap = ((align - ((os_size_t)(os_ubase_t)payload(f, c) & (align - 1))) & (align - 1)) >> CH_SHIFT;

    return c + (gap != 0 && gap < MINB ? gap + (align >> CH_SHIFT) : gap);
}

/* An aligned request of n chunks the O(1) search (for need chunks) could not serve: take_missed(), else refused. */
static OH_NOINLINE void *aligned_missed(struct heap_mem *r, os_size_t n, os_size_t align, os_size_t need,
                                        os_uint16_t owner)
{
    struct ff *f = FF(r);
    os_size_t s = 0, t = 0, bad = 0;
    os_size_t hi = need < f->end ? ff_class(f, need) : f->nclasses;     /* (an alignment above the region: all) */
    os_size_t c = take_missed(f, ff_class(f, n), hi, n, align, &s, &t, &bad);

    if (c == 0)
    {
        return oh_refused(r);
    }
    if (OH_UNLIKELY(c == NONE))
    {
        return alloc_bad(r, bad);
    }
    return aligned_at(r, f, c, s, t, n, align, owner);
}

/*
 * A listed free block is cut from its end, at the last aligned place: its
 * front (at least MINB chunks, as the request has room for the worst gap)
 * stays a free block, in its list when its class does not change, and a
 * tail smaller than a block stays with the aligned block. Top is cut from
 * its front, at its first fitting place, so that the rest stays top: a gap
 * in front becomes a free block. A request that neither serves (it has no
 * room for the worst gap anywhere) goes to aligned_missed().
 */
FF_OP void *ff_aligned_alloc(struct heap_mem *r, os_size_t align, os_size_t size, os_uint16_t owner)
{
    struct ff *f = FF(r);
    os_size_t a = align >> CH_SHIFT;
    os_size_t n, c, s, t, need;

    if (size >= f->maxreq)
    {
        return oh_refused(r);
    }
    n = chunks_for(size + ATRL);    /* + the check and alignment bytes */
    /* Room for the worst gap (a - 1 chunks, or a + MINB - 1 when a smaller
     * gap could not hold a free block). */
    need = n + a + MINB - 1;
    if (need < f->end)
    {
#ifndef OS_MEM_SMALL
        os_size_t k = 0, next = 0, bad = 0, kf;

        c = find_listed(f, need, &k, &s, &next, &bad);
        if (OH_UNLIKELY(c == NONE))
        {
            return alloc_bad(r, bad);
        }
        if (c != 0)
        {
            t = aligned_end(f, c, s, n, align);
            kf = ff_class(f, t - c);
            if (kf != k)
            {
                pop_head(f, k, next);
                fl_push(f, c, kf);
            }
            return aligned_from_end(r, f, c, s, t, n, align, owner);
        }
#else
        c = take_fit(r, f, need, &s, 0);
        if (c == NONE)
        {
            return oh_refused(r);
        }
        if (c != 0)
        {
            /* top (detached) from its front, a listed block from its end */
            t = c + s == f->end ? top_place(f, c, align) : aligned_end(f, c, s, n, align);
            return aligned_at(r, f, c, s, t, n, align, owner);
        }
#endif
    }
    c = f->top;
    if (!FF_SANE(c - 1 < f->end))
    {
        return alloc_bad(r, 0);
    }
    s = f->end - c;
    t = top_place(f, c, align);
    if (s < n || t - c > s - n)
    {
        return aligned_missed(r, n, align, need, owner);
    }
    if (OH_UNLIKELY(!top_ok(f, c)))
    {
        return alloc_bad(r, c);
    }
    f->top = f->end;
    return aligned_at(r, f, c, s, t, n, align, owner);
}

/* Free used block c of s chunks (header checked) with release(): merged with free neighbours (checked). */
static void free_merge(struct heap_mem *r, void *p, os_size_t c, os_size_t s)
{
    struct ff *f = FF(r);
    os_uint16_t owner = owner_of(f, c);

    if (!release(f, c, s, bflags(f, c) & F_PFREE))
    {
        neighbour_bad(r, p);
        return;
    }
    oh_gave(r, s * CH, owner);
}

#ifdef OS_MEM_SMALL
/* The small build: locate()'s checks, then one general merge (release). */
FF_OP void ff_free(struct heap_mem *r, void *p)
{
    os_size_t c, s;

    if (locate_or_report(r, p, &c, &s))
    {
        free_merge(r, p, c, s);
    }
}
#else
/*
 * Free block c of s chunks into its free left neighbour of ls chunks (its
 * header checked by ff_free) when the right neighbour is a used block (or
 * the end sentinel: the merged block becomes top).
 */
static OH_NOINLINE void merge_left(struct heap_mem *r, void *p, os_size_t c, os_size_t s, os_size_t ls)
{
    struct ff *f = FF(r);
    os_size_t l = c - ls;
    os_uint16_t owner = owner_of(f, c);

    if (!fl_ok(f, l) || !NEXT_OK(f, c + s, hd(f, c + s)))
    {
        neighbour_bad(r, p);
        return;
    }
    set_size(f, c, s, 0);       /* a later free of this pointer sees "free" */
    fl_cut(f, l);
    OH_SCRUB_HEAD(f->base + c * CH, s * CH);
    flip_pfree(f, c + s);
    set_free(f, l, ls + s);
    attach(f, l, ls + s);
    oh_gave(r, s * CH, owner);
}

/*
 * Free block c of s chunks between its free left neighbour of ls chunks
 * (its header checked by ff_free) and a free right neighbour, listed or
 * top.
 */
static OH_NOINLINE void merge_both(struct heap_mem *r, void *p, os_size_t c, os_size_t s, os_size_t ls)
{
    struct ff *f = FF(r);
    os_size_t l = c - ls, t = c + s, ts, n;
    os_uint16_t owner = owner_of(f, c);

    if (t == f->top)
    {
        ts = f->end - t;
        if (!top_ok(f, t))
        {
            goto bad;
        }
    }
    else if (!free_block_ok(f, t, &ts) || !fl_ok(f, t))
    {
        goto bad;
    }
    if (!fl_ok(f, l))
    {
        goto bad;
    }
    set_size(f, c, s, 0);       /* a later free of this pointer sees "free" */
    if (t == f->top)
    {
        f->top = f->end;
    }
    else
    {
        fl_cut(f, t);
    }
    fl_cut(f, l);
    OH_SCRUB_HEAD(f->base + t * CH, ts * CH);
    OH_SCRUB_HEAD(f->base + c * CH, (s + ts) * CH);
    n = ls + s + ts;
    set_free(f, l, n);
    attach(f, l, n);
    oh_gave(r, s * CH, owner);
    return;
bad:
    neighbour_bad(r, p);
}

/*
 * Free block c of s chunks, whose left neighbour is used or absent, into
 * its free right neighbour, which is listed (not top), so the merged block
 * is not the last one either.
 */
static OH_NOINLINE void merge_right(struct heap_mem *r, void *p, os_size_t c, os_size_t s)
{
    struct ff *f = FF(r);
    os_size_t t = c + s, ts;
    os_uint16_t owner = owner_of(f, c);

    if (!free_block_ok(f, t, &ts) || !fl_ok(f, t))
    {
        neighbour_bad(r, p);
        return;
    }
    fl_cut(f, t);
    OH_SCRUB_HEAD(f->base + t * CH, ts * CH);
    set_free(f, c, s + ts);
    fl_insert(f, c, s + ts);
    oh_gave(r, s * CH, owner);
}

/*
 * Free block c of s chunks between two used blocks (or a used one and the
 * sentinel: c becomes top); the right one's F_PFREE is set, after its
 * check (hardening header) when that is verified.
 */
static OH_NOINLINE void free_alone(struct heap_mem *r, void *p, os_size_t c, os_size_t s)
{
    struct ff *f = FF(r);
    os_size_t t = c + s;
    os_uint16_t owner = owner_of(f, c);

    if (OH_UNLIKELY(!NEXT_OK(f, t, hd(f, t))))
    {
        neighbour_bad(r, p);
        return;
    }
    flip_pfree(f, t);
    if (t == f->end)
    {
        set_size(f, c, s, 0);
        f->top = c;
        TOP_FOOT(f, c);
    }
    else
    {
        set_free(f, c, s);
        fl_insert(f, c, s);
    }
    oh_gave(r, s * CH, owner);
}

/*
 * Free used block c of s chunks (size checked) whose flags are not 0 (or
 * whose check failed): d is w[1] xor the check with no flags, flags * FMUL
 * if the check matches. The block on its left is free (merged through the
 * footer, which must agree with that block's header), or it is an aligned
 * block (its trailer checked; the general path).
 */
static OH_NOINLINE void free_flagged(struct heap_mem *r, void *p, os_size_t c, os_size_t s, unsigned d)
{
    struct ff *f = FF(r);
    os_size_t ls;

    if (!flags_only(d) || ((d & F_ALIGNED) != 0 && !align_sound(f, c, s)))
    {
        bad_pointer(r, p, BLK_CORRUPT);
        return;
    }
    if ((d & F_PFREE) == 0)
    {
        free_merge(r, p, c, s);
        return;
    }
    ls = left_size(f, c);
    if (ls == 0)
    {
        bad_pointer(r, p, BLK_CORRUPT);
        return;
    }
    if (bused(f, c + s))
    {
        merge_left(r, p, c, s, ls);
    }
    else
    {
        merge_both(r, p, c, s, ls);
    }
}

/*
 * The pointer checks of locate() written out, then the common cases
 * inline: the left neighbour in use (or none) and the right one top or in
 * use. The other cases are tail calls.
 */
FF_OP void ff_free(struct heap_mem *r, void *p)
{
    struct ff *f = FF(r);
    os_size_t off = (os_size_t)((os_ubase_t)p - (os_ubase_t)f->base) - HDR;   /* p may lie anywhere */
    os_size_t c = off >> CH_SHIFT, end = f->end;
    ffw_t *h, *rh;
    os_size_t w, s, t;
    unsigned d;

    if (OH_UNLIKELY((off & (CH - 1)) != 0 || c - 1 >= end - MINB))
    {
        bad_pointer(r, p, BLK_NOT_BLOCK);
        return;
    }
    h = (ffw_t *)p - 2;
    w = h[0];
    s = w >> 1;
    if (OH_UNLIKELY((w & 1u) == 0))
    {
        bad_pointer(r, p, BLK_FREE);
        return;
    }
    if (OH_UNLIKELY(s - MINB > end - c - MINB))     /* s in [MINB, end - c] */
    {
        bad_pointer(r, p, BLK_CORRUPT);
        return;
    }
    d = (unsigned)(h[1] ^ check_of(f, c, h, 0));
    if (d != 0)
    {
        free_flagged(r, p, c, s, d);   /* flags, or a broken check */
        return;
    }
    rh = h + s * (CH / W);
    t = c + s;
    if (t == f->top)
    {
        ffw_t tw = rh[0];

        if (OH_UNLIKELY(tw != (ffw_t)((end - t) << 1) || !TOP_FOOT_OK(f, t)))    /* top_ok(), from what is at hand */
        {
            free_merge(r, p, c, s);     /* reports the broken top */
            return;
        }
        OH_SCRUB_HEAD(f->base + t * CH, (end - t) * CH);
        h[0] = (ffw_t)(tw + (s << 1));  /* (end - c) << 1 */
        f->top = c;
        TOP_FOOT(f, c);
        oh_gave(r, s * CH, owner_of(f, c));
        return;
    }
    if ((rh[0] & 1u) == 0)
    {
        merge_right(r, p, c, s);
        return;
    }
    free_alone(r, p, c, s);
}
#endif

FF_OP os_err_t ff_resize(struct heap_mem *r, void *p, os_size_t size)
{
    struct ff *f = FF(r);
    os_size_t c, s, n, nx, ns;
    unsigned fl, al;
    os_uint8_t lg = 0;

    if (!locate_or_report(r, p, &c, &s))
    {
        return OS_EINVAL;
    }
    fl = bflags(f, c);
    al = (fl & F_ALIGNED) != 0 ? ATRL : 0u;
    if (size + al > f->maxreq)
    {
        return OS_ENOMEM;
    }
    n = chunks_for(size + al);
    if (al != 0)
    {
        lg = *align_byte(f, c, s);
    }
    if (n <= s)
    {
        if (s - n < MINB)
        {
            return OS_EOK;
        }
        /* Cut the tail off and free it (merging right). */
        if (!release(f, c + n, s - n, 0))
        {
            neighbour_bad(r, p);
            return OS_ERROR;
        }
        OH_SCRUB_FROM(f->base + (c + n) * CH, f->base + (c + s) * CH);
    }
    else
    {
        nx = c + s;
        if (!free_block_ok(f, nx, &ns) || s + ns < n)     /* (free_block_ok() tests the used bit too) */
        {
            return OS_ENOMEM;
        }
        if (!detach(f, nx))
        {
            oh_fault(r, payload(f, nx), OS_ERROR, "free-list links overwritten");
            return OS_ERROR;
        }
        /* only the part taken (the rest may be all of top): O(growth) */
        OH_FILL_TAKEN(r, f->base + nx * CH, f->base + (c + n) * CH);
        OH_WIPE_HEAD(f->base + nx * CH, ns * CH);
        n = split_tail(f, c, s + ns, n);
    }
    /* Both ways, the block is now n chunks: its header, check and alignment byte. */
    set_used(f, c, n, owner_of(f, c), fl);
    if (al != 0)
    {
        set_align(f, c, n, lg);
    }
    oh_resized(r, s * CH, n * CH, owner_of(f, c));
    return OS_EOK;
}

static void describe(const struct ff *f, os_size_t c, struct os_mem_blk *b)
{
    os_size_t s = bsize(f, c);

    b->mem = payload(f, c);
    b->start = f->base + c * CH;
    b->end = f->base + (c + s) * CH;
    b->size = s * CH;
    b->usable = s * CH - HDR;
    b->used = (os_uint8_t)bused(f, c);
    b->align = 0;
    if (b->used && is_aligned_blk(f, c))
    {
        /* A smashed alignment byte falls back to the pointer's own alignment. */
        unsigned lg = *align_byte(f, c, s);
        os_size_t at = (os_size_t)(os_ubase_t)b->mem;

        b->usable -= ATRL;
        b->align = (lg > CH_SHIFT && lg < 8 * sizeof(os_size_t) && (at & (((os_size_t)1 << lg) - 1)) == 0)
                   ? (os_size_t)1 << lg : (at & (0u - at));
    }
    b->owner = b->used ? owner_of(f, c) : 0;
}

FF_OP os_err_t ff_query(const struct heap_mem *r, const void *p, struct os_mem_blk *b)
{
    const struct ff *f = FF(r);
    os_size_t c, s;

    if (locate(f, p, &c, &s) != BLK_OK)
    {
        return OS_EINVAL;
    }
    describe(f, c, b);
    return OS_EOK;
}

static int ff_ctrl_ok(const struct heap_mem *r);

/*
 * Where a walk resumed at payload `from` starts: its block if that is a
 * used block (checked as free checks it) or a free block (header, footer,
 * list links), else block 1. O(1).
 */
static os_size_t walk_start(const struct ff *f, const void *from)
{
    os_size_t c = 1, s;
    int why = from != OS_NULL ? locate(f, from, &c, &s) : BLK_NOT_BLOCK;

    if (why == BLK_OK)
    {
        return c;
    }
    if (why != BLK_FREE)
    {
        return 1;
    }
    c = ((os_size_t)((os_ubase_t)from - (os_ubase_t)f->base) - HDR) >> CH_SHIFT;
    return free_block_ok(f, c, &s) && (c == f->top || fl_ok(f, c)) ? c : 1;
}

FF_OP os_err_t ff_walk(const struct heap_mem *r, const void *from, os_mem_walk_fn fn, void *arg)
{
    const struct ff *f = FF(r);
    os_size_t c;
    struct os_mem_blk b;

    if (oh_ctrl_bad(r, ff_ctrl_ok(r)))
    {
        return OS_ERROR;
    }
    c = walk_start(f, from);
    while (c < f->end)
    {
        os_size_t s = bsize(f, c);

        if (s < MINB || s > f->end - c)
        {
            oh_fault(r, payload(f, c), OS_ERROR, "block size out of range");
            return OS_ERROR;
        }
        /* a used block's state and owner are told only from a sound header */
        if (bused(f, c) && !sealed(f, c, hd(f, c)))
        {
            oh_fault(r, payload(f, c), OS_ERROR, "header check does not match");
            return OS_ERROR;
        }
        describe(f, c, &b);
        if (fn(r, &b, arg) != 0)
        {
            break;
        }
        c += s;
    }
    return OS_EOK;
}

FF_OP os_err_t ff_check(const struct heap_mem *r, os_size_t *used)
{
    const struct ff *f = FF(r);
    const ffw_t *heads = f->heads;
    os_size_t c = 1, last = 0, nfree = 0, listed = 0, k;
    os_size_t busy = 0;
    unsigned prev_free = 0;
    int bad = 0;

    if (oh_ctrl_bad(r, ff_ctrl_ok(r)))
    {
        return OS_ERROR;
    }

    /* Every block, in address order. */
    while (c < f->end)
    {
        os_size_t s = bsize(f, c);
        unsigned u = bused(f, c);

        if (s < MINB || s > f->end - c)
        {
            oh_fault(r, payload(f, c), OS_ERROR, "check: block size out of range");
            return OS_ERROR;
        }
        if (!u)
        {
            if (prev_free)
            {
                oh_fault(r, payload(f, c), OS_ERROR, "check: two adjacent free blocks");
                bad = 1;
            }
            if (c != f->top)
            {
                nfree++;
                if (*foot(f, c + s) != s)
                {
                    oh_fault(r, payload(f, c), OS_ERROR, "check: free block's footer does not match its size");
                    bad = 1;
                }
            }
        }
        else
        {
            if (!sealed(f, c, hd(f, c)))
            {
                oh_fault(r, payload(f, c), OS_ERROR, "check: header check does not match");
                bad = 1;
            }
            else if (((bflags(f, c) & F_PFREE) != 0) != prev_free)
            {
                oh_fault(r, payload(f, c), OS_ERROR, "check: left-free flag does not match the block on the left");
                bad = 1;
            }
            else if (is_aligned_blk(f, c) && !align_sound(f, c, s))
            {
                oh_fault(r, payload(f, c), OS_ERROR, "check: trailer of an aligned block (check, alignment) overwritten");
                bad = 1;
            }
            busy += s * CH;
        }
        prev_free = !u;
        last = c;
        c += s;
    }
    if (hd(f, f->end)[0] != 1u || !sealed(f, f->end, hd(f, f->end)) ||
        ((bflags(f, f->end) & F_PFREE) != 0) != prev_free)
    {
        oh_fault(r, f->base + f->end * CH, OS_ERROR, "check: end sentinel overwritten");
        bad = 1;
    }
    if (f->top != f->end ? (f->top != last || bused(f, last)) : (last != 0 && !bused(f, last)))
    {
        oh_fault(r, payload(f, last), OS_ERROR, "check: top block does not match the last block");
        bad = 1;
    }

    /* Every list: its bitmap bit, every node's header, class and links. */
    for (k = 0; k < f->nclasses; k++)
    {
        unsigned bit = (unsigned)(f->map[k >> 5] >> (k & 31u)) & 1u;
        os_size_t x = heads[k], p = HEAD | k, steps = 0;

        if ((x != 0) != (bit != 0))
        {
            oh_fault(r, OS_NULL, OS_ERROR, "check: bitmap bit disagrees with its free list");
            bad = 1;
        }
        while (x != 0)
        {
            os_size_t s;

            if (x >= f->end || ++steps > nfree || !free_block_ok(f, x, &s) ||
                ff_class(f, s) != k || *prv(f, x) != p || x == f->top)
            {
                oh_fault(r, x < f->end ? payload(f, x) : OS_NULL, OS_ERROR,
                         "check: free list holds a bad node (links overwritten)");
                bad = 1;
                break;
            }
            listed++;
            p = x;
            x = *nxt(f, x);
        }
    }
    /* no bit for a class past the last one (the search would take it) */
    if ((f->nclasses & 31u) != 0 && (f->map[f->nclasses >> 5] >> (f->nclasses & 31u)) != 0)
    {
        oh_fault(r, OS_NULL, OS_ERROR, "check: bitmap bit set for a class that does not exist");
        bad = 1;
    }
    for (k = 0; k < 32; k++)
    {
        unsigned sbit = (unsigned)(f->summary >> k) & 1u;
        unsigned nonempty = k < f->nwords && f->map[k] != 0;

        if (sbit != nonempty)
        {
            oh_fault(r, OS_NULL, OS_ERROR, "check: bitmap summary disagrees with the bitmap");
            bad = 1;
        }
    }
    if (!bad && listed != nfree)
    {
        oh_fault(r, OS_NULL, OS_ERROR, "check: free blocks missing from the free lists");
        bad = 1;
    }
    *used = busy;
    return bad ? OS_ERROR : OS_EOK;
}

#ifdef OS_MEM_STATS
/*
 * Free blocks: the listed ones plus top. The largest is top or a block of
 * the highest non-empty class: O(1) plus that one list.
 */
FF_OP void ff_free_info(const struct heap_mem *r, os_size_t *blocks, os_size_t *largest)
{
    const struct ff *f = FF(r);
    os_size_t best = FF_SANE(f->top - 1 < f->end) ? f->end - f->top : 0;     /* top's size (0 without top) */
    os_size_t w = oh_msb32(f->summary | 1u);

    *blocks = f->listed + (f->top != f->end);
    if (f->summary != 0 && FF_SANE(w < f->nwords && f->map[w] != 0 &&
                                   (w << 5) + oh_msb32(f->map[w]) < f->nclasses))
    {
        os_size_t c = f->heads[(w << 5) + oh_msb32(f->map[w])];
        os_size_t steps = f->listed;

        for (; c != 0 && c < f->end && steps-- != 0; c = *nxt(f, c))
        {
            if (bsize(f, c) > best)
            {
                best = bsize(f, c);
            }
        }
    }
    *largest = best * CH;
}
#elif !defined(OH_ALG_DIRECT)
#define ff_free_info OS_NULL     /* only the statistics ask */
#endif

/* Largest subdivision setting whose list heads cost at most 1/32 of the region. */
static unsigned pick_sl(os_size_t nchunks)
{
    unsigned sl = OS_MEM_FF_SL_BITS;

    while (sl > 0 && (ff_class_sl(nchunks, sl) + 1) * W * 32 > nchunks * CH)
    {
        sl--;
    }
    return sl;
}

/*
 * What init derives from the region's bounds alone (check compares the
 * control data with it): base, end, sl, nclasses, nwords and maxreq of l,
 * which are written only when the region can hold the control data and
 * one minimal block; otherwise 0.
 */
static int ff_layout(const struct heap_mem *r, struct ff *l)
{
    os_uint8_t *data = (os_uint8_t *)FF(r);
    os_size_t room = (os_size_t)(r->end - data);
    os_size_t est, end, ncls, nwords;
    os_uint8_t *first;
    unsigned sl;

    if (r->end <= data || room < sizeof(struct ff) + 4 * W + 4 * CH)
    {
        return 0;
    }
    est = room / CH;
    if (est > MAX_CHUNKS)
    {
        est = MAX_CHUNKS;
    }
    sl = pick_sl(est);
    ncls = ff_class_sl(est, sl) + 1;
    nwords = (ncls + 31) / 32;
    /* The first block's payload is the first CH-aligned address after the control data. */
    first = data + sizeof(struct ff) + nwords * sizeof(os_uint32_t) + ncls * W + HDR;
    first += (CH - ((os_size_t)(os_ubase_t)first & (CH - 1))) & (CH - 1);
    if (first >= r->end || (os_size_t)(r->end - first) < 2 * W + MINB * CH)
    {
        return 0;
    }
    end = ((os_size_t)(r->end - (first - HDR - CH)) - HDR) / CH;   /* room for the sentinel's header */
    if (end > MAX_CHUNKS)
    {
        end = MAX_CHUNKS;
    }
    if (end < 1 + MINB || (end - 1) * CH - HDR < OH_MIN_REQUEST)
    {
        return 0;
    }
    l->base = first - HDR - CH;
    l->end = end;
    l->maxreq = (end - 1) * CH - HDR;
    l->sl = (os_uint8_t)sl;
    l->nclasses = (os_uint16_t)ncls;
    l->nwords = (os_uint8_t)nwords;
#if OS_MEM_FF_SMALL_HEADER
    l->zero = 0;
#endif
    return 1;
}

/*
 * The region's check secret (never 0). The bits in KEY_ADDR come from the
 * region's address, so that check can verify them; the others from how
 * many regions were set up before this one, so that memory added again at
 * the same address (after a deinit, or a nested region whose host block
 * was freed and handed out again) gets another key, and a header that the
 * earlier region left there does not pass for a block.
 */
#define KEY_ADDR    ((ffw_t)(W == 2 ? 0x00FFu : 0xFFFFu))

static os_uint32_t ff_inits;    /* regions set up so far: changed by init, under the global lock */

static ffw_t ff_key(const struct ff *f)
{
    os_uint32_t k = (os_uint32_t)((os_ubase_t)f >> 3) ^ (os_uint32_t)((os_ubase_t)f >> 17);

    k *= 0x2C1B3C6Du;
    k ^= k >> 15;
    return (ffw_t)((k | 0x101u) & KEY_ADDR);
}

/*
 * Does the control data still say what init wrote (or keeps within range:
 * top)? Checked before check follows any of it, so that a region whose
 * control data was overwritten is reported instead of walked.
 */
static int ff_ctrl_ok(const struct heap_mem *r)
{
    const struct ff *f = FF(r);
    struct ff l;

    return ff_layout(r, &l) && f->base == l.base && f->end == l.end && f->sl == l.sl &&
           f->nclasses == l.nclasses && f->nwords == l.nwords && f->heads == (const ffw_t *)&f->map[l.nwords] &&
           f->maxreq == l.maxreq && (f->key & KEY_ADDR) == ff_key(f) && f->top >= 1 && f->top <= l.end;
}

FF_OP os_size_t ff_init(struct heap_mem *r)
{
    struct ff *f = FF(r);

    /* Nothing is written before the layout is known to fit: a refused region is left untouched. */
    if (!ff_layout(r, f))
    {
        return 0;
    }
    f->top = 1;
    f->summary = 0;
    OH_STAT(f->listed = 0);
    ff_inits++;
    f->key = (ffw_t)(ff_key(f) | ((ffw_t)((ff_inits * 0x9E3779B1u) >> (32u - 8u * W)) & (ffw_t)~KEY_ADDR));
    f->heads = (ffw_t *)(void *)&f->map[f->nwords];
    memset(f->map, 0, f->nwords * sizeof(os_uint32_t) + f->nclasses * W);
    set_size(f, 1, f->end - 1, 0);     /* top */
    TOP_FOOT(f, 1);
    OH_SCRUB_FROM(f->base + CH, f->base + f->end * CH);
    set_used(f, f->end, 0, 0, F_PFREE);
    return (f->end - 1) * CH;
}

#ifdef OH_ALG_DIRECT
/* Called by name (alg.h): the table only names the algorithm and its limit. */
const struct os_mem_ops oh_firstfit_ops = {
    .name = "firstfit",
    .max_region = MAX_CHUNKS * CH,
#if OS_MEM_HARDENING >= 2
    .fixed = FF_FIXED,
#endif
};
#else
const struct os_mem_ops oh_firstfit_ops = {
    "firstfit",
    MAX_CHUNKS * CH,
#if OS_MEM_HARDENING >= 2
    FF_FIXED,
#endif
    ff_init,
    ff_alloc,
    ff_aligned_alloc,
    ff_free,
    ff_resize,
    ff_free_info,
    ff_query,
    ff_walk,
    ff_check,
};
#endif
