"""Regenerate doctor/knowledge/model_knowledge.json: what each image's vLLM knows about models.

For each vLLM release that a tritonserver vllm-python-py3 image carries (``IMAGES`` in
doctor/knowledge/__init__.py), download the wheel (no dependencies), keep only the few source files read
here, and read them with ``ast`` (no vLLM import, no GPU):

- ``vllm/model_executor/models/registry.py``: the registered architectures, generation vs pooling
  (``_TEXT_GENERATION_MODELS``, ``_MULTIMODAL_MODELS``, ``_EMBEDDING_MODELS``, ``_CROSS_ENCODER_MODELS``...);
- ``vllm/config.py`` (``vllm/config/model.py`` from 0.11): the keys ``_get_and_verify_max_len`` reads and
  whether it lowers the limit by the tokenizer's ``model_max_length``;
- ``vllm/model_executor/layers/quantization/*.py``: the quantization methods and what each config's
  ``get_min_capability`` returns.

The extracted files are cached in ``$TRITON_DOCTOR_VLLM_CACHE`` (default ``~/.cache/triton-doctor/vllm``),
so a second run downloads nothing; each wheel (about 400 MB) is deleted as soon as its files are out.

    python scripts/gen_model_knowledge.py            # every release of the image matrix
    python scripts/gen_model_knowledge.py 0.9.2 ...  # only these (merged into the existing file)
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "doctor" / "knowledge" / "model_knowledge.json"

#: The image matrix carries these pre-releases; PyPI has the wheel under the same name.
WANTED = (
    "vllm/engine/arg_utils.py",  # for scripts/gen_engine_args.py
    "vllm/model_executor/models/registry.py",
    "vllm/config.py",
    "vllm/model_executor/models/__init__.py",
    "vllm/transformers_utils/config.py",
    "vllm/transformers_utils/model_arch_config_convertor.py",
    "vllm/model_executor/layers/quantization/__init__.py",
)
#: Directories whose every ``.py`` is kept: the quantization configs, and ``vllm/config/`` (a package from 0.10).
KEEP_DIRS = ("vllm/model_executor/layers/quantization/", "vllm/config/")


def cache_dir() -> Path:
    return Path(os.environ.get("TRITON_DOCTOR_VLLM_CACHE", Path.home() / ".cache" / "triton-doctor" / "vllm"))


#: Image releases PyPI has no wheel for: the nearest published release stands in (as in engine_args.json).
STAND_IN = {"0.9.0rc1": "0.9.0"}


def sources(version: str) -> Path:
    """The directory holding the files of ``version`` read here (downloaded on first use)."""
    version = STAND_IN.get(version, version)
    target = cache_dir() / version
    if (target / ".complete").exists():
        return target
    # Wheels before 0.5.2 were built per Python (cp310 for the 24.04-24.06 images' Python 3.10).
    python = "3.10" if version.startswith(("0.4.", "0.5.0", "0.5.1")) else "3.12"
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--only-binary",
                ":all:",
                "--python-version",
                python,
                "--platform",
                "manylinux_2_17_x86_64",
                "--platform",
                "manylinux_2_28_x86_64",
                "--platform",
                "manylinux_2_31_x86_64",
                "--platform",
                "manylinux1_x86_64",
                "-d",
                tmp,
                f"vllm=={version}",
            ],
            check=True,
            timeout=1800,
        )
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            for name in zf.namelist():
                keep = name in WANTED or (name.startswith(KEEP_DIRS) and name.endswith(".py"))
                if keep:
                    dest = target / name
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(zf.read(name))
    (target / ".complete").write_text(version)
    return target


#: Registry dicts whose architectures generate text (the vLLM backend's only use) and those that pool.
GENERATION_DICTS = {
    "_MODELS",
    "_GENERATION_MODELS",
    "_TEXT_GENERATION_MODELS",
    "_MULTIMODAL_MODELS",
    "_CONDITIONAL_GENERATION_MODELS",
}
POOLING_DICTS = {
    "_EMBEDDING_MODELS",
    "_CROSS_ENCODER_MODELS",
    "_LATE_INTERACTION_MODELS",
    "_REWARD_MODELS",
    "_TOKEN_CLASSIFICATION_MODELS",
    "_SEQUENCE_CLASSIFICATION_MODELS",
}
TRANSFORMERS_DICTS = {"_TRANSFORMERS_MODELS", "_TRANSFORMERS_BACKEND_MODELS"}


def _dict_keys(node: ast.expr, known: dict[str, set[str]]) -> set[str]:
    keys: set[str] = set()
    if isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                keys.add(key.value)
            elif key is None and isinstance(value, ast.Name):
                keys |= known.get(value.id, set())
            elif key is None:
                keys |= _dict_keys(value, known)
    return keys


def registry(tree: ast.Module) -> dict[str, Any]:
    """Architectures per kind from the module-level ``_*_MODELS`` dicts of the model registry."""
    dicts: dict[str, set[str]] = {}
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if isinstance(target, ast.Name) and value is not None and target.id.endswith("_MODELS"):
            dicts[target.id] = _dict_keys(value, dicts)
    old_style = "_GENERATION_MODELS" not in dicts and "_TEXT_GENERATION_MODELS" not in dicts
    generation: set[str] = set()
    for name in GENERATION_DICTS:
        if name != "_MODELS" or old_style:
            generation |= dicts.get(name, set())
    pooling: set[str] = set()
    for name in POOLING_DICTS:
        pooling |= dicts.get(name, set())
    return {
        "generation": sorted(generation),
        "pooling": sorted(pooling - generation),
        "transformers_fallback": any(dicts.get(n) for n in TRANSFORMERS_DICTS),
        "previously_supported": sorted(dicts.get("_PREVIOUSLY_SUPPORTED_MODELS", set())),
    }


def _function(trees: list[ast.Module], name: str) -> ast.FunctionDef | None:
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return node
    return None


def max_len_rules(trees: list[ast.Module]) -> dict[str, Any]:
    """What ``_get_and_verify_max_len`` (and from 0.17 ``derive_max_model_len_and_key``) reads."""
    verify = _function(trees, "_get_and_verify_max_len")
    if verify is None:
        raise SystemExit("no _get_and_verify_max_len")
    derive = _function(trees, "derive_max_model_len_and_key") or verify
    keys: list[str] = []
    for node in ast.walk(derive):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "possible_keys":
            keys = [e.value for e in node.value.elts if isinstance(e, ast.Constant)]  # type: ignore[attr-defined]
    verify_src = ast.unparse(verify)
    derive_src = ast.unparse(derive)
    skip: list[str] = []
    for node in ast.walk(verify):
        if (
            isinstance(node, ast.Compare)
            and isinstance(node.left, ast.Name)
            and node.left.id == "rope_type"
            and isinstance(node.ops[0], ast.NotIn)
            and isinstance(node.comparators[0], ast.Tuple)
        ):
            skip = [e.value for e in node.comparators[0].elts if isinstance(e, ast.Constant)]
        # 0.4.3-0.5.2: ``rope_scaling["type"] != "su"`` (one type, compared directly).
        if (
            isinstance(node, ast.Compare)
            and isinstance(node.left, ast.Subscript)
            and ast.unparse(node.left) == "rope_scaling['type']"
            and isinstance(node.ops[0], ast.NotEq)
            and isinstance(node.comparators[0], ast.Constant)
        ):
            skip = [node.comparators[0].value]
    return {
        "keys": keys,
        # Command-R: a model_max_length in config.json replaces the minimum of the keys.
        "model_max_length_overrides": "tmp_max_len" in derive_src,
        # The tokenizer_config.json's model_max_length lowers the limit.
        "tokenizer_caps": "tokenizer_config" in verify_src,
        # disable_sliding_window caps the limit at the sliding window.
        "sliding_window_when_disabled": "disable_sliding_window" in verify_src,
        # rope types whose factor is not applied (already in max_position_embeddings).
        "rope_types_unscaled": skip,
        # Gemma 3's max_position_embeddings is already scaled.
        "gemma3_unscaled": "gemma3" in verify_src,
        # Before rope_type, the key was "type" and "factor" was required.
        "rope_key": "rope_type" if "rope_type" in verify_src else "type",
        "default": 2048,
        "interleaved_cap": interleaved_cap(trees),
    }


CAP_WARNING = "capping the max length to the sliding window size"


def interleaved_cap(trees: list[ast.Module]) -> dict[str, Any] | None:
    """Where ``ModelConfig`` turns the sliding window off for a model with interleaved attention (Gemma 2
    first, 0.5.1) and so caps the length at the window: the model types it names, whether a list-valued
    ``sliding_window`` or ``sliding_window_pattern``/``layer_types`` also count, and the attention backends
    (``VLLM_ATTENTION_BACKEND``) it is limited to (none: always) and whether only V0 (``not VLLM_USE_V1``)."""
    import re

    for tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            src = ast.unparse(node)
            at = src.find(CAP_WARNING)
            if at < 0 or ("_get_and_verify_max_len" not in src and "max_model_len" not in src):
                continue
            types: list[str] = []
            for match in re.finditer(r"model_type (?:==|in) (\[[^\]]*\]|'[^']*'|\w+)", src):
                value = match.group(1)
                if value.startswith("["):
                    types += re.findall(r"'([^']*)'", value)
                elif value.startswith("'"):
                    types.append(value.strip("'"))
                else:  # a name: its list is assigned in the same function
                    assigned = re.search(rf"{value} = (\[[^\]]*\])", src)
                    types += re.findall(r"'([^']*)'", assigned.group(1)) if assigned else []
            backends = re.findall(r"VLLM_ATTENTION_BACKEND == '(\w+)'", src)
            listed = re.search(r"VLLM_ATTENTION_BACKEND\) in \(([^)]*)\)", src)
            backends += re.findall(r"'(\w+)'", listed.group(1)) if listed else []
            return {
                "model_types": sorted(set(types)),
                "list_window": "isinstance(sliding_window, list)" in src,
                "pattern": "sliding_window_pattern is not None" in src,
                "layer_types": "is_interleaved(" in src,
                "backends": sorted(set(backends)),
                "v0_only": "not envs.VLLM_USE_V1" in src,
            }
    return None


def _returns_constant(func: ast.FunctionDef) -> Any:
    for node in ast.walk(func):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Constant):
            return node.value.value
    return None


def quantization(trees: list[ast.Module]) -> dict[str, int | None]:
    """Quantization method -> minimum compute capability (x10, e.g. 75), from each config class."""
    classes: dict[str, tuple[list[str], str | None, int | None]] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            methods = {m.name: m for m in node.body if isinstance(m, ast.FunctionDef)}
            name = _returns_constant(methods["get_name"]) if "get_name" in methods else None
            cap = _returns_constant(methods["get_min_capability"]) if "get_min_capability" in methods else None
            bases = [b.id for b in node.bases if isinstance(b, ast.Name)]
            classes[node.name] = (bases, name if isinstance(name, str) else None, cap if isinstance(cap, int) else None)

    def capability(cls: str, depth: int = 0) -> int | None:
        bases, _name, cap = classes.get(cls, ([], None, None))
        if cap is not None or depth > 5:
            return cap
        return next((c for b in bases if (c := capability(b, depth + 1)) is not None), None)

    methods: dict[str, int | None] = {}
    for cls, (_bases, name, _cap) in classes.items():
        if name and cls.endswith("Config"):
            methods[name] = capability(cls)
    # The method -> config table (QUANTIZATION_METHODS up to 0.5, method_to_config later) is authoritative.
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict) and node.keys and all(isinstance(k, ast.Constant) for k in node.keys):
                values = [v.id for v in node.values if isinstance(v, ast.Name)]
                if len(values) == len(node.values) and all(v.endswith("Config") for v in values):
                    for key, cls in zip(node.keys, values, strict=True):
                        methods[key.value] = capability(cls)  # type: ignore[union-attr]
    return dict(sorted(methods.items()))


def release(version: str) -> dict[str, Any]:
    """Everything read from one release."""
    root = sources(version)

    def parse(rel: str) -> ast.Module | None:
        path = root / rel
        return ast.parse(path.read_text(encoding="utf-8")) if path.exists() else None

    reg = parse("vllm/model_executor/models/registry.py") or parse("vllm/model_executor/models/__init__.py")
    assert reg is not None
    config_trees = [
        t
        for t in (
            parse("vllm/config.py"),
            *(ast.parse(p.read_text(encoding="utf-8")) for p in sorted((root / "vllm/config").glob("*.py"))),
            parse("vllm/transformers_utils/model_arch_config_convertor.py"),
        )
        if t is not None
    ]
    quant = [ast.parse(p.read_text(encoding="utf-8")) for p in sorted((root / QUANT_ROOT).rglob("*.py"))]
    return {"architectures": registry(reg), "max_len": max_len_rules(config_trees), "quantization": quantization(quant)}


QUANT_ROOT = "vllm/model_executor/layers/quantization"


def image_versions() -> list[str]:
    text = (ROOT / "doctor" / "knowledge" / "__init__.py").read_text(encoding="utf-8")
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_img":
            found.append(node.args[1].value)  # type: ignore[attr-defined]
    return list(dict.fromkeys(found))


def main(versions: list[str]) -> None:
    data: dict[str, Any] = json.loads(OUT.read_text()) if OUT.exists() and versions else {}
    data["_about"] = (
        "Per vLLM release of the tritonserver vllm images: registered architectures (generation / pooling), "
        "the config.json keys and rules of _get_and_verify_max_len, and each quantization method's minimum "
        "compute capability (x10). Read with ast from each release's wheel by scripts/gen_model_knowledge.py. "
        + ", ".join(f"{k} stands for {v}" for k, v in STAND_IN.items())
        + " (no wheel on PyPI)."
    )
    releases = data.setdefault("releases", {})
    for version in versions or image_versions():
        releases[version] = release(version)
        info = releases[version]
        print(
            version,
            len(info["architectures"]["generation"]),
            len(info["architectures"]["pooling"]),
            len(info["quantization"]),
            info["max_len"]["keys"],
        )
    data["releases"] = dict(sorted(releases.items(), key=lambda kv: _vkey(kv[0])))
    OUT.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")


def _vkey(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else -1 for p in version.replace("rc", ".").split("."))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--fetch-only"]:
        for v in sys.argv[2:]:
            print(v, sources(v))
    else:
        main(sys.argv[1:])
