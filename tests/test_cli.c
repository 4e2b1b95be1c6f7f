/*
 * test_cli.c - w2v-train's command line and its behaviour on bad input,
 * through the built binary: exit status, a message naming the file (and
 * the byte offset where there is one), and no output file left behind.
 */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "planted.h"
#include "testutil.h"

TestSuite(cli, .init = tu_scratch_init, .fini = tu_scratch_fini);

typedef struct result {
    int status;   /* exit status, or -1 if killed by a signal */
    char *err;    /* standard error */
    char *out;    /* standard output */
} result;

/*
 * Runs build/bin/<tool> with the NULL-terminated arguments, standard input
 * from stdin_path (or /dev/null), and collects its exit status and output.
 */
static result run(const char *tool, const char *stdin_path, ...)
{
    char *argv[64]; /* copies: execv takes non-const strings */
    char exe[1024];
    snprintf(exe, sizeof exe, "%s/%s", W2V_BIN_DIR, tool);
    argv[0] = strdup(exe);
    int n = 1;
    va_list ap;
    va_start(ap, stdin_path);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 63)
        argv[n++] = strdup(a);
    va_end(ap);
    argv[n] = NULL;
    char *err_path = tu_path(tu_scratch(), "stderr.txt");
    char *out_path = tu_path(tu_scratch(), "stdout.txt");
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int in = open(stdin_path ? stdin_path : "/dev/null", O_RDONLY);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || e < 0 || o < 0)
            _exit(127);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        execv(exe, argv);
        _exit(127);
    }
    int ws;
    waitpid(pid, &ws, 0);
    for (int i = 0; i < n; i++)
        free(argv[i]);
    result r;
    r.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    r.err = tu_read_file(err_path, NULL);
    r.out = tu_read_file(out_path, NULL);
    free(err_path);
    free(out_path);
    return r;
}

static void result_free(result *r)
{
    free(r->err);
    free(r->out);
}

/* The scratch directory holds no vectors and no temporary file. */
static void expect_no_output(const char *out)
{
    cr_expect(!tu_exists(out), "%s was left behind", out);
    cr_expect_eq(tu_count_entries(tu_scratch(), ".tmp."), 0,
                 "a temporary output file was left behind");
}

/* Runs w2v-train on corpus; expects failure naming the file and `part`. */
static void expect_bad_corpus(const char *corpus, const char *part)
{
    char *out = tu_path(tu_scratch(), "vectors.bin");
    result r = run("w2v-train", NULL, "-corpus", corpus, "-output", out,
                   "-min-count", "1", "-quiet", NULL);
    cr_expect_eq(r.status, 1, "exit %d: %s", r.status, r.err);
    cr_expect(strstr(r.err, corpus) != NULL, "file not named: %s", r.err);
    cr_expect(strstr(r.err, part) != NULL, "expected \"%s\" in: %s", part,
              r.err);
    expect_no_output(out);
    result_free(&r);
    free(out);
}

Test(cli, help_mentions_defaults)
{
    result r = run("w2v-train", NULL, "-help", NULL);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "skip-gram") != NULL);
    cr_expect(strstr(r.out, "word2vec.c defaults to CBOW") != NULL);
    cr_expect(strstr(r.out, "-min-count") != NULL);
    result_free(&r);
}

Test(cli, every_numeric_flag_is_validated)
{
    const char *flags[] = {"-size", "-window", "-sample", "-negative",
                           "-hs", "-cbow", "-iter", "-min-count",
                           "-max-vocab", "-alpha", "-threads", "-binary",
                           "-seed"};
    const char *bad[] = {"abc", "-5", "1e99", "12x"};
    char *corpus = tu_write_file(NULL, "c.txt", "a b c\n", 6);
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
        for (size_t j = 0; j < sizeof bad / sizeof *bad; j++) {
            result r = run("w2v-train", NULL, "-corpus", corpus, flags[i],
                           bad[j], NULL);
            cr_expect_eq(r.status, 2, "%s %s: exit %d", flags[i], bad[j],
                         r.status);
            cr_expect(strstr(r.err, flags[i]) != NULL, "%s %s: %s",
                      flags[i], bad[j], r.err);
            result_free(&r);
        }
        /* A missing value. */
        result r = run("w2v-train", NULL, "-corpus", corpus, flags[i], NULL);
        cr_expect_eq(r.status, 2, "%s without a value", flags[i]);
        cr_expect(strstr(r.err, "needs a value") != NULL, "%s", r.err);
        result_free(&r);
    }
    free(corpus);
}

