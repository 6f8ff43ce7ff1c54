"""What every probe shares: a pristine candidate, fresh copies of it, and calls in a chosen precision.

Candidates are stateful (ASI-Arch's layers count their calls in a buffer and change their gates with it) and
may use dropout or draw random numbers in forward. So every call gets a fresh deep copy of one pristine
instance, the same RNG seed and dropout switched off: two calls on equal inputs give equal outputs, and any
difference a probe sees comes from the input it changed.
"""
from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from typing import Iterator, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_map

from ..loader import Mixer, build_mixer, is_out_of_memory
from ..result import CandidateError, traceback_tail
from ..train import autocast_for

CALL_SEED = 1234     # RNG state at the start of every probe call (dropout is off; this covers torch.rand in forward)

# The largest output difference, relative to the output's scale (max |y|), that float rounding can produce
# between two calls whose inputs agree on the compared positions. Above it, the layer really reads the
# changed input.
#  - float64: unit roundoff 1.1e-16; a layer that is exactly causal gives bit-equal past outputs (masked terms
#    are exact zeros), and the only rounding that can reach the past is from whole-sequence transforms such as
#    an FFT convolution (~1e-15). 1e-9 leaves six orders of margin below and still sees a leak of 1e-9 of the
#    signal (a whole-sequence normalisation over 160 tokens moves the past by ~1e-3).
#  - float32 (a layer that cannot run in float64): roundoff 6e-8, an FFT over a few thousand points ~1e-6.
#  - bfloat16 autocast: one bf16 rounding flip downstream of float32 noise moves a value by 2^-8 = 3.9e-3.
TOLERANCE = {"float64": 1e-9, "float32": 1e-5, "bfloat16-autocast": 2e-2}

_DROPOUTS = ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout")


@contextlib.contextmanager
def no_dropout() -> Iterator[None]:
    """Dropout (functional or nn.Dropout, both call F.*) becomes the identity for the duration."""
    saved = {name: getattr(F, name) for name in _DROPOUTS}
    try:
        for name in _DROPOUTS:
            setattr(F, name, lambda input, *args, **kwargs: input)
        yield
    finally:
        for name, fn in saved.items():
            setattr(F, name, fn)


_LOW = {torch.float16: torch.float64, torch.bfloat16: torch.float64, torch.float32: torch.float64,
        torch.complex32: torch.complex128, torch.complex64: torch.complex128}


class Float64Mode(TorchDispatchMode):
    """Runs every aten op in float64: lower-precision float inputs are upcast and dtype= requests for a lower
    float type become float64. A layer that casts to bfloat16 on purpose (ASI-Arch's `inv.to(torch.bfloat16)`)
    then computes in float64 too: its structure, which the probes test, is unchanged; only rounding goes."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False  # candidates never compile on CPU: skip importing torch._dynamo (seconds) and its per-op wrapper

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if kwargs.get("dtype") in _LOW:
            kwargs["dtype"] = _LOW[kwargs["dtype"]]
        up = lambda t: t.to(_LOW[t.dtype]) if isinstance(t, torch.Tensor) and t.dtype in _LOW else t  # noqa: E731
        return func(*tree_map(up, args), **tree_map(up, kwargs))


@dataclass
class Precision:
    name: str                      # float64 | float32 | bfloat16-autocast
    tolerance: float


def precision_for(bf16: bool) -> Precision:
    name = "bfloat16-autocast" if bf16 else "float32"
    return Precision(name, TOLERANCE[name])


FLOAT64 = Precision("float64", TOLERANCE["float64"])


class Candidate:
    """One pristine instance of the candidate at the stage's size, and calls on fresh copies of it."""

    def __init__(self, cls: type, hidden_size: int, num_heads: int, kwargs: dict, seed: int, device: str,
                 bf16: bool):
        self.hidden_size, self.device, self.bf16 = hidden_size, device, bf16
        torch.manual_seed(seed)
        self.layer = build_mixer(cls, hidden_size, num_heads, 0, kwargs).to(device)
        self.layer.train()
        self.native = precision_for(bf16)

    def fresh(self, precision: Optional[Precision] = None, train: bool = True) -> Mixer:
        layer = copy.deepcopy(self.layer)
        if precision is not None and precision.name == "float64":
            layer = layer.double()
        return Mixer(layer.train(train))

    def input(self, batch: int, length: int, seed: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """A unit-variance input like a pre-norm block gives its mixer."""
        gen = torch.Generator().manual_seed(seed)
        return torch.randn(batch, length, self.hidden_size, generator=gen).to(self.device, dtype)

    def call(self, x: torch.Tensor, precision: Precision, grad: bool = False, mixer: Optional[Mixer] = None,
             train: bool = True, seed: int = CALL_SEED) -> torch.Tensor:
        """Output of a fresh copy (in training mode unless train=False) on x, cast to the precision's dtype;
        raises CandidateError (forward) for the candidate's failures."""
        mixer = mixer or self.fresh(precision, train)
        torch.manual_seed(seed)
        with contextlib.ExitStack() as stack:
            stack.enter_context(no_dropout())
            if not grad:
                stack.enter_context(torch.no_grad())
            if precision.name == "float64":
                x = x.double()
                stack.enter_context(Float64Mode())
            else:
                x = x.float()
                stack.enter_context(autocast_for(self.device, precision.name == "bfloat16-autocast"))
            try:
                out, _ = mixer(x)
            except CandidateError:
                raise
            except Exception as exc:  # Mixer maps the usual errors; anything else in forward is still the layer's
                if is_out_of_memory(exc):
                    raise CandidateError("oom", f"out of memory in forward: {exc}", status="failed",
                                         tail=traceback_tail(exc))
                raise CandidateError("forward", f"forward failed: {type(exc).__name__}: {exc}",
                                     tail=traceback_tail(exc))
        return out

    def probe_precision(self, length: int = 16) -> Precision:
        """float64 when the layer runs in it (under Float64Mode), else the run's own precision."""
        try:
            self.call(self.input(1, length, 0), FLOAT64)
            return FLOAT64
        except CandidateError:
            return self.native


def is_stochastic(cand: Candidate, precision: Precision, length: int = 64) -> bool:
    """Whether training-mode outputs depend on the RNG (noise injection; dropout is already off). Such a layer
    draws different noise for a batch of 3 than for 1 sample, so batch independence is judged in eval mode and
    causality one sample per call (equal shapes and seed: equal noise)."""
    x = cand.input(1, length, seed=5)
    a, b = cand.call(x, precision, seed=CALL_SEED), cand.call(x, precision, seed=CALL_SEED + 1)
    return relative_max(a - b, a) > precision.tolerance


def relative_max(diff: torch.Tensor, scale: torch.Tensor) -> float:
    return float(diff.abs().max() / scale.abs().max().clamp_min(1e-30)) if diff.numel() else 0.0


def check_finite(out: torch.Tensor, where: str) -> None:
    if not torch.isfinite(out).all():
        bad = (~torch.isfinite(out)).sum().item()
        raise CandidateError("nonfinite", f"{bad} of {out.numel()} outputs are not finite {where}")


def count_params(layer: nn.Module) -> int:
    return sum(p.numel() for p in layer.parameters())
