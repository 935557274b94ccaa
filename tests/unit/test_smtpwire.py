"""The DATA payload: what aiosmtplib would put on the wire, for CRLF bytes and any others."""

from __future__ import annotations

import pytest
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from hypothesis import given
from hypothesis import strategies as st

from syndicator.delivery.smtpwire import wire_data


def _aiosmtplib(message: bytes) -> bytes:
    """aiosmtplib's own execute_data_command framing, for comparison."""
    return PERIOD_REGEX.sub(b"..", normalize_message_line_endings(message)) + b".\r\n"


@pytest.mark.parametrize("message", [
    b"Subject: x\r\n\r\nbody\r\n", b".leading\r\n.\r\n..two\r\nend", b"no newline at all",
    b"lone\nlf\r\nand\rcr\r\n.dot after lone\n.x", b"", b"\r\n", b".", b"a\r\n\r\n.\r\n",
])
def test_same_bytes_as_aiosmtplib(message: bytes) -> None:
    assert wire_data(message) == _aiosmtplib(message)


@given(st.lists(st.sampled_from([b".", b"..", b"\r\n", b"\n", b"\r", b"x", b"=", b" "]),
                max_size=40).map(b"".join))
def test_same_bytes_as_aiosmtplib_for_any_line_structure(message: bytes) -> None:
    assert wire_data(message) == _aiosmtplib(message)
