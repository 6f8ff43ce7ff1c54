"""batch independence (kind batch_dependent): each sample's output alone equals its output inside a larger
batch (BatchNorm over the batch, statistics pooled across samples, and state shared between rows all fail)."""
from __future__ import annotations

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
    leaks = []
    for i in range(BATCH):
        alone = cand.call(x[i:i + 1], precision, train=train)
        leaks.append(relative_max(together[i] - alone[0], together[i]))
    worst = max(range(BATCH), key=lambda i: leaks[i])
    record = {"passed": leaks[worst] <= precision.tolerance, "max_diff": leaks[worst],
              "tolerance": precision.tolerance, "precision": precision.name, "batch": BATCH, "length": LENGTH,
              "mode": "train" if train else "eval", "stochastic": stochastic}
    if not record["passed"]:
        record["message"] = (f"sample {worst}'s output differs by {leaks[worst]:.2e} (relative; tolerance "
                             f"{precision.tolerance:.0e}) between running alone and in a batch of {BATCH}")
    return record
