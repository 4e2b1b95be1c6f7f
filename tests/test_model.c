/*
 * test_model.c - models and the file formats: exact bytes of all three
 * formats, round trips, any word survives, atomic saves, the variants
 * other tools write, and strict errors with offsets or lines.
 */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "rng.h"
#include "testutil.h"
#include "w2v/model.h"
#include "w2v/vocab.h"

TestSuite(model, .init = tu_scratch_init, .fini = tu_scratch_fini);

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */

/*
 * A model of n words (word i = words[i], lens[i] bytes; lens NULL means
 * NUL-terminated) in that row order, and values[i * dim + j] (NULL: zero).
 */
static w2v_model *make_model(const char *const *words, const size_t *lens,
                             size_t n, size_t dim, const float *values)
{
    w2v_vocab *v = NULL;
    cr_assert_eq(w2v_vocab_new(&v, NULL), W2V_OK);
    for (size_t i = 0; i < n; i++) {
        size_t len = lens ? lens[i] : strlen(words[i]);
        w2v_error err = {0};
        cr_assert_eq(w2v_vocab_add(v, words[i], len, n - i, NULL, &err),
                     W2V_OK, "%s", err.message);
    }
    cr_assert_eq(w2v_vocab_finalize(v, 0, 0, NULL), W2V_OK);
    w2v_model *m = NULL;
    w2v_error err = {0};
    cr_assert_eq(w2v_model_new(v, dim, &m, &err), W2V_OK, "%s", err.message);
    cr_assert_eq(w2v_model_size(m), n);
    cr_assert_eq(w2v_model_dim(m), dim);
    for (size_t i = 0; i < n; i++) {
        float *row = w2v_model_vector(m, i);
        for (size_t j = 0; j < dim; j++) {
            cr_assert_eq(row[j], 0.0f, "a new model is zero");
            if (values != NULL)
                row[j] = values[i * dim + j];
        }
    }
    return m;
}

/* A model of n words "w<i>" with values uniform in (-scale, scale). */
static w2v_model *random_model(size_t n, size_t dim, float scale,
                               uint64_t seed)
{
    char **words = calloc(n, sizeof *words);
    float *values = calloc(n * dim, sizeof *values);
    cr_assert(words != NULL && values != NULL);
    w2v_rng r;
    w2v_rng_seed(&r, seed, 0);
    for (size_t i = 0; i < n; i++) {
        words[i] = malloc(32);
        snprintf(words[i], 32, "w%zu", i);
    }
    for (size_t k = 0; k < n * dim; k++)
        values[k] = (2 * w2v_rng_float(&r) - 1) * scale;
    w2v_model *m = make_model((const char *const *)words, NULL, n, dim,
                              values);
    for (size_t i = 0; i < n; i++)
        free(words[i]);
    free(words);
    free(values);
    return m;
}

static char *save_ok(const w2v_model *m, const char *name, int format)
{
    char *path = tu_path(tu_scratch(), name);
    w2v_error err = {0};
    cr_assert_eq(w2v_model_save(m, path, format, &err), W2V_OK, "%s",
                 err.message);
    return path;
}

static w2v_model *load_ok(const char *path)
{
    w2v_model *m = NULL;
    w2v_error err = {0};
    int rc = w2v_model_load(path, &m, &err);
    cr_assert_eq(rc, W2V_OK, "load %s: %s", path, err.message);
    cr_assert_not_null(m);
    return m;
}

/* Same words in the same order, values within tol (0: bit-exact). */
static void expect_same_model(const w2v_model *a, const w2v_model *b,
                              double tol)
{
    cr_assert_eq(w2v_model_size(a), w2v_model_size(b));
    cr_assert_eq(w2v_model_dim(a), w2v_model_dim(b));
    const w2v_vocab *va = w2v_model_vocab(a), *vb = w2v_model_vocab(b);
    size_t n = w2v_model_size(a), dim = w2v_model_dim(a);
    for (size_t i = 0; i < n; i++) {
        size_t len = w2v_vocab_word_len(va, i);
        cr_assert_eq(w2v_vocab_word_len(vb, i), len, "word %zu", i);
        cr_assert_eq(memcmp(w2v_vocab_word(va, i), w2v_vocab_word(vb, i),
                            len), 0, "word %zu", i);
        cr_assert_eq(w2v_vocab_find(vb, w2v_vocab_word(va, i), len),
                     (int64_t)i);
        const float *x = w2v_model_vector_const(a, i);
        const float *y = w2v_model_vector_const(b, i);
        if (tol == 0) {
            cr_assert_eq(memcmp(x, y, dim * sizeof *x), 0, "row %zu", i);
            continue;
        }
        for (size_t j = 0; j < dim; j++)
            cr_assert_leq(fabs((double)x[j] - y[j]), tol, "row %zu col %zu:"
                          " %.9g vs %.9g", i, j, (double)x[j], (double)y[j]);
    }
}

/*
 * Loads data[0, len) from a file and expects W2V_ERR_FORMAT (or code) with
 * every string of `want` (NULL-terminated list) in the message, and the
 * file name.
 */
static void expect_load_error(const void *data, size_t len, int code,
                              const char *const *want)
{
    char *path = tu_write_file(NULL, "bad.model", data, len);
    w2v_model *m = (w2v_model *)1;
    w2v_error err = {0};
    int rc = w2v_model_load(path, &m, &err);
    cr_assert_eq(rc, code, "status %d, expected %d: %s", rc, code,
                 err.message);
    cr_assert_null(m);
    cr_assert_eq(err.code, code);
    cr_assert_not_null(strstr(err.message, path), "no file name in: %s",
                       err.message);
    for (size_t i = 0; want != NULL && want[i] != NULL; i++)
        cr_assert_not_null(strstr(err.message, want[i]),
                           "expected \"%s\" in: %s", want[i], err.message);
    free(path);
}

