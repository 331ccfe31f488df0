"""``model-config``: each model has a config.pbtxt that parses as Triton's ModelConfig (protobuf text)."""

from __future__ import annotations

import json
import re

from triton_doctor.check import Check, FindingFactory
from triton_doctor.checks.repository_contents import looks_like_checkpoint
from triton_doctor.core.excerpt import excerpt
from triton_doctor.deploy.tokens import known_secrets
from triton_doctor.facts.context import Context
from triton_doctor.facts.repository import ModelFacts
from triton_doctor.fixdata import CreateFile, Fix, text_edit
from triton_doctor.permodel import per_model
from triton_doctor.probes.pbtxt import SyntaxProblem, parse_config
from triton_doctor.repair.init import config_text
from triton_doctor.results import Category, Location, Outcome

MINIMAL = 'backend: "vllm"\ninstance_group [ { count: 1, kind: KIND_MODEL } ]'


def _hint(model: ModelFacts, error: str, line_text: str) -> str:
    stripped = (model.config_text or "").lstrip()
    if stripped.startswith(("{", "[")):
        return f'this is JSON; config.pbtxt is protobuf text format. Write it as:\nname: "{model.name}"\n{MINIMAL}'
    if "Expected string" in error:
        key = line_text.split(":", 1)[0].strip() or "backend"
        value = line_text.split(":", 1)[1].strip() if ":" in line_text else "vllm"
        return f'quote the value: {key}: "{value.strip(chr(34))}"'
    if "has no field named" in error or "has no value named" in error:
        return "fix the field or value name (see the vLLM backend's sample config.pbtxt)"
    return f"fix the syntax at that position; a minimal valid config is:\n{MINIMAL}"


class ModelConfig(Check):
    """config.pbtxt exists and parses."""

    id = "model-config"
    title = "config.pbtxt parses"
    category = Category.REPO
    requires = frozenset({"model-repository"})
    after = frozenset({"model-repository"})
    explanation = (
        "Triton reads <model>/config.pbtxt as protobuf text format (inference.ModelConfig). A syntax error "
        "stops the load with 'failed to read text proto'. The doctor parses it with the same protobuf "
        "definitions Triton uses and reports the line and column."
    )
    sub_ids = {
        "missing": "the model directory has no config.pbtxt",
        "unreadable": "config.pbtxt cannot be read or is not UTF-8",
        "syntax": "config.pbtxt is not valid protobuf text format",
    }

    def run(self, ctx: Context) -> Outcome:
        self._secrets = known_secrets(ctx.target)
        self._ctx = ctx
        return per_model(ctx, self.id, self._evaluate, ok="config.pbtxt parses")

    #: The known secret values, set by each run (quotes are redacted before they are cut).
    _secrets: set[str] = set()
    _ctx: Context | None = None

    def _evaluate(self, model: ModelFacts, f: FindingFactory) -> None:
        if not model.config_exists:
            f.error(
                "missing",
                f"{model.config_display} does not exist",
                model=model.name,
                location=Location(path=model.config_display),
                remedy=f"create {model.config_display} with:\n{MINIMAL}",
                catalog_id="missing-backend-field",
                # A Hugging Face snapshot in the repository is no model to complete (repository-contents
                # says to move it out): a config.pbtxt is created only where a model was meant.
                fix=None
                if not model.versions and self._ctx is not None and looks_like_checkpoint(self._ctx, model.path)
                else Fix(
                    description=f"create {model.config_display} for the vLLM backend",
                    edits=(CreateFile(str(model.path / "config.pbtxt"), config_text(model.name)),),
                ),
            )
            return
        if model.config_read_error is not None or model.parsed is None:
            f.error(
                "unreadable",
                f"cannot read {model.config_display}: {model.config_read_error}",
                model=model.name,
                location=Location(path=model.config_display),
                remedy="save it as UTF-8 text",
            )
            return
        parsed = model.parsed
        if parsed.error is not None:
            lines = (model.config_text or "").splitlines()
            secrets = self._secrets
            problems = parsed.problems or (SyntaxProblem(parsed.error, parsed.line, parsed.column),)
            for problem in problems:
                raw = lines[problem.line - 1] if problem.line and 0 < problem.line <= len(lines) else ""
                line_text = excerpt(raw, problem.column, secrets)
                where = f"{problem.line}:{problem.column}" if problem.line else "?"
                remedy = (
                    f"did you mean {problem.suggestion!r}?"
                    if problem.suggestion
                    else _hint(model, problem.error, line_text)
                )
                f.error(
                    "syntax",
                    f"{model.config_display}:{where}: {excerpt(problem.error, None, secrets)}",
                    model=model.name,
                    location=Location(path=model.config_display, line=problem.line, column=problem.column),
                    evidence=line_text,
                    remedy=remedy,
                    catalog_id="config-pbtxt-syntax",
                    # A repair is offered only when one change makes the whole file parse (one problem).
                    fix=_syntax_fix(model, problem.line) if len(problems) == 1 else None,
                )


_BARE = re.compile(
    r"^(?P<head>\s*(?:name|backend|platform)\s*:\s*)(?P<value>[A-Za-z_][A-Za-z0-9_.-]*)(?P<tail>\s*(?:#.*)?)$"
)


def _syntax_fix(model: ModelFacts, line: int | None) -> Fix | None:
    """A repair of a config.pbtxt that does not parse, offered only when it is certain: the one change makes
    the whole file parse. Which change it is, is said in the description."""
    text = model.config_text
    if text is None:
        return None
    path = str(model.path / "config.pbtxt")
    candidates: list[tuple[str, str]] = []
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            data = None
        if (
            isinstance(data, dict)
            and data
            and all(
                isinstance(k, str) and re.fullmatch(r"[a-z_]+", k) and isinstance(v, (str, int, bool))
                for k, v in data.items()
            )
        ):
            body = "".join(f"{k}: {json.dumps(v) if isinstance(v, str) else str(v).lower()}\n" for k, v in data.items())
            candidates.append((body, "rewrite the JSON object as protobuf text (same keys and values)"))
    lines = text.splitlines(keepends=True)
    if line is not None and 0 < line <= len(lines):
        raw = lines[line - 1]
        end = "\n" if raw.endswith("\n") else ""
        match = _BARE.match(raw.rstrip("\n"))
        if match:
            fixed = f'{match["head"]}"{match["value"]}"{match["tail"]}{end}'
            candidates.append(
                (text.replace(raw, fixed, 1) if lines.count(raw) == 1 else "", f"quote the value on line {line}")
            )
        for double, single in (("{{", "{"), ("}}", "}"), ("[[", "["), ("]]", "]")):
            if double in raw:
                new_lines = list(lines)
                new_lines[line - 1] = raw.replace(double, single, 1)
                candidates.append(("".join(new_lines), f"remove the doubled {single!r} on line {line}"))
    for new, description in candidates:
        if new and parse_config(new).message is not None:
            edit = text_edit(path, text, new)
            if edit is not None:
                return Fix(description=description + " (the only change; the file then parses)", edits=(edit,))
    return None
