#!/usr/bin/env bash
# Run the GPU checks for real on a machine with NVIDIA GPUs and record everything under OUT.
#   OUT=/some/dir bash scripts/gpu_run.sh [image tags...]
# Writes six files (the device tool brings back at most eight): nvml.json (recorded NVML facts, replayed by
# tests), nvidia-smi.txt, cases.txt and cases.json (every repository of scripts/make_gpu_repos.py, text and
# JSON reports), drivers.txt (the driver checks for each image tag), timings.txt.
set -uo pipefail
OUT=${OUT:?set OUT}
TAGS=${*:-25.06 25.08 25.12 26.07}
PY=${PY:-python3}
work=$(mktemp -d)
export NO_COLOR=1
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
nvidia-smi --query-gpu=index,name,memory.total,memory.used,compute_cap,driver_version --format=csv \
  >> "$OUT/nvidia-smi.txt" 2>&1
$PY - > "$OUT/nvml.json" <<'PYEOF'
import json
from triton_doctor.probes.nvml_probe import read_nvml
print(json.dumps(read_nvml().to_json(), indent=1))
PYEOF
$PY scripts/make_gpu_repos.py "$work" > /dev/null
: > "$OUT/timings.txt"
: > "$OUT/cases.txt"
mkdir -p "$work/json"
for repo in "$work"/tp*/model_repository; do
  case=$(basename "$(dirname "$repo")")
  start=$(date +%s.%N)
  $PY -m triton_doctor check --only gpu,config-instance-group --repo "$repo" \
    --mount "$work/local_models:/local_models" --image "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3" \
    --format json --output "$work/json/$case.json" -v 2> "$work/$case.txt"
  code=$?
  end=$(date +%s.%N)
  { echo "===== $case (exit $code)"; cat "$work/$case.txt"; echo; } >> "$OUT/cases.txt"
  echo "$case exit=$code wall_s=$($PY -c "print(round($end - $start, 3))")" >> "$OUT/timings.txt"
done
$PY - "$work/json" > "$OUT/cases.json" <<'PYEOF'
import json, pathlib, sys
print(json.dumps({p.stem: json.loads(p.read_text()) for p in sorted(pathlib.Path(sys.argv[1]).glob("*.json"))}))
PYEOF
: > "$OUT/drivers.txt"
for tag in $TAGS; do
  echo "===== image $tag" >> "$OUT/drivers.txt"
  $PY -m triton_doctor check --only gpu-nvml,gpu-driver,gpu-capability --repo "$work/tp1-model/model_repository" \
    --mount "$work/local_models:/local_models" --image "nvcr.io/nvidia/tritonserver:$tag-vllm-python-py3" -v \
    > /dev/null 2>> "$OUT/drivers.txt"
done
cat "$OUT/timings.txt"
rm -rf "$work"
