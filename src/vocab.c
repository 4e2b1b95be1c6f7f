/*
 * vocab.c - words, counts and an open-addressing hash table.
 * See w2v/vocab.h for the contract.
 *
 * Layout: words live NUL-terminated in one text arena; entries (count,
 * arena offset, length) are indexed by id; the hash table is open
 * addressing with linear probing, at most half full, and each 16-byte
 * slot holds the word's first eight bytes, a tag (24 bits of the hash
 * above the length in the low byte) and id + 1 (0 = empty). A probe that misses
 * touches only the table; a hit on a word of at most eight bytes (most
 * tokens of English text) is decided in the slot alone, and only longer
 * words go on to compare their remaining bytes in the arena. Every
 * reordering (pruning, sorting, truncating) rebuilds all three from a list
 * of surviving ids, so there is one place that can get it wrong.
 */
#define _POSIX_C_SOURCE 200809L

#include "w2v/vocab.h"

#include <errno.h>
#include <pthread.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

typedef struct entry {
    uint64_t count;
    size_t off;     /* offset of the word in text */
    uint32_t len;   /* bytes, without the NUL */
} entry;

typedef struct slot {
    uint64_t head;  /* the word's first 8 bytes, zero-padded */
    uint32_t tag;   /* hash bits 40..63 above min(len, 255) */
    uint32_t id1;   /* id + 1, or 0 for an empty slot */
} slot;

/* What a lookup computes once: where to start, and what a slot must hold. */
typedef struct probe {
    uint64_t head;
    size_t start;   /* the hash; the table index is its low bits */
    uint32_t tag;
} probe;

struct w2v_vocab {
    entry *e;          /* (cap) entries, n used */
    size_t n, cap;
    char *text;        /* (text_cap) bytes, text_len used */
    size_t text_len, text_cap;
    slot *slots;       /* (n_slots), n_slots a power of 2 */
    size_t n_slots;
    uint64_t total;    /* sum of counts */
};

/*
 * A multiplicative hash that takes the word eight bytes at a time (most
 * words are one or two steps, against a multiply per byte for FNV-1a),
 * finished by a 64-bit mixer (the "fmix64" finaliser of MurmurHash3) so
 * that the low bits used for the slot depend on every byte.
 */
