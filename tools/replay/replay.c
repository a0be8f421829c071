/*
 * oneheap-replay - replays an allocation trace (docs/trace-format.md)
 * against oneheap heaps of chosen sizes and algorithms, and reports what a
 * heap for that program needs: peak use, failures, fragmentation, the
 * smallest heap that serves every request, and a plot over time.
 *
 *   oneheap-replay [--heap SIZE] [--alg firstfit|buddy|all] [--region SIZE:ALG]...
 *                  [--size-min] [--svg FILE] [--samples N] TRACE
 *   oneheap-replay --synth N OUT [--seed S]
 *
 * Only the public API of the library is used. The arena is one block of host
 * memory, allocated once and reused by every replay.
 */
#define _GNU_SOURCE
#include <os_memory.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- trace format constants (see docs/trace-format.md) ------------------ */
#define OHR_REC_THREAD   'T'
#define OHR_REC_EVENTS   'E'
#define OHR_EV_ALLOC     1
#define OHR_EV_FREE      2
#define OHR_EV_REALLOC   3
#define OHR_EV_ALIGNED   4

#define MAX_THREADS  65536
#define MAX_REGIONS  16
#define ARENA_ALIGN  4096

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "oneheap-replay: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
    {
        die("%s", "out of host memory");
    }
    return p;
}

/* ---- the events of a trace, in order ------------------------------------------- */
struct event
{
    uint64_t ptr;       /* ALLOC/ALIGNED: the block; FREE/REALLOC: the old block */
    uint64_t ptr2;      /* REALLOC: the new block */
    uint64_t size;
    uint32_t align;     /* ALIGNED only */
    uint16_t thread;
    uint8_t  op;
    uint8_t  present;   /* used while sorting by event number */
};

struct trace
{
    const char   *path;
    struct event *ev;
    size_t        n;
    unsigned      nthreads;             /* 1 + highest thread index seen */
    char        (*names)[16];           /* latest name of each thread */
    size_t        count[5];             /* events per op */
    /* facts of the trace itself, independent of any heap */
    uint64_t      peak_req;             /* peak of live requested bytes */
    uint64_t      max_req;              /* largest single request */
    size_t        peak_req_at;          /* event index where it was reached */
    uint64_t     *thread_peak;          /* per-thread peak of live requested bytes */
    size_t       *thread_events;
    size_t        anomalies;            /* frees of unknown blocks, reuse of live ones */
};

struct reader
{
    const unsigned char *p, *end;
    int bad;
};

static uint64_t get_uv(struct reader *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7)
    {
        if (r->p >= r->end)
        {
            r->bad = 1;
            return 0;
        }
        unsigned char c = *r->p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
        {
            return v;
        }
    }
    r->bad = 1;
    return 0;
}

static uint64_t get_ptr(struct reader *r, uint64_t *prev)
{
    uint64_t z = get_uv(r);
    uint64_t d = (z >> 1) ^ (0 - (z & 1));  /* undo zigzag */
    *prev += d;
    return *prev;
}

/*
 * Decode one chunk's payload. With out == NULL only counts the events and
 * finds the highest event number; otherwise stores each event at out[seq].
 */
static int decode_chunk(struct reader *r, unsigned thread, uint64_t seq,
                        struct event *out, size_t nslots, size_t *count, uint64_t *max_seq)
{
    uint64_t prev_ptr = 0;
    while (r->p < r->end)
    {
        struct event e;
        memset(&e, 0, sizeof(e));
        e.op = *r->p++;
        e.thread = (uint16_t)thread;
        seq += get_uv(r);
        e.ptr = get_ptr(r, &prev_ptr);
        switch (e.op)
        {
        case OHR_EV_ALLOC:
            e.size = get_uv(r);
            break;
        case OHR_EV_FREE:
            break;
        case OHR_EV_REALLOC:
            e.ptr2 = get_ptr(r, &prev_ptr);
            e.size = get_uv(r);
            break;
        case OHR_EV_ALIGNED:
        {
            e.size = get_uv(r);
            uint64_t a = get_uv(r);
            e.align = a > UINT32_MAX ? UINT32_MAX : (uint32_t)a;
            break;
        }
        default:
            return -1;
        }
        if (r->bad)
        {
            return -1;
        }
        (*count)++;
        if (seq > *max_seq)
        {
            *max_seq = seq;
        }
        if (out)
        {
            if (seq >= nslots || out[seq].present)
            {
                return -1;  /* numbers must be unique */
            }
            e.present = 1;
            out[seq] = e;
        }
    }
    return 0;
}

/* Walk the records; pass 0 counts, pass 1 fills t->ev (indexed by number). */
static void parse(struct trace *t, const unsigned char *buf, size_t len, int pass,
                  size_t nslots, size_t *count, uint64_t *max_seq)
{
    struct reader r = { buf + 8, buf + len, 0 };
    while (r.p < r.end)
    {
        int type = *r.p++;
        unsigned thread = (unsigned)get_uv(&r);
        if (r.bad || thread >= MAX_THREADS)
        {
            die("%s: corrupt record header", t->path);
        }
        if (thread + 1 > t->nthreads)
        {
            t->nthreads = thread + 1;
        }
        if (type == OHR_REC_THREAD)
        {
            uint64_t n = get_uv(&r);
            if (r.bad || n > (uint64_t)(r.end - r.p))
            {
                die("%s: corrupt thread record", t->path);
            }
            if (pass == 1)
            {
                memset(t->names[thread], 0, 16);
                memcpy(t->names[thread], r.p, n < 15 ? (size_t)n : 15);
            }
            r.p += n;
        }
        else if (type == OHR_REC_EVENTS)
        {
            uint64_t seq = get_uv(&r);
            uint64_t n = get_uv(&r);
            if (r.bad || n > (uint64_t)(r.end - r.p))
            {
                die("%s: truncated event chunk (the recorded program may still be running)", t->path);
            }
            struct reader c = { r.p, r.p + n, 0 };
            if (decode_chunk(&c, thread, seq, pass ? t->ev : NULL, nslots, count, max_seq) != 0)
            {
                die("%s: corrupt event chunk", t->path);
            }
            r.p += n;
        }
        else
        {
            die("%s: unknown record type", t->path);
        }
    }
}

