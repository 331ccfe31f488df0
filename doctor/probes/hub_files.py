"""One file of a Hub repository (``config.json``, ``tokenizer_config.json``) through ``hf_hub_download``.

The file lands in the Hugging Face cache (``HF_HOME``/``HF_HUB_CACHE``) like any client download, so a
second run reads it from there; ``offline`` reads the cache only (``local_files_only``), never the network.
``HF_ENDPOINT`` is honoured through :func:`~triton_doctor.probes.hub_probe.hub_endpoint` and the call has
the probe's timeout. Failures come back as a :class:`HubCall` (never an exception, never the token).
"""

from __future__ import annotations

import os
from pathlib import Path

from triton_doctor.probes.hub_probe import TIMEOUT_S, HubCall, hub_endpoint, hub_failure, install_timeout

__all__ = ["HubFile", "download_file"]


class HubFile:
    """A downloaded (or cached) file: its local path, or why there is none."""

    __slots__ = ("call", "path")

    def __init__(self, path: Path | None, call: HubCall) -> None:
        self.path = path
        self.call = call


def hub_cache() -> str:
    """The HF hub cache, read when used (``HF_HUB_CACHE``, else ``HF_HOME``/hub) like the container's client."""
    home = os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface")
    return os.environ.get("HF_HUB_CACHE") or os.path.join(home, "hub")


def _classify(exc: BaseException, repo_id: str, filename: str, offline: bool) -> HubCall:
    name = type(exc).__name__
    if offline and name in {"LocalEntryNotFoundError", "OfflineModeIsEnabled"}:
        return HubCall(ok=False, kind="not-cached", message=f"{filename} is not in the HF cache")
    if name in {"EntryNotFoundError", "RemoteEntryNotFoundError"}:
        return HubCall(ok=False, status=404, kind="no-file", message=f"{repo_id} has no {filename}")
    return hub_failure(exc)


def download_file(repo_id: str, filename: str, token: str | None, *, offline: bool) -> HubFile:
    """Fetch ``filename`` of ``repo_id`` with exactly the container's token (none: anonymous).

    One HEAD without retries comes first: ``hf_hub_download`` retries a failing HEAD five times with
    back-off (about 20 s on a machine without network); when the Hub cannot be reached the cache answers.
    """
    timeout = float(os.environ.get("TRITON_DOCTOR_HUB_TIMEOUT", TIMEOUT_S))
    install_timeout(timeout)
    from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url

    # token=False: no token reaches the container, so the host's saved token must not be used either.
    auth: str | bool = token or False
    cached_only = offline
    if not offline:
        try:
            get_hf_file_metadata(
                hf_hub_url(repo_id, filename, endpoint=hub_endpoint()),
                token=auth,
                timeout=timeout,
                endpoint=hub_endpoint(),
            )
        except Exception as exc:  # noqa: BLE001 - classified by the hub probe's rules
            failure = _classify(exc, repo_id, filename, offline)
            if failure.kind not in {"network", "timeout"}:
                return HubFile(None, failure)
            cached_only = True
    try:
        path = hf_hub_download(
            repo_id,
            filename,
            token=auth,
            endpoint=hub_endpoint(),
            local_files_only=cached_only,
            cache_dir=hub_cache(),
        )
    except Exception as exc:  # noqa: BLE001 - classified by the hub probe's rules
        if cached_only and not offline:
            return HubFile(None, HubCall(ok=False, kind="network", message=f"the Hub did not answer for {filename}"))
        return HubFile(None, _classify(exc, repo_id, filename, offline))
    return HubFile(Path(path), HubCall(ok=True, status=200))
