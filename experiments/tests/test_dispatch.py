"""The backend dispatcher: fla absent -> chunk; a backend whose self-check fails -> fallback logged once;
a forced backend is honoured; a bad backend name is a clear ValueError."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import archlab_ops
from archlab_ops import DISPATCH, fla_backend
from archlab_ops.delta_rule import chunk_delta_rule, naive_delta_rule
from archlab_ops.dispatch import ENV_BACKEND, Backend, Dispatcher


def inputs(L: int = 20, dtype=torch.float32) -> dict:
    gen = torch.Generator().manual_seed(0)
    k = F.normalize(torch.randn(1, L, 2, 4, generator=gen), dim=-1)
    return {"q": torch.randn(1, L, 2, 4, generator=gen).to(dtype), "k": k.to(dtype),
            "v": torch.randn(1, L, 2, 4, generator=gen).to(dtype), "beta": torch.rand(1, L, 2, generator=gen).to(dtype),
            "g": None, "scale": 0.5, "initial_state": None, "output_final_state": False, "chunk_size": 16}


class Spy:
    """An implementation that counts its calls and optionally corrupts or breaks the result."""

    def __init__(self, impl, corrupt=False, fail_backward=False, fail_below_length=0):
        self.impl, self.corrupt, self.fail_backward = impl, corrupt, fail_backward
        self.fail_below_length = fail_below_length
        self.calls = 0

    def __call__(self, q, k, v, **kw):
        self.calls += 1
        if q.shape[1] < self.fail_below_length:
            raise RuntimeError("kernel refuses short sequences")
        o, state = self.impl(q, k, v, **kw)
        if self.corrupt:
            o = o * 1.5
        if self.fail_backward:
            o = FailingBackward.apply(o)
        return o, state


class FailingBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("incorrect results for gated chunk_bwd")


def dispatcher_with(fake: Spy, lines: list) -> Dispatcher:
    return Dispatcher([Backend("fast", {"delta_rule": fake}, self_check=True),
                       Backend("chunk", {"delta_rule": chunk_delta_rule}),
                       Backend("naive", {"delta_rule": naive_delta_rule})],
                      auto_order=("fast", "chunk"), reference="chunk", log=lines.append)


@pytest.fixture(autouse=True)
def no_forced_backend(monkeypatch):
    monkeypatch.delenv(ENV_BACKEND, raising=False)
    DISPATCH.forget()
    yield
    DISPATCH.forget()


def test_without_fla_auto_uses_the_chunked_form():
    assert DISPATCH.select("delta_rule", inputs()) == "chunk"
    row = archlab_ops.backend_report()[0]
    assert row["backend"] == "chunk" and row["reason"].startswith("fla: ")


@pytest.mark.skipif(fla_backend.unavailable("delta_rule", torch.device("cuda")) is None,
                    reason="flash-linear-attention is installed here")
def test_fla_absent_is_reported_as_the_reason_even_on_cuda():
    assert "not importable" in fla_backend.unavailable("delta_rule", torch.device("cuda"))


def test_backend_whose_self_check_fails_falls_back_and_logs_once():
    lines = []
    fake = Spy(chunk_delta_rule, corrupt=True)
    d = dispatcher_with(fake, lines)
    x = inputs()
    out = [d.run("delta_rule", x)[0] for _ in range(3)]
    ref, _ = chunk_delta_rule(**x)
    assert all(torch.equal(o, ref) for o in out)
    assert fake.calls == 1                         # only the self-check ran it
    assert len(lines) == 1 and "fast delta_rule on cpu" in lines[0]
    assert "output differs from the chunked form" in lines[0] and "falling back to chunk" in lines[0]
    assert d.report()[0]["backend"] == "chunk"


def test_self_check_covers_gradients():
    lines = []
    d = dispatcher_with(Spy(chunk_delta_rule, fail_backward=True), lines)
    assert d.select("delta_rule", inputs()) == "chunk"
    assert "RuntimeError: incorrect results for gated chunk_bwd" in lines[0]


def test_backend_that_passes_its_self_check_is_used():
    lines = []
    fake = Spy(chunk_delta_rule)
    d = dispatcher_with(fake, lines)
    d.run("delta_rule", inputs())
    d.run("delta_rule", inputs())
    assert fake.calls == 3 and lines == []         # self-check + two real calls
    assert d.report()[0]["reason"] == "self-check passed"


def test_backend_that_raises_on_a_real_call_falls_back_for_good():
    lines = []
    fake = Spy(chunk_delta_rule, fail_below_length=50)   # the self-check uses L = 100
    d = dispatcher_with(fake, lines)
    o, _ = d.run("delta_rule", inputs(L=20))
    assert torch.equal(o, chunk_delta_rule(**inputs(L=20))[0])
    d.run("delta_rule", inputs(L=20))
    assert len(lines) == 1 and "raised RuntimeError: kernel refuses short sequences" in lines[0]
    assert fake.calls == 2


def test_each_dtype_gets_its_own_verdict():
    lines = []
    d = dispatcher_with(Spy(chunk_delta_rule, corrupt=True), lines)
    d.select("delta_rule", inputs(dtype=torch.float32))
    d.select("delta_rule", inputs(dtype=torch.bfloat16))
    assert len(lines) == 2 and "bfloat16" in lines[1]


def test_forced_backend_is_honoured_without_self_check(monkeypatch):
    lines = []
    fake = Spy(chunk_delta_rule, corrupt=True)
    d = dispatcher_with(fake, lines)
    d.run("delta_rule", inputs(), backend="fast")
    assert fake.calls == 1 and lines == []
    monkeypatch.setenv(ENV_BACKEND, "fast")
    d.run("delta_rule", inputs())
    assert fake.calls == 2
    assert d.select("delta_rule", inputs(), backend="naive") == "naive"   # the argument beats the env


def test_env_var_forces_the_default_dispatcher(monkeypatch):
    monkeypatch.setenv(ENV_BACKEND, "naive")
    assert DISPATCH.select("delta_rule", inputs()) == "naive"
    x = inputs()
    o, _ = archlab_ops.delta_rule(x["q"], x["k"], x["v"], x["beta"])
    assert torch.equal(o, naive_delta_rule(**{**x, "scale": 4 ** -0.5})[0])


@pytest.mark.parametrize("where", ["argument", "env"])
def test_unknown_backend_name_is_a_clear_value_error(where, monkeypatch):
    x = inputs()
    if where == "env":
        monkeypatch.setenv(ENV_BACKEND, "triton")
    with pytest.raises(ValueError, match=r"unknown archlab_ops backend 'triton'.*auto, fla, chunk, naive"):
        archlab_ops.delta_rule(x["q"], x["k"], x["v"], x["beta"], backend="triton" if where == "argument" else None)


def test_forcing_a_backend_that_cannot_run_here_raises():
    x = inputs()
    with pytest.raises(RuntimeError, match="backend 'fla' was forced but cannot run delta_rule here"):
        archlab_ops.delta_rule(x["q"], x["k"], x["v"], x["beta"], backend="fla")


def test_self_check_leaves_rng_grad_mode_and_autocast_alone():
    d = dispatcher_with(Spy(chunk_delta_rule), [])
    torch.manual_seed(123)
    before = torch.get_rng_state()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert d.select("delta_rule", inputs()) == "fast"
        assert not torch.is_grad_enabled() and torch.is_autocast_enabled("cpu")
    assert torch.equal(before, torch.get_rng_state())


def test_compiler_failure_falls_back_to_eager_once(monkeypatch):
    lines = []
    d = Dispatcher([Backend("chunk", {"delta_rule": chunk_delta_rule}, compile_on_cuda=True)],
                   auto_order=("chunk",), reference="chunk", log=lines.append, compile_on=("cpu",))

    def broken_compile(fn, **kwargs):
        def compiled(**inputs):
            raise RuntimeError("BackendCompilerFailed: inductor exploded")
        return compiled
    monkeypatch.setattr(torch, "compile", broken_compile)
    x = inputs()
    for _ in range(2):
        assert torch.equal(d.run("delta_rule", x)[0], chunk_delta_rule(**x)[0])
    assert len(lines) == 1 and "torch.compile of chunk delta_rule failed" in lines[0]


def test_ops_trace_under_torch_compile():
    """Candidates may wrap layers in torch.compile: the dispatch must not break tracing (eager backend: no
    C++ compiler needed)."""
    x = inputs(L=20)

    def fn(q, k, v, beta):
        return archlab_ops.delta_rule(q, k, v, beta, chunk_size=16)[0] * 2

    compiled = torch.compile(fn, backend="eager")
    args = (x["q"], x["k"], x["v"], x["beta"])
    assert torch.allclose(compiled(*args), fn(*args), atol=1e-6)
