/*
 * port_template.h - the inline primitives of a port of your own (see
 * port/port.h for what each must do). Copy this directory, rename the two
 * files after your port (port_<name>.h, <name>.c) and build with
 *     cmake -DONEHEAP_PORT=<name> -DONEHEAP_PORT_DIR=<this directory> ...
 *
 * As shipped it is a complete, working port for a system whose tasks may
 * run on several cores but whose heap calls never come from an interrupt:
 * a spin lock on the heap's lock word (gcc/clang atomic builtins), "never
 * in an interrupt", every block charged to one task, output through
 * <stdio.h>, no waiting on empty memory pools. The comments say what to
 * put there for an RTOS.
 */
#ifndef PORT_TEMPLATE_H
#define PORT_TEMPLATE_H

/*
 * The wake-up record of a task blocked on an empty memory pool, on that
 * task's stack (os_port_wait_init and friends in template.c). This port
 * never blocks, so it holds nothing; an RTOS port keeps, say, a semaphore
 * handle or the task's handle and a "woken" flag here.
 */
struct os_port_wait
{
    int unused;
};

/*
 * Lock: one word per heap or pool, set to 0 by os_port_lock_init. The
 * return value of os_port_lock comes back to os_port_unlock (an interrupt
 * mask to restore, for instance). For an RTOS: take a mutex (create it in
 * os_port_lock_init and keep its handle in the word), or mask interrupts on
 * a single core. It must not be recursive-only: the core never takes the
 * same lock twice, but it may take a heap's lock while holding the global
 * one, and gives held locks back in the reverse order. If memory pools are
 * used from interrupt handlers (os_mp_alloc without waiting, os_mp_free),
 * a pool's lock and os_port_wake run there: use a lock that works in a
 * handler (an interrupt mask), not a mutex.
 */
static inline os_ubase_t os_port_lock(os_ubase_t *lock)
{
    while (__atomic_exchange_n(lock, (os_ubase_t)1, __ATOMIC_ACQUIRE) != 0)
    {
        while (__atomic_load_n(lock, __ATOMIC_RELAXED) != 0)
        {
            /* spin; an RTOS port would block or yield instead */
        }
    }
    return 0;
}

static inline void os_port_unlock(os_ubase_t *lock, os_ubase_t state)
{
    (void)state;
    __atomic_store_n(lock, (os_ubase_t)0, __ATOMIC_RELEASE);
}

/*
 * Nonzero when called from an interrupt handler: heap calls are refused
 * there (reported with OS_EPERM) instead of taking a lock. Read the CPU's
 * state (IPSR on Cortex-M, the trap nesting your RISC-V RTOS keeps) or ask
 * the RTOS. This template assumes no heap call ever comes from one.
 */
static inline int os_port_in_isr(void)
{
    return 0;
}

/*
 * "Lock, unlock and the interrupt test do nothing right now": lets the core
 * skip them. Only a port whose lock can be absent says 1 (the bare-metal
 * port with no hooks installed); with OS_PORT_CAN_IDLE 0 the core leaves
 * those paths out.
 */
#define OS_PORT_CAN_IDLE 0
static inline int os_port_idle(void)
{
    return 0;
}

#endif