#define BAD_MODEL(lit, ...)                                              \
    do {                                                                 \
        static const char *const want_[] = {__VA_ARGS__, NULL};          \
        expect_load_error(lit, sizeof lit - 1, W2V_ERR_FORMAT, want_);   \
    } while (0)

/* ---------------------------------------------------------------------- */
/* The tiny model and its exact bytes                                      */

static const char *const tiny_words[] = {"the", "cat"};
static const float tiny_values[] = {1.0f, -0.5f, 0.25f, 0.0f, 2.0f, -3.0f};

static const char tiny_text[] =
    "2 3\n"
    "the 1.000000 -0.500000 0.250000 \n"
    "cat 0.000000 2.000000 -3.000000 \n";

/* Little-endian IEEE-754: 1.0 = 3f800000, -0.5 = bf000000, ... */
static const char tiny_binary[] =
    "2 3\n"
    "the \x00\x00\x80\x3f\x00\x00\x00\xbf\x00\x00\x80\x3e\n"
    "cat \x00\x00\x00\x00\x00\x00\x00\x40\x00\x00\x40\xc0\n";

static w2v_model *tiny_model(void)
{
    return make_model(tiny_words, NULL, 2, 3, tiny_values);
}

static void expect_file_bytes(const char *path, const char *want,
                              size_t want_len)
{
    size_t len;
    char *got = tu_read_file(path, &len);
    cr_assert_eq(len, want_len, "%s: %zu bytes, expected %zu", path, len,
                 want_len);
    for (size_t i = 0; i < len; i++)
        cr_assert_eq(got[i], want[i], "%s: byte %zu is 0x%02x, expected "
                     "0x%02x", path, i, (unsigned char)got[i],
                     (unsigned char)want[i]);
    free(got);
}

Test(model, text_format_bytes)
{
    w2v_model *m = tiny_model();
    char *path = save_ok(m, "tiny.txt", W2V_FORMAT_TEXT);
    expect_file_bytes(path, tiny_text, sizeof tiny_text - 1);
    free(path);
    w2v_model_free(m);
}

Test(model, binary_format_bytes)
{
    w2v_model *m = tiny_model();
    char *path = save_ok(m, "tiny.bin", W2V_FORMAT_BINARY);
    expect_file_bytes(path, tiny_binary, sizeof tiny_binary - 1);
    free(path);
    w2v_model_free(m);
}

Test(model, hand_written_files_load)
{
    w2v_model *want = tiny_model();
    char *t = tu_write_file(NULL, "t", tiny_text, sizeof tiny_text - 1);
    char *b = tu_write_file(NULL, "b", tiny_binary, sizeof tiny_binary - 1);
    w2v_model *mt = load_ok(t), *mb = load_ok(b);
    expect_same_model(want, mt, 0);
    expect_same_model(want, mb, 0);
    /* Counts decrease with the row, so the file's order is kept. */
    const w2v_vocab *v = w2v_model_vocab(mb);
    cr_assert_gt(w2v_vocab_count(v, 0), w2v_vocab_count(v, 1));
    w2v_model_free(mt);
    w2v_model_free(mb);
    w2v_model_free(want);
    free(t);
    free(b);
}

/* ---------------------------------------------------------------------- */
/* Round trips                                                             */

/*
 * Puts values that text would lose in row id (dim >= 5): tiny, huge,
 * negative zero, subnormal, and 0.1, which no float is exactly.
 */
static void awkward_values(w2v_model *m, size_t id)
{
    float *row = w2v_model_vector(m, id);
    row[0] = 1e-30f;
    row[1] = -3.4e38f;
    row[2] = -0.0f;
    row[3] = 1e-45f;
    row[4] = 0.1f;
}

Test(model, binary_round_trip_is_bit_exact)
{
    w2v_model *m = random_model(200, 17, 5.0f, 1);
    awkward_values(m, 3);
    char *path = save_ok(m, "m.bin", W2V_FORMAT_BINARY);
    w2v_model *back = load_ok(path);
    expect_same_model(m, back, 0);
    w2v_model_free(back);
    w2v_model_free(m);
    free(path);
}

Test(model, text_round_trip_within_1e6)
{
    w2v_model *m = random_model(200, 17, 50.0f, 2);
    char *path = save_ok(m, "m.txt", W2V_FORMAT_TEXT);
    w2v_model *back = load_ok(path);
    expect_same_model(m, back, 1e-6);
    w2v_model_free(back);
    w2v_model_free(m);
    free(path);
}

Test(model, any_word_survives)
{
    /* A 10,000-byte word, UTF-8, bytes >= 0x80 that are not UTF-8, and
     * bytes that look like numbers or control characters. */
    size_t big = 10000;
    char *long_word = malloc(big);
    for (size_t i = 0; i < big; i++)
        long_word[i] = (char)('a' + i % 26);
    long_word[big / 2] = '\xc3';
    long_word[big / 2 + 1] = '\xa9';
    const char *words[] = {long_word, "\xe6\x97\xa5\xe6\x9c\xac",
                           "\xff\xfe\x80", "1.5", "-", "a\x01z", "\x7f",
                           "caf\xc3\xa9"};
    size_t n = sizeof words / sizeof *words;
    size_t lens[sizeof words / sizeof *words];
    for (size_t i = 0; i < n; i++)
        lens[i] = i == 0 ? big : strlen(words[i]);
    float values[8 * 4];
    for (size_t k = 0; k < n * 4; k++)
        values[k] = (float)k / 8 - 2;
    w2v_model *m = make_model(words, lens, n, 4, values);
    cr_assert_eq(w2v_vocab_word_len(w2v_model_vocab(m), 0), big);
    for (int format = 0; format < 2; format++) {
        char *path = save_ok(m, format ? "w.txt" : "w.bin", format);
        w2v_model *back = load_ok(path);
        expect_same_model(m, back, 0);
        w2v_model_free(back);
        free(path);
    }
    w2v_model_free(m);
    free(long_word);
}

