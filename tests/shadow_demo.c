/*
 * shadow_demo.c - mistakes in a program that uses a oneheap user heap,
 * for the memory checkers to catch (see shadow.h): run under an ASan build
 * with ONEHEAP_ASAN_POISON, or under valgrind with ONEHEAP_VALGRIND.
 *
 *   shadow_demo clean      every block used correctly and freed: no report
 *   shadow_demo uaf        reads a block after freeing it
 *   shadow_demo overflow   writes one byte past a block's usable size
 *   shadow_demo leak       loses the only pointer to a block
 *
 * The program prints "not caught" when it survives a mistake, so a test can
 * tell a caught mistake from one that went unnoticed.
 */
#include <stdio.h>
#include <string.h>

#include <os_memory.h>

static _Alignas(64) unsigned char arena[64 * 1024];
static os_memheap_t heap;
static char *volatile sink;

static void clean(void)
{
    char *p[16];
    int i;

    for (i = 0; i < 16; i++)
    {
        p[i] = os_memheap_alloc(&heap, (os_size_t)(16 + i * 40));
        memset(p[i], i, (size_t)(16 + i * 40));
    }
    p[3] = os_memheap_realloc(&heap, p[3], 2000);
    p[5] = os_memheap_realloc(&heap, p[5], 8);
    for (i = 0; i < 16; i += 2)
    {
        os_memheap_free(&heap, p[i]);
    }
    p[0] = os_memheap_aligned_alloc(&heap, 256, 100);
    memset(p[0], 7, 100);
    for (i = 0; i < 16; i++)
    {
        if (i == 0 || i % 2 == 1)
        {
            os_memheap_free(&heap, p[i]);
        }
    }
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "clean";
    char *p;

    if (os_memheap_init(&heap, "demo") != OS_EOK ||
        os_memheap_add(&heap, arena, sizeof arena, OS_MEM_ALG_DEFAULT) != OS_EOK)
    {
        return 2;
    }
    p = os_memheap_alloc(&heap, 40);
    if (p == NULL)
    {
        return 2;
    }
    memset(p, 1, 40);
    if (strcmp(mode, "clean") == 0)
    {
        clean();
        os_memheap_free(&heap, p);
        if (os_memheap_check(&heap) != OS_EOK || os_memheap_deinit(&heap) != OS_EOK)
        {
            return 1;
        }
        puts("clean: done");
        return 0;
    }
    if (strcmp(mode, "uaf") == 0)
    {
        os_memheap_free(&heap, p);
        printf("read after free: %d\n", p[20]);
    }
    else if (strcmp(mode, "overflow") == 0)
    {
        p[os_memheap_usable_size(&heap, p)] = 9;
    }
    else if (strcmp(mode, "leak") == 0)
    {
        sink = p;
        sink = NULL;
        p = NULL;
        puts("leaked one block");
        return 0;
    }
    else
    {
        return 2;
    }
    puts("not caught");
    return 0;
}
