"""``version-directory``: each model has a numeric version directory (``1/``) that Triton will load."""

from __future__ import annotations

from triton_doctor.check import Check, FindingFactory
from triton_doctor.checks.repository_contents import looks_like_checkpoint
from triton_doctor.facts.context import Context
from triton_doctor.facts.repository import ModelFacts
from triton_doctor.fixdata import CreateDir, Fix, Move
from triton_doctor.permodel import per_model
from triton_doctor.results import Category, Location, Outcome


class VersionDirectory(Check):
    """A version directory exists."""

    id = "version-directory"
    title = "Version directory"
    category = Category.REPO
    requires = frozenset({"model-repository"})
    after = frozenset({"model-config", "config-instance-group"})
    explanation = (
        "Triton loads <model>/<version>/ where the version is a positive number without a leading zero; "
        "directories named 0, 01 or v1 are ignored and the model shows 'Not loaded: No model version was "
        "found'. With the default version policy only the highest version is loaded."
    )
    sub_ids = {
        "missing": "no version directory Triton accepts",
        "several": "several versions; only the highest is loaded",
    }

    #: The run's context (for the listing of a folder that may be a Hugging Face snapshot, not a model).
    _ctx: Context | None = None

    def run(self, ctx: Context) -> Outcome:
        self._ctx = ctx
        return per_model(ctx, self.id, self._evaluate, ok="version directory present")

    def _evaluate(self, model: ModelFacts, f: FindingFactory) -> None:
        loc = Location(path=model.display)
        if not model.versions:
            if model.ignored_versions:
                bad = model.ignored_versions[0]
                f.error(
                    "missing",
                    f"{model.display} has {', '.join(repr(v) for v in model.ignored_versions)} but no version "
                    "directory Triton accepts (a positive number without leading zeros)",
                    model=model.name,
                    location=loc,
                    evidence=f"directories: {', '.join(model.ignored_versions)}",
                    remedy=f"mv {model.display}/{bad} {model.display}/1",
                    catalog_id="no-version-directory",
                    fix=Fix(
                        description=f"rename {model.display}/{bad}/ to {model.display}/1/",
                        edits=(Move(str(model.path / bad), str(model.path / "1")),),
                    )
                    if len(model.ignored_versions) == 1
                    else None,
                )
            else:
                # A Hugging Face snapshot in the repository is no model to complete (repository-contents says
                # to move it out): no 1/ is created in it.
                snapshot = (
                    not model.config_exists and self._ctx is not None and looks_like_checkpoint(self._ctx, model.path)
                )
                f.error(
                    "missing",
                    f"{model.display} has no version directory",
                    model=model.name,
                    location=loc,
                    remedy=f"mkdir {model.display}/1 and put model.json there",
                    catalog_id="no-version-directory",
                    fix=Fix(
                        description=f"create {model.display}/1/"
                        + (" and move model.json into it" if model.stray_model_json else ""),
                        edits=(CreateDir(str(model.path / "1")),)
                        + (
                            (Move(str(model.path / "model.json"), str(model.path / "1" / "model.json")),)
                            if model.stray_model_json
                            else ()
                        ),
                    )
                    if not snapshot
                    else None,
                )
            return
        if len(model.versions) > 1:
            f.info(
                "several",
                f"versions {', '.join(model.versions)}: Triton loads only {model.versions[-1]} by default",
                model=model.name,
                location=loc,
            )
