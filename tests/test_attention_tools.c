/*
 * test_attention_tools.c - w2v-tokenize, w2v-export and w2v-attention
 * through the built binaries on a tiny hand-made model: their output, the
 * files they write (read back with the library), the SVG heatmap (checked
 * as XML), and a clear message with exit status 2 and no output file for
 * every kind of bad input.
 */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "w2v/attention.h"
#include "w2v/export.h"
#include "w2v/model.h"
#include "xmlcheck.h"

TestSuite(attntools, .init = tu_scratch_init, .fini = tu_scratch_fini);

/* ---------------------------------------------------------------------- */
/* Running the tools                                                       */

typedef tu_run run;

/* Runs build/bin/<tool> with args (NULL-terminated), stdin from input. */
static run run_tool(const char *tool, const char *input,
                    const char *const *args)
{
    return tu_run_tool(tool, input ? input : "", input ? strlen(input) : 0,
                       NULL, args);
}

static void run_free(run *r)
{
    tu_run_free(r);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Runs the tool and expects exit status 2 with `msg` on stderr. */
static void expect_usage(const char *tool, const char *msg,
                         const char *const *args)
{
    run r = run_tool(tool, NULL, args);
    cr_expect_eq(r.status, 2, "%s: status %d, stderr: %s", msg, r.status,
                 r.err);
    cr_expect(strstr(r.err, msg) != NULL, "wanted \"%s\" in: %s", msg,
              r.err);
    run_free(&r);
}

/* ---------------------------------------------------------------------- */
/* A tiny model                                                            */

/* Six words of dimension 4, in row order (text format keeps the order). */
static const char model_text[] =
    "6 4\n"
    "the 0.1 0.2 0.3 0.4\n"
    "sky 1 0 0 0\n"
    "was 0 1 0 0\n"
    "blue 0 0 1 0\n"
    "tennis 0.5 0.5 -0.5 1\n"
    "player 0.4 0.6 -0.4 0.9\n";

static char *model_path(void)
{
    return tu_write_file(NULL, "model.txt", model_text, strlen(model_text));
}

/* ---------------------------------------------------------------------- */
/* w2v-tokenize                                                            */

Test(attntools, tokenize_prints_tokens_and_ids)
{
    char *m = model_path();
    run r = run_tool("w2v-tokenize", NULL,
                     ARGS("-model", m, "The sky was BLUE, 2 skies."));
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "the sky was blue two skies") != NULL, "%s",
              r.out);
    cr_expect(strstr(r.out, "      1  sky") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "6  two  -> <|unk|>") != NULL, "%s", r.out);
    cr_expect(strstr(r.err, "\"skies\" is not in the vocabulary") != NULL,
              "%s", r.err);
    run_free(&r);

    r = run_tool("w2v-tokenize", "the sky\n\nwas blue\n",
                 ARGS("-model", m, "-json"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_str_eq(r.out,
                     "{\"normalised\":\"the sky\\nwas blue\",\"vocab_size\":6,"
                     "\"unk_id\":6,\"eot_id\":7,\"tokens\":[{\"token\":\"the\","
                     "\"id\":0},{\"token\":\"sky\",\"id\":1},{\"token\":"
                     "\"<|endoftext|>\",\"id\":7},{\"token\":\"was\",\"id\":2}"
                     ",{\"token\":\"blue\",\"id\":3}]}\n");
    run_free(&r);
    free(m);
}

Test(attntools, tokenize_bad_input)
{
    char *m = model_path();
    expect_usage("w2v-tokenize", "has no words", ARGS("-model", m, "..."));
    expect_usage("w2v-tokenize", "model.bad",
                 ARGS("-model", "/nonexistent/model.bad", "sky"));
    expect_usage("w2v-tokenize", "-jsn", ARGS("-model", m, "-jsn", "x"));
    free(m);
}

/* ---------------------------------------------------------------------- */
/* w2v-export                                                              */

Test(attntools, export_writes_all_three_files)
{
    char *m = model_path();
    char *npy = tu_path(tu_scratch(), "W_E.npy");
    char *st = tu_path(tu_scratch(), "W_E.safetensors");
    char *voc = tu_path(tu_scratch(), "vocab.txt");
    run r = run_tool("w2v-export", NULL, ARGS("-model", m, "-npy", npy,
                                              "-safetensors", st, "-vocab",
                                              voc));
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "W_E: (8, 4)") != NULL, "%s", r.out);
    run_free(&r);

    w2v_model *model = NULL;
    cr_assert_eq(w2v_model_load(m, &model, NULL), W2V_OK);
    float *a = NULL, *b = NULL;
    size_t ra, ca, rb, cb;
    w2v_error err = {0};
    cr_assert_eq(w2v_export_npy_read(npy, &a, &ra, &ca, &err), W2V_OK, "%s",
                 err.message);
    cr_assert_eq(w2v_export_safetensors_read(st, W2V_EXPORT_TENSOR, &b, &rb,
                                             &cb, &err), W2V_OK, "%s",
                 err.message);
    cr_assert_eq(ra, 8);
    cr_assert_eq(ca, 4);
    cr_assert_eq(rb, 8);
    cr_assert_eq(cb, 4);
    cr_assert_eq(memcmp(a, b, 8 * 4 * sizeof(float)), 0);
    for (size_t i = 0; i < 6; i++)
        cr_assert_eq(memcmp(a + i * 4, w2v_model_vector_const(model, i),
                            4 * sizeof(float)), 0, "row %zu", i);
    /* <|unk|>: the mean; <|endoftext|>: zeros */
    cr_expect_float_eq(a[6 * 4 + 0], (0.1 + 1 + 0.5 + 0.4) / 6, 1e-6);
    for (size_t j = 0; j < 4; j++)
        cr_expect_eq(a[7 * 4 + j], 0.0f);
    char *text = tu_read_file(voc, NULL);
    cr_expect_str_eq(text, "the\nsky\nwas\nblue\ntennis\nplayer\n<|unk|>\n"
                           "<|endoftext|>\n");
    free(text);
    free(a);
    free(b);
    w2v_model_free(model);
    free(npy);
    free(st);
    free(voc);
    free(m);
}

