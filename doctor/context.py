"""The read-only context a check receives: the target and named facts computed once through probes.

Design note (a simplification of ``shared/design``): facts are memoised methods rather than a declared
graph resolved with ``graphlib``. A fact that needs another simply calls it, so the dependency order is
the call order and there is no second list of edges to keep in sync; cycles would show up as infinite
recursion in the first test that touches them. Each fact is computed at most once per run (per-key locks,
because the runner executes checks in worker threads to enforce timeouts) and returned as frozen data.
The exception is the parsed ``config.pbtxt``, a protobuf message, which checks treat as read-only.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, TypeVar

from triton_doctor.probes import fs
from triton_doctor.probes.docker_probe import DockerFacts, DockerProbe, ImageFacts, MountProbeResult
from triton_doctor.probes.hub_probe import HubCall, HubProbe
from triton_doctor.probes.nvml_probe import GpuFacts, read_nvml
from triton_doctor.probes.pbtxt import ParsedConfig, field_positions, parse_config
from triton_doctor.results import Location
from triton_doctor.target import MountSpec, Target, host_path

if TYPE_CHECKING:
    from triton_doctor.modelfacts import CheckpointRead

__all__ = ["Context", "JsonDoc", "LocalModel", "ModelFacts", "Probes", "RepoFacts", "parallel_sizes"]

T = TypeVar("T")

_VERSION_RE = re.compile(r"^[1-9][0-9]*$")


@dataclass(frozen=True, slots=True)
class RepoFacts:
    """The model repository on the host."""

    path: Path
    #: The path as shown to the user.
    display: str
    exists: bool
    is_dir: bool
    error: str | None
    #: Sub-directories (candidate models), sorted.
    model_dirs: tuple[str, ...] = ()
    #: Files at the top level (a config.pbtxt here means the repo path points at a model, not a repository).
    files: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class JsonDoc:
    """A JSON file: its data or the decode error with position, and the line of each top-level key."""

    path: Path
    display: str
    exists: bool
    data: Any = None
    error: str | None = None
    line: int | None = None
    column: int | None = None
    key_lines: dict[str, int] = field(default_factory=dict)
    duplicate_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ModelFacts:
    """One model directory of the repository."""

    name: str
    path: Path
    display: str
    exists: bool
    config_display: str
    config_exists: bool
    config_text: str | None
    config_read_error: str | None
    parsed: ParsedConfig | None
    positions: dict[tuple[str | int, ...], tuple[int, int]]
    #: Version directories Triton accepts (numeric, no leading zero), highest last.
    versions: tuple[str, ...]
    #: Directories that look like versions but that Triton ignores ("0", "01", "v1").
    ignored_versions: tuple[str, ...]
    #: model.json of the version Triton loads (the highest), or None when there is no version.
    model_json: JsonDoc | None
    #: A model.json sitting directly in the model directory (a common misplacement).
    stray_model_json: str | None

    def config_location(self, *path: str | int) -> Location:
        """The location of a config.pbtxt field (the file alone when the field is absent)."""
        pos = self.positions.get(tuple(path))
        if pos is None:
            return Location(path=self.config_display)
        return Location(path=self.config_display, line=pos[0], column=pos[1])

    def json_location(self, key: str | None = None) -> Location | None:
        """The location of a model.json key (the file alone when absent)."""
        if self.model_json is None:
            return None
        line = self.model_json.key_lines.get(key) if key else None
        return Location(path=self.model_json.display, line=line)


@dataclass(frozen=True, slots=True)
class LocalModel:
    """A model.json ``model`` that is a container path, resolved to the host through the mounts."""

    container_path: str
    mount: MountSpec | None
    host: Path | None
    host_display: str
    exists: bool
    is_dir: bool
    files: tuple[str, ...] = ()
    config: JsonDoc | None = None
    tokenizer_files: tuple[str, ...] = ()
    weight_files: tuple[str, ...] = ()
    weights_bytes: int = 0


_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
_TOKENIZER_FILES = {"tokenizer.json", "tokenizer.model", "tokenizer_config.json", "vocab.json", "spiece.model"}


def _display(base_display: str, *parts: str) -> str:
    return str(PurePosixPath(base_display, *parts)) if base_display else "/".join(parts)


_JSON_TOKEN = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"(?:\s*:)?|[{}\[\]]|\n')


def _json_value_error(exc: ValueError) -> str:
    if "digits" in str(exc):
        return "a number has more digits than Python's JSON reader accepts (4300); write a real value"
    return f"not valid JSON: {str(exc)[:200]}"


#: Python's own message (json.loads of a str that starts with U+FEFF).
BOM_ERROR = "Unexpected UTF-8 BOM (decode using utf-8-sig)"


def read_json(path: Path, display: str) -> JsonDoc:
    """Read a JSON document, keeping the decode position and the line of each top-level key."""
    result = fs.read_text(path)
    if result.missing:
        return JsonDoc(path=path, display=display, exists=False)
    if result.error is not None or result.text is None:
        return JsonDoc(path=path, display=display, exists=True, error=result.error, line=None)
    text = result.text
    if result.bom:  # json.load of a file opened as UTF-8 (the backend, transformers) stops at the mark
        return JsonDoc(path=path, display=display, exists=True, error=BOM_ERROR, line=1, column=1)
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                duplicates.append(key)
            seen[key] = value
        return seen

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        return JsonDoc(path=path, display=display, exists=True, error=exc.msg, line=exc.lineno, column=exc.colno)
    except RecursionError:
        return JsonDoc(path=path, display=display, exists=True, error="nested too deeply", line=1, column=1)
    except ValueError as exc:  # e.g. an integer longer than Python's int max-digits limit (4300)
        return JsonDoc(path=path, display=display, exists=True, error=_json_value_error(exc), line=None)
    key_lines: dict[str, int] = {}
    if isinstance(data, dict):
        # Top-level keys: the first occurrence of "key" followed by a colon at nesting depth 1. Every string
        # is one token (an unrolled pattern: no per-character backtracking state on a 4 MB string).
        depth = 0
        line = 1
        for match in _JSON_TOKEN.finditer(text):
            token = match.group()
            if token == "\n":
                line += 1
            elif token in "{[":
                depth += 1
            elif token in "}]":
                depth -= 1
            elif token.endswith(":") and depth == 1:
                with contextlib.suppress(json.JSONDecodeError):
                    key_lines.setdefault(json.loads(token.rstrip()[:-1].rstrip()), line)
            line += token.count("\n") if len(token) > 1 else 0
    return JsonDoc(
        path=path,
        display=display,
        exists=True,
        data=data,
        key_lines=key_lines,
        duplicate_keys=tuple(dict.fromkeys(duplicates)),
    )


def parallel_sizes(args: dict[str, Any] | None) -> tuple[int, int]:
    """``(tensor_parallel_size, pipeline_parallel_size)`` from model.json; 1 where unset or not a positive int."""

    def positive(key: str) -> int:
        value = (args or {}).get(key, 1)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1

    return positive("tensor_parallel_size"), positive("pipeline_parallel_size")


def _nvml_source() -> Callable[[], GpuFacts]:
    """NVML itself, or the recorded facts named by ``TRITON_DOCTOR_NVML_REPLAY`` (a JSON file written by
    ``scripts/gpu_run.sh`` on a GPU machine), so a machine's GPUs can be replayed where there are none."""
    replay = os.environ.get("TRITON_DOCTOR_NVML_REPLAY")
    if not replay:
        return read_nvml

    def recorded() -> GpuFacts:
        try:
            return GpuFacts.from_json(json.loads(fs.read_file_text(Path(replay), 16 * 1024 * 1024)))
        except (OSError, ValueError, TypeError, KeyError, RecursionError) as exc:
            return GpuFacts(available=False, error_kind="other", error=f"TRITON_DOCTOR_NVML_REPLAY={replay}: {exc}")

    return recorded


