"""The trusted evaluator's verdicts on the probe stage (evaluate.py; never imports candidate code).

The candidate process runs the probes and sends its records plus the raw outputs the batch and causality
probes compared. Here those two verdicts are computed again from the outputs, and complexity's exponent is
fitted again from the reported cost series; a failure the candidate reports stands (it can only hurt itself).
What stays candidate-reported: load, params, fingerprint and complexity's measured costs themselves.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import torch

from ..spec import RunSpec
from .batch import judge_batch
from .causality import judge_causality
from .common import FLOAT64, TOLERANCE, Precision
from .complexity import fit_exponent

ORDER = ("load", "params", "batch", "causality", "complexity", "fingerprint")
KINDS = {"load": "forward", "params": "params", "batch": "batch_dependent", "causality": "noncausal",
         "complexity": "superlinear", "fingerprint": "forward"}
REJUDGED = ("batch", "causality", "complexity")


def precision_of(record: dict, tensor: torch.Tensor) -> Precision:
    """float64 outputs are judged at float64's tolerance; otherwise the run's own (float32 or bf16 autocast)."""
    if tensor.dtype == torch.float64:
        return FLOAT64
    name = record.get("precision")
    name = name if name in ("float32", "bfloat16-autocast") else "float32"
    return Precision(name, TOLERANCE[name])


def _missing(name: str) -> dict:
    return {"passed": False, "kind": KINDS[name],
            "message": f"the candidate process did not return the {name} probe's outputs"}


def _rejudge(name: str, record: dict, tensors: Dict[str, torch.Tensor], spec: RunSpec) -> dict:
    if name == "batch":
        together, alone = tensors.get("batch.together"), tensors.get("batch.alone")
        if together is None or alone is None:
            return _missing(name)
        return judge_batch(together, alone, precision_of(record, together), record.get("mode") == "train",
                           bool(record.get("stochastic")))
    if name == "causality":
        y = tensors.get("causality.y")
        if y is None:
            return _missing(name)
        return judge_causality(y, spec.probe.seeds, precision_of(record, y))
    lengths = record.get("lengths")
    if not isinstance(lengths, list) or len(lengths) < 2:
        return _missing(name)
    try:
        exponents = {k: round(fit_exponent(lengths, [float(v) for v in record[k]]), 3)
                     for k in ("flops", "elements", "peak_mb")}
    except (KeyError, TypeError, ValueError):
        return _missing(name)
    exponent = max(exponents.values())
    passed = exponent <= spec.probe.max_exponent
    out = {**record, "passed": passed, "exponent": exponent, "exponents": exponents,
           "max_exponent": spec.probe.max_exponent, "costs": "candidate-reported"}
    if not passed:
        out.update(kind="superlinear", message=f"cost grows as L^{exponent:.2f}, over the bound "
                                               f"L^{spec.probe.max_exponent:g}")
    return out


def recheck(spec: RunSpec, probes: Optional[dict], tensors: Dict[str, torch.Tensor]
            ) -> Tuple[dict, Optional[Tuple[str, str]]]:
    """(probe records with the evaluator's verdicts, (kind, message) of the first failure or None)."""
    if not isinstance(probes, dict) or not isinstance(probes.get("load"), dict):
        return {}, ("crash", "the candidate process returned no probe records")
    checked: dict = {}
    for name in ORDER:
        record = probes.get(name)
        if not isinstance(record, dict):
            if probes["load"].get("passed") is True:
                checked[name] = _missing(name)
            continue
        record = {k: v for k, v in record.items()}
        if record.get("passed") is True and name in REJUDGED:
            record = {**record, **_rejudge(name, record, tensors, spec), "judged_by": "evaluator"}
        checked[name] = {**record, "passed": record.get("passed") is True}
    for name in ORDER:
        record = checked.get(name)
        if record is not None and not record["passed"]:
            kind = record.get("kind") if isinstance(record.get("kind"), str) else KINDS[name]
            return checked, (kind, f"{name} probe: {record.get('message', 'failed')}")
    return checked, None
