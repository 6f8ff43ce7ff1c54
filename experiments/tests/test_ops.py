"""Every available backend of every archlab_ops primitive equals the naive recurrence, forward and gradients.

Backends compared: each one the default dispatcher can run here except naive itself (chunk on CPU; fla too on
a CUDA machine with flash-linear-attention installed and self-checked), over shape ids that hit odd lengths,
exact chunk boundaries, sequences shorter than a chunk and initial states, in float32 and bfloat16.
"""
from __future__ import annotations

from typing import Dict, Optional

import pytest
import torch
import torch.nn.functional as F

import archlab_ops
from archlab_ops import DISPATCH, ShortConv, causal_conv1d, l2norm
from archlab_ops.norm import GatedRMSNorm, RMSNorm

# id -> (B, L, H, K, V, chunk_size, initial state?)
SHAPES = {
    "odd_length": (2, 37, 2, 8, 6, 16, False),
    "chunk_boundary": (1, 64, 2, 8, 8, 16, False),
    "shorter_than_chunk": (2, 5, 3, 4, 4, 16, False),
    "one_step": (1, 1, 2, 4, 4, 16, True),
    "initial_state": (2, 33, 2, 8, 4, 16, True),
    "default_chunk": (1, 70, 1, 16, 16, 64, True),
}
# op id -> (public function, keyword arguments beyond q, k, v)
OPS = ("delta_rule", "gated_delta_rule", "linear_attention", "decayed_fixed", "decayed_per_head",
       "decayed_per_dim")
TOLERANCE = {torch.float32: 1e-4, torch.bfloat16: 2e-2}   # relative RMS error


def assert_close(name: str, ref: torch.Tensor, got: torch.Tensor, tol: float) -> None:
    """Relative RMS error of got vs ref within tol (fla's test style), with the max abs difference shown."""
    assert got.shape == ref.shape, f"{name}: shape {tuple(got.shape)} != {tuple(ref.shape)}"
    ref, got = ref.detach().float(), got.detach().float()
    assert torch.isfinite(got).all(), f"{name}: non-finite values"
    err = ((got - ref).norm() / ref.norm().clamp_min(1e-12)).item()
    assert err <= tol, f"{name}: relative RMS error {err:.3g} > {tol} (max abs diff {(got - ref).abs().max():.3g})"


def make_inputs(op: str, shape, dtype: torch.dtype, decay_scale: float = 1.0, seed: int = 0) -> Dict:
    B, L, H, K, V, _, with_state = shape
    gen = torch.Generator().manual_seed(seed)

    def rand(*s, fn=torch.randn, dt=dtype):
        return fn(*s, generator=gen).to(dt)

    k = rand(B, L, H, K, dt=torch.float32)
    inputs = {"q": rand(B, L, H, K), "k": (k / k.norm(dim=-1, keepdim=True)).to(dtype), "v": rand(B, L, H, V)}
    if op in ("delta_rule", "gated_delta_rule"):
        inputs["beta"] = rand(B, L, H, fn=torch.rand)
    if op == "gated_delta_rule" or op == "decayed_per_head":
        inputs["g"] = F.logsigmoid(rand(B, L, H, dt=torch.float32)) * decay_scale
    elif op == "decayed_fixed":
        inputs["g"] = torch.log(1 - 2.0 ** (-5 - torch.arange(H, dtype=torch.float32))) * decay_scale
    elif op == "decayed_per_dim":
        inputs["g"] = F.logsigmoid(rand(B, L, H, K, dt=torch.float32)) * decay_scale
    if with_state:
        inputs["initial_state"] = rand(B, H, K, V, dt=torch.float32)
    return {n: t.requires_grad_() for n, t in inputs.items()}


def call(op: str, inputs: Dict, backend: str, chunk_size: int):
    fn = {"delta_rule": archlab_ops.delta_rule, "gated_delta_rule": archlab_ops.gated_delta_rule,
          "linear_attention": archlab_ops.linear_attention}.get(op, archlab_ops.decayed_linear_attention)
    args = [inputs["q"], inputs["k"], inputs["v"]]
    if "g" in inputs:
        args.append(inputs["g"])
    if "beta" in inputs:
        args.append(inputs["beta"])
    return fn(*args, initial_state=inputs.get("initial_state"), output_final_state=True,
              chunk_size=chunk_size, backend=backend)


