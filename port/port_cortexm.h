/*
 * port_cortexm.h - inline primitives of the Cortex-M port (see port.h).
 *
 * The Cortex-M port is the bare-metal port (port/baremetal.c: the same
 * struct os_mem_port_hooks, wait hooks, task and output hooks) with
 * hardware defaults for the three hot primitives:
 *
 *   lock    a PRIMASK critical section: save PRIMASK, `cpsid i`; unlock
 *           writes the saved value back. Sections nest (a lock taken with
 *           interrupts already masked returns 1 and its unlock leaves them
 *           masked), so the global lock and a heap lock can be held
 *           together. PRIMASK masks every exception with configurable
 *           priority; NMI and HardFault still run and must not use the heap.
 *           `cpsid` is ignored in unprivileged thread mode: code running
 *           unprivileged must install its own lock.
 *           A lock hook, when installed, replaces the PRIMASK section (its
 *           unlock hook is then used too), e.g. an RTOS mutex or a BASEPRI
 *           section that leaves high-priority interrupts running.
 *   in_isr  IPSR holds the active exception number: nonzero in handler
 *           mode. An in_isr hook, when installed, replaces the IPSR read.
 *
 * MRS/MSR of PRIMASK and IPSR and CPSID exist on ARMv6-M (M0/M0+/M1),
 * ARMv7-M (M3/M4/M7) and ARMv8-M baseline and mainline (M23/M33/M55), so
 * one implementation serves them all.
 */
#ifndef ONEHEAP_PORT_CORTEXM_H
#define ONEHEAP_PORT_CORTEXM_H

#include <os_mempool.h>

extern struct os_mem_port_hooks oh_port_hooks;

/* A blocked thread's wake-up record: what the wait hooks see. */
struct os_port_wait
{
    struct os_mem_wait w;
};

/* PRIMASK before masking; bit 0 set means interrupts were already masked. */
static inline os_ubase_t oh_cortexm_irq_save(void)
{
    os_ubase_t primask;

    /* "memory": no heap access may move out of the critical section */
    __asm volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask) : : "memory");
    return primask;
}

static inline void oh_cortexm_irq_restore(os_ubase_t primask)
{
    __asm volatile("msr primask, %0" : : "r"(primask) : "memory");
}

/* The active exception number (0 in thread mode). */
static inline os_ubase_t oh_cortexm_ipsr(void)
{
    os_ubase_t ipsr;

    __asm volatile("mrs %0, ipsr" : "=r"(ipsr));
    return ipsr;
}

#ifdef OS_MEM_PORT_NO_LOCK
#include "port_nolock.h"
#else
static inline os_ubase_t os_port_lock(os_ubase_t *lock)
{
    if (oh_port_hooks.lock != OS_NULL)
    {
        return oh_port_hooks.lock(lock);
    }
    return oh_cortexm_irq_save();
}

static inline void os_port_unlock(os_ubase_t *lock, os_ubase_t state)
{
    /* the lock hook decides, so a lock and its unlock always match */
    if (oh_port_hooks.lock != OS_NULL)
    {
        if (oh_port_hooks.unlock != OS_NULL)
        {
            oh_port_hooks.unlock(lock, state);
        }
        return;
    }
    oh_cortexm_irq_restore(state);
}

static inline int os_port_in_isr(void)
{
    if (oh_port_hooks.in_isr != OS_NULL)
    {
        return oh_port_hooks.in_isr();
    }
    return oh_cortexm_ipsr() != 0;
}

/* PRIMASK (or the user's lock) always has work to do. */
#define OS_PORT_CAN_IDLE 0
static inline int os_port_idle(void)
{
    return 0;
}
#endif

#endif
