#!/usr/bin/env python3
"""check_safetensors.py — an independent pure-Python safetensors reader that checks every rule of the
format (huggingface/safetensors README "Format" and the reference reader, safetensors/src/tensor.rs):
8-byte little-endian header size N <= 100,000,000; N bytes of UTF-8 JSON starting with '{', no
duplicate keys; optional "__metadata__" of str -> str; each tensor {"dtype", "shape", "data_offsets"};
tensors sorted by offsets start at 0 and tile the byte buffer exactly, end - begin = prod(shape) *
itemsize. Used by tests/test_formats_python.sh on files written by the C writer.

    read(path) -> (header_text, metadata or None, {name: numpy array}, names in buffer order)
    usage: check_safetensors.py FILE...   (prints a summary; exit 1 on the first invalid file)
"""
import json
import struct
import sys

import numpy as np

ITEMSIZE = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2,
            "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}
NUMPY = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I32": "<i4", "I64": "<i8", "U8": "u1", "I8": "i1",
         "U16": "<u2", "I16": "<i2", "U32": "<u4", "U64": "<u8", "BOOL": "?"}


class Invalid(Exception):
    pass


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise Invalid("duplicate key in %r" % keys)
    return dict(pairs)


def read(path):
    with open(path, "rb") as fp:
        blob = fp.read()
    if len(blob) < 8:
        raise Invalid("shorter than 8 bytes")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > 100_000_000:
        raise Invalid("header size %d over the limit" % n)
    if 8 + n > len(blob):
        raise Invalid("header size %d past the end of the file" % n)
    text = blob[8:8 + n].decode("utf-8")
    if not text.startswith("{"):
        raise Invalid("header does not start with '{'")
    header = json.loads(text, object_pairs_hook=_no_duplicates)
    if not isinstance(header, dict):
        raise Invalid("header is not an object")
    meta = header.pop("__metadata__", None)
    if meta is not None and not (isinstance(meta, dict) and
                                 all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())):
        raise Invalid("__metadata__ is not a str -> str map")
    buffer = blob[8 + n:]
    entries = []
    for name, info in header.items():
        if not isinstance(info, dict) or set(("dtype", "shape", "data_offsets")) - set(info):
            raise Invalid("tensor %r lacks a field" % name)
        dtype, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in ITEMSIZE or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise Invalid("tensor %r: bad dtype or shape" % name)
        entries.append((begin, end, name, dtype, shape))
    entries.sort(key=lambda e: (e[0], e[1]))
    pos, arrays = 0, {}
    for begin, end, name, dtype, shape in entries:
        if begin != pos or end < begin:
            raise Invalid("tensor %r: offsets [%d, %d] do not follow %d" % (name, begin, end, pos))
        if end - begin != int(np.prod(shape, dtype=np.int64)) * ITEMSIZE[dtype]:
            raise Invalid("tensor %r: offsets do not match shape %r" % (name, shape))
        arrays[name] = np.frombuffer(buffer[begin:end], dtype=NUMPY[dtype]).reshape(shape)
        pos = end
    if pos != len(buffer):
        raise Invalid("tensors cover %d of %d buffer bytes" % (pos, len(buffer)))
    return text, meta, arrays, [e[2] for e in entries]


def main(paths):
    for p in paths:
        try:
            _, meta, arrays, _ = read(p)
        except (Invalid, ValueError, UnicodeDecodeError) as e:
            print("%s: invalid: %s" % (p, e))
            return 1
        print("%s: ok, %d tensors, metadata %r" % (p, len(arrays), meta))
        for name, a in arrays.items():
            print("  %s %s %s" % (name, a.dtype, list(a.shape)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
