"""archlab_ops: fast sequence-mixing primitives for candidate layers (see README.md for the conventions).

    from archlab_ops import delta_rule, gated_delta_rule, linear_attention, decayed_linear_attention
    from archlab_ops import causal_conv1d, ShortConv, l2norm, RMSNorm, GatedRMSNorm, apply_rotary
"""
from .api import DISPATCH, decayed_linear_attention, delta_rule, gated_delta_rule, linear_attention
from .conv import ShortConv, causal_conv1d
from .norm import GatedRMSNorm, RMSNorm, l2norm
from .rotary import apply_rotary


def backend_report() -> list:
    """What `auto` chose so far in this process, per (op, device, dtype, head sizes), and why."""
    return DISPATCH.report()


__all__ = ["delta_rule", "gated_delta_rule", "linear_attention", "decayed_linear_attention",
           "causal_conv1d", "ShortConv", "l2norm", "RMSNorm", "GatedRMSNorm", "apply_rotary",
           "backend_report"]
