/*
 * test_port.c - the bare-metal port's hooks (OS_MEM_PORT_BAREMETAL):
 *  - locks are balanced, released with the state the lock hook returned,
 *    and a lock word is never taken while it is held (no self-deadlock);
 *  - heap calls from an interrupt handler are refused with an OS_EPERM
 *    report, take no lock and change nothing;
 *  - the trace goes through the puts hook and names the owner task (trace
 *    builds) through the task hooks;
 *  - the default error hook prints through puts.
 */
#include "common.h"

#include <stdio.h>
#include <string.h>

#ifndef OS_MEM_PORT_BAREMETAL
int main(void)
{
    printf("test_port: skipped (not the bare-metal port)\n");
    return TEST_SKIP_CODE;
}
#else

#define KiB ((size_t)1024)

static _Alignas(64) unsigned char region[64 * KiB];
static os_memheap_t heap;

static unsigned long locks, unlocks;
static int           depth, max_depth, in_isr;
static os_uint16_t   current_task;

#define LOCK_STATE ((os_ubase_t)0x5A5A)

/* Armed: the next lock calls this first (once), as if another task had run just before it. */
static void (*lock_call)(void);
/* Set: every unlock calls this with the lock word, after releasing it. */
static void (*unlock_each)(os_ubase_t *w);

static os_ubase_t h_lock(os_ubase_t *w)
{
    if (lock_call != NULL)
    {
        void (*fn)(void) = lock_call;
        lock_call = NULL;
        fn();
    }
    locks++;
    CHECKF(*w == 0, "lock word %lu: lock taken twice (would deadlock)", (unsigned long)*w);
    *w = 1;
    if (++depth > max_depth)
        max_depth = depth;
    return LOCK_STATE;
}

/* Armed: the next unlock writes 0xA5 here (once), as another task could while no lock is held. */
static unsigned char *unlock_poke;
/* Armed: the next unlock calls this (once), as another task could. */
static void (*unlock_call)(void);

static void h_unlock(os_ubase_t *w, os_ubase_t state)
{
    unlocks++;
    CHECK(*w == 1);
    CHECK(state == LOCK_STATE);
    *w = 0;
    depth--;
    if (unlock_poke != NULL)
    {
        *unlock_poke = 0xA5;
        unlock_poke = NULL;
    }
    if (unlock_call != NULL)
    {
        void (*fn)(void) = unlock_call;
        unlock_call = NULL;
        fn();
    }
    if (unlock_each != NULL)
        unlock_each(w);
}

static int h_in_isr(void)
{
    return in_isr;
}

static os_uint16_t h_task_id(void)
{
    return current_task;
}

static const char *h_task_name(os_uint16_t id)
{
    static const char *const names[] = {"-", "-", "alpha_task", "beta_task"};
    return id < 4 ? names[id] : "?";
}



/* The port's output: counts what is printed with a lock held (the trace never prints so). */
static unsigned long puts_locked;

static void h_puts(const char *s)
{
    if (depth != 0)
        puts_locked++;
    capture_puts(s);
}

static const struct os_mem_port_hooks hooks_main = {h_lock, h_unlock, h_in_isr, h_task_id,
                                                    h_task_name, h_puts, OS_NULL};

/* The line of the trace output that mentions p, or OS_NULL. */
static const char *trace_line(const void *p, char *line, size_t size)
{
    return text_line_of(capture_text(), p, line, size);
}

/* With OS_MEM_PORT_NO_LOCK the lock and interrupt hooks are never consulted. */
#ifdef OS_MEM_PORT_NO_LOCK
#define EXPECT_LOCKS 0
#else
#define EXPECT_LOCKS 1
#endif

static void locking(void)
{
    check_context("locking");
    unsigned long l0 = locks;
    void *p = os_memheap_alloc(&heap, 100);
    CHECK(p != OS_NULL);
    CHECK(EXPECT_LOCKS ? locks > l0 : locks == l0);
    void *q = os_memheap_aligned_alloc(&heap, 256, 100);
    CHECK(q != OS_NULL && is_aligned(q, 256));
    p = os_memheap_realloc(&heap, p, 3000);
    CHECK(p != OS_NULL);
    CHECK(os_memheap_usable_size(&heap, p) >= 3000);
    os_meminfo_t info = heap_info(&heap);
    CHECK(info.mem_used > 0);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    os_memheap_free(&heap, p);
    os_memheap_free(&heap, q);
    CHECK_EQ(locks, unlocks);
    CHECK_EQ(depth, 0);
    CHECK(max_depth <= 2);     /* at most a global lock plus the heap's own */
#ifdef OS_USING_SYS_HEAP
    l0 = locks;
    p = os_malloc(10);
    CHECK(p != OS_NULL);
    os_free(p);
    CHECK(EXPECT_LOCKS ? locks > l0 : locks == l0);
    CHECK_EQ(locks, unlocks);
#endif
    CHECK_EQ(heap_info(&heap).mem_used, 0);
    CHECK_REPORTS(0);
}

