"""Adapters onto flash-linear-attention's Triton kernels (optional: `pip install flash-linear-attention`).

Each adapter takes the same keywords as the chunk and naive backends and calls the fla kernel with keywords
in fla's [B, L, H, D] layout (passing head_first=False where the installed version still has that argument).
The dispatcher uses these only on CUDA and only after a self-check against the chunked form passed for the
op, device, dtype and head sizes at hand (dispatch.py), since some fla/Triton/GPU combinations raise or
return wrong gradients (fla 0.5.2's Gated DeltaNet on Hopper with Triton 3.6).
"""
from __future__ import annotations

import importlib
import inspect
from typing import Callable, Dict, Optional, Tuple

import torch

# op -> (fla module, function name)
KERNELS: Dict[str, Tuple[str, str]] = {
    "delta_rule": ("fla.ops.delta_rule", "chunk_delta_rule"),
    "gated_delta_rule": ("fla.ops.gated_delta_rule", "chunk_gated_delta_rule"),
    "linear_attention": ("fla.ops.simple_gla", "chunk_simple_gla"),
    "decayed_linear_attention": ("fla.ops.simple_gla", "chunk_simple_gla"),     # g [B, L, H]
    "decayed_linear_attention/per_dim": ("fla.ops.gla", "chunk_gla"),          # g [B, L, H, K]
}


def kernel_name(op: str, g: Optional[torch.Tensor]) -> str:
    return f"{op}/per_dim" if op == "decayed_linear_attention" and g is not None and g.dim() == 4 else op


def load_kernel(name: str) -> Callable:
    """The fla function for a kernel name; raises ImportError/AttributeError when it is not there."""
    module, function = KERNELS[name]
    return getattr(importlib.import_module(module), function)


def unavailable(op: str, device: torch.device) -> Optional[str]:
    """Why fla cannot run this op here, or None."""
    if device.type != "cuda":
        return "fla's Triton kernels need a CUDA device"
    try:
        load_kernel(kernel_name(op, None))
    except Exception as exc:  # not installed, or a broken install (triton missing, version mismatch)
        return f"flash-linear-attention is not importable ({type(exc).__name__}: {exc})"
    return None


def _call(fn: Callable, **kwargs):
    params = inspect.signature(fn).parameters
    if "head_first" in params:
        kwargs["head_first"] = False
    return fn(**kwargs)


def run(op: str, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, beta: Optional[torch.Tensor] = None,
        g: Optional[torch.Tensor] = None, scale: float, initial_state: Optional[torch.Tensor] = None,
        output_final_state: bool = False, chunk_size: int = 64):
    del chunk_size  # fla picks its own chunk size
    name = kernel_name(op, g)
    fn = load_kernel(name)
    dtype = q.dtype  # fla wants one dtype for q, k, v (some kernels refuse float32: the self-check sees that)
    q, k, v = q, k.to(dtype), v.to(dtype)
    state = None if initial_state is None else initial_state.float()
    common = dict(q=q, k=k, v=v, scale=scale, initial_state=state, output_final_state=output_final_state)
    if op in ("delta_rule", "gated_delta_rule"):
        common["beta"] = beta.to(dtype)
    if g is not None:
        common["g"] = g.float()
    o, final = _call(fn, **common)
    return o, final


def adapters() -> Dict[str, Callable]:
    """op -> adapter, for the dispatcher's backend table."""
    def bind(op: str) -> Callable:
        def adapter(q, k, v, **kwargs):
            return run(op, q, k, v, **kwargs)
        adapter.__name__ = f"fla_{op}"
        return adapter
    return {op: bind(op) for op in ("delta_rule", "gated_delta_rule", "linear_attention",
                                    "decayed_linear_attention")}
