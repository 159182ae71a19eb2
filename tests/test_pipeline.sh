#!/usr/bin/env bash
# test_pipeline.sh — the experiment pipeline (pipeline.mk) end to end at SCALE=tiny, in a scratch copy
# of pipeline.mk, experiments/, tools/, figures/ and paper/ (nothing of the repository is touched), with
# the whole matrix of experiments/experiments.mk (optimizer study, base and regularizers of both
# models, sweeps, the centred-head run and its causal-head control):
#   reproduce (every planned run, one per core at once without -j, a -j given wins; RUNNER prefixing every training command, progress lines
#   "run k/n"), the paper and its artifact checks; the generated data against the summary, recomputed
#   here (the sweep figure against runs.csv, the settings table against the configs, the strips, the
#   compute statement); nothing to redo on a second `make runs`; a config
#   newer than its run reruns that run only; an interrupted run (no done.json, last checkpoint kept)
#   is resumed and ends identical, a run directory of other inputs is restarted; `make paper` from a
#   summary alone trains nothing; the checks fail on a digit in the results text, on an undefined
#   \rv key, on a number missing from the PDF and on a tolerance breach; the Student-t quantiles of
#   the tables against scipy; carried runs (a fresh clone of what `git add results/<scale>` commits
#   keeps every run, makes the same summary, retrains only what changed). Needs build/rnnreg (RNNREG); gnuplot, latexmk and pdftotext for the
#   paper parts (tools/deps.sh paper), which are skipped without them.
set -u
cd "$(dirname "$0")/.."
REPO=$(pwd)   # the committed results (the short and study scales' runs) are read from here
T=test_pipeline
. tests/lib.sh
unset MAKEFLAGS MFLAGS MAKELEVEL   # the inner makes below are independent of the make running the tests

if [ ! -x "$RNNREG" ]; then fail "no executable $RNNREG"; exit 1; fi
mkdir -p "$BUILD/tests"
W=$(mktemp -d "$BUILD/tests/pipeline.XXXXXX")
W=$(realpath "$W")
trap 'rm -rf "$W"' EXIT
HAVE_PAPER=1
for tool in gnuplot latexmk pdflatex pdftotext; do
    command -v $tool >/dev/null 2>&1 || { HAVE_PAPER=0; skip "paper, figures and PDF checks: $tool is not installed (tools/deps.sh paper)"; break; }
done
# RUNNER: a prefix that logs every training command it is given, then runs it
printf '#!/usr/bin/env bash\necho "$*" >> %s/runner.log\nexec "$@"\n' "$W" > "$W/runner.sh"
chmod +x "$W/runner.sh"
RNNREG=$(realpath "$RNNREG")
mkdir -p "$W/repo/tests/fixtures"
cp -r pipeline.mk experiments tools figures paper .gitignore "$W/repo/"
cp tests/fixtures/digits_npm20.npy "$W/repo/tests/fixtures/"
cd "$W/repo"
M=(make --no-print-directory -f pipeline.mk SCALE=tiny RNNREG="$RNNREG" PYTHON="$PYTHON"
   RESULTS_DIR="$W/results" PAPER_DIR="$W/paper" RUNNER="$W/runner.sh")
R=$W/results/tiny P=$W/paper/tiny
stamps() { find "$R" -name done.json -printf '%P %T@\n' | sort; }
# a make variable of the pipeline (the lists of experiments.mk, expanded)
mkvar() { "${M[@]}" --eval 'print-var-%: ; @echo $($*)' "print-var-$1"; }

