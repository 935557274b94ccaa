"""The operator's view of bad portal rows: `poll` exits 0, `source problems` and `check` list
the rows skipped now."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.e2e.test_cli import run


def test_poll_exits_0_and_the_skipped_rows_are_listed(tmp_path: Path) -> None:
    assert run(tmp_path, "demo").returncode == 0
    with sqlite3.connect(tmp_path / "var" / "portal.db") as conn:
        conn.execute("INSERT INTO bulletins (id, title, url, published_at, status) SELECT "
                     "9001, CAST(X'4869FF' AS TEXT), 'https://p.example/9001', "
                     "published_at, status FROM bulletins WHERE status = 'published' LIMIT 1")
    polled = run(tmp_path, "poll")
    assert polled.returncode == 0, polled.stderr
    assert "11 new" in polled.stdout and "1 rows skipped" in polled.stdout
    assert "'9001': title: is not valid UTF-8 text" in polled.stderr

    listed = run(tmp_path, "source", "problems", "--json")
    assert listed.returncode == 0, listed.stderr
    [problem] = json.loads(listed.stdout)
    assert (problem["source_id"], problem["field"], problem["reason"]) == (
        "9001", "title", "encoding")
    text = run(tmp_path, "source", "problems")
    assert text.stdout.startswith("9001\ttitle\tencoding\t") and "1 portal row" in text.stderr

    checked = run(tmp_path, "check")
    assert "ok   source rows: 1 skipped now (1 encoding)" in checked.stdout

    with sqlite3.connect(tmp_path / "var" / "portal.db") as conn:
        conn.execute("UPDATE bulletins SET title = 'Đã sửa' WHERE id = 9001")
    assert run(tmp_path, "poll").returncode == 0
    assert json.loads(run(tmp_path, "source", "problems", "--json").stdout) == []
