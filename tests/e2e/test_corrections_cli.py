"""Corrections as an operator sees them with the demo: `poll`, `deliver`, an edit on the
portal, `poll` and `deliver` again write one `Đính chính:` .eml per recipient, then none."""

from __future__ import annotations

import email
import email.policy
import sqlite3
from pathlib import Path

from tests.e2e.test_cli import run


def subjects(mail: Path) -> list[str]:
    return sorted(str(email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                      ["Subject"]) for p in mail.glob("*.eml"))


def test_demo_correction_reaches_the_immediate_subscriber(tmp_path: Path) -> None:
    for verb in (("db", "upgrade"), ("demo",), ("poll",), ("deliver",)):
        done = run(tmp_path, *verb)
        assert done.returncode == 0, (verb, done.stderr)
    mail = tmp_path / "var" / "mail"
    before = subjects(mail)
    assert before and not any(s.startswith("Đính chính") for s in before)
    portal = sqlite3.connect(tmp_path / "var" / "portal.db")
    with portal:
        portal.execute("UPDATE bulletins SET title = title || ' (đính chính)', "
                       "updated_at = datetime(updated_at, '+1 minute') WHERE id = 1001")
    portal.close()
    for verb in (("poll",), ("deliver",), ("poll",), ("deliver",)):
        done = run(tmp_path, *verb)
        assert done.returncode == 0, (verb, done.stderr)
    added = [s for s in subjects(mail) if s not in before]
    assert added == ["Đính chính: Hướng dẫn tổng kết phong trào thi đua và khen thưởng năm "
                     "2023 (đính chính)"]
