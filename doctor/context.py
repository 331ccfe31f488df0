"""Compatibility for plugins written before the stage layout: ``triton_doctor.context`` as it was.

New code imports :mod:`triton_doctor.facts.context` (``Context``, ``Probes``) and
:mod:`triton_doctor.facts.repository` (the repository facts).
"""

from __future__ import annotations

from triton_doctor.facts.context import Context, Probes
from triton_doctor.facts.repository import JsonDoc, LocalModel, ModelFacts, RepoFacts, parallel_sizes

__all__ = ["Context", "JsonDoc", "LocalModel", "ModelFacts", "Probes", "RepoFacts", "parallel_sizes"]