Test(attntools, export_bad_input)
{
    char *m = model_path();
    expect_usage("w2v-export", "nothing to write", ARGS("-model", m));
    expect_usage("w2v-export", "unexpected argument",
                 ARGS("-model", m, "-npy", "x.npy", "extra"));
    char *bad = tu_write_file(NULL, "bad.txt", "2 2\na 1 2\n", 10);
    char *npy = tu_path(tu_scratch(), "W_E.npy");
    expect_usage("w2v-export", "bad.txt", ARGS("-model", bad, "-npy", npy));
    cr_expect(!tu_exists(npy));
    run r = run_tool("w2v-export", NULL,
                     ARGS("-model", m, "-npy", "/nonexistent/dir/W_E.npy"));
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "/nonexistent/dir/W_E.npy") != NULL, "%s", r.err);
    run_free(&r);
    cr_expect_eq(tu_count_entries(tu_scratch(), ".tmp"), 0);
    free(bad);
    free(npy);
    free(m);
}

/* ---------------------------------------------------------------------- */
/* w2v-attention                                                           */

Test(attntools, attention_walks_through_every_step)
{
    char *m = model_path();
    run r = run_tool("w2v-attention", NULL,
                     ARGS("-model", m, "the sky was blue tennis", "player",
                          "-focus", "Tennis", "-heads", "2", "-dk", "3"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    static const char *const want[] = {
        "1. Tokens and their embeddings", "2. Positional encoding",
        "3. Projections", "4. Scores and softmax", "5. Attention weights",
        "6. Focus: what \"tennis\" attends to", "7. Context vectors",
        "Q, K, V: (6 x 6) = 2 heads x d_k 3", "head 2 of 2",
        "Worked example, head 1, row 4 (\"tennis\" as the query)",
        "C = [C_1 | C_2]: (6 x 6)",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_expect(strstr(r.out, want[i]) != NULL, "no \"%s\" in:\n%s",
                  want[i], r.out);
    run_free(&r);
    free(m);
}

/* Writes a (rows, cols) .npy of the identity-like pattern; returns path. */
static char *weight_file(const char *name, size_t rows, size_t cols)
{
    float *w = calloc(rows * cols, sizeof *w);
    for (size_t i = 0; i < rows && i < cols; i++)
        w[i * cols + i] = 1;
    char *path = tu_path(tu_scratch(), name);
    cr_assert_eq(w2v_export_npy_write(path, w, rows, cols, NULL), W2V_OK);
    free(w);
    return path;
}

/* The JSON text of member name: from its '[' to the matching ']'. */
static char *json_member(const char *json, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "\"%s\":[", name);
    const char *at = strstr(json, key);
    cr_assert_not_null(at, "no %s", key);
    at += strlen(key) - 1;
    int depth = 0;
    const char *p = at;
    do {
        depth += *p == '[';
        depth -= *p == ']';
        p++;
    } while (depth > 0 && *p);
    return strndup(at, (size_t)(p - at));
}

Test(attntools, attention_tied_weights)
{
    char *m = model_path();
    run r = run_tool("w2v-attention", NULL,
                     ARGS("-model", m, "the sky was", "-tied", "-json"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "\"tied\":true") != NULL);
    char *wq = json_member(r.out, "w_q"), *wk = json_member(r.out, "w_k");
    char *wv = json_member(r.out, "w_v");
    cr_expect_str_eq(wq, wk);
    cr_expect_str_neq(wq, wv);
    free(wq);
    free(wk);
    free(wv);
    run_free(&r);
    char *w = weight_file("w.npy", 4, 4);
    expect_usage("w2v-attention", "-tied draws W_K = W_Q",
                 ARGS("-model", m, "-tied", "-wq", w, "-wk", w, "-wv", w,
                      "sky"));
    free(w);
    free(m);
}

Test(attntools, attention_unknown_word_is_a_note)
{
    char *m = model_path();
    run r = run_tool("w2v-attention", NULL,
                     ARGS("-model", m, "the alcaraz sky", "-json"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.err, "\"alcaraz\" is not in the vocabulary") != NULL,
              "%s", r.err);
    cr_expect(strstr(r.out, "{\"token\":\"alcaraz\",\"id\":6,\"unknown\":"
                            "true}") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "\"d_k\":2,") != NULL, "D / heads: %s", r.out);
    cr_expect(strstr(r.out, "\"context\":[[") != NULL);
    run_free(&r);
    free(m);
}

Test(attntools, attention_weights_from_files)
{
    char *m = model_path();
    char *w = weight_file("w.npy", 4, 4);
    /* W = I, no positions, one head: scores are x_i . x_j / 2 */
    run r = run_tool("w2v-attention", NULL,
                     ARGS("-model", m, "sky was", "-pos", "none", "-heads",
                          "1", "-wq", w, "-wk", w, "-wv", w, "-json"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "\"scores\":[[[0.5,0],[0,0.5]]]") != NULL, "%s",
              r.out);
    double e = exp(0.5), w0 = e / (e + 1), w1 = 1 / (e + 1);
    const char *at = strstr(r.out, "\"weights\":[[[");
    cr_assert_not_null(at, "%s", r.out);
    double a[4];
    cr_assert_eq(sscanf(at, "\"weights\":[[[%lf,%lf],[%lf,%lf]]]", &a[0],
                        &a[1], &a[2], &a[3]), 4, "%s", at);
    cr_expect_float_eq(a[0], w0, 1e-6);
    cr_expect_float_eq(a[1], w1, 1e-6);
    cr_expect_float_eq(a[2], w1, 1e-6);
    cr_expect_float_eq(a[3], w0, 1e-6);
    run_free(&r);
    free(w);
    free(m);
}

Test(attntools, attention_svg_heatmap)
{
    char *m = model_path();
    char *svg = tu_path(tu_scratch(), "att.svg");
    run r = run_tool("w2v-attention", NULL,
                     ARGS("-model", m, "the <sky> & was", "-heads", "3",
                          "-causal", "-svg", svg));
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "wrote ") != NULL);
    run_free(&r);
    size_t len = 0;
    char *text = tu_read_file(svg, &len);
    xc_doc d;
    char why[256];
    cr_assert_eq(xc_parse(text, len, &d, why, sizeof why), 0, "%s", why);
    size_t rects = 0, groups = 0;
    for (size_t i = 0; i < d.n; i++) {
        rects += strcmp(d.el[i].name, "rect") == 0;
        groups += strcmp(d.el[i].name, "g") == 0 &&
                  strstr(d.el[i].attrs, "id=\"head ") != NULL;
    }
    cr_expect_eq(groups, 3, "one panel per head");
    /* background + 3 heads x 9 cells + legend steps + masked sample */
    cr_expect_geq(rects, 1 + 27);
    cr_expect(strstr(text, "was -&gt; sky") != NULL ||
              strstr(text, "was -> sky") != NULL, "tooltips name tokens");
    xc_free(&d);
    free(text);
    free(svg);
    free(m);
}

