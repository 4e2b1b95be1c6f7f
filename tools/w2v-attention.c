/*
 * w2v-attention - one layer of self-attention over a sentence, with the
 * model's vectors as the input embeddings, shown step by step.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "query.h"

#define PROG "w2v-attention"

/* Dimensions of each vector shown in the text tables. */
#define SHOW_DIMS 6
/* Token labels in tables are cut to this many bytes. */
#define LABEL_MAX 10
/* Width of the bars in the focus listing. */
#define BAR_WIDTH 30

/* ---------------------------------------------------------------------- */
/* Settings and state                                                      */

typedef struct att_args {
    const char *model_path;
    const char *pos;         /* none | sinusoidal */
    size_t d_k;              /* 0: D / heads, or the weight files' */
    size_t heads;
    uint64_t seed;
    const char *wq, *wk, *wv; /* .npy weight files, or NULL */
    int causal;
    int tied;                /* W_K = W_Q */
    const char *focus;
    const char *svg;
    int json;
    int sinusoidal;          /* from pos */
} att_args;

typedef struct att_run {
    w2v_model *model;
    w2v_tokenizer *tok;
    w2v_encoding enc;
    size_t n, dim, width;   /* tokens, D, heads * d_k */
    size_t focus;           /* token position of -focus, or n */
    float *emb;             /* (n, D) token embeddings */
    float *pe;              /* (n, D) positional encodings (zeros: none) */
    float *x;               /* (n, D) emb + pe: the attention input */
    float *w[3];            /* (D, width) each: W_Q, W_K, W_V */
    w2v_attention_out out;
    char **labels;          /* (n) token labels, NUL-terminated */
} att_run;

static void run_free(att_run *r)
{
    for (size_t i = 0; r->labels && i < r->n; i++)
        free(r->labels[i]);
    free(r->labels);
    for (int i = 0; i < 3; i++)
        free(r->w[i]);
    free(r->emb);
    free(r->pe);
    free(r->x);
    w2v_attention_out_free(&r->out);
    w2v_encoding_free(&r->enc);
    w2v_tokenizer_free(r->tok);
    w2v_model_free(r->model);
}

static int fail_msg(const w2v_error *err, int status)
{
    fprintf(stderr, PROG ": %s\n", err->message);
    return status;
}

/* ---------------------------------------------------------------------- */
/* Tokens                                                                  */

/* Labels: the word as normalised (so an unknown word keeps its text). */
static int make_labels(att_run *r)
{
    r->labels = calloc(r->n, sizeof *r->labels);
    if (r->labels == NULL)
        return -1;
    for (size_t i = 0; i < r->n; i++) {
        const w2v_tok *t = &r->enc.tokens[i];
        const char *s = t->len ? r->enc.text + t->start
                               : w2v_tokenizer_token(r->tok, t->id);
        size_t len = t->len ? t->len : strlen(s);
        r->labels[i] = malloc(len + 1);
        if (r->labels[i] == NULL)
            return -1;
        memcpy(r->labels[i], s, len);
        r->labels[i][len] = '\0';
    }
    return 0;
}

/* Tokenizes the sentence; a usage error when it has no or too many. */
static int tokenize(att_run *r, const char *text, size_t len, int svg)
{
    w2v_error err;
    w2v_error_clear(&err);
    if (w2v_tokenizer_new(w2v_model_vocab(r->model), &r->tok, &err) !=
            W2V_OK ||
        w2v_tokenizer_encode(r->tok, text, len, &r->enc, &err) != W2V_OK)
        return fail_msg(&err, CLI_EXIT_FAIL);
    r->n = r->enc.n;
    if (r->n == 0) {
        fprintf(stderr, PROG ": the sentence has no words (only letters a-z "
                "and digits make words)\n");
        return CLI_EXIT_USAGE;
    }
    if (r->n > W2V_ATTENTION_MAX_TOKENS) {
        fprintf(stderr, PROG ": the sentence has %zu tokens; at most %d are "
                "allowed\n", r->n, W2V_ATTENTION_MAX_TOKENS);
        return CLI_EXIT_USAGE;
    }
    if (make_labels(r) != 0) {
        fprintf(stderr, PROG ": out of memory\n");
        return CLI_EXIT_FAIL;
    }
    if (svg && r->n > W2V_ATTENTION_SVG_MAX_TOKENS) {
        fprintf(stderr, PROG ": -svg draws at most %d tokens; the sentence "
                "has %zu\n", W2V_ATTENTION_SVG_MAX_TOKENS, r->n);
        return CLI_EXIT_USAGE;
    }
    size_t unk = w2v_tokenizer_unk_id(r->tok);
    for (size_t i = 0; i < r->n; i++)
        if (r->enc.tokens[i].id == unk)
            fprintf(stderr, PROG ": note: \"%s\" is not in the vocabulary; "
                    "it becomes " W2V_TOKEN_UNK " (id %zu), whose embedding "
                    "is the mean of all word vectors\n", r->labels[i], unk);
    return 0;
}

