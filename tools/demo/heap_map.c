/*
 * heap_map.c - draws heaps as an SVG picture.
 *
 * Every region is a grid of rows; a row stands for an equal slice of the
 * region's address range, so the picture reads left to right, top to
 * bottom, like a memory dump. Used blocks take the colour of the task that
 * allocated them, free blocks a green that darkens with their size class,
 * control data is dark grey, and each block's header and rounding (bytes it
 * occupies beyond its usable size) is a darker strip at its start. A legend
 * and each heap's statistics line come first. The number of rows grows with
 * the number of blocks, so 10 blocks and 10 000 blocks are both readable.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap_map.h"

#define LEFT        10
#define WIDTH       1000
#define ROW_H       14
#define ROW_GAP     2
#define MAX_ROWS    64
#define MAX_OWNERS  8

const char *const heap_map_owner_colors[MAX_OWNERS] = {
    "#1f77b4", "#d62728", "#9467bd", "#ff7f0e", "#e377c2", "#8c564b", "#17becf", "#bcbd22" };
static const char *const free_colors[] = { "#d9f2d0", "#b5e3a5", "#8fd17a", "#66bd52", "#3fa02f", "#23801a" };
const char heap_map_control_color[] = "#404040";
const char heap_map_waste_color[] = "#101010";

struct blk
{
    uintptr_t   start, end;     /* bytes the block occupies */
    size_t      usable;
    int         used;
    const char *owner;
    uintptr_t   rstart, rend;
    const char *alg;
};

struct collect
{
    struct blk *v;
    size_t      n, cap;
    int         oom;
};

static int collect(const struct os_memheap_block *b, void *arg)
{
    struct collect *c = arg;

    if (c->n == c->cap)
    {
        size_t cap = c->cap ? 2 * c->cap : 256;
        struct blk *v = realloc(c->v, cap * sizeof(*v));

        if (v == NULL)
        {
            c->oom = 1;
            return 1;
        }
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n].end = (uintptr_t)b->addr + b->size;
    c->v[c->n].start = c->v[c->n].end - b->total;
    c->v[c->n].usable = b->size;
    c->v[c->n].used = b->used;
    c->v[c->n].owner = b->owner;
    c->v[c->n].rstart = (uintptr_t)b->region_start;
    c->v[c->n].rend = (uintptr_t)b->region_end;
    c->v[c->n].alg = b->alg;
    c->n++;
    return 0;
}

/* Owners seen so far get colours in order of first appearance. */
struct owners
{
    char names[MAX_OWNERS][32];
    int  n;
};

static const char *owner_color(struct owners *o, const char *name)
{
    int i;

    if (name == NULL)
    {
        name = "-";
    }
    for (i = 0; i < o->n; i++)
    {
        if (strcmp(o->names[i], name) == 0)
        {
            return heap_map_owner_colors[i];
        }
    }
    if (o->n < MAX_OWNERS)
    {
        snprintf(o->names[o->n], sizeof(o->names[0]), "%s", name);
        return heap_map_owner_colors[o->n++];
    }
    return heap_map_owner_colors[MAX_OWNERS - 1];   /* the last colour is shared by the rest */
}

static const char *free_color(size_t bytes)
{
    unsigned k = 0;

    while (k + 1 < sizeof(free_colors) / sizeof(free_colors[0]) && (bytes >> (4 + 2 * k)) > 1)
    {
        k++;
    }
    return free_colors[k];
}

/* Draw [a, b) of a region drawn from y0 with `per` bytes per row. */
static void span(FILE *f, uintptr_t base, double per, int y0, uintptr_t a, uintptr_t b, const char *color)
{
    while (a < b)
    {
        size_t row = (size_t)((double)(a - base) / per);
        uintptr_t row_end = base + (uintptr_t)((double)(row + 1) * per);
        uintptr_t e = b < row_end ? b : row_end;
        double x0 = LEFT + WIDTH * ((double)(a - base) / per - (double)row);
        double w = WIDTH * ((double)(e - a) / per);

        if (e <= a)
        {
            e = a + 1;      /* rounding at a row edge */
        }
        fprintf(f, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\"/>\n",
                x0, y0 + (int)row * (ROW_H + ROW_GAP), w < 0.3 ? 0.3 : w, ROW_H, color);
        a = e;
    }
}

