/*
 * test_export.c - the embedding matrix and its special rows, .npy and
 * safetensors files written byte for byte as the specifications say and
 * read back to the same bits, the token list, and every kind of bad file
 * the readers refuse.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "w2v/export.h"
#include "w2v/model.h"
#include "w2v/vocab.h"

TestSuite(export, .init = tu_scratch_init, .fini = tu_scratch_fini);

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */

/* A (rows, cols) matrix of distinct values, some of them awkward. */
static float *sample_matrix(size_t rows, size_t cols)
{
    float *m = malloc(rows * cols * sizeof *m);
    for (size_t i = 0; i < rows * cols; i++)
        m[i] = (float)((double)i * 0.37 - 1.5) / 3.0f;
    m[0] = -0.0f;
    if (rows * cols > 2) {
        m[1] = 1e-40f; /* subnormal */
        m[2] = 3.4e38f;
    }
    return m;
}

/* A model of n words "w0", "w1", ... with values (n, dim). */
static w2v_model *make_model(size_t n, size_t dim, const float *values)
{
    w2v_vocab *v = NULL;
    cr_assert_eq(w2v_vocab_new(&v, NULL), W2V_OK);
    for (size_t i = 0; i < n; i++) {
        char w[32];
        snprintf(w, sizeof w, "w%zu", i);
        cr_assert_eq(w2v_vocab_add(v, w, strlen(w), 1000 - i, NULL, NULL),
                     W2V_OK);
    }
    cr_assert_eq(w2v_vocab_finalize(v, 0, 0, NULL), W2V_OK);
    w2v_model *m = NULL;
    cr_assert_eq(w2v_model_new(v, dim, &m, NULL), W2V_OK);
    for (size_t i = 0; i < n; i++)
        memcpy(w2v_model_vector(m, i), values + i * dim, dim * sizeof(float));
    return m;
}

/* The error a reader gives for the bytes data[0, len). */
static w2v_error npy_error(const void *data, size_t len)
{
    char *path = tu_write_file(NULL, "bad.npy", data, len);
    float *m = (float *)1;
    size_t r = 0, c = 0;
    w2v_error err = {0};
    int rc = w2v_export_npy_read(path, &m, &r, &c, &err);
    cr_assert_neq(rc, W2V_OK, "accepted a bad .npy file");
    cr_assert_null(m);
    cr_assert(strstr(err.message, path) != NULL, "message %s",
              err.message);
    free(path);
    return err;
}

/* A .npy file with the given header dict (padded) and data bytes. */
static unsigned char *npy_bytes(const char *dict, size_t data_bytes,
                                size_t *len)
{
    size_t dl = strlen(dict);
    size_t total = (10 + dl + 1 + 63) / 64 * 64;
    size_t hlen = total - 10;
    unsigned char *b = calloc(1, total + data_bytes);
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (unsigned char)(hlen & 0xff);
    b[9] = (unsigned char)(hlen >> 8);
    memcpy(b + 10, dict, dl);
    memset(b + 10 + dl, ' ', hlen - dl - 1);
    b[total - 1] = '\n';
    *len = total + data_bytes;
    return b;
}

static w2v_error npy_dict_error(const char *dict, size_t data_bytes)
{
    size_t len = 0;
    unsigned char *b = npy_bytes(dict, data_bytes, &len);
    w2v_error e = npy_error(b, len);
    free(b);
    return e;
}

/* A safetensors file with the given JSON header (padded) and data. */
static char *st_file(const char *json, size_t data_bytes)
{
    size_t jl = strlen(json), hl = (jl + 7) / 8 * 8;
    unsigned char *b = calloc(1, 8 + hl + data_bytes);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    memcpy(b + 8, json, jl);
    memset(b + 8 + jl, ' ', hl - jl);
    char *path = tu_write_file(NULL, "bad.safetensors", b, 8 + hl + data_bytes);
    free(b);
    return path;
}

static w2v_error st_error(const char *json, size_t data_bytes, int code)
{
    char *path = st_file(json, data_bytes);
    float *m = (float *)1;
    size_t r = 0, c = 0;
    w2v_error err = {0};
    cr_assert_eq(w2v_export_safetensors_read(path, "t", &m, &r, &c, &err),
                 code, "%s: %s", json, err.message);
    cr_assert_null(m);
    cr_assert(strstr(err.message, path) != NULL, "message %s",
              err.message);
    free(path);
    return err;
}

