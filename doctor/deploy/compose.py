"""Read a Compose project (``compose.yaml``, ``docker-compose.yml`` ...) as the deployment ``docker run`` describes.

A compose service becomes the same :class:`~triton_doctor.dockercmd.DockerRun` record a pasted ``docker run``
command gives, so every check of the deployment applies unchanged. Two readers produce the canonical model
(the shape ``docker compose config --format json`` prints):

* the reference implementation, when a Compose v2 binary is found (``docker compose`` as a CLI plugin, or a
  ``docker-compose`` v2 on PATH, or ``$TRITON_DOCTOR_COMPOSE``): ``config --format json`` under a timeout;
* the doctor's own reader otherwise: YAML 1.2 core schema, interpolation (``${VAR}``, ``${VAR:-default}``,
  ``${VAR:?error}``, ``$$``), ``.env``, ``env_file``, ``profiles``, ``extends``, several files merged,
  relative paths resolved against the project folder, short and long volume and port syntax.

The reader is split by stage: ``compose_yaml`` (YAML with marks, interpolation, ``.env``), ``compose_normal``
(one service in canonical form), ``compose_merge`` (files merged, ``extends``, line marks), this module (the
project, both readers) and ``compose_record`` (the ``docker run`` record and the target).

Whichever reader ran, the files are also parsed here with line marks, so findings point at the compose file's
line (:class:`SourceMap`). Bad input raises :class:`ComposeError` whose message names the file and the fix.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triton_doctor.deploy.compose_merge import SourceMap, build_model, display_path
from triton_doctor.deploy.compose_normal import env_mapping
from triton_doctor.deploy.compose_yaml import (
    ComposeError,
    Interpolator,
    MarkedMap,
    interpolate,
    load_yaml,
    parse_env_file,
    read_bounded,
)
from triton_doctor.results import Location

__all__ = [
    "DEFAULT_FILES",
    "ComposeError",
    "ComposeProject",
    "ComposeService",
    "SourceMap",
    "discover",
    "find_compose_binary",
    "load_project",
    "parse_env_file",
]

#: The files ``docker compose`` reads when no ``-f`` is given, in its order of preference.
DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
#: How long ``docker compose config`` may take before the doctor's own reader is used instead.
COMPOSE_TIMEOUT_S = 20.0

# -- the project --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComposeService:
    """One service of a project: its canonical model, where it is written and the project around it."""

    name: str
    #: The service as ``docker compose config --format json`` prints it.
    config: Mapping[str, Any]
    source: SourceMap
    project: ComposeProject

    def describe(self) -> dict[str, object]:
        """The service as reports show it (never any values: they may be secrets)."""
        return {
            "files": list(self.project.shown_files),
            "project": self.project.name,
            "service": self.name,
            "reader": self.project.reader,
        }


@dataclass(frozen=True, slots=True)
class ComposeProject:
    """A compose project read by one of the two readers."""

    name: str
    directory: Path
    files: tuple[Path, ...]
    #: ``docker compose config --format json`` (or the doctor's reader's identical subset).
    config: Mapping[str, Any]
    #: ``"docker compose v2.40.3"`` or ``"triton-doctor"``.
    reader: str
    #: The environment used for interpolation: the process environment over the project's ``.env``.
    environment: Mapping[str, str]
    #: Names from the ``.env`` file only (not the process environment).
    dotenv: Mapping[str, str | None]
    #: Variables used without a value, and where first (``compose.yaml:7``).
    unset: Mapping[str, str]
    active_profiles: frozenset[str]
    #: Each service's line marks, from the files as written.
    sources: Mapping[str, SourceMap]
    #: Each service's raw (merged, interpolated) mapping as the doctor read it: what ``compose`` checks inspect.
    raw_services: Mapping[str, Mapping[str, Any]]
    #: ``$env:NAME`` (PowerShell) or ``%NAME%`` (cmd) written in a compose file, where Compose reads neither.
    shell_syntax: tuple[tuple[Location, str], ...] = ()
    #: ``files`` as the user wrote them (relative to the working folder when inside it): what reports show.
    shown_files: tuple[str, ...] = ()

    @property
    def services(self) -> Mapping[str, Any]:
        services = self.config.get("services")
        return services if isinstance(services, dict) else {}

    def is_active(self, service: str) -> bool:
        profiles = self.raw_services.get(service, {}).get("profiles") or []
        return not profiles or "*" in self.active_profiles or bool(set(profiles) & self.active_profiles)

    def service(self, name: str) -> ComposeService:
        if name not in self.services:
            known = ", ".join(sorted(self.services)) or "none"
            raise ComposeError(f"{self.files[0]}: no service {name!r} (services: {known})")
        return ComposeService(
            name=name, config=self.services[name], source=self.sources.get(name, SourceMap({}, {})), project=self
        )

    def triton_services(self) -> list[str]:
        """Active services whose image or command is tritonserver, in file order."""
        found = []
        for name, svc in self.services.items():
            if not self.is_active(name):
                continue
            words = [str(svc.get("image") or "")] + [str(w) for w in (svc.get("entrypoint") or [])]
            words += [str(w) for w in (svc.get("command") or [])[:1]]
            if any("tritonserver" in w for w in words):
                found.append(name)
        return found


def discover(cwd: Path) -> Path | None:
    """The compose file ``docker compose`` would read in ``cwd`` without ``-f``, if any."""
    for name in DEFAULT_FILES:
        if (cwd / name).is_file():
            return cwd / name
    return None


def find_compose_binary(environ: Mapping[str, str] | None = None) -> list[str] | None:
    """The command that runs Compose v2: ``$TRITON_DOCTOR_COMPOSE`` (``none``: never), then ``docker compose``,
    then ``docker-compose``."""
    env = os.environ if environ is None else environ
    chosen = env.get("TRITON_DOCTOR_COMPOSE", "").strip()
    if chosen.lower() in {"none", "off", "0"}:
        return None
    if chosen:
        return [chosen]
    docker = shutil.which("docker")
    if docker and _answers([docker, "compose", "version", "--short"]):
        return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    if standalone and _answers([standalone, "version", "--short"]):
        return [standalone]
    return None


def _answers(cmd: list[str]) -> bool:
    """The command prints a Compose v2 version (v1, the Python docker-compose, reads files differently)."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and bool(re.match(r"v?2\.", done.stdout.strip()))


