/*
 * test_vocab.c - the vocabulary: counting, pruning, sorting, limits, hash
 * lookups, byte-exact words, save/load and its strict errors, cloning.
 */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "w2v/corpus.h"
#include "w2v/vocab.h"

TestSuite(vocab, .init = tu_scratch_init, .fini = tu_scratch_fini);

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */

static w2v_vocab *new_vocab(void)
{
    w2v_vocab *v = NULL;
    w2v_error err = {0};
    cr_assert_eq(w2v_vocab_new(&v, &err), W2V_OK, "%s", err.message);
    cr_assert_not_null(v);
    cr_assert_eq(w2v_vocab_size(v), 0);
    cr_assert_eq(w2v_vocab_total(v), 0);
    return v;
}

static int64_t add(w2v_vocab *v, const char *word, uint64_t count)
{
    int64_t id = -2;
    w2v_error err = {0};
    int rc = w2v_vocab_add(v, word, strlen(word), count, &id, &err);
    cr_assert_eq(rc, W2V_OK, "add \"%s\": %s", word, err.message);
    cr_assert_geq(id, 0);
    return id;
}

static int64_t find(const w2v_vocab *v, const char *word)
{
    return w2v_vocab_find(v, word, strlen(word));
}

/* Builds a vocabulary from text with the given options (NULL: default). */
static int build_from(const char *text, size_t len,
                      const w2v_vocab_options *opt, w2v_vocab **out,
                      w2v_error *err)
{
    char *path = tu_write_file(NULL, "corpus.txt", text, len);
    w2v_corpus *c = NULL;
    cr_assert_eq(w2v_corpus_open(path, &c, err), W2V_OK);
    int rc = w2v_vocab_build(c, opt, out, err);
    w2v_corpus_close(c);
    free(path);
    return rc;
}

static w2v_vocab *build_ok(const char *text, uint64_t min_count)
{
    w2v_vocab_options o = w2v_vocab_options_default();
    o.min_count = min_count;
    w2v_vocab *v = NULL;
    w2v_error err = {0};
    int rc = build_from(text, strlen(text), &o, &v, &err);
    cr_assert_eq(rc, W2V_OK, "build: %s", err.message);
    cr_assert_not_null(v);
    return v;
}

/* Asserts that id holds word with count. */
static void expect_entry(const w2v_vocab *v, size_t id, const char *word,
                         uint64_t count)
{
    cr_assert_lt(id, w2v_vocab_size(v));
    cr_assert_str_eq(w2v_vocab_word(v, id), word, "id %zu", id);
    cr_assert_eq(w2v_vocab_word_len(v, id), strlen(word));
    cr_assert_eq(w2v_vocab_count(v, id), count, "count of \"%s\": %llu",
                 word, (unsigned long long)w2v_vocab_count(v, id));
    cr_assert_eq(find(v, word), (int64_t)id, "find \"%s\"", word);
}

/* Asserts that a and b hold the same words, counts and order. */
static void expect_same(const w2v_vocab *a, const w2v_vocab *b)
{
    cr_assert_eq(w2v_vocab_size(a), w2v_vocab_size(b));
    cr_assert_eq(w2v_vocab_total(a), w2v_vocab_total(b));
    for (size_t i = 0; i < w2v_vocab_size(a); i++) {
        cr_assert_eq(w2v_vocab_word_len(a, i), w2v_vocab_word_len(b, i));
        cr_assert_eq(memcmp(w2v_vocab_word(a, i), w2v_vocab_word(b, i),
                            w2v_vocab_word_len(a, i) + 1), 0, "word %zu", i);
        cr_assert_eq(w2v_vocab_count(a, i), w2v_vocab_count(b, i));
        cr_assert_eq(w2v_vocab_find(b, w2v_vocab_word(a, i),
                                    w2v_vocab_word_len(a, i)), (int64_t)i);
    }
}

/* ---------------------------------------------------------------------- */
/* Counting                                                                */

Test(vocab, counts_a_known_text)
{
    w2v_vocab *v = build_ok("the cat sat on the mat\n"
                            "the dog sat\n\n"
                            "  on\tthe\rlog the\n", 1);
    cr_assert_eq(w2v_vocab_size(v), 7);
    cr_assert_eq(w2v_vocab_total(v), 13);
    expect_entry(v, 0, "the", 5);
    expect_entry(v, 1, "on", 2);
    expect_entry(v, 2, "sat", 2);
    expect_entry(v, 3, "cat", 1);
    expect_entry(v, 4, "dog", 1);
    expect_entry(v, 5, "log", 1);
    expect_entry(v, 6, "mat", 1);
    w2v_vocab_free(v);
}

