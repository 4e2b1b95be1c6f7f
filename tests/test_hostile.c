/*
 * test_hostile.c - the hostile-input table of docs/README-robust.md, one
 * test per row: every tool on empty, truncated, corrupt, lying, NaN, NUL,
 * invalid UTF-8, huge and missing inputs, directories, a full device as
 * output, a zero-size vocabulary and out-of-range numbers. Each row runs
 * the built tool and checks its exit status, that its message names the
 * problem, and that no output (or temporary) file is left behind.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* mknod, makedev */

#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "w2v/w2v.h"

TestSuite(hostile, .init = tu_scratch_init, .fini = tu_scratch_fini);

/* Criterion does not run .fini for a skipped test: clean up first. */
#define skip_test(...)                                                      \
    do {                                                                    \
        tu_scratch_fini();                                                  \
        cr_skip_test(__VA_ARGS__);                                          \
    } while (0)

/* ---------------------------------------------------------------------- */
/* Fixtures                                                                */

static const char *const WORDS[] = {"king", "queen", "man", "woman", "the",
                                    "a", "cat", "dog", "sat", "on"};
#define N_WORDS (sizeof WORDS / sizeof *WORDS)

static void put(const char *name, const void *data, size_t len)
{
    free(tu_write_file(NULL, name, data, len));
}

static void put_str(const char *name, const char *text)
{
    put(name, text, strlen(text));
}

/* A 10-word, 4-dimensional model in all three formats. */
static void models(void)
{
    w2v_error err = {0};
    w2v_vocab *v;
    w2v_model *m;
    cr_assert_eq(w2v_vocab_new(&v, &err), W2V_OK);
    for (size_t i = 0; i < N_WORDS; i++)
        cr_assert_eq(w2v_vocab_add(v, WORDS[i], strlen(WORDS[i]),
                                   100 - i, NULL, &err), W2V_OK);
    cr_assert_eq(w2v_model_new(v, 4, &m, &err), W2V_OK, "%s", err.message);
    for (size_t i = 0; i < N_WORDS; i++)
        for (size_t d = 0; d < 4; d++)
            w2v_model_vector(m, i)[d] = (float)sin((double)(i * 4 + d));
    static const struct { const char *name; int format; } f[] = {
        {"model.bin", W2V_FORMAT_BINARY}, {"model.txt", W2V_FORMAT_TEXT},
        {"model.w2v", W2V_FORMAT_NATIVE}};
    for (size_t i = 0; i < 3; i++) {
        char *p = tu_path(tu_scratch(), f[i].name);
        cr_assert_eq(w2v_model_save(m, p, f[i].format, &err), W2V_OK, "%s",
                     err.message);
        free(p);
    }
    w2v_model_free(m);
}

/* The first n bytes of fixture src as fixture dst. */
static void truncated(const char *src, const char *dst, size_t n)
{
    char *p = tu_path(tu_scratch(), src);
    size_t len;
    char *data = tu_read_file(p, &len);
    cr_assert_lt(n, len);
    put(dst, data, n);
    free(data);
    free(p);
}

static void fixtures(void)
{
    models();
    put_str("empty", "");
    truncated("model.bin", "trunc.bin", 100);
    truncated("model.txt", "trunc.txt", 60);
    truncated("model.w2v", "trunc.w2v", 150);
    put_str("lie_count.txt", "1000000000 4\nking 1 2 3 4\n");
    put_str("lie_dim.txt", "1 99999999\nking 1 2 3 4\n");
    put_str("nan.txt", "2 2\nking NaN 1\nqueen 1 inf\n");
    static const char nul_model[] = "1 2\nki\0ng 1 2\n";
    put("nul.txt", nul_model, sizeof nul_model - 1);
    put_str("utf8.txt", "2 2\ncaf\xff 1 2\n\xfe\xfd 2 1\n");
    /* Corpora. */
    char text[4096] = "";
    for (int i = 0; i < 40; i++)
        strncat(text, "king queen man woman the a cat dog sat on\n",
                sizeof text - strlen(text) - 1);
    put_str("corpus.txt", text);
    size_t gz_len;
    unsigned char *gz = tu_gzip_bytes(text, strlen(text), &gz_len);
    put("trunc.gz", gz, gz_len / 2);
    gz[gz_len - 6] ^= 0xff; /* the crc32 in the trailer */
    put("corrupt.gz", gz, gz_len);
    free(gz);
    static const char nul_text[] = "the cat\0 sat\n";
    put("nul_corpus.txt", nul_text, sizeof nul_text - 1);
    put_str("utf8_corpus.txt", "caf\xff \xfe\xfd sat\ncaf\xff sat\n");
    /* Vocabularies and evaluation files. */
    put_str("bad.vocab", "king 3\nqueen x\n");
    put_str("an3.txt", ": section\nking queen man\n");
    static const char an_nul[] = ": s\nking queen man wo\0man\nking queen "
                                 "man woman\n";
    put("an_nul.txt", an_nul, sizeof an_nul - 1);
    put_str("an.txt", ": section\nking queen man woman\n");
    char *dir = tu_path(tu_scratch(), "dir");
    cr_assert_eq(mkdir(dir, 0755), 0);
    free(dir);
    put_str("pairs_nan.tab", "king\tqueen\tNaN\n");
    put_str("ckpt_junk", "W2VCKPT\nnot really a checkpoint");
}

