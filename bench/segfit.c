/*
 * segfit.c - a reference for the speed figures: the leanest segregated fit
 * we could write with first-fit's structure, and nothing else. It shows
 * what that structure costs before any of oneheap's checks, statistics
 * beyond used/peak, top block or API layer are added.
 *
 * Same geometry as first-fit: 8-byte chunks, an 8-byte header of two
 * 32-bit words (the second one unused here; first-fit keeps its check
 * there), free blocks linked through their header and first payload word,
 * a footer holding a free block's size, immediate merging with both
 * neighbours, size classes found through a two-level bitmap. Unlike
 * first-fit, nothing is verified: a bad pointer or an overwritten header is
 * followed wherever it leads. Do not use it for anything else.
 *
 * Two class layouts (segfit_init()):
 *  - fine: 32 classes per power of two (first-fit's default), the class of
 *    a size below 1024 chunks read from a table. A request searches from
 *    the first class whose every block fits it ("good fit"), so the head of
 *    any non-empty class found serves it without a look at its size.
 *  - pow2: one class per power of two and every request rounded up to a
 *    power of two chunks, as o1heap does: cheaper classes and more exact
 *    reuse, paid for in utilisation.
 *
 * Header word 0: size in chunks << 2 | 2 (the block on the left is free)
 * | 1 (used). Chunk 0 is never a block (index 0 means "none" in links);
 * the region ends with a used sentinel of size 0.
 */
#include "bench.h"

#include <string.h>

#define SF_CH       8u
#define SF_USED     1u
#define SF_LFREE    2u
#define SF_MINB     2u                  /* header + two links, then the footer */
#define SF_HEAD     0x80000000u         /* prev link of a list's first block: SF_HEAD | class */
#define SF_TABLE    1024u
#define SF_CLASSES  1024u

static unsigned char *sf_base;
static uint32_t sf_end;                 /* index of the sentinel */
static unsigned sf_sl;                  /* log2 of classes per power of two */
static int sf_pow2;
static uint32_t sf_map[SF_CLASSES / 32], sf_summary;
static uint32_t sf_heads[SF_CLASSES];
static uint16_t sf_class_tab[SF_TABLE], sf_class_up_tab[SF_TABLE];
static size_t sf_used_chunks, sf_peak;

#define HD(c)   ((uint32_t *)(void *)(sf_base + (size_t)(c) * SF_CH))
#define NEXT(c) (HD(c)[1])
#define PREV(c) (HD(c)[2])
#define FOOT(e) (HD(e)[-1])             /* last word of the block ending at chunk e */

static unsigned msb(uint32_t x)
{
    return 31u - (unsigned)__builtin_clz(x);
}

/* The class of a block of n chunks (computed). */
static unsigned class_calc(uint32_t n)
{
    unsigned sh = msb(n | (1u << sf_sl)) - sf_sl;

    return (sh << sf_sl) + (n >> sh);
}

/* The first class whose every block has at least n chunks (computed). */
static unsigned class_up_calc(uint32_t n)
{
    unsigned sh = msb(n | (1u << sf_sl)) - sf_sl;

    return class_calc(n + (1u << sh) - 1u);
}

static inline unsigned class_of(uint32_t n)
{
    return n < SF_TABLE ? sf_class_tab[n] : class_calc(n);
}

static inline unsigned class_up(uint32_t n)
{
    return n < SF_TABLE ? sf_class_up_tab[n] : class_up_calc(n);
}

static inline void map_clear(unsigned k)
{
    uint32_t m = sf_map[k >> 5] &= ~(1u << (k & 31u));

    if (m == 0)
        sf_summary &= ~(1u << (k >> 5));
}

static inline void push(uint32_t c, unsigned k)
{
    uint32_t n = sf_heads[k];

    NEXT(c) = n;
    PREV(c) = SF_HEAD | k;
    sf_heads[k] = c;
    if (n != 0)
        PREV(n) = c;
    else
    {
        sf_map[k >> 5] |= 1u << (k & 31u);
        sf_summary |= 1u << (k >> 5);
    }
}

