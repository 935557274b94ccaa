"""Which text timestamp columns a time window may compare as strings."""

from syndicator.source.shape import iso_separators


def test_one_separator_per_field_is_kept() -> None:
    samples = {"published_at": ["2026-11-25T09:00:00", "2026-11-24T08:00"],
               "updated_at": ["2026-11-25 09:00:00", "2026-11-24"]}
    assert iso_separators(samples) == {"published_at": "T", "updated_at": " "}


def test_date_only_values_fit_either_separator() -> None:
    assert iso_separators({"published_at": ["2026-11-25", "2026-11-24T08:00"]}) == {
        "published_at": "T"}
    assert iso_separators({"published_at": ["2026-11-25"]}) == {"published_at": " "}


def test_a_field_mixing_separators_is_left_out_of_the_window() -> None:
    """' ' < 'T': '2026-11-25 10:00' would fall before a bound '2026-11-25T09:59'."""
    samples = {"published_at": ["2026-11-25T09:00:00", "2026-11-25 10:00:00"],
               "updated_at": ["2026-11-25T09:00:00"]}
    assert iso_separators(samples) == {"updated_at": "T"}


def test_non_iso_or_empty_samples_are_left_out() -> None:
    assert iso_separators({"published_at": ["25/11/2026 09:00"], "updated_at": []}) == {}
