/*
 * malloc_stress.c - 4 threads allocate, reallocate and free through the C
 * library interface, handing blocks to each other (cross-thread frees), and
 * check every block's contents. Run under LD_PRELOAD=liboneheap-malloc.so.
 *   malloc_stress fork   forks 100 times while another thread keeps adding
 *                        regions (a lock-order deadlock hangs here; alarm);
 *                        run it with ONEHEAP_REGION_SIZE=64K
 *   malloc_stress corner the override's own promises (errno, valloc and
 *                        pvalloc, realloc(p, 0), calloc over reused memory,
 *                        a region for a very large or very aligned request)
 *   malloc_stress big N  malloc N MiB, write it, free it: status 0 if served
 *   malloc_stress errno  errno kept by posix_memalign and by a free whose
 *                        pages the OS refuses to take back (run it under
 *                        ulimit -v 250000)
 *   malloc_stress tsd    1000 threads whose thread-specific-data destructors
 *                        (and the C library's own clean-up after the last
 *                        destructor round) free blocks after the thread
 *                        cache was flushed, then 2000 threads whose only
 *                        allocation the C library frees after the
 *                        destructor rounds
 *                        (with OS_MEMHEAP_STATS_ON_EXIT=1, "used" at exit
 *                        must stay small: nothing is left in dead caches)
 *   malloc_stress startup the override registers its fork and exit
 *                        handlers inside the process's first allocation,
 *                        before other threads may allocate; the
 *                        __cxa_atexit below allocates, as a C library's
 *                        may: that nested call must be served, not wait
 *                        for the setup it is part of (without the
 *                        override it prints the same line)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 4
#define OPS     100000
#define SLOTS   256

struct slot
{
    pthread_mutex_t lock;
    unsigned char  *p;
    size_t          size;
    unsigned char   tag;
};

static struct slot slots[SLOTS];
static int failures;

static unsigned long long next(unsigned long long *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static int intact(const struct slot *s)
{
    size_t i;

    for (i = 0; i < s->size; i++)
    {
        if (s->p[i] != s->tag)
        {
            return 0;
        }
    }
    return 1;
}

static void *worker(void *arg)
{
    unsigned long long x = 0x9E3779B97F4A7C15ull * (uintptr_t)arg + 1;
    int op;

    for (op = 0; op < OPS; op++)
    {
        struct slot *s = &slots[next(&x) % SLOTS];
        unsigned r = (unsigned)next(&x);
        size_t size = (r & 3) == 0 ? (r >> 4) % 65536 : (r >> 4) % 512;

        pthread_mutex_lock(&s->lock);
        if (s->p != NULL && !intact(s))
        {
            __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
        }
        if (s->p == NULL)
        {
            s->p = (r & 8) ? aligned_alloc(64, (size + 63) & ~(size_t)63) : malloc(size);
            s->size = (r & 8) ? (size + 63) & ~(size_t)63 : size;
            if (s->p == NULL || ((r & 8) && ((uintptr_t)s->p & 63) != 0) || ((uintptr_t)s->p & 15) != 0 ||
                malloc_usable_size(s->p) < s->size)
            {
                __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
            }
            s->tag = (unsigned char)r;
            if (s->p != NULL)
            {
                memset(s->p, s->tag, s->size);
            }
        }
        else if (r & 16)
        {
            unsigned char *q = realloc(s->p, size + 1);

            if (q == NULL)
            {
                __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
            }
            else
            {
                if (size + 1 > s->size)
                {
                    memset(q + s->size, s->tag, size + 1 - s->size);
                }
                s->p = q;
                s->size = size + 1;
            }
        }
        else
        {
            free(s->p);     /* often a block another thread allocated */
            s->p = NULL;
        }
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

static volatile int growing = 1;

/*
 * Run with ONEHEAP_REGION_SIZE=64K: each 128 KiB block is a region of its
 * own, so every call grows the heap (grow lock, then the arena lock).
 */
static void *grower(void *arg)
{
    static void *keep[4096];
    int n = 0;

    (void)arg;
    while (growing && n < 4096)
    {
        keep[n] = malloc((size_t)128 << 10);
        if (keep[n] != NULL)
            n++;
    }
    while (growing)
        ;
    while (n > 0)
        free(keep[--n]);
    return NULL;
}

static int fork_while_growing(void)
{
    pthread_t g;
    int i, bad = 0;

    alarm(120);     /* a deadlock ends the run with SIGALRM */
    pthread_create(&g, NULL, grower, NULL);
    for (i = 0; i < 100; i++)
    {
        pid_t pid = fork();
        if (pid == 0)
        {
            char *p = malloc(1000);     /* the child's heap works */
            _exit(p == NULL);
        }
        int st = 0;
        if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            bad++;
    }
    growing = 0;
    pthread_join(g, NULL);
    printf("fork while growing: %d of 100 children failed\n", bad);
    return bad != 0;
}

