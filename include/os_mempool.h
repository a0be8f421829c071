/*
 * os_mempool.h - fixed-size memory pools (the OneOS os_mp_* API), as
 * implemented by oneheap (OS_USING_MEM_POOL).
 *
 * A pool cuts one piece of memory into blocks of one size. Alloc and free
 * are O(1) in the worst case, whatever the pool holds. A pool lives either
 * on the caller's memory (os_mp_init) or, pool object included, in one
 * block of the system heap (os_mp_create, with OS_USING_SYS_HEAP).
 *
 * Layout. The usable size of a block is blk_size rounded up to
 * OS_MEM_ALIGN_SIZE (8 or more). Every block is aligned to
 * OS_MEM_ALIGN_SIZE, with or without the tag. Without OS_USING_MP_CHECK_TAG
 * a block has no overhead: blocks follow each other, and a free block holds
 * the free-list link in its first word. With OS_USING_MP_CHECK_TAG each
 * block is preceded by a header of OS_MEM_ALIGN_SIZE bytes, every word of
 * which holds the block's tag, so the first byte written past the end of a
 * block (its usable size) is caught, except past the pool's last block,
 * which no header follows (a block never handed out is tagged as the one
 * before it is handed out for the first time: an overrun into it is
 * reported by os_mp_check and by the alloc that hands it out first). So,
 * for os_mp_init(mp, name, start, size, blk_size):
 *
 *     header = 0                       (OS_MEM_ALIGN_SIZE with the tag)
 *     usable = round_up(blk_size, OS_MEM_ALIGN_SIZE)
 *     stride = header + usable
 *     base   = round_up(start, OS_MEM_ALIGN_SIZE)
 *     blocks = (start + size - base) / stride, block i at base + header + i * stride
 *
 * and os_mp_create(name, count, blk_size) takes count * stride bytes plus
 * the pool object (rounded up to OS_MEM_ALIGN_SIZE) from the system heap.
 *
 * Checks. Every free checks in O(1) that the pointer is the start of a
 * block of this pool that has been handed out (arithmetic only); anything
 * else is reported through the error hook (os_mem_set_error_hook, with the
 * pool's name) and the pool is left unchanged. With OS_USING_MP_CHECK_TAG a
 * block's tag says "used" or "free" and depends on the block's address and
 * on the pool, so a double free and a smashed tag (an overrun of the block
 * before it) are found in O(1) too, and alloc never follows the link of a
 * free block whose tag is damaged. Without the tag free sees a double free
 * only while no block is in use (the counter would wrap); otherwise it
 * breaks the free list, which os_mp_check then reports.
 *
 * Context. os_mp_alloc(mp, OS_NO_WAIT), os_mp_alloc_ex(mp, OS_NO_WAIT, err)
 * and os_mp_free take only the pool's port lock, so on the bare-metal port
 * they may be called from an interrupt handler (with a lock hook that masks
 * interrupts, e.g. PRIMASK); so may os_mp_info. A blocking alloc from an
 * interrupt handler is refused and reported (OS_EPERM); so is every other
 * call, before it takes any lock (os_mp_init, os_mp_trace, os_mp_deinit,
 * os_mp_check and os_mp_destroy return OS_EPERM, os_mp_create OS_NULL). The report reaches the error hook in interrupt
 * context.
 *
 * Waiting. An alloc with a timeout blocks while the pool is empty. Blocked
 * allocations are served in FIFO order: a free hands its block straight to
 * the oldest waiter (no other caller can take it in between) and wakes it.
 * os_mp_deinit wakes every waiter with OS_EINTR and returns once they have
 * all left the pool. The wait is a port primitive: a condition variable on
 * POSIX, the wait hooks below on bare metal; without wait hooks a blocking
 * alloc behaves like OS_NO_WAIT.
 */
#ifndef OS_MEMPOOL_H
#define OS_MEMPOOL_H

