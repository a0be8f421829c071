/*
 * baremetal.c - the bare-metal port: every primitive is a user hook
 * (os_mem_port_set_hooks, os_mem_port_set_wait_hooks), and a missing hook
 * is a no-op. Suitable as is for a single-threaded system without an RTOS;
 * without wait hooks nothing ever blocks.
 */
#include "port.h"

struct os_mem_port_hooks oh_port_hooks;
static struct os_mem_wait_hooks wait_hooks;
#ifndef OS_MEM_PORT_NO_LOCK
int oh_port_idle = 1;
#endif

/* Call before the heaps are shared: the core reads the hooks without a lock. */
void os_mem_port_set_hooks(const struct os_mem_port_hooks *hooks)
{
    static const struct os_mem_port_hooks none;

    oh_port_hooks = (hooks != OS_NULL) ? *hooks : none;
#ifndef OS_MEM_PORT_NO_LOCK
    oh_port_idle = oh_port_hooks.lock == OS_NULL && oh_port_hooks.unlock == OS_NULL &&
                   oh_port_hooks.in_isr == OS_NULL;
    oh_port_idle_changed();
#endif
}

#if defined(ONEHEAP_PORT_BAREMETAL_H) && defined(OS_MEM_SMALL) && !defined(OS_MEM_PORT_NO_LOCK)
/* Out of line in the small build (port_baremetal.h). */
os_ubase_t os_port_lock(os_ubase_t *lock)
{
    return oh_port_hooks.lock != OS_NULL ? oh_port_hooks.lock(lock) : 0;
}

void os_port_unlock(os_ubase_t *lock, os_ubase_t state)
{
    if (oh_port_hooks.unlock != OS_NULL)
    {
        oh_port_hooks.unlock(lock, state);
    }
}

int os_port_in_isr(void)
{
    return oh_port_hooks.in_isr != OS_NULL ? oh_port_hooks.in_isr() : 0;
}
#endif

void os_port_lock_init(os_ubase_t *lock)
{
    *lock = 0;
}

os_uint16_t os_port_task_id(void)
{
    return oh_port_hooks.task_id != OS_NULL ? oh_port_hooks.task_id() : 1u;     /* OS_MEM_TASK_STARTUP */
}

os_uint16_t os_port_task_peek(void)
{
    return os_port_task_id();   /* the hook gives no index away: it only looks */
}

const char *os_port_task_name(os_uint16_t id)
{
    const char *name = OS_NULL;

    if (oh_port_hooks.task_name != OS_NULL)
    {
        name = oh_port_hooks.task_name(id);
    }
    return name != OS_NULL ? name : "-";
}

void os_port_puts(const char *s)
{
    if (oh_port_hooks.puts != OS_NULL)
    {
        oh_port_hooks.puts(s);
    }
}

void os_port_error(const char *heap_name, const void *addr, os_err_t code, const char *msg)
{
    (void)heap_name;
    (void)addr;
    (void)code;
    os_port_puts(msg);
    os_port_puts("\n");
}

void os_port_assert_fail(const char *msg)
{
    if (oh_port_hooks.assert_fail != OS_NULL)
    {
        oh_port_hooks.assert_fail(msg);
    }
    for (;;)
    {
        /* nothing may run on after a failed assertion */
    }
}

void os_mem_port_set_wait_hooks(const struct os_mem_wait_hooks *hooks)
{
    static const struct os_mem_wait_hooks none;

    wait_hooks = (hooks != OS_NULL) ? *hooks : none;
}

int os_port_wait_init(struct os_port_wait *w)
{
    if (wait_hooks.wait == OS_NULL || wait_hooks.wake == OS_NULL)
    {
        return -1;      /* no way to block: the caller does not wait */
    }
    w->w.task = OS_NULL;
    w->w.word = 0;
    return wait_hooks.init != OS_NULL ? wait_hooks.init(&w->w) : 0;
}

os_err_t os_port_wait(struct os_port_wait *w, os_tick_t timeout)
{
    return wait_hooks.wait(&w->w, timeout);
}

void os_port_wake(struct os_port_wait *w)
{
    wait_hooks.wake(&w->w);
}

void os_port_wait_fini(struct os_port_wait *w)
{
    if (wait_hooks.fini != OS_NULL)
    {
        wait_hooks.fini(&w->w);
    }
}
