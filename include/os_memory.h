/*
 * os_memory.h - the OneOS memory-heap API, as implemented by oneheap.
 *
 * A heap is a list of memory regions, each managed by its own algorithm
 * (first-fit or buddy). The system heap is one such heap, reached through
 * os_malloc() and friends; user heaps are created with os_memheap_init().
 *
 * Notation for costs: R = regions in the heap, H = regions of all heaps,
 * B = blocks in a region. "O(1)" is a worst-case bound independent of the
 * heap's contents. Every call that takes a lock (a heap's or the global
 * one: all of them but os_memory_task_ended/_is_ended, os_sys_heap and the
 * hook setters, which are for start-up code) must not be called from an
 * interrupt handler: such a call is
 * reported through the error hook (OS_EPERM) and refused before it takes
 * any lock. A call that returns an error code then returns OS_EPERM;
 * the others return what they return for a heap object that is not
 * initialised (OS_NULL or 0; info fills in zeros).
 */
#ifndef OS_MEMORY_H
#define OS_MEMORY_H

#include <oneos_config.h>
#include <os_types.h>
#include <os_errno.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef OS_NAME_MAX
#define OS_NAME_MAX 15
#endif

/* Algorithms compiled in. OS_MEM_ALG_DEFAULT selects the first of them. */
enum os_mem_alg
{
#ifdef OS_USING_ALG_FIRSTFIT
    OS_MEM_ALG_FIRSTFIT,
#endif
#ifdef OS_USING_ALG_BUDDY
    OS_MEM_ALG_BUDDY,
#endif
    OS_MEM_ALG_DEFAULT
};

struct heap_mem;    /* a region's control block; opaque */

/*
 * Task indexes (the port maps tasks to them, in every build; trace builds
 * keep rows by them, see os_memheap_task_use). Index 0 counts blocks from
 * an unknown context and from tasks whose index is OS_MEM_TRACE_TASKS or
 * more; index 1 counts blocks allocated before the scheduler started;
 * tasks have indexes from 2.
 */
#define OS_MEM_TASK_UNKNOWN 0u
#define OS_MEM_TASK_STARTUP 1u

#ifdef OS_USING_MEM_TRACE
#ifndef OS_MEM_TRACE_TASKS
#define OS_MEM_TRACE_TASKS 16
#endif

/* One task's blocks in one heap, kept as blocks change hands (O(1)). */
struct os_mem_task_use
{
    os_size_t bytes;    /* bytes held by its live blocks, headers and rounding included */
    os_size_t blocks;   /* its live blocks */
    os_size_t peak;     /* peak of bytes since the index was given to the task */
};
#endif

/*
 * A heap object. The first four members are the OneOS layout; the rest is
 * private to the library and must not be touched. Zero-initialise a heap
 * object (static storage, or memset) before os_memheap_init().
 */
struct os_memheap
{
    struct heap_mem *h_mem;             /* the first region, or OS_NULL */
    os_uint8_t       object_inited;     /* set by os_memheap_init() */
    char             name[OS_NAME_MAX + 1];
    os_list_node_t   resource_node;     /* node in the global list of heaps */

    /* private */
    os_uint8_t       fast;              /* the idle tail-call paths may run */
    os_uint8_t       shape;             /* one region, nothing in its blocks: the locked free's short path */
    os_uint32_t      gen;               /* which init made it live: pools name their host heaps by object and gen */
    os_size_t        mem_total;         /* bytes available for blocks */
    os_size_t        mem_used;          /* bytes held by allocated blocks */
    os_size_t        mem_maxused;       /* peak of mem_used */
    os_size_t        failed;            /* requests refused for lack of memory */
    os_size_t        peak_request;      /* largest size ever asked for */
    struct heap_mem *hosted;            /* regions of other heaps inside our blocks */
    os_size_t        pools;             /* memory pools (memory or object) inside our blocks */
    os_size_t        copying;           /* reallocs copying a block with no lock held; top bit: a deinit was refused for them */
    os_size_t        frees;             /* locked frees and reallocs so far (a trace's resume test) */
    os_size_t        regions;           /* regions added and taken away so far (a trace's test of its place) */
    const os_uint8_t *pool_lo;          /* span of their memory and objects (kept until pools is 0) */
    const os_uint8_t *pool_hi;
    os_uint8_t      *span_lo;           /* lowest start and highest end of any region added */
    os_uint8_t      *span_hi;           /* (check bounds the regions' links with them) */
    os_ubase_t       lock;              /* port lock word */
#ifdef OS_USING_MEM_TRACE
    struct os_mem_task_use task[OS_MEM_TRACE_TASKS];    /* by task index */
#endif
};
typedef struct os_memheap os_memheap_t;

