"""The model repository as facts: each model's config.pbtxt, model.json and local weights, read once.

Takes the repository folder; gives ``RepoFacts`` of ``ModelFacts`` (parsed files with their positions) that
``Context`` caches for the checks.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from triton_doctor.deploy.target import MountSpec, Target, host_path
from triton_doctor.probes import fs
from triton_doctor.probes.pbtxt import ParsedConfig, field_positions, parse_config
from triton_doctor.results import Location

__all__ = [
    "TOKENIZER_FILES",
    "JsonDoc",
    "LocalModel",
    "ModelFacts",
    "RepoFacts",
    "parallel_sizes",
    "read_json",
    "read_local_model",
    "read_model",
    "read_repo",
]

_VERSION_RE = re.compile(r"^[1-9][0-9]*$")


@dataclass(frozen=True, slots=True)
class RepoFacts:
    """The model repository on the host."""

    path: Path
    #: The path as shown to the user.
    display: str
    exists: bool
    is_dir: bool
    error: str | None
    #: Sub-directories (candidate models), sorted.
    model_dirs: tuple[str, ...] = ()
    #: Files at the top level (a config.pbtxt here means the repo path points at a model, not a repository).
    files: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class JsonDoc:
    """A JSON file: its data or the decode error with position, and the line of each top-level key."""

    path: Path
    display: str
    exists: bool
    data: Any = None
    error: str | None = None
    line: int | None = None
    column: int | None = None
    key_lines: dict[str, int] = field(default_factory=dict)
    duplicate_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ModelFacts:
    """One model directory of the repository."""

    name: str
    path: Path
    display: str
    exists: bool
    config_display: str
    config_exists: bool
    config_text: str | None
    config_read_error: str | None
    parsed: ParsedConfig | None
    positions: dict[tuple[str | int, ...], tuple[int, int]]
    #: Version directories Triton accepts (numeric, no leading zero), highest last.
    versions: tuple[str, ...]
    #: Directories that look like versions but that Triton ignores ("0", "01", "v1").
    ignored_versions: tuple[str, ...]
    #: model.json of the version Triton loads (the highest), or None when there is no version.
    model_json: JsonDoc | None
    #: A model.json sitting directly in the model directory (a common misplacement).
    stray_model_json: str | None

    def config_location(self, *path: str | int) -> Location:
        """The location of a config.pbtxt field (the file alone when the field is absent)."""
        pos = self.positions.get(tuple(path))
        if pos is None:
            return Location(path=self.config_display)
        return Location(path=self.config_display, line=pos[0], column=pos[1])

    def json_location(self, key: str | None = None) -> Location | None:
        """The location of a model.json key (the file alone when absent)."""
        if self.model_json is None:
            return None
        line = self.model_json.key_lines.get(key) if key else None
        return Location(path=self.model_json.display, line=line)


@dataclass(frozen=True, slots=True)
class LocalModel:
    """A model.json ``model`` that is a container path, resolved to the host through the mounts."""

    container_path: str
    mount: MountSpec | None
    host: Path | None
    host_display: str
    exists: bool
    is_dir: bool
    files: tuple[str, ...] = ()
    config: JsonDoc | None = None
    tokenizer_files: tuple[str, ...] = ()
    weight_files: tuple[str, ...] = ()
    weights_bytes: int = 0


_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
TOKENIZER_FILES = {"tokenizer.json", "tokenizer.model", "tokenizer_config.json", "vocab.json", "spiece.model"}


def _display(base_display: str, *parts: str) -> str:
    return str(PurePosixPath(base_display, *parts)) if base_display else "/".join(parts)


_JSON_TOKEN = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"(?:\s*:)?|[{}\[\]]|\n')


def _json_value_error(exc: ValueError) -> str:
    if "digits" in str(exc):
        return "a number has more digits than Python's JSON reader accepts (4300); write a real value"
    return f"not valid JSON: {str(exc)[:200]}"


#: Python's own message (json.loads of a str that starts with U+FEFF).
BOM_ERROR = "Unexpected UTF-8 BOM (decode using utf-8-sig)"


def read_json(path: Path, display: str) -> JsonDoc:
    """Read a JSON document, keeping the decode position and the line of each top-level key."""
    result = fs.read_text(path)
    if result.missing:
        return JsonDoc(path=path, display=display, exists=False)
    if result.error is not None or result.text is None:
        return JsonDoc(path=path, display=display, exists=True, error=result.error, line=None)
    text = result.text
    if result.bom:  # json.load of a file opened as UTF-8 (the backend, transformers) stops at the mark
        return JsonDoc(path=path, display=display, exists=True, error=BOM_ERROR, line=1, column=1)
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                duplicates.append(key)
            seen[key] = value
        return seen

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        return JsonDoc(path=path, display=display, exists=True, error=exc.msg, line=exc.lineno, column=exc.colno)
    except RecursionError:
        return JsonDoc(path=path, display=display, exists=True, error="nested too deeply", line=1, column=1)
    except ValueError as exc:  # e.g. an integer longer than Python's int max-digits limit (4300)
        return JsonDoc(path=path, display=display, exists=True, error=_json_value_error(exc), line=None)
    key_lines: dict[str, int] = {}
    if isinstance(data, dict):
        # Top-level keys: the first occurrence of "key" followed by a colon at nesting depth 1. Every string
        # is one token (an unrolled pattern: no per-character backtracking state on a 4 MB string).
        depth = 0
        line = 1
        for match in _JSON_TOKEN.finditer(text):
            token = match.group()
            if token == "\n":
                line += 1
            elif token in "{[":
                depth += 1
            elif token in "}]":
                depth -= 1
            elif token.endswith(":") and depth == 1:
                with contextlib.suppress(json.JSONDecodeError):
                    key_lines.setdefault(json.loads(token.rstrip()[:-1].rstrip()), line)
            line += token.count("\n") if len(token) > 1 else 0
    return JsonDoc(
        path=path,
        display=display,
        exists=True,
        data=data,
        key_lines=key_lines,
        duplicate_keys=tuple(dict.fromkeys(duplicates)),
    )


def parallel_sizes(args: dict[str, Any] | None) -> tuple[int, int]:
    """``(tensor_parallel_size, pipeline_parallel_size)`` from model.json; 1 where unset or not a positive int."""

    def positive(key: str) -> int:
        value = (args or {}).get(key, 1)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1

    return positive("tensor_parallel_size"), positive("pipeline_parallel_size")


def read_repo(target: Target) -> RepoFacts:
    """The model repository directory and its entries."""
    display = target.repo
    path = host_path(target.repo)
    listing = fs.list_dir(path)
    if listing.missing:
        return RepoFacts(path=path, display=display, exists=False, is_dir=False, error=None)
    if listing.not_dir:
        return RepoFacts(path=path, display=display, exists=True, is_dir=False, error=None)
    if listing.error is not None:
        return RepoFacts(path=path, display=display, exists=True, is_dir=True, error=listing.error)
    dirs = tuple(sorted(e for e in listing.dirs if not e.startswith(".")))
    return RepoFacts(
        path=path,
        display=display,
        exists=True,
        is_dir=True,
        error=None,
        model_dirs=dirs,
        files=tuple(sorted(listing.files)),
    )


def read_model(repo: RepoFacts, name: str) -> ModelFacts:
    """Facts about one model directory of ``repo``."""
    path = repo.path / name
    display = _display(repo.display, name)
    config_display = _display(display, "config.pbtxt")
    read = fs.read_text(path / "config.pbtxt")
    parsed: ParsedConfig | None = None
    positions: dict[tuple[str | int, ...], tuple[int, int]] = {}
    if read.text is not None:
        parsed = parse_config(read.text)
        if parsed.message is not None:  # positions only point at fields of a config that parses
            positions = field_positions(read.text)
    listing = fs.list_dir(path)
    versions = sorted((d for d in listing.dirs if _VERSION_RE.match(d)), key=int)
    ignored = sorted(
        d for d in listing.dirs if d not in versions and re.match(r"^(?:v|version[_-]?)?[0-9]+$", d, re.IGNORECASE)
    )
    model_json: JsonDoc | None = None
    if versions:
        version = versions[-1]
        model_json = read_json(path / version / "model.json", _display(display, version, "model.json"))
    stray = _display(display, "model.json") if "model.json" in listing.files else None
    return ModelFacts(
        name=name,
        path=path,
        display=display,
        exists=not listing.missing,
        config_display=config_display,
        config_exists=not read.missing,
        config_text=read.text,
        config_read_error=read.error,
        parsed=parsed,
        positions=positions,
        versions=tuple(versions),
        ignored_versions=tuple(ignored),
        model_json=model_json,
        stray_model_json=stray,
    )


def read_local_model(target: Target, container_path: str) -> LocalModel:
    """A container path (model.json ``model``) resolved through the mounts to the host, and listed."""
    mount = target.mount_for(container_path)
    if mount is None or mount.type != "bind":
        return LocalModel(
            container_path=container_path, mount=mount, host=None, host_display="", exists=False, is_dir=False
        )
    rel = PurePosixPath(container_path).relative_to(PurePosixPath(mount.target))
    host = host_path(mount.source).joinpath(*rel.parts)
    host_display = str(PurePosixPath(mount.source.replace("\\", "/"), *rel.parts)) if rel.parts else mount.source
    listing = fs.list_dir(host)
    if listing.missing or listing.not_dir:
        return LocalModel(
            container_path=container_path,
            mount=mount,
            host=host,
            host_display=host_display,
            exists=not listing.missing,
            is_dir=False,
        )
    files = tuple(sorted(listing.files))
    weights = tuple(f for f in files if f.endswith(_WEIGHT_SUFFIXES) and f != "training_args.bin")
    size = sum(listing.sizes.get(f, 0) for f in weights)
    config = read_json(host / "config.json", _display(host_display, "config.json")) if "config.json" in files else None
    return LocalModel(
        container_path=container_path,
        mount=mount,
        host=host,
        host_display=host_display,
        exists=True,
        is_dir=True,
        files=files,
        config=config,
        tokenizer_files=tuple(f for f in files if f in TOKENIZER_FILES),
        weight_files=weights,
        weights_bytes=size,
    )
