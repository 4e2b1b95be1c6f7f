/*
 * w2v-train - learn word vectors from a text corpus.
 *
 * A thin front end over the library: parse and validate the command line,
 * build (or read) the vocabulary, train, write the vectors. Progress goes
 * to stderr; the output file appears complete or not at all.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "w2v/w2v.h"

typedef struct settings {
    const char *corpus;
    const char *output;
    const char *save_vocab;
    const char *read_vocab;
    int binary;         /* -binary 0|1, or -1 when not given */
    const char *format_name; /* -format, or NULL */
    int format;         /* enum w2v_format, from the two above */
    int cbow;
    int quiet;
    const char *checkpoint;   /* -checkpoint, or NULL */
    double checkpoint_every;  /* minutes; 0 = not given */
    int periodic;             /* checkpoints during the run, not only on
                                 a signal */
    const char *resume;       /* -resume, or NULL */
    char checkpoint_buf[4096];  /* OUTPUT.ckpt, when derived */
    uint64_t resumed_words;   /* words the checkpoint had done already */
    uint64_t min_count;
    size_t max_vocab;
    w2v_train_options train;
} settings;

typedef struct progress_state {
    int tty;
    int quiet;
    double last_line;   /* elapsed seconds at the last non-tty line */
    int drawn;          /* a tty line is on screen */
    const char *checkpoint;  /* where periodic checkpoints go, or NULL */
} progress_state;

/*
 * The signal handler's view of the run: the one piece of mutable global
 * state in the tool, since a handler has no other way in. The first SIGINT
 * or SIGTERM asks the trainer to stop (the checkpoint and the vectors so
 * far are then written); a second one exits at once, and the files
 * written last, always renamed into place whole, stay intact. Before
 * training starts there is nothing to save, so the first one exits.
 */
static w2v_trainer *volatile signal_trainer;
static volatile sig_atomic_t signal_caught;

