"""``docker-run-options``: the user's ``docker run`` has what a Triton + vLLM container needs."""

from __future__ import annotations

from triton_doctor.check import Check, FindingFactory
from triton_doctor.core.units import human_bytes, parse_size
from triton_doctor.facts.context import Context
from triton_doctor.results import Category, Outcome

GIB = 1024**3


class DockerRunOptions(Check):
    """GPU, shared memory, ulimits, control mode."""

    id = "docker-run-options"
    title = "docker run options"
    category = Category.DOCKER
    describes_new_container = True
    after = frozenset({"docker-ports"})
    explanation = (
        "Read from your own docker run command: --gpus all (without it vLLM finds no GPU), --shm-size (the "
        "Python backend that hosts vLLM uses /dev/shm; Docker's default is 64 MB), --ulimit memlock=-1 "
        "--ulimit stack=67108864 (vllm_backend's README), --ipc=host and VLLM_WORKER_MULTIPROC_METHOD=spawn for "
        "tensor parallel, explicit model control so one failed model does not stop the server, no --net=host "
        "with -p, and --rm hiding the logs of a container that dies."
    )
    sub_ids = {
        "no-gpus": "no --gpus (or --runtime=nvidia)",
        "runtime-flag": "--runtime=nvidia instead of --gpus",
        "shm-size": "--shm-size missing or small",
        "ulimits": "no memlock/stack ulimits",
        "ipc-host": "tensor parallel without --ipc=host",
        "spawn": "tensor parallel without VLLM_WORKER_MULTIPROC_METHOD=spawn",
        "host-network": "--net=host together with -p",
        "control-mode": "default model control mode: any load failure stops the server",
        "rm": "--rm removes the logs of a container that dies",
        "msys-path": "--model-repository rewritten into a Windows path by Git Bash",
    }

    def run(self, ctx: Context) -> Outcome:
        docker = ctx.target.docker
        if docker is None:
            return Outcome(skip_reason="no docker command given (--docker-command or --docker-command-file)")
        f = FindingFactory(self.id)
        tp = max(ctx.tensor_parallel().values(), default=1) if ctx.repo().is_dir else 1
        if not docker.gpus and docker.runtime != "nvidia":
            f.error(
                "no-gpus",
                "the command passes no GPU to the container (no --gpus)",
                remedy="add --gpus all right after docker run",
                catalog_id="no-gpu-in-container",
            )
        elif docker.runtime == "nvidia" and not docker.gpus:
            f.warning(
                "runtime-flag",
                "--runtime=nvidia instead of --gpus all",
                evidence="--runtime=nvidia",
                catalog_id="docker-gpu-runtime-missing",
                remedy="use --gpus all (works with the NVIDIA Container Toolkit without a named runtime)",
            )
        if docker.ipc != "host":
            size = parse_size(docker.shm_size) if docker.shm_size else None
            if docker.shm_size is None:
                f.warning(
                    "shm-size",
                    "no --shm-size: the container gets Docker's default 64 MB of /dev/shm, which "
                    "the Python backend hosting vLLM outgrows",
                    catalog_id="shm-too-small-python-backend",
                    remedy="add --shm-size=1g",
                )
            elif size is not None and size < GIB:
                f.warning(
                    "shm-size",
                    f"--shm-size={docker.shm_size} is {human_bytes(size)}; the Python backend needs about 1 GiB",
                    evidence=f"--shm-size={docker.shm_size}",
                    catalog_id="shm-too-small-python-backend",
                    remedy="write --shm-size=1g",
                )
        limits = {u.split("=", 1)[0] for u in docker.ulimits}
        missing = [u for u in ("memlock", "stack") if u not in limits]
        if missing:
            f.info(
                "ulimits",
                f"no --ulimit {' / '.join(missing)} (vllm_backend's README runs with them)",
                remedy="add --ulimit memlock=-1 --ulimit stack=67108864",
            )
        if tp > 1:
            if docker.ipc != "host":
                f.warning(
                    "ipc-host",
                    f"tensor_parallel_size x pipeline_parallel_size = {tp} without --ipc=host: NCCL "
                    "needs shared memory between the GPU workers",
                    catalog_id="nccl-shm-tensor-parallel",
                    remedy="add --ipc=host",
                )
            if docker.env.get("VLLM_WORKER_MULTIPROC_METHOD") != "spawn":
                f.warning(
                    "spawn",
                    f"tensor parallel ({tp}) without -e VLLM_WORKER_MULTIPROC_METHOD=spawn: forked "
                    "workers cannot re-initialise CUDA",
                    catalog_id="cuda-reinit-in-forked-subprocess",
                    remedy="add -e VLLM_WORKER_MULTIPROC_METHOD=spawn",
                )
        if docker.network == "host" and docker.ports:
            f.warning(
                "host-network",
                "--net=host together with -p: published ports are discarded with host "
                "networking (and Docker Desktop ignores host networking unless enabled)",
                evidence=f"--network host, {' '.join('-p ' + p.raw for p in docker.ports)}",
                catalog_id="host-network-on-docker-desktop",
                remedy="drop --net=host and keep -p 8000:8000 -p 8001:8001 -p 8002:8002",
            )
        # --load-model without explicit mode is a refusal at start: server-args names it with the server's words.
        refused = bool(docker.load_models)
        if (
            docker.command
            and docker.command[0].endswith("tritonserver")
            and docker.model_control_mode != "explicit"
            and not refused
        ):
            f.warning(
                "control-mode",
                "no --model-control-mode=explicit: in the default mode one model that fails "
                "to load stops the whole server ('failed to load all models')",
                catalog_id="server-exits-on-any-load-failure",
                remedy="add --model-control-mode=explicit --load-model=<model> to the tritonserver arguments",
            )
        if docker.remove and docker.detach:
            f.info(
                "rm",
                "-d --rm: when the container dies, its logs go with it",
                remedy="while diagnosing, drop --rm so that `docker logs <name>` still works after a crash",
            )
        for repo in docker.model_repositories:
            if repo[1:3] in {":/", ":\\"}:
                f.error(
                    "msys-path",
                    f"--model-repository={repo} is a Windows path inside the container: Git Bash rewrote /models",
                    evidence=f"--model-repository={repo}",
                    catalog_id="model-repo-not-found-in-container",
                    remedy="run with MSYS_NO_PATHCONV=1 docker run ... (or use PowerShell, or write //models)",
                )
        return f.outcome(
            "options " + ("need attention" if any(x.severity.value != "info" for x in f.findings) else "look right")
        )
