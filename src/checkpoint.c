/*
 * checkpoint.c - the checkpoint file: writing a trainer's run state, the
 * strict reader, resuming, and corpus fingerprints. The format is
 * documented byte by byte in w2v/checkpoint.h.
 */
#define _POSIX_C_SOURCE 200809L

#include "w2v/checkpoint.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "trainstate.h"
#include "util.h"

#define HEADER_BYTES 192
#define WORKER_BYTES 56
static const char MAGIC[8] = {'W', '2', 'V', 'C', 'K', 'P', 'T', '\n'};

/* ---------------------------------------------------------------------- */
/* Little-endian scalars                                                   */

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint64_t double_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double bits_double(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static int host_little_endian(void)
{
    const uint32_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* ---------------------------------------------------------------------- */
/* Corpus fingerprints                                                     */

int w2v_corpus_fingerprint(const char *path, w2v_corpus_print *p,
                           w2v_error *err)
{
    memset(p, 0, sizeof *p);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        p->stream = 1;
        return W2V_OK;
    }
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return w2v_fail(err, W2V_ERR_IO, "%s: cannot open corpus: %s", path,
                        strerror(errno));
    unsigned char *buf = malloc(W2V_CORPUS_PRINT_BYTES);
    if (buf == NULL) {
        fclose(fp);
        return w2v_fail_nomem(err, "a corpus fingerprint");
    }
    size_t got = fread(buf, 1, W2V_CORPUS_PRINT_BYTES, fp);
    int bad = ferror(fp);
    fclose(fp);
    p->size = (uint64_t)st.st_size;
    p->head = got;
    p->crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), buf, (uInt)got);
    free(buf);
    if (bad)
        return w2v_fail(err, W2V_ERR_IO, "%s: read error", path);
    return W2V_OK;
}

/*
 * Checks the corpus against a checkpoint's fingerprint, then reads blocks
 * of cap bytes (as the run did, so the same blocks follow) up to offset.
 */
int w2v_corpus_resume_at(w2v_corpus *corpus, const w2v_corpus_print *want,
                         uint64_t offset, char *buf, size_t cap,
                         w2v_error *err)
{
    const char *path = w2v_corpus_path(corpus);
    w2v_corpus_print now;
    int rc = w2v_corpus_fingerprint(path, &now, err);
    if (rc != W2V_OK)
        return rc;
    if (now.stream || want->stream)
        return w2v_fail(err, W2V_ERR_ARG, "%s: cannot resume on standard "
                        "input or a pipe: the checkpoint needs the same "
                        "corpus file", path);
    if (now.size != want->size || now.crc != want->crc ||
        now.head != want->head)
        return w2v_fail(err, W2V_ERR_ARG, "%s: not the corpus of the "
                        "checkpoint (%llu bytes, start crc32 %08x; the "
                        "checkpoint's corpus had %llu bytes, crc32 %08x)",
                        path, (unsigned long long)now.size,
                        (unsigned)now.crc, (unsigned long long)want->size,
                        (unsigned)want->crc);
    while (w2v_corpus_offset(corpus) < offset) {
        size_t len;
        if ((rc = w2v_corpus_read(corpus, buf, cap, &len, err)) != W2V_OK)
            return rc;
        if (len == 0)
            break;
    }
    if (w2v_corpus_offset(corpus) != offset)
        return w2v_fail(err, W2V_ERR_ARG, "%s: no block ends at byte %llu "
                        "where the checkpoint stopped: not its corpus", path,
                        (unsigned long long)offset);
    return W2V_OK;
}

/* ---------------------------------------------------------------------- */
/* Writing                                                                 */

typedef struct ck_writer {
    FILE *fp;
    uLong crc;
} ck_writer;

static void put(ck_writer *w, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n > 0) {
        size_t k = n < (1u << 30) ? n : (1u << 30);
        w->crc = crc32(w->crc, b, (uInt)k);
        fwrite(b, 1, k, w->fp);   /* errors surface in the commit */
        b += k;
        n -= k;
    }
}

/* The sizes that follow the header, in bytes; 0 on overflow. */
typedef struct ck_sizes {
    size_t worker;       /* one worker record */
    size_t in, ns, hs;   /* the three matrices (ns, hs may be 0) */
} ck_sizes;

