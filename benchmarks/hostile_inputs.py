"""Peak memory and wall time of `check` on hostile repository files (issue 13's reproductions).

    python benchmarks/hostile_inputs.py

Each case is a fresh process (`check --only repo --offline`) on a repository whose config.pbtxt is: a
plain valid one (the baseline), a symlink to /dev/zero, 10,000 and 100,000 levels of nesting, and a 4 MB
one-line syntax error. Prints the child's peak RSS (``ru_maxrss``), the wall time, the exit code and how
many bytes it wrote to stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES: dict[str, str | None] = {
    "baseline": 'backend: "vllm"\n',
    "config.pbtxt -> /dev/zero": None,
    "10k levels of nesting": "input { " * 10_000,
    "100k levels of nesting": "input { " * 100_000,
    "4 MB one-line syntax error": 'backend: "vllm" ' + "bogus_field: 1 " * 270_000,
}


def run_case(root: Path, config: str | None) -> tuple[int, float, int, int]:
    """``(peak RSS in KiB, wall seconds, exit code, stderr bytes)`` of one ``check`` process."""
    model = root / "model_repository" / "m"
    (model / "1").mkdir(parents=True)
    (model / "1" / "model.json").write_text('{"model": "x"}', encoding="utf-8")
    if config is None:
        (model / "config.pbtxt").symlink_to("/dev/zero")
    else:
        (model / "config.pbtxt").write_text(config, encoding="utf-8")
    cmd = [sys.executable, "-m", "triton_doctor", "check", "--repo", str(root / "model_repository")]
    cmd += ["--only", "repo", "--offline"]
    with open(root / "stderr", "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, "NO_COLOR": "1"})
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss, wall, proc.returncode, (root / "stderr").stat().st_size


def main() -> None:
    print(f"{'case':<30} {'peak RSS':>10} {'wall':>8} {'exit':>5} {'stderr':>10}")
    for name, config in CASES.items():
        with tempfile.TemporaryDirectory() as tmp:
            peak, wall, code, err_bytes = run_case(Path(tmp), config)
        print(f"{name:<30} {peak / 1024:>6.0f} MiB {wall:>7.2f}s {code:>5} {err_bytes:>8} B")


if __name__ == "__main__":
    main()