static inline void cut(uint32_t c)
{
    uint32_t n = NEXT(c), p = PREV(c);

    if ((p & SF_HEAD) != 0)
    {
        sf_heads[p & ~SF_HEAD] = n;
        if (n == 0)
            map_clear(p & ~SF_HEAD);
    }
    else
        NEXT(p) = n;
    if (n != 0)
        PREV(n) = p;
}

void segfit_init(void *arena, size_t size, int pow2)
{
    uint32_t n;

    sf_pow2 = pow2;
    sf_sl = pow2 ? 0u : 5u;
    for (n = 0; n < SF_TABLE; n++)
    {
        sf_class_tab[n] = (uint16_t)class_calc(n ? n : 1u);
        sf_class_up_tab[n] = (uint16_t)class_up_calc(n ? n : 1u);
    }
    memset(sf_map, 0, sizeof sf_map);
    memset(sf_heads, 0, sizeof sf_heads);
    sf_summary = 0;
    sf_used_chunks = sf_peak = 0;
    sf_base = arena;
    sf_end = (uint32_t)(size / SF_CH) - 1u;
    HD(sf_end)[0] = SF_USED;                        /* the sentinel: size 0, used */
    n = sf_end - 1u;                                /* chunks 1..end-1: one free block */
    HD(1)[0] = n << 2;
    FOOT(sf_end) = n;
    push(1, class_of(n));
}

void *segfit_alloc(size_t size)
{
    uint32_t n, c, next, s, rest;
    unsigned k, w;
    uint32_t bits;

    if (size - 1u >= ((size_t)1 << 28))
        return NULL;
    n = (uint32_t)((size + 8u + SF_CH - 1u) / SF_CH);
    if (sf_pow2 && n > SF_MINB)
        n = 1u << (msb(n - 1u) + 1u);
    k = class_up(n);
    w = k >> 5;
    bits = sf_map[w] & (~0u << (k & 31u));
    if (bits == 0)
    {
        uint32_t sm = sf_summary & (~1u << w);

        if (sm == 0)
            return NULL;
        w = (unsigned)__builtin_ctz(sm);
        bits = sf_map[w];
    }
    k = (w << 5) + (unsigned)__builtin_ctz(bits);
    c = sf_heads[k];
    next = NEXT(c);
    sf_heads[k] = next;
    if (next != 0)
        PREV(next) = SF_HEAD | k;
    else
        map_clear(k);
    s = HD(c)[0] >> 2;
    rest = s - n;
    if (rest >= SF_MINB)
    {
        HD(c + n)[0] = rest << 2;
        FOOT(c + s) = rest;
        push(c + n, class_of(rest));
    }
    else
    {
        n = s;
        HD(c + s)[0] &= ~SF_LFREE;
    }
    HD(c)[0] = n << 2 | SF_USED;                  /* the block on its left is used */
    sf_used_chunks += n;
    if (sf_used_chunks > sf_peak)
        sf_peak = sf_used_chunks;
    return sf_base + (size_t)c * SF_CH + 8u;
}

void segfit_free(void *p)
{
    uint32_t c, h, s, rh;

    if (p == NULL)
        return;
    c = (uint32_t)((size_t)((unsigned char *)p - sf_base) / SF_CH) - 1u;
    h = HD(c)[0];
    s = h >> 2;
    sf_used_chunks -= s;
    rh = HD(c + s)[0];
    if ((rh & SF_USED) == 0)
    {
        cut(c + s);
        s += rh >> 2;
    }
    if ((h & SF_LFREE) != 0)
    {
        uint32_t ls = FOOT(c);

        cut(c - ls);
        c -= ls;
        s += ls;
    }
    HD(c)[0] = s << 2;
    FOOT(c + s) = s;
    HD(c + s)[0] |= SF_LFREE;
    push(c, class_of(s));
}

size_t segfit_used(void)
{
    return sf_used_chunks * SF_CH;
}

size_t segfit_total(void)
{
    return (size_t)(sf_end - 1u) * SF_CH;
}
