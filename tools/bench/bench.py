"""Benchmark w2v-train against word2vec.c, gensim and fastText.

All four trainers learn skip-gram and/or CBOW vectors from the same corpus with
the same settings, one after the other (never two at once), and are compared on
wall time, words per second, peak memory, analogy accuracy and WordSim-353
correlation. The result is printed as markdown tables (one per architecture)
on standard output; progress goes to standard error.

    /usr/bin/python3.11 tools/bench/bench.py --corpus PATH --eval-dir DIR \\
        --w2v-train build/bin/w2v-train [--quick] [--arch sg,cbow] [--size 100] \\
        [--threads N] [--out-md FILE] [--keep-temp] [--only all|train|query]

After the training tables, query_bench.py times w2v-nearest and w2v-eval on a
300-d model against gensim and word2vec.c's compute-accuracy (see that file);
``--only query`` runs that part alone, ``--only train`` the rest.

Definitions used in the report:

- wall: from starting the trainer process to its exit, as seen by this script
  (reading the corpus, building the vocabulary, training and writing the
  vectors all count).
- words/s: corpus words x epochs / wall, where corpus words is counted once
  here as whitespace-separated tokens (``gzip -dc CORPUS | wc -w``).
- peak RSS: ``ru_maxrss`` of the trainer process alone, read with os.wait4.
- analogy, WS-353: scored afterwards by evaluate.py, the same way for every
  tool (see that file).

Each timed run also compares the machine's busy CPU time (/proc/stat) with the
trainer's own; if other processes took more than 10% of the machine meanwhile,
the report says that the timing is disturbed.

w2v-train reads the gzip corpus directly (it streams gzip); the other tools read
a plain copy decompressed into a temporary folder before any timing starts.
"""

import argparse
import importlib.metadata
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import query_bench

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
SHARED = REPO_ROOT.parent / "shared"

DEFAULT_CORPUS = SHARED / "corpora" / "en17m.txt.gz"
QUICK_CORPUS = SHARED / "corpora" / "en1m.txt.gz"
DEFAULT_EVAL_DIR = SHARED / "eval"
ANALOGY_FILE = "questions-words.txt"
WORDSIM_FILE = os.path.join("wordsim353", "combined.tab")

# Settings shared by every tool (the learning rate is each tool's own default).
WINDOW = 5
NEGATIVE = 5
SAMPLE = "1e-4"
EPOCHS = 5
MIN_COUNT = 5

ARCH_NAMES = {"sg": "Skip-gram", "cbow": "CBOW",
              "hs": "Skip-gram, hierarchical softmax (no negative sampling)"}
PEERS = ["word2vec.c", "gensim", "fastText"]
# w2v's own variants, each against w2v as it runs by default: the plain
# per-pair kernel (the reference the batched one must match) and one thread
# (for the speed-up of two).
W2V_VARIANTS = {"w2v plain": ["-kernel", "plain"], "w2v 1 thread": ["-threads", "1"]}
TOOL_ORDER = ["w2v", *W2V_VARIANTS, *PEERS]
# Architectures only w2v runs (the peers' hierarchical softmax is not timed).
W2V_ONLY_ARCHS = {"hs"}

# What each tool uses when no learning rate is given (stated in the report).
DEFAULT_LR = ("w2v 0.05 (0.025 skip-gram with -hs 1), word2vec.c 0.025 skip-gram / 0.05 CBOW, "
              "gensim 0.025, fastText 0.05")

# word2vec.c copies file names into char[100] buffers.
WORD2VEC_C_MAX_PATH = 99


def log(msg):
    """Progress message on standard error (standard output carries the report)."""
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Data describing one training run
# --------------------------------------------------------------------------

