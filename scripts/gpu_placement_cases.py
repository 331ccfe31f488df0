"""The GPU placement cases: repositories, the placement Triton and the image's vLLM backend give, the verdict.

Each case is a model repository (one to four vLLM models of Llama 3.1 8B's shape, from
``scripts/make_gpu_repos.py``), an image release, a ``--gpus`` option and ``CUDA_VISIBLE_DEVICES``, on a host
of ``host_gpus`` GPUs. ``expected`` is the placement worked out by hand from the rules in
docs/gpu-placement.md (container GPU numbers per instance, ``refused`` where the load fails before any engine
starts); ``verdict`` is the doctor's expected problems (finding id -> severity). tests/test_gpu_placement.py
asserts both: the placement model against ``expected``, the CLI on an NVML replay against ``verdict``.

    python -m scripts.gpu_placement_cases ONE_GPU.json FOUR_GPUS.json   # the results table of docs/gpu-placement.md
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.make_gpu_repos import make

IMAGE = "nvcr.io/nvidia/tritonserver:{}-vllm-python-py3"
CHECKS = "gpu-share,config-instance-group,gpu-tensor-parallel"


@dataclass(frozen=True)
class Model:
    name: str = "llama"
    tp: int = 1
    pp: int = 1
    #: The instance_group line of config.pbtxt ("" for none).
    group: str = "instance_group [ { count: 1, kind: KIND_MODEL } ]"
    utilization: float = 0.9


@dataclass(frozen=True)
class Case:
    name: str
    models: tuple[Model, ...]
    #: Per model: the container GPUs of each instance's engine, or "refused" / "too-few".
    expected: dict[str, Any]
    verdict: dict[str, str] = field(default_factory=dict)
    tag: str = "25.06"
    host_gpus: int = 4
    gpus: str = "all"
    cuda_visible: str | None = None


def _gpu(count: int = 1, gpus: str = "") -> str:
    listed = f", gpus: [ {gpus} ]" if gpus else ""
    return f"instance_group [ {{ count: {count}, kind: KIND_GPU{listed} }} ]"


MODEL2 = "instance_group [ { count: 2, kind: KIND_MODEL } ]"
OVER = "gpu-share[oversubscribed]"
COUNT = "config-instance-group[count]"
KGPU = "config-instance-group[kind-gpu-multi-gpu]"
FEW = "gpu-tensor-parallel[too-few-gpus]"
ALL4 = [(0,), (1,), (2,), (3,)]


def _m(*names: str, **kw: Any) -> tuple[Model, ...]:
    return tuple(Model(name=n, **kw) for n in names)


CASES: list[Case] = [
    Case("tp1-model-count1", _m("llama"), {"llama": [(0,)]}),
    Case("tp1-model-count2", _m("llama", group=MODEL2), {"llama": [(0,), (0,)]}, {OVER: "error", COUNT: "warning"}),
    Case("tp1-gpu-count1", _m("llama", group=_gpu()), {"llama": ALL4}),
    Case(
        "tp1-gpu-count2",
        _m("llama", group=_gpu(2)),
        {"llama": [(0,), (0,), (1,), (1,), (2,), (2,), (3,), (3,)]},
        {OVER: "error", COUNT: "warning"},
    ),
    Case("tp1-gpu-gpus-1-2", _m("llama", group=_gpu(gpus="1, 2")), {"llama": [(1,), (2,)]}),
    Case(
        "tp1-gpu-gpus-5", _m("llama", group=_gpu(gpus="5")), {"llama": "refused"}, {"gpu-share[invalid-gpus]": "error"}
    ),
    Case("tp1-no-group", _m("llama", group=""), {"llama": ALL4}),
    Case("tp1-no-group-25.03", _m("llama", group=""), {"llama": [(0,)] * 4}, {OVER: "error"}, tag="25.03"),
    Case("tp1-no-group-24.05", _m("llama", group=""), {"llama": [(0,)] * 4}, {OVER: "error"}, tag="24.05"),
    Case("tp2-model-count1", _m("llama", tp=2), {"llama": [(0, 1)]}),
    Case(
        "tp2-model-count2", _m("llama", tp=2, group=MODEL2), {"llama": [(0, 1)] * 2}, {OVER: "error", COUNT: "warning"}
    ),
    Case("tp2-gpu-count1", _m("llama", tp=2, group=_gpu()), {"llama": "refused"}, {KGPU: "error"}),
    Case("tp2-gpu-gpus-0-1", _m("llama", tp=2, group=_gpu(gpus="0, 1")), {"llama": "refused"}, {KGPU: "error"}),
    Case(
        "tp2-gpu-count1-24.05",
        _m("llama", tp=2, group=_gpu()),
        {"llama": [(0, 1)] * 4},
        {OVER: "error", KGPU: "warning"},
        tag="24.05",
    ),
    Case("tp2-no-group", _m("llama", tp=2, group=""), {"llama": "refused"}, {KGPU: "error"}),
    Case(
        "tp2-no-group-24.05",
        _m("llama", tp=2, group=""),
        {"llama": [(0, 1)] * 4},
        {OVER: "error", KGPU: "warning"},
        tag="24.05",
    ),
    Case("tp4-model-count1", _m("llama", tp=4), {"llama": [(0, 1, 2, 3)]}),
    Case("tp4-gpu-count1", _m("llama", tp=4, group=_gpu()), {"llama": "refused"}, {KGPU: "error"}),
    Case(
        "tp4-gpu-count1-24.05",
        _m("llama", tp=4, group=_gpu()),
        {"llama": [(0, 1, 2, 3)] * 4},
        {OVER: "error", KGPU: "warning"},
        tag="24.05",
    ),
    Case("tp8-model", _m("llama", tp=8), {"llama": "too-few"}, {FEW: "error"}),
    Case(
        "pp2-gpu-25.06",
        _m("llama", pp=2, group=_gpu()),
        {"llama": "too-few"},
        {"gpu-share[pinned-too-few]": "error"},
    ),
    Case(
        "pp2-no-group-25.06", _m("llama", pp=2, group=""), {"llama": "too-few"}, {"gpu-share[pinned-too-few]": "error"}
    ),
    Case("pp2-gpu-26.01", _m("llama", pp=2, group=_gpu()), {"llama": "refused"}, {KGPU: "error"}, tag="26.01"),
    Case("two-models-kind-model", _m("a", "b"), {"a": [(0,)], "b": [(0,)]}, {OVER: "error"}),
    Case(
        "two-models-own-gpus",
        (Model("a", group=_gpu(gpus="0")), Model("b", group=_gpu(gpus="1"))),
        {"a": [(0,)], "b": [(1,)]},
    ),
    Case(
        "two-models-tp2-meets-gpu1",
        (Model("a", tp=2), Model("b", group=_gpu(gpus="1"))),
        {"a": [(0, 1)], "b": [(1,)]},
        {OVER: "error"},
    ),
    Case("two-models-0.45", _m("a", "b", utilization=0.45), {"a": [(0,)], "b": [(0,)]}),
    Case(
        "four-models-own-gpus",
        tuple(Model(n, group=_gpu(gpus=str(i))) for i, n in enumerate("abcd")),
        {n: [(i,)] for i, n in enumerate("abcd")},
    ),
    Case("four-models-0.2", _m("a", "b", "c", "d", utilization=0.2), {n: [(0,)] for n in "abcd"}),
    Case("four-models-0.9", _m("a", "b", "c", "d"), {n: [(0,)] for n in "abcd"}, {OVER: "error"}),
    Case("gpus-device-1-2-tp4", _m("llama", tp=4), {"llama": "too-few"}, {FEW: "error"}, gpus='"device=1,2"'),
    Case("gpus-device-1-2-no-group", _m("llama", group=""), {"llama": [(0,), (1,)]}, gpus='"device=1,2"'),
    Case(
        "cvd-1-2-kind-gpu",
        _m("llama", group=_gpu()),
        {"llama": [(0,), (1,)]},
        {"gpu-share[outside-visible-devices]": "warning"},
        cuda_visible="1,2",
    ),
    Case("cvd-2-3-tp2-model", _m("llama", tp=2), {"llama": [(2, 3)]}, cuda_visible="2,3"),
    Case("cvd-1-tp2-model", _m("llama", tp=2), {"llama": "too-few"}, {FEW: "error"}, cuda_visible="1"),
    Case("one-gpu-no-group-tp1", _m("llama", group=""), {"llama": [(0,)]}, host_gpus=1),
    Case(
        "one-gpu-no-group-tp2",
        _m("llama", tp=2, group=""),
        {"llama": "refused"},
        {KGPU: "error", FEW: "error"},
        host_gpus=1,
    ),
    Case("one-gpu-two-models-0.45", _m("a", "b", utilization=0.45), {"a": [(0,)], "b": [(0,)]}, host_gpus=1),
    Case("one-gpu-two-models-0.9", _m("a", "b"), {"a": [(0,)], "b": [(0,)]}, {OVER: "error"}, host_gpus=1),
    Case(
        "one-gpu-kind-gpu-count2",
        _m("llama", group=_gpu(2)),
        {"llama": [(0,), (0,)]},
        {OVER: "error", COUNT: "warning"},
        host_gpus=1,
    ),
]


def write(case: Case, root: Path) -> tuple[Path, str]:
    """The case's repository under ``root`` and the ``docker run`` command that serves it."""
    make(root)  # the local model of Llama 3.1 8B's shape (sparse weights)
    repo = root / "repo" / case.name
    for model in case.models:
        (repo / model.name / "1").mkdir(parents=True, exist_ok=True)
        (repo / model.name / "config.pbtxt").write_text(f'backend: "vllm"\n{model.group}\n'.replace("\n\n", "\n"))
        args = {"model": "/local_models/llama-3.1-8b-shape", "tensor_parallel_size": model.tp}
        if model.pp > 1:
            args["pipeline_parallel_size"] = model.pp
        args |= {"gpu_memory_utilization": model.utilization, "max_model_len": 8192}
        (repo / model.name / "1" / "model.json").write_text(json.dumps(args, indent=2) + "\n")
    env = f"-e CUDA_VISIBLE_DEVICES={case.cuda_visible} " if case.cuda_visible is not None else ""
    command = (
        f"docker run --gpus {case.gpus} {env}-v {repo}:/models -v {root / 'local_models'}:/local_models "
        f"{IMAGE.format(case.tag)} tritonserver --model-repository=/models"
    )
    return repo, command