/* ---------------------------------------------------------------------- */
/* Atomic output                                                           */

Test(model, save_into_missing_directory_leaves_nothing)
{
    w2v_model *m = tiny_model();
    char *path = tu_path(tu_scratch(), "missing/dir/m.bin");
    w2v_error err = {0};
    cr_assert_eq(w2v_model_save(m, path, W2V_FORMAT_BINARY, &err),
                 W2V_ERR_IO);
    cr_assert_eq(err.code, W2V_ERR_IO);
    cr_assert_not_null(strstr(err.message, path), "%s", err.message);
    cr_assert_eq(tu_count_entries(tu_scratch(), NULL), 0);
    free(path);
    w2v_model_free(m);
}

Test(model, save_replaces_an_existing_file)
{
    char *path = tu_write_file(NULL, "m.bin", "old contents that are long\n",
                               27);
    w2v_model *m = tiny_model();
    w2v_error err = {0};
    cr_assert_eq(w2v_model_save(m, path, W2V_FORMAT_BINARY, &err), W2V_OK,
                 "%s", err.message);
    expect_file_bytes(path, tiny_binary, sizeof tiny_binary - 1);
    cr_assert_eq(w2v_model_save(m, path, W2V_FORMAT_TEXT, &err), W2V_OK);
    expect_file_bytes(path, tiny_text, sizeof tiny_text - 1);
    /* Only the target is left: no temporary files. */
    cr_assert_eq(tu_count_entries(tu_scratch(), ".tmp."), 0);
    cr_assert_eq(tu_count_entries(tu_scratch(), NULL), 1);
    free(path);
    w2v_model_free(m);
}

Test(model, failed_rename_leaves_no_temporary)
{
    /* A directory where the file should go: the final rename fails. */
    char *dir = tu_path(tu_scratch(), "taken");
    cr_assert_eq(mkdir(dir, 0700), 0);
    char *inner = tu_write_file(dir, "keep.txt", "x", 1);
    w2v_model *m = tiny_model();
    w2v_error err = {0};
    cr_assert_eq(w2v_model_save(m, dir, W2V_FORMAT_TEXT, &err), W2V_ERR_IO);
    cr_assert_not_null(strstr(err.message, dir), "%s", err.message);
    cr_assert_eq(tu_count_entries(tu_scratch(), NULL), 1);
    cr_assert_eq(tu_count_entries(dir, NULL), 1);
    cr_assert(tu_exists(inner));
    /* Bad arguments fail before anything is created. */
    cr_assert_eq(w2v_model_save(m, "", W2V_FORMAT_TEXT, &err), W2V_ERR_ARG);
    char *path = tu_path(tu_scratch(), "m.bin");
    cr_assert_eq(w2v_model_save(m, path, 7, &err), W2V_ERR_ARG);
    cr_assert_eq(tu_count_entries(tu_scratch(), NULL), 1);
    free(path);
    w2v_model_free(m);
    free(inner);
    free(dir);
}

/* ---------------------------------------------------------------------- */
/* Variants other tools write                                              */

Test(model, gensim_text_without_trailing_space)
{
    const char text[] = "2 3\n"
                        "the 1 -0.5 0.25\n"
                        "cat 0 2e0 -3.000\n";
    char *path = tu_write_file(NULL, "g.txt", text, sizeof text - 1);
    w2v_model *m = load_ok(path), *want = tiny_model();
    expect_same_model(want, m, 0);
    w2v_model_free(m);
    free(path);
    /* CRLF line ends and a last row without a newline. */
    const char crlf[] = "2 3\r\n"
                        "the 1 -0.5 0.25\r\n"
                        "cat 0 2 -3";
    path = tu_write_file(NULL, "crlf.txt", crlf, sizeof crlf - 1);
    m = load_ok(path);
    expect_same_model(want, m, 0);
    w2v_model_free(m);
    w2v_model_free(want);
    free(path);
}

Test(model, gensim_binary_without_newlines)
{
    const char bin[] =
        "2 3\n"
        "the \x00\x00\x80\x3f\x00\x00\x00\xbf\x00\x00\x80\x3e"
        "cat \x00\x00\x00\x00\x00\x00\x00\x40\x00\x00\x40\xc0";
    char *path = tu_write_file(NULL, "g.bin", bin, sizeof bin - 1);
    w2v_model *m = load_ok(path), *want = tiny_model();
    expect_same_model(want, m, 0);
    w2v_model_free(m);
    w2v_model_free(want);
    free(path);
}

Test(model, text_detected_by_content_with_one_dimension)
{
    const char text[] = "3 1\na 0.5\nb -1.25\nc 3\n";
    char *path = tu_write_file(NULL, "m.bin", text, sizeof text - 1);
    w2v_model *m = load_ok(path);
    cr_assert_eq(w2v_model_size(m), 3);
    cr_assert_eq(w2v_model_vector(m, 1)[0], -1.25f);
    w2v_model_free(m);
    free(path);
}

