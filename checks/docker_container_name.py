"""``docker-container-name``: the command's ``--name`` is not taken by another container."""

from __future__ import annotations

from triton_doctor.check import Check, FindingFactory
from triton_doctor.facts.context import Context
from triton_doctor.fixdata import Applicability, Fix, RemoveContainer
from triton_doctor.results import Category, Outcome


class DockerContainerName(Check):
    """The container name is free."""

    id = "docker-container-name"
    title = "Container name"
    category = Category.DOCKER
    describes_new_container = True
    after = frozenset({"docker-gpu-runtime"})
    requires = frozenset({"docker-daemon"})
    explanation = (
        "docker run --name X fails with 'Conflict. The container name \"/X\" is already in use' while a container "
        "of that name exists, running or stopped. Without --rm (as the guide advises while debugging) the "
        "stopped container of the previous try keeps the name."
    )
    sub_ids = {"in-use": "a container already has the name"}

    def run(self, ctx: Context) -> Outcome:
        docker = ctx.target.docker
        if docker is None or not docker.name:
            return Outcome(skip_reason="the command has no --name")
        f = FindingFactory(self.id)
        for container in ctx.docker().containers:
            if container.name == docker.name:
                running = container.status.lower().startswith(("up", "running", "restarting", "paused"))
                stop = f"docker stop {docker.name} && docker rm {docker.name}"
                fix = (
                    Fix(description="stop and remove it yourself", applicability=Applicability.DISPLAY, command=stop)
                    if running
                    else Fix(
                        description=f"remove the stopped container {docker.name} (its logs go with it)",
                        applicability=Applicability.UNSAFE,
                        edits=(RemoveContainer(docker.name),),
                    )
                )
                f.error(
                    "in-use",
                    f"container name {docker.name!r} is already in use by {container.id} "
                    f"({container.image}, {container.status})",
                    evidence=f"{container.name} {container.id} {container.status}",
                    remedy=(
                        f"docker stop {docker.name} && docker rm {docker.name}"
                        if running
                        else f"docker rm {docker.name}   # read its logs first: docker logs {docker.name}"
                    ),
                    fix=fix,
                )
        return f.outcome(f"{docker.name!r} " + ("is taken" if f.findings else "is free"))
