/*
 * test_trace.c - os_memheap_trace() on the POSIX port prints every block of
 * every region: used/free, address, usable size and, in trace builds, the
 * name of the thread that allocated a used block, which stays right after
 * that thread has ended. The output (stdout) is captured into a file.
 */
#if defined(__linux__)
#define _GNU_SOURCE
#endif
#include "common.h"

#include <stdio.h>
#include <string.h>

#if !defined(OS_MEM_PORT_POSIX)
int main(void)
{
    printf("test_trace: skipped (not the POSIX port)\n");
    return TEST_SKIP_CODE;
}
#elif defined(OS_USING_MEM_TRACE) && OS_MEM_TRACE_TASKS < 4
int main(void)
{
    /* rows 0 and 1 are reserved; the test gives the main thread and a worker rows of their own */
    printf("test_trace: skipped (OS_MEM_TRACE_TASKS %d: fewer than 4 rows)\n", (int)OS_MEM_TRACE_TASKS);
    return TEST_SKIP_CODE;
}
#else

#include <pthread.h>
#include <unistd.h>

#define KiB ((size_t)1024)

static _Alignas(64) unsigned char region1[16 * KiB];
static _Alignas(64) unsigned char region2[16 * KiB];
static os_memheap_t heap;
static char out[256 * 1024];

/* Run os_memheap_trace() with stdout captured into out[]. */
static os_err_t capture_trace(void)
{
    fflush(stdout);
    FILE *tmp = tmpfile();
    CHECK(tmp != OS_NULL);
    if (!tmp)
        return OS_ERROR;
    int saved = dup(1);
    CHECK(saved >= 0);
    CHECK(dup2(fileno(tmp), 1) >= 0);
    os_err_t rc = os_memheap_trace(&heap);
    fflush(stdout);
    CHECK(dup2(saved, 1) >= 0);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, sizeof out - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    return rc;
}

static const char *line_of(const void *p, char *line, size_t size)
{
    return text_line_of(out, p, line, size);
}

static void *worker_block;

#ifdef OS_USING_MEM_TRACE
struct owner_sum
{
    size_t bytes[OS_MEM_TRACE_TASKS];
    size_t blocks[OS_MEM_TRACE_TASKS];
    const void *find;
    unsigned found;
};

static int sum_owner(const struct os_memheap_block *b, void *arg)
{
    struct owner_sum *s = arg;
    if (b->used)
    {
        unsigned id = b->owner_id < OS_MEM_TRACE_TASKS ? b->owner_id : 0;
        s->bytes[id] += b->total;
        s->blocks[id]++;
        if (b->addr == s->find)
            s->found = b->owner_id;
    }
    return 0;
}

/* Every per-task row equals what a walk of the heap finds. */
static void rows_match_walk(const char *when)
{
    static struct owner_sum s;
    memset(&s, 0, sizeof s);
    CHECK_EQ(os_memheap_walk(&heap, sum_owner, &s), OS_EOK);
    for (unsigned id = 0; id < OS_MEM_TRACE_TASKS; id++)
    {
        struct os_mem_task_use u;
        CHECK_EQ(os_memheap_task_use(&heap, (os_uint16_t)id, &u), OS_EOK);
        CHECKF(u.bytes == s.bytes[id] && u.blocks == s.blocks[id] && u.peak >= u.bytes,
               "%s: task %u row bytes %zu blocks %zu peak %zu, walk bytes %zu blocks %zu", when,
               id, u.bytes, u.blocks, u.peak, s.bytes[id], s.blocks[id]);
    }
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
}

/* The task index that owns live block p (a walk). */
static unsigned owner_of(const void *p)
{
    static struct owner_sum s;
    memset(&s, 0, sizeof s);
    s.find = p;
    s.found = 0xFFFFFu;
    CHECK_EQ(os_memheap_walk(&heap, sum_owner, &s), OS_EOK);
    return s.found;
}

static struct os_mem_task_use use_of(unsigned id)
{
    struct os_mem_task_use u;
    memset(&u, 0, sizeof u);
    CHECK_EQ(os_memheap_task_use(&heap, (os_uint16_t)id, &u), OS_EOK);
    return u;
}

/* A short-lived thread: its row starts from zero even on a reused index. */
struct churn
{
    size_t size;
    unsigned id;
    struct os_mem_task_use during;
};

static void *churn_thread(void *arg)
{
    struct churn *c = arg;
    void *p = os_memheap_alloc(&heap, c->size);
    CHECK(p != OS_NULL);
    if (!p)
        return OS_NULL;
    c->id = owner_of(p);
    c->during = use_of(c->id < OS_MEM_TRACE_TASKS ? c->id : 0);
    os_memheap_free(&heap, p);
    return OS_NULL;
}

