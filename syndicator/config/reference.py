"""The configuration reference in docs/operations.md, generated from the settings model.

Keys, types, defaults, limits and environment names come from `Settings`; the one-line
notes come from the comments of the commented default config.yaml (which a test keeps
equal to the model's defaults). Run `scripts/gen-config-reference` after changing either.
"""

from __future__ import annotations

import json
import re
import sys
import types
import typing
from collections.abc import Iterator
from datetime import date, time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from syndicator.config.settings import ENV_PREFIX, Settings

BEGIN = "<!-- BEGIN GENERATED CONFIG REFERENCE (scripts/gen-config-reference) -->"
END = "<!-- END GENERATED CONFIG REFERENCE -->"
_KEY = re.compile(r"^(?P<indent>\s*)(?P<commented>#\s*)?(?P<key>[a-z_]+):(?P<rest>.*)$")


def render(config_yaml: str) -> str:
    """Markdown: one table per section, between the BEGIN/END markers."""
    notes = comment_notes(config_yaml)
    out = [BEGIN, ""]
    top = [row for row in _rows(Settings, ()) if len(row[0]) == 1]
    out += _table("Top level", top, notes)
    for name, field in Settings.model_fields.items():
        if _is_model(field.annotation):
            rows = list(_rows(field.annotation, (_key(name, field),)))
            out += _table(f"`{_key(name, field)}`", rows, notes)
    out.append(END)
    return "\n".join(out) + "\n"


def _rows(model: Any, prefix: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], FieldInfo]]:
    for name, field in model.model_fields.items():
        path = (*prefix, _key(name, field))
        if _is_model(field.annotation):
            yield from _rows(field.annotation, path)
            continue
        yield path, field
        inner = _optional_model(field.annotation)
        if inner is not None:  # an optional section (bounces.imap): its keys too
            yield from _rows(inner, path)


def _table(title: str, rows: list[tuple[tuple[str, ...], FieldInfo]],
           notes: dict[tuple[str, ...], str]) -> list[str]:
    out = [f"### {title}", "", "| key | environment variable | type | default | notes |",
           "|---|---|---|---|---|"]
    for path, field in rows:
        env = ENV_PREFIX + "__".join(p.upper() for p in path)
        note = notes.get(path, "")
        if _is_secret(field.annotation):
            note = (note + " " if note else "") + f"Secret: never printed; `{env}_FILE` reads it " \
                                                  "from a file."
        cells = [f"`{'.'.join(path)}`", f"`{env}`", _type(field), _default(field), note]
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return [*out, ""]


def _key(name: str, field: FieldInfo) -> str:
    return field.alias or name


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _optional_model(annotation: Any) -> Any:
    """The section of `Section | None`, else None."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return args[0] if len(args) == 1 and _is_model(args[0]) else None


def _is_secret(annotation: Any) -> bool:
    return SecretStr in (annotation, *typing.get_args(annotation))


def _type(field: FieldInfo) -> str:
    text = _type_name(field.annotation)
    limits = [f"{sign} {getattr(m, attr)}" for m in field.metadata
              for attr, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"))
              if getattr(m, attr, None) is not None]
    return text + (f" ({', '.join(limits)})" if limits else "")


def _type_name(annotation: Any) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        return " | ".join(str(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        parts = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(parts) + (" or null" if type(None) in args else "")
    if origin is list:
        return f"list of {_type_name(args[0])}"
    names = {int: "integer", float: "number", str: "text", bool: "boolean", Path: "path",
             SecretStr: "text (secret)", time: "time HH:MM",
             date: "date YYYY-MM-DD"}
    if annotation in names:
        return names[annotation]
    if _is_model(annotation):
        return "section (keys below)"
    return "URL" if "Url" in getattr(annotation, "__name__", "") else str(annotation)


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.default
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value is None:
        return "null"
    if isinstance(value, bool):  # as YAML writes it
        return f"`{str(value).lower()}`"
    if isinstance(value, time):
        return f"`{value:%H:%M}`"
    if isinstance(value, (list, dict)):
        return f"`{json.dumps(value, ensure_ascii=False)}`"
    return f"`{value}`"


def comment_notes(config_yaml: str) -> dict[tuple[str, ...], str]:
    """{key path: its comment} from the commented config: trailing or the block above."""
    notes: dict[tuple[str, ...], str] = {}
    stack: list[tuple[int, str]] = []
    above: list[str] = []
    for line in config_yaml.splitlines():
        match = _KEY.match(line)
        if not match:
            stripped = line.strip()
            above = above + [stripped.lstrip("# ").strip()] if stripped.startswith("#") else []
            continue
        indent = len(match["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = (*[k for _, k in stack], match["key"])
        trailing = match["rest"].partition(" #")[2].strip()
        note = trailing or " ".join(a for a in above if a)
        if note and path not in notes:
            notes[path] = note
        if not match["commented"]:
            stack.append((indent, match["key"]))
        above = []
    return notes


def write(doc: Path, config_yaml: Path) -> bool:
    """Replace the generated block of `doc`; True if the file changed."""
    text = doc.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END) + 1
    new = text[:start] + render(config_yaml.read_text(encoding="utf-8")) + text[end:]
    if new != text:
        doc.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
    changed = write(root / "docs" / "operations.md", root / "config.yaml")
    print("docs/operations.md " + ("updated" if changed else "already up to date"))
