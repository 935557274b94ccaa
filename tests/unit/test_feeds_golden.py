"""Golden files: fixed bulletins and clock give exactly the committed feed files.

Regenerate after an intended change: SYNDICATOR_REGENERATE_GOLDEN=1 pytest this file,
then review the diff (tests/data/README.md).
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta

from syndicator.config.settings import Settings
from syndicator.feeds.build import render_all
from tests.feeds_support import DATA, T0, assert_valid, bulletin

GOLDEN = DATA / "golden" / "feeds"


def golden_input() -> tuple[Settings, list, object]:
    config = Settings(public_base_url="https://bantin.sonoivu.example",
                      site={"title": "Sở Nội vụ tỉnh Bắc Kạn",
                            "url": "https://sonoivu.backan.example/"},
                      feeds={"max_entries": 3, "tombstone_days": 30,
                             "websub_hub": "https://hub.example/"})
    items = [bulletin(i) for i in range(1, 9)]
    items[1] = replace(items[1], title="Thông báo số 2 (đã sửa)", revision=2,
                       changed_at=T0 + timedelta(days=2))
    items[4] = replace(items[4], state="withdrawn", withdrawn_at=T0 + timedelta(days=3),
                       changed_at=T0 + timedelta(days=3))
    items[6] = replace(items[6], author=None, summary=None, category=None,
                       category_slug=None)
    items[7] = replace(items[7], source_updated_at=items[7].published_at + timedelta(minutes=2))
    return config, items, T0 + timedelta(days=4)


def test_feed_files_equal_the_golden_files() -> None:
    config, items, now = golden_input()
    files = render_all(config, items, now)  # type: ignore[arg-type]
    if os.environ.get("SYNDICATOR_REGENERATE_GOLDEN") == "1":
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for old in GOLDEN.iterdir():
            old.unlink()
        for name, data in files.items():
            (GOLDEN / name).write_bytes(data)
    expected = {p.name: p.read_bytes() for p in GOLDEN.iterdir()}
    assert sorted(files) == sorted(expected)
    for name, data in files.items():
        assert data == expected[name], f"{name} differs from its golden file"
        assert_valid(name, data)
