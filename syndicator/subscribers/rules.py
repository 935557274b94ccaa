"""Pure subscriber rules: valid addresses, frequencies, text sizes, category resolution."""

from __future__ import annotations

from collections.abc import Iterable

from email_validator import EmailNotValidError, validate_email

from syndicator.models.subscriber import FREQUENCIES, MAX_NAME, TEXT_SIZES, NewSubscriber
from syndicator.models.text import category_key, distinct_slug, one_line, slugify


class InvalidField(ValueError):
    """One field of a subscriber is wrong; the message says which and why."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name


def normalize_email(raw: str) -> str:
    """A syntactically valid address (domain lower-cased, IDN allowed); no DNS lookups.

    The part before the @ must be ASCII: we never rely on SMTPUTF8, which few servers offer.
    """
    text = one_line(raw or "")
    if not text:
        raise InvalidField("email", "is empty")
    try:
        return validate_email(text, check_deliverability=False, allow_smtputf8=False).normalized
    except EmailNotValidError as exc:
        raise InvalidField("email", f"{text!r} is not a valid address: {exc}") from None


def check_choice(field_name: str, value: str, choices: tuple[str, ...]) -> str:
    value = (value or "").strip().lower()
    if value not in choices:
        raise InvalidField(field_name, f"{value!r} is not one of {', '.join(choices)}")
    return value


def check_name(raw: str | None) -> str:
    name = one_line(raw or "")
    if len(name) > MAX_NAME:
        raise InvalidField("name", f"longer than {MAX_NAME} characters")
    return name


def resolve_categories(requested: Iterable[str], known: Iterable[str]) -> tuple[str, ...]:
    """Names as the portal writes them; a slug or a different spelling maps to the known name."""
    names = list(known)
    by_key = {category_key(k): k for k in names}
    # A name's distinct slug, then its plain one (the first name to take it wins, as at ingest).
    by_slug = {distinct_slug(k): k for k in names} | {
        slugify(k): k for k in reversed(names)}
    out: list[str] = []
    for raw in requested:
        name = one_line(raw)
        if not name:
            continue
        # The name itself, then a feed's slug, then another spelling of one name.
        match = ((name if name in names else None) or by_slug.get(name)
                 or by_key.get(category_key(name)) or by_slug.get(slugify(name)))
        if match is None and by_slug:
            raise InvalidField("category", f"unknown category {name!r} (known: "
                               f"{', '.join(sorted(set(names)))})")
        resolved = match or name
        if resolved not in out:
            out.append(resolved)
    return tuple(out)


def build(email: str, name: str | None, frequency: str, categories: Iterable[str],
          text_size: str, known_categories: Iterable[str]) -> NewSubscriber:
    """Validate every field; raises InvalidField naming the first bad one."""
    return NewSubscriber(
        email=normalize_email(email),
        name=check_name(name),
        frequency=check_choice("frequency", frequency, FREQUENCIES),
        categories=resolve_categories(categories, known_categories),
        text_size=check_choice("text_size", text_size, TEXT_SIZES),
    )
