#!/usr/bin/env bash
# test_image.sh — decodes the PNG/PGM files that build/tests/test_image wrote (through libpng) with
# independent decoders (Python zlib + struct, which also checks every CRC-32 and the Adler-32 and
# undoes the row filters; PIL; scikit-image), and checks
# `rnnreg strip` pictures pixel by pixel against numpy arrays. Run by tests/run.sh from the repo root
# with RNNREG, PYTHON and BUILD set; tests/run.sh runs the C tests first.
set -u
RNNREG="${RNNREG:-build/rnnreg}" PYTHON="${PYTHON:-/usr/bin/python3}" BUILD="${BUILD:-build}"
T=test_image.sh
dir="$BUILD/tests"

if ! "$PYTHON" -c 'import numpy, zlib' 2>/dev/null; then
    echo "skip $T: decode PNGs: $PYTHON lacks numpy"; exit 0
fi
if [ ! -f "$dir/test_image_big.png" ] || [ ! -f "$dir/test_image_small.png" ]; then
    echo "skip $T: decode PNGs: run build/tests/test_image first (it writes $dir/test_image_*.png)"
else
    "$PYTHON" - "$dir" "$T" <<'EOF'
import struct, sys, zlib
import numpy as np
d, T = sys.argv[1], sys.argv[2]

def check(cond, what):
    print(("ok %s: %s" if cond else "FAIL %s: %s") % (T, what))

def pattern(w, h):  # the pattern test_image.c draws: (3x + 5y + (x*y mod 7)) mod 256
    y, x = np.mgrid[0:h, 0:w]
    return ((3 * x + 5 * y + (x * y) % 7) % 256).astype(np.uint8)

def paeth(a, b, c):  # PNG spec, "Filter type 4: Paeth"
    p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)

