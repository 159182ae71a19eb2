#!/usr/bin/env bash
# test_rundir.sh — the trainer's run directory under faults, on the tiny ConvLSTM
# (experiments/configs/convlstm_tiny.conf) and 40 generated Moving MNIST sequences:
#   lock     a second `train --out DIR` while a run works in DIR stops at once in one line naming DIR
#            and the owner's pid, and the first run ends bit-identical to an undisturbed one; --wait
#            waits for the holder; eval / predict writing into a locked run directory are refused
#   data     the checkpoints record the data file's sha256 (= sha256sum's), and --resume on a data
#            file whose content changed (same size, mtime set back) is refused without touching DIR;
#            on the original content it resumes
#   mixing   a fresh run in a directory holding another run's outputs but no last.safetensors is
#            refused (files untouched); the pipeline's own files (run.conf, inputs.sha256, train.log)
#            do not count; the same run stopped before its first checkpoint starts again with --resume
#   l2       l2 > 0 with checkpoint_every = 1: kill -9 right after a mid-epoch checkpoint, then
#            resume → log.jsonl (train_l2_penalty, train_loss_with_l2) and every file bit-identical
#   frames   6 x 6 frames are refused before any training (one line: the data file and the size);
#            7 x 7 frames (patch 7: 1 x 1 after patching) train and get their metrics
# Needs build/rnnreg and flock(1) (util-linux) for the lock-holder checks.
set -u
cd "$(dirname "$0")/.."
T=test_rundir
. tests/lib.sh

trainer_scratch rundir
CONF=experiments/configs/convlstm_tiny.conf
HAVE_FLOCK=0; command -v flock >/dev/null && HAVE_FLOCK=1

