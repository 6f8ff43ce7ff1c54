"""The trusted evaluator's judging half (evaluate.py starts the candidate process, then imports this): reads
the candidate process's frames and builds the run's result from what it computes itself. Never imports
candidate code."""
from __future__ import annotations

import json
import math
import os
import random
import time
from pathlib import Path
from typing import List

import torch

from .data import make_data
from .evaluation import (CAUSAL_TOLERANCE, EvalItem, OutputError, causal_leak, causal_samples, monitor_items,
                         monitor_loss, score_items)
from .probes.recheck import recheck
from .result import new_result, set_error, traceback_tail
from .spec import RunSpec
from .wire import WireError, read_frame, write_frame

PROGRESS = ("start", "step", "eval", "probe")   # "monitor" events are this process's own (monitored())
PROBE_TENSORS = ("batch.together", "batch.alone", "causality.y")
REPORTED = ("curve", "params", "fingerprint", "env")
SCHEMA = json.loads((Path(__file__).resolve().parent / "result.schema.json").read_text())
KINDS = set(SCHEMA["properties"]["error"]["anyOf"][0]["properties"]["kind"]["enum"])


def answer(worker, header: dict) -> None:
    """Writes to the candidate process's stdin (it may have closed it: then nothing happens)."""
    try:
        write_frame(worker.proc.stdin, header)
    except (BrokenPipeError, OSError):
        pass


def prepare(spec: RunSpec):
    """The run's data source and held-out items, rebuilt here from the spec (labels included)."""
    data = make_data(spec) if spec.train else None
    items: List[EvalItem] = data.eval_items() if data is not None else []
    return data, items


def setup_failed(spec: RunSpec, exc: Exception, launch: dict, wall: float) -> dict:
    result = new_result(spec.stage, {"torch": torch.__version__, "python": "unknown", "device": spec.device,
                                     "dtype": spec.dtype, "seed": spec.seed})
    result["sandboxed"], result["wall_s"] = bool(launch.get("sandboxed")), round(wall, 3)
    return set_error(result, "failed", "crash", f"{type(exc).__name__}: {exc}", traceback_tail(exc))


def monitored(worker, monitor: List[EvalItem], step, total_steps: int, emit) -> None:
    """The held-out loss at a logged step, computed here from the candidate's outputs on the monitor slice
    (labels never leave this process); emitted as {"event": "monitor", "step", "loss"} and kept for the result.
    A step out of order, past the run's end, or with missing or non-finite outputs gives no point."""
    outputs, worker.monitor_outputs = worker.monitor_outputs, {}
    last = worker.monitor[-1]["step"] if worker.monitor else 0
    if not isinstance(step, int) or isinstance(step, bool) or not last < step <= total_steps:
        return
    try:
        loss = monitor_loss(monitor, outputs)
    except OutputError:
        return
    if not math.isfinite(loss):
        return
    worker.monitor.append({"step": step, "loss": round(loss, 6)})
    emit({"event": "monitor", "step": step, "total_steps": total_steps, "loss": round(loss, 6)})


def collect(worker, items, emit, total_steps: int = 0) -> None:
    keys = {item.key for item in items}
    monitor = monitor_items(items)
    monitor_keys = {item.key for item in monitor}
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
            event = header["event"]
            if event["event"] == "start":
                if not worker.saw_start:
                    worker.saw_start = True
                    worker.started()
                event = {**event, "timeout_s": worker.timeout_s}   # the limit enforced here, not a claimed one
            emit(event)
        elif kind == "train" and header.get("state") in ("start", "end"):
            worker.train_times.setdefault(header["state"], time.perf_counter())
            if header["state"] == "end" and isinstance(header.get("resumed_from"), int):
                worker.resumed_from = header["resumed_from"]
        elif kind == "probe_tensor" and header.get("name") in PROBE_TENSORS and tensor is not None:
            worker.tensors.setdefault(header["name"], tensor)
        elif kind == "monitor" and header.get("key") in monitor_keys and tensor is not None:
            worker.monitor_outputs.setdefault(header["key"], tensor)
        elif kind == "monitor_done":
            monitored(worker, monitor, header.get("step"), total_steps, emit)
        elif kind == "eval" and header.get("key") in keys and tensor is not None:
            worker.outputs.setdefault(header["key"], tensor)
        elif kind == "eval_done" and not worker.samples:
            worker.samples = causal_samples(items, rng)
            answer(worker, {"type": "causal", "samples": [{k: s[k] for k in ("key", "row", "t")}
                                                         for s in worker.samples]})
        elif kind == "prefix" and isinstance(header.get("i"), int) and tensor is not None:
            worker.prefixes.setdefault(header["i"], tensor)
        elif kind == "report" and isinstance(header.get("result"), dict):
            worker.report = header["result"]
            return   # the last frame: nothing after it is read


def eval_causality(worker, items, dtype: str) -> dict:
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
        peak = env.get("gpu_peak_memory_mb")
        if isinstance(peak, (int, float)) and math.isfinite(peak) and peak >= 0:
            result["env"]["gpu_peak_memory_mb"] = float(peak)


def reported_error(result: dict, report: dict) -> None:
    """A failure the candidate process reports stands: it can only lower its own standing."""
    error = report.get("error") if isinstance(report.get("error"), dict) else {}
    status = report.get("status") if report.get("status") in ("rejected", "failed", "timeout") else "failed"
    kind = error.get("kind") if error.get("kind") in KINDS else "crash"
    set_error(result, status, kind, str(error.get("message") or kind), str(error.get("tail") or ""))


def judge(spec: RunSpec, data, items, worker, code: int, launch: dict) -> dict:
    env = {"torch": torch.__version__, "python": "unknown", "device": spec.device, "dtype": spec.dtype,
           "seed": spec.seed}
    result = new_result(spec.stage, env)
    result["sandboxed"] = bool(launch.get("sandboxed"))
    result["monitor"] = list(worker.monitor)
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
    if isinstance(report.get("stopped"), dict):  # a stop the evaluator asked for never reaches judge()
        return set_error(result, "failed", "crash", "the candidate process stopped training without being asked")
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
            # a run resumed from a checkpoint trained only the steps after it in this process (candidate-reported)
            first = min(max(0, getattr(worker, "resumed_from", 0)), spec.train.steps - 1)
            result["tokens_per_s"] = data.train_tokens(spec.train.steps - first) / (end - start)
    if code != 0:
        return set_error(result, "failed", "crash", f"the candidate process exited with code {code}")
    return result


