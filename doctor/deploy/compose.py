"""Read a Compose project (``compose.yaml``, ``docker-compose.yml`` ...) as the deployment ``docker run`` describes.

A compose service becomes the same :class:`~triton_doctor.dockercmd.DockerRun` record a pasted ``docker run``
command gives, so every check of the deployment applies unchanged. Two readers produce the canonical model
(the shape ``docker compose config --format json`` prints):

* the reference implementation, when a Compose v2 binary is found (``docker compose`` as a CLI plugin, or a
  ``docker-compose`` v2 on PATH, or ``$TRITON_DOCTOR_COMPOSE``): ``config --format json`` under a timeout;
* the doctor's own reader otherwise: YAML 1.2 core schema, interpolation (``${VAR}``, ``${VAR:-default}``,
  ``${VAR:?error}``, ``$$``), ``.env``, ``env_file``, ``profiles``, ``extends``, several files merged,
  relative paths resolved against the project folder, short and long volume and port syntax.

Whichever reader ran, the files are also parsed here with line marks, so findings point at the compose file's
line (:class:`SourceMap`). Bad input raises :class:`ComposeError` whose message names the file and the fix.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
import yaml.composer
import yaml.constructor
import yaml.parser
import yaml.reader
import yaml.resolver
import yaml.scanner

from triton_doctor.dockercmd import DockerRun, Mount, PortMap, _parse_tritonserver
from triton_doctor.probes.fs import FileReadError, read_file_text
from triton_doctor.results import Location

if TYPE_CHECKING:
    from triton_doctor.target import TargetInput

__all__ = [
    "DEFAULT_FILES",
    "ComposeError",
    "ComposeProject",
    "ComposeService",
    "SourceMap",
    "compose_target",
    "discover",
    "find_compose_binary",
    "load_project",
    "parse_env_file",
    "service_to_docker_run",
]

#: The files ``docker compose`` reads when no ``-f`` is given, in its order of preference.
DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
#: A compose or .env file larger than this is not one (the bounded reader refuses it).
MAX_FILE_BYTES = 1024 * 1024
#: How long ``docker compose config`` may take before the doctor's own reader is used instead.
COMPOSE_TIMEOUT_S = 20.0
_MAX_EXTENDS_DEPTH = 16


class ComposeError(ValueError):
    """The compose project cannot be read; the message names the file (and line) and the fix."""


# -- YAML 1.2 core schema with line marks ---------------------------------------------------------------------


class _Resolver(yaml.resolver.BaseResolver):
    """YAML 1.2 core schema, as Compose's go-yaml reads it: ``22:22`` is a string, ``yes`` is a string."""


_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_Resolver.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_Resolver.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


class _Map(dict[Any, Any]):
    """A mapping that remembers the line of each key (1-based) and of itself."""

    line: int = 0
    lines: dict[Any, int]


class _Seq(list[Any]):
    """A sequence that remembers the line of each item (1-based) and of itself."""

    line: int = 0
    lines: list[int]


class _Loader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    yaml.constructor.SafeConstructor,
    _Resolver,
):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        _Resolver.__init__(self)


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    out = _Map()
    out.line = node.start_mark.line + 1
    out.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            )
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> _Seq:
    out = _Seq(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.lines = [child.start_mark.line + 1 for child in node.value]
    return out


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)  # type: ignore[type-var]
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)  # type: ignore[type-var]


