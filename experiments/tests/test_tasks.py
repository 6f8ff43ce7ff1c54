"""The proxy stage's tasks: generator semantics, determinism and seeds, the mix, and metrics on known logits."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from harness.spec import SpecError, parse_spec
from harness.tasks import TASKS, make_source, proxy_preset
from harness.tasks.base import IGNORE, Tally, stream


def source(tasks, seed=0, batch_size=8, **data):
    return make_source(parse_spec({"layer": {"path": "x.py"}, "seed": seed, "train": {"batch_size": batch_size},
                                   "data": {"kind": "tasks", "tasks": tasks, **data}}))


def sample(name, n=64, seed=0, index=0, **settings):
    task = source([{"name": name, **settings}], seed=seed).entries[0].task
    return task, *task.sample(stream(seed, name, 0, index), n)


# ---- MQAR (Zoology) -------------------------------------------------------------------------------------------

def test_mqar_layout_follows_zoology():
    V, L, K = 128, 64, 6
    task, x, y = sample("mqar", vocab_size=V, seq_len=L, num_pairs=K, random_non_queries=False)
    assert x.shape == y.shape == (64, L) and task.vocab_size == V
    keys, values = x[:, 0:2 * K:2], x[:, 1:2 * K:2]
    assert ((keys >= 1) & (keys < V // 2)).all() and ((values >= V // 2) & (values < V)).all()
    for row in range(64):
        assert len(set(keys[row].tolist())) == K and len(set(values[row].tolist())) == K
        pairs = dict(zip(keys[row].tolist(), values[row].tolist()))
        where = (y[row] != IGNORE).nonzero().flatten()
        assert len(where) == K                                   # one query per key, nothing else labelled
        assert ((where >= 2 * K) & ((where - 2 * K) % 2 == 0)).all()
        assert sorted(x[row, where].tolist()) == sorted(pairs)   # each key queried once
        assert all(pairs[int(x[row, p])] == int(y[row, p]) for p in where)
        rest = torch.ones(L, dtype=torch.bool)
        rest[:2 * K] = False
        rest[where] = False
        assert (x[row, rest] == 0).all()


def test_mqar_random_fill_and_power_law_gaps():
    V, L, K = 256, 128, 4
    _, x, y = sample("mqar", n=512, vocab_size=V, seq_len=L, num_pairs=K)
    assert x.min() >= 0 and x.max() < V
    filler = x[:, 2 * K:][y[:, 2 * K:] == IGNORE]
    assert len(filler.unique()) > V // 2                         # random tokens from the whole vocab
    gaps = ((y != IGNORE).nonzero()[:, 1] - 2 * K) // 2
    space = (L - 2 * K) // 2
    p = np.arange(1, space + 1) ** (0.01 - 1)
    expected_small = p[: space // 4].sum() / p.sum()             # ≈ draws of K without replacement, roughly
    assert (gaps < space // 4).float().mean() > 0.5 * expected_small
    assert (gaps < space // 4).float().mean() > (gaps >= 3 * space // 4).float().mean()


@pytest.mark.parametrize("bad", [{"seq_len": 63}, {"vocab_size": 64, "seq_len": 64}, {"num_pairs": 17},
                                 {"power_a": 0.0}])
def test_mqar_rejects_zoology_constraint_violations(bad):
    with pytest.raises(SpecError):
        source([{"name": "mqar", **bad}])


# ---- MAD-style tasks ------------------------------------------------------------------------------------------

def test_recall_labels_recurring_keys_with_their_value():
    task, x, y = sample("recall", n=32, vocab_size=16, seq_len=64)
    assert task.vocab_size == 16 and x.min() >= 0 and x.max() < 16
    assert (x[:, 0::2] < 8).all() and (x[:, 1::2] >= 8).all()
    assert (y[:, 1::2] == IGNORE).all()
    for row in range(32):
        table, seen, labelled = {}, set(), 0
        for p in range(0, 64, 2):
            k, v = int(x[row, p]), int(x[row, p + 1])
            assert table.setdefault(k, v) == v                  # one map per example
            assert int(y[row, p]) == (v if k in seen else IGNORE)
            labelled += k in seen
            seen.add(k)
        assert labelled > 0


def test_noisy_recall_noise_is_separate_and_never_labelled():
    task, x, y = sample("noisy_recall", n=256, vocab_size=16, seq_len=128, noise_frac=0.2, noise_vocab_size=4)
    assert task.vocab_size == 20
    noise = x >= 16
    assert (noise[:, 0::2] == noise[:, 1::2]).all()               # noise comes in whole pair slots
    assert abs(noise.float().mean().item() - 0.2) < 0.03
    assert (y[noise] == IGNORE).all()
    for row in range(16):
        table, seen = {}, set()
        for p in range(0, 128, 2):
            k, v = int(x[row, p]), int(x[row, p + 1])
            if k >= 16:
                continue
            assert table.setdefault(k, v) == v
            assert int(y[row, p]) == (v if k in seen else IGNORE)
            seen.add(k)


def test_fuzzy_recall_labels_values_of_recurring_key_motifs():
    task, x, y = sample("fuzzy_recall", n=32, vocab_size=16, seq_len=128, num_keys=4)
    half = 8
    assert x.min() >= 0 and x.max() < 16
    lab = y != IGNORE
    assert (y[lab] >= half).all()
    assert (y[:, :-1][lab[:, :-1]] == x[:, 1:][lab[:, :-1]]).all()   # teacher-forced: label = next token
    for row in range(32):                                          # re-segment and check the map is consistent
        tokens, motifs, i = x[row].tolist(), [], 0
        while i < 128:
            j = i
            while j < 128 and tokens[j] < half:
                j += 1
            k = j
            while k < 128 and tokens[k] >= half:
                k += 1
            motifs.append((tuple(tokens[i:j]), tuple(tokens[j:k]), j))
            i = k
        table = {}
        for key, value, start in motifs[:-1]:
            first = key not in table
            assert table.setdefault(key, value) == value
            labelled = lab[row, start - 1:start - 1 + len(value)]
            assert bool(labelled.all()) == (not first) and bool(labelled.any()) == (not first)
        assert len(table) <= 4


def test_selective_copy_labels_the_data_tokens_in_order():
    V, L, n_copy = 16, 64, 8
    task, x, y = sample("selective_copy", n=32, vocab_size=V, seq_len=L, num_copy=n_copy)
    region = L - n_copy
    data = x[:, :region]
    assert ((data == V - 2) | (data < V - 2)).all() and (x[:, region] == V - 1).all()
    for row in range(32):
        copied = data[row][data[row] != V - 2]
        assert len(copied) == n_copy
        assert y[row, region:].tolist() == copied.tolist()
        assert x[row, region + 1:].tolist() == copied[:-1].tolist()
    assert (y[:, :region] == IGNORE).all()


def test_memorize_uses_one_fixed_map_per_run_seed():
    task, x, y = sample("memorize", n=64, vocab_size=64, seq_len=32)
    assert (x[:, 0::2] < 32).all() and (x[:, 1::2] >= 32).all()
    assert (y[:, 0::2] == x[:, 1::2]).all() and (y[:, 1::2] == IGNORE).all()
    table = dict(zip(x[:, 0::2].flatten().tolist(), x[:, 1::2].flatten().tolist()))
    _, x2, _ = sample("memorize", n=64, index=7, vocab_size=64, seq_len=32)   # another batch, same map
    assert all(table.get(k, v) == v for k, v in zip(x2[:, 0::2].flatten().tolist(), x2[:, 1::2].flatten().tolist()))
    other, _, _ = sample("memorize", seed=1, vocab_size=64, seq_len=32)
    assert not np.array_equal(task.table, other.table)


# ---- byte-level LM --------------------------------------------------------------------------------------------

def test_lm_defaults_to_the_standard_library_and_holds_out_a_split():
    task, x, y = sample("lm", n=16, seq_len=64, max_bytes=200_000)
    assert task.vocab_size == 256 and x.shape == (16, 64)
    assert (y[:, :-1] == x[:, 1:]).all() and (y != IGNORE).all()
    assert len(task.train_data) + len(task.eval_data) == 200_000
    assert 0.08 < len(task.eval_data) / 200_000 < 0.12
    text = bytes(task.train_data[:20_000].tolist()).decode("utf-8", errors="replace")
    assert "def " in text and "import" in text


def test_lm_reads_a_user_file_or_folder(tmp_path):
    (tmp_path / "a.txt").write_text("abc" * 400)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("xyz" * 400)
    (tmp_path / "blob.bin").write_bytes(b"\0\1\2" * 100)
    task = source([{"name": "lm", "seq_len": 16, "path": str(tmp_path)}]).entries[0].task
    corpus = set(bytes(np.concatenate([task.train_data, task.eval_data]).tolist()))
    assert corpus == set(b"abcxyz\n")                             # binary file skipped
    single = source([{"name": "lm", "seq_len": 16}], corpus=str(tmp_path / "a.txt")).entries[0].task
    assert bytes(single.eval_data.tolist()) == b"abc" * 40     # data.corpus is the fallback path; last 10%
    with pytest.raises(SpecError):
        source([{"name": "lm", "path": str(tmp_path / "missing")}])


# ---- the mix: vocab slices, schedule, determinism, seeds, strict settings ---------------------------------

ALL = [{"name": "mqar"}, {"name": "recall"}, {"name": "noisy_recall"}, {"name": "fuzzy_recall"},
       {"name": "selective_copy", "seq_len": 64, "num_copy": 8}, {"name": "memorize", "batch_size": 4},
       {"name": "lm", "max_bytes": 100_000, "share": 2}]


def test_mix_gives_each_task_its_own_vocab_slice_and_steps():
    src = source(ALL)
    assert src.vocab_size == sum(e.task.vocab_size for e in src.entries) == 128 + 16 + 20 + 16 + 16 + 256 + 256
    assert [e.id for e in src.entries] == [t["name"] for t in ALL]
    ids = [src.entry_at(step).id for step in range(16)]
    assert ids[:8] == ["mqar", "recall", "noisy_recall", "fuzzy_recall", "selective_copy", "memorize", "lm", "lm"]
    assert ids[8:] == ids[:8]
    for step in range(8):
        e = src.entry_at(step)
        x, y = src.batch(step)
        assert x.shape == (e.batch_size, e.task.seq_len)
        assert x.min() >= e.offset and x.max() < e.offset + e.task.vocab_size
        lab = y[y != IGNORE]
        assert lab.numel() > 0 and lab.min() >= e.offset and lab.max() < e.offset + e.task.vocab_size
    assert src.batch(5)[0].shape[0] == 4


def test_batches_are_deterministic_and_seeds_change_every_task():
    a, b, c = source(ALL), source(ALL), source(ALL, seed=1)
    for step in range(8):
        xa, ya = a.batch(step)
        xb, yb = b.batch(step)
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
        assert not torch.equal(xa, c.batch(step)[0])
        assert not torch.equal(xa, a.batch(step + 8)[0])


def held_out(src):
    return [(item.x, item.y) for item in src.eval_items()]


def test_every_run_seed_is_scored_on_the_same_held_out_set_which_data_eval_seed_picks():
    # memorisation's values are the run's own map (drawn from the run seed), so only its keys are shared
    tasks = [t for t in ALL if t["name"] != "memorize"]
    a, b, other = source(tasks), source(tasks, seed=7), source(tasks, seed=7, eval_seed=3)
    assert not torch.equal(a.batch(0)[0], b.batch(0)[0])      # training follows the run seed
    same, moved = held_out(a), held_out(other)
    assert len(same) == len(held_out(b)) > 0
    assert all(torch.equal(x, xb) and torch.equal(y, yb) for (x, y), (xb, yb) in zip(same, held_out(b)))
    assert not any(torch.equal(x, xo) for (x, _), (xo, _) in zip(same, moved))


def test_random_tokens_hold_out_the_same_batches_for_every_run_seed():
    from harness.data import make_data
    def data(seed, **d):
        return make_data(parse_spec({"layer": {"path": "x.py"}, "seed": seed, "data": {"kind": "random", **d}}))
    a, b, c = data(0), data(5), data(5, eval_seed=1)
    assert not torch.equal(a.batch(0)[0], b.batch(0)[0])
    assert all(torch.equal(i.x, j.x) for i, j in zip(a.eval_items(), b.eval_items()))
    assert not any(torch.equal(i.x, j.x) for i, j in zip(a.eval_items(), c.eval_items()))


def test_evaluation_uses_other_examples_than_training():
    src = source([{"name": "mqar"}])
    seen = []
    src.evaluate(lambda x: seen.append(x) or torch.zeros(*x.shape, src.vocab_size))
    assert len(seen) == 4 and not any(torch.equal(s, src.batch(i)[0]) for i, s in enumerate(seen))


@pytest.mark.parametrize("tasks, message", [
    ([{"name": "nope"}], "not a task"),
    ([{"name": "mqar", "pairs": 4}], "unknown key data.tasks[0].pairs"),
    ([{"name": "mqar", "num_pairs": "4"}], "must be int"),
    ([{"name": "mqar"}, {"name": "mqar", "num_pairs": 8}], "needs its own id"),
    ([{"name": "mqar", "share": 0}], "share"),
    ([], "non-empty"),
])
def test_bad_task_lists_are_spec_errors(tasks, message):
    with pytest.raises(SpecError, match=message.replace("[", r"\[").replace("]", r"\]")):
        source(tasks)


def test_a_repeated_task_with_ids_reports_separately():
    src = source([{"name": "mqar", "id": "mqar_easy"}, {"name": "mqar", "id": "mqar_hard", "num_pairs": 8}])
    metrics = src.evaluate(lambda x: torch.zeros(*x.shape, src.vocab_size))
    assert {"mqar_easy/acc", "mqar_hard/acc", "mqar_easy/loss", "mqar_hard/loss"} <= set(metrics)


def test_corpus_kind_is_one_lm_task_at_the_train_length():
    src = make_source(parse_spec({"layer": {"path": "x.py"}, "train": {"seq_len": 32, "batch_size": 2},
                                  "data": {"kind": "corpus"}}))
    assert [e.id for e in src.entries] == ["lm"] and src.batch(0)[0].shape == (2, 32)


# ---- metrics on known logits ----------------------------------------------------------------------------------

def test_tally_counts_only_labelled_positions():
    logits = torch.zeros(1, 4, 3)
    logits[0, 0, 2] = logits[0, 1, 1] = logits[0, 2, 0] = 10.0
    y = torch.tensor([[2, 0, IGNORE, IGNORE]])
    tally = Tally()
    tally.add(logits, y)
    out = tally.metrics("t", "acc")
    assert out["t/acc"] == 0.5
    expect = (torch.nn.functional.cross_entropy(logits[0, :2], y[0, :2])).item()
    assert out["t/loss"] == pytest.approx(expect, rel=1e-6)


def oracle(src, wrong_every: int = 0):
    """logits_of that knows the evaluation labels (looked up by input row), optionally wrong on every k-th one."""
    table = {}
    for e in src.entries:
        for index in range(e.eval_batches):
            x, y = e.task.sample_eval(stream(src.eval_seed, e.id, 1, index), e.batch_size)
            for row in range(len(x)):
                table[tuple((x[row] + e.offset).tolist())] = (y[row], e)

    def logits_of(x):
        out = torch.zeros(*x.shape, src.vocab_size)
        for row in range(len(x)):
            y, e = table[tuple(x[row].tolist())]
            for t in (y != IGNORE).nonzero().flatten().tolist():
                target = int(y[t])
                if wrong_every and t % wrong_every == 0:
                    target = (target + 1) % e.task.vocab_size
                out[row, t, e.offset + target] = 30.0
        return out
    return logits_of


def test_metrics_on_perfect_wrong_and_uniform_logits():
    src = source([{"name": "mqar", "random_non_queries": False}, {"name": "memorize"},
                  {"name": "lm", "max_bytes": 100_000}])
    perfect = src.evaluate(oracle(src))
    assert perfect["mqar/acc"] == perfect["memorize/acc"] == 1.0
    assert perfect["lm/bpb"] < 1e-6 and perfect["mqar/loss"] < 1e-6
    summary = src.summary(perfect)
    assert summary["score"] == pytest.approx(1.0) and summary["eval_loss"] < 1e-6
    half = src.evaluate(oracle(src, wrong_every=4))               # memorize labels sit at even t: half are t%4==0
    assert half["memorize/acc"] == pytest.approx(0.5)
    uniform = src.evaluate(lambda x: torch.zeros(*x.shape, src.vocab_size))
    assert uniform["lm/bpb"] == pytest.approx(8.0, rel=1e-5)      # uniform over the 256 bytes of the LM's slice
    assert uniform["mqar/loss"] == pytest.approx(math.log(128), rel=1e-5)
    assert src.summary(uniform)["score"] == pytest.approx((uniform["mqar/acc"] + uniform["memorize/acc"]) / 3)


def test_summary_score_is_the_weighted_mean_of_task_scores():
    src = source([{"name": "mqar", "weight": 3.0}, {"name": "lm", "max_bytes": 100_000}])
    out = src.summary({"mqar/acc": 0.8, "mqar/loss": 1.0, "lm/bpb": 2.0, "lm/loss": 3.0})
    assert out["score"] == pytest.approx((3 * 0.8 + 1 * (1 - 2.0 / 8)) / 4)
    assert out["eval_loss"] == pytest.approx(2.0)


def test_a_primary_task_is_the_loss_and_leaves_the_score():
    metrics = {"mqar/acc": 0.8, "mqar/loss": 1.0, "memorize/acc": 0.4, "memorize/loss": 8.0, "lm/bpb": 2.0, "lm/loss": 3.0}
    src = source([{"name": "mqar"}, {"name": "memorize"}, {"name": "lm", "max_bytes": 100_000, "primary": True}])
    out = src.summary(metrics)
    assert out["eval_loss"] == pytest.approx(3.0)                  # L: the byte LM's held-out loss alone
    assert out["score"] == pytest.approx((0.8 + 0.4) / 2)          # B: the benchmarks, without the LM's term
    with pytest.raises(SpecError, match=r"data.tasks\[0\].primary must be bool"):
        source([{"name": "lm", "max_bytes": 100_000, "primary": 1}])


def test_the_proxy_presets_measure_L_on_their_byte_lm():
    for name in ("tiny", "quick", "full"):
        lm = [t for t in proxy_preset(name)["data"]["tasks"] if t["name"] == "lm"]
        assert [t.get("primary") for t in lm] == [True], name


def test_every_registered_task_is_covered():
    assert set(TASKS) == {"mqar", "recall", "noisy_recall", "fuzzy_recall", "selective_copy", "memorize", "lm", "tokens"}  # tokens: test_lm_stage.py


# ---- through the harness --------------------------------------------------------------------------------------

TINY_LAYER = '''
import torch, torch.nn as nn
class DeltaNet(nn.Module):
    """A causal token-shift mixer: enough to train through the harness quickly."""
    def __init__(self, *, hidden_size, num_heads, layer_idx=0, **kwargs):
        super().__init__()
        self.proj = nn.Linear(2 * hidden_size, hidden_size)
    def forward(self, x, **kwargs):
        prev = torch.nn.functional.pad(x, (0, 0, 1, 0))[:, :-1]
        return self.proj(torch.cat([x, prev], -1))
'''


def test_a_task_mix_runs_through_the_harness(run_harness, tmp_path):
    layer = tmp_path / "tiny.py"
    layer.write_text(TINY_LAYER)
    spec = {"layer": {"path": str(layer)}, "stage": "proxy", "model": {"hidden_size": 32, "num_heads": 2},
            "train": {"steps": 6, "batch_size": 4}, "data": {"kind": "tasks", "eval_batches": 1, "tasks": [
                {"name": "mqar"}, {"name": "selective_copy", "seq_len": 32, "num_copy": 4},
                {"name": "lm", "max_bytes": 50_000, "seq_len": 32}]}}
    result, _ = run_harness(spec)
    assert result["status"] == "ok", result["error"]
    m = result["metrics"]
    assert {"mqar/acc", "selective_copy/acc", "lm/bpb", "score", "eval_loss"} <= set(m)
    assert all(math.isfinite(v) for v in m.values()) and 0 <= m["score"] <= 1
    assert len(result["curve"]) == 6


def test_seeds_change_both_the_initial_weights_and_the_data(tmp_path):
    from harness.loader import load_layer_class
    from harness.run import build_model
    layer = tmp_path / "tiny.py"
    layer.write_text(TINY_LAYER)
    specs = [parse_spec({"layer": {"path": str(layer)}, "seed": seed, "model": {"hidden_size": 16, "num_heads": 2},
                         "data": {"kind": "tasks", "tasks": [{"name": "mqar"}]}}) for seed in (0, 1)]
    models = [build_model(s, load_layer_class(s.layer.path, "DeltaNet"), 128) for s in specs]
    assert not torch.equal(models[0].embed.weight, models[1].embed.weight)
    assert not torch.equal(make_source(specs[0]).batch(0)[0], make_source(specs[1]).batch(0)[0])


# ---- the proxy presets ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["quick", "full"])
def test_presets_are_valid_run_specs_with_buildable_tasks(name):
    from harness.tasks import proxy_preset
    preset = proxy_preset(name)
    assert set(preset) <= {"model", "train", "data", "dtype", "timeout_s", "threads"}
    spec = parse_spec({**preset, "layer": {"path": "x.py"}, "stage": "proxy"})
    src = make_source(spec)
    for step in range(len(src.schedule)):
        x, y = src.batch(step)
        assert x.max() < src.vocab_size and (y != IGNORE).any()
    assert spec.train.steps >= 4 * len(src.schedule)            # every task trains many times


def test_an_unknown_preset_names_the_known_ones():
    from harness.tasks import proxy_preset
    with pytest.raises(SpecError, match="full, quick"):
        proxy_preset("medium")
