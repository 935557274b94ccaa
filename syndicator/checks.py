"""Local checks for `syndicator check`: output directories writable, HTTP port usable."""

from __future__ import annotations

import errno
import socket
import tempfile
from pathlib import Path

from syndicator.healthcheck import local_host, probe
from syndicator.settings import Settings

Result = tuple[str, bool, str]


def local_checks(settings: Settings) -> list[Result]:
    results = [_writable("feeds directory", settings.feeds.output_dir)]
    if settings.mail.transport == "file":
        results.append(_writable("mail outbox directory", settings.mail.outbox_dir))
    results.append(_http_port(settings.http.host, settings.http.port))
    return results


def _writable(what: str, directory: Path) -> Result:
    """Create the directory if needed and a file in it, then remove the file."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".check-"):
            pass
    except OSError as exc:
        return what, False, f"{directory}: {exc.strerror or exc}"
    return what, True, f"{directory.absolute()} is writable"


def _http_port(host: str, port: int) -> Result:
    """Free, or already served by a running syndicator (a check next to the daemon)."""
    what = f"http {host}:{port}"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            return what, True, "free to listen on"
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                return what, False, f"cannot listen: {exc.strerror}"
    ready, detail = probe(local_host(host), port, timeout=3)
    if detail.startswith(("HTTP 200", "HTTP 503")):  # our /healthz/ready answered
        return what, True, f"in use by a running syndicator ({'ready' if ready else detail})"
    return what, False, "in use by another program"