static uint64_t hash_bytes(const char *s, size_t len)
{
    const uint64_t k = 0x9e3779b97f4a7c15ULL;
    uint64_t h = (uint64_t)len * k;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        h = (h ^ x) * k;
        h ^= h >> 32;
    }
    if (i < len) {
        uint64_t x = 0;
        memcpy(&x, s + i, len - i);
        h = (h ^ x) * k;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

static probe make_probe(const char *word, size_t len)
{
    uint64_t h = hash_bytes(word, len);
    probe p = {0, (size_t)h,
               ((uint32_t)(h >> 32) & ~0xffu) |
                   (len < 255 ? (uint32_t)len : 255)};
    if (len >= 8)
        memcpy(&p.head, word, 8);
    else
        for (size_t i = 0; i < len; i++)
            p.head |= (uint64_t)(unsigned char)word[i] << (8 * i);
    return p;
}

int w2v_vocab_new(w2v_vocab **out, w2v_error *err)
{
    *out = NULL;
    w2v_vocab *v = calloc(1, sizeof *v);
    if (v == NULL)
        return w2v_fail_nomem(err, "a vocabulary");
    v->n_slots = 1024;
    v->slots = calloc(v->n_slots, sizeof *v->slots);
    if (v->slots == NULL) {
        free(v);
        return w2v_fail_nomem(err, "a vocabulary");
    }
    *out = v;
    return W2V_OK;
}

void w2v_vocab_free(w2v_vocab *v)
{
    if (v == NULL)
        return;
    free(v->e);
    free(v->text);
    free(v->slots);
    free(v);
}

size_t w2v_vocab_size(const w2v_vocab *v)
{
    return v->n;
}

const char *w2v_vocab_word(const w2v_vocab *v, size_t id)
{
    return v->text + v->e[id].off;
}

size_t w2v_vocab_word_len(const w2v_vocab *v, size_t id)
{
    return v->e[id].len;
}

uint64_t w2v_vocab_count(const w2v_vocab *v, size_t id)
{
    return v->e[id].count;
}

uint64_t w2v_vocab_total(const w2v_vocab *v)
{
    return v->total;
}

/*
 * The slot holding word, or the empty slot where it would go. Words hold no
 * NUL, so for len <= 8 the head and the length in the tag decide equality.
 */
static size_t find_slot(const w2v_vocab *v, const char *word, size_t len,
                        const probe *p)
{
    size_t mask = v->n_slots - 1;
    size_t i = p->start & mask;
    for (;;) {
        const slot *s = &v->slots[i];
        if (s->id1 == 0)
            return i;
        if (s->tag == p->tag && s->head == p->head) {
            if (len <= 8)
                return i;
            const entry *e = &v->e[s->id1 - 1];
            if (e->len == len &&
                memcmp(v->text + e->off + 8, word + 8, len - 8) == 0)
                return i;
        }
        i = (i + 1) & mask;
    }
}

int64_t w2v_vocab_find(const w2v_vocab *v, const char *word, size_t len)
{
    probe p = make_probe(word, len);
    uint32_t id1 = v->slots[find_slot(v, word, len, &p)].id1;
    return id1 == 0 ? -1 : (int64_t)id1 - 1;
}

/* Makes a table of n_slots (a power of 2) slots for the current entries. */
static int rehash(w2v_vocab *v, size_t n_slots, w2v_error *err)
{
    slot *slots = calloc(n_slots, sizeof *slots);
    if (slots == NULL)
        return w2v_fail_nomem(err, "a vocabulary hash table");
    free(v->slots);
    v->slots = slots;
    v->n_slots = n_slots;
    size_t mask = n_slots - 1;
    for (size_t id = 0; id < v->n; id++) {
        probe p = make_probe(v->text + v->e[id].off, v->e[id].len);
        size_t i = p.start & mask;
        while (slots[i].id1 != 0)
            i = (i + 1) & mask;
        slots[i] = (slot){p.head, p.tag, (uint32_t)(id + 1)};
    }
    return W2V_OK;
}

/* The smallest power of two >= 2 * n (and >= 1024). */
static size_t slots_for(size_t n)
{
    size_t s = 1024;
    while (s < 2 * n)
        s *= 2;
    return s;
}

static int reserve(void **p, size_t *cap, size_t need, size_t elem,
                   w2v_error *err)
{
    if (need <= *cap)
        return W2V_OK;
    size_t c = *cap ? *cap : 256;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return w2v_fail_nomem(err, "the vocabulary");
        c *= 2;
    }
    size_t bytes;
    if (!w2v_mul_size(c, elem, &bytes))
        return w2v_fail_nomem(err, "the vocabulary");
    void *q = realloc(*p, bytes);
    if (q == NULL)
        return w2v_fail_nomem(err, "the vocabulary");
    *p = q;
    *cap = c;
    return W2V_OK;
}

static int check_word(const char *word, size_t len, w2v_error *err)
{
    if (len == 0)
        return w2v_fail(err, W2V_ERR_ARG, "empty word");
    if (len > UINT32_MAX)
        return w2v_fail(err, W2V_ERR_ARG, "word of %zu bytes is too long",
                        len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)word[i];
        if (c == 0 || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
            c == '\v' || c == '\f')
            return w2v_fail(err, W2V_ERR_ARG,
                            "word contains whitespace or NUL at byte %zu", i);
    }
    return W2V_OK;
}

int w2v_vocab_reserve(w2v_vocab *v, size_t words, size_t text_bytes,
                      w2v_error *err)
{
    void *ep = v->e, *tp = v->text;
    int rc = reserve(&ep, &v->cap, words, sizeof(entry), err);
    v->e = ep;
    if (rc == W2V_OK)
        rc = reserve(&tp, &v->text_cap, text_bytes, 1, err);
    v->text = tp;
    if (rc == W2V_OK && slots_for(words) > v->n_slots)
        rc = rehash(v, slots_for(words), err);
    return rc;
}

