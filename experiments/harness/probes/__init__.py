"""The probe stage (DESIGN §2.5): seconds on CPU that reject broken, non-causal, super-linear and
batch-dependent layers before any training is spent on them.

run_probes(cls, spec, bf16, emit) -> {"probes": {name: record}, "fingerprint": str | None,
                                      "rejection": CandidateError | None,
                                      "tensors": {name: tensor}}
"tensors" are the raw outputs the batch and causality probes judged: the trusted evaluator judges them again
(probes/recheck.py) rather than believe the records.

Every record is JSON: {"passed": bool, "s": seconds, ...numbers}, plus "kind" and "message" when it failed.
Order: load (nothing else runs if it fails), params, batch, causality, complexity, fingerprint; every probe
after load runs even when an earlier one failed, so a rejected candidate's record says all that is wrong with
it. The rejection is the first failure in that order.
"""
from __future__ import annotations

import math
import time
from typing import Callable, Optional

import torch

from ..result import CandidateError
from ..spec import RunSpec
from .batch import probe_batch
from .budget import probe_params
from .causality import LENGTH as CAUSALITY_LENGTH, probe_causality
from .common import Candidate, Precision
from .complexity import probe_complexity
from .fingerprint import probe_fingerprint
from .load import probe_load

__all__ = ["run_probes", "KINDS"]

# the error.kind of a failed probe (a probe may name another, e.g. complexity -> nonfinite at long L)
KINDS = {"load": "forward", "params": "params", "batch": "batch_dependent", "causality": "noncausal",
         "complexity": "superlinear", "fingerprint": "forward"}


def run_probes(cls: type, spec: RunSpec, bf16: bool, emit: Callable[[dict], None] = lambda event: None) -> dict:
    # The probes are thousands of small ops: a second intra-op thread buys nothing, and on shared cores its
    # barrier waits made them 4x slower (measured at load 8 on 2 cores). One thread also fixes reduction order.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run_probes(cls, spec, bf16, emit)
    finally:
        torch.set_num_threads(threads)


def _run_probes(cls: type, spec: RunSpec, bf16: bool, emit: Callable[[dict], None]) -> dict:
    probes: dict = {}
    tensors: dict = {}
    rejection: Optional[CandidateError] = None

    def run(name: str, fn: Callable[[], dict]) -> dict:
        nonlocal rejection
        emit({"event": "probe", "probe": name, "state": "start"})
        started = time.perf_counter()
        try:
            record = fn()
            tail = ""
        except CandidateError as exc:
            record = {"passed": False, "kind": exc.kind, "message": exc.message}
            tail = exc.tail
        tensors.update(record.pop("_tensors", {}))
        record["s"] = round(time.perf_counter() - started, 3)
        if not record["passed"]:
            record.setdefault("kind", KINDS[name])
            if rejection is None:
                rejection = CandidateError(record["kind"], f"{name} probe: {record['message']}",
                                           status="failed" if record["kind"] == "oom" else "rejected", tail=tail)
        probes[name] = _json(record)
        emit({"event": "probe", "probe": name, "state": "done", "passed": record["passed"], "s": record["s"],
              **({"kind": record["kind"]} if not record["passed"] else {})})
        return record

    model, p = spec.model, spec.probe
    try:
        cand = Candidate(cls, model.hidden_size, model.num_heads, dict(spec.layer.kwargs), spec.seed, spec.device,
                         bf16)
    except CandidateError as exc:
        probes["load"] = {"passed": False, "kind": exc.kind, "message": exc.message, "s": 0.0}
        return {"probes": probes, "fingerprint": None, "rejection": exc, "tensors": tensors}
    if not run("load", lambda: probe_load(cand))["passed"]:
        return {"probes": probes, "fingerprint": None, "rejection": rejection, "tensors": tensors}
    run("params", lambda: probe_params(cand, p.max_params))
    precision: Precision = cand.probe_precision(CAUSALITY_LENGTH)
    batch = run("batch", lambda: probe_batch(cand, precision))
    # rows of one batch are only independent calls when the layer is batch-independent and deterministic
    batched = batch["passed"] and not batch.get("stochastic", True)
    run("causality", lambda: probe_causality(cand, precision, p.seeds, batched=batched))
    run("complexity", lambda: probe_complexity(cand, p.lengths, p.max_exponent))
    fingerprint = run("fingerprint", lambda: probe_fingerprint(cand, precision)).get("fingerprint")
    return {"probes": probes, "fingerprint": fingerprint, "rejection": rejection, "tensors": tensors}


def _json(value):
    """Plain JSON values only: NaN/inf become None, tuples lists, numpy/torch scalars Python numbers."""
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item"):
        return _json(value.item())
    return str(value)
