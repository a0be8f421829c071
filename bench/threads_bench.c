/*
 * threads_bench.c - allocator throughput with 1..N threads: each thread keeps
 * a ring of 64 live blocks (16..512 bytes) and replaces one per step. Run it
 * plain (glibc) and with LD_PRELOAD=liboneheap-malloc.so to compare; see
 * bench/threads_bench.sh. Wall-clock figures: indicative only on a shared
 * machine.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RING 64

static long ops;

static void *worker(void *arg)
{
    unsigned long long x = 0x9E3779B97F4A7C15ull * ((uintptr_t)arg + 1);
    void *ring[RING] = { 0 };
    long i;

    for (i = 0; i < ops; i++)
    {
        unsigned k = (unsigned)(i % RING);

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        free(ring[k]);
        ring[k] = malloc(16 + (size_t)(x % 497));
        if (ring[k] == NULL)
        {
            abort();
        }
        *(volatile char *)ring[k] = 1;
    }
    for (i = 0; i < RING; i++)
    {
        free(ring[i]);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1;
    pthread_t t[64];
    struct timespec a, b;
    int i;

    ops = argc > 2 ? atol(argv[2]) : 2000000;
    if (n < 1 || n > 64)
    {
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (i = 0; i < n; i++)
    {
        pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
    }
    for (i = 0; i < n; i++)
    {
        pthread_join(t[i], NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%d %.3f\n", n, (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
    return 0;
}
