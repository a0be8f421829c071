/*
 * malloc_stress.c - 4 threads allocate, reallocate and free through the C
 * library interface, handing blocks to each other (cross-thread frees), and
 * check every block's contents. Run under LD_PRELOAD=liboneheap-malloc.so.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
    pthread_t t[THREADS];
    uintptr_t i;

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
    return failures != 0;
}