#include <oneos_config.h>
#include <os_types.h>
#include <os_errno.h>
#include <os_memory.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Timeouts are in ticks (os_tick_t). On the POSIX port a tick is 1 ms; on
 * the bare-metal port it is whatever the wait hook counts (the RTOS tick).
 * Negative values other than OS_WAIT_FOREVER are refused (OS_EINVAL).
 */
#ifndef OS_NO_WAIT
#define OS_NO_WAIT          ((os_tick_t)0)
#endif
#ifndef OS_WAIT_FOREVER
#define OS_WAIT_FOREVER     ((os_tick_t)-1)
#endif

/* ---- Bare-metal wait hooks (OS_MEM_PORT_BAREMETAL) ------------------------ */
#ifdef OS_MEM_PORT_BAREMETAL
/*
 * A blocked thread's wake-up record. It lives on the waiting thread's stack
 * from init to fini; both members are the hooks' to use (a task handle, a
 * "woken" flag, a semaphore handle...). Zeroed before init.
 */
struct os_mem_wait
{
    void       *task;
    os_ubase_t  word;
};

/*
 * The wait primitive of the bare-metal port. wait and wake must both be set
 * for any allocation to block; init and fini may be OS_NULL.
 *   init   called with the pool's lock held, in the thread that will wait:
 *          prepare w (e.g. w->task = the current task; clear a pending
 *          notification). Nonzero: this thread cannot block (the alloc
 *          then behaves like OS_NO_WAIT). Must not block.
 *   wait   block the calling thread until wake(w) or until timeout ticks
 *          have passed (OS_WAIT_FOREVER: no limit). A wake that comes before
 *          the wait must be remembered (a binary semaphore or a task
 *          notification does that). OS_EOK if woken, OS_ETIMEOUT if not.
 *          Called without any lock held.
 *   wake   make wait(w) return (or not block). Called with the pool's lock
 *          held, possibly from an interrupt handler (a free there): it must
 *          not block.
 *   fini   w is no longer used by the pool; release what init took.
 * Install them once, before the first blocking alloc; the struct is copied.
 * O(1).
 */
struct os_mem_wait_hooks
{
    int      (*init)(struct os_mem_wait *w);
    os_err_t (*wait)(struct os_mem_wait *w, os_tick_t timeout);
    void     (*wake)(struct os_mem_wait *w);
    void     (*fini)(struct os_mem_wait *w);
};
void os_mem_port_set_wait_hooks(const struct os_mem_wait_hooks *hooks);
#endif

#ifdef OS_USING_MEM_POOL

struct os_mp_waiter;    /* a blocked allocation's record, on the waiting thread's stack */

/*
 * A pool object. Every member is private to the library; the lock word
 * comes first so the hot paths address the lock and the pool alike. A pool
 * object needs no zeroing before os_mp_init(). Other calls know a live
 * pool by one byte only, so a garbage object can pass for one (and a byte
 * copy of a live pool is taken as a second pool over the same memory):
 * zero an object (static storage, or memset) that any call may see before
 * its init; a zeroed or deinitialised one is refused with a report.
 * Deinitialise a pool before its object is wiped or its memory reused: the
 * global list of pools links through the object. The next init, deinit,
 * trace or region add takes a wiped object out of the list without
 * following its links, and the next pool call reports it. When the list
 * broke in more than one place, a live pool may have left it with the
 * wiped objects (its links lead only to them): from then on no pool init
 * and no region add succeeds, and a heap block in the span of its heap's
 * pools is not freed (OS_EINVAL; the free reports OS_EBUSY), since a free could
 * hand a lost pool's memory out again. Pools keep working, and a lost
 * pool's deinit releases its heap block as usual.
 * Invariants, all under the
 * pool's lock:
 *  - block i is start_addr + i * stride, i < blk_total_num; end_addr is
 *    start_addr + blk_total_num * stride;
 *  - blocks i < blk_carved_num have been handed out at least once; the
 *    others never have, and are carved in address order only when the free
 *    list is empty (so os_mp_init is O(1)). Hence blk_carved_num is also
 *    the peak of blk_used_num: a block is carved only when every carved
 *    block is in use;
 *  - free_list links exactly the carved blocks not in use, so its length is
 *    blk_carved_num - blk_used_num;
 *  - wait_head != OS_NULL only while no block is free or left to carve;
 *  - waiters counts the blocked allocations that have not left the pool
 *    yet (still queued, or woken and about to return): the pool object
 *    must stay alive until it is 0, so deinit waits for it.
 */
