"""Every secret value the settings hold, so that text on its way out can be scrubbed of them."""

from __future__ import annotations

from pydantic import SecretStr

from syndicator.config.databases import url_secrets
from syndicator.config.settings import Settings

_SHORTEST = 4  # shorter values would blank out ordinary words


def secret_values(settings: Settings) -> list[str]:
    """Passwords (in URLs too, `?password=` included), keys and tokens, longest first."""
    found = url_secrets(settings.database.url.get_secret_value())
    found += url_secrets(settings.source.url.get_secret_value())
    for secret in (settings.smtp.password, settings.security.secret_key,
                   settings.http.metrics_token, settings.mail.dkim_private_key):
        found += _value(secret)
    if settings.bounces.imap is not None:
        found += url_secrets(settings.bounces.imap.url.get_secret_value())
    return sorted({f for f in found if len(f) >= _SHORTEST}, key=len, reverse=True)


def _value(secret: SecretStr | None) -> list[str]:
    return [secret.get_secret_value()] if secret is not None else []
