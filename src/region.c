/*
 * region.c - the region table; see region.h.
 */
#include "oh_string.h"

#include "region.h"
#include "report.h"
#include "shadow.h"
#include "port.h"
#ifdef OS_USING_MEM_POOL
#include <os_mempool.h>     /* oh_mp_idle_changed */
#endif

/* The registry: one entry per algorithm, in the order of enum os_mem_alg. */
static const struct os_mem_ops *const registry[] = {
#ifdef OS_USING_ALG_FIRSTFIT
    &oh_firstfit_ops,
#endif
#ifdef OS_USING_ALG_BUDDY
    &oh_buddy_ops,
#endif
};

#define REGISTRY_SIZE (sizeof(registry) / sizeof(registry[0]))

/* Is ops an algorithm of the registry? O(algorithms). */
static int ops_known(const struct os_mem_ops *ops)
{
    unsigned a;

    for (a = 0; a < REGISTRY_SIZE && registry[a] != ops; a++)
    {
    }
    return a < REGISTRY_SIZE;
}

#if OS_MEM_HARDENING >= 2
#define SEAL_MUL    ((os_ubase_t)0x9E3779B97F4A7C15ull)    /* odd: each step is one-to-one */
#define SEAL_ADD(h, x) ((h) = ((h) ^ (os_ubase_t)(x)) * SEAL_MUL)

/*
 * The seal of r: its address, the fields next to total, then the words of
 * the algorithm's fixed part (r->ops known). Each step (h ^ x) * odd is
 * one-to-one in h and in x, so a change of any single word always changes
 * the seal; only changes of two or more words can cancel out.
 */
static os_ubase_t seal_of(const struct heap_mem *r)
{
    const os_uint8_t *fixed = (const os_uint8_t *)OH_REGION_DATA(r);
    os_size_t i, n = r->ops->fixed;
    os_ubase_t h = (os_ubase_t)r, w;

    SEAL_ADD(h, r->next);
    SEAL_ADD(h, r->ops);
    SEAL_ADD(h, r->start);
    SEAL_ADD(h, r->end);
    SEAL_ADD(h, r->heap);
    SEAL_ADD(h, r->host);
    SEAL_ADD(h, r->host_next);
    SEAL_ADD(h, r->total);
    for (i = 0; i < sizeof r->serial; i += sizeof w)
    {
        memcpy(&w, (const os_uint8_t *)&r->serial + i, sizeof w);
        SEAL_ADD(h, w);
    }
    for (i = 0; i < n; i += sizeof w)
    {
        memcpy(&w, fixed + i, sizeof w);
        SEAL_ADD(h, w);
    }
    return h;
}

void oh_region_seal(struct heap_mem *r)
{
    r->seal = seal_of(r);
}

int oh_region_sealed(const struct heap_mem *r)
{
    return ops_known(r->ops) && r->seal == seal_of(r);
}

static os_uint64_t serial_of(const struct heap_mem *r)
{
    return ((os_uint64_t)r->serial[1] << 32) | r->serial[0];
}

/*
 * Sealed, and each link leads to a region of the same heap (of the same
 * host) added after it (before it): a link of a control block set back to
 * an older copy may lead to where another heap's region now lies, or back
 * along the list.
 */
int oh_region_linked(const struct heap_mem *r)
{
    const struct heap_mem *n = r->next, *h = r->host_next;

    return oh_region_sealed(r) && (n == OS_NULL || (n->heap == r->heap && serial_of(n) > serial_of(r))) &&
           (h == OS_NULL || (h->host == r->host && serial_of(h) < serial_of(r)));
}

static os_uint64_t serials;     /* adds so far (global lock) */

static void set_serial(struct heap_mem *r)
{
    serials++;
    r->serial[0] = (os_uint32_t)serials;
    r->serial[1] = (os_uint32_t)(serials >> 32);
}
#define SET_SERIAL(r) set_serial(r)
#else
#define SET_SERIAL(r) ((void)(r))
#endif

#define NEXT_FIELD  offsetof(struct heap_mem, next)
#define HOST_FIELD  offsetof(struct heap_mem, host_next)

static int heap_listed(const os_memheap_t *h);

/*
 * Set the link *pp, the field at offset `field` of a region or the list
 * head `head`; reseal that region. A host's list of nested regions runs
 * through regions of other heaps, whose calls test the seal under their
 * own heap's lock alone: at tail and full such a link is set and resealed
 * under that lock, so that no call sees it half done. (The callers hold
 * the global lock through oh_heaps_lock(), and every path that takes two
 * heap locks takes it first: no deadlock.)
 */
static void set_link(struct heap_mem **pp, struct heap_mem *to, struct heap_mem *const *head, os_size_t field)
{
    struct heap_mem *r;
#if OS_MEM_HARDENING >= 2
    os_ubase_t st;
#endif

    if (pp == head)
    {
        *pp = to;
        return;
    }
    r = (struct heap_mem *)(void *)((os_uint8_t *)pp - field);
#if OS_MEM_HARDENING >= 2
    if (field == HOST_FIELD && heap_listed(r->heap))    /* (not a heap object overwritten: its lock is junk) */
    {
        st = os_port_lock(&r->heap->lock);
        *pp = to;
        oh_region_seal(r);
        os_port_unlock(&r->heap->lock, st);
        return;
    }
#endif
    *pp = to;
    oh_region_seal(r);
}