/* ---- a map from trace pointers to replay blocks: open addressing, O(1) ---------------- */
struct slot
{
    uint64_t key;       /* trace pointer; 0 = empty slot */
    void    *block;     /* replay block; NULL = the allocation failed (absent) */
    uint64_t size;      /* requested bytes */
    uint32_t thread;    /* thread charged with the block */
};

struct map
{
    struct slot *s;
    size_t mask;        /* capacity - 1, capacity a power of two */
    size_t n;
};

static size_t hash(uint64_t k)
{
    k ^= k >> 29;
    k *= 0xbf58476d1ce4e5b9ull;
    k ^= k >> 32;
    return (size_t)k;
}

static void map_init(struct map *m, size_t cap)
{
    m->s = calloc(cap, sizeof(struct slot));
    if (!m->s)
    {
        die("%s", "out of host memory");
    }
    m->mask = cap - 1;
    m->n = 0;
}

static void map_clear(struct map *m)
{
    memset(m->s, 0, (m->mask + 1) * sizeof(struct slot));
    m->n = 0;
}

static struct slot *map_find(struct map *m, uint64_t key)
{
    for (size_t i = hash(key) & m->mask;; i = (i + 1) & m->mask)
    {
        if (m->s[i].key == key)
        {
            return &m->s[i];
        }
        if (m->s[i].key == 0)
        {
            return NULL;
        }
    }
}

static void map_put(struct map *m, const struct slot *v);

static void map_grow(struct map *m)
{
    struct map big;
    map_init(&big, (m->mask + 1) * 2);
    for (size_t i = 0; i <= m->mask; i++)
    {
        if (m->s[i].key)
        {
            map_put(&big, &m->s[i]);
        }
    }
    free(m->s);
    *m = big;
}

/* Insert v (its key must not be present). Load stays at or below 1/2. */
static void map_put(struct map *m, const struct slot *v)
{
    if (2 * (m->n + 1) > m->mask + 1)
    {
        map_grow(m);
    }
    size_t i = hash(v->key) & m->mask;
    while (m->s[i].key)
    {
        i = (i + 1) & m->mask;
    }
    m->s[i] = *v;
    m->n++;
}

/*
 * Remove a slot by shifting back later members of its probe run, so that no
 * tombstones are needed and lookups stay short.
 */
static void map_del(struct map *m, struct slot *sl)
{
    size_t i = (size_t)(sl - m->s);
    for (size_t j = (i + 1) & m->mask; m->s[j].key; j = (j + 1) & m->mask)
    {
        size_t home = hash(m->s[j].key) & m->mask;
        /* move j to i if home is not cyclically within (i, j] */
        if (((j - home) & m->mask) >= ((j - i) & m->mask))
        {
            m->s[i] = m->s[j];
            i = j;
        }
    }
    m->s[i].key = 0;
    m->n--;
}

