"""Fixes: the edits findings carry, their plan, the journal, apply and undo, and ``init``.

Takes findings with fixes; gives changed files (previewed, journaled, reversible).
"""

from __future__ import annotations

from triton_doctor.repair.apply import FixError, apply_plan, check_paths, undo_run
from triton_doctor.repair.flow import FixRequest, run_fix_command
from triton_doctor.repair.journal import Journal, JournalError, find_run
from triton_doctor.repair.plan import Op, Plan, build_plan, render_op

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
