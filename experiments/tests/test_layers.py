"""The baseline layers (experiments/layers/): each trains through the real harness; chunked == naive mode with
shared weights; causal; state passing (past_key_values) continues a sequence; left padding changes nothing;
same seed -> the same loss curve."""
from __future__ import annotations

import importlib.util
import json

import pytest
import torch

from conftest import LAYERS
from harness.data import RandomTokens
from harness.model import LM, LMConfig
from harness.spec import TrainSpec
from harness.train import train

# file -> class (each file's __all__ names it)
BASELINES = {
    "attention.py": "Attention",
    "linear_attention.py": "LinearAttention",
    "retnet.py": "MultiScaleRetention",
    "gla.py": "GatedLinearAttention",
    "delta_net.py": "DeltaNet",
    "gated_delta_net.py": "GatedDeltaNet",
}
RECURRENT = [f for f in BASELINES if f != "attention.py"]


def layer_class(file: str) -> type:
    spec = importlib.util.spec_from_file_location(f"baseline_{file[:-3]}", LAYERS / file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.__all__ == [BASELINES[file]]
    return getattr(module, BASELINES[file])


def build(file: str, seed: int = 0, **kwargs) -> torch.nn.Module:
    torch.manual_seed(seed)
    return layer_class(file)(hidden_size=32, num_heads=4, layer_idx=0, **kwargs)


def test_every_file_in_layers_is_a_listed_baseline():
    assert sorted(p.name for p in LAYERS.glob("*.py")) == sorted(BASELINES)


@pytest.mark.parametrize("file", list(BASELINES))
def test_baseline_trains_through_the_harness(file, run_harness):
    result, events = run_harness({"layer": {"path": str(LAYERS / file), "class_name": BASELINES[file]},
                                  "model": {"hidden_size": 32, "num_heads": 4},
                                  "train": {"steps": 3, "batch_size": 2, "seq_len": 40},
                                  "data": {"eval_batches": 1},
                                  "dtype": "bfloat16" if file == "gated_delta_net.py" else "float32"})
    assert result["status"] == "ok", result.get("error")
    assert len(result["curve"]) == 3 and events[-1] == {"event": "done", "status": "ok"}


@pytest.mark.parametrize("file", RECURRENT)
def test_chunked_mode_equals_naive_mode_with_shared_weights(file):
    chunked = build(file, chunk_size=16)
    naive = build(file, mode="naive")
    naive.load_state_dict(chunked.state_dict())
    x = torch.randn(2, 37, 32, generator=torch.Generator().manual_seed(1))
    outputs, grads = [], []
    for layer in (chunked, naive):
        xi = x.clone().requires_grad_()
        out = layer(xi)[0]
        out.square().sum().backward()
        outputs.append(out.detach())
        grads.append([xi.grad] + [p.grad for p in layer.parameters()])
    torch.testing.assert_close(outputs[0], outputs[1], rtol=1e-4, atol=1e-5)
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("file", list(BASELINES))
def test_baseline_is_causal(file):
    layer = build(file, **({} if file == "attention.py" else {"chunk_size": 16})).double()
    x = torch.randn(1, 30, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    y = layer(x)[0]
    x2 = x.clone()
    x2[:, 17] += 1.0
    y2 = layer(x2)[0]
    assert torch.equal(y[:, :17], y2[:, :17])
    assert not torch.allclose(y[:, 17], y2[:, 17])


@pytest.mark.parametrize("file", RECURRENT)
def test_state_passing_continues_the_sequence(file):
    layer = build(file, chunk_size=16).eval()
    x = torch.randn(2, 29, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        whole = layer(x)[0]
        first, _, cache = layer(x[:, :11], use_cache=True)
        second, _, cache = layer(x[:, 11:25], past_key_values=cache, use_cache=True)
        steps = [layer(x[:, t:t + 1], past_key_values=cache, use_cache=True)[0] for t in range(25, 29)]
    torch.testing.assert_close(torch.cat([first, second, *steps], 1), whole, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("file", list(BASELINES))
def test_left_padding_does_not_change_the_tokens_outputs(file):
    layer = build(file).eval()
    x = torch.randn(1, 12, 32, generator=torch.Generator().manual_seed(4))
    padded = torch.cat([torch.randn(1, 5, 32), x], 1)
    mask = torch.cat([torch.zeros(1, 5), torch.ones(1, 12)], 1)
    with torch.no_grad():
        torch.testing.assert_close(layer(padded, attention_mask=mask)[0][:, 5:], layer(x)[0],
                                   rtol=1e-4, atol=1e-5)


def test_constructors_assert_their_invariants():
    with pytest.raises(TypeError, match="unexpected keyword arguments: expand_q"):
        build("delta_net.py", expand_q=2)
    with pytest.raises(ValueError, match="mode must be 'chunk' or 'naive', not 'fused_recurrent'.*use 'naive'"):
        build("gated_delta_net.py", mode="fused_recurrent")
    with pytest.raises(ValueError, match="divisible by num_heads 5"):
        layer_class("delta_net.py")(hidden_size=32, num_heads=5)
    with pytest.raises(ValueError, match="qk_norm must be"):
        build("delta_net.py", qk_norm="l1")


def loss_curve(file: str) -> list:
    torch.manual_seed(0)
    model = LM(LMConfig(vocab_size=64, hidden_size=32, num_layers=2, num_heads=4), layer_class(file))
    data = RandomTokens(64, seq_len=32, batch_size=2, seed=0)
    trained = train(model, data, TrainSpec(steps=4, batch_size=2, seq_len=32), "cpu", False, lambda event: None)
    return [point["loss"] for point in trained["curve"]]


def test_same_seed_gives_the_same_loss_curve():
    first = loss_curve("gated_delta_net.py")
    assert first == loss_curve("gated_delta_net.py")
    assert len(set(first)) > 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is here: the GPU bench would run")
def test_gpu_bench_exits_cleanly_without_cuda(capsys):
    from bench import gpu as bench_gpu
    assert bench_gpu.main([]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("bench_gpu: CUDA is not available")


def test_gpu_bench_smoke_on_cpu_measures_every_row_and_a_candidate_file(capsys):
    from bench import gpu as bench_gpu
    candidate = str(LAYERS / "gla.py") + ":GatedLinearAttention"
    assert bench_gpu.main(["--smoke", "--device", "cpu", "--json", "--candidate", candidate]) == 0
    report = json.loads(capsys.readouterr().out)
    rows = {(r["layer"], r["backend"]): r for r in report["rows"]}
    assert rows[("attention", "sdpa")]["tokens_per_s"] > 0
    assert rows[("DeltaNet", "chunk (eager)")]["vs_sdpa"] > 0
    assert rows[("gla", "auto")]["tokens_per_s"] > 0 and "error" not in rows[("gla", "auto")]
    assert bench_gpu.main(["--smoke", "--device", "cpu", "--candidate", "no/such.py"]) == 2