train() { local out=$1; shift; "$RNNREG" train --config "$CONF" --set data="$DATA" "$@" --out "$out"; }
untimed() { sed -E 's/, "seconds": [^,}]*//; s/, "seq_per_s": [^,}]*//' "$1"; }
same_run() { # DIR_A DIR_B: every output identical (log up to timings)
    cmp -s "$1/last.safetensors" "$2/last.safetensors" && cmp -s "$1/best.safetensors" "$2/best.safetensors" &&
        cmp -s "$1/metrics.json" "$2/metrics.json" && cmp -s "$1/predictions.npy" "$2/predictions.npy" &&
        cmp -s "$1/config" "$2/config" && cmp -s <(untimed "$1/log.jsonl") <(untimed "$2/log.jsonl")
}
# meta KEY FILE: a checkpoint's metadata value (the safetensors header is compact JSON)
meta() { head -c 200000 "$2" | grep -ao "\"$1\":\"[^\"]*\"" | head -1 | cut -d'"' -f4; }
# fingerprint of a directory: names, sizes and content hashes of everything in it
dirsum() { (cd "$1" && find . -type f ! -name .lock -print0 | sort -z | xargs -0 sha256sum); }
# one line of stderr, and exactly one
one_line() { [ "$(grep -c . "$1")" -eq 1 ]; }
now() { date +%s.%N; }
# npy_u8 PATH T N H W: a (T, N, H, W) uint8 .npy of random bytes (format 1.0 header by hand)
npy_u8() {
    local dict="{'descr': '|u1', 'fortran_order': False, 'shape': ($2, $3, $4, $5), }"
    local len=$(( (10 + ${#dict} + 1 + 63) / 64 * 64 - 10 ))
    { printf '\x93NUMPY\x01\x00'; printf "\\x$(printf %02x $((len % 256)))\\x$(printf %02x $((len / 256)))";
      printf '%-*s\n' $((len - 1)) "$dict"; head -c $(($2 * $3 * $4 * $5)) /dev/urandom; } >"$1"
}

# ---------------------------------------------------------------------------------------------
# lock: a second trainer on a live run directory
LONG=(--set epochs=20 --set checkpoint_every=5)
train "$W/ref" "${LONG[@]}" >/dev/null 2>&1
"$RNNREG" train --config "$CONF" --set data="$DATA" "${LONG[@]}" --out "$W/live" >/dev/null 2>"$W/live.err" & apid=$!
for _ in $(seq 100); do [ -e "$W/live/config" ] && break; sleep 0.1; done
t0=$(now)
train "$W/live" "${LONG[@]}" >/dev/null 2>"$W/second.err"; rc=$?
took=$(echo "$(now) - $t0" | bc)
alive=0; kill -0 "$apid" 2>/dev/null && alive=1
wait "$apid"; arc=$?
check "lock: a second train --out on a live run stops (exit $rc, ${took%???????} s, first run still running: $alive) with one line naming the directory and the owner's pid $apid: $(head -c 200 "$W/second.err")" \
    eval '[ "$rc" -ne 0 -a "$alive" -eq 1 ] && one_line "$W/second.err" && grep -qF "$W/live" "$W/second.err" && grep -qw "$apid" "$W/second.err"'
check "lock: the first run finished (exit $arc), bit-identical to an undisturbed run" \
    eval '[ "$arc" -eq 0 ] && same_run "$W/ref" "$W/live"'

if [ "$HAVE_FLOCK" = 1 ]; then
    mkdir -p "$W/held"
    flock "$W/held/.lock" sleep 3 & hpid=$!
    sleep 0.5
    train "$W/held" >/dev/null 2>"$W/held.err"; rc=$?
    check "lock: refused while flock(1) holds DIR/.lock (exit $rc), nothing written: $(head -c 160 "$W/held.err")" \
    eval '[ "$rc" -ne 0 -a -z "$(ls "$W/held")" ] && one_line "$W/held.err"'
    t0=$(now)
    train "$W/held" --wait >/dev/null 2>"$W/wait.err"; rc=$?
    took=$(echo "$(now) - $t0" | bc)
    check "lock: --wait waits for the holder (${took%???????} s >= 2) and then trains (exit $rc)" \
    eval '[ "$rc" -eq 0 -a -s "$W/held/metrics.json" ] && grep -q "waiting" "$W/wait.err" && [ "$(echo "$took >= 2" | bc)" = 1 ]'
    wait "$hpid"
    flock "$W/ref/.lock" sleep 3 & hpid=$!
    sleep 0.5
    before=$(dirsum "$W/ref")
    "$RNNREG" eval --checkpoint "$W/ref/best.safetensors" --out "$W/ref/eval.json" 2>"$W/eval.err"; rc=$?
    "$RNNREG" predict --checkpoint "$W/ref/best.safetensors" --out "$W/ref/pred.npy" --truth "$W/ref/tr.npy" 2>"$W/pred.err"; rc2=$?
    check "lock: eval and predict into a locked run directory are refused in one line each (exit $rc, $rc2), nothing written: $(head -c 120 "$W/eval.err")" \
    eval '[ "$rc" -ne 0 -a "$rc2" -ne 0 -a "$(dirsum "$W/ref")" = "$before" ] && one_line "$W/eval.err" && one_line "$W/pred.err" && ! grep -q -- --wait "$W/eval.err"'
    wait "$hpid"
    "$RNNREG" eval --checkpoint "$W/ref/best.safetensors" --out "$W/ref/eval.json" 2>/dev/null; rc=$?
    check "lock: eval into the run directory works once it is free (exit $rc)" [ "$rc" -eq 0 -a -s "$W/ref/eval.json" ]
else
    skip "lock-holder checks" "no flock(1)"
fi

# ---------------------------------------------------------------------------------------------
# data: the recorded sha256, and resume on changed data
train "$W/d" --set epochs=2 >/dev/null 2>"$W/d.err"
want=$(sha256sum "$DATA" | cut -c1-64)
got=$(meta data_sha256 "$W/d/last.safetensors"); gotb=$(meta data_sha256 "$W/d/best.safetensors")
check "data: last/best.safetensors record data_sha256 = sha256sum of the data ($want)" [ -n "$want" -a "$got" = "$want" -a "$gotb" = "$want" ]
check "data: the run prints the data's sha256" grep -q "sha256 $want" "$W/d.err"
cp -p "$DATA" "$W/data.orig"
check "data: the hash is cached beside the data ($(basename "$DATA").sha256), so the change below must get past the cache" [ -s "$DATA.sha256" ]
before=$(dirsum "$W/d")
# another content, same size, and the mtime set back: only the bytes differ
b=$(od -An -tu1 -j 5000 -N 1 "$DATA" | tr -d ' ')
printf "\\x$(printf %02x $(((b + 1) % 256)))" | dd of="$DATA" bs=1 seek=5000 conv=notrunc status=none
touch -r "$W/data.orig" "$DATA"
changed=$(sha256sum "$DATA" | cut -c1-64)
train "$W/d" --set epochs=3 --resume >/dev/null 2>"$W/dchg.err"; rc=$?
msg=$(grep 'rnnreg train:' "$W/dchg.err")
check "data: --resume on changed data (same size and mtime) refused (exit $rc) in one line naming the file and both hashes: $msg" \
    eval '[ "$rc" -ne 0 ] && one_line "$W/dchg.err" && grep -qF "$DATA" <<<"$msg" && grep -qF "${want:0:16}" <<<"$msg" && grep -qF "${changed:0:16}" <<<"$msg"'
check "data: the refused resume left the run directory as it was" [ "$(dirsum "$W/d")" = "$before" ]
cp -p "$W/data.orig" "$DATA"
train "$W/d" --set epochs=3 --resume >/dev/null 2>"$W/dres.err"; rc=$?
check "data: on the original content the resume goes on (exit $rc, 3 log lines)" \
    eval '[ "$rc" -eq 0 ] && [ "$(wc -l <"$W/d/log.jsonl")" -eq 3 ]'

# ---------------------------------------------------------------------------------------------
# mixing: another run's outputs without last.safetensors
mkdir -p "$W/mix"
cp "$W/ref/metrics.json" "$W/ref/predictions.npy" "$W/ref/truth.npy" "$W/mix/"
before=$(dirsum "$W/mix")
train "$W/mix" >/dev/null 2>"$W/mix.err"; rc=$?
check "mixing: a fresh run among another run's metrics.json / predictions.npy / truth.npy is refused (exit $rc) in one line: $(head -c 200 "$W/mix.err")" \
    eval '[ "$rc" -ne 0 ] && one_line "$W/mix.err" && grep -q "metrics.json" "$W/mix.err"'
train "$W/mix" --resume >/dev/null 2>/dev/null; rc2=$?
check "mixing: --resume does not adopt them either (exit $rc2); the files are untouched" [ "$rc2" -ne 0 -a "$(dirsum "$W/mix")" = "$before" ]
mkdir -p "$W/other"; cp "$W/ref/config" "$W/ref/log.jsonl" "$W/other/"
train "$W/other" --set lr=0.02 --resume >/dev/null 2>"$W/other.err"; rc=$?
check "mixing: --resume into another configuration's config + log.jsonl without a checkpoint is refused (exit $rc)" \
    eval '[ "$rc" -ne 0 ] && one_line "$W/other.err"'
# the pipeline's own files are not trainer outputs
mkdir -p "$W/pipe"
printf 'include = x\n' >"$W/pipe/run.conf"; echo abc >"$W/pipe/inputs.sha256"; echo "earlier line" >"$W/pipe/train.log"
train "$W/pipe" --set epochs=6 --resume >/dev/null 2>/dev/null; rc=$?
check "mixing: run.conf, inputs.sha256, train.log beside the run are fine (exit $rc), kept, and the run = the reference" \
    [ "$rc" -eq 0 -a "$(cat "$W/pipe/train.log")" = "earlier line" -a -s "$W/pipe/run.conf" -a -s "$W/pipe/inputs.sha256" ]
train "$W/six" >/dev/null 2>&1
check "mixing: (the pipeline-file run gives the same files as a plain one)" same_run "$W/six" "$W/pipe"
# the same run stopped before its first checkpoint: config + a partial log, no last.safetensors
mkdir -p "$W/early"; cp "$W/six/config" "$W/early/"; head -1 "$W/six/log.jsonl" >"$W/early/log.jsonl"
cp "$W/six/metrics.json" "$W/early/"
train "$W/early" >/dev/null 2>/dev/null; rc=$?
check "mixing: the same run's leftovers without --resume are refused (exit $rc)" [ "$rc" -ne 0 ]
train "$W/early" --resume >/dev/null 2>/dev/null; rc=$?
check "mixing: with --resume the same run starts again there (exit $rc) and ends = the reference" \
    eval '[ "$rc" -eq 0 ] && same_run "$W/six" "$W/early"'

# ---------------------------------------------------------------------------------------------
# l2 > 0 with checkpoint_every: kill -9 / resume, the log's penalty fields included
L2=(--set l2=0.01 --set checkpoint_every=1)
start=$(now)
train "$W/l2ref" "${L2[@]}" >/dev/null 2>&1
dur=$(echo "$(now) - $start" | bc)
check "l2: the log has train_l2_penalty and train_loss_with_l2" grep -q '"train_l2_penalty": [0-9]' "$W/l2ref/log.jsonl"
# kills that leave a mid-epoch checkpoint are what this is about. A timed kill can miss them on a loaded
# machine, so the trainer is frozen (SIGSTOP) every 20 ms after a random delay and killed as soon as its
# last.safetensors is a mid-epoch one (checkpoint files are renamed into place whole, so a frozen
# trainer's file is a complete one); 3 such kills, up to 12 tries. Every resumed run, whatever its kill
# left, must equal the uninterrupted one.
same=0; mid=0; n=0
while [ "$mid" -lt 3 ] && [ "$n" -lt 12 ]; do
    n=$((n + 1)); d=$W/l2k$n
    frac=$(awk -v s="$RANDOM" 'BEGIN{srand(s); printf "%.3f", 0.6 * rand()}')
    "$RNNREG" train --config "$CONF" --set data="$DATA" "${L2[@]}" --out "$d" >/dev/null 2>&1 & pid=$!
    sleep "$(echo "$dur * $frac" | bc -l)"
    while kill -STOP "$pid" 2>/dev/null; do
        if [ -e "$d/last.safetensors" ] && [ "$(meta batch_in_epoch "$d/last.safetensors")" != 0 ]; then break; fi
        kill -CONT "$pid" 2>/dev/null; sleep 0.02
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    [ -e "$d/last.safetensors" ] && [ "$(meta batch_in_epoch "$d/last.safetensors")" != 0 ] && mid=$((mid + 1))
    train "$d" "${L2[@]}" --resume >/dev/null 2>&1
    same_run "$W/l2ref" "$d" && same=$((same + 1))
done
check "l2: kill -9 and resume ($mid of $n kills left a mid-epoch checkpoint): $same of $n resumed runs bit-identical, log included" \
    [ "$same" -eq "$n" -a "$mid" -ge 3 ]

# ---------------------------------------------------------------------------------------------
# frames smaller than the 7 x 7 SSIM window
npy_u8 "$W/six.npy" 20 40 6 6
t0=$(now)
"$RNNREG" train --config "$CONF" --set data="$W/six.npy" --set patch=2 --out "$W/small" >/dev/null 2>"$W/small.err"; rc=$?
took=$(echo "$(now) - $t0" | bc)
msg=$(grep 'rnnreg train:' "$W/small.err")
check "frames: 6 x 6 frames refused at the start (exit $rc, no epoch trained, no checkpoint) in one line naming the data and the size: $msg" \
    eval '[ "$rc" -ne 0 -a ! -e "$W/small/last.safetensors" ] && one_line "$W/small.err" && grep -qF "$W/six.npy" <<<"$msg" && grep -q "6 x 6" <<<"$msg"'
npy_u8 "$W/seven.npy" 20 40 7 7
"$RNNREG" train --config "$CONF" --set data="$W/seven.npy" --set patch=7 --set epochs=1 --out "$W/seven" >/dev/null 2>"$W/seven.err"; rc=$?
check "frames: 7 x 7 frames (1 x 1 after patch 7) train and get test metrics (exit $rc)" [ "$rc" -eq 0 -a -s "$W/seven/metrics.json" ]
# a model config the trainer rejects leaves no run directory behind (it made it, it takes it back);
# a directory that was there stays
train "$W/badmodel" --set head_act=tanh --set model=predrnn_pp --set layers=4,4 >/dev/null 2>"$W/badmodel.err"; rc=$?
check "a rejected model config (exit $rc, one line: $(head -c 120 "$W/badmodel.err")) leaves no run directory" \
    eval '[ "$rc" -ne 0 ] && one_line "$W/badmodel.err" && [ ! -e "$W/badmodel" ]'
mkdir -p "$W/badmodel2"
train "$W/badmodel2" --set head_act=tanh --set model=predrnn_pp --set layers=4,4 >/dev/null 2>&1
check "a rejected model config leaves a directory that was there before" [ -d "$W/badmodel2" ]
exit 0
