"""Hugging Face Hub probe through the real ``huggingface_hub`` client (``HF_ENDPOINT`` honoured).

The client's default HTTP session has no timeout; :func:`_install_timeout` gives it one, once per process.
Every call returns a :class:`HubCall` whose ``kind`` tells failures apart: ``invalid-token``, ``not-found``,
``gated``, ``forbidden``, ``rate-limited``, ``timeout``, ``network``, ``other``. Token values are never part
of a :class:`HubCall`.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["HubCall", "HubProbe", "hub_endpoint"]

TIMEOUT_S = 10.0
_INSTALLED = threading.Lock()
_installed_timeout: list[float] = []


def hub_endpoint() -> str:
    """The Hub URL the client will use."""
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


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


def _install_timeout(timeout: float) -> None:
    with _INSTALLED:
        if _installed_timeout and _installed_timeout[0] == timeout:
            return
        import huggingface_hub
        from huggingface_hub.utils import _http

        base = _http.default_client_factory

        def factory() -> Any:
            client = base()
            client.timeout = timeout
            return client

        huggingface_hub.set_client_factory(factory)
        _installed_timeout[:] = [timeout]


def _failure(exc: BaseException) -> HubCall:
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
        message = str(exc).splitlines()[0][:300] if str(exc) else name
    return HubCall(ok=False, status=status, kind=kind, error_code=code, message=message)


class HubProbe:
    """whoami, model info and access checks, each with a timeout."""

    def __init__(self, endpoint: str | None = None, timeout: float | None = None) -> None:
        self._endpoint = endpoint
        self.timeout = timeout or float(os.environ.get("TRITON_DOCTOR_HUB_TIMEOUT", TIMEOUT_S))

    @property
    def endpoint(self) -> str:
        """The Hub URL (HF_ENDPOINT is read when used, not when the probe is made)."""
        return self._endpoint or hub_endpoint()

    def _api(self) -> Any:
        _install_timeout(self.timeout)
        from huggingface_hub import HfApi

        return HfApi(endpoint=self.endpoint)

    def whoami(self, token: str) -> HubCall:
        """``GET /api/whoami-v2``: the token's user and role (never the token)."""
        try:
            data = self._api().whoami(token=token)
        except Exception as exc:  # noqa: BLE001 - classified below
            return _failure(exc)
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
        """``GET /api/models/{id}``: gated, private, parameter count."""
        try:
            info = self._api().model_info(repo_id, token=token if token else False)
        except Exception as exc:  # noqa: BLE001
            return _failure(exc)
        safetensors = getattr(info, "safetensors", None)
        total = getattr(safetensors, "total", None) if safetensors is not None else None
        return HubCall(
            ok=True,
            status=200,
            data={
                "gated": getattr(info, "gated", None),
                "private": getattr(info, "private", None),
                "parameters": total,
                "config": getattr(info, "config", None) or {},
            },
        )

    def auth_check(self, repo_id: str, token: str | None) -> HubCall:
        """``GET /api/models/{id}/auth-check``: may this token read the repository?"""
        try:
            self._api().auth_check(repo_id, token=token if token else False)
        except Exception as exc:  # noqa: BLE001
            return _failure(exc)
        return HubCall(ok=True, status=200)
