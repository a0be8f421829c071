/*
 * replay_main.c - runs a fuzz target over saved inputs without libFuzzer,
 * so the committed corpus replays under any compiler as an ordinary test.
 *
 * Usage: fuzz_xxx_replay PATH...   (each PATH is a file or a directory,
 * whose regular files are replayed in name order). A target that finds a
 * problem aborts, which fails the test; an empty set of inputs fails too,
 * so a mistyped corpus path cannot pass.
 */
#if defined(__unix__) || defined(__APPLE__)
#define _POSIX_C_SOURCE 200809L
/* 64-bit directory offsets in a 32-bit build (readdir would fail with
 * EOVERFLOW on a file system whose offsets are hashes, for one under an
 * emulator such as qemu-i386) */
#define _FILE_OFFSET_BITS 64
#endif
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long replayed;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
    {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf != NULL && (got = fread(buf + len, 1, cap - len, f)) > 0)
    {
        len += got;
        if (len == cap)
        {
            uint8_t *bigger = realloc(buf, cap * 2);
            if (bigger == NULL)
            {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf == NULL)
    {
        fprintf(stderr, "replay: out of memory reading %s\n", path);
        return 1;
    }
    if (getenv("REPLAY_VERBOSE") != NULL)
    {
        fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    }
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    replayed++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
    {
        fprintf(stderr, "replay: cannot open directory %s\n", dir);
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
    {
        size_t nlen = strlen(e->d_name);
        if (e->d_name[0] == '.' || (nlen > 3 && strcmp(e->d_name + nlen - 3, ".md") == 0))
        {
            continue;   /* hidden files and the directory's notes are not inputs */
        }
        if (n == cap)
        {
            cap = cap ? cap * 2 : 64;
            char **bigger = realloc(names, cap * sizeof *names);
            if (bigger == NULL)
            {
                rc = 1;
                break;
            }
            names = bigger;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        if (names[n] == NULL)
        {
            rc = 1;
            break;
        }
        snprintf(names[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (n > 0)
    {
        qsort(names, n, sizeof *names, cmp_names);
    }
    for (size_t i = 0; i < n; i++)
    {
        struct stat st;
        if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
        {
            rc = run_file(names[i]);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0;
    for (int i = 1; i < argc && rc == 0; i++)
    {
        struct stat st;
        if (stat(argv[i], &st) != 0)
        {
            fprintf(stderr, "replay: %s does not exist\n", argv[i]);
            return 1;
        }
        rc = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]);
    }
    if (rc == 0 && replayed == 0)
    {
        fprintf(stderr, "replay: no inputs\n");
        return 1;
    }
    if (rc == 0)
    {
        printf("replayed %lu inputs\n", replayed);
    }
    return rc;
}