def _project_env(directory: Path, environ: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str | None]]:
    dotenv_path = directory / ".env"
    dotenv: dict[str, str | None] = {}
    if dotenv_path.is_file():
        dotenv = parse_env_file(read_bounded(dotenv_path), environ, str(dotenv_path))
    merged = {k: v for k, v in dotenv.items() if v is not None}
    merged.update(environ)
    return merged, dotenv


#: PowerShell's ``$env:NAME`` and cmd's ``%NAME%``: Compose substitutes neither.
_SHELL_SYNTAX = re.compile(r"\$env:[A-Za-z_][A-Za-z0-9_]*|(?<![%\w])%[A-Za-z_][A-Za-z0-9_]*%(?!\w)")


def _normalize_project_name(name: str) -> str:
    name = re.sub(r"[^a-z0-9_-]", "", name.lower())
    return name.lstrip("_-") or "default"


def load_project(
    files: Iterable[str | Path],
    *,
    cwd: Path,
    environ: Mapping[str, str] | None = None,
    profiles: Iterable[str] = (),
    binary: list[str] | bool | None = True,
    timeout_s: float = COMPOSE_TIMEOUT_S,
) -> ComposeProject:
    """Read the project made of ``files`` (``docker compose -f A -f B``) into canonical form.

    ``binary``: ``True`` to look for Compose v2 (:func:`find_compose_binary`), ``False``/``None`` for the
    doctor's own reader only, or the command to run.
    """
    env_in = dict(os.environ if environ is None else environ)
    paths = [(cwd / Path(f)).absolute() if not Path(f).is_absolute() else Path(f) for f in files]
    if not paths:
        found = discover(cwd)
        if found is None:
            raise ComposeError(f"{cwd}: no compose file ({', '.join(DEFAULT_FILES)}): give --compose-file PATH")
        paths = [found]
    directory = paths[0].parent
    environment, dotenv = _project_env(directory, env_in)
    # Compose runs with the project folder as its working directory: ${PWD} is that folder unless set.
    environment.setdefault("PWD", str(directory))
    active = set(profiles) or {p for p in environment.get("COMPOSE_PROFILES", "").split(",") if p.strip()}

    interp = Interpolator(environment, "")
    display = {path: display_path(path, cwd) for path in paths}
    documents: list[tuple[Path, MarkedMap]] = []
    written_env: dict[str, dict[str, str | None]] = {}
    shell_syntax: list[tuple[Location, str]] = []
    for path in paths:
        text = read_bounded(path)
        for number, line in enumerate(text.splitlines(), 1):
            if line.lstrip().startswith("#"):
                continue
            for match in _SHELL_SYNTAX.finditer(line):
                shell_syntax.append((Location(path=display[path], line=number), match.group(0)))
        data = load_yaml(text, str(path))
        if data is None:
            data = MarkedMap()
            data.lines = {}
        if not isinstance(data, MarkedMap):
            raise ComposeError(f"{path}: a compose file is a mapping with a services: key, found {type(data).__name__}")
        interp.where = display[path]
        services_written = data.get("services")
        for name, svc in services_written.items() if isinstance(services_written, dict) else ():
            if isinstance(svc, dict):
                written_env.setdefault(str(name), {}).update(env_mapping(svc.get("environment"), str(path)))
        documents.append((path, interpolate(data, interp, 1)))

    raw_services, sources, model = build_model(documents, directory, interp, written_env, display)
    name = next((str(d["name"]) for _, d in reversed(documents) if d.get("name")), "")
    name = _normalize_project_name(name or environment.get("COMPOSE_PROJECT_NAME", "") or directory.name)
    model["name"] = name
    for key, spec in model.get("volumes", {}).items():
        spec.setdefault("name", key if spec.get("external") else f"{name}_{key}")

    reader = "triton-doctor"
    command = find_compose_binary(env_in) if binary is True else binary or None
    if command:
        model, reader = _run_compose(command, paths, directory, env_in, timeout_s, bool(active)), "docker compose"
    return ComposeProject(
        name=str(model.get("name") or name),
        directory=directory,
        files=tuple(paths),
        config=model,
        reader=reader,
        environment=environment,
        dotenv=dotenv,
        unset=dict(interp.unset),
        active_profiles=frozenset(active),
        sources=sources,
        raw_services=raw_services,
        shell_syntax=tuple(shell_syntax),
        shown_files=tuple(display[path] for path in paths),
    )


