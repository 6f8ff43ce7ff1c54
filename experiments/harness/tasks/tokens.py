"""Causal language modelling on prepared token files (`archlab data prepare`); metric: held-out loss (nats per
token) and perplexity.

`path` is a prepared directory: manifest.json (tokens.schema.json, exported from src/contracts/tokens.ts) and
header-free train/val token files, memory-mapped as nanoGPT does (never read whole). Training windows are drawn at
seeded random offsets from train, evaluation windows from val (held out by genre, file or tail, as the manifest
says). The LM stage's fitness `L` is this task's held-out loss: it is the source's `eval_loss` (primary task).
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Dict

import numpy as np

from ..spec import SpecError
from .base import WindowedLM, require

MANIFEST = "manifest.json"
TOKENS_SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "tokens.schema.json").read_text())
DTYPES = {"uint16": np.uint16, "uint32": np.uint32}


@dataclass
class Settings:
    path: str = ""
    seq_len: int = 256
    manifest_sha256: str = ""   # when set, the manifest must have exactly this hash (the orchestrator's provenance)


def read_manifest(path: str, sha256: str = "") -> dict:
    file = Path(path) / MANIFEST
    try:
        raw = file.read_bytes()
        manifest = json.loads(raw)
    except (OSError, ValueError) as exc:
        raise SpecError(f"token data {path!r}: cannot read {MANIFEST} ({exc}); run `archlab data prepare`")
    if sha256 and hashlib.sha256(raw).hexdigest() != sha256:
        raise SpecError(f"token data {path!r}: {MANIFEST} changed since the run was planned (sha256 differs)")
    if manifest.get("schema") != TOKENS_SCHEMA["properties"]["schema"]["const"] or manifest.get("dtype") not in DTYPES:
        raise SpecError(f"token data {path!r}: {MANIFEST} is not an {TOKENS_SCHEMA['properties']['schema']['const']} manifest")
    return manifest


def open_split(path: str, manifest: dict, split: str) -> np.memmap:
    entry = manifest[split]
    dtype = DTYPES[manifest["dtype"]]
    file = Path(path) / entry["file"]
    size = file.stat().st_size if file.exists() else -1
    if size != entry["tokens"] * np.dtype(dtype).itemsize:
        raise SpecError(f"token data {path!r}: {entry['file']} has {size} bytes, the manifest says "
                        f"{entry['tokens']} {manifest['dtype']} tokens")
    return np.memmap(file, dtype=dtype, mode="r")


class TokenLM(WindowedLM):
    name = "tokens"
    metric = "loss"
    primary = True   # the source's eval_loss; left out of the benchmark score
    Settings = Settings

    def rules(self, s: Settings):
        yield bool(s.path), "path (a prepared token directory) is required"
        yield s.seq_len >= 2, f"seq_len must be >= 2, not {s.seq_len}"

    def __init__(self, settings: Settings, seed: int, key: str):
        super().__init__(settings, seed, key)
        s = settings
        self.manifest = read_manifest(s.path, s.manifest_sha256)
        self.train_data, self.eval_data = (open_split(s.path, self.manifest, k) for k in ("train", "val"))
        for split, data in (("train", self.train_data), ("val", self.eval_data)):
            require(len(data) > s.seq_len + 1, f"task {key}", f"{split} has {len(data)} tokens: too few for seq_len {s.seq_len}")
        self.vocab_size = int(self.manifest["vocab_size"])

    def score(self, metrics: Dict[str, float], prefix: str) -> float:
        return 0.0  # not a benchmark: primary tasks are left out of the score

    @staticmethod
    def extra_metrics(metrics: Dict[str, float], prefix: str) -> Dict[str, float]:
        return {f"{prefix}/ppl": math.exp(min(metrics[f"{prefix}/loss"], 50.0))}
