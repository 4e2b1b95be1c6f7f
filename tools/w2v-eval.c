/*
 * w2v-eval - scores a model on the Google analogy questions and on
 * word-similarity sets, with gensim's conventions (see w2v/eval.h), as a
 * table or as JSON.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "query.h"
#include "w2v/eval.h"
#include "w2v/w2v.h"

#define PROG "w2v-eval"
#define DEFAULT_ANALOGIES "eval/questions-words.txt"

/* Malformed lines printed per file; the JSON output lists them all. */
#define MAX_SKIPS_SHOWN 20

typedef struct settings {
    const char *model, *analogies, *method, *format;
    const char **similarity; /* (n_similarity) -similarity files */
    size_t n_similarity;
    size_t restrict_n, restrict_sim;
    double epsilon;
    int case_sensitive, no_analogies, naive, details;
} settings;

/* One -similarity file and what became of it. */
typedef struct sim_file {
    const char *path;
    w2v_pair_set *set;
    w2v_similarity_result *res;
} sim_file;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Library status -> exit status: unreadable or bad input is a usage
 * matter (2), anything else (memory) a failure (1). */
static int exit_for(int code)
{
    return code == W2V_ERR_IO || code == W2V_ERR_FORMAT ||
                   code == W2V_ERR_EMPTY
               ? CLI_EXIT_USAGE
               : CLI_EXIT_FAIL;
}

/* ---------------------------------------------------------------------- */
/* Command line                                                            */

/*
 * cli_parse keeps one value per option, and -similarity may be given many
 * times: take every "-similarity FILE" (any spelling cli_parse accepts)
 * out of argv first. Returns 0, or CLI_EXIT_USAGE after a message.
 */
static int take_similarity(int *argc, char **argv, settings *st)
{
    st->similarity = malloc((size_t)*argc * sizeof *st->similarity);
    if (st->similarity == NULL) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        return CLI_EXIT_FAIL;
    }
    int kept = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) { /* the rest are not options */
            while (i < *argc)
                argv[kept++] = argv[i++];
            break;
        }
        const char *name = a[0] == '-' ? a + 1 + (a[1] == '-') : NULL;
        size_t len = strlen("similarity");
        if (name == NULL || strncmp(name, "similarity", len) != 0 ||
            (name[len] != '\0' && name[len] != '=')) {
            argv[kept++] = argv[i];
            continue;
        }
        const char *value = name[len] == '=' ? name + len + 1 : NULL;
        if (value == NULL) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "%s: -similarity needs a value (FILE)\n",
                        PROG);
                return CLI_EXIT_USAGE;
            }
            value = argv[++i];
        }
        if (value[0] == '\0') {
            fprintf(stderr, "%s: -similarity \"\": empty value\n", PROG);
            return CLI_EXIT_USAGE;
        }
        st->similarity[st->n_similarity++] = value;
    }
    *argc = kept;
    return 0;
}

static void usage(const cli_option *opts)
{
    printf("Usage: w2v-eval [-model FILE] [-analogies FILE] [-similarity "
           "FILE ...] [options]\n"
           "Scores word vectors on the Google analogy questions (\"a b c "
           "d\": a is to b as c\nis to ?) and on word-similarity sets "
           "(Spearman's rho against human scores).\nThe figures are those "
           "of gensim's evaluate_word_analogies(restrict_vocab=30000,\n"
           "case_insensitive=True) and evaluate_word_pairs: words are "
           "compared in upper\ncase, the most frequent case variant stands "
           "for all, a question with a word\noutside the restriction is "
           "skipped and counted as coverage.\n\nOptions:\n");
    cli_print_options(opts);
    printf("\nExit status: 0 on success, 2 for a bad command line or an "
           "unreadable model or\nevaluation file, 1 for other failures. "
           "Malformed lines in an evaluation file\nare reported on standard "
           "error with their line number and skipped.\n");
}

/* ---------------------------------------------------------------------- */
/* Messages about skipped lines                                            */

static void report_skips(const char *path, const w2v_eval_skip *sk,
                         size_t n)
{
    for (size_t i = 0; i < n && i < MAX_SKIPS_SHOWN; i++)
        fprintf(stderr, "%s: %s:%zu: %s (line skipped)\n", PROG, path,
                sk[i].line, sk[i].reason);
    if (n > MAX_SKIPS_SHOWN)
        fprintf(stderr, "%s: %s: %zu more malformed lines skipped\n", PROG,
                path, n - MAX_SKIPS_SHOWN);
}

