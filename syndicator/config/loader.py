"""Where settings come from (config file, secret files, environment), and one-line errors."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_settings import SettingsError

from syndicator.config.environment import check_names
from syndicator.config.settings import ENV_PREFIX, Settings
from syndicator.errors import ConfigError

DEFAULT_CONFIG = Path("config.yaml")
_KEY_FIRST = re.compile(r"([a-z_]+(?:\.[a-z_]+)+): (.*)")  # "delivery.lease_seconds: ..."


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Load the file (explicit, $SYNDICATOR_CONFIG, or ./config.yaml), secrets and environment."""
    check_names(os.environ)
    data = _read_yaml(_config_path(path, os.environ))
    _merge(data, _secret_files(os.environ))
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    except SettingsError as exc:  # an environment value pydantic-settings cannot decode
        if isinstance(exc.__cause__, ConfigError):
            raise exc.__cause__ from None
        raise ConfigError(f"config error: {exc}") from None


def _config_path(path: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path | None:
    explicit = path or env.get(ENV_PREFIX + "CONFIG")
    if explicit:
        p = Path(explicit)
        if not p.is_file():
            raise ConfigError(f"config file {str(p)!r} does not exist or is not a file")
        return p
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


def _read_yaml(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {str(path)!r} cannot be read: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"config file {str(path)!r}{where} is not valid YAML") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {str(path)!r} must hold a mapping of sections")
    return data


def _secret_files(env: Mapping[str, str]) -> dict[str, Any]:
    """SYNDICATOR_SMTP__PASSWORD_FILE=/run/secrets/smtp sets smtp.password (Docker secrets)."""
    out: dict[str, Any] = {}
    for name, value in env.items():
        if not (name.startswith(ENV_PREFIX) and name.endswith("_FILE")):
            continue
        plain = name[:-len("_FILE")]
        if plain in env:  # which one wins would be a guess; the operator decides
            raise ConfigError(f"config error: {plain} and {name} are both set; keep one")
        keys = plain[len(ENV_PREFIX):].lower().split("__")
        try:
            secret = Path(value).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{name}: cannot read secret file {value!r}: "
                              f"{exc.strerror}") from None
        _merge(out, _nest(keys, secret))
    return out


def _nest(keys: list[str], value: Any) -> dict[str, Any]:
    nested: dict[str, Any] = {keys[-1]: value}
    for key in reversed(keys[:-1]):
        nested = {key: nested}
    return nested


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def _describe(exc: ValidationError) -> str:
    """One line: the dotted key and the problem, never the (possibly secret) value."""
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    msg = err["msg"].removeprefix("Value error, ")
    named = _KEY_FIRST.fullmatch(msg)
    if named:  # a rule across keys names the key to change
        key, msg = named.groups()
    if err["type"] == "extra_forbidden":
        msg = "unknown key (check the spelling against config.yaml)"
    more = len(exc.errors()) - 1
    tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"config error: {key}: {msg}{tail}"
