"""What the server's repository index says about the models the live stage waits for.

Once ``POST /v2/repository/index`` answers, the server has done its start-up loading: a model with no state
(never loaded) or UNAVAILABLE "unloaded" stays so until someone loads it, so waiting for ``--timeout`` cannot
help. :func:`settle` turns one index into the outcome at once: missing, failed (UNAVAILABLE with its reason),
not loaded (a model the user named, or every model), READY, or not known yet (LOADING).
"""

from __future__ import annotations

import time

from triton_doctor.live.options import LiveOutcome

__all__ = ["settle"]


def settle(out: LiveOutcome, states: dict[str, tuple[str, str]], wanted: list[str], named: tuple[str, ...]) -> bool:
    """Record ``states`` in ``out``; True when the outcome is known. ``named``: the models the user named."""
    out.models = states
    missing = [m for m in wanted if m not in states]
    if missing:
        # The server answered its repository index and the model is not in it: waiting cannot help.
        there = ", ".join(sorted(states)) or "no model at all"
        out.state = "missing"
        out.detail = f"{missing[0]}: not in the server's model repository (its index lists {there})"
        return True
    unloaded = [m for m in wanted if not states[m][0] or states[m] == ("UNAVAILABLE", "unloaded")]
    failed = [m for m in wanted if states[m][0] == "UNAVAILABLE" and m not in unloaded]
    if failed:
        out.state, out.detail = "unavailable", f"{failed[0]}: {states[failed[0]][1]}"
        return True
    if any(states[m][0] not in {"READY", "UNAVAILABLE", ""} for m in wanted):
        return False  # LOADING (or UNLOADING): the outcome is not known yet
    out.not_loaded = unloaded
    ready = [m for m in wanted if states[m][0] == "READY"]
    if [m for m in unloaded if m in named] or (unloaded and not ready):
        out.state = "not-loaded"
        out.detail = f"{', '.join(unloaded)}: in the server's model repository but not loaded" + (
            f" (READY: {', '.join(ready)})" if ready else ""
        )
        return True
    if ready:
        out.state, out.ready_at = "ready", time.monotonic()
        out.detail = f"READY after {out.ready_at - out.started_at:.1f} s"
        return True
    return False