os_ubase_t oh_global_lock;
static os_uint32_t heap_gens;   /* heap inits so far (global lock): os_memheap_t.gen */
const struct oh_nest_ops *oh_nest;
static os_list_node_t heaps = { &heaps, &heaps };

/* oh_alg_ops(), inline in region add. */
static const struct os_mem_ops *alg_ops(enum os_mem_alg alg)
{
    unsigned a = (unsigned)alg;

    if (a == (unsigned)OS_MEM_ALG_DEFAULT)
    {
        return registry[0];
    }
    return a < REGISTRY_SIZE ? registry[a] : OS_NULL;
}

const struct os_mem_ops *oh_alg_ops(enum os_mem_alg alg)
{
    return alg_ops(alg);
}

#define HEAP_OF(node) ((os_memheap_t *)(void *)((char *)(node) - offsetof(os_memheap_t, resource_node)))

/* Is n the node of an initialised heap? */
OH_TINY int heap_node_live(const os_list_node_t *n)
{
    return OH_HEAP_LIVE(HEAP_OF(n));
}

/*
 * Set for good when a mend of the list of heaps (oh_list_mend()) may have
 * dropped a live heap with the broken objects: the overlap rule could no
 * longer see its regions, and another heap or a pool could be given the
 * same memory. So from then on no memory is claimed at all
 * (overlap_check() refuses every region add and pool init). Global lock.
 */
static os_uint8_t heaps_lost;

/* The heap where the list of heaps broke, or &heaps when none can be named, or OS_NULL (oh_list_mend()). */
static const void *heaps_mend(void)
{
    const os_list_node_t *n = oh_list_mend(&heaps, heap_node_live, &heaps_lost);

    return n == OS_NULL || n == &heaps ? (const void *)n : (const void *)HEAP_OF(n);
}

/*
 * Is h in the list of heaps? Only such a heap's lock may be waited for on
 * behalf of another heap: an object taken out of the list may have been
 * overwritten, its lock word too (its one byte that says "initialised"
 * may still say so). Global lock held through oh_heaps_lock(), so the list
 * is mended. O(H).
 */
static int heap_listed(const os_memheap_t *h)
{
    return oh_list_has(&heaps, &h->resource_node);
}

/* Take the global lock; mend the list of heaps (*dropped: heaps_mend()). */
os_ubase_t oh_heaps_lock(const void **dropped)
{
    os_ubase_t st = os_port_lock(&oh_global_lock);

    *dropped = heaps_mend();
    return st;
}

void oh_heaps_unlock(os_ubase_t st, const void *dropped)
{
    int lost = heaps_lost;

    os_port_unlock(&oh_global_lock, st);
    if (dropped != OS_NULL)
    {
        dropped = dropped != (const void *)&heaps ? dropped : OS_NULL;
        oh_report(OS_NULL, dropped, OS_ERROR, "list of heaps broken at %p (a heap object overwritten without deinit): "
                  "relinked%s", dropped, lost ? "; heaps may be lost with it, so no region or pool can be added" : "");
        (void)lost;     /* the small build's reports do not format */
    }
}

/* (The name in parentheses: the small build's macro of that name in region.h does not apply here.) */
os_err_t (oh_isr_refused)(const os_memheap_t *heap, const void *addr, const char *what)
{
    if (os_port_idle() || !os_port_in_isr())
    {
        return OS_EOK;
    }
    oh_report(heap, addr, OS_EPERM, "%s called from an interrupt handler", what);
    (void)what;     /* the small build's reports do not name the call */
    return OS_EPERM;
}

#if OS_PORT_CB_TRACKED
int (oh_cb_refused)(const os_memheap_t *heap, const void *addr, const char *what)
{
    if (!os_port_in_cb())
    {
        return 0;
    }
    oh_report(heap, addr, OS_EPERM, "%s called from the error hook or a walk callback, which may hold a "
              "heap's lock: it takes the global lock, refused", what);
    (void)what;     /* the small build's reports do not name the call */
    return 1;
}
#endif