def forward_backward(op: str, inputs: Dict, backend: str, chunk_size: int, seed: int = 1) -> Dict[str, torch.Tensor]:
    for t in inputs.values():
        t.grad = None
    o, state = call(op, inputs, backend, chunk_size)
    gen = torch.Generator().manual_seed(seed)
    do, dstate = torch.randn(o.shape, generator=gen), torch.randn(state.shape, generator=gen)
    ((o.float() * do).sum() + (state * dstate).sum()).backward()
    out = {"o": o, "final_state": state}
    out.update({f"d{n}": t.grad.clone() for n, t in inputs.items()})
    return out


def fast_backends() -> list:
    like = {"q": torch.zeros(1, 1, 1, 1), "v": torch.zeros(1, 1, 1, 1)}
    return [b.name for b in DISPATCH.backends
            if b.name != "naive" and b.unavailable("delta_rule", like["q"].device) is None]


@pytest.mark.parametrize("backend", fast_backends())
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
@pytest.mark.parametrize("shape_id", list(SHAPES))
@pytest.mark.parametrize("op", OPS)
def test_backend_equals_naive_recurrence(op, shape_id, dtype, backend):
    shape = SHAPES[shape_id]
    inputs = make_inputs(op, shape, dtype)
    ref = forward_backward(op, inputs, "naive", shape[5])
    got = forward_backward(op, inputs, backend, shape[5])
    assert got["o"].dtype == dtype and got["final_state"].dtype == torch.float32
    for name in ref:
        assert_close(f"{op}/{backend}/{name}", ref[name], got[name], TOLERANCE[dtype])


@pytest.mark.parametrize("op", ["gated_delta_rule", "decayed_per_head", "decayed_per_dim"])
def test_chunked_form_is_stable_under_strong_decay(op):
    """log-decays of ~ -30 per step: exp(G_t - G_s) factors must never be formed from exp(+large)."""
    shape = (1, 40, 2, 8, 8, 16, True)
    inputs = make_inputs(op, shape, torch.float32, decay_scale=40.0)
    ref = forward_backward(op, inputs, "naive", 16)
    got = forward_backward(op, inputs, "chunk", 16)
    for name in ref:
        assert_close(f"{op}/strong decay/{name}", ref[name], got[name], 1e-4)


def test_final_state_continues_the_sequence():
    """Running [0:L1] then [L1:L] with the first part's final state equals running [0:L] at once."""
    inputs = make_inputs("gated_delta_rule", (2, 45, 2, 8, 8, 16, False), torch.float32)
    q, k, v, g, beta = (inputs[n].detach() for n in ("q", "k", "v", "g", "beta"))
    full, full_state = archlab_ops.gated_delta_rule(q, k, v, g, beta, output_final_state=True, chunk_size=16)
    first, state = archlab_ops.gated_delta_rule(q[:, :20], k[:, :20], v[:, :20], g[:, :20], beta[:, :20],
                                                output_final_state=True, chunk_size=16)
    second, end = archlab_ops.gated_delta_rule(q[:, 20:], k[:, 20:], v[:, 20:], g[:, 20:], beta[:, 20:],
                                               initial_state=state, output_final_state=True, chunk_size=16)
    assert_close("output", full, torch.cat([first, second], 1), 1e-5)
    assert_close("final state", full_state, end, 1e-5)


def test_bf16_autocast_region_computes_in_fp32():
    inputs = make_inputs("delta_rule", SHAPES["odd_length"], torch.float32)
    q, k, v, beta = (inputs[n].detach() for n in ("q", "k", "v", "beta"))
    ref, _ = archlab_ops.delta_rule(q, k, v, beta, backend="naive")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got, _ = archlab_ops.delta_rule(q, k, v, beta, backend="chunk", chunk_size=16)
    assert got.dtype == torch.float32
    assert_close("autocast output", ref, got, 1e-4)


