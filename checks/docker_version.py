"""``docker-version``: engine and API version against ``--gpus`` (19.03) and the guide's 28.1.1."""

from __future__ import annotations

from triton_doctor.check import Check, FindingFactory
from triton_doctor.core.units import parse_version
from triton_doctor.facts.context import Context
from triton_doctor.results import Category, Outcome

HARD_MINIMUM = (19, 3)
GUIDE_VERSION = (28, 1, 1)


class DockerVersion(Check):
    """Docker is new enough."""

    id = "docker-version"
    host_only = "docker"
    title = "Docker version"
    category = Category.DOCKER
    after = frozenset({"docker-daemon"})
    requires = frozenset({"docker-daemon"})
    explanation = (
        "`docker run --gpus` exists since Docker 19.03; older engines answer 'unknown flag: --gpus'. The "
        "deployment guide was written against Docker 28.1.1; older engines work for the guide's commands but "
        "lack newer features (CDI device names, better Desktop GPU support)."
    )
    sub_ids = {
        "too-old": "older than 19.03: no --gpus",
        "older-than-guide": "older than the guide's 28.1.1",
        "engine": "engine flavour and versions",
    }

    def run(self, ctx: Context) -> Outcome:
        facts = ctx.docker()
        f = FindingFactory(self.id)
        version = parse_version(facts.version)
        kind = facts.engine_kind
        f.info(
            "engine",
            f"{kind} {facts.version}, API {facts.api_version} (min API {facts.min_api_version}), "
            f"{facts.operating_system}, storage {facts.storage_driver}",
        )
        if version and version < HARD_MINIMUM:
            f.error(
                "too-old",
                f"Docker {facts.version} is older than 19.03: `docker run --gpus` does not exist",
                evidence=f"server version {facts.version}",
                catalog_id="docker-gpu-runtime-missing",
                remedy="upgrade Docker Engine to 19.03 or newer (the guide uses 28.1.1)",
            )
        elif version and version < GUIDE_VERSION:
            f.warning(
                "older-than-guide",
                f"Docker {facts.version} is older than 28.1.1, the version the guide was written for",
                evidence=f"server version {facts.version}, API {facts.api_version}",
                remedy="upgrade to Docker 28.1.1 or newer when you can (Docker's apt repository or Docker "
                "Desktop); the guide's commands also work on this version",
            )
        return f.outcome(f"{kind} {facts.version} (API {facts.api_version})")