#if EXPECT_LOCKS
/*
 * A block that realloc moves within its region is copied with no lock
 * held: the allocation and the free of the old block are two lock
 * sections, and a byte of the old block changed after the first one ends
 * arrives in the new block.
 */
static os_memheap_t copy_heap;
static os_err_t deinit_result;

static void deinit_copy_heap(void)
{
    deinit_result = os_memheap_deinit(&copy_heap);
}

static void realloc_copy_unlocked(void)
{
    /* buddy: aligned to its size, so its tiling has the free 8 and 16 KiB blocks both moves need */
    static _Alignas(65536) unsigned char mem[64 * KiB];
    os_memheap_t *const h = &copy_heap;

    check_context("realloc copies without the lock");
    heap_open(h, "copy");
#ifdef OS_USING_ALG_FIRSTFIT
    heap_add_ok(h, mem, sizeof mem, OS_MEM_ALG_FIRSTFIT);
#else
    heap_add_ok(h, mem, sizeof mem, OS_MEM_ALG_BUDDY);
#endif
    unsigned char *a = os_memheap_alloc(h, 4000);
    void *guard = os_memheap_alloc(h, 16);     /* right after a: it cannot grow in place */
    CHECK(a != OS_NULL && guard != OS_NULL);
    memset(a, 0x11, 4000);
    unsigned long l0 = locks;
    unlock_poke = a;
    unsigned char *p = os_memheap_realloc(h, a, 8000);
    CHECK(p != OS_NULL && p != a);
    CHECK_EQ(locks - l0, 2);
    CHECKF(p != OS_NULL && p[0] == 0xA5, "the copy was made before the lock was given up");
    CHECK(p != OS_NULL && p[1] == 0x11 && p[3999] == 0x11);
    unlock_poke = NULL;
    CHECK_REPORTS(0);

    /* a deinit while the copy runs is refused (reported), and the realloc completes */
    a = p;
    void *guard2 = os_memheap_alloc(h, 5000);  /* (too big for the hole a left) right after p: it cannot grow in place */
    CHECK(guard2 != OS_NULL);
    unlock_call = deinit_copy_heap;
    deinit_result = OS_EOK;
    p = os_memheap_realloc(h, a, 12000);
    CHECK(p != OS_NULL && p != a);
    CHECK_EQ(deinit_result, OS_EBUSY);
    CHECK_REPORTS(1);
    CHECK(p != OS_NULL && p[1] == 0x11 && p[3999] == 0x11);
    unlock_call = OS_NULL;
    os_memheap_free(h, p);
    os_memheap_free(h, guard);
    os_memheap_free(h, guard2);
    CHECK_EQ(os_memheap_check(h), OS_EOK);
    heap_close(h);
    CHECK_REPORTS(0);
}
#endif

/*
 * A heap made while no hook is installed (an idle port: its calls end in
 * tail calls without the lock), then lock hooks installed: from then on
 * every call takes the heap lock; removed again, none does.
 */
static void hooks_later(const struct os_mem_port_hooks *hooks)
{
    static _Alignas(64) unsigned char later_region[16 * KiB];
    static os_memheap_t later;
    unsigned long l0;
    void *p, *q;

    check_context("hooks installed later");
    os_mem_port_set_hooks(OS_NULL);
    heap_open(&later, "later");
    heap_add_ok(&later, later_region, sizeof later_region, OS_MEM_ALG_DEFAULT);
    l0 = locks;
    p = os_memheap_alloc(&later, 64);
    q = os_memheap_aligned_alloc(&later, 256, 64);
    CHECK(p != OS_NULL && q != OS_NULL && is_aligned(q, 256));
    os_memheap_free(&later, p);
    os_memheap_free(&later, q);
    CHECK_EQ(locks, l0);
    os_mem_port_set_hooks(hooks);
    l0 = locks;
    p = os_memheap_alloc(&later, 64);
    CHECK(EXPECT_LOCKS ? locks == l0 + 1 : locks == l0);
    q = os_memheap_aligned_alloc(&later, 256, 64);
    CHECK(EXPECT_LOCKS ? locks == l0 + 2 : locks == l0);
    os_memheap_free(&later, p);
    os_memheap_free(&later, q);
    CHECK(EXPECT_LOCKS ? locks == l0 + 4 : locks == l0);
    CHECK_EQ(locks, unlocks);
    os_mem_port_set_hooks(OS_NULL);
    l0 = locks;
    p = os_memheap_alloc(&later, 64);
    os_memheap_free(&later, p);
    CHECK_EQ(locks, l0);
    CHECK_EQ(heap_info(&later).mem_used, 0);
    heap_close(&later);
    os_mem_port_set_hooks(hooks);
    CHECK_REPORTS(0);
}

