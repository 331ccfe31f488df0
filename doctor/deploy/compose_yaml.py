"""Compose files as Compose reads them: YAML 1.2 with line marks, ``${VAR}`` interpolation, ``.env`` files."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
import yaml.composer
import yaml.constructor
import yaml.parser
import yaml.reader
import yaml.resolver
import yaml.scanner

from triton_doctor.probes.fs import FileReadError, read_file_text

MAX_FILE_BYTES = 1024 * 1024


class ComposeError(ValueError):
    """The compose project cannot be read; the message names the file (and line) and the fix."""


# -- YAML 1.2 core schema with line marks ---------------------------------------------------------------------


class _Resolver(yaml.resolver.BaseResolver):
    """YAML 1.2 core schema, as Compose's go-yaml reads it: ``22:22`` is a string, ``yes`` is a string."""


_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_Resolver.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_Resolver.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


class MarkedMap(dict[Any, Any]):
    """A mapping that remembers the line of each key (1-based) and of itself."""

    line: int = 0
    lines: dict[Any, int]


class MarkedSeq(list[Any]):
    """A sequence that remembers the line of each item (1-based) and of itself."""

    line: int = 0
    lines: list[int]


class _Loader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    yaml.constructor.SafeConstructor,
    _Resolver,
):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        _Resolver.__init__(self)


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> MarkedMap:
    loader.flatten_mapping(node)
    out = MarkedMap()
    out.line = node.start_mark.line + 1
    out.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            )
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> MarkedSeq:
    out = MarkedSeq(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.lines = [child.start_mark.line + 1 for child in node.value]
    return out


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)  # type: ignore[type-var]
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)  # type: ignore[type-var]


def load_yaml(text: str, path: str) -> Any:
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else path
        raise ComposeError(f"{where}: not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ComposeError(f"{path}: not valid YAML: {exc}") from None
    except RecursionError:
        raise ComposeError(f"{path}: not valid YAML: nested too deeply") from None
    finally:
        loader.dispose()


# -- interpolation ----------------------------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(slots=True)
class Interpolator:
    env: Mapping[str, str]
    where: str
    unset: dict[str, str] = field(default_factory=dict)

    def expand(self, text: str, line: int) -> str:
        out, _ = self._expand(text, 0, line, stop=None)
        return out

    def _expand(self, text: str, i: int, line: int, stop: str | None) -> tuple[str, int]:
        out: list[str] = []
        n = len(text)
        while i < n:
            ch = text[i]
            if stop is not None and ch == stop:
                return "".join(out), i
            if ch != "$":
                out.append(ch)
                i += 1
                continue
            nxt = text[i + 1] if i + 1 < n else ""
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "{":
                value, i = self._braced(text, i + 2, line)
                out.append(value)
                continue
            match = _NAME.match(text, i + 1)
            if match:
                out.append(self._lookup(match.group(0), line))
                i = match.end()
                continue
            out.append("$")
            i += 1
        if stop is not None:
            raise ComposeError(f"{self.where}:{line}: unterminated ${{...}} in {text[:80]!r} (close it with '}}')")
        return "".join(out), i

    def _lookup(self, name: str, line: int) -> str:
        if name in self.env:
            return self.env[name]
        self.unset.setdefault(name, f"{self.where}:{line}")
        return ""

    def _braced(self, text: str, i: int, line: int) -> tuple[str, int]:
        match = _NAME.match(text, i)
        if not match:
            raise ComposeError(
                f"{self.where}:{line}: invalid interpolation format in {text[:80]!r}: write ${{NAME}}, "
                "${NAME:-default} or $$ for a literal $"
            )
        name = match.group(0)
        i = match.end()
        if i < len(text) and text[i] == "}":
            return self._lookup(name, line), i + 1
        for op in (":-", ":?", ":+", "-", "?", "+"):
            if text.startswith(op, i):
                rest, end = self._expand(text, i + len(op), line, stop="}")
                value = self.env.get(name)
                empty_counts = op.startswith(":")
                is_set = value is not None and (value != "" or not empty_counts)
                if op.endswith("-"):
                    return (value if is_set and value is not None else rest), end + 1
                if op.endswith("+"):
                    return (rest if is_set else ""), end + 1
                if not is_set:
                    reason = rest or f"{name} is not set"
                    raise ComposeError(
                        f"{self.where}:{line}: required variable {name} is missing a value: {reason} "
                        f"(export {name}=... or write it into the project's .env)"
                    )
                return value or "", end + 1
        raise ComposeError(
            f"{self.where}:{line}: invalid interpolation format in {text[:80]!r}: write ${{NAME}}, "
            "${NAME:-default} or $$ for a literal $"
        )


def interpolate(value: Any, interp: Interpolator, line: int) -> Any:
    """Interpolate every string value (never keys) of a loaded document, keeping the line marks."""
    if isinstance(value, MarkedMap):
        out = MarkedMap()
        out.line, out.lines = value.line, dict(value.lines)
        for key, item in value.items():
            out[key] = interpolate(item, interp, value.lines.get(key, value.line))
        return out
    if isinstance(value, MarkedSeq):
        seq = MarkedSeq(interpolate(item, interp, value.lines[i]) for i, item in enumerate(value))
        seq.line, seq.lines = value.line, list(value.lines)
        return seq
    if isinstance(value, str):
        return interp.expand(value, line)
    return value


# -- .env files ---------------------------------------------------------------------------------------------------

_ENV_LINE = re.compile(r"^\s*(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)\s*(?:(?P<sep>[=:])\s*(?P<value>.*))?$")


def parse_env_file(text: str, env: Mapping[str, str] | None = None, path: str = ".env") -> dict[str, str | None]:
    """``NAME=value`` lines as Compose reads them (quotes, ``export``, comments, ``${VAR}`` in values)."""
    lookup: dict[str, str] = dict(env or {})
    out: dict[str, str | None] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i]
        i += 1
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.match(raw)
        if not match:
            continue
        name = match.group("name")
        if match.group("sep") is None:
            out[name] = None
            continue
        value = match.group("value") or ""
        quote = value[:1]
        if quote in {"'", '"'}:
            body = value[1:]
            while quote not in body.replace("\\" + quote, "") and i < len(lines):
                body += "\n" + lines[i]
                i += 1
            end = _closing_quote(body, quote)
            inner = body[:end] if end >= 0 else body
            if quote == '"':
                inner = inner.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
                known = {**lookup, **{k: v for k, v in out.items() if v is not None}}
                inner = Interpolator(known, path).expand(inner, i)
            value = inner
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
            value = Interpolator({**lookup, **{k: v for k, v in out.items() if v is not None}}, path).expand(value, i)
        out[name] = value
    return out


def _closing_quote(body: str, quote: str) -> int:
    j = 0
    while j < len(body):
        if body[j] == "\\" and quote == '"':
            j += 2
            continue
        if body[j] == quote:
            return j
        j += 1
    return -1


def read_bounded(path: Path) -> str:
    try:
        return read_file_text(path, MAX_FILE_BYTES)
    except FileReadError as exc:
        raise ComposeError(f"{path}: {'file not found' if exc.missing else exc.reason}") from None
