/*
 * shell.c - oneheap-sh, the OneOS shell experience on a PC.
 *
 * The system heap is a static 128 KiB array managed by first-fit, like the
 * free SRAM of a small microcontroller. Commands come from SH_CMD_EXPORT in
 * any linked file; they are read from -c "cmd; cmd" or from standard input
 * (a prompt "sh>" is shown; piped commands are echoed after it).
 */
#define _POSIX_C_SOURCE 200809L
#define _ISOC11_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef ONEHEAP_SH_EDITLINE
#include <editline/readline.h>
#endif

#include <os_memory.h>
#include <dlog.h>
#include <shell.h>

#include "demo.h"

#define SYS_HEAP_SIZE (128u * 1024u)
#define MAX_ARGS      16

static _Alignas(16) os_uint8_t sys_heap_mem[SYS_HEAP_SIZE];
static struct sh_cmd *commands;

void sh_register(struct sh_cmd *cmd)
{
    struct sh_cmd **pp = &commands;

    /* Keep the list sorted by name, so help is stable. */
    while (*pp != OS_NULL && strcmp((*pp)->name, cmd->name) < 0)
    {
        pp = &(*pp)->next;
    }
    cmd->next = *pp;
    *pp = cmd;
}

void dlog_output(char level, const char *tag, const char *fmt, ...)
{
    va_list ap;

    printf("%c/%s: ", level, tag);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

static void help(void)
{
    const struct sh_cmd *c;

    printf("commands:\n");
    for (c = commands; c != OS_NULL; c = c->next)
    {
        printf("  %-18s - %s\n", c->name, c->desc);
    }
}
SH_CMD_EXPORT(help, help, "list the commands");

static void show_mem(void)
{
    os_meminfo_t info;

    os_memory_info(&info);
    printf("total memory: %zu\n", (size_t)info.mem_total);
    printf("used memory : %zu\n", (size_t)info.mem_used);
    printf("maximum allocated memory: %zu\n", (size_t)info.mem_maxused);
}
SH_CMD_EXPORT(show_mem, show_mem, "show the system heap's total, used and max used bytes");

static void check_mem(void)
{
    printf("system heap check: %s\n", os_memory_check() == OS_EOK ? "OK" : "FAILED");
}
SH_CMD_EXPORT(check_mem, check_mem, "check the system heap's integrity");

static void trace_mem(void)
{
    (void)os_memory_trace();
}
SH_CMD_EXPORT(trace_mem, trace_mem, "list every block of the system heap with its task");

static int run_line(char *line)
{
    char *argv[MAX_ARGS];
    int argc = 0;
    char *tok, *save = OS_NULL;
    const struct sh_cmd *c;

    for (tok = strtok_r(line, " \t\r\n", &save); tok != OS_NULL && argc < MAX_ARGS;
         tok = strtok_r(OS_NULL, " \t\r\n", &save))
    {
        argv[argc++] = tok;
    }
    if (argc == 0)
    {
        return 0;
    }
    if (strcmp(argv[0], "quit") == 0 || strcmp(argv[0], "exit") == 0)
    {
        return 1;
    }
    for (c = commands; c != OS_NULL; c = c->next)
    {
        if (strcmp(c->name, argv[0]) == 0)
        {
            if (c->fn_void != OS_NULL)
            {
                c->fn_void();
            }
            else
            {
                (void)c->fn_args(argc, argv);
            }
            fflush(stdout);
            return 0;
        }
    }
    printf("%s: command not found (try help)\n", argv[0]);
    return 0;
}

static void run_script(char *script)
{
    char *cmd, *save = OS_NULL;

    for (cmd = strtok_r(script, ";\n", &save); cmd != OS_NULL; cmd = strtok_r(OS_NULL, ";\n", &save))
    {
        cmd += strspn(cmd, " \t");
        printf("sh>%s\n", cmd);
        if (run_line(cmd))
        {
            break;
        }
    }
}

/* "--region SIZE[:ALG]": a host-memory region for the system heap. */
static int add_sys_region(const char *spec)
{
    const char *end = OS_NULL;
    size_t size;
    enum os_mem_alg alg = OS_MEM_ALG_DEFAULT;
    void *mem;

    if (demo_parse_size(spec, &size, &end) != 0 || size == 0 || size > SIZE_MAX - 63u ||
        (*end != '\0' && *end != ':'))
    {
        return -1;
    }
    if (*end == ':' && demo_parse_alg(end + 1, &alg) != 0)
    {
        return -1;
    }
    mem = aligned_alloc(64, (size + 63u) & ~(size_t)63u);
    if (mem == OS_NULL || os_sys_heap_add(mem, (os_size_t)size, alg) != OS_EOK)
    {
        free(mem);
        return -1;
    }
    return 0;
}

enum line_read
{
    LINE_OK,
    LINE_EOF,   /* end of input before any character */
    LINE_LONG,  /* more than cap - 2 characters: the rest of the line is skipped */
    LINE_NUL    /* a NUL byte in the line (the whole line is read) */
};

/*
 * One line of standard input into buf (cap bytes), its '\n' kept when it
 * had one, always terminated. A line that does not fit, or that holds a
 * NUL byte, is read to its end and reported instead, so the next line
 * starts where it should.
 */
static enum line_read read_line(char *buf, size_t cap)
{
    size_t n = 0;
    int c, nul = 0, any = 0, over = 0;

    while ((c = getchar()) != EOF)
    {
        any = 1;
        nul |= c == '\0';
        if (n + 2 < cap || (c == '\n' && n + 1 < cap))
        {
            buf[n++] = (char)(c == '\0' ? ' ' : c);
        }
        else
        {
            over = 1;   /* keep reading to the line's end */
        }
        if (c == '\n')
        {
            break;
        }
    }
    buf[n] = '\0';
    if (!any)
    {
        return LINE_EOF;
    }
    return over ? LINE_LONG : nul ? LINE_NUL : LINE_OK;
}

/* The usage text: on stdout and status 0 when asked for (--help), else on stderr and status 2. */
static int usage(int asked)
{
    fprintf(asked ? stdout : stderr,
            "usage: oneheap-sh [--region SIZE[:firstfit|buddy]]... [-c \"cmd; cmd ...\"]\n"
            "  without --region the system heap is a static 128 KiB first-fit array\n");
    return asked ? 0 : 2;
}

#ifdef ONEHEAP_SH_EDITLINE
/* A terminal: line editing and history through libedit. */
static void interactive(void)
{
    char *in;

    while ((in = readline("sh>")) != OS_NULL)
    {
        int quit;

        if (in[strspn(in, " \t")] != '\0')
        {
            add_history(in);
        }
        quit = run_line(in);
        free(in);
        if (quit)
        {
            return;
        }
    }
    printf("\n");
}
#endif

int main(int argc, char **argv)
{
    char line[512];
    char *script = OS_NULL;
    int tty = isatty(0);
    int regions = 0;
    int i;

    os_sys_heap_init();
    for (i = 1; i < argc; i++)
    {
        if (strcmp(argv[i], "--region") == 0 && i + 1 < argc)
        {
            if (add_sys_region(argv[++i]) != 0)
            {
                fprintf(stderr, "oneheap-sh: cannot add region '%s'\n", argv[i]);
                return 1;
            }
            regions++;
        }
        else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
        {
            script = argv[++i];
        }
        else
        {
            return usage(strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0);
        }
    }
    if (regions == 0 && os_sys_heap_add(sys_heap_mem, sizeof(sys_heap_mem), OS_MEM_ALG_FIRSTFIT) != OS_EOK)
    {
        fprintf(stderr, "oneheap-sh: cannot set up the system heap\n");
        return 1;
    }
    if (script != OS_NULL)
    {
        run_script(script);
        return 0;
    }
#ifdef ONEHEAP_SH_EDITLINE
    if (tty)
    {
        interactive();
        return 0;
    }
#endif
    for (;;)
    {
        enum line_read got;

        printf("sh>");
        fflush(stdout);
        got = read_line(line, sizeof(line));
        if (got == LINE_EOF)
        {
            printf("\n");
            break;
        }
        if (got != LINE_OK)
        {
            int shown = tty ? 0 : (int)strcspn(line, "\n");     /* piped input is echoed */

            if (got == LINE_LONG)
            {
                printf("%.*s...\nline too long: at most %zu characters; not run\n", shown, line, sizeof(line) - 2);
            }
            else
            {
                printf("%.*s\nline holds a NUL byte; not run\n", shown, line);
            }
            continue;
        }
        if (!tty)
        {
            printf("%s", line);
            if (strchr(line, '\n') == OS_NULL)
            {
                printf("\n");
            }
        }
        if (run_line(line))
        {
            break;
        }
    }
    return 0;
}