static int draw_heap(FILE *f, os_memheap_t *heap, int y, struct owners *own)
{
    struct collect c = { NULL, 0, 0, 0 };
    os_meminfo_t info;
    size_t i = 0, nused = 0, nfree = 0, largest = 0;

    if (os_memheap_walk(heap, collect, &c) != OS_EOK || c.oom)
    {
        free(c.v);
        fprintf(f, "<text x=\"%d\" y=\"%d\">heap '%s': walk failed (corrupt heap?)</text>\n", LEFT, y + 14, heap->name);
        return y + 24;
    }
    os_memheap_info(heap, &info);
    for (i = 0; i < c.n; i++)
    {
        if (c.v[i].used)
        {
            nused++;
        }
        else
        {
            nfree++;
            largest = c.v[i].usable > largest ? c.v[i].usable : largest;
        }
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">heap '%s': total %zu, used %zu (%.1f %%), "
               "max used %zu; %zu used blocks, %zu free, largest free %zu</text>\n",
            LEFT, y + 14, heap->name, (size_t)info.mem_total, (size_t)info.mem_used,
            info.mem_total ? 100.0 * (double)info.mem_used / (double)info.mem_total : 0.0,
            (size_t)info.mem_maxused, nused, nfree, largest);
    y += 22;
    for (i = 0; i < c.n;)
    {
        uintptr_t rs = c.v[i].rstart, re = c.v[i].rend, first = c.v[i].start, prev_end;
        size_t j = i, rows;
        double per;

        while (j < c.n && c.v[j].rstart == rs)
        {
            j++;
        }
        rows = (j - i) / 40 + 1;
        rows = rows > MAX_ROWS ? MAX_ROWS : rows;
        per = (double)(re - rs) / (double)rows;
        fprintf(f, "<text x=\"%d\" y=\"%d\">region %#lx..%#lx, %s, %zu bytes, %zu blocks</text>\n",
                LEFT, y + 12, (unsigned long)rs, (unsigned long)re, c.v[i].alg, (size_t)(re - rs), j - i);
        y += 16;
        prev_end = rs;
        for (; i < j; i++)
        {
            const struct blk *b = &c.v[i];

            if (b->start > prev_end)
            {
                span(f, rs, per, y, prev_end, b->start, heap_map_control_color);
            }
            span(f, rs, per, y, b->start, b->end, b->used ? owner_color(own, b->owner) : free_color(b->usable));
            if (b->used && b->end - b->start > b->usable)
            {
                span(f, rs, per, y, b->start, b->end - b->usable, heap_map_waste_color);
            }
            prev_end = b->end;
        }
        if (re > prev_end)
        {
            span(f, rs, per, y, prev_end, re, heap_map_control_color);
        }
        if (first > rs && WIDTH * ((double)(first - rs) / per) < 4.0)
        {
            /* control data narrower than 4 pixels is still shown, over the first block's start */
            fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"4\" height=\"%d\" fill=\"%s\"/>\n", LEFT, y, ROW_H,
                    heap_map_control_color);
        }
        y += (int)rows * (ROW_H + ROW_GAP) + 8;
    }
    free(c.v);
    return y + 8;
}

static int swatch(FILE *f, int x, int y, const char *color, const char *label)
{
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"%s\" stroke=\"#000\" stroke-width=\"0.5\"/>"
               "<text x=\"%d\" y=\"%d\">%s</text>\n", x, y, color, x + 18, y + 12, label);
    return x + 30 + 7 * (int)strlen(label);
}

int heap_map_write(FILE *out, os_memheap_t *const *heaps, int nheaps)
{
    struct owners own;
    FILE *body = tmpfile();
    int y = 60, i, x;
    long size;
    char buf[4096];
    size_t n;

    if (body == NULL)
    {
        return -1;
    }
    memset(&own, 0, sizeof(own));
    for (i = 0; i < nheaps; i++)
    {
        y = draw_heap(body, heaps[i], y, &own);
    }
    /* The legend goes first, once the owners are known. */
    fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                 "font-family=\"sans-serif\" font-size=\"12\">\n"
                 "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
            2 * LEFT + WIDTH, y + 10);
    x = LEFT;
    x = swatch(out, x, 8, heap_map_control_color, "control data");
    x = swatch(out, x, 8, heap_map_waste_color, "header and rounding");
    x = swatch(out, x, 8, free_colors[0], "free, small");
    (void)swatch(out, x, 8, free_colors[sizeof(free_colors) / sizeof(free_colors[0]) - 1], "free, large");
    x = LEFT;
    for (i = 0; i < own.n; i++)
    {
        char label[48];

        snprintf(label, sizeof(label), "used by %s", own.names[i]);
        x = swatch(out, x, 30, heap_map_owner_colors[i], label);
    }
    size = ftell(body);
    rewind(body);
    while (size > 0 && (n = fread(buf, 1, sizeof(buf), body)) > 0)
    {
        if (fwrite(buf, 1, n, out) != n)
        {
            break;
        }
        size -= (long)n;
    }
    fclose(body);
    fprintf(out, "</svg>\n");
    return size == 0 && fflush(out) == 0 && !ferror(out) ? 0 : -1;  /* every byte written */
}
