#!/usr/bin/env bash
# Builds the reference trainer's multi-domain corpus from Debian packages (issue 6):
#   OUT/en.txt    English: fortunes-min (fortunes, literature, riddles)
#   OUT/zh.txt    Chinese: fortunes-zh (tang300, song100, chinese), UTF-8
#   OUT/code.txt  code: the C headers /usr/include/*.h (libc-dev, always present with a compiler)
# One document per fortune / header, documents separated by a line holding only "%" (the
# fortune format, read by trainer::read_corpus; domain IDs follow the sorted file names:
# code = 0, en = 1, zh = 2). Install the packages with scripts/install-deps.sh.
# Usage: scripts/build-corpus.sh [OUT]   (default: build/corpus)   MAX_BYTES per domain: 1 MiB
set -eu  # no pipefail: awk stops reading at MAX_BYTES and the writer gets SIGPIPE

out=${1:-build/corpus}
max=${MAX_BYTES:-1048576}
fortunes=/usr/share/games/fortunes

need() {
  for f in "$@"; do
    if [[ ! -r $fortunes/$f ]]; then
      echo "build-corpus.sh: $fortunes/$f missing (install fortunes-min fortunes-zh: scripts/install-deps.sh)" >&2
      exit 2
    fi
  done
}
need fortunes literature riddles tang300 song100 chinese

mkdir -p "$out"
# cat the fortune files (already %-separated), make sure each ends with a separator, cut at
# MAX_BYTES on a document boundary
join_fortunes() {
  for f in "$@"; do
    sed 's/\x1b\[[0-9;]*m//g' "$fortunes/$f"  # fortunes-zh colours its titles
    printf '\n%%\n'
  done | awk -v max="$max" '{ n += length($0) + 1; print; if (n > max && $0 == "%") exit }'
}
join_fortunes fortunes literature riddles >"$out/en.txt.tmp"
join_fortunes tang300 song100 chinese >"$out/zh.txt.tmp"
for h in /usr/include/*.h; do
  grep -v '^%$' "$h" || true
  printf '%%\n'
done | awk -v max="$max" '{ n += length($0) + 1; print; if (n > max && $0 == "%") exit }' >"$out/code.txt.tmp"
for d in en zh code; do mv "$out/$d.txt.tmp" "$out/$d.txt"; done
for d in code en zh; do
  printf 'build-corpus.sh: %-4s %8d bytes %6d documents\n' "$d" "$(wc -c <"$out/$d.txt")" "$(grep -c '^%$' "$out/$d.txt")" >&2
done
