"""WordPress's core tables (wp-admin/includes/schema.php, the columns we read) and the
recipe queries of docs/recipes/wordpress.md, on MariaDB and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from syndicator.config.databases import create_engine

LONG = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
BIGINT = sa.BigInteger().with_variant(mysql.BIGINT(unsigned=True), "mysql", "mariadb")
ZERO = datetime(1970, 1, 1)  # WordPress writes '0000-00-00 00:00:00'; PostgreSQL cannot

meta = sa.MetaData()
wp_users = sa.Table(
    "wp_users", meta,
    sa.Column("ID", BIGINT, primary_key=True, autoincrement=True),
    sa.Column("user_login", sa.String(60), nullable=False, server_default="", index=True),
    sa.Column("user_nicename", sa.String(50), nullable=False, server_default=""),
    sa.Column("user_email", sa.String(100), nullable=False, server_default=""),
    sa.Column("display_name", sa.String(250), nullable=False, server_default=""))
wp_posts = sa.Table(
    "wp_posts", meta,
    sa.Column("ID", BIGINT, primary_key=True, autoincrement=True),
    sa.Column("post_author", BIGINT, nullable=False, server_default="0", index=True),
    sa.Column("post_date", sa.DateTime, nullable=False),
    sa.Column("post_date_gmt", sa.DateTime, nullable=False),
    sa.Column("post_content", LONG, nullable=False),
    sa.Column("post_title", sa.Text, nullable=False),
    sa.Column("post_excerpt", sa.Text, nullable=False),
    sa.Column("post_status", sa.String(20), nullable=False, server_default="publish"),
    sa.Column("post_name", sa.String(200), nullable=False, server_default="", index=True),
    sa.Column("post_modified", sa.DateTime, nullable=False),
    sa.Column("post_modified_gmt", sa.DateTime, nullable=False),
    sa.Column("post_parent", BIGINT, nullable=False, server_default="0", index=True),
    sa.Column("guid", sa.String(255), nullable=False, server_default=""),
    sa.Column("menu_order", sa.Integer, nullable=False, server_default="0"),
    sa.Column("post_type", sa.String(20), nullable=False, server_default="post"),
    sa.Column("post_mime_type", sa.String(100), nullable=False, server_default=""),
    sa.Index("type_status_date", "post_type", "post_status", "post_date", "ID"))
wp_postmeta = sa.Table(
    "wp_postmeta", meta,
    sa.Column("meta_id", BIGINT, primary_key=True, autoincrement=True),
    sa.Column("post_id", BIGINT, nullable=False, server_default="0", index=True),
    sa.Column("meta_key", sa.String(255), index=True),
    sa.Column("meta_value", LONG))
wp_terms = sa.Table(
    "wp_terms", meta,
    sa.Column("term_id", BIGINT, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("slug", sa.String(200), nullable=False, server_default="", index=True),
    sa.Column("term_group", sa.BigInteger, nullable=False, server_default="0"))
wp_term_taxonomy = sa.Table(
    "wp_term_taxonomy", meta,
    sa.Column("term_taxonomy_id", BIGINT, primary_key=True, autoincrement=True),
    sa.Column("term_id", BIGINT, nullable=False, server_default="0"),
    sa.Column("taxonomy", sa.String(32), nullable=False, server_default="", index=True),
    sa.Column("description", LONG, nullable=False),
    sa.Column("parent", BIGINT, nullable=False, server_default="0"),
    sa.Column("count", sa.BigInteger, nullable=False, server_default="0"),
    sa.UniqueConstraint("term_id", "taxonomy", name="term_id_taxonomy"))
wp_term_relationships = sa.Table(
    "wp_term_relationships", meta,
    sa.Column("object_id", BIGINT, primary_key=True, server_default="0"),
    sa.Column("term_taxonomy_id", BIGINT, primary_key=True, server_default="0", index=True),
    sa.Column("term_order", sa.Integer, nullable=False, server_default="0"))

# The recipe's document details: custom fields (ACF and the like keep one meta row each).
_META = {"document_number": "so_ky_hieu", "issued_at": "ngay_ban_hanh",
         "issuer": "co_quan_ban_hanh", "document_type": "loai_van_ban"}


def _meta(field: str) -> str:
    return (f"(SELECT m.meta_value FROM wp_postmeta m WHERE m.post_id = p.ID "
            f"AND m.meta_key = '{_META[field]}' LIMIT 1) AS {field}")


def posts_query(dialect: str) -> str:
    """source.query: posts (not pages, revisions or attachments), categories joined by ';'.

    `future` counts as published: a scheduled post whose time has passed is public even when
    WP-Cron has not switched it yet ("missed schedule"); before its time our
    published_at <= now rule keeps it out.
    """
    if dialect == "postgresql":
        categories = "string_agg(t.name, ';' ORDER BY t.name)"
        url = "'/?p=' || p.\"ID\""
        q = '"'
    else:
        categories = "GROUP_CONCAT(t.name ORDER BY t.name SEPARATOR ';')"
        url = "CONCAT('/?p=', p.ID)"
        q = ""
    sql = f"""
