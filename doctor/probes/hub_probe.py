"""Hugging Face Hub probe through the real ``huggingface_hub`` client (``HF_ENDPOINT`` honoured).

The client's default HTTP session has no timeout and reads any body whole; :func:`install_timeout`
installs (once per process, through ``huggingface_hub.set_client_factory``) a session whose every answer
is read through a cap (:data:`MAX_BODY` bytes, :data:`TOTAL_S` per answer on the wall clock), with a read
timeout, at most 3 redirects and none to another host. The calls run with telemetry off, so
huggingface_hub does not fetch the endpoint's agent-harness list nor write it to
``$HF_HOME/.agent_harnesses.json``: the doctor writes nothing outside ``--output``.
Every call returns a :class:`HubCall` whose ``kind`` tells failures apart: ``invalid-token``, ``not-found``,
``gated``, ``forbidden``, ``rate-limited``, ``timeout``, ``network``, ``other``. Token values are never part
of a :class:`HubCall`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["HubCall", "HubProbe", "hub_endpoint"]

TIMEOUT_S = 10.0
#: The most one Hub answer may be, and the longest reading it may take (the Hub's own answers are KBs).
MAX_BODY = 4 * 1024 * 1024
TOTAL_S = 30.0
_INSTALLED = threading.Lock()
_installed_timeout: list[float] = []


def _raw_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").strip().rstrip("/")


def hub_endpoint() -> str:
    """The Hub URL the client will use, as shown to the user (any ``user:password@`` or token removed)."""
    from triton_doctor.probes.urls import display_url

    return display_url(_raw_endpoint())


class HubBoundError(Exception):
    """A Hub answer the doctor stopped reading: ``kind`` is timeout, too-large or redirect."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def _origin(url: Any) -> tuple[str, str, int | None]:
    return (str(url.scheme), str(url.host).lower(), url.port)


