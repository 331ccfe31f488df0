"""What the pre-deploy gate costs: cold ``--help`` and ``check --profile quick`` on the sample and on
generated repositories of 1, 50 and 200 models (copies of the guide's remote-model shape).

    python benchmarks/gate.py [runs]

Each figure is the wall time of a whole process (what a CI step or a pre-commit hook waits for): median,
min and max over ``runs`` runs after one warm-up run, with the JSON, JUnit, SARIF and GitHub reports written;
for ``check`` also the median time the checks themselves took (the JSON report's ``duration_ms``), which
tells start-up apart from work that grows with the repository.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 7
ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "fixtures" / "repos" / "healthy-remote" / "model_repository" / "gemma"
ENV = {**os.environ, "NO_COLOR": "1", "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
DOCTOR = [sys.executable, "-m", "triton_doctor"]


def make_repo(parent: Path, models: int) -> Path:
    """A repository of ``models`` copies of the healthy remote model, each named after its directory."""
    repo = parent / f"repo-{models}"
    for i in range(models):
        name = f"model_{i:03d}"
        shutil.copytree(TEMPLATE, repo / name)
        config = repo / name / "config.pbtxt"
        config.write_text(config.read_text().replace('name: "gemma"', f'name: "{name}"'))
    return repo


def wall(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=ENV, cwd=cwd, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    return elapsed


def main() -> None:
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU(s), "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}; {RUNS} runs each"
    )
    with tempfile.TemporaryDirectory(prefix="td-bench-") as tmp:
        work = Path(tmp)
        reports = [f"--output={fmt}:{work / ('out.' + fmt)}" for fmt in ("json", "junit", "sarif", "github")]
        commands = {"triton-doctor --help": [*DOCTOR, "--help"]}
        commands["check --profile quick --sample"] = [*DOCTOR, "check", "--profile", "quick", "--sample", *reports]
        for models in (1, 50, 200):
            repo = make_repo(work, models)
            commands[f"check --profile quick ({models} model{'s' if models > 1 else ''})"] = [
                *DOCTOR,
                "check",
                "--profile",
                "quick",
                "--repo",
                str(repo),
                *reports,
            ]
        report = work / "out.json"
        for name, cmd in commands.items():
            wall(cmd, work)  # warm the page cache
            times: list[float] = []
            checks: list[int] = []
            for _ in range(RUNS):
                report.unlink(missing_ok=True)
                times.append(wall(cmd, work))
                if report.is_file():
                    checks.append(int(json.loads(report.read_text())["summary"]["duration_ms"]))
            inside = f"; checks {statistics.median(checks):.0f} ms" if checks else ""
            print(
                f"{name:<42} median {statistics.median(times) * 1000:8.1f} ms  "
                f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}){inside}"
            )


if __name__ == "__main__":
    main()
