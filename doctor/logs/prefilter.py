"""Find the few lines of a large log that hold one of the catalog's literal anchors, at C speed.

Chosen by measurement (64 MiB of runtime log lines, 2 cores, CPython 3.11; ``benchmarks/logscan.py``
prints the whole-command figures): Hyperscan (``hyperscan`` wheel, caseless literals on the raw bytes)
~1500 MiB/s; RE2 (``google-re2``) ~580 MiB/s; Aho-Corasick (``pyahocorasick``, needs decoded, lower-cased
text) ~95 MiB/s; Python ``re`` with a trie-shaped alternation ~27 MiB/s. Hyperscan is the dependency
(PyPI wheels for CPython 3.11 on Linux x86_64/aarch64, macOS x86_64/arm64 and Windows x86_64); where it
cannot be imported, the trie regex over ``bytes.lower()`` keeps the same answers, about 20x slower.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any, TypeAlias

__all__ = ["Prefilter", "trie_regex"]

_Trie: TypeAlias = dict[bytes, "_Trie"]


def trie_regex(words: Iterable[bytes]) -> re.Pattern[bytes]:
    """One regex matching any of ``words``, shaped as a prefix trie (one branch tried per byte)."""
    trie: _Trie = {}
    for word in words:
        node = trie
        for byte in word:
            node = node.setdefault(bytes([byte]), {})
        node[b""] = {}

    def build(node: _Trie) -> bytes:
        ends = b"" in node
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return b""
        body = branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"
        return b"(?:" + body + b")?" if ends else body

    return re.compile(build(trie))


_LOCAL = threading.local()


def _compile(words: list[bytes]) -> Any:
    """A Hyperscan database of the caseless literals ``words`` plus ``|`` at a line end, or None."""
    hyperscan: Any
    try:
        import hyperscan  # type: ignore[import-not-found,import-untyped,no-redef,unused-ignore]
    except ImportError:
        return None
    if hyperscan is None or not words:  # (None: blocked, as benchmarks/logscan.py does for the fallback)
        return None
    try:
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(
            expressions=[re.escape(w) for w in words] + [rb"\|\r?\n"],
            ids=list(range(len(words) + 1)),
            elements=len(words) + 1,
            flags=[hyperscan.HS_FLAG_CASELESS] * len(words) + [0],
        )
    except Exception:  # noqa: BLE001 - a broken native build: fall back, same answers
        return None
    return db


class Prefilter:
    """Start offsets of the lines of a block that hold any of the (lower-case ASCII) anchors.

    It also finds the lines that end with ``|`` (the rows of Triton's model and option tables), in the
    same pass: a second ``bytes.find`` over each block cost more than the whole anchor scan.
    """

    def __init__(self, anchors: Iterable[str]) -> None:
        words = sorted({a.lower().encode() for a in anchors if a})
        self.engine = "python-re"
        self._db: Any = None
        self._words = len(words)
        # A compiled database (~25 ms to build) is reused, per thread: its scratch space is not thread-safe.
        cache: dict[tuple[bytes, ...], Any] = _LOCAL.__dict__.setdefault("databases", {})
        key = tuple(words)
        if key not in cache:
            cache[key] = _compile(words)
        if cache[key] is not None:
            self._db, self.engine = cache[key], "hyperscan"
        self._regex = trie_regex(words) if words and self._db is None else None

    def line_starts(self, data: bytes) -> tuple[set[int], set[int]]:
        """Offsets (in ``data``) of the starts of lines holding an anchor, and of lines ending with ``|``."""
        starts: set[int] = set()
        tables: set[int] = set()
        if self._db is not None:
            found: list[tuple[int, int]] = []

            def on_match(ident: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
                found.append((ident, to))

            self._db.scan(data, match_event_handler=on_match)
            last_line = -1
            for ident, end in found:
                if ident == self._words:
                    tables.add(data.rfind(b"\n", 0, end - 1) + 1)
                    continue
                if end <= last_line:
                    continue
                starts.add(data.rfind(b"\n", 0, end) + 1)
                newline = data.find(b"\n", end)
                last_line = len(data) if newline < 0 else newline
        else:
            if self._regex is not None:
                lower = data.lower()
                for match in self._regex.finditer(lower):
                    starts.add(lower.rfind(b"\n", 0, match.start()) + 1)
            position = data.find(b"|\n")
            while position >= 0:
                tables.add(data.rfind(b"\n", 0, position) + 1)
                position = data.find(b"|\n", position + 1)
            position = data.find(b"|\r\n")
            while position >= 0:
                tables.add(data.rfind(b"\n", 0, position) + 1)
                position = data.find(b"|\r\n", position + 1)
        if data.endswith(b"|"):
            tables.add(data.rfind(b"\n") + 1)
        return starts, tables
