"""Digest messages parsed back as a mail client would: headers, parts, personal values."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import EmailMessage

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from syndicator.compose.composer import DigestComposer
from syndicator.config.settings import Settings
from syndicator.errors import PermanentError
from syndicator.models.address import UnsendableAddress
from tests.support.digests import BASE, digest, parse, recipient

DATE = datetime(2023, 11, 27, 0, 5, tzinfo=UTC)
MID = "<d42.7@syndicator.example>"


@pytest.fixture(scope="module")
def composer() -> DigestComposer:
    return DigestComposer(Settings())


def parts(msg: EmailMessage) -> tuple[str, str]:
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def rfc2047_display_name(raw: bytes, name: str) -> str:
    """The display name as an RFC 2047 decoder (email.header) reads it."""
    unfolded = re.sub(rb"\r\n[ \t]", b" ", head_of(raw)).decode("ascii")
    value = next(line.split(": ", 1)[1] for line in unfolded.split("\r\n")
                 if line.startswith(name + ": "))
    words = value.rsplit(" <", 1)[0]
    return str(make_header(decode_header(words)))


def head_of(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


def test_headers_are_ascii_and_decode_to_vietnamese(composer: DigestComposer) -> None:
    raw = composer.message(digest(5), recipient(), message_id=MID, date=DATE)
    assert raw.isascii()  # 7-bit all through: QP bodies, RFC 2047 headers
    assert b"\n" not in raw.replace(b"\r\n", b"")
    msg = parse(raw)
    assert msg["Subject"] == "Bản tin Sở Nội vụ tỉnh Bắc Kạn: 5 tin mới từ 26/11 đến 27/11/2023"
    assert msg["From"].addresses[0].display_name == "Sở Nội vụ tỉnh Bắc Kạn"
    assert msg["From"].addresses[0].addr_spec == "bantin@sonoivu.backan.example"
    assert msg["To"].addresses[0].display_name == "Văn phòng UBND huyện Ba Bể"
    assert msg["To"].addresses[0].addr_spec == "vanphong1@ubnd-babe.example"
    assert msg["Message-ID"] == MID
    assert msg["Date"].datetime == DATE
    assert msg["MIME-Version"] == "1.0"
    assert msg["Auto-Submitted"] == "auto-generated"  # no vacation replies (RFC 3834)
    assert msg.get_content_type() == "multipart/alternative"
    assert not msg.defects and all(not p.defects for p in msg.walk())


def test_list_headers_for_one_click_unsubscribe(composer: DigestComposer) -> None:
    msg = parse(composer.message(digest(2), recipient(3), message_id=MID, date=DATE))
    assert msg["List-Unsubscribe"] == f"<{BASE}/unsubscribe/tok-unsub-3.abc_DEF>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Id"].endswith("<bantin.127.0.0.1>")
    assert "Sở Nội vụ" in msg["List-Id"]
    assert msg["Reply-To"] is None


def test_mailto_reply_to_and_list_id_when_configured() -> None:
    s = Settings(mail={"unsubscribe_mailto": "huy@sonoivu.backan.example",
                       "reply_to": "vanthu@sonoivu.backan.example",
                       "list_id": "bantin.sonoivu.backan.gov.vn"})
    msg = parse(DigestComposer(s).message(digest(1), recipient(), message_id=MID, date=DATE))
    unsub = msg["List-Unsubscribe"]
    assert unsub.startswith(f"<{BASE}/unsubscribe/")
    assert "<mailto:huy@sonoivu.backan.example?subject=unsubscribe>" in unsub
    assert msg["Reply-To"] == "vanthu@sonoivu.backan.example"
    assert msg["List-Id"] == "<bantin.sonoivu.backan.gov.vn>"


def test_both_parts_carry_the_same_content_and_personal_values(
        composer: DigestComposer) -> None:
    d, r = digest(5), recipient(7)
    plain, html = parts(parse(composer.message(d, r, message_id=MID, date=DATE)))
    for b in d.bulletins:
        assert b.title in plain and b.title in html
        assert b.url in plain and b.url in html
    for value in (r.name, r.email, r.unsubscribe_url, r.preferences_url):
        assert value in plain
        assert value.replace("&", "&amp;") in html
    assert r.switch_size_url in plain and "?size=other" in html
    assert "Thứ Hai, 27/11/2023" in plain and "Thứ Hai, 27/11/2023" in html
    assert f"{BASE}/digests/{d.digest_id}" in html and f"{BASE}/digests/{d.digest_id}" in plain
    assert 'lang="vi"' in html


def test_no_placeholder_survives_and_recipients_do_not_leak(composer: DigestComposer) -> None:
    d = digest(3)
    one = composer.message(d, recipient(1, name="Phòng Nội vụ huyện Chợ Đồn"),
                           message_id=MID, date=DATE)
    two = composer.message(d, recipient(2, name="Trường THPT Bắc Kạn"),
                           message_id=MID, date=DATE)
    p1, h1 = parts(parse(one))
    p2, h2 = parts(parse(two))
    assert "tok-unsub-1" in p1 and "tok-unsub-1" not in p2 + h2
    assert "Chợ Đồn" in h1 and "Chợ Đồn" not in h2 and "THPT" in p2
    assert not re.search(r"zq[0-9a-f]{16}", p1 + h1 + p2 + h2)


def test_same_inputs_give_the_same_bytes_in_any_process() -> None:
    a = DigestComposer(Settings()).message(digest(4), recipient(), message_id=MID, date=DATE)
    b = DigestComposer(Settings()).message(digest(4), recipient(), message_id=MID, date=DATE)
    assert a == b


def test_quoted_printable_lines_stay_short(composer: DigestComposer) -> None:
    long_name = ("Ủy ban nhân dân xã Nghiên Loan, huyện Pác Nặm, tỉnh Bắc Kạn " * 3).strip()
    raw = composer.message(digest(6), recipient(name=long_name), message_id=MID, date=DATE)
    assert rfc2047_display_name(raw, "To") == long_name
    body = raw.split(b"\r\n\r\n", 1)[1]
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    assert max(len(line) for line in head_of(raw).split(b"\r\n")) <= 78


@hsettings(max_examples=60, deadline=None)
@given(name=st.text(max_size=120))
def test_any_name_is_encoded_exactly_in_every_place(name: str) -> None:
    composer = _shared()
    raw = composer.message(digest(1), recipient(name=name), message_id=MID, date=DATE)
    msg = parse(raw)
    from syndicator.models.text import one_line
    shown = one_line(name)
    plain, html = parts(msg)
    if shown:
        # RFC 2047 decoders read the name exactly; the stdlib's address parser keeps the
        # folding space between encoded words (a quirk), so compare it without spaces.
        assert rfc2047_display_name(raw, "To") == shown
        assert "".join(msg["To"].addresses[0].display_name.split()) == "".join(shown.split())
        assert f"Kính gửi: {shown}," in plain
    assert len(msg.keys()) == len(parse(composer.message(
        digest(1), recipient(), message_id=MID, date=DATE)).keys())
    body = raw.split(b"\r\n\r\n", 1)[1]
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    assert "<" not in html.split("Kính gửi: ", 1)[1].split(",</p>", 1)[0] or not shown


_COMPOSER: list[DigestComposer] = []


def _shared() -> DigestComposer:
    if not _COMPOSER:
        _COMPOSER.append(DigestComposer(Settings()))
    return _COMPOSER[0]


def test_large_text_recipient_gets_the_large_variant(composer: DigestComposer) -> None:
    plain, html = parts(parse(composer.message(digest(2), recipient(large=True),
                                               message_id=MID, date=DATE)))
    assert "font-size: 24px" in html and "font-size: 18px" not in html
    assert "Chuyển về thư cỡ chữ tiêu chuẩn" in plain + html
    _, std = parts(parse(composer.message(digest(2), recipient(), message_id=MID, date=DATE)))
    assert "font-size: 18px" in std and "Nhận thư cỡ chữ lớn" in std


@pytest.mark.parametrize("frequency,count,expected", [
    ("weekly", 3, "Bản tin Sở Nội vụ tỉnh Bắc Kạn: 3 tin mới từ 20/11 đến 27/11/2023"),
    ("daily", 4, "Bản tin Sở Nội vụ tỉnh Bắc Kạn: 4 tin mới từ 26/11 đến 27/11/2023"),
    ("immediate", 2, "2 tin mới ngày 27/11/2023 từ Sở Nội vụ tỉnh Bắc Kạn"),
    ("immediate", 1, ("Tin mới ngày 27/11/2023: "
                      "Thông báo số 1 về tuyển dụng công chức tỉnh Bắc Kạn năm 2023")),
])
def test_subjects_name_the_period_and_the_count(composer: DigestComposer, frequency: str,
                                                count: int, expected: str) -> None:
    d = digest(count, frequency=frequency)
    assert composer.subject(d) == expected
    assert parse(composer.message(d, recipient(), message_id=MID, date=DATE))["Subject"] \
        == expected


def test_confirmation_mail(composer: DigestComposer) -> None:
    url = f"{BASE}/confirm/tok-confirm.123"
    msg = parse(composer.confirmation(recipient(large=True), confirm_url=url,
                                      message_id=MID, date=DATE))
    plain, html = parts(msg)
    assert msg["Subject"] == "Xác nhận đăng ký nhận bản tin Sở Nội vụ tỉnh Bắc Kạn"
    assert url in plain and url in html and "font-size: 24px" in html
    assert msg["List-Unsubscribe"] is None


@pytest.mark.parametrize("kind", ["unsubscribed", "preferences_changed"])
def test_notices(composer: DigestComposer, kind: str) -> None:
    msg = parse(composer.notice(recipient(), kind, message_id=MID, date=DATE))
    plain, html = parts(msg)
    assert "vanphong1@ubnd-babe.example" in plain and "vanphong1@ubnd-babe.example" in html
    assert msg["Subject"].startswith("Đã ")


@pytest.mark.parametrize("bad", ["no-at-sign", "a b@example.org", "x@exa mple.org",
                                 "x@example.org\r\nBcc: evil@example.org", "ý@example.org"])
def test_unsendable_addresses_are_permanent_errors(composer: DigestComposer, bad: str) -> None:
    with pytest.raises(UnsendableAddress) as caught:
        composer.message(digest(1), recipient(email=bad), message_id=MID, date=DATE)
    assert isinstance(caught.value, PermanentError)


def test_idn_domain_is_encoded(composer: DigestComposer) -> None:
    msg = parse(composer.message(digest(1), recipient(email="vanthu@sởnộivụ.vn"),
                                 message_id=MID, date=DATE))
    assert msg["To"].addresses[0].domain == "xn--snv-zl2ac4e3b.vn" or \
        msg["To"].addresses[0].domain.startswith("xn--")


@pytest.mark.parametrize("mid", ["<a b@x>", "<a@b>\r\nBcc: x@y", "", "<@>"])
def test_bad_message_ids_are_refused(composer: DigestComposer, mid: str) -> None:
    with pytest.raises(ValueError):
        composer.message(digest(1), recipient(), message_id=mid, date=DATE)


def test_naive_date_is_refused(composer: DigestComposer) -> None:
    with pytest.raises(ValueError):
        composer.message(digest(1), recipient(), message_id=MID, date=datetime(2023, 1, 1))


def test_web_copy_has_no_personal_links(composer: DigestComposer) -> None:
    page = composer.web_copy(digest(3), large=True)
    assert "unsubscribe" not in page and "preferences" not in page
    assert f"{BASE}/digests/2023-11-27-daily\"" in page  # the standard size is offered
    assert "font-size: 24px" in page and f"{BASE}/subscribe" in page


def test_an_empty_digest_is_never_composed(composer: DigestComposer) -> None:
    with pytest.raises(ValueError):
        composer.message(digest(0), recipient(), message_id=MID, date=DATE)


def test_unknown_notice_is_refused(composer: DigestComposer) -> None:
    with pytest.raises(ValueError):
        composer.notice(recipient(), "welcome", message_id=MID, date=DATE)


def test_missing_name_uses_the_polite_default(composer: DigestComposer) -> None:
    msg = parse(composer.message(digest(1), recipient(name="  "), message_id=MID, date=DATE))
    plain, html = parts(msg)
    assert "Kính gửi: Quý cơ quan," in plain and "Kính gửi: Quý cơ quan," in html
    assert msg["To"] == "vanphong1@ubnd-babe.example"


def test_an_altered_placeholder_stops_composition(monkeypatch: pytest.MonkeyPatch) -> None:
    from syndicator.compose.render import Renderer

    original = Renderer.digest

    def shouting(self: Renderer, *args: object, **kwargs: object) -> object:
        rendered = original(self, *args, **kwargs)  # type: ignore[arg-type]
        return type(rendered)(**{**rendered.__dict__, "text": rendered.text.upper()})

    monkeypatch.setattr(Renderer, "digest", shouting)
    with pytest.raises(RuntimeError):
        DigestComposer(Settings()).message(digest(1), recipient(), message_id=MID, date=DATE)


def test_web_copy_is_cached_and_complete(composer: DigestComposer) -> None:
    d = digest(3)
    assert composer.web_copy(d, large=False) is composer.web_copy(d, large=False)
    assert composer.web_copy(d, large=True) != composer.web_copy(d, large=False)


def test_a_recipients_own_signed_mailto_takes_the_place_of_the_configured_one() -> None:
    """bounces.return_path: one mailto per subscriber, in the same skeleton as everyone's."""
    from dataclasses import replace

    from tests.support.returned_mail import VERP

    composer = DigestComposer(Settings(mail={"unsubscribe_mailto": "huy@sonoivu.backan.example"}))
    d = digest(2)
    signed = [replace(recipient(i), unsubscribe_mailto=VERP.unsubscribe_address(i, 3))
              for i in (1, 2)]
    heads = [parse(composer.message(d, r, message_id=MID, date=DATE))["List-Unsubscribe"]
             for r in signed]
    for i, unsub in zip((1, 2), heads, strict=True):
        assert f"<mailto:{VERP.unsubscribe_address(i, 3)}?subject=unsubscribe>" in unsub
        assert "huy@" not in unsub
    plain = parse(composer.message(d, recipient(3), message_id=MID, date=DATE))
    assert "<mailto:huy@sonoivu.backan.example?subject=unsubscribe>" in plain["List-Unsubscribe"]
