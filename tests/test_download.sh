#!/usr/bin/env bash
# test_download.sh — data/fetch.sh (what `make data` runs) against a local HTTP server on 127.0.0.1
# (python3 http.server with byte-range support added, and a path that ignores ranges): a verified
# download is byte-identical to the served file; a wrong sha256 leaves no data and no .part behind;
# an interrupted download resumes from its .part, and a corrupt .part (shorter, as long or longer) is
# discarded and the download made once more from byte 0 in the same run; without a reachable URL it
# generates the data from a local IDX file; an existing result is never redone, but it is verified
# against its provenance JSON (another file, no JSON, a changed byte: refused, kept); make passes
# MMNIST_URL/MMNIST_SHA256 through.
# Env from tests/run.sh: RNNREG, PYTHON, BUILD. Prints ok/FAIL/skip lines.
set -u
cd "$(dirname "$0")/.." || exit 1
T=test_download
. tests/lib.sh

PY=
for p in "${PYTHON:-}" python3 /usr/bin/python3; do
    [ -n "$p" ] && "$p" -c 'import http.server' 2>/dev/null && { PY=$p; break; }
done
for need in curl sha256sum gzip; do
    command -v "$need" >/dev/null || { echo "skip $T: download tests: $need is not installed"; exit 0; }
done
[ -n "$PY" ] || { echo "skip $T: download tests: no python3 with http.server"; exit 0; }
[ -x "$RNNREG" ] || { echo "skip $T: download tests: $RNNREG is not built"; exit 0; }

tmp=$(mktemp -d /tmp/test_download.XXXXXX)
server=
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# The served file: a small Moving MNIST made by rnnreg itself (4 sequences, 327,808 bytes).
mkdir -p "$tmp/srv"
"$RNNREG" mmnist --digits tests/fixtures/digits_npm20.npy --out "$tmp/srv/mnist_test_seq.npy" --count 4 \
    --seed 7 >/dev/null || { fail "rnnreg mmnist made the file to serve"; exit 1; }
served=$tmp/srv/mnist_test_seq.npy
sha=$(sha256sum "$served" | cut -d' ' -f1)
size=$(stat -c %s "$served")

cat >"$tmp/server.py" <<'PY'
# http.server plus "Range: bytes=N-" (206/416) so curl -C - can resume; /norange/... ignores ranges.
import http.server, os, re, sys
root, portfile, log = sys.argv[1], sys.argv[2], sys.argv[3]
class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=root, **k)
    def send_head(self):
        rng = self.headers.get("Range")
        with open(log, "a") as f:
            f.write(f"{self.path} {rng}\n")
        if self.path.startswith("/norange/"):
            self.path = self.path[len("/norange"):]
            return super().send_head()
        path = self.translate_path(self.path)
        m = re.fullmatch(r"bytes=(\d+)-", (rng or "").strip())
        if not m or not os.path.isfile(path):
            return super().send_head()
        size, start = os.path.getsize(path), int(m.group(1))
        if start >= size:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        f = open(path, "rb")
        f.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        self.send_header("Content-Length", str(size - start))
        self.end_headers()
        return f
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
PY
"$PY" "$tmp/server.py" "$tmp/srv" "$tmp/port" "$tmp/requests.log" 2>"$tmp/server.err" &
server=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
[ -s "$tmp/port" ] || { fail "local HTTP server started ($(head -c 300 "$tmp/server.err"))"; exit 1; }
url=http://127.0.0.1:$(cat "$tmp/port")/mnist_test_seq.npy

jget() { "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2" 2>/dev/null; }
fetch() { # fetch DIR [VAR=value ...]: run data/fetch.sh into DIR; output in DIR.log
    local dir=$1
    shift
    env DATA_DIR="$dir" RNNREG="$RNNREG" MNIST_IDX_URL=http://127.0.0.1:1/none.gz "$@" \
        bash data/fetch.sh >"$dir.log" 2>&1
}