/* The position of -focus in the sentence, normalised like the text. */
static int find_focus(att_run *r, const char *focus)
{
    r->focus = r->n;
    if (focus == NULL)
        return 0;
    char *f = w2v_tokenizer_normalize(focus, strlen(focus), NULL, NULL);
    if (f == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return CLI_EXIT_FAIL;
    }
    for (size_t i = 0; i < r->n && r->focus == r->n; i++)
        if (strcmp(r->labels[i], f) == 0 ||
            strcmp(w2v_tokenizer_token(r->tok, r->enc.tokens[i].id), f) == 0)
            r->focus = i;
    int rc = 0;
    if (r->focus == r->n) {
        fprintf(stderr, PROG ": -focus \"%s\" is not a token of the "
                "sentence; its tokens are:", focus);
        for (size_t i = 0; i < r->n; i++)
            fprintf(stderr, " %s", r->labels[i]);
        fputc('\n', stderr);
        rc = CLI_EXIT_USAGE;
    }
    free(f);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Inputs and weights                                                      */

static int build_inputs(att_run *r, int sinusoidal)
{
    size_t nd = r->n * r->dim;
    r->emb = malloc(nd * sizeof(float));
    r->pe = calloc(nd, sizeof(float));
    r->x = malloc(nd * sizeof(float));
    if (r->emb == NULL || r->pe == NULL || r->x == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return CLI_EXIT_FAIL;
    }
    w2v_error err;
    w2v_error_clear(&err);
    for (size_t i = 0; i < r->n; i++)
        if (w2v_export_token_vector(r->model, r->enc.tokens[i].id,
                                    r->emb + i * r->dim, &err) != W2V_OK)
            return fail_msg(&err, CLI_EXIT_FAIL);
    if (sinusoidal)
        w2v_attention_positional(r->n, r->dim, r->pe);
    for (size_t i = 0; i < nd; i++)
        r->x[i] = r->emb[i] + r->pe[i];
    return 0;
}

/* Loads one weight file; its shape must be (D, something). */
static int load_weight(const char *flag, const char *path, size_t dim,
                       float **w, size_t *cols)
{
    size_t rows = 0;
    w2v_error err;
    w2v_error_clear(&err);
    if (w2v_export_npy_read(path, w, &rows, cols, &err) != W2V_OK) {
        fprintf(stderr, PROG ": -%s: %s\n", flag, err.message);
        return CLI_EXIT_USAGE;
    }
    if (rows != dim) {
        fprintf(stderr, PROG ": -%s: %s: shape (%zu, %zu); a (D, heads x "
                "d_k) matrix with D = %zu, the model's dimension, is "
                "expected\n", flag, path, rows, *cols, dim);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* W_Q, W_K, W_V from the three files; all must be (D, heads * d_k). */
static int load_weights(att_run *r, att_args *a)
{
    const char *flags[3] = {"wq", "wk", "wv"};
    const char *paths[3] = {a->wq, a->wk, a->wv};
    size_t cols[3];
    for (int i = 0; i < 3; i++) {
        int rc = load_weight(flags[i], paths[i], r->dim, &r->w[i], &cols[i]);
        if (rc != 0)
            return rc;
    }
    if (cols[1] != cols[0] || cols[2] != cols[0]) {
        fprintf(stderr, PROG ": -wq, -wk and -wv have %zu, %zu and %zu "
                "columns; they must agree\n", cols[0], cols[1], cols[2]);
        return CLI_EXIT_USAGE;
    }
    if (a->d_k == 0 && cols[0] % a->heads != 0) {
        fprintf(stderr, PROG ": the weights' %zu columns do not split into "
                "-heads %zu heads\n", cols[0], a->heads);
        return CLI_EXIT_USAGE;
    }
    if (a->d_k == 0)
        a->d_k = cols[0] / a->heads;
    if (a->d_k * a->heads != cols[0]) {
        fprintf(stderr, PROG ": the weights have %zu columns but -heads %zu "
                "x -dk %zu is %zu\n", cols[0], a->heads, a->d_k,
                a->heads * a->d_k);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* Seeded or loaded weights, after checking the sizes. */
static int make_weights(att_run *r, att_args *a)
{
    int given = (a->wq != NULL) + (a->wk != NULL) + (a->wv != NULL);
    if (given != 0 && given != 3) {
        fprintf(stderr, PROG ": give all three of -wq, -wk and -wv, or "
                "none (then they are drawn from -seed)\n");
        return CLI_EXIT_USAGE;
    }
    if (given == 3 && a->tied) {
        fprintf(stderr, PROG ": -tied draws W_K = W_Q from -seed; with "
                "weight files, give the same file to -wq and -wk instead\n");
        return CLI_EXIT_USAGE;
    }
    if (given == 3) {
        int rc = load_weights(r, a);
        if (rc != 0)
            return rc;
    } else if (a->d_k == 0) {
        a->d_k = r->dim / a->heads ? r->dim / a->heads : 1;
    }
    w2v_error err;
    w2v_error_clear(&err);
    if (w2v_attention_check_sizes(r->n, r->dim, a->heads, a->d_k, &err) !=
        W2V_OK)
        return fail_msg(&err, CLI_EXIT_USAGE);
    r->width = a->heads * a->d_k;
    for (int i = 0; given == 0 && i < 3; i++) {
        r->w[i] = malloc(r->dim * r->width * sizeof(float));
        if (r->w[i] == NULL) {
            fprintf(stderr, PROG ": out of memory\n");
            return CLI_EXIT_FAIL;
        }
        w2v_attention_init_weights(r->dim, r->width, a->seed, (uint64_t)i,
                                   r->w[i]);
    }
    if (given == 0 && a->tied)
        memcpy(r->w[1], r->w[0], r->dim * r->width * sizeof(float));
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Text output                                                             */

static double row_norm(const float *v, size_t n, size_t stride)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)v[i * stride] * v[i * stride];
    return sqrt(s);
}

static void section(const char *title)
{
    size_t n = strlen(title);
    printf("\n%s\n", title);
    for (size_t i = 0; i < n; i++)
        putchar('=');
    putchar('\n');
}

/* "label" cut or padded to w columns. */
static void print_label(const char *s, int w)
{
    int len = (int)strlen(s);
    if (len > w)
        printf("%.*s~", w - 1, s);
    else
        printf("%-*s", w, s);
}

/* Rows "pos token |v| v[0..]" of m (n, cols): one row per token. */
static void print_vectors(const att_run *r, const char *name, const float *m,
                          size_t cols)
{
    size_t show = cols < SHOW_DIMS ? cols : SHOW_DIMS;
    printf("  %3s  ", "pos");
    print_label("token", LABEL_MAX);
    printf("  %7s   %s[0..%zu]%s\n", "length", name, show - 1,
           show < cols ? " (first dimensions)" : "");
    for (size_t i = 0; i < r->n; i++) {
        const float *v = m + i * cols;
        printf("  %3zu  ", i);
        print_label(r->labels[i], LABEL_MAX);
        printf("  %7.3f  ", row_norm(v, cols, 1));
        for (size_t j = 0; j < show; j++)
            printf(" %+7.3f", v[j]);
        printf("%s\n", show < cols ? "  ..." : "");
    }
}

static void show_tokens(const att_run *r, const char *path)
{
    char b[32];
    size_t unk = w2v_tokenizer_unk_id(r->tok);
    section("1. Tokens and their embeddings");
    printf("model %s: %s words x %zu dimensions (D = %zu)\n", path,
           cli_thousands(unk, b, sizeof b), r->dim, r->dim);
    printf("normalised text: %s\n", r->enc.text);
    char rows[32];
    printf("%zu tokens; each id selects one row of the embedding matrix "
           "W_E\n(%s x %zu: the model's vectors, then " W2V_TOKEN_UNK
           " = %zu and " W2V_TOKEN_EOT " = %zu)\n\n", r->n,
           cli_thousands(unk + 2, rows, sizeof rows), r->dim, unk, unk + 1);
    printf("  %3s  ", "pos");
    print_label("token", LABEL_MAX);
    printf("  %9s\n", "id");
    for (size_t i = 0; i < r->n; i++) {
        printf("  %3zu  ", i);
        print_label(r->labels[i], LABEL_MAX);
        printf("  %9zu%s\n", r->enc.tokens[i].id,
               r->enc.tokens[i].id == unk ? "  " W2V_TOKEN_UNK : "");
    }
    printf("\nE = W_E[ids]: (%zu x %zu)\n", r->n, r->dim);
    print_vectors(r, "e", r->emb, r->dim);
}

static void show_positions(const att_run *r, int sinusoidal)
{
    section("2. Positional encoding");
    if (!sinusoidal) {
        printf("-pos none: X = E. Attention itself ignores order: without "
               "positions,\nshuffling the tokens only shuffles the "
               "output rows.\n");
        return;
    }
    printf("sinusoidal (Vaswani et al. 2017), PE: (%zu x %zu)\n"
           "  PE[pos][2i]   = sin(pos / 10000^(2i/%zu))\n"
           "  PE[pos][2i+1] = cos(pos / 10000^(2i/%zu))\n"
           "Each pair of columns turns at its own rate, so every position "
           "gets a\ndistinct pattern that attention can read.\n\n", r->n,
           r->dim, r->dim, r->dim);
    print_vectors(r, "pe", r->pe, r->dim);
    printf("\nX = E + PE: (%zu x %zu)\n", r->n, r->dim);
    print_vectors(r, "x", r->x, r->dim);
    double e = 0, p = 0;
    for (size_t i = 0; i < r->n; i++) {
        e += row_norm(r->emb + i * r->dim, r->dim, 1);
        p += row_norm(r->pe + i * r->dim, r->dim, 1);
    }
    printf("\nnote: mean |e| = %.2f, mean |pe| = %.2f.\n", e / (double)r->n,
           p / (double)r->n);
    printf("%s\n", p > 2 * e ? "The positions outweigh the word vectors "
           "here, so attention will\nfollow position more than meaning "
           "(try -pos none to compare)." : "Both carry weight in X.");
}

static void show_projections(const att_run *r, const att_args *a)
{
    size_t dk = a->d_k;
    section("3. Projections: Q = X W_Q, K = X W_K, V = X W_V");
    if (a->wq)
        printf("W_Q, W_K, W_V: (%zu x %zu) each, from %s, %s, %s\n", r->dim,
               r->width, a->wq, a->wk, a->wv);
    else
        printf("W_Q, W_K, W_V: (%zu x %zu) each, drawn uniformly from "
               "[-a, a], a = sqrt(3/%zu) = %.4f\n(variance 1/D, so a "
               "projection keeps the scale of X), -seed %llu.\nThey are "
               "random: a trained transformer learns them, and what the "
               "pattern\nbelow means depends on what it learned.\n", r->dim,
               r->width, r->dim, sqrt(3.0 / (double)r->dim),
               (unsigned long long)a->seed);
    if (a->tied)
        printf("-tied: W_K = W_Q, so score(i, j) = (x_i W)(x_j W)^T / "
               "sqrt(d_k) is a similarity:\na random projection roughly "
               "keeps dot products, and each token attends most\nto the "
               "tokens whose vectors are near its own (clearest with -pos "
               "none).\n");
    printf("Q, K, V: (%zu x %zu) = %zu head%s x d_k %zu; head h = 1..%zu "
           "uses columns\n(h-1)*%zu .. h*%zu-1 of each\n\nQ = X W_Q:\n", r->n,
           r->width, a->heads, a->heads == 1 ? "" : "s", dk, a->heads, dk,
           dk);
    print_vectors(r, "q", r->out.q, r->width);
}

/* The worked softmax of one row of head 0. */
static void show_worked_row(const att_run *r, size_t row, int causal)
{
    const float *s = r->out.scores + row * r->n;
    const float *w = r->out.weights + row * r->n;
    size_t m = causal ? row + 1 : r->n;
    float max = s[0];
    for (size_t j = 1; j < m; j++)
        if (s[j] > max)
            max = s[j];
    printf("\nWorked example, head 1, row %zu (\"%s\" as the query):\n",
           row, r->labels[row]);
    printf("    ");
    print_label("key", LABEL_MAX);
    printf("  %9s  %9s  %9s  %7s\n", "score", "score-max", "exp", "weight");
    double sum = 0;
    for (size_t j = 0; j < r->n; j++) {
        printf("    ");
        print_label(r->labels[j], LABEL_MAX);
        if (j >= m) {
            printf("  %9.4f  %9s  %9s  %7.4f  (masked)\n", s[j], "-", "0",
                   w[j]);
            continue;
        }
        double e = exp((double)s[j] - max);
        sum += e;
        printf("  %9.4f  %9.4f  %9.4f  %7.4f\n", s[j], s[j] - max, e, w[j]);
    }
    printf("    ");
    print_label("sum", LABEL_MAX);
    printf("  %9s  %9s  %9.4f  %7.4f\n", "", "", sum, 1.0);
}

static void show_scores(const att_run *r, const att_args *a)
{
    section("4. Scores and softmax");
    printf("per head h: S_h = Q_h K_h^T / sqrt(d_k) = Q_h K_h^T / %.4f: "
           "(%zu x %zu)\n", sqrt((double)a->d_k), r->n, r->n);
    printf("S_h[i][j]: how well query token i matches key token j.\n");
    if (a->causal)
        printf("-causal: token i may not look ahead; scores with j > i are "
               "masked\n(their weight is exactly 0).\n");
    printf("weights = softmax of each row, computed stably: subtract the "
           "row's\nlargest score, exponentiate, divide by the sum. Each row "
           "sums to 1.\n");
    show_worked_row(r, r->focus < r->n ? r->focus : r->n - 1, a->causal);
}

/* The weights of head h as a table with token labels. */
static void show_weight_table(const att_run *r, size_t h)
{
    const float *w = r->out.weights + h * r->n * r->n;
    printf("\nhead %zu of %zu (row = query token, column = key token it "
           "attends to):\n", h + 1, r->out.heads);
    printf("  ");
    print_label("", LABEL_MAX);
    for (size_t j = 0; j < r->n; j++) {
        printf(" ");
        print_label(r->labels[j], 7);
    }
    printf("  sum\n");
    for (size_t i = 0; i < r->n; i++) {
        double sum = 0;
        printf("  ");
        print_label(r->labels[i], LABEL_MAX);
        size_t best = 0;
        for (size_t j = 1; j < r->n; j++)
            if (w[i * r->n + j] > w[i * r->n + best])
                best = j;
        for (size_t j = 0; j < r->n; j++) {
            printf(" %6.3f%c", w[i * r->n + j], j == best ? '*' : ' ');
            sum += w[i * r->n + j];
        }
        printf(" %5.3f\n", sum);
    }
}

/* The weights token `row` gives each token in head h, sorted. */
static void show_focus_head(const att_run *r, size_t h)
{
    const float *w = r->out.weights + (h * r->n + r->focus) * r->n;
    size_t *order = malloc(r->n * sizeof *order);
    if (order == NULL)
        return;
    for (size_t j = 0; j < r->n; j++)
        order[j] = j;
    for (size_t i = 1; i < r->n; i++)
        for (size_t j = i; j > 0 && w[order[j]] > w[order[j - 1]]; j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    printf("\nhead %zu: \"%s\" attends to\n", h + 1, r->labels[r->focus]);
    for (size_t k = 0; k < r->n; k++) {
        size_t j = order[k];
        int bar = (int)lround(w[j] * BAR_WIDTH);
        printf("    %3zu ", j);
        print_label(r->labels[j], LABEL_MAX);
        printf("  %6.3f  ", w[j]);
        for (int b = 0; b < bar; b++)
            putchar('#');
        printf("%s\n", j == r->focus ? "  (itself)" : "");
    }
    free(order);
}

static void show_weights(const att_run *r)
{
    section("5. Attention weights");
    printf("Read a row: where query token i looks; * marks its largest "
           "weight. A column\nhigh in every row is a key that stands out "
           "to all queries alike.\n");
    for (size_t h = 0; h < r->out.heads; h++)
        show_weight_table(r, h);
    if (r->focus == r->n)
        return;
    char title[128];
    snprintf(title, sizeof title, "6. Focus: what \"%s\" attends to",
             r->labels[r->focus]);
    section(title);
    for (size_t h = 0; h < r->out.heads; h++)
        show_focus_head(r, h);
}

static void show_context(const att_run *r, const att_args *a)
{
    section(r->focus < r->n ? "7. Context vectors" : "6. Context vectors");
    printf("per head: C_h = weights_h V_h: (%zu x %zu); ", r->n, a->d_k);
    if (a->heads == 1)
        printf("one head, so C = C_1");
    else if (a->heads == 2)
        printf("concatenated:\nC = [C_1 | C_2]");
    else
        printf("concatenated:\nC = [C_1 | C_2 | ... | C_%zu]", a->heads);
    printf(": (%zu x %zu).\nRow i is token i's new representation: a mix "
           "of the value vectors,\nweighted by its attention row.\n\n", r->n,
           r->width);
    print_vectors(r, "c", r->out.context, r->width);
    printf("\nA transformer block would go on with C W_O, a residual "
           "connection,\nlayer normalisation and a feed-forward network; "
           "this demo stops here.\nTry -pos none -tied to see attention "
           "follow word similarity, -causal for\nthe mask of a decoder, "
           "-svg FILE for a picture.\n");
}

static void print_text(const att_run *r, const att_args *a, const char *path)
{
    show_tokens(r, path);
    show_positions(r, a->sinusoidal);
    show_projections(r, a);
    show_scores(r, a);
    show_weights(r);
    show_context(r, a);
}

/* ---------------------------------------------------------------------- */
/* JSON output                                                             */

static void json_float(float v)
{
    if (isfinite(v))
        printf("%.9g", (double)v);
    else
        fputs("null", stdout);
}

/* m (rows, cols) as [[...],...]. */
static void json_rows(const float *m, size_t rows, size_t cols)
{
    putchar('[');
    for (size_t i = 0; i < rows; i++) {
        fputs(i ? ",[" : "[", stdout);
        for (size_t j = 0; j < cols; j++) {
            if (j)
                putchar(',');
            json_float(m[i * cols + j]);
        }
        putchar(']');
    }
    putchar(']');
}

static void json_matrix(const char *name, const float *m, size_t rows,
                        size_t cols)
{
    printf(",\"%s\":", name);
    json_rows(m, rows, cols);
}

/* heads matrices (n, n) as [[[...]]], head 0 first. */
static void json_heads(const char *name, const float *m, size_t heads,
                       size_t n)
{
    printf(",\"%s\":[", name);
    for (size_t h = 0; h < heads; h++) {
        if (h)
            putchar(',');
        json_rows(m + h * n * n, n, n);
    }
    putchar(']');
}

static void json_tokens(const att_run *r)
{
    size_t unk = w2v_tokenizer_unk_id(r->tok);
    fputs(",\"tokens\":[", stdout);
    for (size_t i = 0; i < r->n; i++) {
        fputs(i ? ",{\"token\":" : "{\"token\":", stdout);
        query_json_cstr(stdout, r->labels[i]);
        printf(",\"id\":%zu%s}", r->enc.tokens[i].id,
               r->enc.tokens[i].id == unk ? ",\"unknown\":true" : "");
    }
    putchar(']');
}

static void print_json(const att_run *r, const att_args *a, const char *path)
{
    fputs("{\"model\":", stdout);
    query_json_cstr(stdout, path);
    fputs(",\"normalised\":", stdout);
    query_json_string(stdout, r->enc.text, r->enc.text_len);
    printf(",\"vocab_size\":%zu,\"n\":%zu,\"d_model\":%zu,\"heads\":%zu,"
           "\"d_k\":%zu,\"causal\":%s,\"tied\":%s,\"pos\":\"%s\","
           "\"seed\":%llu,\"weights_from\":%s", w2v_tokenizer_unk_id(r->tok),
           r->n, r->dim, a->heads, a->d_k, a->causal ? "true" : "false",
           a->tied ? "true" : "false",
           a->sinusoidal ? "sinusoidal" : "none", (unsigned long long)a->seed,
           a->wq ? "\"files\"" : "\"seed\"");
    if (r->focus < r->n)
        printf(",\"focus\":%zu", r->focus);
    json_tokens(r);
    json_matrix("embeddings", r->emb, r->n, r->dim);
    json_matrix("positional", r->pe, r->n, r->dim);
    json_matrix("x", r->x, r->n, r->dim);
    json_matrix("w_q", r->w[0], r->dim, r->width);
    json_matrix("w_k", r->w[1], r->dim, r->width);
    json_matrix("w_v", r->w[2], r->dim, r->width);
    json_matrix("q", r->out.q, r->n, r->width);
    json_matrix("k", r->out.k, r->n, r->width);
    json_matrix("v", r->out.v, r->n, r->width);
    json_heads("scores", r->out.scores, r->out.heads, r->n);
    json_heads("weights", r->out.weights, r->out.heads, r->n);
    json_matrix("context", r->out.context, r->n, r->width);
    fputs("}\n", stdout);
}

/* ---------------------------------------------------------------------- */
/* The heatmap                                                             */

static int draw_svg(const att_run *r, const att_args *a)
{
    char title[512];
    int n = snprintf(title, sizeof title, "Self-attention, %zu head%s, d_k "
                     "%zu%s%s: ", a->heads, a->heads == 1 ? "" : "s",
                     a->d_k, a->causal ? ", causal" : "",
                     a->sinusoidal ? "" : ", no positions");
    for (size_t i = 0; i < r->n && n > 0 && (size_t)n < sizeof title; i++)
        n += snprintf(title + n, sizeof title - (size_t)n, "%s%s",
                      i ? " " : "", r->labels[i]);
    w2v_error err;
    w2v_error_clear(&err);
    if (w2v_attention_svg(a->svg, &r->out, (const char *const *)r->labels,
                          title, a->causal, &err) != W2V_OK)
        return fail_msg(&err, CLI_EXIT_FAIL);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Main                                                                    */

static int attend(att_args *a, const char *text, size_t len)
{
    att_run r;
    memset(&r, 0, sizeof r);
    const char *path = query_model_path(a->model_path);
    int rc = query_load(PROG, path, &r.model);
    if (rc == 0) {
        r.dim = w2v_model_dim(r.model);
        rc = tokenize(&r, text, len, a->svg != NULL);
    }
    if (rc == 0)
        rc = find_focus(&r, a->focus);
    if (rc == 0)
        rc = make_weights(&r, a);
    if (rc == 0)
        rc = build_inputs(&r, a->sinusoidal);
    w2v_error err;
    w2v_error_clear(&err);
    if (rc == 0 && w2v_attention_forward(r.x, r.n, r.dim, r.w[0], r.w[1],
                                         r.w[2], a->heads, a->d_k, a->causal,
                                         &r.out, &err) != W2V_OK)
        rc = fail_msg(&err, err.code == W2V_ERR_ARG ? CLI_EXIT_USAGE
                                                    : CLI_EXIT_FAIL);
    if (rc == 0 && a->svg)
        rc = draw_svg(&r, a);
    if (rc == 0 && a->json)
        print_json(&r, a, path);
    else if (rc == 0)
        print_text(&r, a, path);
    if (rc == 0 && a->svg && !a->json)
        printf("\nwrote %s: the weights as a heatmap, one panel per head\n",
               a->svg);
    run_free(&r);
    if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, PROG ": cannot write standard output\n");
        rc = CLI_EXIT_FAIL;
    }
    return rc;
}

static void print_help(const cli_option *opts)
{
    printf(
        "Usage: " PROG " [options] SENTENCE...\n"
        "Runs one layer of self-attention over SENTENCE (the arguments\n"
        "joined by spaces) with the model's vectors as the token embeddings,\n"
        "and prints every step: tokens and embeddings, positional encodings,\n"
        "the projections Q, K, V, scores Q K^T / sqrt(d_k) and their\n"
        "softmax, the attention weights per head, the weights of the -focus\n"
        "token sorted, and the context vectors.\n"
        "\n"
        "The sentence is tokenized as w2v-tokenize does; an unknown word\n"
        "becomes " W2V_TOKEN_UNK " with a note. At most %d tokens (%d with\n"
        "-svg). -dk is in [1, %d], -heads in [1, %d], -heads x -dk at most\n"
        "%d; -dk defaults to D / heads (D the model's dimension), or with\n"
        "-wq -wk -wv to the files' columns / heads. Weight files are .npy\n"
        "float32 (<f4, C order) of shape (D, heads x d_k), as numpy.save\n"
        "writes them.\n"
        "Exit status: 0 done, 1 out of memory or output failed, 2 a bad\n"
        "command line, sentence, model or weight file.\n\nOptions:\n",
        W2V_ATTENTION_MAX_TOKENS, W2V_ATTENTION_SVG_MAX_TOKENS,
        W2V_ATTENTION_MAX_DK,
        W2V_ATTENTION_MAX_HEADS, W2V_ATTENTION_MAX_WIDTH);
    cli_print_options(opts);
}

int main(int argc, char **argv)
{
    att_args a = {0};
    a.pos = "sinusoidal";
    a.heads = 2;
    a.seed = 1;
    cli_option opts[] = {
        {"model", NULL, CLI_STRING, &a.model_path, 0, 0, "FILE",
         "the model (default $W2V_MODEL, else ./vectors.bin)"},
        {"pos", NULL, CLI_STRING, &a.pos, 0, 0, "none|sinusoidal",
         "positional encoding added to the embeddings (default sinusoidal)"},
        {"dk", NULL, CLI_SIZE, &a.d_k, 1, W2V_ATTENTION_MAX_DK, "N",
         "dimensions per head (default D / heads)"},
        {"heads", NULL, CLI_SIZE, &a.heads, 1, W2V_ATTENTION_MAX_HEADS, "N",
         "attention heads (default 2)"},
        {"seed", NULL, CLI_U64, &a.seed, 0, 18446744073709551615.0, "N",
         "seed of the random W_Q, W_K, W_V (default 1)"},
        {"wq", NULL, CLI_STRING, &a.wq, 0, 0, "FILE", "W_Q from a .npy file"},
        {"wk", NULL, CLI_STRING, &a.wk, 0, 0, "FILE", "W_K from a .npy file"},
        {"wv", NULL, CLI_STRING, &a.wv, 0, 0, "FILE", "W_V from a .npy file"},
        {"causal", NULL, CLI_SWITCH, &a.causal, 0, 0, NULL,
         "mask the future: token i attends only to tokens 0..i"},
        {"tied", NULL, CLI_SWITCH, &a.tied, 0, 0, NULL,
         "use W_K = W_Q: scores become similarities of the tokens"},
        {"focus", NULL, CLI_STRING, &a.focus, 0, 0, "WORD",
         "list the weights this token of the sentence gives, sorted"},
        {"svg", NULL, CLI_STRING, &a.svg, 0, 0, "FILE",
         "draw the weights as a heatmap, one panel per head"},
        {"json", NULL, CLI_SWITCH, &a.json, 0, 0, NULL,
         "print every matrix as one JSON object instead"},
        {NULL, NULL, 0, NULL, 0, 0, NULL, NULL},
    };
    int npos = 0, help = 0;
    int rc = cli_parse(PROG, opts, argc, argv, &npos, &help);
    if (rc != 0)
        return rc;
    if (help) {
        print_help(opts);
        return CLI_EXIT_OK;
    }
    if (strcmp(a.pos, "sinusoidal") == 0) {
        a.sinusoidal = 1;
    } else if (strcmp(a.pos, "none") != 0) {
        fprintf(stderr, PROG ": -pos \"%s\": expected none or sinusoidal\n",
                a.pos);
        return CLI_EXIT_USAGE;
    }
    if (a.d_k != 0 && a.heads * a.d_k > W2V_ATTENTION_MAX_WIDTH) {
        fprintf(stderr, PROG ": -heads %zu x -dk %zu = %zu is more than %d\n",
                a.heads, a.d_k, a.heads * a.d_k, W2V_ATTENTION_MAX_WIDTH);
        return CLI_EXIT_USAGE;
    }
    if (npos == 0) {
        fprintf(stderr, PROG ": no sentence given (see -help)\n");
        return CLI_EXIT_USAGE;
    }
    size_t len = 0;
    char *text = cli_join_args(argv + 1, npos, &len);
    if (text == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return CLI_EXIT_FAIL;
    }
    rc = attend(&a, text, len);
    free(text);
    return rc;
}
