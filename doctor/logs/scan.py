"""The log scanner: one pass over a server log, keeping what the diagnosis needs (hits, facts, the status table)."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import BinaryIO

from triton_doctor.logs.catalog import (
    CHUNK,
    CONTINUATION,
    EXCEPTION,
    FACT_ANCHORS,
    LOGGER_PREFIX,
    MATCH_LINE,
    MAX_HITS,
    MAX_LINE,
    NOT_CONTINUATION,
    RELEASE,
    SERVER_VERSION,
    TABLE_ROW,
    VLLM_VERSION,
    WINDOW,
    CatalogEntry,
    Hit,
    LogDiagnosis,
    load_catalog,
)
from triton_doctor.logs.prefilter import Prefilter
from triton_doctor.logs.shapes import ANSI, normalise, outer


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def exception_cause(lines: list[str], index: int) -> str | None:
    """The exception message of ``lines[index]`` joined over its continuation lines, or None.

    A continuation line carries the same logger prefix as the exception line (vLLM repeats its prefix on
    every line of a message) or none when the exception line had none, and is not a traceback marker.
    """
    first = normalise(lines[index])
    found = EXCEPTION.search(first)
    if found is None:
        return None
    head = outer(lines[index])
    prefix = LOGGER_PREFIX.match(head)
    key = prefix.group(0) if prefix else None
    parts = [found.group(0).strip()]
    blank = False
    for raw in lines[index + 1 : index + 1 + CONTINUATION]:
        shape = outer(raw)
        other = LOGGER_PREFIX.match(shape)
        if (other.group(0) if other else None) != key:
            break
        text = normalise(raw).strip()
        if not text:  # huggingface_hub puts one blank line between the status and the message
            if blank:
                break
            blank = True
            continue
        if text.startswith(NOT_CONTINUATION) or EXCEPTION.search(text):
            break
        parts.append(text)
    return " ".join(parts)


class _Scanner:
    def __init__(self, secrets: Collection[str] | None) -> None:
        self.catalog = load_catalog()
        anchors = {a for e in self.catalog for a in e.anchors} | set(FACT_ANCHORS)
        self.prefilter = Prefilter(anchors)
        self.by_anchor: dict[str, list[CatalogEntry]] = {}
        for entry in self.catalog:
            for anchor in entry.anchors:
                self.by_anchor.setdefault(anchor, []).append(entry)
        self.wrappers = tuple(p for e in self.catalog if e.role == "wrapper" for p in e.patterns)
        self.diag = LogDiagnosis()
        self._secrets = secrets
        #: The last bytes of the previous block, for a wrapper at the top of the next one.
        self.prev_tail = b""
        self.in_models = False
        self.in_options = False

    def clean(self, text: str, limit: int) -> str:
        """Redact, then cut: a secret is never half-quoted."""
        from triton_doctor.core.secrets import redact

        if self._secrets is None:
            from triton_doctor.deploy.target import Target
            from triton_doctor.deploy.tokens import known_secrets

            self._secrets = known_secrets(Target(repo="."))
        return redact(text, set(self._secrets))[:limit]

    def block(self, data: bytes, first_line: int, limit: int | None = None) -> None:
        """Scan whole lines ``data`` whose first line is number ``first_line``.

        ``limit``: scan only the lines starting before it; the rest of ``data`` (the next line) is there to be
        joined with the last scanned line when a signature is wrapped over the two.
        """
        # Candidate lines: those holding an anchor, and table rows (| ... |) with the model status and options.
        starts, tables = self.prefilter.line_starts(data)
        if limit is not None:
            starts = {s for s in starts if s < limit}
            tables = {t for t in tables if t < limit}
        position, line_no = 0, first_line
        for start in sorted(starts | tables):
            line_no += data.count(b"\n", position, start)
            position = start
            end = data.find(b"\n", start)
            end = len(data) if end < 0 else end
            raw = _decode(data[start:end])
            text = normalise(raw[: 4 * MATCH_LINE])[:MATCH_LINE]
            if start in starts:
                self._catalog(line_no, raw, text, data, start, end)
            self._special(line_no, raw, text)
        # The end of this block, for a wrapper at the top of the next one (split only when needed).
        self.prev_tail = data[: len(data) if limit is None else limit][-WINDOW * 200 :]

    def _above(self, data: bytes, start: int, line_no: int) -> tuple[list[str], int]:
        """Up to WINDOW lines above ``start`` and the line number of the first of them."""
        above = [_decode(t) for t in data[max(0, start - WINDOW * 200) : start].split(b"\n")]
        if above and above[-1] == "":
            above.pop()
        above = above[-WINDOW:]
        first = line_no - len(above)
        if len(above) < WINDOW and start <= WINDOW * 200 and self.prev_tail:
            tail = self.prev_tail.split(b"\n")
            if tail and tail[-1] == b"":
                tail.pop()
            extra = [_decode(t) for t in tail[-(WINDOW - len(above)) :]]
            above = extra + above
            first -= len(extra)
        return above, first

    def _next_line(self, data: bytes, end: int) -> str:
        if end >= len(data):
            return ""
        stop = data.find(b"\n", end + 1)
        return normalise(_decode(data[end + 1 : stop if stop >= 0 else len(data)][: 4 * MATCH_LINE]))

    def _catalog(self, line_no: int, raw: str, text: str, data: bytes, start: int, end: int) -> None:
        # The prefilter found some anchor here; anchors can overlap, so every anchor is tested as a
        # substring of this (rare) candidate line, and its entries' patterns tried on the message.
        lower = text.lower()
        joined: str | None = None
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
                    # A message wrapped over two lines: try the line joined with the next one.
                    if joined is None:
                        joined = text.rstrip() + " " + self._next_line(data, end).strip()
                    found = next((m for p in entry.patterns if (m := p.search(joined))), None)
                    if found is None:  # hard-wrapped at a fixed column, mid-word: no space at the cut
                        glued = text.rstrip() + self._next_line(data, end).strip()
                        found = next((m for p in entry.patterns if (m := p.search(glued))), None)
                    if found is None:
                        continue
                self._record(entry, line_no, raw, found, data, start)

    def _record(
        self, entry: CatalogEntry, line_no: int, raw: str, found: re.Match[str], data: bytes, start: int
    ) -> None:
        diag = self.diag
        diag.counts[entry.id] = diag.counts.get(entry.id, 0) + 1
        hits = diag.hits.setdefault(entry.id, [])
        if len(hits) < MAX_HITS:
            groups = tuple((k, self.clean(v, 200)) for k, v in found.groupdict().items() if v)
            line = ANSI.sub("", raw).rstrip("\r")
            hits.append(Hit(line_no, self.clean(line, MAX_LINE), self.clean(found.group(0), 200), groups))
        if entry.role == "wrapper" and entry.id not in diag.wrapper_context:
            context = self._deepest_cause(raw, line_no, data, start)
            if context is not None:
                diag.wrapper_context[entry.id] = context

    def _deepest_cause(self, raw: str, line_no: int, data: bytes, start: int) -> Hit | None:
        """The exception a wrapper line reports: its own inline cause, else the last one above it."""

        def usable(message: str) -> bool:
            found = EXCEPTION.search(message)
            return found is not None and not any(p.search(found.group(0)) for p in self.wrappers)

        own = normalise(raw)
        if usable(own):
            inline = EXCEPTION.search(own)
            assert inline is not None
            return Hit(line_no, self.clean(inline.group(0).strip(), MAX_LINE))
        above, first = self._above(data, start, line_no)
        for index in range(len(above) - 1, -1, -1):
            if usable(normalise(above[index])):
                cause = exception_cause(above, index)
                if cause is not None:
                    return Hit(first + index, self.clean(cause, MAX_LINE))
        return None

    def _special(self, line_no: int, raw: str, text: str) -> None:
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
                    diag.models[first] = (second, self.clean(third, MAX_LINE), line_no)
                elif self.in_options and third is None:
                    diag.options[first] = self.clean(second, MAX_LINE)
            return
        if "NVIDIA Release" in text and (m := RELEASE.search(text)):
            diag.release = m.group(1)
        elif "Triton Server Version" in text and (m := SERVER_VERSION.search(text)):
            diag.server_version = m.group(1)
        elif "LLM engine (" in text and (m := VLLM_VERSION.search(text)):
            diag.vllm_version = m.group(1)


def scan(stream: BinaryIO, secrets: Collection[str] | None = None) -> LogDiagnosis:
    """Diagnose a log read from a binary stream, in constant memory.

    ``secrets``: values to redact from every quoted line (default: every token the doctor knows of).
    """
    scanner = _Scanner(secrets)
    pending = b""
    line_no = 1
    total = 0
    while True:
        block = stream.read(CHUNK)
        if not block:
            break
        total += len(block)
        data = pending + block if pending else block
        cut = data.rfind(b"\n")
        # The last whole line is scanned with the next block, so that it is read after the line before it
        # (a signature wrapped over a block boundary is joined like any other).
        carry = data.rfind(b"\n", 0, cut) if cut > 0 else -1
        if carry < 0:
            pending = data
            if len(pending) > 16 * CHUNK:  # a pathological line without newline: scan what we have
                scanner.block(pending, line_no)
                line_no += pending.count(b"\n")
                pending = b""
            continue
        scanner.block(data[: cut + 1], line_no, limit=carry + 1)
        line_no += data.count(b"\n", 0, carry + 1)
        pending = data[carry + 1 :]
    if pending:
        scanner.block(pending, line_no)
        line_no += pending.count(b"\n") + (0 if pending.endswith(b"\n") else 1)
    scanner.diag.lines = line_no - 1
    scanner.diag.bytes = total
    return scanner.diag


def scan_lines(lines: Iterable[str], secrets: Collection[str] | None = None) -> LogDiagnosis:
    """Diagnose log lines (a container's log stream, a test's list)."""
    scanner = _Scanner(secrets)
    buffer: list[bytes] = []
    size = 0
    line_no = 1
    count = 0
    for line in lines:
        piece = (line if line.endswith("\n") else line + "\n").encode("utf-8", "replace")
        buffer.append(piece)
        size += len(piece)
        count += 1
        if size >= CHUNK:
            joined = b"".join(buffer)
            scanner.block(joined, line_no)
            line_no += joined.count(b"\n")
            buffer, size = [], 0
    if buffer:
        scanner.block(b"".join(buffer), line_no)
    scanner.diag.lines = count
    return scanner.diag
