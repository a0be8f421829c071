/* report.c - error hook and log output; see report.h. */
#include <stdarg.h>
#include "report.h"
#include "fmt.h"
#include "port.h"
#include "region.h"

static os_mem_error_hook_t error_hook;

void os_mem_set_error_hook(os_mem_error_hook_t hook)
{
    __atomic_store_n(&error_hook, hook, __ATOMIC_RELEASE);
}

/*
 * Hand a finished report to the hook (the port's by default); with fatal,
 * assert afterwards. lock: the lock word of the heap or pool the report
 * names (OS_NULL: none). Where the port tracks callbacks, a hook run while
 * this thread holds that lock or the global lock runs as a callback
 * (oh_cb_refused()); one run after the locks were given back does not.
 */
static void deliver(int fatal, const os_ubase_t *lock, const char *name, const void *addr, os_err_t code,
                    const char *msg)
{
    os_mem_error_hook_t hook = __atomic_load_n(&error_hook, __ATOMIC_ACQUIRE);
    int held = os_port_lock_mine(&oh_global_lock) || (lock != OS_NULL && os_port_lock_mine(lock));

    if (hook == OS_NULL)
    {
        hook = os_port_error;
    }
    if (held)
    {
        os_port_cb_enter();
    }
    hook(name, addr, code, msg);
    if (held)
    {
        os_port_cb_leave();
    }
#if OS_MEM_ERROR_ASSERT
    if (fatal)
    {
        os_port_assert_fail(msg);
    }
#else
    (void)fatal;
#endif
}

#ifdef OS_PORT_LOCK_OWNER
void oh_port_reentered(const os_ubase_t *lock)
{
    static int reported;
    static const char msg[] = "a heap call waits for a lock its own thread holds (a call from a signal "
                              "handler, or from the error hook or a walk callback, into a heap that "
                              "is in use): it would never return";

    if (!__atomic_exchange_n(&reported, 1, __ATOMIC_ACQ_REL))
    {
        deliver(0, lock, "-", lock, OS_EPERM, msg);
    }
    os_port_assert_fail(msg);
    for (;;)
    {
        /* os_port_assert_fail must not return */
    }
}
#endif

/* Format one report and deliver it. */
void oh_vreport(int fatal, const os_ubase_t *lock, const char *kind, const char *name, const void *addr,
                os_err_t code, const char *fmt, va_list ap)
{
    char msg[192];
    os_size_t n;

    if (name == OS_NULL)
    {
        name = "-";
    }
    n = oh_snprintf(msg, sizeof(msg), "%s '%s': ", kind, name);
    n += oh_vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
#ifdef OS_USING_MEM_TRACE
    if (n < sizeof(msg))
    {
        /* the task that made the call */
        (void)oh_snprintf(msg + n, sizeof(msg) - n, " [task %s]", oh_task_name(os_port_task_peek()));
    }
#endif
    deliver(fatal, lock, name, addr, code, msg);
}

/*
 * A pointer outside region r can only come from the free of a one-region
 * heap, which hands any pointer to that region's algorithm (region.h,
 * OH_FREE_UNCHECKED): OS_NULL is nothing to free, anything else is not in
 * the heap. Reported here; 1 if so.
 */
#ifdef OH_FREE_UNCHECKED
static int outside(const struct heap_mem *r, const void *p)
{
    if ((os_ubase_t)p >= (os_ubase_t)r->start && (os_ubase_t)p < (os_ubase_t)r->end)
    {
        return 0;
    }
    if (p != OS_NULL)
    {
        oh_foreign_pointer(r->heap, p, "free");
    }
    return 1;
}
#else
#define outside(r, p)   ((void)(r), (void)(p), 0)
#endif

#ifdef OS_MEM_SMALL
/*
 * The fixed messages of the small build, one after the other, and the one
 * for each error code (0: "error"); T_FOREIGN and the three after it are
 * for bad pointers.
 */
static const char texts[] =
    "error\0"
    "heap corrupted\0"
    "region too small\0"
    "holds a pool or another heap's region\0"
    "invalid argument\0"
    "called from an interrupt\0"
    "pointer not in this heap\0"
    "not a block (interior or foreign)\0"
    "double free\0"
    "block header overwritten, or not a block";
enum { T_FOREIGN = 6, T_NOT_BLOCK, T_DOUBLE, T_CORRUPT };
_Static_assert(T_NOT_BLOCK == T_FOREIGN + BLK_NOT_BLOCK && T_DOUBLE == T_FOREIGN + BLK_FREE &&
                   T_CORRUPT == T_FOREIGN + BLK_CORRUPT,
               "the texts of bad pointers follow T_FOREIGN in the order of BLK_NOT_BLOCK, BLK_FREE, BLK_CORRUPT");
