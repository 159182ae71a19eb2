#!/usr/bin/env bash
# run.sh — one training run of the pipeline (called by pipeline.mk for results/<scale>/<model>/<exp>/<seed>/).
#
#   run.sh --id MODEL/EXP/SEED --dir DIR --seed S --data FILE --include CONF [--include CONF ...] [--strip]
#
# 1. Writes DIR/run.conf: the includes in order (model base, chosen optimizer, experiment, scale, the
#    experiment's own scale file if any; paths
#    relative to DIR, as rnnreg resolves them), then `seed` and `data`. It is the run's whole
#    configuration; the trainer resolves it into DIR/config.
# 2. Fingerprints the inputs (run.conf, the text of every file it includes recursively, RUN_SETS, the
#    data file's content: its sha256, through the trainer's cache FILE.sha256, data_sha256.sh) into
#    DIR/inputs.sha256. Contents only, no file times: a fresh clone (new times everywhere) or data made
#    again bit for bit (`make data`, its seed) have the same fingerprint.
#    - A FINISHED run (done.json) with the same fingerprint is CARRIED: Make called run.sh only because
#      times moved (a fresh clone holding the committed small files of a run, .gitignore; regenerated
#      data). It is kept: done.json is touched (Make is satisfied next time), carry_files.py adds any
#      small stand-in it lacks, and one line says "run.sh: DIR: finished with the same inputs
#      (carried); kept". Only its files must be there: config, log.jsonl, metrics.json (unless diverged).
#    - An unfinished run with the same fingerprint is resumed (`rnnreg train --resume`: the trainer's
#      checkpoints are atomic and its resume is bit-identical).
#    - Anything else in DIR (a finished run of other inputs, other inputs, debris) is removed first.
#    So an interrupted `make reproduce` continues where it stopped and never trusts a half-written run.
#    A fingerprint written before the data was hashed (its size and mtime in place of the sha256) counts
#    as the same inputs while the data file still has that size and mtime, and is rewritten.
# 3. Runs `$RUNNER $RNNREG train --config DIR/run.conf [--set k=v for RUN_SETS] --out DIR --resume`,
#    the trainer's messages going to DIR/train.log.
# 4. Writes the run's small stand-ins of its large files (carry_files.py: parameters.json, and with
#    --strip predictions_strip.npy, sequence 0 of predictions.npy), then DIR/done.json LAST
#    (atomically): {"status": "ok"} once metrics.json exists, or {"status": "diverged"} when the trainer
#    stopped on a NaN/infinite loss (a result, not a failure: the optimizer study must survive a
#    diverging optimizer), with "ended_at" (seconds since the epoch; the summary's elapsed time). Any
#    other failure exits 1, no stamp.
# The run is locked (flock on .SEED.lock beside DIR) from step 2 to the end: a second run.sh of the same
# DIR waits for it (or stops, RUN_LOCK=stop).
# Environment: RNNREG (build/rnnreg), RUNNER (prefix, e.g. "srun --gres=gpu:1"), RUN_SETS ("k=v k=v"),
# PROGRESS_DIR (tools/pipeline/progress.sh state; optional), RUN_LOCK (wait|stop; default wait),
# PYTHON (numpy; for carry_files.py).
set -euo pipefail
RNNREG=${RNNREG:-build/rnnreg}
PYTHON=${PYTHON:-/usr/bin/python3}
RUNNER=${RUNNER:-}
RUN_SETS=${RUN_SETS:-}
here=$(dirname "$0")

id="" dir="" seed="" data="" includes=() strip=()
while [ $# -gt 0 ]; do
    case "$1" in
        --id) id=$2; shift 2 ;;
        --dir) dir=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --data) data=$2; shift 2 ;;
        --include) includes+=("$2"); shift 2 ;;
        --strip) strip=(--strip); shift ;;
        *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
