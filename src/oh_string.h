/*
 * oh_string.h - the only libc functions the core uses: memcpy, memset and
 * strlen. A hosted toolchain has <string.h>; a freestanding one (no libc
 * headers) gets the declarations here, and the firmware provides the
 * functions, as it must anyway for the calls compilers emit on their own.
 */
#ifndef ONEHEAP_OH_STRING_H
#define ONEHEAP_OH_STRING_H

#if defined(__has_include)
#if __has_include(<string.h>)
#include <string.h>
#define OH_HAVE_STRING_H 1
#endif
#else
#include <string.h>
#define OH_HAVE_STRING_H 1
#endif

#ifndef OH_HAVE_STRING_H
#include <stddef.h>
void  *memcpy(void *dst, const void *src, size_t n);
void  *memset(void *dst, int c, size_t n);
size_t strlen(const char *s);
#endif

/* Copy an object name, cut to max characters and terminated (dst holds max + 1). */
static inline void oh_name_copy(char *dst, const char *src, size_t max)
{
    size_t n;

    for (n = 0; n < max && src[n] != '\0'; n++)
    {
        dst[n] = src[n];
    }
    dst[n] = '\0';
}

#endif
