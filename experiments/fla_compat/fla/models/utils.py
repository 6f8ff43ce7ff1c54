"""Cache: per-layer decoding state, a list of dicts {recurrent_state, attn_state, conv_state, ffn_state}.

ASI-Arch's layers name it in type hints only (under TYPE_CHECKING); it is provided so that such an import, and a
layer's `past_key_values.update(...)` / `past_key_values[layer_idx]`, work without transformers installed.
"""
from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Tuple

import torch

__all__ = ["Cache"]

FIELDS = ("recurrent_state", "attn_state", "conv_state", "ffn_state")


class Cache:
    def __init__(self, seen_tokens: int = 0) -> None:
        self.states: List[Dict[str, Any]] = []
        self._seen_tokens = seen_tokens

    def __getitem__(self, layer_idx: int) -> Dict[str, Any]:
        if 0 <= layer_idx < len(self.states):
            return self.states[layer_idx]
        raise KeyError(f"Cache only has {len(self)} layers, attempted to access layer with index {layer_idx}")

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        return iter(self.states)

    def __len__(self) -> int:
        return len(self.states)

    def update(self, recurrent_state: Optional[torch.Tensor] = None,
               attn_state: Optional[Tuple[torch.Tensor, torch.Tensor]] = None,
               conv_state: Optional[Any] = None, ffn_state: Optional[Any] = None, layer_idx: int = 0,
               offset: Optional[int] = 1, cache_kwargs: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """Appends layer `layer_idx`'s state (layers are added in order) or overwrites its non-None fields.
        attn_state (keys, values) is concatenated along the sequence axis (-2), keeping the last
        cache_kwargs['window_size'] positions when that is set. Layer 0's update advances the seen-token count."""
        if attn_state is not None and (not isinstance(attn_state, tuple) or len(attn_state) != 2):
            raise ValueError("attn_state must be a (keys, values) tuple")
        window = (cache_kwargs or {}).get("window_size")
        if layer_idx == 0:
            self._seen_tokens += offset or 0
        if layer_idx < len(self.states):
            state = self.states[layer_idx]
            if attn_state is not None and state["attn_state"] is not None:
                keys, values = state["attn_state"]
                attn_state = (torch.cat([keys, attn_state[0]], -2), torch.cat([values, attn_state[1]], -2))
        elif layer_idx == len(self.states):
            state = dict.fromkeys(FIELDS)
            self.states.append(state)
        else:
            raise KeyError(f"Cache has {len(self)} layers; layer {layer_idx} cannot be added before the ones below it")
        if attn_state is not None and window is not None:
            attn_state = (attn_state[0][..., -window:, :], attn_state[1][..., -window:, :])
        for name, value in zip(FIELDS, (recurrent_state, attn_state, conv_state, ffn_state)):
            if value is not None:
                state[name] = value
        return state

    def get_seq_length(self, layer_idx: Optional[int] = 0) -> int:
        return self._seen_tokens if len(self.states) > (layer_idx or 0) else 0

    def get_max_length(self) -> Optional[int]:
        return None

    def to_legacy_cache(self) -> Tuple[Dict[str, Any], ...]:
        return tuple(self.states)

    @classmethod
    def from_legacy_cache(cls, past_key_values: Optional[Any] = None, seen_tokens: int = 0) -> "Cache":
        cache = cls(seen_tokens)
        for state in past_key_values or ():
            cache.states.append(state)
        return cache
