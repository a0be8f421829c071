/*
 * newlib_bridge.c - newlib's allocation interface on the oneheap system
 * heap, for firmware linked with newlib (arm-none-eabi, riscv*-elf).
 *
 * newlib funnels every allocation, its own included (stdio buffers,
 * strdup, the dtoa buffers of printf("%f"), ...), through the reentrant
 * entry points _malloc_r, _free_r, _realloc_r, _calloc_r and _memalign_r;
 * the plain malloc & co. call them with the current reentrancy struct.
 * Defining all of them here, in an object linked before libc.a, keeps
 * newlib's own allocator (mallocr.o and the _sbrk it needs) out of the
 * firmware: each of newlib's functions lives in its own archive member, and
 * a member is pulled in only for a symbol nothing else defines.
 *
 * The system heap must be set up (os_sys_heap_init, os_sys_heap_add)
 * before the first allocation; until then every request fails with ENOMEM
 * and the heap reports the call on an uninitialised heap.
 *
 * Semantics, as C and POSIX ask, on top of the heap's own:
 *  - malloc(0), calloc with a zero size, memalign(a, 0): a unique pointer
 *    (one byte is allocated) that free accepts;
 *  - a failed allocation returns NULL with errno = ENOMEM, stored in the
 *    reentrancy struct the call came with (so a thread's errno is its own);
 *  - realloc(p, 0) frees p and returns NULL without touching errno;
 *    realloc(NULL, n) is malloc(n); a failed realloc leaves p untouched;
 *  - memalign and aligned_alloc with an alignment that is not a power of
 *    two return NULL with errno = EINVAL; posix_memalign returns EINVAL
 *    for that or for an alignment that is not a multiple of sizeof(void *),
 *    and ENOMEM on failure, without changing errno or *memptr;
 *  - free and realloc of a pointer the heap did not hand out are reported
 *    through the heap's error hook and ignored.
 *
 * newlib's own wrappers then reach the system heap too: valloc (through
 * _memalign_r), cfree, strdup, and mallinfo, malloc_stats,
 * mallopt and malloc_trim (through _mallinfo_r, _malloc_stats_r,
 * _mallopt_r and _malloc_trim_r below: newlib keeps its _malloc_trim_r
 * with its _free_r, which would clash). reallocf is defined here too:
 * newlib's frees the block again when realloc(p, 0) has freed it; so is
 * _pvalloc_r, whose newlib-nano version wraps a size near SIZE_MAX to 0.
 */
#include <errno.h>
#include <malloc.h>
#include <reent.h>
#include <stdio.h>
#include <stdlib.h>

#include <os_memory.h>

#if !defined(OS_USING_SYS_HEAP)
#error "the newlib bridge puts malloc on the system heap: build with OS_USING_SYS_HEAP"
#endif

/* errno of the calling context. newlib 4.3 renamed the member behind a macro. */
#ifdef _REENT_ERRNO
#define BRIDGE_ERRNO(r) _REENT_ERRNO(r)
#else
#define BRIDGE_ERRNO(r) ((r)->_errno)
#endif

static void *fail(struct _reent *r, int code)
{
    if (r != NULL)
    {
        BRIDGE_ERRNO(r) = code;
    }
    return NULL;
}

