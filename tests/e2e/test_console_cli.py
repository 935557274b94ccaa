"""`syndicator admin ...` as an operator runs it: a prompted or piped password stored as an
argon2id hash, one-line errors with exit 2, every account change in the audit log."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from syndicator.config.databases import create_engine
from syndicator.state.schema import audit_log, operator_accounts
from tests.e2e.test_cli import run

ADDRESS = "VanThu@SoNoiVu.example"


def _rows(tmp_path: Path, table: sa.Table) -> list[sa.Row]:
    engine = create_engine(f"sqlite:///{tmp_path / 'var' / 'syndicator.db'}", "database.url")
    with engine.connect() as conn:
        rows = list(conn.execute(sa.select(table).order_by(table.c.id)))
    engine.dispose()
    return rows


def test_add_user_hashes_the_password_and_audits(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    added = run(tmp_path, "admin", "add-user", ADDRESS, "--role", "editor", "--password-stdin",
                stdin="một mật khẩu đủ dài\n")
    assert added.returncode == 0, added.stderr
    assert "created (editor)" in added.stdout and "/admin/login" in added.stdout
    [account] = _rows(tmp_path, operator_accounts)
    assert (account.email, account.email_key, account.role) == (
        "VanThu@sonoivu.example", "vanthu@sonoivu.example", "editor")
    assert account.password_hash.startswith("$argon2id$")
    assert "mật khẩu" not in account.password_hash
    prompted = run(tmp_path, "admin", "add-user", "xem@sonoivu.example", "--role", "viewer",
                   stdin="mat-khau-nhap-hai-lan\nmat-khau-nhap-hai-lan\n")
    assert prompted.returncode == 0, prompted.stderr
    assert "mat-khau" not in prompted.stdout + prompted.stderr  # never echoed
    listed = json.loads(run(tmp_path, "admin", "list-users", "--json").stdout)
    assert [(u["email"], u["role"], u["active"]) for u in listed] == [
        ("VanThu@sonoivu.example", "editor", True), ("xem@sonoivu.example", "viewer", True)]
    assert run(tmp_path, "admin", "set-role", ADDRESS, "--role", "admin").returncode == 0
    assert run(tmp_path, "admin", "disable-user", ADDRESS).returncode == 0
    actions = [(r.actor, r.action) for r in _rows(tmp_path, audit_log)]
    assert actions == [("cli", "account.added"), ("cli", "account.added"),
                       ("cli", "account.role_set"), ("cli", "account.disabled")]
    assert all(r.client.startswith("cli:") for r in _rows(tmp_path, audit_log))


def test_account_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    short = run(tmp_path, "admin", "add-user", ADDRESS, "--role", "admin", "--password-stdin",
                stdin="ngan\n")
    assert short.returncode == 2 and "at least 12 characters" in short.stderr
    assert short.stderr.strip().count("\n") == 0
    same = run(tmp_path, "admin", "add-user", ADDRESS, "--role", "admin", "--password-stdin",
               stdin="vanthu@sonoivu.example\n")
    assert same.returncode == 2 and "must not be the address" in same.stderr
    bad = run(tmp_path, "admin", "add-user", "khong-phai-dia-chi", "--role", "admin",
              "--password-stdin", stdin="một mật khẩu đủ dài\n")
    assert bad.returncode == 2 and "email" in bad.stderr
    role = run(tmp_path, "admin", "add-user", ADDRESS, "--role", "boss", "--password-stdin",
               stdin="một mật khẩu đủ dài\n")
    assert role.returncode == 2
    assert run(tmp_path, "admin", "add-user", ADDRESS, "--role", "admin", "--password-stdin",
               stdin="một mật khẩu đủ dài\n").returncode == 0
    twice = run(tmp_path, "admin", "add-user", ADDRESS.lower(), "--role", "viewer",
                "--password-stdin", stdin="một mật khẩu khác đủ dài\n")
    assert twice.returncode == 2 and "already has an account" in twice.stderr
    unknown = run(tmp_path, "admin", "set-password", "ai@do.example", "--password-stdin",
                  stdin="một mật khẩu đủ dài\n")
    assert unknown.returncode == 2 and "no account" in unknown.stderr