def _load_yaml(text: str, path: str) -> Any:
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else path
        raise ComposeError(f"{where}: not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ComposeError(f"{path}: not valid YAML: {exc}") from None
    except RecursionError:
        raise ComposeError(f"{path}: not valid YAML: nested too deeply") from None
    finally:
        loader.dispose()


# -- interpolation ----------------------------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(slots=True)
class _Interp:
    env: Mapping[str, str]
    where: str
    unset: dict[str, str] = field(default_factory=dict)

    def expand(self, text: str, line: int) -> str:
        out, _ = self._expand(text, 0, line, stop=None)
        return out

    def _expand(self, text: str, i: int, line: int, stop: str | None) -> tuple[str, int]:
        out: list[str] = []
        n = len(text)
        while i < n:
            ch = text[i]
            if stop is not None and ch == stop:
                return "".join(out), i
            if ch != "$":
                out.append(ch)
                i += 1
                continue
            nxt = text[i + 1] if i + 1 < n else ""
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "{":
                value, i = self._braced(text, i + 2, line)
                out.append(value)
                continue
            match = _NAME.match(text, i + 1)
            if match:
                out.append(self._lookup(match.group(0), line))
                i = match.end()
                continue
            out.append("$")
            i += 1
        if stop is not None:
            raise ComposeError(f"{self.where}:{line}: unterminated ${{...}} in {text[:80]!r} (close it with '}}')")
        return "".join(out), i

    def _lookup(self, name: str, line: int) -> str:
        if name in self.env:
            return self.env[name]
        self.unset.setdefault(name, f"{self.where}:{line}")
        return ""

    def _braced(self, text: str, i: int, line: int) -> tuple[str, int]:
        match = _NAME.match(text, i)
        if not match:
            raise ComposeError(
                f"{self.where}:{line}: invalid interpolation format in {text[:80]!r}: write ${{NAME}}, "
                "${NAME:-default} or $$ for a literal $"
            )
        name = match.group(0)
        i = match.end()
        if i < len(text) and text[i] == "}":
            return self._lookup(name, line), i + 1
        for op in (":-", ":?", ":+", "-", "?", "+"):
            if text.startswith(op, i):
                rest, end = self._expand(text, i + len(op), line, stop="}")
                value = self.env.get(name)
                empty_counts = op.startswith(":")
                is_set = value is not None and (value != "" or not empty_counts)
                if op.endswith("-"):
                    return (value if is_set and value is not None else rest), end + 1
                if op.endswith("+"):
                    return (rest if is_set else ""), end + 1
                if not is_set:
                    reason = rest or f"{name} is not set"
                    raise ComposeError(
                        f"{self.where}:{line}: required variable {name} is missing a value: {reason} "
                        f"(export {name}=... or write it into the project's .env)"
                    )
                return value or "", end + 1
        raise ComposeError(
            f"{self.where}:{line}: invalid interpolation format in {text[:80]!r}: write ${{NAME}}, "
            "${NAME:-default} or $$ for a literal $"
        )


def _interpolate(value: Any, interp: _Interp, line: int) -> Any:
    """Interpolate every string value (never keys) of a loaded document, keeping the line marks."""
    if isinstance(value, _Map):
        out = _Map()
        out.line, out.lines = value.line, dict(value.lines)
        for key, item in value.items():
            out[key] = _interpolate(item, interp, value.lines.get(key, value.line))
        return out
    if isinstance(value, _Seq):
        seq = _Seq(_interpolate(item, interp, value.lines[i]) for i, item in enumerate(value))
        seq.line, seq.lines = value.line, list(value.lines)
        return seq
    if isinstance(value, str):
        return interp.expand(value, line)
    return value


# -- .env files ---------------------------------------------------------------------------------------------------

_ENV_LINE = re.compile(r"^\s*(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)\s*(?:(?P<sep>[=:])\s*(?P<value>.*))?$")


def parse_env_file(text: str, env: Mapping[str, str] | None = None, path: str = ".env") -> dict[str, str | None]:
    """``NAME=value`` lines as Compose reads them (quotes, ``export``, comments, ``${VAR}`` in values)."""
    lookup: dict[str, str] = dict(env or {})
    out: dict[str, str | None] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i]
        i += 1
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.match(raw)
        if not match:
            continue
        name = match.group("name")
        if match.group("sep") is None:
            out[name] = None
            continue
        value = match.group("value") or ""
        quote = value[:1]
        if quote in {"'", '"'}:
            body = value[1:]
            while quote not in body.replace("\\" + quote, "") and i < len(lines):
                body += "\n" + lines[i]
                i += 1
            end = _closing_quote(body, quote)
            inner = body[:end] if end >= 0 else body
            if quote == '"':
                inner = inner.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
                inner = _Interp({**lookup, **{k: v for k, v in out.items() if v is not None}}, path).expand(inner, i)
            value = inner
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
            value = _Interp({**lookup, **{k: v for k, v in out.items() if v is not None}}, path).expand(value, i)
        out[name] = value
    return out


def _closing_quote(body: str, quote: str) -> int:
    j = 0
    while j < len(body):
        if body[j] == "\\" and quote == '"':
            j += 2
            continue
        if body[j] == quote:
            return j
        j += 1
    return -1


def _read(path: Path) -> str:
    try:
        return read_file_text(path, MAX_FILE_BYTES)
    except FileReadError as exc:
        raise ComposeError(f"{path}: {'file not found' if exc.missing else exc.reason}") from None