os_err_t oh_heap_register(os_memheap_t *heap, const char *name)
{
    const void *dropped;
    os_ubase_t st = oh_heaps_lock(&dropped);

    /* Also an object still in the list (initialised again without deinit):
     * linking it again would close the list into a loop. */
    if (OH_HEAP_LIVE(heap) || heap_listed(heap))
    {
        oh_heaps_unlock(st, dropped);
        return OS_EINVAL;
    }
    oh_name_copy(heap->name, name, OS_NAME_MAX);
    heap->h_mem = OS_NULL;
    /* mem_total to span_hi: the figures, the nesting state and the span, all zero (null) */
    _Static_assert(offsetof(os_memheap_t, span_hi) + sizeof(void *) == offsetof(os_memheap_t, lock),
                   "the heap's fields from mem_total to span_hi are cleared together");
    memset(&heap->mem_total, 0, offsetof(os_memheap_t, lock) - offsetof(os_memheap_t, mem_total));
#ifdef OS_USING_MEM_TRACE
    memset(heap->task, 0, sizeof(heap->task));
#endif
    os_port_lock_init(&heap->lock);
    oh_list_append(&heaps, &heap->resource_node);
    heap->gen = ++heap_gens;
    oh_heap_refresh(heap);      /* no region yet: the slow paths, live or not */
    OH_HEAP_PUBLISH(heap);      /* last, after every field it publishes (oh_config.h) */
    oh_heaps_unlock(st, dropped);
    return OS_EOK;
}

#if defined(OH_HEAP_ENTRIES) || defined(OH_FREE_UNCHECKED)
/* heap->fast from heap->shape and the port (global lock or heap lock held). */
static void refresh_fast(os_memheap_t *heap)
{
#ifdef OH_HEAP_ENTRIES
    heap->fast = (os_uint8_t)(!OH_TAIL_OK() ? 0u : heap->shape == OH_HEAP_ONE ? OH_HEAP_FAST :
                              heap->shape == OH_HEAP_POOLS ? OH_HEAP_FAST_ALLOC : 0u);
#else
    (void)heap;
#endif
}

void oh_heap_refresh(os_memheap_t *heap)
{
    const struct heap_mem *r = heap->h_mem;

    heap->shape = (os_uint8_t)(!OH_HEAP_LIVE(heap) || heap->hosted != OS_NULL || r == OS_NULL ||
                               r->next != OS_NULL ? 0u : heap->pools != 0 ? OH_HEAP_POOLS : OH_HEAP_ONE);
    refresh_fast(heap);
}
#endif

#ifdef OH_HEAP_ENTRIES
/* The port's idleness changed: only the fast byte depends on it. */
static void refresh_one(os_memheap_t *heap, void *arg)
{
    (void)arg;
    refresh_fast(heap);
}
#endif

void oh_port_idle_changed(void)
{
#ifdef OH_HEAP_ENTRIES
    oh_heaps_each(refresh_one, OS_NULL);
#endif
#ifdef OS_USING_MEM_POOL
    oh_mp_idle_changed();
#endif
}

void oh_heaps_each(void (*fn)(os_memheap_t *heap, void *arg), void *arg)
{
    const void *dropped;
    os_ubase_t st = oh_heaps_lock(&dropped);
    os_list_node_t *n;

    for (n = heaps.next; n != &heaps; n = n->next)
    {
        fn(HEAP_OF(n), arg);
    }
    oh_heaps_unlock(st, dropped);
}

/*
 * Take region r of heap (reached through its list of regions) out of the
 * list of nested regions of the listed heap whose block holds it, found
 * there rather than through r's own host field, which may have been
 * overwritten. A region of an earlier life of the object (wiped without
 * deinit and initialised again) is never reached this way and stays in
 * its host's list, which keeps the host's block from being freed; so does
 * one behind a host list entry that fails its seal (the list stops being
 * followed there). Once r is out, the host may free the block holding it:
 * the caller does not touch r again. Global lock held. O(heaps + hosted
 * regions).
 */
static void unhost(const os_memheap_t *heap, struct heap_mem *r)
{
    os_list_node_t *n;

    for (n = heaps.next; n != &heaps; n = n->next)
    {
        os_memheap_t *h = HEAP_OF(n);
        struct heap_mem **pp;
        os_ubase_t st;
        int found = 0;

        if (h == heap || h->hosted == OS_NULL)
        {
            continue;
        }
        st = os_port_lock(&h->lock);
        for (pp = &h->hosted; *pp != OS_NULL && OH_LINKED(*pp); pp = &(*pp)->host_next)
        {
            if (*pp == r)
            {
                r->host = OS_NULL;
                set_link(pp, r->host_next, &h->hosted, HOST_FIELD);
                oh_region_seal(r);
                found = 1;
                break;
            }
        }
        oh_heap_refresh(h);
        os_port_unlock(&h->lock, st);
        if (found)
        {
            return;
        }
    }
}

/*
 * Does a region of heap lie in another heap's block? After a mend that may
 * have lost a heap (heaps_lost), deinit refuses such a heap: its host may
 * have left the list, where unhost() would not find it to take the
 * region out of its list of nested regions. O(R).
 */
static int nested_somewhere(const os_memheap_t *heap)
{
    const struct heap_mem *r;

    for (r = heap->h_mem; r != OS_NULL && OH_LINKED(r); r = r->next)
    {
        if (r->host != OS_NULL)
        {
            return 1;
        }
    }
    return 0;
}

