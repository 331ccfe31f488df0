"""One bring-up (or one remote server): start, wait for READY, generate, tear down."""

from __future__ import annotations

import contextlib
import re
import secrets
import threading
import time
from collections import deque
from typing import Any

from triton_doctor.core.secrets import redact
from triton_doctor.deploy.target import Target
from triton_doctor.deploy.tokens import known_secrets
from triton_doctor.facts.context import Context
from triton_doctor.live.asis import host_network_urls
from triton_doctor.live.cleanup import deferred_signals
from triton_doctor.live.generate import answers, grpc_stream, grpc_url_of
from triton_doctor.live.index import settle
from triton_doctor.live.logwatch import LogWatch
from triton_doctor.live.options import (
    FAST_POLL_S,
    GENERATE_TIMEOUT_S,
    POLL_S,
    LiveOptions,
    LiveOutcome,
    Progress,
)
from triton_doctor.logs.scan import scan_lines
from triton_doctor.probes.docker_probe import DockerProbe
from triton_doctor.probes.triton_http import TritonHttp, request_counters

__all__ = ["LiveSession", "start_session"]


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

    def plan(self) -> dict[str, Any]:
        """The container to create, as docker SDK keyword arguments."""
        from triton_doctor.live.plan import container_plan

        return container_plan(self)

    def container_name(self) -> str:
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
            from triton_doctor.probes.urls import display_url

            out.remote = True
            self._http_base = self.target.server_url.rstrip("/")
            out.http_url = display_url(self._http_base)
            out.metrics_url = re.sub(r":(\d+)$", ":8002", out.http_url) if re.search(r":8000$", out.http_url) else None
            out.grpc_url = self.options.grpc_url or grpc_url_of(out.http_url)
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
        if container is None and "error setting rlimit" in out.detail and not written:
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
                slow = refused or time.monotonic() - out.started_at > 10
                if out.live_at is None and slow and http.get_status("/v2") is None:
                    why = f": {http.last_error}" if http.last_error else ""
                    out.state, out.detail = "unreachable", f"nothing answers at {out.http_url}{why}"
                    return
                self.progress("waiting for the server", time.monotonic() - out.started_at, "")
                time.sleep(POLL_S)
            out.state, out.detail = "timeout", f"not ready after {self.options.timeout_s:g} s"
        finally:
            http.close()

    def _read_ports(self, container: Any) -> bool:
        host = host_network_urls(container.attrs)
        if host is not None:  # host networking: the ports its tritonserver arguments name, on this host
            self.outcome.http_url, self.outcome.grpc_url, self.outcome.metrics_url = host
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
        return settle(out, states, self.models or list(states), self.target.models)

    def _generate(self) -> None:
        out = self.outcome
        base = self._http_base or out.http_url
        assert base is not None
        http = TritonHttp(base, timeout=5.0)
        budget = min(GENERATE_TIMEOUT_S, self.options.timeout_s)
        prompt, sampling = self.options.prompt, self.options.sampling
        try:
            for model in [m for m, (s, _r) in out.models.items() if s == "READY" and m in (self.models or [m])]:
                self.progress(f"generating with {model}", time.monotonic() - out.started_at, "")
                runs = [
                    http.generate_stream(model, prompt, sampling, timeout=budget),
                    http.generate(model, prompt, sampling, timeout=budget),
                ]
                if self.options.grpc and out.grpc_url and answers(out.grpc_url):
                    runs.append(grpc_stream(out.grpc_url, model, prompt, sampling, timeout=budget))
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


def start_session(ctx: Context) -> LiveSession:
    """The live session for a run's context: its models (selected or present) and their parallelism."""
    present = ctx.selected_models()[0] if ctx.repo().is_dir else ()
    models = list(ctx.target.models or present)
    return LiveSession(
        ctx.target,
        models,
        ctx.live_options or LiveOptions(),
        ctx.progress,
        parallel=max(ctx.tensor_parallel().values(), default=1) if present else 1,
    )
