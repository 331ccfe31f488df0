"""Minimal edits of JSON text (model.json): a key is set, renamed or deleted where it stands, so the
user's indentation, key order and number formatting survive. Also the repair of the two JSON mistakes the
doctor fixes by itself: comments and trailing commas.
"""

from __future__ import annotations

import json
import re

__all__ = ["JsonEditError", "delete_key", "rename_key", "repair_json", "set_key"]


class JsonEditError(ValueError):
    """The text is not a JSON object this module can edit."""


def _string_end(text: str, i: int) -> int:
    i += 1
    while i < len(text) and text[i] != '"':
        i += 2 if text[i] == "\\" else 1
    return i + 1


def _value_end(text: str, i: int) -> int:
    if text[i] == '"':
        return _string_end(text, i)
    if text[i] in "{[":
        depth = 0
        while i < len(text):
            ch = text[i]
            if ch == '"':
                i = _string_end(text, i)
                continue
            if ch in "{[":
                depth += 1
            elif ch in "}]":
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        raise JsonEditError("unbalanced brackets")
    match = re.compile(r"[^\s,}\]]+").match(text, i)
    if match is None:
        raise JsonEditError(f"no value at offset {i}")
    return match.end()


def _members(text: str) -> tuple[int, int, list[tuple[str, int, int, int, int]]]:
    """``(open brace, close brace, [(key, key start, key end, value start, value end)])`` of the top object."""
    try:
        data = json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as exc:
        raise JsonEditError(f"not valid JSON: {exc.msg} at line {exc.lineno}") from exc
    if not isinstance(data, dict):
        raise JsonEditError("not a JSON object")
    i = text.index("{")
    opening = i
    i += 1
    members: list[tuple[str, int, int, int, int]] = []
    while True:
        while text[i] in " \t\r\n,":
            i += 1
        if text[i] == "}":
            return opening, i, members
        key_start = i
        key_end = _string_end(text, i)
        key = json.loads(text[key_start:key_end])
        i = key_end
        while text[i] in " \t\r\n:":
            i += 1
        value_start = i
        value_end = _value_end(text, i)
        members.append((key, key_start, key_end, value_start, value_end))
        i = value_end


def set_key(text: str, key: str, value_json: str) -> str:
    """``text`` with ``key`` set to ``value_json`` (JSON text): in place when present, else appended."""
    opening, closing, members = _members(text)
    found = [m for m in members if m[0] == key]
    if found:
        # every occurrence (duplicates: the last wins for json.load, so all agree afterwards)
        for _k, _ks, _ke, vs, ve in reversed(found):
            text = text[:vs] + value_json + text[ve:]
        return text
    entry = json.dumps(key) + ": " + value_json
    if not members:
        return text[: opening + 1] + "\n  " + entry + "\n" + text[closing:]
    last = members[-1]
    line_start = text.rfind("\n", 0, last[1]) + 1
    indent = text[line_start : last[1]] if not text[line_start : last[1]].strip() else " "
    newline = "\r\n" if "\r\n" in text else "\n"
    sep = "," + newline + indent if indent.strip() == "" and "\n" in text[opening:closing] else ", "
    return text[: last[4]] + sep + entry + text[last[4] :]


def rename_key(text: str, key: str, new_key: str) -> str:
    """``text`` with the key ``key`` renamed to ``new_key`` where it stands."""
    _o, _c, members = _members(text)
    for name, ks, ke, _vs, _ve in reversed(members):
        if name == key:
            text = text[:ks] + json.dumps(new_key) + text[ke:]
    return text


def delete_key(text: str, key: str, *, keep_last: bool = False) -> str:
    """``text`` without ``key`` (its line too, when it stood alone on it); ``keep_last``: only the earlier
    occurrences of a duplicated key go (the one ``json.load`` keeps stays)."""
    _opening, _closing, members = _members(text)
    last = max((i for i, m in enumerate(members) if m[0] == key), default=-1)
    for index in reversed(range(len(members))):
        name, ks, _ke, _vs, ve = members[index]
        if name != key or (keep_last and index == last):
            continue
        start, end = ks, ve
        j = end
        while j < len(text) and text[j] in " \t\r\n":
            j += 1
        if j < len(text) and text[j] == ",":
            end = j + 1
        elif index > 0:
            # the last member: take the comma before it
            start = members[index - 1][4]
        line_start = text.rfind("\n", 0, ks) + 1
        if not text[line_start:ks].strip() and start == ks:
            start = line_start
            line_end = text.find("\n", end)
            if line_end >= 0 and not text[end:line_end].strip():
                end = line_end + 1
        elif start == ks:
            while end < len(text) and text[end] in " \t":
                end += 1
        text = text[:start] + text[end:]
    return text


#: Larger texts are not repaired (they are not a hand-written model.json).
MAX_REPAIR_CHARS = 256 * 1024


def repair_json(text: str) -> str | None:
    """``text`` without ``//``/``#``/``/* */`` comments and trailing commas; None when that does not make it
    valid JSON (any other mistake is not the doctor's to guess)."""
    if len(text) > MAX_REPAIR_CHARS:  # a model.json is a few hundred bytes; the comment scan is not linear
        return None
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            end = _string_end(text, i)
            out.append(text[i:end])
            i = end
            continue
        if text.startswith("//", i) or ch == "#":
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            # a line that held only the comment goes entirely
            line_start = "".join(out).rfind("\n") + 1
            joined = "".join(out)
            if not joined[line_start:].strip():
                out = [joined[:line_start]]
                i = end + 1
            else:
                out = [joined.rstrip(" \t")]
                i = end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                return None
            i = end + 2
            continue
        if ch == ",":
            j = i + 1
            while j < len(text):
                if text[j] in " \t\r\n":
                    j += 1
                elif text.startswith("//", j) or text[j] == "#":
                    nl = text.find("\n", j)
                    j = len(text) if nl < 0 else nl
                else:
                    break
            if j < len(text) and text[j] in "}]":
                i += 1
                continue
        out.append(ch)
        i += 1
    fixed = "".join(out)
    try:
        json.loads(fixed.removeprefix("\ufeff"))
    except (ValueError, RecursionError):  # JSONDecodeError, an over-long integer, deep nesting
        return None
    return fixed
