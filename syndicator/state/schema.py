"""The state database's tables (SQLAlchemy Core); Alembic migrations create them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from syndicator.state.types import UTCDateTime

# Unbounded text: MySQL/MariaDB TEXT stops at 64 KB, and a longer bulletin body is common.
LongText = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
# Bytes kept for a look (returned mail): MySQL/MariaDB BLOB stops at 64 KB.
LongBlob = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

# A cleaned copy of each bulletin the portal has made public (and of those it withdrew).
bulletins = sa.Table(
    "bulletins",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source_id", sa.String(191), nullable=False, unique=True),
    # The portal's own spelling of the id (CHAR padding, NFD) when it differs from source_id:
    # what we bind to ask the portal for this row again. NULL: source_id itself.
    sa.Column("source_key", LongText),
    sa.Column("title", LongText, nullable=False),
    sa.Column("summary", LongText),
    sa.Column("body_html", LongText),
    sa.Column("author", LongText),
    sa.Column("category", sa.String(191)),
    sa.Column("category_slug", sa.String(191), index=True),
    sa.Column("url", LongText, nullable=False),
    sa.Column("published_at", UTCDateTime, nullable=False, index=True),
    sa.Column("source_updated_at", UTCDateTime),
    sa.Column("first_seen_at", UTCDateTime, nullable=False, index=True),
    sa.Column("changed_at", UTCDateTime, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
    sa.Column("state", sa.String(16), nullable=False, server_default="public", index=True),
    sa.Column("withdrawn_at", UTCDateTime),
    # False for bulletins too old to announce when first seen (the first import of an archive).
    sa.Column("notify", sa.Boolean, nullable=False, server_default=sa.true()),
    # JSON: every [name, slug] (the first is also category/category_slug), the official
    # document's details, the files (migration 0010).
    sa.Column("categories", LongText),
    sa.Column("document", LongText),
    sa.Column("attachments", LongText),
    # Every poll's hot set reads the latest withdrawals, newest first: a range, not every one.
    sa.Index("ix_bulletins_state_withdrawn_at", "state", "withdrawn_at"),
)

subscribers = sa.Table(
    "subscribers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("email", sa.String(320), nullable=False),
    # Lower-cased address: unique, so that one mailbox is one subscriber.
    sa.Column("email_key", sa.String(320), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("frequency", sa.String(16), nullable=False),
    sa.Column("categories", sa.JSON, nullable=False),
    sa.Column("text_size", sa.String(16), nullable=False, server_default="standard"),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("consent_source", sa.String(32), nullable=False),
    sa.Column("token_version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("hard_bounces", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("confirmed_at", UTCDateTime),
    sa.Column("unsubscribed_at", UTCDateTime),
)

# The consent history: append-only, kept after unsubscribing (demonstrable consent).
consent_events = sa.Table(
    "consent_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id"), nullable=False,
              index=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
    # The hourly ceiling on confirmation and manage-link mails counts by (event, at).
    sa.Index("ix_consent_events_event_at", "event", "at"),
)

# Small named values: ingest watermarks, the sweep cursor, generated secrets.
state_values = sa.Table(
    "state_values",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# One row per (frequency, period start): the database, not the scheduler, decides a run exists.
digest_runs = sa.Table(
    "digest_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("frequency", sa.String(16), nullable=False),
    sa.Column("period_start", UTCDateTime, nullable=False),
    sa.Column("period_end", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # composing | sending | complete
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("completed_at", UTCDateTime),
    sa.UniqueConstraint("frequency", "period_start"),
    # Runs never overlap (planning/runs.py); two that end at one boundary would. An index,
    # not a constraint: SQLite adds one without rebuilding a table others refer to.
    sa.Index("ix_digest_runs_frequency_period_end", "frequency", "period_end", unique=True),
)

# What a run's digests contained (variant-independent), so /digests/<id> re-renders what was sent.
digest_contents = sa.Table(
    "digest_contents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("digest_id", sa.String(64), nullable=False, unique=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("digest_runs.id"), nullable=False),
    sa.Column("content_key", sa.String(64), nullable=False),  # sha256 of the bulletin ids
    sa.Column("bulletin_ids", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("run_id", "content_key"),
)

# The outbox: every mail is a row, a status machine claimed under a lease. A digest is one
# row per (run, subscriber); a page mail (confirmation, manage link) has no run or content.
# Mail to a configured address (a canary's copy, the operator's alert) has `address` and no
# subscriber.
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("digest_runs.id")),
    sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id"), index=True),
    sa.Column("address", sa.String(320)),  # when subscriber_id is null
    sa.Column("content_id", sa.Integer, sa.ForeignKey("digest_contents.id")),
    sa.Column("kind", sa.String(24), nullable=False, server_default="digest"),
    sa.Column("payload", sa.JSON),  # what composing needs besides the subscriber
    sa.Column("priority", sa.SmallInteger, nullable=False, server_default="5"),  # 0 first
    # pending | sending | sent | failed | skipped
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("lease_owner", sa.String(120)),
    sa.Column("lease_until", UTCDateTime),
    sa.Column("message_id", sa.String(255)),
    sa.Column("last_code", sa.Integer),
    sa.Column("last_reply", sa.String(500)),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # A hard bounce reported by mail after the server accepted the message (docs/adr/011).
    sa.Column("late_bounce_at", UTCDateTime),
    sa.Column("late_bounce_status", sa.String(16)),  # RFC 3463 X.Y.Z
    sa.Column("late_bounce_code", sa.Integer),  # the SMTP code in its diagnostic, if any
    sa.Column("late_bounce_detail", sa.String(500)),  # the Diagnostic-Code, cut
    sa.UniqueConstraint("run_id", "subscriber_id"),
    sa.Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    sa.Index("ix_deliveries_run_id_status", "run_id", "status"),  # is the run complete?
    sa.Index("ix_deliveries_message_id", "message_id"),  # a returned message names it
)

# Every message that came back (bounces, complaints, replies), once: the unique key makes the
# same message read again (a retried pipe, a mailbox re-read after a crash, two readers at
# once) a no-op. Unknown and refused messages keep their bytes (cut) for a look.
returned_messages = sa.Table(
    "returned_messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("message_key", sa.String(64), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("effect", sa.String(32), nullable=False),  # what it did (docs/returned-mail.md)
    sa.Column("tied_by", sa.String(16)),  # tag | message_id | subscriber_tag | address
    sa.Column("delivery_id", sa.Integer, index=True),  # no foreign key: deliveries are purged
    sa.Column("subscriber_id", sa.Integer, index=True),
    sa.Column("received_at", UTCDateTime, nullable=False, index=True),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Column("raw", LongBlob),
    # Unknown messages forwarded to mail.reply_to: claimed by a conditional update, retried.
    sa.Column("forward_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("forward_claimed_at", UTCDateTime),
    sa.Column("forwarded_at", UTCDateTime),
)

# --- the operator's console (migration 0006) ---------------------------------------------

# People who may use /admin; the console is off while this table is empty.
operator_accounts = sa.Table(
    "operator_accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("email_key", sa.String(320), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),  # viewer | editor | admin
    sa.Column("password_hash", sa.String(255), nullable=False),  # argon2id, PHC string
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("last_sign_in_at", UTCDateTime),
)

# Signed-in sessions: the cookie carries a random id, the table only its SHA-256, so that a
# copy of the database signs no one in. Every replica sees a sign-out at once.
operator_sessions = sa.Table(
    "operator_sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("operator_accounts.id"), nullable=False,
              index=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),  # the absolute limit
    sa.Column("ended_at", UTCDateTime),
    sa.Column("client", sa.String(64), nullable=False),
)

# Sign-in attempts, counted per account and per client over a window (replicas agree).
login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("account_key", sa.String(320), nullable=False),
    sa.Column("client", sa.String(64), nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Index("ix_login_attempts_account_key_at", "account_key", "at"),
    sa.Index("ix_login_attempts_client_at", "client", "at"),
)

# Every operator action: who, what, on what, when, from where. Append-only, kept like the
# consent history.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime, nullable=False, index=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("operator_accounts.id")),  # None: CLI
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("action", sa.String(48), nullable=False),
    sa.Column("target_kind", sa.String(32)),
    sa.Column("target_id", sa.String(191)),
    sa.Column("client", sa.String(64), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Index("ix_audit_log_target_kind_target_id", "target_kind", "target_id"),
)

# The console's lists page by key: a status filter walks one index in address order, and a
# bulletin's deliveries are found by their digest content.
sa.Index("ix_subscribers_status_email_key", subscribers.c.status, subscribers.c.email_key)
sa.Index("ix_deliveries_content_id", deliveries.c.content_id)

# Portal rows skipped now (unreadable or uncleanable, or sharing an id): what
# `syndicator source problems`, `check` and an admin page list. A row leaves when it is read
# well again, or when a whole discovery sweep passed without meeting it.
source_problems = sa.Table(
    "source_problems",
    metadata,
    sa.Column("ref", sa.String(64), primary_key=True),  # sha256 of the portal's key
    sa.Column("source_id", sa.String(200), nullable=False),  # for people; may be cut
    sa.Column("field", sa.String(32), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("problem", sa.String(500), nullable=False),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False, index=True),
)

# Form tokens whose POST succeeded: a token works once, across restarts and replicas. A row
# outlives its token's own expiry only until the next spend purges it.
spent_form_tokens = sa.Table(
    "spent_form_tokens",
    metadata,
    sa.Column("nonce", sa.String(64), primary_key=True),
    sa.Column("expires_at", UTCDateTime, nullable=False, index=True),
)

# --- corrections and withdrawals (migration 0011, docs/adr/018) --------------------------

# The versions of a bulletin that readers were or are to be told about: one row per change in
# substance or withdrawal. Version 1 (what was first mailed) is written when the first such
# change is seen, from our copy as it stood. `text` is the visible text compared for substance.
bulletin_versions = sa.Table(
    "bulletin_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("bulletin_id", sa.Integer, sa.ForeignKey("bulletins.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # public | withdrawn
    sa.Column("fingerprint", sa.String(64), nullable=False),  # sha256 of `text`
    sa.Column("title", LongText, nullable=False),
    sa.Column("lead", LongText, nullable=False),  # the summary's visible text ('' if none)
    sa.Column("text", LongText, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False, index=True),
    # When its notices were queued (or found due to nobody); NULL: still to plan, after a crash
    # too. Planning reads only these rows: a version is planned once.
    sa.Column("planned_at", UTCDateTime),
    sa.UniqueConstraint("bulletin_id", "version"),
)

# Which version of a bulletin each subscriber was told about, and by which mail: the unique
# key is the claim that announces a version once, whatever process or retry gets there first.
correction_notices = sa.Table(
    "correction_notices",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("subscriber_id", sa.Integer, sa.ForeignKey("subscribers.id"), nullable=False),
    sa.Column("bulletin_id", sa.Integer, sa.ForeignKey("bulletins.id"), nullable=False,
              index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("from_version", sa.Integer, nullable=False),  # what they had before
    sa.Column("how", sa.String(16), nullable=False),  # immediate | next_digest
    sa.Column("delivery_id", sa.Integer, index=True),  # its mail (no FK: deliveries are purged)
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("subscriber_id", "bulletin_id", "version"),
)
