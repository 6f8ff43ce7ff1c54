"""The trusted evaluator's pieces in-process: the wire format, scoring from returned outputs, the eval-time
causality sample mapping, and probe verdicts judged again from raw outputs (a forged "passed" does not stand)."""
from __future__ import annotations

import io
import math
import random
import struct

import pytest
import torch

from harness.evaluation import (MONITOR_FLOATS, EvalItem, OutputError, causal_leak, causal_samples, monitor_items,
                                monitor_loss, outputs_of, prefix_logits, score_items)
from harness.probes.causality import LENGTH, POSITIONS
from harness.probes.recheck import recheck
from harness.spec import parse_spec
from harness.trusted import monitored
from harness.wire import WireError, read_frame, write_frame


def test_frames_round_trip_and_a_huge_header_is_refused():
    buf = io.BytesIO()
    write_frame(buf, {"type": "eval", "key": "a/0"}, torch.arange(6, dtype=torch.float32).view(2, 3))
    write_frame(buf, {"type": "report"})
    buf.seek(0)
    header, tensor = read_frame(buf)
    assert header["key"] == "a/0" and torch.equal(tensor, torch.arange(6, dtype=torch.float32).view(2, 3))
    assert read_frame(buf)[0] == {"type": "report"} and read_frame(buf) is None
    with pytest.raises(WireError):
        read_frame(io.BytesIO(struct.pack(">I", 1 << 30)))


def item(seed=0) -> EvalItem:
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 8, (3, 10), generator=g)
    y = torch.where(torch.rand(3, 10, generator=g) < 0.5, torch.randint(0, 8, (3, 10), generator=g), -100)
    return EvalItem("t/0", "t", "acc", x, y, 0, 8)


def test_scores_come_from_the_returned_outputs_and_bad_outputs_fail():
    it = item()
    perfect = torch.nn.functional.one_hot(it.y.clamp_min(0), 8).float() * 20
    metrics = score_items([it], {"t/0": outputs_of(it, perfect)})
    assert metrics["t/acc"] == 1.0 and metrics["t/loss"] < 1e-6
    with pytest.raises(OutputError, match="no outputs"):
        score_items([it], {})
    nan = outputs_of(it, perfect).clone()
    nan[0, 0] = float("nan")
    with pytest.raises(OutputError) as err:
        score_items([it], {"t/0": nan})
    assert err.value.kind == "nonfinite"
    with pytest.raises(OutputError, match="shape"):
        score_items([it], {"t/0": outputs_of(it, perfect)[1:]})


def test_causal_samples_point_at_the_same_position_in_the_outputs():
    it = item(1)
    logits = torch.randn(3, 10, 8)
    causal = lambda x: logits[: x.shape[0], : x.shape[1]] if x.shape[0] == 3 else logits[row : row + 1, : x.shape[1]]
    out = outputs_of(it, logits)
    for sample in causal_samples([it], random.Random(0), per_group=5):
        row = sample["row"]
        assert torch.equal(out[sample["index"]], logits[row, sample["t"]])
        assert causal_leak(out[sample["index"]], prefix_logits(it, sample, causal)) == 0.0
        peeking = lambda x: logits[row : row + 1, 1 : x.shape[1] + 1] if x.shape[1] < 10 else logits
        assert causal_leak(out[sample["index"]], prefix_logits(it, sample, peeking)) > 1e-3 or sample["t"] == 9


def test_a_forged_causality_verdict_is_judged_again_from_the_outputs():
    spec = parse_spec({"layer": {"path": "l.py"}, "probe": {"enabled": True}})
    group = 1 + len(POSITIONS)
    y = torch.randn(spec.probe.seeds * group, LENGTH, 4, dtype=torch.float64)
    for s in range(spec.probe.seeds):
        y[s * group + 1:(s + 1) * group] = y[s * group]          # causal: past outputs unchanged
    leaky = y.clone()
    leaky[1, 0] += 1.0                                            # position 0 moved when position 1 changed
    linear = [256.0, 512.0, 1024.0]
    records = {"load": {"passed": True}, "params": {"passed": True}, "fingerprint": {"passed": True},
               "complexity": {"passed": True, "lengths": [256, 512, 1024], "flops": linear, "elements": linear,
                              "peak_mb": linear},
               "batch": {"passed": True, "mode": "train", "stochastic": False},
               "causality": {"passed": True, "precision": "float64"}}
    together = torch.randn(3, 64, 4)
    tensors = {"batch.together": together, "batch.alone": together.clone(), "causality.y": y}
    checked, rejection = recheck(spec, records, tensors)
    assert checked["causality"]["passed"] and checked["causality"]["judged_by"] == "evaluator" and rejection is None
    quadratic = {**records, "complexity": {**records["complexity"], "flops": [v * v for v in linear]}}
    assert recheck(spec, quadratic, tensors)[1][0] == "superlinear"   # a forged "passed" over an L^2 series
    checked, rejection = recheck(spec, records, {**tensors, "causality.y": leaky})
    assert not checked["causality"]["passed"] and rejection[0] == "noncausal"
    checked, rejection = recheck(spec, records, {k: v for k, v in tensors.items() if k != "causality.y"})
    assert rejection[0] == "noncausal" and "did not return" in checked["causality"]["message"]


