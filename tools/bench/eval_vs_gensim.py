"""Check w2v-eval against gensim on one vector file: same figures, and how much faster.

Runs gensim 4.2's ``KeyedVectors.evaluate_word_analogies(path,
restrict_vocab=N, case_insensitive=True)`` and ``evaluate_word_pairs(path,
delimiter='\\t', case_insensitive=True)`` and ``w2v-eval -format json
-details`` on the same file, then checks that

- every section has the same correct and incorrect counts, and the same
  questions are the correct ones (compared as upper-cased 4-tuples);
- the lines gensim found invalid are the lines w2v-eval reported (gensim
  counts from 0, w2v-eval from 1; gensim also calls a header invalid);
- for every similarity file, Spearman's rho agrees to 1e-6 and the same
  number of pairs had an unknown word.

With ``--method mul`` the analogies are answered by gensim's
``most_similar_cosmul`` instead (gensim's evaluate_word_analogies has no
3CosMul): the evaluation loop is gensim's, replayed here over a copy of the
first N vectors, and w2v-eval runs with ``-epsilon 1e-6``, gensim's constant.

Prints a short report with the timings of both (model load excluded and
included) and exits 0 when everything agrees, 1 otherwise. ``--json FILE``
also writes the figures, timings and differences as one JSON object (for
bench.py).

Usage::

    /usr/bin/python3.11 tools/bench/eval_vs_gensim.py VECTORS \\
        [--analogies FILE] [--similarity FILE ...] [--restrict 30000] \\
        [--method add|mul] [--binary | --text] [--w2v-eval build/bin/w2v-eval] \\
        [--json FILE]

The evaluation files default to ``../shared/eval`` next to the repository.
OPENBLAS_NUM_THREADS, if set, applies to both (numpy and w2v-eval link the
same OpenBLAS).
"""

import argparse
import collections
import json
import logging
import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED_EVAL = REPO.parent / "shared" / "eval"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("vectors", help="word2vec text or binary vector file")
    p.add_argument("--analogies", default=str(SHARED_EVAL / "questions-words.txt"))
    p.add_argument("--similarity", action="append",
                   help="word-pair file (repeatable; default WordSim-353 combined.tab)")
    p.add_argument("--restrict", type=int, default=30000,
                   help="analogies use the N most frequent words (default 30000)")
    p.add_argument("--method", choices=("add", "mul"), default="add")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--binary", dest="binary", action="store_true", default=None)
    fmt.add_argument("--text", dest="binary", action="store_false")
    p.add_argument("--w2v-eval", default=str(REPO / "build" / "bin" / "w2v-eval"))
    p.add_argument("--json", help="also write the results to this file as JSON")
    args = p.parse_args(argv)
    if not args.similarity:
        args.similarity = [str(SHARED_EVAL / "wordsim353" / "combined.tab")]
    return args


def looks_binary(path):
    """Is the file word2vec binary? Text rows hold only number characters."""
    with open(path, "rb") as f:
        header = f.readline().split()
        dim = int(header[1])
        row = f.read(4 * dim + 4096)
    values = row[row.index(b" ") + 1:][:min(4 * dim, 400)]
    return not re.fullmatch(rb"[0-9eE.+\- \t\r\n]*", values)


class Records(logging.Handler):
    """Keeps gensim's log messages, to read which lines it skipped."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())

    def take(self):
        out, self.messages = self.messages, []
        return out


def invalid_lines(messages):
    """Line numbers (0-based) of gensim's 'Skipping invalid line #N' messages."""
    return sorted(int(m.split("#")[1].split()[0]) for m in messages
                  if m.startswith("Skipping invalid line #"))


def cosmul_sections(kv, path, restrict):
    """gensim's evaluate_word_analogies loop with most_similar_cosmul as the scorer."""
    from gensim.models import KeyedVectors
    n = min(restrict or len(kv), len(kv))
    small = KeyedVectors(kv.vector_size, count=0, dtype=kv.vectors.dtype)
    small.add_vectors(kv.index_to_key[:n], kv.vectors[:n])
    ok_vocab = {k.upper(): small.get_index(k) for k in reversed(small.index_to_key)}
    sections, section = [], None
    with open(path, "rb") as fin:
        for line in fin:
            line = line.decode("utf-8")
            if line.startswith(": "):
                if section:
                    sections.append(section)
                section = {"section": line.lstrip(": ").strip(), "correct": [], "incorrect": []}
                continue
            words = [w.upper() for w in line.split()]
            if len(words) != 4 or section is None:
                continue
            a, b, c, expected = words
            if any(w not in ok_vocab for w in words):
                continue
            original, small.key_to_index = small.key_to_index, ok_vocab
            try:
                sims = small.most_similar_cosmul(positive=[b, c], negative=[a], topn=5)
            finally:
                small.key_to_index = original
            predicted = None
            for word, _score in sims:
                predicted = word.upper()
                if predicted in ok_vocab and predicted not in {a, b, c}:
                    break
            (section["correct"] if predicted == expected else section["incorrect"]).append(
                (a, b, c, expected))
    if section:
        sections.append(section)
    total = {"section": "Total accuracy",
             "correct": [q for s in sections for q in s["correct"]],
             "incorrect": [q for s in sections for q in s["incorrect"]]}
    return sections + [total]


