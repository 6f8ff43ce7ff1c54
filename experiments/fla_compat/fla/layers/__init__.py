"""fla.layers: only `fla.layers.utils` is provided (no layers)."""