static void *holder_block;
static void *holder_thread(void *arg)
{
    (void)arg;
    holder_block = os_memheap_alloc(&heap, 777);
    return OS_NULL;
}

/*
 * Indexes of ended threads go to new threads once their blocks are gone,
 * never before; a reused row starts with no peak; every row matches a walk.
 */
static void task_reuse(unsigned main_id)
{
    check_context("task index reuse");
    pthread_t th;
    CHECK(pthread_create(&th, OS_NULL, holder_thread, OS_NULL) == 0);
    CHECK(pthread_join(th, OS_NULL) == 0);
    CHECK(holder_block != OS_NULL);
    unsigned hid = owner_of(holder_block);
    CHECK(hid >= 2 && hid < OS_MEM_TRACE_TASKS);
    CHECK(os_memory_task_is_ended((os_uint16_t)hid));
    CHECK(!os_memory_task_idle((os_uint16_t)hid));

    static struct churn c[OS_MEM_TRACE_TASKS + 8];
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
    {
        c[i].size = 40 + 24 * i;
        CHECK(pthread_create(&th, OS_NULL, churn_thread, &c[i]) == 0);
        CHECK(pthread_join(th, OS_NULL) == 0);
        CHECKF(c[i].id >= 2 && c[i].id < OS_MEM_TRACE_TASKS, "thread %zu got index %u", i, c[i].id);
        CHECKF(c[i].id != hid && c[i].id != main_id, "thread %zu took a busy index %u", i, c[i].id);
        CHECKF(c[i].during.blocks == 1 && c[i].during.peak == c[i].during.bytes,
               "thread %zu (index %u): blocks %zu bytes %zu peak %zu", i, c[i].id,
               c[i].during.blocks, c[i].during.bytes, c[i].during.peak);
    }
    rows_match_walk("after the churn");
    struct os_mem_task_use h = use_of(hid);
    CHECK(h.blocks == 1 && h.bytes > 777);
    os_memheap_free(&heap, holder_block);
    CHECK(os_memory_task_idle((os_uint16_t)hid));
    rows_match_walk("after the ended thread's block was freed");
}
#endif

#ifdef OS_USING_MEM_TRACE
/*
 * A heap call made from a walk callback or from the error hook, that is
 * with another heap's lock held, by a thread that has no index yet while
 * the fresh indexes are used up, must not wait for the heap whose lock is
 * held (the index comes from ended threads, found idle when they ended),
 * and gets a reused index. A hang is ended by the alarm.
 */
static os_memheap_t other;
static unsigned inner_owner;

static int first_used(const struct os_memheap_block *blk, void *arg)
{
    if (!blk->used)
        return 0;
    *(struct os_memheap_block *)arg = *blk;
    return 1;
}

static void alloc_from_other(void)
{
    void *p = os_memheap_alloc(&other, 48);
    CHECK(p != OS_NULL);
    if (p)
    {
        struct os_memheap_block b;
        inner_owner = os_memheap_walk(&other, first_used, &b) == OS_EOK ? b.owner_id : 0;
        os_memheap_free(&other, p);
    }
}

static int walk_calls_other(const struct os_memheap_block *blk, void *arg)
{
    (void)blk;
    (void)arg;
    alloc_from_other();
    return 1;
}

static void hook_calls_other(const char *name, const void *addr, os_err_t code, const char *msg)
{
    (void)name, (void)addr, (void)code, (void)msg;
    alloc_from_other();
}

static void *inner_thread(void *arg)
{
    if (arg == OS_NULL)
    {
        CHECK_EQ(os_memheap_walk(&heap, walk_calls_other, OS_NULL), OS_EOK);
    }
    else
    {
        int x;
        os_mem_set_error_hook(hook_calls_other);
        os_memheap_free(&heap, &x);     /* foreign: reported with the heap's lock held */
        hook_install();
    }
    return OS_NULL;
}

/*
 * Indexes whose threads ended holding blocks come back once those blocks
 * are freed, even when every thread since then found no index.
 */
static void *keeper_thread(void *arg)
{
    *(void **)arg = os_memheap_alloc(&heap, 24);
    return OS_NULL;
}

static void *probe_thread(void *arg)
{
    void *p = os_memheap_alloc(&heap, 24);
    *(unsigned *)arg = p != OS_NULL ? owner_of(p) : 0;
    os_memheap_free(&heap, p);
    return OS_NULL;
}

static unsigned probe(void)
{
    pthread_t th;
    unsigned id = 0;
    CHECK(pthread_create(&th, OS_NULL, probe_thread, &id) == 0);
    CHECK(pthread_join(th, OS_NULL) == 0);
    return id;
}