static pthread_key_t tsd_key;

static void tsd_free(void *v)
{
    void **b = v;
    int i;

    for (i = 0; i < 8; i++)
        free(b[i]);
    free(b);
}

/* Created after the library's own key: its destructor runs after the cache was flushed. */
static void *tsd_thread(void *arg)
{
    void **b = malloc(8 * sizeof *b);
    int i;

    (void)arg;
    for (i = 0; i < 8 && b != NULL; i++)
        b[i] = malloc(500);
    void *volatile q = malloc(64);
    free(q);                /* into this thread's cache: the cache is registered */
    pthread_setspecific(tsd_key, b);
    /* glibc keeps the text for an unknown errno in a per-thread buffer and
     * frees it after every destructor round */
    (void)strerror(100000);
    return NULL;
}

/*
 * Allocates only inside the C library (the failed lookup's message, kept
 * per thread), which frees it after the last destructor round.
 */
static void *freeres_thread(void *arg)
{
    (void)arg;
    (void)dlsym(RTLD_DEFAULT, "no_such_symbol_in_this_program");
    return NULL;
}

static int tsd_after_flush(void)
{
    int i;

    void *volatile q = malloc(16);
    free(q);                /* the library is set up (its key first) */
    pthread_key_create(&tsd_key, tsd_free);
    for (i = 0; i < 1000; i++)
    {
        pthread_t t;
        if (pthread_create(&t, NULL, tsd_thread, NULL) != 0)
            return 1;
        pthread_join(t, NULL);
    }
    /* threads whose only free comes after the destructor rounds (none cached a block before) */
    for (i = 0; i < 2000; i++)
    {
        pthread_t t;
        if (pthread_create(&t, NULL, freeres_thread, NULL) != 0)
            return 1;
        pthread_join(t, NULL);
    }
    printf("tsd: 3000 threads freed blocks after their cache was flushed\n");
    return 0;
}

/*
 * The override's own promises, checked directly (not compared with glibc,
 * which differs on some of them): prints one line per failure, returns the
 * number of failures.
 */
#define CORNER(cond, what) ((cond) ? 0 : (printf("corner: FAILED: %s\n", what), 1))

/* Field i of /proc/self/statm, in bytes (0: size of the address space, 1: resident); -1 if unreadable. */
static long long statm(int i)
{
    long long v[2] = { -1, -1 };
    FILE *f = fopen("/proc/self/statm", "r");

    if (f != NULL)
    {
        if (fscanf(f, "%lld %lld", &v[0], &v[1]) != 2)
            v[0] = v[1] = -1;
        fclose(f);
    }
    return v[i] < 0 ? -1 : v[i] * (long long)sysconf(_SC_PAGESIZE);
}

/*
 * Bytes mapped in the process, summed from /proc/self/maps (which qemu-user
 * also gives for the program it runs, a 32-bit one on a 64-bit kernel,
 * unlike statm); -1 if unreadable.
 */
static long long mapped(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    unsigned long long lo, hi;
    long long total = 0;
    char line[512];

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "%llx-%llx", &lo, &hi) == 2)
            total += (long long)(hi - lo);
    fclose(f);
    return total;
}

