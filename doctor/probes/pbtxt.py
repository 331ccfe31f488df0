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

import functools
import importlib.util
import re
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

__all__ = [
    "MAX_NESTING",
    "ParsedConfig",
    "SyntaxProblem",
    "field_positions",
    "model_config_module",
    "nesting_overflow",
    "parse_config",
    "top_level_offsets",
]

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


#: Deepest ``{``/``<``/``[`` nesting read. Triton's parser (C++ ``TextFormat::Parser``) sets no practical limit
#: of its own (``INT_MAX``) and overflows its stack near 10,000 levels; protobuf's binary parser stops at its
#: default recursion limit of 100, which is used here. ``inference.ModelConfig`` itself is 6 levels deep, so
#: nothing deeper than 100 can be a valid config; the scan stops there and the parse reports it.
MAX_NESTING = 100
#: Errors reported per file (see :func:`parse_config`).
MAX_ERRORS = 5
#: Files above this size get only their first error (each further error is one more full parse).
_MULTI_ERROR_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    """One error: protobuf's message (without the quoted line), its position, a "did you mean" if any."""

    error: str
    line: int | None
    column: int | None
    suggestion: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedConfig:
    """A config.pbtxt: the message (treat as read-only) or the syntax error with its position.

    ``error``/``line``/``column`` describe the first error; ``problems`` lists every error found (the first
    included), at most :data:`MAX_ERRORS`.
    """

    message: Any | None
    error: str | None = None
    line: int | None = None
    column: int | None = None
    problems: tuple[SyntaxProblem, ...] = ()
    suggestion: str | None = None


_ERR_POS = re.compile(r"^(\d+):(\d+)\s*:\s*(.*)$", re.DOTALL)
#: protobuf prefixes some messages with the whole offending line in quotes: ``'<line>': <message>``.
_QUOTED_LINE = re.compile(r"^'.*?':\s(?=[A-Z])", re.DOTALL)
_NO_FIELD = re.compile(r'Message type "([\w.]+)" has no field named "([^"]*)"')
_NO_VALUE = re.compile(r'Enum type "([\w.]+)" has no value named (\S+?)\.?$')