if [ -z "$id" ] || [ -z "$dir" ] || [ -z "$seed" ] || [ -z "$data" ] || [ ${#includes[@]} -eq 0 ]; then
    echo "run.sh: needs --id, --dir, --seed, --data and at least one --include" >&2; exit 2
fi
for f in "${includes[@]}"; do [ -f "$f" ] || { echo "run.sh: $f: no such config file" >&2; exit 1; }; done
[ -f "$data" ] || { echo "run.sh: $data: no such data file" >&2; exit 1; }

# --- 1. the run's configuration -------------------------------------------------------------------
conf="# $dir/run.conf — written by tools/pipeline/run.sh (pipeline.mk); do not edit: edit the included files.
# Order: model base, [optimizer chosen by the optimizer study,] experiment, scale[, the experiment's
# own sizes at this scale]; then this run's keys."
for f in "${includes[@]}"; do
    conf+=$'\n'"include = $(realpath -m --relative-to="$dir" "$f")"
done
conf+=$'\n'"seed = $seed"$'\n'"data = $data"$'\n'

# --- 2. fingerprint and resume-or-restart -----------------------------------------------------------
config_text=$({
    printf '%s' "$conf"
    bash "$here/conf_deps.sh" "${includes[@]}" | while read -r f; do printf '\n== %s\n' "$f"; cat "$f"; done
    printf '\n== RUN_SETS %s\n' "$RUN_SETS"
    printf x       # keeps the text's last newline through $( )
})
config_text=${config_text%x}
data_sha=$(bash "$here/data_sha256.sh" "$data")
fingerprint=$(printf '%s== data sha256 %s\n' "$config_text" "$data_sha" | sha256sum | cut -c1-64)
# the fingerprint of run.sh before it hashed the data: the data's size and mtime instead
fingerprint_by_time=$(printf '%s== data %s\n' "$config_text" "$(stat -c '%s %Y' "$data")" | sha256sum | cut -c1-64)

# --- the run's lock: held from the resume-or-restart decision to the stamp, so that two makes on one
# tree never train the same run directory at once. It is a file beside DIR (.SEED.lock), which survives
# the rm -rf of DIR below and differs from any lock the trainer takes inside DIR. The second run.sh says
# so in one line and waits (RUN_LOCK=wait, the default: the makes cooperate) or stops (RUN_LOCK=stop).
# When it got the lock after waiting and the other make finished this run meanwhile with the same
# inputs, there is nothing left to do.
mkdir -p "$(dirname "$dir")"
lock="$(dirname "$dir")/.$(basename "$dir").lock"
exec 9>>"$lock"
if ! flock -n 9; then
    if [ "${RUN_LOCK:-wait}" = stop ]; then
        echo "run.sh: $dir: another process is training this run (it holds $lock); stopping (RUN_LOCK=stop)" >&2
        exit 1
    fi
    echo "run.sh: $dir: another process is training this run (it holds $lock); waiting for it" >&2
    waited_since=$(date +%s.%N)
    flock 9
    if [ -f "$dir/done.json" ] && [ "$(cat "$dir/inputs.sha256" 2>/dev/null)" = "$fingerprint" ] &&
        awk -v a="$(stat -c %.9Y "$dir/done.json")" -v b="$waited_since" 'BEGIN { exit !(a >= b) }'; then
        echo "run.sh: $dir: finished by the other process meanwhile; nothing to do"
        exit 0
    fi
fi

recorded=$(cat "$dir/inputs.sha256" 2>/dev/null || true)
if [ -n "$recorded" ] && [ "$recorded" = "$fingerprint_by_time" ] && [ "$fingerprint_by_time" != "$fingerprint" ]; then
    # written before the data was hashed, and the data unchanged since: the same inputs
    echo "$fingerprint" > "$dir/inputs.sha256.tmp.$$" && mv "$dir/inputs.sha256.tmp.$$" "$dir/inputs.sha256"
    recorded=$fingerprint
fi
resume=0
if [ -f "$dir/done.json" ] && [ "$recorded" = "$fingerprint" ] && [ -s "$dir/config" ] && [ -f "$dir/log.jsonl" ] &&
    { [ -s "$dir/metrics.json" ] || grep -q '"status": "diverged"' "$dir/done.json"; }; then
    # a finished run of the same inputs: Make called it only because times moved (a fresh clone's
    # committed run, data made again); its stand-ins are completed where the large files are there
    "$PYTHON" "$here/carry_files.py" "$dir" "${strip[@]}" ||
        echo "run.sh: $dir: carry_files.py failed; the summary makes the small files again" >&2
    touch "$dir/done.json"
    [ -z "${PROGRESS_DIR:-}" ] || bash "$here/progress.sh" carried "$id" || true
    echo "run.sh: $dir: finished with the same inputs (carried); kept"
    exit 0
elif [ -f "$dir/done.json" ]; then
    rm -rf "$dir"                         # a finished run of other inputs (or with files missing)
elif [ -d "$dir" ] && [ "$recorded" = "$fingerprint" ]; then
    resume=1                              # an interrupted run of the same inputs
elif [ -e "$dir" ]; then
    rm -rf "$dir"                         # another run's leftovers
fi
mkdir -p "$dir"
if [ "$resume" = 0 ]; then
    printf '%s' "$conf" > "$dir/run.conf.tmp.$$" && mv "$dir/run.conf.tmp.$$" "$dir/run.conf"
    echo "$fingerprint" > "$dir/inputs.sha256.tmp.$$" && mv "$dir/inputs.sha256.tmp.$$" "$dir/inputs.sha256"
fi

sets=()
for kv in $RUN_SETS; do sets+=(--set "$kv"); done

# --- 3. train ---------------------------------------------------------------------------------------
progress() { [ -z "${PROGRESS_DIR:-}" ] || bash "$here/progress.sh" "$@" || true; }   # never fails a run
progress start "$id" $([ "$resume" = 1 ] && echo resumed)
t0=$(date +%s.%N)
train() { # shellcheck disable=SC2086  # RUNNER is a command prefix: split into words on purpose
    $RUNNER "$RNNREG" train --config "$dir/run.conf" "${sets[@]}" --out "$dir" --resume >>"$dir/train.log" 2>&1
}
last_error() { grep -E '^rnnreg train: ' "$dir/train.log" | tail -1 | sed 's/^rnnreg train: //'; }
status=ok message="" rc=0
train || rc=$?
if [ "$rc" -ne 0 ] && [ "$resume" = 1 ] && last_error | grep -q 'resume refused'; then
    # the checkpoint was written under another resolved config (e.g. by a trainer with new options):
    # the partial run cannot be continued, so it starts again
    echo "run.sh: $dir: $(last_error); starting the run again" >&2
    find "$dir" -mindepth 1 -maxdepth 1 ! -name run.conf ! -name inputs.sha256 -exec rm -rf {} +
    rc=0
    train || rc=$?
fi
if [ "$rc" -ne 0 ]; then
    message=$(last_error)
    if grep -qE ' is (NaN|infinite) at epoch ' <<<"$message"; then
        status=diverged
    else
        echo "run.sh: $dir: rnnreg train failed (exit status $rc); the end of $dir/train.log:" >&2
        tail -5 "$dir/train.log" >&2
        exit 1
    fi
elif [ ! -s "$dir/metrics.json" ]; then
    echo "run.sh: $dir: rnnreg train exited 0 but wrote no metrics.json" >&2; exit 1
fi
wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
# the small stand-ins of the large files, for a carried run (a failure costs only the summary's redoing them)
"$PYTHON" "$here/carry_files.py" "$dir" "${strip[@]}" ||
    echo "run.sh: $dir: carry_files.py failed; the summary makes the small files again" >&2

# --- 4. the stamp, last -------------------------------------------------------------------------------
json_str() { sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' <<<"$1" | tr -d '\n'; }
# RNNREG_CPUINFO: another cpuinfo file (tests/test_pipeline.sh: a CPU without bf16 flags)
cpuinfo=${RNNREG_CPUINFO:-/proc/cpuinfo}
cpu=$(sed -nE 's/^model name[[:space:]]*: //p' "$cpuinfo" 2>/dev/null | head -1)
# what bit-identity across machines depends on besides the CPU model (summarize.py's setup.json
# "numerics"): the CPU's bf16 flags and `rnnreg info` (BLAS library and core, OpenMP threads).
# A CPU with neither flag is the common case: grep's "no match" must not end the run (pipefail).
flags=$(sed -nE '0,/^flags/s/^flags[[:space:]]*: //p' "$cpuinfo" 2>/dev/null | tr ' ' '\n' |
        { grep -xE 'avx512_bf16|amx_bf16' || true; } | sort | tr '\n' ' ' | sed 's/ $//')
info=$("$RNNREG" info 2>/dev/null || true)
printf '{"status": "%s", "message": "%s", "wall_seconds": %s, "resumed": %s, "host": "%s", "cpu": "%s", "cpu_flags": "%s", "rnnreg_info": "%s", "runner": "%s", "run_sets": "%s", "ended_at": %s}\n' \
    "$status" "$(json_str "$message")" "$wall" "$([ "$resume" = 1 ] && echo true || echo false)" \
    "$(json_str "$(hostname)")" "$(json_str "$cpu")" "$(json_str "$flags")" "$(sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' <<<"$info" | sed ':a;N;$!ba;s/\n/\\n/g')" \
    "$(json_str "$RUNNER")" "$(json_str "$RUN_SETS")" "$(date +%s.%N)" \
    > "$dir/done.json.tmp.$$"
mv "$dir/done.json.tmp.$$" "$dir/done.json"
progress end "$id" "$wall" "$status" "$([ "$resume" = 1 ] && echo true || echo false)"
exit 0
