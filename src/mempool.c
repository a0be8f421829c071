/*
 * mempool.c - fixed-size memory pools (os_mp_*, see os_mempool.h).
 *
 * A pool is an array of blocks of one stride. Blocks are handed out from a
 * LIFO free list linked through their first word; blocks never handed out
 * are carved in address order once the list is empty, so init
 * is O(1) and alloc and free are O(1) in the worst case.
 *
 * Locking: the pools lock (below) guards the global list of pools; a pool's
 * own lock guards everything else in it. A path that needs both takes the
 * pools lock first. alloc without waiting and free take only the pool lock,
 * which is all an interrupt handler may do.
 *
 * Waiting: a blocked allocation is a struct os_mp_waiter on the waiting
 * thread's stack, queued FIFO in the pool. free hands its block to the head
 * of the queue under the pool lock and wakes it (os_port_wake, also under
 * the lock); the woken thread takes the pool lock once more before it
 * finishes its record, so a wake never touches a finished record. deinit
 * cancels every queued record and waits until the last one has left.
 */
#include "oh_string.h"

#include <os_mempool.h>
#include "report.h"
#include "fmt.h"
#include "port.h"
#include "region.h"

#define MP_STATIC       0u
#define MP_DYNAMIC      1u

#define MP_UBASE_BITS   ((unsigned)(sizeof(os_ubase_t) * 8u))
#define MP_ROUND(x)     (((x) + (os_size_t)OS_MEM_ALIGN_SIZE - 1u) & ~((os_size_t)OS_MEM_ALIGN_SIZE - 1u))

/*
 * The tag: every word of the OS_MEM_ALIGN_SIZE-byte header in front of each
 * block, so the first byte an overrun of the block before it writes is
 * part of it. Its value is the block's address ^ the pool's address ^ one
 * of three state constants, so a tag copied from another block or another
 * pool does not pass, and "used", "free" and "smashed" are told apart in
 * O(1) (OS_MEM_ALIGN_SIZE / sizeof(os_ubase_t) words: one or two at the
 * default alignment). The block after the last one handed out is tagged
 * "new" as the one before it is carved (init writes no tag, to stay O(1)),
 * so an overrun of the last block handed out is found when its neighbour
 * is carved, or by check, rather than overwritten unseen.
 */
#ifdef OS_USING_MP_CHECK_TAG
#define MP_HDR          ((os_size_t)OS_MEM_ALIGN_SIZE)
#define MP_TAG_WORDS    (MP_HDR / sizeof(os_ubase_t))
#define MP_TAG_USED     ((os_ubase_t)0x5CA1AB1Eu)
#define MP_TAG_FREE     ((os_ubase_t)0xF7EEB10Cu)
#define MP_TAG_NEW      ((os_ubase_t)0x0E3BB1A5u)

static inline os_ubase_t *tag_at(void *block)
{
    return (os_ubase_t *)block - MP_TAG_WORDS;
}

static inline os_ubase_t tag_value(const os_mp_t *mp, const void *block, os_ubase_t state)
{
    return (os_ubase_t)block ^ (os_ubase_t)mp ^ state;
}

static inline void tag_set(const os_mp_t *mp, void *block, os_ubase_t state)
{
    os_ubase_t *t = tag_at(block), v = tag_value(mp, block, state);
    os_size_t i;

    for (i = 0; i < MP_TAG_WORDS; i++)
    {
        t[i] = v;
    }
}

static inline int tag_is(const os_mp_t *mp, void *block, os_ubase_t state)
{
    const os_ubase_t *t = tag_at(block);
    os_ubase_t v = tag_value(mp, block, state);
    os_size_t i;

    for (i = 0; i < MP_TAG_WORDS; i++)
    {
        if (t[i] != v)
        {
            return 0;
        }
    }
    return 1;
}
#else
#define MP_HDR          ((os_size_t)0)
#endif

/*
 * A blocked allocation. Lives on the waiting thread's stack; linked in the
 * pool's FIFO (prev/next) while result is MP_WAITING. free or deinit unlink
 * it, set block and result, then wake it, all under the pool lock.
 */
#define MP_WAITING      ((os_err_t)-1)

struct os_mp_waiter
{
    struct os_mp_waiter *next;
    struct os_mp_waiter *prev;
    void                *block;     /* the block handed over when result is OS_EOK */
    os_err_t             result;    /* MP_WAITING, then OS_EOK or OS_EINTR */
    struct os_port_wait  ev;
};

/*
 * The global list of pools, for the trace and the overlap rule. Every walk
 * takes the pools lock with pools_take(), which first drops the pool
 * objects wiped or overwritten without os_mp_deinit (oh_list_mend()).
 * pools_lost is set for good when that may have dropped a live pool too:
 * its memory could no longer be told from free memory, so from then on
 * pool_in() finds an overlap everywhere: no pool init and no region add
 * succeeds, and a heap block in the span of its heap's pools is not freed
 * (a free could hand a lost pool's memory out again).
 */
static os_ubase_t     pools_lock;
static os_list_node_t pools = { &pools, &pools };
/* Pools whose deinit is under way: their object and memory are still in use until it returns. Pools lock. */
static os_list_node_t closing = { &closing, &closing };
static os_uint8_t     pools_lost;
static const void    *pools_dropped;    /* where pools_take() found the list broken, not reported yet */

#define MP_OF(node) ((os_mp_t *)(void *)((os_uint8_t *)(node) - offsetof(os_mp_t, resource_node)))
#define POOL_LOST   ((const os_mp_t *)(const void *)&pools)    /* pool_in(): a pool may have been lost */

