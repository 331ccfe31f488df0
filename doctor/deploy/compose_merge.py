"""The doctor's own compose reader: several files merged, ``extends``, line marks of each service."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triton_doctor.deploy.compose_normal import normalise_service, port_specs, volume_spec
from triton_doctor.deploy.compose_yaml import (
    ComposeError,
    Interpolator,
    MarkedMap,
    MarkedSeq,
    interpolate,
    load_yaml,
    read_bounded,
)
from triton_doctor.results import Location

_MAX_EXTENDS_DEPTH = 16


@dataclass(frozen=True, slots=True)
class SourceMap:
    """Where each part of a service is written: ``"service"``, ``"image"``, ``"volume:/models"``, ``"env:NAME"``."""

    locations: Mapping[str, Location]
    #: The environment values as written, before interpolation (``HF_TOKEN: ${HF_TOKEN}``).
    raw_env: Mapping[str, str | None]
    #: Volumes written in the short syntax (``./x:/models``), by container path.
    short_volumes: frozenset[str] = frozenset()

    def at(self, *keys: str) -> Location | None:
        """The first known location of ``keys``, else the service's own line."""
        for key in (*keys, "service"):
            if key in self.locations:
                return self.locations[key]
        return None


# -- the doctor's own reader: merge, extends, normalise ----------------------------------------------------


def build_model(
    documents: list[tuple[Path, MarkedMap]],
    directory: Path,
    interp: Interpolator,
    raw_env: Mapping[str, Mapping[str, str | None]],
    display: Mapping[Path, str],
) -> tuple[dict[str, dict[str, Any]], dict[str, SourceMap], dict[str, Any]]:
    services: dict[str, dict[str, Any]] = {}
    marks: dict[str, dict[str, Location]] = {}
    short: dict[str, set[str]] = {}
    volumes: dict[str, Any] = {}
    for path, doc in documents:
        doc_services = doc.get("services")
        if doc_services is None:
            continue
        if not isinstance(doc_services, MarkedMap):
            raise ComposeError(f"{path}:{doc.lines.get('services', 1)}: services must be a mapping of service names")
        for name, written in doc_services.items():
            svc = written
            if svc is None:
                svc = MarkedMap()
                svc.line, svc.lines = doc_services.lines.get(name, 1), {}
            if not isinstance(svc, MarkedMap):
                raise ComposeError(f"{path}:{doc_services.lines.get(name, 1)}: service {name!r} must be a mapping")
            resolved = _extend(svc, doc_services, path, directory, path, interp, 0)
            normalised = normalise_service(resolved, directory, path)
            services[name] = merge_service(services.get(name, {}), normalised)
            mark_service(str(name), svc, display[path], doc_services.lines.get(name, 1), marks, short, directory)
        top_volumes = doc.get("volumes") or {}
        if isinstance(top_volumes, dict):
            for key, spec in top_volumes.items():
                volumes[key] = {**volumes.get(key, {}), **(dict(spec) if isinstance(spec, dict) else {})}
    for name, svc in services.items():
        for env_file in svc.get("env_file") or []:
            if env_file.get("required", True) and not Path(env_file["path"]).is_file():
                where: Location | Path | None = marks.get(name, {}).get("env_file") or documents[0][0]
                raise ComposeError(
                    f"{where}: env file {env_file['path']} not found: create it, or write "
                    "env_file: [{path: ..., required: false}]"
                )
        for vol in svc.get("volumes") or []:
            if vol.get("type") == "volume" and vol.get("source") and vol["source"] not in volumes:
                where = marks.get(name, {}).get(f"volume:{vol.get('target')}") or documents[0][0]
                raise ComposeError(
                    f"{where}: service {name!r} refers to undefined volume {vol['source']!r}: "
                    f"declare it under the top-level volumes: key, or write ./{vol['source']} for a bind mount"
                )
    model: dict[str, Any] = {"services": {k: _canonical(v) for k, v in services.items()}}
    if volumes:
        model["volumes"] = {k: {key: v[key] for key in ("name", "external") if key in v} for k, v in volumes.items()}
    sources = {
        name: SourceMap(marks.get(name, {}), raw_env.get(name, {}), frozenset(short.get(name, set())))
        for name in services
    }
    return services, sources, model


