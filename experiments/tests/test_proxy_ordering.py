"""The proxy stage ranks known layers the way the literature does (../shared/notes/synthetic-tasks.md).

The study (marked `slow`: several seeds, about 45 minutes on 2 cores) runs with `npm run check:ordering`, not in
`npm test`; `npm test` keeps one short check, the clearest gap on one seed (memorisation: attention > DeltaNet),
and the check that ASI-Arch's published layers complete a tiny proxy stage (skipped, with the reason, without
../shared/asi-arch).
Each check trains the project's baseline layers (experiments/layers/) through real harness child processes, two
at a time with one thread each (2 cores), and prints the measured table (`pytest -s` shows it). Settings, and
why they are what they are, sit next to each check; the README's evaluation section quotes the numbers.
"""
from __future__ import annotations

import math
import statistics
from pathlib import Path

import pytest

from conftest import LAYERS, asi_arch_names, rejected_at_evaluation
from harness.launch import launch_all
from harness.tasks import proxy_preset

BASELINES = {"attention": ("attention.py", "Attention"), "delta_net": ("delta_net.py", "DeltaNet"),
             "gated_delta_net": ("gated_delta_net.py", "GatedDeltaNet"),
             "linear_attention": ("linear_attention.py", "LinearAttention")}


def run_layers(specs: dict, tmp_path: Path, parallel: int = 2, timeout: float = 900) -> dict:
    """Runs each {name: spec} in a harness child process, `parallel` at a time; returns {name: result}."""
    runs = launch_all(specs, tmp_path, timeout, parallel)
    for name, launched in runs.items():
        assert launched.result is not None, (name, launched.log_tail())
    return {name: launched.result for name, launched in runs.items()}


def baseline_spec(name: str, stage: dict) -> dict:
    file, cls = BASELINES[name]
    return {**stage, "layer": {"path": str(LAYERS / file), "class_name": cls}, "stage": "proxy", "threads": 1}


def report(title: str, results: dict, keys: list) -> dict:
    table = {name: {k: round(r["metrics"].get(k, math.nan), 3) for k in keys} | {"wall_s": r["wall_s"]}
             for name, r in results.items()}
    print(f"\n{title}")
    for name, row in table.items():
        print(f"  {name:18s} " + "  ".join(f"{k}={v}" for k, v in row.items()))
    for name, r in results.items():
        assert r["status"] == "ok", (name, r["error"])
    return table


# ---- MQAR: softmax attention > DeltaNet > linear attention, at a state too small for the pairs ----------------
# d=128 (MAD's width): at d=64 softmax attention does not learn MQAR within a CPU budget (0.10-0.26 after 600-2,000
# steps at K=4..16), at d=128 it does. With the baselines' default state (8 heads of 16x16) DeltaNet also solves
# K=4 (and K=16: 0.99), so nothing separates them; the published gap appears where the recurrent state is too
# small for the pairs (Zoology). So every recurrent layer gets the same small state, 8 heads of 4 (key) x 16
# (value), through its own documented arguments; attention keeps its usual heads.
# 1,200 steps, because the delta-rule layers learn MQAR late and at a seed-dependent step: at 600 steps DeltaNet
# measured 0.44 / 0.18 / 0.06 on seeds 0 / 1 / 2 (mean below linear attention's steady 0.24 / 0.26 / 0.25), and
# seed 2 reaches 0.75 at 1,200. Hence several seeds for DeltaNet, and every comparison is judged against their
# seed spread; attention and linear attention run one seed. This is a budget-limited gap, and a fragile one: when
# a run escapes MQAR's loss plateau depends on the initial draw and the schedule (with 2,400 steps and 300 warmup
# steps DeltaNet reaches 0.98 on every seed while attention stays at 0.27 on seed 0).
MQAR_STAGE = {
    "model": {"num_layers": 2, "hidden_size": 128, "num_heads": 8},
    "train": {"steps": 1200, "batch_size": 64, "lr": 3e-3, "warmup_steps": 50, "log_every": 100},
    "data": {"kind": "tasks", "eval_batches": 4,
             "tasks": [{"name": "mqar", "vocab_size": 128, "seq_len": 64, "num_pairs": 4}]},
    "timeout_s": 1800,
}
SMALL_STATE = {"attention": {}, "delta_net": {"expand_k": 0.25}, "linear_attention": {"expand_k": 0.25},
               "gated_delta_net": {"head_dim": 4, "expand_v": 4.0, "use_gate": False}}


