/*
 * bestfit.c - a reference allocator for the utilisation figures only: exact
 * best fit over the same 1 MiB arena, with the same geometry as first-fit
 * (8-byte chunks, an 8-byte header holding the block's size and its left
 * neighbour's size, immediate merging with both neighbours). Every
 * allocation scans every free block, O(n): it shows how much of the fill
 * figures is lost to the O(1) search, not how an allocator should work.
 *
 * Free blocks are kept in one doubly linked list, linked through their
 * payload; the region ends with a used sentinel of size 0.
 */
#include "bench.h"

#include <string.h>

struct bf_hdr
{
    uint32_t size;      /* chunks, header included; bit 31: used */
    uint32_t prev;      /* chunks of the block on the left (0: none) */
};

struct bf_links
{
    struct bf_hdr *next, *prev;
};

#define BF_CH       8u
#define BF_USED     0x80000000u
#define BF_MIN      3u      /* header + two links */

static unsigned char *bf_base;
static size_t bf_chunks;
static struct bf_hdr *bf_free_list;
static size_t bf_used_bytes;

static struct bf_hdr *at(size_t c)
{
    return (struct bf_hdr *)(void *)(bf_base + c * BF_CH);
}

static size_t idx(const struct bf_hdr *h)
{
    return (size_t)((const unsigned char *)h - bf_base) / BF_CH;
}

static struct bf_links *links(struct bf_hdr *h)
{
    return (struct bf_links *)(void *)(h + 1);
}

static void unlink_free(struct bf_hdr *h)
{
    struct bf_links *l = links(h);

    if (l->prev != NULL)
        links(l->prev)->next = l->next;
    else
        bf_free_list = l->next;
    if (l->next != NULL)
        links(l->next)->prev = l->prev;
}

static void push_free(struct bf_hdr *h)
{
    links(h)->prev = NULL;
    links(h)->next = bf_free_list;
    if (bf_free_list != NULL)
        links(bf_free_list)->prev = h;
    bf_free_list = h;
}

void bf_init(void *arena, size_t size)
{
    struct bf_hdr *first;

    bf_base = arena;
    bf_chunks = size / BF_CH - 1;       /* the last chunk holds the sentinel */
    first = at(0);
    first->size = (uint32_t)bf_chunks;
    first->prev = 0;
    at(bf_chunks)->size = BF_USED;
    at(bf_chunks)->prev = (uint32_t)bf_chunks;
    bf_free_list = NULL;
    push_free(first);
    bf_used_bytes = 0;
}

void *bf_alloc(size_t size)
{
    size_t n = (size + sizeof(struct bf_hdr) + BF_CH - 1) / BF_CH;
    struct bf_hdr *best = NULL, *h;

    if (n < BF_MIN)
        n = BF_MIN;
    for (h = bf_free_list; h != NULL; h = links(h)->next)
    {
        if (h->size >= n && (best == NULL || h->size < best->size ||
                             (h->size == best->size && h < best)))
            best = h;
    }
    if (best == NULL)
        return NULL;
    unlink_free(best);
    if (best->size - n >= BF_MIN)
    {
        struct bf_hdr *rest = at(idx(best) + n);

        rest->size = (uint32_t)(best->size - n);
        rest->prev = (uint32_t)n;
        at(idx(rest) + rest->size)->prev = rest->size;
        push_free(rest);
        best->size = (uint32_t)n;
    }
    bf_used_bytes += (size_t)best->size * BF_CH;
    best->size |= BF_USED;
    return best + 1;
}

void bf_free(void *p)
{
    struct bf_hdr *h = (struct bf_hdr *)p - 1;
    struct bf_hdr *r, *l;
    size_t c = idx(h);

    h->size &= ~BF_USED;
    bf_used_bytes -= (size_t)h->size * BF_CH;
    r = at(c + h->size);
    if ((r->size & BF_USED) == 0)
    {
        unlink_free(r);
        h->size += r->size;
    }
    if (h->prev != 0)
    {
        l = at(c - h->prev);
        if ((l->size & BF_USED) == 0)
        {
            unlink_free(l);
            l->size += h->size;
            h = l;
        }
    }
    at(idx(h) + h->size)->prev = h->size;
    push_free(h);
}

size_t bf_used(void)
{
    return bf_used_bytes;
}

size_t bf_total(void)
{
    return bf_chunks * BF_CH;
}