def run_gensim(args, binary, log):
    from gensim.models import KeyedVectors
    t = {}
    t0 = time.perf_counter()
    kv = KeyedVectors.load_word2vec_format(args.vectors, binary=binary)
    t["load"] = time.perf_counter() - t0
    log.take()
    t0 = time.perf_counter()
    if args.method == "add":
        _score, sections = kv.evaluate_word_analogies(
            args.analogies, restrict_vocab=args.restrict, case_insensitive=True)
    else:
        sections = cosmul_sections(kv, args.analogies, args.restrict)
    t["analogies"] = time.perf_counter() - t0
    analogy_invalid = invalid_lines(log.take())
    pairs = []
    t0 = time.perf_counter()
    for path in args.similarity:
        _pearson, spearman, oov_ratio = kv.evaluate_word_pairs(
            path, delimiter="\t", case_insensitive=True)
        messages = log.take()
        oov = sum(1 for m in messages if m.startswith("Skipping line #") and "OOV" in m)
        pairs.append({"spearman": float(spearman[0]), "oov_ratio": float(oov_ratio),
                      "oov": oov, "invalid": invalid_lines(messages)})
    t["similarity"] = time.perf_counter() - t0
    return len(kv), sections, analogy_invalid, pairs, t


def run_w2v(args):
    cmd = [args.w2v_eval, "-model", args.vectors, "-analogies", args.analogies,
           "-restrict", str(args.restrict), "-method", args.method,
           "-format", "json", "-details"]
    if args.method == "mul":
        cmd += ["-epsilon", "1e-6"]
    for path in args.similarity:
        cmd += ["-similarity", path]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"w2v-eval failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    return json.loads(proc.stdout), wall


def compare_analogies(g_sections, g_invalid, ours, problems):
    """Section by section; returns report lines."""
    lines = []
    g_secs = g_sections[:-1]
    o_secs = ours["sections"]
    if [s["section"] for s in g_secs] != [s["name"] for s in o_secs]:
        problems.append("section names differ: %s against %s" % (
            [s["section"] for s in g_secs], [s["name"] for s in o_secs]))
        return lines
    answers = collections.defaultdict(list)
    for a in ours["answers"]:
        answers[a["section"]].append(a)
    rows = list(zip(g_secs, o_secs)) + [(g_sections[-1], ours["total"])]
    for k, (g, o) in enumerate(rows):
        gc, gi = len(g["correct"]), len(g["incorrect"])
        same = (gc, gi) == (o["correct"], o["wrong"])
        lines.append("  %-28s gensim %5d/%-5d  w2v %5d/%-5d  %s" % (
            o["name"], gc, gc + gi, o["correct"], o["correct"] + o["wrong"],
            "equal" if same else "DIFFERENT"))
        if not same:
            problems.append("section %s: gensim %d correct, %d incorrect; w2v %d, %d"
                            % (o["name"], gc, gi, o["correct"], o["wrong"]))
        if k == len(g_secs):
            continue  # the total: its questions were compared per section
        ours_right = collections.Counter(
            tuple(w.upper() for w in a["words"]) for a in answers[k]
            if a["outcome"] == "correct")
        theirs_right = collections.Counter(tuple(q) for q in g["correct"])
        if ours_right != theirs_right:
            only_g = list((theirs_right - ours_right).elements())[:3]
            only_o = list((ours_right - theirs_right).elements())[:3]
            problems.append("section %s: right only for gensim %s, only for w2v %s"
                            % (o["name"], only_g, only_o))
    ours_invalid = sorted(s["line"] - 1 for s in ours["malformed"])
    if ours_invalid != g_invalid:
        problems.append("invalid analogy lines: gensim %s, w2v %s" % (g_invalid, ours_invalid))
    return lines


