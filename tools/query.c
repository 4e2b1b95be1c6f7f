/*
 * query.c - model lookup, spelling suggestions, query input and JSON output
 * for the query tools. See query.h.
 */
#define _POSIX_C_SOURCE 200809L

#include "query.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* ---------------------------------------------------------------------- */
/* Model                                                                   */

int query_parse_format(const char *prog, const char *value, int *format)
{
    if (strcmp(value, "text") == 0) {
        *format = QUERY_TEXT;
        return 0;
    }
    if (strcmp(value, "json") == 0) {
        *format = QUERY_JSON;
        return 0;
    }
    fprintf(stderr, "%s: -format %s: expected text or json\n", prog, value);
    return CLI_EXIT_USAGE;
}

const char *query_model_path(const char *path)
{
    if (path == NULL)
        path = getenv("W2V_MODEL");
    return path == NULL || path[0] == '\0' ? "vectors.bin" : path;
}

/* Prints a failure to load or index the model at path; the exit status. */
static int load_failed(const char *prog, const char *path, int code,
                       const w2v_error *err)
{
    fprintf(stderr, "%s: %s\n", prog, err->message);
    if (access(path, F_OK) != 0)
        fprintf(stderr, "%s: train a model with w2v-train, then pass it "
                "with -model FILE or set W2V_MODEL\n", prog);
    return code == W2V_ERR_NOMEM || code == W2V_ERR_THREAD ? CLI_EXIT_FAIL
                                                           : CLI_EXIT_USAGE;
}

int query_load(const char *prog, const char *path, w2v_model **m)
{
    w2v_error err;
    w2v_error_clear(&err);
    int rc = w2v_model_load(path, m, &err);
    return rc == W2V_OK ? 0 : load_failed(prog, path, rc, &err);
}

int query_open(const char *prog, const char *path, size_t n_restrict,
               query_model *q)
{
    memset(q, 0, sizeof *q);
    path = query_model_path(path);
    w2v_model *m = NULL;
    w2v_knn *k = NULL;
    int rc = query_load(prog, path, &m);
    if (rc != 0)
        return rc;
    w2v_error err;
    w2v_error_clear(&err);
    int code = w2v_knn_new(m, n_restrict, &k, &err);
    if (code != W2V_OK) {
        w2v_model_free(m);
        return load_failed(prog, path, code, &err);
    }
    q->model = m;
    q->knn = k;
    q->path = path;
    return 0;
}

void query_close(query_model *q)
{
    w2v_knn_free(q->knn);
    w2v_model_free(q->model);
    memset(q, 0, sizeof *q);
}

/* ---------------------------------------------------------------------- */
/* The tools' common options and main loop                                 */

void query_tool_init(query_tool *t)
{
    memset(t, 0, sizeof *t);
    t->k = 10;
    t->format_arg = "text";
}

size_t query_tool_options(query_tool *t, const char *k_help,
                          cli_option *opts)
{
    const cli_option common[4] = {
        {"model", NULL, CLI_STRING, &t->model_path, 0, 0, "FILE",
         "model: word2vec text or binary, or native (default "
         "$W2V_MODEL, else vectors.bin)"},
        {"k", NULL, CLI_SIZE, &t->k, 1, 100000, "N", k_help},
        {"restrict", NULL, CLI_SIZE, &t->restrict_n, 0, 4e9, "N",
         "use only the N most frequent words (default 0 = all)"},
        {"format", NULL, CLI_STRING, &t->format_arg, 0, 0, "text|json",
         "output format (default text)"}};
    memcpy(opts, common, sizeof common);
    return 4;
}

int query_tool_run(const char *prog, query_tool *t, char **words,
                   int n_words, const char *prompt, query_fn fn, void *user)
{
    int rc = query_parse_format(prog, t->format_arg, &t->format);
    if (rc != 0)
        return rc;
    t->nb = malloc(t->k * sizeof *t->nb);
    if (t->nb == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return CLI_EXIT_FAIL;
    }
    if ((rc = query_open(prog, t->model_path, t->restrict_n, &t->q)) != 0) {
        free(t->nb);
        t->nb = NULL;
        return rc;
    }
    if (n_words > 0)
        rc = fn(words, n_words, 0, user);
    else
        rc = query_stdin(prog, prompt, fn, user);
    query_close(&t->q);
    free(t->nb);
    t->nb = NULL;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: error writing standard output\n", prog);
        return CLI_EXIT_FAIL;
    }
    return rc;
}

