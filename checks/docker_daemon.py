"""``docker-daemon``: the Docker daemon answers (socket missing, permission denied, down: each its own fix)."""

from __future__ import annotations

import os
import sys

from triton_doctor.check import Check, FindingFactory
from triton_doctor.facts.context import Context
from triton_doctor.results import Category, Outcome


class DockerDaemon(Check):
    """The Docker daemon is reachable."""

    id = "docker-daemon"
    host_only = "docker"
    title = "Docker daemon"
    category = Category.DOCKER
    timeout_s = 20.0
    explanation = (
        "Everything else in the guide runs through the Docker daemon. The doctor connects the way the docker "
        "CLI does (DOCKER_HOST, else the platform's default socket) with a 10 s timeout and tells apart a "
        "missing socket (daemon or Docker Desktop not started), a permission problem (user not in the docker "
        "group) and a daemon that refuses or does not answer."
    )
    sub_ids = {
        "socket-missing": "no daemon socket: Docker is not installed or not started",
        "permission-denied": "the socket exists but this user may not use it",
        "refused": "nothing listens at DOCKER_HOST",
        "timeout": "the daemon did not answer in time",
        "other": "another connection error",
    }

    def run(self, ctx: Context) -> Outcome:
        facts = ctx.docker()
        f = FindingFactory(self.id)
        if facts.reachable:
            kind = facts.engine_kind
            return f.outcome(f"{kind} {facts.version} (API {facts.api_version}) at {facts.host}")
        kind = facts.error_kind or "other"
        desktop_platform = (
            sys.platform in {"win32", "darwin"} or "docker_engine" in facts.host or "/.docker/" in facts.host
        )
        remedies = {
            "socket-missing": "start Docker Desktop and wait for 'Engine running'"
            if desktop_platform
            else "start the daemon: sudo systemctl start docker (not installed? sudo apt-get install docker.io, or "
            "Docker's own packages)",
            "permission-denied": "add yourself to the docker group: sudo usermod -aG docker $USER, then log out and in "
            "(or run the doctor with sudo)",
            "refused": f"nothing listens at {facts.host}: start the daemon, or fix DOCKER_HOST "
            f"({'unset it' if 'DOCKER_HOST' in os.environ else 'it is not set'})",
            "timeout": "the daemon is overloaded or hung: restart it (sudo systemctl restart docker / restart "
            "Docker Desktop)",
            "other": "check that `docker version` works in this shell",
        }
        messages = {
            "socket-missing": f"no Docker daemon at {facts.host}"
            + (": Docker Desktop is not running" if desktop_platform else ""),
            "permission-denied": f"permission denied on {facts.host}",
            "refused": f"the Docker daemon refused the connection at {facts.host}",
            "timeout": f"the Docker daemon at {facts.host} did not answer in time",
            "other": f"cannot talk to the Docker daemon at {facts.host}",
        }
        f.error(
            kind,
            messages.get(kind, messages["other"]),
            evidence=facts.error or "",
            remedy=remedies.get(kind, remedies["other"]),
        )
        return f.outcome(messages.get(kind, messages["other"]))
