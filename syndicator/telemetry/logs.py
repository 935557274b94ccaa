"""Structured logs: one event name per line, JSON by default, libraries' records included."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

_hidden: tuple[str, ...] = ()  # secret values never to appear in a log line or error line
MASK = "***"
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}


def configure(level: str = "info", fmt: str = "json", stream: TextIO | None = None) -> None:
    """Route structlog and stdlib logging through one renderer onto `stream` (stderr default)."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False) if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False))
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, _scrub_event, renderer]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(_LEVELS[level])
    for noisy in ("alembic", "uvicorn.access", "apscheduler.scheduler",
                  "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(max(_LEVELS[level], logging.WARNING))
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def hide(values: list[str]) -> None:
    """Secret values (config.secrets.secret_values) that no log or error line may show."""
    global _hidden
    _hidden = tuple(values)


def scrub(text: str) -> str:
    """The text with every hidden value masked (a driver's error may quote a URL whole)."""
    for value in _hidden:
        if value in text:
            text = text.replace(value, MASK)
    return text


def _scrub_event(_logger: object, _name: str, event: structlog.types.EventDict,
                 ) -> structlog.types.EventDict:
    if not _hidden:
        return event
    return {key: _scrub_value(value) for key, value in event.items()}


def _scrub_value(value: object) -> object:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, (list, tuple)):
        return [_scrub_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_value(v) for k, v in value.items()}
    return value
