"""batch independence (kind batch_dependent): each sample's output alone equals its output inside a larger
batch (BatchNorm over the batch, statistics pooled across samples, and state shared between rows all fail)."""
from __future__ import annotations

import torch

from .common import Candidate, Precision, check_finite, is_stochastic, relative_max

BATCH, LENGTH = 3, 64


def probe_batch(cand: Candidate, precision: Precision) -> dict:
    """A layer whose training-mode output depends on the RNG (common.is_stochastic) is compared in eval mode,
    where noise is off by convention (training-mode BatchNorm is then not seen); any other in training mode."""
    stochastic = is_stochastic(cand, precision)
    train = not stochastic
    x = cand.input(BATCH, LENGTH, seed=11)
    together = cand.call(x, precision, train=train)
    check_finite(together, f"in the batch-independence probe (batch {BATCH}, length {LENGTH})")
    alone = torch.cat([cand.call(x[i:i + 1], precision, train=train) for i in range(BATCH)])
    record = judge_batch(together, alone, precision, train, stochastic)
    record["_tensors"] = {"batch.together": together, "batch.alone": alone}  # judged again by the evaluator
    return record


def judge_batch(together: torch.Tensor, alone: torch.Tensor, precision: Precision, train: bool,
                stochastic: bool) -> dict:
    """The verdict from the outputs alone (the trusted evaluator calls this on the outputs it received)."""
    if together.shape != alone.shape or together.shape[:2] != (BATCH, LENGTH) or not torch.isfinite(alone).all():
        return {"passed": False, "kind": "batch_dependent", "batch": BATCH, "length": LENGTH,
                "message": f"the batch probe's outputs have shapes {tuple(together.shape)}, {tuple(alone.shape)}"}
    leaks = [relative_max(together[i] - alone[i], together[i]) for i in range(BATCH)]
    worst = max(range(BATCH), key=lambda i: leaks[i])
    record = {"passed": leaks[worst] <= precision.tolerance, "max_diff": leaks[worst],
              "tolerance": precision.tolerance, "precision": precision.name, "batch": BATCH, "length": LENGTH,
              "mode": "train" if train else "eval", "stochastic": stochastic}
    if not record["passed"]:
        record["message"] = (f"sample {worst}'s output differs by {leaks[worst]:.2e} (relative; tolerance "
                             f"{precision.tolerance:.0e}) between running alone and in a batch of {BATCH}")
    return record
