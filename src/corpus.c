/*
 * corpus.c - streaming reader for plain, gzip and standard-input corpora.
 * See w2v/corpus.h for the contract.
 */
#define _POSIX_C_SOURCE 200809L

#include "w2v/corpus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "util.h"

/* Byte classes for validation and tokenising. */
enum { C_WORD = 0, C_SPACE = 1, C_EOL = 2, C_BAD = 3 };

struct w2v_corpus {
    char *path;
    gzFile gz;
    int is_stdin;       /* standard input: no name, say so in messages */
    int is_stream;      /* cannot be rewound: spooled like stdin */
    FILE *spool;        /* copy of standard input; NULL for files */
    int spool_ready;    /* the spool holds the whole stream */
    int eof;
    uint64_t offset;    /* uncompressed bytes validated so far */
    uint64_t handed;    /* bytes handed to callers since rewind */
    size_t run;         /* length of the word being read (across reads) */
    char *carry;        /* bytes read but not yet handed out, (MAX_WORD) */
    size_t carry_len;
};

/*
 * The class of every byte; everything not listed is part of a word (any
 * byte >= 0x20, so UTF-8 passes through untouched).
 */
static const unsigned char byte_class[256] = {
    [0x00] = C_BAD, [0x01] = C_BAD, [0x02] = C_BAD, [0x03] = C_BAD,
    [0x04] = C_BAD, [0x05] = C_BAD, [0x06] = C_BAD, [0x07] = C_BAD,
    [0x08] = C_BAD, [0x09] = C_SPACE, [0x0a] = C_EOL, [0x0b] = C_SPACE,
    [0x0c] = C_SPACE, [0x0d] = C_SPACE, [0x0e] = C_BAD, [0x0f] = C_BAD,
    [0x10] = C_BAD, [0x11] = C_BAD, [0x12] = C_BAD, [0x13] = C_BAD,
    [0x14] = C_BAD, [0x15] = C_BAD, [0x16] = C_BAD, [0x17] = C_BAD,
    [0x18] = C_BAD, [0x19] = C_BAD, [0x1a] = C_BAD, [0x1b] = C_BAD,
    [0x1c] = C_BAD, [0x1d] = C_BAD, [0x1e] = C_BAD, [0x1f] = C_BAD,
    [' '] = C_SPACE,
};

static int gz_fail(w2v_corpus *c, w2v_error *err)
{
    int zerr = 0;
    const char *msg = gzerror(c->gz, &zerr);
    if (zerr == Z_ERRNO)
        return w2v_fail(err, W2V_ERR_IO, "%s: read error at byte %llu: %s",
                        c->path, (unsigned long long)c->offset,
                        strerror(errno));
    return w2v_fail(err, W2V_ERR_FORMAT,
                    "%s: corrupt gzip data near uncompressed byte %llu: %s",
                    c->path, (unsigned long long)c->offset,
                    msg ? msg : "unknown zlib error");
}

/* An anonymous file for the copy of a stream. NULL with errno on failure. */
static FILE *spool_create(void)
{
    int fd = w2v_temp_fd("w2v-spool");
    if (fd < 0)
        return NULL;
    FILE *fp = fdopen(fd, "w+b");
    if (fp == NULL) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return fp;
}

