"""Read the state of a pod from what ``kubectl`` prints: ``describe pod``, ``get pod -o yaml|json``, ``get events``.

The formats differ (an Events table, ``reason: OOMKilled`` in YAML, ``"exitCode": 137`` in JSON, one event
line pasted into an issue), but the words kubelet and the scheduler use do not. So the reader works on lines:
each entry of ``podstate.toml`` has patterns, and the first line matching one gives a :class:`PodSignal` with
its line number. Refinements (which resource was short, which probe) come from the matched line itself.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

__all__ = ["PodCatalogEntry", "PodSignal", "looks_like_pod_state", "pod_catalog", "scan_pod_state"]

#: Lines longer than this are cut before matching (a pasted JSON blob on one line stays bounded).
MAX_LINE = 4096


@dataclass(frozen=True, slots=True)
class PodCatalogEntry:
    """One failure mode of a pod (see ``podstate.toml``)."""

    id: str
    severity: str
    patterns: tuple[re.Pattern[str], ...]
    cause: str
    remedy: str
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PodSignal:
    """A failure mode seen in the input: the entry, the line (1-based), the line's text and a refined message."""

    entry: PodCatalogEntry
    line: int
    text: str
    detail: str
    count: int = 1


@lru_cache(maxsize=1)
def pod_catalog() -> tuple[PodCatalogEntry, ...]:
    """The entries of ``podstate.toml``."""
    raw = resources.files("triton_doctor").joinpath("deploy", "kube", "podstate.toml").read_text(encoding="utf-8")
    data = tomllib.loads(raw)
    return tuple(
        PodCatalogEntry(
            id=str(e["id"]),
            severity=str(e["severity"]),
            patterns=tuple(re.compile(p) for p in e["patterns"]),
            cause=str(e["cause"]),
            remedy=str(e["remedy"]),
            sources=tuple(str(s) for s in e.get("sources", ())),
        )
        for e in data["entry"]
    )


_SHAPES = (
    re.compile(r"^Events:\s*$"),
    re.compile(r"^\s*(Name|Namespace|Status|Containers|Conditions):\s"),
    re.compile(r"^\s*(\"?kind\"?):\s*\"?(Pod|Event|List|EventList)\b"),
    re.compile(r"\b(FailedScheduling|FailedMount|Unhealthy|BackOff|Evicted|OOMKilled|CrashLoopBackOff)\b"),
    re.compile(r"^\s*(LAST SEEN|TYPE)\s+\S"),
)


def looks_like_pod_state(text: str) -> bool:
    """Whether ``text`` is kubectl pod or event output (describe, get -o yaml/json, get events)."""
    return any(shape.search(line) for line in text.splitlines()[:2000] for shape in _SHAPES)


def _detail(entry_id: str, line: str) -> str:
    if entry_id == "failed-scheduling":
        parts = []
        gpu = re.search(r"(\d+) Insufficient nvidia\.com/gpu", line)
        if gpu:
            parts.append(f"{gpu.group(1)} node(s) without enough free nvidia.com/gpu")
        if re.search(r"had (un)?tolerated taint|had taint", line):
            parts.append("a taint the pod does not tolerate (add tolerations for the GPU nodes)")
        if "node affinity" in line or "node selector" in line or "affinity/selector" in line:
            parts.append("a nodeSelector/affinity no node matches (nvidia.com/gpu.product?)")
        for res in ("cpu", "memory", "ephemeral-storage"):
            if re.search(rf"\d+ Insufficient {res}\b", line):
                parts.append(f"not enough {res}")
        return "; ".join(parts)
    if entry_id == "probe-kills-loading-pod":
        refused = "connection refused" in line
        return "the server was not listening yet (still loading)" if refused else ""
    if entry_id == "evicted":
        if "ephemeral-storage" in line:
            return "ephemeral storage (the Hugging Face cache?)"
        if "memory" in line:
            return "node memory pressure"
    if entry_id == "image-pull":
        image = re.search(r"image \\?\"([^\"\\]+)", line)
        return f"image {image.group(1)}" if image else ""
    return ""


def scan_pod_state(text: str) -> list[PodSignal]:
    """Every failure mode in ``text``, in order of first appearance (one signal per entry and detail)."""
    catalog = pod_catalog()
    seen: dict[str, int] = {}
    signals: list[PodSignal] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw[:MAX_LINE]
        for entry in catalog:
            if not any(p.search(line) for p in entry.patterns):
                continue
            if entry.id == "readiness-failing" and re.search(r"(Liveness|Startup) probe failed", line):
                continue
            detail = _detail(entry.id, line)
            if entry.id in seen:
                i = seen[entry.id]
                old = signals[i]
                signals[i] = PodSignal(old.entry, old.line, old.text, old.detail or detail, old.count + 1)
                continue
            seen[entry.id] = len(signals)
            signals.append(PodSignal(entry, number, line.strip(), detail))
    if "probe-kills-loading-pod" in seen or "oom-killed" in seen:
        # CrashLoopBackOff is the consequence; the specific cause is already reported.
        signals = [s for s in signals if s.entry.id != "crash-loop"]
    return signals
