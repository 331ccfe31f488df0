"""Reports: the one redaction stage, then text, JSON, JUnit, SARIF and GitHub renderers, and their writers.

Takes a ``Report`` of check results; gives files and terminal output with no secret and no control character.
"""

from __future__ import annotations

__all__ = ["FORMATS"]

FORMATS = ("text", "json", "junit", "sarif", "github")
