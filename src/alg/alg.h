/*
 * alg.h - the contract between the heap core and an algorithm.
 *
 * Calls go one way: public API (heap.c) -> region table (region.c) ->
 * algorithm. An algorithm manages the blocks of one region. It never takes
 * locks, never sees tasks or statistics and never decides policy: the core
 * has already rejected size 0, sizes near SIZE_MAX, bad alignments, calls
 * from interrupts, and has found the region that contains a pointer.
 *
 * Statistics follow the core's rules, but are counted where the block
 * changes hands: an algorithm calls oh_took() for every block it hands out
 * and oh_gave() for every block it takes back, with the bytes the block
 * occupies. So the fast paths of the core can end in a tail call into the
 * algorithm.
 *
 * Adding an algorithm = one file that defines a `struct os_mem_ops` + one
 * entry in the registry of region.c.
 */
#ifndef ONEHEAP_ALG_H
#define ONEHEAP_ALG_H

#include "oh_config.h"

/*
 * A region's control block. It sits at the (aligned) start of the region;
 * the algorithm's own control data follows it. Invariants:
 *  - start <= (u8 *)this < end, and every block of the region lies in
 *    [start, end);
 *  - next links the regions of one heap in the order they were added;
 *  - host is the heap whose allocated block holds this region (or NULL),
 *    and host_next links the regions hosted by the same heap;
 *  - at hardening levels tail and full, seal sums the fields from next to
 *    total and the algorithm's fixed part (oh_region_seal); whoever
 *    changes a link seals the region again.
 */
struct heap_mem
{
    struct heap_mem         *next;
    const struct os_mem_ops *ops;
    os_uint8_t              *start;     /* first byte given to os_memheap_add */
    os_uint8_t              *end;       /* one past the last byte */
    struct os_memheap       *heap;      /* owner */
    struct os_memheap       *host;
    struct heap_mem         *host_next;
    os_size_t                total;     /* bytes available for blocks (from init) */
#if OS_MEM_HARDENING >= 2
    /*
     * Order of adds over all heaps (region.c: one count, global lock held).
     * Invariant: serial grows along every heap's list (regions are appended)
     * and falls along every host's list of nested regions (pushed at its
     * front), so a control block set back to an older copy of itself cannot
     * close a loop: a link that breaks the order is not followed (OH_LINKED).
     * 64 bits, so it does not wrap; two words, so the control block needs
     * no more than pointer alignment on 32-bit targets.
     */
    os_uint32_t              serial[2];     /* low word, high word */
    os_ubase_t               seal;      /* oh_region_seal(): the fields above and the algorithm's fixed part */
#endif
#ifdef OS_MEM_STATS
    /* kept by oh_took / oh_gave / oh_resized / oh_refused */
    os_size_t                used;      /* bytes held by live blocks */
    os_size_t                allocs;    /* blocks handed out */
    os_size_t                frees;     /* blocks taken back */
    os_size_t                fails;     /* requests it could not serve */
#endif
};

#define OH_REGION_HDR_SIZE  (((sizeof(struct heap_mem) + sizeof(void *) - 1) / sizeof(void *)) * sizeof(void *))
#define OH_REGION_DATA(r)   ((void *)((os_uint8_t *)(r) + OH_REGION_HDR_SIZE))
/* The region whose algorithm control data starts at data. */
#define OH_REGION_OF(data)  ((const struct heap_mem *)(const void *)((const os_uint8_t *)(data) - OH_REGION_HDR_SIZE))

/* A block as seen by walks and queries. */
struct os_mem_blk
{
    void        *mem;       /* payload address (what the user holds) */
    os_uint8_t  *start;     /* the block's first byte (its header, if it has one) */
    os_uint8_t  *end;       /* one past the block's last byte */
    os_size_t    usable;    /* usable bytes of the payload */
    os_size_t    size;      /* bytes the block occupies, header included */
    os_size_t    align;     /* alignment it was allocated with; 0 for a plain block */
    os_uint16_t  owner;     /* owner task index (trace builds; 0 otherwise) */
    os_uint8_t   used;
};

