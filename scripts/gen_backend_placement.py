"""Regenerate doctor/knowledge/backend_placement.json: where each image's vLLM backend puts a model's engines.

GPU placement cannot be run here (no GPU, and the device machines lend one GPU at a time), so the rule is
read from the source of the components that decide it, for every release the image matrix ships
(``IMAGES`` in doctor/knowledge/__init__.py), and written with its provenance (repository, branch, commit,
file, line):

- triton-inference-server/vllm_backend ``src/model.py`` at branch ``r<tag>`` (``main`` where the repository
  has no branch for the tag yet; the table says so): whether the backend refuses ``KIND_GPU`` for a model
  split over several GPUs (``(_)validate_device_config``: nothing, ``tensor_parallel_size`` only, or
  ``tensor_parallel_size x pipeline_parallel_size``), and how a ``KIND_GPU`` instance is pinned to its
  device (nothing, ``torch.cuda.set_device``, or ``os.environ["CUDA_VISIBLE_DEVICES"]``);
- triton-inference-server/core ``src/model_config_utils.cc`` ``NormalizeInstanceGroup``, and
  triton-inference-server/python_backend ``src/python_be.cc`` ``TRITONBACKEND_GetBackendAttribute``: the
  instance group Triton makes when config.pbtxt has none (the Python backend's preferred ``KIND_GPU``, count
  1, every GPU the server sees). The script checks that the function's text is the same on every release
  branch and records the commit of each.

Read with ``ast`` for the Python file and plain text for the C++ (nothing imported, nothing built):

    python scripts/gen_backend_placement.py VLLM_BACKEND_GIT CORE_GIT PYTHON_BACKEND_GIT

each argument a git directory (a clone, bare or not) of that repository; nothing is downloaded.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "doctor" / "knowledge" / "backend_placement.json"
GITHUB = "https://github.com/triton-inference-server/"


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=60, check=False)
    if done.returncode:
        raise LookupError(done.stderr.strip())
    return done.stdout


def _ref(repo: Path, tag: str) -> tuple[str, str]:
    """``(branch, commit)`` for release ``tag`` (``main`` when the repository has no ``r<tag>`` branch)."""
    for ref in (f"r{tag}", f"origin/r{tag}", "main", "origin/main"):
        try:
            return ref.removeprefix("origin/"), _git(repo, "rev-parse", "--verify", f"{ref}^{{commit}}").strip()
        except LookupError:
            continue
    raise LookupError(f"no branch r{tag} or main in {repo.name}")


def backend_rule(source: str) -> dict[str, Any]:
    """What ``src/model.py`` does with an instance's kind and device (see the module docstring)."""
    tree = ast.parse(source)
    func = next(
        (
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef) and n.name in ("validate_device_config", "_validate_device_config")
        ),
        None,
    )
    rule: dict[str, Any] = {"refuses_kind_gpu_when": None, "kind_gpu_device": None, "function": None, "line": None}
    if func is None:
        return rule
    rule["function"], rule["line"] = func.name, func.lineno
    keys = {n.value for n in ast.walk(func) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    refuses = any(isinstance(n, ast.Raise) for n in ast.walk(func)) and "tensor_parallel_size" in keys
    if refuses:
        both = "pipeline_parallel_size" in keys
        rule["refuses_kind_gpu_when"] = (
            "tensor_parallel_size*pipeline_parallel_size>1" if both else "tensor_parallel_size>1"
        )
    for node in ast.walk(func):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "torch.cuda.set_device":
            rule["kind_gpu_device"], rule["device_line"] = "torch.cuda.set_device", node.lineno
        if isinstance(node, ast.Assign) and "CUDA_VISIBLE_DEVICES" in ast.unparse(node.targets[0]):
            rule["kind_gpu_device"], rule["device_line"] = "CUDA_VISIBLE_DEVICES", node.lineno
    return rule


def _function_text(source: str, name: str) -> str:
    match = re.search(rf"^{name}\(.*?^}}", source, re.MULTILINE | re.DOTALL)
    if not match:
        raise LookupError(f"{name} not found")
    return match.group(0)


def main(vllm_backend: Path, core: Path, python_backend: Path) -> dict[str, Any]:
    from triton_doctor.knowledge import IMAGES

    releases: dict[str, Any] = {}
    normalize: dict[str, str] = {}
    preferred: dict[str, str] = {}
    for tag in IMAGES:
        branch, commit = _ref(vllm_backend, tag)
        rule = backend_rule(_git(vllm_backend, "show", f"{commit}:src/model.py"))
        releases[tag] = {"vllm_backend_ref": branch, "vllm_backend_commit": commit, **rule}
        if branch != f"r{tag}":
            releases[tag]["stand_in"] = f"vllm_backend has no branch r{tag}: {branch} read instead"
        core_branch, core_commit = _ref(core, tag)
        text = _function_text(_git(core, "show", f"{core_commit}:src/model_config_utils.cc"), "NormalizeInstanceGroup")
        normalize[f"{core_branch}@{core_commit[:12]}"] = hashlib.sha256(text.encode()).hexdigest()
        pb_branch, pb_commit = _ref(python_backend, tag)
        pb = _git(python_backend, "show", f"{pb_commit}:src/python_be.cc")
        gpu_build = re.search(
            r"#ifdef TRITON_ENABLE_GPU\s+RETURN_IF_ERROR\(TRITONBACKEND_BackendAttributeAdd"
            r"PreferredInstanceGroup\(\s*backend_attributes,\s*TRITONSERVER_INSTANCEGROUPKIND_(\w+)",
            pb,
        )
        preferred[f"{pb_branch}@{pb_commit[:12]}"] = gpu_build.group(1) if gpu_build else "none"
    if len(set(normalize.values())) != 1:
        raise SystemExit(
            f"NormalizeInstanceGroup differs between releases: {normalize}; the model needs a rule per release"
        )
    if set(preferred.values()) != {"GPU"}:
        raise SystemExit(f"the Python backend's preferred instance group differs: {preferred}")
    return {
        "generated_by": "scripts/gen_backend_placement.py",
        "default_instance_group": {
            "rule": "no instance_group: one group of the Python backend's preferred kind KIND_GPU, count 1, gpus = "
            "every GPU the server sees (CUDA devices after CUDA_VISIBLE_DEVICES, at or above the minimum compute "
            "capability); KIND_CPU when it sees none. KIND_GPU without gpus gets the same list. KIND_AUTO becomes "
            "KIND_GPU unless a listed gpu is missing. Triton refuses a KIND_GPU gpu id it does not see and "
            "KIND_MODEL/KIND_CPU with gpus.",
            "sources": [
                GITHUB + "core src/model_config_utils.cc NormalizeInstanceGroup, ValidateInstanceGroup",
                GITHUB + "python_backend src/python_be.cc TRITONBACKEND_GetBackendAttribute (TRITON_ENABLE_GPU)",
            ],
            "core_same_text_on": sorted(normalize),
            "python_backend_preferred_kind_on": sorted(preferred),
        },
        "vllm_engine_device": {
            "rule": "an engine uses the first tensor_parallel_size x pipeline_parallel_size CUDA devices its process "
            "sees. vLLM's V0 worker (every release before 0.8, images up to 25.03) selects cuda:<local_rank> in "
            "Worker.init_device, which overrides an earlier torch.cuda.set_device: a single-GPU engine lands on the "
            "first device its process sees.",
            "sources": [
                "https://github.com/vllm-project/vllm vllm/worker/worker.py Worker.init_device",
                GITHUB + "vllm_backend PR #85 (replacing torch.cuda.set_device with CUDA_VISIBLE_DEVICES; its test "
                "asserts balanced memory across KIND_GPU instances, which set_device did not give)",
            ],
        },
        "source": GITHUB + "vllm_backend src/model.py",
        "releases": releases,
    }


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    data = main(*(Path(p) for p in sys.argv[1:]))
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(data['releases'])} releases")
