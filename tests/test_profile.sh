#!/usr/bin/env bash
# test_profile.sh — `rnnreg bench --profile` (src/profile.c, the timers of src/ops_dispatch.c) on tiny
# PredRNN++ configs: the counted calls of the convolutions and layer norms against the closed form of
# the model's structure (per step t and layer: 6 convolutions with a layer norm + memory_reduce; the
# GHU's 2 with layer norms; the head's 1), the counted FLOPs against the model's own FLOP count
# (bench --dry-run: fwd_flops_per_seq x batch per step, which predrnn_pp.c derives from the
# parameter shapes), and the times: every op's time and the non-op rest add up to the step time.
set -u
cd "$(dirname "$0")/.."
T=test_profile
. tests/lib.sh

if [ ! -x "$RNNREG" ]; then fail "no executable $RNNREG"; exit 1; fi
mkdir -p "$BUILD/tests"
W=$(mktemp -d "$BUILD/tests/profile.XXXXXX")
trap 'rm -rf "$W"' EXIT
CONF=experiments/configs/predrnn_pp_tiny.conf

# report FIELD OP FILE: column FIELD (2 calls, 3 ms, 4 %step, 5 CPU ms, 6 %cpu, 7 GFLOP/s) of op OP's
# row, per step
report() { awk -v op="$2" -v f="$1" '$1 == op { print $f; exit }' "$3"; }

# case NAME LAYERS GHU STEPS: one bench run with --profile; L layers, F frames
profile_case() {
    local name=$1 L=$2 ghu=$3 steps=$4 F=6 B=3
    local layers; layers=$(printf '4%.0s,' $(seq "$L")); layers=${layers%,}
    local args=(--config "$CONF" --set layers="$layers" --set ghu="$ghu" --batch "$B" --seq-len "$F" --threads 1)
    local r=$W/$name.txt
    OMP_NUM_THREADS=1 "$RNNREG" bench "${args[@]}" --warmup 1 --steps "$steps" --profile >"$r" 2>"$W/$name.err"
    check "$name: bench --profile exits 0 and prints the report" \
        grep -q '^profile: '"$steps"' timed step' "$r"
    local per_cell=7 ln_cell=6 ghu_convs=$((ghu && L > 1 ? 2 : 0)) ghu_ln=$((ghu && L > 1 ? 2 : 0))
    # closed form per training step: (F-1) steps x (L cells x 7 + GHU 2 + head 1)
    local convs=$(((F - 1) * (L * per_cell + ghu_convs + 1))) lns=$(((F - 1) * (L * ln_cell + ghu_ln)))
    for op in conv2d_forward conv2d_backward; do
        local c; c=$(report 2 $op "$r")
        check "$name: $op calls per step $c = (F-1)(L·7 + GHU + head) = $convs" \
            awk -v a="$c" -v b="$convs" 'BEGIN { exit !(a == b) }'
    done
    for op in tensor_layernorm_forward tensor_layernorm_backward; do
        local c; c=$(report 2 $op "$r")
        check "$name: $op calls per step $c = (F-1)(L·6 + GHU's 2) = $lns" \
            awk -v a="$c" -v b="$lns" 'BEGIN { exit !(a == b) }'
    done
    local fwd; fwd=$("$RNNREG" bench "${args[@]}" --dry-run 2>/dev/null | sed -nE 's/.*"fwd_flops_per_seq": ([0-9.e+-]+).*/\1/p')
    # counted forward conv FLOPs per step = GFLOP/s x seconds; the model's count: fwd_flops_per_seq x B
    local gf ms; gf=$(report 7 conv2d_forward "$r"); ms=$(report 3 conv2d_forward "$r")
    check "$name: conv2d_forward FLOPs ($gf GFLOP/s x $ms ms) = the model's $fwd FLOP/seq x $B (1 %, printed digits)" \
        awk -v g="$gf" -v t="$ms" -v f="$fwd" -v b="$B" 'BEGIN { c = g * 1e9 * t * 1e-3; m = f * b; exit !(c > 0.99 * m && c < 1.01 * m) }'
    gf=$(report 7 conv2d_backward "$r"); ms=$(report 3 conv2d_backward "$r")
    check "$name: conv2d_backward FLOPs ($gf GFLOP/s x $ms ms) <= 2 x forward (dx and dw; no dx for the first layer's frame)" \
        awk -v g="$gf" -v t="$ms" -v f="$fwd" -v b="$B" 'BEGIN { c = g * 1e9 * t * 1e-3; m = f * b; exit !(c > 1.5 * m && c < 2.01 * m) }'
    # times, wall and CPU: every row's ms (ops and the non-op rest) is >= 0, the ops sum to <= the
    # step, and all rows add up to the step (each printed to 0.001 ms)
    for clock in wall:3:2 cpu:5:4; do
        IFS=: read -r cname col stepcol <<<"$clock"
        check "$name: $cname times: ops sum to <= the step and ops + non-op code = the step" awk -v c="$col" -v sc="$stepcol" '
            /^profile:/ { on = 1; next }
            on && $1 == "op" { next }
            on && $1 == "(step)" { step = $sc; on = 0; next }
            on && $1 == "(non-op" { rest = $c; next }
            on && NF >= 6 { if ($c < 0) bad = 1; ops += $c; n++ }
            END { exit !(n > 5 && !bad && ops <= step + 0.001 * n && rest >= -0.001 && \
                         (ops + rest - step) ^ 2 < (0.001 * (n + 2)) ^ 2) }' "$r"
    done
    # bench's Adam: one adam_update per parameter tensor per step: per cell 7 convolutions (kernel,
    # bias) and 6 layer norms (gain, offset), the GHU's 2 convolutions and 2 layer norms, the head's 2
    local tensors=$((L * (7 * 2 + 6 * 2) + (ghu ? 8 : 0) + 2)) calls; calls=$(report 2 adam_update "$r")
    check "$name: adam_update calls per step $calls = parameter tensors $tensors" \
        awk -v a="$calls" -v b="$tensors" 'BEGIN { exit !(a == b) }'
}

profile_case ghu2 2 1 2
profile_case noghu3 3 0 1

# without --profile: no report; with --json the report goes to stderr and stdout stays one JSON line
OMP_NUM_THREADS=1 "$RNNREG" bench --config "$CONF" --batch 2 --seq-len 4 --warmup 0 --steps 1 --threads 1 >"$W/plain.txt" 2>&1
check "without --profile no report is printed" bash -c '! grep -q "^profile:" "$1" && grep -q "s/step" "$1"' _ "$W/plain.txt"
OMP_NUM_THREADS=1 "$RNNREG" bench --config "$CONF" --batch 2 --seq-len 4 --warmup 0 --steps 1 --threads 1 --json --profile \
    >"$W/json.out" 2>"$W/json.err"
check "--json --profile: stdout is the one JSON line, the report is on stderr" \
    bash -c '[ "$(wc -l <"$1")" = 1 ] && grep -q "^{\"bench\": \"train_step\"" "$1" && grep -q "^profile: 1 timed step" "$2"' \
    _ "$W/json.out" "$W/json.err"
exit $((fails > 0))
