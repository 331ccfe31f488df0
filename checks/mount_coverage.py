"""``mount-coverage``: ``--model-repository`` lies under a mount of the container."""

from __future__ import annotations

from triton_doctor.check import Check, FindingFactory
from triton_doctor.core.closest import closest
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
                own = [m for m in ctx.target.mounts if m.origin != "default"]
                targets = ", ".join(sorted({m.target for m in own})) or "none"
                near = closest(repo.rstrip("/"), [m.target.rstrip("/") for m in own if m.type == "bind"])
                if near is not None:
                    remedy = f"did you mean {near}? write --model-repository={near}"
                else:
                    remedy = f"add --mount type=bind,source={_host_repo(ctx)},target={repo}"
                f.error(
                    "not-mounted",
                    f"--model-repository={repo} lies under no mount (mount targets: {targets})",
                    evidence=f"--model-repository={repo}",
                    catalog_id="model-repo-not-found-in-container",
                    remedy=remedy,
                )
        return f.outcome(", ".join(f"{r} mounted" for r in repos) if not f.findings else "repository not mounted")


def _host_repo(ctx: Context) -> str:
    """The host model repository as an absolute path (a bind source must be absolute)."""
    repo = ctx.repo()
    return str(repo.path.resolve()) if repo.exists else "<host model_repository>"
