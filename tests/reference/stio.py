#!/usr/bin/env python3
"""stio.py — a tiny pure-Python safetensors reader/writer for float32 arrays, shared by the reference
scripts (the `safetensors` package is not installed). Format, from the huggingface/safetensors README:
8-byte little-endian u64 N, N bytes of UTF-8 JSON
  {"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}
padded with spaces to a multiple of 8, then the byte buffer (offsets relative to its start). Written
like the reference serializer: compact JSON, "__metadata__" first, tensors sorted by name and stored in
that order (as src/safetensors.h's st_save).

    from stio import write_safetensors, read_safetensors
    write_safetensors(path, {"w": np.zeros((2, 3), np.float32)}, metadata={"k": "v"})
    tensors = read_safetensors(path)          # {name: float32 array (int64 for an I64 tensor)}
The reader also takes I64 tensors (rnnreg checkpoints hold PyTorch's int64 num_batches_tracked).
"""
import json
import os
import struct

import numpy as np


def write_safetensors(path, tensors, metadata=None):
    """Write {name: array} (cast to little-endian float32, C order) atomically (temp file + rename)."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs, offset = [], 0
    for name in sorted(tensors):
        if name == "__metadata__":
            raise ValueError("tensor name __metadata__ is reserved")
        a = np.ascontiguousarray(np.asarray(tensors[name], dtype="<f4"))
        raw = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as fp:
        fp.write(struct.pack("<Q", len(text)))
        fp.write(text)
        for raw in blobs:
            fp.write(raw)
    os.replace(tmp, path)


def read_safetensors(path, with_metadata=False):
    """{name: array} (and the metadata dict when with_metadata): float32 for F32, int64 for I64 (as
    torch's state_dict holds num_batches_tracked); other dtypes are refused."""
    with open(path, "rb") as fp:
        data = fp.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    buf = data[8 + n:]
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        np_dtype = {"F32": "<f4", "I64": "<i8"}.get(info["dtype"])
        if np_dtype is None:
            raise ValueError(f"{path}: {name}: dtype {info['dtype']} is not F32 or I64")
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(buf[b:e], dtype=np_dtype).reshape(info["shape"]).copy()
    return (out, meta) if with_metadata else out
