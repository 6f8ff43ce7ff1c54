"""Bad input gets a recorded status and a clear one-line error, never a crash or a stack trace.

Each case runs a hand-written layer from fixtures/bad_layers/ through the harness and reads the result it
records. Cases that concern the process itself (the timeout, the memory limit, stdout, the spec file, a missing
file end to end, determinism across processes) run `python -m harness.evaluate SPEC` (the trusted evaluator,
which starts `harness.run` as the candidate process) in a child; the rest call harness.run.run() in this process, which is the same code minus the interpreter start (about 2 s of CPU each).
Also here: awkward but valid layers (printing, auxiliary losses, torch.compile decorators, a class found through
__all__), same seed -> same curve, and the spec parser.
"""
from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import EXPERIMENTS
from harness.spec import SpecError, parse_spec

BAD = Path(__file__).resolve().parent / "fixtures" / "bad_layers"
TINY_MODEL = {"num_layers": 1, "hidden_size": 32, "num_heads": 2, "vocab_size": 32}
TINY_TRAIN = {"steps": 2, "seq_len": 16, "batch_size": 2, "warmup_steps": 1}


def make_spec(tmp_path: Path, layer: dict, **spec) -> dict:
    return {"layer": layer, "model": TINY_MODEL, "train": TINY_TRAIN, "timeout_s": 60,
            "result_path": str(tmp_path / "result.json"), **spec}