class _Deadline:
    """One request's wall-clock deadline. Reads that trickle (headers included) are cut off by shutting
    the connection's socket down when it passes: httpx's own timeouts are per read, not per answer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.at = time.monotonic() + TOTAL_S
        self.fired = False
        self._sock: Any = None
        self._timer: threading.Timer | None = None

    def trace(self, name: str, info: dict[str, Any]) -> None:
        """httpcore's ``trace`` extension: learn the socket when the connection is made (and after TLS)."""
        if not name.endswith(("connect_tcp.complete", "start_tls.complete")):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is None:
            return
        self._sock = sock
        if self._timer is None:
            self._timer = threading.Timer(max(0.0, self.at - time.monotonic()), self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        with contextlib.suppress(OSError, AttributeError):
            self._sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


#: The deadline of this thread's latest Hub request (to tell a cut-off answer from a network error).
_CURRENT = threading.local()


def _bounded_factory(timeout: float) -> Any:
    """A client factory: huggingface_hub's default client, its answers capped in size, time and redirects."""
    from huggingface_hub.utils import _http

    from triton_doctor.probes.urls import display_url

    httpx = getattr(_http, "httpx2", None) or getattr(_http, "httpx")  # noqa: B009 - huggingface_hub 2.x / 1.x

    class CappedStream(httpx.SyncByteStream):  # type: ignore[misc, name-defined]
        def __init__(self, inner: Any, deadline: _Deadline) -> None:
            self._inner, self._deadline = inner, deadline

        def __iter__(self) -> Any:
            size = 0
            for chunk in self._inner:
                size += len(chunk)
                if size > MAX_BODY:
                    raise HubBoundError(
                        "too-large", f"{self._deadline.url}: the answer passed {MAX_BODY} bytes; not read further"
                    )
                if time.monotonic() > self._deadline.at:
                    raise HubBoundError("timeout", f"{self._deadline.url}: no complete answer within {TOTAL_S:g} s")
                yield chunk

        def close(self) -> None:
            self._deadline.cancel()
            self._inner.close()

    def on_request(request: Any) -> None:
        deadline = _Deadline(display_url(str(request.url)))
        request.extensions["trace"] = deadline.trace
        _CURRENT.deadline = deadline

    def on_response(response: Any) -> None:
        url = response.request.url
        deadline = _CURRENT.deadline
        if response.has_redirect_location:
            target = url.join(response.headers["Location"])
            if _origin(target) != _origin(url):
                deadline.cancel()
                raise HubBoundError(
                    "redirect",
                    f"{display_url(str(url))} redirects to another host, {display_url(str(target))}: not followed",
                )
        response.stream = CappedStream(response.stream, deadline)

    def factory() -> Any:
        base = _http.default_client_factory()
        hooks = base.event_hooks
        base.close()
        # A new connection per request (no keep-alive), so every request's deadline knows its socket.
        return httpx.Client(
            event_hooks={"request": [*hooks["request"], on_request], "response": [*hooks["response"], on_response]},
            follow_redirects=True,
            max_redirects=3,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    return factory


@dataclass(frozen=True, slots=True)
class HubCall:
    """One Hub API answer."""

    ok: bool
    status: int | None = None
    kind: str | None = None
    #: ``X-Error-Code`` (GatedRepo, RepoNotFound, ...).
    error_code: str | None = None
    #: The server's own message (``X-Error-Message`` or the JSON body's error).
    message: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def install_timeout(timeout: float) -> None:
    with _INSTALLED:
        if _installed_timeout and _installed_timeout[0] == timeout:
            return
        import huggingface_hub
        from huggingface_hub import constants

        # With telemetry off huggingface_hub neither detects "agents" (a request to the endpoint's
        # /api/agent-harnesses) nor caches that answer in $HF_HOME/.agent_harnesses.json.
        constants.HF_HUB_DISABLE_TELEMETRY = True
        huggingface_hub.set_client_factory(_bounded_factory(timeout))
        _installed_timeout[:] = [timeout]


def hub_failure(exc: BaseException) -> HubCall:
    bound = exc if isinstance(exc, HubBoundError) else exc.__cause__ or exc.__context__
    if isinstance(bound, HubBoundError):
        return HubCall(ok=False, kind=bound.kind, message=bound.message)
    deadline = getattr(_CURRENT, "deadline", None)
    if deadline is not None and deadline.fired:
        return HubCall(ok=False, kind="timeout", message=f"{deadline.url}: no complete answer within {TOTAL_S:g} s")
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    headers = getattr(response, "headers", {}) or {}
    code = headers.get("X-Error-Code")
    message = headers.get("X-Error-Message") or getattr(exc, "server_message", None) or None
    name = type(exc).__name__
    text = f"{name}: {exc}".lower()
    if "timeout" in name.lower() or "timed out" in text:
        kind = "timeout"
    elif status is None and any(w in name for w in ("Connect", "Network", "Protocol", "Proxy", "Remote")):
        kind = "network"
    elif status == 429:
        kind = "rate-limited"
    elif name == "GatedRepoError" or code == "GatedRepo":
        kind = "gated"
    elif (status == 401 and (message or "").startswith("Invalid credentials")) or "invalid user token" in text:
        kind = "invalid-token"
    elif name in {"RepositoryNotFoundError", "RevisionNotFoundError"} or code == "RepoNotFound" or status == 404:
        kind = "not-found"
    elif status == 403:
        kind = "forbidden"
    elif status is None:
        kind = "network"
    else:
        kind = "other"
    if message is None and kind in {"network", "timeout", "other"}:
        message = str(exc).splitlines()[0] if str(exc) else name
    if message is not None:
        from triton_doctor.core.secrets import redact

        # Redact (URL credentials, token parameters) before shortening, so no secret is cut in two.
        message = redact(str(message), set())[:300]
    return HubCall(ok=False, status=status, kind=kind, error_code=code, message=message)


_UNSENDABLE = HubCall(
    ok=False,
    kind="invalid-token",
    message="the token holds a line break, space or control character: it cannot be sent in an HTTP header "
    "(check the token file or variable for a stray newline)",
)


def _sendable(token: str) -> bool:
    """A token that can be an HTTP header value (no line break, space or control character)."""
    return all(33 <= ord(c) < 127 for c in token)


class HubProbe:
    """whoami, model info and access checks, each with a timeout."""

    def __init__(self, endpoint: str | None = None, timeout: float | None = None) -> None:
        self._endpoint = endpoint
        self.timeout = timeout or float(os.environ.get("TRITON_DOCTOR_HUB_TIMEOUT", TIMEOUT_S))

    @property
    def endpoint(self) -> str:
        """The Hub URL (HF_ENDPOINT is read when used, not when the probe is made)."""
        return self._endpoint or _raw_endpoint()

    def _api(self) -> Any:
        install_timeout(self.timeout)
        _CURRENT.deadline = None
        from huggingface_hub import HfApi

        return HfApi(endpoint=self.endpoint)

    def whoami(self, token: str) -> HubCall:
        """``GET /api/whoami-v2``: the token's user and role (never the token)."""
        if not _sendable(token):
            return _UNSENDABLE
        try:
            data = self._api().whoami(token=token)
        except Exception as exc:  # noqa: BLE001 - classified below
            return hub_failure(exc)
        access = (data.get("auth") or {}).get("accessToken") or {}
        return HubCall(
            ok=True,
            status=200,
            data={
                "name": data.get("name"),
                "role": access.get("role"),
                "token_name": access.get("displayName"),
                "fine_grained": access.get("fineGrained") or {},
            },
        )

    def model_info(self, repo_id: str, token: str | None) -> HubCall:
        """``GET /api/models/{id}``: gated, private, parameter count, file names."""
        if token and not _sendable(token):
            return _UNSENDABLE
        try:
            info = self._api().model_info(repo_id, token=token if token else False)
        except Exception as exc:  # noqa: BLE001
            return hub_failure(exc)
        safetensors = getattr(info, "safetensors", None)
        total = getattr(safetensors, "total", None) if safetensors is not None else None
        siblings = getattr(info, "siblings", None)
        files = [str(getattr(x, "rfilename", "")) for x in siblings] if isinstance(siblings, list) else None
        return HubCall(
            ok=True,
            status=200,
            data={
                "gated": getattr(info, "gated", None),
                "private": getattr(info, "private", None),
                "parameters": total,
                "config": getattr(info, "config", None) or {},
                #: The repository's file names (``siblings``); None when the answer has no listing.
                "files": files,
            },
        )

    def auth_check(self, repo_id: str, token: str | None) -> HubCall:
        """``GET /api/models/{id}/auth-check``: may this token read the repository?"""
        if token and not _sendable(token):
            return _UNSENDABLE
        try:
            self._api().auth_check(repo_id, token=token if token else False)
        except Exception as exc:  # noqa: BLE001
            return hub_failure(exc)
        return HubCall(ok=True, status=200)