Test(cli, unknown_flag_suggests_the_closest)
{
    result r = run("w2v-train", NULL, "-corpus", "x", "-windoww", "3", NULL);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "did you mean -window?") != NULL, "%s", r.err);
    result_free(&r);
}

Test(cli, long_flags_and_train_alias)
{
    char *corpus = tu_path(tu_scratch(), "p.txt");
    cr_assert_eq(planted_write(corpus, 500, 1, NULL), 0);
    char *out = tu_path(tu_scratch(), "v.txt");
    result r = run("w2v-train", NULL, "-train", corpus, "--output", out,
                   "--size=8", "--iter", "1", "-binary", "0", "-min-count",
                   "1", "-quiet", NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    char *text = tu_read_file(out, NULL);
    unsigned long words, dim;
    cr_expect_eq(sscanf(text, "%lu %lu", &words, &dim), 2);
    cr_expect_eq(dim, 8);
    cr_expect(words > 20);
    free(text);
    result_free(&r);
    free(out);
    free(corpus);
}

Test(cli, stdin_and_vocabulary_round_trip)
{
    char *corpus = tu_path(tu_scratch(), "p.txt");
    cr_assert_eq(planted_write(corpus, 800, 2, NULL), 0);
    char *a = tu_path(tu_scratch(), "a.bin");
    char *b = tu_path(tu_scratch(), "b.bin");
    char *voc = tu_path(tu_scratch(), "vocab.txt");
    result r = run("w2v-train", NULL, "-corpus", corpus, "-output", a,
                   "-threads", "1", "-seed", "9", "-size", "10",
                   "-save-vocab", voc, "-quiet", NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    result_free(&r);
    r = run("w2v-train", corpus, "-corpus", "-", "-output", b, "-threads",
            "1", "-seed", "9", "-size", "10", "-read-vocab", voc, "-quiet",
            NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    size_t la, lb;
    char *da = tu_read_file(a, &la), *db = tu_read_file(b, &lb);
    cr_expect(la == lb && memcmp(da, db, la) == 0,
              "stdin + read-vocab differs from file + counted vocabulary");
    free(da);
    free(db);
    result_free(&r);
    free(a);
    free(b);
    free(voc);
    free(corpus);
}

Test(cli, missing_corpus)
{
    char *p = tu_path(tu_scratch(), "nope.txt");
    expect_bad_corpus(p, "No such file");
    free(p);
}

Test(cli, directory_as_corpus)
{
    expect_bad_corpus(tu_scratch(), "directory");
}

Test(cli, empty_corpus)
{
    char *p = tu_write_file(NULL, "empty.txt", "", 0);
    expect_bad_corpus(p, "no words");
    free(p);
}

Test(cli, nothing_reaches_min_count)
{
    char *p = tu_write_file(NULL, "few.txt", "a b c a\n", 8);
    char *out = tu_path(tu_scratch(), "vectors.bin");
    result r = run("w2v-train", NULL, "-corpus", p, "-output", out,
                   "-min-count", "3", "-quiet", NULL);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "at least 3 times") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "occurs 2 times") != NULL, "%s", r.err);
    expect_no_output(out);
    result_free(&r);
    free(out);
    free(p);
}

Test(cli, nul_byte_with_offset)
{
    char *p = tu_write_file(NULL, "nul.txt", "one two\0three\n", 14);
    expect_bad_corpus(p, "byte 7");
    free(p);
}

Test(cli, binary_junk)
{
    unsigned char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 2654435761u >> 13);
    char *p = tu_write_file(NULL, "junk.bin", junk, sizeof junk);
    expect_bad_corpus(p, "binary data");
    free(p);
}

Test(cli, corrupt_and_truncated_gzip)
{
    size_t len = 200000, glen;
    char *text = malloc(len);
    for (size_t i = 0; i < len; i++)
        text[i] = (i % 7 == 6) ? ' ' : (char)('a' + i % 26);
    unsigned char *gz = tu_gzip_bytes(text, len, &glen);
    char *cut = tu_write_file(NULL, "cut.gz", gz, glen / 2);
    expect_bad_corpus(cut, "gzip");
    for (size_t i = glen / 3; i < glen / 3 + 64; i++)
        gz[i] ^= 0x5a;
    char *bad = tu_write_file(NULL, "bad.gz", gz, glen);
    expect_bad_corpus(bad, "gzip");
    free(cut);
    free(bad);
    free(gz);
    free(text);
}

