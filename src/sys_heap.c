/*
 * sys_heap.c - the system heap: one heap object, reached through os_malloc()
 * and friends. Every call takes the same code path as a user heap.
 */
#include "oh_string.h"

#include "oh_config.h"
#include "region.h"
#include "report.h"

static os_memheap_t sys_heap;

os_memheap_t *os_sys_heap(void)
{
    return &sys_heap;
}

void os_sys_heap_init(void)
{
    /* acquire: a task that finds the heap live here may use it at once (oh_config.h) */
    if (!oh_isr_refused(OS_NULL, &sys_heap, "system heap init") && !OH_HEAP_LIVE_ACQUIRE(&sys_heap) &&
        !oh_cb_refused(OS_NULL, &sys_heap, "system heap init"))
    {
        /* Not os_memheap_init(): the system heap alone lets no region nest (region.h). */
        (void)oh_heap_register(&sys_heap, "sys_heap");
    }
}

os_err_t os_sys_heap_add(void *start_addr, os_size_t size, enum os_mem_alg alg)
{
    return os_memheap_add(&sys_heap, start_addr, size, alg);
}

void *os_malloc(os_size_t size)
{
    return os_memheap_alloc(&sys_heap, size);
}

void *os_aligned_malloc(os_size_t align, os_size_t size)
{
    return os_memheap_aligned_alloc(&sys_heap, align, size);
}

void *os_realloc(void *ptr, os_size_t size)
{
    return os_memheap_realloc(&sys_heap, ptr, size);
}

void *os_calloc(os_size_t count, os_size_t size)
{
    void *p;

    if (size != 0 && count > OS_SIZE_MAX / size)
    {
        return OS_NULL;
    }
    p = os_memheap_alloc(&sys_heap, count * size);
    if (p != OS_NULL)
    {
        memset(p, 0, count * size);
    }
    return p;
}

void os_free(void *ptr)
{
    os_memheap_free(&sys_heap, ptr);
}

void os_memory_info(os_meminfo_t *info)
{
    os_memheap_info(&sys_heap, info);
}

os_err_t os_memory_check(void)
{
    return os_memheap_check(&sys_heap);
}

os_err_t os_memory_trace(void)
{
    return os_memheap_trace(&sys_heap);
}

os_size_t os_malloc_usable_size(void *ptr)
{
    return os_memheap_usable_size(&sys_heap, ptr);
}