/* A huge fixture, written only by the rows that need it. */
static void huge_word_corpus(void)
{
    size_t n = 70000;
    char *w = malloc(n + 1);
    cr_assert_not_null(w);
    memset(w, 'a', n);
    w[n] = '\n';
    put("hugeword.txt", w, n + 1);
    free(w);
}

static void huge_line_corpus(void)
{
    const char *unit = "king queen man woman ";
    size_t k = strlen(unit), reps = 200000;
    char *t = malloc(k * reps + 1);
    cr_assert_not_null(t);
    for (size_t i = 0; i < reps; i++)
        memcpy(t + i * k, unit, k);
    t[k * reps] = '\n';
    put("hugeline.txt", t, k * reps + 1);
    free(t);
}

/* A character device like /dev/full, in the scratch directory. */
static void full_device(void)
{
    char *p = tu_path(tu_scratch(), "full");
    if (mknod(p, S_IFCHR | 0666, makedev(1, 7)) != 0)
        skip_test("cannot create a /dev/full device node here (needs "
                     "root); the /dev/full rows are not run");
    free(p);
}

/* ---------------------------------------------------------------------- */
/* Running a row                                                           */

typedef struct row {
    const char *tool;
    const char *args[24];  /* "@name" = scratch/name; NULL-terminated */
    const char *in;        /* fixture for standard input, or NULL */
    int status;            /* expected exit status */
    const char *msg;       /* expected in stderr (NULL: anything) */
    const char *absent;    /* a fixture name that must not exist after */
} row;

static char *arg(const char *a)
{
    if (a[0] == '@')
        return tu_path(tu_scratch(), a + 1);
    return strdup(a);
}

static void check(const row *r)
{
    char exe[1024];
    snprintf(exe, sizeof exe, "%s/%s", W2V_BIN_DIR, r->tool);
    char *argv[26];
    int n = 0;
    argv[n++] = exe;
    for (int i = 0; r->args[i] != NULL; i++)
        argv[n++] = arg(r->args[i]);
    argv[n] = NULL;
    char *in = r->in ? arg(r->in) : strdup("/dev/null");
    char *err_path = tu_path(tu_scratch(), "stderr.out");
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int i = open(in, O_RDONLY);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int o = open("/dev/null", O_WRONLY);
        if (i < 0 || e < 0 || o < 0)
            _exit(127);
        dup2(i, 0);
        dup2(o, 1);
        dup2(e, 2);
        execv(exe, argv);
        _exit(127);
    }
    int ws;
    waitpid(pid, &ws, 0);
    char *err = tu_read_file(err_path, NULL);
    cr_expect(WIFEXITED(ws), "%s was killed by signal %d", r->tool,
              WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
    cr_expect_eq(WEXITSTATUS(ws), r->status, "%s: exit %d, expected %d: %s",
                 r->tool, WEXITSTATUS(ws), r->status, err);
    if (r->msg != NULL)
        cr_expect(strstr(err, r->msg) != NULL, "%s: \"%s\" not in: %s",
                  r->tool, r->msg, err);
    cr_expect_lt(strlen(err), 4096, "%s: %zu bytes of messages", r->tool,
                 strlen(err));
    if (r->absent != NULL) {
        char *p = tu_path(tu_scratch(), r->absent);
        cr_expect(!tu_exists(p), "%s was left behind", r->absent);
        free(p);
    }
    cr_expect_eq(tu_count_entries(tu_scratch(), ".tmp."), 0,
                 "a temporary file was left behind");
    for (int i = 1; i < n; i++)
        free(argv[i]);
    free(in);
    free(err);
    free(err_path);
}

#define ROW(name, setup, ...)                                               \
    Test(hostile, name)                                                     \
    {                                                                       \
        fixtures();                                                         \
        setup;                                                              \
        const row r = __VA_ARGS__;                                          \
        check(&r);                                                          \
    }