def decode(path):
    """Minimal PNG reader: chunks + CRCs (zlib.crc32), IHDR, the zlib stream (zlib checks Adler-32),
    the five filter types undone row by row (PNG spec, "Filter algorithms", 1 byte per pixel).
    Returns (image, the set of filter types used)."""
    b = open(path, "rb").read()
    assert b[:8] == b"\x89PNG\r\n\x1a\n", "bad signature"
    pos, chunks = 8, []
    while pos < len(b):
        n, = struct.unpack(">I", b[pos:pos + 4]); typ = b[pos + 4:pos + 8]; data = b[pos + 8:pos + 8 + n]
        crc, = struct.unpack(">I", b[pos + 8 + n:pos + 12 + n])
        assert crc == zlib.crc32(typ + data), "bad CRC in %s" % typ
        chunks.append((typ, data)); pos += 12 + n
    assert [c[0] for c in chunks][0] == b"IHDR" and chunks[-1] == (b"IEND", b""), "chunk order"
    w, h, depth, ctype, comp, filt, inter = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, ctype, comp, filt, inter) == (8, 0, 0, 0, 0), "IHDR fields"
    raw = zlib.decompress(b"".join(c[1] for c in chunks if c[0] == b"IDAT"))  # raises on a bad Adler-32
    assert len(raw) == h * (w + 1), "decompressed size"
    img, prev, types = [], [0] * w, set()
    for y in range(h):
        f, line = raw[y * (w + 1)], list(raw[y * (w + 1) + 1:(y + 1) * (w + 1)])
        types.add(f)
        for x in range(w):
            a = line[x - 1] if x else 0; up = prev[x]; c = prev[x - 1] if x else 0
            pred = (0, a, up, (a + up) // 2, paeth(a, up, c))[f]
            line[x] = (line[x] + pred) & 0xFF
        img.append(line); prev = line
    return np.array(img, np.uint8), types

for name, (w, h) in (("test_image_small.png", (5, 3)), ("test_image_big.png", (300, 250))):
    try:
        img, types = decode("%s/%s" % (d, name))
        check(img.shape == (h, w) and (img == pattern(w, h)).all(),
              "%s decodes (zlib+struct, CRCs and Adler-32 verified, filters %s undone) to the %dx%d pattern"
              % (name, sorted(types), w, h))
    except Exception as e:
        check(False, "%s decodes: %s" % (name, e))

try:
    import skimage.io
    for name, (w, h) in (("test_image_small.png", (5, 3)), ("test_image_big.png", (300, 250))):
        im = skimage.io.imread("%s/%s" % (d, name))
        check(im.shape == (h, w) and (im == pattern(w, h)).all(), "scikit-image reads %s as the %dx%d pattern" % (name, w, h))
except ImportError:
    print("skip %s: scikit-image decode: scikit-image not installed" % T)

try:
    from PIL import Image
    for name, (w, h) in (("test_image_small.png", (5, 3)), ("test_image_big.png", (300, 250)),
                         ("test_image_small.pgm", (5, 3))):
        im = Image.open("%s/%s" % (d, name)); im.load()
        check(im.mode == "L" and (np.asarray(im) == pattern(w, h)).all(), "PIL reads %s as the %dx%d pattern" % (name, w, h))
except ImportError:
    print("skip %s: PIL decode: PIL not installed" % T)
EOF
fi

# ---- rnnreg strip ------------------------------------------------------------------------------
if [ ! -x "$RNNREG" ]; then
    echo "skip $T: rnnreg strip: $RNNREG not built"; exit 0
fi
if ! "$PYTHON" -c 'import PIL' 2>/dev/null; then
    echo "skip $T: rnnreg strip: PIL not installed"; exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$PYTHON" - "$tmp" <<'EOF'
import sys
import numpy as np
t = sys.argv[1]
rng = np.random.default_rng(5)
np.save(t + "/truth.npy", rng.integers(0, 256, (20, 3, 64, 64), dtype=np.uint8))
pred = rng.uniform(-0.2, 1.2, (10, 3, 64, 64)).astype(np.float32); pred[0, 2, 0, 0] = np.nan
np.save(t + "/pred.npy", pred)
np.save(t + "/pred5.npy", pred[:, :, None])                     # (T, N, 1, H, W) form
np.save(t + "/small.npy", np.zeros((5, 3, 32, 32), np.uint8))
np.save(t + "/vec.npy", np.zeros(7, np.float32))
EOF

"$RNNREG" strip --in "$tmp/truth.npy" --in "$tmp/pred.npy" --out "$tmp/s.png" --seq 2 --scale 2 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && echo "ok $T: strip of a 20-frame truth and a 10-frame prediction runs" \
              || echo "FAIL $T: strip runs: exit $rc: $(cat "$tmp/err")"
"$RNNREG" strip --in "$tmp/truth.npy" --in "$tmp/pred5.npy" --in "$tmp/truth.npy" --out "$tmp/g.png" --seqs 0,2 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && echo "ok $T: strip --seqs 0,2 with a (T, N, 1, H, W) input runs" \
              || echo "FAIL $T: strip --seqs runs: exit $rc: $(cat "$tmp/err")"
"$PYTHON" - "$tmp" "$T" <<'EOF'
import sys
import numpy as np
from PIL import Image
t, T = sys.argv[1], sys.argv[2]
def check(cond, what):
    print(("ok %s: %s" if cond else "FAIL %s: %s") % (T, what))
truth, pred = np.load(t + "/truth.npy"), np.load(t + "/pred.npy")
def show(a):  # float32 shown as round(255 * clip(v, 0, 1)), NaN as 0
    if a.dtype == np.uint8: return a
    return np.rint(np.clip(np.nan_to_num(a, nan=0.0), 0, 1) * 255).astype(np.uint8)
try:
    s = np.asarray(Image.open(t + "/s.png"))
    S, cell = 2, 128                                # 2-px separators/border, 64 px frames at scale 2
    check(s.shape == (S + 2 * (cell + S), S + 20 * (cell + S)), "strip is %s = 2 rows x 20 frame cells" % (s.shape,))
    ok = True
    for f in range(20):
        x0 = S + f * (cell + S)
        ok &= (s[S:S + cell, x0:x0 + cell] == np.kron(truth[f, 2], np.ones((2, 2), np.uint8))).all()
    check(ok, "row 0: the 20 truth frames of sequence 2, upscaled 2x (np.kron)")
    ok = True
    y0 = S + cell + S
    for f in range(10):                             # right-aligned: under truth frames 11..20
        x0 = S + (10 + f) * (cell + S)
        ok &= (s[y0:y0 + cell, x0:x0 + cell] == np.kron(show(pred[f, 2]), np.ones((2, 2), np.uint8))).all()
    check(ok, "row 1: the 10 predicted frames sit under truth frames 11-20, clipped to [0,1], NaN -> 0")
    gray = np.ones(s.shape, bool)
    for r in range(2):
        for f in range(20 if r == 0 else 10):
            y = S + r * (cell + S); x = S + (f + (0 if r == 0 else 10)) * (cell + S)
            gray[y:y + cell, x:x + cell] = False
    check((s[gray] == 128).all(), "everything outside the frames (separators, border, empty cells) is gray 128")
    g = np.asarray(Image.open(t + "/g.png"))
    check(g.shape == (2 + 6 * 66 + 4, 2 + 20 * 66), "--seqs 0,2 stacks 2 groups x 3 rows (%s)" % (g.shape,))
    y0 = 2 + 3 * 66 + 4                             # group 2 (sequence 2) after a 6-px gap
    check((g[y0:y0 + 64, 2:66] == truth[0, 2]).all() and (g[y0 + 66:y0 + 130, 2 + 10 * 66:2 + 10 * 66 + 64] == show(pred[0, 2])).all()
          and (g[2:66, 2:66] == truth[0, 0]).all(), "--seqs: group 1 shows sequence 0, group 2 sequence 2")
except Exception as e:
    check(False, "strip pictures decode and match: %s" % e)
EOF

expect_fail() { # what, expected substring of stderr, args...
    local what=$1 sub=$2; shift 2
    "$RNNREG" strip "$@" >/dev/null 2>"$tmp/err"; local rc=$?
    if [ $rc -ne 0 ] && grep -qF -- "$sub" "$tmp/err"; then echo "ok $T: $what (exit $rc, message names it)"
    else echo "FAIL $T: $what: exit $rc, stderr: $(cat "$tmp/err"), expected to contain '$sub'"; fi
}
expect_fail "missing input file fails" "$tmp/nope.npy" --in "$tmp/nope.npy" --out "$tmp/x.png"
expect_fail "1-D array fails" "$tmp/vec.npy" --in "$tmp/vec.npy" --out "$tmp/x.png"
expect_fail "frame size mismatch fails" "$tmp/small.npy" --in "$tmp/truth.npy" --in "$tmp/small.npy" --out "$tmp/x.png"
expect_fail "sequence out of range fails" "$tmp/truth.npy: sequence 3 out of range" --in "$tmp/truth.npy" --out "$tmp/x.png" --seq 3
expect_fail "unwritable output fails" "/nonexistent-dir/x.png" --in "$tmp/truth.npy" --out /nonexistent-dir/x.png
expect_fail "missing --out fails" "--out" --in "$tmp/truth.npy"
[ ! -e "$tmp/x.png" ] && echo "ok $T: failed runs leave no output file" || echo "FAIL $T: a failed run left $tmp/x.png"
out=$("$RNNREG" strip --help); rc=$?
[ $rc -eq 0 ] && grep -q -- "--seqs" <<<"$out" && echo "ok $T: strip --help prints usage" \
              || echo "FAIL $T: strip --help: exit $rc"
exit 0
