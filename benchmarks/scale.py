"""Linear in models: `check --only repo --offline` and `fix --dry-run` on 1 and on N models, and a huge config.

    python benchmarks/scale.py [models] [runs]          # default 1000 models, 5 runs
    python benchmarks/scale.py --make DIR models [defect]  # only write a repository (for other timers)

Each figure is timed beside its anchor in the same run, the two in turn (A B A B ...), and printed as
min / median / max of the wall time and of the ratio pair by pair (the machine's speed drifts; a ratio of
neighbouring runs does not):

* `check --only repo --offline` on N healthy models against the same on 1 model (goal <= 2.5x);
* `fix --dry-run` on N models with one defect each against 1 model with one defect (goal <= 3x);
* `check --only repo --offline` on a config.pbtxt declaring 70,000 inputs against one input (goal < 5 s,
  every finding reported).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIG = """\
backend: "vllm"
max_batch_size: 0
model_transaction_policy {{ decoupled: true }}
instance_group [ {{ count: 1, kind: {kind} }} ]
"""
MODEL_JSON = {"model": "google/gemma-2b-it", "tensor_parallel_size": 1, "gpu_memory_utilization": 0.9}
INPUT = 'input { name: "a%d" data_type: TYPE_STRING dims: [1] }\n'


def make_repo(root: Path, models: int, defect: bool = False) -> Path:
    """A repository of ``models`` models (``kind: KIND_CPU`` in each when ``defect``: a safe fix)."""
    repo = root / "model_repository"
    for i in range(models):
        model = repo / f"model_{i:05d}"
        (model / "1").mkdir(parents=True)
        kind = "KIND_CPU" if defect else "KIND_MODEL"
        (model / "config.pbtxt").write_text(CONFIG.format(kind=kind), encoding="utf-8")
        (model / "1" / "model.json").write_text(json.dumps(MODEL_JSON), encoding="utf-8")
    return repo


def make_inputs(root: Path, inputs: int) -> Path:
    """One model whose config.pbtxt declares ``inputs`` unknown inputs (two findings each)."""
    repo = root / "model_repository"
    model = repo / "m"
    (model / "1").mkdir(parents=True)
    text = 'backend: "vllm"\n' + "".join(INPUT % i for i in range(inputs))
    (model / "config.pbtxt").write_text(text, encoding="utf-8")
    (model / "1" / "model.json").write_text(json.dumps(MODEL_JSON), encoding="utf-8")
    return repo


def wall(cmd: list[str]) -> float:
    env = {**os.environ, "NO_COLOR": "1"}
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def paired(name: str, figure: list[str], anchor: list[str], runs: int) -> None:
    wall(figure), wall(anchor)  # warm the page cache
    a, b = [], []
    for _ in range(runs):
        a.append(wall(figure))
        b.append(wall(anchor))
    ratios = [x / y for x, y in zip(a, b, strict=True)]

    def mmm(values: list[float], unit: str = "s") -> str:
        return f"{min(values):.3f}/{statistics.median(values):.3f}/{max(values):.3f} {unit}"

    print(f"{name}\n  figure {mmm(a)}   anchor {mmm(b)}   ratio {mmm(ratios, 'x')}  (min/median/max, {runs} runs)")


def main() -> None:
    if sys.argv[1:2] == ["--make"]:
        target, count = Path(sys.argv[2]), int(sys.argv[3])
        print(make_repo(target, count, defect=len(sys.argv) > 4))
        return
    models = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    doctor = [sys.executable, "-m", "triton_doctor"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        one, many = make_repo(root / "one", 1), make_repo(root / "many", models)
        bad_one, bad_many = make_repo(root / "bad1", 1, True), make_repo(root / "badN", models, True)
        check = [*doctor, "check", "--only", "repo", "--offline", "--repo"]
        paired(f"check --only repo --offline: {models} models vs 1", [*check, str(many)], [*check, str(one)], runs)
        fix = [*doctor, "fix", "--dry-run", "--offline", "--repo"]
        paired(f"fix --dry-run: {models} defects vs 1", [*fix, str(bad_many)], [*fix, str(bad_one)], runs)
        big, small = make_inputs(root / "in70k", 70_000), make_inputs(root / "in1", 1)
        paired("check on a config.pbtxt with 70,000 inputs vs 1", [*check, str(big)], [*check, str(small)], runs)


if __name__ == "__main__":
    main()
