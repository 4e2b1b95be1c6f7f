/*
 * test_resume_tool.c - w2v-train's checkpoints through the built binary:
 * SIGINT and SIGTERM stop the run and write a checkpoint and the vectors
 * so far; resuming gives the vectors of a run that never stopped, byte for
 * byte (one thread); a second signal exits at once and leaves the last
 * complete files loadable; mismatched settings or corpus exit 2.
 */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "planted.h"
#include "testutil.h"
#include "w2v/w2v.h"

TestSuite(resume_tool, .init = tu_scratch_init, .fini = tu_scratch_fini);

/* Criterion does not run .fini for a skipped test: clean up first. */
#define skip_test(...)                                                      \
    do {                                                                    \
        tu_scratch_fini();                                                  \
        cr_skip_test(__VA_ARGS__);                                          \
    } while (0)

/* Starts w2v-train with the NULL-terminated arguments; stderr to a file. */
static pid_t start(const char *first, ...)
{
    char *argv[64];
    char exe[1024];
    snprintf(exe, sizeof exe, "%s/w2v-train", W2V_BIN_DIR);
    argv[0] = exe;
    int n = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a != NULL && n < 63;
         a = va_arg(ap, const char *))
        argv[n++] = (char *)(uintptr_t)a;
    va_end(ap);
    argv[n] = NULL;
    char *err_path = tu_path(tu_scratch(), "stderr.txt");
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || e < 0)
            _exit(127);
        dup2(in, 0);
        dup2(e, 1);
        dup2(e, 2);
        execv(exe, argv);
        _exit(127);
    }
    free(err_path);
    return pid;
}

/* Exit status of pid; 1000 + signal if it was killed by one. */
static int finish(pid_t pid)
{
    int ws;
    cr_assert_eq(waitpid(pid, &ws, 0), pid);
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 1000 + WTERMSIG(ws);
}

