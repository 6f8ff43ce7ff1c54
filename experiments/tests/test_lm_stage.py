"""The LM stage: causal LM on prepared token files (tasks/tokens.py) with recall benchmarks, gradient
accumulation, and checkpoints: a run SIGKILLed mid-way resumes from its last checkpoint with the same curve."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import EXPERIMENTS, LAYERS

TOKENS_SCHEMA = json.loads((EXPERIMENTS / "harness" / "tokens.schema.json").read_text())


def token_dir(tmp_path: Path, vocab: int = 96) -> Path:
    """A prepared token directory: what `archlab data prepare` writes (train/val uint16 + manifest)."""
    out = tmp_path / "tokens"
    out.mkdir()
    rng = np.random.default_rng(0)
    # a learnable stream: a repeating pattern with noise, so the loss falls within a few steps
    pattern = rng.integers(0, vocab, size=37)
    data = {"train": np.tile(pattern, 200), "val": np.tile(pattern, 30)}
    splits = {}
    for name, tokens in data.items():
        tokens = tokens.astype(np.uint16)
        noise = rng.random(tokens.shape) < 0.1
        tokens[noise] = rng.integers(0, vocab, size=int(noise.sum()))
        tokens.tofile(out / f"{name}.bin")
        splits[name] = {"file": f"{name}.bin", "tokens": int(tokens.size), "sha256": "0" * 64, "documents": 1}
    manifest = {"schema": TOKENS_SCHEMA["properties"]["schema"]["const"], "corpus": "test", "tokenizer": "byte",
                "vocab_size": vocab, "dtype": "uint16", "eot": None, "split_by": "tail", "val_fraction": 0.1,
                **splits, "sources": [{"path": "x", "bytes": 1, "sha256": "0" * 64, "split": "both", "genre": None}],
                "created": "2026-01-01T00:00:00Z"}
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


def lm_spec(tmp_path: Path, data: Path, run: str, **train) -> Path:
    run_dir = tmp_path / run
    run_dir.mkdir()
    spec = {
        "stage": "lm", "layer": {"path": str(LAYERS / "delta_net.py")}, "result_path": str(run_dir / "result.json"),
        "checkpoint_path": str(run_dir / "checkpoint.pt"),
        "model": {"num_layers": 2, "hidden_size": 32, "num_heads": 2, "mlp_ratio": 2},
        "train": {"steps": 24, "batch_size": 4, "seq_len": 32, "lr": 0.003, "warmup_steps": 2, "log_every": 1,
                  "checkpoint_every": 5, **train},
        "data": {"kind": "tasks", "eval_batches": 2, "tasks": [
            {"name": "tokens", "path": str(data), "seq_len": 32, "share": 3},
            {"name": "mqar", "vocab_size": 64, "seq_len": 32, "num_pairs": 4}]},
        "threads": 1,
    }
    (run_dir / "spec.json").write_text(json.dumps(spec))
    return run_dir


def start(run_dir: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "harness.evaluate", str(run_dir / "spec.json")], cwd=EXPERIMENTS,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def finish(proc: subprocess.Popen, run_dir: Path) -> tuple:
    events = [json.loads(line) for line in proc.stdout]
    assert proc.wait(timeout=120) == 0
    return json.loads((run_dir / "result.json").read_text()), events


def test_sigkilled_run_resumes_from_its_checkpoint_with_the_same_curve(tmp_path):
    data = token_dir(tmp_path)
    whole, _ = finish(start(lm_spec(tmp_path, data, "whole")), tmp_path / "whole")
    assert whole["status"] == "ok", whole["error"]
    assert not (tmp_path / "whole" / "checkpoint.pt").exists()  # removed once trained to the end

    run_dir = lm_spec(tmp_path, data, "killed")
    proc = start(run_dir)
    for line in proc.stdout:  # kill -9 after step 13: the last checkpoint is step 10's
        event = json.loads(line)
        if event.get("event") == "step" and event["step"] >= 13:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert (run_dir / "checkpoint.pt").exists() and not (run_dir / "result.json").exists()

    resumed, events = finish(start(run_dir), run_dir)
    steps = [e for e in events if e.get("event") == "step"]
    assert steps[0]["step"] == 11 and steps[0]["resumed_from"] == 10
    assert resumed["status"] == "ok"
    assert resumed["curve"] == whole["curve"]  # bit-identical losses at every step
    assert resumed["metrics"] == whole["metrics"]


def test_usr2_checkpoints_at_the_next_step_and_exits_for_a_requeue_that_resumes_there(tmp_path):
    """What a Slurm job's batch script relies on: USR2 to the evaluator -> the candidate process checkpoints at
    its next step boundary -> exit 75, no result file; the rerun (the requeued job) resumes from that step."""
    data = token_dir(tmp_path)
    run_dir = lm_spec(tmp_path, data, "usr2", checkpoint_every=None)  # no periodic checkpoint: only USR2's
    stop_file = run_dir / "checkpoint-requested"
    (run_dir / "launch.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "harness.run", str(run_dir / "spec.json")], "sandboxed": False,
        "env": {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(EXPERIMENTS), "ARCHLAB_STOP_FILE": str(stop_file)},
        "stop": {"file": str(stop_file), "exit_code": 75}}))

    def launch() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "harness.evaluate", str(run_dir / "spec.json"),
                                 str(run_dir / "launch.json")], cwd=EXPERIMENTS, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
    proc = launch()
    events = []
    for line in proc.stdout:
        events.append(json.loads(line))
        if events[-1].get("event") == "step" and events[-1]["step"] == 3:
            proc.send_signal(signal.SIGUSR2)
    assert proc.wait(timeout=60) == 75
    stopped = [e for e in events if e.get("event") == "checkpointed"]
    assert len(stopped) == 1 and stopped[0]["checkpoint"] is True
    at = stopped[0]["step"]
    assert 3 <= at < 24  # the first step boundary the candidate reaches after the request, not the end
    assert not (run_dir / "result.json").exists() and (run_dir / "checkpoint.pt").exists()

    resumed, events = finish(launch(), run_dir)  # the stale request file is cleared: this attempt runs on
    steps = [e for e in events if e.get("event") == "step"]
    assert steps[0]["resumed_from"] == at and steps[0]["step"] == at + 1
    assert resumed["status"] == "ok", resumed["error"]
    # one curve, each step once (bit-identical resume itself: the SIGKILL test above)
    assert [p["step"] for p in resumed["curve"]] == list(range(1, 25))
    assert not (run_dir / "checkpoint.pt").exists()


def test_lm_metrics_and_gradient_accumulation(tmp_path):
    data = token_dir(tmp_path)
    one, events = finish(start(lm_spec(tmp_path, data, "one", steps=12)), tmp_path / "one")
    four, _ = finish(start(lm_spec(tmp_path, data, "four", steps=12, grad_accum=4)), tmp_path / "four")
    m = one["metrics"]
    assert one["status"] == "ok" and four["status"] == "ok"
    assert m["eval_loss"] == m["tokens/loss"]                      # L: the held-out token loss
    assert m["tokens/ppl"] == pytest.approx(np.exp(m["tokens/loss"]))
    assert m["score"] == m["mqar/acc"]                              # B: the recall benchmark only
    assert m["tokens/loss"] < np.log(96)                            # learned something from the pattern
    # four micro-batches give the same step as the whole batch (up to float rounding)
    assert [p["loss"] for p in four["curve"]] == pytest.approx([p["loss"] for p in one["curve"]], abs=1e-4)
    # the monitor: the evaluator's held-out loss at every logged step, streamed and recorded; it falls as it learns
    monitor = [{"step": e["step"], "loss": e["loss"]} for e in events if e.get("event") == "monitor"]
    assert [p["step"] for p in one["monitor"]] == list(range(1, 13)) and monitor == one["monitor"]
    assert one["monitor"][-1]["loss"] < one["monitor"][0]["loss"]
    assert "monitor" not in one["candidate_reported"]


def test_missing_or_bad_token_data_is_a_spec_error(tmp_path):
    data = token_dir(tmp_path)
    (data / "val.bin").write_bytes(b"\0\0")
    result, _ = finish(start(lm_spec(tmp_path, data, "bad")), tmp_path / "bad")
    assert result["status"] == "failed"
    assert "val.bin has 2 bytes, the manifest says" in result["error"]["message"]
