/*
 * liboneheap-record.so - records every allocation of a Linux program.
 *
 *   LD_PRELOAD=liboneheap-record.so ONEHEAP_RECORD=trace.ohr program ...
 *
 * malloc and friends are interposed and forwarded to the next definition
 * (the C library's). Each call is appended to a buffer owned by the calling
 * thread; full buffers are written to the trace file as one chunk. The file
 * format is described in docs/trace-format.md.
 *
 * Ordering: every event takes a number from one global counter. A release
 * (free, and the release half of a realloc to size 0) takes its number
 * before the block is handed back to the C library, an allocation after the
 * C library returned it, so a pointer reused by another thread always has
 * its free numbered before its new allocation. Chunks of different threads
 * reach the file in any order; the reader sorts events by their numbers.
 *
 * Robustness: the recorder never allocates through malloc itself (buffers
 * come from mmap), a per-thread guard forwards any call made while the
 * recorder is active without recording it, and any failure (no file, no
 * memory for a buffer) silently stops recording rather than the program.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define TLS    __thread __attribute__((tls_model("initial-exec")))

/* ---- trace format constants (see docs/trace-format.md) ------------------ */
#define OHR_MAGIC        "OHRT"
#define OHR_VERSION      1
#define OHR_REC_THREAD   'T'
#define OHR_REC_EVENTS   'E'
#define OHR_EV_ALLOC     1
#define OHR_EV_FREE      2
#define OHR_EV_REALLOC   3
#define OHR_EV_ALIGNED   4

#define BUF_SIZE   (64 * 1024)      /* one thread's chunk payload */
#define EV_MAX     64               /* an encoded event is never longer */

/* ---- the real functions and the bootstrap buffer -------------------------- */
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void  (*real_free)(void *);
static void *(*real_memalign)(size_t, size_t);
static int   (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_pvalloc)(size_t);

/*
 * dlsym() may itself call calloc/malloc before the real functions are known.
 * Those requests are served from this static area, a bump allocator whose
 * blocks are never freed (free() ignores them, realloc() copies them out).
 * Each block is preceded by its size so that realloc knows how much to copy.
 */
static _Alignas(16) unsigned char boot_area[32 * 1024];
static size_t boot_used;

static int in_boot(const void *p)
{
    return (const unsigned char *)p >= boot_area &&
           (const unsigned char *)p < boot_area + sizeof(boot_area);
}

static void *boot_alloc(size_t size)
{
    size_t need = 16 + ((size + 15) & ~(size_t)15);
    if (size > sizeof(boot_area) || boot_used + need > sizeof(boot_area))
    {
        return NULL;
    }
    unsigned char *p = boot_area + boot_used + 16;
    memcpy(p - sizeof(size_t), &size, sizeof(size_t));
    boot_used += need;
    return p;   /* static storage: already zero */
}

static size_t boot_size(const void *p)
{
    size_t size;
    memcpy(&size, (const unsigned char *)p - sizeof(size_t), sizeof(size_t));
    return size;
}

/* ---- per-thread state ------------------------------------------------------- */
/*
 * A buffer block: one thread's pending chunk. Blocks come from mmap, are kept
 * on a global list (so that exit can flush every thread) and are recycled
 * when their thread ends. 'lock' is taken by the owner around each append and
 * by the exit flush; it is almost never contended.
 */
struct tbuf
{
    atomic_flag   lock;
    int           owned;            /* 1 while a thread uses the block */
    unsigned      thread;           /* index of the owning thread */
    uint64_t      base_seq;         /* number of the chunk's first event */
    uint64_t      prev_seq;
    uint64_t      prev_ptr;
    size_t        len;              /* payload bytes in data[] */
    char          name[16];         /* thread name last written to the file */
    struct tbuf  *next;             /* global list of blocks */
    unsigned char data[BUF_SIZE];
};

static TLS int           t_guard;       /* nonzero: inside the recorder */
static TLS struct tbuf  *t_buf;
static TLS unsigned      t_thread;      /* valid when t_gen == g_gen */
static TLS unsigned      t_gen;         /* generation t_thread belongs to; 0 = none */
static TLS int           t_exited;      /* thread-exit destructor has run */

/* ---- global state ------------------------------------------------------------ */
enum { ST_UNINIT, ST_INITING, ST_READY };
static atomic_int       g_state;
static int              g_fd = -1;              /* -1: not recording */
static pthread_mutex_t  g_file_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t  g_list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tbuf     *g_bufs;                  /* every block ever mapped */
static atomic_uint_fast64_t g_seq;              /* next event number */
static atomic_uint      g_threads;              /* next thread index */
static atomic_uint      g_gen = 1;              /* bumped in a fork child */
static pthread_key_t    g_key;
static int              g_key_ok;
static char             g_path[4096];
static int              g_finished;             /* exit flush done: write directly */

