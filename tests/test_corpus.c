/*
 * test_corpus.c - the corpus reader: plain, gzip and standard input, block
 * boundaries, rewinding, very long lines and every kind of bad input.
 */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "rng.h"
#include "testutil.h"
#include "w2v/corpus.h"

TestSuite(corpus, .init = tu_scratch_init, .fini = tu_scratch_fini);

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' ||
           ch == '\f' || ch == '\r';
}

/*
 * Reads the rest of the corpus in blocks of cap bytes and returns their
 * concatenation (*len bytes). Checks that every block but the last ends
 * on whitespace, that the offset counts the bytes handed out, and stores
 * the number of blocks in *blocks (may be NULL).
 */
static char *read_all(w2v_corpus *c, size_t cap, size_t *len,
                      size_t *blocks)
{
    char *buf = malloc(cap);
    size_t all_cap = cap, n = 0, nb = 0;
    char *all = malloc(all_cap + 1);
    cr_assert(buf != NULL && all != NULL);
    for (;;) {
        size_t got = 12345;
        w2v_error err = {0};
        int rc = w2v_corpus_read(c, buf, cap, &got, &err);
        cr_assert_eq(rc, W2V_OK, "read failed: %s", err.message);
        cr_assert_leq(got, cap);
        if (got == 0)
            break;
        nb++;
        if (n + got > all_cap) {
            while (n + got > all_cap)
                all_cap *= 2;
            all = realloc(all, all_cap + 1);
            cr_assert_not_null(all);
        }
        memcpy(all + n, buf, got);
        n += got;
        cr_assert_eq(w2v_corpus_offset(c), n);
        /* Only the block that ends the corpus may end inside a word. */
        if (!is_space(buf[got - 1])) {
            size_t again = 1;
            cr_assert_eq(w2v_corpus_read(c, buf, cap, &again, NULL), W2V_OK);
            cr_assert_eq(again, 0, "block %zu ends inside a word (\"...%.*s\")"
                         " but more text follows", nb,
                         (int)(got < 20 ? got : 20), buf + got - 20);
            break;
        }
    }
    free(buf);
    all[n] = '\0';
    *len = n;
    if (blocks != NULL)
        *blocks = nb;
    return all;
}

/*
 * The tokens of text[0, len) as a string: "[word]" per word and "/" per
 * end of line, so a whole token stream compares with one string.
 */
static char *tokens_string(const char *text, size_t len)
{
    size_t cap = 2 * len + 16, n = 0;
    char *s = malloc(cap);
    cr_assert_not_null(s);
    w2v_tokens t;
    w2v_tokens_init(&t, text, len);
    const char *w;
    size_t wl;
    int kind;
    while ((kind = w2v_tokens_next(&t, &w, &wl)) != W2V_TOKEN_END) {
        if (kind == W2V_TOKEN_EOL) {
            s[n++] = '/';
            continue;
        }
        cr_assert_eq(kind, W2V_TOKEN_WORD);
        cr_assert_gt(wl, 0);
        for (size_t i = 0; i < wl; i++)
            cr_assert(!is_space(w[i]), "whitespace inside a word");
        s[n++] = '[';
        memcpy(s + n, w, wl);
        n += wl;
        s[n++] = ']';
    }
    s[n] = '\0';
    return s;
}

static w2v_corpus *open_ok(const char *path)
{
    w2v_corpus *c = NULL;
    w2v_error err = {0};
    int rc = w2v_corpus_open(path, &c, &err);
    cr_assert_eq(rc, W2V_OK, "open %s: %s", path, err.message);
    cr_assert_not_null(c);
    return c;
}

/* Reads path to the end and returns the status of the first failure. */
static int read_until_error(const char *path, w2v_error *err)
{
    w2v_corpus *c = open_ok(path);
    char *buf = malloc(W2V_CORPUS_MIN_BLOCK);
    cr_assert_not_null(buf);
    size_t len;
    int rc;
    do {
        rc = w2v_corpus_read(c, buf, W2V_CORPUS_MIN_BLOCK, &len, err);
    } while (rc == W2V_OK && len > 0);
    free(buf);
    w2v_corpus_close(c);
    return rc;
}

