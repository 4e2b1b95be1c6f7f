#!/bin/sh
# The demo behind `make demo`: train on a corpus, then show what the vectors
# learned: nearest neighbours of a few words and king - man + woman.
#
# Corpus: $CORPUS if set, else corpora/text8.gz if present (see
# corpora/fetch-text8.sh), else the embedded demo corpus, built on first use
# from Debian packages by corpora/build-demo-corpus.sh.
set -eu

bin=${W2V_BIN:-build/bin}
out=${DEMO_DIR:-build/demo}
corpus=${CORPUS:-}

if [ -z "$corpus" ]; then
    if [ -f corpora/text8.gz ]; then
        corpus=corpora/text8.gz
    else
        if [ ! -f corpora/demo.txt.gz ]; then
            echo "== building the demo corpus (once) from Debian packages"
            bash corpora/build-demo-corpus.sh corpora/demo.txt.gz
        fi
        corpus=corpora/demo.txt.gz
    fi
fi

mkdir -p "$out"
model="$out/vectors.bin"
echo "== training skip-gram vectors on $corpus"
"$bin/w2v-train" -corpus "$corpus" -output "$model" -size 100 -window 5 \
    -negative 5 -sample 1e-4 -iter 5 -min-count 5

echo
echo "== nearest neighbours (cosine similarity)"
for w in king paris cat water love; do
    "$bin/w2v-nearest" -model "$model" -k 8 "$w" || true
done

echo
echo "== analogies: a - b + c"
for q in "king man woman" "paris france germany" "brother man woman"; do
    # shellcheck disable=SC2086  # three words on purpose
    "$bin/w2v-analogy" -model "$model" -k 5 $q || true
done

echo
echo "The model is $model; query it yourself:"
echo "  $bin/w2v-nearest -model $model WORD"
echo "  $bin/w2v-analogy -model $model king man woman"

echo
echo "== a map of word groups (t-SNE)"
plot="$out/word-map.svg"
"$bin/w2v-project" -model "$model" -words tools/demo-words.txt \
    -method tsne -perplexity 10 -quiet \
    -title "Word groups in the demo model" \
    -svg "$plot" -csv "$out/word-map.csv" || true
if [ -f "$plot" ]; then
    echo "The plot is $plot (open it in a browser); its coordinates are"
    echo "in $out/word-map.csv."
fi
