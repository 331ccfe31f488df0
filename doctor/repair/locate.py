"""Helpers for checks that describe a fix on a model's files (the checks stay pure: they only build data)."""

from __future__ import annotations

from collections.abc import Callable

from triton_doctor.facts.repository import ModelFacts
from triton_doctor.fixdata import Applicability, Edit, Fix, text_edit
from triton_doctor.probes.pbtxt import field_positions, top_level_offsets

__all__ = ["config_fix", "delete_every", "json_fix", "position"]


def position(text: str, *path: str | int) -> tuple[int, int] | None:
    """``(line, column)`` of a config.pbtxt field in ``text``."""
    return field_positions(text).get(tuple(path))


def delete_every(text: str, name: str) -> str:
    """``text`` without any top-level field ``name`` (repeated fields included), in one pass over the text."""
    from triton_doctor.repair.pbtxtedit import delete_fields_at

    starts = top_level_offsets(text, name)
    return delete_fields_at(text, starts) if starts else text


def config_fix(
    model: ModelFacts,
    transform: Callable[[str], str],
    description: str,
    applicability: Applicability = Applicability.SAFE,
) -> Fix | None:
    """A fix that rewrites lines of the model's config.pbtxt (None when it cannot be described for sure)."""
    if model.config_text is None:
        return None
    try:
        new = transform(model.config_text)
    except (ValueError, IndexError):
        return None
    edit = text_edit(str(model.path / "config.pbtxt"), model.config_text, new)
    if edit is None:
        return None
    return Fix(description=description, applicability=applicability, edits=(edit,))


def json_fix(
    model: ModelFacts, description: str, *edits: Edit, applicability: Applicability = Applicability.SAFE
) -> Fix | None:
    """A fix made of JSON key edits on the model's model.json."""
    if model.model_json is None or not model.model_json.exists:
        return None
    return Fix(description=description, applicability=applicability, edits=edits)


def model_json_path(model: ModelFacts) -> str:
    """The host path of the model.json Triton loads."""
    assert model.model_json is not None
    return str(model.model_json.path)
