"""``gpu-capability``: the GPUs' compute capability is supported by the image's vLLM, and fits the dtype."""

from __future__ import annotations

from triton_doctor.check import Check, FindingFactory
from triton_doctor.context import Context
from triton_doctor.gpuplan import visible_gpus
from triton_doctor.knowledge import image_for_tag
from triton_doctor.modelmath import model_shape
from triton_doctor.results import Category, Outcome


class GpuCapability(Check):
    """Compute capability vs image and dtype."""

    id = "gpu-capability"
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
        return f.outcome(f"{names}" + (f" with image {image.tag}" if image else ""))