struct os_mempool
{
    os_ubase_t           lock;              /* port lock word */
    void                *free_list;         /* freed blocks, last freed first */
    os_uint8_t          *start_addr;        /* first block */
    os_ubase_t           grid_inv;          /* block-index arithmetic: see mempool.c */
    unsigned             grid_shift;
    os_uint8_t           object_inited;     /* set while initialised */
    os_uint8_t           fast;              /* the inline paths may run (see below) */
    os_uint8_t           object_alloc_type; /* 1: made by os_mp_create() */
    os_size_t            blk_used_num;      /* blocks held by callers */
    os_size_t            blk_carved_num;    /* blocks handed out at least once = peak in use */
    os_size_t            blk_total_num;
    os_size_t            blk_size;          /* usable bytes of a block */
    os_size_t            stride;            /* bytes from one block to the next */
    os_uint8_t          *end_addr;
    struct os_mp_waiter *wait_head;         /* FIFO of blocked allocations */
    struct os_mp_waiter *wait_tail;
    os_size_t            waiters;
    struct os_mp_waiter *deinit_wait;       /* deinit, waiting for waiters to reach 0 */
    os_list_node_t       resource_node;     /* node in the global list of pools */
    struct os_memheap   *host[2];           /* heaps whose blocks hold its memory, its object (or OS_NULL) */
    os_uint32_t          host_gen[2];       /* their gen then: a host wiped and initialised again is another heap */
    char                 name[OS_NAME_MAX + 1];
};
typedef struct os_mempool os_mp_t;

struct os_mpinfo
{
    os_size_t blk_size;         /* usable bytes of a block (blk_size rounded up) */
    os_size_t blk_total_num;    /* blocks in the pool */
    os_size_t blk_free_num;     /* blocks free now */
    os_size_t blk_maxused_num;  /* peak of blocks in use since init */
    os_size_t waiting_num;      /* blocked allocations not yet returned */
};
typedef struct os_mpinfo os_mpinfo_t;

/*
 * Make a pool of blocks of blk_size bytes on [start, start + size) and link
 * it into the global list of pools. The name is truncated to OS_NAME_MAX.
 * OS_EINVAL: mp, name or start is OS_NULL, blk_size is 0 or huge, mp is
 *   already initialised, the memory overlaps another pool's blocks or
 *   object, holds mp itself or a heap object, or lies in a heap's region
 *   other than wholly inside one allocated block (os_mp_create's case);
 *   mp itself lies in another pool's memory, or in a heap's region other
 *   than wholly inside one allocated block. Conversely os_memheap_add
 *   refuses a region over a pool's memory or object, and while the pool is
 *   initialised the heap blocks that hold its memory and its object are
 *   not freed or resized (reported, OS_EBUSY) and their heap is not
 *   deinitialised.
 * OS_ENOMEM: the memory cannot hold one block.
 * O(P + R), P = pools, R = regions of all heaps (the overlap and "already
 * initialised" checks). Where a heap's region holds mp or the memory, a
 * walk of that region up to it, with the global lock and that heap's lock
 * held.
 */
os_err_t os_mp_init(os_mp_t *mp, const char *name, void *start, os_size_t size, os_size_t blk_size);

