/*
 * util.h - private helpers shared by the library's modules: error reports,
 * checked size arithmetic, aligned allocation and atomically replaced
 * output files. Not API.
 */
#ifndef W2V_UTIL_H
#define W2V_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "w2v/error.h"

#if defined(__GNUC__)
#define W2V_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define W2V_PRINTF(f, a)
#endif

/* Cache line size used to align matrices and pad per-thread counters. */
#define W2V_ALIGN 64

/*
 * Records code and a printf-style message in err (if not NULL) and returns
 * code, so callers can write `return w2v_fail(err, W2V_ERR_IO, ...)`.
 */
int w2v_fail(w2v_error *err, int code, const char *fmt, ...) W2V_PRINTF(3, 4);

/* Out of memory, with what was being allocated. */
int w2v_fail_nomem(w2v_error *err, const char *what);

/* *out = a * b; returns 0 on overflow. */
int w2v_mul_size(size_t a, size_t b, size_t *out);

/*
 * Allocates n bytes aligned to W2V_ALIGN (n rounded up); NULL on failure or
 * n == 0. Free with w2v_free_aligned.
 */
void *w2v_alloc_aligned(size_t n);
void w2v_free_aligned(void *p);

/*
 * An output file written under a temporary name in the target's directory
 * and renamed over the target only when w2v_outfile_commit succeeds. On any
 * failure, or w2v_outfile_abort, the temporary is removed and the target is
 * left as it was.
 */
typedef struct w2v_outfile {
    FILE *fp;
    char *path;     /* the target */
    char *tmp_path; /* the temporary, same directory */
    char *buf;      /* stdio buffer, large for fast writes */
} w2v_outfile;

int w2v_outfile_open(w2v_outfile *o, const char *path, w2v_error *err);
/* Flushes, syncs, closes and renames; reports write errors (disk full). */
int w2v_outfile_commit(w2v_outfile *o, w2v_error *err);
/* Closes and removes the temporary. Safe after a failed open or commit. */
void w2v_outfile_abort(w2v_outfile *o);

/* strdup that reports failure through err. */
char *w2v_strdup(const char *s, w2v_error *err);

/* The number of online cores, at least 1: what "0 threads" stands for. */
size_t w2v_online_cores(void);

/*
 * An anonymous read-write file in $TMPDIR (else /tmp), named prefix-XXXXXX
 * and unlinked at once, so its space is freed when it is closed (or the
 * process ends). tmpfile() would ignore TMPDIR. -1 with errno on failure.
 */
int w2v_temp_fd(const char *prefix);

#endif /* W2V_UTIL_H */
