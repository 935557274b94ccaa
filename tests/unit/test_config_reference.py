"""docs/operations.md's configuration reference is generated and cannot drift."""

from syndicator.config.reference import BEGIN, END, comment_notes, render
from syndicator.config.settings import Settings
from tests.conftest import REPO


def test_committed_reference_equals_generated() -> None:
    doc = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    committed = doc[doc.index(BEGIN):doc.index(END) + len(END)] + "\n"
    expected = render((REPO / "config.yaml").read_text(encoding="utf-8"))
    assert committed == expected, "run scripts/gen-config-reference and commit the result"


def test_every_setting_has_a_row_with_its_environment_name() -> None:
    text = render((REPO / "config.yaml").read_text(encoding="utf-8"))
    for section, field in Settings.model_fields.items():
        assert f"SYNDICATOR_{(field.alias or section).upper()}" in text
    assert "`SYNDICATOR_SMTP__PASSWORD`" in text and "`SYNDICATOR_SMTP__PASSWORD_FILE`" in text
    assert "`SYNDICATOR_SOURCE__COLUMNS__PUBLISHED_AT`" in text
    assert "`SYNDICATOR_SOURCE__SCHEMA`" in text  # the alias, not the Python name


def test_notes_come_from_trailing_and_preceding_comments() -> None:
    notes = comment_notes("# The zone.\ntimezone: x\nsmtp:\n  port: 1   # the port\n"
                          "  # user: y   # commented-out key\n")
    assert notes == {("timezone",): "The zone.", ("smtp", "port"): "the port",
                     ("smtp", "user"): "commented-out key"}