/* ---------------------------------------------------------------------- */
/* Models given to the query tools and to w2v-convert                      */

/* One row per tool for a bad model file: exit 2, the message, no output. */
#define MODEL_ROWS(name, file, message)                                     \
    ROW(nearest_##name, (void)0,                                            \
        {"w2v-nearest", {"-model", file, "king", NULL}, NULL, 2, message,   \
         NULL})                                                             \
    ROW(analogy_##name, (void)0,                                            \
        {"w2v-analogy", {"-model", file, "king", "man", "woman", NULL},     \
         NULL, 2, message, NULL})                                           \
    ROW(eval_##name, (void)0,                                               \
        {"w2v-eval", {"-model", file, "-analogies", "@an.txt", NULL},       \
         NULL, 2, message, NULL})                                           \
    ROW(convert_##name, (void)0,                                            \
        {"w2v-convert", {file, "@out.w2v", NULL}, NULL, 2, message,         \
         "out.w2v"})

MODEL_ROWS(empty_model, "@empty", "empty file")
MODEL_ROWS(truncated_binary, "@trunc.bin", "truncated")
MODEL_ROWS(truncated_text, "@trunc.txt", "truncated")
MODEL_ROWS(truncated_native, "@trunc.w2v", "trunc.w2v")
MODEL_ROWS(lying_word_count, "@lie_count.txt", "lying header")
MODEL_ROWS(lying_dimension, "@lie_dim.txt", "lying header")
MODEL_ROWS(nan_in_model, "@nan.txt", "NaN")
MODEL_ROWS(nul_in_model, "@nul.txt", "NUL")
MODEL_ROWS(missing_model, "@missing.bin", "No such file")
MODEL_ROWS(directory_as_model, "@.", "directory")
MODEL_ROWS(path_through_a_file, "@model.bin/x", "Not a directory")
MODEL_ROWS(corpus_as_model, "@corpus.txt", "corpus.txt")

/* Invalid UTF-8 is not an error: words are bytes, written back as read. */
ROW(nearest_invalid_utf8_words_are_bytes, (void)0,
    {"w2v-nearest", {"-model", "@utf8.txt", "caf\xff", NULL}, NULL, 0, NULL,
     NULL})
ROW(convert_invalid_utf8_round_trip, (void)0,
    {"w2v-convert", {"@utf8.txt", "@utf8.w2v", NULL}, NULL, 0, NULL, NULL})

/* Query words: NUL bytes, invalid UTF-8 and megabyte words on stdin. */
ROW(nearest_nul_byte_query, put("q", "ki\0ng\nking\n", 11),
    {"w2v-nearest", {"-model", "@model.bin", NULL}, "@q", 1, "NUL", NULL})
ROW(nearest_invalid_utf8_query, put_str("q", "k\xffng\n"),
    {"w2v-nearest", {"-model", "@model.bin", NULL}, "@q", 1,
     "unknown word", NULL})
ROW(nearest_huge_query_word, huge_word_corpus(),
    {"w2v-nearest", {"-model", "@model.bin", NULL}, "@hugeword.txt", 1,
     "(cut)", NULL})
ROW(analogy_short_question, put_str("q", "king man\n"),
    {"w2v-analogy", {"-model", "@model.bin", NULL}, "@q", 1,
     "expected three words", NULL})

/* Outputs of w2v-convert. */
ROW(convert_to_full_device, full_device(),
    {"w2v-convert", {"@model.bin", "@full", NULL}, NULL, 1,
     "No space left on device", NULL})
ROW(convert_to_directory, (void)0,
    {"w2v-convert", {"@model.bin", "@dir", NULL}, NULL, 1, "Is a directory",
     NULL})
ROW(convert_into_missing_directory, (void)0,
    {"w2v-convert", {"@model.bin", "@nodir/out.w2v", NULL}, NULL, 1,
     "No such file", NULL})

/* ---------------------------------------------------------------------- */
/* Evaluation files                                                        */

ROW(eval_empty_analogies, (void)0,
    {"w2v-eval", {"-model", "@model.bin", "-analogies", "@empty", NULL},
     NULL, 2, "no analogy questions", NULL})
ROW(eval_malformed_analogy_line, (void)0,
    {"w2v-eval", {"-model", "@model.bin", "-analogies", "@an3.txt", NULL},
     NULL, 2, "line 2", NULL})
/* A NUL byte costs its line only, which is named on stderr. */
ROW(eval_nul_byte_in_analogies, (void)0,
    {"w2v-eval", {"-model", "@model.bin", "-analogies", "@an_nul.txt", NULL},
     NULL, 0, "an_nul.txt:2: a NUL byte", NULL})
