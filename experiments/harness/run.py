"""Harness entry point: `python -m harness.run SPEC.json`.

Reads one run spec, loads the candidate, optionally probes it, trains it, and writes exactly one result file
(result.py). Progress goes to stdout as JSON lines; anything else the candidate prints goes to stderr (the log).
Exit code 0 whenever a result file was written, whatever its status; 2 for a spec that cannot be read.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import Callable

import torch

from .data import RandomTokens
from .loader import is_out_of_memory, limit_memory, load_layer_class, prepare_imports
from .model import LM, LMConfig
from .result import CandidateError, environment, new_result, set_error, traceback_tail, write_result
from .spec import RunSpec, SpecError, parse_spec
from .train import logits_fn, train


class HarnessTimeout(BaseException):
    """A BaseException, like KeyboardInterrupt, so a candidate's `except Exception:` cannot swallow it."""


def progress_stream() -> Callable[[dict], None]:
    """Keep the real stdout for progress lines and send fd 1 (print, C-level writes) to stderr."""
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def emit(event: dict) -> None:
        out.write(json.dumps(event) + "\n")
    return emit


def die_with_parent() -> None:
    """If the orchestrator is killed (even with SIGKILL), this run dies too instead of training on as an orphan."""
    try:
        import ctypes
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the orchestrator's process-group kill still applies


def arm_timeout(seconds: float) -> None:
    def on_alarm(signum, frame):
        raise HarnessTimeout(f"run exceeded its {seconds:g} s timeout")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)


def make_data(spec: RunSpec):
    t, d = spec.train, spec.data
    if d.kind == "random":
        return RandomTokens(spec.model.vocab_size, t.seq_len, t.batch_size, spec.seed, d.eval_batches)
    from .tasks import make_source  # the proxy stage's tasks and corpus (tasks/)
    return make_source(spec)


def build_model(spec: RunSpec, cls: type, vocab_size: int) -> LM:
    m = spec.model
    cfg = LMConfig(vocab_size=vocab_size, hidden_size=m.hidden_size, num_layers=m.num_layers,
                   num_heads=m.num_heads, mlp_ratio=m.mlp_ratio, layer_kwargs=dict(spec.layer.kwargs))
    torch.manual_seed(spec.seed)
    return LM(cfg, cls).to(spec.device)


DTYPE_MISMATCH = ("same dtype", "expected scalar type", "expected both", "dtype mismatch", "mat1 and mat2")


def needs_bf16(model: LM, spec: RunSpec) -> bool:
    """ASI-Arch's layers cast to bf16 mid-computation (they trained under bf16): in fp32 that raises a dtype
    mismatch. dtype 'auto' tries fp32 once and falls back to bf16 autocast only for that error."""
    if spec.dtype != "auto":
        return spec.dtype == "bfloat16"
    x = torch.randint(0, model.cfg.vocab_size, (1, 16), device=spec.device)
    try:
        model(x)
        return False
    except CandidateError as exc:
        if any(marker in exc.message for marker in DTYPE_MISMATCH):
            return True
        raise


def run(spec: RunSpec, emit: Callable[[dict], None]) -> dict:
    started = time.perf_counter()
    if spec.threads:
        torch.set_num_threads(spec.threads)
    fla = prepare_imports(compile_enabled=spec.compile and spec.device.startswith("cuda"))
    os.environ["ARCHLAB_OPS_BACKEND"] = spec.ops_backend
    result = new_result(spec.stage, environment(spec.device, spec.dtype, spec.seed, fla))
    emit({"event": "start", "stage": spec.stage, "layer": spec.layer.path})
    try:
        if spec.device == "cpu":
            limit_memory(spec.memory_mb)
        arm_timeout(spec.timeout_s)
        cls = load_layer_class(spec.layer.path, spec.layer.class_name)
        data = make_data(spec) if spec.train else None
        model = build_model(spec, cls, data.vocab_size if data else spec.model.vocab_size)
        result["params"] = {"total": sum(p.numel() for p in model.parameters()), "mixer": model.mixer_params()}
        bf16 = needs_bf16(model, spec) if spec.device == "cpu" else spec.dtype != "float32"
        result["env"]["dtype"] = "bfloat16-autocast" if bf16 else "float32"
        if spec.probe.enabled:
            from .probes import run_probes
            report = run_probes(cls, spec, bf16, emit)
            result["probes"], result["fingerprint"] = report["probes"], report["fingerprint"]
            if report["rejection"] is not None:
                raise report["rejection"]
        if data is not None:
            trained = train(model, data, spec.train, spec.device, bf16, emit, spec.checkpoint_path)
            result["curve"], result["tokens_per_s"] = trained["curve"], trained["tokens_per_s"]
            result["device_s"] = trained["train_s"]
            emit({"event": "eval"})
            result["metrics"] = data.evaluate(logits_fn(model, spec.device, bf16))
            if hasattr(data, "summary"):
                result["metrics"].update(data.summary(result["metrics"]))
    except CandidateError as exc:
        set_error(result, exc.status, exc.kind, exc.message, exc.tail)
    except HarnessTimeout as exc:
        set_error(result, "timeout", "timeout", str(exc), traceback_tail(exc))
    except (MemoryError, RuntimeError) as exc:
        if not is_out_of_memory(exc):
            raise
        set_error(result, "failed", "oom", f"out of memory: {exc}", traceback_tail(exc))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    result["wall_s"] = round(time.perf_counter() - started, 3)
    return result


def main(argv: list) -> int:
    if len(argv) != 2:
        print("usage: python -m harness.run SPEC.json", file=sys.stderr)
        return 2
    try:
        with open(argv[1]) as f:
            spec = parse_spec(json.load(f))
    except (OSError, ValueError, SpecError) as exc:
        print(f"harness: bad run spec {argv[1]}: {exc}", file=sys.stderr)
        return 2
    die_with_parent()
    emit = progress_stream()
    try:
        result = run(spec, emit)
    except Exception as exc:  # a harness bug or an error we could not attribute: still one result file
        result = new_result(spec.stage, environment(spec.device, spec.dtype, spec.seed, "unknown"))
        set_error(result, "failed", "crash", f"{type(exc).__name__}: {exc}", traceback_tail(exc))
        print(traceback_tail(exc), file=sys.stderr)
    write_result(result, spec.result_path)
    emit({"event": "done", "status": result["status"]})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