/* First-fit alone: the core calls it by name (see "How the core reaches an algorithm" below). */
#if defined(OS_USING_ALG_FIRSTFIT) && !defined(OS_USING_ALG_BUDDY)
#define OH_ALG_DIRECT 1
#endif

/* Walk callback: return nonzero to stop the walk. */
typedef int (*os_mem_walk_fn)(const struct heap_mem *r, const struct os_mem_blk *b, void *arg);

struct os_mem_ops
{
    const char *name;
    /* Largest region the algorithm manages in one piece, in bytes. */
    os_size_t   max_region;
#if OS_MEM_HARDENING >= 2
    /*
     * Bytes at the start of the algorithm's control data (OH_REGION_DATA)
     * that init writes and nothing changes afterwards, whole words with no
     * padding among them: hardening levels tail and full seal them with
     * the region's control block (region.h, oh_region_seal).
     */
    os_size_t   fixed;
#endif
#ifndef OH_ALG_DIRECT   /* called by name otherwise: the table holds only the two fields above */

    /*
     * Set up the control data for the region [r, r->end). Returns the bytes
     * available for blocks (the region's share of mem_total), or 0 if the
     * region cannot hold the control data and one minimal block (it could
     * not serve a request of OH_MIN_REQUEST bytes); then it must not have
     * written anything in the region.
     */
    os_size_t (*init)(struct heap_mem *r);

    /*
     * Any size: 0, or more than the region can ever hold, gives OS_NULL
     * through oh_refused_size() (the core's tail call passes sizes
     * unchecked). Returns the block (counted with oh_took()) or OS_NULL.
     */
    void *(*alloc)(struct heap_mem *r, os_size_t size, os_uint16_t owner);

    /* align is a power of two > OS_MEM_ALIGN_SIZE; size >= 1. */
    void *(*aligned_alloc)(struct heap_mem *r, os_size_t align, os_size_t size, os_uint16_t owner);

    /*
     * Validates p in O(1) (a block start, in use, its header intact, the
     * neighbours it changes consistent), reading nothing at p before it
     * knows p lies in the region: a heap's fast free passes any pointer,
     * OS_NULL included. On failure reports through
     * oh_bad_pointer() or oh_fault() with the region unchanged. A block
     * taken back is counted with oh_gave().
     */
    void (*free)(struct heap_mem *r, void *p);

    /*
     * Resize in place. OS_EOK: done (counted: oh_gave() of the old size,
     * oh_took() of the new one). OS_ENOMEM: cannot be done in place,
     * nothing changed. OS_EINVAL / OS_ERROR: p is not a live block, or a
     * neighbour is corrupt (reported).
     */
    os_err_t (*resize)(struct heap_mem *r, void *p, os_size_t size);

    /*
     * Optional (OS_NULL: the core walks the region): the number of free
     * blocks and the bytes of the largest one, header included.
     */
    void (*free_info)(const struct heap_mem *r, os_size_t *blocks, os_size_t *largest);

    /* Validate a live block (as free does, without reporting) and describe it. */
    os_err_t (*query)(const struct heap_mem *r, const void *p, struct os_mem_blk *b);

    /*
     * Call fn for every block in address order, from the block whose
     * payload (b->mem) is `from` if that is still a block of the region
     * (tested in O(1), or O(log n) for buddy), else (and for OS_NULL) from
     * its first block: a caller that resumes a walk skips what it saw.
     * Stops with OS_ERROR (and a report) at the first header that would
     * lead outside the region.
     */
    os_err_t (*walk)(const struct heap_mem *r, const void *from, os_mem_walk_fn fn, void *arg);

    /*
     * Full validation: every block, the free lists, the bitmaps. Reports
     * each problem found through oh_fault() and returns OS_ERROR; otherwise
     * OS_EOK with *used = bytes held by used blocks. Never leaves the region.
     */
    os_err_t (*check)(const struct heap_mem *r, os_size_t *used);
#endif
};

/* The counts behind the extended statistics (OS_MEM_STATS). */
#ifdef OS_MEM_STATS
#define OH_STAT(x) (x)
#else
#define OH_STAT(x) ((void)0)
#endif