static int corner_cases(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    int bad = 0;

    /* first, while every region is of the default size (64 MiB): */
    /* an alignment larger than any region so far (1 GiB; 16 MiB in a 32-bit program) */
    size_t big_align = (size_t)1 << (sizeof(void *) == 8 ? 30 : 24);
    void *v = aligned_alloc(big_align, 4096);
    bad += CORNER(v != NULL && ((uintptr_t)v & (big_align - 1)) == 0, "aligned_alloc(big alignment, 4096)");
    if (v != NULL)
        memset(v, 1, 4096);
    free(v);
    /* a request about the size of a default region (64 MiB) gets a region of its own */
    v = malloc(((size_t)64 << 20) - 100);
    bad += CORNER(v != NULL, "malloc(64 MiB - 100)");
    free(v);

    /* calloc of a large block over dirty memory: every byte zero, the tail past the last page too */
    size_t n = ((size_t)1 << 20) + 100;
    unsigned char *d = malloc(n);
    bad += CORNER(d != NULL, "malloc(1 MiB + 100)");
    if (d != NULL)
    {
        memset(d, 0xAB, n);
        free(d);
    }
    unsigned char *z = calloc(1, n);
    size_t nonzero = 0;
    for (size_t i = 0; z != NULL && i < n; i++)
        nonzero += z[i] != 0;
    bad += CORNER(z != NULL && nonzero == 0, "calloc(1, 1 MiB + 100) is all zeros over reused memory");
    free(z);

    /* realloc(p, 0) frees p (a block too large for the thread cache) */
    void *volatile p = malloc(5000);
    bad += CORNER(p != NULL && realloc(p, 0) == NULL && malloc_usable_size(p) == 0, "realloc(p, 0) frees p");

    /* a realloc its heap cannot serve moves the block and frees the old one */
    p = malloc(5000);
    void *q = p != NULL ? realloc(p, (size_t)100 << 20) : NULL;
    bad += CORNER(q != NULL && q != p && malloc_usable_size(p) == 0, "realloc to 100 MiB frees the old block");
    free(q);

    /* failures: errno ENOMEM; posix_memalign leaves errno and *memptr alone */
    errno = 0;
    /* called through a volatile pointer: clang assumes malloc leaves errno alone and moves the store past it */
    void *(*volatile malloc_fn)(size_t) = malloc;
    void *huge = malloc_fn(SIZE_MAX / 2);
    bad += CORNER(huge == NULL && errno == ENOMEM, "malloc(SIZE_MAX / 2): NULL, errno ENOMEM");
    void *keep = &keep;
    errno = EDOM;
    bad += CORNER(posix_memalign(&keep, 64, SIZE_MAX / 2) == ENOMEM && errno == EDOM && keep == &keep,
                  "posix_memalign failure: ENOMEM, errno and *memptr unchanged");

    /* valloc: page-aligned; pvalloc: page-aligned, a whole number of pages */
    v = valloc(100);
    bad += CORNER(v != NULL && ((uintptr_t)v & (page - 1)) == 0, "valloc(100) is page-aligned");
    free(v);
    v = pvalloc(1);
    bad += CORNER(v != NULL && ((uintptr_t)v & (page - 1)) == 0 && malloc_usable_size(v) >= page,
                  "pvalloc(1) is a page-aligned page");
    free(v);

    /* a request larger than any block a region can hold (just under 8 GiB with
     * 8- or 16-byte alignment; 32 GiB with first-fit and 128 GiB with buddy at
     * 64): refused at once, ENOMEM, and nothing reserved for it (64-bit programs) */
    if (sizeof(void *) == 8)
    {
        long long vsz = statm(0);
        errno = 0;
        huge = malloc_fn((size_t)256 << 30);
        bad += CORNER(huge == NULL && errno == ENOMEM, "malloc(256 GiB): NULL, errno ENOMEM");
        bad += CORNER(vsz > 0 && statm(0) - vsz < (256ll << 20), "malloc(256 GiB) reserved no address space");
        free(huge);
    }
    {
        /* just below the largest request a region is tried for (a quarter of the address space):
         * served, or refused with nothing reserved (a buddy region for it would pass 4 GiB in a
         * 32-bit program) */
        long long vsz = mapped();
        int refused = 0;

        for (int i = 0; i < 4; i++)
        {
            void *big1 = malloc_fn(SIZE_MAX / 4 - 1000);
            refused += big1 == NULL;
            free(big1);
        }
        bad += CORNER(refused < 4 || (vsz > 0 && mapped() - vsz < (64ll << 20)),
                      "malloc(SIZE_MAX / 4 - 1000) refused four times reserved no address space");
    }

    /* free gives the pages of a large block back to the OS (not at hardening
     * full, which fills freed memory), beyond the 4 MiB it keeps for large
     * requests to come; a loop over a 1 MiB buffer reuses its pages */
    const char *level = getenv("ONEHEAP_TEST_HARDENING");
    if (level == NULL || atoi(level) < 3)
    {
        size_t big = (size_t)48 << 20;
        void (*volatile free_fn)(void *) = free;       /* (so that the compiler keeps the block and its writes) */
        volatile unsigned char *b = malloc_fn(big);
        bad += CORNER(b != NULL, "malloc(32 MiB)");
        if (b != NULL)
        {
            for (size_t i = 0; i < big; i += 1024)
                b[i] = 1;
            long long rss = statm(1);
            free_fn((void *)(uintptr_t)b);
            bad += CORNER(rss > 0 && rss - statm(1) >= (40ll << 20), "free of a written 48 MiB block returns its pages");
        }

        struct rusage before, after;
        size_t buf = (size_t)1 << 20;
        getrusage(RUSAGE_SELF, &before);
        for (int i = 0; i < 100; i++)
        {
            unsigned char *w = malloc_fn(buf);
            if (w != NULL)
                memset(w, i, buf);
            free_fn(w);
        }
        getrusage(RUSAGE_SELF, &after);
        /* 256 page faults a round if the pages went back each time (4 KiB pages) */
        bad += CORNER(after.ru_minflt - before.ru_minflt < 100 * (long)(buf / (size_t)page) / 4,
                      "a loop freeing and asking for a 1 MiB buffer keeps its pages");

        /* so does a realloc that moves a large block within its heap (a blocker of the same size
         * taken right after it: its neighbour, or its buddy; one that grew in place all the same
         * is not measured) */
        void *(*volatile realloc_fn)(void *, size_t) = realloc;
        size_t mid = (size_t)8 << 20;
        unsigned char *m = malloc_fn(mid), *blocker = malloc_fn(mid), *moved = NULL;
        bad += CORNER(m != NULL && blocker != NULL, "malloc(8 MiB) twice");
        if (m != NULL && blocker != NULL)
        {
            memset(m, 7, mid);
            long long rss = statm(1);
            moved = realloc_fn(m, mid + mid / 2);
            bad += CORNER(moved != NULL && moved[0] == 7 && moved[mid - 1] == 7, "realloc(8 MiB -> 12 MiB) keeps the data");
            if (moved != m)
                bad += CORNER(rss > 0 && statm(1) - rss < (4ll << 20), "a realloc that moved 8 MiB gives them back");
            else
                printf("realloc(8 MiB -> 12 MiB) grew in place: page return not measured\n");
            free_fn(moved != NULL ? moved : m);
        }
        free_fn(blocker);
    }

    printf("corner cases: %d failed\n", bad);
    return bad != 0;
}

