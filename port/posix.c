/*
 * posix.c - the POSIX port: a spin lock that yields when contended, thread
 * names for the trace, output on stdout and reports on stderr, and waits on
 * a condition variable (CLOCK_MONOTONIC; a tick is 1 ms).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <os_mempool.h>
#include "port.h"

#ifndef OH_POSIX_THREAD_POINTER
/* One byte per thread: its address names the thread in a lock word (port_posix.h). */
__attribute__((tls_model("initial-exec"))) _Thread_local char oh_posix_self;
#endif

__attribute__((tls_model("initial-exec"))) _Thread_local unsigned oh_posix_cb_depth;

void os_port_lock_init(os_ubase_t *lock)
{
    __atomic_store_n(lock, (os_ubase_t)0, __ATOMIC_RELEASE);
}

void os_port_lock_wait(os_ubase_t *lock)
{
    os_ubase_t self = os_port_self();
    unsigned spins = 0;

    for (;;)
    {
        os_ubase_t holder, free = 0;

        while ((holder = __atomic_load_n(lock, __ATOMIC_RELAXED)) != 0)
        {
            if (holder == self)
            {
                oh_port_reentered(lock);    /* does not return */
            }
            if (++spins >= 64)
            {
                spins = 0;
                sched_yield();
            }
        }
        if (__atomic_compare_exchange_n(lock, &free, self, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        {
            return;
        }
    }
}

/*
 * Task table: each thread gets a small index on its first allocation, and
 * its name is copied, so a trace never follows a pointer to a thread that
 * has ended. Indexes 0 (unknown) and 1 (before the scheduler) are the
 * core's; threads get 2 and up. When a thread ends, its index is marked
 * ended; once no heap holds a block charged to it (os_memory_task_idle), a
 * new thread may take it. With every index busy, a thread counts as
 * unknown. Fresh indexes are claimed with atomics. os_port_task_id() runs
 * at the start of every heap call, also one made from inside another heap
 * call (a walk callback or the error hook runs with that heap's lock held),
 * so it never takes a heap's lock: the test for idle indexes, which takes
 * them all, runs when a thread ends (task_exit), and the indexes it finds
 * go on a stack that os_port_task_id() pops. task_lock guards the names
 * and that stack, and nothing waits for a heap while holding it.
 */
#ifdef OS_USING_MEM_TRACE
#define TASKS_MAX   OS_MEM_TRACE_TASKS
#else
#define TASKS_MAX   256
#endif
#define TASK_NAME   16
#define TASK_NONE   0xFFFFu     /* no index to be had: counted as unknown */

/*
 * Two name buffers per index: a thread given an index writes the one not
 * in use, then switches (task_cur, under task_lock), so a name that a
 * trace or a walk still prints, read through a pointer taken earlier, is
 * not rewritten under it (unless the index is given out twice meanwhile).
 */
static char            task_names[TASKS_MAX][2][TASK_NAME];
static os_uint8_t      task_cur[TASKS_MAX];
static os_uint16_t     task_count = 2;          /* indexes below it were handed out once */
static pthread_mutex_t task_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local os_uint16_t task_self;

#ifdef OS_USING_MEM_TRACE
/*
 * Reuse (trace builds: only they keep rows). task_taken[i] is set while
 * index i (once ended) belongs to a thread again or waits on task_free; it
 * makes the claim atomic between threads that end at the same time. A
 * fresh index is never ended, so it is never claimed twice. Invariant
 * (task_lock): task_free[0 .. task_nfree) are idle indexes with their ended
 * mark and peaks cleared, each taken.
 */
static os_uint8_t      task_taken[TASKS_MAX];
static os_uint16_t     task_free[TASKS_MAX];
static unsigned        task_nfree;
static pthread_once_t  task_once = PTHREAD_ONCE_INIT;
static pthread_key_t   task_key;

/*
 * A thread ends (the key's destructor, outside any heap call): its index is
 * marked ended, and every ended index that no heap charges any more (its
 * own, or one whose last blocks were freed since its thread ended) goes on
 * task_free. A thread that found no index runs this too, so indexes freed
 * later still come back. O(TASKS_MAX * heaps).
 */
static void task_exit(void *arg)
{
    os_uint16_t id = (os_uint16_t)(os_ubase_t)arg, i;

    task_self = TASK_NONE;  /* a heap call from a later destructor counts as unknown */
    if (id != TASK_NONE)
    {
        os_memory_task_ended(id);
        __atomic_store_n(&task_taken[id], (os_uint8_t)0, __ATOMIC_RELEASE);
    }
    for (i = 2; i < TASKS_MAX; i++)
    {
        if (!os_memory_task_is_ended(i) || __atomic_exchange_n(&task_taken[i], (os_uint8_t)1, __ATOMIC_ACQ_REL) != 0)
        {
            continue;
        }
        if (!os_memory_task_idle(i))
        {
            __atomic_store_n(&task_taken[i], (os_uint8_t)0, __ATOMIC_RELEASE);
            continue;
        }
        os_memory_task_started(i);
        pthread_mutex_lock(&task_lock);
        task_free[task_nfree++] = i;
        pthread_mutex_unlock(&task_lock);
    }
}

static void task_key_make(void)
{
    (void)pthread_key_create(&task_key, task_exit);
}

/* An index task_exit() found idle, or TASK_NONE. Takes no heap's lock. O(1). */
static os_uint16_t task_reuse(void)
{
    os_uint16_t id = TASK_NONE;

    pthread_mutex_lock(&task_lock);
    if (task_nfree != 0)
    {
        id = task_free[--task_nfree];
    }
    pthread_mutex_unlock(&task_lock);
    return id;
}
#endif

/* A fresh index, else (trace builds) the index of an ended thread that no block is charged to. O(1). */
static os_uint16_t task_index(void)
{
    os_uint16_t id = __atomic_load_n(&task_count, __ATOMIC_RELAXED);

    while (id < TASKS_MAX)
    {
        if (__atomic_compare_exchange_n(&task_count, &id, (os_uint16_t)(id + 1u), 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        {
            return id;
        }
    }
#ifdef OS_USING_MEM_TRACE
    return task_reuse();
#else
    return TASK_NONE;
#endif
}

os_uint16_t os_port_task_id(void)
{
    if (task_self == 0)
    {
        char name[TASK_NAME] = "";
        os_uint16_t id;

        if (pthread_getname_np(pthread_self(), name, sizeof(name)) != 0 || name[0] == '\0')
        {
            (void)snprintf(name, sizeof(name), "thread");
        }
        id = task_index();
        task_self = id;
        if (id != TASK_NONE)
        {
            unsigned b;

            pthread_mutex_lock(&task_lock);
            b = task_cur[id] ^ 1u;
            memcpy(task_names[id][b], name, sizeof(name));
            task_names[id][b][TASK_NAME - 1] = '\0';
            task_cur[id] = (os_uint8_t)b;
            pthread_mutex_unlock(&task_lock);
        }
#ifdef OS_USING_MEM_TRACE
        (void)pthread_once(&task_once, task_key_make);
        (void)pthread_setspecific(task_key, (void *)(os_ubase_t)id);     /* TASK_NONE too (task_exit) */
#endif
    }
    return task_self;
}

os_uint16_t os_port_task_peek(void)
{
    return task_self;   /* 0 if the thread never asked for an index */
}

const char *os_port_task_name(os_uint16_t id)
{
    const char *name = "?";

    pthread_mutex_lock(&task_lock);
    if (id >= 2 && id < TASKS_MAX && task_names[id][task_cur[id]][0] != '\0')
    {
        name = task_names[id][task_cur[id]];
    }
    pthread_mutex_unlock(&task_lock);
    return name;
}

void os_port_puts(const char *s)
{
    (void)fputs(s, stdout);
}

void os_port_error(const char *heap_name, const void *addr, os_err_t code, const char *msg)
{
    (void)addr;
    (void)fflush(stdout);
    (void)heap_name;
    (void)fprintf(stderr, "oneheap: %s (error %ld)\n", msg, (long)code);
}

void os_port_assert_fail(const char *msg)
{
    (void)fflush(stdout);
    (void)fprintf(stderr, "oneheap: assertion: %s\n", msg);
    abort();
}

/*
 * Waits: each blocked thread has its own mutex and condition variable, so
 * a wake reaches exactly the thread it is meant for. The deadline is taken
 * on CLOCK_MONOTONIC, so a change of the wall clock neither shortens nor
 * lengthens a timeout.
 */
int os_port_wait_init(struct os_port_wait *w)
{
    pthread_condattr_t attr;
    int err;

    if (pthread_condattr_init(&attr) != 0)
    {
        return -1;
    }
    err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (err == 0)
    {
        err = pthread_cond_init(&w->cond, &attr);
    }
    (void)pthread_condattr_destroy(&attr);
    if (err != 0)
    {
        return -1;
    }
    if (pthread_mutex_init(&w->mutex, NULL) != 0)
    {
        (void)pthread_cond_destroy(&w->cond);
        return -1;
    }
    w->woken = 0;
    return 0;
}

os_err_t os_port_wait(struct os_port_wait *w, os_tick_t timeout)
{
    struct timespec deadline;
    os_err_t result;
    int err = 0;

    if (timeout != OS_WAIT_FOREVER)
    {
        (void)clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += (time_t)(timeout / 1000);
        deadline.tv_nsec += (long)(timeout % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L)
        {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&w->mutex);
    while (!w->woken && err != ETIMEDOUT)
    {
        err = (timeout == OS_WAIT_FOREVER) ? pthread_cond_wait(&w->cond, &w->mutex)
                                           : pthread_cond_timedwait(&w->cond, &w->mutex, &deadline);
    }
    result = w->woken ? OS_EOK : OS_ETIMEOUT;
    pthread_mutex_unlock(&w->mutex);
    return result;
}

void os_port_wake(struct os_port_wait *w)
{
    pthread_mutex_lock(&w->mutex);
    w->woken = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mutex);
}

void os_port_wait_fini(struct os_port_wait *w)
{
    (void)pthread_cond_destroy(&w->cond);
    (void)pthread_mutex_destroy(&w->mutex);
}