int w2v_corpus_open(const char *path, w2v_corpus **out, w2v_error *err)
{
    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return w2v_fail(err, W2V_ERR_ARG, "no corpus file given");
    w2v_corpus *c = calloc(1, sizeof *c);
    if (c == NULL)
        return w2v_fail_nomem(err, "a corpus reader");
    /* Messages name the file; standard input has no name, so say what it is. */
    c->path = w2v_strdup(strcmp(path, "-") == 0 ? "standard input" : path, err);
    c->carry = malloc(W2V_MAX_WORD_BYTES + 1);
    if (c->path == NULL || c->carry == NULL) {
        w2v_corpus_close(c);
        return w2v_fail_nomem(err, "a corpus reader");
    }
    int fd;
    if (strcmp(path, "-") == 0) {
        c->is_stdin = 1;
        c->is_stream = 1;
        fd = dup(STDIN_FILENO);
    } else {
        struct stat st;
        if (stat(path, &st) != 0) {
            int e = errno;
            w2v_corpus_close(c);
            return w2v_fail(err, W2V_ERR_IO, "%s: cannot open corpus: %s",
                            path, strerror(e));
        }
        if (S_ISDIR(st.st_mode)) {
            w2v_corpus_close(c);
            return w2v_fail(err, W2V_ERR_IO,
                            "%s: is a directory, not a corpus file", path);
        }
        c->is_stream = !S_ISREG(st.st_mode);
        fd = open(path, O_RDONLY);
    }
    if (fd < 0) {
        int e = errno;
        w2v_corpus_close(c);
        return w2v_fail(err, W2V_ERR_IO, "%s: cannot open corpus: %s", path,
                        strerror(e));
    }
    c->gz = gzdopen(fd, "rb");
    if (c->gz == NULL) {
        close(fd);
        w2v_corpus_close(c);
        return w2v_fail_nomem(err, "a gzip stream");
    }
    gzbuffer(c->gz, 1 << 18);
    if (c->is_stream && (c->spool = spool_create()) == NULL) {
        int e = errno;
        w2v_corpus_close(c);
        return w2v_fail(err, W2V_ERR_IO,
                        "cannot create a temporary copy of standard "
                        "input: %s (set TMPDIR to a writable directory)",
                        strerror(e));
    }
    *out = c;
    return W2V_OK;
}

void w2v_corpus_close(w2v_corpus *c)
{
    if (c == NULL)
        return;
    if (c->gz != NULL)
        gzclose(c->gz);
    if (c->spool != NULL)
        fclose(c->spool);
    free(c->carry);
    free(c->path);
    free(c);
}

const char *w2v_corpus_path(const w2v_corpus *c)
{
    return c->path;
}

uint64_t w2v_corpus_offset(const w2v_corpus *c)
{
    return c->handed;
}

/*
 * Checks bytes p[from, to) one at a time: *run is the length of the word
 * in progress before them, and after. The reference for validate's fast
 * path, which hands it every chunk that holds something to report.
 */
static int validate_bytes(const w2v_corpus *c, const char *p, size_t from,
                          size_t to, size_t *run, w2v_error *err)
{
    for (size_t i = from; i < to; i++) {
        unsigned char k = byte_class[(unsigned char)p[i]];
        if (k == C_WORD) {
            if (++*run > W2V_MAX_WORD_BYTES)
                return w2v_fail(err, W2V_ERR_FORMAT,
                                "%s: byte %llu: a word longer than %d bytes "
                                "(no whitespace for that long): not a text "
                                "corpus?", c->path,
                                (unsigned long long)(c->offset + i + 1 - *run),
                                W2V_MAX_WORD_BYTES);
        } else if (k == C_BAD) {
            return w2v_fail(err, W2V_ERR_FORMAT,
                            "%s: byte %llu: control byte 0x%02x (%s): this "
                            "looks like binary data, not a text corpus",
                            c->path, (unsigned long long)(c->offset + i),
                            (unsigned)(unsigned char)p[i],
                            p[i] == 0 ? "NUL" : "not text");
        } else {
            *run = 0;
        }
    }
    return W2V_OK;
}

#if defined(__GNUC__) || defined(__clang__)
#define VALIDATE_CHUNK 32
typedef unsigned char chunk_u8 __attribute__((vector_size(VALIDATE_CHUNK),
                                              aligned(1), may_alias));
typedef uint64_t chunk_u64 __attribute__((vector_size(VALIDATE_CHUNK)));

/* Whether any lane of a comparison result is set. */
static int chunk_any(chunk_u64 v)
{
    return (v[0] | v[1] | v[2] | v[3]) != 0;
}
#endif

