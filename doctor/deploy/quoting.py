"""One quoting function per shell the doctor writes commands for, and the value formats inside them.

Everything the doctor prints for the user to paste or writes into their command file goes through here:

* :func:`bash`: POSIX single quotes (a word is never expanded: ``$()``, backticks, ``!``, newlines stay text).
* :func:`powershell`: single quotes with every quote character PowerShell accepts as one doubled (``'``
  and the typographic U+2018..U+201B, which PowerShell also reads as single quotes). Native commands get
  their arguments in one of two modes (``$PSNativeCommandArgumentPassing``: Legacy in Windows PowerShell 5.1,
  Standard from 7.3); :func:`powershell_needs_legacy` tells the renderer when a word passes differently, and
  :func:`powershell` with ``legacy=True`` escapes it for the legacy rules (the renderer then pins Legacy, the
  one mode both versions have).
* :func:`cmd`: the word quoted for the program's argument parser (``CommandLineToArgvW`` rules: backslashes
  before a quote doubled, a trailing backslash doubled), then every character cmd.exe treats specially
  (``" & | < > ( ) ^ % !``) escaped with ``^``: nothing stays expandable (``%VAR%`` is printed, not read),
  and cmd never sees an open quote, so no escape is ever inside one. In a batch file ``%`` is ``%%``.
* :func:`compose`: a YAML double-quoted scalar with ``$`` written ``$$`` (Compose interpolates a bare
  ``$``), non-ASCII kept as UTF-8, control characters escaped.
* :func:`mount_value`: a ``--mount`` value, each ``key=value`` field CSV-quoted when it holds a comma or a
  quote (Docker reads the value as one CSV record).
* :func:`url_path_segment` and :func:`python_str`: a model name inside a URL and inside a Python literal.

A *reference* to a host variable (``-e HUGGING_FACE_HUB_TOKEN=$HF_TOKEN``) is written by :func:`env_ref`
for each shell, so the value is still read from the user's environment after the doctor rewrites the line.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import urllib.parse
from typing import Literal

__all__ = [
    "QuotingError",
    "Shell",
    "bash",
    "cmd",
    "compose",
    "env_ref",
    "mount_value",
    "powershell",
    "powershell_needs_legacy",
    "python_str",
    "quote",
    "url_path_segment",
]

Shell = Literal["bash", "powershell", "cmd", "compose"]


class QuotingError(ValueError):
    """A word cannot be written for a shell (cmd.exe has no way to pass a newline)."""


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def bash(word: str) -> str:
    """``word`` as one literal bash word."""
    if "\0" in word:
        raise QuotingError("a NUL byte cannot be passed as an argument")
    return shlex.quote(word)


_PS_SAFE = re.compile(r"^[A-Za-z0-9_./:=+-]+$")
#: The characters PowerShell reads as a single quote (it doubles any of them inside '...').
_PS_QUOTES = "'\u2018\u2019\u201a\u201b"


def powershell_needs_legacy(word: str) -> bool:
    """True when ``word`` reaches a native program differently under Legacy and Standard argument passing."""
    return word == "" or '"' in word or (bool(re.search(r"\s", word)) and word.endswith("\\"))


def _legacy_argv(word: str) -> str:
    """``word`` as Legacy passing must be given it: PowerShell adds the outer quotes but escapes nothing."""
    if word == "":
        return '""'
    out: list[str] = []
    slashes = 0
    for ch in word:
        if ch == "\\":
            slashes += 1
            continue
        if ch == '"':
            out.append("\\" * (2 * slashes + 1) + '"')
        else:
            out.append("\\" * slashes + ch)
        slashes = 0
    tail = "\\" * slashes
    if tail and re.search(r"\s", word):
        tail *= 2  # PowerShell closes the quotes it adds right after it
    return "".join(out) + tail


def powershell(word: str, *, legacy: bool = False) -> str:
    """``word`` as one literal PowerShell argument (``legacy``: escaped for Legacy native argument passing)."""
    if "\0" in word:
        raise QuotingError("a NUL byte cannot be passed as an argument")
    if legacy:
        word = _legacy_argv(word)
    # Windows PowerShell splits a bare -word at "." or "=" in some versions: quote those too.
    if _PS_SAFE.fullmatch(word) and not (word.startswith("-") and ("=" in word or "." in word)):
        return word
    return "'" + "".join(ch * 2 if ch in _PS_QUOTES else ch for ch in word) + "'"


_CMD_META = frozenset('"&|<>()^%!')


def cmd(word: str, *, batch: bool = False) -> str:
    """``word`` as one literal argument on a cmd.exe line (``batch``: in a .bat/.cmd file)."""
    if any(ch in word for ch in "\r\n\0"):
        raise QuotingError(f"cmd.exe cannot pass {word!r}: it holds a line break")
    out: list[str] = []
    for ch in subprocess.list2cmdline([word]):
        if ch == "%" and batch:
            out.append("%%")
        elif ch in _CMD_META:
            out.append("^" + ch)
        else:
            out.append(ch)
    return "".join(out)


_YAML_ESCAPE = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def compose(value: str, *, interpolate: bool = False) -> str:
    """``value`` as a YAML double-quoted scalar Compose reads back literally (``$`` -> ``$$``)."""
    if not interpolate:
        value = value.replace("$", "$$")
    out: list[str] = ['"']
    for ch in value:
        code = ord(ch)
        if ch in _YAML_ESCAPE:
            out.append(_YAML_ESCAPE[ch])
        elif code < 0x20 or 0x7F <= code <= 0x9F or code in (0x2028, 0x2029, 0xFEFF) or 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}" if code > 0xFF else f"\\x{code:02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def quote(shell: Shell, word: str) -> str:
    """:func:`bash`, :func:`powershell`, :func:`cmd` or :func:`compose` by name."""
    if shell == "bash":
        return bash(word)
    if shell == "powershell":
        return powershell(word)
    if shell == "cmd":
        return cmd(word)
    return compose(word)


def env_ref(shell: Shell, name: str, variable: str) -> str:
    """``NAME=<the host's $variable>`` as one word for ``shell`` (both names must be identifiers)."""
    if not _NAME.fullmatch(name) or not _NAME.fullmatch(variable):
        raise QuotingError(f"{name}={variable}: not variable names")
    if shell == "bash":
        return f'{name}="${{{variable}}}"'
    if shell == "powershell":
        return f'"{name}=$env:{variable}"'
    if shell == "cmd":
        return f'^"{name}=%{variable}%^"'
    return compose(f"{name}=${{{variable}}}", interpolate=True)


def _csv_field(text: str) -> str:
    if any(ch in text for ch in ',"\r\n') or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


def mount_value(mount_type: str, source: str, target: str, readonly: bool = False) -> str:
    """``type=...,source=...,target=...[,readonly]`` with each field CSV-quoted where it needs it."""
    fields = [f"type={mount_type}", f"source={source}", f"target={target}"]
    return ",".join(_csv_field(f) for f in fields) + (",readonly" if readonly else "")


def url_path_segment(text: str) -> str:
    """``text`` percent-encoded as one URL path segment (no ``/``, ``$``, quotes or spaces left)."""
    return urllib.parse.quote(text, safe="")


def python_str(text: str) -> str:
    """``text`` as a Python string literal."""
    return repr(text)


def json_text(value: object) -> str:
    """``value`` as JSON (ASCII, so the line is the same in every terminal encoding)."""
    return json.dumps(value)
