"""Split a pasted command or a command file into words, the way its shell would (nothing is expanded).

* bash: quotes and backslashes as bash reads them; ``$(...)``, ``${...}`` and backticks stay inside their
  word as written (``--user $(id -u):$(id -g)`` is two words); ``#`` at the start of a word comments out the
  rest of the line; a newline, ``;``, ``&&``, ``||``, ``|`` and ``&`` end a command.
* PowerShell: the doctor's own reader of single/double quotes and the backtick; ``#`` lines are comments,
  ``;`` and unescaped newlines end a command. With ``$PSNativeCommandArgumentPassing = 'Legacy'`` in the
  text, each word is then passed as Legacy passing does (the program re-splits it by the Windows rules).
* cmd: the line as cmd.exe reads it (``^`` escapes outside quotes, ``^`` + newline continues), then the
  program's own Windows argument rules (``CommandLineToArgvW``: backslashes before a quote); ``REM`` and
  ``::`` lines are comments, ``&`` ends a command.

A file may hold several commands (a shebang, ``set -e``, ``docker logs -f ...`` on the next line):
:func:`docker_words` returns the words of the ``docker run`` among them.
"""

from __future__ import annotations

import re

__all__ = ["ShellSplitError", "argv_split", "commands", "docker_words"]


class ShellSplitError(ValueError):
    """The text cannot be split (an unterminated quote or substitution); ``str()`` says where."""


def _close_paren(text: str, start: int) -> int:
    """Index of the ``)`` closing the ``(`` at ``start`` (quotes and nesting honoured)."""
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "'":
            end = text.find("'", i + 1)
            if end < 0:
                break
            i = end + 1
            continue
        if ch == '"':
            i = _close_double(text, i) + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ShellSplitError(f"unterminated $( starting at character {start}")


def _close_double(text: str, start: int) -> int:
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == '"':
            return i
        if ch == "$" and text[i + 1 : i + 2] == "(":
            i = _close_paren(text, i + 1) + 1
            continue
        if ch == "`":
            end = text.find("`", i + 1)
            if end < 0:
                break
            i = end + 1
            continue
        i += 1
    raise ShellSplitError(f"unterminated double quote starting at character {start + 1}")


def _bash(text: str) -> list[list[str]]:
    out: list[list[str]] = [[]]
    cur: list[str] = []
    in_word = False
    i, n = 0, len(text)

    def end_word() -> None:
        nonlocal cur, in_word
        if in_word:
            out[-1].append("".join(cur))
        cur, in_word = [], False

    def end_command() -> None:
        end_word()
        if out[-1]:
            out.append([])

    while i < n:
        ch = text[i]
        if ch == "\\":
            if text[i + 1 : i + 2] == "\n":
                i += 2
            elif text[i + 1 : i + 3] == "\r\n":
                i += 3
            else:
                if i + 1 < n:
                    cur.append(text[i + 1])
                    in_word = True
                i += 2
            continue
        if ch == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise ShellSplitError(f"unterminated single quote starting at character {i + 1}")
            cur.append(text[i + 1 : end])
            in_word, i = True, end + 1
            continue
        if ch == '"':
            end = _close_double(text, i)
            j = i + 1
            while j < end:
                if text[j] == "\\" and text[j + 1 : j + 2] in ('"', "\\", "$", "`"):
                    cur.append(text[j + 1])
                    j += 2
                elif text[j] == "\\" and text[j + 1 : j + 2] == "\n":
                    j += 2
                else:
                    cur.append(text[j])
                    j += 1
            in_word, i = True, end + 1
            continue
        if ch == "$" and text[i + 1 : i + 2] == "(":
            end = _close_paren(text, i + 1)
            cur.append(text[i : end + 1])
            in_word, i = True, end + 1
            continue
        if ch == "$" and text[i + 1 : i + 2] == "{":
            end = text.find("}", i)
            if end < 0:
                raise ShellSplitError(f"unterminated ${{ starting at character {i + 1}")
            cur.append(text[i : end + 1])
            in_word, i = True, end + 1
            continue
        if ch == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise ShellSplitError(f"unterminated backtick starting at character {i + 1}")
            cur.append(text[i : end + 1])
            in_word, i = True, end + 1
            continue
        if ch == "#" and not in_word:
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if ch in " \t\r":
            end_word()
            i += 1
            continue
        if ch in "\n;&|":
            end_command()
            i += 1
            continue
        cur.append(ch)
        in_word = True
        i += 1
    end_command()
    return [c for c in out if c]