os_err_t oh_heap_unregister(os_memheap_t *heap)
{
    const void *dropped;
    os_ubase_t st = oh_heaps_lock(&dropped), hst;
    const struct heap_mem *bad = OS_NULL;
    struct heap_mem *first, *r, *next;
    int sound;

    if (!OH_HEAP_LIVE(heap) || OH_NESTED(heap) || (heaps_lost && nested_somewhere(heap)))
    {
        oh_heaps_unlock(st, dropped);
        return !OH_HEAP_LIVE(heap) ? OS_EINVAL : OS_EBUSY;
    }
    /* Refused while a realloc copies a block with no lock held, and no
     * realloc starts such a copy from then on (OH_COPY_HELD): a retry
     * succeeds once these end. Past this test no call can start one, as
     * every call now finds the heap gone. */
    hst = os_port_lock(&heap->lock);
    if ((heap->copying & ~OH_COPY_HELD) != 0)
    {
        heap->copying |= OH_COPY_HELD;
        os_port_unlock(&heap->lock, hst);
        oh_heaps_unlock(st, dropped);
        return OS_EBUSY;
    }
    /*
     * Under the heap's lock, the regions leave the object as it is marked
     * dead: a call in progress on this heap finishes first, and one that
     * passed its entry test but waits for the lock then finds no region
     * (it refuses, or reports the heap gone), so nothing of this heap
     * touches a region once a host may free the block holding it.
     */
    first = heap->h_mem;
    OH_HEAP_MARK(heap, 0);
    heap->h_mem = OS_NULL;
    oh_heap_refresh(heap);
    os_port_unlock(&heap->lock, hst);
    /* A control block that was overwritten is neither followed nor trusted:
     * the regions from it on stay in their hosts' lists. Each region's link
     * is read before it leaves its host's list (its host may then free it). */
    sound = oh_regions_sound(heap, first, &bad);
    for (r = first; r != OS_NULL && r != bad; r = next)
    {
        next = r->next;
        oh_shadow_released(r->start, r->end);
        unhost(heap, r);
    }
    oh_list_cut(&heaps, &heap->resource_node);
    oh_heaps_unlock(st, dropped);
    if (!sound)
    {
        oh_report(OS_NULL, bad, OS_ERROR, "deinit: the control block of region %p was overwritten; "
                  "the regions from it on were not followed", (const void *)bad);
    }
    return OS_EOK;
}

/* ---- the overlap rule ------------------------------------------------------ */

struct span
{
    const os_uint8_t *lo, *hi;
    int inside_used;
};

static int find_holder(const struct heap_mem *r, const struct os_mem_blk *b, void *arg)
{
    struct span *sp = arg;
    const os_uint8_t *mem = b->mem;

    (void)r;
    if (sp->lo >= mem && sp->lo < mem + b->usable)
    {
        sp->inside_used = b->used && sp->hi <= mem + b->usable;
        return 1;
    }
    return 0;
}

/*
 * A live block that oh_claim() was told holds the span it checks (a pool
 * os_mp_create made in it), or OS_NULL. Global lock held.
 */
static const void *known_holder;

/*
 * A walk of r up to the block holding lo, or O(1) when [lo, hi) lies in
 * known_holder (a block the caller owns, so its header is the library's).
 */
int oh_region_holds(os_memheap_t *h, const struct heap_mem *r, const os_uint8_t *lo, const os_uint8_t *hi)
{
    struct span sp = { lo, hi, 0 };
    struct os_mem_blk b;
    os_ubase_t st = os_port_lock(&h->lock);

    if (known_holder != OS_NULL && OH_ALG_QUERY(r, known_holder, &b) == OS_EOK &&
        lo >= (const os_uint8_t *)b.mem && hi <= (const os_uint8_t *)b.mem + b.usable)
    {
        sp.inside_used = 1;
    }
    else
    {
        (void)OH_ALG_WALK(r, OS_NULL, find_holder, &sp);
    }
    os_port_unlock(&h->lock, st);
    return sp.inside_used;
}

int (*oh_pools_overlap)(const os_uint8_t *lo, const os_uint8_t *hi, const char **what);

/*
 * What an overlap is with (*what): named by the pools' reports, and by a
 * region add's outside the small build, whose reports are fixed.
 */
#if defined(OS_MEM_SMALL) && !defined(OS_USING_MEM_POOL)
#define OVERLAP_WITH(text)  OS_NULL
#else
#define OVERLAP_WITH(text)  text
#endif

/*
 * May [lo, hi) be added to heap (OS_NULL: be claimed by a memory pool)?
 * OS_EOK with *host set to the heap whose allocated block holds it (or
 * OS_NULL), holds telling whether a region's allocated block does (OS_NULL:
 * never); OS_EINVAL (*what: with what) on any other overlap, when it holds
 * a heap object, or (a region) when it overlaps a memory pool; also when a
 * heap's list of regions meets a region that fails its seal (then every
 * heap's list is sound when it returns OS_EOK). Global lock held.
 */
