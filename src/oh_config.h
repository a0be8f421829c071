/*
 * oh_config.h - configuration seen by the library's sources: the user's
 * oneos_config.h, defaults for what it leaves out, and checks that refuse
 * impossible combinations at compile time.
 */
#ifndef ONEHEAP_OH_CONFIG_H
#define ONEHEAP_OH_CONFIG_H

#include <oneos_config.h>
#include <os_types.h>
#include <os_errno.h>
#include <os_memory.h>

#if !defined(OS_USING_ALG_FIRSTFIT) && !defined(OS_USING_ALG_BUDDY)
#error "oneheap: enable at least one algorithm (OS_USING_ALG_FIRSTFIT or OS_USING_ALG_BUDDY)"
#endif

#ifndef OS_MEM_ALIGN_SIZE
#define OS_MEM_ALIGN_SIZE 8
#endif
#if OS_MEM_ALIGN_SIZE < 8 || (OS_MEM_ALIGN_SIZE & (OS_MEM_ALIGN_SIZE - 1)) != 0 || OS_MEM_ALIGN_SIZE > 64
#error "oneheap: OS_MEM_ALIGN_SIZE must be 8, 16, 32 or 64"
#endif

#ifndef OS_MEM_FF_SL_BITS
#define OS_MEM_FF_SL_BITS 5
#endif
#if OS_MEM_FF_SL_BITS < 0 || OS_MEM_FF_SL_BITS > 5
#error "oneheap: OS_MEM_FF_SL_BITS must be 0..5"
#endif

/*
 * First-fit: free blocks examined past the O(1) search before a request is
 * refused. 0 (the default): all of them, so a request is never refused
 * while a free block fits; N > 0 bounds the time of a refusal instead.
 */
#ifndef OS_MEM_FF_SEARCH_MAX
#define OS_MEM_FF_SEARCH_MAX 0
#endif
#if OS_MEM_FF_SEARCH_MAX < 0 || OS_MEM_FF_SEARCH_MAX > 65535
#error "oneheap: OS_MEM_FF_SEARCH_MAX must be 0 (no bound) .. 65535"
#endif

/*
 * Buddy: freed blocks of each order below 8 kept unmerged in a quick list,
 * taken back in O(1) by the next request of that order. 0: every free
 * merges at once, so a region with no block in use is exactly as new.
 */
#ifndef OS_MEM_BUDDY_QUICK
#define OS_MEM_BUDDY_QUICK 8
#endif
#if OS_MEM_BUDDY_QUICK < 0 || OS_MEM_BUDDY_QUICK > 16
#error "oneheap: OS_MEM_BUDDY_QUICK must be 0..16"
#endif

#if defined(OS_USING_MEM_TRACE) && defined(OS_MEM_TRACE_TASKS) && \
    (OS_MEM_TRACE_TASKS < 2 || OS_MEM_TRACE_TASKS > 4096)
#error "oneheap: OS_MEM_TRACE_TASKS must be 2..4096"
#endif

/*
 * First-fit header words: 16-bit (4-byte header, regions <= 256 KiB: a
 * larger one is managed in pieces, so no block exceeds that) or 32-bit
 * (8-byte header). 16-bit on 32-bit targets unless OS_MEM_FF_WIDE_HEADER.
 */
#ifndef OS_MEM_FF_SMALL_HEADER
#if UINTPTR_MAX <= 0xFFFFFFFFu && !defined(OS_MEM_FF_WIDE_HEADER)
#define OS_MEM_FF_SMALL_HEADER 1
#else
#define OS_MEM_FF_SMALL_HEADER 0
#endif
#endif

#ifndef OS_MEM_ERROR_ASSERT
#define OS_MEM_ERROR_ASSERT 0
#endif

/* A hand-written oneos_config.h without it gets the default level, header (1). */
#ifndef OS_MEM_HARDENING
#define OS_MEM_HARDENING 1
#endif

#if !defined(OS_MEM_PORT_POSIX) && !defined(OS_MEM_PORT_BAREMETAL) && !defined(OS_MEM_PORT_HEADER)
#define OS_MEM_PORT_BAREMETAL
#endif

/* Largest request the core passes on: no size arithmetic can overflow below it. */
#define OH_MAX_REQUEST  (OS_SIZE_MAX / 4)

#define OH_HEAP_INITED  0x55u
/*
 * A heap's object_inited is read outside its lock (the entry checks), so it
 * is read and written atomically. Those reads order nothing: a call is
 * ordered after the heap's init by the caller, and a deinit that overtakes
 * it is found again under the heap's lock. The one reader that may learn
 * of an init from this byte alone is os_sys_heap_init (idempotent: a task
 * whose call finds the heap live goes on to use it), so init sets it last,
 * with release (OH_HEAP_PUBLISH), and that test reads it with acquire.
 */
#define OH_HEAP_LIVE(heap)          (__atomic_load_n(&(heap)->object_inited, __ATOMIC_RELAXED) == OH_HEAP_INITED)
#define OH_HEAP_LIVE_ACQUIRE(heap)  (__atomic_load_n(&(heap)->object_inited, __ATOMIC_ACQUIRE) == OH_HEAP_INITED)
#define OH_HEAP_MARK(heap, v)       __atomic_store_n(&(heap)->object_inited, (os_uint8_t)(v), __ATOMIC_RELAXED)
#define OH_HEAP_PUBLISH(heap)       __atomic_store_n(&(heap)->object_inited, (os_uint8_t)OH_HEAP_INITED, __ATOMIC_RELEASE)

#if defined(__GNUC__) || defined(__clang__)
#define OH_LIKELY(x)    __builtin_expect(!!(x), 1)
#define OH_UNLIKELY(x)  __builtin_expect(!!(x), 0)
#define OH_NOINLINE     __attribute__((noinline))
/*
 * A helper of a few instructions whose inline copies cost less than the
 * calls in the small build (ONEHEAP_SMALL, at -Os); elsewhere, where it
 * has more callers, the compiler decides.
 */
#ifdef OS_MEM_SMALL
#define OH_TINY         static inline __attribute__((always_inline))
#else
#define OH_TINY         static inline
#endif
#if defined(__OPTIMIZE_SIZE__)
#define OH_INLINE       static inline
#else
#define OH_INLINE       static inline __attribute__((always_inline))
#endif
#else
#define OH_LIKELY(x)    (x)
#define OH_UNLIKELY(x)  (x)
#define OH_NOINLINE
#define OH_TINY         static inline
#define OH_INLINE       static inline
#endif

#endif /* ONEHEAP_OH_CONFIG_H */
