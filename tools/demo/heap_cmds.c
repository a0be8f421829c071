/*
 * heap_cmds.c - shell commands to explore heaps interactively:
 *
 *   heap_create NAME SIZE [ALG]     a user heap with one region of SIZE bytes
 *   heap_add NAME SIZE [ALG]        one more region
 *   heap_delete NAME                deinit the heap and release its regions
 *   show_heap                       total / used / max used of every heap
 *   check_heap [NAME]               integrity check
 *   trace_heap [NAME]               every block with its task
 *   malloc [NAME] SIZE              prints the address
 *   aligned [NAME] ALIGN SIZE
 *   realloc [NAME] ADDR SIZE
 *   free [NAME] ADDR
 *   heap_map [FILE]                 SVG picture of every heap (and a PNG
 *                                   when rsvg-convert is installed)
 *
 * NAME defaults to the system heap ("sys_heap"); SIZE takes K and M
 * suffixes; ALG is firstfit, buddy or default. Region memory comes from the
 * host (this is a PC tool), so it never overlaps the system heap.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <os_memory.h>
#include <shell.h>

#include "demo.h"
#include "heap_map.h"

#define MAX_HEAPS   8
#define MAX_REGIONS 8

struct user_heap
{
    os_memheap_t heap;
    void        *regions[MAX_REGIONS];
    int          nregions;
    int          used;
};

static struct user_heap heaps[MAX_HEAPS];

int demo_parse_size(const char *s, size_t *size, const char **rest)
{
    char *end = NULL;
    unsigned long long v, scale = 1;

    if (s[0] < '0' || s[0] > '9')       /* no sign, no blanks */
    {
        return -1;
    }
    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno != 0 || end == s)
    {
        return -1;
    }
    if (*end == 'K' || *end == 'k')
    {
        scale = 1024u;
        end++;
    }
    else if (*end == 'M' || *end == 'm')
    {
        scale = 1024u * 1024u;
        end++;
    }
    if (v > (unsigned long long)SIZE_MAX / scale || (rest == NULL && *end != '\0'))
    {
        return -1;
    }
    *size = (size_t)(v * scale);
    if (rest != NULL)
    {
        *rest = end;
    }
    return 0;
}

/* A whole argument as a size (see demo_parse_size): 0, or -1 if malformed. */
static int parse_size(const char *s, size_t *size)
{
    return demo_parse_size(s, size, NULL);
}

/* A hexadecimal address, "0x" optional ("0" is the null pointer): 0, or -1 if malformed. */
static int parse_addr(const char *s, void **addr)
{
    char *end = NULL;
    unsigned long long v;

    if ((s[0] < '0' || s[0] > '9') && (s[0] < 'a' || s[0] > 'f') && (s[0] < 'A' || s[0] > 'F'))
    {
        return -1;
    }
    errno = 0;
    v = strtoull(s, &end, 16);
    if (errno != 0 || end == s || *end != '\0' || v > (unsigned long long)UINTPTR_MAX)
    {
        return -1;
    }
    *addr = (void *)(uintptr_t)v;
    return 0;
}

int demo_parse_alg(const char *s, enum os_mem_alg *alg)
{
    if (s == NULL || strcmp(s, "default") == 0)
    {
        *alg = OS_MEM_ALG_DEFAULT;
        return 0;
    }
#ifdef OS_USING_ALG_FIRSTFIT
    if (strcmp(s, "firstfit") == 0)
    {
        *alg = OS_MEM_ALG_FIRSTFIT;
        return 0;
    }
#endif
#ifdef OS_USING_ALG_BUDDY
    if (strcmp(s, "buddy") == 0)
    {
        *alg = OS_MEM_ALG_BUDDY;
        return 0;
    }
#endif
    if (strcmp(s, "firstfit") == 0 || strcmp(s, "buddy") == 0)
    {
        printf("algorithm '%s' is not in this build (CMake: -DONEHEAP_ALG_%s=ON)\n", s,
               s[0] == 'f' ? "FIRSTFIT" : "BUDDY");
    }
    else
    {
        printf("unknown algorithm '%s' (firstfit, buddy or default)\n", s);
    }
    return -1;
}