def _logical_lines(text: str, escape: str) -> list[str]:
    """Lines with ``escape`` + newline continuations joined."""
    return re.split(r"\r?\n", re.sub(re.escape(escape) + r"[ \t]*\r?\n", " ", text))


def argv_split(line: str) -> list[str]:
    """Split a Windows command line as a program's C runtime (and Go) does: ``CommandLineToArgvW`` rules."""
    words: list[str] = []
    cur: list[str] = []
    in_word = quoted = False
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if ch == "\\":
            j = i
            while j < n and line[j] == "\\":
                j += 1
            count = j - i
            if j < n and line[j] == '"':
                cur.append("\\" * (count // 2))
                if count % 2:
                    cur.append('"')
                    i = j + 1
                else:
                    i = j
            else:
                cur.append("\\" * count)
                i = j
            in_word = True
            continue
        if ch == '"':
            if quoted and line[i + 1 : i + 2] == '"':
                cur.append('"')
                i += 2
                continue
            quoted = not quoted
            in_word = True
            i += 1
            continue
        if ch in " \t" and not quoted:
            if in_word:
                words.append("".join(cur))
            cur, in_word = [], False
            i += 1
            continue
        cur.append(ch)
        in_word = True
        i += 1
    if in_word:
        words.append("".join(cur))
    return words


def _cmd_line(line: str) -> list[list[str]]:
    """One cmd.exe line: carets removed outside quotes, split at ``&``/``|``, each part by the argv rules."""
    parts: list[list[str]] = []
    cur: list[str] = []
    quoted = False
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == '"':
            quoted = not quoted
            cur.append(ch)
        elif ch == "^" and not quoted:
            if i + 1 < len(line):
                cur.append(line[i + 1])
            i += 2
            continue
        elif ch in "&|" and not quoted:
            parts.append(argv_split("".join(cur)))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append(argv_split("".join(cur)))
    return [p for p in parts if p]


def _legacy_pass(word: str) -> list[str]:
    """What a program receives for ``word`` under PowerShell's Legacy native argument passing."""
    if word == "":
        return []
    piece = f'"{word}"' if re.search(r"\s", word) and not word.startswith('"') else word
    return argv_split(piece)


def commands(text: str, dialect: str) -> list[list[str]]:
    """Every command in ``text`` as its words."""
    if dialect == "bash":
        return _bash(text)
    from triton_doctor.deploy.winsplit import WindowsSplitError, ps_statements, split_windows

    out: list[list[str]] = []
    if dialect == "cmd":
        for line in _logical_lines(text, "^"):
            stripped = line.strip(" \t\r").lstrip("@")
            if not stripped or re.match(r"(?i)^(rem\b|::)", stripped):
                continue
            out += _cmd_line(stripped)
        return out
    legacy = bool(re.search(r"(?im)^\s*\$PSNativeCommandArgumentPassing\s*=\s*['\"]?Legacy", text))
    for part in ps_statements(text):
        try:
            words = split_windows(part, "`")
        except WindowsSplitError as exc:
            raise ShellSplitError(str(exc)) from exc
        if legacy:
            words = words[:1] + [w for word in words[1:] for w in _legacy_pass(word)]
        if words:
            out.append(words)
    return out


_PREFIX = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def _is_docker_run(words: list[str]) -> bool:
    i = 0
    while i < len(words) and (words[i] in {"sudo", "exec"} or _PREFIX.match(words[i])):
        i += 1
    if i < len(words) and words[i].lower().removesuffix(".exe").endswith("docker"):
        i += 1
        if i < len(words) and words[i] == "container":
            i += 1
        return i < len(words) and words[i] in {"run", "create"}
    return False


def docker_words(text: str, dialect: str) -> list[str]:
    """The words of the ``docker run`` command in ``text`` (the only command when there is no such one)."""
    found = commands(text, dialect)
    for words in found:
        if _is_docker_run(words):
            return words
    return found[0] if found else []


def docker_span(text: str, dialect: str) -> tuple[int, int] | None:
    """``(first, last)`` line index (0-based, inclusive) of the ``docker run`` command in ``text``; None when
    no single group of continued lines holds it. A rewrite replaces only these lines: a shebang, comments and
    other commands around it are kept."""
    escape = {"bash": "\\", "powershell": "`", "cmd": "^"}.get(dialect, "\\")
    lines = text.split("\n")
    start = 0
    while start < len(lines):
        end = start
        while end < len(lines) - 1 and lines[end].rstrip("\r").rstrip(" \t").endswith(escape):
            end += 1
        group = "\n".join(lines[start : end + 1])
        try:
            if any(_is_docker_run(words) for words in commands(group, dialect)):
                return start, end
        except ShellSplitError:
            return None
        start = end + 1
    return None
