"""One file of a Hub repository (``config.json``, ``tokenizer_config.json``) through ``hf_hub_download``.

The file lands in the Hugging Face cache (``HF_HOME``/``HF_HUB_CACHE``) like any client download, so a
second run reads it from there; ``offline`` reads the cache only (``local_files_only``), never the network.
``HF_ENDPOINT`` is honoured through :func:`~triton_doctor.probes.hub_probe.hub_endpoint` and the call has
the probe's timeout. Failures come back as a :class:`HubCall` (never an exception, never the token).
"""

from __future__ import annotations

import os
from pathlib import Path

from triton_doctor.probes.hub_probe import TIMEOUT_S, HubCall, _failure, _install_timeout, hub_endpoint

__all__ = ["HubFile", "download_file"]


class HubFile:
    """A downloaded (or cached) file: its local path, or why there is none."""

    __slots__ = ("call", "path")

    def __init__(self, path: Path | None, call: HubCall) -> None:
        self.path = path
        self.call = call


def download_file(repo_id: str, filename: str, token: str | None, *, offline: bool) -> HubFile:
    """Fetch ``filename`` of ``repo_id`` with exactly the container's token (none: anonymous)."""
    _install_timeout(float(os.environ.get("TRITON_DOCTOR_HUB_TIMEOUT", TIMEOUT_S)))
    from huggingface_hub import hf_hub_download

    try:
        # token=False: no token reaches the container, so the host's saved token must not be used either.
        path = hf_hub_download(
            repo_id,
            filename,
            token=token or False,
            endpoint=hub_endpoint(),
            local_files_only=offline,
        )
    except Exception as exc:  # noqa: BLE001 - classified by the hub probe's rules
        name = type(exc).__name__
        if offline and name in {"LocalEntryNotFoundError", "OfflineModeIsEnabled"}:
            return HubFile(None, HubCall(ok=False, kind="not-cached", message=f"{filename} is not in the HF cache"))
        if name == "EntryNotFoundError" or "RemoteEntryNotFoundError" in name:
            return HubFile(None, HubCall(ok=False, status=404, kind="no-file", message=f"{repo_id} has no {filename}"))
        return HubFile(None, _failure(exc))
    return HubFile(Path(path), HubCall(ok=True, status=200))