int w2v_vocab_add(w2v_vocab *v, const char *word, size_t len, uint64_t count,
                  int64_t *id, w2v_error *err)
{
    probe p = make_probe(word, len);
    size_t at = find_slot(v, word, len, &p);
    if (v->slots[at].id1 != 0) {
        entry *e = &v->e[v->slots[at].id1 - 1];
        e->count = count > UINT64_MAX - e->count ? UINT64_MAX
                                                 : e->count + count;
        v->total += count;
        if (id != NULL)
            *id = (int64_t)v->slots[at].id1 - 1;
        return W2V_OK;
    }
    int rc = check_word(word, len, err);
    if (rc != W2V_OK)
        return rc;
    if (v->n >= UINT32_MAX - 1)
        return w2v_fail(err, W2V_ERR_NOMEM, "vocabulary is full (%zu words)",
                        v->n);
    void *ep = v->e, *tp = v->text;
    if ((rc = reserve(&ep, &v->cap, v->n + 1, sizeof(entry), err)) != W2V_OK)
        return rc;
    v->e = ep;
    if ((rc = reserve(&tp, &v->text_cap, v->text_len + len + 1, 1, err)) !=
        W2V_OK)
        return rc;
    v->text = tp;
    entry *e = &v->e[v->n];
    e->count = count;
    e->off = v->text_len;
    e->len = (uint32_t)len;
    memcpy(v->text + v->text_len, word, len);
    v->text[v->text_len + len] = '\0';
    v->text_len += len + 1;
    v->slots[at] = (slot){p.head, p.tag, (uint32_t)(v->n + 1)};
    v->n++;
    v->total += count;
    if (id != NULL)
        *id = (int64_t)v->n - 1;
    if (2 * v->n > v->n_slots)
        return rehash(v, v->n_slots * 2, err);
    return W2V_OK;
}

/* Rebuilds v with the entries ids[0, k) in that order. */
static int rebuild(w2v_vocab *v, const size_t *ids, size_t k, w2v_error *err)
{
    size_t text_len = 0;
    for (size_t i = 0; i < k; i++)
        text_len += (size_t)v->e[ids[i]].len + 1;
    entry *e = malloc((k ? k : 1) * sizeof *e);
    char *text = malloc(text_len ? text_len : 1);
    if (e == NULL || text == NULL) {
        free(e);
        free(text);
        return w2v_fail_nomem(err, "the vocabulary");
    }
    size_t off = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < k; i++) {
        e[i] = v->e[ids[i]];
        memcpy(text + off, v->text + v->e[ids[i]].off, e[i].len + 1);
        e[i].off = off;
        off += e[i].len + 1;
        total += e[i].count;
    }
    free(v->e);
    free(v->text);
    v->e = e;
    v->n = v->cap = k;
    v->text = text;
    v->text_len = v->text_cap = text_len;
    v->total = total;
    return rehash(v, slots_for(k), err);
}

/* Keeps entries with count > at_most, in id order. */
static int prune(w2v_vocab *v, uint64_t at_most, w2v_error *err)
{
    size_t *ids = malloc((v->n ? v->n : 1) * sizeof *ids);
    if (ids == NULL)
        return w2v_fail_nomem(err, "the vocabulary");
    size_t k = 0;
    for (size_t i = 0; i < v->n; i++)
        if (v->e[i].count > at_most)
            ids[k++] = i;
    int rc = rebuild(v, ids, k, err);
    free(ids);
    return rc;
}

/* qsort has no context argument in C11; the order compares entries. */
typedef struct sort_item {
    uint64_t count;
    const char *word;
    uint32_t len;
    size_t id;
} sort_item;

static int by_count_then_bytes(const void *pa, const void *pb)
{
    const sort_item *a = pa, *b = pb;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->word, b->word, n);
    if (c != 0)
        return c;
    return (a->len > b->len) - (a->len < b->len);
}

int w2v_vocab_finalize(w2v_vocab *v, uint64_t min_count, size_t max_words,
                       w2v_error *err)
{
    sort_item *items = malloc((v->n ? v->n : 1) * sizeof *items);
    size_t *ids = malloc((v->n ? v->n : 1) * sizeof *ids);
    if (items == NULL || ids == NULL) {
        free(items);
        free(ids);
        return w2v_fail_nomem(err, "the vocabulary");
    }
    size_t k = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (v->e[i].count < min_count)
            continue;
        items[k].count = v->e[i].count;
        items[k].word = v->text + v->e[i].off;
        items[k].len = v->e[i].len;
        items[k].id = i;
        k++;
    }
    qsort(items, k, sizeof *items, by_count_then_bytes);
    if (max_words > 0 && k > max_words)
        k = max_words;
    for (size_t i = 0; i < k; i++)
        ids[i] = items[i].id;
    free(items);
    int rc = rebuild(v, ids, k, err);
    free(ids);
    return rc;
}