static int is_pow2(size_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

/* ---- the reentrant entry points: what newlib itself calls ----------------------- */

void *_malloc_r(struct _reent *r, size_t size)
{
    void *p = os_malloc(size != 0 ? size : 1);

    return p != NULL ? p : fail(r, ENOMEM);
}

void _free_r(struct _reent *r, void *ptr)
{
    (void)r;
    os_free(ptr);
}

void *_realloc_r(struct _reent *r, void *ptr, size_t size)
{
    void *p;

    if (ptr == NULL)
    {
        return _malloc_r(r, size);
    }
    if (size == 0)
    {
        os_free(ptr);
        return NULL;
    }
    p = os_realloc(ptr, size);
    return p != NULL ? p : fail(r, ENOMEM);
}

void *_calloc_r(struct _reent *r, size_t count, size_t size)
{
    void *p;

    if (size != 0 && count > (size_t)-1 / size)
    {
        return fail(r, ENOMEM);
    }
    if (count == 0 || size == 0)
    {
        count = 1;
        size = 1;
    }
    p = os_calloc(count, size);
    return p != NULL ? p : fail(r, ENOMEM);
}

void *_memalign_r(struct _reent *r, size_t align, size_t size)
{
    void *p;

    if (!is_pow2(align))
    {
        return fail(r, EINVAL);
    }
    p = os_aligned_malloc(align, size != 0 ? size : 1);
    return p != NULL ? p : fail(r, ENOMEM);
}

/*
 * pvalloc (newlib's pvalloc calls this): the size rounded up to whole
 * pages (newlib's page: 4096 bytes), page-aligned. Defined here because
 * newlib-nano's rounds the size with no overflow test, so a size near
 * SIZE_MAX became a block of one byte.
 */
#define BRIDGE_PAGE ((size_t)4096)

void *_pvalloc_r(struct _reent *r, size_t size)
{
    if (size > (size_t)-1 - (BRIDGE_PAGE - 1u))
    {
        return fail(r, ENOMEM);
    }
    return _memalign_r(r, BRIDGE_PAGE, (size + BRIDGE_PAGE - 1u) & ~(BRIDGE_PAGE - 1u));
}

size_t _malloc_usable_size_r(struct _reent *r, void *ptr)
{
    (void)r;
    return ptr != NULL ? os_malloc_usable_size(ptr) : 0;
}

/*
 * mallinfo in the system heap's terms: arena = bytes for blocks,
 * uordblks = bytes in allocated blocks (headers and rounding included),
 * fordblks = the rest, usmblks = the peak of uordblks.
 */
struct mallinfo _mallinfo_r(struct _reent *r)
{
    struct mallinfo mi = {0};
    os_meminfo_t info;

    (void)r;
    os_memory_info(&info);
    mi.arena = info.mem_total;
    mi.uordblks = info.mem_used;
    mi.fordblks = info.mem_total - info.mem_used;
    mi.usmblks = info.mem_maxused;
    return mi;
}

/* malloc_stats(): the system heap's figures, on stderr, in newlib's format. */
void _malloc_stats_r(struct _reent *r)
{
    os_meminfo_t info;

    os_memory_info(&info);
    fprintf(_stderr_r(r), "max system bytes = %10lu\n", (unsigned long)info.mem_maxused);
    fprintf(_stderr_r(r), "system bytes     = %10lu\n", (unsigned long)info.mem_total);
    fprintf(_stderr_r(r), "in use bytes     = %10lu\n", (unsigned long)info.mem_used);
}

/* mallopt(): the heap has no tunables; every request is refused (0). */
int _mallopt_r(struct _reent *r, int param, int value)
{
    (void)r;
    (void)param;
    (void)value;
    return 0;
}

/* malloc_trim(): the heap keeps its regions; nothing goes back to the system (0). */
int _malloc_trim_r(struct _reent *r, size_t pad)
{
    (void)r;
    (void)pad;
    return 0;
}

/* realloc that frees the block when it fails; reallocf(p, 0) frees p once. */
void *_reallocf_r(struct _reent *r, void *ptr, size_t size)
{
    void *p = _realloc_r(r, ptr, size);

    /* The failed realloc left the block: freed if it is one (a pointer the
     * heap did not hand out was reported by the realloc already). */
    if (p == NULL && size != 0 && ptr != NULL && os_malloc_usable_size(ptr) != 0)
    {
        os_free(ptr);
    }
    return p;
}

/* ---- the standard names ------------------------------------------------------------ */

void *malloc(size_t size)
{
    return _malloc_r(_REENT, size);
}

void free(void *ptr)
{
    os_free(ptr);
}

void *realloc(void *ptr, size_t size)
{
    return _realloc_r(_REENT, ptr, size);
}

void *calloc(size_t count, size_t size)
{
    return _calloc_r(_REENT, count, size);
}

void *memalign(size_t align, size_t size)
{
    return _memalign_r(_REENT, align, size);
}

void *aligned_alloc(size_t align, size_t size)
{
    return _memalign_r(_REENT, align, size);
}

int posix_memalign(void **memptr, size_t align, size_t size)
{
    void *p;

    if (!is_pow2(align) || align % sizeof(void *) != 0)
    {
        return EINVAL;
    }
    p = os_aligned_malloc(align, size != 0 ? size : 1);
    if (p == NULL)
    {
        return ENOMEM;
    }
    *memptr = p;
    return 0;
}

size_t malloc_usable_size(void *ptr)
{
    return _malloc_usable_size_r(_REENT, ptr);
}

void *reallocf(void *ptr, size_t size)
{
    return _reallocf_r(_REENT, ptr, size);
}