@dataclass(slots=True)
class Probes:
    """The code that touches the world; tests replace parts (e.g. recorded NVML values)."""

    docker: DockerProbe = field(default_factory=DockerProbe)
    nvml: Callable[[], GpuFacts] = field(default_factory=_nvml_source)
    hub: HubProbe = field(default_factory=HubProbe)


class Context:
    """Everything a check may read. Facts are computed on first use and cached for the run."""

    def __init__(
        self, target: Target, config: dict[str, Any] | None = None, probes: Probes | None = None, *, live: bool = False
    ) -> None:
        self.target = target
        self.config = config or {}
        self.probes = probes or Probes()
        #: ``--live``: checks may start containers (the GPU probe, the bring-up).
        self.live = live
        #: ``--profile quick``: static only, so no Hub file is fetched or read from the cache for model facts.
        self.static_only = False
        #: How to run the live stage (``check --live``, ``up``); None: defaults.
        self.live_options: Any = None
        #: Called with (phase, elapsed seconds, last log line) while the live stage waits.
        self.progress: Callable[[str, float, str], None] | None = None
        self._live_session: Any = None
        #: A note for the user after teardown (``--keep``: how to reach the kept container).
        self.teardown_note: str | None = None
        self._cache: dict[tuple[object, ...], object] = {}
        self._locks: dict[tuple[object, ...], threading.Lock] = {}
        self._guard = threading.Lock()

    def close(self) -> None:
        """Tear the live container down (unless kept) and release connections held by probes."""
        if self._live_session is not None:
            self.teardown_note = self._live_session.teardown()
        self.probes.docker.close()

    def live_outcome(self) -> Any:
        """Bring the deployment up (or reach ``--server``) once, and return the :class:`LiveOutcome`."""

        def compute() -> Any:
            from triton_doctor.live import LiveOptions, LiveSession

            present = self.selected_models()[0] if self.repo().is_dir else ()
            models = list(self.target.models or present)
            session = LiveSession(
                self.target,
                models,
                self.live_options or LiveOptions(),
                self.progress,
                parallel=max(self.tensor_parallel().values(), default=1) if present else 1,
            )
            self._live_session = session
            return session.run()

        return self.fact(("live",), compute)

    def live_generations(self) -> Any:
        """The live outcome after the test generations (made once, when a model is READY)."""
        out = self.live_outcome()
        if self._live_session is None:
            return out
        return self.fact(("live-generate",), self._live_session.generate)

    def server_model_config(self, name: str) -> Any:
        """``GET /v2/models/NAME/config`` of the ``--server`` (a :class:`ServerConfig`)."""
        from triton_doctor.probes.triton_config import server_model_config

        url = self.target.server_url or ""
        return self.fact(("server-config", name), lambda: server_model_config(url, name))

    def fact(self, key: tuple[object, ...], compute: Callable[[], T]) -> T:
        """Return the cached fact ``key``, computing it once with ``compute``."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._cache:
                self._cache[key] = compute()
            return self._cache[key]  # type: ignore[return-value]

    # -- repository ---------------------------------------------------------------------------------

    def repo(self) -> RepoFacts:
        """The model repository directory and its entries."""
        return self.fact(("repo",), self._compute_repo)

    def _compute_repo(self) -> RepoFacts:
        display = self.target.repo
        path = host_path(self.target.repo)
        listing = fs.list_dir(path)
        if listing.missing:
            return RepoFacts(path=path, display=display, exists=False, is_dir=False, error=None)
        if listing.not_dir:
            return RepoFacts(path=path, display=display, exists=True, is_dir=False, error=None)
        if listing.error is not None:
            return RepoFacts(path=path, display=display, exists=True, is_dir=True, error=listing.error)
        dirs = tuple(sorted(e for e in listing.dirs if not e.startswith(".")))
        return RepoFacts(
            path=path,
            display=display,
            exists=True,
            is_dir=True,
            error=None,
            model_dirs=dirs,
            files=tuple(sorted(listing.files)),
        )

    def selected_models(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """``(models to check that exist, requested models that do not)``."""
        repo = self.repo()
        if self.target.models:
            present = tuple(m for m in self.target.models if m in repo.model_dirs)
            missing = tuple(m for m in self.target.models if m not in repo.model_dirs)
            return present, missing
        return repo.model_dirs, ()

    def model(self, name: str) -> ModelFacts:
        """Facts about one model directory."""
        return self.fact(("model", name), lambda: self._compute_model(name))

    def _compute_model(self, name: str) -> ModelFacts:
        repo = self.repo()
        path = repo.path / name
        display = _display(repo.display, name)
        config_display = _display(display, "config.pbtxt")
        read = fs.read_text(path / "config.pbtxt")
        parsed: ParsedConfig | None = None
        positions: dict[tuple[str | int, ...], tuple[int, int]] = {}
        if read.text is not None:
            parsed = parse_config(read.text)
            if parsed.message is not None:  # positions only point at fields of a config that parses
                positions = field_positions(read.text)
        listing = fs.list_dir(path)
        versions = sorted((d for d in listing.dirs if _VERSION_RE.match(d)), key=int)
        ignored = sorted(
            d for d in listing.dirs if d not in versions and re.match(r"^(?:v|version[_-]?)?[0-9]+$", d, re.IGNORECASE)
        )
        model_json: JsonDoc | None = None
        if versions:
            version = versions[-1]
            model_json = read_json(path / version / "model.json", _display(display, version, "model.json"))
        stray = _display(display, "model.json") if "model.json" in listing.files else None
        return ModelFacts(
            name=name,
            path=path,
            display=display,
            exists=not listing.missing,
            config_display=config_display,
            config_exists=not read.missing,
            config_text=read.text,
            config_read_error=read.error,
            parsed=parsed,
            positions=positions,
            versions=tuple(versions),
            ignored_versions=tuple(ignored),
            model_json=model_json,
            stray_model_json=stray,
        )

    def engine_args(self, name: str) -> dict[str, Any] | None:
        """model.json of a model as a dict, or None when it is missing or not a JSON object."""
        doc = self.model(name).model_json
        if doc is None or not isinstance(doc.data, dict):
            return None
        return doc.data

    # -- local weights ------------------------------------------------------------------------------

    def local_model(self, container_path: str) -> LocalModel:
        """Resolve a container path (model.json ``model``) through the mounts to the host and list it."""
        return self.fact(("local-model", container_path), lambda: self._compute_local_model(container_path))

    def _compute_local_model(self, container_path: str) -> LocalModel:
        mount = self.target.mount_for(container_path)
        if mount is None or mount.type != "bind":
            return LocalModel(
                container_path=container_path, mount=mount, host=None, host_display="", exists=False, is_dir=False
            )
        rel = PurePosixPath(container_path).relative_to(PurePosixPath(mount.target))
        host = host_path(mount.source).joinpath(*rel.parts)
        host_display = str(PurePosixPath(mount.source.replace("\\", "/"), *rel.parts)) if rel.parts else mount.source
        listing = fs.list_dir(host)
        if listing.missing or listing.not_dir:
            return LocalModel(
                container_path=container_path,
                mount=mount,
                host=host,
                host_display=host_display,
                exists=not listing.missing,
                is_dir=False,
            )
        files = tuple(sorted(listing.files))
        weights = tuple(f for f in files if f.endswith(_WEIGHT_SUFFIXES) and f != "training_args.bin")
        size = sum(listing.sizes.get(f, 0) for f in weights)
        config = (
            read_json(host / "config.json", _display(host_display, "config.json")) if "config.json" in files else None
        )
        return LocalModel(
            container_path=container_path,
            mount=mount,
            host=host,
            host_display=host_display,
            exists=True,
            is_dir=True,
            files=files,
            config=config,
            tokenizer_files=tuple(f for f in files if f in _TOKENIZER_FILES),
            weight_files=weights,
            weights_bytes=size,
        )

    def listing(self, path: Path) -> fs.Listing:
        """A host directory's entries (memoised), for checks that look at what else lies in the repository."""
        return self.fact(("listing", str(path)), lambda: fs.list_dir(path))

    def checkpoint(self, source: str) -> CheckpointRead:
        """The checkpoint's config.json as vLLM reads it, for model.json's ``model`` (a path or a Hub id)."""
        from triton_doctor.modelfacts import read_checkpoint

        return self.fact(("checkpoint", source), lambda: read_checkpoint(self, source))

    # -- host: Docker, GPUs, Hub ----------------------------------------------------------------------

    def docker(self) -> DockerFacts:
        """The Docker daemon's version, info and containers (or why it did not answer)."""
        return self.fact(("docker",), self.probes.docker.facts)

    def image(self, ref: str) -> ImageFacts:
        """A local image by reference."""
        return self.fact(("image", ref), lambda: self.probes.docker.image(ref))

    def mount_probe(self, mounts: tuple[tuple[str, str, bool], ...], image: str | None) -> list[MountProbeResult]:
        """The daemon's view of each bind mount (created, never started, removed)."""
        return self.fact(("mount-probe", mounts, image), lambda: self.probes.docker.probe_mounts(list(mounts), image))

    def gpu(self) -> GpuFacts:
        """NVML's inventory."""
        return self.fact(("gpu",), self.probes.nvml)

    def whoami(self, token: str) -> HubCall:
        """The Hub's whoami for a token (called once per run: the endpoint is rate-limited)."""
        return self.fact(("whoami", token), lambda: self.probes.hub.whoami(token))

    def hub_model(self, repo_id: str, token: str | None) -> HubCall:
        """The Hub's model info."""
        return self.fact(("hub-model", repo_id, token), lambda: self.probes.hub.model_info(repo_id, token))

    def hub_access(self, repo_id: str, token: str | None) -> HubCall:
        """The Hub's auth-check."""
        return self.fact(("hub-access", repo_id, token), lambda: self.probes.hub.auth_check(repo_id, token))

    def hub_models(self) -> dict[str, str]:
        """Selected Triton models whose model.json names a Hugging Face id: ``{triton model: repo id}``."""
        from triton_doctor.hfid import is_hub_id

        found: dict[str, str] = {}
        present, _ = self.selected_models()
        for name in present:
            args = self.engine_args(name)
            value = args.get("model") if args else None
            if isinstance(value, str) and is_hub_id(value):
                found[name] = value
        return found

    def tensor_parallel(self) -> dict[str, int]:
        """tensor_parallel_size x pipeline_parallel_size per selected model (1 when unset)."""
        sizes: dict[str, int] = {}
        present, _ = self.selected_models()
        for name in present:
            tp, pp = parallel_sizes(self.engine_args(name))
            sizes[name] = tp * pp
        return sizes
