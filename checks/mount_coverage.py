"""``mount-coverage``: ``--model-repository`` lies under a mount of the container."""

from __future__ import annotations

from triton_doctor.check import Check, FindingFactory
from triton_doctor.facts.context import Context
from triton_doctor.results import Category, Outcome


class MountCoverage(Check):
    """The repository path exists inside the container."""

    id = "mount-coverage"
    title = "Model repository mounted"
    category = Category.MOUNTS
    describes_new_container = True
    after = frozenset({"mount-sources"})
    explanation = (
        "tritonserver --model-repository=/models reads the container's /models: it must be the target of a bind "
        "mount of the host repository, or the server stops with 'failed to stat file /models'. (Paths named in "
        "model.json are checked by model-source.)"
    )
    sub_ids = {"not-mounted": "--model-repository is under no mount"}

    def run(self, ctx: Context) -> Outcome:
        docker = ctx.target.docker
        if docker is None:
            return Outcome(skip_reason="no docker command given: the doctor mounts the repository at /models itself")
        f = FindingFactory(self.id)
        repos = docker.model_repositories or []
        if docker.command and docker.command[0].endswith("tritonserver") and not repos:
            f.error(
                "not-mounted",
                "tritonserver has no --model-repository",
                evidence=" ".join(docker.command),
                remedy="add --model-repository=/models",
                catalog_id="model-repo-not-found-in-container",
            )
        for repo in repos:
            mount = ctx.target.mount_for(repo)
            if mount is None or mount.origin == "default":
                targets = ", ".join(sorted({m.target for m in ctx.target.mounts if m.origin != "default"})) or "none"
                f.error(
                    "not-mounted",
                    f"--model-repository={repo} lies under no mount (mount targets: {targets})",
                    evidence=f"--model-repository={repo}",
                    catalog_id="model-repo-not-found-in-container",
                    remedy=f"add --mount type=bind,source=<host model_repository>,target={repo}",
                )
        return f.outcome(", ".join(f"{r} mounted" for r in repos) if not f.findings else "repository not mounted")
