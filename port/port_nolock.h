/*
 * port_nolock.h - the lock primitives of a bare-metal or Cortex-M build
 * with OS_MEM_PORT_NO_LOCK: a single-threaded system that never calls the
 * heap from an interrupt, so there is no lock and no interrupt test at all
 * (the lock, unlock and in_isr hooks are not consulted), and the port is
 * always idle.
 */
#ifndef ONEHEAP_PORT_NOLOCK_H
#define ONEHEAP_PORT_NOLOCK_H

static inline os_ubase_t os_port_lock(os_ubase_t *lock)
{
    (void)lock;
    return 0;
}

static inline void os_port_unlock(os_ubase_t *lock, os_ubase_t state)
{
    (void)lock;
    (void)state;
}

static inline int os_port_in_isr(void)
{
    return 0;
}

static inline int os_port_idle(void)
{
    return 1;
}

/* Always idle, whatever port includes this: the fast paths are compiled in. */
#undef OS_PORT_CAN_IDLE
#define OS_PORT_CAN_IDLE 1

#endif