/*
 * Asserts that reading path fails with W2V_ERR_FORMAT and a message that
 * names the file and "byte <offset>".
 */
static void expect_format_error_at(const char *path, unsigned long long at)
{
    w2v_error err = {0};
    int rc = read_until_error(path, &err);
    cr_assert_eq(rc, W2V_ERR_FORMAT, "status %d (%s)", rc, err.message);
    cr_assert_eq(err.code, W2V_ERR_FORMAT);
    cr_assert_not_null(strstr(err.message, path), "no file name in: %s",
                       err.message);
    char want[64];
    snprintf(want, sizeof want, "byte %llu:", at);
    cr_assert_not_null(strstr(err.message, want), "expected \"%s\" in: %s",
                       want, err.message);
}

/*
 * A corpus of about `bytes` bytes: words of 1..12 letters, some UTF-8,
 * lines of wildly different lengths (a few over 300 KB, longer than the
 * smallest block), and words as long as the reader allows.
 */
static char *make_corpus(size_t bytes, uint64_t seed, size_t *len)
{
    static const char *const extras[] = {"\xc3\xa9t\xc3\xa9", "\xe2\x88\x91",
                                         "na\xc3\xafve", "\xf0\x9f\x98\x80"};
    size_t cap = bytes + 2 * W2V_MAX_WORD_BYTES + 64, n = 0;
    char *s = malloc(cap + 1);
    cr_assert_not_null(s);
    w2v_rng r;
    w2v_rng_seed(&r, seed, 0);
    size_t line_left = 0;
    while (n < bytes) {
        if (line_left == 0) {
            uint32_t kind = w2v_rng_below(&r, 10);
            line_left = kind < 6   ? 1 + w2v_rng_below(&r, 200)
                        : kind < 9 ? 1 + w2v_rng_below(&r, 20000)
                                   : 250000 + w2v_rng_below(&r, 300000);
        }
        uint32_t pick = w2v_rng_below(&r, 1000);
        size_t wl;
        if (pick == 0) {
            /* A maximal word: exactly W2V_MAX_WORD_BYTES bytes. */
            wl = W2V_MAX_WORD_BYTES;
            memset(s + n, 'x', wl);
        } else if (pick < 20) {
            const char *e = extras[pick % 4];
            wl = strlen(e);
            memcpy(s + n, e, wl);
        } else {
            wl = 1 + w2v_rng_below(&r, 12);
            for (size_t i = 0; i < wl; i++)
                s[n + i] = (char)('a' + w2v_rng_below(&r, 26));
        }
        n += wl;
        line_left = line_left > wl ? line_left - wl : 0;
        static const char seps[] = {' ', ' ', ' ', ' ', '\t', '\r', '\v',
                                    '\f'};
        if (line_left == 0)
            s[n++] = '\n';
        else
            s[n++] = seps[w2v_rng_below(&r, sizeof seps)];
    }
    s[n] = '\0';
    *len = n;
    return s;
}

/* ---------------------------------------------------------------------- */
/* Reading and tokens                                                      */

static const char sample_text[] =
    "the quick  brown\tfox\r\n"
    "jumps\vover\fthe\n"
    "\n"
    "  lazy dog's \xc3\xa9t\xc3\xa9 \xe2\x88\x91x caf\xc3\xa9 \xff\x80\xfe \n"
    "last-line-no-newline";

static const char sample_tokens[] =
    "[the][quick][brown][fox]/"
    "[jumps][over][the]/"
    "/"
    "[lazy][dog's][\xc3\xa9t\xc3\xa9][\xe2\x88\x91x][caf\xc3\xa9]"
    "[\xff\x80\xfe]/"
    "[last-line-no-newline]";

/* Opens, reads whole, tokenises and compares with the sample. */
static void check_sample(const char *path)
{
    w2v_corpus *c = open_ok(path);
    size_t len;
    char *text = read_all(c, W2V_CORPUS_MIN_BLOCK, &len, NULL);
    cr_assert_eq(len, sizeof sample_text - 1);
    cr_assert_eq(memcmp(text, sample_text, len), 0);
    char *tok = tokens_string(text, len);
    cr_assert_str_eq(tok, sample_tokens);
    free(tok);
    free(text);
    w2v_corpus_close(c);
}

