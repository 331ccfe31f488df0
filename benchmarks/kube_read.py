"""Read a 200-document Kubernetes manifest stream (``check --manifest -`` on a big ``helm template``).

The stream repeats the public manifests kept as fixtures (KServe runtimes and InferenceServices, LWS, KubeRay,
NIM) and the Deployment + Service of ``command --format k8s`` until it holds 200 documents, then reads it
with line marks and finds every serving container, as ``check --manifest`` does. The bar is < 1 s.

Run: ``python benchmarks/kube_read.py [--docs N] [--repeat R]`` (prints the best of R runs; exit 1 over 1 s).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = ROOT / "tests" / "data" / "k8s" / "manifests"
SOURCES = (
    "kserve__kserve/config/runtimes/kserve-tritonserver.yaml",
    "kserve__kserve/config/runtimes/kserve-vllmserver.yaml",
    "kserve__kserve/config/runtimes/kserve-huggingfaceserver-multinode.yaml",
    "kserve__kserve/docs/samples/v1beta1/triton/torchscript/torchscript.yaml",
    "kubernetes-sigs__lws/docs/examples/vllm/GPU/lws.yaml",
    "ray-project__kuberay/ray-operator/config/samples/vllm/ray-service.vllm.yaml",
    "NVIDIA__k8s-nim-operator/config/samples/nim/serving/standalone/basic/llm.yaml",
)


def stream(docs: int) -> str:
    """``docs`` YAML documents made of the fixtures and the k8s command's output."""
    from triton_doctor.deploy.kube.render import render_k8s
    from triton_doctor.deploy.render import build_spec
    from triton_doctor.deploy.target import Target

    parts = [(MANIFESTS / name).read_text() for name in SOURCES]
    parts.append(render_k8s(build_spec(Target(repo="model_repository"), ["gemma"]), parallel=2))
    pieces: list[str] = []
    count = 0
    while count < docs:
        for part in parts:
            for doc in part.split("\n---\n"):
                if count < docs and doc.strip():
                    pieces.append(doc)
                    count += 1
    return "\n---\n".join(pieces) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from triton_doctor.deploy.kube.yamlread import read_manifests

    text = stream(args.docs)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stream.yaml"
        path.write_text(text)
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            kube = read_manifests([str(path)])
            best = min(best, time.perf_counter() - start)
    lines = text.count("\n")
    print(
        f"{len(kube.docs)} documents, {lines} lines, {len(text) // 1024} KiB: {len(kube.containers)} serving "
        f"containers in {best * 1000:.0f} ms (best of {args.repeat}; bar 1000 ms)"
    )
    return 0 if best < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
