/*
 * template.c - the out-of-line part of a port of your own (see
 * port_template.h for how to build it and port/port.h for the contract of
 * each function).
 */
#include <stdio.h>

#include <os_mempool.h>
#include "port.h"

void os_port_lock_init(os_ubase_t *lock)
{
    *lock = 0;      /* an RTOS port creates its mutex here and stores the handle */
}

/*
 * The calling task's index for trace and per-task accounting: 2 and up for
 * tasks (OS_MEM_TASK_STARTUP, 1, before the scheduler runs; 0 for unknown).
 * An RTOS port keeps the index in the task's control block, hands out a free
 * one on a task's first call (only one that os_memory_task_idle() says is
 * idle) and calls os_memory_task_ended() when a task ends. This template
 * charges everything to "startup".
 */
os_uint16_t os_port_task_id(void)
{
    return OS_MEM_TASK_STARTUP;
}

/* The same index if the task already has one; never hands one out (reports call it under locks). */
os_uint16_t os_port_task_peek(void)
{
    return os_port_task_id();
}

/* A name for an index that stays valid after the task ends (copy names into a table). */
const char *os_port_task_name(os_uint16_t id)
{
    return id == OS_MEM_TASK_STARTUP ? "(startup)" : "-";
}

/* Text for trace and check output: your console. */
void os_port_puts(const char *s)
{
    (void)fputs(s, stdout);
}

/*
 * The default error hook (os_mem_set_error_hook replaces it): one line per
 * refusal or corruption. msg names the heap and the address already; an
 * RTOS port might log code and addr to its own trace buffer instead.
 */
void os_port_error(const char *heap_name, const void *addr, os_err_t code, const char *msg)
{
    (void)heap_name;
    (void)addr;
    (void)fprintf(stdout, "oneheap error %d: %s\n", (int)code, msg);
}

/* After a report when OS_MEM_ERROR_ASSERT is 1: stop the system; must not return. */
void os_port_assert_fail(const char *msg)
{
    os_port_puts(msg);
    os_port_puts("\n");
    for (;;)
    {
    }
}

/*
 * Waiting on an empty memory pool. Returning nonzero from os_port_wait_init
 * means "this task cannot block": os_mp_alloc then fails at once. An RTOS
 * port prepares a one-shot wake-up here (called with the pool's lock held),
 * blocks in os_port_wait (no lock held; OS_EOK when woken, OS_ETIMEOUT after
 * timeout ticks, OS_WAIT_FOREVER for none; a wake that came first counts),
 * wakes in os_port_wake (lock held, must not block for long) and releases
 * the record in os_port_wait_fini.
 */
int os_port_wait_init(struct os_port_wait *w)
{
    (void)w;
    return -1;
}

os_err_t os_port_wait(struct os_port_wait *w, os_tick_t timeout)
{
    (void)w;
    (void)timeout;
    return OS_ETIMEOUT;
}

void os_port_wake(struct os_port_wait *w)
{
    (void)w;
}

void os_port_wait_fini(struct os_port_wait *w)
{
    (void)w;
}
