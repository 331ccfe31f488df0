"""``triton-doctor bundle``: a local ``tar.gz`` to attach to a bug report. Nothing is ever uploaded.

It holds the JSON report of a ``check`` run, the tool's and its dependencies' versions, the Docker and GPU
inventory (when reachable, with timeouts), the model repository's ``config.pbtxt`` and ``model.json`` files,
the docker command and the last lines of the container's log. Every text goes through :func:`scrub` before
it is written: secret values the doctor knows (tokens from the environment, the token file, the command and
its env files), anything token-shaped, ``Authorization`` headers, credentials in URLs and ``"token": "..."``
style values are redacted, and the home directory is shortened to ``~``. Redaction happens on whole lines,
before anything is cut to the last N lines.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import re
import sys
import tarfile
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from triton_doctor import __version__
from triton_doctor.core.secrets import redact
from triton_doctor.deploy.inputs import TargetInput, build_target
from triton_doctor.deploy.target import Target, TargetError
from triton_doctor.deploy.tokens import known_secrets

__all__ = ["BundleRequest", "make_bundle", "scrub"]

T = TypeVar("T")

DEPENDENCIES = (
    "click",
    "rich",
    "docker",
    "nvidia-ml-py",
    "huggingface_hub",
    "requests",
    "psutil",
    "tritonclient",
    "protobuf",
)
#: The largest config file copied (a config.pbtxt is a few KB).
MAX_CONFIG_BYTES = 256 * 1024
MAX_CONFIGS = 500

_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<cred>[^/@\s:]+(?::[^/@\s]*)?)@")
_AUTH_HEADER = re.compile(r"(?i)\b(?P<name>(?:proxy-)?authorization)(?P<sep>\s*[:=]\s*)(?P<value>[^\r\n,;]+)")
_SECRET_VALUE = re.compile(
    r"(?i)(?P<key>[\"']?[\w.-]*(?:token|secret|password|passwd|api[_-]?key|access[_-]?key)[\"']?)"
    r"(?P<sep>\s*[:=]\s*)(?P<quote>[\"']?)(?P<value>[^\"'\s,}]+)(?P=quote)"
)
_OTHER_HOMES = re.compile(r"(?:/home|/Users)/[^/\s\"']+|[A-Za-z]:\\Users\\[^\\\s\"']+")


def _homes() -> list[str]:
    homes = {str(Path.home())}
    with contextlib.suppress(OSError):
        homes.add(os.path.realpath(Path.home()))
    return sorted((h for h in homes if h not in {"", "/"}), key=len, reverse=True)


def scrub(text: str, secrets: set[str]) -> str:
    """``text`` with every secret redacted and home directories shortened to ``~``."""
    text = redact(text, secrets)
    text = _AUTH_HEADER.sub(lambda m: f"{m['name']}{m['sep']}<redacted>", text)
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}<redacted>@", text)
    text = _SECRET_VALUE.sub(
        lambda m: (
            m.group(0)
            if m["value"].startswith(("<redacted", "$", "%"))
            else f"{m['key']}{m['sep']}{m['quote']}<redacted>{m['quote']}"
        ),
        text,
    )
    for home in _homes():
        # Not after ":" (the container side of a mount, e.g. -v x:/root/.cache) nor inside a longer path.
        text = re.sub(rf"(?<![:\w/.-]){re.escape(home)}(?![\w.-])", "~", text)
    return _OTHER_HOMES.sub("~", text)


class BundleRequest:
    """What ``triton-doctor bundle`` was asked."""

    def __init__(
        self,
        *,
        target: TargetInput,
        output: str | None = None,
        container: str | None = None,
        log_file: str | None = None,
        lines: int = 200,
        profile: str | None = None,
        sample: bool = False,
    ) -> None:
        self.target = target
        self.output = output
        self.container = container
        self.log_file = log_file
        self.lines = lines
        self.profile = profile
        self.sample = sample


def _with_timeout(func: Callable[[], T], timeout: float) -> T | str:
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = func()
        except Exception as exc:  # noqa: BLE001 - an inventory that cannot be read is written as the reason
            box["error"] = f"{type(exc).__name__}: {exc}"

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        return f"timed out after {timeout:g} s"
    if "error" in box:
        return str(box["error"])
    return box["value"]  # type: ignore[no-any-return]


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return value


def _versions() -> dict[str, Any]:
    deps: dict[str, str | None] = {}
    for name in DEPENDENCIES:
        try:
            deps[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            deps[name] = None
    return {
        "triton-doctor": __version__,
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "dependencies": deps,
    }


def _inventory(timeout: float) -> tuple[dict[str, Any], Any]:
    from triton_doctor.probes.docker_probe import DockerProbe
    from triton_doctor.probes.nvml_probe import read_nvml

    probe = DockerProbe(timeout=timeout)
    docker = _with_timeout(probe.facts, timeout * 2)
    gpu = _with_timeout(read_nvml, timeout * 2)
    return {"docker": _plain(docker), "gpu": _plain(gpu)}, (probe if not isinstance(docker, str) else None, docker)


def _command_text(inp: TargetInput, config: dict[str, Any]) -> str | None:
    if inp.docker_command:
        return inp.docker_command
    path = inp.docker_command_file or config.get("docker_command_file")
    if path:
        from triton_doctor.probes.fs import FileReadError, read_file_text

        try:
            return read_file_text(Path(str(path)), gzip=True)
        except FileReadError as exc:
            return f"(cannot read {path}: {exc})"
    value = config.get("docker_command")
    return str(value) if value else None


def _configs(target: Target) -> list[tuple[str, bytes]]:
    from triton_doctor.deploy.target import host_path
    from triton_doctor.probes.fs import FileReadError, read_file_bytes

    repo = host_path(target.repo)
    found: list[tuple[str, bytes]] = []
    if not repo.is_dir():
        return found
    for path in sorted([*repo.glob("*/config.pbtxt"), *repo.glob("*/*/model.json")])[:MAX_CONFIGS]:
        try:
            found.append((path.relative_to(repo).as_posix(), read_file_bytes(path, MAX_CONFIG_BYTES)))
        except FileReadError as exc:  # a FIFO, a device, over 256 KiB: named, never waited on or copied
            found.append((path.relative_to(repo).as_posix(), f"(not copied: {exc})\n".encode()))
    return found


def _log_tail(req: BundleRequest, target: Target, probe: Any, docker: Any, secrets: set[str]) -> tuple[str, str] | None:
    """(label, last N lines) of ``--log``, ``--container`` or the command's ``--name`` container."""
    tail: deque[str] = deque(maxlen=max(1, req.lines))
    if req.log_file:
        from triton_doctor.probes.logstream import open_log_stream, tail_lines

        # A plain UTF-8 file is read from its end and only the kept lines are scrubbed (a GiB log in
        # milliseconds); a compressed or UTF-16 one is streamed through, every line scrubbed as it passes.
        last = tail_lines(Path(req.log_file), max(1, req.lines))
        if last is not None:
            tail.extend(scrub(raw.decode("utf-8", "replace").rstrip("\r\n"), secrets) for raw in last)
            return req.log_file, "\n".join(tail) + "\n"
        with open_log_stream(Path(req.log_file)) as log:  # regular files only; UTF-16 and .gz read
            for raw in log.stream:
                tail.append(scrub(raw.decode("utf-8", "replace").rstrip("\r\n"), secrets))
        return req.log_file, "\n".join(tail) + "\n"
    name = req.container or (target.docker.name if target.docker is not None else None)
    if not name or probe is None or isinstance(docker, str) or not docker.reachable:
        return None
    match = next((c for c in docker.containers if name in {c.name, c.id}), None)
    if match is None:
        return None

    def read() -> None:
        for line in probe.log_lines(match.id):
            tail.append(scrub(line, secrets))

    _with_timeout(read, probe.timeout * 3)
    return f"container {match.name}", "\n".join(tail) + "\n"


