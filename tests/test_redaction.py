"""Credentials are redacted by value and by structure, in every format, before any shortening."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.httpfakes import Handler, serve
from triton_doctor.core.secrets import redact

SECRET = "Pw0rdSecret9"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"HF_ENDPOINT=http://user:{SECRET}@host:8000/x", "HF_ENDPOINT=http://***@host:8000/x"),
        (f"https://h/x?a=1&token={SECRET}&b=2", "https://h/x?a=1&token=***&b=2"),
        (
            f"https://h/?access_token={SECRET}&api_key={SECRET}&sig={SECRET}",
            "https://h/?access_token=***&api_key=***&sig=***",
        ),
        (f"X-Amz-Signature={SECRET}", f"X-Amz-Signature={SECRET}"),  # not a query parameter: left alone
        (f"https://b/o?X-Amz-Signature={SECRET}&x=1", "https://b/o?X-Amz-Signature=***&x=1"),
        (f"Authorization: Bearer {SECRET}", "Authorization: Bearer ***"),
        (f"{{'authorization': 'Basic {SECRET}'}}", "{'authorization': 'Basic ***'}"),
        (f"sent Bearer {SECRET} to it", "sent Bearer *** to it"),
        ("mail me at a@b.com, see http://x.com/a@b", "mail me at a@b.com, see http://x.com/a@b"),
    ],
)
def test_redact_by_structure(text: str, shown: str) -> None:
    assert redact(text, set()) == shown


def test_multiline_secret_redacted_in_every_form() -> None:
    secret = "hf_abcdefgh\nTAILSECRET"
    for text in (secret, repr(secret), f"header value {secret!r} invalid", "tail: TAILSECRET"):
        assert "TAILSECRET" not in redact(text, {secret})


def _unauthorized(h: Handler) -> None:
    h.send_json(
        401,
        {"error": "Invalid credentials in Authorization header"},
        {"X-Error-Message": "Invalid credentials in Authorization header"},
    )


def _repo(tmp_path: Path) -> Path:
    version = tmp_path / "model_repository" / "m" / "1"
    version.mkdir(parents=True)
    (version / "model.json").write_text('{"model": "org/name"}')
    (version.parent / "config.pbtxt").write_text('backend: "vllm"\n')
    return version.parent.parent


@pytest.mark.parametrize("form", ["userinfo", "query"])
def test_hf_endpoint_credentials_never_printed(tmp_path: Path, form: str) -> None:
    repo = _repo(tmp_path)
    with serve({("GET", "*"): _unauthorized}) as fake:
        endpoint = (
            fake.url.replace("http://", f"http://user:{SECRET}@")
            if form == "userinfo"
            else f"{fake.url}/?token={SECRET}"
        )
        env = {"HF_ENDPOINT": endpoint, "HF_TOKEN": "hf_" + "c" * 34, "DOCKER_HOST": "unix:///nonexistent"}
        outputs = []
        for fmt in ("text", "json", "junit"):
            args = ("check", "--repo", str(repo), "--only", "hf-token", "--format", fmt, "-v")
            result = run_cli(*args, env=env)
            outputs.append(result.stdout + result.stderr)
        assert fake.requests
    assert any("settings/tokens" in text or "token=***" in text for text in outputs)
    for text in outputs:
        assert SECRET not in text


def test_token_with_newline_never_leaks_its_tail(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    token_file = tmp_path / "token"
    token_file.write_text("hf_abcdefghijkl\nTAILSECRET\n")
    env = {"HF_TOKEN_PATH": str(token_file), "HF_ENDPOINT": "http://127.0.0.1:9", "DOCKER_HOST": "unix:///nonexistent"}
    for fmt in ("text", "json", "junit"):
        result = run_cli("check", "--repo", str(repo), "--only", "hf", "--format", fmt, "-v", env=env)
        assert "TAILSECRET" not in result.stdout + result.stderr
        assert "hf_abcdefghijkl" not in result.stdout + result.stderr
