"""Subscriber validation: addresses, choices, categories by name or slug."""

import pytest

from syndicator.models.subscriber import email_key
from syndicator.subscribers.rules import InvalidField, build, normalize_email, resolve_categories

KNOWN = ["Thi đua - Khen thưởng", "Chuyển đổi số"]


def test_email_is_normalised_and_keyed_case_insensitively() -> None:
    assert normalize_email("  VanThu@SoNoiVu.Example ") == "VanThu@sonoivu.example"
    assert email_key("VanThu@sonoivu.example") == email_key("vanthu@SONOIVU.example")


@pytest.mark.parametrize("bad", ["", "not-an-address", "a@b", "a@@b.example", "a b@c.example",
                                 "x@y.example\r\nBcc: z@w.example"])
def test_bad_addresses_are_refused(bad: str) -> None:
    with pytest.raises(InvalidField, match="email"):
        normalize_email(bad)


def test_categories_by_name_slug_or_other_spelling() -> None:
    assert resolve_categories(["thi-dua-khen-thuong", "CHUYỂN ĐỔI SỐ", "Chuyển đổi số"],
                              KNOWN) == ("Thi đua - Khen thưởng", "Chuyển đổi số")


def test_unknown_category_lists_the_known_ones() -> None:
    with pytest.raises(InvalidField, match="unknown category 'Thể thao'.*Chuyển đổi số"):
        resolve_categories(["Thể thao"], KNOWN)


def test_any_category_is_accepted_before_the_first_poll() -> None:
    assert resolve_categories(["Thể thao"], []) == ("Thể thao",)


@pytest.mark.parametrize("field,kwargs", [
    ("frequency", {"frequency": "hourly"}),
    ("text_size", {"text_size": "huge"}),
    ("name", {"name": "x" * 201}),
])
def test_build_names_the_bad_field(field: str, kwargs: dict[str, str]) -> None:
    args = {"email": "a@b.example", "name": "", "frequency": "daily", "text_size": "standard"}
    args |= kwargs
    with pytest.raises(InvalidField) as info:
        build(args["email"], args["name"], args["frequency"], [], args["text_size"], KNOWN)
    assert info.value.field == field
