"""A command line split into words as bash, PowerShell or cmd.exe would, and which of the three it is."""

from __future__ import annotations

import re
import shlex
from typing import Literal

Dialect = Literal["bash", "powershell", "cmd"]


class DockerCommandError(ValueError):
    """The command line cannot be read; the message says where and how to fix it."""


def guess_dialect(text: str) -> Dialect:
    """Guess the shell a command was written for."""
    if re.search(r"\$env:|`\s*$", text, re.MULTILINE):
        return "powershell"
    if re.search(r"\^\s*$", text, re.MULTILINE) or re.search(r"%[A-Za-z_][A-Za-z0-9_]*%", text):
        return "cmd"
    return "bash"


def _split_windows(text: str, escape: str) -> list[str]:
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
        if ch == "'" and escape == "`":
            end = i + 1
            while True:
                end = text.find("'", end)
                if end < 0:
                    raise DockerCommandError(f"unterminated single quote starting at character {i + 1}")
                if text[end + 1 : end + 2] == "'":
                    end += 2
                    continue
                break
            cur.append(text[i + 1 : end].replace("''", "'"))
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
                raise DockerCommandError(f"unterminated double quote starting at character {i + 1}")
            in_token = True
            i = j + 1
            continue
        cur.append(ch)
        in_token = True
        i += 1
    if in_token:
        tokens.append("".join(cur))
    return tokens


def split_command(text: str, dialect: Dialect | None = None) -> tuple[list[str], Dialect]:
    """Split a pasted command into words, the way its shell would (without expanding variables)."""
    dialect = dialect or guess_dialect(text)
    if dialect == "bash":
        # Drop comment-free line continuations first so "\\\n" never ends up inside a word.
        joined = re.sub(r"\\\r?\n", " ", text)
        try:
            return shlex.split(joined, comments=False, posix=True), dialect
        except ValueError as exc:
            raise DockerCommandError(f"cannot split the command as bash would: {exc}") from exc
    return _split_windows(text, "`" if dialect == "powershell" else "^"), dialect