/* ---------------------------------------------------------------------- */
/* UTF-8                                                                   */

/*
 * The length of the valid UTF-8 sequence at s[0, n) (n >= 1) and its code
 * point in *cp; 0 when s[0] does not start one (a stray continuation byte,
 * a truncated, overlong or surrogate sequence, or beyond U+10FFFF).
 */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        v = c & 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        v = c & 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        v = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* Longest word, in characters, that spelling suggestions consider. */
#define MAX_CHARS 64

/*
 * s[0, len) as characters with ASCII letters lowercased, into out (room
 * for MAX_CHARS); a byte that is not valid UTF-8 counts as one character
 * of its own (0x110000 + byte, distinct from every code point). Returns
 * the count, or MAX_CHARS + 1 when there are more than MAX_CHARS.
 */
static size_t fold_chars(const char *s, size_t len, uint32_t *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        if (n == MAX_CHARS)
            return MAX_CHARS + 1;
        uint32_t cp;
        size_t step = utf8_decode(p + i, len - i, &cp);
        if (step == 0) {
            cp = 0x110000u + p[i];
            step = 1;
        }
        if (cp >= 'A' && cp <= 'Z')
            cp += 'a' - 'A';
        out[n++] = cp;
        i += step;
    }
    return n;
}

/* ---------------------------------------------------------------------- */
/* Lookup and suggestions                                                  */

/*
 * The edit distance between a[0, na) and b[0, nb) when it is at most
 * bound, else bound + 1. Edits are inserting, deleting or replacing a
 * character and swapping two adjacent ones ("teh" -> "the" is one edit;
 * the optimal string alignment distance). Only cells within bound of the
 * diagonal can hold a distance <= bound, so each row of the table fills a
 * band of 2 bound + 1 cells, and the scan stops at the first row whose
 * cells all exceed bound: a row's minimum is at most one more than the
 * previous row's, and a swap adds one to a cell two rows up, so no later
 * row can come back under the bound. na, nb <= MAX_CHARS.
 */
static size_t bounded_distance(const uint32_t *a, size_t na,
                               const uint32_t *b, size_t nb, size_t bound)
{
    const size_t over = bound + 1;
    if (na > nb + bound || nb > na + bound)
        return over;
    size_t rows[3][MAX_CHARS + 2];
    size_t *older = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= nb + 1; j++)
        prev[j] = j <= bound ? j : over;
    for (size_t i = 1; i <= na; i++) {
        size_t lo = i > bound ? i - bound : 1;
        size_t hi = i + bound < nb ? i + bound : nb;
        size_t best = over;
        if (lo == 1) {
            cur[0] = i <= bound ? i : over;
            best = cur[0];
        } else {
            cur[lo - 1] = over;
        }
        for (size_t j = lo; j <= hi; j++) {
            size_t d = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < d)
                d = prev[j] + 1;
            if (cur[j - 1] + 1 < d)
                d = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && older[j - 2] + 1 < d)
                d = older[j - 2] + 1;
            cur[j] = d < over ? d : over;
            if (cur[j] < best)
                best = cur[j];
        }
        /* The next row reads one cell further right. */
        if (hi < nb)
            cur[hi + 1] = over;
        if (best > bound)
            return over;
        size_t *t = older;
        older = prev;
        prev = cur;
        cur = t;
    }
    return prev[nb];
}

/*
 * Fills w->suggest with the closest words of the index's first
 * QUERY_SUGGEST_ROWS rows, scanned most frequent first: a word enters the
 * list only if it is strictly closer than the list's worst once the list is
 * full, so among equal distances the more frequent word wins, and the bound
 * shrinks as the list fills.
 */
