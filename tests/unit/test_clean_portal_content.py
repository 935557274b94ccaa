"""Cleaning several categories, official-document details and files from one portal row."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from syndicator.errors import RowError
from syndicator.ingest.clean import clean_row
from syndicator.source.portal import FILES, SourceRow

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SITE = "https://sonoivu.backan.example/"


def row(**values: object) -> SourceRow:
    base = {"id": 7, "title": "Tiêu đề", "url": "/tin/7", "status": "published",
            "published_at": "2023-11-27 08:00:00"}
    return SourceRow("7", base | values)


def test_the_separator_splits_categories_each_once_in_portal_order() -> None:
    b = clean_row(row(category="Tin tức; Chuyển đổi số;;tin  TỨC ;Cải cách hành chính"),
                  TZ, SITE, ";")
    assert b.category == "Tin tức" and b.category_slug == "tin-tuc"
    assert b.categories == ("Tin tức", "Chuyển đổi số", "Cải cách hành chính")
    assert b.category_slugs == ("tin-tuc", "chuyen-doi-so", "cai-cach-hanh-chinh")


def test_without_a_separator_the_value_is_one_category() -> None:
    b = clean_row(row(category="Tin tức; Chuyển đổi số"), TZ, SITE)
    assert b.category == "Tin tức; Chuyển đổi số" and b.categories == ()


def test_one_category_hashes_as_before_the_new_fields() -> None:
    """A bulletin stored before migration 0010 must not look changed to the next poll."""
    b = clean_row(row(category="Tin tức"), TZ, SITE, ";")
    old = {k: v for k, v in asdict(b).items()
           if k not in ("source_updated_at", "status", "categories", "category_slugs",
                        "document", "attachments")}
    blob = json.dumps(old, default=str, sort_keys=True, ensure_ascii=False)
    assert b.content_hash == hashlib.sha256(blob.encode("utf-8")).hexdigest()


def test_document_details() -> None:
    b = clean_row(row(document_number=" 123/HD-SNV ", issued_at="20/11/2023",
                      issuer="Sở Nội vụ", document_type="Hướng dẫn"), TZ, SITE)
    assert b.document is not None
    assert (b.document.number, b.document.issued_at, b.document.issuer, b.document.type) == (
        "123/HD-SNV", date(2023, 11, 20), "Sở Nội vụ", "Hướng dẫn")
    assert clean_row(row(), TZ, SITE).document is None


def test_a_bad_issue_date_names_its_field() -> None:
    with pytest.raises(RowError) as caught:
        clean_row(row(issued_at="hôm qua"), TZ, SITE)
    assert caught.value.field == "issued_at"


@pytest.mark.parametrize("column", [
    "/uploads/hd-123.pdf\nhttps://cdn.example/phu-luc.docx",
    json.dumps([{"url": "/uploads/hd-123.pdf", "title": "Hướng dẫn 123/HD-SNV",
                 "size": 250880}, "https://cdn.example/phu-luc.docx"]),
])
def test_files_from_a_column_resolve_against_the_site(column: str) -> None:
    b = clean_row(row(attachments=column), TZ, SITE)
    assert [(a.url, a.type) for a in b.attachments] == [
        (f"{SITE}uploads/hd-123.pdf", "application/pdf"),
        ("https://cdn.example/phu-luc.docx",
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document")]
    assert b.attachments[1].title == "phu-luc.docx"


def test_files_from_the_attachments_query_rows() -> None:
    rows = [{"bulletin_id": 7, "url": "/wp-content/uploads/a.pdf", "title": "Văn bản",
             "size": "not a number", "type": "application/pdf"}]
    b = clean_row(row(**{FILES: rows}), TZ, SITE)
    [a] = b.attachments
    assert (a.url, a.title, a.size) == (f"{SITE}wp-content/uploads/a.pdf", "Văn bản", None)


def test_a_file_that_is_not_http_names_the_field() -> None:
    with pytest.raises(RowError) as caught:
        clean_row(row(attachments="javascript:alert(1)"), TZ, SITE)
    assert caught.value.field == "attachments"
