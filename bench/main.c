/*
 * main.c - oneheap-bench: instruction counts and utilisation of oneheap,
 * with glibc malloc as a reference.
 *
 *   oneheap-bench [--quick] [--seed N] [--algo firstfit|buddy] oneheap|glibc WORKLOAD|all
 *   oneheap-bench [--seed N] bestfit fill
 *   oneheap-bench [--quick] [--seed N] segfit|segfit-pow2 WORKLOAD|all
 *   oneheap-bench --list
 *
 * --seed N mixes N into every workload's random seed (0, the default, gives
 * the published figures). "bestfit" is an exact best-fit reference over the
 * same arena (bestfit.c), for the fill workload's utilisation only.
 * "segfit" and "segfit-pow2" are first-fit's structure with no checks
 * (segfit.c), a reference for the speed figures; they have no realloc,
 * aligned alloc or pools, so those workloads are skipped.
 *
 * Run it under
 *   valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=F
 * and divide the Ir total of F (minus calls * the Ir of one empty window,
 * from the "empty" workload) by the "calls" the program prints. bench/run.sh
 * does all of this. Natively it is a functional check: each workload ends
 * with os_memheap_check() and a leak check, and every block's first and
 * last byte are verified; the exit status is non-zero on any failure.
 *
 * Output: one line per workload,
 *   RESULT allocator=A algo=G workload=W calls=N failed=F [util_fill=U util_refill=U util_exhaust=U ...] status=ok|FAIL
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: oneheap-bench [--quick] [--seed N] [--algo firstfit|buddy] oneheap|glibc WORKLOAD|all\n"
            "       oneheap-bench [--seed N] bestfit fill\n"
            "       oneheap-bench [--quick] [--seed N] segfit|segfit-pow2 WORKLOAD|all\n"
            "       oneheap-bench --list\n"
            "workloads:\n");
    for (size_t i = 0; i < bench_workload_count; i++)
        fprintf(f, "  %-13s %s\n", bench_workloads[i].name, bench_workloads[i].what);
}

static int parse_algo(const char *s, enum os_mem_alg *alg)
{
#ifdef OS_USING_ALG_FIRSTFIT
    if (strcmp(s, "firstfit") == 0)
    {
        *alg = OS_MEM_ALG_FIRSTFIT;
        return 0;
    }
#endif
#ifdef OS_USING_ALG_BUDDY
    if (strcmp(s, "buddy") == 0)
    {
        *alg = OS_MEM_ALG_BUDDY;
        return 0;
    }
#endif
    fprintf(stderr, "oneheap-bench: algorithm '%s' is not compiled in\n", s);
    return -1;
}

static const char *default_algo(enum os_mem_alg *alg)
{
#ifdef OS_USING_ALG_FIRSTFIT
    *alg = OS_MEM_ALG_FIRSTFIT;
    return "firstfit";
#else
    *alg = OS_MEM_ALG_BUDDY;
    return "buddy";
#endif
}

static int run_one(const struct workload *w, const struct bench_params *p,
                   const char *allocator, const char *algo)
{
    struct bench_result res;
    struct bench_params wp = *p;
    memset(&res, 0, sizeof res);
    wp.variant = w->variant;
    bench_calls = 0;
    unsigned long fail0 = bench_failures();
    unsigned long rep0 = bench_unexpected_reports();

    if (bench_fresh_heap() != 0)
        return -1;
    int rc = w->fn(&wp, &res);
    int check = bench_check_heap(1);
    int bad = rc != 0 || check != 0 || bench_failures() != fail0 ||
              bench_unexpected_reports() != rep0;

    printf("RESULT allocator=%s algo=%s workload=%s calls=%lu failed=%lu",
           allocator, p->glibc ? "-" : algo, w->name, res.calls, res.failed);
    if (res.has_util)
        printf(" util_fill=%.4f util_refill=%.4f util_exhaust=%.4f blocks_fill=%zu blocks_refill=%zu"
               " used_fill=%zu used_refill=%zu mem_total=%zu",
               res.util_fill, res.util_refill, res.util_exhaust, res.fill_blocks, res.refill_blocks,
               res.used_fill, res.used_refill, res.mem_total);
    printf(" check=%s status=%s\n", check == 0 ? "ok" : "FAIL", bad ? "FAIL" : "ok");
    fflush(stdout);
    return bad ? -1 : 0;
}

uint64_t bench_seed;

/* Does the workload use only alloc and free (what segfit has)? */
static int segfit_runs(const char *name)
{
    return strcmp(name, "realloc") != 0 && strcmp(name, "aligned") != 0 && strcmp(name, "pool_pairs") != 0;
}

int main(int argc, char **argv)
{
    struct bench_params params = { 0, 0, 0 };
    enum os_mem_alg alg;
    const char *algo = default_algo(&alg);
    const char *pos[2] = { NULL, NULL };
    int npos = 0;

    for (int i = 1; i < argc; i++)
    {
        if (strcmp(argv[i], "--quick") == 0)
            params.quick = 1;
        else if (strcmp(argv[i], "--list") == 0)
        {
            for (size_t k = 0; k < bench_workload_count; k++)
                printf("%s\n", bench_workloads[k].name);
            return 0;
        }
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
        {
            usage(stdout);
            return 0;
        }
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            bench_seed = strtoull(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--algo") == 0 && i + 1 < argc)
        {
            algo = argv[++i];
            if (parse_algo(algo, &alg) != 0)
                return 2;
        }
        else if (argv[i][0] == '-' || npos == 2)
        {
            usage(stderr);
            return 2;
        }
        else
            pos[npos++] = argv[i];
    }
    if (npos != 2)
    {
        usage(stderr);
        return 2;
    }

    enum bench_allocator a;
    if (strcmp(pos[0], "oneheap") == 0)
        a = BENCH_ONEHEAP;
    else if (strcmp(pos[0], "glibc") == 0)
    {
        a = BENCH_GLIBC;
        params.glibc = 1;
    }
    else if (strcmp(pos[0], "bestfit") == 0)
    {
        a = BENCH_BESTFIT;
        algo = "bestfit";
        if (strcmp(pos[1], "fill") != 0)
        {
            fprintf(stderr, "oneheap-bench: the best-fit reference runs the fill workload only\n");
            return 2;
        }
    }
    else if (strcmp(pos[0], "segfit") == 0 || strcmp(pos[0], "segfit-pow2") == 0)
    {
        a = pos[0][6] == '\0' ? BENCH_SEGFIT : BENCH_SEGFIT_POW2;
        algo = "segfit";
    }
    else
    {
        usage(stderr);
        return 2;
    }
    if (bench_select(a, alg) != 0)
        return 1;

    int all = strcmp(pos[1], "all") == 0;
    int found = 0, failed = 0;
    for (size_t k = 0; k < bench_workload_count; k++)
    {
        const struct workload *w = &bench_workloads[k];
        if (!all && strcmp(pos[1], w->name) != 0)
            continue;
        found = 1;
        if ((a == BENCH_SEGFIT || a == BENCH_SEGFIT_POW2) && !segfit_runs(w->name))
        {
            if (all)
                continue;
            fprintf(stderr, "oneheap-bench: segfit has no realloc, aligned alloc or pools: no '%s'\n", w->name);
            return 2;
        }
        if (run_one(w, &params, pos[0], algo) != 0)
            failed = 1;
    }
    if (!found)
    {
        fprintf(stderr, "oneheap-bench: unknown workload '%s'\n", pos[1]);
        usage(stderr);
        return 2;
    }
    return failed ? 1 : 0;
}
