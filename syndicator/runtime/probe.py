"""The container's HEALTHCHECK probe: GET /healthz/ready on our own port (stdlib only)."""

from __future__ import annotations

import http.client
import json


def local_host(host: str) -> str:
    """Where to reach a server that listens on `host` from the same machine."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def probe(host: str, port: int, timeout: float) -> tuple[bool, str]:
    """(ready?, one line saying why)."""
    conn = http.client.HTTPConnection(local_host(host), port, timeout=timeout)
    try:
        conn.request("GET", "/healthz/ready", headers={"Accept": "application/json"})
        response = conn.getresponse()
        body = response.read(64 * 1024)
    except OSError as exc:
        return False, f"no answer from {local_host(host)}:{port}: {exc}"
    finally:
        conn.close()
    return response.status == 200, _summary(response.status, body)


def _summary(status: int, body: bytes) -> str:
    try:
        data = json.loads(body)
        reasons = "; ".join(data.get("reasons", [])) or data.get("status", "")
    except (ValueError, AttributeError):
        reasons = body[:200].decode("utf-8", "replace")
    return f"HTTP {status}: {reasons}"