# -- the project --------------------------------------------------------------------------------------------------


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
        dotenv = parse_env_file(_read(dotenv_path), environ, str(dotenv_path))
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

    interp = _Interp(environment, "")
    display = {path: _display(path, cwd) for path in paths}
    documents: list[tuple[Path, _Map]] = []
    written_env: dict[str, dict[str, str | None]] = {}
    shell_syntax: list[tuple[Location, str]] = []
    for path in paths:
        text = _read(path)
        for number, line in enumerate(text.splitlines(), 1):
            if line.lstrip().startswith("#"):
                continue
            for match in _SHELL_SYNTAX.finditer(line):
                shell_syntax.append((Location(path=display[path], line=number), match.group(0)))
        data = _load_yaml(text, str(path))
        if data is None:
            data = _Map()
            data.lines = {}
        if not isinstance(data, _Map):
            raise ComposeError(f"{path}: a compose file is a mapping with a services: key, found {type(data).__name__}")
        interp.where = display[path]
        services_written = data.get("services")
        for name, svc in services_written.items() if isinstance(services_written, dict) else ():
            if isinstance(svc, dict):
                written_env.setdefault(str(name), {}).update(_env_mapping(svc.get("environment"), str(path)))
        documents.append((path, _interpolate(data, interp, 1)))

    raw_services, sources, model = _build(documents, directory, interp, written_env, display)
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


# -- the doctor's own reader: merge, extends, normalise ----------------------------------------------------


