"""Who may see the web view, and the checks on its one action.

Development: everyone, like the rest of the API. Production: a request is
let in with a valid ``X-API-Key`` header (scripts, Prometheus) or a valid
session cookie from the login form (browsers). Conversation text is in task
errors and dead letters, so every data route needs this, not only the page.

Every viewer has a role (producers/security.py): any key may look, only an
admin key may requeue. A session has the role its key has now, so moving a key
to a lesser list takes effect on its open sessions at once. Failed logins are
limited per client address (``LoginThrottle``).

The requeue action also needs the CSRF token when the caller is a cookie (or,
in development, anyone, since no login stands in the way of a forged request
there): a header another site's page cannot set, on top of the cookie's
``SameSite=Strict``. A caller using ``X-API-Key`` needs none: browsers never
attach that header by themselves.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request, Response

from foundation.errors import ConfigError
from foundation.settings import Settings
from producers.refusals import RequestRefusedError
from producers.security import Role, api_key_header, forbidden, keys_by_role, role_of
from producers.webview.sessions import SessionSigner
from producers.webview.throttle import LoginThrottle

COOKIE = "feynman_view"
CSRF_HEADER = "X-CSRF-Token"
COOKIE_PATH = "/ui"
MIN_SECRET_CHARS = 32


def check_configuration(settings: Settings) -> None:
    """Refuse to start a production API whose view sessions anyone could forge."""
    secret = settings.ui_session_secret
    if settings.production and (secret is None or len(secret.get_secret_value()) < MIN_SECRET_CHARS):
        raise ConfigError(
            f"FEYNMAN_ENV=production requires FEYNMAN_UI_SESSION_SECRET (at least {MIN_SECRET_CHARS} "
            "random characters, the same on every API replica)"
        )


@dataclass(frozen=True, slots=True)
class Viewer:
    via: Literal["development", "api_key", "session"]
    # The session the CSRF token is bound to (a fixed one in development).
    sid: str
    role: Role


class ViewAuth:
    """The view's authentication for one app, built from its settings."""

    def __init__(self, settings: Settings) -> None:
        check_configuration(settings)
        self.settings = settings
        given = settings.ui_session_secret.get_secret_value() if settings.ui_session_secret else ""
        # Development without a secret: sessions are never needed, a random one per process will do.
        raw = given.encode() if given else secrets.token_bytes(32)
        self.signer = SessionSigner(raw, settings.ui_session_max_age_s)
        # Sessions name their key by fingerprint only; this finds its role (none once it is removed).
        self._session_roles = {
            self.signer.key_fingerprint(key.get_secret_value()): role for role, key in keys_by_role(settings)
        }
        self.login_throttle = LoginThrottle()

    @property
    def open(self) -> bool:
        return not self.settings.production

    def viewer(self, request: Request, api_key: str | None) -> Viewer | None:
        if self.open:
            return Viewer("development", "development", Role.ADMIN)
        if api_key is not None:
            role = role_of(self.settings, api_key)
            return Viewer("api_key", "", role) if role is not None else None
        session = self.signer.read(request.cookies.get(COOKIE))
        if session is None:
            return None
        # The key it was opened with must still be configured: removing a key ends its sessions.
        role = self._session_roles.get(session.key_fingerprint)
        return Viewer("session", session.sid, role) if role is not None else None

    def log_in(self, response: Response, api_key: str) -> bool:
        """Set a session cookie on ``response`` if ``api_key`` is valid; whether it was."""
        if role_of(self.settings, api_key) is None:
            return False
        secure = self.settings.ui_secure_cookie
        response.set_cookie(
            COOKIE,
            self.signer.issue(api_key),
            max_age=self.settings.ui_session_max_age_s,
            path=COOKIE_PATH,
            httponly=True,
            samesite="strict",
            secure=self.settings.production if secure is None else secure,
        )
        return True

    @staticmethod
    def log_out(response: Response) -> None:
        response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")

    def csrf_token(self, viewer: Viewer) -> str | None:
        return None if viewer.via == "api_key" else self.signer.csrf_token(viewer.sid)


def view_auth(request: Request) -> ViewAuth:
    auth: ViewAuth = request.app.state.view_auth
    return auth


Auth = Annotated[ViewAuth, Depends(view_auth)]
ApiKey = Annotated[str | None, Depends(api_key_header)]


async def require_viewer(request: Request, api_key: ApiKey, auth: Auth) -> Viewer:
    viewer = auth.viewer(request, api_key)
    if viewer is None:
        raise RequestRefusedError(
            401, "not_authenticated", "log in at /ui/login or send a valid X-API-Key header"
        )
    return viewer


CurrentViewer = Annotated[Viewer, Depends(require_viewer)]


async def require_admin_viewer(viewer: CurrentViewer) -> Viewer:
    """Only an admin may change state from the view; any key may look."""
    if viewer.role < Role.ADMIN:
        raise forbidden(viewer.role, Role.ADMIN)
    return viewer


async def require_csrf(request: Request, viewer: CurrentViewer, auth: Auth) -> Viewer:
    if viewer.via != "api_key" and not auth.signer.csrf_ok(viewer.sid, request.headers.get(CSRF_HEADER)):
        raise RequestRefusedError(403, "csrf", f"missing or wrong {CSRF_HEADER} header (reload the page)")
    return viewer
