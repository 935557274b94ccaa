"""Subscribers on real databases: add, remove, import all-or-nothing, export, consent history."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from syndicator.errors import UsageError
from syndicator.state import subscribers as store
from syndicator.state.schema import consent_events, subscribers
from syndicator.subscribers import service


def test_add_list_remove_keeps_history(state: sa.Engine) -> None:
    s = service.add(state, "VanThu@SoNoiVu.example", "Văn thư Sở", "daily",
                    ["Chuyển đổi số"], "large")
    assert (s.status, s.text_size, s.categories) == ("active", "large", ("Chuyển đổi số",))
    with pytest.raises(UsageError, match="already subscribed"):
        service.add(state, "vanthu@sonoivu.EXAMPLE", "", "weekly", [], "standard")
    removed = service.remove(state, "VANTHU@sonoivu.example")
    assert removed.status == "unsubscribed" and removed.unsubscribed_at is not None
    with state.connect() as conn:
        events = [h["event"] for h in store.history(conn, s.id)]
    assert events == ["subscribed", "unsubscribed"]
    again = service.add(state, "vanthu@sonoivu.example", "Văn thư Sở", "weekly", [], "standard")
    assert again.id == s.id and again.status == "active" and again.frequency == "weekly"


def test_remove_unknown_address_is_a_usage_error(state: sa.Engine) -> None:
    with pytest.raises(UsageError, match="no subscriber"):
        service.remove(state, "ai@do.example")


def test_import_with_bad_rows_imports_nothing_and_names_lines(state: sa.Engine) -> None:
    csv_text = ("email,name,frequency,categories,text_size\n"
                "a@so.example,Sở A,daily,,standard\n"
                "not-an-address,Sở B,daily,,standard\n"
                "c@so.example,Sở C,hourly,,standard\n"
                "A@SO.example,Sở A lần 2,weekly,,large\n"
                "e@so.example,Sở E,weekly,,tiny\n")
    with pytest.raises(UsageError) as info:
        service.import_csv(state, csv_text)
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
    report = service.import_csv(state, csv_text)
    assert (report.created, report.updated) == (2, 0)
    assert service.import_csv(state, csv_text).updated == 2  # idempotent: updates
    out = io.StringIO()
    service.export_csv(state, out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "email,name,frequency,categories,text_size,status"
    assert lines[1] == ('a@so.example,"Phòng Nội vụ, huyện Ba Bể",immediate,'
                        'Thi đua;Chuyển đổi số,large,active')
    assert lines[2] == "b@so.example,,weekly,,standard,active"
    with state.connect() as conn:
        sources = set(conn.scalars(sa.select(consent_events.c.source)))
    assert sources == {"import"}


def test_import_does_not_resubscribe_the_unsubscribed(state: sa.Engine) -> None:
    service.add(state, "a@so.example", "", "daily", [], "standard")
    service.remove(state, "a@so.example")
    report = service.import_csv(state, "email\na@so.example\n")
    assert report.created == 0 and "unsubscribed" in report.skipped[0]
    with state.connect() as conn:
        assert store.get_by_email(conn, "a@so.example").status == "unsubscribed"


def test_bad_header_is_refused(state: sa.Engine) -> None:
    with pytest.raises(UsageError, match="CSV header"):
        service.import_csv(state, "mail,ten\nx@y.example,z\n")


def test_email_unique_case_insensitively_in_the_database(state: sa.Engine) -> None:
    service.add(state, "a@so.example", "", "daily", [], "standard")
    with pytest.raises(sa.exc.IntegrityError):
        with state.begin() as conn:
            conn.execute(subscribers.insert().values(
                email="A@so.example", email_key="a@so.example", frequency="daily",
                categories=[], status="active", consent_source="x",
                created_at=sa.func.now(), updated_at=sa.func.now()))
