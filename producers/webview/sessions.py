"""Signed session cookies and CSRF tokens for the web view.

A browser cannot send ``X-API-Key`` when it navigates, so the login form
trades a valid API key for a cookie. The cookie is signed (itsdangerous,
HMAC-SHA256 with ``FEYNMAN_UI_SESSION_SECRET``) and timestamped, so it cannot
be forged or used past ``FEYNMAN_UI_SESSION_MAX_AGE_S``. It is signed, not
encrypted, so it holds no key: only a random session id and a fingerprint of
the key used to log in (an HMAC, so the key cannot be recovered from it);
removing that key from ``FEYNMAN_API_KEYS`` ends its sessions.

The CSRF token is an HMAC of the session id: stateless, so any API replica
sharing the secret checks it, and useless without the session it belongs to.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

SALT = "feynman-webview-session"


@dataclass(frozen=True, slots=True)
class Session:
    sid: str
    key_fingerprint: str


class SessionSigner:
    def __init__(self, secret: bytes, max_age_s: int) -> None:
        self._secret = secret
        self.max_age_s = max_age_s
        self._serializer = URLSafeTimedSerializer(
            secret, salt=SALT, signer_kwargs={"digest_method": hashlib.sha256}
        )

    def _mac(self, purpose: str, value: str) -> str:
        return hmac.new(self._secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    def key_fingerprint(self, api_key: str) -> str:
        return self._mac("key", api_key)

    def issue(self, api_key: str) -> str:
        """A new session's cookie value, for someone who just proved they hold ``api_key``."""
        session = {"sid": secrets.token_urlsafe(18), "key": self.key_fingerprint(api_key)}
        return self._serializer.dumps(session)

    def read(self, cookie: str | None) -> Session | None:
        """The session a cookie stands for, or None when it is absent, forged, altered or expired."""
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age_s)
        except BadSignature:  # SignatureExpired derives from it
            return None
        if not isinstance(data, dict) or not isinstance(data.get("sid"), str) or not data.get("key"):
            return None
        return Session(sid=data["sid"], key_fingerprint=str(data["key"]))

    def csrf_token(self, sid: str) -> str:
        return self._mac("csrf", sid)

    def csrf_ok(self, sid: str, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(self.csrf_token(sid), token)