# 1. A verified download.
d=$tmp/d1
rc=0; fetch "$d" MMNIST_URL="$url" MMNIST_SHA256="$sha" || rc=$?
check "download with the right sha256 succeeds (status $rc)" [ "$rc" -eq 0 ]
check "downloaded moving_mnist.npy is byte-identical to the served file" cmp -s "$served" "$d/moving_mnist.npy"
check "json says source download" [ "$(jget "$d/moving_mnist.json" source)" = download ]
check "json records the sha256 and size of the file" \
    [ "$(jget "$d/moving_mnist.json" sha256)" = "$sha" -a "$(jget "$d/moving_mnist.json" size)" = "$size" ]
check "json records the URL" [ "$(jget "$d/moving_mnist.json" url)" = "$url" ]
check "no .part left after a verified download" [ ! -e "$d/raw/mnist_test_seq.npy.part" ]

# 2. Nothing is redone once the data is there.
before=$(stat -c %Y.%i "$d/moving_mnist.npy")
rc=0; fetch "$d" MMNIST_URL=http://127.0.0.1:1/unreachable MMNIST_SHA256="$sha" || rc=$?
check "a second run leaves the existing data alone" \
    [ "$rc" -eq 0 -a "$(stat -c %Y.%i "$d/moving_mnist.npy")" = "$before" ]
check "a second run says the data is already there" grep -q "already there" "$d.log"

# 3. A wrong sha256.
d=$tmp/d2
rc=0; fetch "$d" MMNIST_URL="$url" MMNIST_SHA256=0000000000000000000000000000000000000000000000000000000000000000 || rc=$?
check "download with a wrong sha256 exits non-zero (status $rc)" [ "$rc" -ne 0 ]
check "wrong sha256: no moving_mnist.npy, no download, no .part left" \
    [ ! -e "$d/moving_mnist.npy" -a ! -e "$d/raw/mnist_test_seq.npy" -a ! -e "$d/raw/mnist_test_seq.npy.part" ]
check "wrong sha256: the message says checksum mismatch" grep -q "checksum mismatch" "$d.log"

# 4. Resume from a partial download.
d=$tmp/d3
mkdir -p "$d/raw"
head -c 100000 "$served" >"$d/raw/mnist_test_seq.npy.part"
: >"$tmp/requests.log"
rc=0; fetch "$d" MMNIST_URL="$url" MMNIST_SHA256="$sha" || rc=$?
check "resumed download succeeds (status $rc)" [ "$rc" -eq 0 ]
check "resumed download is byte-identical to the served file" cmp -s "$served" "$d/moving_mnist.npy"
check "curl asked the server for the rest only (Range: bytes=100000-)" grep -q "bytes=100000-" "$tmp/requests.log"

# 5. Resume against a server that ignores ranges: starts again from byte 0.
d=$tmp/d4
mkdir -p "$d/raw"
head -c 1000 "$served" >"$d/raw/mnist_test_seq.npy.part"
rc=0; fetch "$d" MMNIST_URL="${url/:$(cat "$tmp/port")\//:$(cat "$tmp/port")/norange/}" MMNIST_SHA256="$sha" || rc=$?
same=no; [ "$rc" -eq 0 ] && cmp -s "$served" "$d/moving_mnist.npy" && same=yes
check "server without ranges: download restarts and is byte-identical (status $rc)" [ "$same" = yes ]

# 6. A corrupt partial download and a server that resumes: the resumed file fails its checksum, so the
#    .part is discarded and the file downloaded once more from byte 0 — the FIRST run succeeds.
d=$tmp/d5
mkdir -p "$d/raw"
head -c 100000 /dev/zero >"$d/raw/mnist_test_seq.npy.part"
: >"$tmp/requests.log"
rc=0; fetch "$d" MMNIST_URL="$url" MMNIST_SHA256="$sha" || rc=$?
same=no; [ "$rc" -eq 0 ] && cmp -s "$served" "$d/moving_mnist.npy" && same=yes
check "corrupt .part: the first make data succeeds, byte-identical (status $rc)" [ "$same" = yes ]
check "corrupt .part: it resumed at byte 100000, then asked again from byte 0 (no Range)" \
    [ "$(cat "$tmp/requests.log")" = "/mnist_test_seq.npy bytes=100000-"$'\n'"/mnist_test_seq.npy None" ]
check "corrupt .part: one line says the partial file was bad and the download starts again from byte 0" \
    grep -q "^fetch: the resumed download of $url fails its checksum (the kept partial file was bad); starting again from byte 0$" "$d.log"