/* ---- loading ---------------------------------------------------------------------------- */
static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
    {
        die("cannot open %s", path);
    }
    size_t cap = 1 << 20, n = 0;
    unsigned char *buf = xmalloc(cap);
    for (;;)
    {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
        {
            break;
        }
        cap *= 2;
        unsigned char *nb = realloc(buf, cap);
        if (!nb)
        {
            die("%s", "out of host memory");
        }
        buf = nb;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* The trace's own facts: live requested bytes over time, overall and per thread. */
static void trace_facts(struct trace *t)
{
    struct map m;
    map_init(&m, 1024);
    uint64_t live = 0;
    uint64_t *tlive = calloc(t->nthreads, sizeof(uint64_t));
    t->thread_peak = calloc(t->nthreads, sizeof(uint64_t));
    t->thread_events = calloc(t->nthreads, sizeof(size_t));
    if (!tlive || !t->thread_peak || !t->thread_events)
    {
        die("%s", "out of host memory");
    }
    for (size_t i = 0; i < t->n; i++)
    {
        const struct event *e = &t->ev[i];
        t->count[e->op]++;
        t->thread_events[e->thread]++;
        uint64_t key = e->op == OHR_EV_REALLOC ? e->ptr2 : e->ptr;
        if (e->op != OHR_EV_ALLOC && e->op != OHR_EV_ALIGNED)
        {
            struct slot *old = map_find(&m, e->ptr);
            if (!old)
            {
                t->anomalies++;
            }
            else
            {
                live -= old->size;
                tlive[old->thread] -= old->size;
                map_del(&m, old);
            }
            if (e->op == OHR_EV_FREE)
            {
                continue;
            }
        }
        struct slot *dup = map_find(&m, key);
        if (dup)
        {
            /* a block recorded as allocated twice: count it, keep the new one */
            t->anomalies++;
            live -= dup->size;
            tlive[dup->thread] -= dup->size;
            map_del(&m, dup);
        }
        struct slot v = { key, NULL, e->size, e->thread };
        map_put(&m, &v);
        t->max_req = e->size > t->max_req ? e->size : t->max_req;
        live += e->size;
        tlive[e->thread] += e->size;
        if (live > t->peak_req)
        {
            t->peak_req = live;
            t->peak_req_at = i;
        }
        if (tlive[e->thread] > t->thread_peak[e->thread])
        {
            t->thread_peak[e->thread] = tlive[e->thread];
        }
    }
    free(tlive);
    free(m.s);
}

static void load(struct trace *t, const char *path)
{
    size_t len;
    unsigned char *buf = read_file(path, &len);
    memset(t, 0, sizeof(*t));
    t->path = path;
    if (len < 8 || memcmp(buf, "OHRT", 4) != 0)
    {
        die("%s: not a trace (bad magic)", path);
    }
    if (buf[4] != 1)
    {
        die("%s: unsupported trace version", path);
    }
    size_t count = 0;
    uint64_t max_seq = 0;
    parse(t, buf, len, 0, 0, &count, &max_seq);
    /*
     * Events are placed at their number, so sorting costs O(N). Numbers are
     * dense for a complete trace; a few gaps (events of a thread killed
     * before its buffer was written) are tolerated, a sparse set is not.
     */
    if (count && max_seq >= 4 * (uint64_t)count + 1024)
    {
        die("%s: event numbers are too sparse", path);
    }
    size_t nslots = count ? (size_t)max_seq + 1 : 0;
    t->ev = calloc(nslots ? nslots : 1, sizeof(struct event));
    t->names = calloc(MAX_THREADS, 16);
    if (!t->ev || !t->names)
    {
        die("%s", "out of host memory");
    }
    count = 0;
    max_seq = 0;
    t->nthreads = 0;
    parse(t, buf, len, 1, nslots, &count, &max_seq);
    size_t n = 0;
    for (size_t i = 0; i < nslots; i++)
    {
        if (t->ev[i].present)
        {
            t->ev[n++] = t->ev[i];
        }
    }
    t->n = n;
    if (t->nthreads == 0)
    {
        t->nthreads = 1;
    }
    free(buf);
    trace_facts(t);
}

/* ---- one replay ------------------------------------------------------------------------- */
struct layout
{
    char     name[64];
    int      nreg;
    size_t   size[MAX_REGIONS];
    enum os_mem_alg alg[MAX_REGIONS];
};

struct sample
{
    size_t   at;            /* events replayed */
    size_t   used;          /* mem_used */
    uint64_t req;           /* live requested bytes */
    size_t   largest;       /* largest free block (usable bytes) */
    size_t   free_total;    /* sum of free blocks (usable bytes) */
};

struct result
{
    int      add_failed;    /* the layout could not be built */
    size_t   mem_total;
    size_t   maxused;       /* mem_maxused */
    size_t   peak_used;     /* highest mem_used between events */
    size_t   peak_used_at;
    uint64_t peak_req;      /* of the blocks the replay holds */
    size_t   failed;        /* requests the heap refused */
    size_t   skipped;       /* frees/reallocs of refused blocks */
    size_t   unknown;       /* frees/reallocs of blocks the trace never allocated */
    size_t   reports;       /* error-hook reports (should be 0) */
    int      check_ok;
    struct sample *samples;
    size_t   nsamples;
    struct sample at_peak;
};

enum mode
{
    MODE_PROBE,     /* stop at the first failure: is the layout big enough? */
    MODE_FULL,      /* every counter, samples every 'step' events */
    MODE_TO_PEAK    /* replay up to 'stop', then walk once */
};

static unsigned char *g_arena;
static size_t g_arena_size;
static size_t g_reports;
static struct map g_map;

static void count_report(const char *heap_name, const void *addr, os_err_t code, const char *msg)
{
    (void)heap_name;
    (void)addr;
    (void)code;
    if (g_reports++ < 5)
    {
        fprintf(stderr, "oneheap-replay: heap reported: %s\n", msg);
    }
}

static size_t align_up(size_t v, size_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/*
 * Host memory for a layout: one arena, grown (never shrunk) as needed. Its
 * size is a power of two and its start is aligned to its size, so a layout
 * always meets the same address alignment: buddy tiles a region by absolute
 * address, and the same trace on the same layout must place every block the
 * same way in every run (--size-min's answer holds for a later --heap run).
 */
static unsigned char *arena(size_t need)
{
    if (need > g_arena_size)
    {
        size_t size = ARENA_ALIGN;
        while (size < need)
        {
            if (size > SIZE_MAX / 2)
            {
                die("%s", "the layout is larger than the address space");
            }
            size *= 2;
        }
        free(g_arena);
        g_arena_size = size;
        g_arena = aligned_alloc(size, size);
        if (!g_arena)
        {
            die("%s", "cannot allocate the arena in host memory");
        }
    }
    return g_arena;
}

static size_t layout_bytes(const struct layout *l)
{
    size_t total = 0;
    for (int i = 0; i < l->nreg; i++)
    {
        total = align_up(total, 64) + l->size[i];
    }
    return total;
}

struct walk_acc
{
    size_t largest, free_total;
};

static int walk_free(const struct os_memheap_block *b, void *arg)
{
    struct walk_acc *a = arg;
    if (!b->used)
    {
        a->free_total += b->size;
        if (b->size > a->largest)
        {
            a->largest = b->size;
        }
    }
    return 0;
}

static void take_sample(os_memheap_t *heap, struct sample *s, size_t at, uint64_t req)
{
    os_meminfo_t info;
    struct walk_acc a = { 0, 0 };
    os_memheap_info(heap, &info);
    os_memheap_walk(heap, walk_free, &a);
    s->at = at;
    s->used = info.mem_used;
    s->req = req;
    s->largest = a.largest;
    s->free_total = a.free_total;
}

/* The replay's request for a trace size: at least one byte (malloc(0) gives a block). */
static size_t request(uint64_t size)
{
    if (size == 0)
    {
        return 1;
    }
    return size > (uint64_t)SIZE_MAX ? SIZE_MAX : (size_t)size;
}

/*
 * Replay t against layout l. Returns 0, or -1 when MODE_PROBE met a failure.
 * Accounting rule (shared with the trace facts): a block is charged to the
 * thread that allocated or last reallocated it.
 */
static int replay(const struct trace *t, const struct layout *l, enum mode mode,
                  size_t step, size_t stop, struct result *r)
{
    static os_memheap_t heap;
    memset(r, 0, sizeof(*r));
    memset(&heap, 0, sizeof(heap));
    g_reports = 0;
    map_clear(&g_map);
    unsigned char *mem = arena(layout_bytes(l));
    os_memheap_init(&heap, "replay");
    size_t off = 0;
    for (int i = 0; i < l->nreg; i++)
    {
        off = align_up(off, 64);
        if (os_memheap_add(&heap, mem + off, l->size[i], l->alg[i]) != OS_EOK)
        {
            r->add_failed = 1;
        }
        off += l->size[i];
    }
    if (r->add_failed)
    {
        os_memheap_deinit(&heap);
        r->failed = 1;
        return -1;
    }
    os_meminfo_t info;
    os_memheap_info(&heap, &info);
    r->mem_total = info.mem_total;
    size_t cap = mode == MODE_FULL ? t->n / (step ? step : 1) + 2 : 0;
    if (cap)
    {
        r->samples = xmalloc(cap * sizeof(struct sample));
    }
    uint64_t live = 0;
    size_t end = mode == MODE_TO_PEAK ? stop : t->n;
    for (size_t i = 0; i < end; i++)
    {
        const struct event *e = &t->ev[i];
        uint64_t key = e->ptr;
        void *block = NULL;
        int absent = 0;
        if (e->op == OHR_EV_FREE || e->op == OHR_EV_REALLOC)
        {
            struct slot *old = map_find(&g_map, e->ptr);
            if (!old)
            {
                r->unknown++;           /* replayed as a plain allocation */
            }
            else
            {
                block = old->block;
                absent = block == NULL;
                if (absent)
                {
                    r->skipped++;
                }
                live -= block ? old->size : 0;
                map_del(&g_map, old);
            }
            if (e->op == OHR_EV_FREE)
            {
                os_memheap_free(&heap, block);  /* NULL: no-op */
                goto next;
            }
            key = e->ptr2;
        }
        struct slot *dup = map_find(&g_map, key);
        if (dup)
        {
            /* allocated twice in the trace: the older block is let go */
            r->unknown++;
            os_memheap_free(&heap, dup->block);
            live -= dup->block ? dup->size : 0;
            map_del(&g_map, dup);
        }
        struct slot v = { key, NULL, e->size, e->thread };
        if (absent)
        {
            /* realloc of a refused block: the new block is absent too */
        }
        else if (e->op == OHR_EV_REALLOC && block)
        {
            v.block = os_memheap_realloc(&heap, block, request(e->size));
            if (!v.block)
            {
                /* the program goes on with the new block only: free the old */
                os_memheap_free(&heap, block);
            }
        }
        else if (e->op == OHR_EV_ALIGNED)
        {
            v.block = os_memheap_aligned_alloc(&heap, e->align, request(e->size));
        }
        else
        {
            v.block = os_memheap_alloc(&heap, request(e->size));
        }
        if (!v.block && !absent)
        {
            r->failed++;
            if (mode == MODE_PROBE)
            {
                os_memheap_deinit(&heap);
                return -1;
            }
        }
        map_put(&g_map, &v);
        if (v.block)
        {
            live += e->size;
            if (live > r->peak_req)
            {
                r->peak_req = live;
            }
        }
    next:
        if (mode == MODE_FULL)
        {
            os_memheap_info(&heap, &info);
            if (info.mem_used > r->peak_used)
            {
                r->peak_used = info.mem_used;
                r->peak_used_at = i + 1;
            }
            if ((i + 1) % step == 0)
            {
                take_sample(&heap, &r->samples[r->nsamples++], i + 1, live);
            }
        }
    }
    if (mode == MODE_FULL && (t->n % step != 0 || t->n == 0))
    {
        take_sample(&heap, &r->samples[r->nsamples++], t->n, live);
    }
    if (mode == MODE_TO_PEAK)
    {
        take_sample(&heap, &r->at_peak, stop, live);
    }
    os_memheap_info(&heap, &info);
    r->maxused = info.mem_maxused;
    r->check_ok = mode == MODE_PROBE || os_memheap_check(&heap) == OS_EOK;
    r->reports = g_reports;
    os_memheap_deinit(&heap);
    return 0;
}

/* ---- algorithms and layouts ------------------------------------------------------------------ */
struct alg_name
{
    const char *name;
    enum os_mem_alg alg;
};

static const struct alg_name g_algs[] = {
#ifdef OS_USING_ALG_FIRSTFIT
    { "firstfit", OS_MEM_ALG_FIRSTFIT },
#endif
#ifdef OS_USING_ALG_BUDDY
    { "buddy", OS_MEM_ALG_BUDDY },
#endif
};
#define NALGS (sizeof(g_algs) / sizeof(g_algs[0]))

static int find_alg(const char *s)
{
    for (size_t i = 0; i < NALGS; i++)
    {
        if (strcmp(s, g_algs[i].name) == 0)
        {
            return (int)i;
        }
    }
    return -1;
}

static size_t parse_size(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno)
    {
        die("bad size '%s'", s);
    }
    if (*end == 'K' || *end == 'k')
    {
        v <<= 10;
        end++;
    }
    else if (*end == 'M' || *end == 'm')
    {
        v <<= 20;
        end++;
    }
    else if (*end == 'G' || *end == 'g')
    {
        v <<= 30;
        end++;
    }
    if (*end || v == 0 || v > SIZE_MAX / 2)
    {
        die("bad size '%s'", s);
    }
    return (size_t)v;
}

static void single(struct layout *l, size_t size, int alg)
{
    memset(l, 0, sizeof(*l));
    l->nreg = 1;
    l->size[0] = size;
    l->alg[0] = g_algs[alg].alg;
    snprintf(l->name, sizeof(l->name), "%s", g_algs[alg].name);
}

/* ---- output ------------------------------------------------------------------------------------ */
static const char *human(uint64_t v, char *buf, size_t n)
{
    if (v >= 10u << 20)
    {
        snprintf(buf, n, "%.1f MiB", (double)v / (1 << 20));
    }
    else if (v >= 10u << 10)
    {
        snprintf(buf, n, "%.1f KiB", (double)v / (1 << 10));
    }
    else
    {
        snprintf(buf, n, "%" PRIu64 " B", v);
    }
    return buf;
}

static double ext_frag(const struct sample *s)
{
    return s->free_total ? 1.0 - (double)s->largest / (double)s->free_total : 0.0;
}

static double int_frag(size_t used, uint64_t req)
{
    return req ? ((double)used - (double)req) / (double)req : 0.0;
}

static void print_trace(const struct trace *t)
{
    char h[32];
    printf("trace %s: %zu events (%zu alloc, %zu aligned, %zu realloc, %zu free), %u threads\n",
           t->path, t->n, t->count[OHR_EV_ALLOC], t->count[OHR_EV_ALIGNED],
           t->count[OHR_EV_REALLOC], t->count[OHR_EV_FREE], t->nthreads);
    printf("trace peak requested: %" PRIu64 " bytes (%s) at event %zu; largest request %" PRIu64 " bytes\n",
           t->peak_req, human(t->peak_req, h, sizeof(h)), t->peak_req_at + 1, t->max_req);
    if (t->anomalies)
    {
        printf("trace anomalies: %zu (frees of unknown blocks or blocks allocated twice)\n",
               t->anomalies);
    }
    printf("per-thread peak requested (a block counts for the thread that allocated it):\n");
    for (unsigned i = 0; i < t->nthreads; i++)
    {
        if (t->thread_events[i])
        {
            printf("  thread %u %-15s peak requested %" PRIu64 " bytes, %zu events\n", i,
                   t->names[i][0] ? t->names[i] : "?", t->thread_peak[i], t->thread_events[i]);
        }
    }
}

static void print_result(const struct layout *l, const struct result *r)
{
    char h[32];
    printf("\n== %s:", l->name);
    for (int i = 0; i < l->nreg; i++)
    {
        char alg[16] = "?";
        for (size_t a = 0; a < NALGS; a++)
        {
            if (g_algs[a].alg == l->alg[i])
            {
                snprintf(alg, sizeof(alg), "%s", g_algs[a].name);
            }
        }
        printf(" %zu bytes %s%s", l->size[i], alg, i + 1 < l->nreg ? " +" : "");
    }
    if (r->add_failed)
    {
        printf("\n  the layout cannot be built (a region is too small)\n");
        return;
    }
    printf(" (mem_total %zu)\n", r->mem_total);
    printf("  peak used (mem_maxused)     %zu bytes (%s)\n", r->maxused, human(r->maxused, h, sizeof(h)));
    printf("  peak requested              %" PRIu64 " bytes\n", r->peak_req);
    printf("  failed requests             %zu\n", r->failed);
    printf("  skipped frees/reallocs      %zu\n", r->skipped);
    if (r->unknown)
    {
        printf("  unknown blocks              %zu\n", r->unknown);
    }
    const struct sample *p = &r->at_peak;
    printf("  at peak use (event %zu): used %zu, requested %" PRIu64 ", internal fragmentation %.1f %%,"
           " external fragmentation %.1f %% (largest free %zu of %zu free)\n",
           p->at, p->used, p->req, 100 * int_frag(p->used, p->req), 100 * ext_frag(p),
           p->largest, p->free_total);
    double imax = 0, emax = 0, isum = 0, esum = 0;
    size_t n = 0;
    for (size_t i = 0; i < r->nsamples; i++)
    {
        const struct sample *s = &r->samples[i];
        if (s->req == 0)
        {
            continue;   /* an empty heap has no fragmentation to speak of */
        }
        double fi = int_frag(s->used, s->req), fe = ext_frag(s);
        imax = fi > imax ? fi : imax;
        emax = fe > emax ? fe : emax;
        isum += fi;
        esum += fe;
        n++;
    }
    printf("  over time (%zu samples): internal fragmentation mean %.1f %% max %.1f %%,"
           " external fragmentation mean %.1f %% max %.1f %%\n",
           r->nsamples, n ? 100 * isum / (double)n : 0.0, 100 * imax,
           n ? 100 * esum / (double)n : 0.0, 100 * emax);
    if (r->reports || !r->check_ok)
    {
        printf("  HEAP PROBLEM: %zu error reports, check %s\n", r->reports, r->check_ok ? "OK" : "FAILED");
    }
}

/* ---- the plot --------------------------------------------------------------------------------- */
static const char *const g_colors[] = { "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b" };

static double nice_step(double range)
{
    double p = 1;
    while (p * 10 <= range)
    {
        p *= 10;
    }
    while (p > range && p > 1)
    {
        p /= 10;
    }
    double m = range / p;
    return m >= 5 ? p : m >= 2 ? p / 2 : p / 5;
}

static int write_svg(const char *file, const struct trace *t, const struct layout *ls,
                     const struct result *rs, int n)
{
    FILE *f = fopen(file, "w");
    if (!f)
    {
        return -1;
    }
    const double W = 880, H = 420, x0 = 80, y0 = 40, pw = 560, ph = 320;
    double ymax = 1, xmax = t->n ? (double)t->n : 1;
    for (int k = 0; k < n; k++)
    {
        for (size_t i = 0; i < rs[k].nsamples; i++)
        {
            const struct sample *s = &rs[k].samples[i];
            ymax = (double)s->used > ymax ? (double)s->used : ymax;
            ymax = (double)s->largest > ymax ? (double)s->largest : ymax;
        }
        ymax = (double)rs[k].at_peak.used > ymax ? (double)rs[k].at_peak.used : ymax;
    }
    /* y in KiB or MiB so that ticks fall on round numbers of the unit shown */
    double unit = ymax >= (1 << 20) ? (1 << 20) : ymax >= (1 << 10) ? (1 << 10) : 1;
    const char *uname = unit > 1024 ? "MiB" : unit > 1 ? "KiB" : "B";
    double ystep = nice_step(ymax / unit) * unit, xstep = nice_step(xmax);
    ymax = ystep * (double)(long long)(ymax / ystep + 0.999999);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
            W, H, W, H);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    const char *base = strrchr(t->path, '/');
    fprintf(f, "<text x=\"%.0f\" y=\"22\" font-size=\"14\">oneheap-replay: %s (%zu events)</text>\n",
            x0, base ? base + 1 : t->path, t->n);
    /* grid, ticks and labels */
    for (double v = 0; v <= ymax + ystep / 2; v += ystep)
    {
        double y = y0 + ph - v / ymax * ph;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                x0, y, x0 + pw, y);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g %s</text>\n",
                x0 - 6, y + 4, v / unit, uname);
    }
    for (double v = 0; v <= xmax + xstep / 1000; v += xstep)
    {
        double x = x0 + v / xmax * pw;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                x, y0, x, y0 + ph);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f</text>\n",
                x, y0 + ph + 16, v);
    }
    fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"black\"/>\n",
            x0, y0, pw, ph);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">event index</text>\n",
            x0 + pw / 2, y0 + ph + 36);
    fprintf(f, "<text transform=\"translate(18 %.0f) rotate(-90)\" text-anchor=\"middle\">bytes</text>\n",
            y0 + ph / 2);
    /* one colour per layout: used bytes solid, largest free block dashed */
    for (int k = 0; k < n; k++)
    {
        const char *c = g_colors[k % 6];
        for (int line = 0; line < 2; line++)
        {
            fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s points=\"",
                    c, line ? " stroke-dasharray=\"5 3\"" : "");
            /* the samples, with the sample at peak use put in its place */
            int peak_done = rs[k].add_failed;
            for (size_t i = 0; i < rs[k].nsamples; i++)
            {
                const struct sample *s = &rs[k].samples[i];
                if (!peak_done && rs[k].at_peak.at <= s->at)
                {
                    s = &rs[k].at_peak;
                    peak_done = 1;
                    i--;
                }
                double v = (double)(line ? s->largest : s->used);
                fprintf(f, "%.1f,%.1f ", x0 + (double)s->at / xmax * pw, y0 + ph - v / ymax * ph);
            }
            fprintf(f, "\"/>\n");
        }
        double ly = y0 + 10 + 36 * k;
        fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" stroke-width=\"2\"/>\n",
                x0 + pw + 12, ly, x0 + pw + 36, ly, c);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">%s used</text>\n", x0 + pw + 42, ly + 4, ls[k].name);
        fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" stroke-width=\"2\" "
                   "stroke-dasharray=\"5 3\"/>\n", x0 + pw + 12, ly + 16, x0 + pw + 36, ly + 16, c);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">%s largest free</text>\n", x0 + pw + 42, ly + 20, ls[k].name);
    }
    fprintf(f, "</svg>\n");
    return fclose(f);
}

