/*
 * ctrl_size.c - prints the control data of one first-fit region (region
 * size minus mem_total) for a few region sizes, for the build's settings.
 */
#include <os_memory.h>
#include <stdio.h>
#include <string.h>

static os_uint8_t mem[1u << 20] __attribute__((aligned(64)));

int main(void)
{
    static const os_size_t sizes[] = { 2048, 16384, 131072, 1048576 };
    unsigned i;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
    {
        os_memheap_t heap;
        os_meminfo_t info;

        memset(&heap, 0, sizeof(heap));
        if (os_memheap_init(&heap, "ctrl") != OS_EOK ||
            os_memheap_add(&heap, mem, sizes[i], OS_MEM_ALG_FIRSTFIT) != OS_EOK)
        {
            return 1;
        }
        os_memheap_info(&heap, &info);
        printf(" | %zu", (size_t)(sizes[i] - info.mem_total));
        (void)os_memheap_deinit(&heap);
    }
    printf(" |\n");
    return 0;
}
