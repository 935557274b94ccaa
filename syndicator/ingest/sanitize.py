"""HTML allowlist for bulletin bodies and leads, fit for email clients and feed readers."""

from __future__ import annotations

import html
import re
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

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
# RFC 3986: what may stand in a path, query or fragment as it is (a "%" only before two hex
# digits); anything else (spaces, '"', '<', '>', '{', '\\', non-ASCII ...) is UTF-8 %XX.
_NOT_URI = re.compile(r"%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]")
_NOT_NETLOC = re.compile(r"%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~:@!$&'()*+,;=%\[\]]")
_PARAGRAPHS = re.compile(r"\n\s*\n")


def sanitize_html(fragment: str, base_url: str) -> str:
    """Allowlisted HTML with absolute links; plain text becomes paragraphs."""
    if not _HAS_TAG.search(fragment):
        fragment = _text_to_html(fragment)

    def absolutize(tag: str, attr: str, value: str) -> str | None:
        if (tag, attr) in _URL_ATTRS:
            return as_uri(urljoin(base_url, value.strip()))
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


def as_uri(url: str) -> str:
    """The URL as an RFC 3986 URI, for feeds and mail: characters a URI cannot hold are
    percent-encoded (UTF-8), an international host name becomes IDNA; a valid URI stays as
    it is."""
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced "[" in the host: only its other parts can be fixed
        return _NOT_URI.sub(_escape, url)
    return urlunsplit(SplitResult(parts.scheme, _netloc(parts), *(
        _NOT_URI.sub(_escape, p) for p in (parts.path, parts.query, parts.fragment))))


def _netloc(parts: SplitResult) -> str:
    netloc, host = parts.netloc, parts.hostname or ""
    at = netloc.lower().rfind(host) if host and not host.isascii() else -1
    if at >= 0:
        try:
            netloc = netloc[:at] + host.encode("idna").decode("ascii") + netloc[at + len(host):]
        except UnicodeError:  # not a name IDNA allows: percent-encoded, still a valid URI
            pass
    return _NOT_NETLOC.sub(_escape, netloc)


def _escape(match: re.Match[str]) -> str:
    return "".join(f"%{b:02X}" for b in match.group().encode("utf-8", "surrogatepass"))


def _text_to_html(text: str) -> str:
    paragraphs = (p.strip() for p in _PARAGRAPHS.split(text))
    return "".join(
        f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs if p
    )