@dataclass
class Run:
    tool: str
    arch: str                       # "sg" or "cbow"
    cmd: list                       # argv of the trainer
    vectors: str                    # vector file to evaluate afterwards
    binary: bool                    # word2vec binary (True) or text (False) format
    wall: float = None              # seconds
    rss_kib: int = None             # ru_maxrss of the trainer, KiB
    cpu_s: float = None             # user + system CPU seconds of the trainer
    other_cpu_s: float = None       # CPU seconds used by other processes meanwhile
    exit_code: int = None
    log_path: str = ""
    ok: bool = False                # exited 0 and wrote its vector file
    scores: dict = field(default_factory=dict)
    eval_error: str = ""


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Benchmark w2v-train against word2vec.c, gensim and fastText.")
    p.add_argument("--corpus", help=f"gzip or plain text corpus (default {DEFAULT_CORPUS}; "
                                    f"with --quick {QUICK_CORPUS})")
    p.add_argument("--eval-dir", default=str(DEFAULT_EVAL_DIR),
                   help=f"folder with {ANALOGY_FILE} and {WORDSIM_FILE} (default %(default)s)")
    p.add_argument("--w2v-train", default=str(REPO_ROOT / "build" / "bin" / "w2v-train"),
                   help="w2v-train binary (default %(default)s)")
    p.add_argument("--quick", action="store_true", help="use the 1M-word corpus")
    p.add_argument("--arch", default="sg,cbow,hs",
                   help="comma-separated: sg, cbow, hs (w2v only; default %(default)s)")
    p.add_argument("--peers", default=",".join(PEERS),
                   help="comma-separated peers to run (default %(default)s; '' for none)")
    p.add_argument("--no-variants", action="store_true",
                   help="skip w2v's variant runs (plain kernel, one thread)")
    p.add_argument("--reader-bench", help="the reader-bench binary (make bench builds it)")
    p.add_argument("--kernel-bench", help="the kernel-bench binary (make bench builds it)")
    p.add_argument("--size", type=int, default=100, help="vector dimension (default %(default)s)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="threads for every tool (default: all cores, %(default)s)")
    p.add_argument("--repeat", type=int, default=1,
                   help="run w2v and its variants this many times each, interleaved, "
                        "with seeds 1..N; report the median wall time and the mean "
                        "scores (default %(default)s; peers run once)")
    p.add_argument("--out-md", help="also write the report to this file")
    p.add_argument("--keep-temp", action="store_true",
                   help="keep the temporary folder (plain corpus, vectors, logs)")
    p.add_argument("--only", choices=("all", "train", "query"), default="all",
                   help="train: the training tables; query: the query benchmark "
                        "(query_bench.py); default both")
    query_bench.add_arguments(p)
    args = p.parse_args(argv)

    if args.corpus is None:
        args.corpus = str(QUICK_CORPUS if args.quick else DEFAULT_CORPUS)
    args.archs = [a.strip() for a in args.arch.split(",") if a.strip()]
    for a in args.archs:
        if a not in ARCH_NAMES:
            p.error(f"--arch: unknown architecture '{a}' (use sg, cbow, hs)")
    if not args.archs:
        p.error("--arch: nothing to run")
    args.peers = [t.strip() for t in args.peers.split(",") if t.strip()]
    for t in args.peers:
        if t not in PEERS:
            p.error(f"--peers: unknown peer '{t}' (use {', '.join(PEERS)})")
    if args.threads < 1 or args.size < 1 or args.repeat < 1:
        p.error("--threads, --size and --repeat must be positive")
    return args


# --------------------------------------------------------------------------
# Machine and tool versions
# --------------------------------------------------------------------------

def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def mem_total_gib():
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / (1024 * 1024)
    except (OSError, ValueError, IndexError):
        pass
    return None


def command_output(cmd):
    """Standard output of cmd stripped, or "" if it cannot be run."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def gensim_version():
    try:
        return importlib.metadata.version("gensim")
    except importlib.metadata.PackageNotFoundError:
        return ""


def fasttext_version():
    # The fasttext binary has no --version; ask the package manager instead.
    version = command_output(["dpkg-query", "-W", "-f=${Version}", "fasttext"])
    return f"{version} (Debian package)" if version else "unknown version"


def w2v_version():
    rev = command_output(["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty"])
    return f"git {rev}" if rev else "unknown revision"


def gcc_version():
    first = command_output(["gcc", "--version"]).splitlines()
    return first[0] if first else "gcc"


# --------------------------------------------------------------------------
# Corpus preparation (not timed)
# --------------------------------------------------------------------------

def count_words(corpus):
    """Count whitespace-separated tokens with gzip -dc | wc -w (or wc -w)."""
    if corpus.endswith(".gz"):
        gz = subprocess.Popen(["gzip", "-dc", corpus], stdout=subprocess.PIPE)
        out = subprocess.run(["wc", "-w"], stdin=gz.stdout, capture_output=True,
                             text=True, check=True).stdout
        gz.stdout.close()
        if gz.wait() != 0:
            raise RuntimeError(f"gzip -dc {corpus} failed")
    else:
        out = subprocess.run(["wc", "-w", corpus], capture_output=True,
                             text=True, check=True).stdout
    return int(out.split()[0])


def plain_copy(corpus, tmp):
    """Path of an uncompressed copy of the corpus for the peers (made in tmp if gzip)."""
    if not corpus.endswith(".gz"):
        return corpus
    plain = os.path.join(tmp, "corpus.txt")
    with open(plain, "wb") as out:
        subprocess.run(["gzip", "-dc", corpus], stdout=out, check=True)
    return plain


# --------------------------------------------------------------------------
# Tool discovery and command lines
# --------------------------------------------------------------------------

def find_tools(args, tmp):
    """Return (paths, skipped): the runnable tools and a reason for each one skipped."""
    paths, skipped = {}, {}

    w2v = args.w2v_train
    if os.path.isfile(w2v) and os.access(w2v, os.X_OK):
        paths["w2v"] = w2v
        if not args.no_variants:
            for name in W2V_VARIANTS:
                paths[name] = w2v
    else:
        skipped["w2v"] = f"w2v-train not found: skipped (looked for {w2v})"

    for tool in PEERS:
        if tool not in args.peers:
            skipped[tool] = "not asked for (--peers)"
    if "word2vec.c" in args.peers:
        build_word2vec_c(paths, skipped, tmp)
    if "gensim" in args.peers:
        if gensim_version():
            paths["gensim"] = sys.executable
        else:
            skipped["gensim"] = (f"gensim is not importable by {sys.executable} "
                                 "(apt-get install python3-gensim)")
    if "fastText" in args.peers:
        fasttext = shutil.which("fasttext")
        if fasttext:
            paths["fastText"] = fasttext
        else:
            skipped["fastText"] = "fasttext not found on PATH (apt-get install fasttext)"
    return paths, skipped


def build_word2vec_c(paths, skipped, tmp):
    """Build word2vec.c from the npm package into tmp; record it in paths or skipped."""
    log("building word2vec.c from the npm package 'word2vec' ...")
    build_dir = os.path.join(tmp, "word2vec-c")
    build = subprocess.run(["sh", str(HERE / "build-word2vec-c.sh"), build_dir],
                           capture_output=True, text=True)
    binary = build.stdout.strip().splitlines()[-1] if build.stdout.strip() else ""
    if build.returncode == 0 and os.access(binary, os.X_OK):
        paths["word2vec.c"] = binary
    else:
        tail = "; ".join(build.stderr.strip().splitlines()[-3:])
        skipped["word2vec.c"] = f"build failed: {tail or 'no output'}"


def word2vec_npm_version(tmp):
    pkg = os.path.join(tmp, "word2vec-c", "npm", "node_modules", "word2vec", "package.json")
    try:
        with open(pkg, encoding="utf-8") as f:
            return json.load(f).get("version", "unknown")
    except (OSError, ValueError):
        return "unknown"


def runs_arch(tool, arch):
    """Whether the benchmark trains tool on arch."""
    if arch in W2V_ONLY_ARCHS:
        return tool == "w2v" or tool == "w2v plain"
    return True


def is_w2v(tool):
    return tool == "w2v" or tool in W2V_VARIANTS


def make_run(tool, exe, arch, args, corpus_gz, corpus_plain, tmp, rep=0):
    """Build the Run (command line and output file) for one tool and architecture.

    rep numbers w2v's repeated runs: each has its own output file and seed.
    """
    cbow = "1" if arch == "cbow" else "0"
    size, threads = str(args.size), str(args.threads)
    stem = os.path.join(tmp, f"{tool.replace('.', '-')}-{arch}")
    if rep:
        stem += f"-{rep + 1}"

    if tool == "w2v" or tool in W2V_VARIANTS:
        out = stem.replace(" ", "-") + ".bin"
        negative, hs = ("0", "1") if arch == "hs" else (str(NEGATIVE), "0")
        cmd = [exe, "-corpus", corpus_gz, "-output", out, "-binary", "1", "-size", size,
               "-window", str(WINDOW), "-negative", negative, "-hs", hs, "-sample", SAMPLE,
               "-iter", str(EPOCHS), "-min-count", str(MIN_COUNT), "-threads", threads,
               "-cbow", cbow, "-quiet"]
        extra = W2V_VARIANTS.get(tool, [])
        if extra[:1] == ["-threads"]:
            cmd[cmd.index("-threads") + 1] = extra[1]
        else:
            cmd += extra
        if args.repeat > 1:
            cmd += ["-seed", str(rep + 1)]
        return Run(tool, arch, cmd, out, binary=True)
    if tool == "word2vec.c":
        out = stem + ".bin"
        cmd = [exe, "-train", corpus_plain, "-output", out, "-binary", "1", "-cbow", cbow,
               "-size", size, "-window", str(WINDOW), "-negative", str(NEGATIVE), "-hs", "0",
               "-sample", SAMPLE, "-iter", str(EPOCHS), "-min-count", str(MIN_COUNT),
               "-threads", threads]
        return Run(tool, arch, cmd, out, binary=True)
    if tool == "gensim":
        out = stem + ".bin"
        cmd = [exe, str(HERE / "gensim_train.py"), "--corpus-file", corpus_plain,
               "--output", out, "--sg", "0" if arch == "cbow" else "1", "--size", size,
               "--window", str(WINDOW), "--negative", str(NEGATIVE), "--sample", SAMPLE,
               "--epochs", str(EPOCHS), "--min-count", str(MIN_COUNT), "--workers", threads]
        return Run(tool, arch, cmd, out, binary=True)
    if tool == "fastText":
        # fastText writes PREFIX.bin (its own format) and PREFIX.vec (word2vec text).
        cmd = [exe, "cbow" if arch == "cbow" else "skipgram", "-input", corpus_plain,
               "-output", stem, "-dim", size, "-ws", str(WINDOW), "-neg", str(NEGATIVE),
               "-t", SAMPLE, "-epoch", str(EPOCHS), "-minCount", str(MIN_COUNT),
               "-minn", "0", "-maxn", "0", "-thread", threads]
        return Run(tool, arch, cmd, stem + ".vec", binary=False)
    raise ValueError(tool)


# --------------------------------------------------------------------------
# Timing and evaluation
# --------------------------------------------------------------------------

def busy_cpu_seconds():
    """CPU seconds spent busy by the whole machine since boot, from /proc/stat.

    Returns None where /proc/stat is not available.
    """
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal [guest guest_nice]; guest
    # time is already counted in user/nice, so only the first eight are summed.
    busy = sum(fields[:8]) - fields[3] - fields[4]
    return busy / os.sysconf("SC_CLK_TCK")


def run_timed(run):
    """Run the trainer, filling in wall time, exit code, CPU time and peak RSS.

    os.wait4 on the child's pid returns the resource usage of that child (and of
    any descendants it waited for) only, unlike RUSAGE_CHILDREN which would add
    up everything this script ever started.

    The machine's busy time over the same interval, minus the trainer's own CPU
    time, tells how much other processes competed with it (other_cpu_s).
    """
    with open(run.log_path, "wb") as out:
        busy_before = busy_cpu_seconds()
        start = time.perf_counter()
        proc = subprocess.Popen(run.cmd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        run.wall = time.perf_counter() - start
        busy_after = busy_cpu_seconds()
    # Tell Popen the child has been reaped so that it does not wait again.
    proc.returncode = run.exit_code = os.waitstatus_to_exitcode(status)
    run.rss_kib = usage.ru_maxrss  # KiB on Linux
    run.ok = run.exit_code == 0 and os.path.exists(run.vectors)
    run.cpu_s = usage.ru_utime + usage.ru_stime
    if busy_before is not None and busy_after is not None:
        run.other_cpu_s = max(0.0, busy_after - busy_before - run.cpu_s)


def disturbed(run, cores):
    """True if other processes took more than 10% of the machine during the run."""
    return (run.other_cpu_s is not None and run.wall
            and run.other_cpu_s > 0.10 * run.wall * cores)


def log_tail(path, lines=5):
    try:
        with open(path, "rb") as f:
            text = f.read()[-4000:].decode("utf-8", "replace")
    except OSError:
        return ""
    # Progress meters rewrite one line with '\r'; keep only the last state.
    text = "\n".join(part.split("\r")[-1] for part in text.splitlines())
    return "\n".join(text.strip().splitlines()[-lines:])


def evaluate(run, analogies, wordsim):
    """Score run.vectors with evaluate.py (in its own process, like every other model)."""
    cmd = [sys.executable, str(HERE / "evaluate.py"), run.vectors,
           "--binary" if run.binary else "--text"]
    if analogies:
        cmd += ["--analogies", analogies]
    if wordsim:
        cmd += ["--wordsim", wordsim]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        run.eval_error = (res.stderr.strip().splitlines() or ["evaluate.py failed"])[-1]
        return
    run.scores = json.loads(res.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------

def words_per_sec(run, corpus_words):
    return corpus_words * EPOCHS / run.wall


def fmt_num(x, digits=1):
    return "—" if x is None else f"{x:,.{digits}f}"


def metrics(runs, corpus_words):
    """The five numbers of a table row (None where unavailable).

    runs: the tool's runs on one architecture (several with --repeat). Wall
    time is their median, peak RSS their largest, the scores their mean;
    "range" holds the lowest and highest analogy score when there are several.
    """
    if not runs or not all(r.ok for r in runs):
        return None
    wall = statistics.median(r.wall for r in runs)
    def mean_of(key):
        have = [100.0 * r.scores[key] for r in runs if r.scores.get(key) is not None]
        return statistics.fmean(have) if len(have) == len(runs) else None, have
    analogy, each = mean_of("analogy")
    ws, _ = mean_of("ws353_spearman")
    return {
        "wall": wall,
        "wps": corpus_words * EPOCHS / wall,
        "rss": max(r.rss_kib for r in runs) / 1024.0,
        "analogy": analogy,
        "ws": ws,
        "range": (min(each), max(each)) if len(each) > 1 else None,
        "n": len(runs),
    }


def ratio_row(w2v, peers):
    """Cells comparing w2v with the best peer on each column.

    peers maps tool name -> metrics dict. Ratios are w2v / peer; differences
    are w2v - peer in points.
    """
    def best(key, pick):
        have = {t: m[key] for t, m in peers.items() if m and m[key] is not None}
        if not have:
            return None, None
        tool = pick(have, key=have.get)
        return tool, have[tool]

    cells = []
    for key, pick, kind in (("wall", min, "ratio"), ("wps", max, "ratio"),
                            ("rss", min, "ratio"), ("analogy", max, "diff"),
                            ("ws", max, "diff")):
        tool, value = best(key, pick)
        mine = w2v[key]
        if tool is None or mine is None:
            cells.append("—")
        elif kind == "ratio":
            cells.append(f"×{mine / value:.2f} vs {tool}")
        else:
            cells.append(f"{mine - value:+.1f} vs {tool}")
    return cells


def arch_table(arch, runs, skipped, corpus_words):
    lines = [f"## {ARCH_NAMES[arch]}", "",
             "| tool | wall s | words/s | peak RSS MB | analogy % | WS-353 ρ×100 |",
             "|---|---:|---:|---:|---:|---:|"]
    table = {}
    for tool in TOOL_ORDER:
        if not runs_arch(tool, arch):
            continue
        if tool in skipped:
            lines.append(f"| {tool} | skipped | — | — | — | — |")
            continue
        tool_runs = runs.get((tool, arch))
        if not tool_runs:
            continue
        m = metrics(tool_runs, corpus_words)
        table[tool] = m
        if m is None:
            bad = next(r for r in tool_runs if not r.ok)
            why = f"exit {bad.exit_code}" if bad.exit_code else "no vector file"
            lines.append(f"| {tool} | failed ({why}) | — | — | — | — |")
            continue
        label = f"{tool} (×{m['n']})" if m["n"] > 1 else tool
        analogy = fmt_num(m["analogy"])
        if m["range"]:
            analogy += f" ({m['range'][0]:.1f}–{m['range'][1]:.1f})"
        lines.append(f"| {label} | {fmt_num(m['wall'])} | {fmt_num(m['wps'], 0)} | "
                     f"{fmt_num(m['rss'], 0)} | {analogy} | {fmt_num(m['ws'])} |")

    if table.get("w2v") and any(table.get(p) for p in PEERS):
        cells = ratio_row(table["w2v"], {p: table.get(p) for p in PEERS})
        lines.append("| **w2v vs best peer** | " + " | ".join(cells) + " |")
    for name in W2V_VARIANTS:
        if table.get("w2v") and table.get(name):
            cells = ratio_row(table["w2v"], {name: table[name]})
            lines.append(f"| **w2v vs {name}** | " + " | ".join(cells) + " |")

    notes = []
    for tool in TOOL_ORDER:
        tool_runs = runs.get((tool, arch))
        if not tool_runs or not tool_runs[0].ok:
            continue
        run = tool_runs[0]
        s = run.scores
        if run.eval_error:
            notes.append(f"{tool}: evaluation failed: {run.eval_error}")
        elif s:
            part = f"{tool}: vocab {s['vocab']:,}"
            if "analogy_questions" in s:
                part += f", analogy questions {s['analogy_questions']:,}/{s['analogy_total']:,}"
            if "ws353_oov" in s:
                part += f", WS-353 pairs OOV {100 * s['ws353_oov']:.1f}%"
            notes.append(part)
    if notes:
        lines += ["", "Coverage: " + "; ".join(notes) + "."]
    return lines


def run_json(cmd, label, cells, lines):
    """The JSON line a bench binary prints; on failure, a table row saying so.

    cells: the row's columns after the label, filled with dashes.
    """
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        lines.append(f"| {label} | failed: {r.stderr.strip()} " + "| — " * (cells - 1) + "|")
        return None
    return json.loads(r.stdout)


def reader_section(args, corpus_plain, runs, corpus_words):
    """The corpus reader alone (reader-bench), against w2v's training rate."""
    if not args.reader_bench:
        return []
    t = args.threads
    lines = ["## The corpus reader alone", "",
             "One thread reads the corpus in the trainer's 1 MB blocks and nothing else "
             "(blocks: what happens under the trainer's reader lock), then reads and "
             "tokenises them (read), then does it again looking every word up in the "
             "vocabulary (lookup), as a worker does before training. The first epoch of a "
             "run does that and stores the ids in the id cache (fill); later epochs read "
             "the cache back (cache). run: the reader's rate over a whole "
             f"{EPOCHS}-epoch run, {EPOCHS} x words / (fill + {EPOCHS - 1} x cache). "
             f"{t} workers: the same first epoch and cache passes done by {t} threads "
             "as the trainer's workers do them (the next block under a lock, its "
             "tokens, lookups and ids outside it), and the run rate from those. "
             "Ratios: the reader's words/s over w2v's skip-gram training words/s above.", "",
             "| input | blocks words/s | read words/s | lookup words/s | cache words/s "
             f"| run words/s | ×training (lookup) | ×training (run) "
             f"| {t} workers: fill words/s | {t} workers: run words/s "
             f"| ×training ({t} workers, run) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    sg = metrics(runs.get(("w2v", "sg")), corpus_words)
    train_wps = sg["wps"] if sg else None
    for label, path in (("gzip", args.corpus), ("plain", corpus_plain)):
        log(f"bench: reader alone on the {label} corpus ...")
        d = run_json([args.reader_bench, path, str(MIN_COUNT), str(t)], label, 10, lines)
        if d is None:
            continue
        run_wps = EPOCHS * d["words"] / (d["fill_s"] + (EPOCHS - 1) * d["cache_s"])
        run_t = EPOCHS * d["words"] / (d["fill_t_s"] + (EPOCHS - 1) * d["cache_t_s"])
        ratio = (lambda x: f"×{x / train_wps:.1f}") if train_wps else (lambda x: "—")
        lines.append(f"| {label} | {d['blocks_words_per_s']:,.0f} "
                     f"| {d['read_words_per_s']:,.0f} | {d['lookup_words_per_s']:,.0f} "
                     f"| {d['cache_words_per_s']:,.0f} | {run_wps:,.0f} "
                     f"| {ratio(d['lookup_words_per_s'])} | {ratio(run_wps)} "
                     f"| {d['fill_t_words_per_s']:,.0f} | {run_t:,.0f} | {ratio(run_t)} |")
    return lines + [""]


def kernel_section(args, runs, corpus_words):
    """Where w2v's training time goes (kernel-bench), against the peers' walls."""
    if not args.kernel_bench:
        return []
    t = args.threads
    lines = ["## Where the kernel's time goes", "",
             f"kernel-bench trains twice more with w2v's settings above ({t} threads, "
             "vectors not written): once as it is (train), once with every batch step "
             "replaced by one read and one write of each row it uses (touch: the rows' "
             "trips to and from memory, the draws, windows, reading and threads, without "
             "the products). arithmetic: the batch step alone on rows that stay in the "
             "cache (6 context rows against the target and 5 noise rows, one thread), "
             f"times the run's kept targets, over {t} threads. best wall: w2v's wall "
             "above with its training part (all but kernel-bench's vocabulary pass) "
             "scaled by touch / train, what the run would take if the products cost "
             "nothing beyond the memory traffic; best ×: gensim's wall over that, "
             "the largest ratio a kernel that moves each row of a target's batch once can "
             "reach on this machine.", "",
             "| architecture | train s | touch s | arithmetic s | touch / train "
             "| w2v wall s | best wall s | gensim wall s | w2v × gensim | best × gensim |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for arch in args.archs:
        if arch not in ("sg", "cbow"):
            continue
        log(f"bench: kernel-bench {ARCH_NAMES[arch]} ...")
        d = run_json([args.kernel_bench, args.corpus, str(args.size), str(t), arch],
                     ARCH_NAMES[arch], 9, lines)
        if d is None:
            continue
        mine = metrics(runs.get(("w2v", arch)), corpus_words)
        gensim = metrics(runs.get(("gensim", arch)), corpus_words)
        best_peer = gensim["wall"] if gensim else None
        wall = mine["wall"] if mine else None
        # The training part of w2v's wall (all but the vocabulary pass)
        # shrunk by touch / train, as measured back to back by kernel-bench.
        scale = min(1.0, d["touch_s"] / d["train_s"])
        best = wall - max(0.0, wall - d["vocab_s"]) * (1 - scale) if wall else None
        arith = f"{d['arith_s']:.1f}" if d["arith_s"] > 0 else "—"
        ratio = (lambda x: f"×{best_peer / x:.2f}" if best_peer and x else "—")
        lines.append(f"| {ARCH_NAMES[arch]} | {d['train_s']:.1f} | {d['touch_s']:.1f} "
                     f"| {arith} | {d['touch_s'] / d['train_s']:.2f} | {fmt_num(wall)} "
                     f"| {fmt_num(best)} | {fmt_num(best_peer)} | {ratio(wall)} "
                     f"| {ratio(best)} |")
    return lines + [""]


def display_cmd(cmd, tmp):
    """A command line for the report, with the temporary folder shown as $TMP."""
    return shlex.join(cmd).replace(tmp, "$TMP")


def build_report(args, info, runs, skipped, eval_notes, tmp):
    w = info["corpus_words"]
    lines = [
        "# w2v benchmark" + (" (quick)" if args.quick else ""),
        "",
        f"- Machine: {info['cpu']}, {os.cpu_count()} cores"
        + (f", {info['mem']:.0f} GiB RAM" if info["mem"] else "")
        + f"; {args.threads} threads for every tool.",
        f"- Corpus: `{args.corpus}`, {w:,} words (whitespace-separated tokens, "
        "counted as `gzip -dc CORPUS | wc -w`).",
        f"- Settings for every tool: size {args.size}, window {WINDOW}, negative {NEGATIVE}, "
        f"no hierarchical softmax, sample {SAMPLE}, {EPOCHS} epochs, min-count {MIN_COUNT}. "
        f"Learning rate: each tool's default ({DEFAULT_LR}).",
        f"- Versions: w2v {info['w2v']}; word2vec.c from npm package word2vec "
        f"{info['word2vec_npm']} built with {info['gcc']} "
        "(`-O3 -march=native -funroll-loops`); "
        f"gensim {info['gensim'] or 'n/a'} (`corpus_file=` mode); fastText {info['fasttext']}.",
        "- wall: trainer process start to exit (corpus reading, vocabulary, training and "
        "writing the vectors; for gensim, Python start-up and import too). "
        f"words/s = {w:,} words × {EPOCHS} epochs / wall. "
        "peak RSS: `ru_maxrss` of the trainer process (os.wait4), in MiB.",
        "- analogy: `questions-words.txt`, gensim `evaluate_word_analogies` with "
        "restrict_vocab=30000, case-insensitive; accuracy over the questions whose four "
        "words are in the 30,000 most frequent. WS-353: Spearman ρ × 100 between cosine "
        "similarity and the human score over in-vocabulary pairs (`wordsim353/combined.tab`).",
        "- Ratio row: w2v ÷ best peer (lower is better for wall and RSS, higher for words/s); "
        "analogy and WS-353: w2v minus best peer, in points.",
        "- w2v reads the gzip corpus directly; the peers read a plain copy decompressed "
        "beforehand (not timed).",
    ]
    if args.repeat > 1:
        lines.append(f"- w2v and each of its variants ran {args.repeat} times (×{args.repeat}), "
                     f"taking turns, with seeds 1 to {args.repeat}: wall and words/s are from "
                     "the median wall time, peak RSS the largest, analogy and WS-353 the mean "
                     "(the analogy range in brackets). Each peer ran once.")
    for tool, why in skipped.items():
        lines.append(f"- Skipped {tool}: {why}")
    for note in eval_notes:
        lines.append(f"- {note}")
    cores = os.cpu_count() or 1
    every = [r for rs in runs.values() for r in rs]
    noisy = [r for r in every if disturbed(r, cores)]
    if noisy:
        lines.append("- **Warning: timings disturbed.** Other processes were busy during "
                     + ", ".join(f"{r.tool} {ARCH_NAMES[r.arch]} ({r.other_cpu_s:.0f} CPU s "
                                 f"in {r.wall:.0f} s)" for r in noisy)
                     + "; rerun on an idle machine.")
    else:
        lines.append("- The machine was otherwise idle during every timed run "
                     "(checked with /proc/stat).")
    lines.append("")
    for arch in args.archs:
        lines += arch_table(arch, runs, skipped, w)
        lines.append("")

    lines += ["## Commands", "", "```"]
    for arch in args.archs:
        for tool in TOOL_ORDER:
            tool_runs = runs.get((tool, arch))
            if tool_runs:
                lines.append(display_cmd(tool_runs[0].cmd, tmp))
    lines += ["```", ""]

    failures = [r for r in every if not r.ok]
    if failures:
        lines += ["## Failures", ""]
        for r in failures:
            lines.append(f"{r.tool} {ARCH_NAMES[r.arch]} (exit {r.exit_code}); log tail:")
            lines += ["```", log_tail(r.log_path).replace(tmp, "$TMP"), "```", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def main(argv=None):
    args = parse_args(argv)
    started = time.perf_counter()
    if args.only == "query":
        return query_bench.main(args=args)

    if not os.path.isfile(args.corpus):
        print(f"bench: corpus {args.corpus} not found: benchmark skipped "
              "(pass --corpus PATH; see tools/bench/README.md)")
        return 0

    # Evaluation sets: a missing file only drops that column.
    eval_notes = []
    analogies = os.path.join(args.eval_dir, ANALOGY_FILE)
    wordsim = os.path.join(args.eval_dir, WORDSIM_FILE)
    if not os.path.isfile(analogies):
        eval_notes.append(f"Analogy scores skipped: {analogies} not found.")
        analogies = None
    if not os.path.isfile(wordsim):
        eval_notes.append(f"WS-353 scores skipped: {wordsim} not found.")
        wordsim = None
    for note in eval_notes:
        log(f"bench: {note}")

    tmp = tempfile.mkdtemp(prefix="bench-peers-")
    runs = {}
    try:
        paths, skipped = find_tools(args, tmp)
        for tool, why in skipped.items():
            log(f"bench: {tool}: {why}")

        log(f"bench: counting words in {args.corpus} ...")
        corpus_words = count_words(args.corpus)
        log(f"bench: {corpus_words:,} words; decompressing a plain copy for the peers ...")
        corpus_plain = plain_copy(args.corpus, tmp)

        # word2vec.c silently truncates file names of 100 bytes or more.
        too_long = [p for p in (corpus_plain, os.path.join(tmp, "word2vec-c-cbow.bin"))
                    if len(p) > WORD2VEC_C_MAX_PATH]
        if "word2vec.c" in paths and too_long:
            del paths["word2vec.c"]
            skipped["word2vec.c"] = (f"path longer than {WORD2VEC_C_MAX_PATH} bytes "
                                     f"({too_long[0]}); set TMPDIR to a shorter folder")

        info = {
            "cpu": cpu_model(), "mem": mem_total_gib(), "corpus_words": corpus_words,
            "w2v": w2v_version(), "word2vec_npm": word2vec_npm_version(tmp),
            "gcc": gcc_version(), "gensim": gensim_version(), "fasttext": fasttext_version(),
        }

        # Training: one process at a time, all timings before any evaluation.
        # w2v and its variants take turns (--repeat times), then the peers once.
        plan = []
        for arch in args.archs:
            tools = [t for t in TOOL_ORDER if t in paths and runs_arch(t, arch)]
            for rep in range(args.repeat):
                plan += [make_run(t, paths[t], arch, args, os.path.abspath(args.corpus),
                                  corpus_plain, tmp, rep) for t in tools if is_w2v(t)]
            plan += [make_run(t, paths[t], arch, args, os.path.abspath(args.corpus),
                              corpus_plain, tmp) for t in tools if not is_w2v(t)]
        for i, run in enumerate(plan, 1):
            run.log_path = os.path.splitext(run.vectors)[0] + ".log"
            log(f"bench: [{i}/{len(plan)}] {run.tool} {ARCH_NAMES[run.arch]} ...")
            run_timed(run)
            runs.setdefault((run.tool, run.arch), []).append(run)
            if run.ok:
                log(f"bench:   {run.wall:.1f} s, {words_per_sec(run, corpus_words):,.0f} words/s, "
                    f"peak RSS {run.rss_kib / 1024:.0f} MiB, "
                    f"{run.cpu_s / run.wall:.2f} cores busy")
                if disturbed(run, os.cpu_count() or 1):
                    log(f"bench:   warning: other processes used {run.other_cpu_s:.1f} CPU s "
                        "during this run; its timing is disturbed")
            else:
                log(f"bench:   FAILED (exit {run.exit_code}):\n{log_tail(run.log_path)}")
            if run.tool == "fastText":
                # Only the .vec file is evaluated; drop fastText's own model file.
                bin_path = os.path.splitext(run.vectors)[0] + ".bin"
                if os.path.exists(bin_path):
                    os.unlink(bin_path)

        if analogies or wordsim:
            for run in plan:
                if run.ok:
                    log(f"bench: evaluating {run.tool} {ARCH_NAMES[run.arch]} ...")
                    evaluate(run, analogies, wordsim)
                    if run.eval_error:
                        log(f"bench:   evaluation failed: {run.eval_error}")

        reader = reader_section(args, corpus_plain, runs, corpus_words)
        kernel = kernel_section(args, runs, corpus_words)
        report = build_report(args, info, runs, skipped, eval_notes, tmp)
        report += "\n" + "\n".join(reader)
        report += "\n" + "\n".join(kernel)
        if args.only == "all":
            report += "\n" + "\n".join(query_bench.section(args, tmp))
    finally:
        if args.keep_temp:
            log(f"bench: temporary files kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print(report)
    if args.out_md:
        os.makedirs(os.path.dirname(os.path.abspath(args.out_md)), exist_ok=True)
        with open(args.out_md, "w", encoding="utf-8") as f:
            f.write(report + "\n")
        log(f"bench: report written to {args.out_md}")
    log(f"bench: done in {time.perf_counter() - started:.0f} s")

    # A failing w2v is an error for `make bench`; a failing peer is only reported.
    w2v_failed = any(r.tool == "w2v" and not r.ok for rs in runs.values() for r in rs)
    return 1 if w2v_failed else 0


if __name__ == "__main__":
    sys.exit(main())
