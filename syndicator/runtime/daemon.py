"""`syndicator run`: one asyncio loop holding the scheduler, the delivery loop and HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import structlog
import uvicorn
import uvloop
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp

from syndicator.config.settings import Settings
from syndicator.delivery.dkim import make_signer
from syndicator.errors import ConfigError, SyndicatorError
from syndicator.runtime.jobs import DAEMON_LEASE_SECONDS, Jobs
from syndicator.runtime.schedule import build_scheduler
from syndicator.state import leases
from syndicator.state.db import state_engine, upgrade
from syndicator.telemetry import metrics
from syndicator.telemetry.health import Health
from syndicator.web.app import create_app, metrics_app

log = structlog.get_logger(__name__)

# Which jobs of other layers are wired in this build (see schedule.build_scheduler).
FEATURES: frozenset[str] = frozenset({"feeds", "delivery"})
# SIGTERM to exit must stay under 10 s (the contract; Docker's default kill delay).
# The sender gives an SMTP transaction in flight 7 s (delivery.pacing.STOP_GRACE), then
# records it as a retry; HTTP closes meanwhile, in parallel.
DRAIN_SECONDS = 8.0
HTTP_CLOSE_SECONDS = 2.0


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the daemon owns SIGTERM/SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def install_signal_handlers(self) -> None:  # uvicorn < 0.29
        pass


def run(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then stop gracefully; returns normally (exit 0)."""
    # uvloop: about twice the connections per second of asyncio's own loop (docs/benchmarks.md)
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        clean = loop.run_until_complete(Daemon(settings).main())
    except BaseException:
        loop.close()
        raise
    if not clean:
        # A job thread is stuck (a hung database call): threads cannot be cancelled and
        # would keep the process alive past the stop deadline; the database rolls back
        # its open transaction and leases let another run redo the work.
        log.warning("daemon.abandoned_work")
        _flush()
        os._exit(0)
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.run_until_complete(loop.shutdown_default_executor())
    loop.close()


