#!/usr/bin/env bash
# test_slurm.sh — `make test-slurm`: the cluster path (RUNNER='srun ...') against a real one-node Slurm
# started here on localhost and stopped after (not part of `make test`). It installs Debian's slurm-wlm
# and munge when missing, starts munged with a generated key and slurmctld + slurmd with a minimal
# slurm.conf (NodeName=localhost, proctrack/linuxproc, task/none, no cgroups, every state file in a temp
# folder, SlurmUser=root, free ports), then trains the tiny pipeline twice in a scratch copy of the
# pipeline: locally and with RUNNER='srun -N1 -n1 ...', and checks that every training went through
# Slurm (sacct is off: srun's environment, SLURM_JOB_ID, is logged by each run) and that both give
# the same results (every run's metrics.json byte for byte; its log.jsonl and best checkpoint up to
# the epochs' timings and the data path in the embedded config, the tensors byte for byte; the
# summary's runs.csv without its timing columns). Prints ok/FAIL/skip lines and ends with
# "N passed, M failed"; exits non-zero on a failure. Needs root (the daemons) and build/rnnreg.
# Environment: RNNREG, PYTHON, BUILD (as tests/run.sh sets them).
set -u
cd "$(dirname "$0")/../.." || exit 1
T=test_slurm
. tests/lib.sh
unset MAKEFLAGS MFLAGS MAKELEVEL
passed=0
ok() { echo "ok $T: $*"; passed=$((passed + 1)); }
finish() { echo "$passed passed, $fails failed"; [ "$fails" -eq 0 ]; exit $?; }

# Slurm and munge: installed when missing. The one line to change to `bash tools/deps.sh slurm` once
# tools/deps.sh has that group.
install_slurm() { bash tools/deps.sh slurm; }
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    [ "$(id -u)" = 0 ] || { fail "slurm-wlm and munge are not installed and this is not root: apt-get install slurm-wlm munge"; finish; }
    echo "$T: installing slurm-wlm and munge (apt-get)"
    install_slurm >/dev/null || { fail "apt-get install slurm-wlm munge failed"; finish; }
fi
[ "$(id -u)" = 0 ] || { fail "the test starts slurmd, which runs jobs as their users: run it as root"; finish; }
[ -x "$RNNREG" ] || { fail "no executable $RNNREG (make)"; finish; }
RNNREG=$(realpath "$RNNREG")

