"""Sample bulletins, digests and recipients for the email tests."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from syndicator.models.bulletin import Bulletin
from syndicator.models.message import Digest, Recipient
from syndicator.models.text import slugify

END = datetime(2023, 11, 27, 0, 0, tzinfo=UTC)  # 07:00 in Hà Nội, a Monday
BASE = "http://127.0.0.1:8080"
CATEGORIES = ("Công chức, viên chức", "Tổ chức bộ máy", "Cải cách hành chính",
              "Thi đua - Khen thưởng", "Chuyển đổi số", "Văn thư lưu trữ")
LEAD = ("<p>Sở Nội vụ thông báo kế hoạch tuyển dụng công chức tỉnh Bắc Kạn năm 2023, "
        "gồm các vị trí việc làm tại các sở, ban, ngành và UBND các huyện, thành phố. "
        "Hồ sơ nộp trực tiếp tại Bộ phận một cửa của Sở trước ngày 15/12/2023.</p>")


def bulletin(i: int, title: str | None = None, *, summary: str | None = LEAD,
             author: str | None = "Phòng Công chức, viên chức",
             category: str | None = None, url: str | None = None) -> Bulletin:
    cat = category if category is not None else CATEGORIES[i % len(CATEGORIES)]
    return Bulletin(
        id=i, source_id=str(i),
        title=title or f"Thông báo số {i} về tuyển dụng công chức tỉnh Bắc Kạn năm 2023",
        summary=summary, body_html=None, author=author, category=cat,
        category_slug=slugify(cat) if cat else None,
        url=url or f"https://sonoivu.backan.example/tin-tuc/{i}",
        published_at=END - timedelta(hours=i), first_seen_at=END - timedelta(hours=1),
        changed_at=END - timedelta(hours=1), revision=1, state="public",
        withdrawn_at=None, notify=True)


def digest(n: int = 5, *, frequency: str = "daily", bulletins: tuple[Bulletin, ...] | None = None,
           digest_id: str = "2023-11-27-daily") -> Digest:
    span = {"daily": timedelta(days=1), "weekly": timedelta(days=7),
            "immediate": timedelta(minutes=1)}[frequency]
    items = bulletins if bulletins is not None else tuple(bulletin(i) for i in range(1, n + 1))
    return Digest(digest_id=digest_id, frequency=frequency, period_start=END - span,
                  period_end=END, bulletins=items)


def recipient(i: int = 1, *, large: bool = False, name: str = "Văn phòng UBND huyện Ba Bể",
              email: str | None = None) -> Recipient:
    return Recipient(email=email or f"vanphong{i}@ubnd-babe.example", name=name,
                     text_size="large" if large else "standard",
                     unsubscribe_url=f"{BASE}/unsubscribe/tok-unsub-{i}.abc_DEF",
                     preferences_url=f"{BASE}/preferences/tok-pref-{i}.xyz",
                     switch_size_url=f"{BASE}/preferences/tok-pref-{i}.xyz?size=other")


def parse(raw: bytes) -> EmailMessage:
    """Message bytes read back the way a modern mail client's parser reads them."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg
