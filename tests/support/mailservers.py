"""Debian's Postfix and Dovecot, run by a test from a temporary directory on free ports.

Postfix (SMTP on 127.0.0.1) accepts mail for two virtual domains: `relay.test`, where no
mailbox exists, so every message to it is accepted (250) and then bounced by Postfix itself,
as a relay does; and `bounce.test`, whose `bounces` mailbox (with `+` extensions) Postfix
delivers to a Maildir that Dovecot serves over IMAPS and IMAP+STARTTLS, with a certificate of
a throwaway CA (trustme). `remote.test` is relayed to an SMTP server the test names (a sink
that answers what the test wants, or a closed port that makes Postfix retry).

Both run as root (Postfix's master and Dovecot's drop privileges themselves); the mail files
belong to `nobody`. Nothing outside the temporary directory is touched.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from tests.conftest import REQUIRE

MAIL_UID = MAIL_GID = 65534  # nobody / nogroup
BOUNCE_USER = "bounces@bounce.test"
_START_SECONDS = 20


@dataclass(frozen=True)
class MailServers:
    root: Path
    smtp_port: int
    imaps_port: int
    imap_port: int  # plain IMAP, for STARTTLS
    password: str
    ca_file: Path

    def imap_url(self, starttls: bool = False) -> str:
        scheme, port = ("imap", self.imap_port) if starttls else ("imaps", self.imaps_port)
        return f"{scheme}://{BOUNCE_USER}:{self.password}@127.0.0.1:{port}/INBOX"

    @property
    def maildir(self) -> Path:
        return self.root / "mail" / "bounce.test" / "bounces" / "Maildir"

    def postfix_log(self) -> str:
        path = self.root / "postfix.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_for_mail(self, count: int = 1, timeout: float = 30) -> list[Path]:
        """The files Postfix delivered into the bounce Maildir, once there are `count`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = sorted((self.maildir / "new").iterdir())
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{count} message(s) not delivered in {timeout} s; Postfix log:\n"
                             + self.postfix_log()[-3000:])