/* ---------------------------------------------------------------------- */
/* The embedding matrix and the token list                                 */

Test(export, embedding_rows_and_special_tokens)
{
    static const float vals[3 * 2] = {1, 2, 3, 4, 8, -3};
    w2v_model *m = make_model(3, 2, vals);
    float *e = NULL;
    size_t r = 0, c = 0;
    cr_assert_eq(w2v_export_embedding(m, &e, &r, &c, NULL), W2V_OK);
    cr_assert_eq(r, 5);
    cr_assert_eq(c, 2);
    cr_assert_eq(memcmp(e, vals, sizeof vals), 0);
    cr_expect_float_eq(e[6], 4.0f, 1e-6);
    cr_expect_float_eq(e[7], 1.0f, 1e-6);
    cr_expect_eq(e[8], 0.0f);
    cr_expect_eq(e[9], 0.0f);
    float row[2];
    for (size_t id = 0; id < 5; id++) {
        cr_assert_eq(w2v_export_token_vector(m, id, row, NULL), W2V_OK);
        cr_assert_eq(memcmp(row, e + id * 2, sizeof row), 0, "row %zu", id);
    }
    w2v_error err = {0};
    cr_assert_eq(w2v_export_token_vector(m, 5, row, &err), W2V_ERR_ARG);
    cr_assert(strstr(err.message, "token id 5") != NULL);
    free(e);
    w2v_model_free(m);
}

Test(export, vocab_file_lists_every_id)
{
    static const float vals[2] = {1, 2};
    w2v_model *m = make_model(2, 1, vals);
    char *path = tu_path(tu_scratch(), "vocab.txt");
    cr_assert_eq(w2v_export_vocab_write(m, path, NULL), W2V_OK);
    char *text = tu_read_file(path, NULL);
    cr_assert_str_eq(text, "w0\nw1\n<|unk|>\n<|endoftext|>\n");
    free(text);
    free(path);
    w2v_model_free(m);
}

/* ---------------------------------------------------------------------- */
/* .npy                                                                    */

Test(export, npy_layout_follows_the_specification)
{
    float *m = sample_matrix(3, 4);
    char *path = tu_path(tu_scratch(), "m.npy");
    cr_assert_eq(w2v_export_npy_write(path, m, 3, 4, NULL), W2V_OK);
    size_t len = 0;
    char *b = tu_read_file(path, &len);
    cr_assert_eq(len, 128 + 48);
    cr_assert_eq(memcmp(b, "\x93NUMPY\x01\x00", 8), 0);
    cr_assert_eq((unsigned char)b[8] | (unsigned char)b[9] << 8, 118);
    const char *dict = "{'descr': '<f4', 'fortran_order': False, "
                       "'shape': (3, 4), }";
    cr_assert_eq(memcmp(b + 10, dict, strlen(dict)), 0);
    cr_assert_eq(b[127], '\n');
    for (size_t i = 10 + strlen(dict); i < 127; i++)
        cr_assert_eq(b[i], ' ');
    cr_assert_eq(memcmp(b + 128, m, 48), 0);
    free(b);
    free(path);
    free(m);
}

Test(export, npy_round_trip_keeps_the_bits)
{
    size_t shapes[][2] = {{1, 1}, {7, 3}, {100, 33}, {2, 5000}};
    for (size_t s = 0; s < 4; s++) {
        size_t rows = shapes[s][0], cols = shapes[s][1];
        float *m = sample_matrix(rows, cols);
        char *path = tu_path(tu_scratch(), "m.npy");
        cr_assert_eq(w2v_export_npy_write(path, m, rows, cols, NULL), W2V_OK);
        float *back = NULL;
        size_t r = 0, c = 0;
        w2v_error err = {0};
        cr_assert_eq(w2v_export_npy_read(path, &back, &r, &c, &err), W2V_OK,
                     "%s", err.message);
        cr_assert_eq(r, rows);
        cr_assert_eq(c, cols);
        cr_assert_eq(memcmp(back, m, rows * cols * sizeof(float)), 0);
        size_t len = 0;
        free(tu_read_file(path, &len));
        cr_assert_eq((len - rows * cols * 4) % 64, 0);
        free(back);
        free(path);
        free(m);
    }
    cr_assert_eq(tu_count_entries(tu_scratch(), ".tmp"), 0);
}

