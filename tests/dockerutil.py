"""Real-daemon helpers: a client or a skip, a runnable image made from this host's /bin/sleep, cleanup."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

SLEEP_IMAGE = "triton-doctor-test/sleep:2"
TEST_LABEL = "io.triton-doctor.test"


def docker_client() -> Any:
    """A connected docker SDK client, or skip (fail under TRITON_DOCTOR_REQUIRE_DOCKER=1)."""
    docker = pytest.importorskip("docker")
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    required = os.environ.get("TRITON_DOCTOR_REQUIRE_DOCKER") == "1"
    if host.startswith("unix://") and not os.path.exists(host[7:]):
        if required:
            pytest.fail(f"TRITON_DOCTOR_REQUIRE_DOCKER=1 but there is no Docker socket at {host}")
        pytest.skip(f"no Docker socket at {host}")
    client = docker.from_env(timeout=30)
    try:
        client.ping()
    except Exception as exc:
        client.close()
        if required:
            pytest.fail(f"the Docker daemon did not answer: {exc}")
        pytest.skip(f"no Docker daemon: {exc}")
    return client


def sleep_image(client: Any) -> str:
    """An image holding only /bin/sleep, /bin/cat and their libraries, imported from this host (no registry)."""
    try:
        client.images.get(SLEEP_IMAGE)
        return SLEEP_IMAGE
    except Exception:
        pass
    files: list[str] = []
    for program in ("/bin/sleep", "/bin/cat"):
        ldd = subprocess.run(["ldd", program], capture_output=True, text=True, check=True).stdout
        libs = [line.split("=>")[-1].split("(")[0].strip() for line in ldd.splitlines()]
        files += [program, *[lib for lib in libs if lib.startswith("/")]]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        added: set[str] = set()
        for path in files:
            real = Path(path).resolve()
            # Both the name the loader asks for and the real file (merged /usr: /bin -> usr/bin).
            for name in {path.lstrip("/"), real.as_posix().lstrip("/")}:
                if name not in added:
                    tar.add(str(real), arcname=name)
                    added.add(name)
    repo, tag = SLEEP_IMAGE.split(":")
    client.api.import_image_from_data(buffer.getvalue(), repository=repo, tag=tag)
    return SLEEP_IMAGE


@contextmanager
def running_container(client: Any, command: list[str] | None = None, **kwargs: Any) -> Iterator[Any]:
    """Run a labelled container from the sleep image; always removed."""
    image = sleep_image(client)
    container = client.containers.create(image, command or ["/bin/sleep", "120"], labels={TEST_LABEL: "1"}, **kwargs)
    try:
        container.start()
        yield container
    finally:
        container.remove(force=True)


def free_ports(count: int = 1) -> list[int]:
    """``count`` distinct TCP ports the OS hands out now (bound together to port 0, then released)."""
    import socket

    holders = []
    try:
        for _ in range(count):
            holder = socket.socket()
            holder.bind(("0.0.0.0", 0))
            holders.append(holder)
        return [h.getsockname()[1] for h in holders]
    finally:
        for holder in holders:
            holder.close()
