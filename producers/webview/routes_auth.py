"""The view's login: an API key in, a signed HttpOnly cookie out (see producers.webview.auth)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from producers.api_models import REQUEST_ERRORS, Problem
from producers.refusals import RequestRefusedError
from producers.webview.auth import Auth, CurrentViewer, ViewAuth
from producers.webview.view_models import LoginRequest, ViewSession

router = APIRouter(prefix="/ui/api", tags=["web view"], responses=REQUEST_ERRORS)


@router.post(
    "/login",
    status_code=204,
    response_class=Response,
    responses={
        401: {"model": Problem, "description": "Not a valid API key"},
        429: {
            "model": Problem,
            "description": "Too many failed logins from this address (`too_many_attempts`); "
            "`Retry-After` says when to try again",
            "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
        },
    },
)
async def login(body: LoginRequest, request: Request, auth: Auth) -> Response:
    """Exchange an API key of any role for a session cookie (HttpOnly, SameSite=Strict, signed).

    Failures are counted per client address: past the limit every attempt from it,
    even with a valid key, is refused until the window has passed, so the form cannot
    be used to guess keys.
    """
    response = Response(status_code=204)
    if auth.open:
        return response  # development: nothing to log in to
    client = request.client.host if request.client else "unknown"
    wait = auth.login_throttle.retry_after(client)
    if wait is not None:
        raise RequestRefusedError(
            429,
            "too_many_attempts",
            f"too many failed logins from this address; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    if not auth.log_in(response, body.api_key):
        auth.login_throttle.failed(client)
        raise RequestRefusedError(401, "invalid_api_key", "that is not a valid API key")
    return response


@router.post("/logout", status_code=204, response_class=Response)
async def logout() -> Response:
    """Forget the session cookie."""
    response = Response(status_code=204)
    ViewAuth.log_out(response)
    return response


@router.get(
    "/session",
    response_model=ViewSession,
    responses={401: {"model": Problem, "description": "Not logged in (production mode)"}},
)
async def session(viewer: CurrentViewer, auth: Auth) -> ViewSession:
    """Who the caller is, with which role, and the CSRF token for the requeue action."""
    return ViewSession(
        mode=auth.settings.env,
        via=viewer.via,
        role=viewer.role.label,
        csrf_token=auth.csrf_token(viewer),
    )