/*
 * A new thread whose own heap cannot get a region (the address-space limit
 * leaves room for its stack only) takes its blocks from the heap the main
 * thread grew: malloc, calloc, aligned_alloc and realloc succeed there and
 * keep errno.
 */
static void *elsewhere_thread(void *arg)
{
    void *(*volatile ma)(size_t) = malloc;
    void *(*volatile ca)(size_t, size_t) = calloc;
    void *(*volatile al)(size_t, size_t) = aligned_alloc;
    void *(*volatile re)(void *, size_t) = realloc;
    int *bad = arg;

    for (int k = 0; k < 4; k++)
    {
        size_t n = (size_t)8 << 20;
        void *p;

        errno = 1234;
        p = k == 0 ? ma(n) : k == 1 ? ca(1, n) : k == 2 ? al(4096, n) : re(NULL, n);
        if (p == NULL || errno != 1234)
        {
            printf("errno: call %d of a thread served by another heap: %p, errno %d\n", k, p, errno);
            (*bad)++;
        }
        free(p);
    }
    return NULL;
}

static int errno_elsewhere(void)
{
    struct rlimit rl;
    unsigned long pages = 0;
    pthread_attr_t at;
    pthread_t t;
    FILE *f;
    int bad = 0;

    free(malloc(16));       /* the main thread's heap has its region, with room for the thread's blocks */
    f = fopen("/proc/self/statm", "r");
    if (f == NULL || fscanf(f, "%lu", &pages) != 1)
    {
        printf("errno: served elsewhere not tried (no /proc/self/statm)\n");
        if (f != NULL)
            fclose(f);
        return 0;
    }
    fclose(f);
    /* Room for the thread's stack, not for a region that serves 8 MiB (a
     * limit already that tight, as after errno_kept()'s growth, stays). */
    rl.rlim_cur = rl.rlim_max = pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)4 << 20);
    (void)setrlimit(RLIMIT_AS, &rl);
    if (pthread_attr_init(&at) != 0 || pthread_attr_setstacksize(&at, (size_t)256 << 10) != 0)
    {
        return 0;
    }
    if ((errno = pthread_create(&t, &at, elsewhere_thread, &bad)) != 0)
    {
        printf("errno: served elsewhere not tried (no thread under the limit: %s)\n", strerror(errno));
        return 0;
    }
    pthread_join(t, NULL);
    printf("errno: 4 calls of a thread served by another heap%s\n", bad ? " FAILED" : "");
    return bad;
}

/*
 * errno kept where it must be (run under an address-space limit that
 * refuses the usual 64 MiB region, so that regions are added after a
 * refusal): posix_memalign, on success and failure alike, free of a
 * large block whose pages are locked (the OS refuses to take them back),
 * and (last: it lowers the limit) allocations a thread takes from another
 * heap because its own cannot grow. The calls go through volatile
 * pointers: the compiler assumes they keep errno and would not read it
 * again.
 */
