"""budget (kind params): the mixer's parameter count at the stage's model size against ProbeSpec.max_params,
the most parameters one mixer layer may have (None: no budget, the count is still recorded)."""
from __future__ import annotations

from typing import Optional

from .common import Candidate, count_params


def probe_params(cand: Candidate, max_params: Optional[int]) -> dict:
    params = count_params(cand.layer)
    record = {"passed": max_params is None or params <= max_params, "params": params, "max_params": max_params}
    if not record["passed"]:
        record["message"] = f"mixer has {params:,} parameters, over the stage's budget of {max_params:,}"
    return record
