#!/usr/bin/env bash
# Download text8 (the first 10^8 bytes of a cleaned 2006 English Wikipedia
# dump, the usual word2vec benchmark corpus) and store it gzipped.
#
# Usage: corpora/fetch-text8.sh [OUTPUT]
#        (default: text8.gz next to this script)
#
# TEXT8_URL overrides the download address (e.g. a local mirror).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-$here/text8.gz}
url=${TEXT8_URL:-http://mattmahoney.net/dc/text8.zip}

# The unzipped text8 is exactly this many bytes, all of them a-z or space.
text8_size=100000000

die() { echo "fetch-text8: $*" >&2; exit 1; }

# A good copy is already there: nothing to do (keeps `make` reruns cheap).
if [ -s "$out" ] && [ "$(gzip -dc "$out" 2>/dev/null | wc -c)" -eq "$text8_size" ]; then
    echo "$out is already there"
    exit 0
fi

if command -v curl >/dev/null; then
    fetch() { curl -fL --retry 2 --connect-timeout 20 -o "$2" "$1"; }
elif command -v wget >/dev/null; then
    fetch() { wget -nv --tries=3 --timeout=20 -O "$2" "$1"; }
else
    die "neither curl nor wget is installed; run: sudo apt-get install -y curl"
fi

work=$(mktemp -d)
out_dir=$(dirname "$out")
mkdir -p "$out_dir"
tmp=$(mktemp "$out_dir/.text8.XXXXXX")
trap 'rm -rf "$work" "$tmp"' EXIT

echo "downloading $url (about 31 MB)"
fetch "$url" "$work/text8.zip" ||
    die "download of $url failed (no internet access?); nothing was written"

# The zip holds the one member text8. unzip is the obvious tool; gzip can
# also read a single-member deflated zip, so it stands in when unzip is absent.
if command -v unzip >/dev/null; then
    unzip -p "$work/text8.zip" text8 >"$work/text8" || die "$url: not a valid text8.zip"
else
    gzip -dc <"$work/text8.zip" >"$work/text8" || die "$url: not a valid text8.zip"
fi

# Check it is really text8 before storing it.
size=$(wc -c <"$work/text8")
[ "$size" -eq "$text8_size" ] ||
    die "unzipped text8 is $size bytes, expected $text8_size; the download is damaged"
[ "$(tr -d 'a-z ' <"$work/text8" | wc -c)" -eq 0 ] ||
    die "text8 holds characters other than a-z and space; the download is damaged"

gzip -n <"$work/text8" >"$tmp"
chmod 644 "$tmp"
mv -f "$tmp" "$out"
echo "wrote $out: $(wc -w <"$work/text8") words, $size bytes unzipped"
