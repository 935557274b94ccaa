"""The web copy of a sent digest at /digests/<id>: what was mailed, in either text size."""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from starlette.applications import Starlette

with warnings.catch_warnings():  # Starlette 1.x prefers httpx2; httpx still works the same
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from syndicator.config.settings import Settings
from syndicator.demo.seed import seed
from syndicator.runtime.poll import poll_once
from syndicator.state.bulletins import withdraw
from syndicator.state.schema import bulletins, digest_contents
from syndicator.web import digests


def _site(state: sa.Engine, tmp_path: Path) -> tuple[Settings, TestClient, list[str]]:
    settings = Settings(source={"url": f"sqlite:///{tmp_path / 'portal.db'}"},
                        feeds={"output_dir": tmp_path / "feeds"},
                        mail={"outbox_dir": tmp_path / "mail"})
    seed(settings, state)
    poll_once(settings, state)  # queues the immediate demo subscriber's digest
    with state.connect() as conn:
        ids = list(conn.scalars(sa.select(digest_contents.c.digest_id)))
    client = TestClient(Starlette(routes=digests.routes(settings, state)))
    return settings, client, ids


def test_web_copy_in_both_sizes(state: sa.Engine, tmp_path: Path) -> None:
    _, client, ids = _site(state, tmp_path)
    assert ids, "the demo's immediate subscriber should have a digest"
    standard = client.get(f"/digests/{ids[0]}")
    assert standard.status_code == 200
    assert standard.headers["content-type"].startswith("text/html")
    assert '<html lang="vi"' in standard.text
    assert "Hướng dẫn tổng kết phong trào thi đua và khen thưởng năm 2023" in standard.text
    large = client.get(f"/digests/{ids[0]}?size=large")
    assert large.status_code == 200
    assert _paragraph_sizes(standard.text) and min(_paragraph_sizes(standard.text)) >= 16
    assert min(_paragraph_sizes(large.text)) >= 24 > max(_paragraph_sizes(standard.text))
    assert client.head(f"/digests/{ids[0]}").status_code == 200


def test_unknown_id_is_a_polite_404(state: sa.Engine, tmp_path: Path) -> None:
    _, client, _ = _site(state, tmp_path)
    for bad in ("khong-co", "x" * 300, "%3Cscript%3E"):
        page = client.get(f"/digests/{bad}")
        assert page.status_code == 404
        assert "Không tìm thấy bản tin tổng hợp" in page.text


def test_withdrawn_bulletins_leave_the_web_copy(state: sa.Engine, tmp_path: Path) -> None:
    _, client, ids = _site(state, tmp_path)
    title = "Hướng dẫn tổng kết phong trào thi đua và khen thưởng năm 2023"
    with state.begin() as conn:
        bid = conn.scalar(sa.select(bulletins.c.id).where(bulletins.c.title == title))
        withdraw(conn, [bid], _now())
    page = client.get(f"/digests/{ids[0]}")
    assert page.status_code == 200 and title not in page.text


def _now() -> datetime:
    return datetime.now(UTC)


def _paragraph_sizes(html: str) -> list[int]:
    """Font sizes of the body paragraphs, as inlined for mail clients."""
    return [int(px) for px in re.findall(r'<p style="font-size: (\d+)px', html)]
