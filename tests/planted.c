/*
 * planted.c - the synthetic corpus of planted.h.
 */
#include "planted.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Persons indexed by royal * 4 + female * 2 + child. */
static const char *const persons[8] = {
    "man", "boy", "woman", "girl", "king", "prince", "queen", "princess",
};

/* Context pools, [attribute value][i]. */
static const char *const royalty_pool[2][4] = {
    {"farm", "village", "market", "cottage"},
    {"crown", "throne", "palace", "castle"},
};
static const char *const gender_pool[2][4] = {
    {"he", "his", "him", "himself"},
    {"she", "her", "hers", "herself"},
};
static const char *const age_pool[2][4] = {
    {"works", "married", "beard", "tax"},
    {"plays", "school", "toys", "small"},
};

#define N_FILLERS 60

const planted_analogy planted_analogies[] = {
    {"king", "man", "woman", "queen"},        /* gender */
    {"prince", "boy", "girl", "princess"},    /* gender */
    {"king", "queen", "princess", "prince"},  /* gender, reversed */
    {"woman", "man", "king", "queen"},        /* royalty */
    {"man", "boy", "prince", "king"},         /* age */
    {"girl", "boy", "man", "woman"},          /* gender */
};
const size_t planted_n_analogies =
    sizeof planted_analogies / sizeof planted_analogies[0];

/* xorshift64*: small and good enough to draw a test corpus. */
static uint64_t next_u64(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static unsigned below(uint64_t *s, unsigned n)
{
    return (unsigned)((next_u64(s) >> 32) * n >> 32);
}

/* A filler word, skewed towards low numbers like natural word counts. */
static void filler(uint64_t *s, char *buf, size_t cap)
{
    double u = (double)(next_u64(s) >> 11) / 9007199254740992.0;
    snprintf(buf, cap, "f%02u", (unsigned)(u * u * N_FILLERS));
}

typedef struct text_buf {
    char *p;
    size_t len, cap;
    int failed;
} text_buf;

static void put_word(text_buf *t, const char *w, char sep)
{
    size_t n = strlen(w);
    if (t->failed)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1 << 16;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *q = realloc(t->p, cap);
        if (q == NULL) {
            t->failed = 1;
            return;
        }
        t->p = q;
        t->cap = cap;
    }
    memcpy(t->p + t->len, w, n);
    t->p[t->len + n] = sep;
    t->len += n + 1;
}

char *planted_text(size_t n_sentences, uint64_t seed, size_t *len,
                   uint64_t *words)
{
    text_buf t = {NULL, 0, 0, 0};
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 0x1234567ULL;
    uint64_t count = 0;
    for (size_t i = 0; i < n_sentences; i++) {
        unsigned p = below(&s, 8);
        unsigned royal = p >> 2 & 1, female = p >> 1 & 1, child = p & 1;
        /* The person, then its three attribute words in a random order. */
        const char *w[4];
        w[0] = persons[p];
        w[1] = royalty_pool[royal][below(&s, 4)];
        w[2] = gender_pool[female][below(&s, 4)];
        w[3] = age_pool[child][below(&s, 4)];
        for (unsigned k = 3; k > 1; k--) {
            unsigned j = 1 + below(&s, k);
            const char *tmp = w[k];
            w[k] = w[j];
            w[j] = tmp;
        }
        /* One attribute word may come before the person. */
        if (below(&s, 2)) {
            const char *tmp = w[0];
            w[0] = w[1];
            w[1] = tmp;
        }
        char f[8];
        unsigned pre = 1 + below(&s, 2), post = 2 + below(&s, 3);
        for (unsigned k = 0; k < pre; k++) {
            filler(&s, f, sizeof f);
            put_word(&t, f, ' ');
        }
        for (unsigned k = 0; k < 4; k++)
            put_word(&t, w[k], ' ');
        for (unsigned k = 0; k < post; k++) {
            filler(&s, f, sizeof f);
            put_word(&t, f, k + 1 == post ? '\n' : ' ');
        }
        count += pre + 4 + post;
    }
    if (t.failed) {
        free(t.p);
        return NULL;
    }
    *len = t.len;
    if (words != NULL)
        *words = count;
    return t.p;
}

int planted_write(const char *path, size_t n_sentences, uint64_t seed,
                  uint64_t *words)
{
    size_t len;
    char *text = planted_text(n_sentences, seed, &len, words);
    if (text == NULL)
        return -1;
    FILE *fp = fopen(path, "wb");
    int rc = -1;
    if (fp != NULL) {
        rc = fwrite(text, 1, len, fp) == len ? 0 : -1;
        if (fclose(fp) != 0)
            rc = -1;
    }
    free(text);
    return rc;
}
