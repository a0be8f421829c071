/*
 * test_faultinject.c - allocation failure at every allocation point in
 * turn (ONEHEAP_FAULT_INJECT). A client workload that handles failure the
 * way careful code does (undo, free what it holds, report an error) runs
 * once cleanly to count its allocation points, then once per point with
 * that point failing, and once more with every point from there on
 * failing. After each run: the workload saw the failure, nothing leaked
 * (mem_used back to 0, the largest block back), the heap passes its
 * check, nothing was reported, and the data the workload still held was
 * intact up to the failure. Over every layout of algorithms, and over the
 * system heap.
 */
#include <string.h>

#include "common.h"

#ifndef OS_MEM_FAULT_INJECT
int main(void)
{
    return TEST_SKIP_CODE;
}
#else

#define REGION_SIZE (48 * 1024)

static _Alignas(64) unsigned char arena[3 * REGION_SIZE + 256];

/* ---- the client: a catalogue of records ------------------------------------- */

struct rec
{
    char       *name;
    uint32_t   *vals;
    size_t      n, cap;
    void       *buf;        /* aligned scratch buffer */
    size_t      buf_align;
    uint32_t    id;
    struct rec *next;
};

struct client
{
    void *(*alloc)(size_t n);
    void *(*aligned)(size_t align, size_t n);
    void *(*resize)(void *p, size_t n);
    void  (*release)(void *p);
    struct rec *head;
};

static void rec_free(struct client *c, struct rec *r)
{
    c->release(r->buf);
    c->release(r->vals);
    c->release(r->name);
    c->release(r);
}

static int rec_ok(const struct rec *r)
{
    for (size_t i = 0; i < r->n; i++)
    {
        if (r->vals[i] != r->id * 1000u + (uint32_t)i)
        {
            return 0;
        }
    }
    return is_aligned(r->buf, r->buf_align) && pat_ok(r->buf, r->id, 0, 96) &&
           pat_ok(r->name, r->id + 7u, 0, 24 + r->id % 40);
}

/* Append value v to r->vals, doubling the array with realloc. */
static int push_val(struct client *c, struct rec *r, uint32_t v)
{
    if (r->n == r->cap)
    {
        size_t cap = r->cap ? 2 * r->cap : 2;
        uint32_t *nv = c->resize(r->vals, cap * sizeof *nv);

        if (nv == NULL)
        {
            return -1;      /* r->vals is still r's */
        }
        r->vals = nv;
        r->cap = cap;
    }
    r->vals[r->n++] = v;
    return 0;
}

/* Build, reshape and tear down a catalogue; 0, or -1 after a failed allocation (nothing held). */
static int client_run(struct client *c)
{
    struct rec **tail = &c->head;
    int rc = -1;

    c->head = NULL;
    for (uint32_t id = 1; id <= 24; id++)
    {
        struct rec *r = c->alloc(sizeof *r);
        size_t nlen = 24 + id % 40;

        if (r == NULL)
        {
            goto out;
        }
        memset(r, 0, sizeof *r);
        r->id = id;
        *tail = r;
        tail = &r->next;
        r->name = c->alloc(nlen);
        r->buf_align = (size_t)64 << (id % 4);
        r->buf = c->aligned(r->buf_align, 96);
        if (r->name == NULL || r->buf == NULL)
        {
            goto out;
        }
        pat_fill(r->name, id + 7u, 0, nlen);
        pat_fill(r->buf, id, 0, 96);
        for (uint32_t k = 0; k < 5 + id % 20; k++)
        {
            if (push_val(c, r, id * 1000u + k) != 0)
            {
                goto out;
            }
        }
        if (id % 6 == 0)
        {
            /* drop the oldest record */
            struct rec *old = c->head;

            if (!rec_ok(old))
            {
                return -2;
            }
            c->head = old->next;
            rec_free(c, old);
        }
    }
    /* shrink every value array to fit */
    for (struct rec *r = c->head; r != NULL; r = r->next)
    {
        uint32_t *nv = c->resize(r->vals, r->n * sizeof *nv);

        if (nv == NULL)
        {
            goto out;
        }
        r->vals = nv;
        r->cap = r->n;
    }
    rc = 0;
out:
    while (c->head != NULL)
    {
        struct rec *r = c->head;

        if (r->name != NULL && r->buf != NULL && r->n == r->cap && !rec_ok(r))
        {
            return -2;      /* a complete record was damaged */
        }
        c->head = r->next;
        rec_free(c, r);
    }
    return rc;
}

