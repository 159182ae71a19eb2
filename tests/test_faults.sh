#!/usr/bin/env bash
# test_faults.sh — bad input and faults through the real program (build/rnnreg): a FIFO
# as data file, config or include (refused at once, never waited on: each call has a time bound),
# float32 / 3-D data (the message names the file, dtype and shape), escape sequences in a config
# (never raw on the terminal), a NUL byte in a config, and the run directory's stale-temp cleanup
# beside a live writer (another run's temp is kept, a dead process's temp removed).
# The format-level regression tests are in test_npy.c, test_safetensors.c and test_config.c.
set -u
cd "$(dirname "$0")/.."
T=test_faults
. tests/lib.sh

if [ ! -x "$RNNREG" ]; then fail "no executable $RNNREG"; exit 1; fi
mkdir -p "$BUILD/tests"
W=$(mktemp -d "$BUILD/tests/faults.XXXXXX")
live=""
trap '[ -n "$live" ] && kill "$live" 2>/dev/null; rm -rf "$W"' EXIT

# checke WHAT 'CONDITION': one check line, ok when the shell condition (several commands) holds
checke() { local what=$1; shift; if eval "$*"; then ok "$what"; else fail "$what"; fi; }
# bounded CMD...: run with a 20 s time bound (a blocked open exits 124); output in $W/out
bounded() { timeout 20 "$@" >"$W/out" 2>&1; }
# one_line_error FILE WORDS...: exit status non-zero (checked by the caller), one line, no control bytes
clean_line() { [ "$(wc -l <"$1")" -le 1 ] && ! LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$1"; }

# A .npy file written byte by byte (no numpy needed): DTYPE_DESCR SHAPE_TUPLE DATA_BYTES
npy() {
    local descr=$1 shape=$2 nbytes=$3 out=$4
    local dict="{'descr': '$descr', 'fortran_order': False, 'shape': $shape, }"
    local hlen=$(( (10 + ${#dict} + 1 + 63) / 64 * 64 - 10 ))
    { printf '\x93NUMPY\x01\x00'; printf "\\x$(printf %02x $((hlen % 256)))\\x$(printf %02x $((hlen / 256)))";
      printf '%s' "$dict"; printf '%*s\n' $((hlen - ${#dict} - 1)) ''; head -c "$nbytes" /dev/zero; } >"$out"
}

# 1. a FIFO as data file, as --config and as include: refused at once, naming the file
mkfifo "$W/data.fifo" "$W/conf.fifo"
bounded "$RNNREG" train --set data="$W/data.fifo" --set n_train=5 --set n_val=1 --set n_test=0 --out "$W/r1"; rc=$?
checke "a FIFO as data file: exit 1 at once, not blocked (rc $rc: $(head -c 200 "$W/out"))" '[ "$rc" -eq 1 ] && grep -q "data.fifo: not a regular file (a FIFO)" "$W/out"'
bounded "$RNNREG" train --config "$W/conf.fifo" --out "$W/r2"; rc=$?
checke "a FIFO as --config: exit 1 at once (rc $rc)" '[ "$rc" -eq 1 ] && grep -q "conf.fifo: not a regular file" "$W/out"'
printf 'lr = 0.01\ninclude = conf.fifo\n' >"$W/inc.conf"
bounded "$RNNREG" train --config "$W/inc.conf" --out "$W/r3"; rc=$?
checke "a FIFO as include: exit 1 at once, naming file:line (rc $rc)" '[ "$rc" -eq 1 ] && grep -q "inc.conf:2: include: .*conf.fifo: not a regular file" "$W/out"'

# 2. data of the wrong dtype or rank: the message names the file, the dtype and the shape
npy '<f4' '(20, 6, 8, 8)' $((20 * 6 * 64 * 4)) "$W/f32.npy"
npy '|u1' '(20, 6, 64)' $((20 * 6 * 64)) "$W/u8_3d.npy"
bounded "$RNNREG" train --set data="$W/f32.npy" --set n_train=5 --set n_val=1 --set n_test=0 --out "$W/r4"; rc=$?
checke "float32 data: '$(cat "$W/out")'" '[ "$rc" -eq 1 ] && grep -q "f32.npy: expected a (T, N, H, W) uint8 array, got 4D float32 (20, 6, 8, 8)" "$W/out"'
bounded "$RNNREG" train --set data="$W/u8_3d.npy" --set n_train=5 --set n_val=1 --set n_test=0 --out "$W/r5"; rc=$?
checke "3-D data: '$(cat "$W/out")'" '[ "$rc" -eq 1 ] && grep -q "u8_3d.npy: expected a (T, N, H, W) uint8 array, got 3D uint8 (20, 6, 64)" "$W/out"'

# 3. escape sequences in a config: the error line has none of them raw
printf 'optimizer = \033]0;pwned\007adam\n' >"$W/esc1.conf"
printf '\033[2J\033[31m = 1\n' >"$W/esc2.conf"
printf 'lr = 0.1\n\033[2J\033[31mwhatever\n' >"$W/esc3.conf"
for f in esc1 esc2 esc3; do
    bounded "$RNNREG" train --config "$W/$f.conf" --out "$W/r_$f"; rc=$?
    checke "$f.conf: exit 1, one error line without raw control bytes ($(cat -v "$W/out"))" '[ "$rc" -eq 1 ] && clean_line "$W/out"'
done

# 4. a NUL byte in a config: rejected with file:line (later lines were silently ignored)
printf 'lr = 0.01\n\000\nbogus = 1\n' >"$W/nul.conf"
bounded "$RNNREG" train --config "$W/nul.conf" --out "$W/r6"; rc=$?
checke "a NUL byte in a config: rejected naming file:line ($(cat "$W/out"))" '[ "$rc" -eq 1 ] && grep -q "nul.conf:2: contains a NUL byte" "$W/out"'

# 5. stale-temp cleanup of a run directory: a live process's temp is kept, a dead one's removed.
# The run directory holds last.safetensors, so train (without --resume) stops right after the cleanup.
sleep 60 & live=$!
( exit 0 ) & dead=$!; wait "$dead"
mkdir -p "$W/run"; : >"$W/run/last.safetensors"
: >"$W/run/log.jsonl.tmp.$live"; : >"$W/run/last.safetensors.tmp.$live.00ff00ff00ff00ff"
: >"$W/run/log.jsonl.tmp.$dead"; : >"$W/run/config.tmp.$dead.0123456789abcdef"
bounded "$RNNREG" train --out "$W/run"; rc=$?
checke "a run directory that holds a run: train stops (rc $rc)" '[ "$rc" -eq 1 ] && grep -q "holds a run already" "$W/out"'
check "the temps of a live process (another run writing now) are kept" [ -e "$W/run/log.jsonl.tmp.$live" -a -e "$W/run/last.safetensors.tmp.$live.00ff00ff00ff00ff" ]
check "the temps of a dead process are removed" [ ! -e "$W/run/log.jsonl.tmp.$dead" -a ! -e "$W/run/config.tmp.$dead.0123456789abcdef" ]
kill "$live" 2>/dev/null; wait "$live" 2>/dev/null; live=""

[ "$fails" -eq 0 ]