def mqar_accuracy(stage: dict, seeds: dict, folder: Path) -> dict:
    """Trains each {layer: [seeds]} at `stage` with the small state; prints the table; returns {layer: [acc]}."""
    specs = {}
    for name, layer_seeds in seeds.items():
        for seed in layer_seeds:
            spec = baseline_spec(name, stage)
            spec["layer"]["kwargs"] = SMALL_STATE[name]
            specs[f"{name}@{seed}"] = {**spec, "seed": seed}
    train = stage["train"]
    table = report(f"MQAR V=128 L=64 K=4, d=128, {train['steps']:,} steps x {train['batch_size']} "
                   f"({train['warmup_steps']} warmup), recurrent state 8 x 4x16",
                   run_layers(specs, folder, timeout=2400), ["mqar/acc", "mqar/loss"])
    acc = {}
    for key, row in table.items():
        acc.setdefault(key.split("@")[0], []).append(row["mqar/acc"])
    for name, values in acc.items():
        print(f"  {name:18s} mean {statistics.mean(values):.3f} spread {spread(values):.3f} over {len(values)} seed(s)")
    return acc


def spread(values: list) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


@pytest.fixture(scope="module")
def mqar(tmp_path_factory):
    seeds = {"attention": [0], "linear_attention": [0], "delta_net": [0, 1, 2]}
    return mqar_accuracy(MQAR_STAGE, seeds, tmp_path_factory.mktemp("mqar"))


@pytest.mark.slow
def test_mqar_ranks_attention_over_deltanet_over_linear_attention(mqar):
    delta, noise = statistics.mean(mqar["delta_net"]), spread(mqar["delta_net"])
    attention, linear = mqar["attention"][0], mqar["linear_attention"][0]
    assert attention > 0.9
    assert attention - delta > noise
    assert delta - linear > noise


# ---- MQAR: Gated DeltaNet keeps up with DeltaNet, given the budget to learn it ---------------------------------
# Same task and state, 2,400 steps with 300 warmup steps, seeds 0-2 for both; noise is the larger seed spread.
# Measured: DeltaNet 0.979 / 0.977 / 0.976; Gated DeltaNet 0.923 / 0.839 / 0.069, seed 2 not yet off the loss
# plateau (3.7; chance is ln 64 = 4.16). The gap (-0.37) is within the spread (0.47), and no more: at CPU budgets
# Gated DeltaNet learns MQAR later than DeltaNet. At MQAR_STAGE's budget the comparison measures little but how
# soon each run leaves the plateau: Gated DeltaNet 0.55 / 0.02 / 0.05 against DeltaNet's 0.96 / 0.86 / 0.75.
# Two measurements on seed 1 (same initial weights, 1,200 steps) show why: Gated DeltaNet with its decay switched
# off (g = 0, DeltaNet's recurrence) reached 0.27, and 0.81 with 300 warmup steps, where the real layer reached
# 0.02 and 0.24 -- the Mamba2 decay initialisation (some heads forget within a few steps) slows early learning,
# and the initial draw decides when the plateau ends. Gated DeltaNet without its output gate, as above.
PARITY_STAGE = {**MQAR_STAGE, "train": {**MQAR_STAGE["train"], "steps": 2400, "warmup_steps": 300}}


@pytest.fixture(scope="module")
def mqar_parity(tmp_path_factory):
    seeds = {"delta_net": [0, 1, 2], "gated_delta_net": [0, 1, 2]}
    return mqar_accuracy(PARITY_STAGE, seeds, tmp_path_factory.mktemp("parity"))


@pytest.mark.slow
def test_mqar_gated_deltanet_keeps_up_with_deltanet(mqar_parity):
    noise = max(spread(mqar_parity["delta_net"]), spread(mqar_parity["gated_delta_net"]))
    assert statistics.mean(mqar_parity["gated_delta_net"]) >= statistics.mean(mqar_parity["delta_net"]) - noise


# ---- MAD-style tasks: delta-rule layers solve recall, noisy recall and selective copying ---------------------
# At MAD's width (d=128, 2 blocks) with the baselines' default state, mixed round-robin in one model. Softmax
# attention needs far longer on these (0.30 / 0.33 / 0.63 after the same 1,000 steps in a wider mix), so it is
# not part of this check. Gated DeltaNet again without its output gate: with it, selective copying stays at 0.20
# after 1,000 steps (recall and noisy recall: 1.00).
MAD_STAGE = {
    "model": {"num_layers": 2, "hidden_size": 128, "num_heads": 8},
    "train": {"steps": 800, "batch_size": 32, "lr": 3e-3, "warmup_steps": 50, "log_every": 100},
    "data": {"kind": "tasks", "eval_batches": 4, "tasks": [
        {"name": "recall", "vocab_size": 16, "seq_len": 128, "batch_size": 8},
        {"name": "noisy_recall", "vocab_size": 16, "seq_len": 128, "noise_frac": 0.2, "batch_size": 8},
        {"name": "selective_copy", "vocab_size": 16, "seq_len": 64, "num_copy": 8, "share": 2}]},
    "timeout_s": 900,
}
DELTA_RULE = {"delta_net": {}, "gated_delta_net": {"use_gate": False}}