static void on_signal(int sig)
{
    if (signal_caught || signal_trainer == NULL)
        _exit(128 + sig);
    signal_caught = sig;
    w2v_trainer_stop(signal_trainer);
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void usage(const cli_option *opts)
{
    printf("Usage: w2v-train -corpus FILE [options]\n"
           "Learns word vectors from FILE (plain text or gzip, \"-\" for "
           "standard input;\nwhitespace separates words, a newline ends a "
           "sentence) and writes them in the\nword2vec binary format, or as "
           "-format says.\n\nOptions:\n");
    cli_print_options(opts);
    printf("\nThe default architecture is skip-gram (-cbow 0), the better "
           "choice on corpora of\ntext8's size; the original word2vec.c "
           "defaults to CBOW. -alpha defaults to\n0.05 (0.025 for "
           "skip-gram with -hs 1; word2vec.c: 0.025 for skip-gram, 0.05\nfor "
           "CBOW).\n\n"
           "Checkpoints: with -checkpoint FILE (or -checkpoint-every MIN, "
           "or -resume)\nthe whole run state is saved every MIN minutes "
           "(default 10). Ctrl-C or\nSIGTERM stops the workers, saves a "
           "checkpoint (to FILE, else OUTPUT.ckpt)\nand the vectors so far, "
           "and exits with 128 + the signal number; a second\nCtrl-C exits "
           "at once. Run the same command with -resume FILE to go on;\nwith "
           "-threads 1 the result is the same, byte for byte, as a run that "
           "never\nstopped.\n\nExample:\n  w2v-train -corpus text8.gz "
           "-size 300 -output vectors.bin\n");
}

static void draw_progress(const w2v_progress *p, void *user)
{
    progress_state *s = user;
    if (s->quiet)
        return;
    char rate[32], per[32], el[32], eta[32];
    cli_si(p->words_per_sec, rate, sizeof rate);
    cli_si(p->words_per_sec / p->threads, per, sizeof per);
    cli_duration(p->elapsed, el, sizeof el);
    cli_duration(p->eta, eta, sizeof eta);
    if (p->done) {
        if (s->drawn)
            fputc('\n', stderr);
        return;
    }
    if (!s->tty) {
        /* Logs get a line every 10 seconds, not a stream of \r updates. */
        if (p->elapsed - s->last_line < 10)
            return;
        s->last_line = p->elapsed;
    }
    char bar[21];
    int fill = (int)(p->fraction * 20 + 0.5);
    for (int i = 0; i < 20; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[20] = '\0';
    fprintf(stderr, "%sepoch %d/%d [%s] %5.1f%%  %s words/s (%s/thread)  "
            "lr %.5f  loss %.4f  %s elapsed, eta %s%s",
            s->tty ? "\r" : "", p->epoch, p->epochs, bar, 100 * p->fraction,
            rate, per, p->alpha, p->loss, el, eta, s->tty ? "\033[K" : "\n");
    s->drawn = s->tty;
}

/*
 * Fails early, before any training, if path cannot become a new file: it
 * is a directory, or its directory cannot take a new file.
 */
static int check_output_dir(const char *path)
{
    struct stat st;
    size_t len = strlen(path);
    if ((stat(path, &st) == 0 && S_ISDIR(st.st_mode)) ||
        (len > 0 && path[len - 1] == '/')) {
        fprintf(stderr, "w2v-train: %s: is a directory; give a file name "
                "for the output, e.g. %s%svectors.bin\n", path, path,
                len > 0 && path[len - 1] == '/' ? "" : "/");
        return 0;
    }
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (access(dir, W_OK | X_OK) != 0) {
        fprintf(stderr, "w2v-train: %s: cannot write in directory %s\n",
                path, dir);
        return 0;
    }
    return 1;
}

/*
 * The output format from -format and the older -binary: s->format, or
 * CLI_EXIT_USAGE after a message when -format is unknown or the two
 * disagree.
 */
static int output_format(settings *s)
{
    s->format = s->binary == 0 ? W2V_FORMAT_TEXT : W2V_FORMAT_BINARY;
    if (s->format_name == NULL)
        return 0;
    static const int formats[] = {W2V_FORMAT_TEXT, W2V_FORMAT_BINARY,
                                  W2V_FORMAT_NATIVE};
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++) {
        if (strcmp(s->format_name, w2v_format_name(formats[i])) != 0)
            continue;
        if (s->binary >= 0 && formats[i] != s->format) {
            fprintf(stderr, "w2v-train: -binary %d and -format %s "
                    "disagree: give one of them\n", s->binary,
                    s->format_name);
            return CLI_EXIT_USAGE;
        }
        s->format = formats[i];
        return 0;
    }
    fprintf(stderr, "w2v-train: -format %s: expected text, binary or "
            "native\n", s->format_name);
    return CLI_EXIT_USAGE;
}

static int fail(const w2v_error *e)
{
    fprintf(stderr, "w2v-train: %s\n", e->message);
    return CLI_EXIT_FAIL;
}

static int get_vocab(const settings *s, w2v_corpus *corpus, w2v_vocab **v,
                     w2v_error *err)
{
    if (s->read_vocab != NULL)
        return w2v_vocab_load(s->read_vocab, s->min_count, s->max_vocab, v,
                              err);
    w2v_vocab_options vo = w2v_vocab_options_default();
    vo.min_count = s->min_count;
    vo.max_words = s->max_vocab;
    vo.threads = (size_t)s->train.threads;  /* 0: all cores, as training */
    return w2v_vocab_build(corpus, &vo, v, err);
}

static void print_summary(const settings *s, const w2v_vocab *v,
                          double seconds)
{
    char words[32], vsz[32], rate[32], el[32];
    uint64_t done = w2v_vocab_total(v) * (uint64_t)s->train.epochs;
    done = done > s->resumed_words ? done - s->resumed_words : 0;
    cli_thousands(done, words, sizeof words);
    cli_thousands(w2v_vocab_size(v), vsz, sizeof vsz);
    cli_si(seconds > 0 ? (double)done / seconds : 0, rate, sizeof rate);
    cli_duration(seconds, el, sizeof el);
    fprintf(stderr, "w2v-train: %s words (%d epochs%s) in %s (%.1f s), %s "
            "words/s; wrote %s: %s words x %zu, %s\n", words,
            s->train.epochs, s->resumed_words ? ", resumed" : "", el,
            seconds, rate, s->output, vsz,
            s->train.dim, w2v_format_name(s->format));
}

/* The checkpoint callback: writes -checkpoint; a failure is a warning. */
static int periodic_checkpoint(w2v_trainer *t, void *user)
{
    progress_state *ps = user;
    w2v_error err;
    w2v_error_clear(&err);
    const char *erase = ps->drawn ? "\r\033[K" : "";
    if (w2v_trainer_checkpoint_save(t, ps->checkpoint, &err) != W2V_OK) {
        fprintf(stderr, "%sw2v-train: warning: checkpoint not written: %s; "
                "training goes on\n", erase, err.message);
    } else if (!ps->quiet) {
        w2v_checkpoint_info in;
        w2v_trainer_get_info(t, &in);
        fprintf(stderr, "%sw2v-train: checkpoint %s written (epoch %d/%d, "
                "%.1f%% done)\n", erase, ps->checkpoint, in.epoch + 1,
                in.opt.epochs, in.words_total ? 100.0 *
                (double)in.words_done / (double)in.words_total : 0.0);
    }
    ps->drawn = 0;
    return 0;
}

static void resume_note(settings *s, const w2v_checkpoint *ck)
{
    w2v_checkpoint_info in;
    w2v_checkpoint_get_info(ck, &in);
    s->resumed_words = in.words_done;
    if (s->quiet)
        return;
    fprintf(stderr, "w2v-train: resuming from %s: epoch %d/%d, %.1f%% of "
            "the words done\n", s->resume, in.epoch + 1, in.opt.epochs,
            in.words_total ? 100.0 * (double)in.words_done /
                                 (double)in.words_total
                           : 0.0);
}

/*
 * After SIGINT or SIGTERM stopped the run: the checkpoint, then the
 * vectors so far, and where they are. Returns 128 + the signal number.
 */
static int save_interrupted(const settings *s, w2v_trainer *t,
                            const progress_state *ps)
{
    int sig = signal_caught;
    w2v_error err;
    w2v_error_clear(&err);
    if (ps->drawn)
        fputc('\n', stderr);
    w2v_checkpoint_info in;
    w2v_trainer_get_info(t, &in);
    fprintf(stderr, "w2v-train: %s: stopped in epoch %d/%d, %.1f%% of the "
            "words done\n", sig == SIGINT ? "interrupted" : "terminated",
            in.epoch + 1, in.opt.epochs,
            in.words_total ? 100.0 * (double)in.words_done /
                                 (double)in.words_total
                           : 0.0);
    const char *ck = s->checkpoint;
    if (ck != NULL && w2v_trainer_checkpoint_save(t, ck, &err) == W2V_OK)
        fprintf(stderr, "w2v-train: checkpoint written to %s; continue with "
                "the same command and -resume %s\n", ck, ck);
    else if (ck != NULL)
        fprintf(stderr, "w2v-train: checkpoint not written: %s\n",
                err.message);
    if (w2v_trainer_save(t, s->output, s->format, &err) == W2V_OK)
        fprintf(stderr, "w2v-train: vectors so far written to %s\n",
                s->output);
    else
        fprintf(stderr, "w2v-train: vectors not written: %s\n",
                err.message);
    return 128 + sig;
}

static int run(settings *s)
{
    w2v_error err;
    w2v_error_clear(&err);
    if (!check_output_dir(s->output) ||
        (s->save_vocab != NULL && !check_output_dir(s->save_vocab)) ||
        (s->checkpoint != NULL && !check_output_dir(s->checkpoint)))
        return CLI_EXIT_FAIL;
    if (w2v_train_options_check(&s->train, &err) != W2V_OK) {
        fprintf(stderr, "w2v-train: %s\n", err.message);
        return CLI_EXIT_USAGE;
    }
    w2v_corpus *corpus = NULL;
    w2v_vocab *vocab = NULL;
    w2v_trainer *t = NULL;
    w2v_checkpoint *ck = NULL;
    int status = CLI_EXIT_FAIL;
    progress_state ps;
    memset(&ps, 0, sizeof ps);
    ps.tty = isatty(STDERR_FILENO);
    ps.quiet = s->quiet;
    ps.checkpoint = s->checkpoint;
    s->train.progress = draw_progress;
    s->train.progress_user = &ps;
    if (s->periodic) {
        s->train.checkpoint = periodic_checkpoint;
        s->train.checkpoint_user = &ps;
        s->train.checkpoint_interval =
            60 * (s->checkpoint_every > 0 ? s->checkpoint_every : 10);
    }
    catch_signals();
    if (s->resume != NULL) {
        if (w2v_checkpoint_load(s->resume, &ck, &err) != W2V_OK) {
            fail(&err);
            return CLI_EXIT_USAGE;
        }
        if (w2v_vocab_clone(w2v_checkpoint_vocab(ck), &vocab, &err) !=
                W2V_OK ||
            w2v_corpus_open(s->corpus, &corpus, &err) != W2V_OK)
            goto done;
    } else if (w2v_corpus_open(s->corpus, &corpus, &err) != W2V_OK ||
               get_vocab(s, corpus, &vocab, &err) != W2V_OK) {
        goto done;
    }
    if (!s->quiet) {
        char total[32], vsz[32];
        fprintf(stderr, "w2v-train: %s: %s words in the vocabulary of %s "
                "(min-count %llu)\n", w2v_corpus_path(corpus),
                cli_thousands(w2v_vocab_total(vocab), total, sizeof total),
                cli_thousands(w2v_vocab_size(vocab), vsz, sizeof vsz),
                (unsigned long long)s->min_count);
    }
    if (s->save_vocab != NULL &&
        w2v_vocab_save(vocab, s->save_vocab, &err) != W2V_OK)
        goto done;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = ck != NULL ? w2v_trainer_resume(ck, &s->train, &t, &err)
                        : w2v_trainer_new(&s->train, vocab, &t, &err);
    if (rc == W2V_OK && ck != NULL)
        resume_note(s, ck);
    w2v_checkpoint_free(ck);
    ck = NULL;
    if (rc == W2V_OK) {
        signal_trainer = t;
        rc = w2v_trainer_run(t, corpus, &err);
    }
    if (rc == W2V_ERR_STOPPED && signal_caught) {
        status = save_interrupted(s, t, &ps);
        goto done;
    }
    if (rc == W2V_ERR_ARG && s->resume != NULL) {
        fail(&err);  /* the checkpoint is not for these settings/corpus */
        status = CLI_EXIT_USAGE;
        goto done;
    }
    if (rc != W2V_OK ||
        w2v_trainer_save(t, s->output, s->format, &err) != W2V_OK)
        goto done;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!s->quiet)
        print_summary(s, vocab, (double)(t1.tv_sec - t0.tv_sec) +
                                    1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    status = CLI_EXIT_OK;
done:
    if (status == CLI_EXIT_FAIL)
        fail(&err);
    signal_trainer = NULL;
    w2v_checkpoint_free(ck);

    w2v_trainer_free(t);
    w2v_vocab_free(vocab);
    w2v_corpus_close(corpus);
    return status;
}

/*
 * Where checkpoints go: -checkpoint, else the -resume file, else
 * OUTPUT.ckpt. Standard input cannot be resumed, so it gets none.
 * CLI_EXIT_USAGE after a message for combinations that cannot work.
 */
static int checkpoint_paths(settings *s)
{
    int is_stdin = strcmp(s->corpus, "-") == 0;
    if (is_stdin && (s->checkpoint != NULL || s->resume != NULL)) {
        fprintf(stderr, "w2v-train: -checkpoint and -resume need a corpus "
                "file: standard input cannot be read again from where a "
                "run stopped\n");
        return CLI_EXIT_USAGE;
    }
    if (s->resume != NULL && s->read_vocab != NULL) {
        fprintf(stderr, "w2v-train: -resume takes the vocabulary from the "
                "checkpoint: drop -read-vocab\n");
        return CLI_EXIT_USAGE;
    }
    s->periodic = s->checkpoint != NULL || s->resume != NULL ||
                  s->checkpoint_every > 0;
    if (is_stdin && s->checkpoint_every > 0) {
        fprintf(stderr, "w2v-train: -checkpoint-every needs a corpus file, "
                "not standard input\n");
        return CLI_EXIT_USAGE;
    }
    if (s->checkpoint != NULL || is_stdin)
        return 0;
    if (s->resume != NULL) {
        s->checkpoint = s->resume;
        return 0;
    }
    if (snprintf(s->checkpoint_buf, sizeof s->checkpoint_buf, "%s.ckpt",
                 s->output) >= (int)sizeof s->checkpoint_buf) {
        fprintf(stderr, "w2v-train: -output name too long\n");
        return CLI_EXIT_USAGE;
    }
    s->checkpoint = s->checkpoint_buf;
    return 0;
}

/*
 * The value of flag -<flag> NAME: *out = values[i] for the i with
 * names[i] equal to name (names ends with NULL); a message and -1 if none.
 */
static int parse_choice(const char *flag, const char *name,
                        const char *const *names, const int *values,
                        int *out)
{
    for (size_t i = 0; names[i] != NULL; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = values[i];
            return 0;
        }
    fprintf(stderr, "w2v-train: -%s %s: must be one of", flag, name);
    for (size_t i = 0; names[i] != NULL; i++)
        fprintf(stderr, "%s %s", i ? "," : "", names[i]);
    fputc('\n', stderr);
    return -1;
}

int main(int argc, char **argv)
{
    settings s;
    memset(&s, 0, sizeof s);
    s.output = "vectors.bin";
    s.binary = -1;
    s.min_count = 5;
    s.train = w2v_train_options_default();
    int threads = 0, hs = 0;
    const char *kernel = "batched", *cbow_step = "mean";
    double alpha = 0;
    const cli_option opts[] = {
        {"corpus", "train", CLI_STRING, &s.corpus, 0, 0, "FILE",
         "training text: plain, .gz, or - for stdin (required)"},
        {"output", NULL, CLI_STRING, &s.output, 0, 0, "FILE",
         "where to write the vectors (default vectors.bin)"},
        {"size", NULL, CLI_SIZE, &s.train.dim, 1, 100000, "N",
         "vector dimension (default 100)"},
        {"window", NULL, CLI_INT, &s.train.window, 1, 1000, "N",
         "max distance between a word and its context (default 5)"},
        {"sample", NULL, CLI_DOUBLE, &s.train.sample, 0, 0.999, "T",
         "down-sample words more frequent than T (default 1e-3; 0 = off)"},
        {"negative", NULL, CLI_INT, &s.train.negative, 0, 1000, "N",
         "noise words per prediction (default 5; 0 = off)"},
        {"hs", NULL, CLI_INT, &hs, 0, 1, "0|1",
         "hierarchical softmax (default 0)"},
        {"kernel", NULL, CLI_STRING, &kernel, 0, 0, "K",
         "batched (default), plain (per-pair, as word2vec.c) or blas"},
        {"cbow", NULL, CLI_INT, &s.cbow, 0, 1, "0|1",
         "1 = CBOW, 0 = skip-gram (default 0; word2vec.c defaults to 1)"},
        {"cbow-step", NULL, CLI_STRING, &cbow_step, 0, 0, "mean|gradient",
         "CBOW: context words take the mean's step (default) or their "
         "own gradient's (1/window as far)"},
        {"iter", "epochs", CLI_INT, &s.train.epochs, 1, 100000, "N",
         "passes over the corpus (default 5)"},
        {"min-count", NULL, CLI_U64, &s.min_count, 1, 1e18, "N",
         "ignore words seen fewer than N times (default 5)"},
        {"max-vocab", NULL, CLI_SIZE, &s.max_vocab, 0, 4e9, "N",
         "keep only the N most frequent words (default 0 = all)"},
        {"alpha", NULL, CLI_DOUBLE, &alpha, 1e-6, 10, "A",
         "starting learning rate (default 0.05; 0.025 for skip-gram with -hs 1)"},
        {"threads", NULL, CLI_INT, &threads, 1, 4096, "N",
         "worker threads (default: all cores)"},
        {"cache", NULL, CLI_INT, &s.train.cache, 0, 1, "0|1",
         "1 = epochs after the first read the corpus as word ids from a "
         "temporary file in $TMPDIR, 4 bytes a word (default 1)"},
        {"binary", NULL, CLI_INT, &s.binary, 0, 1, "0|1",
         "1 = binary output, 0 = text (default 1)"},
        {"format", NULL, CLI_STRING, &s.format_name, 0, 0,
         "binary|text|native",
         "output format (default binary; native: w2v's own, mmap-able)"},
        {"save-vocab", NULL, CLI_STRING, &s.save_vocab, 0, 0, "FILE",
         "also write the vocabulary (\"word count\" lines)"},
        {"read-vocab", NULL, CLI_STRING, &s.read_vocab, 0, 0, "FILE",
         "take the vocabulary from FILE, skipping the counting pass"},
        {"seed", NULL, CLI_U64, &s.train.seed, 0, 18446744073709551615.0, "N",
         "random seed (default 1); with -threads 1 runs are repeatable"},
        {"checkpoint", NULL, CLI_STRING, &s.checkpoint, 0, 0, "FILE",
         "save the run state to FILE periodically and on Ctrl-C (default: "
         "OUTPUT.ckpt, or the -resume file)"},
        {"checkpoint-every", NULL, CLI_DOUBLE, &s.checkpoint_every, 0.001,
         525600, "MIN", "minutes between checkpoints (default 10)"},
        {"resume", NULL, CLI_STRING, &s.resume, 0, 0, "FILE",
         "continue the run saved in FILE (same corpus and settings)"},
        {"quiet", NULL, CLI_SWITCH, &s.quiet, 0, 0, NULL,
         "no progress output"},
        {NULL, NULL, 0, NULL, 0, 0, NULL, NULL}};
    int npos = 0, help = 0;
    int rc = cli_parse("w2v-train", opts, argc, argv, &npos, &help);
    if (rc != 0)
        return rc;
    if (help) {
        usage(opts);
        return CLI_EXIT_OK;
    }
    if (npos > 0) {
        fprintf(stderr, "w2v-train: unexpected argument \"%s\" (options "
                "start with -)\n", argv[1]);
        return CLI_EXIT_USAGE;
    }
    if (s.corpus == NULL) {
        fprintf(stderr, "w2v-train: no corpus: use -corpus FILE (see "
                "w2v-train -help)\n");
        return CLI_EXIT_USAGE;
    }
    static const char *const kernels[] = {"batched", "plain", "blas", NULL};
    static const int kernel_values[] = {W2V_KERNEL_BATCHED, W2V_KERNEL_PLAIN,
                                        W2V_KERNEL_BLAS};
    static const char *const steps[] = {"mean", "gradient", NULL};
    static const int step_values[] = {W2V_CBOW_STEP_MEAN,
                                      W2V_CBOW_STEP_GRADIENT};
    if (parse_choice("kernel", kernel, kernels, kernel_values,
                     &s.train.kernel) != 0 ||
        parse_choice("cbow-step", cbow_step, steps, step_values,
                     &s.train.cbow_step) != 0)
        return CLI_EXIT_USAGE;
    if ((rc = checkpoint_paths(&s)) != 0)
        return rc;
    if ((rc = output_format(&s)) != 0)
        return rc;
    s.train.arch = s.cbow ? W2V_ARCH_CBOW : W2V_ARCH_SKIPGRAM;
    s.train.hs = hs;
    s.train.threads = threads;
    s.train.alpha = alpha;
    return run(&s);
}
