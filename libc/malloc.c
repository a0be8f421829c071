/*
 * malloc.c - liboneheap-malloc.so: the C library's allocation interface on
 * oneheap heaps, for LD_PRELOAD (or linking) on Linux.
 *
 * Arenas. The thread that starts the library (the main thread, in
 * practice) allocates from the system heap; every other thread is given
 * one of up to MAX_ARENAS - 1 user heaps ("arena-1", ...), round-robin, so
 * threads rarely share a heap lock. A block is freed into the heap it came
 * from, whichever thread frees it; realloc, malloc_usable_size and free
 * find that heap from the block's address in O(1), without a lock, through
 * a two-level table indexed by 1 MiB slots of the address space.
 *
 * Memory comes from the OS in regions reserved with mmap (1 MiB aligned,
 * a whole number of slots) and added to the arena's heap; when no region
 * of the arena can serve a request, one more region is added (at least
 * ONEHEAP_REGION_SIZE bytes, default 64 MiB; a larger request gets a region
 * of its own size; if the OS refuses that, a region just large enough for
 * the request, and failing that the other arenas as they are). Untouched
 * pages of a region cost no memory. The library
 * is built with a 16-byte minimum alignment, so every pointer meets
 * alignof(max_align_t) without a slow path.
 *
 * Environment:
 *   ONEHEAP_REGION_SIZE=N[K|M|G]   size of each added region (rounded up to 1 MiB)
 *   ONEHEAP_ALG=firstfit|buddy      algorithm of the regions (default: the first built in)
 *   ONEHEAP_ARENAS=N                heaps in all, the system heap included (1..32, else reported;
 *                                   default: 2 per processor + 1; 1 = every thread
 *                                   on the system heap)
 *   OS_MEMHEAP_CHECK_ON_EXIT=1      check every heap at exit; on failure
 *                                   print the report and exit with status 99
 *   OS_MEMHEAP_STATS_ON_EXIT=1      print total / used / max used at exit
 *
 * Start-up: the first call sets the system heap up; it needs no dlsym and
 * no allocation of its own, so it works before main and inside the dynamic
 * loader's own start-up calls. Fork: every lock of the library is taken
 * around fork (pthread_atfork), so the child inherits consistent heaps.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include <os_memory.h>

#include "fmt.h"
#include "region.h"
#include "port.h"

#define EXPORT __attribute__((visibility("default")))

#define DEFAULT_REGION  ((size_t)64 << 20)
#define MAX_ARENAS      32

/* The owner table: slot = address >> SLOT_SHIFT; two levels cover 47 bits. */
#define SLOT_SHIFT      20
#define LEAF_BITS       16
#define ROOT_BITS       (47 - SLOT_SHIFT - LEAF_BITS)
#define SLOT            ((size_t)1 << SLOT_SHIFT)

enum { UNINIT, STARTING, READY };

struct arena
{
    os_memheap_t   *heap;       /* &own, or the system heap for arena 0 */
    os_memheap_t    own;
    pthread_mutex_t grow;       /* serialises adding regions */
    int             live;       /* set up (written once, under arena_lock) */
};

static int state = UNINIT;
static size_t region_size = DEFAULT_REGION;
static enum os_mem_alg region_alg = OS_MEM_ALG_DEFAULT;
static unsigned narenas = 1;
static unsigned next_arena;
static struct arena arenas[MAX_ARENAS];
static pthread_mutex_t arena_lock = PTHREAD_MUTEX_INITIALIZER;
static struct arena **owners[(size_t)1 << ROOT_BITS];   /* leaves: mmap'd on demand */

static pthread_key_t tc_key;       /* the thread cache's destructor (see tc_flush) */
static int tc_key_ok;              /* tc_key was made: else no thread caches anything */
/* TC_KEY_WORDS words of 64 random bits in all (see tc_marked and tc_secret_init). */
#define TC_KEY_WORDS    (8 / sizeof(uintptr_t))
static uintptr_t tc_secret[TC_KEY_WORDS];
static void tc_flush(void *unused);
static int tc_register(void);

/* This thread's arena + 1 (0: not chosen yet). */
static __thread unsigned my_arena __attribute__((tls_model("initial-exec")));

/*
 * Set while this thread sets the heap up (start()), once the system heap
 * serves: a call it makes from there on (pthread_atfork and atexit may
 * allocate) goes through, where any other thread still waits for READY.
 */
static __thread int starting __attribute__((tls_model("initial-exec")));

static void say(const char *s)
{
    ssize_t n = write(2, s, strlen(s));
    (void)n;
}

static void error_hook(const char *heap_name, const void *addr, os_err_t code, const char *msg)
{
    (void)heap_name;
    (void)addr;
    (void)code;
    say("oneheap: ");
    say(msg);
    say("\n");
}