Test(export, npy_reader_takes_what_numpy_writes)
{
    /* keys in another order, no trailing comma, version 2.0 */
    size_t len = 0;
    unsigned char *b = npy_bytes("{'shape': (2,3),'fortran_order':False,"
                                 "'descr':'<f4'}", 24, &len);
    char *path = tu_write_file(NULL, "ok.npy", b, len);
    float *m = NULL;
    size_t r = 0, c = 0;
    w2v_error err = {0};
    cr_assert_eq(w2v_export_npy_read(path, &m, &r, &c, &err), W2V_OK, "%s",
                 err.message);
    cr_assert_eq(r, 2);
    cr_assert_eq(c, 3);
    free(m);
    free(path);
    free(b);
}

Test(export, npy_bad_files)
{
    w2v_error e;
    e = npy_error("", 0);
    cr_expect(strstr(e.message, "not a .npy file") != NULL, "%s", e.message);
    e = npy_error("\x93NUMPX\x01\x00\x10\x00", 10);
    cr_expect(strstr(e.message, "byte 0") != NULL, "%s", e.message);
    e = npy_error("\x93NUMPY\x09\x00\x10\x00", 10);
    cr_expect(strstr(e.message, "version 9.0") != NULL, "%s", e.message);
    e = npy_error("\x93NUMPY\x01\x00\xff\x00{", 11);
    cr_expect(strstr(e.message, "past the end") != NULL, "%s", e.message);

    e = npy_dict_error("{'descr': '<f8', 'fortran_order': False, "
                       "'shape': (2, 2), }", 32);
    cr_expect(strstr(e.message, "'<f8'") != NULL, "%s", e.message);
    e = npy_dict_error("{'descr': '>f4', 'fortran_order': False, "
                       "'shape': (2, 2), }", 16);
    cr_expect(strstr(e.message, "'>f4'") != NULL, "%s", e.message);
    e = npy_dict_error("{'descr': '<f4', 'fortran_order': True, "
                       "'shape': (2, 2), }", 16);
    cr_expect(strstr(e.message, "fortran_order is True") != NULL, "%s",
              e.message);
    e = npy_dict_error("{'descr': '<f4', 'fortran_order': False, "
                       "'shape': (4,), }", 16);
    cr_expect(strstr(e.message, "1 dimension;") != NULL, "%s", e.message);
    e = npy_dict_error("{'descr': '<f4', 'fortran_order': False, "
                       "'shape': (2, 2, 1), }", 16);
    cr_expect(strstr(e.message, "3 dimensions") != NULL, "%s", e.message);
    e = npy_dict_error("{'descr': '<f4', 'fortran_order': False, "
                       "'shape': (2, 2), }", 12);
    cr_expect(strstr(e.message, "needs 16 bytes") != NULL, "%s", e.message);
    e = npy_dict_error("{'descr': '<f4', 'fortran_order': False, "
                       "'shape': (2, 2), }", 20);
    cr_expect(strstr(e.message, "the file has 20") != NULL, "%s", e.message);
    e = npy_dict_error("{'descr': '<f4', 'shape': (2, 2), }", 16);
    cr_expect(strstr(e.message, "fortran_order") != NULL, "%s", e.message);
    e = npy_dict_error("{'descr': '<f4', 'fortran_order': False, "
                       "'shape': (0, 2), }", 0);
    cr_expect(strstr(e.message, "empty") != NULL, "%s", e.message);
    e = npy_dict_error("{'descr': '<f4' 'shape': (2, 2), }", 16);
    cr_expect(strstr(e.message, "expected ','") != NULL, "%s", e.message);
    e = npy_dict_error("{'descr': '<f4', 'fortran_order': False, "
                       "'shape': (2, 2), 'extra': 1}", 16);
    cr_expect(strstr(e.message, "unknown key") != NULL, "%s", e.message);
    e = npy_dict_error("{'descr': '<f4', 'fortran_order': False, "
                       "'shape': (2, 2), } x", 16);
    cr_expect(strstr(e.message, "junk after") != NULL, "%s", e.message);
    e = npy_dict_error("[1, 2]", 16);
    cr_expect(strstr(e.message, "'{'") != NULL, "%s", e.message);
}