struct os_meminfo
{
    os_size_t mem_total;    /* bytes available for blocks: regions minus control data */
    os_size_t mem_used;     /* bytes held by allocated blocks, headers and rounding included */
    os_size_t mem_maxused;  /* true peak of mem_used over the whole heap (a moving realloc holds both blocks for a moment);
                               kept when a nested region is taken away, so it may then exceed mem_total */
};
typedef struct os_meminfo os_meminfo_t;

/* ---- System heap (OS_USING_SYS_HEAP) ------------------------------------ */
#ifdef OS_USING_SYS_HEAP
/* Initialise the system heap object. Idempotent. O(OS_MEM_TRACE_TASKS). From an interrupt: reported, nothing done. */
void     os_sys_heap_init(void);
/* Add a region to the system heap: see os_memheap_add(). */
os_err_t os_sys_heap_add(void *start_addr, os_size_t size, enum os_mem_alg alg);
/* The os_memheap_* calls below, on the system heap, at the same cost. */
void    *os_malloc(os_size_t size);
void    *os_aligned_malloc(os_size_t align, os_size_t size);
void    *os_realloc(void *ptr, os_size_t size);
/* Zeroed array of count elements; OS_NULL if count * size overflows. As os_malloc, plus O(count * size) to zero it. */
void    *os_calloc(os_size_t count, os_size_t size);
void     os_free(void *ptr);
void     os_memory_info(os_meminfo_t *info);
os_err_t os_memory_check(void);
os_err_t os_memory_trace(void);
/* Usable bytes of a live block of the system heap (0 if ptr is not one). O(R). */
os_size_t os_malloc_usable_size(void *ptr);
/* The system heap object itself, for the os_memheap_* extensions. O(1). */
os_memheap_t *os_sys_heap(void);
#endif

/* ---- User heaps ----------------------------------------------------------- */

/*
 * Initialise a heap object and link it into the global list of heaps.
 * OS_EINVAL if heap or name is OS_NULL or the heap is already initialised,
 * OS_EPERM from an interrupt handler (reported). The name is truncated to
 * OS_NAME_MAX characters. O(number of heaps + OS_MEM_TRACE_TASKS). A heap object in the list
 * that was wiped or overwritten without os_memheap_deinit is reported by
 * the next call that walks the list (init, add, deinit, the per-task
 * calls) and taken out of it (its regions are no longer managed); it can
 * then be initialised again. Not caught: a list link overwritten with a
 * non-null pointer to memory that cannot be read. When the list broke in
 * more than one place, the library cannot tell whether a live heap left
 * it with the broken objects (the overlap rule would no longer see its
 * regions): it says so in that report, and from then on refuses every
 * region add and pool init (OS_EINVAL, reported) rather than risk handing
 * the same memory out twice; the heaps keep working. Deinitialise a heap
 * before its object is wiped.
 */
os_err_t os_memheap_init(os_memheap_t *heap, const char *name);

/*
 * Add the region [start_addr, start_addr + size) to the heap, managed by alg.
 * OS_EINVAL: bad heap or algorithm, the region overlaps a region of any
 *   heap (unless it lies wholly inside a block currently allocated from
 *   another heap) or holds an initialised heap object, or its end would
 *   pass the top of the address space (a region ending exactly at 2^32 on
 *   a 32-bit target included: give it one byte less); nothing is changed.
 * OS_ENOMEM: the region cannot hold the control data plus one minimal block.
 * A region larger than the algorithm's limit is added as several regions.
 * O(H + P), P = pools (a region may not cover one), plus clearing a buddy
 * region's block table (3 bits per unit) or, at hardening full, filling the
 * region, all with the global lock held; for a region nested in another
 * heap's block, a walk of the outer region up to it (O(B) of that region),
 * with that heap's lock held too.
 */
