"""The doctor's own configuration: the config file's schema and validation, and the environment's timeouts."""

from __future__ import annotations

import difflib
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triton_doctor.deploy.target import MAX_CONFIG_BYTES, TOML_TYPES, TargetError
from triton_doctor.probes.fs import FileReadError, read_file_text


@dataclass(frozen=True, slots=True)
class Key:
    """What a config key accepts: a type, for a list the type of its items, for a string its choices."""

    kind: type
    items: tuple[type, ...] = ()
    choices: tuple[str, ...] = ()
    example: str = ""


#: Every key of the config file (``triton-doctor.toml`` or ``[tool.triton-doctor]``). Add a key here and
#: :func:`load_config` validates it; flags that share the name win over the file.
CONFIG_SCHEMA: dict[str, Key] = {
    "repo": Key(str, example='repo = "model_repository"'),
    "repo_target": Key(str, example='repo_target = "/models"'),
    "models": Key(list, items=(str,), example='models = ["gemma_local"]'),
    "mounts": Key(list, items=(str, dict), example='mounts = ["local_models:/local_models"]'),
    "image": Key(str, example='image = "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3"'),
    "docker_command": Key(str, example='docker_command = "docker run ..."'),
    "docker_command_file": Key(str, example='docker_command_file = "run.ps1"'),
    "compose_files": Key(list, items=(str,), example='compose_files = ["compose.yaml"]'),
    "services": Key(list, items=(str,), example='services = ["triton"]'),
    "server": Key(str, example='server = "http://localhost:8000"'),
    "offline": Key(bool, example="offline = true"),
    "only": Key(list, items=(str,), example='only = ["repo"]'),
    "skip": Key(list, items=(str,), example='skip = ["config-io[unknown-output]"]'),
    "fail_on": Key(str, choices=("warn", "fail"), example='fail_on = "warn"'),
    "format": Key(str, choices=("text", "json", "junit", "sarif", "github"), example='format = "json"'),
    # The gate's policy (doctor/policy.py): profile, select/ignore (ignore entries may be tables with a
    # reason), per-id severity overrides and a baseline file.
    "profile": Key(str, choices=("quick", "standard", "full"), example='profile = "quick"'),
    "select": Key(list, items=(str,), example='select = ["repo", "mounts"]'),
    "ignore": Key(list, example='ignore = [{ id = "hf-rate-limited", reason = "..." }]'),
    "severity": Key(dict, example='severity = { "docker-version[older-than-guide]" = "info" }'),
    "baseline": Key(str, example='baseline = ".triton-doctor-baseline.json"'),
}


#: Kept for code that reads the key -> type table.
_CONFIG_KEYS = {name: key.kind for name, key in CONFIG_SCHEMA.items()}


def _toml_type(value: object) -> str:
    return TOML_TYPES.get(type(value), type(value).__name__)


#: Environment variables the doctor reads as numbers of seconds (positive and finite).
ENV_SECONDS = ("TRITON_DOCTOR_DOCKER_TIMEOUT", "TRITON_DOCTOR_HUB_TIMEOUT")


def positive_seconds(raw: str, name: str) -> float:
    """``raw`` as a positive, finite number of seconds; raise :class:`TargetError` naming ``name`` otherwise."""
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise TargetError(f"{name}={raw[:40]!r}: give a positive number of seconds, e.g. {name}=30")
    return value


def validate_environment(environ: Mapping[str, str] | None = None) -> None:
    """Check the doctor's own environment variables; raise :class:`TargetError` (exit 2) for a bad one."""
    env = os.environ if environ is None else environ
    for name in ENV_SECONDS:
        if env.get(name, "").strip():
            positive_seconds(env[name].strip(), name)