/* A number with an optional K, M or G suffix and nothing after it; 0 if s is none (or it overflows). */
static size_t parse_size(const char *s)
{
    size_t v = 0;
    unsigned shift = 0;

    if (s == NULL || *s < '0' || *s > '9')
    {
        return 0;
    }
    for (; *s >= '0' && *s <= '9'; s++)
    {
        if (v > (SIZE_MAX - 9u) / 10u)
        {
            return 0;
        }
        v = v * 10u + (size_t)(*s - '0');
    }
    switch (*s)
    {
    case 'K': case 'k': shift = 10; s++; break;
    case 'M': case 'm': shift = 20; s++; break;
    case 'G': case 'g': shift = 30; s++; break;
    default: break;
    }
    if (*s != '\0' || v > (SIZE_MAX >> shift))
    {
        return 0;
    }
    return v << shift;
}

/* The arena whose heap holds p, or NULL. Lock-free: entries are only ever added. */
static struct arena *owner(const void *p)
{
    uintptr_t slot = (uintptr_t)p >> SLOT_SHIFT;
    struct arena **leaf;

    if ((slot >> LEAF_BITS) >= ((uintptr_t)1 << ROOT_BITS))
    {
        return NULL;
    }
    leaf = __atomic_load_n(&owners[slot >> LEAF_BITS], __ATOMIC_ACQUIRE);
    return leaf == NULL ? NULL : __atomic_load_n(&leaf[slot & (((uintptr_t)1 << LEAF_BITS) - 1)], __ATOMIC_ACQUIRE);
}

