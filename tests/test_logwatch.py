"""The live stage's log watcher: load outcomes read from a real log stream (a child process, a container)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from triton_doctor.live.logwatch import LogWatch

SCRIPT = r"""
import sys, time
lines = [
    '2025-03-12T10:00:00.1Z I0312 10:00:00.1 1 model_lifecycle.cc:472] "loading: tiny:1"',
    'triton-1  | I0312 10:00:01.1 1 model_lifecycle.cc:849] "successfully loaded \'tiny\'"',
    "E0312 10:00:02.1 1 model_lifecycle.cc:654] failed to load 'big' version 1: Internal: ValueError: "
    "No available memory for the cache blocks.",
    'I0312 10:00:03.1 1 http_server.cc:4755] "Started HTTPService at 0.0.0.0:8000"',
]
for line in lines:
    print(line, flush=True)
    time.sleep(0.05)
sys.stdin.read()  # stay alive (a following log stream) until the test closes stdin
"""


def _lines(proc: subprocess.Popen[str]) -> Iterator[str]:
    assert proc.stdout is not None
    for line in proc.stdout:
        yield line.rstrip("\n")


def test_outcomes_from_a_live_stream() -> None:
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    watch = LogWatch()
    try:
        watch.start(lambda: _lines(proc))
        for _ in range(100):
            if watch.http_started is not None:
                break
            watch.wait(0.2)
        assert watch.loaded.keys() == {"tiny"}
        assert watch.first_failure(["big", "tiny"]) == (
            "big",
            "Internal: ValueError: No available memory for the cache blocks.",
        )
        assert watch.first_failure(["tiny"]) is None
        assert watch.all_loaded(["tiny"]) and not watch.all_loaded(["tiny", "big"])
        assert watch.last_line.startswith("Started HTTPService")
    finally:
        watch.stop()
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=30)
        watch.join(30)
        assert proc.stdout is not None
        proc.stdout.close()


def test_status_table_poll_failure_and_bounded_tail() -> None:
    watch = LogWatch(tail=10)
    for n in range(1000):
        watch.feed(f"(EngineCore_DP0 pid=1) INFO 03-12 10:00:00 [core.py:1] step {n}")
    assert len(watch.tail) == 10 and not watch.wake.is_set()
    watch.feed("| gemma | 1 | READY |")
    watch.feed("| llama | 1 | UNAVAILABLE: Internal: OSError: no config.json |")
    watch.feed("E0312 10:00:00.1 1 m.cc:1] failed to poll model 'x': model not found in any model repository.")
    assert watch.wake.is_set() and watch.loaded.keys() == {"gemma"}
    assert watch.failed["llama"][0] == "Internal: OSError: no config.json"
    assert watch.first_failure([]) == ("llama", "Internal: OSError: no config.json")
    assert watch.failed["x"][0] == "model not found in any model repository."


def test_follows_a_container_log_stream(tmp_path: Path) -> None:
    """Lines written into a container's stdout reach the watcher through the daemon's log stream."""
    from tests.dockerutil import docker_client, running_container
    from triton_doctor.probes.docker_probe import DockerProbe

    client = docker_client()
    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo)
    probe = DockerProbe()
    watch = LogWatch()
    try:
        with running_container(
            client, command=["/bin/cat", "/log.fifo"], volumes={str(fifo): {"bind": "/log.fifo", "mode": "rw"}}
        ) as container:
            watch.start(lambda: probe.log_lines(container.id, follow=True))
            opened = threading.Event()

            def write() -> None:
                with fifo.open("w") as pipe:  # blocks until cat opens it
                    opened.set()
                    pipe.write("I0312 10:00:01.1 1 model_lifecycle.cc:849] \"successfully loaded 'tiny'\"\n")
                    pipe.flush()
                    for _ in range(50):
                        if watch.loaded:
                            break
                        watch.wake.wait(0.2)

            writer = threading.Thread(target=write, daemon=True)
            writer.start()
            writer.join(60)
            assert opened.is_set() and "tiny" in watch.loaded
    finally:
        watch.stop()
        probe.close()
        client.close()
