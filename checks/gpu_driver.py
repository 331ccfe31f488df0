"""``gpu-driver``: the driver runs the image's CUDA (natively or by minor-version compatibility)."""

from __future__ import annotations

from triton_doctor.check import Check, FindingFactory
from triton_doctor.core.units import parse_version
from triton_doctor.facts.context import Context
from triton_doctor.facts.placement import driver_verdict, minor_compat_floor, newest_tags
from triton_doctor.knowledge import image_for_tag
from triton_doctor.results import Category, Outcome


class GpuDriver(Check):
    """Driver vs the image's CUDA."""

    id = "gpu-driver"
    host_only = "gpu"
    title = "Driver vs image CUDA"
    category = Category.GPU
    after = frozenset({"gpu-nvml"})
    requires = frozenset({"gpu-nvml"})
    explanation = (
        "Each <yy.mm>-vllm-python-py3 image is built on one CUDA (12.4 for 24.04 ... 13.x from 25.08). A driver "
        "whose CUDA version is at least the image's runs it natively. An older driver of the same CUDA major "
        "(>= 525 for CUDA 12, >= 580 for CUDA 13) runs it in minor-version compatibility mode, where PTX JIT can "
        "fail. Anything older fails with 'unsatisfied condition: cuda>=X' or cuInit 803/804. The doctor names "
        "the newest tag this driver can run."
    )
    sub_ids = {
        "too-old": "the driver cannot run the image's CUDA",
        "minor-compat": "the image runs in CUDA minor-version compatibility mode",
        "newest": "the newest tags this driver runs",
    }

    def run(self, ctx: Context) -> Outcome:
        facts = ctx.gpu()
        f = FindingFactory(self.id)
        native, usable = newest_tags(facts)
        f.info(
            "newest",
            f"driver {facts.driver_version} (CUDA {facts.cuda_version}): newest tag it runs natively "
            f"{native or 'none'}, with minor-version compatibility {usable or 'none'}",
        )
        image = image_for_tag(ctx.target.image or "")
        if image is None:
            return f.outcome(
                f"driver {facts.driver_version} (CUDA {facts.cuda_version}); newest native tag "
                f"{native or 'none'} (no image given)"
            )
        verdict = driver_verdict(facts, image)
        evidence = (
            f"driver {facts.driver_version} supports CUDA {facts.cuda_version}; image {image.tag} is built on "
            f"CUDA {image.cuda}"
            + (f" with driver {image.driver}" if image.driver else " (the support matrix names no driver for it)")
        )
        if verdict == "too-old":
            need = parse_version(image.cuda)[0]
            floor = minor_compat_floor(need)
            f.error(
                "too-old",
                f"driver {facts.driver_version} (CUDA {facts.cuda_version}) cannot run image "
                f"{image.tag} (CUDA {image.cuda})",
                evidence=evidence,
                catalog_id="driver-too-old-requirement",
                remedy=f"upgrade the driver to {image.driver or f'{floor}+'} or newer"
                + (f", or use image {usable} (the newest this driver runs)" if usable else ""),
            )
        elif verdict == "minor-compat":
            f.warning(
                "minor-compat",
                f"image {image.tag} (CUDA {image.cuda}) runs on driver {facts.driver_version} "
                f"(CUDA {facts.cuda_version}) only in minor-version compatibility mode; JIT-compiled kernels "
                "can fail",
                evidence=evidence,
                catalog_id="ptx-unsupported-toolchain",
                remedy=f"upgrade the driver to {image.driver or 'the image build driver'} or newer, or use "
                f"image {native} (the newest this driver runs natively)"
                if native
                else f"upgrade the driver to {image.driver or 'the image build driver'} or newer",
            )
        return f.outcome(
            f"image {image.tag} (CUDA {image.cuda}) on driver {facts.driver_version} "
            f"(CUDA {facts.cuda_version}): {verdict}"
        )