@pytest.mark.slow
def test_delta_rule_layers_solve_recall_noisy_recall_and_selective_copying(tmp_path):
    specs = {}
    for name, kwargs in DELTA_RULE.items():
        specs[name] = baseline_spec(name, MAD_STAGE)
        specs[name]["layer"]["kwargs"] = kwargs
    table = report("MAD-style mix, d=128, 800 steps round-robin", run_layers(specs, tmp_path),
                   ["recall/acc", "noisy_recall/acc", "selective_copy/acc"])
    for name, row in table.items():
        assert row["recall/acc"] > 0.98 and row["noisy_recall/acc"] > 0.98, name
        assert row["selective_copy/acc"] > 0.9, name


# ---- memorisation separates attention from the delta rule -----------------------------------------------------
# A fixed map of 2,048 facts (V=4096), trained alone for 400 steps: attention stores it (1.00), Gated DeltaNet
# partly (0.70), DeltaNet not yet (0.10) — MAD's order (Transformer .79 > Gated DeltaNet .55 > DeltaNet .39).
# Like MAD, the size is chosen so that not every layer saturates: at 1,024 facts (V=2048, 300 steps) all reach
# 1.00, and in a mix with recall tasks DeltaNet also stores 2,048 facts (0.996), so this is a budget-limited
# difference in how fast the facts are learned, measured alone.
MEMORIZE_STAGE = {
    "model": {"num_layers": 2, "hidden_size": 128, "num_heads": 8},
    "train": {"steps": 400, "batch_size": 32, "lr": 3e-3, "warmup_steps": 50, "log_every": 100},
    "data": {"kind": "tasks", "eval_batches": 4, "tasks": [{"name": "memorize", "vocab_size": 4096, "seq_len": 32}]},
    "timeout_s": 900,
}


@pytest.mark.slow
def test_memorization_separates_attention_from_delta_rule_layers(tmp_path):
    specs = {name: baseline_spec(name, MEMORIZE_STAGE) for name in ("attention", "delta_net", "gated_delta_net")}
    specs["gated_delta_net"]["layer"]["kwargs"] = {"use_gate": False}
    table = report("memorisation alone, 2,048 facts, d=128, 400 steps x 32", run_layers(specs, tmp_path),
                   ["memorize/acc"])
    acc = {name: row["memorize/acc"] for name, row in table.items()}
    assert acc["attention"] > 0.9
    assert acc["attention"] > max(acc["delta_net"], acc["gated_delta_net"]) + 0.2


# The short check in `npm test`: the study's clearest gap (attention 1.00 vs DeltaNet 0.10), one seed, two layers.
def test_short_memorization_attention_beats_deltanet(tmp_path):
    specs = {name: baseline_spec(name, MEMORIZE_STAGE) for name in ("attention", "delta_net")}
    table = report("memorisation alone (short check), 2,048 facts, d=128, 400 steps x 32",
                   run_layers(specs, tmp_path), ["memorize/acc"])
    assert table["attention"]["memorize/acc"] > 0.9
    assert table["attention"]["memorize/acc"] > table["delta_net"]["memorize/acc"] + 0.2


# ---- ASI-Arch's eight published layers complete a (tiny) proxy stage ---------------------------------------
# The quick preset's model and task list, cut to two rounds of its tasks at batch 4: every task generator, the mix
# and the evaluation run through each published layer (pure-PyTorch chunk loops: too slow for the full preset
# in a test).
@pytest.fixture(scope="module")
def asi_arch_proxy(tmp_path_factory):
    from conftest import asi_arch_records
    records = {r["name"]: r for r in asi_arch_records()}
    if not records:
        pytest.skip("../shared/asi-arch is absent")
    folder = tmp_path_factory.mktemp("asi")
    stage = proxy_preset("quick")
    rounds = len(stage["data"]["tasks"])
    stage["train"].update(steps=2 * rounds, batch_size=4, warmup_steps=1, log_every=1)
    stage["data"]["eval_batches"] = 1
    stage["data"]["tasks"] = [{**task, "batch_size": 4} for task in stage["data"]["tasks"]]
    specs = {}
    for name, record in records.items():
        path = folder / f"{name}.py"
        path.write_text(record["program"])
        specs[name] = {**stage, "layer": {"path": str(path)}, "stage": "proxy", "dtype": "auto", "threads": 1,
                       "timeout_s": 300}
    return run_layers(specs, folder / "runs")


@pytest.mark.parametrize("name", asi_arch_names())
def test_asi_arch_layer_completes_a_tiny_proxy_stage(name, asi_arch_proxy):
    result = asi_arch_proxy[name]
    if rejected_at_evaluation(result):
        return
    assert result["status"] == "ok", result["error"]
    metrics = result["metrics"]
    assert {"mqar/acc", "noisy_recall/acc", "selective_copy/acc", "memorize/acc", "lm/bpb", "score"} <= set(metrics)
    assert all(isinstance(v, float) and math.isfinite(v) for v in metrics.values())
    assert len(result["curve"]) == 10
