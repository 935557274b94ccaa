"""An official document's details and a bulletin's files, as mail shows them (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from syndicator.models.bulletin import Attachment, Bulletin, DocumentDetails
from syndicator.models.text import one_line

# What readers call a file type; other types are named by the file's extension.
_KINDS = {"application/pdf": "PDF", "application/msword": "DOC",
          "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
          "application/vnd.ms-excel": "XLS",
          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
          "application/zip": "ZIP", "application/vnd.rar": "RAR"}
TITLE_CHARS = 200


@dataclass(frozen=True)
class FileItem:
    """One file under a bulletin: its link, its name and "PDF, 245 KB" (empty when unknown)."""

    url: str
    title: str
    label: str


@dataclass(frozen=True)
class DocumentItem:
    number: str | None
    issued_at: object | None  # a date: the template writes dd/mm/yyyy
    issuer: str | None
    type: str | None


def document(b: Bulletin) -> DocumentItem | None:
    d: DocumentDetails | None = b.document
    if d is None or not d.given:
        return None
    return DocumentItem(number=_line(d.number), issued_at=d.issued_at,
                        issuer=_line(d.issuer), type=_line(d.type))


def files(b: Bulletin) -> list[FileItem]:
    return [FileItem(a.url, (_line(a.title) or a.url)[:TITLE_CHARS], label(a))
            for a in b.attachments]


def label(a: Attachment) -> str:
    """'PDF, 245 KB': the kind and the size, those that are known."""
    parts = [p for p in (kind(a), size(a.size)) if p]
    return ", ".join(parts)


def kind(a: Attachment) -> str:
    if a.type and a.type in _KINDS:
        return _KINDS[a.type]
    name = urlsplit(a.url).path.rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    return ext.upper() if 0 < len(ext) <= 5 and ext.isalnum() else ""


def size(n: int | None) -> str:
    """Binary units, as file managers show them: 250880 -> '245 KB'."""
    if not n:
        return ""
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{round(n / 1024)} KB"
    return f"{n / (1024 * 1024):.1f} MB".replace(".", ",")


def _line(value: str | None) -> str | None:
    return (one_line(value) or None) if value else None