static int errno_kept(void)
{
    int (*volatile pm)(void **, size_t, size_t) = posix_memalign;
    void (*volatile fr)(void *) = free;
    static void *keep[400];
    size_t n = (size_t)5 << 20;
    unsigned char *big;
    int i, bad = 0, rc = 0;

    for (i = 0; i < 400 && rc == 0; i++)
    {
        errno = 1234;
        rc = pm(&keep[i], 64, (size_t)1 << 20);
        if (errno != 1234)
        {
            printf("errno: posix_memalign #%d (result %d) changed errno to %d\n", i, rc, errno);
            bad++;
            break;
        }
        if (rc != 0)
            keep[i] = NULL;
    }
    printf("errno: %d posix_memalign calls of 1 MiB\n", i);
    while (i-- > 0)
        free(keep[i]);
    big = malloc(n);
    if (big == NULL)
        return bad + 1;
    memset(big, 1, n);
    if (mlock(big, n) != 0)
    {
        printf("errno: free of locked pages not tried (mlock refused)\n");
        free(big);
        return bad + errno_elsewhere();
    }
    errno = 1234;
    fr(big);
    if (errno != 1234)
    {
        printf("errno: free of a block with locked pages changed errno to %d\n", errno);
        bad++;
    }
    (void)munlock(big, n);
    return bad + errno_elsewhere();
}

/*
 * Stands in for the C library's (the executable exports it): allocates
 * first, then hands over. Nothing else about the program changes.
 */
static int cxa_calls, cxa_served;

int __cxa_atexit(void (*fn)(void *), void *arg, void *dso)
{
    int (*real)(void (*)(void *), void *, void *);
    void *p = malloc(40);

    cxa_calls++;
    cxa_served += p != NULL;
    free(p);
    *(void **)&real = dlsym(RTLD_NEXT, "__cxa_atexit");
    return real(fn, arg, dso);
}

static int startup(void)
{
    free(malloc(1));
    printf("startup: every allocation made while an exit handler was registered was served: %s\n",
           cxa_served == cxa_calls ? "yes" : "no");
    return cxa_served == cxa_calls ? 0 : 1;
}

int main(int argc, char **argv)
{
    pthread_t t[THREADS];
    uintptr_t i;

    if (argc > 1 && strcmp(argv[1], "fork") == 0)
        return fork_while_growing();
    if (argc > 1 && strcmp(argv[1], "tsd") == 0)
        return tsd_after_flush();
    if (argc > 1 && strcmp(argv[1], "corner") == 0)
        return corner_cases();
    if (argc > 1 && strcmp(argv[1], "errno") == 0)
        return errno_kept();
    if (argc > 1 && strcmp(argv[1], "startup") == 0)
        return startup();
    if (argc > 2 && strcmp(argv[1], "big") == 0)
    {
        size_t n = (size_t)strtoull(argv[2], NULL, 10) << 20;
        unsigned char *b = malloc(n);
        if (b == NULL)
            return 1;
        memset(b, 1, n);
        free(b);
        return 0;
    }

    for (i = 0; i < SLOTS; i++)
    {
        pthread_mutex_init(&slots[i].lock, NULL);
    }
    for (i = 0; i < THREADS; i++)
    {
        pthread_create(&t[i], NULL, worker, (void *)(i + 1));
    }
    for (i = 0; i < THREADS; i++)
    {
        pthread_join(t[i], NULL);
    }
    for (i = 0; i < SLOTS; i++)
    {
        if (slots[i].p != NULL && !intact(&slots[i]))
        {
            failures++;
        }
        free(slots[i].p);
    }
    printf("malloc stress: %d failures\n", failures);

    /* C and POSIX corner cases, printed: preload_test.sh compares with glibc's output */
    void *pm = NULL;
    int e2 = posix_memalign(&pm, 2, 16);        /* not a multiple of sizeof(void *) */
    int e24 = posix_memalign(&pm, 24, 16);      /* not a power of two */
    int e64 = posix_memalign(&pm, 64, 16);
    printf("posix_memalign align 2: %d, align 24: %d, align 64: %d\n", e2, e24, e64);
    printf("posix_memalign align 64: aligned %d\n", pm != NULL && ((uintptr_t)pm & 63) == 0);
    free(pm);
    volatile size_t odd = 24;                  /* hidden from the compiler's check of the alignment */
    void *volatile ma = memalign(odd, 100);     /* rounded up to 32, as glibc does */
    printf("memalign(24, 100): %s, 32-aligned %d\n", ma != NULL ? "a block" : "NULL",
           ma != NULL && ((uintptr_t)ma & 31) == 0);
    free(ma);
    return failures != 0;
}
