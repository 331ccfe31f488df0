"""The commands' runs, end to end: what the CLI asks -> deployment -> facts -> checks -> policy -> reports.

Takes a request (``CheckRequest``, ``LogsRequest``, a bundle's target); gives an exit code and the reports written.
"""

from __future__ import annotations

from triton_doctor.app.check import CheckRequest, gate_policy, run_check_command, sample_paths, sarif_rules
from triton_doctor.app.logs import LogsRequest, run_logs_command

__all__ = [
    "CheckRequest",
    "LogsRequest",
    "gate_policy",
    "run_check_command",
    "run_logs_command",
    "sample_paths",
    "sarif_rules",
]
