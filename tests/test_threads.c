/*
 * test_threads.c - the POSIX port is thread-safe: 4 threads share one user
 * heap (then the system heap), each doing random alloc / aligned alloc /
 * realloc / free with content verification; blocks are also handed between
 * threads through a mailbox so that a block is often freed by another thread
 * than the one that allocated it. Afterwards the heap checks sound and
 * mem_used is 0. Also: os_memheap_deinit waits for a call in progress on
 * the heap; a host block freed while its nested heap allocates; a
 * host's list of nested regions rewritten while a heap whose control block
 * it runs through allocates; and a nested heap deinitialised during its
 * call while the host block is freed; and a deinit refused while a realloc
 * copies a block with no lock held is not put off for ever by moves that
 * other threads start after it.
 */
#define _POSIX_C_SOURCE 200809L     /* clock_gettime, sem_timedwait, sigaction, mprotect */
#include "common.h"

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef OS_USING_MEM_POOL
#include <os_mempool.h>
#endif
#include <stdio.h>
#include <string.h>
#include <time.h>

#ifndef OS_MEM_PORT_POSIX
int main(void)
{
    printf("test_threads: skipped (not the POSIX port)\n");
    return TEST_SKIP_CODE;
}
#else

#define KiB ((size_t)1024)
#define NTHREADS 4
#define OPS      20000
#define SLOTS    48
#define MAILBOX  32

static _Alignas(64) unsigned char arena[2 * 320 * KiB];
static os_memheap_t user_heap;

struct block
{
    unsigned char *p;
    size_t         size;
    size_t         align;
    uint32_t       id;
};

static struct
{
    pthread_mutex_t lock;
    struct block    box[MAILBOX];
    int             n;
} mail = {PTHREAD_MUTEX_INITIALIZER, {{0}}, 0};

struct worker
{
    os_memheap_t *heap;     /* OS_NULL: the system heap */
    int           index;
    unsigned long allocs, fails, handoffs;
};

static void verify(const struct block *b, const char *when)
{
    size_t bad = pat_find_bad(b->p, b->id, 0, b->size);
    CHECKF(bad == (size_t)-1, "%s: block %p id %u size %zu corrupt at %zu", when, (void *)b->p,
           b->id, b->size, bad);
}

static void check_fresh(const struct block *b)
{
    size_t al = b->align > OS_MEM_ALIGN_SIZE ? b->align : OS_MEM_ALIGN_SIZE;
    CHECKF(is_aligned(b->p, al), "%p not aligned to %zu", (void *)b->p, al);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    test_rng_t rng;
    rng_seed(&rng, 1000u + (uint64_t)w->index * 77u + (w->heap ? 0u : 5000u));
    check_context("%s thread %d", w->heap ? "user heap" : "sys heap", w->index);
    struct block slot[SLOTS];
    memset(slot, 0, sizeof slot);
    uint32_t next_id = (uint32_t)w->index << 24;

    for (int op = 0; op < OPS; op++)
    {
        struct block *b = &slot[rng_below(&rng, SLOTS)];
        uint32_t c = rng_below(&rng, 100);
        if (!b->p)
        {
            if (c < 8)
            {
                /* take a block some thread left in the mailbox */
                struct block got = {0};
                pthread_mutex_lock(&mail.lock);
                if (mail.n)
                    got = mail.box[--mail.n];
                pthread_mutex_unlock(&mail.lock);
                if (got.p)
                {
                    verify(&got, "from the mailbox");
                    *b = got;
                }
                continue;
            }
            size_t size = c < 70 ? rng_range(&rng, 1, 128)
                          : c < 95 ? rng_range(&rng, 129, 2048) : rng_range(&rng, 2049, 16384);
            size_t align = rng_below(&rng, 5) == 0 ? (size_t)16 << rng_below(&rng, 7) : 0;
            b->p = align ? any_aligned(w->heap, align, size) : any_alloc(w->heap, size);
            w->allocs++;
            if (!b->p)
            {
                w->fails++;
                continue;
            }
            b->size = size;
            b->align = align;
            b->id = ++next_id;
            check_fresh(b);
            pat_fill(b->p, b->id, 0, size);
        }
        else if (c < 35)
        {
            verify(b, "before realloc");
            size_t n = rng_below(&rng, 2) ? rng_range(&rng, 1, b->size + 1)
                                          : rng_range(&rng, b->size, b->size * 2 + 64);
            unsigned char *q = any_realloc(w->heap, b->p, n);
            if (!q)
            {
                verify(b, "after failed realloc");
                continue;
            }
            size_t keep = n < b->size ? n : b->size;
            size_t bad = pat_find_bad(q, b->id, 0, keep);
            CHECKF(bad == (size_t)-1, "realloc %zu -> %zu lost data at %zu", b->size, n, bad);
            b->p = q;
            b->size = n;
            check_fresh(b);
            pat_fill(q, b->id, keep, n);
        }
        else if (c < 45)
        {
            /* leave it for another thread */
            int put = 0;
            pthread_mutex_lock(&mail.lock);
            if (mail.n < MAILBOX)
            {
                mail.box[mail.n++] = *b;
                put = 1;
            }
            pthread_mutex_unlock(&mail.lock);
            if (put)
            {
                w->handoffs++;
                memset(b, 0, sizeof *b);
            }
        }
        else
        {
            verify(b, "before free");
            /* a query while the other threads change the blocks around this one */
            CHECKF(any_usable(w->heap, b->p) >= b->size, "usable size of %p below %zu", (void *)b->p, b->size);
            any_free(w->heap, b->p);
            memset(b, 0, sizeof *b);
        }
    }
    for (int i = 0; i < SLOTS; i++)
    {
        if (!slot[i].p)
            continue;
        verify(&slot[i], "final");
        any_free(w->heap, slot[i].p);
    }
    return OS_NULL;
}

