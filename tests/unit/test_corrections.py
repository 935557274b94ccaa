"""What counts as a correction in substance, and what a correction says (pure)."""

from __future__ import annotations

import pytest

from syndicator.compose.correction import lead_changes, sentences
from syndicator.config.settings import Settings
from syndicator.ingest.changes import in_substance
from syndicator.models.correction import substance

BODY = "<p>Các cơ quan nộp hồ sơ trước ngày 20/11/2026.</p><ul><li>Mẫu số 1</li></ul>"


def test_markup_entities_and_white_space_are_not_substance() -> None:
    before = substance("Hướng dẫn  thi đua", "<p>Tóm tắt.</p>", BODY)
    after = substance(" Hướng dẫn\nthi đua ", "<div><strong>Tóm&nbsp;tắt.</strong></div>",
                      BODY.replace("<p>", '<p class="a">\n  ').replace("ul>", "ol>"))
    assert before.text == after.text and before.fingerprint == after.fingerprint
    assert not in_substance(before, after, 1)


def test_nfd_and_nfc_are_one_text() -> None:
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Hướng dẫn thi đua")
    assert substance(nfd, None, None).text == substance("Hướng dẫn thi đua", None, None).text


@pytest.mark.parametrize("threshold,expected", [(1, True), (2, False)])
def test_one_digit_of_a_date_is_one_character(threshold: int, expected: bool) -> None:
    before = substance("T", None, BODY)
    after = substance("T", None, BODY.replace("20/11", "30/11"))
    assert in_substance(before, after, threshold) is expected


def test_threshold_counts_edits_not_length() -> None:
    long_body = "<p>" + "Nội dung dài. " * 5000 + "</p>"
    before = substance("T", None, long_body)
    after = substance("T", None, long_body.replace("Nội dung dài. ", "Nội dung dày. ", 3))
    assert in_substance(before, after, 3) and not in_substance(before, after, 4)  # 3 × 1


def test_changed_sentences_only() -> None:
    old = "Câu một. Hồ sơ nộp trước ngày 20/11. Câu ba không đổi!"
    new = "Câu một. Hồ sơ nộp trước ngày 30/11. Câu ba không đổi! Câu bốn mới."
    assert sentences(old) == ["Câu một.", "Hồ sơ nộp trước ngày 20/11.", "Câu ba không đổi!"]
    assert lead_changes(old, new) == (["Hồ sơ nộp trước ngày 20/11."],
                                      ["Hồ sơ nộp trước ngày 30/11.", "Câu bốn mới."])
    assert lead_changes(old, old) == ([], [])


def test_settings_defaults_and_refusals() -> None:
    assert Settings().corrections.notify == "immediate"
    assert Settings().corrections.min_changed_chars == 1
    assert Settings(corrections={"notify": "next_digest"}).corrections.notify == "next_digest"
    with pytest.raises(ValueError, match="notify"):
        Settings(corrections={"notify": "weekly"})
    with pytest.raises(ValueError, match="min_changed_chars"):
        Settings(corrections={"min_changed_chars": 0})
