"""The two fixes that act outside files: a Hub download and removing a stopped container."""

from __future__ import annotations

from triton_doctor.fixes.plan import Op

__all__ = ["download_snapshot", "remove_stopped_container"]


def download_snapshot(op: Op) -> None:
    """Download ``op.repo_id`` into ``op.path`` with huggingface_hub (missing files only, resumable).

    The token comes from the environment (HF_TOKEN) or huggingface_hub's own login; the doctor never writes it.
    """
    from huggingface_hub import snapshot_download

    op.path.mkdir(parents=True, exist_ok=True)
    snapshot_download(repo_id=op.repo_id, local_dir=str(op.path), revision=op.name or None)


def remove_stopped_container(op: Op) -> None:
    """Remove a container by name, only when it is not running."""
    import docker

    client = docker.from_env(timeout=30)
    try:
        container = client.containers.get(op.name)
        if container.status == "running":
            raise RuntimeError(f"container {op.name} is running; stop it first (docker stop {op.name})")
        container.remove()
    finally:
        client.close()
