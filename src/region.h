/*
 * region.h - the region table: the algorithm registry, the global list of
 * heaps, adding and removing regions under the overlap rule, and finding the
 * region that holds a pointer.
 *
 * Locking: the global lock protects the list of heaps, every heap's region
 * list and every "hosted" list against change; a heap's own lock protects
 * its blocks and statistics. A path that needs several locks takes the
 * global lock first (then a heap's, then the pools'); alloc takes only
 * the heap's lock, and so do free and realloc, but for a block that may
 * hold other heaps' regions or memory pools (heap.c, nest_path).
 */
#ifndef ONEHEAP_REGION_H
#define ONEHEAP_REGION_H

#include "alg/alg.h"
#include "shadow.h"
#include "port.h"

extern os_ubase_t oh_global_lock;
/*
 * Take the global lock with the list of heaps mended first (a heap object
 * wiped without deinit taken out of it), and give it back, reporting what
 * was taken out once no lock is held (dropped). O(H).
 */
os_ubase_t oh_heaps_lock(const void **dropped);
void       oh_heaps_unlock(os_ubase_t st, const void *dropped);

/*
 * The hot paths may end in a tail call into the algorithm when the port has
 * no lock to take or release (os_port_idle) and no memory checker or fault
 * injection needs the locked path. heap->fast caches that and the rest of
 * the condition: it is OH_HEAP_FAST only while the heap is initialised,
 * OH_TAIL_OK() holds, no region of another heap is nested in it, no
 * memory pool lives in its blocks and it has exactly one region (with
 * pools but nothing else in the way, OH_HEAP_FAST_ALLOC: alloc and
 * aligned alloc keep their entries, free does not). oh_heap_refresh() recomputes it after any of these
 * changes (global lock held, or the heap not shared yet); a port whose
 * idleness changes calls oh_port_idle_changed(), which refreshes every heap
 * and pool.
 */
#if defined(OH_SHADOW) || defined(OS_MEM_FAULT_INJECT)
#define OH_TAIL_OK()    0
#else
#define OH_TAIL_OK()    os_port_idle()
#endif
#define OH_HEAP_FAST        0x5Bu   /* every entry */
#define OH_HEAP_FAST_ALLOC  0x5Au   /* alloc and aligned alloc only: memory pools live in the heap's blocks */
/*
 * heap->shape, what the fast byte says without the port's part: OH_HEAP_ONE
 * while the heap is initialised, has exactly one region and nothing lives
 * in its blocks (the locked free then hands the pointer to that region at
 * once); OH_HEAP_POOLS the same with memory pools in its blocks; else 0.
 * Written by oh_heap_refresh() with the heap's lock held (or before the
 * heap is shared), read under it.
 */
#define OH_HEAP_ONE         0xA5u
#define OH_HEAP_POOLS       0xA4u

/*
 * The free of a one-region heap (the fast entry, or the locked path) hands
 * the pointer to that region's algorithm without checking its bounds: the
 * algorithm's own O(1) check refuses a pointer outside its region, and
 * oh_bad_pointer() reports it as foreign (OS_NULL: nothing). Not in the
 * small build (every free looks its region up) nor with a memory checker
 * (which is told of a free before the algorithm sees it).
 */
#if !defined(OS_MEM_SMALL) && !defined(OS_MEM_ASAN) && !defined(OS_MEM_VALGRIND)
#define OH_FREE_UNCHECKED 1
#endif

/* The small build and ports that always lock have no tail-call entries (heap.c). */
#if !defined(OS_MEM_SMALL) && OS_PORT_CAN_IDLE
#define OH_HEAP_ENTRIES 1
#endif
#if defined(OH_HEAP_ENTRIES) || defined(OH_FREE_UNCHECKED)
/* Recompute heap->shape and heap->fast (heap lock held, or the heap not shared yet). */
void oh_heap_refresh(os_memheap_t *heap);
#else
#define oh_heap_refresh(heap) ((void)(heap))
#endif