os_err_t os_memheap_add(os_memheap_t *heap, void *start_addr, os_size_t size, enum os_mem_alg alg);

/*
 * Detach the heap from the global list; its memory is no longer managed.
 * OS_EBUSY (and nothing changed) while regions of other heaps or memory
 * pools (their memory or their object) live inside its blocks, or while a
 * realloc in another task copies a block with no lock held (see
 * os_memheap_realloc: from then on the heap's moves copy under its lock,
 * so a retry succeeds once the copies under way have ended); also, once
 * the list of heaps lost track of heaps (os_memheap_init), while a region
 * of this heap lies in another heap's block. Any other call in progress on the heap in another
 * task finishes first (deinit takes the heap's lock); one that waits
 * for the lock then finds no region (an alloc returns OS_NULL, a free or
 * realloc reports the heap gone), and calls made afterwards are refused:
 * once deinit lets a host heap free the block that holds one of this
 * heap's regions, nothing of this heap touches that region. The
 * object must not be initialised again while other tasks may still call
 * it. O(H).
 */
os_err_t os_memheap_deinit(os_memheap_t *heap);

/*
 * Allocate size bytes, aligned to at least OS_MEM_ALIGN_SIZE (8 or more).
 * Returns OS_NULL if size is 0 or no region has a fitting free block.
 * Regions are tried in the order they were added. O(R) when each region's
 * O(1) search serves or refuses the request. Before a first-fit region
 * refuses a request, it looks at the free blocks its O(1) search passed
 * over (the rest of the request's size class): O(free blocks of that
 * class). With OS_MEM_FF_SEARCH_MAX N > 0 it looks at N of them at most
 * (O(1), but a request may then be refused while a free block fits; over
 * R regions that is R * N blocks at most). Buddy: a request that no listed
 * or quick block serves first merges quick blocks back (a bounded number,
 * see the README). Hardening full also verifies the whole block handed
 * out (its free-block fill): O(size).
 */
void    *os_memheap_alloc(os_memheap_t *heap, os_size_t size);

/*
 * Allocate size bytes aligned to align. align 0 or <= OS_MEM_ALIGN_SIZE is
 * a plain allocation; an align that is not a power of two is refused
 * (OS_NULL, reported). Cost as os_memheap_alloc(), except that first-fit's
 * look before a refusal covers the classes from size to size + align
 * (bounded by OS_MEM_FF_SEARCH_MAX as well).
 */
void    *os_memheap_aligned_alloc(os_memheap_t *heap, os_size_t align, os_size_t size);

/*
 * Resize a block, keeping its contents and its alignment. ptr OS_NULL: alloc.
 * size 0: free, returns OS_NULL (also when that free is refused, as for a
 * block holding a live pool or a busy nested region: the block then stays
 * allocated, and the refusal is reported). Shrinks always and grows where the next
 * block is free in place; otherwise allocates (own region first), copies and
 * frees. On failure returns OS_NULL and the old block is untouched; a
 * block that holds a region of another heap or a live memory pool is not
 * resized (reported, OS_EBUSY). O(R) plus the copy, plus the allocation's
 * cost when the block moves; for a block that may hold regions of other
 * heaps or pools, O(H + P) more, as free. A block moved within its own
 * region is copied with no lock held (between two lock sections), unless
 * that region lies in another heap's block, the block may hold regions
 * or pools, or a deinit of the heap was refused for such a copy; a move to
 * another region copies under the lock.
 */
void    *os_memheap_realloc(os_memheap_t *heap, void *ptr, os_size_t size);

