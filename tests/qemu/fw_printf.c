/*
 * fw_printf.c - "%zu" for the test firmware.
 *
 * The newlib of the Debian toolchain is built without C99 formats, so it
 * prints "%zu" as "zu". The unit tests use it, so the firmware links with
 * -Wl,--wrap for printf, fprintf, snprintf and vsnprintf: each wrapper
 * drops the z (size_t) and t (ptrdiff_t) length modifiers from the format
 * and calls newlib's function. On this 32-bit target size_t and ptrdiff_t
 * have the size of int, so the arguments are read exactly as before.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int __real_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int __wrap_printf(const char *fmt, ...);
int __wrap_fprintf(FILE *f, const char *fmt, ...);
int __wrap_snprintf(char *buf, size_t size, const char *fmt, ...);
int __wrap_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

_Static_assert(sizeof(size_t) == sizeof(unsigned), "the z modifier is dropped only where size_t is an int");

/* fmt without z and t modifiers, in buf; fmt itself if it has none or is too long. */
static const char *fix(const char *fmt, char *buf, size_t size)
{
    size_t o = 0;

    if (strchr(fmt, 'z') == NULL && strchr(fmt, 't') == NULL)
    {
        return fmt;
    }
    for (const char *s = fmt; *s != '\0';)
    {
        if (o + 2 >= size)
        {
            return fmt;
        }
        if (*s != '%')
        {
            buf[o++] = *s++;
            continue;
        }
        buf[o++] = *s++;                    /* '%' */
        while (*s != '\0' && strchr("-+ #0123456789.*", *s) != NULL && o + 2 < size)
        {
            buf[o++] = *s++;                /* flags, width, precision */
        }
        if (*s == 'z' || *s == 't')
        {
            s++;
        }
        else if (*s == '%')
        {
            buf[o++] = *s++;                /* "%%" */
        }
    }
    buf[o] = '\0';
    return buf;
}

int __wrap_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    char f[256];

    return __real_vsnprintf(buf, size, fix(fmt, f, sizeof f), ap);
}

int __wrap_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    char f[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = __real_vsnprintf(buf, size, fix(fmt, f, sizeof f), ap);
    va_end(ap);
    return n;
}

int __wrap_printf(const char *fmt, ...)
{
    char f[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vprintf(fix(fmt, f, sizeof f), ap);
    va_end(ap);
    return n;
}

int __wrap_fprintf(FILE *file, const char *fmt, ...)
{
    char f[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vfprintf(file, fix(fmt, f, sizeof f), ap);
    va_end(ap);
    return n;
}