static void run(os_memheap_t *heap, const char *what)
{
    pthread_t th[NTHREADS];
    struct worker w[NTHREADS];
    check_context("%s", what);
    for (int i = 0; i < NTHREADS; i++)
    {
        memset(&w[i], 0, sizeof w[i]);
        w[i].heap = heap;
        w[i].index = i;
        CHECK(pthread_create(&th[i], OS_NULL, worker_main, &w[i]) == 0);
    }
    unsigned long allocs = 0, fails = 0, handoffs = 0;
    for (int i = 0; i < NTHREADS; i++)
    {
        CHECK(pthread_join(th[i], OS_NULL) == 0);
        allocs += w[i].allocs;
        fails += w[i].fails;
        handoffs += w[i].handoffs;
    }
    check_context("%s", what);
    /* drain the mailbox */
    while (mail.n)
    {
        struct block b = mail.box[--mail.n];
        verify(&b, "mailbox drain");
        any_free(heap, b.p);
    }
    printf("%s: %lu allocations (%lu failed), %lu handed between threads\n", what, allocs, fails,
           handoffs);
    CHECK(handoffs > 0);
    CHECK(fails < allocs / 2);
}

#if TEST_BAD_OPS    /* the paused call is a bad free: an assert build stops there */
/*
 * A call paused inside the heap (in the error hook, which the free of an
 * interior pointer reaches with the heap's lock held, as a preemption would
 * pause it): a
 * deinit made meanwhile must not return before the call has left the heap.
 * The hook waits 100 ms for the deinit to return and expects it not to:
 * a correct library never passes that wait, whatever the machine's speed.
 */
static os_memheap_t d_heap;
static sem_t d_inside, d_done;
static atomic_int d_hold;

static void holding_hook(const char *heap_name, const void *addr, os_err_t code, const char *msg)
{
    (void)heap_name, (void)addr, (void)code, (void)msg;
    if (atomic_exchange(&d_hold, 0))
    {
        struct timespec t;
        CHECK(clock_gettime(CLOCK_REALTIME, &t) == 0);
        t.tv_nsec += 100 * 1000 * 1000;
        if (t.tv_nsec >= 1000 * 1000 * 1000)
        {
            t.tv_sec++;
            t.tv_nsec -= 1000 * 1000 * 1000;
        }
        CHECK(sem_post(&d_inside) == 0);
        CHECKF(sem_timedwait(&d_done, &t) != 0, "deinit returned while a call was inside the heap");
    }
}

static void *deinit_thread(void *arg)
{
    (void)arg;
    CHECK(sem_wait(&d_inside) == 0);
    CHECK_EQ(os_memheap_deinit(&d_heap), OS_EOK);
    CHECK(sem_post(&d_done) == 0);
    return OS_NULL;
}

