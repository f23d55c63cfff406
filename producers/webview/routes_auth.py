"""The view's login: an API key in, a signed HttpOnly cookie out (see producers.webview.auth)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from producers.api_models import REQUEST_ERRORS, Problem
from producers.refusals import RequestRefusedError
from producers.webview.auth import Auth, CurrentViewer, ViewAuth
from producers.webview.view_models import LoginRequest, ViewSession

router = APIRouter(prefix="/ui/api", tags=["web view"], responses=REQUEST_ERRORS)


@router.post(
    "/login",
    status_code=204,
    response_class=Response,
    responses={401: {"model": Problem, "description": "Not a valid API key"}},
)
async def login(body: LoginRequest, auth: Auth) -> Response:
    """Exchange an API key for a session cookie (HttpOnly, SameSite=Strict, signed)."""
    response = Response(status_code=204)
    if auth.open:
        return response  # development: nothing to log in to
    if not auth.log_in(response, body.api_key):
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
    """Who the caller is, and the CSRF token for the requeue action."""
    return ViewSession(mode=auth.settings.env, via=viewer.via, csrf_token=auth.csrf_token(viewer))