static os_err_t overlap_check(const os_memheap_t *heap, const os_uint8_t *lo, const os_uint8_t *hi,
                              os_memheap_t **host, const char **what,
                              int (*holds)(os_memheap_t *, const struct heap_mem *, const os_uint8_t *,
                                           const os_uint8_t *))
{
    const os_list_node_t *n;
    os_size_t host_span = OS_SIZE_MAX;

    *host = OS_NULL;
    if (heaps_lost)
    {
        *what = OVERLAP_WITH("memory a heap lost from the broken list of heaps may hold (no memory is claimed any more)");
        return OS_EINVAL;
    }
    *what = OVERLAP_WITH("a region of a heap");
    for (n = heaps.next; n != &heaps; n = n->next)
    {
        os_memheap_t *h = HEAP_OF(n);
        struct heap_mem *r;

        if ((const os_uint8_t *)h < hi && (const os_uint8_t *)(h + 1) > lo)
        {
            *what = OVERLAP_WITH("a heap object");  /* its lock and list links would be overwritten */
            return OS_EINVAL;
        }

        for (r = h->h_mem; r != OS_NULL; r = r->next)
        {
            if (!OH_LINKED(r))
            {
                /* (hardening tail and full) nothing past it can be checked */
                *what = OVERLAP_WITH("a region whose control data was overwritten (the list is not followed)");
                return OS_EINVAL;
            }
            if (hi <= r->start || lo >= r->end)
            {
                continue;
            }
            if (h == heap || lo < r->start || hi > r->end)
            {
                return OS_EINVAL;
            }
            if (holds == OS_NULL || !holds(h, r, lo, hi))
            {
                return OS_EINVAL;
            }
            /* Nested several deep: the innermost region's heap is the host. */
            if ((os_size_t)(r->end - r->start) < host_span)
            {
                host_span = (os_size_t)(r->end - r->start);
                *host = h;
            }
        }
    }
    if (heap != OS_NULL && oh_pools_overlap != OS_NULL && oh_pools_overlap(lo, hi, what))
    {
        return OS_EINVAL;
    }
    return OS_EOK;
}

/*
 * Count [lo, hi) of a pool in heap (OS_NULL: none) and widen the span of
 * its pools' memory and objects; add 0 takes the count back, and the span
 * goes with the last pool. Global lock held.
 */
static void count_pool(os_memheap_t *heap, os_uint32_t gen, const os_uint8_t *lo, const os_uint8_t *hi, int add)
{
    os_ubase_t st;

    if (heap == OS_NULL || !OH_HEAP_LIVE(heap) || heap->gen != gen)
    {
        return;     /* (a host cannot be deinitialised while it counts a pool: this one was overwritten, or
                       wiped and initialised again, and does not count it) */
    }
    st = os_port_lock(&heap->lock);
    if (add)
    {
        heap->pool_lo = heap->pools == 0 || lo < heap->pool_lo ? lo : heap->pool_lo;
        heap->pool_hi = heap->pools == 0 || hi > heap->pool_hi ? hi : heap->pool_hi;
        heap->pools++;
    }
    else if (heap->pools != 0 && --heap->pools == 0)
    {
        heap->pool_lo = OS_NULL;
        heap->pool_hi = OS_NULL;
    }
    oh_heap_refresh(heap);
    os_port_unlock(&heap->lock, st);
}

os_err_t oh_claim(const os_uint8_t *lo, const os_uint8_t *hi, const os_uint8_t *olo, const os_uint8_t *ohi,
                  const void *blk, os_memheap_t *host[2], os_uint32_t gen[2], const char **what,
                  os_err_t (*commit)(void *arg), void *arg)
{
    const void *dropped;
    os_ubase_t st = oh_heaps_lock(&dropped);
    os_err_t err;

    known_holder = blk;
    err = overlap_check(OS_NULL, lo, hi, &host[0], what, oh_region_holds);
    if (err == OS_EOK && overlap_check(OS_NULL, olo, ohi, &host[1], what, oh_region_holds) != OS_EOK)
    {
        *what = "a heap (the pool object must lie outside every region or inside one allocated block)";
        err = OS_EINVAL;
    }
    known_holder = OS_NULL;
    if (err == OS_EOK)
    {
        gen[0] = host[0] != OS_NULL ? host[0]->gen : 0u;
        gen[1] = host[1] != OS_NULL ? host[1]->gen : 0u;
        err = commit(arg);
    }
    if (err == OS_EOK)
    {
        count_pool(host[0], gen[0], lo, hi, 1);
        count_pool(host[1], gen[1], olo, ohi, 1);
    }
    oh_heaps_unlock(st, dropped);
    return err;
}

void oh_unclaim(os_memheap_t *const host[2], const os_uint32_t gen[2])
{
    const void *dropped;
    os_ubase_t st = oh_heaps_lock(&dropped);

    count_pool(host[0], gen[0], OS_NULL, OS_NULL, 0);
    count_pool(host[1], gen[1], OS_NULL, OS_NULL, 0);
    oh_heaps_unlock(st, dropped);
}