Test(model, small_binary_models_are_not_taken_for_text)
{
    /*
     * Binary rows of a few floats, in word2vec's layout and gensim's (no
     * newlines), with values of either sign or positive only: the content
     * detection must never read them as text.
     */
    w2v_rng r;
    w2v_rng_seed(&r, 5, 0);
    char *file = malloc(4096);
    cr_assert_not_null(file);
    for (size_t dim = 2; dim <= 6; dim++) {
        for (int trial = 0; trial < 400; trial++) {
            int gensim = trial % 2;
            float lo = trial % 4 < 2 ? -1.0f : 0.0f;
            float values[3 * 6];
            size_t n = (size_t)snprintf(file, 64, "3 %zu\n", dim);
            for (size_t i = 0; i < 3; i++) {
                n += (size_t)snprintf(file + n, 16, "w%zu ", i);
                for (size_t j = 0; j < dim; j++) {
                    float x = lo + (1.0f - lo) * w2v_rng_float(&r);
                    values[i * dim + j] = x;
                    memcpy(file + n, &x, 4); /* a little-endian host */
                    n += 4;
                }
                if (!gensim)
                    file[n++] = '\n';
            }
            char *path = tu_write_file(NULL, "small.bin", file, n);
            w2v_model *m = NULL;
            w2v_error err = {0};
            int rc = w2v_model_load(path, &m, &err);
            cr_assert_eq(rc, W2V_OK, "dim %zu trial %d: %s", dim, trial,
                         err.message);
            cr_assert_eq(memcmp(w2v_model_vector_const(m, 0), values,
                                3 * dim * sizeof(float)), 0);
            w2v_model_free(m);
            free(path);
        }
    }
    free(file);
}

/* ---------------------------------------------------------------------- */
/* Errors                                                                  */

Test(model, truncated_binary_at_every_length)
{
    /* Every cut but the final newline (gensim omits it) is an error. */
    size_t full = sizeof tiny_binary - 1;
    for (size_t len = 1; len < full - 1; len++) {
        char *path = tu_write_file(NULL, "cut.bin", tiny_binary, len);
        w2v_model *m = (w2v_model *)1;
        w2v_error err = {0};
        int rc = w2v_model_load(path, &m, &err);
        cr_assert_eq(rc, W2V_ERR_FORMAT, "cut at %zu: status %d (%s)", len,
                     rc, err.message);
        cr_assert_null(m);
        cr_assert_not_null(strstr(err.message, "byte"), "cut at %zu: %s",
                           len, err.message);
        free(path);
    }
    /* A cut inside the vector of row 2 names the byte of that row. */
    static const char *const want[] = {"byte 25:", "row 2", NULL};
    expect_load_error(tiny_binary, 30, W2V_ERR_FORMAT, want);
}

Test(model, truncated_text)
{
    /*
     * Every cut before the last value of the last row (at byte 59) is an
     * error. (A cut inside that value may leave a shorter valid number,
     * which no reader of this format can notice.)
     */
    for (size_t len = 1; len <= 59; len++) {
        char *path = tu_write_file(NULL, "cut.txt", tiny_text, len);
        w2v_model *m = (w2v_model *)1;
        w2v_error err = {0};
        int rc = w2v_model_load(path, &m, &err);
        cr_assert_eq(rc, W2V_ERR_FORMAT, "cut at %zu: status %d", len, rc);
        cr_assert_null(m);
        free(path);
    }
}

Test(model, header_count_larger_than_rows)
{
    BAD_MODEL("3 3\n"
              "the 1.000000 -0.500000 0.250000 \n"
              "cat 0.000000 2.000000 -3.000000 \n",
              "byte 70:", "row 3", "truncated");
    BAD_MODEL("3 3\n"
              "the \x00\x00\x80\x3f\x00\x00\x00\xbf\x00\x00\x80\x3e\n"
              "cat \x00\x00\x00\x00\x00\x00\x00\x40\x00\x00\x40\xc0\n",
              "byte 38:", "row 3", "truncated");
    /* Big enough to pass the size check: the error names the row. */
    BAD_MODEL("3 1\na 1.5\nb 2.5\n", "byte 16", "row 3");
}

Test(model, header_dim_larger_than_rows)
{
    BAD_MODEL("2 4\n"
              "the 1.000000 -0.500000 0.250000 \n"
              "cat 0.000000 2.000000 -3.000000 \n",
              ":2:", "row 1 has 3 values");
    BAD_MODEL("2 4\n"
              "the \x00\x00\x80\x3f\x00\x00\x00\xbf\x00\x00\x80\x3e\n"
              "cat \x00\x00\x00\x00\x00\x00\x00\x40\x00\x00\x40\xc0\n",
              "byte ");
}

Test(model, short_and_long_text_rows)
{
    BAD_MODEL("2 3\n"
              "the 1.0 -0.5 0.25\n"
              "cat 0.0 2.0\n",
              ":3:", "row 2 has 2 values");
    BAD_MODEL("2 3\n"
              "the 1.0 -0.5\n"
              "cat 0.0 2.0 -3.0\n",
              ":2:", "row 1 has 2 values");
    BAD_MODEL("2 3\n"
              "the 1.0 -0.5 0.25\n"
              "cat 0.0 2.0 -3.0 4.0\n",
              ":3:", "more than 3 values");
    BAD_MODEL("2 3\n"
              "the 1.0 -0.5 0.25\n"
              "cat\n",
              "byte 22", "line 3");
}

Test(model, non_numeric_values)
{
    BAD_MODEL("2 3\n"
              "the 1.0 -0.5 0.25\n"
              "cat 0.0 x2 -3.0\n",
              ":3:", "\"x2\"", "not a number");
    BAD_MODEL("2 3\n"
              "the 1.0 -0.5 0.25\n"
              "cat 0.0 2.0.0 -3.0\n",
              ":3:", "not a number");
    BAD_MODEL("2 3\n"
              "the 1.0 -0.5 0.25\n"
              "cat 0.0 2,5 -3.0\n",
              ":3:", "not a number");
    /* In the first row too: the file is still text, not binary junk. */
    BAD_MODEL("2 3\n"
              "the 1.0 x 0.25\n"
              "cat 0.0 2.0 -3.0\n",
              ":2:", "\"x\"", "not a number");
    BAD_MODEL("2 3\n"
              "new york 1.0 -0.5 0.25\n"
              "cat 0.0 2.0 -3.0\n",
              ":2:", "\"york\"");
}

