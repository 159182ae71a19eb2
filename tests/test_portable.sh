#!/usr/bin/env bash
# test_portable.sh — the portable build (make PORTABLE=1, docs/portable.md) gives the same bits on
# other x86-64 CPUs. Other CPUs are emulated with qemu-user (Debian's qemu-user, which the test group
# of tools/deps.sh installs): `-cpu Nehalem` (SSE4.2, no AVX, no FMA: glibc's ifuncs choose their SSE2
# code, OpenBLAS its Nehalem kernels, oneDNN its SSE4.1 ones) and `-cpu qemu64` (the x86-64 baseline).
# Both models train a few steps with the regularizers on, natively and under each emulated CPU, and
# every output — weights, optimizer state, predictions, metrics, the per-epoch log without its clock
# fields — must be byte-identical; so must the data the generator makes. The default build (OpenBLAS,
# oneDNN, glibc's math) is run the same way to show that the comparison can tell: its bits differ.
# Emulation is ~50x slower than the host, so the runs are tiny (two layers of 8 channels, 4 sequences
# of 5 + 5 frames, 4 steps).
T=test_portable
. "$(dirname "$0")/lib.sh"
P=${PORTABLE_RNNREG:-build/portable/rnnreg}
if [ ! -x "$P" ]; then fail "no $P (make test builds it with make PORTABLE=1)"; exit 1; fi
trainer_scratch portable # $DATA: made by the default build
repo=$(pwd)

info=$("$P" info)
check "rnnreg info of the portable build: builtin sgemm, im2col convolutions, portable math, IEEE denormals, no CUDA" \
    bash -c "grep -qx 'blas: builtin' <<<\"\$0\" && grep -q '^conv engine: im2col' <<<\"\$0\" &&
             grep -q '^math: portable' <<<\"\$0\" && grep -qx 'denormals: kept (IEEE)' <<<\"\$0\" &&
             grep -qx 'cuda: not compiled in' <<<\"\$0\"" "$info"
check "rnnreg info of the default build says which math it has" grep -q '^math: ' <<<"$("$RNNREG" info)"

# the data: the portable generator (its own sin, cos) against the default build's (glibc's)
"$P" mmnist --digits tests/fixtures/digits_npm20.npy --count 40 --out "$W/data-portable.npy" >/dev/null 2>&1
check "the portable build generates the same sequences as the default build (40 sequences, byte for byte)" \
    cmp -s "$DATA" "$W/data-portable.npy"

# convlstm: layer norm, dropout, L2, scheduled sampling, two threads; predrnn_pp: recurrent dropout, zoneout
common="layers = 8,8
kernels = 3
patch = 4
n_train = 4
n_val = 2
n_test = 2
batch = 2
seq_len = 10
input_frames = 5
epochs = 2
sampling_iters = 2
data = $DATA"
printf 'include = %s/experiments/convlstm/model.conf\n%s\nlayer_norm = 1\ndropout = 0.2\nl2 = 1e-4\nthreads = 2\n' \
    "$repo" "$common" > "$W/convlstm.conf"
printf 'include = %s/experiments/predrnn_pp/model.conf\n%s\nrec_dropout = 0.2\nzoneout_c = 0.25\nthreads = 1\n' \
    "$repo" "$common" > "$W/predrnn_pp.conf"

# train EXE MODEL OUT [CPU]: one run, on the host or under qemu's CPU model CPU. rnnreg re-executes
# itself when OMP_WAIT_POLICY or (with OpenBLAS) OPENBLAS_CORETYPE is unset, and an exec would leave the
# emulator, so under qemu both are set (OpenBLAS's Nehalem kernels; the portable build has no OpenBLAS).
train() {
    local exe=$1 model=$2 out=$3 cpu=${4:-}
    if [ -z "$cpu" ]; then
        OMP_WAIT_POLICY=passive "$exe" train --config "$W/$model.conf" --out "$W/$out" >/dev/null 2>"$W/$out.err"
    else
        qemu-x86_64 -cpu "$cpu" -E OMP_WAIT_POLICY=passive -E OPENBLAS_CORETYPE=Nehalem \
            "$exe" train --config "$W/$model.conf" --out "$W/$out" >/dev/null 2>"$W/$out.err"
    fi
}
# log_without_clock FILE: a run's per-epoch log without its clock fields (seconds, seq_per_s)
log_without_clock() { sed -E 's/"(seconds|seq_per_s)": [^,}]*//g' "$1"; }
# same A B: every file of run A equals run B's (log.jsonl without seconds and seq_per_s)
same() {
    local a=$W/$1 b=$W/$2 f
    for f in last.safetensors best.safetensors predictions.npy metrics.json; do
        [ -f "$a/$f" ] && cmp -s "$a/$f" "$b/$f" || return 1
    done
    cmp -s <(log_without_clock "$a/log.jsonl") <(log_without_clock "$b/log.jsonl")
}

for m in convlstm predrnn_pp; do
    if ! train "$P" $m $m-native; then fail "$m: the portable build did not train natively: $(tail -1 "$W/$m-native.err")"; continue; fi
    train "$P" $m $m-again
    check "$m: the portable build repeats itself bit for bit natively" same $m-native $m-again
