"""``container-logs``: the logs of the command's container (a previous run) against the failure catalog."""

from __future__ import annotations

from triton_doctor.check import Check
from triton_doctor.deploy.tokens import known_secrets
from triton_doctor.facts.context import Context
from triton_doctor.logs.findings import diagnosis_outcome, log_deployment
from triton_doctor.logs.scan import scan_lines
from triton_doctor.results import Category, Outcome


class ContainerLogs(Check):
    """Diagnosis of the container's logs."""

    id = "container-logs"
    title = "Container logs"
    category = Category.LOGS
    requires = frozenset({"docker-daemon"})
    timeout_s = 120.0
    explanation = (
        "The guide's debugging (`docker logs triton_vllm_server`) done for you: when the container named by "
        "--name in your command exists (a previous run, stopped or running), its log is matched against the "
        "catalog of known Triton/vLLM failure signatures and the root cause is named with its line numbers and "
        "the fix. Wrappers such as 'failed to load all models' are reported only when no root cause is found. "
        "`triton-doctor logs SOURCE` does the same for a container, a file or stdin."
    )
    sub_ids = {
        "<catalog id>": "one failure mode of the catalog",
        "model-unavailable": "a model UNAVAILABLE for an unexplained reason",
        "model-ready": "a READY model",
    }

    def run(self, ctx: Context) -> Outcome:
        docker = ctx.target.docker
        if docker is None or not docker.name:
            return Outcome(skip_reason="no container name in the command (--name)")
        container = next((c for c in ctx.docker().containers if c.name == docker.name), None)
        if container is None:
            return Outcome(skip_reason=f"no container named {docker.name!r} (nothing ran yet)")
        lines = ctx.probes.docker.log_lines(container.id)
        secrets = known_secrets(ctx.target)  # redacted before quoted lines are cut, the command's env included
        return diagnosis_outcome(scan_lines(lines, secrets=secrets), f"container {docker.name}", log_deployment(ctx))