/* Heap use grew by `bytes`: mem_used and its true peak. */
OH_INLINE void oh_used_add(os_memheap_t *h, os_size_t bytes)
{
    os_size_t used = h->mem_used + bytes;

    h->mem_used = used;
    if (used > h->mem_maxused)
    {
        h->mem_maxused = used;
    }
}

/*
 * Per-task rows (trace builds), kept with the heap's own figures: the row
 * of a task index (indexes past the table count in row 0). A row never goes
 * below zero, even when a corrupt header names the wrong owner.
 */
#ifdef OS_USING_MEM_TRACE
OH_INLINE struct os_mem_task_use *oh_task_row(os_memheap_t *h, os_uint16_t owner)
{
    return &h->task[owner < OS_MEM_TRACE_TASKS ? owner : 0u];
}

OH_INLINE void oh_task_took(os_memheap_t *h, os_uint16_t owner, os_size_t bytes)
{
    struct os_mem_task_use *t = oh_task_row(h, owner);
    os_size_t now = t->bytes + bytes;

    t->bytes = now;
    t->blocks++;
    if (now > t->peak)
    {
        t->peak = now;
    }
}

OH_INLINE void oh_task_gave(os_memheap_t *h, os_uint16_t owner, os_size_t bytes)
{
    struct os_mem_task_use *t = oh_task_row(h, owner);

    t->bytes -= bytes < t->bytes ? bytes : t->bytes;
    t->blocks -= t->blocks != 0;
}

OH_INLINE void oh_task_resized(os_memheap_t *h, os_uint16_t owner, os_size_t old_bytes, os_size_t new_bytes)
{
    oh_task_gave(h, owner, old_bytes);
    oh_task_took(h, owner, new_bytes);
}
#else
#define oh_task_took(h, owner, bytes)                   ((void)(owner))
#define oh_task_gave(h, owner, bytes)                   ((void)(owner))
#define oh_task_resized(h, owner, old_bytes, new_bytes) ((void)(owner))
#endif

/* A block of `bytes` (header included) was handed out to task `owner`. */
OH_INLINE void oh_took(struct heap_mem *r, os_size_t bytes, os_uint16_t owner)
{
    OH_STAT(r->used += bytes);
    OH_STAT(r->allocs++);
    oh_used_add(r->heap, bytes);
    oh_task_took(r->heap, owner, bytes);
}

/* A block of `bytes` owned by `owner` was taken back. */
OH_INLINE void oh_gave(struct heap_mem *r, os_size_t bytes, os_uint16_t owner)
{
    OH_STAT(r->used -= bytes);
    OH_STAT(r->frees++);
    r->heap->mem_used -= bytes;
    oh_task_gave(r->heap, owner, bytes);
}

/* A live block of `owner` was resized in place from old_bytes to new_bytes. */
OH_INLINE void oh_resized(struct heap_mem *r, os_size_t old_bytes, os_size_t new_bytes, os_uint16_t owner)
{
    OH_STAT(r->used = r->used - old_bytes + new_bytes);
    r->heap->mem_used -= old_bytes;
    oh_used_add(r->heap, new_bytes);
    oh_task_resized(r->heap, owner, old_bytes, new_bytes);
}

/*
 * oh_refused: a request region r could not serve, counted for r, and for
 * the heap when r is the heap's last region (the last one a request
 * tries). Returns OS_NULL, for `return oh_refused(r);`.
 * oh_refused_size: an alloc the region cannot serve by its size: OS_NULL,
 * counted by oh_refused() unless the size is 0 or beyond OH_MAX_REQUEST
 * (which the core's locked paths refuse before asking any region).
 * Only the extended statistics count them; without, both just return
 * OS_NULL, inline.
 */
#ifdef OS_MEM_STATS
void *oh_refused(struct heap_mem *r);
void *oh_refused_size(struct heap_mem *r, os_size_t size);
#else
static inline void *oh_refused(struct heap_mem *r)
{
    (void)r;
    return OS_NULL;
}