Test(model, nan_and_inf_in_text)
{
    BAD_MODEL("2 2\na 1 2\nb nan 1\n", ":3:", "value 1 of row 2");
    BAD_MODEL("2 2\na 1 2\nb 1 inf\n", ":3:", "value 2 of row 2");
    BAD_MODEL("2 2\na 1 2\nb 1 -inf\n", ":3:");
    BAD_MODEL("2 2\na 1 2\nb 1 -NaN\n", ":3:");
    BAD_MODEL("2 2\na 1 2\nb 1 1e39\n", ":3:");
    BAD_MODEL("2 2\na nan 2\nb 1 1\n", ":2:");
}

Test(model, nan_and_inf_in_binary)
{
    /* Value 2 of row 2 (byte 4 + 17 + 4 + 4 = 29) is a quiet NaN. */
    BAD_MODEL("2 3\n"
              "the \x00\x00\x80\x3f\x00\x00\x00\xbf\x00\x00\x80\x3e\n"
              "cat \x00\x00\x00\x00\x00\x00\xc0\x7f\x00\x00\x40\xc0\n",
              "byte 29:", "value 2 of row 2", "not finite");
    /* Value 3 of row 1 (byte 4 + 4 + 8 = 16) is +infinity. */
    BAD_MODEL("2 3\n"
              "the \x00\x00\x80\x3f\x00\x00\x00\xbf\x00\x00\x80\x7f\n"
              "cat \x00\x00\x00\x00\x00\x00\x00\x40\x00\x00\x40\xc0\n",
              "byte 16:", "value 3 of row 1");
    /* -infinity. */
    BAD_MODEL("2 3\n"
              "the \x00\x00\x80\x3f\x00\x00\x00\xbf\x00\x00\x80\x3e\n"
              "cat \x00\x00\x80\xff\x00\x00\x00\x40\x00\x00\x40\xc0\n",
              "byte 25:");
}

Test(model, empty_file_and_directory)
{
    static const char *const empty[] = {"empty", NULL};
    expect_load_error("", 0, W2V_ERR_FORMAT, empty);
    w2v_model *m = (w2v_model *)1;
    w2v_error err = {0};
    cr_assert_eq(w2v_model_load(tu_scratch(), &m, &err), W2V_ERR_IO);
    cr_assert_null(m);
    cr_assert_not_null(strstr(err.message, tu_scratch()), "%s", err.message);
    cr_assert_not_null(strstr(err.message, "directory"), "%s", err.message);
    char *missing = tu_path(tu_scratch(), "absent.bin");
    m = (w2v_model *)1;
    cr_assert_eq(w2v_model_load(missing, &m, &err), W2V_ERR_IO);
    cr_assert_null(m);
    cr_assert_not_null(strstr(err.message, missing), "%s", err.message);
    free(missing);
}

Test(model, duplicated_or_empty_word)
{
    BAD_MODEL("2 2\nthe 1 2\nthe 3 4\n", "byte 12", "row 2", "duplicate");
    BAD_MODEL("2 2\n"
              "ab \x00\x00\x80\x3f\x00\x00\x80\x3f\n"
              "ab \x00\x00\x80\x3f\x00\x00\x80\x3f\n",
              "byte 16", "duplicate");
    BAD_MODEL("2 2\nthe 1 2\n 3 4\n", "byte 12");
    BAD_MODEL("2 2\nthe 1 2\na\tb 3 4\n", "byte 12", "row 2");
}

Test(model, trailing_garbage)
{
    BAD_MODEL("1 2\na 1 2\nb 3 4\n", "byte 10:", "after the 1 rows");
    BAD_MODEL("1 2\n"
              "ab \x00\x00\x80\x3f\x00\x00\x80\x3f\n"
              "junk",
              "byte 16:");
    /* Blank lines at the end are fine. */
    const char ok[] = "1 2\na 1 2\n\n\n";
    char *path = tu_write_file(NULL, "ok.txt", ok, sizeof ok - 1);
    w2v_model *m = load_ok(path);
    cr_assert_eq(w2v_model_size(m), 1);
    w2v_model_free(m);
    free(path);
}

Test(model, garbage_headers)
{
    BAD_MODEL("hello world\n", "byte 0:", "word count");
    BAD_MODEL("2\nthe 1\n", "byte 1:");
    BAD_MODEL("2 x\nthe 1\n", "byte 2:", "dimension");
    BAD_MODEL("-2 3\n", "byte 0:");
    BAD_MODEL("2 3 4\n", "byte 4:");
    BAD_MODEL("0 3\n", "0 words");
    BAD_MODEL("2 0\n", "dimension 0");
    BAD_MODEL("99999999999999999999999 3\n", "too large");
    BAD_MODEL("1000000 1000000\na 1\n", "truncated");
    BAD_MODEL("\x89PNG\r\n\x1a\n", "byte 0:");
}

/* ---------------------------------------------------------------------- */
/* Construction                                                            */

Test(model, new_rejects_dimension_zero_and_owns_the_vocab)
{
    w2v_vocab *v = NULL;
    cr_assert_eq(w2v_vocab_new(&v, NULL), W2V_OK);
    cr_assert_eq(w2v_vocab_add(v, "a", 1, 1, NULL, NULL), W2V_OK);
    w2v_model *m = (w2v_model *)1;
    w2v_error err = {0};
    /* The vocabulary is the model's even on failure (no leak, no free). */
    cr_assert_eq(w2v_model_new(v, 0, &m, &err), W2V_ERR_ARG);
    cr_assert_null(m);
    w2v_model_free(NULL);
}

Test(model, vectors_are_rows_of_one_block)
{
    w2v_model *m = random_model(10, 7, 1.0f, 3);
    for (size_t i = 1; i < 10; i++)
        cr_assert_eq(w2v_model_vector_const(m, i),
                     w2v_model_vector_const(m, i - 1) + 7);
    cr_assert_eq(w2v_model_vector(m, 4), w2v_model_vector_const(m, 4));
    w2v_model_free(m);
}

