"""The Python benchmarks (`python -m bench.<name>` from experiments/; `npm run bench` runs them): ops, probes,
proxy, gpu. They measure the harness (experiments/harness/) from outside it and print what they measured."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import List, Tuple

LAYERS = Path(__file__).resolve().parent.parent / "layers"


def baseline_layers(root: Path = LAYERS) -> List[Tuple[Path, str]]:
    """(file, class) for every class a layer file exports in __all__, in file order, read without importing it."""
    found = []
    for path in sorted(root.rglob("*.py")) if root.is_dir() else []:
        if path.name.startswith("_"):
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
                found += [(path, elt.value) for elt in getattr(node.value, "elts", [])
                          if isinstance(elt, ast.Constant) and isinstance(elt.value, str)]
    return found