Test(corpus, plain_words_and_sentences_exactly_as_written)
{
    char *path = tu_write_file(NULL, "c.txt", sample_text,
                               sizeof sample_text - 1);
    check_sample(path);
    free(path);
}

Test(corpus, gzip_reads_like_plain)
{
    char *path = tu_write_gzip(NULL, "c.txt.gz", sample_text,
                               sizeof sample_text - 1);
    size_t gz_len;
    char *raw = tu_read_file(path, &gz_len);
    cr_assert(gz_len > 2 && (unsigned char)raw[0] == 0x1f &&
              (unsigned char)raw[1] == 0x8b, "not a gzip file");
    free(raw);
    check_sample(path);
    free(path);
}

Test(corpus, gzip_detected_by_content_not_name)
{
    char *path = tu_write_gzip(NULL, "corpus.txt", sample_text,
                               sizeof sample_text - 1);
    check_sample(path);
    free(path);
}

Test(corpus, stdin_redirected_file)
{
    char *path = tu_write_file(NULL, "c.txt", sample_text,
                               sizeof sample_text - 1);
    tu_redirect_stdin(path);
    w2v_corpus *c = open_ok("-");
    cr_assert_str_eq(w2v_corpus_path(c), "standard input");
    w2v_corpus_close(c);
    check_sample("-");
    free(path);
}

Test(corpus, stdin_pipe_gzip)
{
    size_t n;
    unsigned char *gz = tu_gzip_bytes(sample_text, sizeof sample_text - 1, &n);
    int pid = tu_stdin_from_pipe(gz, n);
    check_sample("-");
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    free(gz);
}

Test(corpus, token_iterator_edge_cases)
{
    const char *w = NULL;
    size_t wl = 0;
    w2v_tokens t;
    w2v_tokens_init(&t, "", 0);
    cr_assert_eq(w2v_tokens_next(&t, &w, &wl), W2V_TOKEN_END);
    cr_assert_eq(w2v_tokens_next(&t, &w, &wl), W2V_TOKEN_END);

    const char *blank = " \t\r\v\f ";
    w2v_tokens_init(&t, blank, strlen(blank));
    cr_assert_eq(w2v_tokens_next(&t, &w, &wl), W2V_TOKEN_END);

    /* The length bounds the block: "abc" of "abcdef" is one word "abc". */
    w2v_tokens_init(&t, "abcdef", 3);
    cr_assert_eq(w2v_tokens_next(&t, &w, &wl), W2V_TOKEN_WORD);
    cr_assert_eq(wl, 3);
    cr_assert_eq(memcmp(w, "abc", 3), 0);
    cr_assert_eq(w2v_tokens_next(&t, &w, &wl), W2V_TOKEN_END);

    char *s = tokens_string("\n\na\n", 4);
    cr_assert_str_eq(s, "//[a]/");
    free(s);
}

/* ---------------------------------------------------------------------- */
/* Blocks                                                                  */

Test(corpus, blocks_never_split_a_word)
{
    size_t len;
    char *text = make_corpus(3u << 20, 7, &len);
    char *path = tu_write_file(NULL, "long.txt", text, len);
    w2v_corpus *c = open_ok(path);
    size_t got, blocks;
    char *back = read_all(c, W2V_CORPUS_MIN_BLOCK, &got, &blocks);
    cr_assert_eq(got, len);
    cr_assert_eq(memcmp(back, text, len), 0, "blocks differ from the file");
    cr_assert_geq(blocks, len / W2V_CORPUS_MIN_BLOCK);
    w2v_corpus_close(c);
    free(back);
    free(path);
    free(text);
}

