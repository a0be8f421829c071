/*
 * report.h - the single path of every refusal and corruption report: it
 * formats one line naming the heap (and region and address where known) and
 * calls the error hook (the small build passes a fixed message instead). oh_report() is for refused arguments;
 * oh_report_fault() (and oh_fault() in alg.h) for a bad pointer or a
 * corruption, after which OS_MEM_ERROR_ASSERT asserts.
 */
#ifndef ONEHEAP_REPORT_H
#define ONEHEAP_REPORT_H

#include "alg/alg.h"

#include <stdarg.h>

/*
 * The one formatter behind every report: "KIND 'NAME': message" to the
 * error hook (NAME "-" when OS_NULL); with fatal and OS_MEM_ERROR_ASSERT it
 * then asserts.
 */
void oh_vreport(int fatal, const os_ubase_t *lock, const char *kind, const char *name, const void *addr,
                os_err_t code, const char *fmt, va_list ap);

#ifdef OS_MEM_SMALL
/*
 * Small build: reports keep their heap, address and code, but the message
 * is a fixed text per kind of report (chosen from the code), so neither the
 * formatter nor the format strings are linked into a program that does not
 * print (see oh_report_fixed in alg.h). The arguments after code are not
 * compiled in.
 */
#define oh_report(heap, addr, code, ...)        oh_report_fixed(0, heap, addr, code)
#define oh_report_fault(heap, addr, code, ...)  oh_report_fixed(1, heap, addr, code)
#else
void oh_report(const os_memheap_t *heap, const void *addr, os_err_t code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

void oh_report_fault(const os_memheap_t *heap, const void *addr, os_err_t code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
#endif

/*
 * Is heap no longer initialised (a deinit ran between a call's entry test
 * and its lock)? Then the call is reported as refused on a heap that is
 * gone, not as a bad pointer (no assert), and 1 returned. For the paths
 * that did not find p in the heap (p OS_NULL: check and walk, which find
 * no region). O(1).
 */
int oh_heap_gone(const os_memheap_t *heap, const char *what, const void *p);

/* Print formatted text through the port's log output. */
void oh_print(const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

#endif