/* ---- encoding ------------------------------------------------------------------- */
static unsigned char *put_uv(unsigned char *p, uint64_t v)
{
    while (v >= 0x80)
    {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

/* signed deltas as zigzag: 0, -1, 1, -2, ... -> 0, 1, 2, 3, ... */
static unsigned char *put_ptr(unsigned char *p, uint64_t *prev, uint64_t ptr)
{
    int64_t d = (int64_t)(ptr - *prev);
    *prev = ptr;
    return put_uv(p, ((uint64_t)d << 1) ^ (uint64_t)(d >> 63));
}

struct event
{
    unsigned op;
    uint64_t seq;
    uint64_t ptr;       /* ALLOC/ALIGNED: the block; FREE/REALLOC: the old block */
    uint64_t ptr2;      /* REALLOC: the new block */
    uint64_t size;
    uint64_t align;
};

/* Encode ev after a chunk state (base/prev values); returns the end. */
static unsigned char *encode(unsigned char *p, uint64_t *prev_seq, uint64_t *prev_ptr,
                             const struct event *ev)
{
    *p++ = (unsigned char)ev->op;
    p = put_uv(p, ev->seq - *prev_seq);
    *prev_seq = ev->seq;
    p = put_ptr(p, prev_ptr, ev->ptr);
    switch (ev->op)
    {
    case OHR_EV_ALLOC:
        p = put_uv(p, ev->size);
        break;
    case OHR_EV_REALLOC:
        p = put_ptr(p, prev_ptr, ev->ptr2);
        p = put_uv(p, ev->size);
        break;
    case OHR_EV_ALIGNED:
        p = put_uv(p, ev->size);
        p = put_uv(p, ev->align);
        break;
    default:
        break;
    }
    return p;
}

static void write_all(const struct iovec *iov, int n)
{
    /* the file lock keeps records whole; short writes are retried */
    struct iovec v[4];
    memcpy(v, iov, sizeof(v[0]) * (size_t)n);
    int i = 0;
    while (i < n && g_fd >= 0)
    {
        ssize_t w = writev(g_fd, v + i, n - i);
        if (w < 0)
        {
            if (errno == EINTR)
            {
                continue;
            }
            close(g_fd);    /* disk full or similar: stop recording */
            g_fd = -1;
            return;
        }
        while (i < n && (size_t)w >= v[i].iov_len)
        {
            w -= (ssize_t)v[i].iov_len;
            i++;
        }
        if (i < n)
        {
            v[i].iov_base = (char *)v[i].iov_base + w;
            v[i].iov_len -= (size_t)w;
        }
    }
}

/* A thread-name record; the caller holds no lock. */
static void write_name(unsigned thread, const char *name)
{
    unsigned char hdr[32];
    size_t n = strnlen(name, 15);
    unsigned char *p = hdr;
    *p++ = OHR_REC_THREAD;
    p = put_uv(p, thread);
    p = put_uv(p, n);
    struct iovec iov[2] = { { hdr, (size_t)(p - hdr) }, { (void *)name, n } };
    pthread_mutex_lock(&g_file_lock);
    write_all(iov, 2);
    pthread_mutex_unlock(&g_file_lock);
}

/* Write b's pending chunk, if any, and empty it. The caller holds b->lock. */
static void flush_buf(struct tbuf *b)
{
    if (b->len == 0)
    {
        return;
    }
    unsigned char hdr[32];
    unsigned char *p = hdr;
    *p++ = OHR_REC_EVENTS;
    p = put_uv(p, b->thread);
    p = put_uv(p, b->base_seq);
    p = put_uv(p, b->len);
    struct iovec iov[2] = { { hdr, (size_t)(p - hdr) }, { b->data, b->len } };
    pthread_mutex_lock(&g_file_lock);
    write_all(iov, 2);
    pthread_mutex_unlock(&g_file_lock);
    b->len = 0;
}

static void lock_buf(struct tbuf *b)
{
    while (atomic_flag_test_and_set_explicit(&b->lock, memory_order_acquire))
    {
        sched_yield();
    }
}

static void unlock_buf(struct tbuf *b)
{
    atomic_flag_clear_explicit(&b->lock, memory_order_release);
}

/* The calling thread's name, and a name record when it changed. */
static void check_name(struct tbuf *b)
{
    char name[17] = { 0 };
    if (prctl(PR_GET_NAME, name, 0, 0, 0) != 0)
    {
        return;
    }
    if (strncmp(name, b->name, 16) != 0)
    {
        memcpy(b->name, name, 16);
        write_name(b->thread, name);
    }
}

/* A block for the calling thread: a recycled one or a new mapping. */
static struct tbuf *get_buf(void)
{
    pthread_mutex_lock(&g_list_lock);
    struct tbuf *b;
    for (b = g_bufs; b; b = b->next)
    {
        if (!b->owned)
        {
            break;
        }
    }
    if (!b)
    {
        void *m = mmap(NULL, sizeof(struct tbuf), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m != MAP_FAILED)
        {
            b = m;      /* zero-filled: lock clear, len 0 */
            b->next = g_bufs;
            g_bufs = b;
        }
    }
    if (b)
    {
        b->owned = 1;
        b->len = 0;
        memset(b->name, 0, sizeof(b->name));
    }
    pthread_mutex_unlock(&g_list_lock);
    return b;
}

/* Thread exit: write the thread's chunk and give its block back. */
static void thread_end(void *arg)
{
    (void)arg;
    struct tbuf *b = t_buf;
    t_guard++;
    if (b)
    {
        lock_buf(b);
        flush_buf(b);
        b->owned = 0;
        unlock_buf(b);
        t_buf = NULL;
    }
    t_exited = 1;   /* later events of this thread go straight to the file */
    t_guard--;
}

/* An event of a thread without a block: one chunk of one event, written now. */
static void write_direct(unsigned thread, const struct event *ev)
{
    unsigned char hdr[32], body[EV_MAX];
    uint64_t prev_seq = ev->seq, prev_ptr = 0;
    size_t n = (size_t)(encode(body, &prev_seq, &prev_ptr, ev) - body);
    unsigned char *p = hdr;
    *p++ = OHR_REC_EVENTS;
    p = put_uv(p, thread);
    p = put_uv(p, ev->seq);
    p = put_uv(p, n);
    struct iovec iov[2] = { { hdr, (size_t)(p - hdr) }, { body, n } };
    pthread_mutex_lock(&g_file_lock);
    write_all(iov, 2);
    pthread_mutex_unlock(&g_file_lock);
}

/* Make sure the calling thread has an index (and, unless it ended, a block). */
static void thread_begin(void)
{
    unsigned gen = atomic_load(&g_gen);
    if (t_gen == gen)
    {
        return;
    }
    t_gen = gen;
    t_thread = atomic_fetch_add(&g_threads, 1);
    t_buf = NULL;
    if (t_exited)
    {
        return;
    }
    struct tbuf *b = get_buf();
    if (b)
    {
        b->thread = t_thread;
        t_buf = b;
        check_name(b);
        if (g_key_ok)
        {
            pthread_setspecific(g_key, b);  /* arms thread_end() */
        }
    }
}

static void record(struct event *ev)
{
    if (g_fd < 0)
    {
        return;
    }
    thread_begin();
    struct tbuf *b = t_buf;
    if (!b || g_finished)
    {
        write_direct(t_thread, ev);
        return;
    }
    lock_buf(b);
    if (b->len > BUF_SIZE - EV_MAX)
    {
        flush_buf(b);
        check_name(b);  /* names set after the thread started show up here */
    }
    if (b->len == 0)
    {
        b->base_seq = b->prev_seq = ev->seq;
        b->prev_ptr = 0;
    }
    b->len = (size_t)(encode(b->data + b->len, &b->prev_seq, &b->prev_ptr, ev) - b->data);
    unlock_buf(b);
}

static uint64_t next_seq(void)
{
    /* one counter: its modification order agrees with every happens-before
       relation between calls, which is all the ordering argument needs */
    return atomic_fetch_add_explicit(&g_seq, 1, memory_order_relaxed);
}

/* ---- file, exit and fork ----------------------------------------------------------- */
static void write_header(void)
{
    unsigned char hdr[8] = { 'O', 'H', 'R', 'T', OHR_VERSION, 0, (unsigned char)sizeof(void *), 0 };
    struct iovec iov = { hdr, sizeof(hdr) };
    write_all(&iov, 1);
}

static void open_trace(const char *path)
{
    g_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (g_fd >= 0)
    {
        write_header();
    }
}

/* Flush every thread's pending chunk (at exit and before a fork). */
static void flush_all(void)
{
    pthread_mutex_lock(&g_list_lock);
    for (struct tbuf *b = g_bufs; b; b = b->next)
    {
        lock_buf(b);
        flush_buf(b);
        unlock_buf(b);
    }
    pthread_mutex_unlock(&g_list_lock);
}

static void fork_prepare(void)
{
    t_guard++;
    flush_all();                    /* the child must not inherit pending events */
    pthread_mutex_lock(&g_list_lock);
    pthread_mutex_lock(&g_file_lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&g_file_lock);
    pthread_mutex_unlock(&g_list_lock);
    t_guard--;
}

/*
 * The child records into TRACE.<pid>, a complete trace of its own: new
 * header, numbers from 0, thread indexes from 0. The parent's blocks are
 * abandoned (other threads of the parent may have held their locks).
 */
static void fork_child(void)
{
    pthread_mutex_init(&g_file_lock, NULL);
    pthread_mutex_init(&g_list_lock, NULL);
    g_bufs = NULL;
    atomic_store(&g_seq, 0);
    atomic_store(&g_threads, 0);
    atomic_fetch_add(&g_gen, 1);
    t_buf = NULL;
    if (g_fd >= 0)
    {
        close(g_fd);
        g_fd = -1;
        char path[sizeof(g_path) + 24];
        snprintf(path, sizeof(path), "%s.%ld", g_path, (long)getpid());
        open_trace(path);
    }
    t_guard--;
}

__attribute__((destructor)) static void at_exit(void)
{
    t_guard++;
    flush_all();
    g_finished = 1;     /* frees after this point are written one by one */
    t_guard--;
}

/* ---- initialisation ------------------------------------------------------------------ */
/*
 * The next definition of `name` into function pointer fp. ISO C has no
 * conversion from dlsym()'s object pointer to a function pointer; POSIX
 * guarantees that the representations agree, so the bytes are copied.
 */
#define RESOLVE(fp, name)                                                                            \
    do                                                                                               \
    {                                                                                                \
        void *sym_ = dlsym(RTLD_NEXT, name);                                                         \
        _Static_assert(sizeof(fp) == sizeof(sym_), "function and object pointers differ in size");  \
        memcpy(&(fp), &sym_, sizeof(fp));                                                            \
    } while (0)

static void resolve(void)
{
    RESOLVE(real_malloc, "malloc");
    RESOLVE(real_calloc, "calloc");
    RESOLVE(real_realloc, "realloc");
    RESOLVE(real_free, "free");
    RESOLVE(real_memalign, "memalign");
    RESOLVE(real_posix_memalign, "posix_memalign");
    RESOLVE(real_aligned_alloc, "aligned_alloc");
    RESOLVE(real_valloc, "valloc");
    RESOLVE(real_pvalloc, "pvalloc");
}

/*
 * The first process of a recording writes ONEHEAP_RECORD; it leaves its pid
 * in ONEHEAP_RECORD_PID so that programs it starts (fork + exec) write
 * ONEHEAP_RECORD.<pid> instead of truncating its file.
 */
static void init(void)
{
    int expect = ST_UNINIT;
    if (!atomic_compare_exchange_strong(&g_state, &expect, ST_INITING))
    {
        while (atomic_load(&g_state) != ST_READY)
        {
            sched_yield();      /* another thread is initialising */
        }
        return;
    }
    t_guard++;
    resolve();
    const char *path = getenv("ONEHEAP_RECORD");
    if (path && *path && strlen(path) < sizeof(g_path))
    {
        strcpy(g_path, path);
        const char *owner = getenv("ONEHEAP_RECORD_PID");
        if (owner && atol(owner) != (long)getpid())
        {
            char own[sizeof(g_path) + 24];
            snprintf(own, sizeof(own), "%s.%ld", g_path, (long)getpid());
            open_trace(own);
        }
        else
        {
            open_trace(g_path);
        }
        if (g_fd >= 0)
        {
            g_key_ok = pthread_key_create(&g_key, thread_end) == 0;
            pthread_atfork(fork_prepare, fork_parent, fork_child);
        }
    }
    t_guard--;
    atomic_store(&g_state, ST_READY);
}

/* Runs before main(), when no lock of the C library is held. */
__attribute__((constructor)) static void at_start(void)
{
    if (atomic_load(&g_state) != ST_READY)
    {
        init();
    }
    if (g_fd >= 0 && !getenv("ONEHEAP_RECORD_PID"))
    {
        char pid[24];
        snprintf(pid, sizeof(pid), "%ld", (long)getpid());
        t_guard++;
        setenv("ONEHEAP_RECORD_PID", pid, 0);
        t_guard--;
    }
}

/* Nonzero if this call must only be forwarded (recorder busy or not ready). */
static int enter(void)
{
    if (atomic_load_explicit(&g_state, memory_order_acquire) != ST_READY)
    {
        if (atomic_load(&g_state) == ST_INITING && t_guard)
        {
            return 1;   /* a call made by dlsym() during init */
        }
        init();
    }
    if (t_guard || g_fd < 0)
    {
        return 1;
    }
    t_guard++;
    return 0;
}

static void leave(void)
{
    t_guard--;
}

/* ---- the interposed functions ---------------------------------------------------------- */
static void log_alloc(void *p, size_t size)
{
    struct event ev = { OHR_EV_ALLOC, next_seq(), (uintptr_t)p, 0, size, 0 };
    record(&ev);
}

static void log_aligned(void *p, size_t align, size_t size)
{
    struct event ev = { OHR_EV_ALIGNED, next_seq(), (uintptr_t)p, 0, size, align };
    record(&ev);
}

EXPORT void *malloc(size_t size)
{
    if (enter())
    {
        return real_malloc ? real_malloc(size) : boot_alloc(size);
    }
    void *p = real_malloc(size);
    if (p)
    {
        log_alloc(p, size);
    }
    leave();
    return p;
}

EXPORT void *calloc(size_t n, size_t size)
{
    if (enter())
    {
        if (real_calloc)
        {
            return real_calloc(n, size);
        }
        return (size && n > SIZE_MAX / size) ? NULL : boot_alloc(n * size);
    }
    void *p = real_calloc(n, size);
    if (p)
    {
        log_alloc(p, n * size);
    }
    leave();
    return p;
}

EXPORT void free(void *p)
{
    if (!p || in_boot(p))
    {
        return;
    }
    if (enter())
    {
        if (real_free)
        {
            real_free(p);
        }
        return;
    }
    struct event ev = { OHR_EV_FREE, next_seq(), (uintptr_t)p, 0, 0, 0 };
    record(&ev);    /* numbered before the block can be reused */
    real_free(p);
    leave();
}

EXPORT void *realloc(void *p, size_t size)
{
    if (p && in_boot(p))
    {
        /* a bootstrap block moves to the real heap; it was never recorded */
        void *q = malloc(size);
        if (q)
        {
            size_t old = boot_size(p);
            memcpy(q, p, old < size ? old : size);
        }
        return q;
    }
    if (enter())
    {
        return real_realloc ? real_realloc(p, size) : NULL;
    }
    void *q;
    if (p && size == 0)
    {
        /* the C library frees p: record it as the free it is */
        struct event ev = { OHR_EV_FREE, next_seq(), (uintptr_t)p, 0, 0, 0 };
        record(&ev);
        q = real_realloc(p, size);
        if (q)
        {
            log_alloc(q, 0);
        }
    }
    else
    {
        q = real_realloc(p, size);
        if (q && p)
        {
            struct event ev = { OHR_EV_REALLOC, next_seq(), (uintptr_t)p, (uintptr_t)q, size, 0 };
            record(&ev);
        }
        else if (q)
        {
            log_alloc(q, size);
        }
        /* q NULL, size > 0: the request failed and p is untouched: nothing happened */
    }
    leave();
    return q;
}

EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
    {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, n * size);
}

EXPORT void *memalign(size_t align, size_t size)
{
    if (enter())
    {
        return real_memalign ? real_memalign(align, size) : NULL;
    }
    void *p = real_memalign(align, size);
    if (p)
    {
        log_aligned(p, align, size);
    }
    leave();
    return p;
}

EXPORT void *aligned_alloc(size_t align, size_t size)
{
    if (enter())
    {
        return real_aligned_alloc ? real_aligned_alloc(align, size) : NULL;
    }
    void *p = real_aligned_alloc(align, size);
    if (p)
    {
        log_aligned(p, align, size);
    }
    leave();
    return p;
}

EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
    if (enter())
    {
        return real_posix_memalign ? real_posix_memalign(out, align, size) : ENOMEM;
    }
    int rc = real_posix_memalign(out, align, size);
    if (rc == 0 && *out)
    {
        log_aligned(*out, align, size);
    }
    leave();
    return rc;
}

EXPORT void *valloc(size_t size)
{
    if (enter())
    {
        return real_valloc ? real_valloc(size) : NULL;
    }
    void *p = real_valloc(size);
    if (p)
    {
        log_aligned(p, (size_t)sysconf(_SC_PAGESIZE), size);
    }
    leave();
    return p;
}

EXPORT void *pvalloc(size_t size)
{
    if (enter())
    {
        return real_pvalloc ? real_pvalloc(size) : NULL;
    }
    void *p = real_pvalloc(size);
    if (p)
    {
        /* pvalloc rounds the size up to whole pages: that is the request */
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        log_aligned(p, page, size ? (size + page - 1) & ~(page - 1) : page);
    }
    leave();
    return p;
}
