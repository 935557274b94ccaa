"""Pre-serialised MIME messages with holes, filled per recipient by byte substitution.

A message is rendered once with unique ASCII placeholder tokens, each text part is
quoted-printable encoded segment by segment around the tokens, and a placeholder
becomes a hole between soft line breaks. Filling a hole QP-encodes only the personal
value, so the result is exactly what encoding the substituted text would give a reader,
every line stays within RFC 2045's 76 characters, and no per-recipient pass over the
whole body is needed.
"""

from __future__ import annotations

import binascii
import hashlib
import html
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from syndicator.compose.eightbit import value as eightbit_value
from syndicator.compose.eightbit import wrap as eightbit_wrap
from syndicator.models.address import URL_SAFE, ascii_address
from syndicator.models.text import one_line

CRLF = b"\r\n"
_QP_LINE = 76
_WORD_BYTES = 45  # base64 of 45 bytes + "=?utf-8?b??=" = 72 <= 75 (RFC 2047)
_WORD_OVERHEAD = 12  # "=?utf-8?b?" and "?="
_LINE = 78  # RFC 5322's recommended header line length
_SOFT = b"=\r\n"
_MSGID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]+@[\x21-\x3b\x3d\x3f-\x7e]+>")


class UnfitFor8bit(ValueError):
    """A personal value that no 8bit line can hold (the quoted-printable skeleton can)."""


Piece = bytes | str  # literal bytes, or the key of a hole ("html:name", "text:email", ...)


@dataclass(frozen=True)
class Skeleton:
    """Everything of a message but the per-recipient values."""

    pieces: tuple[Piece, ...]
    html_fixed: int = 0  # bytes of the HTML part's body as transmitted, holes not counted
    html_holes: tuple[str, ...] = ()
    eightbit: bool = False  # some part is 8bit: the holes take 8bit values ("html8:name")
    hole_kinds: frozenset[str] = frozenset(("html", "text"))  # which hole_values() it needs

    def fill(self, values: Mapping[str, bytes]) -> bytes:
        return b"".join([p if isinstance(p, bytes) else values[p] for p in self.pieces])

    def html_size(self, values: Mapping[str, bytes]) -> int:
        """The HTML part's body as transmitted once filled with `values` (Gmail's clip)."""
        return self.html_fixed + sum(len(values[k]) for k in self.html_holes)


# --- building -----------------------------------------------------------------------------

def skeleton(head: Sequence[Piece], parts: Sequence[tuple[str, str]],
             tokens: Mapping[str, str], boundary_seed: str, *,
             eightbit: bool = False) -> Skeleton:
    """Headers (pieces) + multipart/alternative of (subtype, text-with-tokens) parts.

    eightbit: send each part as UTF-8 as it is ("8bit", for servers that offer 8BITMIME),
    except a part with a line that cannot be cut invisibly, which stays quoted-printable.
    """
    boundary = "=_syn_" + hashlib.sha256(boundary_seed.encode()).hexdigest()[:24]
    pieces: list[Piece] = list(head)
    pieces += [b"MIME-Version: 1.0\r\n",
               f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode()]
    html_fixed, any8 = 0, False
    html_holes: tuple[str, ...] = ()
    for subtype, body in parts:
        kind = "html" if subtype == "html" else "text"
        encoded, is8 = body_pieces(body, tokens, kind, eightbit)
        any8 = any8 or is8
        pieces.append(f"--{boundary}\r\nContent-Type: text/{subtype}; charset=\"utf-8\"\r\n"
                      f"Content-Transfer-Encoding: {'8bit' if is8 else 'quoted-printable'}"
                      "\r\n\r\n".encode())
        pieces += encoded
        if kind == "html":
            html_fixed = sum(len(p) for p in encoded if isinstance(p, bytes))
            html_holes = tuple(p for p in encoded if isinstance(p, str))
        pieces.append(CRLF)
    pieces.append(f"--{boundary}--\r\n".encode())
    kinds = frozenset(p.split(":", 1)[0] for p in pieces if isinstance(p, str)
                      and p.split(":", 1)[0] in ("html", "text", "html8", "text8"))
    return Skeleton(tuple(_merge(pieces)), html_fixed, html_holes, any8, kinds)


