"""The one bounded HTTP layer for every HTTP call the doctor makes itself (Triton's API, ``--server``).

Every call has a connect timeout, a read timeout per socket read and a total deadline on the wall clock:
the deadline is enforced on the socket itself (each read waits at most what is left), so a server that
sends one byte a second cannot stretch a call past it, in the headers or in the body. Bodies are read in
pieces up to a cap (never whole), Server-Sent Events streams up to a number of events and bytes.
Redirects: at most :data:`MAX_REDIRECTS` to the same scheme, host and port; a redirect to another host is
never followed (:class:`HttpError` with ``kind="redirect"`` naming both URLs); a POST is never turned into
a GET (a 301/302/303 answer to a POST is reported, not followed). A URL's ``user:password@`` is sent as
Basic authentication and never appears in a message: messages name URLs through :func:`display_url`.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from triton_doctor.probes.sse import SseStream
from triton_doctor.probes.urls import display_url

__all__ = [
    "HttpClient",
    "HttpError",
    "Response",
    "display_url",
]

CONNECT_S = 5.0
READ_S = 10.0
TOTAL_S = 30.0
MAX_BODY = 8 * 1024 * 1024
MAX_REDIRECTS = 3
#: Server-Sent Events: at most this many events, this many bytes, this long a line.
MAX_EVENTS = 10_000
MAX_STREAM_BYTES = 16 * 1024 * 1024
_REDIRECTS = {301, 302, 303, 307, 308}


class HttpError(Exception):
    """A call that did not give an answer: ``kind`` is timeout, too-large, redirect, connect or protocol."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(slots=True)