/* A node of a live object: non-null, aligned, and live(n). (A wild, non-null pointer is followed: not caught.) */
OH_TINY int oh_node_ok(const os_list_node_t *n, int (*live)(const os_list_node_t *))
{
    return n != OS_NULL && ((os_ubase_t)n & (sizeof(void *) - 1)) == 0 && live(n);
}

/*
 * Take out of the circular list at head (of heaps, of pools) every node
 * that is no longer the node of a live object (live(n): its object wiped
 * or overwritten without its deinit), so that no walk of the list follows
 * a broken link. The list is followed from the front while the links
 * agree, then from the back, and the two ends are joined: what lies
 * between is dropped (a live object whose own next link was overwritten
 * stays). Neither walk can loop: each node it reaches names the previous
 * one as its neighbour; and neither takes the head for an object. The
 * front walk reaching the head is not enough for a sound list: the head
 * must name the last node too (an object set back to an old copy of
 * itself may end the list early). What was dropped is known exactly when
 * the two ends already named each other (a link was overwritten; but not
 * an object's link naming the head, which the head's own link contradicts:
 * that object may be an old copy of itself) or both named the same broken
 * object (not a null link: two links overwritten with null around live
 * objects look alike); anything else may have dropped a live object too
 * (its links lead only to broken ones), and sets *lost. The list's lock
 * held. O(length). Returns the node where the list broke (head when
 * none can be named), or OS_NULL if it is sound; the caller reports it
 * once its locks are released (the error hook may call into the heaps).
 */
static inline const os_list_node_t *oh_list_mend(os_list_node_t *head, int (*live)(const os_list_node_t *),
                                                 os_uint8_t *lost)
{
    os_list_node_t *a = head, *b = head, *n;

    for (n = a->next; n != head; n = n->next)
    {
        if (!oh_node_ok(n, live) || n->prev != a)
        {
            break;
        }
        a = n;
    }
    if (n == head && head->prev == a)
    {
        return OS_NULL;
    }
    for (n = b->prev; n != a && n != head; n = n->prev)
    {
        if (!oh_node_ok(n, live) || n->next != b)
        {
            break;
        }
        b = n;
    }
    n = a->next;
    if (!((n == b && b != head) || (b->prev == a && a != head) ||
          (n != OS_NULL && n == b->prev && !oh_node_ok(n, live))))
    {
        *lost = 1;
    }
    a->next = b;
    b->prev = a;
    /* the object met first (a itself when its own link was overwritten) */
    return n != OS_NULL && n != b ? n : a;
}

/* Is node in the circular list at head (mended first: oh_list_mend())? The list's lock held. O(length). */
static inline int oh_list_has(const os_list_node_t *head, const os_list_node_t *node)
{
    const os_list_node_t *n;

    for (n = head->next; n != head && n != node; n = n->next)
    {
    }
    return n != head;
}

/*
 * Take node out of the mended list at head through the list's links, not
 * its own (an object between two that were wiped may have left the list
 * with them), and point its links at itself. The list's lock held.
 * O(length).
 */
static inline void oh_list_cut(os_list_node_t *head, os_list_node_t *node)
{
    if (oh_list_has(head, node))
    {
        node->prev->next = node->next;
        node->next->prev = node->prev;
    }
    node->next = node->prev = node;
}

/* Link node at the end of the list at head. The list's lock held. O(1). */
static inline void oh_list_append(os_list_node_t *head, os_list_node_t *node)
{
    node->next = head;
    node->prev = head->prev;
    head->prev->next = node;
    head->prev = node;
}

/* The ops of an algorithm, or OS_NULL if it is unknown or compiled out. */
const struct os_mem_ops *oh_alg_ops(enum os_mem_alg alg);

