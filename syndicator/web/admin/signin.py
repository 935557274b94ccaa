"""/admin/login and /admin/logout: a new session at each sign-in, the cookie cleared at sign-out."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from syndicator.console.sessions import Current, SignInRefused
from syndicator.web.admin.guard import Gate, now
from syndicator.web.forms import FormTokens

LOGIN_FORM = "admin-login"


class SignIn:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    async def login(self, request: Request) -> Response:
        gate = self.gate
        if not await run_in_threadpool(gate.enabled):
            return gate.problem(request, "disabled", 404)
        target = _safe_next(request.query_params.get("next", ""))
        if request.method == "GET":
            return self._form(request, target, "", "", 200)
        form = await request.form()
        target = _safe_next(str(form.get("next") or ""))
        email = str(form.get("email") or "")[:320]
        if self._forms().check(str(form.get("form_token") or ""), LOGIN_FORM) is None:
            return self._form(request, target, email, "form_expired", 400)
        try:
            current = await run_in_threadpool(
                gate.sessions.sign_in, email, str(form.get("password") or ""),
                gate.client(request), now(), request.cookies.get(gate.cookie))
        except SignInRefused as refused:
            status = 429 if refused.reason == "rate_limited" else 401
            return self._form(request, target, email, refused.reason, status)
        response = RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
        gate.set_cookie(response, current.cookie)
        return response

    async def logout(self, request: Request, current: Current, form: FormData | None) -> Response:
        await run_in_threadpool(self.gate.sessions.sign_out, current, now())
        response = self.gate.view.page(request, "signed_out.html.j2")
        self.gate.clear_cookie(response)
        return response

    def _form(self, request: Request, target: str, email: str, error: str,
              status: int) -> Response:
        return self.gate.view.page(request, "login.html.j2", status=status, email=email,
                                   error=error, next=target,
                                   form_token=self._forms().make(LOGIN_FORM))

    def _forms(self) -> FormTokens:
        return self.gate.forms


def _safe_next(target: str) -> str:
    """Only a path inside the console: never another site, never a public page."""
    if (target == "/admin" or target.startswith(("/admin/", "/admin?"))) \
            and ".." not in target and "\\" not in target and target.isprintable():
        return target
    return "/admin"
