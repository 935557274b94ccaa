"""HTML allowlist for bulletin bodies and leads, fit for email clients and feed readers."""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin

import nh3

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dl", "dt",
    "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li",
    "ol", "p", "pre", "q", "s", "small", "strong", "sub", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "u", "ul",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "width", "height", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
}
_URL_ATTRS = {("a", "href"), ("img", "src")}
_SCHEMES = {"http", "https", "mailto", "tel"}
_HAS_TAG = re.compile(r"<[a-zA-Z/!]")
_PARAGRAPHS = re.compile(r"\n\s*\n")


def sanitize_html(fragment: str, base_url: str) -> str:
    """Allowlisted HTML with absolute links; plain text becomes paragraphs."""
    if not _HAS_TAG.search(fragment):
        fragment = _text_to_html(fragment)

    def absolutize(tag: str, attr: str, value: str) -> str | None:
        if (tag, attr) in _URL_ATTRS:
            return urljoin(base_url, value.strip())
        return value

    cleaned = nh3.clean(
        fragment,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer",
        attribute_filter=absolutize,
        strip_comments=True,
    )
    return cleaned.strip()


def _text_to_html(text: str) -> str:
    paragraphs = (p.strip() for p in _PARAGRAPHS.split(text))
    return "".join(
        f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs if p
    )
