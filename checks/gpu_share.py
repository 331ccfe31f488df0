"""``gpu-share``: where each vLLM model's engines land, and whether the engines on one GPU fit its memory.

Found from the repository and the command (NVML's GPU count, when there is one, tells how many GPUs the
server sees): which models load together, and on which GPUs each instance's vLLM engine lands. Placement is
``triton_doctor.facts.gpu_placement``: Triton's instance groups (no ``instance_group`` is one ``KIND_GPU``
instance per GPU the server sees), then the image release's vLLM backend (what ``src/model.py`` of that
release does with ``KIND_GPU``: nothing on 24.04/24.05, ``torch.cuda.set_device`` that vLLM overrides up to
25.03, ``CUDA_VISIBLE_DEVICES`` from 25.04), then vLLM (the first tensor x pipeline parallel GPUs it sees).
The generated table ``knowledge/backend_placement.json`` holds each release's rule and where it was read.

Every engine takes ``gpu_memory_utilization`` (vLLM's default 0.9 when model.json leaves it out) of the total
memory of each GPU it uses; engines on one GPU (of several models, or several instances of one model) must
sum to at most 1. The models that load together are those of the command's ``--model-control-mode`` and
``--load-model``; with no command every model (Triton's default control mode ``none``), or those named with
``--model``; the shipped samples (``--sample``) follow their guide, which starts one model per server. When
the GPU count is unknown, ``KIND_GPU`` without ``gpus`` (and no ``instance_group``) is counted on GPU 0 only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triton_doctor.check import Check, FindingFactory
from triton_doctor.facts.context import Context
from triton_doctor.facts.gpu_placement import Placement, Rule, View, groups_of, place, rule_for, view_of
from triton_doctor.facts.repository import parallel_sizes
from triton_doctor.knowledge import image_for_tag
from triton_doctor.results import Category, Location, Outcome

#: vLLM's EngineArgs default for gpu_memory_utilization.
DEFAULT_UTILIZATION = 0.9


@dataclass(frozen=True, slots=True)
class Engine:
    """One vLLM engine on one GPU: a model instance's share of that GPU."""

    model: str
    gpu: int
    utilization: float
    location: Location | None
    why: str


def loaded_models(ctx: Context) -> tuple[tuple[str, ...], bool]:
    """``(models that load together, whether the command says so)``: from ``--model-control-mode`` and
    ``--load-model``; with no command every model of the repository (or those of ``--model``)."""
    from triton_doctor.checks.repository_contents import loads_every_model

    repo = ctx.repo()
    docker = ctx.target.docker
    if docker is None:
        if is_sample(ctx):
            return (), False
        return ctx.selected_models()[0], False
    if loads_every_model(ctx):
        return repo.model_dirs, True
    return tuple(m for m in dict.fromkeys(docker.load_models) if m in repo.model_dirs), True


def is_sample(ctx: Context) -> bool:
    """The repository is one of the shipped samples (``--sample``), whose guide starts one model per server
    (``--model-control-mode=explicit --load-model=gemma``, then ``gemma_local``): they never load together."""
    from importlib import resources

    data = Path(str(resources.files("triton_doctor").joinpath("data"))).resolve()
    try:
        return ctx.repo().path.resolve().is_relative_to(data)
    except OSError:
        return False


def _utilization(args: dict[str, Any]) -> float:
    value = args.get("gpu_memory_utilization", DEFAULT_UTILIZATION)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        return DEFAULT_UTILIZATION
    return float(value)


def view(ctx: Context) -> View:
    """The container's GPUs: ``--gpus`` of the command, else NVML's count (unknown when NVML has none)."""
    docker = ctx.target.docker
    facts = ctx.gpu()
    host = len(facts.gpus) if facts.available else None
    return view_of(docker.gpus if docker else None, dict(docker.env) if docker else {}, host)


def rule(ctx: Context) -> Rule:
    """The placement rule of the image's vLLM backend (the newest release's when the image is unknown)."""
    image = image_for_tag(ctx.target.image or (ctx.target.docker.image if ctx.target.docker else "") or "")
    return rule_for(image.tag if image else None)


def model_placement(ctx: Context, name: str, where: View | None = None) -> Placement | None:
    """Triton's and the backend's placement of one vLLM model (None: not a readable vLLM model)."""
    args = ctx.engine_args(name)
    if args is None:
        return None
    parsed = ctx.model(name).parsed
    tp, pp = parallel_sizes(args)
    return place(groups_of(parsed.message if parsed is not None else None), tp, pp, where or view(ctx), rule(ctx))


def placement(ctx: Context, name: str, where: View | None = None) -> list[Engine]:
    """The engines one vLLM model starts and the GPU each one uses (see the module's docstring)."""
    args = ctx.engine_args(name)
    found = model_placement(ctx, name, where)
    if args is None or found is None:
        return []
    model = ctx.model(name)
    util = _utilization(args)
    loc = model.json_location("gpu_memory_utilization") or model.json_location()
    return [
        Engine(name, gpu, util, loc, instance.why)
        for instance in found.instances
        if instance.problem in (None, "escapes")
        for gpu in instance.gpus
    ]


