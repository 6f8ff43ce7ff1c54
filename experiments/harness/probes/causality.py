"""causality (kind noncausal): changing the input at position t must leave every output before t unchanged.

Each seed draws one input; each perturbed copy replaces position t with a fresh random vector. The positions
cover the start, mid-chunk and chunk-boundary positions for the chunk sizes layers use (16, 32, 64 on a
length that is not a multiple of 64, so the last chunk is padded) and the last position. A leak is a past
output that moved by more than the precision's tolerance (common.TOLERANCE) relative to the output's scale.
"""
from __future__ import annotations

from typing import List

import torch

from .common import Candidate, Precision, check_finite

LENGTH = 160
# 1: the first past; 40, 100: mid-chunk; 64: first 64-boundary; 128: last 32/64 boundary; 144: last
# 16-boundary; 159: the last position, whose past is the whole sequence.
POSITIONS = (1, 40, 64, 100, 128, 144, LENGTH - 1)


def perturbed_inputs(cand: Candidate, seeds: int) -> torch.Tensor:
    """[seeds * (1 + len(POSITIONS)), LENGTH, D]: per seed the base input, then one copy per position."""
    rows: List[torch.Tensor] = []
    for seed in range(seeds):
        base = cand.input(1, LENGTH, seed=100 + seed)[0]
        fresh = cand.input(1, len(POSITIONS), seed=200 + seed)[0]
        rows.append(base)
        for i, t in enumerate(POSITIONS):
            row = base.clone()
            row[t] = fresh[i]
            rows.append(row)
    return torch.stack(rows)


def probe_causality(cand: Candidate, precision: Precision, seeds: int, batched: bool) -> dict:
    """batched: run all rows in one call (only when the batch-independence probe passed)."""
    x = perturbed_inputs(cand, seeds)
    if batched:
        y = cand.call(x, precision)
    else:
        y = torch.cat([cand.call(x[i:i + 1], precision) for i in range(x.shape[0])])
    check_finite(y, f"in the causality probe (length {LENGTH})")
    record = judge_causality(y, seeds, precision)
    record["_tensors"] = {"causality.y": y}   # sent to the trusted evaluator, which judges them again
    return record


def judge_causality(y: torch.Tensor, seeds: int, precision: Precision) -> dict:
    """The verdict from the outputs alone (the trusted evaluator calls this on the outputs it received)."""
    group = 1 + len(POSITIONS)
    if tuple(y.shape[:2]) != (seeds * group, LENGTH) or y.dim() != 3 or not torch.isfinite(y).all():
        return {"passed": False, "kind": "noncausal", "length": LENGTH,
                "message": f"the causality probe's outputs have shape {tuple(y.shape)} or are not finite"}
    max_leak, worst_t, first_pos, lookahead = 0.0, None, None, 0
    for seed in range(seeds):
        base = y[seed * group]
        scale = float(base.abs().max().clamp_min(1e-30))
        for i, t in enumerate(POSITIONS):
            moved = (y[seed * group + 1 + i, :t] - base[:t]).abs().amax(dim=-1) / scale  # per past position
            leak = float(moved.max())
            if leak > max_leak:
                max_leak, worst_t = leak, t
            leaking = torch.nonzero(moved > precision.tolerance).flatten()
            if leaking.numel():
                p = int(leaking[0])
                first_pos = p if first_pos is None else min(first_pos, p)
                lookahead = max(lookahead, t - p)
    record = {"passed": first_pos is None, "max_leak": max_leak, "tolerance": precision.tolerance,
              "precision": precision.name, "first_leak_offset": first_pos, "perturbed_at": worst_t,
              "lookahead": lookahead, "length": LENGTH, "positions": list(POSITIONS), "seeds": seeds}
    if not record["passed"]:
        record["message"] = (f"outputs before position t move when the input at t changes: the first leaking "
                             f"position is {first_pos}, up to {lookahead} token(s) ahead, max leak {max_leak:.2e} "
                             f"(relative to the output's scale; tolerance {precision.tolerance:.0e})")
    return record