def compare_pairs(paths, g_pairs, ours, problems):
    lines = []
    for path, g, o in zip(paths, g_pairs, ours):
        diff = abs(g["spearman"] - o["spearman"]) if o["spearman"] is not None else float("inf")
        o_oov = o["skipped_oov"] + o["skipped_restrict"]
        o_ratio = 100.0 * o_oov / o["pairs"]
        ok = diff <= 1e-6 and g["oov"] == o_oov and abs(g["oov_ratio"] - o_ratio) < 1e-9
        lines.append("  %-28s gensim rho %.6f  w2v rho %.6f  |diff| %.1e  unknown %d/%d  %s" % (
            Path(path).name, g["spearman"], o["spearman"] or float("nan"), diff,
            g["oov"], o_oov, "equal" if ok else "DIFFERENT"))
        if not ok:
            problems.append("%s: gensim rho %.9f, %d unknown; w2v rho %s, %d unknown"
                            % (path, g["spearman"], g["oov"], o["spearman"], o_oov))
        o_invalid = sorted([o["header_line"] - 1] * (o["header_line"] > 0)
                           + [s["line"] - 1 for s in o["malformed"]])
        if o_invalid != g["invalid"]:
            problems.append("%s: invalid lines: gensim %s, w2v (header and malformed) %s"
                            % (path, g["invalid"], o_invalid))
    return lines


def main(argv=None):
    args = parse_args(argv)
    for path in [args.vectors, args.analogies, args.w2v_eval] + args.similarity:
        if not os.path.exists(path):
            sys.exit(f"eval_vs_gensim: {path} does not exist")
    binary = looks_binary(args.vectors) if args.binary is None else args.binary
    warnings.simplefilter("ignore")  # init_sims' deprecation, scipy's
    log = Records()
    gensim_log = logging.getLogger("gensim")
    gensim_log.addHandler(log)
    gensim_log.setLevel(logging.INFO)
    gensim_log.propagate = False

    words, g_sections, g_invalid, g_pairs, gt = run_gensim(args, binary, log)
    ours, wall = run_w2v(args)

    problems = []
    print("%s: %d words, %s, analogies %s over %d words, %s" % (
        args.vectors, words, "binary" if binary else "text",
        "3CosAdd" if args.method == "add" else "3CosMul (epsilon 1e-6)",
        min(args.restrict or words, words), Path(args.analogies).name))
    if ours["words"] != words:
        problems.append("w2v-eval read %d words, gensim %d" % (ours["words"], words))
    print("analogies (correct/attempted):")
    for line in compare_analogies(g_sections, g_invalid, ours["analogies"], problems):
        print(line)
    print("similarity:")
    for line in compare_pairs(args.similarity, g_pairs, ours["similarity"], problems):
        print(line)

    s = ours["seconds"]
    g_eval = gt["analogies"] + gt["similarity"]
    o_eval = s["analogies"] + s["similarity"]
    print("time (s)          load   analogies  similarity   eval total   end to end")
    print("  gensim      %8.2f  %10.2f  %10.3f  %11.2f  %11.2f" % (
        gt["load"], gt["analogies"], gt["similarity"], g_eval, gt["load"] + g_eval))
    print("  w2v-eval    %8.2f  %10.2f  %10.3f  %11.2f  %11.2f (process wall)" % (
        s["load"], s["analogies"], s["similarity"], o_eval, wall))
    print("  speed-up: evaluation %.1fx, end to end %.1fx (OPENBLAS_NUM_THREADS=%s)" % (
        g_eval / o_eval if o_eval > 0 else float("inf"),
        (gt["load"] + g_eval) / wall, os.environ.get("OPENBLAS_NUM_THREADS", "unset")))
    if args.json:
        g_total = g_sections[-1]
        summary = {
            "vectors": args.vectors, "words": words, "method": args.method,
            "restrict": args.restrict, "equal": not problems, "problems": problems,
            "gensim": {"correct": len(g_total["correct"]),
                       "attempted": len(g_total["correct"]) + len(g_total["incorrect"]),
                       "seconds": gt},
            "w2v": {"correct": ours["analogies"]["total"]["correct"],
                    "attempted": ours["analogies"]["total"]["correct"]
                    + ours["analogies"]["total"]["wrong"],
                    "seconds": s, "wall": wall},
        }
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(summary, f)
    if problems:
        print("DIFFERENT:")
        for p in problems:
            print("  " + p)
        return 1
    print("all figures equal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
