"""How many long Vietnamese bulletins a digest shows in full, and what is transmitted.

    .venv/bin/python bench/fit_bench.py [--counts 1,5,10,20,40,55,80]

For digests of N long bulletins (titles ~130 characters, leads cut at 480), both text
sizes, composed for a server with 8BITMIME (8bit bodies) and without (quoted-printable):
bulletins in full, as headlines, only counted; the HTML part's bytes as transmitted and
as decoded; the whole message. Runs against whatever `syndicator` is importable, so the
same script measures an older checkout (PYTHONPATH=that checkout) side by side.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import inspect
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from syndicator.compose.composer import DigestComposer  # noqa: E402
from syndicator.config.settings import Settings  # noqa: E402
from syndicator.models.bulletin import Bulletin  # noqa: E402
from syndicator.models.message import Digest, Recipient  # noqa: E402
from syndicator.telemetry import logs  # noqa: E402

END = datetime(2026, 12, 5, 0, 0, tzinfo=UTC)  # 07:00 in Hà Nội
TITLE = ("Thông báo kết quả tuyển dụng công chức Sở Nội vụ tỉnh Bắc Kạn năm 2026 và lịch "
         "nhận hồ sơ bổ sung của các cơ quan, đơn vị số {i}")
LEAD = ("<p>" + "Sở Nội vụ hướng dẫn các cơ quan, đơn vị triển khai thực hiện kế hoạch cải "
        "cách hành chính, chuyển đổi số và công tác cán bộ, công chức trong năm 2026. " * 6
        + "</p>")
CATEGORIES = ("Công chức, viên chức", "Tổ chức bộ máy", "Cải cách hành chính",
              "Thi đua - Khen thưởng", "Chuyển đổi số", "Văn thư lưu trữ")


def bulletins(n: int) -> tuple[Bulletin, ...]:
    return tuple(Bulletin(
        id=i, source_id=str(i), title=TITLE.format(i=i), summary=LEAD, body_html=None,
        author="Phòng Công chức, viên chức", category=CATEGORIES[i % 6],
        category_slug=f"c{i % 6}", url=f"https://sonoivu.backan.example/tin-tuc/{i}",
        published_at=END - timedelta(minutes=20 * i), first_seen_at=END - timedelta(hours=1),
        changed_at=END - timedelta(hours=1), revision=1, state="public", withdrawn_at=None,
        notify=True) for i in range(1, n + 1))


def recipient(large: bool) -> Recipient:
    base = "http://127.0.0.1:8080"
    return Recipient(email="vanphong@ubnd-babe.example", name="Văn phòng UBND huyện Ba Bể",
                     text_size="large" if large else "standard",
                     unsubscribe_url=f"{base}/unsubscribe/tok-unsub-1.abc_DEF",
                     preferences_url=f"{base}/preferences/tok-pref-1.xyz",
                     switch_size_url=f"{base}/preferences/tok-pref-1.xyz?size=other")


def html_part(raw: bytes) -> tuple[str, int, str]:
    """(transfer encoding, bytes as transmitted, decoded HTML) of the text/html part."""
    boundary = re.search(rb'boundary="([^"]+)"', raw)
    assert boundary is not None
    part = next(p for p in raw.split(b"--" + boundary.group(1)) if b"text/html" in p[:200])
    head, _, body = part.partition(b"\r\n\r\n")
    cte = re.search(rb"Content-Transfer-Encoding: (\S+)", head)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    return cte.group(1).decode() if cte else "?", len(body) - 2, html


def shown(html: str, n: int) -> tuple[int, int, int]:
    """(in full, headline only, only counted) from the HTML a reader gets."""
    full = html.count('aria-label="Đọc tiếp: ')
    counted = re.search(r"… và (\d+) tin khác", html)
    rest = int(counted.group(1)) if counted else 0
    return full, n - full - rest, rest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1,5,10,20,30,40,55,60,80")
    args = parser.parse_args()
    logs.configure("warning", "console")
    composer = DigestComposer(Settings())
    has_8bit = "eightbit" in inspect.signature(composer.message).parameters
    print("n  | variant  | encoding | full | headlines | counted | HTML sent | HTML decoded "
          "| message")
    for n in (int(c) for c in args.counts.split(",")):
        d = Digest(digest_id=f"fit-{n}", frequency="daily", period_start=END - timedelta(1),
                   period_end=END, bulletins=bulletins(n))
        for large in (False, True):
            for eightbit in ((True, False) if has_8bit else (False,)):
                extra = {"eightbit": eightbit} if has_8bit else {}
                raw = composer.message(d, recipient(large), message_id="<f@x>", date=END,
                                       **extra)
                cte, sent, html = html_part(raw)
                full, brief, rest = shown(html, n)
                print(f"{n:<3}| {'large' if large else 'standard':<8} | {cte[:8]:<8} | "
                      f"{full:>4} | {brief:>9} | {rest:>7} | {sent:>9,} | "
                      f"{len(html.encode()):>12,} | {len(raw):>7,}")


if __name__ == "__main__":
    main()
