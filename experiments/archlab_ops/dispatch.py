"""Which backend runs an op: chosen per call, remembered per (op, device, dtype, head sizes).

Backends, in the order `auto` tries them:
  fla    flash-linear-attention's Triton kernels: CUDA only, and only after a one-time self-check on this
         device (a small forward + backward compared with the chunk backend) passed. Any exception or mismatch
         there -> the next backend, with the reason logged once to stderr.
  chunk  the chunked PyTorch form (wrapped in torch.compile on CUDA unless ARCHLAB_OPS_COMPILE=0).
  naive  the plain recurrence: the reference the tests compare against; only when forced.

A backend is forced by the op's `backend=` argument or, failing that, by the ARCHLAB_OPS_BACKEND environment
variable (the harness sets it from the run spec's ops_backend). A forced backend gets no self-check and no
fallback: if it cannot run here, the call raises. An unknown name raises ValueError.
"""
from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import torch

ENV_BACKEND = "ARCHLAB_OPS_BACKEND"
ENV_COMPILE = "ARCHLAB_OPS_COMPILE"
AUTO = "auto"

Inputs = Dict[str, object]   # q, k, v, beta, g, scale, initial_state, output_final_state, chunk_size
Impl = Callable[..., Tuple[torch.Tensor, Optional[torch.Tensor]]]


def _runs_anywhere(op: str, device: torch.device) -> Optional[str]:
    return None


@dataclass(frozen=True)
class Backend:
    """One way to compute the ops. `unavailable(op, device)` says why it cannot run there (None: it can)."""
    name: str
    ops: Mapping[str, Impl]
    unavailable: Callable[[str, torch.device], Optional[str]] = _runs_anywhere
    self_check: bool = False          # auto uses it only after a passing check against the reference
    compile_on_cuda: bool = False     # wrap in torch.compile on CUDA devices


@dataclass(frozen=True)
class Verdict:
    backend: str
    reason: str


@dataclass
class Dispatcher:
    backends: Sequence[Backend]
    auto_order: Sequence[str] = ("fla", "chunk")
    reference: str = "chunk"
    log: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr, flush=True))
    compile_on: Tuple[str, ...] = ("cuda",)     # device types where compile_on_cuda backends are compiled

    def __post_init__(self) -> None:
        self.by_name: Dict[str, Backend] = {b.name: b for b in self.backends}
        missing = [n for n in (*self.auto_order, self.reference) if n not in self.by_name]
        if missing:
            raise ValueError(f"dispatcher names unknown backends: {missing}")
        self._verdicts: Dict[tuple, Verdict] = {}
        self._compiled: Dict[Tuple[str, str], Impl] = {}

    # -- choosing ------------------------------------------------------------------------------------------
    def names(self) -> List[str]:
        return [AUTO, *self.by_name]

    def requested(self, backend: Optional[str] = None) -> str:
        """The backend asked for: the argument, else $ARCHLAB_OPS_BACKEND, else auto."""
        name, source = (backend, "backend=") if backend is not None else (os.environ.get(ENV_BACKEND), ENV_BACKEND)
        if not name:
            return AUTO
        if name not in self.names():
            raise ValueError(f"unknown archlab_ops backend {name!r} (from {source}); "
                             f"choose one of {', '.join(self.names())}")
        return name

    @torch.compiler.disable
    def select(self, op: str, inputs: Inputs, backend: Optional[str] = None) -> str:
        """The backend that will run this call (runs the one-time self-check when auto needs it)."""
        name = self.requested(backend)
        q = inputs["q"]
        if name != AUTO:
            why = self.by_name[name].unavailable(op, q.device)
            if why:
                raise RuntimeError(f"archlab_ops backend {name!r} was forced but cannot run {op} here: {why}")
            return name
        key = self._key(op, inputs)
        if key not in self._verdicts:
            self._verdicts[key] = self._choose(op, inputs, key)
        return self._verdicts[key].backend

    def _choose(self, op: str, inputs: Inputs, key: tuple) -> Verdict:
        skipped = []
        for name in self.auto_order:
            b = self.by_name[name]
            why = b.unavailable(op, inputs["q"].device)
            if why:
                skipped.append(f"{name}: {why}")
                continue
            if b.self_check and name != self.reference:
                failure = self_check(b.ops[op], self.by_name[self.reference].ops[op], op, inputs)
                if failure:
                    self._log_fallback(key, name, f"self-check failed: {failure}")
                    skipped.append(f"{name}: self-check failed: {failure}")
                    continue
                return Verdict(name, "self-check passed")
            return Verdict(name, "; ".join(skipped) or "first choice")
        raise RuntimeError(f"no archlab_ops backend can run {op} here: {'; '.join(skipped)}")

    def _log_fallback(self, key: tuple, name: str, reason: str) -> None:
        """One stderr line per fallback: called once per key, when its verdict is made or changed."""
        op, variant, device, dtype, K, V = key
        fallback = next((n for n in self.auto_order if n != name), self.reference)
        self.log(f"archlab_ops: {name} {op}{variant} on {device} ({dtype}, K={K}, V={V}): {reason}; "
                 f"falling back to {fallback}")

    @staticmethod
    def _key(op: str, inputs: Inputs) -> tuple:
        q, v, g = inputs["q"], inputs["v"], inputs.get("g")
        variant = "/per_dim" if g is not None and g.dim() == 4 else ""
        dtype = str(q.dtype).replace("torch.", "")
        return (op, variant, str(q.device), dtype, q.shape[-1], v.shape[-1])

    # -- running -------------------------------------------------------------------------------------------
    def run(self, op: str, inputs: Inputs,
            backend: Optional[str] = None) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        name = self.select(op, inputs, backend)
        impl = self._impl(name, op, inputs["q"].device)
        if impl is not self.by_name[name].ops[op]:   # torch.compile'd: a compiler failure falls back to eager
            try:
                return impl(**inputs)
            except Exception as exc:
                self.log(f"archlab_ops: torch.compile of {name} {op} failed ({_first_line(exc)}); running it eagerly")
                self._compiled[(name, op)] = impl = self.by_name[name].ops[op]
        if self.requested(backend) != AUTO or not self.by_name[name].self_check:
            return impl(**inputs)
        try:
            return impl(**inputs)
        except Exception as exc:  # a self-checked kernel that still fails on these shapes: fall back for good
            key = self._key(op, inputs)
            reason = f"raised {_first_line(exc)}"
            self._log_fallback(key, name, reason)
            order = [n for n in self.auto_order if n != name]
            self._verdicts[key] = Verdict(order[0] if order else self.reference, f"{name} {reason}")
            return self.run(op, inputs, backend)

    def _impl(self, name: str, op: str, device: torch.device) -> Impl:
        b = self.by_name[name]
        if not (b.compile_on_cuda and device.type in self.compile_on and os.environ.get(ENV_COMPILE, "1") != "0"):
            return b.ops[op]
        if (name, op) not in self._compiled:
            self._compiled[(name, op)] = torch.compile(b.ops[op], dynamic=False)
        return self._compiled[(name, op)]

    def report(self) -> List[dict]:
        """What auto chose so far, and why: one row per (op, device, dtype, head sizes)."""
        return [{"op": op + variant, "device": device, "dtype": dtype, "K": K, "V": V,
                 "backend": v.backend, "reason": v.reason}
                for (op, variant, device, dtype, K, V), v in self._verdicts.items()]

    def forget(self) -> None:
        """Drop remembered choices (tests; a process never needs this)."""
        self._verdicts.clear()


