"""Runs `syndicator run` as a user does: a subprocess in its own directory, on a free port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

START_TIMEOUT = 60.0  # a loaded 2-core CI machine; normally ~2 s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**overrides: str) -> dict[str, str]:
    """The parent's environment without SYNDICATOR_* leaking in, plus the given keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATOR_")}
    env.update({f"SYNDICATOR_{k.upper()}": v for k, v in overrides.items()})
    return env


def cli(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "syndicator", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


class Daemon:
    """A running daemon; stdout/stderr go to files the test can read afterwards."""

    def __init__(self, cwd: Path, env: dict[str, str], port: int) -> None:
        self.cwd, self.env, self.port = cwd, env, port
        self.base = f"http://127.0.0.1:{port}"
        self.out = cwd / "daemon.stdout"
        self.err = cwd / "daemon.stderr"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Daemon:
        with open(self.out, "ab") as out, open(self.err, "ab") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "syndicator", "run"],
                                         cwd=self.cwd, env=self.env, stdout=out, stderr=err)
        return self

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.get(self.base + path, timeout=10, **kw)

    def wait_for(self, what: str, check: Callable[[], bool],
                 timeout: float = START_TIMEOUT) -> None:
        """Poll `check` until true; fail with the daemon's logs if it died or time ran out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited ({self.proc.returncode}) before {what}:\n"
                                     + self.logs_text())
            try:
                if check():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}:\n"
                             + self.logs_text()[-4000:])

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        self.wait_for("/healthz/ready = 200",
                      lambda: self.get("/healthz/ready").status_code == 200, timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> tuple[int, float]:
        """Send a signal; (exit code, seconds to exit). Kills and fails past the timeout."""
        assert self.proc is not None
        start = time.monotonic()
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"daemon still running {timeout} s after {sig!r}:\n"
                                 + self.logs_text()[-4000:]) from None
        return code, time.monotonic() - start

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def logs_text(self) -> str:
        out = self.out.read_text(errors="replace") if self.out.exists() else ""
        err = self.err.read_text(errors="replace") if self.err.exists() else ""
        return f"--- stdout\n{out}\n--- stderr\n{err}"

    def log_events(self) -> list[dict[str, Any]]:
        """Every stdout line parsed as JSON (fails on a line that is not)."""
        lines = self.out.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
