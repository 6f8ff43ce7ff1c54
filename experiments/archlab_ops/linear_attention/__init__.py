"""Linear attention, plain or with a log-decay (fixed / data-dependent per head, or per key dimension):
naive recurrence (reference) and chunked form. Plain linear attention is the g=None case."""
from .chunk import chunk_linear_attention
from .naive import naive_linear_attention

__all__ = ["chunk_linear_attention", "naive_linear_attention"]