static struct user_heap *find_user(const char *name)
{
    int i;

    for (i = 0; i < MAX_HEAPS; i++)
    {
        if (heaps[i].used && strcmp(heaps[i].heap.name, name) == 0)
        {
            return &heaps[i];
        }
    }
    return NULL;
}

/* The heap called name: the system heap or a user heap; NULL (and a message) if none. */
static os_memheap_t *find_heap(const char *name)
{
    struct user_heap *u;

    if (strcmp(name, os_sys_heap()->name) == 0)
    {
        return os_sys_heap();
    }
    u = find_user(name);
    if (u == NULL)
    {
        printf("no heap called '%s' (see show_heap)\n", name);
        return NULL;
    }
    return &u->heap;
}

/* Add a host-memory region of size bytes to u. */
static os_err_t add_region(struct user_heap *u, size_t size, enum os_mem_alg alg)
{
    void *mem;
    os_err_t err;

    if (u->nregions == MAX_REGIONS)
    {
        printf("at most %d regions per heap here\n", MAX_REGIONS);
        return OS_ENOMEM;
    }
    mem = size <= SIZE_MAX - 63u ? aligned_alloc(64, (size + 63u) & ~(size_t)63u) : NULL;
    if (mem == NULL)
    {
        printf("the host has no %zu bytes to give\n", size);
        return OS_ENOMEM;
    }
    err = os_memheap_add(&u->heap, mem, size, alg);
    if (err != OS_EOK)
    {
        free(mem);
        printf("os_memheap_add: error %ld\n", (long)err);
        return err;
    }
    u->regions[u->nregions++] = mem;
    printf("region %p..%p added to '%s'\n", mem, (void *)((char *)mem + size), u->heap.name);
    return OS_EOK;
}

static os_err_t heap_create(os_int32_t argc, char **argv)
{
    struct user_heap *u = NULL;
    enum os_mem_alg alg;
    size_t size;
    int i;

    if (argc < 3 || argc > 4 || parse_size(argv[2], &size) != 0 || size == 0 || demo_parse_alg(argc == 4 ? argv[3] : NULL, &alg) != 0)
    {
        printf("usage: heap_create NAME SIZE [firstfit|buddy|default]\n");
        return OS_EINVAL;
    }
    if (strlen(argv[1]) > OS_NAME_MAX)
    {
        printf("a heap name has at most %d characters\n", (int)OS_NAME_MAX);
        return OS_EINVAL;
    }
    if (find_user(argv[1]) != NULL || strcmp(argv[1], os_sys_heap()->name) == 0)
    {
        printf("a heap called '%s' exists already\n", argv[1]);
        return OS_EINVAL;
    }
    for (i = 0; i < MAX_HEAPS && u == NULL; i++)
    {
        u = heaps[i].used ? NULL : &heaps[i];
    }
    if (u == NULL)
    {
        printf("at most %d user heaps here\n", MAX_HEAPS);
        return OS_ENOMEM;
    }
    memset(u, 0, sizeof(*u));
    if (os_memheap_init(&u->heap, argv[1]) != OS_EOK)
    {
        return OS_EINVAL;
    }
    if (add_region(u, size, alg) != OS_EOK)
    {
        (void)os_memheap_deinit(&u->heap);
        return OS_ENOMEM;
    }
    u->used = 1;
    return OS_EOK;
}
SH_CMD_EXPORT(heap_create, heap_create, "heap_create NAME SIZE [ALG]: a user heap with one region");

static os_err_t heap_add(os_int32_t argc, char **argv)
{
    struct user_heap *u;
    enum os_mem_alg alg;
    size_t size;

    if (argc < 3 || argc > 4 || parse_size(argv[2], &size) != 0 || size == 0 || demo_parse_alg(argc == 4 ? argv[3] : NULL, &alg) != 0)
    {
        printf("usage: heap_add NAME SIZE [firstfit|buddy|default]\n");
        return OS_EINVAL;
    }
    u = find_user(argv[1]);
    if (u == NULL)
    {
        printf("no user heap called '%s'\n", argv[1]);
        return OS_EINVAL;
    }
    return add_region(u, size, alg);
}
SH_CMD_EXPORT(heap_add, heap_add, "heap_add NAME SIZE [ALG]: add a region to a user heap");