ROW(eval_missing_analogies, (void)0,
    {"w2v-eval", {"-model", "@model.bin", "-analogies", "@missing", NULL},
     NULL, 2, "missing", NULL})
ROW(eval_directory_as_analogies, (void)0,
    {"w2v-eval", {"-model", "@model.bin", "-analogies", "@.", NULL}, NULL,
     2, "directory", NULL})
ROW(eval_nan_similarity_score, (void)0,
    {"w2v-eval", {"-model", "@model.bin", "-no-analogies", "-similarity",
                  "@pairs_nan.tab", NULL},
     NULL, 2, "pairs_nan.tab", NULL})
ROW(eval_empty_similarity, (void)0,
    {"w2v-eval", {"-model", "@model.bin", "-no-analogies", "-similarity",
                  "@empty", NULL},
     NULL, 2, "no word pairs", NULL})

/* ---------------------------------------------------------------------- */
/* w2v-train                                                               */

#define TRAIN(...)                                                          \
    "w2v-train", {__VA_ARGS__, "-min-count", "1", "-size", "4", "-iter",    \
                  "1", "-threads", "1", "-quiet", NULL}

ROW(train_empty_corpus, (void)0,
    {TRAIN("-corpus", "@empty", "-output", "@out.bin"), NULL, 1, "no words",
     "out.bin"})
ROW(train_truncated_gzip, (void)0,
    {TRAIN("-corpus", "@trunc.gz", "-output", "@out.bin"), NULL, 1,
     "truncated gzip", "out.bin"})
ROW(train_corrupt_gzip, (void)0,
    {TRAIN("-corpus", "@corrupt.gz", "-output", "@out.bin"), NULL, 1,
     "corrupt gzip", "out.bin"})
ROW(train_nul_byte, (void)0,
    {TRAIN("-corpus", "@nul_corpus.txt", "-output", "@out.bin"), NULL, 1,
     "byte 7: control byte 0x00 (NUL)", "out.bin"})
ROW(train_binary_file_as_corpus, (void)0,
    {TRAIN("-corpus", "@model.bin", "-output", "@out.bin"), NULL, 1,
     "not a text corpus", "out.bin"})
ROW(train_huge_word, huge_word_corpus(),
    {TRAIN("-corpus", "@hugeword.txt", "-output", "@out.bin"), NULL, 1,
     "longer than 65536 bytes", "out.bin"})
ROW(train_huge_line_is_fine, huge_line_corpus(),
    {TRAIN("-corpus", "@hugeline.txt", "-output", "@out.bin"), NULL, 0,
     NULL, NULL})
ROW(train_invalid_utf8_is_fine, (void)0,
    {TRAIN("-corpus", "@utf8_corpus.txt", "-output", "@out.bin"), NULL, 0,
     NULL, NULL})
ROW(train_missing_corpus, (void)0,
    {TRAIN("-corpus", "@missing.txt", "-output", "@out.bin"), NULL, 1,
     "No such file", "out.bin"})
ROW(train_directory_as_corpus, (void)0,
    {TRAIN("-corpus", "@.", "-output", "@out.bin"), NULL, 1, "directory",
     "out.bin"})
ROW(train_zero_size_vocabulary, (void)0,
    {"w2v-train", {"-corpus", "@corpus.txt", "-min-count", "1000", "-output",
                   "@out.bin", "-quiet", NULL},
     NULL, 1, "no word occurs at least 1000 times", "out.bin"})
ROW(train_empty_vocabulary_file, (void)0,
    {TRAIN("-corpus", "@corpus.txt", "-read-vocab", "@empty", "-output",
           "@out.bin"),
     NULL, 1, "empty vocabulary file", "out.bin"})
ROW(train_malformed_vocabulary_file, (void)0,
    {TRAIN("-corpus", "@corpus.txt", "-read-vocab", "@bad.vocab", "-output",
           "@out.bin"),
     NULL, 1, "bad.vocab:2", "out.bin"})
ROW(train_output_is_a_directory, (void)0,
    {TRAIN("-corpus", "@corpus.txt", "-output", "@."), NULL, 1,
     "is a directory", NULL})
ROW(train_output_in_missing_directory, (void)0,
    {TRAIN("-corpus", "@corpus.txt", "-output", "@nodir/out.bin"), NULL, 1,
     "cannot write in directory", NULL})
ROW(train_output_to_full_device, full_device(),
    {TRAIN("-corpus", "@corpus.txt", "-output", "@full"), NULL, 1,
     "No space left on device", NULL})
