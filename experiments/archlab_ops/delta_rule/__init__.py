"""Delta rule and gated delta rule: naive recurrence (reference) and chunked WY/UT form.

The plain delta rule is the gated one with no gate (g=None); both backends take the same keywords.
"""
from .chunk import chunk_delta_rule
from .naive import naive_delta_rule

__all__ = ["chunk_delta_rule", "naive_delta_rule"]