Test(vocab, build_rewinds_the_corpus)
{
    const char text[] = "a b a\nc a\n";
    char *path = tu_write_file(NULL, "c.txt", text, sizeof text - 1);
    w2v_corpus *c = NULL;
    cr_assert_eq(w2v_corpus_open(path, &c, NULL), W2V_OK);
    w2v_vocab *v = NULL;
    w2v_vocab_options o = w2v_vocab_options_default();
    o.min_count = 1;
    cr_assert_eq(w2v_vocab_build(c, &o, &v, NULL), W2V_OK);
    cr_assert_eq(w2v_corpus_offset(c), 0);
    char *buf = malloc(W2V_CORPUS_MIN_BLOCK);
    size_t len;
    cr_assert_eq(w2v_corpus_read(c, buf, W2V_CORPUS_MIN_BLOCK, &len, NULL),
                 W2V_OK);
    cr_assert_eq(len, sizeof text - 1);
    free(buf);
    w2v_corpus_close(c);
    w2v_vocab_free(v);
    free(path);
}

Test(vocab, default_options)
{
    w2v_vocab_options o = w2v_vocab_options_default();
    cr_assert_eq(o.min_count, 5);
    cr_assert_eq(o.max_words, 0);
    cr_assert_eq(o.max_distinct, 30000000);
    /* NULL options are the defaults: min_count 5. */
    w2v_vocab *v = NULL;
    const char text[] = "a a a a a b b b b\n";
    cr_assert_eq(build_from(text, sizeof text - 1, NULL, &v, NULL), W2V_OK);
    cr_assert_eq(w2v_vocab_size(v), 1);
    expect_entry(v, 0, "a", 5);
    w2v_vocab_free(v);
}

/* Text with `frequent` words "f<i>" that occur often throughout and
 * n_rare words "r<i>" that occur once. */
static char *pruning_text(size_t frequent, size_t n_rare, size_t *len,
                          uint64_t *each)
{
    size_t cap = n_rare * 24 + 1024, n = 0;
    char *s = malloc(cap);
    cr_assert_not_null(s);
    *each = 0;
    for (size_t r = 0; r < n_rare; r++) {
        n += (size_t)snprintf(s + n, cap - n, "r%zu ", r);
        if (r % 10 == 9) {
            /* Every frequent word once per 10 rare words. */
            for (size_t f = 0; f < frequent; f++)
                n += (size_t)snprintf(s + n, cap - n, "f%zu ", f);
            s[n++] = '\n';
            (*each)++;
        }
        cr_assert_lt(n + 64 * frequent, cap);
    }
    *len = n;
    return s;
}

Test(vocab, pruning_keeps_frequent_words_with_exact_counts)
{
    size_t len;
    uint64_t each;
    char *text = pruning_text(20, 50000, &len, &each);
    w2v_vocab_options o = w2v_vocab_options_default();
    o.min_count = 1;
    o.max_distinct = 1000;
    w2v_vocab *v = NULL;
    w2v_error err = {0};
    cr_assert_eq(build_from(text, len, &o, &v, &err), W2V_OK, "%s",
                 err.message);
    /* Memory stayed bounded: most of the 50,000 rare words are gone. */
    cr_assert_leq(w2v_vocab_size(v), 1000 + 20);
    cr_assert_geq(w2v_vocab_size(v), 20);
    for (size_t f = 0; f < 20; f++) {
        char w[16];
        snprintf(w, sizeof w, "f%zu", f);
        int64_t id = find(v, w);
        cr_assert_geq(id, 0, "%s was pruned", w);
        cr_assert_lt(id, 20, "%s is not among the most frequent", w);
        cr_assert_eq(w2v_vocab_count(v, (size_t)id), each, "%s: %llu != %llu",
                     w, (unsigned long long)w2v_vocab_count(v, (size_t)id),
                     (unsigned long long)each);
    }
    /* Ties between the frequent words are by byte order. */
    expect_entry(v, 0, "f0", each);
    expect_entry(v, 1, "f1", each);
    expect_entry(v, 2, "f10", each);
    w2v_vocab_free(v);

    /* Without the limit every rare word is kept. */
    o.max_distinct = w2v_vocab_options_default().max_distinct;
    cr_assert_eq(build_from(text, len, &o, &v, &err), W2V_OK);
    cr_assert_eq(w2v_vocab_size(v), 50000 + 20);
    w2v_vocab_free(v);
    free(text);
}

Test(vocab, pruning_limit_below_1000_is_raised_to_1000)
{
    size_t len;
    uint64_t each;
    char *text = pruning_text(5, 5000, &len, &each);
    w2v_vocab_options o = w2v_vocab_options_default();
    o.min_count = 1;
    o.max_distinct = 1000;
    w2v_vocab *a = NULL, *b = NULL;
    cr_assert_eq(build_from(text, len, &o, &a, NULL), W2V_OK);
    o.max_distinct = 3;
    cr_assert_eq(build_from(text, len, &o, &b, NULL), W2V_OK);
    expect_same(a, b);
    cr_assert_gt(w2v_vocab_size(b), 5);
    w2v_vocab_free(a);
    w2v_vocab_free(b);
    free(text);
}

/* ---------------------------------------------------------------------- */
/* Sorting and limits                                                      */

static const char *const sort_words[] = {
    "b", "a", "ab", "abc", "\xc3\xa9", "z", "B", "aa", "\x80", "\xff",
};
static const uint64_t sort_counts[] = {3, 3, 3, 3, 3, 7, 3, 1, 3, 3};
static const char *const sorted_words[] = {
    "z", "B", "a", "ab", "abc", "b", "\x80", "\xc3\xa9", "\xff", "aa",
};