Test(export, npy_non_finite_value_is_refused)
{
    float m[4] = {1, 2, NAN, 4};
    char *path = tu_path(tu_scratch(), "nan.npy");
    cr_assert_eq(w2v_export_npy_write(path, m, 2, 2, NULL), W2V_OK);
    float *back = (float *)1;
    size_t r, c;
    w2v_error err = {0};
    cr_assert_eq(w2v_export_npy_read(path, &back, &r, &c, &err),
                 W2V_ERR_FORMAT);
    cr_assert_null(back);
    cr_expect(strstr(err.message, "byte 136: value [1, 0]") != NULL, "%s",
              err.message);
    free(path);
}

Test(export, writers_fail_cleanly)
{
    float m[1] = {1};
    w2v_error err = {0};
    cr_assert_eq(w2v_export_npy_write("/nonexistent-dir/m.npy", m, 1, 1,
                                      &err), W2V_ERR_IO);
    cr_assert(strstr(err.message, "/nonexistent-dir/m.npy") != NULL);
    cr_assert_eq(w2v_export_safetensors_write("/nonexistent-dir/m.st", "t",
                                              m, 1, 1, NULL, 0, &err),
                 W2V_ERR_IO);
    char *path = tu_path(tu_scratch(), "m.npy");
    cr_assert_eq(w2v_export_npy_write(path, m, 0, 1, &err), W2V_ERR_ARG);
    cr_assert_eq(w2v_export_safetensors_write(path, "", m, 1, 1, NULL, 0,
                                              &err), W2V_ERR_ARG);
    cr_assert(!tu_exists(path));
    float *back = NULL;
    size_t r = 0, c = 0;
    cr_assert_eq(w2v_export_npy_read(path, &back, &r, &c, &err), W2V_ERR_IO);
    cr_assert(strstr(err.message, "cannot open") != NULL);
    free(path);
}

/* ---------------------------------------------------------------------- */
/* safetensors                                                             */

Test(export, safetensors_layout_and_round_trip)
{
    float *m = sample_matrix(5, 3);
    char *path = tu_path(tu_scratch(), "m.safetensors");
    static const char *const meta[] = {"format", "pt", "q\"uote", "a\\b\n"};
    cr_assert_eq(w2v_export_safetensors_write(path, "embedding.weight", m, 5,
                                              3, meta, 2, NULL), W2V_OK);
    size_t len = 0;
    char *b = tu_read_file(path, &len);
    uint64_t hl = 0;
    for (int i = 0; i < 8; i++)
        hl |= (uint64_t)(unsigned char)b[i] << (8 * i);
    cr_assert_eq(hl % 8, 0);
    cr_assert_eq(len, 8 + hl + 60);
    const char *want = "{\"embedding.weight\":{\"dtype\":\"F32\",\"shape\":"
                       "[5,3],\"data_offsets\":[0,60]},\"__metadata__\":"
                       "{\"format\":\"pt\",\"q\\\"uote\":\"a\\\\b\\u000a\"}}";
    cr_assert_eq(memcmp(b + 8, want, strlen(want)), 0, "%.*s", (int)hl,
                 b + 8);
    for (size_t i = 8 + strlen(want); i < 8 + hl; i++)
        cr_assert_eq(b[i], ' ');
    cr_assert_eq(memcmp(b + 8 + hl, m, 60), 0);
    free(b);

    float *back = NULL;
    size_t r = 0, c = 0;
    w2v_error err = {0};
    cr_assert_eq(w2v_export_safetensors_read(path, "embedding.weight", &back,
                                             &r, &c, &err), W2V_OK, "%s",
                 err.message);
    cr_assert_eq(r, 5);
    cr_assert_eq(c, 3);
    cr_assert_eq(memcmp(back, m, 60), 0);
    free(back);
    cr_assert_eq(w2v_export_safetensors_read(path, "other", &back, &r, &c,
                                             &err), W2V_ERR_NOTFOUND);
    cr_assert(strstr(err.message, "\"other\"") != NULL);
    free(path);
    free(m);
}

Test(export, safetensors_reader_takes_other_writers_files)
{
    /* key order, whitespace, other tensors and metadata */
    char *path = st_file("{ \"__metadata__\": {\"x\": \"y\"}, \"a\": {\"dtype\""
                         ": \"F16\", \"shape\": [1], \"data_offsets\": [0, 2]"
                         "}, \"t\" : {\"data_offsets\":[8,16], \"shape\":[1,"
                         "2],\"dtype\":\"F32\"}, \"n\": [true, false, null, "
                         "-1.5e3, {}] }", 16);
    float *m = NULL;
    size_t r = 0, c = 0;
    w2v_error err = {0};
    cr_assert_eq(w2v_export_safetensors_read(path, "t", &m, &r, &c, &err),
                 W2V_OK, "%s", err.message);
    cr_assert_eq(r, 1);
    cr_assert_eq(c, 2);
    free(m);
    free(path);
}