#if TEST_BAD_OPS
#ifndef OS_MEM_PORT_NO_LOCK
static int count_none(const struct os_memheap_block *b, void *arg)
{
    (void)b;
    (void)arg;
    return 0;
}

static void from_isr(void)
{
    check_context("calls from an interrupt handler");
    unsigned char *p = os_memheap_alloc(&heap, 100);
    CHECK(p != OS_NULL);
    if (!p)
        return;
    pat_fill(p, 1, 0, 100);
    os_meminfo_t before = heap_info(&heap);
    unsigned long l0 = locks;

    in_isr = 1;
    CHECK(os_memheap_alloc(&heap, 100) == OS_NULL);
    CHECK_REPORTS(1);
    CHECK_EQ(hook_last_code(), OS_EPERM);
    CHECK(os_memheap_aligned_alloc(&heap, 64, 100) == OS_NULL);
    CHECK_REPORTS(1);
    CHECK(os_memheap_realloc(&heap, p, 200) == OS_NULL);
    CHECK_REPORTS(1);
    os_memheap_free(&heap, p);
    CHECK_REPORTS(1);
    CHECK_EQ(hook_last_code(), OS_EPERM);
#ifdef OS_USING_SYS_HEAP
    CHECK(os_malloc(10) == OS_NULL);
    CHECK_REPORTS(1);
    CHECK(os_calloc(2, 10) == OS_NULL);
    CHECK_REPORTS(1);
#endif
    /* the calls that take the global lock, and init, are refused the same way */
    static os_memheap_t other;
    CHECK_EQ(os_memheap_init(&other, "other"), OS_EPERM);
    CHECK_REPORTS(1);
    CHECK_EQ(hook_last_code(), OS_EPERM);
    CHECK(other.object_inited != heap.object_inited);
    CHECK_EQ(os_memheap_add(&heap, region, sizeof region, OS_MEM_ALG_DEFAULT), OS_EPERM);
    CHECK_REPORTS(1);
    CHECK_EQ(os_memheap_deinit(&heap), OS_EPERM);
    CHECK_REPORTS(1);
    /* every call that returns an error code says OS_EPERM, as the report does */
    CHECK_EQ(os_memheap_check(&heap), OS_EPERM);
    CHECK_REPORTS(1);
    CHECK_EQ(os_memheap_trace(&heap), OS_EPERM);
    CHECK_REPORTS(1);
    CHECK_EQ(os_memheap_walk(&heap, count_none, OS_NULL), OS_EPERM);
    CHECK_REPORTS(1);
    CHECK_EQ(hook_last_code(), OS_EPERM);
#ifdef OS_USING_SYS_HEAP
    int sys_ready = os_sys_heap()->object_inited == heap.object_inited;
    os_sys_heap_init();     /* refused and reported, set up or not; nothing changes */
    CHECK_REPORTS(1);
    CHECK_EQ(hook_last_code(), OS_EPERM);
    CHECK_EQ(os_sys_heap()->object_inited == heap.object_inited, sys_ready);
#endif
#ifdef OS_USING_MEM_TRACE
    struct os_mem_task_use use;
    CHECK_EQ(os_memheap_task_use(&heap, 1, &use), OS_EPERM);
    CHECK_REPORTS(1);
    CHECK_EQ(os_memory_task_idle(5), 0);
    CHECK_REPORTS(1);
    os_memory_task_started(5);
    CHECK_REPORTS(1);
#endif
    CHECK_EQ(locks, l0);   /* refused before taking any lock */
    in_isr = 0;

    /* nothing changed: the block is still live and intact */
    CHECK(info_unchanged(&heap, &before));
    CHECK(pat_ok(p, 1, 0, 100));
    CHECK(os_memheap_usable_size(&heap, p) >= 100);
    os_memheap_free(&heap, p);
    CHECK_REPORTS(0);
    CHECK_EQ(heap_info(&heap).mem_used, 0);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
}
#endif
#endif

/* Per-task checks below use task indexes 2 and 3: they need a table of 4 rows or more. */
#if defined(OS_USING_MEM_TRACE) && OS_MEM_TRACE_TASKS >= 4
#define TASK_ROWS 1
#else
#define TASK_ROWS 0
#endif

