"""``model-repository``: the repository directory exists, holds models, and has the models asked for."""

from __future__ import annotations

import difflib
from dataclasses import replace

from triton_doctor.check import Check, FindingFactory
from triton_doctor.core.closest import closest_dir
from triton_doctor.deploy.target import unreadable_here
from triton_doctor.facts.context import Context
from triton_doctor.permodel import BRIEF_ABOVE
from triton_doctor.results import Category, Location, Outcome


class ModelRepository(Check):
    """The model repository directory and the models in it."""

    id = "model-repository"
    title = "Model repository"
    category = Category.REPO
    explanation = (
        "Triton loads models from a repository: one directory per model, each with config.pbtxt and a "
        "numbered version directory (model_repository/<model>/config.pbtxt, model_repository/<model>/1/"
        "model.json). The host directory is bind-mounted into the container at --model-repository (/models)."
    )
    sub_ids = {
        "missing": "the repository directory does not exist",
        "windows-elsewhere": "a Windows path that cannot be read from this system",
        "not-dir": "the repository path is a file",
        "unreadable": "the repository cannot be listed",
        "points-at-model": "the path is a model directory, not the repository above it",
        "empty": "the repository holds no model directory",
        "model-missing": "a model asked for (--model, --load-model) has no directory",
    }

    def run(self, ctx: Context) -> Outcome:
        repo = ctx.repo()
        f = FindingFactory(self.id)
        loc = Location(path=repo.display)
        mount = next(
            (
                m
                for m in ctx.target.mounts
                if m.target.rstrip("/") == ctx.target.repo_target.rstrip("/") and m.origin != "default"
            ),
            None,
        )
        mounted = mount is not None
        # -v creates a missing source (empty): the container starts and Triton finds no model, no mount error.
        created_by_v = mount is not None and mount.raw.startswith("-v")
        if not repo.exists and unreadable_here(repo.display):
            f.warning(
                "windows-elsewhere",
                f"model repository {repo.display!r} is a Windows path; it cannot be read from this system",
                location=loc,
                remedy="run triton-doctor on the Windows host (PowerShell) or inside WSL, or from the project folder "
                "that holds model_repository/, or pass its copy here: --repo PATH",
            )
            return f.outcome(f"{repo.display} cannot be read here")
        if not repo.exists and ctx.target.server_url and ctx.target.repo == "model_repository":
            # --server without --repo: the repository lives on the server's machine; nothing here to judge.
            return Outcome(
                skip_reason="--server: the repository is on the server's machine (--repo PATH checks a copy)"
            )
        if not repo.exists:
            windows = "\\" in repo.display and "/" not in repo.display
            model = ctx.target.models[0] if ctx.target.models else "<model>"
            make = f'mkdir "{repo.display}\\{model}\\1"' if windows else f"mkdir -p {repo.display}/{model}/1"
            near = None if windows else closest_dir(repo.path)
            f.error(
                "missing",
                f"model repository {repo.display!r} does not exist"
                + (": docker run -v creates it empty, and Triton starts with no model" if created_by_v else ""),
                location=loc,
                evidence=f"looked for {repo.path}",
                remedy=(
                    f"did you mean {near}? pass --repo {near}" + (" (and fix the bind mount source)" if mounted else "")
                    if near is not None
                    else f"create it ({make}) or pass the right path: --repo PATH"
                ),
                catalog_id="bind-source-missing" if mounted and not created_by_v else None,
            )
            return f.outcome(f"{repo.display} does not exist")
        if not repo.is_dir:
            f.error(
                "not-dir",
                f"model repository {repo.display!r} is a file, not a directory",
                location=loc,
                remedy="point --repo (or the bind mount source) at the directory that holds the model folders",
            )
            return f.outcome(f"{repo.display} is not a directory")
        if repo.error is not None:
            f.error(
                "unreadable",
                f"cannot list {repo.display!r}: {repo.error}",
                location=loc,
                remedy=f"make it readable: chmod -R a+rX {repo.display}",
            )
            return f.outcome(f"{repo.display}: {repo.error}")
        if "config.pbtxt" in repo.files:
            f.error(
                "points-at-model",
                f"{repo.display!r} contains config.pbtxt: it is a model directory, not the repository",
                location=Location(path=f"{repo.display}/config.pbtxt"),
                remedy="point --repo (and the /models bind mount) at the parent directory that holds the model folders",
            )
        if not repo.model_dirs:
            f.error(
                "empty",
                f"model repository {repo.display!r} holds no model directory",
                location=loc,
                remedy=(
                    f"create {repo.display}/{ctx.target.models[0]}/config.pbtxt and "
                    f"{repo.display}/{ctx.target.models[0]}/1/model.json: triton-doctor init HUB_ID "
                    f"--repo {repo.display} --name {ctx.target.models[0]}"
                    if ctx.target.models
                    else f"lay out a model: triton-doctor init HUB_ID --repo {repo.display} (HUB_ID as on "
                    "huggingface.co, e.g. google/gemma-3-1b-it)"
                ),
            )
            return f.outcome(f"{repo.display} is empty")
        _present, missing = ctx.selected_models()
        for name in missing:
            close = difflib.get_close_matches(name, list(repo.model_dirs), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            f.error(
                "model-missing",
                f"model {name!r} has no directory in {repo.display!r}",
                location=loc,
                model=name,
                evidence=f"models found: {', '.join(repo.model_dirs)}",
                remedy=f"{hint}the directory name is the model name: --load-model={close[0] if close else name} "
                f"needs {repo.display}/{close[0] if close else name}/",
                catalog_id="unknown-or-unready-model",
            )
        present, _ = ctx.selected_models()
        summary = f"{repo.display}: {len(repo.model_dirs)} model(s): {', '.join(repo.model_dirs)}"
        if ctx.target.models:
            summary += f"; checking {', '.join(present) or 'none'}"
        outcome = f.outcome(summary)
        if len(repo.model_dirs) <= BRIEF_ABOVE:
            return outcome
        checking = f"; checking {len(present)}" if ctx.target.models else ""
        return replace(outcome, brief=f"{repo.display}: {len(repo.model_dirs)} model(s){checking} (-v lists them)")