ROW(train_vocabulary_to_full_device, full_device(),
    {TRAIN("-corpus", "@corpus.txt", "-save-vocab", "@full", "-output",
           "@out.bin"),
     NULL, 1, "No space left on device", "out.bin"})
ROW(train_resume_from_junk, (void)0,
    {TRAIN("-corpus", "@corpus.txt", "-resume", "@ckpt_junk", "-output",
           "@out.bin"),
     NULL, 2, "ckpt_junk: byte", "out.bin"})
ROW(train_resume_from_model, (void)0,
    {TRAIN("-corpus", "@corpus.txt", "-resume", "@model.bin", "-output",
           "@out.bin"),
     NULL, 2, "byte 0: not a w2v checkpoint", "out.bin"})
ROW(train_resume_from_empty, (void)0,
    {TRAIN("-corpus", "@corpus.txt", "-resume", "@empty", "-output",
           "@out.bin"),
     NULL, 2, "ends inside the header", "out.bin"})
ROW(train_resume_from_missing, (void)0,
    {TRAIN("-corpus", "@corpus.txt", "-resume", "@missing", "-output",
           "@out.bin"),
     NULL, 2, "No such file", "out.bin"})
/* The -resume file is also where checkpoints go, so it is checked first. */
ROW(train_resume_from_directory, (void)0,
    {TRAIN("-corpus", "@corpus.txt", "-resume", "@dir", "-output",
           "@out.bin"),
     NULL, 1, "is a directory", "out.bin"})
ROW(train_checkpoint_of_stdin, (void)0,
    {TRAIN("-corpus", "-", "-checkpoint", "@ck", "-output", "@out.bin"),
     "@corpus.txt", 2, "standard input", "out.bin"})

/*
 * Unreadable files: chmod 000 does not stop root, so as root this row is
 * skipped (the path-through-a-file rows above cover a failing open).
 */
Test(hostile, unreadable_files)
{
    if (geteuid() == 0)
        skip_test("running as root: a mode-000 file is still readable");
    fixtures();
    char *p = tu_path(tu_scratch(), "model.bin");
    char *c = tu_path(tu_scratch(), "corpus.txt");
    cr_assert_eq(chmod(p, 0), 0);
    cr_assert_eq(chmod(c, 0), 0);
    const row rows[] = {
        {"w2v-nearest", {"-model", "@model.bin", "king", NULL}, NULL, 2,
         "Permission denied", NULL},
        {"w2v-convert", {"@model.bin", "@o.w2v", NULL}, NULL, 2,
         "Permission denied", "o.w2v"},
        {TRAIN("-corpus", "@corpus.txt", "-output", "@out.bin"), NULL, 1,
         "Permission denied", "out.bin"}};
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        check(&rows[i]);
    free(p);
    free(c);
}

/* ---------------------------------------------------------------------- */
/* Numeric flags out of range, every tool                                  */

static void bad_numbers(const char *tool, const char *const *flags,
                        size_t n, const char *const *rest)
{
    fixtures();
    const char *bad[] = {"abc", "-5", "1e99", "12x", ""};
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < sizeof bad / sizeof *bad; j++) {
            row r = {tool, {flags[i], bad[j]}, NULL, 2, flags[i], NULL};
            size_t k = 2;
            for (size_t m = 0; rest[m] != NULL; m++)
                r.args[k++] = rest[m];
            r.args[k] = NULL;
            check(&r);
        }
    }
}

Test(hostile, nearest_numeric_flags_out_of_range)
{
    const char *flags[] = {"-k", "-restrict"};
    const char *rest[] = {"-model", "@model.bin", "king", NULL};
    bad_numbers("w2v-nearest", flags, 2, rest);
}

Test(hostile, analogy_numeric_flags_out_of_range)
{
    const char *flags[] = {"-k", "-restrict"};
    const char *rest[] = {"-model", "@model.bin", "king", "man", "woman",
                          NULL};
    bad_numbers("w2v-analogy", flags, 2, rest);
}

Test(hostile, eval_numeric_flags_out_of_range)
{
    const char *flags[] = {"-restrict", "-restrict-similarity", "-epsilon"};
    const char *rest[] = {"-model", "@model.bin", NULL};
    bad_numbers("w2v-eval", flags, 3, rest);
}

Test(hostile, train_checkpoint_flags_out_of_range)
{
    const char *flags[] = {"-checkpoint-every"};
    const char *rest[] = {"-corpus", "@corpus.txt", "-output", "@out.bin",
                          NULL};
    bad_numbers("w2v-train", flags, 1, rest);
}
