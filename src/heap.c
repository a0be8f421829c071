/*
 * heap.c - the public heap API. This layer owns the policy: argument
 * checks (size 0, sizes near SIZE_MAX, alignment), the interrupt-context
 * check, locking, region choice, statistics, the owner tag for the trace,
 * and reports. Algorithms below it only manage the blocks of one region.
 */
#include "oh_string.h"

#include "region.h"
#include "report.h"
#include "shadow.h"
#include "port.h"

#ifdef OS_USING_MEM_TRACE
#define OWNER() os_port_task_id()
#else
#define OWNER() ((os_uint16_t)0)
#endif

/*
 * alloc, aligned alloc and free: a tail-call entry for a heap whose fast
 * byte is set (region.h: initialised, idle port, one region, nothing nested)
 * and the rest out of line. The small build, and a port that always takes
 * a lock (OS_PORT_CAN_IDLE 0), keep only the rest (one copy of the code,
 * no separate entry).
 */
#ifdef OH_HEAP_ENTRIES
#define FAST(heap)          OH_LIKELY((heap) != OS_NULL && (heap)->fast == OH_HEAP_FAST)
#define FAST_ALLOC(heap)    OH_LIKELY((heap) != OS_NULL && (heap)->fast >= OH_HEAP_FAST_ALLOC)
#define SLOW_PATH           static OH_NOINLINE
#else
#define FAST(heap)          0
#define FAST_ALLOC(heap)    0
#define SLOW_PATH           static inline
#endif

/* The heap lock; with a memory checker, its reports are off while the library works in the heap. */
static inline os_ubase_t heap_lock(os_memheap_t *heap)
{
    oh_shadow_enter();
    return os_port_lock(&heap->lock);
}

static inline void heap_unlock(os_memheap_t *heap, os_ubase_t st)
{
    os_port_unlock(&heap->lock, st);
    oh_shadow_leave();
}

#ifdef OH_SHADOW
/* Usable bytes of the live block p of heap, for a memory checker (0: not a live block). Heap lock held. */
static inline os_size_t shadow_usable(const os_memheap_t *heap, const void *p)
{
    struct heap_mem *r = oh_region_of(heap, p);
    struct os_mem_blk b;

    return (r != OS_NULL && OH_ALG_QUERY(r, p, &b) == OS_EOK) ? b.usable : 0;
}
#endif

/* A block was handed out / is about to be taken back: tell the memory checker. */
static inline void *shadow_alloc(const os_memheap_t *heap, void *p)
{
#ifdef OH_SHADOW
    if (p != OS_NULL)
    {
        oh_shadow_alloc(p, shadow_usable(heap, p));
    }
#else
    (void)heap;
#endif
    return p;
}

static inline void shadow_free(const os_memheap_t *heap, const void *p)
{
#ifdef OH_SHADOW
    os_size_t usable = shadow_usable(heap, p);

    if (usable != 0)
    {
        oh_shadow_free(p, usable);
    }
#else
    (void)heap;
    (void)p;
#endif
}

#ifdef OS_MEM_FAULT_INJECT
static os_size_t fault_nth, fault_seen;
static int fault_repeat;

void os_mem_fault_set(os_size_t n, int repeat)
{
    fault_nth = n;
    fault_repeat = repeat;
    fault_seen = 0;
}

os_size_t os_mem_fault_seen(void)
{
    return fault_seen;
}

/* An allocation point: must this one fail? */
static int injected(void)
{
    fault_seen++;
    return fault_nth != 0 && (fault_seen == fault_nth || (fault_repeat && fault_seen > fault_nth));
}
#else
#define injected() 0
#endif

/* The largest size ever asked for (not a refused absurd one). Heap lock held (or an idle port). */
static inline void note_request(os_memheap_t *heap, os_size_t size)
{
#ifdef OS_MEM_STATS
    if (OH_UNLIKELY(size > heap->peak_request) && size < OH_MAX_REQUEST)
    {
        heap->peak_request = size;
    }
#else
    (void)heap;
    (void)size;
#endif
}

OH_TINY int heap_ok(const os_memheap_t *heap)
{
    return heap != OS_NULL && OH_HEAP_LIVE(heap);
}

#ifndef OS_MEM_SMALL
/* Refuse a call on a bad heap object or from an interrupt; report why. */
static OH_NOINLINE void *refuse(const os_memheap_t *heap, const char *what)
{
    if (!heap_ok(heap))
    {
#ifdef OS_USING_SYS_HEAP
        if (heap == os_sys_heap())
        {
            oh_report(OS_NULL, heap, OS_EINVAL, "%s before os_sys_heap_init/os_sys_heap_add", what);
        }
        else
#endif
        {
            oh_report(OS_NULL, heap, OS_EINVAL, "%s on a heap object that is not initialised", what);
        }
    }
    else
    {
        (void)oh_isr_refused(heap, OS_NULL, what);
    }
    return OS_NULL;
}

/*
 * A call to refuse: a bad heap object or an interrupt context (an idle port
 * has no interrupt test). The hot paths tail-call refuse().
 */
#define BAD_CALL(heap)      OH_UNLIKELY(!heap_ok(heap) || (!os_port_idle() && os_port_in_isr()))
#define REFUSED(heap, what) (BAD_CALL(heap) && (refuse(heap, what), 1))
/* What a refused call returns: OS_EPERM from an interrupt handler (the heap object is sound), else OS_EINVAL. */
#define REFUSAL(heap)       (heap_ok(heap) ? OS_EPERM : OS_EINVAL)
/* OS_EOK, or what the call returns refused (REFUSAL). */
#define REFUSE(heap, what)  (REFUSED(heap, what) ? REFUSAL(heap) : OS_EOK)
#else
/*
 * The small build tests and refuses in one place rather than inline at
 * every entry: a bad heap object (one fixed message for the system heap
 * and a user heap), or an interrupt context, which oh_isr_refused() tests
 * and reports. OS_EOK, or what the call returns refused: OS_EINVAL for a
 * bad heap object, OS_EPERM from an interrupt handler.
 */
