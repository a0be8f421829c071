/*
 * bitops.h - find-first-set and most-significant-bit on 32-bit words, with
 * a portable fallback for cores without CLZ (Cortex-M0/M0+) or when
 * OS_MEM_NO_INTRINSICS is defined. Both are undefined for x == 0.
 */
#ifndef ONEHEAP_BITOPS_H
#define ONEHEAP_BITOPS_H

#include "oh_config.h"

#if !defined(OS_MEM_NO_INTRINSICS) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(__ARM_ARCH_6M__) && !defined(__ARM_ARCH_8M_BASE__)
#define OH_HAVE_CLZ 1
#endif

/* Index of the lowest set bit. */
static inline unsigned oh_ctz32(os_uint32_t x)
{
#ifdef OH_HAVE_CLZ
    return (unsigned)__builtin_ctz(x);
#else
    static const os_uint8_t debruijn[32] = {
        0, 1, 28, 2, 29, 14, 24, 3, 30, 22, 20, 15, 25, 17, 4, 8,
        31, 27, 13, 23, 21, 19, 16, 7, 26, 12, 18, 6, 11, 5, 10, 9 };
    return debruijn[((x & (0u - x)) * 0x077CB531u) >> 27];
#endif
}

/* Index of the highest set bit: floor(log2(x)). */
static inline unsigned oh_msb32(os_uint32_t x)
{
#ifdef OH_HAVE_CLZ
    return 31u - (unsigned)__builtin_clz(x);
#else
    static const os_uint8_t debruijn[32] = {
        0, 9, 1, 10, 13, 21, 2, 29, 11, 14, 16, 18, 22, 25, 3, 30,
        8, 12, 20, 28, 15, 17, 24, 7, 19, 27, 23, 6, 26, 5, 4, 31 };
    x |= x >> 1;
    x |= x >> 2;
    x |= x >> 4;
    x |= x >> 8;
    x |= x >> 16;
    return debruijn[(x * 0x07C4ACDDu) >> 27];
#endif
}

/* log2 of x, a power of two of up to 64 bits. */
static inline unsigned oh_log2_pow2(os_size_t x)
{
    os_uint32_t lo = (os_uint32_t)x;

    return lo != 0u ? oh_ctz32(lo) : 32u + oh_ctz32((os_uint32_t)((x >> 16) >> 16));
}

#endif