/* ---- smallest heap ------------------------------------------------------------------------------ */
static int fits(const struct trace *t, int alg, size_t size)
{
    struct layout l;
    struct result r;
    single(&l, size, alg);
    return replay(t, &l, MODE_PROBE, 1, 0, &r) == 0 && r.failed == 0;
}

/*
 * The smallest single-region heap with no failed request, to 64 bytes.
 *
 * Failure is not monotonic in the size (a bigger region can place blocks
 * differently and fragment worse), so plain bisection may stop on a size
 * that works although a smaller one works too. The result is therefore
 * verified: if the size 1 % below it also works, bisection restarts below
 * that size. Each restart lowers the answer by at least 1 %, and a region no
 * larger than the trace's peak of requested bytes always fails (its blocks
 * cannot all fit), so the search ends. The answer is a size that works while
 * the sizes 64 bytes and 1 % below it fail.
 */
static size_t size_min(const struct trace *t, int alg, int *restarts)
{
    const size_t gran = 64;
    size_t lo = (size_t)t->peak_req;    /* fails: see above */
    if (lo < gran)
    {
        lo = gran;
    }
    lo &= ~(size_t)7;
    size_t hi = lo * 2 + 4096;
    while (!fits(t, alg, hi))
    {
        if (hi > SIZE_MAX / 4 || hi / 64 > (size_t)t->peak_req + (1 << 20))
        {
            return 0;   /* 64 times the peak: some request can never be served */
        }
        lo = hi;
        hi *= 2;
    }
    *restarts = 0;
    for (;;)
    {
        while (hi - lo > gran)
        {
            size_t mid = (lo + (hi - lo) / 2) & ~(size_t)7;
            if (fits(t, alg, mid))
            {
                hi = mid;
            }
            else
            {
                lo = mid;
            }
        }
        size_t below = (hi - hi / 100) & ~(size_t)7;
        if (!fits(t, alg, below))
        {
            return hi;
        }
        (*restarts)++;
        hi = below;
        lo = (size_t)t->peak_req & ~(size_t)7;
        if (lo < gran)
        {
            lo = gran;
        }
    }
}

