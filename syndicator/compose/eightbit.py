"""8bit bodies (RFC 6152): UTF-8 as it is, lines cut where a reader sees no difference.

RFC 5322 allows 998 octets per line. Templates and css-inline give shorter lines, but a
bulletin's text, a long title in an aria-label or a personal value can make one longer, so
long lines are cut: in HTML at a space of text (a line break renders as that space), at a
space between attributes, just before a tag's closing '>', after a ';' in a style value or
at a space of an aria-label, alt or title value; in plain text at a space. A line that has
none of these returns None and the caller sends that part quoted-printable instead.

Holes for personal values are counted at HOLE_WIDTH, the most a value may take on one
line, so a filled line can never pass the limit; a longer value is refused by `value()`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

LINE_LIMIT = 998  # octets, without the CRLF (RFC 5322 2.1.1)
HOLE_WIDTH = 400  # the most a personal value may take on one line
_PAD = b"\x01"  # stands in for a hole's width while cutting; never in a clean body
_CRLF = b"\r\n"
_PIECES = re.compile(rb"<!--.*?-->|<(style|script)\b.*?</\1\s*>|<[^>]*>|[^<]+", re.S | re.I)
_ATTR_VALUE = re.compile(rb"""([\w:-]+)\s*=\s*("[^"]*"|'[^']*')""")
_SPACED_ATTRS = {b"aria-label", b"alt", b"title"}


def wrap(body: str, holes: Iterable[str], html: bool) -> bytes | None:
    """UTF-8 bytes with LF line ends, every line (holes at HOLE_WIDTH) within LINE_LIMIT."""
    data = body.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    if _PAD in data or b"\x00" in data:  # NUL is never allowed in 8bit (RFC 6152)
        return None
    for hole in holes:
        token = hole.encode("ascii")
        data = data.replace(token, token + _PAD * (HOLE_WIDTH - len(token)))
    out = []
    for line in data.split(b"\n"):
        if len(line) > LINE_LIMIT:
            cut = _cut(line, _html_breaks(line) if html else _spaces(line, 0))
            if cut is None:
                return None
            line = cut
        out.append(line)
    return b"\n".join(out).replace(_PAD, b"")


def value(text: str) -> bytes | None:
    """A personal value for an 8bit hole: long values cut at spaces, None when one cannot be."""
    data = text.encode("utf-8")
    if len(data) <= HOLE_WIDTH:
        return data
    lines = _cut(data, _spaces(data, 0), HOLE_WIDTH)
    return lines.replace(b"\n", _CRLF) if lines is not None else None


def _cut(line: bytes, breaks: list[tuple[int, bool]], limit: int = LINE_LIMIT) -> bytes | None:
    """Greedy: each piece as long as fits. A break (pos, True) replaces the space at pos; one
    (pos, False) inserts a line end before pos."""
    pieces: list[bytes] = []
    start, best = 0, None
    for pos, replaces in [*breaks, (len(line), False)]:
        if pos <= start:
            continue
        if pos - start > limit:
            if best is None:
                return None
            pieces.append(line[start:best[0]])
            start = best[0] + (1 if best[1] else 0)
            best = None
            if pos - start > limit:
                return None
        best = (pos, replaces)
    pieces.append(line[start:])
    return b"\n".join(pieces)


def _spaces(text: bytes, offset: int) -> list[tuple[int, bool]]:
    return [(offset + m.start(), True) for m in re.finditer(rb" ", text)]


def _html_breaks(line: bytes) -> list[tuple[int, bool]]:
    """Where a line of HTML may end without changing what any reader sees."""
    breaks: list[tuple[int, bool]] = []
    for m in _PIECES.finditer(line):
        piece, at = m.group(), m.start()
        if piece.startswith(b"<!--") or m.group(1):
            continue  # comments (Outlook's conditionals) and style/script: left whole
        if piece.startswith(b"<"):
            breaks += _tag_breaks(piece, at)
        else:
            breaks += _spaces(piece, at)
    return breaks


def _tag_breaks(tag: bytes, at: int) -> list[tuple[int, bool]]:
    values = list(_ATTR_VALUE.finditer(tag))
    inside = [(v.start(2), v.end(2)) for v in values]
    breaks = [(at + i, True) for i in range(len(tag)) if tag[i:i + 1] == b" "
              and not any(a < i < b for a, b in inside)]
    for v in values:
        name, start = v.group(1).lower(), at + v.start(2)
        if name == b"style":
            breaks += [(start + i + 1, False) for i, c in enumerate(v.group(2)) if c == 59]
        elif name in _SPACED_ATTRS:
            breaks += _spaces(v.group(2), start)
    if not tag.startswith(b"</"):  # "<p\n>" is a start tag like any; end tags stay whole
        breaks.append((at + len(tag) - (2 if tag.endswith(b"/>") else 1), False))
    return sorted(breaks)