Test(vocab, sort_by_count_then_bytes)
{
    size_t n = sizeof sort_words / sizeof *sort_words;
    w2v_vocab *fwd = new_vocab(), *rev = new_vocab();
    for (size_t i = 0; i < n; i++) {
        add(fwd, sort_words[i], sort_counts[i]);
        add(rev, sort_words[n - 1 - i], sort_counts[n - 1 - i]);
    }
    cr_assert_eq(w2v_vocab_finalize(fwd, 0, 0, NULL), W2V_OK);
    cr_assert_eq(w2v_vocab_finalize(rev, 0, 0, NULL), W2V_OK);
    for (size_t i = 0; i < n; i++) {
        uint64_t want = i == 0 ? 7 : i == n - 1 ? 1 : 3;
        expect_entry(fwd, i, sorted_words[i], want);
    }
    /* Insertion order does not matter. */
    expect_same(fwd, rev);
    /* Finalising again changes nothing. */
    cr_assert_eq(w2v_vocab_finalize(rev, 0, 0, NULL), W2V_OK);
    expect_same(fwd, rev);
    w2v_vocab_free(fwd);
    w2v_vocab_free(rev);
}

Test(vocab, min_count_and_max_words)
{
    w2v_vocab *v = new_vocab();
    add(v, "one", 1);
    add(v, "two", 2);
    add(v, "three", 3);
    add(v, "four", 4);
    add(v, "five", 5);
    add(v, "also-three", 3);
    cr_assert_eq(w2v_vocab_total(v), 18);
    w2v_vocab *c = NULL;
    cr_assert_eq(w2v_vocab_clone(v, &c, NULL), W2V_OK);

    cr_assert_eq(w2v_vocab_finalize(v, 3, 0, NULL), W2V_OK);
    cr_assert_eq(w2v_vocab_size(v), 4);
    expect_entry(v, 0, "five", 5);
    expect_entry(v, 1, "four", 4);
    expect_entry(v, 2, "also-three", 3);
    expect_entry(v, 3, "three", 3);
    cr_assert_eq(find(v, "two"), -1);
    cr_assert_eq(find(v, "one"), -1);
    cr_assert_eq(w2v_vocab_total(v), 15);

    /* max_words keeps the most frequent after min_count. */
    cr_assert_eq(w2v_vocab_finalize(c, 2, 3, NULL), W2V_OK);
    cr_assert_eq(w2v_vocab_size(c), 3);
    expect_entry(c, 0, "five", 5);
    expect_entry(c, 1, "four", 4);
    expect_entry(c, 2, "also-three", 3);
    cr_assert_eq(find(c, "three"), -1);
    cr_assert_eq(w2v_vocab_total(c), 12);

    /* min_count above every count empties it. */
    cr_assert_eq(w2v_vocab_finalize(c, 100, 0, NULL), W2V_OK);
    cr_assert_eq(w2v_vocab_size(c), 0);
    cr_assert_eq(find(c, "five"), -1);
    w2v_vocab_free(c);
    w2v_vocab_free(v);
}

/* ---------------------------------------------------------------------- */
/* Lookups                                                                 */

Test(vocab, add_and_find)
{
    w2v_vocab *v = new_vocab();
    cr_assert_eq(add(v, "abc", 1), 0);
    cr_assert_eq(add(v, "ab", 2), 1);
    cr_assert_eq(add(v, "abc", 4), 0);
    cr_assert_eq(w2v_vocab_size(v), 2);
    cr_assert_eq(w2v_vocab_count(v, 0), 5);
    cr_assert_eq(w2v_vocab_total(v), 7);
    cr_assert_eq(find(v, "abc"), 0);
    cr_assert_eq(find(v, "ab"), 1);
    cr_assert_eq(find(v, "a"), -1);
    cr_assert_eq(find(v, "abcd"), -1);
    cr_assert_eq(w2v_vocab_find(v, "abcd", 3), 0);
    cr_assert_eq(w2v_vocab_find(v, "", 0), -1);
    /* NULL id is allowed. */
    cr_assert_eq(w2v_vocab_add(v, "x", 1, 1, NULL, NULL), W2V_OK);
    cr_assert_eq(find(v, "x"), 2);
    w2v_vocab_free(v);
    w2v_vocab_free(NULL);
}

/*
 * The table decides words of at most 8 bytes from the slot alone (first
 * 8 bytes and length) and compares the rest of longer ones in the arena:
 * words that share a head, or whose lengths differ only above 255, must
 * still be told apart, and a query holding a NUL must not match the word
 * it pads to.
 */
