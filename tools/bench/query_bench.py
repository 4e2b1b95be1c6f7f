"""Query and evaluation benchmark: w2v-nearest and w2v-eval on a 300-d model.

Part of ``make bench`` (bench.py calls section()); on its own, or as
``bench.py --only query``, it skips the training comparison:

    /usr/bin/python3.11 tools/bench/query_bench.py --corpus PATH --eval-dir DIR \\
        --w2v-train build/bin/w2v-train [--query-model FILE] [--query-runs 21] \\
        [--threads N] [--out-md FILE]

What it does, one process at a time:

1. Trains a skip-gram model with w2v-train at -size 300 (its defaults
   otherwise) on the corpus, in word2vec binary format, or takes
   ``--query-model FILE`` (any word2vec binary model) and skips training. It
   converts the model to the native format with w2v-convert.
2. ``w2v-nearest -model M cat``, end to end (process start to exit, answer
   printed), for the binary and the native file, alternating, after one
   warm-up run each (so the page cache holds both files): the median of
   --query-runs runs. The same without a query (``w2v-nearest -model M``
   with empty standard input: start-up, load, index, exit), and the library's
   own load time as w2v-eval reports it (``seconds.load``).
3. The analogy evaluation of questions-words.txt (30,000 most frequent words,
   case-insensitive, 3CosAdd) three ways: w2v-eval (process wall time and its
   own evaluation time), gensim's ``evaluate_word_analogies`` through
   eval_vs_gensim.py (which also checks that every section, every question
   and the similarity figures are equal), and word2vec.c's
   ``compute-accuracy M 30000 < questions-words.txt``, built from the npm
   package's source by build-word2vec-c.sh. Ratios are the others' time over
   w2v-eval's.

Returns markdown lines; progress goes to standard error.
"""

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
SHARED = REPO_ROOT.parent / "shared"

