"""Measure ``fix`` on every fixture repository: how many pass ``check --only repo,mounts`` after
``fix --yes``, how many need no second fix, and how many ``fix --undo`` restores byte for byte.

Run: ``python benchmarks/fix_fixtures.py [--unsafe]`` (prints one line per fixture and the totals).
"""

from __future__ import annotations

import filecmp
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "triton_doctor", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"},
        timeout=300,
        check=False,
    )


def case_args(case: dict[str, object], root: Path) -> list[str]:
    """The target options of a fixture case, as tests/test_fixtures.py builds them."""
    raw = [str(a) for a in case["args"]]  # type: ignore[attr-defined]
    args = [a.replace("{root}", str(root)) for a in raw if a != "--no-local-mount"]
    if "--repo" not in args:
        args += ["--repo", str(root / "model_repository")]
    if case["shape"] == "local" and "--no-local-mount" not in raw:
        args += ["--mount", f"{root / 'local_models'}:/local_models"]
    return args


def same_tree(a: Path, b: Path) -> bool:
    """Byte-identical trees (ignoring the journal)."""
    cmp = filecmp.dircmp(a, b, ignore=[".triton-doctor"])

    def walk(dc: filecmp.dircmp[str]) -> bool:
        if dc.left_only or dc.right_only or dc.funny_files:
            return False
        _match, mismatch, errors = filecmp.cmpfiles(dc.left, dc.right, dc.common_files, shallow=False)
        if mismatch or errors:
            return False
        return all(walk(sub) for sub in dc.subdirs.values())

    return walk(cmp)


def repo_errors(args: list[str], cwd: Path) -> list[str]:
    """Error-level findings of repo and mounts checks (docker-daemon, a prerequisite, is not counted)."""
    result = _cli("check", "--only", "repo,mounts", "--offline", "--format", "json", *args, cwd=cwd)
    report = json.loads(result.stdout)
    return [
        f["id"]
        for c in report["checks"]
        if c["category"] in {"repo", "mounts"}
        for f in c["findings"]
        if f["severity"] == "error"
    ]


def main() -> None:
    unsafe = ["--unsafe"] if "--unsafe" in sys.argv[1:] else []
    cases = json.loads((FIXTURES / "cases.json").read_text())
    totals = {"fixable": 0, "pass": 0, "no_second": 0, "undo_identical": 0, "healthy_no_plan": 0, "healthy": 0}
    for case in cases:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp) / case["name"]
            shutil.copytree(FIXTURES / "repos" / case["name"], work, symlinks=True)
            pristine = Path(tmp) / "pristine"
            shutil.copytree(work, pristine, symlinks=True)
            args = case_args(case, work)
            first = _cli("fix", "--yes", "--offline", *unsafe, *args, cwd=work)
            if case["finding"] is None:
                totals["healthy"] += 1
                totals["healthy_no_plan"] += "nothing to fix" in first.stdout
                print(f"{case['name']:<28} healthy: {'no plan' if 'nothing to fix' in first.stdout else 'PLANNED'}")
                continue
            if "applied (run" not in first.stdout:
                print(f"{case['name']:<28} no fix ({case['finding']})")
                continue
            totals["fixable"] += 1
            errors = repo_errors(args, work)
            second = _cli("fix", "--yes", "--offline", *unsafe, *args, cwd=work)
            undo = _cli("fix", "--undo", *args, cwd=work)
            identical = undo.returncode == 0 and same_tree(work, pristine)
            totals["pass"] += not errors
            totals["no_second"] += "nothing to fix" in second.stdout
            totals["undo_identical"] += identical
            print(
                f"{case['name']:<28} check after fix: {'pass' if not errors else 'FAIL ' + ','.join(errors)}; "
                f"second fix: {'nothing' if 'nothing to fix' in second.stdout else 'PLANNED'}; "
                f"undo: {'identical' if identical else 'DIFFERS'}"
            )
    print(
        f"\nfixable fixtures: {totals['fixable']}; pass check --only repo,mounts after fix --yes: {totals['pass']}; "
        f"no second fix needed: {totals['no_second']}; undo byte-identical: {totals['undo_identical']}; "
        f"healthy with no plan: {totals['healthy_no_plan']}/{totals['healthy']}"
    )


if __name__ == "__main__":
    main()