/*
 * Free a block. OS_NULL is a no-op. A pointer that is foreign, interior or
 * already free is reported through the error hook and the heap is left
 * unchanged. O(R). While other heaps' regions live inside this heap, or
 * memory pools inside a span of it that the block reaches into, also
 * O(H + P), P = pools; a block that holds a live pool's memory or
 * object (directly or inside a nested region) is not freed (reported,
 * OS_EBUSY: deinit the pool first). A block that holds another heap's
 * region is not freed while that region holds a block in use (reported,
 * OS_EBUSY: free those blocks, or deinit that heap, first; O(B) of that
 * region up to its first block in use); otherwise its free takes the
 * region away from its heap (O(B) of that region; a region with no block in
 * use holds no other region) after checking this block's region (O(B) of
 * it), so that a free refused for a corruption found there leaves the other
 * heap untouched. Each such region is tested again under its heap's lock as
 * it is taken away; when one of them took a block meanwhile, the ones
 * already taken are put back (O(N^2), N = regions in the block) and the free
 * is refused as above.
 */
void     os_memheap_free(os_memheap_t *heap, void *ptr);

/* Copy the heap's statistics. O(1). */
void     os_memheap_info(os_memheap_t *heap, os_meminfo_t *info);

/*
 * Walk every block of every region and cross-check the free lists, bitmaps
 * and statistics. OS_EOK if sound; OS_ERROR, with a report naming the region
 * and address, if not. Never follows a corrupt link out of its region.
 * O(B + OS_MEM_TRACE_TASKS) with the heap's lock held; buddy regions also
 * scan their block table: O(B + region bytes / (32 * unit)).
 */
os_err_t os_memheap_check(os_memheap_t *heap);

/*
 * Print every block (used/free, address, usable size, owner task), then,
 * in trace builds, the per-task table: current bytes, current blocks and
 * peak bytes of every task index that ever held a block of this heap, an
 * ended task marked as such, through the port's log output. It copies 16
 * blocks (8 rows) at a time under the heap's lock and prints them after
 * releasing it, so the output never runs with the lock held. Each locked
 * section costs O(R) plus 16 blocks, or plus O(B) when another task freed
 * or reallocated a block since the previous one (the walk then starts
 * over); O(B + OS_MEM_TRACE_TASKS) in all without such changes. Blocks
 * allocated or freed while it prints may show in either state. On a port
 * with no lock (idle), the log output must not free into the heap traced.
 * OS_EOK; OS_ERROR (reported) when damage stops the listing where it
 * stops os_memheap_walk (a region's control block, a block header);
 * OS_EINVAL (reported) on a heap that is not initialised.
 */
os_err_t os_memheap_trace(os_memheap_t *heap);

#ifdef OS_USING_MEM_TRACE
/*
 * Per-task accounting (trace builds). A block is charged to the task that
 * allocated it (a realloc that moves the block charges the caller; one done
 * in place keeps the owner). The port gives each task a small index; when
 * the task ends, os_memory_task_ended(index) marks its rows, which stay
 * until its blocks are freed; os_memory_task_idle(index) then says the
 * index may go to a new task, and os_memory_task_started(index) clears the
 * ended mark and the peaks for it. The POSIX port does all of this itself;
 * an RTOS integrating the bare-metal port calls the last three from its task
 * hooks. os_memory_task_idle and os_memory_task_started take the global
 * lock and every heap's lock: never call them from inside a heap call (a
 * walk callback, the error hook, or os_port_task_id, which every heap call
 * runs first).
 */
/*
 * Copy one task's figures in this heap. OS_EINVAL: bad heap, null use or id
 * >= OS_MEM_TRACE_TASKS; OS_EPERM from an interrupt handler. O(1).
 */
os_err_t os_memheap_task_use(os_memheap_t *heap, os_uint16_t id, struct os_mem_task_use *use);
/* The task with this index has ended. O(1). */
void     os_memory_task_ended(os_uint16_t id);
/* Nonzero if the task has ended (never for 0 and 1, nor for an index out of range). O(1). */
int      os_memory_task_is_ended(os_uint16_t id);
/* Nonzero if no heap holds a block charged to this index (0 from an interrupt handler). O(number of heaps). */
int      os_memory_task_idle(os_uint16_t id);
/* The index is given to a new task: clear its ended mark and its peaks in every heap. O(number of heaps). */
void     os_memory_task_started(os_uint16_t id);
#endif