def _run_compose(
    command: list[str], paths: list[Path], directory: Path, environ: Mapping[str, str], timeout_s: float, _: bool
) -> dict[str, Any]:
    args = [*command]
    for path in paths:
        args += ["-f", str(path)]
    args += ["--project-directory", str(directory), "--profile", "*", "config", "--format", "json"]
    args += ["--no-env-resolution"]
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=timeout_s, check=False, env=dict(environ), cwd=directory
        )
    except subprocess.TimeoutExpired:
        raise ComposeError(
            f"{paths[0]}: docker compose config did not answer within {timeout_s:.0f}s "
            "(TRITON_DOCTOR_COMPOSE=none uses the doctor's own reader)"
        ) from None
    except OSError as exc:
        raise ComposeError(f"{command[0]}: cannot run docker compose: {exc.strerror}") from None
    if done.returncode != 0:
        message = " ".join(done.stderr.strip().splitlines()[-3:])[:400]
        raise ComposeError(f"{paths[0]}: docker compose config refused the project: {message}")
    try:
        data = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise ComposeError(f"{paths[0]}: docker compose config printed no JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise ComposeError(f"{paths[0]}: docker compose config printed no JSON object")
    return _unescape(data)  # type: ignore[no-any-return]


def _unescape(value: Any) -> Any:
    """``docker compose config`` writes every literal ``$`` as ``$$`` (its output stays a valid compose file)."""
    if isinstance(value, dict):
        return {k: _unescape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unescape(v) for v in value]
    if isinstance(value, str):
        return value.replace("$$", "$")
    return value