def make_bundle(req: BundleRequest) -> tuple[str, int]:
    """Run the check, collect everything, write the archive; return its path and the check's exit code."""
    from triton_doctor.app.check import CheckRequest, run_check_command

    if req.sample:
        from triton_doctor.app.check import sample_paths

        repo, local = sample_paths()
        req.target.repo = req.target.repo or str(repo)
        req.target.mounts = (*req.target.mounts, f"{repo}:/models", f"{local}:/local_models")
    target, config = build_target(req.target)
    if req.log_file and not os.access(req.log_file, os.R_OK):
        raise TargetError(f"--log {req.log_file}: no such readable file")
    secrets = known_secrets(target)
    output = req.output or time.strftime("triton-doctor-bundle-%Y%m%dT%H%M%SZ.tar.gz", time.gmtime())
    members: list[tuple[str, str | bytes]] = []
    with tempfile.TemporaryDirectory(prefix="triton-doctor-bundle-") as tmp:
        report_path = os.path.join(tmp, "report.json")
        code = run_check_command(
            CheckRequest(target=req.target, profile=req.profile, outputs=(f"json:{report_path}",), fmt="text")
        )
        members.append(("report.json", Path(report_path).read_text(encoding="utf-8")))
    members.append(("versions.json", json.dumps(_versions(), indent=2) + "\n"))
    inventory, (probe, docker) = _inventory(timeout=5.0)
    members.append(("inventory.json", json.dumps(inventory, indent=2, default=str) + "\n"))
    command = _command_text(req.target, config)
    if command:
        members.append(("docker-command.txt", command.rstrip("\n") + "\n"))
    for rel, data in _configs(target):
        members.append((f"model_repository/{rel}", data))
    try:
        tail = _log_tail(req, target, probe, docker, secrets)
    finally:
        if probe is not None:
            probe.close()
    if tail is not None:
        members.append(("container.log", tail[1]))
    index = [name for name, _ in members]
    members.append(
        (
            "README.txt",
            "triton-doctor support bundle (made locally; nothing was uploaded).\n"
            "Secrets are redacted and home directories shortened to ~. Review before sharing.\n\n"
            + (f"log: {tail[0]}\n" if tail else "")
            + "files:\n"
            + "".join(f"  {name}\n" for name in index),
        )
    )
    _write_tar(output, [(name, scrub(_text(data), secrets)) for name, data in members])
    return output, code


def _text(data: str | bytes) -> str:
    return data if isinstance(data, str) else data.decode("utf-8", "replace")


def _write_tar(output: str, members: list[tuple[str, str]]) -> None:
    target = Path(output)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w:gz") as tar:
            now = int(time.time())
            for name, text in members:
                data = text.encode("utf-8")
                info = tarfile.TarInfo(f"triton-doctor-bundle/{name}")
                info.size, info.mtime, info.mode = len(data), now, 0o600
                tar.addfile(info, io.BytesIO(data))
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
