"""A log opened as a bounded byte stream: regular file or stdin, BOM encodings and gzip decoded on the fly."""

from __future__ import annotations

import codecs
import gzip
import io
import os
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from triton_doctor.probes.fs import GZIP_MAGIC, FileReadError, open_regular, sniff_encoding

#: A gzipped log stops being read after this many decompressed bytes (a decompression bomb ends there).
MAX_LOG_DECOMPRESSED = 4 * 1024 * 1024 * 1024


class _Decoded(io.RawIOBase):
    """Bytes of ``read`` (after ``pending``), re-encoded from ``codec`` to UTF-8 (passed through for UTF-8)."""

    def __init__(self, pending: bytes, read: Callable[[int], bytes], codec: str) -> None:
        super().__init__()
        self._read = read
        self._decoder = None if codec == "utf-8" else codecs.getincrementaldecoder(codec)("replace")
        self._out = b""
        self._eof = False
        self._feed(pending)

    def _feed(self, block: bytes) -> None:
        if self._decoder is None:
            self._out += block
        else:
            self._out += self._decoder.decode(block, final=not block).encode("utf-8")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._out and not self._eof:
            block = self._read(1024 * 1024)
            self._eof = not block
            self._feed(block)
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        self._out = self._out[n:]
        return n


class LogStream:
    """A log opened for :func:`triton_doctor.logs.scan`: ``stream`` yields UTF-8 bytes; close it after."""

    def __init__(self, source: BinaryIO, owned: bool) -> None:
        self._source = source
        self._owned = owned
        self._gzip: gzip.GzipFile | None = None
        #: "gzip" when the log was compressed; the detected text encoding.
        self.compression: str | None = None
        self.encoding = "utf-8"
        self.decompressed = 0
        #: True when a gzipped log was cut at MAX_LOG_DECOMPRESSED.
        self.cut = False
        read: Callable[[int], bytes] = source.read
        head = _read_exactly(read, 2)
        if head == GZIP_MAGIC:
            self.compression = "gzip"
            self._gzip = gzip.GzipFile(fileobj=_Joined(head, read), mode="rb")
            read = self._read_gzip
            head = b""
        head += _read_exactly(read, 512 - len(head))
        codec, skip = sniff_encoding(head)
        self.encoding = codec
        self.stream: BinaryIO = io.BufferedReader(_Decoded(head[skip:], read, codec), 1024 * 1024)

    def _read_gzip(self, size: int) -> bytes:
        assert self._gzip is not None
        if self.decompressed >= MAX_LOG_DECOMPRESSED:
            self.cut = True
            return b""
        try:
            block = self._gzip.read(min(size, MAX_LOG_DECOMPRESSED - self.decompressed))
        except (OSError, EOFError, zlib.error):  # a truncated or corrupt gzip: scan what was there
            return b""
        self.decompressed += len(block)
        return block

    def close(self) -> None:
        if self._owned:
            self._source.close()

    def __enter__(self) -> LogStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Joined(io.RawIOBase):
    """``head`` then the rest of ``read`` (to give gzip back the bytes that were peeked)."""

    def __init__(self, head: bytes, read: Callable[[int], bytes]) -> None:
        super().__init__()
        self._head = head
        self._read = read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._head[: len(buffer)] if self._head else self._read(len(buffer))
        self._head = self._head[len(data) :] if self._head else b""
        buffer[: len(data)] = data
        return len(data)


def _read_exactly(read: Callable[[int], bytes], size: int) -> bytes:
    """Up to ``size`` bytes (fewer only at the end of the stream)."""
    data = b""
    while len(data) < size:
        block = read(size - len(data))
        if not block:
            break
        data += block
    return data


def open_log_stream(path: Path | None) -> LogStream:
    """Open a log file (a regular file only) or, for ``None``, standard input; raise :class:`FileReadError`."""
    if path is None:
        if sys.stdin is None or sys.stdin.closed:
            raise FileReadError("standard input is closed")
        try:
            return LogStream(sys.stdin.buffer, owned=False)
        except (OSError, ValueError) as exc:
            raise FileReadError(f"cannot read standard input: {exc}") from exc
    fd = open_regular(path)
    handle = os.fdopen(fd, "rb", buffering=0)
    try:
        return LogStream(handle, owned=True)
    except OSError as exc:
        handle.close()
        raise FileReadError(f"cannot read: {exc.strerror or exc}") from exc


def tail_lines(path: Path, count: int, max_bytes: int = 64 * 1024 * 1024) -> list[bytes] | None:
    """The last ``count`` lines of a plain UTF-8 log file (without their ``\\n``), read from the end.

    The lines are those :class:`LogStream` would give last (a UTF-8 byte-order mark dropped, a last line
    without a newline kept). None where that cannot be done from the end, so the caller streams the
    whole log instead: a compressed or UTF-16/32 log, or more than ``max_bytes`` in those lines.
    """
    fd = open_regular(path)
    try:
        size = os.fstat(fd).st_size
        head = os.pread(fd, 512, 0)
        if head.startswith(GZIP_MAGIC):
            return None
        codec, skip = sniff_encoding(head)
        if codec != "utf-8":
            return None
        end = size
        data = b""
        # the pieces after the first (which may be the end of a longer line) must be ``count`` whole lines
        wanted = count + (1 if size and os.pread(fd, 1, size - 1) == b"\n" else 0)
        while end > 0 and data.count(b"\n") < wanted:
            if len(data) >= max_bytes:
                return None
            step = min(end, max(64 * 1024, len(data)))
            block = os.pread(fd, step, end - step)
            if len(block) != step:
                return None  # the file shrank while read: stream it instead
            end -= step
            data = block + data
    finally:
        os.close(fd)
    if end == 0:
        data = data[skip:]
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if end > 0:
        lines = lines[1:]  # the first piece may be the end of a longer line
    return lines[-count:] if count > 0 else []
