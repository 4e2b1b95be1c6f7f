/*
 * w2v-project - 2-D maps of a model's words: PCA or t-SNE coordinates as
 * CSV, TensorBoard Projector TSV files and an SVG scatter plot.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "query.h"
#include "w2v/w2v.h"

#define PROG "w2v-project"

/* -skip and -k before parsing: tells "not given" from a given value. */
#define NOT_GIVEN ((size_t)-1)

typedef struct settings {
    const char *model_path;
    size_t top, skip, k;
    const char *words_file, *around;
    const char *method;
    double perplexity, theta;
    int iter, threads, quiet;
    uint64_t seed;
    const char *csv, *tsv, *svg, *title;
    int top_given, tsne;
} settings;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void usage(const cli_option *opts)
{
    printf(
        "Usage: " PROG " [options] (-top N | -words FILE | -around W1,W2,...)"
        "\n          (-csv FILE | -tsv PREFIX | -svg FILE)...\n"
        "Projects word vectors to two dimensions with PCA or t-SNE and\n"
        "writes the coordinates (CSV), TensorBoard Projector files (TSV)\n"
        "and a labelled scatter plot (SVG).\n"
        "\n"
        "Words: -top N takes the N most frequent after the first -skip;\n"
        "-words FILE one word a line, optionally followed by a tab or\n"
        "space and a group label (lines starting with # are comments);\n"
        "-around takes each seed and its -k nearest neighbours as a group.\n"
        "Unknown words are reported and skipped. Vectors are scaled to\n"
        "unit length before projecting, so distances follow cosine.\n"
        "\n"
        "Exit status: 0 done, 1 an output could not be written, 2 a bad\n"
        "command line, model or word list.\n\nOptions:\n");
    cli_print_options(opts);
}

/* Splits a comma-separated list in place into words (at most max). */
static size_t split_seeds(char *list, char **words, size_t max)
{
    size_t n = 0;
    for (char *tok = strtok(list, ","); tok != NULL && n < max;
         tok = strtok(NULL, ","))
        if (tok[0] != '\0')
            words[n++] = tok;
    return n;
}

/* The word set asked for on the command line; prints why on failure. */
static int choose_words(const settings *s, const query_model *q,
                        w2v_wordset **ws)
{
    w2v_error err;
    w2v_error_clear(&err);
    int code;
    if (s->words_file != NULL) {
        code = w2v_wordset_read(q->model, s->words_file, ws, &err);
    } else if (s->around != NULL) {
        char *list = malloc(strlen(s->around) + 1);
        char **seeds = malloc((strlen(s->around) / 2 + 1) * sizeof *seeds);
        if (list == NULL || seeds == NULL) {
            free(list);
            free(seeds);
            fprintf(stderr, PROG ": out of memory\n");
            return CLI_EXIT_FAIL;
        }
        memcpy(list, s->around, strlen(s->around) + 1);
        size_t n = split_seeds(list, seeds, strlen(s->around) / 2 + 1);
        code = w2v_wordset_around(q->model, q->knn,
                                  (const char *const *)seeds, n, s->k, ws,
                                  &err);
        free(list);
        free(seeds);
    } else {
        code = w2v_wordset_top(q->model, s->skip, s->top, ws, &err);
    }
    if (code != W2V_OK) {
        fprintf(stderr, PROG ": %s\n", err.message);
        return code == W2V_ERR_NOMEM ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < w2v_wordset_n_missing(*ws); i++) {
        size_t line = 0;
        int repeated = 0;
        const char *w = w2v_wordset_missing(*ws, i, &line, &repeated);
        if (line > 0)
            fprintf(stderr, PROG ": %s:%zu: %s word \"%s\" skipped\n",
                    s->words_file, line, repeated ? "repeated" : "unknown", w);
        else
            fprintf(stderr, PROG ": %s seed \"%s\" skipped\n",
                    repeated ? "repeated" : "unknown", w);
    }
    return 0;
}

/*
 * Opens and abandons each output once, so that an unwritable path fails
 * before minutes of t-SNE rather than after.
 */
static int probe_output(const char *path)
{
    FILE *fp = fopen(path, "ab");
    if (fp == NULL) {
        fprintf(stderr, PROG ": cannot write output %s: %s\n", path,
                strerror(errno));
        return CLI_EXIT_FAIL;
    }
    fclose(fp);
    return 0;
}