Test(vocab, words_sharing_a_head_or_a_length_tag_are_distinct)
{
    w2v_vocab *v = new_vocab();
    static const char *const w[] = {
        "a", "ab", "abcdefg", "abcdefgh", "abcdefghi", "abcdefghj",
        "abcdefghij", "abcdefgh0", "abcdefghabcdefgh", "abcdefghabcdefgi",
    };
    size_t n = sizeof w / sizeof *w;
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(add(v, w[i], 1), (int64_t)i);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(find(v, w[i]), (int64_t)i, "%s", w[i]);
    cr_assert_eq(find(v, "abcdefghk"), -1);
    cr_assert_eq(find(v, "abcdefgha"), -1);
    cr_assert_eq(find(v, "abcdef"), -1);
    cr_assert_eq(w2v_vocab_find(v, "ab\0", 3), -1);
    cr_assert_eq(w2v_vocab_find(v, "abcdefg\0", 8), -1);
    cr_assert_eq(w2v_vocab_find(v, "abcdefgh\0", 9), -1);

    /* 255, 256 and 300 bytes of the same letter share the length tag. */
    char *q = malloc(300);
    memset(q, 'q', 300);
    int64_t id255, id256, id300;
    cr_assert_eq(w2v_vocab_add(v, q, 255, 1, &id255, NULL), W2V_OK);
    cr_assert_eq(w2v_vocab_add(v, q, 256, 1, &id256, NULL), W2V_OK);
    cr_assert_eq(w2v_vocab_add(v, q, 300, 1, &id300, NULL), W2V_OK);
    cr_assert(id255 != id256 && id256 != id300 && id255 != id300);
    cr_assert_eq(w2v_vocab_find(v, q, 255), id255);
    cr_assert_eq(w2v_vocab_find(v, q, 256), id256);
    cr_assert_eq(w2v_vocab_find(v, q, 300), id300);
    cr_assert_eq(w2v_vocab_find(v, q, 299), -1);
    q[299] = 'r';
    cr_assert_eq(w2v_vocab_find(v, q, 300), -1);
    free(q);

    /* Sorting rebuilds the table; every word is still found. */
    cr_assert_eq(w2v_vocab_finalize(v, 1, 0, NULL), W2V_OK);
    for (size_t i = 0; i < n; i++) {
        int64_t id = find(v, w[i]);
        cr_assert_geq(id, 0, "%s", w[i]);
        cr_assert_str_eq(w2v_vocab_word(v, (size_t)id), w[i]);
    }
    w2v_vocab_free(v);
}

Test(vocab, hundred_thousand_words)
{
    const size_t n = 100000;
    w2v_vocab *v = new_vocab();
    char w[32];
    for (size_t i = 0; i < n; i++) {
        snprintf(w, sizeof w, "word%zu", i);
        cr_assert_eq(add(v, w, 1 + i % 7), (int64_t)i);
    }
    cr_assert_eq(w2v_vocab_size(v), n);
    for (size_t i = 0; i < n; i++) {
        snprintf(w, sizeof w, "word%zu", i);
        cr_assert_eq(find(v, w), (int64_t)i, "%s", w);
        snprintf(w, sizeof w, "Word%zu", i);
        cr_assert_eq(find(v, w), -1, "%s", w);
    }
    snprintf(w, sizeof w, "word%zu", n);
    cr_assert_eq(find(v, w), -1);

    /* After sorting, ids are still dense and every word is found. */
    cr_assert_eq(w2v_vocab_finalize(v, 2, 0, NULL), W2V_OK);
    size_t kept = n - (n + 6) / 7;
    cr_assert_eq(w2v_vocab_size(v), kept);
    char *seen = calloc(n, 1);
    cr_assert_not_null(seen);
    for (size_t id = 0; id < kept; id++) {
        const char *word = w2v_vocab_word(v, id);
        cr_assert_eq(find(v, word), (int64_t)id);
        size_t i = strtoul(word + 4, NULL, 10);
        cr_assert_lt(i, n);
        cr_assert_eq(seen[i], 0);
        seen[i] = 1;
        cr_assert_eq(w2v_vocab_count(v, id), 1 + i % 7);
        if (id > 0)
            cr_assert_geq(w2v_vocab_count(v, id - 1),
                          w2v_vocab_count(v, id));
    }
    for (size_t i = 0; i < n; i += 7) {
        snprintf(w, sizeof w, "word%zu", i);
        cr_assert_eq(find(v, w), -1, "%s has count 1 < min_count", w);
    }
    free(seen);
    w2v_vocab_free(v);
}

