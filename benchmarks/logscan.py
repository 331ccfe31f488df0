"""Log scan throughput and peak memory on a large log, against grep over the same signatures.

    python benchmarks/logscan.py [size_mb] [workdir]

Builds a log of SIZE_MB (default 1024) shaped like a long-running server's: one healthy startup, then
vLLM/Triton runtime lines, and near the end a failure (vLLM's KV-cache error and its wrappers). Then times,
each in its own process (peak RSS from getrusage):
  * triton-doctor logs FILE --format json   (the real command: catalog match, tables, report)
  * the same with the pure-Python prefilter  (what runs where no hyperscan wheel exists)
  * grep -E -i -c -f patterns               (every catalog pattern, translated to POSIX ERE)
  * grep -F -i -c -f anchors                (the literal anchors alone: the doctor's prefilter)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from triton_doctor.logs import load_catalog  # noqa: E402


def to_ere(pattern: str) -> str:
    """Python regex -> POSIX ERE for GNU grep (the catalog uses a small, plain subset).

    Named groups become plain groups; a negative lookahead is dropped (grep then matches a little more,
    which only makes its job harder); ``\\'`` (end of buffer in GNU ERE) is a plain quote.
    """
    out = re.sub(r"\(\?!(?:[^()]|\([^()]*\))*\)", "", pattern)
    out = re.sub(r"\(\?P<\w+>", "(", out).replace("(?:", "(")
    out = out.replace(r"\d", "[0-9]").replace(r"\S", "[^[:space:]]").replace(r"\s", "[[:space:]]")
    return out.replace("\\'", "'").replace(r"[^\]]", "[^]]")


RUNTIME = (
    b"INFO 01-20 09:12:44 [loggers.py:118] Engine 000: Avg prompt throughput: 25.3 tokens/s, Avg generation "
    b"throughput: 187.2 tokens/s, Running: 4 reqs, Waiting: 0 reqs, GPU KV cache usage: 3.1%, Prefix cache hit "
    b"rate: 41.0%\n"
    b'I0120 09:12:44.123456 1 infer_handler.cc:975] "[request id: 1734] Infer request for model gemma version 1"\n'
    b"INFO 01-20 09:12:45 [async_llm.py:270] Added request cmpl-8f2c1e7a9b4d4c3e.\n"
    b'I0120 09:12:45.223456 1 http_server.cc:4580] "HTTP request: 2 /v2/models/gemma/generate_stream"\n'
)


def make_log(path: Path, size_mb: int) -> None:
    healthy = (ROOT / "fixtures" / "logs" / "healthy-explicit.log").read_bytes()
    failure = (ROOT / "fixtures" / "logs" / "no-kv-cache-memory.log").read_bytes()
    block = RUNTIME * ((8 << 20) // len(RUNTIME))
    with path.open("wb") as handle:
        handle.write(healthy)
        written = len(healthy)
        while written < (size_mb << 20) - len(failure):
            handle.write(block)
            written += len(block)
        handle.write(failure)


def measure(cmd: list[str]) -> tuple[float, int, str]:
    code = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(time.perf_counter() - t, rss, repr(p.stdout))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True, check=True).stdout
    seconds, rss_kb, tail = out.split(" ", 2)
    return float(seconds), int(rss_kb), tail.strip()


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    work = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp())
    log = work / "big.log"
    patterns = work / "patterns.ere"
    anchors = work / "anchors.txt"
    entries = load_catalog()
    patterns.write_text("\n".join(to_ere(p.pattern) for e in entries for p in e.patterns) + "\n")
    anchors.write_text("\n".join(sorted({a for e in entries for a in e.anchors})) + "\n")
    for line in patterns.read_text().splitlines():  # every translated pattern must be valid ERE
        subprocess.run(["grep", "-E", "-c", "-e", line, "/dev/null"], capture_output=True, check=False)
    start = time.perf_counter()
    make_log(log, size_mb)
    size = log.stat().st_size
    with log.open("rb") as handle:
        lines = sum(1 for _ in handle)
    print(f"log: {size / 2**20:.0f} MiB, {lines:,} lines (made in {time.perf_counter() - start:.1f} s)")
    env_python = [sys.executable, "-m", "triton_doctor"]
    runs = {
        "triton-doctor logs FILE --format json": [*env_python, "logs", str(log), "--format", "json"],
        "same, pure-Python fallback (no hyperscan)": [
            sys.executable,
            "-c",
            "import sys; sys.modules['hyperscan'] = None; from triton_doctor.cli import main; "
            "sys.argv = ['triton-doctor', *sys.argv[1:]]; main()",
            "logs",
            str(log),
            "--format",
            "json",
        ],
        "grep -E -i -c -f patterns (catalog as ERE)": ["grep", "-E", "-i", "-c", "-f", str(patterns), str(log)],
        "grep -F -i -c -f anchors (literals only)": ["grep", "-F", "-i", "-c", "-f", str(anchors), str(log)],
    }
    subprocess.run(["cat", str(log)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    for name, cmd in runs.items():
        seconds, rss_kb, stdout = measure(cmd)
        if not name.startswith("grep"):
            assert "no-kv-cache-memory" in stdout, "the doctor missed the failure at the end of the log"
        print(f"{name:<46} {seconds:7.2f} s  {size / 2**20 / seconds:7.1f} MiB/s  peak RSS {rss_kb / 1024:7.1f} MiB")
    os.remove(log)


if __name__ == "__main__":
    main()
