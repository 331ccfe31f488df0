"""What a failed Hub download means, in the user's words: the token, the licence, the network.

huggingface_hub's own text ("401 Client Error. Cannot access gated repo for url ...", "Got: ConnectError")
says what failed inside the client; the user needs to know what to do: set a token, accept the licence, go
online. The status code and the client's exception class decide; the Hub's message is kept as evidence.
"""

from __future__ import annotations

import os

__all__ = ["download_error_text"]


def _endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def download_error_text(exc: BaseException, repo_id: str, *, token_set: bool) -> str:
    """One message for a failed download of ``repo_id``: what happened and the command or page that fixes it."""
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    page = f"{_endpoint()}/{repo_id}"
    status = _status(exc)
    if isinstance(exc, GatedRepoError) or (isinstance(exc, HfHubHTTPError) and status in (401, 403)):
        if not token_set or status == 401:
            return (
                f"{repo_id} is a gated model and no valid token was sent (HTTP {status or 401}): accept its licence "
                f"at {page}, create a read token at {_endpoint()}/settings/tokens, set it in this shell "
                '(export HF_TOKEN=...; PowerShell: $env:HF_TOKEN = "..."), then run the same command again'
            )
        return (
            f"{repo_id} is a gated model and this token's account has no access yet (HTTP {status}): accept the "
            f"licence at {page} with the account the token belongs to (a request the authors review may still be "
            "pending), then run the same command again"
        )
    if isinstance(exc, RevisionNotFoundError):
        return f"{repo_id} has no such revision on the Hub: see the branches and tags at {page}/tree/main"
    if isinstance(exc, RepositoryNotFoundError):
        return (
            f"{repo_id} is not on the Hub, or it is private and "
            + ("this token cannot read it" if token_set else "no token was sent (set HF_TOKEN)")
            + f": check the id at {page}"
        )
    if isinstance(exc, HfHubHTTPError) and status == 429:
        return "the Hub is rate-limiting this machine (HTTP 429): wait a few minutes, then run the same command again"
    if isinstance(exc, LocalEntryNotFoundError) or _is_connection_error(exc):
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}
        why = "HF_HUB_OFFLINE is set" if offline else f"{_endpoint()} cannot be reached from this machine"
        return (
            f"cannot download {repo_id}: {why} (no network, a proxy or a firewall?); nothing is missing on your "
            "side: run the same command again once the Hub answers" + (" (unset HF_HUB_OFFLINE)" if offline else "")
        )
    if isinstance(exc, HfHubHTTPError) and status is not None and status >= 500:
        return f"the Hub answered HTTP {status} for {repo_id}: a Hub-side problem; run the same command again later"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"download of {repo_id} failed: {first}"


def _is_connection_error(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        name = type(current).__name__
        if name in {"ConnectError", "ConnectTimeout", "ConnectionError", "ReadTimeout", "Timeout"}:
            return True
        if isinstance(current, (ConnectionError, TimeoutError)):
            return True
        current = current.__cause__ or current.__context__
    return "ConnectError" in str(exc) or "Connection refused" in str(exc)
