"""Diagnose a Triton + vLLM log against the failure-mode catalog (``catalog.toml``), streaming.

How the log is read (the notes of the knowledge base):

* glog lines come with or without the message quoted (``E0120 ... model_lifecycle.cc:654] "failed to load
  ..."``, recent images quote): patterns match the message text, so both forms match;
* a Python-backend failure appears three times (pb_stub, ``failed to load``, the status table): hits are
  grouped by catalog id, so it is one finding quoting every line number;
* vLLM V1 wraps the real error in ``EngineCore`` lines and ends with ``Engine core initialization failed``;
  wrappers (``role = "wrapper"``) are reported only when no root cause is found, and then with the last
  exception found above them;
* the model status table, the option table and the NGC banner are parsed for the summary.

Memory stays constant whatever the log's size: the log is read in 1 MiB chunks, one combined regex of
literal anchors scans each (lower-cased) chunk at C speed, and only lines holding an anchor are tried
against their entries' patterns. At most a few hits per entry and a window of recent lines are kept.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import BinaryIO, TypeAlias

__all__ = ["CatalogEntry", "Hit", "LogDiagnosis", "load_catalog", "scan", "scan_lines"]

CHUNK = 1 << 20
MAX_HITS = 5
MAX_LINE = 600
WINDOW = 300

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
EXCEPTION = re.compile(r"\b((?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit)): (.+)$")
STUB = re.compile(r"Failed to initialize Python stub: (.+?)(?:\"|$)")
TABLE_ROW = re.compile(r"^\|\s*(.+?)\s*\|\s*(.+?)\s*\|(?:\s*(.+?)\s*\|)?\s*$")
RELEASE = re.compile(r"NVIDIA Release (\d\d\.\d\d)")
SERVER_VERSION = re.compile(r"Triton Server Version (\d+\.\d+\.\d+)")
VLLM_VERSION = re.compile(r"Initializing an? (?:V1 )?LLM engine \(v?([0-9][\w.+-]*)\)")


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One failure mode's log signatures."""

    id: str
    role: str
    anchors: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    cause: str
    remedy: str


@cache
def load_catalog() -> tuple[CatalogEntry, ...]:
    """The shipped catalog, compiled."""
    text = resources.files("triton_doctor.logs").joinpath("catalog.toml").read_text("utf-8")
    entries = []
    for raw in tomllib.loads(text)["entry"]:
        entries.append(
            CatalogEntry(
                id=raw["id"],
                role=raw["role"],
                anchors=tuple(a.lower() for a in raw["anchors"]),
                patterns=tuple(re.compile(p, re.IGNORECASE) for p in raw["patterns"]),
                cause=raw["cause"],
                remedy=raw["remedy"],
            )
        )
    return tuple(entries)


_Trie: TypeAlias = dict[str, "_Trie"]


def trie_regex(words: Iterable[str]) -> re.Pattern[str]:
    """One regex matching any of ``words``, shaped as a prefix trie.

    Python's ``re`` tries every branch of ``a|b|c...`` at every position; a trie (``c(?:annot|ould)...``)
    makes it try one branch per character, which is what makes scanning large logs fast.
    """
    trie: _Trie = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: _Trie) -> str:
        ends = "" in node
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return re.compile(build(trie))


#: Lines that are not failures but carry facts: read when one of these (lower-case) pieces is in them.
FACT_ANCHORS = ("nvidia release", "triton server version", "llm engine (", "failed to initialize python stub")


@dataclass(frozen=True, slots=True)
class Hit:
    """One log line that matched."""

    line_no: int
    text: str
    #: The part of the line the signature matched (the decisive words).
    fragment: str = ""


