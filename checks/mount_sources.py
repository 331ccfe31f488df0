"""``mount-sources``: every bind source exists on the host, is a readable directory; the HF cache is writable."""

from __future__ import annotations

import os
import re
from pathlib import Path

from triton_doctor.check import Check, FindingFactory
from triton_doctor.core.closest import closest_dir
from triton_doctor.deploy.mountpaths import resolve_source
from triton_doctor.deploy.target import MountSpec
from triton_doctor.deploy.tokens import HF_HOME_TARGET
from triton_doctor.facts.context import Context
from triton_doctor.results import Category, Location, Outcome

#: A guide's placeholder left in a path, e.g. ``<ваше_имя_пользователя>`` or ``<your_user>``.
PLACEHOLDER = re.compile(r"<[^<>\\/]+>")


class MountSources(Check):
    """Bind-mount sources on the host."""

    id = "mount-sources"
    title = "Bind-mount sources"
    category = Category.MOUNTS
    describes_new_container = True
    explanation = (
        'docker run refuses a bind mount whose source does not exist (\'invalid mount config for type "bind": '
        "bind source path does not exist'). --mount needs an absolute path (a relative one is an error, ~ is not "
        "expanded after source=); a Windows path (C:\\...) is resolved by Docker Desktop, and inside WSL it is "
        "/mnt/c/.... The HF cache mount must be writable: the container downloads into it."
    )
    sub_ids = {
        "missing": "the source does not exist (--mount: docker run fails)",
        "will-create": "-v with a missing source: Docker creates an empty directory",
        "placeholder": "the path still holds a <placeholder> of the guide",
        "not-dir": "the source is a file where a directory is mounted",
        "unreadable": "the source cannot be read",
        "cache-unwritable": "the HF cache mount is read-only or not writable",
        "relative": "a relative source path",
        "tilde": "~ that the shell will not expand",
        "variable": "a variable that is not set here",
        "windows-elsewhere": "a Windows path that cannot be checked from this system",
        "volume": "a named volume (created by Docker on first use)",
    }

    def run(self, ctx: Context) -> Outcome:
        mounts = [m for m in ctx.target.mounts if m.origin != "default"]
        if not mounts:
            return Outcome(skip_reason="no mounts given (--mount, --docker-command)")
        dialect = ctx.target.docker.dialect if ctx.target.docker else None
        cwd = Path.cwd()
        f = FindingFactory(self.id)
        for mount in mounts:
            loc = Location(path=mount.origin) if mount.origin and Path(mount.origin).is_file() else None
            evidence = mount.raw or f"{mount.source}:{mount.target}"
            src = f'"{mount.source}"'
            if mount.type != "bind":
                f.info(
                    "volume", f"{mount.target} is the {mount.type} {mount.source or '(anonymous)'!r}", evidence=evidence
                )
                continue
            placeholder = PLACEHOLDER.search(mount.source)
            if placeholder:
                f.error(
                    "placeholder",
                    f"{src} still holds the placeholder {placeholder.group()}: the guide's text to replace, "
                    "not a folder",
                    evidence=evidence,
                    location=loc,
                    catalog_id="bind-source-missing",
                    remedy=f"replace {placeholder.group()} with the real folder name (e.g. your user name) "
                    "in the command",
                )
                continue
            resolved = resolve_source(mount, dialect, cwd)
            if resolved.problem == "windows-elsewhere":
                f.warning(
                    "windows-elsewhere",
                    f"{src} is a Windows path; it cannot be checked from this system",
                    evidence=evidence,
                    location=loc,
                    remedy="run triton-doctor on the Windows host (PowerShell) or inside WSL, where C:\\ is /mnt/c",
                )
                continue
            if resolved.problem == "variable":
                f.warning(
                    "variable",
                    f"{src} uses a variable that is not set in this shell",
                    evidence=evidence,
                    location=loc,
                    remedy="write the absolute path, or set the variable",
                )
                continue
            if resolved.problem == "tilde":
                f.error(
                    "tilde",
                    f"{src}: ~ is not expanded inside --mount source=",
                    evidence=evidence,
                    location=loc,
                    catalog_id="bind-source-missing",
                    remedy=f"write the absolute path: source={os.path.expanduser(mount.source)}",
                )
                continue
            if resolved.problem == "relative":
                f.error(
                    "relative",
                    f"{src} is relative: --mount needs an absolute path (and -v takes a bare name for a named volume)",
                    evidence=evidence,
                    location=loc,
                    catalog_id="bind-source-missing",
                    remedy=f"write source={resolved.path}",
                )
            path = resolved.path
            if path is None:
                continue
            if not path.exists() and mount.raw.startswith("-v"):
                # -v (unlike --mount) creates a missing host directory: the container starts with it empty.
                f.warning(
                    "will-create",
                    f"bind source {src} does not exist: Docker will create an empty directory and mount it at "
                    f"{mount.target}",
                    evidence=evidence,
                    location=loc,
                    remedy=_missing_remedy(mount, path, ctx.target.repo_target, will_create=True),
                )
                continue
            if not path.exists():
                f.error(
                    "missing",
                    f"bind source {src} does not exist (mounted at {mount.target}); docker "
                    "run fails with 'bind source path does not exist'",
                    evidence=evidence,
                    location=loc,
                    catalog_id="bind-source-missing",
                    remedy=_missing_remedy(mount, path, ctx.target.repo_target, will_create=False),
                )
                continue
            if not path.is_dir():
                f.error(
                    "not-dir",
                    f"bind source {src} is a file, but {mount.target} must be a directory",
                    evidence=evidence,
                    location=loc,
                    remedy="mount the directory that contains it",
                )
                continue
            if not os.access(path, os.R_OK | os.X_OK):
                f.error(
                    "unreadable",
                    f"bind source {src} is not readable",
                    evidence=evidence,
                    location=loc,
                    remedy=f"chmod -R a+rX {path}",
                )
                continue
            if mount.target.rstrip("/") == HF_HOME_TARGET and (mount.readonly or not os.access(path, os.W_OK)):
                f.error(
                    "cache-unwritable",
                    f"the HF cache {src} is " + ("mounted read-only" if mount.readonly else "not writable"),
                    evidence=evidence,
                    location=loc,
                    catalog_id="hf-cache-unwritable",
                    remedy="mount a writable directory at /root/.cache/huggingface (drop readonly; chmod u+w)",
                )
        binds = sum(1 for m in mounts if m.type == "bind")
        problems = [x for x in f.findings if x.severity.value != "info"]
        return f.outcome(f"{binds} bind mount(s)" + (f": {len(problems)} problem(s)" if problems else ": OK"))


def _missing_remedy(mount: MountSpec, path: Path, repo_target: str, *, will_create: bool) -> str:
    """The remedy for a bind source that does not exist: the existing folder it most likely meant, else mkdir."""
    near = closest_dir(path)
    if near is not None:
        spelled = f"-v {near}:{mount.target}" if mount.raw.startswith("-v") else f"source={near}"
        return f"did you mean {near}? write {spelled}"
    repo_note = " (the model repository: the folder that holds each model's config.pbtxt)"
    what = repo_note if mount.target == repo_target else ""
    if will_create:
        return f"fix the path, or fill {path} before starting the container{what}"
    return f"create it (mkdir -p {path}) or fix the path{what}"
