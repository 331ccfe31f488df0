"""What a running Triton says about its models: ``GET /v2/models/NAME/config`` (bounded by a timeout)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

__all__ = ["ServerConfig", "server_model_config"]


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """The model configuration the server holds, or why it could not be read."""

    model: str
    config: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def server_model_config(base_url: str, model: str, timeout: float = 5.0) -> ServerConfig:
    """``GET /v2/models/<model>/config`` as JSON; never raises."""
    import requests

    url = f"{base_url.rstrip('/')}/v2/models/{quote(model, safe='')}/config"
    try:
        response = requests.get(url, timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - refused, reset, timeout: the finding says so
        return ServerConfig(model, error=f"{type(exc).__name__}: {exc}")
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code != 200 or not isinstance(data, dict):
        detail = data.get("error") if isinstance(data, dict) else response.text[:200]
        return ServerConfig(model, error=f"HTTP {response.status_code}: {detail}")
    return ServerConfig(model, config=data)