Test(cli, hundred_megabyte_line_without_whitespace)
{
    size_t len = 100u << 20;
    char *text = malloc(len);
    cr_assert_not_null(text);
    memset(text, 'x', len);
    char *p = tu_write_file(NULL, "line.txt", text, len);
    free(text);
    expect_bad_corpus(p, "longer than 65536 bytes");
    free(p);
}

Test(cli, unwritable_output_directory_fails_before_training)
{
    char *corpus = tu_path(tu_scratch(), "p.txt");
    cr_assert_eq(planted_write(corpus, 200, 3, NULL), 0);
    result r = run("w2v-train", NULL, "-corpus", corpus, "-output",
                   "/nonexistent-dir/v.bin", "-quiet", NULL);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "/nonexistent-dir") != NULL, "%s", r.err);
    result_free(&r);
    free(corpus);
}

/*
 * An existing directory as -output (or -save-vocab) is refused before the
 * corpus is even opened: the corpus here does not exist, and the message
 * is about the directory, not the corpus.
 */
Test(cli, output_directory_fails_before_training)
{
    char *missing = tu_path(tu_scratch(), "no-such-corpus.txt");
    char *slash = tu_path(tu_scratch(), "");
    const char *outputs[] = {tu_scratch(), slash};
    for (size_t i = 0; i < 2; i++) {
        result r = run("w2v-train", NULL, "-corpus", missing, "-output",
                       outputs[i], "-quiet", NULL);
        cr_expect_eq(r.status, 1, "%s: exit %d", outputs[i], r.status);
        cr_expect(strstr(r.err, "is a directory") != NULL, "%s", r.err);
        cr_expect(strstr(r.err, "No such file") == NULL,
                  "the corpus was opened first: %s", r.err);
        result_free(&r);
    }
    char *out = tu_path(tu_scratch(), "v.bin");
    result r = run("w2v-train", NULL, "-corpus", missing, "-output", out,
                   "-save-vocab", tu_scratch(), "-quiet", NULL);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "is a directory") != NULL, "%s", r.err);
    result_free(&r);
    free(out);
    free(slash);
    free(missing);
}

/*
 * -format picks any of the three formats, the same vectors in each; the
 * older -binary still works, and the two may not disagree.
 */
Test(cli, format_flag_and_binary_flag)
{
    char *corpus = tu_path(tu_scratch(), "p.txt");
    cr_assert_eq(planted_write(corpus, 300, 5, NULL), 0);
    const char *formats[] = {"binary", "native", "text"};
    char *bin = tu_path(tu_scratch(), "v.binary");
    char *first = NULL;
    for (size_t i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "v.%s", formats[i]);
        char *out = tu_path(tu_scratch(), name);
        result r = run("w2v-train", NULL, "-corpus", corpus, "-output", out,
                       "-format", formats[i], "-size", "8", "-threads", "1",
                       "-min-count", "1", "-iter", "1", NULL);
        cr_expect_eq(r.status, 0, "%s: %s", formats[i], r.err);
        cr_expect(strstr(r.err, formats[i]) != NULL, "summary: %s", r.err);
        result_free(&r);
        /* The same training (one thread, one seed) answers the same from
         * the binary and the native file. Text rounds to 6 decimals. */
        r = run("w2v-nearest", NULL, "-model", out, "-k", "3", "-format",
                "json", "king", NULL);
        cr_expect_eq(r.status, 0, "%s: %s", formats[i], r.err);
        if (i == 0)
            first = strdup(r.out);
        else if (i == 1)
            cr_expect_str_eq(r.out, first);
        result_free(&r);
        free(out);
    }
    free(first);
    size_t la, lb;
    char *o1 = tu_path(tu_scratch(), "old.bin");
    result r = run("w2v-train", NULL, "-corpus", corpus, "-output", o1,
                   "-binary", "1", "-size", "8", "-threads", "1",
                   "-min-count", "1", "-iter", "1", "-quiet", NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    result_free(&r);
    char *a = tu_read_file(o1, &la), *b = tu_read_file(bin, &lb);
    cr_expect(la == lb && memcmp(a, b, la) == 0,
              "-binary 1 and -format binary differ");
    free(a);
    free(b);
    r = run("w2v-train", NULL, "-corpus", corpus, "-binary", "1",
            "-format", "text", NULL);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "disagree") != NULL, "%s", r.err);
    result_free(&r);
    r = run("w2v-train", NULL, "-corpus", corpus, "-format", "gguf", NULL);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "-format gguf: expected text, binary or "
                            "native") != NULL, "%s", r.err);
    result_free(&r);
    free(o1);
    free(bin);
    free(corpus);
}

