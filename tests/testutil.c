/*
 * testutil.c - scratch files and directories for the tests, and running
 * the built tools. See testutil.h.
 */
#define _XOPEN_SOURCE 700
/* A const z_stream.next_in: zlib never writes its input. */
#define ZLIB_CONST

#include "testutil.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

/* The scratch directory of the running test (one test per process). */
static char *scratch_dir;

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    cr_assert_not_null(p, "out of memory allocating %zu bytes", n);
    return p;
}

char *tu_make_temp_dir(void)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    char *path = tu_path(base, "w2v-test-XXXXXX");
    cr_assert_not_null(mkdtemp(path), "mkdtemp %s: %s", path,
                       strerror(errno));
    return path;
}

void tu_scratch_init(void)
{
    scratch_dir = tu_make_temp_dir();
}

void tu_scratch_fini(void)
{
    if (scratch_dir == NULL)
        return;
    tu_remove_tree(scratch_dir);
    free(scratch_dir);
    scratch_dir = NULL;
}

const char *tu_scratch(void)
{
    cr_assert_not_null(scratch_dir, "no scratch directory: add .init = "
                       "tu_scratch_init to the test suite");
    return scratch_dir;
}

char *tu_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

char *tu_write_file(const char *dir, const char *name, const void *data,
                    size_t len)
{
    char *path = tu_path(dir ? dir : tu_scratch(), name);
    /*
     * A new file rather than a truncated one: ext4 flushes a file that was
     * truncated and rewritten when it is closed, which costs milliseconds.
     */
    cr_assert(unlink(path) == 0 || errno == ENOENT, "cannot replace %s: %s",
              path, strerror(errno));
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp, "cannot create %s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(data, 1, len, fp), len, "cannot write %s", path);
    cr_assert_eq(fclose(fp), 0, "cannot close %s: %s", path,
                 strerror(errno));
    return path;
}

unsigned char *tu_gzip_bytes(const void *data, size_t len, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* windowBits 15 + 16: a gzip header and trailer, not a zlib one. */
    cr_assert_eq(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8,
                              Z_DEFAULT_STRATEGY), Z_OK, "deflateInit2");
    size_t cap = deflateBound(&z, (uLong)len) + 64;
    unsigned char *out = xmalloc(cap);
    z.next_in = data;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int zrc = deflate(&z, Z_FINISH);
    cr_assert_eq(zrc, Z_STREAM_END, "deflate returned %d", zrc);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

char *tu_write_gzip(const char *dir, const char *name, const void *data,
                    size_t len)
{
    size_t n;
    unsigned char *gz = tu_gzip_bytes(data, len, &n);
    char *path = tu_write_file(dir, name, gz, n);
    free(gz);
    return path;
}

char *tu_read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = xmalloc(cap + 1);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += r;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            cr_assert_not_null(buf, "out of memory reading %s", path);
        }
    }
    cr_assert_eq(ferror(fp), 0, "read error on %s", path);
    fclose(fp);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

int tu_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

size_t tu_count_entries(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot list %s: %s", dir, strerror(errno));
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (part == NULL || strstr(e->d_name, part) != NULL)
            n++;
    }
    closedir(d);
    return n;
}

static int remove_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

void tu_remove_tree(const char *path)
{
    if (!tu_exists(path))
        return;
    /* Depth first, not following links: remove contents, then the dir. */
    cr_assert_eq(nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS), 0,
                 "cannot remove %s: %s", path, strerror(errno));
}

void tu_redirect_stdin(const char *path)
{
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0, "cannot open %s: %s", path, strerror(errno));
    cr_assert_eq(dup2(fd, STDIN_FILENO), STDIN_FILENO, "dup2: %s",
                 strerror(errno));
    close(fd);
}

int tu_stdin_from_pipe(const void *data, size_t len)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        /* The child only writes; _exit skips the test framework's hooks. */
        close(fds[0]);
        const char *p = data;
        while (len > 0) {
            ssize_t w = write(fds[1], p, len);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                _exit(1);
            p += w;
            len -= (size_t)w;
        }
        _exit(0);
    }
    close(fds[1]);
    cr_assert_eq(dup2(fds[0], STDIN_FILENO), STDIN_FILENO, "dup2: %s",
                 strerror(errno));
    close(fds[0]);
    return (int)pid;
}

tu_run tu_run_tool(const char *tool, const char *input, size_t input_len,
                   const char *env_model, const char *const *args)
{
    char *exe = tu_path(W2V_BIN_DIR, tool);
    char *argv[64]; /* copies: execv takes non-const strings */
    size_t n = 0;
    argv[n++] = exe;
    for (; args[n - 1] != NULL; n++) {
        cr_assert_lt(n, 63, "too many arguments");
        argv[n] = (char *)(uintptr_t)args[n - 1];
    }
    argv[n] = NULL;
    char *in_path =
        input ? tu_write_file(NULL, "stdin.txt", input, input_len) : NULL;
    char *out_path = tu_path(tu_scratch(), "stdout.txt");
    char *err_path = tu_path(tu_scratch(), "stderr.txt");
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int in = open(in_path ? in_path : "/dev/null", O_RDONLY);
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || o < 0 || e < 0)
            _exit(126);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        if (env_model != NULL)
            setenv("W2V_MODEL", env_model, 1);
        else
            unsetenv("W2V_MODEL");
        execv(exe, argv);
        _exit(127);
    }
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    tu_run r;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    cr_assert_neq(r.status, 127, "cannot run %s", exe);
    r.out = tu_read_file(out_path, NULL);
    r.err = tu_read_file(err_path, NULL);
    free(exe);
    free(in_path);
    free(out_path);
    free(err_path);
    return r;
}

void tu_run_free(tu_run *r)
{
    free(r->out);
    free(r->err);
}