Test(corpus, blocks_tokenise_like_the_whole_file)
{
    size_t len;
    char *text = make_corpus(2u << 20, 11, &len);
    char *path = tu_write_gzip(NULL, "long.txt.gz", text, len);
    w2v_corpus *c = open_ok(path);
    char *buf = malloc(W2V_CORPUS_MIN_BLOCK);
    size_t cap = 2 * len + 16, n = 0;
    char *joined = malloc(cap);
    cr_assert(buf != NULL && joined != NULL);
    size_t got;
    while (w2v_corpus_read(c, buf, W2V_CORPUS_MIN_BLOCK, &got, NULL) ==
               W2V_OK && got > 0) {
        char *tok = tokens_string(buf, got);
        size_t tl = strlen(tok);
        cr_assert_lt(n + tl, cap);
        memcpy(joined + n, tok, tl);
        n += tl;
        free(tok);
    }
    joined[n] = '\0';
    char *whole = tokens_string(text, len);
    cr_assert_str_eq(joined, whole);
    free(whole);
    free(joined);
    free(buf);
    w2v_corpus_close(c);
    free(path);
    free(text);
}

Test(corpus, block_cut_prefers_newline)
{
    /* Two lines, the first ending within the last 64 KB of a full block. */
    size_t first = W2V_CORPUS_MIN_BLOCK - 1000;
    size_t len = W2V_CORPUS_MIN_BLOCK + 5000;
    char *text = malloc(len);
    cr_assert_not_null(text);
    for (size_t i = 0; i < len; i++)
        text[i] = i % 8 == 7 ? ' ' : 'w';
    text[first - 1] = '\n';
    char *path = tu_write_file(NULL, "two.txt", text, len);
    w2v_corpus *c = open_ok(path);
    char *buf = malloc(W2V_CORPUS_MIN_BLOCK);
    size_t got;
    cr_assert_eq(w2v_corpus_read(c, buf, W2V_CORPUS_MIN_BLOCK, &got, NULL),
                 W2V_OK);
    cr_assert_eq(got, first, "first block is %zu bytes, expected the line "
                 "of %zu", got, first);
    free(buf);
    w2v_corpus_close(c);
    free(path);
    free(text);
}

Test(corpus, small_buffer_rejected)
{
    char *path = tu_write_file(NULL, "c.txt", "a b\n", 4);
    w2v_corpus *c = open_ok(path);
    char buf[64];
    size_t got = 99;
    w2v_error err = {0};
    cr_assert_eq(w2v_corpus_read(c, buf, sizeof buf, &got, &err),
                 W2V_ERR_ARG);
    cr_assert_eq(got, 0);
    cr_assert_neq(err.message[0], '\0');
    w2v_corpus_close(c);
    free(path);
}

/* ---------------------------------------------------------------------- */
/* Rewinding                                                               */

static void check_rewind(const char *path, const char *text, size_t len)
{
    w2v_corpus *c = open_ok(path);
    for (int pass = 0; pass < 3; pass++) {
        size_t got;
        char *back = read_all(c, W2V_CORPUS_MIN_BLOCK, &got, NULL);
        cr_assert_eq(got, len, "pass %d: %zu bytes, expected %zu", pass, got,
                     len);
        cr_assert_eq(memcmp(back, text, len), 0, "pass %d differs", pass);
        free(back);
        w2v_error err = {0};
        cr_assert_eq(w2v_corpus_rewind(c, &err), W2V_OK, "%s", err.message);
        cr_assert_eq(w2v_corpus_offset(c), 0);
    }
    w2v_corpus_close(c);
}

Test(corpus, rewind_plain_and_gzip)
{
    size_t len;
    char *text = make_corpus(1u << 20, 3, &len);
    char *plain = tu_write_file(NULL, "c.txt", text, len);
    char *gz = tu_write_gzip(NULL, "c.txt.gz", text, len);
    check_rewind(plain, text, len);
    check_rewind(gz, text, len);
    free(gz);
    free(plain);
    free(text);
}

Test(corpus, rewind_stdin_pipe_is_spooled)
{
    size_t len;
    char *text = make_corpus(1u << 20, 5, &len);
    tu_stdin_from_pipe(text, len);
    check_rewind("-", text, len);
    free(text);
}

