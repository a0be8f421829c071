/*
 * port.h - everything platform-specific that the core uses, in one place.
 *
 *   lock          os_port_lock_init / os_port_lock / os_port_unlock: a
 *                 mutual-exclusion lock held in one word of the heap object;
 *                 os_port_lock returns a state word that os_port_unlock gets
 *                 back (a saved interrupt mask, for instance). Locks held
 *                 together are given back in the reverse order they were
 *                 taken, so a saved mask comes back right. Memory pools may
 *                 be used from interrupt handlers (os_mp_alloc without
 *                 waiting, os_mp_free): a pool's lock, and os_port_wake,
 *                 then run in the handler, so pools used there need a lock
 *                 that works in one (an interrupt mask, not a mutex).
 *   in interrupt  os_port_in_isr: nonzero when called from an interrupt
 *                 handler; heap calls are refused there.
 *   idle          os_port_idle: nonzero when lock, unlock and the interrupt
 *                 test are known to do nothing right now (the bare-metal
 *                 port with no hooks installed, or without a lock at all);
 *                 the core then skips them, and its hot paths end in a
 *                 tail call into the algorithm. OS_PORT_CAN_IDLE (0 or 1,
 *                 a macro) says whether it can ever be nonzero: with 0 the
 *                 core leaves the tail-call paths out.
 *   task          os_port_task_id: a small index for the calling task (see
 *                 OS_MEM_TASK_UNKNOWN in os_memory.h; a port may give the
 *                 task its index on this call); os_port_task_peek: the same
 *                 index if the task has one, never giving one (safe with
 *                 any lock held: reports use it); os_port_task_name maps
 *                 an index back to a name that stays valid after the task
 *                 ends.
 *   callbacks     optional (OS_PORT_CB_TRACKED defined to 1 by the port
 *                 header): os_port_cb_enter / os_port_cb_leave around
 *                 every walk callback and every call of the error hook
 *                 made while this thread holds a lock of the library
 *                 (os_port_lock_mine: does the calling thread hold this
 *                 lock word?), and os_port_in_cb, nonzero while the
 *                 calling thread is inside one (a per-thread count). A
 *                 call that would take the global lock from there could
 *                 wait for a task that holds the global lock and waits for
 *                 the lock the callback runs under: the core refuses such
 *                 calls (OS_EPERM) where the port can tell. Without it,
 *                 they are the caller's to avoid (see the README).
 *   log           os_port_puts: write one piece of text (trace, check).
 *   error         os_port_error: the default error hook;
 *                 os_port_assert_fail: called after a report when
 *                 OS_MEM_ERROR_ASSERT is 1; must not return.
 *   wait          os_port_wait_init / os_port_wait / os_port_wake /
 *                 os_port_wait_fini: a one-shot wake-up for one blocked
 *                 thread (memory pools). The record, struct os_port_wait
 *                 (defined by the port header), lives on the waiting
 *                 thread's stack, so waiting needs no allocation.
 *                 os_port_wait_init is called with the caller's lock held
 *                 and returns nonzero if the thread cannot block;
 *                 os_port_wait blocks without any lock held until
 *                 os_port_wake (which may come first, and is remembered) or
 *                 until the timeout (ticks; OS_WAIT_FOREVER: none) and says
 *                 which (OS_EOK / OS_ETIMEOUT); os_port_wake is called
 *                 with the caller's lock held and never blocks for long.
 *                 A caller that signals under its lock, and has the woken
 *                 thread take that lock before os_port_wait_fini, never
 *                 finishes a record that os_port_wake is still using.
 *
 * Ports: posix.c (pthreads, thread names; spin lock that costs a few
 * instructions when uncontended; condition variables for waits; a tick is
 * 1 ms) and baremetal.c (user hooks, no-ops by default; no wait hooks: no
 * waiting). The Cortex-M port is baremetal.c with PRIMASK and IPSR as the
 * default lock and interrupt test. The hot primitives are inline, in
 * port_posix.h, port_baremetal.h and port_cortexm.h. A port of your own is
 * <name>.c plus port_<name>.h (the inline primitives, OS_PORT_CAN_IDLE and
 * struct os_port_wait), included through OS_MEM_PORT_HEADER;
 * examples/port_template is one to start from.
 */
#ifndef ONEHEAP_PORT_H
#define ONEHEAP_PORT_H

#include "oh_config.h"
#include "oh_config_check.h"

void        os_port_lock_init(os_ubase_t *lock);
os_uint16_t os_port_task_id(void);
os_uint16_t os_port_task_peek(void);
const char *os_port_task_name(os_uint16_t id);
void        os_port_puts(const char *s);
void        os_port_error(const char *heap_name, const void *addr, os_err_t code, const char *msg);
void        os_port_assert_fail(const char *msg);

struct os_port_wait;    /* defined by port_<name>.h */
int         os_port_wait_init(struct os_port_wait *w);
os_err_t    os_port_wait(struct os_port_wait *w, os_tick_t timeout);
void        os_port_wake(struct os_port_wait *w);
void        os_port_wait_fini(struct os_port_wait *w);

/*
 * Called by a port whose os_port_idle() has just changed (the bare-metal
 * port's os_mem_port_set_hooks): the heaps and pools refresh the state
 * their tail-call and inline fast paths read. O(H + P), H heaps, P pools.
 */
void        oh_port_idle_changed(void);

/*
 * For a port whose lock word names its holder (it defines
 * OS_PORT_LOCK_OWNER, as the POSIX port does) and that finds the calling
 * thread about to wait for a lock it holds itself: reports it through the
 * error hook (OS_EPERM; once: a hook that calls the heap again goes
 * straight on) and ends in os_port_assert_fail. Never returns.
 */
void        oh_port_reentered(const os_ubase_t *lock);

#if defined(OS_MEM_PORT_POSIX)
#include "port_posix.h"
#elif defined(OS_MEM_PORT_CORTEXM)
#include "port_cortexm.h"
#elif defined(OS_MEM_PORT_HEADER)
#include OS_MEM_PORT_HEADER     /* a port of your own (ONEHEAP_PORT, ONEHEAP_PORT_DIR) */
#else
#include "port_baremetal.h"
#endif
#ifndef OS_PORT_CAN_IDLE
#error "the port header must define OS_PORT_CAN_IDLE: 1 if os_port_idle() can return nonzero, else 0"
#endif
#ifndef OS_PORT_CB_TRACKED
#define OS_PORT_CB_TRACKED 0
static inline void os_port_cb_enter(void)
{
}
static inline void os_port_cb_leave(void)
{
}
static inline int os_port_in_cb(void)
{
    return 0;
}
static inline int os_port_lock_mine(const os_ubase_t *lock)
{
    (void)lock;
    return 0;
}
#endif

#endif /* ONEHEAP_PORT_H */