static void trace_output(void)
{
    check_context("trace through the puts hook");
    current_task = 2;
    void *a = os_memheap_alloc(&heap, 100);
    current_task = 3;
    void *b = os_memheap_alloc(&heap, 200);
    void *c = os_memheap_alloc(&heap, 300);
    current_task = 0;
    CHECK(a && b && c);
    os_memheap_free(&heap, b);
#if TASK_ROWS
    /* the task hook's indexes are the rows; the RTOS reports an ended task */
    struct os_mem_task_use u;
    CHECK_EQ(os_memheap_task_use(&heap, 2, &u), OS_EOK);
    CHECK(u.blocks == 1 && u.bytes > 100 && u.peak == u.bytes);
    CHECK_EQ(os_memheap_task_use(&heap, 3, &u), OS_EOK);
    CHECK(u.blocks == 1 && u.bytes > 300 && u.peak > u.bytes);
    os_memory_task_ended(3);
    CHECK(os_memory_task_is_ended(3) && !os_memory_task_idle(3));
#endif

    capture_reset();
    CHECK_EQ(os_memheap_trace(&heap), OS_EOK);
    CHECK(capture_len() > 0);
    CHECK(strstr(capture_text(), heap.name) != OS_NULL);
    char line[256];
    CHECKF(trace_line(a, line, sizeof line) && strstr(line, "used"), "trace: %s", capture_text());
    CHECKF(trace_line(c, line, sizeof line) && strstr(line, "used"), "trace: %s", capture_text());
    CHECKF(strstr(capture_text(), "free") != OS_NULL, "trace: %s", capture_text());
#if TASK_ROWS
    CHECKF(trace_line(a, line, sizeof line) && strstr(line, "alpha_task"), "trace: %s", capture_text());
    CHECKF(trace_line(c, line, sizeof line) && strstr(line, "beta_task"), "trace: %s", capture_text());
#endif
    /* the usable size is printed */
    char num[32];
    snprintf(num, sizeof num, "%zu", os_memheap_usable_size(&heap, a));
    CHECKF(trace_line(a, line, sizeof line) && strstr(line, num), "trace line of a: %s", line);

#if TASK_ROWS
    CHECKF(strstr(capture_text(), "(ended)") != OS_NULL, "trace: %s", capture_text());
#endif
    os_memheap_free(&heap, a);
    os_memheap_free(&heap, c);
    CHECK_EQ(heap_info(&heap).mem_used, 0);
#if TASK_ROWS
    CHECK(os_memory_task_idle(3));
    os_memory_task_started(3);
    CHECK(!os_memory_task_is_ended(3));
    CHECK_EQ(os_memheap_task_use(&heap, 3, &u), OS_EOK);
    CHECK(u.blocks == 0 && u.bytes == 0 && u.peak == 0);
#endif
    CHECK_REPORTS(0);
}

/* Where the trace output prints p ("ADDR " as a block's line has it), OS_NULL if nowhere; *count: how often. */
static const char *printed_at(const void *p, int *count)
{
    char addr[32];
    snprintf(addr, sizeof addr, "%p ", p);
    const char *first = strstr(capture_text(), addr), *at = first;
    *count = 0;
    while (at != NULL)
    {
        ++*count;
        at = strstr(at + 1, addr);
    }
    return first;
}

/*
 * More blocks than the trace copies under the lock at a time: each is
 * printed once, in address order, as used or free, and nothing is printed
 * with a lock held.
 */
static void trace_batches(void)
{
    check_context("trace in batches");
    enum { N = 60 };
    void *p[N];
    for (int i = 0; i < N; i++)
    {
        p[i] = os_memheap_alloc(&heap, 24 + 8 * (size_t)i);
        CHECK(p[i] != OS_NULL);
    }
    for (int i = 1; i < N; i += 3)
        os_memheap_free(&heap, p[i]);   /* between two used blocks: stays a block of its own */
    capture_reset();
    puts_locked = 0;
    CHECK_EQ(os_memheap_trace(&heap), OS_EOK);
    CHECK_EQ(puts_locked, 0);
    const char *last = NULL;
    const void *last_p = NULL;
    for (int k = 0; k < N; k++)
    {
        /* the blocks by address (the heap may not hand them out in order) */
        int i = -1;
        for (int j = 0; j < N; j++)
            if ((last_p == NULL || (uintptr_t)p[j] > (uintptr_t)last_p) &&
                (i < 0 || (uintptr_t)p[j] < (uintptr_t)p[i]))
                i = j;
        int count = 0;
        const char *at = printed_at(p[i], &count);
        CHECKF(count == 1, "block %d (%p) printed %d times", i, p[i], count);
        CHECKF(at != NULL && (last == NULL || at > last), "block %d (%p) out of address order", i, p[i]);
        char line[256];
        CHECKF(trace_line(p[i], line, sizeof line) && strstr(line, i % 3 == 1 ? "free" : "used"),
               "block %d: %s", i, line);
        last = at != NULL ? at : last;
        last_p = p[i];
    }
    for (int i = 0; i < N; i++)
        if (i % 3 != 1)
            os_memheap_free(&heap, p[i]);
    CHECK_EQ(heap_info(&heap).mem_used, 0);
    CHECK_REPORTS(0);
}