/* w2v-convert: binary -> native -> binary is the identity. */
Test(cli, convert_between_formats)
{
    char *corpus = tu_path(tu_scratch(), "p.txt");
    cr_assert_eq(planted_write(corpus, 300, 6, NULL), 0);
    char *bin = tu_path(tu_scratch(), "v.bin");
    char *nat = tu_path(tu_scratch(), "v.w2v");
    char *back = tu_path(tu_scratch(), "back.bin");
    result r = run("w2v-train", NULL, "-corpus", corpus, "-output", bin,
                   "-size", "8", "-min-count", "1", "-iter", "1", "-quiet",
                   NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    result_free(&r);
    r = run("w2v-convert", NULL, bin, nat, NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.err, "(binary) -> ") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "(native)") != NULL, "%s", r.err);
    result_free(&r);
    r = run("w2v-convert", NULL, "-format", "binary", nat, back, NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    result_free(&r);
    size_t la, lb;
    char *a = tu_read_file(bin, &la), *b = tu_read_file(back, &lb);
    cr_expect(la == lb && memcmp(a, b, la) == 0, "not the same bytes");
    free(a);
    free(b);
    r = run("w2v-convert", NULL, bin, NULL);
    cr_expect_eq(r.status, 2);
    result_free(&r);
    r = run("w2v-convert", NULL, "-format", "csv", bin, nat, NULL);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "-format csv") != NULL, "%s", r.err);
    result_free(&r);
    r = run("w2v-convert", NULL, corpus, nat, NULL);
    cr_expect_eq(r.status, 2, "a corpus is not a model: %s", r.err);
    cr_expect(strstr(r.err, "p.txt: byte 0") != NULL, "%s", r.err);
    result_free(&r);
    free(back);
    free(nat);
    free(bin);
    free(corpus);
}

/* Unsigned flags take the whole of their type, and nothing beyond it. */
Test(cli, seed_takes_any_64_bit_value)
{
    char *corpus = tu_write_file(NULL, "c.txt", "a b c a b c\n", 12);
    char *out = tu_path(tu_scratch(), "v.txt");
    const char *good[] = {"0", "9223372036854775808",
                          "18446744073709551615"};
    for (size_t i = 0; i < 3; i++) {
        result r = run("w2v-train", NULL, "-corpus", corpus, "-output", out,
                       "-binary", "0", "-size", "2", "-min-count", "1",
                       "-seed", good[i], "-quiet", NULL);
        cr_expect_eq(r.status, 0, "-seed %s: %s", good[i], r.err);
        result_free(&r);
    }
    struct {
        const char *flag, *value, *why;
    } bad[] = {
        {"-seed", "18446744073709551616", "out of range [0, "
         "18446744073709551615]"},
        {"-seed", "99999999999999999999999", "out of range"},
        {"-seed", "-1", "must not be negative"},
        {"-seed", "-18446744073709551615", "must not be negative"},
        {"-min-count", "-0", "must not be negative"},
        {"-max-vocab", "4000000001", "out of range [0, 4000000000]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        result r = run("w2v-train", NULL, "-corpus", corpus, "-output", out,
                       bad[i].flag, bad[i].value, NULL);
        cr_expect_eq(r.status, 2, "%s %s: exit %d", bad[i].flag,
                     bad[i].value, r.status);
        cr_expect(strstr(r.err, bad[i].why) != NULL, "%s %s: %s",
                  bad[i].flag, bad[i].value, r.err);
        result_free(&r);
    }
    free(out);
    free(corpus);
}

Test(cli, query_tools_answer_on_a_trained_model)
{
    char *corpus = tu_path(tu_scratch(), "p.txt");
    cr_assert_eq(planted_write(corpus, 20000, 4, NULL), 0);
    char *model = tu_path(tu_scratch(), "v.bin");
    result r = run("w2v-train", NULL, "-corpus", corpus, "-output", model,
                   "-size", "24", "-window", "4", "-sample", "0",
                   "-threads", "1", "-min-count", "1", "-quiet", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    result_free(&r);
    r = run("w2v-analogy", NULL, "-model", model, "-k", "1", "king", "man",
            "woman", NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "queen") != NULL, "%s", r.out);
    result_free(&r);
    r = run("w2v-nearest", NULL, "-model", model, "nosuchword", NULL);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "nosuchword") != NULL, "%s", r.err);
    result_free(&r);
    free(model);
    free(corpus);
}
