"""Compressed copies of each feed file, made once per file version and kept next to it."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from syndicator.feeds import writer

# (Content-Encoding, file suffix). gzip only: brotli saved another 10 % at about 100 times
# the CPU and needs a third-party nginx module (docs/benchmarks.md).
ENCODINGS: tuple[tuple[str, str], ...] = (("gzip", ".gz"),)
SUFFIXES = tuple(suffix for _, suffix in ENCODINGS)


def compress(data: bytes) -> bytes:
    """Level 9 and a zero timestamp: the same bytes give the same file, so its ETag holds."""
    return gzip.compress(data, compresslevel=9, mtime=0)


def decompress(data: bytes) -> bytes | None:
    """The identity bytes, or None when `data` is not a whole gzip stream."""
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        return None


def variant_path(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def write(path: Path, data: bytes) -> bool:
    """Writes the compressed copies, then the file (True when the file itself changed).

    Copies first: a reader that sees the new file finds copies of the same bytes next to it
    (the route checks that anyway), and nginx's gzip_static never serves an older version
    than the file for longer than the build takes. An unchanged file whose copy is missing
    or stale (an older build, a crash between the two renames) gets its copy back.
    """
    for _, suffix in ENCODINGS:
        copy = variant_path(path, suffix)
        if not _holds(copy, data):
            writer.write_if_changed(copy, compress(data))
    return writer.write_if_changed(path, data)


def remove(path: Path) -> None:
    """The file and its copies (copies last: never a copy without its file to check it)."""
    writer.remove(path)
    for suffix in SUFFIXES:
        writer.remove(variant_path(path, suffix))


def base_name(name: str) -> str | None:
    """`all.atom.gz` -> `all.atom`; None for a name that is not a compressed copy."""
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return None


def _holds(copy: Path, data: bytes) -> bool:
    try:
        return decompress(copy.read_bytes()) == data
    except FileNotFoundError:
        return False
