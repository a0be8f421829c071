/*
 * test_fmt.c - the core's own formatter (src/fmt.c), which writes every
 * report: for each format it supports and every buffer length from 0 to
 * past the full output, the text equals the C library's, truncated to
 * len - 1 characters and terminated, the return value is the characters
 * stored, and no byte at or past len is written.
 */
#include "common.h"
#include "fmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define GUARD ((char)0xEE)

static
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 1, 2)))
#endif
    void check_fmt(const char *fmt, ...)
{
    char want[256], buf[300];
    va_list ap;

    va_start(ap, fmt);
    int full = vsnprintf(want, sizeof want, fmt, ap);
    va_end(ap);
    CHECK(full >= 0 && (size_t)full < sizeof want);
    if (full < 0 || (size_t)full >= sizeof want)
        return;
    for (size_t len = 0; len <= (size_t)full + 2; len++)
    {
        check_context("format \"%s\" into %zu bytes (full text: \"%s\")", fmt, len, want);
        memset(buf, GUARD, sizeof buf);
        va_start(ap, fmt);
        size_t got = oh_vsnprintf(buf, len, fmt, ap);
        va_end(ap);
        size_t expect = len == 0 ? 0 : ((size_t)full < len ? (size_t)full : len - 1);
        CHECK_EQ(got, expect);
        if (len > 0)
        {
            CHECKF(memcmp(buf, want, expect) == 0, "got \"%.*s\"", (int)expect, buf);
            CHECK_EQ(buf[expect], '\0');
        }
        size_t bad = sizeof buf;
        for (size_t i = len; i < sizeof buf && bad == sizeof buf; i++)
            if (buf[i] != GUARD)
                bad = i;
        CHECKF(bad == sizeof buf, "byte %zu written (the buffer holds %zu)", bad, len);
    }
}

/* The formatter on input the C library leaves undefined (no format attribute, so it compiles). */
static void check_raw(const char *want, const char *fmt, ...)
{
    char buf[64];
    va_list ap;

    check_context("format \"%s\" (no C library counterpart)", fmt);
    memset(buf, GUARD, sizeof buf);
    va_start(ap, fmt);
    size_t got = oh_vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    CHECK_EQ(got, strlen(want));
    CHECKF(strcmp(buf, want) == 0, "got \"%s\", want \"%s\"", buf, want);
}

int main(void)
{
    /* a null string, an unknown conversion (written as it is), a lone '%' at the end (dropped) */
    check_raw("name (null).", "name %s.", (const char *)OS_NULL);
    check_raw("a %q b", "a %q b");
    check_raw("100", "100%");
    check_fmt("plain text");
    check_fmt("%s and %s", "one", "");
    check_fmt("[%c%c]", 'a', 'Z');
    check_fmt("%d %d %d %d", 0, 7, -1, -2147483647 - 1);
    check_fmt("%u %u", 0u, 4294967295u);
    check_fmt("%x %x", 0u, 0xdeadbeefu);
    check_fmt("%zu %zx", (size_t)0, (size_t)-1);
    check_fmt("%zu bytes at offset %zu", (size_t)123456789, (size_t)42);
    check_fmt("100%% of %s", "it");
    check_fmt("[%8s][%-8s][%3s]", "right", "left", "longer than its width");
    check_fmt("[%5d][%-5d][%05d][%5u][%08x][%-6zu]", 42, 42, 42, 7u, 0xbeefu, (size_t)9);
    check_fmt("[%5d][%-5d][%05d]", -42, -42, -42);
    check_fmt("heap '%s': free of %s %zu bytes", "a name of some length", "a block of", (size_t)4096);
    return check_summary("test_fmt");
}
