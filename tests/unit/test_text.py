"""Vietnamese text hygiene: NFC, control characters, one-line fields, slugs."""

import unicodedata

import pytest

from syndicator.models.text import clean_text, fold_diacritics, one_line, slugify


@pytest.mark.parametrize("name,slug", [
    ("Thi đua - Khen thưởng", "thi-dua-khen-thuong"),
    ("Chuyển đổi số", "chuyen-doi-so"),
    ("Công chức, viên chức", "cong-chuc-vien-chuc"),
    ("ĐẢNG ỦY", "dang-uy"),
    ("  Văn thư -- Lưu trữ  ", "van-thu-luu-tru"),
])
def test_slug_is_ascii_lowercase_hyphens(name: str, slug: str) -> None:
    assert slugify(name) == slug
    assert slugify(unicodedata.normalize("NFD", name)) == slug


def test_slug_of_symbols_only_is_stable_and_not_empty() -> None:
    assert slugify("!!!") == slugify("!!!")
    assert slugify("!!!").startswith("c-")
    assert slugify("!!!") != slugify("???")


def test_clean_text_makes_nfc_and_drops_control_characters() -> None:
    nfd = unicodedata.normalize("NFD", "Hướng dẫn")
    assert nfd != "Hướng dẫn"
    assert clean_text(nfd + "\x0b\x1b\x00\ufeff") == "Hướng dẫn"
    assert clean_text("a\r\nb\rc") == "a\nb\nc"


def test_one_line_removes_every_kind_of_line_break() -> None:
    assert one_line("Tiêu đề\r\nBcc: x@y\u2028z\u0085w") == "Tiêu đề Bcc: x@y z w"
    assert one_line("  a \t b  ") == "a b"


def test_fold_diacritics_maps_d_stroke() -> None:
    assert fold_diacritics("Đà Nẵng đẹp") == "Da Nang dep"