static void deinit_waits(const struct test_layout *l)
{
    static _Alignas(64) unsigned char r1[16 * KiB], r2[16 * KiB];
    pthread_t t;

    check_context("deinit during a call");
    heap_open(&d_heap, "D");
    heap_add_ok(&d_heap, r1, sizeof r1, test_layout_alg(l, 0));
    heap_add_ok(&d_heap, r2, sizeof r2, test_layout_alg(l, 1));
    unsigned char *p = os_memheap_alloc(&d_heap, 100);
    CHECK(p != OS_NULL);
    CHECK(sem_init(&d_inside, 0, 0) == 0 && sem_init(&d_done, 0, 0) == 0);
    atomic_store(&d_hold, 1);
    os_mem_set_error_hook(holding_hook);
    CHECK(pthread_create(&t, OS_NULL, deinit_thread, OS_NULL) == 0);
    os_memheap_free(&d_heap, p + 8);    /* an interior pointer: the algorithm reports it, heap lock held */
    CHECK(pthread_join(t, OS_NULL) == 0);
    hook_install();
    CHECK(atomic_load(&d_hold) == 0);
    CHECK(os_memheap_alloc(&d_heap, 16) == OS_NULL);    /* no longer a heap: refused */
    CHECK_REPORTED();
    sem_destroy(&d_inside);
    sem_destroy(&d_done);
}
#endif

/*
 * A deinit refused (OS_EBUSY) because a realloc copies a block with no lock
 * held must succeed once that copy has ended, even though another thread
 * started a move meanwhile: moves that start after the refusal copy under
 * the heap's lock. Otherwise two threads whose copies take turns keep
 * every deinit out. The interleaving is forced without timing: a page in
 * the middle of each block to be moved is made inaccessible, so its copy
 * faults; the fault handler stops the copying thread until the test lets
 * it go if the heap's lock is free (a copy with no lock held), and makes
 * the page accessible again so the copy goes on.
 */
static os_memheap_t copy_heap;
static size_t copy_pagesz;
static unsigned char *copy_page[2];         /* the inaccessible page in block i, or OS_NULL */
static int copy_stopped[2], copy_locked[2], copy_done[2], copy_go[2];
static void *copy_from[2], *copy_to[2];

static void copy_fault(int sig, siginfo_t *si, void *ctx)
{
    unsigned char *a = si->si_addr;

    (void)ctx;
    for (int i = 0; i < 2; i++)
    {
        unsigned char *page = __atomic_load_n(&copy_page[i], __ATOMIC_SEQ_CST);

        if (page != OS_NULL && a >= page && a < page + copy_pagesz)
        {
            if (__atomic_load_n(&copy_heap.lock, __ATOMIC_SEQ_CST) == 0)
            {
                __atomic_store_n(&copy_stopped[i], 1, __ATOMIC_SEQ_CST);
                while (!__atomic_load_n(&copy_go[i], __ATOMIC_SEQ_CST))
                    sched_yield();
            }
            else
            {
                __atomic_store_n(&copy_locked[i], 1, __ATOMIC_SEQ_CST);
            }
            __atomic_store_n(&copy_page[i], OS_NULL, __ATOMIC_SEQ_CST);
            (void)mprotect(page, copy_pagesz, PROT_READ | PROT_WRITE);
            return;
        }
    }
    signal(sig, SIG_DFL);   /* not ours: crash as it would have */
}

static void *copy_mover(void *arg)
{
    int i = (int)(intptr_t)arg;

    copy_to[i] = os_memheap_realloc(&copy_heap, copy_from[i], 6 * copy_pagesz);
    __atomic_store_n(&copy_done[i], 1, __ATOMIC_SEQ_CST);
    return OS_NULL;
}

/* Start the move of block i and wait until it stops in its copy or returns. */
static void copy_start(pthread_t *t, int i)
{
    CHECK_EQ(pthread_create(t, OS_NULL, copy_mover, (void *)(intptr_t)i), 0);
    while (!__atomic_load_n(&copy_stopped[i], __ATOMIC_SEQ_CST) && !__atomic_load_n(&copy_done[i], __ATOMIC_SEQ_CST))
        sched_yield();
}

static void copy_finish(pthread_t t, int i)
{
    __atomic_store_n(&copy_go[i], 1, __ATOMIC_SEQ_CST);
    CHECK_EQ(pthread_join(t, OS_NULL), 0);
}

