"""The Jinja2 environment for templates/web, found wherever the program runs from."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from jinja2 import BaseLoader, Environment, FileSystemLoader

from syndicator.digests.templates import ResourceLoader, build_environment

_REPO_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "web"


def _loaders() -> list[BaseLoader]:
    packaged = resources.files("syndicator") / "templates" / "web"
    found: list[BaseLoader] = []
    if packaged.is_dir():  # a wheel ships templates/ inside the package
        found.append(ResourceLoader(packaged))
    if _REPO_TEMPLATES.is_dir():  # an editable install runs from the repository
        found.append(FileSystemLoader(str(_REPO_TEMPLATES)))
    return found


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    """Compiled once per process; autoescape on for every .html.j2 page."""
    return build_environment(_loaders())
