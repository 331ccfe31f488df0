"""Line-level edits of config.pbtxt text: the original text is kept, comments and formatting included.

Checks use these to describe a fix (they return new text; :func:`triton_doctor.fixdata.text_edit` makes the
smallest line replacement of it). Positions are the ``(line, column)`` of a field's name as
:func:`triton_doctor.probes.pbtxt.field_positions` reports them.
"""

from __future__ import annotations

__all__ = ["delete_field", "field_span", "insert_after_line", "replace_field", "set_scalar"]

_OPEN = {"{": "}", "[": "]", "<": ">"}


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
        while i < len(text) and stack:
            ch = text[i]
            if ch in "\"'":
                i = _skip_string(text, i)
                continue
            if ch == "#":
                while i < len(text) and text[i] != "\n":
                    i += 1
                continue
            if ch in _OPEN:
                stack.append(_OPEN[ch])
            elif ch == stack[-1]:
                stack.pop()
            i += 1
        if stack:
            raise ValueError("unbalanced brackets")
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
    start = _offset(text, line, column)
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
    start, end = field_span(text, line, column)
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


def insert_after_line(text: str, line: int, new_line: str) -> str:
    """``text`` with ``new_line`` (no newline) inserted after line ``line`` (0: at the top)."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n") and line >= len(lines):
        lines[-1] += newline
    lines.insert(line, new_line + newline)
    return "".join(lines)
