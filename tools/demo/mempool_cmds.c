/*
 * mempool_cmds.c - memory-pool commands of the host shell:
 *
 *   show_mempool    list every pool: name, block size, total, free, peak
 *   mempool_sample  make two pools (one on static memory, one from the
 *                   system heap), take and give back a few blocks, and
 *                   leave them for show_mempool
 */
#include <stdio.h>

#include <os_mempool.h>
#include <shell.h>

static void show_mempool(void)
{
    fflush(stdout);
    (void)os_mp_trace();
    fflush(stdout);
}
SH_CMD_EXPORT(show_mempool, show_mempool, "list every memory pool: block size, total, free, peak");

static _Alignas(16) os_uint8_t sample_mem[1024];
static os_mp_t sample_mp;
static int sample_done;

static void print_info(os_mp_t *mp, const char *name)
{
    os_mpinfo_t info;

    if (os_mp_info(mp, &info) == OS_EOK)
    {
        printf("%s: block %zu bytes, %zu blocks, %zu free, peak %zu\n", name, (size_t)info.blk_size,
               (size_t)info.blk_total_num, (size_t)info.blk_free_num, (size_t)info.blk_maxused_num);
    }
}

static void mempool_sample(void)
{
    void *blk[5];
    os_mp_t *heap_mp;
    int i;

    if (sample_done)
    {
        printf("mempool_sample: already run (see show_mempool)\n");
        return;
    }
    sample_done = 1;
    if (os_mp_init(&sample_mp, "sample_mp", sample_mem, sizeof(sample_mem), 60) != OS_EOK)
    {
        printf("mempool_sample: os_mp_init failed\n");
        return;
    }
    for (i = 0; i < 5; i++)
    {
        blk[i] = os_mp_alloc(&sample_mp, OS_NO_WAIT);
    }
    os_mp_free(&sample_mp, blk[1]);
    os_mp_free(&sample_mp, blk[3]);
    print_info(&sample_mp, "sample_mp");
    printf("sample_mp check: %s\n", os_mp_check(&sample_mp) == OS_EOK ? "OK" : "FAILED");

    heap_mp = os_mp_create("heap_mp", 16, 32);
    if (heap_mp == OS_NULL)
    {
        printf("mempool_sample: os_mp_create failed\n");
        return;
    }
    blk[0] = os_mp_alloc(heap_mp, 10);
    print_info(heap_mp, "heap_mp");
    os_mp_free(heap_mp, blk[0]);
}
SH_CMD_EXPORT(mempool_sample, mempool_sample, "make two memory pools and use a few blocks");