def start_child(tmp_path: Path, layer: dict, **spec) -> tuple:
    spec = make_spec(tmp_path, layer, threads=1, **spec)
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(spec))
    proc = subprocess.Popen([sys.executable, "-m", "harness.evaluate", str(spec_path)], cwd=EXPERIMENTS,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, Path(spec["result_path"])


def finish_child(child: tuple, timeout: float = 120) -> dict:
    """Waits for a child run; asserts it ended as a run must end; returns {result, events, stdout, stderr}."""
    proc, result_path = child
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    assert proc.returncode == 0, stderr[-3000:]
    events = [json.loads(line) for line in stdout.splitlines()]  # every stdout line is a JSON event
    assert events[0]["event"] == "worker"  # the candidate process's pid, for the orchestrator's backstop
    events = events[1:]
    result = json.loads(result_path.read_text())
    assert events[0]["event"] == "start" and events[-1] == {"event": "done", "status": result["status"]}
    return {"result": result, "events": events, "stdout": stdout, "stderr": stderr}


def harness(tmp_path: Path, layer: dict, timeout: float = 120, **spec) -> dict:
    return finish_child(start_child(tmp_path, layer, **spec), timeout)


@pytest.fixture
def in_process(tmp_path, monkeypatch):
    """harness.run.run() here, with the global state a run touches (torch.compile, sys.path, SIGALRM,
    candidate modules, the ops env var) put back afterwards."""
    from harness import run as harness_run
    saved = (torch.compile, list(sys.path), set(sys.modules), signal.getsignal(signal.SIGALRM))
    monkeypatch.setenv("ARCHLAB_OPS_BACKEND", "auto")

    def go(layer: dict, **spec) -> dict:
        events = []
        result = harness_run.run(parse_spec(make_spec(tmp_path, layer, **spec)), events.append)
        json.dumps(result, allow_nan=True)  # JSON-serialisable as the result file needs
        return {"result": result, "events": events, "stderr": ""}
    yield go
    torch.compile, sys.path[:] = saved[0], saved[1]
    for name in set(sys.modules) - saved[2]:
        if name.startswith("archlab_candidate_") or name == "fla" or name.startswith("fla."):
            del sys.modules[name]
    signal.signal(signal.SIGALRM, saved[3])


def assert_error(run: dict, status: str, kind: str, *phrases: str) -> str:
    result = run["result"]
    assert result["status"] == status, result["error"]
    error = result["error"]
    assert error["kind"] == kind, error
    message = error["message"]
    assert message and "\n" not in message and len(message) <= 500
    for phrase in phrases:
        assert phrase in message, message
    assert "Traceback" not in run["stderr"], run["stderr"][-2000:]  # a user mistake prints no stack trace
    return message


def test_missing_file(tmp_path):
    run = harness(tmp_path, {"path": str(tmp_path / "nowhere" / "layer.py")})
    assert_error(run, "rejected", "import", "no such layer file", "layer.py")


def test_not_a_python_file(tmp_path, in_process):
    run = in_process({"path": str(BAD / "not_python.txt")})
    assert_error(run, "rejected", "import", "not a Python file", "not_python.txt")


def test_binary_file_with_a_py_name(tmp_path, in_process):
    path = tmp_path / "weights.py"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01")
    run = in_process({"path": str(path)})
    assert_error(run, "rejected", "syntax", "weights.py")


def test_syntax_error_names_the_line(tmp_path, in_process):
    run = in_process({"path": str(BAD / "syntax_error.py")})
    assert_error(run, "rejected", "syntax", "line 8")
    assert "nn.Linear(hidden_size hidden_size)" in run["result"]["error"]["tail"]


def test_no_such_class_lists_the_classes_found(tmp_path, in_process):
    run = in_process({"path": str(BAD / "no_such_class.py")})
    assert_error(run, "rejected", "missing_class", "'DeltaNet'", "ConvMixer", "GatedMixer")


def test_named_class_that_is_missing_is_not_guessed(tmp_path, in_process):
    run = in_process({"path": str(BAD / "all_names_one_class.py"), "class_name": "Mixer"})
    assert_error(run, "rejected", "missing_class", "'Mixer'", "CumulativeMixer", "UnlistedMixer")


def test_default_class_falls_back_to_the_single_nn_module_in_dunder_all(tmp_path, in_process):
    run = in_process({"path": str(BAD / "all_names_one_class.py")})
    assert run["result"]["status"] == "ok", run["result"]["error"]
    assert len(run["result"]["curve"]) == 2


def test_constructor_with_an_incompatible_signature(tmp_path, in_process):
    run = in_process({"path": str(BAD / "bad_constructor.py")})
    assert_error(run, "rejected", "construct", "DeltaNet(hidden_size=, num_heads=, layer_idx=)", "TypeError")


def test_forward_with_an_incompatible_signature(tmp_path, in_process):
    run = in_process({"path": str(BAD / "bad_forward_signature.py")})
    assert_error(run, "rejected", "forward", "TypeError", "position_ids")


def test_forward_with_the_wrong_output_shape(tmp_path, in_process):
    run = in_process({"path": str(BAD / "wrong_output_shape.py")})
    assert_error(run, "rejected", "forward", "(2, 16, 32)", "(2, 16, 16)")


def test_nan_loss(tmp_path, in_process):
    run = in_process({"path": str(BAD / "nan_output.py")})
    assert_error(run, "rejected", "nonfinite", "nan", "step 0")


def test_a_hanging_layer_times_out(tmp_path):
    run = harness(tmp_path, {"path": str(BAD / "hangs.py")}, timeout=60, timeout_s=3)
    assert_error(run, "timeout", "timeout", "3 s")
    assert run["result"]["wall_s"] < 30


@pytest.mark.parametrize("where", ["forward", "init"])
def test_allocating_far_beyond_the_memory_limit_is_an_oom_failure(tmp_path, where):
    run = harness(tmp_path, {"path": str(BAD / "huge_allocation.py"), "kwargs": {"where": where}}, memory_mb=1500)
    assert_error(run, "failed", "oom", "memory")


def test_printing_layer_does_not_corrupt_the_progress_stream(tmp_path):
    run = harness(tmp_path, {"path": str(BAD / "prints.py")})   # harness() parses every stdout line as JSON
    assert run["result"]["status"] == "ok", run["result"]["error"]
    assert "LAYER-SAYS" not in run["stdout"]
    for said in ("import", "init 0", "forward {not json", "sys.stdout", "sys.__stdout__", "fd1 no newline"):
        assert f"LAYER-SAYS {said}" in run["stderr"]                  # the candidate's output goes to the log
    assert [e["step"] for e in run["events"] if e["event"] == "step"] == [1, 2]


def test_scalar_aux_loss_joins_the_training_loss(tmp_path, in_process):
    record = tmp_path / "grads.jsonl"
    run = in_process({"path": str(BAD / "aux_loss.py"), "kwargs": {"record": str(record), "scale": 1000.0}},
                  model={**TINY_MODEL, "num_layers": 2})
    assert run["result"]["status"] == "ok", run["result"]["error"]
    grads = [json.loads(line) for line in record.read_text().splitlines()]
    # d(loss + sum of aux)/dp == scale exactly, for each layer's p, at each of the 2 steps
    assert sorted((g["layer"], g["grad"]) for g in grads) == [(0, 1000.0), (0, 1000.0), (1, 1000.0), (1, 1000.0)]
    assert all(math.isfinite(p["loss"]) and p["loss"] < 100 for p in run["result"]["curve"])  # the LM loss alone


def test_a_statistics_vector_in_second_place_is_not_a_loss(tmp_path, in_process):
    record = tmp_path / "grads.jsonl"
    run = in_process({"path": str(BAD / "aux_loss.py"),
                             "kwargs": {"record": str(record), "aux_shape": "vector"}})
    assert run["result"]["status"] == "ok", run["result"]["error"]
    assert not record.exists()


def test_nonfinite_aux_loss_is_reported(tmp_path, in_process):
    run = in_process({"path": str(BAD / "aux_loss.py"),
                             "kwargs": {"record": str(tmp_path / "g.jsonl"), "scale": float("inf")}})
    assert_error(run, "rejected", "nonfinite", "step 0")


def test_torch_compile_decorators_work_on_cpu(tmp_path, in_process):
    run = in_process({"path": str(BAD / "compile_decorators.py")})
    assert run["result"]["status"] == "ok", run["result"]["error"]
    assert all(math.isfinite(p["loss"]) for p in run["result"]["curve"])


def test_same_seed_gives_the_same_loss_curve(tmp_path):
    """Three child processes at once: seeds 7, 7 and 8."""
    children = []
    for i, seed in enumerate([7, 7, 8]):
        (tmp_path / str(i)).mkdir()
        children.append(start_child(tmp_path / str(i), {"path": str(BAD / "compile_decorators.py")}, seed=seed,
                                    train={**TINY_TRAIN, "steps": 3}))
    curves = [[p["loss"] for p in finish_child(child)["result"]["curve"]] for child in children]
    assert len(curves[0]) == 3
    assert curves[0] == curves[1]
    assert curves[0] != curves[2]


# -- the run spec ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, key", [
    ({"layer": {"path": "l.py"}, "trian": {"steps": 1}}, "trian"),
    ({"layer": {"path": "l.py"}, "train": {"stpes": 1}}, "train.stpes"),
    ({"layer": {"path": "l.py", "klass": "X"}}, "layer.klass"),
    ({"layer": {"path": "l.py"}, "model": {"hidden": 64}}, "model.hidden"),
])
def test_spec_parser_rejects_unknown_keys_naming_them(spec, key):
    with pytest.raises(SpecError, match=rf"unknown key {key}\b"):
        parse_spec(spec)


def test_a_bad_spec_file_exits_2_with_one_line(tmp_path):
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps({"layer": {"path": "l.py"}, "result_path": str(tmp_path / "r.json"),
                                     "tiemout_s": 5}))
    proc = subprocess.run([sys.executable, "-m", "harness.evaluate", str(spec_path)], cwd=EXPERIMENTS,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == "" and proc.stderr.count("\n") == 1 and "unknown key tiemout_s" in proc.stderr
    assert not (tmp_path / "r.json").exists()