/* ---------------------------------------------------------------------- */
/* The native format                                                       */

/* Little-endian fields of a native file, whatever the host. */
static uint64_t le_get(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int b = bytes - 1; b >= 0; b--)
        v = v << 8 | p[b];
    return v;
}

static void le_put(unsigned char *p, uint64_t v, int bytes)
{
    for (int b = 0; b < bytes; b++)
        p[b] = (unsigned char)(v >> (8 * b));
}

/*
 * Recomputes the matrix sum (byte 72) and the checksum (byte 80) of a
 * native file after a test changed it, from the offsets in its header, so
 * that the loader reaches the check the test is about. Written from the
 * format's description in w2v/model.h, not from the library's code.
 */
static void reseal(unsigned char *f, size_t len)
{
    uint64_t mo = le_get(f + 32, 8), mb = le_get(f + 40, 8);
    uint64_t vo = le_get(f + 48, 8), vb = le_get(f + 56, 8);
    if (mo <= len && mb <= len - mo) {
        uint64_t sum = 0;
        for (uint64_t i = 0; i < mb / 4; i++)
            sum += le_get(f + mo + 4 * i, 4) * (i + 1);
        le_put(f + 72, sum, 8);
    }
    if (vo <= len && vb <= len - vo) {
        le_put(f + 80, 0, 4);
        uLong crc = crc32(0L, Z_NULL, 0);
        crc = crc32(crc, f, 88);
        crc = crc32(crc, f + vo, (uInt)vb);
        le_put(f + 80, crc, 4);
    }
}

/* The tiny model saved natively: its bytes (caller frees) and length. */
static unsigned char *tiny_native(size_t *len)
{
    w2v_model *m = tiny_model();
    char *path = save_ok(m, "tiny.w2v", W2V_FORMAT_NATIVE);
    unsigned char *bytes = (unsigned char *)tu_read_file(path, len);
    w2v_model_free(m);
    free(path);
    return bytes;
}

Test(model, native_format_bytes)
{
    size_t len;
    unsigned char *f = tiny_native(&len);
    /* Header 88, padding to 128, 2 x 3 floats (24), then the vocabulary
     * at 152: two counts (16) and "the", "cat" (4 + 3 each). */
    cr_assert_eq(len, 152 + 16 + 14);
    cr_assert_eq(memcmp(f, "\x89W2V\r\n\x1a\n", 8), 0);
    cr_assert_eq(le_get(f + 8, 4), 1, "version");
    cr_assert_eq(le_get(f + 12, 4), 0, "flags");
    cr_assert_eq(le_get(f + 16, 8), 2, "words");
    cr_assert_eq(le_get(f + 24, 8), 3, "dim");
    cr_assert_eq(le_get(f + 32, 8), 128, "matrix offset");
    cr_assert_eq(le_get(f + 40, 8), 24, "matrix bytes");
    cr_assert_eq(le_get(f + 48, 8), 152, "vocabulary offset");
    cr_assert_eq(le_get(f + 56, 8), 30, "vocabulary bytes");
    cr_assert_eq(le_get(f + 64, 8), len, "file bytes");
    cr_assert_eq(le_get(f + 84, 4), 0, "reserved");
    for (size_t i = 88; i < 128; i++)
        cr_assert_eq(f[i], 0, "padding byte %zu", i);
    /* The floats exactly as in the word2vec binary rows. */
    cr_assert_eq(memcmp(f + 128, tiny_binary + 8, 12), 0);
    cr_assert_eq(memcmp(f + 140, tiny_binary + 25, 12), 0);
    /* Counts 2 and 1 (make_model gives n - i), then the words. */
    cr_assert_eq(le_get(f + 152, 8), 2);
    cr_assert_eq(le_get(f + 160, 8), 1);
    cr_assert_eq(memcmp(f + 168, "\x03\0\0\0the\x03\0\0\0cat", 14), 0);
    /* The checks match a computation from the description alone. */
    unsigned char *copy = malloc(len);
    memcpy(copy, f, len);
    reseal(copy, len);
    cr_assert_eq(memcmp(copy, f, len), 0, "matrix sum or checksum");
    free(copy);
    free(f);
}

Test(model, native_round_trip_keeps_vectors_and_counts)
{
    w2v_model *m = random_model(300, 13, 5.0f, 7);
    awkward_values(m, 5);
    char *path = save_ok(m, "m.w2v", W2V_FORMAT_NATIVE);
    w2v_model *back = NULL;
    int format = -1;
    w2v_error err = {0};
    cr_assert_eq(w2v_model_load_format(path, &back, &format, &err), W2V_OK,
                 "%s", err.message);
    cr_assert_eq(format, W2V_FORMAT_NATIVE);
    cr_assert_str_eq(w2v_format_name(format), "native");
    expect_same_model(m, back, 0);
    const w2v_vocab *a = w2v_model_vocab(m), *b = w2v_model_vocab(back);
    for (size_t i = 0; i < 300; i++)
        cr_assert_eq(w2v_vocab_count(a, i), w2v_vocab_count(b, i));
    /* The matrix is used in place, 64-byte aligned. */
    cr_assert_eq((uintptr_t)w2v_model_vector_const(back, 0) % 64, 0);
    /* Writing to the loaded model changes the model, not the file. */
    size_t before_len, after_len;
    char *before = tu_read_file(path, &before_len);
    w2v_model_vector(back, 0)[0] = 12345.0f;
    cr_assert_eq(w2v_model_vector_const(back, 0)[0], 12345.0f);
    char *after = tu_read_file(path, &after_len);
    cr_assert(before_len == after_len &&
              memcmp(before, after, before_len) == 0);
    free(before);
    free(after);
    w2v_model_free(back);
    w2v_model_free(m);
    free(path);
}

