"""complexity (kind superlinear): how the cost of one forward grows with the sequence length L.

At each length (ProbeSpec.lengths, 256 -> 4096 by default) one forward at batch 1 with autograd on is measured
(cost.py): FLOPs, elements written, and peak activation bytes. Each series' exponent is the least-squares
slope of log cost against log L over the three longest lengths, where fixed per-call costs no longer hide the
asymptote (causal softmax attention at d=64 measures 1.94 there and 1.8 over 256..4096). The decisive exponent
is the largest of the three: FLOPs miss quadratic elementwise work, memory misses quadratic work done in a
loop. Outputs must be finite at every length (kind nonfinite: a layer that overflows at long L).
A layer whose next length would exhaust memory or time stops early and is judged on the lengths it ran.
"""
from __future__ import annotations

import math
import time
from typing import Dict, List, Sequence

import torch

from .common import Candidate
from .cost import measure_cost

FIT_POINTS = 3
MAX_NEXT_MB = 512        # stop growing L when the next length would hold more than this in activations
MAX_NEXT_S = 10.0        # ... or take longer than this (both extrapolated from the fitted exponents)


def fit_exponent(lengths: Sequence[int], values: Sequence[float]) -> float:
    """Least-squares slope of log(value) on log(L) over the last FIT_POINTS points (all when fewer)."""
    pts = [(math.log(l), math.log(v)) for l, v in zip(lengths, values) if v > 0][-FIT_POINTS:]
    if len(pts) < 2:
        return 0.0
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    num = sum((px - mx) * (py - my) for px, py in pts)
    den = sum((px - mx) ** 2 for px, _ in pts)
    return num / den


def probe_complexity(cand: Candidate, lengths: Sequence[int], max_exponent: float) -> dict:
    if len(set(lengths)) < 2:
        raise ValueError(f"probe.lengths needs at least two distinct lengths, got {list(lengths)}")
    done: List[int] = []
    series: Dict[str, List[float]] = {"flops": [], "elements": [], "peak_mb": [], "wall_s": []}
    exponents: Dict[str, float] = {}
    stopped = nonfinite_at = None
    for index, length in enumerate(sorted(lengths)):
        mixer = cand.fresh()
        x = cand.input(1, length, seed=7)
        started = time.perf_counter()
        with measure_cost() as m:
            out = cand.call(x, cand.native, grad=True, mixer=mixer)
        wall = round(time.perf_counter() - started, 4)
        finite = bool(torch.isfinite(out).all())
        del out, mixer
        if not finite:
            nonfinite_at = length
            break
        done.append(length)
        series["wall_s"].append(wall)
        series["flops"].append(m.cost.flops)
        series["elements"].append(m.cost.elements)
        series["peak_mb"].append(round(m.cost.peak_bytes / 2 ** 20, 3))
        exponents = {k: round(fit_exponent(done, series[k]), 3) for k in ("flops", "elements", "peak_mb")}
        if index + 1 < len(lengths) and len(done) >= FIT_POINTS:
            ratio = sorted(lengths)[index + 1] / length
            next_mb = series["peak_mb"][-1] * ratio ** exponents["peak_mb"]
            next_s = series["wall_s"][-1] * ratio ** max(exponents.values())
            if next_mb > MAX_NEXT_MB or next_s > MAX_NEXT_S:
                stopped = length
                break
    exponent = max(exponents.values()) if len(done) >= 2 else 0.0
    record = {"passed": exponent <= max_exponent, "exponent": exponent, "max_exponent": max_exponent,
              "exponents": exponents, "lengths": done, **series, "stopped_at": stopped,
              "precision": cand.native.name}
    if nonfinite_at is not None:
        record.update(passed=False, kind="nonfinite", nonfinite_at=nonfinite_at,
                      message=f"outputs are not finite at length {nonfinite_at}")
    elif not record["passed"]:
        which = max(exponents, key=exponents.get)
        record["message"] = (f"cost grows as L^{exponent:.2f} ({which}, lengths {done[0]}..{done[-1]}), over the "
                             f"bound L^{max_exponent:g}")
    return record
