"""The Jinja2 environment for templates/web, found wherever the program runs from."""

from __future__ import annotations

import functools

from jinja2 import Environment

from syndicator.compose.templates import build_environment


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    """Compiled once per process; autoescape on for every .html.j2 page."""
    return build_environment("web")
