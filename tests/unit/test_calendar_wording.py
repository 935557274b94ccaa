"""A daily digest that covers days off says which days it covers (subject, heading, intro);
an ordinary one is dated by its day as before."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from syndicator.compose.composer import DigestComposer
from syndicator.compose.dates import label
from syndicator.config.settings import Settings
from tests.support.digests import bulletin, parse, recipient

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=HCM)


def read(start: datetime, end: datetime) -> tuple[str, str]:
    from syndicator.models.message import Digest

    items = tuple(replace(bulletin(i), published_at=(end.astimezone(UTC))) for i in (1, 2))
    d = Digest(digest_id="gap", frequency="daily", period_start=start.astimezone(UTC),
               period_end=end.astimezone(UTC), bulletins=items)
    msg = parse(DigestComposer(Settings()).message(d, recipient(), message_id="<g@x>",
                                                   date=d.period_end))
    plain = msg.get_body(("plain",))
    assert plain is not None
    return msg["Subject"], " ".join(plain.get_content().split())


def test_the_digest_after_tet_names_the_days_it_covers() -> None:
    subject, text = read(local(2026, 2, 13, 7), local(2026, 2, 23, 7))
    assert subject.endswith("2 tin mới từ 13/02 đến 23/02/2026")
    assert "Tin đăng từ 07:00 ngày 13/02 đến 07:00 ngày 23/02/2026" in text
    lab = label("daily", local(2026, 2, 13, 7), local(2026, 2, 23, 7), HCM)
    assert (lab.first.day, lab.last.day) == (13, 23)


def test_across_the_new_year_both_years_are_written() -> None:
    subject, _ = read(local(2026, 12, 31, 7), local(2027, 1, 4, 7))
    assert subject.endswith("từ 31/12/2026 đến 04/01/2027")


def test_an_ordinary_daily_digest_says_its_window() -> None:
    subject, text = read(local(2026, 2, 12, 7), local(2026, 2, 13, 7))
    assert subject.endswith("2 tin mới từ 12/02 đến 13/02/2026")
    assert "Tin đăng từ 07:00 ngày 12/02 đến 07:00 ngày 13/02/2026" in text
