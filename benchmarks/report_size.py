"""Size of the reports for a repository of many models: the text report summarises, -v and JSON list all.

    python benchmarks/report_size.py [models]

Builds a repository of N copies of the sample's Hub model (two with the guide's max_batch_size: 256) in a
temporary directory and prints the bytes of `check --only repo` as text, text with -v, and JSON.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from triton_doctor.app import sample_paths

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 200


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "model_repository"
        src = sample_paths()[0] / "gemma"
        for i in range(COUNT):
            model = repo / f"model_{i:04d}"
            shutil.copytree(src, model)
            text = (model / "config.pbtxt").read_text().replace('name: "gemma"', f'name: "model_{i:04d}"')
            if i in {7, COUNT - 1}:
                text = text.replace("max_batch_size: 0", "max_batch_size: 256")
            (model / "config.pbtxt").write_text(text)
        base = [sys.executable, "-m", "triton_doctor", "check", "--only", "repo", "--repo", str(repo)]
        env = {**os.environ, "NO_COLOR": "1"}
        for label, extra, stream in (
            ("text", [], "stderr"),
            ("text -v", ["-v"], "stderr"),
            ("json", ["--format", "json"], "stdout"),
        ):
            proc = subprocess.run([*base, *extra], capture_output=True, text=True, env=env, check=False)
            size = len(getattr(proc, stream).encode())
            print(f"{COUNT} models, {label:<8} {size / 1024:8.1f} KB")


if __name__ == "__main__":
    main()
