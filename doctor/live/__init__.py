"""The live stage: the deployment brought up in Docker (or a running server), READY awaited, a real generation.

Takes a ``Target`` and live options; gives a ``LiveOutcome`` the live checks report.
"""

from __future__ import annotations

from triton_doctor.live.options import LiveOptions, LiveOutcome, Progress
from triton_doctor.live.session import LiveSession, start_session

__all__ = ["LiveOptions", "LiveOutcome", "LiveSession", "Progress", "start_session"]
