"""Score a word2vec-format vector file on word analogies and WordSim-353.

Every model in the benchmark is scored by this one script, so the scoring is
identical whichever tool wrote the vectors.

- Analogy: gensim's ``evaluate_word_analogies`` on ``questions-words.txt`` with
  ``restrict_vocab=30000`` and ``case_insensitive=True``: a question counts only
  if its four words are among the 30,000 most frequent words of the model
  (word2vec's compute-accuracy convention); the score is the overall accuracy
  over those questions.
- WordSim-353: gensim's ``evaluate_word_pairs``, Spearman rank correlation
  between cosine similarity and the human mean, over the pairs whose two words
  are in the vocabulary.

Prints one JSON object on standard output, e.g.::

    {"vocab": 71290, "analogy": 0.352, "analogy_questions": 12873,
     "analogy_total": 19544, "ws353_spearman": 0.671, "ws353_pairs": 353,
     "ws353_oov": 0.008}

Fields for a test set that was not given are absent.
"""

import argparse
import json
import logging
import os
import sys
import tempfile


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("vectors", help="vector file in word2vec format")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--binary", dest="binary", action="store_true", default=None,
                     help="vectors are in word2vec binary format (default for .bin)")
    fmt.add_argument("--text", dest="binary", action="store_false",
                     help="vectors are in word2vec text format (default for other names)")
    p.add_argument("--analogies", help="questions-words.txt")
    p.add_argument("--wordsim", help="WordSim-353 file: word1<TAB>word2<TAB>score, optional header")
    p.add_argument("--restrict-vocab", type=int, default=30000,
                   help="analogy questions use only the N most frequent words (default 30000)")
    return p.parse_args(argv)


def clean_word_pairs(src, dst):
    """Copy a word-pair file into gensim's expected form; return the number of pairs.

    gensim's ``evaluate_word_pairs`` wants ``word1<TAB>word2<TAB>score`` lines and
    skips lines starting with '#'. The WordSim-353 ``combined.tab`` file has a
    header line ("Word 1, Word 2, Human (mean)") and CRLF line ends; rather than
    rely on gensim quietly skipping the unparsable header, this writes only the
    lines whose third field is a number.
    """
    pairs = 0
    with open(src, encoding="utf-8") as fin, open(dst, "w", encoding="utf-8") as fout:
        for line in fin:
            fields = line.rstrip("\r\n").split("\t")
            if len(fields) != 3:
                continue
            try:
                float(fields[2])
            except ValueError:
                continue  # header line
            fout.write("\t".join(f.strip() for f in fields) + "\n")
            pairs += 1
    return pairs


def score_analogies(kv, path, restrict_vocab):
    """Return accuracy and coverage on a questions-words.txt style file."""
    accuracy, sections = kv.evaluate_word_analogies(
        path, restrict_vocab=restrict_vocab, case_insensitive=True)
    # The last section is gensim's summary over all questions that were asked.
    total = sections[-1]
    asked = len(total["correct"]) + len(total["incorrect"])
    with open(path, encoding="utf-8") as f:
        in_file = sum(1 for line in f if line.strip() and not line.startswith(":"))
    return {"analogy": float(accuracy), "analogy_questions": asked, "analogy_total": in_file}


def score_word_pairs(kv, path):
    """Return the Spearman correlation and OOV ratio on a WordSim-353 style file."""
    fd, cleaned = tempfile.mkstemp(suffix=".tsv", prefix="wordsim-")
    os.close(fd)
    try:
        pairs = clean_word_pairs(path, cleaned)
        _pearson, spearman, oov_percent = kv.evaluate_word_pairs(
            cleaned, delimiter="\t", case_insensitive=True)
    finally:
        os.unlink(cleaned)
    # spearman is a scipy result object that unpacks as (statistic, p-value).
    return {"ws353_spearman": float(spearman[0]), "ws353_pairs": pairs,
            "ws353_oov": float(oov_percent) / 100.0}


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from gensim.models import KeyedVectors

    binary = args.binary
    if binary is None:
        binary = args.vectors.endswith(".bin")
    kv = KeyedVectors.load_word2vec_format(args.vectors, binary=binary)

    result = {"vocab": len(kv)}
    if args.analogies:
        result.update(score_analogies(kv, args.analogies, args.restrict_vocab))
    if args.wordsim:
        result.update(score_word_pairs(kv, args.wordsim))
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
