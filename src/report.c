/* report.c - error hook and log output; see report.h. */
#include <stdarg.h>
#include "report.h"
#include "fmt.h"
#include "port.h"

static os_mem_error_hook_t error_hook;

void os_mem_set_error_hook(os_mem_error_hook_t hook)
{
    __atomic_store_n(&error_hook, hook, __ATOMIC_RELEASE);
}

/* Format one report and hand it to the hook; with fatal, assert afterwards. */
void oh_vreport(int fatal, const char *kind, const char *name, const void *addr, os_err_t code,
                const char *fmt, va_list ap)
{
    char msg[192];
    os_size_t n;
    os_mem_error_hook_t hook = __atomic_load_n(&error_hook, __ATOMIC_ACQUIRE);

    if (name == OS_NULL)
    {
        name = "-";
    }
    n = oh_snprintf(msg, sizeof(msg), "%s '%s': ", kind, name);
    (void)oh_vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
    if (hook == OS_NULL)
    {
        hook = os_port_error;
    }
    hook(name, addr, code, msg);
#if OS_MEM_ERROR_ASSERT
    if (fatal)
    {
        os_port_assert_fail(msg);
    }
#else
    (void)fatal;
#endif
}

void oh_report(const os_memheap_t *heap, const void *addr, os_err_t code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    oh_vreport(0, "heap", heap != OS_NULL ? heap->name : OS_NULL, addr, code, fmt, ap);
    va_end(ap);
}

void oh_report_fault(const os_memheap_t *heap, const void *addr, os_err_t code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    oh_vreport(1, "heap", heap != OS_NULL ? heap->name : OS_NULL, addr, code, fmt, ap);
    va_end(ap);
}

void oh_fault(const struct heap_mem *r, const void *addr, os_err_t code, const char *what)
{
    oh_report_fault(r->heap, addr, code, "region %p: %s at %p", (void *)r->start, what, addr);
}

void oh_bad_pointer(const struct heap_mem *r, const void *p, int why)
{
    oh_fault(r, p, OS_EINVAL,
             why == BLK_NOT_BLOCK ? "free of a pointer that is not a block (interior or foreign)"
             : why == BLK_FREE    ? "double free (block is not in use)"
                                  : "block header overwritten, or not a block");
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