static void deinit_past_copies(void)
{
    struct sigaction sa, old;
    void *mem = OS_NULL;
    pthread_t t[2];
    os_err_t err;

    copy_pagesz = (size_t)sysconf(_SC_PAGESIZE);
    for (unsigned k = 0; k < test_nalgs; k++)
    {
        check_context("deinit past copies (%s)", test_algs[k].name);
        CHECK_EQ(posix_memalign(&mem, copy_pagesz, 64 * copy_pagesz), 0);
        heap_open(&copy_heap, "copies");
        heap_add_ok(&copy_heap, mem, 64 * copy_pagesz, test_algs[k].alg);
        /* two blocks, then blocks of the same size after them: neither can
         * grow in place (first-fit: the next block is in use; buddy: so is
         * its buddy) */
        for (int i = 0; i < 2; i++)
        {
            copy_from[i] = os_memheap_alloc(&copy_heap, 3 * copy_pagesz);
            CHECK(copy_from[i] != OS_NULL);
            copy_stopped[i] = copy_locked[i] = copy_done[i] = copy_go[i] = 0;
        }
        for (int i = 0; i < 4; i++)
            CHECK(os_memheap_alloc(&copy_heap, 3 * copy_pagesz) != OS_NULL);
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = copy_fault;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        CHECK_EQ(sigaction(SIGSEGV, &sa, &old), 0);
        for (int i = 0; i < 2; i++)
        {
            pat_fill(copy_from[i], (uint32_t)i, 0, 3 * copy_pagesz);
            copy_page[i] = align_up((unsigned char *)copy_from[i] + 1, copy_pagesz);
            CHECK_EQ(mprotect(copy_page[i], copy_pagesz, PROT_NONE), 0);
        }

        copy_start(&t[0], 0);
        CHECKF(copy_stopped[0], "the move of block 0 did not copy with no lock held (grown in place?)");
        hook_reset();
        CHECK_EQ(os_memheap_deinit(&copy_heap), OS_EBUSY);      /* block 0 is being copied */
        CHECK_REPORTS(1);
        copy_start(&t[1], 1);
        CHECKF(!copy_stopped[1], "a move started after a deinit was refused for copies copied with no lock held: "
               "two such moves taking turns keep deinit out for ever");
        CHECK(copy_locked[1]);
        copy_finish(t[0], 0);
        err = os_memheap_deinit(&copy_heap);
        CHECKF(err == OS_EOK, "deinit refused (%d) once the copy under way at the first refusal ended", (int)err);
        copy_finish(t[1], 1);
        if (err != OS_EOK)
        {
            CHECK_EQ(os_memheap_deinit(&copy_heap), OS_EOK);
        }
        hook_reset();
        CHECK_EQ(sigaction(SIGSEGV, &old, OS_NULL), 0);
        for (int i = 0; i < 2; i++)
        {
            CHECK(copy_to[i] != OS_NULL && copy_to[i] != copy_from[i]);
            CHECK(copy_to[i] == OS_NULL || pat_ok(copy_to[i], (uint32_t)i, 0, 3 * copy_pagesz));
            if (copy_page[i] != OS_NULL)
            {
                (void)mprotect(copy_page[i], copy_pagesz, PROT_READ | PROT_WRITE);
                copy_page[i] = OS_NULL;
            }
        }
        memset(&copy_heap, 0, sizeof copy_heap);
        free(mem);
        mem = OS_NULL;
    }
    check_context("");
}

/*
 * A free of a block that holds another heap's region, while a thread
 * allocates from that heap: the free is refused while the nested heap holds
 * a block, and when it goes through, no block the other thread holds was
 * in the region (that thread's frees are never reported as not in the
 * heap). The outer heap holds many blocks, so the check of its region that
 * such a free makes takes long.
 */
static os_memheap_t outer, inner;
static int race_go, race_stop, race_busy;
static unsigned long race_allocs;
static unsigned long race_lost, race_refused;
static _Thread_local int race_in_user;

/* Reports made by the thread that uses the inner heap are its blocks lost; the others, refused frees. */
static void race_hook(const char *heap_name, const void *addr, os_err_t code, const char *msg)
{
    (void)heap_name;
    (void)addr;
    (void)msg;
    if (race_in_user)
        __atomic_fetch_add(&race_lost, 1, __ATOMIC_RELAXED);
    else if (code == OS_EBUSY)
        __atomic_fetch_add(&race_refused, 1, __ATOMIC_RELAXED);
}

