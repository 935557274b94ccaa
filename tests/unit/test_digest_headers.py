"""Subject and List-Id as transmitted: encoded words split after spaces, no doubled prefix."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from syndicator.compose import mime
from syndicator.compose.composer import DigestComposer
from syndicator.config.settings import Settings
from tests.support.digests import bulletin, digest, parse, recipient

DATE = datetime(2023, 11, 27, 0, 5, tzinfo=UTC)
MID = "<h@syndicator.example>"
LONG_TITLE = ("Thông báo kết quả tuyển dụng công chức Sở Nội vụ tỉnh Bắc Kạn năm 2023 "
              "và lịch nhận hồ sơ bổ sung của các cơ quan, đơn vị")


def encoded_words(header_line: bytes) -> list[str]:
    """The decoded text of each RFC 2047 word of one (unfolded) header, in order."""
    return [base64.b64decode(w).decode("utf-8")
            for w in re.findall(rb"=\?utf-8\?b\?([A-Za-z0-9+/=]+)\?=", header_line)]


def header_of(raw: bytes, name: bytes) -> bytes:
    head = raw.split(b"\r\n\r\n", 1)[0]
    unfolded = re.sub(rb"\r\n[ \t]", b" ", head)
    return next(line for line in unfolded.split(b"\r\n") if line.startswith(name + b": "))


def test_subject_words_end_after_a_space() -> None:
    d = digest(bulletins=(bulletin(1, title=LONG_TITLE),), frequency="immediate")
    raw = DigestComposer(Settings()).message(d, recipient(), message_id=MID, date=DATE)
    words = encoded_words(header_of(raw, b"Subject"))
    assert len(words) > 2
    assert all(w.endswith(" ") for w in words[:-1]), words  # never "…tin S" | "ở Nội vụ…"
    assert "".join(words) == parse(raw)["Subject"]
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 78


@hsettings(max_examples=200, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=300))
def test_any_subject_decodes_exactly_within_78_columns(text: str) -> None:
    line = mime.header("Subject", text)
    assert max(len(x) for x in line.split(b"\r\n")) <= 78
    from syndicator.models.text import one_line
    words = encoded_words(re.sub(rb"\r\n[ \t]", b" ", line))
    if words:
        assert "".join(words) == one_line(text)
        # A cut falls after a space whenever the word before it had one to end on.
        for word, following in zip(words, words[1:], strict=False):
            if " " in word.strip() and not word.endswith(" "):
                assert len(word.encode()) + len(following.split(" ")[0].encode()) > 45


def test_list_id_does_not_double_the_prefix() -> None:
    s = Settings(public_base_url="https://bantin.sonoivu.backan.example")
    raw = DigestComposer(s).message(digest(1), recipient(), message_id=MID, date=DATE)
    assert parse(raw)["List-Id"].endswith("<bantin.sonoivu.backan.example>")
    other = Settings(public_base_url="https://sonoivu.backan.example")
    raw = DigestComposer(other).message(digest(1), recipient(), message_id=MID, date=DATE)
    assert parse(raw)["List-Id"].endswith("<bantin.sonoivu.backan.example>")
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 78