class Response:
    """A complete answer (body read up to the cap)."""

    status: int
    headers: dict[str, str]
    body: bytes
    url: str

    @property
    def text(self) -> str:
        """The body as text (undecodable bytes replaced)."""
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON (``ValueError`` when it is not)."""
        return json.loads(self.body)


@dataclass(slots=True)
class _Deadline:
    at: float
    read_s: float
    expired: bool = False

    def remaining(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            self.expired = True
            raise TimeoutError("the call's total deadline passed")
        return left


class _DeadlineSocket:
    """A socket whose every read and write waits at most min(read timeout, time left to the deadline)."""

    def __init__(self, sock: socket.socket, deadline: _Deadline) -> None:
        self._sock = sock
        self._deadline = deadline
        # As socket.socket does: http.client closes the connection right after the headers of a response
        # that ends the connection, while the response still reads its body through makefile(); the real
        # socket is closed only when both are done (closing it at once gave EBADF on the body).
        self._io_refs = 0
        self._closed = False

    def _arm(self) -> None:
        self._sock.settimeout(min(self._deadline.read_s, self._deadline.remaining()))

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        self._arm()
        return self._sock.recv_into(buffer, nbytes, flags)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        self._arm()
        return self._sock.recv(bufsize, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        self._arm()
        self._sock.sendall(data, flags)

    def makefile(self, mode: str = "r", buffering: int | None = None, **_kw: Any) -> Any:
        raw = socket.SocketIO(self, "rb")  # type: ignore[arg-type]
        self._io_refs += 1
        return io.BufferedReader(raw, buffering if buffering and buffering > 0 else io.DEFAULT_BUFFER_SIZE)

    def _decref_socketios(self) -> None:
        if self._io_refs > 0:
            self._io_refs -= 1
        if self._closed and self._io_refs == 0:
            self._sock.close()

    def close(self) -> None:
        self._closed = True
        if self._io_refs == 0:
            self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _Conn(http.client.HTTPConnection):
    deadline: _Deadline

    def connect(self) -> None:
        self.timeout = min(self.timeout or CONNECT_S, self.deadline.remaining())
        super().connect()
        self.sock = _DeadlineSocket(self.sock, self.deadline)


class _TlsConn(http.client.HTTPSConnection):
    deadline: _Deadline

    def connect(self) -> None:
        self.timeout = min(self.timeout or CONNECT_S, self.deadline.remaining())
        super().connect()
        self.sock = _DeadlineSocket(self.sock, self.deadline)


@dataclass(slots=True)
class _Target:
    scheme: str
    host: str
    port: int
    path: str
    auth: str | None

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host.lower(), self.port)


def _split(url: str) -> _Target:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise HttpError("protocol", f"not an http(s) URL: {display_url(url)}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    auth = None
    if parts.username is not None:
        from urllib.parse import unquote

        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        auth = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
    return _Target(parts.scheme, parts.hostname, port, path, auth)


class HttpClient:
    """Calls to one server (``base_url``), each bounded; see the module docstring."""

    def __init__(
        self,
        base_url: str,
        *,
        connect_s: float = CONNECT_S,
        read_s: float = READ_S,
        total_s: float = TOTAL_S,
        max_body: int = MAX_BODY,
    ) -> None:
        self.base = base_url.rstrip("/")
        self.connect_s = connect_s
        self.read_s = read_s
        self.total_s = total_s
        self.max_body = max_body
        self._origin = _split(self.base + "/").origin

    def url(self, path: str) -> str:
        """The full URL of ``path``."""
        return self.base + path

    def _open(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str], deadline: _Deadline
    ) -> tuple[Any, Any, str]:
        """Send, following same-host redirects; the open connection, response and final URL."""
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            target = _split(current)
            if target.origin != self._origin:
                raise HttpError("redirect", f"{display_url(url)} redirects to another host: {display_url(current)}")
            cls = _TlsConn if target.scheme == "https" else _Conn
            kwargs: dict[str, Any] = {"timeout": self.connect_s}
            if target.scheme == "https":
                kwargs["context"] = ssl.create_default_context()
            conn = cls(target.host, target.port, **kwargs)
            conn.deadline = deadline
            send = dict(headers)
            if target.auth:
                send["Authorization"] = target.auth
            try:
                conn.request(method, target.path, body=body, headers=send)
                response = conn.getresponse()
            except BaseException:
                conn.close()
                raise
            location = response.getheader("Location")
            if response.status not in _REDIRECTS or not location:
                return conn, response, current
            conn.close()
            nxt = urljoin(current, location.strip())
            if _split(nxt).origin != self._origin:
                raise HttpError(
                    "redirect",
                    f"{display_url(current)} answered HTTP {response.status} redirecting to another host, "
                    f"{display_url(nxt)}: not followed",
                )
            if method != "GET" and response.status in {301, 302, 303}:
                raise HttpError(
                    "redirect",
                    f"{method} {display_url(current)} answered HTTP {response.status} to {display_url(nxt)}: not "
                    f"followed (the {method} would become a GET)",
                )
            current = nxt
        raise HttpError("redirect", f"{display_url(url)}: more than {MAX_REDIRECTS} redirects")

    @contextmanager
    def _call(
        self, method: str, path: str, payload: Any, total_s: float | None, read_s: float | None
    ) -> Iterator[tuple[Any, str, _Deadline]]:
        total = self.total_s if total_s is None else total_s
        deadline = _Deadline(time.monotonic() + total, self.read_s if read_s is None else read_s)
        body = None if payload is None else json.dumps(payload).encode("utf-8")
        headers = {"Accept": "*/*", "User-Agent": "triton-doctor"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        url = self.url(path)
        conn = None
        try:
            conn, response, final = self._open(method, url, body, headers, deadline)
            yield response, final, deadline
        except HttpError:
            raise
        except TimeoutError:
            if deadline.expired or time.monotonic() >= deadline.at - 0.05:
                raise HttpError(
                    "timeout", f"{method} {display_url(url)}: no complete answer within {total:g} s"
                ) from None
            raise HttpError(
                "timeout", f"{method} {display_url(url)}: nothing received for {deadline.read_s:g} s"
            ) from None
        except ConnectionRefusedError:
            raise HttpError("connect", f"{method} {display_url(url)}: connection refused") from None
        except ssl.SSLError as exc:
            raise HttpError("connect", f"{method} {display_url(url)}: TLS error ({exc.reason or 'unknown'})") from None
        except (http.client.HTTPException, ValueError) as exc:
            raise HttpError(
                "protocol", f"{method} {display_url(url)}: not a valid HTTP answer ({type(exc).__name__})"
            ) from None
        except OSError as exc:
            raise HttpError("connect", f"{method} {display_url(url)}: {exc.strerror or type(exc).__name__}") from None
        finally:
            if conn is not None:
                conn.close()

    def request(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        total_s: float | None = None,
        read_s: float | None = None,
        max_body: int | None = None,
    ) -> Response:
        """One call, its body read whole up to ``max_body`` (:class:`HttpError` otherwise)."""
        cap = self.max_body if max_body is None else max_body
        with self._call(method, path, payload, total_s, read_s) as (response, final, _deadline):
            chunks: list[bytes] = []
            size = 0
            while True:
                piece = response.read1(65536)
                if not piece:
                    break
                size += len(piece)
                if size > cap:
                    raise HttpError(
                        "too-large", f"{method} {display_url(final)}: the answer passed {cap} bytes; not read further"
                    )
                chunks.append(piece)
            headers = {k.lower(): v for k, v in response.getheaders()}
            return Response(response.status, headers, b"".join(chunks), final)

    @contextmanager
    def sse(
        self,
        path: str,
        payload: Any,
        *,
        total_s: float,
        read_s: float | None = None,
        max_events: int = MAX_EVENTS,
        max_bytes: int = MAX_STREAM_BYTES,
    ) -> Iterator[SseStream]:
        """POST and read a Server-Sent Events answer within ``total_s`` (timeouts raise :class:`HttpError`)."""
        with self._call("POST", path, payload, total_s, read_s) as (response, final, _deadline):
            stream = SseStream(response.status, final, _limits={"events": max_events, "bytes": max_bytes})
            if response.status != 200:
                stream.error_body = response.read(64 * 1024).decode("utf-8", "replace")
            else:
                stream._response = response
            yield stream
