"""The trusted evaluator: `python -m harness.evaluate SPEC.json [LAUNCH.json]`, run by the orchestrator
outside the sandbox. It never imports candidate code.

It rebuilds the run's held-out inputs and labels from the spec, starts the candidate process (LAUNCH.json:
{"argv": [...], "env": {...}, "sandboxed": bool}, by default `python -m harness.run SPEC.json` unsandboxed),
reads its frames (wire.py), and writes the run's one result file (spec.result_path, a directory the sandbox
cannot write). Every number that enters the archive is computed or measured here: eval loss, task accuracies,
score, the eval-time causality check, the batch and causality probes' verdicts, wall time, tokens/s. What the
candidate process reports (training curve, parameter counts, probe costs, environment) is copied and listed in
result["candidate_reported"]. Progress lines go to stdout as JSON; the exit code is 0 once a result is written.
"""
from __future__ import annotations

import json
import math
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

import torch

from .data import make_data
from .evaluation import CAUSAL_TOLERANCE, OutputError, causal_leak, causal_samples, score_items
from .probes.recheck import recheck
from .result import finite, new_result, set_error, write_result
from .spec import RunSpec, SpecError, parse_spec
from .wire import WireError, read_frame, write_frame

EXPERIMENTS = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((Path(__file__).resolve().parent / "result.schema.json").read_text())
KINDS = set(SCHEMA["properties"]["error"]["anyOf"][0]["properties"]["kind"]["enum"])
PROGRESS = ("start", "step", "eval", "probe")
PROBE_TENSORS = ("batch.together", "batch.alone", "causality.y")
STARTUP_S = 120.0          # interpreter and torch start-up before the candidate is loaded (the spec's timeout then starts)
EXIT_GRACE_S = 10.0        # after its report, the candidate process has this long to exit by itself
REPORTED = ("curve", "params", "fingerprint", "env")


