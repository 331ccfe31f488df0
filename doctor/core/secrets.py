"""Redaction: every secret value, and anything holding a credential by its shape or place, out of text.

The primitive every stage uses on its own error strings; reports pass through report/redact.py, which applies it.
"""

from __future__ import annotations

import re

__all__ = ["TOKEN_SHAPE", "redact"]

#: A Hugging Face token by its shape.
TOKEN_SHAPE = re.compile(r"\bhf_[A-Za-z0-9]{8,}\b")

#: ``scheme://user:password@`` in a URL.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#@'\"<>]+@")
#: A query or form parameter whose name says it holds a credential (``?token=``, ``&api_key=``, ``sig=``).
_SECRET_PARAM = re.compile(
    r"(?i)([?&;][\w.-]*(?:token|key|secret|sig|signature|password|passwd|pwd|credential|auth)[\w.-]*=)[^&#\s'\"<>]+"
)
#: ``Authorization: Bearer x``, ``Proxy-Authorization: Basic x``, ``X-Api-Key: x`` and a bare ``Bearer x``.
_AUTH_HEADER = re.compile(
    r"(?i)\b((?:proxy-)?authorization|x-api-key|api-key|x-auth-token)(['\"]?\s*[:=]\s*['\"]?)"
    r"(?:(bearer|basic|token|digest)\s+)?[^\s'\",;}]+"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}")
_PART = re.compile(r"[\x00-\x20\x7f]+")


def _secret_forms(secret: str) -> list[str]:
    """The value, its escaped forms (repr, JSON) and, for a value with line breaks or other odd
    characters, each of its parts: a token holding ``\\n`` must not leak its tail through a repr."""
    import json

    forms = [secret, repr(secret)[1:-1], json.dumps(secret)[1:-1]]
    forms += [part for part in _PART.split(secret) if len(part) >= 4]
    return [f for f in dict.fromkeys(forms) if f]


def redact(text: str, secrets: set[str]) -> str:
    """Replace every secret value and anything that holds a credential by its shape or place.

    By value: each known secret (and its escaped forms and line parts). By shape: ``hf_...`` tokens. By
    structure: a URL's ``user:password@``, credential query parameters, ``Authorization`` headers and
    ``Bearer`` values. The one redaction pass of every output: run it before any truncation.
    """
    forms = sorted({f for s in secrets for f in _secret_forms(s)}, key=len, reverse=True)
    for form in forms:
        text = text.replace(form, "<redacted>")
    text = TOKEN_SHAPE.sub("hf_<redacted>", text)
    text = _USERINFO.sub(r"\1***@", text)
    text = _SECRET_PARAM.sub(r"\1***", text)
    text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3) + ' ' if m.group(3) else ''}***", text)
    return _BEARER.sub(r"\1 ***", text)
