#!/bin/sh
# Build the original word2vec.c as a benchmark peer.
#
# Usage: tools/bench/build-word2vec-c.sh WORKDIR
#
# The original C source ships inside the npm package "word2vec" (under src/).
# This script installs that package into WORKDIR/npm (install scripts
# disabled: we compile the trainer ourselves with our own flags), compiles
# word2vec.c to WORKDIR/word2vec and compute-accuracy.c (the original
# analogy evaluation) to WORKDIR/compute-accuracy, and prints the trainer's
# path as the last line of standard output. Progress and errors go to
# standard error; compute-accuracy failing to build is only a warning.
#
# Environment:
#   WORD2VEC_NPM_SPEC  npm package spec to install (default: word2vec@1.1.5)
#   CC                 C compiler (default: gcc)
#
# Nothing is copied into the project tree; WORKDIR is meant to be a temporary
# folder that the caller deletes.
set -eu

if [ "$#" -ne 1 ]; then
    echo "usage: $0 WORKDIR" >&2
    exit 2
fi

workdir=$1
spec=${WORD2VEC_NPM_SPEC:-word2vec@1.1.5}
cc=${CC:-gcc}

for tool in npm "$cc"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "build-word2vec-c: '$tool' not found (apt-get install -y npm gcc)" >&2
        exit 1
    fi
done

mkdir -p "$workdir/npm"
echo "build-word2vec-c: npm install $spec into $workdir/npm" >&2
npm install --prefix "$workdir/npm" --ignore-scripts --no-audit --no-fund \
    --no-save --loglevel=error "$spec" >&2

src="$workdir/npm/node_modules/word2vec/src/word2vec.c"
if [ ! -f "$src" ]; then
    echo "build-word2vec-c: $src not found in the installed package" >&2
    exit 1
fi

# The flags of the original makefile, minus -fno-stack-protector. The old
# source ignores fscanf/fread results; silence that one warning.
echo "build-word2vec-c: compiling $src" >&2
"$cc" -O3 -march=native -funroll-loops -Wno-unused-result \
    "$src" -o "$workdir/word2vec" -lm -pthread >&2

acc="$workdir/npm/node_modules/word2vec/src/compute-accuracy.c"
if [ -f "$acc" ] && "$cc" -O3 -march=native -funroll-loops -Wno-unused-result \
    "$acc" -o "$workdir/compute-accuracy" -lm >&2; then
    echo "build-word2vec-c: compiled $workdir/compute-accuracy" >&2
else
    echo "build-word2vec-c: warning: compute-accuracy not built" >&2
fi

echo "$workdir/word2vec"
