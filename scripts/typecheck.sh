#!/usr/bin/env bash
# mypy --strict on doctor/ and checks/ under their installed names.
# The source layout (doctor/, checks/) is mapped to triton_doctor/ by setuptools' package-dir, which mypy
# cannot follow through an editable install's import hook; a tree of symlinks gives it the real layout,
# and the paths in its messages are mapped back to doctor/ and checks/.
set -euo pipefail
cd "$(dirname "$0")/.."
stage=build/typecheck
rm -rf "$stage"
mkdir -p "$stage/triton_doctor"
for entry in doctor/*; do
  ln -s "../../../$entry" "$stage/triton_doctor/$(basename "$entry")"
done
ln -s ../../../checks "$stage/triton_doctor/checks"
set +e
MYPYPATH="$stage" python -m mypy --strict --cache-dir build/.mypy_cache -p triton_doctor "$@" 2>&1 \
  | sed -e "s#$stage/triton_doctor/checks/#checks/#g" -e "s#$stage/triton_doctor/#doctor/#g"
status=${PIPESTATUS[0]}
exit "$status"
