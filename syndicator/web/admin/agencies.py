"""/admin/agencies: the roster with search and filters, one agency's record, its changes,
import and export, and a preview of its next digest."""

from __future__ import annotations

import dataclasses
import functools
import io
from datetime import timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from syndicator.compose.composer import DigestComposer
from syndicator.console.agencies import Agencies
from syndicator.console.sessions import Current
from syndicator.errors import UsageError
from syndicator.models.subscriber import FREQUENCIES, STATUSES, NewSubscriber
from syndicator.planning import preview
from syndicator.state.roster import Filters
from syndicator.subscribers.operator import ImportRejected
from syndicator.subscribers.rules import InvalidField
from syndicator.web.admin.guard import Gate
from syndicator.web.admin.overview import csv_response
from syndicator.web.admin.paging import key_text
from syndicator.web.forms import SubscriberFields

DONE = ("added", "saved", "removed", "resent", "not_resent", "links_reset")
# The preview is a mail, shown in a frame of the console's own page.
PREVIEW_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                   "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                   "img-src https: data:; frame-ancestors 'self'; base-uri 'none'"}


class AgencyPages:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        s = gate.s
        self.agencies = Agencies(gate.engine, timedelta(
            minutes=s.subscriptions.mail_interval_minutes), s.console.page_size)

    async def roster(self, request: Request, current: Current, form: FormData | None) -> Response:
        q = request.query_params
        filters = Filters(text=q.get("q", "")[:200],
                          status=q.get("status", "") if q.get("status") in STATUSES else "",
                          frequency=q.get("frequency", "") if q.get("frequency") in FREQUENCIES
                          else "", category=q.get("category", "")[:200])
        found = await run_in_threadpool(functools.partial(
            self.agencies.search, filters, after=key_text(q.get("after")),
            before=key_text(q.get("before"))))
        categories = await run_in_threadpool(self.agencies.categories)
        return self.gate.view.page(request, "agencies.html.j2", current=current,
                                   nav="agencies", page=found, filters=filters,
                                   categories=categories)

    async def record(self, request: Request, current: Current, form: FormData | None,
                     *, status: int = 200, fields: SubscriberFields | None = None,
                     errors: dict[str, str] | None = None) -> Response:
        record = await run_in_threadpool(self.agencies.record, request.path_params["sid"])
        if record is None:
            return self.gate.problem(request, "not_found", 404, current)
        sub = record.subscriber
        done = request.query_params.get("done", "")
        return self.gate.view.page(
            request, "agency.html.j2", status=status, current=current, nav="agencies",
            record=record, categories=await run_in_threadpool(self.agencies.categories),
            fields=fields or SubscriberFields(email=sub.email, name=sub.name,
                                              frequency=sub.frequency,
                                              categories=list(sub.categories),
                                              text_size=sub.text_size),
            errors=errors or {}, done=done if done in DONE else "")

    async def change(self, request: Request, current: Current, form: FormData | None) -> Response:
        assert form is not None
        sid = request.path_params["sid"]
        action = str(form.get("action") or "")
        actor = current.actor
        if action == "save":
            fields = SubscriberFields.read(form)
            sub = await run_in_threadpool(self.agencies.subscriber, sid)
            if sub is None:
                return self.gate.problem(request, "not_found", 404, current)
            try:
                new = await run_in_threadpool(self._valid, fields, sub.email)
            except InvalidField as exc:
                return await self.record(request, current, form, status=400, fields=fields,
                                         errors={exc.field: f"{exc.field}_invalid"})
            await run_in_threadpool(self.agencies.edit, actor, sid, new)
            return _back(sid, "saved")
        if action == "remove":
            await run_in_threadpool(self.agencies.remove, actor, sid)
            return _back(sid, "removed")
        if action == "resend":
            sent = await run_in_threadpool(self.agencies.resend_confirmation, actor, sid)
            if sent:
                self.gate.wake_sender()
            return _back(sid, "resent" if sent else "not_resent")
        if action == "reset_links":
            await run_in_threadpool(self.agencies.reset_links, actor, sid)
            return _back(sid, "links_reset")
        return self.gate.problem(request, "bad_request", 400, current)

    async def new(self, request: Request, current: Current, form: FormData | None) -> Response:
        categories = await run_in_threadpool(self.agencies.categories)
        page = functools.partial(self.gate.view.page, request, "agency_new.html.j2",
                                 current=current, nav="agencies", categories=categories)
        if form is None:
            return page(fields=SubscriberFields(), errors={})
        fields = SubscriberFields.read(form)
        try:
            new = await run_in_threadpool(self._valid, fields, fields.email)
            sub = await run_in_threadpool(self.agencies.add, current.actor, new)
        except InvalidField as exc:
            return page(status=400, fields=fields, errors={exc.field: f"{exc.field}_invalid"})
        except UsageError:  # the address is subscribed or waiting for its confirmation
            return page(status=409, fields=fields, errors={"email": "already_subscribed"})
        return _back(sub.id, "added")

    def _valid(self, fields: SubscriberFields, email: str) -> NewSubscriber:
        return self.agencies.validate(email, fields.name, fields.frequency, fields.categories,
                                      fields.text_size)

    async def import_page(self, request: Request, current: Current,
                          form: FormData | None) -> Response:
        page = functools.partial(self.gate.view.page, request, "import.html.j2",
                                 current=current, nav="agencies")
        if form is None:
            return page(report=None, rejected=None, problem="")
        name, text = await _csv_text(form)
        if text is None:
            return page(status=400, report=None, rejected=None, problem="not_utf8")
        try:
            report = await run_in_threadpool(self.agencies.import_csv, current.actor, text, name)
        except ImportRejected as exc:
            return page(status=400, report=None, rejected=exc, problem="")
        return page(report=report, rejected=None, problem="")

    async def export(self, request: Request, current: Current, form: FormData | None) -> Response:
        everyone = request.query_params.get("all") == "1"
        out = io.StringIO()
        await run_in_threadpool(self.agencies.export_csv, current.actor, out, everyone)
        return csv_response(out.getvalue(), "co-quan-nhan-tin.csv")

    async def preview(self, request: Request, current: Current, form: FormData | None) -> Response:
        record = await run_in_threadpool(self.agencies.record, request.path_params["sid"])
        if record is None:
            return self.gate.problem(request, "not_found", 404, current)
        found = await run_in_threadpool(preview.next_for, self.gate.s, self.gate.engine,
                                        record.subscriber)
        return self.gate.view.page(request, "preview.html.j2", current=current, nav="agencies",
                                   sub=record.subscriber, preview=found)

    async def preview_mail(self, request: Request, current: Current,
                           form: FormData | None) -> Response:
        size = request.path_params["size"]
        record = await run_in_threadpool(self.agencies.record, request.path_params["sid"])
        found = None if record is None else await run_in_threadpool(
            preview.next_for, self.gate.s, self.gate.engine, record.subscriber)
        if found is None or size not in ("standard", "large"):
            return self.gate.problem(request, "not_found", 404, current)
        shown = dataclasses.replace(found, recipient=dataclasses.replace(found.recipient,
                                                                         text_size=size))
        html = await run_in_threadpool(preview.render, self._composer, shown, False)
        return HTMLResponse(html, headers=PREVIEW_HEADERS)

    @functools.cached_property
    def _composer(self) -> DigestComposer:
        return DigestComposer(self.gate.s)


def _back(sid: int, done: str) -> Response:
    """After a change, the agency's page (a reload does not post again)."""
    return RedirectResponse(f"/admin/agencies/{sid}?done={done}", status_code=303)


async def _csv_text(form: FormData) -> tuple[str, str | None]:
    """The uploaded file (or pasted text) as text; None when it is not UTF-8."""
    upload: Any = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read()
        try:
            return upload.filename[:191], data.decode("utf-8")
        except UnicodeDecodeError:
            return upload.filename[:191], None
    return "", str(form.get("text") or "")
