"""API keys: required on every route but the health checks in production.

Keys come from ``FEYNMAN_API_KEYS`` (a JSON list); comparison is constant-time.
In development no key is needed, so the local stack works out of the box.
"""

from __future__ import annotations

import hmac

from fastapi import Depends
from fastapi.security import APIKeyHeader

from foundation.errors import ConfigError
from foundation.settings import Settings
from producers.dependencies import SettingsDep
from producers.refusals import RequestRefusedError

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="Required in production mode.")


def check_key_configuration(settings: Settings) -> None:
    """Refuse to start a production API that nobody could call safely."""
    if settings.production and not settings.api_keys:
        raise ConfigError("FEYNMAN_ENV=production requires FEYNMAN_API_KEYS (a JSON list of keys)")


async def require_api_key(settings: SettingsDep, key: str | None = Depends(api_key_header)) -> None:
    if not settings.production:
        return
    if key is None:
        raise RequestRefusedError(401, "unauthorized", "missing X-API-Key header")
    if not valid_api_key(settings, key):
        raise RequestRefusedError(401, "unauthorized", "invalid API key")


def valid_api_key(settings: Settings, key: str) -> bool:
    """Whether ``key`` is one of the configured keys (every key compared, in constant time)."""
    given = key.encode()
    matches = [hmac.compare_digest(given, k.get_secret_value().encode()) for k in settings.api_keys]
    return any(matches)
