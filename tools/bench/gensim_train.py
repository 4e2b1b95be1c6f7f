"""Train a gensim Word2Vec model for the benchmark and save it in word2vec binary format.

Run by bench.py as a separate process so that its wall time (interpreter start and
gensim import included) and its peak RSS can be measured on their own.

gensim is used in its fastest mode: ``corpus_file=``, which reads a plain text
file with one worker per byte range of the file and no Python in the inner loop.
Lines are split into sentences of at most 10,000 words by gensim itself, so both
text8-style single-line files and one-document-per-line corpora work.

The learning rate is left at gensim's default (alpha=0.025, min_alpha=0.0001 for
both architectures).
"""

import argparse
import logging
import sys
import time


def parse_args(argv):
    """Parse the command line; names follow word2vec.c's options where they exist."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus-file", required=True, help="plain (uncompressed) text corpus")
    p.add_argument("--output", required=True, help="output vectors, word2vec binary format")
    p.add_argument("--sg", type=int, choices=(0, 1), required=True, help="1 skip-gram, 0 CBOW")
    p.add_argument("--size", type=int, default=100)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--negative", type=int, default=5)
    p.add_argument("--sample", type=float, default=1e-4)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--workers", type=int, required=True)
    p.add_argument("--verbose", action="store_true", help="log gensim progress to stderr")
    return p.parse_args(argv)


def check_fast_path():
    """Fail early if this gensim lacks its compiled corpus_file trainer.

    Without it gensim would either refuse corpus_file= or fall back to a pure
    Python path that is orders of magnitude slower, which would make the
    benchmark meaningless.
    """
    from gensim.models import word2vec

    if getattr(word2vec, "FAST_VERSION", -1) < 0:
        sys.exit("gensim_train: gensim's compiled routines are missing (FAST_VERSION < 0)")
    if getattr(word2vec, "CORPUSFILE_VERSION", -1) < 0:
        sys.exit("gensim_train: this gensim build does not support corpus_file= training")


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(message)s",
        level=logging.INFO if args.verbose else logging.WARNING,
    )

    import gensim
    from gensim.models import Word2Vec

    check_fast_path()

    start = time.perf_counter()
    model = Word2Vec(
        corpus_file=args.corpus_file,
        sg=args.sg,
        hs=0,
        vector_size=args.size,
        window=args.window,
        negative=args.negative,
        sample=args.sample,
        epochs=args.epochs,
        min_count=args.min_count,
        workers=args.workers,
    )
    trained = time.perf_counter()
    model.wv.save_word2vec_format(args.output, binary=True)
    saved = time.perf_counter()

    # For the log only: the benchmark itself times the whole process from outside.
    print(
        f"gensim {gensim.__version__}: vocab {len(model.wv)} words, "
        f"train {trained - start:.1f} s, save {saved - trained:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