Test(vocab, words_are_any_bytes_but_whitespace_and_nul)
{
    w2v_vocab *v = new_vocab();
    /* Every byte from 0x01 except whitespace, and all of 0x80..0xff. */
    char all[256];
    size_t n = 0;
    for (int b = 1; b < 256; b++)
        if (b != ' ' && b != '\t' && b != '\n' && b != '\r' && b != '\v' &&
            b != '\f')
            all[n++] = (char)b;
    int64_t id;
    cr_assert_eq(w2v_vocab_add(v, all, n, 3, &id, NULL), W2V_OK);
    cr_assert_eq(w2v_vocab_word_len(v, (size_t)id), n);
    cr_assert_eq(memcmp(w2v_vocab_word(v, (size_t)id), all, n), 0);
    cr_assert_eq(w2v_vocab_word(v, (size_t)id)[n], '\0');
    cr_assert_eq(w2v_vocab_find(v, all, n), id);
    cr_assert_eq(w2v_vocab_find(v, all, n - 1), -1);

    static const char *const utf8[] = {
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "\xd0\xbc\xd0\xb8\xd1\x80",
        "\xf0\x9f\x8e\x89", "caf\xc3\xa9", "cafe\xcc\x81", "\xc0\x80",
        "\xfe\xff",
    };
    for (size_t i = 0; i < sizeof utf8 / sizeof *utf8; i++)
        add(v, utf8[i], 1);
    for (size_t i = 0; i < sizeof utf8 / sizeof *utf8; i++)
        cr_assert_str_eq(w2v_vocab_word(v, (size_t)find(v, utf8[i])),
                         utf8[i]);

    /* A long word is kept whole. */
    size_t big = 100000;
    char *long_word = malloc(big);
    memset(long_word, 'q', big);
    cr_assert_eq(w2v_vocab_add(v, long_word, big, 1, &id, NULL), W2V_OK);
    cr_assert_eq(w2v_vocab_word_len(v, (size_t)id), big);
    cr_assert_eq(w2v_vocab_find(v, long_word, big), id);
    free(long_word);
    w2v_vocab_free(v);
}

Test(vocab, rejects_empty_words_and_whitespace)
{
    static const struct {
        const char *w;
        size_t len;
    } bad[] = {
        {"", 0}, {" ", 1}, {"a b", 3}, {"a\tb", 3}, {"a\n", 2}, {"\r", 1},
        {"x\vy", 3}, {"\f", 1}, {"a\0b", 3}, {"\0", 1},
    };
    w2v_vocab *v = new_vocab();
    add(v, "ok", 1);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        w2v_error err = {0};
        int64_t id = 77;
        int rc = w2v_vocab_add(v, bad[i].w, bad[i].len, 1, &id, &err);
        cr_assert_eq(rc, W2V_ERR_ARG, "word %zu accepted", i);
        cr_assert_eq(err.code, W2V_ERR_ARG);
        cr_assert_neq(err.message[0], '\0');
    }
    cr_assert_eq(w2v_vocab_size(v), 1);
    cr_assert_eq(w2v_vocab_total(v), 1);
    w2v_vocab_free(v);
}

/* ---------------------------------------------------------------------- */
/* Save and load                                                           */

Test(vocab, save_load_round_trip)
{
    w2v_vocab *v = new_vocab();
    add(v, "the", 100);
    add(v, "\xc3\xa9t\xc3\xa9", 7);
    add(v, "a", 7);
    add(v, "big", UINT64_MAX / 2);
    add(v, "rare", 1);
    cr_assert_eq(w2v_vocab_finalize(v, 0, 0, NULL), W2V_OK);
    char *path = tu_path(tu_scratch(), "vocab.txt");
    w2v_error err = {0};
    cr_assert_eq(w2v_vocab_save(v, path, &err), W2V_OK, "%s", err.message);
    /* Written under a temporary name and renamed: nothing else is left. */
    cr_assert_eq(tu_count_entries(tu_scratch(), NULL), 1);

    char *text = tu_read_file(path, NULL);
    cr_assert_str_eq(text, "big 9223372036854775807\n"
                           "the 100\n"
                           "a 7\n"
                           "\xc3\xa9t\xc3\xa9 7\n"
                           "rare 1\n");
    free(text);

    w2v_vocab *back = NULL;
    cr_assert_eq(w2v_vocab_load(path, 0, 0, &back, &err), W2V_OK, "%s",
                 err.message);
    expect_same(v, back);
    w2v_vocab_free(back);

    /* Limits apply on load. */
    cr_assert_eq(w2v_vocab_load(path, 7, 2, &back, &err), W2V_OK);
    cr_assert_eq(w2v_vocab_size(back), 2);
    expect_entry(back, 0, "big", UINT64_MAX / 2);
    expect_entry(back, 1, "the", 100);
    w2v_vocab_free(back);

    /* Saving again replaces the file. */
    add(v, "new", 1000);
    cr_assert_eq(w2v_vocab_save(v, path, &err), W2V_OK);
    cr_assert_eq(tu_count_entries(tu_scratch(), NULL), 1);
    cr_assert_eq(w2v_vocab_load(path, 0, 0, &back, &err), W2V_OK);
    cr_assert_eq(w2v_vocab_size(back), 6);
    w2v_vocab_free(back);
    w2v_vocab_free(v);
    free(path);
}

Test(vocab, save_into_missing_directory_fails_cleanly)
{
    w2v_vocab *v = new_vocab();
    add(v, "a", 1);
    char *path = tu_path(tu_scratch(), "no-such-dir/vocab.txt");
    w2v_error err = {0};
    cr_assert_eq(w2v_vocab_save(v, path, &err), W2V_ERR_IO);
    cr_assert_not_null(strstr(err.message, path), "%s", err.message);
    cr_assert_eq(tu_count_entries(tu_scratch(), NULL), 0);
    free(path);
    w2v_vocab_free(v);
}

