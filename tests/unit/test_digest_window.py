"""Daily and weekly digests say their window as it is and date each bulletin by its
publication: across midnight, week and year boundaries, and after a first import."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, time
from html import unescape
from zoneinfo import ZoneInfo

import pytest

from syndicator.compose.composer import DigestComposer
from syndicator.config.settings import DigestSettings, Settings
from syndicator.models.message import Digest
from syndicator.planning import periods
from tests.support.digests import bulletin, parse, recipient

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
SITE = "Sở Nội vụ tỉnh Bắc Kạn"


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=HCM)


def last_complete(frequency: str, now: datetime, cfg: DigestSettings,
                  tz: ZoneInfo) -> tuple[datetime, datetime]:
    period = periods.last_complete(periods.schedule(cfg, tz), frequency, now)
    return period.start, period.end


def make(frequency: str, now: datetime, cfg: DigestSettings,
         published: tuple[datetime, ...]) -> Digest:
    start, end = last_complete(frequency, now, cfg, HCM)
    items = tuple(replace(bulletin(i), published_at=p.astimezone(UTC))
                  for i, p in enumerate(published, 1))
    return Digest(digest_id="w", frequency=frequency, period_start=start, period_end=end,
                  bulletins=items)


def read(d: Digest) -> tuple[str, str, str]:
    """(subject, plain text, HTML as text) of the message a subscriber gets."""
    msg = parse(DigestComposer(Settings()).message(d, recipient(), message_id="<w@x>",
                                                   date=d.period_end, eightbit=True))
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    shown = unescape(re.sub(r"<!--.*?-->|<[^>]+>", " ", html.split("<main", 1)[1],
                            flags=re.S))
    plain = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    return msg["Subject"], " ".join(plain.split()), " ".join(shown.split())


MORNING = DigestSettings()  # daily 07:00, weekly Monday 07:00
MIDNIGHT = DigestSettings(daily_at=time(0, 0), weekly_at=time(0, 0))
LATE = DigestSettings(daily_at=time(23, 30))

CASES = [
    # (frequency, config, now, line under the heading, phrase in the intro, subject end)
    ("daily", MORNING, local(2026, 12, 5, 8),
     "Tin đăng từ 07:00 ngày 04/12 đến 07:00 ngày 05/12/2026",
     "từ 07:00 ngày 04/12 đến 07:00 ngày 05/12/2026.",
     "tin mới từ 04/12 đến 05/12/2026"),
    ("daily", MIDNIGHT, local(2026, 12, 5, 8), "Tin đăng trong ngày 04/12/2026",
     "trong ngày 04/12/2026.", "tin mới ngày 04/12/2026"),
    ("daily", LATE, local(2027, 1, 2, 8),
     "Tin đăng từ 23:30 ngày 31/12/2026 đến 23:30 ngày 01/01/2027",
     "từ 23:30 ngày 31/12/2026 đến 23:30 ngày 01/01/2027.", "tin mới từ 31/12/2026 đến "
     "01/01/2027"),
    ("weekly", MORNING, local(2026, 12, 7, 9),
     "Tuần từ 07:00 Thứ Hai, 30/11 đến 07:00 Thứ Hai, 07/12/2026",
     "từ 07:00 ngày 30/11 đến 07:00 ngày 07/12/2026.", "tin mới từ 30/11 đến 07/12/2026"),
    ("weekly", MORNING, local(2027, 1, 4, 9),
     "Tuần từ 07:00 Thứ Hai, 28/12/2026 đến 07:00 Thứ Hai, 04/01/2027",
     "từ 07:00 ngày 28/12/2026 đến 07:00 ngày 04/01/2027.",
     "tin mới từ 28/12/2026 đến 04/01/2027"),
    ("weekly", MIDNIGHT, local(2026, 12, 7, 9),
     "Tuần từ Thứ Hai, 30/11 đến hết Chủ Nhật, 06/12/2026",
     "từ ngày 30/11 đến hết ngày 06/12/2026.", "tin mới từ 30/11 đến 06/12/2026"),
]


@pytest.mark.parametrize("frequency,cfg,now,line,intro,subject", CASES)
def test_the_window_is_said_as_it_is(frequency: str, cfg: DigestSettings, now: datetime,
                                     line: str, intro: str, subject: str) -> None:
    start, _ = last_complete(frequency, now, cfg, HCM)
    d = make(frequency, now, cfg, (start.astimezone(HCM).replace(second=1),))
    got_subject, plain, html = read(d)
    heading = "Bản tin hằng ngày" if frequency == "daily" else "Bản tin hằng tuần"
    for text in (plain, html):
        assert f"{heading} {line}" in text if text is html else line in text
        assert f"trân trọng gửi Quý cơ quan 1 tin đăng trên Cổng Thông tin điện tử {intro}" \
            in text
        assert "trong đó" not in text
    assert got_subject == f"Bản tin {SITE}: 1 {subject}"


def test_items_are_dated_by_their_publication() -> None:
    d = make("daily", local(2026, 12, 5, 8), MORNING,
             (local(2026, 12, 4, 23, 50), local(2026, 12, 5, 0, 10)))
    _, plain, html = read(d)
    for text in (plain, html):
        assert "Thứ Sáu, 04/12/2026, 23:50" in text and "Thứ Bảy, 05/12/2026, 00:10" in text


def test_a_first_import_says_which_bulletins_are_older() -> None:
    """The first import mails bulletins published before the window (up to
    ingest.notify_max_age_days): the intro says so, each keeps its own date."""
    d = make("daily", local(2026, 12, 5, 8), MORNING,
             (local(2026, 12, 4, 9, 0), local(2026, 11, 20, 14, 5), local(2026, 10, 30, 8, 0)))
    _, plain, html = read(d)
    for text in (plain, html):
        assert ("trân trọng gửi Quý cơ quan 3 tin mới có trên Cổng Thông tin điện tử từ 07:00 "
                "ngày 04/12 đến 07:00 ngày 05/12/2026, trong đó 2 tin đăng trước thời gian "
                "này; ngày đăng ghi ở từng tin.") in text
        assert "Thứ Sáu, 20/11/2026, 14:05" in text and "Thứ Sáu, 30/10/2026, 08:00" in text
