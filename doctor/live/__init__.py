"""The live stage: bring Triton + vLLM up in Docker (or use a running server), wait for READY, generate.

:class:`LiveSession` owns one container. It starts it the way the user's own ``docker run`` does (their
image, mounts, env, ports and tritonserver arguments) plus what a working deployment also needs
(explicit model control with ``--load-model``, ``--shm-size``, ulimits, ``--ipc=host`` and the spawn method
for tensor parallel). Every container it starts carries the :data:`PROBE_LABEL` label and a session id,
and :meth:`LiveSession.teardown` removes it on every path: success, failure, timeout and Ctrl-C (the
caller runs teardown in ``finally``). While waiting it polls the container's state and the endpoints every
0.2 s and follows the log for the progress line, and stops as soon as the outcome is known: the container
exited (exit code, OOM kill), a model became UNAVAILABLE (its reason from ``POST /v2/repository/index``),
or every model is READY.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from triton_doctor.live.asis import as_written, server_port
from triton_doctor.live.cleanup import deferred_signals, owner_labels
from triton_doctor.live.logwatch import LogWatch
from triton_doctor.logs import LogDiagnosis, scan_lines
from triton_doctor.probes.docker_probe import PROBE_LABEL, DockerProbe
from triton_doctor.probes.triton_http import Generation, TritonHttp, request_counters
from triton_doctor.runcmd import build_spec
from triton_doctor.target import Target, host_path
from triton_doctor.tokens import env_reference, known_secrets, redact

__all__ = ["LiveOptions", "LiveOutcome", "LiveSession", "Progress"]

Progress = Callable[[str, float, str], None]
POLL_S = 0.2
#: Longest one test generation may take (each of stream, generate and gRPC); --timeout lowers it.
GENERATE_TIMEOUT_S = 300.0
FAST_POLL_S = 0.01
SESSION_LABEL = "io.triton-doctor.session"


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveOptions:
    """How to run the live stage."""

    timeout_s: float = 900.0
    keep: bool = False
    gpus: bool = True
    prompt: str = "The capital of France is"
    #: Sampling parameters for the test generation (the doctor's default sets max_tokens).
    sampling: dict[str, Any] = field(default_factory=lambda: {"max_tokens": 32, "temperature": 0.0})
    grpc: bool = True
    #: ``--server`` mode: the gRPC endpoint (``host:port``); default: the HTTP host with 8001 when HTTP is 8000.
    grpc_url: str | None = None
    #: ``up --as-fixed``: bring up the corrected command (``triton-doctor command``), not the user's as written.
    as_fixed: bool = False


@dataclass(slots=True)
class LiveOutcome:
    """What happened."""

    #: ready | unavailable | missing | redirect | exited | start-failed | timeout | no-image | unreachable
    state: str = "pending"
    detail: str = ""
    container: str | None = None
    exit_code: int | None = None
    oom_killed: bool = False
    http_url: str | None = None
    grpc_url: str | None = None
    metrics_url: str | None = None
    started_at: float = 0.0
    live_at: float | None = None
    ready_at: float | None = None
    #: model -> (state, reason) from the repository index
    models: dict[str, tuple[str, str]] = field(default_factory=dict)
    diagnosis: LogDiagnosis | None = None
    last_log_line: str = ""
    generations: list[Generation] = field(default_factory=list)
    counters: dict[str, float] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)
    remote: bool = False
    #: Things the bring-up had to change, for a warning (e.g. ulimits the host refused).
    notes: list[str] = field(default_factory=list)
    #: Models in the server's repository index that are not loaded (no state, or UNAVAILABLE "unloaded").
    not_loaded: list[str] = field(default_factory=list)


def _ensure_arg(args: list[str], name: str, value: str) -> list[str]:
    if any(a == name or a.startswith(name + "=") for a in args):
        return args
    return [*args, f"{name}={value}"]


class LiveSession:
    """One bring-up (or one remote server) and its teardown."""

    def __init__(
        self,
        target: Target,
        models: list[str],
        options: LiveOptions,
        progress: Progress | None = None,
        docker: DockerProbe | None = None,
        parallel: int = 1,
    ) -> None:
        self.target = target
        self.models = models
        self.options = options
        self.progress = progress or (lambda phase, elapsed, line: None)
        self.docker = docker or DockerProbe()
        self.parallel = parallel
        self.session = secrets.token_hex(4)
        self.outcome = LiveOutcome()
        self._container_id: str | None = None
        self._log_tail: deque[str] = deque(maxlen=50)
        self._stop = threading.Event()
        self._creating = threading.Lock()
        #: Load outcomes as Triton logs them: the wait loop wakes on each instead of sleeping a poll.
        self._watch = LogWatch()
        self._secrets: set[str] | None = None
        #: The server's real URL (with any user:password); outcome.http_url is the one shown to the user.
        self._http_base: str | None = None

    # -- plan ----------------------------------------------------------------------------------------------

    def plan(self) -> dict[str, Any]:
        """The container to create, as docker SDK keyword arguments: the user's command as written (only
        named, labelled and port-remapped: :mod:`.asis`), or the corrected one with ``--as-fixed`` or when
        there is no command to run."""
        run = self.target.docker
        if run is not None and not self.options.as_fixed:
            written = as_written(run, self.target.image or run.image, gpus=self.options.gpus)
            self.outcome.notes += written.notes
            self.outcome.command = list(run.command)
            labels = {PROBE_LABEL: "live", SESSION_LABEL: self.session, **owner_labels()}
            return {**written.kwargs, "name": self._container_name(), "labels": labels}
        return self._fixed_plan()

    def _fixed_plan(self) -> dict[str, Any]:
        """The corrected container (``triton-doctor command``'s), on free host ports unless the user chose some."""
        import docker

        run = self.target.docker
        env: dict[str, str] = {}
        if run is not None:
            for key, raw in run.env.items():
                value = os.environ.get(key) if raw is None else _expand(raw)
                if value is not None:
                    env[key] = value
        else:
            from triton_doctor.tokens import host_token

            token = host_token().value
            if token:
                env["HF_TOKEN"] = token
        if self.parallel > 1:
            env.setdefault("VLLM_WORKER_MULTIPROC_METHOD", "spawn")
        # The same container as 'triton-doctor command' prints, on free host ports unless the user chose some.
        spec = build_spec(self.target, self.models, parallel=self.parallel, publish_defaults=False)
        mounts = [
            docker.types.Mount(
                target=m.target,
                source=str(host_path(m.source)) if m.type == "bind" else m.source,
                type=m.type,
                read_only=m.readonly,
            )
            for m in spec.mounts
        ]
        ports: dict[str, Any] = {
            f"{p.container_port}/{p.protocol}": (p.host_ip, p.host_port) if p.host_ip else p.host_port
            for p in spec.ports
        }
        self.outcome.command = list(spec.command)
        kwargs: dict[str, Any] = {
            "image": self.target.image,
            "command": list(spec.command),
            "environment": env,
            "mounts": mounts,
            "ports": ports,
            "name": self._container_name(),
            "labels": {PROBE_LABEL: "live", SESSION_LABEL: self.session, **owner_labels()},
            "ulimits": [docker.types.Ulimit(name=n, soft=soft, hard=hard) for n, soft, hard in spec.ulimits],
            "detach": True,
        }
        if spec.ipc_host:
            kwargs["ipc_mode"] = "host"
        else:
            kwargs["shm_size"] = spec.shm_size
        if self.options.gpus and spec.gpus:
            kwargs["device_requests"] = [docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])]
        return kwargs

    def _container_name(self) -> str:
        """The command's ``--name`` when ``--keep`` leaves the container running and the name is free, so the
        user's own ``docker logs NAME`` works afterwards; else a name of the doctor's own."""
        own = f"triton-doctor-{self.session}"
        wanted = self.target.docker.name if self.target.docker is not None else None
        if not (self.options.keep and wanted):
            return own
        import docker.errors

        try:
            self.docker.client().api.inspect_container(wanted)
        except docker.errors.NotFound:
            return wanted
        except Exception:  # noqa: BLE001 - cannot tell: do not risk a clash
            return own
        self.outcome.notes.append(f"info: the name {wanted} is taken; the container is named {own}")
        return own

    # -- run -----------------------------------------------------------------------------------------------

    def run(self) -> LiveOutcome:
        """Start, wait for the outcome, and generate when READY. Never raises; call teardown() after."""
        out = self.outcome
        out.started_at = time.monotonic()
        self._secrets = known_secrets(self.target)
        if self.target.server_url:
            from triton_doctor.probes.http import display_url

            out.remote = True
            self._http_base = self.target.server_url.rstrip("/")
            out.http_url = display_url(self._http_base)
            out.metrics_url = re.sub(r":(\d+)$", ":8002", out.http_url) if re.search(r":8000$", out.http_url) else None
            out.grpc_url = self.options.grpc_url or _grpc_url_of(out.http_url)
            self._wait_http()
            return out
        if not self.target.image:
            out.state, out.detail = "no-image", "no image given (--image or --docker-command)"
            return out
        image = self.docker.image(self.target.image)
        if not image.present:
            out.state = "no-image"
            out.detail = f"{self.target.image} is not present locally (docker pull {self.target.image})"
            return out
        written = self.target.docker is not None and not self.options.as_fixed
        self.progress("starting your command as written" if written else "starting the corrected command", 0.0, "")
        plan = self.plan()
        container = self._start(plan)
        if container is None and "error setting rlimit" in out.detail and "ulimits" in plan and not written:
            # Rootless Docker and some sandboxes refuse memlock=-1: start without the ulimits and say so.
            asked = self.target.docker is not None and any(u.startswith("memlock") for u in self.target.docker.ulimits)
            out.notes.append(
                ("warning:" if asked else "info:") + " the host refused --ulimit memlock=-1 --ulimit "
                f"stack=67108864 ({out.detail[-80:]}); started without them"
            )
            plan.pop("ulimits", None)
            container = self._start(plan)
        if container is None:
            return out
        follower = threading.Thread(target=self._follow, daemon=True)
        follower.start()
        self._wait_container(container)
        self._stop.set()
        with contextlib.suppress(Exception):
            out.diagnosis = scan_lines(self.docker.log_lines(container.id), secrets=self._known_secrets())
        return out

    def generate(self) -> LiveOutcome:
        """Generate with every READY model (after :meth:`run`); the ``live-generate`` check calls this, so its
        duration is the generation's own. Never raises."""
        if self.outcome.state == "ready" and not self.outcome.generations:
            self._generate()
        return self.outcome

    def _start(self, plan: dict[str, Any]) -> Any:
        out = self.outcome
        try:
            client = self.docker.client()
            with self._creating:  # teardown waits for a create in flight, so a signal leaves no container
                if self._stop.is_set():
                    return None
                container = client.containers.create(**plan)
                self._container_id = container.id
            out.container = container.name
            container.start()
        except Exception as exc:  # noqa: BLE001 - the daemon's refusal is the finding
            out.state = "start-failed"
            out.detail = str(getattr(exc, "explanation", None) or exc)
            out.diagnosis = scan_lines([out.detail], secrets=self._known_secrets())
            if self._container_id is not None:
                with contextlib.suppress(Exception):
                    self.docker.client().api.remove_container(self._container_id, force=True, v=True)
                self._container_id = None
            return None
        out.state, out.detail = "pending", ""
        return container

    def _follow(self) -> None:
        with contextlib.suppress(Exception):
            for line in self.docker.log_lines(self._container_id or "", follow=True):
                self._watch.feed(line)
                if line.strip():
                    self._log_tail.append(line)
                    self.outcome.last_log_line = self._clean(line.strip(), 160)
                if self._stop.is_set():
                    break

    def _wait_container(self, container: Any) -> None:
        out = self.outcome
        ports_known = False
        http: TritonHttp | None = None
        deadline = out.started_at + self.options.timeout_s
        try:
            while time.monotonic() < deadline:
                container.reload()
                state = container.attrs.get("State", {})
                if not ports_known and container.status == "running":
                    ports_known = self._read_ports(container)
                    if out.http_url:
                        http = TritonHttp(out.http_url, timeout=2.0)
                if state.get("Status") in {"exited", "dead"}:
                    out.state = "exited"
                    out.exit_code = int(state.get("ExitCode", -1))
                    out.oom_killed = bool(state.get("OOMKilled"))
                    out.detail = f"the container exited with code {out.exit_code}" + (
                        " (OOM-killed)" if out.oom_killed else ""
                    )
                    return
                failure = self._watch.first_failure(self.models)
                if failure is not None:  # Triton logged the failed load: no need to wait for the next poll
                    model, reason = failure[0], self._clean(failure[1], 1000)
                    out.models[model] = ("UNAVAILABLE", reason)
                    out.state, out.detail = "unavailable", f"{model}: {reason}"
                    return
                if http is not None and self._check_models(http):
                    return
                elapsed = time.monotonic() - out.started_at
                phase = "loading models" if out.live_at else "starting tritonserver"
                self.progress(phase, elapsed, out.last_log_line)
                # A poll interval, or less when the log says a model loaded or failed; once the log says every
                # model loaded and HTTP started, poll fast until the endpoint agrees (it lags its log line).
                self._watch.wait(FAST_POLL_S if self._watch.all_loaded(self.models) else POLL_S)
            out.state = "timeout"
            out.detail = f"no outcome after {self.options.timeout_s:g} s"
        finally:
            if http is not None:
                http.close()

    def _known_secrets(self) -> set[str]:
        if self._secrets is None:
            self._secrets = known_secrets(self.target)
        return self._secrets

    def _clean(self, text: str, limit: int) -> str:
        """Redact, then cut: a secret is never half-quoted."""
        return redact(text, self._known_secrets())[:limit]

    def _wait_http(self) -> None:
        out = self.outcome
        assert self._http_base is not None
        http = TritonHttp(self._http_base, timeout=2.0)
        deadline = out.started_at + self.options.timeout_s
        try:
            while time.monotonic() < deadline:
                if self._check_models(http):
                    return
                if http.redirect:
                    out.state, out.detail = "redirect", http.redirect
                    return
                if out.live_at is None and http.last_kind in {"timeout", "too-large", "protocol"}:
                    # Something answers, but not as an HTTP server does within the deadline: say so now.
                    out.state, out.detail = "unreachable", f"{out.http_url} does not answer properly: {http.last_error}"
                    return
                refused = http.last_kind == "connect" and "connection refused" in (http.last_error or "")
                if (
                    out.live_at is None
                    and (refused or time.monotonic() - out.started_at > 10)
                    and http.get_status("/v2") is None
                ):
                    why = f": {http.last_error}" if http.last_error else ""
                    out.state, out.detail = "unreachable", f"nothing answers at {out.http_url}{why}"
                    return
                self.progress("waiting for the server", time.monotonic() - out.started_at, "")
                time.sleep(POLL_S)
            out.state, out.detail = "timeout", f"not ready after {self.options.timeout_s:g} s"
        finally:
            http.close()

    def _read_ports(self, container: Any) -> bool:
        if (container.attrs.get("HostConfig") or {}).get("NetworkMode") == "host":
            # Host networking: the server listens on this host's ports, the ones its arguments name.
            command = list(container.attrs.get("Config", {}).get("Cmd") or [])
            self.outcome.http_url = f"http://127.0.0.1:{server_port(command, 'http', 8000)}"
            self.outcome.grpc_url = f"grpc://127.0.0.1:{server_port(command, 'grpc', 8001)}"
            self.outcome.metrics_url = f"http://127.0.0.1:{server_port(command, 'metrics', 8002)}"
            return True
        bindings = (container.attrs.get("NetworkSettings") or {}).get("Ports") or {}

        def url(port: str, scheme: str) -> str | None:
            entries = bindings.get(port) or []
            if not entries:
                return None
            host = entries[0].get("HostIp") or "127.0.0.1"
            host = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host
            return f"{scheme}://{host}:{entries[0]['HostPort']}"

        self.outcome.http_url = url("8000/tcp", "http")
        self.outcome.grpc_url = url("8001/tcp", "grpc")
        self.outcome.metrics_url = url("8002/tcp", "http")
        return bool(bindings)

    def _check_models(self, http: TritonHttp) -> bool:
        """One poll: True when the outcome is known (all READY, or one UNAVAILABLE)."""
        out = self.outcome
        if out.live_at is None:
            if not http.live():
                return False
            out.live_at = time.monotonic()
        index = http.repository_index()
        if index is None:
            return False
        states = {str(row.get("name")): (str(row.get("state", "")), str(row.get("reason", ""))) for row in index}
        out.models = states
        wanted = self.models or list(states)
        missing = [m for m in wanted if m not in states]
        if missing:
            # The server answered its repository index and the model is not in it: waiting cannot help.
            there = ", ".join(sorted(states)) or "no model at all"
            out.state = "missing"
            out.detail = f"{missing[0]}: not in the server's model repository (its index lists {there})"
            return True
        # Once the index answers, the server has done its start-up loading: a model with no state (never
        # loaded) or UNAVAILABLE "unloaded" stays so until someone loads it. Waiting cannot help: say so now.
        unloaded = [
            m for m in wanted if not states[m][0] or (states[m][0] == "UNAVAILABLE" and states[m][1] == "unloaded")
        ]
        failed = [m for m in wanted if states[m][0] == "UNAVAILABLE" and m not in unloaded]
        if failed:
            out.state, out.detail = "unavailable", f"{failed[0]}: {states[failed[0]][1]}"
            return True
        if any(states[m][0] not in {"READY", "UNAVAILABLE", ""} for m in wanted):
            return False  # LOADING (or UNLOADING): the outcome is not known yet
        out.not_loaded = unloaded
        ready = [m for m in wanted if states[m][0] == "READY"]
        named = [m for m in unloaded if m in self.target.models]
        if named or (unloaded and not ready):
            # A model the user named (--model, --load-model), or every model, is not loaded.
            out.state = "not-loaded"
            out.detail = f"{', '.join(unloaded)}: in the server's model repository but not loaded" + (
                f" (READY: {', '.join(ready)})" if ready else ""
            )
            return True
        if ready:
            out.state, out.ready_at = "ready", time.monotonic()
            out.detail = f"READY after {out.ready_at - out.started_at:.1f} s"
            return True
        return False

    def _generate(self) -> None:
        out = self.outcome
        base = self._http_base or out.http_url
        assert base is not None
        http = TritonHttp(base, timeout=5.0)
        budget = min(GENERATE_TIMEOUT_S, self.options.timeout_s)
        prompt, sampling = self.options.prompt, self.options.sampling
        try:
            for model in [m for m in self.models if out.models.get(m, ("", ""))[0] == "READY"] or [
                m for m, (s, _r) in out.models.items() if s == "READY"
            ]:
                self.progress(f"generating with {model}", time.monotonic() - out.started_at, "")
                runs = [
                    http.generate_stream(model, prompt, sampling, timeout=budget),
                    http.generate(model, prompt, sampling, timeout=budget),
                ]
                if self.options.grpc and out.grpc_url and _answers(out.grpc_url):
                    runs.append(_grpc_stream(out.grpc_url, model, prompt, sampling, timeout=budget))
                for gen in runs:
                    # Redact here, before any check quotes (and truncates) a server's answer.
                    gen.error = None if gen.error is None else redact(gen.error, self._known_secrets())
                    gen.events = [redact(e, self._known_secrets()) for e in gen.events]
                out.generations.extend(runs)
                if out.metrics_url:
                    out.counters = request_counters(out.metrics_url, model)
        finally:
            http.close()

    # -- teardown ------------------------------------------------------------------------------------------

    def teardown(self) -> str | None:
        """Remove the container (unless --keep); return a note for the user."""
        self._stop.set()
        if self._creating.acquire(timeout=60):  # a create in flight ends first: its container is then known
            self._creating.release()
        if self._container_id is None:
            self.docker.close()
            return None
        if self.options.keep and self.outcome.state == "ready":
            return (
                f"kept container {self.outcome.container}: HTTP {self.outcome.http_url}, gRPC "
                f"{self.outcome.grpc_url}, metrics {self.outcome.metrics_url}; stop it with "
                f"docker rm -f {self.outcome.container}"
            )
        with deferred_signals(), contextlib.suppress(Exception):
            self.docker.client().api.remove_container(self._container_id, force=True, v=True)
        self.docker.close()
        return None


