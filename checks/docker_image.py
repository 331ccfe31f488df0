"""``docker-image``: the target image is a vLLM image, present locally or with room to pull it."""

from __future__ import annotations

from pathlib import Path

from triton_doctor.check import Check, FindingFactory
from triton_doctor.core.units import human_bytes
from triton_doctor.facts.context import Context
from triton_doctor.knowledge import image_for_tag
from triton_doctor.probes import host_probe
from triton_doctor.results import Category, Outcome

GB = 1000**3


class DockerImage(Check):
    """The image and the space it needs."""

    id = "docker-image"
    title = "Triton image"
    category = Category.DOCKER
    describes_new_container = True
    requires = frozenset({"docker-daemon"})
    after = frozenset({"docker-version"})
    explanation = (
        "The vLLM backend ships only in the <yy.mm>-vllm-python-py3 images (8-23 GB). A plain -py3 image has no "
        "vllm backend ('unable to find backend library for backend vllm'). Pulling needs about twice the image "
        "size free in Docker's data root, or the pull dies with 'no space left on device'."
    )
    sub_ids = {
        "not-vllm": "a tritonserver image without the vLLM backend",
        "present": "the image is present locally",
        "pull": "the image will be pulled",
        "no-space": "not enough free space in Docker's data root to pull it",
    }

    def run(self, ctx: Context) -> Outcome:
        ref = ctx.target.image
        if not ref:
            return Outcome(skip_reason="no image given (--image or --docker-command)")
        f = FindingFactory(self.id)
        row = image_for_tag(ref)
        if "tritonserver" in ref and "vllm" not in ref.rsplit(":", 1)[-1]:
            tag = ref.rsplit(":", 1)[-1]
            f.error(
                "not-vllm",
                f"{ref} has no vLLM backend: the vLLM images are tagged <yy.mm>-vllm-python-py3",
                evidence=f"tag {tag!r}",
                catalog_id="wrong-image-no-vllm-backend",
                remedy=f"use nvcr.io/nvidia/tritonserver:{tag.split('-')[0]}-vllm-python-py3",
            )
        image = ctx.image(ref)
        if image.present:
            f.info(
                "present",
                f"{ref} is present: {human_bytes(image.size or 0)}, id {str(image.id)[7:19]}",
                evidence=", ".join(image.digests[:1] or image.tags[:1]),
            )
            return f.outcome(f"{ref} present ({human_bytes(image.size or 0)})")
        expected = int(row.size_gb * GB) if row and row.size_gb else None
        size_text = f"about {row.size_gb:g} GB" if row and row.size_gb else "size unknown"
        f.info(
            "pull", f"{ref} is not present locally: docker run will pull it ({size_text})", evidence=image.error or ""
        )
        docker = ctx.docker()
        root = docker.data_root
        if expected and root and not docker.desktop and Path(root).exists():
            free = host_probe.disk(root)
            if free.free is not None and free.free < 2 * expected:
                f.error(
                    "no-space",
                    f"{human_bytes(free.free)} free in Docker's data root {root}; pulling {ref} "
                    f"needs about {human_bytes(2 * expected)} (twice its {row.size_gb if row else '?'} GB)",
                    evidence=f"free {free.free} bytes on {free.path}",
                    catalog_id="image-pull-no-space",
                    remedy="free space (docker system prune -a), move Docker's data-root to a larger disk, or "
                    "use a newer tag (25.04+ images are 8-10 GB)",
                )
        return f.outcome(f"{ref} not present; will be pulled ({size_text})")
