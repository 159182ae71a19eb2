#!/usr/bin/env python3
"""carry_files.py — the small files of a finished run that stand in for its large ones once the run is
carried: committed without its checkpoints, predictions.npy and truth.npy (.gitignore, the scales of
pipeline.mk's CARRY_SCALES), a run must still give the summary everything summarize.py reads from it.

  parameters.json       {"parameters": N, "from": "best.safetensors"}: the model's parameter count
                        (pipelib.count_parameters, the checkpoint's header), for experiments.json
  predictions_strip.npy (only with --strip: a run whose row is in a strip, pipeline.mk's STRIP_EXPERIMENTS
                        at the first seed) sequence 0 of predictions.npy, (T, 1, H, W) float32, the
                        same values: `rnnreg strip --seq 0` draws the same row from either
  done.json             gets "ended_at" (seconds since the epoch) when it has none, from its own time,
                        which it keeps: summarize.py's elapsed time reads the recorded end, not the
                        file's time, which a checkout or a carried run's touch changes (runs stamped
                        before run.sh recorded ended_at)
Each is made only from its large file when that is there, and written only when its content changes
(temp + rename), so calling it again costs a read. tools/pipeline/run.sh calls it before a run's stamp
and when it carries a run; summarize.py for every finished run it reads (runs finished before this file).
Usage: carry_files.py RUN_DIR [--strip]"""
import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pipelib as pl  # noqa: E402

STRIP_FILE = "predictions_strip.npy"
PARAMS_FILE = "parameters.json"


def write_bytes_if_changed(path, data):
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return False
    except OSError:
        pass
    pl.write_atomic(path, data, "wb")
    return True


def small_copies(d, strip):
    """Writes d's small stand-ins (module docstring) from its large files, where these are there."""
    best = os.path.join(d, "best.safetensors")
    if os.path.exists(best):
        pl.write_if_changed(os.path.join(d, PARAMS_FILE),
                            json.dumps({"parameters": pl.count_parameters(best), "from": "best.safetensors"}) + "\n")
    pred = os.path.join(d, "predictions.npy")
    if strip and os.path.exists(pred):
        import numpy as np
        p = np.load(pred, mmap_mode="r")
        if p.ndim < 2:
            sys.exit("carry_files: %s: expected (T, N, H, W) predictions, got shape %s" % (pred, p.shape))
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(p[:, :1]))
        write_bytes_if_changed(os.path.join(d, STRIP_FILE), buf.getvalue())
    done = os.path.join(d, "done.json")
    if os.path.exists(done):
        j = pl.read_json(done)
        if "ended_at" not in j:
            st = os.stat(done)
            j["ended_at"] = st.st_mtime
            pl.write_atomic(done, json.dumps(j) + "\n")
            os.utime(done, ns=(st.st_atime_ns, st.st_mtime_ns))


def parameters(d):
    """The parameter count of run d: its checkpoint's, else the one parameters.json kept; None."""
    best = os.path.join(d, "best.safetensors")
    if os.path.exists(best):
        return pl.count_parameters(best)
    p = os.path.join(d, PARAMS_FILE)
    return pl.read_json(p)["parameters"] if os.path.exists(p) else None


def strip_predictions(d):
    """The file a strip row of run d is drawn from (sequence 0): predictions_strip.npy, else
    predictions.npy; None when neither is there."""
    for name in (STRIP_FILE, "predictions.npy"):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    return None


def main():
    args = sys.argv[1:]
    strip = "--strip" in args
    dirs = [a for a in args if a != "--strip"]
    if len(dirs) != 1 or any(a.startswith("--") for a in dirs):
        sys.exit("usage: carry_files.py RUN_DIR [--strip]")
    if not os.path.isdir(dirs[0]):
        sys.exit("carry_files: %s: no such run directory" % dirs[0])
    small_copies(dirs[0], strip)


if __name__ == "__main__":
    main()