SELECT p.ID AS id, p.post_title AS title, p.post_excerpt AS summary,
       p.post_content AS body_html, u.display_name AS author,
       (SELECT {categories}
          FROM wp_term_relationships tr
          JOIN wp_term_taxonomy tt ON tt.term_taxonomy_id = tr.term_taxonomy_id
                                  AND tt.taxonomy = 'category'
          JOIN wp_terms t ON t.term_id = tt.term_id
         WHERE tr.object_id = p.ID) AS category,
       {url} AS url, p.post_date AS published_at, p.post_modified AS updated_at,
       CASE WHEN p.post_status IN ('publish', 'future') THEN 'publish'
            ELSE p.post_status END AS status,
       {(',' + chr(10) + '       ').join(_meta(f) for f in _META)}
  FROM wp_posts p
  LEFT JOIN wp_users u ON u.ID = p.post_author
 WHERE p.post_type = 'post'"""
    return _quote_ids(sql) if q else sql


def attachments_query(dialect: str) -> str:
    """source.attachments_query: attachment posts under each post, the file from
    `_wp_attached_file`, its size from `_wp_attachment_metadata` (WordPress 6.0+)."""
    if dialect == "postgresql":
        url = "'/wp-content/uploads/' || f.meta_value"
        size = "substring(s.meta_value from 's:8:\"filesize\";i:([0-9]+);')"
    else:
        url = "CONCAT('/wp-content/uploads/', f.meta_value)"
        size = ("SUBSTRING_INDEX(SUBSTRING_INDEX(s.meta_value, 's:8:\"filesize\";i:', -1), "
                "';', 1)")
    sql = f"""
SELECT a.post_parent AS bulletin_id, {url} AS url, a.post_title AS title,
       {size} AS size, a.post_mime_type AS type
  FROM wp_posts a
  JOIN wp_postmeta f ON f.post_id = a.ID AND f.meta_key = '_wp_attached_file'
  LEFT JOIN wp_postmeta s ON s.post_id = a.ID AND s.meta_key = '_wp_attachment_metadata'
 WHERE a.post_type = 'attachment'"""
    return _quote_ids(sql) if dialect == "postgresql" else sql


def _quote_ids(sql: str) -> str:
    """WordPress's upper-case ID column, as PostgreSQL needs it quoted."""
    return sql.replace('p."ID"', "p.ID").replace(".ID", '."ID"')


class WordPress:
    """Writes rows the way WordPress does: posts, pages, revisions, terms, attachments."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, "portal")
        meta.create_all(self.engine)
        self.dialect = self.engine.dialect.name
        self._terms: dict[tuple[str, str], int] = {}
        with self.engine.begin() as conn:
            self.author = conn.execute(wp_users.insert().values(
                user_login="bientap", display_name="Phòng Văn thư")).inserted_primary_key[0]

    def term(self, name: str, taxonomy: str = "category") -> int:
        if (name, taxonomy) not in self._terms:
            with self.engine.begin() as conn:
                term_id = conn.execute(wp_terms.insert().values(
                    name=name, slug=name.lower())).inserted_primary_key[0]
                self._terms[(name, taxonomy)] = conn.execute(wp_term_taxonomy.insert().values(
                    term_id=term_id, taxonomy=taxonomy, description="")).inserted_primary_key[0]
        return self._terms[(name, taxonomy)]

    def post(self, title: str, at: datetime, *, status: str = "publish", type: str = "post",
             categories: tuple[str, ...] = (), tags: tuple[str, ...] = (), parent: int = 0,
             meta_values: dict[str, str] | None = None, modified: datetime | None = None,
             mime: str = "") -> int:
        """A wp_posts row (local time in post_date, as WordPress writes it) and its terms."""
        values: dict[str, Any] = {
            "post_author": self.author, "post_date": at, "post_date_gmt": ZERO,
            "post_content": f"<p>{title}: toàn văn.</p>", "post_title": title,
            "post_excerpt": f"Tóm tắt: {title}", "post_status": status,
            "post_modified": modified or at, "post_modified_gmt": ZERO,
            "post_parent": parent, "post_type": type, "post_mime_type": mime}
        with self.engine.begin() as conn:
            pid = int(conn.execute(wp_posts.insert().values(**values)).inserted_primary_key[0])
            for tt in [self.term(c) for c in categories] + [self.term(t, "post_tag")
                                                            for t in tags]:
                conn.execute(wp_term_relationships.insert().values(object_id=pid,
                                                                   term_taxonomy_id=tt))
            for key, value in (meta_values or {}).items():
                conn.execute(wp_postmeta.insert().values(post_id=pid, meta_key=key,
                                                         meta_value=value))
        return pid

    def attach(self, parent: int, title: str, path: str, mime: str, at: datetime,
               size: int | None = None) -> int:
        """An attachment post under `parent`, as the media library stores an upload."""
        metadata = (f'a:2:{{s:8:"filesize";i:{size};s:4:"file";s:{len(path)}:"{path}";}}'
                    if size else 'a:0:{}')
        return self.post(title, at, status="inherit", type="attachment", parent=parent,
                         mime=mime, meta_values={"_wp_attached_file": path,
                                                 "_wp_attachment_metadata": metadata})

    def set(self, pid: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(wp_posts.update().where(wp_posts.c.ID == pid).values(**values))
