"""Probe-stage wall time per baseline layer: `python -m bench.probes [--json] [--layer PATH[:Class]]...`

Runs run_probes (all probes, default ProbeSpec, the stage's default model size) on every class that a file in
experiments/layers/ exports in __all__, or on the given layer files, in one warm process (one untimed warm-up
run first), and prints each layer's wall seconds, its verdict and the median. npm run bench calls it with --json.
Exit code 2 when there is no layer to time.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import List

import torch

from harness.loader import load_layer_class, prepare_imports
from harness.probes import run_probes
from harness.run import build_model, needs_bf16
from harness.spec import parse_spec

from . import LAYERS, baseline_layers

def probe_once(path: Path, class_name: str) -> dict:
    spec = parse_spec({"layer": {"path": str(path), "class_name": class_name}, "stage": "probe", "train": None,
                       "dtype": "auto", "probe": {"enabled": True}})
    cls = load_layer_class(spec.layer.path, spec.layer.class_name)
    bf16 = needs_bf16(build_model(spec, cls, spec.model.vocab_size), spec)
    started = time.perf_counter()
    report = run_probes(cls, spec, bf16)
    wall = time.perf_counter() - started
    rejection = report["rejection"]
    return {"layer": f"{_name(path)}:{class_name}", "wall_s": round(wall, 3),
            "verdict": "ok" if rejection is None else "rejected", "kind": rejection.kind if rejection else None,
            "exponent": report["probes"].get("complexity", {}).get("exponent"),
            "probes_s": {name: record.get("s") for name, record in report["probes"].items()}}


def _name(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(LAYERS))
    except ValueError:
        return path.name


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.probes", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--layer", action="append", default=[], metavar="PATH[:Class]",
                        help="time these layer files instead of experiments/layers/ (class default DeltaNet)")
    args = parser.parse_args(argv)
    prepare_imports(compile_enabled=False)
    layers = [(Path(p), c or "DeltaNet") for p, _, c in (s.partition(":") for s in args.layer)] or baseline_layers()
    if not layers:
        print("bench_probes: no layers to time (experiments/layers/ has no file with __all__)", file=sys.stderr)
        return 2
    probe_once(*layers[0])  # warm-up: lazy imports and first-call kernel set-up are not any layer's cost
    rows = [probe_once(path, cls) for path, cls in layers]
    median = statistics.median(r["wall_s"] for r in rows)
    if args.json:
        print(json.dumps({"bench": "probes", "unit": "s", "threads": 1, "torch": torch.__version__,
                          "layers": rows, "median_s": median}))
        return 0
    width = max(len(r["layer"]) for r in rows)
    for r in rows:
        verdict = "ok" if r["verdict"] == "ok" else f"rejected: {r['kind']}"
        exponent = f"L^{r['exponent']:.2f}" if r["exponent"] is not None else "L^?"
        print(f"{r['layer']:<{width}}  {r['wall_s']:6.2f} s  {exponent:>6}  {verdict}")
    print(f"{'median':<{width}}  {median:6.2f} s  over {len(rows)} layer(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