static os_err_t heap_delete(os_int32_t argc, char **argv)
{
    struct user_heap *u = argc == 2 ? find_user(argv[1]) : NULL;
    int i;

    if (u == NULL)
    {
        printf("usage: heap_delete NAME (a user heap)\n");
        return OS_EINVAL;
    }
    if (os_memheap_deinit(&u->heap) != OS_EOK)
    {
        return OS_EBUSY;
    }
    for (i = 0; i < u->nregions; i++)
    {
        free(u->regions[i]);
    }
    u->used = 0;
    return OS_EOK;
}
SH_CMD_EXPORT(heap_delete, heap_delete, "heap_delete NAME: deinit a user heap and release its memory");

static void print_info(os_memheap_t *heap)
{
    os_meminfo_t info;

    os_memheap_info(heap, &info);
    printf("%-*s %10zu %10zu %10zu\n", OS_NAME_MAX, heap->name, (size_t)info.mem_total,
           (size_t)info.mem_used, (size_t)info.mem_maxused);
}

static void show_heap(void)
{
    int i;

    printf("%-*s %10s %10s %10s\n", OS_NAME_MAX, "heap", "total", "used", "max used");
    print_info(os_sys_heap());
    for (i = 0; i < MAX_HEAPS; i++)
    {
        if (heaps[i].used)
        {
            print_info(&heaps[i].heap);
        }
    }
}
SH_CMD_EXPORT(show_heap, show_heap, "total, used and max used bytes of every heap");

/* argv[1] is a heap name when there are more arguments than `plain`. */
static os_memheap_t *heap_arg(os_int32_t argc, char **argv, int plain, int *first)
{
    if (argc > plain)
    {
        *first = 2;
        return find_heap(argv[1]);
    }
    *first = 1;
    return os_sys_heap();
}

static os_err_t check_heap(os_int32_t argc, char **argv)
{
    int first;
    os_memheap_t *heap = heap_arg(argc, argv, 1, &first);

    if (heap == NULL)
    {
        return OS_EINVAL;
    }
    printf("heap '%s' check: %s\n", heap->name, os_memheap_check(heap) == OS_EOK ? "OK" : "FAILED");
    return OS_EOK;
}
SH_CMD_EXPORT(check_heap, check_heap, "check_heap [NAME]: integrity check of a heap");

static os_err_t trace_heap(os_int32_t argc, char **argv)
{
    int first;
    os_memheap_t *heap = heap_arg(argc, argv, 1, &first);

    return heap != NULL ? os_memheap_trace(heap) : OS_EINVAL;
}
SH_CMD_EXPORT(trace_heap, trace_heap, "trace_heap [NAME]: every block of a heap with its task");

static os_err_t cmd_malloc(os_int32_t argc, char **argv)
{
    int first;
    os_memheap_t *heap = heap_arg(argc, argv, 2, &first);
    size_t size;
    void *p;

    if (heap == NULL || argc < 2 || argc > 3 || parse_size(argv[first], &size) != 0)
    {
        printf("usage: malloc [NAME] SIZE\n");
        return OS_EINVAL;
    }
    p = os_memheap_alloc(heap, size);
    printf("malloc %zu from '%s': %p\n", size, heap->name, p);
    return p != NULL ? OS_EOK : OS_ENOMEM;
}
SH_CMD_EXPORT(malloc, cmd_malloc, "malloc [NAME] SIZE: allocate, print the address");

