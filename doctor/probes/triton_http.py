"""Triton's HTTP API (KServe v2 + generate extension), every call with a timeout.

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
    """A small client for one server."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        import requests

        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def close(self) -> None:
        """Close the connection pool."""
        self.session.close()

    def get_status(self, path: str) -> int | None:
        """HTTP status of a GET (None when nothing answers)."""
        try:
            return int(self.session.get(self.base + path, timeout=self.timeout).status_code)
        except Exception:  # noqa: BLE001 - refused, reset, timeout: "not up"
            return None

    def live(self) -> bool:
        """``GET /v2/health/live`` is 200."""
        return self.get_status("/v2/health/live") == 200

    def ready(self) -> bool:
        """``GET /v2/health/ready`` is 200."""
        return self.get_status("/v2/health/ready") == 200

    def model_ready(self, model: str) -> bool:
        """``GET /v2/models/<m>/ready`` is 200."""
        return self.get_status(f"/v2/models/{model}/ready") == 200

    def server_metadata(self) -> dict[str, Any]:
        """``GET /v2`` (name, version, extensions), or empty."""
        try:
            response = self.session.get(self.base + "/v2", timeout=self.timeout)
            return dict(response.json()) if response.status_code == 200 else {}
        except Exception:  # noqa: BLE001
            return {}

    def repository_index(self) -> list[dict[str, Any]] | None:
        """``POST /v2/repository/index``: every model's state and reason (None when it does not answer)."""
        try:
            response = self.session.post(self.base + "/v2/repository/index", json={}, timeout=self.timeout)
        except Exception:  # noqa: BLE001
            return None
        if response.status_code != 200:
            return None
        data = response.json()
        return [dict(row) for row in data] if isinstance(data, list) else None

    def generate_stream(
        self, model: str, prompt: str, sampling: dict[str, Any], *, cumulative: bool = False, timeout: float = 120.0
    ) -> Generation:
        """Stream a generation over SSE and put the text together."""
        result = Generation(endpoint=f"/v2/models/{model}/generate_stream")
        body = {"text_input": prompt, "stream": True, "sampling_parameters": json.dumps(sampling)}
        start = time.monotonic()
        try:
            with self.session.post(
                self.base + result.endpoint, json=body, stream=True, timeout=(self.timeout, timeout)
            ) as response:
                result.status = response.status_code
                if response.status_code != 200:
                    result.error = _error_text(response.text)
                    return result
                for raw in response.iter_lines(decode_unicode=False):
                    if not raw or not raw.startswith(b"data:"):
                        continue
                    payload = raw[5:].strip().decode("utf-8", "replace")
                    result.events.append(payload[:500])
                    try:
                        event = json.loads(payload)
                    except json.JSONDecodeError:
                        result.error = f"not JSON in the stream: {payload[:200]}"
                        break
                    if "error" in event:
                        result.error = str(event["error"])
                        break
                    piece = str(event.get("text_output", ""))
                    if result.ttft_s is None and piece:
                        result.ttft_s = time.monotonic() - start
                    result.chunks += 1
                    result.text = piece if cumulative else result.text + piece
        except Exception as exc:  # noqa: BLE001 - timeouts and resets are findings
            result.error = f"{type(exc).__name__}: {exc}"
        result.total_s = time.monotonic() - start
        result.ok = result.error is None and bool(result.text.strip())
        return result

    def generate(self, model: str, prompt: str, sampling: dict[str, Any], timeout: float = 120.0) -> Generation:
        """One non-streaming generation through ``/generate``."""
        result = Generation(endpoint=f"/v2/models/{model}/generate")
        body = {"text_input": prompt, "exclude_input_in_output": True, "parameters": sampling}
        start = time.monotonic()
        try:
            response = self.session.post(self.base + result.endpoint, json=body, timeout=(self.timeout, timeout))
            result.status = response.status_code
            data = response.json() if response.content else {}
            if response.status_code != 200 or "error" in data:
                result.error = str(data.get("error") or response.text[:300])
            else:
                result.text = str(data.get("text_output", ""))
                result.chunks = 1
        except Exception as exc:  # noqa: BLE001
            result.error = f"{type(exc).__name__}: {exc}"
        result.total_s = time.monotonic() - start
        result.ttft_s = result.total_s if result.text else None
        result.ok = result.error is None and bool(result.text.strip())
        return result


def _error_text(body: str) -> str:
    body = body.strip()
    if body.startswith("data:"):  # an SSE body with an error status
        body = body[5:].strip()
    try:
        data = json.loads(body)
        return str(data.get("error", body))[:500]
    except (json.JSONDecodeError, AttributeError):
        return body[:500]


_METRIC = re.compile(r"^(nv_inference_request_(?:success|failure|count))\{([^}]*)\}\s+([0-9.eE+-]+)", re.MULTILINE)


def request_counters(metrics_url: str, model: str, timeout: float = 5.0) -> dict[str, float]:
    """``nv_inference_request_success/failure/count`` for ``model`` from the metrics endpoint."""
    import requests

    try:
        text = requests.get(metrics_url.rstrip("/") + "/metrics", timeout=timeout).text
    except Exception:  # noqa: BLE001
        return {}
    counters: dict[str, float] = {}
    for name, labels, value in _METRIC.findall(text):
        if f'model="{model}"' in labels:
            counters[name] = counters.get(name, 0.0) + float(value)
    return counters
