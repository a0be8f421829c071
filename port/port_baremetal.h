/* port_baremetal.h - inline primitives of the bare-metal port (see port.h). */
#ifndef ONEHEAP_PORT_BAREMETAL_H
#define ONEHEAP_PORT_BAREMETAL_H

#include <os_mempool.h>

extern struct os_mem_port_hooks oh_port_hooks;

/* A blocked thread's wake-up record: what the wait hooks see. */
struct os_port_wait
{
    struct os_mem_wait w;
};

#define OS_PORT_CAN_IDLE 1

#ifdef OS_MEM_PORT_NO_LOCK
#include "port_nolock.h"
#else
/* Set by os_mem_port_set_hooks: no lock, unlock or interrupt hook installed. */
extern int oh_port_idle;

static inline int os_port_idle(void)
{
    return oh_port_idle;
}

#ifdef OS_MEM_SMALL
/* The small build has one copy of each, in baremetal.c, rather than one in every file that calls them. */
os_ubase_t os_port_lock(os_ubase_t *lock);
void       os_port_unlock(os_ubase_t *lock, os_ubase_t state);
int        os_port_in_isr(void);
#else
static inline os_ubase_t os_port_lock(os_ubase_t *lock)
{
    return oh_port_hooks.lock != OS_NULL ? oh_port_hooks.lock(lock) : 0;
}

static inline void os_port_unlock(os_ubase_t *lock, os_ubase_t state)
{
    if (oh_port_hooks.unlock != OS_NULL)
    {
        oh_port_hooks.unlock(lock, state);
    }
}

static inline int os_port_in_isr(void)
{
    return oh_port_hooks.in_isr != OS_NULL ? oh_port_hooks.in_isr() : 0;
}
#endif
#endif

#endif
