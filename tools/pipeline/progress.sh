#!/usr/bin/env bash
# progress.sh — the overall progress lines of `make reproduce-pipeline` / `make runs`: run k of n,
# elapsed time and an estimate of the time left. State lives in $PROGRESS_DIR (results/<scale>/.progress/),
# shared by the parallel runs of `make -j N` (updates under flock).
#
#   progress.sh plan RESULTS_DIR ID...     new session over the runs ID (<model>/<exp>/<seed>); the ones
#                                          to do are those in $PLAN_TODO (what `make -n` would run) and
#                                          those without RESULTS_DIR/ID/done.json
#   progress.sh start ID [resumed]         a run begins (prints "run k/n started")
#   progress.sh end ID SECONDS STATUS      a run ended (prints elapsed and the estimate)
#   progress.sh carried ID                 a planned run was finished already with the same inputs
#                                          (run.sh: carried, not trained): it leaves the plan, silently
#   progress.sh finish                     the session's summary line; ends the session (later runs
#                                          outside `make runs` print no progress lines)
# The estimate: each run still to do is expected to take the mean wall time of the runs of the same
# model trained from scratch (not resumed) — in this session, else in earlier ones (their done.json),
# else of any model — divided by the number of parallel jobs (JOBS, from make's -j; 1 by default).
set -euo pipefail
P=${PROGRESS_DIR:?PROGRESS_DIR is not set}
tag="[pipeline${SCALE:+ $SCALE}]"
now() { date +%s; }
hms() { awk -v s="$1" 'BEGIN { s = int(s + 0.5); h = int(s / 3600); m = int((s % 3600) / 60);
    if (h > 0) printf "%dh%02dm", h, m; else if (m > 0) printf "%dm%02ds", m, s % 60; else printf "%ds", s }'; }
locked() { flock "$P/lock" "$@"; }

# start/end outside a session (no plan: a run made directly, or after `finish`) print nothing
case "${1:-}" in start|end|carried) [ -f "$P/todo" ] || exit 0 ;; esac

case "${1:-}" in
plan)
    results=$2; shift 2
    mkdir -p "$P"
    : > "$P/todo"; : > "$P/finished"; echo 0 > "$P/started"; now > "$P/t0"; echo "$results" > "$P/results"
    total=0 done=0 before=0
    for id in "$@"; do
        total=$((total + 1))
        if [ -f "$results/$id/done.json" ] && ! grep -qxF "$id" <<<"${PLAN_TODO// /$'\n'}"; then
            done=$((done + 1))
        else
            echo "$id" >> "$P/todo"
            # finished before but older than its inputs (a fresh clone of committed runs): run.sh keeps
            # it if their content is the same (carried), else trains it again
            [ -f "$results/$id/done.json" ] && before=$((before + 1))
        fi
    done
    if [ "$before" -gt 0 ]; then
        echo "$tag $total runs: $done complete, $before to check (finished before: kept if their inputs are unchanged, else trained again), $((total - done - before)) never run (${JOBS:-1} at a time)"
    else
        echo "$tag $total runs: $done complete, $((total - done)) to run (${JOBS:-1} at a time)"
    fi
    ;;
start)
    id=$2
    # a run Make found out of date only while running (stage 2 after a new optimizer choice) joins the plan
    k=$(locked bash -c 'grep -qxF "$2" "$1/todo" || echo "$2" >> "$1/todo"
        k=$(( $(cat "$1/started") + 1 )); echo $k > "$1/started"; echo $k' _ "$P" "$id")
    n=$(wc -l < "$P/todo")
    echo "$tag run $k/$n started: ${id%/*} seed ${id##*/}${3:+ (resumed)} — elapsed $(hms $(( $(now) - $(cat "$P/t0") )))"
    ;;
end)
    id=$2 secs=$3 status=$4 resumed=${5:-false}
    locked bash -c 'echo "$2 $3 $4 $5" >> "$1/finished"' _ "$P" "$id" "$secs" "$status" "$resumed"
    elapsed=$(( $(now) - $(cat "$P/t0") ))
    # estimate: mean seconds per model over the finished runs, applied to the runs not finished yet
    # earlier sessions: "<id> <wall_seconds>" of finished runs trained from scratch
    results=$(cat "$P/results" 2>/dev/null || true)
    earlier=""
    if [ -n "$results" ] && [ -d "$results" ]; then
        # one grep over all the stamps (not a process per stamp: this runs after every run)
        earlier=$(find "$results" -name done.json -path '*/[0-9]*/done.json' -exec grep -l '"resumed": false' {} + 2>/dev/null |
            xargs -r -d '\n' grep -Ho '"wall_seconds": [0-9.]*' 2>/dev/null |
            awk -v root="$results/" '{ sub(/\/done\.json:"wall_seconds": /, " ")
                if (index($0, root) == 1) $0 = substr($0, length(root) + 1); print }' || true)
    fi
    left=$(awk -v jobs="${JOBS:-1}" '
        FILENAME == "-" { split($1, p, "/"); es[p[1]] += $2; ec[p[1]]++; next }
        FILENAME ~ /finished$/ { fin[$1] = 1; if ($4 == "true") next
            split($1, p, "/"); s[p[1]] += $2; c[p[1]]++; all += $2; nall++; next }
        !($1 in fin) { split($1, p, "/"); n++
            if (p[1] in c) est += s[p[1]] / c[p[1]]; else if (p[1] in ec) est += es[p[1]] / ec[p[1]]
            else if (nall) est += all / nall }
        END { if (n == 0) print 0; else { j = (jobs < n) ? jobs : n; printf "%.0f", est / j } }' \
        - "$P/finished" "$P/todo" <<<"$earlier")
    n=$(wc -l < "$P/todo") f=$(wc -l < "$P/finished")
    echo "$tag run ${id%/*} seed ${id##*/} done in $(hms "$secs")${status:+ ($status)} — $f/$n finished, elapsed $(hms $elapsed)$([ "$left" -gt 0 ] && echo ", about $(hms "$left") left")"
    ;;
carried)
    locked bash -c 'grep -vxF "$2" "$1/todo" > "$1/todo.tmp" || true; mv "$1/todo.tmp" "$1/todo"' _ "$P" "$2"
    ;;
finish)
    n=$(wc -l < "$P/todo" 2>/dev/null || echo 0) f=$(wc -l < "$P/finished" 2>/dev/null || echo 0)
    div=$(grep -c ' diverged$' "$P/finished" 2>/dev/null || true)
    echo "$tag runs finished: $f of $n in $(hms $(( $(now) - $(cat "$P/t0" 2>/dev/null || now) )))$([ "${div:-0}" -gt 0 ] && echo ", $div diverged")"
    if [ -f "$P/todo" ]; then mv "$P/todo" "$P/last-todo"; fi
    ;;
*)
    echo "usage: progress.sh plan RESULTS_DIR ID... | start ID [resumed] | end ID SECONDS STATUS | carried ID | finish" >&2
    exit 2
    ;;
esac