def body_pieces(body: str, tokens: Mapping[str, str], kind: str,
                eightbit: bool) -> tuple[list[Piece], bool]:
    """One part's body as transmitted, and whether it is 8bit (when asked and possible)."""
    if eightbit:
        wrapped = eightbit_wrap(body, tokens.values(), kind == "html")
        if wrapped is not None:
            return _split_at_tokens(wrapped, tokens, kind + "8"), True
    return _qp_with_holes(body, tokens, kind), False


def encoded_size(body: str, tokens: Mapping[str, str], kind: str, eightbit: bool) -> int:
    """Bytes of a part's body as transmitted, personal holes not counted (the size guard)."""
    pieces, _ = body_pieces(body, tokens, kind, eightbit)
    return sum(len(p) for p in pieces if isinstance(p, bytes))


def _split_at_tokens(data: bytes, tokens: Mapping[str, str], kind: str) -> list[Piece]:
    data = data.replace(b"\n", CRLF)
    if not tokens:
        return [data]
    by_token = {tok.encode("ascii"): slot for slot, tok in tokens.items()}
    pattern = re.compile(b"|".join(re.escape(t) for t in by_token))
    out: list[Piece] = []
    pos = 0
    for m in pattern.finditer(data):
        out += [data[pos:m.start()], f"{kind}:{by_token[m.group()]}"]
        pos = m.end()
    out.append(data[pos:])
    return out


def _qp_with_holes(body: str, tokens: Mapping[str, str], kind: str) -> list[Piece]:
    """QP-encode text around placeholder tokens; each token becomes hole '<kind>:<slot>'."""
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    if not tokens:
        return [_qp(body)]
    by_token = {tok: slot for slot, tok in tokens.items()}
    pattern = re.compile("|".join(re.escape(t) for t in by_token))
    out: list[Piece] = []
    pos = 0
    for m in pattern.finditer(body):
        out += [_soft_end(_qp(body[pos:m.start()])), f"{kind}:{by_token[m.group()]}"]
        pos = m.end()
    out.append(_qp(body[pos:]))
    return out


def _merge(pieces: list[Piece]) -> list[Piece]:
    merged: list[Piece] = []
    for p in pieces:
        if merged and type(p) is bytes and type(merged[-1]) is bytes:
            merged[-1] = merged[-1] + p
        else:
            merged.append(p)
    return merged


def _qp(text: str) -> bytes:
    encoded = binascii.b2a_qp(text.encode("utf-8"), quotetabs=False, istext=True)
    return encoded.replace(b"\n", CRLF)


def _soft_end(qp: bytes) -> bytes:
    """End with a soft line break, so what follows starts a fresh line of at most 76."""
    start = qp.rfind(b"\n") + 1
    last = qp[start:]
    if len(last) < _QP_LINE:
        return qp + _SOFT
    cut = _QP_LINE - 4  # never split an =XX escape
    while last[cut - 1:cut] == b"=" or last[cut - 2:cut - 1] == b"=":
        cut -= 1
    return qp[:start] + last[:cut] + _SOFT + last[cut:] + _SOFT


# --- per-recipient values -------------------------------------------------------------------

def hole_values(values: Mapping[str, str],
                kinds: Collection[str] = ("html", "text")) -> dict[str, bytes]:
    """Encoded bytes of every hole of the given kinds: "html"/"text" quoted-printable,
    "html8"/"text8" 8bit; HTML-escaped for the HTML part, raw for plain text.

    A value too long for an 8bit line (no space to cut at) raises UnfitFor8bit: the message
    then goes quoted-printable.
    """
    out: dict[str, bytes] = {}
    for slot, value in values.items():
        value = one_line(value)
        escaped = html.escape(value, quote=True)
        for kind in kinds:
            text = escaped if kind.startswith("html") else value
            if kind.endswith("8"):
                encoded = eightbit_value(text)
                if encoded is None:
                    raise UnfitFor8bit(f"{slot}: a line too long for an 8bit body")
                out[f"{kind}:{slot}"] = encoded
            else:
                out[f"{kind}:{slot}"] = _soft_end(_qp(text))
    return out


