"""Log diagnosis: server logs scanned against the failure catalog.

Takes log bytes or lines (any known prefix shape); gives a ``LogDiagnosis`` (hits, facts, the model status table).
"""

from __future__ import annotations

from triton_doctor.logs.catalog import CatalogEntry, Hit, LogDiagnosis, load_catalog
from triton_doctor.logs.scan import scan, scan_lines
from triton_doctor.logs.shapes import normalise

__all__ = ["CatalogEntry", "Hit", "LogDiagnosis", "load_catalog", "normalise", "scan", "scan_lines"]
