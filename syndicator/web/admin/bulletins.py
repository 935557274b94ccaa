"""/admin/bulletins: what was ingested, which runs carried each bulletin, who got it and when."""

from __future__ import annotations

import functools
import io

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from syndicator.console import audit, proofs
from syndicator.console.sessions import Current
from syndicator.web.admin.guard import Gate, now
from syndicator.web.admin.overview import csv_response
from syndicator.web.admin.paging import key_int

STATES = ("public", "withdrawn")


class BulletinPages:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    async def listing(self, request: Request, current: Current,
                      form: FormData | None) -> Response:
        q = request.query_params
        text = q.get("q", "")[:200]
        state = q.get("state", "") if q.get("state") in STATES else ""
        rows, next_before = await run_in_threadpool(functools.partial(
            proofs.bulletins, self.gate.engine, self.gate.s.console.page_size,
            before=key_int(q.get("before")), text=text, state=state))
        return self.gate.view.page(request, "bulletins.html.j2", current=current,
                                   nav="bulletins", bulletins=rows, next_before=next_before,
                                   text=text, state=state)

    async def record(self, request: Request, current: Current, form: FormData | None) -> Response:
        bid = request.path_params["bid"]
        after = key_int(request.query_params.get("after"))
        record = await run_in_threadpool(proofs.bulletin_record, self.gate.engine, bid,
                                         self.gate.s.console.page_size, after)
        if record is None:
            return self.gate.problem(request, "not_found", 404, current)
        email = request.query_params.get("email", "").strip()[:320]
        question = await run_in_threadpool(proofs.ask, self.gate.engine, bid, email) \
            if email else None
        return self.gate.view.page(request, "bulletin.html.j2", current=current,
                                   nav="bulletins", record=record, email=email,
                                   question=question, after=after)

    async def proof_csv(self, request: Request, current: Current,
                        form: FormData | None) -> Response:
        bid = request.path_params["bid"]
        bulletin, rows = await run_in_threadpool(proofs.bulletin_rows, self.gate.engine, bid)
        if bulletin is None:
            return self.gate.problem(request, "not_found", 404, current)
        out = io.StringIO()
        count = proofs.write_csv(out, rows, self.gate.s.tz)
        await self._exported(current, bid, "csv", count)
        return csv_response(out.getvalue(), f"bang-chung-gui-ban-tin-{bid}.csv")

    async def proof_print(self, request: Request, current: Current,
                          form: FormData | None) -> Response:
        bid = request.path_params["bid"]
        bulletin, rows = await run_in_threadpool(proofs.bulletin_rows, self.gate.engine, bid)
        if bulletin is None:
            return self.gate.problem(request, "not_found", 404, current)
        email = request.query_params.get("email", "").strip()[:320].casefold()
        if email:  # the proof for one agency only
            rows = [r for r in rows if r["email"].casefold() == email]
        await self._exported(current, bid, "print", len(rows))
        return self.gate.view.page(request, "proof_print.html.j2", current=current, run=None,
                                   bulletin=bulletin, rows=rows, printed_at=now())

    async def _exported(self, current: Current, bid: int, form: str, rows: int) -> None:
        await run_in_threadpool(audit.record_alone, self.gate.engine, current.actor,
                                "proof.exported", target_kind="bulletin", target_id=bid,
                                detail={"format": form, "rows": rows})