_BAD_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\[^abfnrtv\\'\"?0-7xuU]")


def _suggest(error: str) -> str | None:
    """ "did you mean" for an unknown field (from the message's descriptor) or enum value."""
    import difflib

    from google.protobuf import descriptor_pool

    model_config_module()
    pool = descriptor_pool.Default()
    try:
        match = _NO_FIELD.search(error)
        if match:
            names = [f.name for f in pool.FindMessageTypeByName(match.group(1)).fields]
            close = difflib.get_close_matches(match.group(2)[:200], names, n=1, cutoff=0.6)
            return close[0] if close else None
        match = _NO_VALUE.search(error)
        if match:
            names = list(pool.FindEnumTypeByName(match.group(1)).values_by_name)
            close = difflib.get_close_matches(match.group(2)[:200], names, n=1, cutoff=0.6)
            return close[0] if close else None
    except KeyError:
        return None
    return None


def _parse_once(text: str) -> tuple[Any | None, SyntaxProblem | None]:
    from google.protobuf import text_format

    message = model_config_module().ModelConfig()
    try:
        with warnings.catch_warnings():
            # protobuf's Python parser only warns about an invalid escape such as "\_"; Triton's C++ parser
            # rejects it ("Invalid escape sequence in string literal"), so it is an error here too.
            warnings.simplefilter("error", DeprecationWarning)
            text_format.Parse(text, message)
    except DeprecationWarning:
        bad = _BAD_ESCAPE.search(text)
        line = text.count("\n", 0, bad.start()) + 1 if bad else None
        column = bad.start() - text.rfind("\n", 0, bad.start()) if bad else None
        shown = bad.group()[-2:] if bad else "\\"
        return None, SyntaxProblem(f"invalid escape sequence {shown!r} in a string", line, column)
    except text_format.ParseError as exc:
        line = exc.GetLine() if hasattr(exc, "GetLine") else None
        column = exc.GetColumn() if hasattr(exc, "GetColumn") else None
        detail = str(exc)
        match = _ERR_POS.match(detail)
        if match:
            line, column, detail = int(match.group(1)), int(match.group(2)), match.group(3)
        detail = _QUOTED_LINE.sub("", detail.strip(), count=1)
        return None, SyntaxProblem(detail, line, column, _suggest(detail))
    except (ValueError, TypeError, UnicodeError, RecursionError) as exc:  # e.g. bad escapes
        return None, SyntaxProblem(f"{type(exc).__name__}: {exc}", 1, 1)
    return message, None


def _balanced(line: str) -> bool:
    return all(line.count(a) == line.count(b) for a, b in ("{}", "[]", "<>"))


def parse_config(text: str) -> ParsedConfig:
    """Parse config.pbtxt text; syntax errors come back with protobuf's line and column.

    protobuf stops at the first error. To report more than one, the line of each error is blanked (replaced
    by nothing, so the other lines keep their numbers) and the text parsed again, up to :data:`MAX_ERRORS`
    errors, but only while the blanked line opens and closes as many braces as it closes (so blanking it
    cannot shift the structure and invent errors), and only for files under 256 KiB. A file nested deeper
    than :data:`MAX_NESTING` is reported without being handed to protobuf.
    """
    deep = nesting_overflow(text)
    if deep is not None:
        line, column = deep
        too_deep = SyntaxProblem(
            f"nested more than {MAX_NESTING} levels deep; a ModelConfig is at most 6 levels deep", line, column
        )
        return ParsedConfig(None, too_deep.error, line, column, (too_deep,))
    message, first = _parse_once(text)
    if first is None:
        return ParsedConfig(message)
    problems = [first]
    if len(text) <= _MULTI_ERROR_BYTES:
        lines = text.split("\n")
        problem: SyntaxProblem | None = first
        while problem is not None and len(problems) < MAX_ERRORS:
            if problem.line is None or not 0 < problem.line <= len(lines) or not _balanced(lines[problem.line - 1]):
                break
            lines[problem.line - 1] = ""
            _message, problem = _parse_once("\n".join(lines))
            if problem is not None:
                if any(p.line == problem.line for p in problems):
                    break
                problems.append(problem)
    return ParsedConfig(None, first.error, first.line, first.column, tuple(problems), first.suggestion)


Path_ = tuple[str | int, ...]


_BRACKETS = re.compile(r"""[{}<>\[\]]|"[^"\\\n]*(?:\\.[^"\\\n]*)*"?|'[^'\\\n]*(?:\\.[^'\\\n]*)*'?|\#[^\n]*""")


def nesting_overflow(text: str) -> tuple[int, int] | None:
    """Where the text first nests deeper than :data:`MAX_NESTING` (``line, column``), or None.

    Only brackets, strings and comments are matched (strings and comments may hold brackets), which keeps
    this pass cheap next to the full tokenizer.
    """
    depth = 0
    for match in _BRACKETS.finditer(text):
        value = match.group()
        if value in {"{", "<", "["}:
            depth += 1
            if depth > MAX_NESTING:
                line = text.count("\n", 0, match.start()) + 1
                return line, match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        elif value in {"}", ">", "]"}:
            depth = max(0, depth - 1)
    return None


#: One significant token with the whitespace and comments before it (possessive: no backtracking). At the
#: end of the text only the trailing whitespace matches (no group set), which ends the scan.
_SIGNIFICANT = re.compile(
    r"""(?:\s|\#[^\n]*)*+(?:(?P<string>"[^"\\\n]*(?:\\.[^"\\\n]*)*"?|'[^'\\\n]*(?:\\.[^'\\\n]*)*'?)"""
    r"""|(?P<ident>[A-Za-z_][A-Za-z0-9_.]*)|(?P<number>[-+]?[0-9][0-9A-Za-z_.+-]*)|(?P<punct>.))?""",
    re.DOTALL,
)


def top_level_offsets(text: str, name: str) -> list[int]:
    """Offsets of the names of every top-level field ``name`` (repeated fields included), in one pass.

    For a config that parses (brackets balanced): only brackets, strings, comments and the word ``name``
    are matched, so the scan touches a few tokens per field rather than every token.
    """
    found: list[int] = []
    depth = 0
    pattern = _top_level_pattern(name)
    for match in pattern.finditer(text):
        value = match.group()
        first = value[0]
        if first in "{<[":
            depth += 1
        elif first in "}>]":
            depth = max(0, depth - 1)
        elif depth == 0 and match.lastgroup == "name":
            found.append(match.start())
    return found


@functools.lru_cache(maxsize=16)
def _top_level_pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        r"""[{}<>\[\]]|"[^"\\\n]*(?:\\.[^"\\\n]*)*"?|'[^'\\\n]*(?:\\.[^'\\\n]*)*'?|\#[^\n]*"""
        rf"""|(?<![\w.])(?P<name>{re.escape(name)})(?![\w.])(?=(?:\s|\#[^\n]*)*+[:{{<\[])"""
    )


