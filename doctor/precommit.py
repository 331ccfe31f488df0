"""The pre-commit hook: ``triton-doctor check --profile quick`` on the model repositories a commit touches.

pre-commit passes the changed files that match the hook's ``files`` pattern (``config.pbtxt``,
``model.json``). Each is mapped to its model (the nearest directory holding ``config.pbtxt``, or the parent of
a version directory) and its repository (the model's parent); each repository is checked once, for the
changed models only. The exit code is the worst of the runs (1 findings, 2 usage, 3 undecided).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["group_by_repository", "main"]

#: How bad each exit code is: a usage error, then findings, then an undecided run.
_RANK = {0: 0, 3: 1, 1: 2, 2: 3}


def _model_dir(path: Path) -> Path | None:
    start = path if path.is_dir() else path.parent
    for candidate in (start, *list(start.parents)[:3]):
        if (candidate / "config.pbtxt").is_file():
            return candidate
    if path.name == "model.json" and path.parent.name.isdigit():
        return path.parent.parent
    if path.name == "config.pbtxt":
        return path.parent
    return None


def group_by_repository(files: Sequence[str]) -> dict[str, list[str]]:
    """Repository path -> changed model names, in first-seen order."""
    groups: dict[str, list[str]] = {}
    for name in files:
        model = _model_dir(Path(name))
        if model is None:
            continue
        repo = str(model.parent) if str(model.parent) else "."
        models = groups.setdefault(repo, [])
        if model.name not in models:
            models.append(model.name)
    return groups


def _run_check(cli: Any, command: list[str]) -> int:
    try:
        cli.main(args=command, prog_name="triton-doctor", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Check each touched repository; options before ``--`` go to every ``check``.

    In ``.pre-commit-config.yaml``: ``args: [--fail-on, warn, --]`` (pre-commit appends the file names).
    """
    from triton_doctor.cli import cli

    args = list(sys.argv[1:] if argv is None else argv)
    options: list[str] = []
    if "--" in args:
        split = args.index("--")
        options, args = args[:split], args[split + 1 :]
    worst = 0
    for repo, models in group_by_repository(args).items():
        command = ["check", "--profile", "quick", "--repo", repo, *(f"--model={m}" for m in models), *options]
        print(f"triton-doctor {' '.join(command)}", file=sys.stderr, flush=True)
        code = _run_check(cli, command)
        worst = max(worst, code, key=lambda c: _RANK.get(c, 1))
    return worst


if __name__ == "__main__":
    sys.exit(main())
