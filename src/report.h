/*
 * report.h - the single path of every refusal and corruption report: it
 * formats one line naming the heap (and region and address where known) and
 * calls the error hook; with OS_MEM_ERROR_ASSERT it then asserts.
 */
#ifndef ONEHEAP_REPORT_H
#define ONEHEAP_REPORT_H

#include "alg/alg.h"

void oh_report(const os_memheap_t *heap, const void *addr, os_err_t code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Print formatted text through the port's log output. */
void oh_print(const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

#endif
