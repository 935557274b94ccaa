"""RSS dates: English RFC 822 whatever the locale, and rendering never switches the locale."""

from __future__ import annotations

import locale
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from syndicator.config.settings import Settings
from syndicator.feeds.build import render_all
from tests.feeds_support import T0, assert_valid, bulletin

RFC822 = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug"
                    r"|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d [+-]\d{4}")
NON_FOREIGN = {"c", "posix", "c.utf8", "c.utf-8"}


def _files() -> dict[str, bytes]:
    items = [bulletin(i) for i in range(1, 8)]
    return render_all(Settings(feeds={"max_entries": 3}), items, T0 + timedelta(days=1))


def _rss_dates(data: bytes) -> list[str]:
    return re.findall(r"<(?:pubDate|lastBuildDate)>([^<]*)<", data.decode("utf-8"))


def test_rendering_never_calls_setlocale(monkeypatch: pytest.MonkeyPatch) -> None:
    # setlocale is process-wide: switching it while the daemon's other threads format text
    # (or render another feed) gives them, or us, the wrong names, or leaves it switched.
    calls: list[tuple[Any, ...]] = []
    real = locale.setlocale

    def recording(*args: Any) -> str:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(locale, "setlocale", recording)
    files = _files()
    assert any(name.endswith(".rss") for name in files)
    assert calls == []


def _installed_foreign_locale() -> str | None:
    try:
        listed = subprocess.run(["locale", "-a"], capture_output=True, text=True, timeout=30,
                                check=False).stdout.split()
    except OSError:
        return None
    return next((n for n in listed if n.lower() not in NON_FOREIGN), None)


def _compiled_vietnamese(directory: Path) -> str | None:
    """Builds vi_VN.UTF-8 into a private LOCPATH when no foreign locale is installed."""
    if shutil.which("localedef") is None:
        return None
    target = directory / "vi_VN.UTF-8"
    result = subprocess.run(["localedef", "-i", "vi_VN", "-f", "UTF-8", str(target)],
                            capture_output=True, timeout=120, check=False)
    return "vi_VN.UTF-8" if target.is_dir() and result.returncode in (0, 1) else None


@pytest.fixture
def foreign_lc_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """LC_TIME set to a locale whose day names are not English; restored afterwards."""
    name = _installed_foreign_locale()
    if name is None:
        monkeypatch.setenv("LOCPATH", str(tmp_path))
        name = _compiled_vietnamese(tmp_path)
    if name is None:
        pytest.skip("no non-C locale installed and none can be compiled")
    old = locale.setlocale(locale.LC_TIME)
    try:
        locale.setlocale(locale.LC_TIME, name)
    except locale.Error:
        pytest.skip(f"locale {name} cannot be set")
    try:
        if datetime(2026, 3, 2).strftime("%a %b") == "Mon Mar":
            pytest.skip(f"locale {name} names days in English")
        yield name
    finally:
        locale.setlocale(locale.LC_TIME, old)


def test_rss_dates_are_english_rfc822_under_a_foreign_lc_time(foreign_lc_time: str) -> None:
    files = _files()
    for name, data in files.items():
        if not name.endswith(".rss"):
            continue
        dates = _rss_dates(data)
        assert dates, name
        for text in dates:
            assert RFC822.fullmatch(text), (foreign_lc_time, text)
            assert parsedate_to_datetime(text).utcoffset() is not None
        assert_valid(name, data)
    assert locale.setlocale(locale.LC_TIME) == foreign_lc_time