class Worker:
    """The candidate process and everything it sent."""

    def __init__(self, launch: dict, timeout_s: float):
        self.proc = subprocess.Popen(launch["argv"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     cwd=launch.get("cwd") or str(EXPERIMENTS), env=launch.get("env"),
                                     start_new_session=True)
        self.timed_out = False
        self.timeout_s = timeout_s
        self.timer = self._arm(STARTUP_S + timeout_s)
        self.outputs: Dict[str, torch.Tensor] = {}
        self.tensors: Dict[str, torch.Tensor] = {}
        self.prefixes: Dict[int, torch.Tensor] = {}
        self.samples: List[dict] = []
        self.report: Optional[dict] = None
        self.train_times: Dict[str, float] = {}
        self.wire_error: Optional[str] = None
        self.saw_start = False

    def _arm(self, seconds: float) -> threading.Timer:
        timer = threading.Timer(seconds, self._expire)
        timer.daemon = True
        timer.start()
        return timer

    def started(self) -> None:
        """The candidate process has its imports done and is about to load the candidate: the spec's timeout
        runs from here, as the harness's own always has (interpreter start-up is not the candidate's time)."""
        self.timer.cancel()
        self.timer = self._arm(self.timeout_s)

    def _expire(self) -> None:
        self.timed_out = True
        self.kill()

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def answer(self, header: dict) -> None:
        try:
            write_frame(self.proc.stdin, header)
        except (BrokenPipeError, OSError):
            pass

    def finish(self) -> int:
        """The candidate process's exit code (None-like -9 when it had to be killed); then whatever it left in
        its process group is killed (in the sandbox, its pid namespace ends with it)."""
        try:
            code = self.proc.wait(timeout=EXIT_GRACE_S)
        except subprocess.TimeoutExpired:
            code = None
        self.kill()
        self.proc.wait()
        self.timer.cancel()
        return -9 if code is None else code


def collect(worker: Worker, items, emit) -> None:
    keys = {item.key for item in items}
    rng = random.Random(int.from_bytes(os.urandom(8), "little"))  # positions the candidate cannot know in advance
    while True:
        try:
            frame = read_frame(worker.proc.stdout)
        except WireError as exc:
            worker.wire_error = str(exc)
            return
        if frame is None:
            return
        header, tensor = frame
        kind = header["type"]
        if kind == "progress" and isinstance(header.get("event"), dict) and header["event"].get("event") in PROGRESS:
            if header["event"]["event"] == "start" and not worker.saw_start:
                worker.saw_start = True
                worker.started()
            emit(header["event"])
        elif kind == "train" and header.get("state") in ("start", "end"):
            worker.train_times.setdefault(header["state"], time.perf_counter())
        elif kind == "probe_tensor" and header.get("name") in PROBE_TENSORS and tensor is not None:
            worker.tensors.setdefault(header["name"], tensor)
        elif kind == "eval" and header.get("key") in keys and tensor is not None:
            worker.outputs.setdefault(header["key"], tensor)
        elif kind == "eval_done" and not worker.samples:
            worker.samples = causal_samples(items, rng)
            worker.answer({"type": "causal", "samples": [{k: s[k] for k in ("key", "row", "t")}
                                                         for s in worker.samples]})
        elif kind == "prefix" and isinstance(header.get("i"), int) and tensor is not None:
            worker.prefixes.setdefault(header["i"], tensor)
        elif kind == "report" and isinstance(header.get("result"), dict):
            worker.report = header["result"]
            return   # the last frame: nothing after it is read


def eval_causality(worker: Worker, items, dtype: str) -> dict:
    """Prefix-only logits against the full-sequence ones at the sampled positions."""
    tolerance = CAUSAL_TOLERANCE.get(dtype, CAUSAL_TOLERANCE["float32"])
    worst, where = 0.0, None
    for i, sample in enumerate(worker.samples):
        leak = causal_leak(worker.outputs[sample["key"]][sample["index"]], worker.prefixes.get(i, torch.empty(0)))
        if leak > worst or where is None:
            worst, where = max(worst, leak), sample
    record = {"passed": worst <= tolerance, "max_leak": worst if math.isfinite(worst) else None,
              "tolerance": tolerance, "samples": len(worker.samples)}
    if not record["passed"] and where is not None:
        record["message"] = (f"at evaluation, the logits at position {where['t']} of {where['key']} row "
                             f"{where['row']} differ between the prefix alone and the full sequence (relative "
                             f"{worst:.2e}, tolerance {tolerance:.0e})")
    return record


def copy_reported(result: dict, report: dict) -> None:
    curve = report.get("curve")
    if isinstance(curve, list):
        result["curve"] = [{"step": int(p["step"]), "tokens": int(p["tokens"]),
                            "loss": float(p["loss"]) if isinstance(p.get("loss"), (int, float)) else None}
                           for p in curve if isinstance(p, dict) and isinstance(p.get("step"), int)
                           and isinstance(p.get("tokens"), int) and p["step"] >= 0 and p["tokens"] >= 0]
    params = report.get("params")
    if isinstance(params, dict) and all(isinstance(params.get(k), int) for k in ("total", "mixer")):
        result["params"] = {"total": params["total"], "mixer": params["mixer"]}
    if isinstance(report.get("fingerprint"), str):
        result["fingerprint"] = report["fingerprint"][:200]
    env = report.get("env")
    if isinstance(env, dict):
        result["env"].update({k: str(env[k])[:200] for k in ("torch", "python", "device", "dtype", "fla")
                              if k in env})
        if isinstance(env.get("threads"), int):
            result["env"]["threads"] = env["threads"]


def reported_error(result: dict, report: dict) -> None:
    """A failure the candidate process reports stands: it can only lower its own standing."""
    error = report.get("error") if isinstance(report.get("error"), dict) else {}
    status = report.get("status") if report.get("status") in ("rejected", "failed", "timeout") else "failed"
    kind = error.get("kind") if error.get("kind") in KINDS else "crash"
    set_error(result, status, kind, str(error.get("message") or kind), str(error.get("tail") or ""))


def judge(spec: RunSpec, data, items, worker: Worker, code: int, launch: dict) -> dict:
    env = {"torch": torch.__version__, "python": "unknown", "device": spec.device, "dtype": spec.dtype,
           "seed": spec.seed}
    result = new_result(spec.stage, env)
    result["sandboxed"] = bool(launch.get("sandboxed"))
    report = worker.report
    if report is not None:
        copy_reported(result, report)
        result["candidate_reported"] = [k for k in REPORTED if result[k] not in (None, [])]
    if worker.timed_out:
        return set_error(result, "timeout", "timeout", f"killed after {spec.timeout_s:g} s")
    if worker.wire_error:
        return set_error(result, "failed", "crash", f"the candidate process broke the protocol: {worker.wire_error}")
    if report is None:
        return set_error(result, "failed", "crash", f"the candidate process exited (code {code}) without a report")
    if report.get("status") != "ok":
        reported_error(result, report)
        if isinstance(report.get("probes"), dict):
            result["probes"] = recheck(spec, report["probes"], worker.tensors)[0] or None
        return result
    if spec.probe.enabled:
        result["probes"], rejection = recheck(spec, report.get("probes"), worker.tensors)
        result["candidate_reported"].append("probes.load/params/fingerprint/complexity costs")
        if rejection is not None:
            return set_error(result, "failed" if rejection[0] in ("crash", "oom") else "rejected", *rejection)
    if data is not None:
        try:
            result["metrics"] = score_items(items, worker.outputs)
        except OutputError as exc:
            return set_error(result, "failed", exc.kind, exc.message)
        if hasattr(data, "summary"):
            result["metrics"].update(data.summary(result["metrics"]))
        result["eval_causality"] = eval_causality(worker, items, result["env"]["dtype"])
        if not result["eval_causality"]["passed"]:
            return set_error(result, "rejected", "noncausal", result["eval_causality"].get(
                "message", "no prefix-only logits for the sampled positions"))
        start, end = worker.train_times.get("start"), worker.train_times.get("end")
        if start is not None and end is not None and end > start:
            result["device_s"] = round(end - start, 3)
            result["tokens_per_s"] = data.train_tokens(spec.train.steps) / (end - start)
    if code != 0:
        return set_error(result, "failed", "crash", f"the candidate process exited with code {code}")
    return result


def evaluate(spec: RunSpec, spec_path: str, launch: dict, emit) -> dict:
    data = make_data(spec) if spec.train else None
    items = data.eval_items() if data is not None else []
    started = time.perf_counter()
    worker = Worker(launch, spec.timeout_s)
    emit({"event": "worker", "pid": worker.proc.pid})   # so the orchestrator's backstop can kill its group too
    try:
        collect(worker, items, emit)
    finally:
        code = worker.finish()
    wall = time.perf_counter() - started
    result = judge(spec, data, items, worker, code, launch)
    result["wall_s"] = round(wall, 3)
    return result


def main(argv: list) -> int:
    if len(argv) not in (2, 3):
        print("usage: python -m harness.evaluate SPEC.json [LAUNCH.json]", file=sys.stderr)
        return 2
    try:
        with open(argv[1]) as f:
            spec = parse_spec(json.load(f))
        launch = {"argv": [sys.executable, "-m", "harness.run", argv[1]], "sandboxed": False}
        if len(argv) == 3:
            with open(argv[2]) as f:
                launch = json.load(f)
    except (OSError, ValueError, SpecError) as exc:
        print(f"harness: bad run spec {argv[1]}: {exc}", file=sys.stderr)
        return 2

    def emit(event: dict) -> None:
        print(json.dumps(finite(event), allow_nan=False, default=str), flush=True)
    result = evaluate(spec, argv[1], launch, emit)
    write_result(result, spec.result_path)
    emit({"event": "done", "status": result["status"]})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
