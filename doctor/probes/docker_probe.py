"""Docker probe: the daemon, its version and runtimes, images, containers, and two real container probes.

Every call goes through the docker SDK with a timeout. Failures come back as values with a ``kind``
(``socket-missing``, ``permission-denied``, ``refused``, ``timeout``, ``other``) so that checks can give
each its own remedy; nothing here raises to the caller.

The mount probe is the guide's own test done without a registry and without running anything: it imports
an empty image (``triton-doctor/probe:1``, made from an empty tar), *creates* a container with the user's
bind mounts (the daemon validates bind sources at create: ``bind source path does not exist``), reads
each mount target back with ``docker cp`` semantics (``get_archive``, which works on a container that was
never started) and removes the container. The GPU probe starts such a container with ``--gpus all``
semantics (a device request) and reports the daemon's error, e.g. ``could not select device driver``.
"""

from __future__ import annotations

import contextlib
import io
import os
import tarfile
from collections.abc import Iterator
from typing import Any

from triton_doctor.probes.docker_facts import DockerFacts, ImageFacts, MountProbeResult, container

__all__ = [
    "PROBE_IMAGE",
    "PROBE_LABEL",
    "DockerFacts",
    "DockerProbe",
    "ImageFacts",
    "MountProbeResult",
    "classify_error",
]

PROBE_IMAGE = "triton-doctor/probe:1"
#: Every container triton-doctor creates carries this label, and only those are ever removed.
PROBE_LABEL = "io.triton-doctor.owned"
TIMEOUT_S = 10


def classify_error(exc: BaseException) -> str:
    """Map a docker SDK / requests exception to a failure kind."""
    text = f"{type(exc).__name__}: {exc}"
    chain: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and len(chain) < 10:
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    joined = " ".join(f"{type(e).__name__}: {e}" for e in chain) + " " + text
    lowered = joined.lower()
    if "permission denied" in lowered or "errno 13" in lowered:
        return "permission-denied"
    if "timed out" in lowered or "timeout" in lowered:
        return "timeout"
    if "connection refused" in lowered or "errno 111" in lowered:
        return "refused"
    if (
        "no such file or directory" in lowered
        or "errno 2" in lowered
        or "filenotfounderror" in lowered
        or "cannot find the file specified" in lowered
        or ("pipe" in lowered and "not found" in lowered)
    ):
        return "socket-missing"
    return "other"


def docker_host() -> str:
    """Where the SDK will connect (``DOCKER_HOST`` or the platform default)."""
    default = "npipe:////./pipe/docker_engine" if os.name == "nt" else "unix:///var/run/docker.sock"
    return os.environ.get("DOCKER_HOST", default)