/*
 * The same vectors through every format: values that %f writes exactly
 * (multiples of 1/64), so that text too gives them back bit for bit, and
 * every conversion between formats keeps them.
 */
Test(model, three_formats_give_identical_vectors)
{
    size_t n = 40, dim = 9;
    w2v_model *m = random_model(n, dim, 1.0f, 3);
    for (size_t i = 0; i < n; i++) {
        float *row = w2v_model_vector(m, i);
        for (size_t j = 0; j < dim; j++)
            row[j] = (float)((long)(row[j] * 4096) % 640) / 64.0f;
    }
    const int formats[] = {W2V_FORMAT_TEXT, W2V_FORMAT_BINARY,
                           W2V_FORMAT_NATIVE};
    const char *names[] = {"m.txt", "m.bin", "m.w2v"};
    for (int i = 0; i < 3; i++) {
        char *path = save_ok(m, names[i], formats[i]);
        w2v_model *back = NULL;
        int format = -1;
        w2v_error err = {0};
        cr_assert_eq(w2v_model_load_format(path, &back, &format, &err),
                     W2V_OK, "%s", err.message);
        cr_assert_eq(format, formats[i], "%s read as %s", names[i],
                     w2v_format_name(format));
        expect_same_model(m, back, 0);
        /* ...and saved from there in each other format. */
        for (int k = 0; k < 3; k++) {
            char *again = save_ok(back, "again", formats[k]);
            w2v_model *twice = load_ok(again);
            expect_same_model(m, twice, 0);
            w2v_model_free(twice);
            free(again);
        }
        w2v_model_free(back);
        free(path);
    }
    w2v_model_free(m);
}

Test(model, native_from_a_pipe_is_copied_and_aligned)
{
    w2v_model *m = random_model(50, 16, 2.0f, 4);
    char *path = save_ok(m, "m.w2v", W2V_FORMAT_NATIVE);
    size_t len;
    char *bytes = tu_read_file(path, &len);
    tu_stdin_from_pipe(bytes, len);
    w2v_model *back = load_ok("/dev/stdin");
    expect_same_model(m, back, 0);
    cr_assert_eq((uintptr_t)w2v_model_vector_const(back, 0) % 64, 0);
    w2v_model_free(back);
    w2v_model_free(m);
    free(bytes);
    free(path);
}

Test(model, native_refuses_nan_on_save)
{
    w2v_model *m = tiny_model();
    w2v_model_vector(m, 1)[2] = NAN;
    char *path = tu_path(tu_scratch(), "nan.w2v");
    w2v_error err = {0};
    cr_assert_eq(w2v_model_save(m, path, W2V_FORMAT_NATIVE, &err),
                 W2V_ERR_ARG);
    cr_assert(strstr(err.message, "value 3 of row 2") != NULL, "%s",
              err.message);
    cr_assert(!tu_exists(path));
    free(path);
    w2v_model_free(m);
}

Test(model, truncated_native_at_every_length)
{
    size_t full;
    unsigned char *f = tiny_native(&full);
    for (size_t len = 1; len < full; len++) {
        char *path = tu_write_file(NULL, "cut.w2v", f, len);
        w2v_model *m = (w2v_model *)1;
        w2v_error err = {0};
        int rc = w2v_model_load(path, &m, &err);
        cr_assert_eq(rc, W2V_ERR_FORMAT, "cut at %zu: status %d (%s)", len,
                     rc, err.message);
        cr_assert_null(m);
        cr_assert(strstr(err.message, "byte") != NULL, "cut at %zu: %s",
                  len, err.message);
        if (len >= 88) {
            char want[64];
            snprintf(want, sizeof want, "byte %zu: the file ends", len);
            cr_assert(strstr(err.message, want) != NULL, "%s",
                      err.message);
            cr_assert(strstr(err.message, "truncated") != NULL, "%s",
                      err.message);
        }
        free(path);
    }
    free(f);
}

/*
 * One damaged native file: the tiny model's bytes with `width` bytes at
 * `at` set to value (little-endian), or changed by edit when it is not
 * NULL, then (when reseal_it) given a matching matrix sum and checksum, so
 * that the loader gets past those to the problem under test.
 */
static void expect_bad_native(size_t at, int width, uint64_t value,
                              void (*edit)(unsigned char *f, size_t *len),
                              int reseal_it, const char *const *want)
{
    size_t len;
    unsigned char *f = tiny_native(&len);
    unsigned char *g = calloc(1, len + 64);
    memcpy(g, f, len);
    if (edit != NULL)
        edit(g, &len);
    else
        le_put(g + at, value, width);
    if (reseal_it)
        reseal(g, len);
    expect_load_error(g, len, W2V_ERR_FORMAT, want);
    free(g);
    free(f);
}

/* A text-mode transfer: "\r\n" in the magic becomes "\n". */
static void magic_crlf(unsigned char *f, size_t *len)
{
    memmove(f + 4, f + 5, *len - 5);
    (*len)--;
}

static void file_bytes_larger(unsigned char *f, size_t *len)
{
    le_put(f + 64, *len + 8, 8);
}

static void trailing_bytes(unsigned char *f, size_t *len)
{
    (void)f;
    *len += 8;
}

static void flipped_bit(unsigned char *f, size_t *len)
{
    (void)len;
    f[128 + 13] ^= 0x10;
}

/* Eight more vocabulary bytes that no word covers. */
static void words_leave_bytes(unsigned char *f, size_t *len)
{
    le_put(f + 56, le_get(f + 56, 8) + 8, 8);
    le_put(f + 64, *len + 8, 8);
    *len += 8;
}