/*
 * Does [lo, hi) overlap the memory (blocks and their headers) or the object
 * of an initialised pool other than self? Returns it, or POOL_LOST after a
 * mend that may have lost a pool. Pools lock held.
 */
static const os_mp_t *pool_in(const os_mp_t *self, const os_uint8_t *lo, const os_uint8_t *hi)
{
    const os_list_node_t *heads[2] = { &pools, &closing }, *n;
    unsigned i;

    if (pools_lost)
    {
        return POOL_LOST;
    }
    for (i = 0; i < 2; i++)
    {
        for (n = heads[i]->next; n != heads[i]; n = n->next)
        {
            const os_mp_t *o = MP_OF(n);

            if (o != self && ((lo < o->end_addr - MP_HDR && o->start_addr - MP_HDR < hi) ||
                              ((const os_uint8_t *)o < hi && (const os_uint8_t *)(o + 1) > lo)))
            {
                return o;
            }
        }
    }
    return OS_NULL;
}

static int pool_node_live(const os_list_node_t *n);

/* Take the pools lock, the list mended first. Callers may hold the global lock: pools_report() reports. O(P). */
static os_ubase_t pools_take(void)
{
    os_ubase_t st = os_port_lock(&pools_lock);
    const os_list_node_t *n = oh_list_mend(&pools, pool_node_live, &pools_lost);

    if (n != OS_NULL && pools_dropped == OS_NULL)
    {
        pools_dropped = n != &pools ? (const void *)MP_OF(n) : (const void *)&pools;
    }
    return st;
}

/* oh_pools_overlap (region.h): a region may not be added over a pool. Global lock held. */
static int pools_overlap(const os_uint8_t *lo, const os_uint8_t *hi, const char **what)
{
    os_ubase_t st = pools_take();
    const os_mp_t *o = pool_in(OS_NULL, lo, hi);

    os_port_unlock(&pools_lock, st);
    if (o != OS_NULL)
    {
        *what = o == POOL_LOST ? "memory a pool lost from the broken list of pools may use" : "a memory pool";
    }
    return o != OS_NULL;
}

/*
 * fast: OS_MP_FAST while the pool is initialised, nobody waits and the port
 * is idle, so the inline paths of os_mempool.h, which test it alone, need
 * neither a lock nor a look at the wait queue; 0 otherwise. mp_refresh
 * sets it after a change of the queue or the port.
 */
static inline int mp_ok(const os_mp_t *mp)
{
    /* read before the lock is taken, and again under it (a deinit may come between) */
    return mp != OS_NULL && __atomic_load_n(&mp->object_inited, __ATOMIC_RELAXED) == OS_MP_INITED;
}

static inline void mp_refresh(os_mp_t *mp)
{
    mp->fast = (os_uint8_t)(mp_ok(mp) && mp->wait_head == OS_NULL && os_port_idle() ? OS_MP_FAST : 0u);
}

static int pool_node_live(const os_list_node_t *n)
{
    return mp_ok(MP_OF(n));
}

/* ---- reports --------------------------------------------------------------- */

