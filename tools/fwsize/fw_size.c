/*
 * fw_size.c - the smallest useful firmware: a system heap, malloc, realloc
 * and free. scripts/cross.sh links it with --gc-sections and reports what
 * oneheap adds to an empty firmware, which is what a user pays.
 */
#include <os_memory.h>

static os_uint8_t heap_mem[16384];

int main(void)
{
    void *p;

    os_sys_heap_init();
    (void)os_sys_heap_add(heap_mem, sizeof(heap_mem), OS_MEM_ALG_DEFAULT);
    p = os_malloc(100);
    p = os_realloc(p, 200);
    os_free(p);
    return 0;
}