# -- the self-check -------------------------------------------------------------------------------------------
CHECK_SHAPE = dict(B=2, L=100, H=2)   # L crosses a 64-chunk boundary and is not a multiple of it
TOLERANCE = {torch.float32: 0.02, torch.float16: 0.05, torch.bfloat16: 0.05}   # relative RMS error


def self_check(candidate: Impl, reference: Impl, op: str, like: Inputs) -> Optional[str]:
    """Compare candidate with reference (forward, final state, and gradients of every input) on a small
    seeded problem with the head sizes, dtype, device and gate shape of `like`. Returns None when they agree,
    else the reason. Leaves the global RNG, grad mode and autocast state as they were."""
    q = like["q"]
    device, dtype = q.device, q.dtype
    inputs, cotangents = _example(op, like)
    try:
        with torch.enable_grad(), torch.autocast(device_type=device.type, enabled=False):
            ref = _forward_backward(reference, inputs, cotangents)
            try:
                got = _forward_backward(candidate, inputs, cotangents)
            except Exception as exc:
                return _first_line(exc)
    finally:
        for t in inputs.values():
            if isinstance(t, torch.Tensor):
                t.grad = None
    tol = TOLERANCE.get(dtype, 0.05)
    for name, r in ref.items():
        if r is None:
            continue
        err = relative_error(got.get(name), r)
        if not err <= tol:   # also catches NaN
            return f"{name} differs from the chunked form: relative RMS error {err:.3g} > {tol}"
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def relative_error(got: Optional[torch.Tensor], ref: torch.Tensor) -> float:
    if got is None or got.shape != ref.shape:
        return math.inf
    got, ref = got.detach().float(), ref.detach().float()
    return ((got - ref).norm() / ref.norm().clamp_min(1e-12)).item()


def _example(op: str, like: Inputs) -> Tuple[Inputs, dict]:
    q, v, g = like["q"], like["v"], like.get("g")
    B, L, H = CHECK_SHAPE["B"], CHECK_SHAPE["L"], CHECK_SHAPE["H"]
    K, V = q.shape[-1], v.shape[-1]
    gen = torch.Generator().manual_seed(0)

    def rand(*shape, dtype=q.dtype, fn=torch.randn):
        return fn(*shape, generator=gen).to(device=q.device, dtype=dtype).requires_grad_()

    k = torch.randn(B, L, H, K, generator=gen)
    inputs: Inputs = {
        "q": rand(B, L, H, K),
        "k": (k / k.norm(dim=-1, keepdim=True)).to(q.device, q.dtype).requires_grad_(),
        "v": rand(B, L, H, V),
        "beta": rand(B, L, H, fn=torch.rand) if like.get("beta") is not None else None,
        "g": None,
        "scale": K ** -0.5,
        "initial_state": rand(B, H, K, V, dtype=torch.float32),
        "output_final_state": True,
        "chunk_size": 64,
    }
    if g is not None:
        shape = (B, L, H, K) if g.dim() == 4 else (B, L, H)
        raw = torch.nn.functional.logsigmoid(torch.randn(*shape, generator=gen)) / 4
        inputs["g"] = raw.to(q.device).requires_grad_()
    cotangents = {"o": torch.randn(B, L, H, V, generator=gen).to(q.device, q.dtype),
                  "final_state": torch.randn(B, H, K, V, generator=gen).to(q.device)}
    return inputs, cotangents


def _forward_backward(impl: Impl, inputs: Inputs, cotangents: dict) -> Dict[str, torch.Tensor]:
    leaves = {n: t for n, t in inputs.items() if isinstance(t, torch.Tensor) and t.requires_grad}
    for t in leaves.values():
        t.grad = None
    o, final = impl(**inputs)
    loss = (o.float() * cotangents["o"].float()).sum() + (final.float() * cotangents["final_state"]).sum()
    loss.backward()
    out = {"output": o.detach(), "final_state": final.detach()}
    out.update({f"gradient of {n}": t.grad for n, t in leaves.items()})
    return out
