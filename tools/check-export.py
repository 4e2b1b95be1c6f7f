#!/usr/bin/env python3
"""Checks w2v-export and w2v-attention against NumPy.

  1. w2v-export writes W_E.npy, W_E.safetensors and vocab.txt for a model;
     np.load reads the .npy, the safetensors header is parsed with json and
     the tensor with numpy.frombuffer. Shapes, dtypes, alignment, and every
     row are compared with the model file read here independently (word2vec
     binary or text): word rows bit for bit, the <|unk|> row against the
     mean in float64, the <|endoftext|> row zero, .npy and safetensors
     bit-identical, vocab.txt line i = token i.
  2. w2v-tokenize -json on a tricky text against a reimplementation of the
     corpora's normalisation (Unicode NFD, accents stripped, lowercase,
     digits spelled out, anything else a space), then every code point
     from U+0080 up, one a line between two letters.
  3. w2v-attention -json, once with seeded weights and once with -wq -wk
     -wv files written here with numpy.save (causal, several heads, no
     positions): X = W_E[ids] + PE, Q, K, V, the scores, the softmax and the
     context are recomputed in float64 from the exported matrix and compared
     with relative error max|a - b| / max|b| < 1e-5.

Usage: check-export.py --bin build/bin [--model FILE] [--keep DIR]
Without --model, a small model is trained first with w2v-train on the first
lines of corpora/demo.txt.gz. Prints one line per check and the figures;
exits 1 when a check fails.
"""

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
import unicodedata

import numpy as np

TOL = 1e-5
UNK, EOT = "<|unk|>", "<|endoftext|>"
SENTENCE = "carlos alcaraz is a very skilled tennis player"
failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def rel_err(got, want):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    scale = np.max(np.abs(want))
    diff = np.max(np.abs(got - want))
    return float(diff / scale) if scale > 0 else float(diff)


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.exit("check-export: %s failed (%d):\n%s" % (" ".join(cmd), p.returncode, p.stderr))
    return p.stdout


# ---------------------------------------------------------------------------
# Reading the model independently of w2v


def read_model(path):
    """Words and float32 matrix of a word2vec binary or text file."""
    with open(path, "rb") as f:
        data = f.read()
    nl = data.index(b"\n")
    v, d = (int(x) for x in data[:nl].split())
    pos = nl + 1
    words, rows = [], np.empty((v, d), dtype=np.float32)
    # a text row is a word and d numbers on one line
    end = data.find(b"\n", pos)
    line = data[pos:end if end >= 0 else len(data)].split()
    binary = not (len(line) == d + 1 and all(_is_number(x) for x in line[1:]))
    for i in range(v):
        while data[pos:pos + 1] in (b"\n", b" "):
            pos += 1
        sp = data.index(b" ", pos)
        words.append(data[pos:sp].decode("utf-8", "surrogateescape"))
        pos = sp + 1
        if binary:
            rows[i] = np.frombuffer(data, dtype="<f4", count=d, offset=pos)
            pos += 4 * d
        else:
            end = data.index(b"\n", pos)
            rows[i] = np.array(data[pos:end].split(), dtype=np.float32)
            pos = end + 1
    return words, rows


