/*
 * util.c - error reports, checked sizes, aligned memory, atomic output
 * files. See util.h.
 */
#define _POSIX_C_SOURCE 200809L

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define W2V_VERSION_STRING "0.1.0"

void w2v_error_clear(w2v_error *err)
{
    if (err == NULL)
        return;
    err->code = W2V_OK;
    err->message[0] = '\0';
}

const char *w2v_status_string(int code)
{
    switch (code) {
    case W2V_OK: return "ok";
    case W2V_ERR_ARG: return "invalid argument";
    case W2V_ERR_NOMEM: return "out of memory";
    case W2V_ERR_IO: return "input/output error";
    case W2V_ERR_FORMAT: return "malformed input";
    case W2V_ERR_EMPTY: return "no usable data";
    case W2V_ERR_NOTFOUND: return "not found";
    case W2V_ERR_THREAD: return "thread error";
    case W2V_ERR_STOPPED: return "stopped";
    default: return "unknown error";
    }
}

const char *w2v_version(void)
{
    return W2V_VERSION_STRING;
}

int w2v_fail(w2v_error *err, int code, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    /* Mark a cut message so that nobody mistakes it for the whole story. */
    if (n >= (int)sizeof err->message)
        memcpy(err->message + sizeof err->message - 4, "...", 4);
    return code;
}

int w2v_fail_nomem(w2v_error *err, const char *what)
{
    return w2v_fail(err, W2V_ERR_NOMEM, "out of memory allocating %s", what);
}

int w2v_mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

void *w2v_alloc_aligned(size_t n)
{
    if (n == 0 || n > SIZE_MAX - W2V_ALIGN)
        return NULL;
    size_t rounded = (n + W2V_ALIGN - 1) / W2V_ALIGN * W2V_ALIGN;
    void *p = NULL;
    if (posix_memalign(&p, W2V_ALIGN, rounded) != 0)
        return NULL;
    return p;
}

void w2v_free_aligned(void *p)
{
    free(p);
}

char *w2v_strdup(const char *s, w2v_error *err)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d == NULL) {
        w2v_fail_nomem(err, "a string");
        return NULL;
    }
    memcpy(d, s, n);
    return d;
}

static void outfile_reset(w2v_outfile *o)
{
    free(o->path);
    free(o->tmp_path);
    free(o->buf);
    memset(o, 0, sizeof *o);
}

/* w2v_outfile_open for a device or pipe: no temporary, no rename. */
static int outfile_open_in_place(w2v_outfile *o, const char *path,
                                 w2v_error *err)
{
    free(o->tmp_path);
    o->tmp_path = NULL;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || (o->fp = fdopen(fd, "wb")) == NULL) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        outfile_reset(o);
        return w2v_fail(err, W2V_ERR_IO, "%s: cannot open output: %s", path,
                        strerror(e));
    }
    setvbuf(o->fp, o->buf, _IOFBF, 1 << 20);
    return W2V_OK;
}

int w2v_outfile_open(w2v_outfile *o, const char *path, w2v_error *err)
{
    memset(o, 0, sizeof *o);
    if (path == NULL || path[0] == '\0')
        return w2v_fail(err, W2V_ERR_ARG, "empty output file name");
    size_t n = strlen(path);
    o->path = w2v_strdup(path, err);
    o->tmp_path = malloc(n + 16);
    o->buf = malloc(1 << 20);
    if (o->path == NULL || o->tmp_path == NULL || o->buf == NULL) {
        outfile_reset(o);
        return w2v_fail_nomem(err, "an output file");
    }
    /*
     * A target that exists and is not a regular file (a device such as
     * /dev/null or /dev/full, a pipe) is written in place: renaming a
     * temporary over it would replace the device node with a plain file.
     */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        return outfile_open_in_place(o, path, err);
    /*
     * Same directory as the target, so that rename() cannot cross devices.
     * O_EXCL with a fresh name instead of mkstemp: the file gets the usual
     * 0666 & ~umask mode without touching the process-wide umask.
     */
    static _Atomic unsigned serial;
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        unsigned tag = (unsigned)getpid() * 2654435761u ^
                       (unsigned)time(NULL) ^ (atomic_fetch_add(&serial, 1) *
                                               40503u);
        snprintf(o->tmp_path, n + 16, "%s.tmp.%06x", path, tag & 0xffffff);
        fd = open(o->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        int e = errno;
        w2v_fail(err, W2V_ERR_IO, "%s: cannot create output file: %s", path,
                 strerror(e));
        outfile_reset(o);
        return W2V_ERR_IO;
    }
    o->fp = fdopen(fd, "wb");
    if (o->fp == NULL) {
        close(fd);
        unlink(o->tmp_path);
        outfile_reset(o);
        return w2v_fail(err, W2V_ERR_IO, "%s: cannot open output file", path);
    }
    setvbuf(o->fp, o->buf, _IOFBF, 1 << 20);
    return W2V_OK;
}

/*
 * Syncs the directory holding path, so that a rename survives a crash of
 * the machine too. Best effort: some file systems cannot sync directories.
 */
static void sync_directory(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash == NULL ? w2v_strdup(".", NULL)
                : slash == path ? w2v_strdup("/", NULL)
                                : w2v_strdup(path, NULL);
    if (dir == NULL)
        return;
    if (slash != NULL && slash != path)
        dir[slash - path] = '\0';
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

int w2v_outfile_commit(w2v_outfile *o, w2v_error *err)
{
    if (o->fp == NULL)
        return w2v_fail(err, W2V_ERR_IO, "output file is not open");
    int bad = ferror(o->fp) || fflush(o->fp) != 0;
    int e = errno;
    if (!bad && fsync(fileno(o->fp)) != 0 && errno != EINVAL) {
        bad = 1;
        e = errno;
    }
    if (fclose(o->fp) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    o->fp = NULL;
    if (!bad && o->tmp_path != NULL && rename(o->tmp_path, o->path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        w2v_fail(err, W2V_ERR_IO, "%s: write failed: %s%s", o->path,
                 e ? strerror(e) : "stream error",
                 o->tmp_path ? "; the file was not changed" : "");
        w2v_outfile_abort(o);
        return W2V_ERR_IO;
    }
    if (o->tmp_path != NULL)
        sync_directory(o->path);
    outfile_reset(o);
    return W2V_OK;
}

void w2v_outfile_abort(w2v_outfile *o)
{
    if (o->fp != NULL)
        fclose(o->fp);
    o->fp = NULL;
    if (o->tmp_path != NULL)
        unlink(o->tmp_path);
    outfile_reset(o);
}

size_t w2v_online_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (size_t)n : 1;
}

int w2v_temp_fd(const char *prefix)
{
    const char *dir = getenv("TMPDIR");
    if (dir == NULL || dir[0] == '\0')
        dir = "/tmp";
    size_t n = strlen(dir) + strlen(prefix) + sizeof "/-XXXXXX";
    char *name = malloc(n);
    if (name == NULL) {
        errno = ENOMEM;
        return -1;
    }
    snprintf(name, n, "%s/%s-XXXXXX", dir, prefix);
    int fd = mkstemp(name);
    int e = errno;
    if (fd >= 0)
        unlink(name);
    free(name);
    errno = e;
    return fd;
}