static int matrix_bytes(uint64_t rows, uint64_t dim, size_t *out)
{
    if (rows > SIZE_MAX || dim > SIZE_MAX)
        return 0;
    return w2v_mul_size((size_t)rows, (size_t)dim, out) &&
           w2v_mul_size(*out, sizeof(float), out);
}

/*
 * The byte count of a whole file with these header values, or 0 when it
 * overflows (a lying header cannot make the reader allocate).
 */
static uint64_t file_bytes(uint64_t V, uint64_t text, uint64_t dim,
                           int negative, int hs, uint64_t threads,
                           uint64_t n_ahead, ck_sizes *z)
{
    memset(z, 0, sizeof *z);
    if (n_ahead > (UINT64_MAX - WORKER_BYTES) / 4 || threads > 4096 ||
        V > UINT64_MAX / 16 || text > UINT64_MAX / 2)
        return 0;
    uint64_t total = HEADER_BYTES;
    uint64_t worker = WORKER_BYTES + 4 * n_ahead;
    if (worker > UINT64_MAX / 4096)
        return 0;
    total += worker * threads;
    uint64_t words = 12 * V + text;
    if (!matrix_bytes(V, dim, &z->in) ||
        (negative > 0 && !matrix_bytes(V, dim, &z->ns)) ||
        (hs && V > 1 && !matrix_bytes(V - 1, dim, &z->hs)))
        return 0;
    uint64_t parts[] = {words, z->in, z->ns, z->hs, 4};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        if (total > UINT64_MAX - parts[i])
            return 0;
        total += parts[i];
    }
    z->worker = (size_t)worker;
    return total;
}

static void encode_header(const w2v_train_state *s, uint64_t text,
                          uint64_t total, unsigned char *h)
{
    memset(h, 0, HEADER_BYTES);
    memcpy(h, MAGIC, 8);
    put_u32(h + 8, W2V_CHECKPOINT_VERSION);
    put_u32(h + 12, HEADER_BYTES);
    put_u64(h + 16, total);
    put_u32(h + 24, (uint32_t)s->opt.arch);
    put_u32(h + 28, (uint32_t)s->opt.hs);
    put_u32(h + 32, (uint32_t)s->opt.kernel);
    put_u32(h + 36, (uint32_t)s->opt.window);
    put_u32(h + 40, (uint32_t)s->opt.negative);
    put_u32(h + 44, (uint32_t)s->opt.epochs);
    put_u32(h + 48, (uint32_t)s->threads);
    put_u32(h + 52, (uint32_t)s->epoch);
    put_u64(h + 56, s->dim);
    put_u64(h + 64, double_bits(s->opt.sample));
    put_u64(h + 72, double_bits(s->opt.alpha));
    put_u64(h + 80, s->opt.seed);
    put_u64(h + 88, s->offset);
    put_u64(h + 96, s->words_done);
    put_u64(h + 104, s->words_total);
    put_u64(h + 112, w2v_vocab_size(s->vocab));
    put_u64(h + 120, text);
    put_u64(h + 128, s->n_ahead);
    put_u32(h + 136, (uint32_t)s->corpus.stream);
    put_u32(h + 140, s->corpus.crc);
    put_u64(h + 144, s->corpus.size);
    put_u64(h + 152, s->corpus.head);
    put_u32(h + 160, (uint32_t)s->opt.cbow_step);
}

static void put_worker(ck_writer *w, const w2v_worker_state *ws,
                       size_t n_ahead)
{
    unsigned char b[WORKER_BYTES];
    uint32_t alpha;
    memcpy(&alpha, &ws->alpha, sizeof alpha);
    put_u64(b, ws->rng);
    put_u64(b + 8, ws->pending);
    put_u64(b + 16, ws->predictions);
    put_u64(b + 24, ws->loss_count);
    put_u64(b + 32, ws->groups);
    put_u64(b + 40, double_bits(ws->loss_sum));
    put_u32(b + 48, alpha);
    put_u32(b + 52, ws->ahead_ready);
    put(w, b, sizeof b);
    for (size_t i = 0; i < n_ahead; i++) {
        unsigned char a[4];
        put_u32(a, ws->ahead[i]);
        put(w, a, 4);
    }
}

