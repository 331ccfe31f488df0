"""``live-server``: bring Triton + vLLM up (or reach ``--server``) and wait until every model is READY."""

from __future__ import annotations

from dataclasses import replace

from triton_doctor.check import Check, FindingFactory
from triton_doctor.facts.context import Context
from triton_doctor.logs.findings import diagnosis_outcome, log_deployment
from triton_doctor.logs.scan import scan_lines
from triton_doctor.results import Category, Finding, Outcome

#: Where Docker cannot give GPUs: the way out for images that need none.
CPU_ONLY = "for a CPU-only image, start it without GPUs: --no-gpus (and no --gpus all in your docker run)"


#: Remedies with ``--server``: the doctor started no container there, so they speak of the server.
REMOTE_REMEDIES = {
    "timeout": "the server answers but its models did not settle in time: read the server's own log where it "
    "runs (docker logs / kubectl logs of that server), or raise --timeout",
    "unavailable": "the server reports the model UNAVAILABLE with the reason quoted: fix it in the server's "
    "repository, then load it again (POST /v2/repository/models/<model>/load) or restart the server",
    "missing": "name a model the server has (--model), or add it to the server's model repository and load it",
}


def load_remedy(model: str, server_url: str | None) -> str:
    """How to load ``model``: on a running server (``--server``) its API or its start command; in the command."""
    if server_url:
        return (
            f"load it on the server: start tritonserver with --model-control-mode=explicit --load-model={model}, "
            f"or, in explicit mode, call curl -X POST {server_url}/v2/repository/models/{model}/load"
        )
    return f"add --load-model={model} to the tritonserver arguments (with --model-control-mode=explicit)"


def relabel(findings: tuple[Finding, ...], check_id: str) -> list[Finding]:
    """Log-diagnosis findings under another check id (same sub-ids: the catalog ids)."""
    return [replace(f, id=f"{check_id}[{f.sub_id}]") for f in findings if f.severity.value != "info"]


