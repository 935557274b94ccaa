"""A full disk under the state database: one line saying what failed and that nothing was
lost, exit 1, and the database still holds what it held. The disk is a real 2 MB tmpfs,
mounted in a private mount namespace (`unshare -rm`: no root needed where user namespaces
are allowed)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.daemon import clean_env

SCRIPT = r"""
set -u
mount -t tmpfs -o size=2m tmpfs "$DISK"
cd "$DISK"
"$PY" -m syndicator db upgrade >/dev/null 2>&1 || exit 90
"$PY" -m syndicator subscribers add first@ubnd.example.gov.vn >/dev/null 2>&1 || exit 91
free=$(df -k . | tail -1 | awk '{print $4}')
dd if=/dev/zero of=filler bs=4k count=$(( free / 4 - 30 )) 2>/dev/null
"$PY" -m syndicator subscribers import "$CSV" >"$LOGS/out" 2>"$LOGS/err"
echo "rc=$?"; cat "$LOGS/err"
rm filler
"$PY" -m syndicator subscribers list 2>/dev/null
"$PY" -c "import sqlite3; c = sqlite3.connect('state.db')
print(c.execute('PRAGMA integrity_check').fetchone()[0])"
"""


def test_a_full_disk_is_one_line_and_loses_nothing(tmp_path: Path) -> None:
    if shutil.which("unshare") is None or subprocess.run(
            ["unshare", "-rm", "true"], capture_output=True).returncode != 0:
        pytest.skip("no user namespaces here to mount a small tmpfs")
    disk = tmp_path / "disk"
    disk.mkdir()
    csv = tmp_path / "many.csv"
    rows = [f"u{i}@ubnd.example.gov.vn,{'Ủy ban nhân dân xã ' * 9},daily,,standard"
            for i in range(3000)]
    csv.write_text("email,name,frequency,categories,text_size\n" + "\n".join(rows) + "\n")
    env = clean_env(database__url=f"sqlite:///{disk}/state.db") | {
        "DISK": str(disk), "PY": sys.executable, "CSV": str(csv), "LOGS": str(tmp_path),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(["unshare", "-rm", "sh", "-c", SCRIPT], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stdout + done.stderr
    assert lines[0] == "rc=1", done.stdout
    error = lines[1]
    assert error.startswith("syndicator: subscribers import: the state database could not "
                            "write, its disk is full"), error
    assert "nothing was lost" in error and "Traceback" not in done.stdout
    assert lines[2].startswith("first@ubnd.example.gov.vn\t")  # what it held, and only that
    assert len(lines) == 4 and lines[3] == "ok"  # the file is whole
