"""`syndicator bounces read` as an MTA's pipe runs it, and `bounces list/show`, `deliveries`,
`check` as an operator reads them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from email import message_from_bytes
from pathlib import Path

import pytest
import sqlalchemy as sa

from syndicator.compose.verp import Verp
from tests.support.returned_mail import SECRET, corpus, keep_secret, postfix_dsn

REPO = Path(__file__).resolve().parents[2]
RETURN_PATH = "bounces@bounce.test"
IMMEDIATE = "vanphong@ubnd-babe.example"  # the demo's immediate subscriber


def run(cwd: Path, *args: str, stdin: bytes = b"",
        **env: str) -> subprocess.CompletedProcess[bytes]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATOR_")}
    environ |= {"SYNDICATOR_BOUNCES__RETURN_PATH": RETURN_PATH}
    environ |= {f"SYNDICATOR_{k.upper()}": v for k, v in env.items()}
    return subprocess.run([sys.executable, "-m", "syndicator", "--config",
                           str(REPO / "config.yaml"), *args], cwd=cwd, input=stdin,
                          capture_output=True, timeout=120, env=environ)


@pytest.fixture
def sent(tmp_path: Path) -> tuple[Path, int, str]:
    """The demo's immediate digest, written with its envelope sender: (dir, delivery, msgid)."""
    done = run(tmp_path, "db", "upgrade")
    assert done.returncode == 0, done.stderr.decode()
    # The key the corpus's tags were signed with, kept as the generated key would be.
    keep_secret(sa.create_engine(f"sqlite:///{tmp_path / 'var/syndicator.db'}"))
    for verb in (("demo",), ("poll",), ("deliver",)):
        done = run(tmp_path, *verb)
        assert done.returncode == 0, done.stderr.decode()
    (eml,) = (tmp_path / "var/mail").glob("*.eml")
    msg = message_from_bytes(eml.read_bytes())
    tag = Verp(RETURN_PATH, SECRET).read(msg["Return-Path"])
    assert tag is not None
    return tmp_path, tag.delivery_id, msg["Message-ID"]  # type: ignore[union-attr]


def test_a_piped_dsn_counts_once_and_deliveries_shows_it(sent: tuple[Path, int, str]) -> None:
    cwd, delivery_id, message_id = sent
    dsn = postfix_dsn(delivery_id, message_id, IMMEDIATE, subscriber=None)
    first = run(cwd, "bounces", "read", "--sysexits", stdin=dsn)
    assert first.returncode == 0, first.stderr.decode()
    assert first.stdout.decode().startswith(f"bounces: hard (dsn) -> counted, record 1, "
                                            f"delivery {delivery_id}")
    (cwd / "dsn.eml").write_bytes(dsn)
    again = run(cwd, "bounces", "read", "dsn.eml")  # the MTA delivered it twice
    assert again.returncode == 0 and b"already recorded" in again.stdout
    rows = json.loads(run(cwd, "deliveries", "--json").stdout)
    assert (rows[0]["id"], rows[0]["status"], rows[0]["late_bounce_status"]) == (
        delivery_id, "sent", "5.1.1")
    assert "late bounce 5.1.1" in run(cwd, "deliveries").stdout.decode()
    listed = json.loads(run(cwd, "bounces", "list", "--json").stdout)
    assert [(r["kind"], r["effect"], r["delivery_id"]) for r in listed] == [
        ("hard", "counted", delivery_id)]


def test_what_nobody_understood_is_kept_and_shown(sent: tuple[Path, int, str]) -> None:
    cwd = sent[0]
    reply = corpus("human-reply.eml")
    read = run(cwd, "bounces", "read", stdin=reply)
    assert read.returncode == 0 and b"unknown (unmatched) -> kept" in read.stdout
    record = json.loads(run(cwd, "bounces", "list", "--kind", "unknown", "--json").stdout)[0]
    assert run(cwd, "bounces", "show", str(record["id"])).stdout == reply
    missing = run(cwd, "bounces", "show", "999")
    assert missing.returncode == 2 and b"no returned message" in missing.stderr


def test_hostile_mail_is_refused_or_ignored_with_a_line_each(
        sent: tuple[Path, int, str]) -> None:
    cwd = sent[0]
    huge = b"From: a@b.example\r\nSubject: big\r\n\r\n" + b"x" * (20 * 1024 * 1024)
    big = run(cwd, "bounces", "read", stdin=huge)
    assert big.returncode == 0 and b"unknown (oversize) -> refused" in big.stdout
    assert b'"bounces.refused"' in big.stderr and b'"oversize"' in big.stderr
    stranger = run(cwd, "bounces", "read",
                   stdin=postfix_dsn(None, "<x@y>", "nobody@elsewhere.example", subscriber=None))
    assert stranger.returncode == 0 and b"not_a_subscriber" in stranger.stdout
    assert b'"bounces.not_a_subscriber"' in stranger.stderr
    assert b"nobody@" not in stranger.stderr  # its domain only, never the address
    forged = corpus("unsubscribe-forged-tag.eml", **{"u-9-0-": "u-1-0-"})
    refused = run(cwd, "bounces", "read", stdin=forged)
    assert refused.returncode == 0 and b"refused_forged" in refused.stdout
    assert b'"bounces.unsubscribe_refused"' in refused.stderr
    subs = json.loads(run(cwd, "subscribers", "list", "--json").stdout)
    assert {s["status"] for s in subs} == {"active"}


@pytest.mark.parametrize(("flag", "code"), [((), 1), (("--sysexits",), 75)])
def test_a_message_that_cannot_be_recorded_is_left_to_the_mta(
        tmp_path: Path, flag: tuple[str, ...], code: int) -> None:
    down = run(tmp_path, "bounces", "read", *flag, stdin=corpus("human-reply.eml"),
               database__url="postgresql://nobody@127.0.0.1:9/none")
    assert down.returncode == code, down.stderr.decode()
    assert down.stderr.decode().startswith("syndicator: ") and b"Traceback" not in down.stderr


@pytest.mark.parametrize(("flag", "code"), [((), 2), (("--sysexits",), 78)])
def test_a_bad_configuration_is_a_configuration_error(
        tmp_path: Path, flag: tuple[str, ...], code: int) -> None:
    bad = run(tmp_path, "bounces", "read", *flag, stdin=corpus("human-reply.eml"),
              bounces__return_path="bounces+x@bounce.test")
    assert bad.returncode == code
    assert b"bounces.return_path" in bad.stderr and b"Traceback" not in bad.stderr


def test_check_says_where_returned_mail_must_go(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    out = run(tmp_path, "check").stdout.decode()
    assert "ok   return path: mail goes out with MAIL FROM <bounces+TAG@bounce.test>" in out
    assert "syndicator bounces read --sysexits" in out
