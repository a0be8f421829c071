/*
 * port.h - everything platform-specific that the core uses, in one place.
 *
 *   lock          os_port_lock_init / os_port_lock / os_port_unlock: a
 *                 mutual-exclusion lock held in one word of the heap object;
 *                 os_port_lock returns a state word that os_port_unlock gets
 *                 back (a saved interrupt mask, for instance).
 *   in interrupt  os_port_in_isr: nonzero when called from an interrupt
 *                 handler; heap calls are refused there.
 *   task          os_port_task_id: a small index (0 = unknown or before the
 *                 scheduler) for the calling task; os_port_task_name maps it
 *                 back to a name that stays valid after the task ends.
 *   log           os_port_puts: write one piece of text (trace, check).
 *   error         os_port_error: the default error hook;
 *                 os_port_assert_fail: called after a report when
 *                 OS_MEM_ERROR_ASSERT is 1; must not return.
 *
 * Ports: posix.c (pthreads, thread names; spin lock that costs a few
 * instructions when uncontended) and baremetal.c (user hooks, no-ops by
 * default). The hot primitives are inline, in port_posix.h and
 * port_baremetal.h.
 */
#ifndef ONEHEAP_PORT_H
#define ONEHEAP_PORT_H

#include "oh_config.h"

void        os_port_lock_init(os_ubase_t *lock);
os_uint16_t os_port_task_id(void);
const char *os_port_task_name(os_uint16_t id);
void        os_port_puts(const char *s);
void        os_port_error(const char *heap_name, const void *addr, os_err_t code, const char *msg);
void        os_port_assert_fail(const char *msg);

#if defined(OS_MEM_PORT_POSIX)
#include "port_posix.h"
#else
#include "port_baremetal.h"
#endif

#endif /* ONEHEAP_PORT_H */
