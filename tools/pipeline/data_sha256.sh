#!/usr/bin/env bash
# data_sha256.sh — prints the sha256 of a data file (64 hex digits) through the trainer's own hash
# cache, FILE.sha256 beside it (src/sha256.h; data/fetch.sh writes and trusts the same line):
#   rnnreg-sha256-1 <size> <mtime_ns> <ctime_ns> <dev> <inode> <sha256>
# The cached hash is used while FILE's size, mtime, ctime, device and inode are those of the line (a
# stat, no read: run.sh asks for it at every run); otherwise the file is hashed and the line written
# again (temp + rename), as src/sha256.c does: only when the file did not change while it was read and
# its last change is over 2 s old (timestamps advance in ticks). A cache that cannot be written costs
# only time. Usage: data_sha256.sh FILE
set -euo pipefail
f=${1:?usage: data_sha256.sh FILE}
[ -f "$f" ] || { echo "data_sha256.sh: $f: no such data file" >&2; exit 1; }
cache=$f.sha256
key() { # the cache's key of the file, as src/sha256.c writes it
    local size mtime ctime dev ino
    read -r size mtime ctime dev ino < <(stat -c '%s %.9Y %.9Z %d %i' "$1")
    echo "rnnreg-sha256-1 $size ${mtime/./} ${ctime/./} $dev $ino"
}
before=$(key "$f")
line=$(cat "$cache" 2>/dev/null || true)
if [ "${line% *}" = "$before" ] && [[ ${line##* } =~ ^[0-9a-f]{64}$ ]]; then
    echo "${line##* }"
    exit 0
fi
sha=$(sha256sum "$f" | cut -c1-64)
newest=$(stat -c '%Y %Z' "$f" | awk '{ print ($1 > $2) ? $1 : $2 }')
if [ "$(key "$f")" = "$before" ] && [ $(( $(date +%s) - newest )) -gt 2 ]; then
    { printf '%s %s\n' "$before" "$sha" > "$cache.tmp.$$" && mv -f "$cache.tmp.$$" "$cache"; } 2>/dev/null ||
        rm -f "$cache.tmp.$$" 2>/dev/null || true
fi
echo "$sha"
