"""GPU placement on one and four GPUs: the placement model against hand-worked placements, and the doctor's
verdict on NVML replays.

The four-GPU replay (tests/data/nvml/synthetic-4x-h100-driver580.json) is SYNTHETIC: the recorded one-H100
facts (h100-80gb-driver580.json, written on a device machine) repeated for indices 0-3 with made-up UUIDs,
because no four-GPU machine was lent (issue 22). test_synthetic_four_gpus_is_the_recorded_h100 keeps it
tied to the recording. The one-GPU cases replay the real recording.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scripts.gpu_placement_cases import CASES, Case, run, verdict_of
from triton_doctor.facts.gpu_placement import Group, View, groups_of, place, rule_for, view_of
from triton_doctor.probes.pbtxt import parse_config

DATA = Path(__file__).parent / "data" / "nvml"
H100 = DATA / "h100-80gb-driver580.json"
FOUR = DATA / "synthetic-4x-h100-driver580.json"


def test_synthetic_four_gpus_is_the_recorded_h100() -> None:
    one, four = json.loads(H100.read_text()), json.loads(FOUR.read_text())
    assert [g["index"] for g in four["gpus"]] == [0, 1, 2, 3]
    assert all(g["uuid"].startswith("GPU-00000000-") for g in four["gpus"])  # made up, never a real card's
    for gpu in four["gpus"]:
        assert {k: v for k, v in gpu.items() if k not in ("index", "uuid")} == {
            k: v for k, v in one["gpus"][0].items() if k not in ("index", "uuid")
        }
    assert {k: v for k, v in four.items() if k != "gpus"} == {k: v for k, v in one.items() if k != "gpus"}


def _groups(text: str) -> list[Group]:
    """The instance_group line of a case as the placement model's groups (parsed the way Triton reads it)."""
    parsed = parse_config(f'backend: "vllm"\n{text}\n')
    assert parsed.message is not None
    return groups_of(parsed.message)


def _model_placement(case: Case) -> dict[str, Any]:
    where = view_of(case.gpus, {"CUDA_VISIBLE_DEVICES": case.cuda_visible} if case.cuda_visible else {}, case.host_gpus)
    out: dict[str, Any] = {}
    for model in case.models:
        found = place(_groups(model.group), model.tp, model.pp, where, rule_for(case.tag))
        problems = {i.problem for i in found.instances} - {None, "escapes"}
        if found.refused or "refused" in problems:
            out[model.name] = "refused"
        elif "too-few" in problems:
            out[model.name] = "too-few"
        else:
            out[model.name] = [i.gpus for i in found.instances]
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_placement_model_matches_the_rules(case: Case) -> None:
    assert _model_placement(case) == case.expected


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("placement")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_doctor_verdict(case: Case, root: Path) -> None:
    replay = FOUR if case.host_gpus == 4 else H100
    code, report = run(case, root, replay)
    assert verdict_of(report) == case.verdict
    assert code == (1 if "error" in case.verdict.values() else 0)


def test_issue_23_default_group_with_tensor_parallel(root: Path) -> None:
    """No instance_group, tensor_parallel_size 2: Triton's default KIND_GPU, which 24.06+ refuses."""
    case = next(c for c in CASES if c.name == "tp2-no-group")
    _, report = run(case, root, FOUR)
    found = next(f for c in report["checks"] for f in c["findings"] if f["id"].endswith("[kind-gpu-multi-gpu]"))
    assert found["catalog_id"] == "kind-gpu-with-multi-gpu" and "no instance_group" in found["message"]
    assert found["location"]["path"].endswith("llama/config.pbtxt")
    assert "vllm_backend r25.06@b41f716d15 src/model.py:323" in found["evidence"]


def test_issue_23_kind_gpu_on_four_gpus_on_24_05(tmp_path: Path) -> None:
    """KIND_GPU count 1 on four GPUs on 24.05: four instances, each its own 4-GPU engine on GPUs 0-3."""
    case = next(c for c in CASES if c.name == "tp4-gpu-count1-24.05")
    code, report = run(case, tmp_path, FOUR)
    hit = next(f for c in report["checks"] for f in c["findings"] if f["id"] == "gpu-share[oversubscribed]")
    assert code == 1 and hit["severity"] == "error" and "3.60" in hit["message"]
    assert hit["catalog_id"] == "free-memory-below-utilization" and "starts 16 engines" not in hit["message"]
    assert hit["evidence"].count("nothing pinned") == 4