int w2v_vocab_clone(const w2v_vocab *v, w2v_vocab **out, w2v_error *err)
{
    *out = NULL;
    w2v_vocab *c;
    int rc = w2v_vocab_new(&c, err);
    if (rc != W2V_OK)
        return rc;
    size_t n = v->n ? v->n : 1;
    c->e = malloc(n * sizeof *c->e);
    c->text = malloc(v->text_len ? v->text_len : 1);
    if (c->e == NULL || c->text == NULL) {
        w2v_vocab_free(c);
        return w2v_fail_nomem(err, "a vocabulary copy");
    }
    if (v->n)
        memcpy(c->e, v->e, v->n * sizeof *c->e);
    if (v->text_len)
        memcpy(c->text, v->text, v->text_len);
    c->n = c->cap = v->n;
    c->text_len = c->text_cap = v->text_len;
    c->total = v->total;
    rc = rehash(c, slots_for(c->n), err);
    if (rc != W2V_OK) {
        w2v_vocab_free(c);
        return rc;
    }
    *out = c;
    return W2V_OK;
}

w2v_vocab_options w2v_vocab_options_default(void)
{
    w2v_vocab_options o;
    o.min_count = 5;
    o.max_words = 0;
    o.max_distinct = 30000000;
    o.threads = 1;
    return o;
}

/* What a counting pass has seen, including words pruned since. */
typedef struct count_state {
    uint64_t min_reduce; /* the next pruning drops counts <= this */
    uint64_t words;      /* words read */
    uint64_t best;       /* the highest count any word reached */
} count_state;

/* Counts the words of one block; prunes when the table gets too big. */
static int count_block(w2v_vocab *v, const char *buf, size_t len,
                       size_t max_distinct, count_state *st, w2v_error *err)
{
    w2v_tokens t;
    w2v_tokens_init(&t, buf, len);
    const char *word;
    size_t wlen;
    int kind;
    while ((kind = w2v_tokens_next(&t, &word, &wlen)) != W2V_TOKEN_END) {
        if (kind != W2V_TOKEN_WORD)
            continue;
        int64_t id;
        int rc = w2v_vocab_add(v, word, wlen, 1, &id, err);
        if (rc != W2V_OK)
            return rc;
        st->words++;
        if (v->e[id].count > st->best)
            st->best = v->e[id].count;
        if (v->n > max_distinct) {
            rc = prune(v, st->min_reduce, err);
            if (rc != W2V_OK)
                return rc;
            st->min_reduce++;
        }
    }
    return W2V_OK;
}

/*
 * The counting pass with several threads: they take the corpus's blocks in
 * turn (only the read, and inflating gzip, is under the lock), each counts
 * its blocks into a table of its own, and the tables are summed at the end.
 * The first error (a corrupt block, say) stops every thread.
 */
typedef struct count_job {
    w2v_corpus *corpus;
    pthread_mutex_t lock;
    size_t max_distinct;   /* for each thread's table */
    int rc;                /* the first error, W2V_OK until then */
    w2v_error err;
} count_job;

typedef struct counter {
    count_job *job;
    w2v_vocab *v;
    count_state st;
} counter;

/* Records the first error of any thread; later ones are dropped. */
static void count_failed(count_job *job, int rc, const w2v_error *err)
{
    if (job->rc == W2V_OK) {
        job->rc = rc;
        if (err != NULL)
            job->err = *err;
    }
}

static void *count_worker(void *arg)
{
    counter *c = arg;
    count_job *job = c->job;
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    w2v_error err = {0};
    int rc = buf ? W2V_OK : w2v_fail_nomem(&err, "a read buffer");
    while (rc == W2V_OK) {
        pthread_mutex_lock(&job->lock);
        if (job->rc != W2V_OK)
            rc = job->rc;
        else
            rc = w2v_corpus_read(job->corpus, buf, cap, &len, &err);
        pthread_mutex_unlock(&job->lock);
        if (rc != W2V_OK || len == 0)
            break;
        rc = count_block(c->v, buf, len, job->max_distinct, &c->st, &err);
    }
    if (rc != W2V_OK) {
        pthread_mutex_lock(&job->lock);
        count_failed(job, rc, &err);  /* keeps the first one only */
        pthread_mutex_unlock(&job->lock);
    }
    free(buf);
    return NULL;
}