def header(name: str, value: str) -> bytes:
    """A folded header line; non-ASCII text becomes RFC 2047 words; CR/LF cannot split it."""
    text = one_line(value)
    # ASCII that looks like an encoded word would be decoded by clients: encode it too.
    if text.isascii() and "=?" not in text and len(name) + len(text) < 76:
        return f"{name}: {text}\r\n".encode("ascii")
    return f"{name}: {phrase(text, first=len(name) + 2)}\r\n".encode("ascii")


def address_header(name: str, display: str, email: str) -> bytes:
    """'To: =?utf-8?...?= <a@b>' with the display name always RFC 2047-encoded (no quoting)."""
    addr = ascii_address(email)
    display = one_line(display)
    if not display:
        return f"{name}: {addr}\r\n".encode("ascii")
    return f"{name}: {phrase(display)}\r\n <{addr}>\r\n".encode("ascii")


def phrase(text: str, first: int = 4) -> str:
    """RFC 2047 words for a display name or a subject, split after spaces, kept inside words.

    Decoders drop the whitespace *between* encoded words (RFC 2047 6.2), so a space of
    the text must live inside a word, or "huyện Pác" would read "huyệnPác". `first` is
    what precedes the first word on its line ("Subject: "), so every line stays within 78.
    """
    first_bytes = min(_WORD_BYTES, (_LINE - first - _WORD_OVERHEAD) // 4 * 3)
    words = []
    for chunk in _chunks(text, _WORD_BYTES, first_bytes):
        words.append("=?utf-8?b?" + binascii.b2a_base64(chunk, newline=False).decode() + "?=")
    return "\r\n ".join(words)


def _chunks(text: str, limit: int, first: int) -> list[bytes]:
    """UTF-8 pieces of at most `limit` bytes (`first` for the first), cut after a space."""
    out: list[bytes] = []
    current = b""
    for token in re.findall(r"\S+\s*|\s+", text):
        data = token.encode("utf-8")
        if current and len(current) + len(data) > (first if not out else limit):
            out.append(current)
            current = b""
        while len(data) > (room := first if not out else limit):
            # One word longer than a whole encoded word: cut it between two characters.
            cut = room
            while (data[cut] & 0xC0) == 0x80:  # not inside a UTF-8 sequence
                cut -= 1
            out.append(data[:cut])
            data = data[cut:]
        current += data
    if current:
        out.append(current)
    return out


def message_id(value: str) -> str:
    mid = value.strip()
    if not mid.startswith("<"):
        mid = f"<{mid}>"
    if not _MSGID.fullmatch(mid):
        raise ValueError(f"{value!r} is not a valid Message-ID (want <left@right>, ASCII)")
    return mid


def date_header(date: datetime) -> bytes:
    if date.tzinfo is None:
        raise ValueError("the Date of a message must be an aware datetime")
    return f"Date: {format_datetime(date)}\r\n".encode("ascii")


def url(value: str) -> str:
    """An absolute http(s) URL fit for a header: printable ASCII, no spaces, no brackets."""
    if not (URL_SAFE.fullmatch(value) and value.startswith(("https://", "http://", "mailto:"))
            and not any(c in value for c in "<>\"")):
        raise ValueError(f"{value[:80]!r} is not a header-safe absolute URL")
    return value


def list_unsubscribe(https_url: str, mailto: str | None) -> bytes:
    links = [f"<{url(https_url)}>"]
    if mailto:
        links.append(f"<mailto:{ascii_address(mailto)}?subject=unsubscribe>")
    return ("List-Unsubscribe: " + ",\r\n ".join(links) + "\r\n").encode("ascii")
