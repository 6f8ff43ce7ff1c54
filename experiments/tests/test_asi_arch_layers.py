"""ASI-Arch's eight published layers train through the harness smoke stage, unmodified, on CPU.

They import the fla subset (the compat package when fla is absent), cast to bf16 mid-computation (dtype
"auto" switches to bf16 autocast), keep step counters in buffers and return (o, aux-or-None, cache).
Skipped cleanly when ../shared/asi-arch is absent.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from conftest import EXPERIMENTS, asi_arch_names, rejected_at_evaluation

TINY = {"num_layers": 1, "hidden_size": 64, "num_heads": 4, "vocab_size": 64}


@pytest.mark.parametrize("name", asi_arch_names())
def test_published_layer_trains_in_the_smoke_stage(name, asi_arch_layer, run_harness):
    path = asi_arch_layer(name)
    source = path.read_text()
    result, events = run_harness({
        "layer": {"path": str(path)},
        "dtype": "auto",
        "threads": 1,
        "timeout_s": 120,
        "model": TINY,
        "train": {"steps": 2, "seq_len": 64, "batch_size": 2, "warmup_steps": 1},
    })
    if rejected_at_evaluation(result):
        return
    assert result["status"] == "ok", result["error"]
    assert result["error"] is None
    losses = [point["loss"] for point in result["curve"]]
    assert len(losses) == 2 and all(isinstance(v, float) and math.isfinite(v) for v in losses)
    assert result["params"]["mixer"] > 0
    assert result["env"]["fla"] in ("compat", "real")
    names = [e["event"] for e in events]
    assert names[:2] == ["worker", "start"]  # the candidate process's pid (the orchestrator's backstop), then progress
    assert events[-1] == {"event": "done", "status": "ok"}
    assert path.read_text() == source  # the published file is used as is


DRIVE = r'''
import json, sys, importlib.util, torch
from harness.loader import prepare_imports
prepare_imports(False)
from fla.models.utils import Cache
report = {}
for path in sys.argv[1:]:
    spec = importlib.util.spec_from_file_location("candidate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    layer = module.DeltaNet(hidden_size=32, num_heads=2, layer_idx=0).eval()
    x = torch.randn(2, 12, 32)
    mask = torch.ones(2, 12, dtype=torch.long)
    mask[0, :4] = 0  # left padding: the layers pack with get_unpad_data / index_first_axis / pad_input
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        masked = layer(x, attention_mask=mask)[0]
        prefill, _, cache = layer(x, past_key_values=Cache(), use_cache=True)
        step = layer(x[:, :1], past_key_values=cache, use_cache=True)[0] if len(cache) else prefill[:, :1]
    report[path] = [list(t.shape) + [bool(torch.isfinite(t.float()).all())] for t in (masked, prefill, step)]
print(json.dumps(report))
'''


def test_published_layers_run_the_padding_and_decoding_paths_of_the_fla_subset(asi_arch_layer, tmp_path):
    """attention_mask (unpad -> cu_seqlens convolutions -> pad) and use_cache (Cache.update, conv final state,
    then a T == 1 decode step through the conv cache), all eight layers in one child interpreter."""
    paths = [str(asi_arch_layer(name)) for name in asi_arch_names()]
    proc = subprocess.run([sys.executable, "-c", DRIVE, *paths], cwd=EXPERIMENTS, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    for path in paths:
        masked, prefill, step = report[path]
        assert masked == [2, 12, 32, True] and prefill == [2, 12, 32, True] and step == [2, 1, 32, True], path