/* ---------------------------------------------------------------------- */
/* Table output                                                            */

static const char *percent(size_t part, size_t whole, char *buf, size_t n)
{
    if (whole == 0)
        snprintf(buf, n, "%s", "n/a");
    else
        snprintf(buf, n, "%.1f%%", 100.0 * (double)part / (double)whole);
    return buf;
}

static void table_row(const w2v_analogy_score *s, int width)
{
    char pct[16];
    size_t attempted = s->correct + s->wrong;
    printf("  %-*s %8zu %10zu %9s %9zu\n", width, s->name, s->correct,
           attempted, percent(s->correct, attempted, pct, sizeof pct),
           s->skipped_oov + s->skipped_restrict);
}

static const char *outcome_name(int outcome)
{
    switch (outcome) {
    case W2V_ANALOGY_CORRECT: return "correct";
    case W2V_ANALOGY_WRONG: return "wrong";
    case W2V_ANALOGY_SKIPPED_OOV: return "oov";
    default: return "restricted";
    }
}

static void table_analogies(const settings *st, const w2v_model *m,
                            const w2v_analogy_set *set,
                            const w2v_analogy_result *r)
{
    char a[32], b[32], c[32], pct[16];
    printf("analogies   %s\n            %s over ", st->analogies,
           strcmp(st->method, "mul") == 0 ? "3CosMul" : "3CosAdd");
    if (r->rows < w2v_model_size(m))
        printf("the %s most frequent words", cli_thousands(r->rows, a,
                                                           sizeof a));
    else
        printf("all %s words", cli_thousands(r->rows, a, sizeof a));
    printf(", %s\n\n", st->case_sensitive ? "case-sensitive"
                                          : "case-insensitive");
    int width = 9;
    for (size_t i = 0; i < r->n_sections; i++)
        if ((int)strlen(r->sections[i].name) > width)
            width = (int)strlen(r->sections[i].name);
    if (width > 40)
        width = 40;
    printf("  %-*s %8s %10s %9s %9s\n", width, "section", "correct",
           "attempted", "accuracy", "skipped");
    for (size_t i = 0; i < r->n_sections; i++)
        table_row(&r->sections[i], width);
    printf("  %.*s\n", width + 40,
           "--------------------------------------------------------------"
           "--------------------------------");
    table_row(&r->semantic, width);
    table_row(&r->syntactic, width);
    table_row(&r->total, width);
    const w2v_analogy_score *t = &r->total;
    size_t attempted = t->correct + t->wrong;
    printf("\n  coverage  %s of %s questions attempted (%s)\n",
           cli_thousands(attempted, a, sizeof a),
           cli_thousands(t->questions, b, sizeof b),
           percent(attempted, t->questions, pct, sizeof pct));
    if (t->skipped_restrict > 0)
        printf("            %s skipped: a word beyond the %s most frequent\n",
               cli_thousands(t->skipped_restrict, a, sizeof a),
               cli_thousands(r->rows, c, sizeof c));
    if (t->skipped_oov > 0)
        printf("            %s skipped: a word not in the model\n",
               cli_thousands(t->skipped_oov, a, sizeof a));
    const w2v_eval_skip *sk;
    size_t n_sk = w2v_analogy_set_skipped(set, &sk);
    if (n_sk > 0)
        printf("            %s malformed line%s skipped (listed on standard "
               "error)\n", cli_thousands(n_sk, a, sizeof a),
               n_sk == 1 ? "" : "s");
    if (st->details) {
        const w2v_vocab *v = w2v_model_vocab(m);
        printf("\n  wrong answers (line: a b c expected -> answer)\n");
        for (size_t i = 0; i < r->n_questions; i++) {
            if (r->answers[i].outcome != W2V_ANALOGY_WRONG)
                continue;
            const char *w[4];
            size_t line;
            w2v_analogy_set_question(set, i, w, NULL, &line);
            printf("  %zu: %s %s %s %s -> %s\n", line, w[0], w[1], w[2],
                   w[3], r->answers[i].predicted >= 0
                             ? w2v_vocab_word(v, (size_t)r->answers[i]
                                                     .predicted)
                             : "(none)");
        }
    }
}

