"""Regenerate doctor/knowledge/engine_args.json: vLLM engine-argument names per release.

For each vLLM release that a tritonserver vllm-python-py3 image carries, download the wheel (no
dependencies), read vllm/engine/arg_utils.py and collect the dataclass fields of EngineArgs and
AsyncEngineArgs with ``ast`` (no vLLM import, no GPU). Run by hand when a new image appears; about 6 s
and 400 MB a release, deleted as it goes.

    python scripts/gen_engine_args.py 0.24.0 0.25.0 ...   # versions to add or refresh
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

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
                    "3.12",
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
            )
            wheel = next(Path(tmp).glob("*.whl"))
            with zipfile.ZipFile(wheel) as zf:
                source = zf.read("vllm/engine/arg_utils.py").decode()
        data["versions"][version] = fields_of(source)
        print(version, len(data["versions"][version]))
    OUT.write_text(json.dumps(data, separators=(",", ":")))


if __name__ == "__main__":
    main(sys.argv[1:])