class GpuShare(Check):
    """gpu_memory_utilization of the engines on one GPU, and placement the server refuses."""

    id = "gpu-share"
    host_only = "gpu"
    title = "GPU placement and memory shared by the engines"
    category = Category.GPU
    requires = frozenset({"model-repository"})
    explanation = (
        "Each vLLM engine takes gpu_memory_utilization x the TOTAL memory of each GPU it uses (0.9 when "
        "model.json leaves it out). Engines that land on the same GPU (models loaded together, or several "
        "instances of one model) must together stay at or below 1; otherwise the engine loaded second finds "
        "the memory taken and its load fails. Placement follows Triton (no instance_group: one KIND_GPU "
        "instance per GPU the server sees) and the image's vLLM backend release (see docs/gpu-placement.md)."
    )
    sub_ids = {
        "oversubscribed": "engines on the same GPU ask for more than 100 % of its memory",
        "invalid-gpus": "instance_group names a GPU the server does not see (Triton refuses the model)",
        "pinned-too-few": "KIND_GPU pins each engine to one GPU, but the model is split over several",
        "outside-visible-devices": "the backend's CUDA_VISIBLE_DEVICES replaces the container's subset",
    }

    def run(self, ctx: Context) -> Outcome:
        if not ctx.repo().is_dir:
            return Outcome(skip_reason="no repository directory")
        names, stated = loaded_models(ctx)
        if not names and is_sample(ctx):
            return Outcome(summary="the sample's guide starts one model per server: nothing shared")
        f = FindingFactory(self.id)
        where = view(ctx)
        per_gpu: dict[int, list[Engine]] = {}
        vllm = 0
        for name in names:
            self._placement_problems(ctx, name, where, f)
            engines = placement(ctx, name, where)
            vllm += bool(engines)
            for engine in engines:
                per_gpu.setdefault(engine.gpu, []).append(engine)
        worst = 0.0
        for gpu, engines in sorted(per_gpu.items()):
            total = sum(e.utilization for e in engines)
            worst = max(worst, total)
            if total > 1.0 + 1e-9 and len(engines) > 1:
                self._oversubscribed(f, gpu, engines, total, stated)
        seen = "an unknown number of" if where.server is None else str(len(where.server))
        if f.findings:
            return f.outcome(f"{vllm} vLLM model(s) on {seen} GPU(s); at most {worst:.2f} of any GPU")
        return f.outcome(f"{vllm} vLLM model(s) load together on {seen} GPU(s); at most {worst:.2f} of any GPU")

    def _placement_problems(self, ctx: Context, name: str, where: View, f: FindingFactory) -> None:
        found = model_placement(ctx, name, where)
        if found is None:
            return
        model = ctx.model(name)
        loc = model.config_location("instance_group")
        seen = f"the server sees {len(where.server)} GPU(s)" if where.server is not None else ""
        if found.refused:
            f.error(
                "invalid-gpus",
                f"Triton refuses the model: {found.refused}",
                model=name,
                location=loc,
                evidence=seen,
                remedy="list only GPUs the server sees in gpus: [...] (or give the container those GPUs)",
            )
            return
        for problem, instance in {i.problem: i for i in found.instances if i.problem in ("too-few", "escapes")}.items():
            if problem == "too-few" and instance.group.kind == "KIND_GPU" and instance.failure:
                f.error(
                    "pinned-too-few",
                    instance.failure,
                    model=name,
                    location=loc,
                    evidence=seen,
                    remedy="write instance_group [ { count: 1, kind: KIND_MODEL } ]",
                )
            elif problem == "escapes" and instance.failure:
                f.warning(
                    "outside-visible-devices",
                    instance.failure,
                    model=name,
                    location=loc,
                    evidence=f"CUDA_VISIBLE_DEVICES={','.join(map(str, where.cuda_visible or ()))}; {seen}",
                    remedy="give the container only its GPUs with --gpus '\"device=1,2\"' instead of "
                    "CUDA_VISIBLE_DEVICES, or use KIND_MODEL",
                )

    def _oversubscribed(self, f: FindingFactory, gpu: int, engines: list[Engine], total: float, stated: bool) -> None:
        models = list(dict.fromkeys(e.model for e in engines))
        one = len(models) == 1
        together = (
            f"starts {len(engines)} engines"
            if one
            else "load together (the command's model control mode and --load-model)"
            if stated
            else "load together when the server loads every model (no command given: Triton's default "
            "--model-control-mode=none)"
        )
        lines = [f"{e.model}: {e.utilization} ({e.location if e.location else 'model.json'}; {e.why})" for e in engines]
        share = 0.9 / len(engines)
        subject = models[0] if one else f"{len(models)} vLLM models"
        message = (
            f"{subject} {together} on GPU {gpu} and ask for gpu_memory_utilization summing to "
            f"{total:.2f} (> 1): the engine loaded second finds the memory taken and fails"
        )
        if one:
            remedy = (
                "write instance_group [ { count: 1, kind: KIND_MODEL } ] (one engine; vLLM serves concurrent "
                f'requests itself), or "gpu_memory_utilization": {share:.2f} in model.json'
            )
        else:
            remedy = (
                f'write "gpu_memory_utilization": {share:.2f} in each model.json (the sum must stay at or below '
                f"0.9), or run one model per server: --model-control-mode=explicit --load-model={models[0]}"
            )
        second = engines[1]
        (f.error if stated or one else f.warning)(
            "oversubscribed",
            message,
            location=second.location,
            model=second.model,
            evidence="; ".join(lines),
            catalog_id="free-memory-below-utilization",
            remedy=remedy,
        )