/*
 * Sealed control data (hardening levels tail and full). A stray write into
 * a region's control block or into the fixed part of its algorithm's
 * control data (what init derives from the bounds: where the blocks start,
 * how many there are, list and bitmap geometry) would send alloc and free
 * to write wherever it points. So each region carries a seal over both
 * (alg.h, struct heap_mem); every call that reaches an algorithm tests it
 * first (tail.c) and reports a region that fails it instead of calling
 * into it, and no walk along a heap's regions or a host's nested regions
 * follows a link out of a region that fails it (OH_NEXT, OH_HOST_NEXT).
 * The mutable part (list heads, bitmaps, the last block) is tested by the
 * algorithm where it is used. oh_region_seal() recomputes the seal after a
 * change of the control block (a link, at region add); the global lock, or
 * the region's heap lock, is held as for the change itself. Both O(1):
 * about a dozen words are summed.
 */
#if OS_MEM_HARDENING >= 2
void oh_region_seal(struct heap_mem *r);
int  oh_region_sealed(const struct heap_mem *r);
int  oh_region_linked(const struct heap_mem *r);
#define OH_SEALED(r)    oh_region_sealed(r)
#define OH_LINKED(r)    oh_region_linked(r)
#else
#define oh_region_seal(r) ((void)(r))
#define OH_SEALED(r)    1
#define OH_LINKED(r)    1
#endif
/*
 * The link out of region r, or OS_NULL (the walk ends there) if r fails its
 * seal or its links break the order of adds (struct heap_mem, serial): a
 * walk along a list of regions visits each region once at most. Every walk
 * along a list tests OH_LINKED before it follows a link; a call into one
 * region tests OH_SEALED.
 */
#define OH_NEXT(r)      (OH_LINKED(r) ? (r)->next : OS_NULL)
#define OH_HOST_NEXT(r) (OH_LINKED(r) ? (r)->host_next : OS_NULL)

/* The region of heap holding p, or OS_NULL. O(R). Heap lock held. */
static inline struct heap_mem *oh_region_of(const os_memheap_t *heap, const void *p)
{
    struct heap_mem *r;

    for (r = heap->h_mem; r != OS_NULL; r = OH_NEXT(r))
    {
        if ((const os_uint8_t *)p >= r->start && (const os_uint8_t *)p < r->end)
        {
            return r;
        }
    }
    return OS_NULL;
}

/*
 * A region of another heap that lies inside [mem, mem + len), or OS_NULL;
 * also (hardening tail and full) the first nested region that fails its
 * seal, as the ones after it are not known. O(nested regions).
 */
struct heap_mem *oh_hosted_in(const os_memheap_t *heap, const void *mem, os_size_t len);

/* A region of another heap nested inside heap's blocks that holds p, or OS_NULL. */
struct heap_mem *oh_hosted_at(const os_memheap_t *heap, const void *p);

/* Link region r, just added to its heap, in the list of host's nested regions. Global lock held. */
void oh_host_link(os_memheap_t *host, struct heap_mem *r);

/*
 * Remove the regions of other heaps that live inside [mem, mem + len) (a
 * block about to be freed), only if none of them holds a block in use (or
 * cannot be walked: its control data is corrupt): 1 when done, 0 when
 * refused, with every region where it was. Each region is tested first,
 * then again under its heap's lock as it is taken out of that heap (whose
 * alloc takes that lock alone); if one fails then, the ones taken out are
 * put back. A region holding no block holds no nested region or pool
 * either, so nothing deeper goes with it. Global and heap locks held; takes
 * each such region's heap lock. O(nested regions) plus a walk of each
 * (O(nested regions^2) to put them back).
 */
int oh_detach_hosted(os_memheap_t *heap, const void *mem, os_size_t len);

/*
 * Does a used block of region r (of heap h) hold all of [lo, hi)? Takes h's
 * lock; global lock held. The test behind the overlap rule's one exception:
 * a walk of r up to lo, or O(1) inside the block that oh_claim() was told
 * of. (A pointer's own header is never trusted: lo may be any address, and
 * the bytes before it a user's data.)
 */
int oh_region_holds(os_memheap_t *h, const struct heap_mem *r, const os_uint8_t *lo, const os_uint8_t *hi);

