"""DKIM signing of finished messages (dkimpy), covering the List-Unsubscribe headers too."""

from __future__ import annotations

import dkim

from syndicator.config.settings import MailSettings
from syndicator.errors import ConfigError

# Absent headers are signed too ("oversigning"): nobody can add a Reply-To or a second
# List-Unsubscribe on the way without breaking the signature.
SIGNED = (b"from", b"to", b"subject", b"date", b"message-id", b"reply-to", b"list-id",
          b"list-unsubscribe", b"list-unsubscribe-post", b"mime-version", b"content-type")


class DkimSigner:
    """Prepends a DKIM-Signature header (relaxed/relaxed, rsa-sha256)."""

    def __init__(self, selector: str, domain: str, private_key: bytes) -> None:
        self._selector = selector.encode("ascii")
        self._domain = domain.encode("idna")
        self._key = private_key
        try:  # fail at start, not on the first message
            self.sign(b"From: a@b.c\r\nSubject: x\r\n\r\nx\r\n")
        except (dkim.DKIMException, ValueError) as exc:
            raise ConfigError(f"config error: mail.dkim_private_key: cannot sign ({exc})") from None

    def sign(self, message: bytes) -> bytes:
        header: bytes = dkim.sign(message, self._selector, self._domain, self._key,
                           canonicalize=(b"relaxed", b"relaxed"), include_headers=list(SIGNED))
        return header + message


def make_signer(mail: MailSettings) -> DkimSigner | None:
    """A signer when DKIM is configured (the settings ensure selector and key come together)."""
    if mail.dkim_selector is None or mail.dkim_private_key is None:
        return None
    domain = mail.dkim_domain or mail.from_address.rpartition("@")[2]
    return DkimSigner(mail.dkim_selector, domain,
                      mail.dkim_private_key.get_secret_value().encode("ascii"))
