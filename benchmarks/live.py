"""Live-stage figures on the local Triton + vLLM stack (stack/build.sh): detection latency and whole run time.

    DOCKER_HOST=... python benchmarks/live.py [runs]

1. READY detection: `triton-doctor up --keep` starts the guide's command; two observers poll the same port
   from the start: a 10 ms poller of /v2/models/<m>/ready (the ground truth) and the guide-style 1-second
   curl loop. Each one's delay after the ground truth (the doctor's: until its report is written).
2. Log-line delay: a LiveSession (the code `up` and `check --live` run) on the same command, in this process,
   next to a 10 ms poller of /v2/models/<m>/ready: when the session decided READY, after the last log line
   that makes the model usable (`successfully loaded`, `Started HTTPService`; Docker's `logs -t` stamps)
   and after the 10 ms poller; then the same for a failed load (an unknown engine argument): when the
   session returned, after the `failed to load` line.
3. Whole run: `triton-doctor check --live --only live` (bring-up, READY, three generations, teardown) against
   a bare script doing `docker run -d`, a 1-second curl loop until ready, one curl to generate_stream, and
   `docker rm -f`.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE = {"model": "/local_models/tiny-llama", "dtype": "float32", "max_model_len": 256, "enforce_eager": True}
CONFIG = 'backend: "vllm"\n'


def sh(*args: str, **kw: object) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout.strip()  # type: ignore[call-overload]


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except Exception:  # noqa: BLE001
        return False


def setup(work: Path, image: str) -> tuple[Path, Path]:
    repo = work / "model_repository" / "tiny"
    (repo / "1").mkdir(parents=True)
    (repo / "config.pbtxt").write_text(CONFIG)
    (repo / "1" / "model.json").write_text(json.dumps(ENGINE))
    local = work / "local_models"
    local.mkdir()
    sh(
        "docker",
        "run",
        "--rm",
        "-v",
        f"{local}:/out",
        image,
        "python3",
        "/opt/triton-doctor/make_tiny_llama.py",
        "/out/tiny-llama",
    )
    return repo.parent, local


def run_args(image: str, repo: Path, local: Path, port: int, name: str) -> list[str]:
    return [
        "-p",
        f"{port}:8000",
        "-p",
        f"{port + 1}:8001",
        "-p",
        f"{port + 2}:8002",
        "--mount",
        f"type=bind,source={repo},target=/models",
        "--mount",
        f"type=bind,source={local},target=/local_models",
        "--name",
        name,
        image,
        "tritonserver",
        "--model-repository=/models",
        "--model-control-mode=explicit",
        "--load-model=tiny",
    ]


def detection(image: str, repo: Path, local: Path) -> dict[str, float]:
    port = 18700
    url = f"http://127.0.0.1:{port}/v2/models/tiny/ready"
    command = "docker run -d " + " ".join(run_args(image, repo, local, port, "td-bench-detect"))
    marks: dict[str, float] = {}
    done = threading.Event()

    def truth() -> None:
        while not ready(url) and not done.is_set():
            time.sleep(0.01)
        marks["truth"] = time.monotonic()

    def curl_loop() -> None:
        while subprocess.run(["curl", "-sf", "-o", "/dev/null", url], check=False).returncode != 0:
            time.sleep(1)
        marks["curl 1 s loop"] = time.monotonic()

    def doctor() -> None:
        subprocess.run(
            [sys.executable, "-m", "triton_doctor", "up", "--keep", "--docker-command", command, "--format", "json"],
            capture_output=True,
            check=False,
            env={**os.environ, "NO_COLOR": "1"},
        )
        marks["doctor up (report written)"] = time.monotonic()

    threads = [threading.Thread(target=f) for f in (truth, curl_loop, doctor)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
    finally:
        done.set()
        kept = sh("docker", "ps", "-aq", "--filter", "label=io.triton-doctor.owned")
        if kept:
            sh("docker", "rm", "-f", *kept.split())
    return {k: v - marks["truth"] for k, v in marks.items() if k != "truth"}


def _line_time(logs: bytes, needle: str) -> float | None:
    """The monotonic time Docker stamped on the first log line holding ``needle``."""
    offset = time.time() - time.monotonic()
    for raw in logs.decode("utf-8", "replace").splitlines():
        stamp, _, text = raw.partition(" ")
        if needle in text:
            whole, _, frac = stamp.rstrip("Z").partition(".")
            wall = datetime.fromisoformat(f"{whole}.{(frac + '000000')[:6]}+00:00").timestamp()
            return wall - offset
    return None


def log_delay(image: str, repo: Path, local: Path, broken: bool) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from triton_doctor.deploy.inputs import TargetInput, build_target
    from triton_doctor.live import LiveOptions, LiveSession

    port = 18910 if broken else 18900
    url = f"http://127.0.0.1:{port}/v2/models/tiny/ready"
    command = "docker run " + " ".join(run_args(image, repo, local, port, "td-bench-log"))
    target, _ = build_target(TargetInput(docker_command=command, cwd=repo.parent))
    session = LiveSession(target, ["tiny"], LiveOptions(timeout_s=300, grpc=False))
    marks: dict[str, float] = {}
    done = threading.Event()

    def truth() -> None:
        while not done.is_set():
            if ready(url):
                marks["truth"] = time.monotonic()
                return
            time.sleep(0.01)

    poller = threading.Thread(target=truth, daemon=True)
    poller.start()
    try:
        out = session.run()
        returned = time.monotonic()
        logs = session.docker.client().api.logs(session._container_id, timestamps=True)
    finally:
        done.set()
        session.teardown()
    if broken:
        line = _line_time(logs, "failed to load 'tiny'")
        assert out.state in {"unavailable", "exited"} and line is not None, out.detail
        return {"failed load: session returned, after the log line": returned - line}
    loaded, http = _line_time(logs, "successfully loaded 'tiny'"), _line_time(logs, "Started HTTPService")
    assert out.state == "ready" and out.ready_at is not None and loaded is not None and http is not None, out.detail
    poller.join(5)
    result = {"READY: session decided, after the log line": out.ready_at - max(loaded, http)}
    if "truth" in marks:
        result["READY: session decided, after the 10 ms poller"] = out.ready_at - marks["truth"]
    return result


def whole(image: str, repo: Path, local: Path) -> dict[str, float]:
    port = 18800
    command = "docker run -d " + " ".join(run_args(image, repo, local, port, "td-bench-whole"))
    start = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "triton_doctor",
            "check",
            "--live",
            "--only",
            "live",
            "--docker-command",
            command,
            "--format",
            "json",
        ],
        capture_output=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    doctor = time.monotonic() - start
    body = repo.parent / "body.json"
    body.write_text(
        json.dumps(
            {
                "text_input": "The capital of France is",
                "stream": True,
                "sampling_parameters": json.dumps({"max_tokens": 32}),
            }
        )
    )
    script = f"""
