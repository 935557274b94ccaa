"""The recipes in docs/recipes/ stay true: the SQL Server page's compiled SQL is what
SQLAlchemy's mssql dialect makes of its queries today, and the WordPress page's queries are
the ones the WordPress integration tests run."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.dialects.mssql import pymssql

from syndicator.source.explain import poll_sql, render_recipe
from tests.wordpress import attachments_query, posts_query

RECIPES = Path(__file__).resolve().parents[2] / "docs" / "recipes"


def test_the_sqlserver_page_shows_the_sql_the_mssql_dialect_compiles() -> None:
    page = (RECIPES / "sqlserver.md").read_text("utf-8")
    assert render_recipe(page, pymssql.dialect()) == page, "run scripts/gen-recipe-sql"
    assert "SELECT TOP 200 src.id AS id" in page  # keyset paging as SQL Server spells it
    assert "WHERE src.id > 120345 ORDER BY src.id" in page


def test_a_colon_in_the_query_is_never_a_bind_parameter() -> None:
    query = "SELECT n.id AS id, '08:00' AS title, 'a:b:c' AS url FROM news n WHERE n.x = ':y'"
    [(_, first), *_] = poll_sql(query, ["id", "title", "url", "status", "published_at",
                                        "updated_at"], pymssql.dialect())
    assert "'08:00' AS title, 'a:b:c' AS url FROM news n WHERE n.x = ':y'" in first


def _blocks(page: str) -> dict[str, str]:
    found = re.findall(r"<!-- BEGIN ([A-Z_]+) -->\n```sql\n(.*?)```", page, re.S)
    return {name: " ".join(sql.split()) for name, sql in found}


def test_the_wordpress_page_holds_the_tested_queries() -> None:
    blocks = _blocks((RECIPES / "wordpress.md").read_text("utf-8"))
    assert blocks["QUERY"] == " ".join(posts_query("mariadb").split())
    assert blocks["ATTACHMENTS_QUERY"] == " ".join(attachments_query("mariadb").split())
    assert blocks["PG_QUERY"] == " ".join(posts_query("postgresql").split())
    assert blocks["PG_ATTACHMENTS_QUERY"] == " ".join(attachments_query("postgresql").split())
