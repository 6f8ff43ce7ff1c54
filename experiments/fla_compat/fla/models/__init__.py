"""fla.models: only `fla.models.utils.Cache` is provided (no models)."""
