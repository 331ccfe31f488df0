"""Triton's HTTP API (KServe v2 + generate extension), every call bounded (:mod:`triton_doctor.probes.http`).

``generate_stream`` answers Server-Sent Events, one ``data: {json}`` per response, and simply ends: there
is no ``[DONE]``. An ``{"error": ...}`` event can arrive after HTTP 200. Since 24.12 each event's
``text_output`` is the delta since the previous one; before, the cumulative text (``cumulative=True``).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

__all__ = ["Generation", "TritonHttp"]


@dataclass(slots=True)
class Generation:
    """One generation request and what came back."""

    endpoint: str
    ok: bool = False
    status: int | None = None
    text: str = ""
    chunks: int = 0
    error: str | None = None
    ttft_s: float | None = None
    total_s: float | None = None
    events: list[str] = field(default_factory=list)


class TritonHttp:
    """A small client for one server, every call through the bounded layer (:mod:`.http`).

    Calls that end without an answer leave their reason in :attr:`last_error`; a redirect to another host
    is also kept in :attr:`redirect` (never followed), so the caller can report it.
    """

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        from triton_doctor.probes.http import HttpClient

        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self.client = HttpClient(self.base, connect_s=timeout, read_s=timeout, total_s=max(timeout * 2.5, 5.0))
        self.last_error: str | None = None
        #: timeout, too-large, redirect, connect or protocol (the last call's failure), or None.
        self.last_kind: str | None = None
        self.redirect: str | None = None

    def close(self) -> None:
        """Nothing to release: every call opens and closes its own connection."""

    def _request(self, method: str, path: str, payload: Any = None) -> Any:
        from triton_doctor.probes.http import HttpError

        try:
            response = self.client.request(method, path, payload)
        except HttpError as exc:
            self.last_error, self.last_kind = exc.message, exc.kind
            if exc.kind == "redirect":
                self.redirect = exc.message
            return None
        self.last_error = self.last_kind = None
        return response

    def get_status(self, path: str) -> int | None:
        """HTTP status of a GET (None when nothing answers)."""
        response = self._request("GET", path)
        return None if response is None else int(response.status)

    def live(self) -> bool:
        """``GET /v2/health/live`` is 200."""
        return self.get_status("/v2/health/live") == 200

    def ready(self) -> bool:
        """``GET /v2/health/ready`` is 200."""
        return self.get_status("/v2/health/ready") == 200

    def model_ready(self, model: str) -> bool:
        """``GET /v2/models/<m>/ready`` is 200."""
        return self.get_status(f"/v2/models/{quote(model, safe='')}/ready") == 200

    def server_metadata(self) -> dict[str, Any]:
        """``GET /v2`` (name, version, extensions), or empty."""
        response = self._request("GET", "/v2")
        try:
            data = response.json() if response is not None and response.status == 200 else {}
        except ValueError:
            return {}
        return dict(data) if isinstance(data, dict) else {}

    def repository_index(self) -> list[dict[str, Any]] | None:
        """``POST /v2/repository/index``: every model's state and reason (None when it does not answer)."""
        response = self._request("POST", "/v2/repository/index", {})
        if response is None or response.status != 200:
            return None
        try:
            data = response.json()
        except ValueError:
            return None
        return [dict(row) for row in data if isinstance(row, dict)] if isinstance(data, list) else None

    def generate_stream(
        self, model: str, prompt: str, sampling: dict[str, Any], *, cumulative: bool = False, timeout: float = 120.0
    ) -> Generation:
        """Stream a generation over SSE and put the text together, all of it within ``timeout`` seconds."""
        from triton_doctor.probes.http import HttpError

        result = Generation(endpoint=f"/v2/models/{model}/generate_stream")
        body = {"text_input": prompt, "stream": True, "sampling_parameters": json.dumps(sampling)}
        start = time.monotonic()
        path = f"/v2/models/{quote(model, safe='')}/generate_stream"
        try:
            with self.client.sse(path, body, total_s=timeout, read_s=min(timeout, 120.0)) as stream:
                result.status = stream.status
                if stream.status != 200:
                    result.error = _error_text(stream.error_body)
                else:
                    for payload in stream.events():
                        result.events.append(_clip(payload, 500))
                        try:
                            event = json.loads(payload)
                        except json.JSONDecodeError:
                            result.error = f"not JSON in the stream: {_clip(payload, 200)}"
                            break
                        if isinstance(event, dict) and "error" in event:
                            result.error = str(event["error"])
                            break
                        piece = str(event.get("text_output", "")) if isinstance(event, dict) else ""
                        if result.ttft_s is None and piece:
                            result.ttft_s = time.monotonic() - start
                        result.chunks += 1
                        result.text = piece if cumulative else result.text + piece
                    if stream.stopped and result.error is None:
                        result.error = stream.stopped
        except HttpError as exc:
            result.error = exc.message
            if exc.kind == "redirect":
                self.redirect = exc.message
        result.total_s = time.monotonic() - start
        result.ok = result.error is None and bool(result.text.strip())
        return result

    def generate(self, model: str, prompt: str, sampling: dict[str, Any], timeout: float = 120.0) -> Generation:
        """One non-streaming generation through ``/generate``, within ``timeout`` seconds."""
        from triton_doctor.probes.http import HttpError

        result = Generation(endpoint=f"/v2/models/{model}/generate")
        body = {"text_input": prompt, "exclude_input_in_output": True, "parameters": sampling}
        start = time.monotonic()
        path = f"/v2/models/{quote(model, safe='')}/generate"
        try:
            response = self.client.request("POST", path, body, total_s=timeout, read_s=timeout)
            result.status = response.status
            try:
                data = response.json() if response.body else {}
            except ValueError:
                data = {"error": _clip(response.text, 300)}
            if not isinstance(data, dict):
                data = {"error": f"not a JSON object: {_clip(response.text, 200)}"}
            if response.status != 200 or "error" in data:
                result.error = str(data.get("error") or _clip(response.text, 300))
            else:
                result.text = str(data.get("text_output", ""))
                result.chunks = 1
        except HttpError as exc:
            result.error = exc.message
            if exc.kind == "redirect":
                self.redirect = exc.message
        result.total_s = time.monotonic() - start
        result.ttft_s = result.total_s if result.text else None
        result.ok = result.error is None and bool(result.text.strip())
        return result