Test(corpus, rewind_stdin_midway_replays_everything)
{
    size_t len;
    char *text = make_corpus(1u << 20, 9, &len);
    size_t gz_len;
    unsigned char *gz = tu_gzip_bytes(text, len, &gz_len);
    tu_stdin_from_pipe(gz, gz_len);
    w2v_corpus *c = open_ok("-");
    char *buf = malloc(W2V_CORPUS_MIN_BLOCK);
    size_t got;
    cr_assert_eq(w2v_corpus_read(c, buf, W2V_CORPUS_MIN_BLOCK, &got, NULL),
                 W2V_OK);
    cr_assert_gt(got, 0);
    cr_assert_lt(got, len);
    cr_assert_eq(memcmp(buf, text, got), 0);
    free(buf);
    /* The rest of the stream is copied first, so the replay is whole. */
    w2v_error err = {0};
    cr_assert_eq(w2v_corpus_rewind(c, &err), W2V_OK, "%s", err.message);
    size_t all;
    char *back = read_all(c, W2V_CORPUS_MIN_BLOCK, &all, NULL);
    cr_assert_eq(all, len);
    cr_assert_eq(memcmp(back, text, len), 0);
    free(back);
    w2v_corpus_close(c);
    free(gz);
    free(text);
}

Test(corpus, stdin_spool_lives_in_tmpdir)
{
    /* A TMPDIR that does not exist: the spool cannot be made there. */
    char *missing = tu_path(tu_scratch(), "no-such-dir");
    cr_assert_eq(setenv("TMPDIR", missing, 1), 0);
    tu_stdin_from_pipe("a b\n", 4);
    w2v_corpus *c = (w2v_corpus *)1;
    w2v_error err = {0};
    int rc = w2v_corpus_open("-", &c, &err);
    cr_assert_eq(rc, W2V_ERR_IO, "status %d: %s", rc, err.message);
    cr_assert_null(c);
    cr_assert_not_null(strstr(err.message, "TMPDIR"), "%s", err.message);

    /* A TMPDIR that exists: the spool is made and unlinked there. */
    cr_assert_eq(setenv("TMPDIR", tu_scratch(), 1), 0);
    c = open_ok("-");
    cr_assert_eq(tu_count_entries(tu_scratch(), NULL), 0);
    size_t len;
    char *back = read_all(c, W2V_CORPUS_MIN_BLOCK, &len, NULL);
    cr_assert_eq(len, 4);
    cr_assert_eq(memcmp(back, "a b\n", 4), 0);
    free(back);
    w2v_corpus_close(c);
    free(missing);
}

/* ---------------------------------------------------------------------- */
/* Long lines                                                              */

Test(corpus, hundred_megabyte_line, .timeout = 60)
{
    /* 100 MB of "w<number> " words and not one newline. */
    const size_t target = 100u << 20;
    char *path = tu_path(tu_scratch(), "one-line.txt");
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp);
    char chunk[1 << 16];
    size_t written = 0, words = 0, k = 0;
    while (written < target) {
        size_t n = 0;
        while (n < sizeof chunk - 16) {
            int w = snprintf(chunk + n, 16, "w%zu ", k++ % 100000);
            n += (size_t)w;
            words++;
        }
        cr_assert_eq(fwrite(chunk, 1, n, fp), n);
        written += n;
    }
    cr_assert_eq(fclose(fp), 0);

    w2v_corpus *c = open_ok(path);
    size_t cap = 1u << 20;
    char *buf = malloc(cap);
    cr_assert_not_null(buf);
    size_t total = 0, got, counted = 0, eols = 0;
    w2v_error err = {0};
    int rc;
    while ((rc = w2v_corpus_read(c, buf, cap, &got, &err)) == W2V_OK &&
           got > 0) {
        total += got;
        w2v_tokens t;
        w2v_tokens_init(&t, buf, got);
        const char *w;
        size_t wl;
        int kind;
        while ((kind = w2v_tokens_next(&t, &w, &wl)) != W2V_TOKEN_END) {
            if (kind == W2V_TOKEN_EOL)
                eols++;
            else
                counted++;
        }
    }
    cr_assert_eq(rc, W2V_OK, "%s", err.message);
    cr_assert_eq(total, written);
    cr_assert_eq(counted, words);
    cr_assert_eq(eols, 0);
    free(buf);
    w2v_corpus_close(c);
    free(path);
}

