/*
 * fuzz_util.h - pieces shared by the oneheap fuzz targets: a reader that
 * turns the fuzzer's bytes into numbers (reading past the end yields zeros,
 * so every input is a valid program), a failure routine that aborts with a
 * message, and an error hook that counts reports.
 *
 * Everything here is static so that each target stays one translation unit
 * plus the replay main.
 */
#ifndef ONEHEAP_FUZZ_UTIL_H
#define ONEHEAP_FUZZ_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <oneos_config.h>
#include <os_errno.h>
#include <os_memory.h>
#include <os_types.h>

/* Bad frees are only exercised where a report does not assert. */
#if defined(OS_MEM_ERROR_ASSERT) && OS_MEM_ERROR_ASSERT
#define FUZZ_BAD_FREES 0
#else
#define FUZZ_BAD_FREES 1
#endif

#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ASAN 1
#endif
#endif
#ifdef FUZZ_ASAN
#include <sanitizer/asan_interface.h>
#define FUZZ_POISON(p, n)   __asan_poison_memory_region((p), (n))
#define FUZZ_UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define FUZZ_POISON(p, n)   ((void)(p), (void)(n))
#define FUZZ_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- input reader ------------------------------------------------------------ */

struct fuzz_in
{
    const uint8_t *p;
    size_t         left;
};

static inline int in_more(const struct fuzz_in *in)
{
    return in->left > 0;
}

static inline uint8_t in_u8(struct fuzz_in *in)
{
    if (in->left == 0)
    {
        return 0;
    }
    in->left--;
    return *in->p++;
}

static inline uint16_t in_u16(struct fuzz_in *in)
{
    uint16_t lo = in_u8(in);
    return (uint16_t)(lo | (uint16_t)in_u8(in) << 8);
}

static inline uint32_t in_u32(struct fuzz_in *in)
{
    uint32_t lo = in_u16(in);
    return lo | (uint32_t)in_u16(in) << 16;
}

/* ---- failure ---------------------------------------------------------------------- */

static void fuzz_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("fuzz: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

#define FUZZ_REQUIRE(cond, ...)   \
    do                            \
    {                             \
        if (!(cond))              \
        {                         \
            fuzz_fail(__VA_ARGS__); \
        }                         \
    } while (0)

/* ---- error hook --------------------------------------------------------------------- */

static unsigned long fuzz_reports;
static os_err_t      fuzz_last_code;

/* Counts reports; prints them when FUZZ_VERBOSE is set in the environment.
 * Runs with a heap lock held, so it never calls into a heap. */
static void fuzz_hook(const char *heap_name, const void *addr, os_err_t code, const char *msg)
{
    static int verbose = -1;
    if (verbose < 0)
    {
        verbose = getenv("FUZZ_VERBOSE") != NULL;
    }
    fuzz_reports++;
    fuzz_last_code = code;
    if (verbose)
    {
        fprintf(stderr, "report: heap %s addr %p code %ld: %s\n", heap_name, addr, (long)code, msg);
    }
}

/* The algorithms compiled in, in a fixed order the inputs index into. */
static const enum os_mem_alg fuzz_algs[] = {
#ifdef OS_USING_ALG_FIRSTFIT
    OS_MEM_ALG_FIRSTFIT,
#endif
#ifdef OS_USING_ALG_BUDDY
    OS_MEM_ALG_BUDDY,
#endif
};
#define FUZZ_NALGS (sizeof fuzz_algs / sizeof fuzz_algs[0])

static inline enum os_mem_alg fuzz_pick_alg(uint8_t b)
{
    return fuzz_algs[b % FUZZ_NALGS];
}

#endif /* ONEHEAP_FUZZ_UTIL_H */
