"""The two fixes that act outside files: a Hub download and removing a stopped container."""

from __future__ import annotations

from pathlib import Path

from triton_doctor.repair.plan import Op

__all__ = ["download_into", "download_snapshot", "remove_stopped_container"]


def download_snapshot(op: Op) -> None:
    """The ``download`` operation of a fix."""
    download_into(op.repo_id, op.path, op.name or None)


def download_into(repo_id: str, path: Path, revision: str | None = None) -> None:
    """Download ``repo_id`` into ``path`` with huggingface_hub: files already there are skipped, a broken
    download resumes, a progress bar shows on a terminal. The token comes from the environment (HF_TOKEN)
    or huggingface_hub's own login; the doctor never writes it anywhere."""
    from huggingface_hub import snapshot_download

    from triton_doctor.deploy.tokens import host_token

    path.mkdir(parents=True, exist_ok=True)
    token = host_token().value
    snapshot_download(repo_id=repo_id, local_dir=str(path), revision=revision, token=token or None)


def remove_stopped_container(op: Op) -> None:
    """Remove a container by name, only when it is not running."""
    import docker

    client = docker.from_env(timeout=30)
    try:
        container = client.containers.get(op.name)
        container.reload()
        if container.status not in {"exited", "created", "dead"}:
            raise OSError(f"container {op.name} is {container.status}; stop it first (docker stop {op.name})")
        container.remove()
    finally:
        client.close()
