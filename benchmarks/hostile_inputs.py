"""Peak memory and wall time of `check` on hostile repository files (issue 13's reproductions).

    python benchmarks/hostile_inputs.py

Each case is a fresh process (`check --only repo --offline`) on a repository whose config.pbtxt is: a
plain valid one (the baseline), a symlink to /dev/zero, 10,000 and 100,000 levels of nesting, a 4 MB
one-line syntax error; then a config.pbtxt declaring 70,000 inputs and a model.json holding a 4 MB string.
Prints the child's peak RSS (``ru_maxrss`` from ``wait4``), the wall time, the exit code and how many bytes
it wrote to stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BASE = 'backend: "vllm"\n'
MODEL_JSON = '{"model": "x"}'
INPUT = 'input { name: "a" data_type: TYPE_STRING dims: [1] }\n'
Case = Callable[[], tuple[str | None, str]]
#: name -> (config.pbtxt, or None for a symlink to /dev/zero; model.json), built only when run: a large
#: string held by this process would count in the child's peak RSS (the child is forked before it execs).
CASES: dict[str, Case] = {
    "baseline": lambda: (BASE, MODEL_JSON),
    "config.pbtxt -> /dev/zero": lambda: (None, MODEL_JSON),
    "10k levels of nesting": lambda: ("input { " * 10_000, MODEL_JSON),
    "100k levels of nesting": lambda: ("input { " * 100_000, MODEL_JSON),
    "4 MB one-line syntax error": lambda: ('backend: "vllm" ' + "bogus_field: 1 " * 270_000, MODEL_JSON),
    "70k inputs (140k findings)": lambda: (BASE + INPUT * 70_000, MODEL_JSON),
    "4 MB string in model.json": lambda: (BASE, '{"model": "' + "a" * 4_000_000 + '"}'),
}


def run_case(root: Path, make: Case) -> tuple[int, float, int, int]:
    """``(peak RSS in KiB, wall seconds, exit code, stderr bytes)`` of one ``check`` process."""
    model = root / "model_repository" / "m"
    (model / "1").mkdir(parents=True)
    config, model_json = make()
    (model / "1" / "model.json").write_text(model_json, encoding="utf-8")
    if config is None:
        (model / "config.pbtxt").symlink_to("/dev/zero")
    else:
        (model / "config.pbtxt").write_text(config, encoding="utf-8")
    del config, model_json
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
    for name, make in CASES.items():
        with tempfile.TemporaryDirectory() as tmp:
            peak, wall, code, err_bytes = run_case(Path(tmp), make)
        print(f"{name:<30} {peak / 1024:>6.0f} MiB {wall:>7.2f}s {code:>5} {err_bytes:>8} B")


if __name__ == "__main__":
    main()
