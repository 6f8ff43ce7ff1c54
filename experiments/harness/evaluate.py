"""The trusted evaluator: `python -m harness.evaluate SPEC.json [LAUNCH.json]`, run by the orchestrator
outside the sandbox. It never imports candidate code.

It rebuilds the run's held-out inputs and labels from the spec, starts the candidate process (LAUNCH.json:
{"argv": [...], "env": {...}, "sandboxed": bool}, by default `python -m harness.run SPEC.json` unsandboxed),
reads its frames (wire.py), and writes the run's one result file (spec.result_path, a directory the sandbox
cannot write). Every number that enters the archive is computed or measured here: eval loss, task accuracies,
score, the monitor (held-out loss at each logged step, which early stop reads), the eval-time causality check,
the batch and causality probes' verdicts, wall time, tokens/s. What the
candidate process reports (training curve, parameter counts, probe costs, environment) is copied and listed in
result["candidate_reported"]. Progress lines go to stdout as JSON; the exit code is 0 once a result is written.

SIGUSR2 (a Slurm job's batch script forwards it when the time limit or a preemption is near) asks for a
checkpoint: the evaluator creates launch["stop"]["file"], the candidate process saves its checkpoint at the next
step boundary and stops, and the evaluator exits with launch["stop"]["exit_code"] and no result file; the batch
script requeues the job, which resumes from the checkpoint. A run that finishes before a step boundary (probes,
the final evaluation) just finishes.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from .lifetime import die_with_parent
from .spec import RunSpec, SpecError, parse_spec


EXPERIMENTS = Path(__file__).resolve().parent.parent
STARTUP_S = 120.0          # interpreter and torch start-up before the candidate is loaded (the spec's timeout then starts)
EXIT_GRACE_S = 10.0        # after its report, the candidate process has this long to exit by itself


class Worker:
    """The candidate process and everything it sent."""

    def __init__(self, launch: dict, timeout_s: float):
        self.proc = subprocess.Popen(launch["argv"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     cwd=launch.get("cwd") or str(EXPERIMENTS), env=launch.get("env"),
                                     start_new_session=True)
        self.timed_out = False
        self.timeout_s = timeout_s
        self.timer = self._arm(STARTUP_S + timeout_s)
        self.outputs: Dict[str, Any] = {}
        self.tensors: Dict[str, Any] = {}
        self.prefixes: Dict[int, Any] = {}
        self.samples: List[dict] = []
        self.report: Optional[dict] = None
        self.train_times: Dict[str, float] = {}
        self.wire_error: Optional[str] = None
        self.monitor: List[dict] = []                 # [{step, loss}]: the held-out loss computed here
        self.monitor_outputs: Dict[str, Any] = {}     # the monitor slice's outputs of the step being sent
        self.saw_start = False
        self.resumed_from = 0

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


class StopRequest:
    """SIGUSR2's flag and the file that carries it to the candidate process (see the module docstring)."""

    def __init__(self, launch: dict):
        stop = launch.get("stop") if isinstance(launch.get("stop"), dict) else {}
        self.file: Optional[str] = stop.get("file")
        self.exit_code: int = int(stop.get("exit_code", 75))
        self.asked = False
        if self.file and os.path.exists(self.file):
            os.remove(self.file)   # a previous attempt's request: this one (the requeued job) runs on

    def install(self) -> None:
        signal.signal(signal.SIGUSR2, self._on_usr2)

    def _on_usr2(self, signum, frame) -> None:
        self.asked = True
        if self.file:
            open(self.file, "w").close()


def evaluate(spec: RunSpec, spec_path: str, launch: dict, emit, stop: Optional[StopRequest] = None) -> Optional[dict]:
    """The run's result; None when it stopped for a requeue as asked (its checkpoint saved)."""
    started = time.perf_counter()
    worker = Worker(launch, spec.timeout_s)
    emit({"event": "worker", "pid": worker.proc.pid})   # so the orchestrator's backstop can kill its group too
    # torch and the data load only now, so the two interpreters' start-up overlaps instead of adding up
    from .trusted import collect, judge, prepare, setup_failed
    try:
        data, items = prepare(spec)
    except Exception as exc:   # e.g. a corpus that cannot be read: the run fails, as it did in the harness
        worker.finish()
        return setup_failed(spec, exc, launch, time.perf_counter() - started)
    try:
        collect(worker, items, emit, spec.train.steps if spec.train else 0)
    finally:
        code = worker.finish()
    stopped = worker.report.get("stopped") if isinstance(worker.report, dict) else None
    if stop is not None and stop.asked and isinstance(stopped, dict) and not worker.timed_out:
        emit({"event": "checkpointed", "step": stopped.get("step"), "checkpoint": bool(stopped.get("checkpoint"))})
        return None
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

    die_with_parent()
    stop = StopRequest(launch)
    stop.install()

    def emit(event: dict) -> None:
        from .result import finite   # torch-free until evaluate() has started the candidate process
        print(json.dumps(finite(event), allow_nan=False, default=str), flush=True)
    result = evaluate(spec, argv[1], launch, emit, stop)
    if result is None:
        return stop.exit_code   # no result file: the requeued job resumes from the checkpoint
    from .result import write_result
    write_result(result, spec.result_path)
    emit({"event": "done", "status": result["status"]})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
