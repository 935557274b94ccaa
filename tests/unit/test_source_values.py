"""The one status test: when the portal shows a row, from its raw key columns."""

import unicodedata
from zoneinfo import ZoneInfo

import pytest

from syndicator.source.values import public_at

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def test_a_published_row_is_public_at_its_published_at_in_utc() -> None:
    when = public_at({"status": "published", "published_at": "2026-11-25 10:00"}, "published", TZ)
    assert when is not None and when.isoformat() == "2026-11-25T03:00:00+00:00"


def test_the_status_is_compared_on_one_line_in_nfc() -> None:
    status = unicodedata.normalize("NFD", " đã xuất\r\nbản ").encode("utf-8")
    values = {"status": status, "published_at": "2026-11-25 10:00"}
    assert public_at(values, "đã xuất bản", TZ) is not None


def test_other_statuses_are_not_public_whatever_their_dates() -> None:
    assert public_at({"status": "draft", "published_at": "hôm qua"}, "published", TZ) is None
    assert public_at({"published_at": "2026-11-25 10:00"}, "published", TZ) is None


def test_a_published_row_with_an_unreadable_date_raises() -> None:
    with pytest.raises(ValueError, match="hôm qua"):
        public_at({"status": "published", "published_at": "hôm qua"}, "published", TZ)
