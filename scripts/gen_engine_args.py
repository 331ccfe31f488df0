"""Regenerate doctor/knowledge/engine_args.json: vLLM engine-argument names per release.

For each vLLM release that a tritonserver vllm-python-py3 image carries, read vllm/engine/arg_utils.py and
collect the dataclass fields of EngineArgs and AsyncEngineArgs with ``ast`` (no vLLM import, no GPU). The
file comes from the wheel through gen_model_knowledge.sources(): downloaded once (about 400 MB a release,
deleted as soon as the few files read are out) and cached in ``$TRITON_DOCTOR_VLLM_CACHE``. Run by hand when
a new image appears.

    python scripts/gen_engine_args.py 0.24.0 0.25.0 ...   # versions to add or refresh
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

from gen_model_knowledge import sources

OUT = Path(__file__).resolve().parent.parent / "doctor" / "knowledge" / "engine_args.json"


def fields_of(source: str) -> list[str]:
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and node.name in {"EngineArgs", "AsyncEngineArgs"}:
            for stmt in node.body:
                is_field = isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                if is_field and not stmt.target.id.startswith("_"):  # type: ignore[union-attr]
                    names.add(stmt.target.id)  # type: ignore[union-attr]
    return sorted(names)


def main(versions: list[str]) -> None:
    data = json.loads(OUT.read_text())
    for version in versions:
        arg_utils = sources(version) / "vllm" / "engine" / "arg_utils.py"
        if not arg_utils.exists():
            sys.exit(f"{arg_utils} is missing: remove {arg_utils.parents[2]} from the cache and run again")
        source = arg_utils.read_text(encoding="utf-8")
        data["versions"][version] = fields_of(source)
        print(version, len(data["versions"][version]))
    OUT.write_text(json.dumps(data, separators=(",", ":")))


if __name__ == "__main__":
    main(sys.argv[1:])