static void table_similarity(const sim_file *f)
{
    char a[32], b[32], pct[16];
    const w2v_similarity_result *r = f->res;
    printf("similarity  %s\n", f->path);
    if (isnan(r->spearman))
        printf("  Spearman rho     n/a (%s)\n",
               r->used < 2 ? "fewer than 2 pairs found" : "a constant side");
    else
        printf("  Spearman rho  %7.4f\n", r->spearman);
    printf("  pairs used    %s of %s (%s)\n", cli_thousands(r->used, a,
                                                            sizeof a),
           cli_thousands(r->pairs, b, sizeof b),
           percent(r->used, r->pairs, pct, sizeof pct));
    if (r->skipped_restrict > 0)
        printf("                %s skipped: a word beyond the restriction\n",
               cli_thousands(r->skipped_restrict, a, sizeof a));
    if (r->skipped_oov > 0)
        printf("                %s skipped: a word not in the model\n",
               cli_thousands(r->skipped_oov, a, sizeof a));
    const w2v_eval_skip *sk;
    size_t n_sk = w2v_pair_set_skipped(f->set, &sk);
    if (n_sk > 0)
        printf("                %s malformed line%s skipped (listed on "
               "standard error)\n", cli_thousands(n_sk, a, sizeof a),
               n_sk == 1 ? "" : "s");
}

/* ---------------------------------------------------------------------- */
/* JSON output                                                             */

/*
 * s as a JSON string: quotes, backslashes and control bytes escaped,
 * well-formed UTF-8 kept, any other byte replaced by U+FFFD so that the
 * output stays valid JSON whatever bytes a word holds.
 */
static void json_string(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    putchar('"');
    while (*p) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            printf("\\%c", c);
            p++;
        } else if (c == '\n') {
            fputs("\\n", stdout);
            p++;
        } else if (c == '\t') {
            fputs("\\t", stdout);
            p++;
        } else if (c < 0x20 || c == 0x7f) {
            printf("\\u%04x", c);
            p++;
        } else if (c < 0x80) {
            putchar(c);
            p++;
        } else {
            size_t n = (c & 0xe0) == 0xc0   ? 2
                       : (c & 0xf0) == 0xe0 ? 3
                       : (c & 0xf8) == 0xf0 ? 4
                                            : 0;
            uint32_t v = n == 2 ? c & 0x1fu : n == 3 ? c & 0x0fu : c & 0x07u;
            size_t k = 1;
            while (k < n && (p[k] & 0xc0) == 0x80)
                v = v << 6 | (p[k++] & 0x3fu);
            int ok = n > 0 && k == n &&
                     v >= (n == 2 ? 0x80u : n == 3 ? 0x800u : 0x10000u) &&
                     v <= 0x10ffff && !(v >= 0xd800 && v <= 0xdfff);
            if (ok)
                fwrite(p, 1, n, stdout);
            else
                fputs("\\ufffd", stdout);
            p += ok ? n : 1;
        }
    }
    putchar('"');
}

/* A number, or null for NaN (JSON has no NaN). */
static void json_number(double v)
{
    if (isfinite(v))
        printf("%.17g", v);
    else
        fputs("null", stdout);
}

static void json_skips(const w2v_eval_skip *sk, size_t n)
{
    printf("[");
    for (size_t i = 0; i < n; i++) {
        printf("%s{\"line\": %zu, \"reason\": ", i ? ", " : "", sk[i].line);
        json_string(sk[i].reason);
        printf("}");
    }
    printf("]");
}

/* A section or a sum; kind is "semantic", "syntactic" or "all". */
static void json_score(const w2v_analogy_score *s, const char *kind)
{
    size_t attempted = s->correct + s->wrong;
    printf("{\"name\": ");
    json_string(s->name);
    printf(", \"kind\": \"%s\", \"questions\": %zu, \"correct\": %zu, "
           "\"wrong\": %zu, \"attempted\": %zu, \"accuracy\": ",
           kind, s->questions, s->correct, s->wrong, attempted);
    json_number(attempted ? (double)s->correct / (double)attempted : NAN);
    printf(", \"skipped_oov\": %zu, \"skipped_restrict\": %zu}",
           s->skipped_oov, s->skipped_restrict);
}