def _clip(text: str, limit: int) -> str:
    """A server's text, redacted by structure (URL credentials, tokens) before it is shortened."""
    from triton_doctor.core.secrets import redact

    return redact(text, set())[:limit]


def _error_text(body: str) -> str:
    body = body.strip()
    if body.startswith("data:"):  # an SSE body with an error status
        body = body[5:].strip()
    try:
        data = json.loads(body)
        return _clip(str(data.get("error", body)), 500)
    except (json.JSONDecodeError, AttributeError):
        return _clip(body, 500)


_METRIC = re.compile(r"^(nv_inference_request_(?:success|failure|count))\{([^}]*)\}\s+([0-9.eE+-]+)", re.MULTILINE)


def request_counters(metrics_url: str, model: str, timeout: float = 5.0) -> dict[str, float]:
    """``nv_inference_request_success/failure/count`` for ``model`` from the metrics endpoint."""
    from triton_doctor.probes.http import HttpClient, HttpError

    try:
        text = (
            HttpClient(metrics_url, connect_s=timeout, read_s=timeout, total_s=timeout * 2)
            .request("GET", "/metrics")
            .text
        )
    except HttpError:
        return {}
    counters: dict[str, float] = {}
    for name, labels, value in _METRIC.findall(text):
        if f'model="{model}"' in labels:
            counters[name] = counters.get(name, 0.0) + float(value)
    return counters
