"""``gpu-capability``: the GPUs' compute capability is supported by the image's vLLM, and fits the dtype."""

from __future__ import annotations

from triton_doctor.check import Check, FindingFactory
from triton_doctor.facts.context import Context
from triton_doctor.facts.placement import visible_gpus
from triton_doctor.facts.sizing import model_shape
from triton_doctor.knowledge import ImageInfo, image_for_tag
from triton_doctor.knowledge.models import release_for
from triton_doctor.results import Category, Outcome


class GpuCapability(Check):
    """Compute capability vs image and dtype."""

    id = "gpu-capability"
    host_only = "gpu"
    title = "GPU architecture"
    category = Category.GPU
    requires = frozenset({"gpu-nvml"})
    after = frozenset({"gpu-driver"})
    explanation = (
        "vLLM never supported GPUs below compute capability 7.0; the 25.xx images need 7.5 (Turing) or newer, "
        "and Blackwell consumer GPUs (sm_120) need a 25.xx image built on CUDA 12.8+. bfloat16 weights need 8.0 "
        '(Ampere); on older GPUs write "dtype": "half" in model.json.'
    )
    sub_ids = {
        "too-old": "the GPU is older than the image's vLLM supports",
        "too-new": "the GPU is newer than the image was built for",
        "bf16": "bfloat16 on a GPU below compute capability 8.0",
        "quantization": "the checkpoint's quantization method needs a newer GPU in the image's vLLM",
    }

    def run(self, ctx: Context) -> Outcome:
        facts = ctx.gpu()
        gpus = visible_gpus(facts, ctx.target)
        if not gpus:
            return Outcome(skip_reason="the container gets no GPU")
        f = FindingFactory(self.id)
        image = image_for_tag(ctx.target.image or "")
        lowest = min(g.compute_capability for g in gpus)
        names = ", ".join(sorted({f"{g.name} ({g.compute_capability[0]}.{g.compute_capability[1]})" for g in gpus}))
        if image is not None:
            year = int(image.tag.split(".")[0])
            minimum = (7, 5) if year >= 25 else (7, 0)
            if lowest < minimum:
                f.error(
                    "too-old",
                    f"compute capability {lowest[0]}.{lowest[1]} is below {minimum[0]}.{minimum[1]}, "
                    f"the minimum of image {image.tag}",
                    evidence=names,
                    catalog_id="gpu-arch-not-supported",
                    remedy="use a newer GPU"
                    + (" or a 24.xx image (7.0+)" if minimum == (7, 5) and lowest >= (7, 0) else ""),
                )
            if max(g.compute_capability for g in gpus) >= (12, 0) and image.tag < "25.01":
                f.error(
                    "too-new",
                    f"a Blackwell GPU (sm_120) needs a 25.xx image built on CUDA 12.8+; image "
                    f"{image.tag} has CUDA {image.cuda}",
                    evidence=names,
                    catalog_id="gpu-arch-not-supported",
                    remedy="use image 25.01 or newer",
                )
        if lowest < (8, 0):
            present, _ = ctx.selected_models()
            for name in present:
                shape = model_shape(ctx, name)
                if shape is not None and shape.dtype == "bfloat16":
                    f.error(
                        "bf16",
                        f"{name}: bfloat16 needs compute capability 8.0; this GPU has {lowest[0]}.{lowest[1]}",
                        evidence=names,
                        model=name,
                        catalog_id="bf16-on-pre-ampere",
                        remedy='add "dtype": "half" to model.json',
                        location=ctx.model(name).json_location("dtype") or None,
                    )
        self._quantization(ctx, f, image, lowest, names)
        return f.outcome(f"{names}" + (f" with image {image.tag}" if image else ""))

    def _quantization(
        self, ctx: Context, f: FindingFactory, image: ImageInfo | None, lowest: tuple[int, int], names: str
    ) -> None:
        """Each quantization method's ``get_min_capability`` in the image's vLLM vs the GPUs."""
        release = release_for(image)
        have = lowest[0] * 10 + lowest[1]
        for name in ctx.selected_models()[0]:
            args = ctx.engine_args(name) or {}
            source = args.get("model")
            read = ctx.checkpoint(source) if isinstance(source, str) and source.strip() else None
            method = args.get("quantization")
            location = ctx.model(name).json_location("quantization")
            if not isinstance(method, str) and read is not None and read.checkpoint is not None:
                method = read.checkpoint.quant_method
                location = read.checkpoint.location("quantization_config")
            if not isinstance(method, str):
                continue
            need = release.quantization.get(method)
            if need is None or have >= need:
                continue
            f.error(
                "quantization",
                f"{name}: {method} quantization needs compute capability {need // 10}.{need % 10} in vLLM "
                f"{release.version}; this GPU has {lowest[0]}.{lowest[1]}",
                model=name,
                location=location,
                evidence=f"{names}; {method}.get_min_capability() = {need} in vLLM {release.version}",
                catalog_id="gpu-arch-not-supported",
                remedy=f"use a checkpoint without {method} quantization (or one this GPU supports: "
                + ", ".join(sorted(m for m, c in release.quantization.items() if c is not None and c <= have)[:6])
                + "), or a GPU of compute capability "
                f"{need // 10}.{need % 10}+",
            )