static void json_analogies(const settings *st, const w2v_model *m,
                           const w2v_analogy_set *set,
                           const w2v_analogy_result *r)
{
    printf("  \"analogies\": {\n    \"file\": ");
    json_string(st->analogies);
    printf(",\n    \"method\": \"%s\", \"restrict\": %zu, "
           "\"case_insensitive\": %s, \"epsilon\": ",
           st->method, r->rows, st->case_sensitive ? "false" : "true");
    json_number(st->epsilon);
    printf(",\n    \"sections\": [\n");
    for (size_t i = 0; i < r->n_sections; i++) {
        printf("      ");
        json_score(&r->sections[i],
                   r->sections[i].syntactic ? "syntactic" : "semantic");
        printf("%s\n", i + 1 < r->n_sections ? "," : "");
    }
    printf("    ],\n    \"semantic\": ");
    json_score(&r->semantic, "semantic");
    printf(",\n    \"syntactic\": ");
    json_score(&r->syntactic, "syntactic");
    printf(",\n    \"total\": ");
    json_score(&r->total, "all");
    const w2v_eval_skip *sk;
    size_t n_sk = w2v_analogy_set_skipped(set, &sk);
    printf(",\n    \"malformed\": ");
    json_skips(sk, n_sk);
    if (st->details) {
        const w2v_vocab *v = w2v_model_vocab(m);
        printf(",\n    \"answers\": [\n");
        for (size_t i = 0; i < r->n_questions; i++) {
            const w2v_analogy_answer *ans = &r->answers[i];
            const char *w[4];
            size_t sec, line;
            w2v_analogy_set_question(set, i, w, &sec, &line);
            printf("      {\"line\": %zu, \"section\": %zu, \"words\": [",
                   line, sec);
            for (int k = 0; k < 4; k++) {
                printf("%s", k ? ", " : "");
                json_string(w[k]);
            }
            printf("], \"outcome\": \"%s\", \"answer\": ",
                   outcome_name(ans->outcome));
            if (ans->predicted >= 0)
                json_string(w2v_vocab_word(v, (size_t)ans->predicted));
            else
                printf("null");
            printf(", \"score\": ");
            json_number(ans->score);
            printf("}%s\n", i + 1 < r->n_questions ? "," : "");
        }
        printf("    ]");
    }
    printf("\n  },\n");
}

static void json_similarity(const sim_file *f, int last)
{
    const w2v_similarity_result *r = f->res;
    printf("    {\"file\": ");
    json_string(f->path);
    printf(", \"spearman\": ");
    json_number(r->spearman);
    printf(", \"pairs\": %zu, \"used\": %zu, \"skipped_oov\": %zu, "
           "\"skipped_restrict\": %zu, \"header_line\": %zu, "
           "\"malformed\": ", r->pairs, r->used, r->skipped_oov,
           r->skipped_restrict, w2v_pair_set_header_line(f->set));
    const w2v_eval_skip *sk;
    json_skips(sk, w2v_pair_set_skipped(f->set, &sk));
    printf("}%s\n", last ? "" : ",");
}

/* ---------------------------------------------------------------------- */

/* Loads the evaluation files (before the model: fail fast). */
static int load_sets(const settings *st, w2v_analogy_set **aset,
                     sim_file *sims)
{
    w2v_error err;
    w2v_error_clear(&err);
    if (st->analogies != NULL) {
        int rc = w2v_analogy_set_load(st->analogies, aset, &err);
        if (rc != W2V_OK) {
            fprintf(stderr, "%s: %s\n", PROG, err.message);
            return exit_for(rc);
        }
        const w2v_eval_skip *sk;
        size_t n = w2v_analogy_set_skipped(*aset, &sk);
        report_skips(st->analogies, sk, n);
    }
    for (size_t i = 0; i < st->n_similarity; i++) {
        sims[i].path = st->similarity[i];
        int rc = w2v_pair_set_load(sims[i].path, &sims[i].set, &err);
        if (rc != W2V_OK) {
            fprintf(stderr, "%s: %s\n", PROG, err.message);
            return exit_for(rc);
        }
        const w2v_eval_skip *sk;
        size_t n = w2v_pair_set_skipped(sims[i].set, &sk);
        report_skips(sims[i].path, sk, n);
    }
    return 0;
}