/* ---------------------------------------------------------------------- */
/* Bad input                                                               */

Test(corpus, missing_file)
{
    char *path = tu_path(tu_scratch(), "does-not-exist.txt");
    w2v_corpus *c = (w2v_corpus *)1;
    w2v_error err = {0};
    cr_assert_eq(w2v_corpus_open(path, &c, &err), W2V_ERR_IO);
    cr_assert_null(c);
    cr_assert_eq(err.code, W2V_ERR_IO);
    cr_assert_not_null(strstr(err.message, path), "%s", err.message);
    free(path);
}

Test(corpus, directory)
{
    w2v_corpus *c = (w2v_corpus *)1;
    w2v_error err = {0};
    cr_assert_eq(w2v_corpus_open(tu_scratch(), &c, &err), W2V_ERR_IO);
    cr_assert_null(c);
    cr_assert_not_null(strstr(err.message, tu_scratch()), "%s", err.message);
    cr_assert_not_null(strstr(err.message, "directory"), "%s", err.message);
}

Test(corpus, empty_name)
{
    w2v_corpus *c = (w2v_corpus *)1;
    w2v_error err = {0};
    cr_assert_eq(w2v_corpus_open("", &c, &err), W2V_ERR_ARG);
    cr_assert_null(c);
}

Test(corpus, empty_file_is_empty_not_an_error)
{
    char *path = tu_write_file(NULL, "empty.txt", "", 0);
    w2v_corpus *c = open_ok(path);
    char *buf = malloc(W2V_CORPUS_MIN_BLOCK);
    size_t got = 99;
    cr_assert_eq(w2v_corpus_read(c, buf, W2V_CORPUS_MIN_BLOCK, &got, NULL),
                 W2V_OK);
    cr_assert_eq(got, 0);
    cr_assert_eq(w2v_corpus_rewind(c, NULL), W2V_OK);
    cr_assert_eq(w2v_corpus_read(c, buf, W2V_CORPUS_MIN_BLOCK, &got, NULL),
                 W2V_OK);
    cr_assert_eq(got, 0);
    free(buf);
    w2v_corpus_close(c);
    free(path);
}

Test(corpus, nul_byte_offset)
{
    char text[] = "hello world\nsecond line\n";
    text[17] = '\0';
    char *path = tu_write_file(NULL, "nul.txt", text, sizeof text - 1);
    expect_format_error_at(path, 17);
    w2v_error err = {0};
    read_until_error(path, &err);
    cr_assert_not_null(strstr(err.message, "NUL"), "%s", err.message);
    free(path);
}

Test(corpus, nul_byte_offset_in_a_later_block)
{
    size_t len;
    char *text = make_corpus(1u << 20, 13, &len);
    size_t at = 777777;
    text[at] = '\0';
    char *path = tu_write_file(NULL, "nul.txt", text, len);
    expect_format_error_at(path, at);
    free(path);
    /* Offsets are of the uncompressed text. */
    char *gz = tu_write_gzip(NULL, "nul.txt.gz", text, len);
    expect_format_error_at(gz, at);
    free(gz);
    free(text);
}

Test(corpus, nul_byte_on_stdin_names_standard_input)
{
    tu_stdin_from_pipe("ab\0cd\n", 6);
    w2v_error err = {0};
    cr_assert_eq(read_until_error("-", &err), W2V_ERR_FORMAT);
    cr_assert_not_null(strstr(err.message, "standard input"), "%s",
                       err.message);
    cr_assert_not_null(strstr(err.message, "byte 2:"), "%s", err.message);
}

Test(corpus, control_bytes)
{
    static const unsigned char bad[] = {0x01, 0x07, 0x08, 0x0e, 0x1b, 0x1f};
    for (size_t i = 0; i < sizeof bad; i++) {
        char text[] = "some words here\nand more words\n";
        size_t at = 3 + 4 * i;
        text[at] = (char)bad[i];
        char name[32];
        snprintf(name, sizeof name, "ctl%02x.txt", bad[i]);
        char *path = tu_write_file(NULL, name, text, sizeof text - 1);
        expect_format_error_at(path, at);
        w2v_error err = {0};
        read_until_error(path, &err);
        char hex[16];
        snprintf(hex, sizeof hex, "0x%02x", bad[i]);
        cr_assert_not_null(strstr(err.message, hex), "%s", err.message);
        free(path);
    }
}

