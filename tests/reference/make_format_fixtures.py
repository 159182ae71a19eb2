#!/usr/bin/env python3
"""make_format_fixtures.py — writes the small .npy and .safetensors fixtures read by tests/test_npy.c
and tests/test_safetensors.c (tests/fixtures/format_*). Rerun with /usr/bin/python3 (needs numpy);
the output is deterministic.

Every array holds a closed-form function of its flat C-order index i, which the C tests recompute:
    uint8   U(i) = (7*i + 3) % 256
    float32 F(i) = ((37*i) % 101 - 50) / 8        (exact in float32)
The .npy files are written by numpy itself (np.save, or numpy.lib.format.write_array with
version=(2, 0)); two have hand-made headers that numpy is checked to accept. The .safetensors file is
written in pure Python from the format description in the huggingface/safetensors README (8-byte
little-endian header size N, N bytes of JSON, then the byte buffer; the `safetensors` package is not
used).
"""
import json
import os
import struct
import sys

import numpy as np
import numpy.lib.format as npf

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")


def U(n):
    return ((7 * np.arange(n, dtype=np.int64) + 3) % 256).astype(np.uint8)


def F(n, start=0):
    i = np.arange(start, start + n, dtype=np.int64)
    return (((37 * i) % 101 - 50) / 8.0).astype(np.float32)


def u8(shape):
    return U(int(np.prod(shape, dtype=np.int64))).reshape(shape)


def f32(shape, start=0):
    return F(int(np.prod(shape, dtype=np.int64)), start).reshape(shape)


def path(name):
    return os.path.join(OUT, name)


def save(name, a, version=None):
    with open(path(name), "wb") as fp:
        npf.write_array(fp, a, version=version, allow_pickle=False)
    b = np.load(path(name))
    assert b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b), name
    with open(path(name), "rb") as fp:
        assert npf.read_magic(fp) == (version or (1, 0)), name


def raw_npy(name, header, data, check):
    """A version-1.0 file with a hand-made header dict (no padding rules applied)."""
    blob = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data
    with open(path(name), "wb") as fp:
        fp.write(blob)
    b = np.load(path(name))  # numpy must accept it
    assert b.dtype == check.dtype and b.shape == check.shape and np.array_equal(b, check), name
    return blob


def main():
    os.makedirs(OUT, exist_ok=True)
    save("format_u8_4d_v1.npy", u8((2, 3, 4, 5)))
    save("format_f32_2d_v1.npy", f32((3, 4)))
    save("format_f32_scalar_v1.npy", f32(()))
    save("format_f32_empty_v1.npy", f32((0, 3)))
    save("format_f32_1d_v2.npy", f32((7,)), version=(2, 0))
    save("format_u8_1d_v2.npy", u8((5,)), version=(2, 0))

    # Odd spacing, key order, quotes and a trailing comma in the shape; the data starts at byte
    # 10 + len(header) = 78, not a multiple of 4, so a float32 reader must cope with misalignment.
    hdr = b"{ 'shape' :( 2 ,3, ) ,\"fortran_order\":False,\n  'descr':'<f4' }"
    hdr += b" " * (78 - 10 - len(hdr) - 1) + b"\n"
    assert (10 + len(hdr)) % 4 == 2
    raw_npy("format_f32_oddhdr.npy", hdr, f32((2, 3)).tobytes(), f32((2, 3)))
    # Python 2 era header: long-integer suffixes, '<u1' instead of '|u1'.
    hdr = b"{'descr': '<u1', 'fortran_order': False, 'shape': (3L, 2L), }"
    hdr += b" " * (64 - 10 - len(hdr) - 1) + b"\n"
    raw_npy("format_u8_py2long.npy", hdr, u8((3, 2)).tobytes(), u8((3, 2)))

    # safetensors: header entries in an order different from the buffer order, a scalar, an
    # empty tensor, and metadata needing escapes (json.dumps writes non-ASCII as \uXXXX).
    buffer_order = [("bias", f32((3,), 100)), ("conv.weight", f32((2, 3, 2, 2))),
                    ("empty", f32((0, 4))), ("scalar", f32((), 7))]
    entries, data, pos = {}, b"", 0
    for name, a in buffer_order:
        raw = a.astype("<f4").tobytes()
        entries[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [pos, pos + len(raw)]}
        data += raw
        pos += len(raw)
    header = {"conv.weight": entries["conv.weight"],
              "__metadata__": {"step": "1200", "note": "h\u00e9llo \"q\"\n\\ \u2713"},
              "scalar": entries["scalar"], "empty": entries["empty"], "bias": entries["bias"]}
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path("format_st_ref.safetensors"), "wb") as fp:
        fp.write(struct.pack("<Q", len(text)) + text + data)
    print("wrote fixtures to", os.path.normpath(OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