check "corrupt .part: no .part left" [ ! -e "$d/raw/mnist_test_seq.npy.part" ]

# 6b. A corrupt .part as long as the file (the server answers 416 to the resume): discarded, downloaded again.
d=$tmp/d5b
mkdir -p "$d/raw"
{ printf 'X'; tail -c +2 "$served"; } >"$d/raw/mnist_test_seq.npy.part"
rc=0; fetch "$d" MMNIST_URL="$url" MMNIST_SHA256="$sha" || rc=$?
same=no; [ "$rc" -eq 0 ] && cmp -s "$served" "$d/moving_mnist.npy" && same=yes
check "corrupt full-length .part: discarded and downloaded again, byte-identical (status $rc)" [ "$same" = yes ]

# 6c. A .part longer than the file: the same.
d=$tmp/d5c
mkdir -p "$d/raw"
{ cat "$served"; printf 'extra'; } >"$d/raw/mnist_test_seq.npy.part"
rc=0; fetch "$d" MMNIST_URL="$url" MMNIST_SHA256="$sha" || rc=$?
same=no; [ "$rc" -eq 0 ] && cmp -s "$served" "$d/moving_mnist.npy" && same=yes
check ".part longer than the file: discarded and downloaded again, byte-identical (status $rc)" [ "$same" = yes ]

# 6d. A corrupt .part and a wrong expected sha256: one retry from byte 0, then the mismatch (nothing left).
d=$tmp/d5d
mkdir -p "$d/raw"
head -c 100000 /dev/zero >"$d/raw/mnist_test_seq.npy.part"
rc=0; fetch "$d" MMNIST_URL="$url" MMNIST_SHA256=1111111111111111111111111111111111111111111111111111111111111111 || rc=$?
check "corrupt .part, wrong sha256: retried once, then checksum mismatch, non-zero exit, nothing left behind" \
    eval '[ "$rc" -ne 0 -a "$(grep -c "starting again from byte 0" "$d.log")" -eq 1 -a ! -e "$d/moving_mnist.npy" ] &&
          [ ! -e "$d/raw/mnist_test_seq.npy.part" ] && grep -q "checksum mismatch" "$d.log"'

# 7. Offline: generate from a local (gzipped) IDX file of the 20 fixture digits.
d=$tmp/d6
hlen=$(od -An -tu2 -j8 -N2 tests/fixtures/digits_npm20.npy | tr -d ' ')
{ printf '\x00\x00\x08\x03\x00\x00\x00\x14\x00\x00\x00\x1c\x00\x00\x00\x1c'
  tail -c +$((10 + hlen + 1)) tests/fixtures/digits_npm20.npy; } | gzip -c >"$tmp/digits20-idx3-ubyte.gz"
rc=0; fetch "$d" MMNIST_URL=http://127.0.0.1:1/mnist_test_seq.npy MMNIST_SHA256="$sha" MMNIST_COUNT=3 \
    MNIST_IDX="$tmp/digits20-idx3-ubyte.gz" || rc=$?
check "offline: generation succeeds (status $rc)" [ "$rc" -eq 0 ]
check "offline: one line says the download failed and the data is generated instead" \
    grep -q "^fetch: download of http://127.0.0.1:1/mnist_test_seq.npy failed (.*); generating Moving MNIST with the standard algorithm instead$" "$d.log"
check "offline: json says source generated" [ "$(jget "$d/moving_mnist.json" source)" = generated ]
"$RNNREG" mmnist --digits tests/fixtures/digits_npm20.npy --out "$tmp/direct.npy" --count 3 --seed 1 >/dev/null
check "offline: data equals rnnreg mmnist --count 3 --seed 1 on the same digits (read via IDX)" \
    cmp -s "$tmp/direct.npy" "$d/moving_mnist.npy"
check "offline: json sha256 is the file's" \
    [ "$(jget "$d/moving_mnist.json" sha256)" = "$(sha256sum "$d/moving_mnist.npy" | cut -d' ' -f1)" ]