static void put_vocab(ck_writer *w, const w2v_vocab *v)
{
    for (size_t i = 0; i < w2v_vocab_size(v); i++) {
        unsigned char b[8];
        size_t len = w2v_vocab_word_len(v, i);
        put_u32(b, (uint32_t)len);
        put(w, b, 4);
        put(w, w2v_vocab_word(v, i), len);
        put_u64(b, w2v_vocab_count(v, i));
        put(w, b, 8);
    }
}

int w2v_trainer_checkpoint_save(w2v_trainer *t, const char *path,
                                w2v_error *err)
{
    if (!host_little_endian())
        return w2v_fail(err, W2V_ERR_ARG, "checkpoints need a "
                        "little-endian host");
    w2v_train_state s;
    w2v_trainer_state(t, &s);
    size_t V = w2v_vocab_size(s.vocab);
    uint64_t text = 0;
    for (size_t i = 0; i < V; i++)
        text += w2v_vocab_word_len(s.vocab, i);
    ck_sizes z;
    uint64_t total = file_bytes(V, text, s.dim, s.opt.negative, s.opt.hs,
                                (uint64_t)s.threads, s.n_ahead, &z);
    if (total == 0)
        return w2v_fail(err, W2V_ERR_NOMEM, "%s: checkpoint too big", path);
    w2v_outfile o;
    int rc = w2v_outfile_open(&o, path, err);
    if (rc != W2V_OK)
        return rc;
    ck_writer w = {o.fp, crc32(0L, Z_NULL, 0)};
    unsigned char h[HEADER_BYTES];
    encode_header(&s, text, total, h);
    put(&w, h, sizeof h);
    for (int i = 0; i < s.threads; i++)
        put_worker(&w, &s.workers[i], s.n_ahead);
    put_vocab(&w, s.vocab);
    put(&w, s.in, z.in);
    if (z.ns > 0)
        put(&w, s.out_ns, z.ns);
    if (z.hs > 0)
        put(&w, s.out_hs, z.hs);
    unsigned char c[4];
    put_u32(c, (uint32_t)w.crc);
    fwrite(c, 1, 4, o.fp);
    return w2v_outfile_commit(&o, err);
}

/* ---------------------------------------------------------------------- */
/* Reading                                                                 */

struct w2v_checkpoint {
    w2v_train_state s;   /* owns everything it points to */
    w2v_vocab *vocab;
    uint32_t *ahead;     /* (threads, n_ahead) */
};

typedef struct ck_reader {
    FILE *fp;
    const char *path;
    uint64_t offset;     /* of the next byte */
    uLong crc;
} ck_reader;

static int get(ck_reader *r, void *p, size_t n, const char *what,
               w2v_error *err)
{
    unsigned char *b = p;
    size_t left = n;
    while (left > 0) {
        size_t k = left < (1u << 30) ? left : (1u << 30);
        size_t got = fread(b, 1, k, r->fp);
        r->crc = crc32(r->crc, b, (uInt)got);
        r->offset += got;
        if (got < k) {
            if (ferror(r->fp))
                return w2v_fail(err, W2V_ERR_IO, "%s: read error at byte "
                                "%llu: %s", r->path,
                                (unsigned long long)r->offset,
                                strerror(errno));
            return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %llu: the file "
                            "ends inside %s", r->path,
                            (unsigned long long)r->offset, what);
        }
        b += k;
        left -= k;
    }
    return W2V_OK;
}

static int bad_field(const ck_reader *r, unsigned at, const char *what,
                     unsigned long long v, w2v_error *err)
{
    (void)r;
    return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %u: %s %llu is out of "
                    "range: not a valid checkpoint", r->path, at, what, v);
}