/* Parses the command line into st; 0, or an exit status (-1 = help). */
static int parse_command_line(int argc, char **argv, settings *st)
{
    const char *unused_similarity = NULL;
    const cli_option opts[] = {
        {"model", NULL, CLI_STRING, &st->model, 0, 0, "FILE",
         "model: word2vec text or binary, or native (default "
         "$W2V_MODEL, else vectors.bin)"},
        {"analogies", NULL, CLI_STRING, &st->analogies, 0, 0, "FILE",
         "analogy questions (default " DEFAULT_ANALOGIES ")"},
        {"no-analogies", NULL, CLI_SWITCH, &st->no_analogies, 0, 0, NULL,
         "skip the analogy questions"},
        {"similarity", NULL, CLI_STRING, &unused_similarity, 0, 0, "FILE",
         "word pairs with human scores, e.g. WordSim-353 (repeatable)"},
        {"restrict", NULL, CLI_SIZE, &st->restrict_n, 0, 4e9, "N",
         "analogies use the N most frequent words (default 30000; 0 = all)"},
        {"restrict-similarity", NULL, CLI_SIZE, &st->restrict_sim, 0, 4e9,
         "N", "similarity uses the N most frequent words (default 300000)"},
        {"method", NULL, CLI_STRING, &st->method, 0, 0, "add|mul",
         "3CosAdd (default) or 3CosMul"},
        {"epsilon", NULL, CLI_DOUBLE, &st->epsilon, 0, 1, "E",
         "3CosMul's epsilon (default 0.001; gensim's cosmul uses 1e-6)"},
        {"case-sensitive", NULL, CLI_SWITCH, &st->case_sensitive, 0, 0,
         NULL, "compare words byte for byte, not in upper case"},
        {"format", NULL, CLI_STRING, &st->format, 0, 0, "table|json",
         "output format (default table)"},
        {"details", NULL, CLI_SWITCH, &st->details, 0, 0, NULL,
         "also list every answer (json) or the wrong ones (table)"},
        {"naive", NULL, CLI_SWITCH, &st->naive, 0, 0, NULL,
         "one question at a time with the plain reference loop (slow)"},
        {NULL, NULL, 0, NULL, 0, 0, NULL, NULL}};
    int rc = take_similarity(&argc, argv, st);
    if (rc != 0)
        return rc;
    int npos = 0, help = 0;
    rc = cli_parse(PROG, opts, argc, argv, &npos, &help);
    if (rc != 0)
        return rc;
    if (help) {
        usage(opts);
        return -1;
    }
    if (npos > 0) {
        fprintf(stderr, "%s: unexpected argument \"%s\" (see %s -help)\n",
                PROG, argv[1], PROG);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(st->method, "add") != 0 && strcmp(st->method, "mul") != 0) {
        fprintf(stderr, "%s: -method %s: expected add or mul\n", PROG,
                st->method);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(st->format, "table") != 0 && strcmp(st->format, "json") != 0) {
        fprintf(stderr, "%s: -format %s: expected table or json\n", PROG,
                st->format);
        return CLI_EXIT_USAGE;
    }
    if (st->no_analogies && st->analogies != NULL) {
        fprintf(stderr, "%s: -analogies and -no-analogies together\n", PROG);
        return CLI_EXIT_USAGE;
    }
    if (st->no_analogies && st->n_similarity == 0) {
        fprintf(stderr, "%s: nothing to do: -no-analogies and no "
                "-similarity FILE\n", PROG);
        return CLI_EXIT_USAGE;
    }
    if (!st->no_analogies && st->analogies == NULL) {
        if (access(DEFAULT_ANALOGIES, R_OK) != 0) {
            fprintf(stderr, "%s: no analogy questions at %s\n"
                    "%s: download them with eval/fetch-eval-data.sh, or "
                    "pass -analogies FILE\n%s: (for example -analogies "
                    "../shared/eval/questions-words.txt)\n", PROG,
                    DEFAULT_ANALOGIES, PROG, PROG);
            return CLI_EXIT_USAGE;
        }
        st->analogies = DEFAULT_ANALOGIES;
    }
    st->model = query_model_path(st->model);
    return 0;
}