def missing() -> str | None:
    """Why the servers cannot run here, or None."""
    if os.geteuid() != 0:
        return "Postfix and Dovecot tests run as root (their masters drop privileges)"
    for tool in ("postfix", "dovecot"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            return f"{tool} is not installed (apt-get install postfix dovecot-imapd)"
    return None


def require() -> None:
    reason = missing()
    if reason is not None:
        if REQUIRE:
            pytest.fail(reason + "; SYNDICATOR_TEST_REQUIRE_SERVICES=1 makes it mandatory")
        pytest.skip(reason)


@contextmanager
def running(remote: int | None = None) -> Iterator[MailServers]:
    """Postfix and Dovecot, started and stopped around the block; `remote` is the port on
    127.0.0.1 that mail for remote.test is relayed to."""
    require()
    root = Path(tempfile.mkdtemp(prefix="syn-mail-"))
    root.chmod(0o755)  # Postfix's virtual(8) and Dovecot's imap run as nobody below it
    servers = MailServers(root, free_port(), free_port(), free_port(),
                          secrets.token_urlsafe(12), root / "ca.pem")
    try:
        _certificates(servers)
        _postfix_config(servers, remote)
        _dovecot_config(servers)
        etc = str(root / "postfix")
        with _process(["postfix", "-c", etc, "start-fg"], root / "postfix.out",
                      servers.smtp_port, stop=["postfix", "-c", etc, "stop"]), \
                _process(_dovecot_command(servers), root / "dovecot.out", servers.imaps_port):
            yield servers
    finally:
        shutil.rmtree(root, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _certificates(s: MailServers) -> None:
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(s.ca_file))
    ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(
        str(s.root / "server.pem"))
    (s.root / "server.pem").chmod(0o600)


def _postfix_config(s: MailServers, remote: int | None) -> None:
    etc, root = s.root / "postfix", s.root
    for d in (etc, root / "queue", root / "data"):
        d.mkdir()
    shutil.chown(root / "data", "postfix")
    s.maildir.parent.mkdir(parents=True)
    for sub in ("cur", "new", "tmp"):
        (s.maildir / sub).mkdir(parents=True)
    for d in [root / "mail", *(root / "mail").rglob("*")]:
        os.chown(d, MAIL_UID, MAIL_GID)
    (etc / "vmailbox").write_text(f"{BOUNCE_USER} bounce.test/bounces/Maildir/\n")
    (etc / "transport").write_text(f"remote.test smtp:[127.0.0.1]:{remote or 9}\n")
    (etc / "main.cf").write_text(_MAIN_CF.format(root=root, etc=etc))
    (etc / "master.cf").write_text(_MASTER_CF.format(port=s.smtp_port))


def _dovecot_config(s: MailServers) -> None:
    d = s.root / "dovecot"
    for sub in ("run", "state"):
        (d / sub).mkdir(parents=True)
    home = s.maildir.parent
    (d / "passwd").write_text(
        f"{BOUNCE_USER}:{{PLAIN}}{s.password}:{MAIL_UID}:{MAIL_GID}::{home}::\n")
    (d / "passwd").chmod(0o640)  # read by Dovecot's auth process, which runs as dovecot
    shutil.chown(d / "passwd", group="dovecot")
    (d / "dovecot.conf").write_text(_DOVECOT_CONF.format(
        dir=d, cert=s.root / "server.pem", imap=s.imap_port, imaps=s.imaps_port))


def _dovecot_command(s: MailServers) -> list[str]:
    return ["dovecot", "-F", "-c", str(s.root / "dovecot" / "dovecot.conf")]


@contextmanager
def _process(command: list[str], output: Path, port: int,
             stop: list[str] | None = None) -> Iterator[None]:
    with output.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_listening(port, proc, output)
        yield
    finally:
        if stop is not None:  # Postfix's master runs in a process group of its own
            subprocess.run(stop, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=30, check=False)
        _stop(proc)


def _wait_listening(port: int, proc: subprocess.Popen[bytes], output: Path) -> None:
    deadline = time.monotonic() + _START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited ({proc.returncode}): "
                               + output.read_text(errors="replace")[-2000:])
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{proc.args[0]} did not listen on {port} in {_START_SECONDS} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's own process group (its master and the children it forked)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


_MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = {root}/postfix.log
maillog_file_prefixes = {root}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = relay.test
mydomain = relay.test
myorigin = relay.test
mydestination =
mynetworks = 127.0.0.0/8
relayhost =
smtputf8_enable = no
biff = no
alias_maps =
alias_database =
recipient_delimiter = +
# Accept mail for mailboxes that do not exist, then bounce it: what a relay does.
smtpd_reject_unlisted_recipient = no
virtual_mailbox_domains = bounce.test relay.test
virtual_mailbox_base = {root}/mail
virtual_mailbox_maps = texthash:{etc}/vmailbox
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
transport_maps = texthash:{etc}/transport
relay_domains = remote.test
smtp_dns_support_level = disabled
# Retry and warn within seconds, so that delayed-mail notices happen during a test.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
delay_warning_time = 1s
"""

_MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup     unix  n - n 60 1 pickup
cleanup    unix  n - n - 0 cleanup
qmgr       unix  n - n 300 1 qmgr
rewrite    unix  - - n - - trivial-rewrite
bounce     unix  - - n - 0 bounce
defer      unix  - - n - 0 bounce
trace      unix  - - n - 0 bounce
verify     unix  - - n - 1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n - - proxymap
proxywrite unix  - - n - 1 proxymap
smtp       unix  - - n - - smtp
relay      unix  - - n - - smtp
showq      unix  n - n - - showq
error      unix  - - n - - error
retry      unix  - - n - - error
discard    unix  - - n - - discard
local      unix  - n n - - local
virtual    unix  - n n - - virtual
anvil      unix  - - n - 1 anvil
scache     unix  - - n - 1 scache
postlog    unix-dgram n - n - 1 postlogd
"""

_DOVECOT_CONF = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{cert}
ssl_key = <{cert}
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {dir}/passwd
}}
userdb {{
  driver = passwd-file
  args = {dir}/passwd
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
"""