static void indexes_come_back(void)
{
    check_context("indexes of ended threads freed later");
    static void *kept[OS_MEM_TRACE_TASKS];
    for (size_t i = 0; i < OS_MEM_TRACE_TASKS; i++)
    {
        pthread_t th;
        CHECK(pthread_create(&th, OS_NULL, keeper_thread, &kept[i]) == 0);
        CHECK(pthread_join(th, OS_NULL) == 0);
        CHECK(kept[i] != OS_NULL);
    }
    unsigned id = probe();
    CHECKF(id < 2 || id >= OS_MEM_TRACE_TASKS, "index %u while every index holds a block", id);
    for (size_t i = 0; i < OS_MEM_TRACE_TASKS; i++)
        os_memheap_free(&heap, kept[i]);
    (void)probe();      /* may find none yet: the indexes are found idle when a thread ends */
    id = probe();
    CHECKF(id >= 2 && id < OS_MEM_TRACE_TASKS, "index %u after the blocks were freed", id);
    rows_match_walk("after the indexes came back");
}

static void nested_call_new_thread(void)
{
    static _Alignas(64) unsigned char r[8 * KiB];
    check_context("heap call inside a heap call, new thread");
    heap_open(&other, "other");
    heap_add_ok(&other, r, sizeof r, OS_MEM_ALG_DEFAULT);
    for (int mode = 0; mode < 1 + TEST_BAD_OPS; mode++)     /* mode 1 frees a foreign pointer */
    {
        pthread_t th;
        inner_owner = 0;
        alarm(30);
        CHECK(pthread_create(&th, OS_NULL, inner_thread, mode ? &other : OS_NULL) == 0);
        CHECK(pthread_join(th, OS_NULL) == 0);
        alarm(0);
        CHECKF(inner_owner >= 2 && inner_owner < OS_MEM_TRACE_TASKS, "mode %d: owner index %u", mode, inner_owner);
    }
    heap_close(&other);
}
#endif

static void *worker(void *arg)
{
    (void)arg;
#if defined(__linux__)
    pthread_setname_np(pthread_self(), "worker7");
#endif
    worker_block = os_memheap_alloc(&heap, 333);
    return OS_NULL;
}

