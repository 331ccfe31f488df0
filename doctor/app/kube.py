"""``check --manifest`` / ``--pod-state``: turn the flags into the Kubernetes target and the checks to skip."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from triton_doctor.deploy.inputs import TargetInput
from triton_doctor.deploy.kube.model import ManifestError
from triton_doctor.deploy.kube.podstate import scan_pod_state
from triton_doctor.deploy.kube.record import apply_to_target, kube_skips
from triton_doctor.deploy.kube.workloads import build_deployment
from triton_doctor.deploy.kube.yamlread import read_manifests
from triton_doctor.deploy.target import DEFAULT_REPO, Target, TargetError
from triton_doctor.probes.fs import FileReadError, decode_text, read_file_bytes

__all__ = ["kube_target", "read_pod_states"]

MAX_POD_STATE_BYTES = 16 * 1024 * 1024


def read_pod_states(specs: tuple[str, ...], stdin_text: str | None = None) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    """Scan every ``--pod-state`` file (``-``: stdin) for failure modes."""
    import sys

    found: list[tuple[str, tuple[Any, ...]]] = []
    for spec in specs:
        if spec == "-":
            if stdin_text is None:
                if sys.stdin is None:
                    raise TargetError("--pod-state -: standard input is closed; pipe kubectl's output in")
                raw = sys.stdin.buffer.read(MAX_POD_STATE_BYTES + 1)
                if len(raw) > MAX_POD_STATE_BYTES:
                    raise TargetError("--pod-state -: more than 16 MiB on stdin")
                stdin_text = decode_text(raw)
            found.append(("stdin", tuple(scan_pod_state(stdin_text))))
            continue
        try:
            text = decode_text(read_file_bytes(Path(spec), MAX_POD_STATE_BYTES, gzip=True))
        except FileReadError as exc:
            raise TargetError(f"--pod-state {spec}: {exc.reason}") from exc
        found.append((spec, tuple(scan_pod_state(text))))
    return tuple(found)


def kube_target(
    target: Target,
    config: Mapping[str, Any],
    inp: TargetInput,
    manifests: tuple[str, ...],
    pod_states: tuple[str, ...],
    checks: Mapping[str, Any],
) -> tuple[Target, dict[str, str]]:
    """The target with the manifests' record and pod states; and the checks that do not apply, with why."""
    if manifests.count("-") + pod_states.count("-") > 1:
        raise TargetError("stdin (-) can be read once: give it to --manifest or --pod-state, not both")
    try:
        kube = read_manifests(manifests) if manifests else build_deployment([], [], ())
    except ManifestError as exc:
        raise TargetError(str(exc)) from exc
    kube = replace(kube, pod_states=read_pod_states(pod_states))
    repo_given = bool(inp.repo or config.get("repo"))
    if manifests:
        target = apply_to_target(target, kube, repo_given=repo_given)
    else:
        target = replace(target, kube=kube)
    repo_found = repo_given or (inp.cwd / DEFAULT_REPO).is_dir()
    return target, kube_skips(target, list(checks.values()), repo_found=repo_found)


def k8s_command(target: Target) -> str:
    """``command --format k8s`` for ``target``: its models, their parallelism and weights (when readable)."""
    from triton_doctor.deploy.kube.render import render_k8s
    from triton_doctor.deploy.render import build_spec
    from triton_doctor.facts.context import Context

    ctx = Context(replace(target, offline=True))
    ctx.static_only = True
    try:
        present = list(ctx.selected_models()[0]) if ctx.repo().is_dir else []
        models = list(target.models or present)
        parallel = max(ctx.tensor_parallel().values(), default=1) if present else 1
        weights = _weights(ctx) if present else None
    finally:
        ctx.close()
    return render_k8s(build_spec(target, models, parallel=parallel), parallel=parallel, weights=weights)


def _weights(ctx: Any) -> int | None:
    from triton_doctor.facts.sizing import model_shape

    best: int | None = None
    for name in ctx.selected_models()[0]:
        try:
            shape = model_shape(ctx, name)
        except (OSError, ValueError):
            continue
        if shape is not None and shape.weights_bytes:
            best = max(best or 0, shape.weights_bytes)
    return best


def pod_state_result(path: str) -> Any:
    """``logs FILE`` on kubectl output: the kube-pod-state result (None when the file is not kubectl output)."""
    from triton_doctor.checks.kube_pod_state import KubePodState
    from triton_doctor.deploy.kube.podstate import looks_like_pod_state
    from triton_doctor.facts.context import Context
    from triton_doctor.results import CheckResult

    try:
        text = decode_text(read_file_bytes(Path(path), MAX_POD_STATE_BYTES, gzip=True))
    except FileReadError:
        return None
    if not looks_like_pod_state(text):
        return None
    kube = replace(build_deployment([], [], ()), pod_states=((path, tuple(scan_pod_state(text))),))
    outcome = KubePodState().run(Context(Target(repo=".", kube=kube)))
    return CheckResult(
        check=KubePodState.id,
        title=KubePodState.title,
        category=KubePodState.category,
        status=outcome.status,
        summary=outcome.summary,
        findings=outcome.findings,
    )
