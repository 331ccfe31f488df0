"""The failure catalog (catalog.toml) and what a scan of a log gives: hits, facts, the diagnosis."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

__all__ = ["CatalogEntry", "Hit", "LogDiagnosis", "load_catalog"]

CHUNK = 1 << 20
MAX_HITS = 5
MAX_LINE = 600
#: A candidate line longer than this is matched on its first part only (redaction still sees all of it).
MATCH_LINE = 4 * MAX_LINE
WINDOW = 300
#: How many continuation lines an exception message may span when quoted as a cause.
CONTINUATION = 4

EXCEPTION = re.compile(r"\b((?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit)): (.+)$")
TABLE_ROW = re.compile(r"^\|\s*(.+?)\s*\|\s*(.+?)\s*\|(?:\s*(.+?)\s*\|)?\s*$")
RELEASE = re.compile(r"NVIDIA Release (\d\d\.\d\d)")
SERVER_VERSION = re.compile(r"Triton Server Version (\d+\.\d+\.\d+)")
VLLM_VERSION = re.compile(r"Initializing an? (?:V1 )?LLM engine \(v?([0-9][\w.+-]*)\)")
LOGGER_PREFIX = re.compile(
    r"^(?:(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL) \d\d-\d\d \d\d:\d\d:\d\d\S* \S+\]|[IWEF]\d{4} \S+ +\d+ \S+\])"
)
#: Lines that end a traceback's message rather than continue it.
NOT_CONTINUATION = ("Traceback ", 'File "', "During handling", "The above exception", "At:", "Exception in ")


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One failure mode's log signatures."""

    id: str
    role: str
    anchors: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    cause: str
    remedy: str
    #: Where each pattern's message is printed (repo, file, releases), one per pattern.
    sources: tuple[str, ...] = ()


@cache
def load_catalog() -> tuple[CatalogEntry, ...]:
    """The shipped catalog, compiled."""
    text = resources.files("triton_doctor.logs").joinpath("catalog.toml").read_text("utf-8")
    from triton_doctor.logs.server_args import server_arg_entries

    entries = []
    for raw in [*tomllib.loads(text)["entry"], *server_arg_entries()]:
        entries.append(
            CatalogEntry(
                id=raw["id"],
                role=raw["role"],
                anchors=tuple(a.lower() for a in raw["anchors"]),
                patterns=tuple(re.compile(p, re.IGNORECASE) for p in raw["patterns"]),
                cause=raw["cause"],
                remedy=raw["remedy"],
                sources=tuple(raw.get("sources", ())),
            )
        )
    return tuple(entries)


#: Lines that are not failures but carry facts: read when one of these (lower-case) pieces is in them.
FACT_ANCHORS = ("nvidia release", "triton server version", "llm engine (")


@dataclass(frozen=True, slots=True)
class Hit:
    """One log line that matched (its text redacted, then cut)."""

    line_no: int
    text: str
    #: The part of the line the signature matched (the decisive words).
    fragment: str = ""
    #: Named groups of the signature (``model``), for the remedy.
    groups: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class LogDiagnosis:
    """What the log says."""

    lines: int = 0
    bytes: int = 0
    #: catalog id -> first hits (line numbers and text)
    hits: dict[str, list[Hit]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    #: For a wrapper: the deepest cause, the last exception line above it (message joined over lines).
    wrapper_context: dict[str, Hit] = field(default_factory=dict)
    #: Kept for callers of older releases: stub failures are now ``uncatalogued-load-failure`` hits.
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
