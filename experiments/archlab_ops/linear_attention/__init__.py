"""Linear attention, plain or with a log-decay (fixed / data-dependent per head, or per key dimension):
naive recurrence (reference) and chunked form. Plain linear attention is the g=None case."""
from .chunk import PER_DIM_CHUNK, chunk_linear_attention
from .naive import naive_linear_attention

__all__ = ["PER_DIM_CHUNK", "chunk_linear_attention", "naive_linear_attention"]
