"""Start-up cost of the CLI: wall time of `--help` and `check --only repo --sample`, and the import breakdown.

    python benchmarks/startup.py [runs]

Prints medians over several runs of the whole process (what a user waits for), then the ten most
expensive imports of `check` from `python -X importtime`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 7
ENV = {**os.environ, "NO_COLOR": "1"}
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "triton-doctor --help": [sys.executable, "-m", "triton_doctor", "--help"],
    "triton-doctor check --sample --only repo": [
        sys.executable,
        "-m",
        "triton_doctor",
        "check",
        "--sample",
        "--only",
        "repo",
        "--format",
        "json",
    ],
}


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=ENV, capture_output=True, check=False)
    return time.perf_counter() - start


def main() -> None:
    for name, cmd in COMMANDS.items():
        wall(cmd)  # warm the page cache
        times = [wall(cmd) for _ in range(RUNS)]
        print(
            f"{name:<45} median {statistics.median(times) * 1000:7.1f} ms  "
            f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}, {RUNS} runs)"
        )
    proc = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "triton_doctor",
            "check",
            "--sample",
            "--only",
            "repo",
            "--format",
            "json",
        ],
        env=ENV,
        capture_output=True,
        text=True,
        check=False,
    )
    rows = []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "self [us]" not in line:
            _self_us, cumulative_us, name = line.removeprefix("import time:").split("|")
            rows.append((int(cumulative_us), name.rstrip()))
    print("\nimport time of `check --sample --only repo`, top 12 by cumulative time (ms):")
    for cumulative_us, name in sorted(rows, reverse=True)[:12]:
        print(f"  {cumulative_us / 1000:7.1f}  {name}")


if __name__ == "__main__":
    main()