def _grpc_url_of(http_url: str) -> str | None:
    """``grpc://host:8001`` for ``http://host:8000`` (Triton's default ports); None for another port."""
    match = re.match(r"^https?://([^/]+):8000$", http_url)
    return f"grpc://{match.group(1)}:8001" if match else None


def _answers(url: str, timeout: float = 2.0) -> bool:
    """Whether something accepts a TCP connection at ``scheme://host:port``."""
    import socket

    hostport = url.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not port.isdigit():
        return False
    try:
        with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def _expand(raw: str) -> str | None:
    """A ``-e`` value as the user's shell would pass it: a host variable reference is looked up here."""
    ref = env_reference(raw)
    return os.environ.get(ref) if ref else raw


def _grpc_stream(url: str, model: str, prompt: str, sampling: dict[str, Any], timeout: float = 300.0) -> Generation:
    """A streaming generation over gRPC (``ModelStreamInfer``) with tritonclient, within ``timeout`` seconds."""
    import json
    import queue

    result = Generation(endpoint=f"grpc ModelStreamInfer {model}")
    start = time.monotonic()
    try:
        import numpy as np
        import tritonclient.grpc as grpcclient

        client = grpcclient.InferenceServerClient(url.removeprefix("grpc://"))
        answers: queue.Queue[Any] = queue.Queue()
        client.start_stream(callback=lambda result, error: answers.put((result, error)))
        inputs = [
            grpcclient.InferInput("text_input", [1], "BYTES"),
            grpcclient.InferInput("stream", [1], "BOOL"),
            grpcclient.InferInput("sampling_parameters", [1], "BYTES"),
        ]
        inputs[0].set_data_from_numpy(np.array([prompt.encode()], dtype=np.object_))
        inputs[1].set_data_from_numpy(np.array([True]))
        inputs[2].set_data_from_numpy(np.array([json.dumps(sampling).encode()], dtype=np.object_))
        client.async_stream_infer(model, inputs, enable_empty_final_response=True)
        deadline = start + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                result.error = f"no complete answer within {timeout:g} s"
                break
            res, err = answers.get(timeout=min(60.0, left))
            if err is not None:
                result.error = str(err)
                break
            response = res.get_response()
            out = res.as_numpy("text_output")
            if out is not None and len(out):
                piece = out.reshape(-1)[0]
                piece = piece.decode("utf-8", "replace") if isinstance(piece, bytes) else str(piece)
                if result.ttft_s is None and piece:
                    result.ttft_s = time.monotonic() - start
                result.text += piece
                result.chunks += 1
            final = response.parameters.get("triton_final_response")
            if final is not None and final.bool_param:
                break
        client.stop_stream()
        client.close()
    except Exception as exc:  # noqa: BLE001
        result.error = f"{type(exc).__name__}: {exc}"
    result.total_s = time.monotonic() - start
    result.ok = result.error is None and bool(result.text.strip())
    return result