static void suggest(const query_model *q, query_word *w)
{
    uint32_t want[MAX_CHARS], cand[MAX_CHARS];
    size_t nw = fold_chars(w->text, strlen(w->text), want);
    if (nw > MAX_CHARS)
        return;
    const w2v_vocab *v = w2v_model_vocab(q->model);
    size_t rows = w2v_knn_size(q->knn);
    if (rows > QUERY_SUGGEST_ROWS)
        rows = QUERY_SUGGEST_ROWS;
    size_t dist[QUERY_SUGGEST_MAX];
    size_t n = 0, bound = QUERY_SUGGEST_DISTANCE;
    for (size_t id = 0; id < rows; id++) {
        /* A word of len bytes has between len / 4 and len characters. */
        size_t len = w2v_vocab_word_len(v, id);
        if (len + bound < nw || len > 4 * (nw + bound))
            continue;
        size_t nc = fold_chars(w2v_vocab_word(v, id), len, cand);
        if (nc > MAX_CHARS)
            continue;
        size_t d = bounded_distance(want, nw, cand, nc, bound);
        if (d > bound)
            continue;
        /* Insert (d, id) in order; ids rise, so equal d goes last. */
        size_t at = n < QUERY_SUGGEST_MAX ? n : QUERY_SUGGEST_MAX - 1;
        while (at > 0 && dist[at - 1] > d) {
            dist[at] = dist[at - 1];
            w->suggest[at] = w->suggest[at - 1];
            at--;
        }
        dist[at] = d;
        w->suggest[at] = id;
        if (n < QUERY_SUGGEST_MAX)
            n++;
        if (n == QUERY_SUGGEST_MAX) {
            if (dist[n - 1] == 0)
                break;
            bound = dist[n - 1] - 1;
        }
    }
    w->n_suggest = n;
}

