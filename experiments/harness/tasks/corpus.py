"""Byte-level language modelling on a local text corpus; metric: bits per byte on a held-out split.

The corpus is `path` (a text file, or a folder read recursively), else the run spec's data.corpus, else the
installed Python standard library's .py sources (present wherever Python is; site-packages and test folders
left out). Files are read in a fixed pseudo-random order (by CRC32 of their relative path, so the split mixes
modules) up to max_bytes, joined by newlines; the last eval_frac of the bytes is held out. Training windows are
drawn at random offsets from the rest; bits per byte = mean next-byte cross-entropy / ln 2 over held-out windows.
The default corpus follows the Python version, so compare bpb only between runs on the same installation.
"""
from __future__ import annotations

import os
import sysconfig
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple

import numpy as np

from ..spec import SpecError
from .base import WindowedLM, require

SKIP_DIRS = {"site-packages", "dist-packages", "test", "tests", "__pycache__", "idle_test"}


@dataclass
class Settings:
    path: Optional[str] = None
    seq_len: int = 128
    max_bytes: int = 4_000_000
    eval_frac: float = 0.1


def default_corpus() -> str:
    return sysconfig.get_paths()["stdlib"]


def _files(root: Path, suffix: Optional[str]) -> list:
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in names:
            if (suffix is None or name.endswith(suffix)) and not name.startswith("."):
                found.append(Path(folder) / name)
    return sorted(found, key=lambda p: (zlib.crc32(str(p.relative_to(root)).encode()), str(p)))


_CACHE: Dict[Tuple[str, int], bytes] = {}


def read_corpus(path: str, max_bytes: int, stdlib: bool = False) -> bytes:
    """The corpus bytes: one file, or a folder's text files (binary files, those with NUL bytes, skipped)."""
    key = (path, max_bytes)
    if key in _CACHE:
        return _CACHE[key]
    root = Path(path)
    if root.is_file():
        with open(root, "rb") as f:
            data = f.read(max_bytes)
    elif root.is_dir():
        parts, total = [], 0
        for file in _files(root, ".py" if stdlib else None):
            try:
                with open(file, "rb") as f:
                    chunk = f.read(max_bytes - total)
            except OSError:
                continue
            if b"\0" in chunk:
                continue
            parts.append(chunk)
            total += len(chunk) + 1
            if total >= max_bytes:
                break
        data = b"\n".join(parts)[:max_bytes]
    else:
        raise SpecError(f"corpus path {path!r} is neither a file nor a folder")
    _CACHE[key] = data
    return data


class ByteLM(WindowedLM):
    name = "lm"
    metric = "bpb"
    Settings = Settings

    def rules(self, s: Settings):
        yield s.seq_len >= 2, f"seq_len must be >= 2, not {s.seq_len}"
        yield 0 < s.eval_frac < 1, f"eval_frac must be in (0, 1), not {s.eval_frac}"

    def __init__(self, settings: Settings, seed: int, key: str, fallback_path: Optional[str] = None):
        super().__init__(settings, seed, key)
        s, where = settings, f"task {key}"
        path = s.path or fallback_path
        data = read_corpus(path, s.max_bytes) if path else read_corpus(default_corpus(), s.max_bytes, stdlib=True)
        self.source = path or f"{default_corpus()} (*.py)"
        split = int(len(data) * (1 - s.eval_frac))
        require(split > s.seq_len + 1 and len(data) - split > s.seq_len + 1, where,
                f"corpus {self.source} has {len(data)} bytes: too few for seq_len {s.seq_len}")
        tokens = np.frombuffer(data, dtype=np.uint8)
        self.train_data, self.eval_data = tokens[:split], tokens[split:]
        self.vocab_size = 256

    def score(self, metrics: Dict[str, float], prefix: str) -> float:
        return min(1.0, max(0.0, 1.0 - metrics[f"{prefix}/bpb"] / 8.0))