/*
 * A region taken away while the trace lists the heap (the port's output
 * runs with no lock held, so another task can free the host block that
 * holds a region): the listing says that the regions changed instead of
 * skipping the region that followed it without a word.
 */
static os_memheap_t nested;
static void *nested_host;           /* the block of `heap` that holds the nested heap's second region */
static int   host_freed;

static int   host_readd;            /* and is then allocated again and given back to the nested heap */

static void free_host_on_its_line(const char *s)
{
    char needle[64];

    h_puts(s);
    snprintf(needle, sizeof needle, " region %p", nested_host);
    if (!host_freed && strstr(capture_text(), needle) != NULL)
    {
        host_freed = 1;
        os_memheap_free(&heap, nested_host);
        if (host_readd)
        {
            /* the same block again (the first fit), added back: now the nested heap's last region */
            void *again = os_memheap_alloc(&heap, 4 * KiB);
            CHECK(again == nested_host);
            CHECK_EQ(os_memheap_add(&nested, again, 4 * KiB, test_layout_alg(test_layout_mixed(), 1)), OS_EOK);
        }
    }
}

static void trace_region_gone(void)
{
    check_context("trace while a listed region is taken away");
    static const struct os_mem_port_hooks gone_hooks = {h_lock, h_unlock, h_in_isr, h_task_id,
                                                        h_task_name, free_host_on_its_line, OS_NULL};
    static _Alignas(64) unsigned char first[4 * KiB], last[4 * KiB];
    const size_t mid = 4 * KiB;

    nested_host = os_memheap_alloc(&heap, mid);
    CHECK(nested_host != OS_NULL);
    heap_open(&nested, "nested");
    heap_add_ok(&nested, first, sizeof first, test_layout_alg(test_layout_mixed(), 0));
    heap_add_ok(&nested, nested_host, mid, test_layout_alg(test_layout_mixed(), 1));
    heap_add_ok(&nested, last, sizeof last, test_layout_alg(test_layout_mixed(), 2));
    void *a = os_memheap_alloc(&nested, 100);
    CHECK(a != OS_NULL && (unsigned char *)a >= first && (unsigned char *)a < first + sizeof first);

    /* undisturbed, the listing names all three regions */
    capture_reset();
    CHECK_EQ(os_memheap_trace(&nested), OS_EOK);
    CHECK(strstr(capture_text(), "regions changed") == NULL);
    char needle[64];
    snprintf(needle, sizeof needle, " region %p", (void *)last);
    CHECKF(strstr(capture_text(), needle) != NULL, "last region not listed:\n%s", capture_text());

    /* the middle region goes away as soon as its line is printed */
    const size_t total3 = heap_info(&nested).mem_total;
    host_freed = 0;
    os_mem_port_set_hooks(&gone_hooks);
    capture_reset();
    CHECK_EQ(os_memheap_trace(&nested), OS_EOK);
    os_mem_port_set_hooks(&hooks_main);
    CHECK(host_freed);
    CHECKF(strstr(capture_text(), needle) != NULL || strstr(capture_text(), "regions changed") != NULL,
           "the region after the one taken away was skipped with no note:\n%s", capture_text());
    CHECKF(heap_info(&nested).mem_total < total3, "the middle region is still counted");

    /* the same, and the host block comes back at once as the nested heap's last region */
    nested_host = os_memheap_alloc(&heap, mid);
    CHECK(nested_host != OS_NULL);
    heap_add_ok(&nested, nested_host, mid, test_layout_alg(test_layout_mixed(), 1));
    host_freed = 0;
    host_readd = 1;
    os_mem_port_set_hooks(&gone_hooks);
    capture_reset();
    CHECK_EQ(os_memheap_trace(&nested), OS_EOK);
    os_mem_port_set_hooks(&hooks_main);
    host_readd = 0;
    CHECK(host_freed);
    CHECKF(strstr(capture_text(), needle) != NULL || strstr(capture_text(), "regions changed") != NULL,
           "a region was skipped with no note after one went and came back:\n%s", capture_text());
    CHECK_EQ(os_memheap_check(&nested), OS_EOK);
    os_memheap_free(&nested, a);
    heap_close(&nested);
    os_memheap_free(&heap, nested_host);
    CHECK_REPORTS(0);
}