static void *inner_user(void *arg)
{
    (void)arg;
    race_in_user = 1;
    while (!__atomic_load_n(&race_stop, __ATOMIC_ACQUIRE))
    {
        __atomic_store_n(&race_busy, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&race_go, __ATOMIC_SEQ_CST))
        {
            unsigned char *p = os_memheap_alloc(&inner, 40);
            if (p != OS_NULL)
            {
                __atomic_fetch_add(&race_allocs, 1, __ATOMIC_SEQ_CST);
                for (int i = 0; i < 64; i++)
                    memset(p, i, 40);       /* hold it a while */
                os_memheap_free(&inner, p);
            }
        }
        __atomic_store_n(&race_busy, 0, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

static void host_free_race(void)
{
    enum { TRIALS = 60, FILLERS = 6000 };
    check_context("free of a host block while its nested heap allocates");
    os_mem_set_error_hook(race_hook);
    heap_open(&outer, "outer");
    heap_add_ok(&outer, arena, sizeof arena, OS_MEM_ALG_DEFAULT);
    /* small blocks in front (fewer where a block takes a large unit: 64 KiB stay free) */
    for (int i = 0; i < FILLERS && heap_info(&outer).mem_total - heap_info(&outer).mem_used > 64 * 1024; i++)
        CHECK(os_memheap_alloc(&outer, 48) != OS_NULL);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, inner_user, NULL), 0);
    for (int trial = 0; trial < TRIALS; trial++)
    {
        unsigned char *hb = os_memheap_alloc(&outer, 4096);
        CHECK(hb != OS_NULL);
        if (hb == OS_NULL)
            break;      /* (the wait below would never end) */
        heap_open(&inner, "inner");
        heap_add_ok(&inner, hb, 4096, OS_MEM_ALG_DEFAULT);
        size_t used = heap_info(&outer).mem_used;
        unsigned long allocs = __atomic_load_n(&race_allocs, __ATOMIC_SEQ_CST);
        __atomic_store_n(&race_go, 1, __ATOMIC_SEQ_CST);
        while (__atomic_load_n(&race_allocs, __ATOMIC_SEQ_CST) == allocs)
            ;   /* the inner heap is in use */
        while (heap_info(&outer).mem_used == used)
            os_memheap_free(&outer, hb);        /* refused (reported) while inner holds a block */
        __atomic_store_n(&race_go, 0, __ATOMIC_SEQ_CST);
        while (__atomic_load_n(&race_busy, __ATOMIC_SEQ_CST))
            ;   /* its last call on the inner heap has returned */
        heap_close(&inner);
    }
    __atomic_store_n(&race_stop, 1, __ATOMIC_RELEASE);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(__atomic_load_n(&race_lost, __ATOMIC_RELAXED), 0);
    CHECK_EQ(os_memheap_check(&outer), OS_EOK);
    printf("host block freed %d times while its nested heap was in use: %lu refusals\n", TRIALS,
           __atomic_load_n(&race_refused, __ATOMIC_RELAXED));
    hook_install();
    heap_close(&outer);     /* (its region is the arena: nothing needs freeing) */
}

/*
 * A host's list of nested regions runs through the control blocks of other
 * heaps' regions. Heap K's region is nested in an outer block after
 * NESTED regions of heap J, each in a block of its own; freeing J's host
 * blocks one by one takes J's regions out of the outer heap's list, and
 * each time rewrites the link in K's control block, while another thread
 * allocates from K. At hardening tail and full every call on K tests that
 * control block's seal: the rewrite must never be seen half done (a false
 * "overwritten" report and a refused call in a correct program).
 */
static os_memheap_t link_k, link_j;
static int link_stop;
static unsigned long link_reports, link_allocs;

static void link_hook(const char *heap_name, const void *addr, os_err_t code, const char *msg)
{
    (void)heap_name;
    (void)addr;
    (void)code;
    (void)msg;
    __atomic_fetch_add(&link_reports, 1, __ATOMIC_RELAXED);
}

static void *link_user(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&link_stop, __ATOMIC_ACQUIRE))
    {
        void *p = os_memheap_alloc(&link_k, 24);
        if (p != OS_NULL)
        {
            __atomic_fetch_add(&link_allocs, 1, __ATOMIC_RELAXED);
            os_memheap_free(&link_k, p);
        }
    }
    return NULL;
}

