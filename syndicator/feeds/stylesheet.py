"""feed.xsl: the XSLT a browser applies to our Atom and RSS, a Vietnamese page for a person."""

from __future__ import annotations

import functools

from jinja2 import ChoiceLoader, Environment, StrictUndefined

from syndicator.compose import variants
from syndicator.compose.templates import template_loaders
from syndicator.config.settings import Settings
from syndicator.models.text import one_line

TEMPLATE = "feed.xsl.j2"


def stylesheet_bytes(settings: Settings) -> bytes:
    """The stylesheet for this site: the page's text and style, the feed's data left to XSLT."""
    text = _environment().get_template(TEMPLATE).render(
        v=variants.tokens(False), site_title=one_line(settings.site.title),
        site_url=str(settings.site.url), base_url=settings.base_url,
        contact=settings.site.contact)
    return text.encode("utf-8")


@functools.cache
def _environment() -> Environment:
    # templates/feeds for the stylesheet, templates/web for the pages' shared styles.
    return Environment(loader=ChoiceLoader([*template_loaders("feeds"), *template_loaders("web")]),
                       autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                       lstrip_blocks=True, keep_trailing_newline=True)