static OH_NOINLINE os_err_t refused(const os_memheap_t *heap)
{
    if (!heap_ok(heap))
    {
        oh_report(OS_NULL, heap, OS_EINVAL, "call on a heap object that is not initialised");
        return OS_EINVAL;
    }
    return oh_isr_refused(heap, OS_NULL, OS_NULL);
}
#define REFUSED(heap, what) (refused(heap) != OS_EOK)
#define REFUSE(heap, what)  refused(heap)
#endif

#ifdef OS_MEM_SMALL
/*
 * The small build copies a moved block itself, word by word (both payloads
 * are aligned to OS_MEM_ALIGN_SIZE), rather than link the C library's
 * memcpy for this one call.
 */
static void copy_block(void *dst, const void *src, os_size_t n)
{
    os_ubase_t *dw = dst;
    const os_ubase_t *sw = src;
    os_uint8_t *d;
    const os_uint8_t *s;

    for (; n >= sizeof(os_ubase_t); n -= sizeof(os_ubase_t))
    {
        *dw++ = *sw++;
    }
    d = (os_uint8_t *)dw;
    s = (const os_uint8_t *)sw;
    while (n-- != 0)
    {
        *d++ = *s++;
    }
}
#else
#define copy_block(dst, src, n) memcpy(dst, src, n)
#endif

