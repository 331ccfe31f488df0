"""Where the fields of a ``config.pbtxt`` are: ``(line, column)`` by field path, and top-level field offsets.

Protobuf reports syntax errors as ``line:column``, but a parsed message has no positions. For pointing a
finding at a line, :func:`field_positions` scans the text's tokens (it computes no values: parsing stays
protobuf's) and maps field paths such as ``("input", 1, "data_type")`` to ``(line, column)``; a fix that
deletes every ``input`` finds them with :func:`top_level_offsets`. Both are one pass over the text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

__all__ = ["MAX_NESTING", "field_positions", "top_level_offsets"]

#: Deepest ``{``/``<``/``[`` nesting read. Triton's parser (C++ ``TextFormat::Parser``) sets no practical limit
#: of its own (``INT_MAX``) and overflows its stack near 10,000 levels; protobuf's binary parser stops at its
#: default recursion limit of 100, which is used here. ``inference.ModelConfig`` itself is 6 levels deep, so
#: nothing deeper than 100 can be a valid config; the scan stops there and the parse reports it.
MAX_NESTING = 100

Path_ = tuple[str | int, ...]


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
