"""The fix engine: plan the fixes findings carry, journal, apply atomically, re-check, undo.

See :mod:`~triton_doctor.fixes.plan`, :mod:`~triton_doctor.fixes.journal`, :mod:`~triton_doctor.fixes.apply`
and :mod:`~triton_doctor.fixes.command`.
"""

from __future__ import annotations

from triton_doctor.fixes.apply import FixError, apply_plan, check_paths, undo_run
from triton_doctor.fixes.command import FixRequest, run_fix_command
from triton_doctor.fixes.journal import Journal, JournalError, find_run
from triton_doctor.fixes.plan import Op, Plan, build_plan, render_op

__all__ = [
    "FixError",
    "FixRequest",
    "Journal",
    "JournalError",
    "Op",
    "Plan",
    "apply_plan",
    "build_plan",
    "check_paths",
    "find_run",
    "render_op",
    "run_fix_command",
    "undo_run",
]
