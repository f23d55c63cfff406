"""The page itself and its login page: static files shipped in the package, no CDN.

The page's script reads everything through ``/ui/api/...``; the HTML holds
no data, so serving it is only a matter of who may see it. The Content
Security Policy allows scripts, styles and requests from this origin only:
dead letters hold arbitrary text, and the page must never run any of it.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from producers.webview.auth import ApiKey, Auth

STATIC = Path(__file__).parent / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

router = APIRouter(tags=["web view"], include_in_schema=False)


def _html(name: str) -> HTMLResponse:
    return HTMLResponse((STATIC / name).read_text(encoding="utf-8"), headers=SECURITY_HEADERS)


@router.get("/ui")
async def ui_root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307)


@router.get("/ui/")
async def page(request: Request, api_key: ApiKey, auth: Auth) -> Response:
    """The status page; in production, a visitor without a session is sent to the login page."""
    if auth.viewer(request, api_key) is None:
        return RedirectResponse("/ui/login", status_code=303, headers={"Cache-Control": "no-store"})
    return _html("index.html")


@router.get("/ui/login")
async def login_page() -> HTMLResponse:
    return _html("login.html")