def _extend(
    svc: Mapping[str, Any],
    siblings: Mapping[str, Any],
    path: Path,
    directory: Path,
    top: Path,
    interp: Interpolator,
    depth: int,
) -> dict[str, Any]:
    ext = svc.get("extends")
    own = {k: v for k, v in svc.items() if k != "extends"}
    if ext is None:
        return own
    if depth > _MAX_EXTENDS_DEPTH:
        raise ComposeError(f"{path}: extends is circular or deeper than {_MAX_EXTENDS_DEPTH} levels")
    if isinstance(ext, str):
        base_name, base_file = ext, None
    elif isinstance(ext, dict) and isinstance(ext.get("service"), str):
        base_name, base_file = ext["service"], ext.get("file")
    else:
        raise ComposeError(f"{path}: extends must be a service name or {{service: NAME, file: PATH}}")
    base_dir = directory
    if base_file:
        other = (path.parent / str(base_file)).resolve()
        data = load_yaml(read_bounded(other), str(other))
        interp.where = str(other)
        data = interpolate(data, interp, 1)
        base_siblings = data.get("services") if isinstance(data, dict) else None
        if not isinstance(base_siblings, dict):
            raise ComposeError(f"{other}: no services: mapping to extend from")
        base_path, base_dir = other, other.parent
    else:
        base_siblings, base_path = siblings, path
    base = base_siblings.get(base_name)
    if not isinstance(base, dict):
        raise ComposeError(f"{path}: extends names service {base_name!r}, which {base_path} does not define")
    resolved_base = _extend(base, base_siblings, base_path, base_dir, top, interp, depth + 1)
    if base_file:
        # Paths of the extended file are relative to that file's folder.
        resolved_base = _absolute_paths(resolved_base, base_dir)
    return merge_service(normalise_service(resolved_base, directory, path), normalise_service(own, directory, path))


def _absolute_paths(svc: dict[str, Any], base: Path) -> dict[str, Any]:
    out = dict(svc)
    vols = []
    for vol in svc.get("volumes") or []:
        fixed = vol
        if isinstance(vol, str):
            src, sep, rest = vol.partition(":")
            if sep and src.startswith("."):
                fixed = f"{(base / src).resolve()}:{rest}"
        elif isinstance(vol, dict) and str(vol.get("source", "")).startswith("."):
            fixed = {**vol, "source": str((base / str(vol["source"])).resolve())}
        vols.append(fixed)
    if vols:
        out["volumes"] = vols
    env_files = svc.get("env_file")
    if env_files:
        items = env_files if isinstance(env_files, list) else [env_files]
        out["env_file"] = [
            (
                {**e, "path": str((base / str(e["path"])).resolve())}
                if isinstance(e, dict)
                else str((base / e).resolve())
            )
            for e in items
        ]
    return out


def merge_service(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Compose's merge of one service over another: mappings merge, volumes by target, ports append."""
    out = dict(base)
    for key, value in over.items():
        old = out.get(key)
        if key in {"environment", "ulimits", "labels"} and isinstance(old, dict) and isinstance(value, dict):
            out[key] = {**old, **value}
        elif key == "volumes" and isinstance(old, list):
            by_target = {v.get("target"): v for v in old}
            by_target.update({v.get("target"): v for v in value})
            out[key] = list(by_target.values())
        elif key == "ports" and isinstance(old, list):
            out[key] = old + [p for p in value if p not in old]
        elif key in {"env_file"} and isinstance(old, list):
            out[key] = old + [e for e in value if e not in old]
        elif key == "deploy" and isinstance(old, dict) and isinstance(value, dict):
            out[key] = _deep_merge(old, value)
        else:
            out[key] = value
    return out


def _deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(out.get(key), dict) and isinstance(value, dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _canonical(svc: Mapping[str, Any]) -> dict[str, Any]:
    """Plain dicts and lists (no line marks) of the keys the deployment record reads."""
    return json.loads(json.dumps({k: v for k, v in svc.items() if k != "extends"}, default=str))  # type: ignore[no-any-return]


def display_path(path: Path, cwd: Path) -> str:
    """``path`` as the user would write it: relative to the working folder when inside it."""
    try:
        return str(path.relative_to(cwd.absolute()))
    except ValueError:
        return str(path)


def mark_service(
    name: str,
    svc: MarkedMap,
    display: str,
    line: int,
    marks: dict[str, dict[str, Location]],
    short: dict[str, set[str]],
    directory: Path,
) -> None:
    """Record where ``svc`` (as written in ``path``) puts each part; a later file wins."""
    here = marks.setdefault(name, {})
    here.setdefault("service", Location(path=display, line=line))
    for key, key_line in svc.lines.items():
        here[str(key)] = Location(path=display, line=key_line)
    env = svc.get("environment")
    if isinstance(env, MarkedMap):
        for key, key_line in env.lines.items():
            here[f"env:{key}"] = Location(path=display, line=key_line)
    elif isinstance(env, MarkedSeq):
        for item, item_line in zip(env, env.lines, strict=True):
            here[f"env:{str(item).partition('=')[0]}"] = Location(path=display, line=item_line)
    vols = svc.get("volumes")
    if isinstance(vols, MarkedSeq):
        for item, item_line in zip(vols, vols.lines, strict=True):
            spec = volume_spec(item, directory)
            here[f"volume:{spec.get('target')}"] = Location(path=display, line=item_line)
            if isinstance(item, str):
                short.setdefault(name, set()).add(str(spec.get("target")))
            else:
                short.setdefault(name, set()).discard(str(spec.get("target")))
    ports = svc.get("ports")
    if isinstance(ports, MarkedSeq):
        for item, item_line in zip(ports, ports.lines, strict=True):
            for port in port_specs(item):
                here[f"port:{port['target']}"] = Location(path=display, line=item_line)