static inline void *oh_refused_size(struct heap_mem *r, os_size_t size)
{
    (void)r;
    (void)size;
    return OS_NULL;
}
#endif

/* Report a corruption or a bad pointer found in region r (see report.c). */
#ifdef OS_MEM_SMALL
/* Small build: a fixed message chosen by the code; `what` is not compiled in. */
void oh_report_fixed(int fatal, const os_memheap_t *heap, const void *addr, os_err_t code);
#define oh_fault(r, addr, code, what) oh_report_fixed(1, (r)->heap, addr, code)
#else
void oh_fault(const struct heap_mem *r, const void *addr, os_err_t code, const char *what);
#endif
/*
 * An algorithm's walk and check begin with it, ok saying whether its
 * control data still says what init wrote: if not, it is reported (and
 * nothing is walked). Returns !ok.
 */
int oh_ctrl_bad(const struct heap_mem *r, int ok);

/*
 * What an algorithm's O(1) pointer validation found. BLK_FREE: a free block
 * starts there (a double free); BLK_NOT_USED: the block header there says
 * "not in use" but no free block starts there: a block freed twice that was
 * merged since, or a pointer into a block whose data reads as such a header.
 */
enum { BLK_OK, BLK_NOT_BLOCK, BLK_FREE, BLK_CORRUPT, BLK_NOT_USED };

/*
 * Report a pointer that failed validation (why != BLK_OK), with one wording
 * for every algorithm. A pointer outside the region (a heap's fast free
 * passes any pointer) is reported as not in the heap, and OS_NULL not at all.
 */
void oh_bad_pointer(const struct heap_mem *r, const void *p, int why);

/* Report the `what` (a free, a realloc) of a pointer that lies in no region of the heap. */
void oh_foreign_pointer(const os_memheap_t *heap, const void *p, const char *what);
#ifdef OS_MEM_SMALL
/* The small build's reports do not name the call. */
#define oh_foreign_pointer(heap, p, what) (oh_foreign_pointer)(heap, p, OS_NULL)
#endif

#ifdef OS_USING_ALG_FIRSTFIT
extern const struct os_mem_ops oh_firstfit_ops;
#endif
#ifdef OS_USING_ALG_BUDDY
extern const struct os_mem_ops oh_buddy_ops;
#endif

/*
 * How the core reaches an algorithm. Normally through r->ops, so that a
 * region of any compiled-in algorithm can sit in any heap. A build with
 * first-fit alone (OH_ALG_DIRECT) calls first-fit's functions by name
 * instead (a direct jump on the hot paths, no load of the table), and its
 * ops table holds only the name and the region limit: a function that the
 * program never reaches (check, walk, aligned allocation...) is then left
 * out by the linker's --gc-sections. The macros below are the only way the
 * core calls an algorithm, so both forms stay in step.
 */
#ifdef OH_ALG_DIRECT
os_size_t oh_ff_init(struct heap_mem *r);
void     *oh_ff_alloc(struct heap_mem *r, os_size_t size, os_uint16_t owner);
void     *oh_ff_aligned_alloc(struct heap_mem *r, os_size_t align, os_size_t size, os_uint16_t owner);
void      oh_ff_free(struct heap_mem *r, void *p);
os_err_t  oh_ff_resize(struct heap_mem *r, void *p, os_size_t size);
os_err_t  oh_ff_query(const struct heap_mem *r, const void *p, struct os_mem_blk *b);
os_err_t  oh_ff_walk(const struct heap_mem *r, const void *from, os_mem_walk_fn fn, void *arg);
os_err_t  oh_ff_check(const struct heap_mem *r, os_size_t *used);
void      oh_ff_free_info(const struct heap_mem *r, os_size_t *blocks, os_size_t *largest);

