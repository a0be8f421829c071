/* A consumer of an installed oneheap: a user heap on a static array. */
#include <os_memory.h>

static _Alignas(16) unsigned char region[8192];
static os_memheap_t heap;

int main(void)
{
    os_meminfo_t info;
    char *p;

    if (os_memheap_init(&heap, "app") != OS_EOK ||
        os_memheap_add(&heap, region, sizeof region, OS_MEM_ALG_DEFAULT) != OS_EOK)
        return 1;
    p = os_memheap_alloc(&heap, 100);
    if (!p)
        return 2;
    p[0] = 1;
    p[99] = 2;
    os_memheap_free(&heap, p);
    os_memheap_info(&heap, &info);
    return info.mem_used == 0 && os_memheap_check(&heap) == OS_EOK ? 0 : 3;
}