/* Decodes and range-checks the header into c->s; *text, *V out. */
static int decode_header(ck_reader *r, const unsigned char *h,
                         w2v_checkpoint *c, uint64_t *V, uint64_t *text,
                         w2v_error *err)
{
    w2v_train_state *s = &c->s;
    if (memcmp(h, MAGIC, 8) != 0)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte 0: not a w2v "
                        "checkpoint (no W2VCKPT magic)", r->path);
    uint32_t version = get_u32(h + 8);
    if (version != W2V_CHECKPOINT_VERSION)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte 8: checkpoint "
                        "version %u; this library reads version %d",
                        r->path, (unsigned)version, W2V_CHECKPOINT_VERSION);
    if (get_u32(h + 12) != HEADER_BYTES)
        return bad_field(r, 12, "header size", get_u32(h + 12), err);
    static const struct { unsigned at; uint32_t max; const char *what; }
    small[] = {{24, 1, "arch"}, {28, 1, "hs"}, {32, 2, "kernel"},
               {36, 1000, "window"}, {40, 1000, "negative"},
               {44, 100000, "epochs"}, {48, 4096, "threads"},
               {52, 99999, "epoch"}, {136, 1, "stream flag"},
               {160, 1, "cbow step"}};
    for (size_t i = 0; i < sizeof small / sizeof *small; i++)
        if (get_u32(h + small[i].at) > small[i].max)
            return bad_field(r, small[i].at, small[i].what,
                             get_u32(h + small[i].at), err);
    w2v_train_options *o = &s->opt;
    *o = w2v_train_options_default();
    o->arch = (int)get_u32(h + 24);
    o->hs = (int)get_u32(h + 28);
    o->kernel = (int)get_u32(h + 32);
    o->window = (int)get_u32(h + 36);
    o->negative = (int)get_u32(h + 40);
    o->epochs = (int)get_u32(h + 44);
    o->cbow_step = (int)get_u32(h + 160);
    s->threads = o->threads = (int)get_u32(h + 48);
    s->epoch = (int)get_u32(h + 52);
    uint64_t dim = get_u64(h + 56);
    if (dim < 1 || dim > 100000)
        return bad_field(r, 56, "dim", dim, err);
    s->dim = o->dim = (size_t)dim;
    o->sample = bits_double(get_u64(h + 64));
    o->alpha = bits_double(get_u64(h + 72));
    o->seed = get_u64(h + 80);
    if (s->threads < 1)
        return bad_field(r, 48, "threads", 0, err);
    if (s->epoch >= o->epochs)
        return bad_field(r, 52, "epoch", (unsigned long long)s->epoch, err);
    w2v_error e;
    w2v_error_clear(&e);
    if (w2v_train_options_check(o, &e) != W2V_OK)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: bytes 24-80: bad "
                        "settings: %s", r->path, e.message);
    s->offset = get_u64(h + 88);
    s->words_done = get_u64(h + 96);
    s->words_total = get_u64(h + 104);
    *V = get_u64(h + 112);
    *text = get_u64(h + 120);
    s->n_ahead = (size_t)get_u64(h + 128);
    if (*V < 1 || *V > (1ull << 32))
        return bad_field(r, 112, "vocabulary size", *V, err);
    if (*text < *V || *text > *V * (uint64_t)W2V_MAX_WORD_BYTES)
        return bad_field(r, 120, "vocabulary text bytes", *text, err);
    if (get_u64(h + 128) > 1000000)
        return bad_field(r, 128, "noise words ahead", get_u64(h + 128), err);
    s->corpus.stream = (int)get_u32(h + 136);
    s->corpus.crc = get_u32(h + 140);
    s->corpus.size = get_u64(h + 144);
    s->corpus.head = get_u64(h + 152);
    if (s->corpus.head > W2V_CORPUS_PRINT_BYTES ||
        s->corpus.head > s->corpus.size)
        return bad_field(r, 152, "corpus bytes fingerprinted",
                         s->corpus.head, err);
    for (unsigned i = 164; i < HEADER_BYTES; i++)
        if (h[i] != 0)
            return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %u: reserved "
                            "header bytes are not zero", r->path, i);
    return W2V_OK;
}

