"""The skeleton's quoted-printable holes decode to exactly the substituted text, any text."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from syndicator.compose import mime
from syndicator.models.text import one_line

TOKENS = {"a": "zqdeadbeefaqz", "b": "zqdeadbeefbqz"}
# Body text as templates produce it: any characters but the NUL family mail forbids.
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               max_size=300)


@hsettings(max_examples=200, deadline=None)
@given(segments=st.lists(st.tuples(TEXT, st.sampled_from(["a", "b"])), max_size=6),
       tail=TEXT, a=TEXT, b=TEXT)
def test_holes_decode_exactly_and_lines_stay_short(segments: list[tuple[str, str]],
                                                    tail: str, a: str, b: str) -> None:
    body = "".join(seg + TOKENS[slot] for seg, slot in segments) + tail
    skeleton = mime.skeleton([b"Subject: x\r\n"], [("plain", body)], TOKENS, "seed")
    raw = skeleton.fill(mime.hole_values({"a": a, "b": b}))
    values = {"a": one_line(a), "b": one_line(b)}
    expected = "".join(seg + values[slot] for seg, slot in segments) + tail
    expected = expected.replace("\r\n", "\n").replace("\r", "\n")

    assert raw.isascii()
    head, body_bytes = raw.split(b"\r\n\r\n", 1)
    assert max(len(line) for line in head.split(b"\r\n")) <= 78
    assert max(len(line) for line in body_bytes.split(b"\r\n")) <= 76
    assert b"\n" not in raw.replace(b"\r\n", b"")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    part = msg.get_body(("plain",))
    assert part is not None
    assert part.get_payload(decode=True).decode("utf-8") == expected.replace("\n", "\r\n")