QUERY_SIZE = 300
QUERY_WORD = "cat"
ANALOGY_FILE = "questions-words.txt"
WORDSIM_FILE = os.path.join("wordsim353", "combined.tab")
RESTRICT = 30000
EVAL_RUNS = 3


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def timed(cmd, stdin=subprocess.DEVNULL, cpu=None):
    """(wall seconds, completed process) of one run of cmd.

    With a list cpu, also appends the child's CPU time (user + system): the
    growth of RUSAGE_CHILDREN over the run, which is exactly this child's as
    runs are one at a time. Unlike wall time, it does not grow when other
    processes take the cores.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdin=stdin, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return wall, proc


def tool(args, name):
    """A w2v tool next to w2v-train."""
    return os.path.join(os.path.dirname(os.path.abspath(args.w2v_train)), name)


def compute_accuracy_binary(tmp):
    """compute-accuracy built by build-word2vec-c.sh (reusing bench.py's build)."""
    build_dir = os.path.join(tmp, "word2vec-c")
    exe = os.path.join(build_dir, "compute-accuracy")
    if not os.access(exe, os.X_OK):
        log("query bench: building word2vec.c's compute-accuracy from the npm package ...")
        subprocess.run(["sh", str(HERE / "build-word2vec-c.sh"), build_dir],
                       capture_output=True, text=True)
    return exe if os.access(exe, os.X_OK) else None


def median_ms(values):
    return 1000.0 * statistics.median(values)


def nearest_timings(args, models):
    """Median end-to-end times (wall, CPU) of w2v-nearest with and without a query."""
    nearest = tool(args, "w2v-nearest")
    query, empty = {f: [] for f in models}, {f: [] for f in models}
    cpu = {f: [] for f in models}
    answers = {}
    for f, path in models.items():  # warm-up: page cache, and the answer
        _, proc = timed([nearest, "-model", path, QUERY_WORD])
        if proc.returncode != 0:
            raise RuntimeError(f"w2v-nearest failed on {path}: {proc.stderr.strip()}")
        answers[f] = proc.stdout
    for _ in range(args.query_runs):
        for f, path in models.items():
            wall, _ = timed([nearest, "-model", path, QUERY_WORD], cpu=cpu[f])
            query[f].append(wall)
            wall, _ = timed([nearest, "-model", path])
            empty[f].append(wall)
    return ({f: median_ms(v) for f, v in query.items()},
            {f: median_ms(v) for f, v in empty.items()},
            {f: median_ms(v) for f, v in cpu.items()}, answers)


def w2v_eval_runs(args, path, analogies):
    """Median process wall, evaluation and load seconds of w2v-eval, and its totals."""
    cmd = [tool(args, "w2v-eval"), "-model", path, "-analogies", analogies,
           "-restrict", str(RESTRICT), "-format", "json"]
    walls, evals, loads, result = [], [], [], None
    for _ in range(EVAL_RUNS):
        wall, proc = timed(cmd)
        if proc.returncode != 0:
            raise RuntimeError(f"w2v-eval failed: {proc.stderr.strip()}")
        result = json.loads(proc.stdout)
        walls.append(wall)
        evals.append(result["seconds"]["analogies"])
        loads.append(result["seconds"]["load"])
    total = result["analogies"]["total"]
    return {"wall": statistics.median(walls), "eval": statistics.median(evals),
            "load": statistics.median(loads), "correct": total["correct"],
            "attempted": total["correct"] + total["wrong"]}


def gensim_check(args, path, analogies, wordsim, tmp):
    """eval_vs_gensim.py's summary (dict), or None with the reason."""
    out = os.path.join(tmp, "eval-vs-gensim.json")
    cmd = [sys.executable, str(HERE / "eval_vs_gensim.py"), path, "--binary",
           "--analogies", analogies, "--restrict", str(RESTRICT),
           "--w2v-eval", tool(args, "w2v-eval"), "--json", out]
    if wordsim:
        cmd += ["--similarity", wordsim]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if not os.path.exists(out):
        return None, (proc.stderr.strip().splitlines() or ["eval_vs_gensim.py failed"])[-1]
    with open(out, encoding="utf-8") as f:
        summary = json.load(f)
    summary["report"] = proc.stdout
    return summary, ""


def compute_accuracy(exe, path, analogies):
    """(wall, correct share, questions seen, questions in file) of compute-accuracy."""
    with open(analogies, "rb") as qs:
        wall, proc = timed([exe, path, str(RESTRICT)], stdin=qs)
    total = re.findall(r"Total accuracy: ([0-9.]+) %", proc.stdout)
    seen = re.search(r"Questions seen / total: (\d+) (\d+)", proc.stdout)
    if proc.returncode != 0 or not total or not seen:
        raise RuntimeError(f"compute-accuracy failed: {proc.stdout[-300:]} {proc.stderr[-300:]}")
    return wall, float(total[-1]), int(seen.group(1)), int(seen.group(2))


def section(args, tmp):
    """Run the query benchmark; return its markdown lines."""
    analogies = os.path.join(args.eval_dir, ANALOGY_FILE)
    wordsim = os.path.join(args.eval_dir, WORDSIM_FILE)
    if not os.path.isfile(wordsim):
        wordsim = None
    lines = ["## Queries and evaluation", ""]

    if args.query_model:
        binary = args.query_model
        how = f"`{binary}` (given with --query-model)"
    else:
        binary = os.path.join(tmp, f"query-{QUERY_SIZE}.bin")
        cmd = [args.w2v_train, "-corpus", os.path.abspath(args.corpus), "-size",
               str(QUERY_SIZE), "-threads", str(args.threads), "-output", binary, "-quiet"]
        log(f"query bench: training a {QUERY_SIZE}-d model: {' '.join(cmd)}")
        wall, proc = timed(cmd)
        if proc.returncode != 0:
            return lines + [f"w2v-train failed: {proc.stderr.strip()}", ""]
        how = (f"trained by `w2v-train -corpus {os.path.basename(args.corpus)} -size "
               f"{QUERY_SIZE} -threads {args.threads}` (skip-gram, other settings default) "
               f"in {wall:.0f} s")
    native = os.path.join(tmp, f"query-{QUERY_SIZE}.w2v")
    proc = subprocess.run([tool(args, "w2v-convert"), binary, native],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return lines + [f"w2v-convert failed: {proc.stderr.strip()}", ""]
    models = {"binary": binary, "native": native}
    with open(binary, "rb") as f:
        words, dim = (int(x) for x in f.readline().split())
    mb = {k: os.path.getsize(v) / 1e6 for k, v in models.items()}
    lines += [f"Model: {words:,} words x {dim}, {how}; word2vec binary {mb['binary']:.1f} MB, "
              f"native {mb['native']:.1f} MB (`w2v-convert`). One process at a time; "
              "both files in the page cache (one warm-up run each).", ""]

    log(f"query bench: w2v-nearest {QUERY_WORD}, {args.query_runs} runs per format ...")
    eval_runs = {}
    try:
        query_ms, empty_ms, cpu_ms, answers = nearest_timings(args, models)
        if os.path.isfile(analogies):
            for f, path in models.items():
                log(f"query bench: w2v-eval on the {f} model, {EVAL_RUNS} runs ...")
                eval_runs[f] = w2v_eval_runs(args, path, analogies)
    except RuntimeError as e:
        # Reported in the tables' place, so that bench.py still prints the rest.
        log(f"query bench: {e}")
        return lines + [f"Failed: {e}", ""]
    same = answers["binary"] == answers["native"]
    lines += ["| w2v-nearest, medians | binary | native | native / binary |",
              "|---|---:|---:|---:|",
              f"| `w2v-nearest {QUERY_WORD}`, process start to answer, ms "
              f"({args.query_runs} runs) | {query_ms['binary']:.1f} | "
              f"{query_ms['native']:.1f} | ×{query_ms['native'] / query_ms['binary']:.2f} |",
              f"| its CPU time (user + system), ms | {cpu_ms['binary']:.1f} | "
              f"{cpu_ms['native']:.1f} | ×{cpu_ms['native'] / cpu_ms['binary']:.2f} |",
              f"| the same without a query (start-up, load, index), ms | "
              f"{empty_ms['binary']:.1f} | {empty_ms['native']:.1f} | "
              f"×{empty_ms['native'] / empty_ms['binary']:.2f} |"]
    if eval_runs:
        lb, ln = (1000 * eval_runs[f]["load"] for f in ("binary", "native"))
        lines.append(f"| model load in the library (w2v-eval's `seconds.load`, "
                     f"{EVAL_RUNS} runs), ms | {lb:.1f} | {ln:.1f} | ×{ln / lb:.2f} |")
    lines += ["", f"Both formats give the same answer: {'yes' if same else 'NO'}.", ""]
    if not eval_runs:
        return lines + [f"Evaluation skipped: {analogies} not found.", ""]

    ours = eval_runs["binary"]
    formats_agree = all(eval_runs[f]["correct"] == ours["correct"] for f in eval_runs)
    log("query bench: gensim evaluate_word_analogies (eval_vs_gensim.py) ...")
    g, why = gensim_check(args, binary, analogies, wordsim, tmp)
    exe = compute_accuracy_binary(tmp)
    ca = None
    if exe:
        log("query bench: word2vec.c compute-accuracy ...")
        try:
            ca = compute_accuracy(exe, binary, analogies)
        except RuntimeError as e:
            why_ca = str(e)
    else:
        why_ca = "compute-accuracy could not be built"

    lines += [f"Analogies: `{ANALOGY_FILE}`, {RESTRICT:,} most frequent words, "
              "case-insensitive, 3CosAdd. Wall: process start to exit (model load "
              "included); evaluation: the analogy questions alone, as each tool reports "
              "it (gensim: `evaluate_word_analogies`, model load excluded).", "",
              "| evaluator | correct / questions | accuracy % | wall s | evaluation s "
              "| w2v-eval faster by (wall) | (evaluation) |",
              "|---|---:|---:|---:|---:|---:|---:|",
              f"| w2v-eval (median of {EVAL_RUNS}) | {ours['correct']:,} / {ours['attempted']:,} | "
              f"{100 * ours['correct'] / ours['attempted']:.2f} | {ours['wall']:.2f} | "
              f"{ours['eval']:.2f} | — | — |"]
    if g:
        gs = g["gensim"]
        g_wall = gs["seconds"]["load"] + gs["seconds"]["analogies"]
        lines.append(f"| gensim | {gs['correct']:,} / {gs['attempted']:,} | "
                     f"{100 * gs['correct'] / gs['attempted']:.2f} | {g_wall:.2f} (load + "
                     f"evaluation, in Python) | {gs['seconds']['analogies']:.2f} | "
                     f"×{g_wall / ours['wall']:.1f} | ×{gs['seconds']['analogies'] / ours['eval']:.1f} |")
    else:
        lines.append(f"| gensim | failed: {why} | — | — | — | — | — |")
    if ca:
        wall, acc, seen, total = ca
        lines.append(f"| word2vec.c compute-accuracy | {seen:,} seen of {total:,} | {acc:.2f} | "
                     f"{wall:.2f} | — | ×{wall / ours['wall']:.1f} | — |")
    else:
        lines.append(f"| word2vec.c compute-accuracy | skipped: {why_ca} | — | — | — | — | — |")
    lines.append("")
    if g:
        verdict = ("every section, every question and the WordSim-353 figures equal gensim's"
                   if g["equal"] else "DIFFERENT from gensim: " + "; ".join(g["problems"]))
        lines.append(f"- Agreement with gensim (eval_vs_gensim.py): {verdict}.")
    lines.append("- The native model gives the same evaluation: "
                 + ("yes" if formats_agree else "NO") + ".")
    lines.append("")
    return lines


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", default=str(SHARED / "corpora" / "en17m.txt.gz"))
    p.add_argument("--eval-dir", default=str(SHARED / "eval"))
    p.add_argument("--w2v-train", default=str(REPO_ROOT / "build" / "bin" / "w2v-train"))
    add_arguments(p)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--out-md", help="also write the report to this file")
    p.add_argument("--keep-temp", action="store_true")
    return p.parse_args(argv)


def add_arguments(p):
    """The options of this benchmark, shared with bench.py."""
    p.add_argument("--query-model", help="word2vec binary model for the query benchmark "
                   f"(default: train one at -size {QUERY_SIZE} on the corpus)")
    p.add_argument("--query-runs", type=int, default=21,
                   help="timed runs of w2v-nearest per format (default %(default)s)")


def main(argv=None, args=None):
    args = args or parse_args(argv)
    if not args.query_model and not os.path.isfile(args.corpus):
        print(f"query bench: corpus {args.corpus} not found: skipped")
        return 0
    tmp = tempfile.mkdtemp(prefix="bench-query-")
    try:
        report = "\n".join(["# w2v query benchmark", ""] + section(args, tmp))
    finally:
        if args.keep_temp:
            log(f"query bench: temporary files kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(report)
    if args.out_md:
        with open(args.out_md, "w", encoding="utf-8") as f:
            f.write(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
