"""What transformers fills in for a key a checkpoint's config.json lacks (``config_defaults.json``).

vLLM reads a checkpoint through transformers' config class of its ``model_type``: an absent key takes that
class's default (``Gemma3TextConfig.max_position_embeddings`` is 131072), not vLLM's 2048 fallback, which
applies only when the class has no length key either. The table is generated from the transformers wheels by
scripts/gen_config_defaults.py, per release, with each default's file and line.

Which transformers an NGC image carries is not in its release notes; the doctor uses the newest release in
the table that knows the ``model_type`` (a release without the class cannot load the checkpoint at all) and
says so in the evidence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["ClassDefaults", "class_defaults", "fill_defaults"]


@dataclass(frozen=True, slots=True)
class ClassDefaults:
    """One config class of one transformers release."""

    model_type: str
    release: str
    class_name: str
    file: str
    defaults: dict[str, Any]
    lines: dict[str, int]
    #: The model_type a nested ``text_config`` dict becomes (``sub_configs``), if any.
    text_config: str | None

    def where(self, key: str) -> str:
        """``Gemma3TextConfig default, transformers 5.19.0 models/gemma3/configuration_gemma3.py:85``."""
        line = f":{self.lines[key]}" if key in self.lines else ""
        short = self.file.removeprefix("transformers/")
        return f"{self.class_name} default, transformers {self.release} {short}{line}"


@cache
def _table() -> dict[str, Any]:
    text = resources.files("triton_doctor.knowledge").joinpath("config_defaults.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _vkey(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


@cache
def class_defaults(model_type: str) -> ClassDefaults | None:
    """The config class of ``model_type`` in the newest transformers release that has it; None if none does."""
    entries = _table()["types"].get(model_type)
    if not entries:
        return None
    entry = max(entries, key=lambda e: max(_vkey(v) for v in e["releases"]))
    newest = max(entry["releases"], key=_vkey)
    return ClassDefaults(
        model_type=model_type,
        release=newest,
        class_name=str(entry["class"]),
        file=str(entry["file"]),
        defaults=dict(entry.get("defaults", {})),
        lines={k: int(v) for k, v in entry.get("lines", {}).items()},
        text_config=entry.get("text_config"),
    )


def fill_defaults(config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The text config as transformers builds it: a nested ``text_config`` merged over the top level, then
    every key the doctor reads that neither level sets, from the config class of the text config's
    ``model_type`` (the nested dict's own, else the one ``sub_configs`` gives, else the top level's).
    Returns the merged config and ``key -> where the default comes from`` for each filled key."""
    top_type = str(config.get("model_type") or "")
    nested = config.get("text_config")
    merged = {**config, **nested} if isinstance(nested, dict) else dict(config)
    top = class_defaults(top_type) if top_type else None
    text_type = top_type
    if isinstance(nested, dict):
        own = nested.get("model_type")
        text_type = str(own) if isinstance(own, str) and own else (top.text_config if top and top.text_config else "")
    cls = class_defaults(text_type) if text_type else None
    filled: dict[str, str] = {}
    if cls is None:
        return merged, filled
    for key, value in cls.defaults.items():
        if value is None or key in merged:
            continue
        merged[key] = value
        filled[key] = cls.where(key)
    return merged, filled