Test(attntools, attention_bad_input)
{
    char *m = model_path();
    expect_usage("w2v-attention", "no sentence", ARGS("-model", m));
    expect_usage("w2v-attention", "has no words", ARGS("-model", m, "!?"));
    expect_usage("w2v-attention", "-dk", ARGS("-model", m, "-dk", "0", "sky"));
    expect_usage("w2v-attention", "-dk",
                 ARGS("-model", m, "-dk", "5000", "sky"));
    expect_usage("w2v-attention", "-heads",
                 ARGS("-model", m, "-heads", "0", "sky"));
    expect_usage("w2v-attention", "-heads",
                 ARGS("-model", m, "-heads", "65", "sky"));
    expect_usage("w2v-attention", "more than 4096",
                 ARGS("-model", m, "-heads", "64", "-dk", "1000", "sky"));
    expect_usage("w2v-attention", "-pos \"cosine\"",
                 ARGS("-model", m, "-pos", "cosine", "sky"));
    expect_usage("w2v-attention", "-focus \"blue\" is not a token",
                 ARGS("-model", m, "-focus", "blue", "the sky"));
    expect_usage("w2v-attention", "model.bad",
                 ARGS("-model", "/nonexistent/model.bad", "sky"));

    /* 513 tokens */
    size_t n = 513 * 4;
    char *long_text = malloc(n + 1);
    for (size_t i = 0; i < 513; i++)
        memcpy(long_text + 4 * i, "sky ", 4);
    long_text[n] = '\0';
    expect_usage("w2v-attention", "513 tokens; at most 512",
                 ARGS("-model", m, long_text));
    long_text[129 * 4] = '\0';
    char *svg = tu_path(tu_scratch(), "big.svg");
    expect_usage("w2v-attention", "-svg draws at most 128 tokens; the "
                 "sentence has 129", ARGS("-model", m, "-svg", svg, long_text));
    cr_expect(!tu_exists(svg));
    free(svg);
    free(long_text);
    free(m);
}

