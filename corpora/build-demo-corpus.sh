#!/usr/bin/env bash
# Builds corpora/demo.txt.gz, the demo corpus, from English text that Debian
# packages ship (see SOURCES.md): WordNet glosses, the King James Bible and
# four dictionaries. Text is normalised the way text8 is: lowercase a-z,
# digits spelled out, one document per line, single spaces. The result is
# deterministic: two runs give byte-identical files.
#
# Usage: corpora/build-demo-corpus.sh [OUTPUT]   (default corpora/demo.txt.gz)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/demo.txt.gz}

packages="wordnet-base bible-kjv bible-kjv-text dict-gcide dict-foldoc dict-jargon dict-devil perl"
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "build-demo-corpus: missing Debian packages:$missing" >&2
    echo "install them with: sudo apt-get install -y$missing" >&2
    exit 1
fi

tmp=$(mktemp -d)
partial="$out.partial.$$"
trap 'rm -rf "$tmp" "$partial"' EXIT

# WordNet: one synset per line, its lemmas then its gloss and examples.
for pos in noun verb adj adv; do
    perl -ne '
        next if /^  /;                      # the licence header
        my ($head, $gloss) = split / \| /, $_, 2;
        next unless defined $gloss;
        my @f = split / /, $head;
        my $n = hex $f[3];
        my @lemmas = map { $f[4 + 2 * $_] } 0 .. $n - 1;
        s/_/ /g, s/\(.*?\)$// for @lemmas;
        print join(" ", @lemmas), " ", $gloss;
    ' "/usr/share/wordnet/data.$pos"
done > "$tmp/wordnet.txt"

# King James Bible: one chapter per line, verse references removed.
bible -f gen1:1-rev22:21 | perl -ne '
    next unless /^(\d?[A-Za-z]+)(\d+):\d+\s+(.*)$/;
    my $ch = "$1$2";
    if (defined $prev && $ch ne $prev) { print "\n" }
    print $3, " ";
    $prev = $ch;
    END { print "\n" }
' > "$tmp/bible.txt"

# Dictionaries: one entry (a blank-line separated block) per line, with the
# markup of the dictd sources removed: pronunciation keys between
# backslashes, bracketed notes such as [1913 Webster] or etymologies, and
# "--Author." citations.
for dict in gcide foldoc jargon devil; do
    gzip -dc "/usr/share/dictd/$dict.dict.dz" | perl -e '
        local $/ = "";                       # paragraph mode
        while (my $p = <STDIN>) {
            next if $p =~ /^\s*00-database/;  # dictd metadata entries
            $p =~ s/\\[^\\\n]*\\//g;
            $p =~ s/\[[^\]]*\]//g;
            $p =~ s/--\s*[A-Z][\w.]*(?:\s+[A-Z][\w.]*)*\.?//g;
            $p =~ s/\s+/ /g;
            print $p, "\n";
        }
    ' > "$tmp/$dict.txt"
done

# Normalise every source, drop documents under 3 words, count per source.
normalise='
    use Unicode::Normalize;
    binmode STDIN, ":encoding(UTF-8)";
    my @digit = qw(zero one two three four five six seven eight nine);
    while (<STDIN>) {
        $_ = NFD($_);
        s/\p{Mn}//g;                         # accents: e-acute becomes e
        $_ = lc;
        s/([0-9])/ $digit[$1] /g;
        s/[^a-z]+/ /g;
        s/^ +| +$//g;
        my $n = () = / /g;
        next if $n < 2;
        print "$_\n";
    }
'
total_docs=0
total_words=0
for src in wordnet bible gcide foldoc jargon devil; do
    perl -CO -e "$normalise" < "$tmp/$src.txt" > "$tmp/$src.norm"
    read -r docs words < <(wc -lw < "$tmp/$src.norm")
    printf '%-8s %9d documents %11d words\n' "$src" "$docs" "$words" >&2
    total_docs=$((total_docs + docs))
    total_words=$((total_words + words))
done
printf '%-8s %9d documents %11d words\n' total "$total_docs" "$total_words" >&2

# Shuffle with a fixed seed, independent of tool versions: sort documents by
# the MD5 of a constant and their position.
cat "$tmp"/wordnet.norm "$tmp"/bible.norm "$tmp"/gcide.norm \
    "$tmp"/foldoc.norm "$tmp"/jargon.norm "$tmp"/devil.norm |
    perl -MDigest::MD5=md5_hex -ne 'print md5_hex("w2v-demo-1:$."), "\t", $_' |
    LC_ALL=C sort -k1,1 -s | cut -f2- | gzip -n -9 > "$partial"
mv "$partial" "$out"
echo "build-demo-corpus: wrote $out" >&2
