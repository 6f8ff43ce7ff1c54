"""fingerprint: a hash of the layer's outputs on a fixed seeded input, so that later stages can recognise a
candidate that behaves exactly like an archived one whatever its code looks like.

The layer is built under the run's seed (equal code + equal seed = equal weights) and run in the probes'
precision (float64 when it allows). Outputs are scaled by their max |y| and rounded to DECIMALS decimals
before hashing: float noise between machines or BLAS builds (~1e-15 in float64) only changes the hash if a
value sits within that noise of a rounding boundary (P ~ 1e-7 for the 8,192 values hashed), while two layers
that compute different things differ far above 1e-4 of the scale.
"""
from __future__ import annotations

import hashlib

import torch

from .common import Candidate, Precision, check_finite

BATCH, LENGTH, SEED, DECIMALS = 2, 64, 31337, 4


def probe_fingerprint(cand: Candidate, precision: Precision) -> dict:
    y = cand.call(cand.input(BATCH, LENGTH, seed=SEED), precision).double().cpu()
    check_finite(y, "on the fingerprint input")
    scale = float(y.abs().max())
    q = torch.round(y / max(scale, 1e-30) * 10 ** DECIMALS).to(torch.int64)
    digest = hashlib.sha256()
    digest.update(repr((tuple(q.shape), DECIMALS)).encode())
    digest.update(q.numpy().tobytes())
    return {"passed": True, "fingerprint": "sha256:" + digest.hexdigest()[:32], "precision": precision.name,
            "scale": scale, "batch": BATCH, "length": LENGTH, "decimals": DECIMALS}
