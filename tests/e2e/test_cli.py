"""The CLI as an operator runs it: exit codes, one-line errors, clean stdout for programs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(cwd: Path, *args: str, env: dict[str, str] | None = None,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATOR_")}
    full_env |= env or {}
    return subprocess.run([sys.executable, "-m", "syndicator", *args], cwd=cwd, env=full_env,
                          input=stdin, capture_output=True, text=True, timeout=120)


def test_demo_poll_and_json_listing(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    first = run(tmp_path, "demo")
    assert first.returncode == 0 and "13 bulletins and 3 subscribers added" in first.stdout
    again = run(tmp_path, "demo")
    assert "0 bulletins and 0 subscribers added" in again.stdout
    polled = run(tmp_path, "poll")
    assert polled.returncode == 0, polled.stderr
    assert "11 new" in polled.stdout  # 13 less the draft and the scheduled one
    listed = run(tmp_path, "subscribers", "list", "--json")
    rows = json.loads(listed.stdout)  # stdout holds the JSON alone
    assert {r["frequency"] for r in rows} == {"immediate", "daily", "weekly"}
    for r in rows:
        assert {"email", "name", "frequency", "categories", "text_size", "status",
                "created_at"} <= r.keys()
        assert r["status"] == "active"
    assert [r["text_size"] for r in rows if r["frequency"] == "daily"] == ["large"]


def test_bad_config_value_is_one_line_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("smtp:\n  port: năm trăm\n")
    result = run(tmp_path, "--config", str(cfg), "poll")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("syndicator: config error: smtp.port:")
    env_result = run(tmp_path, "poll", env={"SYNDICATOR_POLL__INTERVAL_SECONDS": "-5"})
    assert env_result.returncode == 2 and "poll.interval_seconds" in env_result.stderr


def test_unmigrated_state_says_what_to_run(tmp_path: Path) -> None:
    result = run(tmp_path, "subscribers", "list")
    assert result.returncode == 1
    assert "syndicator db upgrade" in result.stderr and "Traceback" not in result.stderr


def test_add_remove_and_csv_import_errors(tmp_path: Path) -> None:
    run(tmp_path, "db", "upgrade")
    added = run(tmp_path, "subscribers", "add", "vp@ubnd.example", "--name", "Văn phòng",
                "--frequency", "weekly", "--category", "chuyen-doi-so", "--large-text")
    assert added.returncode == 0, added.stderr
    bad_email = run(tmp_path, "subscribers", "add", "khong-hop-le")
    assert bad_email.returncode == 2 and "email" in bad_email.stderr
    csv = tmp_path / "ds.csv"
    csv.write_text("email,name,frequency\nx@so.example,X,daily\nsai,Y,daily\n", encoding="utf-8")
    imported = run(tmp_path, "subscribers", "import", str(csv))
    assert imported.returncode == 2 and "line 3: email" in imported.stderr
    exported = run(tmp_path, "subscribers", "export")
    assert exported.stdout.splitlines()[1:] == [
        "vp@ubnd.example,Văn phòng,weekly,chuyen-doi-so,large"]
    removed = run(tmp_path, "subscribers", "remove", "VP@ubnd.example")
    assert removed.returncode == 0
    listed = json.loads(run(tmp_path, "subscribers", "list", "--json").stdout)
    assert listed[0]["status"] == "unsubscribed"


def test_missing_mapped_column_is_named(tmp_path: Path) -> None:
    run(tmp_path, "demo")
    result = run(tmp_path, "poll", env={"SYNDICATOR_SOURCE__COLUMNS__AUTHOR": "nguoi_viet"})
    assert result.returncode == 2
    assert "no column 'nguoi_viet' (source.columns.author)" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_source_is_one_line(tmp_path: Path) -> None:
    run(tmp_path, "db", "upgrade")
    env = {"SYNDICATOR_SOURCE__URL": "postgresql://portal:secret-pw@127.0.0.1:9/portal"}
    result = run(tmp_path, "poll", env=env)
    assert result.returncode == 1
    assert "source database" in result.stderr and "unreachable" in result.stderr
    assert "secret-pw" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [("check",)])
def test_check_reports_each_part(tmp_path: Path, args: tuple[str, ...]) -> None:
    run(tmp_path, "demo")
    result = run(tmp_path, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok   state database" in result.stdout and "ok   source database" in result.stdout