static int read_workers(ck_reader *r, w2v_checkpoint *c, w2v_error *err)
{
    w2v_train_state *s = &c->s;
    s->workers = calloc((size_t)s->threads, sizeof *s->workers);
    c->ahead = calloc((size_t)s->threads * s->n_ahead + 1, sizeof *c->ahead);
    if (s->workers == NULL || c->ahead == NULL)
        return w2v_fail_nomem(err, "checkpoint worker state");
    for (int i = 0; i < s->threads; i++) {
        unsigned char b[WORKER_BYTES];
        w2v_worker_state *ws = &s->workers[i];
        uint64_t at = r->offset;
        int rc = get(r, b, sizeof b, "a worker record", err);
        if (rc != W2V_OK)
            return rc;
        ws->rng = get_u64(b);
        ws->pending = get_u64(b + 8);
        ws->predictions = get_u64(b + 16);
        ws->loss_count = get_u64(b + 24);
        ws->groups = get_u64(b + 32);
        ws->loss_sum = bits_double(get_u64(b + 40));
        uint32_t alpha = get_u32(b + 48);
        memcpy(&ws->alpha, &alpha, sizeof alpha);
        ws->ahead_ready = get_u32(b + 52);
        if (!(ws->alpha >= 0 && ws->alpha <= 10) || ws->ahead_ready > 1)
            return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %llu: worker %d: "
                            "bad rate or flag", r->path,
                            (unsigned long long)at, i);
        ws->ahead = c->ahead + (size_t)i * s->n_ahead;
        for (size_t k = 0; k < s->n_ahead; k++) {
            unsigned char a[4];
            if ((rc = get(r, a, 4, "a worker record", err)) != W2V_OK)
                return rc;
            ws->ahead[k] = get_u32(a);
        }
    }
    return W2V_OK;
}

static int read_vocab(ck_reader *r, w2v_checkpoint *c, uint64_t V,
                      uint64_t text, w2v_error *err)
{
    int rc = w2v_vocab_new(&c->vocab, err);
    if (rc == W2V_OK)
        rc = w2v_vocab_reserve(c->vocab, (size_t)V, (size_t)(text + V), err);
    char *word = malloc(W2V_MAX_WORD_BYTES);
    if (rc == W2V_OK && word == NULL)
        rc = w2v_fail_nomem(err, "a word");
    uint64_t seen = 0, total = 0;
    for (uint64_t i = 0; i < V && rc == W2V_OK; i++) {
        uint64_t at = r->offset;
        unsigned char b[8];
        if ((rc = get(r, b, 4, "the vocabulary", err)) != W2V_OK)
            break;
        uint32_t len = get_u32(b);
        if (len < 1 || len > W2V_MAX_WORD_BYTES || seen + len > text) {
            rc = w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %llu: word %llu: "
                          "length %u out of range", r->path,
                          (unsigned long long)at, (unsigned long long)i,
                          (unsigned)len);
            break;
        }
        seen += len;
        if ((rc = get(r, word, len, "the vocabulary", err)) != W2V_OK ||
            (rc = get(r, b, 8, "the vocabulary", err)) != W2V_OK)
            break;
        uint64_t count = get_u64(b);
        int64_t id;
        w2v_error e;
        w2v_error_clear(&e);
        if (count == 0 || count > UINT64_MAX - total ||
            w2v_vocab_add(c->vocab, word, len, count, &id, &e) != W2V_OK ||
            (uint64_t)id != i) {
            rc = w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %llu: word %llu: "
                          "%s", r->path, (unsigned long long)at,
                          (unsigned long long)i,
                          e.code ? e.message
                                 : count == 0 || count > UINT64_MAX - total
                                       ? "bad count"
                                       : "a duplicate");
            break;
        }
        total += count;
    }
    free(word);
    if (rc == W2V_OK && seen != text)
        rc = w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %llu: the words hold "
                      "%llu bytes, the header says %llu", r->path,
                      (unsigned long long)r->offset,
                      (unsigned long long)seen, (unsigned long long)text);
    if (rc == W2V_OK &&
        (total > UINT64_MAX / (uint64_t)c->s.opt.epochs ||
         total * (uint64_t)c->s.opt.epochs != c->s.words_total ||
         c->s.words_done > c->s.words_total + 1))
        rc = w2v_fail(err, W2V_ERR_FORMAT, "%s: byte 96: word counts do "
                      "not agree with the vocabulary", r->path);
    c->s.vocab = c->vocab;
    return rc;
}