/* A header or vocabulary field set to a value; a change made by a function. */
#define BAD_FIELD(at, width, value, reseal_it, ...)                       \
    do {                                                                  \
        static const char *const want_[] = {__VA_ARGS__, NULL};           \
        expect_bad_native(at, width, value, NULL, reseal_it, want_);      \
    } while (0)
#define BAD_EDIT(edit, reseal_it, ...)                                    \
    do {                                                                  \
        static const char *const want_[] = {__VA_ARGS__, NULL};           \
        expect_bad_native(0, 0, 0, edit, reseal_it, want_);               \
    } while (0)

Test(model, bad_native_headers)
{
    BAD_EDIT(magic_crlf, 0, "byte 4:", "damaged native magic");
    BAD_FIELD(8, 4, 2, 1, "byte 8:", "version 2", "version 1 only");
    BAD_FIELD(12, 4, 4, 1, "byte 12:", "unknown flags 0x4");
    BAD_FIELD(86, 1, 1, 1, "byte 84:", "reserved");
    BAD_FIELD(16, 8, 3, 1, "byte 40:", "3 words x 3", "lying header");
    BAD_FIELD(24, 8, 2, 1, "byte 40:", "2 words x 2", "lying header");
    BAD_FIELD(32, 8, 132, 1, "byte 32:", "132", "not a multiple of 64");
    BAD_FIELD(32, 8, 64, 1, "byte 32:", "overlaps the 88-byte header");
    BAD_FIELD(32, 8, 192, 1, "byte 32:", "runs past the end");
    BAD_FIELD(48, 8, 156, 1, "byte 48:", "not a multiple of 8");
    BAD_FIELD(48, 8, 136, 1, "byte 48:", "overlaps the matrix");
    BAD_FIELD(48, 8, 0, 0, "byte 48:", "overlaps the 88-byte header");
    BAD_EDIT(file_bytes_larger, 1, "byte 182: the file ends", "truncated");
    BAD_EDIT(trailing_bytes, 0, "byte 182:", "data after the end");
}

Test(model, bad_native_contents)
{
    /* NaN at row 2, value 2 (byte 144); -infinity at row 1, value 3. */
    BAD_FIELD(144, 4, 0x7fc00000u, 1, "byte 144:",
              "value 2 of row 2 is not finite");
    BAD_FIELD(144, 4, 0x7fc00000u, 0, "byte 144:", "not finite");
    BAD_FIELD(136, 4, 0xff800000u, 1, "byte 136:",
              "value 3 of row 1 is not finite");
    BAD_EDIT(flipped_bit, 0, "byte 72:", "matrix sum", "damaged");
    BAD_FIELD(152, 1, 9, 0, "byte 80:", "checksum", "damaged");
    /* "cat" (at 179, its length at 175) becomes "the", or "c t". */
    BAD_FIELD(179, 3, 't' | 'h' << 8 | 'e' << 16, 1, "byte 179", "word 2",
              "duplicate word \"the\" (first in row 1)");
    BAD_FIELD(180, 1, ' ', 1, "byte 179", "word 2");
    BAD_FIELD(175, 4, 0, 1, "byte 175:", "word 2 has length 0");
    BAD_FIELD(175, 4, 4, 1, "byte 175:", "past the end of the vocabulary");
    BAD_EDIT(words_leave_bytes, 1, "byte 182:", "8 bytes left in the "
             "vocabulary after its 2 words");
}

/*
 * Random damage to a native file, with and without fresh checks, is
 * either harmless or a format error: never a crash (the sanitizer build
 * runs this too) and never a model with a non-finite value.
 */
Test(model, native_survives_random_damage)
{
    w2v_model *m = random_model(20, 6, 1.0f, 9);
    char *path = save_ok(m, "m.w2v", W2V_FORMAT_NATIVE);
    size_t len;
    unsigned char *f = (unsigned char *)tu_read_file(path, &len);
    unsigned char *g = malloc(len);
    w2v_rng r;
    w2v_rng_seed(&r, 11, 0);
    char *bad = tu_path(tu_scratch(), "bad.w2v");
    size_t loaded = 0;
    for (int t = 0; t < 1500; t++) {
        memcpy(g, f, len);
        int edits = 1 + (int)(w2v_rng_float(&r) * 4);
        for (int e = 0; e < edits; e++) {
            /* Mostly the header and vocabulary, where the structure is. */
            size_t at = w2v_rng_float(&r) < 0.7f
                            ? (size_t)(w2v_rng_float(&r) * 88)
                            : (size_t)(w2v_rng_float(&r) * (float)len);
            g[at < len ? at : len - 1] ^=
                (unsigned char)(1u << (int)(w2v_rng_float(&r) * 8));
        }
        if (t % 2)
            reseal(g, len);
        size_t cut = t % 7 == 0 ? (size_t)(w2v_rng_float(&r) * (float)len)
                                : len;
        FILE *out = fopen(bad, "wb");
        cr_assert_not_null(out);
        fwrite(g, 1, cut, out);
        fclose(out);
        w2v_model *back = NULL;
        w2v_error err = {0};
        int rc = w2v_model_load(bad, &back, &err);
        cr_assert(rc == W2V_OK || rc == W2V_ERR_FORMAT, "try %d: %d %s", t,
                  rc, err.message);
        if (rc == W2V_OK) {
            loaded++;
            size_t cells = w2v_model_size(back) * w2v_model_dim(back);
            const float *v = w2v_model_vector_const(back, 0);
            for (size_t i = 0; i < cells; i++)
                cr_assert(isfinite(v[i]));
            w2v_model_free(back);
        } else {
            cr_assert_null(back);
        }
    }
    /* A flip in a resealed count or value loads; most others do not. */
    cr_assert_lt(loaded, 1500);
    free(bad);
    free(g);
    free(f);
    free(path);
    w2v_model_free(m);
}
