/*
 * tasks.c - per-task accounting (OS_USING_MEM_TRACE).
 *
 * Every heap keeps one row per task index (struct os_mem_task_use in the
 * heap object): current bytes, current blocks and peak bytes, updated under
 * the heap's lock by the algorithms as blocks change hands (oh_took,
 * oh_gave, oh_resized in alg/alg.h). A block names its owner by index, never
 * by a pointer to the task, so nothing dangles after a task ends.
 *
 * The ended marks are global, one byte per index. A row is never cleared
 * while blocks are charged to it: an index goes to a new task only once
 * os_memory_task_idle() says no heap holds a block of it. That test, and
 * os_memory_task_started(), take the global lock and every heap's lock, so
 * a port calls them from its task hooks, never from inside a heap call
 * (os_port_task_id() runs at the start of every heap call, also of one
 * made from a walk callback or the error hook, with a heap's lock held).
 */
#include "oh_string.h"

#include "region.h"
#include "report.h"
#include "port.h"

#ifdef OS_USING_MEM_TRACE

static os_uint8_t task_ended[OS_MEM_TRACE_TASKS];

const char *oh_task_name(os_uint16_t id)
{
    if (id == OS_MEM_TASK_UNKNOWN || id >= OS_MEM_TRACE_TASKS)
    {
        return "(unknown)";
    }
    if (id == OS_MEM_TASK_STARTUP)
    {
        return "(startup)";
    }
    return os_port_task_name(id);
}

os_err_t os_memheap_task_use(os_memheap_t *heap, os_uint16_t id, struct os_mem_task_use *use)
{
    os_ubase_t st;

    if (heap == OS_NULL || !OH_HEAP_LIVE(heap) || use == OS_NULL ||
        id >= OS_MEM_TRACE_TASKS)
    {
        oh_report(heap != OS_NULL && OH_HEAP_LIVE(heap) ? heap : OS_NULL, heap, OS_EINVAL,
                  "task use: a heap object that is not initialised, no row to fill, or task index %u of %u",
                  (unsigned)id, (unsigned)OS_MEM_TRACE_TASKS);
        return OS_EINVAL;
    }
    if (oh_isr_refused(heap, OS_NULL, "task use"))
    {
        return OS_EPERM;
    }
    st = os_port_lock(&heap->lock);
    *use = heap->task[id];
    os_port_unlock(&heap->lock, st);
    return OS_EOK;
}

void os_memory_task_ended(os_uint16_t id)
{
    if (id > OS_MEM_TASK_STARTUP && id < OS_MEM_TRACE_TASKS)
    {
        __atomic_store_n(&task_ended[id], (os_uint8_t)1, __ATOMIC_RELEASE);
    }
}

int os_memory_task_is_ended(os_uint16_t id)
{
    return id > OS_MEM_TASK_STARTUP && id < OS_MEM_TRACE_TASKS &&
           __atomic_load_n(&task_ended[id], __ATOMIC_ACQUIRE) != 0;
}

struct idle_probe
{
    os_uint16_t id;
    int         busy;
};

/* The rows are read and written under the heap's lock (taken after the global lock). */
static void row_idle(os_memheap_t *heap, void *arg)
{
    struct idle_probe *q = arg;
    os_ubase_t st = os_port_lock(&heap->lock);

    if (heap->task[q->id].blocks != 0)
    {
        q->busy = 1;
    }
    os_port_unlock(&heap->lock, st);
}

int os_memory_task_idle(os_uint16_t id)
{
    struct idle_probe q = { id, 0 };

    if (oh_isr_refused(OS_NULL, OS_NULL, "task idle") || oh_cb_refused(OS_NULL, OS_NULL, "task idle") ||
        id >= OS_MEM_TRACE_TASKS)
    {
        return 0;   /* (from an interrupt handler reported, whatever the index) */
    }
    oh_heaps_each(row_idle, &q);
    return !q.busy;
}

static void row_restart(os_memheap_t *heap, void *arg)
{
    struct os_mem_task_use *t = &heap->task[*(const os_uint16_t *)arg];
    os_ubase_t st = os_port_lock(&heap->lock);

    t->peak = t->bytes;     /* 0 for an idle index */
    os_port_unlock(&heap->lock, st);
}

void os_memory_task_started(os_uint16_t id)
{
    if (!oh_isr_refused(OS_NULL, OS_NULL, "task started") && !oh_cb_refused(OS_NULL, OS_NULL, "task started") &&
        id > OS_MEM_TASK_STARTUP && id < OS_MEM_TRACE_TASKS)
    {
        oh_heaps_each(row_restart, &id);
        __atomic_store_n(&task_ended[id], (os_uint8_t)0, __ATOMIC_RELEASE);
    }
}

os_size_t oh_task_bytes(const os_memheap_t *heap)
{
    os_size_t sum = 0;
    os_uint16_t id;

    for (id = 0; id < OS_MEM_TRACE_TASKS; id++)
    {
        sum += heap->task[id].bytes;
    }
    return sum;
}

os_uint16_t oh_task_rows(const os_memheap_t *heap, os_uint16_t id, struct oh_task_row *row, unsigned *n)
{
    unsigned max = *n, got = 0;

    for (; id < OS_MEM_TRACE_TASKS && got < max; id++)
    {
        const struct os_mem_task_use *t = &heap->task[id];

        if (t->peak != 0 || t->blocks != 0)
        {
            row[got].use = *t;
            row[got].id = id;
            got++;
        }
    }
    *n = got;
    return id;
}

void oh_print_task_rows(const struct oh_task_row *row, unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++)
    {
        oh_print("  %5u %-16s %10zu %8zu %12zu%s\n", (unsigned)row[i].id, oh_task_name(row[i].id),
                 row[i].use.bytes, row[i].use.blocks, row[i].use.peak,
                 os_memory_task_is_ended(row[i].id) ? "  (ended)" : "");
    }
}

#endif /* OS_USING_MEM_TRACE */
