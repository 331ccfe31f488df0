"""One compose service in the canonical form ``docker compose config`` prints (volumes, ports, GPUs, sizes)."""

from __future__ import annotations

import os
import posixpath
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from triton_doctor.deploy.compose_yaml import (
    ComposeError,
    MarkedSeq,
)


def env_mapping(value: Any, where: str) -> dict[str, str | None]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return {str(k): (None if v is None else _scalar(v)) for k, v in value.items()}
    if isinstance(value, list):
        out: dict[str, str | None] = {}
        for item in value:
            name, sep, val = str(item).partition("=")
            out[name] = val if sep else None
        return out
    raise ComposeError(f"{where}: environment must be a list of NAME=value or a mapping")


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _words(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return [_scalar(v) for v in value]
    try:
        return shlex.split(str(value))
    except ValueError as exc:
        raise ComposeError(f"cannot split the command {str(value)[:80]!r}: {exc}") from None


_SIZE = re.compile(r"^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$")


def _bytes(value: Any) -> str:
    """Compose's RAMInBytes: ``1g``, ``1gb``, ``512MiB``, ``1073741824`` -> bytes, as a decimal string."""
    if isinstance(value, int):
        return str(value)
    match = _SIZE.match(str(value).strip())
    if not match:
        return str(value)
    factor = 1024 ** " kmgtp".index((match.group(2) or " ").lower())
    return str(int(float(match.group(1)) * factor))


def volume_spec(value: Any, directory: Path) -> dict[str, Any]:
    if isinstance(value, dict):
        out = {k: v for k, v in value.items() if k in {"type", "source", "target", "read_only", "bind"}}
        out.setdefault("type", "volume")
        if out["type"] == "bind" and "source" in out:
            out["source"] = host_path_of(str(out["source"]), directory)
        return out
    text = str(value)
    offset = 2 if re.match(r"^[A-Za-z]:[\\/]", text) else 0
    parts = text[:offset] + text[offset:]
    first = parts.find(":", offset)
    if first < 0:
        return {"type": "volume", "target": text}
    source, rest = parts[:first], parts[first + 1 :]
    if not source or not rest:
        raise ComposeError(
            f"volume {text!r}: empty section between colons (is the variable that names the folder unset?)"
        )
    target, _, opts = rest.partition(":")
    bind = source.startswith((".", "/", "~", "\\")) or bool(offset)
    out = {"type": "bind" if bind else "volume", "source": host_path_of(source, directory) if bind else source}
    out["target"] = posixpath.normpath(target) if target.startswith("/") else target
    if "ro" in opts.split(","):
        out["read_only"] = True
    if bind:
        out["bind"] = {"create_host_path": True}
    return out


def host_path_of(source: str, directory: Path) -> str:
    if source.startswith("~"):
        return os.path.expanduser(source)
    if re.match(r"^[A-Za-z]:[\\/]", source) or source.startswith("/"):
        return source
    return os.path.normpath(str(directory / source))


def port_specs(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        out = {k: value[k] for k in ("target", "published", "host_ip", "protocol") if k in value}
        out["target"] = int(out["target"])
        if "published" in out:
            out["published"] = str(out["published"])
        out.setdefault("protocol", "tcp")
        return [out]
    text = str(value)
    spec, _, proto = text.partition("/")
    host_ip = ""
    if spec.startswith("["):
        end = spec.index("]")
        host_ip, spec = spec[1:end], spec[end + 2 :]
    parts = spec.split(":")
    if len(parts) == 3:
        host_ip, published, target = parts
    elif len(parts) == 2:
        published, target = parts
    else:
        published, target = "", parts[0]
    targets = _range(target)
    published_range = _range(published) if published else []
    ports = []
    for i, port in enumerate(targets):
        entry: dict[str, Any] = {"target": port}
        if published_range:
            entry["published"] = str(published_range[i] if len(published_range) == len(targets) else published)
        if host_ip:
            entry["host_ip"] = host_ip
        entry["protocol"] = proto or "tcp"
        ports.append(entry)
    return ports


def _range(text: str) -> list[int]:
    try:
        if "-" in text:
            low, high = text.split("-", 1)
            return list(range(int(low), int(high) + 1))
        return [int(text)]
    except ValueError:
        raise ComposeError(f"port {text!r} is not a number or a range like 8000-8002") from None


def _count(value: Any) -> int:
    text = str(value).strip()
    if text.lower() == "all":
        return -1
    try:
        return int(text)
    except ValueError:
        raise ComposeError(f"GPU count {text[:40]!r}: the only value allowed is 'all' or a number") from None


def at_item(path: Path, seq: Any, index: int, func: Any, *args: Any) -> Any:
    """``func(*args)``, its :class:`ComposeError` prefixed with the file and line of ``seq[index]``."""
    try:
        return func(*args)
    except ComposeError as exc:
        line = seq.lines[index] if isinstance(seq, MarkedSeq) else None
        raise ComposeError(f"{path}{f':{line}' if line else ''}: {exc}") from None


def normalise_service(svc: Mapping[str, Any], directory: Path, path: Path) -> dict[str, Any]:
    """The parts of a service the doctor reads, in the form ``docker compose config`` prints them."""
    out: dict[str, Any] = {}
    for key, value in svc.items():
        match key:
            case "environment":
                out[key] = env_mapping(value, str(path))
            case "env_file":
                items = value if isinstance(value, list) else [value]
                out[key] = [
                    {
                        "path": host_path_of(str(e["path"] if isinstance(e, dict) else e), directory),
                        "required": bool(e.get("required", True)) if isinstance(e, dict) else True,
                    }
                    for e in items
                ]
            case "command" | "entrypoint":
                out[key] = _words(value)
            case "volumes":
                out[key] = [at_item(path, value, i, volume_spec, v, directory) for i, v in enumerate(value or [])]
            case "ports":
                ports = [p for i, v in enumerate(value or []) for p in at_item(path, value, i, port_specs, v)]
                out[key] = [p for i, p in enumerate(ports) if p not in ports[:i]]  # Compose drops repeats
            case "shm_size":
                out[key] = _bytes(value)
            case "gpus":
                if str(value).strip().lower() == "all":
                    out[key] = [{"count": -1}]
                else:
                    out[key] = [
                        {k: (_count(v) if k == "count" else v) for k, v in dict(d).items()} for d in value or []
                    ]
            case "deploy":
                out[key] = _deploy(value)
            case "ulimits":
                out[key] = {
                    str(k): ({"soft": v.get("soft"), "hard": v.get("hard")} if isinstance(v, dict) else v)
                    for k, v in (value or {}).items()
                }
            case _:
                out[key] = value
    return out


def _deploy(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    resources = value.get("resources")
    reservations = resources.get("reservations") if isinstance(resources, dict) else None
    devices = reservations.get("devices") if isinstance(reservations, dict) else None
    if not isinstance(devices, list) or not isinstance(resources, dict) or not isinstance(reservations, dict):
        return dict(value)
    fixed = [
        {k: (_count(v) if k == "count" else v) for k, v in d.items()} if isinstance(d, dict) else d for d in devices
    ]
    return {**value, "resources": {**resources, "reservations": {**reservations, "devices": fixed}}}
