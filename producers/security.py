"""API keys and their roles: required on every route but the health checks in production.

Three roles, each including the ones below it, so a key handed to a dashboard
cannot publish and a producer's key cannot requeue dead letters:

- ``read``: the GET routes, the OpenAPI document and the web view;
- ``write``: also the routes that publish (``/events``, ``/chat``, ``/memorize``);
- ``admin``: also the actions that change state (requeue of dead letters).

``FEYNMAN_API_KEYS`` are admin keys (what every key was before roles existed);
``FEYNMAN_API_KEYS_WRITE`` and ``FEYNMAN_API_KEYS_READ`` give the lesser ones.
A missing or unknown key is a 401 ``unauthorized``, a known key of too low a role
a 403 ``forbidden``. Comparison is constant-time against every key. In development
no key is needed, so the local stack works out of the box; for that reason
development refuses to listen on anything but a loopback address.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable, Iterator
from enum import IntEnum

from fastapi import Depends
from fastapi.security import APIKeyHeader
from pydantic import SecretStr

from foundation.errors import ConfigError
from foundation.settings import Settings
from producers.dependencies import SettingsDep
from producers.refusals import RequestRefusedError

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="Required in production mode.")


class Role(IntEnum):
    """What a key may do; a higher role may do everything a lower one may."""

    READ = 1
    WRITE = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()


def keys_by_role(settings: Settings) -> Iterator[tuple[Role, SecretStr]]:
    """Every configured key with its role."""
    for role, keys in (
        (Role.ADMIN, settings.api_keys),
        (Role.WRITE, settings.api_keys_write),
        (Role.READ, settings.api_keys_read),
    ):
        for key in keys:
            yield role, key


def check_key_configuration(settings: Settings) -> None:
    """Refuse to start a production API that nobody could call safely."""
    if settings.production and not any(True for _ in keys_by_role(settings)):
        raise ConfigError(
            "FEYNMAN_ENV=production requires FEYNMAN_API_KEYS (a JSON list of admin keys), "
            "FEYNMAN_API_KEYS_WRITE or FEYNMAN_API_KEYS_READ"
        )


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (a name other than localhost is not)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind_address(settings: Settings) -> None:
    """Refuse to serve development mode, where no route needs a key, to other machines."""
    if not settings.production and not is_loopback(settings.api_host):
        raise ConfigError(
            f"FEYNMAN_ENV=development needs no API key, so the API listens only on a loopback address, "
            f"not FEYNMAN_API_HOST={settings.api_host}; set FEYNMAN_ENV=production (with API keys) to "
            "serve other machines"
        )


def role_of(settings: Settings, key: str) -> Role | None:
    """The role of ``key``, or None if it is not configured (every key compared, in constant time)."""
    given = key.encode()
    found: Role | None = None
    for role, configured in keys_by_role(settings):
        if hmac.compare_digest(given, configured.get_secret_value().encode()) and found is None:
            found = role
    return found


def valid_api_key(settings: Settings, key: str) -> bool:
    """Whether ``key`` is one of the configured keys, of any role."""
    return role_of(settings, key) is not None


def forbidden(role: Role, needed: Role) -> RequestRefusedError:
    return RequestRefusedError(
        403, "forbidden", f"this API key's role is {role.label}; this route needs {needed.label}"
    )


def require_role(needed: Role) -> Callable[..., Awaitable[None]]:
    """A dependency refusing a production request whose key's role is below ``needed``."""

    async def check(settings: SettingsDep, key: str | None = Depends(api_key_header)) -> None:
        if not settings.production:
            return
        if key is None:
            raise RequestRefusedError(401, "unauthorized", "missing X-API-Key header")
        role = role_of(settings, key)
        if role is None:
            raise RequestRefusedError(401, "unauthorized", "invalid API key")
        if role < needed:
            raise forbidden(role, needed)

    check.__name__ = f"require_{needed.label}"
    return check


require_read = require_role(Role.READ)
require_write = require_role(Role.WRITE)
