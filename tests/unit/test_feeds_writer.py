"""The atomic writer: rewrite only on change, never a partial file, no temporary left over."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from syndicator.feeds import writer


def test_writes_then_skips_equal_bytes(tmp_path: Path) -> None:
    target = tmp_path / "all.atom"
    assert writer.write_if_changed(target, b"<feed/>")
    stamp = target.stat().st_mtime_ns
    assert not writer.write_if_changed(target, b"<feed/>")
    assert target.stat().st_mtime_ns == stamp
    assert writer.write_if_changed(target, b"<feed>2</feed>")
    assert target.read_bytes() == b"<feed>2</feed>"
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)


class Boom(Exception):
    pass


def test_a_crash_mid_write_keeps_the_old_file_and_leaves_no_temporary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "all.rss"
    writer.write_if_changed(target, b"old complete bytes")
    real_fsync = os.fsync

    def crash(fd: int) -> None:  # the new bytes are half on disk when the process "dies"
        raise Boom("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(Boom):
        writer.write_if_changed(target, b"new bytes " * 10_000)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert target.read_bytes() == b"old complete bytes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.rss"]


def test_a_crash_at_rename_keeps_the_old_file(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "all.json"
    writer.write_if_changed(target, b"{}")

    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        writer.write_if_changed(target, b'{"x": 1}')
    assert target.read_bytes() == b"{}"
    assert [p.name for p in tmp_path.iterdir()] == ["all.json"]


def test_only_old_temporaries_of_killed_builds_are_swept(tmp_path: Path) -> None:
    old = tmp_path / ".tmp-all.atom.abc"
    fresh = tmp_path / ".tmp-all.rss.def"
    other = tmp_path / "notes.txt"
    for p in (old, fresh, other):
        p.write_bytes(b"x")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    assert writer.sweep_temporary(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name, other.name]