def test_unknown_gpu_count_places_default_group_on_gpu_zero() -> None:
    found = place([], 1, 1, View(None), rule_for("25.06"))
    assert [i.gpus for i in found.instances] == [(0,)] and found.partial


def test_rule_table_covers_every_image() -> None:
    from triton_doctor.knowledge import IMAGES

    for tag in IMAGES:
        assert rule_for(tag).tag == tag
    assert rule_for("24.05").refuses is None and rule_for("24.06").refuses == "tp"
    assert rule_for("25.03").pins == "set_device" and rule_for("25.04").pins == "CUDA_VISIBLE_DEVICES"
    assert rule_for("26.01").refuses == "tp*pp" and rule_for(None).tag is None


# -- the one-GPU device run (tests/data/nvml/h100-placement-run.txt): real NVML facts and memory stacking --

RERECORDED = DATA / "h100-80gb-driver580-rerecorded.json"
BUSY = DATA / "h100-80gb-driver580-busy045.json"
CVD1 = DATA / "h100-80gb-driver580-cvd1.json"
RUN = DATA / "h100-placement-run.txt"


def test_rerecorded_h100_matches_the_first_recording() -> None:
    old, new = json.loads(H100.read_text()), json.loads(RERECORDED.read_text())
    assert new["driver_version"] == old["driver_version"] and new["cuda_driver_version"] == old["cuda_driver_version"]
    assert [(g["name"], g["memory_total"], g["compute_capability"]) for g in new["gpus"]] == [
        (g["name"], g["memory_total"], g["compute_capability"]) for g in old["gpus"]
    ]


@pytest.mark.parametrize("case", [c for c in CASES if c.host_gpus == 1], ids=lambda c: c.name)
def test_one_gpu_cases_on_the_rerecorded_h100(case: Case, root: Path) -> None:
    _, report = run(case, root, RERECORDED)
    assert verdict_of(report) == case.verdict


def test_nvml_ignores_cuda_visible_devices_so_the_doctor_reads_it() -> None:
    """Recorded with CUDA_VISIBLE_DEVICES=1 on the one-GPU machine: NVML still lists the GPU, torch saw none;
    with "0,1" torch saw one (CUDA stops at the first index it cannot use). The view gives the same."""
    assert len(json.loads(CVD1.read_text())["gpus"]) == 1
    run_log = RUN.read_text()
    assert "CUDA_VISIBLE_DEVICES='1' torch sees: 0" in run_log and "CUDA_VISIBLE_DEVICES='0,1' torch sees: 1" in run_log
    assert view_of(None, {"CUDA_VISIBLE_DEVICES": "1"}, 1).server == ()
    assert view_of(None, {"CUDA_VISIBLE_DEVICES": "0,1"}, 1).server == (0,)


def test_memory_stacking_on_the_real_h100_follows_the_sum_rule() -> None:
    """Two engines' shares of one H100: the second fits exactly when the sum stays at or below 1."""
    log = RUN.read_text().split("== first engine holds ")[1:]
    seen = {}
    for block in log:
        first = float(block.split(":")[0])
        for line in block.splitlines()[1:]:
            want = float(line.split("asks ")[1].split(":")[0])
            seen[(first, want)] = "rc=0" in line
    assert seen == {(a, b): a + b <= 1.0 for a, b in seen} and len(seen) == 6


def test_real_busy_h100_fails_a_second_engine(tmp_path: Path) -> None:
    """Recorded while another process held 0.45 of the H100: a model asking for 0.9 cannot start."""
    case = next(c for c in CASES if c.name == "one-gpu-no-group-tp1")
    from scripts.gpu_placement_cases import write

    _, command = write(case, tmp_path)
    from tests.conftest import run_cli

    result = run_cli(
        "check",
        "--only",
        "gpu-memory",
        "--offline",
        "--docker-command",
        command,
        "--format",
        "json",
        env={"TRITON_DOCTOR_NVML_REPLAY": str(BUSY)},
    )
    found = {f["id"]: f for c in result.json()["checks"] for f in c["findings"]}
    assert result.exit_code == 1
    assert found["gpu-memory[busy-gpu]"]["catalog_id"] == "free-memory-below-utilization"
