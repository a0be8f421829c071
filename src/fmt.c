/* fmt.c - see fmt.h. */
#include "oh_string.h"
#include "fmt.h"

struct out
{
    char     *buf;
    os_size_t len;
    os_size_t pos;
};

static void put(struct out *o, char c)
{
    if (o->pos + 1 < o->len)
    {
        o->buf[o->pos] = c;
    }
    o->pos++;
}

static void put_field(struct out *o, const char *s, os_size_t n, unsigned width, int left, char pad)
{
    os_size_t i;

    for (i = n; !left && i < width; i++)
    {
        put(o, pad);
    }
    for (i = 0; i < n; i++)
    {
        put(o, s[i]);
    }
    for (i = n; left && i < width; i++)
    {
        put(o, ' ');
    }
}

static os_size_t utoa(char *tmp, os_ubase_t v, unsigned base)
{
    static const char digits[] = "0123456789abcdef";
    os_size_t n = 0, i;

    do
    {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v != 0);
    for (i = 0; i < n / 2; i++)
    {
        char t = tmp[i];
        tmp[i] = tmp[n - 1 - i];
        tmp[n - 1 - i] = t;
    }
    return n;
}

os_size_t oh_vsnprintf(char *buf, os_size_t len, const char *fmt, va_list ap)
{
    struct out o = { buf, len, 0 };
    char tmp[24];

    for (; *fmt != '\0'; fmt++)
    {
        unsigned width = 0;
        int left = 0, size_t_arg = 0;
        char pad = ' ';
        os_ubase_t v = 0;   /* machine words: no 64-bit division on 32-bit cores */
        unsigned base = 10;
        os_size_t n;

        if (*fmt != '%')
        {
            put(&o, *fmt);
            continue;
        }
        fmt++;
        if (*fmt == '-')
        {
            left = 1;
            fmt++;
        }
        if (*fmt == '0')
        {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
        {
            width = width * 10u + (unsigned)(*fmt - '0');
            fmt++;
        }
        if (*fmt == 'z')
        {
            size_t_arg = 1;
            fmt++;
        }
        switch (*fmt)
        {
        case 's':
        {
            const char *s = va_arg(ap, const char *);
            if (s == OS_NULL)
            {
                s = "(null)";
            }
            put_field(&o, s, strlen(s), width, left, ' ');
            continue;
        }
        case 'c':
            tmp[0] = (char)va_arg(ap, int);
            put_field(&o, tmp, 1, width, left, ' ');
            continue;
        case 'd':
        {
            os_base_t sv = size_t_arg ? (os_base_t)va_arg(ap, os_size_t) : (os_base_t)va_arg(ap, int);
            os_size_t k = 0;
            if (sv < 0)
            {
                if (pad == '0' && !left)
                {
                    put(&o, '-');   /* the sign goes before the zeros: -0042 */
                    width -= width != 0u;
                }
                else
                {
                    tmp[k++] = '-';
                }
                v = (os_ubase_t)(-(sv + 1)) + 1u;
            }
            else
            {
                v = (os_ubase_t)sv;
            }
            n = k + utoa(tmp + k, v, 10);
            put_field(&o, tmp, n, width, left, pad);
            continue;
        }
        case 'x':
            base = 16;
            /* fall through */
        case 'u':
            v = size_t_arg ? (os_ubase_t)va_arg(ap, os_size_t) : (os_ubase_t)va_arg(ap, unsigned);
            n = utoa(tmp, v, base);
            put_field(&o, tmp, n, width, left, pad);
            continue;
        case 'p':
            v = (os_ubase_t)va_arg(ap, void *);
            tmp[0] = '0';
            tmp[1] = 'x';
            n = 2 + utoa(tmp + 2, v, 16);
            put_field(&o, tmp, n, width, left, ' ');
            continue;
        case '%':
            put(&o, '%');
            continue;
        case '\0':
            fmt--;
            continue;
        default:
            put(&o, '%');
            put(&o, *fmt);
            continue;
        }
    }
    if (len == 0)
    {
        return 0;
    }
    if (o.pos >= len)
    {
        o.pos = len - 1;    /* truncated */
    }
    buf[o.pos] = '\0';
    return o.pos;
}

os_size_t oh_snprintf(char *buf, os_size_t len, const char *fmt, ...)
{
    va_list ap;
    os_size_t n;

    va_start(ap, fmt);
    n = oh_vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return n;
}
