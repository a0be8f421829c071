/* demo.h - what the shell's files share. */
#ifndef ONEHEAP_DEMO_H
#define ONEHEAP_DEMO_H

#include <os_memory.h>

/*
 * The algorithm called name (firstfit, buddy or default; OS_NULL means
 * default) in *alg: 0, or -1 after printing why not (an unknown name, or an
 * algorithm this build leaves out).
 */
int demo_parse_alg(const char *name, enum os_mem_alg *alg);

/*
 * A size: decimal, 0x hex or 0 octal digits (no sign) with an optional K
 * or M suffix, in *size. With rest OS_NULL the whole string must be the
 * size; else *rest points past it. 0, or -1 if malformed or too large.
 */
int demo_parse_size(const char *s, size_t *size, const char **rest);

#endif
