"""The candidate side of a run: `python -m harness.run SPEC.json`, started (inside the sandbox) by the trusted
evaluator (evaluate.py), never by the orchestrator directly.

Reads one run spec, loads the candidate, optionally probes it, trains it, and sends everything back as frames
on stdout (wire.py): progress, the probes' raw outputs, its logits on the held-out inputs, prefix-only logits
for the positions the evaluator samples (read from stdin), and last a report (curve, params, probe records,
error). It computes no metric that enters the archive and writes no result file: this process runs the
candidate's code, so anything it computed the candidate could rewrite. Anything else printed goes to stderr.
Exit code 0 once the report is sent, whatever its status; 2 for a spec that cannot be read.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import BinaryIO, Callable, Optional

import torch

from .data import make_data
from .lifetime import die_with_parent
from .loader import is_out_of_memory, limit_memory, load_layer_class, prepare_imports
from .model import LM, LMConfig
from .evaluation import monitor_items, outputs_of, prefix_logits
from .result import CandidateError, environment, new_result, set_error, traceback_tail
from .spec import RunSpec, SpecError, parse_spec
from .train import Checkpointed, logits_fn, train
from .wire import read_frame, write_frame


class HarnessTimeout(BaseException):
    """A BaseException, like KeyboardInterrupt, so a candidate's `except Exception:` cannot swallow it."""


class Channel:
    """The frames to the evaluator on the real stdout (fd 1 then goes to stderr: print, C-level writes) and
    its answers on stdin."""

    def __init__(self) -> None:
        self.out: BinaryIO = os.fdopen(os.dup(1), "wb", buffering=0)
        self.inp: BinaryIO = os.fdopen(os.dup(0), "rb", buffering=0)
        os.dup2(2, 1)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        sys.stdout = sys.stderr

    def send(self, header: dict, tensor: Optional[torch.Tensor] = None) -> None:
        write_frame(self.out, header, tensor)

    def emit(self, event: dict) -> None:
        self.send({"type": "progress", "event": event})

    def receive(self) -> dict:
        frame = read_frame(self.inp)
        if frame is None:
            raise CandidateError("crash", "the evaluator closed the channel", status="failed")
        return frame[0]


def arm_timeout(seconds: float) -> None:
    def on_alarm(signum, frame):
        raise HarnessTimeout(f"run exceeded its {seconds:g} s timeout")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)


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


def send_outputs(channel: Channel, data, logits_of: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """The held-out logits, then prefix-only logits at the positions the evaluator picks after seeing them."""
    items = data.eval_items()
    for item in items:
        channel.send({"type": "eval", "key": item.key}, outputs_of(item, logits_of(item.x)))
    channel.send({"type": "eval_done"})
    by_key = {item.key: item for item in items}
    request = channel.receive()
    for i, sample in enumerate(request.get("samples", [])):
        item = by_key.get(sample.get("key"))
        if item is not None:
            channel.send({"type": "prefix", "i": i}, prefix_logits(item, sample, logits_of))


def monitor(channel: Channel, data, model: LM, spec: RunSpec, bf16: bool) -> Callable[[int], None]:
    """At each logged step, the model's outputs on the fixed monitor slice, from which the evaluator computes
    the held-out loss that early stop reads (this process's own training loss is only reported)."""
    items = monitor_items(data.eval_items())
    logits_of = logits_fn(model, spec.device, bf16)

    def send(step: int) -> None:
        for item in items:
            channel.send({"type": "monitor", "step": step, "key": item.key}, outputs_of(item, logits_of(item.x)))
        channel.send({"type": "monitor_done", "step": step})
    return send


def stop_requested() -> bool:
    """The evaluator asks for a checkpoint-and-stop by creating ARCHLAB_STOP_FILE (in the work dir, the one
    place both sides reach through the sandbox); training checks it at each step boundary."""
    stop_file = os.environ.get("ARCHLAB_STOP_FILE")
    return bool(stop_file) and os.path.exists(stop_file)


def run(spec: RunSpec, emit: Callable[[dict], None], channel: Optional[Channel] = None) -> dict:
    """One run; with a channel (a real run) the outputs go to the evaluator, without one (in-process tests)
    the metrics are computed here."""
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
            for name, tensor in report["tensors"].items() if channel else ():
                channel.send({"type": "probe_tensor", "name": name}, tensor)
            if report["rejection"] is not None:
                raise report["rejection"]
        if data is not None:
            if channel:
                channel.send({"type": "train", "state": "start"})
            on_log = monitor(channel, data, model, spec, bf16) if channel else None
            trained = train(model, data, spec.train, spec.device, bf16, emit, spec.checkpoint_path, on_log,
                            stop_requested)
            if channel:  # resumed_from: the steps trained here are the rest (the evaluator's tokens/s)
                channel.send({"type": "train", "state": "end", "resumed_from": trained["resumed_from"]})
            result["curve"], result["tokens_per_s"] = trained["curve"], trained["tokens_per_s"]
            result["device_s"] = trained["train_s"]
            emit({"event": "eval"})
            if channel:
                send_outputs(channel, data, logits_fn(model, spec.device, bf16))
            else:
                result["metrics"] = data.evaluate(logits_fn(model, spec.device, bf16))
            if hasattr(data, "summary") and not channel:
                result["metrics"].update(data.summary(result["metrics"]))
    except CandidateError as exc:
        set_error(result, exc.status, exc.kind, exc.message, exc.tail)
    except Checkpointed as exc:
        result["stopped"] = {"step": exc.step, "checkpoint": exc.saved}
        set_error(result, "failed", "crash", str(exc))
    except HarnessTimeout as exc:
        set_error(result, "timeout", "timeout", str(exc), traceback_tail(exc))
    except (MemoryError, RuntimeError) as exc:
        if not is_out_of_memory(exc):
            raise
        set_error(result, "failed", "oom", f"out of memory: {exc}", traceback_tail(exc))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    result["wall_s"] = round(time.perf_counter() - started, 3)
    if spec.device.startswith("cuda") and torch.cuda.is_available():  # what the GPU pool sizes its slots by
        result["env"]["gpu_peak_memory_mb"] = round(torch.cuda.max_memory_reserved() / 2**20, 1)
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
    channel = Channel()
    try:
        result = run(spec, channel.emit, channel)
    except Exception as exc:  # a harness bug or an error we could not attribute: still one result file
        result = new_result(spec.stage, environment(spec.device, spec.dtype, spec.seed, "unknown"))
        set_error(result, "failed", "crash", f"{type(exc).__name__}: {exc}", traceback_tail(exc))
        print(traceback_tail(exc), file=sys.stderr)
    channel.send({"type": "report", "result": result})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
