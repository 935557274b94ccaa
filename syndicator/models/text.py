"""Pure text hygiene for Vietnamese content: NFC, control characters, one-line fields, slugs,
and the visible text of sanitised HTML."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata

import nh3

# Characters XML 1.0 forbids or mail headers must never carry, besides TAB/LF/CR; and the
# bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which can
# make a title read backwards in a mail client ("Trojan Source"): Vietnamese needs none.
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff"
    "\u202a-\u202e\u2066-\u2069]"
)
_NOT_KEY = re.compile(r"[\W_]+")
_LINE_BREAKS = re.compile(r"[\r\n\u0085\u2028\u2029]+")
_SPACES = re.compile(r"\s+")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def clean_text(value: str) -> str:
    """NFC, without control characters; line breaks kept (normalised to LF)."""
    value = unicodedata.normalize("NFC", value)
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _FORBIDDEN.sub("", value)


def one_line(value: str) -> str:
    """Clean text on one line: every run of whitespace, CR/LF included, becomes one space."""
    return _SPACES.sub(" ", clean_text(_LINE_BREAKS.sub(" ", value))).strip()


def fold_diacritics(value: str) -> str:
    """ASCII-ish Vietnamese: 'Thi đua' -> 'Thi dua' (đ has no decomposition, so map it)."""
    value = unicodedata.normalize("NFC", value).replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def category_key(name: str) -> str:
    """What makes two category names one category: case, spacing and punctuation do not
    count, diacritics do ("Chuyển đổi số" and "Chuyen doi so" are two categories)."""
    return _NOT_KEY.sub(" ", unicodedata.normalize("NFC", name).casefold()).strip()


def distinct_slug(name: str) -> str:
    """The slug of a category whose plain slug another category took first: deterministic,
    and the same at every rebuild."""
    tag = hashlib.sha256(category_key(name).encode("utf-8")).hexdigest()[:6]
    return f"{slugify(name)}-{tag}"


def slugify(name: str) -> str:
    """'Thi đua - Khen thưởng' -> 'thi-dua-khen-thuong'; never empty."""
    slug = _NOT_SLUG.sub("-", fold_diacritics(name).lower()).strip("-")
    if slug:
        return slug
    return "c-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]


def html_to_text(fragment: str) -> str:
    """The visible text of a sanitised fragment, for plain-text parts and summaries."""
    blocks = re.sub(r"</(p|li|h[2-6]|tr|blockquote|div)>|<br\s*/?>", "\n", fragment)
    text = html.unescape(nh3.clean(blocks, tags=set()))
    lines = (line.strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)