/*
 * Unlink the pool. Blocked allocations return OS_NULL with OS_EINTR; deinit
 * returns after the last of them has left, so the pool's memory may be
 * reused at once; until then the heap blocks that hold its memory or
 * object are still not freed (OS_EBUSY) and no pool or region may be made
 * over them. Blocks still held by callers are simply forgotten. An
 * alloc or free that another task starts while deinit runs returns
 * OS_EINVAL (reported) instead of waiting on, or writing to, the pool;
 * it still takes the pool's lock, so the object itself must stay in
 * place until such calls have returned.
 * OS_EINVAL if mp is not an initialised pool. O(P + W + number of heaps),
 * W = waiters, plus the time the woken waiters take to leave: a caller
 * whose port cannot block (the init wait hook returns nonzero) spins,
 * releasing and retaking the pool's lock, until they have left.
 */
os_err_t os_mp_deinit(os_mp_t *mp);

#ifdef OS_USING_SYS_HEAP
/*
 * Make a pool of blk_count blocks of blk_size bytes in one block of the
 * system heap, pool object included. OS_NULL if an argument is bad
 * (reported) or the system heap cannot serve it. O(P + R) plus one
 * os_malloc: the block is known to hold the pool, so the checks of
 * os_mp_init need no walk.
 */
os_mp_t *os_mp_create(const char *name, os_size_t blk_count, os_size_t blk_size);

/*
 * os_mp_deinit, then give the memory back to the system heap. OS_EINVAL
 * (reported) for a pool made by os_mp_init. Cost of deinit plus one os_free.
 * Unlike deinit, this frees the pool object: no other call on the pool may
 * be under way or start once destroy is called, but allocations already
 * waiting in it (they return OS_EINTR before the memory is freed). A call
 * that passed its entry test before destroy and reaches the pool's lock
 * after it would take that lock in, and write to, memory the system heap
 * may have handed out again; the pool cannot know of a call that has not
 * reached its lock.
 */
os_err_t os_mp_destroy(os_mp_t *mp);
#endif

/*
 * Take a block: OS_NULL if none can be had. timeout OS_NO_WAIT returns at
 * once; a positive timeout waits up to that many ticks for a free;
 * OS_WAIT_FOREVER waits as long as it takes. The block is aligned to
 * OS_MEM_ALIGN_SIZE and its contents are undefined.
 * O(1) without waiting; with waiting, O(1) plus the wait.
 */
void    *os_mp_alloc(os_mp_t *mp, os_tick_t timeout);

/*
 * os_mp_alloc, telling why it returned OS_NULL: *err (if err is not
 * OS_NULL) is OS_EOK with a block; OS_ENOMEM if the pool is empty and the
 * call did not wait (OS_NO_WAIT, or no wait primitive); OS_ETIMEOUT after
 * waiting timeout ticks; OS_EINTR if the pool was deinitialised while
 * waiting; OS_EINVAL for a bad pool or timeout (also a pool deinitialised
 * by another task during the call); OS_EPERM for a blocking call from an
 * interrupt handler; OS_ERROR (with OS_USING_MP_CHECK_TAG) when the next
 * free block's tag or link was overwritten and no block that was never
 * handed out is left (the damaged block stays listed, never followed: each
 * alloc reports it, and serves from the blocks never handed out while
 * there are some). All but OS_ENOMEM, OS_ETIMEOUT and OS_EINTR are
 * reported. O(1) plus the wait.
 */
void    *os_mp_alloc_ex(os_mp_t *mp, os_tick_t timeout, os_err_t *err);

/*
 * Give a block back: to the oldest blocked allocation if there is one,
 * else to the pool. OS_NULL is a no-op. A pointer that is not a block of
 * this pool in use (outside it, not on a block boundary, never handed out;
 * with the tag also a double free or a smashed tag; without it a free
 * while no block is in use) is reported and the
 * pool is left unchanged. O(1).
 */
void     os_mp_free(os_mp_t *mp, void *block);

