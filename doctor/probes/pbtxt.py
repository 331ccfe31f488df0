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
import warnings
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from triton_doctor.probes.pbtxt_positions import MAX_NESTING, field_positions, top_level_offsets

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