Test(vocab, load_accepts_crlf_and_a_last_line_without_newline)
{
    const char text[] = "x 5\r\ny 3\r\nz 4";
    char *path = tu_write_file(NULL, "v.txt", text, sizeof text - 1);
    w2v_vocab *v = NULL;
    w2v_error err = {0};
    cr_assert_eq(w2v_vocab_load(path, 0, 0, &v, &err), W2V_OK, "%s",
                 err.message);
    cr_assert_eq(w2v_vocab_size(v), 3);
    expect_entry(v, 0, "x", 5);
    expect_entry(v, 1, "z", 4);
    expect_entry(v, 2, "y", 3);
    w2v_vocab_free(v);
    free(path);
}

/*
 * Loads text[0, len) and expects status code with "<file>:<line>:" in the
 * message (line 0: no line expected, only the file name).
 */
static void expect_load_error(const char *text, size_t len, int code,
                              size_t line)
{
    char *path = tu_write_file(NULL, "vocab.txt", text, len);
    w2v_vocab *v = (w2v_vocab *)1;
    w2v_error err = {0};
    int rc = w2v_vocab_load(path, 0, 0, &v, &err);
    cr_assert_eq(rc, code, "\"%.*s\": status %d, expected %d (%s)", (int)len,
                 text, rc, code, err.message);
    cr_assert_null(v);
    cr_assert_eq(err.code, code);
    char want[512];
    if (line > 0)
        snprintf(want, sizeof want, "%s:%zu:", path, line);
    else
        snprintf(want, sizeof want, "%s", path);
    cr_assert_not_null(strstr(err.message, want), "expected \"%s\" in: %s",
                       want, err.message);
    free(path);
}

#define LOAD_ERROR(lit, code, line) \
    expect_load_error(lit, sizeof lit - 1, code, line)

Test(vocab, load_errors_name_the_line)
{
    LOAD_ERROR("a 3\nb\n", W2V_ERR_FORMAT, 2);
    LOAD_ERROR("a 3\nb \n", W2V_ERR_FORMAT, 2);
    LOAD_ERROR("a 3\nb x7\n", W2V_ERR_FORMAT, 2);
    LOAD_ERROR("a 3\nb 7x\n", W2V_ERR_FORMAT, 2);
    LOAD_ERROR("a 3\nb -1\n", W2V_ERR_FORMAT, 2);
    LOAD_ERROR("a 3\nb +1\n", W2V_ERR_FORMAT, 2);
    LOAD_ERROR("a 3\nb 1.5\n", W2V_ERR_FORMAT, 2);
    LOAD_ERROR("a 3\nb 1 2\n", W2V_ERR_FORMAT, 2);
    LOAD_ERROR("a 3\nb  2\n", W2V_ERR_FORMAT, 2);
    LOAD_ERROR("a 3\nb 99999999999999999999\n", W2V_ERR_FORMAT, 2);
    LOAD_ERROR("a 3\nb 2\na 1\n", W2V_ERR_FORMAT, 3);
    LOAD_ERROR("a 3\n\nb 2\n", W2V_ERR_FORMAT, 2);
    LOAD_ERROR("a 3\n 2\n", W2V_ERR_FORMAT, 2);
    LOAD_ERROR("a 3\nb\0 2\n", W2V_ERR_FORMAT, 2);
    LOAD_ERROR("a 3\nb 2\nc 1\nd\0\n", W2V_ERR_FORMAT, 4);
    LOAD_ERROR("a 3\nb\tc 2\n", W2V_ERR_FORMAT, 2);
    LOAD_ERROR("a 3\nb\vc 2\n", W2V_ERR_FORMAT, 2);
    LOAD_ERROR("just-a-word", W2V_ERR_FORMAT, 1);
}

Test(vocab, load_empty_file)
{
    LOAD_ERROR("", W2V_ERR_EMPTY, 0);
}

Test(vocab, load_nothing_reaches_min_count)
{
    const char text[] = "a 3\nb 2\n";
    char *path = tu_write_file(NULL, "v.txt", text, sizeof text - 1);
    w2v_vocab *v = (w2v_vocab *)1;
    w2v_error err = {0};
    cr_assert_eq(w2v_vocab_load(path, 4, 0, &v, &err), W2V_ERR_EMPTY);
    cr_assert_null(v);
    cr_assert_not_null(strstr(err.message, path), "%s", err.message);
    free(path);
}

Test(vocab, load_missing_file_and_directory)
{
    w2v_vocab *v = (w2v_vocab *)1;
    w2v_error err = {0};
    char *path = tu_path(tu_scratch(), "absent.txt");
    cr_assert_eq(w2v_vocab_load(path, 0, 0, &v, &err), W2V_ERR_IO);
    cr_assert_null(v);
    cr_assert_not_null(strstr(err.message, path), "%s", err.message);
    v = (w2v_vocab *)1;
    cr_assert_eq(w2v_vocab_load(tu_scratch(), 0, 0, &v, &err), W2V_ERR_IO);
    cr_assert_null(v);
    cr_assert_not_null(strstr(err.message, tu_scratch()), "%s",
                       err.message);
    free(path);
}

/* ---------------------------------------------------------------------- */
/* Cloning                                                                 */