/* Adds every word and count of src to dst. */
static int merge_counts(w2v_vocab *dst, const w2v_vocab *src, w2v_error *err)
{
    for (size_t i = 0; i < src->n; i++) {
        int rc = w2v_vocab_add(dst, src->text + src->e[i].off, src->e[i].len,
                               src->e[i].count, NULL, err);
        if (rc != W2V_OK)
            return rc;
    }
    return W2V_OK;
}

/*
 * Counts the corpus with n threads into c[0] (whose st then holds the
 * totals); with n == 1, in this thread. Every c[i].v must be a new
 * vocabulary.
 */
static int count_corpus(w2v_corpus *corpus, counter *c, size_t n,
                        size_t max_distinct, w2v_error *err)
{
    count_job job = {.corpus = corpus, .max_distinct = max_distinct,
                     .rc = W2V_OK};
    pthread_mutex_init(&job.lock, NULL);
    pthread_t *tid = n > 1 ? malloc(n * sizeof *tid) : NULL;
    size_t started = 0;
    if (n == 1) {
        c[0].job = &job;
        count_worker(&c[0]);
    } else if (tid == NULL)
        count_failed(&job, w2v_fail_nomem(err, "counting threads"), err);
    for (; tid != NULL && started < n; started++) {
        c[started].job = &job;
        if (pthread_create(&tid[started], NULL, count_worker, &c[started])) {
            pthread_mutex_lock(&job.lock);
            count_failed(&job,
                         w2v_fail(err, W2V_ERR_NOMEM,
                                  "cannot start a counting thread"),
                         err);
            pthread_mutex_unlock(&job.lock);
            break;
        }
    }
    for (size_t i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    free(tid);
    pthread_mutex_destroy(&job.lock);
    if (job.rc != W2V_OK) {
        if (err != NULL)
            *err = job.err;
        return job.rc;
    }
    for (size_t i = 1; i < n; i++) {
        int rc = merge_counts(c[0].v, c[i].v, err);
        if (rc != W2V_OK)
            return rc;
        c[0].st.words += c[i].st.words;
        if (c[i].st.min_reduce > c[0].st.min_reduce)
            c[0].st.min_reduce = c[i].st.min_reduce;
    }
    for (size_t i = 0; i < c[0].v->n; i++)
        if (c[0].v->e[i].count > c[0].st.best)
            c[0].st.best = c[0].v->e[i].count;
    return W2V_OK;
}

int w2v_vocab_build(w2v_corpus *corpus, const w2v_vocab_options *opt,
                    w2v_vocab **out, w2v_error *err)
{
    *out = NULL;
    w2v_vocab_options o = opt ? *opt : w2v_vocab_options_default();
    if (o.max_distinct < 1000)
        o.max_distinct = 1000;
    size_t n = o.threads > 0 ? o.threads : w2v_online_cores();
    n = n > 256 ? 256 : n;
    /* Each thread's table is pruned at its share of max_distinct. */
    size_t share = o.max_distinct / n < 1000 ? 1000 : o.max_distinct / n;
    counter *c = calloc(n, sizeof *c);
    if (c == NULL)
        return w2v_fail_nomem(err, "a vocabulary");
    int rc = W2V_OK;
    for (size_t i = 0; i < n && rc == W2V_OK; i++) {
        c[i].st = (count_state){1, 0, 0};
        rc = w2v_vocab_new(&c[i].v, err);
    }
    if (rc == W2V_OK)
        rc = count_corpus(corpus, c, n, share, err);
    w2v_vocab *v = c[0].v;
    count_state st = c[0].st;
    for (size_t i = 1; i < n; i++)
        w2v_vocab_free(c[i].v);
    free(c);
    if (rc == W2V_OK)
        rc = w2v_corpus_rewind(corpus, err);
    /* Pruning may have emptied the table: report what the corpus held. */
    if (rc == W2V_OK && st.words == 0)
        rc = w2v_fail(err, W2V_ERR_EMPTY, "%s: the corpus has no words",
                      w2v_corpus_path(corpus));
    if (rc == W2V_OK)
        rc = w2v_vocab_finalize(v, o.min_count, o.max_words, err);
    if (rc == W2V_OK && v->n == 0)
        rc = w2v_fail(err, W2V_ERR_EMPTY,
                      "%s: no word occurs at least %llu times (min-count); "
                      "the most frequent occurs %llu times in %llu words%s",
                      w2v_corpus_path(corpus),
                      (unsigned long long)o.min_count,
                      (unsigned long long)st.best,
                      (unsigned long long)st.words,
                      st.min_reduce > 1 ? " (rare words were pruned to "
                                          "respect max_distinct)" : "");
    if (rc != W2V_OK) {
        w2v_vocab_free(v);
        return rc;
    }
    *out = v;
    return W2V_OK;
}

int w2v_vocab_save(const w2v_vocab *v, const char *path, w2v_error *err)
{
    w2v_outfile o;
    int rc = w2v_outfile_open(&o, path, err);
    if (rc != W2V_OK)
        return rc;
    for (size_t i = 0; i < v->n; i++)
        fprintf(o.fp, "%s %llu\n", v->text + v->e[i].off,
                (unsigned long long)v->e[i].count);
    return w2v_outfile_commit(&o, err);
}

/* Parses one "word count" line (without its newline) into v. */
static int parse_vocab_line(w2v_vocab *v, const char *path, size_t lineno,
                            const char *line, size_t len, w2v_error *err)
{
    if (memchr(line, '\0', len) != NULL)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s:%zu: NUL byte in line",
                        path, lineno);
    if (len > 0 && line[len - 1] == '\r')
        len--;
    const char *sp = memchr(line, ' ', len);
    if (sp == NULL || sp == line)
        return w2v_fail(err, W2V_ERR_FORMAT,
                        "%s:%zu: expected \"word count\"", path, lineno);
    const char *num = sp + 1, *end = line + len;
    if (num == end)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s:%zu: missing count", path,
                        lineno);
    uint64_t count = 0;
    for (const char *p = num; p < end; p++) {
        if (*p < '0' || *p > '9')
            return w2v_fail(err, W2V_ERR_FORMAT,
                            "%s:%zu: count is not a decimal number", path,
                            lineno);
        unsigned d = (unsigned)(*p - '0');
        if (count > (UINT64_MAX - d) / 10)
            return w2v_fail(err, W2V_ERR_FORMAT, "%s:%zu: count too large",
                            path, lineno);
        count = count * 10 + d;
    }
    size_t wlen = (size_t)(sp - line);
    if (w2v_vocab_find(v, line, wlen) >= 0)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s:%zu: duplicate word", path,
                        lineno);
    w2v_error sub;
    w2v_error_clear(&sub);
    int rc = w2v_vocab_add(v, line, wlen, count, NULL, &sub);
    /* A word the vocabulary refuses is a fault of the file, not the call. */
    if (rc != W2V_OK)
        return w2v_fail(err, rc == W2V_ERR_ARG ? W2V_ERR_FORMAT : rc,
                        "%s:%zu: %s", path, lineno, sub.message);
    return W2V_OK;
}

