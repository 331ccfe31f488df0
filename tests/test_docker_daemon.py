"""The real Docker engine that .ci/run starts is reachable from the test suite.

Without a daemon (a developer machine) these tests skip; under CI (``TRITON_DOCTOR_REQUIRE_DOCKER=1``,
set by .ci/run after it starts dockerd) a missing daemon is a failure, not a skip.
"""

from __future__ import annotations

import os

import pytest


def _client():  # type: ignore[no-untyped-def]
    docker = pytest.importorskip("docker")
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://") and not os.path.exists(host[7:]):
        if os.environ.get("TRITON_DOCTOR_REQUIRE_DOCKER") == "1":
            pytest.fail(f"TRITON_DOCTOR_REQUIRE_DOCKER=1 but there is no Docker socket at {host}")
        pytest.skip(f"no Docker socket at {host}")
    try:
        client = docker.from_env(timeout=10)
        client.ping()
    except Exception as exc:
        if os.environ.get("TRITON_DOCTOR_REQUIRE_DOCKER") == "1":
            pytest.fail(f"TRITON_DOCTOR_REQUIRE_DOCKER=1 but the Docker daemon did not answer: {exc}")
        pytest.skip(f"no Docker daemon: {exc}")
    return client


def test_dockerd_answers() -> None:
    client = _client()
    version = client.version()
    assert version["Version"]
    assert version["ApiVersion"]
    info = client.info()
    assert info["Driver"]
    print(f"dockerd {version['Version']} API {version['ApiVersion']} storage {info['Driver']}")
    client.close()