def placement_text(expected: dict[str, Any]) -> str:
    parts = []
    for name, where in expected.items():
        if isinstance(where, str):
            parts.append(f"{name}: {where}")
        else:
            parts.append(f"{name}: " + ", ".join("{" + "+".join(map(str, gpus)) + "}" for gpus in where))
    return "; ".join(parts)


def verdict_of(report: dict[str, Any]) -> dict[str, str]:
    """Problems (not info) of the placement checks: finding id -> severity."""
    found: dict[str, str] = {}
    for check in report["checks"]:
        for finding in check.get("findings", []):
            if finding["severity"] != "info":
                found[finding["id"]] = finding["severity"]
    return found


def run(case: Case, root: Path, replay: Path) -> tuple[int, dict[str, Any]]:
    from click.testing import CliRunner

    from triton_doctor.cli import cli

    _, command = write(case, root)
    result = CliRunner().invoke(
        cli,
        ["check", "--only", CHECKS, "--offline", "--docker-command", command, "--format", "json"],
        env={"NO_COLOR": "1", "TRITON_DOCTOR_NVML_REPLAY": str(replay)},
        catch_exceptions=False,
    )
    return result.exit_code, json.loads(result.stdout)


if __name__ == "__main__":
    replays = {1: Path(sys.argv[1]), 4: Path(sys.argv[2])}
    head = "| case | image | host GPUs, --gpus, CUDA_VISIBLE_DEVICES | expected placement | doctor verdict |"
    print(head + " run on real GPUs |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            code, report = run(case, Path(tmp), replays[case.host_gpus])
            got = verdict_of(report)
            verdict = ", ".join(f"{k} ({v})" for k, v in sorted(got.items())) or "clean"
            mark = "" if got == case.verdict else " **differs from expected**"
            where = f"{case.host_gpus}, {case.gpus}, {case.cuda_visible or 'unset'}"
            real = "no (one GPU lent: NVML replay)" if case.host_gpus == 1 else "no (no four-GPU kind lent)"
            print(
                f"| {case.name} | {case.tag} | {where} | {placement_text(case.expected)} | {verdict}{mark} | {real} |"
            )