def load_config(path: Path | None, cwd: Path) -> tuple[dict[str, Any], str | None]:
    """Read the config table from ``path``, or from ``triton-doctor.toml``/``pyproject.toml`` in ``cwd``."""
    candidates: list[tuple[Path, bool]] = []
    if path is not None:
        candidates.append((path, path.name == "pyproject.toml"))
    else:
        candidates += [(cwd / "triton-doctor.toml", False), (cwd / "pyproject.toml", True)]
    for candidate, is_pyproject in candidates:
        try:
            text = read_file_text(candidate, MAX_CONFIG_BYTES)
        except FileReadError as exc:
            if exc.missing and path is None:
                continue
            raise TargetError(f"{candidate}: {'config file not found' if exc.missing else exc.reason}") from exc
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise TargetError(f"{candidate}: not valid TOML: {exc}") from exc
        except RecursionError as exc:
            raise TargetError(f"{candidate}: not valid TOML: nested too deeply") from exc
        if is_pyproject:
            tool = data.get("tool", {})
            table = tool.get("triton-doctor") if isinstance(tool, dict) else None
            if table is None:
                if path is not None:
                    raise TargetError(f"{candidate}: no [tool.triton-doctor] table")
                continue
            if not isinstance(table, dict):
                raise TargetError(
                    f"{candidate}: tool.triton-doctor must be a table ([tool.triton-doctor]), found {_toml_type(table)}"
                )
        else:
            table = data
        _validate_config(table, candidate)
        return table, str(candidate)
    return {}, None


def _validate_config(table: dict[str, Any], path: Path) -> None:
    """Check every key against :data:`CONFIG_SCHEMA`: known name, type, list item types, choices."""
    for key, value in table.items():
        spec = CONFIG_SCHEMA.get(key)
        if spec is None:
            close = difflib.get_close_matches(key, list(CONFIG_SCHEMA), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; known keys: {', '.join(sorted(CONFIG_SCHEMA))}"
            raise TargetError(f"{path}: unknown key {key!r}{hint}")
        example = f", e.g. {spec.example}" if spec.example else ""
        if not isinstance(value, spec.kind):
            raise TargetError(
                f"{path}: {key!r} must be a {TOML_TYPES.get(spec.kind, spec.kind.__name__)}, "
                f"found {_toml_type(value)}{example}"
            )
        if spec.items and isinstance(value, list):
            for i, item in enumerate(value):
                if not isinstance(item, spec.items):
                    kinds = " or ".join(TOML_TYPES.get(t, t.__name__) for t in spec.items)
                    raise TargetError(f"{path}: {key}[{i}] must be a {kinds}, found {_toml_type(item)}{example}")
        if spec.choices and value not in spec.choices:
            close = difflib.get_close_matches(str(value), spec.choices, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TargetError(
                f"{path}: {key} = {str(value)[:40]!r} is not one of {', '.join(spec.choices)}{hint}{example}"
            )
    for i, entry in enumerate(table.get("ignore", [])):
        if isinstance(entry, str) or (isinstance(entry, dict) and isinstance(entry.get("id"), str)):
            continue
        raise TargetError(
            f"{path}: ignore[{i}] must be an id or a table with id and reason, e.g. "
            '{ id = "config-io[unknown-output]", reason = "we use a custom backend" }'
        )
    for key in ("select", "only", "skip"):
        for i, entry in enumerate(table.get(key, [])):
            if not isinstance(entry, str):
                raise TargetError(f'{path}: {key}[{i}] must be a string, e.g. "engine-args" or "repo"')
    for key, level in table.get("severity", {}).items():
        if not isinstance(level, str):
            raise TargetError(f'{path}: severity.{key} must be "error", "warning" or "info"')
    for i, mount in enumerate(table.get("mounts", [])):
        if isinstance(mount, str):
            continue
        if (
            not isinstance(mount, dict)
            or not isinstance(mount.get("source"), str)
            or not isinstance(mount.get("target"), str)
            or not isinstance(mount.get("type", ""), str)
        ):
            raise TargetError(
                f'{path}: mounts[{i}] must be "HOST:TARGET" or a table with source and target, e.g. '
                '{ source = "model_repository", target = "/models" }'
            )