static int read_matrix(ck_reader *r, float **m, size_t bytes,
                       const char *what, w2v_error *err)
{
    if (bytes == 0)
        return W2V_OK;
    *m = w2v_alloc_aligned(bytes);
    if (*m == NULL)
        return w2v_fail_nomem(err, what);
    return get(r, *m, bytes, what, err);
}

static int read_body(ck_reader *r, w2v_checkpoint *c, uint64_t file_size,
                     w2v_error *err)
{
    unsigned char h[HEADER_BYTES];
    uint64_t V = 0, text = 0;
    int rc = get(r, h, sizeof h, "the header", err);
    if (rc == W2V_OK)
        rc = decode_header(r, h, c, &V, &text, err);
    if (rc != W2V_OK)
        return rc;
    ck_sizes z;
    uint64_t want = file_bytes(V, text, c->s.dim, c->s.opt.negative,
                               c->s.opt.hs, (uint64_t)c->s.threads,
                               c->s.n_ahead, &z);
    if (want == 0 || want != get_u64(h + 16) || want != file_size)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte 16: the file has "
                        "%llu bytes, its header says %llu and its sizes "
                        "imply %llu: truncated or not a checkpoint", r->path,
                        (unsigned long long)file_size,
                        (unsigned long long)get_u64(h + 16),
                        (unsigned long long)want);
    if ((rc = read_workers(r, c, err)) != W2V_OK ||
        (rc = read_vocab(r, c, V, text, err)) != W2V_OK ||
        (rc = read_matrix(r, &c->s.in, z.in, "the input vectors", err)) ||
        (rc = read_matrix(r, &c->s.out_ns, z.ns, "the output vectors",
                          err)) ||
        (rc = read_matrix(r, &c->s.out_hs, z.hs, "the tree node vectors",
                          err)))
        return rc;
    for (int i = 0; i < c->s.threads; i++)
        for (size_t k = 0; k < c->s.n_ahead; k++)
            if (c->s.workers[i].ahead[k] >= V)
                return w2v_fail(err, W2V_ERR_FORMAT, "%s: worker %d: noise "
                                "word %u is not in the vocabulary",
                                r->path, i, (unsigned)c->s.workers[i].ahead[k]);
    uint32_t computed = (uint32_t)r->crc;
    unsigned char b[4];
    if ((rc = get(r, b, 4, "the checksum", err)) != W2V_OK)
        return rc;
    if (get_u32(b) != computed)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %llu: checksum "
                        "%08x, the contents give %08x: the file is "
                        "damaged", r->path,
                        (unsigned long long)(r->offset - 4),
                        (unsigned)get_u32(b), (unsigned)computed);
    return W2V_OK;
}

int w2v_checkpoint_load(const char *path, w2v_checkpoint **out,
                        w2v_error *err)
{
    *out = NULL;
    if (!host_little_endian())
        return w2v_fail(err, W2V_ERR_ARG, "checkpoints need a "
                        "little-endian host");
    struct stat st;
    if (stat(path, &st) != 0)
        return w2v_fail(err, W2V_ERR_IO, "%s: cannot open checkpoint: %s",
                        path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return w2v_fail(err, W2V_ERR_IO, "%s: is a directory, not a "
                        "checkpoint", path);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return w2v_fail(err, W2V_ERR_IO, "%s: cannot open checkpoint: %s",
                        path, strerror(errno));
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        return w2v_fail(err, W2V_ERR_IO, "%s: not a regular file", path);
    }
    w2v_checkpoint *c = calloc(1, sizeof *c);
    if (c == NULL) {
        fclose(fp);
        return w2v_fail_nomem(err, "a checkpoint");
    }
    ck_reader r = {fp, path, 0, crc32(0L, Z_NULL, 0)};
    int rc = read_body(&r, c, (uint64_t)st.st_size, err);
    fclose(fp);
    if (rc != W2V_OK) {
        w2v_checkpoint_free(c);
        return rc;
    }
    *out = c;
    return W2V_OK;
}