/* ---- the client on a user heap, and on the system heap ---------------------- */

static os_memheap_t heap;

static void *h_alloc(size_t n) { return os_memheap_alloc(&heap, n); }
static void *h_aligned(size_t a, size_t n) { return os_memheap_aligned_alloc(&heap, a, n); }
static void *h_resize(void *p, size_t n) { return os_memheap_realloc(&heap, p, n); }
static void  h_release(void *p) { os_memheap_free(&heap, p); }

static os_meminfo_t info_of(int sys)
{
    os_meminfo_t info;

#ifdef OS_USING_SYS_HEAP
    if (sys)
    {
        os_memory_info(&info);
        return info;
    }
#endif
    (void)sys;
    os_memheap_info(&heap, &info);
    return info;
}

static os_err_t check_of(int sys)
{
#ifdef OS_USING_SYS_HEAP
    if (sys)
    {
        return os_memory_check();
    }
#endif
    (void)sys;
    return os_memheap_check(&heap);
}

static void every_point(struct client *c, int sys, const char *what)
{
    size_t points, largest = 0;
    int rc;

    check_context("%s: clean run", what);
    os_mem_fault_set(0, 0);
    rc = client_run(c);
    points = os_mem_fault_seen();
    CHECK_EQ(rc, 0);
    CHECK(points > 100);
    CHECK_EQ(info_of(sys).mem_used, 0);
    if (!sys)
    {
        largest = heap_largest_alloc(&heap);
    }
    for (int repeat = 0; repeat <= 1; repeat++)
    {
        for (size_t n = 1; n <= points; n++)
        {
            check_context("%s: point %zu of %zu fails%s", what, n, points, repeat ? ", and every later one" : "");
            os_mem_fault_set(n, repeat);
            rc = client_run(c);
            os_mem_fault_set(0, 0);
            CHECK_EQ(rc, -1);
            CHECK_EQ(info_of(sys).mem_used, 0);
            CHECK_EQ(check_of(sys), OS_EOK);
            if (!sys && (n % 16 == 0 || n == points))
            {
                CHECK_EQ(heap_largest_alloc(&heap), largest);
            }
            CHECK_REPORTS(0);
        }
    }
    check_note("%s: %zu allocation points, each failed in turn (alone, then with every later one)", what, points);
}

#ifdef OS_USING_SYS_HEAP
static void *s_alloc(size_t n) { return os_malloc(n); }
static void *s_aligned(size_t a, size_t n) { return os_aligned_malloc(a, n); }
static void *s_resize(void *p, size_t n) { return os_realloc(p, n); }
static void  s_release(void *p) { os_free(p); }
#endif

int main(void)
{
    struct client uc = { h_alloc, h_aligned, h_resize, h_release, NULL };

    hook_install();
    for (unsigned i = 0; i < test_layout_count(); i++)
    {
        const struct test_layout *l = test_layout_get(i);

        heap_open(&heap, "fi");
        for (unsigned k = 0; k < 3; k++)
        {
            heap_add_ok(&heap, arena + 64 + k * (REGION_SIZE + 40), REGION_SIZE, test_layout_alg(l, k));
        }
        every_point(&uc, 0, l->name);
        heap_close(&heap);
    }
#ifdef OS_USING_SYS_HEAP
    {
        struct client sc = { s_alloc, s_aligned, s_resize, s_release, NULL };

        os_sys_heap_init();
        CHECK_EQ(os_sys_heap_add(arena, 2 * REGION_SIZE, test_layout_alg(test_layout_mixed(), 0)), OS_EOK);
        every_point(&sc, 1, "sys heap");
    }
#endif
    hook_uninstall();
    return check_summary("test_faultinject");
}
#endif