#if EXPECT_LOCKS
/*
 * A free of a host block that holds regions of two heaps, refused because
 * the second one's heap allocated in it after the first was taken out (its
 * heap's lock released, another task runs): the first is put back, so the
 * refusal changed nothing, and both heaps keep their regions.
 */
static os_memheap_t busy_heap, idle_heap;
static os_size_t idle_total;
static void *busy_block;

/* The regions of a heap in walk order, by start. */
struct region_order
{
    const void *start[8];
    unsigned n;
};

static int note_region(const struct os_memheap_block *blk, void *arg)
{
    struct region_order *o = arg;
    if (o->n == 0 || o->start[o->n - 1] != blk->region_start)
    {
        if (o->n == sizeof o->start / sizeof o->start[0])
            return 1;
        o->start[o->n++] = blk->region_start;
    }
    return 0;
}

static struct region_order region_order(os_memheap_t *h)
{
    struct region_order o = { {0}, 0 };
    CHECK_EQ(os_memheap_walk(h, note_region, &o), OS_EOK);
    return o;
}

static void alloc_when_idle_region_gone(os_ubase_t *w)
{
    if (w == &idle_heap.lock && idle_heap.mem_total < idle_total)
    {
        unlock_each = NULL;
        busy_block = os_memheap_alloc(&busy_heap, 64);
    }
}

static void refused_free_keeps_regions(void)
{
    check_context("a refused free of a host block keeps every nested region");
    const size_t before = heap_info(&heap).mem_used;
    unsigned char *b = os_memheap_alloc(&heap, 16 * KiB);
    CHECK(b != OS_NULL);
    if (b == OS_NULL)
        return;
    static _Alignas(64) unsigned char idle_first[2 * KiB], idle_last[2 * KiB];
    heap_open(&busy_heap, "busy");
    heap_open(&idle_heap, "idle");
    /* the region added last is the first one the free takes out; it must go back between the other two */
    heap_add_ok(&idle_heap, idle_first, sizeof idle_first, test_layout_alg(test_layout_mixed(), 2));
    heap_add_ok(&busy_heap, b, 4 * KiB, test_layout_alg(test_layout_mixed(), 0));
    const size_t before_b = heap_info(&idle_heap).mem_total;
    /* 12 KiB: a buddy region there holds an aligned 4 KiB block wherever b lies */
    heap_add_ok(&idle_heap, b + 4 * KiB, 12 * KiB, test_layout_alg(test_layout_mixed(), 1));
    const size_t in_b = heap_info(&idle_heap).mem_total - before_b;
    heap_add_ok(&idle_heap, idle_last, sizeof idle_last, test_layout_alg(test_layout_mixed(), 2));
    const struct region_order order = region_order(&idle_heap);
    CHECK_EQ(order.n, 3);
    idle_total = heap_info(&idle_heap).mem_total;
    const size_t used = heap_info(&heap).mem_used;
    busy_block = OS_NULL;
    unlock_each = alloc_when_idle_region_gone;
    hook_reset();
    os_memheap_free(&heap, b);
    unlock_each = NULL;
    CHECKF(busy_block != OS_NULL && (unsigned char *)busy_block > b && (unsigned char *)busy_block < b + 4 * KiB,
           "the other task's block %p is not in the busy region", busy_block);
    CHECK_REPORTS(1);
    CHECK_EQ(hook_last_code(), OS_EBUSY);
    CHECK_EQ(heap_info(&heap).mem_used, used);
    CHECKF(heap_info(&idle_heap).mem_total == idle_total, "the idle heap lost its region: total %zu, was %zu",
           (size_t)heap_info(&idle_heap).mem_total, (size_t)idle_total);
    const struct region_order after = region_order(&idle_heap);
    CHECKF(after.n == order.n && memcmp(after.start, order.start, sizeof order.start) == 0,
           "the idle heap's regions are not back in their order (%u regions)", after.n);
    void *x = os_memheap_alloc(&idle_heap, 3 * KiB);   /* only the region in b can serve it */
    CHECK(x != OS_NULL && (unsigned char *)x > b + 4 * KiB && (unsigned char *)x < b + 16 * KiB);
    CHECK_EQ(os_memheap_check(&idle_heap), OS_EOK);
    CHECK_EQ(os_memheap_check(&busy_heap), OS_EOK);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    os_memheap_free(&idle_heap, x);
    os_memheap_free(&busy_heap, busy_block);
    hook_reset();
    os_memheap_free(&heap, b);      /* both idle now: both regions go */
    CHECK_REPORTS(0);
    CHECK_EQ(heap_info(&idle_heap).mem_total, idle_total - in_b);    /* its two other regions stay */
    CHECK_EQ(heap_info(&busy_heap).mem_total, 0);
    CHECK_EQ(heap_info(&heap).mem_used, before);
    heap_close(&busy_heap);
    heap_close(&idle_heap);
}

