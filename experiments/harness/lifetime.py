"""Process lifetime: a harness process dies with the process that started it."""
from __future__ import annotations

import signal


def die_with_parent() -> None:
    """If the parent is killed (even with SIGKILL), this process dies too instead of running on as an orphan:
    the evaluator with the orchestrator, the candidate process with the evaluator."""
    try:
        import ctypes
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the orchestrator's process-group kill still applies
