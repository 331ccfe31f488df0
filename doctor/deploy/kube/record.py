"""The Kubernetes target: the primary serving container's record merged into ``Target``, and what to skip."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from triton_doctor.deploy.kube.model import KSERVE_MODEL_DIR, KubeDeployment, is_remote_store
from triton_doctor.deploy.target import DEFAULT_REPO, MountSpec, Target

__all__ = ["HOST_ONLY_CHECKS", "apply_to_target", "kube_skips"]


def apply_to_target(target: Target, kube: KubeDeployment, *, repo_given: bool) -> Target:
    """``target`` (from flags and the config file) with the primary serving container's record.

    The repository stays ``--repo`` (the local copy of what the volume holds); it is bound at the container's
    ``--model-repository``. ``--mount`` flags stay first, so a local copy of another volume wins over it.
    """
    primary = kube.primary
    sources = (*target.sources, *(f"--manifest {s}" for s in kube.sources))
    if primary is None:
        return replace(target, sources=sources, kube=kube)
    docker = primary.docker
    repo_target = next((r for r in docker.model_repositories if not is_remote_store(r)), None)
    if repo_target is None:
        repo_target = KSERVE_MODEL_DIR if any(m.target == KSERVE_MODEL_DIR for m in primary.mounts) else "/models"
    user_mounts = [m for m in target.mounts if m.origin == "--mount"]
    repo = target.repo if repo_given else DEFAULT_REPO
    repo_mount = MountSpec(source=repo, target=repo_target, origin="--repo (the local copy of the pod's volume)")
    mounts = [*user_mounts, repo_mount]
    taken = {m.target.rstrip("/") for m in mounts}
    mounts += [m for m in primary.mounts if m.target.rstrip("/") not in taken]
    models = target.models or tuple(dict.fromkeys(docker.load_models))
    return replace(
        target,
        repo=repo,
        repo_target=repo_target,
        models=models,
        mounts=tuple(mounts),
        image=target.image or docker.image or None,
        docker=docker,
        sources=sources,
        kube=kube,
    )


#: Checks that judge this machine's Docker daemon, GPUs or the container to be started here: a cluster's
#: nodes are not this machine, so with --manifest the kube-* checks read the pod spec instead.
HOST_ONLY_CHECKS = frozenset({"host-resources", "mount-daemon-view", "live-server", "live-generate"})


def kube_skips(target: Target, checks: Sequence[Any], *, repo_found: bool) -> dict[str, str]:
    """Reasons to skip checks for a Kubernetes target (``check --manifest`` / ``--pod-state``)."""
    skips: dict[str, str] = {}
    manifest = target.kube is not None and bool(target.kube.sources)
    for check in checks:
        cid = str(check.id)
        if cid.startswith("kube-"):
            continue
        category = str(getattr(check.category, "value", check.category))
        if not manifest:
            skips[cid] = "--pod-state only: give --manifest (and --repo) to check the deployment"
        elif category in {"docker", "gpu"} or cid in HOST_ONLY_CHECKS:
            skips[cid] = (
                "--manifest: this machine's Docker and GPUs are not the cluster's (kube-pod-spec reads the pod)"
            )
        elif cid == "hf-token" and _token_from_secret(target):
            skips[cid] = "--manifest: the token comes from a Secret (valueFrom), which the doctor does not read"
        elif not repo_found:
            skips[cid] = "--manifest without --repo: give --repo PATH, a local copy of what the model volume holds"
    return skips


def _token_from_secret(target: Target) -> bool:
    """The primary serving container takes HF_TOKEN (or HUGGING_FACE_HUB_TOKEN) through ``valueFrom``."""
    primary = target.kube.primary if target.kube is not None else None
    if primary is None:
        return False
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        entry = primary.env_entry(name)
        if entry is not None and "valueFrom" in entry:
            return True
    return False
