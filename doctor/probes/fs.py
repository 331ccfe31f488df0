"""Filesystem probe: the only code that reads the user's files. Failures become values, never exceptions.

Every file the doctor reads goes through one bounded reader, :func:`read_file_bytes`:

* it refuses anything that is not a regular file (a FIFO, a device such as ``/dev/zero``, a socket, a
  directory) with a clear message: the path is checked with ``stat`` and then opened ``O_NONBLOCK`` and
  checked again with ``fstat``, so a FIFO never blocks the doctor;
* it reads at most ``cap + 1`` bytes and never trusts ``st_size`` (``/proc`` files and devices report 0);
* with ``gzip=True`` a gzip file (by its magic bytes) is decompressed transparently, the decompressed size
  capped the same way;
* :func:`decode_text` picks the encoding by byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE; UTF-16
  without a BOM is recognised by its NUL bytes), so a ``run.ps1`` saved by Windows PowerShell reads as text.

:func:`open_log_stream` is the streaming variant for logs of any size: it yields UTF-8 bytes whatever the
log's encoding or compression.
"""

from __future__ import annotations

import codecs
import os
import stat
import zlib
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "FileReadError",
    "Listing",
    "TextRead",
    "decode_text",
    "list_dir",
    "read_file_bytes",
    "read_file_text",
    "read_text",
]

#: config.pbtxt and model.json are small; anything larger is not what the user meant to point us at.
MAX_TEXT_BYTES = 4 * 1024 * 1024

#: Never block on a FIFO, never become the controlling terminal, never leak to children, never translate
#: line ends (Windows); the flags a platform lacks are left out.
OPEN_FLAGS: int = 0
for _flag in ("O_NONBLOCK", "O_NOCTTY", "O_CLOEXEC", "O_BINARY"):
    OPEN_FLAGS |= int(getattr(os, _flag, 0))

GZIP_MAGIC = b"\x1f\x8b"
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class FileReadError(ValueError):
    """A file could not be read; ``str()`` says why (without the path, which the caller names)."""

    def __init__(self, reason: str, *, missing: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.missing = missing


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe), not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    return "is not a regular file"


def _human(size: int) -> str:
    return f"{size // (1024 * 1024)} MiB" if size >= 1024 * 1024 else f"{size // 1024} KiB"


def open_regular(path: Path) -> int:
    """Open ``path`` for reading if (and only if) it is a regular file; never blocks on a FIFO."""
    try:
        kind = _kind(os.stat(path).st_mode)
        if kind is not None:
            raise FileReadError(kind)
        fd = os.open(path, os.O_RDONLY | OPEN_FLAGS)
    except FileNotFoundError as exc:
        raise FileReadError("does not exist", missing=True) from exc
    except NotADirectoryError as exc:
        raise FileReadError("does not exist (a parent is not a directory)", missing=True) from exc
    except OSError as exc:
        raise FileReadError(f"cannot read: {exc.strerror or exc}") from exc
    try:
        kind = _kind(os.fstat(fd).st_mode)  # it may have changed between stat and open
    except OSError as exc:
        os.close(fd)
        raise FileReadError(f"cannot read: {exc.strerror or exc}") from exc
    if kind is not None:
        os.close(fd)
        raise FileReadError(kind)
    return fd


