"""The fla subset (experiments/fla_compat) against its stated semantics (../shared/notes/fla-compat.md).

Each reference is computed independently in the test: explicit F.conv1d with padding, per-sequence loops,
the RMS / L2 formulas written out. The package is loaded under an alias so that a real `fla`, if installed,
is neither shadowed nor tested by mistake.
"""
from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

EXPERIMENTS = Path(__file__).resolve().parent.parent
PACKAGE = EXPERIMENTS / "fla_compat" / "fla"
ALIAS = "archlab_fla_compat_under_test"


def _load_compat():
    if ALIAS not in sys.modules:
        spec = importlib.util.spec_from_file_location(ALIAS, PACKAGE / "__init__.py",
                                                      submodule_search_locations=[str(PACKAGE)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[ALIAS] = module
        spec.loader.exec_module(module)
    return (importlib.import_module(f"{ALIAS}.modules"), importlib.import_module(f"{ALIAS}.modules.l2norm"),
            importlib.import_module(f"{ALIAS}.layers.utils"), importlib.import_module(f"{ALIAS}.models.utils"))


modules, l2norm_mod, layer_utils, model_utils = _load_compat()
ShortConvolution, RMSNorm, FusedRMSNormGated = modules.ShortConvolution, modules.RMSNorm, modules.FusedRMSNormGated
l2norm = l2norm_mod.l2norm
get_unpad_data, index_first_axis, pad_input = (layer_utils.get_unpad_data, layer_utils.index_first_axis,
                                               layer_utils.pad_input)
Cache = model_utils.Cache


def assert_close(actual, expected, atol=1e-5, rtol=1e-5, what=""):
    torch.testing.assert_close(actual, expected, atol=atol, rtol=rtol, msg=lambda m: f"{what}: {m}")


def reference_conv(x, weight, bias, activation, history=None):
    """Causal depthwise conv written the textbook way: nn.Conv1d padding W-1, keep the first T outputs.
    `history` [B, D, W] (the cache) replaces the zero left padding by its last W-1 columns."""
    B, T, D = x.shape
    W = weight.shape[-1]
    xt = x.transpose(1, 2)
    if history is None:
        y = F.conv1d(xt, weight, bias, padding=W - 1, groups=D)[..., :T]
    else:
        y = F.conv1d(torch.cat([history[..., 1:], xt], -1), weight, bias, groups=D)
    if activation in ("silu", "swish"):
        y = y * torch.sigmoid(y)
    return y.transpose(1, 2)


def last_inputs(x, W):
    """The last W raw inputs of each sequence [B, T, D] as [B, D, W], zero-padded on the left."""
    return F.pad(x.transpose(1, 2), (W, 0))[..., -W:]


# -- fla.layers.utils ------------------------------------------------------------------------------------------

def test_get_unpad_data_lists_kept_tokens_and_sequence_offsets():
    mask = torch.tensor([[1, 1, 1, 0], [0, 1, 1, 1], [1, 0, 0, 0]])
    indices, cu_seqlens, max_seqlen = get_unpad_data(mask)
    assert indices.tolist() == [0, 1, 2, 5, 6, 7, 8]
    assert cu_seqlens.dtype == torch.int32 and cu_seqlens.tolist() == [0, 3, 6, 7]
    assert isinstance(max_seqlen, int) and max_seqlen == 3


def test_unpad_pad_round_trip_is_lossless_on_kept_tokens_and_zero_elsewhere():
    torch.manual_seed(0)
    mask = torch.tensor([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [0, 0, 1, 1, 0]], dtype=torch.bool)
    x = torch.randn(3, 5, 4, 2, requires_grad=True)
    indices, _, _ = get_unpad_data(mask)
    packed = index_first_axis(x.reshape(15, 4, 2), indices)
    assert packed.shape == (int(mask.sum()), 4, 2)
    assert torch.equal(packed, x.reshape(15, 4, 2)[mask.flatten()])
    back = pad_input(packed, indices, 3, 5)
    assert back.shape == x.shape
    assert torch.equal(back, x * mask[..., None, None])
    back.sum().backward()  # differentiable both ways: the gradient reaches exactly the kept tokens
    assert torch.equal(x.grad, mask[..., None, None].float().expand_as(x))


def test_index_first_axis_needs_two_dimensions():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        index_first_axis(torch.arange(4.0), torch.tensor([0, 1]))


# -- fla.modules.l2norm -----------------------------------------------------------------------------------------

def test_l2norm_divides_by_sqrt_of_sum_of_squares_plus_eps():
    x = torch.tensor([[3.0, 4.0], [0.0, 0.0], [1e-4, 0.0]])
    y = l2norm(x, eps=1e-6)
    expected = x / torch.sqrt((x * x).sum(-1, keepdim=True) + 1e-6)
    assert_close(y, expected, what="l2norm")
    assert_close(y[0], torch.tensor([0.6, 0.8]), what="3-4-5")
    assert torch.equal(y[1], torch.zeros(2))                     # eps inside the root: no NaN at zero
    assert y[2, 0] < 0.1                                          # unlike F.normalize, eps shrinks tiny vectors


def test_l2norm_computes_in_float32_and_returns_input_dtype():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 4, 16).to(torch.bfloat16)
    y = l2norm(x)
    assert y.dtype == torch.bfloat16
    xf = x.float()
    assert torch.equal(y, (xf / torch.sqrt(xf.square().sum(-1, keepdim=True) + 1e-6)).to(torch.bfloat16))
    assert l2norm(x, output_dtype=torch.float32).dtype == torch.float32


# -- fla.modules.RMSNorm / FusedRMSNormGated ------------------------------------------------------------------

def rms_reference(x, weight=None, bias=None, eps=1e-5):
    x = x.double()
    y = x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    if weight is not None:
        y = y * weight.double()
    if bias is not None:
        y = y + bias.double()
    return y


def test_rmsnorm_formula_weight_bias_and_any_leading_shape():
    torch.manual_seed(0)
    norm = RMSNorm(8, bias=True, eps=1e-5)
    assert torch.equal(norm.weight, torch.ones(8)) and torch.equal(norm.bias, torch.zeros(8))
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
        norm.bias.uniform_(-0.1, 0.1)
    x = torch.randn(2, 3, 4, 8)
    assert_close(norm(x).double(), rms_reference(x, norm.weight, norm.bias), what="RMSNorm")
    plain = RMSNorm(8, elementwise_affine=False)
    assert plain.weight is None and plain.bias is None
    assert_close(plain(x).double(), rms_reference(x), what="no affine")


def test_rmsnorm_bf16_input_is_normalised_in_float32():
    torch.manual_seed(0)
    norm = RMSNorm(64)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
    x = (torch.randn(4, 64) * 30).to(torch.bfloat16)
    y = norm(x)
    assert y.dtype == torch.bfloat16
    xf = x.float()
    expected = (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-5) * norm.weight).to(torch.bfloat16)
    assert torch.equal(y, expected)