static void host_link_race(void)
{
    enum { ROUNDS = 40, NESTED = 48 };
    void *hb[NESTED];

    check_context("a host's list of nested regions rewritten while a nested heap allocates");
    os_mem_set_error_hook(link_hook);
    heap_open(&outer, "outer");
    heap_add_ok(&outer, arena, sizeof arena, OS_MEM_ALG_DEFAULT);
    for (int round = 0; round < ROUNDS; round++)
    {
        heap_open(&link_j, "j");
        for (int i = 0; i < NESTED; i++)
        {
            hb[i] = os_memheap_alloc(&outer, 1024);
            CHECK(hb[i] != OS_NULL && os_memheap_add(&link_j, hb[i], 1024, OS_MEM_ALG_DEFAULT) == OS_EOK);
        }
        void *kb = os_memheap_alloc(&outer, 4096);
        heap_open(&link_k, "k");
        CHECK(kb != OS_NULL && os_memheap_add(&link_k, kb, 4096, OS_MEM_ALG_DEFAULT) == OS_EOK);
        __atomic_store_n(&link_stop, 0, __ATOMIC_RELEASE);
        pthread_t t;
        CHECK_EQ(pthread_create(&t, NULL, link_user, NULL), 0);
        for (int i = NESTED - 1; i >= 0; i--)
            os_memheap_free(&outer, hb[i]);     /* the newest of J's regions: right after K's in the list */
        __atomic_store_n(&link_stop, 1, __ATOMIC_RELEASE);
        CHECK_EQ(pthread_join(t, NULL), 0);
        heap_close(&link_j);
        heap_close(&link_k);
        os_memheap_free(&outer, kb);
    }
    CHECK_EQ(__atomic_load_n(&link_reports, __ATOMIC_RELAXED), 0);
    CHECK_EQ(heap_info(&outer).mem_used, 0);
    CHECK_EQ(os_memheap_check(&outer), OS_EOK);
    printf("%d links of a nested heap's control block rewritten while it made %lu allocations\n", ROUNDS * NESTED,
           __atomic_load_n(&link_allocs, __ATOMIC_RELAXED));
    hook_install();
    heap_close(&outer);
}

/*
 * os_memheap_deinit of a nested heap while a call on it waits for its lock,
 * and another thread frees the host block as soon as the deinit lets it,
 * then fills the memory again. A walk holds the nested heap's lock (its
 * callback waits) while a realloc and the deinit queue up behind it; when
 * the deinit gets the lock first, the realloc must find the heap gone: it
 * must never run in the region once the host may free the block holding
 * it, and no report may say that something was overwritten.
 */
static os_memheap_t gone;
static int gone_hold, gone_held, gone_round, gone_done;
static void *gone_host, *gone_block;
static unsigned long gone_faults, gone_freed, gone_moved;

static void gone_hook(const char *heap_name, const void *addr, os_err_t code, const char *msg)
{
    (void)heap_name;
    (void)addr;
    (void)msg;
    if (code == OS_ERROR)
        __atomic_fetch_add(&gone_faults, 1, __ATOMIC_RELAXED);
}

static int gone_wait(const struct os_memheap_block *b, void *arg)
{
    (void)b;
    (void)arg;
    __atomic_store_n(&gone_held, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&gone_hold, __ATOMIC_SEQ_CST))
        ;   /* the heap's lock is held meanwhile */
    return 1;
}

static void *gone_walker(void *arg)
{
    (void)arg;
    (void)os_memheap_walk(&gone, gone_wait, OS_NULL);
    return NULL;
}

static void *gone_mover(void *arg)
{
    (void)arg;
    if (os_memheap_realloc(&gone, gone_block, 70 * KiB) != OS_NULL)     /* moves: a copy in the region */
        __atomic_fetch_add(&gone_moved, 1, __ATOMIC_RELAXED);
    return NULL;
}

static void *gone_deinit(void *arg)
{
    (void)arg;
    (void)os_memheap_deinit(&gone);
    return NULL;
}

static void *gone_freer(void *arg)
{
    (void)arg;
    for (int round = 1;; round++)
    {
        while (__atomic_load_n(&gone_round, __ATOMIC_SEQ_CST) < round)
            if (__atomic_load_n(&gone_round, __ATOMIC_SEQ_CST) < 0)
                return NULL;
        while (__atomic_load_n(&gone.object_inited, __ATOMIC_SEQ_CST) != 0)
            ;   /* the deinit has begun */
        size_t used = heap_info(&outer).mem_used;
        os_memheap_free(&outer, gone_host);     /* refused while the nested region is still listed */
        if (heap_info(&outer).mem_used != used)
        {
            __atomic_fetch_add(&gone_freed, 1, __ATOMIC_RELAXED);
            gone_host = os_memheap_alloc(&outer, 128 * KiB);
            if (gone_host != OS_NULL)
                memset(gone_host, 0x55, 128 * KiB);     /* the memory has a new owner */
        }
        __atomic_store_n(&gone_done, round, __ATOMIC_SEQ_CST);
    }
}