/* ---- adding regions ------------------------------------------------------------ */

/*
 * Lay a region over [lo, hi): returns it, or OS_NULL if it is too small.
 * A refused region is left as it was (it may lie in a live block of
 * another heap): the header's bytes are put back, and the algorithm writes
 * nothing when its init fails.
 */
static struct heap_mem *region_init(os_memheap_t *heap, const struct os_mem_ops *ops,
                                    os_uint8_t *lo, os_uint8_t *hi)
{
    os_size_t pad = (sizeof(void *) - ((os_size_t)(os_ubase_t)lo & (sizeof(void *) - 1))) & (sizeof(void *) - 1);
    struct heap_mem *r;
    struct heap_mem saved;

    if ((os_size_t)(hi - lo) < pad + OH_REGION_HDR_SIZE + 4 * sizeof(void *))
    {
        return OS_NULL;
    }
    r = (struct heap_mem *)(void *)(lo + pad);
    oh_shadow_released(lo, hi);     /* the caller hands the whole range over */
    saved = *r;
    r->next = OS_NULL;
    r->ops = ops;
    r->start = lo;
    r->end = hi;
    r->heap = heap;
    r->host = OS_NULL;
    r->host_next = OS_NULL;
    OH_STAT(r->used = 0);
    OH_STAT(r->allocs = 0);
    OH_STAT(r->frees = 0);
    OH_STAT(r->fails = 0);
    r->total = OH_ALG_INIT(ops, r);
    if (r->total == 0)
    {
        *r = saved;
        return OS_NULL;
    }
    SET_SERIAL(r);      /* linked right after: the last of every list it joins */
    oh_region_seal(r);
    return r;
}

void oh_host_link(os_memheap_t *host, struct heap_mem *r)
{
    os_ubase_t st = os_port_lock(&host->lock);

    r->host = host;
    r->host_next = host->hosted;
    oh_region_seal(r);
    host->hosted = r;
    oh_heap_refresh(host);
    os_port_unlock(&host->lock, st);
}

static void region_link(os_memheap_t *heap, struct heap_mem *r, os_memheap_t *host)
{
    struct heap_mem **pp;
    os_ubase_t st;

    if (host != OS_NULL)
    {
        oh_nest->host_link(host, r);    /* a host means a nested region: oh_nest is set */
    }
    st = os_port_lock(&heap->lock);
    for (pp = &heap->h_mem; *pp != OS_NULL; pp = &(*pp)->next)     /* sealed: overlap_check() */
    {
    }
    set_link(pp, r, &heap->h_mem, NEXT_FIELD);
    heap->regions++;
    heap->mem_total += r->total;
    if (heap->span_lo == OS_NULL || r->start < heap->span_lo)
    {
        heap->span_lo = r->start;
    }
    if (r->end > heap->span_hi)
    {
        heap->span_hi = r->end;
    }
    oh_heap_refresh(heap);
    oh_shadow_region_added(r);
    os_port_unlock(&heap->lock, st);
}

os_err_t oh_region_add(os_memheap_t *heap, void *start, os_size_t size, enum os_mem_alg alg)
{
    const struct os_mem_ops *ops = alg_ops(alg);
    os_uint8_t *lo = start;
    os_uint8_t *hi;
    os_memheap_t *host;
    const char *what;
    const void *dropped;
    os_err_t err;
    os_ubase_t st;

    if (ops == OS_NULL)
    {
        oh_report(heap, start, OS_EINVAL, "unknown or compiled-out algorithm %u", (unsigned)alg);
        return OS_EINVAL;
    }
    if (start == OS_NULL || size > OS_SIZE_MAX - (os_size_t)(os_ubase_t)start)
    {
        oh_report(heap, start, OS_EINVAL, "region %p of %zu bytes is not a valid address range", start, size);
        return OS_EINVAL;
    }
    hi = lo + size;
    st = oh_heaps_lock(&dropped);
    if (!OH_HEAP_LIVE(heap))
    {
        /* deinit ran between the caller's entry test and this lock: the heap is gone */
        oh_heaps_unlock(st, dropped);
        oh_report(OS_NULL, heap, OS_EINVAL, "add of region %p on a heap that was deinitialised meanwhile", start);
        return OS_EINVAL;
    }
    /* A region in another heap's block needs two heaps, so oh_nest is set then (region.h). */
    err = overlap_check(heap, lo, hi, &host, &what, oh_nest != OS_NULL ? oh_nest->holds : OS_NULL);
    if (err != OS_EOK)
    {
        oh_heaps_unlock(st, dropped);
        oh_report(heap, start, err, "region %p..%p overlaps %s", (void *)lo, (void *)hi, what);
        (void)what;     /* the small build's reports do not name it */
        return err;
    }
    /*
     * A region above the algorithm's limit is managed as several pieces.
     * A last piece too short for the control data and one block is left
     * out: it holds about what the control data of another piece would
     * cost, so moving the cut would not give the heap more room.
     */
    err = OS_ENOMEM;
    while (lo < hi)
    {
        os_uint8_t *piece_end = ((os_size_t)(hi - lo) > ops->max_region) ? lo + ops->max_region : hi;
        struct heap_mem *r = region_init(heap, ops, lo, piece_end);

        if (r == OS_NULL)
        {
            break;  /* the first piece: the region is refused; a later one: left out */
        }
        region_link(heap, r, host);
        err = OS_EOK;
        lo = piece_end;
    }
    oh_heaps_unlock(st, dropped);
    if (err != OS_EOK)
    {
        oh_report(heap, start, err, "region %p of %zu bytes is too small for the control data and one block",
                  start, size);
    }
    return err;
}