done

# Real silicon: the native runs' outputs against the sha256 recorded on another machine
# (tests/fixtures/portable_runs.sha256; its header names the CPUs it held on). Emulation above checks ISA
# levels and glibc's code paths on this host; this compares two vendors' or generations' hardware.
# PORTABLE_RECORD=1 rewrites the file from this host (after a deliberate change of the numerics).
FP=tests/fixtures/portable_runs.sha256
# st_tensors FILE: a safetensors file's tensor bytes, without its JSON header (whose metadata holds the
# run's config, paths included: 8 bytes of header length, the header, then the data)
st_tensors() { local n; n=$(od -An -tu8 -N8 "$1" | tr -d ' '); tail -c +$((n + 9)) "$1"; }
fingerprint() {   # the files `same` compares (checkpoints: their tensors), the log without clock fields, the data
    local m f
    for m in convlstm predrnn_pp; do
        for f in last.safetensors best.safetensors; do
            printf '%s  %s/%s (tensors)\n' "$(st_tensors "$W/$m-native/$f" | sha256sum | cut -d' ' -f1)" $m $f
        done
        for f in predictions.npy metrics.json; do
            printf '%s  %s/%s\n' "$(sha256sum < "$W/$m-native/$f" | cut -d' ' -f1)" $m $f
        done
        printf '%s  %s/log.jsonl (without seconds, seq_per_s)\n' \
            "$(log_without_clock "$W/$m-native/log.jsonl" | sha256sum | cut -d' ' -f1)" $m
    done
    printf '%s  data.npy\n' "$(sha256sum < "$W/data-portable.npy" | cut -d' ' -f1)"
}
cpu_name=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
cpu_id=$(awk -F': ' '/^cpu family/{f=$2} /^model[[:space:]]*:/{m=$2} END{print "family " f ", model " m}' /proc/cpuinfo)
if [ "${PORTABLE_RECORD:-0}" = 1 ]; then
    { echo "# tests/fixtures/portable_runs.sha256 — what test_portable.sh's native portable runs wrote, recorded on"
      echo "# $cpu_name ($cpu_id) on $(date -u +%Y-%m-%d); PORTABLE_RECORD=1 bash tests/test_portable.sh rewrites it"
      fingerprint; } > "$FP.tmp" && mv "$FP.tmp" "$FP"
    skip "PORTABLE_RECORD=1: wrote $FP from this host ($cpu_name, $cpu_id); nothing compared"
elif [ ! -f "$FP" ]; then
    fail "$FP is missing (PORTABLE_RECORD=1 bash tests/test_portable.sh writes it)"
else
    diffs=$(diff <(grep -v '^#' "$FP") <(fingerprint) | sed -n 's/^> [0-9a-f]*  //p' | paste -sd, -)
    check "the portable runs' outputs on this CPU ($cpu_name, $cpu_id) equal those recorded on $(sed -n '2s/^# \(.*\) on [0-9-]*;.*/\1/p' "$FP")${diffs:+ (differ: $diffs)}" \
        test -z "$diffs"
fi

if ! command -v qemu-x86_64 >/dev/null 2>&1; then
    skip "no qemu-x86_64 (Debian's qemu-user; tools/deps.sh test installs it): the emulated CPUs are not tried"
    exit $((fails > 0))
fi
if [ "$(uname -m)" != x86_64 ]; then skip "this host is $(uname -m), not x86-64"; exit $((fails > 0)); fi
for cpu in Nehalem qemu64; do
    qemu-x86_64 -cpu $cpu "$P" mmnist --digits tests/fixtures/digits_npm20.npy --count 40 --out "$W/data-$cpu.npy" \
        >/dev/null 2>&1
    check "the generator's sequences under an emulated $cpu CPU equal the host's" cmp -s "$DATA" "$W/data-$cpu.npy"
    for m in convlstm predrnn_pp; do
        if ! train "$P" $m $m-$cpu $cpu; then fail "$m under -cpu $cpu: $(tail -1 "$W/$m-$cpu.err")"; continue; fi
        check "$m: the portable build under an emulated $cpu CPU gives the host's bits (weights, predictions, metrics, log)" \
            same $m-native $m-$cpu
    done
done

# The comparison can tell: the default build under the emulated Nehalem (OpenBLAS's Nehalem kernels,
# oneDNN's SSE4.1 ones, glibc's SSE2 math) against itself on the host.
if "$RNNREG" info | grep -q '^math: portable'; then
    skip "this test runs in the portable build itself: there is no default build to contrast"
elif ldd "$RNNREG" 2>/dev/null | grep -q libasan; then
    skip "the build under test has AddressSanitizer (make SANITIZE=1), which does not run under qemu-user: no contrast"
elif train "$RNNREG" convlstm default-native && train "$RNNREG" convlstm default-Nehalem Nehalem; then
    if same default-native default-Nehalem; then
        skip "the default build happened to give the host's bits under the emulated Nehalem too (the contrast is not shown)"
    else
        ok "the default build's bits differ under the emulated Nehalem (so equal bits above are not a blind comparison)"
    fi
else
    fail "the default build did not train: $(tail -1 "$W/default-Nehalem.err")"
fi
exit $((fails > 0))