Test(vocab, clone_is_equal_and_independent)
{
    w2v_vocab *v = build_ok("x y z x y x\nw\n", 1);
    w2v_vocab *c = NULL;
    w2v_error err = {0};
    cr_assert_eq(w2v_vocab_clone(v, &c, &err), W2V_OK, "%s", err.message);
    expect_same(v, c);
    add(c, "new", 10);
    add(c, "x", 1);
    cr_assert_eq(w2v_vocab_size(v), 4);
    cr_assert_eq(find(v, "new"), -1);
    expect_entry(v, 0, "x", 3);
    expect_entry(c, 0, "x", 4);

    w2v_vocab *empty = new_vocab(), *ec = NULL;
    cr_assert_eq(w2v_vocab_clone(empty, &ec, NULL), W2V_OK);
    cr_assert_eq(w2v_vocab_size(ec), 0);
    add(ec, "grows", 1);
    cr_assert_eq(find(ec, "grows"), 0);
    w2v_vocab_free(ec);
    w2v_vocab_free(empty);
    w2v_vocab_free(c);
    w2v_vocab_free(v);
}

/* ---------------------------------------------------------------------- */
/* Empty results                                                           */

Test(vocab, empty_corpus)
{
    static const char *const texts[] = {"", "\n\n \t\r\n"};
    for (size_t i = 0; i < 2; i++) {
        w2v_vocab *v = (w2v_vocab *)1;
        w2v_error err = {0};
        int rc = build_from(texts[i], strlen(texts[i]), NULL, &v, &err);
        cr_assert_eq(rc, W2V_ERR_EMPTY, "text %zu: status %d", i, rc);
        cr_assert_null(v);
        cr_assert_not_null(strstr(err.message, "corpus.txt"), "%s",
                           err.message);
    }
}

Test(vocab, nothing_reaches_min_count_names_the_highest_count)
{
    w2v_vocab_options o = w2v_vocab_options_default();
    o.min_count = 5;
    w2v_vocab *v = (w2v_vocab *)1;
    w2v_error err = {0};
    const char text[] = "a b a c a d b\n";
    int rc = build_from(text, sizeof text - 1, &o, &v, &err);
    cr_assert_eq(rc, W2V_ERR_EMPTY);
    cr_assert_null(v);
    cr_assert_not_null(strstr(err.message, "corpus.txt"), "%s", err.message);
    cr_assert_not_null(strstr(err.message, "occurs 3 times"), "%s",
                       err.message);
    cr_assert_not_null(strstr(err.message, "in 7 words"), "%s", err.message);
}

Test(vocab, pruned_to_nothing_still_reports_what_was_read)
{
    /* 1001 distinct words, once each: pruning drops all of them. */
    size_t cap = 1001 * 8 + 16, n = 0;
    char *text = malloc(cap);
    for (size_t i = 0; i < 1001; i++)
        n += (size_t)snprintf(text + n, cap - n, "u%zu ", i);
    w2v_vocab_options o = w2v_vocab_options_default();
    o.min_count = 1;
    o.max_distinct = 1000;
    w2v_vocab *v = (w2v_vocab *)1;
    w2v_error err = {0};
    int rc = build_from(text, n, &o, &v, &err);
    cr_assert_eq(rc, W2V_ERR_EMPTY);
    cr_assert_null(v);
    cr_assert_null(strstr(err.message, "has no words"), "%s", err.message);
    cr_assert_not_null(strstr(err.message, "occurs 1 times in 1001 words"),
                       "%s", err.message);
    free(text);
}

/* Reserving room changes nothing a caller can see, before or after adds. */
Test(vocab, reserve_keeps_every_word)
{
    w2v_vocab *v = NULL;
    cr_assert_eq(w2v_vocab_new(&v, NULL), W2V_OK);
    char w[32];
    for (int i = 0; i < 100; i++) {
        int len = snprintf(w, sizeof w, "early%d", i);
        cr_assert_eq(w2v_vocab_add(v, w, (size_t)len, 1, NULL, NULL),
                     W2V_OK);
    }
    cr_assert_eq(w2v_vocab_reserve(v, 50000, 500000, NULL), W2V_OK);
    cr_assert_eq(w2v_vocab_reserve(v, 10, 10, NULL), W2V_OK); /* smaller */
    for (int i = 0; i < 50000; i++) {
        int len = snprintf(w, sizeof w, "late%d", i);
        int64_t id;
        cr_assert_eq(w2v_vocab_add(v, w, (size_t)len, 2, &id, NULL), W2V_OK);
        cr_assert_eq(id, 100 + i);
    }
    cr_assert_eq(w2v_vocab_size(v), 50100);
    for (int i = 0; i < 100; i++) {
        int len = snprintf(w, sizeof w, "early%d", i);
        cr_assert_eq(w2v_vocab_find(v, w, (size_t)len), i);
    }
    cr_assert_eq(w2v_vocab_find(v, "late49999", 9), 50099);
    cr_assert_str_eq(w2v_vocab_word(v, 50099), "late49999");
    cr_assert_eq(w2v_vocab_total(v), 100 + 2 * 50000);
    w2v_vocab_free(v);
}

/* ---------------------------------------------------------------------- */
/* Counting with several threads                                           */