/* Usable bytes of a live block of this heap; 0 if ptr is not one. O(R). */
os_size_t os_memheap_usable_size(os_memheap_t *heap, void *ptr);

/*
 * One block, as a heap walk sees it. Regions are walked in the order they
 * were added, blocks in address order.
 */
struct os_memheap_block
{
    void        *addr;          /* the payload (what alloc returned) */
    os_size_t    size;          /* usable bytes */
    os_size_t    total;         /* bytes the block occupies, header included */
    os_uint8_t   used;          /* 1: allocated, 0: free */
    const char  *owner;         /* allocating task (trace builds), else OS_NULL */
    const void  *region_start;  /* the region holding the block */
    const void  *region_end;
    const char  *alg;           /* the region's algorithm */
    os_uint16_t  owner_id;      /* task index of the owner as the port gave it (trace builds, used blocks),
                                   else 0; an index past the per-task table (0xFFFF from a port that ran
                                   out of indexes) is counted in row 0 and its owner shows as unknown */
};
typedef int (*os_memheap_walk_fn)(const struct os_memheap_block *blk, void *arg);

/*
 * Call fn for every block of every region, with the heap locked: fn must
 * not call into the same heap (the POSIX port reports that and stops the
 * program), nor into a heap whose block holds one of this heap's regions
 * (a free of that block waits for this heap's lock while holding its own),
 * nor make a call that takes the global lock (init, add, deinit, pool
 * init/deinit/create/destroy, a free or realloc in a heap whose blocks
 * hold regions or pools): another task may hold it while it waits for this
 * heap. The POSIX port refuses such a call (OS_EPERM, reported).
 * A nonzero return from fn stops the walk.
 * OS_EOK, or OS_ERROR (reported) if a corrupt header (first-fit: a size
 * out of the region, or a used block whose check fails; buddy: one whose
 * seal, tag or order disagrees with the block table) or a region's
 * control block (the heap's link to it included) stops it; OS_EINVAL
 * (reported) on a heap that is not initialised, also one that a deinit in
 * another task took away after this call began. O(B), as check for buddy
 * regions.
 */
os_err_t os_memheap_walk(os_memheap_t *heap, os_memheap_walk_fn fn, void *arg);

/* ---- Error reporting -------------------------------------------------------- */

/*
 * Every refusal and every corruption found is reported once through the
 * error hook: the heap's name (or "-"), the address concerned (or OS_NULL),
 * the error code and a one-line message. The default hook is the port's
 * (it prints the message). os_mem_set_error_hook(OS_NULL) restores it.
 * The hook often runs with a heap's lock held: the rules of a walk
 * callback apply to it then (README, "The error hook"). The hook must
 * return.
 * O(1) (one atomic store; reports made after it returns use the new hook).
 */
typedef void (*os_mem_error_hook_t)(const char *heap_name, const void *addr,
                                    os_err_t code, const char *msg);
void os_mem_set_error_hook(os_mem_error_hook_t hook);

/* ---- Extended statistics (extension; OS_MEM_STATS) ------------------------------ */
#ifdef OS_MEM_STATS
/*
 * Versioned: the caller sets version = OS_MEMHEAP_STATS_VERSION and size =
 * sizeof(struct os_memheap_stats) as it knows them; a later library fills
 * only what that version has. Counts are kept as blocks change hands; the
 * free-block figures come from the algorithm (first-fit: its bitmaps and
 * the list of its largest class; buddy: its counts of listed and quick
 * blocks and its bitmap of non-empty orders, with no walk).
 * os_memheap_check() cross-checks the counts against a full walk.
 */
#define OS_MEMHEAP_STATS_VERSION 1u