/*
 * What only nested regions and memory pools inside heap blocks need is
 * reached through this table. A region nested in another heap's block needs
 * two heaps, and every heap but the system heap is made by
 * os_memheap_init(), which installs the table; so does the first pool init
 * (oh_nest_on). So it is always set when it is needed, and a program that
 * only uses the system heap does not link the walk, the check, the nested
 * free, the linking and detaching of nested regions, nor the tests of free
 * and realloc for a block that reaches pools or holds a nested region.
 */
struct oh_nest_ops
{
    int  (*holds)(os_memheap_t *h, const struct heap_mem *r, const os_uint8_t *lo, const os_uint8_t *hi);
    void (*free)(os_memheap_t *heap, void *ptr);
    void *(*realloc)(os_memheap_t *heap, void *ptr, os_size_t size, os_uint16_t owner);
    int  (*reaches)(os_memheap_t *heap, const void *ptr);
    struct heap_mem *(*hosted_at)(const os_memheap_t *heap, const void *p);
    void (*host_link)(os_memheap_t *host, struct heap_mem *r);
};
extern const struct oh_nest_ops *oh_nest;
void oh_nest_on(void);

/*
 * Does anything else live inside the heap's blocks (regions of other heaps,
 * memory pools)? Then its free has no tail-call entry, deinit is refused,
 * and free and realloc of a block that may hold it take the global lock and
 * check the block first (heap.c, nest_path).
 */
#define OH_NESTED(heap)     ((heap)->hosted != OS_NULL || (heap)->pools != 0)

/*
 * Memory pools and heaps. A pool's memory, and its object, may each lie
 * inside one allocated block of a heap (os_mp_create takes both from the
 * system heap), nowhere else in a region, and never over a heap object; no
 * region may overlap a pool's memory or object. oh_claim() checks the
 * memory [lo, hi) and the object [olo, ohi) and calls commit(arg) (which
 * checks the other pools and registers it) with the global lock held, so
 * no region can be added over them meanwhile: OS_EINVAL (*what: with what)
 * on an overlap with a heap, else what commit returns. host[0] and host[1]
 * are set, before commit runs, to the heaps whose blocks hold the memory
 * and the object (or OS_NULL), gen[] to their gen (a heap object wiped and
 * initialised again is another heap, which must not give back the old
 * one's count); when commit succeeds, each such heap counts
 * the pool (heap->pools), so that a free or realloc of that block is
 * checked against the pools, and the heap cannot be deinitialised.
 * oh_unclaim() takes the counts back once the pool is unregistered. Both
 * O(regions + B) for memory inside a heap block (that block is found by a
 * walk), except inside blk: a live block's payload (OS_NULL: none) that the
 * caller knows it holds (os_mp_create's), tested in O(1). oh_pools_overlap, set by the first pool init, tells a region add
 * or a block's free whether [lo, hi) overlaps a pool (*what); it is called
 * with the global lock held and takes the pools lock (lock order: global,
 * heap, then pools).
 */
os_err_t oh_claim(const os_uint8_t *lo, const os_uint8_t *hi, const os_uint8_t *olo, const os_uint8_t *ohi, const void *blk,
                  os_memheap_t *host[2], os_uint32_t gen[2], const char **what, os_err_t (*commit)(void *arg),
                  void *arg);
void oh_unclaim(os_memheap_t *const host[2], const os_uint32_t gen[2]);
extern int (*oh_pools_overlap)(const os_uint8_t *lo, const os_uint8_t *hi, const char **what);

/*
 * Is the caller in an interrupt handler? Then the call `what` is reported
 * (OS_EPERM; heap names the heap if it is initialised, addr the object) and
 * the caller refuses it. Every call that takes a lock tests this first, so
 * none can wait on a lock from an interrupt. An idle port has no interrupt
 * test. Returns OS_EPERM if refused, else OS_EOK (0). O(1).
 */
