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

/*
 * The lock word holds 0 (free) or the holding thread's identity (never 0,
 * see os_port_self): taking it is one compare-and-swap, as cheap as an
 * exchange, and a thread that finds its own identity there is about to
 * wait for itself (a heap call from a signal handler that interrupted a
 * heap call, or from the error hook or a walk callback under the lock),
 * which the contended path reports instead of hanging.
 */
#define OS_PORT_LOCK_OWNER 1    /* the core then provides oh_port_reentered() (port.h) */

/* The thread pointer where the compiler's builtin is known to work, else the address of a per-thread byte. */
#if defined(__linux__) && (defined(__x86_64__) || defined(__i386__) || defined(__aarch64__)) && \
    !defined(OH_POSIX_NO_THREAD_POINTER)
#define OH_POSIX_THREAD_POINTER 1
#else
extern _Thread_local char oh_posix_self;    /* posix.c */
#endif

static inline os_ubase_t os_port_self(void)
{
#ifdef OH_POSIX_THREAD_POINTER
    return (os_ubase_t)__builtin_thread_pointer();
#else
    return (os_ubase_t)&oh_posix_self;
#endif
}

/* Callbacks of this thread in progress: the error hook, walk callbacks (port.h). */
#define OS_PORT_CB_TRACKED 1
extern _Thread_local unsigned oh_posix_cb_depth;    /* posix.c */

static inline void os_port_cb_enter(void)
{
    oh_posix_cb_depth++;
}

static inline void os_port_cb_leave(void)
{
    oh_posix_cb_depth--;
}

static inline int os_port_in_cb(void)
{
    return oh_posix_cb_depth != 0;
}

/* Does this thread hold the lock? */
static inline int os_port_lock_mine(const os_ubase_t *lock)
{
    return __atomic_load_n(lock, __ATOMIC_RELAXED) == os_port_self();
}

/* Contended path: spins, then yields the processor; never returns if this thread holds the lock. */
void os_port_lock_wait(os_ubase_t *lock);

static inline os_ubase_t os_port_lock(os_ubase_t *lock)
{
    os_ubase_t free = 0, self = os_port_self();

    if (OH_UNLIKELY(!__atomic_compare_exchange_n(lock, &free, self, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)))
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
