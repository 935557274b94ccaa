"""Who the client is, and how much mail anyone can make us send: X-Forwarded-For believed from
subscriptions.trusted_proxies only, form tokens spent once (across a restart), one page mail
per address per hour, a global hourly ceiling; file parts and oversized bodies refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.daemon import Daemon, clean_env, cli, free_port


def _token(daemon: Daemon, path: str = "/subscribe") -> str:
    return daemon.get(path).text.split('name="form_token" value="', 1)[1].split('"', 1)[0]


def _subscribe(daemon: Daemon, email: str, token: str | None = None,
               forwarded: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    data = {"form_token": token or _token(daemon), "email": email, "frequency": "daily",
            "text_size": "standard", "consent": "1", "name": "UBND xã"}
    return httpx.post(daemon.base + "/subscribe", data=data, headers=headers, timeout=10)


def _start(cwd: Path, **keys: str) -> Daemon:
    port = free_port()
    env = clean_env(http__port=str(port), **keys)
    if not (cwd / "var").exists():
        assert cli(cwd, env, "demo").returncode == 0
    daemon = Daemon(cwd, env, port).start()
    daemon.wait_ready()
    return daemon


@pytest.fixture
def untrusting(tmp_path: Path) -> Iterator[Daemon]:
    daemon = _start(tmp_path, subscriptions__requests_per_client_per_hour="5")
    yield daemon
    daemon.kill()


def test_rotating_forwarded_for_is_one_client_without_a_trusted_proxy(
        untrusting: Daemon, tmp_path: Path) -> None:
    codes = [_subscribe(untrusting, f"a{i}@ubnd.example.gov.vn",
                        forwarded=f"198.51.100.{i}").status_code for i in range(30)]
    assert codes == [200] * 5 + [429] * 25  # all limited as the one peer, 127.0.0.1
    consent = cli(tmp_path, untrusting.env, "subscribers", "consent", "a0@ubnd.example.gov.vn")
    record = json.loads(consent.stdout)
    clients = {e["detail"].get("client") for e in record["events"] if "client" in e["detail"]}
    assert clients == {"127.0.0.1"}  # the forged address is not stored as consent evidence


def test_a_form_token_works_once_even_across_a_restart(tmp_path: Path) -> None:
    daemon = _start(tmp_path)
    try:
        token = _token(daemon)
        assert _subscribe(daemon, "one@ubnd.example.gov.vn", token).status_code == 200
        again = _subscribe(daemon, "two@ubnd.example.gov.vn", token)
        assert again.status_code == 400 and "two@ubnd.example.gov.vn" in again.text
        assert daemon.stop()[0] == 0
        daemon = _start(tmp_path)
        replay = _subscribe(daemon, "three@ubnd.example.gov.vn", token)
        assert replay.status_code == 400
        listed = cli(tmp_path, daemon.env, "subscribers", "list", "--json")
        emails = {s["email"] for s in json.loads(listed.stdout)}
        assert "one@ubnd.example.gov.vn" in emails
        assert not emails & {"two@ubnd.example.gov.vn", "three@ubnd.example.gov.vn"}
    finally:
        daemon.kill()


def test_a_trusted_proxy_names_clients_and_the_hourly_ceiling_holds(tmp_path: Path) -> None:
    daemon = _start(tmp_path, subscriptions__trusted_proxies="127.0.0.1",
                    subscriptions__requests_per_client_per_hour="2",
                    subscriptions__mails_per_hour="4")
    try:
        codes = [_subscribe(daemon, f"c{i}@ubnd.example.gov.vn",
                            forwarded=f"198.51.100.{i}").status_code for i in range(8)]
        # Each forwarded address is its own client now; the ceiling stops the fifth mail.
        assert codes[:4] == [200] * 4 and set(codes[4:]) == {429}
        refused = _subscribe(daemon, "late@ubnd.example.gov.vn", forwarded="198.51.100.99")
        assert refused.status_code == 429 and "Tạm ngừng gửi thư" in refused.text
        assert refused.headers["retry-after"] == "600"
        metrics = daemon.get("/metrics").text
        assert "syndicator_subscriber_mail_ceiling_total 5.0" in metrics
        listed = json.loads(cli(tmp_path, daemon.env, "subscribers", "list", "--json").stdout)
        assert "late@ubnd.example.gov.vn" not in {s["email"] for s in listed}  # nothing kept
        consent = json.loads(cli(tmp_path, daemon.env, "subscribers", "consent",
                                 "c0@ubnd.example.gov.vn").stdout)
        assert {e["detail"].get("client") for e in consent["events"]} >= {"198.51.100.0"}
        assert sum(e["event"] == "pages.mail_ceiling" for e in daemon.log_events()) == 1
    finally:
        daemon.kill()


def test_file_parts_and_oversized_bodies_are_refused_with_a_vietnamese_page(
        untrusting: Daemon) -> None:
    files = {"name": ("agency.txt", b"=HYPERLINK(\"http://evil\")", "text/plain")}
    data = {"form_token": _token(untrusting), "email": "f@ubnd.example.gov.vn",
            "consent": "1"}
    r = httpx.post(untrusting.base + "/subscribe", data=data, files=files, timeout=10)
    assert r.status_code == 400 and "không nhận tệp đính kèm" in r.text
    big = httpx.post(untrusting.base + "/unsubscribe/abc", content=b"a" * (2 * 1024 * 1024),
                     headers={"content-type": "application/x-www-form-urlencoded"}, timeout=10)
    assert big.status_code == 413 and "Biểu mẫu quá lớn" in big.text
    assert '<html lang="vi"' in big.text
