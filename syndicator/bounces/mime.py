"""Reading a returned message's MIME parts tolerantly: header text, report blocks, the original."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser, HeaderParser
from email.policy import compat32

MAX_PARTS = 500  # a message with more parts than any report has is not walked further
_BLANK_LINE = re.compile(r"\r?\n[ \t]*\r?\n")
_MESSAGE_ID = re.compile(r"^Message-ID:[ \t]*(<[^<>\s]{1,250}>)", re.IGNORECASE | re.MULTILINE)


def parse(raw: bytes) -> Message:
    # compat32 never raises on access, where the modern policy's header objects can raise on
    # malformed address headers; decoding is done here, by text().
    return BytesParser(policy=compat32).parsebytes(raw)


def headers(raw: bytes, limit: int = 64_000) -> Message:
    """Only the header section (at most `limit` bytes of it), for messages not parsed whole."""
    head = re.split(rb"\r?\n\r?\n", raw[:limit], maxsplit=1)[0]
    return BytesParser(policy=compat32).parsebytes(head + b"\n\n", headersonly=True)


def text(msg: Message, name: str) -> str:
    """A header's value as one line of text, RFC 2047 words decoded, '' when absent."""
    return decode(msg.get(name))


def texts(msg: Message, name: str) -> list[str]:
    return [decode(v) for v in msg.get_all(name) or []]


def decode(value: object) -> str:
    if value is None:
        return ""
    # compat32 keeps raw 8-bit header bytes as surrogates: they are UTF-8 (RFC 6532) or junk.
    raw = str(value).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    try:
        decoded = str(make_header(decode_header(raw)))
    except (ValueError, LookupError, UnicodeError):  # a bad encoded word or an unknown charset
        decoded = raw
    return " ".join(decoded.split())


def parts(msg: Message) -> Iterator[Message]:
    """Every part, depth first, at most MAX_PARTS of them."""
    for count, part in enumerate(msg.walk()):
        if count >= MAX_PARTS:
            return
        yield part


def of_type(msg: Message, *types: str) -> Iterator[Message]:
    return (p for p in parts(msg) if p.get_content_type() in types)


def body_text(part: Message, limit: int = 200_000) -> str:
    """A non-multipart part's decoded text (charset errors replaced), at most `limit` chars."""
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        charset = part.get_content_charset() or "utf-8"
        try:
            return payload[:limit].decode(charset, errors="replace")
        except LookupError:
            return payload[:limit].decode("utf-8", errors="replace")
    inner = part.get_payload()
    if isinstance(inner, list):
        return "\n".join(str(p)[:limit] for p in inner if isinstance(p, Message))[:limit]
    return str(inner)[:limit]


def header_blocks(part: Message) -> list[Message]:
    """The field blocks of a delivery-status or feedback-report part, however the stdlib left
    its payload: parsed blocks (message/delivery-status), one message whose body holds the
    other blocks (message/global-delivery-status, message/feedback-report), or text."""
    payload = part.get_payload()
    if not isinstance(payload, list):
        return _blocks(body_text(part))
    blocks: list[Message] = []
    for item in payload:
        if isinstance(item, Message):
            blocks.append(item)
            # decode=True: the undecoded payload would come back with 8-bit text replaced.
            rest = item.get_payload(decode=True)
            if isinstance(rest, bytes):
                blocks.extend(_blocks(rest[:200_000].decode("utf-8", "replace")))
    return blocks[:MAX_PARTS]


def _blocks(text_: str) -> list[Message]:
    return [HeaderParser(policy=compat32).parsestr(block.strip() + "\n")
            for block in _BLANK_LINE.split(text_, maxsplit=MAX_PARTS) if block.strip()]


def original_headers(msg: Message) -> Message | None:
    """The headers of our message as returned (message/rfc822 or text/rfc822-headers)."""
    for part in of_type(msg, "message/rfc822", "message/global", "text/rfc822-headers",
                        "message/global-headers", "message/rfc822-headers"):
        payload = part.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            return payload[0]
        headers = body_text(part, limit=64_000)
        if headers.strip():
            return HeaderParser(policy=compat32).parsestr(headers)
    return None


def quoted_message_id(msg: Message, own: str) -> str | None:
    """A Message-ID line quoted in a bounce's text (older bounces paste the headers there)."""
    for part in parts(msg):
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        for found in _MESSAGE_ID.findall(body_text(part)):
            if found != own:
                return str(found)
    return None