/* ---- nested heaps ------------------------------------------------------------ */

/* Does nested region r lie inside [lo, lo + len) (a block of its host)? */
static inline int nested_in(const struct heap_mem *r, const os_uint8_t *lo, os_size_t len)
{
    return r->start >= lo && r->end <= lo + len;
}

struct heap_mem *oh_hosted_in(const os_memheap_t *heap, const void *mem, os_size_t len)
{
    const os_uint8_t *lo = mem;
    struct heap_mem *r;

    for (r = heap->hosted; r != OS_NULL; r = r->host_next)
    {
        if (nested_in(r, lo, len) || !OH_LINKED(r))
        {
            return r;   /* (one that fails its seal may hide the rest: the block may hold one) */
        }
    }
    return OS_NULL;
}

struct heap_mem *oh_hosted_at(const os_memheap_t *heap, const void *p)
{
    struct heap_mem *r;

    /* The block that holds a nested region may start exactly where the
     * region does; no block of the nested heap can (its control data is there). */
    for (r = heap->hosted; r != OS_NULL; r = OH_HOST_NEXT(r))
    {
        if ((const os_uint8_t *)p > r->start && (const os_uint8_t *)p < r->end)
        {
            return r;
        }
    }
    return OS_NULL;
}

/* Walk callback: stop at the first block in use. */
static int any_used(const struct heap_mem *r, const struct os_mem_blk *b, void *arg)
{
    (void)r;
    *(int *)arg |= b->used;
    return b->used;
}

/* Does nested region r hold no block in use (and can it be walked)? Its heap's lock held. */
static int region_idle(const struct heap_mem *r)
{
    int used = 0;

    return OH_ALG_WALK(r, OS_NULL, any_used, &used) == OS_EOK && !used;
}

/* Does a region of another heap inside [lo, lo + len) hold a block in use? Takes each one's heap lock. */
static int hosted_busy(const os_memheap_t *heap, const os_uint8_t *lo, os_size_t len)
{
    const struct heap_mem *r;

    for (r = heap->hosted; r != OS_NULL; r = r->host_next)
    {
        os_ubase_t st;
        int idle;

        if (!OH_LINKED(r))
        {
            return 1;   /* its heap and the rest of the list are not known for sure: the block stays */
        }
        if (!nested_in(r, lo, len))
        {
            continue;
        }
        if (!heap_listed(r->heap))
        {
            return 1;   /* its heap object may be overwritten: its lock (and list) cannot be used; the block stays */
        }
        st = os_port_lock(&r->heap->lock);
        idle = region_idle(r);
        os_port_unlock(&r->heap->lock, st);
        if (!idle)
        {
            return 1;
        }
    }
    return 0;
}

/*
 * Take nested region r out of its heap's list of regions and out of its
 * total. Its heap's lock held; r passed region_idle() (so its seal too).
 * 0, with nothing changed, if r is not found before a region that fails
 * its seal (hardening tail and full) or the end of the list.
 */
static int region_unlink(struct heap_mem *r)
{
    os_memheap_t *owner = r->heap;
    struct heap_mem **qq;

    for (qq = &owner->h_mem; *qq != r; qq = &(*qq)->next)
    {
        if (*qq == OS_NULL || !OH_LINKED(*qq))
        {
            return 0;
        }
    }
    set_link(qq, r->next, &owner->h_mem, NEXT_FIELD);
    owner->mem_total -= r->total;
    owner->frees++;         /* its blocks went away: a trace of it must not resume in r */
    owner->regions++;       /* nor go on along the list of regions */
    oh_heap_refresh(owner);
    return 1;
}

/*
 * Put nested region r back where region_unlink() took it from: right before
 * r->next, which is in the list again (only the global lock's holder
 * changes the list, and the regions it took out after r are back first).
 * Its heap's lock held.
 */
static void region_relink(struct heap_mem *r)
{
    os_memheap_t *owner = r->heap;
    struct heap_mem **qq = &owner->h_mem;

    while (*qq != r->next && *qq != OS_NULL)     /* the regions region_unlink() passed */
    {
        qq = &(*qq)->next;
    }
    set_link(qq, r, &owner->h_mem, NEXT_FIELD);
    owner->mem_total += r->total;
    owner->regions++;
    oh_heap_refresh(owner);
}