/* ---- synthetic traces ---------------------------------------------------------------------------- */
static uint64_t g_rng = 88172645463325252ull;

static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

struct synth_thread
{
    unsigned char *buf;
    size_t len, cap, flush_at;
    uint64_t base, prev_seq, prev_ptr;
    uint64_t live, peak;
    const char *name;
    int named;
};

static void put_byte(struct synth_thread *s, unsigned c)
{
    if (s->len == s->cap)
    {
        s->cap = s->cap ? 2 * s->cap : 4096;
        s->buf = realloc(s->buf, s->cap);
        if (!s->buf)
        {
            die("%s", "out of host memory");
        }
    }
    s->buf[s->len++] = (unsigned char)c;
}

static void put_varint(struct synth_thread *s, uint64_t v)
{
    do
    {
        put_byte(s, (unsigned)(v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
}

static void put_pointer(struct synth_thread *s, uint64_t p)
{
    int64_t d = (int64_t)(p - s->prev_ptr);
    s->prev_ptr = p;
    put_varint(s, d < 0 ? ((uint64_t)(-(d + 1)) << 1) | 1 : (uint64_t)d << 1);
}

static void file_varint(FILE *f, uint64_t v)
{
    do
    {
        fputc((int)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)), f);
        v >>= 7;
    } while (v);
}

static void synth_flush(FILE *f, struct synth_thread *s, unsigned idx)
{
    if (!s->named)
    {
        fputc(OHR_REC_THREAD, f);
        file_varint(f, idx);
        file_varint(f, strlen(s->name));
        fputs(s->name, f);
        s->named = 1;
    }
    if (s->len)
    {
        fputc(OHR_REC_EVENTS, f);
        file_varint(f, idx);
        file_varint(f, s->base);
        file_varint(f, s->len);
        fwrite(s->buf, 1, s->len, f);
        s->len = 0;
    }
    s->flush_at = 1 + rnd() % 400;
}

struct synth_block
{
    uint64_t ptr, size;
    unsigned thread;
};

/*
 * Write n events of 4 threads to out: a live set that swells and shrinks,
 * small and large blocks, aligned requests, reallocs, frees from other
 * threads, addresses reused, and chunks written out of order. Prints the
 * facts a replay must reproduce, computed here on their own.
 */
static int synth(size_t n, const char *out, uint64_t seed)
{
    static const char *const names[4] = { "synth-main", "synth-io", "synth-net", "synth-ui" };
    struct synth_thread th[4];
    memset(th, 0, sizeof(th));
    for (int i = 0; i < 4; i++)
    {
        th[i].name = names[i];
        th[i].flush_at = 1 + rnd() % 400;
    }
    g_rng ^= seed * 0x9e3779b97f4a7c15ull;
    FILE *f = fopen(out, "wb");
    if (!f)
    {
        die("cannot create %s", out);
    }
    fwrite("OHRT\1\0\10\0", 1, 8, f);
    struct synth_block *live = xmalloc(sizeof(*live) * (n + 1));
    size_t nlive = 0;
    uint64_t *spare = xmalloc(sizeof(uint64_t) * (n + 1));  /* freed addresses to reuse */
    size_t nspare = 0;
    uint64_t next_addr = 0x7f3a00000000ull, total = 0, peak = 0;
    for (size_t i = 0; i < n; i++)
    {
        unsigned ti = (unsigned)(rnd() % 4);
        struct synth_thread *s = &th[ti];
        /* target live count follows a slow wave with a few bursts */
        size_t target = 200 + (size_t)(150 * (1 + ((i / 5000) % 4)) * ((i / 997) % 3));
        unsigned roll = (unsigned)(rnd() % 100);
        int alloc = nlive == 0 || (nlive < target ? roll < 70 : roll < 30);
        if (s->len == 0)
        {
            s->base = s->prev_seq = i;
            s->prev_ptr = 0;
        }
        if (alloc)
        {
            uint64_t size = (rnd() % 10 == 0) ? 1 + rnd() % 16384 : 1 + rnd() % 256;
            uint64_t addr;
            if (nspare && rnd() % 2)
            {
                addr = spare[--nspare];
            }
            else
            {
                addr = next_addr;
                next_addr += 16 * (1 + rnd() % 64);
            }
            if (rnd() % 10 == 0)
            {
                put_byte(s, OHR_EV_ALIGNED);
                put_varint(s, i - s->prev_seq);
                put_pointer(s, addr);
                put_varint(s, size);
                put_varint(s, 16u << (rnd() % 8));
            }
            else
            {
                put_byte(s, OHR_EV_ALLOC);
                put_varint(s, i - s->prev_seq);
                put_pointer(s, addr);
                put_varint(s, size);
            }
            live[nlive++] = (struct synth_block){ addr, size, ti };
            total += size;
            s->live += size;
        }
        else
        {
            size_t k = (size_t)(rnd() % nlive);
            struct synth_block *b = &live[k];
            th[b->thread].live -= b->size;
            total -= b->size;
            if (rnd() % 5 == 0)
            {
                /* realloc: sometimes in place, sometimes to a fresh address */
                uint64_t size = 1 + rnd() % 2048;
                uint64_t addr = rnd() % 2 ? b->ptr : next_addr;
                if (addr == next_addr)
                {
                    next_addr += 16 * (1 + rnd() % 64);
                    spare[nspare++] = b->ptr;
                }
                put_byte(s, OHR_EV_REALLOC);
                put_varint(s, i - s->prev_seq);
                put_pointer(s, b->ptr);
                put_pointer(s, addr);
                put_varint(s, size);
                *b = (struct synth_block){ addr, size, ti };
                total += size;
                s->live += size;
            }
            else
            {
                put_byte(s, OHR_EV_FREE);
                put_varint(s, i - s->prev_seq);
                put_pointer(s, b->ptr);
                spare[nspare++] = b->ptr;
                *b = live[--nlive];
            }
        }
        s->prev_seq = i;
        peak = total > peak ? total : peak;
        for (int k = 0; k < 4; k++)
        {
            th[k].peak = th[k].live > th[k].peak ? th[k].live : th[k].peak;
        }
        if (s->len >= s->flush_at)
        {
            synth_flush(f, s, ti);
        }
        if (i == n / 2)
        {
            th[3].name = "synth-ui-late";   /* a thread renamed midway */
            th[3].named = 0;
        }
    }
    for (unsigned k = 0; k < 4; k++)
    {
        synth_flush(f, &th[k], k);
        free(th[k].buf);
    }
    if (fclose(f) != 0)
    {
        die("cannot write %s", out);
    }
    printf("synth: %zu events, peak requested %" PRIu64 " bytes\n", n, peak);
    for (unsigned k = 0; k < 4; k++)
    {
        printf("synth: thread %u %s peak requested %" PRIu64 " bytes\n", k, th[k].name, th[k].peak);
    }
    free(live);
    free(spare);
    return 0;
}

/* ---- main ------------------------------------------------------------------------------------------ */
static void usage(void)
{
    printf("usage: oneheap-replay [options] TRACE\n"
           "       oneheap-replay --synth N OUT [--seed S]\n"
           "  --heap SIZE          heap size for --alg (K, M, G suffixes; default 1M)\n"
           "  --alg NAME           firstfit, buddy or all (default: all compiled in)\n"
           "  --region SIZE:ALG    one region of a multi-region layout (repeat; replaces --heap/--alg)\n"
           "  --size-min           smallest single-region heap with no failed request, per algorithm\n"
           "  --svg FILE           plot used bytes and largest free block over time\n"
           "  --samples N          fragmentation samples per replay (default 500)\n"
           "algorithms in this build:");
    for (size_t i = 0; i < NALGS; i++)
    {
        printf(" %s", g_algs[i].name);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "heap", required_argument, 0, 'h' },
        { "alg", required_argument, 0, 'a' },
        { "region", required_argument, 0, 'r' },
        { "size-min", no_argument, 0, 'm' },
        { "svg", required_argument, 0, 's' },
        { "samples", required_argument, 0, 'n' },
        { "synth", no_argument, 0, 'y' },
        { "seed", required_argument, 0, 'e' },
        { "help", no_argument, 0, '?' },
        { 0, 0, 0, 0 }
    };
    size_t heap = 1 << 20, samples = 500;
    const char *alg = "all", *svg = NULL;
    int want_min = 0, want_synth = 0;
    uint64_t seed = 1;
    struct layout custom;
    memset(&custom, 0, sizeof(custom));
    snprintf(custom.name, sizeof(custom.name), "regions");
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
    {
        switch (c)
        {
        case 'h':
            heap = parse_size(optarg);
            break;
        case 'a':
            alg = optarg;
            break;
        case 'r':
        {
            char *colon = strchr(optarg, ':');
            if (!colon || custom.nreg == MAX_REGIONS)
            {
                die("bad region '%s' (SIZE:ALG)", optarg);
            }
            *colon = 0;
            int a = find_alg(colon + 1);
            if (a < 0)
            {
                die("algorithm '%s' is not in this build", colon + 1);
            }
            custom.size[custom.nreg] = parse_size(optarg);
            custom.alg[custom.nreg++] = g_algs[a].alg;
            break;
        }
        case 'm':
            want_min = 1;
            break;
        case 's':
            svg = optarg;
            break;
        case 'n':
            samples = parse_size(optarg);
            break;
        case 'y':
            want_synth = 1;
            break;
        case 'e':
            seed = strtoull(optarg, NULL, 0);
            break;
        default:
            usage();
            return 2;
        }
    }
    if (want_synth)
    {
        if (argc - optind != 2)
        {
            usage();
            return 2;
        }
        return synth((size_t)strtoull(argv[optind], NULL, 10), argv[optind + 1], seed);
    }
    if (argc - optind != 1)
    {
        usage();
        return 2;
    }

    struct layout ls[NALGS > 0 ? NALGS + 1 : 1];
    int nl = 0;
    int algs[NALGS + 1];
    int nalgs = 0;
    if (strcmp(alg, "all") == 0)
    {
        for (size_t i = 0; i < NALGS; i++)
        {
            algs[nalgs++] = (int)i;
        }
    }
    else
    {
        int a = find_alg(alg);
        if (a < 0)
        {
            die("algorithm '%s' is not in this build", alg);
        }
        algs[nalgs++] = a;
    }
    if (custom.nreg)
    {
        ls[nl++] = custom;
    }
    else
    {
        for (int i = 0; i < nalgs; i++)
        {
            single(&ls[nl++], heap, algs[i]);
        }
    }

    os_mem_set_error_hook(count_report);
    struct trace t;
    load(&t, argv[optind]);
    map_init(&g_map, 1024);
    print_trace(&t);

    size_t step = t.n / (samples ? samples : 1);
    step = step ? step : 1;
    struct result rs[NALGS + 1];
    int bad = 0;
    for (int k = 0; k < nl; k++)
    {
        replay(&t, &ls[k], MODE_FULL, step, 0, &rs[k]);
        if (!rs[k].add_failed)
        {
            struct result peak;
            replay(&t, &ls[k], MODE_TO_PEAK, step, rs[k].peak_used_at, &peak);
            rs[k].at_peak = peak.at_peak;
        }
        print_result(&ls[k], &rs[k]);
        bad |= rs[k].reports != 0 || !rs[k].check_ok;
    }

    if (want_min)
    {
        printf("\nsmallest heap (one region, 64-byte steps) with no failed request:\n");
        for (int i = 0; i < nalgs; i++)
        {
            int restarts = 0;
            size_t s = size_min(&t, algs[i], &restarts);
            if (s == 0)
            {
                printf("  %-8s none found: even a heap 64 times the peak has failures"
                       " (is the largest request bigger than the algorithm's largest block?)\n",
                       g_algs[algs[i]].name);
                bad = 1;
                continue;
            }
            size_t below = (s - s / 100) & ~(size_t)7;
            struct layout l;
            struct result at, under;
            single(&l, s, algs[i]);
            replay(&t, &l, MODE_FULL, step, 0, &at);
            single(&l, below, algs[i]);
            replay(&t, &l, MODE_FULL, step, 0, &under);
            char h[32];
            printf("  %-8s size-min %zu bytes (%s): %zu failed; at %zu bytes (1 %% smaller): %zu failed;"
                   " peak used %zu; %d restart%s\n",
                   g_algs[algs[i]].name, s, human(s, h, sizeof(h)), at.failed, below,
                   under.failed, at.maxused, restarts, restarts == 1 ? "" : "s");
            bad |= at.failed != 0 || under.failed == 0;
            free(at.samples);
            free(under.samples);
        }
    }

    if (svg)
    {
        if (write_svg(svg, &t, ls, rs, nl) != 0)
        {
            die("cannot write %s", svg);
        }
        printf("\nplot: %s\n", svg);
    }
    for (int k = 0; k < nl; k++)
    {
        free(rs[k].samples);
    }
    free(t.ev);
    free(t.names);
    free(t.thread_peak);
    free(t.thread_events);
    free(g_map.s);
    free(g_arena);
    return bad ? 1 : 0;
}