static os_err_t cmd_aligned(os_int32_t argc, char **argv)
{
    int first;
    os_memheap_t *heap = heap_arg(argc, argv, 3, &first);
    size_t align, size;
    void *p;

    if (heap == NULL || argc < 3 || argc > 4 || parse_size(argv[first], &align) != 0 ||
        parse_size(argv[first + 1], &size) != 0)
    {
        printf("usage: aligned [NAME] ALIGN SIZE\n");
        return OS_EINVAL;
    }
    p = os_memheap_aligned_alloc(heap, align, size);
    printf("aligned %zu/%zu from '%s': %p\n", size, align, heap->name, p);
    return p != NULL ? OS_EOK : OS_ENOMEM;
}
SH_CMD_EXPORT(aligned, cmd_aligned, "aligned [NAME] ALIGN SIZE: aligned allocation");

static os_err_t cmd_realloc(os_int32_t argc, char **argv)
{
    int first;
    os_memheap_t *heap = heap_arg(argc, argv, 3, &first);
    void *old, *p;
    size_t size;

    if (heap == NULL || argc < 3 || argc > 4 || parse_addr(argv[first], &old) != 0 ||
        parse_size(argv[first + 1], &size) != 0)
    {
        printf("usage: realloc [NAME] ADDR SIZE\n");
        return OS_EINVAL;
    }
    p = os_memheap_realloc(heap, old, size);
    printf("realloc %p to %zu in '%s': %p\n", old, size, heap->name, p);
    return OS_EOK;
}
SH_CMD_EXPORT(realloc, cmd_realloc, "realloc [NAME] ADDR SIZE: resize a block");

static os_size_t used_bytes(os_memheap_t *heap)
{
    os_meminfo_t info;

    os_memheap_info(heap, &info);
    return info.mem_used;
}

static os_err_t cmd_free(os_int32_t argc, char **argv)
{
    int first;
    os_memheap_t *heap = heap_arg(argc, argv, 2, &first);
    void *p;

    os_size_t before;

    if (heap == NULL || argc < 2 || argc > 3 || parse_addr(argv[first], &p) != 0)
    {
        printf("usage: free [NAME] ADDR\n");
        return OS_EINVAL;
    }
    before = used_bytes(heap);
    os_memheap_free(heap, p);
    if (p != NULL && used_bytes(heap) == before)    /* a block freed always lowers mem_used */
    {
        printf("free %p in '%s': refused\n", p, heap->name);
        return OS_EINVAL;
    }
    printf("free %p in '%s'\n", p, heap->name);
    return OS_EOK;
}
SH_CMD_EXPORT(free, cmd_free, "free [NAME] ADDR: free a block (bad pointers are reported)");

static os_err_t heap_map(os_int32_t argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "heap_map.svg";
    os_memheap_t *list[MAX_HEAPS + 1];
    int n = 0, i;
    FILE *f;
    int bad;

    list[n++] = os_sys_heap();
    for (i = 0; i < MAX_HEAPS; i++)
    {
        if (heaps[i].used)
        {
            list[n++] = &heaps[i].heap;
        }
    }
    f = fopen(path, "w");
    bad = f == NULL;
    if (!bad)
    {
        bad = heap_map_write(f, list, n) != 0;
        bad |= fclose(f) != 0;     /* (the last bytes reach the file here) */
    }
    if (bad)
    {
        printf("heap_map: cannot write %s\n", path);
        return OS_EIO;
    }
    printf("heap_map: wrote %s\n", path);
    {
        /* A PNG beside it, when the converter is there. */
        char cmd[1024];
        size_t len = strlen(path);

        if (len > 4 && strcmp(path + len - 4, ".svg") == 0 && len < 400 &&
            system("command -v rsvg-convert >/dev/null 2>&1") == 0)
        {
            snprintf(cmd, sizeof(cmd), "rsvg-convert -o '%.*s.png' '%s'", (int)(len - 4), path, path);
            if (strchr(path, '\'') == NULL && system(cmd) == 0)
            {
                printf("heap_map: wrote %.*s.png\n", (int)(len - 4), path);
            }
        }
    }
    return OS_EOK;
}
SH_CMD_EXPORT(heap_map, heap_map, "heap_map [FILE]: SVG picture of every heap (PNG too with rsvg-convert)");
