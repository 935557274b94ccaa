"""The console's gate: no page without a session, roles, CSRF, fixation, cookie flags, timeouts,
the sign-in limits (kept in the database, so replicas agree), every action in the audit log,
and a 503 page when the state database is away."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.routing import Mount, Route

from syndicator.config.databases import create_engine
from syndicator.state.schema import operator_sessions, subscribers
from syndicator.telemetry import metrics
from tests.integration.delivery_data import add_subscriber
from tests.support.console import PASSWORD, Console, make_console

ADMIN, EDITOR, VIEWER = "quantri@sonoivu.example", "bientap@sonoivu.example", "xem@sonoivu.example"


@pytest.fixture
def console(state: sa.Engine, tmp_path: Path) -> Console:
    c = make_console(state, tmp_path)
    c.account(ADMIN, "admin")
    c.account(EDITOR, "editor")
    c.account(VIEWER, "viewer")
    return c


@pytest.fixture
def lite(sqlite_url: str, tmp_path: Path) -> Any:
    from syndicator.state.db import upgrade

    engine = create_engine(sqlite_url, "database.url")
    upgrade(engine)
    c = make_console(engine, tmp_path)
    c.account(ADMIN, "admin")
    c.account(EDITOR, "editor")
    c.account(VIEWER, "viewer")
    yield c
    engine.dispose()


def _paths(c: Console) -> list[tuple[str, set[str]]]:
    """Every console route with its placeholders filled (the sign-in page left out)."""
    mount = next(r for r in c.app.routes if isinstance(r, Mount))
    fill = {"{sid:int}": "1", "{run_id:int}": "1", "{bid:int}": "1", "{size}": "standard",
            "{rest:path}": "anything"}
    out = []
    for route in mount.routes:
        assert isinstance(route, Route)
        if route.path == "/login":
            continue
        path = route.path
        for key, value in fill.items():
            path = path.replace(key, value)
        out.append(("/admin" + path, set(route.methods or ())))
    return out


def test_no_page_without_a_session(lite: Console) -> None:
    client = lite.client()
    paths = _paths(lite)
    assert len(paths) >= 20
    for path, methods in paths:
        if "GET" in methods:
            r = client.get(path)
            assert r.status_code == 303 and r.headers["location"].startswith(
                "/admin/login?next="), (path, r.status_code)
        if "POST" in methods:
            r = client.post(path, data={"action": "remove", "csrf": "x"})
            assert r.status_code == 403 and "Phiên làm việc đã hết" in r.text, path
    with lite.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(subscribers)) == 0


def test_the_console_is_off_until_an_account_exists(sqlite_url: str, tmp_path: Path) -> None:
    from syndicator.state.db import upgrade

    engine = create_engine(sqlite_url, "database.url")
    upgrade(engine)
    empty = make_console(engine, tmp_path)
    client = empty.client()
    for path in ("/admin/", "/admin/login", "/admin/agencies"):
        r = client.get(path)
        assert r.status_code == 404 and "syndicator admin add-user" in r.text, path
    empty.account(ADMIN, "admin")
    assert client.get("/admin/login").status_code == 200
    engine.dispose()


def test_public_paths_never_reach_the_console(lite: Console) -> None:
    """The subscriber pages' tokens and paths are not a way in; the cookie stays under /admin;
    a sign-in never sends a browser off the console."""
    client = lite.sign_in(EDITOR)
    cookie = next(iter(client.cookies.jar))
    assert cookie.path == "/admin"
    stranger = lite.client()
    stranger.cookies.set("syndicator-admin", "1.forged-signature", path="/admin")
    assert stranger.get("/admin/agencies").status_code == 303
    for target in ("https://evil.example/", "//evil.example/admin", "/subscribe",
                   "/admin/../subscribe", "/administrator", "/admin\\@evil.example"):
        r = lite.post_login(lite.client(), EDITOR, PASSWORD, next_=target)
        assert r.status_code == 303 and r.headers["location"] == "/admin", target


def test_viewer_reads_but_cannot_change_anything(lite: Console) -> None:
    sid = add_subscriber(lite.engine, "vanphong@ubnd.example", status="pending")
    viewer = lite.sign_in(VIEWER)
    assert viewer.get(f"/admin/agencies/{sid}").status_code == 200
    page = viewer.get(f"/admin/agencies/{sid}").text
    assert 'value="remove"' not in page and "Lưu thay đổi" not in page
    csrf = lite.csrf(viewer)
    for action in ("remove", "save", "resend", "reset_links"):
        r = viewer.post(f"/admin/agencies/{sid}", data={"csrf": csrf, "action": action,
                                                       "frequency": "weekly"})
        assert r.status_code == 403 and "Không có quyền" in r.text, action
    r = viewer.post("/admin/agencies/new", data={"csrf": csrf, "email": "moi@ubnd.example",
                                                 "frequency": "daily", "text_size": "standard"})
    assert r.status_code == 403
    r = viewer.post("/admin/agencies/import", data={"csrf": csrf,
                                                    "text": "email\nmoi@ubnd.example\n"})
    assert r.status_code == 403
    assert viewer.get("/admin/agencies/export.csv").status_code == 403
    assert viewer.get("/admin/audit").status_code == 403
    assert viewer.get("/admin/accounts").status_code == 403
    editor = lite.sign_in(EDITOR)
    assert editor.get("/admin/audit").status_code == 403  # the audit log is for admins
    with lite.engine.connect() as conn:
        row = conn.execute(sa.select(subscribers)).one()
    assert (row.status, row.frequency, row.token_version) == ("pending", "daily", 0)


def test_a_post_without_the_sessions_csrf_token_changes_nothing(lite: Console) -> None:
    sid = add_subscriber(lite.engine, "vanphong@ubnd.example")
    editor = lite.sign_in(EDITOR)
    other = lite.sign_in(ADMIN)
    foreign = lite.csrf(other)  # a valid token, of another session
    for data in ({"action": "remove"}, {"action": "remove", "csrf": ""},
                 {"action": "remove", "csrf": "0" * 64}, {"action": "remove", "csrf": foreign}):
        r = editor.post(f"/admin/agencies/{sid}", data=data)
        assert r.status_code == 403 and "Yêu cầu không hợp lệ" in r.text
    r = editor.post("/admin/logout", data={})
    assert r.status_code == 403  # signing out needs the token too
    with lite.engine.connect() as conn:
        assert conn.scalar(sa.select(subscribers.c.status)) == "active"
    r = editor.post(f"/admin/agencies/{sid}", data={"action": "remove",
                                                   "csrf": lite.csrf(editor)})
    assert r.status_code == 303
    with lite.engine.connect() as conn:
        assert conn.scalar(sa.select(subscribers.c.status)) == "unsubscribed"


def test_sign_in_rotates_the_session_no_fixation(lite: Console) -> None:
    client = lite.sign_in(EDITOR)
    before = client.cookies.get("syndicator-admin")
    assert client.get("/admin/").status_code == 200
    lite.sign_in(EDITOR, client=client)  # signing in again, with the old cookie sent along
    after = client.cookies.get("syndicator-admin")
    assert after and after != before
    planted = lite.client()
    planted.cookies.set("syndicator-admin", before, path="/admin")
    assert planted.get("/admin/").status_code == 303  # the old session ended at sign-in
    with lite.engine.connect() as conn:
        stored = list(conn.scalars(sa.select(operator_sessions.c.token_hash)))
    assert all(before.split(".")[0] not in h and after.split(".")[0] not in h for h in stored)


@pytest.mark.parametrize("base, name, secure", [
    ("http://127.0.0.1:8080", "syndicator-admin", False),
    ("https://bantin.sonoivu.example", "__Secure-syndicator-admin", True)])
def test_cookie_flags(sqlite_url: str, tmp_path: Path, base: str, name: str,
                      secure: bool) -> None:
    from syndicator.state.db import upgrade

    engine = create_engine(sqlite_url, "database.url")
    upgrade(engine)
    c = make_console(engine, tmp_path, public_base_url=base)
    c.account(ADMIN, "admin")
    r = c.post_login(c.client(), ADMIN, PASSWORD)
    header = r.headers["set-cookie"]
    assert header.startswith(f"{name}=")
    attrs = {a.strip().split("=")[0].lower(): a for a in header.split(";")[1:]}
    assert "httponly" in attrs and "expires" not in attrs and "max-age" not in attrs
    assert attrs["samesite"].strip().lower() == "samesite=strict"
    assert attrs["path"].strip() == "Path=/admin"
    assert ("secure" in attrs) is secure
    engine.dispose()


def test_idle_and_absolute_timeouts(lite: Console) -> None:
    client = lite.sign_in(EDITOR)
    assert client.get("/admin/").status_code == 200
    with lite.engine.begin() as conn:  # unused for longer than session_idle_minutes
        conn.execute(operator_sessions.update().values(
            last_seen_at=datetime.now(UTC) - timedelta(minutes=31)))
    assert client.get("/admin/").status_code == 303
    client = lite.sign_in(EDITOR)
    with lite.engine.begin() as conn:  # in use all along, but signed in too long ago
        conn.execute(operator_sessions.update().where(operator_sessions.c.ended_at.is_(None))
                     .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert client.get("/admin/").status_code == 303


def test_sign_out_ends_the_session_everywhere(lite: Console) -> None:
    client = lite.sign_in(EDITOR)
    cookie = client.cookies.get("syndicator-admin")
    r = client.post("/admin/logout", data={"csrf": lite.csrf(client)})
    assert r.status_code == 200 and "Đã đăng xuất" in r.text
    assert 'syndicator-admin=""' in r.headers["set-cookie"]
    replay = lite.client()
    replay.cookies.set("syndicator-admin", cookie, path="/admin")
    assert replay.get("/admin/").status_code == 303


def test_disabling_an_account_ends_its_sessions(lite: Console) -> None:
    from syndicator.console import accounts
    from syndicator.console.audit import cli_actor

    client = lite.sign_in(EDITOR)
    accounts.set_active(lite.engine, EDITOR, False, cli_actor())
    assert client.get("/admin/").status_code == 303
    r = lite.post_login(lite.client(), EDITOR, PASSWORD)
    assert r.status_code == 401


def test_failed_sign_ins_are_limited_per_account_across_replicas(console: Console) -> None:
    """Two apps on one database (two replicas): five failures on either lock the account for
    both, even with the right password; other accounts are not affected."""
    replica = make_console(console.engine, Path("/nonexistent"))
    for i in range(5):
        app = console if i % 2 else replica
        r = app.post_login(app.client(f"10.0.0.{i}"), EDITOR, "sai mật khẩu rồi")
        assert r.status_code == 401 and "không đúng" in r.text
    for app in (console, replica):
        r = app.post_login(app.client("10.0.1.1"), EDITOR, PASSWORD)
        assert r.status_code == 429 and "quá nhiều lần" in r.text
    assert console.post_login(console.client("10.0.1.1"), ADMIN, PASSWORD).status_code == 303


def test_failed_sign_ins_are_limited_per_client(lite: Console) -> None:
    ip = "192.0.2.7"
    for i in range(20):
        r = lite.post_login(lite.client(ip), f"doan{i}@sonoivu.example", "thử mật khẩu")
        assert r.status_code == 401
    r = lite.post_login(lite.client(ip), ADMIN, PASSWORD)
    assert r.status_code == 429  # even the right password, from that client
    exposed = metrics.exposition().decode()
    assert re.search(r"syndicator_console_sign_ins_total\{result=\"rate_limited\"\} [1-9]", exposed)
    assert lite.post_login(lite.client("192.0.2.8"), ADMIN, PASSWORD).status_code == 303


def test_a_success_clears_the_accounts_earlier_failures(lite: Console) -> None:
    for _ in range(4):
        assert lite.post_login(lite.client(), EDITOR, "sai").status_code == 401
    assert lite.post_login(lite.client(), EDITOR, PASSWORD).status_code == 303
    for _ in range(4):
        assert lite.post_login(lite.client(), EDITOR, "sai").status_code == 401
    assert lite.post_login(lite.client(), EDITOR, PASSWORD).status_code == 303


def test_every_action_is_in_the_audit_log(console: Console) -> None:
    sid = add_subscriber(console.engine, "cho@ubnd.example", status="pending")
    editor = console.sign_in(EDITOR)
    csrf = console.csrf(editor)
    post = editor.post
    assert post("/admin/agencies/new", data={"csrf": csrf, "email": "moi@ubnd.example",
                                             "frequency": "daily",
                                             "text_size": "standard"}).status_code == 303
    for action in ("save", "resend", "reset_links", "remove"):
        data = {"csrf": csrf, "action": action, "frequency": "weekly", "text_size": "large",
                "name": "UBND xã Đồng Phúc"}
        assert post(f"/admin/agencies/{sid}", data=data).status_code == 303, action
    assert post("/admin/agencies/import", data={"csrf": csrf, "text":
                "email,frequency\nnhap@ubnd.example,weekly\n"}).status_code == 200
    assert editor.get("/admin/agencies/export.csv").status_code == 200
    assert post("/admin/logout", data={"csrf": csrf}).status_code == 200
    console.post_login(console.client("203.0.113.9"), EDITOR, "sai")
    entries = [(e.actor, e.action, e.target_kind, e.client) for e in console.actions()]
    me = (EDITOR, "testclient")
    expected = [("sign_in", "session"), ("subscriber.added", "subscriber"),
                ("subscriber.edited", "subscriber"), ("subscriber.confirmation_resent",
                                                      "subscriber"),
                ("subscriber.links_reset", "subscriber"), ("subscriber.removed", "subscriber"),
                ("subscribers.imported", "import"), ("subscribers.exported", None),
                ("sign_out", "session")]
    mine = [(a, k) for who, a, k, client in entries if (who, client) == me]
    assert mine == expected
    assert entries[-1] == (EDITOR, "sign_in.refused", "account", "203.0.113.9")
    assert [e[1] for e in entries[:3]] == ["account.added"] * 3  # by the command line
    edited = next(e for e in console.actions() if e.action == "subscriber.edited")
    assert edited.detail["from"]["frequency"] == "daily"
    assert edited.detail["to"]["frequency"] == "weekly"
    assert edited.at.tzinfo is not None


def test_state_database_away_gives_the_503_page(tmp_path: Path) -> None:
    engine = create_engine("postgresql://postgres@127.0.0.1:9/none", "database.url",
                           connect_args={"connect_timeout": 2})
    console = make_console(engine, tmp_path)
    client = console.client()
    for path in ("/admin/", "/admin/login", "/admin/agencies", "/admin/runs/1"):
        r = client.get(path)
        assert r.status_code == 503, path
        assert r.headers["content-type"].startswith("text/html")
        assert "không kết nối được với cơ sở dữ liệu" in r.text and 'lang="vi"' in r.text
        assert r.headers["retry-after"] == "30"
    r = client.post("/admin/login", data={"email": ADMIN, "password": PASSWORD})
    assert r.status_code == 503
    assert re.search(r"<title>Tạm thời không dùng được", r.text)


def test_a_body_over_one_megabyte_is_refused_unread(lite: Console) -> None:
    editor = lite.sign_in(EDITOR)
    big = b"email\n" + b"x" * (2 * 1024 * 1024)
    r = editor.post("/admin/agencies/import", data={"csrf": lite.csrf(editor)},
                    files={"file": ("lon.csv", big, "text/csv")})
    assert r.status_code == 413
    with lite.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(subscribers)) == 0
