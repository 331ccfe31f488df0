"""Server URLs as the user gives them: parsed, checked, and shown without credentials."""

from __future__ import annotations

from urllib.parse import urlsplit

SERVER_FORMS = "http://HOST:PORT or https://HOST:PORT (e.g. http://127.0.0.1:8000)"


class ServerUrlError(ValueError):
    """``--server`` is not an http(s) URL with a host."""


def display_url(url: str) -> str:
    """``url`` without its credentials: ``http://user:pw@host/p?token=x`` -> ``http://***@host/p?token=***``."""
    from triton_doctor.core.secrets import redact

    return redact(url, set())


def parse_server_url(raw: str) -> str:
    """A ``--server`` value checked and normalised (no trailing slash), or :class:`ServerUrlError`."""
    text = raw.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ServerUrlError(f"--server {display_url(text)!s}: not a URL ({exc}); give {SERVER_FORMS}") from None
    if parts.scheme not in {"http", "https"}:
        what = f"the scheme {parts.scheme}:// is not supported" if parts.scheme else "no http:// or https://"
        raise ServerUrlError(f"--server {display_url(text)}: {what}; give {SERVER_FORMS}")
    if not parts.hostname:
        raise ServerUrlError(f"--server {display_url(text)}: no host; give {SERVER_FORMS}")
    if parts.query or parts.fragment:
        raise ServerUrlError(
            f"--server {display_url(text)}: a query or fragment has no place here; give {SERVER_FORMS}"
        )
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        raise ServerUrlError(f"--server {display_url(text)!r}: spaces or control characters; give {SERVER_FORMS}")
    del port
    return text.rstrip("/")
