"""Quote a bounded part of a user's line in a finding (a 4 MB one-line file must not be echoed whole).

Redaction comes first, then the cut, so that cutting cannot split a secret into a piece that no longer
looks like one.
"""

from __future__ import annotations

__all__ = ["MAX_QUOTE", "excerpt"]

#: Characters of a user's line quoted in a finding at most.
MAX_QUOTE = 200


def excerpt(line: str, column: int | None = None, secrets: set[str] | None = None, width: int = MAX_QUOTE) -> str:
    """``line`` redacted, then cut to about ``width`` characters around ``column`` (1-based), marked with "…"."""
    from triton_doctor.core.secrets import redact

    text = redact(line.rstrip(), secrets or set())
    if len(text) <= width:
        return text
    center = min(max((column or 1) - 1, 0), len(text))
    start = max(0, min(center - width // 2, len(text) - width))
    cut = text[start : start + width]
    return ("…" if start > 0 else "") + cut + ("…" if start + width < len(text) else "")