set -e
docker run -d --shm-size=1g {" ".join(run_args(image, repo, local, port, "td-bench-bare"))} >/dev/null
until curl -sf -o /dev/null http://127.0.0.1:{port}/v2/models/tiny/ready; do sleep 1; done
curl -s -N -X POST http://127.0.0.1:{port}/v2/models/tiny/generate_stream -d @{body} >/dev/null
docker rm -f td-bench-bare >/dev/null
"""
    start = time.monotonic()
    subprocess.run(["bash", "-c", script], check=True)
    bare = time.monotonic() - start
    return {"triton-doctor check --live (3 generations, teardown)": doctor, "docker run + curl loop + curl": bare}


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    log_only = "--log-only" in sys.argv
    image = sh("bash", str(ROOT / "stack" / "build.sh"))
    with tempfile.TemporaryDirectory() as tmp:
        repo, local = setup(Path(tmp), image)
        broken = Path(tmp) / "broken_repository"
        shutil.copytree(repo, broken)
        (broken / "tiny" / "1" / "model.json").write_text(json.dumps({**ENGINE, "no_such_engine_arg": True}))
        logged: dict[str, list[float]] = {}
        for _ in range(runs):
            for bad in (False, True):
                for name, value in log_delay(image, broken if bad else repo, local, bad).items():
                    logged.setdefault(name, []).append(value * 1000)
        print(f"log-stream detection (median of {runs}; negative: before the poller):")
        for name, values in logged.items():
            print(f"  {name:<52} {statistics.median(values):7.0f} ms  (runs: {', '.join(f'{v:.0f}' for v in values)})")
        if log_only:
            return
        delays: dict[str, list[float]] = {}
        for _ in range(runs):
            for name, value in detection(image, repo, local).items():
                delays.setdefault(name, []).append(value)
        print(f"READY detection delay after the model became READY (median of {runs}):")
        for name, values in delays.items():
            print(f"  {name:<28} {statistics.median(values):6.2f} s  (runs: {', '.join(f'{v:.2f}' for v in values)})")
        totals: dict[str, list[float]] = {}
        for _ in range(runs):
            for name, value in whole(image, repo, local).items():
                totals.setdefault(name, []).append(value)
        print(f"whole live run (median of {runs}):")
        for name, values in totals.items():
            print(f"  {name:<52} {statistics.median(values):6.1f} s  (runs: {', '.join(f'{v:.1f}' for v in values)})")


if __name__ == "__main__":
    main()