int main(int argc, char **argv)
{
    settings st;
    memset(&st, 0, sizeof st);
    st.method = "add";
    st.format = "table";
    st.restrict_n = 30000;
    st.restrict_sim = 300000;
    st.epsilon = 0.001;
    int rc = parse_command_line(argc, argv, &st);
    if (rc != 0) {
        free(st.similarity);
        return rc < 0 ? CLI_EXIT_OK : rc;
    }

    w2v_analogy_set *aset = NULL;
    w2v_analogy_result *ares = NULL;
    w2v_model *m = NULL;
    sim_file *sims = calloc(st.n_similarity ? st.n_similarity : 1,
                            sizeof *sims);
    double t_load = 0, t_analogies = 0, t_similarity = 0;
    w2v_error err;
    w2v_error_clear(&err);
    if (sims == NULL) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    if ((rc = load_sets(&st, &aset, sims)) != 0)
        goto done;
    double t0 = now();
    if ((rc = query_load(PROG, st.model, &m)) != 0)
        goto done;
    double t1 = now();
    t_load = t1 - t0;
    if (aset != NULL) {
        w2v_analogy_options ao = w2v_analogy_options_default();
        ao.method = strcmp(st.method, "mul") == 0 ? W2V_ANALOGY_MUL
                                                  : W2V_ANALOGY_ADD;
        ao.restrict_vocab = st.restrict_n;
        ao.case_sensitive = st.case_sensitive;
        ao.mul_epsilon = st.epsilon;
        ao.naive = st.naive;
        if (w2v_eval_analogies(m, aset, &ao, &ares, &err) != W2V_OK) {
            fprintf(stderr, "%s: %s\n", PROG, err.message);
            rc = CLI_EXIT_FAIL;
            goto done;
        }
    }
    double t2 = now();
    t_analogies = t2 - t1;
    w2v_similarity_options so = w2v_similarity_options_default();
    so.restrict_vocab = st.restrict_sim;
    so.case_sensitive = st.case_sensitive;
    for (size_t i = 0; i < st.n_similarity; i++)
        if (w2v_eval_similarity(m, sims[i].set, &so, &sims[i].res, &err) !=
            W2V_OK) {
            fprintf(stderr, "%s: %s: %s\n", PROG, sims[i].path, err.message);
            rc = CLI_EXIT_FAIL;
            goto done;
        }
    t_similarity = now() - t2;

    char a[32];
    if (strcmp(st.format, "json") == 0) {
        printf("{\n  \"model\": ");
        json_string(st.model);
        printf(", \"words\": %zu, \"dim\": %zu,\n", w2v_model_size(m),
               w2v_model_dim(m));
        if (ares != NULL)
            json_analogies(&st, m, aset, ares);
        printf("  \"similarity\": [\n");
        for (size_t i = 0; i < st.n_similarity; i++)
            json_similarity(&sims[i], i + 1 == st.n_similarity);
        printf("  ],\n  \"seconds\": {\"load\": %.6f, \"analogies\": %.6f, "
               "\"similarity\": %.6f}\n}\n", t_load, t_analogies,
               t_similarity);
    } else {
        printf("model       %s (%s words, %zu dimensions)\n", st.model,
               cli_thousands(w2v_model_size(m), a, sizeof a),
               w2v_model_dim(m));
        if (ares != NULL) {
            printf("\n");
            table_analogies(&st, m, aset, ares);
        }
        for (size_t i = 0; i < st.n_similarity; i++) {
            printf("\n");
            table_similarity(&sims[i]);
        }
        printf("\ntime        load %.2f s, analogies %.2f s, similarity "
               "%.2f s\n", t_load, t_analogies, t_similarity);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: cannot write the output\n", PROG);
        rc = CLI_EXIT_FAIL;
    }

done:
    for (size_t i = 0; sims != NULL && i < st.n_similarity; i++) {
        w2v_pair_set_free(sims[i].set);
        w2v_similarity_result_free(sims[i].res);
    }
    free(sims);
    w2v_analogy_result_free(ares);
    w2v_analogy_set_free(aset);
    w2v_model_free(m);
    free(st.similarity);
    return rc;
}