/* Record a (or NULL) as the owner of [mem, mem + size). arena_lock held. */
static int set_owner(void *mem, size_t size, struct arena *a)
{
    uintptr_t slot = (uintptr_t)mem >> SLOT_SHIFT, last = slot + (size >> SLOT_SHIFT);    /* (no wrap at the top) */

    for (; slot < last; slot++)
    {
        struct arena **leaf;

        if ((slot >> LEAF_BITS) >= ((uintptr_t)1 << ROOT_BITS))
        {
            return -1;
        }
        leaf = owners[slot >> LEAF_BITS];
        if (leaf == NULL)
        {
            void *m = mmap(NULL, sizeof(*leaf) << LEAF_BITS, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

            if (m == MAP_FAILED)
            {
                return -1;
            }
            leaf = m;
            __atomic_store_n(&owners[slot >> LEAF_BITS], leaf, __ATOMIC_RELEASE);
        }
        __atomic_store_n(&leaf[slot & (((uintptr_t)1 << LEAF_BITS) - 1)], a, __ATOMIC_RELEASE);
    }
    return 0;
}

/*
 * The smallest region, in whole slots, that surely serves a request of
 * `need` bytes (the size plus the alignment asked; need <= SIZE_MAX / 4),
 * or 0 if no region the algorithm manages in one piece can. First-fit:
 * the request and 64 KiB for the control data and the headers. Buddy: with
 * p2 the next power of two above the request and its header, 2 * p2 bytes
 * after the control data always hold a naturally aligned block of p2
 * bytes, and the control data takes less than p2 / 16.
 */
static size_t least_region(size_t need)
{
    const struct os_mem_ops *ops = oh_alg_ops(region_alg);
    size_t least;

    if (ops == NULL)
    {
        return 0;
    }
    least = need + 65536;
#ifdef OS_USING_ALG_BUDDY
    if (ops == oh_alg_ops(OS_MEM_ALG_BUDDY))
    {
        size_t p2 = 65536;

        while (p2 < need + 65536)
        {
            p2 <<= 1;
        }
        if (p2 > SIZE_MAX / 3)
        {
            return 0;       /* (2 * p2 would wrap in a 32-bit program: no region could serve it) */
        }
        least = 2 * p2 + p2 / 16;
    }
#endif
    least = (least + SLOT - 1) & ~(SLOT - 1);
    return least <= ops->max_region ? least : 0;
}

/*
 * Reserve a region of at least `need` bytes from the OS and add it to a's
 * heap: ONEHEAP_REGION_SIZE bytes, or the least region that serves the
 * request when that is larger or when the OS refuses the usual size (an
 * address-space limit). Pages never touched cost nothing. a->grow held.
 * It may leave errno changed; grow() keeps it.
 */
static int grow_region(struct arena *a, size_t need)
{
    size_t least, size;
    uintptr_t lo, hi;
    void *mem;
    int err;

    /* Nothing is reserved for a request no region could serve: refused at once. */
    if (need > SIZE_MAX / 4 || (least = least_region(need)) == 0)
    {
        return -1;
    }
    size = (region_size + SLOT - 1) & ~(SLOT - 1);
    if (size < least)
    {
        size = least;
    }
    /* A whole number of slots, slot-aligned: reserve one slot more, trim. */
    while ((mem = mmap(NULL, size + SLOT, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
                       0)) == MAP_FAILED)
    {
        if (size == least)
        {
            return -1;
        }
        size = least;
    }
    lo = ((uintptr_t)mem + SLOT - 1) & ~(uintptr_t)(SLOT - 1);
    hi = lo + size;
    if (lo > (uintptr_t)mem)
    {
        munmap(mem, lo - (uintptr_t)mem);
    }
    if ((uintptr_t)mem + size + SLOT > hi)
    {
        munmap((void *)hi, (uintptr_t)mem + size + SLOT - hi);
    }
    mem = (void *)lo;
    /* Owned before any block of it exists, so a free from any thread finds it. */
    pthread_mutex_lock(&arena_lock);
    err = set_owner(mem, size, a);
    pthread_mutex_unlock(&arena_lock);
    if (err == 0 && os_memheap_add(a->heap, mem, size, region_alg) == OS_EOK)
    {
        return 0;
    }
    pthread_mutex_lock(&arena_lock);
    (void)set_owner(mem, size, NULL);
    pthread_mutex_unlock(&arena_lock);
    munmap(mem, size);
    return -1;
}

/*
 * grow_region() with errno kept whatever the outcome (the OS may refuse the
 * usual size, or every size): the caller may still serve the request from
 * another heap, and sets ENOMEM itself when nothing does.
 */
static int grow(struct arena *a, size_t need)
{
    int saved = errno, err = grow_region(a, need);

    errno = saved;
    return err;
}

/*
 * Lock order, as everywhere else: every arena's grow lock (an allocation
 * that grows its heap holds it while grow() takes arena_lock), arena_lock,
 * the global heap lock, every heap lock.
 */
static void fork_prepare(void)
{
    unsigned i;

    for (i = 0; i < narenas; i++)
    {
        pthread_mutex_lock(&arenas[i].grow);
    }
    pthread_mutex_lock(&arena_lock);
    (void)os_port_lock(&oh_global_lock);
    for (i = 0; i < narenas; i++)
    {
        if (arenas[i].live)
        {
            (void)os_port_lock(&arenas[i].heap->lock);
        }
    }
}

static void fork_release(void)
{
    unsigned i;

    for (i = narenas; i-- > 0;)
    {
        if (arenas[i].live)
        {
            os_port_unlock(&arenas[i].heap->lock, 0);
        }
    }
    os_port_unlock(&oh_global_lock, 0);
    pthread_mutex_unlock(&arena_lock);
    for (i = narenas; i-- > 0;)
    {
        pthread_mutex_unlock(&arenas[i].grow);
    }
}

static void at_exit(void)
{
    unsigned i;

    tc_flush(NULL);     /* this thread's cached blocks count as free from here on */

    if (getenv("OS_MEMHEAP_STATS_ON_EXIT") != NULL)
    {
        os_size_t total = 0, used = 0, maxused = 0;
        unsigned heaps = 0;
        char line[200];

        for (i = 0; i < narenas; i++)
        {
            if (arenas[i].live)
            {
                os_meminfo_t info;

                heaps++;
                os_memheap_info(arenas[i].heap, &info);
                total += info.mem_total;
                used += info.mem_used;
                maxused += info.mem_maxused;
            }
        }
        (void)oh_snprintf(line, sizeof(line), "oneheap: total %zu, used %zu, max used %zu (sum of the peaks of %u heap%s)\n",
                          total, used, maxused, heaps, heaps == 1 ? "" : "s");
        say(line);
    }
    if (getenv("OS_MEMHEAP_CHECK_ON_EXIT") != NULL)
    {
        for (i = 0; i < narenas; i++)
        {
            if (arenas[i].live && os_memheap_check(arenas[i].heap) != OS_EOK)
            {
                say("oneheap: a heap failed its check at exit\n");
                (void)fflush(NULL);     /* _exit() skips stdio: keep what the program wrote */
                _exit(99);
            }
        }
    }
}

/* A mixing function of 64 bits (a bijection, so no two inputs give one output). */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x7FB5D329728EA185u;
    x ^= x >> 27;
    x *= 0x81DADEF4BC2DD44Du;
    x ^= x >> 33;
    return x;
}

/*
 * The thread cache's secret: 64 bits from getrandom(), or if the kernel
 * gives none, the 16 random bytes it hands every process (AT_RANDOM),
 * hashed, so that a key read from a block tells nothing of those bytes
 * (the C library takes its stack-protector and pointer-guard values from
 * them). No call here allocates; errno is kept.
 */