def test_no_final_state_unless_asked():
    inputs = make_inputs("linear_attention", SHAPES["odd_length"], torch.float32)
    o, state = archlab_ops.linear_attention(inputs["q"], inputs["k"], inputs["v"])
    assert state is None and o.shape == inputs["v"].shape


@pytest.mark.parametrize("bad, message", [
    (dict(k=torch.zeros(2, 5, 3, 8)), "k must be"),
    (dict(v=torch.zeros(2, 6, 3, 4)), "v must be"),
    (dict(beta=torch.zeros(2, 5)), "beta must be"),
    (dict(initial_state=torch.zeros(2, 3, 4, 5)), "initial_state must be"),
    (dict(chunk_size=0), "chunk_size must be"),
])
def test_bad_shapes_raise_value_error_quoting_them(bad, message):
    args = dict(q=torch.zeros(2, 5, 3, 4), k=torch.zeros(2, 5, 3, 4), v=torch.zeros(2, 5, 3, 4),
                beta=torch.zeros(2, 5, 3))
    extra = {n: bad[n] for n in ("initial_state", "chunk_size") if n in bad}
    args.update({n: t for n, t in bad.items() if n not in extra})
    with pytest.raises(ValueError, match=message):
        archlab_ops.delta_rule(args["q"], args["k"], args["v"], args["beta"], **extra)


def test_decay_shape_is_checked():
    q = torch.zeros(2, 5, 3, 4)
    with pytest.raises(ValueError, match=r"g must be \[H\], \[B, L, H\] or \[B, L, H, K\]"):
        archlab_ops.decayed_linear_attention(q, q, q, torch.zeros(5, 3))


# -- short convolution and norms --------------------------------------------------------------------------------
def conv_reference(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor], act: Optional[str]):
    B, L, D = x.shape
    W = weight.shape[-1]
    y = torch.zeros(B, L, D)
    for t in range(L):
        for i in range(W):
            s = t - W + 1 + i
            if s >= 0:
                y[:, t] += weight[:, i] * x[:, s]
    y = y if bias is None else y + bias
    return F.silu(y) if act else y


@pytest.mark.parametrize("W", [1, 3, 4])
@pytest.mark.parametrize("act", [None, "silu"])
def test_causal_conv1d_equals_loop(W, act):
    gen = torch.Generator().manual_seed(0)
    x, weight = torch.randn(2, 11, 5, generator=gen), torch.randn(5, W, generator=gen)
    bias = torch.randn(5, generator=gen)
    y, state = causal_conv1d(x, weight, bias, activation=act, output_final_state=True)
    assert_close("conv", conv_reference(x, weight, bias, act), y, 1e-6)
    assert state.shape == (2, W - 1, 5)


def test_short_conv_in_pieces_and_steps_equals_whole():
    torch.manual_seed(0)
    conv = ShortConv(6, kernel_size=4)
    x = torch.randn(2, 13, 6)
    whole, _ = conv(x)
    first, cache = conv(x[:, :7], output_final_state=True)
    pieces = [first]
    for t in range(7, 13):   # decode one position at a time
        y, cache = conv(x[:, t:t + 1], cache=cache, output_final_state=True)
        pieces.append(y)
    assert_close("pieces", whole, torch.cat(pieces, 1), 1e-6)


def test_norms_follow_fla_semantics():
    x, gate = torch.randn(3, 8, dtype=torch.bfloat16), torch.randn(3, 8)
    xf = x.float()
    assert_close("l2norm", xf / torch.sqrt((xf * xf).sum(-1, keepdim=True) + 1e-6), l2norm(x), 1e-2)
    assert l2norm(x).dtype == torch.bfloat16
    rms = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-5)
    assert_close("rmsnorm", rms, RMSNorm(8)(x), 1e-2)
    assert_close("gated", rms * F.silu(gate), GatedRMSNorm(8)(x, gate), 1e-2)
    assert_close("gated sigmoid", rms * torch.sigmoid(gate), GatedRMSNorm(8, activation="sigmoid")(x, gate), 1e-2)
