#!/usr/bin/env bash
# Download the two standard word-vector test sets into eval/:
#   questions-words.txt  Google analogy questions (from the original word2vec
#                        release): 14 section headers ": name" and 19,544
#                        questions "a b c d"
#   wordsim353/          WordSim-353 word-pair similarity ratings (353 pairs)
#
# Usage: eval/fetch-eval-data.sh [DIR]   (default: the directory of this script)
#
# QUESTIONS_URL and WORDSIM_URL override the download addresses.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=${1:-$here}
questions_url=${QUESTIONS_URL:-https://raw.githubusercontent.com/tmikolov/word2vec/master/questions-words.txt}
wordsim_url=${WORDSIM_URL:-https://gabrilovich.com/resources/data/wordsim353/wordsim353.zip}

die() { echo "fetch-eval-data: $*" >&2; exit 1; }

if command -v curl >/dev/null; then
    fetch() { curl -fsSL --retry 2 --connect-timeout 20 -o "$2" "$1"; }
elif command -v wget >/dev/null; then
    fetch() { wget -q --tries=3 --timeout=20 -O "$2" "$1"; }
else
    die "neither curl nor wget is installed; run: sudo apt-get install -y curl"
fi

# questions-words.txt: 19,558 lines = 14 headers + 19,544 four-word questions.
check_questions() {
    local f=$1 lines headers questions
    lines=$(wc -l <"$f")
    headers=$(grep -c '^: ' "$f" || true)
    questions=$(grep -Ec '^[^ :]+ [^ ]+ [^ ]+ [^ ]+$' "$f" || true)
    if [ "$lines" -ne 19558 ] || [ "$headers" -ne 14 ] || [ "$questions" -ne 19544 ]; then
        echo "$f: $lines lines, $headers headers, $questions questions;" \
             "expected 19558, 14 and 19544" >&2
        return 1
    fi
}

# WordSim-353: combined.csv is a header line plus 353 rated pairs.
check_wordsim() {
    local f=$1/combined.csv pairs
    [ -f "$f" ] || { echo "$f is missing" >&2; return 1; }
    pairs=$(tr -d '\r' <"$f" | grep -Ec '^[^,]+,[^,]+,[0-9.]+$' || true)
    if [ "$pairs" -ne 353 ]; then
        echo "$f: $pairs rated pairs, expected 353" >&2
        return 1
    fi
}

mkdir -p "$dir"
# Work inside the target directory so the final mv is a rename there.
work=$(mktemp -d "$dir/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- Google analogy questions ------------------------------------------------
if [ -f "$dir/questions-words.txt" ] && check_questions "$dir/questions-words.txt" 2>/dev/null; then
    echo "$dir/questions-words.txt is already there"
else
    echo "downloading $questions_url"
    fetch "$questions_url" "$work/questions-words.txt" ||
        die "download of $questions_url failed (no internet access?)"
    check_questions "$work/questions-words.txt" ||
        die "$questions_url is not the expected questions-words.txt"
    mv -f "$work/questions-words.txt" "$dir/questions-words.txt"
    echo "wrote $dir/questions-words.txt: 19544 questions in 14 sections"
fi

# --- WordSim-353 ---------------------------------------------------------------
if check_wordsim "$dir/wordsim353" 2>/dev/null; then
    echo "$dir/wordsim353/ is already there"
else
    command -v unzip >/dev/null ||
        die "unzip is needed for WordSim-353; run: sudo apt-get install -y unzip"
    echo "downloading $wordsim_url"
    fetch "$wordsim_url" "$work/wordsim353.zip" ||
        die "download of $wordsim_url failed (no internet access?)"
    # -j: the files go straight into wordsim353/, whatever folders the zip has.
    unzip -q -j -o "$work/wordsim353.zip" -d "$work/wordsim353" ||
        die "$wordsim_url is not a valid zip file"
    check_wordsim "$work/wordsim353" ||
        die "$wordsim_url does not hold the expected WordSim-353 files"
    # mktemp made the folder private; make it readable like the rest of eval/.
    chmod -R u+rwX,go+rX "$work/wordsim353"
    # Replace the whole folder in one rename once it is known to be good.
    rm -rf "$dir/wordsim353"
    mv "$work/wordsim353" "$dir/wordsim353"
    echo "wrote $dir/wordsim353/: 353 rated pairs"
fi
