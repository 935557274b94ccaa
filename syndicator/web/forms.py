"""Form plumbing for the pages: signed form tokens (CSRF), honeypot, client address, fields."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from syndicator.models.subscriber import FREQUENCIES, TEXT_SIZES

FORM_MAX_AGE = 4 * 3600  # a form left open this long must be sent again
HONEYPOT = "website"  # people never see this field; bots fill every field they find
MAX_FIELDS = 300  # 100 categories and the other fields, with room
MAX_PART = 64 * 1024


class FormRefused(Exception):
    """A POSTed form we will not read: a file part ('file_refused') or a malformed body
    ('form_unreadable'). The page says so in Vietnamese (400)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


async def read_form(request: Request) -> FormData:
    """The page's form fields; a file part anywhere refuses the whole form (a file posted as
    `name` must never become an agency's name)."""
    try:
        form = await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_PART)
    except (HTTPException, MultiPartException) as exc:
        text = str(getattr(exc, "detail", "") or exc)
        raise FormRefused("file_refused" if "files" in text else "form_unreadable") from None
    if any(isinstance(value, UploadFile) for _, value in form.multi_items()):
        raise FormRefused("file_refused")
    return form


class FormTokens:
    """A signed token per rendered form, bound to its purpose and page (RFC 8058 POSTs exempt).

    Every state-changing page sits behind a link token or is the public subscribe form, so
    there is no session to ride: the form token proves the POST came from a form we rendered
    for this very page, recently, and carries the consent wording version that form showed.
    """

    def __init__(self, secret: str) -> None:
        self._s = URLSafeTimedSerializer(secret, salt="syndicator.form")

    def make(self, purpose: str, bound: str = "", consent: str = "") -> str:
        return self._s.dumps({"p": purpose, "b": bound, "c": consent,
                              "n": secrets.token_urlsafe(12)})

    def check(self, token: str, purpose: str, bound: str = "") -> dict[str, str] | None:
        """The token's data when it is ours, fresh and for this form; else None."""
        try:
            data = self._s.loads(token or "", max_age=FORM_MAX_AGE)
        except BadSignature:  # includes SignatureExpired
            return None
        if not isinstance(data, dict) or data.get("p") != purpose or data.get("b") != bound:
            return None
        return data


@dataclass
class SubscriberFields:
    """What a subscribe or preferences form sent, as text (validated by the model)."""

    email: str = ""
    name: str = ""
    frequency: str = "daily"
    categories: list[str] = field(default_factory=list)
    text_size: str = "standard"
    paused: bool = False
    consent: bool = False

    @classmethod
    def read(cls, form: FormData) -> SubscriberFields:
        frequency = str(form.get("frequency") or "daily")
        text_size = str(form.get("text_size") or "standard")
        return cls(email=str(form.get("email") or "")[:400],
                   name=str(form.get("name") or "")[:400],
                   frequency=frequency if frequency in FREQUENCIES else "",
                   categories=[str(c)[:200] for c in form.getlist("category")][:100],
                   text_size=text_size if text_size in TEXT_SIZES else "",
                   paused=form.get("paused") == "1",
                   consent=form.get("consent") == "1")


def honeypot_filled(form: FormData) -> bool:
    return bool(str(form.get(HONEYPOT) or "").strip())


def client_address(request: Request, trusted_proxies: Sequence[str]) -> str:
    """The peer, or the nearest untrusted address of X-Forwarded-For behind a trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    if not trusted_proxies or peer not in trusted_proxies:
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted_proxies and _is_ip(hop):
            return hop
    return peer


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
