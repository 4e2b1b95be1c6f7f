/*
 * row-bench.c - how fast this machine updates random rows of a matrix the
 * size of a model's output matrix: the memory traffic a word2vec kernel
 * cannot avoid, since every noise word is a random row that is read and
 * written back.
 *
 * Usage: row-bench ROWS DIM [THREADS] [UPDATES_PER_THREAD]
 * Each thread adds a constant vector to UPDATES_PER_THREAD random rows
 * (default 4,000,000), fetching the rows eight updates ahead as the
 * trainer does, and prints one JSON line: updates/s over all threads and
 * the bytes moved (each row read and written back).
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct job {
    float *m;
    size_t rows, dim, updates;
    uint64_t seed;
    double checksum;
} job;

static uint64_t next(uint64_t *s)
{
    uint64_t x = *s += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static size_t pick(uint64_t *s, size_t rows)
{
    return (size_t)(((next(s) >> 32) * (uint64_t)rows) >> 32);
}

static void *run(void *arg)
{
    job *j = arg;
    enum { AHEAD = 8 };
    size_t ring[AHEAD];
    uint64_t s = j->seed;
    for (size_t i = 0; i < AHEAD; i++)
        ring[i] = pick(&s, j->rows);
    float v[4096];
    for (size_t k = 0; k < j->dim; k++)
        v[k] = 1e-7f * (float)(k + 1);
    for (size_t u = 0; u < j->updates; u++) {
        size_t r = ring[u % AHEAD], nr = pick(&s, j->rows);
        ring[u % AHEAD] = nr;
        const char *p = (const char *)(j->m + nr * j->dim);
        for (size_t b = 0; b < j->dim * sizeof(float); b += 64)
            __builtin_prefetch(p + b, 1, 3);
        float *row = j->m + r * j->dim;
        for (size_t k = 0; k < j->dim; k++)
            row[k] += v[k];
    }
    j->checksum = j->m[0];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: row-bench ROWS DIM [THREADS] [UPDATES]\n");
        return 2;
    }
    size_t rows = strtoul(argv[1], NULL, 10), dim = strtoul(argv[2], NULL, 10);
    size_t threads = argc > 3 ? strtoul(argv[3], NULL, 10) : 1;
    size_t updates = argc > 4 ? strtoul(argv[4], NULL, 10) : 4000000;
    if (rows == 0 || dim == 0 || dim > 4096 || threads == 0 || threads > 64) {
        fprintf(stderr, "row-bench: bad arguments\n");
        return 2;
    }
    float *m = aligned_alloc(64, (rows * dim * sizeof(float) + 63) / 64 * 64);
    if (m == NULL) {
        fprintf(stderr, "row-bench: out of memory\n");
        return 1;
    }
    memset(m, 0, rows * dim * sizeof(float));
    job jobs[64];
    pthread_t tid[64];
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (size_t t = 0; t < threads; t++) {
        jobs[t] = (job){m, rows, dim, updates, 1234567 + 7919 * t, 0};
        pthread_create(&tid[t], NULL, run, &jobs[t]);
    }
    for (size_t t = 0; t < threads; t++)
        pthread_join(tid[t], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double sec = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
    double total = (double)updates * (double)threads;
    printf("{\"rows\":%zu,\"dim\":%zu,\"threads\":%zu,\"updates_per_s\":%.0f,"
           "\"gb_per_s\":%.2f,\"seconds\":%.3f}\n", rows, dim, threads,
           total / sec, total * (double)dim * 4.0 * 2.0 / sec / 1e9, sec);
    free(m);
    return 0;
}