static char *stderr_text(void)
{
    char *p = tu_path(tu_scratch(), "stderr.txt");
    char *t = tu_read_file(p, NULL);
    free(p);
    return t;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits (up to 60 s) for path to exist; 0 if the process ended first. */
static int wait_for_file(const char *path, pid_t pid)
{
    for (int i = 0; i < 6000; i++) {
        if (tu_exists(path))
            return 1;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return 0;
        nap_ms(10);
    }
    return 0;
}

static char *corpus(void)
{
    char *path = tu_path(tu_scratch(), "c.txt");
    cr_assert_eq(planted_write(path, 30000, 3, NULL), 0);
    return path;
}

#define COMMON "-threads", "1", "-seed", "9", "-size", "12", "-iter", "12", \
               "-window", "3", "-negative", "3", "-min-count", "1", "-quiet"

/* Interrupts a run with sig once its first checkpoint is written. */
static void interrupt_and_resume(int sig)
{
    char *c = corpus();
    char *ref = tu_path(tu_scratch(), "ref.bin");
    char *out = tu_path(tu_scratch(), "out.bin");
    char *ck = tu_path(tu_scratch(), "run.ckpt");
    cr_assert_eq(finish(start("-corpus", c, "-output", ref, COMMON, NULL)),
                 0);
    pid_t pid = start("-corpus", c, "-output", out, "-checkpoint", ck,
                      "-checkpoint-every", "0.001", COMMON, NULL);
    if (!wait_for_file(ck, pid))
        skip_test("the run ended before its first checkpoint");
    kill(pid, sig);
    int st = finish(pid);
    char *msg = stderr_text();
    if (st == 0)
        skip_test("the run ended before the signal: %s", msg);
    cr_assert_eq(st, 128 + sig, "status %d: %s", st, msg);
    cr_expect(strstr(msg, "checkpoint written to") != NULL, "%s", msg);
    cr_expect(strstr(msg, "vectors so far written to") != NULL, "%s", msg);
    cr_expect(strstr(msg, "-resume") != NULL, "%s", msg);
    free(msg);
    w2v_error err = {0};
    w2v_model *m;
    cr_expect_eq(w2v_model_load(out, &m, &err), W2V_OK, "%s", err.message);
    w2v_model_free(m);

    st = finish(start("-corpus", c, "-output", out, "-resume", ck, COMMON,
                      NULL));
    msg = stderr_text();
    cr_assert_eq(st, 0, "resume: %s", msg);
    free(msg);
    size_t la, lb;
    char *a = tu_read_file(ref, &la);
    char *b = tu_read_file(out, &lb);
    cr_assert_eq(la, lb);
    cr_expect(memcmp(a, b, la) == 0, "resumed vectors differ");
    free(a);
    free(b);
    free(ck);
    free(out);
    free(ref);
    free(c);
}

Test(resume_tool, sigint_then_resume_is_byte_identical)
{
    interrupt_and_resume(SIGINT);
}

Test(resume_tool, sigterm_then_resume_is_byte_identical)
{
    interrupt_and_resume(SIGTERM);
}

Test(resume_tool, second_sigint_exits_at_once_files_stay_whole)
{
    char *c = corpus();
    char *out = tu_path(tu_scratch(), "out.bin");
    char *ck = tu_path(tu_scratch(), "run.ckpt");
    pid_t pid = start("-corpus", c, "-output", out, "-checkpoint", ck,
                      "-checkpoint-every", "0.001", COMMON, NULL);
    if (!wait_for_file(ck, pid))
        skip_test("the run ended before its first checkpoint");
    kill(pid, SIGINT);
    kill(pid, SIGINT);
    int st = finish(pid);
    if (st == 0)
        skip_test("the run ended before the signals");
    cr_expect_eq(st, 130, "status %d", st);
    w2v_error err = {0};
    w2v_checkpoint *k;
    cr_expect_eq(w2v_checkpoint_load(ck, &k, &err), W2V_OK, "%s",
                 err.message);
    w2v_checkpoint_free(k);
    if (tu_exists(out)) {
        w2v_model *m;
        cr_expect_eq(w2v_model_load(out, &m, &err), W2V_OK, "%s",
                     err.message);
        w2v_model_free(m);
    }
    free(ck);
    free(out);
    free(c);
}

Test(resume_tool, mismatched_resume_exits_2)
{
    char *c = corpus();
    char *other = tu_path(tu_scratch(), "other.txt");
    cr_assert_eq(planted_write(other, 3000, 4, NULL), 0);
    char *out = tu_path(tu_scratch(), "out.bin");
    char *ck = tu_path(tu_scratch(), "run.ckpt");
    pid_t pid = start("-corpus", c, "-output", out, "-checkpoint", ck,
                      "-checkpoint-every", "0.001", COMMON, NULL);
    if (!wait_for_file(ck, pid))
        skip_test("the run ended before its first checkpoint");
    kill(pid, SIGINT);
    finish(pid);
    int st = finish(start("-corpus", c, "-output", out, "-resume", ck,
                          COMMON, "-size", "13", NULL));
    char *msg = stderr_text();
    cr_expect_eq(st, 2, "%s", msg);
    cr_expect(strstr(msg, "size 13") != NULL, "%s", msg);
    free(msg);
    st = finish(start("-corpus", other, "-output", out, "-resume", ck,
                      COMMON, NULL));
    msg = stderr_text();
    cr_expect_eq(st, 2, "%s", msg);
    cr_expect(strstr(msg, "not the corpus of the checkpoint") != NULL, "%s",
              msg);
    free(msg);
    char *junk = tu_write_file(NULL, "junk.ckpt", "W2VCKPT\nxx", 10);
    st = finish(start("-corpus", c, "-output", out, "-resume", junk, COMMON,
                      NULL));
    msg = stderr_text();
    cr_expect_eq(st, 2, "%s", msg);
    cr_expect(strstr(msg, "junk.ckpt: byte") != NULL, "%s", msg);
    free(msg);
    st = finish(start("-corpus", "-", "-output", out, "-checkpoint", ck,
                      COMMON, NULL));
    msg = stderr_text();
    cr_expect_eq(st, 2, "%s", msg);
    cr_expect(strstr(msg, "standard input") != NULL, "%s", msg);
    free(msg);
    free(junk);
    free(ck);
    free(out);
    free(other);
    free(c);
}

/* Like start(), with a file size limit of fsize bytes (as a full disk). */
static pid_t start_limited(long fsize, const char *first, ...)
{
    char *argv[64];
    char exe[1024];
    snprintf(exe, sizeof exe, "%s/w2v-train", W2V_BIN_DIR);
    argv[0] = exe;
    int n = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a != NULL && n < 63;
         a = va_arg(ap, const char *))
        argv[n++] = (char *)(uintptr_t)a;
    va_end(ap);
    argv[n] = NULL;
    char *err_path = tu_path(tu_scratch(), "stderr.txt");
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (e < 0)
            _exit(127);
        dup2(e, 2);
        /* Both survive exec: the limit, and SIGXFSZ ignored. */
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {(rlim_t)fsize, (rlim_t)fsize};
        setrlimit(RLIMIT_FSIZE, &rl);
        execv(exe, argv);
        _exit(127);
    }
    free(err_path);
    return pid;
}