struct os_memheap_stats
{
    os_uint32_t version;        /* in: OS_MEMHEAP_STATS_VERSION */
    os_uint32_t size;           /* in: sizeof(struct os_memheap_stats) */
    os_size_t   mem_total;      /* as os_meminfo_t (for a region: its share) */
    os_size_t   mem_used;
    os_size_t   mem_maxused;    /* heap only (0 for a region) */
    os_size_t   free_bytes;     /* mem_total - mem_used */
    os_size_t   free_blocks;    /* free blocks */
    os_size_t   largest_free;   /* bytes of the largest free block, header included */
    os_size_t   used_blocks;    /* live blocks */
    os_size_t   alloc_count;    /* blocks handed out (allocs, and realloc moves) */
    os_size_t   free_count;     /* blocks taken back */
    os_size_t   failed_count;   /* requests refused for lack of memory (a region: requests it could not serve) */
    os_size_t   peak_request;   /* largest size asked for (heap only) */
    os_uint32_t frag_permille;  /* external fragmentation: 1000 * (1 - largest_free / free_bytes); 0 if nothing is free */
};
typedef struct os_memheap_stats os_memheap_stats_t;

/*
 * The whole heap. OS_EINVAL for a bad heap, a null st or an unknown
 * version. O(R) plus, in each first-fit region, the free blocks of its
 * highest non-empty size class (buddy: O(1) per region).
 */
os_err_t os_memheap_get_stats(os_memheap_t *heap, os_memheap_stats_t *st);
/* Region number index (in the order they were added); OS_ENOMEM when there is no such region. O(index), plus as get_stats for that region. */
os_err_t os_memheap_region_stats(os_memheap_t *heap, os_size_t index, os_memheap_stats_t *st);
#endif

/* ---- Fault injection (OS_MEM_FAULT_INJECT, for tests) ------------------------ */
#ifdef OS_MEM_FAULT_INJECT
/*
 * Allocation points are the calls that can hand out memory: alloc, aligned
 * alloc, calloc and realloc to a non-zero size, on any heap. After
 * os_mem_fault_set(n, repeat) the n-th allocation point from now fails as
 * if memory were exhausted (OS_NULL; a failed realloc keeps the block), and
 * with repeat every later one too; n = 0 turns injection off.
 * os_mem_fault_seen() is the number of allocation points passed since the
 * last os_mem_fault_set(). Not meant for concurrent use. Both O(1).
 */
void      os_mem_fault_set(os_size_t n, int repeat);
os_size_t os_mem_fault_seen(void);
#endif

/* ---- Bare-metal port hooks (OS_MEM_PORT_BAREMETAL) -------------------------- */
#ifdef OS_MEM_PORT_BAREMETAL
/*
 * Every hook may be OS_NULL, which makes it a no-op: no locking, never in an
 * interrupt, no output, and every block allocated "before the scheduler"
 * (task index OS_MEM_TASK_STARTUP). task_id returns OS_MEM_TASK_STARTUP
 * until the scheduler runs, OS_MEM_TASK_UNKNOWN where no task is known, and
 * an index from 2 for a task. Install the hooks once, before the first heap
 * call; the struct is copied. O(H + P) for H heaps and P memory pools:
 * each one's fast path is switched on or off, as the port is idle (no
 * lock and no interrupt test installed) or not.
 */
struct os_mem_port_hooks
{
    os_ubase_t  (*lock)(os_ubase_t *lock_word);                 /* enter; returns a state */
    void        (*unlock)(os_ubase_t *lock_word, os_ubase_t state);
    int         (*in_isr)(void);                                 /* nonzero inside an ISR */
    os_uint16_t (*task_id)(void);                                /* small index: see OS_MEM_TASK_UNKNOWN */
    const char *(*task_name)(os_uint16_t id);
    void        (*puts)(const char *s);                          /* log output */
    void        (*assert_fail)(const char *msg);                 /* must not return */
};
void os_mem_port_set_hooks(const struct os_mem_port_hooks *hooks);
#endif

#ifdef __cplusplus
}
#endif

#endif /* OS_MEMORY_H */
