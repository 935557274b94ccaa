"""Writes feed files atomically, and only when their bytes change (stable ETags, no torn reads)."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

_TMP_PREFIX = ".tmp-"
_STALE_TMP_SECONDS = 600


def write_if_changed(path: Path, data: bytes) -> bool:
    """True when the file was (re)written; a reader sees the old bytes or the new, never a mix."""
    if _same(path, data):
        return False
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_TMP_PREFIX + path.name + ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a web server in front must read it
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _sync_dir(path.parent)
    return True


def remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def sweep_temporary(directory: Path) -> int:
    """Removes temporary files a killed build left behind (old ones only: another may be live)."""
    removed = 0
    cutoff = time.time() - _STALE_TMP_SECONDS
    for p in directory.glob(_TMP_PREFIX + "*"):
        with contextlib.suppress(OSError):
            if p.stat().st_mtime < cutoff:
                p.unlink()
                removed += 1
    return removed


def _same(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except FileNotFoundError:
        return False


def _sync_dir(directory: Path) -> None:
    """Makes the rename durable; some file systems refuse fsync on a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
