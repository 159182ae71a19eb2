#!/usr/bin/env bash
# baselines.sh — the two reference predictors on the test split of a scale, scored by `rnnreg metrics`
# exactly as the models are:
#   zero        every predicted pixel 0 (the empty canvas)
#   copy_last   every future frame = the last input frame (frame input_frames - 1)
# The test sequences come from `rnnreg predict --truth` with a finished run's checkpoint: every run of
# a scale has the same split (experiments/common.conf, scale sizes), so any checkpoint gives the same
# true frames; the model's own predictions are discarded.
#
#   baselines.sh OUT_DIR RUN_DIR...     (the first RUN_DIR with a checkpoint is used)
# Writes OUT_DIR/{zero,copy_last}.json (metrics), OUT_DIR/truth.npy (the test split's frames, for
# tools/pipeline/report_protocol.py), OUT_DIR/truth_strip.npy (the first predict_sequences sequences:
# the picture strip, whose copy-last row summarize.py draws from it, and the check that every run's
# truth.npy shows the same test sequences), OUT_DIR/source.txt, and OUT_DIR/done.json last; done.json names the
# run whose checkpoint gave the test frames and that run's inputs.sha256 (tools/pipeline/run.sh).
# Carried: when OUT_DIR/done.json names one of the RUN_DIRs, finished with the inputs it records, the
# baselines are those that run gives (every run is deterministic): they are kept (done.json touched, one
# line), checkpoint or not — a fresh clone of a carried scale has none (.gitignore, pipeline.mk
# CARRY_SCALES); truth.npy is then absent too (report_protocol.py keeps its results the same way).
# Environment: RNNREG, PYTHON (numpy).
set -euo pipefail
RNNREG=${RNNREG:-build/rnnreg} PYTHON=${PYTHON:-/usr/bin/python3}
out=$1; shift

# locked like a run (tools/pipeline/run.sh): a second make waits, and finds the baselines made meanwhile
mkdir -p "$(dirname "$out")"
exec 9>>"$(dirname "$out")/.$(basename "$out").lock"
if ! flock -n 9; then
    echo "baselines.sh: $out: another process is making the baselines; waiting for it" >&2
    since=$(date +%s.%N)
    flock 9
    if [ -f "$out/done.json" ] && awk -v a="$(stat -c %.9Y "$out/done.json")" -v b="$since" 'BEGIN { exit !(a >= b) }'; then
        exit 0
    fi
fi

# carried: made from a run that finished with the inputs recorded here
field() { if [ -f "$out/done.json" ]; then sed -nE "s/.*\"$1\": \"([^\"]*)\".*/\1/p" "$out/done.json"; fi; }
made_from=$(field run) made_with=$(field inputs_sha256)
if [ -n "$made_from" ] && [ -n "$made_with" ] && [ -f "$made_from/done.json" ] &&
    [ "$(cat "$made_from/inputs.sha256" 2>/dev/null)" = "$made_with" ]; then
    for d in "$@"; do
        if [ "$d" = "$made_from" ]; then
            touch "$out/done.json"
            echo "baselines.sh: $out: made from $made_from, finished with the same inputs (carried); kept"
            exit 0
        fi
    done
fi

ckpt=""
for d in "$@"; do
    for f in best.safetensors last.safetensors; do
        if [ -z "$ckpt" ] && [ -s "$d/$f" ] && [ -s "$d/config" ]; then ckpt=$d/$f run=$d; fi
    done
done
[ -n "$ckpt" ] || { echo "baselines.sh: no checkpoint in any of: $*" >&2; exit 1; }
key() { sed -nE "s/^$1 = //p" "$run/config"; }
n_test=$(key n_test) n_in=$(key input_frames) n_strip=$(key predict_sequences)
rm -rf "$out"; mkdir -p "$out/tmp"
"$RNNREG" predict --checkpoint "$ckpt" --out "$out/tmp/model_pred.npy" --truth "$out/tmp/truth.npy" \
    --sequences "$n_test" --split test >"$out/tmp/predict.log" 2>&1 || { cat "$out/tmp/predict.log" >&2; exit 1; }
"$PYTHON" - "$out/tmp" "$n_in" "$n_strip" <<'EOF'
# truth (T, N, H, W) uint8 → future frames, zero and copy-last predictions (uint8, same shape)
import sys
import numpy as np
d, n_in, n_strip = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
truth = np.load(d + "/truth.npy")
assert truth.dtype == np.uint8 and truth.ndim == 4, truth.shape
future = truth[n_in:]
np.save(d + "/future.npy", future)
np.save(d + "/zero.npy", np.zeros_like(future))
copy_last = np.repeat(truth[n_in - 1:n_in], future.shape[0], axis=0)
np.save(d + "/copy_last.npy", copy_last)
np.save(d + "/truth_strip.npy", truth[:, :n_strip])
EOF
for b in zero copy_last; do
    "$RNNREG" metrics --truth "$out/tmp/future.npy" --pred "$out/tmp/$b.npy" --out "$out/$b.json"
done
mv "$out/tmp/truth_strip.npy" "$out/truth_strip.npy"
mv "$out/tmp/truth.npy" "$out/truth.npy"
sha=$(sha256sum "$out/truth.npy" | cut -c1-64)
printf 'test truth from %s (%s test sequences, sha256 of truth.npy %s)\n' "$ckpt" "$n_test" "$sha" > "$out/source.txt"
rm -rf "$out/tmp"
printf '{"status": "ok", "checkpoint": "%s", "n_test": %s, "truth_sha256": "%s", "run": "%s", "inputs_sha256": "%s"}\n' \
    "$ckpt" "$n_test" "$sha" "$run" "$(cat "$run/inputs.sha256" 2>/dev/null)" > "$out/done.json.tmp"
mv "$out/done.json.tmp" "$out/done.json"
echo "[pipeline] baselines: zero and copy-last on $n_test test sequences → $out"
