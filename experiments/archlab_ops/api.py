"""The public sequence ops: check the inputs, then hand them to the dispatcher (dispatch.py).

Conventions for all four (also in README.md):
  q, k      [B, L, H, K]     v [B, L, H, V]     beta [B, L, H]     state [B, H, K, V] (float32)
  scale     multiplies q; default K ** -0.5
  q, k      used as given: l2-normalise them yourself (archlab_ops.l2norm) where the rule needs it
  returns   (o [B, L, H, V] in q's dtype, final state [B, H, K, V] float32 or None)
  backend   None (auto: fla when installed and self-checked on this device, else chunk), or a forced name
  chunk_size  chunk length of the chunked form; None: 64 on CUDA, 32 elsewhere
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch

from . import fla_backend
from .delta_rule import chunk_delta_rule, naive_delta_rule
from .dispatch import Backend, Dispatcher
from .linear_attention import chunk_linear_attention, naive_linear_attention

Out = Tuple[torch.Tensor, Optional[torch.Tensor]]

DISPATCH = Dispatcher([
    Backend("fla", fla_backend.adapters(), unavailable=fla_backend.unavailable, self_check=True),
    Backend("chunk", {"delta_rule": chunk_delta_rule, "gated_delta_rule": chunk_delta_rule,
                      "linear_attention": chunk_linear_attention,
                      "decayed_linear_attention": chunk_linear_attention}, compile_on_cuda=True),
    Backend("naive", {"delta_rule": naive_delta_rule, "gated_delta_rule": naive_delta_rule,
                      "linear_attention": naive_linear_attention,
                      "decayed_linear_attention": naive_linear_attention}),
], auto_order=("fla", "chunk"), reference="chunk")


def delta_rule(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, beta: torch.Tensor, *,
               scale: Optional[float] = None, initial_state: Optional[torch.Tensor] = None,
               output_final_state: bool = False, chunk_size: Optional[int] = None,
               backend: Optional[str] = None) -> Out:
    """DeltaNet's rule: S_t = S_{t-1} + k_t [beta_t (v_t - S_{t-1}^T k_t)]^T, o_t = S_t^T (scale q_t).

    q, k [B, L, H, K] (k should be l2-normalised, beta in (0, 1) or (0, 2) for a stable state), v [B, L, H, V],
    beta [B, L, H]. Returns (o [B, L, H, V], final state [B, H, K, V] or None)."""
    _check_qkv(q, k, v, initial_state, chunk_size)
    _check_shape("beta", beta, q.shape[:3], "[B, L, H]")
    return DISPATCH.run("delta_rule", _inputs(q, k, v, beta, None, scale, initial_state, output_final_state,
                                              chunk_size), backend)


def gated_delta_rule(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, g: torch.Tensor, beta: torch.Tensor, *,
                     scale: Optional[float] = None, initial_state: Optional[torch.Tensor] = None,
                     output_final_state: bool = False, chunk_size: Optional[int] = None,
                     backend: Optional[str] = None) -> Out:
    """Gated DeltaNet's rule: S_t = exp(g_t) (I - beta_t k_t k_t^T) S_{t-1} + beta_t k_t v_t^T, o_t = S_t^T (scale q_t).

    g [B, L, H] is a log-decay (<= 0; e.g. -exp(A_log) * softplus(a_proj(x) + dt_bias)), beta [B, L, H]."""
    _check_qkv(q, k, v, initial_state, chunk_size)
    _check_shape("g", g, q.shape[:3], "[B, L, H]")
    _check_shape("beta", beta, q.shape[:3], "[B, L, H]")
    return DISPATCH.run("gated_delta_rule", _inputs(q, k, v, beta, g, scale, initial_state, output_final_state,
                                                    chunk_size), backend)


def linear_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, scale: Optional[float] = None,
                     initial_state: Optional[torch.Tensor] = None, output_final_state: bool = False,
                     chunk_size: Optional[int] = None, backend: Optional[str] = None) -> Out:
    """Causal linear attention without normalisation: S_t = S_{t-1} + k_t v_t^T, o_t = S_t^T (scale q_t).
    Apply the feature map (e.g. elu + 1) to q, k first; divide by q_t . sum_{s<=t} k_s yourself if wanted."""
    _check_qkv(q, k, v, initial_state, chunk_size)
    return DISPATCH.run("linear_attention", _inputs(q, k, v, None, None, scale, initial_state,
                                                    output_final_state, chunk_size), backend)


def decayed_linear_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, g: torch.Tensor, *,
                             scale: Optional[float] = None, initial_state: Optional[torch.Tensor] = None,
                             output_final_state: bool = False, chunk_size: Optional[int] = None,
                             backend: Optional[str] = None) -> Out:
    """Linear attention with a log-decay g <= 0: S_t = diag(exp(g_t)) S_{t-1} + k_t v_t^T, o_t = S_t^T (scale q_t).

    g is one of:  [H]           fixed per head (RetNet: log(1 - 2^(-5-h)))
                  [B, L, H]     data-dependent per head (Mamba2 / simple GLA)
                  [B, L, H, K]  data-dependent per key dimension (GLA), decaying the rows of S."""
    _check_qkv(q, k, v, initial_state, chunk_size)
    B, L, H, K = q.shape
    if g.shape == (H,):
        g = g.reshape(1, 1, H).expand(B, L, H)
    elif g.shape not in ((B, L, H), (B, L, H, K)):
        raise ValueError(f"g must be [H], [B, L, H] or [B, L, H, K] = {(H,)}, {(B, L, H)} or {(B, L, H, K)}, "
                         f"got {tuple(g.shape)}")
    return DISPATCH.run("decayed_linear_attention", _inputs(q, k, v, None, g, scale, initial_state,
                                                            output_final_state, chunk_size), backend)


def default_chunk_size(device: torch.device) -> int:
    """64 on CUDA (fewer sequential steps, bigger matmuls); 32 elsewhere (measured fastest on CPU)."""
    return 64 if device.type == "cuda" else 32


def _inputs(q, k, v, beta, g, scale, initial_state, output_final_state, chunk_size) -> dict:
    return {"q": q, "k": k, "v": v, "beta": beta, "g": g, "scale": q.shape[-1] ** -0.5 if scale is None else scale,
            "initial_state": initial_state, "output_final_state": output_final_state,
            "chunk_size": default_chunk_size(q.device) if chunk_size is None else chunk_size}


def _check_qkv(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, initial_state: Optional[torch.Tensor],
               chunk_size: int) -> None:
    if q.dim() != 4:
        raise ValueError(f"q must be [B, L, H, K], got shape {tuple(q.shape)}")
    _check_shape("k", k, q.shape, "[B, L, H, K] like q")
    if v.dim() != 4 or v.shape[:3] != q.shape[:3]:
        raise ValueError(f"v must be [B, L, H, V] with B, L, H = {tuple(q.shape[:3])}, got {tuple(v.shape)}")
    if q.shape[1] == 0:
        raise ValueError("sequence length L must be >= 1")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"chunk_size must be a positive int or None, not {chunk_size!r}")
    if initial_state is not None:
        B, _, H, K = q.shape
        _check_shape("initial_state", initial_state, (B, H, K, v.shape[-1]), "[B, H, K, V]")


def _check_shape(name: str, t: torch.Tensor, expected, text: str) -> None:
    if not isinstance(t, torch.Tensor) or tuple(t.shape) != tuple(expected):
        got = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
        raise ValueError(f"{name} must be {text} = {tuple(expected)}, got {got}")
