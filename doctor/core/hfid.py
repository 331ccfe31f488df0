"""Tell a Hugging Face model id from a path: the same rule everywhere model.json's ``model`` is read."""

from __future__ import annotations

import re

__all__ = ["classify_model_ref", "is_hub_id"]

HF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")
WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]|\\")


def classify_model_ref(value: str) -> str:
    """``"path"`` (inside the container), ``"windows"`` (a host path), ``"relative"``, ``"hf"`` or ``"invalid"``."""
    if WINDOWS_PATH.search(value):
        return "windows"
    if value.startswith("/"):
        return "path"
    if value.startswith(("./", "../", "~")):
        return "relative"
    if HF_ID.match(value) and not value.endswith((".", "-")) and "--" not in value and ".." not in value:
        return "hf"
    return "invalid"


def is_hub_id(value: str) -> bool:
    """True for ``org/name`` (or a legacy single name such as ``gpt2``)."""
    return classify_model_ref(value) == "hf"