# 8. make passes DATA_DIR, MMNIST_URL and MMNIST_SHA256 through. A scratch BUILD keeps this make from
#    touching the real build directory, and -o stops it from building an rnnreg (a download needs none).
d=$tmp/d7
rc=0
make -s -o "$tmp/build/rnnreg" BUILD="$tmp/build" DATA_DIR="$d" MMNIST_URL="$url" MMNIST_SHA256="$sha" data \
    >"$d.log" 2>&1 || rc=$?
same=no; [ "$rc" -eq 0 ] && cmp -s "$served" "$d/moving_mnist.npy" && same=yes
check "make data DATA_DIR=… MMNIST_URL=… MMNIST_SHA256=… downloads the served file (status $rc)" [ "$same" = yes ]

# 9. An existing moving_mnist.npy is verified against its provenance moving_mnist.json; one that does not
#    match is refused in one line and kept as it is. $tmp/d1 holds a verified download.
d=$tmp/d1
: >"$tmp/requests.log"
rc=0; fetch "$d" MMNIST_URL="$url" MMNIST_SHA256="$sha" || rc=$?
check "existing data that matches its json: accepted without hashing it again (the hash of the download is remembered) and without a request" \
    eval '[ "$rc" -eq 0 ] && grep -q "unchanged since its sha256 matched" "$d.log" && [ ! -s "$tmp/requests.log" ]'
refused() { # refused DIR WHAT: fetch refuses DIR's data in one line, the file is kept byte for byte
    local dir=$1 what=$2 keep rc=0
    keep=$(sha256sum "$dir/moving_mnist.npy" | cut -d' ' -f1)
    fetch "$dir" MMNIST_URL="$url" MMNIST_SHA256="$sha" || rc=$?
    check "$what: refused (status $rc) in one line naming the file and the fix ($(head -c 160 "$dir.log")...)" \
        eval '[ "$rc" -ne 0 -a "$(wc -l <"$dir.log")" -eq 1 ] && grep -q "^fetch: $dir/moving_mnist.npy .*run make data again\$" "$dir.log"'
    check "$what: the file is kept as it was" [ "$(sha256sum "$dir/moving_mnist.npy" | cut -d' ' -f1)" = "$keep" ]
}
# 32x32 frames (a header of another shape, same provenance file)
d=$tmp/d9
mkdir -p "$d" && cp "$tmp/d1/moving_mnist.json" "$d/"
"$PY" -c 'import numpy as np, sys; np.save(sys.argv[1], np.zeros((20, 4, 32, 32), np.uint8))' "$d/moving_mnist.npy" 2>/dev/null ||
    "$RNNREG" mmnist --digits tests/fixtures/digits_npm20.npy --out "$d/moving_mnist.npy" --count 1 --seed 7 >/dev/null
refused "$d" "32x32 frames under another file's provenance"
# no provenance file
d=$tmp/d10
mkdir -p "$d" && cp "$served" "$d/moving_mnist.npy"
refused "$d" "a moving_mnist.npy without moving_mnist.json"
# same size and header, other bytes, and the time set back: the remembered hash must not be trusted
d=$tmp/d11
cp -a "$tmp/d1" "$d"
fetch "$d" MMNIST_URL="$url" MMNIST_SHA256="$sha"
t=$(stat -c %y "$d/moving_mnist.npy")
printf '\x07' | dd of="$d/moving_mnist.npy" bs=1 seek=$((size - 1)) conv=notrunc status=none
touch -d "$t" "$d/moving_mnist.npy"
refused "$d" "a byte changed with the size, header and mtime kept"
# 32x32 frames with a provenance of their own that matches them (sha256, size, header): not Moving MNIST
d=$tmp/d12
mkdir -p "$d" && cp "$tmp/d9/moving_mnist.npy" "$d/"
hdr=$(head -c 4096 "$d/moving_mnist.npy" | LC_ALL=C tr -c '[:print:]' '\n' | grep -m1 -o "{.*}")
printf '{\n  "file": "moving_mnist.npy",\n  "sha256": "%s",\n  "size": %s,\n  "npy_header": "%s"\n}\n' \
    "$(sha256sum "$d/moving_mnist.npy" | cut -d' ' -f1)" "$(stat -c %s "$d/moving_mnist.npy")" "$hdr" >"$d/moving_mnist.json"
refused "$d" "32x32 frames with a matching provenance of their own"

[ "$fails" -eq 0 ]
