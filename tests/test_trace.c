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
    pthread_t th;
    CHECK(pthread_create(&th, OS_NULL, worker, OS_NULL) == 0);
    CHECK(pthread_join(th, OS_NULL) == 0);    /* the thread has ended */
    CHECK(worker_block != OS_NULL);
    os_memheap_free(&heap, b);

    check_context("trace output");
    CHECK_EQ(capture_trace(), OS_EOK);
    printf("%s", out);
    CHECK(strstr(out, "traced") != OS_NULL);
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
    CHECK_REPORTS(0);

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