Test(export, safetensors_bad_files)
{
    w2v_error e;
    char *path = tu_write_file(NULL, "short.st", "\x01\x00", 2);
    float *m = NULL;
    size_t r, c;
    cr_assert_eq(w2v_export_safetensors_read(path, "t", &m, &r, &c, &e),
                 W2V_ERR_FORMAT);
    cr_expect(strstr(e.message, "not a safetensors file") != NULL);
    free(path);
    e = st_error("{\"t\":{\"dtype\":\"F64\",\"shape\":[1,1],"
                 "\"data_offsets\":[0,8]}}", 8, W2V_ERR_FORMAT);
    cr_expect(strstr(e.message, "dtype F64") != NULL, "%s", e.message);
    e = st_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[4],"
                 "\"data_offsets\":[0,16]}}", 16, W2V_ERR_FORMAT);
    cr_expect(strstr(e.message, "1 dimension;") != NULL, "%s", e.message);
    e = st_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1,2,2],"
                 "\"data_offsets\":[0,16]}}", 16, W2V_ERR_FORMAT);
    cr_expect(strstr(e.message, "3 dimensions") != NULL, "%s", e.message);
    e = st_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[2,2],"
                 "\"data_offsets\":[0,12]}}", 16, W2V_ERR_FORMAT);
    cr_expect(strstr(e.message, "data_offsets [0, 12]") != NULL, "%s",
              e.message);
    e = st_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[2,2],"
                 "\"data_offsets\":[8,24]}}", 16, W2V_ERR_FORMAT);
    cr_expect(strstr(e.message, "past the end") != NULL, "%s", e.message);
    e = st_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[2,2]}}", 16,
                 W2V_ERR_FORMAT);
    cr_expect(strstr(e.message, "lacks") != NULL, "%s", e.message);
    e = st_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[2,2],"
                 "\"data_offsets\":[0,16]}", 16, W2V_ERR_FORMAT);
    cr_expect(strstr(e.message, "byte") != NULL, "%s", e.message);
    e = st_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[2,2],"
                 "\"data_offsets\":[0,16]}} x", 16, W2V_ERR_FORMAT);
    cr_expect(strstr(e.message, "junk") != NULL, "%s", e.message);
    e = st_error("{\"t\":[1,2]}", 16, W2V_ERR_FORMAT);
    cr_expect(strstr(e.message, "JSON object") != NULL, "%s", e.message);
    e = st_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1,1],"
                 "\"data_offsets\":[0,4]},\"t\":{\"dtype\":\"F32\",\"shape\":"
                 "[1,1],\"data_offsets\":[0,4]}}", 4, W2V_ERR_FORMAT);
    cr_expect(strstr(e.message, "named twice") != NULL, "%s", e.message);
    e = st_error("{\"u\":{\"dtype\":\"F32\",\"shape\":[1,1],"
                 "\"data_offsets\":[0,4]}}", 4, W2V_ERR_NOTFOUND);
    e = st_error("{\"t\":{\"dtype\":\"F32\",\"shape\":[1,1],"
                 "\"data_offsets\":[0,4]},\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                 "[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", 4,
                 W2V_ERR_FORMAT);
    cr_expect(strstr(e.message, "deeply") != NULL, "%s", e.message);
}

Test(export, safetensors_non_finite_value_is_refused)
{
    float m[2] = {INFINITY, 1};
    char *path = tu_path(tu_scratch(), "inf.safetensors");
    cr_assert_eq(w2v_export_safetensors_write(path, "t", m, 1, 2, NULL, 0,
                                              NULL), W2V_OK);
    float *back = NULL;
    size_t r, c;
    w2v_error err = {0};
    cr_assert_eq(w2v_export_safetensors_read(path, "t", &back, &r, &c, &err),
                 W2V_ERR_FORMAT);
    cr_expect(strstr(err.message, "value [0, 0]") != NULL, "%s", err.message);
    free(path);
}
