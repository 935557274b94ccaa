"""HTTP requests written byte by byte, so a test can send what no well-behaved client sends."""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Answer:
    status: int  # 0: the server closed the connection without an answer
    head: str  # the status line and headers, as text
    body: bytes

    def header(self, name: str) -> str | None:
        for line in self.head.split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None


def request(port: int, raw: bytes, timeout: float = 15.0) -> Answer:
    """Send `raw` whole, read until the server closes; an answer cut short counts as none."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(raw)
        return read_answer(sock)


def read_answer(sock: socket.socket) -> Answer:
    data = b""
    with contextlib.suppress(OSError):
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    first = head.split(b"\r\n", 1)[0].split()
    status = int(first[1]) if len(first) >= 2 and first[1].isdigit() else 0
    return Answer(status, head.decode("latin-1"), body)


def build(method: str, target: bytes, headers: list[tuple[str, str]], body: bytes,
          chunked: bool = False) -> bytes:
    """One request; `Connection: close` so that reading until EOF ends it."""
    lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1",
             b"Connection: close"]
    lines += [f"{k}: {v}".encode("latin-1", "replace") for k, v in headers]
    if chunked:
        lines.append(b"Transfer-Encoding: chunked")
        payload = (b"%x\r\n" % len(body) + body + b"\r\n" if body else b"") + b"0\r\n\r\n"
    else:
        lines.append(b"Content-Length: %d" % len(body))
        payload = body
    return b"\r\n".join(lines) + b"\r\n\r\n" + payload


def stream(port: int, target: bytes, total: int, declared: bool,
           timeout: float = 30.0) -> tuple[Answer, int]:
    """POST up to `total` bytes (with a Content-Length saying so, or chunked) and stop as
    soon as the server stops taking them; (its answer, bytes it took before closing)."""
    head = [b"POST " + target + b" HTTP/1.1", b"Host: 127.0.0.1",
            b"Content-Type: application/x-www-form-urlencoded"]
    head.append(b"Content-Length: %d" % total if declared else b"Transfer-Encoding: chunked")
    piece = b"a" * 65536
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(b"\r\n".join(head) + b"\r\n\r\n")
        try:
            while sent < total:
                sock.sendall(piece if declared else b"%x\r\n" % len(piece) + piece + b"\r\n")
                sent += len(piece)
        except OSError:  # the server answered and closed: it will take no more
            pass
        return read_answer(sock), sent


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for pid {pid}")
