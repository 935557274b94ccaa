"""Golden messages: any change to what subscribers receive shows up as a diff here.

Regenerate after an intended change with SYNDICATOR_UPDATE_GOLDEN=1 and review the diff
(the .eml files open in any mail client).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from syndicator.compose.composer import DigestComposer
from syndicator.config.settings import Settings
from tests.conftest import REPO
from tests.support.digests import bulletin, digest, recipient

GOLDEN = REPO / "tests" / "golden"
UPDATE = os.environ.get("SYNDICATOR_UPDATE_GOLDEN") == "1"
DATE = datetime(2023, 11, 27, 0, 5, tzinfo=UTC)


def _check(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"{path} is missing: run with SYNDICATOR_UPDATE_GOLDEN=1"
    assert data == path.read_bytes(), f"{name} changed; review and regenerate if intended"


@pytest.mark.parametrize("large", [False, True])
def test_daily_digest(large: bool) -> None:
    items = (bulletin(1), bulletin(2, author=None), bulletin(3, category=""))
    raw = DigestComposer(Settings()).message(
        digest(bulletins=items), recipient(large=large),
        message_id="<2023-11-27-daily.1@syndicator.example>", date=DATE)
    _check(f"digest-daily-{'large' if large else 'standard'}.eml", raw)


def test_daily_digest_8bit() -> None:
    """As sent to a server that offers 8BITMIME: the UTF-8 reads as it is in the file."""
    items = (bulletin(1), bulletin(2, author=None), bulletin(3, category=""))
    raw = DigestComposer(Settings()).message(
        digest(bulletins=items), recipient(), eightbit=True,
        message_id="<2023-11-27-daily.1@syndicator.example>", date=DATE)
    _check("digest-daily-standard-8bit.eml", raw)


def test_confirmation() -> None:
    raw = DigestComposer(Settings()).confirmation(
        recipient(name="Trường THPT Bắc Kạn"), confirm_url="http://127.0.0.1:8080/confirm/t.1",
        message_id="<confirm.1@syndicator.example>", date=DATE)
    _check("confirmation-standard.eml", raw)
