"""Long Vietnamese bulletins and the HTML part of a message as it is transmitted."""

from __future__ import annotations

import re

from syndicator.models.bulletin import Bulletin
from tests.support.digests import bulletin

TITLE = ("Thông báo kết quả tuyển dụng công chức Sở Nội vụ tỉnh Bắc Kạn năm 2023 và lịch "
         "nhận hồ sơ bổ sung của các cơ quan, đơn vị số {i}")
LEAD = ("<p>" + "Sở Nội vụ hướng dẫn các cơ quan, đơn vị triển khai thực hiện kế hoạch cải "
        "cách hành chính, chuyển đổi số và công tác cán bộ, công chức trong năm 2024. " * 6
        + "</p>")


def long_bulletins(n: int) -> tuple[Bulletin, ...]:
    """n bulletins whose title and lead are as long as a digest shows them (400/480 chars)."""
    return tuple(bulletin(i, title=TITLE.format(i=i), summary=LEAD) for i in range(1, n + 1))


def transmitted_html(raw: bytes) -> tuple[str, bytes]:
    """(Content-Transfer-Encoding, body bytes as sent) of the text/html part."""
    boundary = re.search(rb'boundary="([^"]+)"', raw)
    assert boundary is not None
    for part in raw.split(b"--" + boundary.group(1)):
        head, _, body = part.partition(b"\r\n\r\n")
        if b"Content-Type: text/html" in head:
            cte = re.search(rb"Content-Transfer-Encoding: (\S+)", head)
            assert cte is not None
            return cte.group(1).decode(), body[:-2]  # the CRLF before the boundary
    raise AssertionError("no text/html part")