def test_rmsnorm_residual_and_prenorm():
    torch.manual_seed(0)
    norm = RMSNorm(8)
    x, res = torch.randn(3, 8), torch.randn(3, 8)
    y, summed = norm(x, residual=res, prenorm=True)
    assert torch.equal(summed, x + res)
    assert_close(y.double(), rms_reference(x + res), what="prenorm output normalises x + residual")
    assert torch.equal(norm(x, residual=res), y)
    y0, passthrough = norm(x, prenorm=True)                       # no residual: the stream is x itself
    assert torch.equal(passthrough, x) and torch.equal(y0, norm(x))
    xb = x.to(torch.bfloat16)
    _, stream = norm(xb, prenorm=True, residual_in_fp32=True)
    assert stream.dtype == torch.float32


@pytest.mark.parametrize("activation", ["swish", "silu", "sigmoid"])
def test_fused_rmsnorm_gated(activation):
    torch.manual_seed(0)
    norm = FusedRMSNormGated(16, eps=1e-5, activation=activation)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
    x, g = torch.randn(2, 5, 4, 16), torch.randn(2, 5, 4, 16)
    base = rms_reference(x, norm.weight)
    gd = g.double()
    gate = gd * torch.sigmoid(gd) if activation in ("swish", "silu") else torch.sigmoid(gd)
    assert_close(norm(x, g).double(), base * gate, what=activation)
    res = torch.randn_like(x)
    y, summed = norm(x, g, residual=res, prenorm=True)
    assert torch.equal(summed, x + res)
    assert_close(y.double(), rms_reference(x + res, norm.weight) * gate, what="residual")
    assert norm(x.to(torch.bfloat16), g.to(torch.bfloat16)).dtype == torch.bfloat16