os_err_t oh_isr_refused(const os_memheap_t *heap, const void *addr, const char *what);
#ifdef OS_MEM_SMALL
/* The small build's reports do not name the call, so its name is not compiled in. */
#define oh_isr_refused(heap, addr, what) (oh_isr_refused)(heap, addr, OS_NULL)
#endif

/*
 * Is the caller inside the error hook or a walk callback (on a port that
 * can tell, OS_PORT_CB_TRACKED)? Those may run with a heap's lock held,
 * while another task holds the global lock and waits for that heap's:
 * a call that takes the global lock (init, add, deinit, the pools' init
 * and deinit, a free or realloc that may reach other heaps' regions or
 * pools, the task accounting) would then never return. Such a call is
 * reported (OS_EPERM) and refused. O(1).
 */
#if OS_PORT_CB_TRACKED
int oh_cb_refused(const os_memheap_t *heap, const void *addr, const char *what);
#ifdef OS_MEM_SMALL
#define oh_cb_refused(heap, addr, what) (oh_cb_refused)(heap, addr, OS_NULL)
#endif
#else
#define oh_cb_refused(heap, addr, what) ((void)(heap), (void)(addr), 0)
#endif

os_err_t oh_heap_register(os_memheap_t *heap, const char *name);
/* Call fn for every registered heap, global lock held (fn takes no lock). O(heaps). */
void     oh_heaps_each(void (*fn)(os_memheap_t *heap, void *arg), void *arg);

#ifdef OS_USING_MEM_TRACE
/* tasks.c: the name of a task index (the reserved rows by their role). */
const char *oh_task_name(os_uint16_t id);
/* tasks.c: the bytes of every row of a heap together (heap lock held). */
os_size_t   oh_task_bytes(const os_memheap_t *heap);
/* One row of the per-task table as os_memheap_trace prints it. */
struct oh_task_row
{
    struct os_mem_task_use use;
    os_uint16_t id;
};
/*
 * tasks.c: copy up to *n rows of heap's per-task table that hold or held a
 * block, from index id on (heap lock held); *n: how many were copied.
 * Returns the index the next call starts at (OS_MEM_TRACE_TASKS: done).
 */
os_uint16_t oh_task_rows(const os_memheap_t *heap, os_uint16_t id, struct oh_task_row *row, unsigned *n);
/* tasks.c: print rows that oh_task_rows() copied (no lock held). */
void        oh_print_task_rows(const struct oh_task_row *row, unsigned n);
#endif
os_err_t oh_heap_unregister(os_memheap_t *heap);

/*
 * heap->copying: the reallocs copying a block with no lock held, plus this
 * bit once a deinit was refused for them. From then on no realloc starts
 * such a copy (moves copy under the heap's lock), so the count only falls
 * and a retried deinit succeeds once the copies under way have ended;
 * without it, reallocs taking turns at copying could refuse every deinit.
 * Heap lock held. Cleared with the rest of the heap at init.
 */
#define OH_COPY_HELD    ((os_size_t)1 << (sizeof(os_size_t) * 8u - 1u))

/*
 * Is region r's control block (it lies in the region's own memory) still
 * what region add wrote, as far as can be told without following a link:
 * a registered algorithm, owned by heap, its bounds around it, and its
 * next link null or a pointer-aligned address inside the span of heap's
 * regions and outside r; at hardening tail and full, also its seal. Check
 * tests it before it calls r's algorithm or follows r->next.
 * O(algorithms).
 */
int oh_region_sound(const os_memheap_t *heap, const struct heap_mem *r);

/*
 * Is heap's list of regions, from first (heap->h_mem, or what deinit took
 * out of it), sound: the first link inside the span of the heap's regions,
 * every control block passes oh_region_sound() and the links end (no
 * loop)? If not, *bad is the region where it breaks. O(R). Check, walk and
 * trace test it first.
 */
int oh_regions_sound(const os_memheap_t *heap, const struct heap_mem *first, const struct heap_mem **bad);
os_err_t oh_region_add(os_memheap_t *heap, void *start, os_size_t size, enum os_mem_alg alg);

#endif