int query_lookup(const query_model *q, const char *word, query_word *out)
{
    memset(out, 0, sizeof *out);
    out->text = word;
    const w2v_vocab *v = w2v_model_vocab(q->model);
    size_t len = strlen(word);
    int64_t id = w2v_vocab_find(v, word, len);
    if (id < 0) {
        char *lower = malloc(len + 1);
        if (lower != NULL) {
            for (size_t i = 0; i <= len; i++) {
                char c = word[i];
                lower[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
            }
            id = w2v_vocab_find(v, lower, len);
            free(lower);
        }
    }
    if (id >= 0 && (size_t)id < w2v_knn_size(q->knn)) {
        out->id = (size_t)id;
        return 1;
    }
    if (id >= 0) {
        out->miss = QUERY_RESTRICTED;
        out->rank = (size_t)id + 1;
    } else {
        out->miss = QUERY_UNKNOWN;
    }
    suggest(q, out);
    return 0;
}

void query_report_miss(const char *prog, const query_model *q,
                       const query_word *w)
{
    /* A word of megabytes is not echoed whole: its start names it. */
    int shown = strlen(w->text) > 80 ? 80 : (int)strlen(w->text);
    const char *cut = shown < (int)strlen(w->text) ? "...\" (cut)" : "\"";
    if (w->miss == QUERY_RESTRICTED)
        fprintf(stderr, "%s: \"%.*s%s is word %zu of %s, outside -restrict "
                "%zu", prog, shown, w->text, cut, w->rank, q->path,
                w2v_knn_size(q->knn));
    else
        fprintf(stderr, "%s: unknown word \"%.*s%s (not in %s)", prog, shown,
                w->text, cut, q->path);
    const w2v_vocab *v = w2v_model_vocab(q->model);
    for (size_t i = 0; i < w->n_suggest; i++)
        fprintf(stderr, "%s%s", i == 0 ? "; did you mean " : ", ",
                w2v_vocab_word(v, w->suggest[i]));
    fputs(w->n_suggest > 0 ? "?\n" : "\n", stderr);
}

/* ---------------------------------------------------------------------- */
/* Standard input                                                          */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

int query_stdin(const char *prog, const char *prompt, query_fn fn,
                void *user)
{
    int tty = isatty(STDIN_FILENO);
    char *line = NULL, **words = NULL;
    size_t cap = 0, n_cap = 0, lineno = 0;
    int worst = 0;
    for (;;) {
        if (tty)
            fputs(prompt, stderr);
        ssize_t len = getline(&line, &cap, stdin);
        if (len < 0)
            break;
        lineno++;
        if (memchr(line, '\0', (size_t)len) != NULL) {
            fprintf(stderr, "%s: line %zu of standard input has a NUL byte; "
                    "skipped\n", prog, lineno);
            worst = worst > CLI_EXIT_FAIL ? worst : CLI_EXIT_FAIL;
            continue;
        }
        /* Split in place: each word ends at the first blank after it. */
        size_t n = 0;
        for (char *p = line; *p != '\0';) {
            while (is_space(*p))
                p++;
            if (*p == '\0')
                break;
            if (n == n_cap) {
                size_t c = n_cap ? 2 * n_cap : 16;
                char **grown = c > INT32_MAX ? NULL
                                             : realloc(words, c * sizeof *words);
                if (grown == NULL) {
                    fprintf(stderr, "%s: out of memory reading line %zu\n",
                            prog, lineno);
                    free(words);
                    free(line);
                    return CLI_EXIT_FAIL;
                }
                words = grown;
                n_cap = c;
            }
            words[n++] = p;
            while (*p != '\0' && !is_space(*p))
                p++;
            if (*p != '\0')
                *p++ = '\0';
        }
        if (n == 0)
            continue;
        if (tty && n == 1 && (strcmp(words[0], "EXIT") == 0 ||
                              strcmp(words[0], "exit") == 0))
            break;
        int rc = fn(words, (int)n, lineno, user);
        if (rc > worst)
            worst = rc;
        fflush(stdout);
    }
    if (ferror(stdin)) {
        fprintf(stderr, "%s: error reading standard input\n", prog);
        worst = worst > CLI_EXIT_FAIL ? worst : CLI_EXIT_FAIL;
    }
    if (tty)
        fputc('\n', stderr);
    free(words);
    free(line);
    return worst;
}

/* ---------------------------------------------------------------------- */
/* Output                                                                  */

void query_json_string(FILE *f, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    putc('"', f);
    for (size_t i = 0; i < len;) {
        unsigned c = p[i];
        if (c == '"' || c == '\\') {
            putc('\\', f);
            putc((int)c, f);
            i++;
        } else if (c < 0x20) {
            const char *esc = c == '\b'   ? "\\b"
                              : c == '\f' ? "\\f"
                              : c == '\n' ? "\\n"
                              : c == '\r' ? "\\r"
                              : c == '\t' ? "\\t"
                                          : NULL;
            if (esc != NULL)
                fputs(esc, f);
            else
                fprintf(f, "\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            putc((int)c, f);
            i++;
        } else {
            uint32_t cp;
            size_t step = utf8_decode(p + i, len - i, &cp);
            if (step == 0) {
                fputs("\\ufffd", f);
                step = 1;
            } else {
                fwrite(p + i, 1, step, f);
            }
            i += step;
        }
    }
    putc('"', f);
}

void query_json_cstr(FILE *f, const char *s)
{
    query_json_string(f, s, strlen(s));
}

void query_json_miss(FILE *f, const query_model *q, const query_word *w)
{
    if (w->miss == QUERY_RESTRICTED)
        fprintf(f, ",\"error\":\"outside -restrict\",\"rank\":%zu,"
                "\"restrict\":%zu", w->rank, w2v_knn_size(q->knn));
    else
        fputs(",\"error\":\"unknown word\"", f);
    fputs(",\"suggestions\":[", f);
    const w2v_vocab *v = w2v_model_vocab(q->model);
    for (size_t i = 0; i < w->n_suggest; i++) {
        if (i > 0)
            putc(',', f);
        query_json_string(f, w2v_vocab_word(v, w->suggest[i]),
                          w2v_vocab_word_len(v, w->suggest[i]));
    }
    putc(']', f);
}

void query_json_neighbors(FILE *f, const query_model *q,
                          const w2v_neighbor *nb, size_t n)
{
    const w2v_vocab *v = w2v_model_vocab(q->model);
    putc('[', f);
    for (size_t i = 0; i < n; i++) {
        fputs(i == 0 ? "{\"word\":" : ",{\"word\":", f);
        query_json_string(f, w2v_vocab_word(v, nb[i].id),
                          w2v_vocab_word_len(v, nb[i].id));
        fprintf(f, ",\"score\":%.6f}", (double)nb[i].score);
    }
    putc(']', f);
}

void query_print_neighbors(FILE *f, const query_model *q,
                           const w2v_neighbor *nb, size_t n)
{
    const w2v_vocab *v = w2v_model_vocab(q->model);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-20s %.4f\n", w2v_vocab_word(v, nb[i].id),
                (double)nb[i].score);
}