static long file_size(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "%s", path);
    return (long)st.st_size;
}

/*
 * The disk fills up before the vectors are written: a clear error, exit
 * 1, and the vectors of the previous run are still there, unchanged.
 */
Test(resume_tool, full_disk_keeps_the_previous_vectors)
{
    char *c = corpus();
    char *out = tu_path(tu_scratch(), "out.bin");
    cr_assert_eq(finish(start("-corpus", c, "-output", out, COMMON, NULL)),
                 0);
    size_t len;
    char *before = tu_read_file(out, &len);
    int st = finish(start_limited(4096, "-corpus", c, "-output", out,
                                  "-seed", "10", COMMON, NULL));
    char *msg = stderr_text();
    cr_expect_eq(st, 1, "%s", msg);
    cr_expect(strstr(msg, "File too large") != NULL, "%s", msg);
    cr_expect(strstr(msg, "not changed") != NULL, "%s", msg);
    size_t len2;
    char *after = tu_read_file(out, &len2);
    cr_expect(len == len2 && memcmp(before, after, len) == 0,
              "the previous vectors changed");
    cr_expect_eq(tu_count_entries(tu_scratch(), ".tmp."), 0);
    free(msg);
    free(before);
    free(after);
    free(out);
    free(c);
}

/*
 * Room for the vectors but not for a checkpoint: each checkpoint fails
 * with a warning, training goes on, the vectors are written, and the
 * previous checkpoint is intact and loadable.
 */
Test(resume_tool, failed_checkpoints_warn_and_keep_the_old_one)
{
    char *c = corpus();
    char *out = tu_path(tu_scratch(), "out.bin");
    char *ck = tu_path(tu_scratch(), "run.ckpt");
    pid_t pid = start("-corpus", c, "-output", out, "-checkpoint", ck,
                      "-checkpoint-every", "0.001", COMMON, NULL);
    if (!wait_for_file(ck, pid))
        skip_test("the run ended before its first checkpoint");
    kill(pid, SIGINT);
    finish(pid);
    size_t len;
    char *before = tu_read_file(ck, &len);
    long limit = file_size(out) + 1024;
    cr_assert_lt(limit, (long)len, "a checkpoint is larger than vectors");
    int st = finish(start_limited(limit, "-corpus", c, "-output", out,
                                  "-checkpoint", ck, "-checkpoint-every",
                                  "0.001", "-seed", "10", COMMON, NULL));
    char *msg = stderr_text();
    cr_expect_eq(st, 0, "%s", msg);
    cr_expect(strstr(msg, "warning: checkpoint not written") != NULL, "%s",
              msg);
    size_t len2;
    char *after = tu_read_file(ck, &len2);
    cr_expect(len == len2 && memcmp(before, after, len) == 0,
              "the previous checkpoint changed");
    w2v_error err = {0};
    w2v_checkpoint *k;
    cr_expect_eq(w2v_checkpoint_load(ck, &k, &err), W2V_OK, "%s",
                 err.message);
    w2v_checkpoint_free(k);
    cr_expect_eq(tu_count_entries(tu_scratch(), ".tmp."), 0);
    free(msg);
    free(before);
    free(after);
    free(ck);
    free(out);
    free(c);
}