static void deinit_nested_race(void)
{
    enum { ROUNDS = 40 };
    const struct timespec pause = {0, 2000000};     /* for the realloc, then the deinit, to reach the lock */
    pthread_t freer;

    check_context("deinit of a nested heap while a call waits for its lock and the host block is freed");
    os_mem_set_error_hook(gone_hook);
    heap_open(&outer, "outer");
    heap_add_ok(&outer, arena, sizeof arena, OS_MEM_ALG_DEFAULT);
    CHECK_EQ(pthread_create(&freer, NULL, gone_freer, NULL), 0);
    for (int round = 1; round <= ROUNDS; round++)
    {
        pthread_t walker, mover, deiniter;
        gone_host = os_memheap_alloc(&outer, 128 * KiB);
        CHECK(gone_host != OS_NULL);
        memset(&gone, 0, sizeof gone);
        CHECK_EQ(os_memheap_init(&gone, "gone"), OS_EOK);
        CHECK_EQ(os_memheap_add(&gone, gone_host, 128 * KiB, OS_MEM_ALG_DEFAULT), OS_EOK);
        gone_block = os_memheap_alloc(&gone, 48 * KiB);
        CHECK(gone_block != OS_NULL && os_memheap_alloc(&gone, 16) != OS_NULL);   /* no growth in place */
        __atomic_store_n(&gone_hold, 1, __ATOMIC_SEQ_CST);
        __atomic_store_n(&gone_held, 0, __ATOMIC_SEQ_CST);
        CHECK_EQ(pthread_create(&walker, NULL, gone_walker, NULL), 0);
        while (!__atomic_load_n(&gone_held, __ATOMIC_SEQ_CST))
            ;
        __atomic_store_n(&gone_round, round, __ATOMIC_SEQ_CST);
        CHECK_EQ(pthread_create(&mover, NULL, gone_mover, NULL), 0);
        nanosleep(&pause, OS_NULL);
        CHECK_EQ(pthread_create(&deiniter, NULL, gone_deinit, NULL), 0);
        nanosleep(&pause, OS_NULL);
        __atomic_store_n(&gone_hold, 0, __ATOMIC_SEQ_CST);    /* the realloc and the deinit race for the lock */
        CHECK_EQ(pthread_join(walker, NULL), 0);
        CHECK_EQ(pthread_join(mover, NULL), 0);
        CHECK_EQ(pthread_join(deiniter, NULL), 0);
        while (__atomic_load_n(&gone_done, __ATOMIC_SEQ_CST) < round)
            ;
        if (gone_host != OS_NULL)
            os_memheap_free(&outer, gone_host);
    }
    __atomic_store_n(&gone_round, -1, __ATOMIC_SEQ_CST);
    CHECK_EQ(pthread_join(freer, NULL), 0);
    CHECK_EQ(__atomic_load_n(&gone_faults, __ATOMIC_RELAXED), 0);
    CHECK_EQ(__atomic_load_n(&gone_freed, __ATOMIC_RELAXED), ROUNDS);
    CHECK_EQ(heap_info(&outer).mem_used, 0);
    CHECK_EQ(os_memheap_check(&outer), OS_EOK);
    printf("%d deinits of a nested heap with a realloc waiting for its lock: %lu reallocs ran before the deinit\n",
           ROUNDS, __atomic_load_n(&gone_moved, __ATOMIC_RELAXED));
    hook_install();
    heap_close(&outer);
}

#ifdef OS_USING_MEM_POOL
/*
 * A pool whose object and memory lie in a heap block is deinitialised
 * while a thread waits for a block; another thread frees the heap block as
 * soon as the pool looks deinitialised, and fills the memory again. The
 * free must be refused until the deinit no longer uses the object (it
 * still wakes the waiter through the pool's lock): else the waiter and
 * the deinit spin on a lock word that now reads 0x55 bytes.
 */
static os_mp_t *closing_mp;
static int closing_waiting;
static os_err_t closing_err;
static unsigned long closing_refused;

static void closing_hook(const char *heap_name, const void *addr, os_err_t code, const char *msg)
{
    (void)heap_name;
    (void)addr;
    (void)msg;
    if (code == OS_EBUSY)
        __atomic_fetch_add(&closing_refused, 1, __ATOMIC_RELAXED);
}

static void *closing_waiter(void *arg)
{
    (void)arg;
    CHECK(os_mp_alloc(closing_mp, OS_NO_WAIT) != OS_NULL);
    while (os_mp_alloc(closing_mp, OS_NO_WAIT) != OS_NULL)
        ;   /* every block taken */
    __atomic_store_n(&closing_waiting, 1, __ATOMIC_SEQ_CST);
    (void)os_mp_alloc_ex(closing_mp, OS_WAIT_FOREVER, &closing_err);    /* woken by the deinit */
    return NULL;
}

