"""`syndicator feeds build` as an operator runs it, on the embedded demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.feeds_support import assert_valid


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "syndicator", "--config",
                           str(REPO / "config.yaml"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)


def test_feeds_build_writes_every_feed_once(tmp_path: Path) -> None:
    for verb in ("demo", "poll"):
        assert run(tmp_path, verb).returncode == 0
    first = run(tmp_path, "feeds", "build")
    assert first.returncode == 0, first.stderr
    out = tmp_path / "var" / "feeds"
    names = sorted(p.name for p in out.iterdir() if p.suffix != ".gz")
    assert sorted(p.name for p in out.glob("*.gz")) == [f"{n}.gz" for n in names]
    assert {"all.atom", "all.rss", "all.json", "index.opml", "thi-dua-khen-thuong.atom",
            "chuyen-doi-so.json"} <= set(names)
    assert f"feeds: {len(names)} written, 0 unchanged" in first.stdout
    for name in names:
        assert_valid(name, (out / name).read_bytes())
    second = run(tmp_path, "feeds", "build")
    assert f"feeds: 0 written, {len(names)} unchanged" in second.stdout


def test_feeds_build_on_an_unmigrated_database_is_one_line_and_exit_1(tmp_path: Path) -> None:
    result = run(tmp_path, "feeds", "build")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("syndicator: ")
    assert "Traceback" not in result.stderr
    assert "db upgrade" in result.stderr
