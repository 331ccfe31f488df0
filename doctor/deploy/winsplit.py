"""Words as PowerShell and cmd.exe split them: quotes group, backslashes stay literal, the shell's escape character."""

from __future__ import annotations


class WindowsSplitError(ValueError):
    """A quote that never closes; the message says where."""


_PS_SINGLE = "'\u2018\u2019\u201a\u201b"


def split_windows(text: str, escape: str) -> list[str]:
    """Split like PowerShell (escape "`") or cmd (escape "^"): quotes group, backslashes stay literal."""
    tokens: list[str] = []
    cur: list[str] = []
    in_token = False
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == escape:
            if i + 1 < n and text[i + 1] in "\r\n":  # line continuation
                i += 2 if text[i + 1 : i + 3] != "\r\n" else 3
                continue
            if i + 1 < n:
                cur.append(text[i + 1])
                in_token = True
                i += 2
                continue
            i += 1
            continue
        if ch.isspace():
            if in_token:
                tokens.append("".join(cur))
                cur, in_token = [], False
            i += 1
            continue
        if ch in _PS_SINGLE and escape == "`":
            # PowerShell reads ' and the typographic U+2018..U+201B alike; any two of them are one literal quote
            body: list[str] = []
            end = i + 1
            while True:
                if end >= n:
                    raise WindowsSplitError(f"unterminated single quote starting at character {i + 1}")
                if text[end] in _PS_SINGLE:
                    if end + 1 < n and text[end + 1] in _PS_SINGLE:
                        body.append(text[end])
                        end += 2
                        continue
                    break
                body.append(text[end])
                end += 1
            cur.append("".join(body))
            in_token = True
            i = end + 1
            continue
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                if text[j] == escape and escape == "`" and j + 1 < n:
                    cur.append(text[j + 1])
                    j += 2
                    continue
                cur.append(text[j])
                j += 1
            if j >= n:
                raise WindowsSplitError(f"unterminated double quote starting at character {i + 1}")
            in_token = True
            i = j + 1
            continue
        cur.append(ch)
        in_token = True
        i += 1
    if in_token:
        tokens.append("".join(cur))
    return tokens


_PS_DOUBLE = '"\u201c\u201d\u201e'


def ps_statements(text: str) -> list[str]:
    """PowerShell statements: split at ``;`` and newlines outside quotes; backtick-newline continues a line,
    ``#`` at the start of a word comments out the rest of the line."""
    parts: list[str] = []
    cur: list[str] = []
    quote = ""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if quote:
            cur.append(ch)
            if quote == "'" and ch in _PS_SINGLE:
                if i + 1 < n and text[i + 1] in _PS_SINGLE:
                    cur.append(text[i + 1])
                    i += 2
                    continue
                quote = ""
            elif quote == '"' and ch == "`" and i + 1 < n:
                cur.append(text[i + 1])
                i += 2
                continue
            elif quote == '"' and ch in _PS_DOUBLE:
                quote = ""
            i += 1
            continue
        if ch == "`" and i + 1 < n:
            if text[i + 1] == "\n":
                cur.append(" ")
                i += 2
                continue
            if text[i + 1 : i + 3] == "\r\n":
                cur.append(" ")
                i += 3
                continue
            cur.append(text[i : i + 2])
            i += 2
            continue
        if ch in _PS_SINGLE:
            quote = "'"
        elif ch in _PS_DOUBLE:
            quote = '"'
        elif ch in ";\n":
            parts.append("".join(cur))
            cur = []
            i += 1
            continue
        elif ch == "#" and (not cur or cur[-1] in " \t\r"):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return [p for p in parts if p.strip(" \t\r")]