static void *closing_freer(void *arg)
{
    (void)arg;
    while (__atomic_load_n(&closing_mp->object_inited, __ATOMIC_SEQ_CST) != 0)
        ;   /* the deinit has begun */
    size_t used = heap_info(&outer).mem_used;
    while (heap_info(&outer).mem_used == used)
        os_memheap_free(&outer, closing_mp);    /* refused until the deinit is done with the object */
    memset(os_memheap_alloc(&outer, 8192), 0x55, 8192);    /* the same block, most likely: a new owner */
    return NULL;
}

static void pool_deinit_host_free(void)
{
    enum { ROUNDS = 20 };
    check_context("a pool in a heap block deinitialised with a waiter while the block is freed");
    os_mem_set_error_hook(closing_hook);
    heap_open(&outer, "outer");
    heap_add_ok(&outer, arena, sizeof arena, OS_MEM_ALG_DEFAULT);
    for (int round = 0; round < ROUNDS; round++)
    {
        pthread_t waiter, freer;
        const struct timespec pause = {0, 1000000};
        closing_mp = os_memheap_alloc(&outer, 8192);
        CHECK(closing_mp != OS_NULL);
        if (closing_mp == OS_NULL)
            break;
        CHECK_EQ(os_mp_init(closing_mp, "closing", (unsigned char *)closing_mp + 512, 64, 32), OS_EOK);
        __atomic_store_n(&closing_waiting, 0, __ATOMIC_SEQ_CST);
        CHECK_EQ(pthread_create(&waiter, NULL, closing_waiter, NULL), 0);
        while (!__atomic_load_n(&closing_waiting, __ATOMIC_SEQ_CST))
            ;
        nanosleep(&pause, OS_NULL);     /* (it waits in the pool by now, most likely) */
        CHECK_EQ(pthread_create(&freer, NULL, closing_freer, NULL), 0);
        CHECK_EQ(os_mp_deinit(closing_mp), OS_EOK);
        CHECK_EQ(pthread_join(waiter, NULL), 0);
        CHECK_EQ(pthread_join(freer, NULL), 0);
        CHECK(closing_err != OS_EOK);
    }
    os_mem_set_error_hook(OS_NULL);
    hook_install();
    CHECK_EQ(os_memheap_check(&outer), OS_EOK);
    printf("%d pools deinitialised with a waiter while their host block was freed: %lu frees refused meanwhile\n",
           ROUNDS, __atomic_load_n(&closing_refused, __ATOMIC_RELAXED));
    heap_close(&outer);
}
#endif

int main(void)
{
    hook_install();
    deinit_past_copies();
    host_free_race();
    host_link_race();       /* (its refusals are reports, not faults: it runs in assert builds too) */
    deinit_nested_race();
#ifdef OS_USING_MEM_POOL
    pool_deinit_host_free();
#endif

    const struct test_layout *l = test_layout_mixed();
    heap_open(&user_heap, "shared");
    /* small enough that allocations fail now and then: the out-of-memory
     * paths run concurrently too */
    heap_add_ok(&user_heap, arena + 8, 72 * KiB - 16, test_layout_alg(l, 0));
    heap_add_ok(&user_heap, arena + 320 * KiB + 24, 72 * KiB - 40, test_layout_alg(l, 1));
    run(&user_heap, "user heap");
    CHECK_EQ(os_memheap_check(&user_heap), OS_EOK);
    os_meminfo_t info = heap_info(&user_heap);
    CHECK_EQ(info.mem_used, 0);
    CHECK(info.mem_maxused > 0 && info.mem_maxused <= info.mem_total);
    CHECK_REPORTS(0);
    heap_close(&user_heap);
#if TEST_BAD_OPS
    deinit_waits(l);
#endif

#ifdef OS_USING_SYS_HEAP
    os_sys_heap_init();
    CHECK_EQ(os_sys_heap_add(arena + 16, 320 * KiB - 32, test_layout_alg(l, 1)), OS_EOK);
    CHECK_EQ(os_sys_heap_add(arena + 320 * KiB + 8, 320 * KiB - 8, test_layout_alg(l, 0)), OS_EOK);
    run(OS_NULL, "sys heap");
    CHECK_EQ(os_memory_check(), OS_EOK);
    os_memory_info(&info);
    CHECK_EQ(info.mem_used, 0);
    CHECK_REPORTS(0);
#endif
    hook_uninstall();
    return check_summary("test_threads");
}
#endif
