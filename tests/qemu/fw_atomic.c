/*
 * fw_atomic.c - the atomic read-modify-write that GCC calls out for on
 * ARMv6-M (Cortex-M0/M0+), which has no exclusive load and store: check.h
 * counts checks with atomic_fetch_add. A PRIMASK section makes the update
 * atomic against interrupts; the firmware runs a single thread.
 */
#include <stdint.h>

#if defined(__ARM_ARCH_6M__)
unsigned int __atomic_fetch_add_4(volatile void *ptr, unsigned int val, int order)
{
    volatile unsigned int *p = ptr;
    uint32_t primask;
    unsigned int old;

    (void)order;    /* the section is a full barrier: every order is met */
    __asm volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask) : : "memory");
    old = *p;
    *p = old + val;
    __asm volatile("msr primask, %0" : : "r"(primask) : "memory");
    return old;
}
#else
/* ISO C wants at least one declaration in a translation unit. */
typedef int fw_atomic_not_needed;
#endif