/* The port's idleness changed: refresh every pool's fast byte (see port.h). Not part of the API. */
void oh_mp_idle_changed(void);

/*
 * Inline fast paths. Where the port can be idle (the bare-metal port with
 * no lock, unlock or interrupt hook installed, or built without a lock) and
 * blocks carry no tag, os_mp_alloc and os_mp_free are also macros that
 * expand to the inline functions below: a pool that is sound and needs no
 * lock, OS_NO_WAIT, a listed block to take or a handed-out block to give
 * back is done in place; anything else calls the function. The functions
 * themselves are still there: (os_mp_alloc)(mp, t) and &os_mp_alloc call
 * them. Not part of the API: a pool's fast is OS_MP_FAST only while it is
 * initialised, nobody waits for a block and the port is idle.
 */
#define OS_MP_INITED        0xA5u
#define OS_MP_FAST          0x5Au

#if defined(OS_MEM_PORT_BAREMETAL) && !defined(OS_MEM_PORT_CORTEXM) && \
    !defined(OS_USING_MP_CHECK_TAG) && !defined(OS_MEM_SMALL)
#define OH_MP_INLINE
#if defined(__GNUC__) || defined(__clang__)
#define OH_MP_LIKELY(x)     __builtin_expect(!!(x), 1)
#else
#define OH_MP_LIKELY(x)     (x)
#endif

static inline void *oh_mp_alloc_inline(os_mp_t *mp, os_tick_t timeout)
{
    void *b;

    if (OH_MP_LIKELY(timeout == OS_NO_WAIT && mp != OS_NULL && mp->fast == OS_MP_FAST &&
                     (b = mp->free_list) != OS_NULL))
    {
        mp->free_list = *(void **)b;
        mp->blk_used_num++;
        return b;
    }
    return (os_mp_alloc)(mp, timeout);
}

static inline void oh_mp_free_inline(os_mp_t *mp, void *block)
{
    if (OH_MP_LIKELY(mp != OS_NULL && mp->fast == OS_MP_FAST))
    {
        /* the block's index, or a number >= the blocks handed out (mempool.c) */
        os_ubase_t q = ((os_ubase_t)block - (os_ubase_t)mp->start_addr) * mp->grid_inv;
        unsigned sh = mp->grid_shift;

        q = (q >> sh) | (q << ((sizeof(os_ubase_t) * 8u - sh) & (sizeof(os_ubase_t) * 8u - 1u)));
        if (OH_MP_LIKELY(q < mp->blk_carved_num && mp->blk_used_num != 0))
        {
            *(void **)block = mp->free_list;
            mp->free_list = block;
            mp->blk_used_num--;
            return;
        }
    }
    (os_mp_free)(mp, block);
}

#define os_mp_alloc(mp, timeout)    oh_mp_alloc_inline((mp), (timeout))
#define os_mp_free(mp, block)       oh_mp_free_inline((mp), (block))
#endif

/* Copy the pool's figures. OS_EINVAL (info zeroed) for a bad pool. O(1). */
os_err_t os_mp_info(os_mp_t *mp, os_mpinfo_t *info);

/*
 * Walk the free list and cross-check it with the counters (and, with the
 * tag, every block's tag). OS_EOK if sound; OS_ERROR, reported, if not.
 * Never follows a link that is outside the pool or off the block grid.
 * O(N), N = blocks, with the pool's lock held throughout.
 */
os_err_t os_mp_check(os_mp_t *mp);

/*
 * Print one line per pool: name, block size, total, free and peak blocks,
 * through the port's log output. It copies 8 lines at a time under the
 * pools' lock and prints them after releasing it: O(P) per locked section,
 * O(P * P / 8) in all.
 */
os_err_t os_mp_trace(void);

#endif /* OS_USING_MEM_POOL */

#ifdef __cplusplus
}
#endif

#endif /* OS_MEMPOOL_H */
