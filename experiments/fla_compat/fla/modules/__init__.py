"""fla.modules: the three modules ASI-Arch's layers import (and fla.modules.l2norm.l2norm)."""
from .convolution import ShortConvolution
from .fused_norm_gate import FusedRMSNormGated
from .layernorm import RMSNorm

__all__ = ["FusedRMSNormGated", "RMSNorm", "ShortConvolution"]
