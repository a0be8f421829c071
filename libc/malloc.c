/*
 * malloc.c - liboneheap-malloc.so: the C library's allocation interface on
 * the oneheap system heap, for LD_PRELOAD (or linking) on Linux.
 *
 * Memory comes from the OS in regions reserved with mmap and added with
 * os_sys_heap_add(); when no region can serve a request, one more region is
 * added (at least ONEHEAP_REGION_SIZE bytes, default 64 MiB; a larger
 * request gets a region of its own size). Untouched pages of a region cost
 * no memory. The library is built with a 16-byte minimum alignment, so
 * every pointer meets alignof(max_align_t) without a slow path.
 *
 * Environment:
 *   ONEHEAP_REGION_SIZE=N[K|M|G]   size of each added region
 *   ONEHEAP_ALG=firstfit|buddy      algorithm of the regions (default: the first built in)
 *   OS_MEMHEAP_CHECK_ON_EXIT=1      run os_memory_check() at exit; on failure
 *                                   print the report and exit with status 99
 *   OS_MEMHEAP_STATS_ON_EXIT=1      print total / used / max used at exit
 *
 * Start-up: the first call sets the heap up; it needs no dlsym and no
 * allocation of its own, so it works before main and inside the dynamic
 * loader's own start-up calls. Fork: the heap's locks are taken around
 * fork (pthread_atfork), so the child inherits a consistent heap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <os_memory.h>

#include "fmt.h"
#include "region.h"
#include "port.h"

#define EXPORT __attribute__((visibility("default")))

#define DEFAULT_REGION  ((size_t)64 << 20)

enum { UNINIT, STARTING, READY };

static int state = UNINIT;
static size_t region_size = DEFAULT_REGION;
static enum os_mem_alg region_alg = OS_MEM_ALG_DEFAULT;
static pthread_mutex_t grow_lock = PTHREAD_MUTEX_INITIALIZER;

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

static size_t parse_size(const char *s)
{
    size_t v = 0;

    if (s == NULL)
    {
        return 0;
    }
    for (; *s >= '0' && *s <= '9'; s++)
    {
        v = v * 10 + (size_t)(*s - '0');
    }
    switch (*s)
    {
    case 'K': case 'k': v <<= 10; break;
    case 'M': case 'm': v <<= 20; break;
    case 'G': case 'g': v <<= 30; break;
    default: break;
    }
    return v;
}

/* Reserve a region of at least `need` bytes from the OS and add it. */
static int grow(size_t need)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t size = region_size;
    void *mem;

    if (need > SIZE_MAX / 2)
    {
        return -1;
    }
    if (size / 2 < need + 65536)
    {
        /* The next power of two p2 above the request and its header: 2 * p2
         * bytes after the control data always hold a naturally aligned
         * block of p2 bytes (buddy), and the control data takes less than
         * p2 / 16. Pages never touched cost nothing. */
        size_t p2 = 65536;

        while (p2 < need + 65536)
        {
            p2 <<= 1;
        }
        size = 2 * p2 + p2 / 16;
    }
    size = (size + page - 1) & ~(page - 1);
    mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED)
    {
        return -1;
    }
    if (os_sys_heap_add(mem, size, region_alg) != OS_EOK)
    {
        munmap(mem, size);
        return -1;
    }
    return 0;
}

static void fork_prepare(void)
{
    (void)os_port_lock(&oh_global_lock);
    (void)os_port_lock(&os_sys_heap()->lock);
}

static void fork_release(void)
{
    os_port_unlock(&os_sys_heap()->lock, 0);
    os_port_unlock(&oh_global_lock, 0);
}

static void at_exit(void)
{
    if (getenv("OS_MEMHEAP_STATS_ON_EXIT") != NULL)
    {
        os_meminfo_t info;
        char line[160];

        os_memory_info(&info);
        (void)oh_snprintf(line, sizeof(line), "oneheap: total %zu, used %zu, max used %zu\n",
                          info.mem_total, info.mem_used, info.mem_maxused);
        say(line);
    }
    if (getenv("OS_MEMHEAP_CHECK_ON_EXIT") != NULL && os_memory_check() != OS_EOK)
    {
        say("oneheap: the system heap failed its check at exit\n");
        _exit(99);
    }
}

static void start(void)
{
    int expected = UNINIT;

    if (__atomic_compare_exchange_n(&state, &expected, STARTING, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    {
        const char *alg = getenv("ONEHEAP_ALG");
        size_t sz = parse_size(getenv("ONEHEAP_REGION_SIZE"));

        if (sz >= 65536)
        {
            region_size = sz;
        }
#ifdef OS_USING_ALG_FIRSTFIT
        if (alg != NULL && strcmp(alg, "firstfit") == 0)
        {
            region_alg = OS_MEM_ALG_FIRSTFIT;
        }
#endif
#ifdef OS_USING_ALG_BUDDY
        if (alg != NULL && strcmp(alg, "buddy") == 0)
        {
            region_alg = OS_MEM_ALG_BUDDY;
        }
#endif
        os_mem_set_error_hook(error_hook);
        os_sys_heap_init();
        (void)grow(0);
        __atomic_store_n(&state, READY, __ATOMIC_RELEASE);
        /* Both may allocate: the heap is ready by now. */
        (void)pthread_atfork(fork_prepare, fork_release, fork_release);
        (void)atexit(at_exit);
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

/* Allocate with os_aligned_malloc semantics, adding a region if none can serve. */
static void *take(size_t align, size_t size)
{
    void *p;

    ready();
    if (size == 0)
    {
        size = 1;   /* malloc(0): a unique pointer that free accepts */
    }
    p = os_aligned_malloc(align, size);
    if (__builtin_expect(p == NULL, 0))
    {
        pthread_mutex_lock(&grow_lock);
        p = os_aligned_malloc(align, size);     /* another thread may have grown it */
        if (p == NULL && size <= SIZE_MAX / 4 && align <= SIZE_MAX / 4 && grow(size + align) == 0)
        {
            p = os_aligned_malloc(align, size);
        }
        pthread_mutex_unlock(&grow_lock);
        if (p == NULL)
        {
            errno = ENOMEM;
        }
    }
    return p;
}

EXPORT void *malloc(size_t size)
{
    return take(0, size);
}

EXPORT void free(void *ptr)
{
    if (ptr != NULL)
    {
        ready();
        os_free(ptr);
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

    if (n < ZERO_BY_PAGES || hi <= lo || madvise((void *)lo, hi - lo, MADV_DONTNEED) != 0)
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
    p = os_realloc(ptr, size);
    if (p == NULL)
    {
        /* Out of room: grow the heap, then move by hand. */
        size_t old = os_malloc_usable_size(ptr);

        if (old == 0)
        {
            errno = EINVAL;     /* not ours: reported by the heap */
            return NULL;
        }
        p = take(0, size);
        if (p != NULL)
        {
            memcpy(p, ptr, old < size ? old : size);
            os_free(ptr);
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

    if (align < sizeof(void *) || (align & (align - 1)) != 0 || align > SIZE_MAX / 4)
    {
        return EINVAL;
    }
    p = take(align, size);
    if (p == NULL)
    {
        errno = saved;
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
    return os_malloc_usable_size(ptr);
}