static inline int is_pow2(os_size_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

#ifdef OH_ALG_DIRECT
/*
 * Direct calls: the aligned allocation is reached through this pointer,
 * which os_memheap_aligned_alloc() sets before its first block. No aligned
 * block can exist before that, so realloc (which moves an aligned block
 * with its alignment) never needs it earlier, and a program that never
 * asks for an aligned block does not link the algorithm's aligned path.
 */
static void *(*aligned_alloc_fn)(struct heap_mem *r, os_size_t align, os_size_t size, os_uint16_t owner);

static inline void *alloc_aligned(struct heap_mem *r, os_size_t align, os_size_t size, os_uint16_t owner)
{
    void *(*fn)(struct heap_mem *, os_size_t, os_size_t, os_uint16_t) =
        __atomic_load_n(&aligned_alloc_fn, __ATOMIC_RELAXED);

    return fn != OS_NULL ? fn(r, align, size, owner) : OS_NULL;
}
#else
#define alloc_aligned(r, align, size, owner) OH_ALG_ALIGNED_ALLOC(r, align, size, owner)
#endif

static inline void *alloc_in(struct heap_mem *r, os_size_t align, os_size_t size, os_uint16_t owner)
{
    return (align == 0) ? OH_ALG_ALLOC(r, size, owner) : alloc_aligned(r, align, size, owner);
}

/*
 * Allocate from the regions from r to the end of the list, in order,
 * skipping `skip`. align 0 means the default. Heap lock held.
 */
OH_INLINE void *alloc_from(struct heap_mem *r, const struct heap_mem *skip,
                           os_size_t align, os_size_t size, os_uint16_t owner)
{
    void *p;

    for (; r != OS_NULL; r = OH_NEXT(r))
    {
        if (r != skip && (p = alloc_in(r, align, size, owner)) != OS_NULL)
        {
            return p;
        }
    }
    return OS_NULL;
}

/* alloc_from() skipping none (alloc, aligned alloc). */
static OH_NOINLINE void *alloc_scan(struct heap_mem *r, os_size_t align, os_size_t size, os_uint16_t owner)
{
    return alloc_from(r, OS_NULL, align, size, owner);
}

static void free_nested(os_memheap_t *heap, void *ptr);
static void *realloc_nested(os_memheap_t *heap, void *ptr, os_size_t size, os_uint16_t owner);
static int reaches_pools(os_memheap_t *heap, const void *ptr);

static const struct oh_nest_ops nest_ops = { oh_region_holds, free_nested, realloc_nested, reaches_pools, oh_hosted_at,
                                              oh_host_link };
#define NEST_FREE(heap, ptr)        oh_nest->free(heap, ptr)
#define NEST_REALLOC(heap, ptr, size, owner) oh_nest->realloc(heap, ptr, size, owner)
/* Only while something lives in the heap's blocks, so oh_nest is set (region.h). */
#define NEST_REACHES(heap, ptr)     oh_nest->reaches(heap, ptr)
#define NEST_HOSTED_AT(heap, ptr)   oh_nest->hosted_at(heap, ptr)

void oh_nest_on(void)
{
    const void *dropped;
    os_ubase_t st = oh_heaps_lock(&dropped);

    oh_nest = &nest_ops;    /* under the global lock: every later nesting is made under it too */
    oh_heaps_unlock(st, dropped);
}

os_err_t os_memheap_init(os_memheap_t *heap, const char *name)
{
    if (heap == OS_NULL || name == OS_NULL)
    {
        oh_report(OS_NULL, heap, OS_EINVAL, "init with a null heap or name");
        return OS_EINVAL;
    }
    if (oh_isr_refused(OS_NULL, heap, "init") || oh_cb_refused(OS_NULL, heap, "init"))
    {
        return OS_EPERM;
    }
    oh_nest_on();   /* a user heap: regions may nest from now on (region.h) */
    if (oh_heap_register(heap, name) != OS_EOK)
    {
        oh_report(heap, heap, OS_EINVAL, "init of a heap that is already initialised");
        return OS_EINVAL;
    }
    return OS_EOK;
}

os_err_t os_memheap_deinit(os_memheap_t *heap)
{
    os_err_t err = REFUSE(heap, "deinit");

    if (err != OS_EOK)
    {
        return err;
    }
    if (oh_cb_refused(heap, OS_NULL, "deinit"))
    {
        return OS_EPERM;
    }
    oh_shadow_enter();
    err = oh_heap_unregister(heap);
    oh_shadow_leave();
    if (err == OS_EBUSY)
    {
        oh_report(heap, OS_NULL, err, "deinit while regions of other heaps or memory pools live in its blocks, "
                  "while a realloc copies a block, or (the list of heaps broken) while a region of it "
                  "lies in another heap's block");
    }
    return err;
}

os_err_t os_memheap_add(os_memheap_t *heap, void *start_addr, os_size_t size, enum os_mem_alg alg)
{
    os_err_t err = REFUSE(heap, "add");

    if (err != OS_EOK)
    {
        return err;
    }
    if (oh_cb_refused(heap, start_addr, "add"))
    {
        return OS_EPERM;
    }
    oh_shadow_enter();      /* the overlap test walks other heaps' blocks */
    err = oh_region_add(heap, start_addr, size, alg);
    oh_shadow_leave();
    return err;
}

/* The first region inline, the others only when it cannot serve (the small build: one call for all). */
static inline void *alloc_locked(os_memheap_t *heap, os_size_t size)
{
    struct heap_mem *r;
    os_uint16_t owner = OWNER();    /* before the lock: a port may register the task */
    os_ubase_t st = heap_lock(heap);
    void *p = OS_NULL;

    note_request(heap, size);
    r = heap->h_mem;
    if (OH_LIKELY(r != OS_NULL))
    {
#ifdef OS_MEM_SMALL
        p = alloc_scan(r, 0, size, owner);
#else
        p = OH_ALG_ALLOC(r, size, owner);
        if (OH_UNLIKELY(p == OS_NULL))
        {
            p = alloc_scan(OH_NEXT(heap->h_mem), 0, size, owner);
        }
#endif
    }
    else if (size - 1 < OH_MAX_REQUEST)
    {
        OH_STAT(heap->failed++);    /* a heap without regions */
    }
    p = shadow_alloc(heap, p);
    heap_unlock(heap, st);
    return p;
}

/* Everything but the tail call of os_memheap_alloc(). */
SLOW_PATH void *alloc_slow(os_memheap_t *heap, os_size_t size)
{
    if (REFUSED(heap, "alloc"))
    {
        return OS_NULL;
    }
    if (size - 1 < OH_MAX_REQUEST && injected())
    {
        return OS_NULL;     /* an allocation point (size 0 and absurd sizes are none) */
    }
    return alloc_locked(heap, size);    /* the algorithms refuse size 0 and absurd sizes themselves */
}

/*
 * With the heap's fast byte set (an idle port, one region, nothing nested),
 * this ends in a tail call into the algorithm, which refuses size 0 and
 * sizes too large itself; the rest is out of line, so this path needs no
 * stack frame.
 */
void *os_memheap_alloc(os_memheap_t *heap, os_size_t size)
{
    if (FAST_ALLOC(heap))
    {
        note_request(heap, size);
        return OH_ALG_ALLOC(heap->h_mem, size, OWNER());
    }
    return alloc_slow(heap, size);
}

/* Everything but the tail call of os_memheap_aligned_alloc(). */
SLOW_PATH void *aligned_slow(os_memheap_t *heap, os_size_t align, os_size_t size)
{
    os_uint16_t owner;
    os_ubase_t st;
    void *p;

    if (REFUSED(heap, "aligned alloc"))
    {
        return OS_NULL;
    }
    if (!is_pow2(align))
    {
        oh_report(heap, OS_NULL, OS_EINVAL, "alignment %zu is not a power of two", align);
        return OS_NULL;
    }
    if (size - 1 >= OH_MAX_REQUEST || align >= OH_MAX_REQUEST || injected())
    {
        return OS_NULL;
    }
    owner = OWNER();
    st = heap_lock(heap);
    note_request(heap, size);
    if (heap->h_mem == OS_NULL)
    {
        OH_STAT(heap->failed++);
    }
    p = shadow_alloc(heap, alloc_scan(heap->h_mem, align, size, owner));
    heap_unlock(heap, st);
    return p;
}

/* As os_memheap_alloc(): with the heap's fast byte set, a tail call into the algorithm. */
void *os_memheap_aligned_alloc(os_memheap_t *heap, os_size_t align, os_size_t size)
{
    if (align <= OS_MEM_ALIGN_SIZE && (align == 0 || is_pow2(align)))
    {
        return os_memheap_alloc(heap, size);
    }
#ifdef OH_ALG_DIRECT
#if OS_MEM_HARDENING >= 2
    __atomic_store_n(&aligned_alloc_fn, oh_tail_aligned_alloc, __ATOMIC_RELAXED);
#else
    __atomic_store_n(&aligned_alloc_fn, oh_ff_aligned_alloc, __ATOMIC_RELAXED);
#endif
#endif
    /* align is not 0 here (0 went to os_memheap_alloc): a power of two iff align & (align - 1) is 0 */
    if (FAST_ALLOC(heap) && (align & (align - 1)) == 0 && size - 1 < OH_MAX_REQUEST && align < OH_MAX_REQUEST)
    {
        note_request(heap, size);
        return OH_ALG_ALIGNED_ALLOC(heap->h_mem, align, size, OWNER());
    }
    return aligned_slow(heap, align, size);
}

/*
 * The region holding ptr, or OS_NULL after reporting a foreign pointer.
 * Heap lock held; with regions of other heaps nested in this one, the
 * global lock too.
 */
static struct heap_mem *owner_region(os_memheap_t *heap, const void *ptr, const char *what)
{
    struct heap_mem *r = oh_region_of(heap, ptr);

    if (r == OS_NULL || (heap->hosted != OS_NULL && NEST_HOSTED_AT(heap, ptr) != OS_NULL))
    {
        oh_foreign_pointer(heap, ptr, what);
        return OS_NULL;
    }
    (void)what;
    return r;
}
#ifdef OS_MEM_SMALL
#define owner_region(heap, ptr, what) owner_region(heap, ptr, OS_NULL)
#endif

/*
 * Must a free or realloc of ptr (not OS_NULL) take the global lock and look
 * at what lives in its block (free_nested, realloc_busy)? Always while
 * regions of other heaps are nested in this heap (their lists may change
 * under it); with memory pools in its blocks, only when the block reaches
 * into the span of their memory and objects. Heap lock held. O(1), plus
 * O(R) and a query for a block below the span's end.
 */
static int reaches_pools(os_memheap_t *heap, const void *ptr)
{
    const struct heap_mem *r = oh_region_of(heap, ptr);
    struct os_mem_blk b;

    return r == OS_NULL || OH_ALG_QUERY(r, ptr, &b) != OS_EOK ||
           (const os_uint8_t *)b.mem + b.usable > heap->pool_lo;
}

OH_TINY int nest_path(os_memheap_t *heap, const void *ptr)
{
    if (OH_LIKELY(!OH_NESTED(heap)))
    {
        return 0;
    }
    return heap->hosted != OS_NULL || ((const os_uint8_t *)ptr < heap->pool_hi && NEST_REACHES(heap, ptr));
}

/*
 * Does block b hold a memory pool's memory or object (directly, or inside a
 * region nested in it)? Global and heap locks held.
 */
static int holds_pool(const struct os_mem_blk *b)
{
    const char *what;

    return oh_pools_overlap != OS_NULL &&
           oh_pools_overlap((const os_uint8_t *)b->mem, (const os_uint8_t *)b->mem + b->usable, &what);
}

/*
 * Free block ptr of region r, heap lock held: counted in heap->frees, which
 * a trace reads to know whether block starts may have gone since its last
 * batch (os_memheap_trace).
 */
static inline void free_in(os_memheap_t *heap, struct heap_mem *r, void *ptr)
{
    heap->frees++;
    OH_ALG_FREE(r, ptr);
}

/* Free with regions of other heaps or memory pools in this heap's blocks: global lock first. */
static OH_NOINLINE void free_nested(os_memheap_t *heap, void *ptr)
{
    const void *dropped;
    os_ubase_t gst, st;
    struct heap_mem *r;
    struct os_mem_blk b;
    int busy = 0;

    if (oh_cb_refused(heap, ptr, "free in a heap that holds other heaps' regions or pools"))
    {
        return;
    }
    gst = oh_heaps_lock(&dropped);      /* mended: oh_detach_hosted() tests which heaps are listed */
    st = heap_lock(heap);
    r = owner_region(heap, ptr, "free");

    if (r != OS_NULL)
    {
        int block = OH_ALG_QUERY(r, ptr, &b) == OS_EOK;

        if (block && holds_pool(&b))
        {
            busy = 1;   /* reported after the locks are given back */
            goto out;
        }
        if (block && oh_hosted_in(heap, b.mem, b.usable) != OS_NULL)
        {
            os_size_t u = 0;

            /*
             * Once the nested regions are taken away (they are put back
             * only while oh_detach_hosted() may still refuse), the free
             * must not be refused: the region's check tests all
             * that free would (the block, its neighbours, the lists).
             */
            if (OH_ALG_CHECK(r, &u) != OS_EOK)
            {
                oh_report_fault(heap, ptr, OS_ERROR,
                                "free of %p, which holds another heap's region, refused: its region is corrupt", ptr);
                goto out;
            }
            if (!oh_detach_hosted(heap, b.mem, b.usable))
            {
                busy = 2;   /* its blocks would be lost: reported after the locks are given back */
                goto out;
            }
        }
        shadow_free(heap, ptr);
        free_in(heap, r, ptr);
    }
out:
    heap_unlock(heap, st);
    oh_heaps_unlock(gst, dropped);
    if (busy != 0)
    {
        oh_report(heap, ptr, OS_EBUSY,
                  busy == 1 ? "free of %p, which holds a live memory pool, refused"
                            : "free of %p, which holds a region of another heap with blocks in use (or that "
                              "cannot be walked), refused",
                  ptr);
    }
}

/* Everything but the tail call of os_memheap_free(). */
SLOW_PATH void free_slow(os_memheap_t *heap, void *ptr)
{
    struct heap_mem *r;
    os_ubase_t st;

#ifdef OS_MEM_SMALL
    if (ptr == OS_NULL || REFUSED(heap, "free"))   /* (a free of OS_NULL takes no lock) */
    {
        return;
    }
#else
    if (BAD_CALL(heap))
    {
        if (ptr != OS_NULL)
        {
            (void)refuse(heap, "free");
        }
        return;
    }
#endif
    st = heap_lock(heap);
#ifdef OH_FREE_UNCHECKED
    if (OH_LIKELY(heap->shape == OH_HEAP_ONE))  /* one region, nothing nested, no pools */
    {
        free_in(heap, heap->h_mem, ptr);    /* refuses, and reports as foreign, a pointer outside it (OS_NULL: nothing) */
        heap_unlock(heap, st);
        return;
    }
#endif
    if (ptr == OS_NULL)
    {
        heap_unlock(heap, st);
        return;
    }
    if (OH_UNLIKELY(nest_path(heap, ptr)))
    {
        heap_unlock(heap, st);
        NEST_FREE(heap, ptr);
        return;
    }
    r = oh_region_of(heap, ptr);
    if (OH_LIKELY(r != OS_NULL))
    {
        shadow_free(heap, ptr);
        free_in(heap, r, ptr);
        heap_unlock(heap, st);
        return;
    }
    heap_unlock(heap, st);
    oh_foreign_pointer(heap, ptr, "free");
}

/*
 * With the heap's fast byte set (an idle port, one region, no other heap
 * nested in it) this is a tail call into the algorithm of that region,
 * whatever the pointer (region.h, OH_FREE_UNCHECKED). The rest is out of
 * line.
 */
void os_memheap_free(os_memheap_t *heap, void *ptr)
{
    if (FAST(heap))
    {
        OH_ALG_FREE(heap->h_mem, ptr);
        return;
    }
    free_slow(heap, ptr);
}

/*
 * OH_MOVED_BLOCK: a function that a build may name (the malloc override
 * does, to give a large block's whole pages back to the OS), told of the
 * old block of a move once its contents are copied, before it is freed:
 * the caller still holds it, so nobody else can have it yet.
 */
#ifdef OH_MOVED_BLOCK
void OH_MOVED_BLOCK(void *old, os_size_t usable);
#define moved_block(p, n)   OH_MOVED_BLOCK(p, n)
#else
#define moved_block(p, n)   ((void)0)
#endif

/*
 * The resize or move of block ptr of region r (OS_NULL: not in the heap,
 * already reported) to size bytes (not 0), the heap's locks held. Returns
 * the block, or OS_NULL with ptr left as it was. st: the state of the heap
 * lock when that is the only lock held (OS_NULL: the global lock is held
 * too); then a block moved within r, a region not nested in another heap's
 * block (so no free elsewhere can take it away), has its contents copied
 * with no lock held, unless a deinit of the heap was refused for such
 * copies (OH_COPY_HELD). Other moves copy under the locks.
 */
OH_INLINE void *realloc_in(os_memheap_t *heap, struct heap_mem *r, void *ptr, os_size_t size, os_uint16_t owner,
                           os_ubase_t *st)
{
    struct os_mem_blk b;
    void *p;
    os_err_t err;
    int unlocked;

    if (r == OS_NULL || size >= OH_MAX_REQUEST)
    {
        return OS_NULL;
    }
    note_request(heap, size);
#ifdef OH_SHADOW
    os_size_t old_usable = shadow_usable(heap, ptr);
#endif
    heap->frees++;      /* growing in place takes the next block's start away (free_in) */
    err = OH_ALG_RESIZE(r, ptr, size);
    if (err == OS_EOK)
    {
#ifdef OH_SHADOW
        oh_shadow_resized(ptr, old_usable, shadow_usable(heap, ptr));
#endif
        return ptr;
    }
    if (err != OS_ENOMEM || OH_ALG_QUERY(r, ptr, &b) != OS_EOK)
    {
        return OS_NULL;
    }
    /* Move: own region first, keeping the alignment of an aligned block. */
#ifdef OS_MEM_STATS
    os_size_t failed = heap->failed;
#endif
    p = alloc_in(r, b.align, size, owner);
    if (p == OS_NULL)
    {
        p = alloc_from(heap->h_mem, r, b.align, size, owner);
        st = OS_NULL;
    }
#ifdef OS_MEM_STATS
    heap->failed = failed + (p == OS_NULL);    /* one request, whichever regions it tried */
#endif
    if (p == OS_NULL)
    {
        return OS_NULL;
    }
    (void)shadow_alloc(heap, p);
    unlocked = st != OS_NULL && r->host == OS_NULL && OH_HEAP_LIVE(heap) && (heap->copying & OH_COPY_HELD) == 0;
    if (unlocked)
    {
        heap->copying++;            /* deinit is refused meanwhile (region.h, OH_COPY_HELD) */
        heap_unlock(heap, *st);     /* the caller holds both blocks */
    }
    copy_block(p, ptr, b.usable < size ? b.usable : size);
    moved_block(ptr, b.usable);
    if (unlocked)
    {
        *st = heap_lock(heap);
        heap->copying--;
    }
    shadow_free(heap, ptr);
    free_in(heap, r, ptr);          /* (counted again: a trace batch may have run during the copy) */
    return p;
}

/*
 * What the block ptr holds that a realloc may not move or cut (a memory
 * pool, a region of another heap), or OS_NULL. Locks held as in
 * free_nested.
 */
static const char *realloc_busy(os_memheap_t *heap, const struct heap_mem *r, const void *ptr)
{
    struct os_mem_blk b;

    if (OH_ALG_QUERY(r, ptr, &b) != OS_EOK)
    {
        return OS_NULL;
    }
    if (holds_pool(&b))
    {
        return "a live memory pool";
    }
    return oh_hosted_in(heap, b.mem, b.usable) != OS_NULL ? "a region of another heap" : OS_NULL;
}

/*
 * Realloc when nest_path() says so: global lock first, and a block that
 * holds a pool or a nested region is neither moved nor cut (reported once
 * the locks are given back).
 */
static OH_NOINLINE void *realloc_nested(os_memheap_t *heap, void *ptr, os_size_t size, os_uint16_t owner)
{
    os_ubase_t gst, st;
    struct heap_mem *r;
    const char *busy;
    void *p;

    if (oh_cb_refused(heap, ptr, "realloc in a heap that holds other heaps' regions or pools"))
    {
        return OS_NULL;
    }
    gst = os_port_lock(&oh_global_lock);
    st = heap_lock(heap);
    r = owner_region(heap, ptr, "realloc");
    busy = r != OS_NULL ? realloc_busy(heap, r, ptr) : OS_NULL;
    p = busy == OS_NULL ? realloc_in(heap, r, ptr, size, owner, OS_NULL) : OS_NULL;

    heap_unlock(heap, st);
    os_port_unlock(&oh_global_lock, gst);
    if (busy != OS_NULL)
    {
        oh_report(heap, ptr, OS_EBUSY, "realloc of %p, which holds %s", ptr, busy);   /* no lock held */
    }
    return p;
}

void *os_memheap_realloc(os_memheap_t *heap, void *ptr, os_size_t size)
{
    os_uint16_t owner;
    os_ubase_t st;
    void *p;

    if (ptr == OS_NULL)
    {
        return os_memheap_alloc(heap, size);
    }
    if (size == 0)
    {
        os_memheap_free(heap, ptr);
        return OS_NULL;
    }
    if (REFUSED(heap, "realloc") || injected())
    {
        return OS_NULL;
    }
    owner = OWNER();
    st = heap_lock(heap);
    if (OH_UNLIKELY(nest_path(heap, ptr)))
    {
        heap_unlock(heap, st);
        return NEST_REALLOC(heap, ptr, size, owner);
    }
    p = realloc_in(heap, owner_region(heap, ptr, "realloc"), ptr, size, owner, &st);
    heap_unlock(heap, st);
    return p;
}

os_size_t os_memheap_usable_size(os_memheap_t *heap, void *ptr)
{
    struct heap_mem *r;
    struct os_mem_blk b;
    os_size_t n = 0;
    os_ubase_t st;

    if (ptr == OS_NULL || REFUSED(heap, "usable size"))
    {
        return 0;
    }
    st = heap_lock(heap);
    r = oh_region_of(heap, ptr);
    if (r != OS_NULL && OH_ALG_QUERY(r, ptr, &b) == OS_EOK)
    {
        n = b.usable;
    }
    heap_unlock(heap, st);
    return n;
}

void os_memheap_info(os_memheap_t *heap, os_meminfo_t *info)
{
    os_ubase_t st;

    if (info == OS_NULL)
    {
        oh_report(heap_ok(heap) ? heap : OS_NULL, heap, OS_EINVAL, "info with no info to fill");
        return;
    }
    if (REFUSED(heap, "info"))
    {
        memset(info, 0, sizeof(*info));
        return;
    }
    st = heap_lock(heap);
    info->mem_total = heap->mem_total;
    info->mem_used = heap->mem_used;
    info->mem_maxused = heap->mem_maxused;
    heap_unlock(heap, st);
}

#ifdef OS_MEM_STATS
/* Blocks of one region as a walk sees them. */
struct tally
{
    os_size_t used_blocks, free_blocks, largest_free;
};

static int tally_block(const struct heap_mem *r, const struct os_mem_blk *b, void *arg)
{
    struct tally *t = arg;

    (void)r;
    if (b->used)
    {
        t->used_blocks++;
    }
    else
    {
        t->free_blocks++;
        if (b->size > t->largest_free)
        {
            t->largest_free = b->size;
        }
    }
    return 0;
}

/* Free blocks of region r and the largest one: the algorithm's own figures, or a walk. */
static void region_free_info(const struct heap_mem *r, os_size_t *blocks, os_size_t *largest)
{
    struct tally t = { 0, 0, 0 };

    if (!OH_SEALED(r))
    {
        *blocks = 0;
        *largest = 0;
        return;
    }
#ifdef OH_ALG_DIRECT
    oh_ff_free_info(r, blocks, largest);
    return;
#else
    if (r->ops->free_info != OS_NULL)
    {
        r->ops->free_info(r, blocks, largest);
        return;
    }
#endif
    (void)OH_ALG_WALK(r, OS_NULL, tally_block, &t);
    *blocks = t.free_blocks;
    *largest = t.largest_free;
}

/* Region r's counts against a walk of its blocks; 0 if they disagree (reported). */
static int region_counts_ok(os_memheap_t *heap, const struct heap_mem *r, os_size_t used)
{
    struct tally t = { 0, 0, 0 };
    os_size_t blocks = 0, largest = 0;

    (void)OH_ALG_WALK(r, OS_NULL, tally_block, &t);
    region_free_info(r, &blocks, &largest);
    if (used == r->used && t.used_blocks == r->allocs - r->frees && t.free_blocks == blocks &&
        t.largest_free == largest)
    {
        return 1;
    }
    oh_report_fault(heap, r->start, OS_ERROR,
                    "check: region %p: statistics say %zu bytes in %zu blocks, %zu free blocks, largest %zu; "
                    "blocks say %zu bytes in %zu blocks, %zu free blocks, largest %zu",
                    (void *)r->start, r->used, r->allocs - r->frees, blocks, largest,
                    used, t.used_blocks, t.free_blocks, t.largest_free);
    return 0;
}

#define REGION_COUNTS_OK(heap, r, u) region_counts_ok(heap, r, u)
#else
#define REGION_COUNTS_OK(heap, r, u) 1
#endif

/* Check, walk and trace test heap's list of regions first: a broken one is reported, nothing is walked. */
static int regions_bad(os_memheap_t *heap)
{
    const struct heap_mem *bad = OS_NULL;

    if (oh_regions_sound(heap, heap->h_mem, &bad))
    {
        return 0;
    }
    oh_report_fault(heap, bad, OS_ERROR, "the control block of the region at %p was overwritten (or its link loops)",
                    (const void *)bad);
    return 1;
}

/*
 * Check and walk, with the heap's lock: OS_EINVAL when a deinit overtook
 * the call after its entry test, OS_ERROR when the list of regions is
 * broken (both reported), else OS_EOK.
 */
static os_err_t regions_unusable(os_memheap_t *heap, const char *what)
{
    if (oh_heap_gone(heap, what, OS_NULL))
    {
        return OS_EINVAL;
    }
    return regions_bad(heap) ? OS_ERROR : OS_EOK;
}

os_err_t os_memheap_check(os_memheap_t *heap)
{
    struct heap_mem *r;
    os_size_t used = 0, total = 0;
    os_err_t err;
    os_ubase_t st;

    err = REFUSE(heap, "check");
    if (err != OS_EOK)
    {
        return err;
    }
    st = heap_lock(heap);
    err = regions_unusable(heap, "check");
    if (err != OS_EOK)
    {
        heap_unlock(heap, st);
        return err;
    }
    for (r = heap->h_mem; r != OS_NULL; r = OH_NEXT(r))
    {
        os_size_t u = 0;

        if (OH_ALG_CHECK(r, &u) != OS_EOK || !REGION_COUNTS_OK(heap, r, u))
        {
            err = OS_ERROR;
        }
        used += u;
        total += r->total;
    }
    if (err == OS_EOK && (used != heap->mem_used || total != heap->mem_total ||
                          heap->mem_maxused < heap->mem_used || used > total))
    {
        oh_report_fault(heap, OS_NULL, OS_ERROR,
                  "check: statistics say total %zu used %zu peak %zu, blocks say total %zu used %zu",
                  heap->mem_total, heap->mem_used, heap->mem_maxused, total, used);
        err = OS_ERROR;
    }
#ifdef OS_USING_MEM_TRACE
    if (err == OS_EOK && oh_task_bytes(heap) != used)
    {
        oh_report_fault(heap, OS_NULL, OS_ERROR, "check: the per-task rows hold %zu bytes, blocks say %zu",
                        oh_task_bytes(heap), used);
        err = OS_ERROR;
    }
#endif
    heap_unlock(heap, st);
    return err;
}

#ifdef OS_MEM_STATS
/* ---- extended statistics ---------------------------------------------------------- */

static int stats_ok(const os_memheap_t *heap, const os_memheap_stats_t *st)
{
    if (st == OS_NULL || st->version != OS_MEMHEAP_STATS_VERSION || st->size < sizeof(*st))
    {
        oh_report(heap, st, OS_EINVAL, "statistics: a null or unknown-version struct");
        return 0;
    }
    return 1;
}

/* Add region r's figures to st (heap lock held). */
static void stats_add(os_memheap_stats_t *st, const struct heap_mem *r)
{
    os_size_t blocks = 0, largest = 0;

    region_free_info(r, &blocks, &largest);
    st->mem_total += r->total;
    st->mem_used += r->used;
    st->free_blocks += blocks;
    if (largest > st->largest_free)
    {
        st->largest_free = largest;
    }
    st->used_blocks += r->allocs - r->frees;
    st->alloc_count += r->allocs;
    st->free_count += r->frees;
}

/* The derived figures; 1000 * (1 - largest / free) without overflow. */
static void stats_finish(os_memheap_stats_t *st)
{
    os_size_t free_bytes = st->mem_total - st->mem_used, largest = st->largest_free;

    st->free_bytes = free_bytes;
    while (free_bytes > OS_SIZE_MAX / 1000u)
    {
        free_bytes >>= 1;
        largest >>= 1;
    }
    st->frag_permille = free_bytes == 0 ? 0u : (os_uint32_t)(1000u - largest * 1000u / free_bytes);
}

static void stats_clear(os_memheap_stats_t *st)
{
    os_uint32_t version = st->version, size = st->size;

    memset(st, 0, sizeof(*st));
    st->version = version;
    st->size = size;
}

os_err_t os_memheap_get_stats(os_memheap_t *heap, os_memheap_stats_t *st)
{
    struct heap_mem *r;
    os_ubase_t s;
    os_err_t err = REFUSE(heap, "statistics");

    if (err != OS_EOK)
    {
        return err;
    }
    if (!stats_ok(heap, st))
    {
        return OS_EINVAL;
    }
    stats_clear(st);
    s = heap_lock(heap);
    for (r = heap->h_mem; r != OS_NULL; r = OH_NEXT(r))
    {
        stats_add(st, r);
    }
    st->mem_total = heap->mem_total;
    st->mem_used = heap->mem_used;
    st->mem_maxused = heap->mem_maxused;
    st->failed_count = heap->failed;
    st->peak_request = heap->peak_request;
    heap_unlock(heap, s);
    stats_finish(st);
    return OS_EOK;
}

os_err_t os_memheap_region_stats(os_memheap_t *heap, os_size_t index, os_memheap_stats_t *st)
{
    struct heap_mem *r;
    os_ubase_t s;
    os_err_t err = REFUSE(heap, "region statistics");

    if (err != OS_EOK)
    {
        return err;
    }
    if (!stats_ok(heap, st))
    {
        return OS_EINVAL;
    }
    stats_clear(st);
    s = heap_lock(heap);
    for (r = heap->h_mem; r != OS_NULL && index != 0; r = OH_NEXT(r))
    {
        index--;
    }
    if (r != OS_NULL)
    {
        stats_add(st, r);
        st->failed_count = r->fails;
    }
    else
    {
        err = OS_ENOMEM;    /* no region of that index */
    }
    heap_unlock(heap, s);
    if (err == OS_EOK)
    {
        stats_finish(st);
    }
    return err;
}
#endif /* OS_MEM_STATS */

struct walk_ctx
{
    os_memheap_walk_fn fn;
    void              *arg;
    int                stopped;
};

static int walk_block(const struct heap_mem *r, const struct os_mem_blk *b, void *arg)
{
    struct walk_ctx *w = arg;
    struct os_memheap_block blk;

    blk.addr = b->mem;
    blk.size = b->usable;
    blk.total = b->size;
    blk.used = b->used;
#ifdef OS_USING_MEM_TRACE
    blk.owner = b->used ? oh_task_name(b->owner) : OS_NULL;
#else
    blk.owner = OS_NULL;
#endif
    blk.owner_id = b->used ? b->owner : 0;
    blk.region_start = r->start;
    blk.region_end = r->end;
    blk.alg = r->ops->name;
    os_port_cb_enter();
    w->stopped = w->fn(&blk, w->arg);
    os_port_cb_leave();
    return w->stopped;
}

os_err_t os_memheap_walk(os_memheap_t *heap, os_memheap_walk_fn fn, void *arg)
{
    struct walk_ctx w = { fn, arg, 0 };
    struct heap_mem *r;
    os_err_t err;
    os_ubase_t st;

    if (fn == OS_NULL)
    {
        oh_report(heap_ok(heap) ? heap : OS_NULL, OS_NULL, OS_EINVAL, "walk without a callback");
        return OS_EINVAL;
    }
    err = REFUSE(heap, "walk");
    if (err != OS_EOK)
    {
        return err;
    }
    st = heap_lock(heap);
    err = regions_unusable(heap, "walk");
    if (err != OS_EOK)
    {
        heap_unlock(heap, st);
        return err;
    }
    for (r = heap->h_mem; r != OS_NULL && !w.stopped; r = OH_NEXT(r))
    {
        if (OH_ALG_WALK(r, OS_NULL, walk_block, &w) != OS_EOK)
        {
            err = OS_ERROR;
            break;
        }
    }
    heap_unlock(heap, st);
    return err;
}

/*
 * os_memheap_trace copies what it prints under the heap's lock, TRACE_BATCH
 * blocks at a time, and prints it after releasing the lock: the port's
 * output never runs with the lock held. Each batch resumes the walk at the
 * last block printed (found again in O(1)) when no free or realloc ran in
 * between (heap->frees, which the locked paths and a nested region's
 * detach count), as only those take block starts away; otherwise the walk
 * starts over at the region's first block and skips what was printed (O(B)
 * under the lock). The tail-call free of an idle port does not count: on
 * such a port nothing else runs while the trace prints, as long as the
 * port's output does not free into the heap being traced. Each batch finds
 * its region again by its place in the list (O(regions)); a region added
 * or taken away since the listing started (heap->regions) would move that
 * place, so the listing then ends with a note rather than skip a region or
 * list one twice. Stack: TRACE_BATCH lines (192 bytes on a 32-bit target).
 */
#define TRACE_BATCH 16u

struct trace_batch
{
    const os_uint8_t *after;    /* the last block printed (OS_NULL: none yet) */
    os_size_t frees;            /* heap->frees when it was printed */
    os_size_t regions;          /* heap->regions when the listing started */
    unsigned n;
    struct
    {
        void       *mem;
        os_size_t   usable;
        os_uint16_t owner;
        os_uint8_t  used;
    } line[TRACE_BATCH];
};

static int trace_block(const struct heap_mem *r, const struct os_mem_blk *b, void *arg)
{
    struct trace_batch *t = arg;

    (void)r;
    if (t->after != OS_NULL && (const os_uint8_t *)b->mem <= t->after)
    {
        return 0;   /* printed by an earlier batch */
    }
    t->line[t->n].mem = b->mem;
    t->line[t->n].usable = b->usable;
    t->line[t->n].owner = b->owner;
    t->line[t->n].used = b->used;
    return ++t->n == TRACE_BATCH;
}

static void trace_print(const struct trace_batch *t)
{
    unsigned i;

    for (i = 0; i < t->n; i++)
    {
        if (t->line[i].used)
        {
#ifdef OS_USING_MEM_TRACE
            oh_print("  used  %p %10zu  %s\n", t->line[i].mem, t->line[i].usable, oh_task_name(t->line[i].owner));
#else
            oh_print("  used  %p %10zu  -\n", t->line[i].mem, t->line[i].usable);
#endif
        }
        else
        {
            oh_print("  free  %p %10zu\n", t->line[i].mem, t->line[i].usable);
        }
    }
}

/* Region number index of a sound list, OS_NULL if there is none (heap lock held). */
static const struct heap_mem *region_at(os_memheap_t *heap, os_size_t index)
{
    const struct heap_mem *r = heap->h_mem;

    while (r != OS_NULL && index-- != 0)
    {
        r = OH_NEXT(r);
    }
    return r;
}

#ifdef OS_USING_MEM_TRACE
/* The per-task table of os_memheap_trace, copied and printed in batches as the blocks are. */
static void trace_tasks(os_memheap_t *heap)
{
    struct oh_task_row row[TRACE_BATCH / 2];
    os_uint16_t id = 0;

    oh_print(" tasks:\n  index name              bytes now   blocks   peak bytes\n");
    while (id < OS_MEM_TRACE_TASKS)
    {
        os_ubase_t st = heap_lock(heap);
        unsigned n = 0;

        if (OH_HEAP_LIVE(heap))
        {
            n = TRACE_BATCH / 2;
            id = oh_task_rows(heap, id, row, &n);
        }
        else
        {
            id = OS_MEM_TRACE_TASKS;
        }
        heap_unlock(heap, st);
        oh_print_task_rows(row, n);
    }
}
#endif

/* What one batch of the trace found. */
enum { TR_END, TR_LISTED, TR_BAD_LIST, TR_BAD_BLOCK, TR_CHANGED };

/*
 * One batch of region number index (see TRACE_BATCH): TR_LISTED; TR_END
 * when there is no such region (or the heap went away); TR_BAD_LIST when
 * the list of regions is corrupt, TR_BAD_BLOCK when a header stopped the
 * walk (both reported); TR_CHANGED when a region was added or taken away
 * since the listing started. Sets *lo, *hi, *alg and *total.
 */
static int trace_batch(os_memheap_t *heap, os_size_t index, struct trace_batch *t, const os_uint8_t **lo,
                       const os_uint8_t **hi, const char **alg, os_size_t *total)
{
    os_ubase_t st = heap_lock(heap);
    const struct heap_mem *r = OS_NULL;
    int res = TR_END;

    t->n = 0;
    if (!OH_HEAP_LIVE(heap))
    {
        res = TR_END;
    }
    else if (regions_bad(heap))
    {
        res = TR_BAD_LIST;
    }
    else if (heap->regions != t->regions)
    {
        res = TR_CHANGED;
    }
    else if ((r = region_at(heap, index)) != OS_NULL)
    {
        /* Resume at the last block printed only if no free or realloc could have merged it
         * away since: its header is then still the library's, not a user's bytes. */
        const void *from = t->after != OS_NULL && t->frees == heap->frees ? t->after : OS_NULL;

        *lo = r->start;
        *hi = r->end;
        *alg = r->ops->name;
        *total = r->total;
        res = OH_ALG_WALK(r, from, trace_block, t) == OS_EOK ? TR_LISTED : TR_BAD_BLOCK;
        t->frees = heap->frees;
    }
    heap_unlock(heap, st);
    return res;
}

os_err_t os_memheap_trace(os_memheap_t *heap)
{
    char name[OS_NAME_MAX + 1];
    os_size_t total, used, maxused, index;
    struct trace_batch t;
    os_err_t err;
    os_ubase_t st;
    int res = TR_LISTED;

    err = REFUSE(heap, "trace");
    if (err != OS_EOK)
    {
        return err;
    }
    st = heap_lock(heap);
    memcpy(name, heap->name, sizeof name);
    total = heap->mem_total;
    used = heap->mem_used;
    maxused = heap->mem_maxused;
    t.regions = heap->regions;
    heap_unlock(heap, st);
    oh_print("heap '%s': total %zu, used %zu, max used %zu\n", name, total, used, maxused);
    for (index = 0; res == TR_LISTED || res == TR_BAD_BLOCK; index++)
    {
        const os_uint8_t *lo = OS_NULL, *hi = OS_NULL;
        const char *alg = OS_NULL;

        t.after = OS_NULL;
        do
        {
            res = trace_batch(heap, index, &t, &lo, &hi, &alg, &total);
            if ((res == TR_LISTED || res == TR_BAD_BLOCK) && t.after == OS_NULL)
            {
                oh_print(" region %p..%p (%s, %zu bytes for blocks)\n  state address    usable bytes  task\n",
                         (const void *)lo, (const void *)hi, alg, total);
            }
            trace_print(&t);
            if (t.n != 0)
            {
                t.after = t.line[t.n - 1].mem;
            }
        } while (res == TR_LISTED && t.n == TRACE_BATCH);
        if (res == TR_BAD_LIST || res == TR_BAD_BLOCK)
        {
            err = OS_ERROR;
        }
    }
    if (res == TR_CHANGED)
    {
        oh_print(" (the heap's regions changed while it was listed)\n");
    }
#ifdef OS_USING_MEM_TRACE
    trace_tasks(heap);
#endif
    return err;
}
