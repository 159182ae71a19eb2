#!/usr/bin/env bash
# test_formats_python.sh — numpy (and PyTorch, if present) read the files our C writers produced during
# tests/test_npy.c and tests/test_safetensors.c ($BUILD/tests/npy_roundtrip*.npy,
# $BUILD/tests/st_roundtrip.safetensors; run after the C tests) and check their values against the
# closed forms those tests wrote: float32 F(i) = ((37*i) % 101 - 50) / 8, uint8 U(i) = (7*i + 3) % 256.
# The .npy files must also be byte-identical to what numpy writes for the same arrays; the
# .safetensors file is parsed by the pure-Python reader tests/reference/check_safetensors.py.
set -u
cd "$(dirname "$0")/.."
T=test_formats_python
PY="${PYTHON:-/usr/bin/python3}"
DIR="${BUILD:-build}/tests"
if ! "$PY" -c 'import numpy' 2>/dev/null; then
    echo "skip $T: files written by the C writers: $PY cannot import numpy"
    exit 0
fi
exec "$PY" - "$DIR" <<'EOF'
import io, os, sys
import numpy as np
sys.path.insert(0, "tests/reference")
import check_safetensors

T, DIR = "test_formats_python", sys.argv[1]
failed = 0

def check(cond, what):
    global failed
    print(("ok %s: %s" if cond else "FAIL %s: %s") % (T, what))
    failed += not cond

def F(n, start=0):
    i = np.arange(start, start + n, dtype=np.int64)
    return (((37 * i) % 101 - 50) / 8.0).astype(np.float32)

def U(n):
    return ((7 * np.arange(n, dtype=np.int64) + 3) % 256).astype(np.uint8)

for name, want in [("npy_roundtrip.npy", F(24).reshape(2, 3, 4)), ("npy_roundtrip_u8.npy", U(15).reshape(3, 5))]:
    path = os.path.join(DIR, name)
    if not os.path.exists(path):
        print("skip %s: %s: absent (run build/tests/test_npy first)" % (T, path))
        continue
    a = np.load(path)
    check(a.dtype == want.dtype and a.shape == want.shape and np.array_equal(a, want),
          "numpy reads %s written by npy_save: %s %s, values equal" % (name, a.dtype, a.shape))
    ref = io.BytesIO()
    np.save(ref, want)
    with open(path, "rb") as fp:
        check(fp.read() == ref.getvalue(), "%s is byte-identical to numpy's np.save of the same array" % name)

path = os.path.join(DIR, "st_roundtrip.safetensors")
if not os.path.exists(path):
    print("skip %s: %s: absent (run build/tests/test_safetensors first)" % (T, path))
else:
    try:
        text, meta, arrays, order = check_safetensors.read(path)
        ok = True
    except Exception as e:  # any rule broken
        print("    %s" % e)
        ok = False
    check(ok, "st_roundtrip.safetensors follows the format (JSON header, padding, offsets tiling the buffer)")
    if ok:
        with open(path, "rb") as fp:
            blob = bytearray(fp.read())
        n = int.from_bytes(blob[:8], "little")
        json_end = len(blob[8:8 + n].rstrip(b" "))
        check(n % 8 == 0 and n - json_end < 8 and blob[8 + json_end - 1:8 + json_end] == b"}",
              "header of %d bytes: JSON padded with %d spaces to a multiple of 8" % (n, n - json_end))
        check(order == ["a_scalar", "layer1.bias", "layer1.weight", "zero"], "tensors stored in name order: %s" % order)
        check(meta == {"epoch": "3", "arch": "convlstm", "quote": "a\"b\\c\nd\t\u00e9\u0001/"},
              "metadata strings decode exactly (escapes, UTF-8, control character)")
        want = {"layer1.weight": F(54).reshape(2, 3, 3, 3), "layer1.bias": F(2, 200),
                "a_scalar": F(1, 5).reshape(()), "zero": np.zeros((0,), np.float32)}
        for k, w in want.items():
            a = arrays.get(k)
            check(a is not None and a.dtype == np.float32 and a.shape == w.shape and np.array_equal(a, w),
                  "tensor %s: shape %s and values" % (k, list(w.shape)))
        try:
            import torch
        except ImportError:
            torch = None
        if torch is None:
            print("skip %s: torch.frombuffer cross-check: torch not importable" % T)
        else:
            import json
            hdr = json.loads(blob[8:8 + n])
            b, e = hdr["layer1.weight"]["data_offsets"]
            t = torch.frombuffer(blob, dtype=torch.float32, count=(e - b) // 4, offset=8 + n + b).reshape(2, 3, 3, 3)
            check(torch.equal(t, torch.from_numpy(want["layer1.weight"])), "torch.frombuffer reads layer1.weight at its data_offsets")
sys.exit(1 if failed else 0)
EOF
