"""The ``docker run`` that ``triton-doctor command`` prints: the live stage's container plus the defaults a
person running it by hand needs, each one said.

- the image: from ``--image`` or the user's command, else the newest tag this host's driver runs natively
  (NVML), else the built-in default, with a note saying which of the three it was;
- ``--name triton_vllm_server`` (the guide's name, so ``docker logs triton_vllm_server`` works);
- a named volume for the Hugging Face cache when a model is a Hub id, so that a ``--rm`` container does not
  download the weights again on every start (the guide's ``triton_hf_cache``);
- a warning when the repository has no model: the command would load nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from triton_doctor.deploy.render import DEFAULT_IMAGE, ContainerSpec, SpecMount, build_spec
from triton_doctor.deploy.target import Target
from triton_doctor.deploy.tokens import HF_HOME_TARGET
from triton_doctor.facts.placement import newest_tags

__all__ = ["DEFAULT_NAME", "HF_CACHE_VOLUME", "PrintedCommand", "printed_command"]

DEFAULT_NAME = "triton_vllm_server"
HF_CACHE_VOLUME = "triton_hf_cache"
_IMAGE = "nvcr.io/nvidia/tritonserver:{tag}-vllm-python-py3"


@dataclass(slots=True)
class PrintedCommand:
    """The spec to render, what the doctor chose for the user (notes) and what is wrong (warnings)."""

    spec: ContainerSpec
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _image(target: Target, ctx_gpu: object) -> tuple[str, str]:
    run = target.docker
    if run is not None and run.image and target.image in (None, run.image):
        return run.image, f"image {run.image}: from your command"
    if target.image:
        return target.image, f"image {target.image}: from --image"
    from triton_doctor.probes.nvml_probe import GpuFacts

    facts = ctx_gpu if isinstance(ctx_gpu, GpuFacts) else None
    if facts is not None and facts.available and facts.driver_version:
        native, _usable = newest_tags(facts)
        if native is not None:
            image = _IMAGE.format(tag=native)
            return image, (
                f"image {image}: the newest this host's driver {facts.driver_version} (CUDA {facts.cuda_version}) "
                "runs natively; pass --image to pick another"
            )
    return DEFAULT_IMAGE, (
        f"image {DEFAULT_IMAGE}: the default (no image in your command, and no NVIDIA driver here to choose one "
        "for); pass --image with the tag you pulled"
    )


def printed_command(target: Target) -> PrintedCommand:
    """The command for ``target`` with the defaults above."""
    from triton_doctor.facts.context import Context

    ctx = Context(target)
    try:
        repo = ctx.repo()
        present = list(ctx.selected_models()[0]) if repo.is_dir else []
        models = list(target.models or present)
        parallel = max(ctx.tensor_parallel().values(), default=1) if present else 1
        hub = bool(ctx.hub_models()) if present else False
        image, image_note = _image(
            target, ctx.gpu() if not (target.image or (target.docker and target.docker.image)) else None
        )
    finally:
        ctx.close()
    spec = build_spec(target, models, parallel=parallel)
    spec.image = image
    out = PrintedCommand(spec=spec, notes=[image_note])
    if spec.name is None:
        spec.name = DEFAULT_NAME
        out.notes.append(f"--name {DEFAULT_NAME}: docker logs {DEFAULT_NAME} shows its log")
    has_cache = any(m.target.rstrip("/") == HF_HOME_TARGET for m in spec.mounts) or "HF_HOME" in spec.env_values
    if hub and not has_cache:
        spec.mounts.append(SpecMount("volume", HF_CACHE_VOLUME, HF_HOME_TARGET))
        out.notes.append(
            f"--mount type=volume,source={HF_CACHE_VOLUME},...: the Hub model's weights are downloaded once and "
            "kept across --rm restarts"
        )
    if not models:
        where = repo.display
        out.warnings.append(
            f"no model in {where}: this command would load nothing; lay one out first: "
            f"triton-doctor init google/gemma-3-1b-it --repo {where}"
            if repo.is_dir or not repo.exists
            else f"{where} is not a model repository"
        )
    return out
