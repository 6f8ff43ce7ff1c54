"""The pipe between the sandboxed candidate process (run.py, the worker) and the trusted evaluator
(evaluate.py). The worker writes frames on its stdout; the evaluator answers on the worker's stdin.

A frame is a 4-byte big-endian header length, a JSON header {"type": ..., ...}, and, when the header has
"tensor": {"dtype", "shape"}, the tensor's raw bytes (C order, little-endian). Nothing a frame says is trusted:
the evaluator checks types, shapes and sizes, and computes every number it reports from tensors it received.
"""
from __future__ import annotations

import json
import struct
from typing import BinaryIO, Optional, Tuple

import numpy as np
import torch

MAX_HEADER = 1 << 20
MAX_TENSOR = 1 << 31        # 2 GiB: more than any stage's held-out outputs
DTYPES = {"float32": (torch.float32, np.float32), "float64": (torch.float64, np.float64),
          "int64": (torch.int64, np.int64)}


class WireError(Exception):
    """A malformed frame: the candidate process broke the protocol (recorded as a crash)."""


def write_frame(out: BinaryIO, header: dict, tensor: Optional[torch.Tensor] = None) -> None:
    payload = b""
    if tensor is not None:
        t = tensor.detach().cpu().contiguous()
        if t.dtype not in (torch.float32, torch.float64, torch.int64):
            t = t.float()
        name = str(t.dtype).replace("torch.", "")
        payload = t.numpy().astype(DTYPES[name][1]().dtype.newbyteorder("<"), copy=False).tobytes()
        header = {**header, "tensor": {"dtype": name, "shape": list(t.shape)}}
    raw = json.dumps(header, allow_nan=True).encode()
    out.write(struct.pack(">I", len(raw)) + raw + payload)
    out.flush()


def _read_exact(stream: BinaryIO, n: int) -> Optional[bytes]:
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_frame(stream: BinaryIO) -> Optional[Tuple[dict, Optional[torch.Tensor]]]:
    """The next frame, or None at end of stream (also for a frame cut short by the worker dying)."""
    size = _read_exact(stream, 4)
    if size is None:
        return None
    (length,) = struct.unpack(">I", size)
    if length > MAX_HEADER:
        raise WireError(f"frame header of {length} bytes")
    raw = _read_exact(stream, length)
    if raw is None:
        return None
    try:
        header = json.loads(raw)
    except ValueError as exc:
        raise WireError(f"frame header is not JSON: {exc}")
    if not isinstance(header, dict) or not isinstance(header.get("type"), str):
        raise WireError("frame header without a type")
    info = header.get("tensor")
    if info is None:
        return header, None
    try:
        dtype = DTYPES[info["dtype"]]
        shape = [int(d) for d in info["shape"]]
    except (KeyError, TypeError, ValueError):
        raise WireError(f"bad tensor description {info!r}")
    if any(d < 0 for d in shape):
        raise WireError(f"negative tensor shape {shape}")
    nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype[1]).itemsize
    if nbytes > MAX_TENSOR:
        raise WireError(f"tensor of {nbytes} bytes")
    data = _read_exact(stream, nbytes)
    if data is None:
        return None
    array = np.frombuffer(data, dtype=np.dtype(dtype[1]).newbyteorder("<")).reshape(shape)
    return header, torch.from_numpy(array.astype(dtype[1]))