static int probe_outputs(const settings *s)
{
    /* Probing creates missing files; remove what did not exist before. */
    const char *paths[4] = {s->csv, s->svg, NULL, NULL};
    char *tsv[2] = {NULL, NULL};
    if (s->tsv != NULL) {
        size_t len = strlen(s->tsv) + 16;
        tsv[0] = malloc(len);
        tsv[1] = malloc(len);
        if (tsv[0] == NULL || tsv[1] == NULL) {
            free(tsv[0]);
            free(tsv[1]);
            return CLI_EXIT_FAIL;
        }
        snprintf(tsv[0], len, "%s_vectors.tsv", s->tsv);
        snprintf(tsv[1], len, "%s_metadata.tsv", s->tsv);
        paths[2] = tsv[0];
        paths[3] = tsv[1];
    }
    int rc = 0;
    for (int i = 0; i < 4 && rc == 0; i++) {
        if (paths[i] == NULL)
            continue;
        FILE *old = fopen(paths[i], "rb");
        rc = probe_output(paths[i]);
        if (old != NULL)
            fclose(old);
        else if (rc == 0)
            remove(paths[i]);
    }
    free(tsv[0]);
    free(tsv[1]);
    return rc;
}

static int progress(int it, int total, double kl, void *user)
{
    const int *quiet = user;
    if (!*quiet)
        fprintf(stderr, PROG ": t-SNE iteration %4d/%d  KL divergence "
                "%.4f\n", it, total, kl);
    return 0;
}

/* Sum of the column variances of x (n, dim), n >= 2. */
static double total_variance(const float *x, size_t n, size_t dim)
{
    double total = 0;
    for (size_t j = 0; j < dim; j++) {
        double s = 0, ss = 0;
        for (size_t i = 0; i < n; i++) {
            s += x[i * dim + j];
            ss += (double)x[i * dim + j] * x[i * dim + j];
        }
        total += (ss - s * s / (double)n) / (double)(n - 1);
    }
    return total;
}

/* (n, 2) coordinates of the vectors x (n, dim) by the chosen method. */
static int project(const settings *s, const float *x, size_t n, size_t dim,
                   float *xy, char *about, size_t about_cap)
{
    w2v_error err;
    w2v_error_clear(&err);
    double t0 = now();
    int code;
    int quiet = s->quiet;
    if (s->tsne) {
        w2v_tsne_options o = w2v_tsne_options_default();
        o.perplexity = s->perplexity;
        o.iterations = s->iter;
        o.seed = s->seed;
        o.theta = s->theta;
        o.threads = s->threads;
        o.progress = progress;
        o.progress_user = &quiet;
        code = w2v_tsne(x, n, dim, &o, xy, &err);
        snprintf(about, about_cap, "t-SNE of %zu words, perplexity %g, "
                 "%d iterations", n, s->perplexity, s->iter);
    } else {
        double var[2] = {0, 0};
        code = w2v_pca(x, n, dim, dim >= 2 ? 2 : 1, xy, var, &err);
        if (code == W2V_OK && dim < 2)
            for (size_t i = n; i-- > 0;) {
                xy[2 * i] = xy[i];
                xy[2 * i + 1] = 0;
            }
        double total = total_variance(x, n, dim);
        snprintf(about, about_cap, "PCA of %zu words; the axes hold %.1f%% "
                 "and %.1f%% of the variance", n,
                 total > 0 ? 100 * var[0] / total : 0,
                 total > 0 ? 100 * var[1] / total : 0);
    }
    if (code != W2V_OK) {
        fprintf(stderr, PROG ": %s\n", err.message);
        return code == W2V_ERR_ARG ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }
    if (!s->quiet)
        fprintf(stderr, PROG ": %s in %.2f s\n", about, now() - t0);
    return 0;
}