#define OH_ALG_INIT(ops, r)             ((void)(ops), oh_ff_init(r))
#define OH_RAW_ALLOC(r, s, o)           oh_ff_alloc(r, s, o)
#define OH_RAW_ALIGNED_ALLOC(r, a, s, o) oh_ff_aligned_alloc(r, a, s, o)
#define OH_RAW_FREE(r, p)               oh_ff_free(r, p)
#define OH_RAW_RESIZE(r, p, s)          oh_ff_resize(r, p, s)
#define OH_RAW_QUERY(r, p, b)           oh_ff_query(r, p, b)
#define OH_RAW_WALK(r, from, fn, arg)   oh_ff_walk(r, from, fn, arg)
#define OH_RAW_CHECK(r, u)              oh_ff_check(r, u)
#else
#define OH_ALG_INIT(ops, r)             ((ops)->init(r))
#define OH_RAW_ALLOC(r, s, o)           ((r)->ops->alloc(r, s, o))
#define OH_RAW_ALIGNED_ALLOC(r, a, s, o) ((r)->ops->aligned_alloc(r, a, s, o))
#define OH_RAW_FREE(r, p)               ((r)->ops->free(r, p))
#define OH_RAW_RESIZE(r, p, s)          ((r)->ops->resize(r, p, s))
#define OH_RAW_QUERY(r, p, b)           ((r)->ops->query(r, p, b))
#define OH_RAW_WALK(r, from, fn, arg)   ((r)->ops->walk(r, from, fn, arg))
#define OH_RAW_CHECK(r, u)              ((r)->ops->check(r, u))
#endif

/*
 * Freed-block pattern (OS_MEM_HARDENING >= 3). Invariant: every byte of a
 * free block from OH_FILL_SKIP bytes after its start to OH_FILL_FOOT bytes
 * before its end holds OH_FILL (the first bytes hold its header and links:
 * at most 24 bytes with first-fit, OS_MEM_ALIGN_SIZE + 8 with buddy, whose
 * header of OS_MEM_ALIGN_SIZE bytes ends at the payload and whose links
 * start it; the last ones first-fit's footer,
 * or the trailer that a buddy aligned block gets as it is handed out: at
 * most 5 bytes).
 * tail.c fills a block as it is freed and verifies the pattern when the
 * memory is handed out again. An algorithm keeps the invariant where it
 * makes the inside of a free block out of something else: OH_SCRUB_HEAD on
 * the start of a block merged into the block on its left (its header and
 * links, and the left block's last bytes), OH_SCRUB_FROM on the bytes a
 * shrinking realloc gives back and on a new region's free blocks. A realloc
 * that grows a block in place over the free block [start, end) verifies
 * that block first: OH_FILL_TAKEN (tail.c reports a changed byte).
 */
#if OS_MEM_HARDENING >= 3
/* Even: a header overwritten with it says "free" (first-fit's used bit is bit 0
 * of its first word; no buddy tag matches it), never a live block whose check
 * might match by chance. */
#define OH_FILL         0xDAu
#define OH_FILL_SKIP    (OS_MEM_ALIGN_SIZE + 8u > 32u ? OS_MEM_ALIGN_SIZE + 8u : 32u)
#define OH_FILL_FOOT    8u
/* The block of `bytes` bytes at `start` now lies inside a free block that starts before it. */
#define OH_SCRUB_HEAD(start, bytes) \
    memset((start) - OH_FILL_FOOT, (int)OH_FILL, \
           OH_FILL_FOOT + ((bytes) < OH_FILL_SKIP ? (os_size_t)(bytes) : (os_size_t)OH_FILL_SKIP))
/* The free block [start, end) gets the pattern between its first OH_FILL_SKIP and last OH_FILL_FOOT bytes. */
#define OH_SCRUB_FROM(start, end) \
    ((os_size_t)((end) - (start)) > OH_FILL_SKIP + OH_FILL_FOOT \
         ? (void)memset((start) + OH_FILL_SKIP, (int)OH_FILL, \
                        (os_size_t)((end) - (start)) - OH_FILL_SKIP - OH_FILL_FOOT) \
         : (void)0)
void oh_fill_taken(const struct heap_mem *r, const os_uint8_t *start, const os_uint8_t *end);
#define OH_FILL_TAKEN(r, start, end) oh_fill_taken(r, start, end)
#elif OS_MEM_HARDENING >= 2
/*
 * Level 2 (tail): the header of a block merged into the block on its left
 * is cleared, so that no stale header is left behind for a list head or a
 * last-block index that a stray write set back to an earlier value
 * (region.h, sealed control data).
 */
