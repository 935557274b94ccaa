"""Which SYNDICATOR_* variables name a key: a misspelt one is refused, never silently ignored."""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel

from syndicator.config.settings import ENV_PREFIX, Settings
from syndicator.errors import ConfigError

# Variables with our prefix that are not keys: the config file's path, and the test suite's
# own switches (SYNDICATOR_TEST_*, golden files, screenshots), which reach the program when
# tests run it as a user would.
NOT_KEYS = frozenset({"CONFIG", "UPDATE_GOLDEN", "REGENERATE_GOLDEN", "FEED_SCREENSHOT"})
NOT_KEY_PREFIXES = ("TEST_",)
SECRET_FILE = "_FILE"


def check_names(env: Mapping[str, str]) -> None:
    """ConfigError (one line) for the first SYNDICATOR_* variable that names no key."""
    known = set(key_variables())
    for name in sorted(env):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX):
            continue
        rest = upper[len(ENV_PREFIX):]
        if rest in NOT_KEYS or rest.startswith(NOT_KEY_PREFIXES):
            continue
        plain = upper.removesuffix(SECRET_FILE) if upper.endswith(SECRET_FILE) else upper
        if plain not in known:
            raise ConfigError(f"config error: environment variable {name} names no setting"
                              f"{_suggestion(plain, known, upper != plain)}")


def key_variables() -> Iterator[str]:
    """SYNDICATOR_<SECTION>[__<KEY>...] for every section and key (a section takes JSON)."""
    for path in _paths(Settings, ()):
        yield ENV_PREFIX + "__".join(path).upper()


def _paths(model: Any, prefix: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    for name, field in model.model_fields.items():
        path = (*prefix, field.alias or name)
        yield path
        inner = _model_of(field.annotation)
        if inner is not None:
            yield from _paths(inner, path)


def _model_of(annotation: Any) -> Any:
    """The section model of `Section` or `Section | None`, else None."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _suggestion(name: str, known: set[str], secret_file: bool) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
    if not close:
        return (f" (keys are {ENV_PREFIX}<SECTION>__<KEY>, with two underscores between "
                "levels; see config.yaml)")
    return f"; did you mean {close[0]}{SECRET_FILE if secret_file else ''}?"
