/*
 * test_reenter.c - the POSIX port never hangs on a heap call made by a
 * thread that already holds that heap's lock: a call from a signal handler
 * that interrupted a heap call, and one from a walk callback (which runs
 * under the lock). Each case runs in a child process, which must report
 * the call through the error hook (OS_EPERM) and then end in the port's
 * assert (SIGABRT); a child still running after 20 s is a hang.
 *
 * Also: a call that takes the global lock (init, add, deinit, pool init and
 * deinit, a free or realloc in a heap holding another heap's region) made
 * from a walk callback or the error hook is refused with OS_EPERM, as it
 * could wait for a thread that holds the global lock and waits for the
 * heap being walked; and that very interleaving (another thread's deinit
 * of the walked heap) ends, in a child with the same 20 s limit.
 */
#define _POSIX_C_SOURCE 200809L     /* sigaction, kill */
#include "common.h"
#ifdef OS_USING_MEM_POOL
#include <os_mempool.h>
#endif

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef OS_MEM_PORT_POSIX
int main(void)
{
    printf("test_reenter: skipped (not the POSIX port)\n");
    return TEST_SKIP_CODE;
}
#else

static _Alignas(64) unsigned char arena[64 * 1024];
static os_memheap_t heap;
static int report_fd;

/* The child's error hook: one line per report, through the pipe. */
static void pipe_hook(const char *heap_name, const void *addr, os_err_t code, const char *msg)
{
    char line[320];
    int n = snprintf(line, sizeof line, "code=%d msg=%s\n", (int)code, msg);

    (void)heap_name;
    (void)addr;
    if (n > 0)
        (void)!write(report_fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void on_signal(int sig)
{
    (void)sig;
    void *p = os_memheap_alloc(&heap, 32);     /* the interrupted thread holds the lock */
    os_memheap_free(&heap, p);
}

/* Walk callback: raise the signal (mode 0) or call the heap directly (mode 1). */
static int walk_cb(const struct os_memheap_block *blk, void *arg)
{
    (void)blk;
    if (*(const int *)arg == 0)
        (void)raise(SIGUSR1);
    else
        (void)os_memheap_alloc(&heap, 16);
    return 1;
}

static void child(int mode)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGUSR1, &sa, NULL);
    os_mem_set_error_hook(pipe_hook);
    if (os_memheap_init(&heap, "reenter") != OS_EOK ||
        os_memheap_add(&heap, arena, sizeof arena, OS_MEM_ALG_DEFAULT) != OS_EOK)
        _exit(2);
    void *p = os_memheap_alloc(&heap, 100);
    if (p == OS_NULL)
        _exit(2);
    (void)os_memheap_walk(&heap, walk_cb, &mode);
    _exit(0);   /* not reached: the nested call must end the process */
}

