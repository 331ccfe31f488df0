"""Parse ``config.pbtxt`` exactly as Triton does: protobuf text format into ``inference.ModelConfig``.

The message class comes from ``tritonclient.grpc.model_config_pb2``. Importing it the usual way runs
``tritonclient.grpc.__init__``, which pulls in grpc, numpy and ml_dtypes (about 330 ms); the generated
module itself needs nothing but protobuf, so it is loaded straight from its file (about 40 ms) and
registered under its real name, so a later ``import tritonclient.grpc`` shares it.

Protobuf reports syntax errors as ``line:column``, but a parsed message has no positions. For pointing a
finding at a line, :func:`field_positions` scans the text's tokens (it computes no values: parsing stays
protobuf's) and maps field paths such as ``("input", 1, "data_type")`` to ``(line, column)``.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

__all__ = ["ParsedConfig", "field_positions", "model_config_module", "parse_config"]

_MODULE = "tritonclient.grpc.model_config_pb2"


def model_config_module() -> ModuleType:
    """Return ``tritonclient.grpc.model_config_pb2`` without importing grpc or numpy."""
    if _MODULE in sys.modules:
        return sys.modules[_MODULE]
    spec = importlib.util.find_spec("tritonclient")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("tritonclient is not installed: pip install 'tritonclient[grpc]'")
    for location in spec.submodule_search_locations:
        candidate = f"{location}/grpc/model_config_pb2.py"
        file_spec = importlib.util.spec_from_file_location(_MODULE, candidate)
        if file_spec is None or file_spec.loader is None:
            continue
        try:
            module = importlib.util.module_from_spec(file_spec)
            sys.modules[_MODULE] = module
            file_spec.loader.exec_module(module)
        except FileNotFoundError:
            sys.modules.pop(_MODULE, None)
            continue
        return module
    raise ModuleNotFoundError(f"{_MODULE} not found in tritonclient")


@dataclass(frozen=True, slots=True)
class ParsedConfig:
    """A config.pbtxt: the message (treat as read-only) or the syntax error with its position."""

    message: Any | None
    error: str | None = None
    line: int | None = None
    column: int | None = None


_ERR_POS = re.compile(r"^(\d+):(\d+)\s*:\s*(.*)$", re.DOTALL)


def parse_config(text: str) -> ParsedConfig:
    """Parse config.pbtxt text; syntax errors come back with protobuf's line and column."""
    from google.protobuf import text_format

    module = model_config_module()
    message = module.ModelConfig()
    try:
        text_format.Parse(text, message)
    except text_format.ParseError as exc:
        line = exc.GetLine() if hasattr(exc, "GetLine") else None
        column = exc.GetColumn() if hasattr(exc, "GetColumn") else None
        detail = str(exc)
        match = _ERR_POS.match(detail)
        if match:
            line, column, detail = int(match.group(1)), int(match.group(2)), match.group(3)
        return ParsedConfig(None, detail.strip(), line, column)
    except (ValueError, TypeError, UnicodeError, RecursionError) as exc:  # e.g. deep nesting, bad escapes
        return ParsedConfig(None, f"{type(exc).__name__}: {exc}", 1, 1)
    return ParsedConfig(message)


_TOKEN = re.compile(
    r"""(?P<ws>\s+)|(?P<comment>\#[^\n]*)|(?P<string>"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?)"""
    r"""|(?P<ident>[A-Za-z_][A-Za-z0-9_.]*)|(?P<number>[-+]?[0-9][0-9A-Za-z_.+-]*)|(?P<punct>.)""",
    re.DOTALL,
)

Path_ = tuple[str | int, ...]


def field_positions(text: str) -> dict[Path_, tuple[int, int]]:
    """Map each field's path to the ``(line, column)`` of its name (first occurrence wins).

    Repeated message fields get an index: ``input [ {..}, {..} ]`` and ``input {..} input {..}`` both give
    ``("input", 0)``, ``("input", 1)``; their fields are ``("input", 1, "name")``.
    """
    tokens: list[tuple[str, str, int, int]] = []
    line, line_start = 1, 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        value = match.group()
        if kind not in {"ws", "comment"}:
            tokens.append((kind, value, line, match.start() - line_start + 1))
        newlines = value.count("\n")
        if newlines:
            line += newlines
            line_start = match.start() + value.rindex("\n") + 1

    positions: dict[Path_, tuple[int, int]] = {}
    # Each frame: (path prefix of the message we are in, counters of repeated fields seen in it)
    stack: list[tuple[Path_, dict[str, int]]] = [((), {})]
    # For "key [ {...}, {...} ]": (path of the list field, next index) while inside the brackets
    lists: list[tuple[Path_, str, int]] = []
    i = 0
    while i < len(tokens):
        kind, value, ln, col = tokens[i]
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        prefix, counters = stack[-1]
        if kind == "ident" and nxt in {":", "{", "<", "["}:
            j = i + 1
            if nxt == ":":
                j += 1
            opener = tokens[j][1] if j < len(tokens) else ""
            path = (*prefix, value)
            positions.setdefault(path, (ln, col))
            if opener in {"{", "<"}:
                index = counters.get(value, 0)
                counters[value] = index + 1
                positions.setdefault((*path, index), (ln, col))
                stack.append(((*path, index), {}))
                i = j + 1
                continue
            if opener == "[":
                lists.append((path, value, len(stack)))
                i = j + 1
                continue
            i = j if nxt == ":" else i + 1
            continue
        if value in {"{", "<"} and lists and lists[-1][2] == len(stack):
            path, name, _depth = lists[-1]
            index = counters.get(name, 0)
            counters[name] = index + 1
            positions.setdefault((*path, index), (ln, col))
            stack.append(((*path, index), {}))
        elif value in {"}", ">"} and len(stack) > 1:
            stack.pop()
        elif value == "]" and lists and lists[-1][2] == len(stack):
            lists.pop()
        i += 1
    return positions
