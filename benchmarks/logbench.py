"""`logs` against grep on a large log of varied real server lines, each figure beside its anchor in one run.

    python benchmarks/logbench.py [size_mb] [runs] [workdir]     # default 1024 MiB, 5 runs

The log (built once in WORKDIR, default a temporary directory): the healthy start-up of a real log (banner,
option and model tables), then SIZE_MB of lines drawn at random from a pool of real lines -- every line of
the test corpus (``tests/data/logs/``) and the fixtures that holds no catalog signature, plus vLLM and
Triton runtime lines whose numbers (timestamps, request ids, throughput, cache usage) change on every line
-- and at the very end a real failure (vLLM's KV-cache error and its wrappers). No line is one line
repeated; the lines holding a signature are the failure's.

Each row times the tool (A) and its anchor (B) in turn, A B A B ..., and prints min/median/max of the wall
time, of A's peak RSS and of the ratio B/A pair by pair (above 1: faster than the anchor):

* ``logs FILE``            vs ``grep -E -i -c -f patterns FILE`` (every catalog pattern as POSIX ERE)
* ``logs - < FILE``        vs ``grep -E -i -c -f patterns < FILE``
* ``logs FILE.gz``         vs ``zgrep -E -i -c -f patterns FILE.gz``
"""

from __future__ import annotations

import gzip
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.logscan import to_ere  # noqa: E402
from triton_doctor.logs.catalog import FACT_ANCHORS, load_catalog  # noqa: E402

FAILURE = ROOT / "fixtures" / "logs" / "no-kv-cache-memory.log"
HEALTHY = ROOT / "fixtures" / "logs" / "healthy-explicit.log"
#: Runtime lines of a serving vLLM/Triton; ``{}`` fields are filled with fresh numbers on every line.
RUNTIME = (
    "INFO {d} [loggers.py:118] Engine 000: Avg prompt throughput: {f} tokens/s, Avg generation throughput: {f} "
    "tokens/s, Running: {n} reqs, Waiting: {n} reqs, GPU KV cache usage: {f}%, Prefix cache hit rate: {f}%",
    'I{g} 1 infer_handler.cc:975] "[request id: {r}] Infer request for model gemma version 1"',
    "INFO {d} [async_llm.py:270] Added request cmpl-{h}.",
    'I{g} 1 http_server.cc:4580] "HTTP request: 2 /v2/models/gemma/generate_stream"',
    "INFO {d} [metrics.py:455] Avg prompt throughput: {f} tokens/s, Avg generation throughput: {f} tokens/s, "
    "Running: {n} reqs, Swapped: 0 reqs, Pending: {n} reqs, GPU KV cache usage: {f}%, CPU KV cache usage: 0.0%.",
    "INFO {d} [engine.py:310] Finished request cmpl-{h}.",
    '{t} I{g} 1 grpc_server.cc:2511] "Process for ModelStreamInferHandler, rpc_ok=1, 2 step WRITTEN"',
)


def _signatures() -> re.Pattern[str]:
    anchors = {a for e in load_catalog() for a in e.anchors} | set(FACT_ANCHORS)
    return re.compile("|".join(re.escape(a) for a in sorted(anchors)), re.IGNORECASE)


def line_pool() -> list[str]:
    """Real lines that hold no signature (and are no table rows): the varied background of a log."""
    flagged = _signatures()
    pool: set[str] = set()
    for path in [
        *sorted((ROOT / "tests" / "data" / "logs").iterdir()),
        *sorted((ROOT / "fixtures" / "logs").glob("*.log")),
    ]:
        for line in path.read_text("utf-8", "replace").splitlines():
            if line.strip() and not flagged.search(line) and not line.rstrip().endswith("|"):
                pool.add(line)
    return sorted(pool)


def make_log(path: Path, size_mb: int, seed: int = 20) -> None:
    rnd = random.Random(seed)
    pool = line_pool()
    healthy = HEALTHY.read_bytes()
    failure = FAILURE.read_bytes()
    target = (size_mb << 20) - len(failure)

    def runtime() -> str:
        template = rnd.choice(RUNTIME)
        out = []
        for piece in re.split(r"(\{\w\})", template):
            match piece:
                case "{d}":
                    out.append(
                        f"{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d} {rnd.randint(0, 23):02d}:"
                        f"{rnd.randint(0, 59):02d}:{rnd.randint(0, 59):02d}"
                    )
                case "{g}":
                    out.append(
                        f"{rnd.randint(101, 1231):04d} {rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}:"
                        f"{rnd.randint(0, 59):02d}.{rnd.randint(0, 999999):06d}"
                    )
                case "{t}":
                    out.append(
                        f"2025-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}T{rnd.randint(0, 23):02d}:"
                        f"{rnd.randint(0, 59):02d}:{rnd.randint(0, 59):02d}.{rnd.randint(0, 999999999):09d}Z"
                    )
                case "{f}":
                    out.append(f"{rnd.uniform(0, 500):.1f}")
                case "{n}":
                    out.append(str(rnd.randint(0, 64)))
                case "{r}":
                    out.append(str(rnd.randint(1, 10**7)))
                case "{h}":
                    out.append(f"{rnd.getrandbits(64):016x}")
                case _:
                    out.append(piece)
        return "".join(out)

    with path.open("wb") as handle:
        handle.write(healthy)
        written = len(healthy)
        while written < target:
            chunk = "\n".join(rnd.choice(pool) if rnd.random() < 0.3 else runtime() for _ in range(20000)) + "\n"
            data = chunk.encode()
            handle.write(data)
            written += len(data)
        handle.write(failure)


