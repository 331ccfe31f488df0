"""``repository-contents``: what else lies in the model repository, and what loads together.

Repository-wide: directories that are not models (a Hugging Face snapshot downloaded into the repository,
a folder of notes) when the server loads every model, and model names found in more than one of the
``--model-repository`` directories.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from triton_doctor.check import Check, FindingFactory
from triton_doctor.deploy.target import host_path
from triton_doctor.facts.context import Context
from triton_doctor.results import Category, Location, Outcome

#: Files that mark a directory as a Hugging Face checkpoint rather than a Triton model.
HF_MARKERS = ("config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json", ".gitattributes")
HF_CACHE_DIRS = {"snapshots", "blobs", "refs"}


def loads_every_model(ctx: Context) -> bool:
    """True when the server loads every directory of the repository (control mode none/poll, or ``*``)."""
    docker = ctx.target.docker
    mode = (docker.model_control_mode if docker else None) or "none"
    if mode.lower() != "explicit":
        return True
    return bool(docker and "*" in docker.load_models)


def looks_like_checkpoint(ctx: Context, path: Path) -> bool:
    """A Hugging Face checkpoint or cache folder (config.json, tokenizer, *.safetensors, snapshots/) at ``path``."""
    listing = ctx.listing(path)
    files = set(listing.files)
    return bool(files & set(HF_MARKERS) or any(x.endswith(".safetensors") for x in files)) or bool(
        set(listing.dirs) & HF_CACHE_DIRS
    )


class RepositoryContents(Check):
    """Non-model directories and duplicate model names."""

    id = "repository-contents"
    title = "Repository holds only models"
    category = Category.REPO
    requires = frozenset({"model-repository"})
    explanation = (
        "With --model-control-mode none (the default) or poll, Triton loads every directory of the model "
        "repository as a model, and with the default --exit-on-error=true one that fails stops the server. A "
        "Hugging Face snapshot downloaded into the repository (config.json, *.safetensors, no config.pbtxt) "
        "is such a directory: keep weights outside, mounted at /local_models. Model names must be unique over "
        "all --model-repository directories."
    )
    sub_ids = {
        "not-a-model": "a directory with no config.pbtxt and no version directory that Triton will try to load",
        "stray-file": "files at the top of the repository (Triton ignores them)",
        "duplicate-name": "a model name in more than one model repository",
    }

    def run(self, ctx: Context) -> Outcome:
        repo = ctx.repo()
        if not repo.is_dir:
            return Outcome(skip_reason="no repository directory")
        f = FindingFactory(self.id)
        every = loads_every_model(ctx)
        odd = 0
        for name in repo.model_dirs:
            model = ctx.model(name)
            if model.config_exists or model.versions:
                continue
            listing = ctx.listing(model.path)
            files = set(listing.files)
            snapshot = looks_like_checkpoint(ctx, model.path)
            what = "a Hugging Face model snapshot" if snapshot else "not a model"
            odd += 1
            evidence = f"{model.display}: " + (", ".join(sorted(files | set(listing.dirs))[:8]) or "empty")
            move = (
                f"move it out of the repository (e.g. mv {model.display} local_models/{name}) and point "
                f'model.json at it: "model": "/local_models/{name}" with -v $PWD/local_models:/local_models'
                if snapshot
                else f"move {model.display} out of the repository"
            )
            if every:
                f.error(
                    "not-a-model",
                    f"{name!r} is {what} (no config.pbtxt, no version directory), and the server loads every "
                    "directory of the repository: its load fails and the server exits",
                    location=Location(path=model.display),
                    model=name,
                    evidence=evidence,
                    catalog_id="server-exits-on-any-load-failure",
                    remedy=move + "; or load only the real models: --model-control-mode=explicit --load-model=<name>",
                )
            else:
                f.info(
                    "not-a-model",
                    f"{name!r} is {what}; explicit model control does not load it",
                    location=Location(path=model.display),
                    model=name,
                    evidence=evidence,
                )
        if repo.files:
            f.info(
                "stray-file",
                f"{len(repo.files)} file(s) at the top of the repository; Triton ignores files there",
                location=Location(path=repo.display),
                evidence=", ".join(repo.files[:8]),
            )
        self._duplicates(ctx, f, set(repo.model_dirs))
        problems = [x for x in f.findings if x.severity.value != "info"]
        summary = f"{len(repo.model_dirs) - odd} model(s)" + (f", {odd} other directorie(s)" if odd else "")
        return f.outcome(summary + (f"; {len(problems)} problem(s)" if problems else ""))

    def _duplicates(self, ctx: Context, f: FindingFactory, names: set[str]) -> None:
        docker = ctx.target.docker
        repos = list(dict.fromkeys(docker.model_repositories)) if docker else []
        seen: dict[str, str] = dict.fromkeys(names, ctx.target.repo_target)
        for container in repos:
            if container.rstrip("/") == ctx.target.repo_target.rstrip("/"):
                continue
            mount = ctx.target.mount_for(container)
            if mount is None or mount.type != "bind":
                continue
            rel = PurePosixPath(container).relative_to(PurePosixPath(mount.target))
            host = host_path(mount.source).joinpath(*rel.parts)
            for name in sorted(d for d in ctx.listing(host).dirs if not d.startswith(".")):
                if name in seen:
                    f.error(
                        "duplicate-name",
                        f"model {name!r} is in two model repositories: {seen[name]} and {container}; Triton "
                        "needs unique names over all repositories and fails to load it",
                        model=name,
                        location=Location(path=str(PurePosixPath(mount.source, *rel.parts, name))),
                        evidence=f"--model-repository={seen[name]} and --model-repository={container}",
                        catalog_id="server-exits-on-any-load-failure",
                        remedy=f"rename one of the two directories (the directory name is the model name), or drop "
                        f"--model-repository={container}",
                    )
                else:
                    seen[name] = container