/*
 * Checks a block: no control byte but whitespace, no word longer than
 * W2V_MAX_WORD_BYTES; p[0, n) follows everything validated so far. The
 * fast path looks at 32 bytes at a time: a chunk without a bad byte, while
 * the word in progress is too short to pass the limit in it, only updates
 * that word's length (from the chunk's last whitespace byte); any other
 * chunk goes to validate_bytes, which finds and reports the exact byte.
 */
static int validate(w2v_corpus *c, const char *p, size_t n, w2v_error *err)
{
    size_t run = c->run, i = 0;
#ifdef VALIDATE_CHUNK
    for (; i + VALIDATE_CHUNK <= n; i += VALIDATE_CHUNK) {
        chunk_u8 v = *(const chunk_u8 *)(p + i);
        chunk_u8 ws_ctl = (chunk_u8)((chunk_u8)(v - 9) < 5); /* \t..\r */
        chunk_u8 ctl = (chunk_u8)(v < 0x20);
        chunk_u8 space = (chunk_u8)(v == 0x20) | ws_ctl;
        if (chunk_any((chunk_u64)(ctl & ~ws_ctl)) ||
            run + VALIDATE_CHUNK > W2V_MAX_WORD_BYTES) {
            /* A bad byte, or a word that may grow too long: exactly. */
            int rc = validate_bytes(c, p, i, i + VALIDATE_CHUNK, &run, err);
            if (rc != W2V_OK)
                return rc;
            continue;
        }
        if (!chunk_any((chunk_u64)space)) {
            run += VALIDATE_CHUNK;
            continue;
        }
        size_t j = VALIDATE_CHUNK;
        while (!space[j - 1])
            j--;
        run = VALIDATE_CHUNK - j;
    }
#endif
    int rc = validate_bytes(c, p, i, n, &run, err);
    if (rc != W2V_OK)
        return rc;
    c->run = run;
    c->offset += n;
    return W2V_OK;
}

/* Reads up to n bytes into p; copies standard input to the spool. */
static int fill(w2v_corpus *c, char *p, size_t n, size_t *got,
                w2v_error *err)
{
    *got = 0;
    while (*got < n && !c->eof) {
        size_t want = n - *got;
        if (want > (1u << 30))
            want = 1u << 30;
        int r = gzread(c->gz, p + *got, (unsigned)want);
        if (r < 0)
            return gz_fail(c, err);
        if (r == 0) {
            int zerr = 0;
            gzerror(c->gz, &zerr);
            if (zerr != Z_OK)
                return w2v_fail(err, W2V_ERR_FORMAT,
                                "%s: truncated gzip data after uncompressed "
                                "byte %llu", c->path,
                                (unsigned long long)c->offset);
            c->eof = 1;
            if (c->spool != NULL && !c->spool_ready) {
                if (fflush(c->spool) != 0)
                    return w2v_fail(err, W2V_ERR_IO,
                                    "writing the temporary copy of standard "
                                    "input failed: %s", strerror(errno));
                c->spool_ready = 1;
            }
            break;
        }
        int rc = validate(c, p + *got, (size_t)r, err);
        if (rc != W2V_OK)
            return rc;
        if (c->spool != NULL && !c->spool_ready &&
            fwrite(p + *got, 1, (size_t)r, c->spool) != (size_t)r)
            return w2v_fail(err, W2V_ERR_IO,
                            "writing the temporary copy of standard input "
                            "failed: %s", strerror(errno));
        *got += (size_t)r;
    }
    return W2V_OK;
}

