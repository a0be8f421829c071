/*
 * check.h - a tiny assertion framework for the oneheap tests.
 *
 * CHECK(cond) records a failure (file:line, the expression and the current
 * context label) and carries on; a test program ends with
 * `return check_summary("name");`, which exits nonzero if anything failed.
 * The counters are atomic, so CHECK may be used from several threads.
 *
 * Exactly one translation unit (common.c) defines CHECK_IMPLEMENTATION
 * before including this header.
 */
#ifndef ONEHEAP_TESTS_CHECK_H
#define ONEHEAP_TESTS_CHECK_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* Return code that ctest treats as "skipped" (SKIP_RETURN_CODE). */
#define TEST_SKIP_CODE 77

extern atomic_ulong check_failures;
extern atomic_ulong check_total;

/* Set a label printed with every failure, e.g. "firstfit seed=3". */
void check_context(const char *fmt, ...);
const char *check_context_get(void);

void check_fail(const char *file, int line, const char *fmt, ...);

#define CHECK(cond)                                                        \
    do {                                                                   \
        atomic_fetch_add(&check_total, 1UL);                               \
        if (!(cond))                                                       \
            check_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);            \
    } while (0)

/* Like CHECK, with a printf-style explanation. */
#define CHECKF(cond, ...)                                                  \
    do {                                                                   \
        atomic_fetch_add(&check_total, 1UL);                               \
        if (!(cond)) {                                                     \
            check_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);            \
            check_note(__VA_ARGS__);                                       \
        }                                                                  \
    } while (0)

/* Integer equality, printing both values. */
#define CHECK_EQ(a, b)                                                     \
    do {                                                                   \
        unsigned long long check_a_ = (unsigned long long)(a);             \
        unsigned long long check_b_ = (unsigned long long)(b);             \
        atomic_fetch_add(&check_total, 1UL);                               \
        if (check_a_ != check_b_)                                          \
            check_fail(__FILE__, __LINE__, "CHECK_EQ(%s, %s): %llu != %llu", \
                       #a, #b, check_a_, check_b_);                        \
    } while (0)

/* Pointer equality, printing both values. */
#define CHECK_PTR_EQ(a, b)                                                 \
    do {                                                                   \
        const void *check_pa_ = (const void *)(a);                         \
        const void *check_pb_ = (const void *)(b);                         \
        atomic_fetch_add(&check_total, 1UL);                               \
        if (check_pa_ != check_pb_)                                        \
            check_fail(__FILE__, __LINE__, "CHECK_PTR_EQ(%s, %s): %p != %p", \
                       #a, #b, check_pa_, check_pb_);                      \
    } while (0)

/* Extra line of explanation after a failure (not counted). */
void check_note(const char *fmt, ...);

/* Print the result; returns the process exit code (0 = all passed). */
int check_summary(const char *name);

#ifdef CHECK_IMPLEMENTATION

atomic_ulong check_failures;
atomic_ulong check_total;
static _Thread_local char check_ctx_buf[160];

void check_context(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(check_ctx_buf, sizeof check_ctx_buf, fmt, ap);
    va_end(ap);
}

const char *check_context_get(void)
{
    return check_ctx_buf;
}

#define CHECK_MAX_PRINTED 200UL

void check_fail(const char *file, int line, const char *fmt, ...)
{
    unsigned long n = atomic_fetch_add(&check_failures, 1UL) + 1UL;
    if (n > CHECK_MAX_PRINTED)
    {
        if (n == CHECK_MAX_PRINTED + 1UL)
            fprintf(stdout, "... further failures not printed\n");
        return;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stdout, "%s:%d: FAILED [%s] %s\n", file, line, check_ctx_buf, msg);
    fflush(stdout);
}

void check_note(const char *fmt, ...)
{
    if (atomic_load(&check_failures) > CHECK_MAX_PRINTED)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stdout, "    note: %s\n", msg);
    fflush(stdout);
}

int check_summary(const char *name)
{
    unsigned long f = atomic_load(&check_failures);
    unsigned long t = atomic_load(&check_total);
    fprintf(stdout, "%s: %lu checks, %lu failed\n", name, t, f);
    fflush(stdout);
    return f ? 1 : 0;
}

#endif /* CHECK_IMPLEMENTATION */

#endif /* ONEHEAP_TESTS_CHECK_H */
