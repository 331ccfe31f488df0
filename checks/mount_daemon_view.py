"""``mount-daemon-view``: the guide's mount test done for real: what the Docker daemon sees at each mount."""

from __future__ import annotations

from pathlib import Path

from triton_doctor.check import Check, FindingFactory
from triton_doctor.core.closest import closest_dir
from triton_doctor.deploy.mountpaths import resolve_source
from triton_doctor.facts.context import Context
from triton_doctor.probes.docker_probe import PROBE_IMAGE, PROBE_LABEL
from triton_doctor.results import Category, Outcome


class MountDaemonView(Check):
    """Mounts as the daemon sees them."""

    id = "mount-daemon-view"
    title = "Mounts seen by Docker"
    category = Category.MOUNTS
    describes_new_container = True
    requires = frozenset({"docker-daemon"})
    after = frozenset({"mount-coverage"})
    timeout_s = 60.0
    explanation = (
        "The guide's test (`docker run --rm --mount ... ubuntu ls -l /data`) without pulling ubuntu and "
        "without running anything: the doctor creates a container (the target image if present, else an empty "
        "image it imports itself) with each bind mount, reads the mount target back through the daemon, and "
        "removes the container. The daemon resolves paths itself: on Docker Desktop a path that exists in "
        "your shell may not exist for the daemon, or may show up empty when file sharing is off."
    )
    sub_ids = {
        "rejected": "the daemon rejected the mount (bind source path does not exist, ...)",
        "empty": "the daemon sees an empty directory where the host has files",
        "seen": "what the daemon sees",
    }

    def run(self, ctx: Context) -> Outcome:
        dialect = ctx.target.docker.dialect if ctx.target.docker else None
        binds: list[tuple[str, str, bool]] = []
        host_entries: dict[str, int] = {}
        for mount in ctx.target.mounts:
            if mount.type != "bind":
                continue
            resolved = resolve_source(mount, dialect, Path.cwd())
            if resolved.path is None:
                continue
            if mount.raw.startswith("-v") and not resolved.path.exists():
                continue  # -v creates a missing source (mount-sources warns): the daemon would not refuse it
            source = str(resolved.path)
            binds.append((source, mount.target, mount.readonly))
            try:
                host_entries[source] = sum(1 for _ in resolved.path.iterdir())
            except OSError:
                host_entries[source] = -1
        if not binds:
            return Outcome(skip_reason="no bind mount to test")
        image = ctx.target.image if ctx.target.image and ctx.image(ctx.target.image).present else None
        f = FindingFactory(self.id)
        for result in ctx.mount_probe(tuple(binds), image):
            evidence = f"--mount type=bind,source={result.source},target={result.target}"
            if not result.ok:
                catalog = "bind-source-missing" if "bind source path does not exist" in (result.error or "") else None
                f.error(
                    "rejected",
                    f"the daemon rejects {result.source} -> {result.target}: {result.error}",
                    evidence=evidence,
                    catalog_id=catalog,
                    remedy=_rejected_remedy(result.source, result.target),
                )
            elif not result.entries and host_entries.get(result.source, 0) > 0:
                f.error(
                    "empty",
                    f"the daemon sees {result.target} empty, but {result.source} has "
                    f"{host_entries[result.source]} entries on the host",
                    evidence=evidence,
                    remedy="Docker Desktop: enable file sharing for this drive/folder (Settings > Resources > "
                    "File sharing) or reset it, as the guide says",
                )
            else:
                shown = ", ".join(result.entries[:6]) + (" ..." if len(result.entries) > 6 else "")
                f.info(
                    "seen", f"{result.target}: {len(result.entries)} entries ({shown or 'empty'})", evidence=evidence
                )
        bad = [x for x in f.findings if x.severity.value != "info"]
        how = (
            ""
            if image
            else f" (in containers of the empty image {PROBE_IMAGE}, labelled {PROBE_LABEL}, created, never "
            "started, removed with the image unless TRITON_DOCTOR_KEEP_PROBE_IMAGE=1)"
        )
        return f.outcome(
            f"{len(binds)} mount(s) tested through the daemon" + (f", {len(bad)} failed" if bad else "") + how
        )


def _rejected_remedy(source: str, target: str) -> str:
    """The folder the source most likely meant when it exists here, else how to make the daemon see it."""
    near = closest_dir(Path(source)) if not Path(source).exists() else None
    if near is not None:
        return f"did you mean {near}? write --mount type=bind,source={near},target={target}"
    return (
        "create the directory, or use a path the daemon can see (Docker Desktop: a Windows path or "
        "/mnt/<drive>/..., with file sharing enabled for it)"
    )
