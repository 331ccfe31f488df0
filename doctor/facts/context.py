"""The read-only context a check receives: the target and named facts computed once through probes.

Design note (a simplification of ``shared/design``): facts are memoised methods rather than a declared
graph resolved with ``graphlib``. A fact that needs another simply calls it, so the dependency order is
the call order and there is no second list of edges to keep in sync; cycles would show up as infinite
recursion in the first test that touches them. Each fact is computed at most once per run (per-key locks,
because the runner executes checks in worker threads to enforce timeouts) and returned as frozen data.
The exception is the parsed ``config.pbtxt``, a protobuf message, which checks treat as read-only.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from triton_doctor.deploy.target import Target
from triton_doctor.facts.repository import (
    LocalModel,
    ModelFacts,
    RepoFacts,
    parallel_sizes,
    read_local_model,
    read_model,
    read_repo,
)
from triton_doctor.probes import fs
from triton_doctor.probes.docker_facts import DockerFacts, ImageFacts, MountProbeResult
from triton_doctor.probes.docker_probe import DockerProbe
from triton_doctor.probes.hub_probe import HubCall, HubProbe
from triton_doctor.probes.nvml_probe import GpuFacts, read_nvml

if TYPE_CHECKING:
    from triton_doctor.facts.checkpoint import CheckpointRead

__all__ = ["Context", "Probes"]

T = TypeVar("T")


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
        #: Starts the live stage for this context (set by the run, which sits above the live stage): a
        #: callable returning a session with ``run()``, ``generate()`` and ``teardown()``.
        self.live_starter: Callable[[Context], Any] | None = None
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
            if self.live_starter is None:
                raise RuntimeError("the live stage was not wired into this context (Context.live_starter)")
            session = self.live_starter(self)
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
        return self.fact(("repo",), lambda: read_repo(self.target))

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
        return self.fact(("model", name), lambda: read_model(self.repo(), name))

    def engine_args(self, name: str) -> dict[str, Any] | None:
        """model.json of a model as a dict, or None when it is missing or not a JSON object."""
        doc = self.model(name).model_json
        if doc is None or not isinstance(doc.data, dict):
            return None
        return doc.data

    # -- local weights ------------------------------------------------------------------------------

    def local_model(self, container_path: str) -> LocalModel:
        """Resolve a container path (model.json ``model``) through the mounts to the host and list it."""
        return self.fact(("local-model", container_path), lambda: read_local_model(self.target, container_path))

    def listing(self, path: Path) -> fs.Listing:
        """A host directory's entries (memoised), for checks that look at what else lies in the repository."""
        return self.fact(("listing", str(path)), lambda: fs.list_dir(path))

    def checkpoint(self, source: str) -> CheckpointRead:
        """The checkpoint's config.json as vLLM reads it, for model.json's ``model`` (a path or a Hub id)."""
        from triton_doctor.facts.checkpoint import read_checkpoint

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
        from triton_doctor.core.hfid import is_hub_id

        found: dict[str, str] = {}
        present, _ = self.selected_models()
        for name in present:
            args = self.engine_args(name)
            value = args.get("model") if args else None
            if isinstance(value, str) and is_hub_id(value):
                found[name] = value
        return found

    def tensor_parallel(self) -> dict[str, int]:
        """tensor_parallel_size x pipeline_parallel_size per selected model (1 when unset).

        Computed once per run (checks ask per model: recomputing it each time was quadratic in models);
        the dict is shared, so callers treat it as read-only.
        """

        def compute() -> dict[str, int]:
            sizes: dict[str, int] = {}
            present, _ = self.selected_models()
            for name in present:
                tp, pp = parallel_sizes(self.engine_args(name))
                sizes[name] = tp * pp
            return sizes

        return self.fact(("tensor-parallel",), compute)
