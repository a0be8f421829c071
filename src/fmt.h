/*
 * fmt.h - a small formatter, so the core needs nothing from libc beyond
 * string.h. Supports %s %c %d %u %x %p %zu %zx %%, with an optional '-'
 * flag, '0' flag and field width. Output is always NUL-terminated (when
 * len > 0). Returns the characters stored, not counting the NUL: at most
 * len - 1, so buf + n is always inside buf and a caller can append there.
 */
#ifndef ONEHEAP_FMT_H
#define ONEHEAP_FMT_H

#include <stdarg.h>
#include "oh_config.h"

os_size_t oh_vsnprintf(char *buf, os_size_t len, const char *fmt, va_list ap);
os_size_t oh_snprintf(char *buf, os_size_t len, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