Test(corpus, whitespace_bytes_are_not_control_bytes)
{
    const char text[] = "a\tb\vc\fd\re\nf \x7f g";
    char *path = tu_write_file(NULL, "ws.txt", text, sizeof text - 1);
    w2v_error err = {0};
    cr_assert_eq(read_until_error(path, &err), W2V_OK, "%s", err.message);
    free(path);
}

/* A file of `before` bytes of text, a word of wl bytes, then more text. */
static char *long_word_file(const char *name, size_t before, size_t wl,
                            size_t *len)
{
    size_t n = before + wl + 200000;
    char *text = malloc(n);
    cr_assert_not_null(text);
    for (size_t i = 0; i < n; i++)
        text[i] = i % 6 == 5 ? ' ' : 'a';
    text[before - 1] = '\n';
    memset(text + before, 'L', wl);
    text[before + wl] = ' ';
    char *path = tu_write_file(NULL, name, text, n);
    free(text);
    *len = n;
    return path;
}

Test(corpus, word_longer_than_the_limit)
{
    size_t len;
    char *path = long_word_file("long-word.txt", 300001,
                                W2V_MAX_WORD_BYTES + 1, &len);
    expect_format_error_at(path, 300001);
    free(path);
    path = long_word_file("long-word2.txt", 100, 3 * W2V_MAX_WORD_BYTES,
                          &len);
    expect_format_error_at(path, 100);
    free(path);
}

Test(corpus, word_at_the_limit_is_fine)
{
    size_t len;
    char *path = long_word_file("max-word.txt", 300001, W2V_MAX_WORD_BYTES,
                                &len);
    w2v_corpus *c = open_ok(path);
    size_t got;
    char *back = read_all(c, W2V_CORPUS_MIN_BLOCK, &got, NULL);
    cr_assert_eq(got, len);
    w2v_tokens t;
    w2v_tokens_init(&t, back + 300001, got - 300001);
    const char *w;
    size_t wl;
    cr_assert_eq(w2v_tokens_next(&t, &w, &wl), W2V_TOKEN_WORD);
    cr_assert_eq(wl, W2V_MAX_WORD_BYTES);
    free(back);
    w2v_corpus_close(c);
    free(path);
}

Test(corpus, corrupt_gzip)
{
    size_t len;
    char *text = make_corpus(1u << 20, 17, &len);
    size_t gz_len;
    unsigned char *gz = tu_gzip_bytes(text, len, &gz_len);
    for (size_t i = gz_len / 2; i < gz_len / 2 + 16; i++)
        gz[i] ^= 0x5a;
    char *path = tu_write_file(NULL, "bad.gz", gz, gz_len);
    w2v_error err = {0};
    int rc = read_until_error(path, &err);
    cr_assert_eq(rc, W2V_ERR_FORMAT, "status %d: %s", rc, err.message);
    cr_assert_not_null(strstr(err.message, path), "%s", err.message);
    cr_assert_not_null(strstr(err.message, "byte "), "%s", err.message);
    free(path);
    free(gz);
    free(text);
}

Test(corpus, corrupt_gzip_checksum)
{
    /* Damage only the CRC of the trailer: inflate succeeds, the check not. */
    size_t gz_len;
    unsigned char *gz = tu_gzip_bytes(sample_text, sizeof sample_text - 1,
                                      &gz_len);
    gz[gz_len - 8] ^= 0xff;
    char *path = tu_write_file(NULL, "crc.gz", gz, gz_len);
    w2v_error err = {0};
    int rc = read_until_error(path, &err);
    cr_assert_eq(rc, W2V_ERR_FORMAT, "status %d: %s", rc, err.message);
    cr_assert_not_null(strstr(err.message, path), "%s", err.message);
    free(path);
    free(gz);
}