def _is_number(b):
    try:
        float(b)
        return True
    except ValueError:
        return False


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    info = header["embedding.weight"]
    b, e = info["data_offsets"]
    arr = np.frombuffer(data, dtype="<f4", count=(e - b) // 4, offset=8 + n + b)
    return n, header, info, arr.reshape(info["shape"])


# ---------------------------------------------------------------------------
# Checks


def check_export(bin_dir, model, out):
    words, rows = read_model(model)
    v, d = rows.shape
    npy, st, voc = (os.path.join(out, x) for x in ("W_E.npy", "W_E.safetensors", "vocab.txt"))
    t0 = time.perf_counter()
    run([os.path.join(bin_dir, "w2v-export"), "-model", model, "-npy", npy,
         "-safetensors", st, "-vocab", voc])
    t_export = time.perf_counter() - t0
    print("export: %d words x %d, w2v-export took %.2f s (npy %d bytes, safetensors %d bytes)"
          % (v, d, t_export, os.path.getsize(npy), os.path.getsize(st)))

    we = np.load(npy)
    check(we.shape == (v + 2, d) and we.dtype == np.float32,
          "W_E.npy loads with np.load: shape %s dtype %s" % (we.shape, we.dtype))
    with open(npy, "rb") as f:
        head = f.read(10)
    hl = int.from_bytes(head[8:10], "little")
    check(head[:8] == b"\x93NUMPY\x01\x00" and (10 + hl) % 64 == 0,
          ".npy version 1.0, data at byte %d (a multiple of 64)" % (10 + hl))
    check(np.array_equal(we[:v].view(np.uint32), rows.view(np.uint32)),
          "W_E rows 0..%d equal the model's vectors bit for bit" % (v - 1))
    mean = rows.astype(np.float64).mean(axis=0)
    e_unk = rel_err(we[v], mean)
    check(e_unk < TOL, "row %d (%s) is the mean vector: rel err %.2e" % (v, UNK, e_unk))
    check(not we[v + 1].any(), "row %d (%s) is zeros" % (v + 1, EOT))

    n, header, info, ws = read_safetensors(st)
    check(n % 8 == 0 and info["dtype"] == "F32" and info["shape"] == [v + 2, d],
          "safetensors: header %d bytes (multiple of 8), dtype %s, shape %s"
          % (n, info["dtype"], info["shape"]))
    check(os.path.getsize(st) == 8 + n + info["data_offsets"][1],
          "safetensors: data_offsets %s cover the file exactly" % info["data_offsets"])
    check(np.array_equal(ws.view(np.uint32), we.view(np.uint32)),
          "safetensors tensor and .npy are bit-identical")
    meta = header.get("__metadata__", {})
    check(meta.get("unk_id") == str(v) and meta.get("eot_id") == str(v + 1),
          "safetensors __metadata__: %s" % json.dumps(meta, sort_keys=True))

    with open(voc, encoding="utf-8", errors="surrogateescape") as f:
        lines = f.read().split("\n")
    check(lines[:-1] == words + [UNK, EOT] and lines[-1] == "",
          "vocab.txt: %d lines, line i = token of id i" % (len(lines) - 1))
    return words, we


DIGITS = "zero one two three four five six seven eight nine".split()


def normalise(text):
    """The corpora's normalisation (corpora/build-demo-corpus.sh)."""
    docs = []
    for doc in text.replace("\r\n", "\n").replace("\r", "\n").replace(EOT, "\n").split("\n"):
        s = unicodedata.normalize("NFD", doc)
        s = "".join(c for c in s if unicodedata.category(c) != "Mn").lower()
        s = "".join(" %s " % DIGITS[int(c)] if "0" <= c <= "9" else c for c in s)
        s = "".join(c if "a" <= c <= "z" else " " for c in s)
        s = " ".join(s.split())
        if s:
            docs.append(s)
    return docs


def check_tokenizer(bin_dir, model, words):
    text = ("The Café's 2nd Ångström—naïve, DON'T!\nZoë in 1984<|endoftext|>tennis ßtraße"
            " Việt Nam ṡ \u212a e\u0301 a\u1dc0b c\ufe20d")
    out = json.loads(run([os.path.join(bin_dir, "w2v-tokenize"), "-model", model, "-json"],
                         input=text))
    index = {w: i for i, w in enumerate(words)}
    v = len(words)
    want = []
    for k, doc in enumerate(normalise(text)):
        if k:
            want.append((EOT, v + 1))
        want += [(w, index.get(w, v)) for w in doc.split()]
    got = [(t["token"], t["id"]) for t in out["tokens"]]
    check(got == want, "w2v-tokenize matches the corpus normalisation: %d tokens, %d unknown"
          % (len(got), sum(1 for _, i in got if i == v)))


def check_tokenizer_sweep(bin_dir, model):
    """Every code point between two letters, one a line, against Python."""
    cps = [c for c in range(0x80, 0x110000) if not 0xD800 <= c <= 0xDFFF]
    text = "\n".join("x%sy" % chr(c) for c in cps)
    t0 = time.perf_counter()
    out = json.loads(run([os.path.join(bin_dir, "w2v-tokenize"), "-model", model, "-json"],
                         input=text))
    took = time.perf_counter() - t0
    got = out["normalised"].split("\n")
    want = [normalise("x%sy" % chr(c)) for c in cps]
    bad = [c for c, g, w in zip(cps, got, want) if [g] != w]
    check(len(got) == len(cps) and not bad,
          "w2v-tokenize normalises all %d code points U+0080..U+10FFFF as the corpora "
          "were (Unicode %s; %d differ%s; %.1f s)"
          % (len(cps), unicodedata.unidata_version, len(bad),
             "" if not bad else ": " + " ".join("U+%04X" % c for c in bad[:8]), took))


def positional(n, d):
    pe = np.zeros((n, d))
    pos = np.arange(n)[:, None]
    j = np.arange(d)[None, :]
    angle = pos / np.power(10000.0, (j - j % 2) / d)
    pe[:, 0::2] = np.sin(angle[:, 0::2])
    pe[:, 1::2] = np.cos(angle[:, 1::2])
    return pe


def attention_reference(x, wq, wk, wv, heads, causal):
    n = x.shape[0]
    dk = wq.shape[1] // heads
    q, k, v = x @ wq, x @ wk, x @ wv
    scores, weights, ctx = [], [], np.zeros((n, heads * dk))
    for h in range(heads):
        cols = slice(h * dk, (h + 1) * dk)
        s = q[:, cols] @ k[:, cols].T / np.sqrt(dk)
        m = np.where(np.tril(np.ones((n, n))) > 0, s, -np.inf) if causal else s
        e = np.exp(m - m.max(axis=1, keepdims=True))
        a = e / e.sum(axis=1, keepdims=True)
        scores.append(s)
        weights.append(a)
        ctx[:, cols] = a @ v[:, cols]
    return q, k, v, np.array(scores), np.array(weights), ctx


def check_attention(bin_dir, model, we, out, label, extra, weights=None):
    cmd = [os.path.join(bin_dir, "w2v-attention"), "-model", model, "-json"] + extra + [SENTENCE]
    t0 = time.perf_counter()
    j = json.loads(run(cmd))
    took = time.perf_counter() - t0
    ids = [t["id"] for t in j["tokens"]]
    n, d, heads = len(ids), we.shape[1], j["heads"]
    emb = we[ids].astype(np.float64)
    pe = positional(n, d) if j["pos"] == "sinusoidal" else np.zeros((n, d))
    x = emb + pe
    if weights is None:
        wq, wk, wv = (np.array(j[k], dtype=np.float64) for k in ("w_q", "w_k", "w_v"))
    else:
        wq, wk, wv = (w.astype(np.float64) for w in weights)
        check(np.array_equal(np.array(j["w_q"], dtype=np.float32), weights[0]),
              "%s: -wq file read back exactly" % label)
    # the tool's input, rebuilt from the exported matrix
    e_x = rel_err(j["x"], x)
    q, k, v, s, a, c = attention_reference(x, wq, wk, wv, heads, j["causal"])
    errs = {
        "x": e_x,
        "q": rel_err(j["q"], q), "k": rel_err(j["k"], k), "v": rel_err(j["v"], v),
        "scores": rel_err(j["scores"], s), "weights": rel_err(j["weights"], a),
        "context": rel_err(j["context"], c),
    }
    w = np.array(j["weights"])
    sums = np.abs(w.sum(axis=2) - 1).max()
    upper = np.abs(w[:, np.triu_indices(n, 1)[0], np.triu_indices(n, 1)[1]]).max() if n > 1 else 0
    print("%s: %d tokens, %d heads x d_k %d, pos %s, causal %s; w2v-attention took %.2f s"
          % (label, n, heads, j["d_k"], j["pos"], j["causal"], took))
    print("    rel err vs numpy float64: " + ", ".join("%s %.2e" % kv for kv in errs.items()))
    check(max(errs.values()) < TOL, "%s: every matrix within %.0e of numpy (worst %.2e)"
          % (label, TOL, max(errs.values())))
    check(sums < 1e-5, "%s: rows of the weights sum to 1 (worst |sum - 1| = %.1e)" % (label, sums))
    if j["causal"]:
        check(upper == 0, "%s: causal weights above the diagonal are exactly 0" % label)


def train_small_model(bin_dir, out):
    corpus = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpora", "demo.txt.gz")
    if not os.path.exists(corpus):
        sys.exit("check-export: no --model and no %s to train one on" % corpus)
    with gzip.open(corpus, "rb") as f:
        text = b"".join(f.readline() for _ in range(40000))
    model = os.path.join(out, "small.bin")
    t0 = time.perf_counter()
    run([os.path.join(bin_dir, "w2v-train"), "-corpus", "-", "-output", model, "-size", "48",
         "-iter", "2", "-threads", "2", "-quiet"], input=text.decode("ascii"))
    print("trained %s on the first 40,000 lines of corpora/demo.txt.gz in %.1f s"
          % (model, time.perf_counter() - t0))
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="directory of the built tools")
    ap.add_argument("--model", help="model file (default: train a small one)")
    ap.add_argument("--keep", help="write the files here and keep them")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or tmp
        os.makedirs(out, exist_ok=True)
        model = args.model or train_small_model(args.bin, out)
        words, we = check_export(args.bin, model, out)
        check_tokenizer(args.bin, model, words)
        check_tokenizer_sweep(args.bin, model)
        d = we.shape[1]
        check_attention(args.bin, model, we, out, "seeded weights", ["-heads", "2"])
        rng = np.random.default_rng(7)
        ws = [(rng.standard_normal((d, 24)) / np.sqrt(d)).astype(np.float32) for _ in range(3)]
        paths = []
        for name, w in zip(("wq", "wk", "wv"), ws):
            paths.append(os.path.join(out, name + ".npy"))
            np.save(paths[-1], w)
        check_attention(args.bin, model, we, out, "weights from .npy files",
                        ["-heads", "3", "-causal", "-pos", "none", "-wq", paths[0], "-wk",
                         paths[1], "-wv", paths[2]], weights=ws)
        check_attention(args.bin, model, we, out, "one head, causal, sinusoidal",
                        ["-heads", "1", "-dk", "16", "-causal", "-seed", "12345"])
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