/*
 * os_memheap_add and os_memheap_deinit of the same heap, the deinit run
 * by another task between the add's entry test and its locks: the add is
 * refused, and the heap it was meant for holds nothing (before, the region
 * was linked into a heap that no longer existed, and into its host's list
 * of nested regions, where adding the block again later closed that list
 * into a loop).
 */
static os_memheap_t late;
static os_err_t late_deinit;

static void deinit_late(void)
{
    late_deinit = os_memheap_deinit(&late);
}

static void add_after_deinit(void)
{
    check_context("an add that a deinit of its heap overtakes");
    const enum os_mem_alg alg = test_layout_alg(test_layout_mixed(), 0);
    const size_t before = heap_info(&heap).mem_used;
    unsigned char *b = os_memheap_alloc(&heap, 4 * KiB);
    CHECK(b != OS_NULL);
    if (b == OS_NULL)
        return;
    heap_open(&late, "late");
    late_deinit = OS_ERROR;
    lock_call = deinit_late;
    hook_reset();
    os_err_t err = os_memheap_add(&late, b, 4 * KiB, alg);
    lock_call = NULL;
    CHECK_EQ(late_deinit, OS_EOK);
    CHECK_EQ(err, OS_EINVAL);
    CHECK_REPORTED();
    CHECK(late.h_mem == OS_NULL);
    /* the heap object may be initialised again and take the same block */
    heap_open(&late, "late");
    heap_add_ok(&late, b, 4 * KiB, alg);
    void *x = os_memheap_alloc(&late, 64);
    CHECK(x != OS_NULL);
    os_memheap_free(&late, x);
    hook_reset();
    os_memheap_free(&heap, b);
    CHECK_REPORTS(0);
    CHECK_EQ(heap_info(&late).mem_total, 0);
    CHECK_EQ(heap_info(&heap).mem_used, before);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    heap_close(&late);

    /* a free that a deinit overtakes: refused as a call on a heap that is gone, not as a bad pointer */
    check_context("a free that a deinit of its heap overtakes");
    static _Alignas(64) unsigned char late_region[4 * KiB];
    heap_open(&late, "late");
    heap_add_ok(&late, late_region, sizeof late_region, alg);
    void *y = os_memheap_alloc(&late, 64);
    CHECK(y != OS_NULL);
    late_deinit = OS_ERROR;
    lock_call = deinit_late;
    hook_reset();
    os_memheap_free(&late, y);
    lock_call = NULL;
    CHECK_EQ(late_deinit, OS_EOK);
    CHECK_EQ(hook_last_code(), OS_EINVAL);
    /* not "not in this heap", a bad pointer's report (the small build's fixed text for a refusal) */
    CHECKF(strstr(hook_last_msg(), TEST_SMALL_TEXTS ? "invalid argument" : "deinitialised meanwhile") != NULL,
           "reported as: %s", hook_last_msg());
    CHECK_REPORTS(1);
    memset(&late, 0, sizeof late);

    /* a check that a deinit overtakes: refused, not a false report of corruption */
    check_context("a check that a deinit of its heap overtakes");
    heap_open(&late, "late");
    heap_add_ok(&late, late_region, sizeof late_region, alg);
    y = os_memheap_alloc(&late, 64);
    CHECK(y != OS_NULL);
    late_deinit = OS_ERROR;
    lock_call = deinit_late;
    hook_reset();
    CHECK_EQ(os_memheap_check(&late), OS_EINVAL);
    lock_call = NULL;
    CHECK_EQ(late_deinit, OS_EOK);
    CHECK_EQ(hook_last_code(), OS_EINVAL);
    CHECK_REPORTS(1);
    memset(&late, 0, sizeof late);
}
#endif

#ifdef OS_USING_MEM_TRACE
/*
 * A task index just past the per-task table (OS_MEM_TRACE_TASKS itself):
 * counted in row 0, its owner shown as unknown, the port's name hook never
 * asked for it (os_memory.h, struct os_memheap_block).
 */