class Daemon:
    """Starts the parts in order and stops them in reverse on a signal."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stop = asyncio.Event()
        self.health = Health()
        self._side: list[tuple[_Server, asyncio.Task[None]]] = []  # http.metrics_port

    async def main(self) -> bool:
        self._install_signal_handlers()  # a SIGTERM during the migration ends us after it
        make_signer(self.settings.mail)  # an unusable DKIM key stops us now, not every round
        http = self.settings.http
        sock = _bind(http.host, http.port)
        side_sock = _bind(http.host, http.metrics_port) if http.metrics_port else None
        engine = state_engine(self.settings)
        revision = await asyncio.to_thread(upgrade, engine)
        if self.stop.is_set():
            for s in (sock, side_sock):
                if s is not None:
                    s.close()
            return True
        try:
            await asyncio.to_thread(_only_daemon, engine)
        except SyndicatorError:
            sock.close()
            raise
        jobs = Jobs(self.settings, engine, self.health, FEATURES)
        server = self._http_server(engine, jobs.wake_delivery.set)
        server_task = asyncio.create_task(server.serve(sockets=[sock]), name="http")
        if side_sock is not None:
            self._serve_metrics(side_sock)
        scheduler = build_scheduler(self.settings, jobs, self.health, FEATURES)
        send_stop = asyncio.Event()
        delivery = (asyncio.create_task(jobs.delivery_loop(send_stop), name="delivery")
                    if "delivery" in FEATURES else None)
        scheduler.start()
        metrics.started()
        # What start-up made (modules, SQLAlchemy metadata, templates) lives as long as the
        # process: out of the collector's sight, a full collection no longer walks it and
        # stalls requests for tens of milliseconds (docs/benchmarks.md, p99).
        gc.freeze()
        log.info("daemon.started", revision=revision, pid=os.getpid(),
                 http=_describe(sock),
                 metrics=_describe(side_sock) if side_sock is not None else "on the http port",
                 poll_interval_seconds=self.settings.poll.interval_seconds,
                 features=sorted(FEATURES))
        failure = await self._wait_for_stop(server_task)
        clean = await self._shutdown(jobs, scheduler, send_stop, delivery, server, server_task,
                                     engine)
        if failure:  # exit non-zero so that a supervisor restarts us
            raise SyndicatorError(failure)
        return clean

    async def _wait_for_stop(self, server_task: asyncio.Task[None]) -> str | None:
        """Until a signal, or the HTTP server ending by itself (returns why)."""
        stopper = asyncio.create_task(self.stop.wait())
        await asyncio.wait({stopper, server_task}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if server_task.done() and not self.stop.is_set():
            error = None if server_task.cancelled() else server_task.exception()
            log.error("http.stopped_unexpectedly", error=repr(error))
            return f"the HTTP server stopped unexpectedly: {error!r}"
        return None

    async def _shutdown(self, jobs: Jobs, scheduler: AsyncIOScheduler, send_stop: asyncio.Event,
                        delivery: asyncio.Task[None] | None, server: _Server,
                        server_task: asyncio.Task[None], engine: Engine) -> bool:
        """Stop scheduling, let in-flight work finish (bounded), close HTTP."""
        log.info("daemon.stopping")
        self.health.stopping = True
        scheduler.pause()
        jobs.stopping.set()
        send_stop.set()  # the sender finishes messages in flight, claims no more
        server.should_exit = True  # a stopping replica takes no more requests
        for side, _ in self._side:
            side.should_exit = True
        waits = [jobs.drain(DRAIN_SECONDS)]
        if delivery is not None:
            waits.append(_finish(delivery, DRAIN_SECONDS))
        closing = [_finish(t, HTTP_CLOSE_SECONDS + 1) for t in (server_task,
                                                                 *(t for _, t in self._side))]
        results = await asyncio.gather(*waits, *closing)
        clean = all(results[:len(waits)])
        scheduler.shutdown(wait=False)
        if clean:
            await asyncio.to_thread(_release_daemon, engine)
            await asyncio.to_thread(engine.dispose)
        log.info("daemon.stopped", clean=clean)
        return clean

    def _serve_metrics(self, sock: socket.socket) -> None:
        """http.metrics_port: /metrics on a port of its own, stopped with the main server."""
        side = _Server(self._uvicorn_config(metrics_app(self.settings)))
        self._side.append((side, asyncio.create_task(side.serve(sockets=[sock]),
                                                     name="http-metrics")))

    def _http_server(self, engine: Engine, wake_sender: Callable[[], None]) -> _Server:
        app = create_app(self.settings, engine, self.health, wake_sender)
        return _Server(self._uvicorn_config(app))

    def _uvicorn_config(self, app: ASGIApp) -> uvicorn.Config:
        # uvicorn's own access log stays off: http.access_log writes ours, in our format.
        # X-Forwarded-For/-Proto are believed from subscriptions.trusted_proxies only: uvicorn
        # would otherwise trust 127.0.0.1 (or $FORWARDED_ALLOW_IPS) by default, and a client
        # next to us could name any address it likes (ADR 016).
        proxies = list(self.settings.subscriptions.trusted_proxies)
        return uvicorn.Config(app, log_config=None, access_log=False, lifespan="off",
                              server_header=False, proxy_headers=bool(proxies),
                              forwarded_allow_ips=proxies or [],
                              timeout_graceful_shutdown=int(HTTP_CLOSE_SECONDS))

    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)

    def _on_signal(self, sig: signal.Signals) -> None:
        if not self.stop.is_set():
            log.info("daemon.signal", signal=sig.name)
        self.stop.set()


async def _finish(task: asyncio.Task[None], timeout: float) -> bool:
    """Wait for a task; True when it ended by itself within the time."""
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if not done:
        task.cancel()
        return False
    return True


def _only_daemon(engine: Engine) -> None:
    """SQLite has no row locks to share work: a second daemon on the same file is refused
    (its jobs would only fail on busy leases). The heartbeat renews the claim."""
    if engine.dialect.name != "sqlite":
        return
    holder = leases.acquire(engine, leases.DAEMON, DAEMON_LEASE_SECONDS)
    if holder is not None:
        with engine.connect() as conn:
            until = datetime.fromtimestamp(leases.held_until(conn, leases.DAEMON), UTC)
        raise SyndicatorError(
            f"another syndicator daemon ({holder}) runs on this SQLite state database "
            f"(its claim runs until {until:%H:%M:%S}Z unless renewed); SQLite allows one "
            "(stop it first, or use PostgreSQL or MariaDB for replicas)")


def _release_daemon(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        leases.release(engine, leases.DAEMON)


def _bind(host: str, port: int) -> socket.socket:
    """Bind before anything else starts, so a busy port is one clear line at start."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted sockets only for that protocol,
    # and uvicorn writes headers and body separately, so with Nagle on every kept-alive
    # response's body waited ~40 ms for the client's delayed ACK (docs/benchmarks.md).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted ones
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"config error: http: cannot listen on {host}:{port}: "
                          f"{exc.strerror}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _describe(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
