"""Line-level edits of config.pbtxt text: the original text is kept, comments and formatting included.

Checks use these to describe a fix (they return new text; :func:`triton_doctor.fixdata.text_edit` makes the
smallest line replacement of it). Positions are the ``(line, column)`` of a field's name as
:func:`triton_doctor.probes.pbtxt.field_positions` reports them.
"""

from __future__ import annotations

import re

__all__ = [
    "delete_field",
    "delete_fields_at",
    "field_span",
    "field_span_at",
    "insert_after_line",
    "replace_field",
    "set_scalar",
]

_OPEN = {"{": "}", "[": "]", "<": ">"}
_SPECIAL = re.compile(r"[{}\[\]<>\"'#]")


def _offset(text: str, line: int, column: int) -> int:
    pos = 0
    for _ in range(line - 1):
        nxt = text.find("\n", pos)
        if nxt < 0:
            raise ValueError(f"line {line} is past the end of the text")
        pos = nxt + 1
    return pos + column - 1


def _skip_space(text: str, i: int) -> int:
    while i < len(text):
        if text[i] in " \t\r\n":
            i += 1
        elif text[i] == "#":
            while i < len(text) and text[i] != "\n":
                i += 1
        else:
            break
    return i


def _skip_string(text: str, i: int) -> int:
    quote = text[i]
    i += 1
    while i < len(text) and text[i] != quote:
        i += 2 if text[i] == "\\" else 1
    return i + 1


def _value_end(text: str, i: int) -> int:
    """The offset just past the value starting at ``i`` (a scalar, a string, a message or a list)."""
    if text[i] in _OPEN:
        stack = [_OPEN[text[i]]]
        i += 1
        while stack:
            found = _SPECIAL.search(text, i)  # jump to the next bracket, quote or comment
            if found is None:
                raise ValueError("unbalanced brackets")
            i = found.start()
            ch = text[i]
            if ch in "\"'":
                i = _skip_string(text, i)
                continue
            if ch == "#":
                newline = text.find("\n", i)
                i = len(text) if newline < 0 else newline
                continue
            if ch in _OPEN:
                stack.append(_OPEN[ch])
            elif ch == stack[-1]:
                stack.pop()
            i += 1
        return i
    if text[i] in "\"'":
        end = _skip_string(text, i)
        # adjacent string literals concatenate
        nxt = _skip_space(text, end)
        while nxt < len(text) and text[nxt] in "\"'":
            end = _skip_string(text, nxt)
            nxt = _skip_space(text, end)
        return end
    while i < len(text) and text[i] not in " \t\r\n,;#}]>":
        i += 1
    return i


def field_span(text: str, line: int, column: int) -> tuple[int, int]:
    """``(start, end)`` offsets of the field whose name is at ``line:column``, value included."""
    return field_span_at(text, _offset(text, line, column))


def field_span_at(text: str, start: int) -> tuple[int, int]:
    """``(start, end)`` offsets of the field whose name starts at offset ``start``, value included."""
    i = start
    while i < len(text) and (text[i].isalnum() or text[i] in "_."):
        i += 1
    i = _skip_space(text, i)
    if i < len(text) and text[i] == ":":
        i = _skip_space(text, i + 1)
    if i >= len(text):
        raise ValueError("field without a value")
    return start, _value_end(text, i)


def replace_field(text: str, line: int, column: int, new: str) -> str:
    """``text`` with the whole field at ``line:column`` replaced by ``new``."""
    start, end = field_span(text, line, column)
    return text[:start] + new + text[end:]


def set_scalar(text: str, line: int, column: int, value: str) -> str:
    """``text`` with the value of the scalar field at ``line:column`` replaced by ``value``."""
    start, end = field_span(text, line, column)
    name_end = start
    while name_end < end and (text[name_end].isalnum() or text[name_end] == "_"):
        name_end += 1
    return text[:start] + text[start:name_end] + ": " + value + text[end:]


def delete_field(text: str, line: int, column: int) -> str:
    """``text`` without the field at ``line:column``; a line left blank by it is removed too."""
    return _delete_at(text, _offset(text, line, column))


def _delete_at(text: str, start: int, end: int | None = None) -> str:
    if end is None:
        start, end = field_span_at(text, start)
    # a separator right after the field goes with it
    j = end
    while j < len(text) and text[j] in " \t":
        j += 1
    if j < len(text) and text[j] in ",;":
        end = j + 1
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    before, after = text[line_start:start], text[end:line_end]
    if not before.strip() and not after.strip():
        return text[:line_start] + text[min(line_end + 1, len(text)) :]
    if not after.strip():
        return text[:start].rstrip(" \t") + text[end:]
    return text[:start] + after.lstrip(" \t") + text[line_end:]


def delete_fields_at(text: str, starts: list[int]) -> str:
    """``text`` without the fields whose names start at ``starts`` (offsets), as :func:`delete_field` one by one.

    Linear in the text: the fields are grouped by the lines they touch, and each group is edited on its
    own lines only (last field first, so the earlier offsets stay put) before the pieces are joined once.
    """
    spans: list[tuple[int, int, int, int]] = []
    for start in sorted(set(starts)):
        _start, end = field_span_at(text, start)
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        line_end = len(text) if line_end < 0 else line_end + 1
        spans.append((line_start, line_end, start, end))
    pieces: list[str] = []
    position = 0
    index = 0
    while index < len(spans):
        group_start, group_end, first, first_end = spans[index]
        group = [(first, first_end)]
        index += 1
        while index < len(spans) and spans[index][0] < group_end:
            group_end = max(group_end, spans[index][1])
            group.append(spans[index][2:])
            index += 1
        part = text[group_start:group_end]
        for start, end in reversed(group):
            # the text after a field is unchanged when it is deleted (the later ones go first)
            part = _delete_at(part, start - group_start, end - group_start)
        pieces.append(text[position:group_start])
        pieces.append(part)
        position = group_end
    pieces.append(text[position:])
    return "".join(pieces)


def insert_after_line(text: str, line: int, new_line: str) -> str:
    """``text`` with ``new_line`` (no newline) inserted after line ``line`` (0: at the top)."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n") and line >= len(lines):
        lines[-1] += newline
    lines.insert(line, new_line + newline)
    return "".join(lines)