/*
 * About 5 MB of text (several of the reader's 1 MB blocks) with a skewed
 * distribution over 30,000 words, so that every thread sees many blocks
 * and words of every frequency.
 */
static char *skewed_text(size_t *len)
{
    size_t cap = 6u << 20, n = 0;
    char *s = malloc(cap);
    cr_assert_not_null(s);
    uint64_t x = 88172645463325252ULL;
    while (n + 32 < cap - 64) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        /* A log-uniform rank: rank r has probability about 1 / r. */
        double u = (double)(x >> 11) / 9007199254740992.0;
        size_t r = (size_t)(exp(u * log(30000.0)));
        n += (size_t)snprintf(s + n, cap - n, "w%zu%c", r,
                              (x & 63) == 0 ? '\n' : ' ');
    }
    *len = n;
    return s;
}

static w2v_vocab *build_threads(const char *path, size_t threads,
                                uint64_t min_count, size_t max_distinct)
{
    w2v_vocab_options o = w2v_vocab_options_default();
    o.min_count = min_count;
    o.threads = threads;
    if (max_distinct)
        o.max_distinct = max_distinct;
    w2v_corpus *c = NULL;
    w2v_error err = {0};
    cr_assert_eq(w2v_corpus_open(path, &c, &err), W2V_OK, "%s", err.message);
    w2v_vocab *v = NULL;
    cr_assert_eq(w2v_vocab_build(c, &o, &v, &err), W2V_OK, "%zu threads: %s",
                 threads, err.message);
    w2v_corpus_close(c);
    return v;
}

Test(vocab, threads_count_exactly_what_one_thread_counts)
{
    size_t len;
    char *text = skewed_text(&len);
    char *plain = tu_write_file(NULL, "skewed.txt", text, len);
    char *gz = tu_write_gzip(NULL, "skewed.txt.gz", text, len);
    w2v_vocab *one = build_threads(plain, 1, 1, 0);
    cr_assert_gt(w2v_vocab_size(one), 20000);
    static const size_t threads[] = {2, 3, 8};
    for (size_t i = 0; i < 3; i++) {
        w2v_vocab *v = build_threads(plain, threads[i], 1, 0);
        expect_same(one, v);
        w2v_vocab_free(v);
        v = build_threads(gz, threads[i], 1, 0);
        expect_same(one, v);
        w2v_vocab_free(v);
    }
    /* min-count applies to the summed counts, not to each thread's. */
    w2v_vocab *five = build_threads(plain, 1, 5, 0);
    w2v_vocab *five4 = build_threads(plain, 4, 5, 0);
    expect_same(five, five4);
    w2v_vocab_free(five);
    w2v_vocab_free(five4);
    w2v_vocab_free(one);
    free(plain);
    free(gz);
    free(text);
}

Test(vocab, threads_prune_their_own_tables_and_keep_frequent_words)
{
    size_t len;
    uint64_t each;
    char *text = pruning_text(20, 200000, &len, &each);
    char *path = tu_write_file(NULL, "prune.txt", text, len);
    w2v_vocab *v = build_threads(path, 2, 1, 4000);
    /* Each of the two tables stays near 4000 / 2 distinct words. */
    cr_assert_leq(w2v_vocab_size(v), 4000 + 2 * 20);
    for (size_t f = 0; f < 20; f++) {
        char w[16];
        snprintf(w, sizeof w, "f%zu", f);
        int64_t id = find(v, w);
        cr_assert_geq(id, 0, "%s was pruned", w);
        cr_assert_lt(id, 20);
        cr_assert_eq(w2v_vocab_count(v, (size_t)id), each);
    }
    w2v_vocab_free(v);
    free(path);
    free(text);
}

Test(vocab, threads_report_a_corrupt_block_like_one_thread)
{
    size_t len, gz_len;
    char *text = skewed_text(&len);
    unsigned char *gz = tu_gzip_bytes(text, len, &gz_len);
    /* Damage the compressed stream about two thirds of the way in. */
    for (size_t i = gz_len * 2 / 3; i < gz_len * 2 / 3 + 64; i++)
        gz[i] ^= 0x5a;
    char *path = tu_write_file(NULL, "bad.txt.gz", gz, gz_len);
    char first[W2V_ERROR_MAX] = "";
    for (size_t threads = 1; threads <= 4; threads++) {
        w2v_vocab_options o = w2v_vocab_options_default();
        o.threads = threads;
        w2v_corpus *c = NULL;
        w2v_error err = {0};
        cr_assert_eq(w2v_corpus_open(path, &c, &err), W2V_OK);
        w2v_vocab *v = (w2v_vocab *)1;
        int rc = w2v_vocab_build(c, &o, &v, &err);
        cr_assert_neq(rc, W2V_OK, "%zu threads accepted a corrupt stream",
                      threads);
        cr_assert_null(v);
        cr_assert(strstr(err.message, "bad.txt.gz") != NULL, "%s",
                  err.message);
        if (threads == 1)
            snprintf(first, sizeof first, "%s", err.message);
        else
            cr_assert_str_eq(err.message, first);
        w2v_corpus_close(c);
    }
    free(path);
    free(gz);
    free(text);
}
