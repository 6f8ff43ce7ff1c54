"""archlab's pure-PyTorch stand-in for the part of flash-linear-attention that ASI-Arch's layers import.

On sys.path only when the real `fla` is not installed (harness.loader.prepare_imports). See ../README.md.
"""

__version__ = "0.2.2+archlab.compat"
ARCHLAB_COMPAT = True  # lets the harness and tests tell this package from the real one