#define OH_SCRUB_HEAD(start, bytes) OH_WIPE_HEAD(start, bytes)
#define OH_SCRUB_FROM(start, end)   ((void)0)
#define OH_FILL_TAKEN(r, start, end) ((void)0)
#else
#define OH_SCRUB_HEAD(start, bytes) ((void)0)
#define OH_SCRUB_FROM(start, end)   ((void)0)
#define OH_FILL_TAKEN(r, start, end) ((void)0)
#endif
/*
 * Levels 2 and 3: clear the header of the block of `bytes` bytes at start,
 * which became the inside of another block (both algorithms keep a block's
 * header within its first OH_HEAD_BYTES).
 */
#if OS_MEM_HARDENING >= 2
#define OH_HEAD_BYTES   (OS_MEM_ALIGN_SIZE > 16 ? (os_size_t)OS_MEM_ALIGN_SIZE : (os_size_t)16)
#define OH_WIPE_HEAD(start, bytes) \
    memset((start), 0, (os_size_t)(bytes) < OH_HEAD_BYTES ? (os_size_t)(bytes) : OH_HEAD_BYTES)
#else
#define OH_WIPE_HEAD(start, bytes) ((void)0)
#endif

/*
 * Tail canaries (OS_MEM_HARDENING >= 2, tail.c) sit between the core and
 * every algorithm: each block gets OH_TAIL_BYTES more, a canary right after
 * the requested bytes and the requested size at the end of the block; the
 * usable size the core sees is the requested size. Otherwise the core calls
 * the algorithm directly.
 */
#if OS_MEM_HARDENING >= 2
#define OH_TAIL_BYTES   (4u + (os_size_t)sizeof(os_size_t))     /* canary, requested size */
#else
#define OH_TAIL_BYTES   0u
#endif
/* The request an algorithm's init must be able to serve: "one minimal block" (a 1-byte alloc). */
#define OH_MIN_REQUEST  (1u + OH_TAIL_BYTES)

#if OS_MEM_HARDENING >= 2
void    *oh_tail_alloc(struct heap_mem *r, os_size_t size, os_uint16_t owner);
void    *oh_tail_aligned_alloc(struct heap_mem *r, os_size_t align, os_size_t size, os_uint16_t owner);
void     oh_tail_free(struct heap_mem *r, void *p);
os_err_t oh_tail_resize(struct heap_mem *r, void *p, os_size_t size);
os_err_t oh_tail_query(const struct heap_mem *r, const void *p, struct os_mem_blk *b);
os_err_t oh_tail_walk(const struct heap_mem *r, const void *from, os_mem_walk_fn fn, void *arg);
os_err_t oh_tail_check(const struct heap_mem *r, os_size_t *used);

#define OH_ALG_ALLOC(r, s, o)           oh_tail_alloc(r, s, o)
#define OH_ALG_ALIGNED_ALLOC(r, a, s, o) oh_tail_aligned_alloc(r, a, s, o)
#define OH_ALG_FREE(r, p)               oh_tail_free(r, p)
#define OH_ALG_RESIZE(r, p, s)          oh_tail_resize(r, p, s)
#define OH_ALG_QUERY(r, p, b)           oh_tail_query(r, p, b)
#define OH_ALG_WALK(r, from, fn, arg)   oh_tail_walk(r, from, fn, arg)
#define OH_ALG_CHECK(r, u)              oh_tail_check(r, u)
#else
#define OH_ALG_ALLOC                    OH_RAW_ALLOC
#define OH_ALG_ALIGNED_ALLOC            OH_RAW_ALIGNED_ALLOC
#define OH_ALG_FREE                     OH_RAW_FREE
#define OH_ALG_RESIZE                   OH_RAW_RESIZE
#define OH_ALG_QUERY                    OH_RAW_QUERY
#define OH_ALG_WALK                     OH_RAW_WALK
#define OH_ALG_CHECK                    OH_RAW_CHECK
#endif

#endif /* ONEHEAP_ALG_H */