static const os_uint8_t text_of[] = {
    [OS_ERROR] = 1, [OS_ENOMEM] = 2, [OS_EBUSY] = 3, [OS_EINVAL] = 4, [OS_EPERM] = 5,
};

/* "heap 'NAME': " and fixed text t to the error hook, as oh_vreport writes its lines. */
static void report_msg(int fatal, const os_memheap_t *heap, const void *addr, os_err_t code, unsigned t)
{
    char msg[6 + OS_NAME_MAX + 3 + 40];
    const char *name = heap != OS_NULL ? heap->name : "-";
    const char *text = texts;
    const char *parts[4] = { "heap '", name, "': ", OS_NULL };
    os_size_t n = 0;
    unsigned i;

    while (t != 0)
    {
        t -= *text++ == '\0';
    }
    parts[3] = text;
    for (i = 0; i < 4; i++)
    {
        const char *s = parts[i];

        while (*s != '\0' && n < sizeof(msg) - 1)
        {
            msg[n++] = *s++;
        }
    }
    msg[n] = '\0';
    deliver(fatal, heap != OS_NULL ? &heap->lock : OS_NULL, name, addr, code, msg);
}

void oh_report_fixed(int fatal, const os_memheap_t *heap, const void *addr, os_err_t code)
{
    unsigned t = (unsigned)code < sizeof(text_of) ? text_of[code] : 0u;

    report_msg(fatal, heap, addr, code, fatal && code == OS_EINVAL ? (unsigned)T_FOREIGN : t);
}

/* (The name in parentheses: the small build's macro of that name in alg.h does not apply here.) */
void (oh_foreign_pointer)(const os_memheap_t *heap, const void *p, const char *what)
{
    (void)what;
    if (!oh_heap_gone(heap, OS_NULL, p))
    {
        oh_report_fixed(1, heap, p, OS_EINVAL);
    }
}

void oh_bad_pointer(const struct heap_mem *r, const void *p, int why)
{
    if (outside(r, p))
    {
        return;
    }
    /* T_NOT_BLOCK, T_DOUBLE, T_CORRUPT for BLK_NOT_BLOCK, BLK_FREE and the rest */
    report_msg(1, r->heap, p, OS_EINVAL, T_FOREIGN + (unsigned)(why < BLK_CORRUPT ? why : BLK_CORRUPT));
}
#else
void oh_report(const os_memheap_t *heap, const void *addr, os_err_t code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    oh_vreport(0, heap != OS_NULL ? &heap->lock : OS_NULL, "heap", heap != OS_NULL ? heap->name : OS_NULL, addr,
               code, fmt, ap);
    va_end(ap);
}

void oh_report_fault(const os_memheap_t *heap, const void *addr, os_err_t code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    oh_vreport(1, heap != OS_NULL ? &heap->lock : OS_NULL, "heap", heap != OS_NULL ? heap->name : OS_NULL, addr,
               code, fmt, ap);
    va_end(ap);
}

void oh_fault(const struct heap_mem *r, const void *addr, os_err_t code, const char *what)
{
    oh_report_fault(r->heap, addr, code, "region %p: %s at %p", (void *)r->start, what, addr);
}

void oh_foreign_pointer(const os_memheap_t *heap, const void *p, const char *what)
{
    if (!oh_heap_gone(heap, what, p))
    {
        oh_report_fault(heap, p, OS_EINVAL, "%s of %p, which is not in this heap", what, p);
    }
}

void oh_bad_pointer(const struct heap_mem *r, const void *p, int why)
{
    if (outside(r, p))
    {
        return;
    }
    oh_fault(r, p, OS_EINVAL,
             why == BLK_NOT_BLOCK ? "free of a pointer that is not a block (interior or foreign)"
             : why == BLK_FREE    ? "double free (block is not in use)"
             : why == BLK_NOT_USED ? "free of a block not in use (double free, or pointer into a block)"
                                  : "block header overwritten, or not a block");
}
#endif

int oh_heap_gone(const os_memheap_t *heap, const char *what, const void *p)
{
    if (OH_HEAP_LIVE(heap))
    {
        return 0;
    }
    oh_report(OS_NULL, p != OS_NULL ? p : (const void *)heap, OS_EINVAL,
              "%s on heap %p, which was deinitialised meanwhile", what, (const void *)heap);
    (void)what;     /* the small build's reports do not name them */
    (void)p;
    return 1;
}

int oh_ctrl_bad(const struct heap_mem *r, int ok)
{
    if (!ok)
    {
        oh_fault(r, OH_REGION_DATA(r), OS_ERROR, "the region's control data was overwritten");
    }
    return !ok;
}

void oh_print(const char *fmt, ...)
{
    char line[160];
    va_list ap;

    va_start(ap, fmt);
    (void)oh_vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    os_port_puts(line);
}