/* Report through the one report path, naming the pool. */
static OH_NOINLINE void mp_report(int fault, const os_mp_t *mp, const void *addr, os_err_t code,
                                  const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static void mp_report(int fault, const os_mp_t *mp, const void *addr, os_err_t code,
                      const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    oh_vreport(fault, mp != OS_NULL ? &mp->lock : OS_NULL, "pool", mp != OS_NULL ? mp->name : OS_NULL, addr, code,
               fmt, ap);
    va_end(ap);
}

/* Refuse a call on a bad pool object or from an interrupt; report why. */
static OH_NOINLINE int refuse(const os_mp_t *mp, const char *what)
{
    if (!mp_ok(mp))
    {
        mp_report(0, OS_NULL, mp, OS_EINVAL, "%s on a pool object that is not initialised", what);
    }
    else
    {
        mp_report(0, mp, OS_NULL, OS_EPERM, "%s called from an interrupt handler", what);
    }
    return 1;
}

#define REFUSED(mp, what) (OH_UNLIKELY(!mp_ok(mp) || os_port_in_isr()) && refuse(mp, what))
/* What a refused call returns: OS_EPERM from an interrupt handler (the pool object is sound), else OS_EINVAL. */
#define REFUSAL(mp)       (mp_ok(mp) ? OS_EPERM : OS_EINVAL)

/* Report where pools_take() found the list broken. No lock held (the error hook may call into the heaps). */
static void pools_report(void)
{
    os_ubase_t st = os_port_lock(&pools_lock);
    const void *at = pools_dropped;
    int lost = pools_lost;

    pools_dropped = OS_NULL;
    os_port_unlock(&pools_lock, st);
    if (at != OS_NULL)
    {
        at = at != (const void *)&pools ? at : OS_NULL;
        mp_report(0, OS_NULL, at, OS_ERROR, "list of pools broken at %p (a pool object overwritten without deinit): "
                  "relinked%s", at, lost ? "; pools may be lost with it, so no pool or region can be added, "
                  "and no heap block in its heap's pool span freed" : "");
        (void)lost;     /* the small build's reports do not format */
    }
}

/* ---- blocks ---------------------------------------------------------------- */

/*
 * The index of block in the pool if it is the start of a block, else a
 * number >= blk_total_num; no division. With stride = odd << grid_shift
 * and grid_inv = odd^-1 modulo 2^N (N = bits of os_ubase_t), for
 * off = block - start_addr:
 *     rotate_right(off * grid_inv, grid_shift)
 * is off / stride when stride divides off, and greater than
 * (2^N - 1) / stride >= blk_total_num when it does not (a pointer below
 * start_addr wraps to a huge off and lands in one of the two cases).
 */
OH_INLINE os_ubase_t block_index(const os_mp_t *mp, const void *block)
{
    os_ubase_t q = ((os_ubase_t)block - (os_ubase_t)mp->start_addr) * mp->grid_inv;

    return (q >> mp->grid_shift) | (q << ((MP_UBASE_BITS - mp->grid_shift) & (MP_UBASE_BITS - 1u)));
}

/* Is block the start of a block that has been handed out? O(1). Pool lock held. */
OH_INLINE int mp_handed_out(const os_mp_t *mp, const void *block)
{
    return block_index(mp, block) < mp->blk_carved_num;
}

static inline void *link_of(const void *block)
{
    return *(void *const *)block;
}

static inline void set_link(void *block, void *next)
{
    *(void **)block = next;
}

/* Is the listed block b sound to hand out: tag "free", link inside the pool? */
OH_INLINE int listed_ok(const os_mp_t *mp, void *b)
{
#ifdef OS_USING_MP_CHECK_TAG
    void *next = link_of(b);

    return tag_is(mp, b, MP_TAG_FREE) && (next == OS_NULL || mp_handed_out(mp, next));
#else
    (void)mp;
    (void)b;
    return 1;
#endif
}

/* Is the block to be freed in use (with the tag: its tag; without: is any block in use)? */
OH_INLINE int used_ok(const os_mp_t *mp, void *b)
{
#ifdef OS_USING_MP_CHECK_TAG
    return tag_is(mp, b, MP_TAG_USED);
#else
    (void)b;
    return mp->blk_used_num != 0;   /* none in use: b was given back already */
#endif
}

#ifdef OS_USING_MP_CHECK_TAG
/* Is the tag of the block after the last one handed out still "new" (none before block 0)? Pool lock held. */
static inline int next_new_ok(const os_mp_t *mp)
{
    os_size_t i = mp->blk_carved_num;

    return i == 0 || i >= mp->blk_total_num || tag_is(mp, mp->start_addr + i * mp->stride, MP_TAG_NEW);
}
#endif

/* Take the next never-used block: blk_carved_num < blk_total_num; pool lock held. */
static inline void *carve(os_mp_t *mp)
{
    os_uint8_t *b = mp->start_addr + mp->blk_carved_num * mp->stride;

#ifdef OS_USING_MP_CHECK_TAG
    if (!next_new_ok(mp))
    {
        /* the block before it wrote past its end; b itself is sound (its header is written anew) */
        mp_report(1, mp, b, OS_ERROR, "alloc: the tag of block %p, never handed out, is smashed "
                  "(an overrun of the block before it)", (void *)b);
    }
#endif
    mp->blk_carved_num++;
    mp->blk_used_num++;
#ifdef OS_USING_MP_CHECK_TAG
    tag_set(mp, b, MP_TAG_USED);
    if (mp->blk_carved_num < mp->blk_total_num)
    {
        tag_set(mp, b + mp->stride, MP_TAG_NEW);
    }
#endif
    return b;
}

/* ---- the wait queue (pool lock held) ------------------------------------------ */

static void wait_enqueue(os_mp_t *mp, struct os_mp_waiter *w)
{
    w->next = OS_NULL;
    w->prev = mp->wait_tail;
    if (mp->wait_tail != OS_NULL)
    {
        mp->wait_tail->next = w;
    }
    else
    {
        mp->wait_head = w;
        mp_refresh(mp);
    }
    mp->wait_tail = w;
}

static void wait_unlink(os_mp_t *mp, struct os_mp_waiter *w)
{
    if (w->prev != OS_NULL)
    {
        w->prev->next = w->next;
    }
    else
    {
        mp->wait_head = w->next;
        if (w->next == OS_NULL)
        {
            mp_refresh(mp);
        }
    }
    if (w->next != OS_NULL)
    {
        w->next->prev = w->prev;
    }
    else
    {
        mp->wait_tail = w->prev;
    }
}

/* A woken or timed-out waiter leaves; the last one lets a pending deinit go on. */
static void wait_leave(os_mp_t *mp)
{
    if (--mp->waiters == 0 && mp->deinit_wait != OS_NULL)
    {
        os_port_wake(&mp->deinit_wait->ev);
    }
}

/*
 * Every build keeps fast (check tests it), whether or not the inline paths
 * of os_mempool.h read it.
 */
void oh_mp_idle_changed(void)
{
    os_list_node_t *n;
    os_ubase_t gst = pools_take(), st;

    for (n = pools.next; n != &pools; n = n->next)
    {
        os_mp_t *mp = MP_OF(n);

        st = os_port_lock(&mp->lock);
        mp_refresh(mp);
        os_port_unlock(&mp->lock, st);
    }
    os_port_unlock(&pools_lock, gst);
}

/* ---- init, deinit, create, destroy --------------------------------------------- */

/* A pool about to be registered (mp_register, through oh_claim). */
struct mp_new
{
    os_mp_t        *mp;
    const char     *name;
    os_uint8_t     *base, *first, *end;
    os_size_t       count, usable, stride;
    os_ubase_t      inv;
    unsigned        shift;
    os_uint8_t      alloc_type;
    const os_mp_t  *clash;      /* the pool it would overlap, or mp itself if already initialised */
    os_memheap_t   *host[2];    /* set by oh_claim: the heaps whose blocks hold the memory, the object */
    os_uint32_t     gen[2];     /* and their gen */
};

/* Register the pool unless its memory or object overlaps another pool's memory or object. Global lock held. */
static os_err_t mp_register(void *arg)
{
    struct mp_new *a = arg;
    os_mp_t *mp = a->mp;
    os_ubase_t st = pools_take();

    oh_pools_overlap = pools_overlap;   /* regions and freed blocks are checked against pools from now on */

    if (oh_list_has(&pools, &mp->resource_node) || oh_list_has(&closing, &mp->resource_node))
    {
        os_port_unlock(&pools_lock, st);
        a->clash = mp;      /* initialised, or its deinit is under way */
        return OS_EINVAL;
    }
    a->clash = pool_in(mp, a->base, a->end - MP_HDR);
    if (a->clash == OS_NULL)
    {
        a->clash = pool_in(mp, (const os_uint8_t *)mp, (const os_uint8_t *)(mp + 1));   /* its object */
    }
    if (a->clash != OS_NULL)
    {
        os_port_unlock(&pools_lock, st);
        return OS_EINVAL;
    }
    /* the name first, and kept: it may be the object's own (an init again after deinit) */
    oh_name_copy(mp->name, a->name, OS_NAME_MAX);
    _Static_assert(sizeof(os_mp_t) - offsetof(os_mp_t, name) - sizeof(mp->name) < _Alignof(os_mp_t),
                   "the name is the last member");
    memset(mp, 0, offsetof(os_mp_t, name));
    mp->object_alloc_type = a->alloc_type;
    os_port_lock_init(&mp->lock);
    mp->start_addr = a->first;
    mp->end_addr = a->end;
    mp->blk_total_num = a->count;
    mp->blk_size = a->usable;
    mp->stride = a->stride;
    mp->grid_inv = a->inv;
    mp->grid_shift = a->shift;
    mp->host[0] = a->host[0];
    mp->host[1] = a->host[1];
    mp->host_gen[0] = a->gen[0];
    mp->host_gen[1] = a->gen[1];
    oh_list_append(&pools, &mp->resource_node);
    __atomic_store_n(&mp->object_inited, (os_uint8_t)OS_MP_INITED, __ATOMIC_RELAXED);
    mp_refresh(mp);
    os_port_unlock(&pools_lock, st);
    return OS_EOK;
}

static os_err_t mp_init(os_mp_t *mp, const char *name, void *start, os_size_t size,
                        os_size_t blk_size, os_uint8_t alloc_type)
{
    struct mp_new a;
    const char *what = OS_NULL;
    os_size_t skip, i;
    os_ubase_t odd;
    os_err_t err;

    if (mp == OS_NULL || name == OS_NULL || start == OS_NULL)
    {
        mp_report(0, OS_NULL, mp, OS_EINVAL, "init with a null pool, name or memory");
        return OS_EINVAL;
    }
    if (os_port_in_isr())
    {
        mp_report(0, OS_NULL, mp, OS_EPERM, "init called from an interrupt handler");
        return OS_EPERM;
    }
    if (oh_cb_refused(OS_NULL, mp, "pool init"))
    {
        return OS_EPERM;
    }
    if (blk_size == 0 || blk_size >= OH_MAX_REQUEST || size > OS_SIZE_MAX - (os_size_t)(os_ubase_t)start)
    {
        mp_report(0, OS_NULL, start, OS_EINVAL, "init with block size %zu and memory %p+%zu",
                  blk_size, start, size);
        return OS_EINVAL;
    }
    a.mp = mp;
    a.name = name;
    a.alloc_type = alloc_type;
    a.usable = MP_ROUND(blk_size);
    a.stride = MP_HDR + a.usable;
    a.base = (os_uint8_t *)start;
    skip = (os_size_t)((OS_MEM_ALIGN_SIZE - (os_ubase_t)a.base % OS_MEM_ALIGN_SIZE) % OS_MEM_ALIGN_SIZE);
    a.count = (size > skip) ? (size - skip) / a.stride : 0;
    if (a.count == 0)
    {
        mp_report(0, OS_NULL, start, OS_ENOMEM, "init: %zu bytes at %p hold no block of %zu bytes",
                  size, start, a.stride);
        return OS_ENOMEM;
    }
    a.base += skip;
    a.first = a.base + MP_HDR;
    a.end = a.first + a.count * a.stride;
    if ((os_uint8_t *)mp < a.end - MP_HDR && (os_uint8_t *)(mp + 1) > a.base)
    {
        mp_report(0, OS_NULL, start, OS_EINVAL, "init: memory %p+%zu holds the pool object %p itself",
                  start, size, (void *)mp);
        return OS_EINVAL;
    }

    /* stride = odd << shift; inv = odd^-1 mod 2^N by Newton's iteration */
    a.shift = 0;
    while (((a.stride >> a.shift) & 1u) == 0)
    {
        a.shift++;
    }
    odd = (os_ubase_t)(a.stride >> a.shift);
    a.inv = odd;                        /* right to 3 bits: odd * odd = 1 mod 8 */
    for (i = 0; i < 5; i++)
    {
        a.inv *= (os_ubase_t)2 - odd * a.inv;   /* doubles the correct bits: 6, 12, 24, 48, 96 */
    }

    oh_nest_on();   /* a heap block holding a pool is freed through the nested path */
    a.clash = OS_NULL;
    /* os_mp_create's block (mp is its payload) holds both: found without a walk */
    err = oh_claim(a.base, a.end - MP_HDR, (const os_uint8_t *)mp, (const os_uint8_t *)(mp + 1),
                   alloc_type == MP_DYNAMIC ? mp : OS_NULL, a.host, a.gen, &what, mp_register, &a);
    if (err != OS_EOK)
    {
        if (a.clash == mp)
        {
            mp_report(0, mp, mp, OS_EINVAL, "init of a pool that is already initialised");
        }
        else if (a.clash == POOL_LOST)
        {
            mp_report(0, OS_NULL, start, OS_EINVAL, "init: memory %p+%zu refused: a pool may have been lost "
                      "from the broken list of pools", start, size);
        }
        else if (a.clash != OS_NULL)
        {
            mp_report(0, OS_NULL, start, OS_EINVAL, "init: memory %p+%zu overlaps pool '%s'",
                      start, size, a.clash->name);
        }
        else
        {
            mp_report(0, OS_NULL, start, OS_EINVAL, "init: memory %p+%zu or object %p overlaps %s", start, size,
                      (void *)mp, what);
        }
        (void)what;     /* the small build's reports do not name it */
    }
    pools_report();
    return err;
}

os_err_t os_mp_init(os_mp_t *mp, const char *name, void *start, os_size_t size, os_size_t blk_size)
{
    return mp_init(mp, name, start, size, blk_size, MP_STATIC);
}

/* The end of a deinit: the object and memory are no longer used; its host heaps may free them now. */
static void closed(os_mp_t *mp, os_memheap_t *host[2], const os_uint32_t gen[2])
{
    os_ubase_t st = os_port_lock(&pools_lock);

    oh_list_cut(&closing, &mp->resource_node);
    os_port_unlock(&pools_lock, st);
    oh_unclaim(host, gen);
}

os_err_t os_mp_deinit(os_mp_t *mp)
{
    struct os_mp_waiter self, *w;
    os_memheap_t *host[2];
    os_uint32_t gen[2];
    os_ubase_t gst, st;

    if (REFUSED(mp, "deinit"))
    {
        return REFUSAL(mp);
    }
    if (oh_cb_refused(OS_NULL, mp, "pool deinit"))
    {
        return OS_EPERM;
    }
    gst = pools_take();
    st = os_port_lock(&mp->lock);
    if (!mp_ok(mp))
    {
        /* another deinit got there first */
        os_port_unlock(&mp->lock, st);
        os_port_unlock(&pools_lock, gst);
        pools_report();
        mp_report(0, OS_NULL, mp, OS_EINVAL, "deinit on a pool object that is not initialised");
        return OS_EINVAL;
    }
    oh_list_cut(&pools, &mp->resource_node);
    /* Until deinit returns, the object and memory still count as a pool's
     * (a host heap refuses to free a block that holds them, no pool or
     * region may be made over them): waiters are still to be woken. */
    oh_list_append(&closing, &mp->resource_node);
    __atomic_store_n(&mp->object_inited, (os_uint8_t)0, __ATOMIC_RELAXED);
    mp->fast = 0;
    /* A call that passed its check before this deinit and takes the lock
     * after it finds no listed and no handed-out block: both go to their
     * slow paths, which test the pool again under the lock. */
    mp->free_list = OS_NULL;
    mp->blk_carved_num = 0;
    host[0] = mp->host[0];
    host[1] = mp->host[1];
    gen[0] = mp->host_gen[0];
    gen[1] = mp->host_gen[1];
    /* Locks are released in the reverse order (an interrupt-mask lock restores what it saved). */
    os_port_unlock(&mp->lock, st);
    os_port_unlock(&pools_lock, gst);
    pools_report();

    /* A waiter that times out meanwhile leaves as it would have before. */
    st = os_port_lock(&mp->lock);
    while ((w = mp->wait_head) != OS_NULL)
    {
        wait_unlink(mp, w);
        w->result = OS_EINTR;
        os_port_wake(&w->ev);
    }
    /* Records still in the pool (woken, not yet gone) need the pool object. */
    if (mp->waiters != 0)
    {
        if (os_port_wait_init(&self.ev) == 0)
        {
            mp->deinit_wait = &self;
            os_port_unlock(&mp->lock, st);
            (void)os_port_wait(&self.ev, OS_WAIT_FOREVER);
            st = os_port_lock(&mp->lock);   /* the last waiter's wake has returned */
            mp->deinit_wait = OS_NULL;
            os_port_unlock(&mp->lock, st);
            os_port_wait_fini(&self.ev);
            closed(mp, host, gen);
            return OS_EOK;
        }
        while (mp->waiters != 0)
        {
            /* this thread cannot block: let the waiters run */
            os_port_unlock(&mp->lock, st);
            st = os_port_lock(&mp->lock);
        }
    }
    os_port_unlock(&mp->lock, st);
    closed(mp, host, gen);
    return OS_EOK;
}

#ifdef OS_USING_SYS_HEAP
os_mp_t *os_mp_create(const char *name, os_size_t blk_count, os_size_t blk_size)
{
    os_size_t obj = MP_ROUND(sizeof(os_mp_t));
    os_size_t stride;
    os_mp_t *mp;

    if (name == OS_NULL || blk_count == 0 || blk_size == 0 || blk_size >= OH_MAX_REQUEST)
    {
        mp_report(0, OS_NULL, OS_NULL, OS_EINVAL, "create with %zu blocks of %zu bytes%s",
                  blk_count, blk_size, name == OS_NULL ? " and a null name" : "");
        return OS_NULL;
    }
    stride = MP_HDR + MP_ROUND(blk_size);
    if (blk_count > (OH_MAX_REQUEST - obj) / stride)
    {
        mp_report(0, OS_NULL, OS_NULL, OS_EINVAL, "create: %zu blocks of %zu bytes is too large",
                  blk_count, blk_size);
        return OS_NULL;
    }
    if (oh_cb_refused(OS_NULL, OS_NULL, "pool create"))
    {
        return OS_NULL;
    }
    mp = os_malloc(obj + blk_count * stride);
    if (mp == OS_NULL)
    {
        return OS_NULL;
    }
    if (mp_init(mp, name, (os_uint8_t *)mp + obj, blk_count * stride, blk_size, MP_DYNAMIC) != OS_EOK)
    {
        os_free(mp);
        return OS_NULL;
    }
    return mp;
}

os_err_t os_mp_destroy(os_mp_t *mp)
{
    os_err_t err;

    if (REFUSED(mp, "destroy"))
    {
        return REFUSAL(mp);
    }
    if (oh_cb_refused(OS_NULL, mp, "pool destroy"))
    {
        return OS_EPERM;
    }
    if (mp->object_alloc_type != MP_DYNAMIC)
    {
        mp_report(0, mp, mp, OS_EINVAL, "destroy of a pool made by os_mp_init (use os_mp_deinit)");
        return OS_EINVAL;
    }
    err = os_mp_deinit(mp);
    if (err == OS_EOK)
    {
        os_free(mp);
    }
    return err;
}
#endif

/* ---- alloc and free ------------------------------------------------------------ */

static OH_NOINLINE void *alloc_refused(os_mp_t *mp, os_tick_t timeout, os_err_t *err)
{
    os_err_t e;

    if (!mp_ok(mp))
    {
        mp_report(0, OS_NULL, mp, OS_EINVAL, "alloc on a pool object that is not initialised");
        e = OS_EINVAL;
    }
    else if (timeout < OS_WAIT_FOREVER)
    {
        mp_report(0, mp, OS_NULL, OS_EINVAL, "alloc with timeout %d", (int)timeout);
        e = OS_EINVAL;
    }
    else
    {
        mp_report(0, mp, OS_NULL, OS_EPERM, "blocking alloc called from an interrupt handler");
        e = OS_EPERM;
    }
    if (err != OS_NULL)
    {
        *err = e;
    }
    return OS_NULL;
}

/*
 * Everything but "pop a sound block from the free list": a damaged listed
 * block (tag builds), carving a fresh block, an empty pool, waiting.
 * Entered with the pool lock held (state st); returns with it released.
 */
static OH_NOINLINE void *alloc_slow(os_mp_t *mp, os_tick_t timeout, os_ubase_t st, os_err_t *err)
{
    struct os_mp_waiter w;
    void *b = OS_NULL;
    os_err_t e = OS_ENOMEM;

    if (OH_UNLIKELY(!mp_ok(mp)))
    {
        /* deinitialised (by another task) after the caller's check */
        os_port_unlock(&mp->lock, st);
        return alloc_refused(mp, timeout, err);
    }
    if (mp->free_list != OS_NULL)
    {
        /* only a tag build gets here with a listed block: it is damaged and
         * stays listed (never followed); a block never handed out may serve */
        mp_report(1, mp, mp->free_list, OS_ERROR, "alloc: free block %p has a smashed tag or link", mp->free_list);
        e = OS_ERROR;
    }
    if (mp->blk_carved_num < mp->blk_total_num)
    {
        b = carve(mp);
        e = OS_EOK;
    }
    else if (e != OS_ERROR && timeout != OS_NO_WAIT && os_port_wait_init(&w.ev) == 0)
    {
        w.block = OS_NULL;
        w.result = MP_WAITING;
        wait_enqueue(mp, &w);
        mp->waiters++;
        os_port_unlock(&mp->lock, st);

        (void)os_port_wait(&w.ev, timeout);

        st = os_port_lock(&mp->lock);
        if (w.result == MP_WAITING)
        {
            wait_unlink(mp, &w);
            e = OS_ETIMEOUT;
        }
        else
        {
            b = w.block;
            e = w.result;
        }
        wait_leave(mp);
        os_port_unlock(&mp->lock, st);
        os_port_wait_fini(&w.ev);
        if (err != OS_NULL)
        {
            *err = e;
        }
        return b;
    }
    os_port_unlock(&mp->lock, st);
    if (err != OS_NULL)
    {
        *err = e;
    }
    return b;
}

/* Take a block; the pool and the call have been checked. O(1) plus a wait. */
/*
 * The pool lock, unless the port is idle (os_port_idle: no lock hooks, so
 * nothing to take). `lock` is a constant at every call, so the idle fast
 * paths are compiled without the lock calls. The slow paths always call
 * os_port_unlock, which does nothing on an idle port.
 */
OH_INLINE os_ubase_t mp_lock(os_mp_t *mp, int lock)
{
    return lock ? os_port_lock(&mp->lock) : 0;
}

OH_INLINE void mp_unlock(os_mp_t *mp, os_ubase_t st, int lock)
{
    if (lock)
    {
        os_port_unlock(&mp->lock, st);
    }
}

OH_INLINE void *alloc_take(os_mp_t *mp, os_tick_t timeout, os_err_t *err, int lock)
{
    os_ubase_t st = mp_lock(mp, lock);
    void *b = mp->free_list;

    if (OH_UNLIKELY(b == OS_NULL) || OH_UNLIKELY(!listed_ok(mp, b)))
    {
        return alloc_slow(mp, timeout, st, err);
    }
    mp->free_list = link_of(b);
#ifdef OS_USING_MP_CHECK_TAG
    tag_set(mp, b, MP_TAG_USED);
#endif
    mp->blk_used_num++;
    mp_unlock(mp, st, lock);
    if (err != OS_NULL)
    {
        *err = OS_EOK;
    }
    return b;
}

/* The checks for any pool and timeout, then alloc_take. */
static OH_NOINLINE void *alloc_checked(os_mp_t *mp, os_tick_t timeout, os_err_t *err)
{
    if (!mp_ok(mp) || (timeout != OS_NO_WAIT && (timeout < OS_WAIT_FOREVER || os_port_in_isr())))
    {
        return alloc_refused(mp, timeout, err);
    }
    return alloc_take(mp, timeout, err, 1);
}

/* Out of line, so that the idle fast path of os_mp_alloc needs no stack frame. */
static OH_NOINLINE void *alloc_locked(os_mp_t *mp)
{
    return alloc_take(mp, OS_NO_WAIT, OS_NULL, 1);
}

void *(os_mp_alloc)(os_mp_t *mp, os_tick_t timeout)
{
    /* the fast path: a sound pool, OS_NO_WAIT */
    if (OH_UNLIKELY(timeout != OS_NO_WAIT) || OH_UNLIKELY(!mp_ok(mp)))
    {
        return alloc_checked(mp, timeout, OS_NULL);
    }
    if (os_port_idle())
    {
        return alloc_take(mp, OS_NO_WAIT, OS_NULL, 0);
    }
    return alloc_locked(mp);
}

void *os_mp_alloc_ex(os_mp_t *mp, os_tick_t timeout, os_err_t *err)
{
    return alloc_checked(mp, timeout, err);
}

/*
 * Everything but "push onto the free list": a bad pointer, a bad tag, or a
 * waiter to hand the block to. Pool lock held (state st); released here.
 */
static OH_NOINLINE void free_slow(os_mp_t *mp, void *block, os_ubase_t st)
{
    struct os_mp_waiter *w;

    if (!mp_handed_out(mp, block))
    {
        int dead = !mp_ok(mp);      /* deinitialised after the caller's check: no block is handed out */

        os_port_unlock(&mp->lock, st);
        if (block == OS_NULL)
        {
            return;     /* free(OS_NULL) is a no-op */
        }
        if (dead)
        {
            mp_report(0, OS_NULL, mp, OS_EINVAL, "free on a pool object that is not initialised");
            return;
        }
        mp_report(1, mp, block, OS_EINVAL, "free of %p, which is not a block of this pool in use", block);
        return;
    }
    if (!used_ok(mp, block))
    {
#ifdef OS_USING_MP_CHECK_TAG
        int twice = tag_is(mp, block, MP_TAG_FREE);
#else
        int twice = 1;      /* no block is in use */
#endif
        os_port_unlock(&mp->lock, st);
        mp_report(1, mp, block, OS_EINVAL, twice ? "double free of block %p" : "free of block %p: its tag is smashed",
                  block);
        return;
    }
    /* Hand the block straight to the oldest waiter: it stays in use. */
    w = mp->wait_head;
    wait_unlink(mp, w);
    w->block = block;
    w->result = OS_EOK;
    os_port_wake(&w->ev);
    os_port_unlock(&mp->lock, st);
}

OH_INLINE void free_put(os_mp_t *mp, void *block, int lock)
{
    os_ubase_t st = mp_lock(mp, lock);

    if (OH_UNLIKELY(!mp_handed_out(mp, block)) || OH_UNLIKELY(!used_ok(mp, block)) ||
        OH_UNLIKELY(mp->wait_head != OS_NULL))
    {
        free_slow(mp, block, st);
        return;
    }
#ifdef OS_USING_MP_CHECK_TAG
    tag_set(mp, block, MP_TAG_FREE);
#endif
    set_link(block, mp->free_list);
    mp->free_list = block;
    mp->blk_used_num--;
    mp_unlock(mp, st, lock);
}

static OH_NOINLINE void free_locked(os_mp_t *mp, void *block)
{
    free_put(mp, block, 1);
}

void (os_mp_free)(os_mp_t *mp, void *block)
{
    if (OH_UNLIKELY(!mp_ok(mp)))
    {
        if (block != OS_NULL)
        {
            (void)refuse(mp, "free");
        }
        return;
    }
    if (os_port_idle())
    {
        free_put(mp, block, 0);
        return;
    }
    free_locked(mp, block);
}

/* ---- diagnostics ----------------------------------------------------------------- */

os_err_t os_mp_info(os_mp_t *mp, os_mpinfo_t *info)
{
    os_ubase_t st;

    if (info == OS_NULL || !mp_ok(mp))
    {
        if (info != OS_NULL)
        {
            memset(info, 0, sizeof(*info));
        }
        mp_report(0, mp_ok(mp) ? mp : OS_NULL, mp, OS_EINVAL, "info with a null info or a pool object that is not initialised");
        return OS_EINVAL;
    }
    st = os_port_lock(&mp->lock);
    info->blk_size = mp->blk_size;
    info->blk_total_num = mp->blk_total_num;
    info->blk_free_num = mp->blk_total_num - mp->blk_used_num;
    info->blk_maxused_num = mp->blk_carved_num;
    info->waiting_num = mp->waiters;
    os_port_unlock(&mp->lock, st);
    return OS_EOK;
}

/* The check proper; pool lock held. Reports the first fault found. */
static os_err_t mp_check_locked(os_mp_t *mp)
{
    os_ubase_t span = (os_ubase_t)mp->end_addr - (os_ubase_t)mp->start_addr;
    os_size_t carved = mp->blk_carved_num, listed, i;
    const struct os_mp_waiter *w, *prev;
    void *b;

    if (mp->stride == 0 || span != (os_ubase_t)mp->blk_total_num * mp->stride ||
        (os_ubase_t)mp->start_addr % OS_MEM_ALIGN_SIZE != 0 || mp->stride % OS_MEM_ALIGN_SIZE != 0 ||
        block_index(mp, mp->start_addr + mp->stride) != 1u || carved > mp->blk_total_num)
    {
        mp_report(1, mp, mp->start_addr, OS_ERROR, "check: pool bounds %p..%p (stride %zu, %zu blocks handed out) are damaged",
                  (void *)mp->start_addr, (void *)mp->end_addr, mp->stride, carved);
        return OS_ERROR;
    }
    if (mp->blk_used_num > carved)
    {
        mp_report(1, mp, OS_NULL, OS_ERROR, "check: counters say %zu blocks used of %zu handed out",
                  mp->blk_used_num, carved);
        return OS_ERROR;
    }
    listed = carved - mp->blk_used_num;
    b = mp->free_list;
    for (i = 0; i < listed; i++)
    {
        if (b == OS_NULL || !mp_handed_out(mp, b))
        {
            mp_report(1, mp, b, OS_ERROR, "check: free list entry %zu of %zu is %p, not a block of the pool",
                      i, listed, b);
            return OS_ERROR;
        }
#ifdef OS_USING_MP_CHECK_TAG
        if (!tag_is(mp, b, MP_TAG_FREE))
        {
            mp_report(1, mp, b, OS_ERROR, "check: free block %p has a smashed tag", b);
            return OS_ERROR;
        }
#endif
        b = link_of(b);
    }
    if (b != OS_NULL)
    {
        mp_report(1, mp, b, OS_ERROR, "check: free list is longer than %zu blocks (a double free?)", listed);
        return OS_ERROR;
    }
#ifdef OS_USING_MP_CHECK_TAG
    {
        os_uint8_t *p;
        os_size_t nfree = 0;

        for (p = mp->start_addr, i = 0; i < carved; p += mp->stride, i++)
        {
            if (tag_is(mp, p, MP_TAG_FREE))
            {
                nfree++;
            }
            else if (!tag_is(mp, p, MP_TAG_USED))
            {
                mp_report(1, mp, p, OS_ERROR, "check: block %p has a smashed tag", (void *)p);
                return OS_ERROR;
            }
        }
        if (nfree != listed)
        {
            mp_report(1, mp, OS_NULL, OS_ERROR, "check: %zu blocks tagged free, %zu listed", nfree, listed);
            return OS_ERROR;
        }
        if (!next_new_ok(mp))
        {
            mp_report(1, mp, p, OS_ERROR, "check: block %p, never handed out, has a smashed tag", (void *)p);
            return OS_ERROR;
        }
    }
#endif
    if (mp->wait_head != OS_NULL && (mp->free_list != OS_NULL || carved != mp->blk_total_num))
    {
        mp_report(1, mp, OS_NULL, OS_ERROR, "check: allocations wait while blocks are free");
        return OS_ERROR;
    }
    prev = OS_NULL;
    w = mp->wait_head;
    for (i = 0; w != OS_NULL && i < mp->waiters; i++)
    {
        if (w->prev != prev)
        {
            break;
        }
        prev = w;
        w = w->next;
    }
    if (w != OS_NULL || prev != mp->wait_tail || (mp->fast == OS_MP_FAST) != (prev == OS_NULL && os_port_idle()))
    {
        mp_report(1, mp, OS_NULL, OS_ERROR, "check: the queue of waiting allocations is damaged");
        return OS_ERROR;
    }
    return OS_EOK;
}

os_err_t os_mp_check(os_mp_t *mp)
{
    os_ubase_t st;
    os_err_t err;

    if (REFUSED(mp, "check"))
    {
        return REFUSAL(mp);
    }
    st = os_port_lock(&mp->lock);
    err = mp_check_locked(mp);
    os_port_unlock(&mp->lock, st);
    return err;
}

/*
 * os_mp_trace copies MP_TRACE_BATCH lines at a time under the pools' lock
 * and prints them after releasing it (pools found by their place in the
 * list: one made or taken away meanwhile may shift the listing by one).
 */
#define MP_TRACE_BATCH 8u

os_err_t os_mp_trace(void)
{
    struct
    {
        char      name[OS_NAME_MAX + 1];
        os_size_t blk, total, used, peak;
    } line[MP_TRACE_BATCH];
    os_size_t skip = 0;
    unsigned n, i;

    if (os_port_in_isr())
    {
        mp_report(0, OS_NULL, OS_NULL, OS_EPERM, "trace called from an interrupt handler");
        return OS_EPERM;
    }
    oh_print("%-16s %10s %10s %10s %10s\n", "mempool", "block", "total", "free", "peak");
    do
    {
        os_ubase_t gst = pools_take();
        os_list_node_t *nd = pools.next;

        for (i = 0; i < skip && nd != &pools; i++)
        {
            nd = nd->next;
        }
        for (n = 0; n < MP_TRACE_BATCH && nd != &pools; n++, nd = nd->next)
        {
            os_mp_t *mp = MP_OF(nd);
            os_ubase_t st = os_port_lock(&mp->lock);

            memcpy(line[n].name, mp->name, sizeof line[n].name);
            line[n].blk = mp->blk_size;
            line[n].total = mp->blk_total_num;
            line[n].used = mp->blk_used_num;
            line[n].peak = mp->blk_carved_num;
            os_port_unlock(&mp->lock, st);
        }
        os_port_unlock(&pools_lock, gst);
        for (i = 0; i < n; i++)
        {
            oh_print("%-16s %10zu %10zu %10zu %10zu\n", line[i].name, line[i].blk, line[i].total,
                     line[i].total - line[i].used, line[i].peak);
        }
        skip += n;
    } while (n == MP_TRACE_BATCH);
    pools_report();
    return OS_EOK;
}
