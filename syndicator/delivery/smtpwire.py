"""One SMTP mail transaction for ready message bytes, on aiosmtplib's public commands.

aiosmtplib's `sendmail` parses both addresses and runs regular expressions over every
message (line-ending normalisation, twice when the server offers SIZE, and dot-stuffing):
about 1 ms of the event loop per 40 KB message, the largest CPU cost of a sending round.
Our composer writes CRLF-only bytes to addresses it has already checked, so a transaction
here is MAIL, RCPT and DATA through `execute_command`, with the dot-stuffing done by one
bytes.replace. Bytes that are not CRLF-clean are normalised with aiosmtplib's own function
first.
"""

from __future__ import annotations

import aiosmtplib
from aiosmtplib.protocol import normalize_message_line_endings

_START_INPUT = 354


class Needs8BitMime(aiosmtplib.SMTPException):
    """An 8bit message for a server that did not offer 8BITMIME: compose it 7-bit again."""


_COMPLETED = 250
_WILL_FORWARD = 251


def wire_data(message: bytes) -> bytes:
    """The DATA payload: CRLF line endings, leading dots doubled (RFC 5321 4.5.2), '.' end."""
    if not _crlf_only(message):
        message = normalize_message_line_endings(message)
    elif not message.endswith(b"\r\n"):
        message += b"\r\n"
    stuffed = message.replace(b"\r\n.", b"\r\n..")
    if stuffed.startswith(b"."):
        stuffed = b"." + stuffed
    return stuffed + b".\r\n"


def _crlf_only(message: bytes) -> bool:
    pairs = message.count(b"\r\n")
    return message.count(b"\n") == pairs and message.count(b"\r") == pairs


async def transaction(client: aiosmtplib.SMTP, sender: str, rcpt: str, message: bytes,
                      timeout: float) -> str:
    """Send one message to one recipient; returns the server's final reply text.

    Raises what aiosmtplib's own commands raise: SMTPSenderRefused, SMTPRecipientRefused,
    SMTPDataError (with the server's code), timeouts and lost connections; Needs8BitMime,
    before any command, for a message that is not 7-bit on a server without 8BITMIME.
    After a refused envelope the transaction is reset, so the connection stays usable.
    """
    if client.is_ehlo_or_helo_needed:
        await client.ehlo()
    payload = wire_data(message)
    options = [f"SIZE={len(payload) - 3}"] if client.supports_extension("size") else []
    if not message.isascii():
        # 8bit bodies only where the server said it takes them (RFC 6152).
        if not client.supports_extension("8bitmime"):
            raise Needs8BitMime("the server does not offer 8BITMIME for an 8bit message")
        options.append("BODY=8BITMIME")
    try:
        # The addresses were checked by the composer (ascii_address); execute_command still
        # refuses any control character in an argument.
        mail = await client.execute_command(b"MAIL", f"FROM:<{sender}>".encode("ascii"),
                                            *(o.encode("ascii") for o in options),
                                            timeout=timeout)
        if mail.code != _COMPLETED:
            raise aiosmtplib.SMTPSenderRefused(mail.code, mail.message, sender)
        to = await client.execute_command(b"RCPT", f"TO:<{rcpt}>".encode("ascii"),
                                          timeout=timeout)
        if to.code not in (_COMPLETED, _WILL_FORWARD):
            raise aiosmtplib.SMTPRecipientRefused(to.code, to.message, rcpt)
        start = await client.execute_command(b"DATA", timeout=timeout)
        if start.code != _START_INPUT:
            raise aiosmtplib.SMTPDataError(start.code, start.message)
    except aiosmtplib.SMTPResponseException:
        await _reset(client, timeout)
        raise
    protocol = client.protocol
    if protocol is None:
        raise aiosmtplib.SMTPServerDisconnected("Connection lost")
    # read_response arms the reply before its first await: nothing can be missed between.
    protocol.write(payload)
    reply = await protocol.read_response(timeout=timeout)
    if reply.code != _COMPLETED:
        raise aiosmtplib.SMTPDataError(reply.code, reply.message)
    return f"{reply.code} {reply.message}"


async def _reset(client: aiosmtplib.SMTP, timeout: float) -> None:
    try:
        await client.rset(timeout=timeout)
    except (aiosmtplib.SMTPException, OSError):
        client.close()  # the transport drops a closed connection and opens a new one
