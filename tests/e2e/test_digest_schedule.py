"""`syndicator digest schedule`: the days digests go out and what each covers, as an operator
reads it and as a program does (--json), on the working calendar and without it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli import run

WORKING = {"SYNDICATOR_DIGESTS__WORKING_DAYS_ONLY": "true"}


def test_tet_on_the_working_calendar_as_text(tmp_path: Path) -> None:
    done = run(tmp_path, "digest", "schedule", "--from", "2026-02-12", "--days", "13",
               env=WORKING)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == ("daily digests at 07:00 Asia/Ho_Chi_Minh, on Vietnam's working days "
                        "(digests.working_days_only): 4")
    assert lines[1:5] == [
        "  Thu 12/02/2026 07:00  covers Wed 11/02 07:00 -> Thu 12/02 07:00",
        "  Fri 13/02/2026 07:00  covers Thu 12/02 07:00 -> Fri 13/02 07:00",
        "  Mon 23/02/2026 07:00  covers Fri 13/02 07:00 -> Mon 23/02 07:00 (10 days; off: "
        "14-15/02 weekend, 16/02 Giao thừa Tết Nguyên Đán, 17/02 Tết Nguyên Đán, "
        "18/02 Mùng hai Tết Nguyên Đán, 19/02 Mùng ba Tết Nguyên Đán, "
        "20/02 Mùng bốn Tết Nguyên Đán, 21-22/02 weekend)",
        "  Tue 24/02/2026 07:00  covers Mon 23/02 07:00 -> Tue 24/02 07:00",
    ]
    assert lines[5] == "weekly digests every Monday at 07:00 Asia/Ho_Chi_Minh: 2"
    assert lines[6].endswith("(goes out on a day off: Giao thừa Tết Nguyên Đán)")


def test_json_names_the_make_up_saturday_and_the_days_off(tmp_path: Path) -> None:
    done = run(tmp_path, "digest", "schedule", "--from", "2026-08-21", "--days", "14",
               "--frequency", "daily", "--json", env=WORKING)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)  # stdout holds the JSON alone
    assert [r["date"] for r in rows] == [
        "2026-08-21", "2026-08-22", "2026-08-24", "2026-08-25", "2026-08-26", "2026-08-27",
        "2026-08-28", "2026-09-03"]
    national = rows[-1]
    assert national["covers_from"] == "2026-08-28T07:00:00+07:00"
    assert national["sends_at"] == national["covers_until"] == "2026-09-03T07:00:00+07:00"
    assert [(d["date"], d["kind"]) for d in national["days_off"]] == [
        ("2026-08-29", "weekend"), ("2026-08-30", "weekend"), ("2026-08-31", "holiday"),
        ("2026-09-01", "holiday"), ("2026-09-02", "holiday")]
    assert {d["name"] for d in national["days_off"][3:]} == {"Quốc khánh"}


def test_without_the_calendar_every_day_and_bad_input(tmp_path: Path) -> None:
    done = run(tmp_path, "digest", "schedule", "--from", "2026-02-14", "--days", "2",
               "--frequency", "daily")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "daily digests at 07:00 Asia/Ho_Chi_Minh, every day: 2",
        "  Sat 14/02/2026 07:00  covers Fri 13/02 07:00 -> Sat 14/02 07:00",
        "  Sun 15/02/2026 07:00  covers Sat 14/02 07:00 -> Sun 15/02 07:00",
    ]
    bad = run(tmp_path, "digest", "schedule", "--from", "14/02/2026")
    assert bad.returncode == 2 and "--from" in bad.stderr