static void tc_secret_init(void)
{
    int saved = errno;
    uint64_t bits = 0;
    unsigned i;

    if (getrandom(&bits, sizeof(bits), GRND_NONBLOCK) != (ssize_t)sizeof(bits))
    {
        const unsigned char *r = (const unsigned char *)getauxval(AT_RANDOM);
        uint64_t lo = 0, hi = 0;

        if (r != NULL)
        {
            memcpy(&lo, r, sizeof(lo));
            memcpy(&hi, r + 8, sizeof(hi));
        }
        bits = mix64(lo ^ mix64(hi ^ (uint64_t)(uintptr_t)&bits ^ ((uint64_t)getpid() << 32)));
    }
    errno = saved;
    for (i = 0; i < TC_KEY_WORDS; i++)
    {
        tc_secret[i] = (uintptr_t)(bits >> (i * 32u));
    }
}

static void start(void)
{
    int expected = UNINIT;

    if (__atomic_compare_exchange_n(&state, &expected, STARTING, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    {
        const char *alg = getenv("ONEHEAP_ALG");
        size_t sz = parse_size(getenv("ONEHEAP_REGION_SIZE"));
        size_t n = parse_size(getenv("ONEHEAP_ARENAS"));
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        unsigned i;

        if (sz >= 65536)
        {
            region_size = sz;
        }
        else if (getenv("ONEHEAP_REGION_SIZE") != NULL)
        {
            say("oneheap: ONEHEAP_REGION_SIZE is not a size of 64K or more; using 64M\n");
        }
        if (getenv("ONEHEAP_ARENAS") != NULL && (n < 1 || n > MAX_ARENAS))
        {
            say("oneheap: ONEHEAP_ARENAS is not a number of heaps from 1 to 32; using the default\n");
            n = 0;
        }
        narenas = n >= 1 ? (unsigned)n
                         : (cpus >= 1 && cpus < MAX_ARENAS / 2 ? (unsigned)(2 * cpus + 1) : MAX_ARENAS);
        if (alg != NULL)
        {
#ifdef OS_USING_ALG_FIRSTFIT
            if (strcmp(alg, "firstfit") == 0)
            {
                region_alg = OS_MEM_ALG_FIRSTFIT;
            }
            else
#endif
#ifdef OS_USING_ALG_BUDDY
            if (strcmp(alg, "buddy") == 0)
            {
                region_alg = OS_MEM_ALG_BUDDY;
            }
            else
#endif
            {
                say("oneheap: ONEHEAP_ALG names an algorithm this library was not built with "
                    "(firstfit: ONEHEAP_ALG_FIRSTFIT, buddy: ONEHEAP_ALG_BUDDY); using the default\n");
            }
        }
        for (i = 0; i < MAX_ARENAS; i++)
        {
            pthread_mutex_init(&arenas[i].grow, NULL);
        }
        tc_key_ok = pthread_key_create(&tc_key, tc_flush) == 0;
        tc_secret_init();
        os_mem_set_error_hook(error_hook);
        os_sys_heap_init();
        arenas[0].heap = os_sys_heap();
        arenas[0].live = 1;
        my_arena = 1;
        (void)grow(&arenas[0], 0);
        /*
         * The fork handlers are in place before any other thread can
         * allocate, so no fork can copy a heap in the middle of a call.
         * Both registrations may allocate: starting lets this thread's
         * calls through. (Atomic: only a call back into this file reads
         * it, and the compiler dropped a plain store before the calls.)
         */
        __atomic_store_n(&starting, 1, __ATOMIC_RELAXED);
        (void)pthread_atfork(fork_prepare, fork_release, fork_release);
        (void)atexit(at_exit);
        __atomic_store_n(&starting, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&state, READY, __ATOMIC_RELEASE);
        return;
    }
    if (__atomic_load_n(&starting, __ATOMIC_RELAXED))
    {
        return;
    }
    while (__atomic_load_n(&state, __ATOMIC_ACQUIRE) != READY)
    {
        /* another thread is setting the heap up */
    }
}

static inline void ready(void)
{
    if (__builtin_expect(__atomic_load_n(&state, __ATOMIC_ACQUIRE) != READY, 0))
    {
        start();
    }
}

/* Pick this thread's arena (round-robin over the user heaps) and set it up if needed. */
static struct arena *choose_arena(void)
{
    struct arena *a = &arenas[0];

    pthread_mutex_lock(&arena_lock);
    if (narenas > 1)
    {
        unsigned i = 1 + next_arena++ % (narenas - 1);

        a = &arenas[i];
        if (!a->live)
        {
            char name[16];

            (void)oh_snprintf(name, sizeof(name), "arena-%u", i);
            if (os_memheap_init(&a->own, name) == OS_EOK)
            {
                a->heap = &a->own;
                __atomic_store_n(&a->live, 1, __ATOMIC_RELEASE);
            }
            else
            {
                a = &arenas[0];
            }
        }
    }
    pthread_mutex_unlock(&arena_lock);
    my_arena = (unsigned)(a - arenas) + 1;
    /*
     * The cache's destructor is set now, at the thread's first allocation:
     * a thread whose first cached free came only after the destructor
     * rounds (the C library frees its own per-thread state then) would
     * otherwise cache blocks that no destructor flushes.
     */
    (void)tc_register();
    return a;
}

static inline struct arena *this_arena(void)
{
    return __builtin_expect(my_arena != 0, 1) ? &arenas[my_arena - 1] : choose_arena();
}

/*
 * This thread's heap cannot grow (the OS refused a region): try the other
 * heaps as they are. A block is freed into whichever heap holds it.
 */
static OH_NOINLINE void *take_elsewhere(const struct arena *a, size_t align, size_t size)
{
    unsigned i;

    for (i = 0; i < narenas; i++)
    {
        if (&arenas[i] != a && __atomic_load_n(&arenas[i].live, __ATOMIC_ACQUIRE))
        {
            void *p = os_memheap_aligned_alloc(arenas[i].heap, align, size);

            if (p != NULL)
            {
                return p;
            }
        }
    }
    errno = ENOMEM;
    return NULL;
}

/* The heap that holds ptr; the system heap (which reports it) if none does. */
static inline os_memheap_t *heap_of(const void *ptr)
{
    struct arena *a = owner(ptr);

    return a != NULL ? a->heap : os_sys_heap();
}

/*
 * Large blocks (RETURN_PAGES or more). Free gives the whole pages inside
 * one back to the OS (MADV_DONTNEED: they read as zeros and take no memory
 * until written) before the block goes back to its heap, while it is still
 * the caller's, so no other thread can have been handed them. Not at
 * hardening full, where free fills the block with the freed-memory pattern.
 *
 * But a program that frees a large buffer and asks for one again (a buffer
 * per request, per frame) would fault every page in again each time. So
 * freed large blocks keep their pages while `retained`, the bytes of those
 * kept so far less the bytes of the large blocks handed out since (which
 * most likely reuse them), stays within RETAIN_BYTES: a loop over a buffer
 * of up to RETAIN_BYTES keeps its pages, and the memory kept resident that
 * way stays about RETAIN_BYTES. The old block of a realloc that moved
 * always gives its pages back (a buffer that grows does not come back).
 */
#define RETURN_PAGES    ((size_t)256 << 10)
#define RETAIN_BYTES    ((size_t)4 << 20)

static size_t retained;

/* A large block of n usable bytes was handed out: it takes its share of the retained pages. */
static void retained_taken(size_t n)
{
    size_t r = __atomic_load_n(&retained, __ATOMIC_RELAXED);

    while (r != 0 && !__atomic_compare_exchange_n(&retained, &r, r > n ? r - n : 0, 1, __ATOMIC_RELAXED,
                                                  __ATOMIC_RELAXED))
    {
    }
}

/*
 * Allocate from this thread's heap with os_memheap_aligned_alloc semantics,
 * adding a region if needed, else from another heap.
 */
static void *take(size_t align, size_t size)
{
    struct arena *a;
    void *p;

    ready();
    a = this_arena();
    if (size == 0)
    {
        size = 1;   /* malloc(0): a unique pointer that free accepts */
    }
    p = os_memheap_aligned_alloc(a->heap, align, size);
    if (__builtin_expect(p == NULL, 0))
    {
        pthread_mutex_lock(&a->grow);
        p = os_memheap_aligned_alloc(a->heap, align, size);     /* another thread may have grown it */
        if (p == NULL && size <= SIZE_MAX / 4 && align <= SIZE_MAX / 4 && grow(a, size + align) == 0)
        {
            p = os_memheap_aligned_alloc(a->heap, align, size);
        }
        pthread_mutex_unlock(&a->grow);
        if (p == NULL)
        {
            p = take_elsewhere(a, align, size);
        }
    }
    if (p != NULL && size >= RETURN_PAGES)
    {
        retained_taken(os_memheap_usable_size(heap_of(p), p));  /* (what a free of it would count) */
    }
    return p;
}

/*
 * Thread cache. Each thread keeps a few freed small blocks per 16-byte
 * class and hands them out again without any lock or list work in the heap;
 * to the heap they stay allocated (they count in mem_used). A block enters
 * class usable / 16 (so it serves every request of that class), and a miss
 * allocates the class's full size. A cached block carries a key (its
 * address mixed with 64 random bits of the process) after its link, which
 * is cleared as it leaves the cache: a free of a block that carries its
 * key is a second free of a block that some thread's cache holds, and is
 * reported (saying whether the freeing thread's own cache holds it)
 * instead of being cached twice, by whichever thread. The link to the next
 * block is stored mixed with the key, and a block is handed out only if
 * its key is whole and the link it leaves behind names a block of a
 * region: a write into a cached block (after its free) is reported and
 * the class's list dropped (its blocks stay allocated) rather than
 * followed. The cache is given back to the heaps when the thread ends,
 * and never holds more than TC_BYTES.
 * Builds for a memory checker (ONEHEAP_VALGRIND) and builds at hardening
 * tail or full have no cache: every free reaches the heap, which tells the
 * checker the block is gone, or checks the block's canary and fills it
 * with the freed-memory pattern.
 */
#define TC_CLASSES  64              /* classes of 16 bytes: blocks up to 1 KiB */
#define TC_DEPTH    8               /* blocks per class */
#define TC_BYTES    ((size_t)32 << 10)
#if defined(OS_MEM_VALGRIND) || defined(OS_MEM_ASAN) || OS_MEM_HARDENING >= 2
#define TC_ON       0
#else
#define TC_ON       1
#endif

struct tcache
{
    void    **head[TC_CLASSES];
    uint8_t   count[TC_CLASSES];
    size_t    bytes;
};

static __thread struct tcache tc __attribute__((tls_model("initial-exec")));
/*
 * 0: no destructor yet; 1: the key's destructor will flush the cache;
 * 2: flushed, the thread is ending (or the key could not be made)
 */
static __thread int tc_registered __attribute__((tls_model("initial-exec")));

/*
 * The key a cached block b carries in its words 1 .. TC_KEY_WORDS (64 bits:
 * one word, or two in a 32-bit program; a block of the cache has 16 bytes
 * or more): its address mixed with the secret. A live block whose program
 * data happens to equal it would be taken for a cached one; with 64 random
 * bits that chance is 2^-64 per call, whatever the data (32 bits proved too
 * few: a 32-bit test filling blocks with one byte value met it).
 */
static inline int tc_marked(void *const *b)
{
    unsigned i;

    for (i = 0; i < TC_KEY_WORDS; i++)
    {
        if (b[1 + i] != (void *)((uintptr_t)b ^ tc_secret[i]))
        {
            return 0;
        }
    }
    return 1;
}

/* Could x be the next block of a list: none, or a block on the 16-byte grid of a region? */
static inline int tc_linkable(void *const *x)
{
    return x == NULL || (((uintptr_t)x & 15u) == 0 && owner(x) != NULL);
}

/* The block after cached block b (its key checked), stored mixed with b's key. */
static inline void **tc_next(void *const *b)
{
    return (void **)((uintptr_t)b[0] ^ (uintptr_t)b[1]);
}

/* Make this thread's cache flushed at thread exit (the key's destructor); 0 if it cannot be. */
static int tc_register(void)
{
    if (tc_registered == 0)
    {
        tc_registered = 1;
        if (!TC_ON || !tc_key_ok || pthread_setspecific(tc_key, &tc) != 0)
        {
            tc_registered = 2;
        }
    }
    return tc_registered == 1;
}

/*
 * Cached block b, the head of class c, has lost its key, or names a next
 * block outside the regions: a write after free. Reported; the list is
 * dropped (its blocks stay allocated: none is followed or handed out).
 */
static OH_NOINLINE void tc_broken(unsigned c, void **b)
{
    char msg[200];

    const char *name = heap_of(b)->name;     /* (b is on the grid of a region: checked as it was linked) */

    (void)oh_snprintf(msg, sizeof(msg), "heap '%s': freed block in the thread cache overwritten (written after "
                      "free?) at %p; %u cached block%s dropped", name, (void *)b, tc.count[c], tc.count[c] == 1 ? "" : "s");
    error_hook(name, b, OS_ERROR, msg);
    tc.bytes -= (size_t)tc.count[c] * ((size_t)c << 4);
    tc.head[c] = NULL;
    tc.count[c] = 0;
}

/* Take the head of class c out of the cache, its key cleared: NULL if none, or if it was overwritten (reported). */
static inline void *tc_take(unsigned c)
{
    void **b = tc.head[c], **nx;
    unsigned i;

    if (b == NULL)
    {
        return NULL;
    }
    nx = tc_next(b);
    if (__builtin_expect(!tc_marked(b) || !tc_linkable(nx), 0))
    {
        tc_broken(c, b);
        return NULL;
    }
    tc.head[c] = nx;
    tc.count[c]--;
    tc.bytes -= (size_t)c << 4;
    for (i = 0; i < TC_KEY_WORDS; i++)
    {
        b[1 + i] = NULL;        /* no longer carries the key */
    }
    return b;
}

/*
 * Give every cached block of this thread back to its heap (the key's
 * destructor at thread exit, and at process exit). The cache takes nothing
 * from then on: a free made later, by another destructor or by the C
 * library's own clean-up after the last destructor round, goes straight
 * to the heap.
 */
static void tc_flush(void *unused)
{
    unsigned c;

    (void)unused;
    tc_registered = 2;
    for (c = 0; c < TC_CLASSES; c++)
    {
        void *b;

        while ((b = tc_take(c)) != NULL)
        {
            os_memheap_free(heap_of(b), b);
        }
    }
}

/* Is b in this thread's cache, class c? (Follows at most the class's count of sound links.) */
static int tc_holds(const void *b, unsigned c)
{
    void **x = tc.head[c];
    unsigned n;

    for (n = tc.count[c]; x != NULL && n > 0 && tc_marked(x); n--)
    {
        if (x == b)
        {
            return 1;
        }
        x = tc_next(x);
        if (!tc_linkable(x))
        {
            break;
        }
    }
    return 0;
}

/*
 * Does ptr, with `usable` bytes in heap (0: not a live block of it), carry
 * the key of a cached block, so that the program freed it already?
 * Reported, as a `what` of a freed block, if so.
 */
static int tc_keyed(void *ptr, const os_memheap_t *heap, size_t usable, const char *what)
{
    void **b = ptr;
    unsigned c = (unsigned)(usable >> 4);
    char msg[120];

    /* (usable >= 16: the key's words are the block's) */
    if (!TC_ON || c == 0 || c >= TC_CLASSES || ((uintptr_t)ptr & 15u) != 0 || !tc_marked(b))
    {
        return 0;
    }
    (void)oh_snprintf(msg, sizeof(msg), "heap '%s': %s (block is in %s thread's cache) at %p", heap->name, what,
                      tc_holds(b, c) ? "this" : "another", ptr);
    error_hook(heap->name, ptr, OS_EINVAL, msg);
    return 1;
}

/* Cache ptr if it is a small block of ours and there is room: 1 if cached (or a reported double free). */
static int tc_put(void *ptr)
{
    void **b = ptr;
    struct arena *a = owner(ptr);
    size_t usable;
    unsigned c, i;

    /* Ours and on the 16-byte grid, so its first 16 bytes are in a region. */
    if (!TC_ON || a == NULL || ((uintptr_t)ptr & 15u) != 0)
    {
        return 0;
    }
    usable = os_memheap_usable_size(a->heap, ptr);  /* 0: not a live block (free reports it) */
    if (tc_keyed(ptr, a->heap, usable, "double free"))
    {
        return 1;
    }
    c = (unsigned)(usable >> 4);
    if (c == 0 || c >= TC_CLASSES || tc.count[c] >= TC_DEPTH || tc.bytes + ((size_t)c << 4) > TC_BYTES)
    {
        return 0;
    }
    if (__builtin_expect(tc_registered != 1, 0) && !tc_register())
    {
        return 0;
    }
    for (i = 0; i < TC_KEY_WORDS; i++)
    {
        b[1 + i] = (void *)((uintptr_t)b ^ tc_secret[i]);
    }
    b[0] = (void *)((uintptr_t)tc.head[c] ^ (uintptr_t)b[1]);
    tc.head[c] = b;
    tc.count[c]++;
    tc.bytes += (size_t)c << 4;
    return 1;
}

EXPORT void *malloc(size_t size)
{
    if (size - 1 < ((size_t)TC_CLASSES - 1) << 4)
    {
        unsigned c = (unsigned)((size + 15) >> 4);
        void *p = tc_take(c);

        return p != NULL ? p : take(0, (size_t)c << 4);
    }
    return take(0, size);
}

/*
 * Give the whole pages in [lo, hi) back to the OS: they read as zeros from
 * then on. 0 if the OS refused (locked pages: mlock); errno is kept either
 * way, as free() and a successful call must keep it.
 */
static int pages_drop(uintptr_t lo, uintptr_t hi)
{
    int saved = errno, ok = madvise((void *)lo, hi - lo, MADV_DONTNEED) == 0;

    errno = saved;
    return ok;
}

/* The whole pages inside block p of n usable bytes, about to be freed, go back to the OS (large blocks). */
static void drop_pages(void *p, size_t n)
{
#if OS_MEM_HARDENING < 3
    if (n >= RETURN_PAGES)
    {
        uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
        uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1);
        uintptr_t hi = ((uintptr_t)p + n) & ~(page - 1);

        (void)pages_drop(lo, hi);
    }
#else
    (void)p;
    (void)n;
#endif
}

#if OS_MEM_HARDENING < 3
/* Block p of n usable bytes is about to be freed: keep its pages if the budget allows, else drop them. */
static void keep_or_drop(void *p, size_t n)
{
    size_t r;

    if (n < RETURN_PAGES)
    {
        return;
    }
    r = __atomic_load_n(&retained, __ATOMIC_RELAXED);
    while (n <= RETAIN_BYTES - r)
    {
        if (__atomic_compare_exchange_n(&retained, &r, r + n, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        {
            return;
        }
    }
    drop_pages(p, n);
}
#endif

/* Called by the core (OH_MOVED_BLOCK) for the old block of a realloc that it moved. */
void oh_malloc_moved(void *old, os_size_t usable)
{
    drop_pages(old, usable);
}

static void release(void *ptr)
{
    os_memheap_t *heap = heap_of(ptr);

#if OS_MEM_HARDENING < 3
    keep_or_drop(ptr, os_memheap_usable_size(heap, ptr));     /* 0, unreported, if ptr is no live block */
#endif
    os_memheap_free(heap, ptr);
}

EXPORT void free(void *ptr)
{
    if (ptr != NULL)
    {
        ready();
        if (!tc_put(ptr))
        {
            release(ptr);
        }
    }
}

/*
 * Zero n bytes at p. Whole pages inside a large block are dropped with
 * MADV_DONTNEED instead: the regions are private anonymous mappings, so the
 * pages read back as zeros and take no memory until the program writes
 * them (as glibc's calloc of fresh mmap memory does not touch them).
 */
#define ZERO_BY_PAGES   ((size_t)256 << 10)

static void zero(void *p, size_t n)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t hi = ((uintptr_t)p + n) & ~(page - 1);

    if (n < ZERO_BY_PAGES || hi <= lo || !pages_drop(lo, hi))
    {
        memset(p, 0, n);
        return;
    }
    memset(p, 0, lo - (uintptr_t)p);
    memset((void *)hi, 0, (uintptr_t)p + n - hi);
}

EXPORT void *calloc(size_t count, size_t size)
{
    void *p;

    if (size != 0 && count > SIZE_MAX / size)
    {
        errno = ENOMEM;
        return NULL;
    }
    p = take(0, count * size);
    if (p != NULL)
    {
        zero(p, count * size);
    }
    return p;
}

EXPORT void *realloc(void *ptr, size_t size)
{
    os_memheap_t *heap;
    void *p;

    if (ptr == NULL)
    {
        return take(0, size);
    }
    if (size == 0)
    {
        free(ptr);
        return NULL;
    }
    ready();
    heap = heap_of(ptr);
    if (tc_keyed(ptr, heap, os_memheap_usable_size(heap, ptr), "realloc of a freed block"))
    {
        errno = EINVAL;
        return NULL;
    }
    p = os_memheap_realloc(heap, ptr, size);
    if (p == NULL)
    {
        /* Out of room in that heap: move by hand to this thread's (grown) heap. */
        size_t old = os_memheap_usable_size(heap, ptr);

        if (old == 0)
        {
            errno = EINVAL;     /* not ours: reported by the heap */
            return NULL;
        }
        p = take(0, size);
        if (p != NULL)
        {
            memcpy(p, ptr, old < size ? old : size);
            drop_pages(ptr, old);       /* (as the core's moves do) */
            os_memheap_free(heap, ptr);
        }
    }
    return p;
}

EXPORT void *reallocarray(void *ptr, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
    {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(ptr, count * size);
}

static size_t pow2_at_least(size_t x)
{
    size_t p = 1;

    while (p < x && p != 0)
    {
        p <<= 1;
    }
    return p;
}

EXPORT void *memalign(size_t align, size_t size)
{
    if (align > SIZE_MAX / 4)
    {
        errno = EINVAL;
        return NULL;
    }
    return take(pow2_at_least(align), size);
}

EXPORT void *aligned_alloc(size_t align, size_t size)
{
    if (align == 0 || (align & (align - 1)) != 0 || align > SIZE_MAX / 4)
    {
        errno = EINVAL;
        return NULL;
    }
    return take(align, size);
}

EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
    int saved = errno;
    void *p;

    if (align < sizeof(void *) || (align & (align - 1)) != 0)
    {
        return EINVAL;
    }
    p = align <= SIZE_MAX / 4 ? take(align, size) : NULL;     /* a valid alignment too large to serve: ENOMEM */
    errno = saved;      /* (take() sets ENOMEM when it fails: posix_memalign returns it instead) */
    if (p == NULL)
    {
        return ENOMEM;
    }
    *out = p;
    return 0;
}

EXPORT void *valloc(size_t size)
{
    return take((size_t)sysconf(_SC_PAGESIZE), size);
}

EXPORT void *pvalloc(size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);

    if (size > SIZE_MAX - page)
    {
        errno = ENOMEM;
        return NULL;
    }
    return take(page, (size + page - 1) & ~(page - 1));
}

EXPORT size_t malloc_usable_size(void *ptr)
{
    if (ptr == NULL)
    {
        return 0;
    }
    ready();
    return os_memheap_usable_size(heap_of(ptr), ptr);
}
