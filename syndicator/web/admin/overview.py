"""The dashboard, the runs with their deliveries, the audit log and the accounts (read-only)."""

from __future__ import annotations

import functools
import io

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from syndicator.console import accounts, audit, dashboard, proofs
from syndicator.console.sessions import Current
from syndicator.models.subscriber import FREQUENCIES
from syndicator.telemetry.health import Health
from syndicator.web.admin.guard import Gate, now
from syndicator.web.admin.paging import key_int


class Overview:
    def __init__(self, gate: Gate, health: Health) -> None:
        self.gate = gate
        self.health = health

    async def home(self, request: Request, current: Current, form: FormData | None) -> Response:
        board = await run_in_threadpool(dashboard.build, self.gate.s, self.gate.engine, now(),
                                        self.health.problems())
        return self.gate.view.page(request, "dashboard.html.j2", current=current, nav="home",
                                   board=board)

    async def runs(self, request: Request, current: Current, form: FormData | None) -> Response:
        frequency = request.query_params.get("frequency", "")
        frequency = frequency if frequency in FREQUENCIES else ""
        runs, next_before = await run_in_threadpool(
            functools.partial(proofs.runs, self.gate.engine, self.gate.s.console.page_size,
                              frequency=frequency,
                              before=key_int(request.query_params.get("before"))))
        return self.gate.view.page(request, "runs.html.j2", current=current, nav="runs",
                                   runs=runs, next_before=next_before, frequency=frequency)

    async def run(self, request: Request, current: Current, form: FormData | None) -> Response:
        after = key_int(request.query_params.get("after"))
        record = await run_in_threadpool(proofs.run_record, self.gate.engine,
                                         request.path_params["run_id"],
                                         self.gate.s.console.page_size, after)
        if record is None:
            return self.gate.problem(request, "not_found", 404, current)
        return self.gate.view.page(request, "run.html.j2", current=current, nav="runs",
                                   record=record, after=after)

    async def run_csv(self, request: Request, current: Current,
                      form: FormData | None) -> Response:
        run_id = request.path_params["run_id"]
        run, rows = await run_in_threadpool(proofs.run_rows, self.gate.engine, run_id)
        if run is None:
            return self.gate.problem(request, "not_found", 404, current)
        out = io.StringIO()
        count = proofs.write_csv(out, rows, self.gate.s.tz, run)
        await self._exported(current, "run", run_id, "csv", count)
        return csv_response(out.getvalue(), f"bang-chung-gui-dot-{run_id}.csv")

    async def run_print(self, request: Request, current: Current,
                        form: FormData | None) -> Response:
        run_id = request.path_params["run_id"]
        run, rows = await run_in_threadpool(proofs.run_rows, self.gate.engine, run_id)
        if run is None:
            return self.gate.problem(request, "not_found", 404, current)
        await self._exported(current, "run", run_id, "print", len(rows))
        return self.gate.view.page(request, "proof_print.html.j2", current=current, run=run,
                                   bulletin=None, rows=rows, printed_at=now())

    async def audit(self, request: Request, current: Current, form: FormData | None) -> Response:
        before = key_int(request.query_params.get("before"))
        actor = request.query_params.get("actor", "")[:320]
        size = self.gate.s.console.page_size
        rows = await run_in_threadpool(audit.entries, self.gate.engine, size + 1, before,
                                       actor=actor or None)
        next_before = rows[size - 1].id if len(rows) > size else None
        return self.gate.view.page(request, "audit.html.j2", current=current, nav="audit",
                                   entries=rows[:size], next_before=next_before, actor=actor)

    async def accounts(self, request: Request, current: Current,
                       form: FormData | None) -> Response:
        found = await run_in_threadpool(accounts.list_users, self.gate.engine)
        return self.gate.view.page(request, "accounts.html.j2", current=current, nav="accounts",
                                   accounts=found)

    async def missing(self, request: Request, current: Current,
                      form: FormData | None) -> Response:
        return self.gate.problem(request, "not_found", 404, current)

    async def _exported(self, current: Current, kind: str, target: object, form: str,
                        rows: int) -> None:
        await run_in_threadpool(audit.record_alone, self.gate.engine, current.actor,
                                "proof.exported", target_kind=kind, target_id=target,
                                detail={"format": form, "rows": rows})


def csv_response(text: str, filename: str) -> Response:
    """UTF-8 with a byte order mark: Excel, which offices open CSV files with, then reads
    Vietnamese correctly."""
    return Response("\ufeff" + text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