static void index_past_table(void)
{
    check_context("task index OS_MEM_TRACE_TASKS");
    struct os_mem_task_use u0, u;
    CHECK_EQ(os_memheap_task_use(&heap, OS_MEM_TASK_UNKNOWN, &u0), OS_EOK);
    current_task = OS_MEM_TRACE_TASKS;
    void *p = os_memheap_alloc(&heap, 50);
    current_task = 0;
    CHECK(p != OS_NULL);
    struct os_memheap_block o = block_at(&heap, p);
    CHECK_EQ(o.owner_id, OS_MEM_TRACE_TASKS);
    CHECKF(o.owner != OS_NULL && strcmp(o.owner, "(unknown)") == 0, "owner: %s", o.owner ? o.owner : "(null)");
    CHECK_EQ(os_memheap_task_use(&heap, OS_MEM_TASK_UNKNOWN, &u), OS_EOK);
    CHECK_EQ(u.blocks, u0.blocks + 1);
    os_memheap_free(&heap, p);
    CHECK_EQ(os_memory_task_idle(OS_MEM_TRACE_TASKS), 0);     /* out of range: never idle */
    CHECK_REPORTS(0);

#if TASK_ROWS
    /* started() while the index still holds a block: the peak restarts at the bytes held */
    check_context("task started with a live block");
    current_task = 2;
    p = os_memheap_alloc(&heap, 500);
    void *q = os_memheap_alloc(&heap, 700);
    current_task = 0;
    CHECK(p && q);
    os_memheap_free(&heap, q);
    os_memory_task_started(2);
    CHECK_EQ(os_memheap_task_use(&heap, 2, &u), OS_EOK);
    CHECK(u.blocks == 1 && u.bytes > 500);
    CHECK_EQ(u.peak, u.bytes);
    os_memheap_free(&heap, p);
    CHECK_REPORTS(0);
#endif
}
#endif

#ifdef OS_USING_MEM_TRACE
/* Without a task hook every block counts as allocated before the scheduler. */
static void no_task_hook(void)
{
    check_context("no task hook");
    void *p = os_memheap_alloc(&heap, 64);
    CHECK(p != OS_NULL);
    struct os_mem_task_use u;
    CHECK_EQ(os_memheap_task_use(&heap, OS_MEM_TASK_STARTUP, &u), OS_EOK);
    CHECK(u.blocks == 1 && u.bytes > 64);
    capture_reset();
    os_mem_port_set_hooks(&(struct os_mem_port_hooks){OS_NULL, OS_NULL, OS_NULL, OS_NULL, OS_NULL,
                                                      capture_puts, OS_NULL});
    CHECK_EQ(os_memheap_trace(&heap), OS_EOK);
    CHECKF(strstr(capture_text(), "(startup)") != OS_NULL, "trace: %s", capture_text());
    os_memheap_free(&heap, p);
    CHECK_EQ(os_memheap_task_use(&heap, OS_MEM_TASK_STARTUP, &u), OS_EOK);
    CHECK(u.blocks == 0 && u.bytes == 0);
    /* indexes 0 and 1 never go to a task: started() leaves their rows (the peak) alone */
    size_t peak = u.peak;
    CHECK(peak > 64);
    os_memory_task_started(OS_MEM_TASK_STARTUP);
    os_memory_task_started(OS_MEM_TASK_UNKNOWN);
    CHECK_EQ(os_memheap_task_use(&heap, OS_MEM_TASK_STARTUP, &u), OS_EOK);
    CHECK_EQ(u.peak, peak);
}
#endif

#if TEST_BAD_OPS
static void default_hook(void)
{
    check_context("default error hook");
    hook_uninstall();
    capture_reset();
    static unsigned char foreign[64];
    os_memheap_free(&heap, foreign + 16);
    CHECKF(strstr(capture_text(), heap.name) != OS_NULL, "default hook printed: '%s'", capture_text());
    hook_install();
    hook_reset();
}
#endif

int main(void)
{
    os_mem_port_set_hooks(&hooks_main);
    hook_install();
    heap_open(&heap, "port");
    heap_add_ok(&heap, region, sizeof region, test_layout_alg(test_layout_mixed(), 0));
    hook_reset();
#ifdef OS_USING_SYS_HEAP
    static _Alignas(64) unsigned char sys_region[32 * KiB];
    os_sys_heap_init();
    CHECK_EQ(os_sys_heap_add(sys_region, sizeof sys_region, OS_MEM_ALG_DEFAULT), OS_EOK);
#endif
    locking();
#if TEST_BAD_OPS
#ifndef OS_MEM_PORT_NO_LOCK
    from_isr();
#endif
    default_hook();
#endif
    trace_output();
    trace_batches();
    trace_region_gone();
#if EXPECT_LOCKS
    refused_free_keeps_regions();
    add_after_deinit();
#endif
#if EXPECT_LOCKS
    realloc_copy_unlocked();
#endif
#ifdef OS_USING_MEM_TRACE
    index_past_table();
#endif
    hooks_later(&hooks_main);
    CHECK_EQ(locks, unlocks);
#ifdef OS_USING_MEM_TRACE
    os_mem_port_set_hooks(OS_NULL);
    no_task_hook();
#endif
    heap_close(&heap);
    hook_uninstall();
    os_mem_port_set_hooks(OS_NULL);
    return check_summary("test_port");
}
#endif