class LiveServer(Check):
    """The deployment comes up."""

    id = "live-server"
    title = "Triton + vLLM bring-up"
    category = Category.LIVE
    opt_in = True
    timeout_s = 3600.0
    explanation = (
        "With --live (or `triton-doctor up`) the doctor starts your deployment for real: your image, mounts, "
        "env and ports from your docker run, with explicit model control, --load-model, --shm-size and "
        "ulimits. It watches the container, its log and the endpoints and stops as soon as the outcome is known "
        "(exited, a model UNAVAILABLE with its reason, or READY), then names the cause from the log catalog. "
        "Its container is labelled and always removed (--keep leaves a healthy one running). With --server URL "
        "it checks an already running Triton instead, without Docker."
    )
    sub_ids = {
        "ready": "every model is READY",
        "no-image": "the image is not present locally",
        "start-failed": "Docker refused to start the container",
        "exited": "the container stopped",
        "unavailable": "a model failed to load",
        "timeout": "no outcome in time",
        "unreachable": "nothing answers at --server",
        "missing": "a model is not in the server's repository",
        "redirect": "the server redirects to another host (not followed)",
        "no-docker": "no Docker daemon for the bring-up",
        "adjusted": "a limit of your docker run was adjusted because this host refuses it",
        "not-loaded": "a model is in the server's repository but not loaded",
        "as-fixed": "up --as-fixed brought up the corrected command, not the one as written",
        "corrected": "the bring-up ran the command as written; up --as-fixed runs the corrected one",
    }

    def run(self, ctx: Context) -> Outcome:
        f = FindingFactory(self.id)
        if not ctx.target.server_url:
            docker = ctx.docker()
            if not docker.reachable:
                # Asked to bring the deployment up and unable to: a failure, never a quiet skip (exit 0).
                f.error(
                    "no-docker",
                    f"the bring-up needs the Docker daemon, which does not answer ({docker.error})",
                    remedy="start Docker (or set DOCKER_HOST), or check a running server with --server URL",
                )
                return f.outcome("no Docker daemon: nothing was started")
        out = ctx.live_outcome()
        for note in out.notes:
            level, _, text = note.partition(": ")
            if level == "warning":
                if "port" in text:
                    remedy = "stop what holds the port, or publish another host port in your command (-p N:8000)"
                elif "ulimit" in text:
                    remedy = (
                        "your docker run asks for these limits and this host refuses them: "
                        "drop --ulimit memlock=-1, or run a Docker that allows it (not rootless)"
                    )
                else:
                    remedy = "correct it in your command"
                f.warning("adjusted", text, remedy=remedy)
            else:
                f.info("adjusted", text)
        where = (
            "server " + str(out.http_url)
            if out.remote
            else (f"container {out.container}" if out.container else "the Docker daemon")
        )
        if out.state in {"ready", "not-loaded"}:
            for model in out.not_loaded:
                (f.error if out.state == "not-loaded" else f.warning)(
                    "not-loaded",
                    f"{model} is in the server's model repository but not loaded"
                    + (f" ({out.models[model][1]})" if out.models.get(model, ("", ""))[1] else ""),
                    evidence=f"POST /v2/repository/index: {model} "
                    + (out.models.get(model, ("", ""))[0] or "(no state)"),
                    remedy=load_remedy(model, out.http_url if out.remote else None),
                    model=model,
                )
        if out.state == "not-loaded":
            return f.outcome(f"not loaded: {', '.join(out.not_loaded)} ({where})")
        as_fixed = bool(getattr(ctx.live_options, "as_fixed", False)) and not out.remote
        if as_fixed:
            f.info(
                "as-fixed",
                "brought up the CORRECTED command (--as-fixed), not your command as written: " + " ".join(out.command),
                remedy="triton-doctor command prints it for your shell",
            )
        if out.state == "ready":
            live = f", live after {out.live_at - out.started_at:.1f} s" if out.live_at else ""
            ready = [m for m, (state, _reason) in out.models.items() if state == "READY"]
            f.info(
                "ready",
                f"{', '.join(ready)} READY after {out.ready_at - out.started_at:.1f} s{live}",
                evidence=" ".join(out.command),
            )
            shown = where if out.remote else f"{where}, {out.http_url}"
            headline = "corrected command (--as-fixed): " if as_fixed else ""
            return f.outcome(f"{headline}READY in {out.ready_at - out.started_at:.1f} s ({shown})")
        diag = out.diagnosis or scan_lines([out.detail])
        from_log = [
            replace(x, remedy=f"{x.remedy}; {CPU_ONLY}") if x.catalog_id == "docker-gpu-runtime-missing" else x
            for x in relabel(diagnosis_outcome(diag, where, log_deployment(ctx)).findings, self.id)
        ]
        if out.state == "no-image":
            f.error("no-image", out.detail, remedy=f"docker pull {ctx.target.image}")
        elif out.state == "exited" and (out.oom_killed or out.exit_code == 137):
            how = (
                "the kernel killed it for memory (OOMKilled)"
                if out.oom_killed
                else "SIGKILL: out of memory, or killed from outside"
            )
            f.error(
                "host-ram-oom-killed",
                f"{out.detail} while loading: {how}",
                catalog_id="host-ram-oom-killed",
                evidence=out.last_log_line,
                remedy="give the container more memory (Docker Desktop/WSL limits), add swap, or use a smaller model",
            )
        elif not from_log:
            remedy = (REMOTE_REMEDIES if out.remote else {}).get(out.state) or {
                "timeout": "raise --timeout, or read the log: docker logs <container> (run with --keep)",
                "unreachable": "check the URL and that the server runs",
                "missing": "name a model the server has (--model), or add it to the server's model repository",
                "redirect": "give --server the address that answers itself (the redirect's target if you trust "
                "it); the doctor does not follow a redirect to another host",
            }.get(out.state, "read the log lines quoted above")
            f.error(out.state, f"{out.detail}", evidence=out.last_log_line, remedy=remedy)
        if ctx.target.docker is not None and not out.remote and not as_fixed and out.state != "no-image":
            f.info(
                "corrected",
                "the doctor ran your command as written; the findings above say what it lacks",
                remedy="see the corrected command with triton-doctor command, or bring it up: triton-doctor up "
                "--as-fixed",
            )
        summary = f"{out.state}: {out.detail}"
        if from_log:
            first = from_log[0]
            summary = f"{out.state}: {first.catalog_id or first.sub_id} ({where})"
        return Outcome(summary=summary[:300], findings=tuple(f.findings) + tuple(from_log))