def field_positions(text: str) -> dict[Path_, tuple[int, int]]:
    """Map each field's path to the ``(line, column)`` of its name (first occurrence wins).

    Repeated message fields get an index: ``input [ {..}, {..} ]`` and ``input {..} input {..}`` both give
    ``("input", 0)``, ``("input", 1)``; their fields are ``("input", 1, "name")``.

    One pass over the tokens in constant extra memory per token; paths deeper than :data:`MAX_NESTING`
    are not recorded (the scan stops there), so time and memory stay linear in the text's size. The last
    few texts' maps are kept (the context and each fix of a model ask about the same text): treat the
    returned dict as read-only.
    """
    return _field_positions(text)


@functools.lru_cache(maxsize=4)
def _field_positions(text: str) -> dict[Path_, tuple[int, int]]:
    positions: dict[Path_, tuple[int, int]] = {}
    for path, line, column, _offset in _fields(text):
        if path not in positions:
            positions[path] = (line, column)
    return positions


def _fields(text: str) -> Iterator[tuple[Path_, int, int, int]]:
    """``(path, line, column, offset)`` of every field name and repeated-message element, in text order.

    A state machine over the significant tokens: after an identifier comes ``:`` (a field), an opener (a
    message or list field) or anything else (the identifier was a value); after ``name:`` an opener or a
    scalar value.
    """
    # Each frame: (path prefix of the message we are in, counters of repeated fields seen in it)
    stack: list[tuple[Path_, dict[str, int]]] = [((), {})]
    # For "key [ {...}, {...} ]": (path of the list field, name, stack depth) while inside the brackets
    lists: list[tuple[Path_, str, int]] = []
    line, counted, line_start = 1, 0, 0

    def where(offset: int) -> tuple[int, int]:
        nonlocal line, counted, line_start
        newlines = text.count("\n", counted, offset)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", counted, offset) + 1
        counted = offset
        return line, offset - line_start + 1

    pending = ""  # an identifier that may be a field name
    pending_at = 0
    colon = False  # the pending identifier was followed by ":"
    for match in _SIGNIFICANT.finditer(text):
        kind = match.lastgroup
        if kind is None:
            break
        if len(stack) > MAX_NESTING or len(lists) > MAX_NESTING:
            break
        value = match.group(kind)
        prefix, counters = stack[-1]
        if pending:
            name, at = pending, pending_at
            pending = ""
            if value == ":" and not colon:
                colon = True
                pending, pending_at = name, at
                continue
            if value in {"{", "<", "["} or colon:
                path = (*prefix, name)
                ln, col = where(at)
                yield path, ln, col, at
                was_colon, colon = colon, False
                if value in {"{", "<"}:
                    index = counters.get(name, 0)
                    counters[name] = index + 1
                    element = (*path, index)
                    yield element, ln, col, at
                    stack.append((element, {}))
                    continue
                if value == "[":
                    lists.append((path, name, len(stack)))
                    continue
                if not was_colon:  # pragma: no cover - only ":" or an opener get here without a colon
                    continue
                # "name: value": the value is an ordinary token (an identifier value is never a field name
                # unless ":" or an opener follows it)
        colon = False
        if kind == "ident":
            pending, pending_at = value, match.start(kind)
            continue
        if value in {"{", "<"} and lists and lists[-1][2] == len(stack):
            path, name, _depth = lists[-1]
            index = counters.get(name, 0)
            counters[name] = index + 1
            ln, col = where(match.start(kind))
            yield (*path, index), ln, col, match.start(kind)
            stack.append(((*path, index), {}))
        elif value in {"}", ">"} and len(stack) > 1:
            stack.pop()
        elif value == "]" and lists and lists[-1][2] == len(stack):
            lists.pop()
    if pending and colon:  # "name:" at the very end
        ln, col = where(pending_at)
        yield (*stack[-1][0], pending), ln, col, pending_at
