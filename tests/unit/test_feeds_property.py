"""Property: whatever text reaches the database, every feed document stays valid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicator.config.settings import Settings
from syndicator.feeds.build import render_all
from tests.feeds_support import T0, assert_valid, bulletin

VIETNAMESE = "ăâđêôơưáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵĐƯƠ"
HOSTILE = ["\x00", "\x0b", "\x1b", "\r\n", "\u2028", "\ufeff", "\ufffe", "\ud800", "]]>",
           "<script>alert(1)</script>", "&amp;", "&#0;", "<![CDATA[", "\u0323", "\U0001f600",
           "\"'", "Bcc: a@b", "</content>"]
text = st.text(alphabet=st.sampled_from(list(VIETNAMESE)) | st.characters(), max_size=60)
hostile = st.lists(text | st.sampled_from(HOSTILE), max_size=6).map("".join)
optional = st.none() | hostile
moment = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1),
                      timezones=st.just(UTC))


@st.composite
def bulletins(draw: st.DrawFn) -> list:
    out = []
    for i in range(1, draw(st.integers(1, 4)) + 1):
        category = draw(optional)
        out.append(bulletin(
            i, title=draw(hostile), summary=draw(optional), body_html=draw(optional),
            author=draw(optional), category=category,
            category_slug=draw(st.sampled_from(["a", "b-c", "x1"])) if category else None,
            source_id=f"{draw(hostile)}#{i}", published_at=draw(moment),
            changed_at=draw(moment),
            state=draw(st.sampled_from(["public", "public", "withdrawn"])),
            withdrawn_at=T0))
    return out


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=bulletins(), site=hostile, page=st.integers(1, 3))
def test_any_text_in_any_field_gives_valid_documents(items: list, site: str, page: int) -> None:
    config = Settings(site={"title": site or "Sở"}, feeds={"max_entries": page})
    files = render_all(config, items, T0 + timedelta(days=1))
    for name, data in files.items():
        assert_valid(name, data)