static int write_outputs(const settings *s, const w2v_wordset *ws,
                         const w2v_model *m, const float *xy,
                         const char *about)
{
    w2v_error err;
    w2v_error_clear(&err);
    int code = W2V_OK;
    if (s->csv != NULL && code == W2V_OK)
        code = w2v_project_write_csv(s->csv, ws, xy, &err);
    if (s->tsv != NULL && code == W2V_OK) {
        float *raw = NULL;
        code = w2v_wordset_vectors(ws, m, 0, &raw, &err);
        if (code == W2V_OK)
            code = w2v_project_write_tsv(s->tsv, ws, raw, w2v_model_dim(m),
                                         &err);
        free(raw);
    }
    if (s->svg != NULL && code == W2V_OK) {
        w2v_plot_options o = w2v_plot_options_default();
        o.title = s->title;
        o.subtitle = about;
        o.x_label = s->tsne ? "t-SNE 1" : "principal component 1";
        o.y_label = s->tsne ? "t-SNE 2" : "principal component 2";
        /* t-SNE's axes have no meaning of their own; PCA's scales do. */
        o.max_stretch = s->tsne ? 1.6 : 1;
        code = w2v_project_write_svg(s->svg, ws, xy, &o, &err);
    }
    if (code != W2V_OK) {
        fprintf(stderr, PROG ": %s\n", err.message);
        return CLI_EXIT_FAIL;
    }
    if (!s->quiet) {
        if (s->csv != NULL)
            fprintf(stderr, PROG ": wrote %s\n", s->csv);
        if (s->tsv != NULL)
            fprintf(stderr, PROG ": wrote %s_vectors.tsv and "
                    "%s_metadata.tsv\n", s->tsv, s->tsv);
        if (s->svg != NULL)
            fprintf(stderr, PROG ": wrote %s\n", s->svg);
    }
    return 0;
}

