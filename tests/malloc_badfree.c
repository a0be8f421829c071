/*
 * malloc_badfree.c - bad frees through the malloc override (run by
 * preload_test.sh with liboneheap-malloc.so preloaded): a double free of a
 * small block (caught in the thread cache), a double free of a large block
 * (caught by the heap), a foreign pointer and an interior pointer. Each must
 * be reported once, nothing may crash, and the heap must pass its check at
 * exit. Pointers go through a volatile slot so the compiler cannot see the
 * mistakes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *volatile slot;

/* Free what the slot holds: the compiler cannot tell what that is. */
static __attribute__((noinline)) void free_slot(void)
{
    free(slot);
}

int main(void)
{
    char *small = malloc(40);
    char *large = malloc(3000);
    char *other = malloc(100);
    int local = 0;

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