int main(void)
{
    hook_install();
    const struct test_layout *l = test_layout_mixed();
    heap_open(&heap, "traced");
    heap_add_ok(&heap, region1, sizeof region1, test_layout_alg(l, 0));
    heap_add_ok(&heap, region2, sizeof region2, test_layout_alg(l, 1));

#if defined(__linux__)
    pthread_setname_np(pthread_self(), "main_thread");
#endif
    void *a = os_memheap_alloc(&heap, 100);
    void *b = os_memheap_alloc(&heap, 200);
    void *big = os_memheap_alloc(&heap, 6 * KiB);
    void *c = os_memheap_alloc(&heap, 6 * KiB);
    CHECK(a && b && big && c);
#ifdef OS_USING_MEM_TRACE
    unsigned main_id = owner_of(a);
    CHECK(main_id >= 2 && main_id < OS_MEM_TRACE_TASKS);
    CHECK(!os_memory_task_is_ended((os_uint16_t)main_id));
    struct os_mem_task_use four = use_of(main_id);
    CHECK_EQ(four.blocks, 4);
    CHECK_EQ(four.peak, four.bytes);
    rows_match_walk("four blocks");
#endif
    pthread_t th;
    CHECK(pthread_create(&th, OS_NULL, worker, OS_NULL) == 0);
    CHECK(pthread_join(th, OS_NULL) == 0);    /* the thread has ended */
    CHECK(worker_block != OS_NULL);
    os_memheap_free(&heap, b);

    check_context("trace output");
    CHECK_EQ(capture_trace(), OS_EOK);
    printf("%s", out);
#if OS_NAME_MAX >= 6
    CHECK(strstr(out, "traced") != OS_NULL);    /* the heap's name */
#endif
    char line[256], num[32];
    void *used[] = {a, big, c, worker_block};
    for (size_t i = 0; i < sizeof used / sizeof used[0]; i++)
    {
        if (!used[i])
            continue;
        CHECKF(line_of(used[i], line, sizeof line) != OS_NULL, "block %p not in the trace",
               used[i]);
        if (!line_of(used[i], line, sizeof line))
            continue;
        CHECKF(strstr(line, "used") != OS_NULL, "line: %s", line);
        snprintf(num, sizeof num, "%zu", os_memheap_usable_size(&heap, used[i]));
        CHECKF(strstr(line, num) != OS_NULL, "usable size %s not in line: %s", num, line);
    }
    CHECKF(line_of(b, line, sizeof line) != OS_NULL && strstr(line, "free"), "freed block: %s",
           line_of(b, line, sizeof line) ? line : "(missing)");
#if defined(OS_USING_MEM_TRACE) && defined(__linux__)
    CHECKF(line_of(a, line, sizeof line) && strstr(line, "main_thread"), "owner of a: %s", line);
    CHECKF(line_of(c, line, sizeof line) && strstr(line, "main_thread"), "owner of c: %s", line);
    CHECKF(worker_block && line_of(worker_block, line, sizeof line) && strstr(line, "worker7"),
           "owner of the ended thread's block: %s", line);
#endif
#ifdef OS_USING_MEM_TRACE
    /* the rows: main holds three blocks (peak: all four), the ended worker one */
    rows_match_walk("after the worker ended");
    struct os_mem_task_use mu = use_of(main_id);
    CHECK_EQ(mu.blocks, 3);
    CHECK(mu.bytes < four.bytes);
    CHECK_EQ(mu.peak, four.bytes);
    unsigned wid = worker_block ? owner_of(worker_block) : 0;
    CHECK(wid >= 2 && wid < OS_MEM_TRACE_TASKS && wid != main_id);
    CHECK(os_memory_task_is_ended((os_uint16_t)wid));
    CHECK(!os_memory_task_idle((os_uint16_t)wid));
    const char *tab = strstr(out, " tasks:");
    CHECKF(tab != OS_NULL, "no per-task table in the trace");
    if (tab)
    {
        char want[64];
        snprintf(want, sizeof want, "%zu", use_of(wid).bytes);
        const char *row = strstr(tab, "worker7");
        const char *eol = row ? strchr(row, '\n') : OS_NULL;
        CHECKF(row && eol && strstr(row, "(ended)") && strstr(row, "(ended)") < eol &&
               strstr(row, want) && strstr(row, want) < eol, "the ended worker's row: %s", tab);
        row = strstr(tab, "main_thread");
        eol = row ? strchr(row, '\n') : OS_NULL;
        CHECKF(row && eol && !(strstr(row, "(ended)") && strstr(row, "(ended)") < eol),
               "main's row: %s", tab);
    }
#endif
    CHECK_REPORTS(0);

#ifdef OS_USING_MEM_TRACE
    os_memheap_free(&heap, worker_block);
    worker_block = OS_NULL;
    CHECK(os_memory_task_idle((os_uint16_t)wid));
    CHECK_EQ(use_of(wid).blocks, 0);
    CHECK_EQ(use_of(wid).bytes, 0);
    CHECK(use_of(wid).peak > 0);
#if defined(__linux__)
    /* a row that holds nothing now still shows its peak in the table */
    check_context("trace output: a row with only a peak");
    CHECK_EQ(capture_trace(), OS_EOK);
    {
        const char *t = strstr(out, " tasks:");
        const char *row = t ? strstr(t, "worker7") : OS_NULL;
        char want[32];
        snprintf(want, sizeof want, "%zu", use_of(wid).peak);
        const char *eol = row ? strchr(row, '\n') : OS_NULL;
        CHECKF(row && eol && strstr(row, want) && strstr(row, want) < eol, "the idle worker's row: %s",
               t ? t : "(no table)");
    }
#endif
    task_reuse(main_id);
    nested_call_new_thread();
    indexes_come_back();
#if TEST_BAD_OPS
    /* a report names the task that made the call */
    static unsigned char foreign[64];
    os_memheap_free(&heap, foreign + 8);
    CHECK_EQ(hook_count(), 1);
#if defined(__linux__) && !defined(OS_MEM_SMALL)     /* (the small build's messages are fixed) */
    CHECKF(hook_count() == 1 && strstr(hook_last_msg(), "[task main_thread]"), "report: %s",
           hook_count() ? hook_last_msg() : "(none)");
#endif
    hook_reset();
#endif
    struct os_mem_task_use bad;
    CHECK_EQ(os_memheap_task_use(&heap, OS_MEM_TRACE_TASKS, &bad), OS_EINVAL);
    CHECK_EQ(os_memheap_task_use(&heap, 0, OS_NULL), OS_EINVAL);
    CHECK_EQ(os_memheap_task_use(OS_NULL, 0, &bad), OS_EINVAL);
    CHECK_REPORTS(3);       /* each refusal is reported */
#endif
    os_memheap_free(&heap, a);
    os_memheap_free(&heap, big);
    os_memheap_free(&heap, c);
    os_memheap_free(&heap, worker_block);
    CHECK_EQ(heap_info(&heap).mem_used, 0);
    CHECK_EQ(capture_trace(), OS_EOK);
    CHECK(strstr(out, "used ") == OS_NULL || strstr(out, "used 0") != OS_NULL);
    heap_close(&heap);
    hook_uninstall();
    return check_summary("test_trace");
}
#endif
