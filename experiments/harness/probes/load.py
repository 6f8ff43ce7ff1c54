"""load: the candidate constructs with keyword-only arguments, runs forward and backward at a tiny size, and
its outputs and gradients are finite. Kinds: construct, forward, backward, nonfinite (syntax, import and
missing_class are raised by loader.load_layer_class before any probe runs)."""
from __future__ import annotations

import torch

from ..result import CandidateError, traceback_tail
from .common import Candidate, check_finite

BATCH, LENGTH = 2, 32


def probe_load(cand: Candidate) -> dict:
    mixer = cand.fresh()
    x = cand.input(BATCH, LENGTH, seed=0)
    out = cand.call(x, cand.native, grad=True, mixer=mixer)
    check_finite(out, f"at batch {BATCH}, length {LENGTH}")
    try:
        out.float().square().mean().backward()
    except Exception as exc:  # any failure inside autograd is the candidate's
        raise CandidateError("backward", f"backward failed: {type(exc).__name__}: {exc}", tail=traceback_tail(exc))
    grads = [(name, p.grad) for name, p in mixer.layer.named_parameters() if p.grad is not None]
    bad = [name for name, g in grads if not torch.isfinite(g).all()]
    if bad:
        raise CandidateError("nonfinite", f"gradient of {bad[0]} is not finite"
                             + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""))
    trainable = sum(1 for p in mixer.layer.parameters() if p.requires_grad)
    return {"passed": True, "batch": BATCH, "length": LENGTH, "precision": cand.native.name,
            "params_with_grad": len(grads), "params_trainable": trainable}
