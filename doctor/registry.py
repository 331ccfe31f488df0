"""Discovery and validation of checks through the ``triton_doctor.checks`` entry-point group.

Built-in checks are registered in this project's own ``pyproject.toml`` exactly like a third-party
plugin's, so the plugin path is exercised on every run. Discovery is sorted and deterministic; a plugin
that fails to import, or whose metadata is wrong, is reported (``load_errors``) and left out, never fatal.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points

from triton_doctor.check import ID_RE, Check
from triton_doctor.results import Category

__all__ = ["GROUP", "Registry", "import_timeout", "load_registry", "validate_check"]

GROUP = "triton_doctor.checks"


@dataclass(slots=True)
class Registry:
    """The loaded checks by id, in a dependency-respecting order, and what failed to load."""

    checks: dict[str, type[Check]] = field(default_factory=dict)
    #: ``(entry point "name = value", error text)``
    errors: list[tuple[str, str]] = field(default_factory=list)
    #: Which distribution provided each check (for ``list-checks``).
    origin: dict[str, str] = field(default_factory=dict)


def validate_check(obj: object, name: str) -> type[Check]:
    """Return ``obj`` as a check class, or raise ``ValueError`` naming what is wrong with it."""
    if not (isinstance(obj, type) and issubclass(obj, Check)):
        raise ValueError(f"{name!r} is not a triton_doctor.check.Check subclass")
    check_id = getattr(obj, "id", None)
    if not isinstance(check_id, str) or not ID_RE.match(check_id):
        raise ValueError(f"check {name!r} has id {check_id!r}; ids are kebab-case, e.g. 'model-config'")
    if check_id != name:
        raise ValueError(f"entry point {name!r} must be named after the check id {check_id!r}")
    if not isinstance(getattr(obj, "title", None), str) or not obj.title:
        raise ValueError(f"check {check_id!r} has no title")
    if not isinstance(getattr(obj, "category", None), Category):
        allowed = ", ".join(c.value for c in Category)
        raise ValueError(f"check {check_id!r} has category {getattr(obj, 'category', None)!r}; use one of {allowed}")
    if not isinstance(obj.requires, frozenset):
        raise ValueError(f"check {check_id!r}: requires must be a frozenset of check ids")
    return obj


def _entry_points() -> list[EntryPoint]:
    return sorted(entry_points(group=GROUP), key=lambda ep: (ep.name, ep.value))


#: Seconds one entry point may take to import (``TRITON_DOCTOR_PLUGIN_TIMEOUT``); a plugin that hangs on
#: import is reported as not loaded instead of hanging ``check``, ``list-checks`` and ``explain``.
DEFAULT_IMPORT_TIMEOUT_S = 10.0


def import_timeout() -> float:
    """The per-plugin import timeout from the environment (default :data:`DEFAULT_IMPORT_TIMEOUT_S`)."""
    raw = os.environ.get("TRITON_DOCTOR_PLUGIN_TIMEOUT", "")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_IMPORT_TIMEOUT_S
    return value if value > 0 else DEFAULT_IMPORT_TIMEOUT_S


def _load(ep: EntryPoint, timeout: float) -> object:
    """``ep.load()`` in a daemon thread, given up after ``timeout`` seconds (the thread is abandoned)."""
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["value"] = ep.load()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"plugin:{ep.name}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"importing it did not finish in {timeout:g} s (TRITON_DOCTOR_PLUGIN_TIMEOUT)")
    error = box.get("error")
    if isinstance(error, BaseException):
        if not isinstance(error, Exception):
            raise RuntimeError(f"{type(error).__name__} while importing: {error}")
        raise error
    return box.get("value")


def load_registry(eps: list[EntryPoint] | None = None) -> Registry:
    """Import every registered check; collect, never raise, the failures (a hung import included)."""
    registry = Registry()
    timeout = import_timeout()
    for ep in eps if eps is not None else _entry_points():
        label = f"{ep.name} = {ep.value}"
        try:
            cls = validate_check(_load(ep, timeout), ep.name)
        except Exception as exc:  # noqa: BLE001 - any plugin failure is reported, not fatal
            registry.errors.append((label, f"{type(exc).__name__}: {exc}"))
            continue
        if cls.id in registry.checks:
            registry.errors.append((label, f"duplicate check id {cls.id!r}; the first one registered is kept"))
            continue
        registry.checks[cls.id] = cls
        registry.origin[cls.id] = ep.dist.name if ep.dist is not None else "?"
    for check_id, cls in list(registry.checks.items()):
        unknown = sorted(cls.requires - registry.checks.keys())
        if unknown:
            del registry.checks[check_id]
            registry.errors.append((check_id, f"requires unknown check(s): {', '.join(unknown)}"))
    return registry
