/*
 * test_reenter.c - the POSIX port never hangs on a heap call made by a
 * thread that already holds that heap's lock: a call from a signal handler
 * that interrupted a heap call, and one from a walk callback (which runs
 * under the lock). Each case runs in a child process, which must report
 * the call through the error hook (OS_EPERM) and then end in the port's
 * assert (SIGABRT); a child still running after 20 s is a hang.
 */
#define _POSIX_C_SOURCE 200809L     /* sigaction, kill */
#include "common.h"

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

int main(void)
{
    run(0, "heap call from a signal handler during a heap call");
    run(1, "heap call from a walk callback");
    return check_summary("test_reenter");
}
#endif
