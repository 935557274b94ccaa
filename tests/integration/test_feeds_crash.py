"""A writer killed with SIGKILL mid-write: readers only ever see a complete old or new file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from syndicator.feeds import writer

WRITER = """
import sys
from pathlib import Path
from syndicator.feeds.writer import write_if_changed
target = Path(sys.argv[1])
for n in range(100_000):
    write_if_changed(target, (b"A" if n % 2 else b"B") * 4_000_000)
"""


def test_readers_never_see_a_partial_file_and_kill_9_leaves_it_whole(tmp_path: Path) -> None:
    target = tmp_path / "all.atom"
    writer.write_if_changed(target, b"B" * 4_000_000)
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(target)])
    try:
        seen, reads, deadline = set(), 0, time.monotonic() + 60
        # read while the other process keeps replacing the file (bounded by the deadline)
        while time.monotonic() < deadline and (len(seen) < 2 or reads < 30):
            data = target.read_bytes()
            assert len(data) == 4_000_000 and data.count(data[:1]) == len(data)
            seen.add(data[:1])
            reads += 1
        assert seen == {b"A", b"B"}, "the writer made progress while we read"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=60)
    data = target.read_bytes()
    assert len(data) == 4_000_000 and data.count(data[:1]) == len(data)
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    for p in leftovers:  # a killed build may leave one; the next build sweeps it when old
        os.utime(p, (time.time() - 3600, time.time() - 3600))
    writer.sweep_temporary(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["all.atom"]