Test(attntools, attention_bad_weight_files)
{
    char *m = model_path();
    char *ok = weight_file("ok.npy", 4, 6);
    char *rows5 = weight_file("rows5.npy", 5, 6);
    char *cols4 = weight_file("cols4.npy", 4, 4);
    char *cols7 = weight_file("cols7.npy", 4, 7);
    expect_usage("w2v-attention", "give all three",
                 ARGS("-model", m, "-wq", ok, "sky"));
    expect_usage("w2v-attention", "shape (5, 6)",
                 ARGS("-model", m, "-wq", ok, "-wk", rows5, "-wv", ok, "sky"));
    expect_usage("w2v-attention", "6, 4 and 6 columns",
                 ARGS("-model", m, "-wq", ok, "-wk", cols4, "-wv", ok, "sky"));
    expect_usage("w2v-attention", "do not split into -heads 2",
                 ARGS("-model", m, "-wq", cols7, "-wk", cols7, "-wv", cols7,
                      "sky"));
    expect_usage("w2v-attention", "-heads 2 x -dk 2 is 4",
                 ARGS("-model", m, "-dk", "2", "-wq", ok, "-wk", ok, "-wv",
                      ok, "sky"));
    /* float64 and 1-D files, and a file that is not .npy at all */
    static const char f8[] =
        "\x93NUMPY\x01\x00\x3e\x00{'descr': '<f8', 'fortran_order': False, "
        "'shape': (4, 6), }  \n";
    char *f8p = tu_write_file(NULL, "f8.npy", f8, sizeof f8 - 1);
    expect_usage("w2v-attention", "dtype '<f8'",
                 ARGS("-model", m, "-wq", f8p, "-wk", ok, "-wv", ok, "sky"));
    char *junk = tu_write_file(NULL, "junk.npy", "hello", 5);
    expect_usage("w2v-attention", "-wv: ",
                 ARGS("-model", m, "-wq", ok, "-wk", ok, "-wv", junk, "sky"));
    run r = run_tool("w2v-attention", NULL,
                     ARGS("-model", m, "-wq", ok, "-wk", ok, "-wv", ok,
                          "-heads", "3", "the sky"));
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "3 heads x d_k 2") != NULL, "%s", r.out);
    run_free(&r);
    free(f8p);
    free(junk);
    free(ok);
    free(rows5);
    free(cols4);
    free(cols7);
    free(m);
}