static void run(int mode, const char *what)
{
    int fds[2];
    char out[1024];
    size_t got = 0;

    check_context("%s", what);
    CHECK_EQ(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
    {
        close(fds[0]);
        report_fd = fds[1];
        child(mode);
    }
    close(fds[1]);

    int status = 0, done = 0;
    for (int i = 0; i < 2000 && !done; i++)    /* up to 20 s */
    {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            done = 1;
        else
        {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (!done)
    {
        kill(pid, SIGKILL);
        (void)waitpid(pid, &status, 0);
    }
    CHECKF(done, "the nested heap call hung");
    ssize_t n;
    while (got < sizeof out - 1 && (n = read(fds[0], out + got, sizeof out - 1 - got)) > 0)
        got += (size_t)n;
    out[got] = '\0';
    close(fds[0]);
    CHECKF(done && WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "child status 0x%x", (unsigned)status);
    char want[32];
    snprintf(want, sizeof want, "code=%d ", (int)OS_EPERM);
    CHECKF(strstr(out, want) != NULL && strstr(out, "lock its own thread holds") != NULL, "reports: %s", out);
    int reports = 0;
    for (const char *at = strstr(out, "code="); at != NULL; at = strstr(at + 1, "code="))
        reports++;
    CHECKF(reports == 1, "%d reports: %s", reports, out);
}

/* ---- calls that take the global lock, from callbacks ---------------------------- */

static _Alignas(64) unsigned char arena_b[64 * 1024], arena_c[8 * 1024];
#ifdef OS_USING_MEM_POOL
#define GLOBAL_CALLS 6      /* each refused call is reported once */
#else
#define GLOBAL_CALLS 5
#endif
static os_memheap_t heap_b, heap_n, heap_c;
static void *in_b;                      /* a block of heap_b, which holds heap_n's region */
static int eperm_reports;

static void count_hook(const char *heap_name, const void *addr, os_err_t code, const char *msg)
{
    (void)heap_name;
    (void)addr;
    (void)msg;
    if (code == OS_EPERM)
        eperm_reports++;
}

struct cb_results
{
    os_err_t init, add, deinit, mp;
    int calls;
};

/* Everything that takes the global lock, from one callback; each must be refused. */
static void global_calls(struct cb_results *r)
{
    r->calls++;
    r->init = os_memheap_init(&heap_c, "c");
    r->add = os_memheap_add(&heap_b, arena_c, sizeof arena_c, OS_MEM_ALG_DEFAULT);
    r->deinit = os_memheap_deinit(&heap_n);
    os_memheap_free(&heap_b, in_b);     /* heap_b holds a region: the free takes the global lock */
    CHECK(os_memheap_realloc(&heap_b, in_b, 64) == OS_NULL);
#ifdef OS_USING_MEM_POOL
    {
        static os_mp_t mp;
        r->mp = os_mp_init(&mp, "mp", arena_c, sizeof arena_c, 32);
    }
#else
    r->mp = OS_EPERM;
#endif
}

static int global_walk_cb(const struct os_memheap_block *blk, void *arg)
{
    (void)blk;
    global_calls(arg);
    return 1;
}

#if TEST_BAD_OPS
static struct cb_results hook_results;

static void global_hook(const char *heap_name, const void *addr, os_err_t code, const char *msg)
{
    count_hook(heap_name, addr, code, msg);
    if (code == OS_ERROR && hook_results.calls == 0)
        global_calls(&hook_results);    /* a report of check, made under heap's lock */
}
#endif

static void check_refused(const struct cb_results *r, const char *what)
{
    check_context("%s", what);
    CHECK_EQ(r->calls, 1);
    CHECK_EQ(r->init, OS_EPERM);
    CHECK_EQ(r->add, OS_EPERM);
    CHECK_EQ(r->deinit, OS_EPERM);
    CHECK_EQ(r->mp, OS_EPERM);
    CHECK(os_memheap_usable_size(&heap_b, in_b) >= 100);    /* the free was refused */
}

static void callbacks_refuse_global_calls(void)
{
    struct cb_results walk_results = { 0, 0, 0, 0, 0 };
    void *nested;

    check_context("set-up");
    memset(&heap, 0, sizeof heap);
    memset(&heap_b, 0, sizeof heap_b);
    memset(&heap_n, 0, sizeof heap_n);
    memset(&heap_c, 0, sizeof heap_c);
    CHECK_EQ(os_memheap_init(&heap, "a"), OS_EOK);
    CHECK_EQ(os_memheap_add(&heap, arena, sizeof arena, OS_MEM_ALG_DEFAULT), OS_EOK);
    CHECK(os_memheap_alloc(&heap, 100) != OS_NULL);
    CHECK_EQ(os_memheap_init(&heap_b, "b"), OS_EOK);
    CHECK_EQ(os_memheap_add(&heap_b, arena_b, sizeof arena_b, OS_MEM_ALG_DEFAULT), OS_EOK);
    nested = os_memheap_alloc(&heap_b, 4096);
    in_b = os_memheap_alloc(&heap_b, 100);
    CHECK(nested != OS_NULL && in_b != OS_NULL);
    CHECK_EQ(os_memheap_init(&heap_n, "n"), OS_EOK);
    CHECK_EQ(os_memheap_add(&heap_n, nested, 4096, OS_MEM_ALG_DEFAULT), OS_EOK);

    os_mem_set_error_hook(count_hook);
    eperm_reports = 0;
    CHECK_EQ(os_memheap_walk(&heap, global_walk_cb, &walk_results), OS_EOK);
    check_refused(&walk_results, "from a walk callback");
    CHECK_EQ(eperm_reports, GLOBAL_CALLS);

#if TEST_BAD_OPS
    {
        unsigned char *q = os_memheap_alloc(&heap, 64);

        CHECK(q != OS_NULL);
        if (q != OS_NULL)
        {
            test_unpoison(q - 1, 1);        /* the header: a memory checker guards it */
            unsigned char saved = q[-1], bad = (unsigned char)(saved ^ 0x40);

            os_mem_set_error_hook(global_hook);
            eperm_reports = 0;
            test_poke_bytes(q - 1, &bad, 1);    /* a header byte: check reports it with heap's lock held */
            CHECK_EQ(os_memheap_check(&heap), OS_ERROR);
            test_poke_bytes(q - 1, &saved, 1);
            check_refused(&hook_results, "from the error hook");
            CHECK_EQ(eperm_reports, GLOBAL_CALLS);
            os_memheap_free(&heap, q);
        }
    }
#endif
    os_mem_set_error_hook(NULL);

    check_context("the same calls outside the callbacks");
    CHECK_EQ(os_memheap_init(&heap_c, "c"), OS_EOK);
    CHECK_EQ(os_memheap_deinit(&heap_c), OS_EOK);
    os_memheap_free(&heap_b, in_b);
    CHECK_EQ(os_memheap_deinit(&heap_n), OS_EOK);
    os_memheap_free(&heap_b, nested);
    CHECK_EQ(os_memheap_check(&heap_b), OS_EOK);
    CHECK_EQ(os_memheap_deinit(&heap_b), OS_EOK);
    CHECK_EQ(os_memheap_check(&heap), OS_EOK);
    CHECK_EQ(os_memheap_deinit(&heap), OS_EOK);
}

/*
 * The interleaving itself: while a walk of heap runs its callback (heap's
 * lock held), another thread's deinit of heap takes the global lock and
 * waits for heap's; the callback then calls init. It must be refused, not
 * wait for the global lock for ever. The library's global lock word is
 * read to know that the other thread holds it. Child process: 0 on success.
 */
extern os_ubase_t oh_global_lock;
static os_err_t deinit_err = -1;

static void *deinit_thread(void *arg)
{
    (void)arg;
    deinit_err = os_memheap_deinit(&heap);
    return NULL;
}

static int deadlock_walk_cb(const struct os_memheap_block *blk, void *arg)
{
    pthread_t *t = arg;

    (void)blk;
    if (pthread_create(t, NULL, deinit_thread, NULL) != 0)
        _exit(3);
    while (__atomic_load_n(&oh_global_lock, __ATOMIC_ACQUIRE) == 0)
        sched_yield();
    if (os_memheap_init(&heap_c, "c") != OS_EPERM)
        _exit(4);
    return 1;
}

static void deadlock_child(void)
{
    pthread_t t;

    os_mem_set_error_hook(count_hook);
    memset(&heap, 0, sizeof heap);
    memset(&heap_c, 0, sizeof heap_c);
    if (os_memheap_init(&heap, "a") != OS_EOK || os_memheap_add(&heap, arena, sizeof arena, OS_MEM_ALG_DEFAULT) != OS_EOK ||
        os_memheap_alloc(&heap, 100) == OS_NULL)
        _exit(2);
    (void)alarm(20);
    if (os_memheap_walk(&heap, deadlock_walk_cb, &t) != OS_EOK || pthread_join(t, NULL) != 0)
        _exit(5);
    _exit(deinit_err == OS_EOK ? 0 : 6);
}

static void walk_deinit_init_interleaving(void)
{
    int status = 0;

    check_context("walk callback's init while another thread's deinit waits for the walked heap");
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        deadlock_child();
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status 0x%x (SIGALRM: a hang)", (unsigned)status);
}

int main(void)
{
    run(0, "heap call from a signal handler during a heap call");
    run(1, "heap call from a walk callback");
    callbacks_refuse_global_calls();
    walk_deinit_init_interleaving();
    return check_summary("test_reenter");
}
#endif
