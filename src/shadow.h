/*
 * shadow.h - telling a memory checker which bytes of a region the program
 * may touch. Two checkers, each chosen at build time:
 *
 *   OS_MEM_ASAN      AddressSanitizer: a region's blocks area is poisoned
 *                    when the region is added; a block's usable bytes are
 *                    unpoisoned while it is live. Headers, list links and
 *                    free memory stay poisoned, so an overflow or a use
 *                    after free in the program is reported by ASan itself.
 *                    The algorithms, which work inside poisoned memory, are
 *                    compiled without ASan instrumentation.
 *   OS_MEM_VALGRIND  Valgrind memcheck: every live block is announced as a
 *                    heap block (MALLOCLIKE / FREELIKE / RESIZEINPLACE) and
 *                    the rest of a region is no-access, so memcheck reports
 *                    leaks, accesses to freed blocks and overflows into
 *                    headers, naming the allocation's stack. Errors are not
 *                    reported while the library itself runs (it reads
 *                    headers and links next to the blocks).
 *
 * Every function is empty when neither is configured, and the hot paths
 * keep their tail calls only then.
 */
#ifndef ONEHEAP_SHADOW_H
#define ONEHEAP_SHADOW_H

#include "alg/alg.h"

#if defined(OS_MEM_ASAN) || defined(OS_MEM_VALGRIND)
#define OH_SHADOW 1
#endif

#ifdef OS_MEM_ASAN
#include <sanitizer/asan_interface.h>
#endif
#ifdef OS_MEM_VALGRIND
#include <valgrind/memcheck.h>
#endif

/* Region r has just been laid out: nothing past its region header is the program's. */
static inline void oh_shadow_region_added(const struct heap_mem *r)
{
#if defined(OS_MEM_ASAN) || defined(OS_MEM_VALGRIND)
    const os_uint8_t *lo = (const os_uint8_t *)OH_REGION_DATA(r);
#endif
#ifdef OS_MEM_ASAN
    ASAN_POISON_MEMORY_REGION(lo, (os_size_t)(r->end - lo));
#endif
#ifdef OS_MEM_VALGRIND
    VALGRIND_MAKE_MEM_NOACCESS(lo, (os_size_t)(r->end - lo));
#endif
    (void)r;
}

/* [lo, hi) no longer belongs to a heap: the owner may use all of it again. */
static inline void oh_shadow_released(const void *lo, const void *hi)
{
#ifdef OS_MEM_ASAN
    ASAN_UNPOISON_MEMORY_REGION(lo, (os_size_t)((const os_uint8_t *)hi - (const os_uint8_t *)lo));
#endif
#ifdef OS_MEM_VALGRIND
    VALGRIND_MAKE_MEM_DEFINED(lo, (os_size_t)((const os_uint8_t *)hi - (const os_uint8_t *)lo));
#endif
    (void)lo;
    (void)hi;
}

/* A block of `usable` bytes at p was handed out. */
static inline void oh_shadow_alloc(const void *p, os_size_t usable)
{
#ifdef OS_MEM_ASAN
    ASAN_UNPOISON_MEMORY_REGION(p, usable);
#endif
#ifdef OS_MEM_VALGRIND
    VALGRIND_MALLOCLIKE_BLOCK(p, usable, 0, 0);
#endif
    (void)p;
    (void)usable;
}

/* The block at p (usable bytes) is about to be taken back. */
static inline void oh_shadow_free(const void *p, os_size_t usable)
{
#ifdef OS_MEM_ASAN
    ASAN_POISON_MEMORY_REGION(p, usable);
#endif
#ifdef OS_MEM_VALGRIND
    VALGRIND_FREELIKE_BLOCK(p, 0);
#endif
    (void)p;
    (void)usable;
}

/* The live block at p was resized in place. */
static inline void oh_shadow_resized(const void *p, os_size_t old_usable, os_size_t new_usable)
{
#ifdef OS_MEM_ASAN
    if (new_usable > old_usable)
    {
        ASAN_UNPOISON_MEMORY_REGION(p, new_usable);
    }
    else
    {
        ASAN_POISON_MEMORY_REGION((const os_uint8_t *)p + new_usable, old_usable - new_usable);
    }
#endif
#ifdef OS_MEM_VALGRIND
    VALGRIND_RESIZEINPLACE_BLOCK(p, old_usable, new_usable, 0);
#endif
    (void)p;
    (void)old_usable;
    (void)new_usable;
}

/* Around the library's own work inside regions (Valgrind: no reports there). */
static inline void oh_shadow_enter(void)
{
#ifdef OS_MEM_VALGRIND
    VALGRIND_DISABLE_ERROR_REPORTING;
#endif
}

static inline void oh_shadow_leave(void)
{
#ifdef OS_MEM_VALGRIND
    VALGRIND_ENABLE_ERROR_REPORTING;
#endif
}

#endif /* ONEHEAP_SHADOW_H */
