"""Spent form tokens: each rendered form's POST succeeds once (spent_form_tokens table)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from syndicator.state.schema import spent_form_tokens as table


def spend(engine: Engine, nonce: str, expires_at: datetime, now: datetime) -> bool:
    """Mark the token spent; False when it already was (a replayed or double-sent form).

    The primary key decides, so two replicas or two quick clicks cannot both win. Tokens
    past their own expiry are refused by their signature anyway: their rows are dropped.
    """
    with engine.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.expires_at < now))
        try:
            with conn.begin_nested():
                conn.execute(sa.insert(table).values(nonce=nonce[:64], expires_at=expires_at))
        except sa.exc.IntegrityError:
            return False
    return True