Test(corpus, truncated_gzip)
{
    size_t len;
    char *text = make_corpus(1u << 20, 19, &len);
    size_t gz_len;
    unsigned char *gz = tu_gzip_bytes(text, len, &gz_len);
    char *path = tu_write_file(NULL, "half.gz", gz, gz_len / 2);
    w2v_error err = {0};
    int rc = read_until_error(path, &err);
    cr_assert_eq(rc, W2V_ERR_FORMAT, "status %d: %s", rc, err.message);
    cr_assert_not_null(strstr(err.message, path), "%s", err.message);
    cr_assert_not_null(strstr(err.message, "byte "), "%s", err.message);
    free(path);
    /* Cut right after the header, and one byte short of the end. */
    char *head = tu_write_file(NULL, "head.gz", gz, 12);
    cr_assert_eq(read_until_error(head, &err), W2V_ERR_FORMAT, "%s",
                 err.message);
    free(head);
    char *tail = tu_write_file(NULL, "tail.gz", gz, gz_len - 1);
    cr_assert_eq(read_until_error(tail, &err), W2V_ERR_FORMAT, "%s",
                 err.message);
    free(tail);
    free(gz);
    free(text);
}

Test(corpus, close_null_is_noop)
{
    w2v_corpus_close(NULL);
    w2v_error err;
    w2v_error_clear(&err);
    cr_assert_eq(err.code, W2V_OK);
    cr_assert_str_eq(err.message, "");
}

/*
 * The first problem in text[0, n) by the definition (one byte at a time):
 * the offset of a bad control byte or of the start of a word longer than
 * W2V_MAX_WORD_BYTES, whichever comes first; -1 if there is none.
 */
static long long first_problem(const unsigned char *text, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = text[i];
        if (b == ' ' || (b >= 9 && b <= 13)) {
            run = 0;
        } else if (b < 0x20) {
            return (long long)i;
        } else if (++run > W2V_MAX_WORD_BYTES) {
            return (long long)(i + 1 - run);
        }
    }
    return -1;
}

Test(corpus, chunked_check_agrees_with_the_bytewise_definition)
{
    /*
     * The reader checks 32 bytes at a time. Plant words ending just below,
     * at and just above the limit, and control bytes, at every alignment
     * against the chunks, and compare the reported offset with the
     * byte-by-byte definition.
     */
    uint64_t s = 77;
    const size_t n = 3 * W2V_MAX_WORD_BYTES;
    unsigned char *text = malloc(n);
    cr_assert_not_null(text);
    for (int trial = 0; trial < 48; trial++) {
        for (size_t i = 0; i < n; i++)
            text[i] = i % 7 == 6 ? ' ' : (unsigned char)('a' + i % 26);
        size_t at = 1000 + (size_t)trial * 37 % 64;
        size_t wl = W2V_MAX_WORD_BYTES - 2 + (size_t)(trial % 5);
        memset(text + at, 'W', wl);
        text[at + wl] = trial % 3 == 0 ? '\t' : ' ';
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        if (trial % 4 == 1) /* a control byte before or inside the word */
            text[200 + (s >> 33) % (wl + 800)] = (unsigned char)(s >> 59);
        if (trial % 4 == 2) /* or a harmless \v, \f, \r */
            text[200 + (s >> 33) % (wl + 800)] = (unsigned char)(11 + trial % 3);
        char name[32];
        snprintf(name, sizeof name, "chunks-%d.txt", trial);
        char *path = tu_write_file(NULL, name, text, n);
        long long want = first_problem(text, n);
        w2v_error err = {0};
        int rc = read_until_error(path, &err);
        if (want < 0) {
            cr_assert_eq(rc, W2V_OK, "trial %d: %s", trial, err.message);
        } else {
            cr_assert_eq(rc, W2V_ERR_FORMAT, "trial %d: status %d", trial, rc);
            char msg[64];
            snprintf(msg, sizeof msg, "byte %lld:", want);
            cr_assert_not_null(strstr(err.message, msg),
                               "trial %d: expected \"%s\" in: %s", trial, msg,
                               err.message);
        }
        free(path);
    }
    free(text);
}