# ---------------------------------------------------------------------------------------------
# 0. two makes on one tree train the same runs at once (results of their own, RESULTS_DIR=$W/lock):
#    each run is locked, so both makes succeed and every run is trained exactly once, with the
#    results of an undisturbed run (section 1 trains the same runs)
printf '#!/usr/bin/env bash\necho "$*" >> %s/runner-lock.log\nsleep 1\nexec "$@"\n' "$W" > "$W/runner-lock.sh"
chmod +x "$W/runner-lock.sh"
Ml=("${M[@]}" RESULTS_DIR="$W/lock" RUNNER="$W/runner-lock.sh")
"${Ml[@]}" "$W/lock/tiny/data/mmnist40.npy" >/dev/null 2>&1     # the data once, before the race
lock_runs=(convlstm/opt-adam/1 convlstm/opt-adamw/1 convlstm/opt-rmsprop/1 convlstm/opt-sgd/1)
lock_goals=("${lock_runs[@]/#/$W/lock/tiny/}"); lock_goals=("${lock_goals[@]/%//done.json}")
"${Ml[@]}" -j2 "${lock_goals[@]}" >"$W/lock1.out" 2>&1 & p1=$!
"${Ml[@]}" -j2 "${lock_goals[@]}" >"$W/lock2.out" 2>&1 & p2=$!
wait $p1; rc1=$?; wait $p2; rc2=$?
n_trained=$(grep -c ' train --config ' "$W/runner-lock.log" 2>/dev/null)
n_dirs=$(sed -nE 's/.* --out ([^ ]+).*/\1/p' "$W/runner-lock.log" | sort -u | wc -l)
check "two makes of the same ${#lock_runs[@]} runs at once both succeed (exit $rc1, $rc2)" [ "$rc1" -eq 0 -a "$rc2" -eq 0 ]
check "... every run was trained exactly once ($n_trained training commands, $n_dirs run directories)" \
    [ "$n_trained" -eq ${#lock_runs[@]} -a "$n_dirs" -eq ${#lock_runs[@]} ]
check "... a make that found a run locked said so in one line and waited" \
    grep -q 'another process is training this run (it holds .*\.lock); waiting for it' "$W/lock1.out" "$W/lock2.out"
# RUN_LOCK=stop: a run held by another process stops at once instead of waiting
held=$W/lock/tiny/convlstm/opt-adam
rm -f "$W/held.ready"
( flock 8 && touch "$W/held.ready" && exec sleep 30 ) 8>>"$held/.1.lock" & holder=$!
for _ in $(seq 100); do [ -e "$W/held.ready" ] && break; sleep 0.05; done
RUN_LOCK=stop RNNREG="$RNNREG" bash tools/pipeline/run.sh --id convlstm/opt-adam/1 --dir "$held/1" --seed 1 \
    --data "$W/lock/tiny/data/mmnist40.npy" --include experiments/convlstm/model.conf >"$W/stop.out" 2>&1; rc=$?
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
check "RUN_LOCK=stop: a run another process holds stops at once in one line (exit $rc), its finished directory untouched" \
    eval '[ "$rc" -eq 1 -a "$(wc -l <"$W/stop.out")" -eq 1 -a -f "$held/1/done.json" ] &&
          grep -q "another process is training this run (it holds .*); stopping (RUN_LOCK=stop)" "$W/stop.out"'

# the stamp records the CPU's bf16 flags: a CPU with neither (most) still finishes its run (a grep
# that found nothing once ended run.sh under pipefail), one with both lists them sorted
printf 'model name\t: Test CPU A\nflags\t\t: fpu sse2 avx2 avx512f\n' > "$W/cpuinfo-plain"
printf 'model name\t: Test CPU B\nflags\t\t: fpu amx_bf16 avx2 avx512_bf16\n' > "$W/cpuinfo-bf16"
for c in plain:predrnn_pp/opt-adam bf16:predrnn_pp/opt-adamw; do
    RNNREG_CPUINFO="$W/cpuinfo-${c%%:*}" "${Ml[@]}" "$W/lock/tiny/${c#*:}/1/done.json" >"$W/cpuinfo.out" 2>&1; rc=$?
    got=$("$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["cpu"] + "|" + d["cpu_flags"])' \
          "$W/lock/tiny/${c#*:}/1/done.json" 2>/dev/null)
    if [ "${c%%:*}" = plain ]; then want="Test CPU A|"; else want="Test CPU B|amx_bf16 avx512_bf16"; fi
    check "a run on a CPU with cpuinfo flags '$(sed -n 's/^flags\t*: //p' "$W/cpuinfo-${c%%:*}")' finishes (exit $rc) and its done.json says cpu|flags '$got'" \
        [ "$rc" -eq 0 -a "$got" = "$want" ]
done

# ---------------------------------------------------------------------------------------------
# 1. the whole tiny pipeline
start=$(date +%s)
if [ "$HAVE_PAPER" = 1 ]; then goal=reproduce-pipeline; else goal=runs; fi
# no -j: reproduce-pipeline itself runs cores / threads-per-run trainings at once (tiny: 1 thread a run)
cores=$(getconf _NPROCESSORS_ONLN)
"${M[@]}" $goal >"$W/repro.out" 2>&1; rc=$?
check "make $goal SCALE=tiny (no -j) exits 0 in $(( $(date +%s) - start )) s" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || { tail -20 "$W/repro.out"; exit 1; }
check "without -j, one run per core trains at once: the plan line says '($cores at a time)' ($(grep -m1 ' to run ' "$W/repro.out" | sed 's/^\[[^]]*\] //'))" \
    grep -q " to run ($cores at a time)\$" "$W/repro.out"
n_runs=$(find "$R" -name done.json -path '*/[0-9]*/done.json' | wc -l)
# the planned runs, counted from the lists: models x optimizers x study seeds; seeded experiments x
# seeds; sweep points that are not seeded experiments x sweep seeds; run-once experiments
read -r n_plan n_count < <(
    models=$(mkvar MODELS) opts=$(mkvar OPTIMIZERS) optseeds=$(mkvar OPT_SEEDS) seeds=$(mkvar SEEDS)
    seeded=$(mkvar SEEDED_EXPS) sweepseeds=$(mkvar SWEEP_SEEDS) once=$(mkvar ONCE_EXPERIMENTS)
    points=""; for w in $(mkvar SWEEPS); do points+=" $(mkvar "SWEEP_POINTS.$w")"; done
    n_sweep=0; for m in $models; do for p in $points; do
        case " $seeded " in *" $m/$p "*) ;; *) n_sweep=$((n_sweep + 1)) ;; esac; done; done
    w() { echo $#; }
    echo "$(w $(mkvar ALL_RUNS))" \
         "$(( $(w $models) * $(w $opts) * $(w $optseeds) + $(w $seeded) * $(w $seeds) + n_sweep * $(w $sweepseeds) + $(w $once) ))")
check "every planned run finished: $n_runs done.json = $n_plan in ALL_RUNS = $n_count counted from the lists" \
    [ "$n_runs" -eq "$n_plan" -a "$n_plan" -eq "$n_count" -a "$n_runs" -gt 40 ]
# CONTROL_SEEDS (pipeline.mk): the study's controls and the base runs they are paired with get the extra
# seeds, every other experiment SEEDS only; without extra seeds the plan is SEEDS for all
study_runs() { make --no-print-directory -f pipeline.mk SCALE=study RNNREG="$RNNREG" PYTHON="$PYTHON" "$@" \
    --eval 'print-var-%: ; @echo $($*)' print-var-ALL_RUNS | tr ' ' '\n' | sort; }
check "CONTROL_SEEDS: the study plans seeds 1-5 for <model>/base and <model>/fresh and 1-3 for every regularizer (48 runs); CONTROL_SEEDS='1 2 3' gives the 40 of SEEDS; CONTROL_SEEDS='2 7' adds seed 7 alone" \
    "$PYTHON" - "$(study_runs)" "$(study_runs CONTROL_SEEDS='1 2 3')" "$(study_runs CONTROL_SEEDS='2 7')" <<'EOF'
import sys
def seeds(txt):
    out = {}
    for r in txt.split():
        m, e, s = r.split("/")
        out.setdefault(m + "/" + e, set()).add(int(s))
    return out
five, three, seven = (seeds(t) for t in sys.argv[1:4])
assert sum(len(v) for v in five.values()) == 48, sum(len(v) for v in five.values())
assert sum(len(v) for v in three.values()) == 40, sum(len(v) for v in three.values())
for e, v in five.items():
    name = e.split("/")[1]
    if name in ("base", "fresh"):
        assert v == {1, 2, 3, 4, 5}, (e, v)
        assert three[e] == {1, 2, 3} and seven[e] == {1, 2, 3, 7}, (e, three[e], seven[e])
    else:
        assert v == three[e] == seven[e], (e, v, three[e], seven[e])
        assert v in ({1, 2, 3}, {1}), (e, v)
EOF
# the short scale (the default): the study scale's matrix on two predicted frames — the same runs planned,
# every run's config the study's but for seq_len (the trainer's resolved configs of the committed runs)
short_runs() { make --no-print-directory -f pipeline.mk SCALE=short RNNREG="$RNNREG" PYTHON="$PYTHON" "$@" \
    --eval 'print-var-%: ; @echo $($*)' print-var-ALL_RUNS | tr ' ' '\n' | sort; }
check "the short scale plans the study's 48 runs, and each committed short run's resolved config (the trainer's) is the study run's of the same id but for seq_len, 12 for 20" \
    bash -c '[ "$1" = "$2" ] && [ "$(printf "%s\n" "$1" | wc -l)" -eq 48 ] || exit 1
        for r in $1; do
            d=$(diff "$3/results/study/$r/config" "$3/results/short/$r/config" | grep "^[<>]")
            [ "$d" = "$(printf "< seq_len = 20\n> seq_len = 12")" ] || { echo "$r: $d"; exit 1; }
        done' _ "$(short_runs)" "$(study_runs)" "$REPO"
check "every training command went through RUNNER ($(wc -l <"$W/runner.log" 2>/dev/null) of $n_plan)" \
    [ "$(grep -c ' train --config ' "$W/runner.log" 2>/dev/null)" -eq "$n_plan" ]
same=0; for r in "${lock_runs[@]}"; do cmp -s "$W/lock/tiny/$r/metrics.json" "$R/$r/metrics.json" && same=$((same + 1)); done
check "the runs of the two racing makes (section 0) equal the same runs here, metrics.json byte for byte ($same of ${#lock_runs[@]})" \
    [ "$same" -eq ${#lock_runs[@]} ]
check "progress lines count the runs: 'run $n_plan/$n_plan started' and a closing line" \
    grep -q "run $n_plan/$n_plan started" "$W/repro.out"
check "the closing progress line says $n_plan of $n_plan" grep -q "runs finished: $n_plan of $n_plan" "$W/repro.out"
check "an experiment's own scale file applies (the centred-head run and its causal-head control train 3 epochs, the others 2)" \
    [ "$(wc -l < "$R/convlstm/leak/1/log.jsonl")" -eq 3 -a "$(wc -l < "$R/convlstm/leak_causal/1/log.jsonl")" -eq 3 \
      -a "$(wc -l < "$R/convlstm/base/1/log.jsonl")" -eq 2 ]
# the control of the leak: its resolved config (the trainer's DIR/config of run.conf) is the leak run's
# but for the head, and at every scale its own scale file sets what the leak's does
check "the causal-head control's resolved config differs from the centred-head run's in head alone (conv2d, conv3d_centered)" \
    "$PYTHON" - "$R/convlstm/leak/1/config" "$R/convlstm/leak_causal/1/config" <<'EOF'
import sys
def conf(path):
    out = {}
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out
a, b = conf(sys.argv[1]), conf(sys.argv[2])
assert len(a) > 30 and a.get("sampling") == "teacher" and a.get("test_weights") == "last", a
diff = {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}
assert diff == {"head": ("conv3d_centered", "conv2d")}, diff
EOF
# a config file's key lines, its includes expanded where they stand (paths relative to the file)
conf_lines() {
    local d l; d=$(dirname "$1")
    sed 's/#.*//; /^[[:space:]]*$/d' "$1" | while IFS= read -r l; do
        case "$l" in include*=*) conf_lines "$d/$(echo "${l#*=}" | tr -d ' ')" ;; *) echo "$l" ;; esac
    done
}
for scale_dir in experiments/scales/*/; do
    [ -f "$scale_dir/convlstm/leak.conf" ] || [ -f "$scale_dir/convlstm/leak_causal.conf" ] || continue
    check "$scale_dir: the causal-head control's scale file sets what the centred head's does (includes expanded)" \
        cmp -s <(conf_lines "$scale_dir/convlstm/leak.conf" 2>/dev/null) <(conf_lines "$scale_dir/convlstm/leak_causal.conf" 2>/dev/null)
done
n_reg=$(w() { echo $#; }; w $(mkvar REGULARIZERS))
check "every regularizer ($n_reg) has a row with an interval and a Holm-adjusted p in the paired-difference table, and each base model one against all-zero frames" \
    [ "$(grep -E '& 2 & .*\[.*& (\$<\$0\.001|[01]\.[0-9]{3}) \\\\$' "$P/tab-paired.tex" | grep -vc ' & base & ')" -eq "$n_reg" \
      -a "$(grep -cE '^(ConvLSTM|PredRNN\+\+) & base & 2 & .*\[' "$P/tab-paired.tex")" -eq 2 ]
for m in convlstm predrnn_pp; do
    check "$m: the optimizer chosen by the script is the lowest mean best validation loss" "$PYTHON" - "$R" "$m" <<'EOF'
import json, sys
r, m = sys.argv[1], sys.argv[2]
best = {}
for o in ["adam", "adamw", "rmsprop", "sgd"]:
    rows = [json.loads(l) for l in open("%s/%s/opt-%s/1/log.jsonl" % (r, m, o))]
    best[o] = min(x["val_loss"] for x in rows)
want = min(best, key=lambda o: (best[o], list(best).index(o)))
got = json.load(open("%s/%s/optimizer.json" % (r, m)))["chosen"]
conf = open("%s/%s/optimizer.conf" % (r, m)).read()
base = open("%s/%s/base/1/config" % (r, m)).read()
opt = open("%s/%s/opt-%s/1/config" % (r, m, want)).read()
sys.exit(not (got == want and ("experiments/optimizers/%s.conf" % want) in conf and base == opt))
EOF
done
check "the report's protocol (rnnreg eval/predict --teacher-forced) was computed for the leak, its causal-head control and the base ConvLSTM; for the causal heads the first future frame equals the run's own prediction, and its test MSE of that frame the run's metrics.json" \
    "$PYTHON" -c '
import json, sys
r = sys.argv[1]
leak = json.load(open(r + "/protocol/convlstm/leak/1.json"))
assert leak["status"] == "ok" and leak["head"] == "conv3d_centered" and leak["sequences"] == 8, leak
for exp in ("leak_causal", "base"):
    p = json.load(open(r + "/protocol/convlstm/%s/1.json" % exp))
    assert p["status"] == "ok" and p["head"] == "conv2d", (exp, p)
    assert p["first_frame_max_diff_vs_rnnreg"] <= 1e-5, (exp, p["first_frame_max_diff_vs_rnnreg"])
    assert p["metrics"]["sequences"] == leak["metrics"]["sequences"] == 8, exp
    own = json.load(open(r + "/convlstm/%s/1/metrics.json" % exp))     # autoregressive, the same weights
    a, b = p["metrics"]["mse"][0], own["mse"][0]
    assert abs(a - b) <= 1e-5 * max(1.0, abs(b)), (exp, a, b)' "$R"
check "the baselines match numpy (zero and copy-last MSE per frame)" "$PYTHON" - "$R" "$RNNREG" <<'EOF'
import json, subprocess, sys, tempfile
import numpy as np
r, rnnreg = sys.argv[1], sys.argv[2]
# the tiny split is random: the test sequences are those of a run's truth.npy
truth = np.load(r + "/convlstm/opt-adam/1/truth.npy").astype(np.float64) / 255.0   # (20, n, 64, 64)
n = truth.shape[1]
fut, last = truth[10:], truth[9]
zero = json.load(open(r + "/baselines/zero.json"))
copy = json.load(open(r + "/baselines/copy_last.json"))
assert zero["sequences"] == 8, zero["sequences"]
# truth.npy holds the whole test split (tiny: predict_sequences = n_test = 8): the baselines' files
# must equal numpy's MSE of zero and copy-last predictions, and `rnnreg metrics` of numpy-made arrays too
with tempfile.TemporaryDirectory() as d:
    np.save(d + "/f.npy", (fut * 255).round().astype(np.uint8))
    np.save(d + "/c.npy", np.repeat((last * 255).round().astype(np.uint8)[None], 10, axis=0))
    m = json.loads(subprocess.run([rnnreg, "metrics", "--truth", d + "/f.npy", "--pred", d + "/c.npy"],
                                  check=True, capture_output=True, text=True).stdout)
want = ((fut - last[None]) ** 2).sum(axis=(2, 3)).mean(axis=1)
assert np.allclose(m["mse"], want, rtol=1e-6), (m["mse"], want)
wz = (fut ** 2).sum(axis=(2, 3)).mean(axis=1)
assert n == 8, n
assert np.allclose(zero["mse"], wz, rtol=1e-6) and np.allclose(copy["mse"], want, rtol=1e-6)
EOF

if [ "$HAVE_PAPER" = 1 ]; then
    check "the paper exists: $P/paper.pdf" [ -s "$P/paper.pdf" ]
    check "no figure's temporary folder is left in $P (each .fig-X.* goes once gnuplot is done)" \
        [ -z "$(find "$P" -maxdepth 1 -name '.fig-*' -print -quit)" ]
    "${M[@]}" check-artifacts >"$W/check.out" 2>&1; rc=$?
    grep -E '^(ok|FAIL|skip) ' "$W/check.out"
    check "make check-artifacts SCALE=tiny passes" [ "$rc" -eq 0 ]
    check "... among its checks: the paper built a second time at another path is byte-identical" \
        grep -q '^ok .*built again from the same summary at another path is byte-identical' "$W/check.out"
    pages=$(pdfinfo "$P/paper.pdf" 2>/dev/null | awk '/^Pages:/ {print $2}')
    check "the PDF has pages ($pages) and its text names the scale" grep -q 'Scale tiny' <(pdftotext "$P/paper.pdf" - 2>/dev/null)
else
    "${M[@]}" summary tables >"$W/sum.out" 2>&1
    check "make summary tables SCALE=tiny works without the paper tools" [ -s "$P/values.tex" ]
fi

# ---------------------------------------------------------------------------------------------
# 1c. a kill -9 in the middle of writing a figure leaves nothing half-written under a final name; a
#     damaged generated file (left by an older version) fails check-artifacts and is made again by
#     the next reproduce-pipeline
if [ "$HAVE_PAPER" = 1 ]; then
    # a gnuplot that writes its outputs, cuts them to half (the moment of the kill) and kills the whole
    # make with SIGKILL (make runs in its own session: nothing of make's clean-up can run)
    printf '#!/usr/bin/env bash\ngnuplot "$@" || exit 1\nfor f in fig-*.tex fig-*.pdf; do truncate -s $(( $(stat -c %%s "$f") / 2 )) "$f"; done\nkill -9 0\n' > "$W/gp-killed.sh"
    chmod +x "$W/gp-killed.sh"
    touch figures/final.gp
    { setsid "${M[@]}" GNUPLOT="$W/gp-killed.sh" figures >"$W/kill.out" 2>&1 & wait $!; } 2>/dev/null   # no "Killed" notice
    "$PYTHON" tools/pipeline/checks.py files "$P" >"$W/files-kill.out" 2>&1
    check "a make killed (-9) while gnuplot writes fig-final leaves no damaged file under a final name" \
        grep -q '^ok .*generated files whole' "$W/files-kill.out"
    : > "$P/fig-frames.tex"                         # an empty figure, newer than all it depends on
    "$PYTHON" tools/pipeline/checks.py files "$P" >"$W/files-empty.out" 2>&1
    check "the files check of check-artifacts rejects an empty fig-frames.tex" \
        grep -q "fig-frames.tex: empty" "$W/files-empty.out"
    "${M[@]}" reproduce-pipeline >"$W/remake.out" 2>&1; rc=$?
    "$PYTHON" tools/pipeline/checks.py files "$P" >"$W/files-after.out" 2>&1
    check "the next reproduce-pipeline makes both figures again (exit $rc): every generated file whole" \
        eval '[ "$rc" -eq 0 ] && grep -q "^ok .*generated files whole" "$W/files-after.out" &&
              [ "$P/fig-final.tex" -nt figures/final.gp ] && grep -q "fig-frames.tex: empty; removed" "$W/remake.out"'
    check "... and the paper built from them has the frames figure (its text in the PDF's source log)" \
        grep -q '<fig-frames.pdf' "$P/paper.log"
fi

# ---------------------------------------------------------------------------------------------
# 1d. a date injected into the paper (a gnuplot that writes the time into every figure's text, as a
#     "drawn at" stamp would): check-artifacts' second build differs, and it says where
if [ "$HAVE_PAPER" = 1 ]; then
    cat > "$W/gp-dated.sh" <<'GP'
#!/usr/bin/env bash
gnuplot "$@" || exit 1
stamp=$(date +%s.%N)
for f in fig-*.tex; do sed -i "s|\\\\end{picture}|\\\\put(0,0){\\\\tiny drawn $stamp}\\n\\\\end{picture}|" "$f"; done
GP
    chmod +x "$W/gp-dated.sh"
    touch figures/final.gp
    "${M[@]}" GNUPLOT="$W/gp-dated.sh" check-artifacts >"$W/dated.out" 2>&1; rc=$?
    check "a figure stamped with its drawing time: make check-artifacts FAILs (exit $rc) on the paper built twice, showing the first differing bytes" \
        eval '[ "$rc" -ne 0 ] && grep -q "drawn [0-9]" "$P/fig-final.tex" &&
              grep -q "^FAIL .*built again from the same summary at another path differs" "$W/dated.out" &&
              grep -q "first difference at byte [0-9]*" "$W/dated.out"'
    touch figures/final.gp
    "${M[@]}" paper >/dev/null 2>&1
    check "... and without the stamp the paper is made again without it" eval '! grep -q "drawn [0-9]" "$P/fig-final.tex"'
fi

# ---------------------------------------------------------------------------------------------
# 1b. the generated figure data and tables against the summary, recomputed here independently
#     (Python's statistics module, not tools/pipeline/pipelib.py)
# tables.py OUTPUT (pipeline.mk's rule of one output) makes that output only, equal to the one made
# with all the others at once
one=$W/tables-one
"$PYTHON" tools/pipeline/tables.py --summary "$R/summary" --out "$one" tab-paired.tex >/dev/null
check "tables.py tab-paired.tex makes tab-paired.tex alone, identical to the pipeline's ($(ls "$one" | tr '\n' ' '))" \
    eval '[ "$(ls "$one")" = tab-paired.tex ] && cmp -s "$one/tab-paired.tex" "$P/tab-paired.tex"'
"$PYTHON" tools/pipeline/tables.py --summary "$R/summary" --out "$W/tables-all" >/dev/null
for f in "$W/tables-all"/*; do "$PYTHON" tools/pipeline/tables.py --summary "$R/summary" --out "$one" "$(basename "$f")" >/dev/null 2>&1; done
n_same=0; n_all=0
for f in "$W/tables-all"/*; do n_all=$((n_all + 1)); cmp -s "$f" "$one/$(basename "$f")" && n_same=$((n_same + 1)); done
check "every output made alone (tables.py NAME) equals the same output made with all at once ($n_same of $n_all files)" \
    [ "$n_same" -eq "$n_all" -a "$n_all" -ge 16 ]
"$PYTHON" tools/pipeline/tables.py --summary "$R/summary" --out "$one" tab-nosuch.tex >"$W/nosuch.out" 2>&1; rc=$?
check "tables.py rejects an unknown output in one line (exit $rc)" \
    eval '[ "$rc" -ne 0 -a "$(wc -l <"$W/nosuch.out")" -eq 1 ] && grep -q "tab-nosuch.tex: no such output" "$W/nosuch.out"'
if [ -s "$P/sweep.dat" ]; then
    check "the sweep figure's data (sweep.dat) = runs.csv: per model and sweep, every point's value, mean, sd and runs, and the mean over the seeds all points share" \
        "$PYTHON" - "$R/summary" "$P/sweep.dat" <<'EOF'
import csv, json, math, re, statistics, sys
S, dat = sys.argv[1], sys.argv[2]
runs = [r for r in csv.DictReader(open(S + "/runs.csv")) if r["status"] == "ok"]
ex = json.load(open(S + "/experiments.json"))
exps, sweeps = ex["experiments"], ex["sweeps"]
models = sorted({e["model"] for e in exps.values()})
assert sweeps and set(sweeps) == {"dropout", "l2"}, sweeps
blocks = [b for b in open(dat).read().split("\n\n\n") if b.strip()]
assert len(blocks) == len(models) * len(sweeps), (len(blocks), models, sweeps)
seen = set()
def close(a, b):
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-9 * max(1.0, abs(b))
for b in blocks:
    lines = b.strip().split("\n")
    m, w = re.match(r"# (\S+) (\S+) ", lines[0]).groups()
    seen.add((m, w))
    rows = [[float(x) for x in ln.split()] for ln in lines[1:]]
    want, seeds = [], []
    for p in sweeps[w]["points"]:
        mine = [r for r in runs if r["model"] == m and r["experiment"] == p]
        vals = [float(r["test_mse"]) for r in mine]
        x = float(exps[m + "/" + p]["config"][sweeps[w]["key"]])
        want.append([x, statistics.mean(vals), statistics.stdev(vals) if len(vals) > 1 else float("nan"), len(vals)])
        seeds.append({r["seed"]: float(r["test_mse"]) for r in mine})
    common = set.intersection(*[set(d) for d in seeds])
    assert common, (m, w, "no seed shared by every point")
    for k in range(len(want)):
        want[k].append(statistics.mean(seeds[k][s] for s in common))
    want.sort(key=lambda r: r[0])
    assert len(rows) == len(want) == 4, (m, w, rows)
    for got, exp in zip(rows, want):
        assert all(close(g, e) for g, e in zip(got, exp)), (m, w, got, exp)
    assert sum(1 for r in want if r[3] > 1) == 1, (m, w, "exactly one point (the matrix's) has several seeds")
assert seen == {(m, w) for m in models for w in sweeps}, seen
EOF
fi
if [ -s "$P/tab-methods.tex" ]; then
    check "the settings table holds every key = value in which a regularizer's resolved config differs from its base" \
        "$PYTHON" - "$R/summary" "$P/tab-methods.tex" <<'EOF'
import json, re, sys
S, tab = sys.argv[1], open(sys.argv[2]).read()
exps = json.load(open(S + "/experiments.json"))["experiments"]
pairs = set()
for k, v in re.findall(r"\\texttt\{([^}]*)\}\\,=\\,(\\texttt\{[^}]*\}|[^,&\\ ]+)", tab):
    pairs.add((k.replace("\\_", "_"), v.replace("\\texttt{", "").replace("}", "").replace("\\_", "_")))
def same(a, b):
    try:
        return float(a) == float(b)
    except ValueError:
        return a == b
n = 0
for eid, e in exps.items():
    if e["stage"] != "main" or e["name"] == "base":
        continue
    assert e["delta_from_base"], (eid, "no difference from the base")
    for k, v in e["delta_from_base"].items():
        assert any(pk == k and same(pv, v) for pk, pv in pairs), (eid, k, v, sorted(pairs))
        n += 1
assert n >= 18, n
EOF
fi
if [ -s "$R/summary/strip.json" ]; then
    check "one strip per model: its rows are the input frames, the true future, copy-last, the base, every regularizer and run-once experiment of that model (first seed), pixel for pixel (a dim row k times brighter, k recomputed)" \
        "$PYTHON" - "$R" <<'EOF'
import json, sys
import numpy as np
R = sys.argv[1]
S = R + "/summary"
exps = json.load(open(S + "/experiments.json"))["experiments"]
strips = json.load(open(S + "/strip.json"))["strips"]
assert sorted(s["model"] for s in strips) == sorted({e["model"] for e in exps.values()}), strips
truth = np.load(R + "/baselines/truth_strip.npy")[:, 0].astype(float)         # (20, 64, 64)
def png(path):   # 8-bit grey written by libpng (rnnreg strip): decoded by an independent reader
    from PIL import Image
    img = Image.open(path)
    assert img.mode == "L", img.mode
    return np.asarray(img, dtype=float)
for s in strips:
    m = s["model"]
    ids = [r["row"] for r in s["rows"]]
    mine = [e for e, x in exps.items() if x["model"] == m and x["stage"] in ("main", "once")]
    assert ids[:4] == ["inputs", "truth", "copy_last", m + "/base"] and sorted(ids[3:]) == sorted(mine), (m, ids)
    img = png(S + "/" + s["file"])
    assert img.shape == (2 + 66 * len(ids), 2 + 66 * 10), img.shape      # 64-px frames, 2-px separators
    for i, row in enumerate(ids):
        frames = {"inputs": truth[:10], "truth": truth[10:], "copy_last": np.repeat(truth[9:10], 10, axis=0)}.get(row)
        if frames is None:
            # a dim row is drawn k times brighter: k = 1 / its 99.9th percentile, rounded down to a tenth, at
            # most 4, none below 1.2 (strip.json says k)
            pred = np.load("%s/%s/1/predictions.npy" % (R, row))[:, 0].astype(np.float64)
            hi = np.percentile(pred, 99.9)
            k = min(4.0, np.floor(10.0 / hi) / 10.0) if hi > 0 else 1.0
            k = k if k >= 1.2 else 1.0
            assert abs(s["rows"][i].get("stretch", 1.0) - k) < 1e-12, (m, row, s["rows"][i], k)
            frames = np.clip(pred * k, 0, 1) * 255
        for t in range(10):
            cell = img[2 + 66 * i:2 + 66 * i + 64, 2 + 66 * t:2 + 66 * t + 64]
            assert np.abs(cell - frames[t]).max() <= 1.0, (m, row, t)
EOF
fi
check "the compute statement: the elapsed time covers the longest run and, with $cores runs at once, at least 1/$cores of the sum of the run times" \
    "$PYTHON" - "$R" "$cores" <<'EOF'
import glob, json, sys
s = json.load(open(sys.argv[1] + "/summary/setup.json"))
jobs = int(sys.argv[2])
walls = [json.load(open(f))["wall_seconds"] for f in glob.glob(sys.argv[1] + "/*/*/*/done.json")]
assert abs(sum(walls) - s["wall_seconds_total"]) < 1e-6 * max(1, sum(walls)), (sum(walls), s["wall_seconds_total"])
assert max(walls) <= s["elapsed_seconds"] and sum(walls) <= jobs * s["elapsed_seconds"] * 1.02 + 1, (max(walls), sum(walls), s["elapsed_seconds"])
# the busy time: the union of the runs' intervals, from a minute grid (independent of summarize's sweep)
spans = []
for f in glob.glob(sys.argv[1] + "/*/*/*/done.json"):
    d = json.load(open(f))
    spans.append((float(d["ended_at"]) - d["wall_seconds"], float(d["ended_at"])))
t0 = min(b for b, _ in spans)
grid = set()
for b, e in spans:
    grid.update(range(int((b - t0) * 10), int((e - t0) * 10)))     # tenths of a second
assert abs(len(grid) / 10 - s["busy_seconds"]) <= 0.1 * len(spans) + 0.2, (len(grid) / 10, s["busy_seconds"])
assert max(walls) <= s["busy_seconds"] * 1.0001 <= s["elapsed_seconds"] * 1.0001 + 1e-6, (s["busy_seconds"], s["elapsed_seconds"])
EOF
if [ "$HAVE_PAPER" = 1 ]; then
    check "the compute statement is in the paper's text" grep -q "runs were in progress at a time" <(pdftotext "$P/paper.pdf" - 2>/dev/null | tr '\n' ' ')
    check "the abstract states the all-zero baseline's MSE and each base model as a multiple of it, and says it checks the pipeline exactly when no base model reaches 0.75 times all-zero with every frame below it (the MSE part of the criterion), naming a model that meets that part but not SSIM's (recomputed from runs.csv, frames.csv)" \
        "$PYTHON" - "$R/summary" <(pdftotext "$P/paper.pdf" - 2>/dev/null) <<'EOF'
import csv, re, statistics, sys
S, text = sys.argv[1], open(sys.argv[2]).read().replace("\u2212", "-")
def norm(x):   # line breaks and TeX's hyphenation (and so every hyphen) do not count
    return re.sub(r"[\s-]", "", x)
abstract = norm(text[text.index("Abstract"):text.index("Motivation")])
runs = [r for r in csv.DictReader(open(S + "/runs.csv")) if r["status"] == "ok"]
frames = list(csv.DictReader(open(S + "/frames.csv")))
def mean(model, exp, col):
    return statistics.mean(float(r[col]) for r in runs if r["model"] == model and r["experiment"] == exp)
zero, zs = mean("baseline", "zero", "test_mse"), mean("baseline", "zero", "test_ssim")
assert norm("all-zero (black) frames gives a test MSE per frame of %.1f" % zero) in abstract, abstract
learnt = []
for m, label in (("convlstm", "ConvLSTM"), ("predrnn_pp", "PredRNN++")):
    mu = mean(m, "base", "test_mse")
    assert norm("%s %.1f (%.2f times all-zero)" % (label, mu, mu / zero)) in abstract, (label, abstract)
    seeds = {r["seed"] for r in runs if r["model"] == m and r["experiment"] == "base"}
    def per(mm, e, t, sd):
        return statistics.mean(float(r["mse"]) for r in frames if r["model"] == mm and r["experiment"] == e
                               and int(r["frame"]) == t and (sd is None or r["seed"] in sd))
    every = all(per(m, "base", t, seeds) < per("baseline", "zero", t, None) for t in range(1, 11))
    mse_part, ssim_part = mu <= 0.75 * zero and every, mean(m, "base", "test_ssim") > zs
    learnt.append(mse_part)
    # a model that meets the MSE part but not the SSIM part is named as such
    assert (norm("%s (%.2f times all-zero, below it at every frame)" % (label, mu / zero)) in abstract) == \
        (mse_part and not ssim_part), (label, mse_part, ssim_part, abstract)
says = norm("checks the pipeline, not the methods") in abstract
assert says == (not any(learnt)), (learnt, says)
EOF
fi

# 1d. the leak's paragraph: the centred head against its causal-head control, recomputed from
#     protocol.csv and runs.csv; and from a summary without the control's run (the committed quick one
#     before it was retrained), values, the protocol table and the claims say it is missing
check "the leak's sentences and claims compare the centred head with its causal-head control (numbers and rankings recomputed from protocol.csv and runs.csv); without the control's run they say so and fall back to the base model" \
    "$PYTHON" - "$R/summary" "$W/nocontrol" <<'EOF'
import csv, json, os, re, shutil, subprocess, sys
S, N = sys.argv[1], sys.argv[2]
def rows(path):
    return list(csv.DictReader(open(path)))
proto = {r["experiment"]: r for r in rows(S + "/protocol.csv") if r["model"] == "convlstm"}
runs = {r["experiment"]: r for r in rows(S + "/runs.csv") if r["model"] == "convlstm" and r["seed"] == "1"}
def values(out):
    return {m.group(1): m.group(2) for m in re.finditer(r"\\rrdef\{([^}]*)\}\{(.*)\}%", open(out + "/values.tex").read())}
def claims(summary):   # {claim id: (value, evidence)} of the leak's claims
    out = subprocess.run([sys.executable, "tools/pipeline/claims.py", summary], check=True, capture_output=True, text=True).stdout
    return {m.group(1): (m.group(2), m.group(3)) for m in (re.match(r"([^:]+): (.*?)  # (.*)", l) for l in out.splitlines())
            if m.group(1).startswith("leak.")}
subprocess.run([sys.executable, "tools/pipeline/tables.py", "--summary", S, "--out", N + "/with",
                "values.tex", "tab-protocol.tex"], check=True, capture_output=True)
v = values(N + "/with")
tf, ar = {}, {}
for e in ("leak", "leak_causal"):
    tf[e], ar[e] = float(proto[e]["test_mse"]), float(runs[e]["test_mse"])
sent = v["sent.leak"]
for x in (tf["leak"], tf["leak_causal"], ar["leak"], ar["leak_causal"]):
    assert "%.1f" % x in sent, (x, sent)
assert v["proto.control.mse"] == "%.1f" % tf["leak_causal"], v["proto.control.mse"]
c = claims(S)
# one run of each (the protocol tests the first seed): no interval, so the claims are single-run; their
# evidence carries the ratios
for k in ("leak.control.teacher_forced_favours_leak", "leak.control.autoregressive_leak_worse"):
    assert c[k][0] == "single-run", c
    assert "teacher-forced %.4g" % (tf["leak_causal"] / tf["leak"]) in c[k][1], c[k]
    assert "autoregressive %.4g" % (ar["leak"] / ar["leak_causal"]) in c[k][1], c[k]
assert "run once and its control too, so these ratios have no interval" in v["sent.leakverdict"] or v["sent.leakverdict"] == ""
assert "trained the same way" in v["sent.leakverdict"] or v["sent.leakverdict"] == "", v["sent.leakverdict"]
assert "causal-head control" in open(N + "/with/tab-protocol.tex").read()
# the same summary without the control
os.makedirs(N + "/summary")
for f in os.listdir(S):
    if f.endswith(".csv"):
        rs = rows(S + "/" + f)
        with open(N + "/summary/" + f, "w", newline="") as out:
            w = csv.DictWriter(out, fieldnames=list(rs[0].keys()) if rs else next(csv.reader(open(S + "/" + f))))
            w.writeheader()
            w.writerows(r for r in rs if r.get("experiment") != "leak_causal")
    else:
        shutil.copy(S + "/" + f, N + "/summary/" + f)
ex = json.load(open(S + "/experiments.json"))
del ex["experiments"]["convlstm/leak_causal"]
json.dump(ex, open(N + "/summary/experiments.json", "w"))
subprocess.run([sys.executable, "tools/pipeline/tables.py", "--summary", N + "/summary", "--out", N + "/without",
                "values.tex", "tab-protocol.tex"], check=True, capture_output=True)
v = values(N + "/without")
assert "no finished run of the causal-head control" in v["sent.leak"], v["sent.leak"]
assert v["proto.control.mse"] == "--" and "%.1f" % tf["leak"] in v["sent.leakbase"], v
assert "no causal-head control trained alike" in v["sent.leakverdict"] or v["sent.leakverdict"] == "", v["sent.leakverdict"]
assert "causal-head control" not in open(N + "/without/tab-protocol.tex").read()
c = claims(N + "/summary")
assert c["leak.control.teacher_forced_favours_leak"][0] == c["leak.control.autoregressive_leak_worse"][0] == "not-computed", c
assert c["leak.base.teacher_forced_favours_leak"][0] == c["leak.base.autoregressive_leak_worse"][0] == "single-run", c
EOF

# ---------------------------------------------------------------------------------------------
# 1e. a study part-way through (several sittings): a summary in which no optimizer-study run of
#     PredRNN++ has finished yet still gives every table and figure, with an empty optimizer panel
if [ "$HAVE_PAPER" = 1 ]; then
    "$PYTHON" - "$R/summary" "$W/partial" <<'EOF'
import csv, json, os, shutil, sys
S, N = sys.argv[1], sys.argv[2]
os.makedirs(N + "/summary")
for f in os.listdir(S):
    if f.endswith(".csv"):
        rs = list(csv.DictReader(open(S + "/" + f)))
        with open(N + "/summary/" + f, "w", newline="") as out:
            w = csv.DictWriter(out, fieldnames=list(rs[0].keys()) if rs else next(csv.reader(open(S + "/" + f))))
            w.writeheader()
            w.writerows(r for r in rs if not (r.get("model") == "predrnn_pp" and r.get("experiment", "").startswith("opt-")))
    else:
        shutil.copy(S + "/" + f, N + "/summary/" + f)
EOF
    "$PYTHON" tools/pipeline/tables.py --summary "$W/partial/summary" --out "$W/partial/out" >/dev/null 2>&1
    n_fig=0 n_ok=0
    for gp in figures/*.gp; do
        f=$(basename "$gp" .gp); [ "$f" = style ] && continue
        n_fig=$((n_fig + 1))
        (top=$PWD && cd "$W/partial/out" && gnuplot -e "set loadpath '$W/partial/out'; style='$top/figures/style.gp'; out='fig-$f'" "$top/$gp") \
            >"$W/partial/$f.out" 2>&1 && [ -s "$W/partial/out/fig-$f.tex" ] && n_ok=$((n_ok + 1))
    done
    check "a summary without any finished optimizer-study run of PredRNN++ (a study part-way through): figdata gives its panel O_OF '0', and all $n_fig figures are drawn ($n_ok)" \
        eval 'grep -qx "O_OF\[2\] = .0." "$W/partial/out/figdata.gp" && [ "$n_ok" = "$n_fig" ]'
    # a scale like study's: Adam alone and no sweeps. The paper's switches turn the optimizer-study figure
    # and the sweep figure off there, and on for the tiny scale's four optimizers and two sweeps.
    check "values.tex switches: flag.optstudy and flag.sweeps are 1 for the tiny scale's summary and 0 for the same summary with only Adam and no sweeps" \
        "$PYTHON" - "$W/partial/summary" "$W/oneopt" <<'EOF'
import csv, json, os, re, shutil, subprocess, sys
S, N = sys.argv[1], sys.argv[2]
def flags(summary, out):
    subprocess.run([sys.executable, "tools/pipeline/tables.py", "--summary", summary, "--out", out, "values.tex"],
                   check=True, capture_output=True)
    v = dict(re.findall(r"\\rrdef\{(flag\.[a-z]+)\}\{(.*?)\}%", open(out + "/values.tex").read()))
    return v.get("flag.optstudy"), v.get("flag.sweeps")
assert flags(S, N + "/many") == ("1", "1"), flags(S, N + "/many")
shutil.copytree(S, N + "/summary")
ex = json.load(open(S + "/experiments.json"))
ex["experiments"] = {k: x for k, x in ex["experiments"].items() if x["stage"] != "opt" or k.endswith("/opt-adam")}
ex["sweeps"] = {}
json.dump(ex, open(N + "/summary/experiments.json", "w"))
assert flags(N + "/summary", N + "/one") == ("0", "0"), flags(N + "/summary", N + "/one")
EOF
fi

# ---------------------------------------------------------------------------------------------
# 2. nothing to redo; one newer config reruns only its run
before=$(stamps)
"${M[@]}" runs >"$W/again.out" 2>&1
check "a second 'make runs' has nothing to do ($(head -1 "$W/again.out" | sed 's/^\[[^]]*\] //'))" \
    [ "$(stamps)" = "$before" ]
"${M[@]}" -j1 $goal >"$W/j1.out" 2>&1
check "a -j the user gives wins: make -j1 $goal plans '(1 at a time)', with nothing to redo" \
    eval 'grep -q " 0 to run (1 at a time)\$" "$W/j1.out" && [ "$(stamps)" = "$before" ]'
# (leak.conf: the centred-head run's own, and included by its causal-head control's leak_causal.conf).
# The config's text changes (a comment): run.sh fingerprints contents, so a touch alone would only make
# Make call run.sh, which keeps the finished run (carried; section 7)
echo '# a comment: the text changes, so does the fingerprint of its runs' >> experiments/convlstm/leak.conf
before=$(stamps | grep -v '^convlstm/leak\(_causal\)\?/1/') n_before=$(wc -l <"$W/runner.log")
"${M[@]}" runs >"$W/touch.out" 2>&1
check "changing one experiment's config reruns its run and the run that includes it only ($(head -1 "$W/touch.out" | sed 's/^\[[^]]*\] //'))" \
    [ "$(stamps | grep -v '^convlstm/leak\(_causal\)\?/1/')" = "$before" \
      -a "$(find "$R/convlstm/leak/1/done.json" "$R/convlstm/leak_causal/1/done.json" -newer "$W/repro.out" | wc -l)" -eq 2 \
      -a "$(tail -n +$((n_before + 1)) "$W/runner.log" | grep -cE " --out $R/convlstm/leak(_causal)?/1 ")" -eq 2 -a "$(wc -l <"$W/runner.log")" -eq $((n_before + 2)) ]

# ---------------------------------------------------------------------------------------------
# 3. interrupted runs: resumed from their checkpoint (same inputs) or restarted (other inputs)
d=$R/convlstm/base/2 e=$R/predrnn_pp/base/2
cp "$d/metrics.json" "$W/m_d.json"; cp "$e/metrics.json" "$W/m_e.json"; cp "$d/best.safetensors" "$W/b_d.st"
rm "$d/done.json" "$d/metrics.json" "$d/predictions.npy"; : > "$d/best.safetensors.tmp.999"
rm "$e/done.json"; echo other-inputs > "$e/inputs.sha256"; : > "$e/leftover.tmp.999"
"${M[@]}" runs >"$W/resume.out" 2>&1; rc=$?
check "make runs after an interruption exits 0 and redoes 2 runs" eval '[ "$rc" -eq 0 ] && grep -q " 2 to run" "$W/resume.out"'
check "the interrupted run with the same inputs was resumed" grep -q 'convlstm/base seed 2 (resumed)' "$W/resume.out"
check "the resumed run ends identical to the uninterrupted one" cmp -s "$d/metrics.json" "$W/m_d.json"
check "... and its best checkpoint too" cmp -s "$d/best.safetensors" "$W/b_d.st"
check "the run directory of other inputs was restarted from scratch (no leftovers)" \
    eval '[ ! -e "$e/leftover.tmp.999" ] && ! grep -q "predrnn_pp/base seed 2 (resumed)" "$W/resume.out"'
check "the restarted run ends identical too" cmp -s "$e/metrics.json" "$W/m_e.json"

# ---------------------------------------------------------------------------------------------
# 4. the paper from a summary alone; the checks catch what they are for
if [ "$HAVE_PAPER" = 1 ]; then
    mkdir -p "$W/only/tiny" && cp -r "$R/summary" "$W/only/tiny/"
    Mo=("${M[@]}" RESULTS_DIR="$W/only" PAPER_DIR="$W/paper-only")
    "${Mo[@]}" paper >"$W/only.out" 2>&1; rc=$?
    check "make paper from a summary alone builds the PDF and trains nothing" \
        [ "$rc" -eq 0 -a -s "$W/paper-only/tiny/paper.pdf" -a "$(find "$W/only" -name done.json | wc -l)" -eq 0 ]

    # a digit in the results part of a copy of the paper source
    mkdir -p "$W/src" && cp paper/*.tex "$W/src/"
    sed -i '0,/^%% results:begin/s//%% results:begin\nWe trained 42 models./' "$W/src/paper.tex"
    PAPER_SRC="$W/src" "$PYTHON" tools/pipeline/checks.py tex "$P" >"$W/lint.out" 2>&1
    check "the TeX lint fails on a digit typed into the results text" \
        grep -q '^FAIL .*no digit literal' "$W/lint.out" && grep -q 'paper.tex:[0-9]*: We trained 42 models' "$W/lint.out"
    cp paper/*.tex "$W/src/"
    sed -i 's/\\rv{scale.name}/\\rv{scale.nosuchkey}/' "$W/src/paper.tex"
    PAPER_SRC="$W/src" "$PYTHON" tools/pipeline/checks.py tex "$P" >"$W/lint2.out" 2>&1
    check "the TeX lint fails on an undefined \\rv key" grep -q '^FAIL .*undefined scale.nosuchkey' "$W/lint2.out"
    # a table changed after the PDF was made: its number is no longer in the PDF
    cp "$P/tab-main.tex" "$W/tab-main.bak"
    sed -i -E '0,/^ConvLSTM & base & /s/^(ConvLSTM & base & [^&]*& )[0-9.]+/\13141.5/' "$P/tab-main.tex"
    "$PYTHON" tools/pipeline/checks.py pdf "$P" >"$W/pdf.out" 2>&1
    check "the PDF check fails when a table's number is not in the PDF" grep -q '^FAIL .*3141.5 from tab-main.tex' "$W/pdf.out"
    cp "$W/tab-main.bak" "$P/tab-main.tex"
fi

# the study scale's PredRNN++ file sets a learning rate and a clipping: the config lint accepts them with the study's one
# optimizer and fails when that model also had a second optimizer or AdamW (which sets its own lr)
SCALE=study MODELS="convlstm predrnn_pp" ALL_RUNS="convlstm/opt-adam/1 predrnn_pp/opt-adam/1 predrnn_pp/base/1 predrnn_pp/l2/1" \
    "$PYTHON" tools/pipeline/checks.py configs >"$W/lr-one.out" 2>&1; rc1=$?
SCALE=study MODELS="convlstm predrnn_pp" ALL_RUNS="predrnn_pp/opt-adam/1 predrnn_pp/opt-sgd/1 predrnn_pp/adamw/1 convlstm/adamw/1" \
    "$PYTHON" tools/pipeline/checks.py configs >"$W/lr-two.out" 2>&1; rc2=$?
check "the config lint: a scale's learning rate passes with one optimizer (exit $rc1) and fails (exit $rc2) on a second optimizer and on AdamW of that model only" \
    eval '[ "$rc1" -eq 0 ] && grep -q "^ok .*learning rate or clipping set by a scale file" "$W/lr-one.out" && [ "$rc2" -ne 0 ] &&
          grep -q "^FAIL .*predrnn_pp has 2 optimizers.*predrnn_pp.s experiment predrnn_pp/adamw sets lr" "$W/lr-two.out" &&
          ! grep -q "convlstm/adamw" "$W/lr-two.out"'

# ---------------------------------------------------------------------------------------------
# 4b. the fresh summary against a committed one (compare_summaries.py, check-artifacts' section 5):
#     per-run bits only where setup.json's numerics match; means within the seed spread (Welch, Holm);
#     the claims of the paper the same
C="$W/committed" F="$W/fresh"
rm -rf "$C" "$F"; cp -r "$R/summary" "$C"; cp -r "$R/summary" "$F"
cmp_sum() { "$PYTHON" tools/pipeline/compare_summaries.py "$C" "$F" >"$W/cmp.out" 2>&1; }
check "setup.json records the numerics of the runs: CPU model and bf16 flags as /proc/cpuinfo says, BLAS, core, conv engine and math as 'rnnreg info' says, fp32, 1 thread, cpu" \
    "$PYTHON" - "$R/summary/setup.json" "$RNNREG" <<'EOF'
import json, subprocess, sys
n = json.load(open(sys.argv[1]))["numerics"]
cpu = open("/proc/cpuinfo").read()
model = next(l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("model name"))
flags = next(l.split(":", 1)[1].split() for l in cpu.splitlines() if l.startswith("flags"))
info = dict(l.split(": ", 1) for l in subprocess.run([sys.argv[2], "info"], capture_output=True, text=True).stdout.splitlines())
want = {"cpu": model, "cpu_flags": " ".join(sorted(f for f in flags if f in ("avx512_bf16", "amx_bf16"))),
        "blas": info["blas"], "blas_core": info["blas core"].split(" (")[0], "precision": "fp32",
        "conv_engine": info["conv engine"].split(" (")[0], "threads": 1, "backend": "cpu",
        "math": info["math"].split(" (")[0]}
assert n == want, (n, want)
EOF
cmp_sum; rc=$?
check "the same summary: per-run equality checked and holds, means and claims agree (exit $rc)" \
    eval '[ "$rc" -eq 0 ] && grep -q "^ok .*per-run equality: the numerics match" "$W/cmp.out" &&
          grep -q "^ok .*per-experiment means" "$W/cmp.out" && grep -q "^ok .*claims (.*) are the same" "$W/cmp.out"'
# one run's test MSE one unit in the last place off: per-run equality fails and names it; means still agree
"$PYTHON" - "$F/runs.csv" <<'EOF'
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
r = next(r for r in rows if (r["model"], r["experiment"], r["seed"]) == ("convlstm", "dropout", "2"))
r["test_mse"] = repr(math.nextafter(float(r["test_mse"]), math.inf))
w = csv.DictWriter(open(sys.argv[1], "w"), fieldnames=list(rows[0]), lineterminator="\n"); w.writeheader(); w.writerows(rows)
EOF
cmp_sum; rc=$?
check "a run one ulp off with matching numerics: per-run equality FAILs naming the run and the numbers; means agree (exit $rc)" \
    eval '[ "$rc" -eq 1 ] && grep -q "^FAIL .*per-run equality" "$W/cmp.out" &&
          grep -q "runs.csv convlstm/dropout/2: test_mse [0-9.e+-]* -> [0-9.e+-]*" "$W/cmp.out" && grep -q "^ok .*per-experiment means" "$W/cmp.out"'
# the committed summary made on another CPU: per-run equality is not checked (one line why), the rest is
# edit_setup FILE STATEMENTS: the Python statements change s, the setup.json FILE parsed, which is written back
edit_setup() {
    "$PYTHON" - "$1" "$2" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
exec(sys.argv[2])
open(sys.argv[1], "w").write(json.dumps(s, indent=1, sort_keys=True) + "\n")
EOF
}
# (under make test PORTABLE=1 the other machine ran the default build: glibc's math)
edit_setup "$C/setup.json" 's["numerics"]["cpu"] = "AMD EPYC 7B13"
if s["numerics"].get("math") == "portable": s["numerics"]["math"] = "glibc libm"'
# per_run_skipped REASON: the comparison passed (exit $rc), with one line saying per-run equality was not
# checked because of REASON (a grep pattern), and the means and the claims compared and alike
per_run_skipped() {
    [ "$rc" -eq 0 ] && [ "$(grep -c "per-run equality" "$W/cmp.out")" -eq 1 ] &&
        grep -q "^skip .*per-run equality (bit for bit) not checked: $1" "$W/cmp.out" &&
        grep -q "^ok .*per-experiment means" "$W/cmp.out" && grep -q "^ok .*claims (.*) are the same" "$W/cmp.out"
}
cmp_sum; rc=$?
check "committed setup.json with another CPU model: one line says per-run equality was not checked and why; means and claims pass (exit $rc)" \
    per_run_skipped 'cpu: committed "AMD EPYC 7B13", fresh'
# a regeneration with other seeds (make reproduce SEEDS=...) on the same numerics: its runs are other runs,
# so per-run equality is not checked (one line naming the seed lists); the rest is
cp "$C/setup.json" "$C/setup.json.cpu"; cp "$F/setup.json" "$C/setup.json"
edit_setup "$F/setup.json" 's["seeds"] = [x + 5 for x in s["seeds"]]'
cmp_sum; rc=$?
check "a fresh setup.json with other seeds, the numerics the same: one line says per-run equality was not checked, naming both seed lists; means and claims still compared (exit $rc)" \
    per_run_skipped 'seeds: committed \[[0-9, ]*\], fresh \[[0-9, ]*\]'
cp "$R/summary/setup.json" "$F/setup.json"; mv "$C/setup.json.cpu" "$C/setup.json"
# both sides ran the portable build (docs/portable.md), on two CPU models: per-run equality is checked
# all the same; a setup from before "math" was recorded counts as glibc's math, not as portable
cp "$C/setup.json" "$W/setup-c.json"; cp "$F/setup.json" "$W/setup-f.json"
portable_setups() {
    "$PYTHON" - "$C/setup.json" "$F/setup.json" "$@" <<'EOF'
import json, sys
for p, cpu in zip(sys.argv[1:3], ("AMD EPYC 7B13", "Intel(R) Xeon(R) Platinum 8481C")):
    s = json.load(open(p))
    s["numerics"].update(cpu=cpu, math="portable", blas="builtin", blas_core="builtin", conv_engine="im2col")
    if "--committed-unrecorded" in sys.argv and p == sys.argv[1]:
        del s["numerics"]["math"]
    open(p, "w").write(json.dumps(s, indent=1, sort_keys=True) + "\n")
EOF
}
portable_setups; cmp_sum; rc=$?
check "both setups portable, on two CPU models: per-run equality is checked, and FAILs on the run one ulp off (exit $rc)" \
    eval '[ "$rc" -eq 1 ] && grep -q "^FAIL .*per-run equality" "$W/cmp.out" && grep -q "runs.csv convlstm/dropout/2: test_mse" "$W/cmp.out"'
cp "$R/summary/runs.csv" "$F/runs.csv"; cmp_sum; rc=$?
check "both setups portable, on two CPU models, the same runs: per-run equality holds (exit $rc)" \
    eval '[ "$rc" -eq 0 ] && grep -q "^ok .*per-run equality: the numerics match" "$W/cmp.out"'
portable_setups --committed-unrecorded; cmp_sum; rc=$?
check "a committed setup without \"math\" (made before it was recorded) counts as glibc libm: not compared across CPUs (exit $rc)" \
    eval '[ "$rc" -eq 0 ] && grep -q "^skip .*per-run equality (bit for bit) not checked: .*math: committed \"glibc libm\", fresh \"portable\"" "$W/cmp.out"'
cp "$W/setup-c.json" "$C/setup.json"; cp "$W/setup-f.json" "$F/setup.json"
# shift_base FACTOR: every fresh convlstm/base run's test MSE moved by FACTOR x that experiment's seed sd
shift_base() {
    cp "$R/summary/runs.csv" "$F/runs.csv"
    "$PYTHON" - "$F/runs.csv" "$1" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
mine = [r for r in rows if r["model"] == "convlstm" and r["experiment"] == "base"]
sd = statistics.stdev(float(r["test_mse"]) for r in mine)
for r in mine:
    r["test_mse"] = repr(float(r["test_mse"]) + float(sys.argv[2]) * sd)
w = csv.DictWriter(open(sys.argv[1], "w"), fieldnames=list(rows[0]), lineterminator="\n"); w.writeheader(); w.writerows(rows)
EOF
}
shift_base 0.5; cmp_sum; rc=$?
check "the base ConvLSTM's runs moved by half a seed sd: the means still agree" \
    grep -q "^ok .*per-experiment means" "$W/cmp.out"
shift_base 1000; cmp_sum; rc=$?
check "moved by 1000 seed sds: FAIL naming convlstm/base test_mse with both means, the bound and Welch's p (exit $rc)" \
    eval '[ "$rc" -eq 1 ] && grep -q "^FAIL .*means differ beyond the seed spread" "$W/cmp.out" &&
          grep -qE "^    convlstm/base test_mse: committed [0-9.e+]+ \(n [0-9]+\), fresh [0-9.e+]+ \(n [0-9]+\): \|difference\| .* > .*Welch p" "$W/cmp.out"'
# a single run far off: the base's spread stands in for it where it was trained as the base is (an
# optimizer-study run: FAIL), not for a run-once experiment trained under its own protocol (the centred
# head, stage "once": a skip line saying there is no spread to test against)
shift_single() {   # $1 = experiment stage (opt | once): its first ConvLSTM experiment's run moved by 1000 base sds
    cp "$R/summary/runs.csv" "$F/runs.csv"
    "$PYTHON" - "$F/runs.csv" "$R/summary/experiments.json" "$1" <<'EOF'
import csv, json, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
ex = json.load(open(sys.argv[2]))["experiments"]
eid = sorted(e for e, x in ex.items() if x["stage"] == sys.argv[3] and e.startswith("convlstm/"))[0]
mine = [r for r in rows if r["model"] + "/" + r["experiment"] == eid]
assert len(mine) == 1, (eid, len(mine))
sd = statistics.stdev(float(r["test_mse"]) for r in rows if r["model"] == "convlstm" and r["experiment"] == "base")
mine[0]["test_mse"] = repr(float(mine[0]["test_mse"]) + 1000 * sd)
w = csv.DictWriter(open(sys.argv[1], "w"), fieldnames=list(rows[0]), lineterminator="\n"); w.writeheader(); w.writerows(rows)
print(eid)
EOF
}
e_opt=$(shift_single opt); cmp_sum
check "one optimizer-study run ($e_opt) moved by 1000 base sds: FAIL naming it, its base's spread standing in" \
    grep -qE "^    $e_opt test_mse: committed [0-9.e+]+ \(n 1 \(spread of the base: [0-9]+ runs\)\)" "$W/cmp.out"
e_once=$(shift_single once); cmp_sum
check "one run-once run ($e_once, its own protocol) moved by 1000 base sds: a skip line, no spread to test against, and no FAIL naming it" \
    eval 'grep -qE "^skip check-artifacts: mean of $e_once test_mse: committed [0-9.e+]+ \(n 1 \(no spread\)\).*no seed spread to test the difference against" "$W/cmp.out" &&
          ! grep -q "^    $e_once test_mse" "$W/cmp.out"'
# the optimizer study's recorded choice flipped in the fresh summary: with one run per optimizer it is not
# resolved (claim optimizer.<model> = single-run on both sides), so the flip is expected: one skip line
# says so, the claims agree, and the model's stage-2 experiments (3 metrics each) leave the means check
cp "$R/summary/runs.csv" "$F/runs.csv"
cmp_sum; cp "$W/cmp.out" "$W/cmp-before.out"
"$PYTHON" - "$F/experiments.json" <<'EOF'
import json, sys
e = json.load(open(sys.argv[1]))
c = e["optimizer_choice"]["predrnn_pp"]
assert len(c["seeds"]) == 1, c["seeds"]
c["chosen"] = next(o for o in c["scores"] if o != c["chosen"])
open(sys.argv[1], "w").write(json.dumps(e, indent=1, sort_keys=True) + "\n")
EOF
cmp_sum; rc=$?
n_stage2=$(awk -F, '$1 == "predrnn_pp" && $2 !~ /^opt-/ {print $2}' "$R/summary/runs.csv" | sort -u | wc -l)
k_before=$(sed -nE 's/^ok .*per-experiment means.*: ([0-9]+) comparisons.*/\1/p' "$W/cmp-before.out")
k_after=$(sed -nE 's/^ok .*per-experiment means.*: ([0-9]+) comparisons.*/\1/p' "$W/cmp.out")
check "an unresolved optimizer choice flipped (PredRNN++, one run per optimizer): exit $rc, one skip line naming both choices and why it is expected, claims the same, its $n_stage2 stage-2 experiments out of the means check ($k_before -> $k_after comparisons)" \
    eval '[ "$rc" -eq 0 ] && [ "$(grep -c "optimizer choice" "$W/cmp.out")" -eq 1 ] &&
          grep -qE "^skip check-artifacts: optimizer choice for predrnn_pp differs \(committed [a-z]+, fresh [a-z]+\): every stage-2 run of predrnn_pp was trained with another optimizer.*: expected, since the choice is not resolved by the study.s seeds \(committed single-run, fresh single-run\)$" "$W/cmp.out" &&
          grep -q "^ok .*claims (.*) are the same" "$W/cmp.out" && [ -n "$k_after" ] && [ "$k_after" -eq $((k_before - 3 * n_stage2)) ]'
# a resolved choice that flips: both summaries get a three-seed study of PredRNN++ in which one optimizer
# is far below the others on every seed (adam in the committed one, adamw in the fresh one)
"$PYTHON" - "$C/experiments.json" "$F/experiments.json" <<'EOF'
import json, sys
for path, low in zip(sys.argv[1:], ("adam", "adamw")):
    e = json.load(open(path))
    c = e["optimizer_choice"]["predrnn_pp"]
    vals = {o: [0.05 + 0.01 * i + 0.0003 * k * (i + 1) - (0.04 if o == low else 0.0) for k in (1, 2, 3)]
            for i, o in enumerate(sorted(c["scores"]))}
    c.update(seeds=[1, 2, 3], chosen=low, scores={o: sum(v) / 3 for o, v in vals.items()},
             runs={o: [{"seed": k + 1, "status": "ok", "best_val_loss": x} for k, x in enumerate(v)] for o, v in vals.items()})
    open(path, "w").write(json.dumps(e, indent=1, sort_keys=True) + "\n")
EOF
cmp_sum; rc=$?
check "a resolved optimizer choice that flips: FAIL in one line naming both choices, and the claim differs: FAIL naming optimizer.predrnn_pp as a contradiction, both values and the numbers (exit $rc)" \
    eval '[ "$rc" -eq 1 ] && grep -qE "^FAIL check-artifacts: optimizer choice for predrnn_pp differs \(committed adam, fresh adamw\): .*the choice is resolved by the study.s seeds \(committed resolved, fresh resolved\), so it must not flip$" "$W/cmp.out" &&
          grep -q "^FAIL .*claims" "$W/cmp.out" &&
          grep -qE "^    optimizer.predrnn_pp \[contradiction: resolved both ways\]: committed adam \(chosen adam, seeds 1 2 3; mean best validation loss .*\), fresh adamw \(chosen adamw, " "$W/cmp.out"'

# ---------------------------------------------------------------------------------------------
# 5. the statistics of the tables
if "$PYTHON" -c 'import scipy' 2>/dev/null; then
    check "Student-t quantiles and paired intervals (pipelib) match scipy.stats" "$PYTHON" - <<'EOF'
import sys
sys.path.insert(0, "tools/pipeline")
import pipelib as pl
from scipy import stats
for df in [1, 2, 3, 4, 9, 29, 100]:
    for q in [0.975, 0.95, 0.6, 0.025]:
        a, b = pl.t_ppf(q, df), stats.t.ppf(q, df)
        assert abs(a - b) <= 1e-7 * max(1.0, abs(b)), (df, q, a, b)
d = [1.0, 2.0, 3.5, -0.25]
m, lo, hi, n = pl.paired_interval(d)
slo, shi = stats.t.interval(0.95, len(d) - 1, loc=sum(d) / len(d), scale=stats.sem(d))
assert n == 4 and abs(lo - slo) < 1e-9 and abs(hi - shi) < 1e-9, (lo, hi, slo, shi)
EOF
    check "Welch's test of check-artifacts' means (compare_summaries.welch) matches scipy.stats.ttest_ind(equal_var=False)" "$PYTHON" - <<'EOF'
import statistics, sys
sys.path.insert(0, "tools/pipeline")
import compare_summaries as cs
from scipy import stats
for a, b in [([164.0, 178.0, 150.1], [160.9, 151.2, 170.6]), ([1.0, 2.0], [4.0, 6.5, 5.0, 7.25]), ([0.5, 0.51, 0.52], [0.9, 0.3])]:
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    p, nu, se = cs.welch(statistics.mean(a), va, len(a) - 1, statistics.mean(b), vb, len(b) - 1)
    r = stats.ttest_ind(b, a, equal_var=False)
    assert abs(p - r.pvalue) <= 1e-7 * max(1e-3, r.pvalue), (a, b, p, r.pvalue)
EOF
else
    skip "t quantiles against scipy: scipy is not installed"
fi
# ---------------------------------------------------------------------------------------------
# 6a. an experiment's config file: experiments.mk's exp_conf (the runs' rules) and pipelib's
#     experiment_conf (the labels of summarize.py, checks.py, choose_optimizer.py) name the same file
#     for every experiment, a model's own file where it has one and a shared one otherwise
"${M[@]}" --eval 'print-exp-confs: ; @$(foreach e,$(sort $(foreach r,$(ALL_RUNS),$(call word_of,$r,1)/$(call word_of,$r,2))),echo $e $(call exp_conf,$(call word_of,$e,1),$(call word_of,$e,2));)' \
    print-exp-confs > "$W/exp-confs.txt"
check "exp_conf (Make) = experiment_conf (Python) for all $(wc -l <"$W/exp-confs.txt") experiments; leak, leak_causal are a model's own" \
    "$PYTHON" - "$W/exp-confs.txt" <<'EOF'
import sys
sys.path.insert(0, "tools/pipeline")
import pipelib as pl
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
assert len(rows) > 30, rows
for eid, path in rows:
    assert pl.experiment_conf(*eid.split("/")) == path, (eid, path, pl.experiment_conf(*eid.split("/")))
want = {"convlstm/leak": "experiments/convlstm/leak.conf", "convlstm/leak_causal": "experiments/convlstm/leak_causal.conf",
        "convlstm/base": "experiments/base.conf",
        "convlstm/batchnorm": "experiments/regularizers/batchnorm.conf",
        "predrnn_pp/batchnorm": "experiments/regularizers/batchnorm.conf", "predrnn_pp/opt-sgd": "experiments/optimizers/sgd.conf",
        "predrnn_pp/zoneout": "experiments/regularizers/zoneout.conf", "convlstm/zoneout": "experiments/regularizers/zoneout.conf"}
got = dict(rows)
assert all(got[e] == p for e, p in want.items()), [(e, got.get(e)) for e in want]
EOF

# ---------------------------------------------------------------------------------------------
# 6. tools/pipeline/conf_deps.sh (Make's prerequisites of a run) resolves includes as the trainer does:
#    relative to the including file, an absolute path as it is, blanks around the path trimmed
cd_dir=$W/confdeps
mkdir -p "$cd_dir/sub"
printf 'include = %s/sub/b.conf   # absolute\nlayers = 4\n' "$cd_dir" > "$cd_dir/a.conf"
printf 'include=c.conf\ninclude = ../d.conf \t\n' > "$cd_dir/sub/b.conf"
printf 'epochs = 1\n' > "$cd_dir/sub/c.conf"
printf 'include = %s/a.conf\n' "$cd_dir" > "$cd_dir/d.conf"     # a cycle back to a.conf: each file once
got=$(cd "$cd_dir/sub" && bash "$OLDPWD/tools/pipeline/conf_deps.sh" ../a.conf | tr '\n' ' ')
check "conf_deps.sh follows an absolute include and the relative ones under it, each file once ($got)" \
    [ "$got" = "../a.conf b.conf c.conf ../d.conf " ]

# ---------------------------------------------------------------------------------------------
# 7. carried runs — a study made over several sittings, each from a fresh clone: for every scale of
#    CARRY_SCALES, what `git add results/<scale>` adds (git itself asked, with the repository's
#    .gitignore, of this tiny tree put where that scale lives) is exactly the small files of the runs,
#    the baselines, the protocol results, the chosen optimizers and the summary; a fresh clone of those
#    files alone, its data made again (new mtime), trains nothing, keeps the baselines and the protocol
#    results, and makes the same summary; a config whose text changes retrains exactly its runs
"${M[@]}" summary >"$W/carry-sum0.out" 2>&1
rm -rf "$W/carry-orig-summary"; cp -r "$R/summary" "$W/carry-orig-summary"
carry_scales=$(mkvar CARRY_SCALES)
check "CARRY_SCALES lists short, study and paper ($carry_scales)" [ "$carry_scales" = "short study paper" ]
for sc in $carry_scales; do
    G=$W/gitsim-$sc
    rm -rf "$G"; mkdir -p "$G/results"
    git init -q "$G" && cp .gitignore "$G/" && cp -r "$R" "$G/results/$sc"
    git -C "$G" ls-files -o --exclude-standard results | sed "s|^results/$sc/||" | sort > "$W/carry-added-$sc.txt"
done
first=${carry_scales%% *}
check "git would add the same files under results/<scale> for every scale of CARRY_SCALES ($(wc -l <"$W/carry-added-$first.txt") files)" \
    eval 'for sc in $carry_scales; do cmp -s "$W/carry-added-$first.txt" "$W/carry-added-$sc.txt" || exit 1; done'
check "... and exactly: a finished run's done.json, metrics.json, log.jsonl, config, run.conf, inputs.sha256, train.log, parameters.json and (strip runs) predictions_strip.npy; the optimizers; the baselines' stamp, metrics, truth_strip.npy, source.txt; the protocol results; the summary — never a checkpoint, predictions.npy, truth.npy, the data, a lock" \
    "$PYTHON" - "$R" "$W/carry-added-$first.txt" "$(mkvar MODELS)" "$(mkvar ALL_RUNS)" "$(mkvar STRIP_EXPERIMENTS)" "$(mkvar FIRST_SEED)" <<'EOF'
import os, sys
R, listed, models, runs, strip, first = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4].split(), sys.argv[5].split(), sys.argv[6]
got = set(open(listed).read().split())
run_small = {"done.json", "metrics.json", "log.jsonl", "config", "run.conf", "inputs.sha256", "train.log", "parameters.json",
             "predictions_strip.npy"}
want, every = set(), set()
for root, dirs, files in os.walk(R):
    for f in files:
        rel = os.path.relpath(os.path.join(root, f), R)
        every.add(rel)
        p = rel.split(os.sep)
        if (p[0] == "summary" or (len(p) == 4 and p[0] in models and p[3] in run_small)
                or (len(p) == 2 and p[0] in models and p[1] in ("optimizer.conf", "optimizer.json"))
                or (len(p) == 2 and p[0] == "baselines" and p[1] in ("done.json", "zero.json", "copy_last.json", "truth_strip.npy", "source.txt"))
                or (len(p) == 4 and p[0] == "protocol" and p[3].endswith(".json"))):
            want.add(rel)
assert got == want, ("git adds but not expected", sorted(got - want)[:5], "expected but not added", sorted(want - got)[:5])
# every finished run is carried whole, the strip runs with their strip row; the large files stay out
for r in runs:
    need = ["done.json", "metrics.json", "log.jsonl", "config", "run.conf", "inputs.sha256", "train.log", "parameters.json"]
    if r.rsplit("/", 1)[0] in strip and r.endswith("/" + first):
        need.append("predictions_strip.npy")
    assert all(r + "/" + f in got for f in need), (r, [f for f in need if r + "/" + f not in got])
big = [f for f in every if f.endswith((".safetensors", "predictions.npy", "truth.npy", ".lock")) or f.startswith("data/")]
assert big and not set(big) & got, sorted(set(big) & got)[:5]
# the largest: the baselines' truth_strip.npy (20 frames of predict_sequences uint8 sequences); predictions.npy is 1.3 MB
assert all(os.path.getsize(os.path.join(R, f)) < 1000000 for f in got), [f for f in got if os.path.getsize(os.path.join(R, f)) >= 1000000]
EOF
# the fresh clone: those files only, at the same paths, with new mtimes (as a checkout gives them; the
# configs too); make makes the data again
mv "$W/results" "$W/results-orig"
while read -r f; do mkdir -p "$R/$(dirname "$f")" && cp "$W/results-orig/tiny/$f" "$R/$f"; done <"$W/carry-added-$first.txt"
find experiments -type f -exec touch {} +
sleep 1
: > "$W/runner.log"
"${M[@]}" runs >"$W/carry-runs.out" 2>&1; rc=$?
n_carried=$(grep -c 'run.sh: .*: finished with the same inputs (carried); kept$' "$W/carry-runs.out")
check "a fresh clone of the committed files, its data made again: make runs exits 0 ($rc), trains nothing ($(grep -c ' train --config ' "$W/runner.log") training commands) and keeps all $n_plan runs, one line each ($n_carried)" \
    [ "$rc" -eq 0 -a "$(grep -c ' train --config ' "$W/runner.log")" -eq 0 -a "$n_carried" -eq "$n_plan" -a "$R/data/mmnist40.npy" -nt "$W/carry-added-$first.txt" ]
check "... its first progress line counts them as runs to check, not as runs never run: $(grep -m1 ' runs: ' "$W/carry-runs.out" | sed 's/^\[[^]]*\] //')" \
    grep -q " $n_plan runs: 0 complete, $n_plan to check (finished before: kept if their inputs are unchanged, else trained again), 0 never run (" "$W/carry-runs.out"
n_protocol=$(mkvar PROTOCOL_EXPERIMENTS | wc -w)
check "... keeps the baselines and all $n_protocol report-protocol results (PROTOCOL_EXPERIMENTS), made from the same runs, without any checkpoint" \
    eval 'grep -q "^baselines.sh: .*baselines: made from .*(carried); kept$" "$W/carry-runs.out" &&
          [ "$(grep -c "^report_protocol: .*(carried); kept$" "$W/carry-runs.out")" -eq "$n_protocol" -a "$n_protocol" -ge 3 ] &&
          [ "$(find "$R" -name "*.safetensors" | wc -l)" -eq 0 ]'
# the committed summary is older than the scripts in a fresh clone (Make's times say nothing there):
# made from inputs of the same content (its inputs.sha256), it is kept, and needs no trainer
touch tools/pipeline/summarize.py tools/pipeline/pipelib.py
"${M[@]}" RNNREG="$W/no-trainer" summary >"$W/carry-keep.out" 2>&1; rc=$?
check "... its committed summary, older than the scripts, made from inputs of the same content, is kept as it is, with no trainer there (exit $rc)" \
    eval '[ "$rc" -eq 0 ] && grep -q "^\[pipeline\] summary: $R/summary was made from inputs of the same content (sha256 [0-9a-f]*); kept$" "$W/carry-keep.out" &&
          cmp -s "$W/carry-orig-summary/runs.csv" "$R/summary/runs.csv" && [ "$R/summary/runs.csv" -nt tools/pipeline/summarize.py ]'
# an input of other content makes it again (here needing the trainer, which is not there: make fails)
cp "$R/convlstm/optimizer.json" "$W/optimizer.json.orig" && printf ' ' >> "$R/convlstm/optimizer.json"
"${M[@]}" RNNREG="$W/no-trainer" summary >"$W/carry-other.out" 2>&1; rc=$?
cp "$W/optimizer.json.orig" "$R/convlstm/optimizer.json"
check "... but an input of other content (a byte more in an optimizer.json) makes it again: summarize.py runs (exit $rc without the trainer)" \
    eval '[ "$rc" -ne 0 ] && ! grep -q "same content" "$W/carry-other.out" && grep -q "summarize.py\|rnnreg\|no-trainer" "$W/carry-other.out"'
# and made again from the carried files (the fingerprint removed), it is the original, byte for byte
rm -f "$R/summary/inputs.sha256"
"${M[@]}" summary >"$W/carry-sum.out" 2>&1; rc=$?
n_same=0 n_files=0
for f in "$W/carry-orig-summary"/*; do
    n_files=$((n_files + 1)); case $f in */setup.json) continue ;; esac
    cmp -s "$f" "$R/summary/$(basename "$f")" && n_same=$((n_same + 1))
done
"$PYTHON" - "$W/carry-orig-summary/setup.json" "$R/summary/setup.json" >"$W/carry-setup.out" 2>&1 <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
a.pop("environment"), b.pop("environment")
assert a == b, [k for k in a if a[k] != b.get(k)]
assert a["elapsed_seconds"] > 0 and a["runs_finished"] == a["runs_planned"], a
EOF
setup_rc=$?
[ "$setup_rc" -eq 0 ] || tail -3 "$W/carry-setup.out"
check "... and its summary is the original's: every file byte for byte ($n_same of $((n_files - 1)), strips included), setup.json but for the environment of the make (exit $rc, $setup_rc)" \
    [ "$rc" -eq 0 -a "$n_same" -eq $((n_files - 1)) -a "$n_files" -ge 10 -a -s "$R/summary/inputs.sha256" -a "$setup_rc" -eq 0 ]
before=$(stamps)
"${M[@]}" runs >"$W/carry-again.out" 2>&1
check "... a second make runs there has nothing to do: the carried runs' stamps were touched ($(head -1 "$W/carry-again.out" | sed 's/^\[[^]]*\] //'))" \
    eval 'grep -q " 0 to run" "$W/carry-again.out" && [ "$(stamps)" = "$before" ]'
OPT_SEEDS=$(mkvar OPT_SEEDS) MODELS=$(mkvar MODELS) "$PYTHON" tools/pipeline/checks.py runs "$R" >"$W/carry-checks.out" 2>&1; rc=$?
check "check-artifacts' run checks on the carried runs pass (exit $rc): the repeated runs compared by their small files, skip lines say which large files were not there" \
    eval '[ "$rc" -eq 0 ] && grep -q "^ok .*two runs of one config give identical outputs: .*(config, metrics.json, log.jsonl; 0 large files)" "$W/carry-checks.out" &&
          grep -q "^skip .*bit-identity of .*predictions.npy, best.safetensors, last.safetensors: not there in both" "$W/carry-checks.out" &&
          grep -q "^skip .*one test set for $n_plan finished runs without truth.npy" "$W/carry-checks.out"'
# a touch alone (the text unchanged) keeps the run; a change of text retrains exactly its runs
touch experiments/convlstm/leak.conf
"${M[@]}" runs >"$W/carry-touch.out" 2>&1; rc=$?
check "touching a config without changing its text keeps its run (carried, nothing trained; exit $rc)" \
    eval '[ "$rc" -eq 0 ] && [ ! -s "$W/runner.log" ] && grep -q "run.sh: $R/convlstm/leak/1: finished with the same inputs (carried); kept" "$W/carry-touch.out"'
zconf=$(awk '$1 == "convlstm/zoneout" { print $2 }' "$W/exp-confs.txt")
want=$(for e in $(awk -v c="$zconf" '$2 == c { print $1 }' "$W/exp-confs.txt"); do
           for r in $(mkvar ALL_RUNS); do case $r in "$e"/*) echo "$R/$r" ;; esac; done; done | sort)
echo '# a comment: the text changes' >> "$zconf"
"${M[@]}" runs >"$W/carry-change.out" 2>&1; rc=$?
got=$(sed -nE 's/.* --out ([^ ]+) .*/\1/p' "$W/runner.log" | sort)
check "changing the text of $zconf retrains exactly the $(wc -w <<<"$want") runs of its experiments (exit $rc; trained: $(wc -w <<<"$got"))" \
    [ "$rc" -eq 0 -a -n "$want" -a "$got" = "$want" ]
n_same=0; for d in $want; do cmp -s "$d/metrics.json" "$W/results-orig/tiny/${d#"$R"/}/metrics.json" && n_same=$((n_same + 1)); done
check "... and, a comment changing no key, they end identical to the original runs (metrics.json $n_same of $(wc -w <<<"$want"))" \
    [ "$n_same" -eq "$(wc -w <<<"$want")" ]
# a run committed while it trained (its small files: no done.json, no checkpoint) starts again
d=$R/convlstm/base/1
rm "$d/done.json" "$d/metrics.json"; head -1 "$d/log.jsonl" > "$d/log.part" && mv "$d/log.part" "$d/log.jsonl"
: > "$W/runner.log"
"${M[@]}" runs >"$W/carry-partial.out" 2>&1; rc=$?
check "a run committed unfinished (small files only) trains again from its start and ends identical to the original (exit $rc)" \
    eval '[ "$rc" -eq 0 -a "$(grep -c " train --config " "$W/runner.log")" -eq 1 ] && grep -q " --out $d " "$W/runner.log" &&
          cmp -s "$d/metrics.json" "$W/results-orig/tiny/convlstm/base/1/metrics.json"'
# the data's fingerprint: its sha256 through the trainer's cache (tools/pipeline/data_sha256.sh)
S=$W/sha; mkdir -p "$S"; cp "$R/data/mmnist40.npy" "$S/d.npy"; sleep 3    # a cache is written for a file over 2 s old
h1=$(bash tools/pipeline/data_sha256.sh "$S/d.npy"); line=$(cat "$S/d.npy.sha256" 2>/dev/null)
want=$(sha256sum "$S/d.npy" | cut -c1-64)
key=$(stat -c '%s %.9Y %.9Z %d %i' "$S/d.npy" | awk '{ gsub(/\./, "", $2); gsub(/\./, "", $3); print "rnnreg-sha256-1", $1, $2, $3, $4, $5 }')
check "data_sha256.sh gives the data's sha256 (sha256sum's) and remembers it in the trainer's cache line (src/sha256.h: size, mtime, ctime, device, inode)" \
    [ "$h1" = "$want" -a "$line" = "$key $want" ]
printf '%s %064d\n' "$key" 0 > "$S/d.npy.sha256"
check "... a cache line with the file's key is trusted (the file is not read)" [ "$(bash tools/pipeline/data_sha256.sh "$S/d.npy")" = "$(printf '%064d' 0)" ]
touch "$S/d.npy"
check "... and no longer once the file's times changed" [ "$(bash tools/pipeline/data_sha256.sh "$S/d.npy")" = "$want" ]
echo "# $T: $(( $(date +%s) - start )) s in all"
