"""The fast paths of issue 20 give the same answers as the reference paths they replace.

* ``delete_every`` (one pass over the text) against ``delete_field`` applied to the first occurrence
  again and again (the former implementation), on every config.pbtxt of the project and on generated ones;
* ``tail_lines`` (a log read from its end, for ``bundle --log``) against streaming the whole log through
  :class:`LogStream` and keeping the last lines, on every log of the test corpus and on generated ones;
* ``field_positions`` (a state machine over the significant tokens) points every path at its name;
* ``Context.tensor_parallel`` is computed once per run.
"""

from __future__ import annotations

import codecs
import random
from collections import deque
from pathlib import Path

import pytest

from triton_doctor.probes.logstream import open_log_stream, tail_lines
from triton_doctor.probes.pbtxt import field_positions, parse_config, top_level_offsets
from triton_doctor.repair.locate import delete_every
from triton_doctor.repair.pbtxtedit import delete_field

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted(p for p in ROOT.rglob("config.pbtxt") if ".venv" not in p.parts and "build" not in p.parts)
LOGS = sorted((ROOT / "tests" / "data" / "logs").iterdir()) + sorted((ROOT / "fixtures" / "logs").glob("*.log"))
PIECES = [
    'input { name: "a" }',
    'output { name: "o" }',
    'backend: "vllm"',
    "# input { }\n",
    'input [ {name:"x"}, {name: "y"} ]',
    ",",
    ";",
    " ",
    "\n",
    "  ",
    'input: { name: "z" }',
    'input < name: "w" >',
    "max_batch_size: 4",
    "dynamic_batching { }",
    'parameters { key: "input" value: { string_value: "input {" } }',
]
NAMES = ("input", "output", "dynamic_batching", "max_batch_size", "parameters")


def _reference_delete_every(text: str, name: str) -> str:
    for _ in range(1000):
        pos = field_positions(text).get((name,))
        if pos is None:
            break
        text = delete_field(text, *pos)
    return text


def _configs() -> list[str]:
    texts = [p.read_text("utf-8", "replace") for p in CONFIGS]
    rnd = random.Random(20)
    texts += ["".join(rnd.choice(PIECES) for _ in range(rnd.randint(1, 14))) for _ in range(1500)]
    return [t for t in texts if parse_config(t).message is not None]  # fixes are made for configs that parse


def test_delete_every_matches_the_reference() -> None:
    texts = _configs()
    assert len(texts) > 300
    for text in texts:
        for name in NAMES:
            assert delete_every(text, name) == _reference_delete_every(text, name), (name, text)


def test_delete_every_removes_every_one_of_many() -> None:
    text = 'backend: "vllm"\n' + "".join(
        f'input {{ name: "a{i}" data_type: TYPE_STRING dims: [1] }}\n' for i in range(500)
    )
    assert delete_every(text, "input") == 'backend: "vllm"\n'
    assert len(top_level_offsets(text, "input")) == 500


def test_field_positions_point_at_the_names() -> None:
    for text in _configs():
        lines = text.split("\n")
        for path, (line, column) in field_positions(text).items():
            at = lines[line - 1][column - 1 :]
            name = next(p for p in reversed(path) if isinstance(p, str))
            # a field's name, or for an element of "name [ {..}, {..} ]" its opening bracket
            assert at.startswith(name) or (isinstance(path[-1], int) and at[:1] in "{<"), (path, text)


def _streamed_tail(path: Path, count: int) -> list[str]:
    kept: deque[str] = deque(maxlen=count)
    with open_log_stream(path) as log:
        for raw in log.stream:
            kept.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
    return list(kept)


@pytest.mark.parametrize("count", [1, 3, 200])
def test_tail_lines_matches_streaming_on_the_corpus(count: int) -> None:
    for path in LOGS:
        got = tail_lines(path, count)
        assert got is not None, path
        assert [g.decode("utf-8", "replace").rstrip("\r\n") for g in got] == _streamed_tail(path, count), path


def test_tail_lines_matches_streaming_on_generated_logs(tmp_path: Path) -> None:
    rnd = random.Random(7)
    pieces = [b"a", b"\n", b"\r\n", b"xyz" * 30, b"\xff", "é".encode(), b"\n\n", b"long" * 20000]
    path = tmp_path / "x.log"
    for _ in range(400):
        data = b"".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 40)))
        if rnd.random() < 0.1:
            data = codecs.BOM_UTF8 + data
        path.write_bytes(data)
        count = rnd.choice([1, 2, 5, 200])
        got = tail_lines(path, count)
        assert got is not None
        assert [g.decode("utf-8", "replace").rstrip("\r\n") for g in got] == _streamed_tail(path, count)


def test_tail_lines_leaves_compressed_and_utf16_logs_to_the_stream(tmp_path: Path) -> None:
    import gzip

    packed = tmp_path / "x.log.gz"
    packed.write_bytes(gzip.compress(b"a\nb\n"))
    wide = tmp_path / "w.log"
    wide.write_bytes(codecs.BOM_UTF16_LE + "a\nb\n".encode("utf-16-le"))
    assert tail_lines(packed, 2) is None
    assert tail_lines(wide, 2) is None


def test_tensor_parallel_is_computed_once(tmp_path: Path) -> None:
    from triton_doctor.deploy.target import Target
    from triton_doctor.facts.context import Context

    repo = tmp_path / "model_repository"
    for name in ("a", "b"):
        (repo / name / "1").mkdir(parents=True)
        (repo / name / "config.pbtxt").write_text('backend: "vllm"\n', encoding="utf-8")
        (repo / name / "1" / "model.json").write_text('{"model": "x", "tensor_parallel_size": 2}', encoding="utf-8")
    ctx = Context(Target(repo=str(repo)))
    first = ctx.tensor_parallel()
    assert first == {"a": 2, "b": 2}
    assert ctx.tensor_parallel() is first


@pytest.mark.parametrize("chunk", [61, 97, 256, 1000])
def test_log_diagnosis_does_not_depend_on_block_boundaries(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scan reads 1 MiB blocks; cut every corpus log at small block sizes instead: the same report."""
    import io
    import sys

    from triton_doctor.logs import scan

    scan_module = sys.modules["triton_doctor.logs.scan"]  # (the package's ``scan`` is the function)

    expected = {path: scan(io.BytesIO(path.read_bytes()), secrets=()) for path in LOGS}
    monkeypatch.setattr(scan_module, "CHUNK", chunk)
    for path in LOGS:
        got = scan(io.BytesIO(path.read_bytes()), secrets=())
        want = expected[path]
        assert (got.lines, got.hits, got.counts, got.models, got.options) == (
            want.lines,
            want.hits,
            want.counts,
            want.models,
            want.options,
        ), path
        assert (got.release, got.server_version, got.vllm_version) == (
            want.release,
            want.server_version,
            want.vllm_version,
        ), path