S=$(mktemp -d /tmp/rnnreg-slurm.XXXXXX)
pids=()
cleanup() { # stop the daemons this test started (by pid), wait for them, remove the temp folder
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$S"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- munge --------------------------------------------------------------------------------------------
mkdir -p "$S/munge" "$S/state" "$S/spool"
chmod 700 "$S/munge"
head -c 1024 /dev/urandom >"$S/munge/munge.key"
chmod 400 "$S/munge/munge.key"
munged -F --force --key-file="$S/munge/munge.key" --socket="$S/munge/munge.sock" \
    --pid-file="$S/munge/munged.pid" --log-file="$S/munge/munged.log" --seed-file="$S/munge/munged.seed" \
    >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$S/munge/munge.sock" ] && break; sleep 0.1; done
if munge -S "$S/munge/munge.sock" -n | unmunge -S "$S/munge/munge.sock" >/dev/null 2>&1; then
    ok "munged runs with a generated key (a credential made and checked)"
else
    fail "munged did not start: $(tail -3 "$S/munge/munged.log" 2>/dev/null | tr '\n' ' ')"; finish
fi

# --- slurmctld + slurmd ---------------------------------------------------------------------------------
read -r port1 port2 < <("$PYTHON" -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
cpus=$(getconf _NPROCESSORS_ONLN)
cat >"$S/slurm.conf" <<EOF
# slurm.conf — a one-node cluster on localhost for tools/slurm/test_slurm.sh (everything under $S)
ClusterName=rnnregtest
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port1
SlurmdPort=$port2
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$S/munge/munge.sock
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/slurmctld.log
SlurmdLogFile=$S/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$S/slurm.conf
slurmctld -D -i -f "$SLURM_CONF" >"$S/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N localhost -f "$SLURM_CONF" >"$S/slurmd.out" 2>&1 &
pids+=($!)
state=
for _ in $(seq 150); do
    state=$(sinfo -h -o %t 2>/dev/null | head -n1)
    [ "$state" = idle ] && break
    sleep 0.2
done
if [ "$state" = idle ]; then
    ok "slurmctld and slurmd run on localhost; sinfo says the node is idle"
else
    fail "the one-node Slurm did not come up (sinfo: '${state}'): $(tail -2 "$S/slurmctld.log" "$S/slurmd.log" 2>/dev/null | tr '\n' ' ')"
    finish
fi
got=$(srun -N1 -n1 bash -c 'echo "$SLURM_JOB_ID $SLURM_NODELIST"' 2>&1)
check "srun -N1 -n1 runs a job step on the node ($got)" grep -qE '^[0-9]+ localhost$' <<<"$got"

# --- the tiny pipeline: locally, then through srun --------------------------------------------------------
W=$S/work
mkdir -p "$W/repo/tests/fixtures"
cp -r pipeline.mk experiments tools figures paper "$W/repo/"
cp tests/fixtures/digits_npm20.npy "$W/repo/tests/fixtures/"
cp -r tests/reference "$W/repo/tests/"
# the prefix each run gets: srun, and a line per training with the job id srun gave it
printf '#!/usr/bin/env bash\necho "$SLURM_JOB_ID $*" >> %s/srun.log\nexec "$@"\n' "$W" >"$W/in-job.sh"
chmod +x "$W/in-job.sh"
cd "$W/repo" || finish
M=(make --no-print-directory -f pipeline.mk SCALE=tiny RNNREG="$RNNREG" PYTHON="$PYTHON" -j"$cpus")
start=$(date +%s)
{ "${M[@]}" RESULTS_DIR="$W/local" runs && "${M[@]}" RESULTS_DIR="$W/local" summary; } >"$W/local.out" 2>&1; rc=$?
check "the tiny pipeline's runs and summary, locally, exit 0 ($(( $(date +%s) - start )) s)" [ "$rc" -eq 0 ]
start=$(date +%s)
Ms=("${M[@]}" RESULTS_DIR="$W/slurm" RUNNER="srun -N1 -n1 --quiet $W/in-job.sh")
{ "${Ms[@]}" runs && "${Ms[@]}" summary; } >"$W/slurm.out" 2>&1; rc=$?
check "the same through RUNNER='srun -N1 -n1 ...' exits 0 ($(( $(date +%s) - start )) s)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || tail -5 "$W/slurm.out"

n=$(find "$W/local/tiny" -name done.json -path '*/[0-9]*/done.json' | wc -l)
ns=$(find "$W/slurm/tiny" -name done.json -path '*/[0-9]*/done.json' | wc -l)
jobs=$(cut -d' ' -f1 "$W/srun.log" 2>/dev/null | grep -cE '^[0-9]+$')
ujobs=$(cut -d' ' -f1 "$W/srun.log" 2>/dev/null | grep -E '^[0-9]+$' | sort -u | wc -l)
check "every one of the $n runs trained inside a Slurm job of its own ($jobs trainings with a SLURM_JOB_ID, $ujobs distinct; $ns runs)" \
    eval '[ "$n" -gt 40 -a "$ns" -eq "$n" -a "$jobs" -eq "$n" -a "$ujobs" -eq "$n" ]'
check "every done.json of the Slurm runs names the runner" \
    eval '[ "$(grep -l "\"runner\": \"srun -N1 -n1" $(find "$W/slurm/tiny" -name done.json -path "*/[0-9]*/done.json") | wc -l)" -eq "$n" ]'
# metrics.json byte for byte; log.jsonl and the best checkpoint up to what differs by design: the
# epochs' timings (seconds, seq_per_s) and the data path in the checkpoint's embedded config (the two
# pipelines have their own results folders); the checkpoint's tensors byte for byte
cmp_runs="$W/cmp_runs.py"
cat >"$cmp_runs" <<'PY'
import json, os, re, struct, sys
a_root, b_root = sys.argv[1], sys.argv[2]
def st(path):
    d = open(path, "rb").read()
    n = struct.unpack("<Q", d[:8])[0]
    h = json.loads(d[8:8 + n])
    meta = h.pop("__metadata__", {})
    meta["config"] = re.sub(r"(?m)^data = .*$", "data = -", meta.get("config", ""))
    meta.pop("config_hash", None)      # a hash of that config, data path included
    return h, meta, d[8 + n:]
def log(path):
    return [{k: v for k, v in json.loads(l).items() if k not in ("seconds", "seq_per_s")} for l in open(path) if l.strip()]
same, differ = 0, []
for dirpath, _, files in sorted(os.walk(a_root)):
    if "done.json" not in files or not os.path.basename(dirpath).isdigit():
        continue
    r = os.path.relpath(dirpath, a_root)
    b = os.path.join(b_root, r)
    checks = {"metrics.json": lambda p: open(p, "rb").read(), "log.jsonl": log, "best.safetensors": st}
    for f, read in checks.items():
        if read(os.path.join(dirpath, f)) == read(os.path.join(b, f)):
            same += 1
        else:
            differ.append(r + "/" + f)
print(same, " ".join(differ))
PY
read -r same differ < <("$PYTHON" "$cmp_runs" "$W/local/tiny" "$W/slurm/tiny")
check "every run's metrics.json (bytes), log.jsonl (timings aside) and best.safetensors (tensor bytes; metadata with the data path aside) are identical local vs srun ($same files${differ:+; differ: $differ})" \
    eval '[ -z "$differ" -a "$same" -eq $((3 * n)) ]'
strip_cols() { "$PYTHON" -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
drop = [k for k in rows[0] if k.endswith("seconds") or k == "seq_per_s"]
w = csv.DictWriter(sys.stdout, [k for k in rows[0] if k not in drop], extrasaction="ignore", lineterminator="\n")
w.writeheader(); w.writerows(rows)' "$1"; }
check "the summary's runs.csv is identical local vs srun (its timing columns aside: *_seconds, seq_per_s)" \
    cmp -s <(strip_cols "$W/local/tiny/summary/runs.csv") <(strip_cols "$W/slurm/tiny/summary/runs.csv")
cd - >/dev/null || true

# --- stopped after: no daemon of this test is left ---------------------------------------------------
cleanup
left=$(for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && echo "$p"; done)
check "the daemons are stopped (munged, slurmctld, slurmd: none of pids ${pids[*]} left)" [ -z "$left" ]
pids=()
trap - EXIT
finish