def _read_fd(fd: int, cap: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while total <= cap:
        block = os.read(fd, min(1024 * 1024, cap + 1 - total))
        if not block:
            break
        chunks.append(block)
        total += len(block)
    return b"".join(chunks)


def read_file_bytes(path: Path, cap: int = MAX_TEXT_BYTES, *, gzip: bool = False) -> bytes:
    """Read a regular file of at most ``cap`` bytes (decompressed, for gzip); raise :class:`FileReadError`."""
    fd = open_regular(path)
    try:
        data = _read_fd(fd, cap)
    except OSError as exc:
        raise FileReadError(f"cannot read: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if len(data) > cap:
        raise FileReadError(f"is larger than {_human(cap)}; that is not a file the doctor should read")
    if gzip and data.startswith(GZIP_MAGIC):
        inflate = zlib.decompressobj(wbits=47)  # gzip or zlib header, detected
        try:
            data = inflate.decompress(data, cap + 1)
        except zlib.error as exc:
            raise FileReadError(f"is not a valid gzip file: {exc}") from exc
        if len(data) > cap:
            raise FileReadError(f"decompresses to more than {_human(cap)}; that is not a file the doctor should read")
    return data


def sniff_encoding(data: bytes) -> tuple[str, int]:
    """``(codec, BOM length)``: by byte-order mark, else UTF-16 recognised by NULs, else UTF-8."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    head = data[:512]
    if len(head) >= 4 and head.count(0) * 3 >= len(head):
        if head[1::2].count(0) * 2 >= len(head) // 2 and head[0::2].count(0) == 0:
            return "utf-16-le", 0
        if head[0::2].count(0) * 2 >= len(head) // 2 and head[1::2].count(0) == 0:
            return "utf-16-be", 0
    return "utf-8", 0


def decode_text(data: bytes, *, utf8_only: bool = False) -> str:
    """Decode text by its byte-order mark (UTF-8 without one); raise :class:`FileReadError` if it does not decode.

    ``utf8_only``: UTF-16/32 is an error that says so (for files that Triton or vLLM read as UTF-8, where
    decoding them here would report a file as fine that the server rejects).
    """
    codec, skip = sniff_encoding(data)
    if utf8_only and codec != "utf-8":
        name = codec.upper().removesuffix("-LE").removesuffix("-BE")
        raise FileReadError(f"is {name} text; Triton and vLLM read it as UTF-8: save it as UTF-8")
    try:
        return data[skip:].decode(codec)
    except UnicodeDecodeError as exc:
        bad = data[skip + exc.start : skip + exc.start + 1]
        name = "UTF-8" if codec == "utf-8" else codec.upper()
        raise FileReadError(f"not {name} text (byte {skip + exc.start}: {bad!r}); save it as UTF-8") from exc


def read_file_text(path: Path, cap: int = MAX_TEXT_BYTES, *, gzip: bool = False) -> str:
    """:func:`read_file_bytes` then :func:`decode_text`; raise :class:`FileReadError`."""
    return decode_text(read_file_bytes(path, cap, gzip=gzip))


@dataclass(frozen=True, slots=True)
class TextRead:
    """A text file's content, or why it could not be read."""

    text: str | None
    missing: bool = False
    error: str | None = None
    #: The file starts with a UTF-8 byte-order mark (stripped from ``text``). Python's ``json`` refuses it
    #: ("Unexpected UTF-8 BOM"): the vLLM backend's json.load of model.json and transformers' config.json do.
    bom: bool = False


@dataclass(frozen=True, slots=True)
class Listing:
    """A directory's entries, or why it could not be listed."""

    dirs: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    sizes: dict[str, int] = field(default_factory=dict)
    missing: bool = False
    not_dir: bool = False
    error: str | None = None


def read_text(path: Path, cap: int = MAX_TEXT_BYTES) -> TextRead:
    """Read a repository file (UTF-8, BOM tolerated) through the bounded reader; failures come back as values."""
    try:
        data = read_file_bytes(path, cap)
        return TextRead(decode_text(data, utf8_only=True), bom=data.startswith(b"\xef\xbb\xbf"))
    except FileReadError as exc:
        return TextRead(None, missing=exc.missing, error=None if exc.missing else exc.reason)


def list_dir(path: Path) -> Listing:
    """List a directory: sub-directories, files and file sizes (symlinks followed)."""
    try:
        entries = list(os.scandir(path))
    except FileNotFoundError:
        return Listing(missing=True)
    except NotADirectoryError:
        return Listing(not_dir=True)
    except OSError as exc:
        return Listing(error=f"cannot list: {exc.strerror or exc}")
    dirs: list[str] = []
    files: list[str] = []
    sizes: dict[str, int] = {}
    for entry in entries:
        try:
            if entry.is_dir():
                dirs.append(entry.name)
            else:
                files.append(entry.name)
                sizes[entry.name] = entry.stat().st_size
        except OSError:
            files.append(entry.name)
    return Listing(dirs=tuple(sorted(dirs)), files=tuple(sorted(files)), sizes=sizes)
