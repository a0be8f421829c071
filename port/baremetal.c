/*
 * baremetal.c - the bare-metal port: every primitive is a user hook
 * (os_mem_port_set_hooks), and a missing hook is a no-op. Suitable as is for
 * a single-threaded system without an RTOS.
 */
#include "port.h"

struct os_mem_port_hooks oh_port_hooks;

void os_mem_port_set_hooks(const struct os_mem_port_hooks *hooks)
{
    static const struct os_mem_port_hooks none;

    oh_port_hooks = (hooks != OS_NULL) ? *hooks : none;
}

void os_port_lock_init(os_ubase_t *lock)
{
    *lock = 0;
}

os_uint16_t os_port_task_id(void)
{
    return oh_port_hooks.task_id != OS_NULL ? oh_port_hooks.task_id() : 0;
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