/* Checks of the command line that need the number of words. */
static int check_counts(const settings *s, size_t n)
{
    if (n < 3) {
        fprintf(stderr, PROG ": only %zu word%s to project; a map needs at "
                "least 3\n", n, n == 1 ? "" : "s");
        return CLI_EXIT_USAGE;
    }
    double max_perp = (double)(n - 1) / 3;
    if (s->tsne && s->perplexity > max_perp) {
        fprintf(stderr, PROG ": -perplexity %g is too large for %zu words: "
                "at most (words - 1) / 3 = %.4g\n", s->perplexity, n,
                max_perp);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

static int run(const settings *s)
{
    int rc = probe_outputs(s);
    if (rc != 0)
        return rc;
    query_model q;
    rc = query_open(PROG, s->model_path, 0, &q);
    if (rc != 0)
        return rc;
    w2v_wordset *ws = NULL;
    float *x = NULL, *xy = NULL;
    w2v_error err;
    w2v_error_clear(&err);
    char about[256] = "";
    rc = choose_words(s, &q, &ws);
    if (rc == 0)
        rc = check_counts(s, w2v_wordset_size(ws));
    if (rc == 0 && w2v_wordset_vectors(ws, q.model, 1, &x, &err) != W2V_OK) {
        fprintf(stderr, PROG ": %s\n", err.message);
        rc = CLI_EXIT_FAIL;
    }
    size_t n = ws != NULL ? w2v_wordset_size(ws) : 0;
    if (rc == 0 && (xy = malloc(2 * n * sizeof *xy)) == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        rc = CLI_EXIT_FAIL;
    }
    if (rc == 0)
        rc = project(s, x, n, w2v_model_dim(q.model), xy, about,
                     sizeof about);
    if (rc == 0)
        rc = write_outputs(s, ws, q.model, xy, about);
    free(x);
    free(xy);
    w2v_wordset_free(ws);
    query_close(&q);
    return rc;
}

/* Checks the combination of options; prints why not. */
static int check_settings(settings *s, int npos, char **argv)
{
    if (npos > 0) {
        fprintf(stderr, PROG ": unexpected argument \"%s\" (options start "
                "with -)\n", argv[1]);
        return CLI_EXIT_USAGE;
    }
    int sources = (s->top_given != 0) + (s->words_file != NULL) +
                  (s->around != NULL);
    if (sources != 1) {
        fprintf(stderr, PROG ": %s: use one of -top N, -words FILE or "
                "-around W1,W2,... (see " PROG " -help)\n",
                sources ? "more than one word source" : "no words chosen");
        return CLI_EXIT_USAGE;
    }
    if (s->skip != NOT_GIVEN && !s->top_given) {
        fprintf(stderr, PROG ": -skip goes with -top\n");
        return CLI_EXIT_USAGE;
    }
    if (s->k != NOT_GIVEN && s->around == NULL) {
        fprintf(stderr, PROG ": -k goes with -around\n");
        return CLI_EXIT_USAGE;
    }
    if (s->skip == NOT_GIVEN)
        s->skip = 0;
    if (s->k == NOT_GIVEN)
        s->k = 20;
    if (s->csv == NULL && s->tsv == NULL && s->svg == NULL) {
        fprintf(stderr, PROG ": nothing to write: give -csv FILE, -tsv "
                "PREFIX and/or -svg FILE\n");
        return CLI_EXIT_USAGE;
    }
    if (strcmp(s->method, "tsne") == 0 || strcmp(s->method, "t-sne") == 0) {
        s->tsne = 1;
    } else if (strcmp(s->method, "pca") != 0) {
        fprintf(stderr, PROG ": -method \"%s\": use pca or tsne\n",
                s->method);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int main(int argc, char **argv)
{
    settings s;
    memset(&s, 0, sizeof s);
    s.k = NOT_GIVEN;
    s.skip = NOT_GIVEN;
    s.method = "tsne";
    s.perplexity = 30;
    s.theta = 0.5;
    s.iter = 1000;
    s.threads = 2;
    s.seed = 1;
    s.title = "Word vectors in two dimensions";
    s.top = 0;
    const cli_option opts[] = {
        {"model", NULL, CLI_STRING, &s.model_path, 0, 0, "FILE",
         "model (default $W2V_MODEL, else ./vectors.bin)"},
        {"top", NULL, CLI_SIZE, &s.top, 1, 1e9, "N",
         "the N most frequent words (after -skip)"},
        {"skip", NULL, CLI_SIZE, &s.skip, 0, 1e9, "N",
         "with -top: leave out the N most frequent first (default 0)"},
        {"words", NULL, CLI_STRING, &s.words_file, 0, 0, "FILE",
         "words from FILE: WORD [GROUP] a line"},
        {"around", NULL, CLI_STRING, &s.around, 0, 0, "W1,W2",
         "seed words and their -k nearest neighbours, grouped by seed"},
        {"k", NULL, CLI_SIZE, &s.k, 0, 10000, "N",
         "with -around: neighbours per seed (default 20)"},
        {"method", NULL, CLI_STRING, &s.method, 0, 0, "M",
         "pca or tsne (default tsne)"},
        {"perplexity", NULL, CLI_DOUBLE, &s.perplexity, 1, 1e6, "P",
         "t-SNE effective neighbours (default 30)"},
        {"iter", NULL, CLI_INT, &s.iter, 1, 1000000, "N",
         "t-SNE iterations (default 1000)"},
        {"seed", NULL, CLI_U64, &s.seed, 0, 18446744073709551615.0, "N",
         "t-SNE random seed (default 1)"},
        {"theta", NULL, CLI_DOUBLE, &s.theta, 0, 10, "T",
         "t-SNE Barnes-Hut accuracy, 0 = exact (default 0.5)"},
        {"threads", NULL, CLI_INT, &s.threads, 1, 64, "N",
         "t-SNE threads (default 2)"},
        {"csv", NULL, CLI_STRING, &s.csv, 0, 0, "FILE",
         "write word,x,y[,group] CSV"},
        {"tsv", NULL, CLI_STRING, &s.tsv, 0, 0, "PREFIX",
         "write PREFIX_vectors.tsv and PREFIX_metadata.tsv"},
        {"svg", NULL, CLI_STRING, &s.svg, 0, 0, "FILE",
         "write a labelled 1200x900 scatter plot"},
        {"title", NULL, CLI_STRING, &s.title, 0, 0, "TEXT",
         "plot title"},
        {"quiet", NULL, CLI_SWITCH, &s.quiet, 0, 0, NULL,
         "no progress on stderr"},
        {NULL, NULL, 0, NULL, 0, 0, NULL, NULL},
    };
    int npos = 0, help = 0;
    int rc = cli_parse(PROG, opts, argc, argv, &npos, &help);
    if (rc != 0)
        return rc;
    if (help) {
        usage(opts);
        return CLI_EXIT_OK;
    }
    s.top_given = s.top > 0;
    rc = check_settings(&s, npos, argv);
    if (rc != 0)
        return rc;
    return run(&s);
}
