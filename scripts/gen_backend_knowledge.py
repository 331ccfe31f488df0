"""Regenerate doctor/knowledge/backend_releases.json: what each image's vLLM backend (model.py) requires.

The NGC images run triton-inference-server/vllm_backend's ``src/model.py`` of the image's release branch
(``r24.05`` for 24.05 ...). That code cannot run here (it needs the GPU image), so its rules are read from the
source of every release branch, with the commit and line of each:

- ``enable_lora``: how the backend reads the flag. ``string``: ``vllm_engine_config["enable_lora"].lower()``
  (24.05-24.09: a JSON ``true`` raises ``AttributeError: 'bool' object has no attribute 'lower'``, the flag
  must be the string ``"true"``); ``any``: ``str(...).lower()`` (24.10+: both); absent: the backend ignores it.
- ``multi_lora``: with the flag on, ``multi_lora.json`` in the version directory must exist
  (``FileNotFoundError: Triton backend cannot find ...``).
- ``metrics``: the value of the ``REPORT_CUSTOM_METRICS`` parameter that turns the ``vllm:`` metrics on (``yes``
  compared exactly in 24.08-24.11; ``true`` case-insensitive from 24.12) and whether ``disable_log_stats`` must
  be false as well.
- ``health_check``: the line reading the ``ENABLE_VLLM_HEALTH_CHECK`` parameter (24.12+).

    python scripts/gen_backend_knowledge.py PATH-TO-vllm_backend-CLONE
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "doctor" / "knowledge" / "backend_releases.json"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, timeout=60
    ).stdout


def _line(src: str, pattern: str) -> int | None:
    match = re.search(pattern, src)
    return src.count("\n", 0, match.start()) + 1 if match else None


def read(src: str) -> dict[str, Any]:
    """The rules of one ``src/model.py``."""
    lora: dict[str, Any] | None = None
    if (n := _line(src, r'str\(\s*(?:self\.)?vllm_engine_config\["enable_lora"\]\s*\)\.lower\(\)')) is not None:
        lora = {"flag": "any", "line": n}
    elif (n := _line(src, r'vllm_engine_config\["enable_lora"\]\.lower\(\)')) is not None:
        lora = {"flag": "string", "line": n}
    multi = _line(src, r"Triton backend cannot find")
    metrics: dict[str, Any] | None = None
    if (n := _line(src, r'"REPORT_CUSTOM_METRICS"')) is not None:
        exact = re.search(r'\["REPORT_CUSTOM_METRICS"\]\["string_value"\]\s*==\s*"(\w+)"', src)
        if exact:
            value, insensitive = exact.group(1), False
        else:
            helper = re.search(r'\["string_value"\]\.lower\(\)\s*==\s*"(\w+)"', src)
            value, insensitive = (helper.group(1) if helper else "true"), True
        metrics = {
            "value": value,
            "case_insensitive": insensitive,
            "needs_log_stats": bool(re.search(r"not\s+[\w.]*engine_args\.disable_log_stats", src)),
            "line": n,
        }
    health = _line(src, r'"ENABLE_VLLM_HEALTH_CHECK"')
    return {
        "lora": lora,
        "multi_lora_line": multi,
        "metrics": metrics,
        "health_check_line": health,
    }


def image_tags() -> list[str]:
    text = (ROOT / "doctor" / "knowledge" / "__init__.py").read_text(encoding="utf-8")
    tags = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_img":
            tags.append(node.args[0].value)  # type: ignore[attr-defined]
    return tags


def main(repo: Path) -> None:
    branches = set(_git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads").split())
    data: dict[str, Any] = {
        "_about": (
            "Per image tag: the rules of triton-inference-server/vllm_backend src/model.py on the image's "
            "release branch (commit and line of each), read by scripts/gen_backend_knowledge.py. Tags without "
            "a branch in the clone are absent."
        ),
        "images": {},
    }
    for tag in image_tags():
        branch = f"r{tag}"
        if branch not in branches:
            continue
        commit = _git(repo, "rev-parse", branch).strip()
        src = _git(repo, "show", f"{branch}:src/model.py")
        data["images"][tag] = {"branch": branch, "commit": commit, "file": "src/model.py", **read(src)}
        print(tag, data["images"][tag])
    OUT.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]))
