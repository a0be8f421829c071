/* port_posix.h - inline primitives of the POSIX port (see port.h). */
#ifndef ONEHEAP_PORT_POSIX_H
#define ONEHEAP_PORT_POSIX_H

#include <pthread.h>

/* A blocked thread's wake-up record: its own mutex and condition variable. */
struct os_port_wait
{
    pthread_mutex_t mutex;
    pthread_cond_t  cond;       /* on CLOCK_MONOTONIC */
    int             woken;      /* set by os_port_wake, under mutex */
};

/* Contended path: spins, then yields the processor. */
void os_port_lock_wait(os_ubase_t *lock);

static inline os_ubase_t os_port_lock(os_ubase_t *lock)
{
    if (OH_UNLIKELY(__atomic_exchange_n(lock, (os_ubase_t)1, __ATOMIC_ACQUIRE) != 0))
    {
        os_port_lock_wait(lock);
    }
    return 0;
}

static inline void os_port_unlock(os_ubase_t *lock, os_ubase_t state)
{
    (void)state;
    __atomic_store_n(lock, (os_ubase_t)0, __ATOMIC_RELEASE);
}

static inline int os_port_in_isr(void)
{
    return 0;   /* a POSIX process has no interrupt context */
}

/* The lock is always taken. */
#define OS_PORT_CAN_IDLE 0
static inline int os_port_idle(void)
{
    return 0;
}

#endif
