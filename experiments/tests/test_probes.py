"""The probe stage: layers written to be rejected are rejected with the right kind and numbers; correct layers
(our own, the baselines in layers/, ASI-Arch's published ones) are not."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from conftest import LAYERS, asi_arch_names
from bench import baseline_layers
from harness.loader import load_layer_class, prepare_imports
from harness.probes import run_probes
from harness.probes.common import FLOAT64, Candidate, Float64Mode
from harness.probes.complexity import fit_exponent
from harness.probes.cost import measure_cost
from harness.probes.fingerprint import probe_fingerprint
from harness.run import build_model, needs_bf16
from harness.spec import parse_spec

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "probe_layers"
SHORT = [256, 512, 1024]  # complexity lengths where complexity is not what a test is about

prepare_imports(compile_enabled=False)


def probe(path, class_name: str = "DeltaNet", seed: int = 0, **probe_fields) -> dict:
    """run_probes in this process on a layer file, as harness.run calls it for a probe-stage spec."""
    spec = parse_spec({"layer": {"path": str(path), "class_name": class_name}, "stage": "probe", "train": None,
                       "dtype": "auto", "seed": seed, "probe": {"enabled": True, **probe_fields}})
    cls = load_layer_class(spec.layer.path, spec.layer.class_name)
    bf16 = needs_bf16(build_model(spec, cls, spec.model.vocab_size), spec)
    events = []
    report = run_probes(cls, spec, bf16, events.append)
    json.dumps(report["probes"], allow_nan=False)  # plain JSON, always
    report["events"] = events
    return report


def kind(report: dict):
    return report["rejection"].kind if report["rejection"] is not None else None


# ---- pure pieces ---------------------------------------------------------------------------------------------

def test_fit_exponent_reads_the_asymptote():
    lengths = [256, 512, 1024, 2048, 4096]
    assert fit_exponent(lengths, [3 * l for l in lengths]) == pytest.approx(1.0)
    assert fit_exponent(lengths, [l ** 2 for l in lengths]) == pytest.approx(2.0)
    attention = [8 * l * 64 ** 2 + 4 * l * l * 64 for l in lengths]  # projections + scores at d=64
    assert 1.9 < fit_exponent(lengths, attention) < 2.0


def test_cost_counts_cpu_attention_fft_and_quadratic_memory():
    def cost(fn, length):
        with measure_cost() as m:
            fn(length)
        return m.cost

    sdpa = lambda n: torch.nn.functional.scaled_dot_product_attention(*[torch.randn(1, 4, n, 16)] * 3)  # noqa
    assert cost(sdpa, 512).flops == 4 * cost(sdpa, 256).flops > 0  # torch itself counts 0 on CPU
    fft = lambda n: torch.fft.rfft(torch.randn(1, n, 8), dim=1)  # noqa: E731
    assert cost(fft, 512).flops > 2 * cost(fft, 256).flops > 0
    outer = lambda n: (torch.randn(n, 1, 8) * torch.randn(1, n, 8)).sum(-1)  # noqa: E731  (no matmul: 0 FLOPs)
    assert cost(outer, 512).peak_bytes >= 4 * cost(outer, 256).peak_bytes * 0.99
    assert cost(outer, 512).elements > 3.9 * cost(outer, 256).elements


def test_float64_mode_overrides_deliberate_low_precision_casts():
    x = torch.randn(4, 4, dtype=torch.float64)
    with Float64Mode():
        y = x.to(torch.bfloat16) @ torch.ones(4, 4, dtype=torch.bfloat16)
        z = torch.zeros(2, dtype=torch.float32)
    assert y.dtype == z.dtype == torch.float64
    assert torch.allclose(y, x.sum(-1, keepdim=True).expand(4, 4))


# ---- layers written to be rejected ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, probe_name, expected", [
    ("reverse_cumsum", "causality", "noncausal"),
    ("same_padded_conv", "causality", "noncausal"),
    ("sequence_norm", "causality", "noncausal"),
    ("batchnorm", "batch", "batch_dependent"),
])
def test_written_to_leak_is_rejected(name, probe_name, expected):
    report = probe(FIXTURES / f"{name}.py", lengths=SHORT)
    assert kind(report) == expected
    record = report["probes"][probe_name]
    assert record["passed"] is False and record["kind"] == expected and record["precision"] == "float64"
    assert report["rejection"].status == "rejected" and probe_name in report["rejection"].message
    assert report["probes"]["load"]["passed"] and report["probes"]["complexity"]["passed"]


def test_same_padded_conv_leak_is_one_token_ahead():
    record = probe(FIXTURES / "same_padded_conv.py", lengths=SHORT)["probes"]["causality"]
    assert record["lookahead"] == 1 and record["first_leak_offset"] == 0
    assert record["max_leak"] > 1e-2


def test_whole_sequence_normalisation_leak_is_tiny_but_far_above_tolerance():
    record = probe(FIXTURES / "sequence_norm.py", lengths=SHORT)["probes"]["causality"]
    assert record["max_leak"] < 0.05  # tiny in magnitude: one token of 160 in the statistics
    assert record["max_leak"] > 1e4 * record["tolerance"]
    assert record["lookahead"] == record["length"] - 1  # the last token reaches the first output


def test_hidden_quadratic_attention_is_superlinear():
    report = probe(FIXTURES / "hidden_quadratic.py")
    record = report["probes"]["complexity"]
    assert kind(report) == "superlinear" and record["kind"] == "superlinear"
    assert 1.8 < record["exponent"] < 2.1
    assert report["probes"]["causality"]["passed"] and report["probes"]["batch"]["passed"]  # causal, just slow
    assert record["stopped_at"] is None or record["peak_mb"][-1] < 512


def test_overflow_at_long_length_is_nonfinite():
    report = probe(FIXTURES / "overflow_long.py")
    assert kind(report) == "nonfinite"
    assert report["probes"]["load"]["passed"]  # fine at the tiny size
    assert report["probes"]["complexity"]["nonfinite_at"] >= 256


def test_causal_softmax_attention_measures_two_and_passes_with_a_raised_bound():
    report = probe(FIXTURES / "causal_softmax.py")
    record = report["probes"]["complexity"]
    assert kind(report) == "superlinear" and 1.85 < record["exponent"] < 2.05
    assert record["lengths"] == [256, 512, 1024, 2048, 4096]
    raised = probe(FIXTURES / "causal_softmax.py", max_exponent=2.5)
    assert raised["rejection"] is None


def test_parameter_budget():
    over = probe(FIXTURES / "causal_ok.py", lengths=SHORT, max_params=1000)
    assert kind(over) == "params"
    params = over["probes"]["params"]["params"]
    assert params > 1000 and over["probes"]["params"]["max_params"] == 1000
    assert probe(FIXTURES / "causal_ok.py", lengths=SHORT, max_params=params)["rejection"] is None


LOAD_FAILURES = {
    "construct": "def __init__(self, *, hidden_size, num_heads, layer_idx=0, **kw):\n"
                 "        super().__init__()\n        raise ValueError('bad head split')",
    "forward": "def forward(self, x, **kw):\n        return self.p(x).view(-1)",
    "backward": "def forward(self, x, **kw):\n        return self.p(x).detach()",
    "nonfinite": "def forward(self, x, **kw):\n        return self.p(x) / 0.0",
}


@pytest.mark.parametrize("expected", sorted(LOAD_FAILURES))
def test_load_probe_kinds(expected, tmp_path):
    body = LOAD_FAILURES[expected]
    init = "" if expected == "construct" else (
        "def __init__(self, *, hidden_size, num_heads, layer_idx=0, **kw):\n"
        "        super().__init__()\n        self.p = torch.nn.Linear(hidden_size, hidden_size)\n    ")
    path = tmp_path / "layer.py"
    path.write_text(f"import torch\n\nclass DeltaNet(torch.nn.Module):\n    {init}{body}\n")
    cls = load_layer_class(str(path), "DeltaNet")
    spec = parse_spec({"layer": {"path": str(path)}, "stage": "probe", "train": None,
                       "probe": {"enabled": True, "lengths": SHORT}})
    report = run_probes(cls, spec, False)
    assert kind(report) == expected
    assert list(report["probes"]) == ["load"] and report["probes"]["load"]["kind"] == expected
    assert report["fingerprint"] is None


# ---- correct layers: no false rejections ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ["causal_ok", "causal_stateful", "causal_fft"])
def test_correct_layer_passes_every_probe(name):
    report = probe(FIXTURES / f"{name}.py")
    assert report["rejection"] is None, report["rejection"] and report["rejection"].message
    probes = report["probes"]
    assert list(probes) == ["load", "params", "batch", "causality", "complexity", "fingerprint"]
    assert all(r["passed"] for r in probes.values())
    assert probes["complexity"]["exponent"] < 1.15
    assert report["fingerprint"].startswith("sha256:")
    done = [e for e in report["events"] if e.get("state") == "done"]
    assert [e["probe"] for e in done] == list(probes)


def test_fft_rounding_noise_stays_under_the_tolerance():
    record = probe(FIXTURES / "causal_fft.py", lengths=SHORT)["probes"]["causality"]
    assert 0 < record["max_leak"] < 1e-3 * record["tolerance"]  # float noise reaches the past; it is tiny


def test_stateful_layer_with_noise_is_judged_deterministically():
    record = probe(FIXTURES / "causal_stateful.py", lengths=SHORT)["probes"]["batch"]
    assert record["stochastic"] is True and record["mode"] == "eval"
    assert probe(FIXTURES / "batchnorm.py", lengths=SHORT)["probes"]["batch"]["mode"] == "train"


def test_fingerprint_equal_for_equal_layers_and_seeds_only(tmp_path):
    copy = tmp_path / "same.py"
    copy.write_text((FIXTURES / "causal_ok.py").read_text())
    a = probe(FIXTURES / "causal_ok.py", lengths=SHORT)["fingerprint"]
    assert probe(copy, lengths=SHORT)["fingerprint"] == a
    assert probe(FIXTURES / "causal_ok.py", seed=1, lengths=SHORT)["fingerprint"] != a
    assert probe(FIXTURES / "causal_stateful.py", lengths=SHORT)["fingerprint"] != a


def test_fingerprint_ignores_float_noise():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as run_probes does: tiny ops, shared cores
    try:
        cls = load_layer_class(str(FIXTURES / "causal_ok.py"), "DeltaNet")
        cand = Candidate(cls, 64, 4, {}, 0, "cpu", False)
        a = probe_fingerprint(cand, FLOAT64)
        cand.layer.double()  # the probe computes in float64: perturb at that precision
        with torch.no_grad():  # a relative perturbation of 1e-12: float noise, far below any real difference
            for p in cand.layer.parameters():
                p.mul_(1 + 1e-12)
        b = probe_fingerprint(cand, FLOAT64)
    finally:
        torch.set_num_threads(threads)
    assert b["fingerprint"] == a["fingerprint"] and b["scale"] != a["scale"]


def is_softmax_attention(path: Path, class_name: str) -> bool:
    """The quadratic reference baseline: layers/attention.py (or a file or class named for softmax attention)."""
    return path.stem in ("attention", "softmax_attention") or class_name in ("Attention", "SoftmaxAttention")


@pytest.mark.parametrize("path, class_name", baseline_layers() or [pytest.param(None, None, marks=pytest.mark.skip(
    reason="no baseline layers in experiments/layers yet"))],
    ids=lambda v: str(Path(v).relative_to(LAYERS)) if isinstance(v, Path) else v)
def test_baseline_layer(path, class_name):
    report = probe(path, class_name)
    complexity = report["probes"]["complexity"]
    if is_softmax_attention(path, class_name):  # the quadratic reference: rejected as a candidate, usable as a baseline
        assert kind(report) == "superlinear" and 1.8 < complexity["exponent"] < 2.1
        assert probe(path, class_name, max_exponent=2.5)["rejection"] is None
    else:
        assert report["rejection"] is None, report["rejection"].message
        assert complexity["exponent"] < 1.15


# delta_net_spectral_fusion really is non-causal: its "minimum-phase" filter is sampled on FFT bins
# (amp * (1 + k^2)^(-p/2) * exp(-i p atan k) for bin k), and the discrete impulse response of that spectrum has an
# anti-causal tail (at lag -1 about 8% of the main tap at L=64..1024, computed from its own formula). Its past
# outputs move by ~1% of the output's scale when a later token changes, in float32 as in float64.
ASI_ARCH_NONCAUSAL = {"delta_net_spectral_fusion"}


@pytest.mark.parametrize("name", asi_arch_names())
def test_asi_arch_layer(name, asi_arch_layer):
    report = probe(asi_arch_layer(name))
    if name in ASI_ARCH_NONCAUSAL:
        assert kind(report) == "noncausal"
        assert report["probes"]["causality"]["max_leak"] > 1e-3
        assert all(r["passed"] for n, r in report["probes"].items() if n != "causality")
    else:
        assert report["rejection"] is None, report["rejection"].message
        assert report["probes"]["complexity"]["exponent"] < 1.15


def test_bench_probes_times_given_layers(capsys):
    from bench.probes import main
    assert main(["--json", "--layer", str(FIXTURES / "causal_fft.py"), "--layer",
                 f"{FIXTURES / 'reverse_cumsum.py'}:DeltaNet"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(r["layer"], r["verdict"], r["kind"]) for r in out["layers"]] == [
        ("causal_fft.py:DeltaNet", "ok", None), ("reverse_cumsum.py:DeltaNet", "rejected", "noncausal")]
    assert out["median_s"] == pytest.approx(sum(r["wall_s"] for r in out["layers"]) / 2)


# ---- through the harness: a probe-stage run writes the result file ------------------------------------------

def test_probe_stage_run_writes_probes_and_fingerprint(run_harness):
    result, events = run_harness({"layer": {"path": str(FIXTURES / "causal_ok.py")}, "stage": "probe",
                                  "train": None, "dtype": "auto", "probe": {"enabled": True}})
    assert result["status"] == "ok", result["error"]
    assert set(result["probes"]) == {"load", "params", "batch", "causality", "complexity", "fingerprint"}
    assert result["fingerprint"] == result["probes"]["fingerprint"]["fingerprint"]
    assert result["curve"] == [] and result["params"]["mixer"] == 2 * result["probes"]["params"]["params"]  # 2 blocks
    assert [e["probe"] for e in events if e.get("event") == "probe" and e["state"] == "done"] == list(result["probes"])


def test_probe_stage_rejection_is_recorded_with_partial_numbers(run_harness):
    result, _ = run_harness({"layer": {"path": str(FIXTURES / "same_padded_conv.py")}, "stage": "probe",
                             "train": None, "probe": {"enabled": True, "lengths": SHORT}})
    assert result["status"] == "rejected" and result["error"]["kind"] == "noncausal"
    assert "first leaking position is 0" in result["error"]["message"]
    causality = result["probes"]["causality"]
    assert causality["passed"] is False and causality["lookahead"] == 1
    assert all(isinstance(v, (int, float)) and math.isfinite(v) for v in
               (causality["max_leak"], causality["tolerance"], result["probes"]["complexity"]["exponent"]))
