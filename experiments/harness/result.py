"""The result file: exactly one per run, written atomically. Mirrors src/contracts/result.ts."""
from __future__ import annotations

import json
import math
import os
import platform
import traceback
from typing import Any, Optional

import torch

SCHEMA = "archlab.result/1"
STATUSES = ("ok", "rejected", "failed", "timeout")
TAIL_CHARS = 4000


class CandidateError(Exception):
    """A failure the candidate caused: becomes status rejected/failed with error.kind, never a crash."""

    def __init__(self, kind: str, message: str, status: str = "rejected", tail: str = "", **numbers: Any):
        super().__init__(message)
        self.kind, self.message, self.status, self.tail, self.numbers = kind, message, status, tail, numbers


def traceback_tail(exc: BaseException, limit: int = TAIL_CHARS) -> str:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return text[-limit:]


def environment(device: str, dtype: str, seed: int, fla: str) -> dict:
    return {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": device if device == "cpu" else torch.cuda.get_device_name(0),
        "dtype": dtype,
        "seed": seed,
        "threads": torch.get_num_threads(),
        "fla": fla,
    }


def new_result(stage: str, env: dict) -> dict:
    return {
        "schema": SCHEMA,
        "stage": stage,
        "status": "ok",
        "error": None,
        "probes": None,
        "fingerprint": None,
        "curve": [],
        "metrics": {},
        "params": None,
        "tokens_per_s": None,
        "wall_s": 0.0,
        "device_s": None,
        "env": env,
        "sandboxed": None,            # set by the trusted evaluator (evaluate.py)
        "candidate_reported": [],     # fields copied from the candidate process rather than computed outside it
        "eval_causality": None,       # prefix-only against full-sequence logits on sampled held-out positions
        "monitor": [],                # [{step, loss}]: held-out loss while training, computed by the evaluator
    }


def set_error(result: dict, status: str, kind: str, message: str, tail: str = "") -> dict:
    assert status in STATUSES
    result["status"] = status
    result["error"] = {"kind": kind, "message": message.strip().splitlines()[0][:500] if message.strip() else kind,
                       "tail": tail[-TAIL_CHARS:]}
    return result


def write_result(result: dict, path: str) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(finite(result), f, indent=1, allow_nan=False, default=_jsonable)
    os.replace(tmp, path)


def finite(value: Any) -> Any:
    """NaN and inf have no JSON spelling: they become null (the error says why)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def _jsonable(value: Any) -> Optional[Any]:
    if isinstance(value, torch.Tensor):
        return value.item() if value.numel() == 1 else value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
