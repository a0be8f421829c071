/*
 * malloc_badfree.c - bad frees through the malloc override (run by
 * preload_test.sh with liboneheap-malloc.so preloaded): a double free of a
 * small block (caught in the thread cache), the same by another thread than
 * the one whose cache holds the block (which must not hand it out twice), a
 * realloc of a freed small block (in the thread cache: refused), a double
 * free of a large block (caught by the heap), a foreign pointer and an
 * interior pointer. Each must
 * be reported once, nothing may crash, and the heap must pass its check at
 * exit. Pointers go through a volatile slot so the compiler cannot see the
 * mistakes.
 *   malloc_badfree overrun   prints a line (buffered: stdout is a file),
 *                            then writes past a block into the next one's
 *                            header and returns 0: with
 *                            OS_MEMHEAP_CHECK_ON_EXIT=1 the exit status is 99
 *                            and the line must still reach the file.
 *   malloc_badfree nearkey   (thread cache on) a live block whose data
 *                            equals the key a cached block would carry in
 *                            all but one of its 64 bits is freed and
 *                            reallocated without a report: the key is all
 *                            of them, in a 32-bit program too; the
 *                            block, handed out again, carries none of it.
 *   malloc_badfree cachewrite (thread cache on) writes into cached
 *                            blocks: each reported, no such block handed out.
 */
#include <stdint.h>
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *volatile slot;

/* Free what the slot holds: the compiler cannot tell what that is. */
static __attribute__((noinline)) void free_slot(void)
{
    free(slot);
}

/* Free the slot again from another thread, then allocate the same size there. */
static void *free_slot_elsewhere(void *unused)
{
    (void)unused;
    free_slot();
    return malloc(48);
}

static int overrun(void)
{
    char *a = malloc(3000);
    static char *volatile b;    /* kept, so the compiler cannot drop the allocation */

    b = malloc(3000);
    if (a == NULL || b == NULL)
    {
        return 1;
    }
    printf("written before the failed check\n");
    slot = a;
    memset(slot, 0x55, malloc_usable_size(a) + 16);     /* over b's header */
    return 0;
}

/* The key's words (8 bytes) are learned from a cached block: a deliberate read of freed memory. */
static int nearkey(void)
{
    enum { WORDS = 8 / sizeof(void *) };
    void **cached = malloc(48), **live = malloc(48), **again;
    uintptr_t secret[WORDS];
    unsigned i;

    if (cached == NULL || live == NULL)
    {
        return 1;
    }
    slot = cached;
    free(cached);
    for (i = 0; i < WORDS; i++)
    {
        secret[i] = (uintptr_t)((void *volatile *)slot)[1 + i] ^ (uintptr_t)slot;
        live[1 + i] = (void *)((uintptr_t)live ^ secret[i]);
    }
    live[WORDS] = (void *)((uintptr_t)live[WORDS] ^ ((uintptr_t)1 << (sizeof(uintptr_t) * 8 - 1)));
    again = realloc(live, 40);          /* live: resized in place or moved, not refused */
    if (again == NULL)
    {
        return 2;
    }
    slot = again;
    free_slot();                        /* live: freed, not reported */
    again = malloc(48);                 /* the cached block, handed out again: */
    for (i = 0; again == cached && i < WORDS; i++)
    {
        if (again[1 + i] != NULL)
        {
            return 3;                   /* ... carrying part of its key */
        }
    }
    return 0;
}

/*
 * Writes into blocks in the thread cache: the first 16 bytes overwritten,
 * and the link alone set to name a block off the grid. Each is reported
 * once, and the block is not handed out (nor anything its link names).
 */
static int cachewrite(void)
{
    void **p = malloc(40), **q, **r;

    if (p == NULL)
    {
        return 1;
    }
    slot = p;
    free(p);
    memset(slot, 0x41, 16);
    q = malloc(40);
    r = malloc(40);
    if (q == NULL || r == NULL || q == r || (void *)q == slot || (void *)r == slot)
    {
        return 2;
    }
    slot = r;
    free(r);
    ((void *volatile *)slot)[0] = (void *)((uintptr_t)((void *volatile *)slot)[1] ^ 8u);  /* links to address 8 */
    r = malloc(40);
    if (r == NULL || (void *)r == slot || r == q)
    {
        return 3;
    }
    free(q);
    free(r);
    return 0;
}

int main(int argc, char **argv)
{
    char *small;
    char *large;
    char *other;
    int local = 0;

    if (argc > 1 && strcmp(argv[1], "overrun") == 0)
    {
        return overrun();
    }
    if (argc > 1 && strcmp(argv[1], "nearkey") == 0)
    {
        return nearkey();
    }
    if (argc > 1 && strcmp(argv[1], "cachewrite") == 0)
    {
        return cachewrite();
    }
    small = malloc(40);
    large = malloc(3000);
    other = malloc(100);

    if (small == NULL || large == NULL || other == NULL)
    {
        return 1;
    }
    memset(small, 1, 40);
    memset(large, 2, 3000);
    memset(other, 3, 100);
    slot = small;
    free(small);
    free_slot();                /* double free, small: still in the thread cache */
    {
        char *cached = malloc(48), *mine;
        pthread_t t;
        void *theirs = NULL;

        slot = cached;
        free(cached);           /* into this thread's cache */
        if (pthread_create(&t, NULL, free_slot_elsewhere, NULL) != 0 || pthread_join(t, &theirs) != 0)
        {
            return 4;
        }
        mine = malloc(48);      /* the cached block */
        if (mine == NULL || mine == theirs)
        {
            return 5;           /* one block handed out twice */
        }
        free(mine);
        free(theirs);
    }
    {
        void *(*volatile realloc_fn)(void *, size_t) = realloc;
        char *freed = malloc(40);

        slot = freed;
        free(freed);
        if (realloc_fn(slot, 80) != NULL)
        {
            return 6;           /* a freed block grown as if it were live */
        }
    }
    slot = large;
    free(large);
    free_slot();                /* double free, large: already back in the heap */
    slot = &local;
    free_slot();                /* not a heap pointer at all */
    slot = other + 16;
    free_slot();                /* inside a live block */
    if (other[0] != 3 || other[99] != 3)
    {
        return 2;               /* the live block was damaged */
    }
    free(other);
    small = malloc(40);         /* the cache still works */
    if (small == NULL)
    {
        return 3;
    }
    free(small);
    puts("done");
    return 0;
}