@dataclass(slots=True)
class LogDiagnosis:
    """What the log says."""

    lines: int = 0
    bytes: int = 0
    #: catalog id -> first hits (line numbers and text)
    hits: dict[str, list[Hit]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    #: For a wrapper with no root cause: the last exception line seen above it.
    wrapper_context: dict[str, Hit] = field(default_factory=dict)
    #: Python stub failures whose exception matched no catalog entry.
    stub_errors: list[Hit] = field(default_factory=list)
    #: model -> (version, status, line number) from the status table
    models: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    release: str | None = None
    server_version: str | None = None
    vllm_version: str | None = None

    def root_causes(self) -> list[str]:
        """Catalog ids of root causes found, in order of first appearance."""
        roles = {e.id: e.role for e in load_catalog()}
        found = [i for i in self.hits if roles.get(i) == "root"]
        return sorted(found, key=lambda i: self.hits[i][0].line_no)


class _Scanner:
    def __init__(self) -> None:
        self.catalog = load_catalog()
        anchors = {a for e in self.catalog for a in e.anchors} | set(FACT_ANCHORS)
        self.anchor_re = trie_regex(anchors)
        self.by_anchor: dict[str, list[CatalogEntry]] = {}
        for entry in self.catalog:
            for anchor in entry.anchors:
                self.by_anchor.setdefault(anchor, []).append(entry)
        self.wrappers = tuple(p for e in self.catalog if e.role == "wrapper" for p in e.patterns)
        self.diag = LogDiagnosis()
        #: The last lines of the previous chunk, for a wrapper at the top of the next one.
        self.prev_tail: list[tuple[int, str]] = []
        self.in_models = False
        self.in_options = False

    def chunk(self, text: str, first_line: int) -> None:
        """Scan whole lines ``text`` whose first line is number ``first_line``."""
        lower = text.lower()
        starts: dict[int, bool] = {}  # line start offset -> the line holds an anchor
        for match in self.anchor_re.finditer(lower):
            starts[text.rfind("\n", 0, match.start()) + 1] = True
        # Table rows (| ... |) carry the model status and options: found with str.find, not a regex.
        if text.startswith("|"):
            starts.setdefault(0, False)
        position = text.find("\n|")
        while position >= 0:
            starts.setdefault(position + 1, False)
            position = text.find("\n|", position + 2)
        position, line_no = 0, first_line
        for start in sorted(starts):
            line_no += text.count("\n", position, start)
            position = start
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
            raw = ANSI.sub("", text[start:end]).rstrip("\r")[: 4 * MAX_LINE]
            if starts[start]:
                self._catalog(line_no, raw, lower[start:end], text, start)
            self._special(line_no, raw)
        tail = text[-WINDOW * 200 :].splitlines()[-WINDOW:]
        last = first_line + text.count("\n") - 1
        self.prev_tail = [(last - len(tail) + 1 + i, line) for i, line in enumerate(tail)]

    def _above(self, text: str, start: int, line_no: int) -> list[tuple[int, str]]:
        above = text[max(0, start - WINDOW * 200) : start].splitlines()[-WINDOW:]
        lines = [(line_no - len(above) + i, line) for i, line in enumerate(above)]
        if len(lines) < WINDOW and start <= WINDOW * 200:
            lines = self.prev_tail[-(WINDOW - len(lines)) :] + lines
        return lines

    def _catalog(self, line_no: int, text: str, lower: str, chunk: str, start: int) -> None:
        # The chunk scan found some anchor here; anchors can overlap (finditer does not return overlapping
        # matches), so every anchor is tested as a substring of this (rare) candidate line.
        tried: set[str] = set()
        for anchor, entries in self.by_anchor.items():
            if anchor not in lower:
                continue
            for entry in entries:
                if entry.id in tried:
                    continue
                tried.add(entry.id)
                found = next((m for p in entry.patterns if (m := p.search(text))), None)
                if found is None:
                    continue
                diag = self.diag
                diag.counts[entry.id] = diag.counts.get(entry.id, 0) + 1
                hits = diag.hits.setdefault(entry.id, [])
                if len(hits) < MAX_HITS:
                    hits.append(Hit(line_no, text[:MAX_LINE], found.group(0)[:200]))
                if entry.role == "wrapper" and entry.id not in diag.wrapper_context:
                    for prev_no, prev_raw in reversed(self._above(chunk, start, line_no)):
                        prev = ANSI.sub("", prev_raw)
                        if EXCEPTION.search(prev) and not any(p.search(prev) for p in self.wrappers):
                            diag.wrapper_context[entry.id] = Hit(prev_no, prev[:MAX_LINE])
                            break

    def _special(self, line_no: int, text: str) -> None:
        diag = self.diag
        stripped = text.strip()
        if stripped.startswith("|") and stripped.endswith("|"):
            row = TABLE_ROW.match(stripped)
            if row:
                first, second, third = row.group(1), row.group(2), row.group(3)
                if first == "Model" and second == "Version":
                    self.in_models, self.in_options = True, False
                elif first == "Option" and second == "Value":
                    self.in_options, self.in_models = True, False
                elif first in {"Backend", "Repository Agent"}:
                    self.in_models = self.in_options = False
                elif self.in_models and third is not None:
                    diag.models[first] = (second, third, line_no)
                elif self.in_options and third is None:
                    diag.options[first] = second
            return
        if "NVIDIA Release" in text and (m := RELEASE.search(text)):
            diag.release = m.group(1)
        elif "Triton Server Version" in text and (m := SERVER_VERSION.search(text)):
            diag.server_version = m.group(1)
        elif "LLM engine (" in text and (m := VLLM_VERSION.search(text)):
            diag.vllm_version = m.group(1)
        elif "Failed to initialize Python stub" in text and (m := STUB.search(text)):
            exc = m.group(1)
            if not any(p.search(exc) for e in self.catalog for p in e.patterns):
                diag.stub_errors.append(Hit(line_no, text[:MAX_LINE]))


def scan(stream: BinaryIO) -> LogDiagnosis:
    """Diagnose a log read from a binary stream, in constant memory."""
    scanner = _Scanner()
    pending = b""
    line_no = 1
    total = 0
    while True:
        block = stream.read(CHUNK)
        if not block:
            break
        total += len(block)
        data = pending + block
        cut = data.rfind(b"\n")
        if cut < 0:
            pending = data
            if len(pending) > 16 * CHUNK:  # a pathological line without newline: scan what we have
                text = pending.decode("utf-8", "replace")
                scanner.chunk(text, line_no)
                pending = b""
            continue
        whole, pending = data[: cut + 1], data[cut + 1 :]
        text = whole.decode("utf-8", "replace")
        scanner.chunk(text, line_no)
        line_no += text.count("\n")
    if pending:
        text = pending.decode("utf-8", "replace")
        scanner.chunk(text, line_no)
        line_no += 1
    scanner.diag.lines = line_no - 1
    scanner.diag.bytes = total
    return scanner.diag


def scan_lines(lines: Iterable[str]) -> LogDiagnosis:
    """Diagnose log lines (a container's log stream, a test's list)."""
    scanner = _Scanner()
    buffer: list[str] = []
    size = 0
    line_no = 1
    count = 0
    for line in lines:
        piece = line if line.endswith("\n") else line + "\n"
        buffer.append(piece)
        size += len(piece)
        count += 1
        if size >= CHUNK:
            scanner.chunk("".join(buffer), line_no)
            line_no += len(buffer)
            buffer, size = [], 0
    if buffer:
        scanner.chunk("".join(buffer), line_no)
    scanner.diag.lines = count
    return scanner.diag
