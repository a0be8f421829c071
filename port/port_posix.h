/* port_posix.h - inline primitives of the POSIX port (see port.h). */
#ifndef ONEHEAP_PORT_POSIX_H
#define ONEHEAP_PORT_POSIX_H

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

#endif