void w2v_checkpoint_free(w2v_checkpoint *c)
{
    if (c == NULL)
        return;
    w2v_vocab_free(c->vocab);
    w2v_free_aligned(c->s.in);
    w2v_free_aligned(c->s.out_ns);
    w2v_free_aligned(c->s.out_hs);
    free(c->s.workers);
    free(c->ahead);
    free(c);
}

static void state_info(const w2v_train_state *s, w2v_checkpoint_info *info);

void w2v_checkpoint_get_info(const w2v_checkpoint *c,
                             w2v_checkpoint_info *info)
{
    state_info(&c->s, info);
}

static void state_info(const w2v_train_state *s, w2v_checkpoint_info *info)
{
    memset(info, 0, sizeof *info);
    info->opt = s->opt;
    info->words = w2v_vocab_size(s->vocab);
    info->epoch = s->epoch;
    info->offset = s->offset;
    info->words_done = s->words_done;
    info->words_total = s->words_total;
    info->corpus_bytes = s->corpus.size;
}

void w2v_trainer_get_info(w2v_trainer *t, w2v_checkpoint_info *info)
{
    w2v_train_state s;
    w2v_trainer_state(t, &s);
    state_info(&s, info);
}

const w2v_vocab *w2v_checkpoint_vocab(const w2v_checkpoint *c)
{
    return c->vocab;
}

/* ---------------------------------------------------------------------- */
/* Resuming                                                                */

/* W2V_ERR_ARG naming the first setting of opt that differs from c's. */
static int compare_settings(const w2v_train_options *have,
                            const w2v_train_options *want, w2v_error *err)
{
#define SAME_INT(field, name)                                              \
    if (have->field != want->field)                                        \
        return w2v_fail(err, W2V_ERR_ARG, "%s %lld does not match the "    \
                        "checkpoint's %s %lld: resume with the settings "  \
                        "of the first run", name, (long long)have->field, \
                        name, (long long)want->field)
    SAME_INT(arch, "cbow");
    SAME_INT(dim, "size");
    SAME_INT(window, "window");
    SAME_INT(negative, "negative");
    SAME_INT(hs, "hs");
    SAME_INT(kernel, "kernel");
    SAME_INT(cbow_step, "cbow-step");
    SAME_INT(epochs, "iter");
    SAME_INT(threads, "threads");
#undef SAME_INT
    if (have->seed != want->seed)
        return w2v_fail(err, W2V_ERR_ARG, "seed %llu does not match the "
                        "checkpoint's seed %llu",
                        (unsigned long long)have->seed,
                        (unsigned long long)want->seed);
    if (double_bits(have->sample) != double_bits(want->sample))
        return w2v_fail(err, W2V_ERR_ARG, "sample %g does not match the "
                        "checkpoint's sample %g", have->sample,
                        want->sample);
    if (w2v_train_options_alpha(have) != w2v_train_options_alpha(want))
        return w2v_fail(err, W2V_ERR_ARG, "alpha %g does not match the "
                        "checkpoint's alpha %g",
                        w2v_train_options_alpha(have),
                        w2v_train_options_alpha(want));
    return W2V_OK;
}

int w2v_trainer_resume(const w2v_checkpoint *c, const w2v_train_options *opt,
                       w2v_trainer **out, w2v_error *err)
{
    *out = NULL;
    int rc = w2v_train_options_check(opt, err);
    if (rc != W2V_OK)
        return rc;
    w2v_train_options o = *opt;
    if (o.threads <= 0)
        o.threads = c->s.threads;  /* "all cores" resolves to the saved */
    if ((rc = compare_settings(&o, &c->s.opt, err)) != W2V_OK)
        return rc;
    w2v_trainer *t;
    if ((rc = w2v_trainer_new(&o, c->vocab, &t, err)) != W2V_OK)
        return rc;
    w2v_train_state now;
    w2v_trainer_state(t, &now);
    if (now.n_ahead != c->s.n_ahead) {
        w2v_trainer_free(t);
        return w2v_fail(err, W2V_ERR_ARG, "the checkpoint was written by a "
                        "build whose kernel draws %zu noise words ahead, "
                        "this one draws %zu", c->s.n_ahead, now.n_ahead);
    }
    w2v_trainer_restore(t, &c->s);
    *out = t;
    return W2V_OK;
}