def test_the_monitor_slice_is_each_tasks_first_item_capped_and_its_loss_is_computed_here():
    small = item()
    other = EvalItem("u/0", "u", "loss", torch.zeros(8, 4096, dtype=torch.long), torch.ones(8, 4096, dtype=torch.long),
                     0, 50257)
    picked = monitor_items([small, item(1), other])
    assert [p.key for p in picked] == ["monitor/t/0", "monitor/u/0"]            # first item per task only
    assert torch.equal(picked[0].x, small.x[:4]) and picked[0].y.shape == small.y[:4].shape
    big = picked[1]
    assert big.x.shape[0] == 1 and int(big.mask.sum()) * 50257 <= MONITOR_FLOATS   # a prefix of one row
    perfect = torch.nn.functional.one_hot(small.y.clamp_min(0), 8).float() * 20
    uniform = torch.zeros(3, 10, 8)
    outputs = {picked[0].key: outputs_of(picked[0], perfect)}
    assert monitor_loss(picked[:1], outputs) < 1e-6
    assert monitor_loss(picked[:1], {picked[0].key: outputs_of(picked[0], uniform)}) == pytest.approx(math.log(8))
    with pytest.raises(OutputError):
        monitor_loss(picked, outputs)                                             # a task's outputs missing


class FakeWorker:
    def __init__(self):
        self.monitor, self.monitor_outputs = [], {}


def test_a_monitor_point_needs_a_new_step_within_the_run_and_complete_finite_outputs():
    items = monitor_items([item()])
    good = outputs_of(items[0], torch.zeros(3, 10, 8))
    worker, events = FakeWorker(), []
    for step, outputs in [(5, good), (5, good), (3, good), (99, good), (True, good), (10, {}), (10, good)]:
        worker.monitor_outputs = {items[0].key: outputs} if isinstance(outputs, torch.Tensor) else outputs
        monitored(worker, items, step, 20, events.append)
    assert [p["step"] for p in worker.monitor] == [5, 10]                       # repeats, the past, past the end: none
    assert events == [{"event": "monitor", "step": s, "total_steps": 20, "loss": pytest.approx(math.log(8))} for s in (5, 10)]
    nan = good.clone()
    nan[0, 0] = float("nan")
    worker.monitor_outputs = {items[0].key: nan}
    monitored(worker, items, 15, 20, events.append)
    assert len(worker.monitor) == 2


class PipeWorker(FakeWorker):
    """What collect() reads: the candidate process's frames on a pipe."""

    def __init__(self, frames: bytes):
        super().__init__()
        self.proc = type("Proc", (), {"stdout": io.BytesIO(frames), "stdin": io.BytesIO()})()
        self.saw_start, self.tensors, self.outputs, self.prefixes, self.samples = False, {}, {}, {}, []
        self.train_times, self.report, self.wire_error = {}, None, None

    def started(self):
        pass


def test_a_candidate_cannot_forge_the_monitor_only_its_outputs_score_it():
    from harness.trusted import collect
    it = item()
    monitor = monitor_items([it])[0]
    buf = io.BytesIO()
    write_frame(buf, {"type": "progress", "event": {"event": "monitor", "step": 5, "total_steps": 20, "loss": 0.0}})
    write_frame(buf, {"type": "progress", "event": {"event": "step", "step": 5, "total_steps": 20, "loss": 0.0}})
    write_frame(buf, {"type": "monitor", "step": 5, "key": monitor.key}, outputs_of(monitor, torch.zeros(3, 10, 8)))
    write_frame(buf, {"type": "monitor_done", "step": 5})
    write_frame(buf, {"type": "report", "result": {"status": "ok"}})
    worker, events = PipeWorker(buf.getvalue()), []
    collect(worker, [it], events.append, total_steps=20)
    monitors = [e for e in events if e["event"] == "monitor"]
    assert monitors == [{"event": "monitor", "step": 5, "total_steps": 20, "loss": pytest.approx(math.log(8))}]
    assert [e["event"] for e in events] == ["step", "monitor"]      # the forged monitor event was not passed on
    assert worker.monitor == [{"step": 5, "loss": pytest.approx(math.log(8))}]