int w2v_corpus_read(w2v_corpus *c, char *buf, size_t cap, size_t *len,
                    w2v_error *err)
{
    *len = 0;
    if (cap < W2V_CORPUS_MIN_BLOCK)
        return w2v_fail(err, W2V_ERR_ARG, "corpus block of %zu bytes is "
                        "smaller than the minimum %d", cap,
                        W2V_CORPUS_MIN_BLOCK);
    memcpy(buf, c->carry, c->carry_len);
    size_t n = c->carry_len;
    c->carry_len = 0;
    size_t got;
    int rc = fill(c, buf + n, cap - n, &got, err);
    if (rc != W2V_OK)
        return rc;
    n += got;
    if (c->eof || n == 0) {
        *len = n;
        c->handed += n;
        return W2V_OK;
    }
    /*
     * Cut after the last newline if it is within the last
     * W2V_MAX_WORD_BYTES (so blocks hold whole sentences and the carry fits
     * its buffer), else after the last whitespace. validate() has
     * guaranteed whitespace within the last W2V_MAX_WORD_BYTES + 1 bytes.
     */
    size_t cut = 0;
    size_t lim = n > (size_t)W2V_MAX_WORD_BYTES ? n - W2V_MAX_WORD_BYTES
                                                : 0;
    for (size_t i = n; i > lim; i--) {
        if (buf[i - 1] == '\n') {
            cut = i;
            break;
        }
    }
    if (cut == 0) {
        for (size_t i = n; i > 0; i--) {
            if (byte_class[(unsigned char)buf[i - 1]] != C_WORD) {
                cut = i;
                break;
            }
        }
    }
    if (cut == 0 || n - cut > W2V_MAX_WORD_BYTES)
        return w2v_fail(err, W2V_ERR_FORMAT, "%s: byte %llu: word too long",
                        c->path, (unsigned long long)c->handed);
    c->carry_len = n - cut;
    memcpy(c->carry, buf + cut, c->carry_len);
    *len = cut;
    c->handed += cut;
    return W2V_OK;
}

int w2v_corpus_rewind(w2v_corpus *c, w2v_error *err)
{
    if (c->is_stream && !c->spool_ready) {
        /* Copy the rest of the stream so that the replay is complete. */
        char *tmp = malloc(1 << 20);
        if (tmp == NULL)
            return w2v_fail_nomem(err, "a copy buffer");
        size_t got;
        int rc;
        do {
            rc = fill(c, tmp, 1 << 20, &got, err);
        } while (rc == W2V_OK && !c->eof);
        free(tmp);
        if (rc != W2V_OK)
            return rc;
    }
    if (c->is_stream) {
        gzclose(c->gz);
        c->gz = NULL;
        if (fseek(c->spool, 0, SEEK_SET) != 0)
            return w2v_fail(err, W2V_ERR_IO, "cannot rewind the temporary "
                            "copy of standard input: %s", strerror(errno));
        int fd = dup(fileno(c->spool));
        if (fd < 0 || (c->gz = gzdopen(fd, "rb")) == NULL) {
            if (fd >= 0)
                close(fd);
            return w2v_fail(err, W2V_ERR_IO, "cannot reopen the temporary "
                            "copy of standard input");
        }
        gzbuffer(c->gz, 1 << 18);
    } else if (gzrewind(c->gz) != 0) {
        return w2v_fail(err, W2V_ERR_IO, "%s: cannot rewind", c->path);
    }
    c->eof = 0;
    c->offset = 0;
    c->handed = 0;
    c->run = 0;
    c->carry_len = 0;
    return W2V_OK;
}

void w2v_tokens_init(w2v_tokens *t, const char *text, size_t len)
{
    t->pos = text;
    t->end = text + len;
}

int w2v_tokens_next(w2v_tokens *t, const char **word, size_t *len)
{
    const char *p = t->pos;
    const char *end = t->end;
    while (p < end) {
        unsigned char k = byte_class[(unsigned char)*p];
        if (k == C_EOL) {
            t->pos = p + 1;
            return W2V_TOKEN_EOL;
        }
        if (k == C_WORD)
            break;
        p++; /* C_SPACE; C_BAD cannot occur in validated blocks */
    }
    if (p == end) {
        t->pos = end;
        return W2V_TOKEN_END;
    }
    const char *start = p;
    while (p < end && byte_class[(unsigned char)*p] == C_WORD)
        p++;
    t->pos = p;
    *word = start;
    *len = (size_t)(p - start);
    return W2V_TOKEN_WORD;
}