int w2v_vocab_load(const char *path, uint64_t min_count, size_t max_words,
                   w2v_vocab **out, w2v_error *err)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return w2v_fail(err, W2V_ERR_IO, "%s: is a directory", path);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return w2v_fail(err, W2V_ERR_IO, "%s: cannot open vocabulary: %s",
                        path, strerror(errno));
    w2v_vocab *v;
    int rc = w2v_vocab_new(&v, err);
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    while (rc == W2V_OK && (n = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        size_t len = (size_t)n;
        if (len > 0 && line[len - 1] == '\n')
            len--;
        rc = parse_vocab_line(v, path, lineno, line, len, err);
    }
    if (rc == W2V_OK && ferror(fp))
        rc = w2v_fail(err, W2V_ERR_IO, "%s: read error", path);
    free(line);
    fclose(fp);
    if (rc == W2V_OK && lineno == 0)
        rc = w2v_fail(err, W2V_ERR_EMPTY, "%s: empty vocabulary file", path);
    if (rc == W2V_OK)
        rc = w2v_vocab_finalize(v, min_count, max_words, err);
    if (rc == W2V_OK && v->n == 0)
        rc = w2v_fail(err, W2V_ERR_EMPTY,
                      "%s: no word has a count of at least %llu", path,
                      (unsigned long long)min_count);
    if (rc != W2V_OK) {
        w2v_vocab_free(v);
        return rc;
    }
    *out = v;
    return W2V_OK;
}