def _build(
    documents: list[tuple[Path, _Map]],
    directory: Path,
    interp: _Interp,
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
        if not isinstance(doc_services, _Map):
            raise ComposeError(f"{path}:{doc.lines.get('services', 1)}: services must be a mapping of service names")
        for name, written in doc_services.items():
            svc = written
            if svc is None:
                svc = _Map()
                svc.line, svc.lines = doc_services.lines.get(name, 1), {}
            if not isinstance(svc, _Map):
                raise ComposeError(f"{path}:{doc_services.lines.get(name, 1)}: service {name!r} must be a mapping")
            resolved = _extend(svc, doc_services, path, directory, path, interp, 0)
            normalised = _normalise_service(resolved, directory, path)
            services[name] = _merge_service(services.get(name, {}), normalised)
            _mark(str(name), svc, display[path], doc_services.lines.get(name, 1), marks, short, directory)
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
    interp: _Interp,
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
        data = _load_yaml(_read(other), str(other))
        interp.where = str(other)
        data = _interpolate(data, interp, 1)
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
    return _merge_service(_normalise_service(resolved_base, directory, path), _normalise_service(own, directory, path))


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


def _env_mapping(value: Any, where: str) -> dict[str, str | None]:
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


def _volume(value: Any, directory: Path) -> dict[str, Any]:
    if isinstance(value, dict):
        out = {k: v for k, v in value.items() if k in {"type", "source", "target", "read_only", "bind"}}
        out.setdefault("type", "volume")
        if out["type"] == "bind" and "source" in out:
            out["source"] = _host_path(str(out["source"]), directory)
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
    out = {"type": "bind" if bind else "volume", "source": _host_path(source, directory) if bind else source}
    out["target"] = posixpath.normpath(target) if target.startswith("/") else target
    if "ro" in opts.split(","):
        out["read_only"] = True
    if bind:
        out["bind"] = {"create_host_path": True}
    return out


def _host_path(source: str, directory: Path) -> str:
    if source.startswith("~"):
        return os.path.expanduser(source)
    if re.match(r"^[A-Za-z]:[\\/]", source) or source.startswith("/"):
        return source
    return os.path.normpath(str(directory / source))


def _ports(value: Any) -> list[dict[str, Any]]:
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


def _at(path: Path, seq: Any, index: int, func: Any, *args: Any) -> Any:
    """``func(*args)``, its :class:`ComposeError` prefixed with the file and line of ``seq[index]``."""
    try:
        return func(*args)
    except ComposeError as exc:
        line = seq.lines[index] if isinstance(seq, _Seq) else None
        raise ComposeError(f"{path}{f':{line}' if line else ''}: {exc}") from None


def _normalise_service(svc: Mapping[str, Any], directory: Path, path: Path) -> dict[str, Any]:
    """The parts of a service the doctor reads, in the form ``docker compose config`` prints them."""
    out: dict[str, Any] = {}
    for key, value in svc.items():
        match key:
            case "environment":
                out[key] = _env_mapping(value, str(path))
            case "env_file":
                items = value if isinstance(value, list) else [value]
                out[key] = [
                    {
                        "path": _host_path(str(e["path"] if isinstance(e, dict) else e), directory),
                        "required": bool(e.get("required", True)) if isinstance(e, dict) else True,
                    }
                    for e in items
                ]
            case "command" | "entrypoint":
                out[key] = _words(value)
            case "volumes":
                out[key] = [_at(path, value, i, _volume, v, directory) for i, v in enumerate(value or [])]
            case "ports":
                ports = [p for i, v in enumerate(value or []) for p in _at(path, value, i, _ports, v)]
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


def _merge_service(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
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


def _display(path: Path, cwd: Path) -> str:
    """``path`` as the user would write it: relative to the working folder when inside it."""
    try:
        return str(path.relative_to(cwd.absolute()))
    except ValueError:
        return str(path)


def _mark(
    name: str,
    svc: _Map,
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
    if isinstance(env, _Map):
        for key, key_line in env.lines.items():
            here[f"env:{key}"] = Location(path=display, line=key_line)
    elif isinstance(env, _Seq):
        for item, item_line in zip(env, env.lines, strict=True):
            here[f"env:{str(item).partition('=')[0]}"] = Location(path=display, line=item_line)
    vols = svc.get("volumes")
    if isinstance(vols, _Seq):
        for item, item_line in zip(vols, vols.lines, strict=True):
            spec = _volume(item, directory)
            here[f"volume:{spec.get('target')}"] = Location(path=display, line=item_line)
            if isinstance(item, str):
                short.setdefault(name, set()).add(str(spec.get("target")))
            else:
                short.setdefault(name, set()).discard(str(spec.get("target")))
    ports = svc.get("ports")
    if isinstance(ports, _Seq):
        for item, item_line in zip(ports, ports.lines, strict=True):
            for port in _ports(item):
                here[f"port:{port['target']}"] = Location(path=display, line=item_line)


# -- the deployment record ----------------------------------------------------------------------------------


def gpu_capable(dev: Mapping[str, Any]) -> bool:
    """A device reservation that hands GPUs to the container: its capabilities include ``gpu``."""
    caps = dev.get("capabilities") or []
    return "gpu" in {c for group in caps for c in (group if isinstance(group, list) else [group])}


def _gpus(devices: Iterable[Any], *, need_capability: bool = False) -> str | None:
    """``--gpus`` for a list of device requests: ``all``, a count, or ``device=0,1``."""
    for dev in devices:
        if not isinstance(dev, dict):
            continue
        if (need_capability or dev.get("capabilities")) and not gpu_capable(dev):
            continue
        ids = dev.get("device_ids")
        if ids:
            return "device=" + ",".join(str(i) for i in ids)
        count = dev.get("count")
        if count is None or count == -1 or str(count).lower() == "all":
            return "all"
        return str(count)
    return None


_REF = re.compile(r"\$(?:(?P<bare>[A-Za-z_][A-Za-z0-9_]*)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<default>:?-[^}]*)?\})")


def _env_value(name: str, value: Any, source: SourceMap, project: ComposeProject) -> str | None:
    """A value written as a reference to one host variable stays that reference, as in ``-e NAME=$VAR``.

    The token checks then resolve it themselves (and never print it); a value that came from the project's
    ``.env``, a default, or any other text is the interpolated value.
    """
    written = source.raw_env.get(name)
    if value is None:
        return None
    if written and re.fullmatch(r"\$env:\w+|%\w+%", written.strip()):
        return written.strip()  # shell syntax Compose does not read: kept as written, as docker run keeps it
    ref = _REF.fullmatch(written.strip()) if written else None
    if ref is None:
        return str(value)
    var = ref.group("bare") or ref.group("name")
    if var in project.dotenv and var not in os.environ:
        return str(value)
    if var in os.environ or not ref.group("default"):
        return f"${{{var}}}"
    return str(value)


def service_to_docker_run(service: ComposeService) -> DockerRun:
    """The ``docker run`` this service amounts to: what every deployment check reads."""
    svc = service.config
    source = service.source
    project = service.project
    run = DockerRun(dialect="bash")
    run.image = str(svc.get("image") or "")
    where = source.at("service")
    origin = f" ({where})" if where else ""
    for vol in svc.get("volumes") or []:
        vtype = str(vol.get("type", "volume"))
        src = str(vol.get("source") or "")
        if vtype == "volume" and src:
            spec = (project.config.get("volumes") or {}).get(src) or {}
            src = str(spec.get("name") or src)
        target = str(vol.get("target") or "")
        readonly = bool(vol.get("read_only"))
        created = vtype == "bind" and bool((vol.get("bind") or {}).get("create_host_path"))
        loc = source.at(f"volume:{target}")
        at = f" ({loc})" if loc else origin
        if created or (vtype == "volume" and target in source.short_volumes):
            raw = f"-v {src}:{target}{':ro' if readonly else ''}{at}"
        else:
            raw = f"--mount type={vtype},source={src},target={target}{',readonly' if readonly else ''}{at}"
        run.mounts.append(Mount(type=vtype, source=src, target=target, readonly=readonly, raw=raw))
    read = project.raw_services.get(service.name, {})
    run.env_files = [str(e["path"]) for e in read.get("env_file") or [] if Path(str(e["path"])).is_file()]
    from_files: set[str] = set()
    for env_file in run.env_files:
        from_files.update(parse_env_file(_read(Path(env_file)), {}, env_file))
    written = read.get("environment") or {}
    for name, value in (svc.get("environment") or {}).items():
        if name in from_files and name not in written:
            continue  # from an env_file: read through env_files, as docker run --env-file
        run.env[name] = _env_value(name, value, source, project)
    for port in svc.get("ports") or []:
        published = str(port.get("published") or "")
        host = int(published) if published.isdigit() else None
        container = int(port.get("target"))
        host_ip = str(port.get("host_ip") or "")
        proto = str(port.get("protocol") or "tcp")
        spec = (f"{host_ip}:" if host_ip else "") + (f"{published}:" if published else "") + str(container)
        spec += f"/{proto}" if proto != "tcp" else ""
        run.ports.append(PortMap(host_port=host, container_port=container, host_ip=host_ip, protocol=proto, raw=spec))
    run.name = str(svc["container_name"]) if svc.get("container_name") else None
    gpus = _gpus(svc.get("gpus") or [])
    deploy = svc.get("deploy") or {}
    resources = deploy.get("resources") if isinstance(deploy, dict) else None
    reservations = resources.get("reservations") if isinstance(resources, dict) else None
    if gpus is None and isinstance(reservations, dict):
        gpus = _gpus(reservations.get("devices") or [], need_capability=True)
    run.gpus = gpus
    run.runtime = str(svc["runtime"]) if svc.get("runtime") else None
    run.shm_size = str(svc["shm_size"]) if svc.get("shm_size") not in (None, "") else None
    run.ipc = str(svc["ipc"]) if svc.get("ipc") else None
    run.network = str(svc["network_mode"]) if svc.get("network_mode") else None
    for name, limit in (svc.get("ulimits") or {}).items():
        if isinstance(limit, dict):
            soft, hard = limit.get("soft"), limit.get("hard")
            run.ulimits.append(f"{name}={soft}" if soft == hard else f"{name}={soft}:{hard}")
        else:
            run.ulimits.append(f"{name}={limit}")
    run.command = [str(w) for w in (svc.get("entrypoint") or [])] + [str(w) for w in (svc.get("command") or [])]
    _parse_tritonserver(run)
    return run


# -- the target -----------------------------------------------------------------------------------------------------


def _chosen_service(project: ComposeProject, names: tuple[str, ...]) -> str:
    """``--service`` if given, else the one tritonserver service, else the only service."""
    if names:
        for name in names:
            project.service(name)  # raises with the known names
        return names[0]
    triton = project.triton_services()
    active = [name for name in project.services if project.is_active(name)]
    if triton:
        return triton[0]
    if len(active) == 1:
        return active[0]
    raise ComposeError(
        f"{project.files[0]}: no service runs tritonserver; name the one to check with --service "
        f"(services: {', '.join(active) or 'none'})"
    )


def compose_target(inp: TargetInput, config: Mapping[str, Any]) -> tuple[ComposeService, DockerRun, str] | None:
    """The compose service the target names (``--compose-file``/``--service``, the config, or ``compose.yaml`` in
    the working folder when nothing else says what to check), as a deployment record; None when none."""
    from triton_doctor.target import TargetError

    files = tuple(inp.compose_files) or tuple(config.get("compose_files", ()))
    names = tuple(inp.services) or tuple(config.get("services", ()))
    if not files:
        nothing_else = not (
            inp.repo or inp.mounts or inp.image or inp.server or inp.docker_command or inp.docker_command_file
        )
        nothing_else = nothing_else and not any(
            key in config for key in ("docker_command", "docker_command_file", "repo", "mounts", "image", "server")
        )
        if not (names or nothing_else) or discover(inp.cwd) is None:
            if names:
                raise TargetError("--service names a compose service: give --compose-file too (e.g. compose.yaml)")
            return None
    try:
        project = load_project(files, cwd=inp.cwd)
        service = project.service(_chosen_service(project, names))
    except ComposeError as exc:
        raise TargetError(str(exc)) from None
    run = service_to_docker_run(service)
    where = service.source.at("service")
    origin = f"{where or _display(project.files[0], inp.cwd)}: service {service.name} ({project.reader})"
    return service, run, origin