def test_fused_rmsnorm_gated_rejects_unknown_activation():
    with pytest.raises(ValueError, match="Unsupported activation"):
        FusedRMSNormGated(8, activation="relu")


# -- fla.modules.ShortConvolution -----------------------------------------------------------------------------

def make_conv(D, W, activation="silu", bias=False, seed=0):
    torch.manual_seed(seed)
    conv = ShortConvolution(D, W, bias=bias, activation=activation)
    if bias:
        with torch.no_grad():
            conv.bias.uniform_(-0.5, 0.5)
    return conv


def test_short_convolution_is_a_depthwise_conv1d_with_default_init():
    torch.manual_seed(3)
    conv = ShortConvolution(12, 4)
    torch.manual_seed(3)
    plain = nn.Conv1d(12, 12, 4, groups=12, padding=3, bias=False)
    assert isinstance(conv, nn.Conv1d) and conv.weight.shape == (12, 1, 4) and conv.bias is None
    assert torch.equal(conv.weight, plain.weight)
    assert conv.activation == "silu"                              # fla's default activation
    assert ShortConvolution(12, 4, bias=True).bias.shape == (12,)


@pytest.mark.parametrize("W", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("activation", [None, "silu", "swish"])
def test_short_convolution_equals_causal_conv1d(W, activation):
    conv = make_conv(6, W, activation, bias=True)
    x = torch.randn(2, 9, 6)
    y, cache = conv(x)
    assert cache is None
    assert_close(y, reference_conv(x, conv.weight, conv.bias, activation), what=f"W={W} {activation}")


def test_short_convolution_is_causal_and_gradients_match_the_reference():
    conv = make_conv(4, 3, "silu", bias=True)
    x = torch.randn(2, 8, 4, requires_grad=True)
    y, _ = conv(x)
    (y * torch.linspace(-1, 1, 8)[None, :, None]).sum().backward()
    grads = [x.grad.clone(), conv.weight.grad.clone(), conv.bias.grad.clone()]
    for t in (x, conv.weight, conv.bias):
        t.grad = None
    ref = reference_conv(x, conv.weight, conv.bias, "silu")
    (ref * torch.linspace(-1, 1, 8)[None, :, None]).sum().backward()
    for mine, theirs, name in zip(grads, [x.grad, conv.weight.grad, conv.bias.grad], ["dx", "dw", "db"]):
        assert_close(mine, theirs, what=name)
    x2 = x.detach().clone()
    x2[:, 5] += 10.0
    assert torch.equal(conv(x2)[0][:, :5], conv(x.detach())[0][:, :5])  # the future never leaks back


def test_short_convolution_residual_is_added_after_the_activation():
    conv = make_conv(5, 4, "silu")
    x, res = torch.randn(2, 7, 5), torch.randn(2, 7, 5)
    assert_close(conv(x, residual=res)[0], reference_conv(x, conv.weight, None, "silu") + res, what="residual")


def test_short_convolution_mask_zeroes_padding_inputs_without_touching_the_caller_tensor():
    conv = make_conv(5, 3, None)
    x = torch.randn(2, 6, 5)
    mask = torch.tensor([[1, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 1]])
    original = x.clone()
    y, _ = conv(x, mask=mask)
    assert_close(y, reference_conv(x * mask[..., None], conv.weight, None, None), what="mask")
    assert torch.equal(x, original)
    with pytest.raises(ValueError, match="cannot be provided at the same time"):
        conv(x[:1], mask=mask[:1], cu_seqlens=torch.tensor([0, 6]))


@pytest.mark.parametrize("T", [2, 4, 7])
def test_short_convolution_final_state_holds_the_last_w_raw_inputs(T):
    conv = make_conv(3, 4, "silu", bias=True)
    x = torch.randn(2, T, 3)
    _, cache = conv(x, output_final_state=True)
    assert cache.shape == (2, 3, 4)
    assert torch.equal(cache, last_inputs(x, 4))  # raw inputs (before conv / activation), zeros when T < W


def test_decode_steps_with_a_cache_equal_the_full_convolution():
    conv = make_conv(6, 4, "silu", bias=True)
    x = torch.randn(2, 10, 6)
    full = reference_conv(x, conv.weight, conv.bias, "silu")
    with torch.no_grad():
        y, cache = conv(x[:, :3], output_final_state=True)        # prefill shorter than the kernel
        outs = [y]
        for t in range(3, 10):
            y_t, returned = conv(x[:, t:t + 1], cache=cache, output_final_state=True)
            assert returned is cache                             # the cache is updated in place
            outs.append(y_t)
    assert_close(torch.cat(outs, 1), full, what="prefill + decode")
    assert torch.equal(cache, last_inputs(x, 4))


def test_decode_from_an_empty_history_and_residual_in_the_step():
    conv = make_conv(4, 3, None, bias=True)
    x, res = torch.randn(3, 5, 4), torch.randn(3, 5, 4)
    with torch.no_grad():
        y0, cache = conv(x[:, :1], residual=res[:, :1], output_final_state=True)  # no cache yet: zeros history
        outs = [y0]
        for t in range(1, 5):
            outs.append(conv(x[:, t:t + 1], residual=res[:, t:t + 1], cache=cache)[0])
    assert_close(torch.cat(outs, 1), reference_conv(x, conv.weight, conv.bias, None) + res, what="decode")
    y_single, none = conv(x[:, :1])                               # one token, no cache, no state wanted
    assert none is None
    assert_close(y_single, reference_conv(x[:, :1], conv.weight, conv.bias, None), what="T=1 without cache")


def test_prefill_in_two_chunks_through_the_cache_equals_one_prefill():
    conv = make_conv(5, 4, "swish", bias=True)
    x = torch.randn(2, 11, 5)
    y1, cache = conv(x[:, :6], output_final_state=True)
    y2, cache2 = conv(x[:, 6:], cache=cache, output_final_state=True)
    assert_close(torch.cat([y1, y2], 1), reference_conv(x, conv.weight, conv.bias, "swish"), what="chunked")
    assert torch.equal(cache2, last_inputs(x, 4))


@pytest.mark.parametrize("W", [3, 4])
def test_cu_seqlens_never_crosses_a_sequence_boundary(W):
    conv = make_conv(6, W, "silu", bias=True)
    lengths = [3, 1, 7, 2, 5]
    seqs = [torch.randn(1, n, 6) for n in lengths]
    packed = torch.cat(seqs, 1).requires_grad_(True)
    cu = torch.tensor([0] + torch.tensor(lengths).cumsum(0).tolist(), dtype=torch.int32)
    y, final = conv(packed, cu_seqlens=cu, output_final_state=True)
    expected = torch.cat([reference_conv(s, conv.weight, conv.bias, "silu") for s in seqs], 1)
    assert_close(y, expected, what="packed vs per-sequence")
    assert torch.equal(final, torch.cat([last_inputs(s, W) for s in seqs], 0))
    y.pow(2).sum().backward()                                    # gradients equal the per-sequence ones too
    dx, dw = packed.grad.clone(), conv.weight.grad.clone()
    conv.weight.grad = None
    parts = [s.clone().requires_grad_(True) for s in seqs]
    sum(reference_conv(p, conv.weight, conv.bias, "silu").pow(2).sum() for p in parts).backward()
    assert_close(dx, torch.cat([p.grad for p in parts], 1), what="dx")
    assert_close(dw, conv.weight.grad, what="dw")


def test_cu_seqlens_with_a_cache_and_a_packed_decode_step():
    conv = make_conv(4, 4, "silu", bias=True)
    lengths = [5, 2, 6]
    seqs = [torch.randn(1, n + 1, 4) for n in lengths]            # the last token of each is decoded
    cu = torch.tensor([0, 5, 7, 13])
    with torch.no_grad():
        history = torch.randn(3, 4, 4)                            # a previous chunk's cache for each sequence
        y, cache = conv(torch.cat([s[:, :-1] for s in seqs], 1), cache=history, cu_seqlens=cu,
                        output_final_state=True)
        step_y, cache = conv(torch.cat([s[:, -1:] for s in seqs], 1), cache=cache,
                             cu_seqlens=torch.arange(4), output_final_state=True)
    for i, s in enumerate(seqs):
        expected = reference_conv(s, conv.weight, conv.bias, "silu", history=history[i:i + 1])
        assert_close(y[:, cu[i]:cu[i + 1]], expected[:, :-1], what=f"prefill seq {i}")
        assert_close(step_y[:, i:i + 1], expected[:, -1:], what=f"decode seq {i}")
        assert torch.equal(cache[i:i + 1], last_inputs(torch.cat([history[i:i + 1].transpose(1, 2), s], 1), 4))


def test_short_convolution_dtypes_follow_the_input():
    conv = make_conv(8, 4, "silu", bias=True)
    x = torch.randn(2, 6, 8)
    ref = reference_conv(x, conv.weight, conv.bias, "silu")
    y, cache = conv(x.to(torch.bfloat16), output_final_state=True)
    assert y.dtype == torch.bfloat16 and cache.dtype == torch.bfloat16
    assert_close(y.float(), ref, atol=3e-2, rtol=3e-2, what="bf16")
    with torch.autocast("cpu", dtype=torch.bfloat16):            # as the harness runs ASI-Arch's layers
        y_auto, _ = conv(x)
    assert y_auto.dtype == torch.float32
    assert_close(y_auto, ref, what="autocast leaves the fp32 conv alone")


def test_short_convolution_rejects_bad_arguments():
    with pytest.raises(ValueError, match="activation"):
        ShortConvolution(4, 3, activation="gelu")
    conv = ShortConvolution(4, 3)
    with pytest.raises(ValueError, match="expects x of shape"):
        conv(torch.randn(2, 5, 3))
    with pytest.raises(ValueError, match="cache must have shape"):
        conv(torch.randn(2, 5, 4), cache=torch.zeros(2, 4, 2))


# -- fla.models.utils.Cache -----------------------------------------------------------------------------------

def test_cache_appends_layers_and_overwrites_only_given_fields():
    cache = Cache()
    assert len(cache) == 0 and cache.get_seq_length() == 0
    s0 = torch.zeros(1)
    cache.update(recurrent_state=s0, conv_state=("q", "k", "v"), layer_idx=0, offset=5)
    cache.update(recurrent_state=torch.ones(1), layer_idx=1, offset=5)
    assert len(cache) == 2 and cache.get_seq_length() == 5
    assert cache[0]["recurrent_state"] is s0 and cache[0]["attn_state"] is None
    s1 = torch.full((1,), 2.0)
    cache.update(recurrent_state=s1, layer_idx=0, offset=1)
    assert cache[0]["recurrent_state"] is s1 and cache[0]["conv_state"] == ("q", "k", "v")
    assert cache.get_seq_length() == 6
    with pytest.raises(KeyError, match="only has 2 layers"):
        cache[2]
    assert [set(state) for state in cache] == [{"recurrent_state", "attn_state", "conv_state", "ffn_state"}] * 2
    k, v = torch.randn(1, 2, 3, 4), torch.randn(1, 2, 3, 4)
    cache.update(attn_state=(k, v), layer_idx=1, offset=3)
    cache.update(attn_state=(k, v), layer_idx=1, offset=3)
    assert cache[1]["attn_state"][0].shape == (1, 2, 6, 4)
    assert Cache.from_legacy_cache(cache.to_legacy_cache(), seen_tokens=6)[1] is cache[1]


# -- the package as a candidate sees it -----------------------------------------------------------------------

def test_prepare_imports_exposes_exactly_the_subset_asi_arch_imports():
    """In a fresh interpreter (no real fla): the loader puts fla_compat on sys.path and the imports resolve."""
    code = ("import sys; from harness.loader import prepare_imports; kind = prepare_imports(False)\n"
            "if kind != 'compat': print('real'); sys.exit(0)\n"
            "from fla.layers.utils import get_unpad_data, index_first_axis, pad_input\n"
            "from fla.modules import FusedRMSNormGated, RMSNorm, ShortConvolution\n"
            "from fla.modules.l2norm import l2norm\n"
            "from fla.models.utils import Cache\n"
            "import fla; assert fla.ARCHLAB_COMPAT and sys.path[-1].endswith('fla_compat'); print('compat')\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=EXPERIMENTS, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    if proc.stdout.strip() == "real":
        pytest.skip("the real fla is installed: the compat package is not used")
    assert proc.stdout.strip() == "compat"