class DockerProbe:
    """Talks to the Docker daemon through the SDK, lazily imported."""

    def __init__(self, timeout: float | None = None) -> None:
        self.timeout = timeout or float(os.environ.get("TRITON_DOCTOR_DOCKER_TIMEOUT", TIMEOUT_S))
        self._client: Any = None
        #: This run imported the probe image (it removes it on close).
        self._made_probe_image = False

    def client(self) -> Any:
        """The SDK client (created once; raises on failure)."""
        if self._client is None:
            import docker

            self._client = docker.from_env(timeout=int(max(1, self.timeout)))
        return self._client

    def close(self) -> None:
        """Remove the probe image this run imported (unless TRITON_DOCTOR_KEEP_PROBE_IMAGE=1), close the SDK
        client's connections."""
        if self._client is not None and self._made_probe_image:
            self._made_probe_image = False
            if os.environ.get("TRITON_DOCTOR_KEEP_PROBE_IMAGE", "") not in {"1", "true", "yes"}:
                # Never forced: a container another doctor created from it keeps it (and removes it later).
                with contextlib.suppress(Exception):
                    self._client.images.remove(PROBE_IMAGE)
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None

    def facts(self) -> DockerFacts:
        """Ping the daemon and read version, info and containers."""
        host = docker_host()
        if host.startswith("unix://") and not os.path.exists(host.removeprefix("unix://")):
            # Checked first: docker-py leaks the socket object of a failed unix connect().
            return DockerFacts(
                host=host,
                reachable=False,
                error_kind="socket-missing",
                error=f"no such socket: {host.removeprefix('unix://')}",
            )
        try:
            client = self.client()
            version = client.version()
            info = client.info()
            containers = client.api.containers(all=True)
        except Exception as exc:  # noqa: BLE001 - every failure is a fact
            self.close()
            return DockerFacts(host=host, reachable=False, error_kind=classify_error(exc), error=_short(exc))
        security = [str(s) for s in info.get("SecurityOptions") or []]
        runtimes = tuple(sorted((info.get("Runtimes") or {}).keys()))
        operating_system = str(info.get("OperatingSystem") or "")
        return DockerFacts(
            host=host,
            reachable=True,
            version=str(version.get("Version") or ""),
            api_version=str(version.get("ApiVersion") or ""),
            min_api_version=str(version.get("MinAPIVersion") or ""),
            os_type=str(info.get("OSType") or ""),
            operating_system=operating_system,
            kernel=str(info.get("KernelVersion") or ""),
            desktop="docker desktop" in operating_system.lower(),
            rootless=any("rootless" in s for s in security),
            runtimes=runtimes,
            default_runtime=info.get("DefaultRuntime"),
            cdi_spec_dirs=tuple(info.get("CDISpecDirs") or ()),
            data_root=info.get("DockerRootDir"),
            storage_driver=info.get("Driver"),
            containers=tuple(container(c) for c in containers),
            mem_total=int(info["MemTotal"]) if info.get("MemTotal") else None,
        )

    def image(self, ref: str) -> ImageFacts:
        """Look an image up locally (no pull)."""
        import docker.errors

        try:
            image = self.client().images.get(ref)
        except docker.errors.ImageNotFound:
            return ImageFacts(ref=ref, present=False)
        except Exception as exc:  # noqa: BLE001
            return ImageFacts(ref=ref, present=False, error=_short(exc))
        attrs = image.attrs
        return ImageFacts(
            ref=ref,
            present=True,
            id=image.id,
            size=int(attrs.get("Size") or 0),
            tags=tuple(attrs.get("RepoTags") or ()),
            digests=tuple(attrs.get("RepoDigests") or ()),
        )

    def ensure_probe_image(self) -> str:
        """Import the empty probe image if it is not there; return its reference."""
        client = self.client()
        try:
            client.images.get(PROBE_IMAGE)
        except Exception:  # noqa: BLE001 - absent: make it
            buffer = io.BytesIO()
            tarfile.open(fileobj=buffer, mode="w").close()
            repo, tag = PROBE_IMAGE.split(":")
            client.api.import_image_from_data(
                buffer.getvalue(), repository=repo, tag=tag, changes=[f"LABEL {PROBE_LABEL}=probe"]
            )
            self._made_probe_image = True
        return PROBE_IMAGE

    def probe_mounts(self, mounts: list[tuple[str, str, bool]], image: str | None = None) -> list[MountProbeResult]:
        """Create (never start) a container with each bind mount and list what the daemon sees there."""
        import docker

        client = self.client()
        ref = image or self.ensure_probe_image()
        results: list[MountProbeResult] = []
        for source, target, readonly in mounts:
            mount = docker.types.Mount(target=target, source=source, type="bind", read_only=readonly)
            container_id: str | None = None
            try:
                try:
                    created = client.api.create_container(
                        ref,
                        command=["/triton-doctor-probe"],
                        labels={PROBE_LABEL: "mount-probe"},
                        host_config=client.api.create_host_config(mounts=[mount]),
                    )
                except docker.errors.ImageNotFound:
                    if image is not None:
                        raise
                    # Another doctor removed its probe image in between: import it again, once.
                    ref = self.ensure_probe_image()
                    created = client.api.create_container(
                        ref,
                        command=["/triton-doctor-probe"],
                        labels={PROBE_LABEL: "mount-probe"},
                        host_config=client.api.create_host_config(mounts=[mount]),
                    )
                container_id = created["Id"]
                # The archive is read only up to 50 entries (it may hold gigabytes of weights): close the
                # response then, or its half-read connection blocks the removal below, which left the
                # probe container behind.
                response = client.api._get(
                    client.api._url("/containers/{0}/archive", container_id),
                    params={"path": target.rstrip("/") + "/."},
                    stream=True,
                )
                entries: list[str] = []
                try:
                    client.api._raise_for_status(response)
                    chunks = response.iter_content(chunk_size=65536)
                    with tarfile.open(fileobj=_Stream(chunks), mode="r|") as archive:
                        for member in archive:
                            name = member.name.removeprefix("./").removeprefix(".")
                            if name and "/" not in name.strip("/"):
                                entries.append(name.strip("/"))
                            if len(entries) >= 50:
                                break
                finally:
                    response.close()
                results.append(MountProbeResult(source=source, target=target, ok=True, entries=tuple(entries)))
            except Exception as exc:  # noqa: BLE001 - the daemon's own words are the finding
                results.append(MountProbeResult(source=source, target=target, ok=False, error=_short(exc)))
            finally:
                if container_id is not None:
                    self._remove(container_id)
        return results

    def probe_gpus(self, image: str | None = None, command: list[str] | None = None) -> tuple[bool, str]:
        """Start a container with ``--gpus all``; return ``(ok, output or the daemon's error)``."""
        import docker

        client = self.client()
        ref = image or self.ensure_probe_image()
        container_id: str | None = None
        try:
            created = client.api.create_container(
                ref,
                command=command or ["nvidia-smi", "-L"],
                labels={PROBE_LABEL: "gpu-probe"},
                host_config=client.api.create_host_config(
                    device_requests=[docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])]
                ),
            )
            container_id = created["Id"]
            client.api.start(container_id)
            status = client.api.wait(container_id, timeout=max(30, self.timeout))
            logs = client.api.logs(container_id).decode("utf-8", "replace")
            code = int(status.get("StatusCode", 1))
            return code == 0, logs.strip() or f"exit code {code}"
        except Exception as exc:  # noqa: BLE001
            return False, _short(exc)
        finally:
            if container_id is not None:
                self._remove(container_id)

    def log_lines(self, container: str, *, follow: bool = False) -> Iterator[str]:
        """A container's log (stdout and stderr) line by line; ``follow`` waits for more until it stops."""
        stream = self.client().api.logs(container, stdout=True, stderr=True, stream=True, follow=follow)
        pending = b""
        for chunk in stream:
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                yield line.decode("utf-8", "replace")
        if pending:
            yield pending.decode("utf-8", "replace")

    def _remove(self, container_id: str) -> None:
        try:
            info = self.client().api.inspect_container(container_id)
            if (info.get("Config", {}).get("Labels") or {}).get(PROBE_LABEL):
                self.client().api.remove_container(container_id, force=True, v=True)
        except Exception:  # noqa: BLE001 - best effort; the label lets a later run find leftovers
            pass


class _Stream(io.RawIOBase):
    """Adapt the SDK's chunk iterator to a file object for tarfile's stream mode."""

    def __init__(self, chunks: Any) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def _short(exc: BaseException) -> str:
    # docker.errors.APIError keeps the daemon's own sentence in .explanation; the str() adds the HTTP request.
    explanation = getattr(exc, "explanation", None)
    text = str(explanation if explanation else exc).strip() or type(exc).__name__
    return text if len(text) < 600 else text[:600] + " ..."
