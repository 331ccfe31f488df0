"""Regenerate doctor/knowledge/config_defaults.json: what transformers fills in for a key config.json lacks.

vLLM builds the checkpoint's config with transformers (``AutoConfig.from_pretrained``): a key absent from
config.json takes the default of the config class of its ``model_type`` (``Gemma3TextConfig`` for the
``text_config`` of a ``gemma3`` checkpoint, whose ``max_position_embeddings`` defaults to 131072). This script
reads those defaults from the transformers wheels themselves (no import, no model code run): for each release,
every ``transformers/models/*/configuration_*.py`` is parsed with ``ast``; a class with a ``model_type``
attribute gives its defaults from ``__init__``'s keyword defaults (4.x) or from its annotated class attributes
(5.x, dataclass-style configs), and its ``sub_configs`` say which class a nested ``text_config`` becomes.
Only the keys the doctor derives limits and shapes from are kept, each with its file and line (provenance).

    python scripts/gen_config_defaults.py              # every release in RELEASES
    python scripts/gen_config_defaults.py 4.57.1 ...    # only these (merged into the existing file)

The wheels are cached in ``$TRITON_DOCTOR_TRANSFORMERS_CACHE`` (default ``~/.cache/triton-doctor/transformers``).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "doctor" / "knowledge" / "config_defaults.json"

#: The transformers releases read: one per era of the images' vLLM (4.40: 24.05-24.08 era; 4.45: 24.10-25.01;
#: 4.50: first with Gemma 3, 25.04; 4.51/4.55/4.57: 25.05-26.01; 5.19: the local test stack's release).
RELEASES = ("4.40.2", "4.45.2", "4.50.0", "4.51.3", "4.55.4", "4.57.1", "5.19.0")

#: The config.json keys whose defaults matter to the doctor (limits, shapes, tensor parallelism).
KEYS = (
    "max_position_embeddings", "n_positions", "max_seq_len", "seq_length", "model_max_length",
    "max_target_positions", "max_sequence_length", "max_seq_length", "seq_len", "sliding_window",
    "sliding_window_pattern", "num_attention_heads", "num_key_value_heads", "num_hidden_layers", "hidden_size",
    "head_dim", "vocab_size",
)  # fmt: skip


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "triton-doctor" / "transformers"
    return Path(os.environ.get("TRITON_DOCTOR_TRANSFORMERS_CACHE", default))


def wheel(version: str) -> Path:
    """The wheel of ``version`` (downloaded on first use; about 10 MB)."""
    target = cache_dir()
    found = sorted(target.glob(f"transformers-{version}-*.whl"))
    if found:
        return found[0]
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:", "-d", tmp,
             f"transformers=={version}"],
            check=True,
            timeout=600,
        )  # fmt: skip
        got = next(Path(tmp).glob("*.whl"))
        dest = target / got.name
        dest.write_bytes(got.read_bytes())
    return dest


def _constant(node: ast.expr | None) -> tuple[bool, Any]:
    """``(True, value)`` for a literal default (numbers, strings, None, booleans), else ``(False, None)``."""
    if node is None:
        return False, None
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return False, None
    if isinstance(value, (int, float, str, bool)) or value is None:
        return True, value
    return False, None


def _classes(tree: ast.Module, path: str) -> list[dict[str, Any]]:
    found = []
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        model_type = None
        defaults: dict[str, Any] = {}
        lines: dict[str, int] = {}
        sub_configs: dict[str, str] = {}
        for item in node.body:
            if isinstance(item, ast.Assign) and len(item.targets) == 1 and isinstance(item.targets[0], ast.Name):
                name = item.targets[0].id
                if name == "model_type":
                    ok, value = _constant(item.value)
                    model_type = value if ok and isinstance(value, str) else None
                elif name == "sub_configs" and isinstance(item.value, ast.Dict):
                    for k, v in zip(item.value.keys, item.value.values, strict=True):
                        if isinstance(k, ast.Constant) and isinstance(v, ast.Name):
                            sub_configs[str(k.value)] = v.id
            elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name) and item.target.id in KEYS:
                ok, value = _constant(item.value)
                if ok:  # 5.x: dataclass-style class attributes
                    defaults[item.target.id], lines[item.target.id] = value, item.lineno
            elif isinstance(item, ast.FunctionDef) and item.name == "__init__":
                args = item.args
                positional = args.args[len(args.args) - len(args.defaults) :]
                pairs = list(zip(positional, args.defaults, strict=True))
                pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None]
                for arg, default in pairs:
                    if arg.arg in KEYS:
                        ok, value = _constant(default)
                        if ok:
                            defaults[arg.arg], lines[arg.arg] = value, default.lineno
        if model_type:
            found.append(
                {
                    "class": node.name,
                    "model_type": model_type,
                    "file": path,
                    "defaults": defaults,
                    "lines": lines,
                    "sub_configs": sub_configs,
                }
            )
    return found


def release(version: str) -> dict[str, Any]:
    path = wheel(version)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    classes: list[dict[str, Any]] = []
    with zipfile.ZipFile(path) as zf:
        for name in sorted(zf.namelist()):
            if name.startswith("transformers/models/") and "/configuration_" in name and name.endswith(".py"):
                classes += _classes(ast.parse(zf.read(name).decode("utf-8")), name)
    by_class = {c["class"]: c["model_type"] for c in classes}
    types: dict[str, Any] = {}
    for c in classes:
        entry: dict[str, Any] = {"class": c["class"], "file": c["file"]}
        if c["defaults"]:
            entry["defaults"] = dict(sorted(c["defaults"].items()))
            entry["lines"] = dict(sorted(c["lines"].items()))
        text = c["sub_configs"].get("text_config")
        if text in by_class:
            entry["text_config"] = by_class[text]
        types.setdefault(c["model_type"], entry)
    return {"wheel": path.name, "sha256": digest, "types": dict(sorted(types.items()))}


def main(versions: list[str]) -> None:
    data: dict[str, Any] = json.loads(OUT.read_text()) if OUT.exists() and versions else {}
    data["_about"] = (
        "Per model_type: the config class of each transformers release read (releases with the same class, "
        "file, defaults and lines share one entry), the defaults of the keys the doctor reads with their line, "
        "and the model_type a nested text_config becomes (sub_configs). Read with ast from each release's "
        "wheel (names and sha256 in 'wheels') by scripts/gen_config_defaults.py."
    )
    wheels: dict[str, Any] = data.setdefault("wheels", {})
    per_release: dict[str, dict[str, Any]] = {}
    for version in versions or RELEASES:
        got = release(version)
        wheels[version] = {"wheel": got["wheel"], "sha256": got["sha256"]}
        per_release[version] = got["types"]
        print(version, len(got["types"]), "config classes")
    order = sorted(wheels, key=lambda v: tuple(int(p) for p in v.split(".")))
    types: dict[str, list[dict[str, Any]]] = {}
    for model_type, entries in data.get("types", {}).items():  # keep releases not regenerated now
        for entry in entries:
            kept = [v for v in entry["releases"] if v not in per_release]
            if kept:
                types.setdefault(model_type, []).append({**entry, "releases": kept})
    for version in order:
        for model_type, entry in per_release.get(version, {}).items():
            bucket = types.setdefault(model_type, [])
            same = next((e for e in bucket if {k: v for k, v in e.items() if k != "releases"} == entry), None)
            if same is not None:
                same["releases"].append(version)
            else:
                bucket.append({"releases": [version], **entry})
    data["wheels"] = {v: wheels[v] for v in order}
    data["types"] = dict(sorted(types.items()))
    data.pop("releases", None)
    OUT.write_text(json.dumps(data, indent=None, separators=(",", ":"), sort_keys=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