/* The last region of heap's nested list before `before` that lies in [lo, lo + len), or OS_NULL. */
static struct heap_mem *hosted_before(const os_memheap_t *heap, const struct heap_mem *before, const os_uint8_t *lo,
                                      os_size_t len)
{
    struct heap_mem *r, *last = OS_NULL;

    for (r = heap->hosted; r != before && r != OS_NULL; r = OH_HOST_NEXT(r))
    {
        if (nested_in(r, lo, len))
        {
            last = r;
        }
    }
    return last;
}

int oh_detach_hosted(os_memheap_t *heap, const void *mem, os_size_t len)
{
    const os_uint8_t *lo = mem;
    struct heap_mem **pp, *r, *stop = OS_NULL;

    if (hosted_busy(heap, lo, len))
    {
        return 0;   /* nothing changed */
    }
    /* Test each region again under its heap's lock, and take it out of that
     * heap's list at once, so that nothing can allocate from it any more. */
    for (r = heap->hosted; r != OS_NULL; r = r->host_next)
    {
        os_ubase_t st;
        int idle;

        if (!OH_LINKED(r))
        {
            stop = r;
            break;
        }
        if (!nested_in(r, lo, len))
        {
            continue;
        }
        st = os_port_lock(&r->heap->lock);
        idle = region_idle(r) && region_unlink(r);
        os_port_unlock(&r->heap->lock, st);
        if (!idle)
        {
            stop = r;
            break;
        }
    }
    if (stop != OS_NULL)
    {
        /* A block was taken from r since hosted_busy() (its heap's alloc
         * takes that lock alone), or r could not be taken out of its heap's
         * list (a region before it fails its seal): put the regions taken out before it back,
         * last first, so nothing has changed but the counts a trace tests.
         * O(nested regions^2), with a lock each. */
        while ((r = hosted_before(heap, stop, lo, len)) != OS_NULL)
        {
            os_ubase_t st = os_port_lock(&r->heap->lock);

            region_relink(r);
            os_port_unlock(&r->heap->lock, st);
            stop = r;
        }
        return 0;
    }
    /* All of them held no block (so no region or pool lives in them either): drop them from our list. */
    pp = &heap->hosted;
    while ((r = *pp) != OS_NULL)
    {
        if (nested_in(r, lo, len))
        {
            set_link(pp, r->host_next, &heap->hosted, HOST_FIELD);
            oh_shadow_released(r->start, r->end);
        }
        else if (OH_LINKED(r))
        {
            pp = &r->host_next;
        }
        else
        {
            break;
        }
    }
    oh_heap_refresh(heap);
    return 1;
}

int oh_region_sound(const os_memheap_t *heap, const struct heap_mem *r)
{
    /* as integers: a field that was overwritten may point anywhere */
    os_ubase_t at = (os_ubase_t)r, nx = (os_ubase_t)r->next;
    os_ubase_t lo = (os_ubase_t)r->start, hi = (os_ubase_t)r->end;

    return ops_known(r->ops) && r->heap == heap && lo <= at && at - lo < sizeof(void *) && hi > at &&
           hi - lo <= r->ops->max_region && r->total <= hi - lo &&
           (nx == 0 || (nx % sizeof(void *) == 0 && nx >= (os_ubase_t)heap->span_lo &&
                        nx < (os_ubase_t)heap->span_hi && (nx < lo || nx >= hi))) &&
           OH_LINKED(r);
}

int oh_regions_sound(const os_memheap_t *heap, const struct heap_mem *first, const struct heap_mem **bad)
{
    const struct heap_mem *slow = first, *fast = first;
    os_ubase_t at = (os_ubase_t)first;

    /* The first link, in the heap object, is bounded as the others are before it is followed. */
    if (at != 0 && (at % sizeof(void *) != 0 || at < (os_ubase_t)heap->span_lo || at >= (os_ubase_t)heap->span_hi))
    {
        *bad = fast;
        return 0;
    }

    /* Every control block is tested before its link is followed; the second
     * pointer runs twice as fast, and meets the first only if the links loop. */
    while (fast != OS_NULL)
    {
        if (!oh_region_sound(heap, fast))
        {
            *bad = fast;
            return 0;
        }
        fast = fast->next;
        if (fast == OS_NULL)
        {
            break;
        }
        if (!oh_region_sound(heap, fast))
        {
            *bad = fast;
            return 0;
        }
        fast = fast->next;
        slow = slow->next;
        if (fast == slow)
        {
            *bad = fast;
            return 0;
        }
    }
    return 1;
}

#ifdef OS_MEM_STATS
void *oh_refused_size(struct heap_mem *r, os_size_t size)
{
    /* as the API's own check: size 0 and sizes near OS_SIZE_MAX are not counted */
    return size - 1 >= OH_MAX_REQUEST ? OS_NULL : oh_refused(r);
}

void *oh_refused(struct heap_mem *r)
{
    OH_STAT(r->fails++);
    if (r->next == OS_NULL)
    {
        OH_STAT(r->heap->failed++);
    }
    return OS_NULL;
}
#endif
