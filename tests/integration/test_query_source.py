"""source.query: what `check` says about a bad query (one line each), and a query source
polled like a table on every database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from syndicator.config.databases import create_engine
from syndicator.config.settings import Settings
from syndicator.errors import SourceSchemaError
from syndicator.ingest.poll import Poller
from syndicator.source.portal import PortalSource
from syndicator.state.db import upgrade
from syndicator.state.schema import bulletins
from tests.e2e.test_cli import run
from tests.portal import NOW, Portal

# A CMS that keeps categories in a link table: news + category + news_category.
JOINED = """
SELECT n.id AS id, n.title AS title, n.url AS url, n.published_at AS published_at,
       n.status AS status, {agg} AS category
  FROM bulletins n
 WHERE n.status <> 'deleted'"""
AGG = {"sqlite": "(SELECT group_concat(c.name, ';') FROM news_category nc JOIN category c "
                 "ON c.id = nc.category_id WHERE nc.news_id = n.id)",
       "postgresql": "(SELECT string_agg(c.name, ';' ORDER BY c.name) FROM news_category nc "
                     "JOIN category c ON c.id = nc.category_id WHERE nc.news_id = n.id)",
       "mysql": "(SELECT GROUP_CONCAT(c.name ORDER BY c.name SEPARATOR ';') FROM "
                  "news_category nc JOIN category c ON c.id = nc.category_id "
                  "WHERE nc.news_id = n.id)"}


# Its files table: one row per attached file, the path relative to the site.
FILES_QUERY = """
SELECT f.news_id AS bulletin_id, f.path AS url, f.name AS title, f.bytes AS size,
       f.mime AS type
  FROM news_file f"""


def _source(url: str, query: str) -> PortalSource:
    settings = Settings(source={"url": url, "query": query})
    return PortalSource(settings.source, settings.tz)


def _fails(url: str, query: str) -> str:
    source = _source(url, query)
    with pytest.raises(SourceSchemaError) as caught:
        source.ping()
    source.engine.dispose()
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.fixture
def portal_url(db_pair: tuple[str, str]) -> Iterator[str]:
    portal = Portal(db_pair[1])
    portal.insert(1)
    portal.engine.dispose()
    yield db_pair[1]


def test_check_names_missing_labels(portal_url: str) -> None:
    message = _fails(portal_url, "SELECT id, title AS tieu_de, url FROM bulletins")
    assert message.startswith("source.query has no column labelled 'title', 'published_at', "
                              "'status' (it has: id, tieu_de, url)")


def test_check_names_the_sql_error_and_its_position(portal_url: str) -> None:
    query = "SELECT id, title,\n       url FORM bulletins"
    message = _fails(portal_url, query)
    assert message.startswith("source.query fails: ")
    assert "FORM" in message or "syntax" in message.lower()
    if portal_url.startswith("postgresql"):  # the one database that says where
        # "url FORM" reads as a column alias: the error is at "bulletins", and says so.
        assert message.endswith('"bulletins" (line 2, column 17 of the query)'), message
    unknown = _fails(portal_url, "SELECT id, titel AS title, url, published_at, status "
                                 "FROM bulletins")
    assert "titel" in unknown


def test_check_command_prints_one_line_for_a_bad_query(tmp_path: Path) -> None:
    assert run(tmp_path, "demo").returncode == 0
    env = {"SYNDICATOR_SOURCE__QUERY": "SELECT id, title FROM bulletins"}
    checked = run(tmp_path, "check", env=env)
    assert checked.returncode == 1
    [line] = [x for x in checked.stdout.splitlines() if "source database" in x]
    assert "source.query has no column labelled 'url', 'published_at', 'status'" in line
    good = "SELECT id, title, summary, url, published_at, status, category FROM bulletins"
    checked = run(tmp_path, "check", env={"SYNDICATOR_SOURCE__QUERY": good})
    assert "ok   source database: sqlite:///var/portal.db query with id, title, summary, " \
        "category, url, published_at, status" in checked.stdout


def test_a_query_over_a_link_table_polls_like_a_table(db_pair: tuple[str, str]) -> None:
    state_url, portal_url = db_pair
    portal = Portal(portal_url)
    kind = portal.engine.dialect.name
    with portal.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE category (id INTEGER PRIMARY KEY, name VARCHAR(100))"))
        conn.execute(sa.text("CREATE TABLE news_category (news_id INTEGER, category_id INTEGER,"
                             " PRIMARY KEY (news_id, category_id))"))
        conn.execute(sa.text("INSERT INTO category VALUES (1, 'Tin tức'), (2, 'Chuyển đổi số')"))
        conn.execute(sa.text("CREATE TABLE news_file (id INTEGER PRIMARY KEY, news_id INTEGER, "
                             "path VARCHAR(200), name VARCHAR(200), bytes INTEGER, "
                             "mime VARCHAR(100))"))
        conn.execute(sa.text("INSERT INTO news_file VALUES "
                             "(1, 1, '/files/qd-45.pdf', 'Quyết định 45/QĐ-SNV', 250880, "
                             "'application/pdf'), (2, 1, '/files/phu-luc.xlsx', 'Phụ lục', "
                             "NULL, NULL), (3, 4, '/files/tb-12.pdf', 'Thông báo', 1000, "
                             "'application/pdf')"))
    for i in range(1, 8):
        portal.insert(i, status="draft" if i == 7 else "published")
        with portal.engine.begin() as conn:
            for c in ((1, 2) if i % 2 else (1,)):
                conn.execute(sa.text("INSERT INTO news_category VALUES (:n, :c)"),
                             {"n": i, "c": c})
    settings = Settings(source={"url": portal_url, "category_separator": ";",
                                "query": JOINED.format(agg=AGG[kind]),
                                "attachments_query": FILES_QUERY},
                        site={"url": "https://sonoivu.backan.example/"},
                        ingest={"sweep_batch": 10})
    state = create_engine(state_url, "database.url")
    upgrade(state)
    source = PortalSource(settings.source, settings.tz)
    clock = [NOW]
    poller = Poller(settings, source, state, clock=lambda: clock[0])
    assert len(poller.poll().new) == 6
    assert source.describe().pages_new_ids  # integer ids: new rows are paged by id
    portal.insert(8)  # a new row: found by id
    portal.update(3, updated_at=NOW, status="deleted")  # gone from the query: withdrawn
    clock[0] += timedelta(minutes=1)
    report = poller.poll()
    assert len(report.new) == 1 and len(report.withdrawn) == 1
    with state.connect() as conn:
        cats = dict(conn.execute(sa.select(bulletins.c.source_id, bulletins.c.categories)
                                 .where(bulletins.c.state == "public")).all())
        files = dict(conn.execute(sa.select(bulletins.c.source_id, bulletins.c.attachments)
                                  .where(bulletins.c.state == "public")).all())
    assert set(cats) == {"1", "2", "4", "5", "6", "8"}
    assert "Chuyển đổi số" in cats["1"] and "Chuyển đổi số" not in cats["2"]
    assert sorted((f["url"], f["size"], f["type"]) for f in json.loads(files["1"])) == [
        ("https://sonoivu.backan.example/files/phu-luc.xlsx", None,
         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("https://sonoivu.backan.example/files/qd-45.pdf", 250880, "application/pdf")]
    assert json.loads(files["4"])[0]["title"] == "Thông báo" and files["2"] is None
    for engine in (state, source.engine, portal.engine):
        engine.dispose()