def timed(cmd: list[str], stdin: Path | None = None) -> tuple[float, float, int, bytes]:
    """``(wall s, peak RSS MiB, exit code, stdout)`` of one process."""
    src = stdin.open("rb") if stdin is not None else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=src, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        out, _ = proc.communicate()
        wall = time.perf_counter() - start
    finally:
        if stdin is not None:
            src.close()  # type: ignore[union-attr]
    rss = 0.0
    return wall, rss, proc.returncode, out


def rss_of(cmd: list[str], stdin: Path | None = None) -> float:
    """Peak RSS (MiB) of ``cmd`` from ``wait4``."""
    src = stdin.open("rb") if stdin is not None else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, stdin=src, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, _status, usage = os.wait4(proc.pid, 0)
    if stdin is not None:
        src.close()  # type: ignore[union-attr]
    return usage.ru_maxrss / 1024


def paired(name: str, tool: list[str], anchor: list[str], runs: int, size: int, stdin: Path | None = None) -> None:
    a, b = [], []
    for i in range(runs + 1):
        wall_a, _, code, out = timed(tool, stdin)
        if b"no-kv-cache-memory" not in out:
            raise SystemExit(f"{name}: the doctor missed the failure at the end of the log (exit {code})")
        wall_b, *_ = timed(anchor, stdin)
        if i:  # the first pair warms up
            a.append(wall_a)
            b.append(wall_b)
    rss = rss_of(tool, stdin)
    ratios = [y / x for x, y in zip(a, b, strict=True)]

    def mmm(values: list[float], fmt: str) -> str:
        return "/".join(format(v, fmt) for v in (min(values), statistics.median(values), max(values)))

    mib = size / 2**20
    print(f"{name}  ({runs} pairs, min/median/max)")
    print(f"  tool   {mmm(a, '.2f')} s  = {mmm(sorted(mib / x for x in a), '.0f')} MiB/s; peak RSS {rss:.1f} MiB")
    print(f"  anchor {mmm(b, '.2f')} s  = {mmm(sorted(mib / x for x in b), '.0f')} MiB/s")
    print(f"  anchor time / tool time: {mmm(ratios, '.2f')}x")


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    work = Path(sys.argv[3]) if len(sys.argv) > 3 else Path(tempfile.mkdtemp())
    log = work / f"varied-{size_mb}.log"
    patterns = work / "patterns.ere"
    patterns.write_text("\n".join(to_ere(p.pattern) for e in load_catalog() for p in e.patterns) + "\n")
    if not log.exists():
        start = time.perf_counter()
        make_log(log, size_mb)
        print(f"made {log.name} in {time.perf_counter() - start:.0f} s")
    gz = log.with_suffix(".log.gz")
    if not gz.exists():
        with log.open("rb") as src, gzip.open(gz, "wb", compresslevel=6) as dst:
            while block := src.read(1 << 20):
                dst.write(block)
    size = log.stat().st_size
    with log.open("rb") as handle:
        lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
    print(f"log: {size / 2**20:.0f} MiB, {lines:,} lines; .gz {gz.stat().st_size / 2**20:.0f} MiB")
    doctor = [sys.executable, "-m", "triton_doctor", "logs"]
    grep = ["grep", "-E", "-i", "-c", "-f", str(patterns)]
    which = sys.argv[4].split(",") if len(sys.argv) > 4 else ["file", "stdin", "gz"]
    if "file" in which:
        paired("logs FILE vs grep -E -i -c -f", [*doctor, str(log), "--format", "json"], [*grep, str(log)], runs, size)
    if "stdin" in which:
        paired("logs - < FILE vs grep < FILE", [*doctor, "-", "--format", "json"], grep, runs, size, stdin=log)
    if "gz" in which:
        z = ["zgrep", "-E", "-i", "-c", "-f", str(patterns), str(gz)]
        paired("logs FILE.gz vs zgrep", [*doctor, str(gz), "--format", "json"], z, runs, size)


if __name__ == "__main__":
    main()
